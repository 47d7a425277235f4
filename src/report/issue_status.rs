//! What became of each member an issue was meant for: accepted, refused during the SMTP
//! transaction (with the server's reply), deferred, cut off, bounced later (with the reason
//! the bounce report gave), complained or unsubscribed; with totals per list.
//!
//! Built from the issue's journals ([`JournalState`], merged per list so the shards of a list
//! count once), the bounce log (reports that came back later) and the suppression list
//! (complaints and unsubscribes recorded since), and the lists themselves, which name the
//! members the journals only know by key.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::deliver::bounce_log::{BounceClass, BounceRecord, BounceSource};
use crate::deliver::journal::{JournalState, Status};
use crate::list::suppression::Suppression;
use crate::list::{AddressKey, Entry};

/// A member's fate, the most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// Reported the issue as spam.
    Complained,
    /// Left the list (the list's status column, or an unsubscribe recorded since).
    Unsubscribed,
    /// Accepted, then a bounce report came back.
    BouncedLater,
    /// The server refused the message during the transaction.
    Refused,
    /// The run was cut off between DATA and the server's reply.
    CutOff,
    /// Temporary failures used up the retries: due again in the next run.
    Deferred,
    /// The member's journal record is damaged: held back until it is mended.
    Held,
    /// The server accepted the message.
    Accepted,
    /// No record: skipped (suppressed, invalid, duplicate) or not reached yet.
    NotSent,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Complained => "complained",
            Fate::Unsubscribed => "unsubscribed",
            Fate::BouncedLater => "bounced-later",
            Fate::Refused => "refused",
            Fate::CutOff => "cut-off",
            Fate::Deferred => "deferred",
            Fate::Held => "held",
            Fate::Accepted => "accepted",
            Fate::NotSent => "not-sent",
        }
    }

    pub const ALL: [Fate; 9] = [
        Fate::Accepted,
        Fate::Refused,
        Fate::BouncedLater,
        Fate::Complained,
        Fate::Unsubscribed,
        Fate::Deferred,
        Fate::Held,
        Fate::CutOff,
        Fate::NotSent,
    ];
}

/// A bounce report that came back after the message was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaterBounce {
    pub class: BounceClass,
    /// sisimai's reason word, when the record has one.
    pub reason: Option<String>,
    pub status: Option<String>,
    pub text: String,
    pub time: String,
}

/// One member of one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberStatus {
    pub email: String,
    /// The row of the list file.
    pub line: u64,
    pub fate: Fate,
    /// What the SMTP transaction gave: `accepted`, `refused`, `deferred`, `cut-off`, or
    /// `not-sent`.
    pub delivery: Fate,
    /// The server's reply to a refused or deferred message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce: Option<LaterBounce>,
    pub complained: bool,
    pub unsubscribed: bool,
    /// Why the member was not sent to, when the list or the suppression list says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One list of the issue.
#[derive(Debug, Clone, Serialize)]
pub struct ListStatus {
    /// The list as it was named when sending.
    pub list: String,
    /// The journals of this list (one, or one per shard).
    pub journals: Vec<PathBuf>,
    /// Members per fate.
    pub totals: BTreeMap<&'static str, u64>,
    /// The list file could not be read (moved or deleted): members are known only from the
    /// journals' failures and the bounce log, and accepted members are only counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_unreadable: Option<String>,
    pub members: Vec<MemberStatus>,
}

/// The whole issue.
#[derive(Debug, Clone, Serialize)]
pub struct IssueStatus {
    pub issue: String,
    pub lists: Vec<ListStatus>,
    /// Members per fate over all lists.
    pub totals: BTreeMap<&'static str, u64>,
}

/// The inputs, read by the caller.
pub struct Inputs<'a> {
    pub issue: &'a str,
    /// Each journal with its state.
    pub journals: &'a [(PathBuf, JournalState)],
    /// Every record of the bounce log.
    pub bounces: &'a [BounceRecord],
    pub suppression: &'a Suppression,
    /// Folders a relative list path is tried against, in order (the working folder, the
    /// project's root).
    pub bases: &'a [PathBuf],
    /// `--where`: only the members whose row of the list matches.
    pub filter: Option<&'a crate::list::Filter>,
}

/// Build the per-member view.
pub fn build(inputs: &Inputs<'_>) -> IssueStatus {
    // Journals grouped by list, in the order met.
    let mut groups: Vec<(String, Vec<&(PathBuf, JournalState)>)> = Vec::new();
    for j in inputs.journals {
        let list = j.1.id().map(|id| id.list.clone()).unwrap_or_default();
        match groups.iter_mut().find(|(l, _)| *l == list) {
            Some((_, v)) => v.push(j),
            None => groups.push((list, vec![j])),
        }
    }
    let first_run = inputs
        .journals
        .iter()
        .filter_map(|(_, s)| s.runs().first().cloned())
        .min();
    let later = later_bounces(inputs.bounces, inputs.issue, first_run.as_deref());
    let mut lists = Vec::new();
    let mut totals: BTreeMap<&'static str, u64> = zero_totals();
    for (list, journals) in groups {
        let ls = list_status(&list, &journals, &later, inputs);
        for (k, v) in &ls.totals {
            *totals.entry(k).or_default() += v;
        }
        lists.push(ls);
    }
    IssueStatus {
        issue: inputs.issue.to_string(),
        lists,
        totals,
    }
}

fn zero_totals() -> BTreeMap<&'static str, u64> {
    Fate::ALL.iter().map(|f| (f.as_str(), 0)).collect()
}

/// The bounce reports that came back for this issue: those that name it, and those that name
/// no issue but came after its first run. Auto-replies are no failure.
fn later_bounces<'a>(
    records: &'a [BounceRecord],
    issue: &str,
    first_run: Option<&str>,
) -> HashMap<AddressKey, Vec<&'a BounceRecord>> {
    let mut out: HashMap<AddressKey, Vec<&BounceRecord>> = HashMap::new();
    for r in records {
        if r.source != BounceSource::Dsn || r.class == BounceClass::AutoReply {
            continue;
        }
        let ours = match &r.issue {
            Some(i) => i == issue,
            None => first_run.is_some_and(|t| r.time.as_str() >= t),
        };
        if ours {
            out.entry(AddressKey::of(&r.address)).or_default().push(r);
        }
    }
    out
}

/// The delivery outcome of a member over the journals of its list: the best one (a shard
/// that accepted beats one that never had the member).
fn delivery_of(journals: &[&(PathBuf, JournalState)], key: AddressKey) -> Fate {
    journals
        .iter()
        .filter_map(|(_, s)| s.status(key))
        .map(|st| match st {
            Status::Accepted => Fate::Accepted,
            Status::Refused { permanent: true } => Fate::Refused,
            Status::Refused { permanent: false } | Status::Deferred => Fate::Deferred,
            Status::Uncertain => Fate::CutOff,
            Status::Held => Fate::Held,
        })
        .min_by_key(|f| match f {
            Fate::Accepted => 0,
            Fate::Refused => 1,
            Fate::CutOff => 2,
            Fate::Held => 3,
            Fate::Deferred => 4,
            _ => 5,
        })
        .unwrap_or(Fate::NotSent)
}

/// The lists a journal names: one, or several joined by commas (a send of several `--list`).
pub fn open_lists(list: &str, bases: &[PathBuf]) -> Result<Vec<crate::list::ListReader>, String> {
    match open_list(list, bases) {
        Ok(r) => Ok(vec![r]),
        Err(e) if !list.contains(',') => Err(e),
        Err(_) => list.split(',').map(|l| open_list(l, bases)).collect(),
    }
}

fn open_list(list: &str, bases: &[PathBuf]) -> Result<crate::list::ListReader, String> {
    let path = Path::new(list);
    let candidates: Vec<PathBuf> = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        bases.iter().map(|b| b.join(path)).collect()
    };
    let mut last = format!("{list}: no such file");
    for c in candidates {
        if c.is_file() {
            match crate::list::open(&c) {
                Ok(r) => return Ok(r),
                Err(e) => last = e.to_string(),
            }
        }
    }
    Err(last)
}

fn list_status(
    list: &str,
    journals: &[&(PathBuf, JournalState)],
    later: &HashMap<AddressKey, Vec<&BounceRecord>>,
    inputs: &Inputs<'_>,
) -> ListStatus {
    let failures: HashMap<AddressKey, (String, u64, String)> = journals
        .iter()
        .flat_map(|(_, s)| s.failures())
        .map(|f| {
            let reply = match (f.code, &f.enhanced) {
                (Some(c), Some(e)) if !f.text.contains(e.as_str()) => {
                    format!("{c} {e} {}", f.text)
                }
                (Some(c), _) if !f.text.starts_with(&c.to_string()) => format!("{c} {}", f.text),
                _ => f.text.clone(),
            };
            (AddressKey::of(&f.email), (f.email, f.line, reply))
        })
        .collect();
    let mut members: Vec<MemberStatus> = Vec::new();
    let mut seen: std::collections::HashSet<AddressKey> = std::collections::HashSet::new();
    let mut list_unreadable = None;
    match open_lists(list, inputs.bases) {
        Ok(readers) => {
            for entry in readers.into_iter().flatten() {
                let Ok(entry) = entry else { continue };
                let (email, line, list_left) = match entry {
                    // With a filter, only the rows it can read and that match.
                    Entry::Member(s) if inputs.filter.is_some_and(|f| !f.matches(&s.fields)) => {
                        continue;
                    }
                    _ if inputs.filter.is_some() && !matches!(entry, Entry::Member(_)) => {
                        continue;
                    }
                    Entry::Member(s) => (s.email, s.line, None),
                    Entry::OptedOut {
                        email, line, leave, ..
                    } => (email, line, Some(leave.label().to_string())),
                    Entry::Unclear {
                        email,
                        line,
                        column,
                        value,
                    } => (email, line, Some(format!("{column} is {value:?}"))),
                    Entry::Invalid { .. } => continue,
                };
                let key = AddressKey::of(&email);
                if !seen.insert(key) {
                    continue;
                }
                members.push(member(
                    email, line, key, list_left, journals, &failures, later, inputs,
                ));
            }
        }
        Err(e) => {
            list_unreadable = Some(e);
            // Members known by address: the failures, and the bounce reports of this issue.
            let mut known: Vec<(String, u64)> =
                failures.values().map(|(e, l, _)| (e.clone(), *l)).collect();
            for recs in later.values() {
                if let Some(r) = recs.first() {
                    known.push((r.address.clone(), 0));
                }
            }
            known.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            for (email, line) in known {
                let key = AddressKey::of(&email);
                if delivery_of(journals, key) == Fate::NotSent || !seen.insert(key) {
                    continue;
                }
                members.push(member(
                    email, line, key, None, journals, &failures, later, inputs,
                ));
            }
        }
    }
    let mut totals = zero_totals();
    for m in &members {
        *totals.entry(m.fate.as_str()).or_default() += 1;
    }
    if list_unreadable.is_some() {
        // Accepted members the journals know only by key are counted, not named.
        let accepted: u64 = journals.iter().map(|(_, s)| s.counts().accepted).sum();
        let named = members
            .iter()
            .filter(|m| m.delivery == Fate::Accepted)
            .count() as u64;
        *totals.entry(Fate::Accepted.as_str()).or_default() += accepted.saturating_sub(named);
    }
    ListStatus {
        list: list.to_string(),
        journals: journals.iter().map(|(p, _)| p.clone()).collect(),
        totals,
        list_unreadable,
        members,
    }
}

#[allow(clippy::too_many_arguments)]
fn member(
    email: String,
    line: u64,
    key: AddressKey,
    list_left: Option<String>,
    journals: &[&(PathBuf, JournalState)],
    failures: &HashMap<AddressKey, (String, u64, String)>,
    later: &HashMap<AddressKey, Vec<&BounceRecord>>,
    inputs: &Inputs<'_>,
) -> MemberStatus {
    let delivery = delivery_of(journals, key);
    let reply = matches!(delivery, Fate::Refused | Fate::Deferred)
        .then(|| failures.get(&key).map(|f| f.2.clone()))
        .flatten();
    let records = later.get(&key).map(Vec::as_slice).unwrap_or(&[]);
    let complaint = records.iter().any(|r| r.class == BounceClass::Complaint);
    let bounce = records
        .iter()
        .rev()
        .find(|r| matches!(r.class, BounceClass::Hard | BounceClass::Soft))
        .map(|r| LaterBounce {
            class: r.class,
            reason: r.reason.clone(),
            status: r.enhanced_status.clone(),
            text: r.text.clone(),
            time: r.time.clone(),
        });
    let suppressed = inputs.suppression.reason_by_key(key);
    let complained =
        complaint || suppressed.is_some_and(|r| r.to_ascii_lowercase().starts_with("complaint"));
    let unsubscribed = list_left.is_some()
        || suppressed.is_some_and(|r| r.to_ascii_lowercase().contains("unsubscrib"));
    let fate = if complained {
        Fate::Complained
    } else if unsubscribed {
        Fate::Unsubscribed
    } else if bounce.is_some() && delivery == Fate::Accepted {
        Fate::BouncedLater
    } else {
        delivery
    };
    let note = match (&list_left, delivery, suppressed) {
        (Some(status), Fate::NotSent, _) => Some(format!("the list's status says {status:?}")),
        (None, Fate::NotSent, Some(reason)) => Some(format!("in the suppression list ({reason})")),
        _ => None,
    };
    MemberStatus {
        email,
        line,
        fate,
        delivery,
        reply,
        bounce,
        complained,
        unsubscribed,
        note,
    }
}
