//! The copy of a csv input, written in one pass in constant memory.
//!
//! The package around the sheet (workbook, styles, properties, theme) comes
//! from a tiny workbook built with no cells; the patcher adds the marks'
//! styles, notes, drawings and the 核对说明 sheet to it as to any xlsx. The
//! data sheet is never built in memory nor inflated again: its XML is
//! written straight from the decoded csv text, row by row, with the marks'
//! style ids on their cells (cells and rows created where a finding points
//! at an empty cell) and the note drawing's reference at its end, and
//! deflated once into the copy.
//!
//! The sheet is the one a spreadsheet writer makes of the csv values: every
//! non-empty field a text cell (IDs stay text), the last record of a row
//! kept when two records share one (a stray quote mark), inline strings,
//! text longer than a cell holds cut at 32,767 characters, control
//! characters written as `_xHHHH_`.

use super::sheet::{SheetEdit, union_ref};
use super::{AnnotateError, SummaryInfo};
use crate::model::{Finding, col_letter};
use crate::read::{CsvText, ReadError};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

/// The largest row and column a sheet holds; cells beyond are left out.
const ROW_MAX: u32 = 1_048_576;
const COL_MAX: u32 = 16_384;
/// The most characters a cell holds.
const CELL_CHARS: usize = 32_767;

const HEAD: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" ",
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">",
);
const VIEWS: &str = concat!(
    "<sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>",
    "<sheetFormatPr defaultRowHeight=\"15\"/>",
);
const MARGINS: &str = "<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>";

/// Rebuild the csv file `input` (read and decoded as an input is) as an
/// xlsx copy with the marks, notes and 核对说明 sheet of an xlsx copy: the
/// same copy as [`super::rebuild_xlsx`] of its values, made in one pass.
/// `summary.rebuilt_from` should say which file it was rebuilt from.
///
/// # Errors
/// The csv cannot be read or parsed; the copy cannot be built or written.
pub fn rebuild_csv(
    input: &Path,
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let text = crate::read::open_csv(input)?;
    let text = &text;
    let mut used = BTreeSet::new();
    let name = super::rebuild::unique_name(&text.name, 0, &mut used);
    let extent = extent(input, text)?;
    let skeleton = crate::templates::catch_write_panic(|| skeleton(&name)).map_err(|e| {
        AnnotateError::Write {
            path: output.to_path_buf(),
            detail: e.to_string(),
        }
    })?;
    let findings = super::rebuild::on_renamed_sheets(findings, |sheet| {
        (sheet == text.name).then(|| name.clone())
    });
    let display = super::rebuild::display_path(summary);
    let mut write = |out: &mut dyn Write, edit: &SheetEdit| -> Result<(), AnnotateError> {
        write_sheet(input, text, &extent, edit, out).map_err(|e| match e {
            SheetWriteError::Read(e) => AnnotateError::Input(e),
            SheetWriteError::Io(e) => AnnotateError::Write {
                path: output.to_path_buf(),
                detail: e.to_string(),
            },
        })
    };
    super::write_atomically(output, |tmp| {
        super::patch::patch_package_with(
            std::io::Cursor::new(skeleton),
            &display,
            tmp,
            output,
            &findings,
            summary,
            Some(super::patch::Generated {
                sheet: &name,
                write: &mut write,
                // A mark adds at most a created row and cell. Zip64 only
                // when the part may not fit in 4 GiB.
                large: extent.xml_bound + 64 * findings.len() as u64 > u64::from(u32::MAX),
            }),
        )
    })
}

/// The workbook around the sheet: one empty sheet named `name`, with the
/// document dates fixed (two runs give the same bytes).
fn skeleton(name: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let fixed = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
    wb.add_worksheet().set_name(name)?;
    wb.save_to_buffer()
}

/// Where the sheet's cells lie, and a bound of its XML size.
#[derive(Debug, Default)]
struct Extent {
    /// (first row, first column, last row, last column), 1-based.
    cells: Option<(u32, u32, u32, u32)>,
    /// At most this many bytes of XML (before the marks): the cells' text
    /// as written, and the most markup a cell or row takes.
    xml_bound: u64,
}

/// The first pass: the sheet's extent (its `<dimension>` comes before the
/// cells).
fn extent(input: &Path, text: &CsvText) -> Result<Extent, AnnotateError> {
    // The head and tail of the part.
    let mut out = Extent {
        cells: None,
        xml_bound: 1024,
    };
    sheet_rows(input, text, |row, cells, buf| {
        let first = cells.first().map(|c| c.0);
        let last = cells.last().map(|c| c.0);
        if let (Some(c1), Some(c2)) = (first, last) {
            out.cells = Some(match out.cells {
                None => (row, c1, row, c2),
                Some((r1, a, _, b)) => (r1, a.min(c1), row, b.max(c2)),
            });
        }
        let text: u64 = cells
            .iter()
            .map(|c| escaped_len(&buf[c.1.clone()]) as u64)
            .sum();
        out.xml_bound += text + 72 * cells.len() as u64 + 24;
        true
    })
    .map_err(AnnotateError::Input)?;
    Ok(out)
}

enum SheetWriteError {
    Read(ReadError),
    Io(std::io::Error),
}

/// Calls `f(row, cells, text)` for every row of the sheet in order: the
/// row's cells as (1-based column, byte range of the value in `text`), the
/// non-empty fields of the row's last record, rows and columns beyond the
/// sheet left out. Stops when `f` returns false.
fn sheet_rows(
    input: &Path,
    text: &CsvText,
    mut f: impl FnMut(u32, &[(u32, Range<usize>)], &str) -> bool,
) -> Result<(), ReadError> {
    let mut row = 0u32;
    let mut buf = String::new();
    let mut cells: Vec<(u32, Range<usize>)> = Vec::new();
    let mut go = true;
    text.for_each_row(input, |r, fields| {
        if r != row {
            if !cells.is_empty() && !f(row, &cells, &buf) {
                go = false;
                return false;
            }
            row = r;
        }
        // A later record on the same row replaces the earlier one.
        buf.clear();
        cells.clear();
        if r > ROW_MAX {
            return true;
        }
        for i in 0..fields.len().min(COL_MAX as usize) {
            let v = fields.get(i);
            if !v.is_empty() {
                let v = truncate(v);
                let at = buf.len();
                buf.push_str(v);
                cells.push((i as u32 + 1, at..buf.len()));
            }
        }
        true
    })?;
    if go && !cells.is_empty() {
        f(row, &cells, &buf);
    }
    Ok(())
}

/// The second pass: the sheet's XML, the marks applied as its rows go by.
fn write_sheet(
    input: &Path,
    text: &CsvText,
    extent: &Extent,
    edit: &SheetEdit,
    out: &mut dyn Write,
) -> Result<(), SheetWriteError> {
    let dim = match extent.cells {
        Some((r1, c1, r2, c2)) if (r1, c1) != (r2, c2) => {
            format!("{}{r1}:{}{r2}", col_letter(c1), col_letter(c2))
        }
        Some((r1, c1, _, _)) => format!("{}{r1}", col_letter(c1)),
        None => "A1".to_string(),
    };
    let dim = match super::sheet::bounding_box(&edit.cells) {
        Some(bb) => union_ref(&dim, bb),
        None => dim,
    };
    let mut w = RowWriter {
        out,
        line: Vec::with_capacity(1 << 16),
        cols: Vec::new(),
        opened: false,
    };
    w.line.extend_from_slice(HEAD.as_bytes());
    w.line.extend_from_slice(b"<dimension ref=\"");
    w.line.extend_from_slice(dim.as_bytes());
    w.line.extend_from_slice(b"\"/>");
    w.line.extend_from_slice(VIEWS.as_bytes());
    w.line.extend_from_slice(b"<sheetData");
    let marks: Vec<(u32, &BTreeMap<u32, u32>)> = edit.cells.iter().map(|(r, m)| (*r, m)).collect();
    let mut next = 0;
    let mut io_err: Option<std::io::Error> = None;
    sheet_rows(input, text, |row, cells, buf| {
        // Rows holding only marks come before this one.
        while let Some(&(r, m)) = marks.get(next)
            && r < row
        {
            w.created_row(r, m);
            next += 1;
        }
        let row_marks = match marks.get(next) {
            Some(&(r, m)) if r == row => {
                next += 1;
                Some(m)
            }
            _ => None,
        };
        w.row(row, cells, buf, row_marks);
        if w.line.len() >= 1 << 16
            && let Err(e) = w.flush()
        {
            io_err = Some(e);
            return false;
        }
        true
    })
    .map_err(SheetWriteError::Read)?;
    if let Some(e) = io_err {
        return Err(SheetWriteError::Io(e));
    }
    for &(r, m) in &marks[next..] {
        w.created_row(r, m);
    }
    if w.opened {
        w.line.extend_from_slice(b"</sheetData>");
    } else {
        w.line.extend_from_slice(b"/>");
    }
    w.line.extend_from_slice(MARGINS.as_bytes());
    if let Some(rid) = &edit.legacy_rid {
        w.line.extend_from_slice(b"<legacyDrawing r:id=\"");
        w.line
            .extend_from_slice(quick_xml::escape::escape(rid.as_str()).as_bytes());
        w.line.extend_from_slice(b"\"/>");
    }
    w.line.extend_from_slice(b"</worksheet>");
    w.flush().map_err(SheetWriteError::Io)
}

/// The sheet's XML, gathered a few rows at a time.
struct RowWriter<'w> {
    out: &'w mut dyn Write,
    line: Vec<u8>,
    /// Column letters by 1-based column, as far as used.
    cols: Vec<String>,
    /// `<sheetData>` has its first row.
    opened: bool,
}

impl RowWriter<'_> {
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }

    fn col(&mut self, c: u32) -> &str {
        while self.cols.len() <= c as usize {
            let n = self.cols.len() as u32;
            self.cols.push(col_letter(n));
        }
        &self.cols[c as usize]
    }

    fn start_row(&mut self, r: u32) {
        if !self.opened {
            self.line.push(b'>');
            self.opened = true;
        }
        self.line.extend_from_slice(b"<row r=\"");
        push_num(&mut self.line, r);
        self.line.extend_from_slice(b"\">");
    }

    fn cell_ref(&mut self, r: u32, c: u32) {
        let letters = self.col(c).to_string();
        self.line.extend_from_slice(b"<c r=\"");
        self.line.extend_from_slice(letters.as_bytes());
        push_num(&mut self.line, r);
        self.line.push(b'"');
    }

    /// A cell created for a mark: no value, the mark's style.
    fn marked_blank(&mut self, r: u32, c: u32, s: u32) {
        self.cell_ref(r, c);
        self.line.extend_from_slice(b" s=\"");
        push_num(&mut self.line, s);
        self.line.extend_from_slice(b"\"/>");
    }

    fn created_row(&mut self, r: u32, marks: &BTreeMap<u32, u32>) {
        self.start_row(r);
        for (&c, &s) in marks {
            self.marked_blank(r, c, s);
        }
        self.line.extend_from_slice(b"</row>");
    }

    fn row(
        &mut self,
        r: u32,
        cells: &[(u32, Range<usize>)],
        buf: &str,
        marks: Option<&BTreeMap<u32, u32>>,
    ) {
        self.start_row(r);
        let marks: Vec<(u32, u32)> = marks
            .map(|m| m.iter().map(|(c, s)| (*c, *s)).collect())
            .unwrap_or_default();
        let mut next = 0;
        for (c, range) in cells {
            let c = *c;
            let mut style = None;
            while let Some(&(mc, s)) = marks.get(next)
                && mc <= c
            {
                if mc == c {
                    style = Some(s);
                } else {
                    self.marked_blank(r, mc, s);
                }
                next += 1;
            }
            self.cell_ref(r, c);
            self.line.extend_from_slice(b" t=\"inlineStr\"");
            if let Some(s) = style {
                self.line.extend_from_slice(b" s=\"");
                push_num(&mut self.line, s);
                self.line.push(b'"');
            }
            let v = &buf[range.clone()];
            if v.starts_with(['\t', '\n', ' ']) || v.ends_with(['\t', '\n', ' ']) {
                self.line
                    .extend_from_slice(b"><is><t xml:space=\"preserve\">");
            } else {
                self.line.extend_from_slice(b"><is><t>");
            }
            escape_into(&mut self.line, v);
            self.line.extend_from_slice(b"</t></is></c>");
        }
        for &(mc, s) in &marks[next..] {
            self.marked_blank(r, mc, s);
        }
        self.line.extend_from_slice(b"</row>");
    }
}

fn push_num(v: &mut Vec<u8>, n: u32) {
    v.extend_from_slice(crate::model::digits(u64::from(n)).as_bytes());
}

/// At most [`CELL_CHARS`] characters.
fn truncate(s: &str) -> &str {
    if s.len() <= CELL_CHARS {
        return s;
    }
    match s.char_indices().nth(CELL_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Cell text as spreadsheet XML: `&`, `<`, `>` escaped; control characters
/// (but tab and line feed) and U+FFFE/U+FFFF as `_xHHHH_`; a literal
/// `_xHHHH_` in the text kept literal by escaping its underscore
/// (`_x005F_xHHHH_`).
fn escape_into(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if is_plain(b) {
        out.extend_from_slice(b);
        return;
    }
    for (i, ch) in s.char_indices() {
        match ch {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '_' if is_escape_at(b, i) => out.extend_from_slice(b"_x005F_"),
            '\t' | '\n' => out.push(ch as u8),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                out.extend_from_slice(format!("_x{:04X}_", ch as u32).as_bytes());
            }
            _ => {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
}

/// Nothing in `b` to escape.
fn is_plain(b: &[u8]) -> bool {
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
    b.iter().enumerate().all(|(i, &c)| match c {
        b'&' | b'<' | b'>' | b'_' | 0..=0x08 | 0x0B..=0x1F => false,
        0xEF => !(b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF))),
        _ => true,
    })
}

/// The length of `s` escaped by [`escape_into`].
fn escaped_len(s: &str) -> usize {
    if is_plain(s.as_bytes()) {
        return s.len();
    }
    let mut v = Vec::new();
    escape_into(&mut v, s);
    v.len()
}

/// `_xHHHH_` (four hex digits) starts at byte `i`.
fn is_escape_at(b: &[u8], i: usize) -> bool {
    b.len() >= i + 7
        && b[i] == b'_'
        && b[i + 1] == b'x'
        && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
        && b[i + 6] == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut v = Vec::new();
        escape_into(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn text_is_escaped_as_a_spreadsheet_writer_does() {
        assert_eq!(esc("a&b<c>d\"e'"), "a&amp;b&lt;c&gt;d\"e'");
        assert_eq!(esc("x\u{1}y\rz\t\n"), "x_x0001_y_x000D_z\t\n");
        assert_eq!(esc("_x0041_ _xZZ41_ _x41_"), "_x005F_x0041_ _xZZ41_ _x41_");
        assert_eq!(esc("长\u{FFFE}"), "长_xFFFE_");
        assert_eq!(esc("张三 610922201005031239"), "张三 610922201005031239");
        assert_eq!(escaped_len("a&b\u{1}"), esc("a&b\u{1}").len());
        assert_eq!(escaped_len("张三"), 6);
    }

    /// The size bound that decides zip64 holds for the XML written, marks
    /// included.
    #[test]
    fn the_size_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut csv = String::from("标题\n\n姓名,备注\n");
        for i in 0..200 {
            csv.push_str(&format!("张{i}, _x0041_&<\u{1}> ,{}\n", "长".repeat(i % 7)));
        }
        std::fs::write(&path, csv).unwrap();
        let text = crate::read::open_csv(&path).unwrap();
        let ext = extent(&path, &text).unwrap();
        assert_eq!(ext.cells, Some((1, 1, 203, 3)));
        let mut edit = SheetEdit::default();
        for r in [2u32, 5, 250, 300] {
            edit.cells.entry(r).or_default().insert(16_384, 123_456);
            edit.cells.entry(r).or_default().insert(1, 7);
        }
        edit.legacy_rid = Some("rIdTz2".into());
        let mut out = Vec::new();
        assert!(write_sheet(&path, &text, &ext, &edit, &mut out).is_ok());
        let marks: usize = edit.cells.values().map(|m| m.len()).sum();
        assert!((out.len() as u64) <= ext.xml_bound + 64 * marks as u64);
        let xml = String::from_utf8(out).unwrap();
        assert!(
            xml.contains(r#"<dimension ref="A1:XFD300"/>"#),
            "{}",
            &xml[..400]
        );
        assert!(xml.contains(r#"<row r="2"><c r="A2" s="7"/><c r="XFD2" s="123456"/></row>"#));
        assert!(xml.contains(r#"<c r="A5" t="inlineStr" s="7"><is><t>张1</t></is></c>"#));
        assert!(xml.ends_with(r#"<legacyDrawing r:id="rIdTz2"/></worksheet>"#));
    }

    #[test]
    fn long_text_is_cut_at_a_cells_limit() {
        let s = "长".repeat(CELL_CHARS + 5);
        assert_eq!(truncate(&s).chars().count(), CELL_CHARS);
        assert_eq!(truncate("短"), "短");
    }
}
