//! File events, sorted into the kinds of rebuild they need.
//!
//! The watcher follows the folders of every file the last build read (plus the project root
//! for `bulletin.toml`, the issue folder for its images and the member list), not the whole
//! project tree, and waits for a short quiet spell so one save is one rebuild.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

/// How long the files must stay quiet before a batch of events is acted on.
pub const QUIET: Duration = Duration::from_millis(50);
/// A burst of events never delays a rebuild longer than this.
pub const MAX_WAIT: Duration = Duration::from_millis(300);

/// What a change needs, from the cheapest to the most thorough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// An image: nothing to rebuild, the page reloads.
    Asset,
    /// The member list: read it again.
    List,
    /// Content or a template: compile again.
    Source,
    /// `bulletin.toml`: find the project again, then compile.
    Config,
}

/// What is being watched, and how each path's change is classified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// The project's `bulletin.toml` (watched even before it exists).
    pub config: PathBuf,
    /// The member list, if any.
    pub list: Option<PathBuf>,
    /// Every file the last build read.
    pub sources: BTreeSet<PathBuf>,
    /// Local images the email shows.
    pub images: BTreeSet<PathBuf>,
    /// Folders to watch (not recursively).
    pub dirs: BTreeSet<PathBuf>,
}

/// File extensions that are build input even when the last build did not read them (a new
/// partial, an issue.toml that was missing).
const SOURCE_EXTENSIONS: &[&str] = &["toml", "hbs", "mjml", "md", "html", "css", "txt"];

impl WatchSet {
    /// The kind of rebuild a change to `path` calls for, if any.
    pub fn classify(&self, path: &Path) -> Option<Change> {
        if path == self.config {
            return Some(Change::Config);
        }
        if self.list.as_deref() == Some(path) {
            return Some(Change::List);
        }
        if self.images.contains(path) {
            return Some(Change::Asset);
        }
        if self.sources.contains(path) {
            return Some(Change::Source);
        }
        let name = path.file_name()?.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            return None;
        }
        if !path.parent().is_some_and(|d| self.dirs.contains(d)) {
            return None;
        }
        if super::files::is_image(path) {
            return Some(Change::Asset);
        }
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        SOURCE_EXTENSIONS
            .contains(&ext.as_str())
            .then_some(Change::Source)
    }
}

/// Whether a notify event can be a change of content (reads and metadata-only changes are not:
/// reading a file may touch its access time).
pub fn is_content_event(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// A file watcher whose events arrive on a channel, with the watched folders kept in step with
/// a [`WatchSet`].
pub struct Watcher {
    inner: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    watching: BTreeSet<PathBuf>,
}

impl Watcher {
    pub fn new() -> notify::Result<Self> {
        let (tx, events) = mpsc::channel();
        let inner = notify::recommended_watcher(move |e| {
            let _ = tx.send(e);
        })?;
        Ok(Watcher {
            inner,
            events,
            watching: BTreeSet::new(),
        })
    }

    /// Watch exactly the folders of `set` that exist.
    pub fn follow(&mut self, set: &WatchSet) {
        let wanted: BTreeSet<PathBuf> = set.dirs.iter().filter(|d| d.is_dir()).cloned().collect();
        for gone in self.watching.difference(&wanted) {
            let _ = self.inner.unwatch(gone);
        }
        for new in wanted.difference(&self.watching) {
            if let Err(e) = self.inner.watch(new, RecursiveMode::NonRecursive) {
                eprintln!("warning: cannot watch {}: {e}", new.display());
            }
        }
        self.watching = wanted;
    }

    /// Block until a change that matters happens; return the strongest kind seen in the burst
    /// and the paths that changed.
    pub fn next(&self, set: &WatchSet) -> Option<(Change, Vec<PathBuf>)> {
        let mut change: Option<Change> = None;
        let mut paths = Vec::new();
        // wait for the first relevant event
        while change.is_none() {
            absorb(self.events.recv().ok()?, set, &mut change, &mut paths);
        }
        // then for a quiet spell
        let start = Instant::now();
        while start.elapsed() < MAX_WAIT {
            match self.events.recv_timeout(QUIET) {
                Ok(e) => absorb(e, set, &mut change, &mut paths),
                Err(_) => break,
            }
        }
        change.map(|c| (c, paths))
    }
}

/// Fold one notify event into the burst being collected.
fn absorb(
    e: notify::Result<notify::Event>,
    set: &WatchSet,
    change: &mut Option<Change>,
    paths: &mut Vec<PathBuf>,
) {
    match e {
        Ok(ev) if is_content_event(&ev.kind) => {
            for p in ev.paths {
                if let Some(c) = set.classify(&p) {
                    *change = (*change).max(Some(c));
                    if !paths.contains(&p) {
                        paths.push(p);
                    }
                }
            }
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: file watcher: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> WatchSet {
        let mut s = WatchSet {
            config: PathBuf::from("/p/bulletin.toml"),
            list: Some(PathBuf::from("/p/lists/members.csv")),
            ..WatchSet::default()
        };
        s.sources.insert(PathBuf::from("/p/issue/issue.toml"));
        s.sources
            .insert(PathBuf::from("/p/templates/bulletin.mjml.hbs"));
        s.images.insert(PathBuf::from("/p/issue/banner.png"));
        s.dirs.insert(PathBuf::from("/p"));
        s.dirs.insert(PathBuf::from("/p/issue"));
        s.dirs.insert(PathBuf::from("/p/templates/partials"));
        s
    }

    #[test]
    fn sorts_changes_into_kinds() {
        let s = set();
        let c = |p: &str| s.classify(Path::new(p));
        assert_eq!(c("/p/bulletin.toml"), Some(Change::Config));
        assert_eq!(c("/p/lists/members.csv"), Some(Change::List));
        assert_eq!(c("/p/issue/banner.png"), Some(Change::Asset));
        assert_eq!(c("/p/issue/new-photo.JPG"), Some(Change::Asset));
        assert_eq!(c("/p/issue/issue.toml"), Some(Change::Source));
        assert_eq!(c("/p/templates/bulletin.mjml.hbs"), Some(Change::Source));
        assert_eq!(
            c("/p/templates/partials/new.mjml.hbs"),
            Some(Change::Source)
        );
    }

    #[test]
    fn ignores_editor_droppings_and_other_folders() {
        let s = set();
        let c = |p: &str| s.classify(Path::new(p));
        assert_eq!(c("/p/issue/.issue.toml.swp"), None);
        assert_eq!(c("/p/issue/issue.toml~"), None);
        assert_eq!(c("/p/issue/4913"), None);
        assert_eq!(c("/p/out/issue.html"), None);
        assert_eq!(c("/elsewhere/x.toml"), None);
    }

    #[test]
    fn strongest_kind_wins() {
        assert!(Change::Config > Change::Source);
        assert!(Change::Source > Change::List);
        assert!(Change::List > Change::Asset);
    }
}
