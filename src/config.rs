//! `bulletin.toml`: the project's configuration, one serde struct per table.
//!
//! Every table and key is optional; [`Config::default`] is a working configuration for a
//! project that has none. Unknown keys are errors, so a typo never passes silently.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{SourceError, read_text};

/// The whole of `bulletin.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub sender: Sender,
    pub smtp: Smtp,
    pub send: Send,
    pub paths: Paths,
    pub dkim: Option<Dkim>,
    pub bounces: Bounces,
    pub imap: Imap,
    pub preview: Preview,
    pub dns: Dns,
    pub lists: Lists,
    pub compose: Compose,
    pub serve: Serve,
    pub archive: Archive,
}

/// `[sender]`: who the bulletin comes from.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Sender {
    /// Display name in From.
    pub name: String,
    /// Address in From; its domain also names Message-IDs.
    pub email: String,
    pub reply_to: Option<String>,
    /// `List-Id`, e.g. `Cluster News <news.example.org>`.
    pub list_id: Option<String>,
    /// Postal address shown in the footer (required by anti-spam laws in many countries).
    pub postal_address: Option<String>,
    /// MAIL FROM of every message: where bounces go. Defaults to `email`.
    pub bounce_address: Option<String>,
    /// Per-member bounce address (VERP): `bounces+TOKEN@domain`.
    pub verp: bool,
    /// `mailto:` unsubscribe address for List-Unsubscribe.
    pub unsubscribe_mailto: Option<String>,
    /// https unsubscribe URL; `{token}` is replaced by the member's token. With it, messages
    /// carry `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
    pub unsubscribe_url: Option<String>,
    /// Secret mixed into per-member tokens; read from `BULLETIN_TOKEN_SECRET` when unset.
    pub token_secret: Option<String>,
    /// The issues' language, a BCP 47 tag such as `en-GB` (the HTML's `lang`); an issue's
    /// `language` overrides it.
    pub language: Option<Language>,
    /// The issues' writing direction (the HTML's `dir`); an issue's `direction` overrides it.
    pub direction: Option<Direction>,
}

/// A BCP 47 language tag: `en`, `en-GB`, `ar`, `zh-Hant-TW`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Language(String);

impl Language {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    /// A 2–3 letter primary language (ISO 639; or `i`/`x` for the old and private ones), then
    /// hyphen-separated subtags of 1–8 letters or digits. A name such as `English` is refused.
    fn from_str(s: &str) -> Result<Language, String> {
        let mut parts = s.split('-');
        let first = parts.next().unwrap_or("");
        let primary_ok = ((2..=3).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_alphabetic()))
            || first.eq_ignore_ascii_case("i")
            || first.eq_ignore_ascii_case("x");
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Language(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not a language tag: write a BCP 47 tag such as `en`, `en-GB` or `ar`"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Writing direction: left to right, right to left, or as the text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ltr,
    Rtl,
    Auto,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
            Direction::Auto => "auto",
        }
    }
}

impl Default for Sender {
    fn default() -> Self {
        Sender {
            name: "Newsletter".into(),
            email: "newsletter@example.org".into(),
            reply_to: None,
            list_id: None,
            postal_address: None,
            bounce_address: None,
            verp: false,
            unsubscribe_mailto: None,
            unsubscribe_url: None,
            token_secret: None,
            language: None,
            direction: None,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// `smtp://`: STARTTLS required, except to a loopback host.
    #[default]
    Starttls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// Plain text, even to a remote host. Never the default.
    None,
}

/// `[smtp]`: the server bulk and test sends go through. The password is never stored here:
/// it comes from `BULLETIN_SMTP_PASSWORD` or a prompt.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Smtp {
    /// `smtp://user@host:587` or `smtps://user@host:465`; `BULLETIN_SMTP_URL` and `--smtp` override.
    pub url: Option<String>,
    /// Send in plain text to a non-loopback host (needed only for `smtp://` without STARTTLS).
    pub allow_insecure: bool,
    /// Skip certificate verification for these hosts only (self-signed test relays).
    pub insecure_skip_verify_hosts: Vec<String>,
    /// A PEM file of extra certificate authorities (a company CA), relative to the project;
    /// the system's store and the bundled web roots are always trusted.
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for a connection or any one server reply, except the reply to a
    /// message's final `.`.
    pub timeout_secs: u64,
    /// Seconds to wait for the reply to a message's final `.` (RFC 5321 §4.5.3.2: 10 minutes).
    /// A message without that reply is uncertain: it is not sent again by the same run.
    pub data_timeout_secs: u64,
    /// Name sent in EHLO; defaults to the sender's domain.
    pub helo_name: Option<String>,
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            url: None,
            allow_insecure: false,
            insecure_skip_verify_hosts: Vec::new(),
            ca_file: None,
            timeout_secs: 60,
            data_timeout_secs: 600,
            helo_name: None,
        }
    }
}

/// `[send]`: defaults for bulk sends.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Send {
    /// `10/s`, `30/m`, `500/h` or `unlimited`: no window of that length holds more messages.
    pub rate: String,
    /// SMTP connections used at once.
    pub connections: usize,
    /// How many times a transient failure is retried before the member is deferred.
    pub retries: u32,
    /// Milliseconds to wait before the first retry; each further retry waits about twice as
    /// long (with jitter, at most five minutes).
    pub retry_backoff_ms: u64,
    /// Seconds within which a member's retries must start, counted from their first try: a
    /// server that stays away longer defers the member (or stops the run) sooner than the
    /// retries alone would.
    pub retry_for_secs: u64,
    /// Stop a send once this many messages in a row were deferred (still refused for now after
    /// their retries) with none accepted between: the server turns everything away for the
    /// moment, and going on would only defer the rest. 0: never stop for this.
    pub stop_after_deferred: usize,
    /// Folder `--dry-run` writes `.eml` files into.
    pub outbox: PathBuf,
    /// Embed local images in each message (`cid:`), unless `asset_base_url` is set.
    pub embed_images: bool,
    /// Public URL the issue's images are served from; images then link there instead of being
    /// embedded.
    pub asset_base_url: Option<String>,
    /// Refuse a bulk send (before anything is sent) when the sender's DNS checks fail: SPF,
    /// DKIM, DMARC, alignment, MX. Without it, failures are warnings.
    pub require_authentication: bool,
    /// The sending account's daily quota: at most this many messages accepted in any 24
    /// hours, counted over every journal of the project (`--rate N/d` overrides it).
    pub daily_quota: Option<u32>,
}

impl Default for Send {
    fn default() -> Self {
        Send {
            rate: "unlimited".into(),
            connections: 4,
            retries: 3,
            retry_backoff_ms: 2000,
            retry_for_secs: 120,
            stop_after_deferred: 20,
            outbox: PathBuf::from("outbox"),
            embed_images: true,
            asset_base_url: None,
            require_authentication: false,
            daily_quota: None,
        }
    }
}

/// `[paths]`: where things live, relative to the project root.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// The template used when an issue names none.
    pub template: PathBuf,
    /// Folder of partials (`{{> name}}` finds `NAME.mjml.hbs` there).
    pub partials: PathBuf,
    /// Folder of member lists.
    pub lists: PathBuf,
    /// Journals, the bounce log and the suppression list.
    pub state: PathBuf,
    /// Default output folder of `bulletin build`.
    pub out: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            template: PathBuf::from("templates/bulletin.mjml.hbs"),
            partials: PathBuf::from("templates/partials"),
            lists: PathBuf::from("lists"),
            state: PathBuf::from(".bulletin"),
            out: PathBuf::from("out"),
        }
    }
}

/// `[dkim]`: sign every message. The key file is PEM (RSA or Ed25519).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dkim {
    pub domain: String,
    pub selector: String,
    pub private_key_file: PathBuf,
}

/// `[bounces]`: when soft bounces suppress a member.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Bounces {
    /// This many soft bounces …
    pub soft_limit: u32,
    /// … within this many days suppress the address.
    pub soft_window_days: u32,
}

impl Default for Bounces {
    fn default() -> Self {
        Bounces {
            soft_limit: 3,
            soft_window_days: 30,
        }
    }
}

/// `[imap]`: how `bulletin bounces imaps://…` trusts the mailbox's server. The system's
/// certificate store and the bundled web roots are always trusted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Imap {
    /// A PEM file of extra certificate authorities (a private CA), relative to the project.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification for these hosts only (self-signed test servers).
    pub insecure_skip_verify_hosts: Vec<String>,
}

/// `[compose]`: how issues are compiled.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Compose {
    /// What MJML that breaks MJML's rules does: `strict` (an error), `soft` (a warning) or
    /// `skip` (not checked).
    pub validation: Validation,
}

/// `[compose] validation`: what broken MJML rules do, as the `mjml` compiler's
/// `validationLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// Broken rules are errors: nothing is built, previewed or sent.
    #[default]
    Strict,
    /// Broken rules are warnings; the issue is built as mrml compiles it.
    Soft,
    /// No validation.
    Skip,
}

/// `[preview]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Preview {
    pub port: u16,
}

impl Default for Preview {
    fn default() -> Self {
        Preview { port: 4000 }
    }
}

/// `[dns]`: how the deliverability checks reach the DNS.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Dns {
    /// `IP` or `IP:PORT` (`[IPv6]:PORT`) of the one name server to ask; without it, the system's
    /// resolvers (`/etc/resolv.conf`).
    pub nameserver: Option<String>,
    /// Seconds to wait for an answer to any one query before calling it a timeout.
    pub timeout_secs: u64,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            nameserver: None,
            timeout_secs: 3,
        }
    }
}

/// `[serve]`: `bulletin serve`, the project's public web service (one-click unsubscribes), and
/// where `send` fetches the unsubscribes it recorded.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Serve {
    /// Address `bulletin serve` listens on, behind a reverse proxy that terminates TLS.
    pub listen: String,
    /// The service's public URL, e.g. `https://news.example.org`: requests must name its host,
    /// unsubscribe links default to `URL/unsubscribe/{token}`, and every bulk `send` fetches
    /// the unsubscribes recorded there before sending.
    pub url: Option<String>,
    /// POSTs one client may make: `10/s`, `600/m` or `unlimited`.
    pub post_rate: String,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a client has to send a request's header, also the longest a kept-alive
    /// connection may wait idle for its next request.
    pub header_timeout_secs: u64,
    /// Seconds to read a request's body and answer it.
    pub request_timeout_secs: u64,
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            listen: "127.0.0.1:8080".into(),
            url: None,
            post_rate: "10/s".into(),
            body_limit_bytes: 16 * 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 20,
        }
    }
}

/// `[archive]`: the public web archive of the issues (`bulletin archive`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Archive {
    /// Public URL of the archive, e.g. `https://news.example.org/archive/`: the issues'
    /// `archive_url`, the feed's links. Default: `[serve] url`, which serves the archive.
    pub base_url: Option<String>,
    /// Folders holding issue folders (each a folder with `issue.toml`).
    pub issues: Vec<PathBuf>,
    /// Where `bulletin archive` writes the site.
    pub out: PathBuf,
    /// The archive's title; default: the list's name.
    pub title: Option<String>,
    /// Where readers of the archive subscribe (or manage a subscription): shown in place of
    /// the unsubscribe link.
    pub subscribe_url: Option<String>,
    /// Only the newest N issues in the feed (default: every issue).
    pub feed_entries: Option<usize>,
}

impl Default for Archive {
    fn default() -> Self {
        Archive {
            base_url: None,
            issues: vec![PathBuf::from("issues")],
            out: PathBuf::from("site"),
            title: None,
            subscribe_url: None,
            feed_entries: None,
        }
    }
}

/// `[lists]`: how member lists say who may be mailed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Lists {
    /// Which values of a consent column mean "send": every other value of that column (an empty
    /// cell included) is left out. One table, or an array of them.
    #[serde(deserialize_with = "one_or_many")]
    pub send_when: Vec<SendWhen>,
    /// Columns that look like consent but say nothing about it (e.g. `Lead Status`).
    pub not_consent: Vec<String>,
}

/// `send_when = { column = "Status", values = ["member", "board"] }`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SendWhen {
    pub column: String,
    pub values: Vec<String>,
}

impl Lists {
    /// The rules the list reader applies.
    pub fn rules(&self) -> crate::list::Rules {
        crate::list::Rules::new(
            self.send_when
                .iter()
                .map(|s| (s.column.as_str(), s.values.as_slice())),
            self.not_consent.iter().map(String::as_str),
        )
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SendWhen>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(SendWhen),
        Many(Vec<SendWhen>),
    }
    match OneOrMany::deserialize(d) {
        Ok(OneOrMany::One(s)) => Ok(vec![s]),
        Ok(OneOrMany::Many(v)) => Ok(v),
        Err(_) => Err(serde::de::Error::custom(
            "expected `send_when = { column = \"…\", values = [\"…\"] }` or an array of such tables",
        )),
    }
}

impl Config {
    /// Parse `bulletin.toml` text; errors point at the line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Config, SourceError> {
        toml::from_str(text).map_err(|e| toml_error(path, text, &e))
    }

    /// Read and parse a `bulletin.toml` file (BOM and CRLF tolerated).
    pub fn load(path: &Path) -> Result<Config, SourceError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// The https (or http) unsubscribe URL with `{token}`: `[sender] unsubscribe_url`, else
    /// the `bulletin serve` page under `[serve] url`.
    pub fn unsubscribe_url(&self) -> Option<String> {
        if let Some(u) = &self.sender.unsubscribe_url {
            return Some(u.clone());
        }
        let base = self.serve.url.as_deref()?.trim().trim_end_matches('/');
        Some(format!("{base}/unsubscribe/{{token}}"))
    }

    /// The archive's public URL ending in `/`: `[archive] base_url`, else `[serve] url`.
    pub fn archive_base_url(&self) -> Option<String> {
        let base = self
            .archive
            .base_url
            .as_deref()
            .or(self.serve.url.as_deref())?
            .trim();
        Some(format!("{}/", base.trim_end_matches('/')))
    }

    /// The address unsubscribe requests are mailed to (`mailto:` of List-Unsubscribe):
    /// `[sender] unsubscribe_mailto`, else `reply_to`, else `email`; without `mailto:`.
    pub fn unsubscribe_mailto(&self) -> &str {
        let s = &self.sender;
        let raw = s
            .unsubscribe_mailto
            .as_deref()
            .or(s.reply_to.as_deref())
            .unwrap_or(&s.email)
            .trim();
        raw.strip_prefix("mailto:").unwrap_or(raw)
    }

    /// The address bounces go to (MAIL FROM).
    pub fn bounce_address(&self) -> &str {
        self.sender
            .bounce_address
            .as_deref()
            .unwrap_or(&self.sender.email)
    }
}

/// Turn a `toml` error into a [`SourceError`] at its line and column.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> SourceError {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => SourceError::at_offset(path, text, span.start, message),
        None => SourceError::file(path, message),
    }
}

/// The path of `p` relative to `root` when it is relative, as is.
pub fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(
            Config::parse(Path::new("b.toml"), "").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn unsubscribe_addresses_default_to_the_service_and_the_sender() {
        let text = "[sender]\nemail = \"news@x.org\"\n[serve]\nurl = \"https://news.x.org/\"\n";
        let c = Config::parse(Path::new("b.toml"), text).unwrap();
        assert_eq!(
            c.unsubscribe_url().as_deref(),
            Some("https://news.x.org/unsubscribe/{token}")
        );
        assert_eq!(c.unsubscribe_mailto(), "news@x.org");
        assert_eq!(c.serve.listen, "127.0.0.1:8080");
        let text = "[sender]\nunsubscribe_url = \"https://a.org/u/{token}\"\nunsubscribe_mailto = \"mailto:u@a.org\"\n[serve]\nurl = \"https://news.x.org\"\n";
        let c = Config::parse(Path::new("b.toml"), text).unwrap();
        assert_eq!(
            c.unsubscribe_url().as_deref(),
            Some("https://a.org/u/{token}")
        );
        assert_eq!(c.unsubscribe_mailto(), "u@a.org");
        assert_eq!(Config::default().unsubscribe_url(), None);
    }

    #[test]
    fn unknown_key_is_an_error_at_its_line() {
        let text = "[sender]\nname = \"A\"\nemial = \"a@b.c\"\n";
        let e = Config::parse(Path::new("bulletin.toml"), text).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown field `emial`"), "{}", e.message);
    }

    #[test]
    fn tables_parse() {
        let text = r#"
[sender]
name = "Cluster News"
email = "news@cluster.example"
verp = true
[send]
rate = "30/m"
connections = 8
require_authentication = true
[dkim]
domain = "cluster.example"
selector = "s1"
private_key_file = "dkim.pem"
[dns]
nameserver = "127.0.0.1:5353"
"#;
        let c = Config::parse(Path::new("bulletin.toml"), text).unwrap();
        assert_eq!(c.sender.name, "Cluster News");
        assert!(c.sender.verp);
        assert_eq!(c.send.rate, "30/m");
        assert_eq!(c.send.connections, 8);
        assert_eq!(c.send.retries, 3);
        assert_eq!(c.dkim.as_ref().unwrap().selector, "s1");
        assert_eq!(c.bounce_address(), "news@cluster.example");
        assert!(c.send.require_authentication);
        assert_eq!(c.dns.nameserver.as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(c.dns.timeout_secs, 3);
    }

    #[test]
    fn lists_send_when_is_one_table_or_many() {
        let text = "[lists]\nsend_when = { column = \"Status\", values = [\"member\", \"board\"] }\nnot_consent = [\"Lead Status\"]\n";
        let c = Config::parse(Path::new("bulletin.toml"), text).unwrap();
        assert_eq!(c.lists.send_when.len(), 1);
        assert_eq!(c.lists.send_when[0].values, ["member", "board"]);
        assert_eq!(c.lists.not_consent, ["Lead Status"]);
        let text = "[[lists.send_when]]\ncolumn = \"Status\"\nvalues = [\"member\"]\n[[lists.send_when]]\ncolumn = \"Tier\"\nvalues = [\"gold\"]\n";
        let c = Config::parse(Path::new("bulletin.toml"), text).unwrap();
        assert_eq!(c.lists.send_when.len(), 2);
        let e = Config::parse(
            Path::new("bulletin.toml"),
            "[lists]\nsend_when = { column = \"Status\" }\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("send_when"), "{}", e.message);
    }
}
