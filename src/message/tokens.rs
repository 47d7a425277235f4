//! Per-member tokens: HMAC-SHA256 of the project's secret over the member's normalised address,
//! shortened to 16 base32 characters (80 bits).
//!
//! The token names a member without revealing the address: it goes into unsubscribe links, the
//! VERP bounce address and the `X-Bulletin-Member` header. It depends on the secret and the
//! address only, so a member keeps the same token across issues and lists, and an unsubscribe
//! link in an old issue keeps working. Turning a token back into a member is a lookup: compute
//! the token of each address sent to (journal, list) and match.
//!
//! The secret comes from `[sender] token_secret`, else `BULLETIN_TOKEN_SECRET`, else the file
//! `secret` in the state folder, created with random content (mode 0600) on first use.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::Rng as _;
use sha2::Sha256;

use crate::config::{Config, resolve};
use crate::subscriber::normalise_address;

use super::error::MessageError;

/// Characters in a member token.
pub const TOKEN_LEN: usize = 16;

/// The name of the secret file in the state folder.
pub const SECRET_FILE: &str = "secret";

/// The environment variable read when `bulletin.toml` has no `token_secret`.
pub const SECRET_ENV: &str = "BULLETIN_TOKEN_SECRET";

/// Makes tokens, VERP addresses and derived identifiers from one secret.
#[derive(Clone)]
pub struct Tokens {
    secret: Vec<u8>,
    /// Local part and domain of the bounce address, for VERP.
    bounce_local: String,
    bounce_domain: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("secret", &"<hidden>")
            .field("bounce_local", &self.bounce_local)
            .field("bounce_domain", &self.bounce_domain)
            .finish()
    }
}

impl Tokens {
    /// Load the secret as configured for the project at `project_root` (see the module docs).
    pub fn load(config: &Config, project_root: &Path) -> Result<Tokens, MessageError> {
        let env = std::env::var(SECRET_ENV).ok();
        let state = resolve(project_root, &config.paths.state);
        let secret = load_secret(
            config.sender.token_secret.as_deref(),
            env.as_deref(),
            &state,
        )?;
        Tokens::with_secret(secret, config.bounce_address())
    }

    /// Tokens from a known secret and bounce address.
    pub fn with_secret(secret: Vec<u8>, bounce_address: &str) -> Result<Tokens, MessageError> {
        super::encode::check_address(bounce_address).map_err(|m| MessageError::Config {
            key: "sender.bounce_address",
            message: format!("{bounce_address:?}: {m}"),
        })?;
        let (local, domain) = bounce_address
            .rsplit_once('@')
            .unwrap_or((bounce_address, ""));
        Ok(Tokens {
            secret,
            bounce_local: local.to_string(),
            bounce_domain: domain.to_string(),
        })
    }

    /// The member's token: stable for an address (case and surrounding spaces ignored).
    pub fn token(&self, email: &str) -> String {
        let mac = hmac_sha256(
            &self.secret,
            &[b"member\0", normalise_address(email).as_bytes()],
        );
        base32(&mac)[..TOKEN_LEN].to_string()
    }

    /// `local+TOKEN@domain` of the bounce address.
    pub fn verp_address(&self, token: &str) -> String {
        format!("{}+{token}@{}", self.bounce_local, self.bounce_domain)
    }

    /// The token in a VERP address (`anything+TOKEN@domain`), if it holds one. Case is ignored,
    /// as some servers change it.
    pub fn parse_verp(addr: &str) -> Option<String> {
        let addr = addr.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, _domain) = addr.rsplit_once('@')?;
        let (_, token) = local.rsplit_once('+')?;
        let token = token.to_ascii_lowercase();
        (token.len() == TOKEN_LEN && token.bytes().all(is_base32_char)).then_some(token)
    }

    /// A value derived from the secret and `parts`, as lowercase base32 of `len` characters.
    pub fn derive(&self, label: &str, parts: &[&[u8]], len: usize) -> String {
        let mut data: Vec<&[u8]> = vec![label.as_bytes(), b"\0"];
        for p in parts {
            data.push(p);
            data.push(b"\0");
        }
        let mac = hmac_sha256(&self.secret, &data);
        let mut s = base32(&mac);
        s.truncate(len.min(s.len()));
        s
    }
}

fn is_base32_char(b: u8) -> bool {
    b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)
}

/// The secret: configured, from the environment, or persisted in `state_dir/secret`.
pub fn load_secret(
    configured: Option<&str>,
    env: Option<&str>,
    state_dir: &Path,
) -> Result<Vec<u8>, MessageError> {
    if let Some(s) = configured.filter(|s| !s.trim().is_empty()) {
        return Ok(s.trim().as_bytes().to_vec());
    }
    if let Some(s) = env.filter(|s| !s.trim().is_empty()) {
        return Ok(s.trim().as_bytes().to_vec());
    }
    let path = state_dir.join(SECRET_FILE);
    let err = |message: String| MessageError::Secret {
        path: path.clone(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(err(
                "the file is empty; delete it to have a new secret made".into(),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e.to_string())),
    }
    std::fs::create_dir_all(state_dir).map_err(|e| err(e.to_string()))?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    match create_private(&path) {
        Ok(mut f) => {
            f.write_all(secret.as_bytes())
                .and_then(|()| f.write_all(b"\n"))
                .and_then(|()| f.sync_all())
                .map_err(|e| err(e.to_string()))?;
            Ok(secret.into_bytes())
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            load_secret(None, None, state_dir)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

fn create_private(path: &PathBuf) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length (a long one is hashed first), so this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Lowercase RFC 4648 base32 without padding.
pub fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    fn tokens(secret: &str) -> Tokens {
        Tokens::with_secret(secret.as_bytes().to_vec(), "bounces@news.example.org").unwrap()
    }

    #[test]
    fn tokens_are_stable_per_address_and_secret() {
        let t = tokens("s1");
        let a = t.token("Pat@Example.org ");
        assert_eq!(a.len(), TOKEN_LEN);
        assert_eq!(a, t.token("pat@example.org"));
        assert_ne!(a, t.token("pat2@example.org"));
        assert_ne!(a, tokens("s2").token("pat@example.org"));
    }

    #[test]
    fn verp_round_trip() {
        let t = tokens("s1");
        let token = t.token("pat@example.org");
        let addr = t.verp_address(&token);
        assert_eq!(addr, format!("bounces+{token}@news.example.org"));
        assert_eq!(Tokens::parse_verp(&addr).as_deref(), Some(token.as_str()));
        assert_eq!(
            Tokens::parse_verp(&format!("<{}>", addr.to_uppercase())).as_deref(),
            Some(token.as_str())
        );
        assert_eq!(Tokens::parse_verp("bounces@news.example.org"), None);
        assert_eq!(Tokens::parse_verp("bounces+short@news.example.org"), None);
        assert_eq!(Tokens::parse_verp("bounces+0123456789abcdef@x.org"), None);
    }

    #[test]
    fn secret_precedence_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(
            load_secret(Some("conf"), Some("env"), &state).unwrap(),
            b"conf"
        );
        assert_eq!(load_secret(None, Some("env"), &state).unwrap(), b"env");
        assert!(!state.exists());
        let made = load_secret(None, None, &state).unwrap();
        assert_eq!(made.len(), 64);
        assert_eq!(load_secret(None, None, &state).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(state.join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(state.join(SECRET_FILE), "\n").unwrap();
        let e = load_secret(None, None, &state).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
