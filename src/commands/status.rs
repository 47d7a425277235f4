//! `bulletin status`: where every member of an issue's sends stands, merged over its journals
//! (its own, one per shard when a list was split over machines, and those of earlier versions).

use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::deliver::issue_record;
use crate::deliver::journal::{Counts, JournalState};
use crate::project::Project;
use crate::run::exit;

#[derive(Debug, Serialize)]
struct JournalReport {
    journal: PathBuf,
    list: Option<String>,
    round: u32,
    runs: usize,
    last: Option<String>,
    counts: Counts,
    /// The list changed between runs of this round.
    list_changed: bool,
    uncertain: Vec<(u64, String)>,
}

pub fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let project = Project::discover(&args.issue)?;
    let issue_dir = if args.issue.is_file() {
        args.issue.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        args.issue.clone()
    };
    let issue_id = std::path::absolute(&issue_dir)?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "issue".into());
    let files = if args.journal.is_empty() {
        issue_record::journals_of(&project.state_dir(), &issue_id).with_context(|| {
            format!(
                "cannot list the journals in {}",
                project.state_dir().display()
            )
        })?
    } else {
        args.journal.clone()
    };
    if files.is_empty() {
        eprintln!("no journal of {issue_id} yet: nothing was sent");
        return Ok(exit::OK);
    }
    let mut reports = Vec::new();
    // One standing per member over every journal: a member in two of them counts once.
    let mut merged = JournalState::default();
    for file in files {
        let state = JournalState::read(&file)?;
        for damage in state.damage() {
            eprintln!("warning: {damage}");
        }
        let counts = state.counts();
        reports.push(JournalReport {
            list: state.id().map(|id| id.list.clone()),
            round: state.round(),
            runs: state.runs().len(),
            last: state.last_time().map(str::to_string),
            counts,
            list_changed: state.list_changed(),
            uncertain: state
                .uncertain()
                .into_iter()
                .map(|u| (u.line, u.email))
                .collect(),
            journal: file,
        });
        merged.merge(state);
    }
    let total = merged.counts();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "issue": issue_id,
                "total": total,
                "journals": reports,
            }))?
        );
    } else {
        for r in &reports {
            println!(
                "{} ({}; round {}, {} run(s), last record {})",
                r.journal.display(),
                r.list.as_deref().unwrap_or("?"),
                r.round,
                r.runs,
                r.last.as_deref().unwrap_or("-")
            );
            print_counts("  ", &r.counts);
            if r.list_changed {
                println!("  note: the list changed between runs of this round");
            }
            for (line, email) in &r.uncertain {
                println!("  cut off mid-transaction: line {line}: {email}");
            }
        }
        if reports.len() > 1 {
            println!("all journals of {issue_id}:");
            print_counts("  ", &total);
        }
    }
    Ok(exit::OK)
}

fn print_counts(indent: &str, c: &Counts) {
    println!("{indent}accepted:  {}", c.accepted);
    println!("{indent}refused:   {}", c.refused_permanent);
    println!(
        "{indent}deferred:  {} (sent again by the next run)",
        c.deferred + c.refused_temporary
    );
    println!(
        "{indent}cut off:   {} (sent again by the next run unless --skip-uncertain)",
        c.uncertain
    );
    if c.held > 0 {
        println!(
            "{indent}held back: {} (their journal record is damaged: not mailed until it is mended)",
            c.held
        );
    }
}
