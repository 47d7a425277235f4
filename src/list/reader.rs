//! Reading member lists as people export them from spreadsheets and mailing services.
//!
//! [`open`] looks at the file before reading any member:
//!
//! - **Encoding**: UTF-8 (with or without a byte order mark), UTF-16 with a byte order mark
//!   (Excel's "Unicode text"), or else Windows-1252 (Excel's "CSV" on Western systems): a file
//!   that is not valid UTF-8 from start to end is read as Windows-1252. Workbooks (`.xlsx`,
//!   `.xls`) and other binary files are refused.
//! - **Delimiter**: comma, semicolon or tab, whichever the header line holds most of (outside
//!   quotes); an Excel `sep=;` first line is honoured.
//! - **Columns**, by header name, ignoring case, spaces, `-`, `_` and `.`: the address
//!   (`email`, `E-mail Address`, `Email Address`, `mail`, …), the name (`name`, or first and last
//!   name), and the columns that say whether the member may be mailed (see
//!   [`consent`](super::consent)). A file without a header whose first row holds an address is
//!   read as headerless.
//! - Line endings: CRLF, LF or CR.
//!
//! Then [`ListReader`] yields one [`Entry`] per row, streaming: **memory use is O(1) in the
//! length of the list** (one row at a time, a fixed-size read buffer and a fixed-size decoding
//! buffer; nothing is kept per row). Deciding the encoding reads the file once more, in chunks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;

use super::address;
use super::consent::{ConsentColumns, Leave, RowSays, Rules, UnclearValues};
use super::decode::{Transcoder, sniff_encoding};
use super::quotes::{MAX_QUOTED, QuoteOpen, Tracked, Tracker};
use crate::diagnostic::SourceError;
use crate::subscriber::Subscriber;

/// One row of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A member with a valid address.
    Member(Subscriber),
    /// A row whose address is missing or malformed; `reason` says what is wrong.
    Invalid {
        line: u64,
        value: String,
        reason: String,
    },
    /// A row whose consent columns say the member is not to be mailed (unsubscribed,
    /// blocklisted, unconfirmed, cleaned, bounced, …): why, the column that says so and its
    /// value.
    OptedOut {
        line: u64,
        email: String,
        leave: Leave,
        column: String,
        value: String,
    },
    /// A row whose consent column holds a value bulletin does not understand: never mailed.
    Unclear {
        line: u64,
        email: String,
        column: String,
        value: String,
    },
}

impl Entry {
    /// The 1-based line of the row in its file.
    pub fn line(&self) -> u64 {
        match self {
            Entry::Member(s) => s.line,
            Entry::Invalid { line, .. }
            | Entry::OptedOut { line, .. }
            | Entry::Unclear { line, .. } => *line,
        }
    }
}

/// Open a list, decide its encoding, delimiter and columns, and read its header. Consent
/// columns are read by the built-in rules only; a send reads them with the project's
/// [`Rules`] through [`open_with`].
pub fn open(path: &Path) -> Result<ListReader, SourceError> {
    open_with(path, &Rules::default())
}

/// [`open`], reading consent columns with `rules` (`[lists]` of `bulletin.toml`).
pub fn open_with(path: &Path, rules: &Rules) -> Result<ListReader, SourceError> {
    let io_err = |e: io::Error| SourceError::file(path, format!("cannot read the list: {e}"));
    let (encoding, label) = sniff_encoding(path, File::open(path).map_err(io_err)?)?;
    let file = File::open(path).map_err(io_err)?;
    ListReader::start(path, Box::new(file), encoding, label, rules)
}

/// Read a list held in memory (e.g. an upload, or a fuzzing input); `name` is the path errors
/// name.
pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<ListReader, SourceError> {
    let (encoding, label) = sniff_encoding(name, bytes.as_slice())?;
    ListReader::start(
        name,
        Box::new(io::Cursor::new(bytes)),
        encoding,
        label,
        &Rules::default(),
    )
}

/// Where a list's bytes come from.
type Source = Box<dyn io::Read + Send>;

/// Streams the rows of a list as [`Entry`] values; see the [module docs](self).
pub struct ListReader {
    path: PathBuf,
    csv: csv::Reader<Tracked<BufReader<Transcoder<Source>>>>,
    encoding: &'static str,
    delimiter: u8,
    headers: Vec<String>,
    columns: Columns,
    /// Unclear values seen so far, one entry per consent column.
    unclear: Vec<UnclearValues>,
    /// Lines before the CSV data (an Excel `sep=` line).
    line_offset: u64,
    /// A headerless file's first row, read while looking for the header.
    pending: Option<(csv::StringRecord, u64)>,
    record: csv::StringRecord,
    done: bool,
}

/// What the columns of the file mean.
#[derive(Debug, Clone, Default)]
struct Columns {
    email: usize,
    name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    consent: ConsentColumns,
}

/// Header names of the address column, normalised by [`header_key`].
const EMAIL_HEADERS: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "mailaddress",
    "emailaddr",
    "primaryemail",
    "email1",
    "email1value",
    "emailaddress1",
    "recipient",
    "courriel",
    "adressemail",
    "adressecourriel",
    "correo",
    "correoelectronico",
    "emailadresse",
    "indirizzoemail",
];
const NAME_HEADERS: &[&str] = &[
    "name",
    "fullname",
    "displayname",
    "membername",
    "contactname",
];
const FIRST_HEADERS: &[&str] = &[
    "firstname",
    "givenname",
    "fname",
    "first",
    "forename",
    "vorname",
    "prenom",
];
const LAST_HEADERS: &[&str] = &[
    "lastname",
    "surname",
    "familyname",
    "lname",
    "last",
    "nachname",
    "nom",
];
/// A header normalised for matching: lower-case, without spaces, `-`, `_`, `.`.
fn header_key(header: &str) -> String {
    super::consent::key(header)
}

fn find_column(keys: &[String], names: &[&str]) -> Option<usize> {
    // the order of `names` is the order of preference
    names.iter().find_map(|n| keys.iter().position(|k| k == n))
}

pub(super) fn located(path: &Path, line: u64, message: impl Into<String>) -> SourceError {
    SourceError {
        path: path.to_path_buf(),
        line: Some(line as usize),
        column: None,
        message: message.into(),
        snippet: None,
        hint: None,
    }
}

impl ListReader {
    fn start(
        path: &Path,
        file: Source,
        encoding: &'static Encoding,
        label: &'static str,
        rules: &Rules,
    ) -> Result<ListReader, SourceError> {
        let mut buffered = BufReader::with_capacity(64 * 1024, Transcoder::new(file, encoding));
        let read_err = |e: io::Error| SourceError::file(path, format!("cannot read the list: {e}"));

        // An Excel `sep=X` line names the delimiter; otherwise count them in the header line.
        let head = buffered.fill_buf().map_err(read_err)?;
        let first_line_end = head.iter().position(|&b| b == b'\n' || b == b'\r');
        let first_line = &head[..first_line_end.unwrap_or(head.len())];
        let mut line_offset = 0;
        let delimiter = match first_line {
            [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d] => {
                let d = *d;
                let mut skip = first_line.len();
                if head.get(skip) == Some(&b'\r') {
                    skip += 1;
                }
                if head.get(skip) == Some(&b'\n') {
                    skip += 1;
                }
                buffered.consume(skip);
                line_offset = 1;
                d
            }
            _ => sniff_delimiter(first_line),
        };

        let tracked = Tracked {
            inner: buffered,
            tracker: Tracker::new(delimiter),
            after_cr: false,
        };
        let csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(tracked);
        let mut reader = ListReader {
            path: path.to_path_buf(),
            csv,
            encoding: label,
            delimiter,
            headers: Vec::new(),
            columns: Columns::default(),
            unclear: Vec::new(),
            line_offset,
            pending: None,
            record: csv::StringRecord::new(),
            done: false,
        };
        let mut header = csv::StringRecord::new();
        let got = reader.read_raw(&mut header)?;
        let header_line = got.unwrap_or(1);
        if got.is_none() || header.iter().all(|h| h.trim().is_empty()) {
            return Err(SourceError::file(path, "the list is empty")
                .with_hint("the first line names the columns, e.g. `email,name`"));
        }
        reader.headers = header
            .iter()
            .map(|h| {
                h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                    .to_string()
            })
            .collect();
        let keys: Vec<String> = reader.headers.iter().map(|h| header_key(h)).collect();
        match find_column(&keys, EMAIL_HEADERS) {
            Some(email) => {
                reader.columns = Columns {
                    email,
                    name: find_column(&keys, NAME_HEADERS),
                    first: find_column(&keys, FIRST_HEADERS),
                    last: find_column(&keys, LAST_HEADERS),
                    consent: ConsentColumns::find(&reader.headers, email, rules),
                };
                reader.unclear = reader
                    .columns
                    .consent
                    .columns
                    .iter()
                    .map(|c| UnclearValues::new(&c.header))
                    .collect();
            }
            None => {
                // No header: accept a file whose first row holds an address.
                let Some(email) = header
                    .iter()
                    .position(|f| address::validate(f.trim()).is_ok())
                else {
                    let found = reader
                        .headers
                        .iter()
                        .map(|h| format!("{h:?}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut e = located(
                        path,
                        header_line,
                        format!("no email column: the header names {found}"),
                    )
                    .with_hint("name the column of addresses `email` (or `Email Address`)");
                    e.snippet = Some(
                        header
                            .iter()
                            .collect::<Vec<_>>()
                            .join(&(delimiter as char).to_string()),
                    );
                    return Err(e);
                };
                reader.headers = (0..header.len())
                    .map(|i| {
                        if i == email {
                            "email".to_string()
                        } else {
                            format!("column{}", i + 1)
                        }
                    })
                    .collect();
                reader.columns = Columns {
                    email,
                    ..Columns::default()
                };
                reader.pending = Some((header, header_line));
            }
        }
        Ok(reader)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The encoding found: `UTF-8`, `UTF-8 with BOM`, `UTF-16LE`, `UTF-16BE` or `Windows-1252`.
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// The delimiter found: `b','`, `b';'` or `b'\t'` (or what a `sep=` line named).
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The column headers, trimmed (for a headerless file: `email`, `column2`, …).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The header of the address column.
    pub fn email_column(&self) -> &str {
        &self.headers[self.columns.email]
    }

    /// The columns read as consent, and how.
    pub fn consent(&self) -> &ConsentColumns {
        &self.columns.consent
    }

    /// The values of consent columns read so far that bulletin does not understand, per column
    /// (columns without any are left out).
    pub fn unclear(&self) -> impl Iterator<Item = &UnclearValues> {
        self.unclear.iter().filter(|u| !u.is_empty())
    }

    /// Read one CSV record and return the line it starts on, turning CSV, I/O and
    /// unterminated-quote trouble into located errors.
    fn read_raw(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>, SourceError> {
        let result = self.csv.read_record(record);
        if let Some(open) = self.csv.get_ref().tracker.unterminated() {
            return Err(self.unterminated(open));
        }
        match result {
            Ok(true) => {
                let start = self.csv.get_mut().tracker.record_starts.pop_front();
                let line = start.unwrap_or_else(|| record.position().map_or(0, |p| p.line()));
                Ok(Some(line + self.line_offset))
            }
            Ok(false) => Ok(None),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) + self.line_offset;
                let message = match e.into_kind() {
                    csv::ErrorKind::Io(io) => format!("cannot read the list: {io}"),
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid text".to_string(),
                    other => format!("{other:?}"),
                };
                Err(if line > 0 {
                    located(&self.path, line, message)
                } else {
                    SourceError::file(&self.path, message)
                })
            }
        }
    }

    fn unterminated(&self, open: QuoteOpen) -> SourceError {
        let mut e = located(
            &self.path,
            open.line + self.line_offset,
            if open.too_long {
                format!(
                    "a quoted value starts here and runs on for more than {} MiB: is its closing quote missing?",
                    MAX_QUOTED >> 20
                )
            } else {
                "a quoted value starts here and is never closed".to_string()
            },
        )
        .with_hint("add the closing `\"`, or write a quote inside a value as `\"\"`");
        e.column = Some(open.column);
        e.snippet = Some(open.snippet);
        e
    }

    fn entry(&mut self, record: &csv::StringRecord, line: u64) -> Option<Entry> {
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        if record.iter().all(|f| f.trim().is_empty()) {
            return None;
        }
        let raw = field(self.columns.email);
        let (written, name_in_cell) = split_address_cell(raw);
        // an internationalised domain in its ASCII form, so it needs no SMTPUTF8
        let ascii = address::ascii_domain(written);
        let email = ascii.as_ref();

        let unclear = &mut self.unclear;
        let says = self
            .columns
            .consent
            .read(field, |n, cell| unclear[n].add(cell, line));
        match says {
            RowSays::Send => {}
            RowSays::Leave(leave, c) => {
                return Some(Entry::OptedOut {
                    line,
                    email: email.to_string(),
                    leave,
                    column: c.header.clone(),
                    value: field(c.index).to_string(),
                });
            }
            RowSays::Unclear(c) => {
                return Some(Entry::Unclear {
                    line,
                    email: email.to_string(),
                    column: c.header.clone(),
                    value: field(c.index).to_string(),
                });
            }
        }

        if let Err(mut reason) = address::validate(written).and_then(|()| address::sendable(email))
        {
            if record.len() > self.headers.len() {
                reason.push_str(&format!(
                    " (the row has {} values but the header {}: a value containing `{}` needs quotes)",
                    record.len(),
                    self.headers.len(),
                    self.delimiter as char
                ));
            }
            return Some(Entry::Invalid {
                line,
                value: raw.to_string(),
                reason,
            });
        }

        let name = self
            .columns
            .name
            .map(field)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| {
                let first = self.columns.first.map(field).unwrap_or("");
                let last = self.columns.last.map(field).unwrap_or("");
                let joined = format!("{first} {last}");
                let joined = joined.trim();
                (!joined.is_empty()).then(|| joined.to_string())
            })
            .or_else(|| name_in_cell.map(str::to_string));

        let mut fields = BTreeMap::new();
        for (i, header) in self.headers.iter().enumerate() {
            if header.is_empty() {
                continue;
            }
            fields
                .entry(header.clone())
                .or_insert_with(|| field(i).to_string());
        }
        Some(Entry::Member(Subscriber {
            email: email.to_string(),
            name,
            fields,
            line,
        }))
    }
}

impl Iterator for ListReader {
    type Item = Result<Entry, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((first, line)) = self.pending.take()
            && let Some(entry) = self.entry(&first, line)
        {
            return Some(Ok(entry));
        }
        while !self.done {
            let mut record = std::mem::take(&mut self.record);
            let got = self.read_raw(&mut record);
            let result = match got {
                Ok(Some(line)) => self.entry(&record, line).map(Ok),
                Ok(None) => {
                    self.done = true;
                    None
                }
                Err(e) => {
                    self.done = true;
                    Some(Err(e))
                }
            };
            self.record = record;
            if result.is_some() {
                return result;
            }
        }
        None
    }
}

/// `Ann Lee <ann@example.org>` → (`ann@example.org`, Some(`Ann Lee`)); `mailto:` is dropped.
fn split_address_cell(cell: &str) -> (&str, Option<&str>) {
    // invisible characters pasted along at either end are dropped; inside, they are an error
    let cell = cell.trim_matches(|c: char| c.is_whitespace() || address::is_invisible(c));
    if let (Some(open), true) = (cell.rfind('<'), cell.ends_with('>')) {
        let name = cell[..open].trim().trim_matches('"').trim();
        let inner = cell[open + 1..cell.len() - 1].trim();
        return (inner, (!name.is_empty()).then_some(name));
    }
    if let Some(prefix) = cell.get(..7)
        && prefix.eq_ignore_ascii_case("mailto:")
    {
        return (cell[7..].trim(), None);
    }
    (cell, None)
}

/// The delimiter the header line holds most of, outside quotes; a comma when it holds none.
fn sniff_delimiter(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let (best, _) = counts
        .iter()
        .enumerate()
        .fold((0, 0), |acc, (i, &n)| if n > acc.1 { (i, n) } else { acc });
    candidates[best]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    }

    fn read_all(path: &Path) -> Vec<Entry> {
        open(path).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    }

    fn member(e: &Entry) -> &Subscriber {
        match e {
            Entry::Member(s) => s,
            other => panic!("not a member: {other:?}"),
        }
    }

    #[test]
    fn reads_a_plain_comma_list() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "a.csv",
            b"email,name,city\nann@example.org,Ann Lee,Oslo\nbob@example.com,,\n",
        );
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "UTF-8");
        assert_eq!(r.delimiter(), b',');
        assert_eq!(r.headers(), ["email", "name", "city"]);
        let entries: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(entries.len(), 2);
        let ann = member(&entries[0]);
        assert_eq!(ann.email, "ann@example.org");
        assert_eq!(ann.name.as_deref(), Some("Ann Lee"));
        assert_eq!(ann.fields["city"], "Oslo");
        assert_eq!(ann.line, 2);
        let bob = member(&entries[1]);
        assert_eq!(bob.name, None);
        assert_eq!(bob.line, 3);
    }

    #[test]
    fn finds_the_email_column_by_many_names() {
        let dir = tempfile::tempdir().unwrap();
        for header in [
            "Email",
            "E-mail",
            "E-mail Address",
            "Email Address",
            "EMAIL_ADDRESS",
            " mail ",
            "e.mail",
        ] {
            let p = write(
                &dir,
                "h.csv",
                format!("id,{header}\n1,ann@example.org\n").as_bytes(),
            );
            let r = open(&p).unwrap();
            assert_eq!(r.email_column(), header.trim(), "{header}");
            let e = r.map(Result::unwrap).next().unwrap();
            assert_eq!(member(&e).email, "ann@example.org");
        }
    }

    #[test]
    fn builds_the_name_from_first_and_last() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "n.csv", b"First Name;Last Name;Email\nAnn;Lee;ann@example.org\n;Kim;kim@example.org\n;;x@example.org\n");
        let e = read_all(&p);
        assert_eq!(member(&e[0]).name.as_deref(), Some("Ann Lee"));
        assert_eq!(member(&e[1]).name.as_deref(), Some("Kim"));
        assert_eq!(member(&e[2]).name, None);
        assert_eq!(member(&e[0]).fields["First Name"], "Ann");
    }

    #[test]
    fn sniffs_semicolons_and_tabs_and_honours_sep_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "s.csv", b"name;email\n\"Lee, Ann\";ann@example.org\n");
        let r = open(&p).unwrap();
        assert_eq!(r.delimiter(), b';');
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Lee, Ann"));

        let p = write(&dir, "t.tsv", b"email\tname\nann@example.org\tAnn, Lee\n");
        let r = open(&p).unwrap();
        assert_eq!(r.delimiter(), b'\t');
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Ann, Lee"));

        let p = write(
            &dir,
            "sep.csv",
            b"sep=;\r\nemail;name\r\nann@example.org;Ann\r\n",
        );
        let r = open(&p).unwrap();
        assert_eq!(r.delimiter(), b';');
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).line, 3);
    }

    #[test]
    fn reads_crlf_bom_and_windows_1252() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "bom.csv",
            b"\xEF\xBB\xBFemail,name\r\nann@example.org,J\xC3\xB6rg\r\n",
        );
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "UTF-8 with BOM");
        assert_eq!(r.headers(), ["email", "name"]);
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Jörg"));
        assert_eq!(member(&e[0]).email, "ann@example.org");

        // line numbers count CRLF, LF and lone CR endings alike
        let p = write(
            &dir,
            "mixed.csv",
            b"email\r\na@example.org\r\nb@example.org\nc@example.org\rd@example.org",
        );
        let lines: Vec<u64> = read_all(&p).iter().map(Entry::line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);

        // "Jörg Müller – café" in Windows-1252, with an en dash (0x96)
        let p = write(
            &dir,
            "cp.csv",
            b"email;name\r\njorg@example.org;J\xF6rg M\xFCller \x96 caf\xE9\r\n",
        );
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "Windows-1252");
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Jörg Müller – café"));
    }

    #[test]
    fn reads_utf16_with_bom() {
        let dir = tempfile::tempdir().unwrap();
        let text = "email\tname\r\nann@example.org\tÅsa\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let p = write(&dir, "u16.txt", &bytes);
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "UTF-16LE");
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Åsa"));
    }

    #[test]
    fn windows_1252_is_decided_by_the_whole_file() {
        // valid UTF-8 for more than one read buffer, then a Windows-1252 byte
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"email,name\n".to_vec();
        for i in 0..5000 {
            bytes.extend_from_slice(format!("m{i}@example.org,Member {i}\n").as_bytes());
        }
        bytes.extend_from_slice(b"last@example.org,Ren\xE9e\n");
        let p = write(&dir, "late.csv", &bytes);
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "Windows-1252");
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(e.len(), 5001);
        assert_eq!(member(&e[5000]).name.as_deref(), Some("Renée"));
        assert_eq!(member(&e[5000]).line, 5002);
    }

    #[test]
    fn multibyte_characters_across_read_buffers_stay_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"email,name\n".to_vec();
        for i in 0..20000 {
            bytes.extend_from_slice(format!("m{i}@example.org,Zoë €{i}\n").as_bytes());
        }
        let p = write(&dir, "utf8.csv", &bytes);
        let r = open(&p).unwrap();
        assert_eq!(r.encoding(), "UTF-8");
        assert_eq!(r.count(), 20000);
    }

    #[test]
    fn status_column_marks_members_who_left() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "st.csv",
            b"email,Subscription Status\na@example.org,subscribed\nb@example.org,Unsubscribed\nc@example.org,cleaned\nd@example.org,BOUNCED\ne@example.org,\nf@example.org,opted-out\ng@example.org,Pending\nh@example.org,Non-subscribed\n",
        );
        let e = read_all(&p);
        assert!(matches!(e[0], Entry::Member(_)));
        assert_eq!(
            e[1],
            Entry::OptedOut {
                line: 3,
                email: "b@example.org".into(),
                leave: Leave::Unsubscribed,
                column: "Subscription Status".into(),
                value: "Unsubscribed".into()
            }
        );
        assert!(matches!(e[2], Entry::OptedOut { line: 4, .. }));
        assert!(matches!(e[3], Entry::OptedOut { line: 5, .. }));
        assert!(matches!(e[4], Entry::Member(_)));
        assert!(matches!(e[5], Entry::OptedOut { line: 7, .. }));
        assert!(matches!(e[6], Entry::OptedOut { line: 8, .. }));
        assert!(matches!(e[7], Entry::OptedOut { line: 9, .. }));

        let p = write(
            &dir,
            "yn.csv",
            b"email,subscribed\na@example.org,yes\nb@example.org,no\nc@example.org,FALSE\n",
        );
        let e = read_all(&p);
        assert!(matches!(e[0], Entry::Member(_)));
        assert!(matches!(e[1], Entry::OptedOut { line: 3, .. }));
        assert!(matches!(e[2], Entry::OptedOut { line: 4, .. }));
    }

    #[test]
    fn invalid_addresses_carry_line_value_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "inv.csv",
            b"name,email\nAnn,ann@example\nBob,\n,,\nLee, Kim,kim@example.org\n",
        );
        let e = read_all(&p);
        assert_eq!(
            e[0],
            Entry::Invalid {
                line: 2,
                value: "ann@example".into(),
                reason: "the domain \"example\" has no dot".into()
            }
        );
        assert_eq!(
            e[1],
            Entry::Invalid {
                line: 3,
                value: "".into(),
                reason: "the address is empty".into()
            }
        );
        // the blank row `,,` is skipped; the unquoted comma shifts the columns
        assert_eq!(
            e[2],
            Entry::Invalid {
                line: 5,
                value: "Kim".into(),
                reason: "the address has no @ (the row has 3 values but the header 2: a value containing `,` needs quotes)".into()
            }
        );
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn angle_brackets_and_mailto_are_unwrapped() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "ab.csv",
            "email\n\"Ann Lee <ann@example.org>\"\nmailto:bob@example.org\n\u{200B}cy@example.org\u{FEFF}\u{A0}\n".as_bytes(),
        );
        let e = read_all(&p);
        assert_eq!(member(&e[2]).email, "cy@example.org");
        assert_eq!(member(&e[0]).email, "ann@example.org");
        assert_eq!(member(&e[0]).name.as_deref(), Some("Ann Lee"));
        assert_eq!(member(&e[1]).email, "bob@example.org");
    }

    #[test]
    fn a_headerless_list_of_addresses_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "plain.txt", b"ann@example.org\nbob@example.org\n");
        let r = open(&p).unwrap();
        assert_eq!(r.headers(), ["email"]);
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).line, 1);
        assert_eq!(member(&e[1]).email, "bob@example.org");
    }

    #[test]
    fn a_postal_address_column_is_not_an_email_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "postal.csv", b"name,address\nAnn,1 Main St\n");
        let e = open(&p).err().unwrap();
        assert!(e.message.starts_with("no email column"), "{}", e.message);
        let p = write(
            &dir,
            "both.csv",
            b"Address,Email Address\n1 Main St,ann@example.org\n",
        );
        assert_eq!(open(&p).unwrap().email_column(), "Email Address");
    }

    #[test]
    fn no_email_column_names_the_file_and_headers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "none.csv", b"name,phone\nAnn,123\n");
        let e = open(&p).err().unwrap();
        assert_eq!(e.path, p);
        assert_eq!(e.line, Some(1));
        assert_eq!(
            e.message,
            "no email column: the header names \"name\", \"phone\""
        );
        assert!(e.hint.is_some());
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\n\n", b"\r\n"] {
            let p = write(&dir, "empty.csv", bytes);
            let e = open(&p).err().unwrap();
            assert_eq!(e.message, "the list is empty", "{bytes:?}");
            assert_eq!(e.path, p);
        }
    }

    #[test]
    fn an_unterminated_quote_names_the_line_where_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "q.csv",
            b"email,name\na@example.org,Ann\nb@example.org,\"Bob\nc@example.org,Cy\nd@example.org,Di\n",
        );
        let mut r = open(&p).unwrap();
        assert!(matches!(r.next(), Some(Ok(Entry::Member(_)))));
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.path, p);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.column, Some(15));
        assert_eq!(e.message, "a quoted value starts here and is never closed");
        assert_eq!(e.snippet.as_deref(), Some("b@example.org,\"Bob"));
        assert!(r.next().is_none());

        // a closed multi-line value and escaped quotes are fine
        let p = write(
            &dir,
            "ok.csv",
            b"email,note\na@example.org,\"two\nlines \"\"quoted\"\"\"\nb@example.org,x\n",
        );
        let e = read_all(&p);
        assert_eq!(member(&e[0]).fields["note"], "two\nlines \"quoted\"");
        assert_eq!(member(&e[1]).line, 4);
    }

    #[test]
    fn a_quote_that_runs_on_for_megabytes_stops_early() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"email,name\na@example.org,\"Ann\n".to_vec();
        for i in 0..100_000 {
            bytes.extend_from_slice(format!("m{i}@example.org,Member {i}\n").as_bytes());
        }
        let p = write(&dir, "long.csv", &bytes);
        let e = open(&p).unwrap().find_map(Result::err).unwrap();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("more than 1 MiB"), "{}", e.message);
    }

    #[test]
    fn binary_files_and_workbooks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "book.xlsx", b"PK\x03\x04rest of a zip");
        let e = open(&p).err().unwrap();
        assert_eq!(e.message, "this is a spreadsheet workbook, not a CSV file");
        let p = write(&dir, "bin.csv", b"email\nann@example.org\n\x00\x01\x02");
        let e = open(&p).err().unwrap();
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.message,
            "the file contains NUL bytes: it is not a text file"
        );
        let p = write(
            &dir,
            "badbom.csv",
            b"\xEF\xBB\xBFemail\nRen\xE9e@example.org\n",
        );
        let e = open(&p).err().unwrap();
        assert_eq!(e.line, Some(2));
        let e = open(&dir.path().join("missing.csv")).err().unwrap();
        assert!(
            e.message.starts_with("cannot read the list"),
            "{}",
            e.message
        );
    }

    #[test]
    fn every_column_is_kept_by_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "f.csv", b"Email Address,First Name,Last Name,MEMBER_RATING,TAGS\n ann@example.org , Ann ,Lee,2,\"a,b\"\n");
        let e = read_all(&p);
        let ann = member(&e[0]);
        assert_eq!(ann.email, "ann@example.org");
        assert_eq!(ann.fields.len(), 5);
        assert_eq!(ann.fields["First Name"], "Ann");
        assert_eq!(ann.fields["TAGS"], "a,b");
        assert_eq!(ann.fields["Email Address"], "ann@example.org");
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lists")
            .join(name)
    }

    fn members(name: &str) -> Vec<Subscriber> {
        read_all(&fixture(name))
            .into_iter()
            .map(|e| member(&e).clone())
            .collect()
    }

    #[test]
    fn the_reader_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<ListReader>();
    }

    #[test]
    fn fixture_semicolon() {
        let r = open(&fixture("semicolon.csv")).unwrap();
        assert_eq!((r.delimiter(), r.email_column()), (b';', "E-Mail"));
        let m = members("semicolon.csv");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name.as_deref(), Some("Anna Schmidt"));
        assert_eq!(m[0].fields["Stadt"], "Köln");
        assert_eq!(m[1].name.as_deref(), Some("Jan Müller; Jr."));
    }

    #[test]
    fn fixture_tab() {
        let r = open(&fixture("tab.tsv")).unwrap();
        assert_eq!(r.delimiter(), b'\t');
        let m = members("tab.tsv");
        assert_eq!(m[1].fields["team"], "Network, WAN");
    }

    #[test]
    fn fixture_bom_crlf() {
        let r = open(&fixture("bom-crlf.csv")).unwrap();
        assert_eq!(r.encoding(), "UTF-8 with BOM");
        assert_eq!(r.headers()[0], "email");
        let m = members("bom-crlf.csv");
        assert_eq!(m[0].name.as_deref(), Some("Zoë Faure"));
        assert_eq!(m[1].name.as_deref(), Some("Søren Kierkegaard"));
        assert_eq!((m[0].line, m[1].line), (2, 3));
        assert!(!m[1].fields["last name"].contains('\r'));
    }

    #[test]
    fn fixture_crlf_with_a_blank_line() {
        let m = members("crlf.csv");
        let lines: Vec<_> = m.iter().map(|s| (s.email.as_str(), s.line)).collect();
        assert_eq!(
            lines,
            [
                ("ann@example.org", 2),
                ("bob@example.com", 3),
                ("cy@example.net", 5)
            ]
        );
        assert_eq!(m[0].name.as_deref(), Some("Lee, Ann"));
    }

    #[test]
    fn fixture_windows_1252() {
        let r = open(&fixture("windows-1252.csv")).unwrap();
        assert_eq!(r.encoding(), "Windows-1252");
        let m = members("windows-1252.csv");
        assert_eq!(m[0].name.as_deref(), Some("Renée Lefèvre"));
        assert_eq!(m[0].fields["Note"], "café – 5 €");
        assert_eq!(m[1].name.as_deref(), Some("François Müller"));
    }

    #[test]
    fn fixture_utf16() {
        let r = open(&fixture("utf16le.txt")).unwrap();
        assert_eq!(r.encoding(), "UTF-16LE");
        let m = members("utf16le.txt");
        assert_eq!(m[0].email, "asa@example.se");
        assert_eq!(m[0].name.as_deref(), Some("Åsa Öberg"));
    }

    #[test]
    fn fixture_mailchimp_export() {
        let r = open(&fixture("mailchimp.csv")).unwrap();
        assert_eq!(r.email_column(), "Email Address");
        assert_eq!(r.headers().len(), 22);
        let m = members("mailchimp.csv");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name.as_deref(), Some("Ann Lee"));
        assert_eq!(m[0].fields["MEMBER_RATING"], "2");
        assert_eq!(m[0].fields["TAGS"], "\"Storage\",\"Beta testers\"");
        assert_eq!(m[1].email, "Bob@Example.com");
    }

    #[test]
    fn fixture_status() {
        let e = read_all(&fixture("status.csv"));
        let kinds: Vec<&str> = e
            .iter()
            .map(|e| match e {
                Entry::Member(_) => "member",
                Entry::OptedOut { .. } => "left",
                Entry::Unclear { .. } => "unclear",
                Entry::Invalid { .. } => "invalid",
            })
            .collect();
        assert_eq!(kinds, ["member", "left", "left", "left", "member"]);
    }

    #[test]
    fn fixture_invalid_addresses() {
        let e = read_all(&fixture("invalid.csv"));
        let invalid: Vec<(u64, &str)> = e
            .iter()
            .filter_map(|e| match e {
                Entry::Invalid { line, reason, .. } => Some((*line, reason.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            invalid,
            [
                (3, "the address has no @"),
                (4, "the domain \"example\" has no dot"),
                (5, "the address contains a line break"),
                (7, "the address has more than one @"),
            ]
        );
    }

    #[test]
    fn fixture_formulas_are_read_as_text() {
        let m = members("formulas.csv");
        assert_eq!(m[0].fields["name"], "=cmd|' /C calc'!A0");
        assert_eq!(m[1].fields["company"], "+47 Corp");
    }

    #[test]
    fn fixture_headerless() {
        let m = members("headerless.txt");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].line, 1);
    }

    #[test]
    fn fixture_errors_name_file_and_line() {
        let p = fixture("broken-quote.csv");
        let e = open(&p).unwrap().find_map(Result::err).unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3:17: a quoted value starts here and is never closed\n  |\n3 | bob@example.org,\"Bob, no closing quote,x\n  |                 ^\n  = hint: add the closing `\"`, or write a quote inside a value as `\"\"`",
                p.display()
            )
        );

        let p = fixture("no-email-column.csv");
        let e = open(&p).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:1: no email column: the header names \"name\", \"phone\", \"city\"\n  |\n1 | name,phone,city\n  = hint: name the column of addresses `email` (or `Email Address`)",
                p.display()
            )
        );

        let p = fixture("empty.csv");
        let e = open(&p).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: the list is empty\n  = hint: the first line names the columns, e.g. `email,name`",
                p.display()
            )
        );
    }

    #[test]
    fn addresses_that_cannot_be_sent_are_refused_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "m.csv",
            "email\nann@example.org\njörg@example.org\n\"\"\"j.d\"\"@example.org\"\nx@[192.0.2.1]\n"
                .as_bytes(),
        );
        let e = read_all(&p);
        assert_eq!(member(&e[0]).email, "ann@example.org");
        for (entry, line) in e[1..].iter().zip(3..) {
            let Entry::Invalid {
                line: l, reason, ..
            } = entry
            else {
                panic!("{entry:?}")
            };
            assert_eq!(*l, line);
            assert!(reason.contains("not support"), "{reason}");
        }
    }

    #[test]
    fn lists_in_memory_read_like_files() {
        let name = Path::new("upload.csv");
        let r = from_bytes(
            name,
            b"E-mail;Name\r\nrenee@example.org;Ren\xE9e\r\n".to_vec(),
        )
        .unwrap();
        assert_eq!(r.encoding(), "Windows-1252");
        assert_eq!(r.path(), name);
        let e: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(member(&e[0]).name.as_deref(), Some("Renée"));
        let err = from_bytes(name, Vec::new()).err().unwrap();
        assert_eq!(
            err.to_string(),
            "upload.csv: the list is empty\n  = hint: the first line names the columns, e.g. `email,name`"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic fuzz: CSV-ish noise with quotes, separators, line breaks,
        // multi-byte and invalid UTF-8, read to the end or to the first error.

        let alphabet: &[&[u8]] = &[
            b"\"",
            b",",
            b";",
            b"\t",
            b"\n",
            b"\r",
            b"\r\n",
            b"@",
            b"a",
            b"email",
            b"x@example.org",
            b"<",
            b">",
            b"mailto:",
            "ą".as_bytes(),
            "€".as_bytes(),
            b"\xE9",
            b"\xFF",
            b"\xEF\xBB\xBF",
            b" ",
            b"status",
            b"unsubscribed",
            b"sep=",
            b".",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let path = PathBuf::from("fuzz.csv");
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            if next() % 2 == 0 {
                bytes.extend_from_slice(b"email,name\n");
            }
            for _ in 0..(next() % 60) {
                bytes.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            if let Ok(reader) = from_bytes(&path, bytes) {
                let _ = reader.email_column();
                for entry in reader {
                    if entry.is_err() {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn sniff_delimiter_counts_outside_quotes() {
        assert_eq!(sniff_delimiter(b"email,name"), b',');
        assert_eq!(sniff_delimiter(b"\"a,b,c\";email;name"), b';');
        assert_eq!(sniff_delimiter(b"email\tname\tx,y"), b'\t');
        assert_eq!(sniff_delimiter(b"email"), b',');
    }
}
