//! `bulletin man [--out DIR]`: the man pages, made from the same definitions as `--help`.

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::{Cli, ManArgs};
use crate::run::exit;

pub fn run(args: ManArgs) -> anyhow::Result<i32> {
    let command = Cli::command();
    let Some(dir) = args.out else {
        clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .context("cannot write the man page")?;
        return Ok(exit::OK);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(command, &dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.starts_with("bulletin") && n.ends_with(".1"))
        })
        .collect();
    pages.sort();
    for page in pages {
        println!("{}", page.display());
    }
    Ok(exit::OK)
}
