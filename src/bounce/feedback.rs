//! Complaint reports: ARF (RFC 5965, `message/feedback-report`) and the vendor notices that
//! only attach the complained-about message.

use mail_parser::Message;

use super::classify::Reason;
use super::message::View;
use super::{Bounce, Class, address, dsn, text, trace};

/// The complaint in `msg`, if it is one.
pub fn read(msg: &Message<'_>, view: &View<'_>) -> Option<Vec<Bounce>> {
    let subject = view.subject.to_lowercase();
    let is_arf = view.feedback_report.is_some() || view.report_type == "feedback-report";
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
    let fields = view
        .feedback_report
        .as_deref()
        .map(dsn::fields)
        .unwrap_or_default();
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
