//! Dovecot serving one Maildir over plain IMAP on a loopback port, for the tests that read a
//! mailbox (run as root, as CI does; scripts/test.sh installs dovecot-imapd). Stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The user's Maildir is `maildir()`; log in as `USER` with `PASSWORD`.
pub struct Dovecot {
    pub port: u16,
    dir: tempfile::TempDir,
    conf: PathBuf,
}

pub const USER: &str = "bounce";
pub const PASSWORD: &str = "imap-test-pass";

impl Dovecot {
    /// Start Dovecot; `fill` writes messages into the Maildir first.
    pub fn start(fill: impl FnOnce(&Path)) -> Dovecot {
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
ssl = no
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
}}
service anvil {{
  chroot =
}}
",
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
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Dovecot did not listen: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Dovecot { port, dir, conf }
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
