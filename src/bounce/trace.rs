//! What ties a report to our send: the VERP bounce address it came back to, and the
//! Message-ID and `X-Bulletin-*` headers of the returned original.

use mail_parser::{HeaderName, Message, MessageParser};

use super::message::View;
use super::{Trace, address, text};

/// Headers of the returned original, as (name, value) pairs: read once per report.
fn original_headers<'v>(view: &'v View<'_>) -> &'v [(String, String)] {
    view.original_fields
        .get_or_init(|| read_original_headers(view))
}

fn read_original_headers(view: &View<'_>) -> Vec<(String, String)> {
    if let Some(m) = view.original {
        return m
            .headers_raw()
            .map(|(n, v)| (n.to_string(), v.trim().to_string()))
            .collect();
    }
    let src: Option<&str> = view
        .original_headers
        .as_deref()
        .or_else(|| text::after_original(&view.body));
    let Some(src) = src else { return Vec::new() };
    // Only the raw values are read: every header is taken raw, none parsed into fields (a
    // parser with any header of its own takes the others raw).
    let raw = MessageParser::new().header_raw(HeaderName::Received);
    match raw.parse_headers(src.trim_start().as_bytes()) {
        Some(m) => m
            .headers_raw()
            .map(|(n, v)| (n.to_string(), v.trim().to_string()))
            .collect(),
        None => Vec::new(),
    }
}

fn get<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The To address of the returned original.
pub fn original_to(view: &View<'_>) -> Option<String> {
    get(original_headers(view), "To").and_then(address::first)
}

/// The From address of the returned original.
pub fn original_from(view: &View<'_>) -> Option<String> {
    get(original_headers(view), "From").and_then(address::first)
}

/// The VERP token in `addr` (`local+TOKEN@domain`).
pub fn verp_token(addr: &str) -> Option<String> {
    let (local, _) = addr.split_once('@')?;
    let (_, token) = local.split_once('+')?;
    (!token.is_empty()).then(|| token.to_string())
}

pub fn trace(msg: &Message<'_>, view: &View<'_>) -> Trace {
    let headers = original_headers(view);
    let bounce_address = ["X-Original-To", "Delivered-To", "Envelope-To", "To"]
        .iter()
        .filter_map(|h| msg.header_raw(*h).and_then(address::first))
        .find(|a| verp_token(a).is_some())
        .or_else(|| view.to.first().cloned());
    Trace {
        verp_token: bounce_address.as_deref().and_then(verp_token),
        bounce_address,
        message_id: get(headers, "Message-ID").map(|v| v.trim_matches(['<', '>', ' ']).to_string()),
        issue: get(headers, "X-Bulletin-Issue").map(str::to_string),
        member: get(headers, "X-Bulletin-Member").map(str::to_string),
        list: get(headers, "X-Bulletin-List").map(str::to_string),
        original_to: get(headers, "To").and_then(address::first),
    }
}
