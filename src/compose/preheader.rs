//! The hidden preheader: the preview text inbox lists show after the subject.
//!
//! mrml (like mjml) hides it as white text (`color:#ffffff`), which on a light page is text the
//! colour of its background: spam filters score that (SpamAssassin's HTML_FONT_LOW_CONTRAST).
//! It is hidden by `display:none`, `opacity:0` and a zero size already; the colour is dropped.

/// The preheader's opening tag as mrml writes it.
const MRML_OPEN: &str = r#"<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;">"#;

/// The preheader's opening tag as bulletin writes it.
pub const OPEN: &str = r#"<div style="display:none;font-size:1px;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;mso-hide:all;">"#;

/// The compiled HTML with the preheader hidden without a colour of its own.
pub fn restyle(html: &str) -> String {
    html.replacen(MRML_OPEN, OPEN, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preheader_loses_its_colour_and_nothing_else_changes() {
        let html =
            format!("<body>{MRML_OPEN}Preview</div><div style=\"color:#ffffff\">x</div></body>");
        assert_eq!(
            restyle(&html),
            format!("<body>{OPEN}Preview</div><div style=\"color:#ffffff\">x</div></body>")
        );
    }
}
