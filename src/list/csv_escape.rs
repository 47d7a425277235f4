//! Writing CSV that spreadsheets open safely.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
//! Excel, LibreOffice and Google Sheets (CSV injection; `=cmd|' /C calc'!A0`). Following the
//! OWASP rule, every such field bulletin writes is prefixed with a single quote, which makes
//! spreadsheets show it as text. A field that itself starts with a quote gets one more, so
//! [`unescape_field`] gives back exactly what was escaped.

use std::borrow::Cow;

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The field as it should be written to a CSV file (quoting is the CSV writer's job).
pub fn escape_field(field: &str) -> Cow<'_, str> {
    match field.chars().next() {
        Some(c) if FORMULA_START.contains(&c) || c == '\'' => Cow::Owned(format!("'{field}")),
        _ => Cow::Borrowed(field),
    }
}

/// Undo [`escape_field`] on a field read back from a file bulletin wrote.
pub fn unescape_field(field: &str) -> &str {
    field.strip_prefix('\'').unwrap_or(field)
}

/// One CSV line (with its line break) of escaped fields.
pub fn csv_line<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let escaped: Vec<Cow<'_, str>> = fields.into_iter().map(escape_field).collect();
    // Writing to a Vec cannot fail.
    let _ = w.write_record(escaped.iter().map(|f| f.as_ref()));
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_defused() {
        assert_eq!(escape_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(escape_field("+1"), "'+1");
        assert_eq!(escape_field("-2+3"), "'-2+3");
        assert_eq!(escape_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape_field("\tx"), "'\tx");
        assert_eq!(escape_field("\rx"), "'\rx");
        assert_eq!(escape_field("ann@example.org"), "ann@example.org");
        assert_eq!(escape_field(""), "");
        assert!(matches!(escape_field("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn escaping_round_trips() {
        for f in ["=1+1", "'quoted", "''", "plain", "", "-", "a=b"] {
            assert_eq!(unescape_field(&escape_field(f)), f);
        }
    }

    #[test]
    fn lines_are_quoted_and_escaped() {
        assert_eq!(
            csv_line(["=HYPERLINK(\"http://x\")", "a,b", "ok"]),
            "\"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\",ok\n"
        );
    }
}
