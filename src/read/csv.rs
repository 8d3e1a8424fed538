//! csv files: UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text")
//! and GBK/GB18030 (what Chinese Excel writes). Every value stays text.
//! Tab-separated text (also when saved under an .xls name) is read the same
//! way, `NULL` being an empty cell and a leading `'` dropped.
//!
//! Row numbers are the ones a spreadsheet shows: one row per record, a quoted
//! cell with a line break stays one row, and blank lines count as rows.

use super::sheet_data::SheetData;
use super::{ReadError, file_label, read_failed};
use crate::model::Cell;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Decode the bytes: UTF-8 when valid (BOM dropped), UTF-16 with a BOM,
/// else GB18030 (a superset of GBK).
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return encoding_rs::UTF_16LE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return encoding_rs::UTF_16BE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tabs = first.matches('\t').count();
    let commas = first.matches(',').count();
    let semis = first.matches(';').count();
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

fn row_starts(b: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'\r' if !quoted => {
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i + 1);
            }
            b'\n' if !quoted => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// A csv file, ready to be walked record by record: its decoded text held
/// whole, or its file decoded again in pieces each time it is walked (a
/// 150 MB GBK roster is never held whole, neither as bytes nor as text).
pub(crate) struct CsvText {
    source: Source,
    delim: u8,
    /// The sheet name a spreadsheet would show: the file name's stem.
    pub name: String,
}

enum Source {
    Text {
        text: String,
        /// Byte offsets where a spreadsheet row starts: after every line
        /// end that is not inside a quoted cell (the csv reader's own line
        /// count skips blank lines and counts line breaks inside cells).
        starts: Vec<usize>,
    },
    /// The file at `path`, without a byte order mark, in `encoding`.
    File {
        path: PathBuf,
        encoding: &'static encoding_rs::Encoding,
    },
}

/// How many bytes of the file are read and decoded at a time.
const PIECE: usize = 1 << 16;

/// The encoding [`decode`] takes for a file without a byte order mark:
/// UTF-8 when every byte is, else GB18030.
fn encoding_of(f: &mut impl Read) -> std::io::Result<&'static encoding_rs::Encoding> {
    let mut dec = encoding_rs::UTF_8.new_decoder_without_bom_handling();
    let mut buf = vec![0u8; PIECE];
    let mut out = vec![0u8; PIECE * 3 + 16];
    loop {
        let n = read_some(f, &mut buf)?;
        let last = n == 0;
        let mut src = &buf[..n];
        loop {
            let (res, read, _) = dec.decode_to_utf8_without_replacement(src, &mut out, last);
            src = &src[read..];
            match res {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(..) => return Ok(encoding_rs::GB18030),
            }
        }
        if last {
            return Ok(encoding_rs::UTF_8);
        }
    }
}

/// `f.read(buf)`, retried when interrupted.
fn read_some(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The decoded text of a file, a piece at a time, as the csv reader asks
/// for it; only the text from the record being read on is kept. It also
/// finds where spreadsheet rows start, as [`row_starts`] does over the
/// whole text.
struct Window<R> {
    src: R,
    dec: encoding_rs::Decoder,
    raw: Vec<u8>,
    piece: String,
    eof: bool,
    /// Decoded text from byte `base` of the whole text on.
    text: Vec<u8>,
    base: usize,
    /// Bytes of the whole text given to the csv reader.
    served: usize,
    /// Bytes of the whole text looked at for row starts, and whether that
    /// point is inside a quoted cell.
    scanned: usize,
    quoted: bool,
    /// Row starts found and not yet passed, and how many were passed.
    starts: VecDeque<usize>,
    passed: u32,
}

impl<R: Read> Window<R> {
    fn new(src: R, encoding: &'static encoding_rs::Encoding) -> Self {
        Window {
            src,
            dec: encoding.new_decoder_without_bom_handling(),
            raw: vec![0u8; PIECE],
            piece: String::new(),
            eof: false,
            text: Vec::new(),
            base: 0,
            served: 0,
            scanned: 0,
            quoted: false,
            starts: VecDeque::new(),
            passed: 0,
        }
    }

    /// Decode the next piece of the file onto the text; false at its end.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let n = read_some(&mut self.src, &mut self.raw)?;
        let last = n == 0;
        let mut src = &self.raw[..n];
        self.piece.clear();
        loop {
            let need = self
                .dec
                .max_utf8_buffer_length(src.len())
                .unwrap_or(usize::MAX / 2);
            self.piece.reserve(need);
            let (res, read, _) = self.dec.decode_to_string(src, &mut self.piece, last);
            src = &src[read..];
            if res == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
        self.eof = last;
        self.text.extend_from_slice(self.piece.as_bytes());
        self.scan();
        Ok(true)
    }

    /// Find the row starts in the text decoded since the last look.
    fn scan(&mut self) {
        let end = self.base + self.text.len();
        self.scanned = self.scanned.max(self.base);
        while self.scanned < end {
            let i = self.scanned;
            match self.text[i - self.base] {
                b'"' => self.quoted = !self.quoted,
                b'\r' if !self.quoted => match self.byte(i + 1) {
                    Some(b'\n') => {
                        self.starts.push_back(i + 2);
                        self.scanned += 1;
                    }
                    Some(_) => self.starts.push_back(i + 1),
                    // The next byte decides: wait for it (at the end of the
                    // file, a row starts after the last byte).
                    None if !self.eof => return,
                    None => self.starts.push_back(i + 1),
                },
                b'\n' if !self.quoted => self.starts.push_back(i + 1),
                _ => {}
            }
            self.scanned += 1;
        }
    }

    /// The byte at `at` of the whole text, if decoded and kept.
    fn byte(&self, at: usize) -> Option<u8> {
        at.checked_sub(self.base)
            .and_then(|i| self.text.get(i))
            .copied()
    }

    /// The row (1-based) of the record the csv reader found at `byte`
    /// (skipped blank lines first); the text before it is let go. Records
    /// must come in file order.
    fn row_at(&mut self, mut byte: usize) -> u32 {
        while matches!(self.byte(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        while self.starts.front().is_some_and(|&s| s <= byte) {
            self.starts.pop_front();
            self.passed += 1;
        }
        let keep = byte.min(self.scanned);
        if keep > self.base + (1 << 20) {
            let drop = (keep - self.base).min(self.text.len());
            self.text.drain(..drop);
            self.base += drop;
        }
        1 + self.passed
    }
}

/// The csv reader's side of a [`Window`].
struct Feed<'w, R>(&'w RefCell<Window<R>>);

impl<R: Read> Read for Feed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut w = self.0.borrow_mut();
        while w.served >= w.base + w.text.len() {
            if !w.fill()? {
                return Ok(0);
            }
        }
        let from = w.served - w.base;
        let n = buf.len().min(w.text.len() - from);
        buf[..n].copy_from_slice(&w.text[from..from + n]);
        w.served += n;
        Ok(n)
    }
}

/// The delimiter of the text `f` decodes to in `encoding` ([`delimiter`]
/// of its first line that is not blank), reading no further than that line.
fn delimiter_of(f: impl Read, encoding: &'static encoding_rs::Encoding) -> std::io::Result<u8> {
    let mut w = Window::new(f, encoding);
    loop {
        let more = w.fill()?;
        let text = String::from_utf8_lossy(&w.text);
        let complete = match text.rfind('\n') {
            Some(at) if more => &text[..=at],
            _ if more => "",
            _ => &text,
        };
        if !more || complete.lines().any(|l| !l.trim().is_empty()) {
            return Ok(delimiter(complete));
        }
    }
}

/// One record's fields, as a spreadsheet shows them: for tab-separated
/// text `NULL` is empty and a leading `'` is dropped. Borrowed, no copy.
pub(crate) struct Fields<'r> {
    rec: &'r csv::ByteRecord,
    tab: bool,
}

impl<'r> Fields<'r> {
    pub fn len(&self) -> usize {
        self.rec.len()
    }
    /// The field at 0-based `i` ("" past the end).
    pub fn get(&self, i: usize) -> &'r str {
        let Some(bytes) = self.rec.get(i) else {
            return "";
        };
        // The text is valid UTF-8 and fields split at ASCII bytes.
        let field = std::str::from_utf8(bytes).unwrap_or("");
        if self.tab {
            // Tab-separated exports of web systems write NULL for an empty
            // value and a leading ' to keep numbers as text.
            if field.trim() == "NULL" {
                ""
            } else {
                field.strip_prefix('\'').unwrap_or(field)
            }
        } else {
            field
        }
    }
    /// Whether some field is non-empty (such a record is a row of the sheet).
    pub fn any(&self) -> bool {
        (0..self.len()).any(|i| !self.get(i).is_empty())
    }
}

fn sheet_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Sheet1".to_string())
}

impl CsvText {
    pub fn new(path: &Path, bytes: &[u8]) -> CsvText {
        Self::of_text(path, decode(bytes))
    }

    /// The csv text `text` of the file `path`.
    pub fn of_text(path: &Path, text: String) -> CsvText {
        let delim = delimiter(&text);
        let starts = row_starts(text.as_bytes());
        CsvText {
            source: Source::Text { text, starts },
            delim,
            name: sheet_name(path),
        }
    }

    /// The csv file `f` (opened from `path`), to be read in pieces each
    /// time it is walked; one with a byte order mark (rare) is decoded
    /// whole.
    pub fn open(path: &Path, mut f: std::fs::File) -> Result<CsvText, ReadError> {
        let failed = |e: std::io::Error| read_failed(path, &e);
        let mut head = Vec::new();
        f.by_ref().take(3).read_to_end(&mut head).map_err(failed)?;
        f.seek(SeekFrom::Start(0)).map_err(failed)?;
        if head.starts_with(&[0xEF, 0xBB, 0xBF])
            || head.starts_with(&[0xFF, 0xFE])
            || head.starts_with(&[0xFE, 0xFF])
        {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).map_err(failed)?;
            return Ok(Self::new(path, &bytes));
        }
        let encoding = encoding_of(&mut f).map_err(failed)?;
        f.seek(SeekFrom::Start(0)).map_err(failed)?;
        let delim = delimiter_of(&mut f, encoding).map_err(failed)?;
        Ok(CsvText {
            source: Source::File {
                path: path.to_path_buf(),
                encoding,
            },
            delim,
            name: sheet_name(path),
        })
    }

    /// Calls `f(row, fields)` for every record with a non-empty field, in
    /// file order, until `f` returns false. Row numbers never decrease; two
    /// records on one row (a stray quote mark) are passed as they come —
    /// the caller decides (a sheet keeps the later one).
    ///
    /// # Errors
    /// A record the csv reader refuses (message names the file).
    pub fn for_each_row(
        &self,
        path: &Path,
        f: impl FnMut(u32, &Fields<'_>) -> bool,
    ) -> Result<(), ReadError> {
        match &self.source {
            Source::Text { text, starts } => {
                let tb = text.as_bytes();
                let row_at = |mut byte: usize| {
                    // The reader's position is where it started looking:
                    // skipped blank lines come first.
                    while matches!(tb.get(byte), Some(b'\r' | b'\n')) {
                        byte += 1;
                    }
                    // Row = 1 + row breaks (line ends outside quotes) before the record.
                    starts.partition_point(|&s| s <= byte) as u32
                };
                walk(path, self.delim, tb, row_at, f)
            }
            Source::File {
                path: file,
                encoding,
            } => {
                let src = std::fs::File::open(file).map_err(|e| read_failed(path, &e))?;
                let window = RefCell::new(Window::new(src, encoding));
                let row_at = |byte: usize| window.borrow_mut().row_at(byte);
                walk(path, self.delim, Feed(&window), row_at, f)
            }
        }
    }

    /// The first rows as a sheet: rows until `rows_with_text` of them have
    /// a cell that is not blank (enough to find the header, the title above
    /// it and the first lines quoted in messages).
    pub fn head(&self, path: &Path, rows_with_text: usize) -> Result<SheetData, ReadError> {
        let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
        let mut seen = 0;
        let mut last_row = 0;
        self.for_each_row(path, |row, fields| {
            // Stop at the first new row once enough are in (a later record
            // on the same row still replaces the earlier one).
            if seen >= rows_with_text && row != last_row {
                return false;
            }
            last_row = row;
            let cols = cells_of(fields);
            if let Some(old) = rows.insert(row, cols)
                && old.values().any(|c| !c.is_empty())
            {
                seen -= 1;
            }
            if rows[&row].values().any(|c| !c.is_empty()) {
                seen += 1;
            }
            true
        })?;
        Ok(SheetData::new(self.name.clone(), rows, Vec::new()))
    }

    /// Every non-empty cell in row-major order (for the rebuilt copy).
    pub fn cells(&self, path: &Path) -> Result<Vec<(u32, u32, Cell)>, ReadError> {
        let mut cells: Vec<(u32, u32, Cell)> = Vec::new();
        let mut last_row = 0;
        self.for_each_row(path, |row, fields| {
            if row == last_row {
                // A later record on the same row replaces the earlier one.
                while cells.last().is_some_and(|c| c.0 == row) {
                    cells.pop();
                }
            }
            last_row = row;
            for i in 0..fields.len() {
                let v = fields.get(i);
                if !v.is_empty() {
                    cells.push((row, i as u32 + 1, Cell::Text(v.to_string())));
                }
            }
            true
        })?;
        Ok(cells)
    }
}

/// The records of the text `src` gives, each with a non-empty field passed
/// to `f` with its row (`row_at` of the byte where the reader found it).
fn walk(
    path: &Path,
    delim: u8,
    src: impl Read,
    mut row_at: impl FnMut(usize) -> u32,
    mut f: impl FnMut(u32, &Fields<'_>) -> bool,
) -> Result<(), ReadError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(src);
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(read_failed(path, io));
                }
                return Err(ReadError::input(
                    path,
                    format!("「{}」不是有效的 CSV 文件：{e}", file_label(path)),
                ));
            }
        }
        let fields = Fields {
            rec: &rec,
            tab: delim == b'\t',
        };
        if !fields.any() {
            continue;
        }
        let byte = rec.position().map(|p| p.byte()).unwrap_or(0) as usize;
        if !f(row_at(byte), &fields) {
            return Ok(());
        }
    }
}

/// A record's non-empty fields as cells, by 1-based column.
fn cells_of(fields: &Fields<'_>) -> BTreeMap<u32, Cell> {
    let mut cols = BTreeMap::new();
    for i in 0..fields.len() {
        let v = fields.get(i);
        if !v.is_empty() {
            cols.insert(i as u32 + 1, Cell::Text(v.to_string()));
        }
    }
    cols
}

/// The whole file as one sheet.
pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<SheetData, ReadError> {
    let csv = CsvText::new(path, bytes);
    let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
    csv.for_each_row(path, |row, fields| {
        rows.insert(row, cells_of(fields));
        true
    })?;
    Ok(SheetData::new(csv.name, rows, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record with its row, as `for_each_row` gives them.
    fn rows_of(text: &CsvText) -> Vec<(u32, Vec<String>)> {
        let mut out = Vec::new();
        text.for_each_row(Path::new("t.csv"), |row, f| {
            out.push((row, (0..f.len()).map(|i| f.get(i).to_string()).collect()));
            true
        })
        .unwrap();
        out
    }

    /// A file read in pieces gives the records and rows its whole decoded
    /// text gives: line breaks of every kind (also one cut by a piece's
    /// end), quoted line breaks, stray quote marks, blank lines, tabs,
    /// GBK (also after megabytes of UTF-8), byte order marks, text longer
    /// than what is kept at a time, a lone invalid byte, an empty file.
    #[test]
    fn file_read_in_pieces_gives_the_rows_of_the_whole_text() {
        let dir = tempfile::tempdir().unwrap();
        let row = "1,熨斗镇,张诗鑫,610922201005121234,金星村\r\n";
        let mut long: String = "名单\n\n序号,乡镇,姓名,身份证号码,村\n".to_string();
        for i in 0..60_000 {
            long.push_str(row);
            match i % 7 {
                0 => long.push_str("\n\n"),
                1 => long.push_str("2,熨斗镇,\"李\r\n测\",610922201005031247,金星村\n"),
                2 => long.push_str("3,熨斗镇,王\"测,x,y\r"),
                3 => long.push_str(",,,,\n"),
                _ => {}
            }
        }
        // A lone \r as the last byte of the first piece of the file.
        let mut cut = "姓名,村\n".to_string();
        while cut.len() < PIECE - 1 {
            cut.push_str("张测,金星村\n");
        }
        cut.truncate(PIECE - 1);
        cut.push_str("\r\n李测,双坪村\n");
        let (gbk, _, _) = encoding_rs::GBK.encode(&long);
        // UTF-8 for megabytes, then GBK: the whole file is GBK text.
        let mut late_gbk = long.as_bytes().to_vec();
        late_gbk.extend_from_slice(&gbk[..40]);
        let cases: Vec<Vec<u8>> = vec![
            long.as_bytes().to_vec(),
            gbk.to_vec(),
            cut.into_bytes(),
            [b"\xEF\xBB\xBF".as_slice(), b"a,b\n1,2\n"].concat(),
            b"\n\n  \n\xD5\xC5\xB2\xE2\t610922201005121234\tNULL\n'x\t\"\"\n".to_vec(),
            b"a;b;c\r1;2;3".to_vec(),
            b"\"open,quote\n1,2\n".to_vec(),
            b"\r".to_vec(),
            late_gbk,
            [b"\xFF\xFE".as_slice(), &[0x2D, 0x59]].concat(),
            b"\xB0".to_vec(),
            Vec::new(),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{i}.csv"));
            std::fs::write(&path, bytes).unwrap();
            let whole = CsvText::new(&path, bytes);
            let pieces = CsvText::open(&path, std::fs::File::open(&path).unwrap()).unwrap();
            assert!(
                matches!(i, 3 | 9) || matches!(pieces.source, Source::File { .. }),
                "case {i} read in pieces"
            );
            assert_eq!(pieces.delim, whole.delim, "case {i}");
            assert_eq!(rows_of(&pieces), rows_of(&whole), "case {i}");
        }
        assert!(long.len() > 2 << 20, "longer than what is kept at a time");
    }

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode(b"\xEF\xBB\xBF\xE5\xA7\x93\xE5\x90\x8D"), "姓名");
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号码");
        assert_eq!(decode(&gbk), "姓名,身份证号码");
    }

    #[test]
    fn rows_count_records_not_lines() {
        let data = "标题\n\n姓名,备注\n张三,\"第一行\n第二行\"\n李四,x\n";
        let s = load(Path::new("t.csv"), data.as_bytes()).unwrap();
        assert_eq!(s.name, "t");
        assert_eq!(s.raw(1, 1), Some(&Cell::Text("标题".into())));
        assert_eq!(s.raw(3, 1), Some(&Cell::Text("姓名".into())));
        assert_eq!(s.raw(4, 2), Some(&Cell::Text("第一行\n第二行".into())));
        assert_eq!(s.raw(5, 1), Some(&Cell::Text("李四".into())));
    }
}

#[cfg(test)]
mod tsv_tests {
    use super::*;

    #[test]
    fn tab_text_drops_null_and_apostrophes() {
        let data = "姓名\t身份证号码\t出生日期\t备注\n张测\t'610922201005031239\t'20100503\tNULL\n";
        let s = load(Path::new("导出.xls"), data.as_bytes()).unwrap();
        assert_eq!(s.raw(2, 2), Some(&Cell::Text("610922201005031239".into())));
        assert_eq!(s.raw(2, 3), Some(&Cell::Text("20100503".into())));
        assert_eq!(s.raw(2, 4), None);
    }
}
