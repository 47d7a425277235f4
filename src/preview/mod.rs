//! The live preview server: `bulletin preview ISSUE`.
//!
//! Builds the issue through the same pipeline as `send` (compose, then a render per member),
//! serves a page showing it at desktop and mobile widths, and rebuilds what a file change needs
//! (see [`watch::Change`]); the page hears of each rebuild through server-sent events.

pub mod files;
pub mod page;
pub mod server;
pub mod state;
pub mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::sync::watch as channel;

pub use state::{PreviewState, Target};

/// Everything `bulletin preview` needs to start.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one. `None`: the project's `preview.port`.
    pub port: Option<u16>,
    /// Open the default browser on the page.
    pub open: bool,
}

impl Options {
    pub fn new(issue: PathBuf) -> Self {
        Options {
            target: Target {
                issue,
                template: None,
                list: None,
                filter: None,
                as_email: None,
            },
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: None,
            open: true,
        }
    }
}

/// Parse a `--host` value: an IP address or `localhost`.
pub fn parse_host(s: &str) -> anyhow::Result<IpAddr> {
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    s.trim_matches(|c| c == '[' || c == ']')
        .parse()
        .with_context(|| format!("--host {s}: expected an IP address such as 127.0.0.1"))
}

/// Serve until interrupted. Prints the page's URL on stdout once listening.
pub fn serve(opts: Options) -> anyhow::Result<()> {
    let mut state = PreviewState::open(opts.target.clone())?;
    let port = match opts.port {
        Some(p) => p,
        None => configured_port(&state),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(opts.host, port);
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} (pick another port with --port, or --port 0)")
        })?;
        let local = listener.local_addr()?;
        let url = format!("http://{}/", display_addr(local));
        state.set_base_url(&url);
        let loopback_only = opts.host.is_loopback();
        if !loopback_only {
            eprintln!(
                "warning: serving on {}: anyone who can reach this machine can see the preview \
                 and the member list",
                opts.host
            );
        }
        if let Some(e) = state.error() {
            eprintln!("error: {e}");
        }
        let set = state.watch_set();
        let (tx, rx) = channel::channel(state.version());
        let state = Arc::new(Mutex::new(state));
        spawn_watcher(state.clone(), set, tx)?;

        println!("{url}");
        eprintln!("previewing at {url} (Ctrl-C to stop)");
        if opts.open
            && let Err(e) = open::that_detached(&url)
        {
            eprintln!("warning: cannot open a browser ({e}); open {url} yourself");
        }
        let app = server::router(server::App {
            state,
            version: rx,
            loopback_only,
        });
        tokio::select! {
            r = axum::serve(listener, app) => r.context("the preview server stopped")?,
            _ = tokio::signal::ctrl_c() => eprintln!("stopped"),
        }
        Ok(())
    })
}

fn configured_port(s: &PreviewState) -> u16 {
    crate::project::Project::discover(s.root())
        .map(|p| p.config.preview.port)
        .unwrap_or_else(|_| crate::config::Preview::default().port)
}

fn display_addr(a: SocketAddr) -> String {
    match a.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
    }
}

/// Watch the files on a thread of its own: each change rebuilds what it needs, re-aims the
/// watcher at what the new build read, and moves the version the page listens to.
fn spawn_watcher(
    state: Arc<Mutex<PreviewState>>,
    mut set: watch::WatchSet,
    tx: channel::Sender<u64>,
) -> anyhow::Result<()> {
    let mut watcher = watch::Watcher::new().context("cannot watch files")?;
    watcher.follow(&set);
    std::thread::Builder::new()
        .name("preview-watch".into())
        .spawn(move || {
            while let Some((change, paths)) = watcher.next(&set) {
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                let report = s.rebuild(change);
                let names: Vec<String> = paths
                    .iter()
                    .map(|p| p.strip_prefix(s.root()).unwrap_or(p).display().to_string())
                    .collect();
                eprintln!("{}: {report}", names.join(", "));
                let new_set = s.watch_set();
                let version = s.version();
                drop(s);
                if new_set != set {
                    set = new_set;
                    watcher.follow(&set);
                }
                tx.send_replace(version);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(parse_host("localhost").unwrap().to_string(), "127.0.0.1");
        assert_eq!(parse_host("0.0.0.0").unwrap().to_string(), "0.0.0.0");
        assert_eq!(parse_host("[::1]").unwrap().to_string(), "::1");
        assert!(parse_host("example.org").is_err());
    }
}
