//! DKIM signing (RFC 6376), relaxed/relaxed, with `rsa-sha256` or `ed25519-sha256` (RFC 8463).
//!
//! The signature covers the headers mailbox providers look at, the `List-Unsubscribe` pair
//! included (RFC 8058 asks for it), and "oversigns" From, To, Subject, Date, Message-ID and the
//! `List-Unsubscribe` pair: each is named once more than it occurs, so a header of that name
//! added on the way breaks the signature instead of riding along.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

use super::error::MessageError;

/// Headers signed when present, in this order.
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
];

/// Headers named once more, so none can be added after signing.
pub const OVERSIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

enum Key {
    Rsa(Box<RsaPrivateKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A loaded signing key with its domain and selector.
pub struct DkimSigner {
    domain: String,
    selector: String,
    key: Key,
}

impl std::fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimSigner")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm())
            .finish()
    }
}

impl DkimSigner {
    /// Read the PEM key file named by `[dkim] private_key_file` (relative to the project root).
    pub fn load(cfg: &crate::config::Dkim, project_root: &Path) -> Result<Self, MessageError> {
        let path = crate::config::resolve(project_root, &cfg.private_key_file);
        let pem = std::fs::read_to_string(&path).map_err(|e| MessageError::DkimKey {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Self::from_pem(&cfg.domain, &cfg.selector, &pem, &path)
    }

    /// A signer from PEM text: PKCS#1 RSA (`BEGIN RSA PRIVATE KEY`) or PKCS#8 RSA/Ed25519
    /// (`BEGIN PRIVATE KEY`). `path` only names the key in errors.
    pub fn from_pem(
        domain: &str,
        selector: &str,
        pem: &str,
        path: &Path,
    ) -> Result<Self, MessageError> {
        let err = |message: String| MessageError::DkimKey {
            path: PathBuf::from(path),
            message,
        };
        for (what, value) in [("domain", domain), ("selector", selector)] {
            let ok = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !ok {
                return Err(err(format!("[dkim] {what} {value:?} is not a DNS name")));
            }
        }
        let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
            let k = RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| err(e.to_string()))?;
            Key::Rsa(Box::new(k))
        } else if pem.contains("BEGIN PRIVATE KEY") {
            match RsaPrivateKey::from_pkcs8_pem(pem) {
                Ok(k) => Key::Rsa(Box::new(k)),
                Err(_) => {
                    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                    let k = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|e| {
                        err(format!("neither an RSA nor an Ed25519 PKCS#8 key: {e}"))
                    })?;
                    Key::Ed25519(Box::new(k))
                }
            }
        } else {
            return Err(err(
                "expected a PEM private key (`BEGIN RSA PRIVATE KEY` or `BEGIN PRIVATE KEY`)"
                    .into(),
            ));
        };
        if let Key::Rsa(k) = &key
            && k.size() < 128
        {
            return Err(err(format!(
                "an RSA key of {} bits is too short; use 2048 bits",
                k.size() * 8
            )));
        }
        Ok(DkimSigner {
            domain: domain.to_string(),
            selector: selector.to_string(),
            key,
        })
    }

    /// `rsa-sha256` or `ed25519-sha256`.
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        }
    }

    /// The size of an RSA key in bits; `None` for Ed25519, whose size is fixed.
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.key {
            Key::Rsa(k) => Some(k.size() * 8),
            Key::Ed25519(_) => None,
        }
    }

    /// The `k=` of the key record: `rsa` or `ed25519`.
    pub fn key_type(&self) -> &'static str {
        match self.key {
            Key::Rsa(_) => "rsa",
            Key::Ed25519(_) => "ed25519",
        }
    }

    /// The `d=` of the signatures.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The `s=` of the signatures.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The public key as the `p=` of the key record: base64 of the SubjectPublicKeyInfo (RSA)
    /// or of the 32 raw bytes (Ed25519, RFC 8463).
    pub fn public_key_base64(&self) -> String {
        match &self.key {
            Key::Rsa(k) => k
                .to_public_key()
                .to_public_key_der()
                .map(|d| STANDARD.encode(d.as_bytes()))
                .unwrap_or_default(),
            Key::Ed25519(k) => STANDARD.encode(k.verifying_key().as_bytes()),
        }
    }

    /// Whether a published `p=` (decoded) is the public half of this key. An RSA key may be
    /// published as a SubjectPublicKeyInfo (what RFC 6376 asks for) or as a bare PKCS#1
    /// RSAPublicKey (which many verifiers accept too).
    pub fn matches_public_key(&self, published: &[u8]) -> bool {
        match &self.key {
            Key::Rsa(k) => {
                use rsa::pkcs1::DecodeRsaPublicKey as _;
                use rsa::pkcs8::DecodePublicKey as _;
                let ours = k.to_public_key();
                rsa::RsaPublicKey::from_public_key_der(published)
                    .or_else(|_| rsa::RsaPublicKey::from_pkcs1_der(published))
                    .is_ok_and(|theirs| theirs == ours)
            }
            Key::Ed25519(k) => published == k.verifying_key().as_bytes(),
        }
    }

    /// The TXT record to publish at `SELECTOR._domainkey.DOMAIN`.
    pub fn dns_record(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.key_type(),
            self.public_key_base64()
        )
    }

    /// The `DKIM-Signature: …\r\n` header line for a message made of `headers` (name, value as
    /// written, possibly folded) and `body` (everything after the blank line).
    pub fn sign(
        &self,
        headers: &[(&str, &str)],
        body: &[u8],
        timestamp: i64,
    ) -> Result<String, MessageError> {
        let bh = STANDARD.encode(body_hash(body));

        let mut names: Vec<&str> = Vec::new();
        let mut hasher = Sha256::new();
        for wanted in SIGNED_HEADERS {
            // With several instances the last one is signed first (RFC 6376 §5.4.2); messages
            // built here carry one of each.
            if let Some((name, value)) = headers
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
            {
                hasher.update(relaxed_header(name, value));
                names.push(wanted);
            }
        }
        names.extend(OVERSIGNED_HEADERS);
        let h = names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(":");

        let mut value = format!(
            "v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={timestamp}; bh={bh};\r\n\th=",
            self.algorithm(),
            self.domain,
            self.selector
        );
        let mut col = 3;
        for (k, part) in h.split(':').enumerate() {
            if k > 0 {
                value.push(':');
                col += 1;
                if col + part.len() > 74 {
                    value.push_str("\r\n\t");
                    col = 1;
                }
            }
            value.push_str(part);
            col += part.len();
        }
        value.push_str(";\r\n\tb=");
        hasher.update(relaxed_header("DKIM-Signature", &value).trim_end_matches("\r\n"));
        let digest = hasher.finalize();

        let signature = match &self.key {
            Key::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
                .map_err(|e| MessageError::DkimSign(e.to_string()))?,
            Key::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(&digest).to_bytes().to_vec()
            }
        };
        let b = STANDARD.encode(signature);
        let mut line = String::with_capacity(value.len() + b.len() + 64);
        line.push_str("DKIM-Signature: ");
        line.push_str(&value);
        for (k, chunk) in b.as_bytes().chunks(72).enumerate() {
            if k > 0 {
                line.push_str("\r\n\t");
            }
            // base64 is ASCII, so every chunk is valid UTF-8.
            line.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        }
        line.push_str("\r\n");
        Ok(line)
    }
}

/// A header in relaxed canonical form (RFC 6376 §3.4.2), CRLF included.
pub fn relaxed_header(name: &str, value: &str) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 3);
    out.push_str(&name.trim().to_ascii_lowercase());
    out.push(':');
    let mut pending_space = false;
    let mut started = false;
    for c in value.chars() {
        match c {
            '\r' | '\n' => {}
            ' ' | '\t' => pending_space = true,
            _ => {
                if pending_space && started {
                    out.push(' ');
                }
                pending_space = false;
                started = true;
                out.push(c);
            }
        }
    }
    out.push_str("\r\n");
    out
}

/// SHA-256 of the body in relaxed canonical form (RFC 6376 §3.4.4).
pub fn body_hash(body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut blank_lines = 0usize;
    let mut canon = Vec::new();
    let mut lines = body.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if last && line.is_empty() {
            break; // the body ended with a line break
        }
        let plain =
            !line.contains(&b'\t') && !line.ends_with(b" ") && !line.windows(2).any(|w| w == b"  ");
        let line: &[u8] = if plain {
            line
        } else {
            canon.clear();
            for &b in line {
                if b == b' ' || b == b'\t' {
                    if canon.last() != Some(&b' ') {
                        canon.push(b' ');
                    }
                } else {
                    canon.push(b);
                }
            }
            while canon.last() == Some(&b' ') {
                canon.pop();
            }
            &canon
        };
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        for _ in 0..blank_lines {
            hasher.update(b"\r\n");
        }
        blank_lines = 0;
        hasher.update(line);
        hasher.update(b"\r\n");
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_headers_match_rfc_6376_example() {
        // RFC 6376 §3.4.5.
        assert_eq!(relaxed_header("A", " X"), "a:X\r\n");
        assert_eq!(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z\r\n");
        assert_eq!(relaxed_header("Subject", " a:  b"), "subject:a: b\r\n");
    }

    #[test]
    fn relaxed_body_matches_rfc_6376_example() {
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        let expected: [u8; 32] = Sha256::digest(b" C\r\nD E\r\n").into();
        assert_eq!(body_hash(body), expected);
        let empty: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(body_hash(b"\r\n\r\n"), empty);
    }

    #[test]
    fn bad_keys_are_clear_errors() {
        let e = DkimSigner::from_pem("example.org", "s1", "not a key", Path::new("k.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.pem: DKIM key: expected a PEM"), "{e}");
        let pem = include_str!("testdata/dkim-rsa.pem");
        let e = DkimSigner::from_pem("example.org", "s 1", pem, Path::new("k.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("selector"), "{e}");
    }

    #[test]
    fn dns_records_carry_the_public_keys() {
        let rsa = DkimSigner::from_pem(
            "example.org",
            "s1",
            include_str!("testdata/dkim-rsa.pem"),
            Path::new("k"),
        )
        .unwrap();
        assert_eq!(
            rsa.dns_record(),
            format!(
                "v=DKIM1; k=rsa; p={}",
                include_str!("testdata/dkim-rsa.pub.b64").trim()
            )
        );
        let ed = DkimSigner::from_pem(
            "example.org",
            "s1",
            include_str!("testdata/dkim-ed25519.pem"),
            Path::new("k"),
        )
        .unwrap();
        assert_eq!(ed.algorithm(), "ed25519-sha256");
        assert!(
            ed.matches_public_key(
                &STANDARD
                    .decode(include_str!("testdata/dkim-ed25519.pub.b64").trim())
                    .unwrap()
            )
        );
        assert!(
            !rsa.matches_public_key(
                &STANDARD
                    .decode(include_str!("testdata/dkim-ed25519.pub.b64").trim())
                    .unwrap()
            )
        );
        assert!(
            rsa.matches_public_key(
                &STANDARD
                    .decode(include_str!("testdata/dkim-rsa.pub.b64").trim())
                    .unwrap()
            )
        );
        assert_eq!(
            ed.dns_record(),
            format!(
                "v=DKIM1; k=ed25519; p={}",
                include_str!("testdata/dkim-ed25519.pub.b64").trim()
            )
        );
    }
}
