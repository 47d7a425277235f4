//! Amazon SES notifications delivered by email (SNS): a JSON body with
//! `notificationType` Bounce or Complaint.

use serde_json::Value;

use super::classify::{self, Reason};
use super::message::{View, pick_status};
use super::{Bounce, Class, Kind, address, text};

/// The SES notification in the body, if the body is one.
pub fn read(view: &View<'_>) -> Option<(Kind, Vec<Bounce>)> {
    let body = view.body.trim_start();
    if !body.starts_with('{') || !body.contains("notificationType") {
        return None;
    }
    // The JSON ends where the SNS footer begins; mail transport may have folded its long
    // line, so join the lines back before parsing the first complete value.
    let json_part = body.split("\n--").next().unwrap_or(body);
    let joined: String = json_part
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let mut stream = serde_json::Deserializer::from_str(&joined).into_iter::<Value>();
    let v = stream.next()?.ok()?;
    let v = match v.get("Message").and_then(Value::as_str) {
        Some(inner) => serde_json::from_str::<Value>(inner).ok()?,
        None => v,
    };
    let kind = v.get("notificationType")?.as_str()?;
    let mut out = Vec::new();
    match kind {
        "Bounce" => {
            let b = v.get("bounce")?;
            let permanent = b.get("bounceType").and_then(Value::as_str) == Some("Permanent");
            let subtype = b
                .get("bounceSubType")
                .and_then(Value::as_str)
                .unwrap_or("General");
            let reporting = b
                .get("reportingMTA")
                .and_then(Value::as_str)
                .map(|s| s.trim_start_matches("dsn; ").to_string());
            for r in b.get("bouncedRecipients")?.as_array()? {
                let Some(rcpt) = r
                    .get("emailAddress")
                    .and_then(Value::as_str)
                    .and_then(address::first)
                else {
                    continue;
                };
                let diag = text::one_line(
                    r.get("diagnosticCode")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                let status = pick_status(r.get("status").and_then(Value::as_str), &diag);
                let mut reason = classify::reason(&classify::Facts {
                    diagnostic: &diag,
                    status: status.as_deref(),
                    command: Some(classify::Command::Rcpt),
                    ..Default::default()
                });
                // When the server's words name nothing, SES's own bounce sub-type does (as
                // its notification contents document them).
                if matches!(reason, Reason::OnHold | Reason::Undefined) {
                    reason = match (permanent, subtype) {
                        (_, "MailboxFull") => Reason::MailboxFull,
                        (_, "MessageTooLarge") => Reason::MesgTooBig,
                        (_, "ContentRejected") => Reason::ContentError,
                        (_, "AttachmentRejected") => Reason::PolicyViolation,
                        (true, _) => Reason::UserUnknown,
                        (false, _) => reason,
                    };
                }
                out.push(Bounce {
                    class: classify::class_of(reason, status.as_deref()),
                    smtp_code: address::find_smtp_code(&diag),
                    recipient: rcpt,
                    status,
                    reason,
                    action: r.get("action").and_then(Value::as_str).map(str::to_string),
                    diagnostic: diag,
                    reporting_mta: reporting.clone(),
                    remote_mta: None,
                });
            }
            Some((Kind::Dsn, out))
        }
        "Complaint" => {
            let c = v.get("complaint")?;
            let ftype = c
                .get("complaintFeedbackType")
                .and_then(Value::as_str)
                .unwrap_or("abuse");
            for r in c.get("complainedRecipients")?.as_array()? {
                let Some(rcpt) = r
                    .get("emailAddress")
                    .and_then(Value::as_str)
                    .and_then(address::first)
                else {
                    continue;
                };
                out.push(Bounce {
                    recipient: rcpt,
                    class: Class::Complaint,
                    status: None,
                    smtp_code: None,
                    reason: Reason::Feedback,
                    action: None,
                    diagnostic: format!("feedback-type: {ftype}"),
                    reporting_mta: None,
                    remote_mta: None,
                });
            }
            Some((Kind::Feedback, out))
        }
        _ => None,
    }
}
