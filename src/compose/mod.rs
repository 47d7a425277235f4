//! Templates: handlebars → MJML → mrml → HTML, plus the plain-text part; compiled once per
//! issue, personalised per recipient.
//!
//! A template is rendered in two passes. The first fills the content (`issue`, `sender`) and
//! yields MJML, compiled once by mrml into HTML and a plain-text letter. The second fills the
//! recipient (`subscriber`, `unsubscribe_url`) into that compiled output, once per recipient:
//! no MJML is compiled per recipient. Content never becomes template code (its braces are
//! guarded) and is HTML-escaped.

mod body;
mod check;
mod compiled;
mod error;
mod guard;
mod image_box;
mod lint;
mod locale;
mod locate;
pub mod markup;
mod mjml_rules;
mod personalise;
mod preheader;
mod protect;
mod readability;
mod sourcemap;
mod text;
pub mod theme;
mod validate;
mod view;
mod workarounds;

pub use body::{Body, Piece, SharedText};
pub use check::{Finding, Severity, check};
pub use compiled::{
    CompiledIssue, Edition, LocalImage, Recipient, Rendered, compile, compile_edition, content_type,
};
pub use error::{ComposeError, shown};
pub use lint::{Lint, lint};
