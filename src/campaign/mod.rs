//! A send: who gets the issue (selection), the preflight report, and the run that delivers it
//! with the journal, the bounce log and a progress bar.

pub mod bulk;
pub mod preflight;
pub mod retry_notice;
pub mod run;
pub mod schedule;
pub mod selection;
pub mod test_send;
