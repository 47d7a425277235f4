//! `/unsubscribe/TOKEN`: GET shows a page that asks (a GET never unsubscribes), POST records
//! the unsubscribe (RFC 8058 one-click, or the page's button) durably before answering 200,
//! and a POST with `resubscribe` undoes it. Logs carry the token, never the address.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::{App, guard, pages};
use crate::unsubscribe::{Action, mask};

pub fn routes(app: App) -> Router {
    Router::new()
        .route("/unsubscribe/{token}", get(show).post(post))
        .with_state(app)
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

async fn show(State(app): State<App>, Path(token): Path<String>) -> Response {
    let Some(member) = app.member(&token) else {
        log(&Method::GET, &token, 404, "unknown token");
        return html(StatusCode::NOT_FOUND, pages::unknown(app.list_name()));
    };
    let masked = mask(&member.email);
    let page = if app.is_unsubscribed(&member.email) {
        pages::unsubscribed(app.list_name(), &masked)
    } else {
        pages::ask(app.list_name(), &masked)
    };
    html(StatusCode::OK, page)
}

/// What the POST asks: `resubscribe` in a form means the undo button; anything else is an
/// unsubscribe (RFC 8058's `List-Unsubscribe=One-Click`, form-encoded or multipart, or the
/// page's button). Returns the action and how it came.
fn action_of(headers: &HeaderMap, body: &[u8]) -> (Action, &'static str) {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if form {
        let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        if fields.iter().any(|(k, _)| k == "resubscribe") {
            return (Action::Resubscribe, "page");
        }
        if fields.iter().any(|(k, v)| k == "via" && v == "page") {
            return (Action::Unsubscribe, "page");
        }
    }
    (Action::Unsubscribe, "one-click")
}

async fn post(
    State(app): State<App>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Response {
    if let Some(limiter) = app.limiter()
        && let Err(wait) = limiter.check(guard::client(peer, req.headers()), Instant::now())
    {
        log(&Method::POST, &token, 429, "rate limited");
        let mut r = html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::refused("Too many requests", "Please wait a moment and try again."),
        );
        let secs = wait.as_secs().max(1).to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let (parts, body) = req.into_parts();
    let body: Body = body;
    let Ok(bytes) = to_bytes(body, app.body_limit()).await else {
        log(&Method::POST, &token, 413, "body too large");
        return html(
            StatusCode::PAYLOAD_TOO_LARGE,
            pages::refused(
                "Request too large",
                "The request is larger than this service accepts.",
            ),
        );
    };
    let Some(member) = app.member(&token) else {
        log(&Method::POST, &token, 404, "unknown token");
        return html(StatusCode::NOT_FOUND, pages::unknown(app.list_name()));
    };
    let (action, via) = action_of(&parts.headers, &bytes);
    let masked = mask(&member.email);
    match app.record(&member.email, action, via).await {
        Ok(done) => {
            log(&Method::POST, &token, 200, done);
            let page = match action {
                Action::Unsubscribe => pages::unsubscribed(app.list_name(), &masked),
                Action::Resubscribe => pages::resubscribed(app.list_name(), &masked),
            };
            html(StatusCode::OK, page)
        }
        Err(e) => {
            log(&Method::POST, &token, 500, &format!("not recorded: {e}"));
            html(
                StatusCode::SERVICE_UNAVAILABLE,
                pages::failed(app.list_name()),
            )
        }
    }
}

fn log(method: &Method, token: &str, status: u16, what: &str) {
    // A token is at most what it should be; anything longer is cut so a log line stays a line.
    let token: String = token
        .chars()
        .take(32)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '?' })
        .collect();
    eprintln!("{method} /unsubscribe/{token} {status} {what}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_post_asks() {
        let mut form = HeaderMap::new();
        form.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert_eq!(
            action_of(&form, b"List-Unsubscribe=One-Click"),
            (Action::Unsubscribe, "one-click")
        );
        assert_eq!(
            action_of(&form, b"List-Unsubscribe=One-Click&via=page"),
            (Action::Unsubscribe, "page")
        );
        assert_eq!(
            action_of(&form, b"resubscribe=1"),
            (Action::Resubscribe, "page")
        );
        let mut multipart = HeaderMap::new();
        multipart.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=x".parse().unwrap(),
        );
        // a multipart body never undoes: only the page's own form does
        assert_eq!(
            action_of(&multipart, b"--x\r\nContent-Disposition: form-data; name=\"resubscribe\"\r\n\r\n1\r\n--x--\r\n"),
            (Action::Unsubscribe, "one-click")
        );
        assert_eq!(
            action_of(&HeaderMap::new(), b""),
            (Action::Unsubscribe, "one-click")
        );
    }
}
