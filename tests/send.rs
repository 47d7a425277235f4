//! `bulletin send` and `bulletin status`, end to end: the real binary on fixture projects in temp
//! folders, sending to real SMTP servers on loopback (Postfix's smtp-sink with message dumps, and
//! the in-process server for per-recipient replies).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mail_parser::{Address, MessageParser};
use support::cli::Run;
use support::{Action, ServerConfig, SmtpSink, Stage, TestServer, free_port};

/// The test projects' configuration: [`support::files::SENDER`] and these tables.
const SMTP_AND_SEND: &str = r#"
[smtp]
timeout_secs = 5

[send]
retries = 2
retry_backoff_ms = 20
"#;

/// The configuration of the test projects.
fn config() -> String {
    format!("{}{SMTP_AND_SEND}", support::files::SENDER)
}

/// [`support::files::SHORT_ISSUE`] with one section.
const SECTION: &str = r#"
[[sections]]
heading = "One"
body = "A short body."
"#;

/// A bulletin project in a temp folder: the repository's templates, a small issue `issues/n1`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Self::with_config("")
    }

    /// The base configuration plus `extra` TOML (tables not in the base).
    fn with_config(extra: &str) -> Project {
        Self::with_full_config(&format!("{}\n{extra}", config()))
    }

    fn with_full_config(config: &str) -> Project {
        Project {
            dir: support::files::with_templates(
                config,
                "n1",
                &format!("{}{SECTION}", support::files::SHORT_ISSUE),
            ),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Write `lists/NAME` and return its project-relative path.
    fn list(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        std::fs::write(self.path(&format!("lists/{name}")), bytes).unwrap();
        format!("lists/{name}")
    }

    /// Copy a fixture list from tests/fixtures/lists.
    fn fixture_list(&self, name: &str) -> String {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lists")
            .join(name);
        self.list(name, std::fs::read(src).expect("fixture list"))
    }

    fn command(&self, args: &[&str]) -> Command {
        support::cli::command(self.root(), args)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_cmd(self.command(args))
    }

    fn run_cmd(&self, mut cmd: Command) -> Run {
        let out = cmd.output().expect("run bulletin");
        Run::from(out)
    }

    /// `bulletin send issues/n1 --list LIST --smtp URL --yes EXTRA…`
    fn send(&self, list: &str, url: &str, extra: &[&str]) -> Run {
        let mut args = vec!["send", "issues/n1", "--list", list, "--smtp", url, "--yes"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn spawn_send(&self, list: &str, url: &str, extra: &[&str]) -> Child {
        let mut args = vec!["send", "issues/n1", "--list", list, "--smtp", url, "--yes"];
        args.extend_from_slice(extra);
        self.command(&args).spawn().expect("start bulletin")
    }

    /// The one journal of issue n1 (panics unless there is exactly one).
    fn journal(&self) -> PathBuf {
        let dir = self.path(".bulletin/journals");
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        assert_eq!(files.len(), 1, "journals in {}: {files:?}", dir.display());
        files.into_iter().next().unwrap()
    }

    fn journal_lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.journal()).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn status_json(&self) -> serde_json::Value {
        let run = self.run(&["status", "issues/n1", "--json"]);
        assert_eq!(run.code, 0, "status: {}", run.stderr);
        serde_json::from_str(&run.stdout).expect("status --json is JSON")
    }
}

/// The envelope recipient of an smtp-sink dump, and the parsed message after smtp-sink's own
/// header lines.
fn rcpt_of_dump(dump: &[u8]) -> String {
    let text = String::from_utf8_lossy(dump);
    let line = text
        .lines()
        .find(|l| l.starts_with("X-Rcpt-Args: "))
        .expect("smtp-sink records the recipient");
    let arg = line.trim_start_matches("X-Rcpt-Args: ");
    arg.trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or("")
        .to_string()
}

/// How many copies each recipient got.
fn copies(dumps: &[Vec<u8>]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for d in dumps {
        *m.entry(rcpt_of_dump(d)).or_default() += 1;
    }
    m
}

fn to_address(message: &mail_parser::Message<'_>) -> (Option<String>, String) {
    let Some(Address::List(list)) = message.to() else {
        panic!("one To address expected");
    };
    assert_eq!(list.len(), 1, "one To address expected");
    (
        list[0].name().map(str::to_string),
        list[0].address().unwrap_or_default().to_string(),
    )
}

/// The raw header block of a message (up to the first empty line).
fn raw_headers(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message).replace("\r\n", "\n");
    let end = text.find("\n\n").unwrap_or(text.len());
    text[..end].to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The in-process server, running on its own runtime for the length of a test.
struct Server {
    server: TestServer,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(config: ServerConfig) -> Server {
        let rt = runtime();
        let server = rt.block_on(TestServer::start(config));
        Server { server, _rt: rt }
    }

    fn script(f: impl Fn(&Stage, u32) -> Action + Send + Sync + 'static) -> Server {
        Self::start(ServerConfig::script(f))
    }

    fn url(&self) -> String {
        self.server.url()
    }

    /// Messages accepted, per recipient.
    fn accepted(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for msg in self.server.log().accepted() {
            for to in &msg.to {
                *m.entry(to.clone()).or_default() += 1;
            }
        }
        m
    }

    /// How many RCPT commands named `addr`.
    fn rcpts(&self, addr: &str) -> usize {
        let needle = format!("<{addr}>").to_ascii_lowercase();
        self.server
            .log()
            .commands
            .iter()
            .filter(|(_, c)| {
                let c = c.to_ascii_lowercase();
                c.starts_with("rcpt to:") && c.contains(&needle)
            })
            .count()
    }
}

fn members(n: usize) -> String {
    let mut s = String::from("email,name\n");
    for i in 1..=n {
        s.push_str(&format!("member{i}@example.org,Member {i}\n"));
    }
    s
}

fn member_set(n: usize) -> BTreeSet<String> {
    (1..=n).map(|i| format!("member{i}@example.org")).collect()
}

fn counts(status: &serde_json::Value) -> &serde_json::Value {
    &status["total"]
}

// ---------------------------------------------------------------------------------------------
// 1. bulk send, skips, resume with nothing to do, status

#[test]
fn bulk_send_mails_each_valid_unique_subscribed_member_once() {
    let p = Project::new();
    std::fs::create_dir_all(p.path(".bulletin")).unwrap();
    std::fs::write(
        p.path(".bulletin/suppressed.csv"),
        "email,reason,source,time\ngone@example.org,hard bounce,earlier,2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    let list = p.list(
        "members.csv",
        "email,name,status\n\
         ann@example.org,Ann,subscribed\n\
         not-an-address,Nobody,subscribed\n\
         bob@example.org,Bob,\n\
         \x20BOB@Example.org ,Bob again,subscribed\n\
         cy@example.org,Cy,unsubscribed\n\
         gone@example.org,Gone,subscribed\n\
         di@example.org,Di,subscribed\n",
    );
    let sink = SmtpSink::with_dump(&[]);
    let run = p.send(&list, &sink.url(), &[]);
    run.expect(0)
        .stderr_has("to send: 3")
        .stderr_has("lists/members.csv:3: \"not-an-address\"")
        .stderr_has("lists/members.csv:5: \"BOB@Example.org\": same address as line 4")
        .stderr_has("lists/members.csv:6: \"cy@example.org\"")
        .stderr_has("lists/members.csv:7: \"gone@example.org\": in the suppression list")
        .stderr_has("accepted: 3, refused: 0, deferred: 0");

    let dumps = sink.dumped();
    let got = copies(&dumps);
    let want: BTreeMap<String, usize> = ["ann@example.org", "bob@example.org", "di@example.org"]
        .into_iter()
        .map(|a| (a.to_string(), 1))
        .collect();
    assert_eq!(got, want);
    for d in &dumps {
        let m = MessageParser::default()
            .parse(d)
            .expect("a parsable message");
        let (name, addr) = to_address(&m);
        assert_eq!(addr, rcpt_of_dump(d));
        assert!(name.is_some(), "To carries the member's name");
        assert_eq!(m.subject(), Some("Test News, November"));
        assert!(m.body_html(0).is_some() && m.body_text(0).is_some());
    }

    // The same command again: nobody is mailed twice.
    let again = p.send(&list, &sink.url(), &[]);
    again
        .expect(0)
        .stderr_has("to send: 0")
        .stderr_has("skipped, already accepted: 3")
        .stderr_has("nothing to send");
    assert_eq!(sink.dumped().len(), 3);

    let status = p.run(&["status", "issues/n1"]);
    status.expect(0);
    assert!(status.stdout.contains("accepted:  3"), "{}", status.stdout);
    let json = p.status_json();
    assert_eq!(counts(&json)["accepted"], 3);
    assert_eq!(counts(&json)["uncertain"], 0);
}

// ---------------------------------------------------------------------------------------------
// 2. lists as people export them

#[test]
fn messy_lists_are_sent_to_the_right_people() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "semicolon.csv",
            &[
                ("anna.schmidt@example.de", "Anna"),
                ("jan.mueller@example.de", "Jan"),
            ],
        ),
        (
            "tab.tsv",
            &[
                ("ann@example.org", "Ann Lee"),
                ("bob@example.org", "Bob Ng"),
            ],
        ),
        (
            "bom-crlf.csv",
            &[("zoe@example.org", "Zoë"), ("soren@example.net", "Søren")],
        ),
        (
            "windows-1252.csv",
            &[
                ("renee@example.fr", "Renée"),
                ("francois@example.fr", "François"),
            ],
        ),
        (
            "crlf.csv",
            &[
                ("ann@example.org", "Lee, Ann"),
                ("bob@example.com", "Bob"),
                ("cy@example.net", "Cy"),
            ],
        ),
    ];
    for (file, want) in cases {
        let p = Project::new();
        let list = p.fixture_list(file);
        let sink = SmtpSink::with_dump(&[]);
        p.send(&list, &sink.url(), &[]).expect(0);
        let dumps = sink.dumped();
        let mut got = BTreeMap::new();
        for d in &dumps {
            let m = MessageParser::default().parse(d).expect("parsable");
            let (name, addr) = to_address(&m);
            got.insert(addr, name.unwrap_or_default());
        }
        let want: BTreeMap<String, String> = want
            .iter()
            .map(|(a, n)| (a.to_string(), n.to_string()))
            .collect();
        // A name column may be split in first/last: the To name starts with the first name.
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{file}"
        );
        for (addr, name) in &want {
            assert!(
                got[addr].starts_with(name.as_str()),
                "{file}: To name of {addr} is {:?}, expected it to start with {name:?}",
                got[addr]
            );
        }
        assert_eq!(dumps.len(), want.len(), "{file}: one copy each");
    }
}

#[test]
fn addresses_that_cannot_be_sent_are_refused_at_the_preflight_with_their_line() {
    let p = Project::new();
    let list = p.list(
        "m.csv",
        "email,name\n\
         ann@example.org,Ann\n\
         jörg@example.org,Jörg\n\
         \"\"\"j.d\"\"@example.org\",JD\n\
         x@[192.0.2.1],Literal\n\
         cy@bücher.example,IDN\n\
         bob@example.org,Bob\n\
         CY@xn--bcher-kva.example,Cy again\n",
    );
    let sink = SmtpSink::with_dump(&[]);
    let run = p.send(&list, &sink.url(), &[]);
    run.expect(0)
        .stderr_has("to send: 3")
        .stderr_has("skipped, invalid address: 3")
        .stderr_has("lists/m.csv:3: \"jörg@example.org\": the part before the @ contains 'ö': a UTF-8 address needs SMTPUTF8 (RFC 6531)")
        .stderr_has("lists/m.csv:4: \"\\\"j.d\\\"@example.org\": a quoted part before the @ is not supported")
        .stderr_has("lists/m.csv:5: \"x@[192.0.2.1]\": the address literal [192.0.2.1] is not supported")
        // an internationalised domain is sent in its ASCII form, and is the same address
        .stderr_has("lists/m.csv:8: \"CY@xn--bcher-kva.example\": same address as line 6")
        .stderr_has("accepted: 3, refused: 0, deferred: 0, uncertain: 0, not built: 0");
    assert_eq!(
        copies(&sink.dumped()).into_keys().collect::<Vec<_>>(),
        [
            "ann@example.org",
            "bob@example.org",
            "cy@xn--bcher-kva.example"
        ]
    );
}

#[test]
fn a_broken_quote_stops_before_anything_is_sent() {
    let p = Project::new();
    let list = p.fixture_list("broken-quote.csv");
    let sink = SmtpSink::with_dump(&[]);
    let run = p.send(&list, &sink.url(), &[]);
    run.expect(1).stderr_has("lists/broken-quote.csv:3");
    assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
    assert!(sink.dumped().is_empty(), "nothing sent");
}

#[test]
fn a_list_without_an_email_column_is_a_clear_error() {
    let p = Project::new();
    let list = p.fixture_list("no-email-column.csv");
    let sink = SmtpSink::with_dump(&[]);
    let run = p.send(&list, &sink.url(), &[]);
    run.expect(1).stderr_has("lists/no-email-column.csv");
    assert!(
        run.stderr.to_lowercase().contains("email"),
        "the error says what is missing: {}",
        run.stderr
    );
    assert!(sink.dumped().is_empty(), "nothing sent");
}

// ---------------------------------------------------------------------------------------------
// 3. per-recipient replies and broken servers: every member ends accounted for

/// The journal's account of each member in the latest round: `accepted`, `refused`,
/// `deferred`, or `attempt` (cut off).
fn standing(p: &Project) -> BTreeMap<String, String> {
    let lines = p.journal_lines();
    let mut email_of = BTreeMap::new();
    let mut last = BTreeMap::new();
    for l in &lines {
        let (Some(kind), Some(key)) = (l["type"].as_str(), l["key"].as_str()) else {
            continue;
        };
        if let Some(e) = l["email"].as_str() {
            email_of.insert(key.to_string(), e.to_string());
        }
        let entry = last.entry(key.to_string()).or_insert_with(String::new);
        if entry != "accepted" {
            *entry = kind.to_string();
        }
    }
    last.into_iter()
        .map(|(k, v)| (email_of.get(&k).cloned().unwrap_or(k), v))
        .collect()
}

#[test]
fn a_hard_refusal_is_logged_suppressed_and_skipped_next_time() {
    let p = Project::new();
    let list = p.list("m.csv", members(4));
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(to) if to == "member2@example.org" => Action::Reply(
            "550 5.1.1 <member2@example.org>: Recipient address rejected: User unknown".into(),
        ),
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &[]);
    run.expect(3)
        .stderr_has("accepted: 3, refused: 1, deferred: 0");
    assert_eq!(s.rcpts("member2@example.org"), 1, "a 5xx is not retried");

    let bounces = std::fs::read_to_string(p.path(".bulletin/bounces.jsonl")).expect("bounce log");
    let records: Vec<serde_json::Value> = bounces
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{bounces}");
    let r = &records[0];
    assert_eq!(r["address"], "member2@example.org");
    assert_eq!(r["class"], "hard");
    assert_eq!(r["reason"], "userunknown");
    assert_eq!(r["code"], 550);
    assert_eq!(r["enhanced_status"], "5.1.1");
    assert_eq!(r["issue"], "n1");
    assert!(r["text"].as_str().unwrap().contains("User unknown"));
    let suppressed = std::fs::read_to_string(p.path(".bulletin/suppressed.csv")).unwrap();
    assert!(suppressed.contains("member2@example.org"), "{suppressed}");
    assert_eq!(standing(&p)["member2@example.org"], "refused");

    let again = p.send(&list, &s.url(), &[]);
    again
        .expect(0)
        .stderr_has("lists/m.csv:3: \"member2@example.org\": in the suppression list")
        .stderr_has("nothing to send");
    assert_eq!(s.rcpts("member2@example.org"), 1, "never mailed again");
    let json = p.status_json();
    assert_eq!(counts(&json)["accepted"], 3);
    assert_eq!(counts(&json)["refused_permanent"], 1);
}

#[test]
fn a_permanent_refusal_of_our_sending_host_does_not_suppress_the_member() {
    let p = Project::new();
    let list = p.list("m.csv", members(2));
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(to) if to == "member2@example.org" => Action::Reply(
            "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"
                .into(),
        ),
        _ => Action::Normal,
    });
    p.send(&list, &s.url(), &[])
        .expect(3)
        .stderr_has("accepted: 1, refused: 1, deferred: 0");
    let bounces = std::fs::read_to_string(p.path(".bulletin/bounces.jsonl")).expect("bounce log");
    let r: serde_json::Value = serde_json::from_str(bounces.lines().next().unwrap()).unwrap();
    assert_eq!(r["class"], "soft", "{bounces}");
    assert_eq!(r["reason"], "blocked", "{bounces}");
    let suppressed =
        std::fs::read_to_string(p.path(".bulletin/suppressed.csv")).unwrap_or_default();
    assert!(
        !suppressed.contains("member2@example.org"),
        "a blocked sending host is no dead address: {suppressed}"
    );
}

#[test]
fn a_temporary_refusal_is_retried_then_deferred_and_sent_by_the_next_run() {
    let p = Project::new();
    let list = p.list("m.csv", members(3));
    let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gate = open.clone();
    let s = Server::script(move |stage, _| match stage {
        Stage::Rcpt(to)
            if to == "member3@example.org" && !gate.load(std::sync::atomic::Ordering::SeqCst) =>
        {
            Action::Reply("451 4.7.1 Greylisted, try again later".into())
        }
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &[]);
    run.expect(3)
        .stderr_has("accepted: 2, refused: 0, deferred: 1");
    // retries = 2 in the test config: the first try and two more
    assert_eq!(s.rcpts("member3@example.org"), 3);
    assert_eq!(standing(&p)["member3@example.org"], "deferred");
    let bounces = std::fs::read_to_string(p.path(".bulletin/bounces.jsonl")).unwrap_or_default();
    assert!(bounces.contains("\"soft\""), "logged as soft: {bounces}");
    let suppressed =
        std::fs::read_to_string(p.path(".bulletin/suppressed.csv")).unwrap_or_default();
    assert!(
        !suppressed.contains("member3"),
        "a soft refusal does not suppress"
    );

    open.store(true, std::sync::atomic::Ordering::SeqCst);
    let again = p.send(&list, &s.url(), &[]);
    again
        .expect(0)
        .stderr_has("to send: 1")
        .stderr_has("accepted: 1,");
    let accepted = s.accepted();
    assert_eq!(accepted.len(), 3);
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
}

#[test]
fn a_temporary_refusal_that_clears_is_accepted_in_the_same_run() {
    let p = Project::new();
    let list = p.list("m.csv", members(3));
    let s = Server::script(|stage, n| match stage {
        Stage::Rcpt(to) if to == "member1@example.org" && n == 1 => {
            Action::Reply("451 4.7.1 Greylisted, try again later".into())
        }
        _ => Action::Normal,
    });
    p.send(&list, &s.url(), &[]).expect(0);
    assert_eq!(s.rcpts("member1@example.org"), 2);
    assert_eq!(s.accepted().len(), 3);
}

/// Picks a stage of the dialogue.
type StageTest = fn(&Stage) -> bool;

/// 421 once at a stage: the member is retried on a fresh connection and nobody is lost.
#[test]
fn a_421_once_at_any_stage_is_retried() {
    let stages: Vec<(&str, StageTest)> = vec![
        ("greeting", |s| *s == Stage::Greeting),
        ("MAIL", |s| *s == Stage::Mail),
        ("RCPT", |s| matches!(s, Stage::Rcpt(_))),
        ("DATA", |s| *s == Stage::Data),
        ("end of data", |s| matches!(s, Stage::EndOfData(_))),
    ];
    for (name, at) in stages {
        let p = Project::new();
        let list = p.list("m.csv", members(5));
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = fired.clone();
        let s = Server::script(move |stage, _| {
            if at(stage) && !f.swap(true, std::sync::atomic::Ordering::SeqCst) {
                Action::Reply("421 4.3.2 Service shutting down".into())
            } else {
                Action::Normal
            }
        });
        let run = p.send(&list, &s.url(), &["--connections", "2"]);
        run.expect(0);
        assert!(fired.load(std::sync::atomic::Ordering::SeqCst), "{name}");
        let accepted = s.accepted();
        assert_eq!(
            accepted.keys().cloned().collect::<BTreeSet<_>>(),
            member_set(5),
            "{name}"
        );
        assert!(accepted.values().all(|n| *n == 1), "{name}: {accepted:?}");
    }
}

/// 421 every time at a stage: nobody accepted, everyone accounted for, exit code says so.
#[test]
fn a_421_every_time_leaves_everyone_for_a_later_run() {
    for (name, at) in [
        (
            "MAIL",
            (|s: &Stage| *s == Stage::Mail) as fn(&Stage) -> bool,
        ),
        ("RCPT", |s| matches!(s, Stage::Rcpt(_))),
        ("DATA", |s| *s == Stage::Data),
    ] {
        let p = Project::new();
        let list = p.list("m.csv", members(3));
        let s = Server::script(move |stage, _| {
            if at(stage) {
                Action::Reply("421 4.3.2 Service shutting down".into())
            } else {
                Action::Normal
            }
        });
        let run = p.send(&list, &s.url(), &["--connections", "1"]);
        run.expect(3)
            .stderr_has("accepted: 0, refused: 0, deferred: 3");
        assert!(s.accepted().is_empty());
        let standing = standing(&p);
        assert_eq!(
            standing.keys().cloned().collect::<BTreeSet<_>>(),
            member_set(3),
            "{name}: every member has a record: {standing:?}"
        );
        assert!(
            standing.values().all(|v| v == "deferred"),
            "{name}: {standing:?}"
        );
        let json = p.status_json();
        assert_eq!(counts(&json)["uncertain"], 0, "{name}");
    }
}

/// A server that turns every message away for now: the run stops after `stop_after_deferred`
/// deferrals in a row instead of working through the whole list; nobody is lost.
#[test]
fn a_server_deferring_everything_stops_the_run_early() {
    let config = config().replace(
        "retry_backoff_ms = 20",
        "retry_backoff_ms = 1\nstop_after_deferred = 5",
    );
    let p = Project::with_full_config(&config);
    let list = p.list("m.csv", members(40));
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(_) => Action::Reply("451 4.7.1 Try again later".into()),
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &["--connections", "1"]);
    run.expect(1)
        .stderr_has(&format!(
            "127.0.0.1:{} deferred 5 messages in a row, the last with: 451",
            s.server.port
        ))
        // the five tried are deferred and named; the rest were never tried
        .stderr_has(
            "accepted: 0, refused: 0, deferred: 5, uncertain: 0, not built: 0, not tried: 35, in ",
        )
        .stderr_has("deferred: member1@example.org (line 2): 451 4.7.1 Try again later");
    let tried = s
        .server
        .log()
        .commands
        .iter()
        .filter(|(_, c)| c.starts_with("RCPT"))
        .count();
    // Five members, each tried three times (retries = 2), not forty.
    assert_eq!(tried, 15, "{:?}", s.server.log().commands);
    let standing = standing(&p);
    assert!(standing.values().all(|v| v == "deferred"), "{standing:?}");
    assert_eq!(counts(&p.status_json())["uncertain"], 0);
    // The rest are still due: a second run against a willing server sends to all forty.
    let willing = Server::script(|_, _| Action::Normal);
    p.send(&list, &willing.url(), &["--connections", "1"])
        .expect(0);
    assert_eq!(willing.accepted().len(), 40);
}

#[test]
fn a_421_at_every_greeting_stops_the_run_naming_the_server() {
    let p = Project::new();
    let list = p.list("m.csv", members(3));
    let s = Server::script(|stage, _| match stage {
        Stage::Greeting => Action::Reply("421 4.3.2 Too busy".into()),
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &["--connections", "1"]);
    run.expect(1)
        .stderr_has(&format!("127.0.0.1:{}", s.server.port))
        .stderr_has("accepted: 0");
    let standing = standing(&p);
    assert_eq!(standing.len(), 3, "{standing:?}");
    assert!(standing.values().all(|v| v == "deferred"), "{standing:?}");
}

/// A server hanging up mid-data after the client wrote the whole (small) message: the client
/// cannot tell whether the final `.` arrived, so the member is uncertain, not sent again by
/// this run; the next run mails them (the server had not taken it), and nobody is lost.
#[test]
fn a_hang_up_mid_data_after_the_whole_message_was_written_is_uncertain() {
    let p = Project::new();
    let list = p.list("m.csv", members(4));
    let s = Server::script(|stage, n| match stage {
        Stage::Data if n == 2 => Action::HangUpMidData,
        _ => Action::Normal,
    });
    p.send(&list, &s.url(), &["--connections", "1"])
        .expect(3)
        .stderr_has("accepted: 3, refused: 0, deferred: 0, uncertain: 1")
        .stderr_has("uncertain: member2@example.org (line 3): sent, but");
    assert_eq!(s.rcpts("member2@example.org"), 1, "not retried in the run");
    p.send(&list, &s.url(), &["--connections", "1"]).expect(0);
    let accepted = s.accepted();
    assert_eq!(
        accepted.keys().cloned().collect::<BTreeSet<_>>(),
        member_set(4)
    );
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
}

/// The reply to the final `.` lost for some members (never sent, or the server hangs up):
/// each got exactly one copy, is named as uncertain in the summary (stderr and `--json`),
/// stays in the journal as an attempt without an outcome; the next run leaves them out with
/// `--skip-uncertain` and mails them again by default.
#[test]
fn a_lost_final_reply_is_uncertain_named_and_left_to_the_next_run() {
    let p = Project::with_full_config(&config().replace(
        "timeout_secs = 5",
        "timeout_secs = 5\ndata_timeout_secs = 1",
    ));
    let list = p.list("m.csv", members(10));
    let s = Server::script(|stage, n| match stage {
        Stage::EndOfData(to) if to == "member3@example.org" && n == 1 => Action::NoReply,
        Stage::EndOfData(to) if to == "member7@example.org" && n == 1 => Action::HangUp,
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &["--connections", "3", "--json"]);
    run.expect(3)
        .stderr_has("accepted: 8, refused: 0, deferred: 0, uncertain: 2, not built: 0")
        .stderr_has("uncertain: member3@example.org (line 4): sent, but 127.0.0.1:")
        .stderr_has("did not answer the final `.`: no reply to the end of DATA within 1s")
        .stderr_has("uncertain: member7@example.org (line 8): sent, but 127.0.0.1:")
        .stderr_has("the next run mails them again unless --skip-uncertain is given");
    let summary = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("summary").cloned())
        .expect("a JSON summary");
    assert_eq!(summary["accepted"], 8);
    assert_eq!(summary["uncertain"], 2);
    let named: BTreeSet<String> = summary["uncertain_members"]
        .as_array()
        .expect("uncertain members")
        .iter()
        .map(|m| m["email"].as_str().unwrap_or_default().to_string())
        .collect();
    let lost: BTreeSet<String> = ["member3@example.org", "member7@example.org"]
        .map(String::from)
        .into();
    assert_eq!(named, lost);

    s.server
        .log()
        .assert_one_copy_each(10, &format!("first run, uncertain {named:?}"));
    let standing = standing(&p);
    for member in &lost {
        assert_eq!(standing[member], "attempt", "{standing:?}");
    }
    assert_eq!(uncertain_in_status(&p), lost);

    // --skip-uncertain: nobody is mailed.
    p.send(&list, &s.url(), &["--skip-uncertain"])
        .expect(0)
        .stderr_has("nothing to send");
    assert_eq!(s.server.log().messages.len(), 10);
    // By default the uncertain are mailed again, and only they.
    let run = p.send(&list, &s.url(), &[]);
    run.expect(0).stderr_has("to send: 2");
    assert_eq!(listed_as_cut_off(&run.stderr), lost, "{}", run.stderr);
    let copies = s.server.log().copies();
    for (member, n) in &copies {
        let expected = if lost.contains(member) { 2 } else { 1 };
        assert_eq!(*n, expected, "{member}: {copies:?}");
    }
    assert_eq!(counts(&p.status_json())["uncertain"], 0);
}

/// `[smtp] data_timeout_secs` is the wait for the reply to the final `.`, apart from
/// `timeout_secs`: a reply slower than the command timeout but within the data timeout is
/// accepted, once.
#[test]
fn the_final_reply_waits_for_the_data_timeout_not_the_command_timeout() {
    let p = Project::with_full_config(&config().replace(
        "timeout_secs = 5",
        "timeout_secs = 1\ndata_timeout_secs = 30",
    ));
    let list = p.list("m.csv", members(3));
    let s = Server::script(|stage, _| match stage {
        Stage::EndOfData(to) if to == "member2@example.org" => {
            Action::Slow(Duration::from_millis(2500))
        }
        _ => Action::Normal,
    });
    p.send(&list, &s.url(), &["--connections", "1"])
        .expect(0)
        .stderr_has("accepted: 3, refused: 0, deferred: 0, uncertain: 0");
    let copies = s.server.log().copies();
    assert_eq!(copies.len(), 3);
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
}

/// 500 members over 8 connections to a server that refuses and drops connections now and
/// then (see `support::flaky_connections`): every member ends with an outcome, none as
/// interrupted, and each got exactly one copy.
#[test]
fn flaky_connections_leave_no_member_without_an_outcome() {
    const MEMBERS: usize = 500;
    let p = Project::with_full_config(&config().replace("retries = 2", "retries = 5"));
    let list = p.list("m.csv", members(MEMBERS));
    let s = Server::start(support::flaky_connections(format!(
        "member{MEMBERS}@example.org"
    )));
    let run = p.send(&list, &s.url(), &["--connections", "8"]);
    run.expect(0).stderr_has(&format!(
        "accepted: {MEMBERS}, refused: 0, deferred: 0, uncertain: 0"
    ));
    assert!(!run.stderr.contains("interrupted"), "{}", run.stderr);
    let standing = standing(&p);
    assert_eq!(standing.len(), MEMBERS);
    assert!(standing.values().all(|v| v == "accepted"), "{standing:?}");
    let log = s.server.log();
    log.assert_one_copy_each(
        MEMBERS,
        &format!(
            "{MEMBERS} members, 8 connections, {} connections opened",
            log.connections
        ),
    );
    assert!(log.connections > 8);
}

#[test]
fn nothing_listening_is_an_error_naming_the_server_and_nobody_is_accepted() {
    let p = Project::new();
    let list = p.list("m.csv", members(3));
    let port = free_port();
    let run = p.send(&list, &format!("smtp://127.0.0.1:{port}"), &[]);
    run.expect(1).stderr_has(&format!("127.0.0.1:{port}"));
    let json = p.status_json();
    assert_eq!(counts(&json)["accepted"], 0);
    assert_eq!(counts(&json)["uncertain"], 0);
    let standing = standing(&p);
    assert!(standing.values().all(|v| v == "deferred"), "{standing:?}");
}

#[test]
fn a_refused_login_stops_the_run_and_sends_nothing() {
    let p = Project::new();
    let list = p.list("m.csv", members(2));
    let s = Server::start(ServerConfig {
        auth: Some(("news".into(), "right-password".into())),
        ..ServerConfig::default()
    });
    let url = format!("smtp://news@127.0.0.1:{}", s.server.port);
    let mut cmd = p.command(&[
        "send",
        "issues/n1",
        "--list",
        &list,
        "--smtp",
        &url,
        "--yes",
    ]);
    cmd.env("BULLETIN_SMTP_PASSWORD", "wrong-password-xyzzy");
    let run = p.run_cmd(cmd);
    run.expect(1)
        .stderr_has("refused the login")
        .stderr_has(&format!("127.0.0.1:{}", s.server.port));
    assert!(!run.stderr.contains("xyzzy") && !run.stdout.contains("xyzzy"));
    assert!(s.server.log().messages.is_empty());
}

#[test]
fn a_server_slower_than_the_timeout_defers_the_member() {
    let p = Project::with_full_config(&config().replace("timeout_secs = 5", "timeout_secs = 1"));
    let list = p.list("m.csv", members(3));
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(to) if to == "member2@example.org" => Action::Slow(Duration::from_millis(2500)),
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &["--connections", "1"]);
    run.expect(3)
        .stderr_has("accepted: 2, refused: 0, deferred: 1");
    assert_eq!(standing(&p)["member2@example.org"], "deferred");
    assert!(!s.accepted().contains_key("member2@example.org"));
}

// ---------------------------------------------------------------------------------------------
// 4. rate

#[test]
fn rate_never_puts_more_than_its_count_in_any_window() {
    let p = Project::new();
    let list = p.list("m.csv", members(20));
    let s = Server::script(|_, _| Action::Normal);
    p.send(&list, &s.url(), &["--rate", "5/s", "--connections", "4"])
        .expect(0);
    let mut times: Vec<Instant> = s.server.log().accepted().iter().map(|m| m.at).collect();
    assert_eq!(times.len(), 20);
    times.sort();
    // Any 6 consecutive end-of-data instants span at least a second: no 1-second window
    // holds more than 5. (The server sees the final `.` a little after the client sent it;
    // allow the jitter of the loopback.)
    let slack = Duration::from_millis(50);
    for w in times.windows(6) {
        let span = w[5] - w[0];
        assert!(
            span + slack >= Duration::from_secs(1),
            "6 messages within {span:?}"
        );
    }
}

#[test]
fn a_bad_rate_is_a_clear_error() {
    let p = Project::new();
    let list = p.list("m.csv", members(2));
    for bad in ["5/x", "fast", "0/s", "-3/s"] {
        let arg = format!("--rate={bad}");
        let run = p.run(&["send", "issues/n1", "--list", &list, "--dry-run", &arg]);
        run.expect(1)
            .stderr_has(&format!("error: invalid rate \"{bad}\": "));
        assert!(!p.path("outbox").exists(), "{bad}: nothing written");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. crash and resume

/// Accepted records in the journal right now (0 if it does not exist yet).
fn accepted_in_journal(p: &Project) -> usize {
    let dir = p.path(".bulletin/journals");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| t.matches("\"type\":\"accepted\"").count())
        .sum()
}

/// Wait until the journal holds at least `n` accepted records or the child ends.
fn wait_for_accepted(p: &Project, child: &mut Child, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if accepted_in_journal(p) >= n {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no {n} accepted records within 60s");
}

/// Addresses a run's preflight lists as "sent again" (cut off in an earlier run).
fn listed_as_cut_off(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.contains("sent again (an earlier run was cut off mid-transaction"))
        .filter_map(|l| l.rsplit(": ").next())
        .map(str::to_string)
        .collect()
}

/// Members the journal says were cut off (per `bulletin status --json`).
fn uncertain_in_status(p: &Project) -> BTreeSet<String> {
    let json = p.status_json();
    json["journals"][0]["uncertain"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|pair| pair[1].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Send 200 members to smtp-sink, killing the sender with SIGKILL `kills` times at random
/// moments, each time running the same command again; then check that nobody was missed, that
/// duplicates stay within one per connection per kill, and that each resumed run listed the
/// members the journal had as cut off (and only they got a second copy).
fn kill_and_resume(kills: usize) {
    const MEMBERS: usize = 200;
    const CONNECTIONS: usize = 4;
    let p = Project::new();
    let list = p.list("m.csv", members(MEMBERS));
    let sink = SmtpSink::with_dump(&[]);
    let url = sink.url();
    let args = ["--rate", "50/s", "--connections", "4"];
    let mut killed = 0;
    let mut cut_off_total = BTreeSet::new();
    for _ in 0..kills {
        let uncertain = if p.path(".bulletin/journals").exists() {
            uncertain_in_status(&p)
        } else {
            BTreeSet::new()
        };
        assert!(
            uncertain.len() <= 20,
            "cut off: {} members (more than the preflight lists)",
            uncertain.len()
        );
        let before = accepted_in_journal(&p);
        let mut child = p.spawn_send(&list, &url, &args);
        let step = rand::random_range(1..=(MEMBERS / (kills + 1)).max(2));
        let running = wait_for_accepted(&p, &mut child, before + step);
        if running {
            child.kill().expect("SIGKILL the sender");
            killed += 1;
        }
        let out = child.wait_with_output().expect("the sender's output");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // What the journal said was cut off is what this run listed and sent again.
        assert_eq!(listed_as_cut_off(&stderr), uncertain, "{stderr}");
        cut_off_total.extend(uncertain);
        if !running {
            break;
        }
    }
    // Finish.
    let last_uncertain = uncertain_in_status(&p);
    let run = p.send(&list, &url, &args);
    run.expect(0);
    assert_eq!(
        listed_as_cut_off(&run.stderr),
        last_uncertain,
        "{}",
        run.stderr
    );
    cut_off_total.extend(last_uncertain);

    let copies = copies(&sink.dumped());
    let missing: Vec<String> = member_set(MEMBERS)
        .into_iter()
        .filter(|m| !copies.contains_key(m))
        .collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    let duplicates: usize = copies.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= CONNECTIONS * killed,
        "{duplicates} duplicates after {killed} kills"
    );
    for (member, n) in &copies {
        if *n > 1 {
            assert!(
                cut_off_total.contains(member),
                "{member} got {n} copies but was never listed as cut off; journal:\n{}",
                journal_of_member(&p, member).join("\n")
            );
        }
    }
    let json = p.status_json();
    assert_eq!(counts(&json)["accepted"], MEMBERS as u64);
    assert_eq!(counts(&json)["uncertain"], 0);
    eprintln!(
        "{killed} kills, {duplicates} duplicates, {} listed as cut off",
        cut_off_total.len()
    );
}

/// Every journal line about `member` (headers included, for the run boundaries).
fn journal_of_member(p: &Project, member: &str) -> Vec<String> {
    let text = std::fs::read_to_string(p.journal()).unwrap_or_default();
    let key = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["email"] == member)
        .and_then(|v| v["key"].as_str().map(str::to_string))
        .unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("\"header\"") || (!key.is_empty() && l.contains(&key)))
        .map(str::to_string)
        .collect()
}

/// Twenty kills at random moments, each followed by a resume (a few seconds in all).
#[test]
fn kill_9_twenty_times_then_resume_loses_nobody() {
    kill_and_resume(20);
}

#[test]
fn a_journal_with_a_torn_last_line_resumes() {
    let p = Project::new();
    let list = p.list("m.csv", members(5));
    let sink = SmtpSink::with_dump(&[]);
    p.send(&list, &sink.url(), &["--connections", "1"])
        .expect(0);
    // Cut the last record (an `accepted`) in the middle, as a crash mid-write would.
    let journal = p.journal();
    let text = std::fs::read_to_string(&journal).unwrap();
    let last = text.trim_end().rsplit('\n').next().unwrap().to_string();
    assert!(last.contains("\"accepted\""), "{last}");
    let torn = &text[..text.len() - last.len() / 2 - 1];
    std::fs::write(&journal, torn).unwrap();
    let uncertain = uncertain_in_status(&p);
    assert_eq!(uncertain.len(), 1, "the torn record's member is cut off");

    let run = p.send(&list, &sink.url(), &["--connections", "1"]);
    run.expect(0).stderr_has("to send: 1");
    assert_eq!(listed_as_cut_off(&run.stderr), uncertain);
    let copies = copies(&sink.dumped());
    assert_eq!(copies.len(), 5);
    for (m, n) in &copies {
        let want = if uncertain.contains(m) { 2 } else { 1 };
        assert_eq!(*n, want, "{m}");
    }
    // The journal is whole again: every line parses.
    let text = std::fs::read_to_string(&journal).unwrap();
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("bad journal line {line:?}: {e}"));
    }
    assert_eq!(counts(&p.status_json())["accepted"], 5);
}

#[test]
fn a_second_send_of_the_same_issue_refuses_naming_the_lock_whatever_the_list() {
    let p = Project::new();
    let list = p.list("m.csv", members(20));
    let other = p.list("other.csv", members(3));
    let sink = SmtpSink::with_dump(&[]);
    let mut first = p.spawn_send(&list, &sink.url(), &["--rate", "5/s"]);
    assert!(wait_for_accepted(&p, &mut first, 1), "the first send runs");
    let same = p.send(&list, &sink.url(), &[]);
    let another = p.send(&other, &sink.url(), &[]);
    let _ = first.kill();
    let _ = first.wait();
    for second in [same, another] {
        second
            .expect(1)
            .stderr_has("another send of this issue is running")
            .stderr_has(".bulletin/journals/n1.lock");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. list fields cannot add headers or script

#[test]
fn list_fields_cannot_inject_headers_or_script_and_names_are_encoded() {
    let p = Project::new();
    let list = p.list(
        "m.csv",
        "email,name\n\
         eve@example.org,\"Eve\r\nBcc: evil@example.com <script>alert(1)</script>\"\n\
         zoe@example.org,Zoë Faure\n",
    );
    let sink = SmtpSink::with_dump(&[]);
    p.send(&list, &sink.url(), &[]).expect(0);
    let dumps = sink.dumped();
    assert_eq!(dumps.len(), 2);
    for d in &dumps {
        let rcpt = rcpt_of_dump(d);
        let m = MessageParser::default().parse(d).expect("parsable");
        let headers = raw_headers(d);
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{headers}"
        );
        assert!(m.bcc().is_none());
        assert_eq!(m.header_values("To").count(), 1);
        let html = m.body_html(0).expect("an HTML part");
        assert!(!html.contains("<script>"), "{rcpt}: raw script in HTML");
        let (name, addr) = to_address(&m);
        assert_eq!(addr, rcpt);
        if rcpt == "eve@example.org" {
            assert!(
                html.contains("&lt;script&gt;"),
                "the name is shown, escaped"
            );
            let name = name.unwrap_or_default();
            assert!(!name.contains('\r') && !name.contains('\n'), "{name:?}");
        } else {
            assert_eq!(name.as_deref(), Some("Zoë Faure"));
            let to_line = headers
                .lines()
                .find(|l| l.starts_with("To:"))
                .expect("a To header");
            assert!(to_line.is_ascii(), "{to_line}");
            assert!(
                to_line.to_ascii_lowercase().contains("=?utf-8?"),
                "{to_line}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. confirmation, dry run, test sends, secrets

#[test]
fn without_a_terminal_or_yes_nothing_is_sent() {
    let p = Project::new();
    let list = p.list("m.csv", members(3));
    let sink = SmtpSink::with_dump(&[]);
    let run = p.run(&["send", "issues/n1", "--list", &list, "--smtp", &sink.url()]);
    run.expect(1).stderr_has("pass --yes");
    assert!(sink.dumped().is_empty());
}

#[test]
fn a_dry_run_writes_one_message_per_member_and_needs_no_server() {
    let p = Project::new();
    let list = p.list("m.csv", members(4));
    let run = p.run(&["send", "issues/n1", "--list", &list, "--dry-run"]);
    run.expect(0).stderr_has("written: 4");
    assert!(!run.stderr.contains("accepted"), "{}", run.stderr);
    let files: Vec<PathBuf> = std::fs::read_dir(p.path("outbox"))
        .expect("the outbox")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 4);
    let mut to = BTreeSet::new();
    for f in &files {
        assert_eq!(f.extension().and_then(|e| e.to_str()), Some("eml"));
        let bytes = std::fs::read(f).unwrap();
        let m = MessageParser::default().parse(&bytes).expect("parsable");
        to.insert(to_address(&m).1);
    }
    assert_eq!(to, member_set(4));
}

#[test]
fn a_test_send_mails_one_marked_copy_to_each_address() {
    let p = Project::new();
    let s = Server::script(|_, _| Action::Normal);
    let run = p.run(&[
        "send",
        "issues/n1",
        "--to",
        "editor@example.org",
        "--to",
        "proof@example.net",
        "--smtp",
        &s.url(),
    ]);
    run.expect(0);
    let accepted = s.accepted();
    assert_eq!(
        accepted.keys().cloned().collect::<Vec<_>>(),
        ["editor@example.org", "proof@example.net"]
    );
    assert!(accepted.values().all(|n| *n == 1));
    for msg in s.server.log().accepted() {
        let m = MessageParser::default().parse(&msg.data).expect("parsable");
        assert_eq!(m.subject(), Some("[TEST] Test News, November"));
    }
    assert!(
        !p.path(".bulletin/journals").exists(),
        "a test send keeps no journal"
    );
}

#[test]
fn a_test_send_as_a_member_is_personalised_as_them() {
    let p = Project::new();
    let list = p.list(
        "m.csv",
        "email,name\nann@example.org,Ann Example\nbob@example.org,Bob Example\n",
    );
    let s = Server::script(|_, _| Action::Normal);
    p.run(&[
        "send",
        "issues/n1",
        "--to",
        "editor@example.org",
        "--as",
        "BOB@example.org",
        "--list",
        &list,
        "--smtp",
        &s.url(),
    ])
    .expect(0);
    let log = s.server.log();
    let msgs = log.accepted();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].to, ["editor@example.org"]);
    let m = MessageParser::default().parse(&msgs[0].data).unwrap();
    let html = m.body_html(0).unwrap();
    assert!(html.contains("Dear Bob Example"), "personalised as Bob");
    assert!(!html.contains("Ann Example"));

    let missing = p.run(&[
        "send",
        "issues/n1",
        "--to",
        "editor@example.org",
        "--as",
        "zed@example.org",
        "--list",
        &list,
        "--smtp",
        &s.url(),
    ]);
    missing
        .expect(1)
        .stderr_has("no member with the address zed@example.org");
}

#[test]
fn the_password_from_the_environment_reaches_auth_and_is_never_printed() {
    let p = Project::new();
    let list = p.list("m.csv", members(2));
    let secret = "s3cret-Pa55-word";
    let s = Server::start(ServerConfig {
        auth: Some(("news".into(), secret.into())),
        ..ServerConfig::default()
    });
    let url = format!("smtp://news@127.0.0.1:{}", s.server.port);
    let mut cmd = p.command(&[
        "send",
        "issues/n1",
        "--list",
        &list,
        "--smtp",
        &url,
        "--yes",
        "--json",
    ]);
    cmd.env("BULLETIN_SMTP_PASSWORD", secret);
    let run = p.run_cmd(cmd);
    run.expect(0);
    assert!(!s.server.log().logins.is_empty());
    assert!(s.server.log().logins.iter().all(|u| u == "news"));
    assert_eq!(s.accepted().len(), 2);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(secret), "the password was printed: {text}");
    }
}

#[test]
fn a_password_in_the_url_is_refused_and_not_echoed() {
    let p = Project::new();
    let list = p.list("m.csv", members(2));
    let s = Server::script(|_, _| Action::Normal);
    let url = format!("smtp://news:hunter2-xyz@127.0.0.1:{}", s.server.port);
    let run = p.send(&list, &url, &[]);
    run.expect(1).stderr_has("BULLETIN_SMTP_PASSWORD");
    assert!(!run.stderr.contains("hunter2-xyz"), "{}", run.stderr);
    assert_eq!(s.server.log().connections, 0);
}

// ---------------------------------------------------------------------------------------------
// 8. Ctrl-C

#[test]
fn ctrl_c_stops_after_the_messages_in_flight_and_the_rerun_completes() {
    let p = Project::new();
    let list = p.list("m.csv", members(40));
    let s = Server::script(|_, _| Action::Normal);
    let url = s.url();
    let args = ["--rate", "10/s", "--connections", "2"];
    let mut child = p.spawn_send(&list, &url, &args);
    assert!(wait_for_accepted(&p, &mut child, 5), "the send runs");
    let sigint = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(sigint.success());
    let out = child.wait_with_output().expect("the interrupted run");
    let run = Run::from(out);
    run.expect(130).stderr_has("interrupted");

    // The journal is consistent: everyone handed over has an outcome, nobody is cut off.
    let json = p.status_json();
    assert_eq!(counts(&json)["uncertain"], 0, "{json}");
    let accepted_before = s.accepted();
    assert_eq!(
        counts(&json)["accepted"],
        accepted_before.len() as u64,
        "the journal and the server agree"
    );
    assert!(accepted_before.len() < 40, "stopped early");
    // Those the Ctrl-C stopped before are "not tried", not "deferred": every member is counted.
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("accepted: "))
        .expect("a summary line");
    let numbers: Vec<u64> = line
        .split(", ")
        .filter_map(|part| part.rsplit(": ").next()?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 6, "{line}");
    assert_eq!(numbers.iter().sum::<u64>(), 40, "{line}");
    assert_eq!(numbers[0], accepted_before.len() as u64, "{line}");
    assert!(numbers[5] > 0, "{line}");

    let again = p.send(&list, &url, &args);
    again.expect(0);
    let accepted = s.accepted();
    assert_eq!(
        accepted.keys().cloned().collect::<BTreeSet<_>>(),
        member_set(40)
    );
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
}

// ---------------------------------------------------------------------------------------------
// `bulletin status --members`: what became of each member

/// A DSN for `rcpt` with the returned headers naming issue n1.
fn dsn_for(rcpt: &str, status: &str, diagnostic: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <dsn-{rcpt}@mx.example.net>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\n\
Diagnostic-Code: smtp; {diagnostic}\r\n\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: {rcpt}\r\nSubject: n1\r\nX-Bulletin-Issue: n1\r\n\r\n--b--\r\n"
    )
}

/// An ARF complaint (RFC 5965) about issue n1 from `rcpt`.
fn arf_for(rcpt: &str) -> String {
    format!(
        "From: feedback@isp.example\r\nTo: abuse@example.org\r\nSubject: Abuse report\r\n\
Message-ID: <arf-{rcpt}@isp.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\r\n\r\n\
--f\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n\r\n\
--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp/1.0\r\nVersion: 1\r\n\
Original-Rcpt-To: {rcpt}\r\n\r\n\
--f\r\nContent-Type: text/rfc822-headers\r\n\r\nTo: {rcpt}\r\nSubject: n1\r\nX-Bulletin-Issue: n1\r\n\r\n--f--\r\n"
    )
}

#[test]
fn status_names_what_became_of_each_member() {
    let p = Project::new();
    let list = p.list(
        "m.csv",
        "email,status\nmember1@example.org,\nmember2@example.org,\nmember3@example.org,\n\
member4@example.org,\nmember5@example.org,\nleft@example.org,unsubscribed\n",
    );
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(to) if to == "member2@example.org" => Action::Reply(
            "550 5.1.1 <member2@example.org>: Recipient address rejected: User unknown".into(),
        ),
        _ => Action::Normal,
    });
    p.send(&list, &s.url(), &[]).expect(3);
    let inbox = p.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("1.eml"),
        dsn_for(
            "member3@example.org",
            "5.2.2",
            "552 5.2.2 <member3@example.org>: mailbox is full",
        ),
    )
    .unwrap();
    std::fs::write(inbox.join("2.eml"), arf_for("member4@example.org")).unwrap();
    p.run(&["bounces", "inbox", "--apply"]).expect(0);

    let run = p.run(&["status", "issues/n1", "--members", "--json"]);
    run.expect(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let l = &json["lists"][0];
    assert_eq!(l["list"], "lists/m.csv");
    let fate = |email: &str| {
        l["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == email)
            .unwrap_or_else(|| panic!("{email} in {}", run.stdout))
            .clone()
    };
    assert_eq!(fate("member1@example.org")["fate"], "accepted");
    let m2 = fate("member2@example.org");
    assert_eq!(m2["fate"], "refused");
    assert!(m2["reply"].as_str().unwrap().contains("550 5.1.1"), "{m2}");
    let m3 = fate("member3@example.org");
    assert_eq!(m3["fate"], "bounced-later");
    assert_eq!(m3["delivery"], "accepted");
    assert_eq!(m3["bounce"]["reason"], "mailboxfull");
    assert_eq!(m3["bounce"]["class"], "soft");
    assert_eq!(fate("member4@example.org")["fate"], "complained");
    assert_eq!(fate("member5@example.org")["fate"], "accepted");
    let left = fate("left@example.org");
    assert_eq!(left["fate"], "unsubscribed");
    assert_eq!(left["delivery"], "not-sent");
    let t = &l["totals"];
    assert_eq!(
        (
            t["accepted"].as_u64(),
            t["refused"].as_u64(),
            t["bounced-later"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (t["complained"].as_u64(), t["unsubscribed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(json["fates"]["accepted"], 2);

    let text = p.run(&["status", "issues/n1", "--members"]);
    text.expect(0);
    assert!(
        text.stdout.contains(
            "bounced-later  member3@example.org: soft bounce, mailboxfull (5.2.2) (after accepted)"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("refused        member2@example.org: 550 5.1.1 <member2@example.org>: Recipient address rejected: User unknown"),
        "{}",
        text.stdout
    );
}

#[test]
fn status_of_an_issue_never_sent_is_an_error() {
    let p = Project::new();
    let run = p.run(&["status", "issues/n1"]);
    run.expect(1)
        .stderr_has("n1 was never sent: there is no journal of it in");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// The summary names the members refused and deferred with the server's reply (the first
/// twenty of each, then how many more and where they all are), and `--json` carries them.
#[test]
fn the_summary_names_refused_and_deferred_members_with_the_reply() {
    let p = Project::new();
    let list = p.list("m.csv", members(25));
    let s = Server::script(|stage, _| match stage {
        Stage::Rcpt(to) if to == "member25@example.org" => {
            Action::Reply("452 4.2.2 Mailbox full".into())
        }
        Stage::Rcpt(to) if to != "member24@example.org" => {
            Action::Reply("550 5.1.1 User unknown".into())
        }
        _ => Action::Normal,
    });
    let run = p.send(&list, &s.url(), &["--connections", "1", "--json"]);
    run.expect(3)
        .stderr_has(
            "accepted: 1, refused: 23, deferred: 1, uncertain: 0, not built: 0, not tried: 0, in ",
        )
        .stderr_has("refused: member1@example.org (line 2): 550 5.1.1 User unknown")
        .stderr_has("refused: member20@example.org (line 21): 550 5.1.1 User unknown")
        .stderr_has("refused: and 3 more: `bulletin status issues/n1 --members` names every one")
        .stderr_has("deferred: member25@example.org (line 26): 452 4.2.2 Mailbox full");
    assert!(
        !run.stderr.contains("refused: member21@example.org"),
        "only the first twenty are named: {}",
        run.stderr
    );
    let summary: serde_json::Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("summary").cloned())
        .expect("a summary on stdout");
    assert_eq!(summary["refused"], 23);
    assert_eq!(summary["refused_members"].as_array().unwrap().len(), 20);
    assert_eq!(
        summary["deferred_members"][0]["email"],
        "member25@example.org"
    );
    assert_eq!(summary["not_tried"], 0);
}
