//! `bulletin check ISSUE [--json]`: lint an issue. Exit code 3 when there are errors.

use crate::cli::CheckArgs;
use crate::compose;
use crate::project::Project;
use crate::run::exit;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let project = Project::discover(&args.issue.issue)?;
    let lint = compose::lint(&project, &args.issue.issue, args.issue.template.as_deref())?;
    if args.json {
        for f in &lint.findings {
            println!("{}", serde_json::to_string(f)?);
        }
    } else {
        eprint!("{}", lint.report());
    }
    eprintln!("{}", lint.summary(&args.issue.issue));
    Ok(if lint.errors() > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}
