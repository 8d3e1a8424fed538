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

pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<SheetData, ReadError> {
    let text = decode(bytes);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Sheet1".to_string());
    let delim = delimiter(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
    // Byte offsets where a spreadsheet row starts: after every line end that
    // is not inside a quoted cell (the csv reader's own line count skips
    // blank lines and counts line breaks inside cells).
    let tb = text.as_bytes();
    let starts = row_starts(tb);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            ReadError::input(
                path,
                format!("「{}」不是有效的 CSV 文件：{e}", file_label(path)),
            )
        })?;
        let mut byte = rec.position().map(|p| p.byte()).unwrap_or(0) as usize;
        // The reader's position is where it started looking: skipped blank
        // lines come first.
        while matches!(tb.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        // Row = 1 + row breaks (line ends outside quotes) before the record.
        let row = starts.partition_point(|&s| s <= byte) as u32;
        let mut cols = BTreeMap::new();
        for (i, field) in rec.iter().enumerate() {
            // Tab-separated exports of web systems write NULL for an empty
            // value and a leading ' to keep numbers as text.
            let field = if delim == b'\t' {
                if field.trim() == "NULL" {
                    ""
                } else {
                    field.strip_prefix('\'').unwrap_or(field)
                }
            } else {
                field
            };
            if !field.is_empty() {
                cols.insert(i as u32 + 1, Cell::Text(field.to_string()));
            }
        }
        if !cols.is_empty() {
            rows.insert(row, cols);
        }
    }
    Ok(SheetData::new(name, rows, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
