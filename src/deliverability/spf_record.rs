//! SPF records (RFC 7208 §4.5, §12): which TXT records are SPF, and their terms.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `+`, `-`, `~` or `?` before a mechanism: what a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn name(self) -> &'static str {
        match self {
            Qualifier::Pass => "pass",
            Qualifier::Fail => "fail",
            Qualifier::SoftFail => "softfail",
            Qualifier::Neutral => "neutral",
        }
    }
}

/// A mechanism (RFC 7208 §5). Domains are kept as written: they may hold macros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(String),
    A {
        domain: Option<String>,
        v4: u8,
        v6: u8,
    },
    Mx {
        domain: Option<String>,
        v4: u8,
        v6: u8,
    },
    Ptr(Option<String>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(String),
}

impl Mechanism {
    /// Whether evaluating it costs one of the ten DNS lookups (RFC 7208 §4.6.4).
    pub fn costs_a_lookup(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

/// A qualifier and a mechanism, with the term as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
    pub text: String,
}

/// A parsed `v=spf1` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRecord {
    pub directives: Vec<Directive>,
    /// `redirect=`: used when no mechanism matches.
    pub redirect: Option<String>,
}

/// Whether a TXT record is an SPF record: `v=spf1` alone or followed by a space.
pub fn is_spf(txt: &str) -> bool {
    let t = txt.as_bytes();
    t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") && (t.len() == 6 || t[6] == b' ')
}

/// Parse an SPF record; the error says which term is wrong and why.
pub fn parse(txt: &str) -> Result<SpfRecord, String> {
    if !is_spf(txt) {
        return Err("an SPF record starts with `v=spf1`".into());
    }
    let mut record = SpfRecord {
        directives: Vec::new(),
        redirect: None,
    };
    let mut exp = false;
    for term in txt[6..].split(' ').filter(|t| !t.is_empty()) {
        if let Some((name, value)) = modifier(term) {
            match name.to_ascii_lowercase().as_str() {
                "redirect" => {
                    if record.redirect.is_some() {
                        return Err("`redirect=` appears twice".into());
                    }
                    check_domain_spec(value, term)?;
                    record.redirect = Some(value.to_string());
                }
                "exp" => {
                    if exp {
                        return Err("`exp=` appears twice".into());
                    }
                    exp = true;
                    check_domain_spec(value, term)?;
                }
                // Unknown modifiers are ignored (RFC 7208 §6).
                _ => {}
            }
            continue;
        }
        record.directives.push(directive(term)?);
    }
    Ok(record)
}

/// `name=value` when the name is a valid modifier name.
fn modifier(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (first_ok && rest_ok).then_some((name, value))
}

fn directive(term: &str) -> Result<Directive, String> {
    let (qualifier, rest) = match term.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &term[1..]),
        b'-' => (Qualifier::Fail, &term[1..]),
        b'~' => (Qualifier::SoftFail, &term[1..]),
        b'?' => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let split = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, arg) = rest.split_at(split);
    let bad = |why: &str| format!("`{term}`: {why}");
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" => {
            if !arg.is_empty() {
                return Err(bad("`all` takes no argument"));
            }
            Mechanism::All
        }
        "include" => Mechanism::Include(required_domain(arg, term)?),
        "exists" => Mechanism::Exists(required_domain(arg, term)?),
        "ptr" => Mechanism::Ptr(optional_domain(arg, term)?),
        "a" | "mx" => {
            let (domain_part, v4, v6) = dual_cidr(arg).map_err(|e| bad(&e))?;
            let domain = optional_domain(domain_part, term)?;
            if name.eq_ignore_ascii_case("a") {
                Mechanism::A { domain, v4, v6 }
            } else {
                Mechanism::Mx { domain, v4, v6 }
            }
        }
        "ip4" | "ip6" => {
            let v6 = name.eq_ignore_ascii_case("ip6");
            let max = if v6 { 128 } else { 32 };
            let value = arg
                .strip_prefix(':')
                .ok_or_else(|| bad(&format!("expected {name}:ADDRESS")))?;
            let (ip, len) = match value.split_once('/') {
                Some((ip, l)) => (ip, prefix(l, max).map_err(|e| bad(&e))?),
                None => (value, max),
            };
            match (ip.parse::<IpAddr>(), v6) {
                (Ok(IpAddr::V4(a)), false) => Mechanism::Ip4(a, len),
                (Ok(IpAddr::V6(a)), true) => Mechanism::Ip6(a, len),
                _ => {
                    let family = if v6 { 6 } else { 4 };
                    return Err(bad(&format!("`{ip}` is not an IPv{family} address")));
                }
            }
        }
        _ => return Err(bad("unknown mechanism")),
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.to_string(),
    })
}

fn required_domain(arg: &str, term: &str) -> Result<String, String> {
    let value = arg
        .strip_prefix(':')
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("`{term}`: expected a domain after `:`"))?;
    check_domain_spec(value, term)?;
    Ok(value.to_string())
}

fn optional_domain(arg: &str, term: &str) -> Result<Option<String>, String> {
    if arg.is_empty() {
        return Ok(None);
    }
    required_domain(arg, term).map(Some)
}

/// `:domain/24//64` → (`:domain`, 24, 64); the lengths default to 32 and 128.
fn dual_cidr(arg: &str) -> Result<(&str, u8, u8), String> {
    let (rest, v6) = match arg.split_once("//") {
        Some((r, l)) => (r, prefix(l, 128)?),
        None => (arg, 128),
    };
    // A `/` inside a macro (`%{d/}`) is not a prefix length.
    let (rest, v4) = match rest.rfind('/') {
        Some(i) if !rest[i..].contains('}') => (&rest[..i], prefix(&rest[i + 1..], 32)?),
        _ => (rest, 32),
    };
    Ok((rest, v4, v6))
}

fn prefix(text: &str, max: u8) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(n) if n <= max && (text == "0" || !text.starts_with('0')) => Ok(n),
        _ => Err(format!("`/{text}` is not a prefix length of 0 to {max}")),
    }
}

/// A domain-spec (RFC 7208 §7.1): macros are well formed, and a name without macros ends in
/// a top label that is not all digits.
fn check_domain_spec(value: &str, term: &str) -> Result<(), String> {
    super::spf_macro::validate(value).map_err(|e| format!("`{term}`: {e}"))?;
    if !value.contains('%') {
        let top = value.trim_end_matches('.').rsplit('.').next().unwrap_or("");
        let labels_ok = value
            .trim_end_matches('.')
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63);
        if !labels_ok || top.is_empty() || top.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{term}`: `{value}` is not a domain name"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_records_are_told_from_other_txt() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("google-site-verification=abc"));
    }

    #[test]
    fn terms_parse() {
        let r = parse(
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.org/28//64 \
             include:_spf.example.net ~all exp=explain.%{d} foo=bar redirect=_spf.example.org",
        )
        .unwrap();
        assert_eq!(r.directives.len(), 6);
        assert_eq!(
            r.directives[0].mechanism,
            Mechanism::Ip4("192.0.2.0".parse().unwrap(), 24)
        );
        assert_eq!(
            r.directives[3].mechanism,
            Mechanism::Mx {
                domain: Some("mail.example.org".into()),
                v4: 28,
                v6: 64
            }
        );
        assert_eq!(r.directives[5].qualifier, Qualifier::SoftFail);
        assert_eq!(r.redirect.as_deref(), Some("_spf.example.org"));
    }

    #[test]
    fn broken_records_say_which_term() {
        for (txt, needle) in [
            ("v=spf1 ip4:192.0.2.300 -all", "`ip4:192.0.2.300`"),
            ("v=spf1 ip4:192.0.2.0/33", "prefix length"),
            ("v=spf1 include -all", "expected a domain"),
            ("v=spf1 includes:x.example -all", "unknown mechanism"),
            ("v=spf1 a:%{z}.example", "macro"),
            ("v=spf1 redirect=a.example redirect=b.example", "twice"),
            ("v=spf1 all:x", "no argument"),
        ] {
            let e = parse(txt).unwrap_err();
            assert!(e.contains(needle), "{txt}: {e}");
        }
    }
}
