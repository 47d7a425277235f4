//! Unsubscribes: who a token names, recording a member's wish durably, and bringing the
//! wishes recorded by `bulletin serve` to the machine that sends.
//!
//! Every unsubscribe ends in the project's suppression list (`suppressed.csv`, source
//! `unsubscribe`); undoing one appends a `resubscribe` line (see [`crate::list::Suppression`]).

pub mod directory;
pub mod feed;
pub mod mailto;
pub mod recorder;
pub mod sync;

pub use directory::{Directory, Member};
pub use recorder::{Action, Recorder};

/// The address as a member may see it on a page that anyone holding the link can open:
/// `a***@example.org` (first character of the local part, the domain as it is).
pub fn mask(email: &str) -> String {
    let email = email.trim();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return "***".into();
    };
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_one_letter_and_the_domain() {
        assert_eq!(super::mask("ann.lee@example.org"), "a***@example.org");
        assert_eq!(super::mask(" Ö@x.org"), "Ö***@x.org");
        assert_eq!(super::mask("nobody"), "***");
    }
}
