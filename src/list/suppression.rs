//! The suppression list: addresses that are never mailed again (hard bounces, complaints,
//! unsubscribes recorded by bulletin), kept in the project's state folder as
//! `suppressed.csv` with the columns `email,reason,source,time`.
//!
//! The file is append-only: [`Suppression::add`] writes one line and syncs it to disk before
//! returning. A member's own unsubscribe (source `unsubscribe`) can be undone: a later line
//! with the source `resubscribe` cancels the unsubscribes before it for that address, and
//! nothing else (a hard bounce stays). Fields are escaped against spreadsheet formula injection
//! ([`escape_field`](super::csv_escape::escape_field)). Loading keeps only a compact key and
//! the reason per address.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::address::AddressKey;
use super::csv_escape::{csv_line, unescape_field};
use crate::diagnostic::SourceError;

/// The file name inside the state folder.
pub const FILE_NAME: &str = "suppressed.csv";

/// The header line of a new suppression file.
pub const HEADER: &str = "email,reason,source,time\n";

/// The source of a member's own unsubscribe (web, one-click or mailto).
pub const UNSUBSCRIBE: &str = "unsubscribe";

/// The source of a line that undoes the member's unsubscribes before it.
pub const RESUBSCRIBE: &str = "resubscribe";

/// Addresses never to mail, loaded from (and appended to) `suppressed.csv`.
#[derive(Debug, Default, Clone)]
pub struct Suppression {
    path: Option<PathBuf>,
    /// Suppressed for something else than the member's own wish: bounces, complaints, by hand.
    reasons: HashMap<AddressKey, Box<str>>,
    /// Unsubscribed by the member (until a resubscribe line).
    unsubscribed: HashMap<AddressKey, Box<str>>,
}

impl Suppression {
    /// An empty list that lives in memory only.
    pub fn empty() -> Self {
        Self::default()
    }

    /// `STATE_DIR/suppressed.csv`.
    pub fn path_in(state_dir: &Path) -> PathBuf {
        state_dir.join(FILE_NAME)
    }

    /// Load `STATE_DIR/suppressed.csv` (empty when the file does not exist yet).
    pub fn load_state(state_dir: &Path) -> Result<Self, SourceError> {
        Self::load(&Self::path_in(state_dir))
    }

    /// Load a suppression file: a CSV with an `email` column and, optionally, `reason`. A file
    /// that does not exist is an empty list; [`add`](Self::add) will create it.
    pub fn load(path: &Path) -> Result<Self, SourceError> {
        let mut s = Suppression {
            path: Some(path.to_path_buf()),
            ..Suppression::default()
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(s),
            Err(e) => {
                return Err(SourceError::file(
                    path,
                    format!("cannot read the suppression list: {e}"),
                ));
            }
        };
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(io::BufReader::new(file));
        let located = |line: u64, message: String| SourceError {
            path: path.to_path_buf(),
            line: (line > 0).then_some(line as usize),
            column: None,
            message,
            snippet: None,
            hint: None,
        };
        let csv_err = |e: csv::Error| {
            let line = e.position().map_or(0, |p| p.line());
            located(line, format!("cannot read the suppression list: {e}"))
        };
        let headers = csv.headers().map_err(csv_err)?.clone();
        let key = |h: &str| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        let Some(email_col) = headers.iter().position(|h| key(h) == "email") else {
            if headers.is_empty() {
                return Ok(s);
            }
            return Err(
                located(1, "the suppression list has no `email` column".into())
                    .with_hint(format!("its first line should be `{}`", HEADER.trim_end())),
            );
        };
        let reason_col = headers.iter().position(|h| key(h) == "reason");
        let source_col = headers.iter().position(|h| key(h) == "source");
        let mut record = csv::StringRecord::new();
        while csv.read_record(&mut record).map_err(csv_err)? {
            let email = unescape_field(record.get(email_col).unwrap_or("").trim());
            if email.is_empty() {
                continue;
            }
            let reason = reason_col
                .and_then(|i| record.get(i))
                .map(unescape_field)
                .filter(|r| !r.is_empty())
                .unwrap_or("suppressed");
            let source = source_col
                .and_then(|i| record.get(i))
                .map(|v| unescape_field(v.trim()));
            s.note(AddressKey::of(email), reason, source.unwrap_or(""));
        }
        Ok(s)
    }

    /// The file this list is kept in, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Take one line of the file into account.
    fn note(&mut self, key: AddressKey, reason: &str, source: &str) {
        match source {
            RESUBSCRIBE => {
                self.unsubscribed.remove(&key);
            }
            UNSUBSCRIBE => {
                self.unsubscribed
                    .entry(key)
                    .or_insert_with(|| reason.into());
            }
            _ => {
                self.reasons.entry(key).or_insert_with(|| reason.into());
            }
        }
    }

    /// How many addresses are suppressed.
    pub fn len(&self) -> usize {
        self.reasons.len()
            + self
                .unsubscribed
                .keys()
                .filter(|k| !self.reasons.contains_key(k))
                .count()
    }

    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty() && self.unsubscribed.is_empty()
    }

    pub fn contains(&self, email: &str) -> bool {
        let key = AddressKey::of(email);
        self.reasons.contains_key(&key) || self.unsubscribed.contains_key(&key)
    }

    /// Whether the member unsubscribed (and did not undo it).
    pub fn is_unsubscribed(&self, email: &str) -> bool {
        self.unsubscribed.contains_key(&AddressKey::of(email))
    }

    /// Every address the member unsubscribed, as keys.
    pub fn unsubscribed_keys(&self) -> impl Iterator<Item = AddressKey> + '_ {
        self.unsubscribed.keys().copied()
    }

    /// Why the address is suppressed, if it is.
    pub fn reason(&self, email: &str) -> Option<&str> {
        self.reason_by_key(AddressKey::of(email))
    }

    pub fn reason_by_key(&self, key: AddressKey) -> Option<&str> {
        self.reasons
            .get(&key)
            .or_else(|| self.unsubscribed.get(&key))
            .map(|r| &**r)
    }

    /// Suppress `email` for `reason` (e.g. `hard bounce: 550 5.1.1 user unknown`), noting the
    /// `source` (e.g. `smtp`, `dsn`, `manual`, [`UNSUBSCRIBE`]). Appends a line to the file and
    /// syncs it before returning. Returns false, writing nothing, when the address was already
    /// suppressed for that kind of reason.
    pub fn add(&mut self, email: &str, reason: &str, source: &str) -> io::Result<bool> {
        let key = AddressKey::of(email);
        let known = if source == UNSUBSCRIBE {
            &self.unsubscribed
        } else {
            &self.reasons
        };
        if source == RESUBSCRIBE || known.contains_key(&key) {
            return Ok(false);
        }
        self.append(email, reason, source)?;
        self.note(key, reason, source);
        Ok(true)
    }

    /// Undo the member's unsubscribes (and only those). Returns false, writing nothing, when
    /// the member had not unsubscribed.
    pub fn resubscribe(&mut self, email: &str, reason: &str) -> io::Result<bool> {
        let key = AddressKey::of(email);
        if !self.unsubscribed.contains_key(&key) {
            return Ok(false);
        }
        self.append(email, reason, RESUBSCRIBE)?;
        self.note(key, reason, RESUBSCRIBE);
        Ok(true)
    }

    fn append(&self, email: &str, reason: &str, source: &str) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut file = open_for_append(path)?;
        let time = super::now_rfc3339();
        file.write_line(&csv_line([email.trim(), reason, source, time.as_str()]))?;
        file.sync()
    }
}

/// `suppressed.csv` opened for appending lines, by this process or another.
pub struct Appender {
    file: File,
    /// What must come before the next line: the header of a new file, or the end of a line a
    /// crash left unfinished (so the next line is not glued to it).
    prefix: &'static str,
}

/// Open (creating it and its folder if needed) a suppression file for appending.
pub fn open_for_append(path: &Path) -> io::Result<Appender> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let prefix = if len == 0 {
        HEADER
    } else if last_byte(&file, len)? != b'\n' {
        "\n"
    } else {
        ""
    };
    Ok(Appender { file, prefix })
}

fn last_byte(file: &File, len: u64) -> io::Result<u8> {
    let mut b = [0u8; 1];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        file.read_exact_at(&mut b, len - 1)?;
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read as _, Seek as _};
        let mut f = file.try_clone()?;
        f.seek(io::SeekFrom::Start(len - 1))?;
        f.read_exact(&mut b)?;
    }
    Ok(b[0])
}

impl Appender {
    /// Write whole lines (each ending in a newline) with one write; not yet synced.
    pub fn write_line(&mut self, lines: &str) -> io::Result<()> {
        if self.prefix.is_empty() {
            self.file.write_all(lines.as_bytes())?;
        } else {
            let text = format!("{}{lines}", self.prefix);
            self.file.write_all(text.as_bytes())?;
            self.prefix = "";
        }
        Ok(())
    }

    /// Make everything written so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let s = Suppression::load_state(dir.path()).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.path(), Some(dir.path().join(FILE_NAME).as_path()));
    }

    #[test]
    fn added_addresses_survive_a_reload_and_match_case_insensitively() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".bulletin");
        let mut s = Suppression::load_state(&state).unwrap();
        assert!(
            s.add("Ann@Example.org", "hard bounce: 550 5.1.1", "smtp")
                .unwrap()
        );
        assert!(!s.add("ann@example.org", "again", "dsn").unwrap());
        assert!(
            s.add(
                "=cmd|' /C calc'!A0@example.org",
                "=HYPERLINK(\"x\")",
                "manual"
            )
            .unwrap()
        );
        assert!(s.contains(" ANN@example.org "));

        let text = std::fs::read_to_string(Suppression::path_in(&state)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "email,reason,source,time");
        assert!(
            lines[1].starts_with("Ann@Example.org,hard bounce: 550 5.1.1,smtp,20"),
            "{}",
            lines[1]
        );
        // no line starts a cell with a formula character
        assert!(
            lines[2]
                .starts_with("'=cmd|' /C calc'!A0@example.org,\"'=HYPERLINK(\"\"x\"\")\",manual,"),
            "{}",
            lines[2]
        );

        let again = Suppression::load_state(&state).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(
            again.reason("ann@example.org"),
            Some("hard bounce: 550 5.1.1")
        );
        assert_eq!(
            again.reason("=cmd|' /C calc'!A0@example.org"),
            Some("=HYPERLINK(\"x\")")
        );
        assert!(!again.contains("bob@example.org"));
    }

    #[test]
    fn a_hand_written_file_needs_an_email_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "Email\nbob@example.org\n\n").unwrap();
        let s = Suppression::load(&p).unwrap();
        assert_eq!(s.reason("bob@example.org"), Some("suppressed"));

        std::fs::write(&p, "address,why\nbob@example.org,x\n").unwrap();
        let e = Suppression::load(&p).unwrap_err();
        assert_eq!(e.path, p);
        assert_eq!(e.line, Some(1));
        assert_eq!(e.message, "the suppression list has no `email` column");
    }

    #[test]
    fn a_resubscribe_undoes_only_the_unsubscribe() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Suppression::load_state(dir.path()).unwrap();
        assert!(
            s.add("ann@example.org", "unsubscribed (one-click)", UNSUBSCRIBE)
                .unwrap()
        );
        assert!(!s.add("ann@example.org", "again", UNSUBSCRIBE).unwrap());
        assert!(
            s.add("bob@example.org", "unsubscribed", UNSUBSCRIBE)
                .unwrap()
        );
        assert!(s.add("bob@example.org", "hard bounce: 550", "dsn").unwrap());
        assert!(s.resubscribe("ann@example.org", "undone").unwrap());
        assert!(!s.resubscribe("ann@example.org", "undone").unwrap());
        assert!(s.resubscribe("bob@example.org", "undone").unwrap());
        assert!(!s.contains("ann@example.org"));
        assert!(s.contains("bob@example.org"), "the bounce stays");
        let again = Suppression::load_state(dir.path()).unwrap();
        assert!(!again.contains("ann@example.org"));
        assert_eq!(again.reason("bob@example.org"), Some("hard bounce: 550"));
        assert!(!again.is_unsubscribed("bob@example.org"));
        assert_eq!(again.len(), 1);
        // unsubscribing again after the undo counts
        let mut again = again;
        assert!(
            again
                .add("ann@example.org", "unsubscribed", UNSUBSCRIBE)
                .unwrap()
        );
        assert!(
            Suppression::load_state(dir.path())
                .unwrap()
                .is_unsubscribed("ann@example.org")
        );
    }

    #[test]
    fn a_line_cut_off_by_a_crash_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = Suppression::path_in(dir.path());
        std::fs::write(
            &path,
            "email,reason,source,time\nann@example.org,x,manual,t\ncy@exa",
        )
        .unwrap();
        let mut s = Suppression::load(&path).unwrap();
        assert!(
            s.add("bob@example.org", "unsubscribed", UNSUBSCRIBE)
                .unwrap()
        );
        let again = Suppression::load(&path).unwrap();
        assert!(again.is_unsubscribed("bob@example.org"));
        assert!(again.contains("ann@example.org"));
    }

    #[test]
    fn an_in_memory_list_writes_nothing() {
        let mut s = Suppression::empty();
        assert!(s.add("ann@example.org", "test", "manual").unwrap());
        assert!(s.contains("ann@example.org"));
        assert_eq!(s.path(), None);
    }
}
