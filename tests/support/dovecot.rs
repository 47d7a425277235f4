//! Dovecot serving one Maildir over IMAP on a loopback port, and over IMAP with TLS on a second
//! one when asked (a certificate for `localhost` from a private CA made for the test), for the
//! tests that read a mailbox (run as root, as CI does; scripts/test.sh installs dovecot-imapd).
//! Stopped on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The user's Maildir is `maildir()`; log in as `USER` with `PASSWORD`.
pub struct Dovecot {
    pub port: u16,
    /// The imaps port, with [`Dovecot::start_with_tls`].
    pub tls_port: Option<u16>,
    /// The private CA's certificate (PEM) behind the imaps certificate.
    pub ca_pem: Option<String>,
    /// The port of Dovecot's authentication service for Postfix's SASL (`inet:127.0.0.1:PORT`),
    /// with [`Dovecot::start_with_sasl`].
    pub sasl_port: Option<u16>,
    dir: tempfile::TempDir,
    conf: PathBuf,
}

pub const USER: &str = "bounce";
pub const PASSWORD: &str = "imap-test-pass";

impl Dovecot {
    /// Start Dovecot; `fill` writes messages (and folders) into the Maildir first.
    pub fn start(fill: impl FnOnce(&Path)) -> Dovecot {
        Self::start_with(false, false, fill)
    }

    /// Like [`Dovecot::start`], also answering Postfix's SASL questions (the same user and
    /// password) on [`Dovecot::sasl_port`].
    pub fn start_with_sasl() -> Dovecot {
        Self::start_with(false, true, |_| {})
    }

    /// Like [`Dovecot::start`], also listening for IMAP over TLS on [`Dovecot::tls_port`].
    pub fn start_with_tls(fill: impl FnOnce(&Path)) -> Dovecot {
        Self::start_with(true, false, fill)
    }

    fn start_with(tls: bool, sasl: bool, fill: impl FnOnce(&Path)) -> Dovecot {
        let dovecot = super::tools::require("dovecot", "dovecot-imapd");
        super::tools::require_root("Dovecot for the IMAP tests runs as root");
        let dir = tempfile::Builder::new()
            .prefix("bulletin-dovecot")
            .tempdir()
            .unwrap();
        let t = dir.path();
        let maildir = t.join("home").join(USER).join("Maildir");
        for d in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(d)).unwrap();
        }
        fill(&maildir);
        for (args, what) in [
            (vec!["755".to_string(), t.display().to_string()], "chmod"),
            (
                vec![
                    "-R".to_string(),
                    "nobody:nogroup".to_string(),
                    t.join("home").display().to_string(),
                ],
                "chown",
            ),
        ] {
            assert!(Command::new(what).args(&args).status().unwrap().success());
        }
        std::fs::create_dir_all(t.join("run")).unwrap();
        std::fs::write(t.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let port = super::free_port();
        let (tls_port, ca_pem, ssl) = if tls {
            let issued = super::private_ca::issue(&["localhost".to_string()]);
            std::fs::write(t.join("cert.pem"), &issued.cert_pem).unwrap();
            std::fs::write(t.join("key.pem"), &issued.key_pem).unwrap();
            let tls_port = super::free_port();
            let ssl = format!(
                "ssl = yes\nssl_cert = <{t}/cert.pem\nssl_key = <{t}/key.pem",
                t = t.display()
            );
            (Some(tls_port), Some(issued.ca_pem), ssl)
        } else {
            (None, None, "ssl = no".to_string())
        };
        let imaps = tls_port
            .map(|p| {
                format!("  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {p}\n  }}\n")
            })
            .unwrap_or_default();
        let sasl_port = sasl.then(super::free_port);
        let auth = sasl_port
            .map(|p| {
                format!(
                    "service auth {{\n  inet_listener {{\n    address = 127.0.0.1\n    port = {p}\n  }}\n}}\n"
                )
            })
            .unwrap_or_default();
        let log = t.join("dovecot.log");
        let conf = t.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "base_dir = {t}/run
log_path = {log}
info_log_path = {log}
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {t}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={t}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
{auth}",
                t = t.display(),
                log = log.display()
            ),
        )
        .unwrap();
        let status = Command::new(&dovecot)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start dovecot");
        assert!(status.success(), "dovecot did not start (run as root?)");
        let deadline = Instant::now() + Duration::from_secs(20);
        for p in std::iter::once(port).chain(tls_port).chain(sasl_port) {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "Dovecot did not listen on {p}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Dovecot {
            port,
            tls_port,
            ca_pem,
            sasl_port,
            dir,
            conf,
        }
    }

    pub fn url(&self) -> String {
        format!("imap://{USER}@127.0.0.1:{}/INBOX", self.port)
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("home").join(USER).join("Maildir")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(super::tools::require("dovecot", "dovecot-imapd"))
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
