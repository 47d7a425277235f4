//! MJML validation with the reference compiler's rules: every element must exist, sit under a
//! parent that may hold it, and carry only its own attributes, each with a value of the right
//! type. mrml compiles what it does not know without a word; this is what `mjml -v` would say.

use crate::compose::markup;
use crate::compose::mjml_rules::{
    ALWAYS_ALLOWED, COMPONENTLESS, COMPONENTS, component, parents_of, type_error,
};
use crate::diagnostic::closest;

/// One rule broken, at a byte offset of the MJML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    fn new(offset: usize, message: String) -> Problem {
        Problem {
            offset,
            message,
            hint: None,
        }
    }

    fn hint(mut self, hint: Option<String>) -> Problem {
        self.hint = hint;
        self
    }
}

/// Every rule the MJML breaks, in document order.
pub fn validate(mjml: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    // Open elements: (name, offset of `<`).
    let mut stack: Vec<(&str, usize)> = Vec::new();
    let mut i = 0;
    while let Some(found) = mjml[i..].find('<') {
        let start = i + found;
        let rest = &mjml[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(mjml.len(), |e| start + e + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = rest.find('>').map_or(mjml.len(), |e| start + e + 1);
            continue;
        }
        if let Some(close) = rest.strip_prefix("</") {
            let len = close.find('>').unwrap_or(close.len());
            let name = close[..len].trim();
            i = (start + 2 + len + 1).min(mjml.len());
            close_element(&mut stack, name, start, &mut out);
            continue;
        }
        let Some(tag) = markup::start_tag(mjml, start) else {
            i = start + 1;
            continue;
        };
        i = tag.end;
        let parent = stack.last().map(|&(n, _)| n);
        let known = component(tag.name);
        match known {
            None if COMPONENTLESS.contains(&tag.name) => {}
            None => {
                let hint = closest(
                    tag.name,
                    COMPONENTS.iter().map(|c| c.name).chain(COMPONENTLESS),
                )
                .map(|c| format!("did you mean <{c}>?"));
                out.push(Problem::new(start, format!("unknown element <{}>", tag.name)).hint(hint));
                // Not MJML: its content is not checked either.
                if !tag.self_closing && !tag.name.starts_with("mj") {
                    i = closing_tag(mjml, tag.name, i).map_or(i, |(_, end)| end);
                    continue;
                }
            }
            Some(c) => {
                if let Some(p) = parent.filter(|p| *p != "mjml").and_then(component)
                    && let Some(allowed) = p.children
                    && !allowed.contains(&c.name)
                {
                    out.push(Problem::new(
                        start,
                        format!(
                            "<{}> cannot be used inside <{}>, only inside {}",
                            c.name,
                            p.name,
                            parents_of(c.name)
                                .iter()
                                .map(|n| format!("<{n}>"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                if c.name != "mjml" {
                    out.extend(attribute_problems(mjml, &tag, c.name, c.attributes));
                }
            }
        }
        if tag.self_closing {
            continue;
        }
        if known.is_some_and(|c| c.ending) {
            // Raw content up to the closing tag, which pops the element.
            i = closing_tag(mjml, tag.name, i).map_or(mjml.len(), |(at, _)| at);
        }
        stack.push((tag.name, start));
    }
    out
}

/// Unknown attributes and values of the wrong type on one element.
fn attribute_problems(
    mjml: &str,
    tag: &markup::Tag<'_>,
    name: &str,
    allowed: &[(&str, &str)],
) -> Vec<Problem> {
    let mut out = Vec::new();
    for &(attr, value) in &tag.attrs {
        let at = attr.as_ptr() as usize - mjml.as_ptr() as usize;
        if ALWAYS_ALLOWED.contains(&attr) {
            continue;
        }
        match allowed.iter().find(|(a, _)| *a == attr) {
            None => {
                let hint = closest(attr, allowed.iter().map(|(a, _)| *a))
                    .map(|a| format!("did you mean `{a}`?"))
                    .or_else(|| {
                        (allowed.is_empty()).then(|| format!("<{name}> takes no attributes"))
                    });
                out.push(
                    Problem::new(at, format!("unknown attribute `{attr}` on <{name}>")).hint(hint),
                );
            }
            Some((_, ty)) => {
                let value = markup::decode_entities(value);
                if let Some(why) = type_error(ty, &value) {
                    out.push(Problem::new(
                        at,
                        format!("attribute `{attr}` of <{name}> {why}"),
                    ));
                }
            }
        }
    }
    out
}

/// A closing tag: pop its element, or say what is wrong.
fn close_element<'a>(
    stack: &mut Vec<(&'a str, usize)>,
    name: &'a str,
    at: usize,
    out: &mut Vec<Problem>,
) {
    match stack.iter().rposition(|&(n, _)| n == name) {
        Some(k) => {
            for &(open, offset) in &stack[k + 1..] {
                out.push(Problem::new(
                    offset,
                    format!("<{open}> is never closed (</{name}> comes first)"),
                ));
            }
            stack.truncate(k);
        }
        None => {
            let top = stack.last().map(|&(n, _)| n);
            let hint = top.map(|t| format!("the element open here is <{t}>: did you mean </{t}>?"));
            out.push(Problem::new(at, format!("</{name}> closes no open element")).hint(hint));
            // A misspelt closing tag: take it for the element it was meant to close.
            if top.is_some_and(|t| strsim::levenshtein(t, name) <= 2) {
                stack.pop();
            }
        }
    }
}

/// The `</name>` closing the element whose content starts at `from`: (its start, its end).
fn closing_tag(mjml: &str, name: &str, from: usize) -> Option<(usize, usize)> {
    let needle = format!("</{name}");
    let mut i = from;
    while let Some(found) = mjml[i..].find(&needle) {
        let at = i + found;
        let after = at + needle.len();
        let rest = &mjml[after..];
        if rest.starts_with(|c: char| c == '>' || c.is_whitespace()) {
            return Some((at, rest.find('>').map_or(mjml.len(), |e| after + e + 1)));
        }
        i = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(mjml: &str) -> Vec<String> {
        validate(mjml).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn valid_mjml_passes() {
        let mjml = r#"<mjml lang="en"><mj-head><mj-attributes><mj-all font-family="Arial" /><mj-class name="x" color="red" /><mj-text font-size="15px" /></mj-attributes><mj-style>.a { color: red }</mj-style></mj-head>
<mj-body width="600px"><mj-section padding="10px 0"><mj-column width="50%"><mj-text css-class="body"><p>a <b>b</b></p><div>x</div></mj-text><mj-image src="a.png" width="100px" /><mj-divider /></mj-column></mj-section>
<mj-raw><table><tr><td>raw</td></tr></table></mj-raw></mj-body></mjml>"#;
        assert_eq!(messages(mjml), Vec::<String>::new());
    }

    #[test]
    fn unknown_element_wrong_parent_attribute_and_value() {
        let mjml = "<mjml><mj-body><mj-section><mj-column><mj-divder /><mj-column /><mj-text colour=\"red\" align=\"middle\">x</mj-text><mj-image width=\"100\" /></mj-column></mj-section></mj-body></mjml>";
        let problems = validate(mjml);
        let got: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.message.as_str(), p.hint.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "unknown element <mj-divder>",
                    Some("did you mean <mj-divider>?")
                ),
                (
                    "<mj-column> cannot be used inside <mj-column>, only inside <mj-attributes>, <mj-section>, <mj-group>",
                    None
                ),
                (
                    "unknown attribute `colour` on <mj-text>",
                    Some("did you mean `color`?")
                ),
                (
                    "attribute `align` of <mj-text> has invalid value `middle`: one of `left`, `right`, `center`, `justify` is expected",
                    None
                ),
                (
                    "attribute `width` of <mj-image> has invalid value `100`: 1 value in `px` expected",
                    None
                ),
            ]
        );
        assert_eq!(&mjml[problems[0].offset..][..11], "<mj-divder ");
        assert_eq!(&mjml[problems[2].offset..][..6], "colour");
    }

    #[test]
    fn misspelt_closing_tag() {
        let mjml = "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-colum></mj-section></mj-body></mjml>";
        let problems = validate(mjml);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, "</mj-colum> closes no open element");
        assert_eq!(
            problems[0].hint.as_deref(),
            Some("the element open here is <mj-column>: did you mean </mj-column>?")
        );
    }

    #[test]
    fn html_outside_ending_tags_is_unknown() {
        assert_eq!(
            messages(
                "<mjml><mj-body><mj-section><mj-column><div><p>x</p></div></mj-column></mj-section></mj-body></mjml>"
            ),
            ["unknown element <div>"]
        );
    }
}
