//! The send pass: render and build each selected member's message on a producer thread, hand it
//! to the SMTP pool (or the outbox), and record every outcome in the journal and bounce log.
//!
//! Durability: a member's `Attempt` is appended to the journal before their message is queued;
//! outcomes are appended as they arrive and synced in batches (group commit), and the pool is told
//! when each outcome is durable. A worker never finishes a second message before the previous
//! one's outcome is on disk, so a crash costs at most one duplicate per connection.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::sync::mpsc;

use super::retry_notice::RetryNotice;
use super::selection::{Decision, Selection, walk};
use crate::compose::{CompiledIssue, Recipient};
use crate::deliver::bounce_log::{
    BounceClass, BounceLog, BounceRecord, BounceSource, dedupe_key, now_rfc3339,
};
use crate::deliver::journal::{Journal, Record};
use crate::deliver::rate::Rate;
use crate::deliver::{Cancel, Event, Job, Outcome, PoolOptions, SmtpTarget, deliver};
use crate::list::AddressKey;
use crate::list::suppression::Suppression;
use crate::message::{MessageFactory, Outbox, Outgoing};
use crate::subscriber::Subscriber;

/// Where messages go.
pub enum Sink<'a> {
    /// `--dry-run`: `.eml` files in a folder.
    Outbox(&'a Outbox),
    /// A real SMTP server.
    Smtp {
        target: &'a SmtpTarget,
        options: PoolOptions,
    },
}

/// Everything a run needs that does not change during it.
pub struct RunInput<'a> {
    pub issue_id: &'a str,
    pub compiled: &'a CompiledIssue,
    pub factory: &'a MessageFactory,
    /// The lists, in the order they are read.
    pub lists: &'a [PathBuf],
    /// At most this many members are handed over in this run (the daily quota's room).
    pub limit: Option<u64>,
}

/// The end of a run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    /// Accepted by the server.
    pub accepted: u64,
    /// Written to the outbox (`--dry-run`).
    pub written: u64,
    /// Refused for good (5xx): logged as hard bounces and suppressed.
    pub refused: u64,
    /// Refused for now (4xx, dropped connections) after every retry: mailed again by the next run.
    pub deferred: u64,
    /// Never tried to the end: the run stopped first (Ctrl-C, a server that turns everything
    /// away). Due again: the next run mails them.
    pub not_tried: u64,
    /// The first [`NAMED`] members refused for good, with the server's reply (all of them are
    /// in the bounce log).
    pub refused_members: Vec<FailedMember>,
    /// The first [`NAMED`] members deferred, with the last reply.
    pub deferred_members: Vec<FailedMember>,
    /// How long the send pass took, in seconds.
    pub elapsed_secs: f64,
    /// Not sent because their message could not be built (named on stderr).
    pub failed: u64,
    /// Sent, but the server never answered the final `.`: it may have taken them. Not sent
    /// again by this run; left in the journal as attempts without an outcome, so the next run
    /// mails them again unless `--skip-uncertain`.
    pub uncertain: u64,
    /// The uncertain members, in the order their transactions ended.
    pub uncertain_members: Vec<UncertainMember>,
    /// Stopped by Ctrl-C (or a fatal server error) before the end of the list.
    pub interrupted: bool,
    /// Stopped because the daily quota had no room for the next member.
    pub quota_reached: bool,
}

/// How many refused and deferred members a summary names; the rest are counted.
pub const NAMED: usize = 20;

/// A member the server refused, for good or for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedMember {
    pub email: String,
    /// The member's list, when the send read several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// The member's line in the list.
    pub line: u64,
    /// The server's reply, or what went wrong.
    pub reply: String,
}

fn name(members: &mut Vec<FailedMember>, member: &Member, reply: String) {
    let (member, list) = member;
    if members.len() < NAMED {
        members.push(FailedMember {
            email: member.email.clone(),
            list: list.as_ref().map(|l| l.display().to_string()),
            line: member.line,
            reply,
        });
    }
}

/// A member handed over, with their list when the send reads several.
type Member = (Subscriber, Option<Arc<Path>>);

/// A member whose message was sent without an answer to its final `.`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncertainMember {
    pub email: String,
    /// The member's list, when the send read several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// The member's line in the list.
    pub line: u64,
    /// What came instead of the answer (a timeout, a hang-up).
    pub reason: String,
}

impl Summary {
    pub fn all_done(&self) -> bool {
        self.refused == 0
            && self.deferred == 0
            && self.not_tried == 0
            && self.failed == 0
            && self.uncertain == 0
            && !self.interrupted
    }
}

/// The progress bar: drawn on stderr only when it is a terminal.
pub fn progress_bar(total: u64, limit: Option<&Rate>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let limit = limit.map(Rate::per_second);
    let bar = ProgressBar::new(total);
    // `wide_bar` takes what the rest of the line leaves, so the line fits the terminal.
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{wide_bar}] {pos}/{len} · {rate} · {elapsed} · ETA {eta}{msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&smoothed_rate(state.pos(), state.elapsed(), limit));
            },
        )
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The rate shown on the bar: messages since the start over the time since the start (not
/// the last few, which a burst inflates), never above the limit the run keeps to.
pub fn smoothed_rate(done: u64, elapsed: Duration, limit: Option<f64>) -> String {
    let secs = elapsed.as_secs_f64();
    if done == 0 || secs < 0.5 {
        return "-/s".into();
    }
    let mut per_sec = done as f64 / secs;
    if let Some(limit) = limit {
        per_sec = per_sec.min(limit);
    }
    if per_sec >= 10.0 {
        format!("{per_sec:.0}/s")
    } else if per_sec >= 1.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{:.0}/min", per_sec * 60.0)
    }
}

struct Counters<'a> {
    summary: Summary,
    bar: &'a ProgressBar,
}

impl Counters<'_> {
    fn show(&self) {
        let s = &self.summary;
        self.bar.set_position(s.accepted + s.written);
        // Only what happened, so the line stays short.
        let mut msg = String::new();
        for (n, what) in [
            (s.refused, "refused"),
            (s.deferred, "deferred"),
            (s.uncertain, "uncertain"),
            (s.failed, "not built"),
        ] {
            if n > 0 {
                msg.push_str(&format!(" · {n} {what}"));
            }
        }
        self.bar.set_message(msg);
    }
}

/// Render and build one member's message.
pub fn build_for(
    input: &RunInput<'_>,
    member: &Subscriber,
    test: bool,
) -> anyhow::Result<Outgoing> {
    let token = input.factory.token(&member.email);
    let unsubscribe_url = input.factory.unsubscribe_url(&token);
    let rendered = input.compiled.render(&Recipient {
        subscriber: member,
        unsubscribe_url: &unsubscribe_url,
    })?;
    Ok(input.factory.build(&rendered, member, &token, test)?)
}

/// Walk the list and hand each selected member's message to `emit` (which returns false to stop).
///
/// Members go out in batches of `batch`: their `Attempt`s are appended and synced once per
/// batch, so each member's attempt is on disk before `emit` sees them, at one disk sync per
/// batch. Once a batch is built it is handed over whole, even when the run is stopping, so
/// that every member with an attempt reaches `emit` (which accounts for them).
fn produce(
    input: &RunInput<'_>,
    mut selection: Selection<'_>,
    journal: &Mutex<Option<Journal>>,
    cancel: &Cancel,
    counters: &Mutex<Counters<'_>>,
    batch: usize,
    mut emit: impl FnMut(u64, Member, Outgoing) -> bool,
) -> anyhow::Result<()> {
    // Each member's list is named only when there are several.
    let names: Vec<Arc<Path>> = if input.lists.len() > 1 {
        input.lists.iter().map(|l| Arc::from(l.as_path())).collect()
    } else {
        Vec::new()
    };
    let mut next_id = 0u64;
    let mut taken = 0u64;
    let mut journal_error = None;
    let mut pending: Vec<(Member, Outgoing)> = Vec::with_capacity(batch);
    let mut go_on = true;
    let mut hand_over = |pending: &mut Vec<(Member, Outgoing)>,
                         journal_error: &mut Option<std::io::Error>|
     -> bool {
        if pending.is_empty() {
            return true;
        }
        if let Some(j) = lock(journal).as_mut()
            && let Err(e) = j.sync()
        {
            *journal_error = Some(e);
            pending.clear();
            return false;
        }
        let mut ok = true;
        for (member, out) in pending.drain(..) {
            let id = next_id;
            next_id += 1;
            ok &= emit(id, member, out);
        }
        ok
    };
    let walked = walk(input.lists, &mut selection, |list, decision| {
        if cancel.is_cancelled() {
            return false;
        }
        let member = match decision {
            Decision::Send(s) | Decision::Resend(s) => s,
            Decision::Skip { .. } => return true,
        };
        if input.limit.is_some_and(|limit| taken >= limit) {
            lock(counters).summary.quota_reached = true;
            return false;
        }
        let out = match build_for(input, &member, false) {
            Ok(out) => out,
            Err(e) => {
                let mut c = lock(counters);
                c.bar.suspend(|| {
                    eprintln!(
                        "warning: {}:{}: {}: not sent: {e:#}",
                        list.display(),
                        member.line,
                        member.email
                    )
                });
                c.summary.failed += 1;
                c.show();
                return true;
            }
        };
        if let Some(j) = lock(journal).as_mut()
            && let Err(e) = j.append(&Record::attempt(&member.email, member.line))
        {
            journal_error = Some(e);
            return false;
        }
        taken += 1;
        let list = names.iter().find(|n| ***n == *list).cloned();
        pending.push(((member, list), out));
        if pending.len() >= batch.max(1) {
            go_on = hand_over(&mut pending, &mut journal_error);
        }
        go_on
    });
    // Members already built and journaled go out even if the list broke off after them.
    if go_on {
        hand_over(&mut pending, &mut journal_error);
    }
    walked?;
    match journal_error {
        Some(e) => Err(anyhow::Error::new(e).context("cannot write the journal")),
        None => Ok(()),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the run records besides the journal: the bounce log and the suppression list.
pub struct Records {
    pub journal: Journal,
    pub bounces: BounceLog,
    pub suppression: Suppression,
}

/// Run the send pass to the end of the list, Ctrl-C, or a fatal server error.
///
/// Returns what was done, and why the run stopped early if it did. Every member whose attempt
/// is in the journal has an outcome there when this returns: those the run stopped before
/// handing to the server are recorded as deferred.
pub fn execute(
    input: &RunInput<'_>,
    selection: Selection<'_>,
    sink: Sink<'_>,
    records: Option<Records>,
    bar: &ProgressBar,
    cancel: &Cancel,
) -> (Summary, anyhow::Result<()>) {
    let started = std::time::Instant::now();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let e = anyhow::Error::new(e).context("cannot start the async runtime");
            return (Summary::default(), Err(e));
        }
    };
    let watch_cancel = cancel.clone();
    let ctrl_c = runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            watch_cancel.cancel();
        }
    });
    let (journal, mut side) = match records {
        Some(r) => (Some(r.journal), Some((r.bounces, r.suppression))),
        None => (None, None),
    };
    let journal = Mutex::new(journal);
    let counters = Mutex::new(Counters {
        summary: Summary::default(),
        bar,
    });

    let outcome = match sink {
        Sink::Outbox(outbox) => {
            let mut index = 0u64;
            let mut write_error = None;
            produce(
                input,
                selection,
                &journal,
                cancel,
                &counters,
                1,
                |_, _, out| {
                    index += 1;
                    if let Err(e) = outbox.write(&out, index) {
                        write_error = Some(e);
                        return false;
                    }
                    let mut c = lock(&counters);
                    c.summary.written += 1;
                    c.show();
                    true
                },
            )
            .and_then(|()| match write_error {
                Some(e) => Err(anyhow::Error::new(e).context("cannot write to the outbox")),
                None => Ok(()),
            })
        }
        Sink::Smtp { target, options } => {
            let batch = options.connections.max(1);
            let capacity = batch * 2;
            let inflight: Mutex<HashMap<u64, Member>> = Mutex::new(HashMap::new());
            std::thread::scope(|scope| {
                let (job_tx, job_rx) = mpsc::channel::<Job>(capacity);
                let (event_tx, event_rx) = mpsc::channel::<Event>(1024);
                let (journal, counters, inflight) = (&journal, &counters, &inflight);
                let producer = scope.spawn(move || {
                    produce(
                        input,
                        selection,
                        journal,
                        cancel,
                        counters,
                        batch,
                        |id, member, out| {
                            lock(inflight).insert(id, member);
                            let job = Job {
                                id,
                                from: out.envelope_from,
                                to: out.to,
                                bytes: out.bytes.into(),
                            };
                            job_tx.blocking_send(job).is_ok()
                        },
                    )
                });
                let delivered = runtime.block_on(async {
                    let consume = record_events(
                        event_rx,
                        input.issue_id,
                        target.host(),
                        inflight,
                        journal,
                        &mut side,
                        counters,
                    );
                    let (delivered, recorded) =
                        tokio::join!(deliver(target, job_rx, options, event_tx), consume);
                    recorded?;
                    delivered.map_err(anyhow::Error::new)
                });
                let produced = producer
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the message builder stopped")));
                let stranded = account_stranded(inflight, journal, counters);
                delivered.and(produced).and(stranded)
            })
        }
    };
    ctrl_c.abort();
    let synced = match lock(&journal).as_mut() {
        Some(j) => j.sync().context("cannot sync the journal"),
        None => Ok(()),
    };
    let mut summary = lock(&counters).summary.clone();
    summary.interrupted = cancel.is_cancelled();
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    (summary, outcome.and(synced))
}

/// Members handed over whom the pool never took (it stopped first): journal them as deferred,
/// so the next run sends them and no attempt is left without an outcome.
fn account_stranded(
    inflight: &Mutex<HashMap<u64, Member>>,
    journal: &Mutex<Option<Journal>>,
    counters: &Mutex<Counters<'_>>,
) -> anyhow::Result<()> {
    let stranded: Vec<Subscriber> = lock(inflight).drain().map(|(_, (m, _))| m).collect();
    if stranded.is_empty() {
        return Ok(());
    }
    if let Some(j) = lock(journal).as_mut() {
        for member in &stranded {
            j.append(&Record::Deferred {
                key: AddressKey::of(&member.email),
                text: "not sent: the run stopped before this message was handed to the server"
                    .into(),
            })
            .context("cannot write the journal")?;
        }
    }
    let mut c = lock(counters);
    c.summary.not_tried += stranded.len() as u64;
    c.show();
    Ok(())
}

/// Record each outcome in the journal, the bounce log and the suppression list, and tell the
/// pool it is durable once synced. Syncs wait until a worker needs its outcomes durable
/// ([`Event::Waiting`]), so one disk sync covers every outcome received until then.
async fn record_events(
    mut events: mpsc::Receiver<Event>,
    issue_id: &str,
    host: &str,
    inflight: &Mutex<HashMap<u64, Member>>,
    journal: &Mutex<Option<Journal>>,
    side: &mut Option<(BounceLog, Suppression)>,
    counters: &Mutex<Counters<'_>>,
) -> anyhow::Result<()> {
    let mut batch = Vec::new();
    let mut durable = Vec::new();
    let mut notice = RetryNotice::default();
    loop {
        let open = events.recv_many(&mut batch, 256).await > 0;
        let mut wanted = !open;
        for event in batch.drain(..) {
            let (id, outcome, ack) = match event {
                Event::Done {
                    id,
                    outcome,
                    durable,
                } => (id, outcome, durable),
                Event::Waiting => {
                    wanted = true;
                    continue;
                }
                Event::Retrying {
                    id,
                    attempt,
                    of,
                    wait,
                    ..
                } => {
                    let bar = lock(counters).bar;
                    notice.waiting(bar, id, host, (attempt + 1, of), wait);
                    continue;
                }
                Event::Attempt { .. } => continue,
            };
            let bar = lock(counters).bar;
            notice.over(bar, (!outcome.is_accepted()).then_some(id));
            let Some(handed) = lock(inflight).remove(&id) else {
                continue;
            };
            let member = &handed.0;
            let key = AddressKey::of(&member.email);
            let record = match &outcome {
                Outcome::Accepted { reply } => Some(Record::Accepted {
                    key,
                    reply: reply.clone(),
                }),
                // The server may have it: the attempt stays without an outcome, which the next
                // run reads as uncertain.
                Outcome::Uncertain { .. } => None,
                // The run stopped before this member's message was sent: due next run.
                Outcome::Refused { text, .. } if outcome.is_not_sent() => Some(Record::Deferred {
                    key,
                    text: text.clone(),
                }),
                Outcome::Refused {
                    permanent,
                    code,
                    enhanced,
                    text,
                } => {
                    if let Some((log, suppression)) = side.as_mut() {
                        log_refusal(log, suppression, issue_id, member, &outcome)?;
                    }
                    Some(if *permanent {
                        Record::Refused {
                            key,
                            code: *code,
                            enhanced: enhanced.clone(),
                            text: text.clone(),
                            permanent: true,
                        }
                    } else {
                        Record::Deferred {
                            key,
                            text: text.clone(),
                        }
                    })
                }
            };
            if let Some(record) = record
                && let Some(j) = lock(journal).as_mut()
            {
                j.append(&record).context("cannot write the journal")?;
            }
            let mut c = lock(counters);
            match outcome {
                Outcome::Accepted { .. } => c.summary.accepted += 1,
                ref o if o.is_not_sent() => c.summary.not_tried += 1,
                ref o @ Outcome::Refused { permanent, .. } => {
                    let reply = o.reply();
                    if permanent {
                        c.summary.refused += 1;
                        name(&mut c.summary.refused_members, &handed, reply);
                    } else {
                        c.summary.deferred += 1;
                        name(&mut c.summary.deferred_members, &handed, reply);
                    }
                }
                Outcome::Uncertain { text } => {
                    c.summary.uncertain += 1;
                    c.summary.uncertain_members.push(UncertainMember {
                        email: member.email.clone(),
                        list: handed.1.as_ref().map(|l| l.display().to_string()),
                        line: member.line,
                        reason: text,
                    });
                }
            }
            c.show();
            durable.push(ack);
        }
        if wanted && !durable.is_empty() {
            if let Some(j) = lock(journal).as_mut() {
                j.sync().context("cannot sync the journal")?;
            }
            if let Some((log, _)) = side.as_mut() {
                log.sync().context("cannot sync the bounce log")?;
            }
            for ack in durable.drain(..) {
                let _ = ack.send(());
            }
        }
        if !open {
            return Ok(());
        }
    }
}

/// An SMTP-time refusal goes into the bounce log; a permanent one also suppresses the address.
fn log_refusal(
    log: &mut BounceLog,
    suppression: &mut Suppression,
    issue_id: &str,
    member: &Subscriber,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let Outcome::Refused {
        permanent,
        code,
        enhanced,
        text,
    } = outcome
    else {
        return Ok(());
    };
    let time = now_rfc3339();
    // The class follows the reason, not the reply class alone: a 550 for our sending host's
    // reputation is no dead address, a 450 "user unknown" is.
    let (reason, class) =
        crate::bounce::classify_reply(*permanent, *code, enhanced.as_deref(), text);
    let hard = class == crate::bounce::Class::Hard;
    let record = BounceRecord {
        key: dedupe_key(&[issue_id, &member.email, &time, text]),
        time,
        address: member.email.clone(),
        class: if hard {
            BounceClass::Hard
        } else {
            BounceClass::Soft
        },
        reason: Some(reason.as_str().to_string()),
        code: *code,
        enhanced_status: enhanced.clone(),
        text: text.clone(),
        issue: Some(issue_id.to_string()),
        source: BounceSource::Smtp,
        message_id: None,
    };
    log.append(&record).context("cannot write the bounce log")?;
    if hard {
        suppression
            .add(
                &member.email,
                &format!("hard bounce at send time ({reason})"),
                issue_id,
            )
            .context("cannot write the suppression list")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_shown_is_the_average_and_never_above_the_limit() {
        let secs = Duration::from_secs;
        assert_eq!(smoothed_rate(0, secs(5), None), "-/s");
        assert_eq!(smoothed_rate(120, secs(10), None), "12/s");
        assert_eq!(smoothed_rate(39, secs(10), None), "3.9/s");
        // a burst at the start of a 10/s run: 39 in one second shows as the limit
        assert_eq!(smoothed_rate(39, secs(1), Some(10.0)), "10/s");
        // 30 a minute
        assert_eq!(smoothed_rate(30, secs(3), Some(0.5)), "30/min");
    }
}
