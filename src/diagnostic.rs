//! Errors that point into a file: path, line, column, the offending line and a hint.
//!
//! Every error a user can cause by what they wrote (a TOML typo, a broken template, a bad CSV row)
//! is reported through [`SourceError`], so they all read the same way:
//!
//! ```text
//! error: issue.toml:12:5: expected `=`, found newline
//!    |
//! 12 | title "Cluster News"
//!    |     ^
//!    = hint: …
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    pub message: String,
    /// The text of the offending line, when known.
    pub snippet: Option<String>,
    pub hint: Option<String>,
}

impl SourceError {
    /// An error about a whole file.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        SourceError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            snippet: None,
            hint: None,
        }
    }

    /// An error at a 1-based line and column of `text`, the contents of `path`.
    pub fn at_line(
        path: impl Into<PathBuf>,
        text: &str,
        line: usize,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        let snippet = text
            .lines()
            .nth(line.saturating_sub(1))
            .map(|l| l.trim_end_matches('\r').to_string());
        SourceError {
            path: path.into(),
            line: Some(line),
            column,
            message: message.into(),
            snippet,
            hint: None,
        }
    }

    /// An error at a byte offset of `text`, the contents of `path`.
    pub fn at_offset(
        path: impl Into<PathBuf>,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(text, offset);
        Self::at_line(path, text, line, Some(column), message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `path:line:column`, as far as known.
    pub fn location(&self) -> String {
        let mut s = self.path.display().to_string();
        if let Some(line) = self.line {
            s.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                s.push_str(&format!(":{col}"));
            }
        }
        s
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let (Some(line), Some(snippet)) = (self.line, &self.snippet) {
            let width = line.to_string().len();
            write!(f, "\n{:width$} |\n{line} | {snippet}", "")?;
            if let Some(col) = self.column {
                let pad: String = snippet
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n{:width$} | {pad}^", "")?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

/// The 1-based line and column (in characters) of a byte offset in `text`.
/// An offset past the end, or inside a character, is clamped.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Read a text file the way users save them: strips a UTF-8 byte order mark and turns CRLF
/// (and lone CR) line endings into LF, so files saved on Windows behave like their LF twins.
pub fn read_text(path: &Path) -> Result<String, SourceError> {
    let bytes = std::fs::read(path)
        .map_err(|e| SourceError::file(path, format!("cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]).into_owned();
        let (line, column) = line_col(&valid, offset);
        SourceError {
            path: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: "the file is not valid UTF-8".into(),
            snippet: None,
            hint: Some("save the file as UTF-8".into()),
        }
    })?;
    Ok(normalise_newlines(&text))
}

/// Strip a leading BOM and turn CRLF / CR line endings into LF.
pub fn normalise_newlines(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The candidate nearest to a misspelt name, when one is close enough to suggest.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 4) && d < c.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "ab\ncd€e\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // "€" is three bytes; the offset of "e" is 3 + 2 + 3 = 8
        assert_eq!(line_col(text, 8), (2, 4));
        assert_eq!(line_col(text, 100), (3, 2));
        // inside the euro sign: clamped back to its start
        assert_eq!(line_col(text, 6), (2, 3));
    }

    #[test]
    fn display_shows_the_line_and_a_caret() {
        let e = SourceError::at_line(
            "issue.toml",
            "a = 1\ntitle \"x\"\n",
            2,
            Some(7),
            "expected `=`",
        )
        .with_hint("write `title = \"x\"`");
        assert_eq!(
            e.to_string(),
            "issue.toml:2:7: expected `=`\n  |\n2 | title \"x\"\n  |       ^\n  = hint: write `title = \"x\"`"
        );
    }

    #[test]
    fn windows_text_becomes_unix_text() {
        assert_eq!(normalise_newlines("\u{feff}a\r\nb\rc\n"), "a\nb\nc\n");
    }
}
