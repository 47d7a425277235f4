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

/// **Image box from `mj-all`'s padding.** mrml sizes an `mj-image` (its width clamped to the
/// column) with the left and right padding of `<mj-all padding>`, not with the image's own
/// `padding`, so an image wider than its column is not clamped (and is wider on phones). The
/// image's own padding is repeated as `padding-left` and `padding-right`, which mrml reads.
pub fn image_padding_sides(mjml: &str) -> String {
    let mut inserts: Vec<(usize, usize, String)> = Vec::new();
    for tag in markup::tags(mjml) {
        if tag.name != "mj-image"
            || tag.attr("padding-left").is_some()
            || tag.attr("padding-right").is_some()
        {
            continue;
        }
        let Some(padding) = tag.attr("padding") else {
            continue;
        };
        let sides: Vec<&str> = padding.split_whitespace().collect();
        let (right, left) = match sides.as_slice() {
            [all] => (*all, *all),
            [_, h] | [_, h, _] => (*h, *h),
            [_, r, _, l] => (*r, *l),
            _ => continue,
        };
        // Before the tag's end (`/>` or `>`), so nothing before it on the line moves.
        let end = if mjml[..tag.end].ends_with("/>") {
            tag.end - 2
        } else {
            tag.end - 1
        };
        inserts.push((
            end,
            end,
            format!(" padding-left=\"{left}\" padding-right=\"{right}\""),
        ));
    }
    splice(mjml, inserts)
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
    fn image_padding_is_spelt_out_per_side() {
        assert_eq!(
            image_padding_sides(
                "<mj-image src=\"a\" padding=\"0 25px\" /><mj-image padding=\"1px 2px 3px 4px\"></mj-image><mj-image padding=\"5px\" padding-left=\"0\" /><mj-text padding=\"9px\">"
            ),
            "<mj-image src=\"a\" padding=\"0 25px\"  padding-left=\"25px\" padding-right=\"25px\"/><mj-image padding=\"1px 2px 3px 4px\" padding-left=\"4px\" padding-right=\"2px\"></mj-image><mj-image padding=\"5px\" padding-left=\"0\" /><mj-text padding=\"9px\">"
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
    fn the_carousel_rule_matches_no_screen() {
        assert_eq!(
            carousel_media_query(
                "@media screen, yahoo { .mj-carousel-previous-icons { display:none !important; } }"
            ),
            "@media screen yahoo { .mj-carousel-previous-icons { display:none !important; } }"
        );
    }
}
