//! `bulletin bounces SOURCE`: read bounce messages and print (or apply) what they report.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use crate::bounce::{self, Bounce, Report, Source, SourceItem};
use crate::cli::BouncesArgs;
use crate::run::exit;

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
    let items: Vec<SourceItem> = match &source {
        Source::Imap(_) => anyhow::bail!("IMAP sources are not supported yet"),
        local => local.read_local()?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut messages, mut reports, mut recipients) = (0usize, 0usize, 0usize);
    if !args.json {
        writeln!(
            out,
            "{:<40} {:<10} {:<8} {:<16} FILE",
            "RECIPIENT", "CLASS", "STATUS", "REASON"
        )?;
    }
    for item in &items {
        messages += 1;
        let report = bounce::parse(&item.raw);
        if report.kind.is_some() {
            reports += 1;
        }
        for b in &report.bounces {
            recipients += 1;
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
    eprintln!("{messages} messages read, {reports} reports, {recipients} bounced recipients");
    Ok(exit::OK)
}
