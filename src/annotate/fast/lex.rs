//! The tokeniser of the byte-level passes: the part streamed through a
//! window buffer, markup tokens found with memchr, untouched bytes copied
//! through.

use crate::annotate::sheet::SheetError;
use memchr::memmem;
use quick_xml::events::BytesStart;
use std::io::{Read, Write};

/// Bytes read from the part at a time.
const CHUNK: usize = 1 << 18;

pub(super) fn xml_err(m: impl Into<String>) -> SheetError {
    SheetError::Xml(m.into())
}

/// One markup token, by its byte range in the window (valid until the next
/// call that reads).
#[derive(Clone, Copy, Debug)]
pub(super) enum Tok {
    /// `<name …>` or `<name …/>`; `name_end` is the end of the qualified name.
    Start {
        s: usize,
        e: usize,
        name_end: usize,
        empty: bool,
    },
    /// `</name>`; the name is `s + 2 .. name_end`.
    End {
        s: usize,
        name_end: usize,
    },
    /// Comment, CDATA, processing instruction, XML declaration.
    Other,
    Eof,
}

/// The input streamed through a window buffer; in a rewrite, every byte not
/// replaced is copied to `out` unchanged.
pub(super) struct Lexer<R, W> {
    pub(super) rd: R,
    pub(super) out: Option<W>,
    pub(super) buf: Vec<u8>,
    /// Next byte to look at.
    pub(super) pos: usize,
    /// Start of the bytes not yet copied to `out`.
    pub(super) raw_from: usize,
    pub(super) eof: bool,
}

impl<R: Read, W: Write> Lexer<R, W> {
    pub(super) fn new(rd: R, out: Option<W>) -> Self {
        Lexer {
            rd,
            out,
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            raw_from: 0,
            eof: false,
        }
    }

    /// Drop the window before `keep` (copying its unreplaced bytes to the
    /// output first) and read more. False at the end of the input.
    pub(super) fn more(&mut self, keep: usize) -> Result<bool, SheetError> {
        if self.eof {
            return Ok(false);
        }
        if let Some(out) = self.out.as_mut()
            && self.raw_from < keep
        {
            out.write_all(&self.buf[self.raw_from..keep])?;
            self.raw_from = keep;
        }
        self.buf.drain(..keep);
        self.pos -= keep;
        self.raw_from = self.raw_from.saturating_sub(keep);
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.rd.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e.into());
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Copy the unreplaced bytes before `upto` to the output.
    pub(super) fn emit_until(&mut self, upto: usize) -> std::io::Result<()> {
        if let Some(out) = self.out.as_mut()
            && self.raw_from < upto
        {
            out.write_all(&self.buf[self.raw_from..upto])?;
            self.raw_from = upto;
        }
        Ok(())
    }

    /// Write bytes of our own at the current copy point.
    pub(super) fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(out) = self.out.as_mut() {
            out.write_all(bytes)?;
        }
        Ok(())
    }

    /// The rest of the input, copied through (end of a rewrite).
    pub(super) fn finish(mut self) -> Result<Option<W>, SheetError> {
        while self.more(self.buf.len())? {}
        let len = self.buf.len();
        self.emit_until(len)?;
        if let Some(out) = self.out.as_mut() {
            out.flush()?;
        }
        Ok(self.out)
    }

    pub(super) fn next(&mut self) -> Result<Tok, SheetError> {
        loop {
            match memchr::memchr(b'<', &self.buf[self.pos..]) {
                Some(i) => {
                    self.pos += i;
                    break;
                }
                None => {
                    self.pos = self.buf.len();
                    if !self.more(self.pos)? {
                        return Ok(Tok::Eof);
                    }
                }
            }
        }
        loop {
            if let Some(t) = token_at(&self.buf, self.pos)? {
                return Ok(t);
            }
            if !self.more(self.pos)? {
                return Err(xml_err("工作表 XML 意外结束"));
            }
        }
    }

    /// After a row's start tag: skip to just past its end tag when nothing in
    /// between needs a look (no comment, CDATA, processing instruction or
    /// nested element of the same name). False leaves the position as it was.
    pub(super) fn skip_element(&mut self, f: &Finders) -> Result<bool, SheetError> {
        loop {
            let hay = &self.buf[self.pos..];
            let mut from = 0;
            let close = loop {
                match f.close.find(&hay[from..]) {
                    Some(i) => {
                        let at = from + i;
                        match hay.get(at + f.close_len) {
                            Some(b'>') | Some(b' ') | Some(b'\t') | Some(b'\r') | Some(b'\n') => {
                                break Some(at);
                            }
                            Some(_) => from = at + 1,
                            None => break None,
                        }
                    }
                    None => break None,
                }
            };
            if let Some(at) = close {
                let inner = &hay[..at];
                if has_markup(inner) || f.nested(inner) {
                    return Ok(false);
                }
                let Some(gt) = memchr::memchr(b'>', &hay[at..]) else {
                    return Ok(false);
                };
                self.pos += at + gt + 1;
                return Ok(true);
            }
            if !self.more(self.pos)? {
                return Ok(false);
            }
        }
    }
}

/// Needles for skipping a row: `</row` and `<row` (with the sheet's prefix).
pub(super) struct Finders {
    pub(super) close: memmem::Finder<'static>,
    pub(super) close_len: usize,
    pub(super) open: memmem::Finder<'static>,
    pub(super) open_len: usize,
}

impl Finders {
    pub(super) fn new(prefix: &str) -> Finders {
        let close = format!("</{prefix}row");
        let open = format!("<{prefix}row");
        Finders {
            close_len: close.len(),
            close: memmem::Finder::new(close.as_bytes()).into_owned(),
            open_len: open.len(),
            open: memmem::Finder::new(open.as_bytes()).into_owned(),
        }
    }

    pub(super) fn nested(&self, hay: &[u8]) -> bool {
        let mut from = 0;
        while let Some(i) = self.open.find(&hay[from..]) {
            let at = from + i;
            match hay.get(at + self.open_len) {
                Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n') | None => return true,
                Some(_) => from = at + 1,
            }
        }
        false
    }
}

/// Whether `hay` holds a comment, CDATA section, processing instruction or
/// declaration (`<!` or `<?`).
fn has_markup(hay: &[u8]) -> bool {
    memchr::memchr2_iter(b'!', b'?', hay).any(|i| i > 0 && hay[i - 1] == b'<')
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// The token starting at `buf[s] == b'<'`, or None when it is not complete
/// in `buf` yet.
fn token_at(buf: &[u8], s: usize) -> Result<Option<Tok>, SheetError> {
    let rest = &buf[s..];
    let find_from = |from: usize, needle: &[u8]| -> Option<usize> {
        if rest.len() < from {
            return None;
        }
        memmem::find(&rest[from..], needle).map(|i| s + from + i + needle.len())
    };
    if rest.len() < 2 {
        return Ok(None);
    }
    match rest[1] {
        b'!' => {
            if rest.starts_with(b"<!--") {
                Ok(find_from(4, b"-->").map(|_| Tok::Other))
            } else if rest.starts_with(b"<![CDATA[") {
                Ok(find_from(9, b"]]>").map(|_| Tok::Other))
            } else if b"<!--".starts_with(rest) || b"<![CDATA[".starts_with(rest) {
                // Could still be a comment or CDATA: wait for more.
                Ok(None)
            } else {
                Err(xml_err("不支持的标记（DOCTYPE）"))
            }
        }
        b'?' => Ok(find_from(2, b"?>").map(|_| Tok::Other)),
        b'/' => Ok(memchr::memchr(b'>', rest).map(|gt| {
            let name_end = rest[2..gt]
                .iter()
                .position(|&c| is_ws(c))
                .map(|p| s + 2 + p)
                .unwrap_or(s + gt);
            Tok::End { s, name_end }
        })),
        _ => {
            let mut i = 1;
            loop {
                let Some(j) = memchr::memchr3(b'>', b'"', b'\'', &rest[i..]) else {
                    return Ok(None);
                };
                let at = i + j;
                match rest[at] {
                    b'>' => {
                        let empty = at >= 2 && rest[at - 1] == b'/';
                        let name_end = rest[1..at]
                            .iter()
                            .position(|&c| is_ws(c) || c == b'/')
                            .map(|p| s + 1 + p)
                            .unwrap_or(s + at);
                        return Ok(Some(Tok::Start {
                            s,
                            e: s + at + 1,
                            name_end,
                            empty,
                        }));
                    }
                    q => match memchr::memchr(q, &rest[at + 1..]) {
                        Some(k) => i = at + 1 + k + 1,
                        None => return Ok(None),
                    },
                }
            }
        }
    }
}

/// The tag's content (between `<` and `>` or `/>`) as a quick-xml start.
pub(super) fn start_of(
    buf: &[u8],
    s: usize,
    e: usize,
    empty: bool,
) -> Result<BytesStart<'_>, SheetError> {
    let end = if empty { e - 2 } else { e - 1 };
    let content =
        std::str::from_utf8(&buf[s + 1..end]).map_err(|e| xml_err(format!("编码错误：{e}")))?;
    let name_len = content.bytes().take_while(|c| !is_ws(*c)).count();
    Ok(BytesStart::from_content(content, name_len))
}
