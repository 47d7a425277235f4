//! What the checks check: the sender's domains, DKIM key and relay, taken from the project's
//! configuration.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::deliver::{Secret, SmtpTarget};
use crate::message::dkim::DkimSigner;

use super::org_domain::{normalise, of_address};

/// The DKIM side of the configuration.
#[derive(Debug)]
pub enum DkimSetup {
    /// `[dkim]` is not set: messages go out unsigned.
    NotConfigured,
    /// The key loaded (`key_file` as configured, relative to the project).
    Key {
        signer: Box<DkimSigner>,
        key_file: PathBuf,
    },
    /// `[dkim]` is set but the key does not load.
    BadKey {
        domain: String,
        selector: String,
        error: String,
    },
}

/// The SMTP relay the bulk send goes through.
#[derive(Debug, Clone)]
pub struct Relay {
    pub host: String,
}

impl Relay {
    /// The address itself when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }

    pub fn is_loopback(&self) -> bool {
        crate::deliver::target::is_loopback(&self.host)
    }
}

/// Everything the DNS checks compare the records with.
#[derive(Debug)]
pub struct Sender {
    /// `[sender] email`.
    pub from_address: String,
    pub from_domain: String,
    /// MAIL FROM, as a member's copy carries it (a VERP address stands for all).
    pub bounce_address: String,
    pub bounce_domain: String,
    pub dkim: DkimSetup,
    pub relay: Option<Relay>,
    /// EHLO name (for SPF's `%{h}`).
    pub helo: String,
}

impl Sender {
    /// From the configuration; `smtp_url` is the relay a send would use (`--smtp`,
    /// `BULLETIN_SMTP_URL` or `[smtp] url`), if any.
    pub fn from_config(
        config: &Config,
        root: &Path,
        smtp_url: Option<&str>,
    ) -> Result<Sender, String> {
        let from_address = config.sender.email.trim().to_string();
        let from_domain = of_address(&from_address).ok_or_else(|| {
            format!("[sender] email {from_address:?} is not an address with a domain")
        })?;
        let bounce = config.bounce_address().trim().to_string();
        let bounce_domain = of_address(&bounce).ok_or_else(|| {
            format!("[sender] bounce_address {bounce:?} is not an address with a domain")
        })?;
        let bounce_address = if config.sender.verp {
            let (local, domain) = bounce.rsplit_once('@').unwrap_or(("bounces", &bounce));
            format!("{local}+member@{domain}")
        } else {
            bounce
        };
        let dkim = match &config.dkim {
            None => DkimSetup::NotConfigured,
            Some(d) => match DkimSigner::load(d, root) {
                Ok(signer) => DkimSetup::Key {
                    signer: Box::new(signer),
                    key_file: d.private_key_file.clone(),
                },
                Err(e) => DkimSetup::BadKey {
                    domain: normalise(&d.domain),
                    selector: d.selector.clone(),
                    error: e.to_string(),
                },
            },
        };
        let relay = smtp_url.and_then(|url| {
            // Only the host is wanted: a stand-in password satisfies a URL that names a user.
            SmtpTarget::from_url(url, &config.smtp, Some(Secret::new(String::new())))
                .ok()
                .map(|t| Relay {
                    host: t.host().to_string(),
                })
        });
        let helo = config
            .smtp
            .helo_name
            .clone()
            .unwrap_or_else(|| from_domain.clone());
        Ok(Sender {
            from_address,
            from_domain,
            bounce_address,
            bounce_domain,
            dkim,
            relay,
            helo,
        })
    }

    /// The `d=` of the signatures, whether or not the key loads.
    pub fn dkim_domain(&self) -> Option<String> {
        match &self.dkim {
            DkimSetup::NotConfigured => None,
            DkimSetup::Key { signer, .. } => Some(normalise(signer.domain())),
            DkimSetup::BadKey { domain, .. } => Some(domain.clone()),
        }
    }

    /// The sender's domains that are reserved for examples and tests (RFC 2606, RFC 6761):
    /// mail from them reaches no one.
    pub fn reserved_domains(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for d in [&self.from_domain, &self.bounce_domain] {
            if is_reserved(d) && !out.contains(&d.as_str()) {
                out.push(d.as_str());
            }
        }
        out
    }
}

/// `example.com`, `example.net`, `example.org` and names under them, and the top-level
/// domains `test`, `example`, `invalid` and `localhost`.
pub fn is_reserved(domain: &str) -> bool {
    let d = normalise(domain);
    let top = d.rsplit('.').next().unwrap_or("");
    if matches!(top, "test" | "example" | "invalid" | "localhost") {
        return true;
    }
    ["example.com", "example.net", "example.org"]
        .iter()
        .any(|e| d == *e || d.ends_with(&format!(".{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_domains_are_known() {
        assert!(is_reserved("example.org"));
        assert!(is_reserved("wmhtc.example.org"));
        assert!(is_reserved("news.cluster.test"));
        assert!(is_reserved("EXAMPLE.COM."));
        assert!(!is_reserved("example.co.uk"));
        assert!(!is_reserved("notexample.org"));
    }

    #[test]
    fn the_sender_comes_from_the_config() {
        let text = "[sender]\nemail = \"News@Cluster.test\"\nbounce_address = \"b@bounces.cluster.test\"\nverp = true\n";
        let config = Config::parse(Path::new("bulletin.toml"), text).unwrap();
        let s = Sender::from_config(
            &config,
            Path::new("."),
            Some("smtp://me%40x@relay.cluster.test:587"),
        )
        .unwrap();
        assert_eq!(s.from_domain, "cluster.test");
        assert_eq!(s.bounce_domain, "bounces.cluster.test");
        assert_eq!(s.bounce_address, "b+member@bounces.cluster.test");
        assert_eq!(s.relay.unwrap().host, "relay.cluster.test");
        assert!(matches!(s.dkim, DkimSetup::NotConfigured));
    }
}
