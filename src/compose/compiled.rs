//! One issue compiled: handlebars (content) → MJML → mrml → HTML and text, once; then
//! personalised per recipient by a second, cheap handlebars pass over the compiled output.

use std::path::{Path, PathBuf};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::{Map, Value, json};

use crate::compose::body::Body;
use crate::compose::error::{ComposeError, shown};
use crate::compose::locate::{
    compiled_error, mjml_error, render_error, template_error, used_sources,
};
use crate::compose::personalise::Personaliser;
use crate::compose::protect::{Protected, is_recipient_path, protect, protect_marked, tokens};
use crate::compose::sourcemap::{Origins, SourceMap};
use crate::compose::validate;
use crate::compose::view::{archive_view, issue_view, sender_view};
use crate::compose::{guard, image_box, locale, markup, preheader, text, theme, workarounds};
use crate::config::Validation;
use crate::content::{ISSUE_FILE, Issue};
use crate::diagnostic::{SourceError, line_col, read_text};
use crate::project::Project;
use crate::subscriber::Subscriber;

/// Who an issue is personalised for.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub subscriber: &'a Subscriber,
    /// The member's own unsubscribe link (the templates' `unsubscribe_url`).
    pub unsubscribe_url: &'a str,
}

/// One recipient's copy of an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub preheader: String,
    pub html: Body,
    pub text: Body,
}

/// A local image the HTML references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// Exactly as it appears in `src="…"`.
    pub src: String,
    /// The file on disk.
    pub path: PathBuf,
    /// e.g. `image/png`.
    pub content_type: String,
}

/// A template or partial as read, and as handed to the first pass.
#[derive(Debug, Clone)]
pub(super) struct TemplateSource {
    /// Name in the handlebars registry.
    pub(super) name: String,
    /// The file (or, for the built-in theme, a descriptive name).
    pub(super) path: PathBuf,
    pub(super) on_disk: bool,
    pub(super) text: String,
    pub(super) protected: Protected,
}

/// An issue compiled once, ready to be personalised for any number of recipients.
pub struct CompiledIssue {
    issue_dir: PathBuf,
    issue_file: PathBuf,
    content: Issue,
    template: PathBuf,
    mjml: String,
    html: Personaliser,
    text: Personaliser,
    images: Vec<LocalImage>,
    watched: Vec<PathBuf>,
    warnings: Vec<String>,
    recipient_placeholders: Vec<String>,
    lists_dir: PathBuf,
    /// The template and the partials it uses: (path as shown, text).
    sources: Vec<(PathBuf, String)>,
    archive_url: Option<String>,
    archive_url_unset: bool,
    archive_gap: Option<String>,
}

impl std::fmt::Debug for CompiledIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledIssue")
            .field("issue_dir", &self.issue_dir)
            .field("template", &self.template)
            .field("images", &self.images)
            .finish_non_exhaustive()
    }
}

/// Which copy of an issue is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Edition {
    /// The email members receive.
    #[default]
    Email,
    /// The archive's public page: the templates see `archive.page` true.
    Web,
}

/// Name of the main template in the first-pass registry.
const MAIN: &str = "main";

/// Compile an issue: read `issue.toml`, fill the template with the content, compile the MJML.
/// `issue` is the issue folder or its `issue.toml`; `template` overrides the issue's template.
pub fn compile(
    project: &Project,
    issue: &Path,
    template: Option<&Path>,
) -> Result<CompiledIssue, ComposeError> {
    compile_edition(project, issue, template, Edition::Email)
}

/// [`compile`] the email or the archive's page of an issue.
pub fn compile_edition(
    project: &Project,
    issue: &Path,
    template: Option<&Path>,
    edition: Edition,
) -> Result<CompiledIssue, ComposeError> {
    let (issue_dir, issue_file) = issue_paths(issue)?;
    let issue_text = read_text(&issue_file)?;
    let content = Issue::parse(&shown(&issue_file), &issue_text)?;

    let mut watched = vec![issue_file.clone()];
    if let Some(config) = &project.config_path {
        watched.push(config.clone());
    }

    // The templates: the main one and every partial (the built-in theme's, then the project's).
    let mut main = main_template(project, &issue_dir, &content, template)?;
    let mut partials: Vec<TemplateSource> = theme::PARTIALS
        .iter()
        .map(|(name, text)| TemplateSource {
            name: (*name).to_string(),
            path: PathBuf::from(format!("(built-in theme) partials/{name}.mjml.hbs")),
            on_disk: false,
            text: (*text).to_string(),
            protected: Protected::default(),
        })
        .collect();
    for (name, path) in partial_files(&project.path(&project.config.paths.partials)) {
        let text = read_text(&path)?;
        let source = TemplateSource {
            protected: Protected::default(),
            name,
            path: shown(&path),
            on_disk: true,
            text,
        };
        watched.push(path);
        match partials.iter_mut().find(|p| p.name == source.name) {
            Some(p) => *p = source,
            None => partials.push(source),
        }
    }
    if main.on_disk {
        watched.push(main.path.clone());
    }
    // Every tag marked with where it was written, then recipient expressions escaped.
    let mut origins = Origins::default();
    for (k, source) in std::iter::once(&mut main)
        .chain(partials.iter_mut())
        .enumerate()
    {
        source.protected = protect_marked(origins.mark(k, &source.text));
    }

    // First pass: content into the template.
    let mut first = Handlebars::new();
    first.set_strict_mode(true);
    first.set_prevent_indent(true);
    first.register_escape_fn(markup::escape_html);
    let all: Vec<&TemplateSource> = std::iter::once(&main).chain(partials.iter()).collect();
    for source in &all {
        first
            .register_template_string(&source.name, &source.protected.text)
            .map_err(|e| template_error(&all, &e))?;
    }
    let language = content
        .language
        .as_ref()
        .or(project.config.sender.language.as_ref());
    let direction = content.direction.or(project.config.sender.direction);
    let mut data = json!({
        "issue": issue_view(&content, language, direction),
        "sender": sender_view(project),
        "archive": archive_view(project, edition),
    });
    let archive_url = project
        .config
        .archive_base_url()
        .map(|base| format!("{base}{}/", crate::content::slug(&folder_name(&issue_dir))));
    if let Some(url) = &archive_url {
        data["archive_url"] = Value::String(guard::content(url));
    }
    let archive_gap = archive_url
        .as_ref()
        .and_then(|_| archive_gap(project, &issue_dir, &content));
    // Without a base URL, `archive_url` is missing: `{{#if archive_url}}` is false, and a
    // template that prints it gets an empty value and a warning from `check`.
    let mut archive_url_unset = false;
    let generated = match first.render(MAIN, &data) {
        Err(e) if missing_variable(&e) == Some("archive_url") => {
            archive_url_unset = true;
            data["archive_url"] = Value::String(String::new());
            first.render(MAIN, &data)
        }
        r => r,
    }
    .map_err(|e| render_error(&all, &e, &data))?;
    if archive_url.is_none() {
        // the hand-written text part sees the same
        archive_url_unset |= content
            .text
            .as_deref()
            .is_some_and(|t| t.contains("{{archive_url") && !t.contains("{{#if archive_url"));
        data["archive_url"] = Value::String(String::new());
    }
    let generated = locale::apply(&generated, language, direction);
    let (generated, map) = origins.strip(&generated);
    let generated = markup::flatten_attribute_newlines(&generated);
    let generated = workarounds::first_duplicate_attribute_wins(&generated);

    // MJML → HTML.
    let used = used_sources(&all);
    let for_mrml = workarounds::padding_zero_units(&generated);
    let for_mrml = workarounds::unapplied_defaults(&for_mrml);
    let for_mrml = workarounds::wrapper_gap_mark(&workarounds::hero_fluid_mode(&for_mrml));
    let for_mrml = image_box::truncated_image_boxes(&for_mrml);
    let parsed = mrml::parse(&for_mrml).map_err(|e| mjml_error(&used, &main, &for_mrml, &e))?;
    let mut warnings: Vec<String> = parsed
        .warnings
        .iter()
        .map(|w| {
            let (line, col) = line_col(&for_mrml, w.span.start);
            format!(
                "{}: {} (line {line}, column {col} of the compiled MJML)",
                shown(&main.path).display(),
                w.kind.as_str()
            )
        })
        .collect();
    let level = project.config.compose.validation;
    if level != Validation::Skip {
        let problems: Vec<SourceError> = validate::validate(&generated)
            .into_iter()
            .map(|p| invalid_mjml(&all, &main, &generated, &map, p))
            .collect();
        match level {
            Validation::Strict if !problems.is_empty() => {
                return Err(ComposeError::Invalid(problems));
            }
            _ => warnings.extend(problems.iter().map(ToString::to_string)),
        }
    }
    let html = parsed
        .element
        .render(&mrml::prelude::render::RenderOptions::default())
        .map_err(|e| ComposeError::Render {
            path: shown(&main.path),
            message: e.to_string(),
        })?;
    let html = guard::from_entities(&guard::from_debug_escapes(&markup::ensure_img_alt(&html)));
    let html = preheader::restyle(&locale::rtl_html(&html, direction));
    let html = workarounds::whole_pixel_image_widths(&workarounds::carousel_media_query(&html));
    let html = workarounds::group_column_mobile_width(&html);
    let html = workarounds::wrapper_gap_apply(&workarounds::hero_fluid_ratio(&html));
    let html = workarounds::full_width_radius(&html);

    let images = local_images(
        &html,
        &project.root,
        &issue_dir,
        &shown(&issue_file),
        &issue_text,
    )?;
    watched.extend(images.iter().map(|i| i.path.clone()));

    let html_template = guard::to_entities(&html);
    // The plain-text part: the editor's own when the issue has one, else read from the HTML.
    let written = content
        .text
        .as_deref()
        .map(|t| written_text(&issue_file, &issue_text, t));
    let text = match &written {
        Some(source) => {
            first
                .register_template_string(&source.name, &source.protected.text)
                .map_err(|e| template_error(&[source], &e))?;
            let mut filled = first
                .render(&source.name, &data)
                .map_err(|e| render_error(&[source], &e, &data))?;
            filled.truncate(filled.trim_end().len());
            filled.push('\n');
            filled.trim_start_matches('\n').to_string()
        }
        None => text::html_to_text(&html).map_err(|message| ComposeError::Render {
            path: shown(&main.path),
            message: format!("cannot make the plain-text part: {message}"),
        })?,
    };
    let text_template = guard::to_text_template(&text);

    // Second pass, per recipient: the compiled HTML and text as templates.
    let mut html_reg = Handlebars::new();
    html_reg.set_strict_mode(true);
    html_reg.register_escape_fn(markup::escape_html);
    let mut text_reg = Handlebars::new();
    text_reg.set_strict_mode(true);
    text_reg.register_escape_fn(handlebars::no_escape);
    text_reg.register_helper("lb", Box::new(brace("{")));
    text_reg.register_helper("rb", Box::new(brace("}")));
    let mut recipient_placeholders = placeholders(&html_template);
    recipient_placeholders.extend(placeholders(&text_template));
    let html = Personaliser::new(html_template, html_reg)
        .map_err(|(e, text)| compiled_error(&main, "HTML", &text, &e))?;
    let text = Personaliser::new(text_template, text_reg)
        .map_err(|(e, text)| compiled_error(&main, "plain text", &text, &e))?;
    recipient_placeholders.sort();
    recipient_placeholders.dedup();

    // Absolute, so a watcher finds them whatever its current folder.
    let mut watched: Vec<PathBuf> = watched
        .into_iter()
        .map(|p| std::path::absolute(&p).unwrap_or(p))
        .collect();
    watched.sort();
    watched.dedup();
    let sources = used
        .iter()
        .copied()
        .chain(written.as_ref())
        .map(|s| (s.path.clone(), s.text.clone()))
        .collect();
    Ok(CompiledIssue {
        issue_dir,
        issue_file,
        content,
        template: main.path,
        mjml: guard::to_entities(&generated),
        html,
        text,
        images,
        watched,
        warnings,
        recipient_placeholders,
        lists_dir: project.path(&project.config.paths.lists),
        sources,
        archive_url,
        archive_url_unset,
        archive_gap,
    })
}

impl CompiledIssue {
    /// The issue folder.
    pub fn issue_dir(&self) -> &Path {
        &self.issue_dir
    }

    /// The issue's `issue.toml`.
    pub fn issue_file(&self) -> &Path {
        &self.issue_file
    }

    /// The issue's name: its folder's name (used for output file names).
    pub fn name(&self) -> String {
        folder_name(&self.issue_dir)
    }

    /// The issue's page in the archive, when the archive's URL is known.
    pub fn archive_url(&self) -> Option<&str> {
        self.archive_url.as_deref()
    }

    /// Why the archive leaves this issue out (a draft, no date, a folder it does not
    /// publish), when the archive's URL is known.
    pub fn archive_gap(&self) -> Option<&str> {
        self.archive_gap.as_deref()
    }

    /// Whether a template printed `archive_url` though no archive URL is configured.
    pub fn archive_url_unset(&self) -> bool {
        self.archive_url_unset
    }

    /// The typed `issue.toml`.
    pub fn content(&self) -> &Issue {
        &self.content
    }

    /// The main template used (for the built-in theme, a descriptive name).
    pub fn template(&self) -> &Path {
        &self.template
    }

    /// The MJML the content pass produced (recipient placeholders still in it).
    pub fn mjml(&self) -> &str {
        &self.mjml
    }

    /// The compiled HTML before personalisation (recipient placeholders still in it).
    pub fn html_template(&self) -> &str {
        self.html.source()
    }

    /// The plain-text part before personalisation.
    pub fn text_template(&self) -> &str {
        self.text.source()
    }

    /// Local images the HTML references, in order of first appearance.
    pub fn images(&self) -> &[LocalImage] {
        &self.images
    }

    /// Every file this build read, as absolute paths: `issue.toml`, `bulletin.toml`, the
    /// template, partials, images.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        self.watched.clone()
    }

    /// What the MJML parser warned about.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The recipient data the templates use, e.g. `subscriber.name`, `unsubscribe_url`.
    pub fn recipient_placeholders(&self) -> &[String] {
        &self.recipient_placeholders
    }

    /// The list columns the templates use (`subscriber.COLUMN`), `email` and `name` aside.
    pub fn list_columns(&self) -> Vec<&str> {
        self.recipient_placeholders
            .iter()
            .filter_map(|p| p.strip_prefix("subscriber."))
            .map(|c| c.trim_start_matches('[').trim_end_matches(']'))
            .filter(|c| *c != "email" && *c != "name")
            .collect()
    }

    /// Where a piece of text first appears in the template or the partials it uses, as
    /// `path:line:column`.
    pub fn locate_in_templates(&self, needle: &str) -> Option<String> {
        if needle.is_empty() {
            return None;
        }
        // A match must end where a name or URL ends: `subscriber.org` is not in
        // `subscriber.organisation`.
        let ends_there = |text: &str, end: usize| {
            text[end..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
        };
        self.sources.iter().find_map(|(path, text)| {
            let (at, _) = text
                .match_indices(needle)
                .find(|(at, m)| ends_there(text, at + m.len()))?;
            let (line, col) = line_col(text, at);
            Some(format!("{}:{line}:{col}", path.display()))
        })
    }

    /// Where `{{name}}` is printed in a template or partial that never tests it with
    /// `{{#if name}}`, as `path:line:column`.
    pub fn locate_unguarded(&self, name: &str) -> Option<String> {
        let (needle, guard) = (format!("{{{{{name}"), format!("{{{{#if {name}}}}}"));
        self.sources.iter().find_map(|(path, text)| {
            if text.contains(&guard) {
                return None;
            }
            let at = text.find(&needle)?;
            let (line, col) = line_col(text, at);
            Some(format!("{}:{line}:{col}", path.display()))
        })
    }

    /// The project's folder of member lists.
    pub fn lists_dir(&self) -> &Path {
        &self.lists_dir
    }

    /// Personalise the issue for one recipient.
    pub fn render(&self, r: &Recipient<'_>) -> Result<Rendered, ComposeError> {
        let ctx = Context::wraps(recipient_data(r)).map_err(|e| ComposeError::Recipient {
            email: r.subscriber.email.clone(),
            message: e.to_string(),
        })?;
        let fail = |e: RenderError| ComposeError::Recipient {
            email: r.subscriber.email.clone(),
            message: match e.reason() {
                RenderErrorReason::MissingVariable(Some(name)) => {
                    match name.strip_prefix("subscriber.") {
                        Some(column) => format!(
                            "unknown placeholder `{name}`{}: the list has no column `{column}`",
                            self.locate_in_templates(name)
                                .map(|at| format!(" at {at}"))
                                .unwrap_or_default()
                        ),
                        None => format!("unknown placeholder `{name}`"),
                    }
                }
                other => other.to_string(),
            },
        };
        let html = self.html.render(&ctx).map_err(fail)?;
        // A recipient block left out (`{{#if subscriber.name}}`) can leave extra blank lines.
        let text = self.text.render(&ctx).map_err(fail)?.collapse_blank_lines();
        Ok(Rendered {
            subject: self.content.subject.clone(),
            preheader: self.content.preheader.clone(),
            html,
            text,
        })
    }
}

/// The data of the second pass: `subscriber` (every list column, then `email` and `name`) and
/// `unsubscribe_url`.
fn recipient_data(r: &Recipient<'_>) -> Value {
    let s = r.subscriber;
    let mut sub = Map::new();
    for (k, v) in &s.fields {
        sub.insert(k.clone(), Value::String(v.clone()));
    }
    sub.insert("email".into(), Value::String(s.email.clone()));
    sub.insert(
        "name".into(),
        s.name.clone().map_or(Value::Null, Value::String),
    );
    let mut root = Map::new();
    root.insert("subscriber".into(), Value::Object(sub));
    root.insert(
        "unsubscribe_url".into(),
        Value::String(r.unsubscribe_url.to_string()),
    );
    Value::Object(root)
}

/// The name of an issue folder (`issue` when it has none, as `/`).
fn folder_name(dir: &Path) -> String {
    std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "issue".into())
}

/// Why `bulletin archive` would leave the issue in `issue_dir` out, if it would.
fn archive_gap(project: &Project, issue_dir: &Path, content: &Issue) -> Option<String> {
    if content.draft {
        return Some("it is a draft (`draft = true` in issue.toml)".into());
    }
    if content.publication_date().is_none() {
        return Some("it has no publication date (`published = 2023-09-28` in issue.toml)".into());
    }
    let canonical = |p: &Path| p.canonicalize().ok();
    let parent = std::path::absolute(issue_dir)
        .ok()
        .and_then(|d| d.parent().and_then(canonical));
    let published = project
        .config
        .archive
        .issues
        .iter()
        .any(|f| parent.is_some() && canonical(&project.path(f)) == parent);
    (!published).then(|| "its folder is not in one of the folders of [archive] issues".into())
}

/// The variable a strict-mode render error says is missing.
fn missing_variable(e: &RenderError) -> Option<&str> {
    match e.reason() {
        RenderErrorReason::MissingVariable(Some(name)) => Some(name.as_str()),
        _ => None,
    }
}

/// The issue's hand-written plain-text part as a template of its own: placed in `issue.toml`
/// so that line numbers of errors are those of the file (the text is preceded by as many
/// blank lines as come before it there).
fn written_text(issue_file: &Path, issue_text: &str, text: &str) -> TemplateSource {
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let before = issue_text
        .find(first_line)
        .map_or(0, |at| issue_text[..at].matches('\n').count());
    let first_blank = text.lines().take_while(|l| l.trim().is_empty()).count();
    let padded = format!(
        "{}{}",
        "\n".repeat(before.saturating_sub(first_blank)),
        text
    );
    TemplateSource {
        name: "(text part)".into(),
        path: shown(issue_file),
        on_disk: true,
        protected: protect(&padded),
        text: padded,
    }
}

/// A broken MJML rule at its place in the template or partial that wrote it (else in the
/// compiled MJML).
fn invalid_mjml(
    all: &[&TemplateSource],
    main: &TemplateSource,
    generated: &str,
    map: &SourceMap,
    problem: validate::Problem,
) -> SourceError {
    let texts: Vec<&str> = all.iter().map(|s| s.text.as_str()).collect();
    let message = format!("invalid MJML: {}", problem.message);
    let err = match map.locate(generated, problem.offset, &texts) {
        Some((k, offset)) => SourceError::at_offset(&all[k].path, &all[k].text, offset, message),
        None => {
            let shown_text = guard::to_braces(generated);
            SourceError::at_offset(
                PathBuf::from(format!("{} (compiled MJML)", main.path.display())),
                &shown_text,
                problem.offset,
                message,
            )
        }
    };
    match problem.hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// A helper printing a fixed string (a brace from content, in the text part).
fn brace(
    s: &'static str,
) -> impl Fn(
    &Helper<'_>,
    &Handlebars<'_>,
    &Context,
    &mut RenderContext<'_, '_>,
    &mut dyn Output,
) -> HelperResult
+ Send
+ Sync {
    move |_, _, _, _, out| {
        out.write(s)?;
        Ok(())
    }
}

/// The issue folder and its `issue.toml`.
fn issue_paths(issue: &Path) -> Result<(PathBuf, PathBuf), ComposeError> {
    if issue.is_dir() {
        let file = issue.join(ISSUE_FILE);
        if !file.is_file() {
            return Err(
                SourceError::file(shown(issue), format!("no {ISSUE_FILE} in this folder"))
                    .with_hint("an issue is a folder holding issue.toml and its images")
                    .into(),
            );
        }
        Ok((issue.to_path_buf(), file))
    } else if issue.is_file() {
        let dir = match issue.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok((dir, issue.to_path_buf()))
    } else {
        Err(
            SourceError::file(shown(issue), "no such issue folder or file")
                .with_hint("an issue is a folder holding issue.toml and its images")
                .into(),
        )
    }
}

/// The template to use: `--template`, else the issue's `template`, else the project's, else the
/// built-in theme.
fn main_template(
    project: &Project,
    issue_dir: &Path,
    content: &Issue,
    template: Option<&Path>,
) -> Result<TemplateSource, ComposeError> {
    let path = match (template, &content.template) {
        (Some(t), _) => Some(t.to_path_buf()),
        (None, Some(t)) => Some(issue_dir.join(t)),
        (None, None) => {
            let p = project.path(&project.config.paths.template);
            p.is_file().then_some(p)
        }
    };
    Ok(match path {
        Some(path) => {
            let text = read_text(&path)?;
            TemplateSource {
                name: MAIN.into(),
                protected: Protected::default(),
                path: shown(&path),
                on_disk: true,
                text,
            }
        }
        None => TemplateSource {
            name: MAIN.into(),
            path: PathBuf::from("(built-in theme) bulletin.mjml.hbs"),
            on_disk: false,
            text: theme::TEMPLATE.to_string(),
            protected: Protected::default(),
        },
    })
}

/// `NAME.mjml.hbs` (or `NAME.hbs`) files of the partials folder, sorted by name.
fn partial_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let file = p.file_name()?.to_str()?.to_string();
            let name = file
                .strip_suffix(".mjml.hbs")
                .or_else(|| file.strip_suffix(".hbs"))?
                .to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    out
}

/// Recipient data named in `{{ }}` expressions of a compiled template.
fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = &after[..end];
        for token in tokens(inner) {
            if is_recipient_path(token) {
                out.push(token.strip_prefix("@root.").unwrap_or(token).to_string());
            }
        }
        rest = &after[end..];
    }
    out
}

/// Local images referenced by `src` (and `background`) attributes, checked to exist.
fn local_images(
    html: &str,
    project_root: &Path,
    issue_dir: &Path,
    issue_file: &Path,
    issue_text: &str,
) -> Result<Vec<LocalImage>, ComposeError> {
    let mut out: Vec<LocalImage> = Vec::new();
    for tag in markup::tags(html) {
        for attr in ["src", "background"] {
            let Some(raw) = tag.attr(attr) else { continue };
            if raw.is_empty() || out.iter().any(|i| i.src == raw) || !is_local(raw) {
                continue;
            }
            let rel = guard::to_braces(&markup::decode_entities(raw));
            // Absolute, so the file is found whatever folder the command runs from.
            let path = issue_dir.join(rel.trim_start_matches("./"));
            let path = std::path::absolute(&path).unwrap_or(path);
            let refuse = |message: String, hint: &str| {
                let err = match issue_text.find(&rel) {
                    Some(offset) => SourceError::at_offset(issue_file, issue_text, offset, message),
                    None => SourceError::file(issue_file, message),
                };
                ComposeError::MissingImage(Box::new(err.with_hint(hint)))
            };
            if !path.is_file() {
                return Err(refuse(
                    format!("image not found: {}", shown(&path).display()),
                    "image paths are relative to the issue folder",
                ));
            }
            // The file is mailed to every member: only images, and only from the project, so
            // an issue cannot send out `/etc/passwd` or the project's secrets.
            if content_type(&path) == "application/octet-stream" {
                return Err(refuse(
                    format!("not an image: {}", shown(&path).display()),
                    "only .png, .jpg, .jpeg, .gif, .webp and .svg files are embedded",
                ));
            }
            if !inside(&path, project_root) {
                return Err(refuse(
                    format!(
                        "image outside the project folder: {}",
                        shown(&path).display()
                    ),
                    "copy the image into the issue folder",
                ));
            }
            out.push(LocalImage {
                src: raw.to_string(),
                content_type: content_type(&path).to_string(),
                path,
            });
        }
    }
    Ok(out)
}

/// Whether `path`, symbolic links resolved, lies inside `root`.
fn inside(path: &Path, root: &Path) -> bool {
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(r),
        _ => false,
    }
}

/// Not a URL, a placeholder or an embedded image: a file of the issue folder.
fn is_local(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    !(src.contains("{{")
        || src.starts_with('#')
        || src.starts_with("//")
        || ["http:", "https:", "cid:", "data:", "mailto:"]
            .iter()
            .any(|s| lower.starts_with(s)))
}

/// The media type of an image file, from its extension.
pub fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}
