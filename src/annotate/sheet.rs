//! Streaming pass over one worksheet part: events in, events out.
//!
//! Only three things change: the `s` attribute of marked `<c>` cells (cells
//! and rows are created, in order, where a finding points at an empty cell),
//! `<dimension ref>` when a created cell lies outside it, and a
//! `<legacyDrawing r:id>` inserted where CT_Worksheet's element order wants it.

use super::xml::{attr, cell_name, declares_r, is_main, parse_cell_ref, prefix_of, with_attr};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};

/// Worksheet children that come after `<legacyDrawing>` (CT_Worksheet order).
pub(super) const AFTER_LEGACY: &[&str] = &[
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
];

#[derive(Debug)]
pub enum SheetError {
    Xml(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for SheetError {
    fn from(e: std::io::Error) -> Self {
        SheetError::Io(e)
    }
}

/// What the first pass learns about the marked cells.
#[derive(Debug, Default)]
pub struct SheetScan {
    /// Style index of every marked cell that exists (0 when it has no `s`).
    pub cell_styles: HashMap<(u32, u32), u32>,
    /// Row styles (`customFormat="1"`) of rows holding a marked cell.
    pub row_styles: HashMap<u32, u32>,
    /// Column styles: (min, max, style).
    pub col_styles: Vec<(u32, u32, u32)>,
    /// The `r:id` of an existing `<legacyDrawing>`.
    pub legacy_rid: Option<String>,
}

impl SheetScan {
    /// The style a marked cell has now (or would have once created).
    pub fn base_style(&self, row: u32, col: u32) -> u32 {
        if let Some(s) = self.cell_styles.get(&(row, col)) {
            return *s;
        }
        if let Some(s) = self.row_styles.get(&row) {
            return *s;
        }
        for (min, max, s) in &self.col_styles {
            if (*min..=*max).contains(&col) {
                return *s;
            }
        }
        0
    }
}

/// First pass: styles of the marked cells, their rows and columns, and an
/// existing legacy drawing.
pub fn scan<R: BufRead>(reader: R, marks: &BTreeSet<(u32, u32)>) -> Result<SheetScan, SheetError> {
    let rows: BTreeSet<u32> = marks.iter().map(|(r, _)| *r).collect();
    let mut rd = NsReader::from_reader(reader);
    let mut buf = Vec::new();
    let mut out = SheetScan::default();
    let mut depth = 0u32;
    let mut section = String::new();
    let mut last_row = 0u32;
    let mut last_col = 0u32;
    loop {
        let ev = rd
            .read_event_into(&mut buf)
            .map_err(|e| SheetError::Xml(e.to_string()))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = rd.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref();
                if depth == 1 {
                    section = local.to_string();
                    if main && local == "legacyDrawing" {
                        out.legacy_rid = e
                            .attributes()
                            .with_checks(false)
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "id")
                            .map(|a| a.value.to_string());
                    }
                } else if depth == 2 && main && section == "cols" && local == "col" {
                    let min = attr(e, "min").and_then(|v| v.parse().ok());
                    let max = attr(e, "max").and_then(|v| v.parse().ok());
                    let s = attr(e, "style").and_then(|v| v.parse().ok());
                    if let (Some(min), Some(max), Some(s)) = (min, max, s) {
                        out.col_styles.push((min, max, s));
                    }
                } else if depth == 2 && main && section == "sheetData" && local == "row" {
                    let r = attr(e, "r")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(last_row + 1);
                    last_row = r;
                    last_col = 0;
                    if rows.contains(&r)
                        && attr(e, "customFormat").as_deref() == Some("1")
                        && let Some(s) = attr(e, "s").and_then(|v| v.parse().ok())
                    {
                        out.row_styles.insert(r, s);
                    }
                } else if depth == 3 && main && section == "sheetData" && local == "c" {
                    let col = attr(e, "r")
                        .and_then(|v| parse_cell_ref(&v))
                        .map(|(_, c)| c)
                        .unwrap_or(last_col + 1);
                    last_col = col;
                    if marks.contains(&(last_row, col)) {
                        let s = attr(e, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
                        out.cell_styles.insert((last_row, col), s);
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// What the second pass changes.
#[derive(Debug, Default)]
pub struct SheetEdit {
    /// row → col → new style index.
    pub cells: BTreeMap<u32, BTreeMap<u32, u32>>,
    /// Insert `<legacyDrawing r:id="…">` with this id.
    pub legacy_rid: Option<String>,
}

struct State {
    prefix: String,
    r_declared: bool,
    rel_ns: &'static str,
}

/// Second pass: copy the sheet with the edits applied.
pub fn rewrite<R: BufRead, W: Write>(
    reader: R,
    out: W,
    edit: &SheetEdit,
) -> Result<(), SheetError> {
    let mut rd = NsReader::from_reader(reader);
    let mut w = Writer::new(out);
    let mut buf = Vec::new();
    let mut pending: BTreeMap<u32, BTreeMap<u32, u32>> = edit.cells.clone();
    let mut row_targets: Option<BTreeMap<u32, u32>> = None;
    let mut depth = 0u32;
    let mut in_data = false;
    let mut last_row = 0u32;
    let mut last_col = 0u32;
    let mut cur_row = 0u32;
    let mut legacy_done = edit.legacy_rid.is_none();
    let mut st = State {
        prefix: String::new(),
        r_declared: false,
        rel_ns: super::xml::REL_NS,
    };
    let bbox = bounding_box(&edit.cells);
    loop {
        let ev = rd
            .read_event_into(&mut buf)
            .map_err(|e| SheetError::Xml(e.to_string()))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = rd.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                if depth == 0 {
                    st.prefix = prefix_of(e);
                    st.r_declared = declares_r(e);
                    if let quick_xml::name::ResolveResult::Bound(n) = &ns
                        && n.as_ref() == super::xml::MAIN_NS_STRICT
                    {
                        st.rel_ns = super::xml::REL_NS_STRICT;
                    }
                }
                let local = local.as_ref().to_string();
                if depth == 1 && main {
                    if !legacy_done && AFTER_LEGACY.contains(&local.as_str()) {
                        write_legacy(&mut w, &st, edit)?;
                        legacy_done = true;
                    }
                    if local == "dimension"
                        && let (Some(old), Some(bb)) = (attr(e, "ref"), bbox)
                    {
                        let new = union_ref(&old, bb);
                        if new != old {
                            let e2 = with_attr(e, "ref", &new);
                            if empty {
                                w.write_event(Event::Empty(e2))?;
                            } else {
                                w.write_event(Event::Start(e2))?;
                                depth += 1;
                            }
                            buf.clear();
                            continue;
                        }
                    }
                    if local == "sheetData" {
                        if empty {
                            if pending.is_empty() {
                                w.write_event(ev.clone())?;
                            } else {
                                w.write_event(Event::Start(e.borrow()))?;
                                flush_rows(&mut w, &st, &mut pending, u32::MAX)?;
                                w.write_event(Event::End(e.to_end()))?;
                            }
                            buf.clear();
                            continue;
                        }
                        in_data = true;
                    }
                }
                if in_data && depth == 2 && main && local == "row" {
                    let r = attr(e, "r")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(last_row + 1);
                    flush_rows(&mut w, &st, &mut pending, r)?;
                    last_row = r;
                    last_col = 0;
                    cur_row = r;
                    let targets = pending.remove(&r);
                    if empty {
                        match targets {
                            Some(t) if !t.is_empty() => {
                                w.write_event(Event::Start(e.borrow()))?;
                                for (c, s) in &t {
                                    write_new_cell(&mut w, &st, r, *c, *s)?;
                                }
                                w.write_event(Event::End(e.to_end()))?;
                            }
                            _ => w.write_event(ev.clone())?,
                        }
                    } else {
                        row_targets = targets;
                        w.write_event(ev.clone())?;
                        depth += 1;
                    }
                    buf.clear();
                    continue;
                }
                if in_data && depth == 3 && main && local == "c" {
                    let col = attr(e, "r")
                        .and_then(|v| parse_cell_ref(&v))
                        .map(|(_, c)| c)
                        .unwrap_or(last_col + 1);
                    last_col = col;
                    let mut mine = None;
                    if let Some(t) = row_targets.as_mut() {
                        let before: Vec<u32> = t.range(..col).map(|(c, _)| *c).collect();
                        for c in before {
                            if let Some(s) = t.remove(&c) {
                                write_new_cell(&mut w, &st, cur_row, c, s)?;
                            }
                        }
                        mine = t.remove(&col);
                    }
                    match mine {
                        Some(s) => {
                            let e2 = with_attr(e, "s", &s.to_string());
                            if empty {
                                w.write_event(Event::Empty(e2))?;
                            } else {
                                w.write_event(Event::Start(e2))?;
                            }
                        }
                        None => w.write_event(ev.clone())?,
                    }
                    if !empty {
                        depth += 1;
                    }
                    buf.clear();
                    continue;
                }
                if !empty {
                    depth += 1;
                }
                w.write_event(ev.clone())?;
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let (ns, local) = rd.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref();
                if in_data && depth == 2 && main && local == "row" {
                    if let Some(t) = row_targets.take() {
                        for (c, s) in &t {
                            write_new_cell(&mut w, &st, cur_row, *c, *s)?;
                        }
                    }
                } else if in_data && depth == 1 && main && local == "sheetData" {
                    flush_rows(&mut w, &st, &mut pending, u32::MAX)?;
                    in_data = false;
                } else if depth == 0 && !legacy_done {
                    write_legacy(&mut w, &st, edit)?;
                    legacy_done = true;
                }
                w.write_event(ev.clone())?;
            }
            _ => w.write_event(ev.clone())?,
        }
        buf.clear();
    }
    w.into_inner().flush()?;
    Ok(())
}

fn write_legacy<W: Write>(w: &mut Writer<W>, st: &State, edit: &SheetEdit) -> std::io::Result<()> {
    if let Some(rid) = &edit.legacy_rid {
        let mut e = BytesStart::new(format!("{}legacyDrawing", st.prefix));
        if !st.r_declared {
            e.push_attribute(("xmlns:r", st.rel_ns));
        }
        e.push_attribute(("r:id", rid.as_str()));
        w.write_event(Event::Empty(e))?;
    }
    Ok(())
}

fn write_new_cell<W: Write>(
    w: &mut Writer<W>,
    st: &State,
    row: u32,
    col: u32,
    s: u32,
) -> std::io::Result<()> {
    let mut e = BytesStart::new(format!("{}c", st.prefix));
    e.push_attribute(("r", cell_name(row, col).as_str()));
    e.push_attribute(("s", s.to_string().as_str()));
    w.write_event(Event::Empty(e))
}

/// Write every pending row numbered below `before` as a new `<row>`.
fn flush_rows<W: Write>(
    w: &mut Writer<W>,
    st: &State,
    pending: &mut BTreeMap<u32, BTreeMap<u32, u32>>,
    before: u32,
) -> std::io::Result<()> {
    let rows: Vec<u32> = pending.range(..before).map(|(r, _)| *r).collect();
    for r in rows {
        if let Some(cells) = pending.remove(&r) {
            let name = format!("{}row", st.prefix);
            let mut e = BytesStart::new(name.clone());
            e.push_attribute(("r", r.to_string().as_str()));
            w.write_event(Event::Start(e))?;
            for (c, s) in &cells {
                write_new_cell(w, st, r, *c, *s)?;
            }
            w.write_event(Event::End(BytesEnd::new(name)))?;
        }
    }
    Ok(())
}

pub(super) type BBox = (u32, u32, u32, u32);

pub(super) fn bounding_box(cells: &BTreeMap<u32, BTreeMap<u32, u32>>) -> Option<BBox> {
    let r1 = *cells.keys().next()?;
    let r2 = *cells.keys().next_back()?;
    let c1 = cells.values().filter_map(|m| m.keys().next()).min()?;
    let c2 = cells.values().filter_map(|m| m.keys().next_back()).max()?;
    Some((r1, *c1, r2, *c2))
}

pub(super) fn union_ref(old: &str, (r1, c1, r2, c2): BBox) -> String {
    let mut parts = old.split(':');
    let a = parts.next().and_then(parse_cell_ref);
    let b = parts.next().and_then(parse_cell_ref).or(a);
    match (a, b) {
        (Some((ar, ac)), Some((br, bc))) => {
            // A lone "A1" on an empty sheet means nothing is there yet.
            let (ar, ac, br, bc) = if old == "A1" {
                (r1, c1, r2, c2)
            } else {
                (ar, ac, br, bc)
            };
            let (nr1, nc1) = (ar.min(r1), ac.min(c1));
            let (nr2, nc2) = (br.max(r2), bc.max(c2));
            if (nr1, nc1) == (nr2, nc2) {
                cell_name(nr1, nc1)
            } else {
                format!("{}:{}", cell_name(nr1, nc1), cell_name(nr2, nc2))
            }
        }
        _ => old.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" s="2"><v>5</v></c></row><row r="3" s="4" customFormat="1"><c r="B3"><v>1</v></c></row></sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/><tableParts count="0"/></worksheet>"#;

    fn run(edit: &SheetEdit) -> String {
        let mut out = Vec::new();
        rewrite(SHEET.as_bytes(), &mut out, edit).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scan_finds_cell_row_and_default_styles() {
        let marks: BTreeSet<(u32, u32)> = [(1, 3), (1, 2), (3, 1), (5, 5)].into_iter().collect();
        let s = scan(SHEET.as_bytes(), &marks).unwrap();
        assert_eq!(s.base_style(1, 3), 2);
        assert_eq!(s.base_style(1, 2), 0);
        assert_eq!(s.base_style(3, 1), 4);
        assert_eq!(s.base_style(5, 5), 0);
        assert_eq!(s.legacy_rid, None);
    }

    #[test]
    fn rewrite_sets_styles_creates_cells_rows_and_legacy_drawing() {
        let mut edit = SheetEdit {
            legacy_rid: Some("rId9".into()),
            ..Default::default()
        };
        edit.cells.entry(1).or_default().insert(3, 10);
        edit.cells.entry(1).or_default().insert(2, 11);
        edit.cells.entry(2).or_default().insert(1, 12);
        edit.cells.entry(3).or_default().insert(4, 13);
        edit.cells.entry(7).or_default().insert(2, 14);
        let out = run(&edit);
        assert!(out.contains(r#"<dimension ref="A1:D7"/>"#), "{out}");
        assert!(out.contains(
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="11"/><c r="C1" s="10"><v>5</v></c></row><row r="2"><c r="A2" s="12"/></row><row r="3" s="4" customFormat="1"><c r="B3"><v>1</v></c><c r="D3" s="13"/></row><row r="7"><c r="B7" s="14"/></row></sheetData>"#
        ), "{out}");
        assert!(
            out.contains(r#"<legacyDrawing r:id="rId9"/><tableParts"#),
            "{out}"
        );
    }

    #[test]
    fn rewrite_without_edits_is_identity() {
        assert_eq!(run(&SheetEdit::default()), SHEET);
    }

    #[test]
    fn prefixed_sheets_get_prefixed_elements() {
        let x = r#"<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData/></x:worksheet>"#;
        let mut edit = SheetEdit {
            legacy_rid: Some("rId1".into()),
            ..Default::default()
        };
        edit.cells.entry(2).or_default().insert(2, 5);
        let mut out = Vec::new();
        rewrite(x.as_bytes(), &mut out, &edit).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            r#"<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="2"><x:c r="B2" s="5"/></x:row></x:sheetData><x:legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/></x:worksheet>"#
        );
    }
}
