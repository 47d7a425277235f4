//! Notices of the fml mailing-list manager: a list (a member's address here) that refused a
//! post or stopped a loop. fml answers from `LIST-admin@domain`, marks its messages
//! `X-MLServer: fml …` and gives them Message-IDs `<DIGITS.FML….@domain>`; the text before
//! "Original mail as follows:" names the list's address as `<list@domain>.` at the end of
//! a line. Every such notice is a soft bounce: the list exists, and refused this one post.

use mail_parser::Message;

use super::classify::{self, Reason};
use super::message::View;
use super::{Bounce, address, text};

/// fml's words of each kind of refusal, in its notices' text and subjects.
const WORDS: &[(&str, Reason)] = &[
    ("not member article from ", Reason::Rejected),
    (
        "you are not a member of this mailing list",
        Reason::Rejected,
    ),
    ("reject mail from ", Reason::Rejected),
    ("reject spammers:", Reason::Rejected),
    ("spam mail from a spammer is rejected", Reason::Rejected),
    (" are not member", Reason::Rejected),
    ("duplicated message-id", Reason::SystemError),
    ("has detected a loop condition so that", Reason::SystemError),
    ("loop back warning:", Reason::SystemError),
    ("loop alert:", Reason::SystemError),
    ("warning: unix from loop", Reason::SystemError),
    ("fml system error message", Reason::SystemError),
    ("security alert", Reason::SecurityError),
];

/// The bounces of an fml notice, or `None` when the message is not one.
pub fn read(msg: &Message<'_>, view: &View<'_>) -> Option<Vec<Bounce>> {
    let server = msg.header_raw("X-MLServer")?;
    if !server.trim_start().to_ascii_lowercase().starts_with("fml") {
        return None;
    }
    let from = view.from.as_deref()?;
    let admin = from
        .split_once('@')
        .is_some_and(|(l, _)| l.ends_with("-admin"));
    let fml_id = msg
        .message_id()
        .is_some_and(|id| id.split('@').next().is_some_and(|l| l.contains(".FML")));
    if !admin || !fml_id {
        return None;
    }
    let notice = view
        .body
        .split("Original mail as follows:")
        .next()
        .unwrap_or("");
    let reason = super::phrases::named_in(WORDS, &notice.to_lowercase())
        .or_else(|| super::phrases::named_in(WORDS, &view.subject.to_lowercase()))
        .unwrap_or(Reason::OnHold);
    let mut out: Vec<Bounce> = Vec::new();
    for line in notice.lines() {
        let line = line.trim_end();
        let Some(inner) = line
            .strip_suffix(">.")
            .and_then(|l| l.rsplit_once('<'))
            .map(|(_, a)| a)
        else {
            continue;
        };
        let Some(recipient) = address::first(inner) else {
            continue;
        };
        if out.iter().any(|b| b.recipient == recipient) {
            continue;
        }
        out.push(Bounce {
            recipient,
            class: classify::class_of(reason, None),
            status: None,
            smtp_code: None,
            reason,
            action: Some("failed".into()),
            diagnostic: text::one_line(line),
            reporting_mta: None,
            remote_mta: None,
        });
    }
    (!out.is_empty()).then_some(out)
}
