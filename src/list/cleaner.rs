//! Turning list rows into recipients: invalid, duplicate, opted-out, unclear and suppressed rows
//! are skipped with a reason.
//!
//! The most restrictive row wins: an address that any row of the run's lists marks as not to be
//! mailed (found by the pre-scan, [`OptOuts`]) is never mailed, whatever order the rows come in.
//! The row that marks it is skipped for its reason (unsubscribed, blocklisted, …); every other
//! row of the address is a duplicate naming that row. Other duplicates are found by
//! [`AddressKey`] (case and surrounding spaces ignored), the first row winning. The cleaner keeps
//! 12 to 24 bytes per distinct address (a 64-bit key and the 32-bit line of its first row in a
//! [`KeyMap`]): about 25 MB for a million members.

use std::fmt;
use std::sync::Arc;

use super::address::AddressKey;
use super::consent::Leave;
use super::keymap::KeyMap;
use super::opt_outs::OptOuts;
use super::reader::Entry;
use super::suppression::Suppression;
use crate::subscriber::Subscriber;

/// What to do with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Send(Subscriber),
    Skip {
        line: u64,
        email: String,
        reason: SkipReason,
    },
}

/// Why a row is not mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The address is malformed: the reason.
    Invalid(String),
    /// The address appeared before, on this line.
    Duplicate { first_line: u64 },
    /// The address appeared before in another of the lists read together (`other.csv:4`).
    DuplicateOf { at: String },
    /// Another row of the address (`at`: `line 4`, or `other.csv:4`) says it is not to be
    /// mailed, for `leave`.
    DuplicateOfOptOut { at: String, leave: Leave },
    /// The row's consent column says so: why, the column, its value.
    OptedOut {
        leave: Leave,
        column: String,
        value: String,
    },
    /// The row's consent column holds a value bulletin does not understand.
    Unclear { column: String, value: String },
    /// The address is on the suppression list: the reason recorded there.
    Suppressed(String),
}

impl SkipReason {
    /// A short name for summaries and JSON: `invalid address`, `duplicate`, `unsubscribed`,
    /// `blocklisted`, `unconfirmed`, `cleaned`, `bounced`, `email disabled`, …, `suppressed`.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::Invalid(_) => "invalid address",
            SkipReason::Duplicate { .. }
            | SkipReason::DuplicateOf { .. }
            | SkipReason::DuplicateOfOptOut { .. } => "duplicate",
            SkipReason::OptedOut { leave, .. } => leave.label(),
            SkipReason::Unclear { .. } => "unclear consent",
            SkipReason::Suppressed(_) => "suppressed",
        }
    }

    /// What about this row made it so, to go beside [`SkipReason::kind`].
    pub fn detail(&self) -> String {
        match self {
            SkipReason::Invalid(reason) => reason.clone(),
            SkipReason::Duplicate { first_line } => format!("same address as line {first_line}"),
            SkipReason::DuplicateOf { at } => format!("same address as {at}"),
            SkipReason::DuplicateOfOptOut { at, leave } => {
                format!("same address as {at}, which says {leave}")
            }
            SkipReason::OptedOut { column, value, .. } | SkipReason::Unclear { column, value } => {
                format!("{column} is {value:?}")
            }
            SkipReason::Suppressed(reason) => format!("in the suppression list ({reason})"),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Invalid(r) => write!(f, "invalid address: {r}"),
            SkipReason::Duplicate { first_line } => write!(f, "duplicate of line {first_line}"),
            SkipReason::DuplicateOf { at } => write!(f, "duplicate of {at}"),
            SkipReason::DuplicateOfOptOut { at, leave } => {
                write!(f, "duplicate of {at}, which says {leave}")
            }
            SkipReason::OptedOut { .. } | SkipReason::Unclear { .. } => {
                write!(f, "{}: {}", self.kind(), self.detail())
            }
            SkipReason::Suppressed(r) => write!(f, "suppressed: {r}"),
        }
    }
}

/// Decides, row by row, who is mailed.
#[derive(Debug)]
pub struct Cleaner {
    /// Where each address was first seen: its list's index in the high half, the line in the
    /// low half.
    seen: KeyMap<u64>,
    suppression: Suppression,
    opt_outs: Arc<OptOuts>,
    /// Which of the scanned lists the rows come from.
    list: usize,
}

impl Cleaner {
    /// A cleaner that knows of no opt-out beyond each row's own: only for a list read in one
    /// pass where no row can be taken back (tests, one-row lookups). A send uses
    /// [`with_opt_outs`](Self::with_opt_outs).
    pub fn new(suppression: Suppression) -> Self {
        Self::with_opt_outs(suppression, Arc::new(OptOuts::none()))
    }

    /// A cleaner that leaves out every address the pre-scan found marked, on any row.
    pub fn with_opt_outs(suppression: Suppression, opt_outs: Arc<OptOuts>) -> Self {
        Cleaner {
            seen: KeyMap::new(),
            suppression,
            opt_outs,
            list: 0,
        }
    }

    /// The next rows come from the `index`th list of the pre-scan.
    pub fn set_list(&mut self, index: usize) {
        self.list = index;
    }

    /// Where a mark points, as seen from the list being read: `line 4` or `other.csv:4`.
    fn at(&self, list: usize, line: u64) -> String {
        match self.opt_outs.list_path(list) {
            Some(path) if list != self.list => format!("{}:{line}", path.display()),
            _ => format!("line {line}"),
        }
    }

    /// The verdict on the next row of the list.
    pub fn verdict(&mut self, entry: Entry) -> Verdict {
        let skip = |line, email, reason| Verdict::Skip {
            line,
            email,
            reason,
        };
        match entry {
            Entry::Invalid {
                line,
                value,
                reason,
            } => skip(line, value, SkipReason::Invalid(reason)),
            Entry::Unclear {
                line,
                email,
                column,
                value,
            } => skip(line, email, SkipReason::Unclear { column, value }),
            Entry::OptedOut {
                line,
                email,
                leave,
                column,
                value,
            } => {
                let mark = self.mark_of(&email);
                let first = self.first_seen(&email, line);
                let reason = match (mark, first) {
                    // another row marked the address first
                    (Some(m), _) if (m.list, m.line) != (self.list, line) => {
                        SkipReason::DuplicateOfOptOut {
                            at: self.at(m.list, m.line),
                            leave: m.leave,
                        }
                    }
                    // without a pre-scan: a later row of an address seen before
                    (None, Some(first)) => self.duplicate(first),
                    _ => SkipReason::OptedOut {
                        leave,
                        column,
                        value,
                    },
                };
                skip(line, email, reason)
            }
            Entry::Member(s) => {
                if let Some(m) = self.mark_of(&s.email) {
                    let reason = SkipReason::DuplicateOfOptOut {
                        at: self.at(m.list, m.line),
                        leave: m.leave,
                    };
                    return skip(s.line, s.email, reason);
                }
                if let Some(first) = self.first_seen(&s.email, s.line) {
                    let reason = self.duplicate(first);
                    return skip(s.line, s.email, reason);
                }
                if let Some(r) = self.suppression.reason(&s.email) {
                    let reason = SkipReason::Suppressed(r.to_string());
                    return skip(s.line, s.email, reason);
                }
                Verdict::Send(s)
            }
        }
    }

    fn mark_of(&self, email: &str) -> Option<super::opt_outs::Mark> {
        if email.trim().is_empty() || self.opt_outs.is_empty() {
            return None;
        }
        self.opt_outs.mark(AddressKey::of(email))
    }

    /// The list and line the address was first seen on, recording this row's when it is new.
    /// Empty addresses (opted-out rows without one) are never duplicates.
    fn first_seen(&mut self, email: &str, line: u64) -> Option<(usize, u64)> {
        if email.trim().is_empty() {
            return None;
        }
        let line32 = u64::from(u32::try_from(line).unwrap_or(u32::MAX));
        let list32 = u64::from(u32::try_from(self.list).unwrap_or(u32::MAX));
        self.seen
            .insert_if_absent(AddressKey::of(email), (list32 << 32) | line32)
            .map(|v| ((v >> 32) as usize, v & u64::from(u32::MAX)))
    }

    /// A duplicate of the row first seen at `(list, line)`.
    fn duplicate(&self, (list, first_line): (usize, u64)) -> SkipReason {
        if list == self.list {
            SkipReason::Duplicate { first_line }
        } else {
            SkipReason::DuplicateOf {
                at: self.at(list, first_line),
            }
        }
    }

    /// Distinct addresses seen so far.
    pub fn distinct(&self) -> usize {
        self.seen.len()
    }

    pub fn suppression(&self) -> &Suppression {
        &self.suppression
    }

    pub fn opt_outs(&self) -> &OptOuts {
        &self.opt_outs
    }

    /// Give the suppression list back (e.g. to add to it after the send).
    pub fn into_suppression(self) -> Suppression {
        self.suppression
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(email: &str, line: u64) -> Entry {
        let mut s = Subscriber::from_email(email);
        s.line = line;
        Entry::Member(s)
    }

    fn reason(v: &Verdict) -> Option<&SkipReason> {
        match v {
            Verdict::Send(_) => None,
            Verdict::Skip { reason, .. } => Some(reason),
        }
    }

    #[test]
    fn first_occurrence_wins_ignoring_case_and_spaces() {
        let mut c = Cleaner::new(Suppression::empty());
        assert!(
            matches!(c.verdict(member("Ann@example.org", 2)), Verdict::Send(s) if s.email == "Ann@example.org")
        );
        let v = c.verdict(member(" ann@EXAMPLE.org ", 7));
        assert_eq!(
            v,
            Verdict::Skip {
                line: 7,
                email: "ann@EXAMPLE.org".into(),
                reason: SkipReason::Duplicate { first_line: 2 }
            }
        );
        assert!(matches!(
            c.verdict(member("bob@example.org", 8)),
            Verdict::Send(_)
        ));
        assert_eq!(c.distinct(), 2);
    }

    #[test]
    fn invalid_unsubscribed_and_suppressed_rows_are_skipped() {
        let mut s = Suppression::empty();
        s.add("gone@example.org", "hard bounce", "smtp").unwrap();
        let mut c = Cleaner::new(s);
        let v = c.verdict(Entry::Invalid {
            line: 3,
            value: "x@y".into(),
            reason: "the domain \"y\" has no dot".into(),
        });
        assert_eq!(
            reason(&v),
            Some(&SkipReason::Invalid("the domain \"y\" has no dot".into()))
        );
        let v = c.verdict(Entry::OptedOut {
            line: 4,
            email: "left@example.org".into(),
            leave: Leave::Unsubscribed,
            column: "status".into(),
            value: "unsubscribed".into(),
        });
        assert_eq!(
            reason(&v),
            Some(&SkipReason::OptedOut {
                leave: Leave::Unsubscribed,
                column: "status".into(),
                value: "unsubscribed".into()
            })
        );
        // a later row of someone who unsubscribed is a duplicate, not a member
        let v = c.verdict(member("LEFT@example.org", 9));
        assert_eq!(reason(&v), Some(&SkipReason::Duplicate { first_line: 4 }));
        let v = c.verdict(member("Gone@example.org", 10));
        assert_eq!(
            reason(&v),
            Some(&SkipReason::Suppressed("hard bounce".into()))
        );
        assert_eq!(reason(&v).unwrap().to_string(), "suppressed: hard bounce");
    }

    #[test]
    fn the_sample_list_sends_35_and_skips_5_for_the_documented_reasons() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lists/members.csv");
        let mut c = Cleaner::new(Suppression::empty());
        let mut sent = 0;
        let mut skipped = Vec::new();
        for entry in crate::list::open(&path).unwrap() {
            match c.verdict(entry.unwrap()) {
                Verdict::Send(s) => {
                    sent += 1;
                    assert!(s.name.is_some(), "{}", s.email);
                    assert!(s.fields.contains_key("organisation"));
                }
                Verdict::Skip { line, reason, .. } => skipped.push((line, reason.to_string())),
            }
        }
        assert_eq!(sent, 35);
        assert_eq!(
            skipped,
            [
                (13, "unsubscribed: status is \"unsubscribed\"".to_string()),
                (21, "cleaned: status is \"cleaned\"".to_string()),
                (29, "duplicate of line 4".to_string()),
                (32, "unsubscribed: status is \"unsubscribed\"".to_string()),
                (
                    37,
                    "invalid address: the domain \"example\" has no dot".to_string()
                ),
            ]
        );
    }

    /// Every verdict on the rows of `lists`, pre-scanned together: (list, line, reason or
    /// `send`).
    fn clean_all(lists: &[&std::path::Path]) -> Vec<(usize, u64, String)> {
        let opt_outs = OptOuts::scan(lists, &crate::list::Rules::default()).unwrap();
        let mut c = Cleaner::with_opt_outs(Suppression::empty(), Arc::new(opt_outs));
        let mut out = Vec::new();
        for (i, path) in lists.iter().enumerate() {
            c.set_list(i);
            for entry in crate::list::open(path).unwrap() {
                out.push(match c.verdict(entry.unwrap()) {
                    Verdict::Send(s) => (i, s.line, "send".to_string()),
                    Verdict::Skip { line, reason, .. } => (i, line, reason.to_string()),
                });
            }
        }
        out
    }

    #[test]
    fn the_most_restrictive_row_wins_in_either_order() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let subscribed_first = write(
            "a.csv",
            "name,email,status\nAnn,ann@example.org,subscribed\nDup,Dup@Example.org,subscribed\nDup,dup@example.org,unsubscribed\n",
        );
        assert_eq!(
            clean_all(&[&subscribed_first]),
            [
                (0, 2, "send".to_string()),
                (
                    0,
                    3,
                    "duplicate of line 4, which says unsubscribed".to_string()
                ),
                (0, 4, "unsubscribed: status is \"unsubscribed\"".to_string()),
            ]
        );
        let unsubscribed_first = write(
            "b.csv",
            "name,email,status\nDup,dup@example.org,unsubscribed\nDup,Dup@Example.org,subscribed\n",
        );
        assert_eq!(
            clean_all(&[&unsubscribed_first]),
            [
                (0, 2, "unsubscribed: status is \"unsubscribed\"".to_string()),
                (
                    0,
                    3,
                    "duplicate of line 2, which says unsubscribed".to_string()
                ),
            ]
        );
        // across lists: a blocklisting in the second list keeps the first list's row back
        let second = write("c.csv", "email,status\nann@example.org,blocklisted\n");
        assert_eq!(
            clean_all(&[&subscribed_first, &second]),
            [
                (
                    0,
                    2,
                    format!(
                        "duplicate of {}:2, which says blocklisted",
                        second.display()
                    )
                ),
                (
                    0,
                    3,
                    "duplicate of line 4, which says unsubscribed".to_string()
                ),
                (0, 4, "unsubscribed: status is \"unsubscribed\"".to_string()),
                (1, 2, "blocklisted: status is \"blocklisted\"".to_string()),
            ]
        );
    }

    /// Peak memory of the pre-scan, then reading and cleaning a million-member list of which
    /// every other member unsubscribed. Slow in a debug build: run with
    /// `cargo test --release --lib -- --ignored a_million_members`.
    #[test]
    #[ignore]
    fn a_million_members_are_cleaned_in_bounded_memory() {
        use crate::memory_probe::vm;
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("million.csv");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "email,first_name,last_name,organisation,status").unwrap();
        for i in 0..1_000_000u32 {
            let status = if i % 2 == 0 {
                "subscribed"
            } else {
                "unsubscribed"
            };
            writeln!(
                out,
                "member.{i}@example.org,First{i},Last{i},Org {},{status}",
                i % 97
            )
            .unwrap();
        }
        drop(out);
        let before = vm("VmRSS:");
        let start = std::time::Instant::now();
        let opt_outs = OptOuts::scan(&[&path], &crate::list::Rules::default()).unwrap();
        let scanned = start.elapsed();
        assert_eq!(opt_outs.len(), 500_000);
        let mut c = Cleaner::with_opt_outs(Suppression::empty(), Arc::new(opt_outs));
        let mut sent = 0u32;
        let start = std::time::Instant::now();
        for entry in crate::list::open(&path).unwrap() {
            if let Verdict::Send(_) = c.verdict(entry.unwrap()) {
                sent += 1;
            }
        }
        // a figure for docs/BENCHMARKS.md, not a timed assertion
        eprintln!(
            "pre-scan {:.2} s, cleaning pass {:.2} s",
            scanned.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
        let peak = vm("VmHWM:");
        eprintln!(
            "rss before {before} kB, peak {peak} kB, growth {} kB",
            peak - before
        );
        assert_eq!(sent, 500_000);
        // Not a timing figure: the bound on memory is part of the reader's contract.
        assert!(peak - before < 100 * 1024, "grew by {} kB", peak - before);
    }
}

#[cfg(test)]
mod platform_tests {
    //! Every platform's fixture, pre-scanned and cleaned: who is mailed and why the others are not.

    use super::*;
    use std::path::{Path, PathBuf};

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lists")
            .join(name)
    }

    /// `address: verdict` for every row of a fixture.
    fn verdicts(name: &str) -> Vec<String> {
        let path = fixture(name);
        let opt_outs = OptOuts::scan(&[&path], &crate::list::Rules::default()).unwrap();
        let mut c = Cleaner::with_opt_outs(Suppression::empty(), Arc::new(opt_outs));
        crate::list::open(&path)
            .unwrap()
            .map(|entry| match c.verdict(entry.unwrap()) {
                Verdict::Send(s) => format!("{}: send", s.email),
                Verdict::Skip { email, reason, .. } => format!("{email}: {reason}"),
            })
            .collect()
    }

    #[test]
    fn listmonk() {
        assert_eq!(
            verdicts("listmonk.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: blocklisted: status is \"blocklisted\"",
                "cy@example.org: unconfirmed: subscription_status is \"unconfirmed\"",
                "di@example.org: unsubscribed: subscription_status is \"unsubscribed\"",
                "zoe@example.org: send",
                "eve@example.org: email disabled: status is \"disabled\"",
                "sean@example.org: send",
            ]
        );
    }

    #[test]
    fn ghost() {
        assert_eq!(
            verdicts("ghost.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: unsubscribed: subscribed_to_emails is \"false\"",
                "cy@example.org: unsubscribed: subscribed_to_emails is \"FALSE\"",
                "jose@example.com: send",
                "yamada@example.jp: send",
            ]
        );
    }

    #[test]
    fn substack() {
        assert_eq!(
            verdicts("substack.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: email disabled: email_disabled is \"true\"",
                "jorg@buecher.example: send",
                "cy@example.org: email disabled: email_disabled is \"TRUE\"",
                "zoe@example.org: send",
            ]
        );
    }

    #[test]
    fn buttondown() {
        assert_eq!(
            verdicts("buttondown.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: send",
                "cy@example.org: unsubscribed: subscriber_type is \"unsubscribed\"",
                "di@example.org: unconfirmed: subscriber_type is \"unactivated\"",
                "spam@example.net: blocklisted: subscriber_type is \"spammy\"",
                "eve@example.org: unsubscribed: subscriber_type is \"removed\"",
                "zoe@example.org: send",
                "sean@example.org: send",
            ]
        );
    }

    #[test]
    fn kit() {
        assert_eq!(
            verdicts("kit.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: unsubscribed: status is \"cancelled\"",
                "cy@example.org: unconfirmed: status is \"unconfirmed\"",
                "di@example.org: bounced: status is \"bounced\"",
                "eve@example.org: blocklisted: status is \"complained\"",
                "zoe@example.org: send",
                "sean@example.org: unsubscribed: status is \"Inactive\"",
            ]
        );
    }

    #[test]
    fn mailerlite() {
        assert_eq!(
            verdicts("mailerlite.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: unsubscribed: Status is \"unsubscribed\"",
                "cy@example.org: unconfirmed: Status is \"unconfirmed\"",
                "di@example.org: bounced: Status is \"bounced\"",
                "junk@example.net: cleaned: Status is \"junk\"",
                "zoe@example.org: send",
            ]
        );
    }

    #[test]
    fn brevo() {
        assert_eq!(
            verdicts("brevo.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: blocklisted: EMAIL_BLACKLISTED is \"Yes\"",
                "zoe@example.org: send",
                "cy@example.org: blocklisted: EMAIL_BLACKLISTED is \"YES\"",
            ]
        );
    }

    #[test]
    fn hubspot() {
        assert_eq!(
            verdicts("hubspot.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: unsubscribed: Unsubscribed from all email is \"true\"",
                "cy@example.org: not a marketing contact: Marketing contact status is \"Non-marketing contact\"",
                "di@example.org: bounced: Email hard bounce reason is \"BOUNCED (550 5.1.1 user unknown)\"",
                "zoe@example.org: send",
                "eve@example.org: unsubscribed: Opted out of email: Monthly Newsletter is \"true\"",
            ]
        );
    }

    #[test]
    fn sendy() {
        assert_eq!(
            verdicts("sendy.csv"),
            [
                "ann@example.org: send",
                "bob@example.org: unsubscribed: Status is \"Unsubscribed\"",
                "cy@example.org: unconfirmed: Status is \"Unconfirmed\"",
                "di@example.org: bounced: Status is \"Bounced\"",
                "eve@example.org: blocklisted: Status is \"Marked as spam\"",
                "zoe@example.org: send",
                "fay@example.org: bounced: Status is \"Soft bounced\"",
            ]
        );
    }

    #[test]
    fn google_contacts() {
        assert_eq!(
            verdicts("google-contacts.csv"),
            [
                "ann@example.org: send",
                "zoe@example.org: send",
                "yamada@example.jp: send",
            ]
        );
    }

    #[test]
    fn outlook() {
        assert_eq!(
            verdicts("outlook.csv"),
            ["ann@example.org: send", "soren@example.dk: send",]
        );
    }

    #[test]
    fn mailchimp() {
        assert_eq!(
            verdicts("mailchimp.csv"),
            ["ann@example.org: send", "Bob@Example.com: send",]
        );
    }

    #[test]
    fn mailchimp_unsubscribed() {
        assert_eq!(
            verdicts("mailchimp-unsubscribed.csv"),
            [
                "cora@example.org: unsubscribed: UNSUB_TIME is \"2024-03-05 11:12:13\"",
                "dev@example.net: unsubscribed: UNSUB_TIME is \"2024-04-01 08:00:00\"",
                "jose@example.com: unsubscribed: UNSUB_TIME is \"2024-05-06 07:08:09\"",
            ]
        );
    }

    #[test]
    fn mailchimp_cleaned() {
        assert_eq!(
            verdicts("mailchimp-cleaned.csv"),
            [
                "gone@example.org: cleaned: CLEAN_TIME is \"2023-11-12 13:14:15\"",
                "typo@example.com: cleaned: CLEAN_TIME is \"2023-12-01 00:00:00\"",
            ]
        );
    }
}
