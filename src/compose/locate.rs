//! Errors of the first pass, of the MJML compiler and of the compiled output, placed at their
//! line and column in the file the user wrote.

use std::path::PathBuf;

use handlebars::{RenderError, RenderErrorReason, TemplateError};
use serde_json::Value;

use crate::compose::compiled::TemplateSource;
use crate::compose::error::ComposeError;
use crate::compose::guard;
use crate::diagnostic::{SourceError, line_col};

/// The main template and the partials it uses, directly or through other partials.
pub(super) fn used_sources<'a>(all: &[&'a TemplateSource]) -> Vec<&'a TemplateSource> {
    let mut used: Vec<&TemplateSource> = all.iter().take(1).copied().collect();
    let mut i = 0;
    while i < used.len() {
        let text = &used[i].text;
        let mut rest = text.as_str();
        while let Some(at) = rest.find("{{") {
            let after = rest[at + 2..].trim_start_matches(['~', '#']);
            if let Some(call) = after.strip_prefix('>') {
                let name = call
                    .trim_start()
                    .split(|c: char| c.is_whitespace() || c == '}')
                    .next();
                if let Some(source) = name.and_then(|n| all.iter().find(|s| s.name == n))
                    && !used.iter().any(|u| u.name == source.name)
                {
                    used.push(source);
                }
            }
            rest = &rest[at + 2..];
        }
        i += 1;
    }
    used
}

/// Find the template a registry name stands for.
fn source_of<'a>(all: &[&'a TemplateSource], name: Option<&str>) -> &'a TemplateSource {
    name.and_then(|n| all.iter().find(|s| s.name == n))
        .copied()
        .unwrap_or(all[0])
}

/// A handlebars syntax error at its place in the file as written.
pub(super) fn template_error(all: &[&TemplateSource], e: &TemplateError) -> ComposeError {
    let source = source_of(all, e.name().map(String::as_str));
    let hint = "every `{{#block}}` needs its `{{/block}}`; expressions look like `{{issue.title}}`";
    // A block left open is reported by handlebars at the end of the file: point at its opening.
    if let handlebars::TemplateErrorReason::InvalidSyntax(_) = e.reason()
        && let Some((offset, name)) = unclosed_block(&source.text)
    {
        return SourceError::at_offset(
            &source.path,
            &source.text,
            offset,
            format!("template error: `{{{{#{name}}}}}` is never closed"),
        )
        .with_hint(format!("add `{{{{/{name}}}}}` where the block ends"))
        .into();
    }
    let message = match e.reason() {
        handlebars::TemplateErrorReason::InvalidSyntax(_) => {
            "template error: invalid handlebars syntax".to_string()
        }
        other => format!("template error: {other}"),
    };
    let err = match e.pos() {
        Some((line, col)) => {
            let (line, col) = source.protected.original_position(line, col);
            SourceError::at_line(&source.path, &source.text, line, Some(col), message)
        }
        None => SourceError::file(&source.path, message),
    };
    err.with_hint(hint).into()
}

/// The first `{{#block}}` of a template that no `{{/block}}` closes: its offset and name.
fn unclosed_block(text: &str) -> Option<(usize, String)> {
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let start = rest + found;
        if text[start..].starts_with("{{!") {
            let end = if text[start..].starts_with("{{!--") {
                "--}}"
            } else {
                "}}"
            };
            rest = text[start..]
                .find(end)
                .map_or(text.len(), |e| start + e + end.len());
            continue;
        }
        let Some(len) = text[start..].find("}}") else {
            break;
        };
        let inner = text[start + 2..start + len]
            .trim_start_matches(['{', '~'])
            .trim();
        if let Some(block) = inner.strip_prefix('#') {
            let name = block
                .trim_start_matches(['>', '*'])
                .split_whitespace()
                .next()
                .unwrap_or("");
            open.push((start, name.to_string()));
        } else if let Some(close) = inner.strip_prefix('/') {
            let name = close.trim();
            if let Some(i) = open.iter().rposition(|(_, n)| n == name) {
                open.truncate(i);
            }
        }
        rest = start + len + 2;
    }
    open.pop()
}

/// A first-pass failure (typically an unknown placeholder) at its place in the template.
pub(super) fn render_error(all: &[&TemplateSource], e: &RenderError, data: &Value) -> ComposeError {
    let source = source_of(all, e.template_name.as_deref());
    let at = |message: String| match (e.line_no, e.column_no) {
        (Some(line), Some(col)) => {
            let (line, col) = source.protected.original_position(line, col);
            SourceError::at_line(&source.path, &source.text, line, Some(col), message)
        }
        _ => SourceError::file(&source.path, message),
    };
    match e.reason() {
        RenderErrorReason::MissingVariable(name) => {
            let name = name.as_deref().unwrap_or("?");
            let hint = known_names(name, data).unwrap_or_else(|| {
                format!(
                    "templates see `issue`, `sender`, `subscriber` (email, name, list columns) \
                     and `unsubscribe_url`; write `\\{{{{{name}}}}}` for literal braces"
                )
            });
            ComposeError::UnknownPlaceholder(Box::new(
                at(format!("unknown placeholder `{name}`")).with_hint(hint),
            ))
        }
        RenderErrorReason::PartialNotFound(name) => at(format!("unknown partial `{name}`"))
            .with_hint("partials are NAME.mjml.hbs files in the partials folder (`paths.partials`)")
            .into(),
        RenderErrorReason::TemplateError(t) => template_error(all, t),
        other => at(format!("template error: {other}")).into(),
    }
}

/// For a misspelt `issue.x` or `sender.x`: the names that exist there.
fn known_names(name: &str, data: &Value) -> Option<String> {
    let (root, _) = name.split_once('.')?;
    let Value::Object(map) = data.get(root)? else {
        return None;
    };
    let keys: Vec<String> = map.keys().map(|k| format!("`{root}.{k}`")).collect();
    Some(format!("known here: {}", keys.join(", ")))
}

/// What to say of an element mrml does not expect at `offset`: its name, and whether it is an
/// MJML element that mrml does not implement at all.
fn unexpected_element(generated: &str, offset: usize) -> String {
    let rest = generated.get(offset..).unwrap_or("");
    let rest = rest.trim_start().trim_start_matches('<');
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    match name.as_str() {
        "" => "unexpected element".to_string(),
        "mj-html-attributes" | "mj-selector" | "mj-html-attribute" => format!(
            "<{name}> is not supported by bulletin's MJML compiler: set those attributes in \
             the markup itself (an mj-raw block, or the element's css-class with an mj-style)"
        ),
        _ => format!("unexpected element <{name}> here"),
    }
}

/// An MJML parse error: the offset is in the generated MJML; show that line, traced back to the
/// template line it came from when one matches.
pub(super) fn mjml_error(
    all: &[&TemplateSource],
    main: &TemplateSource,
    generated: &str,
    e: &mrml::prelude::parser::Error,
) -> ComposeError {
    use mrml::prelude::parser::Error as E;
    let (what, offset) = match e {
        E::UnexpectedElement { position, .. } => (
            unexpected_element(generated, position.start),
            Some(position.start),
        ),
        E::UnexpectedToken { position, .. } => {
            ("unexpected token".to_string(), Some(position.start))
        }
        E::MissingAttribute { name, position, .. } => {
            (format!("missing attribute `{name}`"), Some(position.start))
        }
        E::InvalidAttribute { position, .. } => {
            ("invalid attribute".to_string(), Some(position.start))
        }
        E::InvalidFormat { position, .. } => ("invalid format".to_string(), Some(position.start)),
        E::EndOfStream { .. } => match unclosed_element(generated) {
            Some((offset, name)) => (format!("<{name}> is never closed"), Some(offset)),
            None => (
                "the MJML ends early: an element is not closed".to_string(),
                Some(generated.len()),
            ),
        },
        E::ParserError { source, .. } => {
            let pos = source.pos();
            let offset = offset_of(generated, pos.row as usize, pos.col as usize);
            if is_raw_less_than(generated, offset) {
                (
                    "a `<` in text starts no tag: write it as `&lt;`".to_string(),
                    Some(offset),
                )
            } else {
                (without_positions(&source.to_string()), Some(offset))
            }
        }
        E::NoRootNode => ("no <mjml> element".to_string(), None),
        E::IncludeLoaderError { position, .. } => (
            "mj-include is not supported: use a partial, {{> name}}".to_string(),
            Some(position.start),
        ),
        other => (other.to_string(), None),
    };
    let message = format!("invalid MJML: {what}");
    let Some(offset) = offset else {
        return SourceError::file(&main.path, message).into();
    };
    // Spans of attributes start at the blank before them: point at the attribute itself.
    let offset = offset
        + generated
            .get(offset..)
            .unwrap_or("")
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
    let (gline, gcol) = line_col(generated, offset);
    let gtext = generated.lines().nth(gline.saturating_sub(1)).unwrap_or("");
    let gtrim = gtext.trim();
    let gindent = gtext.len() - gtext.trim_start().len();
    // Trace the compiled line back to the template line it came from: a line equal to it, or
    // one whose literal start (before any `{{`) covers the error column. Only a unique match is
    // trusted.
    let gpos = gcol.saturating_sub(gindent + 1);
    let mut exact = Vec::new();
    let mut prefix = Vec::new();
    for source in all {
        for (n, line) in source.text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if trimmed == gtrim {
                exact.push((*source, n + 1, indent));
            } else {
                let literal = trimmed.split("{{").next().unwrap_or("");
                if literal.len() >= 3 && gtrim.starts_with(literal) && gpos < literal.len() {
                    prefix.push((*source, n + 1, indent, literal.len()));
                }
            }
        }
    }
    // Of the prefix matches, the longest literal wins when it is the only one that long.
    let longest = prefix.iter().map(|p| p.3).max().unwrap_or(0);
    prefix.retain(|p| p.3 == longest);
    let unique = match (exact.len(), prefix.len()) {
        (1, _) => Some(exact[0]),
        (0, 1) => Some((prefix[0].0, prefix[0].1, prefix[0].2)),
        _ => None,
    };
    if let Some((source, line, indent)) = unique {
        return SourceError::at_line(
            &source.path,
            &source.text,
            line,
            Some(gpos + indent + 1),
            message,
        )
        .with_hint(format!("the compiled MJML has this at line {gline}"))
        .into();
    }
    let shown_text = guard::to_braces(generated);
    SourceError::at_line(
        PathBuf::from(format!("{} (compiled MJML)", main.path.display())),
        &shown_text,
        gline,
        Some(gcol),
        message,
    )
    .with_hint("`bulletin build` writes the compiled MJML next to the HTML when it builds")
    .into()
}

/// Is the `<` at `offset` text rather than a tag (`1 < 2`, `<3`)?
fn is_raw_less_than(mjml: &str, offset: usize) -> bool {
    let mut rest = mjml.get(offset..).unwrap_or("").chars();
    rest.next() == Some('<')
        && !rest
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
}

/// The innermost `<mj-…>` element of the MJML left open at the end: its offset and name.
fn unclosed_element(mjml: &str) -> Option<(usize, String)> {
    let mut open: Vec<(usize, &str)> = Vec::new();
    let mut i = 0;
    while let Some(found) = mjml[i..].find('<') {
        let start = i + found;
        let rest = &mjml[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(mjml.len(), |e| start + e + 3);
            continue;
        }
        let Some(len) = rest.find('>') else { break };
        let tag = &rest[1..len];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match open.last() {
                Some((_, top)) if *top == name => {
                    open.pop();
                }
                // Closing an outer element while an inner one is open: the inner one is the culprit.
                Some(&(o, top)) if open.iter().any(|(_, n)| *n == name) => {
                    return Some((o, top.to_string()));
                }
                _ => {}
            }
        } else if (tag.starts_with("mj") || tag.starts_with("mjml")) && !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or(tag);
            open.push((start, name));
        }
        i = start + len + 1;
    }
    open.pop().map(|(o, n)| (o, n.to_string()))
}

/// A parser message without its " at LINE:COL" positions (they count in the compiled MJML).
fn without_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        let after = &rest[at + 4..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(after.len());
        let pos = &after[..end];
        out.push_str(&rest[..at]);
        if pos.contains(':') && pos.split(':').all(|p| !p.is_empty()) {
            rest = &after[end..];
        } else {
            out.push_str(" at ");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of a 1-based row and column.
fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n + 1 == row {
            return offset
                + line
                    .char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

/// The compiled output failed to parse as a second-pass template (a recipient placeholder cut
/// apart by the MJML compiler).
pub(super) fn compiled_error(
    main: &TemplateSource,
    what: &str,
    text: &str,
    e: &TemplateError,
) -> ComposeError {
    let message = format!(
        "the compiled {what} is not a valid template: {}",
        e.reason()
    );
    let path = PathBuf::from(format!("{} (compiled {what})", main.path.display()));
    match e.pos() {
        Some((line, col)) => SourceError::at_line(path, text, line, Some(col), message),
        None => SourceError::file(path, message),
    }
    .with_hint("recipient placeholders belong in text and in href/src/alt attributes")
    .into()
}

#[cfg(test)]
mod tests {
    use super::is_raw_less_than;

    #[test]
    fn a_less_than_before_a_blank_or_digit_is_text() {
        let mjml = "<mj-text>1 < 2 <3 <b>x</b> </mj-text> <!-- c -->";
        let at = |needle: &str| mjml.find(needle).unwrap();
        assert!(is_raw_less_than(mjml, at("< 2")));
        assert!(is_raw_less_than(mjml, at("<3")));
        assert!(!is_raw_less_than(mjml, at("<b>")));
        assert!(!is_raw_less_than(mjml, at("</b>")));
        assert!(!is_raw_less_than(mjml, at("<!--")));
        assert!(!is_raw_less_than(mjml, mjml.len()));
        assert!(!is_raw_less_than(mjml, 1));
    }
}
