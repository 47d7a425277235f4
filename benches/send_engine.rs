//! Throughput of the delivery engine against Postfix's `smtp-source`, to the same `smtp-sink`,
//! with the same message size, in one run.
//!
//! ```sh
//! cargo bench --bench send_engine               # 5000 messages of 50,000 bytes
//! cargo bench --bench send_engine -- 2000 20000 # messages, bytes per message
//! ```
//!
//! `cargo test --all-targets` runs this without `--bench`: then it only checks, with a few small
//! messages and one round, that the benchmark still works.
//!
//! Each figure is the best of `ROUNDS` runs (the machine is shared; the best run is the one
//! least disturbed). The engine is measured with messages already built, as `smtp-source`'s are.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulletin::config;
use bulletin::deliver::{Cancel, Event, Job, PoolOptions, SmtpTarget, deliver};
use support::SmtpSink;
use tokio::sync::mpsc;

fn message(size: usize) -> Arc<[u8]> {
    let mut m = String::from(
        "From: Cluster News <news@news.test>\r\nTo: member@example.test\r\n\
         Subject: Benchmark issue\r\nMessage-ID: <bench@news.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n",
    );
    let line = "The quick brown fox jumps over the lazy dog, and the newsletter goes out.\r\n";
    while m.len() + line.len() <= size {
        m.push_str(line);
    }
    while m.len() + 2 < size {
        m.push('x');
    }
    m.push_str("\r\n");
    m.into_bytes().into()
}

/// Messages per second through `smtp-source` with `sessions` connections (kept open: `-d`).
fn smtp_source(port: u16, sessions: usize, count: usize, size: usize) -> f64 {
    let start = Instant::now();
    let status = Command::new("smtp-source")
        .args(["-d", "-s", &sessions.to_string(), "-m", &count.to_string()])
        .args(["-l", &size.to_string()])
        .args(["-f", "bounces@news.test", "-t", "member@example.test"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("run smtp-source (Postfix)");
    assert!(status.success(), "smtp-source failed: {status}");
    count as f64 / start.elapsed().as_secs_f64()
}

/// Messages per second through `deliver` with `connections` connections.
fn engine(
    rt: &tokio::runtime::Runtime,
    port: u16,
    connections: usize,
    count: usize,
    bytes: &Arc<[u8]>,
) -> f64 {
    let target = SmtpTarget::from_url(
        &format!("smtp://127.0.0.1:{port}"),
        &config::Smtp::default(),
        None,
    )
    .expect("target");
    rt.block_on(async {
        let (job_tx, job_rx) = mpsc::channel(256);
        let (ev_tx, mut ev_rx) = mpsc::channel(256);
        let opts = PoolOptions {
            connections,
            retries: 0,
            limiter: None,
            timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(600),
            backoff: Duration::from_millis(100),
            retry_for: Duration::from_secs(600),
            give_up_after: 0,
            cancel: Cancel::new(),
        };
        let bytes = Arc::clone(bytes);
        let start = Instant::now();
        let producer = tokio::spawn(async move {
            for id in 0..count as u64 {
                let job = Job {
                    id,
                    from: "bounces@news.test".into(),
                    to: format!("member{id}@example.test"),
                    bytes: Arc::clone(&bytes),
                };
                if job_tx.send(job).await.is_err() {
                    break;
                }
            }
        });
        let collector = tokio::spawn(async move {
            let mut accepted = 0usize;
            while let Some(ev) = ev_rx.recv().await {
                if let Event::Done {
                    outcome, durable, ..
                } = ev
                {
                    accepted += usize::from(outcome.is_accepted());
                    let _ = durable.send(());
                }
            }
            accepted
        });
        deliver(&target, job_rx, opts, ev_tx)
            .await
            .expect("deliver");
        let elapsed = start.elapsed();
        producer.await.expect("producer");
        let accepted = collector.await.expect("collector");
        assert_eq!(accepted, count, "every message accepted");
        count as f64 / elapsed.as_secs_f64()
    })
}

fn best(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| f()).fold(0.0, f64::max)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (count, size, rounds) = if benching {
        (
            args.first().copied().unwrap_or(5000),
            args.get(1).copied().unwrap_or(50_000),
            3,
        )
    } else {
        (50, 5_000, 1)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sink = SmtpSink::start(&[]);
    let bytes = message(size);
    eprintln!(
        "{count} messages of {} bytes to smtp-sink on 127.0.0.1:{}, best of {rounds}",
        bytes.len(),
        sink.port
    );

    let src1 = best(rounds, || smtp_source(sink.port, 1, count, size));
    let src8 = best(rounds, || smtp_source(sink.port, 8, count, size));
    let eng1 = best(rounds, || engine(&rt, sink.port, 1, count, &bytes));
    let eng8 = best(rounds, || engine(&rt, sink.port, 8, count, &bytes));

    println!("| client | connections | messages/s | ratio to smtp-source |");
    println!("| --- | ---: | ---: | ---: |");
    println!("| smtp-source | 1 | {src1:.0} | 1.00 |");
    println!("| smtp-source | 8 | {src8:.0} | 1.00 |");
    println!(
        "| bulletin deliver() | 1 | {eng1:.0} | {:.2} |",
        eng1 / src1
    );
    println!(
        "| bulletin deliver() | 8 | {eng8:.0} | {:.2} |",
        eng8 / src8
    );
}
