//! Byte-level encodings of a message: quoted-printable bodies, wrapped base64, RFC 2047 encoded
//! words, quoted strings and folded header lines. Everything here emits 7-bit ASCII with CRLF
//! line endings and lines of at most 78 octets.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes that quoted-printable may carry literally: printable ASCII except `=`, plus space and
/// tab (which are encoded when they end a line).
static QP_LITERAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 33;
    while b <= 126 {
        t[b] = true;
        b += 1;
    }
    t[b'=' as usize] = false;
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

/// Append `input` encoded as quoted-printable (RFC 2045 §6.7) to `out`.
///
/// `\n` and `\r\n` in the input are line breaks and come out as CRLF; encoded lines hold at most
/// 76 characters. Whitespace at the end of a line is encoded, and so is a `.` at the start of a
/// line, so no transport can damage the part by stripping or dot-stuffing.
pub fn quoted_printable(input: &[u8], out: &mut Vec<u8>) {
    let mut rest = input;
    loop {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        qp_line(line.strip_suffix(b"\r").unwrap_or(line), 0, false, out);
        match next {
            Some(n) => {
                out.extend_from_slice(b"\r\n");
                rest = n;
            }
            None => break,
        }
    }
}

/// Quoted-printable written fragment by fragment, where a fragment may end mid-line.
///
/// The end of a fragment is taken as a possible end of line: whitespace there is encoded and
/// the last character keeps a column free for a soft break, so whatever follows, the lines stay
/// within 76 characters with no trailing whitespace. A fragment encoded on its own from the
/// start of a line ([`QpStream::encode_alone`]) can be stored and appended to any number of
/// streams with [`QpStream::append_encoded`], after a soft break: its bytes never depend on
/// what came before it.
#[derive(Debug, Default)]
pub struct QpStream {
    column: usize,
}

impl QpStream {
    pub fn new() -> Self {
        QpStream::default()
    }

    /// Append `fragment`, continuing the current line.
    pub fn push(&mut self, fragment: &[u8], out: &mut Vec<u8>) {
        let mut rest = fragment;
        loop {
            match memchr::memchr(b'\n', rest) {
                Some(at) => {
                    let line = &rest[..at];
                    qp_line(
                        line.strip_suffix(b"\r").unwrap_or(line),
                        self.column,
                        false,
                        out,
                    );
                    out.extend_from_slice(b"\r\n");
                    self.column = 0;
                    rest = &rest[at + 1..];
                }
                None => {
                    self.column = qp_line(rest, self.column, true, out);
                    return;
                }
            }
        }
    }

    /// `fragment` encoded from the start of a line, for [`QpStream::append_encoded`].
    pub fn encode_alone(fragment: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(fragment.len() + fragment.len() / 8 + 8);
        QpStream::new().push(fragment, &mut out);
        out
    }

    /// Append the output of [`QpStream::encode_alone`], after a soft break unless the current
    /// line is empty.
    pub fn append_encoded(&mut self, encoded: &[u8], out: &mut Vec<u8>) {
        if encoded.is_empty() {
            return;
        }
        if self.column > 0 {
            out.extend_from_slice(b"=\r\n");
        }
        out.extend_from_slice(encoded);
        self.column = match memchr::memrchr(b'\n', encoded) {
            Some(at) => encoded.len() - at - 1,
            None => encoded.len(),
        };
    }
}

/// Whether all eight bytes of `x` are printable ASCII (space included) other than `=`:
/// bytes quoted-printable copies as they are, mid-line.
#[inline]
fn all_literal(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let above_tilde = (x.wrapping_add(ONES) | x) & HIGH;
    let eq = x ^ (ONES * u64::from(b'='));
    let has_eq = eq.wrapping_sub(ONES) & !eq & HIGH;
    (below_space | above_tilde | has_eq) == 0
}

/// Encode `line` (no line break in it) starting at column `col`; returns the column it ends at.
/// `open_end`: the line may go on after `line`, so its last character keeps a column free for a
/// soft break.
fn qp_line(line: &[u8], mut col: usize, open_end: bool, out: &mut Vec<u8>) -> usize {
    let n = line.len();
    let mut i = 0usize;
    while i < n {
        // Eight literal bytes at a time while they fit before the next soft break.
        if !(col == 0 && line[i] == b'.') {
            let start = i;
            while col + 8 <= 75 && i + 8 <= n {
                let mut chunk = [0u8; 8];
                chunk.copy_from_slice(&line[i..i + 8]);
                if !all_literal(u64::from_le_bytes(chunk)) {
                    break;
                }
                i += 8;
                col += 8;
            }
            if i == n && i > start && line[n - 1] == b' ' {
                i -= 1; // whitespace ending a line is encoded below
                col -= 1;
            }
            out.extend_from_slice(&line[start..i]);
            if i == n {
                break;
            }
        }
        let b = line[i];
        let last = i + 1 == n;
        let literal = QP_LITERAL[b as usize]
            && !(last && (b == b' ' || b == b'\t'))
            && !(col == 0 && b == b'.');
        let width = if literal { 1 } else { 3 };
        // A soft break costs the `=` at the end of the line; the last token of a line may use
        // all 76 columns.
        let limit = if last && !open_end { 76 } else { 75 };
        if col + width > limit {
            out.extend_from_slice(b"=\r\n");
            col = 0;
            continue;
        }
        if literal {
            let end = n.min(i + (75 - col));
            let mut j = i + 1;
            while j < end && QP_LITERAL[line[j] as usize] {
                j += 1;
            }
            if j == n && j - 1 > i && matches!(line[j - 1], b' ' | b'\t') {
                j -= 1;
            }
            out.extend_from_slice(&line[i..j]);
            col += j - i;
            i = j;
        } else {
            out.extend_from_slice(&[b'=', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            col += 3;
            i += 1;
        }
    }
    col
}

/// Append `data` as base64 in lines of 76 characters, each ended by CRLF.
pub fn base64_lines(data: &[u8], out: &mut Vec<u8>) {
    let encoded = STANDARD.encode(data);
    for chunk in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
}

/// Replace every control character (C0, DEL, C1, and the Unicode line and paragraph
/// separators) by a space and trim: what is left can never start a new header line.
pub fn flatten(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.trim().to_string()
}

fn is_plain_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.contains("=?")
}

/// RFC 2047 "B" encoded words for `s`, separated by folding whitespace (`CRLF SP`). Each word
/// is at most 64 characters and holds whole UTF-8 characters.
pub fn encoded_words(s: &str) -> String {
    const MAX_BYTES: usize = 39; // 52 base64 characters + 12 of framing = 64
    let mut out = String::with_capacity(s.len() * 2 + 16);
    let mut start = 0;
    while start < s.len() {
        let mut end = (start + MAX_BYTES).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        if start > 0 {
            out.push_str("\r\n ");
        }
        out.push_str("=?utf-8?b?");
        STANDARD.encode_string(&s.as_bytes()[start..end], &mut out);
        out.push_str("?=");
        start = end;
    }
    out
}

/// A display name as a header phrase: a quoted string when it is short printable ASCII,
/// encoded words otherwise. Control characters become spaces first.
pub fn phrase(name: &str) -> String {
    let name = flatten(name);
    if is_plain_ascii(&name) && name.len() <= 60 {
        let mut out = String::with_capacity(name.len() + 2);
        out.push('"');
        for c in name.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    } else {
        encoded_words(&name)
    }
}

/// `"Name" <addr>` (or the bare address without a name) for From, To and Reply-To.
pub fn mailbox(name: Option<&str>, addr: &str) -> String {
    match name.map(flatten).filter(|n| !n.is_empty()) {
        Some(n) => format!("{} <{addr}>", phrase(&n)),
        None => addr.to_string(),
    }
}

/// An unstructured header value (Subject): printable ASCII folded at spaces, anything else as
/// encoded words. `name_len` is the length of the header name, for the first line's width.
pub fn unstructured(value: &str, name_len: usize) -> String {
    let value = flatten(value);
    if is_plain_ascii(&value)
        && let Some(folded) = fold_at_spaces(&value, name_len + 2)
    {
        return folded;
    }
    encoded_words(&value)
}

/// Fold `value` at spaces so no line passes 78 octets; `None` when a single word is too long
/// to fit in a line.
fn fold_at_spaces(value: &str, first_used: usize) -> Option<String> {
    if first_used + value.len() <= 78 {
        return Some(value.to_string());
    }
    let mut out = String::with_capacity(value.len() + 16);
    let mut col = first_used;
    for (k, word) in value.split(' ').enumerate() {
        if k > 0 {
            if col + 1 + word.len() > 78 {
                out.push_str("\r\n");
                col = 0;
            }
            out.push(' ');
            col += 1;
        }
        if col + word.len() > 78 {
            return None;
        }
        out.push_str(word);
        col += word.len();
    }
    Some(out)
}

/// Check that `addr` can go into a header and an SMTP command: the one address rule of the list
/// reader and the message builder ([`crate::list::address::sendable`]).
pub fn check_address(addr: &str) -> Result<(), String> {
    crate::list::address::sendable(addr)
}

/// Fold a structured header value at the given separators (`"; "` or `", "`) so each line stays
/// within 78 octets where the pieces allow it.
pub fn fold_list(pieces: &[String], sep: &str, first_used: usize) -> String {
    let mut out = String::new();
    let mut col = first_used;
    for (k, p) in pieces.iter().enumerate() {
        if k > 0 {
            out.push_str(sep.trim_end());
            col += sep.trim_end().len();
            if col + 1 + p.len() > 78 {
                out.push_str("\r\n ");
                col = 1;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(p);
        col += p.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(s: &str) -> String {
        let mut out = Vec::new();
        quoted_printable(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn qp_decode(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let lines: Vec<&str> = s.split("\r\n").collect();
        for (k, line) in lines.iter().enumerate() {
            let (body, soft) = match line.strip_suffix('=') {
                Some(b) => (b, true),
                None => (*line, false),
            };
            let bytes = body.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' {
                    out.push(u8::from_str_radix(&body[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            if !soft && k + 1 < lines.len() {
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn qp_round_trips_and_keeps_lines_short() {
        let samples = [
            "plain text",
            "Grüße aus Zürich — “quotes” €",
            "trailing space \nnext\tline\t\n",
            ".starts with a dot\n.again",
            "a=b and =?utf-8?",
            &"x".repeat(500),
            &"é".repeat(200),
            &"ab ".repeat(100),
            "",
            "\n\n",
            "lone\rcr",
        ];
        for s in samples {
            let enc = qp(s);
            for line in enc.split("\r\n") {
                assert!(line.len() <= 76, "{line:?} from {s:?}");
                assert!(!line.ends_with(' ') && !line.ends_with('\t'), "{line:?}");
                assert!(!line.starts_with('.'), "{line:?}");
            }
            assert!(enc.bytes().all(|b| b.is_ascii()));
            assert!(!enc.replace("\r\n", "").contains(['\r', '\n']));
            assert_eq!(qp_decode(&enc), s.as_bytes(), "{enc}");
        }
    }

    #[test]
    fn qp_round_trips_random_text() {
        let alphabet = [
            "a", "b", " ", "\t", "=", ".", "\n", "é", "\r\n", "xyz12345", "\u{1}",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 300) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let enc = qp(&s);
            for line in enc.split("\r\n") {
                assert!(line.len() <= 76, "{line:?}");
                assert!(
                    !line.ends_with([' ', '\t']) && !line.starts_with('.'),
                    "{line:?}"
                );
            }
            let expected = s.replace("\r\n", "\n");
            assert_eq!(qp_decode(&enc), expected.as_bytes(), "{s:?}");
        }
    }

    #[test]
    fn qp_in_fragments_round_trips_and_keeps_lines_short() {
        let alphabet = [
            "a",
            "b",
            " ",
            "\t",
            "=",
            ".",
            "\n",
            "é",
            "xyz12345",
            "\u{1}",
            "lmnopqrstuvw",
        ];
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let mut stream = QpStream::new();
            let mut enc = Vec::new();
            let mut whole = String::new();
            for _ in 0..next() % 8 {
                let mut fragment = String::new();
                for _ in 0..next() % 120 {
                    fragment.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
                // Some fragments are encoded alone and appended, as shared lines are.
                if next() % 2 == 0 {
                    let alone = QpStream::encode_alone(fragment.as_bytes());
                    stream.append_encoded(&alone, &mut enc);
                } else {
                    stream.push(fragment.as_bytes(), &mut enc);
                }
                whole.push_str(&fragment);
            }
            let enc = String::from_utf8(enc).unwrap();
            for line in enc.split("\r\n") {
                assert!(line.len() <= 76, "{line:?} of {whole:?}");
                assert!(
                    !line.ends_with([' ', '\t']) && !line.starts_with('.'),
                    "{line:?} of {whole:?}"
                );
            }
            assert!(!enc.replace("\r\n", "").contains(['\r', '\n']));
            assert_eq!(qp_decode(&enc), whole.as_bytes(), "{whole:?}");
        }
    }

    #[test]
    fn qp_line_of_exactly_76_needs_no_soft_break() {
        let s = "y".repeat(76);
        assert_eq!(qp(&s), s);
        let s = "y".repeat(77);
        assert_eq!(qp(&s), format!("{}=\r\nyy", "y".repeat(75)));
    }

    #[test]
    fn swar_literal_check_matches_the_table() {
        let mut rng_state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            let mut bytes = rng_state.to_le_bytes();
            if round % 2 == 0 {
                // Mostly printable, like real text.
                for b in &mut bytes {
                    *b = 0x20 + (*b % 0x60);
                }
            }
            let expected = bytes.iter().all(|&b| QP_LITERAL[b as usize] && b != b'\t');
            assert_eq!(
                all_literal(u64::from_le_bytes(bytes)),
                expected,
                "{bytes:?}"
            );
        }
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b, b'a', b'a', b'a', b'a', b'a', b'a', b'a']);
            assert_eq!(all_literal(x), QP_LITERAL[b as usize] && b != b'\t', "{b}");
        }
    }

    #[test]
    fn crlf_input_is_one_break() {
        assert_eq!(qp("a\r\nb\nc"), "a\r\nb\r\nc");
    }

    #[test]
    fn encoded_words_split_on_characters() {
        let s = "Ünïcödé ".repeat(20);
        let enc = encoded_words(&s);
        let mut decoded = Vec::new();
        for word in enc.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            let bytes = STANDARD.decode(inner).unwrap();
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "word splits a character"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), s);
    }

    #[test]
    fn phrases_quote_or_encode() {
        assert_eq!(phrase("Pat O'Brien"), "\"Pat O'Brien\"");
        assert_eq!(phrase("Doe, \"Jo\" \\"), "\"Doe, \\\"Jo\\\" \\\\\"");
        assert!(phrase("Zoë").starts_with("=?utf-8?b?"));
        assert_eq!(phrase("Eve\r\nBcc: x@y.z"), "\"Eve  Bcc: x@y.z\"");
        assert!(phrase("=?utf-8?q?x?=").starts_with("=?utf-8?b?"));
    }

    #[test]
    fn subjects_fold_at_spaces() {
        let s = "word ".repeat(40);
        let folded = unstructured(&s, "Subject".len());
        let mut first = true;
        for line in folded.split("\r\n") {
            let used = if first { "Subject: ".len() } else { 0 };
            assert!(used + line.len() <= 78, "{line:?}");
            first = false;
        }
        assert_eq!(folded.replace("\r\n", ""), s.trim());
        let long_word = "x".repeat(100);
        assert!(unstructured(&long_word, 7).starts_with("=?utf-8?b?"));
        assert_eq!(unstructured("News\nBcc: a@b.c", 7), "News Bcc: a@b.c");
    }

    #[test]
    fn addresses() {
        assert!(check_address("pat.o'brien+news@mail.example.org").is_ok());
        for bad in [
            "",
            "no-at",
            "a b@c.d",
            "a@b.c\r\nBcc: x@y.z",
            "<a@b.c>",
            "a@b..c",
            "zoë@example.org",
            "a@-b.c",
            ".a@b.c",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lists_fold() {
        let pieces: Vec<String> = (0..10)
            .map(|i| format!("<https://x.test/{i:030}>"))
            .collect();
        let folded = fold_list(&pieces, ", ", "List-Unsubscribe: ".len());
        for line in folded.split("\r\n") {
            assert!(line.len() <= 78, "{line}");
        }
    }
}
