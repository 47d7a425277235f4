//! Content is data, never template code.
//!
//! Braces in content (a title that reads `{{x}}`) must reach the reader as braces and must not
//! become placeholders in the per-recipient pass. While the issue is compiled they travel as two
//! private-use characters; the compiled HTML gets them as character references and the plain
//! text as `{{lb}}` / `{{rb}}` expressions that print one brace each.

use crate::compose::sourcemap;

/// Stands for `{` from content while compiling.
pub const OPEN: char = '\u{E000}';
/// Stands for `}` from content while compiling.
pub const CLOSE: char = '\u{E001}';

/// Content text made safe to pass through the templates: braces become the stand-ins (and any
/// stand-in or source-map mark already in the text becomes U+FFFD).
pub fn content(text: &str) -> String {
    if !text.contains(['{', '}', OPEN, CLOSE]) && !text.contains(sourcemap::is_mark) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '{' => OPEN,
            '}' => CLOSE,
            OPEN | CLOSE => '\u{FFFD}',
            c if sourcemap::is_mark(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// mrml writes attribute values as Rust debug strings, which spell the stand-ins `\u{e000}`
/// and `\u{e001}`: put the stand-ins back.
pub fn from_debug_escapes(html: &str) -> String {
    if !html.contains("\\u{e00") {
        return html.to_string();
    }
    html.replace("\\u{e000}", &OPEN.to_string())
        .replace("\\u{e001}", &CLOSE.to_string())
}

/// Brace character references a template wrote (`&#123;`, `&#x7B;`, `&lbrace;`, …) to
/// stand-ins, so the plain-text part and the per-recipient pass print them as braces too.
pub fn from_entities(html: &str) -> String {
    if !html.contains("&#")
        && !html.contains("&lbrace;")
        && !html.contains("&lcub;")
        && !html.contains("&rbrace;")
        && !html.contains("&rcub;")
    {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest.find(';').filter(|&e| e <= 9).map(|e| &rest[..=e]);
        let brace = entity.and_then(|e| match e.to_ascii_lowercase().as_str() {
            "&#123;" | "&#x7b;" | "&#x007b;" | "&lbrace;" | "&lcub;" => Some(OPEN),
            "&#125;" | "&#x7d;" | "&#x007d;" | "&rbrace;" | "&rcub;" => Some(CLOSE),
            _ => None,
        });
        match (entity, brace) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e.len()..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Stand-ins to HTML character references (for the HTML and the compiled MJML).
pub fn to_entities(text: &str) -> String {
    if !text.contains([OPEN, CLOSE]) {
        return text.to_string();
    }
    text.replace(OPEN, "&#123;").replace(CLOSE, "&#125;")
}

/// Stand-ins to handlebars expressions printing one brace (for the plain-text template).
pub fn to_text_template(text: &str) -> String {
    if !text.contains([OPEN, CLOSE]) {
        return text.to_string();
    }
    text.replace(OPEN, "{{lb}}").replace(CLOSE, "{{rb}}")
}

/// Stand-ins back to plain braces (for messages shown to the user).
pub fn to_braces(text: &str) -> String {
    text.replace(OPEN, "{").replace(CLOSE, "}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_round_trip() {
        let c = content("a {{b}} \u{E000}");
        assert_eq!(c, "a \u{E000}\u{E000}b\u{E001}\u{E001} \u{FFFD}");
        assert_eq!(to_entities(&c), "a &#123;&#123;b&#125;&#125; \u{FFFD}");
        assert_eq!(to_text_template(&c), "a {{lb}}{{lb}}b{{rb}}{{rb}} \u{FFFD}");
        assert_eq!(to_braces(&c), "a {{b}} \u{FFFD}");
        assert_eq!(
            from_debug_escapes("href=\"a?\\u{e000}\\u{e000}x\\u{e001}\\u{e001}\""),
            "href=\"a?\u{E000}\u{E000}x\u{E001}\u{E001}\""
        );
        assert_eq!(
            from_entities("&#123;&#X7B;x&rbrace;&rcub; &amp; &#124;"),
            "\u{E000}\u{E000}x\u{E001}\u{E001} &amp; &#124;"
        );
    }
}
