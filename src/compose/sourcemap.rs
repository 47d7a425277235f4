//! Where each tag of the generated MJML was written.
//!
//! Before the first pass, every tag of every template and partial gets a mark in front of it:
//! one private-use character naming (template, byte offset). Handlebars copies the marks with
//! the literal text around them; taking them out of the generated MJML leaves, for every tag,
//! the place in the file the user wrote. Content cannot forge a mark: its private-use
//! characters are replaced while it is guarded.

/// The first mark; mark `n` is `FIRST + n`.
const FIRST: u32 = 0xF_0000;
/// How many marks fit in the private-use plane.
const CAPACITY: usize = 0xF_FFFD - 0xF_0000;

/// Is this character a mark (and so never content)?
pub fn is_mark(c: char) -> bool {
    (FIRST..=0xF_FFFD).contains(&(c as u32))
}

/// The origin of every mark handed out: (template index, byte offset in its text).
#[derive(Debug, Default)]
pub struct Origins(Vec<(usize, usize)>);

/// A template with its tags marked, and where the marks went (1-based line and column of the
/// original text), so error positions can be mapped back.
pub struct Marked {
    pub text: String,
    pub inserted: Vec<(usize, usize)>,
}

impl Origins {
    /// Mark every tag (`<` before a letter or `/`) of a template outside `{{ … }}`.
    pub fn mark(&mut self, template: usize, text: &str) -> Marked {
        let mut out = String::with_capacity(text.len() + text.len() / 16);
        let mut inserted = Vec::new();
        let mut copied = 0;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < bytes.len() {
            // Bytes, not `str` slices: `i` may sit inside a multi-byte character.
            if bytes[i] == b'{' && bytes.get(i + 1) == Some(&b'{') {
                let close = if text[i..].starts_with("{{!--") {
                    "--}}"
                } else if text[i..].starts_with("{{{{") {
                    "}}}}"
                } else {
                    "}}"
                };
                i = text[i + 2..]
                    .find(close)
                    .map_or(bytes.len(), |e| i + 2 + e + close.len());
                continue;
            }
            if bytes[i] == b'<'
                && bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
                && self.0.len() < CAPACITY
            {
                out.push_str(&text[copied..i]);
                let mark = char::from_u32(FIRST + self.0.len() as u32).unwrap_or('\u{FFFD}');
                out.push(mark);
                self.0.push((template, i));
                inserted.push(crate::diagnostic::line_col(text, i));
                copied = i;
            }
            i += 1;
        }
        out.push_str(&text[copied..]);
        Marked {
            text: out,
            inserted,
        }
    }

    /// Take the marks out of the generated text: the clean text and its map.
    pub fn strip(&self, generated: &str) -> (String, SourceMap) {
        let mut clean = String::with_capacity(generated.len());
        let mut tags = Vec::new();
        for c in generated.chars() {
            if is_mark(c) {
                let n = (c as u32 - FIRST) as usize;
                if let Some(&(template, offset)) = self.0.get(n) {
                    tags.push((clean.len(), template, offset));
                }
            } else {
                clean.push(c);
            }
        }
        (clean, SourceMap { tags })
    }
}

/// For each tag of the generated MJML: (its offset there, template index, offset in the
/// template).
#[derive(Debug, Default)]
pub struct SourceMap {
    tags: Vec<(usize, usize, usize)>,
}

impl SourceMap {
    /// Where an offset of the generated MJML was written: (template index, offset in it). The
    /// offset is exact when the text from the tag's start to it was copied literally; else it is
    /// the tag's start.
    pub fn locate(
        &self,
        generated: &str,
        offset: usize,
        templates: &[&str],
    ) -> Option<(usize, usize)> {
        let k = self.tags.partition_point(|&(at, _, _)| at <= offset);
        let &(at, template, origin) = self.tags.get(k.checked_sub(1)?)?;
        let text = templates.get(template)?;
        let copied = generated.get(at..offset)?;
        if text.get(origin..origin + copied.len()) == Some(copied) {
            Some((template, origin + copied.len()))
        } else {
            Some((template, origin))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_travel_with_the_text_and_lead_back() {
        let mut origins = Origins::default();
        let main = "<mjml>\n  {{> part}}\n</mjml>";
        let part = "<mj-text a=\"{{x}}\" b=\"1\">{{#if y}}<p>{{/if}}</mj-text>";
        let m0 = origins.mark(0, main);
        let m1 = origins.mark(1, part);
        assert_eq!(m0.inserted, [(1, 1), (3, 1)]);
        // As the first pass would print it, with `x` = "xyz".
        let generated = m0.text.replace(
            "{{> part}}",
            &m1.text
                .replace("{{x}}", "xyz")
                .replace("{{#if y}}", "")
                .replace("{{/if}}", ""),
        );
        let (clean, map) = origins.strip(&generated);
        assert_eq!(
            clean,
            "<mjml>\n  <mj-text a=\"xyz\" b=\"1\"><p></mj-text>\n</mjml>"
        );
        let texts = [main, part];
        // The `a` attribute: copied literally from the tag's start.
        let a = clean.find("a=").unwrap();
        assert_eq!(
            map.locate(&clean, a, &texts),
            Some((1, part.find("a=").unwrap()))
        );
        // `b` comes after a filled expression: the tag's start.
        let b = clean.find("b=").unwrap();
        assert_eq!(map.locate(&clean, b, &texts), Some((1, 0)));
        let end = clean.find("</mjml>").unwrap();
        assert_eq!(
            map.locate(&clean, end, &texts),
            Some((0, main.find("</mjml>").unwrap()))
        );
    }

    #[test]
    fn multi_byte_text_is_walked_safely() {
        let mut origins = Origins::default();
        let m = origins.mark(0, "<p>👋 é</p>{{x}}");
        assert_eq!(m.inserted, [(1, 1), (1, 7)]);
    }

    #[test]
    fn expressions_and_comments_are_not_marked() {
        let mut origins = Origins::default();
        let m = origins.mark(0, "{{!-- <mj-x> --}}{{x \"<a>\"}}");
        assert_eq!(m.inserted, Vec::<(usize, usize)>::new());
    }
}
