//! `bulletin build ISSUE [--out DIR] [--template FILE]`: the issue as HTML, plain text and
//! compiled MJML, personalised for a sample reader, with the images the HTML needs.

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;

use crate::cli::BuildArgs;
use crate::compose::{self, CompiledIssue, Recipient, shown};
use crate::project::Project;
use crate::run::exit;
use crate::subscriber::Subscriber;

pub fn run(args: BuildArgs) -> anyhow::Result<i32> {
    let project = Project::discover(&args.issue.issue)?;
    let compiled = compose::compile(&project, &args.issue.issue, args.issue.template.as_deref())?;
    let out = args
        .out
        .unwrap_or_else(|| shown(&project.path(&project.config.paths.out)));
    let written = write(&project, &compiled, &out)?;
    if args.json {
        let files = written
            .iter()
            .map(|path| {
                let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                serde_json::json!({ "path": path, "bytes": bytes })
            })
            .collect::<Vec<_>>();
        let warnings = compiled
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        let report = serde_json::json!({
            "issue": compiled.name(),
            "subject": compiled.content().subject,
            "files": files,
            "warnings": warnings,
        });
        println!("{report}");
        return Ok(exit::OK);
    }
    for w in compiled.warnings() {
        eprintln!("warning: {w}");
    }
    for path in written {
        println!("{}", path.display());
    }
    Ok(exit::OK)
}

/// Write `<name>.html`, `<name>.txt`, `<name>.mjml` and the local images into `out`; returns
/// the files written.
pub fn write(
    project: &Project,
    compiled: &CompiledIssue,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let subscriber = sample_reader(compiled);
    let unsubscribe_url = sample_unsubscribe_url(project);
    let rendered = compiled.render(&Recipient {
        subscriber: &subscriber,
        unsubscribe_url: &unsubscribe_url,
    })?;
    let name = compiled.name();
    let mut written = Vec::new();
    for (ext, body) in [
        ("html", &*rendered.html.text()),
        ("txt", &*rendered.text.text()),
        ("mjml", compiled.mjml()),
    ] {
        let path = out.join(format!("{name}.{ext}"));
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    for image in compiled.images() {
        let rel = compose::markup::decode_entities(&image.src);
        let rel = Path::new(&rel);
        if rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            eprintln!(
                "warning: {} is outside the issue folder; not copied next to the HTML",
                image.src
            );
            continue;
        }
        let dest = out.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(&image.path, &dest).with_context(|| {
            format!("cannot copy {} to {}", image.path.display(), dest.display())
        })?;
        written.push(dest);
    }
    Ok(written)
}

/// The reader a build is personalised for: a sample address and name, and each list column
/// the templates use shown as `[column]`.
pub fn sample_reader(compiled: &CompiledIssue) -> Subscriber {
    let mut s = Subscriber::from_email("reader@example.org");
    s.name = Some("Reader".into());
    for column in compiled.list_columns() {
        s.fields.insert(column.to_string(), format!("[{column}]"));
    }
    s
}

/// The unsubscribe link of a build: the configured URL with a sample token, else the mailto
/// address, else a fragment.
pub fn sample_unsubscribe_url(project: &Project) -> String {
    let sender = &project.config.sender;
    if let Some(url) = &sender.unsubscribe_url {
        url.replace("{token}", "sample-token")
    } else if let Some(mailto) = &sender.unsubscribe_mailto {
        if mailto.starts_with("mailto:") {
            mailto.clone()
        } else {
            format!("mailto:{mailto}?subject=unsubscribe")
        }
    } else {
        "#unsubscribe".into()
    }
}
