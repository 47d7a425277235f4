//! Member lists: CSV as people export them, cleaned into valid, unique, subscribed recipients.
//!
//! ```text
//! OptOuts::scan(lists) ──▶ who any row marks as not to be mailed; unclear consent stops here
//!        │
//! open_with(path) ──▶ ListReader ──Entry──▶ Cleaner::verdict ──▶ Verdict::Send(Subscriber)
//!                     (streaming)                                 Verdict::Skip { reason }
//! ```

pub mod address;
pub mod cleaner;
pub mod consent;
pub mod csv_escape;
mod decode;
pub mod filter;
pub mod keymap;
pub mod opt_outs;
mod quotes;
pub mod reader;
pub mod shard;
pub mod suppression;

pub use address::AddressKey;
pub use cleaner::{Cleaner, SkipReason, Verdict};
pub use consent::{Leave, Rules};
pub use csv_escape::escape_field;
pub use filter::{Filter, FilterError};
pub use keymap::KeyMap;
pub use opt_outs::{ConsentError, OptOuts};
pub use reader::{Entry, ListReader, from_bytes, open, open_with};
pub use shard::{Shard, in_shard};
pub use suppression::Suppression;

/// The current time as RFC 3339 in UTC, e.g. `2026-11-26T13:05:00.123Z`.
pub(crate) fn now_rfc3339() -> String {
    crate::clock::now_rfc3339()
}
