//! The DKIM check: `SELECTOR._domainkey.DOMAIN` publishes the public half of the configured
//! private key (RFC 6376 §3.6.1, RFC 8463).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::report::{Check, Publish, Status};
use super::resolver::Dns;
use super::sender::{DkimSetup, Sender};
use super::tags;

/// The RSA key size RFC 8301 §3.2 asks signers for (1024 is the least verifiers accept).
const RSA_BITS: usize = 2048;

/// The key record against the key: pass (or a warning for `t=y`) when it verifies.
pub async fn check(dns: &Dns, sender: &Sender) -> Check {
    let (signer, key_file) = match &sender.dkim {
        DkimSetup::NotConfigured => {
            let c = Check::new(
                "dkim",
                Status::Fail,
                "messages are not DKIM-signed: [dkim] is not set in bulletin.toml",
            )
            .fix(format!(
                "make a key (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`), \
                 set [dkim] domain = \"{}\", selector = \"news\", private_key_file = \"dkim.pem\", \
                 then `bulletin check --dns` prints the record to publish",
                sender.from_domain
            ));
            return c;
        }
        DkimSetup::BadKey {
            domain,
            selector,
            error,
        } => {
            let c = Check::new(
                "dkim",
                Status::Fail,
                format!("the key for {selector}._domainkey.{domain} does not load: {error}"),
            );
            return c;
        }
        DkimSetup::Key { signer, key_file } => (signer, key_file),
    };
    let name = format!("{}._domainkey.{}", signer.selector(), signer.domain());
    let publish = Publish::txt(name.clone(), signer.dns_record());
    let key_name = key_file.display();
    let fail = |summary: String| Check::new("dkim", Status::Fail, summary).publish(publish.clone());
    let records = match dns.txt(&name).await {
        Ok(r) => r,
        Err(e) if e.is_absent() => {
            return fail(format!("no DKIM key record at {name}: {e}"));
        }
        Err(e) => {
            return Check::new("dkim", Status::Unknown, format!("TXT {name}: {e}"));
        }
    };
    if records.len() > 1 {
        let mut c = fail(format!(
            "{name} has {} TXT records; verifiers may pick any, so keep only the key record",
            records.len()
        ));
        for r in &records {
            c = c.detail(format!("record: {r}"));
        }
        return c;
    }
    let text = &records[0];
    let problem = match key_problem(text, signer.key_type()) {
        Err(why) => Some(why),
        Ok(published) if !signer.matches_public_key(&published) => Some(format!(
            "the published key is not the public half of {key_name}"
        )),
        Ok(_) => None,
    };
    if let Some(why) = problem {
        return fail(format!("{name}: {why}")).detail(format!("record: {text}"));
    }
    let mut c = Check::new(
        "dkim",
        Status::Pass,
        format!(
            "{name} publishes the public half of {key_name} ({})",
            signer.algorithm()
        ),
    );
    if let Some(bits) = signer.rsa_bits().filter(|&b| b < RSA_BITS) {
        c.status = Status::Warn;
        c = c
            .detail(format!(
                "{key_name} is an RSA key of {bits} bits: RFC 8301 asks signers for at least \
                 {RSA_BITS}, and receivers may count a shorter key as weak or treat the mail as unsigned"
            ))
            .fix(format!(
                "make a {RSA_BITS}-bit key (`openssl genpkey -algorithm RSA -pkeyopt \
                 rsa_keygen_bits:{RSA_BITS} -out dkim.pem`), publish its record under a new \
                 selector, then switch [dkim] selector and private_key_file to it"
            ));
    }
    let parsed = tags::parse(text).unwrap_or_default();
    if tags::get(&parsed, "t").is_some_and(|t| t.split(':').any(|f| f.trim() == "y")) {
        c.status = Status::Warn;
        c = c.detail(
            "t=y: the domain is testing DKIM; verifiers may treat signed mail as unsigned. \
             Remove t=y once mail verifies",
        );
    }
    c
}

/// The decoded `p=` of a key record, after the checks a verifier makes (RFC 6376 §3.6.1).
fn key_problem(text: &str, our_type: &str) -> Result<Vec<u8>, String> {
    let t = tags::parse(text).map_err(|e| format!("the record does not parse: {e}"))?;
    if let Some((first, value)) = t.first()
        && first == "v"
        && value != "DKIM1"
    {
        return Err(format!("v={value}: must be DKIM1"));
    }
    if t.iter().skip(1).any(|(n, _)| n == "v") {
        return Err("v= must be the first tag".into());
    }
    let k = tags::get(&t, "k").unwrap_or("rsa");
    if !k.eq_ignore_ascii_case(our_type) {
        return Err(format!("k={k}, but the configured key is {our_type}"));
    }
    if let Some(h) = tags::get(&t, "h")
        && !h
            .split(':')
            .any(|a| a.trim().eq_ignore_ascii_case("sha256"))
    {
        return Err(format!(
            "h={h} does not allow sha256, which the signatures use"
        ));
    }
    if let Some(s) = tags::get(&t, "s")
        && !s.split(':').any(|a| matches!(a.trim(), "email" | "*"))
    {
        return Err(format!("s={s}: the key is not for email"));
    }
    let p = tags::get(&t, "p").ok_or("the record has no p= (public key)")?;
    let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
    if p.is_empty() {
        return Err("p= is empty: the key is revoked".into());
    }
    STANDARD
        .decode(&p)
        .map_err(|e| format!("p= is not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_records_are_checked_like_a_verifier() {
        assert_eq!(
            key_problem("v=DKIM1; k=ed25519; p=AAEC", "ed25519").unwrap(),
            vec![0, 1, 2]
        );
        assert_eq!(key_problem("p=AA EC", "rsa").unwrap(), vec![0, 1, 2]);
        for (text, needle) in [
            ("v=DKIM2; p=AAEC", "DKIM1"),
            ("k=rsa; v=DKIM1; p=AAEC", "first"),
            ("v=DKIM1; k=rsa; p=AAEC", "ed25519"),
            ("v=DKIM1; k=ed25519; p=", "revoked"),
            ("v=DKIM1; k=ed25519", "no p="),
            ("v=DKIM1; k=ed25519; h=sha1; p=AAEC", "sha256"),
            ("v=DKIM1; k=ed25519; p=!!!", "base64"),
        ] {
            let e = key_problem(text, "ed25519").unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
