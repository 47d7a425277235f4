//! `bulletin bounces SOURCE`: read bounce messages and print (or apply) what they report.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::bounce::imap::{Disposition, Mailbox};
use crate::bounce::{self, Applier, Bounce, Report, Source, SourceItem};
use crate::cli::BouncesArgs;
use crate::project::Project;
use crate::run::exit;
use crate::tls::Trust;
use crate::unsubscribe::mailto::{MailRequests, Outcome};

/// One line of `--json` output: a bounced recipient.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub file: &'a str,
    pub recipient: &'a str,
    pub class: bounce::Class,
    pub status: Option<&'a str>,
    pub reason: bounce::Reason,
    pub diagnostic: &'a str,
    pub action: Option<&'a str>,
    pub kind: Option<bounce::Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_mta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_mta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verp_token: Option<&'a str>,
}

impl<'a> Line<'a> {
    pub fn new(file: &'a str, report: &'a Report, b: &'a Bounce) -> Self {
        Line {
            file,
            recipient: &b.recipient,
            class: b.class,
            status: b.status.as_deref(),
            reason: b.reason,
            diagnostic: &b.diagnostic,
            action: b.action.as_deref(),
            kind: report.kind,
            reporting_mta: b.reporting_mta.as_deref(),
            remote_mta: b.remote_mta.as_deref(),
            issue: report.trace.issue.as_deref(),
            member: report.trace.member.as_deref(),
            message_id: report.trace.message_id.as_deref(),
            verp_token: report.trace.verp_token.as_deref(),
        }
    }
}

pub fn run(args: BouncesArgs) -> anyhow::Result<i32> {
    let source = Source::parse(&args.source)?;
    if args.delete && !args.apply {
        anyhow::bail!("--delete removes messages from the mailbox; it needs --apply");
    }
    if (args.delete || args.move_to.is_some()) && !matches!(source, Source::Imap(_)) {
        anyhow::bail!("--move-to and --delete apply to IMAP mailboxes only");
    }
    if args.delete && args.move_to.is_some() {
        anyhow::bail!("choose one of --move-to and --delete");
    }
    // Reading needs no project; applying, an IMAP trust setting and naming the members behind
    // the tokens of unsubscribe requests come from one.
    let start = args.project.clone().unwrap_or_else(|| PathBuf::from("."));
    let project = if args.apply {
        Some(Project::discover(&start)?)
    } else {
        Project::discover(&start).ok()
    };
    let mut applier = match (&project, args.apply) {
        (Some(project), true) => Some(Applier::open(
            &project.state_dir(),
            &project.config.bounces,
        )?),
        _ => None,
    };
    let trust = project
        .as_ref()
        .map(|p| Trust {
            ca_file: p.config.imap.ca_file.as_ref().map(|f| p.root.join(f)),
            skip_verify_hosts: p.config.imap.insecure_skip_verify_hosts.clone(),
        })
        .unwrap_or_default();
    let mut requests = project
        .as_ref()
        .map(|p| MailRequests::open(p, args.apply))
        .transpose()?;
    match &source {
        Source::Imap(url) => {
            let password = std::env::var("BULLETIN_IMAP_PASSWORD").map_err(|_| {
                anyhow::anyhow!(
                    "{url}: set BULLETIN_IMAP_PASSWORD to the mailbox password (it is never read from the command line)"
                )
            })?;
            let disposition = match (&args.move_to, args.delete) {
                (Some(m), _) => Disposition::MoveTo(m.clone()),
                (None, true) => Disposition::Delete,
                (None, false) => Disposition::Flag,
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the IMAP client")?;
            rt.block_on(async {
                let mut mailbox = Mailbox::open(url, &password, &trust).await?;
                let items = mailbox.fetch_unprocessed(url).await?;
                let all: Vec<u32> = items.iter().filter_map(|i| i.uid).collect();
                let done = process(
                    items.into_iter().map(Ok),
                    &args,
                    applier.as_mut(),
                    requests.as_mut(),
                )?;
                // Only an applied pass marks messages: a look without --apply leaves the
                // mailbox as it was.
                if args.apply {
                    mailbox
                        .finish(&all, &done.report_uids, &disposition)
                        .await?;
                }
                mailbox.logout().await;
                Ok::<_, anyhow::Error>(())
            })?;
        }
        local => {
            process(
                local.local_items()?,
                &args,
                applier.as_mut(),
                requests.as_mut(),
            )?;
        }
    }
    Ok(exit::OK)
}

/// What a pass over the messages found.
#[derive(Debug, Default)]
struct Done {
    /// IMAP UIDs of the messages that were reports.
    report_uids: Vec<u32>,
}

fn process(
    items: impl Iterator<Item = Result<SourceItem, bounce::SourceError>>,
    args: &BouncesArgs,
    mut applier: Option<&mut Applier>,
    mut requests: Option<&mut MailRequests>,
) -> anyhow::Result<Done> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut reports, mut recipients, mut recorded, mut suppressed) =
        (0usize, 0usize, 0usize, 0usize);
    let mut done = Done::default();
    let mut kinds = Kinds::default();
    if !args.json {
        writeln!(
            out,
            "{:<40} {:<10} {:<8} {:<16} FILE",
            "RECIPIENT", "CLASS", "STATUS", "REASON"
        )?;
    }
    let now = OffsetDateTime::now_utc();
    let mut messages = 0usize;
    for item in items {
        let item = item?;
        messages += 1;
        let report = bounce::parse(&item.raw);
        if report.kind.is_some() {
            reports += 1;
            done.report_uids.extend(item.uid);
        } else if let Some(request) =
            bounce::unsubscribe::request(&item.raw, requests.as_deref().map(MailRequests::mailto))
        {
            done.report_uids.extend(item.uid);
            kinds.unsubscribes += 1;
            let outcome = match requests.as_deref_mut() {
                Some(r) => Some(r.handle(&request.token).with_context(|| {
                    format!("recording the unsubscribe request in {}", item.name)
                })?),
                None => None,
            };
            let email = match &outcome {
                Some(Outcome::Member { email, recorded }) => {
                    kinds.unsubscribed += usize::from(*recorded);
                    Some(email.as_str())
                }
                Some(Outcome::UnknownToken) => {
                    kinds.unknown_tokens += 1;
                    None
                }
                None => None,
            };
            print_request(
                &mut out,
                args.json,
                &item.name,
                &request,
                email,
                outcome.as_ref(),
            )?;
            continue;
        }
        for b in &report.bounces {
            recipients += 1;
            kinds.count(b.class);
            if let Some(a) = applier.as_deref_mut() {
                let r = a.apply(&report, &item.raw, b, now).with_context(|| {
                    format!("recording the bounce of {} from {}", b.recipient, item.name)
                })?;
                recorded += usize::from(r.recorded);
                suppressed += usize::from(r.suppressed);
            }
            if args.json {
                serde_json::to_writer(&mut out, &Line::new(&item.name, &report, b))
                    .context("writing JSON")?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:<40} {:<10} {:<8} {:<16} {}",
                    b.recipient,
                    b.class.as_str(),
                    b.status.as_deref().unwrap_or("-"),
                    b.reason.as_str(),
                    item.name
                )?;
            }
        }
    }
    out.flush()?;
    if let Some(a) = applier {
        a.sync().context("writing the bounce log")?;
    }
    eprintln!("{messages} messages read, {reports} reports, {recipients} bounced recipients");
    eprintln!("{}", kinds.line());
    if args.apply {
        eprintln!(
            "{recorded} new in the bounce log, {suppressed} newly suppressed, {} newly unsubscribed",
            kinds.unsubscribed
        );
    }
    Ok(done)
}

/// What the messages were, one count per kind.
#[derive(Debug, Default)]
struct Kinds {
    bounces: usize,
    complaints: usize,
    auto_replies: usize,
    unsubscribes: usize,
    /// Unsubscribe requests whose token names nobody the project knows.
    unknown_tokens: usize,
    /// Unsubscribes recorded now.
    unsubscribed: usize,
}

impl Kinds {
    fn count(&mut self, class: bounce::Class) {
        match class {
            bounce::Class::Hard | bounce::Class::Soft => self.bounces += 1,
            bounce::Class::Complaint => self.complaints += 1,
            bounce::Class::AutoReply => self.auto_replies += 1,
        }
    }

    fn line(&self) -> String {
        let mut line = format!(
            "bounces: {}, complaints: {}, auto-replies: {}, unsubscribe requests: {}",
            self.bounces, self.complaints, self.auto_replies, self.unsubscribes
        );
        if self.unknown_tokens > 0 {
            line.push_str(&format!(
                " ({} with a token that names no member: not applied)",
                self.unknown_tokens
            ));
        }
        line
    }
}

/// One line for an unsubscribe request: the member (or the token, when the project does not
/// know it), in the table or as JSON.
fn print_request(
    out: &mut impl Write,
    json: bool,
    file: &str,
    request: &bounce::unsubscribe::Request,
    email: Option<&str>,
    outcome: Option<&Outcome>,
) -> anyhow::Result<()> {
    if json {
        let line = serde_json::json!({
            "file": file,
            "recipient": email,
            "class": "unsubscribe",
            "token": request.token,
            "found_in": request.found,
            "known_member": outcome.map(|o| matches!(o, Outcome::Member { .. })),
            "message_id": request.message_id,
        });
        serde_json::to_writer(&mut *out, &line).context("writing JSON")?;
        writeln!(out)?;
    } else {
        let who = match (email, outcome) {
            (Some(e), _) => e.to_string(),
            (None, Some(Outcome::UnknownToken)) => format!("(unknown token {})", request.token),
            (None, _) => format!("(token {})", request.token),
        };
        writeln!(
            out,
            "{:<40} {:<10} {:<8} {:<16} {}",
            who, "unsubscribe", "-", "mailto", file
        )?;
    }
    Ok(())
}
