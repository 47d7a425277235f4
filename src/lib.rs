//! bulletin: compose and send email newsletters.
//!
//! Data flows one way through the modules:
//!
//! ```text
//! issue folder ──▶ content ──▶ compose ──▶ message ──▶ deliver ──▶ journal / bounce log
//! lists/*.csv  ──▶ list ─────────────────────────────────┘
//! ```
//!
//! A stage never imports from a later one.

pub mod archive;
pub mod bounce;
pub mod campaign;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod compose;
pub mod config;
pub mod content;
pub mod deliver;
pub mod deliverability;
pub mod diagnostic;
pub mod list;
#[cfg(test)]
mod memory_probe;
pub mod message;
pub mod preview;
pub mod project;
pub mod report;
pub mod run;
pub mod serve;
pub mod server_url;
pub mod subscriber;
pub mod tls;
pub mod unsubscribe;
