//! The content as templates see it: `issue` and `sender`, with Markdown rendered and braces
//! guarded.

use serde_json::{Value, json};

use crate::compose::guard;
use crate::config::{Direction, Language};
use crate::content::{Image, Issue, markdown};
use crate::project::Project;

/// Content text for the first pass (braces guarded).
fn text_value(s: &str) -> Value {
    Value::String(guard::content(s))
}

/// Markdown rendered to HTML for the first pass (braces guarded).
fn markdown_value(s: &str) -> Value {
    Value::String(guard::content(&markdown::to_html(s)))
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text_value)
}

fn image_view(i: &Option<Image>) -> Value {
    match i {
        None => Value::Null,
        Some(i) => json!({
            "src": text_value(&i.src),
            "alt": text_value(i.alt.as_deref().unwrap_or("")),
            "href": opt_text(&i.href),
            "width": i.width,
        }),
    }
}

fn cta_view(c: &Option<crate::content::Cta>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({ "label": text_value(&c.label), "url": text_value(&c.url) }),
    }
}

/// The content as templates see it: plain fields HTML-escaped on output, `*_html` fields
/// rendered from Markdown (print them with `{{{ }}}`).
pub(super) fn issue_view(
    i: &Issue,
    language: Option<&Language>,
    direction: Option<Direction>,
) -> Value {
    let sections: Vec<Value> = i
        .sections
        .iter()
        .map(|s| {
            json!({
                "heading": opt_text(&s.heading),
                "body_html": markdown_value(&s.body),
                "image": image_view(&s.image),
                "cta": cta_view(&s.cta),
            })
        })
        .collect();
    let spotlight = i.spotlight.as_ref().map_or(Value::Null, |s| {
        json!({
            "kicker": text_value(&s.kicker),
            "heading": text_value(&s.heading),
            "body_html": markdown_value(&s.body),
            "image": image_view(&s.image),
            "cta": cta_view(&s.cta),
        })
    });
    let sign_off = i.sign_off.as_ref().map_or(Value::Null, |s| {
        let contact = s.contact.as_deref().map_or(Value::Null, |c| {
            let c = c.trim();
            let (text, href) = if let Some(addr) = c.strip_prefix("mailto:") {
                (addr.to_string(), c.to_string())
            } else if c.contains("://") {
                (c.to_string(), c.to_string())
            } else {
                (c.to_string(), format!("mailto:{c}"))
            };
            json!({ "text": text_value(&text), "href": text_value(&href) })
        });
        json!({
            "body_html": markdown_value(&s.body),
            "name": text_value(&s.name),
            "role": opt_text(&s.role),
            "signature": image_view(&s.signature),
            "contact": contact,
        })
    });
    let dateline = match (&i.date, i.number) {
        (Some(d), Some(n)) => Some(format!("{d} · No. {n}")),
        (Some(d), None) => Some(d.clone()),
        (None, Some(n)) => Some(format!("No. {n}")),
        (None, None) => None,
    };
    json!({
        "subject": text_value(&i.subject),
        "preheader": text_value(&i.preheader),
        "title": text_value(&i.title),
        "date": opt_text(&i.date),
        "number": i.number,
        "dateline": opt_text(&dateline),
        "banner": image_view(&i.banner),
        "editor_note_html": i.editor_note.as_deref().map_or(Value::Null, markdown_value),
        "sections": sections,
        "spotlight": spotlight,
        "sign_off": sign_off,
        "language": language.map_or(Value::Null, |l| text_value(l.as_str())),
        "direction": direction.map_or(Value::Null, |d| Value::String(d.as_str().into())),
        "rtl": direction == Some(Direction::Rtl),
    })
}

/// The sender as templates see it (`sender.name`, `sender.email`, `sender.postal_address`, …).
pub(super) fn sender_view(project: &Project) -> Value {
    let s = &project.config.sender;
    json!({
        "name": text_value(&s.name),
        "email": text_value(&s.email),
        "reply_to": opt_text(&s.reply_to),
        "postal_address": opt_text(&s.postal_address),
        "unsubscribe_mailto": opt_text(&s.unsubscribe_mailto),
    })
}

/// The archive as templates see it: `archive.page` (true on the archive's own page of the
/// issue), `archive.subscribe_url` and `archive.index_url` (the archive's front page).
pub(super) fn archive_view(project: &Project, edition: super::Edition) -> Value {
    json!({
        "page": edition == super::Edition::Web,
        "subscribe_url": opt_text(&project.config.archive.subscribe_url),
        "index_url": opt_text(&project.config.archive_base_url()),
    })
}
