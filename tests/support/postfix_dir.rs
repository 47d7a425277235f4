//! A private Postfix configuration folder (`postfix -c DIR`), and running its commands.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Run `cmd`; a failure shows what it printed.
pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const MAIN_CF: &str = "/etc/postfix/main.cf";

/// Postfix only takes `-c DIR` when the default main.cf lists DIR in
/// `alternate_config_directories`. Adds it (creating the file if there is none); returns the
/// step that takes it out again (and removes the file when nothing else is left in it).
/// Tests in this process and in others on the machine do the same at once, so each change
/// is made under a lock.
pub fn allow_config_dir(dir: &Path) -> Box<dyn FnMut()> {
    let dir = dir.display().to_string();
    {
        let _lock = lock();
        let mut dirs = listed();
        if !dirs.contains(&dir) {
            dirs.push(dir.clone());
            set_listed(&dirs);
        }
    }
    Box::new(move || {
        let _lock = lock();
        let dirs: Vec<String> = listed().into_iter().filter(|d| *d != dir).collect();
        set_listed(&dirs);
        let left = std::fs::read_to_string(MAIN_CF).unwrap_or_default();
        if left.trim() == "alternate_config_directories =" {
            let _ = std::fs::remove_file(MAIN_CF);
        }
    })
}

/// An exclusive lock on a file of its own, released when dropped.
fn lock() -> std::fs::File {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("bulletin-tests-postfix-main-cf.lock"))
        .expect("open the lock file for /etc/postfix/main.cf");
    file.lock().expect("lock /etc/postfix/main.cf");
    file
}

/// The folders main.cf lists now.
fn listed() -> Vec<String> {
    if !Path::new(MAIN_CF).exists() {
        return Vec::new();
    }
    let out = Command::new("postconf")
        .args(["-h", "alternate_config_directories"])
        .output()
        .expect("postconf");
    String::from_utf8_lossy(&out.stdout)
        .split([',', ' ', '\n'])
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

fn set_listed(dirs: &[String]) {
    let value = format!("alternate_config_directories = {}", dirs.join(", "));
    if Path::new(MAIN_CF).exists() {
        run_ok(Command::new("postconf").arg("-e").arg(value.trim_end()));
    } else {
        std::fs::create_dir_all("/etc/postfix").unwrap();
        std::fs::write(MAIN_CF, format!("{}\n", value.trim_end())).unwrap();
    }
}

/// The services every Postfix needs in its `master.cf` besides its `smtpd` listeners.
pub const SERVICES: &str = "pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
";

/// A `main.cf` for a Postfix whose queue, data and log live in `dir`, named `host` in
/// `domain`, listening on loopback only, relaying everything to `127.0.0.1:relay_port`
/// without DNS; `rest` adds its own settings.
pub fn main_cf(dir: &Path, host: &str, domain: &str, relay_port: u16, rest: &str) -> String {
    format!(
        "compatibility_level = 3.6
queue_directory = {t}/queue
data_directory = {t}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = {host}
mydomain = {domain}
myorigin = {domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relayhost = [127.0.0.1]:{relay_port}
smtp_dns_support_level = disabled
alias_maps =
alias_database =
maillog_file = {t}/maillog
maillog_file_prefixes = {t}
biff = no
{rest}",
        t = dir.display()
    )
}
