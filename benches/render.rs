//! Per-recipient personalisation speed on the flagship example, after one compile:
//! `cargo bench --bench render` (set RECIPIENTS to change the count).

use std::path::Path;
use std::time::Instant;

use bulletin::compose::{Recipient, compile};
use bulletin::project::Project;
use bulletin::subscriber::Subscriber;

fn main() {
    let n: usize = std::env::var("RECIPIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let issue = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/2023-09-cluster-news");
    let project = Project::discover(&issue).expect("the flagship project loads");

    let started = Instant::now();
    let compiled = compile(&project, &issue, None).expect("the flagship compiles");
    let compile_time = started.elapsed();

    let members: Vec<(Subscriber, String)> = (0..n)
        .map(|i| {
            let mut s = Subscriber::from_email(&format!("member{i}@example.org"));
            s.name = Some(format!("Member {i}"));
            s.fields
                .insert("organisation".into(), format!("Organisation {}", i % 97));
            (s, format!("https://wmhtc.example.org/unsubscribe/{i:016x}"))
        })
        .collect();
    // Warm up.
    for (s, url) in members.iter().take(1_000) {
        let _ = compiled.render(&Recipient {
            subscriber: s,
            unsubscribe_url: url,
        });
    }
    let started = Instant::now();
    let mut bytes = 0usize;
    for (s, url) in &members {
        let r = compiled
            .render(&Recipient {
                subscriber: s,
                unsubscribe_url: url,
            })
            .expect("renders");
        bytes += r.html.len() + r.text.len();
    }
    let elapsed = started.elapsed();
    println!(
        "compile (handlebars + MJML + text), once: {:.2} ms",
        compile_time.as_secs_f64() * 1e3
    );
    println!(
        "render: {n} recipients in {:.3} s = {:.0} recipients/s, {:.1} µs each ({} MB of HTML and text)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / n as f64,
        bytes / 1_000_000
    );
}
