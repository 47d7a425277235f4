//! Decoding list files: deciding their encoding and turning them into UTF-8 as they are read.
//!
//! Both steps use fixed-size buffers, so memory does not grow with the file.

use std::io::{self, Read};
use std::path::Path;

use encoding_rs::{Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::reader::located;
use crate::diagnostic::SourceError;

/// Decide how the file is encoded, reading it once in chunks (O(1) memory).
pub(super) fn sniff_encoding(
    path: &Path,
    mut file: impl Read,
) -> Result<(&'static Encoding, &'static str), SourceError> {
    let read_err = |e: io::Error| SourceError::file(path, format!("cannot read the list: {e}"));
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    // the first few bytes, for byte order marks and file signatures
    while filled < 4 {
        let n = file.read(&mut buf[filled..]).map_err(read_err)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let start = &buf[..filled];
    if start.starts_with(&[0xFF, 0xFE]) {
        return Ok((UTF_16LE, "UTF-16LE"));
    }
    if start.starts_with(&[0xFE, 0xFF]) {
        return Ok((UTF_16BE, "UTF-16BE"));
    }
    if start.starts_with(b"PK\x03\x04") || start.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(
            SourceError::file(path, "this is a spreadsheet workbook, not a CSV file")
                .with_hint("save it from the spreadsheet as \"CSV UTF-8\""),
        );
    }
    let bom = start.starts_with(&[0xEF, 0xBB, 0xBF]);

    // Scan for NUL bytes and UTF-8 validity, carrying an incomplete character across chunks.
    let mut line: u64 = 1;
    let mut carry = 0usize;
    let mut utf8 = true;
    loop {
        let chunk = &buf[..filled];
        if let Some(i) = chunk.iter().position(|&b| b == 0) {
            let at = line + chunk[..i].iter().filter(|&&b| b == b'\n').count() as u64;
            return Err(located(
                path,
                at,
                "the file contains NUL bytes: it is not a text file",
            )
            .with_hint("export the list from the spreadsheet as \"CSV UTF-8\""));
        }
        if utf8 {
            match std::str::from_utf8(chunk) {
                Ok(_) => carry = 0,
                Err(e) if e.error_len().is_none() => carry = chunk.len() - e.valid_up_to(),
                Err(e) => {
                    if bom {
                        let at = line
                            + chunk[..e.valid_up_to()]
                                .iter()
                                .filter(|&&b| b == b'\n')
                                .count() as u64;
                        return Err(located(
                            path,
                            at,
                            "the file starts with a UTF-8 byte order mark but is not valid UTF-8",
                        )
                        .with_hint("save the list again as \"CSV UTF-8\""));
                    }
                    utf8 = false;
                }
            }
        }
        line += chunk[..filled - carry]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        // keep the incomplete character at the front and read on
        buf.copy_within(filled - carry..filled, 0);
        filled = carry;
        let n = file.read(&mut buf[filled..]).map_err(read_err)?;
        if n == 0 {
            if carry > 0 && utf8 {
                if bom {
                    return Err(located(
                        path,
                        line,
                        "the file ends in the middle of a UTF-8 character",
                    ));
                }
                utf8 = false;
            }
            break;
        }
        filled += n;
    }
    Ok(match (utf8, bom) {
        (true, true) => (UTF_8, "UTF-8 with BOM"),
        (true, false) => (UTF_8, "UTF-8"),
        (false, _) => (WINDOWS_1252, "Windows-1252"),
    })
}

/// Turns bytes in some encoding into UTF-8 as they are read, with a fixed-size buffer.
pub(super) struct Transcoder<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    pub(super) fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 32 * 1024].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            output: vec![0; 32 * 1024].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        while self.out_start == self.out_end && !self.finished {
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_start..self.in_end],
                &mut self.output,
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && result == encoding_rs::CoderResult::InputEmpty {
                self.finished = true;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.refill()?;
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}
