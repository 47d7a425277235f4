//! Recording unsubscribes durably, many at once: requests queue up while the disk syncs the
//! previous batch, and the next batch is written with one write and synced with one sync
//! (group commit). A request is answered only once its line is on disk.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::list::csv_escape::csv_line;
use crate::list::suppression::{self, RESUBSCRIBE, UNSUBSCRIBE};

/// What a member asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Unsubscribe,
    /// Undo the member's unsubscribes (and nothing else).
    Resubscribe,
}

impl Action {
    /// The `source` column of the suppression list.
    pub fn source(self) -> &'static str {
        match self {
            Action::Unsubscribe => UNSUBSCRIBE,
            Action::Resubscribe => RESUBSCRIBE,
        }
    }
}

struct Job {
    line: String,
    done: oneshot::Sender<Result<(), String>>,
}

/// Appends to the suppression list from one writer thread; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

/// The most lines written and synced together.
const MAX_BATCH: usize = 8192;

impl Recorder {
    /// Open the suppression list at `path` (creating it) and start the writer thread.
    pub fn start(path: &Path) -> io::Result<Recorder> {
        let mut file = suppression::open_for_append(path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("unsubscribe-recorder".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => batch.push(j),
                            Err(_) => break,
                        }
                    }
                    let text: String = batch.iter().map(|j| j.line.as_str()).collect();
                    let result = file
                        .write_line(&text)
                        .and_then(|()| file.sync())
                        .map_err(|e| e.to_string());
                    for j in batch {
                        let _ = j.done.send(result.clone());
                    }
                }
            })?;
        Ok(Recorder {
            jobs: tx,
            path: path.to_path_buf(),
        })
    }

    /// The file recorded into.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record `action` for `email` and return once it is on disk.
    pub async fn record(&self, email: &str, action: Action, reason: &str) -> io::Result<()> {
        let time = crate::list::now_rfc3339();
        let line = csv_line([email.trim(), reason, action.source(), time.as_str()]);
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { line, done })
            .map_err(|_| io::Error::other("the recorder has stopped"))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io::Error::other(e)),
            Err(_) => Err(io::Error::other("the recorder has stopped")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::Suppression;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_records_all_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        let r = Recorder::start(&path).unwrap();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                r.record(
                    &format!("m{i}@example.org"),
                    Action::Unsubscribe,
                    "unsubscribed",
                )
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        r.record("m7@example.org", Action::Resubscribe, "undone")
            .await
            .unwrap();
        let s = Suppression::load(&path).unwrap();
        assert_eq!(s.len(), 199);
        assert!(s.is_unsubscribed("m0@example.org"));
        assert!(!s.contains("m7@example.org"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("email,reason,source,time\n"));
    }
}
