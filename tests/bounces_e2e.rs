//! End to end with real mail servers on loopback, as root (CI runs the suite as root; the
//! servers come from scripts/test.sh's packages):
//!
//! - `bulletin send` hands an issue to Postfix, whose relay (an `smtp-sink` that refuses every
//!   RCPT with `550 5.1.1 User unknown`) refuses the member; Postfix writes a real DSN back to
//!   the VERP bounce address, into a Maildir; `bulletin bounces MAILDIR --apply` finds the
//!   issue and the member and suppresses them, and the next send skips them.
//! - Dovecot serves a Maildir holding such a DSN over IMAP; `bulletin bounces imap://…`
//!   reads it without marking it, `--apply` flags it so the next pass skips it, and
//!   `--move-to` moves reports away.
//!
//! A missing server or a non-root run is a failure, never a silent pass.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postfix_dir::{SERVICES, allow_config_dir as allow_postfix_config_dir, main_cf, run_ok};
use serde_json::Value;

#[path = "support/dovecot.rs"]
mod dovecot;
#[path = "support/postfix_dir.rs"]
mod postfix_dir;
#[path = "support/private_ca.rs"]
mod private_ca;
#[path = "support/tools.rs"]
mod tools;

fn require_root() {
    tools::require_root("the Postfix and Dovecot end-to-end tests start the servers as root");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{what} did not listen on port {port}; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Start a daemon that forks into the background: its children must not hold our pipes.
fn start_daemon(cmd: &mut Command) {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

fn bulletin(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulletin"));
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run bulletin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// Stops what a test started, whatever happens.
struct Cleanup(Vec<Box<dyn FnMut()>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for f in self.0.iter_mut().rev() {
            f();
        }
    }
}

fn kill_on_drop(child: Child) -> Box<dyn FnMut()> {
    let mut child = Some(child);
    Box::new(move || {
        if let Some(mut c) = child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    })
}

fn chown(path: &Path, owner: &str) {
    run_ok(Command::new("chown").arg("-R").arg(owner).arg(path));
}

/// A temporary folder the servers' own users (postfix, nobody, dovecot) can enter.
fn server_dir(prefix: &str) -> tempfile::TempDir {
    let tmp = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    run_ok(Command::new("chmod").arg("755").arg(tmp.path()));
    tmp
}

#[test]
fn postfix_dsn_in_a_maildir_suppresses_the_member() {
    require_root();
    let postfix = tools::require("postfix", "postfix");
    let sink = tools::require("smtp-sink", "postfix");

    let tmp = server_dir("bulletin-pf");
    let t = tmp.path();
    let conf = t.join("conf");
    let mail = t.join("mail");
    for d in [&conf, &mail, &t.join("queue"), &t.join("data")] {
        std::fs::create_dir_all(d).unwrap();
    }
    chown(&mail, "nobody:nogroup");
    chown(&t.join("data"), "postfix");
    let (smtpd_port, relay_port) = (free_port(), free_port());
    let maillog = t.join("maillog");
    std::fs::write(
        conf.join("main.cf"),
        main_cf(
            t,
            "mta.bounces.test",
            "bounces.test",
            relay_port,
            &format!(
                "mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
recipient_delimiter = +
virtual_mailbox_domains = bounces.test
virtual_mailbox_base = {t}/mail
virtual_mailbox_maps = inline:{{ bounces@bounces.test=bounces/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
bounce_queue_lifetime = 0
maximal_queue_lifetime = 0
",
                t = t.display()
            ),
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("master.cf"),
        format!(
            "127.0.0.1:{smtpd_port} inet n - n - - smtpd
local unix - n n - - local
virtual unix - n n - - virtual
{SERVICES}"
        ),
    )
    .unwrap();

    let mut cleanup = Cleanup(Vec::new());
    cleanup.0.push(allow_postfix_config_dir(&conf));
    let sink_child = Command::new(&sink)
        .args(["-u", "nobody", "-f", "RCPT", "-B", "550 5.1.1 User unknown"])
        .arg(format!("127.0.0.1:{relay_port}"))
        .arg("10")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-sink");
    cleanup.0.push(kill_on_drop(sink_child));
    run_ok(Command::new(&postfix).arg("-c").arg(&conf).arg("check"));
    start_daemon(Command::new(&postfix).arg("-c").arg(&conf).arg("start"));
    {
        let (postfix, conf) = (postfix.clone(), conf.clone());
        cleanup.0.push(Box::new(move || {
            let _ = Command::new(&postfix)
                .arg("-c")
                .arg(&conf)
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }));
    }
    wait_for_port(smtpd_port, "Postfix smtpd", &maillog);
    wait_for_port(relay_port, "smtp-sink", &maillog);

    // A project made by `bulletin init`, sending through the Postfix on loopback with a VERP
    // bounce address; its relay refuses the one member.
    let project = tempfile::tempdir().unwrap();
    let root = project.path().join("news");
    let (code, _, err) = bulletin(&["init", root.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        root.join("bulletin.toml"),
        "[sender]\nname = \"Cluster News\"\nemail = \"news@bounces.test\"\n\
         bounce_address = \"bounces@bounces.test\"\nverp = true\n\
         postal_address = \"1 Example Street\"\nunsubscribe_mailto = \"unsubscribe@bounces.test\"\n\
         token_secret = \"e2e-secret\"\n",
    )
    .unwrap();
    std::fs::rename(
        root.join("issues/first"),
        root.join("issues/2026-11-cluster-news"),
    )
    .unwrap();
    std::fs::write(
        root.join("lists/first.csv"),
        "email,name\nada.gone@members.example.net,Ada Gone\n",
    )
    .unwrap();
    let issue = root.join("issues/2026-11-cluster-news");
    let smtp = format!("smtp://127.0.0.1:{smtpd_port}");
    let (code, _, err) = bulletin(
        &[
            "send",
            issue.to_str().unwrap(),
            "--list",
            root.join("lists/first.csv").to_str().unwrap(),
            "--smtp",
            &smtp,
            "--yes",
        ],
        &[],
    );
    assert_eq!(code, 0, "Postfix accepts the message: {err}");

    // Bounded wait for the DSN to land in the Maildir.
    let maildir = mail.join("bounces");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = std::fs::read_dir(maildir.join("new"))
            .map(|d| d.count())
            .unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no DSN in {} after 60 s; mail log:\n{}",
            maildir.display(),
            std::fs::read_to_string(&maillog).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let args = [
        "bounces",
        maildir.to_str().unwrap(),
        "--json",
        "--apply",
        "--project",
        root.to_str().unwrap(),
    ];
    let (code, out, err) = bulletin(&args, &[]);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    let b = &lines[0];
    assert_eq!(b["recipient"], "ada.gone@members.example.net");
    assert_eq!(b["class"], "hard");
    assert_eq!(b["status"], "5.1.1");
    assert_eq!(b["reason"], "userunknown");
    assert_eq!(b["kind"], "dsn");
    assert_eq!(b["reporting_mta"], "mta.bounces.test");
    assert_eq!(b["issue"], "2026-11-cluster-news");
    // The VERP token of the envelope and the member token of the returned copy agree.
    let token = b["verp_token"].as_str().unwrap_or_default();
    assert!(!token.is_empty(), "{b}");
    assert_eq!(b["member"], token);
    assert!(
        b["diagnostic"]
            .as_str()
            .unwrap()
            .contains("550 5.1.1 User unknown"),
        "{b}"
    );

    let state = root.join(".bulletin");
    let suppression = bulletin::list::Suppression::load_state(&state).unwrap();
    assert!(suppression.contains("ada.gone@members.example.net"));
    assert!(suppression.contains("Ada.Gone@Members.Example.net"));

    // A second pass changes nothing.
    let before = std::fs::read_to_string(state.join("bounces.jsonl")).unwrap();
    let (code, _, err) = bulletin(&args, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("0 new in the bounce log, 0 newly suppressed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("bounces.jsonl")).unwrap(),
        before
    );

    // The next send skips the suppressed member and mails the others.
    std::fs::write(
        root.join("lists/next.csv"),
        "email,name\nada.gone@members.example.net,Ada Gone\ncarol@members.example.net,Carol\n",
    )
    .unwrap();
    let outbox = root.join("outbox");
    let (code, _, err) = bulletin(
        &[
            "send",
            issue.to_str().unwrap(),
            "--list",
            root.join("lists/next.csv").to_str().unwrap(),
            "--dry-run",
            "--outbox",
            outbox.to_str().unwrap(),
            "--yes",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped, suppressed: 1"), "{err}");
    let written: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(
        written[0].contains("carol@members.example.net"),
        "{written:?}"
    );
}

const DSN: &str = include_str!("fixtures/bounces/postfix-dsn.eml");

#[test]
fn imap_mailbox_is_read_flagged_and_moved() {
    require_root();
    // The imaps listener's certificate comes from a private CA: bulletin trusts it only
    // through a configured CA file.
    let server = dovecot::Dovecot::start_with_tls(|maildir| {
        for d in [".Done/cur", ".Done/new", ".Done/tmp"] {
            std::fs::create_dir_all(maildir.join(d)).unwrap();
        }
        std::fs::write(maildir.join("new/1763284442.M1P1.bounces"), DSN).unwrap();
        std::fs::write(
            maildir.join("new/1763284443.M2P1.bounces"),
            include_str!("fixtures/bounces/not-a-bounce.eml"),
        )
        .unwrap();
    });
    let maildir = server.maildir();
    let (port, tls_port) = (server.port, server.tls_port.expect("an imaps port"));
    let ca_pem = server.ca_pem.clone().expect("the private CA");

    let url = format!("imap://bounce@127.0.0.1:{port}/INBOX");
    let env = [("BULLETIN_IMAP_PASSWORD", "imap-test-pass")];
    let project = tempfile::tempdir().unwrap();
    let p = project.path().to_str().unwrap();

    // imaps:// checks the server's certificate: one from an authority this machine does not
    // trust is refused, with a sentence that says so and what to do.
    let tls_url = format!("imaps://bounce@localhost:{tls_port}/INBOX");
    let untrusting = tempfile::tempdir().unwrap();
    std::fs::write(untrusting.path().join("bulletin.toml"), "").unwrap();
    let untrusting = untrusting.path().to_str().unwrap();
    let (code, out, err) = bulletin(&["bounces", &tls_url, "--project", untrusting], &env);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains(&format!(
            "localhost:{tls_port}: TLS: its certificate is not signed by an authority this machine trusts"
        )) && err.contains("[imap] ca_file"),
        "{err}"
    );
    assert!(!err.contains("Some(") && !err.contains("code:"), "{err}");

    // Trusted through the CA file of [imap] ca_file (relative to the project).
    let trusting = tempfile::tempdir().unwrap();
    std::fs::write(trusting.path().join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(
        trusting.path().join("bulletin.toml"),
        "[imap]\nca_file = \"ca.pem\"\n",
    )
    .unwrap();
    let trusting = trusting.path().to_str().unwrap();
    let (code, out, err) = bulletin(
        &["bounces", &tls_url, "--project", trusting, "--json"],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_lines(&out).len(), 1, "{out}");

    // A wrong password over TLS: the server's words, not the client's debug output.
    let (code, _, err) = bulletin(
        &["bounces", &tls_url, "--project", trusting],
        &[("BULLETIN_IMAP_PASSWORD", "wrong")],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("login as bounce failed: the server refused: ")
            && !err.contains("info:")
            && !err.contains("Some("),
        "{err}"
    );

    // Skipping verification is by host name, and only for the host named.
    let skipping = tempfile::tempdir().unwrap();
    std::fs::write(
        skipping.path().join("bulletin.toml"),
        "[imap]\ninsecure_skip_verify_hosts = [\"localhost\"]\n",
    )
    .unwrap();
    let skipping = skipping.path().to_str().unwrap();
    let (code, _, err) = bulletin(&["bounces", &tls_url, "--project", skipping], &env);
    assert_eq!(code, 0, "{err}");

    // Without the password: a clear error, nothing read.
    let (code, _, err) = bulletin(&["bounces", &url], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("BULLETIN_IMAP_PASSWORD"), "{err}");

    // A wrong password is refused by the server.
    let (code, _, err) = bulletin(&["bounces", &url], &[("BULLETIN_IMAP_PASSWORD", "wrong")]);
    assert_eq!(code, 1);
    assert!(err.contains("login as bounce failed"), "{err}");

    // Reading without --apply leaves the mailbox as it was: twice the same answer.
    for _ in 0..2 {
        let (code, out, err) = bulletin(&["bounces", &url, "--json"], &env);
        assert_eq!(code, 0, "{err}");
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 1, "{out}");
        assert_eq!(lines[0]["recipient"], "ada.gone@members.example.net");
        assert_eq!(lines[0]["class"], "hard");
        assert_eq!(lines[0]["member"], "k3v9q2m7x1");
        assert!(
            lines[0]["file"]
                .as_str()
                .unwrap()
                .starts_with("imap:INBOX/")
        );
        assert!(err.contains("2 messages read, 1 reports"), "{err}");
    }
    // Nothing was marked: no message carries \Seen (the S of Maildir flags).
    for sub in ["cur", "new"] {
        for e in std::fs::read_dir(maildir.join(sub)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let flags = name.rsplit_once(":2,").map_or("", |(_, f)| f);
            assert!(
                !flags.contains('S'),
                "{name} was marked seen without --apply"
            );
        }
    }

    // --apply records and flags every message read, so the next pass skips them.
    let (code, _, err) = bulletin(&["bounces", &url, "--apply", "--project", p], &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 new in the bounce log, 1 newly suppressed"),
        "{err}"
    );
    let (code, out, err) = bulletin(&["bounces", &url, "--json"], &env);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("0 messages read"), "{err}");
    let flagged: Vec<String> = std::fs::read_dir(maildir.join("cur"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(
        flagged.iter().all(|f| f.contains(":2,") && f.contains('S')),
        "{flagged:?}"
    );

    // A new report, applied with --move-to, leaves INBOX for the Done mailbox; the reader's
    // reply stays.
    let second = DSN
        .replace(
            "<20261116091402.4F1A2B3C4D@relay.example.org>",
            "<second@relay.example.org>",
        )
        .replace(
            "ada.gone@members.example.net",
            "alan.gone@members.example.net",
        );
    std::fs::write(maildir.join("new/1763284444.M3P1.bounces"), second).unwrap();
    std::fs::write(
        maildir.join("new/1763284445.M4P1.bounces"),
        include_str!("fixtures/bounces/not-a-bounce.eml"),
    )
    .unwrap();
    chown(&maildir, "nobody:nogroup");
    let (code, out, err) = bulletin(
        &[
            "bounces",
            &url,
            "--apply",
            "--project",
            p,
            "--move-to",
            "Done",
            "--json",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_lines(&out).len(), 1, "{out}");
    let moved = std::fs::read_dir(maildir.join(".Done/cur"))
        .unwrap()
        .chain(std::fs::read_dir(maildir.join(".Done/new")).unwrap())
        .count();
    assert_eq!(moved, 1, "one report moved to Done");
    let left = std::fs::read_dir(maildir.join("cur")).unwrap().count()
        + std::fs::read_dir(maildir.join("new")).unwrap().count();
    assert_eq!(
        left, 3,
        "the first two plus the reader's reply stay in INBOX"
    );
    let suppression =
        bulletin::list::Suppression::load_state(&project.path().join(".bulletin")).unwrap();
    assert!(suppression.contains("alan.gone@members.example.net"));
    drop(server);
}
