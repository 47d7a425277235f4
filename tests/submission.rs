//! Sending through a real Postfix submission service on loopback (STARTTLS, SASL AUTH through
//! Dovecot, a certificate from a private CA, and a port with TLS from the first byte), as a
//! new user meets a company's relay: the password comes from the environment, the CA is
//! trusted through `[smtp] ca_file` and refused in plain words without it, and a port reached
//! with the wrong scheme fails at once, naming the right one. Run as root, as CI does.

mod support;

use std::time::{Duration, Instant};

use support::cli::{self, Run};
use support::files::{SENDER, SHORT_ISSUE, with_templates, write};
use support::postfix::{PASSWORD, Submission, USER};

/// A project whose `[smtp]` table holds `smtp` (and the private CA in `ca.pem`).
fn project(server: &Submission, smtp: &str) -> tempfile::TempDir {
    let config = format!("{SENDER}\n[smtp]\n{smtp}\n");
    let project = with_templates(&config, "one", SHORT_ISSUE);
    write(&project.path().join("ca.pem"), server.ca_pem.as_bytes());
    project
}

/// A test send to one address through `url`, the password from the environment.
fn send(project: &tempfile::TempDir, url: &str, password: &str) -> Run {
    let mut cmd = cli::command(
        project.path(),
        &[
            "send",
            "issues/one",
            "--to",
            "me@example.org",
            "--smtp",
            url,
        ],
    );
    cmd.env("BULLETIN_SMTP_PASSWORD", password);
    Run::from(cmd.output().expect("run bulletin"))
}

#[test]
fn starttls_and_auth_through_a_private_ca() {
    let server = Submission::start();
    let project = project(&server, "ca_file = \"ca.pem\"");
    let url = format!("smtp://{USER}@localhost:{}", server.starttls_port);
    let run = send(&project, &url, PASSWORD);
    run.expect(0);
    let relayed = server.relayed(1, Duration::from_secs(30));
    assert_eq!(relayed.len(), 1, "{}", server.log());
    let text = String::from_utf8_lossy(&relayed[0]);
    assert!(text.contains("[TEST] Test News, November"), "{text}");
    let log = server.log();
    assert!(log.contains(&format!("sasl_username={USER}")), "{log}");
    assert!(
        log.contains("postfix/submission/smtpd") && log.contains("TLS connection established"),
        "{log}"
    );
    assert!(
        log.contains("starttls=1 auth=1 mail=1 rcpt=1 data=1"),
        "{log}"
    );
    // the password never shows
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
}

#[test]
fn implicit_tls_and_auth_through_a_private_ca() {
    let server = Submission::start();
    let project = project(&server, "ca_file = \"ca.pem\"");
    let url = format!("smtps://{USER}@localhost:{}", server.tls_port);
    send(&project, &url, PASSWORD).expect(0);
    assert_eq!(server.relayed(1, Duration::from_secs(30)).len(), 1);
    assert!(server.log().contains("postfix/smtps/smtpd"));
}

#[test]
fn a_private_ca_not_trusted_is_refused_in_plain_words() {
    let server = Submission::start();
    let project = project(&server, "");
    let url = format!("smtp://{USER}@localhost:{}", server.starttls_port);
    let run = send(&project, &url, PASSWORD);
    assert_ne!(run.code, 0, "{}", run.stderr);
    run.stderr_has(&format!(
        "TLS with localhost:{} failed: its certificate is not signed by an authority this machine trusts",
        server.starttls_port
    ))
    .stderr_has("[smtp] ca_file");
    assert!(!run.stderr.contains("Other("), "{}", run.stderr);
    assert!(server.relayed(0, Duration::ZERO).is_empty());
}

#[test]
fn a_wrong_password_is_refused_once() {
    let server = Submission::start();
    let project = project(&server, "ca_file = \"ca.pem\"");
    let url = format!("smtp://{USER}@localhost:{}", server.starttls_port);
    let run = send(&project, &url, "not-the-password");
    assert_ne!(run.code, 0, "{}", run.stderr);
    run.stderr_has(&format!(
        "localhost:{} refused the login: login as `{USER}` refused: 535",
        server.starttls_port
    ));
    assert!(!run.stderr.contains("not-the-password"));
}

/// `smtp://` to the port that speaks TLS from the first byte: Postfix waits for a ClientHello
/// and says nothing. The send stops within seconds (not the greeting's 60 s timeout, four
/// times over), naming smtps://, after one try: that try's connection and the one that asked
/// whether the port speaks TLS.
#[test]
fn the_wrong_scheme_for_an_implicit_tls_port_fails_at_once() {
    let server = Submission::start();
    let project = project(&server, "ca_file = \"ca.pem\"\ntimeout_secs = 60");
    let url = format!("smtp://{USER}@localhost:{}", server.tls_port);
    let before = server.connections("smtps");
    let started = Instant::now();
    let run = send(&project, &url, PASSWORD);
    let took = started.elapsed();
    eprintln!("smtp:// to the implicit-TLS port failed after {took:.1?}");
    assert_ne!(run.code, 0, "{}", run.stderr);
    run.stderr_has(&format!(
        "localhost:{p}: the server sent no SMTP greeting but answers a TLS handshake: this port speaks TLS from the first byte (use smtps://localhost:{p})",
        p = server.tls_port
    ));
    // Postfix logs a connection when it accepts it; bulletin has exited, so every one it
    // made is in the log, or about to be.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.connections("smtps") < before + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.connections("smtps") - before, 2, "{}", server.log());
    assert!(server.relayed(0, Duration::ZERO).is_empty());
}
