//! Real SMTP servers on loopback for the tests (and the send benchmark):
//!
//! - [`SmtpSink`]: Postfix's `smtp-sink` on a free `127.0.0.1` port, with its whole-command
//!   faults (`-r`/`-f`/`-Q`/`-q`), delays (`-w`) and message dumps (`-d`); killed on drop.
//! - [`TestServer`]: an SMTP server in this process whose replies a [`Script`] decides per stage
//!   and per recipient (4xx/5xx, 421 and hang-ups anywhere, slow or missing replies), with STARTTLS or
//!   implicit TLS on a certificate from a private CA and AUTH PLAIN; it records what it received, with
//!   the instant each message's final `.` arrived.
#![allow(dead_code)]

pub mod cli;
pub mod dnsmasq;
pub mod dovecot;
pub mod files;
pub mod postfix;
pub mod postfix_dir;
pub mod private_ca;
pub mod serve;
pub mod tools;

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind an ephemeral port on 127.0.0.1");
    l.local_addr().expect("local address").port()
}

/// Wait until something accepts connections on `127.0.0.1:port`.
fn wait_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("smtp-sink exited at start ({status})");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("smtp-sink did not listen on 127.0.0.1:{port} within 10s");
}

/// Postfix's `smtp-sink` on a free loopback port.
pub struct SmtpSink {
    pub port: u16,
    child: Child,
    dump: Option<tempfile::TempDir>,
}

impl SmtpSink {
    /// Start with extra options, e.g. `&["-f", "RCPT"]` (5xx to every RCPT), `&["-r", "DATA"]`
    /// (4xx), `&["-Q", "MAIL"]` (421 and hang up), `&["-q", "."]` (hang up silently),
    /// `&["-w", "2"]` (wait before answering DATA).
    pub fn start(options: &[&str]) -> SmtpSink {
        Self::spawn(options, None)
    }

    /// Like [`SmtpSink::start`], also writing every message received to a file (`-d`).
    pub fn with_dump(options: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().expect("temp dir for smtp-sink dumps");
        // smtp-sink drops to `nobody` before writing.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .expect("open the dump folder to smtp-sink");
        }
        Self::spawn(options, Some(dir))
    }

    fn spawn(options: &[&str], dump: Option<tempfile::TempDir>) -> SmtpSink {
        let port = free_port();
        let mut cmd = Command::new(tools::require("smtp-sink", "postfix"));
        if tools::is_root() {
            cmd.args(["-u", "nobody"]);
        }
        if let Some(dir) = &dump {
            cmd.arg("-d")
                .arg(format!("{}/%H%M%S.", dir.path().display()));
        }
        cmd.args(options)
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start smtp-sink: {e}"));
        wait_listening(port, &mut child);
        SmtpSink { port, child, dump }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages dumped so far (with `-d`), each file's bytes.
    pub fn dumped(&self) -> Vec<Vec<u8>> {
        let Some(dir) = &self.dump else {
            return Vec::new();
        };
        let mut files = Vec::new();
        collect_files(dir.path(), &mut files);
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A point in the SMTP dialogue where the script may step in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Greeting,
    Ehlo,
    Auth,
    Mail,
    /// RCPT TO for this address.
    Rcpt(String),
    /// The DATA command (the `354` reply).
    Data,
    /// The final `.` of a message to this (first) recipient.
    EndOfData(String),
}

/// What the server does at a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The usual positive reply.
    Normal,
    /// This reply instead (e.g. `"550 5.1.1 no such user"`). A `421` reply also closes the
    /// connection, as RFC 5321 says.
    Reply(String),
    /// Close the connection without a reply.
    HangUp,
    /// At `Data`: answer 354, read the start of the message, then close.
    HangUpMidData,
    /// Never answer; end the session when the client hangs up. At `EndOfData` the message
    /// counts as received (its `reply` is empty), as when a server takes a message and its
    /// reply is lost.
    NoReply,
    /// Wait this long, then act normally.
    Slow(Duration),
}

/// Decides the action at a stage; the `u32` counts how often this stage (for RCPT and
/// end-of-data: with this recipient) was reached, this time included, over all connections.
pub type Script = Arc<dyn Fn(&Stage, u32) -> Action + Send + Sync>;

/// A message as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Connection number (1-based, in order of acceptance).
    pub conn: usize,
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    /// When MAIL FROM arrived.
    pub mail_at: Instant,
    /// When the final `.` arrived.
    pub at: Instant,
    /// The reply given to it.
    pub reply: String,
}

/// Everything the server saw.
#[derive(Debug, Default)]
pub struct Log {
    pub connections: usize,
    /// Connections turned away by `max_sessions`.
    pub refused_connections: usize,
    pub tls_sessions: usize,
    /// Every command line received, with its connection number (AUTH lines included).
    pub commands: Vec<(usize, String)>,
    pub messages: Vec<Received>,
    /// Users who logged in successfully.
    pub logins: Vec<String>,
    /// MAIL commands that came with the next command already behind them, before their reply.
    pub pipelined_mail: usize,
    counts: HashMap<String, u32>,
}

impl Log {
    /// How many copies of a message each recipient got: every message whose final `.`
    /// arrived counts, whatever the server answered (or if it never answered).
    pub fn copies(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for msg in &self.messages {
            for to in &msg.to {
                *m.entry(to.clone()).or_default() += 1;
            }
        }
        m
    }

    /// Check that each of `expected` recipients got exactly one copy (see [`Log::copies`]),
    /// after printing the duplicates and missed members under `case`.
    #[track_caller]
    pub fn assert_one_copy_each(&self, expected: usize, case: &str) {
        let copies = self.copies();
        let duplicates: usize = copies.values().map(|n| n - 1).sum();
        let missed = expected.saturating_sub(copies.len());
        eprintln!("{case}: {duplicates} duplicates, {missed} missed");
        assert_eq!(copies.len(), expected, "{case}: nobody missed: {copies:?}");
        assert_eq!(duplicates, 0, "{case}: one copy each: {copies:?}");
    }

    /// Messages the server accepted (2xx after the final `.`).
    pub fn accepted(&self) -> Vec<&Received> {
        self.messages
            .iter()
            .filter(|m| m.reply.starts_with('2'))
            .collect()
    }
}

/// How the in-process server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    pub script: Script,
    /// Offer STARTTLS.
    pub starttls: bool,
    /// TLS from the first byte (smtps).
    pub implicit_tls: bool,
    /// Offer AUTH PLAIN and accept exactly this user and password.
    pub auth: Option<(String, String)>,
    /// Names in the server's certificate.
    pub cert_names: Vec<String>,
    /// Greet connections beyond this many at once with `421` and close them.
    pub max_sessions: Option<usize>,
    /// Offer PIPELINING (RFC 2920).
    pub pipelining: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            script: Arc::new(|_, _| Action::Normal),
            starttls: false,
            implicit_tls: false,
            auth: None,
            cert_names: vec!["localhost".into(), "127.0.0.1".into()],
            max_sessions: None,
            pipelining: true,
        }
    }
}

impl ServerConfig {
    pub fn script(f: impl Fn(&Stage, u32) -> Action + Send + Sync + 'static) -> Self {
        ServerConfig {
            script: Arc::new(f),
            ..ServerConfig::default()
        }
    }
}

/// A server that refuses or drops some connections: the first eight are let in, then one new
/// connection in three (of the others, half get a 421 greeting, half a silent hang-up); one
/// MAIL in sixty-one is answered by a hang-up. Once `last`'s RCPT has been answered by a
/// hang-up (the first time it comes), no new connection is let in at all: the worker sending
/// to `last` then cannot connect while the others still hold connections, and must hand its
/// job to them.
pub fn flaky_connections(last: String) -> ServerConfig {
    use std::sync::atomic::{AtomicBool, Ordering};
    let tail = AtomicBool::new(false);
    ServerConfig::script(move |stage, n| match stage {
        Stage::Greeting if tail.load(Ordering::SeqCst) => {
            Action::Reply("421 4.7.0 Too many connections".into())
        }
        Stage::Greeting if n <= 8 || n % 3 == 0 => Action::Normal,
        Stage::Greeting if n % 3 == 1 => Action::Reply("421 4.7.0 Try again later".into()),
        Stage::Greeting => Action::HangUp,
        Stage::Mail if n % 61 == 0 && !tail.load(Ordering::SeqCst) => Action::HangUp,
        Stage::Rcpt(to) if *to == last && n == 1 => {
            tail.store(true, Ordering::SeqCst);
            Action::HangUp
        }
        _ => Action::Normal,
    })
}

/// The in-process SMTP server; stops when dropped.
pub struct TestServer {
    pub port: u16,
    pub log: Arc<Mutex<Log>>,
    /// The server's certificate (DER), signed by a private CA made for the test.
    pub cert_der: Vec<u8>,
    /// That CA's certificate (PEM): trusted through `[smtp] ca_file`, unknown otherwise.
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl TestServer {
    /// Start on a free `127.0.0.1` port (inside a tokio runtime).
    pub async fn start(config: ServerConfig) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test SMTP server");
        let port = listener.local_addr().expect("local address").port();
        let (acceptor, cert_der, ca_pem) = tls_acceptor(&config.cert_names);
        let log = Arc::new(Mutex::new(Log::default()));
        let config = Arc::new(config);
        let task = {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut sessions = tokio::task::JoinSet::new();
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    let _ = stream.set_nodelay(true);
                    while sessions.try_join_next().is_some() {}
                    if config.max_sessions.is_some_and(|max| sessions.len() >= max) {
                        log.lock().unwrap().refused_connections += 1;
                        let _ = stream
                            .write_all(b"421 4.7.0 Too many connections from your host\r\n")
                            .await;
                        continue;
                    }
                    let conn = {
                        let mut l = log.lock().unwrap();
                        l.connections += 1;
                        l.connections
                    };
                    let (config, log, acceptor) =
                        (Arc::clone(&config), Arc::clone(&log), acceptor.clone());
                    sessions.spawn(async move {
                        let _ = session(stream, conn, config, log, acceptor).await;
                    });
                }
            })
        };
        TestServer {
            port,
            log,
            cert_der,
            ca_pem,
            task,
        }
    }

    /// `smtp://127.0.0.1:PORT` (or `smtps://` with implicit TLS is up to the caller).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }
}

fn tls_acceptor(names: &[String]) -> (TlsAcceptor, Vec<u8>, String) {
    let issued = private_ca::issue(names);
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        issued.key_der.clone(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![issued.cert_der.clone().into()], key)
        .expect("server TLS config");
    (
        TlsAcceptor::from(Arc::new(config)),
        issued.cert_der,
        issued.ca_pem,
    )
}

/// Count this stage and ask the script.
fn decide(config: &ServerConfig, log: &Mutex<Log>, stage: &Stage) -> Action {
    let key = format!("{stage:?}");
    let n = {
        let mut l = log.lock().unwrap();
        let n = l.counts.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    (config.script)(stage, n)
}

/// Carry out `action` where `normal` is the usual reply; `Ok(false)` means the session ends.
async fn respond<W: AsyncWrite + Unpin>(
    w: &mut W,
    action: Action,
    normal: &str,
) -> std::io::Result<(bool, String)> {
    let reply = match action {
        Action::Normal | Action::HangUpMidData => normal.to_string(),
        Action::Reply(r) => r,
        Action::HangUp => return Ok((false, String::new())),
        Action::NoReply => {
            // Sessions wait for the client's hang-up themselves; elsewhere, never answer.
            std::future::pending::<()>().await;
            return Ok((false, String::new()));
        }
        Action::Slow(d) => {
            tokio::time::sleep(d).await;
            normal.to_string()
        }
    };
    w.write_all(format!("{reply}\r\n").as_bytes()).await?;
    w.flush().await?;
    Ok((!reply.starts_with("421"), reply))
}

fn address(arg: &str) -> String {
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_string(),
        _ => arg.trim().to_string(),
    }
}

async fn session(
    stream: TcpStream,
    conn: usize,
    config: Arc<ServerConfig>,
    log: Arc<Mutex<Log>>,
    acceptor: TlsAcceptor,
) -> std::io::Result<()> {
    let mut tls = false;
    let stream: Box<dyn Io> = if config.implicit_tls {
        let s = acceptor.accept(stream).await?;
        tls = true;
        log.lock().unwrap().tls_sessions += 1;
        Box::new(s)
    } else {
        Box::new(stream)
    };
    let mut r = BufReader::new(stream);
    let action = decide(&config, &log, &Stage::Greeting);
    if !respond(&mut r, action, "220 test.local ESMTP ready")
        .await?
        .0
    {
        return Ok(());
    }
    let mut from = String::new();
    let mut mail_at = Instant::now();
    let mut rcpts: Vec<String> = Vec::new();
    loop {
        r.flush().await?;
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        log.lock().unwrap().commands.push((conn, line.clone()));
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        let keep = match verb.as_str() {
            "EHLO" | "HELO" => {
                let mut ext = vec!["test.local", "8BITMIME", "SMTPUTF8"];
                if config.pipelining {
                    ext.push("PIPELINING");
                }
                if config.starttls && !tls {
                    ext.push("STARTTLS");
                }
                if config.auth.is_some() {
                    ext.push("AUTH PLAIN");
                }
                let mut normal = String::new();
                for (i, e) in ext.iter().enumerate() {
                    let sep = if i + 1 == ext.len() { ' ' } else { '-' };
                    normal.push_str(&format!("250{sep}{e}"));
                    if i + 1 < ext.len() {
                        normal.push_str("\r\n");
                    }
                }
                let action = decide(&config, &log, &Stage::Ehlo);
                respond(&mut r, action, &normal).await?.0
            }
            "STARTTLS" if config.starttls && !tls => {
                r.write_all(b"220 2.0.0 go ahead\r\n").await?;
                r.flush().await?;
                let inner = r.into_inner();
                let s = acceptor.accept(inner).await?;
                tls = true;
                log.lock().unwrap().tls_sessions += 1;
                r = BufReader::new(Box::new(s) as Box<dyn Io>);
                true
            }
            "AUTH" => {
                let Some((user, pass)) = config.auth.clone() else {
                    r.write_all(b"502 5.5.1 no AUTH here\r\n").await?;
                    continue;
                };
                let mut parts = arg.split_whitespace();
                let mech = parts.next().unwrap_or("").to_ascii_uppercase();
                let mut response = parts.next().map(str::to_string);
                if mech != "PLAIN" {
                    r.write_all(b"504 5.5.4 only PLAIN\r\n").await?;
                    continue;
                }
                if response.is_none() {
                    r.write_all(b"334 \r\n").await?;
                    r.flush().await?;
                    let mut l = String::new();
                    r.read_line(&mut l).await?;
                    response = Some(l.trim().to_string());
                }
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(response.unwrap_or_default())
                    .unwrap_or_default();
                let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                let ok = fields.len() == 3
                    && fields[1] == user.as_bytes()
                    && fields[2] == pass.as_bytes();
                let action = decide(&config, &log, &Stage::Auth);
                let normal = if ok {
                    "235 2.7.0 Authentication successful"
                } else {
                    "535 5.7.8 Authentication credentials invalid"
                };
                let (keep, reply) = respond(&mut r, action, normal).await?;
                if reply.starts_with("235") {
                    log.lock().unwrap().logins.push(user);
                }
                keep
            }
            "MAIL" => {
                if !r.buffer().is_empty() {
                    log.lock().unwrap().pipelined_mail += 1;
                }
                from = address(&arg);
                mail_at = Instant::now();
                rcpts.clear();
                let action = decide(&config, &log, &Stage::Mail);
                respond(&mut r, action, "250 2.1.0 Ok").await?.0
            }
            "RCPT" => {
                let to = address(&arg);
                let action = decide(&config, &log, &Stage::Rcpt(to.clone()));
                let (keep, reply) = respond(&mut r, action, "250 2.1.5 Ok").await?;
                if reply.starts_with('2') {
                    rcpts.push(to);
                }
                keep
            }
            "DATA" => {
                if rcpts.is_empty() {
                    r.write_all(b"554 5.5.1 no valid recipients\r\n").await?;
                    r.flush().await?;
                    continue;
                }
                let action = decide(&config, &log, &Stage::Data);
                let mid_data = action == Action::HangUpMidData;
                let (keep, reply) =
                    respond(&mut r, action, "354 End data with <CR><LF>.<CR><LF>").await?;
                if !keep || !reply.starts_with("354") {
                    keep
                } else if mid_data {
                    let mut first = [0u8; 64];
                    let _ = r.read(&mut first).await?;
                    return Ok(());
                } else {
                    let mut data = Vec::new();
                    loop {
                        let mut l = Vec::new();
                        if r.read_until(b'\n', &mut l).await? == 0 {
                            return Ok(());
                        }
                        if l == b".\r\n" || l == b".\n" {
                            break;
                        }
                        if l.starts_with(b"..") {
                            l.remove(0);
                        }
                        data.extend_from_slice(&l);
                    }
                    let at = Instant::now();
                    let first = rcpts[0].clone();
                    let action = decide(&config, &log, &Stage::EndOfData(first));
                    // Received once its final `.` is in, whatever becomes of the reply.
                    let index = {
                        let mut l = log.lock().unwrap();
                        l.messages.push(Received {
                            conn,
                            from: from.clone(),
                            to: std::mem::take(&mut rcpts),
                            data,
                            mail_at,
                            at,
                            reply: String::new(),
                        });
                        l.messages.len() - 1
                    };
                    if action == Action::NoReply {
                        // Wait for the client to give up and close.
                        let mut rest = Vec::new();
                        let _ = r.read_to_end(&mut rest).await;
                        return Ok(());
                    }
                    let normal = format!("250 2.0.0 Ok: queued as M{}", index + 1);
                    let (keep, reply) = respond(&mut r, action, &normal).await?;
                    log.lock().unwrap().messages[index].reply = reply;
                    keep
                }
            }
            "RSET" => {
                rcpts.clear();
                r.write_all(b"250 2.0.0 Ok\r\n").await?;
                true
            }
            "NOOP" => {
                r.write_all(b"250 2.0.0 Ok\r\n").await?;
                true
            }
            "QUIT" => {
                r.write_all(b"221 2.0.0 Bye\r\n").await?;
                r.flush().await?;
                return Ok(());
            }
            _ => {
                r.write_all(b"502 5.5.2 unknown command\r\n").await?;
                true
            }
        };
        r.flush().await?;
        if !keep {
            return Ok(());
        }
    }
}
