//! Accuracy of the bounce reader on the shared corpus of real bounce messages
//! (`../shared/corpus/bounces` beside the checkout), against the reference classifier's
//! answers in its `expected.jsonl`. Quality gates: the same bounced recipient for at least
//! 95% of the expected records, the same class for at least 90%, and no panic on any file or
//! on truncated and mangled copies of them.
//!
//! Skipped, with a note, when the corpus is absent. `BOUNCE_MISSES=1` prints every miss.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bulletin::bounce::{self, Class};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/bounces");
    if dir.join("expected.jsonl").is_file() && dir.join("eml").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; the corpus accuracy test is skipped",
            dir.display()
        );
        None
    }
}

#[derive(Debug)]
struct Expected {
    recipient: String,
    class: Class,
    reason: String,
}

fn expected_class(reason: &str, softbounce: i64) -> Class {
    match (reason, softbounce) {
        (_, 0) => Class::Hard,
        ("feedback", _) => Class::Complaint,
        ("vacation", _) => Class::AutoReply,
        _ => Class::Soft,
    }
}

fn load_expected(dir: &Path) -> BTreeMap<String, Vec<Expected>> {
    let text = std::fs::read_to_string(dir.join("expected.jsonl")).expect("read expected.jsonl");
    let mut out: BTreeMap<String, Vec<Expected>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("expected.jsonl line");
        let reason = v["reason"].as_str().unwrap_or("").to_string();
        let soft = v["softbounce"].as_i64().unwrap_or(1);
        out.entry(v["file"].as_str().unwrap_or("").to_string())
            .or_default()
            .push(Expected {
                recipient: v["recipient"].as_str().unwrap_or("").to_lowercase(),
                class: expected_class(&reason, soft),
                reason,
            });
    }
    out
}

#[test]
fn corpus_accuracy_meets_the_gates() {
    let Some(dir) = corpus() else { return };
    let expected = load_expected(&dir);
    let show = std::env::var_os("BOUNCE_MISSES").is_some();
    let (mut total, mut same_rcpt, mut same_class, mut same_reason) =
        (0usize, 0usize, 0usize, 0usize);
    let mut misses: Vec<String> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("eml"))
        .expect("read eml/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let raw = std::fs::read(path).unwrap();
        let report = bounce::parse(&raw);
        let Some(exp) = expected.get(&name) else {
            continue;
        };
        for e in exp {
            total += 1;
            match report.bounces.iter().find(|b| b.recipient == e.recipient) {
                None => {
                    let got: BTreeSet<_> = report
                        .bounces
                        .iter()
                        .map(|b| b.recipient.as_str())
                        .collect();
                    misses.push(format!("RCPT {name}: want {} got {got:?}", e.recipient));
                }
                Some(b) => {
                    same_rcpt += 1;
                    if b.class == e.class {
                        same_class += 1;
                    } else {
                        misses.push(format!(
                            "CLASS {name}: want {}/{} got {}/{} status={:?} diag={:?}",
                            e.class,
                            e.reason,
                            b.class,
                            b.reason,
                            b.status,
                            b.diagnostic.chars().take(160).collect::<String>()
                        ));
                    }
                    if b.reason.as_str() == e.reason {
                        same_reason += 1;
                    }
                }
            }
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / total.max(1) as f64;
    eprintln!(
        "corpus: {} files, {total} expected records; same recipient {same_rcpt} ({:.1}%), same class {same_class} ({:.1}%), same reason {same_reason} ({:.1}%)",
        files.len(),
        pct(same_rcpt),
        pct(same_class),
        pct(same_reason)
    );
    if show {
        for m in &misses {
            eprintln!("{m}");
        }
    }
    assert!(total > 0, "no expected records read");
    assert!(
        pct(same_rcpt) >= 95.0,
        "same recipient for {:.1}% < 95%",
        pct(same_rcpt)
    );
    assert!(
        pct(same_class) >= 90.0,
        "same class for {:.1}% < 90%",
        pct(same_class)
    );
}

/// Every corpus file, and truncated and mangled copies of each, go through the reader
/// without a panic.
#[test]
fn corpus_never_panics_even_mangled() {
    let Some(dir) = corpus() else { return };
    let mut n = 0;
    for e in std::fs::read_dir(dir.join("eml")).unwrap() {
        let raw = std::fs::read(e.unwrap().path()).unwrap();
        for variant in variants(&raw) {
            let _ = bounce::parse(&variant);
            n += 1;
        }
    }
    assert!(n > 0);
}

/// Truncations at several points (including inside multi-byte characters), CRLF/LF swaps,
/// dropped bytes and flipped high bits.
pub fn variants(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![raw.to_vec()];
    for frac in [1, 2, 3, 5, 7, 9] {
        let cut = raw.len() * frac / 10;
        out.push(raw[..cut].to_vec());
        out.push(raw[..cut.saturating_add(1).min(raw.len())].to_vec());
    }
    out.push(raw.iter().copied().filter(|&b| b != b'\r').collect());
    let mut crlf = Vec::with_capacity(raw.len() * 2);
    for &b in raw {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    out.push(crlf);
    let mut flipped = raw.to_vec();
    for (i, b) in flipped.iter_mut().enumerate() {
        if i % 97 == 13 {
            *b ^= 0x80;
        }
    }
    out.push(flipped);
    let mut dropped = raw.to_vec();
    let mut i = 0;
    dropped.retain(|_| {
        i += 1;
        i % 53 != 0
    });
    out.push(dropped);
    // Boundaries and headers broken.
    out.push(
        String::from_utf8_lossy(raw)
            .replace("boundary=", "boundary=x")
            .replace("Final-Recipient:", "Final-Recipient")
            .into_bytes(),
    );
    out
}
