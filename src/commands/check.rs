//! `bulletin check ISSUE [--json]`: lint an issue (`--dns`: the sender's DNS). Exit code 3 when
//! there are errors.

use crate::cli::CheckArgs;
use crate::compose;
use crate::project::Project;
use crate::run::exit;

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    if args.dns {
        return super::check_dns::run(&args);
    }
    let issue = args.issue.clone().unwrap_or_default();
    let project = Project::discover(&issue)?;
    let lint = compose::lint(&project, &issue, args.template.as_deref())?;
    if args.json {
        for f in &lint.findings {
            println!("{}", serde_json::to_string(f)?);
        }
    } else {
        eprint!("{}", lint.report());
    }
    eprintln!("{}", lint.summary(&issue));
    Ok(if lint.errors() > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    })
}
