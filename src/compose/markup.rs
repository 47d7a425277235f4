//! Small, exact scans over generated MJML and HTML: tags and their attributes.
//!
//! Not a general HTML parser: enough for the markup mrml writes and templates hold (quoted
//! attributes, comments skipped).

/// One start tag: its name, byte range and attributes (values as written, entities kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'a> {
    pub name: &'a str,
    pub start: usize,
    pub end: usize,
    pub attrs: Vec<(&'a str, &'a str)>,
    /// Written `<name … />`.
    pub self_closing: bool,
}

impl<'a> Tag<'a> {
    /// Where a new attribute goes in `text` (the text the tag was read from): before its `/>`
    /// or `>`, so nothing else moves.
    pub fn attribute_insert_point(&self, text: &str) -> usize {
        if text[..self.end].ends_with("/>") {
            self.end - 2
        } else {
            self.end - 1
        }
    }

    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| v)
    }
}

/// Every start tag of `text`, in order. Comments (including conditional ones) are skipped.
pub fn tags(text: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find('<') {
        let start = i + found;
        if text[start..].starts_with("<!--") {
            i = text[start..]
                .find("-->")
                .map_or(text.len(), |e| start + e + 3);
            continue;
        }
        match start_tag(text, start) {
            Some(tag) => {
                i = tag.end;
                out.push(tag);
            }
            None => i = start + 1,
        }
    }
    out
}

/// The start tag beginning at `start` (a `<` followed by a letter), or `None`.
pub fn start_tag(text: &str, start: usize) -> Option<Tag<'_>> {
    let bytes = text.as_bytes();
    {
        let name_start = start + 1;
        if bytes.get(start) != Some(&b'<')
            || !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic)
        {
            return None;
        }
        let mut j = name_start;
        while j < bytes.len()
            && !bytes[j].is_ascii_whitespace()
            && bytes[j] != b'>'
            && bytes[j] != b'/'
        {
            j += 1;
        }
        let name = &text[name_start..j];
        let mut attrs = Vec::new();
        // Attributes until the closing `>`.
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let a_start = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let a_name = &text[a_start..j];
            if j < bytes.len() && bytes[j] == b'=' {
                j += 1;
                let quote = bytes.get(j).copied();
                if let Some(q @ (b'"' | b'\'')) = quote {
                    let v_start = j + 1;
                    let v_end = text[v_start..]
                        .find(q as char)
                        .map_or(text.len(), |e| v_start + e);
                    attrs.push((a_name, &text[v_start..v_end]));
                    j = (v_end + 1).min(text.len());
                } else {
                    let v_start = j;
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    attrs.push((a_name, &text[v_start..j]));
                }
            } else if a_start == j {
                j += 1;
            } else {
                attrs.push((a_name, ""));
            }
        }
        let end = (j + 1).min(text.len());
        let self_closing = j < bytes.len() && text[..j].ends_with('/');
        Some(Tag {
            name,
            start,
            end,
            attrs,
            self_closing,
        })
    }
}

/// Replace line breaks inside quoted attribute values with spaces (same length, so byte offsets
/// keep their meaning). mrml turns them into a literal `\n` and drops the whole style.
pub fn flatten_attribute_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_comment {
            if c == '>' && text[..i].ends_with("--") {
                in_comment = false;
            }
            out.push(c);
            continue;
        }
        match (in_tag, quote, c) {
            (false, _, '<') => {
                if text[i..].starts_with("<!--") {
                    in_comment = true;
                } else if chars.peek().is_some_and(|&(_, n)| n.is_ascii_alphabetic()) {
                    in_tag = true;
                }
                out.push(c);
            }
            (true, None, '"' | '\'') => {
                quote = Some(c);
                out.push(c);
            }
            (true, Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            (true, Some(_), '\n') => out.push(' '),
            (true, None, '>') => {
                in_tag = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Give every `<img>` without an `alt` attribute an empty one, as the MJML reference compiler
/// does (without it, screen readers read out the file name).
pub fn ensure_img_alt(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut copied = 0;
    for tag in tags(html) {
        if tag.name.eq_ignore_ascii_case("img") && tag.attr("alt").is_none() {
            let at = tag.start + 4;
            out.push_str(&html[copied..at]);
            out.push_str(" alt=\"\"");
            copied = at;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Decode the character references an attribute value may hold.
pub fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&semi| semi <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML-escape text for an element or a quoted attribute. Line breaks become spaces so a value
/// never spans lines inside an attribute.
pub fn escape_html(text: &str) -> String {
    escape(text, true)
}

/// HTML-escape text for an element or a quoted attribute, keeping its line breaks (for `<pre>`).
pub fn escape_keeping_lines(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, flatten_lines: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' if flatten_lines => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_attributes() {
        let t = tags(
            "<p>x</p><!-- <img src=\"no\"> --><img src=\"a.png\" alt='A b' width=10 hidden/><a href=\"{{unsubscribe_url}}\">",
        );
        let names: Vec<_> = t.iter().map(|t| t.name).collect();
        assert_eq!(names, ["p", "img", "a"]);
        assert_eq!(t[1].attr("src"), Some("a.png"));
        assert_eq!(t[1].attr("alt"), Some("A b"));
        assert_eq!(t[1].attr("width"), Some("10"));
        assert_eq!(t[1].attr("hidden"), Some(""));
        assert_eq!(t[2].attr("href"), Some("{{unsubscribe_url}}"));
    }

    #[test]
    fn newlines_in_attribute_values_become_spaces() {
        let src = "<p style=\"\n  color:red\">a\nb</p><!-- \"\n -->";
        let out = flatten_attribute_newlines(src);
        assert_eq!(out, "<p style=\"   color:red\">a\nb</p><!-- \"\n -->");
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn img_without_alt_gets_an_empty_one() {
        assert_eq!(
            ensure_img_alt("<img src=\"a\"><img alt=\"x\" src=\"b\"><IMG src=c>"),
            "<img alt=\"\" src=\"a\"><img alt=\"x\" src=\"b\"><IMG alt=\"\" src=c>"
        );
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a&amp;b&#123;&#x7D;&bogus; &"),
            "a&b{}&bogus; &"
        );
    }

    #[test]
    fn escaping_is_attribute_safe() {
        assert_eq!(
            escape_html("<a \"b\" & 'c'>\nd"),
            "&lt;a &quot;b&quot; &amp; &#39;c&#39;&gt; d"
        );
    }
}
