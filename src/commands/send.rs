//! `bulletin send`: a test send with `--to`, a bulk send with `--list`. Glue over
//! [`crate::campaign`]: options in, the library does the work, results out.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::campaign::bulk::{self, BulkOptions, BulkSend};
use crate::campaign::run::{RunInput, Sink, Summary, progress_bar};
use crate::campaign::test_send;
use crate::cli::SendArgs;
use crate::compose::{self, CompiledIssue};
use crate::deliver::journal::Round;
use crate::deliver::{Cancel, Outcome, Secret, SmtpTarget};
use crate::list::Shard;
use crate::message::{MessageFactory, Outbox};
use crate::project::Project;
use crate::run::exit;

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
    bulk_send(&args, &project, &compiled, factory, &issue_id, list)
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
            let list = args.list.clone().unwrap_or_else(|| {
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
        list: std::path::Path::new(""),
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

fn bulk_send(
    args: &SendArgs,
    project: &Project,
    compiled: &CompiledIssue,
    factory: MessageFactory,
    issue_id: &str,
    list: PathBuf,
) -> anyhow::Result<i32> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    let rate = bulk::rate(args.rate.as_deref(), &project.config)?;
    let connections = args
        .connections
        .unwrap_or(project.config.send.connections)
        .max(1);
    // The unsubscribes recorded by `bulletin serve` join the suppression list first.
    if let Some(synced) =
        crate::unsubscribe::sync::before_send(project, args.allow_stale_unsubscribes)?
    {
        eprintln!("{synced}");
    }
    let options = BulkOptions {
        list: list.clone(),
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
    let send = BulkSend::prepare(&project.state_dir(), compiled, factory, issue_id, options)?;
    for damage in send.damage() {
        eprintln!("warning: {damage}");
    }
    let preflight = send.preflight();
    eprint!("{}", preflight.report(&list, rate.as_ref(), connections));
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
    crate::deliverability::gate::preflight(project, relay)?;
    let cancel = Cancel::new();
    let target;
    let outbox;
    let sink = if args.dry_run {
        outbox = Outbox::new(outbox_dir(args, project))?;
        eprintln!("dry run: writing messages into {}", outbox.dir().display());
        Sink::Outbox(&outbox)
    } else {
        target = smtp_target(args, project)?;
        if !args.yes
            && !confirm(&format!(
                "Send \"{}\" to {} members through {}?",
                compiled.content().subject,
                preflight.to_send,
                target
            ))?
        {
            eprintln!("nothing sent");
            return Ok(exit::ERROR);
        }
        Sink::Smtp {
            target: &target,
            options: bulk::pool_options(&project.config, rate, connections, cancel.clone()),
        }
    };
    let bar = progress_bar(preflight.to_send, rate.as_ref());
    let (summary, stopped) = send.run(sink, &bar, &cancel);
    report(&summary, &args.issue.issue, args.dry_run, args.json)?;
    stopped?;
    Ok(exit_code(&summary))
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
            eprintln!("{kind}: {} (line {}): {}", m.email, m.line, m.reply);
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
        eprintln!("uncertain: {} (line {}): {}", m.email, m.line, m.reason);
    }
    if summary.uncertain > 0 {
        eprintln!(
            "the server may have taken the uncertain messages: the next run mails them again \
             unless --skip-uncertain is given"
        );
    }
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
