//! `bulletin bounces`: the real binary on the synthetic bounce messages in
//! tests/fixtures/bounces, read from a folder, one file, a Maildir and an mbox.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces")
}

fn bulletin(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run bulletin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn find<'a>(lines: &'a [Value], recipient: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["recipient"] == recipient)
        .unwrap_or_else(|| panic!("no line for {recipient} in {lines:#?}"))
}

#[test]
fn folder_of_eml_files_as_json() {
    let dir = fixtures();
    let (code, out, err) = bulletin(&["bounces", dir.to_str().unwrap(), "--json"], &dir);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 8, "{out}");

    let ada = find(&lines, "ada.gone@members.example.net");
    assert_eq!(ada["class"], "hard");
    assert_eq!(ada["status"], "5.1.1");
    assert_eq!(ada["reason"], "userunknown");
    assert_eq!(ada["issue"], "2026-11-cluster-news");
    assert_eq!(ada["member"], "k3v9q2m7x1");
    assert_eq!(ada["verp_token"], "k3v9q2m7x1");
    assert_eq!(ada["message_id"], "2026-11.k3v9q2m7x1@news.example.org");
    assert_eq!(ada["remote_mta"], "mx.members.example.net");
    assert!(ada["file"].as_str().unwrap().ends_with("postfix-dsn.eml"));
    assert!(
        ada["diagnostic"]
            .as_str()
            .unwrap()
            .contains("User unknown in virtual mailbox table"),
        "{ada}"
    );

    let grace = find(&lines, "grace.full@example.com");
    assert_eq!(
        (grace["class"].as_str(), grace["reason"].as_str()),
        (Some("soft"), Some("mailboxfull"))
    );
    let linus = find(&lines, "linus.later@example.com");
    assert_eq!(linus["class"], "soft");
    assert_eq!(linus["action"], "delayed");
    assert!(
        !lines
            .iter()
            .any(|v| v["recipient"] == "ok.person@example.com"),
        "a delivered recipient is no bounce"
    );

    let barbara = find(&lines, "barbara.nohost@nowhere.example");
    assert_eq!(
        (barbara["class"].as_str(), barbara["reason"].as_str()),
        (Some("hard"), Some("hostunknown"))
    );
    assert_eq!(barbara["issue"], "2026-11-cluster-news");

    let edsger = find(&lines, "edsger.unknown@example.jp");
    assert_eq!(
        (edsger["class"].as_str(), edsger["status"].as_str()),
        (Some("hard"), Some("5.1.1"))
    );

    let alan = find(&lines, "alan.spam@example.co.uk");
    assert_eq!(
        (alan["class"].as_str(), alan["reason"].as_str()),
        (Some("soft"), Some("spamdetected"))
    );

    let margaret = find(&lines, "margaret.annoyed@isp.example.com");
    assert_eq!(
        (margaret["class"].as_str(), margaret["reason"].as_str()),
        (Some("complaint"), Some("feedback"))
    );
    assert_eq!(margaret["member"], "q1w2e3r4t5");

    let katherine = find(&lines, "katherine.away@example.org");
    assert_eq!(katherine["class"], "auto-reply");

    assert!(
        !lines
            .iter()
            .any(|v| v["file"].as_str().unwrap().contains("not-a-bounce")),
        "a reader's reply or forward is no bounce: {out}"
    );
    assert!(
        err.contains("10 messages read, 7 reports, 8 bounced recipients"),
        "{err}"
    );
}

#[test]
fn messages_that_are_not_bounces_report_nothing() {
    // A reply, a reply whose subject sounds like a bounce and names an address on its own
    // line, and a forward with the original attached.
    for name in [
        "not-a-bounce.eml",
        "not-a-bounce-reply.eml",
        "not-a-bounce-forward.eml",
    ] {
        let f = fixtures().join(name);
        let (code, out, err) = bulletin(&["bounces", f.to_str().unwrap(), "--json"], &fixtures());
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, "", "{name}");
        assert!(err.contains("1 messages read, 0 reports"), "{name}: {err}");
    }
}

#[test]
fn human_table_by_default() {
    let f = fixtures().join("postfix-dsn.eml");
    let (code, out, _) = bulletin(&["bounces", f.to_str().unwrap()], &fixtures());
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert!(lines.next().unwrap().starts_with("RECIPIENT"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("ada.gone@members.example.net"), "{row}");
    assert!(
        row.contains(" hard ") && row.contains("5.1.1") && row.contains("userunknown"),
        "{row}"
    );
}

#[test]
fn maildir_and_mbox_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::copy(
        fixtures().join("postfix-dsn.eml"),
        maildir.join("new/1763284442.M1P1.host"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("qmail-text.eml"),
        maildir.join("cur/1763284443.M2P1.host:2,S"),
    )
    .unwrap();
    // tmp/ holds messages still being written: never read.
    std::fs::copy(
        fixtures().join("exim-text.eml"),
        maildir.join("tmp/partial"),
    )
    .unwrap();
    let (code, out, err) = bulletin(
        &["bounces", maildir.to_str().unwrap(), "--json"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let rcpts: Vec<_> = lines
        .iter()
        .map(|v| v["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(
        rcpts,
        ["ada.gone@members.example.net", "edsger.unknown@example.jp"]
    );

    // An mbox: From_ lines split messages; a ">From " in a body is unescaped, not a split.
    let mut mbox = Vec::new();
    for f in ["exim-text.eml", "gmail-text.eml", "not-a-bounce.eml"] {
        mbox.extend_from_slice(b"From MAILER-DAEMON Mon Nov 16 09:14:02 2026\n");
        let raw = std::fs::read(fixtures().join(f)).unwrap();
        let text = String::from_utf8(raw)
            .unwrap()
            .replace("\nHello.", "\n>From the editor: hello.");
        mbox.extend_from_slice(text.as_bytes());
        mbox.extend_from_slice(b"\n");
    }
    let mbox_path = tmp.path().join("bounces.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    let (code, out, err) = bulletin(
        &["bounces", mbox_path.to_str().unwrap(), "--json"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let rcpts: Vec<_> = lines
        .iter()
        .map(|v| v["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(
        rcpts,
        ["barbara.nohost@nowhere.example", "alan.spam@example.co.uk"]
    );
    assert!(
        lines[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("bounces.mbox#1")
    );
    assert!(err.contains("3 messages read"), "{err}");
}

#[test]
fn missing_source_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = bulletin(&["bounces", "no-such-mailbox"], tmp.path());
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(
        err.contains("error: no-such-mailbox: no such file or folder"),
        "{err}"
    );
}

#[test]
fn plain_imap_to_a_remote_host_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = bulletin(
        &["bounces", "imap://bounce@mail.example.org/INBOX"],
        tmp.path(),
    );
    assert_eq!(code, 1);
    assert!(err.contains("use imaps://"), "{err}");
}

/// The fixtures, truncated at every 7th byte and with bytes flipped, never make the reader
/// panic.
#[test]
fn mangled_fixtures_never_panic() {
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let raw = std::fs::read(e.unwrap().path()).unwrap();
        for cut in (0..raw.len()).step_by(7) {
            let _ = bulletin::bounce::parse(&raw[..cut]);
        }
        let mut flipped = raw.clone();
        for (i, b) in flipped.iter_mut().enumerate() {
            if i % 31 == 5 {
                *b = b.wrapping_add(0x80);
            }
        }
        let _ = bulletin::bounce::parse(&flipped);
        let _ = bulletin::bounce::parse(&raw.repeat(3));
    }
    for junk in [
        &b""[..],
        b"\n\n\n",
        b"From: \xff\xfe\r\n\r\n\xc3",
        b"Content-Type: multipart/report; boundary=\"\"\n\n--\n--\n",
    ] {
        assert!(bulletin::bounce::parse(junk).bounces.is_empty());
    }
}

fn project(soft_limit: u32) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("bulletin.toml"),
        format!("[bounces]\nsoft_limit = {soft_limit}\nsoft_window_days = 30\n"),
    )
    .unwrap();
    tmp
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn apply_records_and_suppresses_once() {
    let tmp = project(3);
    let dir = fixtures();
    let (code, _, err) = bulletin(&["bounces", dir.to_str().unwrap(), "--apply"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("8 new in the bounce log, 4 newly suppressed"),
        "{err}"
    );
    let log = read(tmp.path().join(".bulletin/bounces.jsonl"));
    let suppressed = read(tmp.path().join(".bulletin/suppressed.csv"));
    assert_eq!(log.lines().count(), 8, "{log}");
    let ada: Value = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["address"] == "ada.gone@members.example.net")
        .unwrap();
    assert_eq!(ada["class"], "hard");
    assert_eq!(ada["source"], "dsn");
    assert_eq!(ada["code"], 550);
    assert_eq!(ada["enhanced_status"], "5.1.1");
    assert_eq!(ada["issue"], "2026-11-cluster-news");
    assert_eq!(ada["time"], "2026-11-16T09:14:02Z");
    // Hard bounces and complaints suppress; soft bounces (once) and auto-replies do not.
    for who in [
        "ada.gone@members.example.net",
        "barbara.nohost@nowhere.example",
        "edsger.unknown@example.jp",
        "margaret.annoyed@isp.example.com",
    ] {
        assert!(
            suppressed.contains(&format!("\n{who},")),
            "{who} not in {suppressed}"
        );
    }
    for who in [
        "grace.full@example.com",
        "linus.later@example.com",
        "katherine.away@example.org",
    ] {
        assert!(!suppressed.contains(who), "{who} suppressed: {suppressed}");
    }

    // The same messages again change nothing.
    let (code, _, err) = bulletin(&["bounces", dir.to_str().unwrap(), "--apply"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("0 new in the bounce log, 0 newly suppressed"),
        "{err}"
    );
    assert_eq!(read(tmp.path().join(".bulletin/bounces.jsonl")), log);
    assert_eq!(
        read(tmp.path().join(".bulletin/suppressed.csv")),
        suppressed
    );
}

#[test]
fn soft_bounces_suppress_at_the_limit() {
    let tmp = project(2);
    let raw = read(fixtures().join("sendmail-two-recipients.eml"));
    let mailbox = tmp.path().join("in");
    std::fs::create_dir(&mailbox).unwrap();
    let date = chrono_like_today();
    for n in 1..=2 {
        // Two distinct reports (their own Message-IDs), both recent.
        let text = raw
            .replace(
                "Subject: Returned mail",
                &format!("Message-ID: <soft-{n}@mail.example.com>\nSubject: Returned mail"),
            )
            .replace(
                "Date: Tue, 17 Nov 2026 11:02:41 +0100",
                &format!("Date: {date}"),
            );
        std::fs::write(mailbox.join(format!("{n}.eml")), text).unwrap();
        let one = mailbox.join(format!("{n}.eml"));
        let (code, _, err) = bulletin(
            &[
                "bounces",
                one.to_str().unwrap(),
                "--apply",
                "--project",
                tmp.path().to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        let suppressed = read(tmp.path().join(".bulletin/suppressed.csv"));
        assert_eq!(
            suppressed.contains("grace.full@example.com"),
            n == 2,
            "after {n}: {suppressed}"
        );
    }
}

/// Today's date in RFC 5322 form, from the system clock.
fn chrono_like_today() -> String {
    let now = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    now.format(&f).unwrap()
}

#[test]
fn an_auto_reply_from_an_address_with_a_carriage_return_reports_nothing() {
    // Found by the `bounce` fuzz target.
    let raw = include_bytes!("../fuzz/regressions/bounce-cr-in-from.eml");
    for b in bulletin::bounce::parse(raw).bounces {
        assert!(!b.recipient.chars().any(char::is_control), "{b:?}");
    }
}

#[test]
fn a_multipart_that_trips_the_mime_parser_reports_nothing() {
    // Found by the `bounce` fuzz target: mail-parser reaches a debug assertion on it.
    let raw = include_bytes!("../fuzz/regressions/bounce-multipart-debug-assert.eml");
    let report = bulletin::bounce::parse(raw);
    for b in report.bounces {
        assert!(!b.recipient.is_empty(), "{b:?}");
    }
}
