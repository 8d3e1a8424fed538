//! Two packaging corner cases of annotated copies:
//! - a workbook without xl/styles.xml gets a minimal one (and its
//!   relationship and content type) instead of an error;
//! - notes added next to existing notes on other sheets never reuse a VML
//!   idmap block or shape id (Excel: `<o:idmap data="b1,b2">`, shapes
//!   `_x0000_s<1024*b+n>`, blocks unique in the workbook).

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use rust_xlsxwriter::{Note, Workbook};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use taizhang::annotate::{SummaryInfo, annotate_xlsx};
use taizhang::model::{Code, Finding};

fn finding(sheet: &str, row: u32, col: &str, code: Code) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        file: "in.xlsx".into(),
        input: Default::default(),
        sheet: sheet.into(),
        row,
        column: col.into(),
        field: String::new(),
        value: "测试".into(),
        suggestion: None,
        message: format!("{}（测试）", code.title_zh()),
        related: vec![],
        village: None,
    }
}

fn info(fs: &[Finding]) -> SummaryInfo {
    SummaryInfo {
        ready: false,
        verdict: String::new(),
        findings: fs.to_vec(),
        rebuilt_from: None,
        inputs_note: vec![],
        ..Default::default()
    }
}

fn entries(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        out.insert(f.name().unwrap().to_string(), v);
    }
    out
}

fn write_entries(path: &Path, m: &[(String, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (n, b) in m {
        w.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap();
}

fn text(m: &BTreeMap<String, Vec<u8>>, n: &str) -> String {
    String::from_utf8(m[n].clone()).unwrap()
}

fn two_sheets(path: &Path, notes: bool) {
    let mut wb = Workbook::new();
    for name in ["摸底表", "第二 表"] {
        let ws = wb.add_worksheet().set_name(name).unwrap();
        for r in 0..10u32 {
            ws.write_string(r, 0, format!("测试{r}")).unwrap();
            ws.write_string(r, 1, "值").unwrap();
        }
        if notes {
            ws.insert_note(1, 1, &Note::new("原有批注").set_author("老师"))
                .unwrap();
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn workbook_without_styles_gets_a_minimal_styles_part() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.xlsx");
    two_sheets(&full, false);
    // Drop xl/styles.xml, its relationship and its content type.
    let m = entries(&full);
    let mut kept = Vec::new();
    for (n, b) in &m {
        let s = String::from_utf8_lossy(b).into_owned();
        match n.as_str() {
            "xl/styles.xml" => continue,
            "xl/_rels/workbook.xml.rels" => {
                let mut out = String::new();
                for part in s.split("<Relationship ") {
                    if !part.contains("/styles\"") {
                        if !out.is_empty() {
                            out.push_str("<Relationship ");
                        }
                        out.push_str(part);
                    } else if part.contains("</Relationships>") {
                        out.push_str("</Relationships>");
                    }
                }
                kept.push((n.clone(), out.into_bytes()));
            }
            "[Content_Types].xml" => {
                let out = s.replace(
                    r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
                    "",
                );
                kept.push((n.clone(), out.into_bytes()));
            }
            _ => kept.push((n.clone(), b.clone())),
        }
    }
    let input = dir.path().join("in.xlsx");
    write_entries(&input, &kept);
    let before = entries(&input);
    assert!(!before.contains_key("xl/styles.xml"));
    assert!(!text(&before, "xl/_rels/workbook.xml.rels").contains("/styles\""));

    let fs = vec![finding("摸底表", 3, "B", Code::ID_CHECKSUM)];
    let output = dir.path().join("in.核对.xlsx");
    annotate_xlsx(&input, &output, &fs, &info(&fs)).expect("no styles part is not an error");
    let after = entries(&output);
    let styles = text(&after, "xl/styles.xml");
    assert!(styles.contains("FFFFC7CE"), "{styles}");
    let rels = text(&after, "xl/_rels/workbook.xml.rels");
    assert!(
        rels.contains("relationships/styles\" Target=\"styles.xml\""),
        "{rels}"
    );
    let ct = text(&after, "[Content_Types].xml");
    assert_eq!(ct.matches("PartName=\"/xl/styles.xml\"").count(), 1, "{ct}");
    // B3 of 摸底表 (sheet1) points at an xf with the red fill.
    let sheet = text(&after, "xl/worksheets/sheet1.xml");
    let s = sheet
        .split("<c r=\"B3\"")
        .nth(1)
        .and_then(|t| t.split("s=\"").nth(1))
        .and_then(|t| t.split('"').next())
        .unwrap()
        .parse::<usize>()
        .unwrap();
    let xfs: Vec<&str> = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("<xf ")
        .skip(1)
        .collect();
    let fill: usize = xfs[s]
        .split("fillId=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let fills: Vec<&str> = styles.split("<fill>").skip(1).collect();
    assert!(fills[fill].contains("FFFFC7CE"), "fill {fill}: {styles}");
}

/// (idmap blocks, shape numbers) of a VML drawing.
fn vml_ids(xml: &[u8]) -> (Vec<u32>, Vec<u32>) {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut blocks, mut shapes) = (Vec::new(), Vec::new());
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes().flatten() {
                    let v = a.value.to_string();
                    if e.local_name().as_ref() == "idmap" && a.key.as_ref() == "data" {
                        blocks.extend(v.split(',').map(|x| x.trim().parse::<u32>().unwrap()));
                    }
                    if e.local_name().as_ref() == "shape"
                        && a.key.as_ref() == "id"
                        && let Some(n) = v.strip_prefix("_x0000_s")
                    {
                        shapes.push(n.parse().unwrap());
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    (blocks, shapes)
}

#[test]
fn new_notes_never_reuse_vml_blocks_or_shape_ids() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xlsx");
    two_sheets(&input, true);
    let before = entries(&input);
    let vmls_before: Vec<&String> = before.keys().filter(|n| n.ends_with(".vml")).collect();
    assert_eq!(
        vmls_before.len(),
        2,
        "rust_xlsxwriter writes one VML per sheet"
    );
    // Notes on the second sheet (which has its own VML) and, beyond one
    // block of 1024, on the first.
    let mut fs = vec![finding("第二 表", 5, "A", Code::NAME_FORMAT)];
    for r in 1..=1100 {
        fs.push(finding("摸底表", 20 + r, "C", Code::STATUS_UNKNOWN));
    }
    let output = dir.path().join("in.核对.xlsx");
    annotate_xlsx(&input, &output, &fs, &info(&fs)).unwrap();
    let after = entries(&output);
    let mut seen_blocks: BTreeSet<u32> = BTreeSet::new();
    let mut seen_shapes: BTreeSet<u32> = BTreeSet::new();
    let mut total = 0;
    for (n, b) in after.iter().filter(|(n, _)| n.ends_with(".vml")) {
        let (blocks, shapes) = vml_ids(b);
        assert!(!blocks.is_empty(), "{n}: no idmap");
        for bl in &blocks {
            assert!(seen_blocks.insert(*bl), "{n}: idmap block {bl} used twice");
        }
        for s in &shapes {
            assert!(
                blocks.contains(&(s / 1024)),
                "{n}: shape {s} outside its blocks {blocks:?}"
            );
            assert!(seen_shapes.insert(*s), "{n}: shape id {s} used twice");
        }
        total += shapes.len();
    }
    // 2 original notes + 1 + 1100 new ones.
    assert_eq!(total, 2 + 1 + 1100);
    // The original notes keep their ids (their VML text is spliced, not rewritten).
    for n in vmls_before {
        let (_, old) = vml_ids(&before[n]);
        let (_, new) = vml_ids(&after[n]);
        assert!(
            old.iter().all(|s| new.contains(s)),
            "{n}: an original shape lost its id"
        );
    }
}
