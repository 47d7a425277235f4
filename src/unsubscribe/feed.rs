//! The suppression list as a feed: the lines appended since a cursor, so that a machine that
//! sends elsewhere than `bulletin serve` runs can fetch the unsubscribes recorded there (and
//! their undos) since its last fetch. The cursor names the file (its inode) and a byte offset;
//! a file that was replaced or cut starts the feed again from its beginning (merging the same
//! lines twice changes nothing).

use std::io::{self, Read as _, Seek as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::list::csv_escape::unescape_field;

/// One line of the suppression list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub email: String,
    pub reason: String,
    pub source: String,
    pub time: String,
}

/// The lines after a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Where the next fetch starts.
    pub cursor: String,
    pub events: Vec<Event>,
    /// More lines wait after this page.
    pub more: bool,
    /// The cursor named another file (or a place past the end): the page starts at the
    /// beginning of the file.
    #[serde(default)]
    pub from_start: bool,
}

/// The most lines in one page.
pub const PAGE_LINES: usize = 5_000;

fn file_id(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        meta.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// The complete lines of the suppression list at `path` after `cursor` (from the start when
/// `None`), at most `max`.
pub fn read(path: &Path, cursor: Option<&str>, max: usize) -> io::Result<Page> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Page {
                cursor: "0-0".into(),
                events: Vec::new(),
                more: false,
                from_start: cursor.is_some_and(|c| c != "0-0"),
            });
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let (id, len) = (file_id(&meta), meta.len());
    let resumed = cursor
        .and_then(|c| c.split_once('-'))
        .and_then(|(i, o)| Some((i.parse::<u64>().ok()?, o.parse::<u64>().ok()?)))
        .filter(|(i, o)| *i == id && *o <= len)
        .map(|(_, o)| o);
    let start = resumed.unwrap_or(0);
    file.seek(io::SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(len - start).read_to_end(&mut bytes)?;
    let mut events = Vec::new();
    let mut consumed = 0usize;
    let mut more = false;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if !line.ends_with(b"\n") {
            break; // being written: next time
        }
        if events.len() == max {
            more = true;
            break;
        }
        consumed += line.len();
        if let Some(e) = parse_line(line) {
            events.push(e);
        }
    }
    Ok(Page {
        cursor: format!("{id}-{}", start + consumed as u64),
        events,
        more,
        from_start: cursor.is_some() && resumed.is_none(),
    })
}

fn parse_line(line: &[u8]) -> Option<Event> {
    // Most lines have no quoted field: split them at once.
    if !line.contains(&b'"') {
        let text = std::str::from_utf8(line)
            .ok()?
            .trim_end_matches(['\n', '\r']);
        let mut fields = text
            .split(',')
            .map(|f| unescape_field(f.trim()).to_string());
        let email = fields.next().unwrap_or_default();
        if email.is_empty() || email.eq_ignore_ascii_case("email") {
            return None;
        }
        let mut next = || fields.next().unwrap_or_default();
        return Some(Event {
            email,
            reason: next(),
            source: next(),
            time: next(),
        });
    }
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let rec = r.records().next()?.ok()?;
    let field = |i: usize| unescape_field(rec.get(i).unwrap_or("").trim()).to_string();
    let email = field(0);
    if email.is_empty() || email.eq_ignore_ascii_case("email") {
        return None;
    }
    Some(Event {
        email,
        reason: field(1),
        source: field(2),
        time: field(3),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::Suppression;

    #[test]
    fn pages_follow_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        let first = read(&path, None, 10).unwrap();
        assert!(first.events.is_empty());
        let mut s = Suppression::load(&path).unwrap();
        for i in 0..3 {
            s.add(&format!("m{i}@example.org"), "unsubscribed", "unsubscribe")
                .unwrap();
        }
        let p = read(&path, Some(&first.cursor), 2).unwrap();
        assert_eq!(p.events.len(), 2);
        assert!(p.more);
        assert_eq!(p.events[0].email, "m0@example.org");
        assert_eq!(p.events[0].source, "unsubscribe");
        let q = read(&path, Some(&p.cursor), 10).unwrap();
        assert_eq!(q.events.len(), 1);
        assert!(!q.more);
        assert_eq!(q.events[0].email, "m2@example.org");
        let r = read(&path, Some(&q.cursor), 10).unwrap();
        assert!(r.events.is_empty());
        assert_eq!(r.cursor, q.cursor);
        // quoted fields
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                use std::io::Write as _;
                f.write_all(b"\"a,b\"@example.org,\"why, \"\"this\"\"\",manual,t\n")
            })
            .unwrap();
        let quoted = read(&path, Some(&q.cursor), 10).unwrap();
        assert_eq!(quoted.events[0].email, "a,b@example.org");
        assert_eq!(quoted.events[0].reason, "why, \"this\"");
        let q = quoted;
        // a half-written line waits
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"m9@exa").unwrap();
        assert!(read(&path, Some(&q.cursor), 10).unwrap().events.is_empty());
        // a cursor from another file starts again
        let again = read(&path, Some("1-99999"), 10).unwrap();
        assert_eq!(again.events.len(), 4);
        assert!(again.from_start && !q.from_start);
    }
}
