//! xls, ods and csv inputs: a new xlsx from the values (for an xls, with the
//! original's formatting), then the same marks, notes and 核对说明 sheet as
//! an xlsx copy (through the same patcher, so both kinds of copies look
//! alike: the marks' fill replaces a cell's fill and keeps its font,
//! borders and number format).

use super::biff::{Layout, SheetLayout, Xf};
use super::{AnnotateError, SummaryInfo};
use crate::model::{Cell, Finding};
use crate::read::Grid;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, FormatPattern,
    FormatScript, FormatUnderline, Note, Workbook, Worksheet,
};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Build an xlsx from the grids' values (one sheet per grid, same names
/// where Excel allows them, IDs and other text kept as text, merges
/// re-applied) and annotate it like an xlsx input. `summary.rebuilt_from`
/// should say which file it was rebuilt from.
///
/// # Errors
/// The workbook cannot be built or the output cannot be written.
pub fn rebuild_xlsx(
    grids: &[Grid],
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    rebuild_with(grids, None, output, findings, summary)
}

/// The copy of an `.xls`: rebuilt like [`rebuild_xlsx`], keeping the
/// school's formatting read from the file (fonts, borders, fills, number
/// formats, column widths, row heights, frozen panes, page setup, print
/// titles, hidden sheets, notes). When that formatting cannot be read, or
/// writing with it fails, the copy is rebuilt from the values alone as
/// before. `summary.rebuilt_from` is replaced by a line saying what was
/// kept, followed by one line per part that could not be carried over.
///
/// # Errors
/// The workbook cannot be built or the output cannot be written.
pub fn rebuild_xls(
    input: &Path,
    grids: &[Grid],
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let layout = std::fs::read(input)
        .ok()
        .and_then(|b| super::biff::read_layout(&b).ok());
    let Some(layout) = layout else {
        return rebuild_xlsx(grids, output, findings, summary);
    };
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut info = summary.clone();
    let mut lines = vec![format!(
        "本文件由 {name} 重建为 xlsx（原文件格式无法直接加批注），原文件未改动；数值、单元格格式、列宽行高、合并单元格、冻结窗格和页面设置已保留，公式只保留计算结果。"
    )];
    lines.extend(layout.lost_parts());
    info.rebuilt_from = Some(lines.join("\n"));
    match rebuild_with(grids, Some(&layout), output, findings, &info) {
        Ok(()) => Ok(()),
        // The formatting is the school's data too, but never at the cost
        // of the copy: fall back to the values.
        Err(AnnotateError::Write { .. }) => rebuild_xlsx(grids, output, findings, summary),
        Err(e) => Err(e),
    }
}

/// The copy of an `.ods`: rebuilt like [`rebuild_xlsx`], keeping what of
/// its styles maps onto an xlsx (column widths, row heights, fonts, borders,
/// background colours, alignment, page orientation, paper, margins and
/// scaling); from the values alone when the styles cannot be read or
/// writing with them fails. `summary.rebuilt_from` says what was kept and
/// gains one line per part the copy cannot carry over (charts and embedded
/// objects, pictures, macros).
///
/// # Errors
/// The workbook cannot be built or the output cannot be written.
pub fn rebuild_ods(
    input: &Path,
    grids: &[Grid],
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let lost = ods_lost_parts(input);
    let with_lost = |first: Option<String>| {
        let mut info = summary.clone();
        let mut lines: Vec<String> = first.into_iter().collect();
        lines.extend(lost.iter().cloned());
        info.rebuilt_from = (!lines.is_empty()).then(|| lines.join("\n"));
        info
    };
    let values_only = with_lost(summary.rebuilt_from.clone());
    let Some(layout) = super::ods_style::read_layout(input) else {
        return rebuild_xlsx(grids, output, findings, &values_only);
    };
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let info = with_lost(Some(format!(
        "本文件由 {name} 重建为 xlsx（原文件格式无法直接加批注），原文件未改动；数值、字体、边框、底色、对齐、列宽行高、合并单元格和页面设置已保留，数字格式与公式只保留显示的值。"
    )));
    match rebuild_with(grids, Some(&layout), output, findings, &info) {
        Ok(()) => Ok(()),
        Err(AnnotateError::Write { .. }) => rebuild_xlsx(grids, output, findings, &values_only),
        Err(e) => Err(e),
    }
}

/// What an ODS package holds that a rebuilt copy drops, by its entries:
/// `Object N/` (charts, embedded objects), `Pictures/`, `Basic/` and
/// `Scripts/` (macros).
fn ods_lost_parts(input: &Path) -> Vec<String> {
    let Ok(file) = std::fs::File::open(input) else {
        return Vec::new();
    };
    let Ok(zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Vec::new();
    };
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|s| s.ok().map(|s| s.into_owned()))
        .collect();
    let any = |f: &dyn Fn(&str) -> bool| names.iter().any(|n| f(n));
    let mut out = Vec::new();
    if any(&|n| n.starts_with("Object ") && n.ends_with("content.xml")) {
        out.push("原表中的图表未复制".to_string());
    }
    if any(&|n| n.starts_with("Pictures/") && !n.ends_with('/')) {
        out.push("原表中的图片未复制".to_string());
    }
    if any(&|n| {
        (n.starts_with("Basic/") || n.starts_with("Scripts/"))
            && !n.ends_with('/')
            && !n.ends_with("script-lc.xml")
            && !n.ends_with("dialog-lc.xml")
    }) {
        out.push("原表中的宏未复制".to_string());
    }
    out
}

fn rebuild_with(
    grids: &[Grid],
    layout: Option<&Layout>,
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let werr = |e: &dyn std::fmt::Display| AnnotateError::Write {
        path: output.to_path_buf(),
        detail: e.to_string(),
    };
    crate::templates::catch_write_panic(|| build(grids, layout))
        .map_err(|e| werr(&e))
        .and_then(|(bytes, renamed)| annotate_built(bytes, renamed, output, findings, summary))
}

/// The rebuilt workbook's bytes, and the sheet names changed on the way.
/// A sheet without merged ranges or notes (every csv) is written row by row
/// through a constant-memory worksheet at zip level 1 — a million-row csv
/// is not held twice in memory and not compressed twice at the default
/// level; cells come in row-major order ([`crate::read::read_grids`]),
/// which that mode needs. Call it inside `catch_write_panic`
/// (rust_xlsxwriter 0.102 panics when that mode's temporary file cannot be
/// written).
fn build(
    grids: &[Grid],
    layout: Option<&Layout>,
) -> Result<(Vec<u8>, HashMap<String, String>), rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    // Fixed document dates: two runs give the same bytes.
    let fixed = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut formats = Formats::new(layout);
    let visible = grids
        .iter()
        .filter(|g| sheet_layout(layout, g).is_none_or(|s| s.hidden == 0))
        .count();
    for (i, g) in grids.iter().enumerate() {
        let name = unique_name(&g.sheet, i, &mut used);
        renamed.insert(g.sheet.clone(), name.clone());
        let sl = sheet_layout(layout, g);
        let row_major = g
            .cells
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1));
        let plain = g.merges.is_empty() && sl.is_none_or(|s| s.notes.is_empty());
        let ws = if plain && row_major && g.cells.len() > STREAM_CELLS {
            wb.set_zip_compression_level(1);
            wb.add_worksheet_with_constant_memory()?
        } else {
            wb.add_worksheet()
        };
        ws.set_name(&name)?;
        if let Some(sl) = sl {
            apply_sheet_layout(ws, sl, visible > 0)?;
        }
        let xf_at = |r: u32, c: u32| -> Option<u16> {
            let sl = sl?;
            sl.cell_xf
                .get(&(r.checked_sub(1)?, u16::try_from(c.checked_sub(1)?).ok()?))
                .copied()
        };
        // Cells in row-major order: the values, and the formatted blanks
        // of the original (borders of empty cells) between them.
        let mut cells: Vec<(u32, u32, Option<&Cell>)> =
            g.cells.iter().map(|(r, c, v)| (*r, *c, Some(v))).collect();
        if let Some(sl) = sl {
            let have: std::collections::HashSet<(u32, u32)> =
                g.cells.iter().map(|(r, c, _)| (*r, *c)).collect();
            cells.extend(
                sl.cell_xf
                    .keys()
                    .map(|&(r, c)| (r + 1, c as u32 + 1, None))
                    .filter(|(r, c, _)| !have.contains(&(*r, *c))),
            );
            cells.sort_unstable_by_key(|(r, c, _)| (*r, *c));
        }
        let mut values: HashMap<(u32, u32), &Cell> = HashMap::new();
        for (r, c, v) in cells {
            if r == 0 || c == 0 || r > 1_048_576 || c > 16_384 {
                continue;
            }
            if !g.merges.is_empty()
                && let Some(v) = v
            {
                values.insert((r, c), v);
            }
            let (row, col) = (r - 1, (c - 1) as u16);
            write_cell(ws, row, col, v, xf_at(r, c), &date_fmt, &mut formats)?;
        }
        for (r1, c1, r2, c2) in &g.merges {
            if *r1 == 0 || *c1 == 0 || r2 < r1 || c2 < c1 || (r1 == r2 && c1 == c2) {
                continue;
            }
            let first = values.get(&(*r1, *c1)).copied();
            let text = match first {
                Some(Cell::Text(s)) => truncate(s).to_string(),
                _ => String::new(),
            };
            let (a, b, c, d) = (*r1 - 1, (*c1 - 1) as u16, *r2 - 1, (*c2 - 1) as u16);
            let xf = xf_at(*r1, *c1);
            let fmt = match (xf, first) {
                (Some(xf), Some(Cell::Date(_))) => formats.dated(xf),
                (Some(xf), _) => formats.get(xf),
                (None, Some(Cell::Date(_))) => date_fmt.clone(),
                (None, _) => Format::new(),
            };
            // Overlapping merges in a hand-made file: keep the values, skip the merge.
            if ws.merge_range(a, b, c, d, &text, &fmt).is_err() {
                continue;
            }
            if !matches!(first, Some(Cell::Text(_)) | None) {
                write_cell(ws, a, b, first, xf, &date_fmt, &mut formats)?;
            }
            // The covered cells keep their own borders.
            if sl.is_some() {
                for r in *r1..=*r2 {
                    for c in *c1..=*c2 {
                        if (r, c) != (*r1, *c1)
                            && let Some(xf) = xf_at(r, c)
                        {
                            ws.write_blank(r - 1, (c - 1) as u16, &formats.get(xf))?;
                        }
                    }
                }
            }
        }
        if let Some(sl) = sl {
            for (r, c, author, text) in &sl.notes {
                let mut note = Note::new(truncate(text)).add_author_prefix(false);
                if !author.trim().is_empty() {
                    note = note.set_author(author.trim());
                }
                // A note on a cell beyond the sheet is dropped.
                let _ = ws.insert_note(*r, *c, &note);
            }
        }
    }
    if grids.is_empty() {
        wb.add_worksheet();
    }
    Ok((wb.save_to_buffer()?, renamed))
}

/// The layout of a grid's sheet, by name.
fn sheet_layout<'a>(layout: Option<&'a Layout>, g: &Grid) -> Option<&'a SheetLayout> {
    layout?.sheet(&g.sheet)
}

/// One cell with its format (`xf`: the original's; dates without a number
/// format get yyyy-mm-dd); a formatted empty cell is written as a blank.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<&Cell>,
    xf: Option<u16>,
    date_fmt: &Format,
    formats: &mut Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let Some(xf) = xf else {
        match v {
            None | Some(Cell::Empty) => {}
            Some(Cell::Text(s)) => {
                ws.write_string(row, col, truncate(s))?;
            }
            Some(Cell::Number(n)) => {
                ws.write_number(row, col, *n)?;
            }
            Some(Cell::Date(n)) => {
                ws.write_number_with_format(row, col, *n, date_fmt)?;
            }
            Some(Cell::Bool(b)) => {
                ws.write_boolean(row, col, *b)?;
            }
            Some(Cell::Error(e)) => {
                ws.write_string(row, col, truncate(e))?;
            }
        }
        return Ok(());
    };
    let fmt = formats.get(xf);
    match v {
        None | Some(Cell::Empty) => {
            ws.write_blank(row, col, &fmt)?;
        }
        Some(Cell::Text(s)) => {
            ws.write_string_with_format(row, col, truncate(s), &fmt)?;
        }
        Some(Cell::Number(n)) => {
            ws.write_number_with_format(row, col, *n, &fmt)?;
        }
        Some(Cell::Date(n)) => {
            let fmt = formats.dated(xf);
            ws.write_number_with_format(row, col, *n, &fmt)?;
        }
        Some(Cell::Bool(b)) => {
            ws.write_boolean_with_format(row, col, *b, &fmt)?;
        }
        Some(Cell::Error(e)) => {
            ws.write_string_with_format(row, col, truncate(e), &fmt)?;
        }
    }
    Ok(())
}

/// Column widths, row heights, panes, page setup and visibility of a sheet.
/// `may_hide`: another sheet stays visible.
fn apply_sheet_layout(
    ws: &mut Worksheet,
    sl: &SheetLayout,
    may_hide: bool,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut has_width = [false; 256];
    for &(c0, c1, width, hidden) in &sl.cols {
        for c in c0..=c1.min(255) {
            has_width[c as usize] = true;
            if width > 0.0 {
                ws.set_column_width_pixels(c, width_pixels(width))?;
            }
            if hidden || width <= 0.0 {
                ws.set_column_hidden(c)?;
            }
        }
    }
    if let Some(w) = sl.default_col_width {
        let last = sl.cell_xf.keys().map(|k| k.1).max().unwrap_or(0).min(255);
        for c in 0..=last {
            if !has_width[c as usize] && w > 0.0 {
                ws.set_column_width_pixels(c, width_pixels(w))?;
            }
        }
    }
    let default_h = sl.default_row_height;
    if let Some(h) = default_h
        && h > 0.0
    {
        ws.set_default_row_height(h);
    }
    for &(r, h, hidden) in &sl.rows {
        if hidden {
            ws.set_row_hidden(r)?;
        } else if h > 0.0 && default_h.is_none_or(|d| (d - h).abs() > 0.01) {
            ws.set_row_height(r, h)?;
        }
    }
    if let Some((r, c)) = sl.freeze {
        ws.set_freeze_panes(r, c)?;
    }
    if !sl.show_grid {
        ws.set_screen_gridlines(false);
    }
    if let Some(z) = sl.zoom {
        ws.set_zoom(z);
    }
    let p = &sl.setup;
    if let Some(paper) = p.paper.and_then(|x| u8::try_from(x).ok()) {
        ws.set_paper_size(paper);
    }
    match p.landscape {
        Some(true) => {
            ws.set_landscape();
        }
        Some(false) => {
            ws.set_portrait();
        }
        None => {}
    }
    if let Some((w, h)) = p.fit {
        ws.set_print_fit_to_pages(w, h);
    } else if let Some(s) = p.scale {
        ws.set_print_scale(s);
    }
    let m = |i: usize| p.margins[i].unwrap_or(-1.0);
    if p.margins.iter().any(Option::is_some) {
        ws.set_margins(m(0), m(1), m(2), m(3), m(4), m(5));
    }
    if p.center_h {
        ws.set_print_center_horizontally(true);
    }
    if p.center_v {
        ws.set_print_center_vertically(true);
    }
    if p.gridlines {
        ws.set_print_gridlines(true);
    }
    if !p.header.is_empty() && p.header.chars().count() <= 255 {
        ws.set_header(&p.header);
    }
    if !p.footer.is_empty() && p.footer.chars().count() <= 255 {
        ws.set_footer(&p.footer);
    }
    if let Some(n) = p.first_page {
        ws.set_print_first_page_number(n);
    }
    if p.across_then_down {
        ws.set_page_order(false);
    }
    // Print titles, area and breaks: a range Excel would refuse is left out.
    if let Some((r0, r1)) = sl.repeat_rows {
        let _ = ws.set_repeat_rows(r0, r1);
    }
    if let Some((c0, c1)) = sl.repeat_cols {
        let _ = ws.set_repeat_columns(c0, c1);
    }
    if let Some((r0, c0, r1, c1)) = sl.print_area {
        let _ = ws.set_print_area(r0, c0, r1, c1);
    }
    if !sl.row_breaks.is_empty() {
        let _ = ws.set_page_breaks(&sl.row_breaks);
    }
    if !sl.col_breaks.is_empty() {
        let cols: Vec<u32> = sl.col_breaks.iter().map(|&c| c as u32).collect();
        let _ = ws.set_vertical_page_breaks(&cols);
    }
    if may_hide {
        match sl.hidden {
            1 => {
                ws.set_hidden(true);
            }
            2 => {
                ws.set_very_hidden(true);
            }
            _ => {}
        }
    }
    Ok(())
}

/// A column width (characters, as xlsx stores it, padding included) in
/// pixels of the default 11-point font (7-pixel digits).
fn width_pixels(width: f64) -> u32 {
    (width * 7.0 + 0.5).floor().max(0.0) as u32
}

/// Cell formats built from the original's XF records, once each.
struct Formats<'a> {
    layout: Option<&'a Layout>,
    cache: HashMap<u16, Format>,
}

impl<'a> Formats<'a> {
    fn new(layout: Option<&'a Layout>) -> Self {
        Formats {
            layout,
            cache: HashMap::new(),
        }
    }

    fn get(&mut self, xf: u16) -> Format {
        if let Some(f) = self.cache.get(&xf) {
            return f.clone();
        }
        let f = match self.layout {
            Some(l) => l
                .xfs
                .get(xf as usize)
                .map(|x| xf_format(l, x))
                .unwrap_or_default(),
            None => Format::new(),
        };
        self.cache.insert(xf, f.clone());
        f
    }

    /// A date cell's format: the original's, or it with yyyy-mm-dd when it
    /// has no number format (a date must not show as a serial number).
    fn dated(&mut self, xf: u16) -> Format {
        let fmt = self.get(xf);
        let has_num = self.layout.is_some_and(|l| {
            l.xfs.get(xf as usize).is_some_and(|x| {
                x.num_fmt != 0
                    && l.formats
                        .get(&x.num_fmt)
                        .is_none_or(|s| !s.eq_ignore_ascii_case("general"))
            })
        });
        if has_num {
            fmt
        } else {
            fmt.set_num_format("yyyy-mm-dd")
        }
    }
}

/// The xlsx cell format of a BIFF XF record.
fn xf_format(l: &Layout, x: &Xf) -> Format {
    let color = |icv: u16| l.rgb(icv).map(Color::RGB);
    let mut f = Format::new();
    if let Some(font) = l.font(x.font) {
        if !font.name.trim().is_empty() {
            f = f.set_font_name(font.name.trim());
        }
        if font.size >= 1.0 && font.size <= 409.0 {
            f = f.set_font_size(font.size);
        }
        if font.bold {
            f = f.set_bold();
        }
        if font.italic {
            f = f.set_italic();
        }
        if font.strike {
            f = f.set_font_strikethrough();
        }
        f = match font.underline {
            1 => f.set_underline(FormatUnderline::Single),
            2 => f.set_underline(FormatUnderline::Double),
            0x21 => f.set_underline(FormatUnderline::SingleAccounting),
            0x22 => f.set_underline(FormatUnderline::DoubleAccounting),
            _ => f,
        };
        f = match font.script {
            1 => f.set_font_script(FormatScript::Superscript),
            2 => f.set_font_script(FormatScript::Subscript),
            _ => f,
        };
        if let Some(c) = color(font.color) {
            f = f.set_font_color(c);
        }
        if font.charset > 0 {
            f = f.set_font_charset(font.charset);
        }
        if font.family > 0 {
            f = f.set_font_family(font.family);
        }
    }
    if let Some(nf) = l.formats.get(&x.num_fmt) {
        if !nf.is_empty() && nf != "General" && nf != "GENERAL" {
            f = f.set_num_format(nf);
        }
    } else if x.num_fmt > 0 && x.num_fmt < 164 {
        f = f.set_num_format_index(x.num_fmt as u8);
    }
    f = match x.halign {
        1 => f.set_align(FormatAlign::Left),
        2 => f.set_align(FormatAlign::Center),
        3 => f.set_align(FormatAlign::Right),
        4 => f.set_align(FormatAlign::Fill),
        5 => f.set_align(FormatAlign::Justify),
        6 => f.set_align(FormatAlign::CenterAcross),
        7 => f.set_align(FormatAlign::Distributed),
        _ => f,
    };
    f = match x.valign {
        0 => f.set_align(FormatAlign::Top),
        1 => f.set_align(FormatAlign::VerticalCenter),
        3 => f.set_align(FormatAlign::VerticalJustify),
        4 => f.set_align(FormatAlign::VerticalDistributed),
        _ => f,
    };
    if x.wrap {
        f = f.set_text_wrap();
    }
    f = match x.rotation {
        r @ 1..=90 => f.set_rotation(r as i16),
        r @ 91..=180 => f.set_rotation(-((r as i16) - 90)),
        255 => f.set_rotation(270),
        _ => f,
    };
    if x.indent > 0 {
        f = f.set_indent(x.indent);
    }
    if x.shrink {
        f = f.set_shrink();
    }
    let border = |b: u8| match b {
        1 => FormatBorder::Thin,
        2 => FormatBorder::Medium,
        3 => FormatBorder::Dashed,
        4 => FormatBorder::Dotted,
        5 => FormatBorder::Thick,
        6 => FormatBorder::Double,
        7 => FormatBorder::Hair,
        8 => FormatBorder::MediumDashed,
        9 => FormatBorder::DashDot,
        10 => FormatBorder::MediumDashDot,
        11 => FormatBorder::DashDotDot,
        12 => FormatBorder::MediumDashDotDot,
        13 => FormatBorder::SlantDashDot,
        _ => FormatBorder::None,
    };
    let [bl, br, bt, bb] = x.border;
    let [cl, cr, ct, cb] = x.border_color;
    if bl > 0 {
        f = f.set_border_left(border(bl));
        if let Some(c) = color(cl) {
            f = f.set_border_left_color(c);
        }
    }
    if br > 0 {
        f = f.set_border_right(border(br));
        if let Some(c) = color(cr) {
            f = f.set_border_right_color(c);
        }
    }
    if bt > 0 {
        f = f.set_border_top(border(bt));
        if let Some(c) = color(ct) {
            f = f.set_border_top_color(c);
        }
    }
    if bb > 0 {
        f = f.set_border_bottom(border(bb));
        if let Some(c) = color(cb) {
            f = f.set_border_bottom_color(c);
        }
    }
    const PATTERNS: [FormatPattern; 19] = [
        FormatPattern::None,
        FormatPattern::Solid,
        FormatPattern::MediumGray,
        FormatPattern::DarkGray,
        FormatPattern::LightGray,
        FormatPattern::DarkHorizontal,
        FormatPattern::DarkVertical,
        FormatPattern::DarkDown,
        FormatPattern::DarkUp,
        FormatPattern::DarkGrid,
        FormatPattern::DarkTrellis,
        FormatPattern::LightHorizontal,
        FormatPattern::LightVertical,
        FormatPattern::LightDown,
        FormatPattern::LightUp,
        FormatPattern::LightGrid,
        FormatPattern::LightTrellis,
        FormatPattern::Gray125,
        FormatPattern::Gray0625,
    ];
    match x.pattern {
        0 => {}
        1 => {
            if let Some(c) = color(x.fore) {
                f = f.set_pattern(FormatPattern::Solid).set_background_color(c);
            }
        }
        p => {
            if let Some(&pat) = PATTERNS.get(p as usize) {
                f = f.set_pattern(pat);
                if let Some(c) = color(x.fore) {
                    f = f.set_foreground_color(c);
                }
                if let Some(c) = color(x.back) {
                    f = f.set_background_color(c);
                }
            }
        }
    }
    if !x.locked {
        f = f.set_unlocked();
    }
    if x.hidden {
        f = f.set_hidden();
    }
    f
}

/// The findings, on the sheets as the rebuilt workbook names them
/// (`rename` gives a sheet's new name when it changed): the findings
/// themselves when no sheet of theirs was renamed.
pub(super) fn on_renamed_sheets(
    findings: &[Finding],
    rename: impl Fn(&str) -> Option<String>,
) -> std::borrow::Cow<'_, [Finding]> {
    let renamed = |f: &Finding| rename(&f.sheet).filter(|n| *n != f.sheet);
    if findings.iter().all(|f| renamed(f).is_none()) {
        return std::borrow::Cow::Borrowed(findings);
    }
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(n) = renamed(&f) {
                f.sheet = n;
            }
            f
        })
        .collect()
}

/// The name the copy's messages give the input (its findings' file).
pub(super) fn display_path(summary: &SummaryInfo) -> std::path::PathBuf {
    Path::new(
        summary
            .findings
            .first()
            .map(|f| f.file.as_str())
            .unwrap_or("rebuilt.xlsx"),
    )
    .to_path_buf()
}

/// Mark the rebuilt workbook like an xlsx input and write it to `output`.
fn annotate_built(
    bytes: Vec<u8>,
    renamed: HashMap<String, String>,
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let findings = on_renamed_sheets(findings, |sheet| renamed.get(sheet).cloned());
    let display = display_path(summary);
    super::write_atomically(output, |tmp| {
        super::patch::patch_package(
            std::io::Cursor::new(bytes),
            &display,
            tmp,
            output,
            &findings,
            summary,
        )
    })
}

/// Sheets with more cells than this are streamed (constant memory).
const STREAM_CELLS: usize = 200_000;

fn truncate(s: &str) -> &str {
    const MAX: usize = 32_767;
    if s.chars().count() <= MAX {
        return s;
    }
    let end = s.char_indices().nth(MAX).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end]
}

/// A sheet name Excel accepts: no []:*?/\, not empty, at most 31
/// characters, no leading/trailing apostrophe, unique (case-insensitive).
pub(super) fn unique_name(name: &str, index: usize, used: &mut BTreeSet<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim().to_string();
    let mut base: String = clean.chars().take(31).collect();
    if base.is_empty() || base == "核对说明" {
        base = format!("Sheet{}", index + 1);
    }
    let mut cand = base.clone();
    let mut k = 2;
    while used.contains(&cand.to_lowercase()) {
        let suffix = format!("({k})");
        cand = base
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            + &suffix;
        k += 1;
    }
    used.insert(cand.to_lowercase());
    cand
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_valid_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(unique_name("a/b", 0, &mut used), "a_b");
        assert_eq!(unique_name("A/B", 1, &mut used), "A_B(2)");
        assert_eq!(unique_name("", 2, &mut used), "Sheet3");
        let long = "长".repeat(40);
        assert_eq!(unique_name(&long, 3, &mut used).chars().count(), 31);
    }

    /// The Workbook stream and the values of the committed LibreOffice
    /// .xls fixture.
    fn fixture() -> &'static (Vec<u8>, Vec<Grid>) {
        static F: std::sync::OnceLock<(Vec<u8>, Vec<Grid>)> = std::sync::OnceLock::new();
        F.get_or_init(|| {
            use std::io::Read;
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/cli/survey.xls");
            let mut comp = cfb::open(&path).unwrap();
            let mut s = Vec::new();
            comp.open_stream("/Workbook")
                .unwrap()
                .read_to_end(&mut s)
                .unwrap();
            (s, crate::read::read_grids(&path).unwrap())
        })
    }

    #[test]
    fn the_fixture_rebuilds_with_its_layout() {
        let (s, grids) = fixture();
        let layout = super::super::biff::parse_workbook(s).unwrap();
        assert!(build(grids, Some(&layout)).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Truncated and garbled BIFF streams: the reader returns a layout
        /// or an error, and building with whatever layout it returned
        /// never panics.
        #[test]
        fn garbled_streams_never_panic(
            keep in 0.0f64..=1.0,
            flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..48),
        ) {
            let (s, grids) = fixture();
            let mut s = s.clone();
            s.truncate((s.len() as f64 * keep) as usize);
            let n = s.len();
            for (at, b) in flips {
                if n > 0 {
                    s[((n as f64 * at) as usize).min(n - 1)] = b;
                }
            }
            if let Ok(layout) = super::super::biff::parse_workbook(&s) {
                let _ = build(grids, Some(&layout));
            }
        }

        /// The same for whole files (the OLE container reader included).
        #[test]
        fn garbled_files_never_panic(
            keep in 0.0f64..=1.0,
            flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..16),
        ) {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/cli/survey.xls");
            let mut b = std::fs::read(path).unwrap();
            b.truncate((b.len() as f64 * keep) as usize);
            let n = b.len();
            for (at, v) in flips {
                if n > 0 {
                    b[((n as f64 * at) as usize).min(n - 1)] = v;
                }
            }
            let _ = super::super::biff::read_layout(&b);
        }
    }
}
