//! Remote hosts whose refusals carry codes or texts their operators document: Microsoft's
//! Exchange Online and Outlook.com (enhanced status codes with their own details, "Email
//! non-delivery reports and SMTP errors in Exchange Online"), Google's Gmail and Workspace
//! servers (the texts of Google's "SMTP error reference"), and Orange / La Poste (`OFR_…`,
//! `LPN_…` error numbers on their postmaster pages).

use super::classify::Reason;

/// The reason a documented remote host's code names, if the host is one and the code known.
pub fn reason(remote_mta: Option<&str>, status: Option<&str>, words: &str) -> Option<Reason> {
    let host = remote_mta?
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host.ends_with(".protection.outlook.com") || host.ends_with(".prod.outlook.com") {
        return microsoft(status?);
    }
    if host.ends_with("aspmx.l.google.com") || host.ends_with("gmail-smtp-in.l.google.com") {
        return google(words);
    }
    if ["orange.fr", "wanadoo.fr", "laposte.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    {
        return orange_code(words).and_then(orange);
    }
    None
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
fn microsoft(status: &str) -> Option<Reason> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_online_codes() {
        let host = Some("mx.eur01.prod.protection.outlook.com");
        assert_eq!(
            reason(host, Some("5.7.606"), "access denied, banned sending ip"),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                host,
                Some("5.4.1"),
                "recipient address rejected: access denied"
            ),
            Some(Reason::NoRelaying)
        );
        assert_eq!(reason(Some("mx.example.org"), Some("5.4.1"), ""), None);
    }

    #[test]
    fn google_texts() {
        let host = Some("gmail-smtp-in.l.google.com");
        assert_eq!(
            reason(
                host,
                Some("5.7.26"),
                "550 5.7.26 unauthenticated email from example.org is not accepted due to domain's dmarc policy"
            ),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(
                host,
                Some("4.2.1"),
                "450 4.2.1 the user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered"
            ),
            Some(Reason::TooManyConn)
        );
        assert_eq!(reason(host, Some("5.0.0"), "something else"), None);
    }

    #[test]
    fn orange_error_numbers() {
        let w = "550 mwinf5c04 me adresse ip source bloquee pour incident de spam. client host blocked for spamming issues. ofr006_102 ref";
        assert_eq!(
            reason(Some("smtp-in.orange.fr"), Some("5.0.0"), w),
            Some(Reason::Blocked)
        );
        assert_eq!(
            reason(Some("smtpz4.laposte.net"), None, "... lpn007_416 ..."),
            Some(Reason::UserUnknown)
        );
        assert_eq!(
            reason(Some("smtp-in.orange.fr"), None, "no code here"),
            None
        );
    }
}
