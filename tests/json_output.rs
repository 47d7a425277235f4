//! Every command that takes `--json` writes JSON, and only JSON, on stdout (one document, or
//! one document a line), and its human text (summaries, warnings, the preflight) on stderr,
//! so `bulletin … --json | jq` always works.

mod support;

use support::SmtpSink;
use support::cli::run;

/// The documents on stdout: one (possibly pretty-printed), or one a line.
fn documents(stdout: &str) -> Vec<serde_json::Value> {
    if let Ok(one) = serde_json::from_str(stdout) {
        return vec![one];
    }
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {l:?}"))
        })
        .collect()
}

#[test]
fn json_goes_to_stdout_and_the_words_to_stderr() {
    let sink = SmtpSink::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["init", "news"]).expect(0);
    let root = dir.path().join("news");
    // A link that says nothing, so that `check` has a finding to write.
    let issue = root.join("issues/first/issue.toml");
    let text = std::fs::read_to_string(&issue).unwrap();
    let vague = text.replace("[the writing guide](", "[here](");
    assert_ne!(text, vague, "the starter issue's link has moved");
    std::fs::write(&issue, vague).unwrap();
    let smtp = sink.url();
    // (arguments, exit code, what stderr says)
    let cases: [(&[&str], i32, &str); 7] = [
        (&["build", "issues/first", "--json"], 0, ""),
        (
            &["check", "issues/first", "--json"],
            0,
            "issues/first: 0 errors",
        ),
        (&["check", "--dns", "--json"], 3, "dns: "),
        (
            &[
                "send",
                "issues/first",
                "--list",
                "lists/members.csv",
                "--dry-run",
                "--yes",
                "--json",
            ],
            0,
            "to send: ",
        ),
        (
            &[
                "send",
                "issues/first",
                "--list",
                "lists/members.csv",
                "--smtp",
                &smtp,
                "--yes",
                "--json",
            ],
            0,
            "accepted: ",
        ),
        (&["status", "issues/first", "--json", "--members"], 0, ""),
        (&["bounces", "lists", "--json"], 0, "bounces: 0"),
    ];
    for (args, code, words) in cases {
        let r = run(&root, args);
        assert_eq!(r.code, code, "{args:?}\n{}", r.stderr);
        let docs = documents(&r.stdout);
        if args[0] != "bounces" {
            assert!(!docs.is_empty(), "{args:?}: nothing on stdout");
        }
        assert!(
            r.stderr.contains(words),
            "{args:?}: stderr lacks {words:?}:\n{}",
            r.stderr
        );
        // the words never leak into stdout
        if !words.is_empty() {
            assert!(!r.stdout.contains(words), "{args:?}: {words:?} on stdout");
        }
    }
}
