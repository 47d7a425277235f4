//! The plain-text part: the compiled HTML read as a letter (headings, paragraphs, links as
//! numbered footnotes).

/// How wide the plain-text letter is wrapped.
const WIDTH: usize = 76;

use crate::compose::preheader::OPEN as PREHEADER_OPEN;

/// Stand-ins for `{{ … }}` expressions while the text is laid out: one word each, so the
/// layout never breaks an expression apart.
const STASH_OPEN: char = '\u{E002}';
const STASH_CLOSE: char = '\u{E003}';

/// Turn compiled HTML into a readable plain-text letter. `{{ … }}` expressions in it come out
/// intact.
pub fn html_to_text(html: &str) -> Result<String, String> {
    let html = strip_preheader(html);
    let (html, stash) = stash_expressions(&html);
    let raw = html2text::config::plain()
        .link_footnotes(true)
        .no_table_borders()
        .raw_mode(true)
        .no_link_wrapping()
        .string_from_read(html.as_bytes(), WIDTH)
        .map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(raw.len());
    let mut blank = 0;
    for line in raw.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(unstash_expressions(&out, &stash))
}

/// Replace each `{{ … }}` with a short stand-in word; returns the text and the expressions.
fn stash_expressions(html: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(html.len());
    let mut stash = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start..];
        let close = if after.starts_with("{{{") {
            "}}}"
        } else {
            "}}"
        };
        let Some(end) = after.find(close) else { break };
        out.push_str(&rest[..start]);
        out.push(STASH_OPEN);
        out.push_str(&stash.len().to_string());
        out.push(STASH_CLOSE);
        stash.push(after[..end + close.len()].to_string());
        rest = &after[end + close.len()..];
    }
    out.push_str(rest);
    (out, stash)
}

/// Put the stashed expressions back.
fn unstash_expressions(text: &str, stash: &[String]) -> String {
    if stash.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + stash.iter().map(String::len).sum::<usize>());
    let mut rest = text;
    while let Some(start) = rest.find(STASH_OPEN) {
        let after = &rest[start + STASH_OPEN.len_utf8()..];
        let Some(end) = after.find(STASH_CLOSE) else {
            break;
        };
        out.push_str(&rest[..start]);
        match after[..end]
            .parse::<usize>()
            .ok()
            .and_then(|i| stash.get(i))
        {
            Some(expr) => out.push_str(expr),
            None => out.push_str(
                &rest[start..start + STASH_OPEN.len_utf8() + end + STASH_CLOSE.len_utf8()],
            ),
        }
        rest = &after[end + STASH_CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The HTML without the hidden preheader text (it is for inbox previews, not for readers).
fn strip_preheader(html: &str) -> std::borrow::Cow<'_, str> {
    if let Some(start) = html.find(PREHEADER_OPEN)
        && let Some(len) = html[start..].find("</div>")
    {
        let mut s = String::with_capacity(html.len());
        s.push_str(&html[..start]);
        s.push_str(&html[start + len + "</div>".len()..]);
        return s.into();
    }
    html.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_with_footnoted_links_and_no_preheader() {
        let html = format!(
            "<html><body>{PREHEADER_OPEN}hidden preview</div><h1>Title</h1><p>See <a href=\"https://example.org/x\">the site</a>.</p>\n\n\n<p>Bye   </p></body></html>"
        );
        let text = html_to_text(&html).unwrap();
        assert!(!text.contains("hidden preview"), "{text}");
        assert!(
            text.starts_with("# Title\n\nSee [the site][1].\n\nBye\n"),
            "{text}"
        );
        assert!(text.contains("[1]: https://example.org/x"), "{text}");
        assert!(text.lines().all(|l| l == l.trim_end()));
    }

    #[test]
    fn expressions_are_never_wrapped_apart() {
        let long = "word ".repeat(12);
        let html = format!(
            "<p>{long}{{{{#if subscriber.name}}}}Dear {{{{subscriber.name}}}}{{{{else}}}}Dear member{{{{/if}}}} <a href=\"{{{{unsubscribe_url}}}}\">x</a></p>"
        );
        let text = html_to_text(&html).unwrap();
        for expr in [
            "{{#if subscriber.name}}",
            "{{subscriber.name}}",
            "{{else}}",
            "{{/if}}",
        ] {
            assert!(text.contains(expr), "{text}");
        }
        assert!(
            text.lines()
                .all(|l| l.matches("{{").count() == l.matches("}}").count()),
            "{text}"
        );
        assert!(text.contains("[1]: {{unsubscribe_url}}"), "{text}");
    }
}
