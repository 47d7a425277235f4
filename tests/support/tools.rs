//! The programs some tests drive (Postfix's smtp-sink, Postfix, Dovecot, Chromium, …). A test
//! that needs one that is missing stops at once with one line naming it and the Debian package
//! that brings it, which `scripts/test.sh` installs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Where `program` is: on the `PATH`, or in the system folders a non-root `PATH` often lacks.
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// `program`, or a one-line failure saying that `package` brings it.
pub fn require(program: &str, package: &str) -> PathBuf {
    find(program).unwrap_or_else(|| {
        panic!("{program} is not installed (Debian package {package}); scripts/test.sh installs it")
    })
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A one-line failure unless the tests run as root (`what` says what needs it).
pub fn require_root(what: &str) {
    if !is_root() {
        panic!("{what}: run the tests as root, as CI does");
    }
}

/// The system's Python 3 (Debian's, where `apt-get` puts modules) able to import `module`, or a
/// one-line failure saying that `package` brings it.
pub fn require_python_module(module: &str, package: &str) -> PathBuf {
    let python = ["/usr/bin/python3", "/bin/python3"]
        .map(PathBuf::from)
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| require("python3", "python3"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        panic!(
            "Python's {module} is not installed (Debian package {package}); scripts/test.sh installs it"
        );
    }
    python
}
