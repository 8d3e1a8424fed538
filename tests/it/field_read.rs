//! Files from the field, read as they come: a county platform export as the
//! roster, a school's registry list and a county 控辍保学工作台账 as surveys
//! (roles decided by content in folder mode), a one-sheet-per-village
//! workbook, tab-separated text and SpreadsheetML 2003 under an .xls name.
//! Every round is generated here from a seed; every finding is asserted at
//! its cell, clean rows have none, and every dropout is on the warning list.

use super::support::*;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::BTreeSet;
use std::path::Path;
use taizhang::model::Sex;
use testkit::readback::workbook_rows;
use testkit::synth::{Rng, fake_name, make_id};

const SCHOOL: &str = "熨斗镇中心小学";
const SCHOOL_YEAR: i32 = 2022;

fn config_toml() -> String {
    format!(
        "township = \"熨斗镇\"\nschool_year = {SCHOOL_YEAR}\n\n[[schools]]\nname = \"{SCHOOL}\"\nvillages = [\"麦坪村\", \"金星村\", \"中河村\"]\n"
    )
}

/// One generated child of the round.
#[derive(Clone, Debug)]
struct Kid {
    name: String,
    id: String,
    sex: Sex,
    birth: NaiveDate,
    village: &'static str,
}

impl Kid {
    fn sex_zh(&self) -> &'static str {
        match self.sex {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    /// The grade that fits the age (age on 31 August minus 5).
    fn grade(&self) -> String {
        let before_cutoff = (self.birth.month(), self.birth.day()) <= (8, 31);
        let age = SCHOOL_YEAR - self.birth.year() - i32::from(!before_cutoff);
        const G: [&str; 9] = [
            "一年级",
            "二年级",
            "三年级",
            "四年级",
            "五年级",
            "六年级",
            "七年级",
            "八年级",
            "九年级",
        ];
        G[(age - 6) as usize].to_string()
    }
    fn birth_text(&self) -> String {
        self.birth.format("%Y-%m-%d").to_string()
    }
}

/// `n` children, distinct names and IDs, in the given villages in turn.
fn kids(seed: u64, n: usize, villages: &[&'static str]) -> Vec<Kid> {
    let mut rng = Rng::new(seed);
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let i = out.len();
        let name = fake_name(&mut rng, Some(surnames[i % surnames.len()]));
        if !names.insert(name.clone()) || name.chars().count() < 2 {
            continue;
        }
        let birth = NaiveDate::from_ymd_opt(
            2011 + rng.below(4) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap();
        let sex = if rng.chance(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let id = make_id(&mut rng, "610922", birth, sex);
        out.push(Kid {
            name,
            id,
            sex,
            birth,
            village: villages[i % villages.len()],
        });
    }
    out
}

fn col_letter(c: u16) -> String {
    // 0-based column → A, B, …
    let mut n = u32::from(c) + 1;
    let mut s = String::new();
    while n > 0 {
        let r = ((n - 1) % 26) as u8;
        s.insert(0, (b'A' + r) as char);
        n = (n - 1) / 26;
    }
    s
}

/// Write a sheet: `title` rows, then the header, then `rows`, all as text.
fn put_sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    titles: &[&str],
    header: &[&str],
    rows: &[Vec<String>],
) {
    let text = Format::new().set_num_format("@");
    let mut r = 0u32;
    for t in titles {
        ws.write_string(r, 0, *t).unwrap();
        r += 1;
    }
    for (c, h) in header.iter().enumerate() {
        ws.write_string(r, c as u16, *h).unwrap();
    }
    r += 1;
    for row in rows {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(r, c as u16, v, &text).unwrap();
            }
        }
        r += 1;
    }
}

/// The county platform's household export (防返贫监测): 乡(镇), 行政村,
/// 村民小组, 户编号, 人编号, 证件类型, 证件号码, 与户主关系, 在校生状况. The
/// children in `out_of_school` show 非在校生, the others 小学/初中.
fn write_platform_roster(path: &Path, kids: &[Kid], out_of_school: &[usize]) {
    let header = [
        "序号",
        "乡(镇)",
        "行政村",
        "村民小组",
        "户编号",
        "人编号",
        "姓名",
        "性别",
        "证件类型",
        "证件号码",
        "与户主关系",
        "出生日期",
        "在校生状况",
    ];
    let rows: Vec<Vec<String>> = kids
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let platform = if out_of_school.contains(&i) {
                "非在校生"
            } else {
                "小学"
            };
            vec![
                (i + 1).to_string(),
                "熨斗镇".into(),
                k.village.into(),
                "三组".into(),
                format!("6109220010{:04}", i + 1),
                format!("6109220010{:04}01", i + 1),
                k.name.clone(),
                k.sex_zh().into(),
                "居民身份证".into(),
                k.id.clone(),
                "之子".into(),
                k.birth_text(),
                platform.into(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("家庭成员信息").unwrap();
    put_sheet(ws, &["熨斗镇防返贫监测对象家庭成员信息"], &header, &rows);
    wb.save(path).unwrap();
}

/// A finding as (file, sheet, row, column letter, code).
type At = (String, String, u32, String, String);

fn all_findings(json: &serde_json::Value) -> BTreeSet<At> {
    findings_array(json)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["sheet"].as_str().unwrap_or_default().to_string(),
                f["row"].as_u64().unwrap_or(0) as u32,
                f["column"].as_str().unwrap_or_default().to_string(),
                f["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn at(file: &str, sheet: &str, row: u32, col: u16, code: &str) -> At {
    (
        file.to_string(),
        sheet.to_string(),
        row,
        col_letter(col),
        code.to_string(),
    )
}

/// The warning list rows holding an 18-digit ID: (ID, the row's texts).
fn warning_list(out: &Path) -> Vec<(String, Vec<String>)> {
    workbook_rows(&out.join("筛查预警清单.xlsx"))
        .into_iter()
        .filter_map(|r| {
            let id = r.iter().find(|c| full_ids_in(c).len() == 1)?.clone();
            Some((id, r))
        })
        .collect()
}

/// The dropouts are on the warning list (with their village), nobody else.
fn assert_warning_list(out: &Path, dropouts: &[&Kid]) {
    let list = warning_list(out);
    let ids: BTreeSet<&str> = list.iter().map(|(id, _)| id.as_str()).collect();
    let want: BTreeSet<&str> = dropouts.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, want, "warning list: {list:?}");
    for k in dropouts {
        let (_, row) = list.iter().find(|(id, _)| *id == k.id).unwrap();
        assert!(
            row.iter().any(|c| c == k.village),
            "{} on the warning list without its village {}: {row:?}",
            k.name,
            k.village
        );
    }
}

/// Folder mode: the platform export is the roster, a school's registry
/// list (学籍号, 身份证件号, 年级, 班级, 随班就读, 学籍状态; no village, no
/// status, no school column) and a county 控辍保学工作台账 (村组（社区）,
/// 受教育者身份证号, 就学状态) are surveys; the terminal says which role each
/// file got and why.
#[test]
fn folder_roles_registry_list_and_county_register() {
    let wd = Workdir::new("field-folder");
    let d = wd.mkdir("round");
    std::fs::write(d.join("taizhang.toml"), config_toml()).unwrap();
    // 0..3 in 金星村 (registry list), 3..6 in 麦坪村 (county register).
    let all = kids(
        12,
        6,
        &["金星村", "金星村", "金星村", "麦坪村", "麦坪村", "麦坪村"],
    );
    let dropout = 4;
    write_platform_roster(&d.join("防返贫监测对象名单.xlsx"), &all, &[dropout]);

    // The registry list: 学籍 export of the school; pupil 1 is 随班就读.
    let reg_file = format!("{SCHOOL}学籍名单.xlsx");
    let reg_header = [
        "学籍号",
        "姓名",
        "性别",
        "身份证件号",
        "出生日期",
        "年级",
        "班级",
        "就读方式",
        "随班就读",
        "学籍状态",
    ];
    let reg_rows: Vec<Vec<String>> = all[..3]
        .iter()
        .enumerate()
        .map(|(i, k)| {
            vec![
                format!("G{}", k.id),
                k.name.clone(),
                k.sex_zh().into(),
                k.id.clone(),
                k.birth_text(),
                k.grade(),
                format!("{}班", i + 1),
                "走读".into(),
                if i == 1 {
                    "视力残疾人随班就读".into()
                } else {
                    "非随班就读".into()
                },
                "在读".into(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    put_sheet(
        wb.add_worksheet(),
        &["学生学籍信息"],
        &reg_header,
        &reg_rows,
    );
    wb.save(d.join(&reg_file)).unwrap();

    // The county register: title 台账, 村组（社区） values `麦坪村三组`.
    let cr_file = "熨斗镇控辍保学工作台账.xlsx";
    let cr_header = [
        "序号",
        "村组（社区）",
        "受教育者姓名",
        "受教育者身份证号",
        "性别",
        "出生日期",
        "就学状态",
        "就读学校",
        "年级",
        "辍学原因",
    ];
    let cr_rows: Vec<Vec<String>> = all[3..]
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let out = 3 + i == dropout;
            vec![
                (i + 1).to_string(),
                format!("{}三组", k.village),
                k.name.clone(),
                k.id.clone(),
                k.sex_zh().into(),
                k.birth_text(),
                if out { "辍学在家" } else { "在校" }.into(),
                if out { "" } else { SCHOOL }.into(),
                if out { String::new() } else { k.grade() },
                if out { "厌学" } else { "" }.into(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    put_sheet(
        wb.add_worksheet(),
        &["熨斗镇2022年控辍保学工作台账"],
        &cr_header,
        &cr_rows,
    );
    wb.save(d.join(cr_file)).unwrap();

    let r = wd.run(&["reconcile", "round", "--out", "out"]);
    // A dropout is a notice: the round can be reported.
    assert_eq!(r.status, 0, "{}", r.all());
    // Roles, each with its reason, on the terminal.
    for (file, role, why) in [
        ("防返贫监测对象名单.xlsx", "县局名单", "户编号"),
        (reg_file.as_str(), "摸底调查表", "学籍号"),
        (cr_file, "摸底调查表", "台账"),
    ] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(&format!("「{file}」")) && l.contains("认作"))
            .unwrap_or_else(|| panic!("no role line for {file}:\n{}", r.stdout));
        assert!(line.contains(role) && line.contains(why), "{file}: {line}");
    }

    let json = wd.findings("out");
    // Every child linked: the registry list and the register cover all six.
    assert_eq!(links_array(&json).len(), 6, "{json}");
    // The only finding: the dropout, at the register's 就学状态 cell.
    let want: BTreeSet<At> = [at(
        cr_file,
        "Sheet1",
        3 + (dropout - 3) as u32,
        6,
        "DROPOUT",
    )]
    .into_iter()
    .collect();
    assert_eq!(all_findings(&json), want, "{json}");
    // Roles in findings.json too.
    let roles: BTreeSet<(String, String)> = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["file"].as_str().unwrap().to_string(),
                i["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        roles.contains(&(reg_file.clone(), "survey".into())),
        "{roles:?}"
    );
    assert!(
        roles.contains(&(cr_file.to_string(), "survey".into())),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("防返贫监测对象名单.xlsx".to_string(), "roster".into())),
        "{roles:?}"
    );
    assert_warning_list(&wd.join("out"), &[&all[dropout]]);
    // The registry list has no village: its pupils count in their roster
    // village on the terminal.
    let line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("金星村"))
        .unwrap_or_else(|| panic!("no 金星村 line:\n{}", r.stdout));
    let nums: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&nums[1..4], &["3", "3", "3"], "{line}");
    assert!(!r.stdout.contains("（未填村）"), "{}", r.stdout);

    // The ledger (附件2) shows the registry pupils in school at the file's
    // school, pupil 1 as 随班就读.
    let ledger = workbook_rows(&wd.join("out").join("附件2_学龄人口台账.xlsx"));
    for (i, k) in all[..3].iter().enumerate() {
        let row = ledger
            .iter()
            .find(|r| r.contains(&k.id))
            .unwrap_or_else(|| panic!("{} not in the ledger", k.name));
        let status = if i == 1 {
            "随班就读"
        } else {
            "在校(本县)"
        };
        assert!(
            row.iter()
                .any(|c| c.replace('（', "(").replace('）', ")") == status),
            "{}: {row:?}",
            k.name
        );
        assert!(row.iter().any(|c| c == SCHOOL), "{}: {row:?}", k.name);
    }
}

/// A survey workbook with one sheet per village and no village column: the
/// village of each row is its sheet's (sheet name, else title), or a
/// configured village named in the 家庭住址 column.
#[test]
fn one_sheet_per_village_workbook() {
    let wd = Workdir::new("field-sheets");
    wd.write("taizhang.toml", config_toml());
    let all = kids(
        34,
        6,
        &["麦坪村", "麦坪村", "金星村", "金星村", "中河村", "中河村"],
    );
    write_platform_roster(&wd.join("县局名单.xlsx"), &all, &[1, 5]);
    let header = [
        "序号",
        "姓名",
        "性别",
        "身份证号码",
        "出生日期",
        "就读状态",
        "就读学校",
        "年级",
        "未在校原因",
    ];
    let row = |i: usize, k: &Kid, out: bool| -> Vec<String> {
        vec![
            (i + 1).to_string(),
            k.name.clone(),
            k.sex_zh().into(),
            k.id.clone(),
            k.birth_text(),
            if out { "辍学" } else { "在校" }.into(),
            if out { "" } else { SCHOOL }.into(),
            if out { String::new() } else { k.grade() },
            if out { "外出打工" } else { "" }.into(),
        ]
    };
    let file = "摸底调查表_分村.xlsx";
    let mut wb = Workbook::new();
    // Sheet named after its village.
    let ws = wb.add_worksheet();
    ws.set_name("麦坪村").unwrap();
    put_sheet(
        ws,
        &["熨斗镇适龄儿童摸底调查表"],
        &header,
        &[row(0, &all[0], false), row(1, &all[1], true)],
    );
    // Sheet named 2, its title names the village.
    let ws = wb.add_worksheet();
    ws.set_name("第二片").unwrap();
    put_sheet(
        ws,
        &["熨斗镇金星村适龄儿童摸底调查表"],
        &header,
        &[row(0, &all[2], false), row(1, &all[3], false)],
    );
    // No village in name or title: the address says it.
    let ws = wb.add_worksheet();
    ws.set_name("外出户").unwrap();
    let mut h = header.to_vec();
    h.push("家庭住址");
    let mut r4 = row(0, &all[4], false);
    r4.push("熨斗镇中河村二组".into());
    let mut r5 = row(1, &all[5], true);
    r5.push("陕西省安康市汉滨区熨斗镇中河村五组".into());
    put_sheet(ws, &["熨斗镇适龄儿童摸底调查表（外出户）"], &h, &[r4, r5]);
    wb.save(wd.join(file)).unwrap();

    let r = wd.run(&[
        "reconcile",
        "--config",
        "taizhang.toml",
        "--roster",
        "县局名单.xlsx",
        "--survey",
        file,
        "--out",
        "out",
    ]);
    assert_eq!(r.status, 0, "{}", r.all());
    let json = wd.findings("out");
    assert_eq!(links_array(&json).len(), 6, "{json}");
    // Dropouts at their status cells (title row 1, header row 2); no
    // VILLAGE_* finding and no village left uncovered.
    let want: BTreeSet<At> = [
        at(file, "麦坪村", 4, 5, "DROPOUT"),
        at(file, "外出户", 4, 5, "DROPOUT"),
    ]
    .into_iter()
    .collect();
    assert_eq!(all_findings(&json), want, "{json}");
    assert_warning_list(&wd.join("out"), &[&all[1], &all[5]]);
    // The terminal's village lines count every surveyed child in its village.
    for v in ["麦坪村", "金星村", "中河村"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(v))
            .unwrap_or_else(|| panic!("no line for {v}:\n{}", r.stdout));
        let nums: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&nums[1..4], &["2", "2", "2"], "{line}");
    }
}

/// Tab-separated text saved as .xls (GBK, `'`-prefixed numbers, NULL for
/// empty) is read as a table, and its annotated copy is rebuilt as xlsx.
#[test]
fn tab_separated_text_named_xls() {
    let wd = Workdir::new("field-tsv");
    wd.write("taizhang.toml", config_toml());
    let all = kids(56, 4, &["麦坪村", "金星村"]);
    write_platform_roster(&wd.join("县局名单.xlsx"), &all, &[2]);
    let mut text = String::from(
        "村（社区）\t姓名\t性别\t身份证号码\t出生日期\t就读状态\t就读学校\t年级\t未在校原因\t备注\r\n",
    );
    for (i, k) in all.iter().enumerate() {
        let out = i == 2;
        text.push_str(&format!(
            "{}\t{}\t{}\t'{}\t'{}\t{}\t{}\t{}\t{}\tNULL\r\n",
            k.village,
            k.name,
            k.sex_zh(),
            k.id,
            k.birth.format("%Y%m%d"),
            if out { "辍学" } else { "在校" },
            if out { "NULL" } else { SCHOOL },
            if out { "NULL".to_string() } else { k.grade() },
            if out { "在家务农" } else { "NULL" },
        ));
    }
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let file = "摸底表导出.xls";
    wd.write(file, &gbk);
    let r = wd.run(&[
        "reconcile",
        "--config",
        "taizhang.toml",
        "--roster",
        "县局名单.xlsx",
        "--survey",
        file,
        "--out",
        "out",
    ]);
    assert_eq!(r.status, 0, "{}", r.all());
    let json = wd.findings("out");
    assert_eq!(links_array(&json).len(), 4, "{json}");
    let want: BTreeSet<At> = [at(file, "摸底表导出", 4, 5, "DROPOUT")]
        .into_iter()
        .collect();
    assert_eq!(all_findings(&json), want, "{json}");
    assert_warning_list(&wd.join("out"), &[&all[2]]);
    // The annotated copy is an xlsx holding the values, IDs as text.
    let copy = workbook_rows(&wd.join("out").join("摸底表导出.核对.xlsx"));
    for k in &all {
        assert!(
            copy.iter().any(|r| r.contains(&k.id)),
            "{} missing from the copy",
            k.id
        );
    }
    assert!(!copy.iter().flatten().any(|c| c == "NULL"), "{copy:?}");
}

/// SpreadsheetML 2003 ("XML 表格") saved as .xls: cells, types (numbers,
/// dates), `ss:Index` skips and merged cells (a village merged down over a
/// household) are read; the annotated copy is rebuilt as xlsx.
#[test]
fn spreadsheetml_2003_named_xls() {
    let wd = Workdir::new("field-xml");
    wd.write("taizhang.toml", config_toml());
    let all = kids(78, 4, &["麦坪村", "麦坪村", "金星村", "金星村"]);
    write_platform_roster(&wd.join("县局名单.xlsx"), &all, &[3]);
    let s = |v: &str| format!("<Cell><Data ss:Type=\"String\">{v}</Data></Cell>");
    // Columns: A 序号, B 村（社区）, C 姓名, D 性别, E 身份证号码, F 出生日期,
    // G 就读状态, H 就读学校, I 年级, J 未在校原因 (K left empty).
    let mut rows = String::new();
    rows.push_str(&format!(
        "<Row><Cell ss:MergeAcross=\"9\"><Data ss:Type=\"String\">熨斗镇适龄儿童摸底调查表</Data></Cell></Row>\n<Row>{}</Row>\n",
        ["序号", "村（社区）", "姓名", "性别", "身份证号码", "出生日期", "就读状态", "就读学校", "年级", "未在校原因"]
            .iter()
            .map(|h| s(h))
            .collect::<String>()
    ));
    for (i, k) in all.iter().enumerate() {
        let out = i == 3;
        // The village is written on the first child of each pair, merged down.
        let village = if i % 2 == 0 {
            format!(
                "<Cell ss:MergeDown=\"1\"><Data ss:Type=\"String\">{}</Data></Cell>",
                k.village
            )
        } else {
            String::new()
        };
        // Second of a pair: skip column B with ss:Index.
        let name_cell = if i % 2 == 0 {
            s(&k.name)
        } else {
            format!(
                "<Cell ss:Index=\"3\"><Data ss:Type=\"String\">{}</Data></Cell>",
                k.name
            )
        };
        let tail = if out {
            format!(
                "{}<Cell ss:Index=\"10\"><Data ss:Type=\"String\">小学毕业在家</Data></Cell>",
                s("辍学")
            )
        } else {
            format!("{}{}{}", s("在校"), s(SCHOOL), s(&k.grade()))
        };
        rows.push_str(&format!(
            "<Row><Cell><Data ss:Type=\"Number\">{}</Data></Cell>{village}{name_cell}{}{}<Cell><Data ss:Type=\"DateTime\">{}T00:00:00.000</Data></Cell>{tail}</Row>\n",
            i + 1,
            s(k.sex_zh()),
            s(&k.id),
            k.birth_text(),
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\">\n<Worksheet ss:Name=\"摸底\"><Table>\n{rows}</Table></Worksheet>\n</Workbook>\n"
    );
    let file = "摸底调查表.xls";
    wd.write(file, xml);
    let r = wd.run(&[
        "reconcile",
        "--config",
        "taizhang.toml",
        "--roster",
        "县局名单.xlsx",
        "--survey",
        file,
        "--out",
        "out",
    ]);
    assert_eq!(r.status, 0, "{}", r.all());
    let json = wd.findings("out");
    assert_eq!(links_array(&json).len(), 4, "{json}");
    // Data from row 3; the dropout (index 3) is on row 6, 就读状态 in G.
    let want: BTreeSet<At> = [at(file, "摸底", 6, 6, "DROPOUT")].into_iter().collect();
    assert_eq!(all_findings(&json), want, "{json}");
    assert_warning_list(&wd.join("out"), &[&all[3]]);
    let copy = workbook_rows(&wd.join("out").join("摸底调查表.核对.xlsx"));
    assert!(copy.iter().any(|r| r.contains(&all[0].id)), "{copy:?}");
}

/// A household list titled 台账 without any platform column would read as a
/// ledger; with no other roster in the folder it is the roster (the better
/// reading), and the run goes on, saying so.
#[test]
fn folder_never_stops_for_a_role_content_decides() {
    let wd = Workdir::new("field-settle");
    let d = wd.mkdir("round");
    std::fs::write(d.join("taizhang.toml"), config_toml()).unwrap();
    let all = kids(90, 3, &["金星村"]);
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|k| {
            vec![
                "熨斗镇".into(),
                k.village.into(),
                k.name.clone(),
                k.sex_zh().into(),
                k.id.clone(),
                k.birth_text(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    put_sheet(
        wb.add_worksheet(),
        &["熨斗镇脱贫户家庭成员台账"],
        &["乡镇", "村", "姓名", "性别", "证件号码", "出生日期"],
        &rows,
    );
    wb.save(d.join("脱贫户台账.xlsx")).unwrap();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|k| {
            vec![
                k.village.into(),
                k.name.clone(),
                k.sex_zh().into(),
                k.id.clone(),
                k.birth_text(),
                "在校".into(),
                SCHOOL.into(),
                k.grade(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    put_sheet(
        wb.add_worksheet(),
        &["适龄儿童摸底调查表"],
        &[
            "村（社区）",
            "姓名",
            "性别",
            "身份证号码",
            "出生日期",
            "就读状态",
            "就读学校",
            "年级",
        ],
        &rows,
    );
    wb.save(d.join(format!("附件1_{SCHOOL}.xlsx"))).unwrap();
    let r = wd.run(&["reconcile", "round", "--out", "out"]);
    assert_eq!(r.status, 0, "{}", r.all());
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("「脱贫户台账.xlsx」") && l.contains("认作"))
        .unwrap_or_else(|| panic!("no role line:\n{}", r.stdout));
    assert!(
        line.contains("县局名单") && line.contains("没有其他县局名单"),
        "{line}"
    );
    let json = wd.findings("out");
    assert_eq!(links_array(&json).len(), 3, "{json}");
    assert!(findings_array(&json).is_empty(), "{json}");
}

/// A poverty-aid student ledger (学校全称, 学段, 县内/县外, 不在校原因; no
/// status column) plays the survey: 县内 is 在校(本县), 县外 在校(县外) (which
/// needs 佐证材料), a 不在校原因 gives the status; no grade is asked for.
#[test]
fn poverty_aid_ledger_as_survey() {
    let wd = Workdir::new("field-aid");
    wd.write("taizhang.toml", config_toml());
    let all = kids(21, 3, &["金星村"]);
    write_platform_roster(&wd.join("县局名单.xlsx"), &all, &[2]);
    let rows: Vec<Vec<String>> = all
        .iter()
        .enumerate()
        .map(|(i, k)| {
            vec![
                (i + 1).to_string(),
                "熨斗镇".into(),
                k.village.into(),
                k.name.clone(),
                k.id.clone(),
                k.sex_zh().into(),
                ["熨斗镇中心小学", "西安市雁塔区第二小学", ""][i].into(),
                ["小学", "小学", ""][i].into(),
                ["县内", "县外", ""][i].into(),
                ["", "", "辍学在家"][i].into(),
            ]
        })
        .collect();
    let file = "脱贫家庭学生资助台账.xlsx";
    let mut wb = Workbook::new();
    put_sheet(
        wb.add_worksheet(),
        &["2022年秋季学期脱贫家庭学生资助台账"],
        &[
            "序号",
            "乡镇",
            "村",
            "学生姓名",
            "身份证号码",
            "性别",
            "学校全称",
            "学段",
            "县内/县外",
            "不在校原因",
        ],
        &rows,
    );
    wb.save(wd.join(file)).unwrap();
    let d = wd.mkdir("round");
    std::fs::copy(wd.join(file), d.join(file)).unwrap();
    std::fs::copy(wd.join("县局名单.xlsx"), d.join("县局名单.xlsx")).unwrap();
    std::fs::copy(wd.join("taizhang.toml"), d.join("taizhang.toml")).unwrap();
    let r = wd.run(&["reconcile", "round", "--out", "out"]);
    // EVIDENCE_MISSING is an error.
    assert_eq!(r.status, 1, "{}", r.all());
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains(&format!("「{file}」")) && l.contains("认作"))
        .unwrap_or_else(|| panic!("no role line:\n{}", r.stdout));
    assert!(
        line.contains("摸底调查表") && line.contains("资助"),
        "{line}"
    );
    let json = wd.findings("out");
    assert_eq!(links_array(&json).len(), 3, "{json}");
    // 县外 needs proof (no 佐证材料 column: at the name); the dropout at its
    // 不在校原因 cell. Data rows start at 3.
    let want: BTreeSet<At> = [
        at(file, "Sheet1", 4, 3, "EVIDENCE_MISSING"),
        at(file, "Sheet1", 5, 9, "DROPOUT"),
    ]
    .into_iter()
    .collect();
    assert_eq!(all_findings(&json), want, "{json}");
    assert_warning_list(&wd.join("out"), &[&all[2]]);
    let ledger = workbook_rows(&wd.join("out").join("附件2_学龄人口台账.xlsx"));
    let status_of = |k: &Kid| {
        ledger
            .iter()
            .find(|r| r.contains(&k.id))
            .map(|r| r.join(" ").replace('（', "(").replace('）', ")"))
            .unwrap_or_default()
    };
    assert!(
        status_of(&all[0]).contains("在校(本县)"),
        "{}",
        status_of(&all[0])
    );
    assert!(
        status_of(&all[1]).contains("在校(县外)"),
        "{}",
        status_of(&all[1])
    );
}
