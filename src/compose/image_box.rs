//! **An image's box in a column of fractional width** (difference 6 of `docs/MJML-FIDELITY.md`).
//!
//! mjml sizes an `mj-image` from its column's width, truncated to whole pixels (`parseInt`) at
//! each step: in a column of `33.33333333333333%` of 600 px the column is 199.99999999999997 px,
//! read as 199, so an image with 25 px of padding on each side is 149 px wide. mrml computes in
//! single precision, where the same column is exactly 200 px, and the image comes out 150 px.
//!
//! [`truncated_image_boxes`] works out mjml's box for each image in such a column, the way mjml
//! does (the body's width, the section's and the column's padding, the image's padding, each
//! attribute taken from the tag, its `mj-class`, `mj-attributes` or mjml's defaults), and writes
//! it as the image's `width` when the image has none or a larger one: mrml then writes the same
//! `width` as mjml. Where the box depends on something this does not model (borders, groups,
//! a value it cannot read), the image is left alone.

use std::collections::HashMap;

use crate::compose::markup::{self, Tag};

/// Attributes of `mj-attributes`: per tag name (`mj-all` included) and per `mj-class` name.
#[derive(Default)]
struct Defaults<'a> {
    tags: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
    classes: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
}

impl<'a> Defaults<'a> {
    fn read(mjml: &str, tags: &[Tag<'a>]) -> Defaults<'a> {
        let mut defaults = Defaults::default();
        let Some(start) = mjml.find("<mj-attributes") else {
            return defaults;
        };
        let end = mjml[start..]
            .find("</mj-attributes>")
            .map_or(start, |e| start + e);
        for tag in tags.iter().filter(|t| t.start > start && t.end <= end) {
            match tag.name {
                "mj-class" => {
                    if let Some(name) = tag.attr("name") {
                        let attrs = tag.attrs.iter().filter(|(n, _)| *n != "name");
                        defaults.classes.entry(name).or_default().extend(attrs);
                    }
                }
                name if name.starts_with("mj-") => {
                    defaults.tags.entry(name).or_default().extend(&tag.attrs);
                }
                _ => {}
            }
        }
        defaults
    }

    /// The value of `name` for `tag` as mjml resolves it: the tag's own attribute, then its
    /// classes (the last that sets it), then `mj-attributes` for its tag name, then `mj-all`,
    /// then the component's default.
    fn get(&self, tag: &Tag<'a>, name: &str) -> Option<&'a str> {
        if let Some(own) = tag.attr(name) {
            return Some(own);
        }
        let from = |attrs: Option<&Vec<(&'a str, &'a str)>>| {
            attrs.and_then(|a| a.iter().rev().find(|(n, _)| *n == name).map(|&(_, v)| v))
        };
        let classes = tag.attr("mj-class").unwrap_or("");
        classes
            .split_whitespace()
            .rev()
            .find_map(|class| from(self.classes.get(class)))
            .or_else(|| from(self.tags.get(tag.name)))
            .or_else(|| from(self.tags.get("mj-all")))
            .or_else(|| component_default(tag.name, name))
    }

    /// Left plus right padding, as mjml's `getShorthandAttrValue` reads them; `None` when a
    /// value is not in pixels.
    fn horizontal_padding(&self, tag: &Tag<'a>) -> Option<f64> {
        let shorthand = self.get(tag, "padding");
        let side = |side: &str, index: fn(usize) -> usize| -> Option<f64> {
            if let Some(value) = self.get(tag, &format!("padding-{side}")) {
                return pixels(value);
            }
            let Some(shorthand) = shorthand else {
                return Some(0.0);
            };
            let parts: Vec<&str> = shorthand.split_whitespace().collect();
            if parts.is_empty() || parts.len() > 4 {
                return None;
            }
            pixels(parts[index(parts.len())])
        };
        // Which of 1–4 shorthand values is the right and the left one.
        let right = side("right", |n| usize::from(n > 1));
        let left = side("left", |n| match n {
            1 => 0,
            4 => 3,
            _ => 1,
        });
        Some(left? + right?)
    }

    /// Whether any border that would narrow the box is set.
    fn has_border(&self, tag: &Tag<'a>) -> bool {
        ["border", "border-left", "border-right"]
            .into_iter()
            .chain(["inner-border", "inner-border-left", "inner-border-right"])
            .filter_map(|name| self.get(tag, name))
            .any(|value| !matches!(value.trim(), "" | "0" | "none" | "0px"))
    }
}

/// mjml's default for the attributes that size an image.
fn component_default(tag: &str, name: &str) -> Option<&'static str> {
    match (tag, name) {
        ("mj-image", "padding") => Some("10px 25px"),
        ("mj-image", "border") => Some("0"),
        ("mj-section" | "mj-wrapper", "padding") => Some("20px 0"),
        ("mj-body", "width") => Some("600px"),
        _ => None,
    }
}

/// `25px` or `25` (mjml reads a bare number as pixels) → 25.0; a percentage, an `em` or
/// anything else → `None`.
fn pixels(value: &str) -> Option<f64> {
    let value = value.trim();
    let number = value.strip_suffix("px").unwrap_or(value);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    number.parse().ok()
}

/// mjml's `parseInt` of a width in pixels.
fn truncate(width: f64) -> f64 {
    width.trunc()
}

/// See the module's documentation.
pub fn truncated_image_boxes(mjml: &str) -> String {
    let tags = markup::tags(mjml);
    if !tags
        .iter()
        .any(|t| t.name == "mj-column" && t.attr("width").is_some_and(|w| w.contains('.')))
    {
        return mjml.to_string();
    }
    let defaults = Defaults::read(mjml, &tags);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (image, ancestors) in images_with_ancestors(mjml, &tags) {
        if let Some(edit) = image_edit(mjml, &defaults, image, &ancestors) {
            edits.push(edit);
        }
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(mjml.len() + edits.len() * 16);
    let mut copied = 0;
    for (start, end, text) in edits {
        out.push_str(&mjml[copied..start]);
        out.push_str(&text);
        copied = end;
    }
    out.push_str(&mjml[copied..]);
    out
}

/// The edit that gives `image` mjml's width, when mrml's would differ.
fn image_edit<'a>(
    mjml: &str,
    defaults: &Defaults<'a>,
    image: &Tag<'a>,
    ancestors: &[&Tag<'a>],
) -> Option<(usize, usize, String)> {
    let names: Vec<&str> = ancestors.iter().map(|t| t.name).collect();
    let (body, rest) = match names.as_slice() {
        ["mjml", "mj-body", "mj-section", "mj-column"] => (ancestors[1], &ancestors[2..]),
        ["mjml", "mj-body", "mj-wrapper", "mj-section", "mj-column"] => {
            (ancestors[1], &ancestors[2..])
        }
        _ => return None,
    };
    let column = rest.last()?;
    let percent = column.attr("width")?.trim().strip_suffix('%')?;
    let percent: f64 = percent.parse().ok()?;
    // The body, then each section-like box: parseInt of the width, less padding.
    let mut width = truncate(pixels(defaults.get(body, "width")?)?);
    for section in &rest[..rest.len() - 1] {
        if defaults.has_border(section) {
            return None;
        }
        width = truncate(width) - defaults.horizontal_padding(section)?;
    }
    if defaults.has_border(column) || defaults.has_border(image) {
        return None;
    }
    let column_width = width * percent / 100.0 - defaults.horizontal_padding(column)?;
    if column_width == column_width.trunc() {
        return None; // mrml's width is the same
    }
    let image_box = truncate(column_width) - defaults.horizontal_padding(image)?;
    if image_box <= 0.0 {
        return None;
    }
    let image_box = format!("{image_box}px");
    match image.attr("width") {
        Some(own) => {
            let own_px = pixels(own)?;
            if own_px < truncate(column_width) - defaults.horizontal_padding(image)? {
                return None;
            }
            let at = own.as_ptr() as usize - mjml.as_ptr() as usize;
            Some((at, at + own.len(), image_box))
        }
        None => {
            let end = image.attribute_insert_point(mjml);
            Some((end, end, format!(" width=\"{image_box}\"")))
        }
    }
}

/// Each `mj-image` tag with its open `mj` elements, outermost first.
fn images_with_ancestors<'t, 'a>(
    mjml: &'a str,
    tags: &'t [Tag<'a>],
) -> Vec<(&'t Tag<'a>, Vec<&'t Tag<'a>>)> {
    let mut out = Vec::new();
    let mut open: Vec<&Tag<'a>> = Vec::new();
    let mut position = 0;
    for tag in tags {
        close_before(mjml, position, tag.start, &mut open);
        position = tag.end;
        if !(tag.name == "mjml" || tag.name.starts_with("mj-")) {
            continue;
        }
        if tag.name == "mj-image" {
            out.push((tag, open.clone()));
        }
        if !tag.self_closing {
            open.push(tag);
        }
    }
    out
}

/// Pops the elements whose end tags lie in `mjml[from..to]`.
fn close_before<'a>(mjml: &str, from: usize, to: usize, open: &mut Vec<&Tag<'a>>) {
    let mut rest = &mjml[from..to];
    while let Some(at) = rest.find("</") {
        let after = &rest[at + 2..];
        let name_len = after
            .find(|c: char| c.is_ascii_whitespace() || c == '>')
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if (name == "mjml" || name.starts_with("mj-"))
            && let Some(k) = open.iter().rposition(|t| t.name == name)
        {
            open.truncate(k);
        }
        rest = &after[name_len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(columns: &str) -> String {
        format!("<mjml><mj-body><mj-section>{columns}</mj-section></mj-body></mjml>")
    }

    #[test]
    fn an_image_in_a_third_of_the_body_is_149_pixels() {
        let mjml =
            body(r#"<mj-column width="33.33333333333333%"><mj-image src="a.png" /></mj-column>"#);
        assert!(
            truncated_image_boxes(&mjml).contains(r#"<mj-image src="a.png"  width="149px"/>"#),
            "{}",
            truncated_image_boxes(&mjml)
        );
    }

    #[test]
    fn padding_comes_from_the_image_its_class_and_mj_attributes() {
        let mjml = "<mjml><mj-head><mj-attributes><mj-all padding=\"0\" />\
             <mj-class name=\"wide\" padding=\"0 5px\" /></mj-attributes></mj-head>\
             <mj-body><mj-section><mj-column width=\"33.33333333333333%\">\
             <mj-image mj-class=\"wide\" src=\"a.png\"></mj-image>\
             <mj-image src=\"b.png\"></mj-image></mj-column></mj-section></mj-body></mjml>";
        let out = truncated_image_boxes(mjml);
        assert!(out.contains(r#"src="a.png" width="189px">"#), "{out}");
        assert!(out.contains(r#"src="b.png" width="199px">"#), "{out}");
    }

    #[test]
    fn a_smaller_own_width_and_whole_columns_are_left_alone() {
        for mjml in [
            body(
                r#"<mj-column width="33.33333333333333%"><mj-image width="100px" src="a.png" /></mj-column>"#,
            ),
            body(r#"<mj-column width="50%"><mj-image src="a.png" /></mj-column>"#),
            body(
                r#"<mj-column width="33.33333333333333%" border="1px solid red"><mj-image src="a.png" /></mj-column>"#,
            ),
        ] {
            assert_eq!(truncated_image_boxes(&mjml), mjml);
        }
    }

    #[test]
    fn a_larger_own_width_is_narrowed_to_the_box() {
        let mjml = body(
            r#"<mj-column width="33.33333333333333%"><mj-image width="300px" src="a.png" /></mj-column>"#,
        );
        assert!(truncated_image_boxes(&mjml).contains(r#"width="149px""#));
    }

    #[test]
    fn section_padding_narrows_the_column() {
        let mjml = "<mjml><mj-body width=\"500px\"><mj-section padding=\"0 10px\">\
             <mj-column width=\"33.33333333333333%\"><mj-image src=\"a.png\" padding=\"0\" />\
             </mj-column></mj-section></mj-body></mjml>";
        // (500 − 20) × ⅓ = 159.99999999999997 → 159.
        assert!(truncated_image_boxes(mjml).contains(r#"width="159px""#));
    }
}
