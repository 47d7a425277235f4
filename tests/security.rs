//! Attacks from the threat model in SECURITY.md, tried against the real binary: secrets in the
//! environment never printed, the preview bound to loopback by default, CSV written back with
//! formulas defused.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::files::{dry_run, tiny, write};

const SMTP_PASSWORD: &str = "pw-s3cret-smtp";
const URL_PASSWORD: &str = "hunter2-in-url";
const IMAP_PASSWORD: &str = "pw-s3cret-imap";

/// A small valid project: config, template, issue `issues/one`, list `lists/members.csv`.
fn project() -> tempfile::TempDir {
    tiny(
        "<mjml><mj-body><mj-section><mj-column>
<mj-text>{{issue.title}} {{subscriber.name}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
",
        "subject = \"S\"\ntitle = \"T\"\n",
        "email,name\nann@example.org,Ann\n",
    )
}

/// The binary with every secret it knows of set in its environment.
fn bulletin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(args)
        .current_dir(dir)
        .env(
            "BULLETIN_SMTP_URL",
            format!("smtp://ann:{URL_PASSWORD}@127.0.0.1:9"),
        )
        .env("BULLETIN_SMTP_PASSWORD", SMTP_PASSWORD)
        .env("BULLETIN_IMAP_PASSWORD", IMAP_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn assert_no_secret(o: &Output, what: &str) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for secret in [SMTP_PASSWORD, URL_PASSWORD, IMAP_PASSWORD] {
        assert!(!all.contains(secret), "{what} printed {secret}:\n{all}");
    }
}

#[test]
fn help_never_shows_secrets_from_the_environment() {
    let dir = project();
    for args in [
        &["--help"][..],
        &["send", "--help"],
        &["send", "-h"],
        &["bounces", "--help"],
        &["preview", "--help"],
        &["status", "--help"],
    ] {
        let o = bulletin(dir.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(!o.stdout.is_empty(), "{args:?}");
        assert_no_secret(&o, &format!("{args:?}"));
    }
    // The control: the help does name the variable, so the check above looks at the right text.
    let o = bulletin(dir.path(), &["send", "--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("BULLETIN_SMTP_URL"));
}

#[test]
fn errors_never_show_secrets() {
    let dir = project();
    let cases: [&[&str]; 5] = [
        // the URL from the environment carries a password: refused without echoing it
        &["send", "issues/one", "--list", "lists/members.csv", "--yes"],
        // a URL with a password on the command line, and one naming a server that is down
        &[
            "send",
            "issues/one",
            "--to",
            "ann@example.org",
            "--smtp",
            "smtp://ann:hunter2-in-url@127.0.0.1:9",
        ],
        &[
            "send",
            "issues/one",
            "--to",
            "ann@example.org",
            "--smtp",
            "smtp://ann@127.0.0.1:9",
        ],
        // IMAP URLs with a password (also one holding a slash), which are refused
        &[
            "bounces",
            "imaps://ann:hunter2-in-url@mail.example.org/INBOX",
        ],
        &[
            "bounces",
            "imaps://ann:hunter2-in-url/x@mail.example.org/INBOX",
        ],
    ];
    for args in cases {
        let o = bulletin(dir.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
        assert_no_secret(&o, &format!("{args:?}"));
    }
    // The server down is named as host:port, without the user's secret.
    let o = bulletin(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--to",
            "ann@example.org",
            "--smtp",
            "smtp://ann@127.0.0.1:9",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("127.0.0.1:9"));
}

#[test]
fn no_secret_is_written_to_the_state_folder() {
    let dir = project();
    let o = bulletin(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--yes",
            "--smtp",
            "smtp://ann@127.0.0.1:9",
        ],
    );
    assert_ne!(o.status.code(), Some(0));
    let mut seen = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                seen += 1;
                let bytes = std::fs::read(&p).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                for secret in [SMTP_PASSWORD, URL_PASSWORD, IMAP_PASSWORD] {
                    assert!(!text.contains(secret), "{} holds {secret}", p.display());
                }
            }
        }
    }
    // config, template, issue, list, and the journal the run opened
    assert!(seen > 4, "only {seen} files");
    assert!(dir.path().join(".bulletin/journals").is_dir());
}

/// The local address of the TCP socket listening on `port`, from /proc/net/tcp{,6}.
#[cfg(target_os = "linux")]
fn listening_address(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (cols.get(1), cols.get(3)) else {
                continue;
            };
            let Some((addr, p)) = local.split_once(':') else {
                continue;
            };
            // 0A = LISTEN
            if *state == "0A" && u16::from_str_radix(p, 16).ok() == Some(port) {
                found.push(addr.to_string());
            }
        }
    }
    found
}

#[cfg(target_os = "linux")]
#[test]
fn the_preview_listens_on_loopback_only_by_default() {
    let dir = project();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(["preview", "issues/one", "--no-open", "--port", "0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let port: Option<u16> = url
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.trim_end_matches('/').parse().ok());
    let addrs = port.map(listening_address).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    let port = port.unwrap_or_else(|| panic!("not a loopback URL: {url:?}"));
    // 127.0.0.1 in /proc's byte order; never 00000000 (all interfaces).
    assert_eq!(addrs, vec!["0100007F".to_string()], "port {port}");
}

#[test]
fn formulas_from_a_bounce_are_defused_in_the_suppression_csv() {
    // A hostile address that a spreadsheet would run as a formula, reported by a bounce.
    let dir = project();
    let dsn = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces/postfix-dsn.eml"),
    )
    .unwrap()
    .replace("ada.gone@members.example.net", "=1+2@members.example.net")
    .replace("Ada.Gone@members.example.net", "=1+2@members.example.net");
    write(&dir.path().join("in/dsn.eml"), dsn.as_bytes());
    let o = bulletin(dir.path(), &["bounces", "in/dsn.eml", "--apply"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join(".bulletin/suppressed.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(rows[0].starts_with("'=1+2@members.example.net,"), "{csv}");
    // No cell of the file starts a formula.
    for cell in rows[0].split(',') {
        assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {csv}");
    }
    // Read back, the address is the original and is suppressed: a send skips it.
    write(
        &dir.path().join("lists/members.csv"),
        b"email,name\n=1+2@members.example.net,Eve\nann@example.org,Ann\n",
    );
    let files = dry_run(dir.path(), "lists/members.csv");
    assert_eq!(files.len(), 1);
}

#[test]
fn list_fields_cannot_inject_markup_or_headers() {
    let dir = project();
    write(
        &dir.path().join("lists/members.csv"),
        "email,name\neve@example.org,\"<script>alert(1)</script>\"\"><img src=x onerror=alert(2)>\"\nmal@example.org,\"Mal\r\nBcc: victim@example.org\"\n"
            .as_bytes(),
    );
    let files = dry_run(dir.path(), "lists/members.csv");
    assert_eq!(files.len(), 2);
    let mut saw_escaped = false;
    for f in files {
        let raw = std::fs::read(&f).unwrap();
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let html = msg.body_html(0).unwrap().into_owned();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        saw_escaped |= html.contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        assert!(msg.header("Bcc").is_none());
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..head_end]);
        assert!(
            !head.lines().any(|l| l.starts_with("Bcc:")),
            "{}",
            f.display()
        );
    }
    assert!(saw_escaped, "the hostile name is shown as text");
}
