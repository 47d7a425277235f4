//! An issue's content: `issue.toml` as typed data, with Markdown inside text fields.

mod issue;
pub mod markdown;
pub mod scaffold;

pub use issue::{Cta, ISSUE_FILE, Image, Issue, Section, SignOff, Spotlight};
