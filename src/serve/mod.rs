//! `bulletin serve`: the project's small public web service, run behind a reverse proxy that
//! terminates TLS. It answers one-click unsubscribes (RFC 8058) and the unsubscribe page, and
//! knows the members from the project's lists and send records, picking up their changes
//! without a restart.
//!
//! [`router`] puts the routes of every part of the service under the same guards (the `Host`
//! check, the request timeout, the security headers); a new part adds its own `Router`.

mod archive;
mod feed;
mod guard;
pub mod pages;
mod unsubscribe;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

pub use guard::{ClientLimiter, HostRule};

use crate::deliver::rate::Rate;
use crate::list::{AddressKey, Suppression};
use crate::message::Tokens;
use crate::project::Project;
use crate::unsubscribe::directory::{Fingerprint, Sources};
use crate::unsubscribe::{Action, Directory, Member, Recorder};

/// How `bulletin serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Listen here instead of `[serve] listen`.
    pub listen: Option<String>,
    /// Answer without recording anything: only to measure what durability costs.
    pub no_record: bool,
}

/// What every handler shares.
#[derive(Clone)]
pub struct App(Arc<Shared>);

struct Shared {
    list_name: String,
    directory: RwLock<Arc<Directory>>,
    /// Addresses unsubscribed right now, as the suppression list says.
    unsubscribed: Mutex<HashSet<AddressKey>>,
    /// Recording holds it shared, reading the lines others appended holds it alone, so the
    /// two never interleave (an undo and a stale reread would otherwise hide a new
    /// unsubscribe).
    gate: tokio::sync::RwLock<()>,
    recorder: Option<Recorder>,
    limiter: Option<ClientLimiter>,
    hosts: HostRule,
    /// Opens the feed of recorded unsubscribes.
    feed_key: String,
    suppression_path: PathBuf,
    body_limit: usize,
    request_timeout: Duration,
}

impl App {
    fn list_name(&self) -> &str {
        &self.0.list_name
    }

    fn member(&self, token: &str) -> Option<Member> {
        let d = self.0.directory.read().unwrap_or_else(|e| e.into_inner());
        d.find(token).cloned()
    }

    fn is_unsubscribed(&self, email: &str) -> bool {
        self.unsubscribed().contains(&AddressKey::of(email))
    }

    fn unsubscribed(&self) -> std::sync::MutexGuard<'_, HashSet<AddressKey>> {
        self.0
            .unsubscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn feed_key(&self) -> &str {
        &self.0.feed_key
    }

    fn suppression_path(&self) -> &std::path::Path {
        &self.0.suppression_path
    }

    fn limiter(&self) -> Option<&ClientLimiter> {
        self.0.limiter.as_ref()
    }

    fn body_limit(&self) -> usize {
        self.0.body_limit
    }

    /// Record `action` durably (unless it changes nothing); returns what was done, for the log.
    async fn record(
        &self,
        email: &str,
        action: Action,
        via: &str,
    ) -> std::io::Result<&'static str> {
        let _gate = self.0.gate.read().await;
        let key = AddressKey::of(email);
        if action == Action::Unsubscribe && self.unsubscribed().contains(&key) {
            return Ok("already unsubscribed");
        }
        if let Some(r) = &self.0.recorder {
            let reason = match action {
                Action::Unsubscribe => format!("unsubscribed ({via})"),
                Action::Resubscribe => format!("unsubscribe undone ({via})"),
            };
            r.record(email, action, &reason).await?;
        }
        let mut set = self.unsubscribed();
        match action {
            Action::Unsubscribe => {
                set.insert(key);
                Ok("unsubscribed")
            }
            Action::Resubscribe => {
                set.remove(&key);
                Ok("resubscribed")
            }
        }
    }
}

/// The name of the list on the pages: `[sender] list_id`'s phrase, else the sender's name.
fn list_name(project: &Project) -> String {
    let s = &project.config.sender;
    s.list_id
        .as_deref()
        .and_then(|id| id.split('<').next())
        .map(|n| n.trim().trim_matches('"').trim())
        .filter(|n| !n.is_empty())
        .unwrap_or(&s.name)
        .to_string()
}

/// Every part of the service under the common guards. `parts` are the routers of the parts
/// (the unsubscribe routes are always there).
pub fn router(app: App, parts: impl IntoIterator<Item = Router>) -> Router {
    let mut r = unsubscribe::routes(app.clone()).merge(feed::routes(app.clone()));
    for part in parts {
        r = r.merge(part);
    }
    let list = app.list_name().to_string();
    r.fallback(move || not_found(list.clone()))
        .layer(middleware::from_fn_with_state(app.clone(), guard_request))
        .route("/healthz", get(healthz))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found(list: String) -> Response {
    (StatusCode::NOT_FOUND, Html(pages::unknown(&list))).into_response()
}

/// The `Host` check, the request timeout and the headers every answer carries.
async fn guard_request(State(app): State<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let mut r = if !app.0.hosts.allows(host) {
        (
            StatusCode::MISDIRECTED_REQUEST,
            Html(pages::refused(
                "Wrong address",
                "This service does not answer for that host name.",
            )),
        )
            .into_response()
    } else {
        match tokio::time::timeout(app.0.request_timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => (
                StatusCode::REQUEST_TIMEOUT,
                Html(pages::refused("Too slow", "The request took too long.")),
            )
                .into_response(),
        }
    };
    let h = r.headers_mut();
    for (name, value) in [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    // A part may set its own (the archive's pages show images and may be cached).
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    r
}

/// Serve until interrupted (Ctrl-C or SIGTERM). Prints the URL on stdout once listening.
pub fn serve(project: Project, opts: Options) -> anyhow::Result<()> {
    let cfg = project.config.serve.clone();
    let hosts = HostRule::for_url(cfg.url.as_deref())
        .map_err(|m| anyhow::anyhow!("bulletin.toml: serve.url: {m}"))?;
    let limiter = Rate::parse(&cfg.post_rate)
        .map_err(|m| anyhow::anyhow!("bulletin.toml: serve.post_rate: {m}"))?
        .map(ClientLimiter::new);
    let tokens = Tokens::load(&project.config, &project.root)?;
    let sources = Sources::of(&project);
    let suppression_path = Suppression::path_in(&project.state_dir());
    let recorder =
        if opts.no_record {
            eprintln!("warning: --no-record: unsubscribes are answered and NOT recorded");
            None
        } else {
            Some(Recorder::start(&suppression_path).with_context(|| {
                format!("cannot open {} for writing", suppression_path.display())
            })?)
        };
    let (directory, fingerprint) = load_directory(&sources, &tokens);
    let mut unsubscribed = HashSet::new();
    let cursor = follow(&suppression_path, None, &mut unsubscribed)?;
    let app = App(Arc::new(Shared {
        list_name: list_name(&project),
        directory: RwLock::new(Arc::new(directory)),
        unsubscribed: Mutex::new(unsubscribed),
        gate: tokio::sync::RwLock::new(()),
        recorder,
        limiter,
        hosts: hosts.clone(),
        feed_key: crate::unsubscribe::sync::feed_key(&tokens),
        suppression_path: suppression_path.clone(),
        body_limit: cfg.body_limit_bytes,
        request_timeout: Duration::from_secs(cfg.request_timeout_secs.max(1)),
    }));
    let list = list_name(&project);
    let shelf = archive::shelf(&project);
    let listen = opts.listen.unwrap_or(cfg.listen.clone());
    let header_timeout = Duration::from_secs(cfg.header_timeout_secs.max(1));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (set [serve] listen or --listen)"))?;
        let local = listener.local_addr()?;
        if hosts == HostRule::Loopback {
            eprintln!(
                "warning: [serve] url is not set: only requests for a loopback host name are answered"
            );
        }
        tokio::spawn(watch_sources(
            app.clone(),
            sources,
            tokens,
            fingerprint,
            suppression_path,
            cursor,
        ));
        tokio::spawn(archive::keep_fresh(project, shelf.clone()));
        let router = router(app, [archive::routes(shelf, pages::unknown(&list))]);
        println!("http://{local}/");
        eprintln!("serving on http://{local}/ (Ctrl-C to stop)");
        tokio::select! {
            r = accept_loop(listener, router, header_timeout) => r,
            _ = shutdown_signal() => {
                eprintln!("stopped");
                Ok(())
            }
        }
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One HTTP/1.1 connection per accepted socket, with the header (and keep-alive idle) timeout.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: Router,
    header_timeout: Duration,
) -> anyhow::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // out of file descriptors and the like: wait and go on
                eprintln!("warning: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    router.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn load_directory(sources: &Sources, tokens: &Tokens) -> (Directory, Fingerprint) {
    let fingerprint = sources.fingerprint();
    let (addresses, warnings) = sources.addresses();
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let d = Directory::of(tokens, addresses);
    eprintln!("members known: {}", d.len());
    (d, fingerprint)
}

/// Apply the suppression list's lines after `cursor` to the set of unsubscribed addresses
/// (from the start when the file is new or was replaced); returns the new cursor.
fn follow(
    path: &std::path::Path,
    cursor: Option<&str>,
    set: &mut HashSet<AddressKey>,
) -> anyhow::Result<String> {
    let mut cursor = cursor.map(str::to_string);
    loop {
        let page = crate::unsubscribe::feed::read(path, cursor.as_deref(), 100_000)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if page.from_start {
            set.clear();
        }
        for e in &page.events {
            match e.source.as_str() {
                crate::list::suppression::UNSUBSCRIBE => {
                    set.insert(AddressKey::of(&e.email));
                }
                crate::list::suppression::RESUBSCRIBE => {
                    set.remove(&AddressKey::of(&e.email));
                }
                _ => {}
            }
        }
        cursor = Some(page.cursor);
        if !page.more {
            return Ok(cursor.unwrap_or_default());
        }
    }
}

/// Every two seconds: rebuild the directory when a list or journal changed, and take in the
/// lines appended to the suppression list (by this service, `bulletin bounces`, an edit).
async fn watch_sources(
    app: App,
    sources: Sources,
    tokens: Tokens,
    mut fingerprint: Fingerprint,
    suppression: PathBuf,
    mut cursor: String,
) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = {
            let s = sources.clone();
            tokio::task::spawn_blocking(move || s.fingerprint()).await
        };
        if let Ok(now) = now
            && now != fingerprint
        {
            let (s, t) = (sources.clone(), tokens.clone());
            if let Ok((d, f)) = tokio::task::spawn_blocking(move || load_directory(&s, &t)).await {
                *app.0.directory.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(d);
                fingerprint = f;
            }
        }
        let _gate = app.0.gate.write().await;
        let (a, path, from) = (app.clone(), suppression.clone(), cursor.clone());
        let followed =
            tokio::task::spawn_blocking(move || follow(&path, Some(&from), &mut a.unsubscribed()))
                .await;
        match followed {
            Ok(Ok(c)) => cursor = c,
            Ok(Err(e)) => eprintln!("warning: {e:#}"),
            Err(_) => {}
        }
    }
}
