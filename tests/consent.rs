//! Consent as the exports say it, end to end: the real binary on each platform's export, through
//! `send --dry-run` (the `.eml` files written and their recipients, the preflight pinned, `--json`),
//! a real send and `status`, and `preview --list`.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mail_parser::{Address, MessageParser};

const BIN: &str = env!("CARGO_BIN_EXE_bulletin");

const CONFIG: &str = r#"
[sender]
name = "Test News"
email = "news@news.test"
unsubscribe_url = "https://news.test/unsubscribe/{token}"
token_secret = "a-test-secret"

[smtp]
timeout_secs = 5

[send]
retries = 0
"#;

const ISSUE: &str = r#"
subject = "Test News, November"
title = "TEST NEWS"
editor_note = "Hello from the editor."

[[sections]]
heading = "One"
body = "A short body."
"#;

/// A project with the repository's templates and the issue `issues/n1`; `extra` is appended to
/// its `bulletin.toml`.
fn project(extra: &str) -> tempfile::TempDir {
    support::files::with_templates(&format!("{CONFIG}\n{extra}"), "n1", ISSUE)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lists")
            .join(name),
    )
    .expect("fixture list")
}

use support::files::bulletin;

/// `send issues/n1 --list LIST --yes --dry-run --outbox box --json`.
fn dry_run(root: &Path, list: &str) -> Output {
    support::files::dry_run_of(root, "issues/n1", list, &["--json"])
}

/// What a send printed, less the DNS preflight's warnings about the test's reserved domain
/// (pinned in tests/dns.rs).
fn without_dns(stderr: &[u8]) -> String {
    let mut out = String::new();
    let mut in_dns = false;
    for line in text(stderr).lines() {
        if line.starts_with("warning: dns:") {
            in_dns = true;
            continue;
        }
        if in_dns && line.starts_with("  ") {
            continue;
        }
        in_dns = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The To address of every message in the outbox, lower-cased, one per file.
fn recipients(root: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(root.join("box")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).unwrap();
            let message = MessageParser::default().parse(&bytes).expect("a message");
            let Some(Address::List(to)) = message.to() else {
                panic!("{}: one To address expected", f.display());
            };
            assert_eq!(to.len(), 1, "{}", f.display());
            to[0].address().unwrap_or_default().to_lowercase()
        })
        .collect()
}

/// The preflight's JSON (the first line of stdout with `--json`).
fn preflight_json(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().expect("a JSON line on stdout");
    serde_json::from_str::<serde_json::Value>(first).unwrap()["preflight"].clone()
}

struct Platform {
    list: &'static str,
    /// Who gets a message.
    mailed: &'static [&'static str],
    /// Rows left out, by reason.
    skipped: &'static [(&'static str, u64)],
    /// stderr of the dry run.
    preflight: &'static str,
}

const PLATFORMS: &[Platform] = &[
    Platform {
        list: "mailchimp.csv",
        mailed: &["ann@example.org", "bob@example.com"],
        skipped: &[],
        preflight: r#"list: lists/mailchimp.csv
  consent: no consent or status column (a Mailchimp export of subscribed members): every valid address is mailed, unless suppressed
  to send: 2
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "mailchimp-unsubscribed.csv",
        mailed: &[],
        skipped: &[("unsubscribed", 3)],
        preflight: r#"list: lists/mailchimp-unsubscribed.csv
  consent: read from "UNSUB_TIME" (Mailchimp unsubscribed export: every row is left out)
  to send: 0
  skipped, unsubscribed: 3
    lists/mailchimp-unsubscribed.csv:2: "cora@example.org": UNSUB_TIME is "2024-03-05 11:12:13"
    lists/mailchimp-unsubscribed.csv:3: "dev@example.net": UNSUB_TIME is "2024-04-01 08:00:00"
    lists/mailchimp-unsubscribed.csv:4: "jose@example.com": UNSUB_TIME is "2024-05-06 07:08:09"
  rate: unlimited, 4 connection(s)
nothing to send
"#,
    },
    Platform {
        list: "mailchimp-cleaned.csv",
        mailed: &[],
        skipped: &[("cleaned", 2)],
        preflight: r#"list: lists/mailchimp-cleaned.csv
  consent: read from "CLEAN_TIME" (Mailchimp cleaned export: every row is left out)
  to send: 0
  skipped, cleaned: 2
    lists/mailchimp-cleaned.csv:2: "gone@example.org": CLEAN_TIME is "2023-11-12 13:14:15"
    lists/mailchimp-cleaned.csv:3: "typo@example.com": CLEAN_TIME is "2023-12-01 00:00:00"
  rate: unlimited, 4 connection(s)
nothing to send
"#,
    },
    Platform {
        list: "listmonk.csv",
        mailed: &["ann@example.org", "zoe@example.org", "sean@example.org"],
        skipped: &[
            ("blocklisted", 1),
            ("email disabled", 1),
            ("unconfirmed", 1),
            ("unsubscribed", 1),
        ],
        preflight: r#"list: lists/listmonk.csv
  consent: read from "status" (status), "subscription_status" (subscription status)
  to send: 3
  skipped, blocklisted: 1
    lists/listmonk.csv:3: "bob@example.org": status is "blocklisted"
  skipped, email disabled: 1
    lists/listmonk.csv:7: "eve@example.org": status is "disabled"
  skipped, unconfirmed: 1
    lists/listmonk.csv:4: "cy@example.org": subscription_status is "unconfirmed"
  skipped, unsubscribed: 1
    lists/listmonk.csv:5: "di@example.org": subscription_status is "unsubscribed"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 3, not built: 0
"#,
    },
    Platform {
        list: "ghost.csv",
        mailed: &["ann@example.org", "jose@example.com", "yamada@example.jp"],
        skipped: &[("unsubscribed", 2)],
        preflight: r#"list: lists/ghost.csv
  consent: read from "subscribed_to_emails" (Ghost subscribed_to_emails)
  to send: 3
  skipped, unsubscribed: 2
    lists/ghost.csv:3: "bob@example.org": subscribed_to_emails is "false"
    lists/ghost.csv:4: "cy@example.org": subscribed_to_emails is "FALSE"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 3, not built: 0
"#,
    },
    Platform {
        list: "substack.csv",
        mailed: &["ann@example.org", "jorg@buecher.example", "zoe@example.org"],
        skipped: &[("email disabled", 2)],
        preflight: r#"list: lists/substack.csv
  consent: read from "email_disabled" (Substack email_disabled)
  to send: 3
  skipped, email disabled: 2
    lists/substack.csv:3: "bob@example.org": email_disabled is "true"
    lists/substack.csv:5: "cy@example.org": email_disabled is "TRUE"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 3, not built: 0
"#,
    },
    Platform {
        list: "buttondown.csv",
        mailed: &[
            "ann@example.org",
            "bob@example.org",
            "zoe@example.org",
            "sean@example.org",
        ],
        skipped: &[("blocklisted", 1), ("unconfirmed", 1), ("unsubscribed", 2)],
        preflight: r#"list: lists/buttondown.csv
  consent: read from "subscriber_type" (Buttondown subscriber type)
  to send: 4
  skipped, blocklisted: 1
    lists/buttondown.csv:6: "spam@example.net": subscriber_type is "spammy"
  skipped, unconfirmed: 1
    lists/buttondown.csv:5: "di@example.org": subscriber_type is "unactivated"
  skipped, unsubscribed: 2
    lists/buttondown.csv:4: "cy@example.org": subscriber_type is "unsubscribed"
    lists/buttondown.csv:7: "eve@example.org": subscriber_type is "removed"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 4, not built: 0
"#,
    },
    Platform {
        list: "kit.csv",
        mailed: &["ann@example.org", "zoe@example.org"],
        skipped: &[
            ("blocklisted", 1),
            ("bounced", 1),
            ("unconfirmed", 1),
            ("unsubscribed", 2),
        ],
        preflight: r#"list: lists/kit.csv
  consent: read from "status" (status)
  to send: 2
  skipped, blocklisted: 1
    lists/kit.csv:6: "eve@example.org": status is "complained"
  skipped, bounced: 1
    lists/kit.csv:5: "di@example.org": status is "bounced"
  skipped, unconfirmed: 1
    lists/kit.csv:4: "cy@example.org": status is "unconfirmed"
  skipped, unsubscribed: 2
    lists/kit.csv:3: "bob@example.org": status is "cancelled"
    lists/kit.csv:8: "sean@example.org": status is "Inactive"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "mailerlite.csv",
        mailed: &["ann@example.org", "zoe@example.org"],
        skipped: &[
            ("bounced", 1),
            ("cleaned", 1),
            ("unconfirmed", 1),
            ("unsubscribed", 1),
        ],
        preflight: r#"list: lists/mailerlite.csv
  consent: read from "Status" (status), "Subscribed" (yes/no opt-in), "Unsubscribed" (yes/no opt-out)
  to send: 2
  skipped, bounced: 1
    lists/mailerlite.csv:5: "di@example.org": Status is "bounced"
  skipped, cleaned: 1
    lists/mailerlite.csv:6: "junk@example.net": Status is "junk"
  skipped, unconfirmed: 1
    lists/mailerlite.csv:4: "cy@example.org": Status is "unconfirmed"
  skipped, unsubscribed: 1
    lists/mailerlite.csv:3: "bob@example.org": Status is "unsubscribed"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "brevo.csv",
        mailed: &["ann@example.org", "zoe@example.org"],
        skipped: &[("blocklisted", 2)],
        preflight: r#"list: lists/brevo.csv
  consent: read from "EMAIL_BLACKLISTED" (Brevo blocklist)
  to send: 2
  skipped, blocklisted: 2
    lists/brevo.csv:3: "bob@example.org": EMAIL_BLACKLISTED is "Yes"
    lists/brevo.csv:5: "cy@example.org": EMAIL_BLACKLISTED is "YES"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "hubspot.csv",
        mailed: &["ann@example.org", "zoe@example.org"],
        skipped: &[
            ("bounced", 1),
            ("not a marketing contact", 1),
            ("unsubscribed", 2),
        ],
        preflight: r#"list: lists/hubspot.csv
  consent: read from "Marketing contact status" (HubSpot marketing contact status), "Unsubscribed from all email" (HubSpot unsubscribed from all email), "Opted out of email: Monthly Newsletter" (HubSpot opted out of an email subscription), "Email hard bounce reason" (bounce date or reason)
  to send: 2
  skipped, bounced: 1
    lists/hubspot.csv:5: "di@example.org": Email hard bounce reason is "BOUNCED (550 5.1.1 user unknown)"
  skipped, not a marketing contact: 1
    lists/hubspot.csv:4: "cy@example.org": Marketing contact status is "Non-marketing contact"
  skipped, unsubscribed: 2
    lists/hubspot.csv:3: "bob@example.org": Unsubscribed from all email is "true"
    lists/hubspot.csv:7: "eve@example.org": Opted out of email: Monthly Newsletter is "true"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "sendy.csv",
        mailed: &["ann@example.org", "zoe@example.org"],
        skipped: &[
            ("blocklisted", 1),
            ("bounced", 2),
            ("unconfirmed", 1),
            ("unsubscribed", 1),
        ],
        preflight: r#"list: lists/sendy.csv
  consent: read from "Status" (status)
  to send: 2
  skipped, blocklisted: 1
    lists/sendy.csv:6: "eve@example.org": Status is "Marked as spam"
  skipped, bounced: 2
    lists/sendy.csv:5: "di@example.org": Status is "Bounced"
    lists/sendy.csv:8: "fay@example.org": Status is "Soft bounced"
  skipped, unconfirmed: 1
    lists/sendy.csv:4: "cy@example.org": Status is "Unconfirmed"
  skipped, unsubscribed: 1
    lists/sendy.csv:3: "bob@example.org": Status is "Unsubscribed"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
    Platform {
        list: "google-contacts.csv",
        mailed: &["ann@example.org", "zoe@example.org", "yamada@example.jp"],
        skipped: &[],
        preflight: r#"list: lists/google-contacts.csv
  consent: no consent or status column (a Google Contacts export: everyone in it is a contact): every valid address is mailed, unless suppressed
  to send: 3
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 3, not built: 0
"#,
    },
    Platform {
        list: "outlook.csv",
        mailed: &["ann@example.org", "soren@example.dk"],
        skipped: &[],
        preflight: r#"list: lists/outlook.csv
  consent: no consent or status column (an Outlook contacts export: everyone in it is a contact): every valid address is mailed, unless suppressed
  to send: 2
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 2, not built: 0
"#,
    },
];

#[test]
fn every_platforms_export_mails_only_the_members_it_lets_us_mail() {
    for p in PLATFORMS {
        let dir = project("");
        let root = dir.path();
        support::files::write(&root.join("lists").join(p.list), &fixture(p.list));
        let out = dry_run(root, &format!("lists/{}", p.list));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            p.list,
            text(&out.stderr)
        );
        assert_eq!(without_dns(&out.stderr), p.preflight, "{}", p.list);

        let mut got = recipients(root);
        let files = got.len();
        got.sort();
        let mut want: Vec<String> = p.mailed.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(
            got, want,
            "{}: one message per member who may be mailed",
            p.list
        );
        assert_eq!(files, p.mailed.len(), "{}", p.list);

        let json = preflight_json(&out);
        assert_eq!(json["to_send"], p.mailed.len() as u64, "{}", p.list);
        let skipped: Vec<(String, u64)> = json["skipped"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        let want: Vec<(String, u64)> = p.skipped.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        assert_eq!(skipped, want, "{}", p.list);
        // the JSON names each row left out, and what the list said
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(
            rows.len() as u64,
            want.iter().map(|(_, n)| n).sum::<u64>(),
            "{}",
            p.list
        );
        for row in rows {
            assert!(row["line"].as_u64().unwrap() > 1, "{row}");
            assert!(!row["detail"].as_str().unwrap().is_empty(), "{row}");
        }
        let consent = &json["consent"][0];
        assert_eq!(consent["list"], format!("lists/{}", p.list));
        assert!(p.preflight.contains(consent["consent"].as_str().unwrap()));
    }
}

const CLUB: &str = "Email,Name,Status\nann@example.org,\"Lee, Ann\",member\nbob@example.org,Bob,board\ncy@example.org,Zoë \"Cy\" Faure,member\ndi@example.org,Di,resigned\neve@example.org,Eve,unsubscribed\n";

#[test]
fn values_bulletin_does_not_understand_stop_the_send_before_anything_is_sent() {
    let dir = project("");
    let root = dir.path();
    support::files::write(&root.join("lists/club.csv"), CLUB.as_bytes());
    let expected = "error: lists/club.csv: the column \"Status\" holds values bulletin cannot read as consent, so nothing is sent:
    \"member\": 2 rows, first on line 2
    \"board\": 1 row, first on line 3
    \"resigned\": 1 row, first on line 5
  = hint: say which values of \"Status\" mean \"send\" in bulletin.toml (every other value, an empty cell included, is then left out), keeping only those that do:
        [lists]
        send_when = { column = \"Status\", values = [\"member\", \"board\", \"resigned\"] }
    or, if the column says nothing about consent: not_consent = [\"Status\"]
";
    let out = dry_run(root, "lists/club.csv");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(without_dns(&out.stderr), expected);
    assert!(out.stdout.is_empty());
    assert!(!root.join("box").exists(), "no message written");

    // a real send stops the same way, before any connection and before any journal
    let port = support::free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let out = bulletin(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            "lists/club.csv",
            "--smtp",
            &url,
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(without_dns(&out.stderr), expected);
    let journals = std::fs::read_dir(root.join(".bulletin"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("journal"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(journals, 0, "no journal is opened");
}

#[test]
fn send_when_says_which_values_mean_send() {
    let dir =
        project("[lists]\nsend_when = { column = \"Status\", values = [\"member\", \"board\"] }\n");
    let root = dir.path();
    support::files::write(&root.join("lists/club.csv"), CLUB.as_bytes());
    let out = dry_run(root, "lists/club.csv");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        without_dns(&out.stderr),
        "list: lists/club.csv
  consent: read from \"Status\" ([lists] send_when)
  to send: 3
  skipped, not in send_when: 1
    lists/club.csv:5: \"di@example.org\": Status is \"resigned\"
  skipped, unsubscribed: 1
    lists/club.csv:6: \"eve@example.org\": Status is \"unsubscribed\"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 3, not built: 0
"
    );
    let got: BTreeSet<String> = recipients(root).into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            "ann@example.org".into(),
            "bob@example.org".into(),
            "cy@example.org".into()
        ])
    );
}

#[test]
fn a_member_any_row_opts_out_is_not_mailed_in_either_order() {
    let dir = project("");
    let root = dir.path();
    support::files::write(
        &root.join("lists/a.csv"),
        b"email,name,status\nann@example.org,Ann,subscribed\nDup@Example.org,\"Dup, Jr.\",subscribed\ndup@example.org,Dup,unsubscribed\n",
    );
    let out = dry_run(root, "lists/a.csv");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(recipients(root), ["ann@example.org"]);
    assert_eq!(
        without_dns(&out.stderr),
        "list: lists/a.csv
  consent: read from \"status\" (status)
  to send: 1
  skipped, duplicate: 1
    lists/a.csv:3: \"Dup@Example.org\": same address as line 4, which says unsubscribed
  skipped, unsubscribed: 1
    lists/a.csv:4: \"dup@example.org\": status is \"unsubscribed\"
  rate: unlimited, 4 connection(s)
dry run: writing messages into box
written: 1, not built: 0
"
    );

    let dir = project("");
    let root = dir.path();
    support::files::write(
        &root.join("lists/b.csv"),
        b"email,name,status\nann@example.org,Ann,subscribed\ndup@example.org,Dup,unsubscribed\nDup@Example.org,\"Dup, Jr.\",subscribed\n",
    );
    let out = dry_run(root, "lists/b.csv");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(recipients(root), ["ann@example.org"]);
    let json = preflight_json(&out);
    assert_eq!(
        json["skipped"],
        serde_json::json!({"duplicate": 1, "unsubscribed": 1})
    );
    assert_eq!(
        json["rows"],
        serde_json::json!([
            {"line": 3, "email": "dup@example.org", "reason": "unsubscribed", "detail": "status is \"unsubscribed\""},
            {"line": 4, "email": "Dup@Example.org", "reason": "duplicate", "detail": "same address as line 3, which says unsubscribed"},
        ])
    );
}

#[test]
fn the_suppression_list_wins_over_the_list() {
    let dir = project("");
    let root = dir.path();
    support::files::write(&root.join("lists/ghost.csv"), &fixture("ghost.csv"));
    support::files::write(
        &root.join(".bulletin/suppressed.csv"),
        b"email,reason,source,time\nANN@example.org,complaint,manual,2024-01-01T00:00:00Z\n",
    );
    let out = dry_run(root, "lists/ghost.csv");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: BTreeSet<String> = recipients(root).into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from(["jose@example.com".into(), "yamada@example.jp".into()])
    );
    assert!(
        text(&out.stderr).contains(
            "  skipped, suppressed: 1\n    lists/ghost.csv:2: \"ann@example.org\": in the suppression list (complaint)\n"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_real_send_mails_only_who_may_be_mailed_and_status_reports_the_list() {
    let sink = support::SmtpSink::with_dump(&[]);
    let dir = project("");
    let root = dir.path();
    support::files::write(&root.join("lists/kit.csv"), &fixture("kit.csv"));
    let out = bulletin(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            "lists/kit.csv",
            "--smtp",
            &sink.url(),
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // smtp-sink writes its dumps as the messages arrive
    let start = std::time::Instant::now();
    while sink.dumped().len() < 2 && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let rcpts: BTreeSet<String> = sink
        .dumped()
        .iter()
        .map(|d| {
            let t = text(d);
            let line = t
                .lines()
                .find(|l| l.starts_with("X-Rcpt-Args: "))
                .unwrap()
                .to_string();
            line.trim_start_matches("X-Rcpt-Args: <")
                .split('>')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        rcpts,
        BTreeSet::from(["ann@example.org".into(), "zoe@example.org".into()])
    );

    let status = bulletin(root, &["status", "issues/n1"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let report = text(&status.stdout);
    for line in [
        "  consent: read from \"status\" (status)\n",
        "  left out by the list, blocklisted: 1\n",
        "  left out by the list, bounced: 1\n",
        "  left out by the list, unconfirmed: 1\n",
        "  left out by the list, unsubscribed: 2\n",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
    // the list changes: status says the next send would stop, and why
    let mut list = fixture("kit.csv");
    list.extend_from_slice(b"Fay,fay@example.org,on hold,2024-02-08 10:00:00 UTC,\n");
    support::files::write(&root.join("lists/kit.csv"), &list);
    let status = bulletin(root, &["status", "issues/n1", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let error = json["journals"][0]["list_consent"]["error"]
        .as_str()
        .unwrap();
    assert!(
        error.starts_with(
            "lists/kit.csv: the column \"status\" holds values bulletin cannot read as consent"
        ),
        "{error}"
    );
    assert!(
        error.contains("\"on hold\": 1 row, first on line 9"),
        "{error}"
    );
}

/// `bulletin preview --list LIST`, asked for its state over HTTP, then stopped.
fn preview_state(root: &Path, list: &str) -> Result<serde_json::Value, String> {
    let mut child = Command::new(BIN)
        .args([
            "preview",
            "issues/n1",
            "--no-open",
            "--port",
            "0",
            "--list",
            list,
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    if first.is_empty() {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let code = child.wait().unwrap().code();
        return Err(format!("exit {code:?}: {err}"));
    }
    let addr = first
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /api/state HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    Ok(serde_json::from_str(body).unwrap())
}

#[test]
fn the_preview_offers_only_members_who_may_be_mailed() {
    let dir = project("");
    let root = dir.path();
    let mut list = fixture("buttondown.csv");
    // an address the list opts out on a later row
    list.extend_from_slice(b"1c9f2b00-0000-4000-8000-000000000009,Ann@Example.org,,{},,2024-01-09T00:00:00Z,unsubscribed,form,\n");
    support::files::write(&root.join("lists/buttondown.csv"), &list);
    let state = preview_state(root, "lists/buttondown.csv").unwrap();
    let offered: Vec<&str> = state["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        ["bob@example.org", "zoe@example.org", "sean@example.org"]
    );

    support::files::write(&root.join("lists/club.csv"), CLUB.as_bytes());
    let err = preview_state(root, "lists/club.csv").unwrap_err();
    assert!(
        err.starts_with("exit Some(1): error: lists/club.csv: the column \"Status\""),
        "{err}"
    );
}
