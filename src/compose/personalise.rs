//! The per-recipient pass over compiled HTML or text.
//!
//! Compiled output is mostly literal text with a few `{{ … }}` expressions. Handing all of it to
//! the handlebars parser costs far more than the expressions need, so the text is cut into
//! literal runs, copied as they are, and expression spans (an expression, or a whole block from
//! `{{#…}}` to its `{{/…}}`), each a small handlebars template.

use std::ops::Range;
use std::sync::Arc;

use handlebars::{Context, Handlebars, RenderError, TemplateError};

use super::body::{Body, Piece, SharedText};

/// One piece of compiled output.
#[derive(Debug)]
enum Segment {
    /// Text with no expression: the same for every recipient.
    Literal(Arc<SharedText>),
    /// A registered template, by name.
    Template(String),
}

/// Compiled output ready to be filled in for any number of recipients.
pub struct Personaliser {
    source: String,
    segments: Vec<Segment>,
    registry: Handlebars<'static>,
}

impl Personaliser {
    /// Cut `source` into literal runs and expression spans and register the spans in
    /// `registry` (which brings the escape function, strictness and helpers). On a syntax
    /// error, the error is that of the whole source (returned with it), with its line and column.
    pub fn new(
        source: String,
        mut registry: Handlebars<'static>,
    ) -> Result<Self, (TemplateError, String)> {
        let literal = |range: Range<usize>| {
            Segment::Literal(Arc::new(SharedText::new(source[range].to_string())))
        };
        let mut segments = Vec::new();
        let mut literal_start = 0;
        for span in expression_spans(&source) {
            if span.start > literal_start {
                segments.push(literal(literal_start..span.start));
            }
            let name = format!("s{}", segments.len());
            if let Err(e) = registry.register_template_string(&name, &source[span.clone()]) {
                // Parse the whole text to report the error where it is.
                let mut whole = Handlebars::new();
                return Err(match whole.register_template_string("whole", &source) {
                    Err(whole_error) => (whole_error, source),
                    Ok(()) => (e, source),
                });
            }
            segments.push(Segment::Template(name));
            literal_start = span.end;
        }
        if literal_start < source.len() {
            segments.push(literal(literal_start..source.len()));
        }
        Ok(Personaliser {
            source,
            segments,
            registry,
        })
    }

    /// The text before personalisation.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Fill in the recipient: the literal runs shared, the expressions rendered.
    pub fn render(&self, ctx: &Context) -> Result<Body, RenderError> {
        let mut pieces = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            pieces.push(match segment {
                Segment::Literal(text) => Piece::Shared(Arc::clone(text)),
                Segment::Template(name) => {
                    Piece::Own(self.registry.render_with_context(name, ctx)?)
                }
            });
        }
        Ok(Body::from_pieces(pieces))
    }
}

/// Byte ranges of the top-level expressions and blocks of a template.
fn expression_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut span_start = 0;
    let mut i = 0;
    while let Some(found) = text[i..].find("{{") {
        let start = i + found;
        // `\{{` is a literal brace pair for handlebars: keep it inside a template so it stays one.
        let escaped = start > 0 && text.as_bytes()[start - 1] == b'\\';
        let rest = &text[start..];
        let close = if rest.starts_with("{{!--") {
            "--}}"
        } else if rest.starts_with("{{{{") {
            "}}}}"
        } else if rest.starts_with("{{{") {
            "}}}"
        } else {
            "}}"
        };
        let Some(len) = rest.find(close).map(|l| l + close.len()) else {
            // Unclosed: one span to the end, for handlebars to judge.
            spans.push(if depth == 0 { start } else { span_start }..text.len());
            return spans;
        };
        let inner = rest[..len]
            .trim_start_matches('{')
            .trim_start_matches('~')
            .trim_start();
        if depth == 0 {
            span_start = if escaped { start - 1 } else { start };
        }
        if !escaped {
            if inner.starts_with('#')
                || (inner.starts_with('^') && inner.len() > 2 && !inner.starts_with("^}"))
            {
                depth += 1;
            } else if inner.starts_with('/') {
                depth = depth.saturating_sub(1);
            }
        }
        i = start + len;
        if depth == 0 {
            spans.push(span_start..i);
        }
    }
    if depth > 0 {
        spans.push(span_start..text.len());
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn personaliser(text: &str) -> Personaliser {
        let mut reg = Handlebars::new();
        reg.set_strict_mode(true);
        Personaliser::new(text.to_string(), reg).unwrap()
    }

    #[test]
    fn spans_cover_expressions_and_whole_blocks() {
        let text = "<p>Hi {{a}}, {{#if b}}B {{b}}{{else}}none{{/if}}!</p>{{{c}}}";
        let spans: Vec<&str> = expression_spans(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            spans,
            ["{{a}}", "{{#if b}}B {{b}}{{else}}none{{/if}}", "{{{c}}}"]
        );
    }

    #[test]
    fn renders_like_one_template() {
        let text = "<p>Hi {{a}}, {{#if b}}B {{b}}{{else}}none{{/if}}!</p>{{{c}}} {{#each l}}[{{this}}]{{/each}}";
        let p = personaliser(text);
        let data = json!({"a": "<A>", "b": "x", "c": "<i>", "l": [1, 2]});
        let ctx = Context::wraps(&data).unwrap();
        let mut whole = Handlebars::new();
        whole.set_strict_mode(true);
        assert_eq!(
            p.render(&ctx).unwrap().to_string(),
            whole.render_template(text, &data).unwrap()
        );
        assert_eq!(
            p.render(&ctx).unwrap().to_string(),
            "<p>Hi &lt;A&gt;, B x!</p><i> [1][2]"
        );
    }

    #[test]
    fn literal_runs_are_shared_and_expressions_filled_in() {
        let text = "<p>one</p>\n<p>Hi {{a}},\n{{#if b}}B\n{{/if}}</p>\n<p>two {{a}}</p>";
        let p = personaliser(text);
        let data = json!({"a": "<A>", "b": true});
        let body = p.render(&Context::wraps(&data).unwrap()).unwrap();
        let shape: Vec<(bool, &str)> = body
            .pieces()
            .iter()
            .map(|piece| (matches!(piece, Piece::Shared(_)), piece.text()))
            .collect();
        assert_eq!(
            shape,
            [
                (true, "<p>one</p>\n<p>Hi "),
                (false, "&lt;A&gt;"),
                (true, ",\n"),
                (false, "B\n"),
                (true, "</p>\n<p>two "),
                (false, "&lt;A&gt;"),
                (true, "</p>"),
            ]
        );
        let mut whole = Handlebars::new();
        whole.set_strict_mode(true);
        assert_eq!(
            body.to_string(),
            whole.render_template(text, &data).unwrap()
        );
    }

    #[test]
    fn every_recipient_gets_the_same_shared_text() {
        let p = personaliser("head\n{{a}}\ntail\n");
        let one = p.render(&Context::wraps(json!({"a": 1})).unwrap()).unwrap();
        let two = p.render(&Context::wraps(json!({"a": 2})).unwrap()).unwrap();
        let (Piece::Shared(x), Piece::Shared(y)) = (&one.pieces()[0], &two.pieces()[0]) else {
            panic!("the first line is not shared: {one:?}");
        };
        assert!(Arc::ptr_eq(x, y));
        assert_eq!(
            (one.to_string(), two.to_string()),
            ("head\n1\ntail\n".into(), "head\n2\ntail\n".into())
        );
    }

    #[test]
    fn strict_mode_still_names_the_missing_value() {
        let p = personaliser("a {{subscriber.company}} b");
        let ctx = Context::wraps(json!({"subscriber": {}})).unwrap();
        let e = p.render(&ctx).unwrap_err();
        assert!(matches!(
            e.reason(),
            handlebars::RenderErrorReason::MissingVariable(Some(n)) if n == "subscriber.company"
        ));
    }

    #[test]
    fn syntax_errors_point_into_the_whole_text() {
        let mut reg = Handlebars::new();
        reg.set_strict_mode(true);
        let (e, _) = Personaliser::new("line one\nline {{#if x}} two\n".to_string(), reg)
            .err()
            .unwrap();
        assert_eq!(e.pos().map(|p| p.0), Some(3));
    }
}
