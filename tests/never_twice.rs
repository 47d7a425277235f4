//! One copy of each issue per member, whatever happens to the project between runs: the real
//! binary in temp folders, sending to Postfix's smtp-sink on loopback, counting the copies each
//! member received from the sink's dumps. Each test states its scenario's duplicates and missed
//! members, and both must be 0.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::SmtpSink;
use support::cli::{Run, run};

/// `bulletin send issues/n1 --list LIST --smtp URL --yes EXTRA…` in `root`.
fn send(root: &Path, list: &str, sink: &SmtpSink, extra: &[&str]) -> Run {
    let url = sink.url();
    let mut args = vec!["send", "issues/n1", "--list", list, "--smtp", &url, "--yes"];
    args.extend_from_slice(extra);
    run(root, &args)
}

fn addresses(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("member{i}@example.org")).collect()
}

/// A project with issue `issues/n1` and `lists/NAME` for each (name, members).
fn project(lists: &[(&str, &[String])]) -> tempfile::TempDir {
    let dir =
        support::files::with_templates(support::files::SENDER, "n1", support::files::SHORT_ISSUE);
    for (name, members) in lists {
        write_list(dir.path(), name, members);
    }
    dir
}

/// Write `lists/NAME` in `root`: an email and a name column.
fn write_list(root: &Path, name: &str, members: &[String]) {
    let mut csv = String::from("email,name\n");
    for m in members {
        csv.push_str(&format!("{m},{m}\n"));
    }
    std::fs::write(root.join("lists").join(name), csv).unwrap();
}

/// The envelope recipient of each message the sink received, with its number of copies.
fn copies(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for dump in sink.dumped() {
        let text = String::from_utf8_lossy(&dump);
        let rcpt = text
            .lines()
            .find_map(|l| l.strip_prefix("X-Rcpt-Args: "))
            .expect("smtp-sink records the recipient")
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or("")
            .to_string();
        *m.entry(rcpt).or_default() += 1;
    }
    m
}

/// Duplicates (copies beyond the first) and members who got nothing, out of `members`.
fn duplicates_and_missed(sink: &SmtpSink, members: &[String]) -> (usize, Vec<String>) {
    let got = copies(sink);
    let duplicates = got.values().map(|n| n - 1).sum();
    let missed = members
        .iter()
        .filter(|m| !got.contains_key(*m))
        .cloned()
        .collect();
    (duplicates, missed)
}

#[track_caller]
fn assert_one_copy_each(scenario: &str, sink: &SmtpSink, members: &[String]) {
    let (duplicates, missed) = duplicates_and_missed(sink, members);
    eprintln!(
        "{scenario}: {} members, {duplicates} duplicates, {} missed",
        members.len(),
        missed.len()
    );
    assert_eq!(duplicates, 0, "{scenario}: copies {:?}", copies(sink));
    assert!(missed.is_empty(), "{scenario}: never received {missed:?}");
    assert_eq!(
        copies(sink).len(),
        members.len(),
        "{scenario}: strangers mailed"
    );
}

fn journals(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(".bulletin/journals"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    files
}

/// Every file under `dir` with its bytes, to show that a run wrote nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    m
}

#[test]
fn a_moved_project_mails_nobody_again() {
    let members = addresses(1..=40);
    let dir = project(&[("mv.csv", &members)]);
    let sink = SmtpSink::with_dump(&[]);
    send(dir.path(), "lists/mv.csv", &sink, &[])
        .expect(0)
        .stderr_has("to send: 40");

    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("moved-project");
    std::fs::rename(dir.path(), &moved).unwrap();
    let again = send(&moved, "lists/mv.csv", &sink, &[]);
    // put it back for the temp folder's cleanup
    std::fs::rename(&moved, dir.path()).unwrap();
    again
        .expect(0)
        .stderr_has("to send: 0")
        .stderr_has("skipped, already accepted: 40");
    assert_one_copy_each("moved project", &sink, &members);
}

#[test]
fn a_copied_project_mails_nobody_again() {
    let members = addresses(1..=40);
    let dir = project(&[("mv.csv", &members)]);
    let sink = SmtpSink::with_dump(&[]);
    send(dir.path(), "lists/mv.csv", &sink, &[]).expect(0);

    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("copy");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(dir.path())
        .arg(&copy)
        .status()
        .expect("cp -a");
    assert!(cp.success());
    // run from another folder of the copy, the list named by its absolute path
    let list = copy.join("lists/mv.csv");
    let again = run(
        &copy.join("issues"),
        &[
            "send",
            "n1",
            "--list",
            list.to_str().unwrap(),
            "--smtp",
            &sink.url(),
            "--yes",
        ],
    );
    again.expect(0).stderr_has("to send: 0");
    assert_one_copy_each("copied project", &sink, &members);
}

#[test]
fn a_declined_new_round_records_nothing_and_the_next_send_mails_nobody() {
    let members = addresses(1..=40);
    let dir = project(&[("m.csv", &members)]);
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    send(root, "lists/m.csv", &sink, &[]).expect(0);
    let before = snapshot(&root.join(".bulletin"));

    // No terminal and no --yes: the new round is refused, and nothing is written.
    let url = sink.url();
    let declined = run(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            "lists/m.csv",
            "--smtp",
            &url,
            "--new-round",
        ],
    );
    declined
        .expect(1)
        .stderr_has("to send: 40")
        .stderr_has("pass --yes");
    // A dry run of a new round writes nothing to the record either.
    run(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            "lists/m.csv",
            "--new-round",
            "--dry-run",
            "--yes",
        ],
    )
    .expect(0)
    .stderr_has("written: 40");
    let after = snapshot(&root.join(".bulletin"));
    let lock = root.join(".bulletin/journals/n1.lock");
    let changed: Vec<&PathBuf> = after
        .keys()
        .filter(|p| **p != lock && before.get(*p) != after.get(*p))
        .collect();
    assert!(changed.is_empty(), "written: {changed:?}");

    let plain = send(root, "lists/m.csv", &sink, &[]);
    plain.expect(0).stderr_has("nothing to send");
    assert_one_copy_each("declined new round", &sink, &members);
}

#[test]
fn a_member_on_two_lists_gets_one_copy() {
    let first = addresses(1..=20);
    let second = addresses(11..=30);
    let dir = project(&[("first.csv", &first), ("second.csv", &second)]);
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    send(root, "lists/first.csv", &sink, &[])
        .expect(0)
        .stderr_has("to send: 20");
    send(root, "lists/second.csv", &sink, &[])
        .expect(0)
        .stderr_has("to send: 10")
        .stderr_has("skipped, already accepted: 10");
    // the first list again, as a resume: nothing
    send(root, "lists/first.csv", &sink, &[])
        .expect(0)
        .stderr_has("nothing to send");
    assert_one_copy_each("member on two lists", &sink, &addresses(1..=30));
    assert_eq!(journals(root), [root.join(".bulletin/journals/n1.jsonl")]);
    // status counts each member once
    let status = run(root, &["status", "issues/n1", "--json"]);
    status.expect(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["total"]["accepted"], 30, "{json:#}");
}

#[test]
fn an_old_per_list_journal_still_counts() {
    let members = addresses(1..=10);
    let dir = project(&[("members.csv", &members)]);
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    send(root, "lists/members.csv", &sink, &[]).expect(0);
    // As an earlier version named it: after the issue, the list's name and a hash of its path.
    let old = root.join(".bulletin/journals/n1--members-1a2b3c4d.jsonl");
    std::fs::rename(root.join(".bulletin/journals/n1.jsonl"), &old).unwrap();
    // three more members joined since
    let grown = addresses(1..=13);
    write_list(root, "members.csv", &grown);
    send(root, "lists/members.csv", &sink, &[])
        .expect(0)
        .stderr_has("to send: 3")
        .stderr_has("skipped, already accepted: 10");
    assert_one_copy_each("old per-list journal", &sink, &grown);
    assert_eq!(
        journals(root),
        [old, root.join(".bulletin/journals/n1.jsonl")]
    );
}

#[test]
fn shard_journals_copied_in_from_other_machines_are_merged() {
    let members = addresses(1..=30);
    let dir = project(&[("m.csv", &members)]);
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    // Each shard sent from its own copy of the project, as on another machine.
    let machines = tempfile::tempdir().unwrap();
    for k in 1..=3 {
        let machine = machines.path().join(format!("machine{k}"));
        support::files::copy_dir(root, &machine);
        let shard = format!("{k}/3");
        send(&machine, "lists/m.csv", &sink, &["--shard", &shard]).expect(0);
        let from = machine.join(format!(".bulletin/journals/n1--shard{k}of3.jsonl"));
        let to = root.join(format!(".bulletin/journals/from-machine{k}.jsonl"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
    let status = run(root, &["status", "issues/n1", "--json"]);
    status.expect(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["total"]["accepted"], 30, "{json:#}");
    assert_eq!(json["journals"].as_array().unwrap().len(), 3);
    // The whole list from this machine: nobody is due.
    send(root, "lists/m.csv", &sink, &[])
        .expect(0)
        .stderr_has("skipped, already accepted: 30")
        .stderr_has("nothing to send");
    assert_one_copy_each("shards copied in", &sink, &members);
}

#[test]
fn a_damaged_journal_line_is_named_and_nobody_accepted_is_mailed_again() {
    let members = addresses(1..=10);
    let dir = project(&[("m.csv", &members)]);
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    send(root, "lists/m.csv", &sink, &["--connections", "1"]).expect(0);
    let journal = root.join(".bulletin/journals/n1.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let accepted_line = |lines: &[String], email: &str| {
        let key = lines
            .iter()
            .find(|l| l.contains(&format!("\"email\":\"{email}\"")))
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| v["key"].as_str().map(str::to_string))
            .unwrap();
        lines
            .iter()
            .position(|l| l.contains("\"accepted\"") && l.contains(&key))
            .unwrap()
    };
    // member3's acceptance cut short (its key still readable), member6's turned to noise
    let three = accepted_line(&lines, "member3@example.org");
    let cut = lines[three].find("\"reply\"").unwrap();
    lines[three].truncate(cut);
    let six = accepted_line(&lines, "member6@example.org");
    lines[six] = "\u{0}\u{0}\u{0}\u{0}".into();
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let at = |n: usize| format!("{}:{}: the journal is damaged", journal.display(), n + 1);

    // two more members joined since
    let grown = addresses(1..=12);
    write_list(root, "m.csv", &grown);
    let again = send(root, "lists/m.csv", &sink, &[]);
    again
        .expect(0)
        .stderr_has(&at(three))
        .stderr_has("read as: the member with key")
        .stderr_has(&at(six))
        .stderr_has("skipped, held back (damaged journal record): 1")
        .stderr_has(&format!(
            "lists/m.csv:7: \"member6@example.org\": {}:{} could not be read and may hold their outcome",
            journal.display(),
            six + 1
        ))
        .stderr_has("to send: 2");
    // status names the damage and counts member6 as held back
    let status = run(root, &["status", "issues/n1", "--json"]);
    status.expect(0).stderr_has(&at(six));
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["total"]["held"], 1, "{json:#}");
    assert_eq!(json["total"]["accepted"], 11, "{json:#}");
    assert_one_copy_each("damaged journal line", &sink, &grown);
}
