//! The URLs of the servers bulletin talks to (`smtp://`, `smtps://`, `imap://`, `imaps://`,
//! `https://`), read by the `url` crate (WHATWG URL parsing, IPv6 literals, ports, escapes):
//! what each caller needs of one, and the plain-word reason when it is not a URL at all.

use std::net::IpAddr;

use percent_encoding::percent_decode_str;
use url::{Host, Url};

/// A server URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// Lowercase: `smtps`.
    pub scheme: String,
    /// The user before `@`, with its %-escapes decoded; `None` when there is no `@`.
    pub user: Option<String>,
    /// A password was written into the URL (`user:password@`).
    pub has_password: bool,
    /// A name (lowercase for http and https), an IPv4 address, or an IPv6 address without
    /// its brackets.
    pub host: String,
    /// The port written in the URL; for http and https only when it is not the scheme's
    /// default.
    pub port: Option<u16>,
    /// The path after the host, %-escapes decoded, without its leading `/`.
    pub path: String,
    /// The path as it goes into a request (escaped), with its leading `/` when it has one.
    pub raw_path: String,
    pub query: Option<String>,
}

impl ServerUrl {
    /// Read `text`; the error says what is wrong in plain words.
    pub fn parse(text: &str) -> Result<ServerUrl, String> {
        let url = Url::parse(text.trim()).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => "not a URL (no scheme://)".to_string(),
            url::ParseError::InvalidPort => "the port is not a number from 0 to 65535".into(),
            url::ParseError::EmptyHost => "the host is missing".into(),
            url::ParseError::InvalidIpv6Address => "not a valid IPv6 address in `[…]`".into(),
            other => other.to_string(),
        })?;
        let host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(Host::Ipv4(a)) => a.to_string(),
            Some(Host::Ipv6(a)) => a.to_string(),
            _ => return Err("the host is missing".into()),
        };
        let user = text_before_host(text)
            .map(|_| decode(url.username()).ok_or("a bad %-escape in the user name"))
            .transpose()?;
        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        Ok(ServerUrl {
            scheme: url.scheme().to_string(),
            user,
            has_password: url.password().is_some(),
            host,
            port: url.port(),
            path: decode(path).ok_or("a bad %-escape in the path")?,
            raw_path: url.path().to_string(),
            query: url.query().map(str::to_string),
        })
    }

    /// `host:port` (`port` being the URL's, or `default_port`), an IPv6 address in brackets.
    pub fn authority(&self, default_port: u16) -> String {
        format!(
            "{}:{}",
            self.bracketed_host(),
            self.port.unwrap_or(default_port)
        )
    }

    /// The host as a `Host` header names it: with the URL's port, if it has one.
    pub fn host_header(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.bracketed_host()),
            None => self.bracketed_host(),
        }
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

/// Whether the URL has a user part (`…@`) before its host.
fn text_before_host(text: &str) -> Option<&str> {
    let rest = text.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    authority.rsplit_once('@').map(|(user, _)| user)
}

/// `%40` → `@`; `None` for a `%` not followed by two hex digits, or bytes that are not UTF-8.
fn decode(s: &str) -> Option<String> {
    let escapes_ok = s.match_indices('%').all(|(i, _)| {
        s.get(i + 1..i + 3)
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if !escapes_ok {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `localhost`, or an address of the loopback interface (127.0.0.0/8, `::1`).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_taken_apart() {
        let u = ServerUrl::parse("smtps://me%40example.org@Mail.Example.org:465").unwrap();
        assert_eq!(u.scheme, "smtps");
        assert_eq!(u.user.as_deref(), Some("me@example.org"));
        assert!(!u.has_password);
        assert_eq!(u.host, "Mail.Example.org");
        assert_eq!(u.port, Some(465));
        assert_eq!(u.path, "");
        let u = ServerUrl::parse("smtp://[::1]:25?tls=required").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", Some(25)));
        assert_eq!(u.query.as_deref(), Some("tls=required"));
        assert_eq!(u.authority(587), "[::1]:25");
        assert_eq!(u.host_header(), "[::1]:25");
        assert!(
            ServerUrl::parse("smtp://me:secret@host")
                .unwrap()
                .has_password
        );
        assert_eq!(ServerUrl::parse("smtp://host").unwrap().user, None);
    }

    #[test]
    fn https_urls_lose_their_default_port() {
        let u = ServerUrl::parse("https://News.Example.org:443/bulletin/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("news.example.org", None));
        assert_eq!(u.path, "bulletin/");
        assert_eq!(u.raw_path, "/bulletin/");
        let u = ServerUrl::parse("https://news.example.org/a%20b").unwrap();
        assert_eq!((u.path.as_str(), u.raw_path.as_str()), ("a b", "/a%20b"));
        let u = ServerUrl::parse("https://news.example.org:8443").unwrap();
        assert_eq!(u.port, Some(8443));
    }

    #[test]
    fn what_is_not_a_url_says_why() {
        for (text, why) in [
            ("news.example.org", "not a URL (no scheme://)"),
            (
                "smtp://host:http",
                "the port is not a number from 0 to 65535",
            ),
            (
                "smtp://host:70000",
                "the port is not a number from 0 to 65535",
            ),
            ("smtp://me%4@host", "a bad %-escape in the user name"),
            ("smtp://[::1", "not a valid IPv6 address in `[…]`"),
            ("smtp://", "the host is missing"),
        ] {
            assert_eq!(ServerUrl::parse(text).unwrap_err(), why, "{text}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["example.org", "10.0.0.1", "::2", "localhost.example.org"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
