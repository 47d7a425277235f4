//! Bringing the unsubscribes recorded by `bulletin serve` to the machine that sends. With
//! `[serve] url` set, every bulk send's preflight fetches the lines appended to the service's
//! suppression list since the last fetch and merges them into the local one, before anything
//! is sent. The request is authenticated with a key derived from the project's token secret
//! (which both machines hold, or the tokens would not match): never an argument, never logged.
//! HTTPS is required, with the certificate verified; plain http only to a loopback address.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::feed::Page;
use crate::list::Suppression;
use crate::list::suppression::RESUBSCRIBE;
use crate::message::Tokens;
use crate::project::Project;
use crate::server_url::{ServerUrl, is_loopback};

/// The path of the feed under `[serve] url`.
pub const FEED_PATH: &str = "/api/unsubscribes";

/// The state file: where the last fetch ended, and when.
const STATE_FILE: &str = "serve-sync.json";

/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The key that opens the feed: derived from the token secret.
pub fn feed_key(tokens: &Tokens) -> String {
    tokens.derive("serve-feed", &[], 52)
}

/// Why the unsubscribes could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("bulletin.toml: serve.url: {0}")]
    Config(String),
    #[error(
        "cannot fetch the unsubscribes recorded at {url}: {message}; nothing was sent \
         (fix the service or the network, or pass --allow-stale-unsubscribes to send with the \
         unsubscribes {age})"
    )]
    Unreachable {
        url: String,
        message: String,
        age: String,
    },
    #[error("cannot merge the fetched unsubscribes into {path}: {message}")]
    Merge { path: PathBuf, message: String },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    url: String,
    cursor: Option<String>,
    fetched_at: Option<String>,
}

/// What the preflight says about the unsubscribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Fetched now: how many lines came, how many changed the local list.
    Fresh {
        url: String,
        fetched: usize,
        changed: usize,
    },
    /// Not reachable, and the send goes on as asked: the age of the local copy.
    Stale {
        url: String,
        message: String,
        age: String,
    },
}

impl std::fmt::Display for Synced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Synced::Fresh {
                url,
                fetched,
                changed,
            } => write!(
                f,
                "unsubscribes: fetched from {url}: {fetched} new record{}, {changed} changed the suppression list",
                if *fetched == 1 { "" } else { "s" }
            ),
            Synced::Stale { url, message, age } => write!(
                f,
                "warning: cannot fetch the unsubscribes recorded at {url} ({message}); sending with the unsubscribes {age} (--allow-stale-unsubscribes)"
            ),
        }
    }
}

/// The parts of `[serve] url` a client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// `host[:port]` as the `Host` header.
    authority: String,
    /// The path prefix, without a trailing slash.
    base: String,
}

fn target(url: &str) -> Result<Target, String> {
    let url = url.trim();
    let not_a_url = || format!("{url:?} is not a URL such as https://news.example.org");
    if !url.contains("://") {
        return Err(not_a_url());
    }
    let parts = ServerUrl::parse(url).map_err(|why| format!("{url:?}: {why}"))?;
    let tls = match parts.scheme.as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(format!("{url:?}: the scheme must be https")),
    };
    if parts.user.is_some() {
        return Err(format!("{url:?} names no host"));
    }
    let default_port = if tls { 443 } else { 80 };
    let authority = parts.host_header();
    if !tls && !is_loopback(&parts.host) {
        return Err(format!(
            "{url:?}: plain http is allowed only to a loopback address; use https://"
        ));
    }
    let base = parts.raw_path.trim_end_matches('/').to_string();
    Ok(Target {
        tls,
        port: parts.port.unwrap_or(default_port),
        host: parts.host,
        authority,
        base,
    })
}

fn state_path(project: &Project) -> PathBuf {
    project.state_dir().join(STATE_FILE)
}

fn read_state(path: &Path) -> State {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn write_state(path: &Path, state: &State) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(state).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// `fetched 3 h 12 min ago` / `never fetched`.
fn age(fetched_at: Option<&str>, now: OffsetDateTime) -> String {
    let Some(t) = fetched_at.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()) else {
        return "as they are here (never fetched from the service)".into();
    };
    let secs = (now - t).whole_seconds().max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{secs} s")
    };
    format!(
        "as last fetched {text} ago ({})",
        t.format(&Rfc3339).unwrap_or_default()
    )
}

/// Before a bulk send: fetch and merge, or say why not. `Ok(None)` when `[serve] url` is not
/// set. With `allow_stale`, an unreachable service is a warning instead of an error.
pub fn before_send(project: &Project, allow_stale: bool) -> Result<Option<Synced>, SyncError> {
    let Some(url) = project.config.serve.url.clone() else {
        return Ok(None);
    };
    let t = target(&url).map_err(SyncError::Config)?;
    let tokens = Tokens::load(&project.config, &project.root)
        .map_err(|e| SyncError::Config(e.to_string()))?;
    let key = feed_key(&tokens);
    let path = state_path(project);
    let mut state = read_state(&path);
    if state.url != url {
        state = State {
            url: url.clone(),
            ..State::default()
        };
    }
    let suppression_path = Suppression::path_in(&project.state_dir());
    let merge_err = |message: String| SyncError::Merge {
        path: suppression_path.clone(),
        message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| merge_err(e.to_string()))?;
    let mut suppression =
        Suppression::load(&suppression_path).map_err(|e| merge_err(e.to_string()))?;
    let (mut fetched, mut changed) = (0usize, 0usize);
    loop {
        let page = match runtime.block_on(fetch(&t, &key, state.cursor.as_deref())) {
            Ok(p) => p,
            Err(message) => {
                let age = age(state.fetched_at.as_deref(), OffsetDateTime::now_utc());
                if allow_stale {
                    return Ok(Some(Synced::Stale { url, message, age }));
                }
                return Err(SyncError::Unreachable { url, message, age });
            }
        };
        for e in &page.events {
            fetched += 1;
            let did = if e.source == RESUBSCRIBE {
                suppression.resubscribe(&e.email, &e.reason)
            } else {
                suppression.add(&e.email, &e.reason, &e.source)
            }
            .map_err(|err| merge_err(err.to_string()))?;
            changed += usize::from(did);
        }
        state.cursor = Some(page.cursor);
        state.fetched_at = OffsetDateTime::now_utc().format(&Rfc3339).ok();
        write_state(&path, &state).map_err(|e| merge_err(format!("{}: {e}", path.display())))?;
        if !page.more {
            break;
        }
    }
    Ok(Some(Synced::Fresh {
        url,
        fetched,
        changed,
    }))
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn fetch(t: &Target, key: &str, cursor: Option<&str>) -> Result<Page, String> {
    tokio::time::timeout(TIMEOUT, fetch_inner(t, key, cursor))
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
}

async fn fetch_inner(t: &Target, key: &str, cursor: Option<&str>) -> Result<Page, String> {
    let tcp = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", t.host, t.port))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if t.tls {
        let config = crate::tls::Trust::default()
            .client_config(&t.host)
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from(t.host.clone()).map_err(|e| e.to_string())?;
        Box::new(
            TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?,
        )
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut path = format!("{}{FEED_PATH}", t.base);
    if let Some(c) = cursor {
        path.push_str("?after=");
        path.extend(form_urlencoded::byte_serialize(c.as_bytes()));
    }
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, &t.authority)
        .header(hyper::header::AUTHORIZATION, format!("Bearer {key}"))
        .header(
            hyper::header::USER_AGENT,
            concat!("bulletin/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    match status.as_u16() {
        200 => serde_json::from_slice(&body)
            .map_err(|e| format!("an answer that is not the feed: {e}")),
        401 | 403 => Err(format!(
            "the service refused the key ({status}): does it run with the same token secret?"
        )),
        _ => Err(format!("the service answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = target("https://news.example.org/").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.base.as_str()),
            (true, "news.example.org", 443, "")
        );
        let t = target("https://news.example.org:8443/bulletin/").unwrap();
        assert_eq!(
            (t.port, t.authority.as_str(), t.base.as_str()),
            (8443, "news.example.org:8443", "/bulletin")
        );
        let t = target("http://127.0.0.1:8080").unwrap();
        assert_eq!((t.tls, t.port), (false, 8080));
        assert!(target("http://[::1]:9000").is_ok());
        let e = target("http://news.example.org").unwrap_err();
        assert!(e.contains("only to a loopback address"), "{e}");
        assert!(target("news.example.org").is_err());
        assert!(target("ftp://x.org").is_err());
        assert!(target("https://x.org:http").is_err());
    }

    #[test]
    fn ages() {
        let now = OffsetDateTime::parse("2026-12-01T12:00:00Z", &Rfc3339).unwrap();
        assert!(age(None, now).contains("never fetched"));
        assert!(
            age(Some("2026-12-01T09:30:00Z"), now).starts_with("as last fetched 2 h 30 min ago")
        );
        assert!(age(Some("2026-11-28T11:00:00Z"), now).starts_with("as last fetched 3 d 1 h ago"));
    }
}
