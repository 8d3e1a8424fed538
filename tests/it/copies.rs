//! The annotated copies of workbooks other than a plain xlsx: the copy of a
//! macro-enabled workbook or a template is named so that Excel opens it
//! (extension and content type agree), and the rebuilt copy of an .xls keeps
//! the school's formatting.

use super::check::{all_codes_survey, write_config};
use super::support::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const CT_SHEET: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
const CT_TEMPLATE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml";
const CT_MACRO: &str = "application/vnd.ms-excel.sheet.macroEnabled.main+xml";
const CT_MACRO_TEMPLATE: &str = "application/vnd.ms-excel.template.macroEnabled.main+xml";

/// A small OLE compound file standing in for a VBA project (the copy must
/// carry it byte for byte; nobody runs it).
fn vba_project() -> Vec<u8> {
    let mut comp = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    comp.create_storage("/VBA").unwrap();
    let mut s = comp.create_stream("/VBA/dir").unwrap();
    s.write_all(b"taizhang test vba project").unwrap();
    drop(s);
    comp.into_inner().into_inner()
}

/// Every entry of a zip, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().to_string(), v)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &entries
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in the package"))
        .1
}

/// The xlsx turned into another workbook type: `main_type` for the
/// workbook part, plus a VBA part (related from the workbook) when given.
fn retype(xlsx: &[u8], main_type: &str, vba: Option<&[u8]>) -> Vec<u8> {
    let mut entries = unzip(xlsx);
    for (name, data) in entries.iter_mut() {
        let text = String::from_utf8(data.clone()).unwrap_or_default();
        if name == "[Content_Types].xml" {
            let mut t = text.replace(CT_SHEET, main_type);
            if vba.is_some() {
                t = t.replace(
                    "</Types>",
                    r#"<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#,
                );
            }
            *data = t.into_bytes();
        } else if name == "xl/_rels/workbook.xml.rels" && vba.is_some() {
            *data = text
                .replace(
                    "</Relationships>",
                    r#"<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>"#,
                )
                .into_bytes();
        }
    }
    if let Some(v) = vba {
        entries.push(("xl/vbaProject.bin".into(), v.to_vec()));
    }
    rezip(&entries)
}

fn check(w: &Workdir, file: &str, out: &str) -> Output {
    w.run(&["check", file, "--config", "taizhang.toml", "--out", out])
}

fn soffice() -> PathBuf {
    for c in [
        "/usr/bin/soffice",
        "/usr/local/bin/soffice",
        "/usr/bin/libreoffice",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!("LibreOffice (soffice) is required for this test: apt-get install -y libreoffice-calc");
}

/// LibreOffice converts `file` into `outdir` (private profile); returns
/// whether it succeeded and wrote something.
fn convert(file: &Path, to: &str, outdir: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(outdir)
        .arg(file)
        .output()
        .expect("soffice runs");
    assert!(
        out.status.success(),
        "soffice failed on {}: {out:?}",
        file.display()
    );
}

#[test]
fn macro_enabled_and_template_copies_are_named_after_their_content_type() {
    let w = Workdir::new("copies-xlsm");
    write_config(&w);
    let fx = all_codes_survey(2022);
    let xlsx = fx.grid.xlsx();
    let vba = vba_project();
    let cases: [(&str, Vec<u8>, &str, &str); 3] = [
        (
            "附件1_宏.xlsm",
            retype(&xlsx, CT_MACRO, Some(&vba)),
            "附件1_宏.核对.xlsm",
            CT_MACRO,
        ),
        (
            "附件1_模板.xltx",
            retype(&xlsx, CT_TEMPLATE, None),
            "附件1_模板.核对.xlsx",
            CT_SHEET,
        ),
        (
            "附件1_宏模板.xltm",
            retype(&xlsx, CT_MACRO_TEMPLATE, Some(&vba)),
            "附件1_宏模板.核对.xlsm",
            CT_MACRO,
        ),
    ];
    for (file, bytes, copy_name, copy_type) in &cases {
        w.write(file, bytes);
        let out_dir = format!("out-{file}");
        let out = check(&w, file, &out_dir);
        assert_eq!(out.status, 1, "{file}\n{}", out.all());
        let copy = w.join(&out_dir).join(copy_name);
        assert!(copy.is_file(), "{} missing\n{}", copy.display(), out.all());
        let names: Vec<String> = std::fs::read_dir(w.join(&out_dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|n| n.contains(".核对.") && n != copy_name),
            "one copy only: {names:?}"
        );
        let entries = unzip(&std::fs::read(&copy).unwrap());
        let ct = String::from_utf8(entry(&entries, "[Content_Types].xml").to_vec()).unwrap();
        assert!(
            ct.contains(&format!(
                r#"PartName="/xl/workbook.xml" ContentType="{copy_type}""#
            )),
            "{file}: {ct}"
        );
        for other in [CT_SHEET, CT_TEMPLATE, CT_MACRO, CT_MACRO_TEMPLATE] {
            if other != *copy_type {
                assert!(!ct.contains(other), "{file}: {ct}");
            }
        }
        if copy_name.ends_with(".xlsm") {
            assert_eq!(entry(&entries, "xl/vbaProject.bin"), vba.as_slice());
        }
        // The findings are marked with notes.
        assert!(entries.iter().any(|(n, _)| n.starts_with("xl/comments")));
    }

    // LibreOffice opens the macro-enabled copy and shows the data sheet.
    let dir = w.join("lo");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = w.join("out-附件1_宏.xlsm/附件1_宏.核对.xlsm");
    let local = dir.join("copy.xlsm");
    std::fs::copy(&copy, &local).unwrap();
    convert(
        &local,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
        &dir,
    );
    let csv = std::fs::read_to_string(dir.join("copy-摸底调查表.csv"))
        .expect("LibreOffice wrote the data sheet of the .xlsm copy");
    assert!(csv.contains(&fx.ids[0]), "{csv}");
}

#[test]
fn a_macro_enabled_copy_is_not_read_as_an_input() {
    let w = Workdir::new("copies-xlsm-again");
    write_config(&w);
    let fx = all_codes_survey(2022);
    w.write(
        "附件1.xlsm",
        retype(&fx.grid.xlsx(), CT_MACRO, Some(&vba_project())),
    );
    let out = check(&w, "附件1.xlsm", "out");
    assert!(w.join("out/附件1.核对.xlsm").is_file(), "{}", out.all());
    let again = check(&w, "out/附件1.核对.xlsm", "out2");
    assert!(
        again
            .all()
            .contains("「附件1.核对.xlsm」是 taizhang 生成的核对结果副本"),
        "{}",
        again.all()
    );
}

// ---------------------------------------------------------------------------
// .xls copies keep the school's formatting
// ---------------------------------------------------------------------------

/// A merged range: first row (1-based), first col (0-based), last row, last col.
type Merge = (u32, u16, u32, u16);

/// A 1×1 PNG.
const PNG: [u8; 70] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0x60, 0xF8, 0x5F,
    0x0F, 0x00, 0x02, 0x87, 0x01, 0x80, 0xEB, 0x47, 0xBA, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Column widths (characters) of the rich survey, A..R; R is hidden.
const WIDTHS: [f64; 18] = [
    5.0, 10.0, 6.0, 9.0, 9.0, 8.0, 5.0, 21.0, 11.0, 8.0, 16.0, 7.0, 10.0, 9.0, 8.0, 13.0, 9.0, 10.0,
];

/// The rich survey: 60 clean children in households of two (村, 组 and
/// 户主姓名 merged over each household), one wrong ID check digit.
/// Returns the xlsx bytes, the wrong ID's 1-based row, and the household
/// merges.
fn rich_survey(extras: bool) -> (Vec<u8>, u32, Vec<Merge>) {
    use super::check::{Grid, V, clean_kid, col, survey_preamble};
    use chrono::Datelike;
    use rust_xlsxwriter::{
        Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Note, Workbook,
    };
    let mut rng = testkit::synth::Rng::new(1717);
    let mut g = Grid::new("摸底调查表");
    survey_preamble(&mut g, "熨斗初级中学");
    let mut households = Vec::new();
    let mut bad_row = 0;
    for i in 0..60 {
        let mut k = clean_kid(&mut rng);
        let birth = k.birth;
        k.set("birthdate", V::D(birth));
        if i % 2 == 1 {
            // Second child of the household: same village, group and head.
            let prev = g.rows.last().unwrap().clone();
            for f in ["village", "group", "household_head", "guardian"] {
                k.set(f, prev[col(f)].clone());
            }
        }
        if i == 7 {
            let mut id = k.id.clone();
            let last = if id.ends_with('0') { "1" } else { "0" };
            id.replace_range(17.., last);
            k.set("id", V::S(id));
        }
        let r = g.push(k.cells.clone());
        if i == 7 {
            bad_row = r;
        }
        if i % 2 == 1 {
            for c in [1u16, 2, 3] {
                households.push((r - 1, c, r, c));
            }
        }
    }

    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2022, 10, 8).unwrap()),
    );
    let ws = wb.add_worksheet();
    ws.set_name(&g.sheet).unwrap();
    let font = |f: Format| f.set_font_name("宋体").set_font_size(10);
    let title = font(Format::new())
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let plain = font(Format::new());
    let head = font(Format::new())
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xD9D9D9));
    let cell = font(Format::new())
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter);
    let id_fmt = cell
        .clone()
        .set_num_format("@")
        .set_font_color(Color::RGB(0x0000FF));
    let date_fmt = cell.clone().set_num_format("yyyy-mm-dd");
    let merged = cell.clone().set_align(FormatAlign::Center);
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w).unwrap();
    }
    ws.set_column_hidden(17).unwrap();
    ws.set_row_height(1, 30).unwrap();
    ws.set_row_height(3, 24).unwrap();
    ws.set_row_height(4, 36).unwrap();
    let merges: Vec<(u32, u16, u32, u16)> = g
        .merges
        .iter()
        .copied()
        .chain(households.iter().copied())
        .collect();
    let in_merge = |r: u32, c: u16| {
        merges
            .iter()
            .find(|&&(r0, c0, r1, c1)| (r0..=r1).contains(&r) && (c0..=c1).contains(&c))
            .copied()
    };
    for (r, row) in g.rows.iter().enumerate() {
        let r1 = r as u32 + 1;
        for c in 0..18u16 {
            let v = row.get(c as usize).cloned().unwrap_or(V::E);
            let f = match r1 {
                1 => plain.clone(),
                2 => title.clone(),
                3 => plain.clone(),
                4 | 5 => head.clone(),
                _ if c as usize == col("id") => id_fmt.clone(),
                _ if c as usize == col("birthdate") => date_fmt.clone(),
                _ if in_merge(r1, c).is_some() => merged.clone(),
                _ => cell.clone(),
            };
            if let Some((mr, mc, mr1, mc1)) = in_merge(r1, c) {
                if (mr, mc) == (r1, c) {
                    let text = match &v {
                        V::S(t) => t.clone(),
                        _ => String::new(),
                    };
                    ws.merge_range(mr - 1, mc, mr1 - 1, mc1, &text, &f).unwrap();
                }
                continue;
            }
            let r0 = r as u32;
            match v {
                V::E => {
                    if r1 >= 4 {
                        ws.write_blank(r0, c, &f).unwrap();
                    }
                }
                V::S(t) => {
                    ws.write_string_with_format(r0, c, &t, &f).unwrap();
                }
                V::N(n) => {
                    ws.write_number_with_format(r0, c, n, &f).unwrap();
                }
                V::D(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .unwrap();
                    ws.write_datetime_with_format(r0, c, &dt, &f).unwrap();
                }
            }
        }
    }
    ws.insert_note(
        5,
        col("name") as u16,
        &Note::new("家访时核实过").set_author("包联教师"),
    )
    .unwrap();
    ws.set_freeze_panes(5, 0).unwrap();
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_margins(0.5, 0.4, 0.6, 0.7, 0.3, 0.3);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(3, 4).unwrap();
    ws.set_footer("&C第 &P 页");
    if extras {
        // A chart of the first rows and a picture below the table.
        let mut chart = rust_xlsxwriter::Chart::new(rust_xlsxwriter::ChartType::Column);
        chart.add_series().set_values(("摸底调查表", 5, 0, 14, 0));
        ws.insert_chart(70, 2, &chart).unwrap();
        let image = rust_xlsxwriter::Image::new_from_buffer(&PNG).unwrap();
        ws.insert_image(70, 10, &image).unwrap();
    }
    let notes = wb.add_worksheet();
    notes.set_name("填表说明").unwrap();
    notes.write_string(0, 0, "本表由学校填写").unwrap();
    notes.set_hidden(true);
    (wb.save_to_buffer().unwrap(), bad_row, households)
}

/// The .xls with its first sheet's top `rows` rows frozen: WINDOW2 gets
/// the frozen flags and a PANE record follows it; later sheets' offsets in
/// BOUNDSHEET move by the record's size.
fn freeze_rows(xls: &[u8], rows: u16) -> Vec<u8> {
    let mut comp = cfb::CompoundFile::open(std::io::Cursor::new(xls.to_vec())).unwrap();
    let mut s = Vec::new();
    comp.open_stream("/Workbook")
        .unwrap()
        .read_to_end(&mut s)
        .unwrap();
    let rd = |s: &[u8], i: usize| u16::from_le_bytes([s[i], s[i + 1]]) as usize;
    // Records: (offset, type, length).
    let mut recs = Vec::new();
    let mut i = 0;
    while i + 4 <= s.len() {
        let (t, l) = (rd(&s, i), rd(&s, i + 2));
        recs.push((i, t, l));
        i += 4 + l;
    }
    let sheets: Vec<usize> = recs.iter().filter(|r| r.1 == 0x85).map(|r| r.0).collect();
    let first_sheet =
        u32::from_le_bytes(s[sheets[0] + 4..sheets[0] + 8].try_into().unwrap()) as usize;
    let win = recs
        .iter()
        .find(|r| r.1 == 0x23E && r.0 > first_sheet)
        .unwrap()
        .0;
    let flags = rd(&s, win + 4) | 0x0008 | 0x0100;
    s[win + 4..win + 6].copy_from_slice(&(flags as u16).to_le_bytes());
    let at = win + 4 + rd(&s, win + 2);
    let mut pane = vec![0x41, 0x00, 10, 0];
    for v in [0u16, rows, rows, 0] {
        pane.extend_from_slice(&v.to_le_bytes());
    }
    pane.extend_from_slice(&[2, 0]);
    s.splice(at..at, pane.iter().copied());
    for b in sheets {
        let off = u32::from_le_bytes(s[b + 4..b + 8].try_into().unwrap());
        if off as usize > at {
            s[b + 4..b + 8].copy_from_slice(&(off + pane.len() as u32).to_le_bytes());
        }
    }
    comp.create_stream("/Workbook")
        .unwrap()
        .write_all(&s)
        .unwrap();
    comp.flush().unwrap();
    comp.into_inner().into_inner()
}

/// The text of a package part.
fn part(entries: &[(String, Vec<u8>)], name: &str) -> String {
    String::from_utf8(entry(entries, name).to_vec()).unwrap()
}

/// Every `attr="value"` of the first element `<tag …>` in `xml`.
fn element_attrs(xml: &str, tag: &str) -> Vec<(String, String)> {
    let Some(start) = xml.find(&format!("<{tag} ")) else {
        return Vec::new();
    };
    let end = start + xml[start..].find('>').unwrap();
    let re = regex::Regex::new(r#"([\w:]+)="([^"]*)""#).unwrap();
    re.captures_iter(&xml[start..end])
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The worksheet part of a sheet name (via workbook.xml and its rels).
fn sheet_part(entries: &[(String, Vec<u8>)], sheet: &str) -> String {
    let wb = part(entries, "xl/workbook.xml");
    let re = regex::Regex::new(r#"<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)""#).unwrap();
    let rid = re
        .captures_iter(&wb)
        .find(|c| &c[1] == sheet)
        .map(|c| c[2].to_string())
        .unwrap_or_else(|| panic!("sheet {sheet} in {wb}"));
    let rels = part(entries, "xl/_rels/workbook.xml.rels");
    let re = regex::Regex::new(r#"<Relationship [^>]*>"#).unwrap();
    for m in re.find_iter(&rels) {
        let a = element_attrs(m.as_str(), "Relationship");
        if attr(&a, "Id").as_deref() == Some(rid.as_str()) {
            let t = attr(&a, "Target").unwrap();
            let t = t.trim_start_matches('/').trim_start_matches("xl/");
            return part(entries, &format!("xl/{t}"));
        }
    }
    panic!("no part for {sheet}");
}

/// Column widths (1-based col → (width, hidden)) of a worksheet part.
fn col_widths(sheet_xml: &str) -> std::collections::BTreeMap<u32, (f64, bool)> {
    let re = regex::Regex::new(r#"<col [^>]*>"#).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for m in re.find_iter(sheet_xml) {
        let a = element_attrs(m.as_str(), "col");
        let min: u32 = attr(&a, "min").unwrap().parse().unwrap();
        let max: u32 = attr(&a, "max").unwrap().parse().unwrap();
        let w: f64 = attr(&a, "width").map(|w| w.parse().unwrap()).unwrap_or(0.0);
        let hidden = matches!(attr(&a, "hidden").as_deref(), Some("1" | "true"));
        for c in min..=max.min(64) {
            out.insert(c, (w, hidden));
        }
    }
    out
}

fn merges_of(sheet_xml: &str) -> std::collections::BTreeSet<String> {
    let re = regex::Regex::new(r#"<mergeCell ref="([^"]+)""#).unwrap();
    re.captures_iter(sheet_xml)
        .map(|c| c[1].to_string())
        .collect()
}

fn a1(r: u32, c: u16) -> String {
    format!("{}{}", super::check::letter(c as usize), r)
}

/// Pages of a PDF (pdfinfo) and whether the first is landscape.
fn pdf_pages(pdf: &Path) -> (u32, bool) {
    let out = std::process::Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils) runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let pages = text
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap_or_else(|| panic!("{text}"))
        .trim()
        .parse()
        .unwrap();
    let size = text
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .unwrap_or_else(|| panic!("{text}"));
    let nums: Vec<f64> = size
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    (pages, nums[0] > nums[1])
}

#[test]
fn xls_copy_keeps_the_schools_formatting_under_the_marks() {
    use calamine::Reader;
    let w = Workdir::new("copies-xls-rich");
    write_config(&w);
    let (xlsx, bad_row, households) = rich_survey(false);
    let src = w.write("lo/附件1_富格式.xlsx", &xlsx);
    convert(&src, "xls", &w.join("lo"));
    let xls = std::fs::read(w.join("lo/附件1_富格式.xls")).expect("LibreOffice wrote the .xls");
    // A headless LibreOffice drops frozen panes (they live in the view):
    // freeze the header rows as Excel would have saved them.
    let xls = freeze_rows(&xls, 5);
    w.write("附件1_富格式.xls", &xls);
    let out = check(&w, "附件1_富格式.xls", "out");
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("out");
    let bad = cells_with_code(&json, "ID_CHECKSUM");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!((bad[0].2, bad[0].3.as_str()), (bad_row, "H"));
    let copy = w.join("out/附件1_富格式.核对.xlsx");
    let entries = unzip(&std::fs::read(&copy).unwrap());
    let sheet = sheet_part(&entries, "摸底调查表");

    // Widths: as the school set them (within one pixel), R still hidden.
    let widths = col_widths(&sheet);
    let src_entries = unzip(&xlsx);
    let src_widths = col_widths(&sheet_part(&src_entries, "摸底调查表"));
    for c in 1..=18u32 {
        let (want, want_hidden) = src_widths[&c];
        let (got, hidden) = widths.get(&c).copied().unwrap_or((0.0, false));
        assert_eq!(hidden, want_hidden, "column {c} hidden");
        if !want_hidden {
            assert!(
                (got - want).abs() <= 0.3,
                "column {c}: width {got}, original {want}"
            );
        }
    }
    // Merges: the two-row header and every household.
    let merges = merges_of(&sheet);
    for &(r0, c0, r1, c1) in &households {
        assert!(
            merges.contains(&format!("{}:{}", a1(r0, c0), a1(r1, c1))),
            "{merges:?}"
        );
    }
    for m in ["A2:R2", "A4:A5", "B4:E4", "F4:I4", "J4:N4", "O4:O5"] {
        assert!(merges.contains(m), "{m} in {merges:?}");
    }
    // Frozen header, landscape A4, fit to one page wide, margins, titles.
    let pane = element_attrs(&sheet, "pane");
    assert_eq!(attr(&pane, "ySplit").as_deref(), Some("5"), "{pane:?}");
    assert_eq!(attr(&pane, "state").as_deref(), Some("frozen"));
    let setup = element_attrs(&sheet, "pageSetup");
    assert_eq!(
        attr(&setup, "orientation").as_deref(),
        Some("landscape"),
        "{setup:?}"
    );
    assert_eq!(attr(&setup, "paperSize").as_deref(), Some("9"), "{setup:?}");
    assert_eq!(
        attr(&setup, "fitToWidth").as_deref().unwrap_or("1"),
        "1",
        "{setup:?}"
    );
    assert_eq!(
        attr(&setup, "fitToHeight").as_deref(),
        Some("0"),
        "{setup:?}"
    );
    assert!(
        sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"),
        "fit to page"
    );
    let margins = element_attrs(&sheet, "pageMargins");
    for (k, v) in [("left", 0.5), ("right", 0.4), ("top", 0.6), ("bottom", 0.7)] {
        let got: f64 = attr(&margins, k).unwrap().parse().unwrap();
        assert!((got - v).abs() < 0.01, "{k} margin {got}");
    }
    let wb_xml = part(&entries, "xl/workbook.xml");
    assert!(
        wb_xml.contains("'摸底调查表'!$4:$5") || wb_xml.contains("摸底调查表!$4:$5"),
        "print titles: {wb_xml}"
    );
    // The hidden instructions sheet stays hidden, after the data sheet.
    let re = regex::Regex::new(r#"<sheet [^>]*name="([^"]+)"[^>]*>"#).unwrap();
    let sheets: Vec<(String, bool)> = re
        .captures_iter(&wb_xml)
        .map(|c| (c[1].to_string(), c[0].contains(r#"state="hidden""#)))
        .collect();
    assert_eq!(
        sheets,
        [
            ("核对说明".to_string(), false),
            ("摸底调查表".to_string(), false),
            ("填表说明".to_string(), true)
        ]
    );
    // Row heights of the title and header rows.
    for (r, h) in [(2u32, 30.0), (4, 24.0), (5, 36.0)] {
        let re = regex::Regex::new(&format!(r#"<row r="{r}"[^>]*\sht="([0-9.]+)""#)).unwrap();
        let got: f64 = re
            .captures(&sheet)
            .unwrap_or_else(|| panic!("row {r} height"))[1]
            .parse()
            .unwrap();
        assert!((got - h).abs() <= 0.75, "row {r}: {got} vs {h}");
    }

    // Cell by cell: fonts, borders, alignment, number formats as in the
    // original .xls (as LibreOffice reads it: it saves the .xls with the
    // font that shows each cell's script); the marked cell keeps them under
    // the error fill.
    let as_read = w.write("lo2/附件1_富格式.xls", &xls);
    convert(&as_read, "xlsx", &w.join("lo2"));
    let mut orig: calamine::Xlsx<_> =
        calamine::open_workbook(w.join("lo2/附件1_富格式.xlsx")).unwrap();
    let mut got: calamine::Xlsx<_> = calamine::open_workbook(&copy).unwrap();
    let so = orig.worksheet_style("摸底调查表").unwrap();
    let sg = got.worksheet_style("摸底调查表").unwrap();
    let vg = got.worksheet_range("摸底调查表").unwrap();
    let vo = orig.worksheet_range("摸底调查表").unwrap();
    let mut compared = 0;
    for r in 3..(5 + 60) as u32 {
        for c in 0..17u32 {
            let (Some(a), Some(b)) = (so.get((r, c)), sg.get((r, c))) else {
                panic!("style of {}", a1(r + 1, c as u16));
            };
            let at = a1(r + 1, c as u16);
            let (fa, fb) = (a.font.clone().unwrap(), b.font.clone().unwrap());
            assert_eq!(fa.name, fb.name, "{at} font");
            assert_eq!(fa.size, fb.size, "{at} size");
            assert_eq!(fa.weight, fb.weight, "{at} bold");
            if c == 7 && r >= 5 {
                assert_eq!(
                    fb.color,
                    Some(calamine::Color::rgb(0, 0, 0xFF)),
                    "{at} colour"
                );
            }
            let (ba, bb) = (a.borders.clone().unwrap(), b.borders.clone().unwrap());
            for (x, y, side) in [
                (&ba.left, &bb.left, "left"),
                (&ba.right, &bb.right, "right"),
                (&ba.top, &bb.top, "top"),
                (&ba.bottom, &bb.bottom, "bottom"),
            ] {
                assert_eq!(x.style, y.style, "{at} {side} border");
            }
            let (aa, ab) = (
                a.alignment.clone().unwrap_or_default(),
                b.alignment.clone().unwrap_or_default(),
            );
            assert_eq!(aa.horizontal, ab.horizontal, "{at} align");
            assert_eq!(aa.vertical, ab.vertical, "{at} valign");
            assert_eq!(aa.wrap_text, ab.wrap_text, "{at} wrap");
            let fill = b.fill.clone().unwrap_or_default();
            if r + 1 == bad_row && c == 7 {
                assert_eq!(
                    fill.get_color(),
                    Some(calamine::Color::rgb(0xFF, 0xC7, 0xCE)),
                    "{at} marked"
                );
            } else if r < 5 {
                assert_eq!(
                    fill.get_color(),
                    Some(calamine::Color::rgb(0xD9, 0xD9, 0xD9)),
                    "{at} header fill"
                );
            }
            let nf = |s: &calamine::Style| {
                s.number_format
                    .clone()
                    .map(|n| n.format_code)
                    .unwrap_or_default()
            };
            if r >= 5 && (c == 7 || c == 8) {
                assert_eq!(nf(a), nf(b), "{at} number format");
            }
            // Values: dates stay dates, IDs stay text.
            if r >= 5 && (c == 7 || c == 8) {
                assert_eq!(vo.get_value((r, c)), vg.get_value((r, c)), "{at} value");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 62 * 17);
    // The note of the original and the mark's note.
    let comments: String = entries
        .iter()
        .filter(|(n, _)| n.starts_with("xl/comments"))
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .collect();
    assert!(comments.contains("家访时核实过"), "{comments}");
    assert!(comments.contains("ID_CHECKSUM"), "{comments}");

    // Printed by LibreOffice: as many pages as the original, landscape.
    // (核对说明 is hidden first, so only the school's sheet prints.)
    let pdf_dir = w.join("pdf");
    std::fs::create_dir_all(&pdf_dir).unwrap();
    let mut hidden_summary = entries.clone();
    for (n, d) in hidden_summary.iter_mut() {
        if n == "xl/workbook.xml" {
            let t = String::from_utf8(d.clone()).unwrap();
            let t = t.replacen(
                r#"<sheet name="核对说明""#,
                r#"<sheet name="核对说明" state="hidden""#,
                1,
            );
            // A hidden sheet cannot be the one the workbook opens on.
            let t = t.replacen(r#"activeTab="0""#, r#"activeTab="1""#, 1);
            *d = t.into_bytes();
        }
    }
    let copy_only = w.write("pdf/copy.xlsx", rezip(&hidden_summary));
    let orig_xls = w.write("pdf/orig.xls", &xls);
    convert(&copy_only, "pdf", &pdf_dir);
    convert(&orig_xls, "pdf", &pdf_dir);
    let (po, lo) = pdf_pages(&pdf_dir.join("orig.pdf"));
    let (pc, lc) = pdf_pages(&pdf_dir.join("copy.pdf"));
    assert!(lo && lc, "landscape: original {lo}, copy {lc}");
    assert!(po >= 2, "the survey spans pages: {po}");
    assert_eq!(pc, po, "pages of the copy vs the original");
}

/// The first column of 核对说明 in a copy, line by line.
fn summary_lines(copy: &Path) -> Vec<String> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(copy).unwrap();
    let r = wb.worksheet_range("核对说明").unwrap();
    r.rows()
        .filter_map(|row| row.first().map(|c| c.to_string()))
        .collect()
}

#[test]
fn rebuilt_copies_name_the_charts_and_pictures_they_drop() {
    let w = Workdir::new("copies-lost");
    write_config(&w);
    let (xlsx, _, _) = rich_survey(true);
    let src = w.write("lo/附件1_图表.xlsx", &xlsx);
    for ext in ["xls", "ods"] {
        convert(&src, ext, &w.join("lo"));
        let file = format!("附件1_图表.{ext}");
        let bytes = std::fs::read(w.join("lo").join(&file)).expect("LibreOffice wrote it");
        w.write(&file, &bytes);
        let out_dir = format!("out-{ext}");
        let out = check(&w, &file, &out_dir);
        assert_eq!(out.status, 1, "{}", out.all());
        let lines = summary_lines(&w.join(&out_dir).join("附件1_图表.核对.xlsx"));
        let rebuilt = lines
            .iter()
            .position(|l| l.starts_with("本文件由"))
            .unwrap_or_else(|| panic!("{ext}: {lines:?}"));
        assert_eq!(
            lines[rebuilt + 1..rebuilt + 3],
            ["原表中的图表未复制", "原表中的图片未复制"],
            "{ext}: {lines:?}"
        );
    }
    // Without them, nothing is said.
    let (plain, _, _) = rich_survey(false);
    let src = w.write("lo/附件1_无图.xlsx", &plain);
    convert(&src, "xls", &w.join("lo"));
    w.write(
        "附件1_无图.xls",
        std::fs::read(w.join("lo/附件1_无图.xls")).unwrap(),
    );
    check(&w, "附件1_无图.xls", "out-plain");
    let lines = summary_lines(&w.join("out-plain/附件1_无图.核对.xlsx"));
    assert!(!lines.iter().any(|l| l.contains("未复制")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("本文件由 附件1_无图.xls 重建为 xlsx")
                && l.contains("单元格格式")),
        "{lines:?}"
    );
}

#[test]
fn ods_copy_keeps_widths_fonts_borders_and_page_setup() {
    let w = Workdir::new("copies-ods-rich");
    write_config(&w);
    let (xlsx, bad_row, households) = rich_survey(false);
    let src = w.write("lo/附件1_富格式.xlsx", &xlsx);
    convert(&src, "ods", &w.join("lo"));
    let ods = std::fs::read(w.join("lo/附件1_富格式.ods")).expect("LibreOffice wrote the .ods");
    w.write("附件1_富格式.ods", &ods);
    let out = check(&w, "附件1_富格式.ods", "out");
    assert_eq!(out.status, 1, "{}", out.all());
    let copy = w.join("out/附件1_富格式.核对.xlsx");
    let entries = unzip(&std::fs::read(&copy).unwrap());
    let sheet = sheet_part(&entries, "摸底调查表");
    // LibreOffice's own xlsx of the .ods is the reference.
    let as_read = w.write("lo2/附件1_富格式.ods", &ods);
    convert(&as_read, "xlsx", &w.join("lo2"));
    let reference = w.join("lo2/附件1_富格式.xlsx");
    let ref_entries = unzip(&std::fs::read(&reference).unwrap());
    let ref_sheet = sheet_part(&ref_entries, "摸底调查表");
    let (widths, ref_widths) = (col_widths(&sheet), col_widths(&ref_sheet));
    for c in 1..=18u32 {
        let (want, want_hidden) = ref_widths[&c];
        let (got, hidden) = widths.get(&c).copied().unwrap_or((0.0, false));
        assert_eq!(hidden, want_hidden, "column {c} hidden");
        if !want_hidden {
            assert!(
                (got - want).abs() <= 0.3,
                "column {c}: width {got}, original {want}"
            );
        }
    }
    let merges = merges_of(&sheet);
    for &(r0, c0, r1, c1) in &households {
        assert!(
            merges.contains(&format!("{}:{}", a1(r0, c0), a1(r1, c1))),
            "{merges:?}"
        );
    }
    let setup = element_attrs(&sheet, "pageSetup");
    assert_eq!(
        attr(&setup, "orientation").as_deref(),
        Some("landscape"),
        "{setup:?}"
    );
    assert_eq!(attr(&setup, "paperSize").as_deref(), Some("9"), "{setup:?}");
    let margins = element_attrs(&sheet, "pageMargins");
    // (The bottom margin holds the footer, which ODF keeps apart: only
    // the margins without a header or footer band are compared.)
    for (k, v) in [("left", 0.5), ("right", 0.4), ("top", 0.6)] {
        let got: f64 = attr(&margins, k).unwrap().parse().unwrap();
        assert!((got - v).abs() < 0.01, "{k} margin {got}");
    }
    let mut orig: calamine::Xlsx<_> = calamine::open_workbook(&reference).unwrap();
    let mut got: calamine::Xlsx<_> = calamine::open_workbook(&copy).unwrap();
    let so = orig.worksheet_style("摸底调查表").unwrap();
    let sg = got.worksheet_style("摸底调查表").unwrap();
    for r in 3..(5 + 60) as u32 {
        for c in 0..17u32 {
            let at = a1(r + 1, c as u16);
            let (Some(a), Some(b)) = (so.get((r, c)), sg.get((r, c))) else {
                panic!("style of {at}");
            };
            let (fa, fb) = (a.font.clone().unwrap(), b.font.clone().unwrap());
            assert_eq!(fa.size, fb.size, "{at} size");
            assert_eq!(fa.weight, fb.weight, "{at} bold");
            let (ba, bb) = (a.borders.clone().unwrap(), b.borders.clone().unwrap());
            for (x, y, side) in [
                (&ba.left, &bb.left, "left"),
                (&ba.right, &bb.right, "right"),
                (&ba.top, &bb.top, "top"),
                (&ba.bottom, &bb.bottom, "bottom"),
            ] {
                assert_eq!(x.is_visible(), y.is_visible(), "{at} {side} border");
            }
            let (aa, ab) = (
                a.alignment.clone().unwrap_or_default(),
                b.alignment.clone().unwrap_or_default(),
            );
            assert_eq!(aa.vertical, ab.vertical, "{at} valign");
            assert_eq!(aa.wrap_text, ab.wrap_text, "{at} wrap");
            let fill = b.fill.clone().unwrap_or_default();
            if r + 1 == bad_row && c == 7 {
                assert_eq!(
                    fill.get_color(),
                    Some(calamine::Color::rgb(0xFF, 0xC7, 0xCE)),
                    "{at} marked"
                );
            } else if r < 5 {
                assert_eq!(
                    fill.get_color(),
                    Some(calamine::Color::rgb(0xD9, 0xD9, 0xD9)),
                    "{at} header fill"
                );
            }
        }
    }
}

/// Every annotated copy of the samples (xlsx patched, .xls rebuilt) opens on
/// 核对说明: the workbook's active tab is the first sheet, 核对说明, and it is
/// the only selected tab (a second selected tab would group the sheets in
/// Excel and WPS, and an edit would go into both). 核对说明 prints one page
/// wide, at 85 % or more, its message column wrapped.
#[test]
fn annotated_copies_open_on_the_summary_sheet_alone_and_it_prints_one_page_wide() {
    let w = Workdir::new("open_on_summary");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let input = w.mkdir("in");
    for e in std::fs::read_dir(&samples).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x != "sh") {
            std::fs::copy(&p, input.join(p.file_name().unwrap())).unwrap();
        }
    }
    let out = w.run(&["reconcile", "in", "--out", "out"]);
    assert_eq!(out.status, 1, "{}", out.all());
    let cols = regex::Regex::new(r"<col [^>]*>").unwrap();
    let message_header = regex::Regex::new(r#"<c r="D(\d+)"[^>]*><is><t[^>]*>说明</t>"#).unwrap();
    let mut copies = 0;
    for e in std::fs::read_dir(w.join("out")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".核对.xlsx") {
            continue;
        }
        copies += 1;
        let entries = unzip(&std::fs::read(&p).unwrap());
        let book = part(&entries, "xl/workbook.xml");
        let view = element_attrs(&book, "workbookView");
        assert!(
            matches!(attr(&view, "activeTab").as_deref(), None | Some("0")),
            "{name}: {view:?}"
        );
        let first = element_attrs(&book, "sheet");
        assert_eq!(attr(&first, "name").as_deref(), Some("核对说明"), "{name}");
        let selected: Vec<&str> = entries
            .iter()
            .filter(|(n, _)| n.starts_with("xl/worksheets/sheet"))
            .filter(|(_, x)| String::from_utf8_lossy(x).contains(r#"tabSelected="1""#))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(selected.len(), 1, "{name}: {selected:?}");
        let summary = sheet_part(&entries, "核对说明");
        assert!(summary.contains(r#"tabSelected="1""#), "{name}");
        // 核对说明 prints one page wide.
        assert!(
            summary.contains(r#"<pageSetUpPr fitToPage="1"/>"#),
            "{name}"
        );
        let setup = element_attrs(&summary, "pageSetup");
        assert_eq!(attr(&setup, "fitToWidth").as_deref(), Some("1"), "{name}");
        assert_eq!(attr(&setup, "fitToHeight").as_deref(), Some("0"), "{name}");
        // ... and large: its columns fit the printable width of the page
        // (A4, in the sheet's orientation, less its side margins) at 85 % or
        // more, a column character counted as 7 points (a digit of the
        // widest default font: LibreOffice printing Calibri as DejaVu Sans).
        assert_eq!(attr(&setup, "paperSize").as_deref(), Some("9"), "{name}");
        let page_in = match attr(&setup, "orientation").as_deref() {
            Some("landscape") => 11.69,
            _ => 8.27,
        };
        let margins = element_attrs(&summary, "pageMargins");
        let margin = |k: &str| -> f64 { attr(&margins, k).unwrap().parse().unwrap() };
        let printable_pt = (page_in - margin("left") - margin("right")) * 72.0;
        let chars: f64 = cols
            .find_iter(&summary)
            .map(|m| {
                let a = element_attrs(m.as_str(), "col");
                let n = |k: &str| -> f64 { attr(&a, k).unwrap().parse().unwrap() };
                (n("max") - n("min") + 1.0) * n("width")
            })
            .sum();
        assert!(chars > 0.0, "{name}: column widths are set");
        let scale = printable_pt / (chars * 7.0);
        assert!(
            scale >= 0.85,
            "{name}: {chars} characters wide print at {:.0} %",
            scale * 100.0
        );
        // The message column wraps: the first finding's 说明 cell has a
        // format with wrapped text.
        let header = message_header
            .captures(&summary)
            .map(|c| c[1].parse::<u32>().unwrap())
            .unwrap_or_else(|| panic!("{name}: no 说明 header"));
        let first = format!(r#"<c r="D{}" "#, header + 1);
        let cell = &summary[summary
            .find(&first)
            .unwrap_or_else(|| panic!("{name}: {first}"))..];
        let s: usize = attr(&element_attrs(cell, "c"), "s")
            .expect("the message cell has a format")
            .parse()
            .unwrap();
        let styles = part(&entries, "xl/styles.xml");
        let xfs = &styles[styles.find("<cellXfs").unwrap()..];
        let xfs = &xfs[..xfs.find("</cellXfs>").unwrap()];
        let xf = xfs.split("<xf ").nth(s + 1).unwrap();
        assert!(xf.contains(r#"wrapText="1""#), "{name}: format {s} is {xf}");
    }
    assert_eq!(copies, 5, "five annotated copies of the samples");
}
