//! The send as a person sees it in a terminal: the real binary in tmux at 80 columns, sending
//! to Postfix's smtp-sink on loopback under a rate limit.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::SmtpSink;
use support::files::{SENDER, SHORT_ISSUE, with_templates, write};
use support::tools;

const WIDTH: usize = 80;

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new(tools::require("tmux", "tmux"))
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("run tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ends the tmux server of a test, however the test ends.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}

/// Run `command` in a tmux pane of 80 columns in `dir`, and read the screen (wrapped lines
/// joined, so a line wider than the pane shows as one; with `escapes`, its colours and
/// attributes as escape sequences) every 150 ms until it prints `SEND-ENDED` (or a minute
/// passed). Returns every screen read.
fn frames_of(dir: &std::path::Path, command: &str, escapes: bool) -> Vec<String> {
    frames_at(WIDTH, dir, command, escapes)
}

/// [`frames_of`] in a pane `width` columns wide.
fn frames_at(width: usize, dir: &std::path::Path, command: &str, escapes: bool) -> Vec<String> {
    let socket = format!("bulletin-test-{}-{}", std::process::id(), frames_seq());
    let session = Session(socket);
    let command = format!("{command}; echo SEND-ENDED; sleep 60");
    tmux(
        &session.0,
        &[
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            "30",
            "-c",
            &dir.display().to_string(),
            &command,
        ],
    );
    let mut frames = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut capture = vec!["capture-pane", "-p", "-J"];
        if escapes {
            capture.push("-e");
        }
        let screen = tmux(&session.0, &capture);
        let ended = screen.contains("SEND-ENDED");
        frames.push(screen);
        if ended || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    let last = frames.last().unwrap();
    assert!(last.contains("SEND-ENDED"), "the send did not end:\n{last}");
    frames
}

/// A number for each tmux server a test process starts.
fn frames_seq() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    SEQ.fetch_add(1, Ordering::SeqCst)
}

fn assert_fits(line: &str) {
    assert_fits_in(WIDTH, line);
}

fn assert_fits_in(width: usize, line: &str) {
    assert!(
        line.trim_end().chars().count() <= width,
        "a progress line wider than {width} columns: {line:?}"
    );
}

#[test]
fn the_progress_line_fits_80_columns_keeps_to_the_limit_and_is_cleared() {
    let sink = SmtpSink::start(&[]);
    let config = format!("{SENDER}\n[smtp]\ntimeout_secs = 5\n");
    let project = with_templates(&config, "one", SHORT_ISSUE);
    let mut list = String::from("email,name\n");
    for i in 1..=40 {
        list.push_str(&format!("member{i}@example.org,Member {i}\n"));
    }
    write(&project.path().join("lists/m.csv"), list.as_bytes());

    let command = format!(
        "{} send issues/one --list lists/m.csv --smtp {} --yes --rate 10/s",
        env!("CARGO_BIN_EXE_bulletin"),
        sink.url()
    );
    let frames = frames_of(project.path(), &command, false);
    let last = frames.last().unwrap();
    assert!(last.contains("accepted: 40, refused: 0"), "{last}");

    let bars: Vec<&str> = frames
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| l.contains("/40 · "))
        .collect();
    assert!(
        !bars.is_empty(),
        "no progress line seen in {} frames",
        frames.len()
    );
    for bar in &bars {
        assert_fits(bar);
        assert!(bar.contains("ETA"), "{bar}");
        // the rate shown never exceeds the limit of 10 a second
        let rate = bar
            .split(" · ")
            .find_map(|part| part.trim().strip_suffix("/s"))
            .expect("a rate on the line");
        if rate != "-" {
            let rate: f64 = rate
                .parse()
                .unwrap_or_else(|_| panic!("rate {rate:?} in {bar}"));
            assert!(rate <= 10.0, "{bar}");
        }
    }
    // Cleared on exit: the last screen holds the summary, not the bar.
    assert!(
        !last.lines().any(|l| l.contains("/40 · ")),
        "the bar stayed on screen:\n{last}"
    );
}

/// A server that is down: while the send waits to try again, the line says for whom and
/// when, within 80 columns; the retries end with the server named, and the line is cleared.
/// A send that retries twice, 1–2 s and 2–4 s apart, through a server that is down
/// (`127.0.0.1:port`), in a pane `width` columns wide: every screen read, and the progress
/// lines among them that say what the send waits for.
fn send_to_a_server_that_is_down(port: u16, width: usize) -> (Vec<String>, Vec<String>) {
    let config = format!(
        "{SENDER}\n[smtp]\ntimeout_secs = 5\n[send]\nretries = 2\nretry_backoff_ms = 2000\nretry_for_secs = 60\n"
    );
    let project = with_templates(&config, "one", SHORT_ISSUE);
    write(
        &project.path().join("lists/m.csv"),
        b"email\nann@example.org\nbob@example.org\n",
    );
    let command = format!(
        "{} send issues/one --list lists/m.csv --smtp smtp://127.0.0.1:{port} --yes --connections 1",
        env!("CARGO_BIN_EXE_bulletin"),
    );
    let frames = frames_at(width, project.path(), &command, false);
    let waits = frames
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| l.contains("/2 · waiting for"))
        .map(str::to_string)
        .collect();
    (frames, waits)
}

#[test]
fn the_progress_line_says_what_it_waits_for() {
    let port = support::free_port();
    let (frames, waits) = send_to_a_server_that_is_down(port, WIDTH);
    assert!(
        waits
            .iter()
            .any(|l| l.contains("/2 · waiting for 127.0.0.1: attempt 2 of 3, next in ")),
        "no wait for the second attempt seen: {waits:#?}"
    );
    assert!(
        waits.iter().any(|l| l.contains("attempt 3 of 3, next in ")),
        "no wait for the third attempt seen: {waits:#?}"
    );
    for line in &waits {
        assert_fits(line);
    }
    let last = frames.last().unwrap();
    assert!(
        last.contains(&format!("cannot deliver through 127.0.0.1:{port}")),
        "{last}"
    );
    assert!(
        !last.contains("waiting for"),
        "the line stayed on screen:\n{last}"
    );
}

/// NO_COLOR (no-color.org) is honoured wherever colour is used: the usage errors and help,
/// which are coloured in a terminal otherwise, and the send's progress line, preflight and
/// summary, which never are.
#[test]
fn no_color_is_honoured() {
    let sink = SmtpSink::start(&[]);
    let project = with_templates(&format!("{SENDER}\n"), "one", SHORT_ISSUE);
    write(
        &project.path().join("lists/m.csv"),
        b"email\nann@example.org\nbob@example.org\ncy@example.org\n",
    );
    let bin = env!("CARGO_BIN_EXE_bulletin");
    let commands = format!(
        "{bin} send --no-such-option; {bin} help send | head -5; \
         {bin} send issues/one --list lists/m.csv --smtp {} --yes --new-round --rate 1/s; \
         {bin} status issues/one",
        sink.url()
    );
    // the same commands without NO_COLOR show colour, so the capture does see it
    let coloured = frames_of(project.path(), &format!("unset NO_COLOR; {commands}"), true);
    assert!(
        coloured.iter().any(|f| f.contains("\u{1b}[")),
        "no colour seen without NO_COLOR:\n{}",
        coloured.last().unwrap()
    );
    let plain = frames_of(
        project.path(),
        &format!("export NO_COLOR=1; {commands}"),
        true,
    );
    let last = plain.last().unwrap();
    assert!(
        plain
            .iter()
            .any(|f| f.contains("unexpected argument '--no-such-option'")),
        "{last}"
    );
    assert!(
        plain.iter().any(|f| f.contains("/3 · ")),
        "no progress line seen:\n{last}"
    );
    for frame in &plain {
        assert!(
            !frame.contains("\u{1b}["),
            "colour despite NO_COLOR:\n{frame:?}"
        );
    }
}

/// In a terminal narrower than the words, the waiting line is cut to its width, not wrapped.
#[test]
fn the_waiting_line_is_cut_to_a_narrow_terminal() {
    let (_, waits) = send_to_a_server_that_is_down(support::free_port(), 40);
    assert!(
        waits
            .iter()
            .any(|l| l.contains("/2 · waiting for 127.0.0.1: att") && l.contains('…')),
        "no cut waiting line seen: {waits:#?}"
    );
    for line in &waits {
        assert_fits_in(40, line);
    }
}
