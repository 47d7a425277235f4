//! `issue.toml`: one bulletin issue as typed data.
//!
//! The model is generic: a subject, a title, an editor's note, sections with optional images and
//! buttons, an optional spotlight and a sign-off. Text fields marked "Markdown" are rendered with
//! [`super::markdown`]. Unknown keys are errors, so a typo points at its line instead of silently
//! dropping content.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Direction, Language, toml_error};
use crate::diagnostic::{SourceError, read_text};

use super::Published;

/// The file name of an issue's content inside its folder.
pub const ISSUE_FILE: &str = "issue.toml";

/// The whole of `issue.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Issue {
    /// The Subject line of the email.
    pub subject: String,
    /// The preview text mail clients show after the subject.
    #[serde(default)]
    pub preheader: String,
    /// The title shown at the top of the bulletin.
    pub title: String,
    /// A date or period shown with the title, e.g. "September 2023".
    #[serde(default)]
    pub date: Option<String>,
    /// The day the issue came out (`published = 2023-09-28`): the archive's order and the
    /// feed's dates. Without it the archive reads `date` when that is a date.
    #[serde(default)]
    pub published: Option<Published>,
    /// A draft is left out of the archive.
    #[serde(default)]
    pub draft: bool,
    /// The issue number, shown with the title when set.
    #[serde(default)]
    pub number: Option<u32>,
    /// The issue's language (BCP 47, e.g. `en-GB`); default: `[sender] language`.
    #[serde(default)]
    pub language: Option<Language>,
    /// The issue's writing direction (`ltr`, `rtl`, `auto`); default: `[sender] direction`.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// The MJML template of this issue, relative to the issue folder (default: the project's).
    #[serde(default)]
    pub template: Option<PathBuf>,
    /// The banner image at the very top.
    #[serde(default)]
    pub banner: Option<Image>,
    /// A note from the editor before the sections (Markdown).
    #[serde(default)]
    pub editor_note: Option<String>,
    /// The articles, in order.
    #[serde(default)]
    pub sections: Vec<Section>,
    /// A featured member or project after the sections.
    #[serde(default)]
    pub spotlight: Option<Spotlight>,
    /// The closing words and signature.
    #[serde(default)]
    pub sign_off: Option<SignOff>,
    /// A hand-written plain-text part, used instead of the one read from the HTML. A template
    /// like the others: `{{issue.title}}`, `{{subscriber.name}}`, `{{unsubscribe_url}}`.
    #[serde(default)]
    pub text: Option<String>,
}

/// An image file of the issue folder (or an `https://` URL).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Path relative to the issue folder, or an absolute `https://` URL.
    pub src: String,
    /// Text read out by screen readers and shown when images are off. `bulletin check` warns
    /// when it is missing.
    #[serde(default)]
    pub alt: Option<String>,
    /// Where a click on the image leads.
    #[serde(default)]
    pub href: Option<String>,
    /// Display width in pixels (default: the column's width).
    #[serde(default)]
    pub width: Option<u32>,
}

/// A call-to-action button.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cta {
    /// The button's text.
    pub label: String,
    /// Where it leads (`https://` or `mailto:`).
    pub url: String,
}

/// One article.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Section {
    #[serde(default)]
    pub heading: Option<String>,
    /// The article's text (Markdown).
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub image: Option<Image>,
    #[serde(default)]
    pub cta: Option<Cta>,
}

/// A featured member, product or project.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spotlight {
    /// The small line above the heading.
    #[serde(default = "default_kicker")]
    pub kicker: String,
    pub heading: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub image: Option<Image>,
    #[serde(default)]
    pub cta: Option<Cta>,
}

fn default_kicker() -> String {
    "Spotlight on".into()
}

/// The closing words, who signs, and how to reach them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    /// Closing words (Markdown).
    #[serde(default)]
    pub body: String,
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    /// A picture of the handwritten signature.
    #[serde(default)]
    pub signature: Option<Image>,
    /// An email address or a URL, shown as a link.
    #[serde(default)]
    pub contact: Option<String>,
}

impl Issue {
    /// Parse `issue.toml` text; errors point at the line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Issue, SourceError> {
        toml::from_str(text).map_err(|e| toml_error(path, text, &e))
    }

    /// Read `issue.toml` (BOM and CRLF tolerated).
    pub fn load(path: &Path) -> Result<Issue, SourceError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// When the issue came out: `published`, else `date` when it reads as one.
    pub fn publication_date(&self) -> Option<Published> {
        self.published
            .or_else(|| self.date.as_deref().and_then(Published::from_text))
    }

    /// Every image the content names, in reading order.
    pub fn images(&self) -> Vec<&Image> {
        let mut out: Vec<&Image> = Vec::new();
        out.extend(self.banner.as_ref());
        for s in &self.sections {
            out.extend(s.image.as_ref());
        }
        if let Some(s) = &self.spotlight {
            out.extend(s.image.as_ref());
        }
        if let Some(s) = &self.sign_off {
            out.extend(s.signature.as_ref());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_issue_parses() {
        let i = Issue::parse(Path::new("issue.toml"), "subject = \"S\"\ntitle = \"T\"\n").unwrap();
        assert_eq!(i.subject, "S");
        assert!(i.sections.is_empty());
        assert_eq!(i.preheader, "");
    }

    #[test]
    fn typo_is_an_error_at_its_line() {
        let text = "subject = \"S\"\ntitle = \"T\"\n\n[[sections]]\nheadng = \"H\"\n";
        let e = Issue::parse(Path::new("issue.toml"), text).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert_eq!(e.column, Some(1));
        assert!(
            e.message.contains("unknown field `headng`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn images_in_reading_order() {
        let text = r#"
subject = "S"
title = "T"
banner = { src = "b.png", alt = "B" }
[[sections]]
image = { src = "s.png" }
[spotlight]
heading = "X"
image = { src = "x.png" }
[sign_off]
name = "N"
signature = { src = "sig.png", alt = "signature" }
"#;
        let i = Issue::parse(Path::new("issue.toml"), text).unwrap();
        let srcs: Vec<_> = i.images().iter().map(|im| im.src.as_str()).collect();
        assert_eq!(srcs, ["b.png", "s.png", "x.png", "sig.png"]);
        assert_eq!(i.spotlight.unwrap().kicker, "Spotlight on");
    }

    #[test]
    fn published_is_a_toml_date_or_a_date_string() {
        let one = |t: &str| {
            Issue::parse(
                Path::new("issue.toml"),
                &format!("subject = \"S\"\ntitle = \"T\"\n{t}\n"),
            )
        };
        let i = one("published = 2023-09-28\ndraft = true").unwrap();
        assert_eq!(i.published.unwrap().to_string(), "2023-09-28");
        assert!(i.draft);
        let i = one("published = \"2023-09-28\"").unwrap();
        assert_eq!(i.publication_date().unwrap().to_string(), "2023-09-28");
        let i = one("date = \"September 2023\"").unwrap();
        assert_eq!(i.publication_date().unwrap().to_string(), "2023-09-01");
        let e = one("published = 2023-09-31").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = one("published = \"28/09/2023\"").unwrap_err();
        assert!(e.message.contains("not a date"), "{}", e.message);
        let e = one("published = 2023-09-28T10:00:00Z").unwrap_err();
        assert!(e.message.contains("without a time"), "{}", e.message);
    }
}
