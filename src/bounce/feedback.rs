//! Complaint reports: ARF (RFC 5965, `message/feedback-report`) and the vendor notices that
//! only attach the complained-about message.

use mail_parser::Message;

use super::classify::Reason;
use super::message::View;
use super::{Bounce, Class, address, dsn, text, trace};

/// The complaint in `msg`, if it is one.
pub fn read(msg: &Message<'_>, view: &View<'_>) -> Option<Vec<Bounce>> {
    let subject = view.subject.to_lowercase();
    // The report's fields pasted into a plain message (some abuse desks forward them so).
    let pasted = view.feedback_report.is_none() && pasted_fields(&view.body);
    let is_arf = view.feedback_report.is_some() || view.report_type == "feedback-report" || pasted;
    let vendor = !is_arf
        && view.delivery_status.is_none()
        && (view.original.is_some() || view.original_headers.is_some())
        && (subject.contains("complaint about message")
            || subject.contains("abuse report")
            || subject.contains("spam report")
            || msg.header_raw("X-HmXmrOriginalRecipient").is_some());
    if !is_arf && !vendor {
        return None;
    }
    let fields = match view.feedback_report.as_deref() {
        Some(report) => dsn::fields(report),
        None if pasted => dsn::fields(&view.body),
        None => Vec::new(),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let feedback_type = field("feedback-type").unwrap_or("abuse").to_string();
    let mut recipients: Vec<String> = Vec::new();
    for name in ["original-rcpt-to", "removal-recipient"] {
        for (n, v) in &fields {
            if n == name
                && let Some(a) = address::first(dsn::typed_value(v))
                && !recipients.contains(&a)
            {
                recipients.push(a);
            }
        }
    }
    if recipients.is_empty()
        && let Some(a) = msg
            .header_raw("X-HmXmrOriginalRecipient")
            .and_then(address::first)
    {
        recipients.push(a);
    }
    if recipients.is_empty()
        && let Some(a) = trace::original_to(view)
    {
        recipients.push(a);
    }
    if recipients.is_empty() {
        return Some(Vec::new());
    }
    let reporting = field("reporting-mta").map(|v| dsn::typed_value(v).to_string());
    let agent = field("user-agent").unwrap_or("");
    let diagnostic = text::one_line(&format!("feedback-type: {feedback_type}; {agent}"));
    Some(
        recipients
            .into_iter()
            .map(|recipient| Bounce {
                recipient,
                class: Class::Complaint,
                status: None,
                smtp_code: None,
                reason: Reason::Feedback,
                action: None,
                diagnostic: diagnostic.clone(),
                reporting_mta: reporting.clone(),
                remote_mta: None,
            })
            .collect(),
    )
}

/// Does the body hold an ARF report's own fields at the start of lines: `Feedback-Type` with
/// a type of RFC 5965 and its registry, and a field naming the recipient or the two other
/// fields every report carries (`User-Agent`, `Version`)? Some abuse desks paste them into a
/// plain message; AOL and others send them as a `text/plain` part.
fn pasted_fields(body: &str) -> bool {
    let (mut feedback_type, mut recipient, mut agent, mut version) = (false, false, false, false);
    for line in body.lines().take(200) {
        let l = line.trim_start().to_ascii_lowercase();
        if let Some(t) = l.strip_prefix("feedback-type:") {
            feedback_type |= FEEDBACK_TYPES.contains(&t.trim());
        }
        recipient |= l.starts_with("original-rcpt-to:") || l.starts_with("removal-recipient:");
        agent |= l.starts_with("user-agent:");
        version |= l.starts_with("version:");
    }
    feedback_type && (recipient || (agent && version))
}

/// The feedback types of RFC 5965 and the IANA registry (RFC 6591, 6650).
const FEEDBACK_TYPES: &[&str] = &[
    "abuse",
    "auth-failure",
    "fraud",
    "not-spam",
    "other",
    "virus",
];

#[cfg(test)]
mod tests {
    use super::pasted_fields;

    #[test]
    fn report_fields_in_text() {
        assert!(pasted_fields(
            "Feedback-Type: abuse\nUser-Agent: AOL SComp\nVersion: 0.1\nSource-IP: 192.0.2.1\n"
        ));
        assert!(pasted_fields(
            "text\n  Feedback-Type: fraud\nOriginal-Rcpt-To: <kim@example.net>\n"
        ));
        // A person writing about feedback is no report.
        assert!(!pasted_fields(
            "Feedback-Type: great newsletter!\nUser-Agent: me\nVersion: 2\n"
        ));
        assert!(!pasted_fields("Feedback-Type: abuse\nthat is all\n"));
    }
}
