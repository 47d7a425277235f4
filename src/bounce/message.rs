//! One raw message → a [`Report`]: finds the parts (status, feedback, returned original, human
//! text) and hands them to the readers of each format.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::classify::{self, Reason};
use super::{
    Bounce, Kind, Report, Trace, address, autoreply, dsn, feedback, fml, lhost, ses, text, trace,
};

/// The pieces of a message that matter for reading a bounce.
#[derive(Default)]
pub(crate) struct View<'a> {
    pub subject: String,
    pub from: Option<String>,
    pub to: Vec<String>,
    /// `Content-Type` of the message, lower-case (`multipart/report`), with its report-type.
    pub content_type: String,
    pub report_type: String,
    pub delivery_status: Option<String>,
    pub feedback_report: Option<String>,
    /// The returned original message, when attached as message/rfc822.
    pub original: Option<&'a Message<'a>>,
    /// The returned original's headers, when attached as text/rfc822-headers or found in text.
    pub original_headers: Option<String>,
    /// Human-readable text of the report (text/plain parts, or text of HTML parts).
    pub body: String,
    /// The returned original's headers as (name, value), read once when first asked for
    /// (`trace::original_headers`).
    pub original_fields: std::cell::OnceCell<Vec<(String, String)>>,
}

fn lower_ct(part: &mail_parser::MessagePart<'_>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        ),
        None => (String::new(), String::new()),
    }
}

impl<'a> View<'a> {
    pub fn new(msg: &'a Message<'a>) -> Self {
        let mut v = View {
            subject: msg.subject().unwrap_or("").to_string(),
            from: msg
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(|s| s.to_ascii_lowercase()),
            to: msg
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|a| a.address())
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
            ..Default::default()
        };
        if let Some(ct) = msg.content_type() {
            v.content_type = format!(
                "{}/{}",
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("").to_ascii_lowercase()
            );
            v.report_type = ct
                .attribute("report-type")
                .unwrap_or("")
                .to_ascii_lowercase();
        }
        let mut html = String::new();
        for part in &msg.parts {
            let (t, s) = lower_ct(part);
            match &part.body {
                PartType::Message(m) => {
                    if v.original.is_none() {
                        v.original = Some(m);
                    }
                }
                PartType::Multipart(_) => {}
                body => {
                    let bytes: &[u8] = match body {
                        PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
                        PartType::Binary(b) | PartType::InlineBinary(b) => b,
                        _ => &[],
                    };
                    match (t.as_str(), s.as_str()) {
                        ("message" | "text", "delivery-status" | "global-delivery-status")
                        | ("message", "x-delivery-status") => {
                            let txt = String::from_utf8_lossy(bytes);
                            v.delivery_status
                                .get_or_insert_with(String::new)
                                .push_str(&txt);
                            if let Some(ds) = v.delivery_status.as_mut() {
                                ds.push('\n');
                            }
                        }
                        ("message", "feedback-report") => {
                            v.feedback_report = Some(String::from_utf8_lossy(bytes).into_owned());
                        }
                        ("text" | "message", "rfc822-headers")
                        | ("message", "rfc822" | "global") => {
                            v.original_headers
                                .get_or_insert_with(|| String::from_utf8_lossy(bytes).into_owned());
                        }
                        ("text", "html") => {
                            html.push_str(&text::strip_html(&String::from_utf8_lossy(bytes)));
                            html.push('\n');
                        }
                        ("text", _) | ("", _) | ("multipart", _) => {
                            if let PartType::Text(t) = body {
                                v.body.push_str(t);
                            } else {
                                v.body.push_str(&String::from_utf8_lossy(bytes));
                            }
                            v.body.push('\n');
                        }
                        _ => {}
                    }
                }
            }
        }
        if v.body.trim().is_empty() {
            v.body = html;
        }
        v
    }

    /// Does the message look like a report from a mail system (not a person's message)?
    pub fn looks_like_bounce(&self, msg: &Message<'_>) -> bool {
        if self.content_type == "multipart/report" || self.delivery_status.is_some() {
            return true;
        }
        if msg.header_raw("X-Failed-Recipients").is_some() {
            return true;
        }
        let local = self
            .from
            .as_deref()
            .map(|f| f.split('@').next().unwrap_or(""))
            .unwrap_or("");
        let from_daemon = local.starts_with("mailer-daemon")
            || local.starts_with("postmaster")
            || matches!(
                local,
                "mail-daemon" | "mailerdaemon" | "mdaemon" | "post_master"
            )
            || msg
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .is_some_and(|n| {
                    let n = n.to_ascii_lowercase();
                    n.contains("mail delivery")
                        || n.contains("mailer-daemon")
                        || n.contains("mailer daemon")
                        || n.contains("postmaster")
                });
        if from_daemon {
            return true;
        }
        // Weaker signs (a bounce-like subject or sender) need words of a failed delivery
        // too, so a reader's "Re: the message you sent" is not read as a bounce.
        let subject = self.subject.to_lowercase();
        let weak =
            text::BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s)) || local.contains("bounce");
        let says_failed = || {
            let head = text::truncate(text::before_original(&self.body), 4000).to_lowercase();
            text::BOUNCE_PHRASES
                .iter()
                .chain(text::FAILURE_WORDS)
                .any(|p| head.contains(p))
        };
        if weak && says_failed() {
            return true;
        }
        // A returned copy attached, and words of a failed delivery before it.
        if self.original.is_some() || self.original_headers.is_some() {
            let head = text::truncate(text::before_original(&self.body), 4000).to_lowercase();
            return text::BOUNCE_PHRASES.iter().any(|p| head.contains(p));
        }
        false
    }
}

/// Read one raw message. Never panics; a message that is no bounce, complaint or auto-reply
/// gives a report with no `kind` and no bounces.
pub fn parse(raw: &[u8]) -> Report {
    // mail-parser 0.11 has a `debug_assert!` that some malformed multiparts reach (found by
    // fuzzing); a message it cannot take apart is no report, never a crash.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(raw)
    }));
    let Ok(Some(msg)) = parsed else {
        return Report::none();
    };
    let view = View::new(&msg);
    let mut report = Report::none();
    report.message_id = msg.message_id().map(str::to_string);
    report.date = msg.date().map(|d| d.to_rfc3339());
    report.trace = trace::trace(&msg, &view);

    if let Some((kind, bounces)) = ses::read(&view) {
        report.kind = Some(kind);
        report.bounces = bounces;
        return report;
    }
    if let Some(bounces) = fml::read(&msg, &view) {
        report.kind = Some(Kind::Text);
        report.bounces = bounces;
        return report;
    }
    if let Some(bounces) = forwarded_arf(&view).or_else(|| feedback::read(&msg, &view)) {
        report.kind = Some(Kind::Feedback);
        report.bounces = bounces;
        return report;
    }

    let body_fields = view.delivery_status.is_none()
        && view.body.to_ascii_lowercase().contains("final-recipient:");
    let ds_text = if body_fields {
        Some(view.body.as_str())
    } else {
        view.delivery_status.as_deref()
    };
    if let Some(ds_text) = ds_text {
        let ds = dsn::parse(ds_text);
        let mut bounces = from_dsn(&ds, &view);
        if !bounces.is_empty() {
            refine_by_reporter(&msg, &view, &mut bounces);
            report.kind = Some(Kind::Dsn);
            report.bounces = bounces;
            return report;
        }
    }
    let bouncy = view.looks_like_bounce(&msg);
    if !bouncy && let Some(b) = autoreply::read(&msg, &view) {
        report.kind = Some(Kind::AutoReply);
        report.bounces = vec![b];
        return report;
    }
    if bouncy && let Some((bounces, trace)) = forwarded_dsn(&view) {
        report.kind = Some(Kind::Dsn);
        report.bounces = bounces;
        // The attached report was sent to our bounce address; the notice may have gone to a
        // gateway's own list of recipients.
        if trace.verp_token.is_some() || report.trace.verp_token.is_none() {
            report.trace = trace;
        } else {
            report.trace = Trace {
                verp_token: report.trace.verp_token.take(),
                bounce_address: report.trace.bounce_address.take(),
                ..trace
            };
        }
        return report;
    }
    if bouncy {
        let mut bounces = text::read(&msg, &view);
        if !bounces.is_empty() {
            refine_by_reporter(&msg, &view, &mut bounces);
            report.kind = Some(Kind::Text);
            report.bounces = bounces;
        }
    }
    report
}

/// The reasons a reporting system's own words name (see [`lhost`]).
fn refine_by_reporter(msg: &Message<'_>, view: &View<'_>, bounces: &mut [Bounce]) {
    if let Some(r) = lhost::reporter(msg, view) {
        let words = match r {
            lhost::Reporter::PowerMta => view.delivery_status.as_deref().unwrap_or(""),
            _ => text::before_original(&view.body),
        };
        lhost::refine(r, bounces, words);
    }
}

/// A delivery report passed on whole, as an attached message, by a mail system that notifies
/// someone of the failures it sees (a gateway's notice to its own list of recipients): the
/// notice names no one itself; the attached report's delivery-status part names the
/// recipients, and the original it returns is ours.
fn forwarded_dsn(view: &View<'_>) -> Option<(Vec<Bounce>, Trace)> {
    if view.delivery_status.is_some() {
        return None;
    }
    let inner = view.original?;
    let inner_view = View::new(inner);
    let ds = dsn::parse(inner_view.delivery_status.as_deref()?);
    let mut bounces = from_dsn(&ds, &inner_view);
    if bounces.is_empty() {
        return None;
    }
    refine_by_reporter(inner, &inner_view, &mut bounces);
    Some((bounces, trace::trace(inner, &inner_view)))
}

/// An ARF report forwarded whole, as an attached message (an abuse desk passing it on): the
/// complainant is in the attached report, not in the forward's headers.
fn forwarded_arf(view: &View<'_>) -> Option<Vec<Bounce>> {
    if view.delivery_status.is_some() || view.feedback_report.is_some() {
        return None;
    }
    let inner = view.original?;
    let inner_view = View::new(inner);
    let is_arf =
        inner_view.feedback_report.is_some() || inner_view.report_type == "feedback-report";
    if is_arf {
        feedback::read(inner, &inner_view)
    } else {
        None
    }
}

fn from_dsn(ds: &dsn::DeliveryStatus, view: &View<'_>) -> Vec<Bounce> {
    let mut out: Vec<Bounce> = Vec::new();
    let human = text::before_original(&view.body);
    for r in &ds.recipients {
        if matches!(
            r.action.as_deref(),
            Some("delivered" | "relayed" | "expanded" | "delivered (to mailbox)")
        ) {
            continue;
        }
        let recipient = r
            .final_recipient
            .as_deref()
            .and_then(|v| dsn_address(v, ds.reporting_mta.as_deref()))
            .or_else(|| {
                r.original_recipient
                    .as_deref()
                    .and_then(|v| dsn_address(v, ds.reporting_mta.as_deref()))
            });
        let Some(recipient) = recipient else { continue };
        let mut diagnostic = r.diagnostic.clone().unwrap_or_default();
        if diagnostic.trim().is_empty() {
            diagnostic = text::block_for(human, &recipient).unwrap_or_default();
            // The notice may quote the reply apart from the recipient's lines (Google's "The
            // response was:").
            if let Some(reply) = text::quoted_response(human)
                && !text::one_line(&diagnostic).contains(&reply)
            {
                diagnostic.push(' ');
                diagnostic.push_str(&reply);
            }
        } else if let Some(whole) = text::continued_reply(human, &diagnostic) {
            // The field holds the first line of a multi-line reply; the transcript, all of it.
            diagnostic = whole;
        }
        let diagnostic = text::one_line(&diagnostic);
        let status = pick_status(r.status.as_deref(), &diagnostic);
        let remote_mta = r
            .remote_mta
            .as_deref()
            .map(|s| dsn::typed_value(s).to_string());
        let reason = classify::reason(&classify::Facts {
            diagnostic: &diagnostic,
            context: human,
            status: status.as_deref(),
            action: r.action.as_deref(),
            // A specific status code without a named command: most likely refused at RCPT.
            // No command is assumed: words that name none are weighed as sisimai weighs them
            // (an unknown-user phrase under another code, at no known command, is a filter).
            command: None,
            diagnostic_type: r.diagnostic_type.as_deref(),
            remote_mta: remote_mta.as_deref(),
            recipient: Some(&recipient),
        });
        if out.iter().any(|b| b.recipient == recipient) {
            continue;
        }
        out.push(Bounce {
            class: classify::class_of(reason, status.as_deref()),
            smtp_code: address::find_smtp_code(&diagnostic),
            recipient,
            status,
            reason,
            action: r.action.clone(),
            diagnostic,
            reporting_mta: ds.reporting_mta.clone(),
            remote_mta,
        });
    }
    out
}

/// The address of a recipient field's value: taken whole when it is one token with an `@`
/// (quoted local parts, encoded words and dotless domains survive), the first address in it
/// otherwise; a bare local part gets the reporting host's domain.
fn dsn_address(value: &str, reporting_mta: Option<&str>) -> Option<String> {
    let v = value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if !v.is_empty() && !v.contains(char::is_whitespace) && v.matches('@').count() == 1 {
        let (local, domain) = v.split_once('@')?;
        if !local.is_empty() && !domain.is_empty() && !v.contains(['<', '>', ',', ';']) {
            return Some(v.to_lowercase());
        }
    }
    if let Some(a) = address::first(v) {
        return Some(a);
    }
    let local_only = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b));
    match reporting_mta {
        Some(host) if local_only && host.contains('.') && !host.contains(char::is_whitespace) => {
            Some(format!("{v}@{host}").to_lowercase())
        }
        _ => None,
    }
}

/// The status field's code, or the diagnostic's when the field is missing or generic (`5.0.0`)
/// or when the diagnostic's names a condition precisely (`552 5.2.2 Over quota` under
/// `Status: 5.1.1`: the server's own reply is the better witness, as the reference reads it).
pub(crate) fn pick_status(field: Option<&str>, diagnostic: &str) -> Option<String> {
    let from_field = field.and_then(address::find_status);
    let from_diag = address::find_status(diagnostic);
    match (from_field, from_diag) {
        (Some(f), Some(d))
            if f.ends_with(".0.0") && d.as_bytes().first() == f.as_bytes().first()
                || names_one(&d) =>
        {
            Some(d)
        }
        (Some(f), _) => Some(f),
        (None, d) => {
            d.or_else(|| address::find_smtp_code(diagnostic).map(|c| format!("{}.0.0", c / 100)))
        }
    }
}

/// A code whose subject and detail are both one non-zero digit (`5.2.2`, not `5.7.0` or
/// `5.7.26`): one that names a condition precisely.
fn names_one(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && matches!(b[0], b'4' | b'5')
        && (b'1'..=b'9').contains(&b[2])
        && (b'1'..=b'9').contains(&b[4])
}

/// Build a bounce from a recipient and the words said about it.
pub(crate) fn bounce_from_text(recipient: String, diagnostic: &str, context: &str) -> Bounce {
    let diagnostic = text::one_line(diagnostic);
    let status = pick_status(None, &diagnostic).or_else(|| pick_status(None, context));
    let remote_mta = remote_host_in(&diagnostic);
    let reason: Reason = classify::reason(&classify::Facts {
        diagnostic: &diagnostic,
        context,
        status: status.as_deref(),
        recipient: Some(&recipient),
        remote_mta: remote_mta.as_deref(),
        ..Default::default()
    });
    Bounce {
        class: classify::class_of(reason, status.as_deref()),
        smtp_code: address::find_smtp_code(&diagnostic),
        recipient,
        status,
        reason,
        action: Some("failed".into()),
        diagnostic,
        reporting_mta: None,
        remote_mta,
    }
}

/// The remote host a text bounce names before its reply: Postfix's `host mx.example.net[192.0.2.1]
/// said:`, Exim's `host mx.example.net [192.0.2.1]:`.
fn remote_host_in(diagnostic: &str) -> Option<String> {
    let mut rest = diagnostic;
    while let Some(at) = rest.find("host ") {
        let after = &rest[at + "host ".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        let tail = after[name.len()..].trim_start();
        if name.contains('.')
            && name.contains(|c: char| c.is_ascii_alphabetic())
            && tail.starts_with('[')
        {
            return Some(name.trim_end_matches('.').to_ascii_lowercase());
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::pick_status;

    #[test]
    fn the_remote_host_of_a_text_bounce() {
        use super::remote_host_in;
        assert_eq!(
            remote_host_in("host mx1.example.net[192.0.2.1] said: 550 no").as_deref(),
            Some("mx1.example.net")
        );
        assert_eq!(
            remote_host_in("SMTP error from remote mail server after RCPT TO:<a@b>: host MX.Example.NET [192.0.2.1]: 550 no").as_deref(),
            Some("mx.example.net")
        );
        assert_eq!(remote_host_in("unknown host, sorry"), None);
    }

    #[test]
    fn the_status_a_bounce_keeps() {
        let s = |f: Option<&str>, d: &str| pick_status(f, d);
        assert_eq!(
            s(Some("5.0.0"), "550 5.1.1 unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            s(Some("5.1.1"), "552 5.2.2 over quota").as_deref(),
            Some("5.2.2")
        );
        assert_eq!(
            s(Some("5.1.1"), "550 5.7.0 refused").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            s(Some("5.7.1"), "550 5.7.26 dmarc").as_deref(),
            Some("5.7.1")
        );
        assert_eq!(s(None, "550 no such user").as_deref(), Some("5.0.0"));
        assert_eq!(s(None, "no code"), None);
    }
}
