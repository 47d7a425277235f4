//! What makes an issue hard to read or to navigate, found in the compiled HTML: links whose
//! text says nothing out of context, headings that skip a level, and text set smaller than
//! 14 px. Screen-reader users list links and headings on their own; small text is hard for
//! everyone on a phone.

use crate::compose::markup;

/// Link texts that say nothing about where the link leads (WCAG 2.4.4, "link purpose").
const VAGUE: &[&str] = &[
    "click here",
    "click",
    "here",
    "click this",
    "this",
    "this link",
    "link",
    "read more",
    "more",
    "learn more",
    "more info",
    "more information",
    "info",
    "details",
    "see more",
    "find out more",
    "continue",
    "continue reading",
    "go",
    "this page",
    "tap here",
    "press here",
];

/// The smallest text size that is comfortable to read, in CSS pixels.
pub const MIN_FONT_PX: f64 = 14.0;

/// A piece of visible text: its words, and what it sits in.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub text: String,
    /// The computed font size from inline styles, in px (16 when nothing sets one).
    pub font_px: f64,
}

/// Void elements: never closed.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Text runs of the body, in order, with their font size. Skips `head`, `style`, `script`,
/// the content of `display:none` elements and of conditional comments.
pub fn runs(html: &str) -> Vec<Run> {
    let mut out = Vec::new();
    // Open elements: (name, font size in px, hidden).
    let mut stack: Vec<(String, f64, bool)> = Vec::new();
    let mut i = 0;
    while i < html.len() {
        let Some(found) = html[i..].find('<') else {
            push_text(&mut out, &stack, &html[i..]);
            break;
        };
        let start = i + found;
        push_text(&mut out, &stack, &html[i..start]);
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        if let Some(close) = rest.strip_prefix("</") {
            let len = close.find('>').unwrap_or(close.len());
            let name = close[..len].trim().to_ascii_lowercase();
            if let Some(k) = stack.iter().rposition(|(n, _, _)| *n == name) {
                stack.truncate(k);
            }
            i = (start + 2 + len + 1).min(html.len());
            continue;
        }
        let Some(tag) = markup::start_tag(html, start) else {
            i = start + 1;
            continue;
        };
        i = tag.end;
        let name = tag.name.to_ascii_lowercase();
        if matches!(name.as_str(), "head" | "style" | "script" | "title") {
            let close = format!("</{name}");
            i = html[i..].find(&close).map_or(html.len(), |e| i + e);
            continue;
        }
        if tag.self_closing || VOID.contains(&name.as_str()) {
            continue;
        }
        let parent_px = stack.last().map_or(16.0, |s| s.1);
        let parent_hidden = stack.last().is_some_and(|s| s.2);
        let style = tag
            .attr("style")
            .map(markup::decode_entities)
            .unwrap_or_default();
        let px = style_value(&style, "font-size")
            .and_then(|v| font_px(&v, parent_px))
            .unwrap_or_else(|| parent_px * default_scale(&name));
        let hidden = parent_hidden
            || style_value(&style, "display").is_some_and(|d| d == "none")
            || tag.attr("hidden").is_some();
        stack.push((name, px, hidden));
    }
    out
}

/// The browsers' default size of an element, relative to its parent's (the HTML standard's
/// rendering section).
fn default_scale(name: &str) -> f64 {
    match name {
        "h1" => 2.0,
        "h2" => 1.5,
        "h3" => 1.17,
        "h5" | "small" | "sub" | "sup" => 0.83,
        "h6" => 0.67,
        _ => 1.0,
    }
}

fn push_text(out: &mut Vec<Run>, stack: &[(String, f64, bool)], raw: &str) {
    let text = markup::decode_entities(raw);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return;
    }
    let (px, hidden) = stack.last().map_or((16.0, false), |s| (s.1, s.2));
    // Text at 0 px (the whitespace of layout tables) is not shown.
    if hidden || px == 0.0 {
        return;
    }
    out.push(Run { text, font_px: px });
}

/// The value of one property of an inline style.
fn style_value(style: &str, property: &str) -> Option<String> {
    style.split(';').rev().find_map(|decl| {
        let (name, value) = decl.split_once(':')?;
        (name.trim().eq_ignore_ascii_case(property)).then(|| {
            value
                .trim()
                .trim_end_matches("!important")
                .trim()
                .to_ascii_lowercase()
        })
    })
}

/// A CSS font size in px, relative sizes taken from the parent's.
fn font_px(value: &str, parent: f64) -> Option<f64> {
    let number = |suffix: &str| value.strip_suffix(suffix)?.trim().parse::<f64>().ok();
    if let Some(v) = number("px") {
        Some(v)
    } else if let Some(v) = number("pt") {
        Some(v * 4.0 / 3.0)
    } else if let Some(v) = number("rem") {
        Some(v * 16.0)
    } else if let Some(v) = number("em") {
        Some(v * parent)
    } else if let Some(v) = number("%") {
        Some(v * parent / 100.0)
    } else {
        match value {
            "x-small" => Some(10.0),
            "small" | "smaller" => Some(13.0),
            "xx-small" => Some(9.0),
            "medium" => Some(16.0),
            _ => value.parse::<f64>().ok().filter(|v| *v == 0.0),
        }
    }
}

/// Links whose whole text is one of the vague phrases: (the text, the href).
pub fn vague_links(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tag in markup::tags(html) {
        if !tag.name.eq_ignore_ascii_case("a") {
            continue;
        }
        let Some(close) = html[tag.end..].find("</a") else {
            continue;
        };
        let inner = &html[tag.end..tag.end + close];
        let text: String = runs(&format!("<div>{inner}</div>"))
            .into_iter()
            .map(|r| r.text)
            .collect::<Vec<_>>()
            .join(" ");
        let words = text
            .trim_matches(|c: char| !c.is_alphanumeric())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if VAGUE.contains(&words.as_str()) {
            let href = tag
                .attr("href")
                .map(markup::decode_entities)
                .unwrap_or_default();
            out.push((text, href));
        }
    }
    out
}

/// Headings that go more than one level deeper than the one before (an `h2` followed by an
/// `h4`): (previous level, level, heading text). The first heading may be of any level.
pub fn heading_jumps(html: &str) -> Vec<(u8, u8, String)> {
    let mut out = Vec::new();
    let mut previous: Option<u8> = None;
    for tag in markup::tags(html) {
        let name = tag.name.to_ascii_lowercase();
        let level = match name.as_bytes() {
            [b'h', d @ b'1'..=b'6'] => d - b'0',
            _ => continue,
        };
        let close = format!("</{name}");
        let inner = html[tag.end..]
            .to_ascii_lowercase()
            .find(&close)
            .map_or("", |e| &html[tag.end..tag.end + e]);
        let text: String = runs(&format!("<div>{inner}</div>"))
            .into_iter()
            .map(|r| r.text)
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(p) = previous
            && level > p + 1
        {
            out.push((p, level, text));
        }
        previous = Some(level);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_sizes_follow_inline_styles_and_skip_hidden_text() {
        let html = "<html><head><style>p{}</style></head><body><div style=\"display:none;font-size:1px\">preview</div><div style=\"font-size:0px\"> <div style=\"font-size:12px;color:red\">small <b>bold</b> <span style=\"font-size:150%\">big</span></div></div><p>plain &amp; simple</p><br></body></html>";
        let got: Vec<(String, f64)> = runs(html)
            .into_iter()
            .map(|r| (r.text, r.font_px))
            .collect();
        assert_eq!(
            got,
            [
                ("small".into(), 12.0),
                ("bold".into(), 12.0),
                ("big".into(), 18.0),
                ("plain & simple".into(), 16.0)
            ]
        );
    }

    #[test]
    fn vague_link_texts() {
        let html = "<a href=\"https://a\">Click here!</a> <a href=\"https://b\"><span>Read more</span></a> <a href=\"https://c\">Read more about the roundtable</a> <a href=\"https://d\">here</a>";
        assert_eq!(
            vague_links(html),
            [
                ("Click here!".to_string(), "https://a".to_string()),
                ("Read more".into(), "https://b".into()),
                ("here".into(), "https://d".into())
            ]
        );
    }

    #[test]
    fn heading_levels_skipped() {
        let html = "<h1>T</h1><h2>A</h2><h4>Deep</h4><h2>B</h2><h3>C</h3><h1>Again</h1>";
        assert_eq!(heading_jumps(html), [(2, 4, "Deep".to_string())]);
        assert_eq!(heading_jumps("<h3>First</h3><h4>x</h4>"), []);
    }
}
