//! The DNS as the checks see it: TXT, MX and address lookups through hickory-resolver, with
//! every failure sorted into what it means (no such name, no such record, no answer in time).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

/// Why a lookup gave no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// NXDOMAIN: the name does not exist at all.
    #[error("the name does not exist (NXDOMAIN)")]
    NxDomain,
    /// The name exists but holds no record of the type asked for.
    #[error("no {0} record")]
    NoData(&'static str),
    /// No answer within the configured time.
    #[error("no answer from {server} within {secs}s (timeout)")]
    Timeout { server: String, secs: u64 },
    /// SERVFAIL, REFUSED, a network error: the answer is unknown.
    #[error("{0}")]
    Failed(String),
}

impl LookupError {
    /// The name or the record is absent (as opposed to: the answer is unknown).
    pub fn is_absent(&self) -> bool {
        matches!(self, LookupError::NxDomain | LookupError::NoData(_))
    }
}

/// The resolver could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("[dns] nameserver {0:?} is not an IP address or IP:PORT (e.g. 127.0.0.1:5353)")]
    BadNameserver(String),
    #[error("cannot read the system's DNS configuration: {0}")]
    System(String),
}

/// A resolver with a short timeout per query.
pub struct Dns {
    resolver: TokioResolver,
    timeout: Duration,
    server: String,
}

impl Dns {
    /// Ask `nameserver` (`IP`, `IP:PORT`, `[IPv6]:PORT`) only, or the system's resolvers.
    pub fn new(nameserver: Option<&str>, timeout: Duration) -> Result<Dns, SetupError> {
        let provider = TokioRuntimeProvider::default();
        let (mut builder, server) = match nameserver {
            Some(text) => {
                let addr = parse_nameserver(text)
                    .ok_or_else(|| SetupError::BadNameserver(text.to_string()))?;
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                let config = ResolverConfig::from_name_servers(vec![ns]);
                (
                    TokioResolver::builder_with_config(config, provider),
                    addr.to_string(),
                )
            }
            None => (
                TokioResolver::builder(provider).map_err(|e| SetupError::System(e.to_string()))?,
                "the system's resolver".to_string(),
            ),
        };
        let opts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 256;
        let resolver = builder
            .build()
            .map_err(|e| SetupError::System(e.to_string()))?;
        Ok(Dns {
            resolver,
            timeout,
            server,
        })
    }

    /// The server asked, as reports name it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The TXT records at `name`, each one's strings joined (RFC 7208 §3.3).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let records = self.lookup(name, RecordType::TXT).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| match r {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    /// The MX records at `name`: (preference, exchange without the trailing dot).
    pub async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>, LookupError> {
        let records = self.lookup(name, RecordType::MX).await?;
        let mut out: Vec<(u16, String)> = records
            .into_iter()
            .filter_map(|r| match r {
                RData::MX(mx) => Some((mx.preference, trim_dot(&mx.exchange.to_ascii()))),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The A (`v6 == false`) or AAAA records at `name`.
    pub async fn addresses(&self, name: &str, v6: bool) -> Result<Vec<IpAddr>, LookupError> {
        let kind = if v6 { RecordType::AAAA } else { RecordType::A };
        let records = self.lookup(name, kind).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| match r {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect())
    }

    /// A and AAAA together: absent only when both are.
    pub async fn all_addresses(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        let (v4, v6) = tokio::join!(self.addresses(name, false), self.addresses(name, true));
        let mut found = Vec::new();
        let mut errors = Vec::new();
        for r in [v4, v6] {
            match r {
                Ok(a) => found.extend(a),
                Err(e) => errors.push(e),
            }
        }
        if !found.is_empty() {
            return Ok(found);
        }
        if let Some(e) = errors.iter().find(|e| !e.is_absent()) {
            return Err(e.clone());
        }
        if errors.contains(&LookupError::NxDomain) {
            Err(LookupError::NxDomain)
        } else {
            Err(LookupError::NoData("A or AAAA"))
        }
    }

    /// The PTR names of `ip`.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        let name = reverse_name(ip);
        let records = self.lookup(&name, RecordType::PTR).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| match r {
                RData::PTR(p) => Some(trim_dot(&p.0.to_ascii())),
                _ => None,
            })
            .collect())
    }

    async fn lookup(&self, name: &str, kind: RecordType) -> Result<Vec<RData>, LookupError> {
        // A fully qualified name: no search domains appended.
        let fqdn = format!("{}.", trim_dot(name));
        let asked = self.resolver.lookup(fqdn.as_str(), kind);
        // hickory applies the timeout per attempt; this bounds the whole lookup too.
        let answer =
            match tokio::time::timeout(self.timeout + Duration::from_millis(250), asked).await {
                Ok(answer) => answer,
                Err(_) => return Err(self.timed_out()),
            };
        match answer {
            Ok(lookup) => {
                let data: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == kind)
                    .map(|r| r.data.clone())
                    .collect();
                if data.is_empty() {
                    Err(LookupError::NoData(type_name(kind)))
                } else {
                    Ok(data)
                }
            }
            Err(e) => Err(self.classify(&e, kind)),
        }
    }

    fn classify(&self, e: &NetError, kind: RecordType) -> LookupError {
        if e.is_nx_domain() {
            LookupError::NxDomain
        } else if e.is_no_records_found() {
            LookupError::NoData(type_name(kind))
        } else if matches!(e, NetError::Timeout) {
            self.timed_out()
        } else {
            LookupError::Failed(format!("{} answered: {e}", self.server))
        }
    }

    fn timed_out(&self) -> LookupError {
        LookupError::Timeout {
            server: self.server.clone(),
            secs: self.timeout.as_secs().max(1),
        }
    }
}

fn type_name(kind: RecordType) -> &'static str {
    match kind {
        RecordType::TXT => "TXT",
        RecordType::MX => "MX",
        RecordType::A => "A",
        RecordType::AAAA => "AAAA",
        RecordType::PTR => "PTR",
        _ => "such",
    }
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; port 53 when none is given.
pub fn parse_nameserver(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

/// `name` without its trailing dot, in lower case.
pub fn trim_dot(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `4.3.2.1.in-addr.arpa` or the nibbles of an IPv6 address under `ip6.arpa`.
fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut labels: Vec<String> = v6
                .octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .map(|n| format!("{n:x}"))
                .collect();
            labels.reverse();
            format!("{}.ip6.arpa", labels.join("."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_parse_with_and_without_ports() {
        assert_eq!(
            parse_nameserver("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("192.0.2.1"),
            Some("192.0.2.1:53".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("[::1]:5353"),
            Some("[::1]:5353".parse().unwrap())
        );
        assert_eq!(parse_nameserver("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_nameserver("dns.example"), None);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.10".parse().unwrap()),
            "10.2.0.192.in-addr.arpa"
        );
        assert!(reverse_name("2001:db8::1".parse().unwrap()).ends_with("8.b.d.0.1.0.0.2.ip6.arpa"));
    }
}
