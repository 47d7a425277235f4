//! Delivery: SMTP connections, rate limit, retries, the journal and the bounce log.

pub mod bounce_log;
pub mod journal;
pub mod rate;
