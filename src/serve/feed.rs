//! `GET /api/unsubscribes?after=CURSOR`: the suppression list's lines since a cursor, for the
//! machine that sends (see [`crate::unsubscribe::sync`]). Only with the project's feed key
//! (`Authorization: Bearer KEY`), compared in constant time.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::App;
use crate::unsubscribe::feed::{PAGE_LINES, read};
use crate::unsubscribe::sync::FEED_PATH;

#[derive(Debug, Deserialize)]
struct After {
    after: Option<String>,
}

pub fn routes(app: App) -> Router {
    Router::new().route(FEED_PATH, get(feed)).with_state(app)
}

async fn feed(State(app): State<App>, headers: HeaderMap, Query(q): Query<After>) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let want = app.feed_key();
    if !bool::from(given.as_bytes().ct_eq(want.as_bytes())) {
        eprintln!("GET {FEED_PATH} 401 wrong or missing key");
        return (StatusCode::UNAUTHORIZED, "a key is needed\n").into_response();
    }
    let path = app.suppression_path().to_path_buf();
    let after = q.after.clone();
    match tokio::task::spawn_blocking(move || read(&path, after.as_deref(), PAGE_LINES)).await {
        Ok(Ok(page)) => {
            eprintln!("GET {FEED_PATH} 200 {} records", page.events.len());
            axum::Json(page).into_response()
        }
        Ok(Err(e)) => {
            eprintln!("GET {FEED_PATH} 500 {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the records\n",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read the records\n",
        )
            .into_response(),
    }
}
