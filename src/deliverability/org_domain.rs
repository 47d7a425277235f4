//! Organisational domains (RFC 7489 §3.2) and DMARC's two alignment modes.

use serde::Serialize;

/// `r`elaxed (same organisational domain) or `s`trict (the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Relaxed,
    Strict,
}

impl Mode {
    /// `adkim=`/`aspf=` values; anything but `s` is relaxed, the default.
    pub fn from_tag(value: Option<&str>) -> Mode {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("s") => Mode::Strict,
            _ => Mode::Relaxed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Relaxed => "relaxed",
            Mode::Strict => "strict",
        }
    }
}

/// The organisational domain of `domain`: its registrable part under the Public Suffix List
/// (`news.example.co.uk` → `example.co.uk`). A name the list cannot place stands for itself.
pub fn organisational(domain: &str) -> String {
    let d = normalise(domain);
    psl::domain_str(&d).map_or(d.clone(), str::to_string)
}

/// Whether `a` and `b` align in `mode`.
pub fn aligned(a: &str, b: &str, mode: Mode) -> bool {
    let (a, b) = (normalise(a), normalise(b));
    match mode {
        Mode::Strict => a == b,
        Mode::Relaxed => a == b || organisational(&a) == organisational(&b),
    }
}

/// Lower case, without a trailing dot.
pub fn normalise(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The domain part of an address (`local@domain`), lower case.
pub fn of_address(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    let domain = normalise(domain);
    (!domain.is_empty()).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisational_domains_follow_the_public_suffix_list() {
        assert_eq!(organisational("news.example.co.uk"), "example.co.uk");
        assert_eq!(organisational("a.b.example.com."), "example.com");
        assert_eq!(organisational("Example.COM"), "example.com");
        assert_eq!(organisational("mail.cluster.test"), "cluster.test");
    }

    #[test]
    fn alignment_modes() {
        assert!(aligned("news.example.com", "example.com", Mode::Relaxed));
        assert!(!aligned("news.example.com", "example.com", Mode::Strict));
        assert!(aligned("Example.com.", "example.com", Mode::Strict));
        assert!(!aligned("example.co.uk", "other.co.uk", Mode::Relaxed));
        assert_eq!(Mode::from_tag(Some("s")), Mode::Strict);
        assert_eq!(Mode::from_tag(None), Mode::Relaxed);
    }

    #[test]
    fn address_domains() {
        assert_eq!(
            of_address("News+x@Mail.Example.org").as_deref(),
            Some("mail.example.org")
        );
        assert_eq!(of_address("nobody"), None);
    }
}
