//! `bulletin serve`: one-click unsubscribes and the unsubscribe page.

use crate::cli::ServeArgs;
use crate::project::Project;
use crate::run::exit;
use crate::serve::{self, Options};

pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    let start = args.project.clone().unwrap_or_else(|| ".".into());
    let project = Project::discover(&start)?;
    serve::serve(
        project,
        Options {
            listen: args.listen,
            no_record: args.no_record,
        },
    )?;
    Ok(exit::OK)
}
