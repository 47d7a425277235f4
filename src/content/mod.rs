//! An issue's content: `issue.toml` as typed data, with Markdown inside text fields.

mod issue;
pub mod markdown;
mod published;
pub mod scaffold;
mod slug;

pub use issue::{Cta, ISSUE_FILE, Image, Issue, Section, SignOff, Spotlight};
pub use published::Published;
pub use slug::slug;
