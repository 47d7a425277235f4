//! The way out: `send` refuses what `check` refuses, `bulletin serve` records one-click and
//! web unsubscribes, and the next send skips those members. The real binary on temp projects,
//! real SMTP (smtp-sink), real HTTP clients (curl, wrk) on loopback.

mod browser;
mod support;

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bulletin::list::Suppression;
use bulletin::message::Tokens;
use support::files::bulletin;
use support::serve::Serve;
use support::{SmtpSink, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_bulletin");

const GOOD_TEMPLATE: &str = "<mjml><mj-body><mj-section><mj-column>
<mj-image src=\"https://img.example.org/a.png\" />
<mj-text>{{issue.title}} for {{subscriber.email}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
";

const ISSUE: &str = "subject = \"S\"\ntitle = \"T\"\n";
const LIST: &str = "email,name\nann@example.org,Ann\nbob@example.org,Bob\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn send_refuses_an_issue_check_refuses_and_sends_nothing() {
    let template = "<mjml><mj-body><mj-section><mj-column>
<mj-text>{{issue.title}} <a href=\"javascript:alert(1)\">Go</a> <a href=\"data:text/html,x\">x</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
";
    let dir = support::files::tiny(template, ISSUE, LIST);
    let sink = SmtpSink::with_dump(&[]);
    let check = bulletin(dir.path(), &["check", "issues/one"]);
    assert_eq!(check.status.code(), Some(3), "{}", stderr(&check));

    for extra in [&["--dry-run"][..], &["--smtp", &sink.url()][..]] {
        let mut args = vec!["send", "issues/one", "--list", "lists/members.csv", "--yes"];
        args.extend_from_slice(extra);
        let o = bulletin(dir.path(), &args);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            "error[bad-link]: templates/bulletin.mjml.hbs:2:35: link `javascript:alert(1)` is not an https://, http:// or mailto: link
error[bad-link]: templates/bulletin.mjml.hbs:2:72: link `data:text/html,x` is not an https://, http:// or mailto: link
error[no-unsubscribe]: templates/bulletin.mjml.hbs: the template has no unsubscribe link (an <a href=\"{{unsubscribe_url}}\">)
refusing to send issues/one: `bulletin check` finds 3 errors; nothing was sent
"
        );
    }
    // a test send is refused too
    let o = bulletin(
        dir.path(),
        &["send", "issues/one", "--to", "me@example.org", "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!dir.path().join("outbox").exists());
    assert!(sink.dumped().is_empty());
    assert!(!dir.path().join(".bulletin/journals").exists());
}

#[test]
fn send_refuses_an_unknown_placeholder_with_its_place() {
    let template = GOOD_TEMPLATE.replace("{{issue.title}}", "{{issue.titel}}");
    let dir = support::files::tiny(&template, ISSUE, LIST);
    let o = bulletin(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--yes",
            "--dry-run",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[unknown-placeholder]: templates/bulletin.mjml.hbs:3:"),
        "{e}"
    );
    assert!(e.contains("issue.titel"), "{e}");
    assert!(
        e.ends_with(
            "refusing to send issues/one: `bulletin check` finds 1 error; nothing was sent\n"
        ),
        "{e}"
    );
    assert!(!dir.path().join("outbox").exists());
}

#[test]
fn send_shows_warnings_in_the_preflight_and_goes_ahead() {
    let dir = support::files::tiny(GOOD_TEMPLATE, ISSUE, LIST);
    let sink = SmtpSink::with_dump(&[]);
    let o = bulletin(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--yes",
            "--smtp",
            &sink.url(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("warning[missing-alt]: templates/bulletin.mjml.hbs:2:16: image https://img.example.org/a.png has no alt text"),
        "{e}"
    );
    assert_eq!(sink.dumped().len(), 2);
}

#[test]
fn check_wants_the_unsubscribe_link_in_the_text_part_too() {
    // html2text leaves out what sits in the HTML's <head>; a link placed only in mj-raw inside
    // a hidden block never reaches the text part.
    let template = "<mjml><mj-head><mj-raw><meta name=\"x\" content=\"y\"></mj-raw></mj-head><mj-body><mj-section><mj-column>
<mj-text font-size=\"14px\">{{issue.title}}</mj-text>
</mj-column></mj-section>
<mj-raw><style><a href=\"{{unsubscribe_url}}\">x</a></style></mj-raw>
</mj-body></mjml>
";
    let dir = support::files::tiny(template, ISSUE, LIST);
    let o = bulletin(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"severity\":\"error\",\"code\":\"no-unsubscribe-text\",\"message\":\"the plain-text part has no unsubscribe link: the template's link does not survive into the text (is it hidden?)\",\"location\":\"templates/bulletin.mjml.hbs\"}\n"
    );
    // the same link in the body reaches both parts
    let dir = support::files::tiny(GOOD_TEMPLATE, ISSUE, LIST);
    let o = bulletin(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ----- bulletin serve -----

const SECRET: &str = "a-test-secret";

/// A project for `bulletin serve` on `port`, with `members` in `lists/members.csv`.
fn serve_project(port: u16, members: &[String], serve_extra: &str) -> tempfile::TempDir {
    let config = format!(
        "[sender]\nname = \"Test News\"\nemail = \"news@news.test\"\nbounce_address = \"bounces@news.test\"\n\
unsubscribe_mailto = \"unsubscribe@news.test\"\ntoken_secret = \"{SECRET}\"\n\
[serve]\nurl = \"http://127.0.0.1:{port}\"\n{serve_extra}\n"
    );
    let mut list = String::from("email,name\n");
    for m in members {
        list.push_str(&format!("{m},\n"));
    }
    let dir = support::files::tiny(GOOD_TEMPLATE, ISSUE, &list);
    std::fs::write(dir.path().join("bulletin.toml"), config).unwrap();
    dir
}

fn token(email: &str) -> String {
    Tokens::with_secret(SECRET.as_bytes().to_vec(), "bounces@news.test")
        .unwrap()
        .token(email)
}

fn members(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("member{i:05}@example.org"))
        .collect()
}

/// `bulletin send issues/one --list lists/members.csv --yes --dry-run --outbox OUTBOX EXTRA…`
fn dry_run(root: &Path, outbox: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "send",
        "issues/one",
        "--list",
        "lists/members.csv",
        "--yes",
        "--dry-run",
        "--outbox",
        outbox,
    ];
    args.extend_from_slice(extra);
    bulletin(root, &args)
}

/// The addresses a dry run of issues/one to lists/members.csv would mail.
fn dry_run_recipients(root: &Path, outbox: &str, extra: &[&str]) -> BTreeSet<String> {
    let o = dry_run(root, outbox, extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut out = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(root.join(outbox)) else {
        return out;
    };
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let to = text
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .expect("a To header");
        out.insert(
            to.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        );
    }
    out
}

fn suppression(root: &Path) -> Suppression {
    Suppression::load(&root.join(".bulletin/suppressed.csv")).unwrap()
}

#[test]
fn serve_records_one_click_posts_and_the_next_send_skips_them() {
    let port = free_port();
    let all = members(5);
    let dir = serve_project(port, &all, "");
    let root = dir.path();
    let serve = Serve::start(root, port);

    // A GET (what a link scanner does) shows the page and changes nothing.
    let (code, page) = serve.get(&format!("/unsubscribe/{}", token(&all[0])));
    assert_eq!(code, 200);
    assert!(page.contains("Unsubscribe from Test News"), "{page}");
    assert!(page.contains("m***@example.org"), "{page}");
    assert!(
        !page.contains(&all[0]),
        "the page shows the address only masked"
    );
    assert!(!root.join(".bulletin/suppressed.csv").exists() || suppression(root).is_empty());

    // One-click, form-encoded and multipart, as providers send it.
    assert_eq!(serve.one_click(&token(&all[0])).0, 200);
    let (code, _) = serve.curl(
        &format!("/unsubscribe/{}", token(&all[1])),
        &["-F", "List-Unsubscribe=One-Click"],
    );
    assert_eq!(code, 200);
    // the same again changes nothing
    assert_eq!(serve.one_click(&token(&all[0])).0, 200);
    let text = std::fs::read_to_string(root.join(".bulletin/suppressed.csv")).unwrap();
    assert_eq!(text.matches(&all[0]).count(), 1, "{text}");
    let s = suppression(root);
    assert!(s.is_unsubscribed(&all[0]) && s.is_unsubscribed(&all[1]));
    assert_eq!(s.len(), 2);

    // Unknown and forged tokens: 404 with a page of the same shape, and nothing recorded.
    let (code, unknown) = serve.one_click(&token("stranger@example.org"));
    assert_eq!(code, 404);
    assert!(unknown.contains("This link does not work"), "{unknown}");
    let (code, forged) = serve.get("/unsubscribe/aaaaaaaaaaaaaaaa");
    assert_eq!((code, forged.as_str()), (404, unknown.as_str()));
    assert_eq!(serve.get("/unsubscribe/").0, 404);
    assert_eq!(suppression(root).len(), 2);

    // The Host must be the public URL's.
    let (code, _) = serve.curl(
        &format!("/unsubscribe/{}", token(&all[2])),
        &[
            "-H",
            "Host: evil.example",
            "-d",
            "List-Unsubscribe=One-Click",
        ],
    );
    assert_eq!(code, 421);
    assert!(!suppression(root).contains(&all[2]));

    // The logs carry tokens, never addresses.
    let log = serve.log();
    assert!(
        log.contains(&format!(
            "POST /unsubscribe/{} 200 unsubscribed",
            token(&all[0])
        )),
        "{log}"
    );
    assert!(!log.contains("@example.org"), "{log}");

    // The next send skips exactly those two.
    let mailed = dry_run_recipients(root, "box1", &[]);
    let expected: BTreeSet<String> = all[2..].iter().cloned().collect();
    assert_eq!(mailed, expected);

    // Undo brings the member back; a hard bounce would have stayed.
    let (code, page) = serve.curl(
        &format!("/unsubscribe/{}", token(&all[1])),
        &["-d", "resubscribe=1"],
    );
    assert_eq!(code, 200);
    assert!(page.contains("You are subscribed again"), "{page}");
    assert!(!suppression(root).contains(&all[1]));
    let mailed = dry_run_recipients(root, "box2", &[]);
    assert!(mailed.contains(&all[1]) && !mailed.contains(&all[0]));

    // A member added to a list is known without a restart.
    let newcomer = "newcomer@example.org";
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("lists/members.csv"))
        .unwrap();
    writeln!(f, "{newcomer},").unwrap();
    drop(f);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, _) = serve.get(&format!("/unsubscribe/{}", token(newcomer)));
        if code == 200 {
            break;
        }
        assert_eq!(code, 404);
        assert!(
            Instant::now() < deadline,
            "the new member was never picked up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(serve.get("/healthz"), (200, "ok\n".to_string()));
}

#[test]
fn serve_limits_rate_body_and_slow_headers() {
    let port = free_port();
    let all = members(3);
    let dir = serve_project(
        port,
        &all,
        "post_rate = \"2/m\"\nbody_limit_bytes = 100\nheader_timeout_secs = 1\n",
    );
    let serve = Serve::start(dir.path(), port);
    let big = format!("List-Unsubscribe=One-Click&pad={}", "x".repeat(200));
    let (code, _) = serve.curl(&format!("/unsubscribe/{}", token(&all[0])), &["-d", &big]);
    assert_eq!(code, 413);
    assert!(!suppression(dir.path()).contains(&all[0]));
    assert_eq!(serve.one_click(&token(&all[1])).0, 200);
    // the third POST of this client within the minute waits
    let o = Command::new(support::tools::require("curl", "curl"))
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-d",
            "List-Unsubscribe=One-Click",
        ])
        .arg(serve.url(&format!("/unsubscribe/{}", token(&all[2]))))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&o.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 429"), "{head}");
    assert!(head.contains("retry-after: "), "{head}");
    assert!(!suppression(dir.path()).contains(&all[2]));
    // GETs are not limited
    assert_eq!(
        serve.get(&format!("/unsubscribe/{}", token(&all[2]))).0,
        200
    );

    // A client that never finishes its header is cut off.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the connection stayed open"
    );
}

#[test]
fn the_page_in_a_browser_unsubscribes_with_the_button_and_undoes() {
    let port = free_port();
    let all = members(2);
    let dir = serve_project(port, &all, "");
    let root = dir.path();
    let serve = Serve::start(root, port);
    let mut b = browser::Browser::launch();
    b.goto(&serve.url(&format!("/unsubscribe/{}", token(&all[0]))));
    b.wait_for(
        "the question",
        "document.querySelector('h1').textContent.includes('Unsubscribe from Test News')",
    );
    assert!(
        !suppression(root).contains(&all[0]),
        "opening the page unsubscribed"
    );
    b.eval("document.getElementById('unsubscribe').click()");
    b.wait_for(
        "the confirmation",
        "document.querySelector('h1').textContent === 'You are unsubscribed'",
    );
    assert!(suppression(root).is_unsubscribed(&all[0]));
    assert!(!suppression(root).contains(&all[1]));
    let text = std::fs::read_to_string(root.join(".bulletin/suppressed.csv")).unwrap();
    assert!(text.contains("unsubscribed (page)"), "{text}");
    b.eval("document.getElementById('undo').click()");
    b.wait_for(
        "the undo",
        "document.querySelector('h1').textContent === 'You are subscribed again'",
    );
    assert!(!suppression(root).contains(&all[0]));
    // and once more, from the undo page
    b.eval("document.getElementById('unsubscribe').click()");
    b.wait_for(
        "the confirmation",
        "document.querySelector('h1').textContent === 'You are unsubscribed'",
    );
    assert!(suppression(root).is_unsubscribed(&all[0]));
}

/// POST one-click unsubscribes for `tokens` with curl, 200 at a time (`--parallel`), and
/// return the tokens answered 200. Bounded: each transfer gives up after 30 s.
fn spawn_one_clicks(root: &Path, port: u16, tokens: &[String], name: &str) -> (Child, PathBuf) {
    let config = root.join(format!("{name}.curl"));
    let mut text = String::from("data = \"List-Unsubscribe=One-Click\"\n");
    for t in tokens {
        text.push_str(&format!(
            "url = \"http://127.0.0.1:{port}/unsubscribe/{t}\"\noutput = \"/dev/null\"\n"
        ));
    }
    std::fs::write(&config, text).unwrap();
    let out = root.join(format!("{name}.out"));
    let child = Command::new(support::tools::require("curl", "curl"))
        .args([
            "-s",
            "--parallel",
            "--parallel-max",
            "200",
            "--max-time",
            "30",
        ])
        .args(["-w", "%{http_code} %{url_effective}\\n", "-K"])
        .arg(&config)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl runs");
    (child, out)
}

fn answered_200(out: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("200 "))
        .filter_map(|url| url.rsplit('/').next())
        .map(str::to_string)
        .collect()
}

fn wait_bounded(child: &mut Child, limit: Duration) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the load did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ten_thousand_one_clicks_survive_a_kill_9_and_the_next_send_skips_exactly_them() {
    let port = free_port();
    let all = members(10_000);
    let dir = serve_project(port, &all, "post_rate = \"unlimited\"\n");
    let root = dir.path();
    let tokens: Vec<String> = all.iter().map(|m| token(m)).collect();
    let email_of: std::collections::HashMap<&str, &str> = tokens
        .iter()
        .map(String::as_str)
        .zip(all.iter().map(String::as_str))
        .collect();
    let mut serve = Serve::start(root, port);

    let (mut load, out) = spawn_one_clicks(root, port, &tokens, "load");
    // Kill the server in the middle of the load.
    let csv = root.join(".bulletin/suppressed.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count());
        if lines > 3_000 {
            break;
        }
        assert!(
            load.try_wait().unwrap().is_none(),
            "the load ended before the kill"
        );
        assert!(Instant::now() < deadline, "the load made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    serve.kill();
    wait_bounded(&mut load, Duration::from_secs(120));
    let answered = answered_200(&out);
    assert!(
        answered.len() >= 1_000 && answered.len() < tokens.len(),
        "answered: {}",
        answered.len()
    );

    // Every request answered 200 is on disk.
    let s = suppression(root);
    for t in &answered {
        assert!(s.is_unsubscribed(email_of[t.as_str()]), "lost: {t}");
    }
    let recorded: BTreeSet<String> = all.iter().filter(|m| s.contains(m)).cloned().collect();
    eprintln!(
        "killed with {} answered 200, {} recorded",
        answered.len(),
        recorded.len()
    );
    // recorded but not answered: at most what was in flight when the server died
    assert!(
        recorded.len() - answered.len() <= 400,
        "{} recorded, {} answered",
        recorded.len(),
        answered.len()
    );

    // After a restart, the next send skips exactly the members recorded.
    let _serve = Serve::start(root, port);
    let mailed = dry_run_recipients(root, "box", &[]);
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|m| !recorded.contains(*m))
        .cloned()
        .collect();
    assert_eq!(mailed.len(), expected.len());
    assert!(
        mailed == expected,
        "the dry run does not skip exactly the recorded members"
    );

    // The rest go through, and repeating the answered ones changes nothing.
    let rest: Vec<String> = tokens
        .iter()
        .filter(|t| !answered.contains(*t))
        .cloned()
        .chain(answered.iter().take(100).cloned())
        .collect();
    let (mut again, out) = spawn_one_clicks(root, port, &rest, "rest");
    wait_bounded(&mut again, Duration::from_secs(180));
    assert_eq!(answered_200(&out).len(), rest.len());
    let s = suppression(root);
    assert_eq!(s.len(), all.len());
    let lines = std::fs::read_to_string(&csv).unwrap().lines().count();
    assert!(
        lines <= all.len() + 1 + 400,
        "{lines} lines: repeats were recorded again"
    );
}

// ----- unsubscribe requests by mail -----

/// What a member's mail client sends for the `mailto:` of List-Unsubscribe.
fn mailto_request(from: &str, to: &str, subject: &str, id: &str) -> String {
    format!(
        "Return-Path: <{from}>\r\nDelivered-To: {to}\r\nFrom: <{from}>\r\nTo: {to}\r\n\
Subject: {subject}\r\nMessage-ID: <{id}@mail.example.org>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nunsubscribe\r\n"
    )
}

/// A vacation reply that happens to quote the subject: never an unsubscribe.
fn vacation_to_unsubscribe(token: &str) -> String {
    format!(
        "From: <cy@example.org>\r\nTo: unsubscribe@news.test\r\nSubject: Auto: unsubscribe {token}\r\n\
Auto-Submitted: auto-replied\r\nMessage-ID: <v1@example.org>\r\n\r\nI am away.\r\n"
    )
}

#[test]
fn mailto_requests_in_a_maildir_reach_the_suppression_list() {
    let all = members(3);
    let dir = serve_project(free_port(), &all, "");
    let root = dir.path();
    let maildir = root.join("Maildir");
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(d)).unwrap();
    }
    // The list's own mailto (the subject carries the token), the address form, a forged
    // request naming another member in From only, and a vacation reply.
    let put =
        |name: &str, text: String| std::fs::write(maildir.join("new").join(name), text).unwrap();
    put(
        "1.a",
        mailto_request(
            &all[0],
            "unsubscribe@news.test",
            &format!("unsubscribe {}", token(&all[0])),
            "a",
        ),
    );
    put(
        "2.b",
        mailto_request(
            "someone.else@example.net",
            &format!("unsubscribe+{}@news.test", token(&all[1])),
            "unsubscribe",
            "b",
        ),
    );
    put(
        "3.c",
        mailto_request(&all[2], "unsubscribe@news.test", "unsubscribe", "c"),
    );
    put(
        "4.d",
        mailto_request(
            &all[2],
            "unsubscribe@news.test",
            &format!("unsubscribe {}", token("stranger@example.org")),
            "d",
        ),
    );
    put("5.e", vacation_to_unsubscribe(&token(&all[2])));

    let m = maildir.to_str().unwrap();
    let o = bulletin(root, &["bounces", m, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let unsubscribes: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["class"] == "unsubscribe")
        .collect();
    assert_eq!(unsubscribes.len(), 3, "{out}");
    let recipients: BTreeSet<String> = unsubscribes
        .iter()
        .filter_map(|l| l["recipient"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        recipients,
        [all[0].clone(), all[1].clone()].into_iter().collect()
    );
    let e = stderr(&o);
    assert!(
        e.contains("bounces: 0, complaints: 0, auto-replies: 1, unsubscribe requests: 3 (1 with a token that names no member: not applied)"),
        "{e}"
    );
    assert!(
        !root.join(".bulletin/suppressed.csv").exists(),
        "a look changed the list"
    );

    let o = bulletin(root, &["bounces", m, "--apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("0 newly suppressed, 2 newly unsubscribed"),
        "{}",
        stderr(&o)
    );
    let s = suppression(root);
    assert!(s.is_unsubscribed(&all[0]) && s.is_unsubscribed(&all[1]));
    assert!(!s.contains(&all[2]));
    // a second pass (by the command's other name) changes nothing
    let o = bulletin(root, &["inbox", m, "--apply"]);
    assert!(
        stderr(&o).contains("0 newly unsubscribed"),
        "{}",
        stderr(&o)
    );
    // and the next send skips them (the service at [serve] url is not running here)
    let mailed = dry_run_recipients(root, "box", &["--allow-stale-unsubscribes"]);
    assert_eq!(mailed, [all[2].clone()].into_iter().collect());
}

#[test]
fn a_mailto_request_over_imap_reaches_the_suppression_list() {
    let all = members(2);
    let dir = serve_project(free_port(), &all, "");
    let root = dir.path();
    let request = mailto_request(
        &all[1],
        "unsubscribe@news.test",
        &format!("Re: Unsubscribe {}", token(&all[1])),
        "i",
    );
    let dovecot = support::dovecot::Dovecot::start(|maildir| {
        std::fs::write(maildir.join("new/1764500000.M1P1.unsub"), &request).unwrap();
    });
    let o = Command::new(BIN)
        .args(["bounces", &dovecot.url(), "--apply"])
        .current_dir(root)
        .env("BULLETIN_IMAP_PASSWORD", support::dovecot::PASSWORD)
        .env_remove("BULLETIN_TOKEN_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&all[1]) && out.contains("unsubscribe"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("unsubscribe requests: 1"),
        "{}",
        stderr(&o)
    );
    assert!(suppression(root).is_unsubscribed(&all[1]));
    assert!(!suppression(root).contains(&all[0]));
    // the request was marked processed: the next pass reads nothing
    let o = Command::new(BIN)
        .args(["bounces", &dovecot.url()])
        .current_dir(root)
        .env("BULLETIN_IMAP_PASSWORD", support::dovecot::PASSWORD)
        .output()
        .unwrap();
    assert!(stderr(&o).contains("0 messages read"), "{}", stderr(&o));
    assert!(dovecot.maildir().join("cur").read_dir().unwrap().count() == 1);
}

// ----- the machine that sends fetches what the service recorded -----

#[test]
fn send_fetches_the_unsubscribes_recorded_by_the_service_before_sending() {
    let port = free_port();
    let all = members(4);
    // The server's copy of the project and the editor's laptop: same lists, same secret.
    let server = serve_project(port, &all, "");
    let laptop = serve_project(port, &all, "");
    let serve = Serve::start(server.path(), port);
    assert_eq!(serve.one_click(&token(&all[0])).0, 200);
    assert_eq!(serve.one_click(&token(&all[1])).0, 200);

    let o = dry_run(laptop.path(), "box1", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("unsubscribes: fetched from http://127.0.0.1:{port}: 2 new records, 2 changed the suppression list")),
        "{e}"
    );
    let key = Tokens::with_secret(SECRET.as_bytes().to_vec(), "bounces@news.test")
        .unwrap()
        .derive("serve-feed", &[], 52);
    assert!(
        !e.contains(&key) && !serve.log().contains(&key),
        "the key was shown"
    );
    assert_eq!(
        std::fs::read_dir(laptop.path().join("box1"))
            .unwrap()
            .count(),
        2
    );
    assert!(suppression(laptop.path()).is_unsubscribed(&all[0]));

    // Only what is new since the last fetch comes next time; an undo travels too.
    let (code, _) = serve.curl(
        &format!("/unsubscribe/{}", token(&all[1])),
        &["-d", "resubscribe=1"],
    );
    assert_eq!(code, 200);
    assert_eq!(serve.one_click(&token(&all[2])).0, 200);
    let mailed = dry_run_recipients(laptop.path(), "box2", &[]);
    let expected: BTreeSet<String> = [all[1].clone(), all[3].clone()].into_iter().collect();
    assert_eq!(mailed, expected);

    // Without the key, or with a wrong one, the feed is closed.
    assert_eq!(serve.get("/api/unsubscribes").0, 401);
    assert_eq!(
        serve
            .curl("/api/unsubscribes", &["-H", "Authorization: Bearer nope"])
            .0,
        401
    );

    // The service is down: the bulk send stops, unless told to go on with an old copy.
    drop(serve);
    let o = dry_run(laptop.path(), "box3", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("\nerror: cannot fetch the unsubscribes recorded at http://127.0.0.1:{port}: cannot connect to 127.0.0.1:{port}:")),
        "{e}"
    );
    assert!(
        e.contains("nothing was sent") && e.contains("--allow-stale-unsubscribes"),
        "{e}"
    );
    assert!(
        e.contains("with the unsubscribes as last fetched 0 s ago ("),
        "{e}"
    );
    assert!(!laptop.path().join("box3").exists());
    let o = dry_run(laptop.path(), "box3", &["--allow-stale-unsubscribes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning: cannot fetch the unsubscribes recorded at")
            && e.contains("as last fetched"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_dir(laptop.path().join("box3"))
            .unwrap()
            .count(),
        2
    );
}
