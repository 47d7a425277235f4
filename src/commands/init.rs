//! `bulletin init DIR`: a working project (config, template, sample list, one issue) from the
//! files built into the binary.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::InitArgs;
use crate::compose::theme;
use crate::run::exit;

/// The files of a new project: path inside it, contents.
fn files() -> Vec<(PathBuf, &'static str)> {
    let mut out = vec![
        (
            PathBuf::from("bulletin.toml"),
            include_str!("../../templates/init/bulletin.toml"),
        ),
        (
            PathBuf::from(".gitignore"),
            include_str!("../../templates/init/gitignore"),
        ),
        (
            PathBuf::from("templates/bulletin.mjml.hbs"),
            theme::TEMPLATE,
        ),
        (
            PathBuf::from("lists/members.csv"),
            include_str!("../../templates/init/members.csv"),
        ),
        (
            PathBuf::from("issues/first/issue.toml"),
            include_str!("../../templates/init/issue.toml"),
        ),
    ];
    for (name, text) in theme::PARTIALS {
        out.push((
            PathBuf::from(format!("templates/partials/{name}.mjml.hbs")),
            text,
        ));
    }
    out
}

pub fn run(args: InitArgs) -> anyhow::Result<i32> {
    let dir = &args.dir;
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a folder", dir.display());
        }
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: `bulletin init` only creates a project in a new or empty folder",
                dir.display()
            );
        }
    }
    for (rel, text) in files() {
        let path = dir.join(&rel);
        write(&path, text)?;
        println!("{}", path.display());
    }
    let issue = dir.join("issues/first");
    eprintln!(
        "created a project in {}; next: bulletin build {}",
        dir.display(),
        issue.display()
    );
    Ok(exit::OK)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
