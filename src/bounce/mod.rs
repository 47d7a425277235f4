//! Bounce messages that come back later: DSNs (RFC 3464), complaints (ARF), auto-replies and vendor formats.
