//! `bulletin archive [--out DIR]`: the public web archive of the project's issues.

use crate::archive;
use crate::cli::ArchiveArgs;
use crate::compose::shown;
use crate::project::Project;
use crate::run::exit;

pub fn run(args: ArchiveArgs) -> anyhow::Result<i32> {
    let start = args.project.clone().unwrap_or_else(|| ".".into());
    let project = Project::discover(&start)?;
    let built = archive::build(&project)?;
    let out = args
        .out
        .unwrap_or_else(|| shown(&project.path(&project.config.archive.out)));
    let written = built.site.write(&out)?;
    for d in &built.drafts {
        eprintln!("left out (draft): {}", shown(d).display());
    }
    if project.config.archive_base_url().is_none() {
        eprintln!(
            "warning: [archive] base_url is not set: the feed's links are relative, and emails get no \"View in your browser\" link"
        );
    }
    let n = built.pages.len();
    eprintln!(
        "{n} issue{}, {} files ({} changed, {} removed)",
        if n == 1 { "" } else { "s" },
        written.files,
        written.changed,
        written.removed
    );
    println!("{}", out.display());
    Ok(exit::OK)
}
