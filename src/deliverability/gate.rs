//! The DNS checks in a bulk send's preflight: problems are warnings, or stop the send before
//! anything is sent when `[send] require_authentication` is set.

use crate::project::Project;

use super::report::{Report, Status};

/// The sender's DNS does not authenticate the mail and the configuration requires it.
#[derive(Debug, thiserror::Error)]
#[error(
    "the sender's DNS fails {failed} ([send] require_authentication = true): nothing was sent; \
     `bulletin check --dns` shows the records to publish"
)]
pub struct NotAuthenticated {
    /// The checks that failed or could not be made, e.g. `spf, dmarc`.
    pub failed: String,
}

/// Run the checks for a send through `smtp_url` (none for a dry run without a relay), hand the
/// report to `seen` (`send --json` prints it) and print what is not right to stderr. An error
/// when authentication is required and a check failed or could not be made (a DNS timeout
/// included).
pub fn preflight(
    project: &Project,
    smtp_url: Option<&str>,
    seen: impl FnOnce(&Report) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let required = project.config.send.require_authentication;
    let report = match super::check_project(project, smtp_url) {
        Ok(report) => report,
        // Without the requirement, a resolver that cannot be set up (no resolver
        // configuration, say) does not stand in the way of a send; a wrong value in
        // bulletin.toml always does.
        Err(e @ super::CheckError::Resolver(_)) if !required => {
            eprintln!("warning: dns: the checks could not run: {e}");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    seen(&report)?;
    let mut shown = false;
    for check in report.checks.iter().filter(|c| c.status != Status::Pass) {
        let label = if required && check.status.is_problem() {
            "error"
        } else {
            "warning"
        };
        // `warning: dns: spf: …`, not `warning: dns: spf: warning: …`.
        eprint!(
            "{label}: dns: {}",
            check.render_with(check.status != Status::Warn)
        );
        shown = true;
    }
    if !shown {
        let names: Vec<&str> = report.checks.iter().map(|c| c.check).collect();
        eprintln!("dns: {} pass", names.join(", "));
    }
    let failed: Vec<&str> = report.problems().map(|c| c.check).collect();
    if required && !failed.is_empty() {
        return Err(NotAuthenticated {
            failed: failed.join(", "),
        }
        .into());
    }
    Ok(())
}
