//! Personalised messages per second with no network: the ceiling of the send path.
//!
//! ```sh
//! cargo bench --bench compose -- PROJECT_DIR ISSUE_DIR LIST.csv [ROUNDS]
//! cargo bench --bench compose            # the flagship issue and lists/members.csv
//! ```
//!
//! One compile, then for every member of the list (read and cleaned as `send` reads it) the same
//! work `send` does per member on its producer thread: token, unsubscribe URL, render, MIME build.
//! Nothing is written or sent. Prints one line per round and the median of the rounds; the
//! numbers go into docs/BENCHMARKS.md through scripts/bench.sh.

use std::path::PathBuf;
use std::time::Instant;

use bulletin::campaign::run::{RunInput, build_for};
use bulletin::compose::compile;
use bulletin::list::{self, Cleaner, Suppression, Verdict};
use bulletin::message::MessageFactory;
use bulletin::project::Project;
use bulletin::subscriber::Subscriber;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this without it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let project_dir = args.first().map(PathBuf::from).unwrap_or(root.clone());
    let issue = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or(root.join("examples/2023-09-cluster-news"));
    let list_path = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or(root.join("lists/members.csv"));
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);

    let project = Project::discover(&project_dir).expect("the project loads");
    let compiled = compile(&project, &issue, None).expect("the issue compiles");
    let issue_id = issue
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "issue".into());
    let factory = MessageFactory::new(&project.config, &project.root, &issue_id, compiled.images())
        .expect("the message factory starts");
    let input = RunInput {
        issue_id: &issue_id,
        compiled: &compiled,
        factory: &factory,
        lists: std::slice::from_ref(&list_path),
        limit: None,
    };

    let mut rates = Vec::new();
    for round in 1..=rounds.max(1) {
        let started = Instant::now();
        let mut cleaner = Cleaner::new(Suppression::default());
        let (mut n, mut bytes) = (0u64, 0u64);
        for entry in list::open(&list_path).expect("the list opens") {
            let entry = entry.expect("the list reads");
            let member: Subscriber = match cleaner.verdict(entry) {
                Verdict::Send(s) => s,
                Verdict::Skip { .. } => continue,
            };
            let out = build_for(&input, &member, false).expect("the message builds");
            bytes += out.bytes.len() as u64;
            n += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = n as f64 / secs;
        eprintln!(
            "round {round}: {n} messages of {:.1} KB in {secs:.3} s = {rate:.0} messages/s",
            bytes as f64 / n.max(1) as f64 / 1000.0
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("{:.0}", rates[rates.len() / 2]);
}
