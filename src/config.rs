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
    pub preview: Preview,
    pub serve: Serve,
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
    /// Seconds to wait for any one server reply.
    pub timeout_secs: u64,
    /// Name sent in EHLO; defaults to the sender's domain.
    pub helo_name: Option<String>,
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            url: None,
            allow_insecure: false,
            insecure_skip_verify_hosts: Vec::new(),
            timeout_secs: 60,
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
}

impl Default for Send {
    fn default() -> Self {
        Send {
            rate: "unlimited".into(),
            connections: 4,
            retries: 3,
            retry_backoff_ms: 2000,
            stop_after_deferred: 20,
            outbox: PathBuf::from("outbox"),
            embed_images: true,
            asset_base_url: None,
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
[dkim]
domain = "cluster.example"
selector = "s1"
private_key_file = "dkim.pem"
"#;
        let c = Config::parse(Path::new("bulletin.toml"), text).unwrap();
        assert_eq!(c.sender.name, "Cluster News");
        assert!(c.sender.verp);
        assert_eq!(c.send.rate, "30/m");
        assert_eq!(c.send.connections, 8);
        assert_eq!(c.send.retries, 3);
        assert_eq!(c.dkim.as_ref().unwrap().selector, "s1");
        assert_eq!(c.bounce_address(), "news@cluster.example");
    }
}
