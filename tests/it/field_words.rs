//! Files from the field, the words and values side: a whole-household
//! export of the county platform (its own column names, 性别 1/2, 出生日期
//! as 20100512 or "20100512.0", a disability card number in 证件号码, the
//! platform's 在校生状况 vocabulary) reconciled with a survey written in the
//! clerks' own status words.

use super::support::*;
use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use taizhang::model::Sex;
use taizhang::templates::Annex;
use testkit::synth::{Rng, fake_name, make_id};

const REGION: &str = "610922";
const TOWNSHIP: &str = "熨斗镇";
const SCHOOL: &str = "熨斗镇中心小学";
const VILLAGES: [&str; 3] = ["金星村", "双坪村", "麦坪村"];
/// A configured village where only adults live.
const ADULTS_ONLY_VILLAGE: &str = "先联村";

/// A child of the round: what the platform says and what the survey says.
struct Kid {
    name: String,
    id: String,
    sex: Sex,
    village: &'static str,
    /// 证件号码 on the roster (the ID, or a disability card number).
    roster_id: String,
    /// 出生日期 on the roster.
    roster_birth: Cell,
    platform_status: &'static str,
    platform_dropout: &'static str,
    /// 出生日期 on the survey.
    survey_birth: Cell,
    status: &'static str,
    reason: &'static str,
    school: &'static str,
    grade: &'static str,
    evidence: &'static str,
    /// Expected on the survey row, besides nothing else.
    expect: &'static [&'static str],
}

#[derive(Clone)]
enum Cell {
    Text(String),
    Num(f64),
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// One case per line: birth, platform status and flag, survey status and
/// reason, school, grade, evidence, the codes due on the survey row.
#[allow(clippy::type_complexity)]
const CASES: &[(
    (i32, u32, u32),
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
    &[&str],
)] = &[
    // Dropout words of the table; the platform's view decides ROSTER_STATUS_DIFFERS.
    (
        (2010, 5, 12),
        "小学",
        "否",
        "外出打工",
        "",
        "",
        "",
        "",
        &["DROPOUT", "ROSTER_STATUS_DIFFERS"],
    ),
    (
        (2009, 3, 2),
        "-",
        "是",
        "在家务农",
        "",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    (
        (2009, 11, 20),
        "非在校生",
        "是",
        "小学毕业后未升学",
        "",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    (
        (2010, 1, 8),
        "",
        "",
        "疑似辍学",
        "",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    (
        (2008, 7, 19),
        "初中",
        "是",
        "在家放牛",
        "",
        "",
        "",
        "",
        &["DROPOUT", "ROSTER_STATUS_DIFFERS"],
    ),
    // Phrasings the table does not list.
    (
        (2008, 2, 14),
        "-",
        "",
        "打零工去了",
        "",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    (
        (2009, 6, 30),
        "",
        "",
        "否",
        "在家带弟弟妹妹",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    // In school, here.
    (
        (2012, 4, 3),
        "小学",
        "否",
        "劝返复学",
        "",
        SCHOOL,
        "五年级",
        "",
        &[],
    ),
    (
        (2009, 12, 1),
        "七年级",
        "否",
        "已劝返",
        "",
        "熨斗初级中学",
        "七年级",
        "",
        &[],
    ),
    (
        (2010, 9, 9),
        "初中",
        "否",
        "特殊教育学校就读",
        "",
        "县特殊教育学校",
        "六年级",
        "",
        &[],
    ),
    (
        (2008, 10, 5),
        "九年级",
        "是",
        "辍学后已复学",
        "",
        "熨斗初级中学",
        "九年级",
        "",
        &["ROSTER_STATUS_DIFFERS"],
    ),
    // In school, outside the county.
    (
        (2016, 3, 6),
        "学龄前儿童",
        "",
        "随父母在外地上学",
        "",
        "外地小学",
        "一年级",
        "在校证明",
        &["ROSTER_STATUS_DIFFERS"],
    ),
    (
        (2009, 4, 22),
        "八年级",
        "否",
        "在江苏苏州跟父母读书",
        "",
        "苏州市某中学",
        "八年级",
        "在校证明",
        &[],
    ),
    (
        (2011, 5, 16),
        "非在校生",
        "",
        "到省城上学",
        "",
        "省城实验小学",
        "六年级",
        "在校证明",
        &["ROSTER_STATUS_DIFFERS"],
    ),
    // Past compulsory school.
    (
        (2007, 3, 11),
        "中职一年级",
        "否",
        "读中职",
        "",
        "",
        "",
        "毕业证",
        &[],
    ),
    // What cannot be placed stays unknown.
    (
        (2012, 8, 1),
        "小学",
        "否",
        "免学",
        "",
        "",
        "",
        "",
        &["STATUS_UNKNOWN"],
    ),
    (
        (2011, 2, 27),
        "小学",
        "",
        "情况待定",
        "",
        "",
        "",
        "",
        &["STATUS_UNKNOWN"],
    ),
    // The county's own word from taizhang.toml.
    (
        (2008, 8, 8),
        "-",
        "",
        "进厂了",
        "",
        "",
        "",
        "",
        &["DROPOUT"],
    ),
    // Born 2011-10: the survey typed 2011.10 into a number cell (2011.1).
    (
        (2011, 10, 3),
        "小学",
        "否",
        "在读",
        "",
        SCHOOL,
        "五年级",
        "",
        &[],
    ),
];

/// Index of the child whose roster 证件号码 is a disability card number.
const DISABLED: usize = 9;
/// Index of the child whose survey birth date is the number 2011.1.
const JAN_OR_OCT: usize = 18;

fn kids(rng: &mut Rng) -> Vec<Kid> {
    let mut names = HashSet::new();
    CASES
        .iter()
        .enumerate()
        .map(
            |(i, &((y, m, d), ps, pd, st, reason, school, grade, ev, expect))| {
                let birth = date(y, m, d);
                let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
                let id = make_id(rng, REGION, birth, sex);
                let name = loop {
                    let n = fake_name(rng, None);
                    if !n.contains('·') && names.insert(n.clone()) {
                        break n;
                    }
                };
                let ymd = birth.format("%Y%m%d").to_string();
                Kid {
                    name,
                    roster_id: if i == DISABLED {
                        format!("{id}12")
                    } else {
                        id.clone()
                    },
                    id,
                    sex,
                    village: VILLAGES[i % VILLAGES.len()],
                    roster_birth: if i % 2 == 0 {
                        Cell::Num(ymd.parse().unwrap())
                    } else {
                        Cell::Text(format!("{ymd}.0"))
                    },
                    platform_status: ps,
                    platform_dropout: pd,
                    survey_birth: if i == JAN_OR_OCT {
                        Cell::Num(2011.1)
                    } else {
                        Cell::Text(birth.format("%Y-%m-%d").to_string())
                    },
                    status: st,
                    reason,
                    school,
                    grade,
                    evidence: ev,
                    expect,
                }
            },
        )
        .collect()
}

/// A household member who is not a child of the round.
struct Other {
    name: String,
    id: String,
    birth: NaiveDate,
    sex: Sex,
    relation: &'static str,
    platform_status: &'static str,
}

const ROSTER_HEADER: [&str; 16] = [
    "县",
    "乡(镇)",
    "行政村",
    "村组（社区）",
    "户编号",
    "人编号",
    "姓名",
    "性别",
    "证件类型",
    "证件号码",
    "与户主关系",
    "户主姓名",
    "户主证件号码",
    "出生日期",
    "在校生状况",
    "是否义务教育阶段适龄儿童少年失学辍学",
];

fn write_cell(ws: &mut rust_xlsxwriter::Worksheet, row: u32, col: u16, c: &Cell) {
    match c {
        Cell::Text(s) => ws.write_string(row, col, s).map(|_| ()),
        Cell::Num(n) => ws.write_number(row, col, *n).map(|_| ()),
    }
    .unwrap();
}

/// The platform's household export: each child with its father and
/// mother, plus pre-school children, 16–17-year-olds and a grandparent
/// with a 15-digit ID. Returns the number of rows outside the age window.
fn write_roster(path: &std::path::Path, kids: &[Kid], rng: &mut Rng) -> (usize, Vec<String>) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ROSTER_HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let mut row = 1u32;
    let mut others_total = 0;
    let mut used: HashSet<String> = kids.iter().map(|k| k.name.clone()).collect();
    let mut fresh = |rng: &mut Rng, surname: Option<&str>| loop {
        let n = fake_name(rng, surname);
        if used.insert(n.clone()) {
            break n;
        }
    };
    let mut other_names = Vec::new();
    for (h, kid) in kids.iter().enumerate() {
        let surname: String = kid.name.chars().take(1).collect();
        let father_birth = date(1980 + (h as i32 % 8), 1 + (h as u32 % 12), 10);
        let mother_birth = date(1982 + (h as i32 % 7), 1 + (h as u32 % 11), 20);
        let father = Other {
            name: fresh(rng, Some(&surname)),
            id: make_id(rng, REGION, father_birth, Sex::Male),
            birth: father_birth,
            sex: Sex::Male,
            relation: "本人或户主",
            platform_status: "非在校生",
        };
        let mother = Other {
            name: fresh(rng, None),
            id: make_id(rng, REGION, mother_birth, Sex::Female),
            birth: mother_birth,
            sex: Sex::Female,
            relation: "配偶",
            platform_status: "非在校生",
        };
        let mut members: Vec<Other> = vec![father, mother];
        if h % 6 == 0 {
            let b = date(2018, 2, 1 + h as u32);
            members.push(Other {
                name: fresh(rng, Some(&surname)),
                id: make_id(rng, REGION, b, Sex::Female),
                birth: b,
                sex: Sex::Female,
                relation: "之女",
                platform_status: "学龄前儿童",
            });
        }
        if h % 6 == 3 {
            let b = date(2005, 6, 1 + h as u32);
            members.push(Other {
                name: fresh(rng, Some(&surname)),
                id: make_id(rng, REGION, b, Sex::Male),
                birth: b,
                sex: Sex::Male,
                relation: "之子",
                platform_status: "普通高中二年级",
            });
        }
        let head_name = members[0].name.clone();
        let head_id = members[0].id.clone();
        let household = format!("{REGION}{:06}", 100 + h);
        let mut person = 0;
        let mut write = |ws: &mut rust_xlsxwriter::Worksheet,
                         name: &str,
                         sex: Sex,
                         id: &str,
                         relation: &str,
                         birth: &Cell,
                         ps: &str,
                         pd: &str| {
            person += 1;
            let texts = [
                "熨斗县".to_string(),
                TOWNSHIP.to_string(),
                kid.village.to_string(),
                format!("{}三组", kid.village),
                household.clone(),
                format!("{household}{person:02}"),
                name.to_string(),
            ];
            for (c, t) in texts.iter().enumerate() {
                ws.write_string(row, c as u16, t).unwrap();
            }
            ws.write_number(row, 7, if sex == Sex::Male { 1.0 } else { 2.0 })
                .unwrap();
            ws.write_string(
                row,
                8,
                if id.len() > 18 {
                    "残疾证"
                } else {
                    "居民身份证（户口簿）"
                },
            )
            .unwrap();
            ws.write_string(row, 9, id).unwrap();
            ws.write_string(row, 10, relation).unwrap();
            ws.write_string(row, 11, &head_name).unwrap();
            ws.write_string(row, 12, &head_id).unwrap();
            write_cell(ws, row, 13, birth);
            ws.write_string(row, 14, ps).unwrap();
            ws.write_string(row, 15, pd).unwrap();
            row += 1;
        };
        for m in &members[..2] {
            let b = Cell::Num(m.birth.format("%Y%m%d").to_string().parse().unwrap());
            write(
                ws,
                &m.name,
                m.sex,
                &m.id,
                m.relation,
                &b,
                m.platform_status,
                "",
            );
        }
        write(
            ws,
            &kid.name,
            kid.sex,
            &kid.roster_id,
            if kid.sex == Sex::Male {
                "之子"
            } else {
                "之女"
            },
            &kid.roster_birth,
            kid.platform_status,
            kid.platform_dropout,
        );
        for m in &members[2..] {
            let b = Cell::Text(format!("{}.0", m.birth.format("%Y%m%d")));
            write(
                ws,
                &m.name,
                m.sex,
                &m.id,
                m.relation,
                &b,
                m.platform_status,
                "-",
            );
        }
        if h == 1 {
            // A grandparent with a 15-digit legacy ID.
            let id15 = format!("{REGION}48031213{}", h % 10);
            write(
                ws,
                "某某某",
                Sex::Male,
                &id15,
                "之父",
                &Cell::Text("1948-03-12".into()),
                "非在校生",
                "",
            );
            others_total += 1;
        }
        others_total += members.len();
        other_names.extend(members.into_iter().map(|m| m.name));
    }
    // A household of adults only, in a village with no child of the round:
    // its coverage depends on nobody.
    for (k, sex) in [Sex::Male, Sex::Female].into_iter().enumerate() {
        let b = date(1979 + k as i32, 4, 2);
        let name = fresh(rng, None);
        let id = make_id(rng, REGION, b, sex);
        let texts = [
            "熨斗县".to_string(),
            TOWNSHIP.to_string(),
            ADULTS_ONLY_VILLAGE.to_string(),
            format!("{ADULTS_ONLY_VILLAGE}一组"),
            format!("{REGION}999999"),
            format!("{REGION}999999{:02}", k + 1),
            name.clone(),
        ];
        for (c, t) in texts.iter().enumerate() {
            ws.write_string(row, c as u16, t).unwrap();
        }
        ws.write_number(row, 7, if sex == Sex::Male { 1.0 } else { 2.0 })
            .unwrap();
        ws.write_string(row, 9, &id).unwrap();
        ws.write_string(row, 10, if k == 0 { "本人或户主" } else { "配偶" })
            .unwrap();
        write_cell(ws, row, 13, &Cell::Text(b.format("%Y%m%d").to_string()));
        ws.write_string(row, 14, "非在校生").unwrap();
        row += 1;
        others_total += 1;
        other_names.push(name);
    }
    wb.save(path).unwrap();
    (others_total, other_names)
}

/// The 附件1 survey columns, A..R.
use crate::check::SURVEY_COLS as SURVEY_HEADER;
const SURVEY_FIRST_ROW: u32 = 4;

fn write_survey(path: &std::path::Path, kids: &[Kid]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "附件1 义务教育阶段适龄儿童少年摸底调查表")
        .unwrap();
    ws.write_string(1, 0, format!("填报单位：{SCHOOL}"))
        .unwrap();
    for (c, h) in SURVEY_HEADER.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (i, k) in kids.iter().enumerate() {
        let r = SURVEY_FIRST_ROW - 1 + i as u32;
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        let texts = [
            (1, k.village.to_string()),
            (2, "三组".to_string()),
            (5, k.name.clone()),
            (6, if k.sex == Sex::Male { "男" } else { "女" }.to_string()),
            (7, k.id.clone()),
            (9, k.status.to_string()),
            (10, k.school.to_string()),
            (11, k.grade.to_string()),
            (12, k.reason.to_string()),
            (13, k.evidence.to_string()),
            (16, "调查员甲".to_string()),
        ];
        for (c, t) in texts {
            if !t.is_empty() {
                ws.write_string(r, c, &t).unwrap();
            }
        }
        write_cell(ws, r, 8, &k.survey_birth);
    }
    wb.save(path).unwrap();
}

fn config(extra: &str) -> String {
    format!(
        "township = \"{TOWNSHIP}\"\nschool_year = 2022\n[[schools]]\nname = \"{SCHOOL}\"\nvillages = [{}]\n{extra}",
        VILLAGES
            .iter()
            .chain([&ADULTS_ONLY_VILLAGE])
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

const STATUS_WORDS: &str = "[status_words]\n\"进厂了\" = \"辍学\"\n";

/// The names in column `col` (0-based) of a generated annex's data rows.
fn annex_names(path: &std::path::Path, col: usize) -> Vec<String> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    range
        .rows()
        .filter_map(|r| match r.get(col) {
            Some(Data::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn platform_household_export_with_clerks_words() {
    let wd = Workdir::new("field-words");
    let mut rng = Rng::new(20_221_106);
    let kids = kids(&mut rng);
    let dir = wd.mkdir("round");
    let (skipped, other_names) = write_roster(&dir.join("县局名单.xlsx"), &kids, &mut rng);
    write_survey(&dir.join(format!("附件1_{SCHOOL}.xlsx")), &kids);
    wd.write("round/taizhang.toml", config(STATUS_WORDS));
    let out = wd.run(&[
        "reconcile",
        "--config",
        "round/taizhang.toml",
        "--roster",
        "round/县局名单.xlsx",
        "--survey",
        &format!("round/附件1_{SCHOOL}.xlsx"),
        "--out",
        "out",
    ]);
    assert_eq!(out.status, 1, "{}", out.all());
    let json = wd.findings("out");

    // The other members of the households are skipped and counted.
    let roster_info = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "县局名单.xlsx")
        .expect("roster input");
    assert_eq!(
        roster_info["skipped_out_of_window"].as_u64(),
        Some(skipped as u64),
        "{roster_info}"
    );
    assert_eq!(
        roster_info["rows"].as_u64(),
        Some((skipped + kids.len()) as u64)
    );
    assert!(
        out.stdout.contains(&format!(
            "已跳过 {skipped} 行：出生日期不在本轮适龄范围内（家庭其他成员"
        )),
        "{}",
        out.stdout
    );
    // Nothing at all on the roster: every child is surveyed, no adult is
    // NOT_SURVEYED or OUT_OF_AGE_RANGE, the legacy ID of an adult is no finding.
    let on_roster: Vec<&serde_json::Value> = findings_array(&json)
        .iter()
        .filter(|f| f["file"] == "县局名单.xlsx")
        .collect();
    assert!(on_roster.is_empty(), "{on_roster:#?}");
    for code in [
        "NOT_SURVEYED",
        "OUT_OF_AGE_RANGE",
        "VILLAGE_NOT_COVERED",
        "ID_FORMAT",
        "ID_DIFFERS",
        "BIRTHDATE_DIFFERS",
        "BIRTHDATE_MISMATCH",
        "SEX_DIFFERS",
        "NOT_IN_ROSTER",
    ] {
        assert!(cells_with_code(&json, code).is_empty(), "{code}");
    }

    // On the survey: exactly the codes due, row by row.
    let mut got: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for f in findings_array(&json) {
        got.entry(f["row"].as_u64().unwrap() as u32)
            .or_default()
            .insert(f["code"].as_str().unwrap().to_string());
    }
    let mut want: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for (i, k) in kids.iter().enumerate() {
        if !k.expect.is_empty() {
            want.insert(
                SURVEY_FIRST_ROW + i as u32,
                k.expect.iter().map(|c| c.to_string()).collect(),
            );
        }
    }
    assert_eq!(got, want, "{}", out.stdout);
    // ROSTER_STATUS_DIFFERS sits in the survey's status column.
    for f in findings_array(&json)
        .iter()
        .filter(|f| f["code"] == "ROSTER_STATUS_DIFFERS")
    {
        assert_eq!(f["column"], "J");
        assert_eq!(f["field"], "status");
    }
    // 免学: the message says what to write instead.
    let mianxue = findings_array(&json)
        .iter()
        .find(|f| f["code"] == "STATUS_UNKNOWN" && f["value"] == "免学")
        .expect("免学 is STATUS_UNKNOWN");
    let msg = mianxue["message"].as_str().unwrap();
    assert!(
        msg.contains("送教上门") && msg.contains("延缓入学") && msg.contains("佐证材料"),
        "{msg}"
    );

    // Every dropout is on the warning list; no adult is.
    let warned = annex_names(&wd.join("out").join(Annex::Warning.file_name()), 3);
    for k in kids.iter().filter(|k| k.expect.contains(&"DROPOUT")) {
        assert!(
            warned.contains(&k.name),
            "{} ({}) on the warning list: {warned:?}",
            k.name,
            k.status
        );
    }
    for n in &other_names {
        assert!(!warned.contains(n), "{n} on the warning list");
    }
    // The ledger lists the children of the round, and nobody else.
    let ledger = annex_names(&wd.join("out").join(Annex::Ledger.file_name()), 6);
    for k in &kids {
        assert!(ledger.contains(&k.name), "{} in 附件2", k.name);
    }
    for n in &other_names {
        assert!(!ledger.contains(n), "{n} in 附件2");
    }
    // Statuses as mapped: in the ledger's 就读状态 column.
    let status_of = |name: &str| -> String {
        let mut wb: Xlsx<_> =
            open_workbook(wd.join("out").join(Annex::Ledger.file_name())).unwrap();
        let sheet = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&sheet).unwrap();
        range
            .rows()
            .find(|r| matches!(r.get(6), Some(Data::String(s)) if s == name))
            .and_then(|r| match r.get(10) {
                Some(Data::String(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    for (status, label) in [
        ("在江苏苏州跟父母读书", "在校(县外)"),
        ("到省城上学", "在校(县外)"),
        ("随父母在外地上学", "在校(县外)"),
        ("辍学后已复学", "在校(本县)"),
        ("特殊教育学校就读", "在校(本县)"),
        ("读中职", "初中已毕业"),
        ("打零工去了", "辍学"),
        ("进厂了", "辍学"),
    ] {
        let k = kids.iter().find(|k| k.status == status).unwrap();
        let shown = status_of(&k.name).replace('（', "(").replace('）', ")");
        assert_eq!(shown, label, "{status}");
    }
}

#[test]
fn status_words_with_an_unknown_status_are_a_config_error() {
    let wd = Workdir::new("field-words-config");
    let mut rng = Rng::new(7);
    let kids = kids(&mut rng);
    let dir = wd.mkdir("round");
    write_roster(&dir.join("县局名单.xlsx"), &kids, &mut rng);
    write_survey(&dir.join(format!("附件1_{SCHOOL}.xlsx")), &kids);
    wd.write(
        "round/taizhang.toml",
        config("[status_words]\n\"进厂了\" = \"打工中\"\n"),
    );
    let out = wd.run(&["reconcile", "round", "--out", "out"]);
    assert_eq!(out.status, 2, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("taizhang.toml") && all.contains("进厂了") && all.contains("打工中"),
        "{all}"
    );
}
