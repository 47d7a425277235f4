//! The `message/delivery-status` body of RFC 3464: per-message fields, then one group of
//! fields per recipient.

/// One recipient's fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecipientFields {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// The diagnostic's type (`smtp`, `x-unix`, `x-postfix`), lower-case.
    pub diagnostic_type: Option<String>,
    pub remote_mta: Option<String>,
}

impl RecipientFields {
    /// Whether the per-recipient field `name` (lower-case) is already set.
    fn has(&self, name: &str) -> bool {
        match name {
            "action" => self.action.is_some(),
            "status" => self.status.is_some(),
            "diagnostic-code" => self.diagnostic.is_some(),
            "remote-mta" => self.remote_mta.is_some(),
            _ => false,
        }
    }
}

/// The whole status body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    pub reporting_mta: Option<String>,
    pub recipients: Vec<RecipientFields>,
}

/// Header-style fields of `text`, with continuation lines unfolded, as (lower-case name, value).
pub fn fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut last_blank = true;
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            last_blank = true;
            // A blank line ends a group; mark it so a recipient group restarts cleanly.
            out.push((String::new(), String::new()));
            continue;
        }
        if line.starts_with([' ', '\t']) && !last_blank {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        last_blank = false;
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && !name.contains(' ') {
                out.push((name.to_ascii_lowercase(), value.trim().to_string()));
                continue;
            }
        }
        // A stray line: treat as a continuation of the previous field.
        if let Some((n, v)) = out.last_mut()
            && !n.is_empty()
        {
            v.push(' ');
            v.push_str(line.trim());
        }
    }
    out
}

/// The value after `type;` (e.g. `rfc822; a@b` → `a@b`, `smtp; 550 …` → `550 …`).
pub fn typed_value(v: &str) -> &str {
    match v.split_once(';') {
        Some((t, rest)) if !t.contains(' ') && t.len() < 20 => rest.trim(),
        _ => v.trim(),
    }
}

/// Parse a delivery-status body.
pub fn parse(text: &str) -> DeliveryStatus {
    let mut ds = DeliveryStatus::default();
    let mut cur: Option<RecipientFields> = None;
    let mut group_break = false;
    for (name, value) in fields(text) {
        if name.is_empty() {
            group_break = true;
            continue;
        }
        let new_record = match name.as_str() {
            "final-recipient" => cur
                .as_ref()
                .is_none_or(|c| group_break || c.final_recipient.is_some()),
            "original-recipient" => cur
                .as_ref()
                .is_none_or(|c| group_break || c.original_recipient.is_some()),
            // RFC 3464 sets no order inside a group: a group may give its status and
            // diagnostic before its recipient. Such a field opens a group when none is open, or
            // after a blank line when the open group already has it.
            "action" | "status" | "diagnostic-code" | "remote-mta" => cur
                .as_ref()
                .is_none_or(|c| group_break && c.final_recipient.is_some() && c.has(&name)),
            _ => false,
        };
        if new_record {
            if let Some(c) = cur.take() {
                ds.recipients.push(c);
            }
            cur = Some(RecipientFields::default());
        }
        group_break = false;
        match cur.as_mut() {
            None => {
                if name == "reporting-mta" {
                    ds.reporting_mta = Some(typed_value(&value).to_string());
                }
            }
            Some(c) => {
                let v = typed_value(&value).to_string();
                match name.as_str() {
                    "final-recipient" => c.final_recipient = Some(v),
                    "original-recipient" | "x-actual-recipient" => {
                        c.original_recipient.get_or_insert(v);
                    }
                    "action" => c.action = Some(v.to_ascii_lowercase()),
                    "status" => c.status = Some(v),
                    "diagnostic-code" => {
                        c.diagnostic_type = value
                            .split_once(';')
                            .map(|(t, _)| t.trim().to_ascii_lowercase())
                            .filter(|t| !t.contains(' ') && t.len() < 20);
                        c.diagnostic = Some(v);
                    }
                    "remote-mta" => c.remote_mta = Some(v),
                    "reporting-mta" => ds.reporting_mta = Some(v),
                    _ => {}
                }
            }
        }
    }
    if let Some(c) = cur {
        ds.recipients.push(c);
    }
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_recipients_with_folded_diagnostic() {
        let text = "Reporting-MTA: dns; mx.example.org\r\nArrival-Date: today\r\n\r\n\
Final-Recipient: rfc822; a@example.net\r\nOriginal-Recipient: rfc822;A@example.net\r\n\
Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.example.net\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <a@example.net>: Recipient address rejected:\r\n    User unknown\r\n\r\n\
Final-Recipient: rfc822; b@example.net\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
        let ds = parse(text);
        assert_eq!(ds.reporting_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(ds.recipients.len(), 2);
        let a = &ds.recipients[0];
        assert_eq!(a.final_recipient.as_deref(), Some("a@example.net"));
        assert_eq!(a.original_recipient.as_deref(), Some("A@example.net"));
        assert_eq!(a.status.as_deref(), Some("5.1.1"));
        assert_eq!(
            a.diagnostic.as_deref(),
            Some("550 5.1.1 <a@example.net>: Recipient address rejected: User unknown")
        );
        assert_eq!(ds.recipients[1].action.as_deref(), Some("delayed"));
    }

    #[test]
    fn recipients_without_blank_lines_between() {
        let text = "Final-Recipient: rfc822; a@x.example\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@x.example\nStatus: 5.2.2\n";
        let ds = parse(text);
        assert_eq!(ds.recipients.len(), 2);
        assert_eq!(ds.recipients[1].status.as_deref(), Some("5.2.2"));
    }

    #[test]
    fn a_group_may_name_its_recipient_last() {
        // Facebook's reports give the diagnostic and the status before the recipient.
        let text = "Reporting-MTA: dns; 10.0.0.1\nArrival-Date: Thu, 29 Apr 2012 23:34:45 -0700\n\n\
Diagnostic-Code: SMTP; 550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes#rcp\n    Recipient address does not exist\n\
Status: 5.1.1\nFinal-Recipient: rfc822; kim@facebook.example\nAction: failed\n";
        let ds = parse(text);
        assert_eq!(ds.reporting_mta.as_deref(), Some("10.0.0.1"));
        assert_eq!(ds.recipients.len(), 1);
        let r = &ds.recipients[0];
        assert_eq!(r.final_recipient.as_deref(), Some("kim@facebook.example"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert_eq!(r.action.as_deref(), Some("failed"));
        assert!(r.diagnostic.as_deref().unwrap().ends_with("does not exist"));
    }

    #[test]
    fn a_blank_line_inside_a_group_does_not_split_it() {
        let text = "Final-Recipient: rfc822; a@x.example\n\nStatus: 5.1.1\nAction: failed\n\n\
Final-Recipient: rfc822; b@x.example\nStatus: 4.2.2\n\nStatus: 4.2.2\n";
        let ds = parse(text);
        assert_eq!(ds.recipients.len(), 3);
        assert_eq!(ds.recipients[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(ds.recipients[1].status.as_deref(), Some("4.2.2"));
        assert_eq!(ds.recipients[2].final_recipient, None);
    }

    #[test]
    fn original_before_final_is_one_recipient() {
        let text = "Original-Recipient: rfc822;a@x.example\nFinal-Recipient: rfc822;a@x.example\nStatus: 5.0.0\n";
        assert_eq!(parse(text).recipients.len(), 1);
    }
}
