//! Annotated copies: fidelity of everything not annotated, the marks
//! themselves, determinism, failure modes, and LibreOffice opening the copy.
//!
//! The rich input workbook is built here (rust_xlsxwriter, then the zip is
//! post-processed to add customXml, ignoredErrors and a WPS-style
//! xl/cellimages.xml), so the fixture and the code that makes it are one.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use rust_xlsxwriter::{
    ConditionalFormatDataBar, DataValidation, DataValidationRule, DocProperties, ExcelDateTime,
    Format, FormatBorder, Formula, IgnoreError, Image, Note, Workbook,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use taizhang::annotate::{SummaryInfo, annotate_xlsx, rebuild_xlsx};
use taizhang::model::{Cell, Code, Finding, Loc};
use taizhang::read::Grid;
use testkit::ids::fake_id;

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

const NAMES: [&str; 6] = ["测试甲", "测试乙", "测试丙", "测试丁", "测试戊", "测试己"];

/// Build the rich survey workbook at `path`.
fn build_rich(path: &Path) {
    let mut wb = Workbook::new();
    let fixed = ExcelDateTime::from_ymd(2022, 10, 12).unwrap();
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&fixed)
            .set_title("摸底调查表")
            .set_author("测试"),
    );
    let title = Format::new().set_bold().set_font_size(16);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7");
    let text = Format::new()
        .set_num_format("@")
        .set_border(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    {
        let ws = wb.add_worksheet().set_name("摸底表").unwrap();
        ws.merge_range(0, 0, 0, 7, "熨斗初级中学 摸底调查表", &title)
            .unwrap();
        ws.write_string(1, 0, "填报单位：熨斗初级中学").unwrap();
        let header = [
            "序号",
            "村（社区）",
            "姓名",
            "性别",
            "身份证号码",
            "出生日期",
            "就读状态",
            "备注",
        ];
        for (i, h) in header.iter().enumerate() {
            ws.write_string_with_format(2, i as u16, *h, &head).unwrap();
        }
        for i in 0..6u32 {
            let r = 3 + i;
            ws.write_number(r, 0, (i + 1) as f64).unwrap();
            ws.write_string(r, 1, "金星村").unwrap();
            ws.write_string(r, 2, NAMES[i as usize]).unwrap();
            ws.write_string(r, 3, if i % 2 == 0 { "男" } else { "女" })
                .unwrap();
            ws.write_string_with_format(
                r,
                4,
                fake_id(&format!("20100{}15", i + 1), 11 + 2 * i),
                &text,
            )
            .unwrap();
            ws.write_number_with_format(r, 5, 40300.0 + i as f64, &date)
                .unwrap();
            ws.write_string(r, 6, if i == 4 { "辍学" } else { "在校" })
                .unwrap();
        }
        // a merged household cell and a formula with a cached result
        ws.merge_range(10, 1, 11, 1, "双坪村", &Format::new())
            .unwrap();
        ws.write_formula(12, 0, Formula::new("=COUNTA(C4:C9)").set_result("6"))
            .unwrap();
        ws.set_column_width(1, 14).unwrap();
        ws.set_column_width(4, 22).unwrap();
        ws.set_row_height(2, 30).unwrap();
        ws.set_freeze_panes(3, 0).unwrap();
        ws.autofilter(2, 0, 8, 7).unwrap();
        let dv = DataValidation::new()
            .allow_list_strings(&["在校", "辍学", "失学"])
            .unwrap();
        ws.add_data_validation(3, 6, 8, 6, &dv).unwrap();
        let dv2 = DataValidation::new().allow_list_formula(Formula::new("=名单!$A$1:$A$3"));
        ws.add_data_validation(3, 3, 8, 3, &dv2).unwrap();
        let dv3 = DataValidation::new().allow_whole_number(DataValidationRule::Between(1, 100));
        ws.add_data_validation(3, 0, 8, 0, &dv3).unwrap();
        ws.add_conditional_format(3, 0, 8, 0, &ConditionalFormatDataBar::new())
            .unwrap();
        ws.insert_note(
            4,
            2,
            &Note::new("原有批注：户主外出务工").set_author("老师"),
        )
        .unwrap();
        ws.insert_note(7, 7, &Note::new("另一条原有批注").set_author("老师"))
            .unwrap();
        ws.write_url(1, 4, "https://example.org/notice").unwrap();
        ws.insert_image(14, 3, &Image::new_from_buffer(PNG_1X1).unwrap())
            .unwrap();
        ws.ignore_error_range(3, 4, 8, 4, IgnoreError::NumberStoredAsText)
            .unwrap();
        ws.set_landscape().set_paper_size(9);
        ws.set_print_area(0, 0, 12, 7).unwrap();
        ws.set_repeat_rows(0, 2).unwrap();
    }
    {
        let ws = wb.add_worksheet().set_name("名单").unwrap();
        for (i, v) in ["男", "女", "未知"].iter().enumerate() {
            ws.write_string(i as u32, 0, *v).unwrap();
        }
        ws.protect();
    }
    wb.define_name("村名", "=名单!$A$1:$A$3").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let bytes = post_process(&bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Add customXml, a WPS cellimages part, and check ignoredErrors is present.
fn post_process(bytes: &[u8]) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == "[Content_Types].xml" {
            let s = String::from_utf8(data).unwrap().replace(
                "</Types>",
                r#"<Override PartName="/xl/cellimages.xml" ContentType="application/vnd.wps-officedocument.cellimage+xml"/><Override PartName="/customXml/itemProps1.xml" ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>"#,
            );
            data = s.into_bytes();
        }
        if name == "xl/_rels/workbook.xml.rels" {
            let s = String::from_utf8(data).unwrap().replace(
                "</Relationships>",
                r#"<Relationship Id="rId90" Type="http://www.wps.cn/officeDocument/2020/cellImage" Target="cellimages.xml"/><Relationship Id="rId91" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml" Target="../customXml/item1.xml"/></Relationships>"#,
            );
            data = s.into_bytes();
        }
        out.start_file(name, opts).unwrap();
        out.write_all(&data).unwrap();
    }
    let extra: [(&str, String); 5] = [
        ("customXml/item1.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><taizhang xmlns="urn:test:taizhang"><round>2022</round></taizhang>"#.to_string()),
        ("customXml/itemProps1.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><ds:datastoreItem ds:itemID="{6E2F8A51-0000-4000-8000-000000000001}" xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/></ds:datastoreItem>"#.to_string()),
        ("customXml/_rels/item1.xml.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>"#.to_string()),
        ("xl/cellimages.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="ID_0001" descr="照片"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="9525" cy="9525"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>"#.to_string()),
        ("xl/_rels/cellimages.xml.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/></Relationships>"#.to_string()),
    ];
    for (name, data) in extra {
        out.start_file(name, opts).unwrap();
        out.write_all(data.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn finding(code: Code, row: u32, col: &str, value: &str, sug: Option<&str>, msg: &str) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        file: "附件1_熨斗初级中学.xlsx".into(),
        input: Default::default(),
        sheet: "摸底表".into(),
        row,
        column: col.into(),
        field: String::new(),
        value: value.into(),
        suggestion: sug.map(str::to_string),
        message: msg.into(),
        related: vec![],
        village: Some("金星村".into()),
    }
}

/// Findings: C5 has an existing note (error + warning on it), E6 a styled
/// text cell (warning), G8 a notice, H5 an empty cell in an existing row,
/// D20 an empty cell in a row that does not exist.
fn findings() -> Vec<Finding> {
    let mut related = finding(
        Code::NAME_DIFFERS,
        5,
        "C",
        "测试乙",
        Some("测试已"),
        "姓名与县局名单不一致：县局名单 第88行: 测试已 610922…",
    );
    related.related.push(Loc {
        file: "县局名单.xlsx".into(),
        sheet: "Sheet1".into(),
        row: 88,
        input: Default::default(),
        column: String::new(),
    });
    vec![
        finding(
            Code::DUPLICATE_ID,
            5,
            "C",
            "测试乙",
            None,
            "身份证号与第4行重复",
        ),
        related,
        finding(Code::GRADE_AGE, 6, "E", "x", None, "年级与年龄不符"),
        finding(Code::DROPOUT, 8, "G", "辍学", None, "辍学，需列入预警清单"),
        finding(
            Code::EVIDENCE_MISSING,
            5,
            "H",
            "",
            Some("休学申请"),
            "缺少佐证材料",
        ),
        finding(
            Code::NOT_IN_ROSTER,
            20,
            "D",
            "",
            None,
            "县局名单中没有此儿童",
        ),
    ]
}

fn summary(fs: &[Finding]) -> SummaryInfo {
    SummaryInfo {
        ready: false,
        verdict: "不能上报：还有 3 个错误必须改正".into(),
        findings: fs.to_vec(),
        rebuilt_from: None,
        inputs_note: vec!["附件1_熨斗初级中学.xlsx 摸底表 摸底调查表(附件1) 6 行".into()],
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// zip / xml helpers
// ---------------------------------------------------------------------------

fn entries(path: &Path) -> BTreeMap<String, (Vec<u8>, u64, u32)> {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        out.insert(
            e.name().unwrap().to_string(),
            (v, e.compressed_size(), e.crc32()),
        );
    }
    out
}

fn text(m: &BTreeMap<String, (Vec<u8>, u64, u32)>, name: &str) -> String {
    String::from_utf8(m[name].0.clone()).unwrap()
}

#[derive(Debug, PartialEq, Clone)]
struct C {
    s: String,
    t: String,
    content: String,
}

/// Every `<c>` of a sheet: ref → (s, t, text content of v/f/is).
fn cells(xml: &str) -> BTreeMap<String, C> {
    let mut r = Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut cur: Option<(String, C)> = None;
    loop {
        match r.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "c" => {
                if let Some((k, c)) = cur.take() {
                    out.insert(k, c);
                }
                let get = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.value.to_string())
                        .unwrap_or_default()
                };
                cur = Some((
                    get("r"),
                    C {
                        s: get("s"),
                        t: get("t"),
                        content: String::new(),
                    },
                ));
            }
            Event::Text(t) => {
                if let Some((_, c)) = cur.as_mut() {
                    c.content.push_str(&t.xml10_content());
                }
            }
            Event::End(e) if e.local_name().as_ref() == "c" => {
                if let Some((k, c)) = cur.take() {
                    out.insert(k, c);
                }
            }
            _ => {}
        }
    }
    if let Some((k, c)) = cur.take() {
        out.insert(k, c);
    }
    out
}

/// cellXfs as attribute maps (plus the raw inner XML), and fills' fgColor rgb.
fn styles(xml: &str) -> (Vec<BTreeMap<String, String>>, Vec<String>) {
    let mut r = Reader::from_str(xml);
    let mut xfs = Vec::new();
    let mut fills = Vec::new();
    let mut section = String::new();
    loop {
        match r.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                match name.as_str() {
                    "cellXfs" | "fills" | "cellStyleXfs" => section = name.clone(),
                    "xf" if section == "cellXfs" => {
                        xfs.push(
                            e.attributes()
                                .flatten()
                                .map(|a| (a.key.as_ref().to_string(), a.value.to_string()))
                                .collect(),
                        );
                    }
                    "fill" if section == "fills" => fills.push(String::new()),
                    "fgColor" if section == "fills" => {
                        if let Some(a) = e.attributes().flatten().find(|a| a.key.as_ref() == "rgb")
                            && let Some(last) = fills.last_mut()
                        {
                            *last = a.value.to_string();
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == section {
                    section.clear();
                }
            }
            _ => {}
        }
    }
    (xfs, fills)
}

/// comments part: ref → all text.
fn comments(xml: &str) -> BTreeMap<String, String> {
    let mut r = Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut cur: Option<String> = None;
    loop {
        match r.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == "comment" => {
                let rf = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == "ref")
                    .map(|a| a.value.to_string())
                    .unwrap();
                out.insert(rf.clone(), String::new());
                cur = Some(rf);
            }
            Event::Text(t) => {
                if let Some(k) = &cur {
                    out.get_mut(k).unwrap().push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                if let Some(k) = &cur {
                    let s = match g.xml10_content().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    };
                    out.get_mut(k).unwrap().push_str(s);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "comment" => cur = None,
            _ => {}
        }
    }
    out
}

fn sheet_part_of(m: &BTreeMap<String, (Vec<u8>, u64, u32)>, name: &str) -> String {
    // rust_xlsxwriter writes sheets in order: 摸底表 is sheet1.
    let _ = name;
    let _ = m;
    "xl/worksheets/sheet1.xml".into()
}

fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn annotate_rich(dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("附件1_熨斗初级中学.xlsx");
    build_rich(&input);
    let output = dir.join("附件1_熨斗初级中学.核对.xlsx");
    let fs = findings();
    annotate_xlsx(&input, &output, &fs, &summary(&fs)).unwrap();
    (input, output)
}

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

#[test]
fn untouched_parts_are_byte_identical() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let a = entries(&input);
    let b = entries(&output);
    // The fixture really holds the features whose survival we check.
    let sheet_in = text(&a, "xl/worksheets/sheet1.xml");
    for part in [
        "<mergeCell ",
        "<dataValidation ",
        "<x14:dataBar",
        "<ignoredErrors>",
        "<autoFilter ",
        "<pane ",
        "<hyperlink ",
        "<pageSetup ",
        "<legacyDrawing ",
        "<drawing ",
    ] {
        assert!(sheet_in.contains(part), "fixture lacks {part}");
    }
    for must in [
        "customXml/item1.xml",
        "xl/cellimages.xml",
        "xl/media/image1.png",
        "docProps/core.xml",
    ] {
        assert!(a.contains_key(must), "fixture lacks {must}");
    }
    let may_change: BTreeSet<&str> = [
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/comments1.xml",
        "xl/drawings/vmlDrawing1.vml",
    ]
    .into_iter()
    .collect();
    for (name, (data, csize, crc)) in &a {
        let (d2, c2, crc2) = b
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing in the copy"));
        if may_change.contains(name.as_str()) {
            continue;
        }
        assert!(data == d2, "{name} changed");
        assert_eq!((csize, crc), (c2, crc2), "{name} not raw-copied");
    }
    // Entry order: the input's entries first, in order.
    let order = |p: &Path| -> Vec<String> {
        let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
        (0..z.len())
            .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
            .collect()
    };
    let (oa, ob) = (order(&input), order(&output));
    assert_eq!(&ob[..oa.len()], &oa[..]);
    // Only the summary sheet is new.
    let new: Vec<&String> = ob[oa.len()..].iter().collect();
    assert_eq!(new, vec!["xl/worksheets/sheet3.xml"]);
}

#[test]
fn sheet_xml_outside_marked_cells_is_unchanged() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let a = entries(&input);
    let b = entries(&output);
    let part = sheet_part_of(&a, "摸底表");
    let (xa, xb) = (text(&a, &part), text(&b, &part));
    let (ca, cb) = (cells(&xa), cells(&xb));
    let marked: BTreeSet<&str> = ["C5", "E6", "G8", "H5", "D20"].into_iter().collect();
    for (k, c) in &ca {
        let d = cb.get(k).unwrap_or_else(|| panic!("cell {k} lost"));
        if marked.contains(k.as_str()) {
            assert_eq!(
                (&c.t, &c.content),
                (&d.t, &d.content),
                "value of {k} changed"
            );
            assert_ne!(c.s, d.s, "style of marked {k} not changed");
        } else {
            assert_eq!(c, d, "mismatch at 摸底表!{k}");
        }
    }
    // created cells: exactly the two that were empty
    let created: Vec<&String> = cb.keys().filter(|k| !ca.contains_key(*k)).collect();
    assert_eq!(created, vec!["D20", "H5"]);
    assert!(
        xb.contains(r#"<row r="20"><c r="D20" s="#),
        "row 20 not created in order"
    );
    // Everything around sheetData is the same, apart from the dimension,
    // (where none existed) our legacyDrawing — the fixture has a note
    // already — and the tab selection: the copy opens on 核对说明 alone.
    let xa = xa.replacen(r#"<sheetView tabSelected="1" "#, "<sheetView ", 1);
    let cut = |x: &str| {
        let s = x.find("<sheetData").unwrap();
        let e = x.find("</sheetData>").unwrap();
        let d0 = x.find("<dimension").unwrap();
        let d1 = d0 + x[d0..].find("/>").unwrap();
        format!("{}{}{}", &x[..d0], &x[d1..s], &x[e..])
    };
    assert_eq!(cut(&xa), cut(&xb));
    // Resolved styles of marked cells: the same xf except the fill.
    let (xfa, _) = styles(&text(&a, "xl/styles.xml"));
    let (xfb, fills) = styles(&text(&b, "xl/styles.xml"));
    assert_eq!(&xfb[..xfa.len()], &xfa[..], "existing cell formats changed");
    for (k, want) in [
        ("C5", "FFFFC7CE"),
        ("E6", "FFFFD966"),
        ("G8", "FFBDD7EE"),
        ("H5", "FFFFC7CE"),
        ("D20", "FFFFD966"),
    ] {
        let old_s: usize = ca.get(k).map(|c| c.s.parse().unwrap_or(0)).unwrap_or(0);
        let new_s: usize = cb[k].s.parse().unwrap();
        let mut old = xfa[old_s].clone();
        let mut new = xfb[new_s].clone();
        let fill: usize = new["fillId"].parse().unwrap();
        assert_eq!(fills[fill], want, "fill of {k}");
        assert_eq!(new.remove("applyFill").as_deref(), Some("1"));
        old.remove("applyFill");
        old.remove("fillId");
        new.remove("fillId");
        assert_eq!(old, new, "format of {k} differs beyond the fill");
    }
}

#[test]
fn notes_carry_the_text_and_existing_notes_are_kept() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let a = entries(&input);
    let b = entries(&output);
    let ca = comments(&text(&a, "xl/comments1.xml"));
    let cb = comments(&text(&b, "xl/comments1.xml"));
    // Existing note on C5 kept, ours appended after it.
    let c5 = &cb["C5"];
    assert!(c5.starts_with(&ca["C5"]), "existing note text lost: {c5}");
    assert!(c5.contains("【错误】DUPLICATE_ID 身份证号重复\n身份证号与第4行重复\n当前值：测试乙"));
    assert!(c5.contains("【警告】NAME_DIFFERS 姓名与县局名单不一致"));
    assert!(c5.contains("县局名单 第88行: 测试已"));
    assert!(c5.contains("建议值：测试已"));
    // The other existing note is untouched.
    assert_eq!(cb["H8"], ca["H8"]);
    assert!(cb["H5"].contains(
        "【错误】EVIDENCE_MISSING 缺少佐证材料\n缺少佐证材料\n当前值：（空）\n建议值：休学申请"
    ));
    assert!(cb["G8"].contains("【提示】DROPOUT 失学辍学"));
    assert!(cb["D20"].contains("【警告】NOT_IN_ROSTER"));
    assert!(cb["E6"].contains("【警告】GRADE_AGE"));
    // One VML shape per note: the two old ones plus four new ones.
    let vml = text(&b, "xl/drawings/vmlDrawing1.vml");
    assert_eq!(
        vml.matches("<x:ClientData ObjectType=\"Note\"").count(),
        6,
        "{vml}"
    );
    assert!(vml.contains("<x:Row>19</x:Row><x:Column>3</x:Column>"));
    assert!(!b.keys().any(|k| k.contains("threadedComment")));
}

#[test]
fn summary_sheet_is_first_with_links_filter_and_shifted_names() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let a = entries(&input);
    let b = entries(&output);
    let wb = text(&b, "xl/workbook.xml");
    let first = wb.find("<sheet ").unwrap();
    assert!(
        wb[first..].starts_with(r#"<sheet name="核对说明" sheetId="3" r:id="rIdTz1"/>"#),
        "{wb}"
    );
    // localSheetId of the old sheets' names moved by one
    let wa = text(&a, "xl/workbook.xml");
    assert!(wa.contains(r#"localSheetId="0""#));
    assert!(
        wb.contains(r#"name="_xlnm.Print_Titles" localSheetId="1""#),
        "{wb}"
    );
    assert!(
        wb.contains(r#"name="_xlnm._FilterDatabase" localSheetId="1""#),
        "{wb}"
    );
    assert!(
        wb.contains(r#"<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">"#)
    );
    let rels = text(&b, "xl/_rels/workbook.xml.rels");
    assert!(rels.contains(r#"Id="rIdTz1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet3.xml""#));
    let ct = text(&b, "[Content_Types].xml");
    assert!(ct.contains(r#"<Override PartName="/xl/worksheets/sheet3.xml""#));
    let s = text(&b, "xl/worksheets/sheet3.xml");
    let c = cells(&s);
    assert_eq!(c["A1"].content, "不能上报：还有 3 个错误必须改正");
    assert!(
        c["A2"].content.contains("错误 2 条，警告 3 条，提示 1 条"),
        "{}",
        c["A2"].content
    );
    assert!(c["A3"].content.starts_with("先打开 报告.html"));
    assert_eq!(c["B4"].content, "红色：错误，必须改正后才能上报");
    let header_row = c
        .iter()
        .find(|(_, v)| v.content == "单元格")
        .map(|(k, _)| k[1..].to_string())
        .unwrap();
    assert!(s.contains(&format!(r#"<pane ySplit="{header_row}""#)));
    assert!(s.contains(&format!(r#"<autoFilter ref="A{header_row}:I"#)));
    assert!(
        s.contains(r#"location="&apos;摸底表&apos;!C5" display="摸底表!C5""#),
        "{s}"
    );
    // counts by code and by village present
    assert!(c.values().any(|v| v.content == "按问题代码统计"));
    assert!(c.values().any(|v| v.content == "金星村"));
    assert!(c.values().any(|v| v.content.contains("6 行")));
}

#[test]
fn two_runs_are_byte_identical() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let again = dir.path().join("again.xlsx");
    let fs = findings();
    annotate_xlsx(&input, &again, &fs, &summary(&fs)).unwrap();
    assert!(std::fs::read(&output).unwrap() == std::fs::read(&again).unwrap());
}

#[test]
fn corrupt_encrypted_and_same_path_inputs_fail_and_leave_nothing() {
    let dir = workdir();
    let fs = findings();
    let bad = dir.path().join("坏文件.xlsx");
    std::fs::write(&bad, b"PK\x03\x04 this is not really a zip").unwrap();
    let out = dir.path().join("out").join("坏文件.核对.xlsx");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let e = annotate_xlsx(&bad, &out, &fs, &summary(&fs)).unwrap_err();
    assert!(e.to_string().contains("坏文件.xlsx"), "{e}");
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);

    // A truncated real workbook.
    let good = dir.path().join("好.xlsx");
    build_rich(&good);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("截断.xlsx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(annotate_xlsx(&cut, &out, &fs, &summary(&fs)).is_err());
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);

    // An encrypted workbook is an OLE compound file.
    let enc = dir.path().join("加密.xlsx");
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.extend(std::iter::repeat_n(0u8, 504));
    std::fs::write(&enc, cfb).unwrap();
    let e = annotate_xlsx(&enc, &out, &fs, &summary(&fs)).unwrap_err();
    assert!(e.to_string().contains("加密"), "{e}");
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);

    // Output == input is refused and the input is untouched.
    let e = annotate_xlsx(&good, &good, &fs, &summary(&fs)).unwrap_err();
    assert!(e.to_string().contains("拒绝覆盖"), "{e}");
    assert_eq!(std::fs::read(&good).unwrap(), bytes);
}

// ---------------------------------------------------------------------------
// LibreOffice
// ---------------------------------------------------------------------------

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

/// Convert with a private profile (parallel tests and other users of soffice
/// must not share one).
fn convert(file: &Path, to: &str, outdir: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let status = Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(outdir)
        .arg(file)
        .status()
        .expect("soffice runs");
    assert!(status.success(), "soffice failed on {}", file.display());
}

fn read_csvs(dir: &Path, stem: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix(&format!("{stem}-"))
            && let Some(sheet) = rest.strip_suffix(".csv")
        {
            out.insert(
                sheet.to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            );
        }
    }
    out
}

#[test]
fn libreoffice_opens_the_copy_with_the_same_values() {
    let dir = workdir();
    let (input, output) = annotate_rich(dir.path());
    let ia = dir.path().join("a");
    let ib = dir.path().join("b");
    std::fs::create_dir_all(&ia).unwrap();
    std::fs::create_dir_all(&ib).unwrap();
    let a_in = ia.join("in.xlsx");
    let b_in = ib.join("out.xlsx");
    std::fs::copy(&input, &a_in).unwrap();
    std::fs::copy(&output, &b_in).unwrap();
    // UTF-8, every sheet to its own file (sheet number -1).
    let filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
    convert(&a_in, filter, &ia);
    convert(&b_in, filter, &ib);
    let ca = read_csvs(&ia, "in");
    let cb = read_csvs(&ib, "out");
    assert!(ca.contains_key("摸底表"), "sheets: {:?}", ca.keys());
    // The copy creates styled empty cells (D20): rows of empty values at
    // the end are not values.
    let trim = |s: &str| -> String {
        let mut lines: Vec<&str> = s.lines().collect();
        while lines.last().is_some_and(|l| l.chars().all(|c| c == ',')) {
            lines.pop();
        }
        lines.join("\n")
    };
    for (sheet, csv) in &ca {
        let other = cb.get(sheet).map(|s| trim(s));
        assert_eq!(
            Some(trim(csv)),
            other,
            "values of {sheet} differ after annotation"
        );
    }
    assert!(ca["摸底表"].contains(&fake_id("20100215", 13)));
    let summary = &cb["核对说明"];
    assert!(summary.contains("不能上报"));
    assert!(summary.contains("DUPLICATE_ID"));
    convert(&b_in, "pdf", &ib);
    let pdf = std::fs::read(ib.join("out.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 1000);
}

// ---------------------------------------------------------------------------
// rebuild
// ---------------------------------------------------------------------------

#[test]
fn rebuilt_copy_keeps_values_ids_as_text_merges_and_marks() {
    let dir = workdir();
    let id = fake_id("20100315", 21);
    let grids = vec![
        Grid {
            sheet: "Sheet1".into(),
            cells: vec![
                (1, 1, Cell::Text("熨斗初级中学 摸底调查表".into())),
                (2, 1, Cell::Text("姓名".into())),
                (2, 2, Cell::Text("身份证号码".into())),
                (2, 3, Cell::Text("序号".into())),
                (3, 1, Cell::Text("测试甲".into())),
                (3, 2, Cell::Text(id.clone())),
                (3, 3, Cell::Number(1.0)),
                (4, 1, Cell::Text("测试乙".into())),
                (4, 2, Cell::Number(610922201003150000.0)),
            ],
            merges: vec![(1, 1, 1, 3)],
        },
        Grid {
            sheet: "说明".into(),
            cells: vec![(1, 1, Cell::Text("无".into()))],
            merges: vec![],
        },
    ];
    let mut f = finding(
        Code::ID_TRUNCATED,
        4,
        "B",
        "6.10922E+17",
        None,
        "身份证号被存成数字",
    );
    f.file = "附件1.xls".into();
    f.sheet = "Sheet1".into();
    let fs = vec![f];
    let mut info = summary(&fs);
    info.rebuilt_from = Some("本文件由 附件1.xls 重建为 xlsx（原文件未改动）".into());
    let out = dir.path().join("附件1.核对.xlsx");
    rebuild_xlsx(&grids, &out, &fs, &info).unwrap();
    let again = dir.path().join("again.xlsx");
    rebuild_xlsx(&grids, &again, &fs, &info).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(&again).unwrap(),
        "rebuild not deterministic"
    );
    let b = entries(&out);
    let wb = text(&b, "xl/workbook.xml");
    let names: Vec<&str> = wb
        .match_indices("<sheet name=\"")
        .map(|(i, _)| {
            let s = &wb[i + 13..];
            &s[..s.find('"').unwrap()]
        })
        .collect();
    assert_eq!(names, vec!["核对说明", "Sheet1", "说明"]);
    let s1 = text(&b, "xl/worksheets/sheet1.xml");
    assert!(s1.contains(r#"<mergeCell ref="A1:C1"/>"#));
    let c = cells(&s1);
    assert_eq!(c["B3"].t, "s", "ID must stay text");
    assert_eq!(c["C3"].t, "", "a number stays a number");
    let sst = text(&b, "xl/sharedStrings.xml");
    assert!(sst.contains(&id));
    let (xfs, fills) = styles(&text(&b, "xl/styles.xml"));
    let fill: usize = xfs[c["B4"].s.parse::<usize>().unwrap()]["fillId"]
        .parse()
        .unwrap();
    assert_eq!(fills[fill], "FFFFC7CE");
    let notes = comments(&text(&b, "xl/comments1.xml"));
    assert!(notes["B4"].contains("【错误】ID_TRUNCATED"));
    let sum = cells(&text(&b, "xl/worksheets/sheet3.xml"));
    assert!(sum.values().any(|v| v.content.contains("重建为 xlsx")));
}
