//! The web archive under `bulletin serve`: the site `bulletin archive` writes, built in
//! memory when the service starts, answered at `/`, `/SLUG/`, `/feed.xml` and `/assets/…`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::archive::Site;

/// The archive's answers may show images from anywhere on https (an issue's image may be a
/// URL) and from the archive itself; nothing else is loaded.
const CSP: &str = "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// The routes of the archive `site`; `missing` is the page of an unknown address.
pub fn routes(site: Arc<Site>, missing: String) -> Router {
    let answer = move |req: Request| {
        let site = Arc::clone(&site);
        let missing = missing.clone();
        async move { file(&site, req.uri().path(), &missing) }
    };
    Router::new()
        .route("/", get(answer.clone()))
        .route("/{*path}", get(answer))
}

fn file(site: &Site, path: &str, missing: &str) -> Response {
    let Some((name, bytes)) = site.lookup(path) else {
        // `/SLUG` is the page `/SLUG/`.
        if !path.ends_with('/') && site.lookup(&format!("{path}/")).is_some() {
            return Redirect::permanent(&format!("{path}/")).into_response();
        }
        return (StatusCode::NOT_FOUND, Html(missing.to_string())).into_response();
    };
    let mut r = bytes.to_vec().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if name.starts_with("assets/") {
            // named after their content: never change
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        }),
    );
    r
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("xml") => "application/atom+xml; charset=utf-8",
        _ => crate::compose::content_type(std::path::Path::new(name)),
    }
}
