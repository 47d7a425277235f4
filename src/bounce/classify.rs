//! Reason words (as sisimai names them) and the hard/soft decision.

use serde::Serialize;

use super::Class;

/// Why a message bounced, in sisimai's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    UserUnknown,
    HostUnknown,
    HasMoved,
    NotAccept,
    MailboxFull,
    ExceedLimit,
    MesgTooBig,
    Suspend,
    Blocked,
    Rejected,
    SpamDetected,
    VirusDetected,
    Filtered,
    PolicyViolation,
    SecurityError,
    NoRelaying,
    Expired,
    NetworkError,
    SystemError,
    SystemFull,
    TooManyConn,
    MailerError,
    ContentError,
    SyntaxError,
    OnHold,
    Feedback,
    Vacation,
    Undefined,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        use Reason::*;
        match self {
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
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a bounce with this reason and status: dead addresses (unknown user or host,
/// moved, refused outright with a 5xx) are hard; everything else is soft.
pub fn class_of(reason: Reason, status: Option<&str>) -> Class {
    match reason {
        Reason::Feedback => Class::Complaint,
        Reason::Vacation => Class::AutoReply,
        Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved => Class::Hard,
        Reason::NotAccept if status.is_some_and(|s| s.starts_with('5')) => Class::Hard,
        _ => Class::Soft,
    }
}

/// The reason an enhanced status code names on its own, if it is specific enough.
pub fn from_status(status: &str) -> Option<Reason> {
    use Reason::*;
    let mut it = status.splitn(3, '.');
    let class = it.next()?;
    let subject = it.next()?;
    let detail = it.next()?;
    let r = match (subject, detail) {
        ("1", "1") | ("1", "3") | ("1", "10") | ("1", "351") => UserUnknown,
        ("1", "2") => HostUnknown,
        ("1", "6") => HasMoved,
        ("1", "7") | ("1", "8") => Rejected,
        ("2", "1") => Filtered,
        ("2", "2") => MailboxFull,
        ("2", "3") => ExceedLimit,
        ("2", "4") => SystemError,
        ("3", "1") => SystemFull,
        ("3", "2") => NotAccept,
        ("3", "4") => MesgTooBig,
        ("3", "5") => SystemError,
        ("4", "1") | ("4", "2") | ("4", "6") => NetworkError,
        ("4", "3") => SystemError,
        ("4", "4") => HostUnknown,
        ("4", "5") => SystemFull,
        ("4", "7") => Expired,
        ("5", "3") => TooManyConn,
        ("5", _) if detail != "0" => SyntaxError,
        ("6", _) => ContentError,
        ("7", "1") => Blocked,
        ("7", "26") | ("7", "27") | ("7", "23") | ("7", "25") => PolicyViolation,
        ("7", "7") | ("7", "8") | ("7", "9") | ("7", "5") | ("7", "6") => SecurityError,
        _ => return None,
    };
    if class == "2" {
        return None;
    }
    Some(r)
}

/// Phrases, lower-case, that name a reason. Order matters: the first reason with a match wins,
/// so more specific reasons come first.
const PHRASES: &[(Reason, &[&str])] = &[
    (
        Reason::Expired,
        &[
            "retry timeout exceeded",
            "retry time not reached for any host after a long failure period",
            "could not be delivered for",
            "delivery time expired",
            "message expired",
            "queue too long",
            "was not delivered within",
            "has been delayed",
            "delivery attempts will continue",
            "delivery expired",
            "message timed out",
            "unable to deliver message after multiple retries",
            "could not be delivered within",
            "too long in queue",
            "giving up on",
            "i'm not going to try again; this message has been in the queue too long",
            "the message was undeliverable due to the following reason: a problem occurred",
            "has not been able to deliver the message",
            "warning: message still undelivered",
            "delivery is delayed",
            "delivery has been delayed",
            "delivery to the following recipients has been delayed",
            "delivery to the following recipient has been delayed",
            "message could not be delivered for more than",
        ],
    ),
    (
        Reason::MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox quota",
            "over quota",
            "overquota",
            "quota exceeded",
            "exceeded quota",
            "exceeded storage",
            "exceeds the quota",
            "quota exceed",
            "mailbox size limit exceeded",
            "user is over",
            "is over its quota",
            "account is full",
            "mailfolder is full",
            "not enough storage space",
            "disk quota",
            "insufficient disk space",
            "mailbox has exceeded",
            "mailbox exceeded",
            "user's mailbox is full",
            "full mailbox",
            "recipient's mailbox is full",
            "maildir over quota",
            "too much mail data",
            "exceed mailbox quota",
            "mail box full",
            "mail quota exceeded",
            "the user's space has been used up",
            "inbox is full",
            "box is full",
            "no space left",
            "quota full",
            "over the allowed quota",
            "requested mail action aborted: exceeded storage allocation",
            "temporarily over quota",
            "account is over quota",
            "mailbox would exceed maximum allowed storage",
            "quota violation",
            "the recipient's inbox is out of storage space",
        ],
    ),
    (
        Reason::MesgTooBig,
        &[
            "message too large",
            "message is too large",
            "message size exceeds",
            "message too big",
            "exceeds size limit",
            "message exceeds maximum",
            "size limit",
            "message length exceeds",
            "too big for",
            "size exceeds",
            "exceeded maximum message size",
            "message is larger than",
        ],
    ),
    (
        Reason::ExceedLimit,
        &[
            "message header size exceeds limit",
            "too many recipients",
            "message too many recipients",
        ],
    ),
    (
        Reason::Suspend,
        &[
            "account disabled",
            "account has been disabled",
            "account is disabled",
            "mailbox disabled",
            "mailbox is disabled",
            "mailbox unavailable or access denied",
            "is inactive",
            "inactive user",
            "account is inactive",
            "mailbox is inactive",
            "has been suspended",
            "account suspended",
            "account is suspended",
            "suspended account",
            "account expired",
            "mailbox currently suspended",
            "mailbox has been blocked due to inactivity",
            "recipient suspend the service",
            "disabled recipient",
            "boite du destinataire archivee",
            "email account that you tried to reach is disabled",
            "is a deactivated mailbox",
            "not an active address",
            "user suspended",
            "vdeliver: delivery failed: account is locked",
            "this account has been disabled or discontinued",
        ],
    ),
    (
        Reason::NotAccept,
        &[
            "does not accept mail",
            "null mx",
            "does not accept any mail",
            "accepts no mail",
        ],
    ),
    (
        Reason::HasMoved,
        &[
            "address has moved",
            "has been replaced by",
            "user has moved",
            "no longer with us",
        ],
    ),
    (
        Reason::NoRelaying,
        &[
            "relay access denied",
            "relaying denied",
            "relay denied",
            "relaying not permitted",
            "relay not permitted",
            "not permitted to relay",
            "unable to relay",
            "we do not relay",
            "relaying mail to",
            "relay not allowed",
            "relaying is prohibited",
            "that domain isn't in my list of allowed rcpthosts",
            "not local host",
            "sorry, that domain isn't in my list",
            "no relaying allowed",
            "relay prohibited",
            "domain isn't in my list of allowed rcpthost",
            "this system is not configured to relay mail",
            "not allowed to relay",
            "relaying prohibited",
            "mail for this domain is not accepted",
            "cannot relay",
        ],
    ),
    (
        Reason::VirusDetected,
        &[
            "virus detected",
            "contains a virus",
            "infected",
            "virus found",
            "message contains malware",
            "was infected with a virus",
        ],
    ),
    (
        Reason::SpamDetected,
        &[
            "spam",
            "junk mail",
            "unsolicited",
            "message content rejected",
            "content filter",
            "bulk mail",
            "message has been blocked due to content",
            "scored too high",
            "high probability of being",
            "considered unsolicited",
            "our filters",
            "mail appears to be unsolicited",
            "message classified as",
            "rejected due to content",
            "message filtered",
            "blacklisted url",
            "listed in a url blacklist",
            "not accepted for policy reasons",
            "suspicious content",
        ],
    ),
    (
        Reason::UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "user not found",
            "unknown recipient",
            "recipient unknown",
            "recipient not found",
            "no such recipient",
            "recipient address rejected: user unknown",
            "recipient address rejected: undeliverable address",
            "recipient address rejected: unknown user",
            "recipient address rejected: access denied",
            "invalid recipient",
            "invalid mailbox",
            "mailbox not found",
            "mailbox unavailable",
            "mailbox does not exist",
            "mailbox doesn't exist",
            "no mailbox here",
            "no such mailbox",
            "user does not exist",
            "user doesn't exist",
            "user doesn't have a",
            "account does not exist",
            "account doesn't exist",
            "address does not exist",
            "address doesn't exist",
            "email address that you tried to reach does not exist",
            "does not exist",
            "doesn't exist",
            "not exist",
            "unknown address",
            "unknown local part",
            "unknown mailbox",
            "no mailbox",
            "not a valid mailbox",
            "invalid address",
            "address rejected",
            "is not a valid",
            "no valid recipients",
            "recipient rejected",
            "recipient is not",
            "mailbox is not",
            "the recipient name is not recognized",
            "not listed in domino directory",
            "not listed in public name & address book",
            "no such local user",
            "no such person",
            "no such address",
            "unrouteable address",
            "unknown or illegal alias",
            "user reject",
            "bad destination mailbox",
            "undeliverable address",
            "user invalid",
            "name is not recognized",
            "address unknown",
            "unknown recipient address",
            "recipient no longer on server",
            "this user doesn't have a",
            "said: 550 5.1.1",
            "is not a known user",
            "is not a valid user",
            "destination address rejected",
            "no longer available",
            "not our customer",
            "sorry, no mailbox here by that name",
            "mailbox does not exist",
            "couldn't find any host named",
            "address is not valid",
            "not a valid recipient",
            "there is no one at this address",
            "user missing home directory",
            "mailbox unknown",
            "this address no longer accepts mail",
            "no user with that name",
            "user_unknown",
            "address couldn't be found",
            "address could not be found",
        ],
    ),
    (
        Reason::HostUnknown,
        &[
            "host unknown",
            "unknown host",
            "host not found",
            "domain not found",
            "no such domain",
            "domain does not exist",
            "domain doesn't exist",
            "unrouteable mail domain",
            "name or service not known",
            "name server error",
            "dns lookup failed",
            "no mx record",
            "all relevant mx records point to non-existent hosts",
            "domain name not found",
            "no route to host",
            "host or domain name not found",
            "unknown domain",
            "mail domain is not",
            "domain is not reachable",
            "couldn't find any host",
            "domain must exist",
            "illegal host/domain name found",
            "unrouteable address",
        ],
    ),
    (
        Reason::TooManyConn,
        &[
            "too many connections",
            "too many concurrent",
            "connection limit",
            "too many sessions",
            "too many simultaneous",
            "exceeded the rate limit",
            "rate limit",
            "throttl",
            "too many messages",
            "too many smtp sessions",
            "temporarily deferred due to user complaints",
        ],
    ),
    (
        Reason::SecurityError,
        &[
            "authentication required",
            "authentication failed",
            "must be authenticated",
            "starttls",
            "tls required",
            "encryption required",
            "sender is not authorized",
            "user not authenticated",
            "please turn on smtp authentication",
            "authentication is required",
        ],
    ),
    (
        Reason::PolicyViolation,
        &[
            "dmarc",
            "policy",
            "spf",
            "dkim",
            "not accepted due to domain's",
            "message not accepted for policy reasons",
            "unauthenticated email",
            "authentication checks",
        ],
    ),
    (
        Reason::Blocked,
        &[
            "blocked",
            "blacklist",
            "block list",
            "blocklist",
            "denylist",
            "listed at",
            "listed on",
            "listed in",
            "rbl",
            "spamhaus",
            "spamcop",
            "reverse dns",
            "reverse lookup",
            "ptr record",
            "no ptr",
            "client host rejected",
            "connection refused",
            "not allowed to send",
            "ip address",
            "your ip",
            "poor reputation",
            "bad reputation",
            "helo",
            "has been temporarily rate limited",
            "refused",
            "banned",
            "sender ip",
            "ip name lookup failed",
            "not accepting mail from",
            "your network",
            "dynamic",
            "hostname",
            "rejected by dnsbl",
            "your server requires",
            "deny",
        ],
    ),
    (
        Reason::Rejected,
        &[
            "sender rejected",
            "sender address rejected",
            "domain of sender address",
            "sender verify failed",
            "sender domain",
            "address verification",
            "envelope sender",
            "mail from",
            "sender is",
            "return path",
            "from address",
            "sender denied",
            "bad sender",
            "invalid sender",
            "sender unknown",
        ],
    ),
    (
        Reason::Filtered,
        &[
            "filtered",
            "due to extended inactivity",
            "has restricted",
            "content rejected",
        ],
    ),
    (
        Reason::SystemFull,
        &[
            "mail system full",
            "system full",
            "insufficient system storage",
            "out of disk",
            "disk full",
        ],
    ),
    (
        Reason::NetworkError,
        &[
            "could not connect",
            "connection timed out",
            "connection timeout",
            "timed out",
            "no route",
            "network is unreachable",
            "connection reset",
            "lost connection",
            "could not be reached",
            "mail loop",
            "loops back to myself",
            "too many hops",
            "hop count exceeded",
            "routing loop",
            "unable to connect",
            "temporary failure in name resolution",
            "dns",
            "host not reachable",
            "remote host did not respond",
            "connection closed",
            "connection dropped",
        ],
    ),
    (
        Reason::MailerError,
        &[
            "unknown mailer error",
            "mailer error",
            "command died with status",
            "command failed",
            "pipe to",
            "exited with",
            "procmail",
            "x-unix;",
            "exit code",
        ],
    ),
    (
        Reason::ContentError,
        &[
            "content error",
            "message header",
            "illegal attachment",
            "mime",
            "8-bit",
            "bare lf",
            "charset",
        ],
    ),
    (
        Reason::SyntaxError,
        &[
            "syntax error",
            "command unrecognized",
            "unrecognized command",
            "line too long",
        ],
    ),
    (
        Reason::SystemError,
        &[
            "system error",
            "internal error",
            "server error",
            "local error",
            "temporary failure",
            "temporarily unavailable",
            "service unavailable",
            "try again later",
            "resources temporarily unavailable",
            "too busy",
            "system config error",
            "configuration error",
            "i/o error",
            "unable to",
        ],
    ),
];

/// Unknown-recipient wordings particular to one mail system (Exchange, Domino, Gmail,
/// IMail), which mean a dead address whatever command they answered.
const VENDOR_USER_UNKNOWN: &[&str] = &[
    "the recipient name is not recognized",
    "not listed in public name & address book",
    "not listed in domino directory",
    "address couldn't be found",
    "unknown user:",
    "email account that you tried to reach does not exist",
];

/// Does `lower` (lower-case text) hold a phrase of `reason`?
fn says(reason: Reason, lower: &str) -> bool {
    PHRASES
        .iter()
        .filter(|(r, _)| *r == reason)
        .any(|(_, phrases)| phrases.iter().any(|p| lower.contains(p)))
}

/// A reason named by the words of `text` (lower-case), scanning reasons in priority order.
pub fn from_text(lower: &str) -> Option<Reason> {
    if lower.contains("name service error")
        && (lower.contains("try again") || lower.contains("malformed"))
    {
        return Some(Reason::NetworkError);
    }
    PHRASES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| lower.contains(p)))
        .map(|(r, _)| *r)
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
    const KEYS: &[(&str, Command)] = &[
        (">>> data", Command::Data),
        ("end of data", Command::Data),
        ("after data", Command::Data),
        ("data command", Command::Data),
        ("in reply to data", Command::Data),
        ("rcpt to", Command::Rcpt),
        ("rcpt command", Command::Rcpt),
        ("rcpt_to", Command::Rcpt),
        ("rcpt:", Command::Rcpt),
        ("does not like recipient", Command::Rcpt),
        ("mail from", Command::Mail),
        ("mail command", Command::Mail),
        ("helo command", Command::Helo),
        ("ehlo command", Command::Helo),
        ("after helo", Command::Helo),
        ("after ehlo", Command::Helo),
        ("after connect", Command::Connect),
        ("connection rejected", Command::Connect),
    ];
    // The last command named is the one the refusal answered (transcripts list them in order).
    KEYS.iter()
        .filter_map(|(k, c)| lower.rfind(k).map(|pos| (pos, *c)))
        .max_by_key(|(pos, _)| *pos)
        .map(|(_, c)| c)
}

/// Decide the reason from a recipient's diagnostic (and the report's wider text when the
/// diagnostic says nothing), its status code, action and the SMTP command it answered.
///
/// The order follows sisimai's: a list of reasons is tried in turn, each accepted when the
/// status code names it or the words do; then the status code alone; then any phrase.
pub fn reason(
    diagnostic: &str,
    context: &str,
    status: Option<&str>,
    action: Option<&str>,
    default_command: Option<Command>,
) -> Reason {
    use Reason::*;
    let lower = diagnostic.to_lowercase();
    let context_lower = context.to_lowercase();
    let command = command_in(&lower)
        .or_else(|| command_in(&context_lower))
        .or(default_command);
    let words: &str = if lower.trim().is_empty() {
        &context_lower
    } else {
        &lower
    };
    let by_status = status.and_then(from_status);
    if status.is_some_and(|s| s.starts_with("2.")) {
        return Undefined;
    }
    if words.contains("name service error")
        && (words.contains("try again") || words.contains("malformed"))
    {
        return NetworkError;
    }
    if says(NotAccept, words) {
        return NotAccept;
    }
    // Vendors' own words for an unknown recipient, whatever the command.
    if VENDOR_USER_UNKNOWN.iter().any(|p| words.contains(p)) {
        return UserUnknown;
    }
    const ORDER: &[Reason] = &[
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
    for &r in ORDER {
        let hit = match r {
            UserUnknown => {
                (by_status == Some(UserUnknown)
                    && ![
                        NoRelaying,
                        Blocked,
                        MailboxFull,
                        HasMoved,
                        Rejected,
                        NotAccept,
                    ]
                    .iter()
                    .any(|o| says(*o, words)))
                    || (command == Some(Command::Rcpt)
                        && says(UserUnknown, words)
                        && !says(Rejected, words))
            }
            Filtered => {
                (by_status == Some(Filtered) && (says(UserUnknown, words) || says(Filtered, words)))
                    || (!matches!(command, Some(Command::Rcpt | Command::Mail))
                        && (says(Filtered, words)
                            || says(UserUnknown, words) && !says(HostUnknown, words)))
            }
            Rejected => {
                by_status == Some(Rejected)
                    || command == Some(Command::Mail) && says(Rejected, words)
            }
            _ => by_status == Some(r) || says(r, words),
        };
        if hit {
            if r == HostUnknown && status.is_some_and(|s| s.starts_with('4')) {
                return NetworkError;
            }
            return r;
        }
    }
    if let Some(r) = by_status {
        return r;
    }
    if let Some(r) = from_text(words) {
        return r;
    }
    match command {
        Some(Command::Connect | Command::Helo) => return Blocked,
        Some(Command::Mail) => return Rejected,
        _ => {}
    }
    if action.is_some_and(|a| a.eq_ignore_ascii_case("delayed")) {
        return Expired;
    }
    if !words.trim().is_empty() {
        return OnHold;
    }
    Undefined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_reasons() {
        assert_eq!(class_of(Reason::UserUnknown, Some("5.1.1")), Class::Hard);
        assert_eq!(class_of(Reason::NotAccept, Some("5.3.2")), Class::Hard);
        assert_eq!(class_of(Reason::NotAccept, Some("4.3.2")), Class::Soft);
        assert_eq!(class_of(Reason::MailboxFull, Some("5.2.2")), Class::Soft);
        assert_eq!(class_of(Reason::Feedback, None), Class::Complaint);
        assert_eq!(class_of(Reason::Vacation, None), Class::AutoReply);
    }

    #[test]
    fn reasons_from_words_and_codes() {
        assert_eq!(
            reason(
                "550 5.1.1 <a@b.c>... User Unknown",
                "",
                Some("5.1.1"),
                None,
                None
            ),
            Reason::UserUnknown
        );
        assert_eq!(
            reason("552 5.2.2 Mailbox full", "", Some("5.2.2"), None, None),
            Reason::MailboxFull
        );
        assert_eq!(
            reason("550 5.1.1 mailbox is full", "", Some("5.1.1"), None, None),
            Reason::MailboxFull
        );
        assert_eq!(
            reason("554 relay access denied", "", Some("5.7.1"), None, None),
            Reason::NoRelaying
        );
        assert_eq!(
            reason("", "", Some("4.4.7"), Some("delayed"), None),
            Reason::Expired
        );
        assert_eq!(reason("", "", None, Some("delayed"), None), Reason::Expired);
        assert_eq!(reason("", "", None, None, None), Reason::Undefined);
    }
}
