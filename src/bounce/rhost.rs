//! Remote hosts whose refusals carry codes or texts their operators document: Microsoft's
//! Exchange Online and Outlook.com (enhanced status codes with their own details, "Email
//! non-delivery reports and SMTP errors in Exchange Online"), Google's Gmail and Workspace
//! servers (the texts of Google's "SMTP error reference"), Orange / La Poste (`OFR_…`, `LPN_…`
//! error numbers on their postmaster pages), Cox (`AUP#CX…` and `IPBL…` codes of its "Email
//! error codes" page), Spectrum / Charter (`AUP#1xxx` numbers of its postmaster page), GoDaddy
//! (`IBnnn` codes of its "Fix rejected email with a bounce error" page), Tencent QQ Mail (the
//! refusal texts its help pages explain), Mimecast (the reasons of its "SMTP error codes"
//! article), i.ua (`i.ua/err/N` links), NTT docomo (whose `mfsmax.docomo.ne.jp` answers
//! "550 Unknown user" both to an address it lacks, at `RCPT`, and to a message its member's
//! reception filter refuses, after `DATA`) and KDDI's au (`550 : User unknown` without an
//! address from its reception filter, `<address>: User unknown` for an address it lacks).
//!
//! The host is the remote MTA when the report names it; a receiver known by its mail domain
//! (Cox, Spectrum, Orange, i.ua) is also found from the recipient's domain, as its codes are
//! particular enough to need no host name.

use super::classify::{Command, Reason};

/// The reason a documented remote host's code names, if the host is one and the code known.
/// `recipient` is the bounced address, whose domain stands in for the host when the report
/// names none.
pub fn reason(
    remote_mta: Option<&str>,
    recipient: Option<&str>,
    status: Option<&str>,
    command: Option<Command>,
    words: &str,
) -> Option<Reason> {
    let host = remote_mta.map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase());
    if let Some(host) = host.as_deref()
        && let Some(r) = by_host(host, status, command, words)
    {
        return Some(r);
    }
    let domain = recipient?.rsplit_once('@')?.1.to_ascii_lowercase();
    by_domain(&domain, words)
}

fn by_host(
    host: &str,
    status: Option<&str>,
    command: Option<Command>,
    words: &str,
) -> Option<Reason> {
    if within(host, "mfsmax.docomo.ne.jp") {
        return docomo(status, command, words);
    }
    if within(host, "ezweb.ne.jp") || within(host, "au.com") {
        return kddi(words);
    }
    if host.ends_with(".protection.outlook.com") || host.ends_with(".prod.outlook.com") {
        return microsoft(status?);
    }
    if host.ends_with("aspmx.l.google.com") || host.ends_with("gmail-smtp-in.l.google.com") {
        return google(words);
    }
    if within(host, "secureserver.net") {
        return godaddy(words);
    }
    if within(host, "qq.com") {
        return super::phrases::named_in(TENCENT, words);
    }
    if within(host, "mimecast.com") {
        return super::phrases::named_in(MIMECAST, words);
    }
    by_domain(host, words)
}

/// The receivers whose codes are read whether their name is the host's or the recipient's.
fn by_domain(domain: &str, words: &str) -> Option<Reason> {
    if ["orange.fr", "wanadoo.fr", "laposte.net"]
        .iter()
        .any(|d| within(domain, d))
    {
        return orange_code(words).and_then(orange);
    }
    if within(domain, "cox.net") {
        return cox(words);
    }
    if within(domain, "charter.net") || within(domain, "spectrum.net") {
        return spectrum(words);
    }
    if within(domain, "i.ua") || within(domain, "email.ua") {
        return iua(words);
    }
    None
}

/// `host` is `domain` or a name under it.
fn within(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Google's documented SMTP error texts, by the reason they give.
const GOOGLE: &[(&str, Reason)] = &[
    ("ip not in whitelist for rcpt domain", Reason::Blocked),
    (
        "unusual rate of unsolicited mail originating from your ip address",
        Reason::Blocked,
    ),
    ("try again later, closing connection", Reason::Blocked),
    ("helo/ehlo argument is invalid", Reason::Blocked),
    (
        "is not authorized to send email directly to our servers",
        Reason::Blocked,
    ),
    ("does not have a ptr record setup", Reason::Blocked),
    (
        "is not accepted due to domain's dmarc policy",
        Reason::Blocked,
    ),
    ("fails to pass authentication checks", Reason::Blocked),
    (
        "fails to pass spf checks for an spf record with a hard fail",
        Reason::Blocked,
    ),
    (
        "likely suspicious due to the very low reputation of the sending ip",
        Reason::Blocked,
    ),
    ("mail message is malformed", Reason::ContentError),
    ("exceeded google's message size limits", Reason::ExceedLimit),
    ("timeout - closing connection", Reason::Expired),
    (
        "the email account that you tried to reach is over quota",
        Reason::MailboxFull,
    ),
    ("email quota exceeded", Reason::MailboxFull),
    ("this may indicate a mail loop", Reason::NetworkError),
    ("mail relay denied", Reason::NoRelaying),
    (
        "multiple addresses in from: header are not accepted",
        Reason::PolicyViolation,
    ),
    ("has a policy that prohibited", Reason::PolicyViolation),
    (
        "illegal attachment on your message",
        Reason::PolicyViolation,
    ),
    (
        "content presents a potential security issue",
        Reason::PolicyViolation,
    ),
    ("mail sending denied", Reason::Rejected),
    (
        "unauthenticated email is not accepted from this domain",
        Reason::Rejected,
    ),
    ("tls required for rcpt domain", Reason::SecurityError),
    (
        "application-specific password required",
        Reason::SecurityError,
    ),
    ("username and password not accepted", Reason::SecurityError),
    ("invalid credentials for relay", Reason::SecurityError),
    (
        "this message is likely unsolicited mail",
        Reason::SpamDetected,
    ),
    (
        "the email account that you tried to reach is disabled",
        Reason::Suspend,
    ),
    ("temporary system problem", Reason::SystemError),
    ("server busy", Reason::SystemError),
    (
        "mail server temporarily rejected message",
        Reason::SystemError,
    ),
    ("your message has too many recipients", Reason::TooManyConn),
    ("is receiving mail too quickly", Reason::TooManyConn),
    (
        "is receiving mail at a rate that prevents",
        Reason::TooManyConn,
    ),
    ("relay limit exceeded for", Reason::TooManyConn),
    ("daily sending quota exceeded", Reason::TooManyConn),
    (
        "the email account that you tried to reach does not exist",
        Reason::UserUnknown,
    ),
    (
        "we weren't able to find the recipient domain",
        Reason::HostUnknown,
    ),
];

fn google(words: &str) -> Option<Reason> {
    super::phrases::named_in(GOOGLE, words)
}

/// Exchange Online's enhanced status codes.
pub(crate) fn microsoft(status: &str) -> Option<Reason> {
    use Reason::*;
    let mut it = status.splitn(3, '.');
    let (class, subject, detail) = (it.next()?, it.next()?, it.next()?.parse::<u32>().ok()?);
    Some(match (class, subject, detail) {
        ("4", "4", 7 | 316) => Expired,
        ("4", "4", 312) => NetworkError,
        ("4", "7", 26) => SecurityError,
        ("4", "7", 500..=699 | 850..=899) => Blocked,
        ("5", "0", 350) => ContentError,
        ("5", "1", 10) => UserUnknown,
        ("5", "4", 1) => NoRelaying,
        ("5", "4", 6 | 312) => NetworkError,
        ("5", "4", 316) => Expired,
        ("5", "6", 11) => ContentError,
        ("5", "7", 1 | 12 | 13 | 124 | 133..=136 | 511) => Rejected,
        ("5", "7", 23 | 506 | 507 | 606..=649) => Blocked,
        ("5", "7", 25) => NetworkError,
        ("5", "7", 501..=503) => SpamDetected,
        ("5", "7", 504 | 505) => Filtered,
        ("5", "7", 508 | 700..=749) => TooManyConn,
        ("5", "7", 509 | 512 | 57) => SecurityError,
        ("5", "7", 510) => NotAccept,
        _ => return None,
    })
}

/// The three-digit number of an Orange or La Poste error code (`OFR006_102`, `LPNAAA_101`).
fn orange_code(words: &str) -> Option<u32> {
    for prefix in ["lpnaaa", "lpn", "ofr", "ouk"] {
        let mut from = 0;
        while let Some(pos) = words.get(from..).and_then(|w| w.find(prefix)) {
            let start = from + pos;
            let before_ok = start == 0 || !words.as_bytes()[start - 1].is_ascii_alphanumeric();
            let rest = &words[start + prefix.len()..];
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '-')
                .collect();
            let digits: String = token.chars().filter(char::is_ascii_digit).collect();
            if before_ok && digits.len() >= 3 && token.len() > 3 {
                return digits[digits.len() - 3..].parse().ok();
            }
            from = start + prefix.len();
        }
    }
    None
}

/// Orange's and La Poste's error numbers.
fn orange(code: u32) -> Option<Reason> {
    use Reason::*;
    Some(match code {
        101..=103 | 401 | 510 | 999 => Blocked,
        104 => TooManyConn,
        305 | 402 => SecurityError,
        403 | 405 | 415 | 421 => Rejected,
        416 | 418 => UserUnknown,
        417 => MailboxFull,
        420 | 426 => Suspend,
        505 => SystemError,
        506 => SpamDetected,
        514 => MesgTooBig,
        517 | 630 => PolicyViolation,
        _ => return None,
    })
}

/// The run of characters `keep` allows right after the first `prefix` in `words`.
fn token_after<'a>(words: &'a str, prefix: &str, keep: fn(char) -> bool) -> Option<&'a str> {
    let rest = &words[words.find(prefix)? + prefix.len()..];
    let end = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|t| !t.is_empty())
}

/// Cox's documented error codes (`AUP#CXBL`, `IPBL0001`, `URLBL011`, …), else its texts.
fn cox(words: &str) -> Option<Reason> {
    cox_code(words).or_else(|| super::phrases::named_in(COX, words))
}

fn cox_code(words: &str) -> Option<Reason> {
    use Reason::*;
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if let Some(code) = token_after(words, "aup#", alnum) {
        return Some(match code {
            "cxbl" | "cdrbl" | "cxdns" => Blocked,
            "cxthrt" | "cxmj" => SecurityError,
            "cxsndr" | "cxsmtp" => Rejected,
            "cxcnct" | "cxmxrt" => TooManyConn,
            _ => return None,
        });
    }
    if token_after(words, "ipbl", |c| c.is_ascii_digit()).is_some() {
        return Some(Blocked);
    }
    token_after(words, "urlbl", |c| c.is_ascii_digit()).map(|_| SpamDetected)
}

/// What Cox's servers say when they give no code.
const COX: &[(&str, Reason)] = &[
    ("rejected - no rdns", Reason::Blocked),
    ("dns check failure - try again later", Reason::Blocked),
    ("too many bad commands from", Reason::Blocked),
    ("too many invalid recipients", Reason::Blocked),
    ("too many sessions from", Reason::TooManyConn),
    ("message threshold exceeded", Reason::TooManyConn),
    ("esmtp no data before greeting", Reason::PolicyViolation),
    ("attachment extension is forbidden", Reason::PolicyViolation),
    ("recipient rejected", Reason::UserUnknown),
];

/// Spectrum's (Charter's) `AUP#` numbers, by the ranges its postmaster page gives them.
fn spectrum(words: &str) -> Option<Reason> {
    use Reason::*;
    // `AUP#1230`, `AUP#MXRT-1350`, `AUP#IN-1170`: the number closes the code.
    let token = token_after(words, "aup#", |c| c.is_ascii_alphanumeric() || c == '-')?;
    let digits: String = token.chars().filter(char::is_ascii_digit).collect();
    let n: u32 = digits.get(digits.len().checked_sub(4)?..)?.parse().ok()?;
    Some(match n {
        1000 | 1100..=1150 | 1200..=1250 => Blocked,
        1010..=1080 | 1500 | 1520 => Rejected,
        1090 => SystemError,
        1160..=1190 | 1560 => PolicyViolation,
        1260 => NetworkError,
        1530 => MesgTooBig,
        1300..=1490 | 1540 | 1550 => TooManyConn,
        _ => return None,
    })
}

/// GoDaddy's `IBnnn` codes, else the texts of its refusals without one.
fn godaddy(words: &str) -> Option<Reason> {
    godaddy_code(words).or_else(|| super::phrases::named_in(GODADDY, words))
}

fn godaddy_code(words: &str) -> Option<Reason> {
    use Reason::*;
    let code = words.match_indices("ib").find_map(|(i, _)| {
        let before_ok = i == 0 || !words.as_bytes()[i - 1].is_ascii_alphanumeric();
        let digits = words.get(i + 2..i + 5)?;
        let after_ok = words
            .as_bytes()
            .get(i + 5)
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        (before_ok && after_ok && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u32>().ok())
            .flatten()
    })?;
    Some(match code {
        103..=106 | 108 | 110..=113 => Blocked,
        7 | 504 | 510 | 607 => TooManyConn,
        101 => Expired,
        212 => SpamDetected,
        401 => SecurityError,
        501 | 502 | 506 | 508 => Rejected,
        705 => VirusDetected,
        _ => return None,
    })
}

/// NTT docomo: "Unknown user" at `RCPT` (or under `5.1.1`) is an address it lacks; the same
/// words after `DATA`, or under `5.2.0`, are its member's reception filter refusing us.
fn docomo(status: Option<&str>, command: Option<Command>, words: &str) -> Option<Reason> {
    match status {
        Some("5.1.1") => return Some(Reason::UserUnknown),
        Some("5.2.0") => return Some(Reason::Filtered),
        _ => {}
    }
    if words.contains("552 too much mail data") {
        return Some(Reason::MailboxFull);
    }
    if words.contains("552 too many recipients") {
        return Some(Reason::TooManyConn);
    }
    if !words.contains("unknown user") || status.is_some_and(|s| s != "5.0.0") {
        return None;
    }
    match command {
        Some(Command::Rcpt) => Some(Reason::UserUnknown),
        Some(Command::Data) => Some(Reason::Rejected),
        _ => None,
    }
}

/// KDDI's au: its reception filter answers `550 : User unknown`, with no address; an address
/// it lacks gets `550 <address>: User unknown`.
fn kddi(words: &str) -> Option<Reason> {
    if words.contains("550 : user unknown") {
        Some(Reason::Filtered)
    } else if words.contains(">: user unknown") {
        Some(Reason::UserUnknown)
    } else {
        None
    }
}

/// What GoDaddy's servers say when they give no code.
const GODADDY: &[(&str, Reason)] = &[
    ("spamhaus.org/query/bl?ip=", Reason::Blocked),
    ("554 rbl reject", Reason::Blocked),
    ("account storage limit", Reason::MailboxFull),
    ("account disabled", Reason::Suspend),
    ("account does not exist", Reason::UserUnknown),
    ("550 recipient not found", Reason::UserUnknown),
    ("delivery timeout", Reason::Expired),
];

/// Tencent QQ Mail's refusal texts.
const TENCENT: &[(&str, Reason)] = &[
    ("dmarc check failed", Reason::Blocked),
    ("spf check failed", Reason::Blocked),
    ("suspected spam ip", Reason::Blocked),
    ("mail is rejected by recipients", Reason::Filtered),
    ("message too large", Reason::MesgTooBig),
    ("mail content denied", Reason::SpamDetected),
    ("spam is embedded in the email", Reason::SpamDetected),
    ("suspected spam", Reason::SpamDetected),
    ("bad address syntax", Reason::SyntaxError),
    ("frequency limited", Reason::TooManyConn),
    ("connection denied", Reason::TooManyConn),
    ("mailbox not found", Reason::UserUnknown),
];

/// The reasons Mimecast's gateways give, as its "Mimecast SMTP error codes" article lists them.
const MIMECAST: &[(&str, Reason)] = &[
    ("sender address blocked", Reason::Blocked),
    ("ip temporarily blacklisted", Reason::Blocked),
    ("local ct ip reputation", Reason::Blocked),
    ("spf sender invalid", Reason::Blocked),
    ("dkim sender invalid", Reason::Blocked),
    ("dmarc sender invalid", Reason::Blocked),
    (
        "internal resources are temporarily unavailable",
        Reason::Blocked,
    ),
    ("maximum email size exceeded", Reason::MesgTooBig),
    ("mail loop detected", Reason::NetworkError),
    ("open relay not allowed", Reason::NoRelaying),
    ("account inbounds disabled", Reason::NotAccept),
    ("anti-spoofing policy", Reason::PolicyViolation),
    ("content examination policy", Reason::PolicyViolation),
    ("host network not allowed", Reason::PolicyViolation),
    ("envelope blocked", Reason::Rejected),
    ("blocked senders", Reason::Rejected),
    ("block policy for envelope from address", Reason::Rejected),
    ("this route requires", Reason::SecurityError),
    ("incorrect authentication data", Reason::SecurityError),
    (
        "unable to process connection at this time",
        Reason::SystemError,
    ),
    ("unable to process command", Reason::SystemError),
    ("too many recipients", Reason::TooManyConn),
    ("exceeding outbound thread limit", Reason::TooManyConn),
    ("invalid recipient", Reason::UserUnknown),
    ("user unknown", Reason::UserUnknown),
    (
        "email rejected due to security policies",
        Reason::VirusDetected,
    ),
];

/// i.ua's numbered refusals (`http://mail.i.ua/err/2/`).
fn iua(words: &str) -> Option<Reason> {
    use Reason::*;
    let n: u32 = token_after(words, "i.ua/err/", |c| c.is_ascii_digit())?
        .parse()
        .ok()?;
    Some(match n {
        1 | 6 => NoRelaying,
        2 => UserUnknown,
        3 => Suspend,
        4 => MailboxFull,
        5 => TooManyConn,
        7 | 9 => Blocked,
        8 => Rejected,
        10 => Filtered,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(
        host: Option<&str>,
        recipient: Option<&str>,
        status: Option<&str>,
        words: &str,
    ) -> Option<Reason> {
        super::reason(host, recipient, status, None, words)
    }

    #[test]
    fn exchange_online_codes() {
        let host = Some("mx.eur01.prod.protection.outlook.com");
        assert_eq!(
            reason(
                host,
                None,
                Some("5.7.606"),
                "access denied, banned sending ip"
            ),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                host,
                None,
                Some("5.4.1"),
                "recipient address rejected: access denied"
            ),
            Some(Reason::NoRelaying)
        );
        assert_eq!(
            reason(Some("mx.example.org"), None, Some("5.4.1"), ""),
            None
        );
    }

    #[test]
    fn google_texts() {
        let host = Some("gmail-smtp-in.l.google.com");
        assert_eq!(
            reason(
                host,
                None,
                Some("5.7.26"),
                "550 5.7.26 unauthenticated email from example.org is not accepted due to domain's dmarc policy"
            ),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                host,
                None,
                Some("4.2.1"),
                "450 4.2.1 the user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered"
            ),
            Some(Reason::TooManyConn)
        );
        assert_eq!(reason(host, None, Some("5.0.0"), "something else"), None);
    }

    #[test]
    fn orange_error_numbers() {
        let w = "550 mwinf5c04 me adresse ip source bloquee pour incident de spam. client host blocked for spamming issues. ofr006_102 ref";
        assert_eq!(
            reason(Some("smtp-in.orange.fr"), None, Some("5.0.0"), w),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(Some("smtpz4.laposte.net"), None, None, "... lpn007_416 ..."),
            Some(Reason::UserUnknown)
        );
        assert_eq!(
            reason(Some("smtp-in.orange.fr"), None, None, "no code here"),
            None
        );
    }

    #[test]
    fn cox_codes_from_the_host_or_the_recipient_domain() {
        // Cox names the code after AUP#; its IPBL codes say which blocklists hold the IP.
        let w = "554 5.7.1 aup#cxbl ip 192.0.2.7 blocked. see https://www.cox.com/.../email-error-codes";
        assert_eq!(
            reason(Some("cxr.mx.a.cox.net"), None, Some("5.7.1"), w),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(None, Some("kim@cox.net"), Some("5.7.1"), w),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                None,
                Some("kim@cox.net"),
                None,
                "421 aup#cxmxrt too many messages"
            ),
            Some(Reason::TooManyConn)
        );
        assert_eq!(
            reason(
                None,
                Some("kim@cox.net"),
                None,
                "554 ipbl0011 the sending ip is listed"
            ),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                None,
                Some("kim@cox.net"),
                None,
                "550 kim@cox.net recipient rejected"
            ),
            Some(Reason::UserUnknown)
        );
        // Another domain that merely ends in the same letters is not Cox.
        assert_eq!(reason(None, Some("kim@notcox.net"), None, w), None);
    }

    #[test]
    fn spectrum_numbers() {
        let host = Some("mx.charter.net");
        for (w, want) in [
            (
                "554 5.7.1 aup#1230 your ip is listed on spamhaus",
                Reason::Blocked,
            ),
            (
                "421 4.7.0 aup#mxrt-1350 too many messages",
                Reason::TooManyConn,
            ),
            (
                "550 5.7.1 aup#in-1170 fails the domain's dmarc policy",
                Reason::PolicyViolation,
            ),
            ("552 aup#1530 message too large", Reason::MesgTooBig),
        ] {
            assert_eq!(reason(host, None, None, w), Some(want), "{w}");
        }
        assert_eq!(reason(host, None, None, "550 no code"), None);
    }

    #[test]
    fn godaddy_codes_and_texts() {
        let host = Some("smtp.secureserver.net");
        assert_eq!(
            reason(
                host,
                None,
                Some("5.1.1"),
                "550 5.1.1 <kim@example.com> - 192.0.2.9 has sent to too many recipients this hour. ib607"
            ),
            Some(Reason::TooManyConn)
        );
        assert_eq!(
            reason(
                host,
                None,
                Some("5.2.0"),
                "552 5.2.0 this message has been rejected due to content judged to be spam by the internet community ib212"
            ),
            Some(Reason::SpamDetected)
        );
        assert_eq!(
            reason(
                host,
                None,
                Some("5.1.3"),
                "553 http://www.spamhaus.org/query/bl?ip=192.0.2.9"
            ),
            Some(Reason::Blocked)
        );
        // "ib" inside a word is no code.
        assert_eq!(reason(host, None, None, "550 lib1234 said no"), None);
    }

    #[test]
    fn tencent_and_iua_texts() {
        assert_eq!(
            reason(
                Some("mx3.qq.com"),
                None,
                Some("5.0.0"),
                "550 dmarc check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1"
            ),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                Some("mx1.qq.com"),
                None,
                None,
                "550 mailbox not found. http://service.mail.qq.com/"
            ),
            Some(Reason::UserUnknown)
        );
        assert_eq!(
            reason(
                None,
                Some("kim@i.ua"),
                None,
                "550 5.1.1 mailbox kim@i.ua not found, see http://mail.i.ua/err/2/"
            ),
            Some(Reason::UserUnknown)
        );
    }

    #[test]
    fn mimecast_reasons() {
        let host = Some("us-smtp-inbound-1.mimecast.com");
        for (w, want) in [
            (
                "550 rejected by header based anti-spoofing policy - https://community.mimecast.com/docs/doc-1369#550",
                Reason::PolicyViolation,
            ),
            (
                "550 local ct ip reputation - (reject) [x.us123]",
                Reason::Blocked,
            ),
            (
                "550 invalid recipient - https://community.mimecast.com/",
                Reason::UserUnknown,
            ),
            ("554 maximum email size exceeded", Reason::MesgTooBig),
        ] {
            assert_eq!(reason(host, None, Some("5.0.0"), w), Some(want), "{w}");
        }
        // Only from Mimecast's hosts.
        assert_eq!(
            reason(
                Some("mx.example.org"),
                None,
                Some("5.0.0"),
                "550 envelope blocked"
            ),
            None
        );
    }

    #[test]
    fn docomo_unknown_user_by_the_command() {
        let host = Some("mfsmax.docomo.ne.jp");
        let w = "550 unknown user kim@docomo.ne.jp";
        assert_eq!(
            super::reason(host, None, Some("5.0.0"), Some(Command::Rcpt), w),
            Some(Reason::UserUnknown)
        );
        assert_eq!(
            super::reason(host, None, Some("5.0.0"), Some(Command::Data), w),
            Some(Reason::Rejected)
        );
        assert_eq!(
            super::reason(host, None, Some("5.2.0"), None, w),
            Some(Reason::Filtered)
        );
        assert_eq!(super::reason(host, None, Some("5.0.0"), None, w), None);
    }

    #[test]
    fn au_filter_or_unknown_address() {
        let host = Some("lsean.ezweb.ne.jp");
        assert_eq!(
            super::reason(host, None, Some("5.0.0"), None, "550 : user unknown"),
            Some(Reason::Filtered)
        );
        assert_eq!(
            reason(host, None, None, "550 <kim@ezweb.ne.jp>: user unknown"),
            Some(Reason::UserUnknown)
        );
    }
}
