//! Projects in temporary folders for the tests that run the binary.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The `[sender]` table of the test projects that send: an address on a test domain, a
/// one-click unsubscribe URL and a fixed token secret.
pub const SENDER: &str = r#"
[sender]
name = "Test News"
email = "news@news.test"
bounce_address = "bounces@news.test"
unsubscribe_url = "https://news.test/unsubscribe/{token}"
token_secret = "a-test-secret"
"#;

/// A short issue: a subject, a title and the editor's note.
pub const SHORT_ISSUE: &str = r#"
subject = "Test News, November"
title = "TEST NEWS"
editor_note = "Hello from the editor."
"#;
/// Run the real `bulletin` with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bulletin(dir, args)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write `bytes` to `path`, creating its folder first.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a file path has a folder")).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Copy the folder tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A project with the repository's templates: `bulletin.toml` holding `config`, the issue
/// `issues/ISSUE_DIR` holding `issue`, and an empty `lists` folder.
pub fn with_templates(config: &str, issue_dir: &str, issue: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(&root.join("bulletin.toml"), config.as_bytes());
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &root.join("templates"),
    );
    write(
        &root.join("issues").join(issue_dir).join("issue.toml"),
        issue.as_bytes(),
    );
    std::fs::create_dir_all(root.join("lists")).unwrap();
    dir
}

/// The smallest project: a configuration that gives up at once (1 s timeout, no retries),
/// `template` as `templates/bulletin.mjml.hbs`, `issue` as `issues/one/issue.toml` and `list`
/// as `lists/members.csv`.
pub fn tiny(template: &str, issue: &str, list: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        &root.join("bulletin.toml"),
        b"[sender]\nname = \"Test News\"\nemail = \"news@example.org\"\n\
postal_address = \"1 Test Road\"\nunsubscribe_mailto = \"unsubscribe@example.org\"\n\
[smtp]\ntimeout_secs = 1\n[send]\nretries = 0\n",
    );
    write(
        &root.join("templates/bulletin.mjml.hbs"),
        template.as_bytes(),
    );
    write(&root.join("issues/one/issue.toml"), issue.as_bytes());
    write(&root.join("lists/members.csv"), list.as_bytes());
    dir
}

/// Run the real binary in `root` with `args`, without the environment's SMTP settings and
/// secrets, and without a terminal.
pub fn bulletin(root: &Path, args: &[&str]) -> Output {
    super::cli::command(root, args)
        .output()
        .expect("the binary runs")
}

/// `bulletin send ISSUE --list LIST --yes --dry-run --outbox box EXTRA…` in `root`.
pub fn dry_run_of(root: &Path, issue: &str, list: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "send",
        issue,
        "--list",
        list,
        "--yes",
        "--dry-run",
        "--outbox",
        "box",
    ];
    args.extend_from_slice(extra);
    bulletin(root, &args)
}

/// `bulletin send issues/one --list LIST --yes --dry-run --outbox box` in `root`: it must
/// succeed. Returns the messages written, in order.
pub fn dry_run(root: &Path, list: &str) -> Vec<PathBuf> {
    let o = dry_run_of(root, "issues/one", list, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("box"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}
