//! A built archive in memory (site path → bytes), written to a folder or answered from by
//! `bulletin serve`.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use anyhow::Context as _;

/// The file in an archive folder that lists what `bulletin archive` wrote there, so a later
/// build removes its own files that are gone (an issue turned back into a draft) and nothing
/// else.
pub const MANIFEST: &str = ".bulletin-archive";

/// Every file of the site, by path (`index.html`, `2023-09-cluster-news/index.html`, …).
#[derive(Debug, Default, Clone)]
pub struct Site {
    files: BTreeMap<String, Vec<u8>>,
}

/// What [`Site::write`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub changed: usize,
    pub removed: usize,
}

impl Site {
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.files.insert(path, bytes);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file a request path names: `/` and `/x/` are `index.html` files.
    pub fn lookup(&self, request_path: &str) -> Option<(&str, &[u8])> {
        let path = request_path.trim_start_matches('/');
        let path = if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        };
        self.files
            .get_key_value(&path)
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Write the site into `dir`: files whose bytes are unchanged are left alone, and the
    /// files of the previous build that are no longer part of the site are removed.
    pub fn write(&self, dir: &Path) -> anyhow::Result<Written> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the archive folder {}", dir.display()))?;
        let manifest = dir.join(MANIFEST);
        let before = std::fs::read_to_string(&manifest).unwrap_or_default();
        let mut done = Written {
            files: self.files.len(),
            ..Written::default()
        };
        for old in before.lines().filter(|l| !self.files.contains_key(*l)) {
            let safe = Path::new(old)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
            let path = dir.join(old);
            if safe && path.is_file() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                done.removed += 1;
                if let Some(parent) = path.parent()
                    && parent != dir
                {
                    let _ = std::fs::remove_dir(parent); // only when empty
                }
            }
        }
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            if std::fs::read(&path).is_ok_and(|b| b == *bytes) {
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            done.changed += 1;
        }
        let list: String = self.files.keys().map(|k| format!("{k}\n")).collect();
        if before != list {
            std::fs::write(&manifest, list)
                .with_context(|| format!("cannot write {}", manifest.display()))?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_find_index_pages() {
        let mut s = Site::default();
        s.insert("index.html".into(), b"i".to_vec());
        s.insert("a/index.html".into(), b"a".to_vec());
        assert_eq!(s.lookup("/").map(|f| f.1), Some(&b"i"[..]));
        assert_eq!(s.lookup("/a/").map(|f| f.1), Some(&b"a"[..]));
        assert_eq!(s.lookup("/a/index.html").map(|f| f.0), Some("a/index.html"));
        assert!(s.lookup("/a").is_none());
        assert!(s.lookup("/../etc/passwd").is_none());
    }

    #[test]
    fn a_rebuild_removes_its_own_stale_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CNAME"), "news.example.org").unwrap();
        let mut s = Site::default();
        s.insert("index.html".into(), b"1".to_vec());
        s.insert("old/index.html".into(), b"2".to_vec());
        assert_eq!(s.write(dir.path()).unwrap().changed, 2);
        let mut t = Site::default();
        t.insert("index.html".into(), b"1".to_vec());
        let w = t.write(dir.path()).unwrap();
        assert_eq!((w.changed, w.removed), (0, 1));
        assert!(!dir.path().join("old").exists());
        assert!(dir.path().join("CNAME").exists());
    }
}
