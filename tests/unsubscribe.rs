//! The way out: `send` refuses what `check` refuses, `bulletin serve` records one-click and
//! web unsubscribes, and the next send skips those members. The real binary on temp projects,
//! real SMTP (smtp-sink), real HTTP clients (curl, wrk) on loopback.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::SmtpSink;

const BIN: &str = env!("CARGO_BIN_EXE_bulletin");

const GOOD_TEMPLATE: &str = "<mjml><mj-body><mj-section><mj-column>
<mj-image src=\"https://img.example.org/a.png\" />
<mj-text>{{issue.title}} for {{subscriber.email}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
";

const ISSUE: &str = "subject = \"S\"\ntitle = \"T\"\n";
const LIST: &str = "email,name\nann@example.org,Ann\nbob@example.org,Bob\n";

fn bulletin(root: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(root)
        .env_remove("BULLETIN_SMTP_URL")
        .env_remove("BULLETIN_SMTP_PASSWORD")
        .env_remove("BULLETIN_TOKEN_SECRET")
        .stdin(Stdio::null())
        .output()
        .expect("run bulletin")
}

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
<mj-text>{{issue.title}}</mj-text>
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
