//! The sending account's daily quota: at most `count` messages accepted in any 24 hours.
//!
//! A provider counts per account, whatever the issue, so the quota is counted over every
//! journal of the project (`STATE/journals/*.jsonl`, every issue and shard): each `accepted`
//! record's `time` is one message. The window slides: at any moment, the accepted records of
//! the last 24 hours are the quota's use, and the next window opens when enough of them are
//! 24 hours old. A run is given at most [`QuotaUse::available`] messages, so no 24-hour
//! window, wherever it starts, can hold more than the quota: the window that ends at any
//! later moment holds this run's messages plus a part of those counted now.

use std::io::{self, BufRead as _};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::issue_record::journals_dir;

/// The length of the quota's window.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The quota's use at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUse {
    pub quota: u32,
    pub now: OffsetDateTime,
    /// When each message of the window was accepted, oldest first.
    times: Vec<OffsetDateTime>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow)]
    time: Option<&'a str>,
}

impl QuotaUse {
    /// Read the accepted records of the last 24 hours from every journal in the state folder.
    /// A line that cannot be read is passed over here (the send that reads its issue's journal
    /// reports it).
    pub fn read(state_dir: &Path, quota: u32, now: OffsetDateTime) -> io::Result<QuotaUse> {
        let dir = journals_dir(state_dir);
        let mut times = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e.collect::<io::Result<Vec<_>>>()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        };
        for entry in entries {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "jsonl") || !path.is_file() {
                continue;
            }
            let file = std::fs::File::open(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            for line in io::BufReader::new(file).split(b'\n') {
                let line = line?;
                times.extend(accepted_at(&line));
            }
        }
        Ok(QuotaUse::of(quota, now, times))
    }

    /// The use at `now` of these acceptance times.
    pub fn of(quota: u32, now: OffsetDateTime, mut times: Vec<OffsetDateTime>) -> QuotaUse {
        let start = now - WINDOW;
        times.retain(|t| *t > start);
        times.sort();
        QuotaUse { quota, now, times }
    }

    /// Messages accepted in the last 24 hours.
    pub fn used(&self) -> u64 {
        self.times.len() as u64
    }

    /// Messages that may still be sent now.
    pub fn available(&self) -> u64 {
        u64::from(self.quota).saturating_sub(self.used())
    }

    /// When the next message may go, if none may now: once enough of the window's messages
    /// are 24 hours old.
    pub fn next_opening(&self) -> Option<OffsetDateTime> {
        if self.available() > 0 {
            return None;
        }
        let expire = self.times.len() - self.quota as usize;
        Some(self.times[expire] + WINDOW)
    }
}

/// The time of an `accepted` journal line.
fn accepted_at(line: &[u8]) -> Option<OffsetDateTime> {
    // Most lines are attempts: skip them without parsing.
    if !line.windows(10).any(|w| w == b"\"accepted\"") {
        return None;
    }
    let parsed: Line<'_> = serde_json::from_slice(line).ok()?;
    if parsed.kind != "accepted" {
        return None;
    }
    OffsetDateTime::parse(parsed.time?, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_window_slides() {
        let now = datetime!(2026-12-02 12:00 UTC);
        let times = vec![
            datetime!(2026-12-01 11:00 UTC), // more than a day ago: not counted
            datetime!(2026-12-01 13:00 UTC),
            datetime!(2026-12-02 09:00 UTC),
            datetime!(2026-12-02 10:00 UTC),
        ];
        let u = QuotaUse::of(3, now, times.clone());
        assert_eq!((u.used(), u.available()), (3, 0));
        // the oldest of the three leaves the window a day after it was accepted
        assert_eq!(u.next_opening(), Some(datetime!(2026-12-02 13:00 UTC)));
        let u = QuotaUse::of(2, now, times.clone());
        // two must leave before one may go: the second oldest decides
        assert_eq!(u.next_opening(), Some(datetime!(2026-12-03 09:00 UTC)));
        let u = QuotaUse::of(5, now, times);
        assert_eq!((u.available(), u.next_opening()), (2, None));
    }

    #[test]
    fn only_accepted_lines_count() {
        let t = |l: &str| accepted_at(l.as_bytes());
        assert_eq!(
            t(
                r#"{"type":"accepted","round":1,"time":"2026-12-02T09:00:00Z","key":"k","reply":"250 ok"}"#
            ),
            Some(datetime!(2026-12-02 09:00 UTC))
        );
        assert_eq!(
            t(r#"{"type":"refused","time":"2026-12-02T09:00:00Z","text":"\"accepted\""}"#),
            None
        );
        assert_eq!(t(r#"{"type":"accepted","time":"yesterday"}"#), None);
        assert_eq!(t("{\"type\":\"accepted\" broken"), None);
    }

    #[test]
    fn every_journal_of_the_project_counts() {
        let dir = tempfile::tempdir().unwrap();
        let journals = journals_dir(dir.path());
        std::fs::create_dir_all(&journals).unwrap();
        let line = |t: &str| {
            format!("{{\"type\":\"accepted\",\"round\":1,\"time\":\"{t}\",\"key\":\"k\"}}\n")
        };
        std::fs::write(
            journals.join("2026-11.jsonl"),
            line("2026-12-02T08:00:00Z") + &line("2026-11-02T08:00:00Z"),
        )
        .unwrap();
        std::fs::write(
            journals.join("2026-12--shard1of2.jsonl"),
            line("2026-12-02T09:00:00Z"),
        )
        .unwrap();
        std::fs::write(journals.join("2026-12.lock"), line("2026-12-02T09:00:00Z")).unwrap();
        let u = QuotaUse::read(dir.path(), 10, datetime!(2026-12-02 12:00 UTC)).unwrap();
        assert_eq!(u.used(), 2);
        let none = QuotaUse::read(&dir.path().join("nothing"), 10, u.now).unwrap();
        assert_eq!(none.used(), 0);
    }
}
