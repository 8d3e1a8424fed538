//! Stage 1 (read) against messy synthetic workbooks: xlsx written here with
//! rust_xlsxwriter, the same survey as committed xls/ods copies
//! (tests/fixtures/make_read_fixtures.sh), GBK and UTF-8-BOM csv files, and
//! the hostile inputs that must be an `Err` naming the file.

use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook, Worksheet};
use std::path::{Path, PathBuf};
use taizhang::model::{Cell, Field, Format, Role, Table};
use taizhang::read::{ReadError, detect_format, field_for_header, read_grids, read_input};

// ---------------------------------------------------------------------------
// Synthetic data helpers
// ---------------------------------------------------------------------------

/// A fake ID for county 610922: birth date and 3-digit sequence.
fn make_id(birth: &str, seq: &str) -> String {
    testkit::ids::with_check(&format!("{}{birth}{seq}", testkit::ids::COUNTY))
}

fn id1() -> String {
    make_id("20100503", "123")
}
fn id2() -> String {
    make_id("20120315", "246")
}
fn id3() -> String {
    make_id("20150901", "371")
}
fn id4() -> String {
    make_id("20110720", "482")
}
fn id6() -> String {
    make_id("20090110", "611")
}
/// What Excel keeps of an ID typed as a number: 15 digits then zeros.
const ID5_AS_NUMBER: f64 = 610922201005030000.0;

/// 1-based writer helpers, so fixtures read like the sheet.
fn s(ws: &mut Worksheet, r: u32, c: u16, v: &str) {
    ws.write_string(r - 1, c - 1, v).unwrap();
}
fn n(ws: &mut Worksheet, r: u32, c: u16, v: f64) {
    ws.write_number(r - 1, c - 1, v).unwrap();
}
fn d(ws: &mut Worksheet, r: u32, c: u16, y: u16, m: u8, day: u8) {
    let f = XFormat::new().set_num_format("yyyy-mm-dd");
    let dt = ExcelDateTime::from_ymd(y, m, day).unwrap();
    ws.write_datetime_with_format(r - 1, c - 1, &dt, &f)
        .unwrap();
}
fn merge(ws: &mut Worksheet, r0: u32, c0: u16, r1: u32, c1: u16, v: &str) {
    ws.merge_range(r0 - 1, c0 - 1, r1 - 1, c1 - 1, v, &XFormat::new())
        .unwrap();
}

/// Excel serial of a date (1900 system).
fn serial(y: i32, m: u32, day: u32) -> f64 {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    (chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap() - base).num_days() as f64
}

fn text(t: &str) -> Cell {
    Cell::Text(t.to_string())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/read")
        .join(name)
}

/// Read `path` and check the file is byte-identical afterwards.
fn read_unchanged(
    path: &Path,
    role: Option<Role>,
    township: Option<&str>,
    first: usize,
) -> Result<Vec<Table>, ReadError> {
    let before = std::fs::read(path).ok();
    let res = read_input(path, role, township, first);
    assert_eq!(before, std::fs::read(path).ok(), "input was modified");
    res
}

fn err_text(res: Result<Vec<Table>, ReadError>) -> String {
    match res {
        Ok(t) => panic!("expected an error, got {} tables", t.len()),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------------------
// The messy survey workbook (also committed as xlsx/xls/ods)
// ---------------------------------------------------------------------------

/// Title merged over the width, a 填报单位 line, a two-row header with a group
/// (就读信息 over 就读状态|学校名称|年级), shuffled columns, an unknown
/// column, header text with a line break / space / （必填）, a household
/// merged over three children, a hidden row, an empty row, an ID typed as a
/// number, a blank (unmerged) group cell, a pre-numbered blank row, 合计, 注：
/// and signature lines; a hidden second sheet and a third sheet of prose.
fn build_survey(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("摸底表").unwrap();
    merge(
        ws,
        1,
        1,
        1,
        16,
        "附件1 熨斗镇农村义务教育阶段学龄人口摸底调查表",
    );
    merge(
        ws,
        2,
        1,
        2,
        16,
        "填报单位：熨斗初级中学    填报日期：2022年10月15日",
    );
    for (c, h) in [
        (1, "序号"),
        (2, "学生姓名"),
        (3, "村（社区）"),
        (4, "组"),
        (5, "户主"),
        (6, "家庭住址"),
        (7, "公民身份\n号码（必填）"),
        (8, "性 别"),
        (9, "出生日期"),
        (13, "未在校原因"),
        (14, "佐证材料"),
        (15, "调查人"),
        (16, "备注"),
    ] {
        merge(ws, 3, c, 4, c, h);
    }
    merge(ws, 3, 10, 3, 12, "就读信息");
    s(ws, 4, 10, "就读状态");
    s(ws, 4, 11, "学校名称");
    s(ws, 4, 12, "年级");

    // Household 李户主: three children, village/group/head/surveyor merged.
    merge(ws, 5, 3, 7, 3, "金星村");
    merge(ws, 5, 4, 7, 4, "1组");
    merge(ws, 5, 5, 7, 5, "李户主");
    merge(ws, 5, 15, 7, 15, "张老师");
    for (r, seq, name, id, sex, (y, m, dd)) in [
        (5, 1.0, "李测一", id1(), "男", (2010, 5, 3)),
        (6, 2.0, "李测二", id2(), "女", (2012, 3, 15)),
        (7, 3.0, "李测三", format!(" {}", id3()), "男", (2015, 9, 1)),
    ] {
        n(ws, r, 1, seq);
        s(ws, r, 2, name);
        s(ws, r, 6, "金星村1组");
        s(ws, r, 7, &id);
        s(ws, r, 8, sex);
        d(ws, r, 9, y, m, dd);
    }
    s(ws, 5, 10, "在校");
    s(ws, 5, 11, "熨斗初级中学");
    s(ws, 5, 12, "七年级");
    s(ws, 6, 10, "在校");
    s(ws, 6, 11, "熨斗镇中心小学");
    s(ws, 6, 12, "四年级");
    s(ws, 7, 10, "延缓入学");
    s(ws, 7, 13, "身体原因");
    s(ws, 7, 14, "县医院证明");
    // Hidden row 8.
    n(ws, 8, 1, 4.0);
    s(ws, 8, 2, "周试");
    s(ws, 8, 3, "双坪村");
    s(ws, 8, 4, "3组");
    s(ws, 8, 5, "周户主");
    s(ws, 8, 7, &id4());
    s(ws, 8, 8, "女");
    d(ws, 8, 9, 2011, 7, 20);
    s(ws, 8, 10, "在校(县外)");
    s(ws, 8, 11, "西安市某小学");
    s(ws, 8, 12, "五年级");
    s(ws, 8, 14, "在校证明");
    s(ws, 8, 15, "王老师");
    ws.set_row_hidden(7).unwrap();
    // Row 9 empty. Row 10: ID typed as a number.
    n(ws, 10, 1, 5.0);
    s(ws, 10, 2, "吴例");
    s(ws, 10, 3, "双坪村");
    s(ws, 10, 4, "2组");
    s(ws, 10, 5, "吴户主");
    n(ws, 10, 7, ID5_AS_NUMBER);
    s(ws, 10, 8, "男");
    s(ws, 10, 9, "2010.05");
    s(ws, 10, 10, "辍学");
    s(ws, 10, 15, "王老师");
    // Row 11: blank group, not merged: must stay blank.
    n(ws, 11, 1, 6.0);
    s(ws, 11, 2, "郑样");
    s(ws, 11, 3, "双坪村");
    s(ws, 11, 5, "郑户主");
    s(ws, 11, 7, &id6());
    s(ws, 11, 8, "女");
    d(ws, 11, 9, 2009, 1, 10);
    s(ws, 11, 10, "初中已毕业");
    s(ws, 11, 14, "毕业证");
    s(ws, 11, 15, "王老师");
    s(ws, 11, 16, "已读高一");
    // Row 12: pre-numbered blank row; 13 合计; 14 注：; 15 signatures.
    n(ws, 12, 1, 7.0);
    merge(ws, 13, 1, 13, 2, "合计");
    s(ws, 13, 3, "6人");
    merge(
        ws,
        14,
        1,
        14,
        16,
        "注：1.就读状态按下拉选项填写；2.身份证号码以文本格式填写。",
    );
    s(
        ws,
        15,
        1,
        "填表人：张老师        审核人：        校长签字：",
    );

    let hidden = wb.add_worksheet();
    hidden.set_name("备用").unwrap();
    s(hidden, 1, 1, "姓名");
    s(hidden, 1, 2, "身份证号");
    s(hidden, 1, 3, "村");
    s(hidden, 1, 4, "就读状态");
    s(hidden, 1, 5, "调查人");
    s(hidden, 2, 1, "冯备");
    s(hidden, 2, 2, &make_id("20130808", "555"));
    s(hidden, 2, 3, "先联村");
    s(hidden, 2, 4, "在校");
    s(hidden, 2, 5, "刘老师");
    hidden.set_hidden(true);

    let prose = wb.add_worksheet();
    prose.set_name("说明").unwrap();
    s(prose, 1, 1, "本表由学校填写，一户一行。");
    wb.save(path).unwrap();
}

fn check_survey(tables: &[Table], format: Format, file: &str) {
    assert_eq!(tables.len(), 2, "摸底表 and the hidden 备用 sheet");
    let t = &tables[0];
    assert_eq!(t.index, 3);
    assert_eq!(t.file, file);
    assert_eq!(t.format, format);
    assert_eq!(t.sheet, "摸底表");
    assert_eq!(t.role, Role::Survey);
    assert_eq!(t.header_row, 4);
    assert_eq!(t.skipped, 0);
    assert_eq!(
        t.preamble,
        "附件1 熨斗镇农村义务教育阶段学龄人口摸底调查表\n填报单位：熨斗初级中学    填报日期：2022年10月15日"
    );
    let expected_cols = [
        (Field::Seq, 1),
        (Field::Name, 2),
        (Field::Village, 3),
        (Field::Group, 4),
        (Field::HouseholdHead, 5),
        (Field::Id, 7),
        (Field::Sex, 8),
        (Field::Birthdate, 9),
        (Field::Status, 10),
        (Field::School, 11),
        (Field::Grade, 12),
        (Field::Reason, 13),
        (Field::Evidence, 14),
        (Field::Surveyor, 15),
        (Field::Remark, 16),
    ];
    let mut sorted = expected_cols.to_vec();
    sorted.sort();
    assert_eq!(
        t.columns.iter().map(|(f, c)| (*f, *c)).collect::<Vec<_>>(),
        sorted
    );
    let rows: Vec<u32> = t.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![5, 6, 7, 8, 10, 11]);
    for r in &t.rows {
        // Every recognised field is present, at its header's column.
        for (f, c) in expected_cols {
            assert_eq!(r.values[&f].col, c, "row {} field {:?}", r.row, f);
        }
    }
    let row = |n: u32| t.rows.iter().find(|r| r.row == n).unwrap();
    let cell = |n: u32, f: Field| row(n).cell(f).cloned().unwrap();

    // Household merge: every child row carries the merged values.
    for r in [5, 6, 7] {
        assert_eq!(cell(r, Field::Village), text("金星村"), "row {r}");
        assert_eq!(cell(r, Field::Group), text("1组"), "row {r}");
        assert_eq!(cell(r, Field::HouseholdHead), text("李户主"), "row {r}");
        assert_eq!(cell(r, Field::Surveyor), text("张老师"), "row {r}");
    }
    assert_eq!(cell(5, Field::Seq), Cell::Number(1.0));
    assert_eq!(cell(5, Field::Name), text("李测一"));
    assert_eq!(cell(5, Field::Id), text(&id1()));
    assert_eq!(cell(5, Field::Sex), text("男"));
    assert_eq!(cell(5, Field::Birthdate), Cell::Date(serial(2010, 5, 3)));
    assert_eq!(cell(5, Field::Status), text("在校"));
    assert_eq!(cell(5, Field::School), text("熨斗初级中学"));
    assert_eq!(cell(5, Field::Grade), text("七年级"));
    assert_eq!(cell(5, Field::Reason), Cell::Empty);
    assert_eq!(cell(6, Field::Birthdate), Cell::Date(serial(2012, 3, 15)));
    // Original text kept (leading space).
    assert_eq!(cell(7, Field::Id), text(&format!(" {}", id3())));
    assert_eq!(cell(7, Field::Status), text("延缓入学"));
    assert_eq!(cell(7, Field::Evidence), text("县医院证明"));
    // Hidden row is read.
    assert_eq!(cell(8, Field::Name), text("周试"));
    assert_eq!(cell(8, Field::Village), text("双坪村"));
    assert_eq!(cell(8, Field::Status), text("在校(县外)"));
    assert_eq!(cell(8, Field::Surveyor), text("王老师"));
    // ID typed as a number stays a number.
    match cell(10, Field::Id) {
        Cell::Number(x) => assert!((x - ID5_AS_NUMBER).abs() < 1000.0, "{x}"),
        other => panic!("row 10 id: {other:?}"),
    }
    assert_eq!(cell(10, Field::Birthdate), text("2010.05"));
    // A blank cell that is not merged is not filled from the row above.
    assert_eq!(cell(11, Field::Group), Cell::Empty);
    assert_eq!(cell(11, Field::Village), text("双坪村"));
    assert_eq!(cell(11, Field::Remark), text("已读高一"));

    let h = &tables[1];
    assert_eq!(h.index, 4);
    assert_eq!(h.sheet, "备用");
    assert_eq!(h.role, Role::Survey);
    assert_eq!(h.header_row, 1);
    assert_eq!(h.preamble, "");
    assert_eq!(h.rows.len(), 1);
    assert_eq!(h.rows[0].row, 2);
    assert_eq!(h.rows[0].cell(Field::Name), Some(&text("冯备")));
    assert_eq!(h.rows[0].cell(Field::Village), Some(&text("先联村")));
}

#[test]
fn messy_survey_xlsx_is_read_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("merged_household.xlsx");
    build_survey(&p);
    assert_eq!(detect_format(&p).unwrap(), Format::Xlsx);
    let tables = read_unchanged(&p, None, Some("熨斗镇"), 3).unwrap();
    check_survey(&tables, Format::Xlsx, "merged_household.xlsx");
    // Table.path is the path as given.
    assert_eq!(tables[0].path, p);
}

#[test]
fn committed_xlsx_xls_and_ods_read_the_same() {
    for (name, format) in [
        ("merged_household.xlsx", Format::Xlsx),
        ("merged_household.xls", Format::Xls),
        ("merged_household.ods", Format::Ods),
    ] {
        let p = fixture(name);
        assert_eq!(detect_format(&p).unwrap(), format, "{name}");
        let tables = read_unchanged(&p, None, None, 3).unwrap();
        check_survey(&tables, format, name);
    }
}

#[test]
fn forced_role_and_indices() {
    let p = fixture("merged_household.xlsx");
    let tables = read_unchanged(&p, Some(Role::Ledger), None, 0).unwrap();
    assert_eq!(
        tables.iter().map(|t| (t.index, t.role)).collect::<Vec<_>>(),
        vec![(0, Role::Ledger), (1, Role::Ledger)]
    );
    // A forced stats role finds no statistics header here.
    let e = err_text(read_unchanged(&p, Some(Role::Stats), None, 0));
    assert!(e.contains("merged_household.xlsx"), "{e}");
    assert!(e.contains("找不到表头"), "{e}");
}

#[test]
fn grids_hold_every_cell_and_merge() {
    for name in [
        "merged_household.xlsx",
        "merged_household.xls",
        "merged_household.ods",
    ] {
        let grids = read_grids(&fixture(name)).unwrap();
        let names: Vec<&str> = grids.iter().map(|g| g.sheet.as_str()).collect();
        assert_eq!(names, vec!["摸底表", "备用", "说明"], "{name}");
        let g = &grids[0];
        let at = |r: u32, c: u32| {
            g.cells
                .iter()
                .find(|(rr, cc, _)| *rr == r && *cc == c)
                .map(|x| x.2.clone())
        };
        assert_eq!(
            at(1, 1),
            Some(text("附件1 熨斗镇农村义务教育阶段学龄人口摸底调查表")),
            "{name}"
        );
        assert_eq!(at(4, 10), Some(text("就读状态")), "{name}");
        assert_eq!(at(12, 1), Some(Cell::Number(7.0)), "{name}");
        assert_eq!(at(6, 3), None, "{name}: covered cell holds nothing");
        let mut merges = g.merges.clone();
        merges.sort();
        for m in [
            (1, 1, 1, 16),
            (3, 1, 4, 1),
            (3, 10, 3, 12),
            (5, 3, 7, 3),
            (5, 15, 7, 15),
            (13, 1, 13, 2),
            (14, 1, 14, 16),
        ] {
            assert!(
                merges.contains(&m),
                "{name}: merge {m:?} missing in {merges:?}"
            );
        }
        assert_eq!(merges.len(), 2 + 13 + 1 + 4 + 2, "{name}: {merges:?}");
    }
}

/// The committed merged_household.xlsx (source of the LibreOffice
/// conversions beside it) holds what build_survey writes, cell for cell and
/// merge for merge. With `TAIZHANG_WRITE_FIXTURES=1` it is rewritten first
/// (tests/fixtures/make_read_fixtures.sh does that).
#[test]
fn committed_read_fixture_is_the_builder_output() {
    use calamine::{Reader, Xlsx, open_workbook};
    let committed = fixture("merged_household.xlsx");
    if std::env::var_os("TAIZHANG_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(fixture("")).unwrap();
        build_survey(&committed);
    }
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("merged_household.xlsx");
    build_survey(&fresh);
    let contents = |p: &Path| {
        let mut wb: Xlsx<_> = open_workbook(p).unwrap();
        let merges = wb.merge_cells_by_sheet_id(0).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        (
            range.start(),
            range
                .cells()
                .map(|(r, c, v)| (r, c, v.to_string()))
                .collect::<Vec<_>>(),
            merges,
        )
    };
    assert_eq!(
        contents(&committed),
        contents(&fresh),
        "tests/fixtures/read/merged_household.xlsx is stale: run tests/fixtures/make_read_fixtures.sh"
    );
}

// ---------------------------------------------------------------------------
// Statistics (附件3): two-row groups and the 合计 row
// ---------------------------------------------------------------------------

fn build_stats(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("统计").unwrap();
    merge(
        ws,
        1,
        1,
        1,
        16,
        "附件3 熨斗镇农村义务教育阶段学龄人口台账统计表",
    );
    s(ws, 2, 1, "填报单位：熨斗镇人民政府");
    for (c, h) in [
        (1, "序号"),
        (2, "村（社区）"),
        (3, "学龄人口数"),
        (6, "随班就读"),
        (15, "失学辍学"),
        (16, "备注"),
    ] {
        merge(ws, 3, c, 4, c, h);
    }
    merge(ws, 3, 4, 3, 5, "在校人数");
    s(ws, 4, 4, "本县");
    s(ws, 4, 5, "县外");
    merge(ws, 3, 7, 3, 14, "未在校但不属于失学辍学");
    for (i, h) in [
        "送教上门",
        "延缓入学",
        "休学",
        "长期请假",
        "初中已毕业",
        "死亡",
        "失踪失联",
        "出国（境）",
    ]
    .iter()
    .enumerate()
    {
        s(ws, 4, 7 + i as u16, h);
    }
    let data: [(u32, &str, [f64; 13]); 2] = [
        (
            5,
            "金星村",
            [10., 7., 1., 1., 0., 1., 0., 0., 0., 0., 0., 0., 0.],
        ),
        (
            6,
            "双坪村",
            [5., 3., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 1.],
        ),
    ];
    for (r, v, counts) in data {
        n(ws, r, 1, (r - 4) as f64);
        s(ws, r, 2, v);
        for (i, x) in counts.iter().enumerate() {
            n(ws, r, 3 + i as u16, *x);
        }
    }
    merge(ws, 7, 1, 7, 2, "合计");
    for i in 0..13u16 {
        n(ws, 7, 3 + i, 0.0);
    }
    n(ws, 7, 3, 15.0);
    s(ws, 8, 1, "填表人：李某某    审核人：");
    wb.save(path).unwrap();
}

#[test]
fn stats_two_row_groups_and_total_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("统计.xlsx");
    build_stats(&p);
    let t = read_unchanged(&p, None, None, 0).unwrap();
    assert_eq!(t.len(), 1);
    let t = &t[0];
    assert_eq!(t.role, Role::Stats);
    assert_eq!(t.header_row, 4);
    let mut expected = vec![(Field::Seq, 1), (Field::Village, 2), (Field::Remark, 16)];
    for (i, f) in Field::STAT_COUNTS.iter().enumerate() {
        expected.push((*f, 3 + i as u32));
    }
    expected.sort();
    assert_eq!(
        t.columns.iter().map(|(f, c)| (*f, *c)).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        t.rows
            .iter()
            .map(|r| (r.row, r.text(Field::Village)))
            .collect::<Vec<_>>(),
        vec![
            (5, "金星村".to_string()),
            (6, "双坪村".to_string()),
            (7, "合计".to_string())
        ]
    );
    assert_eq!(
        t.rows[0].cell(Field::StatInSchoolLocal),
        Some(&Cell::Number(7.0))
    );
    assert_eq!(
        t.rows[0].cell(Field::StatInSchoolOut),
        Some(&Cell::Number(1.0))
    );
    assert_eq!(t.rows[1].cell(Field::StatDropout), Some(&Cell::Number(1.0)));
    assert_eq!(
        t.rows[1].cell(Field::StatGraduated),
        Some(&Cell::Number(1.0))
    );
    assert_eq!(t.rows[2].cell(Field::StatTotal), Some(&Cell::Number(15.0)));
    assert!(t.preamble.starts_with("附件3"));
}

// ---------------------------------------------------------------------------
// County roster: platform columns, other townships skipped
// ---------------------------------------------------------------------------

fn build_roster(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let heads = [
        "乡镇",
        "村",
        "组",
        "户编号",
        "人口编号",
        "户主",
        "姓名",
        "证件号码",
        "性别",
        "出生日期",
        "在校生状况",
    ];
    for (i, h) in heads.iter().enumerate() {
        s(ws, 1, 1 + i as u16, h);
    }
    let rows = [
        ("熨斗镇", "金星村", "李测一", id1()),
        ("双河镇", "双河村", "外镇甲", make_id("20100101", "777")),
        ("熨斗", "双坪村", "周试", id4()),
        ("熨斗镇", "双坪村", "吴例", make_id("20100503", "888")),
    ];
    for (i, (town, village, name, id)) in rows.iter().enumerate() {
        let r = 2 + i as u32;
        s(ws, r, 1, town);
        s(ws, r, 2, village);
        s(ws, r, 7, name);
        s(ws, r, 8, id);
        s(ws, r, 11, "小学");
    }
    wb.save(path).unwrap();
}

#[test]
fn roster_rows_of_other_townships_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("县局名单.xlsx");
    build_roster(&p);
    let t = read_unchanged(&p, None, Some("熨斗镇"), 0).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].role, Role::Roster);
    assert_eq!(t[0].sheet, "Sheet1");
    assert_eq!(t[0].header_row, 1);
    assert_eq!(t[0].skipped, 1);
    assert_eq!(
        t[0].rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![2, 4, 5]
    );
    assert_eq!(t[0].columns[&Field::Id], 8);
    assert_eq!(t[0].columns[&Field::PlatformStatus], 11);
    // Township given without the 镇 suffix matches too.
    let t = read_unchanged(&p, None, Some("熨斗"), 0).unwrap();
    assert_eq!(t[0].skipped, 1);
    // No township: nothing skipped.
    let t = read_unchanged(&p, None, None, 0).unwrap();
    assert_eq!(t[0].skipped, 0);
    assert_eq!(t[0].rows.len(), 4);
}

// ---------------------------------------------------------------------------
// csv: GBK and UTF-8 with BOM
// ---------------------------------------------------------------------------

#[test]
fn gbk_csv_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("台账.csv");
    let content = format!(
        "农村义务教育阶段学龄人口台账\r\n填报单位：熨斗镇中心小学,,\r\n序号,乡镇,村（社区）,姓名,性别,身份证号码,出生日期,就读状态,就读学校,年级\r\n1,熨斗镇,中河村,陈测,男,{},2010/5/3,在校,熨斗镇中心小学,六年级\r\n2,熨斗镇,板长村,褚测,女,{},2012-03-15,辍学,,\r\n合计,2人,,,,,,,,\r\n",
        id1(),
        id2()
    );
    let (bytes, _, bad) = encoding_rs::GBK.encode(&content);
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err(), "really GBK");
    std::fs::write(&p, &bytes).unwrap();
    assert_eq!(detect_format(&p).unwrap(), Format::Csv);
    let t = read_unchanged(&p, None, Some("熨斗镇"), 5).unwrap();
    assert_eq!(t.len(), 1);
    let t = &t[0];
    assert_eq!((t.index, t.format, t.role), (5, Format::Csv, Role::Ledger));
    assert_eq!(t.sheet, "台账");
    assert_eq!(t.file, "台账.csv");
    assert_eq!(t.header_row, 3);
    assert_eq!(
        t.preamble,
        "农村义务教育阶段学龄人口台账\n填报单位：熨斗镇中心小学"
    );
    assert_eq!(t.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!(t.rows[0].cell(Field::Name), Some(&text("陈测")));
    assert_eq!(t.rows[0].cell(Field::Id), Some(&text(&id1())));
    assert_eq!(t.rows[0].cell(Field::Birthdate), Some(&text("2010/5/3")));
    assert_eq!(t.rows[0].cell(Field::Seq), Some(&text("1")));
    assert_eq!(t.rows[1].cell(Field::Status), Some(&text("辍学")));
    assert_eq!(t.rows[1].cell(Field::School), Some(&Cell::Empty));
    assert_eq!(t.columns[&Field::Township], 2);
}

#[test]
fn utf8_bom_csv_with_multiline_cell() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bom_multiline.csv");
    let content = format!(
        "\u{feff}姓名,身份证号码,村,就读状态,调查人,备注\n卫测,{},中河村,在校,刘老师,\"父母外出务工\n由祖母照看\"\n\n蒋测,{},高兴村,休学,刘老师,\n",
        id1(),
        id2()
    );
    std::fs::write(&p, content.as_bytes()).unwrap();
    let t = read_unchanged(&p, None, None, 0).unwrap();
    let t = &t[0];
    assert_eq!(t.role, Role::Survey);
    assert_eq!(t.sheet, "bom_multiline");
    assert_eq!(t.header_row, 1);
    assert_eq!(
        t.columns[&Field::Name],
        1,
        "BOM is not part of the first header"
    );
    // Record 2 holds a line break; the blank line is row 3; 蒋测 is row 4.
    assert_eq!(t.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 4]);
    assert_eq!(
        t.rows[0].cell(Field::Remark),
        Some(&text("父母外出务工\n由祖母照看"))
    );
    assert_eq!(t.rows[1].cell(Field::Name), Some(&text("蒋测")));
    assert_eq!(t.rows[1].cell(Field::Status), Some(&text("休学")));
}

// ---------------------------------------------------------------------------
// Not inputs and bad inputs
// ---------------------------------------------------------------------------

#[test]
fn warning_list_is_not_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("清单.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    merge(ws, 1, 1, 1, 8, "义务教育控辍保学筛查预警清单");
    for (i, h) in [
        "序号",
        "乡镇",
        "村（社区）",
        "姓名",
        "身份证号码",
        "预警类型",
        "劝返措施",
        "责任人",
    ]
    .iter()
    .enumerate()
    {
        s(ws, 2, 1 + i as u16, h);
    }
    s(ws, 3, 4, "卫测");
    wb.save(&p).unwrap();
    match read_unchanged(&p, None, None, 0) {
        Err(e @ ReadError::NotInput { .. }) => {
            let m = e.to_string();
            assert!(m.contains("清单.xlsx") && m.contains("预警清单"), "{m}");
        }
        other => panic!("expected NotInput, got {other:?}"),
    }
}

#[test]
fn lock_files_and_annotated_copies_are_not_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("merged_household.xlsx")).unwrap();
    for name in ["~$附件1.xlsx", "附件1.核对.xlsx"] {
        let p = write(dir.path(), name, &good);
        match read_unchanged(&p, None, None, 0) {
            Err(e @ ReadError::NotInput { .. }) => {
                assert!(e.to_string().contains(name), "{e}");
                assert_eq!(e.path(), p.as_path());
            }
            other => panic!("{name}: expected NotInput, got {other:?}"),
        }
    }
    // The annotated copy is still a workbook for read_grids.
    let copy = dir.path().join("附件1.核对.xlsx");
    assert_eq!(read_grids(&copy).unwrap().len(), 3);
}

#[test]
fn no_header_lists_expected_names_and_masks_ids() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("乱表.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    s(ws, 1, 1, "某某花名册");
    s(ws, 2, 1, "名字");
    s(ws, 2, 2, "号码");
    s(ws, 3, 1, "卫测");
    s(ws, 3, 2, &id1());
    wb.save(&p).unwrap();
    let m = err_text(read_unchanged(&p, None, None, 0));
    assert!(m.contains("乱表.xlsx"), "{m}");
    assert!(m.contains("证件号码") && m.contains("学生姓名"), "{m}");
    assert!(m.contains("第2行：名字 号码"), "{m}");
    let masked = format!("{}***********{}", &id1()[..6], &id1()[17..]);
    assert!(m.contains(&masked), "{m}");
    assert!(!m.contains(&id1()), "ID must be masked: {m}");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn assert_err(p: &Path, needles: &[&str]) {
    let name = p.file_name().unwrap().to_string_lossy().to_string();
    let m = err_text(read_unchanged(p, None, None, 0));
    assert!(m.contains(&name), "message must name the file: {m}");
    for n in needles {
        assert!(m.contains(n), "expected {n:?} in: {m}");
    }
    assert!(
        detect_format(p).is_err(),
        "{name}: detect_format must fail too"
    );
    assert!(read_grids(p).is_err(), "{name}: read_grids must fail too");
}

#[test]
fn bad_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let m = err_text(read_input(&d.join("不存在.xlsx"), None, None, 0));
    assert!(m.contains("不存在.xlsx") && m.contains("找不到"), "{m}");

    assert_err(&write(d, "空文件.xlsx", b""), &["空"]);
    assert_err(
        &write(d, "乱码.xlsx", b"this is not a workbook at all\n\x01\x02"),
        &["不是有效的工作簿"],
    );
    assert_err(
        &write(d, "二进制.xls", &[0x13u8; 600]),
        &["不是有效的工作簿"],
    );

    // Truncated zip: the first half of a real workbook.
    let good = std::fs::read(fixture("merged_household.xlsx")).unwrap();
    assert_err(&write(d, "截断.xlsx", &good[..good.len() / 2]), &["损坏"]);

    // A CFB container named .xlsx holding an EncryptedPackage stream (what
    // Excel writes for a password-protected workbook).
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.resize(512, 0);
    for name in ["EncryptionInfo", "EncryptedPackage"] {
        cfb.extend(name.encode_utf16().flat_map(|u| u.to_le_bytes()));
        cfb.resize(cfb.len() + 64, 0);
    }
    assert_err(&write(d, "加密.xlsx", &cfb), &["密码", "另存"]);

    assert_err(
        &write(
            d,
            "网页.xls",
            "<html><head><meta charset=\"utf-8\"></head><body><table><tr><td>姓名</td></tr></table></body></html>"
                .as_bytes(),
        ),
        &["网页", "HTML", ".xlsx", "另存为"],
    );
    // SpreadsheetML 2003 is read; an empty one has no header, and the
    // message says what the file is.
    let p = write(
        d,
        "xml2003.xls",
        "<?xml version=\"1.0\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"><Worksheet ss:Name=\"Sheet1\"></Worksheet></Workbook>"
            .as_bytes(),
    );
    assert_eq!(detect_format(&p).unwrap(), Format::Xml);
    let m = err_text(read_unchanged(&p, None, None, 0));
    for n in ["xml2003.xls", "XML", "2003", ".xlsx", "另存为"] {
        assert!(m.contains(n), "expected {n:?} in: {m}");
    }
}

#[test]
fn header_synonyms_from_the_spec() {
    for (t, f) in [
        ("证件号码", Field::Id),
        ("公民身份号码", Field::Id),
        ("学生姓名", Field::Name),
        ("适龄儿童姓名", Field::Name),
        ("村（社区）", Field::Village),
        ("自然村", Field::Group),
        ("户属性", Field::HouseholdType),
        ("是否在校", Field::Status),
        ("在读学校", Field::School),
        ("不在校原因", Field::Reason),
        ("包联教师", Field::Surveyor),
        ("义务教育阶段未上学原因", Field::PlatformReason),
        ("应入学人数", Field::StatTotal),
        ("出国(境)", Field::StatAbroad),
        ("核查结果", Field::CheckResult),
        ("乡镇", Field::Township),
        ("序号", Field::Seq),
    ] {
        assert_eq!(field_for_header(t), Some(f), "{t}");
    }
}

#[test]
fn numbering_row_repeated_header_and_stamp_line_are_not_children() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("编号行.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (i, h) in ["姓名", "身份证号码", "村", "就读状态", "调查人"]
        .iter()
        .enumerate()
    {
        s(ws, 1, 1 + i as u16, h);
        n(ws, 2, 1 + i as u16, (i + 1) as f64);
        s(ws, 4, 1 + i as u16, h);
    }
    for (r, name, id) in [(3, "韩测", id1()), (5, "杨测", id2())] {
        s(ws, r, 1, name);
        s(ws, r, 2, &id);
        s(ws, r, 3, "麦坪村");
        s(ws, r, 4, "在校");
        s(ws, r, 5, "刘老师");
    }
    s(ws, 7, 1, "熨斗镇中心小学（盖章）");
    wb.save(&p).unwrap();
    let t = read_unchanged(&p, Some(Role::Survey), None, 0).unwrap();
    assert_eq!(t[0].header_row, 1);
    assert_eq!(
        t[0].rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![3, 5]
    );
}

#[test]
fn stats_total_label_only_in_first_column_becomes_village_total() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("统计.csv");
    std::fs::write(
        &p,
        "附件3 统计表\n序号,村（社区）,学龄人口数,在校人数（本县）,在校人数（县外）,失学辍学\n1,金星村,3,2,1,0\n合计,,3,2,1,0\n注：本表由乡镇汇总\n",
    )
    .unwrap();
    let t = read_unchanged(&p, None, None, 0).unwrap();
    let t = &t[0];
    assert_eq!(t.role, Role::Stats);
    assert_eq!(t.header_row, 2);
    assert_eq!(
        t.rows
            .iter()
            .map(|r| (r.row, r.text(Field::Village)))
            .collect::<Vec<_>>(),
        vec![(3, "金星村".to_string()), (4, "合计".to_string())]
    );
    assert_eq!(t.rows[1].values[&Field::Village].col, 2);
    assert_eq!(t.rows[1].cell(Field::StatTotal), Some(&text("3")));
}
