//! What the preview shows: the project, the compiled issue (or the error that stops it), the
//! findings of `check`, the member list, and a version number that moves on every rebuild.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use crate::compose::{self, CompiledIssue, Finding, Recipient, Rendered, Severity};
use crate::project::{CONFIG_FILE, Project};
use crate::subscriber::{Subscriber, normalise_address};

use super::watch::{Change, WatchSet};

/// Gmail clips HTML bodies larger than this.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// The address shown when no member list is given.
pub const SAMPLE_EMAIL: &str = "reader@example.org";

/// At most this many members are offered in the picker.
const MAX_MEMBERS: usize = 5000;

/// What the preview was asked to show.
#[derive(Debug, Clone)]
pub struct Target {
    /// The issue folder or its `issue.toml`.
    pub issue: PathBuf,
    pub template: Option<PathBuf>,
    pub list: Option<PathBuf>,
    /// `--where`: only the members of the list whose row matches are offered.
    pub filter: Option<crate::list::Filter>,
    /// The member shown first.
    pub as_email: Option<String>,
}

/// The live state of one preview.
pub struct PreviewState {
    target: Target,
    /// The project folder, canonical.
    root: PathBuf,
    /// The issue folder, canonical.
    issue_dir: PathBuf,
    project: Option<Project>,
    config_error: Option<String>,
    compiled: Option<CompiledIssue>,
    compile_error: Option<String>,
    findings: Vec<Finding>,
    members: Vec<Subscriber>,
    /// Rows of the list that are not mailed, by address: the line and why.
    left_out: HashMap<String, String>,
    list_error: Option<String>,
    /// Where the server answers, for the preview's unsubscribe links.
    base_url: String,
    version: u64,
    /// The last render: (version, member key, result). The page asks for the same member's
    /// copy three times per update (state, two frames).
    last: Option<(u64, String, Result<Rendered, String>)>,
}

impl PreviewState {
    /// Load everything once. Only a missing issue folder is fatal: a broken file is shown in
    /// the page until it is fixed.
    pub fn open(target: Target) -> anyhow::Result<PreviewState> {
        let issue = std::path::absolute(&target.issue)?;
        if !issue.exists() {
            anyhow::bail!("{}: no such issue folder or file", target.issue.display());
        }
        let issue_dir = if issue.is_dir() {
            issue.clone()
        } else {
            issue
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| issue.clone())
        };
        let issue_dir = issue_dir.canonicalize().map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot open the issue folder ({e})",
                target.issue.display()
            )
        })?;
        let root = find_root(&issue_dir);
        let mut s = PreviewState {
            target: Target { issue, ..target },
            root,
            issue_dir,
            project: None,
            config_error: None,
            compiled: None,
            compile_error: None,
            findings: Vec::new(),
            members: Vec::new(),
            left_out: HashMap::new(),
            list_error: None,
            base_url: String::new(),
            version: 0,
            last: None,
        };
        s.load_list();
        if let Some(list_error) = &s.list_error {
            anyhow::bail!("{list_error}");
        }
        if let Some(email) = &s.target.as_email
            && s.target.list.is_some()
            && s.member(email).is_none()
        {
            let list = s.target.list.as_deref().unwrap_or(Path::new("")).display();
            match s.left_out.get(&normalise_address(email)) {
                Some(why) => anyhow::bail!("{email} is not mailed from {list}: {why}"),
                None => anyhow::bail!("{email} is not a member of {list}"),
            }
        }
        s.rebuild(Change::Config);
        Ok(s)
    }

    pub fn set_base_url(&mut self, url: &str) {
        self.base_url = url.trim_end_matches('/').to_string();
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The error that keeps the issue from building, if any.
    pub fn error(&self) -> Option<&str> {
        self.config_error
            .as_deref()
            .or(self.compile_error.as_deref())
    }

    /// Rebuild what `change` needs and move the version on. Returns a one-line report.
    pub fn rebuild(&mut self, change: Change) -> String {
        let start = Instant::now();
        if change >= Change::Config {
            self.load_project();
        }
        if change >= Change::Source {
            self.compile();
        }
        if change == Change::List {
            self.load_list();
        }
        self.version += 1;
        let took = start.elapsed();
        match (self.error(), change, &self.list_error) {
            (_, Change::List, Some(e)) => format!("member list: {e}"),
            (Some(e), _, _) => format!("error: {e}"),
            (None, Change::Asset, _) => "reloaded (nothing to rebuild)".into(),
            (None, Change::List, _) => format!("{} members", self.members.len()),
            _ => format!("updated in {} ms", took.as_millis()),
        }
    }

    fn load_project(&mut self) {
        match Project::discover(&self.issue_dir) {
            Ok(p) => {
                self.root = p.root.canonicalize().unwrap_or(p.root.clone());
                self.project = Some(p);
                self.config_error = None;
            }
            Err(e) => self.config_error = Some(self.tidy(&e.to_string())),
        }
    }

    fn compile(&mut self) {
        if self.config_error.is_some() {
            return;
        }
        let Some(project) = &self.project else { return };
        match compose::compile(project, &self.target.issue, self.target.template.as_deref()) {
            Ok(c) => {
                self.findings = compose::check(&c);
                self.compiled = Some(c);
                self.compile_error = None;
            }
            Err(e) => self.compile_error = Some(self.tidy(&e.to_string())),
        }
    }

    fn load_list(&mut self) {
        let Some(path) = &self.target.list else {
            return;
        };
        // the project's consent rules and suppression list, as a send would read them
        let project = Project::discover(&self.issue_dir).ok();
        match read_members(path, project.as_ref(), self.target.filter.as_ref()) {
            Ok((members, left_out)) => {
                self.members = members;
                self.left_out = left_out;
                self.list_error = None;
            }
            Err(e) => self.list_error = Some(self.tidy(&e)),
        }
    }

    /// Paths in messages are shown relative to the project.
    fn tidy(&self, message: &str) -> String {
        let mut out = message.to_string();
        let lexical = find_root_lexical(&self.target.issue);
        for root in [Some(self.root.clone()), lexical].into_iter().flatten() {
            let mut prefix = root.display().to_string();
            prefix.push(std::path::MAIN_SEPARATOR);
            out = out.replace(&prefix, "");
        }
        out
    }

    fn member(&self, email: &str) -> Option<&Subscriber> {
        let key = normalise_address(email);
        self.members.iter().find(|m| m.key() == key)
    }

    /// The member to show for a requested address: that member of the list, else the first
    /// requested by `--as`, else the list's first member, else a made-up reader.
    pub fn recipient(&self, email: Option<&str>) -> Subscriber {
        let wanted = email
            .filter(|e| !e.trim().is_empty())
            .or(self.target.as_email.as_deref());
        if let Some(m) = wanted.and_then(|e| self.member(e)) {
            return m.clone();
        }
        if let Some(e) = wanted.filter(|_| self.members.is_empty()) {
            return Subscriber::from_email(e);
        }
        self.members
            .first()
            .cloned()
            .unwrap_or_else(|| Subscriber::from_email(SAMPLE_EMAIL))
    }

    /// The preview's stand-in for a member's unsubscribe link: it leads to a page of the
    /// preview server saying so, never to the real unsubscribe endpoint.
    pub fn unsubscribe_url(&self, who: &Subscriber) -> String {
        format!(
            "{}/preview-unsubscribe?member={}",
            self.base_url,
            super::files::query_value(&who.email)
        )
    }

    /// Render the last good build for a member (the same member at the same version only once).
    pub fn render(&mut self, who: &Subscriber) -> Result<Rendered, String> {
        let key = who.key();
        if let Some((v, k, r)) = &self.last
            && *v == self.version
            && *k == key
        {
            return r.clone();
        }
        let r = self.render_fresh(who);
        self.last = Some((self.version, key, r.clone()));
        r
    }

    fn render_fresh(&self, who: &Subscriber) -> Result<Rendered, String> {
        let compiled = self
            .compiled
            .as_ref()
            .ok_or_else(|| "the issue has not built yet".to_string())?;
        let url = self.unsubscribe_url(who);
        compiled
            .render(&Recipient {
                subscriber: who,
                unsubscribe_url: &url,
            })
            .map_err(|e| self.tidy(&e.to_string()))
    }

    /// The issue folder as a URL path under `/files/`, with a trailing slash.
    pub fn issue_url(&self) -> String {
        let rel = self
            .issue_dir
            .strip_prefix(&self.root)
            .unwrap_or(Path::new(""));
        let p = super::files::url_path(rel);
        if p.is_empty() {
            "/files/".into()
        } else {
            format!("/files/{p}/")
        }
    }

    /// Everything the page shows, for one member, as JSON.
    pub fn state(&mut self, email: Option<&str>) -> Value {
        let who = self.recipient(email);
        let rendered = self.compiled.is_some().then(|| self.render(&who));
        let (subject, preheader, text, html_bytes, render_error) = match &rendered {
            Some(Ok(r)) => (
                r.subject.as_str(),
                r.preheader.as_str(),
                r.text.text(),
                Some(r.html.len()),
                None,
            ),
            Some(Err(e)) => ("", "", "".into(), None, Some(e.clone())),
            None => ("", "", "".into(), None, None),
        };
        let error = self.error().map(str::to_string).or(render_error);
        let sender = self
            .project
            .as_ref()
            .map(|p| (p.config.sender.name.clone(), p.config.sender.email.clone()))
            .unwrap_or_default();
        let members: Vec<Value> = self
            .members
            .iter()
            .take(MAX_MEMBERS)
            .map(|m| json!({ "email": m.email, "name": m.name }))
            .collect();
        json!({
            "version": self.version,
            "issue": self.issue_dir.strip_prefix(&self.root).unwrap_or(&self.issue_dir).display().to_string(),
            "built": self.compiled.is_some(),
            "error": error,
            "sender": { "name": sender.0, "email": sender.1 },
            "subject": subject,
            "preheader": preheader,
            "text": text,
            "html_bytes": html_bytes,
            "clip_bytes": GMAIL_CLIP_BYTES,
            "findings": self.findings.iter().map(finding_json).collect::<Vec<_>>(),
            "member": { "email": who.email, "name": who.name },
            "members": members,
            "members_total": self.members.len(),
            "list": self.target.list.as_ref().map(|l| l.display().to_string()),
            "list_error": self.list_error,
        })
    }

    /// The files and folders a change to which should update the page.
    pub fn watch_set(&self) -> WatchSet {
        let mut set = WatchSet {
            config: self.root.join(CONFIG_FILE),
            list: self
                .target
                .list
                .as_ref()
                .and_then(|l| std::path::absolute(l).ok()),
            ..WatchSet::default()
        };
        if let Some(c) = &self.compiled {
            set.sources = c.watched_files().into_iter().map(canonical).collect();
            set.images = c
                .images()
                .iter()
                .map(|i| canonical(i.path.clone()))
                .collect();
        }
        if let Some(t) = &self.target.template {
            set.sources.insert(canonical(t.clone()));
        }
        set.sources
            .insert(canonical(self.issue_dir.join("issue.toml")));
        if let Some(p) = &self.project {
            let partials = p.path(&p.config.paths.partials);
            set.dirs.insert(canonical(partials));
            set.dirs.insert(canonical(
                p.path(&p.config.paths.template)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
            ));
        }
        let mut dirs: BTreeSet<PathBuf> = set
            .sources
            .iter()
            .chain(&set.images)
            .chain(&set.list)
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .collect();
        dirs.insert(self.root.clone());
        dirs.insert(self.issue_dir.clone());
        set.dirs.extend(dirs);
        set
    }
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "code": f.code,
        "message": f.message,
        "location": f.location,
    })
}

/// A path made canonical when it exists (so it compares equal to what the watcher reports).
fn canonical(p: PathBuf) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    // a file that does not exist yet: canonicalize its folder
    match (p.parent(), p.file_name()) {
        (Some(d), Some(n)) => d.canonicalize().map(|d| d.join(n)).unwrap_or(p),
        _ => p,
    }
}

/// The project folder above `dir`: the nearest one holding `bulletin.toml` (even a broken
/// one), else `dir` itself, as `Project::discover` decides.
fn find_root(dir: &Path) -> PathBuf {
    find_root_lexical(dir).unwrap_or_else(|| dir.to_path_buf())
}

fn find_root_lexical(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    start
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// The members of a list a send would mail, in file order: invalid, duplicate, opted-out and
/// suppressed rows are left out, with the project's consent rules, the most restrictive row of an
/// address winning. A consent value bulletin does not understand is an error, as for a send.
/// With a filter, only the members whose row matches it; a column the list lacks is an error.
fn read_members(
    path: &Path,
    project: Option<&Project>,
    filter: Option<&crate::list::Filter>,
) -> Result<(Vec<Subscriber>, HashMap<String, String>), String> {
    use crate::list::{Cleaner, OptOuts, Suppression, Verdict};
    let rules = project.map(|p| p.config.lists.rules()).unwrap_or_default();
    let suppression = match project {
        Some(p) => Suppression::load_state(&p.state_dir()).map_err(|e| e.to_string())?,
        None => Suppression::empty(),
    };
    let opt_outs = OptOuts::scan(&[path], &rules).map_err(|e| e.to_string())?;
    let mut cleaner = Cleaner::with_opt_outs(suppression, std::sync::Arc::new(opt_outs));
    let reader = crate::list::open_with(path, &rules).map_err(|e| e.to_string())?;
    if let Some(f) = filter {
        f.check_columns(reader.headers().iter().map(String::as_str))
            .map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    let mut left_out = HashMap::new();
    for entry in reader {
        let (email, why) = match cleaner.verdict(entry.map_err(|e| e.to_string())?) {
            Verdict::Send(s) if filter.is_none_or(|f| f.matches(&s.fields)) => {
                out.push(s);
                continue;
            }
            Verdict::Send(s) => (s.email, format!("line {}: left out by --where", s.line)),
            Verdict::Skip {
                line,
                email,
                reason,
            } => (email, format!("line {line}: {reason}")),
        };
        left_out.entry(normalise_address(&email)).or_insert(why);
    }
    Ok((out, left_out))
}
