//! The preview page and the small changes made to the email to show it in a frame.
//!
//! The page (with its live-reload script) wraps the email; the email itself gets only a
//! `<base>` so its relative image paths find the project's files. Sent mail never sees either.

use crate::compose::markup::escape_keeping_lines as escape;

/// The page around the email: inbox row, widths, tabs, size, findings, member picker, error
/// overlay and the live-reload client.
pub const PAGE: &str = include_str!("page.html");

/// The rendered email, made to load its images from the issue folder when shown in a frame:
/// a `<base>` element right after `<head>` (links open outside the preview).
pub fn for_frame(html: &str, base_href: &str) -> String {
    let base = format!("<base href=\"{}\" target=\"_blank\">", escape(base_href));
    match find_ascii_ci(html, "<head") {
        Some(start) => match html[start..].find('>') {
            Some(end) => {
                let at = start + end + 1;
                format!("{}{base}{}", &html[..at], &html[at..])
            }
            None => format!("{base}{html}"),
        },
        None => format!("{base}{html}"),
    }
}

/// What a frame shows when the email cannot be rendered (the page shows the error too).
pub fn error_frame(message: &str) -> String {
    format!(
        "<!doctype html><meta charset=\"utf-8\"><pre style=\"white-space:pre-wrap;color:#b00020\">{}</pre>",
        escape(message)
    )
}

/// Where the preview's unsubscribe links lead.
pub fn unsubscribe(member: &str) -> String {
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Unsubscribe (preview)</title>\
         <body style=\"font:16px system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em\">\
         <h1>Unsubscribe link (preview)</h1><p>In the sent issue, this link unsubscribes \
         <b>{}</b> through the address set in <code>bulletin.toml</code> \
         (<code>sender.unsubscribe_url</code>). Nothing happened here.</p></body>",
        escape(member)
    )
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    haystack
        .as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        // `<head` must not match `<header`
        .filter(|&i| {
            haystack
                .as_bytes()
                .get(i + n)
                .is_some_and(|b| *b == b'>' || b.is_ascii_whitespace())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_goes_right_after_head() {
        let html =
            "<!doctype html><html><HEAD lang=\"en\"><title>x</title></head><body></body></html>";
        assert_eq!(
            for_frame(html, "/files/a b/"),
            "<!doctype html><html><HEAD lang=\"en\"><base href=\"/files/a b/\" target=\"_blank\"><title>x</title></head><body></body></html>"
        );
    }

    #[test]
    fn without_head_base_goes_first() {
        assert_eq!(
            for_frame("<p>hi</p>", "/files/"),
            "<base href=\"/files/\" target=\"_blank\"><p>hi</p>"
        );
    }

    #[test]
    fn page_has_no_place_in_the_email() {
        let framed = for_frame("<html><head></head><body>x</body></html>", "/files/");
        assert!(!framed.contains("<script"));
        assert!(!framed.contains("EventSource"));
        assert!(PAGE.contains("EventSource"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert!(unsubscribe("<x@y>").contains("&lt;x@y&gt;"));
    }
}
