//! Reports over the project's memory: what became of the members an issue was sent to.

pub mod issue_status;

pub use issue_status::{Fate, IssueStatus, ListStatus, MemberStatus};
