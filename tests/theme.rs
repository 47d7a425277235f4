//! The default theme as readers and filters see it: contrast of every visible text in light and
//! dark mode, measured in headless Chromium from computed styles, and the flagship message as
//! sent, scored by SpamAssassin with its local tests.

mod browser;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use browser::Browser;
use serde_json::{Value, json};
use support::files::copy_dir;

const FLAGSHIP: &str = "examples/2023-09-cluster-news";

/// WCAG 2 AA for body text.
const AA: f64 = 4.5;

/// A copy of the repository's own project: config, templates, lists and the flagship.
fn flagship_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(src.join("bulletin.toml"), dir.path().join("bulletin.toml")).unwrap();
    copy_dir(&src.join("templates"), &dir.path().join("templates"));
    copy_dir(&src.join("lists"), &dir.path().join("lists"));
    copy_dir(&src.join(FLAGSHIP), &dir.path().join(FLAGSHIP));
    dir
}

fn bulletin(root: &Path, args: &[&str]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("the binary runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// JS: every visible text node's colour, the first opaque background behind it, and their
/// contrast ratio (WCAG 2 relative luminance).
const CONTRASTS: &str = r#"(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(s => parseFloat(s));
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bgOf = el => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
    return null; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode;
    if (!t.textContent.trim()) continue;
    const el = t.parentElement;
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(el);
    const fg = parse(cs.color), bg = bgOf(el);
    if (!bg) { out.push({ text: t.textContent.trim().slice(0, 40), ratio: 0, color: cs.color, bg: 'none' }); continue; }
    const l1 = lum(fg), l2 = lum(bg);
    out.push({ text: t.textContent.trim().slice(0, 40),
      ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05),
      body: !!el.closest('.body'), size: parseFloat(cs.fontSize),
      color: cs.color, bg: `rgb(${bg.r}, ${bg.g}, ${bg.b})` });
  }
  return out;
})()"#;

/// The lowest contrast of all texts and of body texts, failing on any text under AA.
fn check_contrast(b: &mut Browser, mode: &str) -> (f64, f64) {
    let texts = b.eval(CONTRASTS);
    let texts = texts.as_array().expect("a list of texts");
    assert!(texts.len() > 50, "too few texts measured: {texts:?}");
    let low: Vec<&Value> = texts
        .iter()
        .filter(|t| t["ratio"].as_f64().unwrap() < AA)
        .collect();
    assert!(low.is_empty(), "{mode} mode: texts under {AA}:1: {low:#?}");
    let min = |body: bool| {
        texts
            .iter()
            .filter(|t| !body || t["body"] == Value::Bool(true))
            .map(|t| t["ratio"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min)
    };
    (min(false), min(true))
}

fn emulate(b: &mut Browser, scheme: &str) {
    b.call(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
    );
    let dark = b.eval("matchMedia('(prefers-color-scheme: dark)').matches");
    assert_eq!(dark, Value::Bool(scheme == "dark"));
}

#[test]
fn text_keeps_aa_contrast_in_light_and_dark_mode_and_logos_keep_their_plate() {
    let project = flagship_project();
    let out = project.path().join("out");
    bulletin(
        project.path(),
        &["build", FLAGSHIP, "--out", out.to_str().unwrap()],
    );
    let page: PathBuf = out.join("2023-09-cluster-news.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<meta name=\"color-scheme\" content=\"light dark\""));
    assert!(html.contains("@media (prefers-color-scheme: dark)"));

    let mut b = Browser::launch();
    b.viewport(600, 900);
    b.goto(&format!("file://{}", page.display()));
    let page_bg = "getComputedStyle(document.querySelector('.page')).backgroundColor";
    let plate = "getComputedStyle(document.querySelector('.plate img')).backgroundColor";

    emulate(&mut b, "light");
    let (light_all, light_body) = check_contrast(&mut b, "light");
    assert_eq!(b.eval(page_bg), json!("rgb(233, 238, 242)"));

    emulate(&mut b, "dark");
    let (dark_all, dark_body) = check_contrast(&mut b, "dark");
    // The dark styles apply: a dark page, and the logo on its own white plate.
    assert_eq!(b.eval(page_bg), json!("rgb(17, 20, 24)"));
    assert_eq!(b.eval(plate), json!("rgb(255, 255, 255)"));
    eprintln!(
        "lowest contrast: light {light_all:.2}:1 (body text {light_body:.2}:1), dark {dark_all:.2}:1 (body text {dark_body:.2}:1)"
    );
}

/// `spamassassin`, or a failure that says how to get it.
fn spamassassin() -> PathBuf {
    support::tools::require("spamassassin", "spamassassin")
}

#[test]
fn the_flagship_as_sent_scores_at_most_zero_with_spamassassin() {
    let sa = spamassassin();
    let project = flagship_project();
    bulletin(
        project.path(),
        &[
            "send",
            FLAGSHIP,
            "--list",
            "lists/members.csv",
            "--yes",
            "--dry-run",
            "--outbox",
            "box",
        ],
    );
    let mut messages: Vec<PathBuf> = std::fs::read_dir(project.path().join("box"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    messages.sort();
    let message = std::fs::File::open(&messages[0]).unwrap();
    let o = Command::new(sa)
        .args(["-t", "-L"])
        .stdin(message)
        .output()
        .expect("spamassassin runs");
    let report = String::from_utf8_lossy(&o.stdout);
    let score: f64 = report
        .lines()
        .find_map(|l| l.strip_prefix("X-Spam-Status: "))
        .and_then(|s| s.split("score=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in the report:\n{report}"));
    assert!(!report.contains("HTML_FONT_LOW_CONTRAST"), "{report}");
    assert!(score <= 0.0, "score {score}:\n{report}");
    eprintln!("SpamAssassin (local tests): {score}");
}
