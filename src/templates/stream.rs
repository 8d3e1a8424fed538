//! A long annex (the ledger: a row per child) written fast and in constant
//! memory. rust_xlsxwriter builds the workbook with the header and only the
//! first data row (its dropdowns already cover every row); the zip is then
//! written again member by member with the same options, and the other data
//! rows are put into the worksheet's XML on the way, exactly as
//! rust_xlsxwriter's constant-memory worksheet writes them (the same
//! escaping, the same style of every column as in the first row). The
//! workbook's members are the ones rust_xlsxwriter would write with every
//! row, without its per-cell cost (a cell object, a style lookup and a
//! temporary file for each of millions of cells).

use super::TCell;
use crate::model::digits;
use rust_xlsxwriter::{Workbook, XlsxError};
use std::io::{Read, Write};
use std::path::Path;

/// The zip level of a streamed annex: several times faster than the
/// default level 6 for a somewhat larger file.
pub(super) const ZIP_LEVEL: i64 = 1;

/// The worksheet member every annex workbook has (one sheet).
const SHEET: &str = "xl/worksheets/sheet1.xml";

/// Text gathered before it goes to the zip.
const CHUNK: usize = 256 * 1024;
/// The size of the pieces in which rust_xlsxwriter copies a worksheet's rows
/// into the zip (its temporary file through a default `BufReader`).
const PIECE: usize = 8 * 1024;

/// Where the data rows go in the sheet.
pub(super) struct Layout {
    /// 1-based row of the first data row.
    pub first_row: u32,
    /// Number of data rows (the first included).
    pub rows: u32,
    /// Columns of a data row.
    pub cols: u16,
}

/// Save `wb` (built with only the first data row, `first`) to `path`, with
/// `rest` (the data rows after the first) added to its worksheet.
pub(super) fn save_with_rows<I>(
    wb: &mut Workbook,
    layout: &Layout,
    first: &[TCell],
    rest: I,
    path: &Path,
) -> Result<(), XlsxError>
where
    I: Iterator,
    I::Item: AsRef<[TCell]>,
{
    let small = wb.save_to_buffer()?;
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(small))?;
    let file = std::fs::File::create(path)?;
    let mut zout = zip::ZipWriter::new_stream(std::io::BufWriter::with_capacity(1 << 20, file));
    // As rust_xlsxwriter's packager sets them.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(ZIP_LEVEL))
        .unix_permissions(0o600)
        .last_modified_time(zip::DateTime::default())
        .large_file(false);
    let mut rest = Some(rest);
    for i in 0..zin.len() {
        let mut member = zin.by_index(i)?;
        let name = member.name()?.to_string();
        let mut content = Vec::with_capacity(member.size() as usize);
        member.read_to_end(&mut content)?;
        drop(member);
        zout.start_file(name.as_str(), options)?;
        match (name == SHEET, rest.take()) {
            (true, Some(rows)) => write_sheet(&mut zout, &content, layout, first, rows)?,
            (_, r) => {
                rest = r;
                zout.write_all(&content)?;
            }
        }
    }
    if rest.is_some() {
        return Err(internal("工作表缺失"));
    }
    let mut w = zout.finish()?.into_inner();
    w.flush()?;
    Ok(())
}

fn internal(what: &str) -> XlsxError {
    XlsxError::ParameterError(format!("内部错误：生成表格时{what}"))
}

/// The sheet's XML with the data rows after the first put in before
/// `</sheetData>` and the dimension widened to the last of them.
fn write_sheet<I>(
    w: &mut dyn Write,
    xml: &[u8],
    layout: &Layout,
    first: &[TCell],
    rest: I,
) -> Result<(), XlsxError>
where
    I: Iterator,
    I::Item: AsRef<[TCell]>,
{
    let xml = std::str::from_utf8(xml).map_err(|_| internal("工作表不是 UTF-8"))?;
    let letters: Vec<String> = (0..layout.cols)
        .map(|c| crate::model::col_letter(u32::from(c) + 1))
        .collect();
    let last_col = letters.last().ok_or_else(|| internal("没有列"))?;
    let last_row = layout.first_row + layout.rows.max(1) - 1;
    let written = format!("<dimension ref=\"A1:{last_col}{}\"/>", layout.first_row);
    let (head, tail) = xml
        .split_once("</sheetData>")
        .ok_or_else(|| internal("找不到数据区"))?;
    let (before, after) = head
        .split_once(&written)
        .ok_or_else(|| internal("找不到数据范围"))?;
    let styles = styles_of(head, layout, first, &letters)?;
    let (start, written_rows) = after
        .split_once("<sheetData>")
        .ok_or_else(|| internal("找不到数据区"))?;
    // The pieces reach the zip as rust_xlsxwriter hands them over (the
    // metadata before the rows at once, the rows in pieces of PIECE bytes,
    // then the rest at once), so the compressed bytes are its bytes too.
    let mut part = Vec::with_capacity(before.len() + start.len() + 64);
    part.extend_from_slice(before.as_bytes());
    write!(part, "<dimension ref=\"A1:{last_col}{last_row}\"/>")?;
    part.extend_from_slice(start.as_bytes());
    part.extend_from_slice(b"<sheetData>");
    w.write_all(&part)?;

    // Bytes, not text: a piece may end inside a character.
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
    buf.extend_from_slice(written_rows.as_bytes());
    let mut line = String::with_capacity(4096);
    let mut r = layout.first_row;
    for row in rest {
        r += 1;
        if r > last_row {
            return Err(internal("数据行多于预计"));
        }
        line.clear();
        row_xml(&mut line, r, row.as_ref(), &letters, &styles)?;
        buf.extend_from_slice(line.as_bytes());
        if buf.len() >= CHUNK {
            let whole = buf.len() / PIECE * PIECE;
            for piece in buf[..whole].chunks(PIECE) {
                w.write_all(piece)?;
            }
            buf.drain(..whole);
        }
    }
    if r != last_row {
        return Err(internal("数据行少于预计"));
    }
    for piece in buf.chunks(PIECE) {
        w.write_all(piece)?;
    }
    let mut end = Vec::with_capacity(tail.len() + 12);
    end.extend_from_slice(b"</sheetData>");
    end.extend_from_slice(tail.as_bytes());
    w.write_all(&end)?;
    Ok(())
}

/// The style index of every column's cells, read from the first data row as
/// rust_xlsxwriter wrote it; numbers (the 序号) have their own style, known
/// only where the first row has a number.
struct Styles {
    text: Vec<Option<u32>>,
    number: Option<u32>,
}

fn styles_of(
    head: &str,
    layout: &Layout,
    first: &[TCell],
    letters: &[String],
) -> Result<Styles, XlsxError> {
    let open = format!("<row r=\"{}\">", layout.first_row);
    let row = head
        .split_once(&open)
        .map(|(_, r)| r)
        .ok_or_else(|| internal("找不到第一行数据"))?;
    let mut text = Vec::with_capacity(letters.len());
    let mut number = None;
    for (k, letter) in letters.iter().enumerate() {
        let at = format!("<c r=\"{letter}{}\"", layout.first_row);
        let s = row
            .split_once(&at)
            .map(|(_, c)| c)
            .and_then(|c| c.strip_prefix(" s=\""))
            .and_then(|c| c.split_once('"'))
            .and_then(|(n, _)| n.parse::<u32>().ok())
            .ok_or_else(|| internal("找不到单元格格式"))?;
        match first.get(k) {
            Some(TCell::Int(_)) => {
                number = Some(s);
                text.push(None);
            }
            _ => text.push(Some(s)),
        }
    }
    Ok(Styles { text, number })
}

/// One `<row>` as rust_xlsxwriter's constant-memory worksheet writes it.
fn row_xml(
    o: &mut String,
    r: u32,
    cells: &[TCell],
    letters: &[String],
    styles: &Styles,
) -> Result<(), XlsxError> {
    // Written piece by piece: the formatting machinery cost a quarter of
    // the ledger's time (a million cells at a county's size).
    let row = digits(u64::from(r));
    let row = row.as_str();
    o.push_str("<row r=\"");
    o.push_str(row);
    o.push_str("\">");
    for (k, letter) in letters.iter().enumerate() {
        let cell_start = |o: &mut String| {
            o.push_str("<c r=\"");
            o.push_str(letter);
            o.push_str(row);
            o.push('"');
        };
        match cells.get(k).unwrap_or(&TCell::Empty) {
            TCell::Int(n) => {
                let s = styles.number.ok_or_else(|| internal("数字格式未知"))?;
                cell_start(o);
                style(o, s);
                o.push_str("><v>");
                // The number as a double, as the writer stores it: whole
                // numbers up to 2^53 print as their digits.
                if n.unsigned_abs() < 1 << 53 {
                    if *n < 0 {
                        o.push('-');
                    }
                    o.push_str(digits(n.unsigned_abs()).as_str());
                } else {
                    use std::fmt::Write as _;
                    let _ = write!(o, "{}", *n as f64);
                }
                o.push_str("</v></c>");
            }
            TCell::Text(t) if !t.is_empty() => {
                if t.len() > 32_767 && t.encode_utf16().count() > 32_767 {
                    return Err(XlsxError::MaxStringLengthExceeded);
                }
                cell_start(o);
                style(o, text_style(styles, k)?);
                o.push_str(" t=\"inlineStr\"><is><t");
                let ws = ['\t', '\n', ' '];
                if t.starts_with(ws) || t.ends_with(ws) {
                    o.push_str(" xml:space=\"preserve\"");
                }
                o.push('>');
                escape(o, t);
                o.push_str("</t></is></c>");
            }
            _ => {
                cell_start(o);
                style(o, text_style(styles, k)?);
                o.push_str("/>");
            }
        }
    }
    o.push_str("</row>");
    Ok(())
}

fn text_style(styles: &Styles, col: usize) -> Result<u32, XlsxError> {
    styles
        .text
        .get(col)
        .copied()
        .flatten()
        .ok_or_else(|| internal("文字格式未知"))
}

fn style(o: &mut String, s: u32) {
    if s > 0 {
        o.push_str(" s=\"");
        o.push_str(digits(u64::from(s)).as_str());
        o.push('"');
    }
}

/// Cell text as rust_xlsxwriter escapes it: a literal `_xHHHH_` gets its
/// underscore escaped (`_x005F_xHHHH_`), then `&`, `<`, `>`, control
/// characters other than tab and newline (`_x0001_`), U+FFFE and U+FFFF.
fn escape(o: &mut String, s: &str) {
    let escaped;
    let s = if s.contains("_x") {
        escaped = escape_escapes(s);
        escaped.as_str()
    } else {
        s
    };
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let code = c as u32;
        let special = matches!(c, '&' | '<' | '>' | '\u{FFFE}' | '\u{FFFF}')
            || (code < 0x20 && c != '\t' && c != '\n');
        if !special {
            continue;
        }
        o.push_str(&s[start..i]);
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c => {
                use std::fmt::Write as _;
                let _ = write!(o, "_x{:04X}_", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    o.push_str(&s[start..]);
}

/// `_xHHHH_` (four hex digits) becomes `_x005F_xHHHH_`.
fn escape_escapes(s: &str) -> String {
    const LEN: usize = 7;
    let mut out = s.to_string();
    for (i, _) in s.rmatch_indices("_x") {
        if i + LEN > s.len() || !s.is_char_boundary(i + LEN - 1) {
            continue;
        }
        if !s[i + LEN - 1..].starts_with('_') {
            continue;
        }
        if s[i + 2..i + LEN - 1].chars().all(|c| c.is_ascii_hexdigit()) {
            out.replace_range(i..i, "_x005F");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_written_as_their_doubles_display() {
        let styles = Styles {
            number: Some(3),
            text: vec![Some(0), Some(0), Some(0), Some(0)],
        };
        let letters: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        for n in [0i64, 5, -5, 123_456_789, (1 << 53) + 1, i64::MIN] {
            let mut o = String::new();
            row_xml(&mut o, 12, &[TCell::Int(n)], &letters, &styles).unwrap();
            let want = format!(
                "<row r=\"12\"><c r=\"A12\" s=\"3\"><v>{}</v></c><c r=\"B12\"/><c r=\"C12\"/><c r=\"D12\"/></row>",
                n as f64
            );
            assert_eq!(o, want);
        }
    }
}
