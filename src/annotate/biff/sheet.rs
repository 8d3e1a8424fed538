//! The worksheet substreams of a BIFF8 workbook: cell formats, column
//! widths, row heights, merged ranges, panes, page setup and notes.

use super::{
    BOF, EOF, PageSetup, Records, SheetLayout, f64_at, str_body, u16_at, u32_at, xl_string,
};
use std::collections::HashMap;

/// Parse the worksheet substream that starts at `off`.
pub(super) fn parse_sheet(s: &[u8], off: usize, sh: &mut SheetLayout) {
    let mut recs = Records { s, pos: off };
    match recs.next() {
        Some(r) if r.typ == BOF => {}
        _ => return,
    }
    let mut depth = 0usize;
    let mut frozen = false;
    let mut pane: Option<(u32, u16)> = None;
    // Notes: the text of each note object (by object id) and the notes.
    let mut obj_text: HashMap<u16, String> = HashMap::new();
    let mut last_obj: Option<(u16, u16)> = None;
    let mut txo_pending: Option<(u16, usize)> = None;
    let mut notes: Vec<(u32, u16, u16, String)> = Vec::new();
    let mut setup = PageSetup::default();
    let mut margins_seen = false;
    for r in recs {
        let d = r.data;
        if depth > 0 {
            match r.typ {
                BOF => depth += 1,
                EOF => depth -= 1,
                _ => {}
            }
            continue;
        }
        // The text of a note follows its TXO in a CONTINUE record.
        if let Some((id, cch)) = txo_pending.take()
            && r.typ == 0x003C
        {
            if let Some((t, _)) = str_body(d, 0, cch.min(d.len().saturating_sub(1)), false) {
                obj_text.insert(id, t);
            }
            continue;
        }
        match r.typ {
            BOF => {
                // An embedded chart's substream.
                if u16_at(d, 2) == Some(0x0020) {
                    sh.charts += 1;
                }
                depth += 1;
            }
            EOF => break,
            // Cell records: row, col, XF.
            0x0201 | 0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x00D6 => {
                if let (Some(row), Some(col), Some(xf)) = (u16_at(d, 0), u16_at(d, 2), u16_at(d, 4))
                {
                    sh.cell_xf.insert((row as u32, col), xf);
                }
            }
            // MULRK: row, first col, (XF, RK)*, last col.
            0x00BD => cells_multi(d, 6, sh),
            // MULBLANK: row, first col, XF*, last col.
            0x00BE => cells_multi(d, 2, sh),
            0x007D => {
                if let (Some(c0), Some(c1), Some(w), Some(fl)) =
                    (u16_at(d, 0), u16_at(d, 2), u16_at(d, 4), u16_at(d, 8))
                    && c0 <= c1
                {
                    sh.cols
                        .push((c0, c1.min(255), w as f64 / 256.0, fl & 0x01 != 0));
                }
            }
            0x0099 => {
                if let Some(w) = u16_at(d, 0) {
                    sh.default_col_width = Some(w as f64 / 256.0);
                }
            }
            0x0055 => {
                if let Some(w) = u16_at(d, 0)
                    && sh.default_col_width.is_none()
                {
                    // Characters without padding: xlsx adds 5 pixels of 7.
                    sh.default_col_width = Some(w as f64 + 5.0 / 7.0);
                }
            }
            0x0208 => {
                if let (Some(row), Some(h), Some(fl)) = (u16_at(d, 0), u16_at(d, 6), u16_at(d, 12))
                {
                    sh.rows
                        .push((row as u32, (h & 0x7FFF) as f64 / 20.0, fl & 0x20 != 0));
                }
            }
            0x0225 => {
                if let (Some(fl), Some(h)) = (u16_at(d, 0), u16_at(d, 2))
                    && fl & 0x02 == 0
                    && h > 0
                {
                    sh.default_row_height = Some(h as f64 / 20.0);
                }
            }
            0x00E5 => {
                let n = u16_at(d, 0).unwrap_or(0) as usize;
                for k in 0..n {
                    let at = 2 + k * 8;
                    if let (Some(r0), Some(r1), Some(c0), Some(c1)) = (
                        u16_at(d, at),
                        u16_at(d, at + 2),
                        u16_at(d, at + 4),
                        u16_at(d, at + 6),
                    ) && r0 <= r1
                        && c0 <= c1
                    {
                        sh.merges.push((r0 as u32, c0, r1 as u32, c1));
                    }
                }
            }
            0x023E => {
                if let Some(fl) = u16_at(d, 0) {
                    frozen = fl & 0x0008 != 0;
                    sh.show_grid = fl & 0x0002 != 0;
                }
            }
            0x0041 => {
                if let (Some(x), Some(y)) = (u16_at(d, 0), u16_at(d, 2)) {
                    pane = Some((y as u32, x));
                }
            }
            0x00A0 => {
                if let (Some(n), Some(den)) = (u16_at(d, 0), u16_at(d, 2))
                    && den > 0
                {
                    let z = (n as u32 * 100 / den as u32) as u16;
                    if (10..=400).contains(&z) && z != 100 {
                        sh.zoom = Some(z);
                    }
                }
            }
            0x00A1 => parse_setup(d, &mut setup),
            0x0081 => {
                if let Some(fl) = u16_at(d, 0) {
                    setup.fit_flag = fl & 0x0100 != 0;
                }
            }
            0x0026..=0x0029 => {
                if let Some(v) = f64_at(d, 0) {
                    setup.margins[(r.typ - 0x26) as usize] = Some(v);
                    margins_seen = true;
                }
            }
            0x0083 => setup.center_h = u16_at(d, 0) == Some(1),
            0x0084 => setup.center_v = u16_at(d, 0) == Some(1),
            0x002B => setup.gridlines = u16_at(d, 0) == Some(1),
            0x0014 => setup.header = xl_string(d, 0).unwrap_or_default(),
            0x0015 => setup.footer = xl_string(d, 0).unwrap_or_default(),
            0x001B | 0x001A => {
                let n = u16_at(d, 0).unwrap_or(0) as usize;
                for k in 0..n {
                    if let Some(v) = u16_at(d, 2 + k * 6) {
                        if r.typ == 0x001B {
                            sh.row_breaks.push(v as u32);
                        } else {
                            sh.col_breaks.push(v);
                        }
                    }
                }
            }
            0x005D => {
                // OBJ: the first sub-record is ftCmo (type 0x15): ot, id.
                if u16_at(d, 0) == Some(0x15)
                    && let (Some(ot), Some(id)) = (u16_at(d, 4), u16_at(d, 6))
                {
                    last_obj = Some((ot, id));
                    match ot {
                        0x05 => sh.charts += 1,
                        0x08 => sh.pictures += 1,
                        // Notes are kept; filter and list arrows belong
                        // to autofilters and validations.
                        0x19 | 0x14 => {}
                        _ => sh.shapes += 1,
                    }
                }
            }
            0x01B6 => {
                if let (Some((0x19, id)), Some(cch)) = (last_obj, u16_at(d, 10))
                    && cch > 0
                {
                    txo_pending = Some((id, cch as usize));
                }
            }
            0x001C => {
                if let (Some(row), Some(col), Some(id)) = (u16_at(d, 0), u16_at(d, 2), u16_at(d, 6))
                {
                    let author = xl_string(d, 8).unwrap_or_default();
                    notes.push((row as u32, col, id, author));
                }
            }
            0x01B0 => sh.cond_formats += 1,
            0x01B2 => {
                if let Some(n) = u32_at(d, 14) {
                    sh.validations += n.min(65_535) as usize;
                }
            }
            0x01B8 => sh.hyperlinks += 1,
            _ => {}
        }
    }
    if frozen
        && let Some((r, c)) = pane
        && (r > 0 || c > 0)
    {
        sh.freeze = Some((r, c));
    }
    if margins_seen || setup.paper.is_some() {
        // Absent margins of a sheet that has a page setup: the BIFF defaults.
        for (i, v) in [0.75, 0.75, 1.0, 1.0].into_iter().enumerate() {
            setup.margins[i].get_or_insert(v);
        }
    }
    if setup.fit_flag {
        setup.fit = Some(setup.fit_pages);
    }
    sh.setup = setup;
    for (row, col, id, author) in notes {
        if let Some(t) = obj_text.remove(&id) {
            sh.notes.push((row, col, author, t));
        }
    }
}

/// MULRK / MULBLANK: XF of each cell, `step` bytes apart from offset 4.
fn cells_multi(d: &[u8], step: usize, sh: &mut SheetLayout) {
    let (Some(row), Some(c0)) = (u16_at(d, 0), u16_at(d, 2)) else {
        return;
    };
    let n = d.len().saturating_sub(6) / step;
    for k in 0..n {
        if let Some(xf) = u16_at(d, 4 + k * step) {
            sh.cell_xf
                .insert((row as u32, c0.saturating_add(k as u16)), xf);
        }
    }
}

fn parse_setup(d: &[u8], s: &mut PageSetup) {
    let (Some(paper), Some(scale), Some(start), Some(fw), Some(fh), Some(fl)) = (
        u16_at(d, 0),
        u16_at(d, 2),
        u16_at(d, 4),
        u16_at(d, 6),
        u16_at(d, 8),
        u16_at(d, 10),
    ) else {
        return;
    };
    s.fit_pages = (fw, fh);
    s.across_then_down = fl & 0x01 != 0;
    if fl & 0x0080 != 0 {
        s.first_page = Some(start);
    }
    if fl & 0x04 == 0 {
        if paper > 0 {
            s.paper = Some(paper);
        }
        if (10..=400).contains(&scale) && scale != 100 {
            s.scale = Some(scale);
        }
        if fl & 0x40 == 0 {
            s.landscape = Some(fl & 0x02 == 0);
        }
    }
    s.margins[4] = f64_at(d, 16);
    s.margins[5] = f64_at(d, 24);
}
