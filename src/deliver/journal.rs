//! The send journal: an append-only record of every member's outcome, one JSON object per line,
//! one file per issue and list.
//!
//! ```text
//! {"type":"header","version":1,"round":1,"issue":"2023-09-cluster-news","list":"lists/members.csv","fingerprint":"5f0c…","started":"2026-11-26T13:00:00Z"}
//! {"type":"attempt","round":1,"time":"…","key":"438c4c7afe600cdf","email":"ann@example.org","line":2}
//! {"type":"accepted","round":1,"time":"…","key":"438c4c7afe600cdf","reply":"250 2.0.0 Ok: queued as 4F3A"}
//! {"type":"refused","round":1,"time":"…","key":"…","code":550,"enhanced":"5.1.1","text":"User unknown","permanent":true}
//! {"type":"deferred","round":1,"time":"…","key":"…","text":"421 4.7.0 Try again later"}
//! ```
//!
//! - Every run of a send appends a header line, then records. An `attempt` is written (and
//!   synced) before a message's final `.` is sent; its outcome after the server's reply.
//!   [`Journal::append`] only buffers; [`Journal::sync`] flushes and `fdatasync`s, so a caller
//!   can commit a batch of records with one disk sync.
//! - **Rounds**: a resumed send continues the latest round; [`Round::New`] starts the next one,
//!   in which everyone is due again. Records carry their round and the state considers only the
//!   latest.
//! - **Crashes**: a last line cut off by a crash is ignored (and cut from the file when it is
//!   next opened for writing); every complete line before it counts. A member with an `attempt`
//!   but no outcome is [`Status::Uncertain`]: the message may or may not have been accepted
//!   (a crash mid-transaction, or a send whose final `.` was never answered).
//! - **One writer**: [`Journal::open`] takes an exclusive lock on `JOURNAL.lock` beside the
//!   journal; a second send of the same issue and list fails while the first runs. The
//!   operating system drops the lock when the process ends, however it ends.
//! - **Memory**: the state keeps one 8-byte key and one byte per member (about 19 MB for a
//!   million), plus the addresses of the uncertain ones.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostic::SourceError;
use crate::list::address::AddressKey;
use crate::list::keymap::KeyMap;
use crate::list::shard::Shard;

/// The format version written in headers.
pub const VERSION: u32 = 1;

/// What a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalId {
    /// The issue's id (its folder name).
    pub issue: String,
    /// The list as the user named it (e.g. `lists/members.csv`).
    pub list: String,
    /// [`list_fingerprint`] of the list's contents when the run started.
    pub fingerprint: String,
}

/// Continue the latest round, or start a new one in which everyone is due again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Resume,
    New,
}

/// One event of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The message to this member is about to be completed (written before the final `.`).
    Attempt {
        key: AddressKey,
        email: String,
        line: u64,
    },
    /// The server accepted it, with this reply.
    Accepted { key: AddressKey, reply: String },
    /// The server refused it.
    Refused {
        key: AddressKey,
        code: Option<u16>,
        enhanced: Option<String>,
        text: String,
        permanent: bool,
    },
    /// Transient failures used up the retries: try again in a later run.
    Deferred { key: AddressKey, text: String },
}

impl Record {
    /// An attempt for `email` (the key is computed from it).
    pub fn attempt(email: &str, line: u64) -> Record {
        Record::Attempt {
            key: AddressKey::of(email),
            email: email.to_string(),
            line,
        }
    }

    pub fn key(&self) -> AddressKey {
        match self {
            Record::Attempt { key, .. }
            | Record::Accepted { key, .. }
            | Record::Refused { key, .. }
            | Record::Deferred { key, .. } => *key,
        }
    }
}

/// A member's standing in the latest round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The server took the message: never send it again in this round.
    Accepted,
    /// The server refused it; a permanent refusal is not retried.
    Refused { permanent: bool },
    /// Transient failures: due again.
    Deferred,
    /// An attempt without an outcome: the run was cut off mid-transaction, or the server never
    /// answered the final `.`.
    Uncertain,
}

impl Status {
    fn code(self) -> u8 {
        match self {
            Status::Accepted => 1,
            Status::Refused { permanent: true } => 2,
            Status::Refused { permanent: false } => 3,
            Status::Deferred => 4,
            Status::Uncertain => 5,
        }
    }

    fn from_code(code: u8) -> Option<Status> {
        Some(match code {
            1 => Status::Accepted,
            2 => Status::Refused { permanent: true },
            3 => Status::Refused { permanent: false },
            4 => Status::Deferred,
            5 => Status::Uncertain,
            _ => return None,
        })
    }
}

/// How many members stand where, in the latest round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub accepted: u64,
    pub refused_permanent: u64,
    pub refused_temporary: u64,
    pub deferred: u64,
    pub uncertain: u64,
}

impl Counts {
    /// Members with any record.
    pub fn total(&self) -> u64 {
        self.accepted
            + self.refused_permanent
            + self.refused_temporary
            + self.deferred
            + self.uncertain
    }
}

/// A member whose transaction was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncertain {
    pub email: String,
    pub line: u64,
}

/// A member refused or deferred in the latest round, with the server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The address as attempted (empty when the journal holds no attempt for it).
    pub email: String,
    pub line: u64,
    /// [`Status::Refused`] or [`Status::Deferred`].
    pub status: Status,
    pub code: Option<u16>,
    pub enhanced: Option<String>,
    pub text: String,
}

/// What a journal says, for its latest round.
#[derive(Debug, Clone, Default)]
pub struct JournalState {
    round: u32,
    id: Option<JournalId>,
    /// Start times of the runs of the latest round.
    runs: Vec<String>,
    last_time: Option<String>,
    statuses: KeyMap<u8>,
    pending: HashMap<AddressKey, Uncertain>,
    /// The latest attempt of each member with a failure, while it stands.
    failures: HashMap<AddressKey, Failure>,
    /// Fingerprints seen in the latest round's headers, oldest first, without repeats.
    fingerprints: Vec<String>,
}

impl JournalState {
    /// Read a journal without locking it (e.g. for a status report while a send runs).
    /// A missing file is an empty state.
    pub fn read(path: &Path) -> Result<JournalState, JournalError> {
        match File::open(path) {
            Ok(f) => Ok(scan(path, f)?.0),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(JournalState::default()),
            Err(e) => Err(JournalError::io(path, e)),
        }
    }

    /// The member's status in the latest round, if they have any record.
    pub fn status(&self, key: AddressKey) -> Option<Status> {
        self.statuses.get(key).and_then(Status::from_code)
    }

    pub fn status_of(&self, email: &str) -> Option<Status> {
        self.status(AddressKey::of(email))
    }

    /// The latest round (0 for an empty journal).
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Issue, list and fingerprint of the latest header.
    pub fn id(&self) -> Option<&JournalId> {
        self.id.as_ref()
    }

    /// Start times of the runs in the latest round, oldest first.
    pub fn runs(&self) -> &[String] {
        &self.runs
    }

    /// Time of the last record.
    pub fn last_time(&self) -> Option<&str> {
        self.last_time.as_deref()
    }

    /// The list fingerprints the runs of the latest round saw, oldest first; more than one
    /// means the list changed between runs.
    pub fn fingerprints(&self) -> &[String] {
        &self.fingerprints
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (_, code) in self.statuses.iter() {
            match Status::from_code(code) {
                Some(Status::Accepted) => c.accepted += 1,
                Some(Status::Refused { permanent: true }) => c.refused_permanent += 1,
                Some(Status::Refused { permanent: false }) => c.refused_temporary += 1,
                Some(Status::Deferred) => c.deferred += 1,
                Some(Status::Uncertain) => c.uncertain += 1,
                None => {}
            }
        }
        c
    }

    /// The members refused or deferred (and not accepted since), in list order.
    pub fn failures(&self) -> Vec<Failure> {
        let mut v: Vec<Failure> = self.failures.values().cloned().collect();
        v.sort_by(|a, b| (a.line, &a.email).cmp(&(b.line, &b.email)));
        v
    }

    /// The members whose transaction was cut off, in list order.
    pub fn uncertain(&self) -> Vec<Uncertain> {
        let mut v: Vec<Uncertain> = self.pending.values().cloned().collect();
        v.sort_by(|a, b| (a.line, &a.email).cmp(&(b.line, &b.email)));
        v
    }

    fn start_round(&mut self, round: u32) {
        let id = self.id.take();
        *self = JournalState {
            round,
            id,
            ..JournalState::default()
        };
    }

    fn apply(&mut self, record: Record) {
        let key = record.key();
        let current = self.status(key);
        if current == Some(Status::Accepted) {
            // an accepted member stays accepted for the rest of the round
            return;
        }
        let attempted = |state: &mut JournalState| {
            state
                .pending
                .remove(&key)
                .or_else(|| {
                    state.failures.get(&key).map(|f| Uncertain {
                        email: f.email.clone(),
                        line: f.line,
                    })
                })
                .unwrap_or(Uncertain {
                    email: String::new(),
                    line: 0,
                })
        };
        let status = match record {
            Record::Attempt { email, line, .. } => {
                self.failures.remove(&key);
                self.pending.insert(key, Uncertain { email, line });
                Status::Uncertain
            }
            Record::Accepted { .. } => {
                self.pending.remove(&key);
                self.failures.remove(&key);
                Status::Accepted
            }
            Record::Refused {
                code,
                enhanced,
                text,
                permanent,
                ..
            } => {
                let status = Status::Refused { permanent };
                let at = attempted(self);
                self.fail(key, at, status, code, enhanced, text);
                status
            }
            Record::Deferred { text, .. } => {
                let at = attempted(self);
                self.fail(key, at, Status::Deferred, None, None, text);
                Status::Deferred
            }
        };
        self.statuses.set(key, status.code());
    }

    fn fail(
        &mut self,
        key: AddressKey,
        at: Uncertain,
        status: Status,
        code: Option<u16>,
        enhanced: Option<String>,
        text: String,
    ) {
        self.failures.insert(
            key,
            Failure {
                email: at.email,
                line: at.line,
                status,
                code,
                enhanced,
                text,
            },
        );
    }
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "another send of this issue to this list is running (it holds the lock {})",
        lock.display()
    )]
    Locked { lock: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Corrupt(SourceError),
    #[error(
        "{}: this journal belongs to issue {:?} (list {:?}), not to issue {:?}",
        path.display(), found.0, found.1, wanted.0
    )]
    Mismatch {
        path: PathBuf,
        found: (String, String),
        wanted: (String, String),
    },
}

impl JournalError {
    fn io(path: &Path, source: io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The open journal of a running send. Dropping it flushes what is buffered (without a disk
/// sync) and releases the lock.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    round: u32,
    out: BufWriter<File>,
    /// Lines written since the last sync: a sync with nothing new costs no disk flush.
    unsynced: bool,
    _lock: File,
}

impl Journal {
    /// Lock the journal at `path` (creating it and its folder), read it, and append the header
    /// of this run. Returns the journal and the state of the round this run writes to: for
    /// [`Round::New`] that is an empty state.
    pub fn open(
        path: &Path,
        id: &JournalId,
        round: Round,
    ) -> Result<(Journal, JournalState), JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| JournalError::io(dir, e))?;
        }
        let lock_path = lock_path(path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| JournalError::io(&lock_path, e))?;
        if fs2::FileExt::try_lock_exclusive(&lock).is_err() {
            return Err(JournalError::Locked { lock: lock_path });
        }

        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| JournalError::io(path, e))?;
        let (mut state, good_len, needs_newline) = scan(path, &mut file).map_err(|e| match e {
            JournalError::Io { source, .. } => JournalError::io(path, source),
            other => other,
        })?;
        // The list may be named differently from run to run (another working folder): the
        // journal's path already ties it to the list's file, so only the issue must match.
        if let Some(found) = &state.id
            && found.issue != id.issue
        {
            return Err(JournalError::Mismatch {
                path: path.to_path_buf(),
                found: (found.issue.clone(), found.list.clone()),
                wanted: (id.issue.clone(), id.list.clone()),
            });
        }
        // cut off a torn last line so the next record starts on a line of its own
        let len = file
            .metadata()
            .map_err(|e| JournalError::io(path, e))?
            .len();
        if len > good_len {
            file.set_len(good_len)
                .map_err(|e| JournalError::io(path, e))?;
        }
        let this_round = match round {
            Round::Resume => state.round.max(1),
            Round::New => state.round + 1,
        };
        if this_round != state.round {
            state.start_round(this_round);
        }
        let started = now();
        state.id = Some(id.clone());
        state.runs.push(started.clone());
        if state.fingerprints.last() != Some(&id.fingerprint) {
            state.fingerprints.push(id.fingerprint.clone());
        }

        let mut journal = Journal {
            path: path.to_path_buf(),
            round: this_round,
            out: BufWriter::with_capacity(64 * 1024, file),
            unsynced: false,
            _lock: lock,
        };
        let header = Line::Header {
            version: VERSION,
            round: this_round,
            issue: id.issue.clone(),
            list: id.list.clone(),
            fingerprint: id.fingerprint.clone(),
            started,
        };
        let io = |e| JournalError::io(path, e);
        if needs_newline {
            journal.out.write_all(b"\n").map_err(io)?;
        }
        journal.write_line(&header).map_err(io)?;
        journal.sync().map_err(io)?;
        Ok((journal, state))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The round this run writes.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Add a record, stamped with the time and round. Buffered: call [`sync`](Self::sync) to
    /// make it durable.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let round = self.round;
        let time = now();
        let key = record.key().to_string();
        let line = match record {
            Record::Attempt { email, line, .. } => Line::Attempt {
                round,
                time,
                key,
                email: email.clone(),
                line: *line,
            },
            Record::Accepted { reply, .. } => Line::Accepted {
                round,
                time,
                key,
                reply: reply.clone(),
            },
            Record::Refused {
                code,
                enhanced,
                text,
                permanent,
                ..
            } => Line::Refused {
                round,
                time,
                key,
                code: *code,
                enhanced: enhanced.clone(),
                text: text.clone(),
                permanent: *permanent,
            },
            Record::Deferred { text, .. } => Line::Deferred {
                round,
                time,
                key,
                text: text.clone(),
            },
        };
        self.write_line(&line)
    }

    fn write_line(&mut self, line: &Line) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.unsynced = true;
        self.out.write_all(&bytes)
    }

    /// Write out everything appended and wait until it is on disk (`fdatasync`). Does nothing
    /// when nothing was appended since the last sync.
    pub fn sync(&mut self) -> io::Result<()> {
        if !self.unsynced {
            return Ok(());
        }
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        self.unsynced = false;
        Ok(())
    }
}

/// The lock file of the journal at `path`: `PATH.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Where the journal of sending `issue_id` to `list` lives:
/// `STATE/journals/ISSUE--LISTNAME-HASH[-shardKofN].jsonl`, where HASH (of the list's canonical
/// path) tells apart lists of the same file name in different folders.
pub fn path_for(state_dir: &Path, issue_id: &str, list: &Path, shard: Option<Shard>) -> PathBuf {
    // The same file named from another folder (`../lists/members.csv`) or through a link must
    // find the same journal, or a resume would mail everyone again.
    let absolute = std::fs::canonicalize(list)
        .or_else(|_| std::path::absolute(list))
        .unwrap_or_else(|_| list.to_path_buf());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    let stem = list
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "list".into());
    let mut name = format!(
        "{}--{}-{}",
        file_safe(issue_id),
        file_safe(&stem),
        hex::encode(&digest[..4])
    );
    if let Some(s) = shard {
        name.push_str(&format!("-shard{}of{}", s.k, s.n));
    }
    name.push_str(".jsonl");
    state_dir.join("journals").join(name)
}

/// Every journal of `issue_id` in the state folder (all lists and shards), sorted.
pub fn journals_of(state_dir: &Path, issue_id: &str) -> io::Result<Vec<PathBuf>> {
    let dir = state_dir.join("journals");
    let prefix = format!("{}--", file_safe(issue_id));
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name
            && name.starts_with(&prefix)
            && name.ends_with(".jsonl")
        {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// A fingerprint of a list's contents: the first 16 hex digits of the SHA-256 of its bytes,
/// read in chunks.
pub fn list_fingerprint(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(&hasher.finalize()[..8]))
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn now() -> String {
    crate::list::now_rfc3339()
}

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Header {
        version: u32,
        round: u32,
        issue: String,
        list: String,
        fingerprint: String,
        started: String,
    },
    Attempt {
        round: u32,
        time: String,
        key: String,
        email: String,
        line: u64,
    },
    Accepted {
        round: u32,
        time: String,
        key: String,
        reply: String,
    },
    Refused {
        round: u32,
        time: String,
        key: String,
        code: Option<u16>,
        enhanced: Option<String>,
        text: String,
        permanent: bool,
    },
    Deferred {
        round: u32,
        time: String,
        key: String,
        text: String,
    },
}

/// Read a journal. Returns the state, the length of the file up to the end of its last
/// complete line, and whether that last line lacks its line break.
fn scan(path: &Path, file: impl Read) -> Result<(JournalState, u64, bool), JournalError> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut state = JournalState::default();
    let mut buf = Vec::new();
    let mut offset: u64 = 0;
    let mut good_len: u64 = 0;
    let mut needs_newline = false;
    let mut line_no: usize = 0;
    // a line that did not parse; an error unless it turns out to be the last
    let mut bad: Option<(usize, String, String)> = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| JournalError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        offset += n as u64;
        if let Some((line, text, message)) = bad.take() {
            return Err(corrupt(path, line, &text, message));
        }
        let complete = buf.ends_with(b"\n");
        let text = String::from_utf8_lossy(&buf);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            if complete {
                good_len = offset;
            }
            continue;
        }
        match parse_line(trimmed) {
            Ok(parsed) => {
                good_len = offset;
                needs_newline = !complete;
                apply_line(&mut state, parsed);
            }
            Err(message) => bad = Some((line_no, trimmed.to_string(), message)),
        }
    }
    // a last line that does not parse was cut off by a crash: ignored
    Ok((state, good_len, needs_newline))
}

fn corrupt(path: &Path, line: usize, text: &str, message: String) -> JournalError {
    let mut e = SourceError {
        path: path.to_path_buf(),
        line: Some(line),
        column: None,
        message: format!("the journal is damaged: {message}"),
        snippet: Some(text.chars().take(200).collect()),
        hint: None,
    };
    e.hint = Some(
        "only a cut-off last line is repaired by itself; move the journal aside to start over \
         (members it recorded as sent would be mailed again)"
            .into(),
    );
    JournalError::Corrupt(e)
}

/// A parsed line: a header or a record with its round and time.
enum Parsed {
    Header(JournalId, u32, String),
    Record(u32, String, Record),
}

fn parse_line(text: &str) -> Result<Parsed, String> {
    let line: Line = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let key = |k: &str| AddressKey::parse(k).ok_or_else(|| format!("invalid key {k:?}"));
    Ok(match line {
        Line::Header {
            round,
            issue,
            list,
            fingerprint,
            started,
            ..
        } => Parsed::Header(
            JournalId {
                issue,
                list,
                fingerprint,
            },
            round,
            started,
        ),
        Line::Attempt {
            round,
            time,
            key: k,
            email,
            line,
        } => Parsed::Record(
            round,
            time,
            Record::Attempt {
                key: key(&k)?,
                email,
                line,
            },
        ),
        Line::Accepted {
            round,
            time,
            key: k,
            reply,
        } => Parsed::Record(
            round,
            time,
            Record::Accepted {
                key: key(&k)?,
                reply,
            },
        ),
        Line::Refused {
            round,
            time,
            key: k,
            code,
            enhanced,
            text,
            permanent,
        } => Parsed::Record(
            round,
            time,
            Record::Refused {
                key: key(&k)?,
                code,
                enhanced,
                text,
                permanent,
            },
        ),
        Line::Deferred {
            round,
            time,
            key: k,
            text,
        } => Parsed::Record(
            round,
            time,
            Record::Deferred {
                key: key(&k)?,
                text,
            },
        ),
    })
}

fn apply_line(state: &mut JournalState, parsed: Parsed) {
    match parsed {
        Parsed::Header(id, round, started) => {
            if round > state.round {
                state.start_round(round);
            }
            if round == state.round {
                if state.fingerprints.last() != Some(&id.fingerprint) {
                    state.fingerprints.push(id.fingerprint.clone());
                }
                state.runs.push(started);
            }
            state.id = Some(id);
        }
        Parsed::Record(round, time, record) => {
            if round > state.round {
                state.start_round(round);
            }
            if round == state.round {
                state.apply(record);
            }
            state.last_time = Some(time);
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Accepted => "accepted",
            Status::Refused { permanent: true } => "refused",
            Status::Refused { permanent: false } => "refused (temporary)",
            Status::Deferred => "deferred",
            Status::Uncertain => "uncertain",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> JournalId {
        JournalId {
            issue: "2023-09".into(),
            list: "lists/members.csv".into(),
            fingerprint: "aaaa".into(),
        }
    }

    fn accepted(email: &str) -> Record {
        Record::Accepted {
            key: AddressKey::of(email),
            reply: "250 2.0.0 Ok".into(),
        }
    }

    #[test]
    fn records_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/journals/j.jsonl");
        {
            let (mut j, state) = Journal::open(&path, &id(), Round::Resume).unwrap();
            assert_eq!(j.round(), 1);
            assert_eq!(state.counts().total(), 0);
            j.append(&Record::attempt("ann@example.org", 2)).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.append(&Record::attempt("bob@example.org", 3)).unwrap();
            j.append(&Record::Refused {
                key: AddressKey::of("bob@example.org"),
                code: Some(550),
                enhanced: Some("5.1.1".into()),
                text: "User unknown".into(),
                permanent: true,
            })
            .unwrap();
            j.append(&Record::attempt("cy@example.org", 4)).unwrap();
            j.append(&Record::Deferred {
                key: AddressKey::of("cy@example.org"),
                text: "421 try later".into(),
            })
            .unwrap();
            j.append(&Record::attempt("Di@Example.org", 5)).unwrap();
            j.sync().unwrap();
        }
        let (_j, state) = Journal::open(&path, &id(), Round::Resume).unwrap();
        assert_eq!(state.round(), 1);
        assert_eq!(state.status_of("ANN@example.org"), Some(Status::Accepted));
        assert_eq!(
            state.status_of("bob@example.org"),
            Some(Status::Refused { permanent: true })
        );
        assert_eq!(state.status_of("cy@example.org"), Some(Status::Deferred));
        assert_eq!(state.status_of("di@example.org"), Some(Status::Uncertain));
        assert_eq!(state.status_of("eve@example.org"), None);
        assert_eq!(
            state.counts(),
            Counts {
                accepted: 1,
                refused_permanent: 1,
                refused_temporary: 0,
                deferred: 1,
                uncertain: 1
            }
        );
        assert_eq!(
            state.uncertain(),
            [Uncertain {
                email: "Di@Example.org".into(),
                line: 5
            }]
        );
        assert_eq!(
            state.failures(),
            [
                Failure {
                    email: "bob@example.org".into(),
                    line: 3,
                    status: Status::Refused { permanent: true },
                    code: Some(550),
                    enhanced: Some("5.1.1".into()),
                    text: "User unknown".into(),
                },
                Failure {
                    email: "cy@example.org".into(),
                    line: 4,
                    status: Status::Deferred,
                    code: None,
                    enhanced: None,
                    text: "421 try later".into(),
                },
            ]
        );
        assert_eq!(state.runs().len(), 2);
        assert_eq!(state.id(), Some(&id()));
        drop(_j);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"type\":\"header\",\"version\":1,\"round\":1,\"issue\":\"2023-09\",\"list\":\"lists/members.csv\",\"fingerprint\":\"aaaa\",\"started\":\""), "{text}");
        assert!(text.contains("{\"type\":\"refused\",\"round\":1,\"time\":\""));
        assert!(text.contains(&format!("\"key\":\"{}\",\"code\":550,\"enhanced\":\"5.1.1\",\"text\":\"User unknown\",\"permanent\":true}}\n", AddressKey::of("bob@example.org"))));
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
            j.append(&Record::attempt("ann@example.org", 2)).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.append(&Record::attempt("bob@example.org", 3)).unwrap();
            j.append(&accepted("bob@example.org")).unwrap();
            j.sync().unwrap();
        }
        // cut the file in the middle of its last line, as a crash would
        let full = std::fs::read(&path).unwrap();
        let cut = full.len() - 20;
        std::fs::write(&path, &full[..cut]).unwrap();

        let read_only = JournalState::read(&path).unwrap();
        assert_eq!(
            read_only.status_of("ann@example.org"),
            Some(Status::Accepted)
        );
        assert_eq!(
            read_only.status_of("bob@example.org"),
            Some(Status::Uncertain)
        );

        let (mut j, state) = Journal::open(&path, &id(), Round::Resume).unwrap();
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        assert_eq!(state.status_of("bob@example.org"), Some(Status::Uncertain));
        j.append(&accepted("bob@example.org")).unwrap();
        j.sync().unwrap();
        drop(j);
        // every line is whole again
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.counts().accepted, 2);
    }

    #[test]
    fn a_last_line_without_its_line_break_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.sync().unwrap();
        }
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 1]).unwrap();
        let (mut j, state) = Journal::open(&path, &id(), Round::Resume).unwrap();
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        j.append(&accepted("bob@example.org")).unwrap();
        j.sync().unwrap();
        drop(j);
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.counts().accepted, 2);
    }

    #[test]
    fn damage_before_the_last_line_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.sync().unwrap();
        }
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.insert_str(0, "{\"type\":\"garbage\"}\n");
        std::fs::write(&path, text).unwrap();
        let err = Journal::open(&path, &id(), Round::Resume).unwrap_err();
        let JournalError::Corrupt(e) = &err else {
            panic!("{err}")
        };
        assert_eq!(e.line, Some(1));
        assert_eq!(e.path, path);
        assert!(err.to_string().contains("the journal is damaged"), "{err}");
    }

    #[test]
    fn a_second_writer_is_refused_with_the_lock_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
        let err = Journal::open(&path, &id(), Round::Resume).unwrap_err();
        let lock = dir.path().join("j.jsonl.lock");
        assert!(matches!(&err, JournalError::Locked { lock: l } if *l == lock));
        assert_eq!(
            err.to_string(),
            format!(
                "another send of this issue to this list is running (it holds the lock {})",
                lock.display()
            )
        );
        // readers are not blocked
        assert!(JournalState::read(&path).is_ok());
        drop(j);
        assert!(Journal::open(&path, &id(), Round::Resume).is_ok());
    }

    #[test]
    fn a_new_round_starts_from_nothing_and_only_the_latest_round_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.append(&accepted("bob@example.org")).unwrap();
            j.sync().unwrap();
        }
        {
            let (mut j, state) = Journal::open(&path, &id(), Round::New).unwrap();
            assert_eq!(j.round(), 2);
            assert_eq!(state.round(), 2);
            assert_eq!(state.status_of("ann@example.org"), None);
            j.append(&Record::attempt("ann@example.org", 2)).unwrap();
            j.sync().unwrap();
        }
        let (j, state) = Journal::open(&path, &id(), Round::Resume).unwrap();
        assert_eq!(j.round(), 2);
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Uncertain));
        assert_eq!(state.status_of("bob@example.org"), None);
        assert_eq!(state.counts().total(), 1);
    }

    #[test]
    fn accepted_stays_accepted_within_a_round() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
        j.append(&accepted("ann@example.org")).unwrap();
        j.append(&Record::attempt("ann@example.org", 2)).unwrap();
        j.append(&Record::Deferred {
            key: AddressKey::of("ann@example.org"),
            text: "x".into(),
        })
        .unwrap();
        j.sync().unwrap();
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        assert!(state.uncertain().is_empty());
    }

    #[test]
    fn a_journal_of_another_issue_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        drop(Journal::open(&path, &id(), Round::Resume).unwrap());
        let other = JournalId {
            issue: "2023-10".into(),
            ..id()
        };
        let err = Journal::open(&path, &other, Round::Resume).unwrap_err();
        assert!(matches!(err, JournalError::Mismatch { .. }), "{err}");
        // a changed list is allowed, and noticed
        let changed = JournalId {
            fingerprint: "bbbb".into(),
            ..id()
        };
        let (_j, state) = Journal::open(&path, &changed, Round::Resume).unwrap();
        assert_eq!(state.fingerprints(), ["aaaa", "bbbb"]);
    }

    #[test]
    fn a_list_named_from_another_folder_finds_the_same_journal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lists")).unwrap();
        std::fs::create_dir_all(dir.path().join("issues")).unwrap();
        std::fs::write(dir.path().join("lists/m.csv"), "email\n").unwrap();
        let state = dir.path().join(".bulletin");
        let direct = path_for(&state, "x", &dir.path().join("lists/m.csv"), None);
        let roundabout = path_for(&state, "x", &dir.path().join("issues/../lists/m.csv"), None);
        assert_eq!(direct, roundabout);
        // and the journal accepts the other spelling of the list
        drop(Journal::open(&direct, &id(), Round::Resume).unwrap());
        let other = JournalId {
            list: "../lists/members.csv".into(),
            ..id()
        };
        assert!(Journal::open(&direct, &other, Round::Resume).is_ok());
    }

    #[test]
    fn paths_are_per_issue_list_and_shard() {
        let state = Path::new("/p/.bulletin");
        let a = path_for(state, "2023-09", Path::new("/p/lists/members.csv"), None);
        let b = path_for(state, "2023-09", Path::new("/p/other/members.csv"), None);
        let s = path_for(
            state,
            "2023-09",
            Path::new("/p/lists/members.csv"),
            Some(Shard { k: 2, n: 4 }),
        );
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("2023-09--members-") && name.ends_with(".jsonl"),
            "{name}"
        );
        assert!(s.to_str().unwrap().ends_with("-shard2of4.jsonl"));
        assert_eq!(a.parent().unwrap(), state.join("journals"));
    }

    #[test]
    fn journals_of_an_issue_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let a = path_for(dir.path(), "2023-09", Path::new("a.csv"), None);
        let b = path_for(
            dir.path(),
            "2023-09",
            Path::new("b.csv"),
            Some(Shard { k: 1, n: 2 }),
        );
        let c = path_for(dir.path(), "2023-10", Path::new("a.csv"), None);
        for p in [&a, &b, &c] {
            drop(Journal::open(p, &id(), Round::Resume).unwrap());
        }
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(journals_of(dir.path(), "2023-09").unwrap(), expected);
        assert!(
            journals_of(&dir.path().join("none"), "x")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn fingerprints_follow_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(&p, "email\nann@example.org\n").unwrap();
        let a = list_fingerprint(&p).unwrap();
        assert_eq!(a.len(), 16);
        std::fs::write(&p, "email\nbob@example.org\n").unwrap();
        assert_ne!(list_fingerprint(&p).unwrap(), a);
    }

    /// Peak memory of reading the journal of a million-member send. Slow in a debug build: run
    /// with `cargo test --release --lib -- --ignored a_million_member_journal`.
    #[test]
    #[ignore]
    fn a_million_member_journal_is_read_in_compact_memory() {
        use crate::memory_probe::vm;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, &id(), Round::Resume).unwrap();
            for i in 0..1_000_000u64 {
                let email = format!("member.{i}@example.org");
                j.append(&Record::attempt(&email, i + 2)).unwrap();
                j.append(&accepted(&email)).unwrap();
            }
            j.sync().unwrap();
        }
        let before = vm("VmRSS:");
        let state = JournalState::read(&path).unwrap();
        let peak = vm("VmHWM:");
        eprintln!(
            "rss before {before} kB, peak {peak} kB, growth {} kB",
            peak - before
        );
        assert_eq!(state.counts().accepted, 1_000_000);
        assert!(peak - before < 64 * 1024, "grew by {} kB", peak - before);
    }
}
