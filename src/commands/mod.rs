//! One module per subcommand: glue between options, the library and the terminal.

pub mod archive;
pub mod bounces;
pub mod build;
pub mod check;
pub mod check_dns;
pub mod completions;
pub mod init;
pub mod man;
pub mod new;
pub mod preview;
pub mod send;
pub mod serve;
pub mod status;
