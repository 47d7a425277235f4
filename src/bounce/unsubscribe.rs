//! Unsubscribe requests sent to the `List-Unsubscribe` mailto address (RFC 2369). Every
//! message carries `mailto:ADDRESS?subject=unsubscribe%20TOKEN`, so the request names the
//! member by their token, in the subject, or in the address when it is `local+TOKEN@domain`:
//! a request is matched to a member by the token, never by its From header alone.
//!
//! Only a message that is no bounce, complaint or auto-reply is asked (the caller checks
//! [`super::parse`] first), so a vacation reply to the unsubscribe address unsubscribes nobody.

use mail_parser::MessageParser;

use super::address;

/// Where the token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    Subject,
    Address,
}

/// A request to unsubscribe the member whose token it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The member's token, lower-cased.
    pub token: String,
    pub found: Found,
    /// The sender, for the report only.
    pub from: Option<String>,
    pub message_id: Option<String>,
}

/// Characters of a token (see [`crate::message::tokens`]).
const TOKEN_LEN: usize = crate::message::tokens::TOKEN_LEN;

fn is_token(t: &str) -> bool {
    t.len() == TOKEN_LEN
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// The token in a subject such as `unsubscribe TOKEN`, `Re: Unsubscribe TOKEN` or
/// `unsubscribe:TOKEN`.
fn token_in_subject(subject: &str) -> Option<String> {
    let lower = subject.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    // reply and forward prefixes a mail client may add
    loop {
        let t = rest.trim_start();
        match ["re:", "aw:", "fw:", "fwd:", "sv:"]
            .iter()
            .find(|p| t.starts_with(**p))
        {
            Some(p) => rest = &t[p.len()..],
            None => {
                rest = t;
                break;
            }
        }
    }
    let after = rest.strip_prefix("unsubscribe")?;
    let token = after
        .trim_start_matches([' ', '\t', ':', '-'])
        .split_whitespace()
        .next()?;
    is_token(token).then(|| token.to_string())
}

/// The token of a recipient `local+TOKEN@domain` where `local@domain` is `mailto`.
fn token_in_address(addr: &str, mailto: &str) -> Option<String> {
    let addr = addr.trim().to_ascii_lowercase();
    let (local, domain) = addr.rsplit_once('@')?;
    let (base, token) = local.split_once('+')?;
    let (want_local, want_domain) = mailto.rsplit_once('@')?;
    (base.eq_ignore_ascii_case(want_local)
        && domain.eq_ignore_ascii_case(want_domain)
        && is_token(token))
    .then(|| token.to_string())
}

/// Read `raw` as an unsubscribe request. `mailto` is the project's unsubscribe address, when
/// known (a token in the address is believed only for that address).
pub fn request(raw: &[u8], mailto: Option<&str>) -> Option<Request> {
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse_headers(raw)
    }));
    let Ok(Some(msg)) = parsed else {
        return None;
    };
    let from = msg.header_raw("From").and_then(address::first);
    let message_id = msg.message_id().map(str::to_string);
    let by_address = mailto.and_then(|mailto| {
        ["Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"]
            .iter()
            .flat_map(|h| msg.header_values(*h))
            .filter_map(|v| {
                v.as_text().map(str::to_string).or_else(|| {
                    v.as_address().map(|a| {
                        a.iter()
                            .filter_map(|a| a.address())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                })
            })
            .flat_map(|text| address::find_all(&text).into_iter().map(|(_, a)| a))
            .find_map(|a| token_in_address(&a, mailto))
    });
    let (token, found) = match by_address {
        Some(t) => (t, Found::Address),
        None => (token_in_subject(msg.subject()?)?, Found::Subject),
    };
    Some(Request {
        token,
        found,
        from,
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "hoqusi5geh4td26z";

    fn msg(headers: &str) -> Vec<u8> {
        format!("From: Ann <ann@example.org>\r\nMessage-ID: <r1@example.org>\r\n{headers}\r\n\r\nPlease remove me.\r\n")
            .into_bytes()
    }

    #[test]
    fn a_token_in_the_subject() {
        for subject in [
            format!("unsubscribe {TOKEN}"),
            format!("Re: Unsubscribe {}", TOKEN.to_uppercase()),
            format!("FWD: re: unsubscribe: {TOKEN} please"),
        ] {
            let r = request(
                &msg(&format!("To: unsubscribe@news.test\r\nSubject: {subject}")),
                Some("unsubscribe@news.test"),
            )
            .unwrap_or_else(|| panic!("{subject}"));
            assert_eq!(r.token, TOKEN);
            assert_eq!(r.found, Found::Subject);
            assert_eq!(r.from.as_deref(), Some("ann@example.org"));
            assert_eq!(r.message_id.as_deref(), Some("r1@example.org"));
        }
    }

    #[test]
    fn a_token_in_the_address() {
        let r = request(
            &msg(&format!(
                "To: <unsubscribe+{TOKEN}@news.test>\r\nSubject: unsubscribe"
            )),
            Some("unsubscribe@news.test"),
        )
        .unwrap();
        assert_eq!((r.token.as_str(), r.found), (TOKEN, Found::Address));
        // only for our own unsubscribe address
        assert!(
            request(
                &msg(&format!("To: <other+{TOKEN}@news.test>\r\nSubject: hello")),
                Some("unsubscribe@news.test"),
            )
            .is_none()
        );
    }

    #[test]
    fn no_token_no_request() {
        for subject in [
            "unsubscribe",
            "unsubscribe me please",
            "Unsubscribe 0123456789abcdef",
            "hello",
            "I want to unsubscribe hoqusi5geh4td26z",
        ] {
            assert!(
                request(
                    &msg(&format!("To: unsubscribe@news.test\r\nSubject: {subject}")),
                    Some("unsubscribe@news.test"),
                )
                .is_none(),
                "{subject}"
            );
        }
        assert!(request(b"\xff\xfe", None).is_none());
    }
}
