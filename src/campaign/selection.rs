//! Who gets this issue: the list, cleaned, minus everyone the journal says is done.
//!
//! The same [`Selection`] decides in the preflight pass and in the send pass, so what the
//! preflight promised is what is sent. Both read the list with the rules of the pre-scan
//! ([`OptOuts`]), which must have found every address that any row marks as not to be mailed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::deliver::journal::{JournalState, Status};
use crate::diagnostic::SourceError;
use crate::list::address::AddressKey;
use crate::list::suppression::Suppression;
use crate::list::{self, Cleaner, Entry, Filter, OptOuts, Shard, SkipReason, Verdict};
use crate::subscriber::Subscriber;

/// What happens to one row of the list.
#[derive(Debug)]
pub enum Decision {
    Send(Subscriber),
    /// A member the journal says was attempted but has no outcome: mailed again by default.
    Resend(Subscriber),
    Skip {
        line: u64,
        email: String,
        why: Skip,
    },
}

/// Why a row is not mailed in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The list's own doing: an invalid address, a duplicate, consent, the suppression list.
    List(SkipReason),
    AlreadyAccepted,
    RefusedEarlier,
    Uncertain,
    /// Their record in the journal is damaged: where, and what is wrong.
    Held(String),
    OtherShard,
    /// `--where` leaves them out.
    Filtered,
}

impl Skip {
    /// A short name for counting and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Skip::List(reason) => reason.kind(),
            Skip::AlreadyAccepted => "already accepted",
            Skip::RefusedEarlier => "refused earlier",
            Skip::Uncertain => "cut off earlier (--skip-uncertain)",
            Skip::Held(_) => "held back (damaged journal record)",
            Skip::OtherShard => "other shard",
            Skip::Filtered => "left out by --where",
        }
    }
}

/// Decides row by row.
pub struct Selection<'a> {
    cleaner: Cleaner,
    journal: &'a JournalState,
    shard: Option<Shard>,
    skip_uncertain: bool,
    filter: Option<Arc<Filter>>,
    /// Members (valid, subscribed, not suppressed) that `--where` kept.
    matched: u64,
}

impl<'a> Selection<'a> {
    pub fn new(
        suppression: Suppression,
        opt_outs: Arc<OptOuts>,
        journal: &'a JournalState,
        shard: Option<Shard>,
        skip_uncertain: bool,
    ) -> Self {
        Selection {
            cleaner: Cleaner::with_opt_outs(suppression, opt_outs),
            journal,
            shard,
            skip_uncertain,
            filter: None,
            matched: 0,
        }
    }

    /// Mail only the members whose row matches `filter` (`--where`).
    pub fn with_filter(mut self, filter: Option<Arc<Filter>>) -> Self {
        self.filter = filter;
        self
    }

    /// How many members the filter kept so far (all of them without a filter).
    pub fn matched(&self) -> u64 {
        self.matched
    }

    /// Give the suppression list back, e.g. to walk the list again without reading it again.
    pub fn into_suppression(self) -> Suppression {
        self.cleaner.into_suppression()
    }

    /// What the pre-scan found: the rules lists are read with, and each list's consent columns.
    pub fn opt_outs(&self) -> &OptOuts {
        self.cleaner.opt_outs()
    }

    pub fn decide(&mut self, entry: Entry) -> Decision {
        let member = match self.cleaner.verdict(entry) {
            Verdict::Send(s) => s,
            Verdict::Skip {
                line,
                email,
                reason,
            } => {
                return Decision::Skip {
                    line,
                    email,
                    why: Skip::List(reason),
                };
            }
        };
        if let Some(filter) = &self.filter
            && !filter.matches(&member.fields)
        {
            return skip(member, Skip::Filtered);
        }
        self.matched += 1;
        if let Some(shard) = self.shard
            && !shard.contains(&member.email)
        {
            return skip(member, Skip::OtherShard);
        }
        match self.journal.status_of(&member.email) {
            None | Some(Status::Deferred) => Decision::Send(member),
            Some(Status::Accepted) => skip(member, Skip::AlreadyAccepted),
            Some(Status::Refused { permanent: true }) => skip(member, Skip::RefusedEarlier),
            Some(Status::Refused { permanent: false }) => Decision::Send(member),
            Some(Status::Uncertain) if self.skip_uncertain => skip(member, Skip::Uncertain),
            Some(Status::Uncertain) => Decision::Resend(member),
            Some(Status::Held) => {
                let why = self
                    .journal
                    .held_reason(AddressKey::of(&member.email))
                    .unwrap_or("their record is damaged")
                    .to_string();
                skip(member, Skip::Held(why))
            }
        }
    }
}

fn skip(member: Subscriber, why: Skip) -> Decision {
    Decision::Skip {
        line: member.line,
        email: member.email,
        why,
    }
}

/// Walk whole lists, one after the other, through a selection, calling `f` with the list each
/// decision's row comes from; `f` returns false to stop. An address met again in a later list
/// is a duplicate, as within one list.
pub fn walk(
    lists: &[PathBuf],
    selection: &mut Selection<'_>,
    mut f: impl FnMut(&Path, Decision) -> bool,
) -> Result<(), SourceError> {
    for (index, path) in lists.iter().enumerate() {
        selection.cleaner.set_list(index);
        for entry in list::open_with(path, selection.opt_outs().rules())? {
            if !f(path, selection.decide(entry?)) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The columns of every list, in order, each named once: for checking a `--where`.
pub fn columns(lists: &[PathBuf], rules: &list::Rules) -> Result<Vec<String>, SourceError> {
    let mut columns: Vec<String> = Vec::new();
    for path in lists {
        for h in list::open_with(path, rules)?.headers() {
            if !columns.contains(h) {
                columns.push(h.clone());
            }
        }
    }
    Ok(columns)
}
