//! The public web archive of a project's issues: one page per issue (the email as members see
//! it, personalised for nobody), an index page newest first and an Atom feed (RFC 4287).
//!
//! The archive is built in memory as a [`Site`] (path → bytes) that `bulletin archive` writes
//! to a folder and `bulletin serve` answers from. The same input gives the same bytes: issues
//! are taken in a sorted order, images get names from their content, and no date but the
//! issues' own is written.

mod assets;
mod feed;
mod index;
mod page;
mod site;
mod sources;

use std::path::PathBuf;

use anyhow::Context as _;

pub use page::Page;
pub use site::Site;
pub use sources::fingerprint;

use crate::project::Project;

/// The archive and what was left out of it.
#[derive(Debug)]
pub struct Archive {
    pub site: Site,
    /// The published issues, newest first.
    pub pages: Vec<Page>,
    /// Issue folders marked `draft = true`.
    pub drafts: Vec<PathBuf>,
}

/// What the pages and the feed link with.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    /// The archive's public URL ending in `/` (`[archive] base_url`, else `[serve] url`).
    pub base: Option<String>,
    /// `[send] asset_base_url` without its trailing `/`: images are linked there, not copied.
    pub asset_base: Option<String>,
}

/// Build the archive of every issue under `[archive] issues`.
pub fn build(project: &Project) -> anyhow::Result<Archive> {
    if let Some(base) = project.config.archive_base_url()
        && !(base.starts_with("https://") || base.starts_with("http://"))
    {
        anyhow::bail!(
            "bulletin.toml: the archive's address `{}` is not an https:// (or http://) URL ([archive] base_url, else [serve] url)",
            base.trim_end_matches('/')
        );
    }
    let folders = sources::issue_folders(project)?;
    let links = Links {
        base: project.config.archive_base_url(),
        asset_base: project
            .config
            .send
            .asset_base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_string()),
    };
    let built = in_parallel(&folders, |dir| page::build(project, dir, &links))?;
    let mut pages = Vec::new();
    let mut drafts = Vec::new();
    for (dir, page) in folders.into_iter().zip(built) {
        match page {
            Some(p) => pages.push(p),
            None => drafts.push(dir),
        }
    }
    // Newest first; the same day by name, so the order never depends on the file system.
    pages.sort_by(|a, b| b.published.cmp(&a.published).then(a.slug.cmp(&b.slug)));
    let mut slugs: Vec<&str> = pages.iter().map(|p| p.slug.as_str()).collect();
    slugs.sort_unstable();
    if let Some(w) = slugs.windows(2).find(|w| w[0] == w[1]) {
        let same: Vec<String> = pages
            .iter()
            .filter(|p| p.slug == w[0])
            .map(|p| p.folder.display().to_string())
            .collect();
        anyhow::bail!(
            "{} have the same address in the archive, /{}/: rename one of the folders",
            same.join(" and "),
            w[0]
        );
    }
    let mut site = Site::default();
    for p in &pages {
        site.insert(
            format!("{}/index.html", p.slug),
            p.html.clone().into_bytes(),
        );
        for (name, path) in &p.assets {
            if site.get(name).is_none() {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                site.insert(name.clone(), bytes);
            }
        }
    }
    let title = index::title(project);
    let in_feed = project
        .config
        .archive
        .feed_entries
        .map_or(pages.len(), |n| n.min(pages.len()));
    site.insert(
        "index.html".into(),
        index::render(project, &title, &pages, &links).into_bytes(),
    );
    site.insert(
        "feed.xml".into(),
        feed::render(project, &title, &pages[..in_feed], &links).into_bytes(),
    );
    Ok(Archive {
        site,
        pages,
        drafts,
    })
}

/// `f` over every item on all cores; results in the items' order, the first error returned.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len().max(1));
    let mut slots: Vec<Option<anyhow::Result<R>>> = (0..items.len()).map(|_| None).collect();
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (items, slots) in items.chunks(chunk).zip(slots.chunks_mut(chunk)) {
            let f = &f;
            scope.spawn(move || {
                for (item, slot) in items.iter().zip(slots.iter_mut()) {
                    *slot = Some(f(item));
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(anyhow::anyhow!("an issue was not built"))))
        .collect()
}
