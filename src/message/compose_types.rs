//! The two compose types this module consumes, declared here until `crate::compose` provides
//! them; then this file goes and the imports point at `crate::compose`.

use std::path::PathBuf;

/// One recipient's rendered issue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
}

/// A local image the HTML references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// Exactly as it appears in `src="…"`.
    pub src: String,
    pub path: PathBuf,
    pub content_type: String,
}
