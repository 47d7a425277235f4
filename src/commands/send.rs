//! `bulletin send`: a test send with `--to`, a bulk send with `--list`. Glue over
//! [`crate::campaign`]: options in, the library does the work, results out.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use std::sync::Arc;

use time::OffsetDateTime;

use crate::campaign::bulk::{self, BulkOptions, BulkSend};
use crate::campaign::run::{RunInput, Sink, Summary, progress_bar};
use crate::campaign::schedule::{self, Waited};
use crate::campaign::test_send;
use crate::cli::SendArgs;
use crate::clock;
use crate::compose::{self, CompiledIssue};
use crate::deliver::journal::Round;
use crate::deliver::quota::QuotaUse;
use crate::deliver::{Cancel, Outcome, Secret, SmtpTarget};
use crate::list::Filter;
use crate::list::Shard;
use crate::message::{MessageFactory, Outbox};
use crate::project::Project;
use crate::run::exit;

pub fn run(args: SendArgs) -> anyhow::Result<i32> {
    // The local time zone can only be read safely before any thread starts.
    schedule::local_offset();
    let at = args.at.as_deref().map(schedule::parse_at).transpose()?;
    let filter = args
        .filter
        .as_deref()
        .map(Filter::parse)
        .transpose()?
        .map(Arc::new);
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

    if !args.to.is_empty() {
        let factory =
            MessageFactory::new(&project.config, &project.root, &issue_id, compiled.images())?;
        return test_send(&args, &project, &compiled, &factory, &issue_id);
    }
    if args.list.is_empty() {
        bail!(
            "nothing to send to: give --to ADDRESS for a test send or --list CSV for a bulk send"
        );
    }
    if let Some(at) = at
        && at < clock::now() - time::Duration::minutes(1)
    {
        bail!(
            "--at {}: that time has passed (it is {} now)",
            schedule::show(at),
            schedule::show(clock::now())
        );
    }
    let plan = Plan {
        project: &project,
        compiled: &compiled,
        issue_id: &issue_id,
        filter,
        at,
    };
    // The message factory is made by each pass of the bulk send (`Plan::prepare`).
    bulk_send(&args, &plan)
}

/// The issue's identifier in journals and logs: its folder name.
fn issue_id(compiled: &CompiledIssue) -> String {
    compiled
        .issue_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "issue".into())
}

fn smtp_target(args: &SendArgs, project: &Project) -> anyhow::Result<SmtpTarget> {
    let Some(url) = args.smtp.as_deref().or(project.config.smtp.url.as_deref()) else {
        bail!(
            "no SMTP server: set [smtp] url in bulletin.toml, BULLETIN_SMTP_URL or --smtp \
             (or use --dry-run to write the messages into the outbox)"
        );
    };
    let password = password(url)?;
    Ok(SmtpTarget::from_url(url, &project.config.smtp, password)?.with_ca_root(&project.root))
}

/// The SMTP password: `BULLETIN_SMTP_PASSWORD`, or a prompt when the URL names a user and
/// there is a terminal. Never an argument.
fn password(url: &str) -> anyhow::Result<Option<Secret>> {
    if let Ok(p) = std::env::var("BULLETIN_SMTP_PASSWORD") {
        return Ok(Some(Secret::new(p)));
    }
    let has_user = crate::server_url::ServerUrl::parse(url).is_ok_and(|u| u.user.is_some());
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

fn test_send(
    args: &SendArgs,
    project: &Project,
    compiled: &CompiledIssue,
    factory: &MessageFactory,
    issue_id: &str,
) -> anyhow::Result<i32> {
    let sample = match &args.as_email {
        Some(email) => {
            let list = args.list.first().cloned().unwrap_or_else(|| {
                project
                    .path(&project.config.paths.lists)
                    .join("members.csv")
            });
            Some(test_send::find_member(&list, email)?)
        }
        None => None,
    };
    let input = RunInput {
        issue_id,
        compiled,
        factory,
        lists: &[],
        limit: None,
    };
    let copies = test_send::build_copies(&input, sample.as_ref(), &args.to)?;
    if args.dry_run {
        let outbox = Outbox::new(outbox_dir(args, project))?;
        for (i, out) in copies.iter().enumerate() {
            let path = outbox.write(out, i as u64 + 1)?;
            println!("{}: written to {}", out.to, path.display());
        }
        return Ok(exit::OK);
    }
    let target = smtp_target(args, project)?;
    let rate = bulk::rate(args.rate.as_deref(), &project.config)?;
    let options = bulk::pool_options(&project.config, rate, 1, Cancel::new());
    let wanted = copies.len();
    let outcomes = test_send::deliver_copies(&target, options, copies)?;
    let mut all_ok = outcomes.len() == wanted;
    for (to, outcome) in outcomes {
        match outcome {
            Outcome::Accepted { reply } => println!("{to}: accepted by {target}: {reply}"),
            Outcome::Refused { text, .. } => {
                all_ok = false;
                println!("{to}: refused by {target}: {text}");
            }
            Outcome::Uncertain { text } => {
                all_ok = false;
                println!("{to}: uncertain: {text}");
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

/// What a bulk send is of, fixed for the whole command.
struct Plan<'a> {
    project: &'a Project,
    compiled: &'a CompiledIssue,
    issue_id: &'a str,
    filter: Option<Arc<Filter>>,
    at: Option<OffsetDateTime>,
}

impl Plan<'_> {
    /// Fetch the unsubscribes recorded elsewhere, lock the issue, read its journals, the
    /// suppression list and the lists: done again after every wait, so that whoever left in
    /// the meantime is not mailed.
    fn prepare(&self, args: &SendArgs, shard: Option<Shard>) -> anyhow::Result<BulkSend<'_>> {
        let project = self.project;
        if let Some(synced) =
            crate::unsubscribe::sync::before_send(project, args.allow_stale_unsubscribes)?
        {
            eprintln!("{synced}");
        }
        let factory = MessageFactory::new(
            &project.config,
            &project.root,
            self.issue_id,
            self.compiled.images(),
        )?;
        let options = BulkOptions {
            lists: args.list.clone(),
            filter: self.filter.clone(),
            rules: project.config.lists.rules(),
            shard,
            round: if args.new_round {
                Round::New
            } else {
                Round::Resume
            },
            skip_uncertain: args.skip_uncertain,
            dry_run: args.dry_run,
        };
        let send = BulkSend::prepare(
            &project.state_dir(),
            self.compiled,
            factory,
            self.issue_id,
            options,
        )?;
        for damage in send.damage() {
            eprintln!("warning: {damage}");
        }
        Ok(send)
    }

    /// [`prepare`](Self::prepare) after a wait, saying what there is to send now.
    fn read_again(&self, args: &SendArgs, shard: Option<Shard>) -> anyhow::Result<BulkSend<'_>> {
        let send = self.prepare(args, shard)?;
        eprintln!(
            "to send now: {} (the lists, the journals and the unsubscribes read again)",
            send.preflight().to_send
        );
        Ok(send)
    }

    /// The daily quota's use now, when there is a quota (never for a dry run).
    fn quota_use(&self, quota: Option<u32>, dry_run: bool) -> anyhow::Result<Option<QuotaUse>> {
        let Some(quota) = quota.filter(|_| !dry_run) else {
            return Ok(None);
        };
        let state = self.project.state_dir();
        Ok(Some(
            QuotaUse::read(&state, quota, clock::now())
                .with_context(|| format!("cannot read the journals in {}", state.display()))?,
        ))
    }
}

fn bulk_send(args: &SendArgs, plan: &Plan<'_>) -> anyhow::Result<i32> {
    let project = plan.project;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    let (rate, quota) = bulk::limits(args.rate.as_deref(), &project.config)?;
    if args.wait && quota.is_none() {
        bail!(
            "--wait waits for the daily quota's next window, but no daily quota is set: give \
             --rate N/d or [send] daily_quota"
        );
    }
    let connections = args
        .connections
        .unwrap_or(project.config.send.connections)
        .max(1);
    let mut send = plan.prepare(args, shard)?;
    let preflight = send.preflight();
    eprint!(
        "{}",
        preflight.report(&args.list, rate.as_ref(), connections)
    );
    let quota_now = plan.quota_use(quota, args.dry_run)?;
    if let Some(q) = &quota_now {
        eprintln!("{}", quota_line(q, plan.at));
    }
    if let Some(at) = plan.at {
        eprintln!("  start: {}", schedule::show_with_wait(at));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({ "preflight": preflight }))?
        );
    }
    if preflight.to_send == 0 {
        eprintln!("nothing to send");
        return Ok(exit::OK);
    }
    // The sender's DNS: warnings, or a refusal before anything is sent.
    let relay = args.smtp.as_deref().or(project.config.smtp.url.as_deref());
    crate::deliverability::gate::preflight(project, relay, |report| {
        if args.json {
            println!(
                "{}",
                serde_json::to_string(&serde_json::json!({ "dns": report }))?
            );
        }
        Ok(())
    })?;
    let target = if args.dry_run {
        None
    } else {
        Some(smtp_target(args, project)?)
    };
    if let Some(target) = &target
        && !args.yes
        && !confirm(&format!(
            "Send \"{}\" to {} members through {}{}?",
            plan.compiled.content().subject,
            preflight.to_send,
            target,
            plan.at
                .map(|at| format!(" at {}", schedule::show(at)))
                .unwrap_or_default()
        ))?
    {
        eprintln!("nothing sent");
        return Ok(exit::ERROR);
    }
    if let Some(at) = plan.at {
        // Let go of the issue's lock while waiting; everything is read again after.
        drop(send);
        if schedule::wait_until(at, "to start sending")? == Waited::Cancelled {
            eprintln!("cancelled while waiting to start: nothing was sent");
            return Ok(exit::INTERRUPTED);
        }
        send = plan.read_again(args, shard)?;
    }
    let mut earlier_failures = false;
    loop {
        if send.preflight().to_send == 0 {
            eprintln!("nothing to send");
            return Ok(if earlier_failures {
                exit::PARTIAL
            } else {
                exit::OK
            });
        }
        let room = plan.quota_use(quota, args.dry_run)?;
        if let Some(q) = room.as_ref().filter(|q| q.available() == 0) {
            let remain = send.preflight().to_send;
            let Some(opens) = q.next_opening() else {
                bail!("the daily quota has no room and never will");
            };
            if !args.wait {
                eprintln!("{}", quota_stop(q, opens, remain, &args.issue.issue));
                return Ok(exit::PARTIAL);
            }
            drop(send);
            let what = format!(
                "for the daily quota's next window ({} of {} used in the last 24 hours; {remain} member(s) remain)",
                q.used(),
                q.quota
            );
            if schedule::wait_until(opens, &what)? == Waited::Cancelled {
                eprintln!("cancelled while waiting for the daily quota: the same command resumes");
                return Ok(exit::INTERRUPTED);
            }
            send = plan.read_again(args, shard)?;
            continue;
        }
        let limit = room.as_ref().map(QuotaUse::available);
        let (summary, stopped) = run_once(
            args,
            plan,
            send.with_limit(limit),
            rate,
            connections,
            target.as_ref(),
        )?;
        stopped?;
        // A run after a wait does not hide what an earlier one left undone.
        earlier_failures |=
            summary.refused + summary.deferred + summary.uncertain + summary.failed > 0;
        if !summary.quota_reached || summary.interrupted {
            return Ok(match exit_code(&summary) {
                exit::OK if earlier_failures => exit::PARTIAL,
                code => code,
            });
        }
        // Going on only makes sense with --wait, and only after progress: a server that
        // turns everything away is not asked again and again.
        if !args.wait || summary.accepted == 0 {
            let used = plan.quota_use(quota, args.dry_run)?;
            match used.and_then(|q| q.next_opening().map(|opens| (q, opens))) {
                Some((q, opens)) => {
                    eprintln!(
                        "{}",
                        quota_stop(&q, opens, summary.not_tried, &args.issue.issue)
                    );
                }
                _ => eprintln!(
                    "this run's share of the daily quota is used ({} member(s) remain): run the \
                     same command again",
                    summary.not_tried
                ),
            }
            return Ok(exit::PARTIAL);
        }
        send = plan.prepare(args, shard)?;
    }
}

/// One run of the send: deliver (or write) and report.
fn run_once(
    args: &SendArgs,
    plan: &Plan<'_>,
    send: BulkSend<'_>,
    rate: Option<crate::deliver::rate::Rate>,
    connections: usize,
    target: Option<&SmtpTarget>,
) -> anyhow::Result<(Summary, anyhow::Result<()>)> {
    let project = plan.project;
    let cancel = Cancel::new();
    let outbox;
    let sink = match target {
        None => {
            outbox = Outbox::new(outbox_dir(args, project))?;
            eprintln!("dry run: writing messages into {}", outbox.dir().display());
            Sink::Outbox(&outbox)
        }
        Some(target) => Sink::Smtp {
            target,
            options: bulk::pool_options(&project.config, rate, connections, cancel.clone()),
        },
    };
    let to_send = send.preflight().to_send;
    let bar = progress_bar(to_send, rate.as_ref());
    let (summary, stopped) = send.run(sink, &bar, &cancel);
    report(&summary, &args.issue.issue, args.dry_run, args.json)?;
    Ok((summary, stopped))
}

/// The preflight's line about the daily quota.
fn quota_line(q: &QuotaUse, at: Option<OffsetDateTime>) -> String {
    let mut s = format!(
        "  daily quota: {}/d, {} accepted in the last 24 hours, {} left now",
        q.quota,
        q.used(),
        q.available()
    );
    if let Some(opens) = q.next_opening() {
        s.push_str(&format!(
            "; the next window opens at {}",
            schedule::show(opens)
        ));
    }
    if at.is_some() {
        s.push_str(" (counted again at the start time)");
    }
    s
}

/// Why a run stops, or does not start, for the daily quota, and what to do.
fn quota_stop(q: &QuotaUse, opens: OffsetDateTime, remain: u64, issue: &Path) -> String {
    format!(
        "daily quota used: {} of {} accepted in the last 24 hours; the next window opens at {}; \
         {remain} member(s) remain: run the same command again then, or add --wait \
         (`bulletin status {}` shows where each member stands)",
        q.used(),
        q.quota,
        schedule::show_with_wait(opens),
        issue.display()
    )
}

fn report(summary: &Summary, issue: &Path, dry_run: bool, json: bool) -> anyhow::Result<()> {
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
        "accepted: {}, refused: {}, deferred: {}, uncertain: {}, not built: {}, not tried: {}, in {}{}",
        summary.accepted,
        summary.refused,
        summary.deferred,
        summary.uncertain,
        summary.failed,
        summary.not_tried,
        crate::campaign::preflight::human_duration(std::time::Duration::from_secs_f64(
            summary.elapsed_secs
        )),
        if summary.interrupted {
            " (interrupted: run the same command again to resume)"
        } else if summary.deferred + summary.not_tried > 0 {
            " (run the same command again to send the deferred and those not tried)"
        } else {
            ""
        }
    );
    for (kind, named, count) in [
        ("refused", &summary.refused_members, summary.refused),
        ("deferred", &summary.deferred_members, summary.deferred),
    ] {
        for m in named {
            let at = where_in(m.list.as_deref(), m.line);
            eprintln!("{kind}: {} ({at}): {}", m.email, m.reply);
        }
        if count > named.len() as u64 {
            eprintln!(
                "{kind}: and {} more: `bulletin status {} --members` names every one",
                count - named.len() as u64,
                issue.display()
            );
        }
    }
    for m in &summary.uncertain_members {
        let at = where_in(m.list.as_deref(), m.line);
        eprintln!("uncertain: {} ({at}): {}", m.email, m.reason);
    }
    if summary.uncertain > 0 {
        eprintln!(
            "the server may have taken the uncertain messages: the next run mails them again \
             unless --skip-uncertain is given"
        );
    }
    Ok(())
}

/// `line 4`, or `lists/b.csv:4` when the send read several lists.
fn where_in(list: Option<&str>, line: u64) -> String {
    match list {
        Some(list) => format!("{list}:{line}"),
        None => format!("line {line}"),
    }
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
