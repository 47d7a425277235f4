//! Starting a new issue from an earlier one: its `issue.toml` and its images copied into a new
//! folder, ready to edit.

use std::io;
use std::path::{Path, PathBuf};

use super::ISSUE_FILE;

/// Folders inside an issue that hold what bulletin made, not what the editor wrote.
const MADE: [&str; 2] = ["out", "outbox"];

/// The issue to start from when none is named: among the issue folders beside `new` (folders
/// holding `issue.toml`), the last by name, so `2023-10-…` follows `2023-09-…`.
pub fn latest_beside(new: &Path) -> io::Result<Option<PathBuf>> {
    let parent = match new.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries = match std::fs::read_dir(&parent) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let new_name = new.file_name();
    let mut issues = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.join(ISSUE_FILE).is_file() && path.file_name() != new_name {
            issues.push(path);
        }
    }
    Ok(issues
        .into_iter()
        .max_by(|a, b| a.file_name().cmp(&b.file_name())))
}

/// Copy the issue in `from` into `to` (which must not exist or be empty): `issue.toml` and
/// every other file the editor put there (images), leaving out hidden files and the folders
/// bulletin writes. Returns the files written.
pub fn copy_issue(from: &Path, to: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    copy_dir(from, to, &mut written)?;
    written.sort();
    Ok(written)
}

/// The `issue.toml` of a new issue started from an earlier one: the earlier issue's
/// `published` and `draft` lines dropped, and `draft = true` at the top, so the new issue stays
/// out of the web archive until it goes out.
pub fn unpublished(text: &str) -> String {
    let key = |line: &str, name: &str| {
        line.trim_start()
            .strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !key(l, "published") && !key(l, "draft"))
        .collect();
    // after the opening comments, where a key is always at the top level
    let at = lines
        .iter()
        .position(|l| !(l.trim().is_empty() || l.trim_start().starts_with('#')))
        .unwrap_or(lines.len());
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.push("# Out of the web archive until it goes out: then replace this line with");
    out.push("# published = YYYY-MM-DD (the day it went out).");
    out.push("draft = true");
    out.extend_from_slice(&lines[at..]);
    let mut out = out.join("\n");
    out.push('\n');
    out
}

fn copy_dir(from: &Path, to: &Path, written: &mut Vec<PathBuf>) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let (src, dest) = (entry.path(), to.join(&name));
        if kind.is_dir() {
            if !MADE.contains(&text.as_ref()) {
                copy_dir(&src, &dest, written)?;
            }
        } else if kind.is_file() {
            std::fs::copy(&src, &dest)?;
            written.push(dest);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(dir: &Path, subject: &str) {
        std::fs::create_dir_all(dir.join("images")).unwrap();
        std::fs::write(dir.join(ISSUE_FILE), format!("subject = \"{subject}\"\n")).unwrap();
        std::fs::write(dir.join("images/logo.png"), b"png").unwrap();
    }

    #[test]
    fn a_new_issue_is_a_draft_without_the_old_date() {
        let old = "# Cluster News\n\nsubject = \"S\"\npublished = 2023-09-28\ndraft = false\neditor_note = \"\"\"\n[a link](https://x)\n\"\"\"\n";
        assert_eq!(
            unpublished(old),
            "# Cluster News\n\n# Out of the web archive until it goes out: then replace this line with\n# published = YYYY-MM-DD (the day it went out).\ndraft = true\nsubject = \"S\"\neditor_note = \"\"\"\n[a link](https://x)\n\"\"\"\n"
        );
        let new = unpublished(old);
        let issue = crate::content::Issue::parse(Path::new("issue.toml"), &new).unwrap_err();
        assert!(
            issue.message.contains("title"),
            "only the title is missing: {issue}"
        );
    }

    #[test]
    fn the_latest_issue_beside_is_the_last_by_name() {
        let t = tempfile::tempdir().unwrap();
        issue(&t.path().join("2023-09-news"), "Sep");
        issue(&t.path().join("2023-10-news"), "Oct");
        std::fs::create_dir_all(t.path().join("zz-not-an-issue")).unwrap();
        let found = latest_beside(&t.path().join("2023-11-news")).unwrap();
        assert_eq!(found, Some(t.path().join("2023-10-news")));
        assert_eq!(latest_beside(&t.path().join("none/new")).unwrap(), None);
    }

    #[test]
    fn copies_content_and_images_but_not_what_bulletin_made() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("2023-09");
        issue(&from, "Sep");
        std::fs::create_dir_all(from.join("out")).unwrap();
        std::fs::write(from.join("out/x.html"), "made").unwrap();
        std::fs::write(from.join(".DS_Store"), "x").unwrap();
        let to = t.path().join("2023-10");
        let written = copy_issue(&from, &to).unwrap();
        assert_eq!(
            written,
            vec![to.join("images/logo.png"), to.join(ISSUE_FILE)]
        );
        assert_eq!(
            std::fs::read_to_string(to.join(ISSUE_FILE)).unwrap(),
            "subject = \"Sep\"\n"
        );
    }
}
