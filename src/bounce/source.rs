//! Where bounce messages are read from: a Maildir, an mbox file, a folder of `.eml` files,
//! one `.eml` file, or an IMAP mailbox.

use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use mail_parser::mailbox::mbox::MessageIterator;

use crate::server_url::{ServerUrl, is_loopback};

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

    /// Every message of a local source, in a stable order, read one at a time (a large
    /// Maildir is never held in memory at once; an mbox file is read message by message). IMAP is read
    /// with [`super::imap::Mailbox`].
    pub fn local_items(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<SourceItem, SourceError>>>, SourceError> {
        match self {
            Source::Maildir(dir) => {
                let mut files = Vec::new();
                for sub in ["new", "cur"] {
                    let d = dir.join(sub);
                    if d.is_dir() {
                        files.extend(list_files(&d)?);
                    }
                }
                Ok(read_files(files))
            }
            Source::Folder(dir) => Ok(read_files(list_files(dir)?)),
            Source::File(p) => Ok(read_files(vec![p.clone()])),
            Source::Mbox(p) => {
                let file = fs::File::open(p).map_err(io(p))?;
                let (path, name) = (p.clone(), p.display().to_string());
                let messages = mbox_messages(std::io::BufReader::new(file));
                Ok(Box::new(messages.enumerate().map(move |(i, raw)| {
                    Ok(SourceItem {
                        name: format!("{name}#{}", i + 1),
                        uid: None,
                        raw: raw.map_err(io(&path))?,
                    })
                })))
            }
            Source::Imap(url) => Err(SourceError::BadUrl {
                url: url.to_string(),
                message: "an IMAP mailbox is not a local source".into(),
            }),
        }
    }

    /// Every message of a local source, all in memory.
    pub fn read_local(&self) -> Result<Vec<SourceItem>, SourceError> {
        self.local_items()?.collect()
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

fn read_files(files: Vec<PathBuf>) -> Box<dyn Iterator<Item = Result<SourceItem, SourceError>>> {
    Box::new(files.into_iter().map(|p| {
        let raw = fs::read(&p).map_err(io(&p))?;
        Ok(SourceItem {
            name: p.display().to_string(),
            uid: None,
            raw,
        })
    }))
}

/// The messages of an mbox, one at a time (mail-parser's reader): each starts after a `From `
/// line at the start of a line; a `>From ` (any number of `>`) at line start loses one `>`
/// (mboxrd); the blank line before the next `From ` line is not part of the message.
pub fn mbox_messages(reader: impl BufRead) -> impl Iterator<Item = std::io::Result<Vec<u8>>> {
    MessageIterator::new(reader).map(|m| m.map(|m| finish_mbox_message(m.unwrap_contents())))
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
        let shown = without_password(url);
        let bad = |m: &str| SourceError::BadUrl {
            url: shown.clone(),
            message: m.to_string(),
        };
        if !url.contains("://") {
            return Err(bad("expected imaps://user@host/MAILBOX"));
        }
        let parts = ServerUrl::parse(url).map_err(|r| bad(&r))?;
        let tls = match parts.scheme.as_str() {
            "imaps" => true,
            "imap" => false,
            _ => return Err(bad("expected imaps:// or imap://")),
        };
        if parts.has_password {
            return Err(bad(
                "a password does not belong in the URL; set BULLETIN_IMAP_PASSWORD instead",
            ));
        }
        let user = match parts.user {
            Some(u) if !u.is_empty() => u,
            _ => return Err(bad("the user is missing: imaps://user@host/INBOX")),
        };
        let port = parts.port.unwrap_or(if tls { 993 } else { 143 });
        let host = parts.host.as_str();
        let mailbox = match parts.path.as_str() {
            "" => "INBOX".to_string(),
            m => m.to_string(),
        };
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
            mailbox,
        })
    }
}

/// The URL as it may be printed: a password in it replaced by `***`. A password may hold `/`
/// or `@`, so everything from the first `:` after the scheme to the last `@` goes.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_split_and_unescape() {
        let data = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue\nSubject: two\n\nbody\n";
        let m: Vec<Vec<u8>> = mbox_messages(&data[..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\n\nFrom here\n>From there\n");
        assert_eq!(m[1], b"Subject: two\n\nbody\n");
        // CRLF line ends, text before the first `From ` line, a last message without a
        // blank line after it
        let data = b"junk\r\nFrom a@b Mon\r\nSubject: one\r\n\r\n>From x\r\n\r\nFrom c@d Tue\r\nSubject: two\r\n";
        let m: Vec<Vec<u8>> = mbox_messages(&data[..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\r\n\r\nFrom x\r\n");
        assert_eq!(m[1], b"Subject: two\r\n");
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

    #[test]
    fn a_password_in_the_url_is_never_printed() {
        for url in [
            "imaps://u:hunter2@mail.example.org/INBOX",
            "imaps://u:hun/ter2@mail.example.org/INBOX",
            "imaps://u@x:hunter2@mail.example.org",
            "imap://u:hunter2@mail.example.org:99x/INBOX",
        ] {
            let e = ImapUrl::parse(url).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains("ter2"), "{e}");
            assert!(e.contains("mail.example.org"), "{e}");
        }
    }
}
