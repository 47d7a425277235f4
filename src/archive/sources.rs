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

/// A summary of everything the archive is built from (the issue folders and their files, the
/// templates and partials, `bulletin.toml`): paths, sizes and modification times. It changes
/// when any of them does.
pub fn fingerprint(project: &Project) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut stat = |path: &std::path::Path| {
        if let Ok(m) = std::fs::metadata(path) {
            path.hash(&mut h);
            m.len().hash(&mut h);
            m.modified().ok().hash(&mut h);
        }
    };
    let mut dirs: Vec<PathBuf> = issue_folders(project).unwrap_or_default();
    let paths = &project.config.paths;
    dirs.push(project.path(&paths.partials));
    for folder in &project.config.archive.issues {
        stat(&project.path(folder));
    }
    stat(&project.path(&paths.template));
    if let Some(config) = &project.config_path {
        stat(config);
    }
    let mut files = Vec::new();
    for dir in dirs {
        walk(&dir, 4, &mut files);
    }
    files.sort();
    for f in files {
        stat(&f);
    }
    h.finish()
}

/// `dir` and what it holds, `depth` folders deep (an issue's images may sit in a folder).
fn walk(dir: &std::path::Path, depth: usize, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            if depth > 0 {
                walk(&path, depth - 1, out);
            }
        } else {
            out.push(path);
        }
    }
}
