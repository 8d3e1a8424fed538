//! Byte-level passes over a worksheet part, for the common case.
//!
//! The same two passes as [`super::sheet`] (scan, then rewrite) with the
//! same decisions, but without an event per XML node: tags are found with
//! memchr, untouched bytes are copied through as they are, and a row that
//! holds no marked cell is skipped whole (found by its end tag) instead of
//! being tokenised cell by cell. Only the tags that change are re-serialised
//! (through quick-xml, as the event pass does).
//!
//! [`scan`] answers `None` when the sheet is not plain enough for this path
//! (a DOCTYPE, a UTF-16 encoding, a root outside the SpreadsheetML namespace,
//! namespace declarations on the elements the passes look at, …); the caller
//! then uses the event passes of [`super::sheet`] for both passes. A sheet
//! [`scan`] accepted is rewritten by [`rewrite`] with the same tokens.

mod lex;

use super::sheet::{AFTER_LEGACY, SheetEdit, SheetError, SheetScan, bounding_box, union_ref};
use super::xml::{MAIN_NS, MAIN_NS_STRICT, REL_NS, REL_NS_STRICT, parse_cell_ref, with_attr};
use lex::{Finders, Lexer, Tok, start_of, xml_err};
use memchr::memmem;
use quick_xml::events::BytesStart;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

/// Value of an unprefixed attribute (unescaped), borrowed when possible.
fn attr_cow<'a>(e: &'a BytesStart<'a>, key: &str) -> Option<Cow<'a, str>> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.as_ref() == key {
            let v = a.value;
            if !v.contains('&') {
                return Some(v);
            }
            return Some(Cow::Owned(
                quick_xml::escape::unescape(&v)
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| v.to_string()),
            ));
        }
    }
    None
}

/// Namespace facts of the root element, when the fast path applies.
struct Root {
    /// `"x:"` for `<x:worksheet>`, `""` otherwise.
    prefix: String,
    r_declared: bool,
    rel_ns: &'static str,
}

fn root_of(e: &BytesStart) -> Option<Root> {
    let name = e.name();
    let qname: &str = name.as_ref();
    let (p, _) = match qname.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", qname),
    };
    let own_key = if p.is_empty() {
        "xmlns".to_string()
    } else {
        format!("xmlns:{p}")
    };
    let mut ns: Option<String> = None;
    for a in e.attributes().with_checks(false).flatten() {
        let k: &str = a.key.as_ref();
        if k == own_key {
            ns = Some(a.value.to_string());
        } else if (k == "xmlns" || k.starts_with("xmlns:"))
            && (a.value == MAIN_NS || a.value == MAIN_NS_STRICT)
        {
            // A second name for the main namespace: leave it to the event pass.
            return None;
        }
    }
    let ns = ns?;
    let rel_ns = if ns == MAIN_NS {
        REL_NS
    } else if ns == MAIN_NS_STRICT {
        REL_NS_STRICT
    } else {
        return None;
    };
    Some(Root {
        prefix: if p.is_empty() {
            String::new()
        } else {
            format!("{p}:")
        },
        r_declared: super::xml::declares_r(e),
        rel_ns,
    })
}

/// Whether a tag declares a namespace that could change what its own name
/// (or its children's) resolve to.
fn redeclares(e: &BytesStart, prefix: &str) -> bool {
    let own = format!("xmlns:{}", prefix.trim_end_matches(':'));
    e.attributes().with_checks(false).flatten().any(|a| {
        let k: &str = a.key.as_ref();
        k == "xmlns"
            || k == own
            || (k.starts_with("xmlns:") && (a.value == MAIN_NS || a.value == MAIN_NS_STRICT))
    })
}

/// The local name of `qname` when it is in the main namespace.
fn main_local<'a>(qname: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    if prefix.is_empty() {
        if qname.contains(&b':') {
            None
        } else {
            Some(qname)
        }
    } else {
        qname.strip_prefix(prefix)
    }
}

fn local_of(qname: &[u8]) -> &[u8] {
    match qname.iter().position(|&c| c == b':') {
        Some(i) => &qname[i + 1..],
        None => qname,
    }
}

/// The first start token (the root), past any declaration and comments.
/// None when the sheet is not for the fast path.
fn read_root<R: Read, W: Write>(lx: &mut Lexer<R, W>) -> Result<Option<Root>, SheetError> {
    if lx.buf.is_empty() {
        lx.more(0)?;
    }
    if lx.buf.starts_with(&[0xFE, 0xFF]) || lx.buf.starts_with(&[0xFF, 0xFE]) {
        return Ok(None);
    }
    loop {
        let t = match lx.next() {
            Ok(t) => t,
            Err(_) => return Ok(None),
        };
        match t {
            Tok::Other => {
                skip_other(lx)?;
            }
            Tok::Start { s, e, empty, .. } => {
                if empty {
                    return Ok(None);
                }
                let root = {
                    let st = match start_of(&lx.buf, s, e, false) {
                        Ok(st) => st,
                        Err(_) => return Ok(None),
                    };
                    root_of(&st)
                };
                lx.pos = e;
                return Ok(root);
            }
            Tok::End { .. } | Tok::Eof => return Ok(None),
        }
    }
}

/// Advance past an Other token at `lx.pos` (it is complete in the window).
fn skip_other<R: Read, W: Write>(lx: &mut Lexer<R, W>) -> Result<(), SheetError> {
    let rest = &lx.buf[lx.pos..];
    let (from, needle): (usize, &[u8]) = if rest.starts_with(b"<!--") {
        (4, b"-->")
    } else if rest.starts_with(b"<![CDATA[") {
        (9, b"]]>")
    } else {
        (2, b"?>")
    };
    let i = memmem::find(&rest[from..], needle).ok_or_else(|| xml_err("工作表 XML 意外结束"))?;
    lx.pos += from + i + needle.len();
    Ok(())
}

/// Advance past an End token at `lx.pos`.
fn skip_end<R: Read, W: Write>(lx: &mut Lexer<R, W>) -> Result<(), SheetError> {
    let gt =
        memchr::memchr(b'>', &lx.buf[lx.pos..]).ok_or_else(|| xml_err("工作表 XML 意外结束"))?;
    lx.pos += gt + 1;
    Ok(())
}

/// First pass (see [`super::sheet::scan`]); None: use the event pass.
pub fn scan<R: Read>(
    reader: R,
    marks: &BTreeSet<(u32, u32)>,
) -> Result<Option<SheetScan>, SheetError> {
    let rows: BTreeSet<u32> = marks.iter().map(|(r, _)| *r).collect();
    let mut lx: Lexer<R, std::io::Sink> = Lexer::new(reader, None);
    let Some(root) = read_root(&mut lx)? else {
        return Ok(None);
    };
    let prefix = root.prefix.as_bytes().to_vec();
    let finders = Finders::new(&root.prefix);
    let xmlns = memmem::Finder::new(b"xmlns");
    let mut out = SheetScan::default();
    let mut depth = 1u32;
    let mut section: Vec<u8> = Vec::new();
    let mut last_row = 0u32;
    let mut last_col = 0u32;
    loop {
        let t = match lx.next() {
            Ok(t) => t,
            Err(SheetError::Xml(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        match t {
            Tok::Eof => break,
            Tok::Other => skip_other(&mut lx)?,
            Tok::End { .. } => {
                depth = depth.saturating_sub(1);
                skip_end(&mut lx)?;
            }
            Tok::Start {
                s,
                e,
                name_end,
                empty,
            } => {
                let qname = &lx.buf[s + 1..name_end];
                let main = main_local(qname, &prefix);
                let looked_at =
                    depth == 1 || (depth <= 3 && (section == b"sheetData" || section == b"cols"));
                if looked_at && xmlns.find(&lx.buf[s..e]).is_some() {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    if redeclares(&st, &root.prefix) {
                        return Ok(None);
                    }
                }
                let mut skip_row = false;
                if depth == 1 {
                    section = local_of(qname).to_vec();
                    if main == Some(b"legacyDrawing") {
                        let st = start_of(&lx.buf, s, e, empty)?;
                        out.legacy_rid = st
                            .attributes()
                            .with_checks(false)
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "id")
                            .map(|a| a.value.to_string());
                    }
                } else if depth == 2 && section == b"cols" && main == Some(b"col") {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    let min = attr_cow(&st, "min").and_then(|v| v.parse().ok());
                    let max = attr_cow(&st, "max").and_then(|v| v.parse().ok());
                    let sty = attr_cow(&st, "style").and_then(|v| v.parse().ok());
                    if let (Some(min), Some(max), Some(sty)) = (min, max, sty) {
                        out.col_styles.push((min, max, sty));
                    }
                } else if depth == 2 && section == b"sheetData" && main == Some(b"row") {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    let r = attr_cow(&st, "r")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(last_row + 1);
                    last_row = r;
                    last_col = 0;
                    if rows.contains(&r) {
                        if attr_cow(&st, "customFormat").as_deref() == Some("1")
                            && let Some(sty) = attr_cow(&st, "s").and_then(|v| v.parse().ok())
                        {
                            out.row_styles.insert(r, sty);
                        }
                    } else {
                        skip_row = !empty;
                    }
                } else if depth == 3 && section == b"sheetData" && main == Some(b"c") {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    let col = attr_cow(&st, "r")
                        .and_then(|v| parse_cell_ref(&v))
                        .map(|(_, c)| c)
                        .unwrap_or(last_col + 1);
                    last_col = col;
                    if marks.contains(&(last_row, col)) {
                        let sty = attr_cow(&st, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
                        out.cell_styles.insert((last_row, col), sty);
                    }
                }
                lx.pos = e;
                if skip_row && lx.skip_element(&finders)? {
                    continue;
                }
                if !empty {
                    depth += 1;
                }
            }
        }
    }
    Ok(Some(out))
}

/// Second pass (see [`super::sheet::rewrite`]), for a sheet [`scan`] accepted.
pub fn rewrite<R: Read, W: Write>(reader: R, out: W, edit: &SheetEdit) -> Result<(), SheetError> {
    let mut lx = Lexer::new(reader, Some(out));
    let Some(root) = read_root(&mut lx)? else {
        return Err(xml_err("工作表的根元素无法识别"));
    };
    let prefix = root.prefix.clone();
    let pbytes = prefix.as_bytes().to_vec();
    let finders = Finders::new(&prefix);
    let mut pending: BTreeMap<u32, BTreeMap<u32, u32>> = edit.cells.clone();
    let mut row_targets: Option<BTreeMap<u32, u32>> = None;
    let mut depth = 1u32;
    let mut in_data = false;
    let mut last_row = 0u32;
    let mut last_col = 0u32;
    let mut cur_row = 0u32;
    let mut legacy_done = edit.legacy_rid.is_none();
    let bbox = bounding_box(&edit.cells);
    let mut scratch: Vec<u8> = Vec::new();
    loop {
        let t = lx.next()?;
        match t {
            Tok::Eof => break,
            Tok::Other => skip_other(&mut lx)?,
            Tok::End { s, name_end } => {
                depth = depth.saturating_sub(1);
                let main = main_local(&lx.buf[s + 2..name_end], &pbytes).map(|l| l.to_vec());
                scratch.clear();
                if in_data && depth == 2 && main.as_deref() == Some(b"row") {
                    if let Some(t) = row_targets.take() {
                        for (c, sty) in &t {
                            new_cell(&mut scratch, &prefix, cur_row, *c, *sty);
                        }
                    }
                } else if in_data && depth == 1 && main.as_deref() == Some(b"sheetData") {
                    flush_rows(&mut scratch, &prefix, &mut pending, u32::MAX);
                    in_data = false;
                } else if depth == 0 && !legacy_done {
                    legacy(&mut scratch, &root, edit);
                    legacy_done = true;
                }
                if !scratch.is_empty() {
                    lx.emit_until(s)?;
                    lx.put(&scratch)?;
                }
                skip_end(&mut lx)?;
            }
            Tok::Start {
                s,
                e,
                name_end,
                empty,
            } => {
                let qname = lx.buf[s + 1..name_end].to_vec();
                let main = main_local(&qname, &pbytes);
                // What replaces the tag (None: copied as it is) and what goes before it.
                let mut before: Vec<u8> = Vec::new();
                let mut replace: Option<Vec<u8>> = None;
                let mut skip_row = false;
                if depth == 1 && main.is_some() {
                    let local = main.unwrap_or_default();
                    if !legacy_done && AFTER_LEGACY.iter().any(|a| a.as_bytes() == local) {
                        legacy(&mut before, &root, edit);
                        legacy_done = true;
                    }
                    if local == b"dimension" {
                        let st = start_of(&lx.buf, s, e, empty)?;
                        if let (Some(old), Some(bb)) = (attr_cow(&st, "ref"), bbox) {
                            let new = union_ref(&old, bb);
                            if new != old {
                                let e2 = with_attr(&st, "ref", &new);
                                replace = Some(tag_bytes(&e2, empty));
                            }
                        }
                    }
                    if local == b"sheetData" {
                        if empty {
                            if !pending.is_empty() {
                                let st = start_of(&lx.buf, s, e, true)?;
                                let mut v = tag_bytes(&st, false);
                                flush_rows(&mut v, &prefix, &mut pending, u32::MAX);
                                v.extend_from_slice(b"</");
                                v.extend_from_slice(&qname);
                                v.push(b'>');
                                replace = Some(v);
                            }
                        } else {
                            in_data = true;
                        }
                    }
                } else if in_data && depth == 2 && main == Some(b"row") {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    let r = attr_cow(&st, "r")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(last_row + 1);
                    flush_rows(&mut before, &prefix, &mut pending, r);
                    last_row = r;
                    last_col = 0;
                    cur_row = r;
                    let targets = pending.remove(&r);
                    if empty {
                        if let Some(t) = targets.filter(|t| !t.is_empty()) {
                            let mut v = tag_bytes(&st, false);
                            for (c, sty) in &t {
                                new_cell(&mut v, &prefix, r, *c, *sty);
                            }
                            v.extend_from_slice(b"</");
                            v.extend_from_slice(&qname);
                            v.push(b'>');
                            replace = Some(v);
                        }
                    } else {
                        skip_row = targets.is_none();
                        row_targets = targets;
                    }
                } else if in_data && depth == 3 && main == Some(b"c") {
                    let st = start_of(&lx.buf, s, e, empty)?;
                    let col = attr_cow(&st, "r")
                        .and_then(|v| parse_cell_ref(&v))
                        .map(|(_, c)| c)
                        .unwrap_or(last_col + 1);
                    last_col = col;
                    let mut mine = None;
                    if let Some(t) = row_targets.as_mut() {
                        let earlier: Vec<u32> = t.range(..col).map(|(c, _)| *c).collect();
                        for c in earlier {
                            if let Some(sty) = t.remove(&c) {
                                new_cell(&mut before, &prefix, cur_row, c, sty);
                            }
                        }
                        mine = t.remove(&col);
                    }
                    if let Some(sty) = mine {
                        let e2 = with_attr(&st, "s", &sty.to_string());
                        replace = Some(tag_bytes(&e2, empty));
                    }
                }
                if !before.is_empty() || replace.is_some() {
                    lx.emit_until(s)?;
                    lx.put(&before)?;
                    if let Some(v) = &replace {
                        lx.put(v)?;
                        lx.raw_from = e;
                    }
                }
                lx.pos = e;
                if skip_row && lx.skip_element(&finders)? {
                    row_targets = None;
                    continue;
                }
                if !empty {
                    depth += 1;
                }
            }
        }
    }
    lx.finish()?;
    Ok(())
}

/// `<content>` or `<content/>`, as quick-xml's writer writes a start.
fn tag_bytes(e: &BytesStart, empty: bool) -> Vec<u8> {
    let c: &str = e;
    let mut v = Vec::with_capacity(c.len() + 3);
    v.push(b'<');
    v.extend_from_slice(c.as_bytes());
    v.extend_from_slice(if empty { b"/>" } else { b">" });
    v
}

fn new_cell(v: &mut Vec<u8>, prefix: &str, row: u32, col: u32, s: u32) {
    v.extend_from_slice(
        format!(
            "<{prefix}c r=\"{}\" s=\"{s}\"/>",
            super::xml::cell_name(row, col)
        )
        .as_bytes(),
    );
}

fn flush_rows(
    v: &mut Vec<u8>,
    prefix: &str,
    pending: &mut BTreeMap<u32, BTreeMap<u32, u32>>,
    before: u32,
) {
    let rows: Vec<u32> = pending.range(..before).map(|(r, _)| *r).collect();
    for r in rows {
        if let Some(cells) = pending.remove(&r) {
            v.extend_from_slice(format!("<{prefix}row r=\"{r}\">").as_bytes());
            for (c, s) in &cells {
                new_cell(v, prefix, r, *c, *s);
            }
            v.extend_from_slice(format!("</{prefix}row>").as_bytes());
        }
    }
}

fn legacy(v: &mut Vec<u8>, root: &Root, edit: &SheetEdit) {
    if let Some(rid) = &edit.legacy_rid {
        let rid = quick_xml::escape::escape(rid.as_str());
        let decl = if root.r_declared {
            String::new()
        } else {
            format!(" xmlns:r=\"{}\"", root.rel_ns)
        };
        v.extend_from_slice(
            format!("<{}legacyDrawing{decl} r:id=\"{rid}\"/>", root.prefix).as_bytes(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" s="2"><v>5</v></c></row><row r="3" s="4" customFormat="1"><c r="B3"><v>1</v></c></row></sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/><tableParts count="0"/></worksheet>"#;

    fn both(xml: &str, edit: &SheetEdit) -> (String, String) {
        let mut a = Vec::new();
        super::super::sheet::rewrite(xml.as_bytes(), &mut a, edit).unwrap();
        let mut b = Vec::new();
        rewrite(xml.as_bytes(), &mut b, edit).unwrap();
        (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap())
    }

    fn edit(cells: &[(u32, u32, u32)], rid: Option<&str>) -> SheetEdit {
        let mut e = SheetEdit {
            legacy_rid: rid.map(str::to_string),
            ..Default::default()
        };
        for (r, c, s) in cells {
            e.cells.entry(*r).or_default().insert(*c, *s);
        }
        e
    }

    #[test]
    fn scan_agrees_with_the_event_pass() {
        let marks: BTreeSet<(u32, u32)> = [(1, 3), (1, 2), (3, 1), (5, 5)].into_iter().collect();
        let s = scan(SHEET.as_bytes(), &marks).unwrap().unwrap();
        let t = super::super::sheet::scan(SHEET.as_bytes(), &marks).unwrap();
        assert_eq!(s.cell_styles, t.cell_styles);
        assert_eq!(s.row_styles, t.row_styles);
        assert_eq!(s.col_styles, t.col_styles);
        assert_eq!(s.legacy_rid, t.legacy_rid);
        assert_eq!(s.base_style(3, 1), 4);
    }

    #[test]
    fn rewrite_agrees_with_the_event_pass() {
        for e in [
            edit(&[], None),
            edit(
                &[(1, 3, 10), (1, 2, 11), (2, 1, 12), (3, 4, 13), (7, 2, 14)],
                Some("rId9"),
            ),
            edit(&[(3, 2, 7)], None),
            edit(&[(9, 9, 1)], Some("rId1")),
        ] {
            let (a, b) = both(SHEET, &e);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn tiny_chunks_and_prefixes_and_odd_markup() {
        let x = r#"<?xml version="1.0"?><!-- a <row> in a comment --><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:cols><x:col min="1" max="3" style="6"/></x:cols><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t><![CDATA[</x:row>]]></x:t></x:is></x:c></x:row><x:row r="2" spans="1:2"><x:c r="B2"><x:v>2</x:v></x:c></x:row><x:row r="4"/><x:row r="5"><!-- c --><x:c r="A5" s="3" attr='a>b'/></x:row></x:sheetData><x:legacyDrawing r:id="rId3" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></x:worksheet>"#;
        let marks: BTreeSet<(u32, u32)> = [(2, 1), (4, 1), (5, 1), (6, 2)].into_iter().collect();
        let s = scan(x.as_bytes(), &marks).unwrap().unwrap();
        let t = super::super::sheet::scan(x.as_bytes(), &marks).unwrap();
        assert_eq!(s.cell_styles, t.cell_styles);
        assert_eq!(s.col_styles, t.col_styles);
        assert_eq!(s.legacy_rid, t.legacy_rid);
        let e = edit(&[(2, 1, 8), (4, 1, 9), (5, 1, 10), (6, 2, 11)], None);
        let (a, b) = both(x, &e);
        assert_eq!(a, b);
        // One byte at a time through the window.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut c = Vec::new();
        rewrite(Slow(x.as_bytes()), &mut c, &e).unwrap();
        assert_eq!(String::from_utf8(c).unwrap(), b);
        let s2 = scan(Slow(x.as_bytes()), &marks).unwrap().unwrap();
        assert_eq!(s2.cell_styles, t.cell_styles);
    }

    #[test]
    fn unusual_sheets_go_to_the_event_pass() {
        let marks: BTreeSet<(u32, u32)> = [(1, 1)].into_iter().collect();
        for x in [
            r#"<!DOCTYPE x><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#,
            r#"<worksheet xmlns="urn:other"><sheetData/></worksheet>"#,
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData xmlns="urn:x"/></worksheet>"#,
        ] {
            assert!(scan(x.as_bytes(), &marks).unwrap().is_none(), "{x}");
        }
    }
}
