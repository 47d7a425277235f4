//! `--shard K/N` and `bulletin status --journal …`: the shards of a list partition it (every
//! member in exactly one shard), each shard keeps its own journal, and `status` merges the
//! journals copied back from several machines into one report. The real binary, in temp
//! folders, sending to Postfix's smtp-sink on loopback.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mail_parser::{Address, MessageParser};
use support::SmtpSink;

const SHARDS: u32 = 3;
const MEMBERS: usize = 60;

const CONFIG: &str = r#"
[sender]
name = "Test News"
email = "news@news.test"
bounce_address = "bounces@news.test"
unsubscribe_url = "https://news.test/unsubscribe/{token}"
token_secret = "a-test-secret"

[send]
rate = "unlimited"
"#;

const ISSUE: &str = r#"
subject = "Test News, November"
title = "TEST NEWS"
editor_note = "Hello from the editor."
"#;

/// A project in a temp folder with issue `issues/n1` and `lists/members.csv`: MEMBERS members,
/// plus one duplicate (in other case) and one invalid row, which no shard may send.
fn project() -> (tempfile::TempDir, Vec<String>) {
    let dir = support::files::with_templates(CONFIG, "n1", ISSUE);
    let root = dir.path();
    let members: Vec<String> = (0..MEMBERS)
        .map(|i| format!("member{i}@example.org"))
        .collect();
    let mut csv = String::from("email,name\n");
    for (i, m) in members.iter().enumerate() {
        csv.push_str(&format!("{m},Member {i}\n"));
    }
    csv.push_str("MEMBER7@Example.org,Member 7 again\n");
    csv.push_str("not-an-address,Nobody\n");
    std::fs::write(root.join("lists/members.csv"), csv).unwrap();
    (dir, members)
}

/// Run the binary in `root`; returns (exit code, stdout, stderr).
fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = support::files::bulletin(root, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `To` address of a message.
fn recipient(bytes: &[u8]) -> String {
    let message = MessageParser::default()
        .parse(bytes)
        .expect("a parsable message");
    match message.to() {
        Some(Address::List(list)) => list[0].address().unwrap_or_default().to_string(),
        other => panic!("unexpected To: {other:?}"),
    }
}

/// Every member in exactly one shard, and all of them somewhere: a count per member.
fn assert_partition(members: &[String], per_shard: &BTreeMap<u32, Vec<String>>) {
    let mut seen: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (k, addresses) in per_shard {
        assert!(!addresses.is_empty(), "shard {k}/{SHARDS} is empty");
        for a in addresses {
            seen.entry(a.as_str()).or_default().push(*k);
        }
    }
    for m in members {
        match seen.get(m.as_str()).map(Vec::as_slice) {
            Some([_]) => {}
            Some(shards) => panic!("{m} was sent by shards {shards:?}"),
            None => panic!("{m} was sent by no shard"),
        }
    }
    let expected: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    let got: BTreeSet<&str> = seen.keys().copied().collect();
    assert_eq!(got, expected, "shards sent to addresses not in the list");
}

#[test]
fn dry_runs_of_every_shard_cover_each_member_once() {
    let (dir, members) = project();
    let root = dir.path();
    let mut per_shard = BTreeMap::new();
    for k in 1..=SHARDS {
        let shard = format!("{k}/{SHARDS}");
        let outbox = format!("outbox-{k}");
        let (code, _, stderr) = run(
            root,
            &[
                "send",
                "issues/n1",
                "--list",
                "lists/members.csv",
                "--dry-run",
                "--yes",
                "--shard",
                &shard,
                "--outbox",
                &outbox,
            ],
        );
        assert_eq!(code, 0, "shard {shard}: {stderr}");
        let addresses: Vec<String> = files_with_ext(&root.join(&outbox), "eml")
            .iter()
            .map(|p| recipient(&std::fs::read(p).unwrap()))
            .collect();
        assert!(
            stderr.contains(&format!("written: {}", addresses.len())),
            "shard {shard}: {stderr}"
        );
        per_shard.insert(k, addresses);
    }
    assert_partition(&members, &per_shard);
}

#[test]
fn shards_sent_apart_partition_the_list_and_status_merges_their_journals() {
    let (dir, members) = project();
    let root = dir.path();
    let sink = SmtpSink::with_dump(&[]);
    // Each shard as a separate machine would run it: its own state folder (journal), then the
    // journals are copied back into one folder.
    let collected = root.join("collected");
    std::fs::create_dir_all(&collected).unwrap();
    let mut journals = Vec::new();
    let mut accepted_by_shard = BTreeMap::new();
    for k in 1..=SHARDS {
        let shard = format!("{k}/{SHARDS}");
        let (code, stdout, stderr) = run(
            root,
            &[
                "send",
                "issues/n1",
                "--list",
                "lists/members.csv",
                "--smtp",
                &sink.url(),
                "--yes",
                "--json",
                "--connections",
                "2",
                "--shard",
                &shard,
            ],
        );
        assert_eq!(code, 0, "shard {shard}: {stderr}");
        let summary: serde_json::Value = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v.get("summary").is_some())
            .unwrap_or_else(|| panic!("shard {shard}: no summary in {stdout}"));
        let accepted = summary["summary"]["accepted"].as_u64().unwrap();
        accepted_by_shard.insert(k, accepted);

        // Move this shard's journal out, as if it came back from another machine.
        let state = root.join(".bulletin/journals");
        let files = files_with_ext(&state, "jsonl");
        assert_eq!(files.len(), 1, "shard {shard}: journals {files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.contains(&format!("shard{k}of{SHARDS}")),
            "journal {name}"
        );
        let dest = collected.join(format!("shard-{k}.jsonl"));
        std::fs::rename(&files[0], &dest).unwrap();
        journals.push(dest);
    }

    // What the sink received: every member exactly once.
    let received: Vec<String> = sink.dumped().iter().map(|m| recipient(m)).collect();
    assert_eq!(received.len(), MEMBERS, "messages received");
    let mut per_member: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &received {
        *per_member.entry(r.as_str()).or_default() += 1;
    }
    for m in &members {
        assert_eq!(per_member.get(m.as_str()), Some(&1), "{m}");
    }
    assert_eq!(accepted_by_shard.values().sum::<u64>(), MEMBERS as u64);

    // The merged report: each journal's own count, and the total over all of them.
    let mut args = vec!["status", "issues/n1", "--json"];
    for j in &journals {
        args.push("--journal");
        args.push(j.to_str().unwrap());
    }
    let (code, stdout, stderr) = run(root, &args);
    assert_eq!(code, 0, "status: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("status --json");
    assert_eq!(report["total"]["accepted"], MEMBERS as u64, "{report:#}");
    assert_eq!(report["total"]["uncertain"], 0, "{report:#}");
    assert_eq!(report["total"]["deferred"], 0, "{report:#}");
    let reported = report["journals"].as_array().expect("journals");
    assert_eq!(reported.len(), SHARDS as usize);
    for (k, j) in (1..=SHARDS).zip(reported) {
        assert_eq!(
            j["counts"]["accepted"].as_u64(),
            Some(accepted_by_shard[&k]),
            "shard {k}: {j:#}"
        );
    }

    // The text report ends with the merged total.
    let mut args: Vec<&str> = vec!["status", "issues/n1"];
    for j in &journals {
        args.push("--journal");
        args.push(j.to_str().unwrap());
    }
    let (code, stdout, _) = run(root, &args);
    assert_eq!(code, 0);
    let total = stdout
        .split("all journals of n1:")
        .nth(1)
        .unwrap_or_else(|| panic!("no merged total in {stdout}"));
    assert!(total.contains(&format!("accepted:  {MEMBERS}")), "{stdout}");
}

#[test]
fn a_shard_resumes_from_its_own_journal_only() {
    let (dir, _) = project();
    let root = dir.path();
    let sink = SmtpSink::start(&[]);
    let send = |shard: &str| {
        let (code, stdout, stderr) = run(
            root,
            &[
                "send",
                "issues/n1",
                "--list",
                "lists/members.csv",
                "--smtp",
                &sink.url(),
                "--yes",
                "--json",
                "--shard",
                shard,
            ],
        );
        assert_eq!(code, 0, "shard {shard}: {stderr}");
        (stdout, stderr)
    };
    let accepted = |stdout: &str| -> u64 {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|v| v["summary"]["accepted"].as_u64())
            .unwrap_or(0)
    };
    let (first, _) = send("1/3");
    assert!(accepted(&first) > 0);
    // Shard 1 again: its journal says everyone is done.
    let (_, again) = send("1/3");
    assert!(again.contains("nothing to send"), "{again}");
    // Shard 2 is not held back by shard 1's journal.
    let (second, _) = send("2/3");
    assert!(accepted(&second) > 0);
    assert_eq!(
        files_with_ext(&root.join(".bulletin/journals"), "jsonl").len(),
        2
    );
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == ext));
    files.sort();
    files
}
