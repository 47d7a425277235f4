//! `bulletin check --dns [ISSUE] [--json]`: the sender's DNS. Exit code 3 when a check fails
//! or could not be made.

use std::path::Path;

use crate::cli::CheckArgs;
use crate::deliverability::{self, Status};
use crate::project::Project;
use crate::run::exit;

pub fn run(args: &CheckArgs) -> anyhow::Result<i32> {
    let start = args.issue.as_deref().unwrap_or(Path::new("."));
    let project = Project::discover(start)?;
    let smtp = args.smtp.as_deref().or(project.config.smtp.url.as_deref());
    let report = deliverability::check_project(&project, smtp)?;
    if args.json {
        for check in &report.checks {
            println!("{}", serde_json::to_string(check)?);
        }
    } else {
        print!("{}", report.render());
    }
    let problems = report.problems().count();
    let warnings = report.warnings();
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    let asked = match &report.nameserver {
        Some(server) => format!("answers from {server}"),
        None => "the DNS was not asked".into(),
    };
    eprintln!(
        "dns: {} check{}, {failed} failed, {} unknown, {warnings} warning{} ({asked})",
        report.checks.len(),
        if report.checks.len() == 1 { "" } else { "s" },
        problems - failed,
        if warnings == 1 { "" } else { "s" }
    );
    Ok(if problems > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}
