//! One issue's page: the email as members see it, personalised for nobody.
//!
//! The issue is compiled as its web edition (the templates see `archive.page`: the default
//! theme then shows how to subscribe instead of whose copy it is and the unsubscribe link)
//! and filled in for a neutral reader: no address, no name, every list column empty, and the
//! `unsubscribe_url` of a template that prints one anyway pointing at the subscribe page, else
//! the archive's front page. No member's address or token can reach the page.

use std::path::{Path, PathBuf};

use super::{Links, assets};
use crate::compose::{self, Edition, Recipient, shown};
use crate::content::{Issue, Published, slug};
use crate::project::Project;
use crate::subscriber::Subscriber;

/// One issue in the archive.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its address in the archive: `/SLUG/`.
    pub slug: String,
    /// The issue folder, as shown in messages.
    pub folder: PathBuf,
    pub published: Published,
    pub subject: String,
    pub preheader: String,
    /// The whole page, images linked relative to it.
    pub html: String,
    /// The email's body for the feed, images linked from the site's root (absolute when the
    /// archive's URL is known).
    pub content: String,
    /// Image files to copy: (site path, file).
    pub assets: Vec<(String, PathBuf)>,
}

/// The page of the issue in `dir`, or `None` for a draft.
pub fn build(project: &Project, dir: &Path, links: &Links) -> anyhow::Result<Option<Page>> {
    let file = dir.join(crate::content::ISSUE_FILE);
    let text = crate::diagnostic::read_text(&file)?;
    let issue = Issue::parse(&shown(&file), &text)?;
    if issue.draft {
        return Ok(None);
    }
    let Some(published) = issue.publication_date() else {
        anyhow::bail!(
            "{}: no publication date: add a line `published = 2023-09-28` (the day it came out), or `draft = true` to leave it out of the archive",
            shown(&file).display()
        );
    };
    let compiled = compose::compile_edition(project, dir, None, Edition::Web)?;
    let reader = neutral_reader(&compiled);
    let way_in = project
        .config
        .archive
        .subscribe_url
        .clone()
        .unwrap_or_else(|| links.base.clone().unwrap_or_else(|| "../".into()));
    let rendered = compiled.render(&Recipient {
        subscriber: &reader,
        unsubscribe_url: &way_in,
    })?;
    let html = rendered.html.text().into_owned();

    let mut assets = Vec::new();
    let mut on_page = Vec::new();
    let mut in_feed = Vec::new();
    for image in compiled.images() {
        let (page_url, feed_url) = match &links.asset_base {
            Some(base) => {
                let rel = compose::markup::decode_entities(&image.src);
                let url = format!(
                    "{base}/{}",
                    rel.trim_start_matches("./").replace(' ', "%20")
                );
                (url.clone(), url)
            }
            None => {
                let name = assets::hashed_name(&image.path)?;
                let feed = format!("{}{name}", links.base.as_deref().unwrap_or(""));
                assets.push((name.clone(), image.path.clone()));
                (format!("../{name}"), feed)
            }
        };
        on_page.push((image.src.clone(), page_url));
        in_feed.push((image.src.clone(), feed_url));
    }
    let slug = slug(&compiled.name());
    let title = compose::markup::escape_html(&issue.subject);
    let head = format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{title}\" href=\"../feed.xml\">{}",
        links
            .base
            .as_deref()
            .map(|b| format!(
                "<link rel=\"canonical\" href=\"{}\">",
                compose::markup::escape_html(&format!("{b}{slug}/"))
            ))
            .unwrap_or_default()
    );
    let nav = "<nav style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;text-align:center;padding:10px 12px;\"><a href=\"../\" style=\"color:#0b4f6c;\">All issues</a> · <a href=\"../feed.xml\" style=\"color:#0b4f6c;\">Feed</a></nav>";
    let page = insert_after_body(&insert_before(&html, "</head>", &head), nav);
    Ok(Some(Page {
        slug,
        folder: shown(dir),
        published,
        subject: issue.subject.clone(),
        preheader: issue.preheader.clone(),
        html: assets::relink(&page, &on_page),
        content: assets::relink(&body_of(&html), &in_feed),
        assets,
    }))
}

/// A reader with no address, no name and every list column the templates use empty.
fn neutral_reader(compiled: &compose::CompiledIssue) -> Subscriber {
    let mut s = Subscriber::from_email("");
    for column in compiled.list_columns() {
        s.fields.insert(column.to_string(), String::new());
    }
    s
}

/// `html` with `what` before the first `marker` (or unchanged without one).
fn insert_before(html: &str, marker: &str, what: &str) -> String {
    match html.find(marker) {
        Some(at) => format!("{}{what}{}", &html[..at], &html[at..]),
        None => html.to_string(),
    }
}

/// `html` with `what` right after the `<body …>` tag.
fn insert_after_body(html: &str, what: &str) -> String {
    match body_start(html) {
        Some(at) => format!("{}{what}{}", &html[..at], &html[at..]),
        None => format!("{what}{html}"),
    }
}

/// Where the content of `<body>` begins.
fn body_start(html: &str) -> Option<usize> {
    let open = html.find("<body")?;
    Some(open + html[open..].find('>')? + 1)
}

/// What `<body>` holds, without the hidden preheader (a feed reader that drops styles would
/// show it).
fn body_of(html: &str) -> String {
    let start = body_start(html).unwrap_or(0);
    let end = html
        .rfind("</body>")
        .filter(|&e| e >= start)
        .unwrap_or(html.len());
    let body = &html[start..end];
    let hidden = body.starts_with("<div style=\"display:none");
    match body.find("</div>") {
        Some(close) if hidden => body[close + "</div>".len()..].to_string(),
        _ => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_gets_the_body_without_the_hidden_preheader() {
        let html = "<html><head></head><body style=\"x\"><div style=\"display:none;\">Pre</div><div>Hello</div></body></html>";
        assert_eq!(body_of(html), "<div>Hello</div>");
        assert_eq!(
            insert_after_body(&insert_before(html, "</head>", "<link>"), "<nav>"),
            "<html><head><link></head><body style=\"x\"><nav><div style=\"display:none;\">Pre</div><div>Hello</div></body></html>"
        );
    }
}
