//! A project: a folder with `bulletin.toml`, found by walking up from where the user points,
//! the way cargo finds `Cargo.toml`.

use std::path::{Path, PathBuf};

use crate::config::{Config, resolve};
use crate::diagnostic::SourceError;

pub const CONFIG_FILE: &str = "bulletin.toml";

/// The project root and its configuration.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `bulletin.toml` (or, without one, the folder the search started from).
    pub root: PathBuf,
    /// The `bulletin.toml` read, if there was one.
    pub config_path: Option<PathBuf>,
    pub config: Config,
}

impl Project {
    /// Find the project that holds `start` (a file or folder): the nearest ancestor with a
    /// `bulletin.toml`. Without one, the defaults apply with `start`'s folder as the root.
    pub fn discover(start: &Path) -> Result<Project, SourceError> {
        let start = std::path::absolute(start)
            .map_err(|e| SourceError::file(start, format!("cannot resolve path: {e}")))?;
        let first = if start.is_dir() {
            start.clone()
        } else {
            start
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(start.clone())
        };
        let mut dir = Some(first.as_path());
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE);
            if candidate.is_file() {
                let config = Config::load(&candidate)?;
                return Ok(Project {
                    root: d.to_path_buf(),
                    config_path: Some(candidate),
                    config,
                });
            }
            dir = d.parent();
        }
        Ok(Project {
            root: first,
            config_path: None,
            config: Config::default(),
        })
    }

    /// A path from the configuration, made absolute against the root.
    pub fn path(&self, p: &Path) -> PathBuf {
        resolve(&self.root, p)
    }

    /// Folder of journals, the bounce log and the suppression list.
    pub fn state_dir(&self) -> PathBuf {
        self.path(&self.config.paths.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_config_above() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[sender]\nname = \"X\"\n").unwrap();
        let issue = dir.path().join("issues/2023-09");
        std::fs::create_dir_all(&issue).unwrap();
        let p = Project::discover(&issue).unwrap();
        assert_eq!(p.root, std::path::absolute(dir.path()).unwrap());
        assert_eq!(p.config.sender.name, "X");
    }

    #[test]
    fn no_config_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::discover(dir.path()).unwrap();
        assert!(p.config_path.is_none());
        assert_eq!(p.config, Config::default());
    }
}
