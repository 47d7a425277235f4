//! `bulletin check ISSUE [--json]`: lint an issue. Exit code 3 when there are errors.
//! `bulletin check --dns`: the sender's DNS instead (`check_dns`).

use crate::cli::{CheckArgs, IssueArgs};
use crate::compose::{self, ComposeError, Finding, Severity};
use crate::project::Project;
use crate::run::exit;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    if args.dns {
        return super::check_dns::run(&args);
    }
    let issue = IssueArgs {
        issue: args.issue.clone().unwrap_or_default(),
        template: args.template.clone(),
    };
    let project = Project::discover(&issue.issue)?;
    let mut detail = Vec::new();
    let findings = match compose::compile(&project, &issue.issue, issue.template.as_deref()) {
        Ok(c) => compose::check(&c),
        Err(ComposeError::UnknownPlaceholder(e)) => {
            detail.push(e.to_string());
            vec![Finding {
                severity: Severity::Error,
                code: "unknown-placeholder",
                message: e.message.clone(),
                location: Some(e.location()),
            }]
        }
        Err(ComposeError::Invalid(errors)) => errors
            .iter()
            .map(|e| {
                detail.push(e.to_string());
                Finding {
                    severity: Severity::Error,
                    code: "invalid-mjml",
                    message: e.message.clone(),
                    location: Some(e.location()),
                }
            })
            .collect(),
        Err(e) => return Err(e.into()),
    };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if args.json {
        for f in &findings {
            println!("{}", serde_json::to_string(f)?);
        }
    } else {
        for f in &findings {
            let kind = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            match &f.location {
                Some(at) => eprintln!("{kind}[{}]: {at}: {}", f.code, f.message),
                None => eprintln!("{kind}[{}]: {}", f.code, f.message),
            }
        }
        for d in detail {
            eprintln!("{d}");
        }
    }
    eprintln!(
        "{}: {errors} error{}, {warnings} warning{}",
        issue.issue.display(),
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    Ok(if errors > 0 { exit::PARTIAL } else { exit::OK })
}
