//! What every request meets before a handler: the `Host` it names, who the client is, and how
//! many POSTs that client may make.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::deliver::rate::Rate;

/// Which `Host` headers are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// The public URL's authority (`news.example.org`, `news.example.org:8443`), lowercase.
    Exactly(String),
    /// No public URL configured: loopback names only.
    Loopback,
}

impl HostRule {
    /// The rule for `[serve] url`: its host, with its port unless it is the scheme's default.
    pub fn for_url(url: Option<&str>) -> Result<HostRule, String> {
        let Some(url) = url else {
            return Ok(HostRule::Loopback);
        };
        if !url.contains("://") {
            return Err(format!(
                "{url:?} is not a URL such as https://news.example.org"
            ));
        }
        let parts =
            crate::server_url::ServerUrl::parse(url).map_err(|why| format!("{url:?}: {why}"))?;
        if !matches!(parts.scheme.as_str(), "https" | "http") {
            return Err(format!("{url:?}: the scheme must be https (or http)"));
        }
        if parts.user.is_some() {
            return Err(format!("{url:?} names no host"));
        }
        // With its port unless it is the scheme's default (which the URL then leaves out).
        Ok(HostRule::Exactly(parts.host_header()))
    }

    pub fn allows(&self, host: &str) -> bool {
        match self {
            HostRule::Exactly(want) => host.trim().eq_ignore_ascii_case(want),
            HostRule::Loopback => crate::preview::server::is_loopback_host(host),
        }
    }
}

/// The client behind a request: the peer, or, when the peer is a reverse proxy on this
/// machine (loopback), the address the proxy appended to `X-Forwarded-For`.
pub fn client(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if peer.ip().is_loopback()
        && let Some(last) = headers.get_all("x-forwarded-for").iter().next_back()
        && let Some(ip) = last
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip;
    }
    peer.ip()
}

/// At most `rate` POSTs per client, with a burst of the rate's count (GCRA).
#[derive(Debug)]
pub struct ClientLimiter {
    interval: Duration,
    tolerance: Duration,
    next: Mutex<HashMap<IpAddr, Instant>>,
}

/// Clients remembered before the idle ones are forgotten.
const MAX_CLIENTS: usize = 10_000;

impl ClientLimiter {
    pub fn new(rate: Rate) -> ClientLimiter {
        let interval = rate.per / rate.count.max(1);
        ClientLimiter {
            interval,
            tolerance: rate.per.saturating_sub(interval),
            next: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when the client may go on, else how long it should wait.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if next.len() >= MAX_CLIENTS {
            next.retain(|_, t| *t > now);
        }
        let tat = next.get(&client).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        next.insert(client, tat + self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rules() {
        let r = HostRule::for_url(Some("https://News.Example.org/")).unwrap();
        assert_eq!(r, HostRule::Exactly("news.example.org".into()));
        assert!(r.allows("news.example.org"));
        assert!(r.allows("NEWS.example.org"));
        assert!(!r.allows("news.example.org.evil.test"));
        assert!(!r.allows("127.0.0.1:8080"));
        let r = HostRule::for_url(Some("http://127.0.0.1:8080")).unwrap();
        assert!(r.allows("127.0.0.1:8080"));
        assert!(!r.allows("127.0.0.1:8081"));
        assert_eq!(
            HostRule::for_url(Some("https://x.org:443")).unwrap(),
            HostRule::Exactly("x.org".into())
        );
        assert!(HostRule::for_url(Some("news.example.org")).is_err());
        assert!(HostRule::for_url(Some("ftp://x.org")).is_err());
        let r = HostRule::for_url(None).unwrap();
        assert!(r.allows("localhost:8080"));
        assert!(!r.allows("news.example.org"));
    }

    #[test]
    fn the_client_behind_a_local_proxy() {
        let mut h = HeaderMap::new();
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        assert_eq!(client(local, &h).to_string(), "127.0.0.1");
        h.insert("x-forwarded-for", "10.0.0.1, 198.51.100.7".parse().unwrap());
        assert_eq!(client(local, &h).to_string(), "198.51.100.7");
        // only a proxy on this machine is believed
        assert_eq!(client(remote, &h).to_string(), "203.0.113.9");
    }

    #[test]
    fn a_client_gets_its_burst_then_waits() {
        let l = ClientLimiter::new(Rate {
            count: 3,
            per: Duration::from_secs(1),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(a, t0).is_ok());
        }
        let wait = l.check(a, t0).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(l.check(b, t0).is_ok(), "other clients are not held up");
        assert!(l.check(a, t0 + Duration::from_millis(334)).is_ok());
    }
}
