//! One recipient's copy of a part (the HTML or the plain text), kept as the runs of text every
//! recipient shares and the pieces filled in for this one.
//!
//! Most of an issue is the same for every member. Keeping the shared text shared lets the
//! message layer encode it once per send instead of once per member (see
//! `message::encode::QpStream`).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// How a text's line breaks sit, for collapsing blank lines across pieces.
#[derive(Debug, Clone, Copy)]
struct Breaks {
    /// How many `\n` the text starts with, and ends with.
    leading: usize,
    trailing: usize,
    /// Nothing but line breaks (or nothing at all).
    only: bool,
    /// Three line breaks in a row somewhere.
    blank_run: bool,
}

impl Breaks {
    fn of(text: &str) -> Breaks {
        let leading = text.bytes().take_while(|&b| b == b'\n').count();
        Breaks {
            leading,
            trailing: text.bytes().rev().take_while(|&b| b == b'\n').count(),
            only: leading == text.len(),
            blank_run: text.contains("\n\n\n"),
        }
    }

    /// Line breaks at the end once this text follows `carried` of them.
    fn carried_after(&self, carried: usize) -> usize {
        if self.only {
            carried + self.leading
        } else {
            self.trailing
        }
    }
}

/// Compiled output that holds no placeholder: the same for every recipient.
#[derive(Debug)]
pub struct SharedText {
    text: String,
    breaks: Breaks,
    /// The text in a transfer encoding, computed once by whoever sends it, with the key of
    /// the encoder that made it.
    encoded: OnceLock<(u64, Vec<u8>)>,
}

impl SharedText {
    pub(crate) fn new(text: String) -> Self {
        SharedText {
            breaks: Breaks::of(&text),
            text,
            encoded: OnceLock::new(),
        }
    }

    /// The text as it is.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text encoded by `encode`. The first encoder to ask (named by `key`, unique to it)
    /// has its result kept and gets it back on every later call; any other encoder gets a fresh
    /// encoding each time, so one encoder never sees another's bytes.
    pub fn encoded(&self, key: u64, encode: impl Fn(&str) -> Vec<u8>) -> Cow<'_, [u8]> {
        let (owner, bytes) = self.encoded.get_or_init(|| (key, encode(&self.text)));
        if *owner == key {
            Cow::Borrowed(bytes)
        } else {
            Cow::Owned(encode(&self.text))
        }
    }
}

/// One piece of a recipient's part.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Text every recipient shares.
    Shared(Arc<SharedText>),
    /// Text filled in for this recipient.
    Own(String),
}

impl Piece {
    pub fn text(&self) -> &str {
        match self {
            Piece::Shared(s) => s.text(),
            Piece::Own(s) => s,
        }
    }
}

/// A recipient's part: its pieces in order.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pieces: Vec<Piece>,
}

impl Body {
    pub(crate) fn from_pieces(pieces: Vec<Piece>) -> Self {
        Body { pieces }
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The whole text: borrowed when the part is one piece.
    pub fn text(&self) -> Cow<'_, str> {
        match self.pieces.as_slice() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(one.text()),
            many => {
                let mut s = String::with_capacity(self.len());
                for p in many {
                    s.push_str(p.text());
                }
                Cow::Owned(s)
            }
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.pieces.iter().map(|p| p.text().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(|p| p.text().is_empty())
    }

    /// At most one blank line in a row (two `\n`), across pieces. Shared pieces stay shared
    /// unless they themselves hold a longer run or follow line breaks they would extend.
    pub(crate) fn collapse_blank_lines(self) -> Self {
        let mut out = Vec::with_capacity(self.pieces.len());
        // Line breaks at the end of what is kept so far.
        let mut carried = 0usize;
        for piece in self.pieces {
            let breaks = match &piece {
                Piece::Shared(s) => s.breaks,
                Piece::Own(s) => Breaks::of(s),
            };
            if !breaks.blank_run && carried + breaks.leading <= 2 {
                carried = breaks.carried_after(carried);
                out.push(piece);
                continue;
            }
            let text = collapse(piece.text(), carried);
            if text.is_empty() {
                continue;
            }
            carried = Breaks::of(&text).carried_after(carried);
            out.push(Piece::Own(text));
        }
        Body { pieces: out }
    }
}

/// `text` with no more than two `\n` in a row, counting `carried` line breaks before it.
fn collapse(text: &str, carried: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut newlines = carried;
    for c in text.chars() {
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        out.push(c);
    }
    out
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body {
            pieces: vec![Piece::Own(text)],
        }
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body::from(text.to_string())
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.pieces {
            f.write_str(p.text())?;
        }
        Ok(())
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Body {}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(text: &str) -> Piece {
        Piece::Shared(Arc::new(SharedText::new(text.to_string())))
    }

    fn own(text: &str) -> Piece {
        Piece::Own(text.to_string())
    }

    fn collapse_whole(text: &str) -> String {
        collapse(text, 0)
    }

    #[test]
    fn blank_lines_collapse_across_pieces_as_in_the_whole_text() {
        let cases: Vec<Vec<Piece>> = vec![
            vec![shared("a\n\n"), own("\n"), shared("\nb\n")],
            vec![shared("a\n"), own(""), shared("\n\n\nb\n")],
            vec![
                own("a\n\n\n\n"),
                shared("b\n\n"),
                own("\n"),
                own("\n"),
                shared("c"),
            ],
            vec![shared("\n\n"), shared("\n"), own("x\n\n\n")],
            vec![shared("a\n"), shared("b\n")],
        ];
        for pieces in cases {
            let whole: String = pieces.iter().map(Piece::text).collect();
            let body = Body::from_pieces(pieces).collapse_blank_lines();
            assert_eq!(body.to_string(), collapse_whole(&whole), "{whole:?}");
        }
    }

    #[test]
    fn a_shared_piece_that_needs_no_change_stays_shared() {
        let body = Body::from_pieces(vec![shared("a\n\n"), own("x\n"), shared("b\n")])
            .collapse_blank_lines();
        assert!(matches!(body.pieces()[0], Piece::Shared(_)));
        assert!(matches!(body.pieces()[2], Piece::Shared(_)));
    }

    #[test]
    fn only_the_first_encoder_of_shared_lines_keeps_its_bytes() {
        let lines = SharedText::new("abc\n".to_string());
        let upper = |t: &str| t.to_uppercase().into_bytes();
        let reversed = |t: &str| t.bytes().rev().collect::<Vec<u8>>();
        assert_eq!(&*lines.encoded(1, upper), b"ABC\n");
        assert!(matches!(
            lines.encoded(1, reversed),
            Cow::Borrowed(b"ABC\n")
        ));
        assert_eq!(&*lines.encoded(2, reversed), b"\ncba");
    }
}
