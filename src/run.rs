//! The one place that turns a command's outcome into text on stderr and an exit code.

use std::ffi::OsString;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands;

/// Exit codes, documented in the README.
pub mod exit {
    /// Everything asked for was done.
    pub const OK: i32 = 0;
    /// An error: nothing (more) was done.
    pub const ERROR: i32 = 1;
    /// The command line was wrong.
    pub const USAGE: i32 = 2;
    /// A send ran, but some recipients were refused or deferred; `bulletin check` found errors.
    pub const PARTIAL: i32 = 3;
    /// Interrupted (Ctrl-C); the journal is saved and the same command resumes.
    pub const INTERRUPTED: i32 = 130;
}

/// Parse arguments, run the command, print any error, return the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Init(a) => commands::init::run(a),
        Command::Build(a) => commands::build::run(a),
        Command::Check(a) => commands::check::run(a),
        Command::Preview(a) => commands::preview::run(a),
        Command::Send(a) => commands::send::run(a),
        Command::Bounces(a) => commands::bounces::run(a),
        Command::Status(a) => commands::status::run(a),
        Command::New(a) => commands::new::run(a),
        Command::Completions(a) => commands::completions::run(a),
        Command::Man(a) => commands::man::run(a),
        Command::Serve(a) => commands::serve::run(a),
        Command::Archive(a) => commands::archive::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            exit::ERROR
        }
    }
}

/// Print an error as a headline plus one `caused by:` line per cause.
pub fn report(e: &anyhow::Error) {
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
