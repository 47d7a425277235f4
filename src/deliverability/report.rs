//! What the checks found: one [`Check`] per question, with the record to publish when one
//! would fix it, and the report as text.

use std::fmt::Write as _;

use serde::Serialize;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Mailbox providers will see what they need.
    Pass,
    /// Works, but something could go wrong that cannot be known from here, or is not advised.
    #[serde(rename = "warning")]
    Warn,
    /// Providers will junk or refuse mail because of it.
    Fail,
    /// The DNS did not answer (timeout, SERVFAIL): nothing is known.
    Unknown,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warning",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
        }
    }

    /// Fail and unknown stop a send that requires authentication.
    pub fn is_problem(self) -> bool {
        matches!(self, Status::Fail | Status::Unknown)
    }
}

/// A DNS record to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publish {
    /// The owner name, without the trailing dot.
    pub name: String,
    /// `TXT` or `MX`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The record's data as one string (TXT: the text, unquoted and unsplit).
    pub value: String,
}

impl Publish {
    pub fn txt(name: impl Into<String>, value: impl Into<String>) -> Publish {
        Publish {
            name: name.into(),
            kind: "TXT",
            value: value.into(),
        }
    }

    /// The record as a zone-file line; a TXT longer than 255 bytes is split into quoted strings
    /// of at most 255, which resolvers join again (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    pub fn zone_line(&self) -> String {
        let data = if self.kind == "TXT" {
            self.value
                .as_bytes()
                .chunks(255)
                .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            self.value.clone()
        };
        format!("{}. IN {} {data}", self.name, self.kind)
    }
}

/// One question about the sender's DNS and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `spf`, `dkim`, `dmarc`, `alignment`, `mx` or `sender`.
    pub check: &'static str,
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// Further lines: the record, mechanisms, what cannot be known from here.
    pub details: Vec<String>,
    /// The record that fixes a failure.
    pub publish: Option<Publish>,
    /// What to do when no record does it (e.g. a configuration change).
    pub fix: Option<String>,
}

impl Check {
    pub fn new(check: &'static str, status: Status, summary: impl Into<String>) -> Check {
        Check {
            check,
            status,
            summary: summary.into(),
            details: Vec::new(),
            publish: None,
            fix: None,
        }
    }

    pub fn detail(mut self, line: impl Into<String>) -> Check {
        self.details.push(line.into());
        self
    }

    pub fn publish(mut self, record: Publish) -> Check {
        self.publish = Some(record);
        self
    }

    pub fn fix(mut self, text: impl Into<String>) -> Check {
        self.fix = Some(text.into());
        self
    }

    /// The check as text: `spf: pass: …`, then indented details and the record to publish.
    pub fn render(&self) -> String {
        self.render_with(true)
    }

    /// As [`Check::render`], the status word left out of the headline when `status` is false
    /// (a line already labelled `warning:`).
    pub fn render_with(&self, status: bool) -> String {
        let mut s = if status {
            format!("{}: {}: {}\n", self.check, self.status.name(), self.summary)
        } else {
            format!("{}: {}\n", self.check, self.summary)
        };
        for d in &self.details {
            let _ = writeln!(s, "  {d}");
        }
        if let Some(p) = &self.publish {
            let _ = writeln!(s, "  publish: {}", p.zone_line());
        }
        if let Some(f) = &self.fix {
            let _ = writeln!(s, "  fix: {f}");
        }
        s
    }
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server asked: an address, or the system's resolver; none when the DNS was not
    /// asked (a reserved example domain).
    pub nameserver: Option<String>,
    pub checks: Vec<Check>,
}

impl Report {
    /// Checks that failed or could not be made.
    pub fn problems(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status.is_problem())
    }

    pub fn warnings(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Warn)
            .count()
    }

    /// The whole report as text.
    pub fn render(&self) -> String {
        self.checks.iter().map(Check::render).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_txt_records_are_split_for_zone_files() {
        let p = Publish::txt("s1._domainkey.example.org", "a".repeat(300));
        let line = p.zone_line();
        assert!(line.starts_with("s1._domainkey.example.org. IN TXT \""));
        assert!(line.contains(&format!("\"{}\" \"{}\"", "a".repeat(255), "a".repeat(45))));
    }

    #[test]
    fn checks_render_their_details_and_fix() {
        let c = Check::new("dmarc", Status::Fail, "no DMARC record")
            .detail("asked _dmarc.example.org")
            .publish(Publish::txt("_dmarc.example.org", "v=DMARC1; p=none"));
        assert_eq!(
            c.render(),
            "dmarc: fail: no DMARC record\n  asked _dmarc.example.org\n  \
             publish: _dmarc.example.org. IN TXT \"v=DMARC1; p=none\"\n"
        );
    }
}
