//! Delivery: SMTP connections, rate limit, retries, the journal and the bounce log.

pub mod bounce_log;
pub mod issue_record;
pub mod journal;
pub mod pool;
pub mod quota;
pub mod rate;
pub mod smtp;
pub mod target;

pub use pool::{Cancel, DeliverError, Event, Job, Outcome, PoolOptions, Throttle, deliver};
pub use target::{Secret, Security, SmtpTarget, TargetError};
