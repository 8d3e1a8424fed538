//! `taizhang template` with a config: the township and school year in the
//! titles, the configured villages as the 村（社区） dropdown, read back from
//! the written workbooks as a clerk would open them.

use super::check::CONFIG;
use super::support::*;
use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use std::io::Read;
use std::path::Path;
use taizhang::templates::Annex;

const VILLAGES: [&str; 14] = [
    "金星村",
    "双坪村",
    "刘家湾村",
    "先联村",
    "沙湾村",
    "齐建村",
    "中河村",
    "板长村",
    "高兴村",
    "麦坪村",
    "茨林村",
    "瓦子沟村",
    "长岭村",
    "熨斗社区",
];

fn sheet(path: &Path) -> Range<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = wb.sheet_names()[0].clone();
    wb.worksheet_range(&name).expect("range")
}

/// The merged title: the first cell of the top rows naming the form.
fn title(r: &Range<Data>) -> String {
    (0..4u32)
        .filter_map(|row| r.get_value((row, 0)).map(|d| d.to_string()))
        .find(|t| t.contains("年"))
        .unwrap_or_default()
}

/// Column letter of the header cell `label`.
fn col_letter_of(r: &Range<Data>, label: &str) -> Option<String> {
    for (row, col, d) in r.used_cells() {
        if row < 6 && matches!(d, Data::String(s) if s == label) {
            let c = col as u32 + r.start().unwrap().1;
            return Some(((b'A' + c as u8) as char).to_string());
        }
    }
    None
}

/// The `<dataValidation …>…</dataValidation>` elements of the first sheet.
fn validations(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml.split("<dataValidation ")
        .skip(1)
        .map(|s| s.split("</dataValidation>").next().unwrap().to_string())
        .collect()
}

pub(super) fn assert_filled(dir: &Path) {
    for a in Annex::ALL {
        let p = dir.join(a.file_name());
        let r = sheet(&p);
        let t = title(&r);
        assert!(
            t.contains("熨斗镇") && t.contains("2022年"),
            "{}: title {t:?}",
            a.file_name()
        );
        if a == Annex::Stats {
            // One row per configured village.
            let cells: Vec<String> = r.used_cells().map(|(_, _, d)| d.to_string()).collect();
            for v in VILLAGES {
                assert!(
                    cells.iter().any(|c| c == v),
                    "{}: no row {v}",
                    a.file_name()
                );
            }
            continue;
        }
        let letter = col_letter_of(&r, "村（社区）").expect("village column");
        let dv = validations(&p);
        let village_dv = dv
            .iter()
            .find(|d| d.contains(&format!("sqref=\"{letter}")))
            .unwrap_or_else(|| panic!("{}: no dropdown on column {letter}", a.file_name()));
        for v in VILLAGES {
            assert!(
                village_dv.contains(v),
                "{}: dropdown lacks {v}: {village_dv}",
                a.file_name()
            );
        }
    }
}

#[test]
fn config_flag_fills_titles_and_village_dropdown() {
    let w = Workdir::new("tpl_config_flag");
    w.write("设置/乡镇配置.toml", CONFIG);
    let out = w.run(&[
        "template",
        "--config",
        "设置/乡镇配置.toml",
        "--out",
        "空白表格",
    ]);
    assert_eq!(out.status, 0, "{}", out.all());
    assert_filled(&w.join("空白表格"));
}

#[test]
fn config_in_current_folder_is_found() {
    let w = Workdir::new("tpl_config_cwd");
    w.write("taizhang.toml", CONFIG);
    let out = w.run(&["template"]);
    assert_eq!(out.status, 0, "{}", out.all());
    assert_filled(&w.join("空白表格"));
}

#[test]
fn config_beside_out_folder_is_found() {
    let w = Workdir::new("tpl_config_beside");
    w.write("本轮/taizhang.toml.txt", CONFIG);
    let out = w.run(&["template", "--out", "本轮/空白表格"]);
    assert_eq!(out.status, 0, "{}", out.all());
    assert_filled(&w.join("本轮/空白表格"));
}

#[test]
fn without_config_titles_are_left_blank() {
    let w = Workdir::new("tpl_config_none");
    let out = w.run(&["template", "--out", "空白"]);
    assert_eq!(out.status, 0, "{}", out.all());
    for a in Annex::ALL {
        let p = w.join("空白").join(a.file_name());
        let t = title(&sheet(&p));
        assert!(t.contains("____镇（乡）____年"), "{t}");
        assert!(validations(&p).iter().all(|d| !d.contains("金星村")));
    }
}

#[test]
fn bad_config_is_named_in_chinese() {
    let w = Workdir::new("tpl_config_bad");
    w.write("taizhang.toml", "township = \n");
    let out = w.run(&["template"]);
    assert_ne!(out.status, 0);
    assert!(out.stderr.contains("taizhang.toml"), "{}", out.all());
    assert!(out.stderr.contains("配置文件"), "{}", out.all());
}

fn zip_text(path: &Path, name: &str) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut xml = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
    xml
}

/// The attribute `name` of an XML start tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    tag[i..].split('"').next()
}

/// (borderId, numFmtId) of the style of cell `cell` ("A6"); None when the
/// cell is not written at all.
fn cell_style(path: &Path, cell: &str) -> Option<(String, String)> {
    let sheet = zip_text(path, "xl/worksheets/sheet1.xml");
    let styles = zip_text(path, "xl/styles.xml");
    let start = sheet.find(&format!("<c r=\"{cell}\""))?;
    let tag = sheet[start..].split('>').next().unwrap();
    let s: usize = attr(tag, "s").unwrap_or("0").parse().unwrap();
    let xfs = styles.split("<cellXfs").nth(1).unwrap();
    let xf = format!(" {}", xfs.split("<xf ").nth(s + 1).unwrap());
    Some((
        attr(&xf, "borderId").unwrap_or("0").to_string(),
        attr(&xf, "numFmtId").unwrap_or("0").to_string(),
    ))
}

#[test]
fn blank_forms_print_thirty_ruled_rows() {
    let plain = Workdir::new("tpl_ruled_rows_plain");
    let out = plain.run(&["template", "--out", "空白"]);
    assert_eq!(out.status, 0, "{}", out.all());
    let w = Workdir::new("tpl_ruled_rows_config");
    w.write("taizhang.toml", CONFIG);
    let out = w.run(&["template", "--out", "带配置"]);
    assert_eq!(out.status, 0, "{}", out.all());
    for dir in [plain.join("空白"), w.join("带配置")] {
        for a in [Annex::Survey, Annex::Ledger, Annex::Warning] {
            let p = dir.join(a.file_name());
            let r = sheet(&p);
            let id = col_letter_of(&r, "身份证号码").expect("ID column");
            let first = a.first_data_row();
            let ruled =
                |cell: String| cell_style(&p, &cell).is_some_and(|(border, _)| border != "0");
            for row in [first, first + 15, first + 29] {
                assert!(
                    ruled(format!("A{row}")),
                    "{}: A{row} not ruled",
                    p.display()
                );
                assert!(ruled(format!("{id}{row}")), "{}: {id}{row}", p.display());
            }
            let below = first + 30;
            assert!(
                !ruled(format!("A{below}")),
                "{}: A{below} ruled",
                p.display()
            );
            assert!(!ruled(format!("{id}{below}")), "{}", p.display());
            // The ID column stays text (format "@") far below the ruled rows.
            let (_, fmt) = cell_style(&p, &format!("{id}{}", first + 500)).expect("ID cell");
            let styles = zip_text(&p, "xl/styles.xml");
            assert!(
                fmt == "49" || styles.contains(&format!("numFmtId=\"{fmt}\" formatCode=\"@\"")),
                "{}: ID column not text ({fmt})",
                p.display()
            );
        }
    }
}
