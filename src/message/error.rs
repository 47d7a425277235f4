//! What can go wrong while building messages.

use std::path::PathBuf;

/// An error of the message module. Configuration problems name the `bulletin.toml` key,
/// recipient problems the member's line in the list.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// A `bulletin.toml` value that cannot go into a message.
    #[error("bulletin.toml: {key}: {message}")]
    Config { key: &'static str, message: String },

    /// A member whose data cannot make a safe message (never sent, never half-written).
    #[error("list line {line}: {email:?}: {reason}")]
    Recipient {
        line: u64,
        email: String,
        reason: String,
    },

    /// An image the issue references could not be read.
    #[error("{}: cannot read image: {source}", path.display())]
    Image {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The token secret file could not be read or created.
    #[error("{}: token secret: {message}", path.display())]
    Secret { path: PathBuf, message: String },

    /// The DKIM key could not be read or used.
    #[error("{}: DKIM key: {message}", path.display())]
    DkimKey { path: PathBuf, message: String },

    /// Signing failed (should not happen with a key that loaded).
    #[error("DKIM signing failed: {0}")]
    DkimSign(String),

    /// The outbox folder or a file in it could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Outbox {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
