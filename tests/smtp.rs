//! The delivery engine against real SMTP servers on loopback: Postfix's smtp-sink for whole-
//! command faults, the in-process server for per-recipient replies, TLS and AUTH.
//!
//! Every run goes through [`run`], which also checks the accounting rule: each job ends in
//! exactly one `Done`, or was never taken by `deliver` (its send into the channel failed).

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bulletin::config;
use bulletin::deliver::rate::{Rate, RateLimiter};
use bulletin::deliver::{
    Cancel, DeliverError, Event, Job, Outcome, PoolOptions, Secret, SmtpTarget, Throttle, deliver,
};
use support::{Action, ServerConfig, SmtpSink, Stage, TestServer, free_port};
use tokio::sync::mpsc;

const FROM: &str = "bounces@news.test";

fn message(id: u64, to: &str) -> Arc<[u8]> {
    format!(
        "From: Cluster News <news@news.test>\r\nTo: {to}\r\nSubject: Issue {id}\r\n\
         Message-ID: <{id}@news.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello {to},\r\n\
         .a line starting with a dot\r\nbye\r\n"
    )
    .into_bytes()
    .into()
}

fn job(id: u64, to: &str) -> Job {
    Job {
        id,
        from: FROM.into(),
        to: to.into(),
        bytes: message(id, to),
    }
}

fn jobs(n: u64) -> Vec<Job> {
    (1..=n)
        .map(|i| job(i, &format!("member{i}@example.test")))
        .collect()
}

fn opts(connections: usize, retries: u32) -> PoolOptions {
    PoolOptions {
        connections,
        retries,
        limiter: None,
        timeout: Duration::from_secs(5),
        data_timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        retry_for: Duration::from_secs(600),
        give_up_after: 0,
        cancel: Cancel::new(),
    }
}

fn target(url: &str) -> SmtpTarget {
    SmtpTarget::from_url(url, &config::Smtp::default(), None).expect("valid test URL")
}

/// What a run came to.
#[derive(Default)]
struct Run {
    result: Option<Result<(), DeliverError>>,
    outcomes: HashMap<u64, Outcome>,
    /// Jobs `deliver` never took (the channel was closed).
    returned: Vec<u64>,
    attempts: Vec<u64>,
    retries: HashMap<u64, Vec<String>>,
    /// When each outcome's `durable` was fired.
    fired: HashMap<u64, Instant>,
    /// `Waiting` events.
    waits: usize,
}

impl Run {
    fn result(&self) -> &Result<(), DeliverError> {
        self.result.as_ref().expect("deliver returned")
    }

    fn error(&self) -> DeliverError {
        match self.result() {
            Err(e) => e.clone(),
            Ok(()) => panic!("expected the run to stop with an error"),
        }
    }

    fn accepted(&self) -> usize {
        self.outcomes.values().filter(|o| o.is_accepted()).count()
    }

    fn outcome(&self, id: u64) -> &Outcome {
        self.outcomes
            .get(&id)
            .unwrap_or_else(|| panic!("job {id} has no outcome"))
    }
}

/// How the test plays the caller's part with `durable`.
#[derive(Clone, Copy)]
enum Durable {
    Fire,
    FireAfter(Duration),
    Drop,
    /// Hold every `durable` until a worker sends `Waiting`, then fire all held.
    WhenAsked,
}

async fn run(target: &SmtpTarget, all: Vec<Job>, opts: PoolOptions) -> Run {
    run_with(target, all, opts, Durable::Fire, |_, _| {}).await
}

/// Feed `all` through a small channel, play the caller, check the accounting rule.
async fn run_with(
    target: &SmtpTarget,
    all: Vec<Job>,
    opts: PoolOptions,
    durable: Durable,
    on_done: impl Fn(u64, &Outcome),
) -> Run {
    let ids: Vec<u64> = all.iter().map(|j| j.id).collect();
    let (job_tx, job_rx) = mpsc::channel::<Job>(4);
    let (ev_tx, mut ev_rx) = mpsc::channel::<Event>(16);
    let producer = tokio::spawn(async move {
        let mut returned = Vec::new();
        for j in all {
            if let Err(e) = job_tx.send(j).await {
                returned.push(e.0.id);
            }
        }
        returned
    });
    let collector = async {
        let mut run = Run::default();
        let mut held: Vec<(u64, tokio::sync::oneshot::Sender<()>)> = Vec::new();
        while let Some(ev) = ev_rx.recv().await {
            match ev {
                Event::Attempt { id } => run.attempts.push(id),
                Event::Waiting => {
                    run.waits += 1;
                    for (id, tx) in held.drain(..) {
                        let _ = tx.send(());
                        run.fired.insert(id, Instant::now());
                    }
                }
                Event::Retrying {
                    id,
                    attempt,
                    reason,
                    ..
                } => {
                    let seen = run.retries.entry(id).or_default();
                    assert_eq!(attempt as usize, seen.len() + 1, "retry numbers count up");
                    seen.push(reason);
                }
                Event::Done {
                    id,
                    outcome,
                    durable: tx,
                } => {
                    on_done(id, &outcome);
                    assert!(
                        run.outcomes.insert(id, outcome).is_none(),
                        "job {id} got a second Done"
                    );
                    // The instant is taken before the signal goes out, so what the
                    // server sees after it can never look earlier than the signal.
                    let fire_at = Instant::now() + delay_of(durable);
                    if !matches!(durable, Durable::WhenAsked) {
                        run.fired.insert(id, fire_at);
                    }
                    match durable {
                        Durable::Fire => {
                            let _ = tx.send(());
                        }
                        Durable::FireAfter(_) => {
                            tokio::spawn(async move {
                                tokio::time::sleep_until(fire_at.into()).await;
                                let _ = tx.send(());
                            });
                        }
                        Durable::Drop => drop(tx),
                        Durable::WhenAsked => held.push((id, tx)),
                    }
                }
            }
        }
        run
    };
    let delivered = deliver(target, job_rx, opts, ev_tx);
    let (result, mut run) = tokio::join!(delivered, collector);
    run.result = Some(result);
    run.returned = producer.await.expect("producer");
    // The accounting rule: every job exactly once, as an outcome or as never taken.
    for id in &ids {
        let done = run.outcomes.contains_key(id) as u32;
        let back = run.returned.iter().filter(|r| *r == id).count() as u32;
        assert_eq!(
            done + back,
            1,
            "job {id}: {done} outcomes, returned {back} times"
        );
    }
    assert_eq!(run.outcomes.len() + run.returned.len(), ids.len());
    run
}

fn delay_of(d: Durable) -> Duration {
    match d {
        Durable::FireAfter(d) => d,
        _ => Duration::ZERO,
    }
}

fn assert_refused(o: &Outcome, permanent: bool, code: Option<u16>) {
    match o {
        Outcome::Refused {
            permanent: p,
            code: c,
            ..
        } => {
            assert_eq!(*p, permanent, "{o:?}");
            assert_eq!(*c, code, "{o:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn not_sent(o: &Outcome) -> bool {
    matches!(o, Outcome::Refused { permanent: false, code: None, text, .. } if text.starts_with("not sent:"))
}

// ---------------------------------------------------------------- smtp-sink

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_accepts_every_message_once() {
    let sink = SmtpSink::with_dump(&[]);
    let r = run(&target(&sink.url()), jobs(30), opts(4, 2)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 30);
    assert!(r.retries.is_empty(), "{:?}", r.retries);
    assert_eq!(r.attempts.len(), 30);
    let dumps = sink.dumped();
    assert_eq!(dumps.len(), 30);
    for i in 1..=30 {
        // smtp-sink writes LF line ends.
        let needle = format!("X-Rcpt-Args: <member{i}@example.test>\n");
        let hits = dumps
            .iter()
            .filter(|d| String::from_utf8_lossy(d).contains(&needle))
            .count();
        assert_eq!(hits, 1, "message {i} dumped {hits} times");
    }
    // Dot-stuffing survives the trip.
    assert!(String::from_utf8_lossy(&dumps[0]).contains("\n.a line starting with a dot"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_hard_rcpt_refusal_is_permanent_and_not_retried() {
    let sink = SmtpSink::start(&["-f", "RCPT", "-B", "550 5.1.1 User unknown"]);
    let r = run(&target(&sink.url()), jobs(5), opts(2, 3)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    for i in 1..=5 {
        assert_refused(r.outcome(i), true, Some(550));
        let Outcome::Refused { enhanced, text, .. } = r.outcome(i) else {
            unreachable!()
        };
        assert_eq!(enhanced.as_deref(), Some("5.1.1"));
        assert!(text.contains("User unknown"), "{text}");
    }
    assert!(r.retries.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_soft_rcpt_refusal_is_retried_then_deferred() {
    let sink = SmtpSink::start(&["-r", "RCPT", "-b", "452 4.2.2 Mailbox full"]);
    let r = run(&target(&sink.url()), jobs(3), opts(2, 2)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    for i in 1..=3 {
        assert_refused(r.outcome(i), false, Some(452));
        assert_eq!(r.retries[&i].len(), 2, "two retries for job {i}");
        assert!(r.retries[&i][0].contains(&format!("127.0.0.1:{}", sink.port)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_421_at_each_stage_defers_after_retries() {
    for stage in ["MAIL", "RCPT", "DATA", "."] {
        let sink = SmtpSink::start(&["-Q", stage]);
        let r = run(&target(&sink.url()), jobs(2), opts(2, 1)).await;
        assert!(r.result().is_ok(), "421 at {stage}: {:?}", r.result());
        for i in 1..=2 {
            assert_refused(r.outcome(i), false, Some(421));
            assert_eq!(r.retries[&i].len(), 1, "421 at {stage}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_421_at_greeting_stops_the_run_naming_the_server() {
    let sink = SmtpSink::start(&["-Q", "CONNECT"]);
    let r = run(&target(&sink.url()), jobs(10), opts(2, 1)).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Unreachable { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{}", sink.port)),
        "{e}"
    );
    assert!(e.to_string().contains("421"), "{e}");
    assert_eq!(r.accepted(), 0);
    assert!(r.outcomes.values().all(not_sent), "{:?}", r.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_hang_up_after_the_final_dot_is_uncertain_and_not_retried() {
    let sink = SmtpSink::start(&["-q", "."]);
    let r = run(&target(&sink.url()), jobs(2), opts(1, 1)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    for i in 1..=2 {
        assert!(r.outcome(i).is_uncertain(), "{:?}", r.outcome(i));
    }
    assert!(r.retries.is_empty(), "never sent twice: {:?}", r.retries);
    assert_eq!(r.attempts, vec![1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_throughput_smoke() {
    let sink = SmtpSink::start(&[]);
    let r = run(&target(&sink.url()), jobs(400), opts(8, 1)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 400);
}

// ---------------------------------------------------------------- in-process server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_recipient_replies_keep_the_connection() {
    per_recipient_replies(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_recipient_replies_without_pipelining() {
    per_recipient_replies(false).await;
}

/// Refusals at RCPT and at the end of DATA, and a greylisting, from a server that offers
/// PIPELINING (MAIL, RCPT and DATA then go out together) or does not (one by one).
async fn per_recipient_replies(pipelining: bool) {
    let mut config = ServerConfig::script(|stage, n| match stage {
        Stage::Rcpt(a) if a == "gone@example.test" => {
            Action::Reply("550 5.1.1 <gone@example.test>: Recipient address rejected".into())
        }
        Stage::Rcpt(a) if a == "grey@example.test" && n <= 2 => {
            Action::Reply("451 4.7.1 Greylisted, try again later".into())
        }
        Stage::EndOfData(a) if a == "spam@example.test" => {
            Action::Reply("554 5.7.1 Message rejected as spam".into())
        }
        _ => Action::Normal,
    });
    config.pipelining = pipelining;
    let server = TestServer::start(config).await;
    let all = vec![
        job(1, "a@example.test"),
        job(2, "gone@example.test"),
        job(3, "b@example.test"),
        job(4, "spam@example.test"),
        job(5, "c@example.test"),
        job(6, "grey@example.test"),
    ];
    let r = run(&target(&server.url()), all, opts(1, 3)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert!(r.outcome(1).is_accepted());
    assert_refused(r.outcome(2), true, Some(550));
    let Outcome::Refused { enhanced, .. } = r.outcome(2) else {
        unreachable!()
    };
    assert_eq!(enhanced.as_deref(), Some("5.1.1"));
    assert!(r.outcome(3).is_accepted());
    assert_refused(r.outcome(4), true, Some(554));
    assert!(r.outcome(5).is_accepted());
    assert!(r.outcome(6).is_accepted(), "{:?}", r.outcome(6));
    assert_eq!(r.retries[&6].len(), 2);
    assert!(!r.retries.contains_key(&2), "5xx is not retried");

    let log = server.log();
    // Refusals 2 and 4 were answered on the first connection, which carried on after RSET;
    // only the greylisted retries opened new ones.
    assert_eq!(log.connections, 3, "{:?}", log.commands);
    let first: Vec<&String> = log
        .commands
        .iter()
        .filter(|(c, _)| *c == 1)
        .map(|(_, l)| l)
        .collect();
    assert!(first.iter().any(|l| *l == "RSET"), "{first:?}");
    let mut accepted: Vec<String> = log.accepted().iter().map(|m| m.to[0].clone()).collect();
    accepted.sort();
    assert_eq!(
        accepted,
        [
            "a@example.test",
            "b@example.test",
            "c@example.test",
            "grey@example.test"
        ]
    );
    assert!(log.messages.iter().all(|m| m.from == FROM));
    // Pipelining only where offered: then every MAIL came with its RCPT right behind it.
    let mails = log
        .commands
        .iter()
        .filter(|(_, l)| l.starts_with("MAIL"))
        .count();
    let expected = if pipelining { mails } else { 0 };
    assert_eq!(log.pipelined_mail, expected, "{:?}", log.commands);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_byte_for_byte() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut odd = job(1, "a@example.test");
    // Dots at line starts, a lone dot line, 8-bit text, no final line end.
    odd.bytes = b"Subject: dots\r\n\r\n.\r\n..two\r\nna\xc3\xafve caf\xc3\xa9\r\nend"
        .to_vec()
        .into();
    let all = vec![job(2, "b@example.test"), odd.clone()];
    let r = run(&target(&server.url()), all, opts(1, 0)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    let log = server.log();
    assert_eq!(log.messages[0].data, &job(2, "b@example.test").bytes[..]);
    let mut expected = odd.bytes.to_vec();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(log.messages[1].data, expected);
    assert!(
        log.commands
            .iter()
            .any(|(_, l)| l == "MAIL FROM:<bounces@news.test> BODY=8BITMIME"),
        "{:?}",
        log.commands
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_421_at_each_stage_then_recovery() {
    for (fault, pipelining) in [
        Stage::Greeting,
        Stage::Mail,
        Stage::Rcpt("a@example.test".into()),
        Stage::Data,
        Stage::EndOfData("a@example.test".into()),
    ]
    .into_iter()
    .flat_map(|f| [(f.clone(), true), (f, false)])
    {
        let f = fault.clone();
        let mut config = ServerConfig::script(move |stage, n| {
            if *stage == f && n == 1 {
                Action::Reply("421 4.3.2 Service shutting down".into())
            } else {
                Action::Normal
            }
        });
        config.pipelining = pipelining;
        let server = TestServer::start(config).await;
        let r = run(
            &target(&server.url()),
            vec![job(1, "a@example.test")],
            opts(1, 2),
        )
        .await;
        assert!(r.result().is_ok(), "{fault:?}: {:?}", r.result());
        assert!(r.outcome(1).is_accepted(), "{fault:?}: {:?}", r.outcome(1));
        assert_eq!(r.retries[&1].len(), 1, "{fault:?}");
        assert!(r.retries[&1][0].contains("421"), "{:?}", r.retries[&1]);
        assert_eq!(server.log().connections, 2, "{fault:?}: a fresh connection");
        assert_eq!(server.log().accepted().len(), 1);
    }
}

/// A message bigger than every socket buffer between client and server, so that a server
/// hanging up mid-data cuts the client's write short.
fn big_job(id: u64, to: &str) -> Job {
    let line = "The quick brown fox jumps over the lazy dog, and the newsletter goes out.\r\n";
    let mut text = format!("To: {to}\r\nSubject: big\r\n\r\n");
    while text.len() < 32 << 20 {
        text.push_str(line);
    }
    Job {
        bytes: text.into_bytes().into(),
        ..job(id, to)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_up_before_the_final_dot_is_written_is_retried_on_a_fresh_connection() {
    for (pipelining, starttls) in [(true, false), (false, false), (true, true)] {
        let mut config = ServerConfig::script(|stage, n| match stage {
            Stage::Data if n == 2 => Action::HangUpMidData,
            _ => Action::Normal,
        });
        config.pipelining = pipelining;
        config.starttls = starttls;
        let server = TestServer::start(config).await;
        let all = vec![
            job(1, "a@example.test"),
            big_job(2, "b@example.test"),
            job(3, "c@example.test"),
        ];
        let url = format!("smtp://localhost:{}", server.port);
        let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
        let r = run(&t, all, opts(1, 2)).await;
        assert!(r.result().is_ok(), "{:?}", r.result());
        assert_eq!(server.log().tls_sessions > 0, starttls);
        assert_eq!(r.accepted(), 3, "{:?}", r.outcomes);
        assert_eq!(r.retries.len(), 1, "{:?}", r.retries);
        assert_eq!(r.retries[&2].len(), 1, "{:?}", r.retries);
        let log = server.log();
        assert_eq!(log.connections, 2);
        assert_eq!(log.accepted().len(), 3, "each member exactly once");
        assert!(log.copies().values().all(|n| *n == 1), "{:?}", log.copies());
    }
}

/// The members whose reply to the final `.` the server loses in the tests below.
const LOST: [&str; 3] = [
    "member3@example.test",
    "member7@example.test",
    "member12@example.test",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_reply_to_the_final_dot_is_uncertain_and_never_sent_twice() {
    // (fault, pipelining, STARTTLS, implicit TLS): the boundary is kept under TLS too.
    let mut cases = Vec::new();
    for fault in [Action::NoReply, Action::HangUp] {
        cases.push((fault.clone(), true, false, false));
        cases.push((fault.clone(), false, false, false));
        cases.push((fault.clone(), true, true, false));
        cases.push((fault, true, false, true));
    }
    for (fault, pipelining, starttls, implicit) in cases {
        let f = fault.clone();
        let mut config = ServerConfig::script(move |stage, _| match stage {
            Stage::EndOfData(to) if LOST.contains(&to.as_str()) => f.clone(),
            _ => Action::Normal,
        });
        config.pipelining = pipelining;
        config.starttls = starttls;
        config.implicit_tls = implicit;
        let server = TestServer::start(config).await;
        let url = match (starttls, implicit) {
            (false, false) => server.url(),
            (true, _) => format!("smtp://localhost:{}?tls=required", server.port),
            (false, true) => format!("smtps://localhost:{}", server.port),
        };
        let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
        let mut o = opts(3, 3);
        o.data_timeout = Duration::from_secs(1);
        let r = run(&t, jobs(20), o).await;
        let case = format!(
            "{fault:?}, pipelining {pipelining}, starttls {starttls}, implicit TLS {implicit}"
        );
        if starttls || implicit {
            let log = server.log();
            assert_eq!(log.tls_sessions, log.connections, "{case}");
        }
        assert!(r.result().is_ok(), "{case}: {:?}", r.result());

        let mut uncertain: Vec<&str> = Vec::new();
        for i in 1..=20u64 {
            let to = format!("member{i}@example.test");
            let o = r.outcome(i);
            if LOST.contains(&to.as_str()) {
                let Outcome::Uncertain { text } = o else {
                    panic!("{case}: {to}: {o:?}");
                };
                assert!(
                    text.contains(&format!(":{} did not answer the final `.`", server.port)),
                    "{case}: {text}"
                );
                if fault == Action::NoReply {
                    assert!(text.contains("within 1s"), "{case}: {text}");
                }
                uncertain.push(LOST.iter().find(|l| **l == to).unwrap());
            } else {
                assert!(o.is_accepted(), "{case}: {to}: {o:?}");
            }
        }
        assert_eq!(uncertain.len(), LOST.len(), "{case}");
        assert!(
            r.retries.is_empty(),
            "{case}: nothing retried: {:?}",
            r.retries
        );
        assert_eq!(r.attempts.len(), 20, "{case}: one try each");
        server
            .log()
            .assert_one_copy_each(20, &format!("{case}, uncertain {uncertain:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_to_the_final_dot_has_its_own_timeout() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::EndOfData(_) => Action::Slow(Duration::from_millis(2500)),
        _ => Action::Normal,
    }))
    .await;
    // Slower than the command timeout, within the data timeout: accepted, once.
    let mut o = opts(1, 1);
    o.timeout = Duration::from_secs(1);
    o.data_timeout = Duration::from_secs(30);
    let r = run(&target(&server.url()), jobs(2), o).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 2, "{:?}", r.outcomes);
    assert!(r.retries.is_empty(), "{:?}", r.retries);
    assert_eq!(server.log().accepted().len(), 2);

    // Past the data timeout: uncertain, and not sent again.
    let mut o = opts(1, 1);
    o.data_timeout = Duration::from_secs(1);
    let r = run(&target(&server.url()), jobs(1), o).await;
    let Outcome::Uncertain { text } = r.outcome(1) else {
        panic!("{:?}", r.outcome(1));
    };
    assert!(
        text.contains("no reply to the end of DATA within 1s"),
        "{text}"
    );
    assert!(r.retries.is_empty(), "{:?}", r.retries);
    assert_eq!(
        server.log().copies()["member1@example.test"],
        2,
        "one per run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_limit_below_the_pool_size_is_not_fatal() {
    let server = TestServer::start(ServerConfig {
        max_sessions: Some(2),
        ..ServerConfig::default()
    })
    .await;
    let r = run(&target(&server.url()), jobs(300), opts(5, 1)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 300);
    assert!(
        r.attempts.len() > 300,
        "jobs of the workers turned away were handed to the others"
    );
    let log = server.log();
    assert_eq!(log.accepted().len(), 300, "each member exactly once");
    assert!(log.refused_connections > 0, "the limit was hit");
}

/// Connections refused and dropped now and then (see [`support::flaky_connections`]), and at
/// the end a worker that cannot connect while the others, idle, hold theirs: the job it hands
/// back must be picked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_handed_back_are_picked_up_while_a_worker_lives() {
    const MEMBERS: u64 = 500;
    let last = format!("member{MEMBERS}@example.test");
    let server = TestServer::start(support::flaky_connections(last)).await;
    let r = run(&target(&server.url()), jobs(MEMBERS), opts(8, 5)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert!(r.returned.is_empty(), "{:?}", r.returned);
    let not_accepted: Vec<(&u64, &Outcome)> = r
        .outcomes
        .iter()
        .filter(|(_, o)| !o.is_accepted())
        .collect();
    assert!(not_accepted.is_empty(), "{not_accepted:?}");
    assert_eq!(r.accepted(), MEMBERS as usize);
    let handed_over = r.attempts.iter().filter(|id| **id == MEMBERS).count();
    assert!(
        handed_over >= 2,
        "the last member's job went to another worker"
    );
    let log = server.log();
    log.assert_one_copy_each(
        MEMBERS as usize,
        &format!(
            "{MEMBERS} members, 8 connections, {} connections opened, {handed_over} tries of the last member",
            log.connections
        ),
    );
    assert!(
        log.connections > 8,
        "connections were dropped and opened again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_stops_the_run_naming_the_server() {
    let port = free_port();
    let r = run(
        &target(&format!("smtp://127.0.0.1:{port}")),
        jobs(20),
        opts(3, 2),
    )
    .await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(r.outcomes.values().all(not_sent), "{:?}", r.outcomes);
    assert_eq!(r.accepted(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_reply_slower_than_the_timeout_is_a_transient_failure() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::Rcpt(_) => Action::Slow(Duration::from_secs(3)),
        _ => Action::Normal,
    }))
    .await;
    let mut o = opts(1, 1);
    o.timeout = Duration::from_millis(300);
    // However long the data timeout, it is not the one that applies to RCPT.
    o.data_timeout = Duration::from_secs(600);
    let r = run(&target(&server.url()), vec![job(1, "a@example.test")], o).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_refused(r.outcome(1), false, None);
    let Outcome::Refused { text, .. } = r.outcome(1) else {
        unreachable!()
    };
    assert!(text.contains("no reply"), "{text}");
    assert_eq!(r.retries[&1].len(), 1, "{:?}", r.retries);
    assert!(server.log().messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_greeting_past_the_timeout_stops_the_run() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::Greeting => Action::Slow(Duration::from_secs(3)),
        _ => Action::Normal,
    }))
    .await;
    let mut o = opts(1, 1);
    o.timeout = Duration::from_millis(300);
    let r = run(&target(&server.url()), jobs(2), o).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&server.port.to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_refused_stops_the_run_without_blaming_members() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::Mail => Action::Reply("553 5.7.1 Sender address rejected".into()),
        _ => Action::Normal,
    }))
    .await;
    let r = run(&target(&server.url()), jobs(10), opts(2, 2)).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::SenderRefused { .. }), "{e:?}");
    assert!(e.to_string().contains(FROM), "{e}");
    assert!(e.to_string().contains("553"), "{e}");
    assert!(r.outcomes.values().all(not_sent), "{:?}", r.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_ends_before_the_previous_outcome_is_durable() {
    let server = TestServer::start(ServerConfig::default()).await;
    let all: Vec<Job> = (1..=5)
        .map(|i| job(i, &format!("m{i}@example.test")))
        .collect();
    let r = run_with(
        &target(&server.url()),
        all,
        opts(1, 0),
        Durable::FireAfter(Duration::from_millis(150)),
        |_, _| {},
    )
    .await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 5);
    let log = server.log();
    let seen: HashMap<String, (Instant, Instant)> = log
        .messages
        .iter()
        .map(|m| (m.to[0].clone(), (m.mail_at, m.at)))
        .collect();
    let mut overlapped = 0;
    for i in 2..=5u64 {
        let (started, ended) = seen[&format!("m{i}@example.test")];
        let previous_durable = r.fired[&(i - 1)];
        assert!(
            ended >= previous_durable,
            "message {i} was completed before message {} was durable",
            i - 1
        );
        if started < previous_durable {
            overlapped += 1;
        }
    }
    // The next transaction's first commands go out while the previous outcome is being made
    // durable (150 ms here): only the final `.` waits.
    assert!(
        overlapped > 0,
        "no transaction began during a durability wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_made_durable_when_a_worker_asks() {
    let server = TestServer::start(ServerConfig::default()).await;
    let all: Vec<Job> = (1..=12)
        .map(|i| job(i, &format!("m{i}@example.test")))
        .collect();
    // Without the workers' requests the run would wait for ever: a deadlock fails here.
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        run_with(
            &target(&server.url()),
            all,
            opts(3, 0),
            Durable::WhenAsked,
            |_, _| {},
        ),
    )
    .await
    .expect("the run ends: workers ask for their outcomes to be made durable");
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 12);
    // A worker asks only when it has an outcome not yet durable and a message to end.
    assert!(r.waits > 0 && r.waits <= 12, "{} waits", r.waits);
    // Still no final `.` before the connection's earlier outcomes were durable.
    let log = server.log();
    for m in &log.messages {
        for earlier in log
            .messages
            .iter()
            .filter(|e| e.conn == m.conn && e.at < m.at)
        {
            let id: u64 = earlier.to[0][1..]
                .split('@')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let durable = r.fired.get(&id).copied();
            assert!(
                durable.is_some_and(|d| d <= m.at),
                "{} ended before {} was durable",
                m.to[0],
                earlier.to[0]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrecorded_outcome_stops_the_run() {
    let server = TestServer::start(ServerConfig::default()).await;
    let r = run_with(
        &target(&server.url()),
        jobs(5),
        opts(1, 0),
        Durable::Drop,
        |_, _| {},
    )
    .await;
    assert_eq!(r.error(), DeliverError::Unrecorded);
    // The first message went; the second was never started.
    assert_eq!(server.log().accepted().len(), 1);
    assert_eq!(r.accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_finishes_the_message_in_flight_and_accounts_for_the_rest() {
    let server = TestServer::start(ServerConfig::default()).await;
    let o = opts(2, 0);
    let cancel = o.cancel.clone();
    let r = run_with(
        &target(&server.url()),
        jobs(200),
        o,
        Durable::Fire,
        move |_, _| cancel.cancel(),
    )
    .await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    // The first outcome cancels; what else was already under way may finish.
    let accepted = r.accepted();
    assert!((1..=4).contains(&accepted), "{accepted} accepted");
    assert_eq!(server.log().accepted().len(), accepted);
    assert!(
        r.outcomes.values().all(|o| o.is_accepted() || not_sent(o)),
        "{:?}",
        r.outcomes
    );
    assert!(!r.returned.is_empty(), "the rest came back to the caller");
}

// ---------------------------------------------------------------- TLS and AUTH

fn tls_server(starttls: bool, implicit: bool) -> ServerConfig {
    ServerConfig {
        starttls,
        implicit_tls: implicit,
        ..ServerConfig::default()
    }
}

fn skip_verify_localhost() -> config::Smtp {
    config::Smtp {
        insecure_skip_verify_hosts: vec!["localhost".into()],
        ..config::Smtp::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_but_not_offered_stops_the_run() {
    let server = TestServer::start(ServerConfig::default()).await;
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    let r = run(&target(&url), jobs(3), opts(2, 2)).await;
    let e = r.error();
    assert_eq!(
        e,
        DeliverError::TlsNotOffered {
            server: format!("127.0.0.1:{}", server.port)
        }
    );
    assert!(r.outcomes.values().all(not_sent));
    assert!(server.log().messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_is_refused_by_default() {
    let server = TestServer::start(tls_server(true, false)).await;
    let url = format!("smtp://localhost:{}?tls=required", server.port);
    let r = run(&target(&url), jobs(3), opts(1, 2)).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Tls { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("localhost:{}", server.port)),
        "{e}"
    );
    assert!(e.to_string().contains("insecure_skip_verify_hosts"), "{e}");
    assert!(server.log().messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_uses_starttls_when_offered() {
    let server = TestServer::start(tls_server(true, false)).await;
    let url = format!("smtp://localhost:{}", server.port);
    // Offered, so used, so verified: the self-signed certificate stops it.
    let r = run(&target(&url), jobs(1), opts(1, 0)).await;
    assert!(matches!(r.error(), DeliverError::Tls { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_verify_host_accepts_the_certificate_over_starttls() {
    let server = TestServer::start(tls_server(true, false)).await;
    let url = format!("smtp://localhost:{}?tls=required", server.port);
    let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
    let r = run(&t, jobs(4), opts(2, 0)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 4);
    let log = server.log();
    assert_eq!(log.tls_sessions, log.connections);
    assert!(log.commands.iter().any(|(_, l)| l == "STARTTLS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_delivers() {
    let server = TestServer::start(tls_server(false, true)).await;
    let url = format!("smtps://localhost:{}", server.port);
    let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
    let r = run(&t, jobs(5), opts(2, 0)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 5);
    assert_eq!(server.log().accepted().len(), 5);
    assert!(server.log().tls_sessions >= 1);

    // The same certificate without the exception: refused.
    let t = target(&url);
    let r = run(&t, jobs(1), opts(1, 0)).await;
    assert!(
        matches!(r.error(), DeliverError::Tls { .. }),
        "{:?}",
        r.error()
    );
}

fn auth_server() -> ServerConfig {
    ServerConfig {
        auth: Some(("news".into(), "right horse".into())),
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_plain_logs_in() {
    let server = TestServer::start(auth_server()).await;
    let url = format!("smtp://news@127.0.0.1:{}", server.port);
    let t = SmtpTarget::from_url(
        &url,
        &config::Smtp::default(),
        Some(Secret::new("right horse")),
    )
    .unwrap();
    let r = run(&t, jobs(2), opts(1, 0)).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 2);
    assert_eq!(server.log().logins, ["news"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_refused_stops_the_run_naming_the_server() {
    let server = TestServer::start(auth_server()).await;
    let url = format!("smtp://news@127.0.0.1:{}", server.port);
    let t = SmtpTarget::from_url(
        &url,
        &config::Smtp::default(),
        Some(Secret::new("wrong horse")),
    )
    .unwrap();
    let r = run(&t, jobs(6), opts(2, 3)).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Auth { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{}", server.port)),
        "{text}"
    );
    assert!(text.contains("535"), "{text}");
    assert!(!text.contains("wrong horse"), "{text}");
    assert!(r.retries.is_empty(), "AUTH refusal is not retried");
    assert!(r.outcomes.values().all(not_sent));
    assert!(server.log().messages.is_empty());
}

// ---------------------------------------------------------------- pacing

struct CountingThrottle(Mutex<u32>);

impl Throttle for CountingThrottle {
    fn acquire(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = bulletin::deliver::pool::TryGuard<'_>> + Send + '_>,
    > {
        Box::pin(async move {
            *self.0.lock().unwrap() += 1;
            Box::new(()) as bulletin::deliver::pool::TryGuard<'_>
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_is_asked_before_every_try() {
    let server = TestServer::start(ServerConfig::script(|stage, n| match stage {
        Stage::Rcpt(a) if a == "member1@example.test" && n == 1 => {
            Action::Reply("451 4.3.0 try again".into())
        }
        _ => Action::Normal,
    }))
    .await;
    let throttle = Arc::new(CountingThrottle(Mutex::new(0)));
    let mut o = opts(2, 1);
    o.limiter = Some(throttle.clone());
    let r = run(&target(&server.url()), jobs(6), o).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 6);
    assert_eq!(*throttle.0.lock().unwrap(), 7, "6 messages, one retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_paces_what_the_server_sees() {
    let server = TestServer::start(ServerConfig::default()).await;
    let rate = Rate {
        count: 3,
        per: Duration::from_millis(400),
    };
    let mut o = opts(3, 0);
    o.limiter = Some(Arc::new(RateLimiter::new(rate)));
    let r = run(&target(&server.url()), jobs(9), o).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 9);
    let mut starts: Vec<Instant> = server.log().messages.iter().map(|m| m.mail_at).collect();
    starts.sort();
    // No window of 400 ms holds more than 3 transactions: the 4th after any one is at least
    // 400 ms later (less a margin for the trip from the limiter to the server).
    for w in starts.windows(4) {
        let gap = w[3] - w[0];
        assert!(
            gap >= Duration::from_millis(350),
            "4 transactions within {gap:?}"
        );
    }
}

/// A relay whose certificate comes from a company CA: refused with the bundled roots and the
/// system's store alone, trusted once `[smtp] ca_file` names the CA, over STARTTLS and
/// implicit TLS; a CA file that cannot be read is a TLS error naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_trusted_through_ca_file() {
    for (starttls, implicit) in [(true, false), (false, true)] {
        let server = TestServer::start(tls_server(starttls, implicit)).await;
        let url = if implicit {
            format!("smtps://localhost:{}", server.port)
        } else {
            format!("smtp://localhost:{}?tls=required", server.port)
        };
        let r = run(&target(&url), jobs(1), opts(1, 0)).await;
        assert!(
            matches!(r.error(), DeliverError::Tls { .. }),
            "{:?}",
            r.error()
        );
        // in plain words, with the fix that fits
        let e = r.error().to_string();
        assert!(
            e.contains("its certificate is not signed by an authority this machine trusts"),
            "{e}"
        );
        assert!(e.contains("[smtp] ca_file"), "{e}");
        assert!(!e.contains("UnknownIssuer"), "{e}");
        assert!(server.log().accepted().is_empty());

        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("company-ca.pem");
        std::fs::write(&ca, &server.ca_pem).unwrap();
        let trusting = config::Smtp {
            ca_file: Some(ca),
            ..config::Smtp::default()
        };
        let t = SmtpTarget::from_url(&url, &trusting, None).unwrap();
        let r = run(&t, jobs(3), opts(1, 0)).await;
        assert!(r.result().is_ok(), "{:?}", r.result());
        assert_eq!(r.accepted(), 3);
        assert_eq!(server.log().accepted().len(), 3);

        let missing = config::Smtp {
            ca_file: Some(dir.path().join("missing.pem")),
            ..config::Smtp::default()
        };
        let t = SmtpTarget::from_url(&url, &missing, None).unwrap();
        let r = run(&t, jobs(1), opts(1, 0)).await;
        let e = r.error().to_string();
        assert!(e.contains("missing.pem: cannot read the CA file"), "{e}");
    }
}

/// `smtps://` pointed at a port that greets in plain text (a STARTTLS port): a TLS error at
/// once, in plain words, naming the scheme to use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_against_a_starttls_port_names_the_scheme_to_use() {
    let server = TestServer::start(tls_server(true, false)).await;
    let url = format!("smtps://localhost:{}", server.port);
    let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
    let r = run(&t, jobs(1), opts(1, 0)).await;
    let e = r.error().to_string();
    assert!(matches!(r.error(), DeliverError::Tls { .. }), "{e}");
    assert!(
        e.contains(
            "the server answered in plain text, not TLS: this port expects STARTTLS (use smtp://"
        ),
        "{e}"
    );
    assert!(server.log().accepted().is_empty());
}

/// `smtp://` pointed at a port that waits for a TLS handshake: the server says nothing, a
/// ClientHello on a second connection is answered with TLS, and the run stops at once (long
/// before the greeting's timeout) naming the scheme to use, without retrying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_implicit_tls_port_reached_with_smtp_names_smtps() {
    let server = TestServer::start(tls_server(false, true)).await;
    let url = format!("smtp://localhost:{}", server.port);
    let t = SmtpTarget::from_url(&url, &skip_verify_localhost(), None).unwrap();
    let mut o = opts(1, 3);
    o.timeout = Duration::from_secs(60);
    let r = run(&t, jobs(2), o).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::WrongScheme { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "localhost:{p}: the server sent no SMTP greeting but answers a TLS handshake: this port speaks TLS from the first byte (use smtps://localhost:{p})",
            p = server.port
        )
    );
    assert!(r.retries.is_empty(), "retried: {:?}", r.retries);
    assert!(r.outcomes.values().all(not_sent));
    // one try: its own connection and the one that asked in TLS
    assert_eq!(server.log().connections, 2);
}

/// A TLS record where the greeting is due (here an alert, as some servers send to a client
/// that speaks first in plain text) stops the run at once, naming smtps://.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_record_instead_of_a_greeting_names_smtps() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(0usize));
    let server = {
        let accepted = Arc::clone(&accepted);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            while let Ok((mut s, _)) = listener.accept().await {
                *accepted.lock().unwrap() += 1;
                tokio::spawn(async move {
                    // alert, TLS 1.2, length 2: fatal, protocol_version
                    let _ = s
                        .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])
                        .await;
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
            }
        })
    };
    let mut o = opts(2, 3);
    o.timeout = Duration::from_secs(60);
    let r = run(&target(&format!("smtp://127.0.0.1:{port}")), jobs(3), o).await;
    server.abort();
    let e = r.error().to_string();
    assert!(matches!(r.error(), DeliverError::WrongScheme { .. }), "{e}");
    assert!(
        e.contains("the server sent TLS where an SMTP greeting was due: this port speaks TLS from the first byte (use smtps://127.0.0.1:"),
        "{e}"
    );
    assert!(r.retries.is_empty(), "retried: {:?}", r.retries);
    // at most one connection per worker: nothing was tried twice
    assert!(*accepted.lock().unwrap() <= 2);
}

/// A plain server that greets late (after the moment a TLS question is asked on the side)
/// is used as usual: the side connection's ClientHello gets no TLS answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_greeting_is_still_plain_smtp() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::Greeting => Action::Slow(Duration::from_secs(3)),
        _ => Action::Normal,
    }))
    .await;
    let mut o = opts(1, 0);
    o.timeout = Duration::from_secs(10);
    let r = run(&target(&server.url()), jobs(2), o).await;
    assert!(r.result().is_ok(), "{:?}", r.result());
    assert_eq!(r.accepted(), 2);
    server.log().assert_one_copy_each(2, "late greeting");
}

/// Retries end once the next one would start later than `retry_for` after the first try,
/// however many remain: with waits of at least 100, 200, 400 and 800 ms, a budget of one
/// second leaves room for three at most, not fifty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_in_total_time() {
    let server = TestServer::start(ServerConfig::script(|stage, _| match stage {
        Stage::Greeting => Action::Reply("421 4.3.2 Try again later".into()),
        _ => Action::Normal,
    }))
    .await;
    let mut o = opts(1, 50);
    o.backoff = Duration::from_millis(200);
    o.retry_for = Duration::from_secs(1);
    let r = run(&target(&server.url()), jobs(1), o).await;
    let e = r.error();
    assert!(matches!(e, DeliverError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("421 4.3.2 Try again later"), "{e}");
    let retried = r.retries.get(&1).map_or(0, Vec::len);
    assert!((1..=3).contains(&retried), "{retried} retries");
    assert_eq!(server.log().connections, retried + 1);
}
