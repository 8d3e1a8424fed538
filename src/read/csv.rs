//! csv files: UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text")
//! and GBK/GB18030 (what Chinese Excel writes). Every value stays text.
//! Tab-separated text (also when saved under an .xls name) is read the same
//! way, `NULL` being an empty cell and a leading `'` dropped.
//!
//! Row numbers are the ones a spreadsheet shows: one row per record, a quoted
//! cell with a line break stays one row, and blank lines count as rows.

use super::sheet_data::SheetData;
use super::{ReadError, file_label};
use crate::model::Cell;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

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

/// A decoded csv file, ready to be walked record by record.
pub(crate) struct CsvText {
    text: String,
    delim: u8,
    /// Byte offsets where a spreadsheet row starts: after every line end
    /// that is not inside a quoted cell (the csv reader's own line count
    /// skips blank lines and counts line breaks inside cells).
    starts: Vec<usize>,
    /// The sheet name a spreadsheet would show: the file name's stem.
    pub name: String,
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

/// The text of the file `f` as [`decode`] gives it, read in pieces: its
/// bytes are never held whole beside the text (a 150 MB GBK roster held
/// both ways took 350 MB). `len` is the file's length.
pub(crate) fn read_text(mut f: impl Read + Seek, len: u64) -> std::io::Result<String> {
    let mut head = Vec::new();
    f.by_ref().take(3).read_to_end(&mut head)?;
    f.seek(SeekFrom::Start(0))?;
    // A byte order mark: the whole file as `decode` takes it (rare).
    if head.starts_with(&[0xEF, 0xBB, 0xBF])
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
    {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        return Ok(decode(&bytes));
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX / 2);
    // UTF-8 when every byte is; else GB18030 from the start.
    if let Some(text) = decode_stream(&mut f, len, encoding_rs::UTF_8, false)? {
        return Ok(text);
    }
    f.seek(SeekFrom::Start(0))?;
    Ok(decode_stream(&mut f, len, encoding_rs::GB18030, true)?.unwrap_or_default())
}

/// Decode `f` (without BOM handling) in pieces; None when `replace` is
/// false and a byte sequence is not of `encoding`.
fn decode_stream(
    f: &mut impl Read,
    len: usize,
    encoding: &'static encoding_rs::Encoding,
    replace: bool,
) -> std::io::Result<Option<String>> {
    let mut dec = encoding.new_decoder_without_bom_handling();
    // Room for the whole text at once (GB18030's two bytes become at most
    // three): no growing string copied into a larger one.
    let mut text = String::with_capacity(len.saturating_add(len / 2).saturating_add(16));
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let last = n == 0;
        let mut src = &buf[..n];
        loop {
            let need = dec
                .max_utf8_buffer_length(src.len())
                .unwrap_or(usize::MAX / 2);
            text.reserve(need);
            if replace {
                let (res, read, _) = dec.decode_to_string(src, &mut text, last);
                src = &src[read..];
                if res == encoding_rs::CoderResult::InputEmpty {
                    break;
                }
            } else {
                let (res, read) = dec.decode_to_string_without_replacement(src, &mut text, last);
                src = &src[read..];
                match res {
                    encoding_rs::DecoderResult::InputEmpty => break,
                    encoding_rs::DecoderResult::OutputFull => {}
                    encoding_rs::DecoderResult::Malformed(..) => return Ok(None),
                }
            }
        }
        if last {
            return Ok(Some(text));
        }
    }
}

impl CsvText {
    pub fn new(path: &Path, bytes: &[u8]) -> CsvText {
        Self::of_text(path, decode(bytes))
    }

    /// The csv text `text` of the file `path`.
    pub fn of_text(path: &Path, text: String) -> CsvText {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Sheet1".to_string());
        let delim = delimiter(&text);
        let starts = row_starts(text.as_bytes());
        CsvText {
            text,
            delim,
            starts,
            name,
        }
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
        mut f: impl FnMut(u32, &Fields<'_>) -> bool,
    ) -> Result<(), ReadError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delim)
            .from_reader(self.text.as_bytes());
        let tb = self.text.as_bytes();
        let mut rec = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    return Err(ReadError::input(
                        path,
                        format!("「{}」不是有效的 CSV 文件：{e}", file_label(path)),
                    ));
                }
            }
            let mut byte = rec.position().map(|p| p.byte()).unwrap_or(0) as usize;
            // The reader's position is where it started looking: skipped
            // blank lines come first.
            while matches!(tb.get(byte), Some(b'\r' | b'\n')) {
                byte += 1;
            }
            // Row = 1 + row breaks (line ends outside quotes) before the record.
            let row = self.starts.partition_point(|&s| s <= byte) as u32;
            let fields = Fields {
                rec: &rec,
                tab: self.delim == b'\t',
            };
            if fields.any() && !f(row, &fields) {
                return Ok(());
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

    /// Reading in pieces gives what decoding the whole file gives, also for
    /// characters cut by a piece's end, invalid UTF-8 late in the file and
    /// every byte order mark.
    #[test]
    fn text_read_in_pieces_is_the_decoded_file() {
        let line = "姓名,身份证号,村\n张诗鑫,610922201005121234,金星村\n";
        let long: String = std::iter::repeat_n(line, 3000).collect();
        let (gbk, _, _) = encoding_rs::GBK.encode(&long);
        let mut late_gbk = long.as_bytes().to_vec();
        late_gbk.extend_from_slice(&gbk[..40]);
        let cases: Vec<Vec<u8>> = vec![
            long.as_bytes().to_vec(),
            gbk.to_vec(),
            late_gbk,
            [b"\xEF\xBB\xBF".as_slice(), long.as_bytes()].concat(),
            [b"\xFF\xFE".as_slice(), &[0x2D, 0x59]].concat(),
            b"\xB0".to_vec(),
            Vec::new(),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let read = read_text(std::io::Cursor::new(bytes), bytes.len() as u64).unwrap();
            assert_eq!(read, decode(bytes), "case {i}");
        }
        assert!(gbk.len() > 1 << 16, "the GBK text spans several pieces");
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
