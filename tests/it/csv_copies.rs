//! The copy of a csv input made in one pass (`annotate::rebuild_csv`, the
//! data sheet written straight from the csv text with the marks) is the copy
//! the values' rebuild makes (`annotate::rebuild_xlsx` of
//! `read::read_grids`): same cells and types, same fills, same notes (text,
//! author, size), same 核对说明 sheet, same tab selection; for a sheet large
//! enough to be streamed by both, the same bytes in every part. LibreOffice
//! opens it.

use quick_xml::events::Event;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use taizhang::annotate::{SummaryInfo, rebuild_csv, rebuild_xlsx};
use taizhang::model::{Code, Finding, InputId, Severity};
use testkit::ids::fake_id;
use testkit::readback::{sheet_rows, workbook_rows};
use testkit::synth::{Rng, fake_name};

const HEADER: [&str; 8] = [
    "序号",
    "行政村",
    "户主姓名",
    "姓名",
    "证件号码",
    "性别",
    "出生日期",
    "备注",
];

/// A csv of `n` children after a title line and a blank line, with the
/// oddities a csv can have: a quoted cell with a line break, spaces around
/// a value, a control character, text that looks like an escape, `&<>`,
/// empty fields, a row wider than the header, a stray quote mark that makes
/// two records share one row, a cell longer than a sheet cell holds.
fn csv_text(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut s = String::from("农村6—15周岁人口数据（测试镇）\n\n");
    s.push_str(&HEADER.join(","));
    s.push('\n');
    for i in 0..n {
        let birth = format!("20{:02}0{}1{}", 10 + i % 6, 1 + i % 9, i % 10);
        let id = fake_id(&birth, (i % 1000) as u32);
        let name = fake_name(&mut rng, None);
        let head = fake_name(&mut rng, None);
        let sex = if i % 2 == 0 { "男" } else { "女" };
        let note = match i % 97 {
            3 => "\"第一行\n第二行\"".to_string(),
            5 => " 前后有空格 ".to_string(),
            7 => "控制\u{1}字符\r".to_string(),
            11 => "_x0041_ & <b> \"引号\"".to_string(),
            13 => String::new(),
            17 => "多,出,的,列".to_string(),
            _ => format!("第{i}户"),
        };
        let village = if i % 50 == 49 { "" } else { "金星村" };
        s.push_str(&format!(
            "{},{village},{head},{name},{id},{sex},{birth},{note}\n",
            i + 1
        ));
        if i == n / 2 {
            // An unbalanced quote mark: the next line counts as the same row
            // and replaces it, until a second stray quote closes it.
            s.push_str("x,ab\"c\ny,z\np,q\"r\n");
            s.push_str(&format!("长,{}\n", "长".repeat(33_000)));
        }
    }
    s
}

fn finding(code: Code, severity: Severity, row: u32, col: &str, value: &str) -> Finding {
    Finding {
        code,
        severity,
        file: "名单.csv".into(),
        input: InputId(0),
        sheet: "名单".into(),
        row,
        column: col.into(),
        field: String::new(),
        value: value.into(),
        suggestion: (severity == Severity::Error).then(|| "建议".to_string()),
        message: format!("第{row}行{col}列的测试提示"),
        related: vec![],
        village: None,
    }
}

/// Findings on filled cells, on empty cells before, between and after the
/// filled ones, on rows without data (between rows and after the last),
/// beyond the last column, two on one cell, one on another sheet.
fn findings(last_row: u32) -> Vec<Finding> {
    let mut v = vec![
        finding(Code::ID_CHECKSUM, Severity::Error, 4, "E", "x"),
        finding(Code::NAME_FORMAT, Severity::Warning, 4, "E", "x"),
        finding(Code::DROPOUT, Severity::Notice, 5, "D", "y"),
        finding(Code::NAME_FORMAT, Severity::Warning, 2, "C", ""),
        finding(Code::NAME_FORMAT, Severity::Warning, 1, "A", "标题"),
        finding(Code::NAME_FORMAT, Severity::Warning, 1, "Z", ""),
        finding(Code::DROPOUT, Severity::Notice, 6, "H", ""),
        finding(Code::ID_CHECKSUM, Severity::Error, last_row + 3, "B", ""),
        finding(Code::ID_CHECKSUM, Severity::Error, last_row + 3, "A", ""),
        finding(Code::DROPOUT, Severity::Notice, last_row, "AB", ""),
    ];
    for r in (10..last_row).step_by(7) {
        v.push(finding(Code::NAME_FORMAT, Severity::Warning, r, "D", "n"));
    }
    let mut other = finding(Code::ID_CHECKSUM, Severity::Error, 4, "A", "");
    other.sheet = "别的表".into();
    v.push(other);
    v
}

fn info(findings: &[Finding]) -> SummaryInfo {
    SummaryInfo {
        ready: false,
        verdict: "有错误，暂不能上报".into(),
        findings: findings.to_vec(),
        rebuilt_from: Some("本文件由 名单.csv 的数据重建为 xlsx".into()),
        inputs_note: vec!["名单：县局名单".into()],
        ..SummaryInfo::default()
    }
}

/// The old copy (from the values) and the new one (one pass) of `csv`.
fn both(dir: &Path, csv: &[u8], last_row: u32) -> (std::path::PathBuf, std::path::PathBuf) {
    let input = dir.join("名单.csv");
    std::fs::write(&input, csv).unwrap();
    let fs = findings(last_row);
    let info = info(&fs);
    let old = dir.join("old.xlsx");
    let new = dir.join("new.xlsx");
    let grids = taizhang::read::read_grids(&input).unwrap();
    rebuild_xlsx(&grids, &old, &fs, &info).unwrap();
    rebuild_csv(&input, &new, &fs, &info).unwrap();
    (old, new)
}

fn members(path: &Path) -> BTreeMap<String, Vec<u8>> {
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

fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| quick_xml::escape::unescape(&a.value).unwrap().into_owned())
}

/// The fill colour of every cell format (`s` → ARGB, "" without a fill).
fn fills_by_style(styles: &[u8]) -> Vec<String> {
    let mut rd = quick_xml::Reader::from_reader(styles);
    let (mut fills, mut xfs) = (Vec::<String>::new(), Vec::<usize>::new());
    let (mut in_fills, mut in_xfs) = (false, false);
    let mut buf = Vec::new();
    loop {
        match rd.read_event_into(&mut buf).unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "fills" => in_fills = true,
                "cellXfs" => in_xfs = true,
                "fill" if in_fills => fills.push(String::new()),
                "fgColor" if in_fills => {
                    *fills.last_mut().unwrap() = attr(&e, "rgb").unwrap_or_default();
                }
                "xf" if in_xfs => xfs.push(attr(&e, "fillId").unwrap().parse().unwrap()),
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                "fills" => in_fills = false,
                "cellXfs" => in_xfs = false,
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    xfs.into_iter().map(|f| fills[f].clone()).collect()
}

/// What a reader sees of the data sheet: its dimension, its view, every
/// cell (reference, type, text, fill) and its note drawing's reference.
fn sheet_view(m: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let fills = fills_by_style(&m["xl/styles.xml"]);
    let sst: Vec<String> = m
        .get("xl/sharedStrings.xml")
        .map(|x| {
            let mut rd = quick_xml::Reader::from_reader(&x[..]);
            let mut out = Vec::new();
            let mut buf = Vec::new();
            let mut in_t = false;
            loop {
                match rd.read_event_into(&mut buf).unwrap() {
                    Event::Eof => break,
                    Event::Start(e) if e.name().as_ref() == "si" => out.push(String::new()),
                    Event::Start(e) if e.name().as_ref() == "t" => in_t = true,
                    Event::End(e) if e.name().as_ref() == "t" => in_t = false,
                    Event::Text(t) if in_t => out.last_mut().unwrap().push_str(&t.xml10_content()),
                    Event::GeneralRef(r) if in_t => {
                        let s = format!("&{};", &*r);
                        out.last_mut()
                            .unwrap()
                            .push_str(&quick_xml::escape::unescape(&s).unwrap());
                    }
                    _ => {}
                }
                buf.clear();
            }
            out
        })
        .unwrap_or_default();
    let xml = &m["xl/worksheets/sheet1.xml"];
    let mut rd = quick_xml::Reader::from_reader(&xml[..]);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut cell: Option<(String, String, String, String)> = None;
    let mut in_text = false;
    loop {
        let ev = rd.read_event_into(&mut buf).unwrap();
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.name().as_ref() {
                    "dimension" => out.push(format!("dimension {:?}", attr(e, "ref"))),
                    "sheetView" => out.push(format!("view selected={:?}", attr(e, "tabSelected"))),
                    "legacyDrawing" => out.push(format!("notes {:?}", attr(e, "r:id"))),
                    "row" => out.push(format!("row {:?}", attr(e, "r"))),
                    "c" => {
                        let s: usize = attr(e, "s").map_or(0, |s| s.parse().unwrap());
                        let c = (
                            attr(e, "r").unwrap(),
                            attr(e, "t").unwrap_or_default(),
                            String::new(),
                            fills[s].clone(),
                        );
                        if empty {
                            out.push(format!("{c:?}"));
                        } else {
                            cell = Some(c);
                        }
                    }
                    "t" | "v" => in_text = true,
                    _ => {}
                }
            }
            Event::Text(ref t) if in_text => {
                if let Some(c) = cell.as_mut() {
                    c.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(ref r) if in_text => {
                if let Some(c) = cell.as_mut() {
                    let s = format!("&{};", &**r);
                    c.2.push_str(&quick_xml::escape::unescape(&s).unwrap());
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                "t" | "v" => in_text = false,
                "c" => {
                    if let Some(mut c) = cell.take() {
                        // A shared string is the same text as an inline one.
                        if c.1 == "s" {
                            c.2 = sst[c.2.parse::<usize>().unwrap()].clone();
                            c.1 = "inlineStr".into();
                        }
                        out.push(format!("{c:?}"));
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Every sheet as calamine reads it, with the cell types.
fn typed_cells(path: &Path) -> Vec<(String, Vec<String>)> {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|n| {
            let r = wb.worksheet_range(&n).unwrap();
            let cells = r
                .cells()
                .map(|(row, col, d)| format!("{row},{col} {d:?}"))
                .collect();
            (n, cells)
        })
        .collect()
}

fn assert_same_to_a_reader(old: &Path, new: &Path) {
    assert_eq!(workbook_rows(old), workbook_rows(new));
    assert_eq!(sheet_rows(old, "名单"), sheet_rows(new, "名单"));
    assert_eq!(typed_cells(old), typed_cells(new));
    let (mo, mn) = (members(old), members(new));
    let (vo, vn) = (sheet_view(&mo), sheet_view(&mn));
    assert_eq!(vo.len(), vn.len());
    for (a, b) in vo.iter().zip(&vn) {
        assert_eq!(a, b);
    }
    // Styles, notes, their drawing, 核对说明, the workbook (tab selection)
    // and the sheet's relationships: the same bytes.
    for part in [
        "xl/styles.xml",
        "xl/comments1.xml",
        "xl/drawings/vmlDrawing1.vml",
        "xl/worksheets/sheet2.xml",
        "xl/workbook.xml",
        "xl/worksheets/_rels/sheet1.xml.rels",
        "docProps/app.xml",
    ] {
        assert!(mo.contains_key(part), "{part}");
        assert!(mo[part] == mn[part], "{part} differs");
    }
}

#[test]
fn a_small_csvs_copy_is_the_values_copy_cell_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    let text = csv_text(n, 7);
    let (old, new) = both(dir.path(), text.as_bytes(), n as u32 + 5);
    assert_same_to_a_reader(&old, &new);
    let view = sheet_view(&members(&new));
    // The marks are there: a filled ID cell, a created cell on the blank line.
    assert!(
        view.iter()
            .any(|l| l.starts_with("(\"E4\", \"inlineStr\"") && l.contains("FFFFC7CE")),
        "{view:?}"
    );
    assert!(
        view.contains(&"(\"C2\", \"\", \"\", \"FFFFD966\")".to_string()),
        "{view:?}"
    );
    assert!(view.contains(&"view selected=None".to_string()));
}

#[test]
fn a_gbk_csvs_copy_is_the_values_copy_cell_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let n = 120;
    let text = csv_text(n, 11).replace('\u{1}', "");
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    let (old, new) = both(dir.path(), &gbk, n as u32 + 5);
    assert_same_to_a_reader(&old, &new);
}

/// Large enough for the values' rebuild to stream its sheet too: then every
/// part of the two copies has the same bytes.
#[test]
fn a_large_csvs_copy_has_the_values_copys_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let n = 26_000;
    let text = csv_text(n, 3);
    let (old, new) = both(dir.path(), text.as_bytes(), n as u32 + 5);
    let (mo, mn) = (members(&old), members(&new));
    assert_eq!(mo.keys().collect::<Vec<_>>(), mn.keys().collect::<Vec<_>>());
    assert!(!mo.contains_key("xl/sharedStrings.xml"));
    for (k, v) in &mo {
        assert!(*v == mn[k], "{k} differs");
    }
    assert_same_to_a_reader(&old, &new);
}

fn soffice() -> std::path::PathBuf {
    for c in [
        "/usr/bin/soffice",
        "/usr/local/bin/soffice",
        "/usr/bin/libreoffice",
    ] {
        if Path::new(c).exists() {
            return c.into();
        }
    }
    panic!("LibreOffice (soffice) is required for this test: apt-get install -y libreoffice-calc");
}

/// LibreOffice opens the one-pass copy and shows the values the values'
/// copy shows, and the 核对说明 sheet with every finding.
#[test]
fn libreoffice_opens_a_csvs_copy_as_the_values_copy() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200;
    let text = csv_text(n, 5);
    let (old, new) = both(dir.path(), text.as_bytes(), n as u32 + 5);
    let out = dir.path().join("lo");
    let profile = tempfile::tempdir().unwrap();
    let filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
    let status = std::process::Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            filter,
            "--outdir",
        ])
        .arg(&out)
        .args([&old, &new])
        .status()
        .expect("soffice runs");
    assert!(status.success());
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name))
            .unwrap_or_else(|e| panic!("LibreOffice did not write {name}: {e}"))
    };
    let (a, b) = (read("old-名单.csv"), read("new-名单.csv"));
    assert_eq!(a, b);
    assert!(b.contains(&fake_id("20100110", 0)), "{}", &b[..500]);
    let summary = read("new-核对说明.csv");
    assert_eq!(read("old-核对说明.csv"), summary);
    for f in findings(n as u32 + 5).iter().filter(|f| f.sheet == "名单") {
        assert!(summary.contains(&f.message), "{}", f.message);
    }
}
