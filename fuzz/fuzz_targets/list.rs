//! List reading: any bytes as a CSV file. Opening and streaming must never panic, and every
//! row must come back as a member, an invalid row or an unsubscribed row, with a line number.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use bulletin::list::{Cleaner, Entry, Suppression};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

fuzz_target!(|data: &[u8]| {
    let path = dir().path().join("members.csv");
    {
        let mut f = std::fs::File::create(&path).expect("create list file");
        f.write_all(data).expect("write list file");
    }
    let Ok(reader) = bulletin::list::open(&path) else {
        return;
    };
    let mut cleaner = Cleaner::new(Suppression::empty());
    let mut last_line = 0;
    for (n, entry) in reader.enumerate() {
        // The reader streams; a fuzz input is short, so a long run means it is stuck.
        assert!(n <= data.len() + 1, "more rows than bytes");
        match entry {
            Ok(entry) => {
                let line = entry.line();
                assert!(line >= 1 && line >= last_line, "line numbers go forward");
                last_line = line;
                if let Entry::Member(s) = &entry {
                    assert!(!s.email.is_empty());
                }
                let _ = cleaner.verdict(entry);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
