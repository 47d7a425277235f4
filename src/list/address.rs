//! Email addresses: a practical validity check, normalisation, and a compact stable key.
//!
//! The check follows RFC 5321 (lengths, domain forms) and RFC 5322 (the characters of a local
//! part), with RFC 6531's UTF-8 allowed in both halves so internationalised addresses
//! (`jörg@bücher.example`) pass. It is meant to catch what breaks in real lists (typos, two
//! addresses in one cell, a missing `@`, a stray space or line break), not to accept every
//! address the RFCs permit: comments and folding whitespace are refused.
//!
//! [`sendable`] is the one rule for who can be mailed: a valid address that bulletin's SMTP
//! client and message builder can also carry. Sending to a UTF-8 address needs the server's
//! SMTPUTF8 extension (RFC 6531) and UTF-8 headers, which bulletin does not implement, so such
//! addresses, quoted local parts and address literals are refused at the preflight, each with
//! its file, line and reason, rather than failing mid-run. The list reader and the message
//! builder both apply it. An internationalised domain alone needs no SMTPUTF8: the reader
//! writes it in its ASCII form first ([`ascii_domain`], IDNA), so `ann@bücher.example` is
//! mailed as `ann@xn--bcher-kva.example`.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};

/// Longest address accepted: a 256-octet forward path (RFC 5321 4.5.3.1.3) minus the angle
/// brackets.
pub const MAX_ADDRESS: usize = 254;
/// Longest local part (RFC 5321 4.5.3.1.1).
pub const MAX_LOCAL: usize = 64;
/// Longest domain (RFC 5321 4.5.3.1.2).
pub const MAX_DOMAIN: usize = 255;
/// Longest domain label (RFC 1035).
pub const MAX_LABEL: usize = 63;

/// Check that `address` (already trimmed) is a usable mailbox. The error is a short reason
/// for the user, e.g. `the domain "example" has no dot`.
pub fn validate(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Err("the address is empty".into());
    }
    if let Some(c) = address.chars().find(|c| c.is_control()) {
        return Err(match c {
            '\r' | '\n' => "the address contains a line break".into(),
            '\t' => "the address contains a tab".into(),
            _ => format!(
                "the address contains a control character (U+{:04X})",
                c as u32
            ),
        });
    }
    if let Some(c) = address.chars().find(|&c| is_invisible(c)) {
        return Err(format!(
            "the address contains an invisible character (U+{:04X})",
            c as u32
        ));
    }
    if address.len() > MAX_ADDRESS {
        return Err(format!(
            "the address is {} bytes long; at most {MAX_ADDRESS} are allowed",
            address.len()
        ));
    }
    let Some(at) = address.rfind('@') else {
        return Err("the address has no @".into());
    };
    let (local, domain) = (&address[..at], &address[at + 1..]);
    validate_local(local)?;
    validate_domain(domain)
}

/// `address` with an internationalised domain written in its ASCII form (IDNA, RFC 5891 and
/// UTS #46: `ann@bücher.example` becomes `ann@xn--bcher-kva.example`), which every SMTP server
/// takes without SMTPUTF8. Addresses with an ASCII domain, with UTF-8 before the @, or whose
/// domain IDNA refuses are returned as they are (for [`sendable`] to judge).
pub fn ascii_domain(address: &str) -> Cow<'_, str> {
    let Some(at) = address.rfind('@') else {
        return Cow::Borrowed(address);
    };
    let (local, domain) = (&address[..at], &address[at + 1..]);
    if domain.is_ascii() || !local.is_ascii() {
        return Cow::Borrowed(address);
    }
    match idna::domain_to_ascii(domain) {
        Ok(ascii) if !ascii.is_empty() && ascii.is_ascii() => {
            Cow::Owned(format!("{local}@{ascii}"))
        }
        _ => Cow::Borrowed(address),
    }
}

/// Check that bulletin can send to `address` (already trimmed): [`validate`], and then what its
/// SMTP client and message builder cannot carry. The error is a short reason for the user.
pub fn sendable(address: &str) -> Result<(), String> {
    validate(address)?;
    let at = address.rfind('@').unwrap_or(0);
    let (local, domain) = (&address[..at], &address[at + 1..]);
    if let Some(c) = local.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "the part before the @ contains {c:?}: a UTF-8 address needs SMTPUTF8 (RFC 6531), \
             which bulletin does not support; ask the member for an ASCII address"
        ));
    }
    if !domain.is_ascii() {
        return Err(format!(
            "the domain {domain:?} is not ASCII: write it in its ASCII form (`xn--…`); \
             bulletin does not send UTF-8 addresses (SMTPUTF8, RFC 6531)"
        ));
    }
    if local.starts_with('"') {
        return Err("a quoted part before the @ is not supported".into());
    }
    if domain.starts_with('[') {
        return Err(format!(
            "the address literal {domain} is not supported: use the domain's name"
        ));
    }
    Ok(())
}

fn validate_local(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("nothing before the @".into());
    }
    if local.len() > MAX_LOCAL {
        return Err(format!(
            "the part before the @ is {} bytes long; at most {MAX_LOCAL} are allowed",
            local.len()
        ));
    }
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        return validate_quoted(&local[1..local.len() - 1]);
    }
    if local.contains('@') {
        return Err("the address has more than one @".into());
    }
    if local.chars().any(char::is_whitespace) {
        return Err("the address contains a space".into());
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Err("the part before the @ starts or ends with a dot".into());
    }
    if local.contains("..") {
        return Err("the part before the @ has two dots in a row".into());
    }
    if let Some(c) = local.chars().find(|&c| !is_atext(c) && c != '.') {
        return Err(format!("the part before the @ contains {c:?}"));
    }
    Ok(())
}

/// The inside of a quoted local part: printable characters, with `"` and `\` escaped.
fn validate_quoted(inner: &str) -> Result<(), String> {
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => {
                return Err("the quoted part before the @ ends with a backslash".into());
            }
            '"' => return Err("the quoted part before the @ has an unescaped quote".into()),
            _ => {}
        }
    }
    Ok(())
}

/// Zero-width and direction-control characters (and the soft hyphen) that text copied from web
/// pages and documents carries unseen.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// RFC 5322 `atext`, plus any non-ASCII character (RFC 6531).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_whitespace())
}

fn validate_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("nothing after the @".into());
    }
    if let Some(literal) = domain.strip_prefix('[') {
        let Some(literal) = literal.strip_suffix(']') else {
            return Err("the address literal after the @ has no closing ]".into());
        };
        let ok = match literal.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
            None => literal.parse::<Ipv4Addr>().is_ok(),
        };
        return if ok {
            Ok(())
        } else {
            Err(format!("[{literal}] is not an IP address"))
        };
    }
    if domain.chars().any(char::is_whitespace) {
        return Err("the address contains a space".into());
    }
    if domain.len() > MAX_DOMAIN {
        return Err(format!(
            "the domain is {} bytes long; at most {MAX_DOMAIN} are allowed",
            domain.len()
        ));
    }
    if !domain.contains('.') {
        return Err(format!("the domain {domain:?} has no dot"));
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(format!("the domain {domain:?} starts or ends with a dot"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(format!("the domain {domain:?} has two dots in a row"));
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "the domain {domain:?} has a part longer than {MAX_LABEL} bytes"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "the domain {domain:?} has a part starting or ending with a hyphen"
            ));
        }
        if let Some(c) = label.chars().find(|&c| {
            !(c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
        }) {
            return Err(format!("the domain {domain:?} contains {c:?}"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!(
            "the domain {domain:?} ends in a number (an IP address must be written [1.2.3.4])"
        ));
    }
    Ok(())
}

/// Trim and lower-case an address so duplicates compare equal (the same rule as
/// [`crate::subscriber::normalise_address`]).
pub fn normalise(address: &str) -> String {
    crate::subscriber::normalise_address(address)
}

/// A compact, stable identity of an address: the first 8 bytes (big-endian) of the SHA-256 of
/// its normalised form (trimmed, lower-cased, UTF-8).
///
/// It is the same on every platform and in every version of bulletin, so journals written by
/// one run are read correctly by the next, and shards split the same way everywhere. With 64
/// bits, the chance that two addresses of a million-member list share a key is about 3 in 100
/// million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey(pub u64);

impl AddressKey {
    /// The key of `address`, normalised first.
    pub fn of(address: &str) -> AddressKey {
        let normal = normalise(address);
        let digest = Sha256::digest(normal.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        AddressKey(u64::from_be_bytes(first))
    }

    /// Parse the 16 hex digits written by [`Display`](fmt::Display).
    pub fn parse(hex: &str) -> Option<AddressKey> {
        if hex.len() != 16 {
            return None;
        }
        u64::from_str_radix(hex, 16).ok().map(AddressKey)
    }
}

impl fmt::Display for AddressKey {
    /// 16 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for a in [
            "ann@example.org",
            "Ann.Lee@Example.ORG",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.net",
            "x@example.museum",
            "a!#$%&'*+-/=?^_`{|}~@example.com",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "\"john doe\"@example.org",
            "jörg@bücher.example",
            "用户@例子.广告",
            "a@b-c.example",
        ] {
            assert_eq!(validate(a), Ok(()), "{a}");
        }
    }

    #[test]
    fn what_cannot_be_sent_is_refused_with_a_reason() {
        for a in [
            "ann@example.org",
            "first.last+tag@sub.example.co.uk",
            "a!#$%&'*+-/=?^_`{|}~@example.com",
            "ann@xn--bcher-kva.example",
        ] {
            assert_eq!(sendable(a), Ok(()), "{a}");
        }
        let no = |a: &str| sendable(a).expect_err(a);
        assert!(no("jörg@example.org").contains("needs SMTPUTF8 (RFC 6531)"));
        assert!(no("用户@例子.广告").contains("'用'"));
        assert!(no("ann@bücher.example").contains("write it in its ASCII form"));
        assert_eq!(
            no("\"john doe\"@example.org"),
            "a quoted part before the @ is not supported"
        );
        assert_eq!(
            no("user@[192.0.2.1]"),
            "the address literal [192.0.2.1] is not supported: use the domain's name"
        );
        assert!(no("user@[IPv6:2001:db8::1]").contains("not supported"));
        // and what is invalid stays invalid, with the same reason
        assert_eq!(no("ann@example"), reason("ann@example"));
    }

    #[test]
    fn an_internationalised_domain_is_written_in_ascii() {
        assert_eq!(
            ascii_domain("ann@bücher.example"),
            "ann@xn--bcher-kva.example"
        );
        assert_eq!(
            ascii_domain("Ann@Bücher.Example"),
            "Ann@xn--bcher-kva.example"
        );
        assert_eq!(sendable(&ascii_domain("ann@bücher.example")), Ok(()));
        for same in [
            "ann@example.org",
            "jörg@bücher.example",
            "no-at",
            "a@[192.0.2.1]",
        ] {
            assert!(matches!(ascii_domain(same), Cow::Borrowed(_)), "{same}");
        }
    }

    fn reason(a: &str) -> String {
        validate(a).expect_err(a)
    }

    #[test]
    fn refuses_each_kind_of_broken_address_with_a_reason() {
        assert_eq!(reason(""), "the address is empty");
        assert_eq!(reason("ann.example.org"), "the address has no @");
        assert_eq!(reason("@example.org"), "nothing before the @");
        assert_eq!(reason("ann@"), "nothing after the @");
        assert_eq!(reason("ann@example"), "the domain \"example\" has no dot");
        assert_eq!(
            reason("ann lee@example.org"),
            "the address contains a space"
        );
        assert_eq!(reason("ann@exam ple.org"), "the address contains a space");
        assert_eq!(
            reason("ann@example.org\r\nBcc: x@y.z"),
            "the address contains a line break"
        );
        assert_eq!(
            reason("ann@example.org\nx"),
            "the address contains a line break"
        );
        assert_eq!(reason("ann\t@example.org"), "the address contains a tab");
        assert_eq!(
            reason("ann\u{0}@example.org"),
            "the address contains a control character (U+0000)"
        );
        assert_eq!(
            reason("ann@bob@example.org"),
            "the address has more than one @"
        );
        assert_eq!(
            reason("ann\u{200B}@example.org"),
            "the address contains an invisible character (U+200B)"
        );
        assert_eq!(
            reason(".ann@example.org"),
            "the part before the @ starts or ends with a dot"
        );
        assert_eq!(
            reason("ann.@example.org"),
            "the part before the @ starts or ends with a dot"
        );
        assert_eq!(
            reason("ann..lee@example.org"),
            "the part before the @ has two dots in a row"
        );
        assert_eq!(
            reason("ann,lee@example.org"),
            "the part before the @ contains ','"
        );
        assert_eq!(
            reason("<ann@example.org"),
            "the part before the @ contains '<'"
        );
        assert_eq!(
            reason("ann@example..org"),
            "the domain \"example..org\" has two dots in a row"
        );
        assert_eq!(
            reason("ann@.example.org"),
            "the domain \".example.org\" starts or ends with a dot"
        );
        assert_eq!(
            reason("ann@example.org."),
            "the domain \"example.org.\" starts or ends with a dot"
        );
        assert_eq!(
            reason("ann@-example.org"),
            "the domain \"-example.org\" has a part starting or ending with a hyphen"
        );
        assert_eq!(
            reason("ann@exa_mple.org"),
            "the domain \"exa_mple.org\" contains '_'"
        );
        assert_eq!(
            reason("ann@example.org>"),
            "the domain \"example.org>\" contains '>'"
        );
        assert_eq!(
            reason("ann@192.0.2.1"),
            "the domain \"192.0.2.1\" ends in a number (an IP address must be written [1.2.3.4])"
        );
        assert_eq!(
            reason("ann@[192.0.2.999]"),
            "[192.0.2.999] is not an IP address"
        );
        assert_eq!(
            reason("ann@[192.0.2.1"),
            "the address literal after the @ has no closing ]"
        );
        assert_eq!(
            reason("\"a\"b\"@example.org"),
            "the quoted part before the @ has an unescaped quote"
        );
    }

    #[test]
    fn refuses_overlong_parts() {
        let local = "a".repeat(65);
        assert_eq!(
            reason(&format!("{local}@example.org")),
            "the part before the @ is 65 bytes long; at most 64 are allowed"
        );
        let label = "b".repeat(64);
        assert_eq!(
            reason(&format!("a@{label}.org")),
            format!("the domain \"{label}.org\" has a part longer than 63 bytes")
        );
        let long = format!("a@{}.org", vec!["c".repeat(60); 5].join("."));
        assert_eq!(
            reason(&long),
            format!(
                "the address is {} bytes long; at most 254 are allowed",
                long.len()
            )
        );
        // exactly at the limits passes
        assert_eq!(
            validate(&format!("{}@{}.org", "a".repeat(64), "b".repeat(63))),
            Ok(())
        );
    }

    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        assert_eq!(
            AddressKey::of("Ann@Example.org"),
            AddressKey::of("  ann@example.ORG ")
        );
        assert_ne!(
            AddressKey::of("ann@example.org"),
            AddressKey::of("anne@example.org")
        );
    }

    #[test]
    fn keys_are_stable_sha256_prefixes() {
        // SHA-256("ann@example.org") starts with these 8 bytes; a change here breaks every
        // journal and shard split written before it.
        let digest = Sha256::digest(b"ann@example.org");
        let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
        assert_eq!(AddressKey::of("ANN@example.org").0, expected);
        assert_eq!(
            AddressKey::of("ann@example.org").to_string(),
            "438c4c7afe600cdf"
        );
        let k = AddressKey::of("ann@example.org");
        assert_eq!(AddressKey::parse(&k.to_string()), Some(k));
        assert_eq!(AddressKey::parse("xyz"), None);
    }
}
