//! The HTTP side: the page, the rendered email, its state as JSON, a stream of rebuild events
//! and the project's files. Nothing else is served.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::watch;

use super::files;
use super::page;
use super::state::PreviewState;

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<PreviewState>>,
    /// Moves on every rebuild; the page listens to it through `/events`.
    pub version: watch::Receiver<u64>,
    /// Refuse requests whose `Host` is not a loopback name (DNS rebinding), when serving on
    /// loopback.
    pub loopback_only: bool,
}

impl App {
    fn state(&self) -> MutexGuard<'_, PreviewState> {
        // a panic while holding the lock leaves the state as it was: keep serving it
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Deserialize)]
struct Who {
    #[serde(rename = "as")]
    as_email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Member {
    member: Option<String>,
}

pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/email", get(email))
        .route("/api/state", get(state))
        .route("/events", get(events))
        .route("/files/{*path}", get(file))
        .route("/preview-unsubscribe", get(unsubscribe))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), check_host))
        .with_state(app)
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn index() -> Response {
    no_store(Html(page::PAGE).into_response())
}

async fn email(State(app): State<App>, Query(who): Query<Who>) -> Response {
    let mut s = app.state();
    let member = s.recipient(who.as_email.as_deref());
    let r = match s.render(&member) {
        Ok(r) => Html(page::for_frame(&r.html.text(), &s.issue_url())).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(page::error_frame(&e)),
        )
            .into_response(),
    };
    no_store(r)
}

async fn state(State(app): State<App>, Query(who): Query<Who>) -> Response {
    let v = app.state().state(who.as_email.as_deref());
    no_store(axum::Json(v).into_response())
}

async fn events(
    State(app): State<App>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = app.version.clone();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first {
            rx.changed().await.ok()?;
        }
        let v = *rx.borrow_and_update();
        Some((Ok(Event::default().data(v.to_string())), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn file(State(app): State<App>, UrlPath(path): UrlPath<String>) -> Response {
    let root = app.state().root().to_path_buf();
    let Some(full) = files::resolve(&root, &path) else {
        return not_found().await;
    };
    match tokio::fs::read(&full).await {
        Ok(bytes) => {
            no_store(([(header::CONTENT_TYPE, files::content_type(&full))], bytes).into_response())
        }
        Err(_) => not_found().await,
    }
}

async fn unsubscribe(Query(m): Query<Member>) -> Response {
    no_store(Html(page::unsubscribe(m.member.as_deref().unwrap_or(""))).into_response())
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn check_host(State(app): State<App>, req: Request, next: Next) -> Response {
    if app.loopback_only {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !is_loopback_host(host) {
            return (StatusCode::FORBIDDEN, "forbidden host\n").into_response();
        }
    }
    next.run(req).await
}

/// Whether a `Host` header names this machine's loopback interface.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "127.0.0.1:4000",
            "localhost:1",
            "LOCALHOST",
            "[::1]:80",
            "127.0.0.1",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:4000",
            "10.0.0.1",
            "",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
