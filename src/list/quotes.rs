//! Following the quoting of CSV bytes on their way to the parser, to say where a quoted value
//! that never closes began, and on which line each record starts.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The longest quoted value accepted: beyond this, a missing closing quote is assumed, which
/// keeps a broken file from being read into memory whole.
pub(super) const MAX_QUOTED: u64 = 1 << 20;

/// Where a quoted value opened that never closed.
#[derive(Debug, Clone)]
pub(super) struct QuoteOpen {
    pub(super) line: u64,
    pub(super) column: usize,
    pub(super) snippet: String,
    pub(super) too_long: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: the end of the value, or the first half of `""`.
    QuoteInQuoted,
}

/// Follows the quoting of the CSV bytes as they are read (the same rules as the `csv` crate:
/// a quote opens a value only at its start, `""` inside is a quote), to report where an
/// unterminated quoted value began.
pub(super) struct Tracker {
    delimiter: u8,
    state: QuoteState,
    line: u64,
    /// The current line so far (capped), for the snippet of an error.
    line_text: Vec<u8>,
    /// Where the current (or last) quoted value opened.
    open: Opened,
    quoted_len: u64,
    pub(super) eof: bool,
    pub(super) too_long: bool,
    /// The next byte starts a record, unless it ends an empty line (which the CSV parser skips).
    at_record_start: bool,
    /// Lines on which records start that the CSV parser has not returned yet (bounded by its
    /// read-ahead buffer).
    pub(super) record_starts: VecDeque<u64>,
}

const SNIPPET_MAX: usize = 200;

/// Where a quoted value opened.
#[derive(Default)]
struct Opened {
    line: u64,
    column: usize,
    /// The text of that line (capped at [`SNIPPET_MAX`] bytes).
    text: Vec<u8>,
    /// Whether that line has ended (its text is complete).
    line_ended: bool,
}

impl Tracker {
    pub(super) fn new(delimiter: u8) -> Self {
        Tracker {
            delimiter,
            state: QuoteState::FieldStart,
            line: 1,
            line_text: Vec::with_capacity(SNIPPET_MAX),
            open: Opened::default(),
            quoted_len: 0,
            eof: false,
            too_long: false,
            at_record_start: true,
            record_starts: VecDeque::new(),
        }
    }

    pub(super) fn feed(&mut self, bytes: &[u8]) {
        use QuoteState::*;
        for &b in bytes {
            let newline = b == b'\n';
            if self.at_record_start && !newline {
                self.record_starts.push_back(self.line);
                self.at_record_start = false;
            }
            self.state = match self.state {
                FieldStart if b == b'"' => {
                    let o = &mut self.open;
                    o.line = self.line;
                    o.column = String::from_utf8_lossy(&self.line_text).chars().count() + 1;
                    o.text.clear();
                    o.text.extend_from_slice(&self.line_text);
                    o.line_ended = false;
                    self.quoted_len = 0;
                    Quoted
                }
                FieldStart | Unquoted | QuoteInQuoted if b == self.delimiter || newline => {
                    FieldStart
                }
                FieldStart | Unquoted => Unquoted,
                Quoted => {
                    self.quoted_len += 1;
                    if b == b'"' { QuoteInQuoted } else { Quoted }
                }
                QuoteInQuoted if b == b'"' => Quoted,
                QuoteInQuoted => Unquoted,
            };
            if self.state == Quoted || self.state == QuoteInQuoted {
                let o = &mut self.open;
                if newline {
                    o.line_ended = true;
                } else if o.text.len() < SNIPPET_MAX && !o.line_ended {
                    o.text.push(b);
                }
            }
            if newline {
                if self.state == FieldStart {
                    self.at_record_start = true;
                }
                self.line += 1;
                self.line_text.clear();
            } else if self.line_text.len() < SNIPPET_MAX {
                self.line_text.push(b);
            }
        }
        if self.state == Quoted && self.quoted_len > MAX_QUOTED {
            self.too_long = true;
        }
    }

    /// The unclosed quote, once the input ended inside one (or one ran on too long).
    pub(super) fn unterminated(&self) -> Option<QuoteOpen> {
        let ended_inside = self.eof && self.state == QuoteState::Quoted;
        if !(ended_inside || self.too_long) {
            return None;
        }
        Some(QuoteOpen {
            line: self.open.line,
            column: self.open.column,
            snippet: String::from_utf8_lossy(&self.open.text).into_owned(),
            too_long: self.too_long,
        })
    }
}

/// A reader that turns CRLF and lone CR line endings into LF (so the CSV parser counts lines
/// right in files from Windows and old Macs) and shows every byte to a [`Tracker`] on its way
/// to the CSV parser.
pub(super) struct Tracked<R> {
    pub(super) inner: R,
    pub(super) tracker: Tracker,
    /// The last byte read was a CR (already turned into LF): drop an LF right after it.
    pub(super) after_cr: bool,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.tracker.too_long {
                return Ok(0);
            }
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.tracker.eof = true;
                return Ok(0);
            }
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[out] = if b == b'\r' { b'\n' } else { b };
                out += 1;
            }
            if out > 0 {
                self.tracker.feed(&buf[..out]);
                return Ok(out);
            }
        }
    }
}
