//! The formatting of an `.xls` (BIFF8, as Excel, WPS and LibreOffice write
//! it): fonts, cell formats, number formats, column widths, row heights,
//! merged ranges, frozen panes, page setup, print titles, notes and which
//! parts (charts, pictures, macros …) a rebuilt copy cannot carry over.
//!
//! The values come from calamine; calamine does not read formatting from
//! BIFF, and no well-kept crate does, so the few records that carry it are
//! read here by hand. The OLE container is opened by the `cfb` crate.
//!
//! Robustness: every record is bounds-checked; a record that does not parse
//! is skipped, a stream that does not parse at all gives an error, and the
//! caller then rebuilds the copy from values alone. Nothing here panics on
//! hostile bytes (the tests feed truncated and garbled streams).

mod sheet;

use sheet::parse_sheet;
use std::collections::HashMap;
use std::io::{Cursor, Read};

/// The formatting of one workbook.
#[derive(Debug, Default)]
pub struct Layout {
    pub sheets: Vec<SheetLayout>,
    pub fonts: Vec<Font>,
    pub xfs: Vec<Xf>,
    /// Number formats by index (FORMAT records).
    pub formats: HashMap<u16, String>,
    /// Colour table (indices 0..64), default palette with PALETTE applied.
    pub palette: Vec<u32>,
    /// Whether the OLE file holds a VBA project (or the workbook macro sheets).
    pub macros: bool,
    /// Chart sheets (not worksheets).
    pub chart_sheets: usize,
}

/// One worksheet's layout (0-based rows and columns).
#[derive(Debug, Default)]
pub struct SheetLayout {
    pub name: String,
    /// 0 visible, 1 hidden, 2 very hidden.
    pub hidden: u8,
    /// (first col, last col, width in Excel character units as xlsx
    /// stores them, hidden).
    pub cols: Vec<(u16, u16, f64, bool)>,
    /// Default column width (characters) for columns without their own.
    pub default_col_width: Option<f64>,
    /// (row, height in points, hidden).
    pub rows: Vec<(u32, f64, bool)>,
    /// Default row height in points.
    pub default_row_height: Option<f64>,
    /// The cell format (XF index) of every cell record, blanks included.
    pub cell_xf: HashMap<(u32, u16), u16>,
    /// (first row, first col, last row, last col), inclusive.
    pub merges: Vec<(u32, u16, u32, u16)>,
    /// Frozen rows and columns.
    pub freeze: Option<(u32, u16)>,
    pub show_grid: bool,
    pub zoom: Option<u16>,
    pub setup: PageSetup,
    /// Print titles: repeated rows and columns; the print area.
    pub repeat_rows: Option<(u32, u32)>,
    pub repeat_cols: Option<(u16, u16)>,
    pub print_area: Option<(u32, u16, u32, u16)>,
    /// Manual page breaks (row before which a page starts; column likewise).
    pub row_breaks: Vec<u32>,
    pub col_breaks: Vec<u16>,
    /// Notes: (row, col, author, text).
    pub notes: Vec<(u32, u16, String, String)>,
    pub charts: usize,
    pub pictures: usize,
    /// Buttons, text boxes, shapes, form controls.
    pub shapes: usize,
    pub cond_formats: usize,
    pub validations: usize,
    pub hyperlinks: usize,
}

/// Page setup of a sheet (SETUP, WSBOOL, margins, HEADER/FOOTER …).
#[derive(Debug, Default, Clone)]
pub struct PageSetup {
    pub paper: Option<u16>,
    pub scale: Option<u16>,
    pub landscape: Option<bool>,
    /// Fit to (pages wide, pages tall); 0 = as many as needed.
    pub fit: Option<(u16, u16)>,
    pub fit_flag: bool,
    pub fit_pages: (u16, u16),
    /// left, right, top, bottom, header, footer (inches).
    pub margins: [Option<f64>; 6],
    pub center_h: bool,
    pub center_v: bool,
    pub gridlines: bool,
    pub header: String,
    pub footer: String,
    pub first_page: Option<u16>,
    pub across_then_down: bool,
}

/// A FONT record.
#[derive(Debug, Clone, Default)]
pub struct Font {
    pub name: String,
    /// Size in points.
    pub size: f64,
    pub bold: bool,
    pub italic: bool,
    pub strike: bool,
    /// 0 none, 1 single, 2 double, 0x21 single accounting, 0x22 double accounting.
    pub underline: u8,
    /// 0 none, 1 superscript, 2 subscript.
    pub script: u16,
    /// Colour index (0x7FFF automatic).
    pub color: u16,
    pub charset: u8,
    pub family: u8,
}

/// A cell XF record (the parts an xlsx cell format carries).
#[derive(Debug, Clone, Default)]
pub struct Xf {
    pub font: u16,
    pub num_fmt: u16,
    pub locked: bool,
    pub hidden: bool,
    pub halign: u8,
    pub wrap: bool,
    pub valign: u8,
    pub rotation: u8,
    pub indent: u8,
    pub shrink: bool,
    /// left, right, top, bottom line styles (0 none).
    pub border: [u8; 4],
    /// left, right, top, bottom colour indices.
    pub border_color: [u16; 4],
    pub pattern: u8,
    pub fore: u16,
    pub back: u16,
}

/// Why a stream is not read (the copy is then rebuilt from values).
#[derive(Debug)]
pub struct BiffError(pub String);

impl std::fmt::Display for BiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad(s: impl Into<String>) -> BiffError {
    BiffError(s.into())
}

/// Read the layout of an `.xls` file's bytes.
///
/// # Errors
/// Not an OLE file, no Workbook stream, encrypted, not BIFF8, or a panic
/// inside the container reader.
pub fn read_layout(bytes: &[u8]) -> Result<Layout, BiffError> {
    crate::guard::catch(|| read_layout_inner(bytes))
        .unwrap_or_else(|| Err(bad("OLE container reader panicked")))
}

fn read_layout_inner(bytes: &[u8]) -> Result<Layout, BiffError> {
    let mut comp = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let macros = comp.is_storage("/_VBA_PROJECT_CUR") || comp.is_storage("/_VBA_PROJECT");
    let name = ["/Workbook", "/Book", "/WORKBOOK", "/BOOK"]
        .into_iter()
        .find(|n| comp.is_stream(n))
        .ok_or_else(|| bad("no Workbook stream"))?;
    let mut stream = Vec::new();
    comp.open_stream(name)
        .and_then(|mut s| s.read_to_end(&mut stream))
        .map_err(|e| bad(e.to_string()))?;
    let mut layout = parse_workbook(&stream)?;
    layout.macros |= macros;
    Ok(layout)
}

/// One record: type and data.
struct Rec<'a> {
    typ: u16,
    data: &'a [u8],
}

/// The records from `pos` on.
struct Records<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = Rec<'a>;
    fn next(&mut self) -> Option<Rec<'a>> {
        let h = self.s.get(self.pos..self.pos.checked_add(4)?)?;
        let typ = u16::from_le_bytes([h[0], h[1]]);
        let len = u16::from_le_bytes([h[2], h[3]]) as usize;
        let start = self.pos + 4;
        let data = self.s.get(start..start + len)?;
        self.pos = start + len;
        Some(Rec { typ, data })
    }
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(i..i + 4)?.try_into().ok()?))
}

fn f64_at(d: &[u8], i: usize) -> Option<f64> {
    let v = f64::from_le_bytes(d.get(i..i + 8)?.try_into().ok()?);
    v.is_finite().then_some(v)
}

/// Characters of a BIFF8 string body: `flags` byte then `cch` characters
/// (compressed Latin-1 or UTF-16LE). Rich-text and phonetic trailers are
/// skipped when `trailers`. Returns the string and the bytes consumed.
fn str_body(d: &[u8], at: usize, cch: usize, trailers: bool) -> Option<(String, usize)> {
    let flags = *d.get(at)?;
    let mut i = at + 1;
    let (mut runs, mut ext) = (0usize, 0usize);
    if trailers && flags & 0x08 != 0 {
        runs = u16_at(d, i)? as usize;
        i += 2;
    }
    if trailers && flags & 0x04 != 0 {
        ext = u32_at(d, i)? as usize;
        i += 4;
    }
    let s = if flags & 0x01 != 0 {
        let raw = d.get(i..i + cch * 2)?;
        i += cch * 2;
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        let raw = d.get(i..i + cch)?;
        i += cch;
        raw.iter().map(|&b| b as char).collect()
    };
    i += runs * 4 + ext;
    Some((s, i - at))
}

/// XLUnicodeString (u16 count).
fn xl_string(d: &[u8], at: usize) -> Option<String> {
    let cch = u16_at(d, at)? as usize;
    str_body(d, at + 2, cch, false).map(|(s, _)| s)
}

/// ShortXLUnicodeString (u8 count).
fn short_string(d: &[u8], at: usize) -> Option<String> {
    let cch = *d.get(at)? as usize;
    str_body(d, at + 1, cch, false).map(|(s, _)| s)
}

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;

pub(crate) fn parse_workbook(s: &[u8]) -> Result<Layout, BiffError> {
    let mut recs = Records { s, pos: 0 };
    let first = recs.next().ok_or_else(|| bad("empty stream"))?;
    if first.typ != BOF || u16_at(first.data, 0) != Some(0x0600) {
        return Err(bad("not a BIFF8 workbook"));
    }
    let mut layout = Layout {
        palette: default_palette(),
        ..Layout::default()
    };
    // (stream offset, hidden state, sheet type, name)
    let mut sheets: Vec<(usize, u8, u8, String)> = Vec::new();
    // Built-in names: (sheet index 0-based, 6 = print area / 7 = titles, formula)
    let mut builtin: Vec<(usize, u8, Vec<u8>)> = Vec::new();
    for r in recs.by_ref() {
        let d = r.data;
        match r.typ {
            EOF => break,
            0x002F => return Err(bad("encrypted (FILEPASS)")),
            0x0031 => {
                if let Some(f) = parse_font(d) {
                    layout.fonts.push(f);
                }
            }
            0x041E => {
                if let (Some(i), Some(f)) = (u16_at(d, 0), xl_string(d, 2)) {
                    layout.formats.insert(i, f);
                }
            }
            0x00E0 => layout.xfs.push(parse_xf(d).unwrap_or_default()),
            0x0092 => {
                let n = u16_at(d, 0).unwrap_or(0) as usize;
                for k in 0..n.min(56) {
                    if let Some(c) = d.get(2 + k * 4..2 + k * 4 + 3) {
                        layout.palette[8 + k] =
                            (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
                    }
                }
            }
            0x0085 => {
                if let (Some(off), Some(&hs), Some(&dt), Some(name)) =
                    (u32_at(d, 0), d.get(4), d.get(5), short_string(d, 6))
                {
                    sheets.push((off as usize, hs & 0x03, dt, name));
                }
            }
            0x00D3 => layout.macros = true,
            0x0018 => {
                if let Some(n) = parse_builtin_name(d) {
                    builtin.push(n);
                }
            }
            _ => {}
        }
    }
    for (off, hidden, dt, name) in &sheets {
        match dt {
            0 => {}
            2 => {
                layout.chart_sheets += 1;
                continue;
            }
            1 | 6 => {
                layout.macros = true;
                continue;
            }
            _ => continue,
        }
        let mut sh = SheetLayout {
            name: name.clone(),
            hidden: *hidden,
            show_grid: true,
            ..SheetLayout::default()
        };
        parse_sheet(s, *off, &mut sh);
        layout.sheets.push(sh);
    }
    // Print titles and areas name the sheet by its index among all sheets.
    for (itab, kind, rgce) in builtin {
        let Some(name) = sheets.get(itab).map(|s| &s.3) else {
            continue;
        };
        let Some(sh) = layout.sheets.iter_mut().find(|x| &x.name == name) else {
            continue;
        };
        for (r0, r1, c0, c1) in areas(&rgce) {
            match kind {
                6 if sh.print_area.is_none() => sh.print_area = Some((r0, c0, r1, c1)),
                7 if c0 == 0 && c1 >= 255 => sh.repeat_rows = Some((r0, r1)),
                7 if r0 == 0 && r1 >= 65535 => sh.repeat_cols = Some((c0, c1)),
                _ => {}
            }
        }
    }
    Ok(layout)
}

/// A built-in NAME (print area 6, print titles 7) local to a sheet:
/// (0-based sheet index, kind, formula bytes).
fn parse_builtin_name(d: &[u8]) -> Option<(usize, u8, Vec<u8>)> {
    let grbit = u16_at(d, 0)?;
    if grbit & 0x20 == 0 {
        return None;
    }
    let cch = *d.get(3)? as usize;
    let cce = u16_at(d, 4)? as usize;
    let itab = u16_at(d, 8)? as usize;
    if itab == 0 || cch == 0 {
        return None;
    }
    let flags = *d.get(14)?;
    let name_len = if flags & 1 != 0 { cch * 2 } else { cch };
    let kind = *d.get(15)?;
    let start = 15 + name_len;
    let rgce = d.get(start..start + cce)?.to_vec();
    Some((itab - 1, kind, rgce))
}

/// The 3-D areas and references of a name's formula: (r0, r1, c0, c1).
fn areas(rgce: &[u8]) -> Vec<(u32, u32, u16, u16)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&ptg) = rgce.get(i) {
        match ptg {
            0x3B | 0x5B | 0x7B => {
                let (Some(r0), Some(r1), Some(c0), Some(c1)) = (
                    u16_at(rgce, i + 3),
                    u16_at(rgce, i + 5),
                    u16_at(rgce, i + 7),
                    u16_at(rgce, i + 9),
                ) else {
                    break;
                };
                out.push((r0 as u32, r1 as u32, c0 & 0x3FFF, c1 & 0x3FFF));
                i += 11;
            }
            0x3A | 0x5A | 0x7A => {
                let (Some(r), Some(c)) = (u16_at(rgce, i + 3), u16_at(rgce, i + 5)) else {
                    break;
                };
                out.push((r as u32, r as u32, c & 0x3FFF, c & 0x3FFF));
                i += 7;
            }
            // ptgMemFunc / ptgMemArea headers: the areas follow.
            0x29 | 0x49 | 0x69 => i += 3,
            0x26 | 0x46 | 0x66 => i += 7,
            // ptgUnion, ptgParen
            0x10 | 0x15 => i += 1,
            _ => break,
        }
    }
    out
}

fn parse_font(d: &[u8]) -> Option<Font> {
    let height = u16_at(d, 0)?;
    let grbit = u16_at(d, 2)?;
    let color = u16_at(d, 4)?;
    let weight = u16_at(d, 6)?;
    let script = u16_at(d, 8)?;
    let underline = *d.get(10)?;
    let family = *d.get(11)?;
    let charset = *d.get(12)?;
    let name = short_string(d, 14)?;
    Some(Font {
        name,
        size: height as f64 / 20.0,
        bold: weight >= 700,
        italic: grbit & 0x02 != 0,
        strike: grbit & 0x08 != 0,
        underline,
        script,
        color,
        charset,
        family,
    })
}

fn parse_xf(d: &[u8]) -> Option<Xf> {
    let font = u16_at(d, 0)?;
    let num_fmt = u16_at(d, 2)?;
    let prot = u16_at(d, 4)?;
    let align = *d.get(6)?;
    let rotation = *d.get(7)?;
    let indent = *d.get(8)?;
    let b1 = u32_at(d, 10)?;
    let b2 = u32_at(d, 14)?;
    let fill = u16_at(d, 18)?;
    Some(Xf {
        font,
        num_fmt,
        locked: prot & 0x01 != 0,
        hidden: prot & 0x02 != 0,
        halign: align & 0x07,
        wrap: align & 0x08 != 0,
        valign: (align >> 4) & 0x07,
        rotation,
        indent: indent & 0x0F,
        shrink: indent & 0x10 != 0,
        border: [
            (b1 & 0x0F) as u8,
            ((b1 >> 4) & 0x0F) as u8,
            ((b1 >> 8) & 0x0F) as u8,
            ((b1 >> 12) & 0x0F) as u8,
        ],
        border_color: [
            ((b1 >> 16) & 0x7F) as u16,
            ((b1 >> 23) & 0x7F) as u16,
            (b2 & 0x7F) as u16,
            ((b2 >> 7) & 0x7F) as u16,
        ],
        pattern: ((b2 >> 26) & 0x3F) as u8,
        fore: fill & 0x7F,
        back: (fill >> 7) & 0x7F,
    })
}

/// The BIFF8 default colour table (indices 0..64).
pub(crate) fn default_palette() -> Vec<u32> {
    let mut p = vec![
        0x000000, 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF,
    ];
    p.extend_from_slice(&[
        0x000000, 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF, 0x800000,
        0x008000, 0x000080, 0x808000, 0x800080, 0x008080, 0xC0C0C0, 0x808080, 0x9999FF, 0x993366,
        0xFFFFCC, 0xCCFFFF, 0x660066, 0xFF8080, 0x0066CC, 0xCCCCFF, 0x000080, 0xFF00FF, 0xFFFF00,
        0x00FFFF, 0x800080, 0x800000, 0x008080, 0x0000FF, 0x00CCFF, 0xCCFFFF, 0xCCFFCC, 0xFFFF99,
        0x99CCFF, 0xFF99CC, 0xCC99FF, 0xFFCC99, 0x3366FF, 0x33CCCC, 0x99CC00, 0xFFCC00, 0xFF9900,
        0xFF6600, 0x666699, 0x969696, 0x003366, 0x339966, 0x003300, 0x333300, 0x993300, 0x993366,
        0x333399, 0x333333,
    ]);
    p
}

impl Layout {
    /// RGB of a colour index; None for automatic/system colours.
    pub fn rgb(&self, icv: u16) -> Option<u32> {
        self.palette.get(icv as usize).copied()
    }

    /// The font of an XF's font index (index 4 is never written).
    pub fn font(&self, ifnt: u16) -> Option<&Font> {
        let i = if ifnt >= 4 { ifnt - 1 } else { ifnt } as usize;
        self.fonts.get(i)
    }

    /// The sheet layout of a worksheet name.
    pub fn sheet(&self, name: &str) -> Option<&SheetLayout> {
        self.sheets.iter().find(|s| s.name == name)
    }

    /// What a rebuilt copy cannot carry over, as lines for 核对说明.
    pub fn lost_parts(&self) -> Vec<String> {
        let sum = |f: fn(&SheetLayout) -> usize| self.sheets.iter().map(f).sum::<usize>();
        let mut out = Vec::new();
        if sum(|s| s.charts) + self.chart_sheets > 0 {
            out.push("原表中的图表未复制".to_string());
        }
        if sum(|s| s.pictures) > 0 {
            out.push("原表中的图片未复制".to_string());
        }
        if sum(|s| s.shapes) > 0 {
            out.push("原表中的图形、文本框和按钮未复制".to_string());
        }
        if self.macros {
            out.push("原表中的宏未复制".to_string());
        }
        if sum(|s| s.cond_formats) > 0 {
            out.push("原表中的条件格式未复制".to_string());
        }
        if sum(|s| s.validations) > 0 {
            out.push("原表中的数据有效性（下拉列表）未复制".to_string());
        }
        if sum(|s| s.hyperlinks) > 0 {
            out.push("原表中的超链接未复制".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut v = typ.to_le_bytes().to_vec();
        v.extend_from_slice(&(data.len() as u16).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn strings_compressed_and_utf16() {
        let d = [3u8, 0, 0, b'a', b'b', b'c'];
        assert_eq!(xl_string(&d, 0).unwrap(), "abc");
        let mut d = vec![2u8, 0, 1];
        for c in "宋体".encode_utf16() {
            d.extend_from_slice(&c.to_le_bytes());
        }
        assert_eq!(xl_string(&d, 0).unwrap(), "宋体");
        assert!(xl_string(&d[..5], 0).is_none());
    }

    #[test]
    fn a_stream_that_is_not_biff8_is_an_error() {
        assert!(parse_workbook(&[]).is_err());
        assert!(parse_workbook(&rec(BOF, &[0, 5, 0x10, 0])).is_err());
        assert!(read_layout(b"not an ole file").is_err());
    }

    #[test]
    fn print_titles_formula_areas() {
        // ptgArea3d rows 1..2 (0-based 0..1), all columns.
        let mut f = vec![0x3B, 0, 0];
        for v in [0u16, 1, 0, 255] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(areas(&f), vec![(0, 1, 0, 255)]);
        assert!(areas(&[0x3B, 0]).is_empty());
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// The committed LibreOffice conversion of the CLI survey fixture.
    #[test]
    fn libreoffice_survey_layout() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cli/survey.xls");
        let l = read_layout(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(l.sheets.len(), 1);
        let s = &l.sheets[0];
        assert_eq!(s.name, "摸底调查表");
        assert_eq!(l.font(0).unwrap().name, "Calibri");
        assert_eq!(l.font(0).unwrap().size, 11.0);
        assert!(s.merges.contains(&(1, 0, 1, 17)), "{:?}", s.merges);
        assert_eq!(s.setup.paper, Some(9));
        assert_eq!(s.setup.landscape, Some(false));
        assert!(s.cell_xf.contains_key(&(0, 0)));
        assert!(l.lost_parts().is_empty());
    }
}
