//! The bounce log: every refusal at SMTP time and every bounce, complaint or auto-reply read
//! from the bounce mailbox, one JSON object per line in `STATE/bounces.jsonl`.
//!
//! ```text
//! {"time":"2026-11-26T13:00:02Z","address":"gone@example.org","class":"hard","code":550,"enhanced_status":"5.1.1","text":"User unknown","issue":"2023-09-cluster-news","source":"smtp","message_id":null,"key":"…"}
//! ```
//!
//! Each record has a dedupe `key` (see [`dedupe_key`]): appending a record whose key is
//! already in the log writes nothing, so processing the same DSN twice changes nothing.
//! Loading gathers the keys and, per address, the times of its soft bounces, for the rule
//! "this many soft bounces within this many days suppress the address" ([`soft_limit_reached`]).
//! A last line cut off by a crash is ignored.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Bounces;
use crate::diagnostic::SourceError;
use crate::list::address::AddressKey;

/// The file name inside the state folder.
pub const FILE_NAME: &str = "bounces.jsonl";

/// What kind of bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BounceClass {
    /// The address does not work (5xx, unknown user, no such domain): suppress it.
    Hard,
    /// A temporary problem (mailbox full, 4xx): suppress after repeated ones.
    Soft,
    /// The recipient reported the message as spam (a feedback report): suppress it.
    Complaint,
    /// An out-of-office or other automatic reply: not a failure.
    AutoReply,
}

impl BounceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            BounceClass::Hard => "hard",
            BounceClass::Soft => "soft",
            BounceClass::Complaint => "complaint",
            BounceClass::AutoReply => "auto-reply",
        }
    }
}

/// Where the bounce was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BounceSource {
    /// The server refused the message during the SMTP transaction.
    Smtp,
    /// A delivery status notification (or complaint, or auto-reply) came back later.
    Dsn,
}

/// One line of the bounce log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BounceRecord {
    /// When it was recorded (RFC 3339, UTC).
    pub time: String,
    pub address: String,
    pub class: BounceClass,
    /// Why, in sisimai's words (`userunknown`, `mailboxfull`, `blocked`, …); absent in
    /// records written before reasons were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The SMTP reply code, e.g. 550.
    pub code: Option<u16>,
    /// The enhanced status code, e.g. `5.1.1`.
    pub enhanced_status: Option<String>,
    /// The server's text (or the DSN's diagnostic).
    pub text: String,
    /// The issue the bounced message belonged to, when known.
    pub issue: Option<String>,
    pub source: BounceSource,
    /// The Message-ID of the DSN (for `dsn`) or of the refused message (for `smtp`).
    pub message_id: Option<String>,
    /// What makes this event unique (see [`dedupe_key`]).
    pub key: String,
}

impl BounceRecord {
    /// The record's time, if it parses.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.time, &Rfc3339).ok()
    }
}

/// A dedupe key from the parts that identify an event, e.g. `[dsn_message_id, recipient]` for
/// a DSN, or `[issue, address, round, time]` for an SMTP refusal: the first 16 bytes of the
/// SHA-256 of the parts (each followed by a NUL byte), as hex.
pub fn dedupe_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Whether `limit` soft bounces fall within the `window_days` days up to `now`. A limit of 0
/// never suppresses.
pub fn soft_limit_reached(
    times: &[OffsetDateTime],
    limit: u32,
    window_days: u32,
    now: OffsetDateTime,
) -> bool {
    if limit == 0 {
        return false;
    }
    let since = now - time::Duration::days(i64::from(window_days));
    let recent = times.iter().filter(|t| **t > since && **t <= now).count();
    recent >= limit as usize
}

/// Every record of the log at `path`, for reports (empty when the file does not exist). A
/// line that does not parse (the last one, cut off by a crash) is left out.
pub fn read_records(path: &Path) -> Result<Vec<BounceRecord>, SourceError> {
    let text = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(SourceError::file(
                path,
                format!("cannot read the bounce log: {e}"),
            ));
        }
    };
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| serde_json::from_str::<BounceRecord>(l.trim()).ok())
        .collect())
}

/// The bounce log of a project, loaded, and open for appending.
#[derive(Debug)]
pub struct BounceLog {
    path: PathBuf,
    keys: HashSet<String>,
    soft: HashMap<AddressKey, Vec<OffsetDateTime>>,
    records: usize,
    out: Option<BufWriter<File>>,
    /// Records appended since the last sync.
    unsynced: bool,
    /// The file's length when loaded, and up to the end of its last complete record.
    loaded_len: u64,
    good_len: u64,
}

impl BounceLog {
    /// `STATE_DIR/bounces.jsonl`.
    pub fn path_in(state_dir: &Path) -> PathBuf {
        state_dir.join(FILE_NAME)
    }

    /// Load the log at `path` (empty when the file does not exist yet).
    pub fn open(path: &Path) -> Result<BounceLog, SourceError> {
        let mut log = BounceLog {
            path: path.to_path_buf(),
            keys: HashSet::new(),
            soft: HashMap::new(),
            records: 0,
            out: None,
            unsynced: false,
            loaded_len: 0,
            good_len: 0,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(log),
            Err(e) => {
                return Err(SourceError::file(
                    path,
                    format!("cannot read the bounce log: {e}"),
                ));
            }
        };
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let mut offset = 0u64;
        let mut line_no = 0usize;
        let mut bad: Option<SourceError> = None;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| SourceError::file(path, format!("cannot read the bounce log: {e}")))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            offset += n as u64;
            log.loaded_len = offset;
            if let Some(e) = bad.take() {
                return Err(e);
            }
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<BounceRecord>(text) {
                Ok(rec) => {
                    log.remember(&rec);
                    if buf.ends_with(b"\n") {
                        log.good_len = offset;
                    }
                }
                // an error unless it is the last line (cut off by a crash)
                Err(e) => {
                    bad = Some(SourceError {
                        path: path.to_path_buf(),
                        line: Some(line_no),
                        column: Some(e.column()),
                        message: format!("the bounce log is damaged: {e}"),
                        snippet: Some(text.chars().take(200).collect()),
                        hint: None,
                    })
                }
            }
        }
        Ok(log)
    }

    /// Load `STATE_DIR/bounces.jsonl`.
    pub fn open_state(state_dir: &Path) -> Result<BounceLog, SourceError> {
        Self::open(&Self::path_in(state_dir))
    }

    fn remember(&mut self, rec: &BounceRecord) {
        self.records += 1;
        self.keys.insert(rec.key.clone());
        if rec.class == BounceClass::Soft
            && let Some(t) = rec.timestamp()
        {
            let times = self.soft.entry(AddressKey::of(&rec.address)).or_default();
            times.push(t);
            times.sort_unstable();
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records in the log.
    pub fn len(&self) -> usize {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Whether an event with this dedupe key is already recorded.
    pub fn contains_key(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Append a record unless its key is already in the log (then returns false). Buffered:
    /// call [`sync`](Self::sync) to make it durable.
    pub fn append(&mut self, rec: &BounceRecord) -> io::Result<bool> {
        if self.keys.contains(&rec.key) {
            return Ok(false);
        }
        if self.out.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            // A line cut off by a crash must not swallow the next record: cut it off when
            // nobody appended since loading, else start a new line.
            let len = file.metadata()?.len();
            let mut out = BufWriter::new(file);
            if len == self.loaded_len && self.good_len < len {
                out.get_ref().set_len(self.good_len)?;
            } else if len > 0 && !ends_with_newline(&self.path)? {
                out.write_all(b"\n")?;
            }
            self.out = Some(out);
        }
        let mut bytes = serde_json::to_vec(rec).map_err(io::Error::other)?;
        bytes.push(b'\n');
        if let Some(out) = self.out.as_mut() {
            out.write_all(&bytes)?;
            self.unsynced = true;
        }
        self.remember(rec);
        Ok(true)
    }

    /// Write out everything appended and wait until it is on disk.
    pub fn sync(&mut self) -> io::Result<()> {
        if let Some(out) = self.out.as_mut().filter(|_| self.unsynced) {
            out.flush()?;
            out.get_ref().sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// The times of the address's soft bounces, oldest first.
    pub fn soft_bounces(&self, address: &str) -> &[OffsetDateTime] {
        self.soft
            .get(&AddressKey::of(address))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the address's soft bounces reach `[bounces]` `soft_limit` within
    /// `soft_window_days` up to `now`.
    pub fn soft_limit_reached(&self, address: &str, rules: &Bounces, now: OffsetDateTime) -> bool {
        soft_limit_reached(
            self.soft_bounces(address),
            rules.soft_limit,
            rules.soft_window_days,
            now,
        )
    }
}

fn ends_with_newline(path: &Path) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path)?;
    if f.metadata()?.len() == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// The current time as RFC 3339, for [`BounceRecord::time`].
pub fn now_rfc3339() -> String {
    crate::list::now_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(address: &str, class: BounceClass, time: &str, key: &str) -> BounceRecord {
        BounceRecord {
            time: time.into(),
            address: address.into(),
            class,
            code: Some(550),
            enhanced_status: Some("5.1.1".into()),
            text: "User unknown".into(),
            issue: Some("2023-09".into()),
            source: BounceSource::Dsn,
            message_id: Some("<dsn-1@mx.example.net>".into()),
            reason: Some("userunknown".into()),
            key: key.into(),
        }
    }

    fn t(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).unwrap()
    }

    #[test]
    fn records_are_written_once_per_key_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".bulletin");
        let mut log = BounceLog::open_state(&state).unwrap();
        assert!(log.is_empty());
        let key = dedupe_key(&["<dsn-1@mx.example.net>", "gone@example.org"]);
        let rec = record(
            "gone@example.org",
            BounceClass::Hard,
            "2026-11-01T10:00:00Z",
            &key,
        );
        assert!(log.append(&rec).unwrap());
        assert!(!log.append(&rec).unwrap());
        log.sync().unwrap();
        drop(log);

        let text = std::fs::read_to_string(BounceLog::path_in(&state)).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"class\":\"hard\""));
        assert!(text.contains("\"source\":\"dsn\""));

        let mut log = BounceLog::open_state(&state).unwrap();
        assert_eq!(log.len(), 1);
        assert!(log.contains_key(&key));
        // processing the same DSN again changes nothing
        assert!(!log.append(&rec).unwrap());
        log.sync().unwrap();
        let again = std::fs::read_to_string(BounceLog::path_in(&state)).unwrap();
        assert_eq!(again, text);
    }

    #[test]
    fn classes_use_their_documented_names() {
        let json = |c: BounceClass| serde_json::to_string(&c).unwrap();
        assert_eq!(json(BounceClass::AutoReply), "\"auto-reply\"");
        assert_eq!(json(BounceClass::Complaint), "\"complaint\"");
        assert_eq!(BounceClass::AutoReply.as_str(), "auto-reply");
        assert_eq!(
            serde_json::to_string(&BounceSource::Smtp).unwrap(),
            "\"smtp\""
        );
    }

    #[test]
    fn soft_bounces_suppress_after_n_within_m_days() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = BounceLog::open(&dir.path().join("b.jsonl")).unwrap();
        for (i, time) in [
            "2026-10-01T00:00:00Z",
            "2026-11-10T00:00:00Z",
            "2026-11-20T00:00:00Z",
        ]
        .iter()
        .enumerate()
        {
            let rec = record("Full@Example.org", BounceClass::Soft, time, &i.to_string());
            log.append(&rec).unwrap();
        }
        log.append(&record(
            "other@example.org",
            BounceClass::Hard,
            "2026-11-20T00:00:00Z",
            "h",
        ))
        .unwrap();
        log.sync().unwrap();
        let log = BounceLog::open(&dir.path().join("b.jsonl")).unwrap();
        assert_eq!(log.soft_bounces("full@example.org").len(), 3);
        assert!(log.soft_bounces("other@example.org").is_empty());
        let now = t("2026-11-26T00:00:00Z");
        let rules = |soft_limit, soft_window_days| Bounces {
            soft_limit,
            soft_window_days,
        };
        // two within 30 days (the October one is older)
        assert!(!log.soft_limit_reached("full@example.org", &rules(3, 30), now));
        assert!(log.soft_limit_reached("full@example.org", &rules(2, 30), now));
        assert!(log.soft_limit_reached("full@example.org", &rules(3, 60), now));
        assert!(!log.soft_limit_reached("full@example.org", &rules(0, 60), now));
    }

    #[test]
    fn the_window_edges_are_exclusive_of_the_start() {
        let times = [t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z")];
        let now = t("2026-11-11T00:00:00Z");
        assert!(!soft_limit_reached(&times, 2, 10, now));
        assert!(soft_limit_reached(&times, 2, 11, now));
        assert!(soft_limit_reached(&times, 1, 10, now));
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_before_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.jsonl");
        let mut log = BounceLog::open(&path).unwrap();
        log.append(&record(
            "a@example.org",
            BounceClass::Hard,
            "2026-11-01T00:00:00Z",
            "a",
        ))
        .unwrap();
        log.sync().unwrap();
        drop(log);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"time\":\"2026-11-0");
        std::fs::write(&path, &text).unwrap();

        let mut log = BounceLog::open(&path).unwrap();
        assert_eq!(log.len(), 1);
        log.append(&record(
            "b@example.org",
            BounceClass::Hard,
            "2026-11-01T00:00:00Z",
            "b",
        ))
        .unwrap();
        log.sync().unwrap();
        let log = BounceLog::open(&path).unwrap();
        assert_eq!(log.len(), 2);
        assert!(log.contains_key("b"));

        // damage in the middle is reported with its line number
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.insert_str(0, "not json\n");
        std::fs::write(&path, &text).unwrap();
        let e = BounceLog::open(&path).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(
            e.message.starts_with("the bounce log is damaged"),
            "{}",
            e.message
        );
    }

    #[test]
    fn dedupe_keys_depend_on_every_part() {
        assert_eq!(dedupe_key(&["a", "b"]), dedupe_key(&["a", "b"]));
        assert_ne!(dedupe_key(&["a", "b"]), dedupe_key(&["ab"]));
        assert_ne!(dedupe_key(&["a", "b"]), dedupe_key(&["b", "a"]));
        assert_eq!(dedupe_key(&["x"]).len(), 32);
    }
}
