//! What can go wrong while composing an issue.

use std::path::{Path, PathBuf};

use crate::diagnostic::SourceError;

/// A compose failure. Every variant a user can cause names the file, and the line and column
/// where there is one, with the offending line shown.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A problem in a file the user wrote: `issue.toml`, a template, a partial, the MJML.
    #[error("{0}")]
    Source(Box<SourceError>),
    /// A template names data that does not exist (a typo, or a list column the list lacks).
    #[error("{0}")]
    UnknownPlaceholder(Box<SourceError>),
    /// Personalising the issue for one recipient failed.
    #[error("cannot personalise the issue for {email}: {message}")]
    Recipient { email: String, message: String },
    /// A local image the issue needs is missing.
    #[error("{0}")]
    MissingImage(Box<SourceError>),
    /// The MJML breaks MJML's rules (unknown elements or attributes, wrong parents, bad
    /// values): every problem, each at its place.
    #[error("{}", shown_all(.0))]
    Invalid(Vec<SourceError>),
    /// The MJML parsed but could not be rendered.
    #[error("{path}: cannot render the MJML: {message}")]
    Render { path: PathBuf, message: String },
}

impl From<SourceError> for ComposeError {
    fn from(e: SourceError) -> Self {
        ComposeError::Source(Box::new(e))
    }
}

impl ComposeError {
    /// Is this an unknown placeholder (which `bulletin check` reports as a finding)?
    pub fn is_unknown_placeholder(&self) -> bool {
        matches!(self, ComposeError::UnknownPlaceholder(_))
    }
}

fn shown_all(errors: &[SourceError]) -> String {
    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let mut text = all.join("\nerror: ");
    if errors.len() > 1 {
        text.push_str(&format!(
            "\n{} MJML errors: nothing was built (`[compose] validation = \"soft\"` in bulletin.toml builds anyway)",
            errors.len()
        ));
    }
    text
}

/// A path as the user would like to read it: relative to the current folder when inside it.
pub fn shown(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => match path.strip_prefix(&cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
            _ => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}
