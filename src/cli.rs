//! Command-line arguments. Parsing only: each command's work lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bulletin",
    version,
    about = "Compose and send email newsletters",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a working project: config, template, sample list and a first issue.
    Init(InitArgs),
    /// Build an issue into HTML, plain text and compiled MJML.
    Build(BuildArgs),
    /// Lint an issue (alt text, links, unsubscribe link, size, placeholders), or with --dns
    /// the sender's DNS (SPF, DKIM, DMARC, alignment, MX).
    Check(CheckArgs),
    /// Serve a live preview of an issue in the browser.
    Preview(PreviewArgs),
    /// Send an issue: a test send with --to, a bulk send with --list.
    Send(SendArgs),
    /// Read what comes back to the bulletin from a mailbox: bounces (DSNs), complaints,
    /// auto-replies and mailed unsubscribe requests (also `bulletin inbox`).
    #[command(visible_alias = "inbox")]
    Bounces(BouncesArgs),
    /// Report on the sends of an issue from their journals.
    Status(StatusArgs),
    /// Start a new issue from the last one (or from --from).
    New(NewArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Write the man pages (bulletin.1 and one per command).
    Man(ManArgs),
    /// Serve one-click unsubscribes, the unsubscribe page and the web archive (behind a TLS
    /// reverse proxy).
    Serve(ServeArgs),
    /// Build the public web archive: a page per issue, an index page and an Atom feed.
    Archive(ArchiveArgs),
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Output folder (default: `[archive] out`, `site/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The project folder (default: found from the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Folder of the new issue (created; must be new or empty).
    pub dir: PathBuf,
    /// The issue to start from (default: the last issue beside the new one, by name).
    #[arg(long, value_name = "ISSUE")]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write the pages into (default: print bulletin.1 on stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to create the project in (created if missing; must be empty).
    pub dir: PathBuf,
}

/// Options every command that renders an issue takes.
#[derive(Debug, Args, Clone)]
pub struct IssueArgs {
    /// The issue folder (holding issue.toml) or its issue.toml.
    pub issue: PathBuf,
    /// Use this MJML template instead of the issue's or the project's.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub issue: IssueArgs,
    /// Output folder (default: the project's `paths.out`, `out/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print what was built (files, sizes, warnings) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The issue folder (holding issue.toml) or its issue.toml. With --dns, only where the
    /// project is found (default: the current folder).
    #[arg(required_unless_present = "dns")]
    pub issue: Option<PathBuf>,
    /// Use this MJML template instead of the issue's or the project's.
    #[arg(long, value_name = "FILE", conflicts_with = "dns")]
    pub template: Option<PathBuf>,
    /// Print findings as JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
    /// Check the sender's DNS instead of an issue: SPF, DKIM, DMARC, alignment and MX, with
    /// the records to publish.
    #[arg(long)]
    pub dns: bool,
    /// With --dns: the relay whose SPF coverage is checked (default: [smtp] url).
    #[arg(
        long,
        env = "BULLETIN_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp: Option<String>,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub issue: IssueArgs,
    /// Port to listen on (0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on; anything but loopback exposes the preview to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Do not open the browser.
    #[arg(long)]
    pub no_open: bool,
    /// A member list to pick recipients from for personalisation.
    #[arg(long, value_name = "CSV")]
    pub list: Option<PathBuf>,
    /// Show the issue as this member of --list sees it.
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_email: Option<String>,
    /// Offer only the members of --list whose row matches (see docs/SEGMENTS.md).
    #[arg(long = "where", value_name = "EXPR", requires = "list")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub issue: IssueArgs,
    /// Test send: one copy to each of these addresses (repeat --to, or separate them with
    /// commas), subject prefixed [TEST] (--list then only names the list --as picks the member
    /// from).
    #[arg(long, value_name = "ADDR", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Bulk send to the members of this CSV list (repeat --list to merge several lists; an
    /// address in more than one is mailed once).
    #[arg(long, value_name = "CSV")]
    pub list: Vec<PathBuf>,
    /// Only the members whose row matches, e.g. "City = 'Birmingham' and not Sector in (NHS,
    /// Academic)" (see docs/SEGMENTS.md).
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Start sending at this time: "2026-12-02 09:00" (local time) or with an offset
    /// ("2026-12-02 09:00 +01:00"); everything else is checked and confirmed now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// When the daily quota (--rate N/d) is used, wait for its next window and go on, instead
    /// of stopping.
    #[arg(long)]
    pub wait: bool,
    /// Personalise a test send as this member of --list (or of the project's default list).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_email: Option<String>,
    /// SMTP server, e.g. smtp://user@host:587 (the password comes from BULLETIN_SMTP_PASSWORD).
    #[arg(
        long,
        env = "BULLETIN_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp: Option<String>,
    /// Messages per window: 10/s, 30/m, 500/h or unlimited; N/d is the account's daily quota
    /// (both: 30/m,2000/d).
    #[arg(long)]
    pub rate: Option<String>,
    /// SMTP connections used at once.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Write each message as an .eml file into the outbox folder instead of sending.
    #[arg(long)]
    pub dry_run: bool,
    /// Outbox folder for --dry-run (default: the project's `send.outbox`).
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// Start a new round: mail everyone again, even those the journal says were accepted.
    #[arg(long)]
    pub new_round: bool,
    /// Do not resend to members whose transaction was cut off in an earlier run.
    #[arg(long)]
    pub skip_uncertain: bool,
    /// Send even when the unsubscribes recorded at `[serve] url` cannot be fetched; the
    /// preflight says how old the local copy is.
    #[arg(long)]
    pub allow_stale_unsubscribes: bool,
    /// Send only shard K of N (e.g. 2/4): a deterministic split of the list.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BouncesArgs {
    /// A Maildir, an mbox file, a folder of .eml files, one .eml file, or an IMAP mailbox
    /// (imaps://user@host/INBOX, password from BULLETIN_IMAP_PASSWORD).
    pub source: String,
    /// One JSON object per bounced recipient on stdout.
    #[arg(long)]
    pub json: bool,
    /// Record them in the bounce log and suppression list.
    #[arg(long)]
    pub apply: bool,
    /// The project folder (default: found from the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// IMAP: move processed messages to this mailbox instead of flagging them.
    #[arg(long, value_name = "MAILBOX")]
    pub move_to: Option<String>,
    /// IMAP: delete processed messages (only with --apply).
    #[arg(long)]
    pub delete: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The issue folder.
    pub issue: PathBuf,
    /// Journal files to merge (e.g. one per shard); default: every journal of the issue.
    #[arg(long, value_name = "FILE")]
    pub journal: Vec<PathBuf>,
    /// List every member with what became of them (accepted, refused with the reply, bounced
    /// later with the reason, complained, unsubscribed, …).
    #[arg(long)]
    pub members: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Report only on the members whose row of the sent list matches (see docs/SEGMENTS.md).
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The project folder (default: found from the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Address to listen on (default: `[serve] listen`, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Answer unsubscribes without recording them: only for measuring what recording costs.
    #[arg(long, hide = true)]
    pub no_record: bool,
}
