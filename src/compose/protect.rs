//! Keep recipient placeholders for the second, per-recipient pass.
//!
//! A template is rendered twice. The first pass fills `issue` and `sender` and must leave every
//! expression about the recipient (`subscriber…`, `unsubscribe_url`), including whole blocks such
//! as `{{#if subscriber.name}}…{{else}}…{{/if}}`, untouched. [`protect`] finds those expressions
//! and escapes them (`\{{`), which handlebars prints verbatim; the inserted backslashes are
//! remembered so error positions can be mapped back to the file as written.
//!
//! An author's own escape, `\{{FirstName}}`, means literal braces: it becomes the guarded
//! stand-ins content braces travel as, so neither pass reads it as an expression.

use crate::compose::guard;

/// A template made ready for the first pass.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    /// The template text with recipient expressions escaped.
    pub text: String,
    /// (1-based line, 1-based column in the *original* text) of every inserted backslash.
    inserted: Vec<(usize, usize)>,
    /// The same for the source-map marks, inserted before the backslashes.
    marks: Vec<(usize, usize)>,
    /// (line, column) of every author's escape `\{{`: one character shorter once rewritten.
    removed: Vec<(usize, usize)>,
}

impl Protected {
    /// Map a 1-based (line, column) of [`Protected::text`] back to the original text.
    pub fn original_position(&self, line: usize, column: usize) -> (usize, usize) {
        let mut col = column;
        // Each character inserted on this line before the position shifted it right by one.
        for list in [&self.inserted, &self.marks] {
            for &(l, c) in list {
                if l == line && c < col {
                    col -= 1;
                }
            }
        }
        for &(l, c) in &self.removed {
            if l == line && c <= col {
                col += 1;
            }
        }
        (line, col)
    }
}

/// A template with source-map marks, escaped for the first pass.
pub fn protect_marked(marked: crate::compose::sourcemap::Marked) -> Protected {
    Protected {
        marks: marked.inserted,
        ..protect(&marked.text)
    }
}

/// Roots of the data only known per recipient.
const RECIPIENT_ROOTS: [&str; 2] = ["subscriber", "unsubscribe_url"];

/// The path-like tokens of an expression: names, dotted paths, `[segment with spaces]`.
pub fn tokens(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'[' {
            start.get_or_insert(i);
            i = expr[i..].find(']').map_or(bytes.len(), |e| i + e + 1);
            continue;
        }
        let part = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'@' | b'-') || c >= 0x80;
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&expr[s..i]);
                start = None;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        out.push(&expr[s..]);
    }
    out
}

/// Is this token recipient data (`subscriber…`, `unsubscribe_url`)?
pub fn is_recipient_path(token: &str) -> bool {
    let token = token.strip_prefix("@root.").unwrap_or(token);
    RECIPIENT_ROOTS.iter().any(|root| {
        token
            .strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    })
}

/// Does the expression mention recipient data?
pub fn mentions_recipient(expr: &str) -> bool {
    tokens(expr).into_iter().any(is_recipient_path)
}

/// Escape the recipient expressions of a handlebars template.
pub fn protect(source: &str) -> Protected {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 64);
    let mut inserted = Vec::new();
    let mut removed = Vec::new();
    // Open blocks: does each belong to the recipient pass?
    let mut blocks: Vec<bool> = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = source[i..].find("{{") {
        let start = i + found;
        // Escaped by the author, `\{{ … }}`: literal braces in the output, for both passes.
        if start > 0 && bytes[start - 1] == b'\\' {
            let close = source[start + 2..].find("}}").map(|e| start + 2 + e);
            out.push_str(&source[copied..start - 1]);
            out.push(guard::OPEN);
            out.push(guard::OPEN);
            removed.push(crate::diagnostic::line_col(source, start - 1));
            match close {
                Some(close) => {
                    out.push_str(&source[start + 2..close]);
                    out.push(guard::CLOSE);
                    out.push(guard::CLOSE);
                    copied = close + 2;
                }
                None => copied = start + 2,
            }
            i = copied;
            continue;
        }
        // Comments.
        let rest = &source[start..];
        let end = if rest.starts_with("{{!--") {
            rest.find("--}}").map(|e| start + e + 4)
        } else if rest.starts_with("{{{{") {
            // Raw block: printed as is by the first pass; leave it whole.
            rest.find("}}}}").map(|e| start + e + 4)
        } else if rest.starts_with("{{{") {
            rest.find("}}}").map(|e| start + e + 3)
        } else {
            rest.find("}}").map(|e| start + e + 2)
        };
        let Some(end) = end else {
            // Unclosed: let handlebars report it.
            break;
        };
        let tag = &source[start..end];
        let inner = tag
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim_start_matches('~')
            .trim_end_matches('~')
            .trim();
        let recipient = if tag.starts_with("{{!") || tag.starts_with("{{{{") {
            false
        } else if let Some(open) = inner.strip_prefix('#') {
            let r = mentions_recipient(open) || blocks.last().copied().unwrap_or(false);
            blocks.push(r);
            r
        } else if let Some(close) = inner.strip_prefix('/') {
            let _ = close;
            blocks.pop().unwrap_or(false)
        } else if inner == "else" || inner == "^" || inner.starts_with("else ") {
            blocks.last().copied().unwrap_or(false) || mentions_recipient(inner)
        } else if let Some(open) = inner.strip_prefix('^') {
            let r = mentions_recipient(open) || blocks.last().copied().unwrap_or(false);
            blocks.push(r);
            r
        } else if inner.starts_with('>') {
            false
        } else {
            mentions_recipient(inner)
        };
        if recipient {
            out.push_str(&source[copied..start]);
            out.push('\\');
            let (line, column) = crate::diagnostic::line_col(source, start);
            inserted.push((line, column));
            copied = start;
        }
        i = end;
    }
    out.push_str(&source[copied..]);
    Protected {
        text: out,
        inserted,
        marks: Vec::new(),
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_expressions_are_escaped_others_kept() {
        let p = protect(
            "<p>{{issue.title}} for {{subscriber.name}} <a href=\"{{unsubscribe_url}}\">x</a></p>",
        );
        assert_eq!(
            p.text,
            "<p>{{issue.title}} for \\{{subscriber.name}} <a href=\"\\{{unsubscribe_url}}\">x</a></p>"
        );
    }

    #[test]
    fn recipient_blocks_are_escaped_whole() {
        let src = "{{#if subscriber.name}}Dear {{subscriber.name}}{{else}}Hello {{issue.title}}{{/if}}{{#each issue.sections}}{{heading}}{{/each}}";
        assert_eq!(
            protect(src).text,
            "\\{{#if subscriber.name}}Dear \\{{subscriber.name}}\\{{else}}Hello {{issue.title}}\\{{/if}}{{#each issue.sections}}{{heading}}{{/each}}"
        );
    }

    #[test]
    fn names_that_only_start_alike_are_not_recipient() {
        assert!(!mentions_recipient("subscribers_count"));
        assert!(mentions_recipient("subscriber.[First Name]"));
        assert!(mentions_recipient("@root.subscriber.email"));
        assert!(mentions_recipient("eq subscriber.country \"UK\""));
        assert!(!mentions_recipient("issue.title"));
        assert_eq!(
            tokens("#if (eq subscriber.[First Org] \"x\")"),
            ["if", "eq", "subscriber.[First Org]", "x"]
        );
    }

    #[test]
    fn comments_are_left_alone() {
        let src = "{{!-- {{subscriber.name}} --}} {{{subscriber.note}}}";
        assert_eq!(
            protect(src).text,
            "{{!-- {{subscriber.name}} --}} \\{{{subscriber.note}}}"
        );
    }

    #[test]
    fn author_escapes_become_literal_braces() {
        let p = protect("a \\{{FirstName}} {{oops}}");
        assert_eq!(
            p.text,
            "a \u{E000}\u{E000}FirstName\u{E001}\u{E001} {{oops}}"
        );
        // `{{oops}}` is at column 18 of the protected text, 19 as written.
        assert_eq!(p.original_position(1, 18), (1, 19));
    }

    #[test]
    fn positions_map_back_past_inserted_backslashes() {
        let p = protect("a\n{{subscriber.name}} {{subscriber.email}} {{oops}}");
        // `{{oops}}` is at column 42 of line 2 in the protected text, 40 in the original.
        assert_eq!(p.original_position(2, 42), (2, 40));
        assert_eq!(p.original_position(1, 1), (1, 1));
    }
}
