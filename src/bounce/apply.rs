//! `--apply`: record bounces in the bounce log and suppress the addresses that must not be
//! mailed again. Hard bounces and complaints suppress at once; soft bounces once
//! `[bounces] soft_limit` of them fall within `soft_window_days`; auto-replies only go in the
//! log. Each (report, recipient) is recorded once: a second pass over the same message
//! changes nothing.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Bounce, Class, Report};
use crate::config::Bounces;
use crate::deliver::bounce_log::{
    BounceClass, BounceLog, BounceRecord, BounceSource, dedupe_key, soft_limit_reached,
};
use crate::diagnostic::SourceError;
use crate::list::Suppression;

/// What applying one bounced recipient did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// A new line went into the bounce log (false: seen before).
    pub recorded: bool,
    /// The address joined the suppression list just now.
    pub suppressed: bool,
}

/// The bounce log and suppression list of a project, open for applying reports.
#[derive(Debug)]
pub struct Applier {
    log: BounceLog,
    suppression: Suppression,
    rules: Bounces,
}

fn class_of(c: Class) -> BounceClass {
    match c {
        Class::Hard => BounceClass::Hard,
        Class::Soft => BounceClass::Soft,
        Class::Complaint => BounceClass::Complaint,
        Class::AutoReply => BounceClass::AutoReply,
    }
}

/// The dedupe key of a bounced recipient: the report's Message-ID (or, without one, a hash of
/// its bytes) and the recipient.
pub fn key_of(report: &Report, raw: &[u8], recipient: &str) -> String {
    match &report.message_id {
        Some(id) => dedupe_key(&["dsn", id, recipient]),
        None => {
            let digest = hex::encode(Sha256::digest(raw));
            dedupe_key(&["dsn-raw", &digest, recipient])
        }
    }
}

impl Applier {
    /// Open `STATE/bounces.jsonl` and `STATE/suppressed.csv`.
    pub fn open(state_dir: &Path, rules: &Bounces) -> Result<Applier, SourceError> {
        Ok(Applier {
            log: BounceLog::open_state(state_dir)?,
            suppression: Suppression::load_state(state_dir)?,
            rules: rules.clone(),
        })
    }

    pub fn suppression(&self) -> &Suppression {
        &self.suppression
    }

    /// Record one bounced recipient of `report` (read from `raw`), at `now`.
    pub fn apply(
        &mut self,
        report: &Report,
        raw: &[u8],
        b: &Bounce,
        now: OffsetDateTime,
    ) -> io::Result<Applied> {
        let key = key_of(report, raw, &b.recipient);
        if self.log.contains_key(&key) {
            return Ok(Applied::default());
        }
        // The bounce happened when the report was written, if it says so and that is not
        // in the future; a backlog read today must not count as today's bounces.
        let when = report
            .date
            .as_deref()
            .and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok())
            .filter(|t| *t <= now)
            .unwrap_or(now);
        let time = when
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| crate::deliver::bounce_log::now_rfc3339());
        let why = match (&b.status, b.diagnostic.is_empty()) {
            (Some(s), false) => format!("{} ({s}): {}", b.reason, b.diagnostic),
            (Some(s), true) => format!("{} ({s})", b.reason),
            (None, false) => format!("{}: {}", b.reason, b.diagnostic),
            (None, true) => b.reason.to_string(),
        };
        let why = super::text::truncate(&why, 300);
        // Suppress first, then log: a crash between the two leaves a log without the line,
        // and the next pass suppresses (a no-op) and logs it.
        let suppress = match b.class {
            Class::Hard => Some(format!("hard bounce: {why}")),
            Class::Complaint => Some(format!("complaint: {why}")),
            Class::Soft => {
                let mut times = self.log.soft_bounces(&b.recipient).to_vec();
                times.push(when);
                soft_limit_reached(
                    &times,
                    self.rules.soft_limit,
                    self.rules.soft_window_days,
                    now,
                )
                .then(|| {
                    format!(
                        "{} soft bounces within {} days, last: {why}",
                        self.rules.soft_limit, self.rules.soft_window_days
                    )
                })
            }
            Class::AutoReply => None,
        };
        let mut applied = Applied::default();
        if let Some(reason) = suppress {
            applied.suppressed = self.suppression.add(&b.recipient, &reason, "dsn")?;
        }
        let rec = BounceRecord {
            time,
            address: b.recipient.clone(),
            class: class_of(b.class),
            reason: Some(b.reason.as_str().to_string()),
            code: b.smtp_code,
            enhanced_status: b.status.clone(),
            text: b.diagnostic.clone(),
            issue: report.trace.issue.clone(),
            source: BounceSource::Dsn,
            message_id: report.message_id.clone(),
            key,
        };
        applied.recorded = self.log.append(&rec)?;
        Ok(applied)
    }

    /// Make every record durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.log.sync()
    }
}
