//! A message ready for the wire.

/// One member's message: the SMTP envelope and the bytes of the message (CRLF line endings,
/// 7-bit ASCII, lines of at most 998 octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// MAIL FROM: the bounce address, or its per-member (VERP) form.
    pub envelope_from: String,
    /// RCPT TO: the member's address.
    pub to: String,
    /// The Message-ID header's value, angle brackets included.
    pub message_id: String,
    /// The whole message: headers, blank line, body.
    pub bytes: Vec<u8>,
}
