//! How fast `MessageFactory::build` turns a rendered issue into a message.
//!
//! `cargo bench --bench message_build`. Prints messages per second on one core for a synthetic
//! message of about 55 KB (40 KB of HTML, 4 KB of text, one 8 KB inline image), without DKIM and
//! with each kind of DKIM key; then, for the flagship issue, render (compose) + build per member.
//! Nothing here is asserted: the figures go into docs/BENCHMARKS.md.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bulletin::compose::{LocalImage, Recipient, Rendered, compile};
use bulletin::config::{Config, Dkim};
use bulletin::message::MessageFactory;
use bulletin::project::Project;
use bulletin::subscriber::Subscriber;

/// CPU time of this thread so far (Linux), so a busy machine does not skew the rates.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// `N messages/s` of wall time, and of CPU time when known.
fn rates(n: usize, wall: Duration, cpu: Option<Duration>) -> String {
    let wall_rate = n as f64 / wall.as_secs_f64();
    match cpu {
        Some(c) => format!(
            "{:>8.0} messages/CPU-s {:>8.0} messages/s wall",
            n as f64 / c.as_secs_f64(),
            wall_rate
        ),
        None => format!("{wall_rate:>8.0} messages/s wall"),
    }
}

fn html() -> String {
    let row = "<tr><td align=\"left\" style=\"font-size:0px;padding:10px 25px;word-break:break-word;\">\
<div style=\"font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;text-align:left;color:#222222;\">\
The scheduler upgrade finished on Tuesday; jobs queued since then start about 30% sooner. \
Read <a href=\"https://cluster.example/news/2023-09#scheduler\" style=\"color:#0b5cad;\">the notes</a>.</div></td></tr>\n";
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Cluster News</title></head><body>\
<img src=\"images/logo.png\" alt=\"Cluster News\" width=\"120\">\n",
    );
    while s.len() < 40_000 {
        s.push_str(row);
    }
    s.push_str("<p>Hello {name}, <a href=\"https://cluster.example/u/TOKEN\">unsubscribe</a></p></body></html>\n");
    s
}

fn text() -> String {
    let para = "The scheduler upgrade finished on Tuesday; jobs queued since then start about\n30% sooner. Read the notes [1].\n\n";
    let mut s = String::new();
    while s.len() < 4_000 {
        s.push_str(para);
    }
    s
}

fn rate(name: &str, factory: &MessageFactory, members: &[Subscriber], rendered: &[Rendered]) {
    let tokens: Vec<String> = members.iter().map(|m| factory.token(&m.email)).collect();
    let start = Instant::now();
    let cpu_start = cpu_time();
    let mut n = 0usize;
    let mut bytes = 0usize;
    while start.elapsed() < Duration::from_secs(3) {
        for ((m, t), r) in members.iter().zip(&tokens).zip(rendered) {
            let out = factory.build(r, m, t, false).expect("build");
            bytes += out.bytes.len();
            n += 1;
        }
    }
    let wall = start.elapsed();
    let cpu = cpu_start.and_then(|s| Some(cpu_time()? - s));
    println!(
        "{name:<24} {}  ({n} messages of {:.1} KB)",
        rates(n, wall, cpu),
        bytes as f64 / n as f64 / 1000.0
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("images")).expect("mkdir");
    let logo: Vec<u8> = (0..8_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.path().join("images/logo.png"), logo).expect("write image");
    std::fs::write(
        dir.path().join("rsa.pem"),
        include_str!("../src/message/testdata/dkim-rsa.pem"),
    )
    .expect("write key");
    std::fs::write(
        dir.path().join("ed25519.pem"),
        include_str!("../src/message/testdata/dkim-ed25519.pem"),
    )
    .expect("write key");
    let images = [LocalImage {
        src: "images/logo.png".into(),
        path: PathBuf::from("images/logo.png"),
        content_type: "image/png".into(),
    }];

    let mut config = Config::default();
    config.sender.name = "Cluster News".into();
    config.sender.email = "news@cluster.example".into();
    config.sender.token_secret = Some("bench secret".into());
    config.sender.unsubscribe_url = Some("https://cluster.example/u/{token}".into());
    config.sender.verp = true;

    let html = html();
    let text = text();
    let members: Vec<Subscriber> = (0..1000)
        .map(|i| {
            let mut s = Subscriber::from_email(&format!("member{i}@example.org"));
            s.name = Some(format!("Member Nümber {i}"));
            s.line = i + 2;
            s
        })
        .collect();
    // Per-member HTML, as compose produces it: the same issue with a name and link filled in.
    let rendered: Vec<Rendered> = members
        .iter()
        .map(|m| Rendered {
            subject: "Cluster News — September 2023".into(),
            preheader: String::new(),
            html: html
                .replace("{name}", m.name.as_deref().unwrap_or(""))
                .into(),
            text: text.clone().into(),
        })
        .collect();

    qp_rate(&rendered);
    let plain =
        MessageFactory::new(&config, dir.path(), "2023-09-cluster-news", &images).expect("factory");
    rate("no DKIM", &plain, &members, &rendered);

    for (name, file) in [
        ("DKIM rsa-sha256 2048", "rsa.pem"),
        ("DKIM ed25519-sha256", "ed25519.pem"),
    ] {
        let mut c = config.clone();
        c.dkim = Some(Dkim {
            domain: "cluster.example".into(),
            selector: "s1".into(),
            private_key_file: PathBuf::from(file),
        });
        let f =
            MessageFactory::new(&c, dir.path(), "2023-09-cluster-news", &images).expect("factory");
        rate(name, &f, &members, &rendered);
    }

    flagship(&members);
}

/// Quoted-printable encoding alone, in MB of input per CPU-second.
fn qp_rate(rendered: &[Rendered]) {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut input = 0usize;
    let start = Instant::now();
    let cpu_start = cpu_time();
    while start.elapsed() < Duration::from_secs(2) {
        for r in rendered.iter().take(50) {
            out.clear();
            bulletin::message::encode::quoted_printable(r.html.text().as_bytes(), &mut out);
            input += r.html.len();
        }
    }
    let secs = cpu_start
        .and_then(|s| Some(cpu_time()? - s))
        .unwrap_or(start.elapsed())
        .as_secs_f64();
    println!(
        "{:<24} {:>8.0} MB/CPU-s of HTML",
        "quoted-printable",
        input as f64 / secs / 1e6
    );
}

/// Compose + build for the flagship issue, as `send` does it per member.
fn flagship(members: &[Subscriber]) {
    let issue =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/2023-09-cluster-news");
    let project = Project::discover(&issue).expect("the flagship project loads");
    let compiled = compile(&project, &issue, None).expect("the flagship compiles");
    let mut config = project.config.clone();
    config.sender.token_secret = Some("bench secret".into());
    let factory = MessageFactory::new(
        &config,
        &project.root,
        "2023-09-cluster-news",
        compiled.images(),
    )
    .expect("factory");
    let mut build_cpu = Duration::ZERO;
    let mut n = 0usize;
    let mut bytes = 0usize;
    let start = Instant::now();
    let cpu_start = cpu_time();
    while start.elapsed() < Duration::from_secs(3) {
        for m in members {
            let token = factory.token(&m.email);
            let url = factory.unsubscribe_url(&token);
            let rendered = compiled
                .render(&Recipient {
                    subscriber: m,
                    unsubscribe_url: &url,
                })
                .expect("renders");
            let t = cpu_time();
            let out = factory.build(&rendered, m, &token, false).expect("build");
            if let (Some(a), Some(b)) = (t, cpu_time()) {
                build_cpu += b - a;
            }
            bytes += out.bytes.len();
            n += 1;
        }
    }
    let wall = start.elapsed();
    let cpu = cpu_start.and_then(|s| Some(cpu_time()? - s));
    println!(
        "{:<24} {}  ({n} messages of {:.1} KB)",
        "flagship render + build",
        rates(n, wall, cpu),
        bytes as f64 / n as f64 / 1000.0
    );
    if !build_cpu.is_zero() {
        println!(
            "{:<24} {:>8.0} messages/CPU-s",
            "flagship build alone",
            n as f64 / build_cpu.as_secs_f64()
        );
    }
}
