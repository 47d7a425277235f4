//! `bulletin send`: a test send with `--to`, a bulk send with `--list`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::campaign::preflight::Preflight;
use crate::campaign::run::{Records, RunInput, Sink, Summary, build_for, execute, progress_bar};
use crate::campaign::selection::Selection;
use crate::cli::SendArgs;
use crate::compose::{self, CompiledIssue};
use crate::deliver::bounce_log::BounceLog;
use crate::deliver::journal::{self, Journal, JournalId, JournalState, Round};
use crate::deliver::rate::{Rate, RateLimiter};
use crate::deliver::{Cancel, Event, Job, Outcome, PoolOptions, Secret, SmtpTarget, deliver};
use crate::list::{self, Entry, Shard, Suppression};
use crate::message::{MessageFactory, Outbox};
use crate::project::Project;
use crate::run::exit;
use crate::subscriber::Subscriber;

pub fn run(args: SendArgs) -> anyhow::Result<i32> {
    let project = Project::discover(&args.issue.issue)?;
    // `send` refuses what `check` refuses, before anything is sent.
    let compiled = match compose::lint(&project, &args.issue.issue, args.issue.template.as_deref())?
        .sendable(&args.issue.issue)
    {
        Ok(ok) => {
            eprint!("{}", ok.warnings);
            ok.compiled
        }
        Err(refusal) => {
            eprint!("{refusal}");
            return Ok(exit::PARTIAL);
        }
    };
    let issue_id = issue_id(&compiled);
    let factory =
        MessageFactory::new(&project.config, &project.root, &issue_id, compiled.images())?;

    if !args.to.is_empty() {
        return test_send(&args, &project, &compiled, &factory, &issue_id);
    }
    let Some(list) = args.list.clone() else {
        bail!(
            "nothing to send to: give --to ADDRESS for a test send or --list CSV for a bulk send"
        );
    };
    bulk_send(&args, &project, &compiled, factory, &issue_id, &list)
}

/// The issue's identifier in journals and logs: its folder name.
fn issue_id(compiled: &CompiledIssue) -> String {
    compiled
        .issue_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "issue".into())
}

fn rate(args: &SendArgs, project: &Project) -> anyhow::Result<Option<Rate>> {
    let text = args.rate.as_deref().unwrap_or(&project.config.send.rate);
    Rate::parse(text).map_err(|e| anyhow::anyhow!("{e}"))
}

fn smtp_target(args: &SendArgs, project: &Project) -> anyhow::Result<SmtpTarget> {
    let Some(url) = args.smtp.as_deref().or(project.config.smtp.url.as_deref()) else {
        bail!(
            "no SMTP server: set [smtp] url in bulletin.toml, BULLETIN_SMTP_URL or --smtp \
             (or use --dry-run to write the messages into the outbox)"
        );
    };
    let password = password(url)?;
    Ok(SmtpTarget::from_url(url, &project.config.smtp, password)?)
}

/// The SMTP password: `BULLETIN_SMTP_PASSWORD`, or a prompt when the URL names a user and
/// there is a terminal. Never an argument.
fn password(url: &str) -> anyhow::Result<Option<Secret>> {
    if let Ok(p) = std::env::var("BULLETIN_SMTP_PASSWORD") {
        return Ok(Some(Secret::new(p)));
    }
    let has_user = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .is_some_and(|authority| authority.contains('@'));
    if !has_user {
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the SMTP URL names a user but BULLETIN_SMTP_PASSWORD is not set and there is no terminal to ask"
        );
    }
    let p = rpassword::prompt_password("SMTP password: ").context("cannot read the password")?;
    Ok(Some(Secret::new(p)))
}

fn pool_options(
    args: &SendArgs,
    project: &Project,
    connections: usize,
    cancel: Cancel,
) -> anyhow::Result<PoolOptions> {
    let limiter: Option<std::sync::Arc<dyn crate::deliver::Throttle>> = match rate(args, project)? {
        Some(r) => Some(std::sync::Arc::new(RateLimiter::new(r))),
        None => None,
    };
    Ok(PoolOptions {
        connections,
        retries: project.config.send.retries,
        limiter,
        timeout: Duration::from_secs(project.config.smtp.timeout_secs),
        backoff: Duration::from_millis(project.config.send.retry_backoff_ms),
        give_up_after: project.config.send.stop_after_deferred,
        cancel,
    })
}

/// Find a member of a list by address.
fn find_member(list: &Path, email: &str) -> anyhow::Result<Subscriber> {
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

fn test_send(
    args: &SendArgs,
    project: &Project,
    compiled: &CompiledIssue,
    factory: &MessageFactory,
    issue_id: &str,
) -> anyhow::Result<i32> {
    let sample = match &args.as_email {
        Some(email) => {
            let list = args.list.clone().unwrap_or_else(|| {
                project
                    .path(&project.config.paths.lists)
                    .join("members.csv")
            });
            Some(find_member(&list, email)?)
        }
        None => None,
    };
    let input = RunInput {
        issue_id,
        compiled,
        factory,
        list: Path::new(""),
    };
    let mut messages = Vec::new();
    for to in &args.to {
        let mut member = sample.clone().unwrap_or_else(|| Subscriber::from_email(to));
        member.email = to.trim().to_string();
        messages.push(build_for(&input, &member, true)?);
    }
    if args.dry_run {
        let outbox = Outbox::new(outbox_dir(args, project))?;
        for (i, out) in messages.iter().enumerate() {
            let path = outbox.write(out, i as u64 + 1)?;
            println!("{}: written to {}", out.to, path.display());
        }
        return Ok(exit::OK);
    }
    let jobs: Vec<Job> = messages
        .into_iter()
        .enumerate()
        .map(|(i, out)| Job {
            id: i as u64,
            from: out.envelope_from,
            to: out.to,
            bytes: out.bytes.into(),
        })
        .collect();
    let target = smtp_target(args, project)?;
    let options = pool_options(args, project, 1, Cancel::new())?;
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
        let (delivered, done) = tokio::join!(deliver(&target, job_rx, options, event_tx), collect);
        delivered.map(|()| done)
    })?;
    let mut all_ok = outcomes.len() == jobs.len();
    for (id, outcome) in outcomes {
        let to = &jobs[id as usize].to;
        match outcome {
            Outcome::Accepted { reply } => println!("{to}: accepted by {target}: {reply}"),
            Outcome::Refused { text, .. } => {
                all_ok = false;
                println!("{to}: refused by {target}: {text}");
            }
        }
    }
    Ok(if all_ok { exit::OK } else { exit::PARTIAL })
}

fn outbox_dir(args: &SendArgs, project: &Project) -> PathBuf {
    match &args.outbox {
        Some(dir) => dir.clone(),
        None => project.path(&project.config.send.outbox),
    }
}

/// Ask before a bulk send. Without a terminal, only `--yes` goes ahead.
fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to send without confirmation: there is no terminal to ask; pass --yes");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn bulk_send(
    args: &SendArgs,
    project: &Project,
    compiled: &CompiledIssue,
    factory: MessageFactory,
    issue_id: &str,
    list: &Path,
) -> anyhow::Result<i32> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    let rate = rate(args, project)?;
    let connections = args
        .connections
        .unwrap_or(project.config.send.connections)
        .max(1);
    let state = project.state_dir();
    let suppression_path = state.join("suppressed.csv");

    // The unsubscribes recorded by `bulletin serve` join the suppression list first.
    if let Some(synced) =
        crate::unsubscribe::sync::before_send(project, args.allow_stale_unsubscribes)?
    {
        eprintln!("{synced}");
    }

    // A dry run reads the journal (so it shows what a real send would do) but writes nothing.
    let journal_file = journal::path_for(&state, issue_id, list, shard);
    let round = if args.new_round {
        Round::New
    } else {
        Round::Resume
    };
    let (journal, journal_state): (Option<Journal>, JournalState) = if args.dry_run {
        let state = if args.new_round || !journal_file.exists() {
            JournalState::default()
        } else {
            JournalState::read(&journal_file)?
        };
        (None, state)
    } else {
        let id = JournalId {
            issue: issue_id.to_string(),
            list: list.display().to_string(),
            fingerprint: journal::list_fingerprint(list)
                .with_context(|| format!("cannot read {}", list.display()))?,
        };
        let (j, s) = Journal::open(&journal_file, &id, round)?;
        (Some(j), s)
    };
    let journal_state = &journal_state;
    // Message-IDs are derived per round, so a member mailed again after a cut-off keeps the
    // same one; the list's name goes into X-Bulletin-List for tracing bounces.
    let round = journal
        .as_ref()
        .map_or(journal_state.round().max(1), Journal::round);
    let list_name = list
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let factory = factory.with_round(round).with_list(&list_name);
    let factory = &factory;

    let mut selection = Selection::new(
        Suppression::load(&suppression_path)?,
        journal_state,
        shard,
        args.skip_uncertain,
    );
    let preflight = Preflight::scan(list, &mut selection)?;
    // Render the first message in full before anything is sent: strict placeholders fail here.
    let input = RunInput {
        issue_id,
        compiled,
        factory,
        list,
    };
    if let Some(first) = &preflight.first {
        build_for(&input, first, false).with_context(|| {
            format!(
                "cannot build the message for {}:{} ({})",
                list.display(),
                first.line,
                first.email
            )
        })?;
    }
    eprint!("{}", preflight.report(list, rate.as_ref(), connections));
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({ "preflight": &preflight }))?
        );
    }
    if preflight.to_send == 0 {
        eprintln!("nothing to send");
        return Ok(exit::OK);
    }
    let cancel = Cancel::new();
    let sink_target;
    let outbox;
    let sink = if args.dry_run {
        outbox = Outbox::new(outbox_dir(args, project))?;
        eprintln!("dry run: writing messages into {}", outbox.dir().display());
        Sink::Outbox(&outbox)
    } else {
        sink_target = smtp_target(args, project)?;
        if !args.yes
            && !confirm(&format!(
                "Send \"{}\" to {} members through {}?",
                compiled.content().subject,
                preflight.to_send,
                sink_target
            ))?
        {
            eprintln!("nothing sent");
            return Ok(exit::ERROR);
        }
        Sink::Smtp {
            target: &sink_target,
            options: pool_options(args, project, connections, cancel.clone())?,
        }
    };

    let records = match journal {
        Some(journal) => Some(Records {
            journal,
            bounces: BounceLog::open(&state.join("bounces.jsonl"))?,
            suppression: Suppression::load(&suppression_path)?,
        }),
        None => None,
    };
    let selection = Selection::new(
        Suppression::load(&suppression_path)?,
        journal_state,
        shard,
        args.skip_uncertain,
    );
    let bar = progress_bar(preflight.to_send);
    let (summary, stopped) = execute(&input, selection, sink, records, &bar, &cancel);
    report(&summary, args.dry_run, args.json)?;
    stopped?;
    Ok(exit_code(&summary))
}

fn report(summary: &Summary, dry_run: bool, json: bool) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({ "summary": summary }))?
        );
    }
    if dry_run {
        eprintln!(
            "written: {}, not built: {}{}",
            summary.written,
            summary.failed,
            if summary.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
        return Ok(());
    }
    eprintln!(
        "accepted: {}, refused: {}, deferred: {}, not built: {}{}",
        summary.accepted,
        summary.refused,
        summary.deferred,
        summary.failed,
        if summary.interrupted {
            " (interrupted: run the same command again to resume)"
        } else if summary.deferred > 0 {
            " (run the same command again to retry the deferred)"
        } else {
            ""
        }
    );
    Ok(())
}

fn exit_code(summary: &Summary) -> i32 {
    if summary.interrupted {
        exit::INTERRUPTED
    } else if summary.all_done() {
        exit::OK
    } else {
        exit::PARTIAL
    }
}
