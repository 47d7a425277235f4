//! Small corrections that make mrml's output match the reference compiler's (mjml 5), each
//! named after the difference it removes and each with its minimal reproduction in
//! `tests/fixtures/mjml/` (see `docs/MJML-FIDELITY.md`).

use crate::compose::markup;

/// **Duplicated attribute: the first wins.** Of `<mj-text font-size="12px" font-size="14px">`
/// mjml keeps the first value and mrml the last. Later duplicates of an attribute in an `mj-`
/// tag are blanked out (replaced by spaces, so byte offsets keep their meaning).
pub fn first_duplicate_attribute_wins(mjml: &str) -> String {
    let mut blanks: Vec<(usize, usize)> = Vec::new();
    for tag in markup::tags(mjml) {
        if !tag.name.starts_with("mj") {
            continue;
        }
        for (k, &(name, value)) in tag.attrs.iter().enumerate() {
            if tag.attrs[..k].iter().any(|(n, _)| *n == name) {
                let start = name.as_ptr() as usize - mjml.as_ptr() as usize;
                let value_end = value.as_ptr() as usize - mjml.as_ptr() as usize + value.len();
                // Past the closing quote, when there is one.
                let end = match mjml.as_bytes().get(value_end) {
                    Some(b'"' | b'\'') => value_end + 1,
                    _ => value_end,
                };
                blanks.push((start, end));
            }
        }
    }
    if blanks.is_empty() {
        return mjml.to_string();
    }
    let mut out = String::with_capacity(mjml.len());
    let mut copied = 0;
    for (start, end) in blanks {
        out.push_str(&mjml[copied..start]);
        out.extend(
            mjml[start..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        copied = end;
    }
    out.push_str(&mjml[copied..]);
    out
}

/// **Padding with a bare `0`.** mrml reads a padding only when every value carries `px` and the
/// values are one space apart; otherwise it drops the whole padding from its width arithmetic,
/// so `padding="0 25px"` on an image, or `padding="0 12px 0 13px"` on a section, counts as no
/// padding at all (an image 50 px too wide, columns 25 px too wide). mjml reads `0` as zero.
/// Each bare `0` of a padding attribute (`padding`, `inner-padding`, `text-padding`, …) of an
/// `mj-` tag, `mj-attributes` included, is written `0px`, and runs of spaces are closed up; the
/// CSS means the same.
pub fn padding_zero_units(mjml: &str) -> String {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for tag in markup::tags(mjml) {
        if !tag.name.starts_with("mj") {
            continue;
        }
        for &(name, value) in &tag.attrs {
            if name != "padding" && !name.ends_with("-padding") {
                continue;
            }
            let parts: Vec<&str> = value.split_whitespace().collect();
            let spelled = parts
                .iter()
                .map(|p| if *p == "0" { "0px" } else { p })
                .collect::<Vec<_>>()
                .join(" ");
            if spelled != value && !parts.is_empty() {
                let at = value.as_ptr() as usize - mjml.as_ptr() as usize;
                edits.push((at, at + value.len(), spelled));
            }
        }
    }
    splice(mjml, edits)
}

/// **`mj-attributes` that mrml does not apply.** mrml ignores `<mj-attributes><mj-body …/>`,
/// so a body colour or width set there is lost, and the icon attributes of
/// `<mj-attributes><mj-accordion-element …/>` (their size, their images), so the icons keep
/// mrml's defaults. For these elements the defaults are copied onto each tag, for every
/// attribute that neither the tag nor one of its `mj-class`es sets (those come first in mjml).
pub fn unapplied_defaults(mjml: &str) -> String {
    const ELEMENTS: [&str; 2] = ["mj-body", "mj-accordion-element"];
    let Some((head_start, head_end)) = section(mjml, "mj-attributes") else {
        return mjml.to_string();
    };
    let tags = markup::tags(mjml);
    let in_head = |t: &markup::Tag<'_>| t.start > head_start && t.end <= head_end;
    let head: Vec<&markup::Tag<'_>> = tags.iter().filter(|t| in_head(t)).collect();
    let mut edits = Vec::new();
    for tag in tags
        .iter()
        .filter(|t| ELEMENTS.contains(&t.name) && !in_head(t))
    {
        let classes: Vec<&str> = tag
            .attr("mj-class")
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let set_by_class = |name: &str| {
            head.iter().any(|h| {
                h.name == "mj-class"
                    && h.attr("name").is_some_and(|c| classes.contains(&c))
                    && h.attr(name).is_some()
            })
        };
        // The last default of each name wins, as in mjml.
        let mut defaults: Vec<(&str, &str)> = Vec::new();
        for &(name, value) in head
            .iter()
            .filter(|h| h.name == tag.name)
            .flat_map(|h| &h.attrs)
        {
            defaults.retain(|(n, _)| *n != name);
            defaults.push((name, value));
        }
        let added: String = defaults
            .iter()
            .filter(|(name, value)| {
                tag.attr(name).is_none() && !set_by_class(name) && !value.contains('"')
            })
            .map(|(name, value)| format!(" {name}=\"{value}\""))
            .collect();
        if !added.is_empty() {
            let at = tag.attribute_insert_point(mjml);
            edits.push((at, at, added));
        }
    }
    splice(mjml, edits)
}

/// Byte range of the first `<NAME …>…</NAME>`.
fn section(text: &str, name: &str) -> Option<(usize, usize)> {
    let start = text.find(&format!("<{name}"))?;
    let end = start + text[start..].find(&format!("</{name}>"))?;
    Some((start, end))
}

/// **`mj-hero mode="fluid-height"`.** mrml recognises only `mode="fluid"`, so a fluid hero is
/// drawn as a fixed one whose height is computed from nothing (`height:-200px`). The mode is
/// renamed for mrml ([`hero_fluid_mode`]), and the spacer cells mrml then writes with a bare
/// number (`padding-bottom:78.166664`, which browsers ignore) get mjml's whole percentage
/// ([`hero_fluid_ratio`]).
pub fn hero_fluid_mode(mjml: &str) -> String {
    let mut edits = Vec::new();
    for tag in markup::tags(mjml) {
        if tag.name == "mj-hero"
            && let Some(mode) = tag.attr("mode").filter(|m| *m == "fluid-height")
        {
            let at = mode.as_ptr() as usize - mjml.as_ptr() as usize;
            edits.push((at, at + mode.len(), "fluid".to_string()));
        }
    }
    splice(mjml, edits)
}

/// See [`hero_fluid_mode`].
pub fn hero_fluid_ratio(html: &str) -> String {
    const NEEDLE: &str = "mso-padding-bottom-alt:0;padding-bottom:";
    let mut edits = Vec::new();
    for (at, _) in html.match_indices(NEEDLE) {
        let start = at + NEEDLE.len();
        let end = html[start..].find(';').map_or(html.len(), |e| start + e);
        if let Ok(ratio) = html[start..end].parse::<f64>() {
            edits.push((start, end, format!("{}%", ratio.round())));
        }
    }
    splice(html, edits)
}

/// **`mj-wrapper gap`.** mrml ignores a wrapper's `gap`; mjml puts that space above every
/// section of the wrapper but the first (`margin-top` on the section, `padding-top` on its
/// Outlook table). Each such section is marked with a CSS class ([`wrapper_gap_mark`]), which
/// mrml copies onto both, and the mark is turned into the spacing afterwards
/// ([`wrapper_gap_apply`]).
pub fn wrapper_gap_mark(mjml: &str) -> String {
    let tags = markup::tags(mjml);
    let mut edits = Vec::new();
    for wrapper in tags.iter().filter(|t| t.name == "mj-wrapper") {
        let Some(gap) = wrapper.attr("gap").filter(|g| is_pixels(g)) else {
            continue;
        };
        let Some(close) = mjml[wrapper.end..].find("</mj-wrapper>") else {
            continue;
        };
        let inside = wrapper.end..wrapper.end + close;
        let mut depth_end = 0;
        let mut first = true;
        for section in tags.iter().filter(|t| inside.contains(&t.start)) {
            // Only the wrapper's own sections, not those of a nested element.
            if section.start < depth_end || section.name != "mj-section" {
                continue;
            }
            depth_end = mjml[section.end..]
                .find("</mj-section>")
                .map_or(section.end, |e| section.end + e);
            if first {
                first = false;
                continue;
            }
            let mark = format!("{GAP_MARK}{}", gap.trim().trim_end_matches("px"));
            match section.attr("css-class") {
                Some(class) => {
                    let at = class.as_ptr() as usize - mjml.as_ptr() as usize;
                    edits.push((at + class.len(), at + class.len(), format!(" {mark}")));
                }
                None => {
                    let at = section.attribute_insert_point(mjml);
                    edits.push((at, at, format!(" css-class=\"{mark}\"")));
                }
            }
        }
    }
    edits.sort_by_key(|e| e.0);
    splice(mjml, edits)
}

/// The class that marks a section below a wrapper's gap, followed by the gap in pixels.
const GAP_MARK: &str = "bulletin-gap-";

fn is_pixels(value: &str) -> bool {
    let number = value.trim().trim_end_matches("px");
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// See [`wrapper_gap_mark`].
pub fn wrapper_gap_apply(html: &str) -> String {
    if !html.contains(GAP_MARK) {
        return html.to_string();
    }
    let mut edits = Vec::new();
    // Tags inside Outlook's conditional comments too, so not `markup::tags`.
    let marked = html.match_indices(GAP_MARK).filter_map(|(at, _)| {
        let start = html[..at].rfind('<')?;
        markup::start_tag(html, start).filter(|t| t.end > at)
    });
    let mut seen = 0;
    for tag in marked {
        if tag.start < seen {
            continue;
        }
        seen = tag.end;
        let Some(class) = tag.attr("class") else {
            continue;
        };
        let Some(mark) = class.split_whitespace().find(|c| c.starts_with(GAP_MARK)) else {
            continue;
        };
        let outlook = mark.ends_with("-outlook");
        let gap = mark[GAP_MARK.len()..].trim_end_matches("-outlook");
        let kept: Vec<&str> = class.split_whitespace().filter(|c| *c != mark).collect();
        let class_at = class.as_ptr() as usize - html.as_ptr() as usize;
        edits.push((class_at, class_at + class.len(), kept.join(" ")));
        if let Some(style) = tag.attr("style") {
            let property = if outlook { "padding-top" } else { "margin-top" };
            let at = style.as_ptr() as usize - html.as_ptr() as usize + style.len();
            let separator = if style.ends_with(';') || style.is_empty() {
                ""
            } else {
                ";"
            };
            edits.push((at, at, format!("{separator}{property}:{gap}px;")));
        }
    }
    edits.sort_by_key(|e| e.0);
    splice(html, edits)
}

/// **Fractional image widths.** mjml truncates an image's box to whole pixels (`parseInt`):
/// in a 575 px column pair an image is 287 px wide; mrml writes `width="287.5"` on the image
/// and `width:287.5px` on the cell around it. Both are truncated.
pub fn whole_pixel_image_widths(html: &str) -> String {
    let mut fixes: Vec<(usize, usize, String)> = Vec::new();
    let tags = markup::tags(html);
    for (k, tag) in tags.iter().enumerate() {
        if !tag.name.eq_ignore_ascii_case("img") {
            continue;
        }
        let Some(width) = tag.attr("width").filter(|w| w.contains('.')) else {
            continue;
        };
        let Some(whole) = truncated(width) else {
            continue;
        };
        let at = width.as_ptr() as usize - html.as_ptr() as usize;
        fixes.push((at, at + width.len(), whole.clone()));
        // The cell holding the image (directly, or through its link).
        let cell = tags[..k]
            .iter()
            .rev()
            .take(2)
            .find(|t| t.name.eq_ignore_ascii_case("td"));
        if let Some(style) = cell.and_then(|t| t.attr("style")) {
            let needle = format!("width:{width}px");
            if let Some(pos) = style.find(&needle) {
                let at = style.as_ptr() as usize - html.as_ptr() as usize + pos;
                fixes.push((at, at + needle.len(), format!("width:{whole}px")));
            }
        }
    }
    fixes.sort_by_key(|f| f.0);
    splice(html, fixes)
}

/// `287.5` → `287`.
fn truncated(width: &str) -> Option<String> {
    let (whole, fraction) = width.split_once('.')?;
    (!whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit()))
    .then(|| whole.to_string())
}

/// **Columns of a group on phones.** A column inside `mj-group` keeps its width on phones,
/// written inline; mjml writes the whole percent (`parseInt`: 14% for a seventh), mrml the
/// fraction (14.285714%), so a row of seven icons is wider. Inline percentages with a fraction
/// on column `div`s are truncated (the desktop rule in the `<style>` is left alone).
pub fn group_column_mobile_width(html: &str) -> String {
    let mut fixes: Vec<(usize, usize, String)> = Vec::new();
    for tag in markup::tags(html) {
        if !tag.name.eq_ignore_ascii_case("div")
            || !tag
                .attr("class")
                .is_some_and(|c| c.contains("mj-column-per-"))
        {
            continue;
        }
        let Some(style) = tag.attr("style") else {
            continue;
        };
        let style_at = style.as_ptr() as usize - html.as_ptr() as usize;
        for (pos, _) in style.match_indices("width:") {
            if pos > 0 && !style[..pos].ends_with(';') {
                continue; // max-width, min-width
            }
            let value_start = pos + "width:".len();
            let value_end = style[value_start..]
                .find(';')
                .map_or(style.len(), |e| value_start + e);
            let value = &style[value_start..value_end];
            if let Some(whole) = value.strip_suffix('%').and_then(truncated) {
                fixes.push((
                    style_at + value_start,
                    style_at + value_end,
                    format!("{whole}%"),
                ));
            }
        }
    }
    splice(html, fixes)
}

/// **Rounded full-width rows.** For a full-width section or wrapper with `border-radius`, mrml
/// also rounds the outer table that spans the whole window, so the row's background shows
/// rounded ends; mjml rounds only the centred box inside it. The radius is dropped from that
/// outer table (the one whose only content is a bare `<tbody><tr><td>`).
pub fn full_width_radius(html: &str) -> String {
    if !html.contains("border-radius") {
        return html.to_string();
    }
    let mut edits = Vec::new();
    for tag in markup::tags(html) {
        if tag.name != "table" || !html[tag.end..].starts_with("<tbody><tr><td>") {
            continue;
        }
        let Some(style) = tag.attr("style") else {
            continue;
        };
        let Some(radius_at) = style.find("border-radius:") else {
            continue;
        };
        if radius_at > 0 && !style[..radius_at].ends_with(';') {
            continue;
        }
        let radius_end = style[radius_at..]
            .find(';')
            .map_or(style.len(), |e| radius_at + e + 1);
        let at = style.as_ptr() as usize - html.as_ptr() as usize;
        edits.push((at + radius_at, at + radius_end, String::new()));
    }
    splice(html, edits)
}

/// **Carousel arrows hidden everywhere.** mrml writes the carousel's fallback rule as
/// `@media screen, yahoo {…}`, a list that matches every screen, so the arrows and thumbnails
/// are hidden in every client; mjml writes `@media screen yahoo`, which matches nothing (the
/// rule is meant for Yahoo's rewriting only).
pub fn carousel_media_query(html: &str) -> String {
    html.replace("@media screen, yahoo", "@media screen yahoo")
}

/// `text` with each `(start, end, replacement)` applied; edits in order, overlapping ones
/// skipped.
fn splice(text: &str, edits: Vec<(usize, usize, String)>) -> String {
    if edits.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + edits.len() * 16);
    let mut copied = 0;
    for (start, end, replacement) in edits {
        if start < copied {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(&replacement);
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_duplicates_are_blanked() {
        let src = "<mjml><mj-text color=\"#fff\" font-size=\"12px\" font-size='14px' align=\"center\">a font-size=\"9px\"</mj-text><p x=\"1\" x=\"2\"></mjml>";
        let out = first_duplicate_attribute_wins(src);
        assert_eq!(
            out,
            "<mjml><mj-text color=\"#fff\" font-size=\"12px\"                  align=\"center\">a font-size=\"9px\"</mj-text><p x=\"1\" x=\"2\"></mjml>"
        );
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn bare_zeros_of_a_padding_get_a_unit() {
        assert_eq!(
            padding_zero_units(
                "<mj-image src=\"0\" padding=\"0 25px\" /><mj-section padding=\"0  12px 0 13px\"><mj-button inner-padding=\"10px 0\"><mj-text padding=\"9px\"><p padding=\"0\">"
            ),
            "<mj-image src=\"0\" padding=\"0px 25px\" /><mj-section padding=\"0px 12px 0px 13px\"><mj-button inner-padding=\"10px 0px\"><mj-text padding=\"9px\"><p padding=\"0\">"
        );
    }

    #[test]
    fn defaults_mrml_skips_are_copied_onto_the_tags() {
        let mjml = "<mjml><mj-head><mj-attributes><mj-body background-color=\"#336699\" width=\"500px\" /></mj-attributes></mj-head><mj-body width=\"550px\"><mj-section /></mj-body></mjml>";
        assert_eq!(
            unapplied_defaults(mjml),
            "<mjml><mj-head><mj-attributes><mj-body background-color=\"#336699\" width=\"500px\" /></mj-attributes></mj-head><mj-body width=\"550px\" background-color=\"#336699\"><mj-section /></mj-body></mjml>"
        );
        let plain = "<mjml><mj-body><mj-section /></mj-body></mjml>";
        assert_eq!(unapplied_defaults(plain), plain);
        let accordion = "<mj-attributes><mj-accordion-element icon-width=\"24px\" icon-height=\"20px\" /><mj-accordion-element icon-height=\"24px\" /><mj-class name=\"big\" icon-width=\"40px\" /></mj-attributes><mj-accordion-element mj-class=\"big\"><mj-accordion-element icon-height=\"9px\">";
        assert_eq!(
            unapplied_defaults(accordion),
            "<mj-attributes><mj-accordion-element icon-width=\"24px\" icon-height=\"20px\" /><mj-accordion-element icon-height=\"24px\" /><mj-class name=\"big\" icon-width=\"40px\" /></mj-attributes><mj-accordion-element mj-class=\"big\" icon-height=\"24px\"><mj-accordion-element icon-height=\"9px\" icon-width=\"24px\">"
        );
    }

    #[test]
    fn a_fluid_hero_is_fluid_with_a_percentage() {
        assert_eq!(
            hero_fluid_mode("<mj-hero mode=\"fluid-height\"><mj-hero mode=\"fixed-height\">"),
            "<mj-hero mode=\"fluid\"><mj-hero mode=\"fixed-height\">"
        );
        assert_eq!(
            hero_fluid_ratio(
                "<td style=\"mso-padding-bottom-alt:0;padding-bottom:78.166664;width:0.01%;\" />"
            ),
            "<td style=\"mso-padding-bottom-alt:0;padding-bottom:78%;width:0.01%;\" />"
        );
    }

    #[test]
    fn a_wrapper_gap_spaces_every_section_but_the_first() {
        let mjml = "<mj-wrapper gap=\"20px\"><mj-section><mj-column /></mj-section><mj-section css-class=\"x\"></mj-section><mj-section /></mj-wrapper><mj-section />";
        let marked = wrapper_gap_mark(mjml);
        assert_eq!(
            marked,
            "<mj-wrapper gap=\"20px\"><mj-section><mj-column /></mj-section><mj-section css-class=\"x bulletin-gap-20\"></mj-section><mj-section  css-class=\"bulletin-gap-20\"/></mj-wrapper><mj-section />"
        );
        let html = "<table class=\"bulletin-gap-20-outlook\" style=\"width:600px;\"><div class=\"x bulletin-gap-20\" style=\"margin:0px auto;max-width:600px;\">";
        assert_eq!(
            wrapper_gap_apply(html),
            "<table class=\"\" style=\"width:600px;padding-top:20px;\"><div class=\"x\" style=\"margin:0px auto;max-width:600px;margin-top:20px;\">"
        );
    }

    #[test]
    fn fractional_image_widths_are_truncated() {
        let html = "<td style=\"width:287.5px;\"><a href=\"x\"><img alt=\"\" width=\"287.5\" style=\"width:100%;\"></a></td><td style=\"width:50.5px\"><img width=\"50\"></td>";
        assert_eq!(
            whole_pixel_image_widths(html),
            "<td style=\"width:287px;\"><a href=\"x\"><img alt=\"\" width=\"287\" style=\"width:100%;\"></a></td><td style=\"width:50.5px\"><img width=\"50\"></td>"
        );
    }

    #[test]
    fn group_columns_keep_a_whole_percent_on_phones() {
        let html = "<style>.mj-column-per-14-285714 { width:14.285714% !important; }</style><div class=\"mj-outlook-group-fix mj-column-per-14-285714\" style=\"font-size:0px;max-width:14.5%;width:14.285714%;\"></div><div class=\"mj-column-per-100\" style=\"width:100%;\"></div><div style=\"width:14.5%\"></div>";
        assert_eq!(
            group_column_mobile_width(html),
            "<style>.mj-column-per-14-285714 { width:14.285714% !important; }</style><div class=\"mj-outlook-group-fix mj-column-per-14-285714\" style=\"font-size:0px;max-width:14.5%;width:14%;\"></div><div class=\"mj-column-per-100\" style=\"width:100%;\"></div><div style=\"width:14.5%\"></div>"
        );
    }

    #[test]
    fn a_full_width_row_is_not_rounded_outside_its_box() {
        let html = "<table align=\"center\" style=\"background:#f0f0f0;border-radius:4px;width:100%;\"><tbody><tr><td><div style=\"border-radius:4px;\"><table style=\"border-radius:4px;\"><tbody><tr><td style=\"x\">";
        assert_eq!(
            full_width_radius(html),
            "<table align=\"center\" style=\"background:#f0f0f0;width:100%;\"><tbody><tr><td><div style=\"border-radius:4px;\"><table style=\"border-radius:4px;\"><tbody><tr><td style=\"x\">"
        );
    }

    #[test]
    fn the_carousel_rule_matches_no_screen() {
        assert_eq!(
            carousel_media_query(
                "@media screen, yahoo { .mj-carousel-previous-icons { display:none !important; } }"
            ),
            "@media screen yahoo { .mj-carousel-previous-icons { display:none !important; } }"
        );
    }
}
