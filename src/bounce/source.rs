//! Where bounce messages are read from: a Maildir, an mbox file, a folder of `.eml` files,
//! one `.eml` file, or an IMAP mailbox.

use std::fs;
use std::path::{Path, PathBuf};

/// A place to read messages from, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Maildir: messages in `cur/` and `new/`.
    Maildir(PathBuf),
    /// An mbox file: messages after `From ` lines.
    Mbox(PathBuf),
    /// A folder of message files (every regular file in it, sorted by name).
    Folder(PathBuf),
    /// One message file.
    File(PathBuf),
    /// An IMAP mailbox.
    Imap(ImapUrl),
}

/// `imaps://user@host[:port]/MAILBOX` or `imap://user@host[:port]/MAILBOX` (loopback only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub tls: bool,
    pub user: String,
    pub host: String,
    pub port: u16,
    pub mailbox: String,
}

/// One message read from a source.
#[derive(Debug, Clone)]
pub struct SourceItem {
    /// The file it came from (for mbox `FILE#N`, for IMAP `imap:MAILBOX/UID`).
    pub name: String,
    /// IMAP UID, for flagging once processed.
    pub uid: Option<u32>,
    pub raw: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file or folder")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: {message}")]
    BadUrl { url: String, message: String },
    #[error("IMAP {server}: {message}")]
    Imap { server: String, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Source {
    /// Recognise what `arg` names: an IMAP URL, or a path whose shape says which kind it is.
    pub fn parse(arg: &str) -> Result<Source, SourceError> {
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("imap://") || lower.starts_with("imaps://") {
            return ImapUrl::parse(arg).map(Source::Imap);
        }
        let path = PathBuf::from(arg);
        let meta = fs::metadata(&path).map_err(|_| SourceError::Missing(path.clone()))?;
        if meta.is_dir() {
            if path.join("cur").is_dir() || path.join("new").is_dir() {
                return Ok(Source::Maildir(path));
            }
            return Ok(Source::Folder(path));
        }
        let mut head = [0u8; 5];
        let n = {
            use std::io::Read;
            let mut f = fs::File::open(&path).map_err(io(&path))?;
            f.read(&mut head).map_err(io(&path))?
        };
        if head.get(..n) == Some(b"From ".as_slice()) {
            Ok(Source::Mbox(path))
        } else {
            Ok(Source::File(path))
        }
    }

    /// Every message of a local source, in a stable order. (IMAP is read with
    /// [`super::source::imap`].)
    pub fn read_local(&self) -> Result<Vec<SourceItem>, SourceError> {
        match self {
            Source::Maildir(dir) => {
                let mut files = Vec::new();
                for sub in ["new", "cur"] {
                    let d = dir.join(sub);
                    if d.is_dir() {
                        files.extend(list_files(&d)?);
                    }
                }
                read_files(files)
            }
            Source::Folder(dir) => read_files(list_files(dir)?),
            Source::File(p) => read_files(vec![p.clone()]),
            Source::Mbox(p) => {
                let data = fs::read(p).map_err(io(p))?;
                Ok(split_mbox(&data)
                    .into_iter()
                    .enumerate()
                    .map(|(i, raw)| SourceItem {
                        name: format!("{}#{}", p.display(), i + 1),
                        uid: None,
                        raw,
                    })
                    .collect())
            }
            Source::Imap(url) => Err(SourceError::BadUrl {
                url: url.to_string(),
                message: "an IMAP mailbox is not a local source".into(),
            }),
        }
    }
}

fn list_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let p = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type().map_err(io(&p))?.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

fn read_files(files: Vec<PathBuf>) -> Result<Vec<SourceItem>, SourceError> {
    files
        .into_iter()
        .map(|p| {
            let raw = fs::read(&p).map_err(io(&p))?;
            Ok(SourceItem {
                name: p.display().to_string(),
                uid: None,
                raw,
            })
        })
        .collect()
}

/// Split an mbox into messages: each starts after a `From ` line at the start of a line; a
/// `>From ` (any number of `>`) at line start loses one `>`.
pub fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(m) = cur.take() {
                out.push(finish_mbox_message(m));
            }
            cur = Some(Vec::new());
            continue;
        }
        let Some(m) = cur.as_mut() else { continue };
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if quoted > 0 && line.get(quoted..).is_some_and(|r| r.starts_with(b"From ")) {
            m.extend_from_slice(line.get(1..).unwrap_or_default());
        } else {
            m.extend_from_slice(line);
        }
    }
    if let Some(m) = cur {
        out.push(finish_mbox_message(m));
    }
    out
}

/// Drop the blank line that separates one mbox message from the next `From ` line.
fn finish_mbox_message(mut m: Vec<u8>) -> Vec<u8> {
    if m.ends_with(b"\n\n") {
        m.pop();
    } else if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    }
    m
}

impl ImapUrl {
    pub fn parse(url: &str) -> Result<ImapUrl, SourceError> {
        let bad = |m: &str| SourceError::BadUrl {
            url: url.to_string(),
            message: m.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected imaps://user@host/MAILBOX"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => true,
            "imap" => false,
            _ => return Err(bad("expected imaps:// or imap://")),
        };
        let (authority, mailbox) = rest.split_once('/').unwrap_or((rest, "INBOX"));
        let mailbox = if mailbox.is_empty() { "INBOX" } else { mailbox };
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("the user is missing: imaps://user@host/INBOX"))?;
        if user.is_empty() {
            return Err(bad("the user is missing: imaps://user@host/INBOX"));
        }
        if user.contains(':') {
            return Err(bad(
                "a password does not belong in the URL; set BULLETIN_IMAP_PASSWORD instead",
            ));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                let port: u16 = p.parse().map_err(|_| bad("the port is not a number"))?;
                (h, port)
            }
            _ => (hostport, if tls { 993 } else { 143 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        let user = percent_decode(user);
        if !tls && !is_loopback(host) {
            return Err(bad(
                "plain imap:// sends the password unencrypted; use imaps:// (plain IMAP is allowed only on loopback)",
            ));
        }
        Ok(ImapUrl {
            tls,
            user,
            host: host.to_string(),
            port,
            mailbox: percent_decode(mailbox),
        })
    }
}

impl std::fmt::Display for ImapUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "imaps" } else { "imap" };
        write!(
            f,
            "{scheme}://{}@{}:{}/{}",
            self.user, self.host, self.port, self.mailbox
        )
    }
}

pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_split_and_unescape() {
        let data = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue\nSubject: two\n\nbody\n";
        let m = split_mbox(data);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\n\nFrom here\n>From there\n");
        assert_eq!(m[1], b"Subject: two\n\nbody\n");
    }

    #[test]
    fn imap_urls() {
        let u = ImapUrl::parse("imaps://bounce%40example.org@mail.example.org/Bounces").unwrap();
        assert_eq!(u.user, "bounce@example.org");
        assert_eq!(u.port, 993);
        assert_eq!(u.mailbox, "Bounces");
        let u = ImapUrl::parse("imap://u@127.0.0.1:1143").unwrap();
        assert_eq!((u.tls, u.port, u.mailbox.as_str()), (false, 1143, "INBOX"));
        assert!(ImapUrl::parse("imap://u@mail.example.org/INBOX").is_err());
        assert!(ImapUrl::parse("imaps://u:pw@mail.example.org/INBOX").is_err());
        assert!(ImapUrl::parse("imaps://mail.example.org/INBOX").is_err());
    }
}
