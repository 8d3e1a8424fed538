//! The formatting of an `.ods`, as far as ODF styles map onto an xlsx:
//! column widths, row heights, hidden rows, columns and sheets, cell fonts,
//! borders, background colours, alignment and wrap, page orientation,
//! paper, margins and scaling. Read into the same [`Layout`] as an `.xls`,
//! so the rebuilt copy is written by the same code.
//!
//! Anything that does not parse gives `None`, and the copy is then rebuilt
//! from the values alone.

use super::biff::{Font, Layout, PageSetup, SheetLayout, Xf};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Largest content.xml / styles.xml read (inflated).
const MAX_PART: u64 = 512 << 20;
/// Rows and columns beyond these are not given a format (ODS files repeat
/// empty rows and columns up to the sheet's end).
const MAX_ROW: u32 = 1_048_576;
const MAX_REPEAT_STYLED: u32 = 10_000;
/// Formatted cells kept per sheet (a hostile file repeating styled rows
/// must not exhaust memory); cells past it are written unformatted.
const MAX_STYLED_CELLS: usize = 4_000_000;

/// The layout of an ODS file, or None when it cannot be read.
pub fn read_layout(path: &Path) -> Option<Layout> {
    let file = std::fs::File::open(path).ok()?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let mut part = |name: &str| -> Option<Vec<u8>> {
        let f = zip.by_name(name).ok()?;
        let mut v = Vec::new();
        f.take(MAX_PART).read_to_end(&mut v).ok()?;
        Some(v)
    };
    let content = part("content.xml")?;
    let styles = part("styles.xml").unwrap_or_default();
    crate::guard::catch(|| parse(&content, &styles))?
}

#[derive(Default)]
struct Styles {
    /// table-cell style → XF index in the layout.
    cells: HashMap<String, u16>,
    /// table-column style → width (inches).
    cols: HashMap<String, f64>,
    /// table-row style → height (points).
    rows: HashMap<String, f64>,
    /// table style → (master page, shown).
    tables: HashMap<String, (String, bool)>,
    /// page layout → page setup; master page → page layout.
    pages: HashMap<String, PageSetup>,
    /// page layout → heights of the header and footer areas (inches).
    bands: HashMap<String, (f64, f64)>,
    /// master page → (page layout, header shown, footer shown).
    masters: HashMap<String, (String, bool, bool)>,
}

impl Styles {
    /// The page setup of a master page, with xlsx margins: the top and
    /// bottom margins of an xlsx include the header and footer areas,
    /// which ODF keeps apart.
    fn setup(&self, master: &str) -> PageSetup {
        let Some((l, header, footer)) = self.masters.get(master) else {
            return PageSetup::default();
        };
        let mut p = self.pages.get(l).cloned().unwrap_or_default();
        let (h, f) = self.bands.get(l).copied().unwrap_or((0.0, 0.0));
        if *header && let Some(top) = p.margins[2] {
            p.margins[4] = Some(top);
            p.margins[2] = Some(top + h);
        }
        if *footer && let Some(bottom) = p.margins[3] {
            p.margins[5] = Some(bottom);
            p.margins[3] = Some(bottom + f);
        }
        p
    }
}

use super::xml::attr;

/// A length in inches ("1.2in", "2.5cm", "12mm", "10pt").
fn inches(v: &str) -> Option<f64> {
    let v = v.trim();
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.trim().parse().ok()?;
    let k = match unit {
        "in" => 1.0,
        "cm" => 1.0 / 2.54,
        "mm" => 1.0 / 25.4,
        "pt" => 1.0 / 72.0,
        "pc" => 1.0 / 6.0,
        "px" => 1.0 / 96.0,
        _ => return None,
    };
    let r = n * k;
    (r.is_finite() && r >= 0.0).then_some(r)
}

fn rgb(v: &str) -> Option<u32> {
    let h = v.trim().strip_prefix('#')?;
    (h.len() == 6).then(|| u32::from_str_radix(h, 16).ok())?
}

/// "0.74pt solid #000000" → (BIFF line style, colour).
fn border(v: &str) -> Option<(u8, Option<u32>)> {
    let mut width = 0.0;
    let mut style = "solid";
    let mut color = None;
    for t in v.split_whitespace() {
        if let Some(w) = inches(t) {
            width = w * 72.0;
        } else if t.starts_with('#') {
            color = rgb(t);
        } else {
            style = t;
        }
    }
    let s = match style {
        "none" | "hidden" => return None,
        "double" | "double-thin" => 6,
        "dashed" | "long-dash" => {
            if width > 1.0 {
                8
            } else {
                3
            }
        }
        "dotted" => 4,
        "dash-dot" => 9,
        "dash-dot-dot" => 11,
        _ if width > 2.0 => 5,
        _ if width > 1.0 => 2,
        _ if width < 0.3 => 7,
        _ => 1,
    };
    Some((s, color))
}

impl Styles {
    /// A table-cell style (its properties elements) into an XF.
    fn cell_style(
        &mut self,
        layout: &mut Layout,
        name: String,
        parent: Option<String>,
        props: &[BytesStart],
    ) {
        let mut xf = Xf {
            locked: true,
            valign: 2,
            ..Xf::default()
        };
        let mut font = Font {
            color: 0x7FFF,
            ..Font::default()
        };
        let mut has_font = false;
        let color = |layout: &mut Layout, c: u32| -> u16 {
            if let Some(i) = layout.palette.iter().skip(64).position(|&p| p == c) {
                return (64 + i) as u16;
            }
            layout.palette.push(c);
            (layout.palette.len() - 1) as u16
        };
        for e in props {
            match e.local_name().as_ref() {
                "table-cell-properties" => {
                    if let Some(c) = attr(e, "fo:background-color").and_then(|v| rgb(&v)) {
                        xf.pattern = 1;
                        xf.fore = color(layout, c);
                    }
                    let all = attr(e, "fo:border");
                    for (i, side) in ["left", "right", "top", "bottom"].iter().enumerate() {
                        let v = attr(e, &format!("fo:border-{side}")).or_else(|| all.clone());
                        if let Some((s, c)) = v.as_deref().and_then(border) {
                            xf.border[i] = s;
                            xf.border_color[i] = c.map(|c| color(layout, c)).unwrap_or(0x7FFF);
                        }
                    }
                    xf.wrap = attr(e, "fo:wrap-option").as_deref() == Some("wrap");
                    xf.shrink = attr(e, "style:shrink-to-fit").as_deref() == Some("true");
                    xf.valign = match attr(e, "style:vertical-align").as_deref() {
                        Some("top") => 0,
                        Some("middle") => 1,
                        _ => 2,
                    };
                    if let Some(a) = attr(e, "style:rotation-angle")
                        && let Ok(a) = a.parse::<i32>()
                        && (1..=90).contains(&a)
                    {
                        xf.rotation = a as u8;
                    }
                }
                "paragraph-properties" => {
                    xf.halign = match attr(e, "fo:text-align").as_deref() {
                        Some("start" | "left") => 1,
                        Some("center") => 2,
                        Some("end" | "right") => 3,
                        Some("justify") => 5,
                        _ => 0,
                    };
                }
                "text-properties" => {
                    has_font = true;
                    if let Some(n) = attr(e, "style:font-name") {
                        font.name = n;
                    }
                    if let Some(s) = attr(e, "fo:font-size").and_then(|v| inches(&v)) {
                        font.size = s * 72.0;
                    }
                    font.bold = attr(e, "fo:font-weight").as_deref() == Some("bold");
                    font.italic = attr(e, "fo:font-style").as_deref() == Some("italic");
                    if attr(e, "style:text-underline-style").is_some_and(|u| u != "none") {
                        font.underline = 1;
                    }
                    if attr(e, "style:text-line-through-style").is_some_and(|u| u != "none") {
                        font.strike = true;
                    }
                    if let Some(c) = attr(e, "fo:color").and_then(|v| rgb(&v)) {
                        font.color = color(layout, c);
                    }
                }
                _ => {}
            }
        }
        if has_font {
            layout.fonts.push(font);
            let i = layout.fonts.len() - 1;
            xf.font = if i >= 4 { i + 1 } else { i } as u16;
        } else {
            // The font of the parent style (Default), else the xlsx default.
            xf.font = parent
                .and_then(|p| self.cells.get(&p))
                .and_then(|&i| layout.xfs.get(i as usize))
                .map(|x| x.font)
                .unwrap_or(u16::MAX);
        }
        layout.xfs.push(xf);
        self.cells.insert(name, (layout.xfs.len() - 1) as u16);
    }
}

/// The style elements of a part: (family, name, properties) per
/// `<style:style>` and page layouts / master pages.
fn read_styles(xml: &[u8], st: &mut Styles, layout: &mut Layout) -> Option<()> {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    // The open style:style: (family, name, property elements).
    let mut open: Option<(String, String, Option<String>, Vec<BytesStart<'static>>)> = None;
    let mut page: Option<String> = None;
    // Inside a page layout's footer style (else header style).
    let mut in_footer = false;
    let mut master: Option<String> = None;
    loop {
        let ev = r.read_event_into(&mut buf).ok()?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.name();
                match name.as_ref() {
                    "style:style" => {
                        let fam = attr(e, "style:family").unwrap_or_default();
                        let n = attr(e, "style:name").unwrap_or_default();
                        if fam == "table" {
                            let shown = true;
                            st.tables.insert(
                                n.clone(),
                                (attr(e, "style:master-page-name").unwrap_or_default(), shown),
                            );
                        }
                        let parent = attr(e, "style:parent-style-name");
                        if !empty {
                            open = Some((fam, n, parent, Vec::new()));
                        } else if fam == "table-cell" {
                            st.cell_style(layout, n, parent, &[]);
                        }
                    }
                    "style:page-layout" => {
                        page = attr(e, "style:name");
                    }
                    "style:page-layout-properties" => {
                        if let Some(p) = &page {
                            st.pages.insert(p.clone(), page_setup(e));
                        }
                    }
                    "style:master-page" => {
                        if let (Some(n), Some(l)) =
                            (attr(e, "style:name"), attr(e, "style:page-layout-name"))
                        {
                            st.masters.insert(n.clone(), (l, false, false));
                            master = (!empty).then_some(n);
                        }
                    }
                    "style:header" | "style:footer" => {
                        let shown = attr(e, "style:display").as_deref() != Some("false");
                        if let Some(m) = master.as_ref().and_then(|m| st.masters.get_mut(m)) {
                            if e.name().as_ref() == "style:header" {
                                m.1 = shown;
                            } else {
                                m.2 = shown;
                            }
                        }
                    }
                    "style:header-style" => in_footer = false,
                    "style:footer-style" => in_footer = true,
                    "style:header-footer-properties" => {
                        if let Some(p) = &page {
                            let len = |k: &str| attr(e, k).and_then(|v| inches(&v)).unwrap_or(0.0);
                            let gap = if in_footer {
                                len("fo:margin-top")
                            } else {
                                len("fo:margin-bottom")
                            };
                            let band = len("fo:min-height") + gap;
                            let b = st.bands.entry(p.clone()).or_default();
                            if in_footer {
                                b.1 = band;
                            } else {
                                b.0 = band;
                            }
                        }
                    }
                    _ => {
                        if let Some((fam, n, _, props)) = open.as_mut() {
                            match e.local_name().as_ref() {
                                "table-column-properties" => {
                                    if let Some(w) =
                                        attr(e, "style:column-width").and_then(|v| inches(&v))
                                    {
                                        st.cols.insert(n.clone(), w);
                                    }
                                }
                                "table-row-properties" => {
                                    if let Some(h) =
                                        attr(e, "style:row-height").and_then(|v| inches(&v))
                                    {
                                        st.rows.insert(n.clone(), h * 72.0);
                                    }
                                }
                                "table-properties" if fam == "table" => {
                                    if attr(e, "table:display").as_deref() == Some("false")
                                        && let Some(t) = st.tables.get_mut(n.as_str())
                                    {
                                        t.1 = false;
                                    }
                                }
                                _ => props.push(e.clone().into_owned()),
                            }
                        }
                    }
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                "style:style" => {
                    if let Some((fam, n, parent, props)) = open.take()
                        && fam == "table-cell"
                    {
                        st.cell_style(layout, n, parent, &props);
                    }
                }
                "style:page-layout" => page = None,
                "style:master-page" => master = None,
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    Some(())
}

fn page_setup(e: &BytesStart) -> PageSetup {
    let mut p = PageSetup::default();
    match attr(e, "style:print-orientation").as_deref() {
        Some("landscape") => p.landscape = Some(true),
        Some("portrait") => p.landscape = Some(false),
        _ => {}
    }
    let w = attr(e, "fo:page-width").and_then(|v| inches(&v));
    let h = attr(e, "fo:page-height").and_then(|v| inches(&v));
    if let (Some(w), Some(h)) = (w, h) {
        let (a, b) = if w < h { (w, h) } else { (h, w) };
        let near = |x: f64, y: f64| (a - x).abs() < 0.1 && (b - y).abs() < 0.1;
        p.paper = if near(8.27, 11.69) {
            Some(9)
        } else if near(11.69, 16.54) {
            Some(8)
        } else if near(8.5, 11.0) {
            Some(1)
        } else if near(8.5, 14.0) {
            Some(5)
        } else if near(5.83, 8.27) {
            Some(11)
        } else {
            None
        };
    }
    for (i, k) in ["left", "right", "top", "bottom"].iter().enumerate() {
        p.margins[i] = attr(e, &format!("fo:margin-{k}")).and_then(|v| inches(&v));
    }
    if let Some(s) = attr(e, "style:scale-to")
        .and_then(|v| v.trim_end_matches('%').parse::<f64>().ok())
        .map(|s| s.round() as u16)
        && (10..=400).contains(&s)
        && s != 100
    {
        p.scale = Some(s);
    }
    let x = attr(e, "style:scale-to-X").and_then(|v| v.parse::<u16>().ok());
    let y = attr(e, "style:scale-to-Y").and_then(|v| v.parse::<u16>().ok());
    if x.is_some() || y.is_some() {
        p.fit = Some((x.unwrap_or(0), y.unwrap_or(0)));
    }
    p
}

fn parse(content: &[u8], styles: &[u8]) -> Option<Layout> {
    let mut layout = Layout {
        palette: super::biff::default_palette(),
        ..Layout::default()
    };
    let mut st = Styles::default();
    read_styles(styles, &mut st, &mut layout)?;
    read_styles(content, &mut st, &mut layout)?;
    let mut r = Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut sheet: Option<SheetLayout> = None;
    let (mut row, mut col) = (0u32, 0u32);
    let mut row_repeat = 1u32;
    let mut col_defaults: Vec<(u32, u32, Option<u16>)> = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).ok()?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.name().as_ref() {
                    "table:table" => {
                        let name = attr(e, "table:name").unwrap_or_default();
                        let (master, shown) = attr(e, "table:style-name")
                            .and_then(|s| st.tables.get(&s).cloned())
                            .unwrap_or_default();
                        let setup = st.setup(&master);
                        sheet = Some(SheetLayout {
                            name,
                            hidden: if shown || master.is_empty() { 0 } else { 1 },
                            show_grid: true,
                            setup,
                            ..SheetLayout::default()
                        });
                        (row, col) = (0, 0);
                        col_defaults.clear();
                    }
                    "table:table-column" => {
                        let Some(sh) = sheet.as_mut() else { continue };
                        let n = repeat(e, "table:number-columns-repeated");
                        let c0 = col;
                        col = col.saturating_add(n);
                        if c0 > 255 {
                            continue;
                        }
                        let c1 = (col - 1).min(255);
                        let hidden = attr(e, "table:visibility").is_some_and(|v| v != "visible");
                        if let Some(w) = attr(e, "table:style-name").and_then(|s| st.cols.get(&s)) {
                            // Inches → characters as LibreOffice converts them
                            // for xlsx (7 points per character of the default font).
                            sh.cols.push((c0 as u16, c1 as u16, w * 72.0 / 7.0, hidden));
                        } else if hidden {
                            sh.cols.push((c0 as u16, c1 as u16, 0.0, true));
                        }
                        let d = attr(e, "table:default-cell-style-name")
                            .and_then(|s| st.cells.get(&s).copied());
                        col_defaults.push((c0, col - 1, d));
                    }
                    "table:table-row" => {
                        let Some(sh) = sheet.as_mut() else { continue };
                        row_repeat = repeat(e, "table:number-rows-repeated");
                        col = 0;
                        let hidden = attr(e, "table:visibility").is_some_and(|v| v != "visible");
                        let h = attr(e, "table:style-name").and_then(|s| st.rows.get(&s).copied());
                        if row_repeat <= MAX_REPEAT_STYLED && row < MAX_ROW {
                            for k in 0..row_repeat {
                                if hidden || h.is_some() {
                                    sh.rows.push((row + k, h.unwrap_or(0.0), hidden));
                                }
                            }
                        }
                        if empty {
                            row = row.saturating_add(row_repeat);
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        let Some(sh) = sheet.as_mut() else { continue };
                        let n = repeat(e, "table:number-columns-repeated");
                        let own =
                            attr(e, "table:style-name").and_then(|s| st.cells.get(&s).copied());
                        if n <= MAX_REPEAT_STYLED && row_repeat <= MAX_REPEAT_STYLED {
                            for k in 0..n {
                                let c = col + k;
                                // The column's default style only for cells with
                                // content: empty unstyled cells stay unformatted.
                                let xf = own.or_else(|| {
                                    col_defaults
                                        .iter()
                                        .filter(|_| !empty)
                                        .find(|(a, b, _)| (*a..=*b).contains(&c))
                                        .and_then(|d| d.2)
                                });
                                if let Some(xf) = xf
                                    && c <= 255
                                    && sh.cell_xf.len() < MAX_STYLED_CELLS
                                {
                                    for rr in 0..row_repeat {
                                        if row + rr < MAX_ROW {
                                            sh.cell_xf.insert((row + rr, c as u16), xf);
                                        }
                                    }
                                }
                            }
                        }
                        col = col.saturating_add(n);
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                "table:table-row" => row = row.saturating_add(row_repeat),
                "table:table" => {
                    if let Some(sh) = sheet.take() {
                        layout.sheets.push(sh);
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    Some(layout)
}

fn repeat(e: &BytesStart, name: &str) -> u32 {
    attr(e, name)
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_colours_and_borders() {
        assert_eq!(inches("1in"), Some(1.0));
        assert!((inches("2.54cm").unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(inches("72pt"), Some(1.0));
        assert_eq!(inches("x"), None);
        assert_eq!(inches("-1in"), None);
        assert_eq!(rgb("#d9d9d9"), Some(0xD9D9D9));
        assert_eq!(rgb("transparent"), None);
        assert_eq!(border("0.74pt solid #000000"), Some((1, Some(0))));
        assert_eq!(border("2.49pt solid #ff0000"), Some((5, Some(0xFF0000))));
        assert_eq!(border("none"), None);
    }

    proptest::proptest! {
        /// Truncated or garbled content.xml: a layout or None, never a panic.
        #[test]
        fn garbled_content_never_panics(
            keep in 0.0f64..=1.0,
            flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..24),
        ) {
            let mut c = SAMPLE.as_bytes().to_vec();
            c.truncate((c.len() as f64 * keep) as usize);
            let n = c.len();
            for (at, b) in flips {
                if n > 0 {
                    c[((n as f64 * at) as usize).min(n - 1)] = b;
                }
            }
            let _ = parse(&c, b"");
        }
    }

    const SAMPLE: &str = r##"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:automatic-styles><style:style style:name="co1" style:family="table-column"><style:table-column-properties style:column-width="1.5in"/></style:style><style:style style:name="ro1" style:family="table-row"><style:table-row-properties style:row-height="0.3in"/></style:style><style:style style:name="ce1" style:family="table-cell"><style:table-cell-properties fo:background-color="#d9d9d9" fo:border="0.74pt solid #000000" fo:wrap-option="wrap" style:vertical-align="middle"/><style:paragraph-properties fo:text-align="center"/><style:text-properties style:font-name="宋体" fo:font-size="10pt" fo:font-weight="bold"/></style:style></office:automatic-styles><office:body><office:spreadsheet><table:table table:name="表"><table:table-column table:style-name="co1" table:number-columns-repeated="3"/><table:table-row table:style-name="ro1"><table:table-cell table:style-name="ce1" table:number-columns-repeated="2"><text:p>甲</text:p></table:table-cell><table:table-cell/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"##;

    #[test]
    fn a_sample_sheet() {
        let l = parse(SAMPLE.as_bytes(), b"").unwrap();
        let s = &l.sheets[0];
        assert_eq!(s.name, "表");
        assert_eq!(s.cols, vec![(0, 2, 1.5 * 72.0 / 7.0, false)]);
        assert_eq!(s.rows, vec![(0, 0.3 * 72.0, false)]);
        assert_eq!(s.cell_xf.len(), 2);
        let xf = &l.xfs[s.cell_xf[&(0, 1)] as usize];
        assert_eq!(
            (xf.halign, xf.valign, xf.wrap, xf.border),
            (2, 1, true, [1, 1, 1, 1])
        );
        assert_eq!(l.rgb(xf.fore), Some(0xD9D9D9));
        let f = l.font(xf.font).unwrap();
        assert_eq!((f.name.as_str(), f.size, f.bold), ("宋体", 10.0, true));
    }
}
