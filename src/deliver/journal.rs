//! The send journal: an append-only record of every member's outcome, one JSON object per line.
//! The record of an issue is every journal file of that issue in the state folder, merged
//! ([`IssueRecord`](super::issue_record::IssueRecord)); this module reads and writes one file.
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
//! - **Rounds**: a resumed send continues the latest round; a new round is the next number, in
//!   which everyone is due again. Records carry their round and the state considers only the
//!   latest.
//! - **Crashes**: a last line cut off by a crash is ignored (and cut from the file when it is
//!   next opened for writing); every complete line before it counts. A member with an `attempt`
//!   but no outcome is [`Status::Uncertain`]: the message may or may not have been accepted
//!   (a crash mid-transaction, or a send whose final `.` was never answered).
//! - **Damage**: a line in the middle that does not parse is reported ([`Damage`], with its file
//!   and line) and the rest is read. What can be read of it is used: an `accepted` with its key
//!   counts as accepted, an `attempt` as an attempt; any other record of a known member holds
//!   that member back ([`Status::Held`]); a line naming no member holds back every member of the
//!   file whose outcome is unknown, since it may have been theirs. A damaged record never leads
//!   to a member recorded as accepted being mailed again.
//! - **Memory**: the state keeps one 8-byte key and one byte per member (about 19 MB for a
//!   million), plus the addresses of the uncertain ones.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::issue_record::IssueLock;
use crate::list::address::AddressKey;
use crate::list::keymap::KeyMap;

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

impl Round {
    /// The round a run writes when the record's latest round is `latest` (0: nothing yet).
    pub fn number(self, latest: u32) -> u32 {
        match self {
            Round::Resume => latest.max(1),
            Round::New => latest + 1,
        }
    }
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
    /// The member's record is damaged: not mailed until someone looks (see [`Damage`]).
    Held,
}

impl Status {
    fn code(self) -> u8 {
        match self {
            Status::Accepted => 1,
            Status::Refused { permanent: true } => 2,
            Status::Refused { permanent: false } => 3,
            Status::Deferred => 4,
            Status::Uncertain => 5,
            Status::Held => 6,
        }
    }

    /// Which standing wins when two journal files of one round disagree: the one that keeps
    /// the member from a second copy.
    fn rank(self) -> u8 {
        match self {
            Status::Deferred => 1,
            Status::Refused { permanent: false } => 2,
            Status::Uncertain => 3,
            Status::Refused { permanent: true } => 4,
            Status::Held => 5,
            Status::Accepted => 6,
        }
    }

    fn from_code(code: u8) -> Option<Status> {
        Some(match code {
            1 => Status::Accepted,
            2 => Status::Refused { permanent: true },
            3 => Status::Refused { permanent: false },
            4 => Status::Deferred,
            5 => Status::Uncertain,
            6 => Status::Held,
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
    /// Held back because their record is damaged.
    pub held: u64,
}

impl Counts {
    /// Members with any record.
    pub fn total(&self) -> u64 {
        self.accepted
            + self.refused_permanent
            + self.refused_temporary
            + self.deferred
            + self.uncertain
            + self.held
    }
}

/// A member whose transaction was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncertain {
    pub email: String,
    pub line: u64,
}

/// A member held back because their record in a journal is damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    /// The address, when the journal holds it (an attempt or the damaged line itself).
    pub email: String,
    /// Their line in the list (0 when unknown).
    pub line: u64,
    /// `FILE:LINE` of the damaged record, and what is wrong.
    pub why: String,
}

/// A line in the middle of a journal that could not be read whole, and what was made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// Why it does not parse.
    pub error: String,
    /// What was recovered from it, e.g. `read as: ann@example.org accepted`.
    pub recovered: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: the journal is damaged ({}); {}",
            self.path.display(),
            self.line,
            self.error,
            self.recovered
        )
    }
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
    /// The lists (as named) and their fingerprints seen in the latest round's headers, oldest
    /// first, without repeats.
    fingerprints: Vec<(String, String)>,
    /// Members held back by damaged records.
    held: HashMap<AddressKey, HeldBack>,
    /// Damaged lines, in every round.
    damage: Vec<Damage>,
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

    /// A state that has the round after this one's, with nobody in it yet.
    pub fn next_round(&self) -> JournalState {
        JournalState {
            round: self.round + 1,
            damage: self.damage.clone(),
            ..JournalState::default()
        }
    }

    /// Fold in the state of another journal file of the same issue. Only the latest round of
    /// either counts; within it, a member's standing is the one that keeps them from a second
    /// copy (accepted over held over refused over cut off over deferred).
    pub fn merge(&mut self, other: JournalState) {
        let mut damage = std::mem::take(&mut self.damage);
        damage.extend(other.damage.iter().cloned());
        if other.round > self.round {
            *self = JournalState {
                damage: Vec::new(),
                ..other
            };
        } else if other.round == self.round {
            self.merge_round(other);
        }
        self.damage = damage;
    }

    fn merge_round(&mut self, mut other: JournalState) {
        for (key, code) in other.statuses.iter() {
            let (Some(theirs), mine) = (Status::from_code(code), self.status(key)) else {
                continue;
            };
            if mine.is_some_and(|m| m.rank() >= theirs.rank()) {
                continue;
            }
            // their account of this member replaces ours, keeping an address we know
            let known = self.email_of(key);
            self.pending.remove(&key);
            self.failures.remove(&key);
            self.held.remove(&key);
            if let Some(mut u) = other.pending.remove(&key) {
                if u.email.is_empty() {
                    u.email = known.unwrap_or_default();
                }
                self.pending.insert(key, u);
            } else if let Some(mut f) = other.failures.remove(&key) {
                if f.email.is_empty() {
                    f.email = known.unwrap_or_default();
                }
                self.failures.insert(key, f);
            } else if let Some(mut h) = other.held.remove(&key) {
                if h.email.is_empty() {
                    h.email = known.unwrap_or_default();
                }
                self.held.insert(key, h);
            }
            self.statuses.set(key, code);
        }
        self.runs.append(&mut other.runs);
        self.runs.sort();
        if other.last_time > self.last_time {
            self.last_time = other.last_time;
        }
        for f in other.fingerprints {
            if !self.fingerprints.contains(&f) {
                self.fingerprints.push(f);
            }
        }
        if self.id.is_none() {
            self.id = other.id;
        }
    }

    /// The address this state knows for `key`, if any.
    fn email_of(&self, key: AddressKey) -> Option<String> {
        let email = self
            .pending
            .get(&key)
            .map(|u| &u.email)
            .or_else(|| self.failures.get(&key).map(|f| &f.email))
            .or_else(|| self.held.get(&key).map(|h| &h.email))?;
        (!email.is_empty()).then(|| email.clone())
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

    /// Whether a list changed between runs of the latest round: one list (as named) seen
    /// with two fingerprints. Other lists sent the same issue are not changes.
    pub fn list_changed(&self) -> bool {
        self.fingerprints.iter().enumerate().any(|(i, (list, fp))| {
            self.fingerprints[..i]
                .iter()
                .any(|(l, f)| l == list && f != fp)
        })
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
                Some(Status::Held) => c.held += 1,
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

    /// The members held back because their record is damaged, in list order.
    pub fn held(&self) -> Vec<HeldBack> {
        let mut v: Vec<HeldBack> = self.held.values().cloned().collect();
        v.sort_by(|a, b| (a.line, &a.email).cmp(&(b.line, &b.email)));
        v
    }

    /// Why the member with `key` is held back, if they are.
    pub fn held_reason(&self, key: AddressKey) -> Option<&str> {
        self.held.get(&key).map(|h| h.why.as_str())
    }

    /// The damaged lines met while reading, in every round.
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    fn start_round(&mut self, round: u32) {
        let id = self.id.take();
        let damage = std::mem::take(&mut self.damage);
        *self = JournalState {
            round,
            id,
            damage,
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
        if current == Some(Status::Held) && !matches!(record, Record::Accepted { .. }) {
            // only an acceptance settles a damaged record
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
                self.held.remove(&key);
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

    /// Hold the member back: their record is damaged. `email` is what the damaged line said,
    /// used when no earlier record of theirs names them.
    fn hold(&mut self, key: AddressKey, email: Option<String>, why: String) {
        if matches!(self.status(key), Some(Status::Accepted | Status::Held)) {
            return;
        }
        let known = self
            .pending
            .remove(&key)
            .or_else(|| {
                self.failures.remove(&key).map(|f| Uncertain {
                    email: f.email,
                    line: f.line,
                })
            })
            .filter(|u| !u.email.is_empty());
        let (email, line) = match known {
            Some(u) => (u.email, u.line),
            None => (email.unwrap_or_default(), 0),
        };
        self.held.insert(key, HeldBack { email, line, why });
        self.statuses.set(key, Status::Held.code());
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
        "another send of this issue is running (it holds the lock {})",
        lock.display()
    )]
    Locked { lock: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
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
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The open journal of a running send: this run's own file of the issue's record. Dropping it
/// flushes what is buffered (without a disk sync) and releases the issue's lock.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    round: u32,
    out: BufWriter<File>,
    /// Lines written since the last sync: a sync with nothing new costs no disk flush.
    unsynced: bool,
    _lock: IssueLock,
}

impl Journal {
    /// Start writing this run into `path` (creating it, and syncing its folder when it is new),
    /// under the issue's `lock`: cut a torn last line, then append and sync the header of a
    /// run of `round`. Called once the send is confirmed, never before.
    pub fn begin(
        lock: IssueLock,
        path: &Path,
        id: &JournalId,
        round: u32,
    ) -> Result<Journal, JournalError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_dir_synced(dir).map_err(|e| JournalError::io(dir, e))?;
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| JournalError::io(path, e))?;
        if !existed {
            // the file's name must survive a crash as well as its lines
            sync_dir(dir).map_err(|e| JournalError::io(dir, e))?;
        }
        let found = first_header(path).map_err(|e| JournalError::io(path, e))?;
        if let Some(found) = &found
            && found.issue != id.issue
        {
            return Err(JournalError::Mismatch {
                path: path.to_path_buf(),
                found: (found.issue.clone(), found.list.clone()),
                wanted: (id.issue.clone(), id.list.clone()),
            });
        }
        // cut off a torn last line so the next record starts on a line of its own
        let (len, good_len, needs_newline) =
            tail(&mut file).map_err(|e| JournalError::io(path, e))?;
        if len > good_len {
            file.set_len(good_len)
                .map_err(|e| JournalError::io(path, e))?;
        }
        let mut journal = Journal {
            path: path.to_path_buf(),
            round,
            out: BufWriter::with_capacity(64 * 1024, file),
            unsynced: false,
            _lock: lock,
        };
        let header = Line::Header {
            version: VERSION,
            round,
            issue: id.issue.clone(),
            list: id.list.clone(),
            fingerprint: id.fingerprint.clone(),
            started: now(),
        };
        let io = |e| JournalError::io(path, e);
        if needs_newline {
            journal.out.write_all(b"\n").map_err(io)?;
        }
        journal.write_line(&header).map_err(io)?;
        journal.sync().map_err(io)?;
        Ok(journal)
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

/// Make a new entry of `dir` durable (`fsync` of the folder).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Create `dir` and its missing parents, and sync the folder each was made in, so the new
/// folders survive a crash along with what is written into them.
pub(crate) fn create_dir_synced(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.as_os_str().is_empty() && !d.is_dir() {
        missing.push(d);
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    for made in missing.iter().rev() {
        let parent = made
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        sync_dir(parent)?;
    }
    Ok(())
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

/// `s` with every character but ASCII letters, digits, `.`, `_` and `-` replaced by `_`.
pub(crate) fn file_safe(s: &str) -> String {
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
pub(crate) fn scan(
    path: &Path,
    file: impl Read,
) -> Result<(JournalState, u64, bool), JournalError> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut state = JournalState::default();
    let mut buf = Vec::new();
    let mut offset: u64 = 0;
    let mut good_len: u64 = 0;
    let mut needs_newline = false;
    let mut line_no: usize = 0;
    // a line that did not parse; damage unless it turns out to be the last (cut off by a crash)
    let mut bad: Option<(usize, String, String)> = None;
    // lines naming no member, with the round they may belong to
    let mut unreadable: Vec<(usize, Option<u32>)> = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| JournalError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let start = offset;
        offset += n as u64;
        if let Some((line, text, error)) = bad.take() {
            // another line follows: the bad one is damage, kept in the file
            good_len = start;
            needs_newline = false;
            if let Some(round) = salvage_line(&mut state, path, line, &text, error) {
                unreadable.push((line, round));
            }
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
    // A last line that does not parse (still in `bad`) was cut off by a crash: ignored, and
    // cut from the file when it is next written.
    // A line naming no member may have been anyone's outcome in its round: nobody of this file
    // whose outcome is unknown is mailed again until it is looked at.
    if let Some((line, _)) = unreadable
        .iter()
        .find(|(_, round)| round.is_none_or(|r| r >= state.round))
    {
        let why = format!(
            "{}:{line} could not be read and may hold their outcome",
            path.display()
        );
        let cut_off: Vec<AddressKey> = state.pending.keys().copied().collect();
        for key in cut_off {
            state.hold(key, None, why.clone());
        }
    }
    Ok((state, good_len, needs_newline))
}

/// Where the journal's whole lines end, read from its end: the file's length, the length up
/// to the end of its last line that parses (a last line that does not parse was cut off by a
/// crash), and whether that line lacks its line break. Agrees with [`scan`], which reads the
/// whole file, without reading more than the last line or so.
fn tail(file: &mut File) -> io::Result<(u64, u64, bool)> {
    use std::io::{Seek, SeekFrom};
    const WINDOW: u64 = 1 << 20;
    let len = file.metadata()?.len();
    let base = len.saturating_sub(WINDOW);
    file.seek(SeekFrom::Start(base))?;
    let mut buf = Vec::new();
    (&mut *file).take(WINDOW).read_to_end(&mut buf)?;
    let complete = buf.ends_with(b"\n");
    let end = buf.len() - usize::from(complete);
    let start = match buf[..end].iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None if base > 0 => {
            // a last line longer than the window: read the whole file
            file.seek(SeekFrom::Start(0))?;
            let (_, good_len, needs_newline) =
                scan(Path::new(""), &mut *file).map_err(|e| io::Error::other(e.to_string()))?;
            return Ok((len, good_len, needs_newline));
        }
        None => 0,
    };
    let last = String::from_utf8_lossy(&buf[start..]);
    let last = last.trim();
    Ok(if last.is_empty() {
        // blank: a complete one counts, a torn one is cut
        if complete {
            (len, len, false)
        } else {
            (len, base + start as u64, false)
        }
    } else if parse_line(last).is_ok() {
        (len, len, !complete)
    } else {
        (len, base + start as u64, false)
    })
}

/// What can be read of a damaged line: its kind, round, member key and address.
#[derive(Debug, Default, PartialEq, Eq)]
struct Salvage {
    kind: Option<String>,
    round: Option<u32>,
    key: Option<AddressKey>,
    email: Option<String>,
}

/// The value of `"name":"…"` (a string) or `"name":123` (digits) in a damaged line.
fn field<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let at = text.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &text[at..];
    if let Some(s) = rest.strip_prefix('"') {
        s.find('"').map(|end| &s[..end])
    } else {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    }
}

fn salvage(text: &str) -> Salvage {
    let email = field(text, "email")
        .filter(|e| e.contains('@'))
        .map(str::to_string);
    Salvage {
        kind: field(text, "type").map(str::to_string),
        round: field(text, "round").and_then(|r| r.parse().ok()),
        key: field(text, "key")
            .and_then(AddressKey::parse)
            .or_else(|| email.as_deref().map(AddressKey::of)),
        email,
    }
}

/// Apply what can be read of the damaged line `line` and note the damage. Returns the round
/// (when known) of a line from which no member could be read.
fn salvage_line(
    state: &mut JournalState,
    path: &Path,
    line: usize,
    text: &str,
    error: String,
) -> Option<Option<u32>> {
    let s = salvage(text);
    let round = s.round.unwrap_or(state.round.max(1));
    if round > state.round {
        state.start_round(round);
    }
    let mut unreadable = None;
    let who = |s: &Salvage| match (&s.email, s.key) {
        (Some(e), _) => e.clone(),
        (None, Some(k)) => format!("the member with key {k}"),
        (None, None) => String::new(),
    };
    let recovered = if round < state.round {
        "it belongs to an earlier round and is ignored".to_string()
    } else {
        match (s.kind.as_deref(), s.key) {
            (Some("header"), _) => format!("read as the header of a run of round {round}"),
            (Some("accepted"), Some(key)) => {
                state.apply(Record::Accepted {
                    key,
                    reply: String::new(),
                });
                format!("read as: {} accepted", who(&s))
            }
            (Some("attempt"), Some(key)) => {
                state.apply(Record::Attempt {
                    key,
                    email: s.email.clone().unwrap_or_default(),
                    line: 0,
                });
                format!("read as: an attempt to {}", who(&s))
            }
            (_, Some(key)) => {
                let why = format!("their record at {}:{line} is damaged", path.display());
                state.hold(key, s.email.clone(), why);
                let name = state
                    .held
                    .get(&key)
                    .map(|h| h.email.clone())
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| who(&s));
                format!("{name} is held back: not mailed until the line is mended")
            }
            (_, None) => {
                unreadable = Some(s.round);
                "no member can be read from it: the members of this journal whose outcome is \
                 unknown are held back"
                    .to_string()
            }
        }
    };
    state.damage.push(Damage {
        path: path.to_path_buf(),
        line,
        error,
        recovered,
    });
    unreadable
}

/// The issue, list and fingerprint of the first line of the journal at `path`, when it is a
/// readable header.
pub(crate) fn first_header(path: &Path) -> io::Result<Option<JournalId>> {
    let mut first = String::new();
    BufReader::new(File::open(path)?)
        .take(64 * 1024)
        .read_line(&mut first)?;
    Ok(match parse_line(first.trim()) {
        Ok(Parsed::Header(id, _, _)) => Some(id),
        _ => None,
    })
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
                let seen = (id.list.clone(), id.fingerprint.clone());
                if !state.fingerprints.contains(&seen) {
                    state.fingerprints.push(seen);
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
            Status::Held => "held back (damaged record)",
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

    /// Open `path` for a run as a send does: lock, read, begin. Returns the journal and the
    /// state of the round it writes (empty for a new round).
    fn open(path: &Path, id: &JournalId, round: Round) -> (Journal, JournalState) {
        let dir = path.parent().unwrap();
        let lock = IssueLock::acquire(dir, &id.issue).unwrap();
        let state = JournalState::read(path).unwrap();
        let number = round.number(state.round());
        let state = if number == state.round() {
            state
        } else {
            state.next_round()
        };
        (Journal::begin(lock, path, id, number).unwrap(), state)
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
            let (mut j, state) = open(&path, &id(), Round::Resume);
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
        let (_j, state) = open(&path, &id(), Round::Resume);
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
                uncertain: 1,
                held: 0
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
        drop(_j);
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.runs().len(), 2);
        assert_eq!(state.id(), Some(&id()));
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
            let (mut j, _) = open(&path, &id(), Round::Resume);
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

        let (mut j, state) = open(&path, &id(), Round::Resume);
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
    fn reading_the_end_agrees_with_reading_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        drop(open(&path, &id(), Round::Resume));
        let header = std::fs::read_to_string(&path).unwrap();
        let acc = format!(
            "{{\"type\":\"accepted\",\"round\":1,\"time\":\"t\",\"key\":\"{}\",\"reply\":\"250\"}}",
            AddressKey::of("ann@example.org")
        );
        let long = "x".repeat(1 << 21);
        for tail_text in [
            String::new(),
            format!("{acc}\n"),
            acc.clone(),
            acc[..acc.len() / 2].to_string(),
            "\n".into(),
            "  ".into(),
            "garbage\n".into(),
            format!("garbage\n{acc}\n"),
            format!("{acc}\n{long}"),
        ] {
            let text = format!("{header}{tail_text}");
            std::fs::write(&path, &text).unwrap();
            let mut f = File::open(&path).unwrap();
            let (_, good, nl) = scan(&path, &mut f).unwrap();
            let mut f = File::open(&path).unwrap();
            let (len, good_tail, nl_tail) = tail(&mut f).unwrap();
            assert_eq!(len, text.len() as u64);
            assert_eq!(
                (good_tail, nl_tail),
                (good, nl),
                "{:?}",
                &tail_text[..tail_text.len().min(60)]
            );
        }
    }

    #[test]
    fn a_last_line_without_its_line_break_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = open(&path, &id(), Round::Resume);
            j.append(&accepted("ann@example.org")).unwrap();
            j.sync().unwrap();
        }
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 1]).unwrap();
        let (mut j, state) = open(&path, &id(), Round::Resume);
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        j.append(&accepted("bob@example.org")).unwrap();
        j.sync().unwrap();
        drop(j);
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.counts().accepted, 2);
    }

    /// A journal of ann (accepted), bob (accepted), cy (attempt, refused) and di (attempt,
    /// deferred), with line `n` (1-based) replaced by `damaged` (`{line}` stands for the
    /// line as it was).
    fn damaged_journal(n: usize, damaged: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = open(&path, &id(), Round::Resume);
            j.append(&Record::attempt("ann@example.org", 2)).unwrap();
            j.append(&accepted("ann@example.org")).unwrap();
            j.append(&Record::attempt("bob@example.org", 3)).unwrap();
            j.append(&accepted("bob@example.org")).unwrap();
            j.append(&Record::attempt("cy@example.org", 4)).unwrap();
            j.append(&Record::Refused {
                key: AddressKey::of("cy@example.org"),
                code: Some(550),
                enhanced: None,
                text: "no".into(),
                permanent: true,
            })
            .unwrap();
            j.append(&Record::attempt("di@example.org", 5)).unwrap();
            j.append(&Record::Deferred {
                key: AddressKey::of("di@example.org"),
                text: "421".into(),
            })
            .unwrap();
            j.sync().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[n - 1] = damaged.replace("{line}", &lines[n - 1]);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        (dir, path)
    }

    #[test]
    fn a_damaged_acceptance_is_read_as_far_as_it_goes_and_the_rest_is_read() {
        // line 5: bob's acceptance, its end overwritten
        let bob = AddressKey::of("bob@example.org");
        let text = format!(
            "{{\"type\":\"accepted\",\"round\":1,\"time\":\"t\",\"key\":\"{bob}\",\"reply\":\"250 \u{0}\u{0}"
        );
        let (_dir, path) = damaged_journal(5, &text);
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.damage().len(), 1);
        let d = &state.damage()[0];
        assert_eq!((d.path.as_path(), d.line), (path.as_path(), 5));
        assert_eq!(
            d.recovered,
            format!("read as: the member with key {bob} accepted")
        );
        assert!(
            d.to_string()
                .starts_with(&format!("{}:5: the journal is damaged (", path.display())),
            "{d}"
        );
        assert_eq!(state.status_of("bob@example.org"), Some(Status::Accepted));
        // the lines after it count
        assert_eq!(
            state.status_of("cy@example.org"),
            Some(Status::Refused { permanent: true })
        );
        assert_eq!(state.status_of("di@example.org"), Some(Status::Deferred));
        assert!(state.held().is_empty());
    }

    #[test]
    fn a_damaged_record_of_a_known_member_holds_them_back_by_name() {
        // line 6 (cy's refusal), its type garbled: we cannot tell what became of cy
        let (_dir, path) = damaged_journal(6, "{line}");
        let text = std::fs::read_to_string(&path).unwrap();
        let garbled = text.replace("\"type\":\"refused\"", "\"type\":\"re\u{1}used\",");
        std::fs::write(&path, garbled).unwrap();
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.damage().len(), 1, "{:?}", state.damage());
        assert_eq!(state.damage()[0].line, 7);
        assert_eq!(
            state.damage()[0].recovered,
            "cy@example.org is held back: not mailed until the line is mended"
        );
        assert_eq!(state.status_of("cy@example.org"), Some(Status::Held));
        let held = state.held();
        assert_eq!(held.len(), 1);
        assert_eq!(
            (held[0].email.as_str(), held[0].line),
            ("cy@example.org", 4)
        );
        assert_eq!(
            held[0].why,
            format!("their record at {}:7 is damaged", path.display())
        );
        assert_eq!(state.counts().held, 1);
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        assert_eq!(state.status_of("bob@example.org"), Some(Status::Accepted));
    }

    #[test]
    fn a_line_naming_nobody_holds_back_everyone_whose_outcome_is_unknown() {
        // line 5 (bob's acceptance) is noise: bob's attempt is all that is left of him
        let (_dir, path) = damaged_journal(5, "\u{0}\u{0}\u{0}garbage");
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.damage().len(), 1);
        assert_eq!(state.damage()[0].line, 5);
        assert_eq!(state.status_of("bob@example.org"), Some(Status::Held));
        assert_eq!(state.held()[0].email, "bob@example.org");
        assert!(
            state.held()[0]
                .why
                .ends_with(":5 could not be read and may hold their outcome"),
            "{:?}",
            state.held()
        );
        // members with a known outcome keep it
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
        assert_eq!(state.status_of("di@example.org"), Some(Status::Deferred));
        assert!(state.uncertain().is_empty());
    }

    #[test]
    fn a_damaged_attempt_is_still_an_attempt() {
        let di = AddressKey::of("di@example.org");
        let (_dir, path) = damaged_journal(
            8,
            &format!(
                "{{\"type\":\"attempt\",\"round\":1,\"key\":\"{di}\",\"email\":\"di@example.org\",\"li"
            ),
        );
        let state = JournalState::read(&path).unwrap();
        assert_eq!(
            state.damage()[0].recovered,
            "read as: an attempt to di@example.org"
        );
        // the deferral on the next line settles it
        assert_eq!(state.status_of("di@example.org"), Some(Status::Deferred));
    }

    #[test]
    fn a_journal_with_a_damaged_line_is_written_on_after_it() {
        let (_dir, path) = damaged_journal(1, "not json at all");
        let (mut j, state) = open(&path, &id(), Round::Resume);
        assert_eq!(state.damage().len(), 1);
        j.append(&accepted("eve@example.org")).unwrap();
        j.sync().unwrap();
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("not json at all"),
            "the line is kept"
        );
        let state = JournalState::read(&path).unwrap();
        assert_eq!(state.status_of("eve@example.org"), Some(Status::Accepted));
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Accepted));
    }

    #[test]
    fn a_new_round_starts_from_nothing_and_only_the_latest_round_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = open(&path, &id(), Round::Resume);
            j.append(&accepted("ann@example.org")).unwrap();
            j.append(&accepted("bob@example.org")).unwrap();
            j.sync().unwrap();
        }
        {
            let (mut j, state) = open(&path, &id(), Round::New);
            assert_eq!(j.round(), 2);
            assert_eq!(state.round(), 2);
            assert_eq!(state.status_of("ann@example.org"), None);
            j.append(&Record::attempt("ann@example.org", 2)).unwrap();
            j.sync().unwrap();
        }
        let (j, state) = open(&path, &id(), Round::Resume);
        assert_eq!(j.round(), 2);
        drop(j);
        assert_eq!(state.status_of("ann@example.org"), Some(Status::Uncertain));
        assert_eq!(state.status_of("bob@example.org"), None);
        assert_eq!(state.counts().total(), 1);
    }

    #[test]
    fn accepted_stays_accepted_within_a_round() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (mut j, _) = open(&path, &id(), Round::Resume);
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
        drop(open(&path, &id(), Round::Resume));
        let other = JournalId {
            issue: "2023-10".into(),
            ..id()
        };
        let lock = IssueLock::acquire(dir.path(), "2023-10").unwrap();
        let err = Journal::begin(lock, &path, &other, 1).unwrap_err();
        assert!(matches!(err, JournalError::Mismatch { .. }), "{err}");
        // a changed list is allowed, and noticed
        let changed = JournalId {
            fingerprint: "bbbb".into(),
            ..id()
        };
        let state = JournalState::read(&path).unwrap();
        assert!(!state.list_changed());
        drop(open(&path, &changed, Round::Resume));
        let state = JournalState::read(&path).unwrap();
        assert!(state.list_changed());
        // another list sent the same issue is not a change
        let mut other_list = id();
        other_list.list = "lists/other.csv".into();
        other_list.fingerprint = "cccc".into();
        let dir2 = tempfile::tempdir().unwrap();
        let path2 = dir2.path().join("j.jsonl");
        drop(open(&path2, &id(), Round::Resume));
        drop(open(&path2, &other_list, Round::Resume));
        assert!(!JournalState::read(&path2).unwrap().list_changed());
    }

    #[test]
    fn a_new_file_is_made_in_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/journals/n.jsonl");
        let lock = IssueLock::acquire(&dir.path().join("state"), "n").unwrap();
        drop(Journal::begin(lock, &path, &id(), 1).unwrap());
        assert_eq!(JournalState::read(&path).unwrap().runs().len(), 1);
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
            let (mut j, _) = open(&path, &id(), Round::Resume);
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
