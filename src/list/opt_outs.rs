//! The pre-scan: before anything is sent, every list given to a run is read once to find the
//! addresses that any of their rows marks as not to be mailed, and any consent value bulletin does
//! not understand.
//!
//! Rows are not kept: an address that some row marks (unsubscribed, blocklisted, unconfirmed, …)
//! goes into a [`KeyMap`] as its 8-byte [`AddressKey`] and an 8-byte mark (why, which list,
//! which line), so the most restrictive row wins whatever order the rows come in, at 16 bytes per
//! marked address. Addresses no row marks cost nothing here.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::address::AddressKey;
use super::consent::{Leave, Rules, UnclearValues};
use super::keymap::KeyMap;
use super::reader::{Entry, open_with};
use crate::diagnostic::SourceError;

/// The first row that marks an address, in the order the lists were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub leave: Leave,
    /// Index of the list among those scanned.
    pub list: usize,
    pub line: u64,
}

const LINE_BITS: u32 = 40;
const LIST_BITS: u32 = 16;

impl Mark {
    fn pack(self) -> u64 {
        let line = self.line.min((1 << LINE_BITS) - 1);
        let list = (self.list as u64).min((1 << LIST_BITS) - 1);
        (u64::from(self.leave.code()) << (LINE_BITS + LIST_BITS)) | (list << LINE_BITS) | line
    }

    fn unpack(v: u64) -> Mark {
        Mark {
            leave: Leave::from_code((v >> (LINE_BITS + LIST_BITS)) as u8),
            list: ((v >> LINE_BITS) & ((1 << LIST_BITS) - 1)) as usize,
            line: v & ((1 << LINE_BITS) - 1),
        }
    }
}

/// What the pre-scan found in one list.
#[derive(Debug, Clone, Serialize)]
pub struct ListConsent {
    pub list: PathBuf,
    /// Which columns were read as consent, and how (or that there are none).
    pub consent: String,
    /// Rows marked as not to be mailed, by reason.
    pub left_out: BTreeMap<&'static str, u64>,
}

/// Addresses that some row of the run's lists marks as not to be mailed.
#[derive(Debug, Clone, Default)]
pub struct OptOuts {
    marks: KeyMap<u64>,
    lists: Vec<ListConsent>,
    /// The rules the lists were read with: the send reads them the same way.
    rules: Rules,
}

/// Why the pre-scan stops a send.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The list cannot be read.
    #[error(transparent)]
    List(#[from] SourceError),
    /// Consent columns hold values bulletin does not understand.
    #[error("{}", unclear_text(.0))]
    Unclear(Vec<UnclearList>),
}

/// The unclear consent values of one list.
#[derive(Debug, Clone, Serialize)]
pub struct UnclearList {
    pub list: PathBuf,
    pub columns: Vec<UnclearValues>,
}

impl OptOuts {
    /// No list scanned: nothing marked.
    pub fn none() -> Self {
        Self::default()
    }

    /// Read every list once, with `rules`. Fails on a list that cannot be read, and on any
    /// consent value bulletin does not understand (naming every such value of every list).
    pub fn scan(lists: &[&Path], rules: &Rules) -> Result<OptOuts, ConsentError> {
        let mut out = OptOuts {
            rules: rules.clone(),
            ..OptOuts::default()
        };
        let mut unclear = Vec::new();
        for (index, path) in lists.iter().enumerate() {
            let mut reader = open_with(path, rules)?;
            let mut left_out = BTreeMap::new();
            for entry in reader.by_ref() {
                if let Entry::OptedOut {
                    line, email, leave, ..
                } = entry?
                {
                    *left_out.entry(leave.label()).or_default() += 1;
                    if !email.trim().is_empty() {
                        let mark = Mark {
                            leave,
                            list: index,
                            line,
                        };
                        out.marks
                            .insert_if_absent(AddressKey::of(&email), mark.pack());
                    }
                }
            }
            let columns: Vec<UnclearValues> = reader.unclear().cloned().collect();
            if !columns.is_empty() {
                unclear.push(UnclearList {
                    list: path.to_path_buf(),
                    columns,
                });
            }
            out.lists.push(ListConsent {
                list: path.to_path_buf(),
                consent: reader.consent().describe(),
                left_out,
            });
        }
        if !unclear.is_empty() {
            return Err(ConsentError::Unclear(unclear));
        }
        Ok(out)
    }

    /// The first row that marks `key`, if any does.
    pub fn mark(&self, key: AddressKey) -> Option<Mark> {
        self.marks.get(key).map(Mark::unpack)
    }

    /// Distinct addresses marked.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// What was found in each list, in the order scanned.
    pub fn lists(&self) -> &[ListConsent] {
        &self.lists
    }

    /// The rules the lists were scanned with.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The path of the `index`th list scanned.
    pub fn list_path(&self, index: usize) -> Option<&Path> {
        self.lists.get(index).map(|l| l.list.as_path())
    }
}

fn unclear_text(lists: &[UnclearList]) -> String {
    let mut s = String::new();
    for (n, list) in lists.iter().enumerate() {
        for (m, column) in list.columns.iter().enumerate() {
            if n + m > 0 {
                s.push_str("\nerror: ");
            }
            let _ = write!(
                s,
                "{}: the column {:?} holds values bulletin cannot read as consent, so nothing is sent:",
                list.list.display(),
                column.column
            );
            for v in &column.values {
                let _ = write!(
                    s,
                    "\n    {:?}: {} row{}, first on line {}",
                    v.value,
                    v.rows,
                    if v.rows == 1 { "" } else { "s" },
                    v.first_line
                );
            }
            if column.more_rows > 0 {
                let _ = write!(
                    s,
                    "\n    … and {} more rows with other values",
                    column.more_rows
                );
            }
            let values: Vec<String> = column
                .values
                .iter()
                .map(|v| format!("{:?}", v.value))
                .collect();
            let _ = write!(
                s,
                "\n  = hint: say which values of {col:?} mean \"send\" in bulletin.toml (every other \
                 value, an empty cell included, is then left out), keeping only those that do:\n        \
                 [lists]\n        send_when = {{ column = {col:?}, values = [{}] }}\n    or, if the \
                 column says nothing about consent: not_consent = [{col:?}]",
                values.join(", "),
                col = column.column,
            );
        }
    }
    s
}

impl fmt::Display for UnclearList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&unclear_text(std::slice::from_ref(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn marks_pack_and_unpack() {
        for leave in [Leave::Unsubscribed, Leave::NotSendWhen, Leave::Bounced] {
            let m = Mark {
                leave,
                list: 3,
                line: 1_234_567,
            };
            assert_eq!(Mark::unpack(m.pack()), m);
        }
    }

    #[test]
    fn the_first_marking_row_of_every_list_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            &dir,
            "a.csv",
            "email,status\nDup@Example.org,subscribed\ndup@example.org,unsubscribed\nann@example.org,\n",
        );
        let b = write(
            &dir,
            "b.csv",
            "email,subscribed_to_emails\nann@example.org,false\nDUP@example.org,false\nbob@example.org,true\n",
        );
        let o = OptOuts::scan(&[&a, &b], &Rules::default()).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(
            o.mark(AddressKey::of("dup@example.org")),
            Some(Mark {
                leave: Leave::Unsubscribed,
                list: 0,
                line: 3
            })
        );
        assert_eq!(
            o.mark(AddressKey::of(" ANN@example.org")),
            Some(Mark {
                leave: Leave::Unsubscribed,
                list: 1,
                line: 2
            })
        );
        assert_eq!(o.mark(AddressKey::of("bob@example.org")), None);
        assert_eq!(o.lists()[1].left_out["unsubscribed"], 2);
        assert!(o.lists()[1].consent.contains("subscribed_to_emails"));
    }

    #[test]
    fn unknown_values_stop_with_each_value_its_count_and_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            &dir,
            "club.csv",
            "Email,Name,Status\nann@example.org,\"Lee, Ann\",member\nbob@example.org,Bob,board\ncy@example.org,Cy,member\ndi@example.org,Di,unsubscribed\neve@example.org,Eve,\n",
        );
        let e = OptOuts::scan(&[&a], &Rules::default()).unwrap_err();
        let text = e.to_string();
        assert_eq!(
            text,
            format!(
                "{}: the column \"Status\" holds values bulletin cannot read as consent, so nothing is sent:\n    \"member\": 2 rows, first on line 2\n    \"board\": 1 row, first on line 3\n  = hint: say which values of \"Status\" mean \"send\" in bulletin.toml (every other value, an empty cell included, is then left out), keeping only those that do:\n        [lists]\n        send_when = {{ column = \"Status\", values = [\"member\", \"board\"] }}\n    or, if the column says nothing about consent: not_consent = [\"Status\"]",
                a.display()
            )
        );
        // told, the same list is read
        let values = vec!["member".to_string(), "board".to_string()];
        let rules = Rules::new([("status", values.as_slice())], []);
        let o = OptOuts::scan(&[&a], &rules).unwrap();
        assert_eq!(
            o.mark(AddressKey::of("di@example.org")).map(|m| m.leave),
            Some(Leave::Unsubscribed)
        );
        // an empty cell is not among the values that mean send
        assert_eq!(
            o.mark(AddressKey::of("eve@example.org")).map(|m| m.leave),
            Some(Leave::NotSendWhen)
        );
        assert_eq!(o.len(), 2);
    }
}
