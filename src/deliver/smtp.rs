//! One SMTP connection: TCP with `TCP_NODELAY`, greeting and EHLO, TLS (implicit or STARTTLS),
//! AUTH, then one transaction per message driven command by command, so the caller decides
//! when the final `.` goes out.
//!
//! Every network step is bounded by the target's timeout, except the wait for the reply to a
//! message's final `.`, which has its own (RFC 5321 §4.5.3.2 gives it 10 minutes). Failures are
//! sorted into [`Failure`]s that say whether retrying can help and whether the connection
//! survived.
//!
//! # The final `.`
//!
//! A message whose text and final `.` were written in full but whose reply never came (a
//! timeout, a hang-up, a reply that cannot be read) may have been taken by the server: that is
//! [`TxError::Uncertain`], never a failure worth retrying. Whether the write was complete is
//! told by the socket itself: lettre writes the whole text and its terminator, flushes, and
//! only then starts reading the reply, so a read on the socket after the text went out (a
//! [`Probe`]) marks the boundary. A failure before it (the text not yet handed to the
//! kernel in full) is an ordinary broken connection, and the message may be sent again.

use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;

use super::target::{Security, SmtpTarget};

/// A refusal or breakdown, as the server or the network reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The reply code, when the server answered.
    pub code: Option<u16>,
    /// The enhanced status code (`5.1.1`), when the reply carried one.
    pub enhanced: Option<String>,
    /// The server's text, or what went wrong on the wire.
    pub text: String,
    /// A 5xx reply, or a problem retrying cannot fix.
    pub permanent: bool,
}

impl Failure {
    fn transient(text: impl Into<String>) -> Self {
        Failure {
            code: None,
            enhanced: None,
            text: text.into(),
            permanent: false,
        }
    }

    fn permanent(text: impl Into<String>) -> Self {
        Failure {
            permanent: true,
            ..Failure::transient(text)
        }
    }

    fn timeout(what: &str, after: Duration) -> Self {
        Failure::transient(format!("no reply to {what} within {}s", after.as_secs()))
    }

    /// From a lettre error: a negative reply keeps its code and text; anything else is a broken
    /// connection, hence transient.
    fn from_smtp(e: &SmtpError) -> Self {
        match e.status() {
            Some(code) => {
                let code: Option<u16> = code.to_string().parse().ok();
                let text = std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                Failure {
                    enhanced: enhanced_status(&text),
                    permanent: e.is_permanent(),
                    code,
                    text,
                }
            }
            None => Failure::transient(describe(e)),
        }
    }

    /// `550 5.1.1 no such user`, or the text alone when there was no reply.
    pub fn reply(&self) -> String {
        reply_line(self.code, &self.text)
    }
}

/// A reply as one line: `550 5.1.1 no such user`, or the text alone when there was no code.
pub fn reply_line(code: Option<u16>, text: &str) -> String {
    match code {
        Some(c) => format!("{c} {text}"),
        None => text.to_string(),
    }
}

/// The error and its causes on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

/// The enhanced status code (RFC 3463) at the start of a reply text: `5.1.1 User unknown`.
pub fn enhanced_status(text: &str) -> Option<String> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let ok = matches!(class, "2" | "4" | "5")
        && parts.next().is_none()
        && [subject, detail]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| first.to_string())
}

/// Why a connection could not be set up.
#[derive(Debug)]
pub enum ConnectError {
    /// Worth another try later: refused or dropped connection, 4xx, timeout.
    Transient(Failure),
    /// Retrying cannot help (AUTH refused, TLS missing or certificate invalid, 5xx greeting).
    Fatal(Fatal),
}

/// A connection problem that stops the whole send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    TlsNotOffered,
    Tls(String),
    Auth(String),
    Refused {
        stage: &'static str,
        reply: String,
    },
    /// The port speaks TLS from the first byte, and the target does not (or the reverse).
    WrongScheme(String),
}

/// What one message's transaction came to.
#[derive(Debug)]
pub enum TxError {
    /// The server refused the sender (MAIL FROM): no message can go out this way.
    SenderRefused(Failure),
    /// The envelope sender is not a valid address.
    BadSender(String),
    /// The recipient or the message was refused; the connection is still usable.
    Refused(Failure),
    /// The transaction failed before the final `.` was written in full; the connection must
    /// be dropped, and the message may be sent again.
    Broken(Failure),
    /// The message and its final `.` were written in full, but no reply came (timeout,
    /// hang-up, an unreadable reply): the server may have taken it. The connection must be
    /// dropped; sending the message again could deliver a second copy.
    Uncertain(Failure),
}

/// An open, greeted, secured and logged-in SMTP session.
pub struct Connection {
    inner: AsyncSmtpConnection,
    timeout: Duration,
    /// The longest wait for the reply to a message's final `.`.
    data_timeout: Duration,
    /// Tells when the reply to the final `.` began to be read.
    probe: Arc<Probe>,
    broken: bool,
    /// The server offers PIPELINING (RFC 2920): MAIL, RCPT and DATA go out in one write.
    pipelining: bool,
}

/// Notes the first read on a socket since it was last armed: armed before a message's text
/// goes out, it tells whether the text and its final `.` were written in full (lettre reads
/// the reply only after the whole write and its flush), and when the wait for the reply began.
#[derive(Debug)]
struct Probe {
    base: Instant,
    /// Nanoseconds from `base` to the first read since armed, plus one; 0: none yet.
    first_read: AtomicU64,
}

impl Probe {
    fn new() -> Self {
        Probe {
            base: Instant::now(),
            first_read: AtomicU64::new(0),
        }
    }

    fn arm(&self) {
        self.first_read.store(0, Ordering::SeqCst);
    }

    fn on_read(&self) {
        if self.first_read.load(Ordering::Relaxed) == 0 {
            let at = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1;
            let _ = self
                .first_read
                .compare_exchange(0, at, Ordering::SeqCst, Ordering::Relaxed);
        }
    }

    /// When the first read since [`Probe::arm`] happened, if one did.
    fn first_read(&self) -> Option<Instant> {
        match self.first_read.load(Ordering::SeqCst) {
            0 => None,
            n => Some(self.base + Duration::from_nanos(n - 1)),
        }
    }
}

/// The TCP socket under everything else (TLS included), reporting its reads to a [`Probe`].
#[derive(Debug)]
struct Probed {
    tcp: TcpStream,
    probe: Arc<Probe>,
}

impl AsyncRead for Probed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.probe.on_read();
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Probed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Probed {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.tcp.peer_addr()
    }
}

/// Lets lettre's TLS stream (`AsyncNetworkStream`, futures-io) stand where lettre expects a
/// tokio stream, so implicit TLS runs over our own `TCP_NODELAY` socket.
#[allow(deprecated)]
#[derive(Debug)]
struct TlsOverTcp(lettre::transport::smtp::client::AsyncNetworkStream);

impl AsyncRead for TlsOverTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TlsOverTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for TlsOverTcp {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}

/// Run `fut` for at most `limit`.
async fn bounded<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, SmtpError>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::from_smtp(&e)),
        Err(_) => Err(Failure::timeout(what, limit)),
    }
}

/// Run the sending of a message's text and final `.` (`fut`): the write must be done within
/// `timeout`, and the reply must come within `data_timeout` of the moment its wait began (the
/// first read the probe saw).
async fn end_of_data<T>(
    probe: &Probe,
    timeout: Duration,
    data_timeout: Duration,
    fut: impl Future<Output = Result<T, SmtpError>>,
) -> Result<T, Failure> {
    let mut fut = std::pin::pin!(fut);
    let written_by = Instant::now() + timeout;
    loop {
        let now = Instant::now();
        let wake = match probe.first_read() {
            Some(at) if now >= at + data_timeout => {
                return Err(Failure::timeout("the end of DATA", data_timeout));
            }
            Some(at) => at + data_timeout,
            None if now >= written_by => {
                return Err(Failure::transient(format!(
                    "the message could not be written within {}s",
                    timeout.as_secs()
                )));
            }
            // Look again when the reply's own wait would be over, should it begin now.
            None => written_by.min(now + data_timeout),
        };
        tokio::select! {
            result = &mut fut => return result.map_err(|e| Failure::from_smtp(&e)),
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {}
        }
    }
}

/// True when the error chain holds a TLS protocol or certificate problem (as opposed to a
/// dropped connection): tokio-rustls reports those as `InvalidData`.
fn is_tls_rejection(e: &SmtpError) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return io.kind() == io::ErrorKind::InvalidData;
        }
        source = s.source();
    }
    e.is_tls()
}

/// Why a handshake was refused, in plain words (an unknown authority, another host's name,
/// an expired certificate), not the TLS library's debug text.
fn tls_reason(e: &SmtpError) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return crate::tls::handshake_error(io);
        }
        source = s.source();
    }
    describe(e)
}

/// TLS for `target`: lettre's bundled web roots, plus the system's store and `[smtp] ca_file`.
fn tls_parameters(target: &SmtpTarget) -> Result<TlsParameters, ConnectError> {
    let fatal = |text: String| ConnectError::Fatal(Fatal::Tls(text));
    let mut builder = TlsParameters::builder(target.host().to_string())
        .dangerous_accept_invalid_certs(!target.verifies_certificates());
    for der in target
        .trust()
        .extra_roots()
        .map_err(|e| fatal(e.to_string()))?
    {
        match lettre::transport::smtp::client::Certificate::from_der(der.to_vec()) {
            Ok(cert) => builder = builder.add_root_certificate(cert),
            // one unusable certificate in the system store must not stop the send
            Err(_) => continue,
        }
    }
    builder.build_rustls().map_err(|e| fatal(describe(&e)))
}

fn client_id(target: &SmtpTarget) -> ClientId {
    match target.helo_name() {
        Some(name) => ClientId::Domain(name.to_string()),
        None => ClientId::default(),
    }
}

/// Classify a failure of greeting/EHLO/STARTTLS/AUTH.
fn setup_failure(stage: &'static str, f: Failure) -> ConnectError {
    if f.permanent && f.code.is_some() {
        ConnectError::Fatal(Fatal::Refused {
            stage,
            reply: f.reply(),
        })
    } else {
        ConnectError::Transient(Failure {
            text: format!("{stage}: {}", f.reply()),
            ..f
        })
    }
}

/// How a TLS handshake (implicit, or after STARTTLS) ended, as a connection error: a reply
/// the server gave, a certificate or protocol refusal (fatal), a broken connection or a
/// timeout (transient).
fn tls_result(
    handshake: Result<Result<(), SmtpError>, tokio::time::error::Elapsed>,
    stage: &'static str,
    timeout: Duration,
) -> Result<(), ConnectError> {
    match handshake {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.status().is_some() => Err(setup_failure(stage, Failure::from_smtp(&e))),
        Ok(Err(e)) if is_tls_rejection(&e) => Err(ConnectError::Fatal(Fatal::Tls(tls_reason(&e)))),
        Ok(Err(e)) => Err(ConnectError::Transient(Failure::transient(describe(&e)))),
        Err(_) => Err(ConnectError::Transient(Failure::timeout(stage, timeout))),
    }
}

/// How long a plain-SMTP connection waits for the greeting before asking, on a second
/// connection, whether the port is waiting for a TLS handshake instead.
const TLS_PROBE_AFTER: Duration = Duration::from_secs(2);

/// Before lettre reads the greeting of a plain (or STARTTLS) connection: a TLS record where
/// the greeting is due, or a silent port that answers a TLS ClientHello on a second
/// connection, is a port for `smtps://`, and retrying cannot change that. Returns once the
/// first bytes are there (or the connection ended) and are not TLS; a greeting that never
/// comes is the usual timeout.
async fn expect_greeting(
    tcp: &TcpStream,
    target: &SmtpTarget,
    timeout: Duration,
) -> Result<(), ConnectError> {
    let wrong_scheme = |what: &str| {
        ConnectError::Fatal(Fatal::WrongScheme(format!(
            "{what}: this port speaks TLS from the first byte (use smtps://{}:{})",
            target.host(),
            target.port()
        )))
    };
    let first = async {
        let mut buf = [0u8; 2];
        match tcp.peek(&mut buf).await {
            Ok(n) => buf[..n].to_vec(),
            Err(_) => Vec::new(),
        }
    };
    let probe = async {
        tokio::time::sleep(TLS_PROBE_AFTER.min(timeout / 2)).await;
        answers_tls(target, timeout).await
    };
    tokio::select! {
        first = tokio::time::timeout(timeout, first) => match first {
            Ok(bytes) if crate::tls::starts_tls_record(&bytes) => {
                Err(wrong_scheme("the server sent TLS where an SMTP greeting was due"))
            }
            Ok(_) => Ok(()),
            Err(_) => {
                let mut f = Failure::timeout("the greeting and EHLO", timeout);
                f.text.push_str(" (if this port speaks TLS from the first byte, as port 465 usually does, use smtps://)");
                Err(setup_failure("greeting/EHLO", f))
            }
        },
        true = probe => Err(wrong_scheme("the server sent no SMTP greeting but answers a TLS handshake")),
    }
}

/// Does the target's port answer a TLS ClientHello with a TLS record? Asked on a connection
/// of its own, which is then dropped.
async fn answers_tls(target: &SmtpTarget, timeout: Duration) -> bool {
    let Ok(hello) = crate::tls::client_hello(target.host()) else {
        return false;
    };
    let asked = async {
        let mut tcp = TcpStream::connect((target.host(), target.port())).await?;
        tcp.write_all(&hello).await?;
        let mut first = [0u8; 2];
        let n = tcp.read(&mut first).await?;
        io::Result::Ok(crate::tls::starts_tls_record(&first[..n]) && n > 0)
    };
    matches!(tokio::time::timeout(timeout, asked).await, Ok(Ok(true)))
}

impl Connection {
    /// Connect, greet, secure and log in as the target says. Every step waits at most
    /// `timeout`, except the reply to a message's final `.`, which may take `data_timeout`.
    pub async fn open(
        target: &SmtpTarget,
        timeout: Duration,
        data_timeout: Duration,
    ) -> Result<Connection, ConnectError> {
        let hello = client_id(target);
        let addr = (target.host(), target.port());
        let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(ConnectError::Transient(Failure::transient(e.to_string()))),
            Err(_) => {
                return Err(ConnectError::Transient(Failure::transient(format!(
                    "no connection within {}s",
                    timeout.as_secs()
                ))));
            }
        };
        // Each message ends with a small `.` write; without this it waits out the server's
        // delayed ACK (tens of milliseconds per message).
        tcp.set_nodelay(true)
            .map_err(|e| ConnectError::Transient(Failure::transient(e.to_string())))?;
        if target.security() != Security::Implicit {
            expect_greeting(&tcp, target, timeout).await?;
        }
        let probe = Arc::new(Probe::new());
        let tcp = Probed {
            tcp,
            probe: Arc::clone(&probe),
        };

        let stream: Box<dyn AsyncTokioStream> = if target.security() == Security::Implicit {
            let params = tls_parameters(target)?;
            #[allow(deprecated)]
            let mut tls = lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(
                Box::new(tcp),
            );
            let handshake = tokio::time::timeout(timeout, tls.upgrade_tls(params)).await;
            tls_result(handshake, "the TLS handshake", timeout)?;
            Box::new(TlsOverTcp(tls))
        } else {
            Box::new(tcp)
        };

        let mut inner = bounded(
            timeout,
            "the greeting and EHLO",
            AsyncSmtpConnection::connect_with_transport(stream, &hello),
        )
        .await
        .map_err(|f| setup_failure("greeting/EHLO", f))?;

        if target.security() != Security::Implicit {
            if inner.can_starttls() {
                let params = tls_parameters(target)?;
                let handshake = tokio::time::timeout(timeout, inner.starttls(params, &hello)).await;
                tls_result(handshake, "STARTTLS", timeout)?;
            } else if target.security() == Security::StartTlsRequired {
                return Err(ConnectError::Fatal(Fatal::TlsNotOffered));
            }
        }

        // lettre keeps only the extensions it acts on; ask once more to learn whether the
        // server pipelines (a second EHLO before any transaction only resets the session).
        let pipelining =
            match bounded(timeout, "EHLO", inner.command(Ehlo::new(hello.clone()))).await {
                Ok(reply) => reply.message().any(|line| {
                    line.split_whitespace()
                        .next()
                        .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
                }),
                Err(f) if f.code.is_some() => false,
                Err(f) => return Err(ConnectError::Transient(f)),
            };

        if let (Some(user), Some(password)) = (target.user(), target.password()) {
            let credentials = Credentials::new(user.to_string(), password.expose().to_string());
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            if inner
                .server_info()
                .get_auth_mechanism(&mechanisms)
                .is_none()
            {
                return Err(ConnectError::Fatal(Fatal::Auth(
                    "the server offers neither AUTH PLAIN nor AUTH LOGIN".into(),
                )));
            }
            match tokio::time::timeout(timeout, inner.auth(&mechanisms, &credentials)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    let f = Failure::from_smtp(&e);
                    return Err(if f.permanent && f.code.is_some() {
                        ConnectError::Fatal(Fatal::Auth(format!(
                            "login as `{user}` refused: {}",
                            f.reply()
                        )))
                    } else {
                        ConnectError::Transient(Failure {
                            text: format!("AUTH: {}", f.reply()),
                            ..f
                        })
                    });
                }
                Err(_) => return Err(ConnectError::Transient(Failure::timeout("AUTH", timeout))),
            }
        }
        Ok(Connection {
            inner,
            timeout,
            data_timeout,
            probe,
            broken: false,
            pipelining,
        })
    }

    /// MAIL FROM, RCPT TO and DATA: after this, only the message text and its final `.` remain.
    pub async fn begin(&mut self, from: &str, to: &str, body: &[u8]) -> Result<(), TxError> {
        let t = self.timeout;
        let sender =
            Address::from_str(from).map_err(|e| TxError::BadSender(format!("`{from}`: {e}")))?;
        let recipient = match Address::from_str(to) {
            Ok(a) => a,
            Err(e) => {
                return Err(TxError::Refused(Failure::permanent(format!(
                    "invalid recipient address `{to}`: {e}"
                ))));
            }
        };
        let info = self.inner.server_info();
        let mut params = Vec::new();
        if !from.is_ascii() || !to.is_ascii() {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(TxError::Refused(Failure::permanent(
                    "the address is not ASCII and the server does not support SMTPUTF8",
                )));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() && info.supports_feature(Extension::EightBitMime) {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let commands = [
            ("MAIL FROM", Mail::new(Some(sender), params).to_string()),
            ("RCPT TO", Rcpt::new(recipient, vec![]).to_string()),
            ("DATA", Data.to_string()),
        ];
        // The replies in order, up to the first failure (one by one) or the first that never
        // came (pipelined: the three commands in one write, RFC 2920).
        let mut replies: Vec<Result<(), Failure>> = Vec::with_capacity(3);
        if self.pipelining {
            let group = Commands(commands.iter().map(|(_, c)| c.as_str()).collect());
            for (what, _) in &commands {
                let reply = if replies.is_empty() {
                    bounded(t, what, self.inner.command(&group)).await
                } else {
                    bounded(t, what, self.inner.read_response()).await
                };
                let lost = matches!(&reply, Err(f) if f.code.is_none());
                replies.push(reply.map(drop));
                if lost {
                    break;
                }
            }
        } else {
            for (what, command) in commands {
                let reply = bounded(t, what, self.inner.command(Commands(command))).await;
                let failed = reply.is_err();
                replies.push(reply.map(drop));
                if failed {
                    break;
                }
            }
        }
        self.judge(replies).await
    }

    /// The transaction's fate from the replies to MAIL, RCPT and DATA: the first failure
    /// decides. A 5xx to MAIL refuses the sender, a 5xx to RCPT or DATA the member (the session
    /// is reset and kept); anything temporary, or no reply, breaks the connection.
    async fn judge(&mut self, replies: Vec<Result<(), Failure>>) -> Result<(), TxError> {
        let data_accepted = matches!(replies.get(2), Some(Ok(())));
        let Some((step, f)) = replies
            .into_iter()
            .enumerate()
            .find_map(|(step, r)| r.err().map(|f| (step, f)))
        else {
            return Ok(());
        };
        let error = match step {
            _ if f.code.is_none() || !f.permanent => return Err(TxError::Broken(f)),
            0 => TxError::SenderRefused(f),
            _ => TxError::Refused(f),
        };
        if data_accepted {
            // A pipelining server took DATA although an earlier command failed: end the empty
            // message at once (RFC 2920 §3.1); its reply is a refusal.
            let end = Commands(".\r\n".into());
            let _ = bounded(self.timeout, "the end of DATA", self.inner.command(end)).await;
        }
        self.reset().await;
        Err(error)
    }

    /// The message text and the final `.`; returns the server's reply (`250 2.0.0 Ok: queued`).
    /// A failure once the final `.` was written in full is [`TxError::Uncertain`].
    pub async fn finish(&mut self, body: &[u8]) -> Result<String, TxError> {
        // The terminator `CRLF . CRLF` supplies the last line's end; without this trim the
        // message would gain an empty last line.
        let body = body.strip_suffix(b"\r\n").unwrap_or(body);
        let (probe, timeout, data_timeout) =
            (Arc::clone(&self.probe), self.timeout, self.data_timeout);
        probe.arm();
        let sent = match std::str::from_utf8(body) {
            // One write of the dot-stuffed text and its terminator (lettre's `message` stuffs
            // byte by byte and writes the terminator apart: most of a send's CPU time).
            Ok(text) => {
                let command = self.inner.command(DataText(text));
                end_of_data(&probe, timeout, data_timeout, command).await
            }
            Err(_) => end_of_data(&probe, timeout, data_timeout, self.inner.message(body)).await,
        };
        match sent {
            Ok(r) => Ok(reply_text(&r)),
            Err(f) if f.permanent => Err(TxError::Refused(f)),
            // A reply came: the server said no for now, and the message may go again.
            Err(f) if f.code.is_some() => Err(TxError::Broken(f)),
            Err(f) if probe.first_read().is_some() => Err(TxError::Uncertain(f)),
            Err(f) => Err(TxError::Broken(f)),
        }
    }

    /// RSET after a refusal, so the next transaction starts clean; if that fails the
    /// connection is marked broken.
    async fn reset(&mut self) {
        if bounded(self.timeout, "RSET", self.inner.command(Rset))
            .await
            .is_err()
        {
            self.broken = true;
        }
    }

    /// True once the session can no longer be used (a failed RSET).
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Say goodbye politely, without waiting long.
    pub async fn quit(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.inner.quit()).await;
    }
}

/// SMTP command lines, sent as they are (each ends with CRLF).
struct Commands(String);

impl std::fmt::Display for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message's text as it goes after DATA (RFC 5321 §4.5.2): a `.` starting a line doubled,
/// then `CRLF . CRLF`. The text must not end with its last line's CRLF (the terminator's
/// supplies it).
struct DataText<'a>(&'a str);

impl std::fmt::Display for DataText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        let mut from = 0;
        if text.starts_with('.') {
            f.write_str(".")?;
        }
        for at in memchr::memmem::find_iter(text.as_bytes(), b"\r\n.") {
            f.write_str(&text[from..at + 2])?;
            f.write_str(".")?;
            from = at + 2;
        }
        f.write_str(&text[from..])?;
        f.write_str("\r\n.\r\n")
    }
}

fn reply_text(r: &Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    format!("{} {}", r.code(), lines.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_text_doubles_leading_dots_and_ends_with_the_terminator() {
        let cases = [
            ("a\r\nb", "a\r\nb\r\n.\r\n"),
            (
                ".a\r\n.b\r\n..c\r\nd.e",
                "..a\r\n..b\r\n...c\r\nd.e\r\n.\r\n",
            ),
            ("", "\r\n.\r\n"),
            ("x\r\n.", "x\r\n..\r\n.\r\n"),
            ("x\n.y\r.z", "x\n.y\r.z\r\n.\r\n"),
        ];
        for (text, wire) in cases {
            assert_eq!(DataText(text).to_string(), wire, "{text:?}");
        }
    }

    #[test]
    fn enhanced_status_is_found_at_the_start() {
        assert_eq!(
            enhanced_status("5.1.1 User unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced_status("4.7.0 try later").as_deref(), Some("4.7.0"));
        assert_eq!(
            enhanced_status("2.0.0 Ok: queued").as_deref(),
            Some("2.0.0")
        );
        assert_eq!(enhanced_status("5.7.133 x").as_deref(), Some("5.7.133"));
        assert_eq!(enhanced_status("User unknown 5.1.1"), None);
        assert_eq!(enhanced_status("3.1.1 odd"), None);
        assert_eq!(enhanced_status("5.1 short"), None);
        assert_eq!(enhanced_status("5.1.1.1 long"), None);
        assert_eq!(enhanced_status(""), None);
    }

    #[test]
    fn failure_reply_names_the_code() {
        let f = Failure {
            code: Some(550),
            enhanced: Some("5.1.1".into()),
            text: "5.1.1 no".into(),
            permanent: true,
        };
        assert_eq!(f.reply(), "550 5.1.1 no");
        assert_eq!(Failure::transient("reset").reply(), "reset");
    }
}
