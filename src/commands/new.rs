//! `bulletin new DIR [--from ISSUE]`: a new issue started from the last one.

use anyhow::{Context as _, bail};

use crate::cli::NewArgs;
use crate::content::{ISSUE_FILE, scaffold};
use crate::run::exit;

pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    let dir = &args.dir;
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty: name a new folder for the issue",
                dir.display()
            );
        }
    }
    let from = match args.from {
        Some(from) => {
            if !from.join(ISSUE_FILE).is_file() {
                bail!(
                    "{}: no {ISSUE_FILE} there; --from names an issue folder",
                    from.display()
                );
            }
            Some(from)
        }
        None => scaffold::latest_beside(dir)
            .with_context(|| format!("cannot look for issues beside {}", dir.display()))?,
    };
    let written = match &from {
        Some(from) => {
            let written = scaffold::copy_issue(from, dir).with_context(|| {
                format!("cannot copy {} into {}", from.display(), dir.display())
            })?;
            let file = dir.join(ISSUE_FILE);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            std::fs::write(&file, scaffold::unpublished(&text))
                .with_context(|| format!("cannot write {}", file.display()))?;
            written
        }
        None => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let file = dir.join(ISSUE_FILE);
            std::fs::write(&file, include_str!("../../templates/init/issue.toml"))
                .with_context(|| format!("cannot write {}", file.display()))?;
            vec![file]
        }
    };
    for path in &written {
        println!("{}", path.display());
    }
    match from {
        Some(from) => eprintln!(
            "started {} from {}: edit its {ISSUE_FILE} (subject, date, sections), then bulletin preview {}",
            dir.display(),
            from.display(),
            dir.display()
        ),
        None => eprintln!(
            "no earlier issue beside {}: started it from the starter issue; edit its {ISSUE_FILE}",
            dir.display()
        ),
    }
    Ok(exit::OK)
}
