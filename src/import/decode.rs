//! Text encodings of the files after-sales teams have: UTF-8 with or without a BOM, GB18030
//! (what Excel on a Chinese Windows writes, GBK included), and UTF-16 with a BOM (Excel's
//! "Unicode text"). Detected from the first bytes, then decoded as a stream so that a large
//! file never has to fit in memory.

use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Utf16Be,
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
        })
    }
}

/// How much of the file decides its encoding.
const SNIFF: usize = 256 * 1024;

/// Why a file's text could not be read.
#[derive(Debug)]
pub enum DecodeError {
    Io(io::Error),
    /// Neither UTF-8 nor GB18030; `line` is where the first impossible byte is.
    Unknown {
        line: u64,
    },
    /// NUL bytes: a binary file, or UTF-16 saved without its BOM.
    Binary {
        line: u64,
    },
    /// Lines in UTF-8 and lines in GB18030 in one file (rows pasted from two exports).
    Mixed {
        line: u64,
        gb_line: u64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Io(e) => write!(f, "cannot read the file: {e}"),
            DecodeError::Unknown { .. } => write!(
                f,
                "unknown text encoding (neither UTF-8 nor GB18030); save the file as \"CSV UTF-8\""
            ),
            DecodeError::Binary { .. } => write!(
                f,
                "not a text file (it contains NUL bytes: binary, or UTF-16 without a BOM); save it as \"CSV UTF-8\""
            ),
            DecodeError::Mixed { gb_line, .. } => write!(
                f,
                "mixed text encodings: this line is UTF-8 but line {gb_line} is GB18030; save the whole file again as \"CSV UTF-8\""
            ),
        }
    }
}

impl DecodeError {
    pub fn line(&self) -> Option<u64> {
        match self {
            DecodeError::Io(_) => None,
            DecodeError::Unknown { line }
            | DecodeError::Binary { line }
            | DecodeError::Mixed { line, .. } => Some(*line),
        }
    }
}

/// Opens a file as UTF-8 text, whatever its encoding, and says which encoding it was.
pub fn open_text(path: &Path) -> Result<(Box<dyn Read + Send>, TextEncoding), DecodeError> {
    let file = File::open(path).map_err(DecodeError::Io)?;
    text_reader(Box::new(file))
}

/// The same for bytes already in memory or any other reader.
pub fn text_reader(
    mut inner: Box<dyn Read + Send>,
) -> Result<(Box<dyn Read + Send>, TextEncoding), DecodeError> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut inner).take(SNIFF as u64).read_to_end(&mut head).map_err(DecodeError::Io)?;
    let at_end = head.len() < SNIFF;
    let (encoding, bom_len) = detect(&head, at_end)?;
    let rest: Box<dyn Read + Send> = Box::new(Cursor::new(head.split_off(bom_len)).chain(inner));
    let reader: Box<dyn Read + Send> = match encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => rest,
        TextEncoding::Gb18030 => Box::new(Transcoder::new(rest, GB18030)),
        TextEncoding::Utf16Le => Box::new(Transcoder::new(rest, UTF_16LE)),
        TextEncoding::Utf16Be => Box::new(Transcoder::new(rest, UTF_16BE)),
    };
    Ok((reader, encoding))
}

fn detect(head: &[u8], at_end: bool) -> Result<(TextEncoding, usize), DecodeError> {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((TextEncoding::Utf8Bom, 3));
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Ok((TextEncoding::Utf16Le, 2));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Ok((TextEncoding::Utf16Be, 2));
    }
    let line_at = |pos: usize| head[..pos].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    if let Some(pos) = head.iter().position(|&b| b == 0) {
        // A stray NUL inside one field is that row's problem; many of them is a binary file.
        let nuls = head.iter().filter(|&&b| b == 0).count();
        if nuls * 20 > head.len() {
            return Err(DecodeError::Binary { line: line_at(pos) });
        }
    }
    let utf8_ok = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut by the end of the sample is not an error.
        Err(e) => !at_end && e.error_len().is_none(),
    };
    if utf8_ok {
        return Ok((TextEncoding::Utf8, 0));
    }
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    // The decoder writes only into the capacity it is given, and asks for its worst case
    // (a single byte can become three in UTF-8).
    let room = decoder.max_utf8_buffer_length_without_replacement(head.len()).unwrap_or(head.len() * 4 + 16);
    let mut out = String::with_capacity(room);
    let (result, read) = decoder.decode_to_string_without_replacement(head, &mut out, at_end);
    match result {
        DecoderResult::InputEmpty => match mixed(head) {
            Some((line, gb_line)) => Err(DecodeError::Mixed { line, gb_line }),
            None => Ok((TextEncoding::Gb18030, 0)),
        },
        DecoderResult::Malformed(bad, _) => {
            let pos = read.saturating_sub(bad as usize);
            Err(DecodeError::Unknown { line: line_at(pos) })
        }
        DecoderResult::OutputFull => unreachable!("the string was given the decoder's worst case"),
    }
}

/// In a sample that is not UTF-8 as a whole: the first line that is plainly UTF-8 Chinese (at
/// least two three-byte characters, which GB18030 text almost never forms by chance) and the
/// first line that is not UTF-8 at all.
fn mixed(head: &[u8]) -> Option<(u64, u64)> {
    let (mut utf8, mut other) = (None, None);
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        if utf8.is_none() && utf8_chinese(line) {
            utf8 = Some(i as u64 + 1);
        } else if other.is_none() && std::str::from_utf8(line).is_err() {
            other = Some(i as u64 + 1);
        }
        if let (Some(u), Some(o)) = (utf8, other) {
            return Some((u, o));
        }
    }
    None
}

/// A line that is valid UTF-8 with at least two three-byte characters (Chinese, as UTF-8
/// writes it).
fn utf8_chinese(line: &[u8]) -> bool {
    line.iter().any(|b| *b >= 0xE0)
        && std::str::from_utf8(line).is_ok_and(|t| t.chars().filter(|c| c.len_utf8() == 3).count() >= 2)
}

/// A UTF-8 line found in a GB18030 file past the sample that decided the encoding.
#[derive(Debug)]
pub struct MixedLine {
    pub line: u64,
}

impl fmt::Display for MixedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mixed text encodings: this line is UTF-8 but the file is GB18030; save the whole file again as \"CSV UTF-8\""
        )
    }
}

impl std::error::Error for MixedLine {}

/// Watches the raw lines of a GB18030 stream for UTF-8 ones.
#[derive(Default)]
struct LineWatch {
    /// Lines ended so far.
    lines: u64,
    /// The current line's bytes so far (up to a limit: a longer line is not judged).
    carry: Vec<u8>,
    too_long: bool,
}

impl LineWatch {
    const MAX_LINE: usize = 64 * 1024;

    /// The number of the first UTF-8 line in `chunk`, if any.
    fn feed(&mut self, chunk: &[u8]) -> Option<u64> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.add(&rest[..end]);
            let found = !self.too_long && utf8_chinese(&self.carry);
            self.lines += 1;
            self.carry.clear();
            self.too_long = false;
            if found {
                return Some(self.lines);
            }
            rest = &rest[end + 1..];
        }
        self.add(rest);
        None
    }

    fn add(&mut self, bytes: &[u8]) {
        if self.carry.len() + bytes.len() > Self::MAX_LINE {
            self.too_long = true;
        } else {
            self.carry.extend_from_slice(bytes);
        }
    }
}

/// A reader that turns another encoding into UTF-8 as it goes, and fails (rather than putting
/// in replacement characters) where the input is not valid in that encoding.
struct Transcoder<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    consumed: u64,
    /// For GB18030: UTF-8 lines further down than the sample that decided the encoding.
    watch: Option<LineWatch>,
}

impl<R: Read> Transcoder<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            watch: (encoding == GB18030).then(LineWatch::default),
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            in_start: 0,
            in_end: 0,
            output: vec![0; 192 * 1024 + 16],
            out_start: 0,
            out_end: 0,
            eof: false,
            consumed: 0,
        }
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.eof && self.in_start == self.in_end {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                if let Some(line) = self.watch.as_mut().and_then(|w| w.feed(&self.input[..n])) {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, MixedLine { line }));
                }
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.in_start..self.in_end],
                &mut self.output,
                self.eof,
            );
            self.in_start += read;
            self.consumed += read as u64;
            self.out_start = 0;
            self.out_end = written;
            match result {
                DecoderResult::Malformed(bad, _) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "not valid in this file's encoding near byte {}",
                            self.consumed.saturating_sub(u64::from(bad))
                        ),
                    ))
                }
                DecoderResult::InputEmpty | DecoderResult::OutputFull => {}
            }
            if written == 0 && self.eof && self.in_start == self.in_end {
                return Ok(0);
            }
        }
    }
}

/// Reads all lines of a text reader; a helper for small files (users, JSON).
pub fn read_all(reader: Box<dyn Read + Send>) -> io::Result<String> {
    let mut s = String::new();
    BufReader::new(reader).read_to_string(&mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: Vec<u8>) -> (String, TextEncoding) {
        let (r, enc) = text_reader(Box::new(Cursor::new(bytes))).unwrap();
        (read_all(r).unwrap(), enc)
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("退款编号,x\n".into()), ("退款编号,x\n".into(), TextEncoding::Utf8));
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("退款编号\n".as_bytes());
        assert_eq!(decode(b), ("退款编号\n".into(), TextEncoding::Utf8Bom));
    }

    #[test]
    fn gb18030_as_chinese_excel_writes_it() {
        let (bytes, _, _) = GB18030.encode("退款编号,买家会员名称\n张三,李四\n");
        assert_eq!(decode(bytes.into_owned()).1, TextEncoding::Gb18030);
        let (bytes, _, _) = GB18030.encode("退款编号,买家会员名称\n");
        assert_eq!(decode(bytes.into_owned()).0, "退款编号,买家会员名称\n");
    }

    #[test]
    fn utf16_with_bom() {
        let mut b = vec![0xFF, 0xFE];
        for u in "sku\tqty\n甲\t1\n".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(b), ("sku\tqty\n甲\t1\n".into(), TextEncoding::Utf16Le));
    }

    #[test]
    fn garbage_is_refused_with_its_line() {
        let mut b = b"a,b\nc,d\n".to_vec();
        b.extend_from_slice(&[0x81, 0x20, 0xFF, 0xFF, b'\n']);
        let err = text_reader(Box::new(Cursor::new(b))).err().unwrap();
        assert!(matches!(err, DecodeError::Unknown { line: 3 }), "{err:?}");
        let utf16_no_bom: Vec<u8> = "sku,qty\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert!(matches!(
            text_reader(Box::new(Cursor::new(utf16_no_bom))).err().unwrap(),
            DecodeError::Binary { .. }
        ));
    }

    #[test]
    fn large_gb18030_streams_across_buffers() {
        let text: String = (0..50_000).map(|i| format!("退货{i},张三\n")).collect();
        let (bytes, _, _) = GB18030.encode(&text);
        let (out, enc) = decode(bytes.into_owned());
        assert_eq!(enc, TextEncoding::Gb18030);
        assert_eq!(out, text);
    }
}
