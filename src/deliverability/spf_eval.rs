//! `check_host()` (RFC 7208 §4): the SPF result for one address, within the limit of ten
//! DNS-querying terms and two void lookups.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use super::resolver::{Dns, LookupError};
use super::spf_macro::{MacroContext, expand};
use super::spf_record::{Mechanism, Qualifier, SpfRecord, is_spf, parse};

/// Terms that query the DNS, at most (RFC 7208 §4.6.4).
pub const LOOKUP_LIMIT: u32 = 10;
/// Lookups that find nothing, at most (RFC 7208 §4.6.4).
pub const VOID_LIMIT: u32 = 2;
/// Names an `mx` or `ptr` term may look at.
const NAME_LIMIT: usize = 10;

/// The result of `check_host()` (RFC 7208 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpfResult {
    /// A term matched: its qualifier, and the term with the domain whose record held it,
    /// outermost first (an `include:` and then the term inside that matched).
    Matched {
        qualifier: Qualifier,
        chain: Vec<(String, String)>,
    },
    /// No term matched and there was no `redirect=`.
    NoMatch {
        domain: String,
    },
    /// No SPF record.
    None,
    PermError(String),
    TempError(String),
}

impl SpfResult {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `permerror` or `temperror`.
    pub fn name(&self) -> &'static str {
        match self {
            SpfResult::Matched { qualifier, .. } => qualifier.name(),
            SpfResult::NoMatch { .. } => "neutral",
            SpfResult::None => "none",
            SpfResult::PermError(_) => "permerror",
            SpfResult::TempError(_) => "temperror",
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(
            self,
            SpfResult::Matched {
                qualifier: Qualifier::Pass,
                ..
            }
        )
    }

    /// `pass (ip4:192.0.2.0/24 in example.org)`, `permerror: …`.
    pub fn explain(&self) -> String {
        match self {
            SpfResult::Matched { chain, .. } => {
                let path: Vec<String> = chain
                    .iter()
                    .map(|(term, domain)| format!("`{term}` in the record of {domain}"))
                    .collect();
                format!("{} ({})", self.name(), path.join(", then "))
            }
            SpfResult::NoMatch { domain } => {
                format!("neutral (no term of {domain}'s record matched)")
            }
            SpfResult::None => "none (no SPF record)".into(),
            SpfResult::PermError(e) => format!("permerror: {e}"),
            SpfResult::TempError(e) => format!("temperror: {e}"),
        }
    }
}

/// One evaluation: the counters are shared by every record it visits.
pub struct Evaluation<'a> {
    dns: &'a Dns,
    sender: &'a str,
    helo: &'a str,
    /// DNS-querying terms evaluated so far.
    pub lookups: u32,
    void: u32,
}

type Boxed<'f> = Pin<Box<dyn Future<Output = SpfResult> + 'f>>;

impl<'a> Evaluation<'a> {
    pub fn new(dns: &'a Dns, sender: &'a str, helo: &'a str) -> Self {
        Evaluation {
            dns,
            sender,
            helo,
            lookups: 0,
            void: 0,
        }
    }

    /// The SPF result for mail from `ip` with the record of `domain`.
    pub async fn check_host(&mut self, ip: IpAddr, domain: &str) -> SpfResult {
        self.check_boxed(ip, domain.to_string()).await
    }

    fn check_boxed<'f>(&'f mut self, ip: IpAddr, domain: String) -> Boxed<'f> {
        Box::pin(async move {
            let record = match self.record(&domain).await {
                Ok(Some(r)) => r,
                Ok(None) => return SpfResult::None,
                Err(result) => return result,
            };
            for d in &record.directives {
                match self.matches(ip, &domain, &d.mechanism).await {
                    Ok(Some(inner)) => {
                        let mut chain = vec![(d.text.clone(), domain)];
                        chain.extend(inner);
                        return SpfResult::Matched {
                            qualifier: d.qualifier,
                            chain,
                        };
                    }
                    Ok(None) => {}
                    Err(result) => return result,
                }
            }
            if let Some(target) = &record.redirect {
                if let Err(e) = self.count() {
                    return e;
                }
                let target = match self.expand(target, &domain, ip) {
                    Ok(t) => t,
                    Err(e) => return e,
                };
                return match self.check_boxed(ip, target.clone()).await {
                    SpfResult::None => {
                        SpfResult::PermError(format!("redirect={target}: it has no SPF record"))
                    }
                    other => other,
                };
            }
            SpfResult::NoMatch { domain }
        })
    }

    /// The one SPF record of `domain`; none is `Ok(None)`.
    async fn record(&mut self, domain: &str) -> Result<Option<SpfRecord>, SpfResult> {
        let txts = match self.dns.txt(domain).await {
            Ok(t) => t,
            Err(e) if e.is_absent() => return Ok(None),
            Err(e) => return Err(SpfResult::TempError(format!("{domain}: {e}"))),
        };
        let spf: Vec<&String> = txts.iter().filter(|t| is_spf(t)).collect();
        match spf.as_slice() {
            [] => Ok(None),
            [one] => parse(one)
                .map(Some)
                .map_err(|e| SpfResult::PermError(format!("{domain}: {e}"))),
            _ => Err(SpfResult::PermError(format!(
                "{domain} has {} SPF records; it must have one",
                spf.len()
            ))),
        }
    }

    fn count(&mut self) -> Result<(), SpfResult> {
        self.lookups += 1;
        if self.lookups > LOOKUP_LIMIT {
            return Err(SpfResult::PermError(format!(
                "more than {LOOKUP_LIMIT} DNS lookups (RFC 7208 §4.6.4)"
            )));
        }
        Ok(())
    }

    /// A lookup that found nothing; past the limit it is a permerror.
    fn void_lookup(&mut self, e: &LookupError, name: &str) -> Result<(), SpfResult> {
        if e.is_absent() {
            self.void += 1;
            if self.void > VOID_LIMIT {
                return Err(SpfResult::PermError(format!(
                    "more than {VOID_LIMIT} lookups found nothing (RFC 7208 §4.6.4), the last {name}"
                )));
            }
            Ok(())
        } else {
            Err(SpfResult::TempError(format!("{name}: {e}")))
        }
    }

    fn expand(&self, spec: &str, domain: &str, ip: IpAddr) -> Result<String, SpfResult> {
        let ctx = MacroContext {
            sender: self.sender,
            domain,
            ip,
            helo: self.helo,
        };
        expand(spec, &ctx).map_err(SpfResult::PermError)
    }

    fn target(&self, spec: &Option<String>, domain: &str, ip: IpAddr) -> Result<String, SpfResult> {
        match spec {
            Some(s) => self.expand(s, domain, ip),
            None => Ok(domain.to_string()),
        }
    }

    async fn matches(
        &mut self,
        ip: IpAddr,
        domain: &str,
        mechanism: &Mechanism,
    ) -> Result<Option<Vec<(String, String)>>, SpfResult> {
        if mechanism.costs_a_lookup() {
            self.count()?;
        }
        // A match, and for an `include:` the chain inside it.
        let hit = |matched: bool| Ok(matched.then(Vec::new));
        match mechanism {
            Mechanism::All => hit(true),
            Mechanism::Ip4(net, len) => hit(in_net(ip, IpAddr::V4(*net), *len)),
            Mechanism::Ip6(net, len) => hit(in_net(ip, IpAddr::V6(*net), *len)),
            Mechanism::Include(spec) => {
                let target = self.expand(spec, domain, ip)?;
                match self.check_boxed(ip, target.clone()).await {
                    SpfResult::Matched {
                        qualifier: Qualifier::Pass,
                        chain,
                    } => Ok(Some(chain)),
                    SpfResult::Matched { .. } | SpfResult::NoMatch { .. } => Ok(None),
                    SpfResult::None => Err(SpfResult::PermError(format!(
                        "include:{target}: it has no SPF record"
                    ))),
                    e => Err(e),
                }
            }
            Mechanism::A {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec, domain, ip)?;
                let found = self.addresses_of(&target, ip).await?;
                hit(found.iter().any(|a| in_dual(ip, *a, *v4, *v6)))
            }
            Mechanism::Mx {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec, domain, ip)?;
                let hosts = match self.dns.mx(&target).await {
                    Ok(h) => h,
                    Err(e) => {
                        self.void_lookup(&e, &format!("MX {target}"))?;
                        return Ok(None);
                    }
                };
                if hosts.len() > NAME_LIMIT {
                    return Err(SpfResult::PermError(format!(
                        "mx: {target} has more than {NAME_LIMIT} MX hosts"
                    )));
                }
                for (_, host) in hosts {
                    if let Ok(found) = self.dns.addresses(&host, ip.is_ipv6()).await
                        && found.iter().any(|a| in_dual(ip, *a, *v4, *v6))
                    {
                        return hit(true);
                    }
                }
                Ok(None)
            }
            Mechanism::Ptr(spec) => {
                let target = self.target(spec, domain, ip)?;
                let names = match self.dns.ptr(ip).await {
                    Ok(n) => n,
                    Err(_) => return Ok(None),
                };
                for name in names.into_iter().take(NAME_LIMIT) {
                    let under = name == target || name.ends_with(&format!(".{target}"));
                    if under
                        && let Ok(found) = self.dns.addresses(&name, ip.is_ipv6()).await
                        && found.contains(&ip)
                    {
                        return hit(true);
                    }
                }
                Ok(None)
            }
            Mechanism::Exists(spec) => {
                let target = self.expand(spec, domain, ip)?;
                match self.dns.addresses(&target, false).await {
                    Ok(found) => hit(!found.is_empty()),
                    Err(e) => {
                        self.void_lookup(&e, &format!("A {target}"))?;
                        Ok(None)
                    }
                }
            }
        }
    }

    /// The A or AAAA records of `name` (the family of `ip`), counting void lookups.
    async fn addresses_of(&mut self, name: &str, ip: IpAddr) -> Result<Vec<IpAddr>, SpfResult> {
        match self.dns.addresses(name, ip.is_ipv6()).await {
            Ok(found) => Ok(found),
            Err(e) => {
                let kind = if ip.is_ipv6() { "AAAA" } else { "A" };
                self.void_lookup(&e, &format!("{kind} {name}"))?;
                Ok(Vec::new())
            }
        }
    }
}

/// Whether `ip` lies in `net/len` (of the same family).
pub fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn in_dual(ip: IpAddr, found: IpAddr, v4: u8, v6: u8) -> bool {
    let len = if ip.is_ipv6() { v6 } else { v4 };
    in_net(ip, found, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_net(ip("192.0.2.77"), ip("192.0.2.0"), 24));
        assert!(!in_net(ip("192.0.3.1"), ip("192.0.2.0"), 24));
        assert!(in_net(ip("198.51.100.1"), ip("0.0.0.0"), 0));
        assert!(in_net(ip("192.0.2.1"), ip("192.0.2.1"), 32));
        assert!(in_net(ip("2001:db8::5"), ip("2001:db8::"), 32));
        assert!(!in_net(ip("2001:db9::5"), ip("2001:db8::"), 32));
        assert!(!in_net(ip("192.0.2.1"), ip("2001:db8::"), 0));
    }
}
