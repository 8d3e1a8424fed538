//! Merged ranges of an ODS workbook (calamine does not report them): read
//! `content.xml` and collect `table:number-columns-spanned` /
//! `table:number-rows-spanned` per sheet.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;
use std::io::{BufReader, Cursor};

type Merges = HashMap<String, Vec<(u32, u32, u32, u32)>>;

/// A merged cell in a repeated row is repeated too; cap the repeats so a
/// hostile file cannot blow up memory.
const MAX_REPEAT: u32 = 10_000;

fn num_attr(e: &BytesStart, name: &str) -> u32 {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(1)
}

pub(crate) fn merges(bytes: &[u8]) -> Result<Merges, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let file = zip.by_name("content.xml").map_err(|e| e.to_string())?;
    let mut xml = Reader::from_reader(BufReader::new(file));
    let mut out: Merges = HashMap::new();
    let mut buf = Vec::new();
    let mut sheet = String::new();
    let mut depth_table = 0usize;
    let mut row: u32 = 0; // 0-based index of the current row
    let mut row_repeat: u32 = 1;
    let mut col: u32 = 0;
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                match e.name().as_ref() {
                    "table:table" if !is_empty => {
                        depth_table += 1;
                        if depth_table == 1 {
                            sheet = e
                                .try_get_attribute("table:name")
                                .ok()
                                .flatten()
                                .and_then(|a| {
                                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                        .ok()
                                        .map(|v| v.into_owned())
                                })
                                .unwrap_or_default();
                            row = 0;
                        }
                    }
                    "table:table-row" if depth_table == 1 => {
                        row_repeat = num_attr(e, "table:number-rows-repeated").max(1);
                        col = 0;
                        if is_empty {
                            row = row.saturating_add(row_repeat);
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" if depth_table == 1 => {
                        let repeat = num_attr(e, "table:number-columns-repeated").max(1);
                        if e.name().as_ref() == "table:table-cell" {
                            let cs = num_attr(e, "table:number-columns-spanned").max(1);
                            let rs = num_attr(e, "table:number-rows-spanned").max(1);
                            if cs > 1 || rs > 1 {
                                let list = out.entry(sheet.clone()).or_default();
                                for k in 0..row_repeat.min(MAX_REPEAT) {
                                    let r = row + k + 1;
                                    let c = col + 1;
                                    list.push((r, c, r + rs - 1, c + cs - 1));
                                }
                            }
                        }
                        col = col.saturating_add(repeat);
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                "table:table" => depth_table = depth_table.saturating_sub(1),
                "table:table-row" if depth_table == 1 => {
                    row = row.saturating_add(row_repeat);
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}
