//! Postfix as a mail submission service on loopback, as a provider or a company runs one
//! (run as root, as CI does; scripts/test.sh installs postfix and dovecot-imapd):
//!
//! - port [`Submission::starttls_port`]: STARTTLS required before anything else;
//! - port [`Submission::tls_port`]: TLS from the first byte (`smtpd_tls_wrappermode`);
//! - both with a certificate for `localhost` from a private CA made for the test, and SASL AUTH
//!   (PLAIN, LOGIN) through Dovecot, for [`dovecot::USER`] and [`dovecot::PASSWORD`] only,
//!   offered after TLS alone; mail from anyone not logged in is refused;
//! - what it accepts it relays to an [`SmtpSink`] that keeps every message.
//!
//! Stopped on drop. Each service logs under its own name (`postfix/submission/smtpd`,
//! `postfix/smtps/smtpd`), so a test can count the connections one port saw.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::SmtpSink;
use super::dovecot::{self, Dovecot};
use super::postfix_dir::{SERVICES, allow_config_dir, main_cf, run_ok};

pub struct Submission {
    pub starttls_port: u16,
    pub tls_port: u16,
    /// The private CA's certificate (PEM): trust it through `[smtp] ca_file`.
    pub ca_pem: String,
    /// Where Postfix relays what it accepted.
    pub relay: SmtpSink,
    maillog: PathBuf,
    conf: PathBuf,
    undo_main_cf: Box<dyn FnMut()>,
    // Dropped after Postfix is stopped.
    _dovecot: Dovecot,
    _dir: tempfile::TempDir,
}

impl Submission {
    pub fn start() -> Submission {
        super::tools::require_root("Postfix as a submission service runs as root");
        let postfix = super::tools::require("postfix", "postfix");
        let dovecot = Dovecot::start_with_sasl();
        let sasl_port = dovecot.sasl_port.expect("Dovecot's SASL port");
        let relay = SmtpSink::with_dump(&[]);

        let dir = tempfile::Builder::new()
            .prefix("bulletin-submission")
            .tempdir()
            .unwrap();
        let t = dir.path();
        let conf = t.join("conf");
        for d in [&conf, &t.join("queue"), &t.join("data")] {
            std::fs::create_dir_all(d).unwrap();
        }
        run_ok(Command::new("chmod").arg("755").arg(t));
        run_ok(
            Command::new("chown")
                .arg("-R")
                .arg("postfix")
                .arg(t.join("data")),
        );
        let issued = super::private_ca::issue(&["localhost".to_string()]);
        std::fs::write(t.join("cert.pem"), &issued.cert_pem).unwrap();
        std::fs::write(t.join("key.pem"), &issued.key_pem).unwrap();

        let (starttls_port, tls_port) = (super::free_port(), super::free_port());
        let maillog = t.join("maillog");
        std::fs::write(
            conf.join("main.cf"),
            main_cf(
                t,
                "submission.test",
                "submission.test",
                relay.port,
                &format!(
                    "mynetworks = 192.0.2.1/32
smtpd_tls_cert_file = {t}/cert.pem
smtpd_tls_key_file = {t}/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{sasl_port}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
",
                    t = t.display()
                ),
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("master.cf"),
            format!(
                "127.0.0.1:{starttls_port} inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt
127.0.0.1:{tls_port} inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes
tlsmgr unix - - n 1000? 1 tlsmgr
{SERVICES}"
            ),
        )
        .unwrap();

        let undo_main_cf = allow_config_dir(&conf);
        run_ok(Command::new(&postfix).arg("-c").arg(&conf).arg("check"));
        let status = Command::new(&postfix)
            .arg("-c")
            .arg(&conf)
            .arg("start")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start postfix");
        let submission = Submission {
            starttls_port,
            tls_port,
            ca_pem: issued.ca_pem,
            relay,
            maillog,
            conf,
            undo_main_cf,
            _dovecot: dovecot,
            _dir: dir,
        };
        assert!(
            status.success(),
            "postfix did not start: {}",
            submission.log()
        );
        for port in [starttls_port, tls_port] {
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "Postfix did not listen on {port}: {}",
                    submission.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // The connections made to see it listen are logged before the test counts its own.
        let deadline = Instant::now() + Duration::from_secs(10);
        while ["submission", "smtps"]
            .iter()
            .any(|name| submission.connections(name) == 0)
        {
            assert!(
                Instant::now() < deadline,
                "Postfix did not log the first connections: {}",
                submission.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        submission
    }

    /// Postfix's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.maillog).unwrap_or_default()
    }

    /// How many connections the service logging as `postfix/NAME/smtpd` has seen so far.
    pub fn connections(&self, name: &str) -> usize {
        let needle = format!("postfix/{name}/smtpd[");
        self.log()
            .lines()
            .filter(|l| l.contains(&needle) && l.contains("]: connect from "))
            .count()
    }

    /// The messages the relay received, waiting up to `within` for at least `n`.
    pub fn relayed(&self, n: usize, within: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.relay.dumped();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        if let Some(postfix) = super::tools::find("postfix") {
            let _ = Command::new(postfix)
                .arg("-c")
                .arg(&self.conf)
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        (self.undo_main_cf)();
    }
}

/// The user and password Postfix accepts.
pub const USER: &str = dovecot::USER;
pub const PASSWORD: &str = dovecot::PASSWORD;
