//! Automatic replies (RFC 3834): vacation notices and other autoresponders.

use mail_parser::Message;

use super::classify::Reason;
use super::message::View;
use super::{Bounce, Class, text};

const SUBJECTS: &[&str] = &[
    "auto:",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "automatic reply",
    "automatische antwort",
    "out of office",
    "out of the office",
    "away from",
    "on vacation",
    "vacation",
    "abwesenheit",
    "réponse automatique",
    "reponse automatique",
    "respuesta automática",
    "risposta automatica",
    "away until",
];

/// The auto-reply in `msg`, if it is one: the recipient is its sender.
pub fn read(msg: &Message<'_>, view: &View<'_>) -> Option<Bounce> {
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied"));
    let x_auto = header("X-Autoreply").is_some_and(|v| v.starts_with("yes"))
        || header("X-Autorespond").is_some()
        || header("X-Autoresponder").is_some()
        || header("X-Auto-Response-Suppress")
            .is_some_and(|v| v.contains("all") || v.contains("oof"))
            && header("X-MS-Exchange-Inbox-Rules-Loop").is_some();
    let precedence = header("Precedence").is_some_and(|v| v.contains("auto_reply"));
    let subject = view.subject.to_lowercase();
    let subject_says = SUBJECTS
        .iter()
        .any(|s| subject.starts_with(s) || subject.contains(s));
    if !(auto_submitted || x_auto || precedence || subject_says && header("In-Reply-To").is_some())
    {
        return None;
    }
    // An address holding control characters (a lone CR in `From:`) is no member's.
    let recipient = view
        .from
        .clone()
        .filter(|a| !a.chars().any(char::is_control))?;
    let diagnostic = text::truncate(&text::one_line(text::before_original(&view.body)), 300);
    Some(Bounce {
        recipient,
        class: Class::AutoReply,
        status: None,
        smtp_code: None,
        reason: Reason::Vacation,
        action: None,
        diagnostic,
        reporting_mta: None,
        remote_mta: None,
    })
}
