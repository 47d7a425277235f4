//! Deliverability: does the sender's DNS let mailbox providers trust the mail? SPF for the
//! envelope (bounce) domain, the DKIM key record, DMARC for the From domain, alignment between
//! them, and an MX so bounces come back. Each failure comes with the record to publish.
//!
//! `bulletin check --dns` prints the [`Report`]; a bulk send shows its problems as warnings,
//! or refuses before sending anything when `[send] require_authentication` is set ([`gate`]).

pub mod alignment;
pub mod dkim_check;
pub mod dmarc_check;
pub mod dmarc_record;
pub mod gate;
pub mod mx_check;
pub mod org_domain;
pub mod report;
pub mod resolver;
pub mod sender;
pub mod spf_check;
pub mod spf_eval;
pub mod spf_macro;
pub mod spf_record;
pub mod tags;

use std::time::Duration;

pub use report::{Check, Publish, Report, Status};
pub use resolver::{Dns, LookupError};
pub use sender::Sender;

use crate::project::Project;

/// Every check against `dns`, in the order spf, dkim, dmarc, alignment, mx.
pub async fn run(dns: &Dns, sender: &Sender) -> Report {
    let ((spf, spf_outcome), dkim, (dmarc, record), mx) = tokio::join!(
        spf_check::check(dns, sender),
        dkim_check::check(dns, sender),
        dmarc_check::check(dns, sender),
        mx_check::check(dns, sender),
    );
    let alignment = alignment::check(sender, record.as_ref(), dkim.status, spf_outcome);
    Report {
        nameserver: Some(dns.server().to_string()),
        checks: vec![spf, dkim, dmarc, alignment, mx],
    }
}

/// Why the checks could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A value in `bulletin.toml` is wrong (the sender's address, `[dns] nameserver`).
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    /// The system's resolver configuration cannot be read, or no runtime could start.
    #[error("{0}")]
    Resolver(String),
}

/// The checks for a project's sender, through `[dns]`; `smtp_url` is the relay a send would
/// use. A From or bounce domain reserved for examples fails at once, without asking the DNS,
/// unless `[dns] nameserver` names a server that may serve it.
pub fn check_project(project: &Project, smtp_url: Option<&str>) -> Result<Report, CheckError> {
    let config = &project.config;
    let config_error = |message: String| CheckError::Config {
        file: config_name(project),
        message,
    };
    let sender = Sender::from_config(config, &project.root, smtp_url).map_err(config_error)?;
    let reserved = sender.reserved_domains();
    if config.dns.nameserver.is_none() && !reserved.is_empty() {
        let check = Check::new(
            "sender",
            Status::Fail,
            format!(
                "{} is reserved for examples (RFC 2606): no mail from it reaches anyone",
                reserved.join(" and ")
            ),
        )
        .fix("set [sender] email (and bounce_address) to addresses at your own domain");
        return Ok(Report {
            nameserver: None,
            checks: vec![check],
        });
    }
    let timeout = Duration::from_secs(config.dns.timeout_secs.max(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::Resolver(format!("cannot start the DNS client: {e}")))?;
    runtime.block_on(async {
        let dns = Dns::new(config.dns.nameserver.as_deref(), timeout).map_err(|e| match e {
            resolver::SetupError::BadNameserver(_) => config_error(e.to_string()),
            resolver::SetupError::System(_) => CheckError::Resolver(e.to_string()),
        })?;
        Ok(run(&dns, &sender).await)
    })
}

fn config_name(project: &Project) -> String {
    project.config_path.as_deref().map_or_else(
        || crate::project::CONFIG_FILE.to_string(),
        |p| p.display().to_string(),
    )
}
