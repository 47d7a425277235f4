//! `bulletin status`: where every member of an issue's sends stands, merged over its journals
//! (its own, one per shard when a list was split over machines, and those of earlier versions),
//! with what came back later (bounce log, suppression list); `--members` lists each member.

use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::deliver::bounce_log::{self, BounceLog};
use crate::deliver::issue_record;
use crate::deliver::journal::{Counts, JournalState};
use crate::list::opt_outs::ListConsent;
use crate::list::suppression::Suppression;
use crate::list::{Filter, OptOuts};
use crate::project::Project;
use crate::report::issue_status::{self, Inputs, IssueStatus};
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
    /// What the list says today about consent: the rows a send would leave out, by reason, or
    /// why a send would stop. Absent when the list is not found.
    list_consent: Option<ListNow>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ListNow {
    Read(ListConsent),
    Stops { error: String },
}

/// Read the journal's list as a send would, when it is still there.
fn list_consent(project: &Project, list: Option<&str>) -> Option<ListNow> {
    let list = std::path::Path::new(list?);
    let path = [list.to_path_buf(), project.root.join(list)]
        .into_iter()
        .find(|p| p.is_file())?;
    let scanned = OptOuts::scan(&[&path], &project.config.lists.rules());
    Some(match scanned {
        Ok(o) => ListNow::Read(o.lists()[0].clone()),
        Err(e) => ListNow::Stops {
            error: e.to_string(),
        },
    })
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
    let mut states = Vec::new();
    for file in files {
        let state = JournalState::read(&file)?;
        for damage in state.damage() {
            eprintln!("warning: {damage}");
        }
        if state.round() > 0 {
            states.push((file, state));
        }
    }
    if states.is_empty() {
        anyhow::bail!(
            "{issue_id} was never sent: there is no journal of it in {} (send it with `bulletin send {} --list LIST`)",
            project.state_dir().join("journals").display(),
            args.issue.display()
        );
    }
    let bounces = bounce_log::read_records(&BounceLog::path_in(&project.state_dir()))?;
    let suppression = Suppression::load_state(&project.state_dir())?;
    let mut bases = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        bases.push(cwd);
    }
    bases.push(project.root.clone());
    let filter = match &args.filter {
        Some(text) => Some(segment_of(text, &states, &bases)?),
        None => None,
    };
    let mut view = issue_status::build(&Inputs {
        issue: &issue_id,
        journals: &states,
        bounces: &bounces,
        suppression: &suppression,
        bases: &bases,
        filter: filter.as_ref(),
    });
    if !args.members {
        for l in &mut view.lists {
            l.members.clear();
        }
    }
    let mut reports = Vec::new();
    // One standing per member over every journal: a member in two of them counts once.
    let mut merged = JournalState::default();
    for (file, state) in states {
        let counts = state.counts();
        let list_consent = list_consent(&project, state.id().map(|id| id.list.as_str()));
        reports.push(JournalReport {
            list_consent,
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
                "where": args.filter,
                "total": total,
                "journals": reports,
                "fates": view.totals,
                "lists": view.lists,
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
            match &r.list_consent {
                Some(ListNow::Read(c)) => {
                    println!("  consent: {}", c.consent);
                    for (why, n) in &c.left_out {
                        println!("  left out by the list, {why}: {n}");
                    }
                }
                Some(ListNow::Stops { error }) => {
                    println!("  the list as it is now would not be sent: {error}")
                }
                None => {}
            }
        }
        if reports.len() > 1 {
            println!("all journals of {issue_id}:");
            print_counts("  ", &total);
        }
        if let Some(f) = &filter {
            println!("the members whose row matches --where {}:", f.text());
        }
        print_view(&view);
    }
    Ok(exit::OK)
}

/// `--where`: parsed, and checked against the columns of the lists the issue was sent to,
/// which must still be readable (the filter reads their rows).
fn segment_of(
    text: &str,
    states: &[(PathBuf, JournalState)],
    bases: &[PathBuf],
) -> anyhow::Result<Filter> {
    let filter = Filter::parse(text)?;
    let mut columns: Vec<String> = Vec::new();
    for (_, state) in states {
        let Some(list) = state.id().map(|id| id.list.as_str()) else {
            continue;
        };
        let readers = issue_status::open_lists(list, bases).map_err(|e| {
            anyhow::anyhow!("--where reads the rows of the list the issue was sent to: {e}")
        })?;
        for r in &readers {
            columns.extend(r.headers().iter().cloned());
        }
    }
    filter.check_columns(columns.iter().map(String::as_str))?;
    Ok(filter)
}

/// Per list: members per fate, then (with `--members`) one line per member.
fn print_view(view: &IssueStatus) {
    for l in &view.lists {
        println!("{}: what became of its members", l.list);
        let line: Vec<String> = l
            .totals
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!("  {}", line.join(", "));
        if let Some(e) = &l.list_unreadable {
            println!("  note: cannot read the list ({e}); members accepted are counted, not named");
        }
        for m in &l.members {
            let mut detail = String::new();
            if let Some(r) = &m.reply {
                detail = format!(": {r}");
            }
            if let Some(b) = &m.bounce {
                detail = format!(
                    ": {} bounce, {}{}",
                    b.class.as_str(),
                    b.reason.as_deref().unwrap_or("no reason recorded"),
                    b.status
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                );
            }
            if let Some(n) = &m.note {
                detail = format!(": {n}");
            }
            if m.fate != m.delivery && m.delivery != crate::report::Fate::NotSent {
                detail = format!("{detail} (after {})", m.delivery.as_str());
            }
            println!("  {:<14} {}{detail}", m.fate.as_str(), m.email);
        }
    }
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
