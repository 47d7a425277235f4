//! Segments, daily quotas and start times, end to end: `--where` on the sample and messy lists
//! (dry runs, one `.eml` per member), several `--list` merged, a daily quota against
//! smtp-sink over runs on a clock moved on (`BULLETIN_CLOCK`, read by debug builds only),
//! `--wait`, `--at` and Ctrl-C while waiting.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

use mail_parser::{Address, MessageParser};
use support::SmtpSink;
use support::cli::Run;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const CONFIG: &str = r#"
[smtp]
timeout_secs = 5

[send]
retries = 0
"#;

/// A project with the repository's templates and a short issue `issues/n1`.
fn project() -> tempfile::TempDir {
    support::files::with_templates(
        &format!("{}{CONFIG}", support::files::SENDER),
        "n1",
        support::files::SHORT_ISSUE,
    )
}

fn write_list(root: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    std::fs::write(root.join("lists").join(name), bytes).unwrap();
    format!("lists/{name}")
}

/// The repository's sample list, or a fixture list, copied into the project.
fn copy_list(root: &Path, from: &str) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(from);
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    write_list(root, &name, std::fs::read(&src).expect("list to copy"))
}

fn run(root: &Path, args: &[&str]) -> Run {
    support::cli::run(root, args)
}

/// The To address of each message.
fn recipients(messages: &[Vec<u8>]) -> Vec<String> {
    messages
        .iter()
        .map(|bytes| {
            let m = MessageParser::default().parse(bytes).expect("a message");
            let Some(Address::List(to)) = m.to() else {
                panic!("one To address expected");
            };
            to[0].address().unwrap_or_default().to_lowercase()
        })
        .collect()
}

/// A dry run of issue n1 to `lists` with `--where EXPR`: the run and the addresses written.
fn dry_run_where(root: &Path, lists: &[&str], expr: &str) -> (Run, BTreeSet<String>) {
    let outbox = root.join("box");
    let _ = std::fs::remove_dir_all(&outbox);
    let mut args = vec!["send", "issues/n1", "--yes", "--dry-run", "--outbox", "box"];
    for l in lists {
        args.extend(["--list", l]);
    }
    args.extend(["--where", expr]);
    let r = run(root, &args);
    let files: Vec<Vec<u8>> = std::fs::read_dir(&outbox)
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    let got: Vec<String> = recipients(&files);
    let set: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len(), "one copy each: {got:?}");
    (r, set)
}

fn set(addresses: &[&str]) -> BTreeSet<String> {
    addresses.iter().map(|a| a.to_string()).collect()
}

#[test]
fn where_picks_the_expected_members_of_the_sample_list() {
    let dir = project();
    let root = dir.path();
    let list = copy_list(root, "lists/members.csv");
    let cases: &[(&str, &[&str])] = &[
        // the duplicate of Chloe (line 29) and the unsubscribed stay out, as without a filter
        (
            "organisation contains 'NHS'",
            &[
                "chloe.patel@nhs-trust.example.org",
                "maya.johnson@nhs-trust.example.org",
                "aisha.bello@nhs-trust.example.org",
            ],
        ),
        // a comma inside the value
        (
            "organisation = 'costa, reyes & partners'",
            &["isabel.costa@example.com"],
        ),
        // quotes inside the value, in both styles
        (
            "organisation = 'Evans \"GE\" Health' or last_name = \"O'Brien\"",
            &["george.evans@example.com", "grace.obrien@uni.example.org"],
        ),
        // non-ASCII, compared without case
        (
            "last_name in ('NOVÁK', 'lefèvre') or first_name = 'ZOË'",
            &[
                "pavel.novak@example.net",
                "quentin.lefevre@example.net",
                "zoe.martin@example.com",
            ],
        ),
        (
            "role starts with 'found' and not organisation contains example",
            &[
                "amara.okafor@medtech.example.com",
                "samuel.adeyemi@example.com",
                "yusuf.demir@example.org",
            ],
        ),
        (
            "(role = CEO or role = CTO) and organisation != 'Verma AI Health'",
            &["daniel.wright@example.com"],
        ),
        ("status != subscribed", &[]),
    ];
    for (expr, want) in cases {
        let (r, got) = dry_run_where(root, &[&list], expr);
        r.expect(0);
        assert_eq!(got, set(want), "{expr}\n{}", r.stderr);
    }
    // The preflight says how many match and how many the filter left out: 38 valid rows, one
    // duplicate and two unsubscribed leave 35 members, 3 of them at the NHS trust.
    let (r, _) = dry_run_where(root, &[&list], "organisation contains 'NHS'");
    r.stderr_has("--where organisation contains 'NHS': 3 member(s) match, 32 left out")
        .stderr_has("to send: 3");
}

#[test]
fn where_reads_messy_lists_and_rows_without_the_column() {
    let dir = project();
    let root = dir.path();
    let outlook = copy_list(root, "tests/fixtures/lists/outlook.csv");
    let cases: &[(&str, &[&str])] = &[
        // headers with spaces are quoted; values hold commas and quotes
        ("\"Last Name\" = 'lee, phd'", &["ann@example.org"]),
        ("Company = 'Acme, Inc.'", &["ann@example.org"]),
        ("Notes contains '\"either/or\"'", &["soren@example.dk"]),
        ("'First Name' = 'søren'", &["soren@example.dk"]),
        ("Company is empty", &["soren@example.dk"]),
        ("Company is not empty", &["ann@example.org"]),
    ];
    for (expr, want) in cases {
        let (r, got) = dry_run_where(root, &[&outlook], expr);
        r.expect(0);
        assert_eq!(got, set(want), "{expr}\n{}", r.stderr);
    }
    // Short rows: a column a row does not reach reads as empty.
    let ragged = write_list(
        root,
        "ragged.csv",
        "email,name,City,Tier\nann@example.org,Ann,Birmingham\nbob@example.org,Bob,Coventry,gold\ncy@example.org,Cy\n",
    );
    for (expr, want) in [
        ("Tier is empty", &["ann@example.org", "cy@example.org"][..]),
        ("Tier = GOLD", &["bob@example.org"][..]),
        (
            "City is empty or City = coventry",
            &["bob@example.org", "cy@example.org"][..],
        ),
    ] {
        let (r, got) = dry_run_where(root, &[&ragged], expr);
        r.expect(0);
        assert_eq!(got, set(want), "{expr}\n{}", r.stderr);
    }
}

#[test]
fn a_bad_expression_is_refused_before_anything_is_written() {
    let dir = project();
    let root = dir.path();
    let list = copy_list(root, "lists/members.csv");
    let (r, got) = dry_run_where(root, &[&list], "organisation contains 'NHS' and Cty = x");
    r.expect(1).stderr_has(
        "--where: unknown column \"Cty\" at position 33\n  organisation contains 'NHS' and Cty = x\n                                  ^^^\n",
    );
    r.stderr_has(
        "\"email\", \"first_name\", \"last_name\", \"organisation\", \"role\", \"status\"",
    );
    assert!(got.is_empty());
    let (r, got) = dry_run_where(root, &[&list], "role in (CEO, CTO");
    r.expect(1).stderr_has(
        "--where: expected , or ) in the set, found the end of the expression at position 18",
    );
    assert!(got.is_empty());
    let (r, _) = dry_run_where(root, &[&list], "Role = CEO");
    r.expect(1)
        .stderr_has("column names are written as the header spells them: \"role\"");
}

#[test]
fn several_lists_are_merged_and_the_filter_reads_each_row() {
    let dir = project();
    let root = dir.path();
    let a = write_list(
        root,
        "a.csv",
        "email,name,City\nann@example.org,Ann,Birmingham\nbob@example.org,Bob,Coventry\n",
    );
    // another layout; Ann again (other case), and a row of hers that would not match
    let b = write_list(
        root,
        "b.csv",
        "Sector;E-mail;City\nNHS;ANN@example.org;Leeds\nNHS;cy@example.org;birmingham\nAcademic;dee@example.org;Leeds\n",
    );
    let (r, got) = dry_run_where(root, &[&a, &b], "City = Birmingham");
    r.expect(0).stderr_has("lists: lists/a.csv, lists/b.csv");
    assert_eq!(got, set(&["ann@example.org", "cy@example.org"]));
    let (r, got) = dry_run_where(root, &[&a, &b], "Sector = nhs");
    r.expect(0);
    assert_eq!(got, set(&["cy@example.org"]), "{}", r.stderr);

    // Sent for real: one copy each, and a second run mails nobody again.
    let sink = SmtpSink::with_dump(&[]);
    let url = sink.url();
    let send = [
        "send",
        "issues/n1",
        "--list",
        &a,
        "--list",
        &b,
        "--yes",
        "--smtp",
    ];
    let mut args = send.to_vec();
    args.push(&url);
    run(root, &args).expect(0);
    let mut got = recipients(&sink.dumped());
    got.sort();
    assert_eq!(
        got,
        [
            "ann@example.org",
            "bob@example.org",
            "cy@example.org",
            "dee@example.org"
        ]
    );
    run(root, &args).expect(0).stderr_has("nothing to send");
    assert_eq!(sink.dumped().len(), 4);
    let status = run(
        root,
        &[
            "status",
            "issues/n1",
            "--members",
            "--where",
            "Sector = academic",
        ],
    );
    status.expect(0);
    assert!(
        status.stdout.contains("accepted       dee@example.org"),
        "{}",
        status.stdout
    );
    assert!(
        !status.stdout.contains("cy@example.org"),
        "{}",
        status.stdout
    );
}

/// `bulletin send` to `list` through `sink` with the clock at `clock` (RFC 3339, `*SPEED`).
fn send_at_clock(root: &Path, list: &str, sink: &SmtpSink, clock: &str, extra: &[&str]) -> Run {
    let url = sink.url();
    let mut args = vec!["send", "issues/n1", "--list", list, "--yes", "--smtp", &url];
    args.extend_from_slice(extra);
    Run::from(
        support::cli::command(root, &args)
            .env("BULLETIN_CLOCK", clock)
            .output()
            .expect("run bulletin"),
    )
}

fn fifty(root: &Path) -> String {
    let mut csv = String::from("email,name\n");
    for i in 1..=50 {
        csv.push_str(&format!("member{i}@example.org,Member {i}\n"));
    }
    write_list(root, "fifty.csv", csv)
}

/// When each message was accepted, from every journal of the project.
fn accepted_times(root: &Path) -> Vec<OffsetDateTime> {
    let mut times = Vec::new();
    for e in std::fs::read_dir(root.join(".bulletin/journals"))
        .unwrap()
        .flatten()
    {
        if e.path().extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(e.path()).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == "accepted" {
                times.push(OffsetDateTime::parse(v["time"].as_str().unwrap(), &Rfc3339).unwrap());
            }
        }
    }
    times.sort();
    times
}

/// The most messages accepted in any 24-hour window (each window ending at an acceptance).
fn busiest_day(times: &[OffsetDateTime]) -> usize {
    times
        .iter()
        .map(|end| {
            times
                .iter()
                .filter(|t| **t <= *end && *end - **t < time::Duration::days(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_daily_quota_stops_the_run_and_the_next_window_continues() {
    let dir = project();
    let root = dir.path();
    let list = fifty(root);
    let sink = SmtpSink::with_dump(&[]);
    let quota = ["--rate", "20/d"];

    let first = send_at_clock(root, &list, &sink, "2026-12-02T09:00:00Z", &quota);
    first
        .expect(3)
        .stderr_has("daily quota: 20/d, 0 accepted in the last 24 hours, 20 left now")
        .stderr_has("accepted: 20,")
        .stderr_has("the next window opens at 2026-12-03 09:00")
        .stderr_has("30 member(s) remain");
    assert_eq!(sink.dumped().len(), 20);

    // An hour later: the window is full; nothing is sent, and the run says when it opens.
    let second = send_at_clock(root, &list, &sink, "2026-12-02T10:00:00Z", &quota);
    second
        .expect(3)
        .stderr_has("daily quota used: 20 of 20 accepted in the last 24 hours; the next window opens at 2026-12-03 09:00")
        .stderr_has("30 member(s) remain");
    assert!(
        !second.stderr.lines().any(|l| l.starts_with("accepted: ")),
        "no run: {}",
        second.stderr
    );
    assert_eq!(sink.dumped().len(), 20);

    // A day on: 20 more, none of them mailed before.
    let third = send_at_clock(root, &list, &sink, "2026-12-03T09:10:00Z", &quota);
    third
        .expect(3)
        .stderr_has("accepted: 20,")
        .stderr_has("10 member(s) remain");
    let got = recipients(&sink.dumped());
    let distinct: BTreeSet<&String> = got.iter().collect();
    assert_eq!((got.len(), distinct.len()), (40, 40), "one copy each");
    let times = accepted_times(root);
    assert_eq!(times.len(), 40);
    assert_eq!(busiest_day(&times), 20);
}

#[test]
fn the_quota_counts_every_issue_of_the_project() {
    let dir = project();
    let root = dir.path();
    let list = fifty(root);
    let other = root.join("issues/n2");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(root.join("issues/n1/issue.toml"), other.join("issue.toml")).unwrap();
    std::fs::write(
        root.join("bulletin.toml"),
        format!("{}{CONFIG}daily_quota = 30\n", support::files::SENDER),
    )
    .unwrap();
    let sink = SmtpSink::with_dump(&[]);
    let few = write_list(root, "few.csv", "email\nann@example.org\nbob@example.org\n");
    let url = sink.url();
    let clock = "2026-12-02T09:00:00Z";
    Run::from(
        support::cli::command(
            root,
            &["send", "issues/n2", "--list", &few, "--yes", "--smtp", &url],
        )
        .env("BULLETIN_CLOCK", clock)
        .output()
        .unwrap(),
    )
    .expect(0);
    // [send] daily_quota = 30, two already used by issue n2
    send_at_clock(root, &list, &sink, clock, &[])
        .expect(3)
        .stderr_has("daily quota: 30/d, 2 accepted in the last 24 hours, 28 left now")
        .stderr_has("accepted: 28,");
    assert_eq!(sink.dumped().len(), 30);
}

#[test]
fn wait_goes_on_by_itself_when_the_window_opens() {
    let dir = project();
    let root = dir.path();
    let list = fifty(root);
    let sink = SmtpSink::with_dump(&[]);
    // A clock 8640 times real time: a day passes in ten seconds.
    let r = send_at_clock(
        root,
        &list,
        &sink,
        "2026-12-02T09:00:00Z*8640",
        &["--rate", "20/d", "--wait"],
    );
    r.expect(0)
        .stderr_has("for the daily quota's next window (20 of 20 used in the last 24 hours; 30 member(s) remain); Ctrl-C cancels");
    let got = recipients(&sink.dumped());
    let distinct: BTreeSet<&String> = got.iter().collect();
    assert_eq!((got.len(), distinct.len()), (50, 50), "{}", r.stderr);
    assert_eq!(busiest_day(&accepted_times(root)), 20, "{}", r.stderr);
}

/// Start `bulletin send` and return once it says it is waiting, with the line it printed.
fn spawn_until_waiting(mut cmd: Command) -> (Child, String) {
    cmd.stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start bulletin");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            if line.starts_with("waiting until") {
                let _ = tx.send(Ok(line));
            }
        }
        let _ = tx.send(Err(all));
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(line)) => (child, line),
        Ok(Err(all)) => panic!("bulletin ended without waiting:\n{all}"),
        Err(_) => panic!("bulletin did not start waiting"),
    }
}

fn at_command(root: &Path, list: &str, sink: &SmtpSink, at: &str) -> Command {
    let url = sink.url();
    let mut cmd = support::cli::command(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            list,
            "--yes",
            "--smtp",
            &url,
            "--at",
            at,
        ],
    );
    cmd.env("BULLETIN_CLOCK", "2026-12-02T09:00:00Z");
    cmd
}

#[test]
fn at_starts_sending_at_the_time_given_in_local_time() {
    let dir = project();
    let root = dir.path();
    let three = |bob: &str| {
        format!(
            "email,status\nann@example.org,subscribed\nbob@example.org,{bob}\ncy@example.org,subscribed\n"
        )
    };
    let list = write_list(root, "three.csv", three("subscribed"));
    let sink = SmtpSink::with_dump(&[]);
    // 04:01 at UTC-5 is 09:01 UTC: one minute after the clock's start. (A POSIX TZ string,
    // so that no time zone database is needed.)
    let mut cmd = at_command(root, &list, &sink, "2026-12-02 04:01");
    cmd.env("TZ", "EST5");
    let (child, line) = spawn_until_waiting(cmd);
    assert!(
        line.starts_with("waiting until 2026-12-02 04:01 -05:00 (in ")
            && line.contains(") to start sending; Ctrl-C cancels"),
        "{line}"
    );
    // Checked and confirmed, nothing sent yet.
    assert!(sink.dumped().is_empty());
    assert!(!root.join(".bulletin/journals/n1.jsonl").exists());
    // Bob unsubscribes overnight: the list is read again at the start time.
    write_list(root, "three.csv", three("unsubscribed"));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut got = recipients(&sink.dumped());
    got.sort();
    assert_eq!(got, ["ann@example.org", "cy@example.org"]);
    let first = accepted_times(root)[0];
    assert!(
        first >= time::macros::datetime!(2026-12-02 09:01 UTC),
        "{first}"
    );
}

#[test]
fn ctrl_c_while_waiting_cancels_with_nothing_sent() {
    let dir = project();
    let root = dir.path();
    let list = write_list(root, "two.csv", "email\nann@example.org\nbob@example.org\n");
    let sink = SmtpSink::with_dump(&[]);
    let (child, line) =
        spawn_until_waiting(at_command(root, &list, &sink, "2026-12-02 10:00 +00:00"));
    assert!(line.contains("Ctrl-C cancels"), "{line}");
    let sigint = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(sigint.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(sink.dumped().is_empty());
    // nothing journalled: a send later mails both
    let journals: Vec<PathBuf> = std::fs::read_dir(root.join(".bulletin/journals"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        journals
            .iter()
            .all(|p| p.extension().is_none_or(|x| x != "jsonl")),
        "{journals:?}"
    );
    send_at_clock(root, &list, &sink, "2026-12-02T09:00:00Z", &[]).expect(0);
    assert_eq!(recipients(&sink.dumped()).len(), 2);
}

#[test]
fn a_start_time_in_the_past_or_unreadable_is_refused() {
    let dir = project();
    let root = dir.path();
    let list = write_list(root, "one.csv", "email\nann@example.org\n");
    let sink = SmtpSink::start(&[]);
    let r = Run::from(
        at_command(root, &list, &sink, "2026-12-01 09:00 +00:00")
            .output()
            .unwrap(),
    );
    r.expect(1)
        .stderr_has("--at 2026-12-01 09:00 +00:00: that time has passed");
    let r = Run::from(
        at_command(root, &list, &sink, "tomorrow 9am")
            .output()
            .unwrap(),
    );
    r.expect(1)
        .stderr_has("--at \"tomorrow 9am\": expected a date and time");
}

#[test]
fn preview_offers_only_the_members_that_match() {
    let dir = project();
    let root = dir.path();
    let list = copy_list(root, "lists/members.csv");
    let preview = |extra: &[&str]| {
        let mut args = vec![
            "preview",
            "issues/n1",
            "--no-open",
            "--port",
            "0",
            "--list",
            &list,
        ];
        args.extend_from_slice(extra);
        support::cli::command(root, &args)
    };
    // A member the filter leaves out cannot be shown, and an unknown column is refused.
    let out = Run::from(
        preview(&[
            "--where",
            "organisation contains nhs",
            "--as",
            "ben.hughes@uni.example.org",
        ])
        .output()
        .unwrap(),
    );
    out.expect(1)
        .stderr_has("ben.hughes@uni.example.org is not mailed from lists/members.csv: line ")
        .stderr_has(": left out by --where");
    let out = Run::from(preview(&["--where", "town = x"]).output().unwrap());
    out.expect(1)
        .stderr_has("--where: unknown column \"town\" at position 1");

    let mut child = preview(&["--where", "organisation contains nhs"])
        .spawn()
        .expect("start the preview");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let host = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let body = http_get(&host, "/api/state");
    let _ = child.kill();
    let _ = child.wait();
    let state: serde_json::Value = serde_json::from_str(&body).expect("JSON state");
    assert_eq!(state["members_total"], 3, "{body}");
    let emails: BTreeSet<String> = state["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(
        emails,
        set(&[
            "chloe.patel@nhs-trust.example.org",
            "maya.johnson@nhs-trust.example.org",
            "aisha.bello@nhs-trust.example.org"
        ])
    );
}

/// The body of `GET path` from `host` (`127.0.0.1:PORT`), over plain HTTP/1.0.
fn http_get(host: &str, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(host).expect("connect to the preview");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

#[test]
fn a_refusal_names_the_member_s_own_list_and_line() {
    let dir = project();
    let root = dir.path();
    let a = write_list(root, "a.csv", "email\nann@example.org\nbob@example.org\n");
    let b = write_list(
        root,
        "b.csv",
        "email\ncy@example.org\nbob@example.org\ndee@example.org\n",
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(support::TestServer::start(support::ServerConfig::script(
        |stage, _| match stage {
            support::Stage::Rcpt(to) if to == "dee@example.org" => {
                support::Action::Reply("550 5.1.1 no such user".into())
            }
            _ => support::Action::Normal,
        },
    )));
    let url = server.url();
    let r = run(
        root,
        &[
            "send",
            "issues/n1",
            "--list",
            &a,
            "--list",
            &b,
            "--yes",
            "--smtp",
            &url,
        ],
    );
    r.expect(3)
        .stderr_has("refused: dee@example.org (lists/b.csv:4): 550 5.1.1 no such user")
        .stderr_has("accepted: 3,")
        .stderr_has("lists/b.csv:3: \"bob@example.org\": same address as lists/a.csv:3");
}
