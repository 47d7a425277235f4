//! The command-line conventions, through the real binary: completions, man pages, `new`,
//! `build --json`, `--to` lists and paths given from another folder.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::files::copy_dir;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the repository's project: config, templates, lists and the flagship issue.
fn flagship_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for dir in ["templates", "lists", "examples/2023-09-cluster-news"] {
        copy_dir(&repo().join(dir), &t.path().join(dir));
    }
    std::fs::copy(repo().join("bulletin.toml"), t.path().join("bulletin.toml")).unwrap();
    t
}

#[test]
fn completions_name_every_command_for_each_shell() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run_in(t.path(), &["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", text(&o.stderr));
        let script = text(&o.stdout);
        for command in ["send", "preview", "bounces", "status", "new"] {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
    let o = run_in(t.path(), &["completions", "tcsh"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_cover_the_commands_and_their_options() {
    let t = tempfile::tempdir().unwrap();
    let o = run_in(t.path(), &["man"]);
    assert!(o.status.success());
    let page = text(&o.stdout);
    assert!(page.contains(".TH bulletin 1"), "{page}");
    assert!(page.contains("send"));
    let o = run_in(t.path(), &["man", "--out", "man"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let send = std::fs::read_to_string(t.path().join("man/bulletin-send.1")).unwrap();
    assert!(send.contains("\\-\\-dry\\-run"), "{send}");
    assert!(text(&o.stdout).contains("bulletin-send.1"));
}

#[test]
fn new_starts_from_the_last_issue_beside_it_or_the_named_one() {
    let t = flagship_project();
    let root = t.path();
    let o = run_in(root, &["new", "examples/2023-10-cluster-news"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let new = root.join("examples/2023-10-cluster-news");
    // the same issue, kept out of the web archive until it goes out
    let before =
        std::fs::read_to_string(root.join("examples/2023-09-cluster-news/issue.toml")).unwrap();
    let after = std::fs::read_to_string(new.join("issue.toml")).unwrap();
    assert_eq!(after, bulletin::content::scaffold::unpublished(&before));
    assert!(after.contains("\ndraft = true\n") && !after.contains("published = 2023"));
    assert!(new.join("banner.png").is_file());
    assert!(text(&o.stderr).contains("from examples/2023-09-cluster-news"));
    // the new issue builds as it is
    let o = run_in(
        root,
        &["build", "examples/2023-10-cluster-news", "--out", "o"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));

    // an existing, non-empty folder is refused; --from must name an issue
    let o = run_in(root, &["new", "examples/2023-10-cluster-news"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("already exists and is not empty"));
    let o = run_in(root, &["new", "x/one", "--from", "lists"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("lists: no issue.toml there"));

    // with nothing beside it, the starter issue
    let o = run_in(root, &["new", "fresh/first"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("starter issue"));
    let o = run_in(root, &["check", "fresh/first"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn build_json_lists_the_files_with_their_sizes() {
    let t = flagship_project();
    let o = run_in(
        t.path(),
        &[
            "build",
            "examples/2023-09-cluster-news",
            "--out",
            "o",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["issue"], "2023-09-cluster-news");
    let files = v["files"].as_array().unwrap();
    let html = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(".html"))
        .expect("the HTML is listed");
    let on_disk = std::fs::metadata(t.path().join("o/2023-09-cluster-news.html")).unwrap();
    assert_eq!(html["bytes"].as_u64(), Some(on_disk.len()));
    assert!(
        files
            .iter()
            .any(|f| f["path"].as_str().unwrap().ends_with("banner.png"))
    );
}

#[test]
fn to_takes_a_comma_separated_list_and_paths_work_from_any_folder() {
    let t = flagship_project();
    let sub = t.path().join("templates");
    let o = run_in(
        &sub,
        &[
            "send",
            "../examples/2023-09-cluster-news",
            "--to",
            "ann@example.org, bob@example.org",
            "--to",
            "cy@example.org",
            "--dry-run",
            "--outbox",
            "../ob",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut written: Vec<String> = std::fs::read_dir(t.path().join("ob"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(written[0].ends_with("ann@example.org.eml"), "{written:?}");
    assert!(written[1].ends_with("bob@example.org.eml"), "{written:?}");
    // the images were found from the subfolder and embedded
    let eml = std::fs::read_to_string(t.path().join("ob").join(&written[0])).unwrap();
    assert!(eml.contains("Content-ID: <img"), "images are embedded");

    let o = run_in(
        &sub,
        &[
            "send",
            "../examples/2023-09-cluster-news",
            "--list",
            "../lists/members.csv",
            "--dry-run",
            "--yes",
            "--outbox",
            "../ob2",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
}
