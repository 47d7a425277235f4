//! The record of who got an issue: every journal file of that issue, merged.
//!
//! Journals live in `STATE/journals/`. A run writes to its own file, named after the issue
//! alone (`ISSUE.jsonl`, or `ISSUE--shardKofN.jsonl` for a shard), never after the list or a
//! path, so a moved or copied project, another list of the same project, or another spelling
//! of the list's path all find the same record. Before deciding who is due, a send reads every
//! journal file of the issue in that folder and merges them ([`JournalState::merge`]): its own,
//! the per-list files of earlier versions (`ISSUE--LIST-HASH.jsonl`), and shard journals copied
//! in from other machines (any name, as long as it starts with `ISSUE` or its first line is a
//! header of the issue). Rounds are coherent across files: the latest round of any file is the
//! round, and a member accepted in any file of it is not mailed again.
//!
//! One send of an issue at a time: [`IssueLock`] holds an exclusive lock on
//! `STATE/journals/ISSUE.lock` for the whole run, whatever the list or shard. The operating
//! system drops it when the process ends, however it ends.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::journal::{JournalError, JournalState, create_dir_synced, file_safe, first_header};
use crate::list::shard::Shard;

/// The folder of journals inside the state folder.
pub fn journals_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("journals")
}

/// The file a send of `issue_id` writes: `STATE/journals/ISSUE.jsonl`, or
/// `ISSUE--shardKofN.jsonl` for a shard.
pub fn path_for(state_dir: &Path, issue_id: &str, shard: Option<Shard>) -> PathBuf {
    let mut name = file_safe(issue_id);
    if let Some(s) = shard {
        name.push_str(&format!("--shard{}of{}", s.k, s.n));
    }
    name.push_str(".jsonl");
    journals_dir(state_dir).join(name)
}

/// The lock file of `issue_id`'s sends: `STATE/journals/ISSUE.lock`.
pub fn lock_path(state_dir: &Path, issue_id: &str) -> PathBuf {
    journals_dir(state_dir).join(format!("{}.lock", file_safe(issue_id)))
}

/// Every journal file of `issue_id` in the state folder, sorted: each `.jsonl` whose first
/// line is a header of the issue, and those without a readable header whose name is the
/// issue's (`ISSUE.jsonl`, `ISSUE--….jsonl`). A file whose header names another issue is
/// not one of them, whatever its name.
pub fn journals_of(state_dir: &Path, issue_id: &str) -> io::Result<Vec<PathBuf>> {
    let dir = journals_dir(state_dir);
    let safe = file_safe(issue_id);
    let prefix = format!("{safe}--");
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".jsonl") else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let named = stem == safe || stem.starts_with(&prefix);
        let ours = match first_header(&path) {
            Ok(Some(id)) => id.issue == issue_id,
            Ok(None) => named,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        if ours {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Read and merge the journal files `files` (a missing file is empty).
pub fn read_merged(files: &[PathBuf]) -> Result<JournalState, JournalError> {
    let mut state = JournalState::default();
    for file in files {
        state.merge(JournalState::read(file)?);
    }
    Ok(state)
}

/// Read and merge every journal of `issue_id` in the state folder.
pub fn read(state_dir: &Path, issue_id: &str) -> Result<JournalState, JournalError> {
    let files = journals_of(state_dir, issue_id)
        .map_err(|e| JournalError::io(&journals_dir(state_dir), e))?;
    read_merged(&files)
}

/// The exclusive lock on the sends of one issue, held until dropped.
#[derive(Debug)]
pub struct IssueLock {
    _file: File,
}

impl IssueLock {
    /// Take the lock of `issue_id`'s sends, creating the journals folder and the lock file.
    /// Fails at once, naming the lock file, while another send of the issue runs.
    pub fn acquire(state_dir: &Path, issue_id: &str) -> Result<IssueLock, JournalError> {
        let dir = journals_dir(state_dir);
        create_dir_synced(&dir).map_err(|e| JournalError::io(&dir, e))?;
        let path = lock_path(state_dir, issue_id);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| JournalError::io(&path, e))?;
        // An advisory lock (flock) that the system drops when the process ends, however it ends.
        if file.try_lock().is_err() {
            return Err(JournalError::Locked { lock: path });
        }
        Ok(IssueLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::journal::{Journal, JournalId, Record, Status};
    use crate::list::address::AddressKey;

    fn id(issue: &str, list: &str) -> JournalId {
        JournalId {
            issue: issue.into(),
            list: list.into(),
            fingerprint: "aaaa".into(),
        }
    }

    fn accepted(email: &str) -> Record {
        Record::Accepted {
            key: AddressKey::of(email),
            reply: "250 2.0.0 Ok".into(),
        }
    }

    /// Write one run into `path` under the issue's lock: `records` in round `round`.
    fn write(state: &Path, path: &Path, issue: &str, round: u32, records: &[Record]) {
        let lock = IssueLock::acquire(state, issue).unwrap();
        let mut j = Journal::begin(lock, path, &id(issue, "lists/m.csv"), round).unwrap();
        for r in records {
            j.append(r).unwrap();
        }
        j.sync().unwrap();
    }

    #[test]
    fn paths_are_per_issue_and_shard_not_per_list() {
        let state = Path::new("/p/.bulletin");
        assert_eq!(
            path_for(state, "2023-09", None),
            state.join("journals/2023-09.jsonl")
        );
        assert_eq!(
            path_for(state, "2023-09", Some(Shard { k: 2, n: 4 })),
            state.join("journals/2023-09--shard2of4.jsonl")
        );
        assert_eq!(
            lock_path(state, "2023 09"),
            state.join("journals/2023_09.lock")
        );
    }

    #[test]
    fn every_file_of_the_issue_is_found_by_name_or_header() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let journals = journals_dir(state);
        std::fs::create_dir_all(&journals).unwrap();
        let own = path_for(state, "2023-09", None);
        write(state, &own, "2023-09", 1, &[]);
        // an old per-list journal, a shard copied in under another name, another issue
        let old = journals.join("2023-09--members-1a2b3c4d.jsonl");
        write(state, &old, "2023-09", 1, &[]);
        let copied = journals.join("from-machine-b.jsonl");
        write(state, &copied, "2023-09", 1, &[]);
        let other = path_for(state, "2023-10", None);
        write(state, &other, "2023-10", 1, &[]);
        // named like the issue but holding another one: not ours
        let lookalike = journals.join("2023-09--x.jsonl");
        write(state, &lookalike, "2023-09--x", 1, &[]);
        // an empty file named after the issue is ours (and empty)
        let empty = journals.join("2023-09--shard1of2.jsonl");
        std::fs::write(&empty, "").unwrap();
        let mut want = vec![own, old, copied, empty];
        want.sort();
        assert_eq!(journals_of(state, "2023-09").unwrap(), want);
        assert!(journals_of(&state.join("none"), "x").unwrap().is_empty());
    }

    #[test]
    fn files_merge_into_one_standing_per_member() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let a = journals_dir(state).join("2023-09--a-00000000.jsonl");
        let b = path_for(state, "2023-09", None);
        let deferred = |e: &str| Record::Deferred {
            key: AddressKey::of(e),
            text: "421".into(),
        };
        write(
            state,
            &a,
            "2023-09",
            1,
            &[
                accepted("ann@example.org"),
                Record::attempt("bob@example.org", 3),
                deferred("cy@example.org"),
            ],
        );
        write(
            state,
            &b,
            "2023-09",
            1,
            &[
                deferred("ann@example.org"),
                deferred("bob@example.org"),
                Record::attempt("cy@example.org", 4),
                accepted("di@example.org"),
            ],
        );
        let merged = read(state, "2023-09").unwrap();
        assert_eq!(merged.round(), 1);
        // accepted anywhere stays accepted; a cut-off attempt outweighs a deferral elsewhere
        assert_eq!(merged.status_of("ann@example.org"), Some(Status::Accepted));
        assert_eq!(merged.status_of("bob@example.org"), Some(Status::Uncertain));
        assert_eq!(merged.status_of("cy@example.org"), Some(Status::Uncertain));
        assert_eq!(merged.status_of("di@example.org"), Some(Status::Accepted));
        assert_eq!(merged.counts().accepted, 2);
        assert_eq!(merged.runs().len(), 2);
        let cut: Vec<String> = merged.uncertain().into_iter().map(|u| u.email).collect();
        assert_eq!(cut, ["bob@example.org", "cy@example.org"]);
    }

    #[test]
    fn a_new_round_in_any_file_makes_everyone_due_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let a = path_for(state, "n", Some(Shard { k: 1, n: 2 }));
        let b = path_for(state, "n", Some(Shard { k: 2, n: 2 }));
        write(state, &a, "n", 1, &[accepted("ann@example.org")]);
        write(state, &b, "n", 1, &[accepted("bob@example.org")]);
        write(state, &a, "n", 2, &[accepted("cy@example.org")]);
        // whatever the order of the files
        for files in [[&a, &b], [&b, &a]] {
            let files: Vec<PathBuf> = files.iter().map(|p| p.to_path_buf()).collect();
            let merged = read_merged(&files).unwrap();
            assert_eq!(merged.round(), 2);
            assert_eq!(merged.status_of("ann@example.org"), None);
            assert_eq!(merged.status_of("bob@example.org"), None);
            assert_eq!(merged.status_of("cy@example.org"), Some(Status::Accepted));
        }
    }

    #[test]
    fn one_send_of_an_issue_at_a_time_whatever_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let first = IssueLock::acquire(dir.path(), "n1").unwrap();
        let err = IssueLock::acquire(dir.path(), "n1").unwrap_err();
        let lock = lock_path(dir.path(), "n1");
        assert!(matches!(&err, JournalError::Locked { lock: l } if *l == lock));
        assert_eq!(
            err.to_string(),
            format!(
                "another send of this issue is running (it holds the lock {})",
                lock.display()
            )
        );
        // another issue is not held up
        assert!(IssueLock::acquire(dir.path(), "n2").is_ok());
        drop(first);
        assert!(IssueLock::acquire(dir.path(), "n1").is_ok());
    }
}
