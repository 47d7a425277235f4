//! Bounces whose facts are only in human text: qmail, Exim, older Sendmail and Postfix,
//! Exchange, Gmail, Yahoo, Domino, … One reader for all: find the lines that name a
//! recipient, and take the words that follow as its diagnostic.

use mail_parser::Message;

use super::message::{View, bounce_from_text};
use super::{Bounce, address};

/// Subjects of bounce messages, lower-case.
pub const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "failure notice",
    "failure delivery",
    "returned mail",
    "return mail",
    "mail delivery failed",
    "mail delivery failure",
    "mail delivery system",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "could not send message",
    "delivery notification",
    "mail system error",
    "message not delivered",
    "not delivered",
    "delivery problem",
    "mail could not be delivered",
    "warning: could not send",
    "delayed mail",
    "delivery delayed",
    "delivery is delayed",
    "message delivery has been delayed",
    "delivery notification: delivery has failed",
    "rejected:",
    "nondeliverable",
    "non-deliverable",
    "bounce",
    "error sending message",
    "mail failure",
    "problem with the message",
    "message status - undeliverable",
    "your message could not be delivered",
    "permanent failure",
    "temporary failure",
    "delivery report",
    "user unknown",
    "failed delivery",
    "returned to sender",
    "there was an error sending your mail",
    "mail was not delivered",
    "your message didn't reach",
];

/// Words of a failed delivery in a report's text, lower-case.
pub const BOUNCE_PHRASES: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "was not delivered",
    "undeliverable",
    "delivery failed",
    "delivery has failed",
    "permanent error",
    "wasn't able to deliver",
    "unable to deliver",
    "user unknown",
    "mailbox is full",
    "mailbox full",
    "no such user",
    "delivery to the following",
    "failed permanently",
];

/// Looser words of a failed delivery, enough together with a bounce-like subject.
pub const FAILURE_WORDS: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "undeliverable",
    "user unknown",
    "following address",
    "following recipient",
    "not be delivered",
    "could not deliver",
    "delivery error",
    "delivery failure",
    "delivery status notification",
    "no such",
    "does not exist",
    "quota",
    "smtp error",
    "remote host said",
    "giving up",
    "not reach",
    "attempting to deliver",
];

/// Lines (lower-case) after which the text is the returned original message.
const ORIGINAL_MARKERS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "original message follows",
    "original message -----",
    "original message ---",
    "----- original message",
    "-- original message",
    "---- original message",
    "original message headers",
    "headers of the original message",
    "header of the original message",
    "returned message",
    "unsent message below",
    "message headers follow",
    "message header follows",
    "your message reads",
    "content-type: message/rfc822",
    "original-message",
    "the original message headers",
    "a copy of the original message",
    "returned mail follows",
    "message text follows",
    "original text follows",
    "--- the header of the original message is following",
    "--- the message follows",
    "rfc822 headers",
    "headers are as follows",
    "the attachment contains the original mail headers",
];

/// The part of `body` before the returned original message.
pub fn before_original(body: &str) -> &str {
    let mut offset = 0;
    let mut seen_text = false;
    for line in body.split_inclusive('\n') {
        let l = line.trim().to_ascii_lowercase();
        // Postfix's template says "You can delete your own text from the attached returned
        // message." before the recipients' lines: a sentence, not the copy's heading.
        let is_marker = (super::phrases::holds_any(ORIGINAL_MARKERS, &l)
            && !l.contains("delete your own text from the attached returned message"))
            // A heading alone on its line (Verizon's gateways).
            || l == "original message:";
        let looks_like_headers = seen_text
            && (l.starts_with("return-path:")
                || l.starts_with("received: from")
                || l.starts_with("dkim-signature:"));
        if is_marker || looks_like_headers {
            return body.get(..offset).unwrap_or(body);
        }
        if !l.is_empty() {
            seen_text = true;
        }
        offset += line.len();
    }
    body
}

/// The part of `body` after the returned-original marker: the original's headers, if any.
pub fn after_original(body: &str) -> Option<&str> {
    let head = before_original(body);
    if head.len() >= body.len() {
        return None;
    }
    let rest = body.get(head.len()..)?;
    // Skip the marker line itself unless it is already a header line.
    let first = rest.lines().next().unwrap_or("");
    if first.contains(':') && !first.contains(' ') {
        return Some(rest);
    }
    Some(
        rest.split_once('\n')
            .map_or("", |(_, r)| r)
            .trim_start_matches(['\r', '\n']),
    )
}

/// Collapse whitespace to single spaces; cut at 1,000 characters.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(1024));
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        if out.len() > 1000 {
            break;
        }
    }
    if out.len() > 1000 {
        out = truncate(&out, 1000);
    }
    out
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    let mut cut = max.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.get(..cut).unwrap_or("").to_string()
}

/// Text of an HTML body: tags dropped, common entities decoded, block ends as newlines.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    let mut tag = String::new();
    let mut skip = false;
    for c in html.chars() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                let t = tag.trim_start_matches('/').to_ascii_lowercase();
                let name = t
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("");
                if matches!(name, "style" | "script" | "head") {
                    skip = !tag.starts_with('/');
                }
                if matches!(
                    name,
                    "br" | "p" | "div" | "tr" | "li" | "table" | "h1" | "h2" | "h3" | "td"
                ) {
                    out.push('\n');
                }
            } else if tag.len() < 64 {
                tag.push(c);
            }
        } else if c == '<' {
            in_tag = true;
            tag.clear();
        } else if !skip {
            out.push(c);
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The words said about `recipient` in `human`: its line's rest and the lines after it up to
/// a blank line or the next address line.
pub fn block_for(human: &str, recipient: &str) -> Option<String> {
    let lines: Vec<&str> = human.lines().collect();
    // The line that names the recipient as a recipient, else the first that mentions it.
    let idx = lines
        .iter()
        .position(|l| is_recipient_line(l).as_deref() == Some(recipient))
        .or_else(|| {
            lines
                .iter()
                .position(|l| l.to_ascii_lowercase().contains(recipient))
        })?;
    let mut out = String::new();
    let own = lines.get(idx).copied().unwrap_or("");
    let own_lc = own.to_ascii_lowercase();
    if let Some(pos) = own_lc.find(recipient) {
        let rest = own.get(pos + recipient.len()..).unwrap_or("");
        out.push_str(rest.trim_start_matches(['>', ':', ' ', '.', ',']));
    }
    for l in lines.iter().skip(idx + 1).take(12) {
        if l.trim().is_empty() && !out.trim().is_empty() {
            break;
        }
        if is_recipient_line(l).is_some() || mailer_line(own) && transcript_line(l) {
            break;
        }
        out.push(' ');
        out.push_str(l.trim());
    }
    let out = one_line(&out);
    (!out.is_empty()).then_some(out)
}

/// The whole of a multi-line reply whose first line is `first` (`550-5.7.1 …`: a code and a
/// hyphen, RFC 5321 §4.2.1, say more lines follow), as the notice's transcript quotes it
/// (`<<< 550-5.7.1 …` up to `<<< 550 5.7.1 …`), on one line. `None` when the transcript does
/// not hold it.
pub fn continued_reply(human: &str, first: &str) -> Option<String> {
    let first = first.trim();
    let b = first.as_bytes();
    if !(mailer_line(first) && b[3] == b'-') {
        return None;
    }
    let lines: Vec<&str> = human.lines().collect();
    let strip = |l: &str| l.trim().trim_start_matches("<<<").trim().to_string();
    let start = lines.iter().position(|l| strip(l) == first)?;
    let mut out = Vec::new();
    for l in &lines[start..] {
        let reply = strip(l);
        let rb = reply.as_bytes();
        if !(rb.len() >= 4 && rb[..3] == b[..3]) {
            break;
        }
        let last = rb[3] == b' ';
        out.push(reply);
        if last {
            break;
        }
    }
    (out.len() > 1).then(|| out.join(" "))
}

/// A line of a Sendmail session transcript: a reply or a mailer's line (`550 host (smtp)...
/// text`, `554 <addr>... text`), a command or reply echoed (`>>>`, `<<<`), or a session's
/// heading. After a recipient's own transcript line, such a line belongs to another.
fn transcript_line(line: &str) -> bool {
    let t = line.trim_start();
    mailer_line(t)
        || t.starts_with(">>>")
        || t.starts_with("<<<")
        || t.to_ascii_lowercase().starts_with("while talking to ")
}

/// A line that starts with a reply code (`554 <addr>... text`, `550-5.1.1 …`).
fn mailer_line(line: &str) -> bool {
    let b = line.trim_start().as_bytes();
    b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) && (b[3] == b' ' || b[3] == b'-')
}

/// The reply a notice quotes under a heading of its own ("The response from the remote server
/// was:", "The response was:", "The error that the other server returned was:"): the paragraph
/// after the heading, blank lines before it skipped.
pub fn quoted_response(human: &str) -> Option<String> {
    let mut lines = human.lines();
    lines.find(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.ends_with(" was:") && (l.starts_with("the response") || l.contains("server returned"))
    })?;
    let paragraph: Vec<&str> = lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .take(12)
        .collect();
    let out = one_line(&paragraph.join(" "));
    (!out.is_empty()).then_some(out)
}

/// If the line starts with an address (bare, in `<>`, or after a label), that address.
fn is_recipient_line(line: &str) -> Option<String> {
    let mut t = line
        .trim_start()
        .trim_start_matches(['-', '*', '>', '"', '\''])
        .trim_start();
    // A transcript line: `554 <addr>... reason`.
    if t.len() > 4
        && t.as_bytes().iter().take(3).all(u8::is_ascii_digit)
        && t.as_bytes().get(3) == Some(&b' ')
        && t.get(4..).is_some_and(|r| r.starts_with('<'))
    {
        t = t.get(4..).unwrap_or("");
    }
    let lower = t.to_ascii_lowercase();
    let labels = [
        "rcpt to:",
        "recipient:",
        "failed recipient:",
        "original recipient:",
        "original-recipient:",
        "final-recipient:",
        "recipient address:",
        "could not be delivered to:",
        "address:",
        "invalid recipient:",
        "<",
        "unknown user:",
        "user unknown:",
        "mailbox:",
        "addressee:",
    ];
    let mut rest = t;
    for l in labels {
        if lower.starts_with(l) {
            rest = t.get(l.len()..).unwrap_or("").trim_start();
            break;
        }
    }
    let rest = rest.trim_start_matches(['<', '"', ' ']);
    let rest = rest
        .strip_prefix("rfc822;")
        .map(str::trim_start)
        .unwrap_or(rest);
    let found = address::find_all(rest);
    let (pos, addr) = found.into_iter().next()?;
    if pos != 0 {
        return None;
    }
    // `a@x <b@y>`: a name-addr whose display name looks like an address (RFC 5322 §3.4);
    // the address is the one in angle brackets.
    let after = rest
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r.trim_start());
    if let Some(inner) = after
        .strip_prefix('<')
        .and_then(|a| a.split_once('>'))
        .and_then(|(a, _)| address::first(a))
    {
        return Some(inner);
    }
    Some(addr)
}

/// Read a human-text bounce.
pub fn read(msg: &Message<'_>, view: &View<'_>) -> Vec<Bounce> {
    let human = before_original(&view.body);
    let mut exclude: Vec<String> = view.to.clone();
    if let Some(f) = &view.from {
        exclude.push(f.clone());
    }
    for h in [
        "Delivered-To",
        "X-Original-To",
        "Return-Path",
        "Envelope-To",
    ] {
        if let Some(v) = msg.header_raw(h).and_then(address::first) {
            exclude.push(v);
        }
    }
    // The original sender, when the returned message says who it was.
    if let Some(f) = super::trace::original_from(view) {
        exclude.push(f);
    }
    let keep =
        |a: &str, exclude: &[String]| !exclude.iter().any(|e| e == a) && !address::is_daemon(a);

    let mut recipients: Vec<String> = Vec::new();
    if let Some(v) = msg.header_raw("X-Failed-Recipients") {
        for (_, a) in address::find_all(v) {
            if !recipients.contains(&a) {
                recipients.push(a);
            }
        }
    }
    for line in human.lines() {
        if let Some(a) = is_recipient_line(line)
            && !address::is_daemon(&a)
            && !recipients.contains(&a)
        {
            recipients.push(a);
        }
    }
    if recipients.is_empty() {
        // Fall back to phrases that introduce the recipient mid-line.
        let lower = human.to_ascii_lowercase();
        for key in [
            "address: <",
            "rcpt to:",
            "recipient:",
            "to the following",
            "delivery to",
            "deliver to",
            "to ",
            "for ",
            "user ",
            "address ",
            "mailbox ",
        ] {
            let mut from = 0;
            while let Some(pos) = lower.get(from..).and_then(|s| s.find(key)) {
                let start = from + pos + key.len();
                let window_end = (start + 200).min(lower.len());
                let mut end = window_end;
                while !lower.is_char_boundary(end) {
                    end -= 1;
                }
                if let Some(window) = lower.get(start..end)
                    && let Some((off, a)) = address::find_all(window).into_iter().next()
                    && off < 40
                    && keep(&a, &exclude)
                    && !recipients.contains(&a)
                {
                    recipients.push(a);
                }
                from = start;
            }
            if !recipients.is_empty() {
                break;
            }
        }
    }
    if recipients.is_empty() {
        // Last resort: any address in the text that is not the sender's or a daemon's.
        if let Some((_, a)) = address::find_all(human)
            .into_iter()
            .find(|(_, a)| keep(a, &exclude))
        {
            recipients.push(a);
        }
    }
    if recipients.is_empty() {
        // The original's To, when the text named no one.
        if let Some(a) = super::trace::original_to(view)
            && keep(&a, &exclude)
        {
            recipients.push(a);
        }
    }
    let context = one_line(human);
    // The server's reply, when the text quotes one apart from the recipient's block.
    let reply_line = human
        .lines()
        .map(str::trim)
        .find(|l| address::find_smtp_code(l).is_some())
        .map(str::to_string);
    recipients
        .into_iter()
        .map(|r| {
            let diag = block_for(human, &r).unwrap_or_default();
            let mut diag = if diag.len() < 8 {
                context.clone()
            } else {
                diag
            };
            if address::find_smtp_code(&diag).is_none()
                && let Some(reply) = &reply_line
            {
                diag.push(' ');
                diag.push_str(reply);
            }
            bounce_from_text(r, &diag, &context)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_the_returned_copy() {
        let body = "Hi.\n\n<a@b.example>:\n550 no\n\n--- Below this line is a copy of the message.\n\nTo: x@y.example\n";
        assert_eq!(before_original(body), "Hi.\n\n<a@b.example>:\n550 no\n\n");
        assert!(after_original(body).unwrap().starts_with("To: x@y.example"));
    }

    #[test]
    fn postfix_template_sentence_is_no_marker() {
        let body = "If you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n<a@b.example>: host mx.b.example[192.0.2.1] said: 550 no (in reply to end of DATA\n    command)\n";
        assert_eq!(before_original(body), body);
    }

    #[test]
    fn a_heading_alone_on_its_line() {
        let body = "Message could not be delivered to mobile.\nError: No valid recipients for this MM\nOriginal Message:\nTo: 0000@vzwpix.example\n";
        assert_eq!(
            before_original(body),
            "Message could not be delivered to mobile.\nError: No valid recipients for this MM\n"
        );
    }

    #[test]
    fn a_display_name_that_looks_like_an_address() {
        assert_eq!(
            is_recipient_line("  kim@example.com <lee@example.net>: malformed address: <lee@example.net> may not follow kim@example.com").as_deref(),
            Some("lee@example.net")
        );
        assert_eq!(
            is_recipient_line("  kim@example.com").as_deref(),
            Some("kim@example.com")
        );
        assert_eq!(
            is_recipient_line("kim@example.com: 550 see <http://example.com/why>").as_deref(),
            Some("kim@example.com")
        );
    }

    #[test]
    fn a_continued_reply_is_read_whole_from_the_transcript() {
        let human = "... while talking to mx.example.net.:\n>>> DATA\n\
<<< 550-5.7.1 This message does not have authentication information or fails to pass\n\
<<< 550-5.7.1 authentication checks. The message has been blocked.\n\
<<< 550 5.7.1 information. - gsmtp\n554 5.0.0 Service unavailable\n";
        let first =
            "550-5.7.1 This message does not have authentication information or fails to pass";
        assert_eq!(
            continued_reply(human, first).as_deref(),
            Some(
                "550-5.7.1 This message does not have authentication information or fails to pass 550-5.7.1 authentication checks. The message has been blocked. 550 5.7.1 information. - gsmtp"
            )
        );
        assert_eq!(continued_reply(human, "550 5.7.1 one line"), None);
        assert_eq!(continued_reply("nothing quoted", first), None);
    }

    #[test]
    fn a_transcript_line_of_a_recipient_ends_at_the_next_session_line() {
        // V5 Sendmail lists each recipient's result as `554 <addr>... text`; the mailer's
        // next line is another recipient's.
        let human = "While talking to example.edu:\n>>> DATA\n<<< 550 Refused.\n\
554 <kim@example.edu>... Remote protocol error: Connection reset by peer\n\
550 example.org (smtp)... 550 Host unknown\n\
554 <lee@example.org>... 550 Host unknown (Authoritative answer from name server)\n";
        assert_eq!(
            block_for(human, "kim@example.edu").as_deref(),
            Some("Remote protocol error: Connection reset by peer")
        );
        // A command line names the recipient too; the reply after it is still read.
        let human = ">>> RCPT To:<kim@example.net>\n<<< 550 5.1.1 User unknown\n";
        assert!(
            block_for(human, "kim@example.net")
                .unwrap()
                .contains("550 5.1.1 User unknown")
        );
    }

    #[test]
    fn block_after_an_address_line() {
        let human = "failed:\n\n  a@b.example\n    SMTP error from remote mail server after RCPT TO:<a@b.example>:\n    host mx: 550 5.1.1 unknown\n  c@d.example\n    other\n";
        let b = block_for(human, "a@b.example").unwrap();
        assert!(b.contains("550 5.1.1 unknown"), "{b}");
        assert!(!b.contains("other"), "{b}");
    }

    #[test]
    fn a_notice_that_attaches_the_original_headers() {
        let body = "1 error(s):\n\nThe following recipients returned permanent errors: a@b.example.\n\nThe attachment contains the original mail headers.\n";
        assert_eq!(
            before_original(body),
            "1 error(s):\n\nThe following recipients returned permanent errors: a@b.example.\n\n"
        );
    }

    #[test]
    fn the_reply_a_notice_quotes() {
        let human = "** Address not found **\n\nYour message wasn't delivered.\n\nThe response was:\n\nDNS Error: 1 DNS type 'mx' lookup of example.com responded with code NXDOMAIN\nDomain name not found: example.com\n\nLearn more\n";
        assert_eq!(
            quoted_response(human).as_deref(),
            Some(
                "DNS Error: 1 DNS type 'mx' lookup of example.com responded with code NXDOMAIN Domain name not found: example.com"
            )
        );
        assert_eq!(quoted_response("The message was:\nhello\n"), None);
    }

    #[test]
    fn html_to_text() {
        let t = strip_html("<p>a&amp;b</p><style>x{}</style>c");
        assert_eq!(t.split_whitespace().collect::<Vec<_>>(), ["a&b", "c"]);
    }

    #[test]
    fn one_line_cuts_on_a_char_boundary() {
        let s = "é".repeat(800);
        assert!(one_line(&s).len() <= 1000);
    }
}
