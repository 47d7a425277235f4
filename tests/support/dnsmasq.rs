//! A real DNS server on loopback for the deliverability tests: dnsmasq (Debian's
//! `dnsmasq-base`) serving records given as its own flags on a free `127.0.0.1` port, with
//! the `.test` domain its own (NXDOMAIN for names it does not know, no forwarding); killed
//! on drop.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Dnsmasq {
    child: Child,
    pub port: u16,
}

impl Dnsmasq {
    /// Serve these records: each a dnsmasq option such as `--txt-record=NAME,TEXT`,
    /// `--mx-host=NAME,HOST,PREF` or `--host-record=NAME,IP`.
    pub fn start(records: &[String]) -> Dnsmasq {
        let port = super::free_port();
        let program = super::tools::require("dnsmasq", "dnsmasq-base");
        let mut child = Command::new(program)
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                &format!("--port={port}"),
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--local=/test/",
                "--pid-file",
            ])
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dnsmasq: {e}"));
        // Up once its UDP port is taken.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("dnsmasq exited at start ({status}): {err}");
            }
            if UdpSocket::bind(("127.0.0.1", port)).is_err() {
                break;
            }
            assert!(Instant::now() < deadline, "dnsmasq did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Dnsmasq { child, port }
    }

    /// `127.0.0.1:PORT`, for `[dns] nameserver`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
