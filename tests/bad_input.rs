//! Bad input through the real `bulletin send`: broken lists, broken issue files and broken
//! templates each end in an error naming the file and line, before anything is sent.
//!
//! Every send here points at a TCP listener on loopback that never answers. "Nothing sent" is
//! checked three ways: no connection reached the listener, the journal holds no attempt, and
//! no outbox was written. A control test shows the listener does see a send that starts.

mod support;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::process::{Command, Output};

use support::files::{dry_run, tiny, write};

const TEMPLATE: &str =
    "<mjml><mj-head><mj-attributes><mj-text font-size=\"14px\" /></mj-attributes></mj-head>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>{{issue.title}}</mj-text>
        <mj-text>Hello {{subscriber.name}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
";

const ISSUE: &str = "subject = \"S\"\ntitle = \"T\"\n";

const LIST: &str = "email,name\nann@example.org,Ann\nbob@example.org,Bob\n";

/// A project (config, template, issue `issues/one`, list `lists/members.csv`) and a loopback
/// listener standing in for the SMTP server.
struct Fixture {
    dir: tempfile::TempDir,
    server: TcpListener,
}

impl Fixture {
    fn new(issue: &str, template: &str) -> Fixture {
        let dir = tiny(template, issue, LIST);
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        server.set_nonblocking(true).unwrap();
        Fixture { dir, server }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    /// `bulletin send issues/one --list LIST --yes` against the listener.
    fn send(&self, list: &str) -> Output {
        let url = format!(
            "smtp://127.0.0.1:{}",
            self.server.local_addr().unwrap().port()
        );
        Command::new(env!("CARGO_BIN_EXE_bulletin"))
            .args([
                "send",
                "issues/one",
                "--list",
                list,
                "--yes",
                "--smtp",
                &url,
            ])
            .env_remove("BULLETIN_SMTP_URL")
            .env_remove("BULLETIN_SMTP_PASSWORD")
            .current_dir(self.dir.path())
            .output()
            .expect("the binary runs")
    }

    /// Whether anything connected to the stand-in server.
    fn was_contacted(&self) -> bool {
        match self.server.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }

    /// Every journal line, from every journal in the state folder.
    fn journal_lines(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path(".bulletin/journals")) else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "jsonl") {
                let text = std::fs::read_to_string(e.path()).unwrap();
                lines.extend(text.lines().map(str::to_string));
            }
        }
        lines
    }

    /// The run failed with exit code 1, printed exactly `expected` on stderr, and sent nothing.
    fn assert_refused(&self, o: &Output, expected: &str) {
        self.assert_refused_with(o, 1, expected);
    }

    /// The run was refused as `bulletin check` refuses the issue: exit code 3, nothing sent.
    fn assert_refused_by_check(&self, o: &Output, expected: &str) {
        self.assert_refused_with(o, 3, expected);
    }

    fn assert_refused_with(&self, o: &Output, code: i32, expected: &str) {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr, expected);
        assert_eq!(o.status.code(), Some(code), "stderr: {stderr}");
        assert_eq!(String::from_utf8_lossy(&o.stdout), "");
        assert!(!self.was_contacted(), "the SMTP server was contacted");
        let lines = self.journal_lines();
        assert!(
            lines.iter().all(|l| !l.contains("\"type\":\"attempt\"")),
            "journal records an attempt: {lines:?}"
        );
        assert!(!self.path("outbox").exists());
        assert!(!self.path("out").exists());
    }
}

#[test]
fn control_a_good_send_reaches_the_server() {
    // Without this the "nothing sent" checks below could pass for the wrong reason.
    let fx = Fixture::new(ISSUE, TEMPLATE);
    let o = fx.send("lists/members.csv");
    assert_ne!(
        o.status.code(),
        Some(0),
        "the stand-in server never answers"
    );
    assert!(fx.was_contacted());
    assert!(
        fx.journal_lines()
            .iter()
            .any(|l| l.contains("\"type\":\"header\""))
    );
}

// ----- lists -----

#[test]
fn list_without_an_email_column() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(
        &fx.path("lists/none.csv"),
        b"name,phone,city\nAnn Lee,555-0100,Oslo\n",
    );
    let o = fx.send("lists/none.csv");
    fx.assert_refused(
        &o,
        "error: lists/none.csv:1: no email column: the header names \"name\", \"phone\", \"city\"
  |
1 | name,phone,city
  = hint: name the column of addresses `email` (or `Email Address`)
",
    );
}

#[test]
fn empty_list() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(&fx.path("lists/empty.csv"), b"");
    let o = fx.send("lists/empty.csv");
    fx.assert_refused(
        &o,
        "error: lists/empty.csv: the list is empty
  = hint: the first line names the columns, e.g. `email,name`
",
    );
}

#[test]
fn list_with_a_header_and_no_members_sends_nothing() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(&fx.path("lists/header.csv"), b"email,name\n");
    let o = fx.send("lists/header.csv");
    assert!(!fx.was_contacted());
    assert!(
        fx.journal_lines()
            .iter()
            .all(|l| !l.contains("\"type\":\"attempt\""))
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("list: lists/header.csv"), "{stderr}");
    assert!(stderr.contains("nothing to send"), "{stderr}");
    assert_eq!(o.status.code(), Some(0), "{stderr}");
}

#[test]
fn list_with_an_unterminated_quote_names_the_line_it_opened() {
    // The broken row is in the middle: the rows before it must not be sent either.
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(
        &fx.path("lists/quote.csv"),
        b"email,name,note\nann@example.org,Ann,fine\nbob@example.org,\"Bob, no closing quote,x\ncy@example.org,Cy,fine\n",
    );
    let o = fx.send("lists/quote.csv");
    fx.assert_refused(
        &o,
        "error: lists/quote.csv:3:17: a quoted value starts here and is never closed
  |
3 | bob@example.org,\"Bob, no closing quote,x
  |                 ^
  = hint: add the closing `\"`, or write a quote inside a value as `\"\"`
",
    );
}

#[test]
fn list_that_is_not_text() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(
        &fx.path("lists/bin.csv"),
        b"email\nann@example.org\n\x00\x01\x02\xff\n",
    );
    let o = fx.send("lists/bin.csv");
    fx.assert_refused(
        &o,
        "error: lists/bin.csv:3: the file contains NUL bytes: it is not a text file
  = hint: export the list from the spreadsheet as \"CSV UTF-8\"
",
    );
}

#[test]
fn list_that_is_a_workbook() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(&fx.path("lists/book.csv"), b"PK\x03\x04rest of a zip");
    let o = fx.send("lists/book.csv");
    fx.assert_refused(
        &o,
        "error: lists/book.csv: this is a spreadsheet workbook, not a CSV file
  = hint: save it from the spreadsheet as \"CSV UTF-8\"
",
    );
}

#[test]
fn list_in_windows_1252_is_read_not_mangled() {
    // Not UTF-8 is not an error when the bytes are a known encoding: the name arrives intact.
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(
        &fx.path("lists/latin.csv"),
        b"email,name\nzoe@example.org,Zo\xeb\n",
    );
    let eml = dry_run(fx.dir.path(), "lists/latin.csv");
    assert_eq!(eml.len(), 1);
    let raw = std::fs::read(&eml[0]).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert!(msg.body_html(0).unwrap().contains("Hello Zoë"));
    assert!(!fx.was_contacted());
}

// ----- issue files -----

#[test]
fn issue_with_a_toml_syntax_error() {
    let fx = Fixture::new("subject = \"S\"\ntitle \"T\"\n", TEMPLATE);
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: issues/one/issue.toml:2:7: expected `.`, `=`
  |
2 | title \"T\"
  |       ^
",
    );
}

#[test]
fn issue_with_an_unknown_key() {
    let fx = Fixture::new(
        "subject = \"S\"\ntitle = \"T\"\nsubtitel = \"x\"\n",
        TEMPLATE,
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: issues/one/issue.toml:3:1: unknown field `subtitel`, expected one of `subject`, `preheader`, `title`, `date`, `published`, `draft`, `number`, `language`, `direction`, `template`, `banner`, `editor_note`, `sections`, `spotlight`, `sign_off`, `text`
  |
3 | subtitel = \"x\"
  | ^
",
    );
}

#[test]
fn issue_with_a_missing_image() {
    let fx = Fixture::new(
        "subject = \"S\"\ntitle = \"T\"\nbanner = { src = \"nope.png\", alt = \"B\" }\n",
        &TEMPLATE.replace(
            "<mj-text>{{issue.title}}</mj-text>",
            "<mj-image src=\"{{issue.banner.src}}\" alt=\"{{issue.banner.alt}}\" />",
        ),
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: issues/one/issue.toml:3:19: image not found: issues/one/nope.png
  |
3 | banner = { src = \"nope.png\", alt = \"B\" }
  |                   ^
  = hint: image paths are relative to the issue folder
",
    );
}

#[test]
fn issue_that_is_not_utf8() {
    let fx = Fixture::new(ISSUE, TEMPLATE);
    write(
        &fx.path("issues/one/issue.toml"),
        b"subject = \"S\"\ntitle = \"Caf\xe9\"\n",
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: issues/one/issue.toml:2:13: the file is not valid UTF-8
  = hint: save the file as UTF-8
",
    );
}

// ----- templates -----

#[test]
fn template_with_an_unclosed_mjml_tag() {
    let fx = Fixture::new(ISSUE, &TEMPLATE.replace("      </mj-column>\n", ""));
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: templates/bulletin.mjml.hbs:4:7: invalid MJML: <mj-column> is never closed
  |
4 |       <mj-column>
  |       ^
  = hint: the compiled MJML has this at line 4
",
    );
}

#[test]
fn template_with_an_unknown_placeholder() {
    let fx = Fixture::new(
        ISSUE,
        &TEMPLATE.replace("{{issue.title}}", "{{issue.titel}}"),
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused_by_check(
        &o,
        "error[unknown-placeholder]: templates/bulletin.mjml.hbs:5:18: unknown placeholder `issue.titel`
  |
5 |         <mj-text>{{issue.titel}}</mj-text>
  |                  ^
  = hint: known here: `issue.banner`, `issue.date`, `issue.dateline`, `issue.direction`, `issue.editor_note_html`, `issue.language`, `issue.number`, `issue.preheader`, `issue.rtl`, `issue.sections`, `issue.sign_off`, `issue.spotlight`, `issue.subject`, `issue.title`
refusing to send issues/one: `bulletin check` finds 1 error; nothing was sent
",
    );
}

#[test]
fn template_with_an_unknown_member_placeholder() {
    // A column the list lacks: caught by the check before anything is sent, naming the list
    // and the template's placeholder.
    let fx = Fixture::new(
        ISSUE,
        &TEMPLATE.replace("{{subscriber.name}}", "{{subscriber.nickname}}"),
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused_by_check(
        &o,
        "error[unknown-placeholder]: templates/bulletin.mjml.hbs:6:26: unknown placeholder `subscriber.nickname`: lists/members.csv has no column `nickname`
refusing to send issues/one: `bulletin check` finds 1 error; nothing was sent
",
    );
}

#[test]
fn template_with_a_raw_less_than_in_text() {
    let fx = Fixture::new(
        ISSUE,
        &TEMPLATE.replace(
            "<mj-text>{{issue.title}}</mj-text>",
            "<mj-text>1 < 2</mj-text>",
        ),
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: templates/bulletin.mjml.hbs:5:20: invalid MJML: a `<` in text starts no tag: write it as `&lt;`
  |
5 |         <mj-text>1 < 2</mj-text>
  |                    ^
  = hint: the compiled MJML has this at line 5
",
    );
}

#[test]
fn content_with_a_raw_less_than_is_text_not_markup() {
    // In issue content `<` is the author's text: escaped, never a parse error.
    let fx = Fixture::new("subject = \"S\"\ntitle = \"1 < 2 <mj-raw>\"\n", TEMPLATE);
    let o = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(["build", "issues/one"])
        .current_dir(fx.dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

// ----- images that would leak files -----

const IMAGE_TEMPLATE: &str = "<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-image src=\"{{issue.banner.src}}\" alt=\"{{issue.banner.alt}}\" />
        <mj-text>Hello {{subscriber.name}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
";

#[test]
fn issue_image_that_is_not_an_image() {
    // Whatever the issue names is mailed to every member: not a system file.
    let fx = Fixture::new(
        "subject = \"S\"\ntitle = \"T\"\nbanner = { src = \"/etc/passwd\", alt = \"B\" }\n",
        IMAGE_TEMPLATE,
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        "error: issues/one/issue.toml:3:19: not an image: /etc/passwd
  |
3 | banner = { src = \"/etc/passwd\", alt = \"B\" }
  |                   ^
  = hint: only .png, .jpg, .jpeg, .gif, .webp and .svg files are embedded
",
    );
}

#[test]
fn issue_image_outside_the_project() {
    let fx = Fixture::new(ISSUE, IMAGE_TEMPLATE);
    // A real image next to the project folder (named after it, so tests do not collide).
    let name = format!(
        "{}.png",
        fx.dir.path().file_name().unwrap().to_string_lossy()
    );
    let outside = fx.dir.path().parent().unwrap().join(&name);
    let _cleanup = Cleanup(outside.clone());
    write(&outside, b"\x89PNG\r\n\x1a\n");
    write(
        &fx.path("issues/one/issue.toml"),
        format!("subject = \"S\"\ntitle = \"T\"\nbanner = {{ src = \"../../../{name}\", alt = \"B\" }}\n")
            .as_bytes(),
    );
    let o = fx.send("lists/members.csv");
    fx.assert_refused(
        &o,
        &format!(
            "error: issues/one/issue.toml:3:19: image outside the project folder: issues/one/../../../{name}
  |
3 | banner = {{ src = \"../../../{name}\", alt = \"B\" }}
  |                   ^
  = hint: copy the image into the issue folder
"
        ),
    );
}

/// Removes a file when dropped.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
