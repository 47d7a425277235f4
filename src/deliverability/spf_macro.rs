//! SPF macros (RFC 7208 §7): `%{d}`, `%{ir}.%{v}._spf.%{d2}` and the like in domain-specs.

use std::net::IpAddr;

/// What the macros stand for while one address is evaluated.
#[derive(Debug, Clone)]
pub struct MacroContext<'a> {
    /// MAIL FROM (`local@domain`).
    pub sender: &'a str,
    /// The domain whose record is being evaluated.
    pub domain: &'a str,
    /// The connecting address.
    pub ip: IpAddr,
    /// The EHLO name.
    pub helo: &'a str,
}

/// Check the macro syntax of a domain-spec without expanding it.
pub fn validate(spec: &str) -> Result<(), String> {
    let ctx = MacroContext {
        sender: "postmaster@example.invalid",
        domain: "example.invalid",
        ip: IpAddr::from([192, 0, 2, 1]),
        helo: "example.invalid",
    };
    expand(spec, &ctx).map(|_| ())
}

/// Expand the macros of a domain-spec; a result over 253 characters loses labels from the
/// left (RFC 7208 §7.3).
pub fn expand(spec: &str, ctx: &MacroContext<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('_') => out.push(' '),
            Some('-') => out.push_str("%20"),
            Some('{') => {
                let mut body = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => body.push(ch),
                        None => return Err(format!("unterminated macro `%{{{body}`")),
                    }
                }
                out.push_str(&expand_one(&body, ctx)?);
            }
            other => {
                return Err(format!(
                    "`%{}` is not a macro (use %{{…}}, %%, %_ or %-)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    let mut name = out;
    while name.len() > 253 {
        match name.split_once('.') {
            Some((_, rest)) => name = rest.to_string(),
            None => break,
        }
    }
    Ok(name)
}

/// One `%{…}` body: a letter, an optional number of labels, `r`, and delimiters.
fn expand_one(body: &str, ctx: &MacroContext<'_>) -> Result<String, String> {
    let mut chars = body.chars();
    let letter = chars
        .next()
        .ok_or_else(|| "empty macro `%{}`".to_string())?;
    let (local, sender_domain) = ctx
        .sender
        .rsplit_once('@')
        .unwrap_or(("postmaster", ctx.sender));
    let value = match letter.to_ascii_lowercase() {
        's' => ctx.sender.to_string(),
        'l' => local.to_string(),
        'o' => sender_domain.to_string(),
        'd' => ctx.domain.to_string(),
        'i' => match ctx.ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => v6
                .octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .map(|n| format!("{n:x}"))
                .collect::<Vec<_>>()
                .join("."),
        },
        // The validated name of the client: never validated from here.
        'p' => "unknown".to_string(),
        'v' => match ctx.ip {
            IpAddr::V4(_) => "in-addr".to_string(),
            IpAddr::V6(_) => "ip6".to_string(),
        },
        'h' => ctx.helo.to_string(),
        other => return Err(format!("`%{{{body}}}`: `{other}` is not a macro letter")),
    };
    let rest: String = chars.collect();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = &rest[digits.len()..];
    let (reverse, delimiters) = match rest.strip_prefix(['r', 'R']) {
        Some(d) => (true, d),
        None => (false, rest),
    };
    if let Some(bad) = delimiters.chars().find(|c| !".-+,/_=".contains(*c)) {
        return Err(format!("`%{{{body}}}`: `{bad}` is not a macro delimiter"));
    }
    let delimiters: Vec<char> = if delimiters.is_empty() {
        vec!['.']
    } else {
        delimiters.chars().collect()
    };
    let mut parts: Vec<&str> = value.split(|c| delimiters.contains(&c)).collect();
    if reverse {
        parts.reverse();
    }
    if !digits.is_empty() {
        let n: usize = digits
            .parse()
            .map_err(|_| format!("`%{{{body}}}`: bad number of labels"))?;
        if n == 0 {
            return Err(format!("`%{{{body}}}`: zero labels"));
        }
        if parts.len() > n {
            parts.drain(..parts.len() - n);
        }
    }
    Ok(parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7208 §7.4.
    fn ctx(ip: &str) -> MacroContext<'static> {
        MacroContext {
            sender: "strong-bad@email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
        }
    }

    #[test]
    fn macros_expand_as_in_the_rfc_examples() {
        let c = ctx("192.0.2.3");
        for (spec, expected) in [
            ("%{s}", "strong-bad@email.example.com"),
            ("%{o}", "email.example.com"),
            ("%{d}", "email.example.com"),
            ("%{d4}", "email.example.com"),
            ("%{d3}", "email.example.com"),
            ("%{d2}", "example.com"),
            ("%{d1}", "com"),
            ("%{dr}", "com.example.email"),
            ("%{d2r}", "example.email"),
            ("%{l}", "strong-bad"),
            ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"),
            ("%{lr-}", "bad.strong"),
            ("%{l1r-}", "strong"),
            (
                "%{ir}.%{v}._spf.%{d2}",
                "3.2.0.192.in-addr._spf.example.com",
            ),
            ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ] {
            assert_eq!(expand(spec, &c).unwrap(), expected, "{spec}");
        }
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", &ctx("2001:db8::cb01")).unwrap(),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
    }

    #[test]
    fn bad_macros_are_errors() {
        assert!(validate("%{z}.example.org").is_err());
        assert!(validate("%{d").is_err());
        assert!(validate("%x").is_err());
        assert!(validate("%{d0}").is_err());
        assert!(validate("%{d2r}.example.org").is_ok());
    }
}
