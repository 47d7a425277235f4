//! Issue parsing: any text as `issue.toml`, parsed, then compiled with the built-in theme and
//! rendered for one member. Errors are fine; panics are not.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulletin::compose::{Recipient, compile};
use bulletin::config::Config;
use bulletin::content::Issue;
use bulletin::project::Project;
use bulletin::subscriber::Subscriber;
use libfuzzer_sys::fuzz_target;

/// A project folder with one issue folder holding the example issue's images.
fn project() -> &'static (tempfile::TempDir, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let issue = dir.path().join("issue");
        std::fs::create_dir(&issue).expect("issue dir");
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/2023-09-cluster-news");
        if let Ok(entries) = std::fs::read_dir(&example) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "png") {
                    let _ = std::fs::copy(&p, issue.join(e.file_name()));
                }
            }
        }
        (dir, issue)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if Issue::parse(Path::new("issue.toml"), text).is_err() {
        return;
    }
    let (dir, issue) = project();
    if std::fs::write(issue.join("issue.toml"), text).is_err() {
        return;
    }
    let project = Project {
        root: dir.path().to_path_buf(),
        config_path: None,
        config: Config::default(),
    };
    let Ok(compiled) = compile(&project, issue, None) else {
        return;
    };
    let _ = bulletin::compose::check(&compiled);
    let mut member = Subscriber::from_email("ada@example.org");
    member.name = Some("Ada <Lovelace> & {{co}}".to_string());
    let _ = compiled.render(&Recipient {
        subscriber: &member,
        unsubscribe_url: "https://example.org/u/x",
    });
});
