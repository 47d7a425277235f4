//! Who a token names. Tokens are HMACs of the address ([`crate::message::Tokens`]), so a
//! token is turned back into a member by computing the token of every address the project
//! knows: the members of its lists and everyone its send records (journals) name.
//!
//! Looking a token up reveals nothing through timing about the tokens that exist: the table
//! is keyed by a keyed hash of the token (a random key per process), and the token found is
//! compared in constant time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rand::Rng as _;
use subtle::ConstantTimeEq as _;

use crate::list::{self, Entry};
use crate::message::Tokens;
use crate::message::tokens::hmac_sha256;
use crate::subscriber::normalise_address;

/// A member a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub token: String,
    pub email: String,
}

/// Token → member, for every address the project knows.
pub struct Directory {
    key: [u8; 32],
    members: HashMap<[u8; 16], Member>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("members", &self.members.len())
            .finish()
    }
}

impl Directory {
    /// The directory of these addresses.
    pub fn of(tokens: &Tokens, addresses: impl IntoIterator<Item = String>) -> Directory {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let mut d = Directory {
            key,
            members: HashMap::new(),
        };
        for email in addresses {
            let email = email.trim().to_string();
            if email.is_empty() {
                continue;
            }
            let token = tokens.token(&email);
            let slot = d.slot(&token);
            d.members.entry(slot).or_insert(Member { token, email });
        }
        d
    }

    fn slot(&self, token: &str) -> [u8; 16] {
        let mac = hmac_sha256(&self.key, &[token.as_bytes()]);
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        out
    }

    /// The member `token` names, if any. Case is ignored (some clients change it).
    pub fn find(&self, token: &str) -> Option<&Member> {
        let token = token.to_ascii_lowercase();
        let m = self.members.get(&self.slot(&token))?;
        bool::from(m.token.as_bytes().ct_eq(token.as_bytes())).then_some(m)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Where the addresses come from: the lists folder and the journals folder.
#[derive(Debug, Clone)]
pub struct Sources {
    pub lists: PathBuf,
    pub journals: PathBuf,
}

/// What the sources looked like: each file's path, size and modification time.
pub type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

impl Sources {
    /// The project's `paths.lists` and `STATE/journals`.
    pub fn of(project: &crate::project::Project) -> Sources {
        Sources {
            lists: project.path(&project.config.paths.lists),
            journals: project.state_dir().join("journals"),
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for (dir, ext) in [(&self.lists, "csv"), (&self.journals, "jsonl")] {
            if let Ok(entries) = std::fs::read_dir(dir) {
                out.extend(
                    entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))),
                );
            }
        }
        out.sort();
        out
    }

    /// A change in any list or journal changes the fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.files()
            .into_iter()
            .map(|p| {
                let meta = std::fs::metadata(&p).ok();
                let len = meta.as_ref().map_or(0, |m| m.len());
                let modified = meta.and_then(|m| m.modified().ok());
                (p, len, modified)
            })
            .collect()
    }

    /// Every address in the lists (members, and rows marked unsubscribed: their old links
    /// must keep working) and the journals. A file that cannot be read is reported in the
    /// returned warnings and skipped.
    pub fn addresses(&self) -> (Vec<String>, Vec<String>) {
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        for path in self.files() {
            let is_list = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let read = if is_list {
                list_addresses(&path, &mut out)
            } else {
                journal_addresses(&path, &mut out)
            };
            if let Err(e) = read {
                warnings.push(format!("{}: {e}", path.display()));
            }
        }
        out.sort_by_key(|a| normalise_address(a));
        out.dedup_by_key(|a| normalise_address(a));
        (out, warnings)
    }
}

fn list_addresses(path: &Path, out: &mut Vec<String>) -> Result<(), String> {
    for entry in list::open(path).map_err(|e| e.to_string())? {
        match entry.map_err(|e| e.to_string())? {
            Entry::Member(s) => out.push(s.email),
            Entry::OptedOut { email, .. } | Entry::Unclear { email, .. } => out.push(email),
            Entry::Invalid { .. } => {}
        }
    }
    Ok(())
}

/// The `email` of every journal line that has one; lines that are not JSON (a line cut off
/// by a crash) are skipped.
fn journal_addresses(path: &Path, out: &mut Vec<String>) -> Result<(), String> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if !line.contains("\"email\"") {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(email) = v.get("email").and_then(|e| e.as_str())
        {
            out.push(email.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::with_secret(b"s".to_vec(), "bounces@example.org").unwrap()
    }

    #[test]
    fn finds_members_by_token_and_nothing_else() {
        let t = tokens();
        let d = Directory::of(
            &t,
            ["Ann@Example.org".to_string(), "bob@example.org".into()],
        );
        let ann = t.token("ann@example.org");
        assert_eq!(d.find(&ann).unwrap().email, "Ann@Example.org");
        assert_eq!(
            d.find(&ann.to_uppercase()).unwrap().email,
            "Ann@Example.org"
        );
        assert!(d.find(&t.token("cy@example.org")).is_none());
        assert!(d.find("").is_none());
        assert!(d.find(&ann[..15]).is_none());
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn reads_lists_and_journals() {
        let dir = tempfile::tempdir().unwrap();
        let lists = dir.path().join("lists");
        let journals = dir.path().join("journals");
        std::fs::create_dir_all(&lists).unwrap();
        std::fs::create_dir_all(&journals).unwrap();
        std::fs::write(
            lists.join("a.csv"),
            "email,status\nann@example.org,\nbob@example.org,unsubscribed\nnot-an-address,\n",
        )
        .unwrap();
        std::fs::write(
            journals.join("j.jsonl"),
            "{\"type\":\"header\"}\n{\"type\":\"attempt\",\"email\":\"cy@example.org\"}\n{\"type\":\"att",
        )
        .unwrap();
        let s = Sources { lists, journals };
        let before = s.fingerprint();
        let (addresses, warnings) = s.addresses();
        assert_eq!(
            addresses,
            ["ann@example.org", "bob@example.org", "cy@example.org"]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        std::fs::write(s.lists.join("b.csv"), "email\ndee@example.org\n").unwrap();
        assert_ne!(s.fingerprint(), before);
    }
}
