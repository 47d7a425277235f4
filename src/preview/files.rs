//! Which files the preview may serve: the project's own, and nothing above, beside or hidden.

use std::path::{Component, Path, PathBuf};

/// Resolve a URL path (already percent-decoded) to a file inside `root`, or `None`.
///
/// `root` must be canonical. The request may name only plain, non-hidden components (no `..`,
/// no absolute path, no `.git` or state folder); the file it names is canonicalized (so a
/// symlink is followed) and must still lie inside `root`.
pub fn resolve(root: &Path, request: &str) -> Option<PathBuf> {
    if request.is_empty() || request.contains('\0') || request.contains('\\') {
        return None;
    }
    let rel = Path::new(request);
    if !plain(rel) {
        return None;
    }
    let full = root.join(rel).canonicalize().ok()?;
    let inside = full.strip_prefix(root).ok()?;
    if !plain(inside) || !full.is_file() {
        return None;
    }
    Some(full)
}

/// Every component is a normal, non-hidden name.
fn plain(rel: &Path) -> bool {
    rel.components().all(|c| match c {
        Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

/// The content type for a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "css" => "text/css; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" | "toml" | "csv" | "hbs" | "mjml" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether a file name looks like an image (a change to it needs no recompile).
pub fn is_image(path: &Path) -> bool {
    content_type(path).starts_with("image/")
}

/// Percent-encode a relative path for a URL, keeping `/` between components.
pub fn url_path(rel: &Path) -> String {
    let mut out = String::new();
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in c.as_os_str().to_string_lossy().bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Percent-encode a query value.
pub fn query_value(s: &str) -> String {
    url_path(Path::new(s)).replace('/', "%2F")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("issue/img")).unwrap();
        std::fs::create_dir_all(root.join(".bulletin")).unwrap();
        std::fs::write(root.join("issue/img/a.png"), b"png").unwrap();
        std::fs::write(root.join(".bulletin/journal.jsonl"), b"{}").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn serves_files_inside_the_project() {
        let (_d, root) = project();
        assert_eq!(
            resolve(&root, "issue/img/a.png"),
            Some(root.join("issue/img/a.png"))
        );
    }

    #[test]
    fn refuses_parents_absolute_hidden_and_folders() {
        let (_d, root) = project();
        for bad in [
            "../secret.txt",
            "issue/../../secret.txt",
            "/etc/passwd",
            "//etc/passwd",
            ".bulletin/journal.jsonl",
            "issue",
            "issue/img/missing.png",
            "..\\secret.txt",
            "",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_that_lead_out() {
        let (d, root) = project();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), root.join("issue/leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(d.path(), root.join("issue/up")).unwrap();
        std::os::unix::fs::symlink(root.join("issue/img/a.png"), root.join("issue/ok.png"))
            .unwrap();
        assert_eq!(resolve(&root, "issue/leak.txt"), None);
        assert_eq!(resolve(&root, "issue/up/secret.txt"), None);
        assert_eq!(
            resolve(&root, "issue/ok.png"),
            Some(root.join("issue/img/a.png"))
        );
    }

    #[test]
    fn url_paths_are_encoded_per_component() {
        assert_eq!(
            url_path(Path::new("examples/2023 09/né.png")),
            "examples/2023%2009/n%C3%A9.png"
        );
        assert_eq!(query_value("a+b@x.org"), "a%2Bb%40x.org");
    }
}
