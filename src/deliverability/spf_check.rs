//! The SPF check: the envelope (bounce) domain has one SPF record that parses, within the
//! lookup limits, and covers the relay as far as can be known from here.

use std::net::IpAddr;

use super::report::{Check, Publish, Status};
use super::resolver::{Dns, LookupError};
use super::sender::{Relay, Sender};
use super::spf_eval::{Evaluation, LOOKUP_LIMIT, SpfResult, in_net};
use super::spf_record::{Mechanism, Qualifier, is_spf, parse};

/// An address no real record lists (TEST-NET-3, RFC 5737): evaluating it walks every term,
/// so it counts the lookups a stranger's address costs.
const STRANGER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 254));

/// What alignment needs to know of SPF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfOutcome {
    /// One valid record that passes the relay's addresses.
    Covers,
    /// One valid record; whether the relay's outbound address passes cannot be told.
    Valid,
    /// No record, several, a broken one, or one that does not cover the relay.
    Broken,
    /// The DNS did not answer.
    Unknown,
}

pub async fn check(dns: &Dns, sender: &Sender) -> (Check, SpfOutcome) {
    let (c, outcome) = examine(dns, sender).await;
    if c.status == Status::Unknown {
        return (c, SpfOutcome::Unknown);
    }
    (c, outcome)
}

async fn examine(dns: &Dns, sender: &Sender) -> (Check, SpfOutcome) {
    let domain = &sender.bounce_domain;
    // The record, and the relay's addresses as this machine reaches it, asked at once.
    let relay_lookup = async {
        match &sender.relay {
            Some(r) if !r.is_loopback() => match r.ip() {
                Some(ip) => Ok(vec![ip]),
                None => dns.all_addresses(&r.host).await,
            },
            _ => Ok(Vec::new()),
        }
    };
    let (txts, relay_ips) = tokio::join!(dns.txt(domain), relay_lookup);
    let known_ips = relay_ips.clone().unwrap_or_default();
    let suggestion = |existing: &[String], covered: bool| {
        Publish::txt(
            domain.clone(),
            suggest(existing, sender.relay.as_ref(), &known_ips, covered),
        )
    };
    let txts = match txts {
        Ok(t) => t,
        Err(e) if e.is_absent() => {
            let c = Check::new(
                "spf",
                Status::Fail,
                format!("{domain} (the bounce domain) has no SPF record: {e}"),
            )
            .publish(suggestion(&[], false));
            return (with_caveat(c, sender), SpfOutcome::Broken);
        }
        Err(e) => {
            return (
                Check::new("spf", Status::Unknown, format!("TXT {domain}: {e}")),
                SpfOutcome::Broken,
            );
        }
    };
    let records: Vec<String> = txts.into_iter().filter(|t| is_spf(t)).collect();
    if records.is_empty() {
        let c = Check::new(
            "spf",
            Status::Fail,
            format!("{domain} (the bounce domain) has TXT records but none is SPF (`v=spf1`)"),
        )
        .publish(suggestion(&[], false));
        return (with_caveat(c, sender), SpfOutcome::Broken);
    }
    if records.len() > 1 {
        let mut c = Check::new(
            "spf",
            Status::Fail,
            format!(
                "{domain} has {} SPF records; receivers treat that as a permanent error \
                 (RFC 7208 §4.5): merge them into one",
                records.len()
            ),
        );
        for r in &records {
            c = c.detail(format!("record: {r}"));
        }
        return (
            with_caveat(c.publish(suggestion(&records, false)), sender),
            SpfOutcome::Broken,
        );
    }
    let text = &records[0];
    let record = match parse(text) {
        Ok(r) => r,
        Err(e) => {
            let c = Check::new(
                "spf",
                Status::Fail,
                format!("the SPF record of {domain} does not parse: {e}"),
            )
            .detail(format!("record: {text}"))
            .publish(suggestion(&records, false));
            return (with_caveat(c, sender), SpfOutcome::Broken);
        }
    };

    let mut status = Status::Pass;
    let mut details = vec![format!("record: {text}")];
    let terms: Vec<&str> = record.directives.iter().map(|d| d.text.as_str()).collect();
    let mut listed = terms.join(", ");
    if let Some(r) = &record.redirect {
        listed.push_str(&format!(", redirect={r}"));
    }
    details.push(format!("mechanisms: {listed}"));
    for d in &record.directives {
        match (&d.mechanism, d.qualifier) {
            (Mechanism::All, Qualifier::Pass) => {
                status = Status::Warn;
                details.push(
                    "`+all` lets any server on the internet send as this domain; end with `~all` or `-all`".into(),
                );
            }
            (Mechanism::Ptr(_), _) => details.push(
                "`ptr` is slow and discouraged (RFC 7208 §5.5); many receivers skip it".into(),
            ),
            _ => {}
        }
    }

    // Every term, for an address no term lists: the lookup count and any permerror deep in
    // an include.
    let mut walk = Evaluation::new(dns, &sender.bounce_address, &sender.helo);
    let worst = walk.check_host(STRANGER, domain).await;
    match &worst {
        SpfResult::PermError(e) => {
            let c = Check::new(
                "spf",
                Status::Fail,
                format!(
                    "receivers will get a permanent error from the SPF record of {domain}: {e}"
                ),
            )
            .detail(format!("record: {text}"));
            return (
                with_caveat(c.publish(suggestion(&records, false)), sender),
                SpfOutcome::Broken,
            );
        }
        SpfResult::TempError(e) => {
            let c = Check::new(
                "spf",
                Status::Unknown,
                format!("the SPF record of {domain} could not be evaluated: {e}"),
            )
            .detail(format!("record: {text}"));
            return (c, SpfOutcome::Broken);
        }
        _ => details.push(format!(
            "DNS lookups: {} of the {LOOKUP_LIMIT} allowed (RFC 7208 §4.6.4)",
            walk.lookups
        )),
    }

    let mut outcome = SpfOutcome::Valid;
    let mut covered = true;
    match &sender.relay {
        None => details.push(
            "relay: none configured ([smtp] url, BULLETIN_SMTP_URL or --smtp), so its coverage was not evaluated".into(),
        ),
        Some(relay) if relay.is_loopback() => details.push(format!(
            "relay: {} is this machine; the address it sends from to members' servers is this \
             machine's public address, which cannot be known from here",
            relay.host
        )),
        Some(relay) => {
            let (lines, all_pass, any_unknown) = relay_coverage(dns, sender, relay, &relay_ips).await;
            details.extend(lines);
            if all_pass {
                outcome = SpfOutcome::Covers;
            } else {
                covered = false;
                if any_unknown {
                    status = Status::Unknown;
                } else if status == Status::Pass {
                    status = Status::Warn;
                }
            }
        }
    }
    details.push(
        "cannot be known from here: the address the relay actually sends from; a provider's \
         relay often hands mail to other outbound servers than the one you submit to, so \
         follow its documented SPF `include:` if it has one"
            .into(),
    );
    let summary = match status {
        Status::Pass => format!("{domain} (the bounce domain) has one valid SPF record"),
        Status::Warn if !covered => {
            format!("{domain} has one valid SPF record, but it does not cover the relay")
        }
        Status::Warn => format!("{domain} has one valid SPF record, with a warning"),
        _ => format!("{domain} has one valid SPF record; the relay's coverage is unknown"),
    };
    let mut c = Check::new("spf", status, summary);
    c.details = details;
    if !covered && status == Status::Warn {
        c = c.publish(suggestion(&records, false));
    }
    (c, outcome)
}

/// The SPF result for each of the relay's addresses: (lines, all pass, any temperror).
async fn relay_coverage(
    dns: &Dns,
    sender: &Sender,
    relay: &Relay,
    addresses: &Result<Vec<IpAddr>, LookupError>,
) -> (Vec<String>, bool, bool) {
    let addresses = match addresses {
        Ok(a) => a.clone(),
        Err(e) => {
            return (
                vec![format!("relay {}: its address is unknown: {e}", relay.host)],
                false,
                !e.is_absent(),
            );
        }
    };
    let mut lines = Vec::new();
    let mut all_pass = true;
    let mut any_unknown = false;
    for ip in addresses {
        let mut eval = Evaluation::new(dns, &sender.bounce_address, &sender.helo);
        let result = eval.check_host(ip, &sender.bounce_domain).await;
        all_pass &= result.is_pass();
        any_unknown |= matches!(result, SpfResult::TempError(_));
        let private = match ip {
            IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_unique_local() || v6.is_unicast_link_local(),
        };
        let mut line = format!("relay {} ({ip}): {}", relay.host, result.explain());
        if private {
            line.push_str(
                "; a private address: the relay reaches the internet from another address",
            );
        }
        lines.push(line);
    }
    (lines, all_pass, any_unknown)
}

/// A record to publish: the existing records' terms that parse, merged into one, with a term
/// for the relay unless it is covered (or its known addresses lie in a merged `ip4`/`ip6`),
/// ending in the records' common `all` term, else `~all`.
pub fn suggest(
    existing: &[String],
    relay: Option<&Relay>,
    relay_ips: &[IpAddr],
    covered: bool,
) -> String {
    let mut terms: Vec<String> = Vec::new();
    let mut nets: Vec<(IpAddr, u8)> = Vec::new();
    let mut alls: Vec<String> = Vec::new();
    for record in existing {
        for term in record.split(' ').skip(1).filter(|t| !t.is_empty()) {
            let Ok(one) = parse(&format!("v=spf1 {term}")) else {
                continue;
            };
            match one.directives.first().map(|d| (&d.mechanism, d.qualifier)) {
                Some((Mechanism::All, Qualifier::Pass)) => continue,
                Some((Mechanism::All, _)) => {
                    let t = term.to_ascii_lowercase();
                    if !alls.contains(&t) {
                        alls.push(t);
                    }
                    continue;
                }
                Some((Mechanism::Ip4(ip, len), Qualifier::Pass)) => {
                    nets.push((IpAddr::V4(*ip), *len));
                }
                Some((Mechanism::Ip6(ip, len), Qualifier::Pass)) => {
                    nets.push((IpAddr::V6(*ip), *len));
                }
                _ => {}
            }
            if !terms.iter().any(|t| t.eq_ignore_ascii_case(term)) {
                terms.push(term.to_string());
            }
        }
    }
    let listed = !relay_ips.is_empty()
        && relay_ips
            .iter()
            .all(|ip| nets.iter().any(|(net, len)| in_net(*ip, *net, *len)));
    if !covered
        && !listed
        && let Some(relay) = relay.filter(|r| !r.is_loopback())
    {
        let term = match relay.ip() {
            Some(IpAddr::V4(v4)) => format!("ip4:{v4}"),
            Some(IpAddr::V6(v6)) => format!("ip6:{v6}"),
            None => format!("a:{}", relay.host),
        };
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    if terms.is_empty() {
        terms.push("mx".into());
    }
    let mut out = String::from("v=spf1");
    for t in &terms {
        out.push(' ');
        out.push_str(t);
    }
    // redirect= is only used when nothing matched: an `all` would hide it.
    if !terms
        .iter()
        .any(|t| t.to_ascii_lowercase().starts_with("redirect="))
    {
        out.push(' ');
        out.push_str(match alls.as_slice() {
            [one] => one,
            _ => "~all",
        });
    }
    out
}

fn with_caveat(c: Check, sender: &Sender) -> Check {
    match &sender.relay {
        Some(r) if !r.is_loopback() => c.detail(format!(
            "the suggested record covers the relay {} as you reach it; if your provider \
             documents an SPF `include:`, use that instead",
            r.host
        )),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(host: &str) -> Relay {
        Relay {
            host: host.to_string(),
        }
    }

    #[test]
    fn suggestions_merge_records_and_add_the_relay() {
        assert_eq!(
            suggest(&[], Some(&relay("smtp.provider.example")), &[], false),
            "v=spf1 a:smtp.provider.example ~all"
        );
        assert_eq!(suggest(&[], None, &[], false), "v=spf1 mx ~all");
        assert_eq!(
            suggest(
                &[
                    "v=spf1 ip4:192.0.2.0/24 -all".into(),
                    "v=spf1 include:_spf.provider.example ~all".into()
                ],
                Some(&relay("smtp.provider.example")),
                &["192.0.2.9".parse().unwrap()],
                false
            ),
            "v=spf1 ip4:192.0.2.0/24 include:_spf.provider.example ~all"
        );
        assert_eq!(
            suggest(
                &["v=spf1 ip4:192.0.2.300 mx +all".into()],
                Some(&relay("2001:db8::25")),
                &[],
                false
            ),
            "v=spf1 mx ip6:2001:db8::25 ~all"
        );
        assert_eq!(
            suggest(
                &["v=spf1 redirect=_spf.example.net".into()],
                None,
                &[],
                true
            ),
            "v=spf1 redirect=_spf.example.net"
        );
    }
}
