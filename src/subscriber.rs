//! One member of a list, as every stage sees them.

use std::collections::BTreeMap;

/// A recipient: their address, display name and every column of their list row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscriber {
    /// The address, trimmed, as written in the list (case kept).
    pub email: String,
    /// The display name, when the list has one (a `name` column, or first + last name).
    pub name: Option<String>,
    /// Every column of the row, keyed by its header as written in the file.
    pub fields: BTreeMap<String, String>,
    /// The 1-based line of the row in its list file (0 for a made-up recipient).
    pub line: u64,
}

impl Subscriber {
    /// A recipient made up from an address alone (test sends, previews).
    pub fn from_email(email: &str) -> Self {
        Subscriber {
            email: email.trim().to_string(),
            name: None,
            fields: BTreeMap::new(),
            line: 0,
        }
    }

    /// The address normalised for comparisons: trimmed and lower-cased.
    pub fn key(&self) -> String {
        normalise_address(&self.email)
    }
}

/// Trim and lower-case an address so duplicates compare equal.
pub fn normalise_address(email: &str) -> String {
    email.trim().to_lowercase()
}
