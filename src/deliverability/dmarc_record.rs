//! DMARC records (RFC 7489 §6.3) and where a receiver finds the one for a From domain
//! (§6.6.3): at `_dmarc.FROM`, else at `_dmarc.` of the organisational domain.

use super::org_domain::{Mode, organisational};
use super::resolver::{Dns, LookupError};
use super::tags;

/// A DMARC record, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    /// The name it was found at (`_dmarc.example.org`).
    pub found_at: String,
    pub text: String,
    /// `p=`: none, quarantine or reject.
    pub policy: String,
    /// `sp=`: the policy for subdomains, when given.
    pub subdomain_policy: Option<String>,
    pub adkim: Mode,
    pub aspf: Mode,
    /// `pct=`: the share of failing mail the policy applies to.
    pub pct: u8,
    /// `rua=`: where aggregate reports go.
    pub rua: Vec<String>,
}

impl DmarcRecord {
    /// The policy a receiver applies to mail from `from_domain`.
    pub fn policy_for(&self, from_domain: &str) -> &str {
        let at_org = self.found_at != format!("_dmarc.{from_domain}");
        match (&self.subdomain_policy, at_org) {
            (Some(sp), true) => sp,
            _ => &self.policy,
        }
    }
}

/// Whether a TXT record is a DMARC record: it starts with `v=DMARC1`.
pub fn is_dmarc(txt: &str) -> bool {
    let t = txt.trim_start();
    t.len() >= 8
        && t[..8].eq_ignore_ascii_case("v=DMARC1")
        && t[8..]
            .chars()
            .next()
            .is_none_or(|c| c == ';' || c.is_whitespace())
}

/// Parse a DMARC record found at `found_at`.
pub fn parse(found_at: &str, text: &str) -> Result<DmarcRecord, String> {
    let t = tags::parse(text)?;
    match t.first() {
        Some((n, v)) if n == "v" && v == "DMARC1" => {}
        _ => return Err("a DMARC record starts with `v=DMARC1`".into()),
    }
    let rua: Vec<String> = tags::get(&t, "rua")
        .map(|v| {
            v.split(',')
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let policy_ok = |p: &str| matches!(p, "none" | "quarantine" | "reject");
    let policy = match tags::get(&t, "p").map(str::to_ascii_lowercase) {
        Some(p) if policy_ok(&p) => p,
        // RFC 7489 §6.6.3: a missing or unknown p= with a valid rua= is p=none.
        _ if !rua.is_empty() => "none".to_string(),
        Some(p) => return Err(format!("p={p}: must be none, quarantine or reject")),
        None => return Err("the record has no p= (policy)".into()),
    };
    let subdomain_policy = tags::get(&t, "sp")
        .map(str::to_ascii_lowercase)
        .filter(|p| policy_ok(p));
    let pct = match tags::get(&t, "pct") {
        None => 100,
        Some(v) => v
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 100)
            .ok_or_else(|| format!("pct={v}: must be 0 to 100"))?,
    };
    Ok(DmarcRecord {
        found_at: found_at.to_string(),
        text: text.to_string(),
        policy,
        subdomain_policy,
        adkim: Mode::from_tag(tags::get(&t, "adkim")),
        aspf: Mode::from_tag(tags::get(&t, "aspf")),
        pct,
        rua,
    })
}

/// What the discovery found at one name.
#[derive(Debug)]
pub enum Found {
    One { at: String, text: String },
    Several { at: String, texts: Vec<String> },
    Nothing { asked: Vec<String> },
}

/// Look for the DMARC record of `from_domain` as a receiver does.
pub async fn discover(dns: &Dns, from_domain: &str) -> Result<Found, LookupError> {
    let org = organisational(from_domain);
    let mut names = vec![format!("_dmarc.{from_domain}")];
    if org != from_domain {
        names.push(format!("_dmarc.{org}"));
    }
    for name in &names {
        let txts = match dns.txt(name).await {
            Ok(t) => t,
            Err(e) if e.is_absent() => continue,
            Err(e) => return Err(e),
        };
        let records: Vec<String> = txts.into_iter().filter(|t| is_dmarc(t)).collect();
        match records.len() {
            0 => continue,
            1 => {
                return Ok(Found::One {
                    at: name.clone(),
                    text: records.into_iter().next().unwrap_or_default(),
                });
            }
            _ => {
                return Ok(Found::Several {
                    at: name.clone(),
                    texts: records,
                });
            }
        }
    }
    Ok(Found::Nothing { asked: names })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmarc_records_parse() {
        let r = parse(
            "_dmarc.example.org",
            "v=DMARC1; p=Reject; sp=none; adkim=s; pct=50; rua=mailto:a@example.org, mailto:b@example.net",
        )
        .unwrap();
        assert_eq!(r.policy, "reject");
        assert_eq!(r.adkim, Mode::Strict);
        assert_eq!(r.aspf, Mode::Relaxed);
        assert_eq!(r.pct, 50);
        assert_eq!(r.rua.len(), 2);
        assert_eq!(r.policy_for("example.org"), "reject");
        assert_eq!(r.policy_for("news.example.org"), "none");
        // A missing p= with a rua= is p=none (RFC 7489 §6.6.3).
        assert_eq!(
            parse("x", "v=DMARC1; rua=mailto:a@example.org")
                .unwrap()
                .policy,
            "none"
        );
        assert!(
            parse("x", "v=DMARC1; p=block")
                .unwrap_err()
                .contains("p=block")
        );
        assert!(parse("x", "p=none; v=DMARC1").is_err());
    }

    #[test]
    fn dmarc_records_are_told_from_other_txt() {
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(is_dmarc("v=DMARC1"));
        assert!(!is_dmarc("v=DMARC10; p=none"));
        assert!(!is_dmarc("v=spf1 -all"));
    }
}
