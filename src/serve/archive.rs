//! The web archive under `bulletin serve`: the site `bulletin archive` writes, built in
//! memory when the service starts and again when an issue, a template or `bulletin.toml`
//! changes, answered at `/`, `/SLUG/`, `/feed.xml` and `/assets/…`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::archive::Site;
use crate::project::Project;

/// The archive being served, replaced whole when a rebuild succeeds.
#[derive(Clone, Default)]
pub struct Shelf(Arc<RwLock<Arc<Site>>>);

impl Shelf {
    fn get(&self) -> Arc<Site> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn put(&self, site: Site) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(site);
    }
}

/// Build the archive; `None` (with a warning) when it cannot be: the way out is served
/// either way.
fn build(project: &Project) -> Option<Site> {
    match crate::archive::build(project) {
        Ok(a) => {
            let n = a.pages.len();
            eprintln!("archive: {n} issue{}", if n == 1 { "" } else { "s" });
            Some(a.site)
        }
        Err(e) => {
            eprintln!("warning: the archive is not served as it is now: {e:#}");
            None
        }
    }
}

/// The archive of `project`, built now.
pub fn shelf(project: &Project) -> Shelf {
    let shelf = Shelf::default();
    if let Some(site) = build(project) {
        shelf.put(site);
    }
    shelf
}

/// Every two seconds: rebuild the archive when what it is built from changed. A failed
/// rebuild keeps the archive served before it.
pub async fn keep_fresh(project: Project, shelf: Shelf) {
    let mut seen = {
        let p = project.clone();
        tokio::task::spawn_blocking(move || crate::archive::fingerprint(&p))
            .await
            .ok()
    };
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let p = project.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || crate::archive::fingerprint(&p)).await
        else {
            continue;
        };
        if seen == Some(now) {
            continue;
        }
        seen = Some(now);
        let p = project.clone();
        if let Ok(Some(site)) = tokio::task::spawn_blocking(move || build(&p)).await {
            shelf.put(site);
        }
    }
}

/// The archive's answers may show images from anywhere on https (an issue's image may be a
/// URL) and from the archive itself; nothing else is loaded.
const CSP: &str = "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// The routes of the archive on `shelf`; `missing` is the page of an unknown address.
pub fn routes(shelf: Shelf, missing: String) -> Router {
    let answer = move |req: Request| {
        let site = shelf.get();
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
