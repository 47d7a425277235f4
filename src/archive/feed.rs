//! The archive's Atom feed (RFC 4287): every published issue with its whole content.
//!
//! Ids are tag URIs (RFC 4151) on the sender's domain and each issue's date, so they stay the
//! same when the archive moves to another address.

use super::{Links, Page};
use crate::project::Project;

/// `feed.xml`.
pub fn render(project: &Project, title: &str, pages: &[Page], links: &Links) -> String {
    let sender = &project.config.sender;
    let domain = sender
        .email
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d)
        .trim()
        .to_ascii_lowercase();
    let base = links.base.as_deref().unwrap_or("");
    // The feed's date: its newest issue's (no "now", so the same issues give the same bytes).
    let updated = pages
        .iter()
        .map(|p| p.published)
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_string(), |d| d.rfc3339());
    let first = pages
        .iter()
        .map(|p| p.published)
        .min()
        .map_or_else(|| "2000".to_string(), |d| d.to_string());
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let lang = sender
        .language
        .as_ref()
        .map(|l| format!(" xml:lang=\"{}\"", xml(l.as_str())))
        .unwrap_or_default();
    out.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"{lang}>\n"
    ));
    out.push_str(&format!(
        "  <id>tag:{},{first}:archive</id>\n",
        xml(&domain)
    ));
    out.push_str(&format!("  <title>{}</title>\n", xml(title)));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        xml(&sender.name)
    ));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml(if base.is_empty() { "./" } else { base })
    ));
    if !base.is_empty() {
        out.push_str(&format!(
            "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}feed.xml\"/>\n",
            xml(base)
        ));
    }
    out.push_str("  <generator>bulletin</generator>\n");
    for p in pages {
        out.push_str("  <entry>\n");
        out.push_str(&format!(
            "    <id>tag:{},{}:{}</id>\n",
            xml(&domain),
            p.published,
            p.slug
        ));
        out.push_str(&format!("    <title>{}</title>\n", xml(&p.subject)));
        out.push_str(&format!(
            "    <updated>{0}</updated>\n    <published>{0}</published>\n",
            p.published.rfc3339()
        ));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}{}/\"/>\n",
            xml(base),
            p.slug
        ));
        if !p.preheader.trim().is_empty() {
            out.push_str(&format!("    <summary>{}</summary>\n", xml(&p.preheader)));
        }
        out.push_str(&format!(
            "    <content type=\"html\">{}</content>\n",
            xml(&p.content)
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// Text for XML: the five special characters escaped, characters XML 1.0 forbids dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_text_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(xml("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;\n");
    }
}
