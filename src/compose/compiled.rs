//! One issue compiled: handlebars (content) → MJML → mrml → HTML and text, once; then
//! personalised per recipient by a second, cheap handlebars pass over the compiled output.

use std::path::{Path, PathBuf};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, TemplateError,
};
use serde_json::{Map, Value, json};

use crate::compose::error::{ComposeError, shown};
use crate::compose::protect::{Protected, is_recipient_path, protect, tokens};
use crate::compose::{guard, markup, text, theme};
use crate::content::{ISSUE_FILE, Image, Issue, markdown};
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
    pub html: String,
    pub text: String,
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
struct TemplateSource {
    /// Name in the handlebars registry.
    name: String,
    /// The file (or, for the built-in theme, a descriptive name).
    path: PathBuf,
    on_disk: bool,
    text: String,
    protected: Protected,
}

/// An issue compiled once, ready to be personalised for any number of recipients.
pub struct CompiledIssue {
    issue_dir: PathBuf,
    issue_file: PathBuf,
    content: Issue,
    template: PathBuf,
    mjml: String,
    html_template: String,
    text_template: String,
    images: Vec<LocalImage>,
    watched: Vec<PathBuf>,
    warnings: Vec<String>,
    recipient_placeholders: Vec<String>,
    lists_dir: PathBuf,
    html_reg: Handlebars<'static>,
    text_reg: Handlebars<'static>,
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

/// Name of the main template in the first-pass registry.
const MAIN: &str = "main";

/// Compile an issue: read `issue.toml`, fill the template with the content, compile the MJML.
/// `issue` is the issue folder or its `issue.toml`; `template` overrides the issue's template.
pub fn compile(
    project: &Project,
    issue: &Path,
    template: Option<&Path>,
) -> Result<CompiledIssue, ComposeError> {
    let (issue_dir, issue_file) = locate(issue)?;
    let issue_text = read_text(&issue_file)?;
    let content = Issue::parse(&shown(&issue_file), &issue_text)?;

    let mut watched = vec![issue_file.clone()];
    if let Some(config) = &project.config_path {
        watched.push(config.clone());
    }

    // The templates: the main one and every partial (the built-in theme's, then the project's).
    let main = main_template(project, &issue_dir, &content, template)?;
    let mut partials: Vec<TemplateSource> = theme::PARTIALS
        .iter()
        .map(|(name, text)| TemplateSource {
            name: (*name).to_string(),
            path: PathBuf::from(format!("(built-in theme) partials/{name}.mjml.hbs")),
            on_disk: false,
            text: (*text).to_string(),
            protected: protect(text),
        })
        .collect();
    for (name, path) in partial_files(&project.path(&project.config.paths.partials)) {
        let text = read_text(&path)?;
        let source = TemplateSource {
            protected: protect(&text),
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
    let data = json!({
        "issue": issue_view(&content),
        "sender": sender_view(project),
    });
    let generated = first
        .render(MAIN, &data)
        .map_err(|e| render_error(&all, &e, &data))?;
    let generated = markup::flatten_attribute_newlines(&generated);

    // MJML → HTML.
    let used = used_sources(&all);
    let parsed = mrml::parse(&generated).map_err(|e| mjml_error(&used, &main, &generated, &e))?;
    let warnings = parsed
        .warnings
        .iter()
        .map(|w| {
            let (line, col) = line_col(&generated, w.span.start);
            format!(
                "{}: {} (line {line}, column {col} of the compiled MJML)",
                shown(&main.path).display(),
                w.kind.as_str()
            )
        })
        .collect();
    let html = parsed
        .element
        .render(&mrml::prelude::render::RenderOptions::default())
        .map_err(|e| ComposeError::Render {
            path: shown(&main.path),
            message: e.to_string(),
        })?;
    let html = markup::ensure_img_alt(&html);

    let images = local_images(
        &html,
        &project.root,
        &issue_dir,
        &shown(&issue_file),
        &issue_text,
    )?;
    watched.extend(images.iter().map(|i| i.path.clone()));

    let html_template = guard::to_entities(&html);
    let text = text::html_to_text(&html).map_err(|message| ComposeError::Render {
        path: shown(&main.path),
        message: format!("cannot make the plain-text part: {message}"),
    })?;
    let text_template = guard::to_text_template(&text);

    // Second pass, per recipient: the compiled HTML and text as templates.
    let mut html_reg = Handlebars::new();
    html_reg.set_strict_mode(true);
    html_reg.register_escape_fn(markup::escape_html);
    html_reg
        .register_template_string("html", &html_template)
        .map_err(|e| compiled_error(&main, "HTML", &html_template, &e))?;
    let mut text_reg = Handlebars::new();
    text_reg.set_strict_mode(true);
    text_reg.register_escape_fn(handlebars::no_escape);
    text_reg.register_helper("lb", Box::new(brace("{")));
    text_reg.register_helper("rb", Box::new(brace("}")));
    text_reg
        .register_template_string("text", &text_template)
        .map_err(|e| compiled_error(&main, "plain text", &text_template, &e))?;

    let mut recipient_placeholders = placeholders(&html_template);
    recipient_placeholders.extend(placeholders(&text_template));
    recipient_placeholders.sort();
    recipient_placeholders.dedup();

    Ok(CompiledIssue {
        issue_dir,
        issue_file,
        content,
        template: main.path,
        mjml: guard::to_entities(&generated),
        html_template,
        text_template,
        images,
        watched,
        warnings,
        recipient_placeholders,
        lists_dir: project.path(&project.config.paths.lists),
        html_reg,
        text_reg,
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
        std::path::absolute(&self.issue_dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "issue".into())
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
        &self.html_template
    }

    /// The plain-text part before personalisation.
    pub fn text_template(&self) -> &str {
        &self.text_template
    }

    /// Local images the HTML references, in order of first appearance.
    pub fn images(&self) -> &[LocalImage] {
        &self.images
    }

    /// Every file this build read: `issue.toml`, `bulletin.toml`, templates, partials, images.
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

    /// The project's folder of member lists.
    pub fn lists_dir(&self) -> &Path {
        &self.lists_dir
    }

    /// Where a template this build read first uses `placeholder`: `file:line:column`.
    /// Only asked when rendering failed, so reading the files again costs nothing in a send.
    fn place_of(&self, placeholder: &str) -> Option<String> {
        let templates = self
            .watched
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "hbs" || x == "mjml"));
        for path in templates {
            let Ok(text) = read_text(path) else { continue };
            let mut from = 0;
            while let Some(found) = text[from..].find(placeholder) {
                let at = from + found;
                from = at + placeholder.len();
                // Inside a mustache: a `{{` before it with no `}}` in between.
                let inside = text[..at]
                    .rfind("{{")
                    .is_some_and(|open| !text[open..at].contains("}}"));
                let after = text[from..].chars().next();
                let whole = !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
                if inside && whole {
                    let (line, col) = line_col(&text, at);
                    return Some(format!("{}:{line}:{col}", shown(path).display()));
                }
            }
        }
        None
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
                            self.place_of(name)
                                .map(|at| format!(" at {at}"))
                                .unwrap_or_default()
                        ),
                        None => format!("unknown placeholder `{name}`"),
                    }
                }
                other => other.to_string(),
            },
        };
        let html = self
            .html_reg
            .render_with_context("html", &ctx)
            .map_err(fail)?;
        let mut text = self
            .text_reg
            .render_with_context("text", &ctx)
            .map_err(fail)?;
        // A recipient block left out (`{{#if subscriber.name}}`) can leave extra blank lines.
        if text.contains("\n\n\n") {
            text = collapse_blank_lines(&text);
        }
        Ok(Rendered {
            subject: self.content.subject.clone(),
            preheader: self.content.preheader.clone(),
            html,
            text,
        })
    }
}

/// At most one blank line in a row.
fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut newlines = 0;
    for c in text.chars() {
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        out.push(c);
    }
    out
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
fn locate(issue: &Path) -> Result<(PathBuf, PathBuf), ComposeError> {
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
                protected: protect(&text),
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
            protected: protect(theme::TEMPLATE),
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

/// Content text for the first pass (braces guarded).
fn text_value(s: &str) -> Value {
    Value::String(guard::content(s))
}

/// Markdown rendered to HTML for the first pass (braces guarded).
fn markdown_value(s: &str) -> Value {
    Value::String(guard::content(&markdown::to_html(s)))
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text_value)
}

fn image_view(i: &Option<Image>) -> Value {
    match i {
        None => Value::Null,
        Some(i) => json!({
            "src": text_value(&i.src),
            "alt": text_value(i.alt.as_deref().unwrap_or("")),
            "href": opt_text(&i.href),
            "width": i.width,
        }),
    }
}

fn cta_view(c: &Option<crate::content::Cta>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({ "label": text_value(&c.label), "url": text_value(&c.url) }),
    }
}

/// The content as templates see it: plain fields HTML-escaped on output, `*_html` fields
/// rendered from Markdown (print them with `{{{ }}}`).
fn issue_view(i: &Issue) -> Value {
    let sections: Vec<Value> = i
        .sections
        .iter()
        .map(|s| {
            json!({
                "heading": opt_text(&s.heading),
                "body_html": markdown_value(&s.body),
                "image": image_view(&s.image),
                "cta": cta_view(&s.cta),
            })
        })
        .collect();
    let spotlight = i.spotlight.as_ref().map_or(Value::Null, |s| {
        json!({
            "kicker": text_value(&s.kicker),
            "heading": text_value(&s.heading),
            "body_html": markdown_value(&s.body),
            "image": image_view(&s.image),
            "cta": cta_view(&s.cta),
        })
    });
    let sign_off = i.sign_off.as_ref().map_or(Value::Null, |s| {
        let contact = s.contact.as_deref().map_or(Value::Null, |c| {
            let c = c.trim();
            let (text, href) = if let Some(addr) = c.strip_prefix("mailto:") {
                (addr.to_string(), c.to_string())
            } else if c.contains("://") {
                (c.to_string(), c.to_string())
            } else {
                (c.to_string(), format!("mailto:{c}"))
            };
            json!({ "text": text_value(&text), "href": text_value(&href) })
        });
        json!({
            "body_html": markdown_value(&s.body),
            "name": text_value(&s.name),
            "role": opt_text(&s.role),
            "signature": image_view(&s.signature),
            "contact": contact,
        })
    });
    let dateline = match (&i.date, i.number) {
        (Some(d), Some(n)) => Some(format!("{d} · No. {n}")),
        (Some(d), None) => Some(d.clone()),
        (None, Some(n)) => Some(format!("No. {n}")),
        (None, None) => None,
    };
    json!({
        "subject": text_value(&i.subject),
        "preheader": text_value(&i.preheader),
        "title": text_value(&i.title),
        "date": opt_text(&i.date),
        "number": i.number,
        "dateline": opt_text(&dateline),
        "banner": image_view(&i.banner),
        "editor_note_html": i.editor_note.as_deref().map_or(Value::Null, markdown_value),
        "sections": sections,
        "spotlight": spotlight,
        "sign_off": sign_off,
    })
}

/// The sender as templates see it (`sender.name`, `sender.email`, `sender.postal_address`, …).
fn sender_view(project: &Project) -> Value {
    let s = &project.config.sender;
    json!({
        "name": text_value(&s.name),
        "email": text_value(&s.email),
        "reply_to": opt_text(&s.reply_to),
        "postal_address": opt_text(&s.postal_address),
        "unsubscribe_mailto": opt_text(&s.unsubscribe_mailto),
    })
}

/// The main template and the partials it uses, directly or through other partials.
fn used_sources<'a>(all: &[&'a TemplateSource]) -> Vec<&'a TemplateSource> {
    let mut used: Vec<&TemplateSource> = all.iter().take(1).copied().collect();
    let mut i = 0;
    while i < used.len() {
        let text = &used[i].text;
        let mut rest = text.as_str();
        while let Some(at) = rest.find("{{") {
            let after = rest[at + 2..].trim_start_matches(['~', '#']);
            if let Some(call) = after.strip_prefix('>') {
                let name = call
                    .trim_start()
                    .split(|c: char| c.is_whitespace() || c == '}')
                    .next();
                if let Some(source) = name.and_then(|n| all.iter().find(|s| s.name == n))
                    && !used.iter().any(|u| u.name == source.name)
                {
                    used.push(source);
                }
            }
            rest = &rest[at + 2..];
        }
        i += 1;
    }
    used
}

/// Find the template a registry name stands for.
fn source_of<'a>(all: &[&'a TemplateSource], name: Option<&str>) -> &'a TemplateSource {
    name.and_then(|n| all.iter().find(|s| s.name == n))
        .copied()
        .unwrap_or(all[0])
}

/// A handlebars syntax error at its place in the file as written.
fn template_error(all: &[&TemplateSource], e: &TemplateError) -> ComposeError {
    let source = source_of(all, e.name().map(String::as_str));
    let hint = "every `{{#block}}` needs its `{{/block}}`; expressions look like `{{issue.title}}`";
    // A block left open is reported by handlebars at the end of the file: point at its opening.
    if let handlebars::TemplateErrorReason::InvalidSyntax(_) = e.reason()
        && let Some((offset, name)) = unclosed_block(&source.text)
    {
        return SourceError::at_offset(
            &source.path,
            &source.text,
            offset,
            format!("template error: `{{{{#{name}}}}}` is never closed"),
        )
        .with_hint(format!("add `{{{{/{name}}}}}` where the block ends"))
        .into();
    }
    let message = match e.reason() {
        handlebars::TemplateErrorReason::InvalidSyntax(_) => {
            "template error: invalid handlebars syntax".to_string()
        }
        other => format!("template error: {other}"),
    };
    let err = match e.pos() {
        Some((line, col)) => {
            let (line, col) = source.protected.original_position(line, col);
            SourceError::at_line(&source.path, &source.text, line, Some(col), message)
        }
        None => SourceError::file(&source.path, message),
    };
    err.with_hint(hint).into()
}

/// The first `{{#block}}` of a template that no `{{/block}}` closes: its offset and name.
fn unclosed_block(text: &str) -> Option<(usize, String)> {
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let start = rest + found;
        if text[start..].starts_with("{{!") {
            let end = if text[start..].starts_with("{{!--") {
                "--}}"
            } else {
                "}}"
            };
            rest = text[start..]
                .find(end)
                .map_or(text.len(), |e| start + e + end.len());
            continue;
        }
        let Some(len) = text[start..].find("}}") else {
            break;
        };
        let inner = text[start + 2..start + len]
            .trim_start_matches(['{', '~'])
            .trim();
        if let Some(block) = inner.strip_prefix('#') {
            let name = block
                .trim_start_matches(['>', '*'])
                .split_whitespace()
                .next()
                .unwrap_or("");
            open.push((start, name.to_string()));
        } else if let Some(close) = inner.strip_prefix('/') {
            let name = close.trim();
            if let Some(i) = open.iter().rposition(|(_, n)| n == name) {
                open.truncate(i);
            }
        }
        rest = start + len + 2;
    }
    open.pop()
}

/// A first-pass failure (typically an unknown placeholder) at its place in the template.
fn render_error(all: &[&TemplateSource], e: &RenderError, data: &Value) -> ComposeError {
    let source = source_of(all, e.template_name.as_deref());
    let at = |message: String| match (e.line_no, e.column_no) {
        (Some(line), Some(col)) => {
            let (line, col) = source.protected.original_position(line, col);
            SourceError::at_line(&source.path, &source.text, line, Some(col), message)
        }
        _ => SourceError::file(&source.path, message),
    };
    match e.reason() {
        RenderErrorReason::MissingVariable(name) => {
            let name = name.as_deref().unwrap_or("?");
            let hint = known_names(name, data).unwrap_or_else(|| {
                "templates see `issue`, `sender`, `subscriber` (email, name, list columns) and \
                 `unsubscribe_url`"
                    .to_string()
            });
            ComposeError::UnknownPlaceholder(Box::new(
                at(format!("unknown placeholder `{name}`")).with_hint(hint),
            ))
        }
        RenderErrorReason::PartialNotFound(name) => at(format!("unknown partial `{name}`"))
            .with_hint("partials are NAME.mjml.hbs files in the partials folder (`paths.partials`)")
            .into(),
        RenderErrorReason::TemplateError(t) => template_error(all, t),
        other => at(format!("template error: {other}")).into(),
    }
}

/// For a misspelt `issue.x` or `sender.x`: the names that exist there.
fn known_names(name: &str, data: &Value) -> Option<String> {
    let (root, _) = name.split_once('.')?;
    let Value::Object(map) = data.get(root)? else {
        return None;
    };
    let keys: Vec<String> = map.keys().map(|k| format!("`{root}.{k}`")).collect();
    Some(format!("known here: {}", keys.join(", ")))
}

/// An MJML parse error: the offset is in the generated MJML; show that line, traced back to the
/// template line it came from when one matches.
fn mjml_error(
    all: &[&TemplateSource],
    main: &TemplateSource,
    generated: &str,
    e: &mrml::prelude::parser::Error,
) -> ComposeError {
    use mrml::prelude::parser::Error as E;
    let (what, offset) = match e {
        E::UnexpectedElement { position, .. } => {
            ("unexpected element".to_string(), Some(position.start))
        }
        E::UnexpectedToken { position, .. } => {
            ("unexpected token".to_string(), Some(position.start))
        }
        E::MissingAttribute { name, position, .. } => {
            (format!("missing attribute `{name}`"), Some(position.start))
        }
        E::InvalidAttribute { position, .. } => {
            ("invalid attribute".to_string(), Some(position.start))
        }
        E::InvalidFormat { position, .. } => ("invalid format".to_string(), Some(position.start)),
        E::EndOfStream { .. } => match unclosed_element(generated) {
            Some((offset, name)) => (format!("<{name}> is never closed"), Some(offset)),
            None => (
                "the MJML ends early: an element is not closed".to_string(),
                Some(generated.len()),
            ),
        },
        E::ParserError { source, .. } => {
            let pos = source.pos();
            let offset = offset_of(generated, pos.row as usize, pos.col as usize);
            if is_raw_less_than(generated, offset) {
                (
                    "a `<` in text starts no tag: write it as `&lt;`".to_string(),
                    Some(offset),
                )
            } else {
                (without_positions(&source.to_string()), Some(offset))
            }
        }
        E::NoRootNode => ("no <mjml> element".to_string(), None),
        E::IncludeLoaderError { position, .. } => (
            "mj-include is not supported: use a partial, {{> name}}".to_string(),
            Some(position.start),
        ),
        other => (other.to_string(), None),
    };
    let message = format!("invalid MJML: {what}");
    let Some(offset) = offset else {
        return SourceError::file(&main.path, message).into();
    };
    // Spans of attributes start at the blank before them: point at the attribute itself.
    let offset = offset
        + generated[offset.min(generated.len())..]
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
    let (gline, gcol) = line_col(generated, offset);
    let gtext = generated.lines().nth(gline.saturating_sub(1)).unwrap_or("");
    let gtrim = gtext.trim();
    let gindent = gtext.len() - gtext.trim_start().len();
    // Trace the compiled line back to the template line it came from: a line equal to it, or
    // one whose literal start (before any `{{`) covers the error column. Only a unique match is
    // trusted.
    let gpos = gcol.saturating_sub(gindent + 1);
    let mut exact = Vec::new();
    let mut prefix = Vec::new();
    for source in all {
        for (n, line) in source.text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if trimmed == gtrim {
                exact.push((*source, n + 1, indent));
            } else {
                let literal = trimmed.split("{{").next().unwrap_or("");
                if literal.len() >= 3 && gtrim.starts_with(literal) && gpos < literal.len() {
                    prefix.push((*source, n + 1, indent, literal.len()));
                }
            }
        }
    }
    // Of the prefix matches, the longest literal wins when it is the only one that long.
    let longest = prefix.iter().map(|p| p.3).max().unwrap_or(0);
    prefix.retain(|p| p.3 == longest);
    let unique = match (exact.len(), prefix.len()) {
        (1, _) => Some(exact[0]),
        (0, 1) => Some((prefix[0].0, prefix[0].1, prefix[0].2)),
        _ => None,
    };
    if let Some((source, line, indent)) = unique {
        return SourceError::at_line(
            &source.path,
            &source.text,
            line,
            Some(gpos + indent + 1),
            message,
        )
        .with_hint(format!("the compiled MJML has this at line {gline}"))
        .into();
    }
    let shown_text = guard::to_braces(generated);
    SourceError::at_line(
        PathBuf::from(format!("{} (compiled MJML)", main.path.display())),
        &shown_text,
        gline,
        Some(gcol),
        message,
    )
    .with_hint("`bulletin build` writes the compiled MJML next to the HTML when it builds")
    .into()
}

/// Is the `<` at `offset` text rather than a tag (`1 < 2`, `<3`)?
fn is_raw_less_than(mjml: &str, offset: usize) -> bool {
    let mut rest = mjml.get(offset..).unwrap_or("").chars();
    rest.next() == Some('<')
        && !rest
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
}

/// The innermost `<mj-…>` element of the MJML left open at the end: its offset and name.
fn unclosed_element(mjml: &str) -> Option<(usize, String)> {
    let mut open: Vec<(usize, &str)> = Vec::new();
    let mut i = 0;
    while let Some(found) = mjml[i..].find('<') {
        let start = i + found;
        let rest = &mjml[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(mjml.len(), |e| start + e + 3);
            continue;
        }
        let Some(len) = rest.find('>') else { break };
        let tag = &rest[1..len];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match open.last() {
                Some((_, top)) if *top == name => {
                    open.pop();
                }
                // Closing an outer element while an inner one is open: the inner one is the culprit.
                Some(&(o, top)) if open.iter().any(|(_, n)| *n == name) => {
                    return Some((o, top.to_string()));
                }
                _ => {}
            }
        } else if (tag.starts_with("mj") || tag.starts_with("mjml")) && !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or(tag);
            open.push((start, name));
        }
        i = start + len + 1;
    }
    open.pop().map(|(o, n)| (o, n.to_string()))
}

/// A parser message without its " at LINE:COL" positions (they count in the compiled MJML).
fn without_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        let after = &rest[at + 4..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(after.len());
        let pos = &after[..end];
        out.push_str(&rest[..at]);
        if pos.contains(':') && pos.split(':').all(|p| !p.is_empty()) {
            rest = &after[end..];
        } else {
            out.push_str(" at ");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of a 1-based row and column.
fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n + 1 == row {
            return offset
                + line
                    .char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

/// The compiled output failed to parse as a second-pass template (a recipient placeholder cut
/// apart by the MJML compiler).
fn compiled_error(
    main: &TemplateSource,
    what: &str,
    text: &str,
    e: &TemplateError,
) -> ComposeError {
    let message = format!(
        "the compiled {what} is not a valid template: {}",
        e.reason()
    );
    let path = PathBuf::from(format!("{} (compiled {what})", main.path.display()));
    match e.pos() {
        Some((line, col)) => SourceError::at_line(path, text, line, Some(col), message),
        None => SourceError::file(path, message),
    }
    .with_hint("recipient placeholders belong in text and in href/src/alt attributes")
    .into()
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
            let path = issue_dir.join(rel.trim_start_matches("./"));
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

#[cfg(test)]
mod tests {
    use super::is_raw_less_than;

    #[test]
    fn a_less_than_before_a_blank_or_digit_is_text() {
        let mjml = "<mj-text>1 < 2 <3 <b>x</b> </mj-text> <!-- c -->";
        let at = |needle: &str| mjml.find(needle).unwrap();
        assert!(is_raw_less_than(mjml, at("< 2")));
        assert!(is_raw_less_than(mjml, at("<3")));
        assert!(!is_raw_less_than(mjml, at("<b>")));
        assert!(!is_raw_less_than(mjml, at("</b>")));
        assert!(!is_raw_less_than(mjml, at("<!--")));
        assert!(!is_raw_less_than(mjml, mjml.len()));
        assert!(!is_raw_less_than(mjml, 1));
    }
}
