//! [`SmtpTarget`]: the server a send goes through, parsed from an `smtp://` or `smtps://` URL.
//!
//! - `smtp://user@host:587`: STARTTLS is required. To a loopback host (`127.0.0.0/8`, `::1`,
//!   `localhost`) the session may stay in plain text when the server offers no STARTTLS, and so
//!   may any host when `[smtp] allow_insecure = true`.
//! - `smtps://user@host:465`: TLS from the first byte.
//! - `?tls=required` after an `smtp://` URL requires STARTTLS even on loopback (useful to check a
//!   local relay's TLS, and to test that refusal).
//!
//! The password is never part of the URL (it would end up in shell history and process lists):
//! it comes from `BULLETIN_SMTP_PASSWORD` or a prompt, as a [`Secret`].
//! Certificates are verified unless the host is listed in `[smtp] insecure_skip_verify_hosts`.

use std::fmt;
use std::time::Duration;

use crate::config;
use crate::server_url::ServerUrl;

/// A password or other credential. Its `Debug` and `Display` print `***`, so it cannot leak
/// into logs or error messages by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the session is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://`: STARTTLS, and the send stops if the server does not offer it.
    StartTlsRequired,
    /// `smtp://` to loopback, or with `allow_insecure`: STARTTLS when offered, plain text otherwise.
    StartTlsIfOffered,
}

/// Why an SMTP URL was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("invalid SMTP URL `{url}`: {reason}")]
    Invalid { url: String, reason: String },
    #[error(
        "the SMTP URL contains a password; remove it from the URL and set BULLETIN_SMTP_PASSWORD instead (a password on the command line or in a file ends up in logs and shell history)"
    )]
    PasswordInUrl,
    #[error(
        "the SMTP URL names user `{user}` but no password was given: set BULLETIN_SMTP_PASSWORD"
    )]
    PasswordMissing { user: String },
}

/// Where and how to deliver: host, port, credentials, TLS policy and timeouts.
#[derive(Clone)]
pub struct SmtpTarget {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<Secret>,
    security: Security,
    verify_certificates: bool,
    /// Certificate authorities trusted beyond the bundled web roots: the system's, and
    /// `[smtp] ca_file`.
    trust: crate::tls::Trust,
    timeout: Duration,
    data_timeout: Duration,
    helo_name: Option<String>,
}

impl fmt::Display for SmtpTarget {
    /// `host:port` (IPv6 addresses in brackets): how errors name the server.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("server", &self.to_string())
            .field("user", &self.user)
            .field("password", &self.password)
            .field("security", &self.security)
            .field("verify_certificates", &self.verify_certificates)
            .field("timeout", &self.timeout)
            .field("data_timeout", &self.data_timeout)
            .finish()
    }
}

impl SmtpTarget {
    /// Parse `smtp://[user@]host[:port][?tls=required]` or `smtps://[user@]host[:port]`.
    ///
    /// The user may be percent-encoded (`me%40example.org@smtp.example.org`). `password` is
    /// required when a user is given, and ignored otherwise.
    pub fn from_url(
        url: &str,
        cfg: &config::Smtp,
        password: Option<Secret>,
    ) -> Result<SmtpTarget, TargetError> {
        let invalid = |reason: &str| TargetError::Invalid {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if !url.contains("://") {
            return Err(invalid("expected smtp://host:port or smtps://host:port"));
        }
        let parts = ServerUrl::parse(url).map_err(|r| invalid(&r))?;
        let implicit = match parts.scheme.as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(invalid("the scheme must be smtp:// or smtps://")),
        };
        let query = parts.query.as_deref();
        if !parts.path.trim_end_matches('/').is_empty() {
            return Err(invalid("the URL must not have a path"));
        }
        if parts.has_password {
            return Err(TargetError::PasswordInUrl);
        }
        let user = match parts.user {
            Some(u) if u.is_empty() => return Err(invalid("empty user name before `@`")),
            u => u,
        };
        let host = parts.host.to_ascii_lowercase();
        if !host.contains(':')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        {
            return Err(invalid(&format!("`{host}` is not a host name")));
        }
        let port = match parts.port {
            Some(0) => return Err(invalid("`0` is not a port number")),
            Some(p) => p,
            None if implicit => 465,
            None => 587,
        };

        let mut tls_required = false;
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair {
                    "tls=required" => tls_required = true,
                    _ => {
                        return Err(invalid(&format!(
                            "unknown parameter `{pair}` (the only one is tls=required)"
                        )));
                    }
                }
            }
        }
        if implicit && tls_required {
            return Err(invalid("tls=required applies to smtp:// only"));
        }

        let security = if implicit {
            Security::Implicit
        } else if tls_required {
            Security::StartTlsRequired
        } else if is_loopback(&host) || cfg.allow_insecure {
            Security::StartTlsIfOffered
        } else {
            Security::StartTlsRequired
        };

        let password = match (&user, password) {
            (Some(u), None) => return Err(TargetError::PasswordMissing { user: u.clone() }),
            (Some(_), p) => p,
            (None, _) => None,
        };

        let verify_certificates = !cfg
            .insecure_skip_verify_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host));

        Ok(SmtpTarget {
            host,
            port,
            user,
            password,
            security,
            verify_certificates,
            trust: crate::tls::Trust {
                ca_file: cfg.ca_file.clone(),
                skip_verify_hosts: cfg.insecure_skip_verify_hosts.clone(),
            },
            timeout: Duration::from_secs(cfg.timeout_secs.max(1)),
            data_timeout: Duration::from_secs(cfg.data_timeout_secs.max(1)),
            helo_name: cfg.helo_name.clone(),
        })
    }

    /// Read `[smtp] ca_file` from `root` (the project folder) when it is relative.
    pub fn with_ca_root(mut self, root: &std::path::Path) -> Self {
        if let Some(f) = &self.trust.ca_file {
            self.trust.ca_file = Some(crate::config::resolve(root, f));
        }
        self
    }

    /// Whom the connection trusts, beyond the bundled web roots.
    pub fn trust(&self) -> &crate::tls::Trust {
        &self.trust
    }

    /// Use this name in EHLO (e.g. the sender's domain) unless the configuration set one.
    pub fn with_default_helo_name(mut self, name: impl Into<String>) -> Self {
        if self.helo_name.is_none() {
            self.helo_name = Some(name.into());
        }
        self
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub(crate) fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    pub fn security(&self) -> Security {
        self.security
    }

    /// False only for hosts listed in `insecure_skip_verify_hosts`.
    pub fn verifies_certificates(&self) -> bool {
        self.verify_certificates
    }

    /// How long to wait for a connection or any one reply but the one to a message's final
    /// `.` (`[smtp] timeout_secs`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long to wait for the reply to a message's final `.` (`[smtp] data_timeout_secs`).
    pub fn data_timeout(&self) -> Duration {
        self.data_timeout
    }

    pub fn helo_name(&self) -> Option<&str> {
        self.helo_name.as_deref()
    }
}

/// `127.0.0.0/8`, `::1` and `localhost` (with or without a trailing dot).
pub fn is_loopback(host: &str) -> bool {
    crate::server_url::is_loopback(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> config::Smtp {
        config::Smtp::default()
    }

    fn pw() -> Option<Secret> {
        Some(Secret::new("hunter2"))
    }

    #[test]
    fn smtp_url_requires_starttls_on_a_remote_host() {
        let t = SmtpTarget::from_url("smtp://news@mail.example.org:587", &cfg(), pw()).unwrap();
        assert_eq!(t.host(), "mail.example.org");
        assert_eq!(t.port(), 587);
        assert_eq!(t.user(), Some("news"));
        assert_eq!(t.security(), Security::StartTlsRequired);
        assert!(t.verifies_certificates());
        assert_eq!(t.to_string(), "mail.example.org:587");
        assert_eq!(t.timeout(), Duration::from_secs(60));
    }

    #[test]
    fn smtps_url_is_implicit_tls_with_default_port() {
        let t = SmtpTarget::from_url("smtps://news@mail.example.org", &cfg(), pw()).unwrap();
        assert_eq!(t.security(), Security::Implicit);
        assert_eq!(t.port(), 465);
        let t = SmtpTarget::from_url("smtp://mail.example.org", &cfg(), None).unwrap();
        assert_eq!(t.port(), 587);
        assert_eq!(t.user(), None);
    }

    #[test]
    fn loopback_may_go_plain_unless_tls_is_required() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://127.3.4.5:25",
            "smtp://localhost:25",
            "smtp://LOCALHOST.:25/",
            "smtp://[::1]:25",
        ] {
            let t = SmtpTarget::from_url(url, &cfg(), None).unwrap();
            assert_eq!(t.security(), Security::StartTlsIfOffered, "{url}");
        }
        let t = SmtpTarget::from_url("smtp://127.0.0.1:2525?tls=required", &cfg(), None).unwrap();
        assert_eq!(t.security(), Security::StartTlsRequired);
        assert_eq!(t.to_string(), "127.0.0.1:2525");
        let t = SmtpTarget::from_url("smtp://[::1]:25", &cfg(), None).unwrap();
        assert_eq!(t.to_string(), "[::1]:25");
    }

    #[test]
    fn remote_plain_text_only_when_allowed() {
        let mut c = cfg();
        c.allow_insecure = true;
        let t = SmtpTarget::from_url("smtp://relay.example.org:25", &c, None).unwrap();
        assert_eq!(t.security(), Security::StartTlsIfOffered);
        let t = SmtpTarget::from_url("smtp://128.0.0.1:25", &cfg(), None).unwrap();
        assert_eq!(t.security(), Security::StartTlsRequired);
    }

    #[test]
    fn password_in_url_is_refused_and_never_echoed() {
        let e =
            SmtpTarget::from_url("smtp://me:hunter2@mail.example.org", &cfg(), None).unwrap_err();
        assert_eq!(e, TargetError::PasswordInUrl);
        let msg = e.to_string();
        assert!(msg.contains("BULLETIN_SMTP_PASSWORD"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn user_without_password_is_an_error() {
        let e = SmtpTarget::from_url("smtp://me@mail.example.org", &cfg(), None).unwrap_err();
        assert_eq!(e, TargetError::PasswordMissing { user: "me".into() });
    }

    #[test]
    fn user_is_percent_decoded() {
        let t =
            SmtpTarget::from_url("smtp://me%40example.org@mail.example.org", &cfg(), pw()).unwrap();
        assert_eq!(t.user(), Some("me@example.org"));
        assert!(SmtpTarget::from_url("smtp://me%4@mail.example.org", &cfg(), pw()).is_err());
    }

    #[test]
    fn secret_never_prints() {
        let t = SmtpTarget::from_url("smtp://me@mail.example.org", &cfg(), pw()).unwrap();
        let debug = format!("{t:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert_eq!(Secret::new("x").to_string(), "***");
        assert_eq!(t.password().map(Secret::expose), Some("hunter2"));
    }

    #[test]
    fn skip_verify_is_per_host() {
        let mut c = cfg();
        c.insecure_skip_verify_hosts = vec!["relay.test".into()];
        let t = SmtpTarget::from_url("smtps://relay.test", &c, None).unwrap();
        assert!(!t.verifies_certificates());
        let t = SmtpTarget::from_url("smtps://other.test", &c, None).unwrap();
        assert!(t.verifies_certificates());
    }

    #[test]
    fn malformed_urls_are_errors() {
        for url in [
            "mail.example.org",
            "http://mail.example.org",
            "smtp://",
            "smtp://host:0",
            "smtp://host:99999",
            "smtp://host:25/path",
            "smtp://ho st:25",
            "smtp://host:25?tls=maybe",
            "smtps://host?tls=required",
            "smtp://[::1:25",
        ] {
            assert!(
                matches!(
                    SmtpTarget::from_url(url, &cfg(), None),
                    Err(TargetError::Invalid { .. })
                ),
                "{url}"
            );
        }
    }
}
