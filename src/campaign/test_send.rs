//! A test send: one copy of the issue, its subject marked `[TEST]`, to each address given,
//! personalised as a member of a list when asked. No journal, no bounce log.

use std::path::Path;

use anyhow::bail;

use super::run::{RunInput, build_for};
use crate::deliver::{Event, Job, Outcome, PoolOptions, SmtpTarget, deliver};
use crate::list::{self, Entry};
use crate::message::Outgoing;
use crate::subscriber::Subscriber;

/// Find a member of a list by address.
pub fn find_member(list: &Path, email: &str) -> anyhow::Result<Subscriber> {
    let key = crate::subscriber::normalise_address(email);
    for entry in list::open(list)? {
        if let Entry::Member(s) = entry?
            && s.key() == key
        {
            return Ok(s);
        }
    }
    bail!("{}: no member with the address {email}", list.display())
}

/// The marked copies for `to`, each personalised as `sample` when given (else as a member
/// with only that address).
pub fn build_copies(
    input: &RunInput<'_>,
    sample: Option<&Subscriber>,
    to: &[String],
) -> anyhow::Result<Vec<Outgoing>> {
    to.iter()
        .map(|to| {
            let mut member = sample
                .cloned()
                .unwrap_or_else(|| Subscriber::from_email(to));
            member.email = to.trim().to_string();
            build_for(input, &member, true)
        })
        .collect()
}

/// Send each copy through the pool; returns each recipient with the server's answer, in the
/// order the answers came.
pub fn deliver_copies(
    target: &SmtpTarget,
    options: PoolOptions,
    copies: Vec<Outgoing>,
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let jobs: Vec<Job> = copies
        .into_iter()
        .enumerate()
        .map(|(i, out)| Job {
            id: i as u64,
            from: out.envelope_from,
            to: out.to,
            bytes: out.bytes.into(),
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcomes = runtime.block_on(async {
        let (job_tx, job_rx) = tokio::sync::mpsc::channel(jobs.len().max(1));
        let (event_tx, mut event_rx) = tokio::sync::mpsc::channel(16);
        for job in jobs.clone() {
            let _ = job_tx.send(job).await;
        }
        drop(job_tx);
        let collect = async {
            let mut done = Vec::new();
            while let Some(event) = event_rx.recv().await {
                if let Event::Done {
                    id,
                    outcome,
                    durable,
                } = event
                {
                    let _ = durable.send(());
                    done.push((id, outcome));
                }
            }
            done
        };
        let (delivered, done) = tokio::join!(deliver(target, job_rx, options, event_tx), collect);
        delivered.map(|()| done)
    })?;
    Ok(outcomes
        .into_iter()
        .map(|(id, outcome)| (jobs[id as usize].to.clone(), outcome))
        .collect())
}
