//! `bulletin serve` as its own process on a loopback port, and curl as its client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bulletin");

/// `bulletin serve` as its own process on a loopback port; killed (SIGKILL) on drop.
pub struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Serve {
    pub fn start(root: &Path, port: u16) -> Serve {
        let log = root.join(format!("serve-{}.log", Instant::now().elapsed().as_nanos()));
        let child = Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(root)
            .env_remove("BULLETIN_TOKEN_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start bulletin serve");
        let mut s = Serve { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while s.get("/healthz").0 != 200 {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("bulletin serve exited ({status}): {}", s.log());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// curl with `args`: (status, body).
    pub fn curl(&self, path: &str, args: &[&str]) -> (u16, String) {
        let o = Command::new(super::tools::require("curl", "curl"))
            .args(["-s", "--max-time", "20", "-w", "\n%{http_code}"])
            .args(args)
            .arg(self.url(path))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.curl(path, &[])
    }

    /// A one-click POST as a mailbox provider sends it (RFC 8058): form-encoded.
    pub fn one_click(&self, token: &str) -> (u16, String) {
        self.curl(
            &format!("/unsubscribe/{token}"),
            &["-d", "List-Unsubscribe=One-Click"],
        )
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
