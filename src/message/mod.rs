//! One email per recipient: headers, MIME parts, inline images, DKIM.
//!
//! [`MessageFactory::new`] prepares once per issue everything that is the same for every
//! member; [`MessageFactory::build`] makes one member's message:
//!
//! ```text
//! multipart/related                  (only when images are embedded)
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8  quoted-printable
//! │   └── text/html; charset=utf-8   quoted-printable, local images → cid:
//! └── image/* …                      base64, Content-ID, inline
//! ```
//!
//! Choices, for deliverability:
//! - Text and HTML are quoted-printable: mostly-ASCII text stays readable to filters and
//!   people, lines stay under 76 characters, the message is 7-bit clean. Base64 text parts
//!   are a mild spam signal.
//! - Headers: From, To (names quoted or RFC 2047 encoded), Subject, Date, Message-ID on the
//!   sender's domain (derived from the issue and member, so a message sent again after an
//!   interrupted run keeps its Message-ID and receivers can drop the copy; random for test
//!   sends), Reply-To, List-Id, List-Unsubscribe (https with the member's token when configured,
//!   and always a mailto), List-Unsubscribe-Post only with an https URL (RFC 8058).
//! - `Precedence: bulk` and `X-Auto-Response-Suppress: OOF, AutoReply`: vacation responders
//!   honour them (RFC 3834 §2, Exchange), so out-of-office replies do not flood the bounce and
//!   reply addresses. No `Auto-Submitted`: that marks automatic replies, which this is not.
//! - `X-Bulletin-Issue` and `X-Bulletin-Member` (the member's token, never the address) let a
//!   bounce that quotes the headers be traced back to the issue and member.
//! - MAIL FROM is the bounce address, or `local+TOKEN@domain` with `[sender] verp`.
//! - List fields can never add a header: addresses are checked (an unsafe one is an error
//!   naming the member's line), names and subjects lose control characters and are encoded.

mod compose_types;
pub mod dkim;
pub mod encode;
mod error;
mod factory;
mod outbox;
mod outgoing;
pub mod tokens;

pub use compose_types::{LocalImage, Rendered};
pub use dkim::DkimSigner;
pub use error::MessageError;
pub use factory::MessageFactory;
pub use outbox::Outbox;
pub use outgoing::Outgoing;
pub use tokens::Tokens;

#[cfg(test)]
mod tests;
