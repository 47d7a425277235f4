//! A bulk send from start to end: lock and read the issue's record, walk the list once to say
//! what will happen (the preflight), and only once the send is confirmed, begin this run's
//! journal and deliver.
//!
//! Nothing is written to the record before [`BulkSend::run`]: a send that is declined, finds
//! nothing to do, or fails its preflight leaves the record as it was. A dry run takes no lock
//! and writes nothing but the outbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::ProgressBar;

use super::preflight::Preflight;
use super::run::{Records, RunInput, Sink, Summary, build_for, execute};
use super::selection::{self, Selection};
use crate::compose::CompiledIssue;
use crate::config::Config;
use crate::deliver::bounce_log::BounceLog;
use crate::deliver::issue_record::{self, IssueLock};
use crate::deliver::journal::{self, Damage, Journal, JournalId, JournalState, Round};
use crate::deliver::rate::{Rate, RateLimiter};
use crate::deliver::{Cancel, PoolOptions, Throttle};
use crate::list::{Filter, OptOuts, Rules, Shard, Suppression};
use crate::message::MessageFactory;

/// What the user asked of a bulk send.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// The lists, merged: an address in more than one is mailed once.
    pub lists: Vec<PathBuf>,
    /// `--where`: only the members whose row matches.
    pub filter: Option<Arc<Filter>>,
    /// How the list's consent columns are read (`[lists]`).
    pub rules: Rules,
    pub shard: Option<Shard>,
    pub round: Round,
    /// Leave out members whose earlier transaction was cut off.
    pub skip_uncertain: bool,
    /// Write into the outbox; record nothing.
    pub dry_run: bool,
}

/// A bulk send, prepared: the record read under the issue's lock, the list walked.
pub struct BulkSend<'a> {
    issue_id: &'a str,
    compiled: &'a CompiledIssue,
    factory: MessageFactory,
    options: BulkOptions,
    state_dir: PathBuf,
    /// The state of the round this send writes (empty for a new round).
    record: JournalState,
    round: u32,
    lock: Option<IssueLock>,
    suppression: Suppression,
    /// Who any row of the list marks as not to be mailed, from the pre-scan.
    opt_outs: Arc<OptOuts>,
    preflight: Preflight,
    /// At most this many members in this run (the daily quota's room).
    limit: Option<u64>,
}

impl<'a> BulkSend<'a> {
    /// Lock the issue's record (unless a dry run), read every journal of the issue, read the
    /// suppression list (once for the whole run), walk the list, and render the first
    /// message in full so a broken template fails before anything is sent.
    pub fn prepare(
        state_dir: &Path,
        compiled: &'a CompiledIssue,
        factory: MessageFactory,
        issue_id: &'a str,
        options: BulkOptions,
    ) -> anyhow::Result<BulkSend<'a>> {
        // Before anything else: who any row marks as not to be mailed; a consent value
        // bulletin does not understand stops the send here.
        if let Some(filter) = &options.filter {
            let columns = selection::columns(&options.lists, &options.rules)?;
            filter.check_columns(columns.iter().map(String::as_str))?;
        }
        let lists: Vec<&Path> = options.lists.iter().map(PathBuf::as_path).collect();
        let opt_outs = Arc::new(OptOuts::scan(&lists, &options.rules)?);
        let lock = if options.dry_run {
            None
        } else {
            Some(IssueLock::acquire(state_dir, issue_id)?)
        };
        let record = issue_record::read(state_dir, issue_id)?;
        let round = options.round.number(record.round());
        let record = if round == record.round() {
            record
        } else {
            record.next_round()
        };
        // Message-IDs are derived per round, so a member mailed again after a cut-off keeps the
        // same one; the list's name goes into X-Bulletin-List for tracing bounces.
        let list_name = options
            .lists
            .iter()
            .filter_map(|l| l.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(",");
        let factory = factory.with_round(round).with_list(&list_name);

        let mut selection = Selection::new(
            Suppression::load_state(state_dir)?,
            opt_outs.clone(),
            &record,
            options.shard,
            options.skip_uncertain,
        )
        .with_filter(options.filter.clone());
        let filter_text = options.filter.as_ref().map(|f| f.text());
        let preflight = Preflight::scan(&options.lists, filter_text, &mut selection)?;
        let suppression = selection.into_suppression();
        let send = BulkSend {
            issue_id,
            compiled,
            factory,
            options,
            state_dir: state_dir.to_path_buf(),
            record,
            round,
            lock,
            suppression,
            opt_outs,
            preflight,
            limit: None,
        };
        if let Some(first) = &send.preflight.first {
            build_for(&send.input(), first, false).with_context(|| {
                format!(
                    "cannot build the message for {}:{} ({})",
                    send.preflight.first_list.display(),
                    first.line,
                    first.email
                )
            })?;
        }
        Ok(send)
    }

    /// What the send will do.
    pub fn preflight(&self) -> &Preflight {
        &self.preflight
    }

    /// Damaged lines met in the issue's journals (each named with its file and line).
    pub fn damage(&self) -> &[Damage] {
        self.record.damage()
    }

    /// Hand over at most `limit` members in this run (the daily quota's room).
    pub fn with_limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }

    /// The round this send writes.
    pub fn round(&self) -> u32 {
        self.round
    }

    fn input(&self) -> RunInput<'_> {
        RunInput {
            issue_id: self.issue_id,
            compiled: self.compiled,
            factory: &self.factory,
            lists: &self.options.lists,
            limit: self.limit,
        }
    }

    /// The confirmed send: begin this run's journal (a real send), then deliver to `sink`.
    /// Returns what was done, and why the run stopped early if it did.
    pub fn run(
        mut self,
        sink: Sink<'_>,
        bar: &ProgressBar,
        cancel: &Cancel,
    ) -> (Summary, anyhow::Result<()>) {
        let records = match self.records() {
            Ok(r) => r,
            Err(e) => return (Summary::default(), Err(e)),
        };
        let selection = Selection::new(
            std::mem::take(&mut self.suppression),
            self.opt_outs.clone(),
            &self.record,
            self.options.shard,
            self.options.skip_uncertain,
        )
        .with_filter(self.options.filter.clone());
        let (mut summary, stopped) = execute(&self.input(), selection, sink, records, bar, cancel);
        // Whoever the run stopped before, handed over or not, is due next time.
        let done = summary.accepted
            + summary.written
            + summary.refused
            + summary.deferred
            + summary.uncertain
            + summary.failed;
        summary.not_tried = self.preflight.to_send.saturating_sub(done);
        (summary, stopped)
    }

    /// The journal, bounce log and suppression list this run writes (none in a dry run).
    fn records(&mut self) -> anyhow::Result<Option<Records>> {
        let Some(lock) = self.lock.take() else {
            return Ok(None);
        };
        let lists = &self.options.lists;
        let mut fingerprints = Vec::with_capacity(lists.len());
        for list in lists {
            fingerprints.push(
                journal::list_fingerprint(list)
                    .with_context(|| format!("cannot read {}", list.display()))?,
            );
        }
        let names: Vec<String> = lists.iter().map(|l| l.display().to_string()).collect();
        let id = JournalId {
            issue: self.issue_id.to_string(),
            list: names.join(","),
            fingerprint: fingerprints.join(","),
        };
        let path = issue_record::path_for(&self.state_dir, self.issue_id, self.options.shard);
        let journal = Journal::begin(lock, &path, &id, self.round)?;
        Ok(Some(Records {
            journal,
            bounces: BounceLog::open(&self.state_dir.join("bounces.jsonl"))?,
            suppression: self.suppression.clone(),
        }))
    }
}

/// The pace of a send (e.g. `30/m`, `unlimited`): the one given, or the configured default.
pub fn rate(given: Option<&str>, config: &Config) -> anyhow::Result<Option<Rate>> {
    Ok(limits(given, config)?.0)
}

/// The pace and the daily quota of a send. `given` holds one or both, separated by a comma
/// (`30/m`, `2000/d`, `30/m,2000/d`); a `N/d` is the quota, anything shorter the pace. What
/// is not given comes from `[send] rate` and `[send] daily_quota`.
pub fn limits(given: Option<&str>, config: &Config) -> anyhow::Result<(Option<Rate>, Option<u32>)> {
    let (given_rate, given_quota) = match given {
        Some(text) => split_limits(text)?,
        None => (None, None),
    };
    let (config_rate, config_quota) = split_limits(&config.send.rate)
        .map_err(|e| anyhow::anyhow!("[send] rate in bulletin.toml: {e}"))?;
    let rate = given_rate.unwrap_or(config_rate.flatten());
    let quota = given_quota.or(config_quota).or(config.send.daily_quota);
    if quota == Some(0) {
        anyhow::bail!("[send] daily_quota must be at least 1");
    }
    Ok((rate, quota))
}

/// `(pace, quota)` of one `--rate` text; the pace is `Some(None)` for `unlimited`.
fn split_limits(text: &str) -> anyhow::Result<(Option<Option<Rate>>, Option<u32>)> {
    let mut pace = None;
    let mut quota = None;
    for part in text.split(',') {
        let parsed = Rate::parse(part).map_err(|e| anyhow::anyhow!("{e}"))?;
        match parsed {
            Some(r) if r.per == crate::deliver::quota::WINDOW => quota = Some(r.count),
            Some(r) if r.per > crate::deliver::quota::WINDOW => anyhow::bail!(
                "invalid rate {part:?}: windows longer than a day are not kept; give the daily quota as N/d"
            ),
            other => pace = Some(other),
        }
    }
    Ok((pace, quota))
}

/// The SMTP pool's settings from the configuration, the rate and the number of connections.
pub fn pool_options(
    config: &Config,
    rate: Option<Rate>,
    connections: usize,
    cancel: Cancel,
) -> PoolOptions {
    let limiter: Option<std::sync::Arc<dyn Throttle>> = match rate {
        Some(r) => Some(std::sync::Arc::new(RateLimiter::new(r))),
        None => None,
    };
    PoolOptions {
        connections,
        retries: config.send.retries,
        limiter,
        timeout: Duration::from_secs(config.smtp.timeout_secs),
        data_timeout: Duration::from_secs(config.smtp.data_timeout_secs.max(1)),
        backoff: Duration::from_millis(config.send.retry_backoff_ms),
        retry_for: Duration::from_secs(config.send.retry_for_secs),
        give_up_after: config.send.stop_after_deferred,
        cancel,
    }
}
