//! SpreadsheetML 2003 ("XML 表格", `<ss:Workbook>`): the XML text format
//! WPS, old Excel and many web systems save under an .xls name.
//!
//! Hand-written on quick-xml: no crate on crates.io reads this format
//! (calamine reads xls/xlsx/ods only). What is read: every `Worksheet` (its
//! `ss:Name`), the `Row`s and `Cell`s of its `Table` with `ss:Index` skips
//! (1-based), the `Data` of each cell by its `ss:Type` (String, Number,
//! DateTime as an Excel serial, Boolean, Error; formatted text inside a
//! `Data` is joined), and merged cells from `ss:MergeAcross`/`ss:MergeDown`.
//! Styles, formulas and comments are ignored (the values are kept).

use super::sheet_data::SheetData;
use super::{ReadError, file_label};
use crate::model::Cell;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest row or column index accepted from `ss:Index`/merges (Excel's own
/// limits), so a hostile file cannot ask for a huge grid.
const MAX_ROW: u32 = 1_048_576;
const MAX_COL: u32 = 16_384;

/// Value of an attribute by its local name (`ss:Index` → `Index`).
fn attr(e: &BytesStart, local: &str) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.local_name().as_ref() == local {
            return Some(
                quick_xml::escape::unescape(&a.value)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| a.value.to_string()),
            );
        }
    }
    None
}

fn attr_u32(e: &BytesStart, local: &str) -> Option<u32> {
    attr(e, local).and_then(|v| v.trim().parse().ok())
}

/// `2010-05-03T00:00:00.000` → Excel serial (1900 system).
fn date_serial(text: &str) -> Option<f64> {
    let t = text.trim();
    let (d, time) = t.split_once('T').unwrap_or((t, ""));
    let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = (date - base).num_days() as f64;
    let frac = chrono::NaiveTime::parse_from_str(time.trim_end_matches('Z'), "%H:%M:%S%.f")
        .map(|tm| {
            use chrono::Timelike;
            f64::from(tm.num_seconds_from_midnight()) / 86_400.0
        })
        .unwrap_or(0.0);
    Some(days + frac)
}

fn typed(kind: &str, text: String) -> Cell {
    match kind {
        "Number" => match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Cell::Number(n),
            _ => Cell::Text(text),
        },
        "DateTime" => match date_serial(&text) {
            Some(s) => Cell::Date(s),
            None => Cell::Text(text),
        },
        "Boolean" => Cell::Bool(matches!(text.trim(), "1" | "true" | "TRUE")),
        "Error" => Cell::Error(text),
        _ => Cell::Text(text),
    }
}

#[derive(Default)]
struct SheetBuild {
    name: String,
    rows: BTreeMap<u32, BTreeMap<u32, Cell>>,
    merges: Vec<(u32, u32, u32, u32)>,
}

/// Read every worksheet of a SpreadsheetML 2003 file.
pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Vec<SheetData>, ReadError> {
    let text = super::csv::decode(bytes);
    let bad = |detail: String| {
        ReadError::input(
            path,
            format!(
                "「{}」是“XML 表格 2003”格式，但内容已损坏，无法读取（{detail}）。{}",
                file_label(path),
                super::sniff::RESAVE_HINT
            ),
        )
    };
    let mut reader = Reader::from_str(&text);
    let mut sheets: Vec<SheetData> = Vec::new();
    let mut cur: Option<SheetBuild> = None;
    let mut row: u32 = 0;
    let mut col: u32 = 0;
    // Inside a Cell: its column and merge; inside its Data: type and text.
    let mut cell_at: Option<(u32, u32, u32)> = None;
    let mut data: Option<(String, String)> = None;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(format!("第{}字节附近：{e}", reader.buffer_position())))?;
        match ev {
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (e, empty) = match ev {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => continue,
                };
                let local = e.local_name();
                match local.as_ref() {
                    "Worksheet" => {
                        let n = sheets.len() + 1;
                        cur = Some(SheetBuild {
                            name: attr(&e, "Name").unwrap_or_else(|| format!("Sheet{n}")),
                            ..SheetBuild::default()
                        });
                        row = 0;
                        if empty && let Some(s) = cur.take() {
                            sheets.push(SheetData::new(s.name, s.rows, s.merges));
                        }
                    }
                    "Row" if cur.is_some() => {
                        row = attr_u32(&e, "Index").unwrap_or(row + 1).min(MAX_ROW);
                        col = 0;
                    }
                    "Cell" if cur.is_some() => {
                        col = attr_u32(&e, "Index").unwrap_or(col + 1).min(MAX_COL);
                        let across = attr_u32(&e, "MergeAcross").unwrap_or(0).min(MAX_COL);
                        let down = attr_u32(&e, "MergeDown").unwrap_or(0).min(MAX_ROW);
                        let r = row.max(1);
                        if (across > 0 || down > 0)
                            && let Some(s) = cur.as_mut()
                        {
                            s.merges.push((
                                r,
                                col,
                                (r + down).min(MAX_ROW),
                                (col + across).min(MAX_COL),
                            ));
                        }
                        if empty {
                            col = (col + across).min(MAX_COL);
                        } else {
                            cell_at = Some((r, col, across));
                        }
                    }
                    "Data" if cell_at.is_some() && !empty => {
                        data = Some((attr(&e, "Type").unwrap_or_default(), String::new()));
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some((_, s)) = data.as_mut() {
                    s.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, s)) = data.as_mut() {
                    s.push_str(t.as_ref());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, s)) = data.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        s.push(c);
                    } else if let Some(v) = quick_xml::escape::resolve_predefined_entity(&r) {
                        s.push_str(v);
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "Data" => {
                    if let (Some((kind, text)), Some((r, c, _)), Some(s)) =
                        (data.take(), cell_at, cur.as_mut())
                    {
                        let cell = typed(&kind, text);
                        if !cell.is_empty() {
                            s.rows.entry(r).or_default().insert(c, cell);
                        }
                    }
                }
                "Cell" => {
                    if let Some((_, _, across)) = cell_at.take() {
                        col = (col + across).min(MAX_COL);
                    }
                    data = None;
                }
                "Worksheet" => {
                    if let Some(s) = cur.take() {
                        sheets.push(SheetData::new(s.name, s.rows, s.merges));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(s) = cur.take() {
        sheets.push(SheetData::new(s.name, s.rows, s.merges));
    }
    if sheets.is_empty() {
        return Err(bad("没有任何工作表".to_string()));
    }
    Ok(sheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WB: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<ss:Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <ss:Worksheet ss:Name="金星村">
  <ss:Table>
   <ss:Row><ss:Cell ss:MergeAcross="2"><ss:Data ss:Type="String">标题 &amp; 说明</ss:Data></ss:Cell></ss:Row>
   <ss:Row ss:Index="3"><ss:Cell><ss:Data ss:Type="String">姓名</ss:Data></ss:Cell><ss:Cell ss:Index="3"><ss:Data ss:Type="Number">20100512</ss:Data></ss:Cell></ss:Row>
   <ss:Row><ss:Cell ss:MergeDown="1"><ss:Data ss:Type="String">户主</ss:Data></ss:Cell><ss:Cell><ss:Data ss:Type="DateTime">2010-05-03T00:00:00.000</ss:Data></ss:Cell><ss:Cell/><ss:Cell><Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40"><Font>李</Font><Font>倩</Font></Data></ss:Cell></ss:Row>
  </ss:Table>
 </ss:Worksheet>
 <ss:Worksheet ss:Name="空"/>
</ss:Workbook>"#;

    #[test]
    fn reads_cells_types_skips_and_merges() {
        let sheets = load(Path::new("t.xls"), WB.as_bytes()).unwrap();
        assert_eq!(sheets.len(), 2);
        let s = &sheets[0];
        assert_eq!(s.name, "金星村");
        assert_eq!(s.raw(1, 1), Some(&Cell::Text("标题 & 说明".into())));
        assert_eq!(s.raw(3, 1), Some(&Cell::Text("姓名".into())));
        assert_eq!(s.raw(3, 3), Some(&Cell::Number(20100512.0)));
        assert_eq!(s.raw(4, 1), Some(&Cell::Text("户主".into())));
        // 2010-05-03 is serial 40301.
        assert_eq!(s.raw(4, 2), Some(&Cell::Date(40301.0)));
        assert_eq!(s.raw(4, 4), Some(&Cell::Text("李倩".into())));
        assert_eq!(s.merges, vec![(1, 1, 1, 3), (4, 1, 5, 1)]);
        assert_eq!(sheets[1].name, "空");
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        let e = load(
            Path::new("坏.xls"),
            b"<ss:Workbook><ss:Worksheet><Row><Cell>",
        )
        .map(|_| ())
        .err();
        // Unclosed elements at the end of input are tolerated or refused,
        // never a crash; garbage inside a tag is refused.
        let _ = e;
        assert!(load(Path::new("坏.xls"), b"<ss:Workbook><ss:Worksheet <<<").is_err());
    }
}
