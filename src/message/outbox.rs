//! The dry-run target: each message as an `.eml` file in a folder.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::error::MessageError;
use super::outgoing::Outgoing;

/// A folder of `.eml` files, `NNNNNN-<address>.eml`, one per message.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox at `dir`, created when missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Outbox, MessageError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| MessageError::Outbox {
            path: dir.clone(),
            source,
        })?;
        Ok(Outbox { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write `message` as the `index`-th file, atomically (a temporary file renamed into
    /// place), and return its path. The file holds exactly the bytes that would be sent.
    pub fn write(&self, message: &Outgoing, index: u64) -> Result<PathBuf, MessageError> {
        let name = format!("{index:06}-{}.eml", file_safe(&message.to));
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| MessageError::Outbox { path: p, source }
        };
        let mut f = std::fs::File::create(&tmp).map_err(err(&tmp))?;
        f.write_all(&message.bytes).map_err(err(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(err(&path))?;
        Ok(path)
    }
}

/// The address lower-cased with every character outside `[a-z0-9@._+-]` replaced by `_`,
/// at most 100 characters.
fn file_safe(email: &str) -> String {
    let s: String = email
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "_".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbered_files_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("out/box")).unwrap();
        let m = Outgoing {
            envelope_from: "b@example.org".into(),
            to: "Pat.O'Brien/../x@Example.org".into(),
            message_id: "<1@example.org>".into(),
            bytes: b"Subject: x\r\n\r\nhi\r\n".to_vec(),
        };
        let p = outbox.write(&m, 7).unwrap();
        assert_eq!(
            p.file_name().unwrap().to_str().unwrap(),
            "000007-pat.o_brien_.._x@example.org.eml"
        );
        assert_eq!(std::fs::read(&p).unwrap(), m.bytes);
        let names: Vec<_> = std::fs::read_dir(outbox.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn unwritable_outbox_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let e = Outbox::new(file.join("sub")).unwrap_err().to_string();
        assert!(e.contains("plain-file"), "{e}");
    }
}
