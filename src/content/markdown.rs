//! Markdown in text fields, rendered to HTML with pulldown-cmark.
//!
//! Raw HTML inside Markdown is shown as text, not passed through: content cannot break the
//! template's MJML or smuggle markup into the email.

use pulldown_cmark::{Event, Options, Parser, html};

/// Render Markdown to an HTML fragment. Raw HTML in the input is escaped and shown as text.
pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    let parser = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_links_and_emphasis() {
        assert_eq!(
            to_html("Hello *you*.\n\nSee [the site](https://example.org/a?b=1&c=2)."),
            "<p>Hello <em>you</em>.</p>\n<p>See <a href=\"https://example.org/a?b=1&amp;c=2\">the site</a>.</p>\n"
        );
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(
            to_html("a <b>bold</b> move\n\n<div>x</div>\n"),
            "<p>a &lt;b&gt;bold&lt;/b&gt; move</p>\n&lt;div&gt;x&lt;/div&gt;\n"
        );
    }

    #[test]
    fn lists_and_autolinks() {
        assert_eq!(
            to_html("- one\n- <ann@example.org>\n"),
            "<ul>\n<li>one</li>\n<li><a href=\"mailto:ann@example.org\">ann@example.org</a></li>\n</ul>\n"
        );
    }
}
