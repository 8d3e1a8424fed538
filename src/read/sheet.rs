//! Loading every sheet of a workbook or csv into [`SheetData`]: cells at
//! absolute 1-based positions plus merged ranges, whatever the container.

use super::sheet_data::SheetData;
use super::{ReadError, file_label};
use crate::model::{Cell, Format};
use calamine::{Data, DataRef, Dimensions, Ods, Range, Reader, SheetType, Xls, Xlsx, XlsxError};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::Path;

/// Load every worksheet of the file (hidden ones included).
pub(crate) fn load(path: &Path, bytes: &[u8], format: Format) -> Result<Vec<SheetData>, ReadError> {
    match format {
        Format::Csv => super::csv::load(path, bytes).map(|s| vec![s]),
        Format::Xml => super::xml2003::load(path, bytes),
        _ => {
            // calamine has been known to panic on hostile files; a bad input
            // must be an Err, never a crash.
            guarded(path, || load_workbook(path, bytes, format))
        }
    }
}

fn calamine_err(path: &Path, e: impl std::fmt::Display) -> ReadError {
    let name = file_label(path);
    let text = e.to_string();
    if text.to_lowercase().contains("password") || text.to_lowercase().contains("encrypt") {
        return ReadError::input(
            path,
            format!(
                "「{name}」设置了密码保护，无法读取。请在 Excel 或 WPS 中去掉密码后另存为 .xlsx 再使用"
            ),
        );
    }
    ReadError::input(
        path,
        format!("无法读取「{name}」：文件可能已损坏（{text}）。请在 Excel 或 WPS 中打开后重新保存"),
    )
}

fn sheet_err(path: &Path, sheet: &str, e: impl std::fmt::Display) -> ReadError {
    ReadError::input(
        path,
        format!("无法读取「{}」的工作表「{sheet}」：{e}", file_label(path)),
    )
}

/// The message for a file calamine could not parse (or panicked on).
fn damaged(path: &Path) -> ReadError {
    ReadError::input(
        path,
        format!(
            "「{}」的内容已损坏，无法解析。请在 Excel 或 WPS 中打开后重新保存为 .xlsx",
            file_label(path)
        ),
    )
}

/// `f` under the panic guard: a panic in calamine is the damaged-file error.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    crate::guard::catch(f).unwrap_or_else(|| Err(damaged(path)))
}

/// An xlsx/xlsm workbook whose worksheets are read one at a time, either
/// whole ([`XlsxBook::whole`]) or a row at a time ([`XlsxBook::cells`]).
pub(crate) struct XlsxBook<'b> {
    path: &'b Path,
    wb: Xlsx<Cursor<&'b [u8]>>,
    names: Vec<String>,
    /// Merges of every worksheet from a byte scan of the parts, when the
    /// package allows it.
    fast: Option<Vec<Vec<Merge>>>,
}

impl<'b> XlsxBook<'b> {
    pub fn open(path: &'b Path, bytes: &'b [u8]) -> Result<XlsxBook<'b>, ReadError> {
        guarded(path, || {
            let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| calamine_err(path, e))?;
            let names = worksheet_names(wb.sheets_metadata());
            let fast = fast_xlsx_merges(bytes, &names);
            Ok(XlsxBook {
                path,
                wb,
                names,
                fast,
            })
        })
    }

    /// The worksheet names (hidden ones included), in workbook order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The merged ranges of worksheet `i` (1-based, inclusive, empty or
    /// reversed ones dropped), as [`SheetData::merges`] holds them.
    pub fn merges(&mut self, i: usize) -> Result<Vec<Merge>, ReadError> {
        let (path, name) = (self.path, &self.names[i]);
        let mut merges: Vec<Merge> = match self.fast.as_ref().and_then(|m| m.get(i)) {
            Some(m) => m.clone(),
            None => guarded(path, || {
                let dims = self
                    .wb
                    .merge_cells_by_sheet_name(name)
                    .map_err(|e| sheet_err(path, name, e))?;
                Ok(dims
                    .iter()
                    .map(|d| (d.start.0 + 1, d.start.1 + 1, d.end.0 + 1, d.end.1 + 1))
                    .collect())
            })?,
        };
        merges.retain(|m| m.0 <= m.2 && m.1 <= m.3);
        Ok(merges)
    }

    /// Worksheet `i` read whole.
    pub fn whole(&mut self, i: usize) -> Result<SheetData, ReadError> {
        let (path, name) = (self.path, self.names[i].clone());
        let rows = guarded(path, || {
            xlsx_rows(&mut self.wb, &name).map_err(|e| sheet_err(path, &name, e))
        })?;
        let merges = self.merges(i)?;
        Ok(SheetData::new(name, rows, merges))
    }

    /// The cells of worksheet `i`, a row at a time.
    pub fn cells(&mut self, i: usize) -> Result<SheetCells<'_, 'b>, ReadError> {
        let (path, name) = (self.path, &self.names[i]);
        let reader = guarded(path, || match self.wb.worksheet_cells_reader(name) {
            Ok(r) => Ok(Some(r)),
            // calamine's worksheet_range reads a chart sheet as an empty range.
            Err(XlsxError::NotAWorksheet(_)) => Ok(None),
            Err(e) => Err(sheet_err(path, name, e)),
        })?;
        Ok(SheetCells {
            path,
            name,
            reader,
            pending: None,
            width: 0,
        })
    }
}

/// What [`SheetCells::next_row`] gives.
pub(crate) enum NextRow<'a> {
    /// A row's cells (1-based row), final: the rows come in ascending
    /// order, empty ones left out.
    Row(u32, XlsxRow<'a>),
    End,
    /// A cell of an earlier row came after a later row (a writer that does
    /// not keep the rows in order): read the sheet whole instead.
    OutOfOrder,
}

/// One row of an xlsx worksheet as calamine's cell reader gives it: (1-based
/// col, value) in column order, no Empty value and no empty text. A value is
/// made a [`Cell`] only when asked for (most columns of a wide sheet are
/// never looked at).
pub(crate) struct XlsxRow<'a>(Vec<(u32, DataRef<'a>)>);

impl XlsxRow<'_> {
    /// The cell at 1-based `col`.
    pub fn get(&self, col: u32) -> Option<Cell> {
        let i = self.0.binary_search_by_key(&col, |(c, _)| *c).ok()?;
        Some(convert_ref(&self.0[i].1))
    }

    /// Every cell, as [`xlsx_rows`] holds it.
    pub fn cells(&self) -> impl Iterator<Item = (u32, Cell)> + '_ {
        self.0.iter().map(|(c, d)| (*c, convert_ref(d)))
    }

    /// The last column holding a value.
    fn last_col(&self) -> Option<u32> {
        self.0.last().map(|(c, _)| *c)
    }

    /// One value into the row, as [`xlsx_rows`] puts a cell: a later value
    /// at the same column replaces the earlier one, an empty text removes it.
    fn put<'a2>(row: &mut Vec<(u32, DataRef<'a2>)>, col: u32, value: DataRef<'a2>) {
        let remove = is_empty_text(&value);
        if row.last().is_none_or(|(c, _)| *c < col) {
            if !remove {
                row.push((col, value));
            }
            return;
        }
        match row.binary_search_by_key(&col, |(c, _)| *c) {
            Ok(i) if remove => {
                row.remove(i);
            }
            Ok(i) => row[i].1 = value,
            Err(_) if remove => {}
            Err(i) => row.insert(i, (col, value)),
        }
    }
}

/// A value [`convert_ref`] makes an empty text.
fn is_empty_text(d: &DataRef<'_>) -> bool {
    match d {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.is_empty(),
        DataRef::SharedString(s) => s.is_empty(),
        _ => false,
    }
}

/// The cells of one xlsx worksheet straight from calamine's cell reader,
/// grouped by row, with the rules of [`xlsx_rows`]: empty cells dropped, a
/// later cell at the same position replacing an earlier one (an empty
/// string removes it).
pub(crate) struct SheetCells<'a, 'b> {
    path: &'a Path,
    name: &'a str,
    /// None: a chart sheet (read as empty), or every cell read.
    reader: Option<calamine::XlsxCellReader<'a, Cursor<&'b [u8]>>>,
    /// The first value of the next row, already read (1-based).
    pending: Option<(u32, u32, DataRef<'a>)>,
    /// The last column holding a cell in the rows given so far.
    width: u32,
}

impl<'a> SheetCells<'a, '_> {
    /// The last column holding a cell in the rows given so far.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The next value that is not Empty (1-based); calamine unguarded.
    fn next_cell(&mut self) -> Result<Option<(u32, u32, DataRef<'a>)>, ReadError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        loop {
            let Some(c) = reader
                .next_cell()
                .map_err(|e| sheet_err(self.path, self.name, e))?
            else {
                // The reader is not to be asked again past the end.
                self.reader = None;
                return Ok(None);
            };
            let (r, col) = c.get_position();
            let value = c.get_value();
            if matches!(value, DataRef::Empty) {
                continue;
            }
            return Ok(Some((r + 1, col + 1, value.clone())));
        }
    }

    pub fn next_row(&mut self) -> Result<NextRow<'a>, ReadError> {
        let path = self.path;
        guarded(path, || self.next_row_unguarded())
    }

    fn next_row_unguarded(&mut self) -> Result<NextRow<'a>, ReadError> {
        loop {
            let first = match self.pending.take() {
                Some(c) => c,
                None => match self.next_cell()? {
                    Some(c) => c,
                    None => return Ok(NextRow::End),
                },
            };
            let row = first.0;
            let mut cols = Vec::new();
            XlsxRow::put(&mut cols, first.1, first.2);
            while let Some((r, c, value)) = self.next_cell()? {
                if r == row {
                    XlsxRow::put(&mut cols, c, value);
                } else if r > row {
                    self.pending = Some((r, c, value));
                    break;
                } else {
                    return Ok(NextRow::OutOfOrder);
                }
            }
            let cols = XlsxRow(cols);
            if let Some(last) = cols.last_col() {
                self.width = self.width.max(last);
                return Ok(NextRow::Row(row, cols));
            }
        }
    }
}

fn load_workbook(path: &Path, bytes: &[u8], format: Format) -> Result<Vec<SheetData>, ReadError> {
    let cursor = Cursor::new(bytes);
    let mut out = Vec::new();
    match format {
        Format::Xlsx | Format::Xlsm => {
            let mut book = XlsxBook::open(path, bytes)?;
            for i in 0..book.names().len() {
                out.push(book.whole(i)?);
            }
        }
        Format::Xls => {
            let mut wb: Xls<_> = Xls::new(cursor).map_err(|e| calamine_err(path, e))?;
            for name in worksheet_names(wb.sheets_metadata()) {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| sheet_err(path, &name, e))?;
                let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
                out.push(to_sheet(name, &range, &merges, &[]));
            }
        }
        Format::Ods => {
            let mut wb: Ods<_> = Ods::new(cursor).map_err(|e| calamine_err(path, e))?;
            let merges = super::ods::merges(bytes).map_err(|e| calamine_err(path, e))?;
            for name in worksheet_names(wb.sheets_metadata()) {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| sheet_err(path, &name, e))?;
                let m = merges.get(&name).cloned().unwrap_or_default();
                out.push(to_sheet(name, &range, &[], &m));
            }
        }
        Format::Csv | Format::Xml => unreachable!("text formats handled by caller"),
    }
    Ok(out)
}

/// Merged ranges (1-based) of the named worksheets of an xlsx, read from the
/// sheet XML by a plain byte scan of its `<mergeCells>` block. calamine's
/// `merge_cells_by_sheet_name` tokenises the whole sheet a second time, which
/// costs as much as reading the cells. None (the caller then asks calamine)
/// whenever the package is not laid out the usual way or the block holds
/// anything but plain `<mergeCell ref="…"/>` elements.
fn fast_xlsx_merges(bytes: &[u8], names: &[String]) -> Option<Vec<Vec<Merge>>> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let text = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| -> Option<Vec<u8>> {
        let mut f = zip.by_name(name).ok()?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).ok()?;
        Some(buf)
    };
    // The workbook part must be xl/workbook.xml (where calamine looks too).
    let package_rels = text(&mut zip, "_rels/.rels")?;
    let doc = xml_elements(&package_rels, "Relationship")?
        .into_iter()
        .find(|a| {
            a.iter()
                .any(|(k, v)| k == "Type" && v.ends_with("/relationships/officeDocument"))
        })?;
    let target = doc.iter().find(|(k, _)| k == "Target")?.1.clone();
    if target != "xl/workbook.xml" && target != "/xl/workbook.xml" {
        return None;
    }
    let rels = text(&mut zip, "xl/_rels/workbook.xml.rels")?;
    let mut by_id: HashMap<String, String> = HashMap::new();
    for a in xml_elements(&rels, "Relationship")? {
        let id = a.iter().find(|(k, _)| k == "Id")?.1.clone();
        let target = a.iter().find(|(k, _)| k == "Target")?.1.clone();
        by_id.entry(id).or_insert(target);
    }
    let workbook = text(&mut zip, "xl/workbook.xml")?;
    let mut path_of: Vec<(String, String)> = Vec::new();
    for a in xml_elements(&workbook, "sheet")? {
        let name = a.iter().find(|(k, _)| k == "name")?.1.clone();
        let id = a
            .iter()
            .find(|(k, _)| k == "id" || k.ends_with(":id"))?
            .1
            .clone();
        let target = by_id.get(&id)?;
        let path = match target.strip_prefix('/') {
            Some(abs) => abs.to_string(),
            None => format!("xl/{target}"),
        };
        path_of.push((name, path));
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let (_, path) = path_of.iter().find(|(n, _)| n == name)?;
        let f = zip.by_name(path).ok()?;
        out.push(stream_merge_cells(f)?);
    }
    Some(out)
}

/// Read a sheet part in chunks, keeping only what follows `<mergeCells`
/// (memory stays small for a million-row sheet), and scan that block.
fn stream_merge_cells(mut f: impl std::io::Read) -> Option<Vec<(u32, u32, u32, u32)>> {
    const KEEP: usize = 16;
    let mut chunk = vec![0u8; 1 << 20];
    let mut buf: Vec<u8> = Vec::new();
    let mut before = 0; // `mergeCell` occurrences dropped before the block
    let mut started = false;
    loop {
        let n = f.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if started {
            continue;
        }
        if let Some(p) = find_open(&buf) {
            before += count(&buf[..p]);
            buf.drain(..p);
            started = true;
        } else if buf.len() > KEEP {
            let cut = buf.len() - KEEP;
            // Occurrences starting before `cut` lie within buf[..cut + 8].
            before += count(&buf[..cut + 8]);
            buf.drain(..cut);
        }
    }
    if !started {
        return (before + count(&buf) == 0).then(Vec::new);
    }
    scan_merge_cells(&buf, before)
}

fn merge_word() -> &'static regex::bytes::Regex {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::bytes::Regex::new("mergeCell").expect("static regex"))
}

fn count(hay: &[u8]) -> usize {
    merge_word().find_iter(hay).count()
}

/// Where `<mergeCells` starts in `hay`.
fn find_open(hay: &[u8]) -> Option<usize> {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::bytes::Regex::new("<mergeCells").expect("static regex"))
        .find(hay)
        .map(|m| m.start())
}

/// The attributes (name, unescaped value) of every `<tag …>` element of a
/// small XML part; None when the part is not well-formed enough to say.
fn xml_elements(xml: &[u8], tag: &str) -> Option<Vec<Vec<(String, String)>>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == tag => {
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.ok()?;
                    let key = a.key.as_ref().to_string();
                    let value = quick_xml::escape::unescape(&a.value).ok()?.into_owned();
                    attrs.push((key, value));
                }
                out.push(attrs);
            }
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}

/// The `<mergeCells>` block of a worksheet's XML, by byte scan. Only the
/// plain form Excel, WPS and rust_xlsxwriter write is accepted: every
/// occurrence of `mergeCell` in the part must be the block's own tags.
fn scan_merge_cells(xml: &[u8], before: usize) -> Option<Vec<(u32, u32, u32, u32)>> {
    let total = before + count(xml);
    if !xml.starts_with(b"<mergeCells") {
        return None;
    }
    let mut i = b"<mergeCells".len();
    let close = i + xml[i..].iter().position(|&b| b == b'>')?;
    let mut seen = 1;
    let mut out = Vec::new();
    if xml[close - 1] == b'/' {
        return (total == seen).then_some(out);
    }
    if !matches!(xml.get(i), Some(b' ' | b'\t' | b'\r' | b'\n' | b'>')) {
        return None;
    }
    i = close + 1;
    loop {
        while xml.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let rest = &xml[i..];
        if rest.starts_with(b"</mergeCells>") {
            seen += 1;
            break;
        }
        if !rest.starts_with(b"<mergeCell") {
            return None;
        }
        let start = i + b"<mergeCell".len();
        if !xml.get(start).is_some_and(|b| b.is_ascii_whitespace()) {
            return None;
        }
        let end = start + xml[start..].iter().position(|&b| b == b'>')?;
        seen += 1;
        let tag = std::str::from_utf8(&xml[start..end]).ok()?;
        let tag = tag.strip_suffix('/')?;
        // A `<mergeCell …>…</mergeCell>` pair is not the plain form.
        if let Some(r) = attr_value(tag, "ref")? {
            out.push(dimension(r)?);
        }
        i = end + 1;
    }
    (total == seen).then_some(out)
}

/// The value of attribute `name` in the inside of a tag (`ref="A1:B2" …`);
/// Some(None) when absent, None when the attributes are not plain.
fn attr_value<'a>(tag: &'a str, name: &str) -> Option<Option<&'a str>> {
    let mut rest = tag.trim_start();
    let mut found = None;
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim_end();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let body = &after[1..];
        let endq = body.find(quote)?;
        let value = &body[..endq];
        if key == name {
            if found.is_some() || value.contains('&') {
                return None;
            }
            found = Some(value);
        }
        rest = body[endq + 1..].trim_start();
    }
    Some(found)
}

/// "A1:B3" (or "A1") → 1-based (first_row, first_col, last_row, last_col),
/// as calamine reads a merge reference; None for anything else.
fn dimension(r: &str) -> Option<(u32, u32, u32, u32)> {
    fn cell(s: &str) -> Option<(u32, u32)> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut col: u32 = 0;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            col = col
                .checked_mul(26)?
                .checked_add(u32::from(b[i].to_ascii_uppercase() - b'A') + 1)?;
            i += 1;
        }
        let digits = &s[i..];
        if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) || col == 0 {
            return None;
        }
        let row: u32 = digits.parse().ok()?;
        (row >= 1).then_some((row, col))
    }
    let mut parts = r.split(':');
    let a = cell(parts.next()?)?;
    let b = match parts.next() {
        Some(p) => cell(p)?,
        None => a,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((a.0, a.1, b.0, b.1))
}

fn worksheet_names(meta: &[calamine::Sheet]) -> Vec<String> {
    meta.iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

/// The cells of an xlsx worksheet, streamed straight from calamine's cell
/// reader (no dense range, shared strings copied once). Same result as
/// `worksheet_range` + [`to_sheet`]: empty cells dropped, a later cell at the
/// same position replaces an earlier one (an empty string removes it).
fn xlsx_rows<RS: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
) -> Result<Rows, XlsxError> {
    let mut rows: Rows = BTreeMap::new();
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(r) => r,
        // calamine's worksheet_range reads a chart sheet as an empty range.
        Err(XlsxError::NotAWorksheet(_)) => return Ok(rows),
        Err(e) => return Err(e),
    };
    while let Some(c) = reader.next_cell()? {
        let (r, col) = c.get_position();
        let cell = convert_ref(c.get_value());
        let (row, col) = (r + 1, col + 1);
        match cell {
            Cell::Empty => {}
            Cell::Text(s) if s.is_empty() => {
                if let Some(cols) = rows.get_mut(&row) {
                    cols.remove(&col);
                    if cols.is_empty() {
                        rows.remove(&row);
                    }
                }
            }
            cell => {
                rows.entry(row).or_default().insert(col, cell);
            }
        }
    }
    Ok(rows)
}

type Rows = BTreeMap<u32, BTreeMap<u32, Cell>>;

/// A merged range: (first_row, first_col, last_row, last_col), 1-based.
pub(crate) type Merge = (u32, u32, u32, u32);

/// calamine borrowed value → model cell (as [`convert`] of the owned value).
pub(crate) fn convert_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => Cell::Date(serial_1900(dt)),
        DataRef::DateTimeIso(s) => match iso_to_serial(s) {
            Some(f) => Cell::Date(f),
            None => Cell::Text(s.clone()),
        },
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn to_sheet(
    name: String,
    range: &Range<Data>,
    dims: &[Dimensions],
    extra: &[(u32, u32, u32, u32)],
) -> SheetData {
    let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
    if let Some((r0, c0)) = range.start() {
        // `cells()` positions are relative to the range start.
        for (r, c, d) in range.cells() {
            let cell = convert(d);
            if matches!(cell, Cell::Empty) {
                continue;
            }
            if let Cell::Text(s) = &cell
                && s.is_empty()
            {
                continue;
            }
            let row = r0 + r as u32 + 1;
            let col = c0 + c as u32 + 1;
            rows.entry(row).or_default().insert(col, cell);
        }
    }
    let mut merges: Vec<(u32, u32, u32, u32)> = dims
        .iter()
        .map(|d| (d.start.0 + 1, d.start.1 + 1, d.end.0 + 1, d.end.1 + 1))
        .collect();
    merges.extend_from_slice(extra);
    merges.retain(|m| m.0 <= m.2 && m.1 <= m.3);
    SheetData::new(name, rows, merges)
}

/// calamine value → model cell.
pub(crate) fn convert(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => Cell::Date(serial_1900(dt)),
        // ODS stores dates as ISO text; a plain date becomes the same serial
        // an xlsx would hold, so every format reads alike.
        Data::DateTimeIso(s) => match iso_to_serial(s) {
            Some(f) => Cell::Date(f),
            None => Cell::Text(s.clone()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// The serial in the 1900 date system, also for workbooks saved in the
/// 1904 system (old Mac Excel), whose raw serials are 1462 days smaller.
fn serial_1900(dt: &calamine::ExcelDateTime) -> f64 {
    if dt.is_duration() {
        return dt.as_f64();
    }
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    if y < 1901 {
        return dt.as_f64();
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30);
    match (
        chrono::NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()),
        base,
    ) {
        (Some(date), Some(base)) => (date - base).num_days() as f64 + dt.as_f64().fract().abs(),
        _ => dt.as_f64(),
    }
}

/// "2010-05-03" or "2010-05-03T00:00:00" → Excel serial (1900 system).
fn iso_to_serial(s: &str) -> Option<f64> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let mut serial = (d - base).num_days() as f64;
    if let Some(t) = time {
        let t = chrono::NaiveTime::parse_from_str(t.trim_end_matches('Z'), "%H:%M:%S%.f")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()?;
        use chrono::Timelike;
        serial += t.num_seconds_from_midnight() as f64 / 86400.0;
    }
    Some(serial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_become_serials() {
        assert_eq!(iso_to_serial("2010-05-03"), Some(40301.0));
        assert_eq!(iso_to_serial("2010-05-03T00:00:00"), Some(40301.0));
        assert_eq!(iso_to_serial("2010-05-03T12:00:00"), Some(40301.5));
        assert_eq!(iso_to_serial("PT12H"), None);
    }

    #[test]
    fn merge_block_is_scanned_like_calamine_reads_it() {
        let xml = br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData><mergeCells count="2"><mergeCell ref="A2:A4"/><mergeCell ref="B7"/></mergeCells><pageMargins/></worksheet>"#;
        let mut chunked = Vec::new();
        for part in xml.chunks(7) {
            chunked.extend_from_slice(part);
        }
        assert_eq!(
            stream_merge_cells(&chunked[..]),
            Some(vec![(2, 1, 4, 1), (7, 2, 7, 2)])
        );
        assert_eq!(
            stream_merge_cells(&b"<worksheet><sheetData/></worksheet>"[..]),
            Some(vec![])
        );
        // Anything unusual is left to calamine.
        for odd in [
            &br#"<x:mergeCells><x:mergeCell ref="A1:B1"/></x:mergeCells>"#[..],
            br#"<c><is><t>mergeCell</t></is></c>"#,
            br#"<mergeCells><!-- x --><mergeCell ref="A1:B1"/></mergeCells>"#,
            br#"<mergeCells><mergeCell ref="A0:B1"/></mergeCells>"#,
            br#"<mergeCells><mergeCell ref="A1:B1:C1"/></mergeCells>"#,
        ] {
            assert_eq!(
                stream_merge_cells(odd),
                None,
                "{}",
                String::from_utf8_lossy(odd)
            );
        }
        assert_eq!(dimension("AA10:ab12"), Some((10, 27, 12, 28)));
        assert_eq!(dimension("10"), None);
    }

    /// A row put together value by value holds what the whole-sheet read
    /// holds: later values replace earlier ones, an empty text removes one,
    /// whatever the column order.
    #[test]
    fn row_values_replace_and_remove_like_the_sheet() {
        let steps: Vec<(u32, DataRef<'static>)> = vec![
            (3, DataRef::SharedString("c")),
            (1, DataRef::Int(1)),
            (5, DataRef::String("e".into())),
            (3, DataRef::SharedString("")),
            (2, DataRef::SharedString("")),
            (5, DataRef::Float(2.5)),
            (4, DataRef::SharedString("d")),
            (1, DataRef::String(String::new())),
            (6, DataRef::DateTimeIso("2010-05-03".into())),
        ];
        let mut row = Vec::new();
        let mut want: BTreeMap<u32, Cell> = BTreeMap::new();
        for (c, d) in steps {
            match convert_ref(&d) {
                Cell::Text(t) if t.is_empty() => {
                    want.remove(&c);
                }
                cell => {
                    want.insert(c, cell);
                }
            }
            XlsxRow::put(&mut row, c, d);
        }
        let row = XlsxRow(row);
        let got: BTreeMap<u32, Cell> = row.cells().collect();
        assert_eq!(got, want);
        assert_eq!(row.get(4), Some(Cell::Text("d".into())));
        assert_eq!(row.get(3), None);
        assert_eq!(row.last_col(), Some(6));
    }

    #[test]
    fn merged_value_is_shown_in_covered_cells() {
        let mut rows = BTreeMap::new();
        rows.entry(2)
            .or_insert_with(BTreeMap::new)
            .insert(1, Cell::Text("户主".into()));
        rows.entry(5)
            .or_insert_with(BTreeMap::new)
            .insert(2, Cell::Text("x".into()));
        let s = SheetData::new("S".into(), rows, vec![(2, 1, 4, 1)]);
        assert_eq!(s.shown(4, 1), Some(&Cell::Text("户主".into())));
        assert_eq!(s.raw(4, 1), None);
        assert_eq!(s.shown(5, 1), None);
    }
}
