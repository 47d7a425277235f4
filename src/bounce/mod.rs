//! Bounce messages that come back later: DSNs (RFC 3464), complaints (ARF, RFC 5965),
//! auto-replies (RFC 3834) and the vendor formats whose facts are only in human text.
//!
//! [`parse`] turns one raw message into the bounced recipients it reports, each with a
//! class ([`Class`]), a status code, a reason word ([`Reason`]) and whatever ties it to our
//! send ([`Trace`]). It never panics, whatever the bytes.
//!
//! ```
//! let raw = b"From: MAILER-DAEMON@mx.example.net\r\nTo: news@example.org\r\n\
//! Subject: failure notice\r\n\r\nI'm afraid I wasn't able to deliver your message to the \
//! following addresses.\r\n\r\n<gone@example.com>:\r\n192.0.2.1 said: 550 5.1.1 no such user\r\n";
//! let report = bulletin::bounce::parse(raw);
//! assert_eq!(report.bounces[0].recipient, "gone@example.com");
//! assert_eq!(report.bounces[0].class, bulletin::bounce::Class::Hard);
//! ```

mod address;
pub mod apply;
mod autoreply;
mod classify;
mod dsn;
mod feedback;
mod fml;
pub mod imap;
mod lhost;
mod message;
mod phrases;
mod rhost;
mod ses;
pub mod source;
mod text;
mod trace;
pub mod unsubscribe;
#[cfg(test)]
mod vendor_notices;

use serde::Serialize;

pub use apply::{Applied, Applier};
pub use classify::{Reason, class_of, classify_reply};
pub use message::parse;
pub use source::{ImapUrl, Source, SourceError, SourceItem};

/// What a bounced recipient means for the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The address is dead: suppress at once.
    Hard,
    /// Temporary or policy trouble: suppress after repeated soft bounces.
    Soft,
    /// The member reported the message as spam (ARF): suppress at once.
    Complaint,
    /// A vacation notice or other automatic reply: nothing to do.
    AutoReply,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Hard => "hard",
            Class::Soft => "soft",
            Class::Complaint => "complaint",
            Class::AutoReply => "auto-reply",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of report a message was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// RFC 3464 multipart/report with a message/delivery-status part.
    Dsn,
    /// ARF complaint (RFC 5965) or a vendor's complaint notice.
    Feedback,
    /// Auto-Submitted / vacation reply.
    AutoReply,
    /// A bounce whose facts were read from human text (qmail, Exim, Gmail, …).
    Text,
}

/// What ties a bounce to the message we sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The token of a VERP bounce address (`bounces+TOKEN@domain`) the report was sent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verp_token: Option<String>,
    /// The address the report was sent to (our bounce address, maybe in VERP form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_address: Option<String>,
    /// Message-ID of the returned original message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `X-Bulletin-Issue` of the returned original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// `X-Bulletin-Member` of the returned original: the member's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// `X-Bulletin-List` of the returned original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// `To` of the returned original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_to: Option<String>,
}

/// One bounced recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bounce {
    /// The address that bounced, lower-cased.
    pub recipient: String,
    pub class: Class,
    /// Enhanced status code (`5.1.1`), when one was given or found in the text.
    pub status: Option<String>,
    /// Basic SMTP reply code (550), when found.
    pub smtp_code: Option<u16>,
    pub reason: Reason,
    /// `failed`, `delayed`, … (DSN `Action`), when given.
    pub action: Option<String>,
    /// The server's words, on one line.
    pub diagnostic: String,
    /// The host that wrote the report (`Reporting-MTA`), when known.
    pub reporting_mta: Option<String>,
    /// The host that refused the message (`Remote-MTA`), when known.
    pub remote_mta: Option<String>,
}

/// Everything read from one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `None` when the message is not a bounce, complaint or auto-reply (then `bounces` is empty).
    pub kind: Option<Kind>,
    /// Message-ID of the report itself.
    pub message_id: Option<String>,
    /// `Date` of the report itself, RFC 3339.
    pub date: Option<String>,
    pub trace: Trace,
    pub bounces: Vec<Bounce>,
}

impl Report {
    fn none() -> Self {
        Report {
            kind: None,
            message_id: None,
            date: None,
            trace: Trace::default(),
            bounces: Vec::new(),
        }
    }
}
