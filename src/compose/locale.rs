//! The language and writing direction, written into the MJML root (`<mjml lang dir>`).
//!
//! For a right-to-left issue, the layout components get `direction="rtl"` and text is aligned
//! right by default: mrml (like mjml) otherwise writes `direction:ltr` on every section and
//! column, which undoes the document's `dir` and lays columns out left to right. The defaults
//! come first in `<mj-head>`, so a template's own `<mj-attributes>` and attributes still win.

use crate::compose::markup;
use crate::config::{Direction, Language};

/// The defaults of a right-to-left issue.
const RTL_DEFAULTS: &str = "<mj-attributes><mj-section direction=\"rtl\" /><mj-wrapper direction=\"rtl\" /><mj-group direction=\"rtl\" /><mj-column direction=\"rtl\" /><mj-text align=\"right\" /><mj-table align=\"right\" /></mj-attributes>";

/// `mjml` with `lang` and `dir` set on its root (replacing the template's) and, when
/// right-to-left, the layout defaults above. Unchanged when neither is given or there is no
/// `<mjml>` root.
pub fn apply(mjml: &str, language: Option<&Language>, direction: Option<Direction>) -> String {
    if language.is_none() && direction.is_none() {
        return mjml.to_string();
    }
    let Some(root) = markup::tags(mjml).into_iter().find(|t| t.name == "mjml") else {
        return mjml.to_string();
    };
    let mut tag = String::from("<mjml");
    for &(name, value) in &root.attrs {
        let replaced =
            (name == "lang" && language.is_some()) || (name == "dir" && direction.is_some());
        if !replaced {
            tag.push_str(&format!(" {name}=\"{}\"", value.replace('"', "&quot;")));
        }
    }
    if let Some(l) = language {
        tag.push_str(&format!(" lang=\"{}\"", l.as_str()));
    }
    if let Some(d) = direction {
        tag.push_str(&format!(" dir=\"{}\"", d.as_str()));
    }
    tag.push_str(if root.self_closing { " />" } else { ">" });
    let mut out = String::with_capacity(mjml.len() + RTL_DEFAULTS.len() + 64);
    out.push_str(&mjml[..root.start]);
    out.push_str(&tag);
    let rest = &mjml[root.end..];
    if direction != Some(Direction::Rtl) {
        out.push_str(rest);
        return out;
    }
    match markup::tags(rest).into_iter().find(|t| t.name == "mj-head") {
        Some(head) if !head.self_closing => {
            out.push_str(&rest[..head.end]);
            out.push_str(RTL_DEFAULTS);
            out.push_str(&rest[head.end..]);
        }
        _ => {
            out.push_str("<mj-head>");
            out.push_str(RTL_DEFAULTS);
            out.push_str("</mj-head>");
            out.push_str(rest);
        }
    }
    out
}

/// The compiled HTML of a right-to-left issue: columns are aligned right, not left (mrml,
/// like mjml, writes `text-align:left` on every column whatever its direction).
pub fn rtl_html(html: &str, direction: Option<Direction>) -> String {
    if direction != Some(Direction::Rtl) {
        return html.to_string();
    }
    html.replace(
        "text-align:left;direction:rtl;",
        "text-align:right;direction:rtl;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_attributes_replaced_and_rtl_defaults_first_in_the_head() {
        let lang: Language = "ar".parse().unwrap();
        let out = apply(
            "<mjml lang=\"en\" owa=\"desktop\">\n<mj-head><mj-title>t</mj-title></mj-head><mj-body></mj-body></mjml>",
            Some(&lang),
            Some(Direction::Rtl),
        );
        assert_eq!(
            out,
            format!(
                "<mjml owa=\"desktop\" lang=\"ar\" dir=\"rtl\">\n<mj-head>{RTL_DEFAULTS}<mj-title>t</mj-title></mj-head><mj-body></mj-body></mjml>"
            )
        );
        let out = apply(
            "<mjml><mj-body></mj-body></mjml>",
            None,
            Some(Direction::Rtl),
        );
        assert_eq!(
            out,
            format!(
                "<mjml dir=\"rtl\"><mj-head>{RTL_DEFAULTS}</mj-head><mj-body></mj-body></mjml>"
            )
        );
        let en: Language = "en-GB".parse().unwrap();
        assert_eq!(
            apply("<mjml dir=\"ltr\"><mj-body /></mjml>", Some(&en), None),
            "<mjml dir=\"ltr\" lang=\"en-GB\"><mj-body /></mjml>"
        );
        assert_eq!(apply("<mjml></mjml>", None, None), "<mjml></mjml>");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "en-GB", "zh-Hant-TW", "ar", "x-klingon", "es-419"] {
            assert!(ok.parse::<Language>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "e",
            "en_GB",
            "en-",
            "English",
            "english language",
            "en-GB\"",
        ] {
            assert!(bad.parse::<Language>().is_err(), "{bad}");
        }
    }
}
