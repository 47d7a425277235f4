//! Reason words (as sisimai names them) and the hard/soft decision.
//!
//! A bounce's reason is decided from three things together: the status code (RFC 3463
//! enhanced codes, as the IANA registry describes each), the words of the diagnostic (see
//! [`super::phrases`]) and the mail systems involved (the reporting MTA's own statements, the
//! remote host's documented codes). The class follows from the reason alone, by sisimai's
//! documented policy ([`class_of`]): a 4xx that says "user unknown" is still a dead address.

use serde::Serialize;

use super::Class;

/// The reasons, each with its name: the enum, the list of all and the names from one table.
macro_rules! reasons {
    ($($variant:ident => $name:literal,)+) => {
        /// Why a message bounced, in sisimai's vocabulary.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Reason {
            $($variant,)+
        }

        impl Reason {
            /// Every reason, in the order of their declaration.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)+];

            /// sisimai's name of the reason.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $name,)+
                }
            }
        }
    };
}

reasons! {
    UserUnknown => "userunknown",
    HostUnknown => "hostunknown",
    HasMoved => "hasmoved",
    NotAccept => "notaccept",
    MailboxFull => "mailboxfull",
    ExceedLimit => "exceedlimit",
    MesgTooBig => "mesgtoobig",
    Suspend => "suspend",
    Blocked => "blocked",
    Rejected => "rejected",
    SpamDetected => "spamdetected",
    VirusDetected => "virusdetected",
    Filtered => "filtered",
    PolicyViolation => "policyviolation",
    SecurityError => "securityerror",
    NoRelaying => "norelaying",
    Expired => "expired",
    NetworkError => "networkerror",
    SystemError => "systemerror",
    SystemFull => "systemfull",
    TooManyConn => "toomanyconn",
    MailerError => "mailererror",
    ContentError => "contenterror",
    SyntaxError => "syntaxerror",
    OnHold => "onhold",
    Feedback => "feedback",
    Vacation => "vacation",
    Undefined => "undefined",
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a bounce with this reason and status, by sisimai's policy as its code applies
/// it (`Sisimai::SMTP::Error::soft_or_hard` in 4.x, `Sisimai::SMTP::Failure::is_hardbounce` in
/// 5.x): an unknown user or host and a moved address are hard; `notaccept` follows the reply
/// class (4xx soft, otherwise hard); `onhold` and `undefined` are soft whatever the code, since
/// nothing says the address is dead; a complaint and an auto-reply are no bounce; every other
/// reason is soft.
pub fn class_of(reason: Reason, status: Option<&str>) -> Class {
    match reason {
        Reason::Feedback => Class::Complaint,
        Reason::Vacation => Class::AutoReply,
        Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved => Class::Hard,
        Reason::NotAccept => {
            if status.is_some_and(|s| s.starts_with('4')) {
                Class::Soft
            } else {
                Class::Hard
            }
        }
        _ => Class::Soft,
    }
}

/// The reason an enhanced status code names on its own (RFC 3463 and the codes registered
/// after it: RFC 3886, 4468, 4954, 5248, 6710, 7293, 7372, 7505), or `None` when the code
/// is too general (`X.0.0`, `4.3.0`, …) to name one.
pub fn from_status(status: &str) -> Option<Reason> {
    use Reason::*;
    let mut it = status.splitn(3, '.');
    let class = it.next()?;
    let subject = it.next()?;
    let detail: u32 = it.next()?.parse().ok()?;
    let permanent = match class {
        "5" => true,
        "4" => false,
        _ => return None,
    };
    let r = match (permanent, subject, detail) {
        // X.1.x: addressing
        (_, "1", 6) => HasMoved,
        (_, "1", 7 | 8) => Rejected,
        (_, "1", 9) => SystemError,
        (true, "1", 0 | 1 | 3) => UserUnknown,
        (true, "1", 2) => HostUnknown,
        (true, "1", 4) => Filtered,
        (true, "1", 10) => NotAccept,
        // X.2.x: mailbox
        (false, "2", 1) => Suspend,
        (true, "2", 0 | 1 | 4) => Filtered,
        (_, "2", 2) => MailboxFull,
        (_, "2", 3) => ExceedLimit,
        (false, "2", 4) => Filtered,
        // X.3.x: mail system
        (_, "3", 1) => SystemFull,
        (_, "3", 2) => NotAccept,
        (_, "3", 3 | 5) => SystemError,
        (true, "3", 0) => SystemError,
        (true, "3", 4) => MesgTooBig,
        // X.4.x: network and routing
        (false, "4", 1) => Expired,
        (false, "4", 2 | 4 | 6) => NetworkError,
        (false, "4", 5) => SystemFull,
        (false, "4", 7) => Expired,
        (true, "4", 0) => NetworkError,
        (true, "4", 3) => SystemError,
        (true, "4", 4) => HostUnknown,
        // X.5.x: protocol
        (_, "5", 3) => {
            if permanent {
                TooManyConn
            } else {
                SystemError
            }
        }
        (_, "5", 5) => SystemError,
        (true, "5", 4) => SystemError,
        (true, "5", 6) => SecurityError,
        // X.6.x: content
        (false, "6", 0 | 2 | 5) => ContentError,
        (true, "6", 0..=3 | 5..=9) => ContentError,
        // X.7.x: security and policy
        (false, "7", 1 | 2) => Blocked,
        (false, "7", 5..=7 | 12 | 15 | 24) => SecurityError,
        (false, "7", 16) => MesgTooBig,
        (_, "7", 25) => Blocked,
        (true, "7", 13) => Suspend,
        (true, "7", 16) => MesgTooBig,
        (true, "7", 17 | 18) => HasMoved,
        (true, "7", 27) => NotAccept,
        (true, "7", 0..=11 | 14 | 15 | 19..=24 | 26) => SecurityError,
        _ => return None,
    };
    Some(r)
}

/// The SMTP command a refusal answered, when the words say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Connect,
    Helo,
    Mail,
    Rcpt,
    Data,
}

/// Find the command a diagnostic or transcript says the refusal answered.
pub fn command_in(lower: &str) -> Option<Command> {
    // Apache James lists the envelope under "Message details:" (`MAIL FROM:`, `RCPT TO:`) after
    // the error: a summary of the message, not a transcript.
    let lower = lower.split("message details:").next().unwrap_or(lower);
    const KEYS: &[(&str, Command)] = &[
        (">>> data", Command::Data),
        ("end of data", Command::Data),
        ("after data", Command::Data),
        ("data command", Command::Data),
        ("in reply to data", Command::Data),
        ("in reply to end of data", Command::Data),
        ("rcpt to", Command::Rcpt),
        ("rcpt command", Command::Rcpt),
        ("rcpt_to", Command::Rcpt),
        ("rcpt:", Command::Rcpt),
        ("smtp:rcpt", Command::Rcpt),
        ("smtp:data", Command::Data),
        ("smtp:mail", Command::Mail),
        ("does not like recipient", Command::Rcpt),
        // Exchange relaying the remote server's answer to a recipient.
        ("unknown recipient or mailbox unavailable ->", Command::Rcpt),
        // qmail-remote's other stages.
        ("failed after i sent the message", Command::Data),
        ("but greeting failed", Command::Connect),
        ("most progress was rcpt", Command::Rcpt),
        ("most progress was mail", Command::Mail),
        ("most progress was data", Command::Data),
        ("mail from", Command::Mail),
        ("mail command", Command::Mail),
        ("helo command", Command::Helo),
        ("ehlo command", Command::Helo),
        ("after helo", Command::Helo),
        ("after ehlo", Command::Helo),
        ("after initial connection", Command::Connect),
        // Postfix, of a server whose greeting refused us.
        ("refused to talk to me", Command::Helo),
        ("after connect", Command::Connect),
        ("connection rejected", Command::Connect),
    ];
    // m-FILTER names it under a heading of its own: `-------SMTP command` then `DATA`; Gmail
    // by the state its client was in: `(state 14).`
    if let Some(c) = headed_command(lower).or_else(|| gmail_state(lower).map(|(c, _)| c)) {
        return Some(c);
    }
    // The last command named is the one the refusal answered (transcripts list them in order).
    super::phrases::found(KEYS, lower)
        .max_by_key(|&(i, pos)| (pos, i))
        .map(|(i, _)| KEYS[i].1)
}

/// The command under m-FILTER's `-------SMTP command` heading.
fn headed_command(lower: &str) -> Option<Command> {
    let at = lower.find("-------smtp command")?;
    let word = lower[at + "-------smtp command".len()..]
        .split_whitespace()
        .next()?;
    let name = word.get(..4)?;
    match name {
        "data" => Some(Command::Data),
        "rcpt" => Some(Command::Rcpt),
        "mail" => Some(Command::Mail),
        "helo" | "ehlo" => Some(Command::Helo),
        _ => None,
    }
}

/// The SMTP state Gmail's notices name after the other server's reply ("The error that the
/// other server returned was: 550 5.1.1 … (state 14)."): the command it answered, and the reason
/// that state means when the reply's code names none.
fn gmail_state(lower: &str) -> Option<(Command, Reason)> {
    let at = lower.rfind("(state ")?;
    let rest = &lower[at + "(state ".len()..];
    let digits = rest.split(')').next()?;
    let n: u32 = digits.parse().ok()?;
    Some(match n {
        6 => (Command::Mail, Reason::SystemError),
        13 => (Command::Helo, Reason::Blocked),
        14 => (Command::Rcpt, Reason::UserUnknown),
        15 | 17 | 18 => (Command::Data, Reason::Filtered),
        _ => return None,
    })
}

/// Everything known about one recipient's failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// The recipient's diagnostic (the server's reply, or the words said about it).
    pub diagnostic: &'a str,
    /// The report's wider human text, read when the diagnostic says nothing.
    pub context: &'a str,
    /// The enhanced status code.
    pub status: Option<&'a str>,
    /// DSN `Action` (`failed`, `delayed`, …).
    pub action: Option<&'a str>,
    /// The command assumed when the words name none.
    pub command: Option<Command>,
    /// The diagnostic's type (`smtp`, `x-unix`, `x-postfix`), lower-case.
    pub diagnostic_type: Option<&'a str>,
    /// The host that refused the message.
    pub remote_mta: Option<&'a str>,
    /// The bounced address (its domain names the receiver when no host is given).
    pub recipient: Option<&'a str>,
}

/// Decide the reason of one failure.
///
/// In order: what the mail system itself says (its statements and, for the remote hosts
/// whose codes are documented, their codes); then the reasons that depend on the command
/// and the status code (sisimai's first pass: full mailbox, size, suspension, moved, relay,
/// unknown user, filter, refused sender, unknown host, spam, connections, blocked host);
/// then the status code's own reason, the remaining phrases, the status class, and the
/// action.
pub fn reason(f: &Facts<'_>) -> Reason {
    use Reason::*;
    let lower = f.diagnostic.to_lowercase();
    let words: String = if lower.trim().is_empty() {
        f.context.to_lowercase()
    } else {
        lower
    };
    let words = without_continuations(&words);
    let words = words.as_str();
    let status = f.status;
    if status.is_some_and(|s| s.starts_with("2.")) {
        return Undefined;
    }
    let command = command_in(words)
        .or_else(|| command_in(&f.context.to_lowercase()))
        .or(f.command);
    // Exim: a delivery to a file or a pipe that a forward or alias file generated.
    if words.starts_with(['/', '|']) && words.contains(" generated by ") {
        return MailerError;
    }
    if let Some(r) = super::rhost::reason(f.remote_mta, f.recipient, status, command, words) {
        return r;
    }
    let by_status = status.and_then(from_status);
    // Gmail's state names the reason when the reply's code is general (`5.0.0`, `5.7.0`).
    let general = by_status.is_none() || status.is_some_and(|s| s.ends_with(".0"));
    if general && let Some((_, r)) = gmail_state(words) {
        return r;
    }
    let smtp_type = f
        .diagnostic_type
        .is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("smtp"));
    // What the mail system says of itself is final, unless it is one of the reasons that the
    // code and the command may refine (an unknown user or host, network, system or security
    // trouble): those are weighed with the rest, and kept when nothing else speaks.
    let mut statement = super::phrases::mta_statement(words);
    // Exim gives up on an address with "ERROR: retry timeout exceeded": the words before name
    // the error that kept recurring (`mailbox is full: retry timeout exceeded`).
    if statement == Some(Expired)
        && let Some((before, _)) = words.split_once("retry timeout exceeded")
        && let Some(r) = super::phrases::mta_statement(before)
            .or_else(|| says(MailboxFull, before).then_some(MailboxFull))
    {
        statement = Some(r);
    }
    if let Some(r) = statement
        && !REFINED.contains(&r)
    {
        return r;
    }
    if smtp_type && let Some(r) = first_pass(words, status, by_status, command, statement) {
        return r;
    }
    if let Some(r) = statement {
        return r;
    }
    if let Some(r) = second_pass(
        words,
        status,
        by_status,
        f.diagnostic_type,
        f.action,
        command,
    ) {
        return r;
    }
    if f.action.is_some_and(|a| a.eq_ignore_ascii_case("delayed")) {
        return Expired;
    }
    if says(Vacation, words) {
        return Vacation;
    }
    if !words.trim().is_empty() {
        return OnHold;
    }
    Undefined
}

/// Reasons a mail system's statement names that the status code and the words may refine.
const REFINED: &[Reason] = &[
    Reason::UserUnknown,
    Reason::HostUnknown,
    Reason::NetworkError,
    Reason::SystemError,
    Reason::SecurityError,
    Reason::OnHold,
    Reason::Undefined,
];

fn says(reason: Reason, words: &str) -> bool {
    super::phrases::says(reason, words)
}

/// The reasons whose phrases only count when the command or the status code agrees.
fn first_pass(
    words: &str,
    status: Option<&str>,
    by_status: Option<Reason>,
    command: Option<Command>,
    statement: Option<Reason>,
) -> Option<Reason> {
    use Reason::*;
    let at_or_before_rcpt = matches!(
        command,
        Some(Command::Connect | Command::Helo | Command::Mail | Command::Rcpt)
    );
    let order = [
        MailboxFull,
        MesgTooBig,
        ExceedLimit,
        Suspend,
        HasMoved,
        NoRelaying,
        UserUnknown,
        Filtered,
        Rejected,
        HostUnknown,
        SpamDetected,
        TooManyConn,
        Blocked,
    ];
    order.into_iter().find(|&r| {
        statement == Some(r)
            || match r {
                MailboxFull => status.is_some() && (by_status == Some(r) || says(r, words)),
                MesgTooBig => {
                    by_status == Some(r)
                        || (by_status != Some(ExceedLimit)
                            && status != Some("5.2.3")
                            && says(r, words))
                }
                ExceedLimit | TooManyConn | Blocked => by_status == Some(r) || says(r, words),
                Suspend | HasMoved => says(r, words),
                NoRelaying => {
                    !matches!(command, Some(Command::Connect | Command::Helo)) && says(r, words)
                }
                UserUnknown => {
                    if by_status == Some(Suspend) {
                        false
                    } else if by_status == Some(UserUnknown) {
                        ![NoRelaying, Blocked, MailboxFull, HasMoved, NotAccept]
                            .iter()
                            .any(|o| says(*o, words))
                            && !super::phrases::says_rejected(words)
                    } else if status.is_some_and(|s| matches!(s, "4.1.0" | "4.1.1" | "4.1.3"))
                        && matches!(command, None | Some(Command::Rcpt))
                    {
                        // A temporary "bad destination mailbox address" (RFC 3463 X.1.1)
                        // whose words say the user is unknown, in answer to the recipient or
                        // to no command named: the mailbox does not exist, however the code
                        // is classed.
                        says(UserUnknown, words)
                    } else {
                        command == Some(Command::Rcpt) && says(UserUnknown, words)
                    }
                }
                Filtered => {
                    if by_status == Some(Suspend) {
                        false
                    } else if by_status == Some(Filtered) {
                        says(UserUnknown, words) || says(Filtered, words)
                    } else {
                        !at_or_before_rcpt && (says(Filtered, words) || says(UserUnknown, words))
                    }
                }
                Rejected => {
                    by_status == Some(Rejected)
                        || match command {
                            Some(Command::Mail) => super::phrases::says_rejected(words),
                            Some(Command::Data) => {
                                by_status != Some(UserUnknown)
                                    && super::phrases::says_rejected(words)
                            }
                            _ => {
                                matches!(
                                    by_status,
                                    None | Some(OnHold | SecurityError | SystemError)
                                ) && super::phrases::says_rejected(words)
                            }
                        }
                }
                HostUnknown => {
                    if by_status == Some(HostUnknown) {
                        !says(NetworkError, words)
                    } else {
                        says(HostUnknown, words)
                    }
                }
                SpamDetected => !at_or_before_rcpt && says(r, words),
                _ => false,
            }
    })
}

/// The status code's own reason, refined by the remaining phrases when the code is general.
fn second_pass(
    words: &str,
    status: Option<&str>,
    by_status: Option<Reason>,
    diagnostic_type: Option<&str>,
    action: Option<&str>,
    command: Option<Command>,
) -> Option<Reason> {
    use Reason::*;
    let general = match by_status {
        None => true,
        Some(
            Expired | Undefined | OnHold | SystemError | SecurityError | NetworkError | HostUnknown
            | UserUnknown,
        ) => true,
        Some(_) => false,
    };
    let smtp_type = diagnostic_type.is_none_or(|t| t.is_empty() || t == "smtp");
    if !general && smtp_type {
        return by_status;
    }
    let order = [
        MailboxFull,
        SpamDetected,
        PolicyViolation,
        VirusDetected,
        NoRelaying,
        SecurityError,
        SystemError,
        NetworkError,
        Suspend,
        Expired,
        ContentError,
        SystemFull,
        NotAccept,
        MailerError,
    ];
    if let Some(r) = order.into_iter().find(|&r| says(r, words)) {
        return Some(r);
    }
    if words.contains("exit ") && exit_status(words) {
        return Some(MailerError);
    }
    if by_status.is_some() {
        return by_status;
    }
    let prefix = status.map(|s| s.get(..3).unwrap_or(s));
    match prefix {
        Some("4.6" | "5.6") => return Some(ContentError),
        Some("4.7" | "5.7") => return Some(SecurityError),
        _ => {}
    }
    if diagnostic_type.is_some_and(|t| t == "x-unix" || t == "x-postfix") {
        return Some(MailerError);
    }
    if let Some(code) = super::address::find_smtp_code(words)
        && (500..=507).contains(&code)
    {
        return Some(SyntaxError);
    }
    if action.is_some_and(|a| a.starts_with("delayed") || a.starts_with("expired")) {
        return Some(Expired);
    }
    if command == Some(Command::Helo) {
        return Some(Blocked);
    }
    None
}

/// The reason and class of a refusal during the SMTP transaction: its reply code, enhanced
/// status code and text, as answered to RCPT TO or DATA.
pub fn classify_reply(
    permanent: bool,
    code: Option<u16>,
    enhanced: Option<&str>,
    text: &str,
) -> (Reason, Class) {
    let status = enhanced
        .map(str::to_string)
        .or_else(|| code.map(|c| format!("{}.0.0", c / 100)))
        .unwrap_or_else(|| if permanent { "5.0.0" } else { "4.0.0" }.to_string());
    let reason = reason(&Facts {
        diagnostic: text,
        status: Some(&status),
        command: Some(Command::Rcpt),
        ..Default::default()
    });
    (reason, class_of(reason, Some(&status)))
}

/// A multi-line reply on one line (`550-5.7.1 our system has 550-5.7.1 detected …`) without
/// the code at the head of each continuation, so phrases that span lines match.
fn without_continuations(words: &str) -> String {
    let mut out = String::with_capacity(words.len());
    let mut rest = words;
    let mut first = true;
    while let Some(pos) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, at) = rest.split_at(pos);
        let code_len = continuation_len(at);
        let boundary = before.is_empty() || before.ends_with(' ');
        if code_len > 0 && boundary && !(first && out.is_empty() && before.trim().is_empty()) {
            out.push_str(before);
            rest = &at[code_len..];
        } else {
            let step = at.char_indices().nth(1).map_or(at.len(), |(i, _)| i);
            out.push_str(before);
            out.push_str(&at[..step]);
            rest = &at[step..];
        }
        first = false;
    }
    out.push_str(rest);
    out
}

/// The length of `550-` or `550-5.7.1 ` at the start of `s` (a continuation line's head), or 0.
fn continuation_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.len() < 4
        || !b[..3].iter().all(u8::is_ascii_digit)
        || !matches!(b[0], b'2' | b'4' | b'5')
        || b[3] != b'-'
    {
        return 0;
    }
    let mut n = 4;
    // An enhanced code after it: `5.7.1 `.
    let tail = &s[4..];
    let code: String = tail
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if code.matches('.').count() == 2 && tail[code.len()..].starts_with(' ') {
        n += code.len() + 1;
    } else if tail.starts_with(|c: char| c.is_ascii_digit()) {
        // `555-1234`: a number, not a reply's head.
        return 0;
    }
    n
}

/// `exit N`: a delivery program's exit status.
fn exit_status(words: &str) -> bool {
    words
        .match_indices("exit ")
        .any(|(i, m)| words[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_holds_every_reason_once_in_order() {
        assert_eq!(Reason::ALL.len(), Reason::Undefined as usize + 1);
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?}");
            // `--json` writes the same name as the text output
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    fn r(diagnostic: &str, status: Option<&str>) -> Reason {
        reason(&Facts {
            diagnostic,
            status,
            command: status
                .filter(|s| !s.ends_with(".0.0"))
                .map(|_| Command::Rcpt),
            ..Default::default()
        })
    }

    fn class(diagnostic: &str, status: Option<&str>) -> Class {
        class_of(r(diagnostic, status), status)
    }

    #[test]
    fn the_class_follows_the_reason() {
        assert_eq!(class_of(Reason::UserUnknown, Some("4.0.0")), Class::Hard);
        assert_eq!(class_of(Reason::HostUnknown, None), Class::Hard);
        assert_eq!(class_of(Reason::HasMoved, Some("5.1.6")), Class::Hard);
        assert_eq!(class_of(Reason::NotAccept, Some("5.3.2")), Class::Hard);
        assert_eq!(class_of(Reason::NotAccept, Some("4.3.2")), Class::Soft);
        assert_eq!(class_of(Reason::NotAccept, None), Class::Hard);
        assert_eq!(class_of(Reason::OnHold, Some("5.0.0")), Class::Soft);
        assert_eq!(class_of(Reason::OnHold, Some("4.0.0")), Class::Soft);
        assert_eq!(class_of(Reason::Undefined, Some("5.0.0")), Class::Soft);
        assert_eq!(class_of(Reason::Undefined, None), Class::Soft);
        for soft in [
            Reason::MailboxFull,
            Reason::Suspend,
            Reason::Blocked,
            Reason::Filtered,
            Reason::SecurityError,
            Reason::Rejected,
            Reason::SpamDetected,
            Reason::PolicyViolation,
            Reason::Expired,
        ] {
            assert_eq!(class_of(soft, Some("5.0.0")), Class::Soft, "{soft}");
        }
        assert_eq!(class_of(Reason::Feedback, None), Class::Complaint);
        assert_eq!(class_of(Reason::Vacation, None), Class::AutoReply);
    }

    #[test]
    fn user_unknown_in_a_4xx_is_still_hard() {
        // Postfix with `unknown_local_recipient_reject_code = 450` while testing.
        let d = "450 4.1.1 <kim@example.org>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)";
        assert_eq!(r(d, Some("4.1.1")), Reason::UserUnknown);
        assert_eq!(class(d, Some("4.1.1")), Class::Hard);
    }

    #[test]
    fn unknown_users_as_mail_systems_say_it() {
        for (d, s) in [
            // Postfix
            (
                "550 5.1.1 <kim@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
                Some("5.1.1"),
            ),
            // Exim
            ("550 5.1.1 <kim@example.org>: unknown user", Some("5.1.1")),
            // Sendmail
            ("550 5.1.1 <kim@example.org>... User unknown", Some("5.1.1")),
            // Gmail
            (
                "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos",
                Some("5.1.1"),
            ),
            // Exchange 2007 and later
            (
                "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
                Some("5.1.1"),
            ),
            // Outlook.com
            (
                "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
                Some("5.5.0"),
            ),
            // Yahoo
            (
                "554 delivery error: dd This user doesn't have a yahoo.com account (kim@yahoo.com) [RCPT_TO]",
                Some("5.0.0"),
            ),
            // qmail
            ("Sorry, no mailbox here by that name. (#5.1.1)", None),
            // Domino
            ("kim@example.org is not listed in Domino Directory", None),
            // Exchange 2003
            ("The recipient name is not recognized", None),
        ] {
            assert_eq!(r(d, s), Reason::UserUnknown, "{d}");
        }
    }

    #[test]
    fn a_full_mailbox_is_soft_whatever_the_code() {
        for (d, s) in [
            ("552 5.2.2 Mailbox full", Some("5.2.2")),
            ("550 5.1.1 mailbox is full", Some("5.1.1")),
            (
                "452 4.2.2 The email account that you tried to reach is over quota.",
                Some("4.2.2"),
            ),
            (
                "552 RCPT TO:<kim@example.org> Mailbox disk quota exceeded",
                Some("5.0.0"),
            ),
            (
                "maildir delivery failed: userdisk quota 5000000 bytes exceeded",
                Some("5.2.2"),
            ),
        ] {
            assert_eq!(r(d, s), Reason::MailboxFull, "{d}");
            assert_eq!(class(d, s), Class::Soft, "{d}");
        }
    }

    #[test]
    fn our_sending_host_refused_is_not_a_dead_address() {
        for (d, s, want) in [
            (
                "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
                Some("5.7.1"),
                Reason::Blocked,
            ),
            (
                "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
                Some("5.7.1"),
                Reason::Blocked,
            ),
            (
                "553 5.7.1 <news@example.org>: Sender address rejected: not owned by user",
                Some("5.7.1"),
                Reason::Rejected,
            ),
            (
                "550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
                Some("5.7.26"),
                Reason::PolicyViolation,
            ),
            (
                "550 5.7.1 relay access denied",
                Some("5.7.1"),
                Reason::NoRelaying,
            ),
            (
                "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
                Some("4.7.0"),
                Reason::Blocked,
            ),
            (
                "550 5.7.1 Message rejected as spam by Content Filtering.",
                Some("5.7.1"),
                Reason::SpamDetected,
            ),
        ] {
            assert_eq!(r(d, s), want, "{d}");
            assert_eq!(class(d, s), Class::Soft, "{d}");
        }
    }

    #[test]
    fn spam_words_after_data() {
        let f = Facts {
            diagnostic: "554 5.7.1 This message has been identified as spam (in reply to end of DATA command)",
            status: Some("5.0.0"),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::SpamDetected);
    }

    #[test]
    fn hosts_and_domains() {
        assert_eq!(
            r(
                "Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found",
                Some("5.4.4")
            ),
            Reason::HostUnknown
        );
        assert_eq!(
            r("all relevant MX records point to non-existent hosts", None),
            Reason::HostUnknown
        );
        assert_eq!(
            r("556 5.1.10 Recipient address has null MX", Some("5.1.10")),
            Reason::NotAccept
        );
        assert_eq!(class("556 5.1.10 null MX", Some("5.1.10")), Class::Hard);
    }

    #[test]
    fn the_error_exim_retried_until_it_gave_up() {
        assert_eq!(
            r("mailbox is full: retry timeout exceeded", None),
            Reason::MailboxFull
        );
        assert_eq!(
            r(
                "all host address lookups failed permanently: retry timeout exceeded",
                None
            ),
            Reason::HostUnknown
        );
        assert_eq!(r("retry timeout exceeded", None), Reason::Expired);
    }

    #[test]
    fn delays_and_expiry() {
        assert_eq!(
            reason(&Facts {
                status: Some("4.4.7"),
                action: Some("delayed"),
                ..Default::default()
            }),
            Reason::Expired
        );
        assert_eq!(
            reason(&Facts {
                action: Some("delayed"),
                ..Default::default()
            }),
            Reason::Expired
        );
        assert_eq!(r("retry timeout exceeded", None), Reason::Expired);
        assert_eq!(reason(&Facts::default()), Reason::Undefined);
    }

    #[test]
    fn local_delivery_programs() {
        let f = Facts {
            diagnostic: "Command died with status 75: \"/usr/bin/procmail\"",
            status: Some("5.3.0"),
            diagnostic_type: Some("x-unix"),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::MailerError);
    }

    #[test]
    fn words_nobody_knows_are_soft_whatever_the_code() {
        // Nothing says the address is dead: a few more tries, then the soft limit suppresses it.
        let d = "550 5.0.0 computer says no";
        assert_eq!(r(d, Some("5.0.0")), Reason::OnHold);
        assert_eq!(class(d, Some("5.0.0")), Class::Soft);
        let d = "451 4.0.0 computer says not now";
        assert_eq!(class(d, Some("4.0.0")), Class::Soft);
    }

    #[test]
    fn gmail_notices_in_their_own_words() {
        // The "Address not found" notice, with only a generic code.
        let d = "Your message wasn't delivered to kim@example.com because the address couldn't be found, or is unable to receive mail.";
        assert_eq!(r(d, Some("5.0.0")), Reason::UserUnknown);
        assert_eq!(class(d, Some("5.0.0")), Class::Hard);
        // A domain whose null MX says it takes no mail; Gmail reports it with 4.0.0.
        let d = "DNS Error: 1234 DNS type 'mx' lookup of example.com responded with code NOERROR The domain example.com doesn't receive email according to the administrator: returned a Null MX";
        assert_eq!(r(d, Some("4.0.0")), Reason::NotAccept);
        assert_eq!(class(d, Some("4.0.0")), Class::Soft);
    }

    #[test]
    fn a_full_mailbox_under_a_user_unknown_code() {
        // Some servers put 5.1.1 in the Status field and the real reason in the reply.
        let f = Facts {
            diagnostic: "552 5.2.2 Over quota",
            status: Some("5.1.1"),
            command: Some(Command::Rcpt),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::MailboxFull);
    }

    #[test]
    fn a_receivers_codes_from_the_recipient_domain() {
        let f = Facts {
            diagnostic: "554 5.7.1 AUP#CXBL 192.0.2.7 blocked",
            status: Some("5.7.1"),
            command: Some(Command::Rcpt),
            recipient: Some("kim@cox.net"),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::Blocked);
    }

    #[test]
    fn m_filter_names_the_command_under_a_heading() {
        let text = "kim@example.jp\n\n-------server message\n550 unknown user <kim@example.jp>\n\n-------SMTP command\nDATA\n\n-------original message\n";
        assert_eq!(command_in(&text.to_lowercase()), Some(Command::Data));
        let f = Facts {
            diagnostic: "550 unknown user <kim@example.jp>",
            context: text,
            status: Some("5.0.0"),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::Filtered);
        let text = text.replace("DATA", "RCPT TO:<kim@example.jp>");
        let f = Facts {
            context: &text,
            ..f
        };
        assert_eq!(reason(&f), Reason::UserUnknown);
    }

    #[test]
    fn gmail_states() {
        let said = "The error that the other server returned was:";
        for (reply, status, want) in [
            (
                "550 550 no such user here (state 14).",
                "5.0.0",
                Reason::UserUnknown,
            ),
            (
                "554 554 5.7.0 Header error (state 18).",
                "5.7.0",
                Reason::Filtered,
            ),
            // A code that names a reason keeps it; the state gives the command.
            (
                "550 5.1.1 User unknown (state 17).",
                "5.1.1",
                Reason::UserUnknown,
            ),
        ] {
            let d = format!("{said} {reply}");
            let f = Facts {
                diagnostic: &d,
                status: Some(status),
                ..Default::default()
            };
            assert_eq!(reason(&f), want, "{d}");
        }
        let d = "550 5.1.1 user unknown (state 17).";
        assert_eq!(command_in(d), Some(Command::Data));
    }

    #[test]
    fn domains_that_cannot_be_reached_as_mtas_say_it() {
        for (d, want) in [
            (
                "550 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
                Reason::HostUnknown,
            ),
            (
                "The mail could not be delivered to the recipient because the domain is not reachable.",
                Reason::HostUnknown,
            ),
            ("Invalid domain name", Reason::HostUnknown),
            ("Destination seem to reject all mails", Reason::NotAccept),
            ("No MX found for domain", Reason::NetworkError),
            // Courier
            ("DNS lookup failed.", Reason::NetworkError),
            (
                "DNS Error: 1234 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found: example.jp",
                Reason::NetworkError,
            ),
        ] {
            assert_eq!(r(d, None), want, "{d}");
        }
        assert_eq!(
            class("Destination seem to reject all mails", Some("5.0.0")),
            Class::Hard
        );
    }

    #[test]
    fn james_message_details_are_no_transcript() {
        let text = "error: invalid user address\n\nerror message below:\n550 - requested action not taken: no such user here\n\nmessage details:\n  mail from: news@example.org\n  rcpt to: kim@example.net\n";
        assert_eq!(command_in(text), None);
        let f = Facts {
            diagnostic: "550 - Requested action not taken: no such user here",
            context: text,
            status: Some("5.0.0"),
            ..Default::default()
        };
        assert_eq!(reason(&f), Reason::Filtered);
    }

    #[test]
    fn a_greeting_that_refused_us() {
        let d = "host mx.example.net[192.0.2.1] refused to talk to me: 554 mx.example.net ESMTP not accepting messages";
        assert_eq!(command_in(&d.to_lowercase()), Some(Command::Helo));
        assert_eq!(class(d, Some("5.0.0")), Class::Soft);
    }

    #[test]
    fn qmail_remote_stages() {
        let d = "192.0.2.1 does not like recipient. Remote host said: 550 5.7.1 <kim@example.net>... Relaying denied";
        assert_eq!(command_in(&d.to_lowercase()), Some(Command::Rcpt));
        let d = "192.0.2.1 failed after I sent the message. Remote host said: 554 message refused";
        assert_eq!(command_in(&d.to_lowercase()), Some(Command::Data));
        let d = "SMTP:DATA host mx.example.net [192.0.2.1] said: 554 refused";
        assert_eq!(command_in(&d.to_lowercase()), Some(Command::Data));
        let d = "Sorry, no SMTP connection got far enough; most progress was RCPT TO.";
        assert_eq!(command_in(&d.to_lowercase()), Some(Command::Rcpt));
    }

    #[test]
    fn imail_server_words() {
        assert_eq!(
            r("Invalid final delivery userid: kim", None),
            Reason::UserUnknown
        );
        assert_eq!(
            r("User mailbox exceeds allowed size: kim@example.net", None),
            Reason::MailboxFull
        );
    }

    #[test]
    fn exchange_2003_ims_codes() {
        let d = "kim@example.net MSEXCH:IMS:Example:SITE:MAIL01 0 (000C05A6) Unknown Recipient";
        assert_eq!(r(d, None), Reason::UserUnknown);
        let d = "kim@example.net MSEXCH:IMS:Example:SITE:MAIL01 0 (000C0595) Ambiguous Recipient";
        assert_eq!(r(d, None), Reason::Filtered);
        let d = "kim@example.net MSEXCH:IMS:Example:SITE:MAIL01 0 (00120270) Too Many Hops";
        assert_eq!(r(d, None), Reason::NetworkError);
    }

    #[test]
    fn domino_in_japanese() {
        assert_eq!(
            r(
                "kim@example.jp は Domino ディレクトリには見つかりません",
                None
            ),
            Reason::UserUnknown
        );
    }

    #[test]
    fn continuation_heads_are_dropped() {
        assert_eq!(
            without_continuations("550-5.7.1 our system has 550-5.7.1 detected spam 550 5.7.1 bye"),
            "550-5.7.1 our system has detected spam 550 5.7.1 bye"
        );
        assert_eq!(
            without_continuations("call 555-1234 now"),
            "call 555-1234 now"
        );
    }

    #[test]
    fn status_codes_alone() {
        assert_eq!(from_status("5.1.1"), Some(Reason::UserUnknown));
        assert_eq!(from_status("5.1.2"), Some(Reason::HostUnknown));
        assert_eq!(from_status("5.2.2"), Some(Reason::MailboxFull));
        assert_eq!(from_status("4.2.2"), Some(Reason::MailboxFull));
        assert_eq!(from_status("5.7.1"), Some(Reason::SecurityError));
        assert_eq!(from_status("4.7.1"), Some(Reason::Blocked));
        assert_eq!(from_status("5.7.13"), Some(Reason::Suspend));
        assert_eq!(from_status("5.0.0"), None);
        assert_eq!(from_status("4.1.1"), None);
        assert_eq!(from_status("2.0.0"), None);
    }
}
