//! The pass over the list before anything is sent: counts, skips and why, the first member.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::selection::{Decision, Selection, Skip, walk};
use crate::deliver::rate::Rate;
use crate::diagnostic::SourceError;
use crate::list::opt_outs::ListConsent;
use crate::subscriber::Subscriber;

/// How many rows of each skip reason are listed one by one before the rest are only counted.
const LISTED: usize = 20;

/// One row of the list that is not mailed, and why.
#[derive(Debug, Serialize)]
pub struct SkippedRow {
    /// The list the row is in, when the send reads more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<PathBuf>,
    pub line: u64,
    pub email: String,
    pub reason: &'static str,
    pub detail: String,
}

impl SkippedRow {
    /// Rows named one by one: problems of the list itself and members held back by a damaged
    /// journal record, not the journal's or shard's ordinary doing.
    fn of(list: Option<&Path>, line: u64, email: &str, why: &Skip) -> Option<SkippedRow> {
        let detail = match why {
            Skip::List(reason) => reason.detail(),
            Skip::Held(why) => why.clone(),
            Skip::AlreadyAccepted
            | Skip::RefusedEarlier
            | Skip::Uncertain
            | Skip::OtherShard
            | Skip::Filtered => {
                return None;
            }
        };
        Some(SkippedRow {
            list: list.map(Path::to_path_buf),
            line,
            email: email.to_string(),
            reason: why.kind(),
            detail,
        })
    }
}

/// What a send of this list would do.
#[derive(Debug, Default, Serialize)]
pub struct Preflight {
    /// Members that will be mailed, resends included.
    pub to_send: u64,
    /// Members whose earlier transaction has no outcome (cut off, or no answer to the final
    /// `.`), mailed again (line, address).
    pub resend: Vec<(u64, String)>,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Rows of the list itself that are not mailed (invalid, duplicate, unsubscribed,
    /// blocklisted, unconfirmed, cleaned, bounced, email disabled, suppressed, …): line, value,
    /// why. The first few of each reason.
    pub rows: Vec<SkippedRow>,
    /// Per list: which columns were read as consent (or that there are none), and how many
    /// rows they leave out, by reason.
    pub consent: Vec<ListConsent>,
    /// With `--where`: the expression, and how many members (valid, subscribed, not
    /// suppressed) it kept; those it left out are counted in `skipped`.
    pub filter: Option<String>,
    pub matched: u64,
    /// The first member to be mailed, rendered in full before the run starts.
    #[serde(skip)]
    pub first: Option<Subscriber>,
    /// The list the first member is in.
    #[serde(skip)]
    pub first_list: PathBuf,
}

impl Preflight {
    /// Walk the list once and count.
    pub fn scan(
        lists: &[PathBuf],
        filter: Option<&str>,
        selection: &mut Selection<'_>,
    ) -> Result<Preflight, SourceError> {
        let mut p = Preflight {
            consent: selection.opt_outs().lists().to_vec(),
            filter: filter.map(str::to_string),
            ..Preflight::default()
        };
        walk(lists, selection, |list, d| {
            match d {
                Decision::Send(s) => p.take(list, s),
                Decision::Resend(s) => {
                    p.resend.push((s.line, s.email.clone()));
                    p.take(list, s)
                }
                Decision::Skip { line, email, why } => {
                    let n = p.skipped.entry(why.kind()).or_default();
                    *n += 1;
                    if *n <= LISTED as u64 {
                        let named = (lists.len() > 1).then_some(list);
                        p.rows.extend(SkippedRow::of(named, line, &email, &why));
                    }
                }
            }
            true
        })?;
        p.matched = selection.matched();
        Ok(p)
    }

    fn take(&mut self, list: &Path, s: Subscriber) {
        self.to_send += 1;
        if self.first.is_none() {
            self.first = Some(s);
            self.first_list = list.to_path_buf();
        }
    }

    /// Time the run will take at `rate` at the least.
    pub fn estimate(&self, rate: Option<&Rate>) -> Option<Duration> {
        let rate = rate?;
        let windows = self.to_send.saturating_sub(1) / u64::from(rate.count.max(1));
        Some(rate.per * u32::try_from(windows).unwrap_or(u32::MAX))
    }

    /// The report shown before asking to go ahead.
    pub fn report(&self, lists: &[PathBuf], rate: Option<&Rate>, connections: usize) -> String {
        let mut s = String::new();
        let names: Vec<String> = lists.iter().map(|l| l.display().to_string()).collect();
        let _ = writeln!(
            s,
            "{}: {}",
            if lists.len() == 1 { "list" } else { "lists" },
            names.join(", ")
        );
        for c in &self.consent {
            if lists.len() == 1 && c.list == lists[0] {
                let _ = writeln!(s, "  consent: {}", c.consent);
            } else {
                let _ = writeln!(s, "  consent of {}: {}", c.list.display(), c.consent);
            }
        }
        if let Some(filter) = &self.filter {
            let left_out = self
                .skipped
                .get(Skip::Filtered.kind())
                .copied()
                .unwrap_or(0);
            let _ = writeln!(
                s,
                "  --where {filter}: {} member(s) match, {left_out} left out",
                self.matched
            );
        }
        let _ = writeln!(s, "  to send: {}", self.to_send);
        for (line, email) in self.resend.iter().take(LISTED) {
            let _ = writeln!(
                s,
                "    sent again (an earlier run was cut off mid-transaction or had no answer to the final `.`): line {line}: {email}"
            );
        }
        if self.resend.len() > LISTED {
            let _ = writeln!(
                s,
                "    … and {} more sent again",
                self.resend.len() - LISTED
            );
        }
        for (why, n) in &self.skipped {
            let _ = writeln!(s, "  skipped, {why}: {n}");
            for row in self.rows.iter().filter(|r| r.reason == *why) {
                let _ = writeln!(
                    s,
                    "    {}:{}: {:?}: {}",
                    row.list
                        .as_deref()
                        .or(lists.first().map(PathBuf::as_path))
                        .unwrap_or(Path::new(""))
                        .display(),
                    row.line,
                    row.email,
                    row.detail
                );
            }
            if *n > LISTED as u64 && self.rows.iter().any(|r| r.reason == *why) {
                let _ = writeln!(s, "    … and {} more", *n - LISTED as u64);
            }
        }
        let rate_text = match rate {
            Some(r) => r.to_string(),
            None => "unlimited".into(),
        };
        let _ = write!(s, "  rate: {rate_text}, {connections} connection(s)");
        if let Some(d) = self.estimate(rate) {
            let _ = write!(s, ", at least {}", human_duration(d));
        }
        s.push('\n');
        s
    }
}

/// `1h 02m`, `3m 20s`, `12s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12s");
        assert_eq!(human_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h 02m");
    }

    #[test]
    fn estimate_counts_whole_windows() {
        let p = Preflight {
            to_send: 61,
            ..Default::default()
        };
        let rate = Rate {
            count: 30,
            per: Duration::from_secs(60),
        };
        // 30 now, 30 a minute later, the last one a minute after that
        assert_eq!(p.estimate(Some(&rate)), Some(Duration::from_secs(120)));
        assert_eq!(p.estimate(None), None);
    }
}
