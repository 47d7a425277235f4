//! Which issues the archive holds: every folder with an `issue.toml` directly inside the
//! folders of `[archive] issues`, in name order.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::content::ISSUE_FILE;
use crate::project::Project;

/// The issue folders, sorted by path.
pub fn issue_folders(project: &Project) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for folder in &project.config.archive.issues {
        let dir = project.path(folder);
        let entries = std::fs::read_dir(&dir).with_context(|| {
            format!(
                "cannot read the issues folder {} (bulletin.toml: [archive] issues names the folders that hold issue folders)",
                crate::compose::shown(&dir).display()
            )
        })?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", dir.display()))?
                .path();
            if path.join(ISSUE_FILE).is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
