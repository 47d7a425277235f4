//! `bulletin preview`, tested as a reader would use it: the real binary serving a copy of the
//! flagship project, looked at in headless Chromium.

mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use browser::{Browser, PATIENCE};

const ISSUE: &str = "examples/2023-09-cluster-news";

/// A copy of the repository's own project (config, templates, lists, the flagship issue).
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn flagship() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::copy(src.join("bulletin.toml"), root.join("bulletin.toml")).unwrap();
        copy_dir(&src.join("templates"), &root.join("templates"));
        copy_dir(&src.join(ISSUE), &root.join(ISSUE));
        Project { _dir: dir, root }
    }

    fn issue_toml(&self) -> PathBuf {
        self.root.join(ISSUE).join("issue.toml")
    }

    fn read_issue(&self) -> String {
        std::fs::read_to_string(self.issue_toml()).unwrap()
    }

    /// The issue's `title`, as written in issue.toml.
    fn title(&self) -> String {
        let v: toml::Value = toml::from_str(&self.read_issue()).unwrap();
        v["title"]
            .as_str()
            .expect("issue.toml has a title")
            .to_string()
    }

    /// Rewrite issue.toml with the title replaced.
    fn set_title(&self, new: &str) {
        let text = self.read_issue();
        let old = toml_string(&self.title());
        assert!(text.contains(&old), "title not written as a basic string");
        std::fs::write(self.issue_toml(), text.replacen(&old, &toml_string(new), 1)).unwrap();
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The binary under test; the latency bench may point `BULLETIN_BIN` at a release build.
fn bulletin() -> PathBuf {
    std::env::var_os("BULLETIN_BIN")
        .map(|p| std::path::absolute(p).unwrap())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bulletin")))
}

/// The real binary serving a preview, stopped when dropped.
struct Preview {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Preview {
    fn start(project: &Project, extra: &[&str]) -> Preview {
        let mut child = Command::new(bulletin())
            .current_dir(&project.root)
            .args(["preview", ISSUE, "--no-open", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let mut r = BufReader::new(out);
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            // keep the pipe open and drained
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let url = rx.recv_timeout(PATIENCE).unwrap_or_default();
        let url = url.trim().to_string();
        let p = Preview { child, url, stderr };
        assert!(
            p.url.starts_with("http://127.0.0.1:") && p.url.ends_with('/'),
            "no URL on stdout: {:?}\nstderr:\n{}",
            p.url,
            p.stderr()
        );
        p
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait until the server has said `what` on stderr.
    fn wait_stderr(&self, what: &str) {
        let start = std::time::Instant::now();
        while !self.stderr().contains(what) {
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {what:?} on stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:PORT`
    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }

    /// A raw HTTP/1.1 GET, the request target sent exactly as given.
    fn get(&self, target: &str) -> (u16, String) {
        http_get(self.addr(), target, self.addr())
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a command that should stop by itself; a server that keeps running fails the test
/// instead of hanging it.
fn run_to_end(mut cmd: Command) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running: {cmd:?}\nstdout: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn http_get(addr: &str, target: &str, host: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// JS: the text of a frame's document.
fn frame_text(id: &str) -> String {
    format!("document.getElementById('{id}').contentDocument.body.innerText")
}

/// JS: a string literal.
fn js(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Open the preview page and wait until the email is shown.
fn open_page(b: &mut Browser, p: &Preview, width: u32) {
    b.viewport(width, 900);
    b.goto(&p.url);
    b.wait_for(
        "the email in both frames",
        &format!(
            "document.body.dataset.version !== '0' && {} .length > 0 && {} .length > 0",
            frame_text("frame-desktop"),
            frame_text("frame-mobile")
        ),
    );
}

#[test]
fn flagship_renders_at_both_widths() {
    let project = Project::flagship();
    let title = project.title();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    for frame in ["frame-desktop", "frame-mobile"] {
        let text = b.eval(&frame_text(frame));
        assert!(
            text.as_str().unwrap().contains(&title),
            "{frame} does not show the title {title:?}"
        );
    }
    assert_eq!(b.eval("document.getElementById('overlay').hidden"), true);
    let subject: toml::Value = toml::from_str(&project.read_issue()).unwrap();
    assert_eq!(
        b.eval("document.getElementById('subject').textContent"),
        subject["subject"].as_str().unwrap()
    );
    // the frames have the widths they stand for
    assert_eq!(
        b.eval(
            "document.getElementById('frame-mobile').contentDocument.documentElement.clientWidth"
        ),
        375
    );
    assert!(
        b.eval(
            "document.getElementById('frame-desktop').contentDocument.documentElement.clientWidth"
        )
        .as_u64()
        .unwrap()
            >= 600
    );
    // the size against Gmail's clip is shown
    let size = b.eval("document.getElementById('size').textContent");
    assert!(size.as_str().unwrap().contains("KB of 102.0 KB"), "{size}");
    // every image in the email loaded from the project
    let broken = b.eval(
        "[...document.getElementById('frame-desktop').contentDocument.images]\
         .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)",
    );
    assert_eq!(broken, serde_json::json!([]), "images that did not load");
    // the plain-text tab shows the text part
    b.eval("document.getElementById('tab-text').click()");
    let text = b.eval("document.getElementById('text').innerText");
    assert!(text.as_str().unwrap().contains(&title));
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector('.views')).display"),
        "none"
    );
}

/// JS: the multi-column rows of a frame, as lists of column boxes.
fn column_rows(frame: &str) -> String {
    format!(
        "(() => {{
            const d = document.getElementById('{frame}').contentDocument;
            const rows = new Map();
            for (const c of d.querySelectorAll('[class*=\"mj-column-\"]')) {{
                const r = c.parentElement;
                if (!rows.has(r)) rows.set(r, []);
                const b = c.getBoundingClientRect();
                rows.get(r).push({{ top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width }});
            }}
            return [...rows.values()].filter(cols => cols.length > 1);
        }})()"
    )
}

#[test]
fn at_mobile_width_nothing_scrolls_sideways_and_columns_stack() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    let doc = "document.getElementById('frame-mobile').contentDocument.documentElement";
    let (sw, cw) = (
        b.eval(&format!("{doc}.scrollWidth")).as_u64().unwrap(),
        b.eval(&format!("{doc}.clientWidth")).as_u64().unwrap(),
    );
    assert!(sw <= cw, "the mobile frame scrolls sideways: {sw} > {cw}");

    // at 375 px every multi-column row is one column under the other …
    let mobile = b.eval(&column_rows("frame-mobile"));
    let rows = mobile.as_array().unwrap();
    assert!(!rows.is_empty(), "the flagship has no multi-column row");
    for cols in rows {
        let cols = cols.as_array().unwrap();
        for pair in cols.windows(2) {
            assert!(
                pair[1]["top"].as_f64().unwrap() >= pair[0]["bottom"].as_f64().unwrap() - 1.0,
                "columns side by side at 375 px: {cols:?}"
            );
        }
    }
    // … while at desktop width they sit side by side
    let desktop = b.eval(&column_rows("frame-desktop"));
    for cols in desktop.as_array().unwrap() {
        let cols = cols.as_array().unwrap();
        assert!(
            cols[1]["left"].as_f64().unwrap() >= cols[0]["right"].as_f64().unwrap() - 1.0
                && (cols[1]["top"].as_f64().unwrap() - cols[0]["top"].as_f64().unwrap()).abs()
                    < 1.0,
            "columns not side by side at desktop width: {cols:?}"
        );
    }
}

#[test]
fn editing_the_title_updates_the_open_page() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let before = b.eval("document.body.dataset.version");

    project.set_title("Cluster News, edited live");
    b.wait_for(
        "the new title in both frames",
        &format!(
            "{}.includes('Cluster News, edited live') && {}.includes('Cluster News, edited live')",
            frame_text("frame-desktop"),
            frame_text("frame-mobile")
        ),
    );
    b.wait_for(
        "the page to note the new version",
        &format!("document.body.dataset.version !== {before}"),
    );
    p.wait_stderr("issue.toml: updated in");
}

#[test]
fn a_broken_edit_shows_the_error_and_the_fix_clears_it() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let good = project.read_issue();

    // break the TOML on the title's line: an unterminated string
    let title = project.title();
    let line = good
        .lines()
        .position(|l| l.contains(&toml_string(&title)))
        .unwrap()
        + 1;
    std::fs::write(
        project.issue_toml(),
        good.replacen(&toml_string(&title), "\"never closed", 1),
    )
    .unwrap();
    b.wait_for(
        "the error overlay",
        "!document.getElementById('overlay').hidden",
    );
    let message = b.eval("document.getElementById('overlay-text').textContent");
    let message = message.as_str().unwrap();
    assert!(
        message.contains(&format!("issue.toml:{line}")),
        "the overlay does not name issue.toml:{line}: {message}"
    );
    assert!(
        message.contains("never closed"),
        "no offending line: {message}"
    );
    // the last good build stays underneath
    assert!(
        b.eval(&frame_text("frame-desktop"))
            .as_str()
            .unwrap()
            .contains(&title)
    );

    // the server is still up; the fix brings the issue back
    std::fs::write(
        project.issue_toml(),
        good.replacen(&toml_string(&title), &toml_string("Fixed title"), 1),
    )
    .unwrap();
    b.wait_for(
        "the overlay to clear and the fixed title to show",
        &format!(
            "document.getElementById('overlay').hidden && {}.includes('Fixed title')",
            frame_text("frame-desktop")
        ),
    );
}

#[test]
fn a_template_error_names_the_template_line() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    let template = project.root.join("templates/bulletin.mjml.hbs");
    let good = std::fs::read_to_string(&template).unwrap();
    // an unclosed handlebars block on a line of its own
    let lines: Vec<&str> = good.lines().collect();
    let at = lines.iter().position(|l| l.contains("<mj-body")).unwrap() + 1;
    let mut broken: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    broken.insert(at, "{{#if issue.title}}".into());
    std::fs::write(&template, broken.join("\n")).unwrap();
    b.wait_for(
        "the error overlay",
        "!document.getElementById('overlay').hidden",
    );
    let message = b.eval("document.getElementById('overlay-text').textContent");
    assert!(
        message.as_str().unwrap().contains("bulletin.mjml.hbs"),
        "the overlay does not name the template: {message}"
    );
    std::fs::write(&template, good).unwrap();
    b.wait_for(
        "the overlay to clear",
        "document.getElementById('overlay').hidden",
    );
}

#[test]
fn invalid_mjml_shows_in_the_overlay_at_its_line() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    let partial = project.root.join("templates/partials/sign_off.mjml.hbs");
    let good = std::fs::read_to_string(&partial).unwrap();
    std::fs::write(&partial, good.replacen("<mj-section ", "<mj-sektion ", 1)).unwrap();
    let template = project.root.join("templates/bulletin.mjml.hbs");
    let good_main = std::fs::read_to_string(&template).unwrap();
    let line = good_main
        .lines()
        .position(|l| l.contains("<mj-body"))
        .unwrap()
        + 1;
    std::fs::write(
        &template,
        good_main.replacen("<mj-body ", "<mj-body colour=\"#fff\" ", 1),
    )
    .unwrap();
    b.wait_for(
        "the error overlay",
        "!document.getElementById('overlay').hidden",
    );
    let message = b.eval("document.getElementById('overlay-text').textContent");
    let message = message.as_str().unwrap();
    assert!(
        message.contains(&format!(
            "bulletin.mjml.hbs:{line}:12: invalid MJML: unknown attribute `colour` on <mj-body>"
        )),
        "{message}"
    );
    std::fs::write(&template, good_main).unwrap();
    b.wait_for(
        "the overlay to name the partial",
        "document.getElementById('overlay-text').textContent.includes('sign_off.mjml.hbs:1:1: invalid MJML: unknown element <mj-sektion>')",
    );
    std::fs::write(&partial, good).unwrap();
    b.wait_for(
        "the overlay to clear",
        "document.getElementById('overlay').hidden",
    );
}

#[test]
fn escaped_braces_show_as_braces_in_the_preview() {
    let project = Project::flagship();
    let partial = project.root.join("templates/partials/sign_off.mjml.hbs");
    let good = std::fs::read_to_string(&partial).unwrap();
    std::fs::write(
        &partial,
        good.replacen(
            "<strong>{{name}}</strong>",
            "<strong>{{name}}</strong> \\{{FirstName}} <a href=\"https://esp.example.org/?id=\\{{ID}}\">esp</a>",
            1,
        ),
    )
    .unwrap();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let shown = b.eval(&frame_text("frame-desktop"));
    assert!(
        shown.as_str().unwrap().contains(" {{FirstName}} esp"),
        "{shown}"
    );
    let href = b.eval(
        "[...document.getElementById('frame-desktop').contentDocument.querySelectorAll('a')].map(a => a.getAttribute('href')).find(h => h.includes('esp.example.org'))",
    );
    assert_eq!(href.as_str(), Some("https://esp.example.org/?id={{ID}}"));
    let state = b.eval("fetch('/api/state').then(r => r.json())");
    let text = state["text"].as_str().unwrap();
    assert!(text.contains(" {{FirstName}} [esp]"), "{text}");
    assert!(
        text.contains("https://esp.example.org/?id={{ID}}"),
        "{text}"
    );
    assert_eq!(state["error"], serde_json::Value::Null);
}

#[test]
fn the_member_picker_renders_each_members_copy() {
    let project = Project::flagship();
    std::fs::create_dir_all(project.root.join("lists")).unwrap();
    // as exported from a spreadsheet on Windows: BOM, CRLF, semicolons
    std::fs::write(
        project.root.join("lists/members.csv"),
        "\u{feff}Email;Name;Team\r\nada@example.org;Ada Lovelace;Engines\r\nbob+news@example.org;Bob;Looms\r\n",
    )
    .unwrap();
    let emails = ["ada@example.org", "bob+news@example.org"];
    let p = Preview::start(
        &project,
        &["--list", "lists/members.csv", "--as", emails[1]],
    );
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let unsubscribe = |email: &str| {
        format!(
            "preview-unsubscribe?member={}",
            email.replace('@', "%40").replace('+', "%2B")
        )
    };
    let html = "document.getElementById('frame-desktop').contentDocument.documentElement.outerHTML";
    b.wait_for(
        "--as picks the member",
        &format!("{html}.includes({})", js(&unsubscribe(emails[1]))),
    );
    let offered = b.eval("document.getElementById('members').options.length");
    assert!(
        offered.as_u64().unwrap() >= 2,
        "picker offers {offered} members"
    );
    // pick the other member
    b.eval(&format!(
        "(() => {{ const i = document.getElementById('member'); i.value = {}; \
           i.dispatchEvent(new Event('change')); }})()",
        js(emails[0])
    ));
    b.wait_for(
        "the other member's copy",
        &format!("{html}.includes({})", js(&unsubscribe(emails[0]))),
    );
    assert!(b.eval("location.search").as_str().unwrap().contains("as="));
}

#[test]
fn nothing_outside_the_project_is_served() {
    let project = Project::flagship();
    // a secret next to the project, and links inside it pointing out
    let outside = project.root.parent().unwrap().join("secret.txt");
    std::fs::write(&outside, "TOP SECRET").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, project.root.join(ISSUE).join("leak.txt")).unwrap();
        std::os::unix::fs::symlink("/etc", project.root.join(ISSUE).join("etc")).unwrap();
    }
    std::fs::create_dir_all(project.root.join(".bulletin")).unwrap();
    std::fs::write(project.root.join(".bulletin/journal.jsonl"), "TOP SECRET").unwrap();
    let p = Preview::start(&project, &[]);

    // the control: a file of the project is served
    let (status, _) = p.get("/files/bulletin.toml");
    assert_eq!(status, 200);

    for target in [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E%2Fsecret.txt",
        "/files/..%2fsecret.txt",
        "/files/examples/..%2F..%2F..%2Fsecret.txt",
        "/files/%252e%252e/secret.txt",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/examples/2023-09-cluster-news/leak.txt",
        "/files/examples/2023-09-cluster-news/etc/passwd",
        "/files/.bulletin/journal.jsonl",
        "/files/..\\secret.txt",
        "/files/%00",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/etc/passwd",
        "/secret.txt",
    ] {
        let (status, body) = p.get(target);
        assert!(
            status == 404 || status == 403 || status == 400,
            "{target} answered {status}"
        );
        assert!(
            !body.contains("TOP SECRET") && !body.contains("root:"),
            "{target} leaked"
        );
    }
}

#[test]
fn only_loopback_host_names_are_answered() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    assert_eq!(http_get(p.addr(), "/", "localhost").0, 200);
    assert_eq!(http_get(p.addr(), "/", p.addr()).0, 200);
    // a page on another site whose name was rebound to 127.0.0.1 gets nothing
    assert_eq!(http_get(p.addr(), "/", "rebound.example:80").0, 403);
    assert_eq!(http_get(p.addr(), "/api/state", "rebound.example").0, 403);
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// Edit-to-updated-page latency: the time from writing issue.toml to the new title being in
/// the page's frames, over 20 edits. Run with
/// `cargo build --release && BULLETIN_BIN=target/release/bulletin cargo test --test preview -- --ignored --nocapture reload_latency`.
#[test]
#[ignore = "benchmark: prints figures"]
fn reload_latency() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let mut samples = Vec::new();
    for i in 0..21 {
        let title = format!("Latency probe {i}");
        // the page notes (on the shared wall clock) when both frames show the new title
        b.eval(&format!(
            "window.__seen = new Promise(resolve => {{
                const look = () => {{
                    const t = [...document.querySelectorAll('iframe')]
                        .every(f => f.contentDocument && f.contentDocument.body &&
                                    f.contentDocument.body.innerText.includes({t}));
                    if (t) resolve(Date.now()); else requestAnimationFrame(look);
                }};
                look();
            }}); true",
            t = js(&title)
        ));
        let start = now_ms();
        project.set_title(&title);
        let seen = b.eval("window.__seen").as_f64().unwrap();
        if i > 0 {
            samples.push(seen - start); // the first edit warms up
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = (samples[9] + samples[10]) / 2.0;
    println!(
        "edit-to-updated-page latency over {} edits: median {median:.0} ms, min {:.0} ms, max {:.0} ms",
        samples.len(),
        samples[0],
        samples[samples.len() - 1]
    );
    // the server's share: compile + check, as it reports each rebuild
    let mut rebuilds: Vec<u64> = p
        .stderr()
        .lines()
        .filter_map(|l| {
            l.split("issue.toml: updated in ")
                .nth(1)?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    rebuilds.sort_unstable();
    if !rebuilds.is_empty() {
        println!(
            "of which rebuilding (compile + check): median {} ms over {} rebuilds",
            rebuilds[rebuilds.len() / 2],
            rebuilds.len()
        );
    }
}

/// The README's pictures: the preview page at desktop and phone widths, and the built email at
/// 600 and 375 px. Run with `cargo test --test preview -- --ignored screenshots`.
#[test]
#[ignore = "writes docs/img/*.png"]
fn screenshots() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img");
    let project = Project::flagship();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("lists"),
        &project.root.join("lists"),
    );
    let p = Preview::start(&project, &["--list", "lists/members.csv"]);
    let mut b = Browser::launch();

    open_page(&mut b, &p, 1320);
    b.viewport(1320, 1000);
    b.screenshot_viewport(&out.join("preview-desktop.png"));

    open_page(&mut b, &p, 420);
    b.eval("document.querySelector('button[data-view=mobile]').click()");
    b.viewport(420, 900);
    b.screenshot_viewport(&out.join("preview-mobile.png"));

    let email = format!("{}email", p.url);
    for (w, name) in [(600, "flagship-600.png"), (375, "flagship-375.png")] {
        b.viewport(w, 800);
        b.goto(&email);
        b.wait_for("images", "[...document.images].every(i => i.complete)");
        b.screenshot(&out.join(name));
    }
}

#[test]
fn a_changed_image_shows_without_a_rebuild() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    // two images of the email with different sizes
    let images = b.eval(
        "[...document.getElementById('frame-desktop').contentDocument.images]\
         .map(i => [decodeURIComponent(new URL(i.src).pathname), i.naturalWidth, i.naturalHeight])",
    );
    let images = images.as_array().unwrap();
    let local: Vec<(String, u64, u64)> = images
        .iter()
        .filter_map(|i| {
            let path = i[0].as_str()?.strip_prefix("/files/")?.to_string();
            Some((path, i[1].as_u64()?, i[2].as_u64()?))
        })
        .collect();
    let (from, to) = local
        .iter()
        .flat_map(|a| local.iter().map(move |b| (a, b)))
        .find(|(a, b)| (a.1, a.2) != (b.1, b.2))
        .expect("two local images of different sizes");
    std::fs::copy(project.root.join(&from.0), project.root.join(&to.0)).unwrap();
    b.wait_for(
        "the new image in the frame",
        &format!(
            "[...document.getElementById('frame-desktop').contentDocument.images]\
             .some(i => decodeURIComponent(new URL(i.src).pathname) === {} && i.naturalWidth === {})",
            js(&format!("/files/{}", to.0)),
            from.1
        ),
    );
    p.wait_stderr(&format!("{}: reloaded (nothing to rebuild)", to.0));
}

#[test]
fn editing_bulletin_toml_finds_the_project_again() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);

    let path = project.root.join("bulletin.toml");
    let mut config: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let sender = config
        .entry("sender")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    sender
        .as_table_mut()
        .unwrap()
        .insert("name".into(), "Renamed Sender".into());
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    b.wait_for(
        "the new sender in the inbox row",
        "document.getElementById('from').textContent === 'Renamed Sender'",
    );

    // a typo in bulletin.toml is shown like any other error
    std::fs::write(&path, "[sender]\nnmae = \"x\"\n").unwrap();
    b.wait_for(
        "the config error",
        "!document.getElementById('overlay').hidden && \
         document.getElementById('overlay-text').textContent.includes('bulletin.toml:2')",
    );
}

#[test]
fn as_must_name_a_member_of_the_list() {
    let project = Project::flagship();
    std::fs::create_dir_all(project.root.join("lists")).unwrap();
    std::fs::write(
        project.root.join("lists/members.csv"),
        "email,name,status\nada@example.org,Ada,subscribed\nbo@example.org,Bo,unsubscribed\n",
    )
    .unwrap();
    let preview_as = |who: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulletin"));
        cmd.current_dir(&project.root)
            .args(["preview", ISSUE, "--no-open", "--port", "0"])
            .args(["--list", "lists/members.csv"])
            .args(["--as", who]);
        let out = run_to_end(cmd);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = preview_as("nobody@nowhere.invalid");
    assert!(
        stderr.contains("nobody@nowhere.invalid is not a member of lists/members.csv"),
        "{stderr}"
    );
    // A row the list has but does not mail is named with its line and why.
    let stderr = preview_as("Bo@example.org");
    assert!(
        stderr.contains(
            "Bo@example.org is not mailed from lists/members.csv: line 3: unsubscribed: status is \"unsubscribed\""
        ),
        "{stderr}"
    );
}

#[test]
fn check_findings_follow_the_edits() {
    let project = Project::flagship();
    let p = Preview::start(&project, &[]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let findings =
        "[...document.querySelectorAll('#findings li')].map(l => l.textContent).join('\\n')";
    assert_eq!(b.eval(findings), "", "the flagship passes check");

    let good = project.read_issue();
    let alt = ", alt = \"Round table 4 oct collage\"";
    assert!(good.contains(alt));
    std::fs::write(project.issue_toml(), good.replacen(alt, "", 1)).unwrap();
    b.wait_for(
        "the missing-alt warning",
        &format!(
            "{findings}.includes('missing-alt') && {findings}.includes('roundtable-collage.png')"
        ),
    );
    std::fs::write(project.issue_toml(), &good).unwrap();
    b.wait_for("the warning to go", &format!("{findings} === ''"));
}

#[test]
fn an_edited_list_updates_the_picker() {
    let project = Project::flagship();
    std::fs::create_dir_all(project.root.join("lists")).unwrap();
    let list = project.root.join("lists/members.csv");
    std::fs::write(&list, "email,name\nada@example.org,Ada\n").unwrap();
    let p = Preview::start(&project, &["--list", "lists/members.csv"]);
    let mut b = Browser::launch();
    open_page(&mut b, &p, 1400);
    let offered = "[...document.getElementById('members').options].map(o => o.value).join(' ')";
    assert_eq!(b.eval(offered), "ada@example.org");

    std::fs::write(
        &list,
        "email,name\nada@example.org,Ada\ncyd@example.org,Cyd\n",
    )
    .unwrap();
    b.wait_for(
        "the new member in the picker",
        &format!("{offered} === 'ada@example.org cyd@example.org'"),
    );
    p.wait_stderr("lists/members.csv: 2 members");

    // a list that cannot be read is reported in the page; the email stays
    std::fs::write(&list, "name\nAda\n").unwrap();
    b.wait_for(
        "the list error among the findings",
        "document.getElementById('findings').textContent.includes('lists/members.csv:1: no email column')",
    );
    assert_eq!(b.eval("document.getElementById('overlay').hidden"), true);
}

#[test]
fn a_missing_issue_folder_is_an_error() {
    let project = Project::flagship();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulletin"));
    cmd.current_dir(&project.root).args([
        "preview",
        "examples/no-such-issue",
        "--no-open",
        "--port",
        "0",
    ]);
    let out = run_to_end(cmd);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: examples/no-such-issue: no such issue folder"),
        "{stderr}"
    );
}
