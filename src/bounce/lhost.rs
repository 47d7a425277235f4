//! Reporting systems whose notices say the reason in their own fixed words, whatever the code
//! beside them: the McAfee Email Gateway ("Delivery Status" notices, `X-NAI-Header: Modified by
//! McAfee`), Trend Micro InterScan Messaging Security Suite ("Unable to deliver message to"),
//! the bounce action of an Amazon SES receipt rule (its templates, sent from
//! `inbound-smtp.REGION.amazonaws.com`), Sun/Oracle Communications Messaging Server (whose
//! reports name no SMTP command), HCL/Lotus Notes (its "Failure Reasons", also in Japanese) and
//! Exchange Online (whose NDRs carry its own enhanced codes, as Microsoft's "Email
//! non-delivery reports and SMTP errors in Exchange Online" lists them) and PowerMTA (the
//! bounce category it files each recipient under, `X-PowerMTA-BounceCategory`) and au's EZweb
//! (`X-SPASIGN: NG` on a notice of its spam filter, and its own words of a mailbox),
//! Symantec.cloud (MessageLabs: `X-Msg-Ref`, its "Unknown address error" of a 542 reply),
//! Aol's outbound relays (`X-AOL-IP`, their words of a domain's lookup that failed for good),
//! Facebook (its response codes, `RCP-P1`), Google Groups (its notice of a refused post) and
//! Outlook.com (its two fixed sentences of a mailbox and a domain).
//!
//! Each is known by what its notices always carry (a header, a sender's name, a heading of the
//! text); the reason its words name replaces the one read from the code and the words alone.

use mail_parser::Message;

use super::Bounce;
use super::classify::{self, Reason};
use super::message::View;

/// A reporting system with words of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reporter {
    McAfee,
    InterScan,
    SesInbound,
    MessagingServer,
    Notes,
    ExchangeOnline,
    PowerMta,
    /// Outlook.com (Hotmail), whose notices say two things in fixed words.
    Outlook,
    /// Google Groups' notice that a post to a group was not accepted.
    GoogleGroups,
    /// Facebook's mail servers, whose replies carry a response code of their own (`RCP-P1`).
    Facebook,
    /// `spam_filter`: the notice carries `X-SPASIGN: NG`, the mark of au's spam filter.
    EzWeb {
        spam_filter: bool,
    },
    /// Symantec.cloud (MessageLabs), whose notices carry its message reference, `X-Msg-Ref`.
    MessageLabs,
    /// Aol's outbound relays (`X-AOL-IP`), Postfix with words of their own for a failed lookup.
    Aol,
}

/// The reporting system of a notice, when it is one of those above.
pub(crate) fn reporter(msg: &Message<'_>, view: &View<'_>) -> Option<Reporter> {
    let header = |name: &str| {
        msg.header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let spasign = msg.header_raw("X-SPASIGN").map(str::trim);
    let ezweb_text = view
        .body
        .contains("Each of the following recipients was rejected by a remote mail")
        && view
            .from
            .as_deref()
            .is_some_and(|f| f.ends_with("ezweb.ne.jp"));
    if spasign.is_some() || ezweb_text {
        return Some(Reporter::EzWeb {
            spam_filter: spasign.is_some_and(|v| v.eq_ignore_ascii_case("ng")),
        });
    }
    let from_addr = view.from.as_deref().unwrap_or("");
    // Google Groups answers a refused post from Gmail's daemon, naming the address in
    // `X-Failed-Recipients`, with the group's words before "----- Original message -----".
    if from_addr.eq_ignore_ascii_case("mailer-daemon@googlemail.com")
        && msg.header_raw("X-Failed-Recipients").is_some()
        && msg.header_raw("X-Google-Smtp-Source").is_some()
        && view.body.contains("----- Original message -----")
    {
        return Some(Reporter::GoogleGroups);
    }
    if from_addr.eq_ignore_ascii_case("mailer-daemon@mx.facebook.com")
        || view
            .body
            .contains("This message was created automatically by Facebook.")
    {
        return Some(Reporter::Facebook);
    }
    // Outlook.com's notices: at least two of its marks.
    let outlook_marks = [
        view.subject.contains("Delivery Status Notification"),
        msg.header_raw("X-Message-Delivery").is_some(),
        msg.header_raw("X-Message-Info").is_some(),
        received_holds(msg, &[".hotmail.com"]),
    ];
    if outlook_marks.iter().filter(|m| **m).count() >= 2 {
        return Some(Reporter::Outlook);
    }
    // Symantec.cloud's reference of a message it handled (`server-11.tower-143.messagelabs.com!…`)
    // on a notice from its own daemon.
    if msg.header_raw("X-Msg-Ref").is_some()
        && (from_addr.ends_with("messagelabs.com") || header("X-Msg-Ref").contains(".messagelabs."))
    {
        return Some(Reporter::MessageLabs);
    }
    if msg.header_raw("X-AOL-IP").is_some() {
        return Some(Reporter::Aol);
    }
    if header("X-NAI-Header").contains("modified by mcafee") {
        return Some(Reporter::McAfee);
    }
    let from_name = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name())
        .unwrap_or("");
    if from_name.starts_with("InterScan") || view.body.contains("Message from InterScan Messaging")
    {
        return Some(Reporter::InterScan);
    }
    let ds = view.delivery_status.as_deref().unwrap_or("");
    if ds.contains("X-PowerMTA-BounceCategory:") {
        return Some(Reporter::PowerMta);
    }
    if ds.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("reporting-mta:")
            && l.contains("inbound-smtp.")
            && l.trim_end().ends_with(".amazonaws.com")
    }) {
        return Some(Reporter::SesInbound);
    }
    // Messaging Server's MIME boundaries are `Boundary_(ID_…)`, its subjects "Delivery
    // Notification: …", its text "This report relates to a message you sent …".
    let raw_ct = header("Content-Type");
    if raw_ct.contains("boundary_(id_")
        || view.subject.starts_with("Delivery Notification: ")
            && view
                .body
                .contains("This report relates to a message you sent")
    {
        return Some(Reporter::MessagingServer);
    }
    if view.body.contains("------- Failure Reasons") {
        return Some(Reporter::Notes);
    }
    let from_exchange_online =
        received_holds(msg, &[".prod.outlook.com", ".protection.outlook.com"]);
    if msg.header_raw("X-MS-Exchange-Message-Is-Ndr").is_some()
        || from_exchange_online && view.subject.starts_with("Undeliverable:")
    {
        return Some(Reporter::ExchangeOnline);
    }
    None
}

/// Whether a `Received` field of the notice names one of `hosts` (lower-case). The fields are
/// read raw: the parser keeps a parsed `Received` as a structure, not as text.
fn received_holds(msg: &Message<'_>, hosts: &[&str]) -> bool {
    msg.headers_raw().any(|(name, value)| {
        name.eq_ignore_ascii_case("Received") && {
            let v = value.to_ascii_lowercase();
            hosts.iter().any(|h| v.contains(h))
        }
    })
}

/// McAfee's words of an unknown user, in its "following addresses had delivery problems" list.
const MCAFEE: &[(&str, Reason)] = &[
    ("no such user", Reason::UserUnknown),
    ("unknown user ", Reason::UserUnknown),
    ("user not exist", Reason::UserUnknown),
];

/// The messages of an SES receipt rule's bounce action (the console's templates).
const SES_INBOUND: &[(&str, Reason)] = &[
    ("mailbox does not exist", Reason::Filtered),
    ("message too large", Reason::MesgTooBig),
    ("mailbox full", Reason::MailboxFull),
    ("message content rejected", Reason::ContentError),
];

/// Aol's relays' words of a lookup that failed for good: a broken answer for the domain's MX
/// (it takes no mail), or no such host.
const AOL: &[(&str, Reason)] = &[
    (
        "type=mx: malformed or unexpected name server reply",
        Reason::NotAccept,
    ),
    ("host or domain name not found", Reason::HostUnknown),
];

/// Reasons that the words of a refusal name before an unknown user or host: a full mailbox, a
/// size limit, a suspended or moved mailbox, a relay refusal. A reporting system's own word of
/// an unknown address does not replace them.
const BEFORE_UNKNOWN: &[Reason] = &[
    Reason::MailboxFull,
    Reason::MesgTooBig,
    Reason::ExceedLimit,
    Reason::Suspend,
    Reason::HasMoved,
    Reason::NoRelaying,
];

/// Messaging Server's own words of an address it cannot route.
const MESSAGING_SERVER: &[(&str, Reason)] =
    &[("illegal host/domain name found", Reason::HostUnknown)];

/// Outlook.com's fixed words of a mailbox or a domain it cannot deliver to.
const OUTLOOK: &[(&str, Reason)] = &[
    (
        "requested action not taken: mailbox unavailable",
        Reason::UserUnknown,
    ),
    (
        "the mail could not be delivered to the recipient because the domain is not reachable",
        Reason::HostUnknown,
    ),
];

/// EZweb's words of a recipient's mailbox.
const EZWEB: &[(&str, Reason)] = &[
    (
        "the user(s) account is temporarily over quota",
        Reason::MailboxFull,
    ),
    ("the user(s) account is disabled.", Reason::Suspend),
    (
        "the user(s) account is temporarily limited.",
        Reason::Suspend,
    ),
    ("your message was not delivered within ", Reason::Expired),
];

/// Notes' words of an address its directory does not hold, in English and Japanese.
const NOTES: &[(&str, Reason)] = &[
    (
        "user not listed in public name & address book",
        Reason::UserUnknown,
    ),
    ("not listed in domino directory", Reason::UserUnknown),
    ("ディレクトリのリストにありません", Reason::UserUnknown),
    (
        "message has exceeded maximum hop count",
        Reason::NetworkError,
    ),
];

/// Facebook's response codes (its postmaster pages, "response codes"): a class of trouble, P
/// (permanent) or T (temporary), and a number.
const FACEBOOK: &[(&str, Reason)] = &[
    // The address, or the group address, does not exist.
    ("RCP-P1", Reason::UserUnknown),
    ("INT-P1", Reason::UserUnknown),
    ("INT-P3", Reason::UserUnknown),
    ("INT-P4", Reason::UserUnknown),
    // The recipient's preferences or privacy settings refuse the message.
    ("RCP-P2", Reason::Filtered),
    ("RCP-P3", Reason::Filtered),
    // The sending IP is on the Spamhaus PBL, or no longer accepted.
    ("POL-P1", Reason::Blocked),
    ("POL-P2", Reason::Blocked),
    // Too large.
    ("MSG-P1", Reason::MesgTooBig),
    ("INT-P2", Reason::MesgTooBig),
    // An attachment type, a repeated header, a blocked URL, the abuse policies.
    ("MSG-P2", Reason::ContentError),
    ("MSG-P3", Reason::ContentError),
    ("POL-P6", Reason::ContentError),
    ("POL-P7", Reason::ContentError),
    // The sending server is not accepted for some hours.
    ("POL-P3", Reason::NotAccept),
    ("POL-P4", Reason::NotAccept),
    ("POL-T1", Reason::NotAccept),
    ("POL-T2", Reason::NotAccept),
    ("POL-T3", Reason::NotAccept),
    // The MAIL FROM domain or the sender's reverse DNS does not resolve.
    ("DNS-P1", Reason::Rejected),
    ("DNS-P2", Reason::Rejected),
    ("DNS-P3", Reason::Rejected),
    ("DNS-T1", Reason::Rejected),
    ("DNS-T2", Reason::Rejected),
    // Too many connections on Facebook's side, or an internal trouble with the mailbox.
    ("CON-T1", Reason::SystemError),
    ("RCP-T1", Reason::SystemError),
    // Too many connections from the sender.
    ("CON-T2", Reason::TooManyConn),
    ("CON-T3", Reason::TooManyConn),
    ("POL-P5", Reason::VirusDetected),
    // The address is deactivated, perhaps for a while.
    ("RCP-T4", Reason::Suspend),
];

/// The Facebook response code (`RCP-P1`, `INT-T3`) in a reply, upper-case as Facebook writes it.
fn facebook_code(diagnostic: &str) -> Option<&str> {
    diagnostic
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .find(|w| {
            let b = w.as_bytes();
            b.len() == 6
                && b[..3].iter().all(u8::is_ascii_uppercase)
                && b[3] == b'-'
                && (b[4] == b'P' || b[4] == b'T')
                && b[5].is_ascii_digit()
        })
}

/// Give each bounce the reason its reporting system's words name. `human` is the notice's text
/// before the returned copy (for PowerMTA, its delivery-status fields).
pub(crate) fn refine(reporter: Reporter, bounces: &mut [Bounce], human: &str) {
    for b in bounces.iter_mut() {
        if let Some(r) = reason(reporter, b, human) {
            b.reason = r;
            b.class = classify::class_of(r, b.status.as_deref());
        }
    }
}

fn reason(reporter: Reporter, b: &Bounce, human: &str) -> Option<Reason> {
    let words = b.diagnostic.to_lowercase();
    match reporter {
        Reporter::McAfee => {
            super::phrases::named_in(MCAFEE, &words).or_else(|| {
                // `(User (kim@example.org) unknown.)`
                super::phrases::matches(&words, "user * unknown.").then_some(Reason::UserUnknown)
            })
        }
        Reporter::InterScan => {
            // "Reason: Unable to deliver message to <kim@example.org>": the suite's notice
            // of an address the destination refused.
            let lower = human.to_lowercase();
            let said = format!("unable to deliver message to <{}>", b.recipient);
            lower.contains(&said).then_some(Reason::UserUnknown)
        }
        Reporter::SesInbound => super::phrases::named_in(SES_INBOUND, &words),
        Reporter::MessagingServer => {
            if let Some(r) = super::phrases::named_in(MESSAGING_SERVER, &words) {
                return Some(r);
            }
            // No command is named: the status code and the words decide, as for any report
            // that names none (an unknown-user word under `5.2.1` is a filter's refusal).
            Some(classify::reason(&classify::Facts {
                diagnostic: &b.diagnostic,
                status: b.status.as_deref(),
                action: b.action.as_deref(),
                remote_mta: b.remote_mta.as_deref(),
                recipient: Some(&b.recipient),
                ..Default::default()
            }))
        }
        Reporter::ExchangeOnline => {
            // Its codes decide, but for the reasons that the words may still refine (an unknown
            // host, network, system or security trouble): those are left to the words.
            let r = super::rhost::microsoft(b.status.as_deref()?)?;
            (!matches!(
                r,
                Reason::HostUnknown
                    | Reason::NetworkError
                    | Reason::SystemError
                    | Reason::SecurityError
            ))
            .then_some(r)
        }
        Reporter::GoogleGroups => {
            // The notice that the group "may not exist, or you may not have permission to
            // post" gives four likely causes as a bulleted list, whatever its language: the
            // group refused the post. Another notice from the same daemon says something else.
            let bullets = human
                .lines()
                .filter(|l| {
                    let l = l.trim_start_matches(' ');
                    l.starts_with('*') && l.len() > 1
                })
                .count();
            (bullets == 4).then_some(Reason::Rejected)
        }
        Reporter::Facebook => {
            let code = facebook_code(&b.diagnostic)?;
            FACEBOOK
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, r)| *r)
                // An internal trouble not in the table is a system error while it lasts.
                .or_else(|| code.starts_with("INT-T").then_some(Reason::SystemError))
        }
        Reporter::Outlook => super::phrases::named_in(OUTLOOK, &words),
        Reporter::MessageLabs => {
            // Its "Unknown address error" of a `542 … Rejected` reply, or "No such user": the
            // address is unknown, unless the words name an earlier reason.
            let unknown =
                super::phrases::matches(&words, "542 * rejected") || words.contains("no such user");
            if unknown && !BEFORE_UNKNOWN.contains(&b.reason) {
                return Some(Reason::UserUnknown);
            }
            // Its refusal to relay for a client that did not authenticate, when nothing else
            // was read from the words.
            (words.contains("please turn on smtp authentication")
                && matches!(b.reason, Reason::OnHold | Reason::Undefined))
            .then_some(Reason::SecurityError)
        }
        Reporter::Aol => {
            let r = super::phrases::named_in(AOL, &words)?;
            (r == Reason::NotAccept || !BEFORE_UNKNOWN.contains(&b.reason)).then_some(r)
        }
        Reporter::EzWeb { spam_filter: true } => Some(Reason::Filtered),
        Reporter::EzWeb { spam_filter: false } => super::phrases::named_in(EZWEB, &words),
        Reporter::PowerMta => {
            let category = powermta_category(human, &b.recipient)?;
            let r = match category.as_str() {
                "bad-domain" => Reason::HostUnknown,
                "bad-mailbox" => Reason::UserUnknown,
                "inactive-mailbox" => Reason::Suspend,
                "message-expired" => Reason::Expired,
                "policy-related" => Reason::PolicyViolation,
                "quota-issues" => Reason::MailboxFull,
                "spam-related" => Reason::SpamDetected,
                _ => return None,
            };
            if matches!(r, Reason::HostUnknown | Reason::UserUnknown)
                && BEFORE_UNKNOWN.contains(&b.reason)
            {
                return None;
            }
            Some(r)
        }
        Reporter::Notes => {
            let decoded = iso_2022_jp(&b.diagnostic);
            let text = decoded.as_deref().unwrap_or(&b.diagnostic).to_lowercase();
            super::phrases::named_in(NOTES, &text)
        }
    }
}

/// The `X-PowerMTA-BounceCategory` of the delivery-status group that names `recipient`.
fn powermta_category(ds: &str, recipient: &str) -> Option<String> {
    let ds = ds.replace("\r\n", "\n");
    ds.split("\n\n")
        .find(|g| g.to_ascii_lowercase().contains(recipient))?
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("X-PowerMTA-BounceCategory")
                .then(|| value.trim().to_ascii_lowercase())
        })
}

/// Text left in ISO-2022-JP (escape sequences and 7-bit JIS bytes) decoded, or `None` when it
/// holds none.
fn iso_2022_jp(text: &str) -> Option<String> {
    if !text.contains("\u{1b}$B") && !text.contains("\u{1b}$@") {
        return None;
    }
    let (s, _, _) = encoding_rs::ISO_2022_JP.decode(text.as_bytes());
    Some(s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{Class, address};

    fn bounce(recipient: &str, status: Option<&str>, diagnostic: &str) -> Bounce {
        Bounce {
            recipient: recipient.into(),
            class: Class::Soft,
            status: status.map(str::to_string),
            smtp_code: address::find_smtp_code(diagnostic),
            reason: Reason::OnHold,
            action: Some("failed".into()),
            diagnostic: diagnostic.into(),
            reporting_mta: None,
            remote_mta: None,
        }
    }

    fn refined(reporter: Reporter, b: Bounce, human: &str) -> (Reason, Class) {
        let mut v = [b];
        refine(reporter, &mut v, human);
        (v[0].reason, v[0].class)
    }

    /// What `reporter` makes of a refusal of kim@example.net with this status and these words.
    fn said(reporter: Reporter, status: &str, diagnostic: &str) -> (Reason, Class) {
        let b = bounce("kim@example.net", Some(status), diagnostic);
        refined(reporter, b, "")
    }

    #[test]
    fn google_groups_refused_posts() {
        let notice = "Hello kim@example.org,\n\nWe're writing to let you know that the group you tried to contact (members) may not exist, or you may not have permission to post messages to the group. A few more details on why you weren't able to post:\n\n * You might have spelled or formatted the group name incorrectly.\n * The owner of the group may have removed this group.\n * You may need to join the group before receiving permission to post.\n * This group may not be open to posting.\n\nIf you have questions related to this or any other Google Group, visit the Help Center at https://groups.google.com/support/.\n\nThanks,\n\nGoogle Groups\n";
        let b = || bounce("members@googlegroups.example", None, "");
        assert_eq!(
            refined(Reporter::GoogleGroups, b(), notice).0,
            Reason::Rejected
        );
        let other = "Hello,\n\nYour message could not be posted.\n * The message is too large.\n";
        assert_eq!(
            refined(Reporter::GoogleGroups, b(), other).0,
            Reason::OnHold
        );
    }

    #[test]
    fn facebook_response_codes() {
        let said = |d: &str| said(Reporter::Facebook, "5.1.1", d);
        let pages = "http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp";
        assert_eq!(
            said(&format!(
                "550 5.1.1 RCP-P1 {pages} Recipient address does not exist"
            )),
            (Reason::UserUnknown, Class::Hard)
        );
        assert_eq!(
            said(&format!(
                "550 5.1.1 RCP-P2 {pages} Refused due to recipient preferences"
            )),
            (Reason::Filtered, Class::Soft)
        );
        assert_eq!(
            said(&format!("450 4.7.1 POL-T2 {pages}")).0,
            Reason::NotAccept
        );
        assert_eq!(
            said(&format!("451 4.3.0 INT-T9 {pages}")).0,
            Reason::SystemError
        );
        // No code: the reason read from the status and the words stands.
        assert_eq!(said("550 5.1.1 unknown").0, Reason::OnHold);
        assert_eq!(facebook_code("x CON-T3: y"), Some("CON-T3"));
        assert_eq!(facebook_code("ABCD-P1 RCP-PX"), None);
    }

    #[test]
    fn mcafee_says_the_user_is_unknown() {
        let b = bounce(
            "kim@example.com",
            Some("5.0.0"),
            "550 kim@example.com... No such user",
        );
        assert_eq!(
            refined(Reporter::McAfee, b, ""),
            (Reason::UserUnknown, Class::Hard)
        );
        let b = bounce("kim@example.com", None, "User (kim@example.com) unknown. ");
        assert_eq!(refined(Reporter::McAfee, b, "").0, Reason::UserUnknown);
    }

    #[test]
    fn messagelabs_unknown_address_errors() {
        let unknown = "5.0.0 - Unknown address error 542 'kim@example.net Rejected'";
        assert_eq!(
            said(Reporter::MessageLabs, "5.0.0", unknown),
            (Reason::UserUnknown, Class::Hard)
        );
        // A full mailbox that the words name stays one.
        let mut full = bounce("kim@example.net", Some("5.2.2"), "552 No such user, full");
        full.reason = Reason::MailboxFull;
        assert_eq!(
            refined(Reporter::MessageLabs, full, "").0,
            Reason::MailboxFull
        );
        let auth = "553 Please turn on SMTP Authentication in your mail client.";
        assert_eq!(
            said(Reporter::MessageLabs, "5.0.0", auth),
            (Reason::SecurityError, Class::Soft)
        );
    }

    #[test]
    fn aol_failed_lookups() {
        let lookup = "Host or domain name not found. Name service error for name=example.net";
        let mx = format!("{lookup} type=MX: Malformed or unexpected name server reply");
        assert_eq!(
            said(Reporter::Aol, "5.4.4", &mx),
            (Reason::NotAccept, Class::Hard)
        );
        let a = format!("{lookup} type=A: Host not found");
        assert_eq!(
            said(Reporter::Aol, "5.4.4", &a),
            (Reason::HostUnknown, Class::Hard)
        );
        assert_eq!(
            said(Reporter::Aol, "5.1.1", "550 5.1.1 unknown").0,
            Reason::OnHold
        );
    }

    #[test]
    fn interscan_could_not_deliver() {
        let human = "The following mail could not be delivered.\nReason:  Unable to deliver message to <kim@example.jp> (and other recipients in the same domain).\n";
        let b = bounce(
            "kim@example.jp",
            None,
            "(and other recipients in the same domain).",
        );
        assert_eq!(
            refined(Reporter::InterScan, b, human),
            (Reason::UserUnknown, Class::Hard)
        );
    }

    #[test]
    fn an_ses_receipt_rule_bounces_by_its_template() {
        let b = bounce(
            "kim@example.jp",
            Some("5.1.1"),
            "550 5.1.1 Mailbox does not exist",
        );
        assert_eq!(
            refined(Reporter::SesInbound, b, ""),
            (Reason::Filtered, Class::Soft)
        );
        let b = bounce(
            "kim@example.jp",
            Some("5.3.4"),
            "552 5.3.4 Message too large",
        );
        assert_eq!(refined(Reporter::SesInbound, b, "").0, Reason::MesgTooBig);
    }

    #[test]
    fn messaging_server_names_no_command() {
        let b = bounce(
            "kim@example.jp",
            Some("5.2.1"),
            "550 5.2.1 <kim@example.jp>... User Unknown",
        );
        assert_eq!(
            refined(Reporter::MessagingServer, b, ""),
            (Reason::Filtered, Class::Soft)
        );
        let b = bounce(
            "kim@example.jp",
            Some("5.1.1"),
            "550 5.1.1 <kim@example.jp>... User Unknown",
        );
        assert_eq!(
            refined(Reporter::MessagingServer, b, "").0,
            Reason::UserUnknown
        );
        let b = bounce(
            "kim@example..jp",
            Some("5.1.2"),
            "Illegal host/domain name found",
        );
        assert_eq!(
            refined(Reporter::MessagingServer, b, "").0,
            Reason::HostUnknown
        );
    }

    #[test]
    fn exchange_online_codes_in_its_own_reports() {
        let b = bounce(
            "kim@example.net",
            Some("5.7.1"),
            "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required",
        );
        assert_eq!(
            refined(Reporter::ExchangeOnline, b, ""),
            (Reason::Rejected, Class::Soft)
        );
        let b = bounce(
            "kim@example.net",
            Some("5.7.509"),
            "550 5.7.509 Access denied, sending domain does not pass DMARC verification",
        );
        // Left as it was: its words may say more.
        assert_eq!(refined(Reporter::ExchangeOnline, b, "").0, Reason::OnHold);
    }

    #[test]
    fn powermta_bounce_categories() {
        let ds = "Reporting-MTA: dns; pmta.example.org\nX-PowerMTA-Version: 4.0r6\n\nAction: failed\nFinal-Recipient: rfc822;kim@example.net\nStatus: 5.0.0\nDiagnostic-Code: smtp;550 5.2.1 <kim@example.net>... account gone\nX-PowerMTA-BounceCategory: bad-mailbox\n";
        let b = bounce(
            "kim@example.net",
            Some("5.2.1"),
            "550 5.2.1 <kim@example.net>... account gone",
        );
        assert_eq!(
            refined(Reporter::PowerMta, b, ds),
            (Reason::UserUnknown, Class::Hard)
        );
        let ds = ds.replace("bad-mailbox", "spam-related");
        let b = bounce("kim@example.net", Some("5.7.1"), "550 5.7.1 refused");
        assert_eq!(
            refined(Reporter::PowerMta, b, &ds),
            (Reason::SpamDetected, Class::Soft)
        );
    }

    #[test]
    fn ezweb_filter_and_mailboxes() {
        let b = bounce("kim@ezweb.ne.jp", None, "550 rejected");
        assert_eq!(
            refined(Reporter::EzWeb { spam_filter: true }, b, ""),
            (Reason::Filtered, Class::Soft)
        );
        let b = bounce("kim@ezweb.ne.jp", None, "The user(s) account is disabled.");
        assert_eq!(
            refined(Reporter::EzWeb { spam_filter: false }, b, "").0,
            Reason::Suspend
        );
    }

    #[test]
    fn notes_in_japanese() {
        // "ディレクトリのリストにありません" as the notice leaves it, in 7-bit ISO-2022-JP.
        let d = "\u{1b}$B%G%#%l%/%H%j$N%j%9%H$K$\"$j$^$;$s\u{1b}(B kim@example.co.jp";
        let b = bounce("kim@example.co.jp", None, d);
        assert_eq!(
            refined(Reporter::Notes, b, ""),
            (Reason::UserUnknown, Class::Hard)
        );
    }
}
