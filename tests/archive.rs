//! `bulletin archive`: the web archive of the issues, built by the real binary from a copy of
//! the flagship project with an older issue and a draft beside it; read back as a feed reader
//! (Python's feedparser), a web client (curl against `bulletin serve`) and a browser (headless
//! Chromium) would.

mod browser;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use browser::Browser;
use support::files::{bulletin, copy_dir, stderr, write};
use support::serve::Serve;

/// The flagship project with a second, older issue and a draft; `config_extra` is appended to
/// its `bulletin.toml`.
fn project(config_extra: &str) -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = std::fs::read_to_string(repo.join("bulletin.toml")).unwrap();
    // the repository's [archive] table, whatever it says, is replaced by the test's
    let config = config.split("\n[archive]").next().unwrap();
    write(
        &root.join("bulletin.toml"),
        format!("{config}\n[archive]\nissues = [\"examples\"]\n{config_extra}\n").as_bytes(),
    );
    copy_dir(&repo.join("templates"), &root.join("templates"));
    copy_dir(&repo.join("lists"), &root.join("lists"));
    let flagship = repo.join("examples/2023-09-cluster-news");
    copy_dir(&flagship, &root.join("examples/2023-09-cluster-news"));
    let issue = std::fs::read_to_string(flagship.join("issue.toml")).unwrap();
    let august = issue
        .replace("September 2023", "August 2023")
        .replace("published = 2023-09-28", "published = 2023-08-31");
    copy_dir(&flagship, &root.join("examples/2023-08-cluster-news"));
    write(
        &root.join("examples/2023-08-cluster-news/issue.toml"),
        august.as_bytes(),
    );
    let draft = issue
        .replace("September 2023", "October 2023 (draft)")
        .replace(
            "published = 2023-09-28",
            "published = 2023-10-26\ndraft = true",
        );
    copy_dir(&flagship, &root.join("examples/2023-10-cluster-news"));
    write(
        &root.join("examples/2023-10-cluster-news/issue.toml"),
        draft.as_bytes(),
    );
    dir
}

fn archive(root: &Path, out: &str) -> PathBuf {
    let o = bulletin(root, &["archive", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    root.join(out)
}

/// Every file under `dir` (the manifest aside), by path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if e.file_name() != ".bulletin-archive" {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Every address in every list of the project.
fn list_addresses(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(root.join("lists")).unwrap().flatten() {
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for field in text.split([',', ';', '\t', '\n', '\r', '"', ' ', '<', '>']) {
            let field = field.trim();
            if field.contains('@') && field.len() > 3 {
                out.insert(field.to_lowercase());
            }
        }
    }
    out
}

#[test]
fn the_same_input_gives_the_same_bytes_and_no_member_address_or_token() {
    let dir = project("base_url = \"https://wmhtc.example.org/news/\"");
    let root = dir.path();
    let one = tree(&archive(root, "site-one"));
    let two = tree(&archive(root, "site-two"));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    assert!(one == two, "two builds of the same project differ");
    // a rebuild into the same folder changes nothing
    let again = bulletin(root, &["archive", "--out", "site-one"]);
    assert!(
        stderr(&again).contains("(0 changed, 0 removed)"),
        "{}",
        stderr(&again)
    );

    let paths: Vec<&str> = one.keys().map(String::as_str).collect();
    assert!(paths.contains(&"index.html") && paths.contains(&"feed.xml"));
    assert!(paths.contains(&"2023-09-cluster-news/index.html"));
    assert!(paths.contains(&"2023-08-cluster-news/index.html"));
    assert!(
        !paths.iter().any(|p| p.starts_with("2023-10")),
        "the draft is in the archive: {paths:?}"
    );
    // the two issues share their images: one copy each, named after the content
    let images = paths.iter().filter(|p| p.starts_with("assets/")).count();
    assert_eq!(images, 5, "{paths:?}");

    let addresses = list_addresses(root);
    assert!(
        addresses.len() > 10,
        "the lists hold addresses: {addresses:?}"
    );
    for (path, bytes) in &one {
        let text = String::from_utf8_lossy(bytes).to_lowercase();
        for a in &addresses {
            assert!(
                !text.contains(a.as_str()),
                "{path} holds the member address {a}"
            );
        }
        for needle in [
            "/unsubscribe/",
            "sample-token",
            "reader@example.org",
            "you receive this bulletin as",
        ] {
            assert!(!text.contains(needle), "{path} holds {needle:?}");
        }
    }
    let index = String::from_utf8_lossy(&one["index.html"]).into_owned();
    let sept = index
        .find("Cluster News – September 2023")
        .expect("September listed");
    let aug = index
        .find("Cluster News – August 2023")
        .expect("August listed");
    assert!(sept < aug, "newest first");
    assert!(index.contains("<time datetime=\"2023-09-28\">28 September 2023</time>"));
    assert!(index.contains("Strategy roundtable, The Revolution of Digital Health"));
    let page = String::from_utf8_lossy(&one["2023-09-cluster-news/index.html"]).into_owned();
    assert!(
        page.contains("web edition"),
        "the page says how to subscribe"
    );
    assert!(
        !page.contains("View in your browser"),
        "the page links to itself"
    );
}

#[test]
fn the_feed_parses_with_feedparser_one_entry_per_published_issue() {
    let python = support::tools::require_python_module("feedparser", "python3-feedparser");
    let dir = project("base_url = \"https://wmhtc.example.org/news/\"");
    let site = archive(dir.path(), "site");
    let script = r#"
import json, sys, feedparser
f = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": f.bozo, "error": str(f.get("bozo_exception", "")), "version": f.version,
    "title": f.feed.get("title"), "id": f.feed.get("id"), "updated": f.feed.get("updated"),
    "author": f.feed.get("author"),
    "entries": [{"id": e.id, "title": e.title, "link": e.link, "updated": e.updated,
                 "type": e.content[0].type, "content": e.content[0].value} for e in f.entries],
}))
"#;
    let o = Command::new(&python)
        .args(["-c", script])
        .arg(site.join("feed.xml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(f["bozo"], false, "feedparser: {}", f["error"]);
    assert_eq!(f["version"], "atom10");
    assert_eq!(f["title"], "Cluster News");
    assert_eq!(f["author"], "West Midlands HealthTech Cluster");
    assert_eq!(f["updated"], "2023-09-28T00:00:00Z");
    let entries = f["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        2,
        "one entry per published issue: {entries:#?}"
    );
    assert_eq!(entries[0]["title"], "Cluster News – September 2023");
    assert_eq!(
        entries[0]["link"],
        "https://wmhtc.example.org/news/2023-09-cluster-news/"
    );
    assert_eq!(
        entries[0]["id"],
        "tag:wmhtc.example.org,2023-09-28:2023-09-cluster-news"
    );
    assert_eq!(entries[1]["title"], "Cluster News – August 2023");
    assert_eq!(entries[0]["type"], "text/html");
    let content = entries[0]["content"].as_str().unwrap();
    assert!(
        content.contains("Strategy Roundtable 04 October"),
        "the full content"
    );
    assert!(content.contains("src=\"https://wmhtc.example.org/news/assets/"));

    // feed_entries keeps the newest; the index still lists every issue
    let config = std::fs::read_to_string(dir.path().join("bulletin.toml")).unwrap();
    write(
        &dir.path().join("bulletin.toml"),
        format!("{config}feed_entries = 1\n").as_bytes(),
    );
    let site = archive(dir.path(), "site");
    let feed = std::fs::read_to_string(site.join("feed.xml")).unwrap();
    assert_eq!(feed.matches("<entry>").count(), 1);
    assert!(feed.contains("<title>Cluster News – September 2023</title>"));
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("August 2023"));

    // an archive address that is not a URL is refused, naming the key
    write(
        &dir.path().join("bulletin.toml"),
        config
            .replace(
                "base_url = \"https://wmhtc.example.org/news/\"",
                "base_url = \"wmhtc.example.org/news\"",
            )
            .as_bytes(),
    );
    let o = bulletin(dir.path(), &["archive"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("`wmhtc.example.org/news` is not an https://"),
        "{}",
        stderr(&o)
    );
}

/// Every address a page links to or loads from the archive's own host, as paths.
fn own_links(body: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for piece in body.split(attr).skip(1) {
            let url = piece.split('"').next().unwrap_or("").replace("&amp;", "&");
            if let Some(path) = url.strip_prefix(base) {
                out.push(format!("/{path}"));
            } else if !url.contains(':') && !url.starts_with('#') && !url.is_empty() {
                out.push(url);
            }
        }
    }
    out
}

/// `project("")` with `[serve] url` at a free loopback port, and `bulletin serve` there.
fn served() -> (tempfile::TempDir, Serve, u16) {
    let port = support::free_port();
    let dir = project(&format!("[serve]\nurl = \"http://127.0.0.1:{port}\""));
    let serve = Serve::start(dir.path(), port);
    (dir, serve, port)
}

#[test]
fn serve_answers_every_link_and_image_of_the_archive() {
    let (dir, serve, port) = served();
    let base = format!("http://127.0.0.1:{port}/");
    let root = dir.path();
    let mut seen = BTreeSet::new();
    let mut queue = vec!["/".to_string(), "/feed.xml".to_string()];
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (code, body) = serve.get(&path);
        assert_eq!(code, 200, "GET {path}: {code}\n{}", serve.log());
        if path.ends_with('/') || path.ends_with(".xml") {
            let body = body
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"");
            for link in own_links(&body, &base) {
                let resolved = if link.starts_with('/') {
                    link
                } else if let Some(up) = link.strip_prefix("../") {
                    format!("/{up}")
                } else {
                    format!(
                        "{}{link}",
                        path.rsplit_once('/').unwrap().0.to_string() + "/"
                    )
                };
                queue.push(resolved);
            }
        }
    }
    let images = seen.iter().filter(|p| p.starts_with("/assets/")).count();
    let pages = seen
        .iter()
        .filter(|p| p.ends_with("-cluster-news/"))
        .count();
    assert_eq!((pages, images), (2, 5), "{seen:#?}");
    // what the archive does not hold is a 404, and the way out is still there
    assert_eq!(serve.get("/2023-10-cluster-news/").0, 404);
    assert_eq!(serve.get("/healthz").0, 200);
    assert_eq!(serve.get("/unsubscribe/aaaaaaaaaaaaaaaa").0, 404);

    // a draft published while serve runs appears without a restart
    let draft = root.join("examples/2023-10-cluster-news/issue.toml");
    let text = std::fs::read_to_string(&draft)
        .unwrap()
        .replace("draft = true\n", "");
    write(&draft, text.as_bytes());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while serve.get("/2023-10-cluster-news/").0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the published draft never appeared: {}",
            serve.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(serve.get("/").1.contains("October 2023 (draft)"));
    // an issue broken while serve runs leaves the archive served as it was
    write(&draft, b"subject = \"S\"\ntitle = [\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !serve.log().contains("is not served as it is now") {
        assert!(std::time::Instant::now() < deadline, "{}", serve.log());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(serve.get("/2023-10-cluster-news/").0, 200);
    assert!(
        serve
            .log()
            .contains("now: examples/2023-10-cluster-news/issue.toml:3:"),
        "{}",
        serve.log()
    );
}

#[test]
fn the_flagship_page_in_chromium_at_375_and_1280_px() {
    let (dir, serve, _port) = served();
    let root = dir.path();
    let issue: toml::Value = toml::from_str(
        &std::fs::read_to_string(root.join("examples/2023-09-cluster-news/issue.toml")).unwrap(),
    )
    .unwrap();
    let mut headings: Vec<String> = issue["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("heading").and_then(|h| h.as_str()).map(String::from))
        .collect();
    headings.push(issue["spotlight"]["heading"].as_str().unwrap().to_string());
    headings.push(issue["sign_off"]["name"].as_str().unwrap().to_string());
    assert!(headings.len() > 10);

    let mut b = Browser::launch();
    for width in [375, 1280] {
        b.viewport(width, 900);
        b.goto(&serve.url("/2023-09-cluster-news/"));
        b.wait_for(
            "the page and its images",
            "document.readyState === 'complete' && [...document.images].every(i => i.complete)",
        );
        let text = b.eval("document.body.innerText");
        let text = text.as_str().unwrap().to_lowercase();
        for h in &headings {
            let h = h.to_lowercase();
            let words: Vec<&str> = h.split_whitespace().collect();
            assert!(
                text.contains(&words.join(" ")),
                "at {width} px the section “{h}” is missing"
            );
        }
        assert!(
            text.contains("web edition"),
            "at {width} px: how to subscribe"
        );
        let wide = b.eval("document.documentElement.scrollWidth");
        assert!(
            wide.as_u64().unwrap() <= width as u64,
            "at {width} px the page scrolls sideways ({wide} px wide)"
        );
        let broken = b.eval(
            "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)",
        );
        assert_eq!(
            broken,
            serde_json::json!([]),
            "at {width} px: broken images"
        );
        let images = b.eval("document.images.length").as_u64().unwrap();
        assert!(images >= 5, "at {width} px: {images} images");
        // the index too
        b.goto(&serve.url("/"));
        b.wait_for("the index", "document.readyState === 'complete'");
        let wide = b
            .eval("document.documentElement.scrollWidth")
            .as_u64()
            .unwrap();
        assert!(
            wide <= width as u64,
            "at {width} px the index scrolls sideways"
        );
        assert_eq!(b.eval("document.querySelectorAll('li h2 a').length"), 2);
    }
}

/// `bulletin check ISSUE` in `root`: its exit code and everything it printed.
fn check(root: &Path, issue: &str) -> (Option<i32>, String) {
    let o = bulletin(root, &["check", issue]);
    let all = format!("{}{}", support::files::stdout(&o), stderr(&o));
    (o.status.code(), all)
}

/// The flagship issue's email HTML, as `build` writes it in the project at `root`.
fn built_flagship(root: &Path) -> String {
    let o = bulletin(
        root,
        &["build", "examples/2023-09-cluster-news", "--out", "out"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::read_to_string(root.join("out/2023-09-cluster-news.html")).unwrap()
}

#[test]
fn archive_url_in_emails_and_the_warnings_about_it() {
    // with a base URL, the email links to its page at the top
    let dir = project("base_url = \"https://wmhtc.example.org/news\"");
    let root = dir.path();
    let html = built_flagship(root);
    assert!(html.contains(
        "<a href=\"https://wmhtc.example.org/news/2023-09-cluster-news/\" style=\"color:#52606d;\">View in your browser</a>"
    ));
    // check warns when that link would lead nowhere: the issue is a draft, or outside the archive
    let (_, all) = check(root, "examples/2023-09-cluster-news");
    assert!(!all.contains("archive-missing"), "{all}");
    let (code, all) = check(root, "examples/2023-10-cluster-news");
    assert_eq!(code, Some(0), "{all}");
    assert!(
        all.contains("archive-missing") && all.contains("it is a draft"),
        "{all}"
    );
    copy_dir(
        &root.join("examples/2023-09-cluster-news"),
        &root.join("elsewhere/2023-09-cluster-news"),
    );
    let (_, all) = check(root, "elsewhere/2023-09-cluster-news");
    assert!(
        all.contains("not in one of the folders of [archive] issues"),
        "{all}"
    );
    // without one, the default template shows no link and check says nothing about it
    let dir = project("");
    let root = dir.path();
    let html = built_flagship(root);
    assert!(!html.contains("View in your browser"));
    let (_, all) = check(root, "examples/2023-09-cluster-news");
    assert!(!all.contains("archive_url"), "{all}");
    // a template that prints archive_url without a base URL: a warning at its line
    write(
        &root.join("templates/partials/title_bar.mjml.hbs"),
        b"<mj-section>\n<mj-column>\n<mj-text font-size=\"14px\"><a href=\"{{archive_url}}\">Read {{issue.title}} on the web</a></mj-text>\n</mj-column>\n</mj-section>\n",
    );
    let (code, all) = check(root, "examples/2023-09-cluster-news");
    assert_eq!(code, Some(0), "a warning, not an error: {all}");
    assert!(
        all.contains("templates/partials/title_bar.mjml.hbs:3:")
            && all.contains("[archive] base_url"),
        "{all}"
    );
    // the same for a hand-written text part
    let other = project("");
    let file = other
        .path()
        .join("examples/2023-09-cluster-news/issue.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "published = 2023-09-28\n",
        "published = 2023-09-28\ntext = '''\n{{issue.title}}\nOn the web: {{archive_url}}\nUnsubscribe: {{unsubscribe_url}}\n'''\n",
    );
    write(&file, text.as_bytes());
    let (code, all) = check(other.path(), "examples/2023-09-cluster-news");
    assert_eq!(code, Some(0), "{all}");
    assert!(
        all.contains("archive-url-unset")
            && all.contains("examples/2023-09-cluster-news/issue.toml:"),
        "{all}"
    );
    // with [send] asset_base_url the images are linked there, as in the emails, not copied
    let config = std::fs::read_to_string(root.join("bulletin.toml")).unwrap();
    write(
        &root.join("bulletin.toml"),
        config
            .replace(
                "[send]\n",
                "[send]\nasset_base_url = \"https://cdn.example.org/news/\"\n",
            )
            .as_bytes(),
    );
    let site = archive(root, "cdn-site");
    assert!(!site.join("assets").exists());
    let page = std::fs::read_to_string(site.join("2023-09-cluster-news/index.html")).unwrap();
    assert!(page.contains("src=\"https://cdn.example.org/news/banner.png\""));
    let feed = std::fs::read_to_string(site.join("feed.xml")).unwrap();
    assert!(feed.contains("src=&quot;https://cdn.example.org/news/banner.png&quot;"));
    // two folders with the same address are an error naming both
    copy_dir(
        &root.join("examples/2023-08-cluster-news"),
        &root.join("examples/2023-08 Cluster News"),
    );
    let o = bulletin(root, &["archive"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("examples/2023-08 Cluster News and examples/2023-08-cluster-news have the same address in the archive, /2023-08-cluster-news/"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(root.join("examples/2023-08 Cluster News")).unwrap();
    // an issue with no date is an error naming its file
    let undated = std::fs::read_to_string(root.join("examples/2023-08-cluster-news/issue.toml"))
        .unwrap()
        .replace("published = 2023-08-31\n", "");
    write(
        &root.join("examples/2023-08-cluster-news/issue.toml"),
        undated.as_bytes(),
    );
    let o = bulletin(root, &["archive"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("examples/2023-08-cluster-news/issue.toml: no publication date"),
        "{}",
        stderr(&o)
    );
}
