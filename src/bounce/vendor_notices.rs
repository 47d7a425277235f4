//! The notices of reporting systems written after their formats (testdata/vendors), each read
//! through [`parse`](super::parse): the recipient, the class and the reason each one names.

use super::{Class, Kind, Reason, parse};

/// A notice, and what it reports: its one recipient, the class and the reason.
struct Case {
    file: &'static str,
    raw: &'static [u8],
    recipient: &'static str,
    class: Class,
    reason: Reason,
}

macro_rules! case {
    ($file:literal, $recipient:literal, $class:ident, $reason:ident) => {
        Case {
            file: $file,
            raw: include_bytes!(concat!("testdata/vendors/", $file)),
            recipient: $recipient,
            class: Class::$class,
            reason: Reason::$reason,
        }
    };
}

const CASES: &[Case] = &[
    // McAfee SaaS (MXLogic): Exim's words, the recipient in angle brackets.
    case!(
        "mxlogic-user-not-found.eml",
        "robin.hale@example.net",
        Hard,
        UserUnknown
    ),
    case!(
        "mxlogic-unrouteable.eml",
        "lena.ortiz@mail.example.com",
        Hard,
        HostUnknown
    ),
    // Barracuda's bulk email filter: a DSN with "Your message to:" before it.
    case!(
        "barracuda-bulk-filter.eml",
        "mara.quinn@example.net",
        Soft,
        SpamDetected
    ),
    case!(
        "barracuda-permanent-failure.eml",
        "theo.brandt@example.net",
        Soft,
        Blocked
    ),
    // MailMarshal: the reply under "Could not be delivered because of", the recipients under
    // "The following recipients were affected:".
    case!(
        "mailmarshal-user-unknown.eml",
        "ines.varga@example.net",
        Hard,
        UserUnknown
    ),
    // Symantec.cloud (MessageLabs): a relay refused to a client that did not authenticate.
    case!(
        "messagelabs-smtp-auth.eml",
        "omar.haddad@example.com",
        Soft,
        NoRelaying
    ),
    // Its "Unknown address error" of a 542 reply.
    case!(
        "messagelabs-rejected.eml",
        "aiko.tanaka@example.net",
        Hard,
        UserUnknown
    ),
    // A gateway's notice that passes a Sendmail report on whole.
    case!(
        "x5-forwarded-report.eml",
        "kenji.mori@example.jp",
        Hard,
        UserUnknown
    ),
    // "There was an error sending your mail": "N error(s):", then a line per recipient.
    case!(
        "x6-rejected-recipient.eml",
        "yuki.sato@example.jp",
        Hard,
        UserUnknown
    ),
    case!(
        "x6-permanent-errors.eml",
        "hana.ito@example.jp",
        Soft,
        OnHold
    ),
    // Google Workspace: "** Address not found **", the reply in the DSN too.
    case!(
        "gsuite-address-not-found.eml",
        "nora.lind@example.net",
        Hard,
        UserUnknown
    ),
    // A lookup of the domain that failed, quoted under "The response was:" alone.
    case!(
        "gsuite-domain-not-found.eml",
        "sam.reyes@example.com",
        Soft,
        NetworkError
    ),
    // Aol's relays: Postfix's words of a host not found.
    case!(
        "aol-host-not-found.eml",
        "grace.lee@mail.example.com",
        Hard,
        HostUnknown
    ),
    // A broken answer for the domain's MX: Aol's word is that it takes no mail.
    case!(
        "aol-malformed-mx-reply.eml",
        "felix.wu@example.net",
        Hard,
        NotAccept
    ),
    // Bigfoot: Sendmail's report, its copy of the original as message/partial.
    case!(
        "bigfoot-invalid-recipient.eml",
        "ruth.adler@example.net",
        Hard,
        UserUnknown
    ),
    // Active!hunter: ">>> address <address>" under "permanent fatal errors".
    case!(
        "activehunter-no-mailbox.eml",
        "mei.chen@example.jp",
        Hard,
        UserUnknown
    ),
    // SurfControl and MailFoundry: no command named, so "No such user" is a filter's refusal.
    case!(
        "surfcontrol-no-such-user.eml",
        "lucas.moreau@example.com",
        Soft,
        Filtered
    ),
    case!(
        "mailfoundry-no-such-user.eml",
        "sofia.rossi@example.com",
        Soft,
        Filtered
    ),
    // amavisd-new: its own reply (" - spam"); a next hop's refusal, quoted in the DSN.
    case!(
        "amavis-spam.eml",
        "jonas.berg@example.net",
        Soft,
        SpamDetected
    ),
    case!(
        "amavis-next-hop-rejected.eml",
        "ava.novak@example.net",
        Hard,
        UserUnknown
    ),
];

#[test]
fn each_notice_names_its_recipient_class_and_reason() {
    let mut wrong = Vec::new();
    for c in CASES {
        let report = parse(c.raw);
        let got: Vec<_> = report
            .bounces
            .iter()
            .map(|b| (b.recipient.as_str(), b.class, b.reason))
            .collect();
        if got != [(c.recipient, c.class, c.reason)] {
            wrong.push(format!(
                "{}: {got:?}, not {:?}",
                c.file,
                (c.recipient, c.class, c.reason)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_forwarded_report_traces_the_original_it_returns() {
    let report = parse(include_bytes!("testdata/vendors/x5-forwarded-report.eml"));
    assert_eq!(report.kind, Some(Kind::Dsn));
    assert_eq!(
        report.trace.message_id.as_deref(),
        Some("august-2015.kenji.mori@example.org")
    );
    assert_eq!(
        report.trace.original_to.as_deref(),
        Some("kenji.mori@example.jp")
    );
    assert_eq!(
        report.bounces[0].reporting_mta.as_deref(),
        Some("mx.example.jp")
    );
}
