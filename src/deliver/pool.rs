//! [`deliver`]: a pool of long-lived SMTP connections working through a queue of [`Job`]s.
//!
//! Each of `connections` workers holds one connection and takes jobs one at a time. For each job:
//! an [`Event::Attempt`]; then tries, each going through the same stages (a connection, the rate
//! limiter, MAIL FROM / RCPT TO / DATA, a wait until the caller has made this worker's earlier
//! outcomes durable, the message text and its final `.`), until one ends the job; then an
//! [`Event::Done`].
//!
//! # Accounting
//!
//! Every job `deliver` takes from the channel ends in exactly one [`Event::Done`], whatever
//! happens: accepted, refused for good, refused for now after the retries, uncertain, or not
//! sent at all because the run stopped (then the outcome is [`Outcome::not_sent`]: `Refused`
//! with `permanent: false`, no code, and a text starting with `not sent:` and the reason). When
//! `deliver` stops early it closes the job channel, so jobs the caller had not yet handed over
//! come back to it as send errors: they were never taken, and no event names them.
//!
//! # Durability
//!
//! A worker never sends a message's final `.` (the moment the server takes responsibility for
//! it) before the `durable` sender of every earlier `Done` of that worker has fired; the
//! transaction's first commands may go out meanwhile. The caller fires it once the outcome is
//! on disk, at the latest when the worker asks with [`Event::Waiting`] (so one disk sync can
//! cover the outcomes of many connections). So a crash
//! loses the outcome of at most one accepted message per connection. Dropping a `durable`
//! sender without firing it means the outcome could not be recorded: the run stops
//! ([`DeliverError::Unrecorded`]). The caller must fire each `durable` promptly; workers wait
//! for it.
//!
//! # Failures
//!
//! - 5xx to RCPT, DATA or the message: [`Outcome::Refused`] with `permanent: true`, no retry;
//!   the connection is reset (RSET) and kept.
//! - 4xx (421 included), a dropped connection, a timeout, before the message's final `.` was
//!   written in full: the connection is dropped and the job retried on a fresh one after an
//!   exponential backoff with jitter, up to `retries` times; then `Refused` with
//!   `permanent: false`. A 4xx reply to the final `.` is such a refusal too.
//! - No reply to the final `.` once it was written in full (the reply's own timeout,
//!   `data_timeout`, ran out; the server hung up; the reply could not be read):
//!   [`Outcome::Uncertain`]. The server may have taken the message, so it is never sent again
//!   by this run; the connection is dropped.
//! - A worker that cannot connect after `retries` tries while other workers hold connections
//!   (a server limiting connections per client) hands its job back and retires. Workers stay
//!   until every job taken has ended, so a job handed back is always picked up by one of them.
//! - A problem no retry can fix stops the whole run with a [`DeliverError`] naming the server:
//!   the server cannot be reached after `retries` further tries, a 5xx greeting or EHLO, TLS
//!   required but not offered, an invalid certificate, AUTH refused, the sender (MAIL FROM)
//!   refused.
//!
//! # Cancellation
//!
//! [`Cancel::cancel`] (e.g. on Ctrl-C) starts no new transaction and lets messages whose final
//! `.` is already on its way finish; a transaction not yet that far is abandoned (the server
//! discards it). Every other job taken gets its `Done` ([`Outcome::not_sent`]), and `deliver`
//! returns `Ok`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, mpsc, oneshot, watch};

use super::rate::RateLimiter;
use super::smtp::{ConnectError, Connection, Failure, Fatal, TxError, reply_line};
use super::target::SmtpTarget;

/// One message to one recipient.
#[derive(Debug, Clone)]
pub struct Job {
    /// The caller's key for this job; events name it.
    pub id: u64,
    /// Envelope sender (MAIL FROM): the bounce address.
    pub from: String,
    /// Envelope recipient (RCPT TO).
    pub to: String,
    /// The whole message, headers and body, CRLF line ends.
    pub bytes: Arc<[u8]>,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took the message; `reply` is its answer to the final `.`
    /// (`250 2.0.0 Ok: queued as 4Xyz`).
    Accepted { reply: String },
    /// The server refused it (`code` and `enhanced` are from its reply), or it could not be sent.
    /// `permanent: false` means a later run may succeed.
    Refused {
        permanent: bool,
        code: Option<u16>,
        enhanced: Option<String>,
        text: String,
    },
    /// The message and its final `.` were written in full, but no reply came (`text` says
    /// what happened instead): the server may or may not have taken it. Never retried by the
    /// run that sent it.
    Uncertain { text: String },
}

impl Outcome {
    /// The outcome of a job the run stopped before sending.
    pub fn not_sent(reason: &str) -> Outcome {
        Outcome::Refused {
            permanent: false,
            code: None,
            enhanced: None,
            text: format!("not sent: {reason}"),
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, Outcome::Accepted { .. })
    }

    /// Whether this is [`Outcome::not_sent`]: the run stopped before the job was tried to
    /// its end.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Outcome::Refused { code: None, text, .. } if text.starts_with("not sent:"))
    }

    /// The server's reply (`451 4.7.1 try later`), or what went wrong.
    pub fn reply(&self) -> String {
        match self {
            Outcome::Accepted { reply } => reply.clone(),
            Outcome::Refused { code, text, .. } => reply_line(*code, text),
            Outcome::Uncertain { text } => text.clone(),
        }
    }

    pub fn is_uncertain(&self) -> bool {
        matches!(self, Outcome::Uncertain { .. })
    }

    fn from_failure(f: Failure) -> Outcome {
        Outcome::Refused {
            permanent: f.permanent,
            code: f.code,
            enhanced: f.enhanced,
            text: f.text,
        }
    }
}

/// What [`deliver`] reports while it works.
#[derive(Debug)]
pub enum Event {
    /// A worker is about to try this job. It comes again if the job is handed to another
    /// connection (when a worker cannot connect while others can).
    Attempt { id: u64 },
    /// Try number `attempt` (of at most `of`) failed for a reason worth retrying; the job
    /// tries again in `wait`.
    Retrying {
        id: u64,
        attempt: u32,
        of: u32,
        wait: Duration,
        reason: String,
    },
    /// The job is over. Fire `durable` once `outcome` is on disk: at once, or at the latest
    /// when a [`Event::Waiting`] follows.
    Done {
        id: u64,
        outcome: Outcome,
        durable: oneshot::Sender<()>,
    },
    /// A worker is about to end a message and waits for its earlier outcomes: make every
    /// outcome received so far durable and fire their `durable` senders. Sent only while some
    /// of that worker's `durable` senders are unfired, and after its `Done`s (one worker's
    /// events arrive in order), so a caller may put off its disk syncs until asked and sync
    /// many outcomes at once.
    Waiting,
}

/// Held while one try runs; dropping it tells the throttle the try is over.
pub type TryGuard<'a> = Box<dyn Send + 'a>;

/// Something that paces sends: `acquire` returns when the next message may go. Asked right
/// before each try's MAIL FROM; its guard is held until the try is over.
pub trait Throttle: Send + Sync {
    fn acquire(&self) -> Pin<Box<dyn Future<Output = TryGuard<'_>> + Send + '_>>;
}

impl Throttle for RateLimiter {
    fn acquire(&self) -> Pin<Box<dyn Future<Output = TryGuard<'_>> + Send + '_>> {
        Box::pin(async move { Box::new(RateLimiter::acquire(self).await) as TryGuard<'_> })
    }
}

/// A stop request shared by clones: once cancelled, stays cancelled.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel(Arc::new(watch::Sender::new(false)))
    }
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once [`Cancel::cancel`] was called.
    pub async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives as long as `self`, so this only ends when cancelled.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// How [`deliver`] works.
#[derive(Clone)]
pub struct PoolOptions {
    /// Connections (and worker tasks) at once; at least 1.
    pub connections: usize,
    /// How many times a transient failure is retried.
    pub retries: u32,
    /// Paces every try (e.g. `crate::deliver::rate::RateLimiter`).
    pub limiter: Option<Arc<dyn Throttle>>,
    /// The longest wait for a connection or any one reply but the one to a message's final
    /// `.` (use `SmtpTarget::timeout`).
    pub timeout: Duration,
    /// The longest wait for the reply to a message's final `.` (use
    /// `SmtpTarget::data_timeout`; RFC 5321 §4.5.3.2 gives it 10 minutes).
    pub data_timeout: Duration,
    /// The wait before the first retry; it doubles with each further retry (with jitter).
    pub backoff: Duration,
    /// No retry of a job starts later than this after its first try began, however many
    /// retries remain (a try under way still has its `timeout`).
    pub retry_for: Duration,
    /// Stop the run once this many jobs in a row ended deferred (a temporary refusal that
    /// outlasted its retries) with none accepted or refused for good between them: the server
    /// is turning everything away for now. 0: never.
    pub give_up_after: usize,
    /// Stop after the transactions in flight.
    pub cancel: Cancel,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            connections: 4,
            retries: 3,
            limiter: None,
            timeout: Duration::from_secs(60),
            data_timeout: Duration::from_secs(600),
            backoff: Duration::from_secs(2),
            retry_for: Duration::from_secs(120),
            give_up_after: 0,
            cancel: Cancel::new(),
        }
    }
}

impl std::fmt::Debug for PoolOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolOptions")
            .field("connections", &self.connections)
            .field("retries", &self.retries)
            .field("limiter", &self.limiter.is_some())
            .field("timeout", &self.timeout)
            .field("data_timeout", &self.data_timeout)
            .field("backoff", &self.backoff)
            .field("retry_for", &self.retry_for)
            .field("give_up_after", &self.give_up_after)
            .finish()
    }
}

/// Why a run stopped before its end. Every variant about the server names it as `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    #[error("cannot deliver through {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error(
        "{server} does not offer STARTTLS and this connection requires TLS (use smtps:// if the server speaks TLS from the start; set `allow_insecure = true` in [smtp] only for a relay you trust)"
    )]
    TlsNotOffered { server: String },
    #[error(
        "TLS with {server} failed: {reason} (a certificate from a company or private CA is trusted once [smtp] ca_file names that CA's certificate; a self-signed test relay can be listed in [smtp] insecure_skip_verify_hosts)"
    )]
    Tls { server: String, reason: String },
    #[error("{server}: {reason}")]
    WrongScheme { server: String, reason: String },
    #[error("{server} refused the login: {reason}")]
    Auth { server: String, reason: String },
    #[error("{server} refused the session at {stage}: {reply}")]
    Refused {
        server: String,
        stage: &'static str,
        reply: String,
    },
    #[error("{server} refused the sender <{from}>: {reply}")]
    SenderRefused {
        server: String,
        from: String,
        reply: String,
    },
    #[error(
        "{server} deferred {count} messages in a row, the last with: {reply}; stopped (the members not yet sent stay due: run the same command again later)"
    )]
    Deferring {
        server: String,
        count: usize,
        reply: String,
    },
    #[error("invalid envelope sender {reason}")]
    BadSender { reason: String },
    #[error("delivery events are no longer received; stopped")]
    EventsClosed,
    #[error("an outcome could not be recorded; stopped")]
    Unrecorded,
}

impl DeliverError {
    fn from_fatal(server: String, f: Fatal) -> DeliverError {
        match f {
            Fatal::TlsNotOffered => DeliverError::TlsNotOffered { server },
            Fatal::Tls(reason) => DeliverError::Tls { server, reason },
            Fatal::Auth(reason) => DeliverError::Auth { server, reason },
            Fatal::WrongScheme(reason) => DeliverError::WrongScheme { server, reason },
            Fatal::Refused { stage, reply } => DeliverError::Refused {
                server,
                stage,
                reply,
            },
        }
    }
}

/// Deliver every job from `jobs` through `target`, reporting on `events`; see the module docs
/// for the guarantees. Returns when the job channel is closed and drained and every job taken
/// has ended, when cancelled, or on the first problem that stops the run.
pub async fn deliver(
    target: &SmtpTarget,
    jobs: mpsc::Receiver<Job>,
    opts: PoolOptions,
    events: mpsc::Sender<Event>,
) -> Result<(), DeliverError> {
    let connections = opts.connections.max(1);
    let shared = Arc::new(Shared {
        server: target.to_string(),
        target: target.clone(),
        jobs: Mutex::new(jobs),
        events,
        opts,
        halt: Cancel::new(),
        fatal: std::sync::Mutex::new(None),
        queue: std::sync::Mutex::new(Queue::default()),
        queue_changed: Notify::new(),
        live: AtomicUsize::new(0),
        deferred_in_a_row: AtomicUsize::new(0),
    });

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let worker = Worker {
            shared: Arc::clone(&shared),
            conn: None,
            pending: Vec::new(),
        };
        workers.spawn(worker.run());
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    // Jobs still queued when the run stopped: account for each, then refuse further ones.
    let mut rx = shared.jobs.lock().await;
    rx.close();
    let mut left: Vec<Job> = shared.lock_queue().handed_back.drain(..).collect();
    loop {
        let job = match left.pop() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        let reason = shared.stop_reason();
        let (durable, _) = oneshot::channel();
        let done = Event::Done {
            id: job.id,
            outcome: Outcome::not_sent(&reason),
            durable,
        };
        if shared.events.send(done).await.is_err() {
            shared.fail(DeliverError::EventsClosed);
            break;
        }
    }
    drop(rx);

    let fatal = shared
        .fatal
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Shared {
    server: String,
    target: SmtpTarget,
    jobs: Mutex<mpsc::Receiver<Job>>,
    events: mpsc::Sender<Event>,
    opts: PoolOptions,
    /// Set when the run must stop (a fatal error).
    halt: Cancel,
    fatal: std::sync::Mutex<Option<DeliverError>>,
    queue: std::sync::Mutex<Queue>,
    /// Woken when a job is handed back, a job ends, or the channel turns out drained.
    queue_changed: Notify,
    /// Open connections.
    live: AtomicUsize,
    /// Jobs that ended deferred since the last one accepted or refused for good.
    deferred_in_a_row: AtomicUsize,
}

/// What decides whether an idle worker may leave.
#[derive(Default)]
struct Queue {
    /// Jobs handed back by a worker that could not connect while others could.
    handed_back: VecDeque<Job>,
    /// Jobs taken and not yet ended (or handed back): each may still be handed back.
    busy: usize,
    /// The job channel is closed and empty.
    drained: bool,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.halt.is_cancelled() || self.opts.cancel.is_cancelled()
    }

    async fn stopped(&self) {
        tokio::select! {
            _ = self.halt.cancelled() => {}
            _ = self.opts.cancel.cancelled() => {}
        }
    }

    fn stop_reason(&self) -> String {
        let fatal = self
            .fatal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match fatal.as_ref() {
            Some(e) => format!("the run stopped: {e}"),
            None => "the run was interrupted".to_string(),
        }
    }

    /// Record the first fatal error and stop every worker.
    fn fail(&self, e: DeliverError) {
        let mut fatal = self
            .fatal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if fatal.is_none() {
            *fatal = Some(e);
        }
        drop(fatal);
        self.halt.cancel();
    }

    async fn emit(&self, event: Event) -> bool {
        if self.events.send(event).await.is_err() {
            self.fail(DeliverError::EventsClosed);
            return false;
        }
        true
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next job for an idle worker: one handed back first, else the channel's next. `None`
    /// when the run stops, or when the channel is drained and no job is left that could still
    /// be handed back.
    async fn next_job(&self) -> Option<Job> {
        loop {
            // Registered before the queue is looked at, so no change after the look is missed.
            let mut changed = std::pin::pin!(self.queue_changed.notified());
            changed.as_mut().enable();
            if self.stopping() {
                return None;
            }
            let drained = {
                let mut queue = self.lock_queue();
                if let Some(job) = queue.handed_back.pop_front() {
                    queue.busy += 1;
                    return Some(job);
                }
                if queue.drained && queue.busy == 0 {
                    return None;
                }
                queue.drained
            };
            if drained {
                tokio::select! {
                    _ = self.stopped() => return None,
                    _ = changed => continue,
                }
            }
            let mut rx = tokio::select! {
                biased;
                _ = self.stopped() => return None,
                _ = changed.as_mut() => continue,
                rx = self.jobs.lock() => rx,
            };
            tokio::select! {
                biased;
                _ = self.stopped() => return None,
                _ = changed => continue,
                job = rx.recv() => {
                    // Counted while the channel is held: whoever finds it drained has seen
                    // every job taken from it counted as busy.
                    let mut queue = self.lock_queue();
                    match job {
                        Some(job) => {
                            queue.busy += 1;
                            return Some(job);
                        }
                        None => queue.drained = true,
                    }
                    drop(queue);
                    self.queue_changed.notify_waiters();
                }
            }
        }
    }

    /// A job taken by [`Shared::next_job`] is over: ended, or `handed_back` for another worker.
    fn job_over(&self, handed_back: Option<Job>) {
        let mut queue = self.lock_queue();
        queue.busy -= 1;
        let wake = queue.drained || handed_back.is_some();
        if let Some(job) = handed_back {
            queue.handed_back.push_back(job);
        }
        drop(queue);
        if wake {
            self.queue_changed.notify_waiters();
        }
    }
}

/// An open connection, counted in [`Shared::live`] while it exists.
struct Live {
    conn: Connection,
    shared: Arc<Shared>,
}

impl Live {
    fn new(conn: Connection, shared: &Arc<Shared>) -> Live {
        shared.live.fetch_add(1, Ordering::SeqCst);
        Live {
            conn,
            shared: Arc::clone(shared),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.shared.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What one try of a job came to.
enum Try {
    /// The job is over.
    Done(Outcome),
    /// No connection could be had: worth another try after the backoff.
    NoConnection(Failure),
    /// The transaction broke down before the final `.` was written in full (or the server
    /// answered it with a 4xx): worth another try on a fresh connection after the backoff.
    Broken(Failure),
    /// The run is stopping and this try sent nothing.
    Stopped,
}

struct Worker {
    shared: Arc<Shared>,
    conn: Option<Live>,
    /// `durable` receivers of this worker's outcomes not yet known to be on disk.
    pending: Vec<oneshot::Receiver<()>>,
}

impl Worker {
    async fn run(mut self) {
        while let Some(job) = self.shared.next_job().await {
            let handed_back = self.deliver_one(job).await;
            let retire = handed_back.is_some();
            self.shared.job_over(handed_back);
            if retire {
                // This worker cannot connect while others can (e.g. the server limits
                // connections per client): its job went back to them.
                return;
            }
        }
        if let Some(mut live) = self.conn.take() {
            live.conn.quit().await;
        }
    }

    /// Report a job's end.
    async fn done(&mut self, id: u64, outcome: Outcome) {
        self.count_deferrals(&outcome);
        let (durable, rx) = oneshot::channel();
        if self
            .shared
            .emit(Event::Done {
                id,
                outcome,
                durable,
            })
            .await
        {
            self.pending.push(rx);
        }
    }

    /// Keep count of jobs deferred in a row; stop the run when the server has turned away
    /// `give_up_after` of them with nothing taken between.
    fn count_deferrals(&self, outcome: &Outcome) {
        let shared = &self.shared;
        let limit = shared.opts.give_up_after;
        match outcome {
            Outcome::Accepted { .. }
            | Outcome::Refused {
                permanent: true, ..
            } => {
                shared.deferred_in_a_row.store(0, Ordering::SeqCst);
            }
            // Not tried to the end, or no answer: says nothing about the server's will.
            Outcome::Uncertain { .. } => {}
            o if o.is_not_sent() => {}
            Outcome::Refused { .. } => {
                let n = shared.deferred_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
                if limit > 0 && n >= limit && !shared.stopping() {
                    shared.fail(DeliverError::Deferring {
                        server: shared.server.clone(),
                        count: n,
                        reply: outcome.reply(),
                    });
                }
            }
        }
    }

    /// Wait until every earlier outcome of this worker is on disk, asking the caller for it
    /// ([`Event::Waiting`]) when some are not yet.
    async fn wait_durable(&mut self) -> bool {
        let mut unfired = Vec::with_capacity(self.pending.len());
        for mut rx in self.pending.drain(..) {
            match rx.try_recv() {
                Ok(()) => {}
                Err(oneshot::error::TryRecvError::Empty) => unfired.push(rx),
                Err(oneshot::error::TryRecvError::Closed) => return false,
            }
        }
        if unfired.is_empty() {
            return true;
        }
        // If the caller is gone, its senders are dropped and the waits below fail.
        self.shared.emit(Event::Waiting).await;
        for rx in unfired {
            if rx.await.is_err() {
                return false;
            }
        }
        true
    }

    /// The wait before retry number `attempt` (1-based): doubling, capped, with jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.shared.opts.backoff;
        let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = doubled.min(Duration::from_secs(300)).max(base);
        capped.mul_f64(rand::random_range(0.5..=1.0))
    }

    /// Announce and wait out the backoff before the next try; `false` if the run is no
    /// longer listening.
    async fn retry(&mut self, id: u64, attempt: u32, wait: Duration, failure: &Failure) -> bool {
        let reason = format!("{}: {}", self.shared.server, failure.reply());
        if !self
            .shared
            .emit(Event::Retrying {
                id,
                attempt,
                of: self.shared.opts.retries.saturating_add(1),
                wait,
                reason,
            })
            .await
        {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.shared.stopped() => {}
        }
        true
    }

    /// Take one job to its single `Done`, or give it back (`Some`) when this worker cannot
    /// connect but others hold connections.
    ///
    /// Tries until one ends the job ([`Worker::try_once`]); a transient failure is tried again
    /// after the backoff while retries remain and the retry would start within `retry_for` of
    /// the first try. If the run stops meanwhile, the job ends with
    /// its last failure, or as not sent.
    async fn deliver_one(&mut self, job: Job) -> Option<Job> {
        let shared = Arc::clone(&self.shared);
        if !shared.emit(Event::Attempt { id: job.id }).await {
            return None;
        }
        let mut failures = 0u32;
        let started = std::time::Instant::now();
        // What the job comes to if the run stops while it waits for a retry.
        let mut last: Option<Outcome> = None;
        let outcome = loop {
            let tried = if shared.stopping() {
                Try::Stopped
            } else {
                self.try_once(&job).await
            };
            // The failure, what the job comes to if it is not tried again, and whether the try
            // failed for want of a connection.
            let (failure, unsent, connecting) = match tried {
                Try::Done(outcome) => break outcome,
                Try::Stopped => {
                    break last.unwrap_or_else(|| Outcome::not_sent(&shared.stop_reason()));
                }
                Try::Broken(f) => {
                    let unsent = Outcome::from_failure(f.clone());
                    (f, unsent, false)
                }
                Try::NoConnection(f) => {
                    let reason = format!("cannot connect to {}: {}", shared.server, f.reply());
                    (f, Outcome::not_sent(&reason), true)
                }
            };
            failures += 1;
            let wait = self.backoff(failures);
            let exhausted =
                failures > shared.opts.retries || started.elapsed() + wait > shared.opts.retry_for;
            if connecting
                && exhausted
                && shared.live.load(Ordering::SeqCst) > 0
                && !shared.stopping()
            {
                return Some(job);
            }
            if exhausted || !self.retry(job.id, failures, wait, &failure).await {
                if connecting && exhausted {
                    shared.fail(DeliverError::Unreachable {
                        server: shared.server.clone(),
                        reason: failure.reply(),
                    });
                }
                break unsent;
            }
            last = Some(unsent);
        };
        self.done(job.id, outcome).await;
        None
    }

    /// One try: a connection, the limiter, the transaction up to DATA, the wait for earlier
    /// outcomes to be durable, the message and its final `.`.
    async fn try_once(&mut self, job: &Job) -> Try {
        let shared = Arc::clone(&self.shared);
        let mut live = match self.conn.take() {
            Some(live) => live,
            None => match self.connect().await {
                Ok(live) => live,
                Err(t) => return t,
            },
        };

        let limiter = shared.opts.limiter.clone();
        let _permit = match &limiter {
            Some(limiter) => tokio::select! {
                permit = limiter.acquire() => Some(permit),
                _ = shared.stopped() => {
                    self.conn = Some(live);
                    return Try::Stopped;
                }
            },
            None => None,
        };

        if let Err(e) = live.conn.begin(&job.from, &job.to, &job.bytes).await {
            return self.failed(live, job, e);
        }
        // No final `.` before every earlier outcome of this worker is on disk: so at most one
        // accepted message per connection can be missing from the journal. Waiting here, not
        // before MAIL FROM, lets the journal's sync overlap the transaction's first round trips.
        if !self.wait_durable().await {
            shared.fail(DeliverError::Unrecorded);
        }
        if shared.stopping() {
            // Leave without the final `.` (the connection is dropped): the server discards
            // the transaction.
            return Try::Done(Outcome::not_sent(&shared.stop_reason()));
        }
        match live.conn.finish(&job.bytes).await {
            Ok(reply) => {
                self.conn = Some(live);
                Try::Done(Outcome::Accepted { reply })
            }
            Err(e) => self.failed(live, job, e),
        }
    }

    /// Open a connection, or say why there is none.
    async fn connect(&mut self) -> Result<Live, Try> {
        let shared = &self.shared;
        let opened = Connection::open(
            &shared.target,
            shared.opts.timeout,
            shared.opts.data_timeout,
        )
        .await;
        match opened {
            Ok(conn) => Ok(Live::new(conn, shared)),
            Err(ConnectError::Fatal(f)) => {
                shared.fail(DeliverError::from_fatal(shared.server.clone(), f));
                Err(Try::Done(Outcome::not_sent(&shared.stop_reason())))
            }
            Err(ConnectError::Transient(f)) => Err(Try::NoConnection(f)),
        }
    }

    /// What a failed transaction comes to; the connection is kept only while it is usable.
    fn failed(&mut self, live: Live, job: &Job, error: TxError) -> Try {
        let shared = &self.shared;
        match error {
            TxError::Refused(f) => {
                if !live.conn.is_broken() {
                    self.conn = Some(live);
                }
                Try::Done(Outcome::from_failure(f))
            }
            TxError::SenderRefused(f) => {
                self.conn = Some(live);
                shared.fail(DeliverError::SenderRefused {
                    server: shared.server.clone(),
                    from: job.from.clone(),
                    reply: f.reply(),
                });
                Try::Done(Outcome::not_sent(&shared.stop_reason()))
            }
            TxError::BadSender(reason) => {
                self.conn = Some(live);
                shared.fail(DeliverError::BadSender { reason });
                Try::Done(Outcome::not_sent(&shared.stop_reason()))
            }
            TxError::Broken(f) => Try::Broken(f),
            TxError::Uncertain(f) => Try::Done(Outcome::Uncertain {
                text: format!(
                    "sent, but {} did not answer the final `.`: {}",
                    shared.server,
                    f.reply()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_sent_is_a_temporary_refusal_without_code() {
        let o = Outcome::not_sent("the run was interrupted");
        assert_eq!(
            o,
            Outcome::Refused {
                permanent: false,
                code: None,
                enhanced: None,
                text: "not sent: the run was interrupted".into()
            }
        );
        assert!(!o.is_accepted());
    }

    #[tokio::test]
    async fn cancel_is_shared_and_sticky() {
        let c = Cancel::new();
        let c2 = c.clone();
        assert!(!c2.is_cancelled());
        let waiter = tokio::spawn(async move { c2.cancelled().await });
        c.cancel();
        waiter.await.unwrap();
        assert!(c.is_cancelled());
        c.cancelled().await;
    }
}
