//! An xlsx roster is read a row at a time: a village merged down over many
//! rows, past the first rows where the header is looked for, still names
//! every child it covers; and a sheet whose rows a writer put out of order
//! reads the same as one in order.

use crate::support::{Workdir, findings_array};
use rust_xlsxwriter::{Format as XFormat, Workbook};
use std::path::Path;
use testkit::ids::fake_id;
use testkit::readback::workbook_rows;
use testkit::synth::{Rng, fake_name};

const CONFIG: &str = "township = \"熨斗镇\"\nschool_year = 2022\n";

/// Children on the roster.
const CHILDREN: usize = 40;

/// The roster's village column (C) is merged in three blocks: rows 3–8,
/// 9–30 (running past the header search window) and 31–42.
const BLOCKS: [(u32, u32, &str); 3] = [(3, 8, "金星村"), (9, 30, "双坪村"), (31, 42, "河湾村")];

struct Child {
    name: String,
    id: String,
    /// 1-based row on the roster sheet.
    row: u32,
}

fn children() -> Vec<Child> {
    let mut rng = Rng::new(16);
    (0..CHILDREN)
        .map(|i| Child {
            name: fake_name(&mut rng, None),
            id: fake_id("20100503", 100 + i as u32),
            row: 3 + i as u32,
        })
        .collect()
}

fn village_of(row: u32) -> &'static str {
    BLOCKS
        .iter()
        .find(|(r0, r1, _)| (*r0..=*r1).contains(&row))
        .map(|b| b.2)
        .expect("a row of the table")
}

/// The county platform roster: a title merged wider than the table, the
/// header on row 2, villages merged down, households (户编号) merged over
/// pairs of rows, and a note far right of the last row (the sheet's rest
/// is wider than its first rows).
fn write_roster(path: &Path, kids: &[Child]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let plain = XFormat::new();
    ws.merge_range(0, 0, 0, 11, "熨斗镇 县乡村振兴局名单", &plain)
        .unwrap();
    let header = [
        "序号",
        "乡(镇)",
        "行政村",
        "户编号",
        "姓名",
        "性别",
        "证件号码",
        "与户主关系",
        "在校生状况",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for &(r0, r1, v) in &BLOCKS {
        ws.merge_range(r0 - 1, 2, r1 - 1, 2, v, &plain).unwrap();
    }
    for (i, k) in kids.iter().enumerate() {
        let r = k.row - 1;
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        ws.write_string(r, 1, "熨斗镇").unwrap();
        let household = format!("6109220010{:04}", i / 2 + 1);
        if i % 2 == 0 && i + 1 < kids.len() {
            ws.merge_range(r, 3, r + 1, 3, &household, &plain).unwrap();
        } else if i % 2 == 0 {
            ws.write_string(r, 3, &household).unwrap();
        }
        ws.write_string(r, 4, &k.name).unwrap();
        ws.write_string(r, 5, "男").unwrap();
        ws.write_string(r, 6, &k.id).unwrap();
        ws.write_string(r, 7, "之子").unwrap();
        ws.write_string(r, 8, "小学").unwrap();
    }
    let last = kids.last().expect("children").row - 1;
    ws.write_string(last, 13, "核实中").unwrap();
    wb.save(path).unwrap();
}

/// A survey of the first two children, so the round has one.
fn write_survey(path: &Path, kids: &[Child]) {
    let mut s = String::from(
        "附件1 摸底调查表\n序号,村（社区）,姓名,身份证号码,性别,出生日期,就读状态,就读学校,年级,佐证材料\n",
    );
    for (i, k) in kids[..2].iter().enumerate() {
        s.push_str(&format!(
            "{},{},{},{},男,2010-05-03,在校,熨斗初级中学,六年级,\n",
            i + 1,
            village_of(k.row),
            k.name,
            k.id
        ));
    }
    std::fs::write(path, s).unwrap();
}

/// The worksheet XML of `xlsx` with the `<row>` element of row `moved`
/// put after the last row (as some writers order rows).
fn move_row_to_end(xlsx: &[u8], moved: u32) -> Vec<u8> {
    crate::support::rewrite_xlsx_parts(
        xlsx,
        |name| name == "xl/worksheets/sheet1.xml",
        |s| {
            let open = format!("<row r=\"{moved}\"");
            let start = s.find(&open).expect("the row");
            let end = start + s[start..].find("</row>").expect("row end") + "</row>".len();
            let row = &s[start..end];
            let close = s.find("</sheetData>").expect("sheetData");
            format!("{}{}{row}{}", &s[..start], &s[end..close], &s[close..])
        },
    )
}

/// Run the round in `wd` and check every child's village in the ledger
/// and the roster's row count in findings.json.
fn assert_villages(wd: &Workdir, kids: &[Child]) {
    let out = wd.run(&["reconcile", "round", "--out", "out"]);
    assert!(out.status == 0 || out.status == 1, "{}", out.all());
    let json = wd.findings("out");
    let roster = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "县局名单.xlsx")
        .unwrap_or_else(|| panic!("roster not read: {}", out.all()));
    assert_eq!(roster["role"], "roster", "{roster}");
    assert_eq!(roster["rows"], CHILDREN as u64, "{roster}");
    let ledger = workbook_rows(&wd.join("out").join("附件2_学龄人口台账.xlsx"));
    for k in kids {
        let row = ledger
            .iter()
            .find(|r| r.contains(&k.id))
            .unwrap_or_else(|| panic!("{} (row {}) not in the ledger", k.name, k.row));
        let want = village_of(k.row);
        assert!(
            row.iter().any(|c| c == want),
            "{} (row {}) should be in {want}: {row:?}",
            k.name,
            k.row
        );
        for (_, _, other) in BLOCKS.iter().filter(|b| b.2 != want) {
            assert!(
                !row.iter().any(|c| c == other),
                "{} (row {}) also in {other}: {row:?}",
                k.name,
                k.row
            );
        }
    }
    // Children missing from the survey are found in their own village.
    let findings = findings_array(&json);
    for k in &kids[2..] {
        let f = findings
            .iter()
            .find(|f| f["file"] == "县局名单.xlsx" && f["row"] == k.row as u64)
            .unwrap_or_else(|| panic!("no finding at roster row {}: {json}", k.row));
        assert_eq!(f["village"], village_of(k.row), "{f}");
    }
}

#[test]
fn village_merged_down_past_the_header_window_names_every_child() {
    let wd = Workdir::new("xlsx-stream");
    wd.mkdir("round");
    wd.write("round/taizhang.toml", CONFIG);
    let kids = children();
    write_roster(&wd.join("round/县局名单.xlsx"), &kids);
    write_survey(&wd.join("round/附件1_熨斗初级中学.csv"), &kids);
    assert_villages(&wd, &kids);
}

#[test]
fn rows_out_of_order_read_as_in_order() {
    let wd = Workdir::new("xlsx-stream-order");
    wd.mkdir("round");
    wd.write("round/taizhang.toml", CONFIG);
    let kids = children();
    let path = wd.join("round/县局名单.xlsx");
    write_roster(&path, &kids);
    // Row 3 holds the top of the first village merge; row 20 a child inside
    // the second block, past the header window.
    let mut bytes = std::fs::read(&path).unwrap();
    for moved in [3, 20] {
        bytes = move_row_to_end(&bytes, moved);
    }
    std::fs::write(&path, bytes).unwrap();
    write_survey(&wd.join("round/附件1_熨斗初级中学.csv"), &kids);
    assert_villages(&wd, &kids);
}
