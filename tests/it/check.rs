//! `taizhang check` run as a clerk runs it: the built binary on survey and
//! statistics workbooks that the test code writes from a seed (invented
//! names, IDs for county 610922 with correct check digits unless a row is
//! meant to be wrong). Asserts on what the clerk sees: codes and exact cells
//! in findings.json, findings.csv, the annotated copies, terminal lines and
//! exit codes.
//!
//! The .xls and .ods fixtures in tests/fixtures/cli/ are LibreOffice
//! conversions of the xlsx this file writes; `tests/fixtures/cli/make.sh`
//! regenerates them.

use super::support::*;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use taizhang::model::{Field, Sex};
use testkit::synth::{Rng, fake_name, make_id};

// ---------------------------------------------------------------------------
// Fixture building
// ---------------------------------------------------------------------------

/// The round's configuration, school year 2022.
pub const CONFIG: &str = r#"township = "熨斗镇"
school_year = 2022
[[schools]]
name = "熨斗初级中学"
villages = ["金星村", "双坪村", "刘家湾村", "先联村", "沙湾村", "齐建村"]
[[schools]]
name = "熨斗镇中心小学"
villages = ["中河村", "板长村", "高兴村", "麦坪村", "茨林村", "瓦子沟村", "长岭村", "熨斗社区"]
"#;

/// One cell value of a fixture.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    E,
    S(String),
    N(f64),
    /// A real date cell (number with a date format).
    D(NaiveDate),
}

pub fn s(t: &str) -> V {
    if t.is_empty() { V::E } else { V::S(t.into()) }
}

/// Excel's serial number of a date (1900 date system).
pub fn serial(d: NaiveDate) -> f64 {
    (d - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64
}

/// One worksheet as rows of values (row 0 is Excel row 1) and merged ranges.
#[derive(Clone, Debug)]
pub struct Grid {
    pub sheet: String,
    pub rows: Vec<Vec<V>>,
    /// 1-based Excel rows, 0-based columns, inclusive.
    pub merges: Vec<(u32, u16, u32, u16)>,
}

impl Grid {
    pub fn new(sheet: &str) -> Grid {
        Grid {
            sheet: sheet.into(),
            rows: Vec::new(),
            merges: Vec::new(),
        }
    }

    /// Appends a row; returns its 1-based Excel row number.
    pub fn push(&mut self, row: Vec<V>) -> u32 {
        self.rows.push(row);
        self.rows.len() as u32
    }

    pub fn merge(&mut self, r0: u32, c0: u16, r1: u32, c1: u16) {
        self.merges.push((r0, c0, r1, c1));
    }

    fn merge_of(&self, r: u32, c: u16) -> Option<(u32, u16, u32, u16)> {
        self.merges
            .iter()
            .copied()
            .find(|&(r0, c0, r1, c1)| (r0..=r1).contains(&r) && (c0..=c1).contains(&c))
    }

    /// The workbook bytes (deterministic: fixed creation date).
    pub fn xlsx(&self) -> Vec<u8> {
        let mut wb = Workbook::new();
        let props = DocProperties::new()
            .set_author("taizhang tests")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2022, 10, 8).unwrap());
        wb.set_properties(&props);
        let ws = wb.add_worksheet();
        ws.set_name(&self.sheet).unwrap();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let plain = Format::new();
        for &(r0, c0, r1, c1) in &self.merges {
            let text = match self.get(r0, c0) {
                V::S(t) => t,
                _ => String::new(),
            };
            ws.merge_range(r0 - 1, c0, r1 - 1, c1, &text, &plain)
                .unwrap();
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r1 = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                if let Some((mr, mc, _, _)) = self.merge_of(r1, c)
                    && ((mr, mc) != (r1, c) || matches!(v, V::S(_)))
                {
                    continue;
                }
                let r0 = r as u32;
                match v {
                    V::E => {}
                    V::S(t) => {
                        ws.write_string(r0, c, t).unwrap();
                    }
                    V::N(n) => {
                        ws.write_number(r0, c, *n).unwrap();
                    }
                    V::D(d) => {
                        let dt = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .unwrap();
                        ws.write_datetime_with_format(r0, c, &dt, &date).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn get(&self, r1: u32, c: u16) -> V {
        self.rows
            .get(r1 as usize - 1)
            .and_then(|row| row.get(c as usize))
            .cloned()
            .unwrap_or(V::E)
    }

    /// The sheet as csv text, as Excel saves it: values as shown (dates as
    /// 2012/3/5, huge numbers as 6.10922E+17). A merged value is repeated in
    /// every cell it covers when `fill_merges` (else only its first cell).
    pub fn csv(&self, fill_merges: bool) -> String {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        for (r, row) in self.rows.iter().enumerate() {
            let r1 = r as u32 + 1;
            let cells: Vec<String> = (0..row.len() as u16)
                .map(|c| {
                    let v = match self.merge_of(r1, c) {
                        Some((mr, mc, _, _)) if fill_merges => self.get(mr, mc),
                        Some((mr, mc, _, _)) if (mr, mc) != (r1, c) => V::E,
                        _ => self.get(r1, c),
                    };
                    match v {
                        V::E => String::new(),
                        V::S(t) => t,
                        V::N(n) if n >= 1e11 => format!("{n:.5E}").replace('E', "E+"),
                        V::N(n) => format!("{n}"),
                        V::D(d) => format!("{}/{}/{}", d.year(), d.month(), d.day()),
                    }
                })
                .collect();
            w.write_record(&cells).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }
}

/// The 附件1 survey columns (official canonical layout), A..R.
pub const SURVEY_COLS: [&str; 18] = [
    "序号",
    "村（社区）",
    "组",
    "户主姓名",
    "户类型",
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "就读状态",
    "就读学校",
    "年级",
    "未在校原因",
    "佐证材料",
    "监护人",
    "联系电话",
    "调查人",
    "备注",
];

/// Column index (0-based) of a field in the canonical survey layout.
pub fn col(field: &str) -> usize {
    [
        "seq",
        "village",
        "group",
        "household_head",
        "household_type",
        "name",
        "sex",
        "id",
        "birthdate",
        "status",
        "school",
        "grade",
        "reason",
        "evidence",
        "guardian",
        "phone",
        "surveyor",
        "remark",
    ]
    .iter()
    .position(|f| *f == field)
    .unwrap_or_else(|| panic!("no survey column {field}"))
}

pub fn letter(c: usize) -> String {
    taizhang::model::col_letter(c as u32 + 1)
}

/// Title, 填报单位 line and the two-row merged header of a 附件1 survey
/// (rows 1–5); data starts in row 6.
pub fn survey_preamble(g: &mut Grid, unit: &str) {
    g.push(vec![s("附件1")]);
    let t = g.push(vec![s("熨斗镇2022年农村义务教育阶段学龄人口摸底调查表")]);
    g.merge(t, 0, t, 17);
    let u = g.push(vec![
        s(&format!("填报单位：{unit}")),
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        s("填报日期：2022年10月17日"),
    ]);
    g.merge(u, 0, u, 8);
    g.merge(u, 9, u, 17);
    let mut upper = vec![V::E; 18];
    let mut lower = vec![V::E; 18];
    for (c, h) in SURVEY_COLS.iter().enumerate() {
        match c {
            1..=13 => lower[c] = s(h),
            _ => upper[c] = s(h),
        }
    }
    upper[1] = s("家庭情况");
    upper[5] = s("儿童基本信息");
    upper[9] = s("就读情况");
    let h1 = g.push(upper);
    let h2 = g.push(lower);
    for c in [0u16, 14, 15, 16, 17] {
        g.merge(h1, c, h2, c);
    }
    g.merge(h1, 1, h1, 4);
    g.merge(h1, 5, h1, 8);
    g.merge(h1, 9, h1, 13);
}

/// A survey row's values by field (canonical column order).
#[derive(Clone, Debug)]
pub struct Kid {
    pub cells: Vec<V>,
    /// The child's true ID (what the row should hold).
    pub id: String,
    pub birth: NaiveDate,
}

impl Kid {
    pub fn set(&mut self, field: &str, v: V) -> &mut Kid {
        self.cells[col(field)] = v;
        self
    }
    pub fn get(&self, field: &str) -> V {
        self.cells[col(field)].clone()
    }
}

/// A clean 10-year-old (born January–August 2012: 五年级 in school year
/// 2022) of 金星村, in school.
pub fn clean_kid(rng: &mut Rng) -> Kid {
    let birth = NaiveDate::from_ymd_opt(2012, 1, 1).unwrap()
        + chrono::Duration::days(rng.below(240) as i64);
    let sex = if rng.chance(0.5) {
        Sex::Male
    } else {
        Sex::Female
    };
    let id = make_id(rng, "610922", birth, sex);
    let head = fake_name(rng, None);
    let surname: String = head.chars().next().unwrap().to_string();
    let name = loop {
        let n = fake_name(rng, Some(&surname));
        if n != head {
            break n;
        }
    };
    let mut cells = vec![V::E; 18];
    cells[col("village")] = s("金星村");
    cells[col("group")] = s(&format!("{}组", rng.below(6) + 1));
    cells[col("household_head")] = s(&head);
    cells[col("household_type")] = s("一般农户");
    cells[col("name")] = s(&name);
    cells[col("sex")] = s(sex.label_zh());
    cells[col("id")] = s(&id);
    cells[col("birthdate")] = s(&birth.format("%Y-%m-%d").to_string());
    cells[col("status")] = s("在校");
    cells[col("school")] = s("熨斗镇中心小学");
    cells[col("grade")] = s("五年级");
    cells[col("guardian")] = s(&head);
    cells[col("phone")] = s(&format!("139{:08}", rng.below(100_000_000)));
    cells[col("surveyor")] = s("包联教师");
    Kid { cells, id, birth }
}

/// An ID for county 610922 with a correct check digit.
pub fn id_of(first17: &str) -> String {
    testkit::ids::with_check(first17)
}

/// What a finding must be.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exp {
    pub row: u32,
    pub column: String,
    pub code: String,
    pub field: String,
    pub value: String,
    pub suggestion: Option<String>,
}

fn exp(row: u32, field: &str, code: &str, value: &str, suggestion: Option<&str>) -> Exp {
    Exp {
        row,
        column: letter(col(field)),
        code: code.into(),
        field: field.into(),
        value: value.into(),
        suggestion: suggestion.map(str::to_string),
    }
}

/// The findings of a findings.json in the shape of [`Exp`].
pub fn got(json: &Value, file: &str) -> Vec<Exp> {
    let mut v: Vec<Exp> = findings_array(json)
        .iter()
        .filter(|f| f["file"] == file)
        .map(|f| Exp {
            row: f["row"].as_u64().unwrap() as u32,
            column: f["column"].as_str().unwrap().into(),
            code: f["code"].as_str().unwrap().into(),
            field: f["field"].as_str().unwrap().into(),
            value: f["value"].as_str().unwrap().into(),
            suggestion: f["suggestion"].as_str().map(str::to_string),
        })
        .collect();
    v.sort();
    v
}

/// The all-codes survey of 熨斗初级中学: every single-record code
/// on its own row, clean rows between, merged household cells, a number-typed
/// ID, real date and serial-number date cells, and 合计 / 注 / signature rows
/// at the bottom. Returns the grid, the expected findings (sorted), the clean
/// rows and every full ID written.
pub struct SurveyFixture {
    pub grid: Grid,
    pub expected: Vec<Exp>,
    pub clean_rows: Vec<u32>,
    pub ids: Vec<String>,
}

pub fn all_codes_survey(seed: u64) -> SurveyFixture {
    let mut rng = Rng::new(seed);
    let mut g = Grid::new("摸底调查表");
    survey_preamble(&mut g, "熨斗初级中学");
    let mut expected = Vec::new();
    let mut clean_rows = Vec::new();
    let mut ids = Vec::new();
    let mut seq = 0;
    let mut add = |g: &mut Grid, k: &Kid, ids: &mut Vec<String>| -> u32 {
        seq += 1;
        let mut cells = k.cells.clone();
        cells[0] = V::N(seq as f64);
        ids.push(k.id.clone());
        g.push(cells)
    };

    // Two clean children of one household: 村 and 户主 merged over both rows.
    let a = clean_kid(&mut rng);
    let mut b = clean_kid(&mut rng);
    b.set("birthdate", s(&b.birth.format("%Y/%-m/%-d").to_string()));
    b.set("village", V::E).set("household_head", V::E);
    let ra = add(&mut g, &a, &mut ids);
    let rb = add(&mut g, &b, &mut ids);
    g.merge(ra, col("village") as u16, rb, col("village") as u16);
    g.merge(
        ra,
        col("household_head") as u16,
        rb,
        col("household_head") as u16,
    );
    clean_rows.extend([ra, rb]);
    // Clean, ID typed with a leading apostrophe and a lower-case x is normal.
    let mut c = clean_kid(&mut rng);
    c.set("id", s(&format!("'{}", c.id.to_lowercase())));
    clean_rows.push(add(&mut g, &c, &mut ids));

    // ID_MISSING
    let mut k = clean_kid(&mut rng);
    k.set("id", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "ID_MISSING", "", None));
    // ID_FORMAT: one digit short.
    let mut k = clean_kid(&mut rng);
    let short = k.id[..17].to_string();
    k.set("id", s(&short));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "ID_FORMAT", &short, None));
    // ID_CHECKSUM
    let mut k = clean_kid(&mut rng);
    let last = k.id.chars().last().unwrap();
    let wrong_check = if last == '0' { '1' } else { '0' };
    let bad = format!("{}{}", &k.id[..17], wrong_check);
    k.set("id", s(&bad));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "ID_CHECKSUM", &bad, Some(&k.id)));
    // ID_BAD_DATE: 31 February, check digit right.
    let mut k = clean_kid(&mut rng);
    let bad_date = id_of(&format!("61092220120231{}", &k.id[14..17]));
    k.set("id", s(&bad_date));
    k.set("birthdate", s("2012-02-28"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "ID_BAD_DATE", &bad_date, None));
    // ID_TRUNCATED: the ID stored as a number, as Excel keeps it (15
    // significant digits, the rest zeros).
    let mut k = clean_kid(&mut rng);
    let n: f64 = k.id[..15].parse::<f64>().unwrap() * 1000.0;
    k.set("id", V::N(n));
    let truncated_row = add(&mut g, &k, &mut ids);
    let shown = format!("{}000", &k.id[..15]);
    expected.push(exp(truncated_row, "id", "ID_TRUNCATED", &shown, None));
    // ID_LEGACY_15: an adult (the household head) with a 15-digit ID.
    let mut k = clean_kid(&mut rng);
    let id15 = "610922850312131";
    let id18 = id_of("61092219850312131");
    k.set("id", s(id15))
        .set("birthdate", s("1985-03-12"))
        .set("sex", s("男"))
        .set("status", s("初中已毕业"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("evidence", s("毕业证"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "ID_LEGACY_15", id15, Some(&id18)));
    expected.push(exp(r, "birthdate", "OUT_OF_AGE_RANGE", "1985-03-12", None));
    // NAME_MISSING
    let mut k = clean_kid(&mut rng);
    k.set("name", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "name", "NAME_MISSING", "", None));
    // NAME_FORMAT: a space inside; an odd middle dot.
    let mut k = clean_kid(&mut rng);
    k.set("name", s("李 倩"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "name", "NAME_FORMAT", "李 倩", Some("李倩")));
    let mut k = clean_kid(&mut rng);
    k.set("name", s("阿依古丽•吐尔逊"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(
        r,
        "name",
        "NAME_FORMAT",
        "阿依古丽•吐尔逊",
        Some("阿依古丽·吐尔逊"),
    ));
    // BIRTHDATE_MISMATCH: one day off.
    let mut k = clean_kid(&mut rng);
    let off = (k.birth + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    k.set("birthdate", s(&off));
    let r = add(&mut g, &k, &mut ids);
    let right = k.birth.format("%Y-%m-%d").to_string();
    expected.push(exp(
        r,
        "birthdate",
        "BIRTHDATE_MISMATCH",
        &off,
        Some(&right),
    ));
    // SEX_MISMATCH
    let mut k = clean_kid(&mut rng);
    let (wrong, right) = if k.get("sex") == s("男") {
        ("女", "男")
    } else {
        ("男", "女")
    };
    k.set("sex", s(wrong));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "sex", "SEX_MISMATCH", wrong, Some(right)));
    // OUT_OF_AGE_RANGE: 17 years old, graduated.
    let mut k = clean_kid(&mut rng);
    let old = NaiveDate::from_ymd_opt(2005, 6, 1).unwrap();
    k.id = make_id(&mut rng, "610922", old, Sex::Female);
    k.birth = old;
    let old_id = k.id.clone();
    k.set("id", s(&old_id))
        .set("sex", s("女"))
        .set("birthdate", s("2005-06-01"))
        .set("status", s("初中已毕业"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("evidence", s("毕业证"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "id", "OUT_OF_AGE_RANGE", &old_id, None));
    // DUPLICATE_ID: the first child again.
    let r = add(&mut g, &a, &mut ids);
    expected.push(exp(r, "id", "DUPLICATE_ID", &a.id, None));
    let dup_row = r;
    // STATUS_MISSING
    let mut k = clean_kid(&mut rng);
    k.set("status", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "status", "STATUS_MISSING", "", None));
    // STATUS_UNKNOWN
    let mut k = clean_kid(&mut rng);
    k.set("status", s("放牛"))
        .set("school", V::E)
        .set("grade", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "status", "STATUS_UNKNOWN", "放牛", None));
    // EVIDENCE_MISSING
    let mut k = clean_kid(&mut rng);
    k.set("status", s("休学"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("reason", s("生病住院"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "evidence", "EVIDENCE_MISSING", "", None));
    // SCHOOL_MISSING: no school; no grade.
    let mut k = clean_kid(&mut rng);
    k.set("school", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "school", "SCHOOL_MISSING", "", None));
    let mut k = clean_kid(&mut rng);
    k.set("grade", V::E);
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "grade", "SCHOOL_MISSING", "", None));
    // GRADE_AGE: a 10-year-old in 一年级.
    let mut k = clean_kid(&mut rng);
    k.set("grade", s("一年级"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "grade", "GRADE_AGE", "一年级", Some("五年级")));
    // GRADE_UNKNOWN
    let mut k = clean_kid(&mut rng);
    k.set("grade", s("火箭班"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "grade", "GRADE_UNKNOWN", "火箭班", None));
    // STATUS_AGE: graduated at 10; deferred at 10.
    let mut k = clean_kid(&mut rng);
    k.set("status", s("初中已毕业"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("evidence", s("毕业证"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "status", "STATUS_AGE", "初中已毕业", None));
    let mut k = clean_kid(&mut rng);
    k.set("status", s("延缓入学"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("evidence", s("延缓入学申请表、县医院证明"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "status", "STATUS_AGE", "延缓入学", None));
    // VILLAGE_UNKNOWN
    let mut k = clean_kid(&mut rng);
    k.set("village", s("火星村"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(
        r,
        "village",
        "VILLAGE_UNKNOWN",
        "火星村",
        Some("金星村"),
    ));
    // VILLAGE_WRONG_SCHOOL: a household of 中河村 (中心小学's), merged over two rows.
    let k1 = {
        let mut k = clean_kid(&mut rng);
        k.set("village", s("中河村"));
        k
    };
    let mut k2 = clean_kid(&mut rng);
    k2.set("village", V::E);
    let r1 = add(&mut g, &k1, &mut ids);
    let r2 = add(&mut g, &k2, &mut ids);
    g.merge(r1, col("village") as u16, r2, col("village") as u16);
    expected.push(exp(r1, "village", "VILLAGE_WRONG_SCHOOL", "中河村", None));
    expected.push(exp(r2, "village", "VILLAGE_WRONG_SCHOOL", "中河村", None));
    // DROPOUT
    let mut k = clean_kid(&mut rng);
    k.set("status", s("辍学"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("reason", s("厌学"));
    let r = add(&mut g, &k, &mut ids);
    expected.push(exp(r, "status", "DROPOUT", "辍学", None));
    // Clean rows with a real date cell and a serial-number date.
    let mut k = clean_kid(&mut rng);
    k.set("birthdate", V::D(k.birth));
    clean_rows.push(add(&mut g, &k, &mut ids));
    let mut k = clean_kid(&mut rng);
    k.set("birthdate", V::N(serial(k.birth)));
    clean_rows.push(add(&mut g, &k, &mut ids));

    // Stray rows: not children.
    let mut total = vec![V::E; 18];
    total[0] = s("合计");
    total[col("name")] = s(&format!("{seq}人"));
    g.push(total);
    let note = g.push(vec![s(
        "注：本表由包联教师入户逐人填写，身份证号码按户口簿填写。",
    )]);
    g.merge(note, 0, note, 17);
    let sign = g.push(vec![s("填表人：              审核人（校长）：")]);
    g.merge(sign, 0, sign, 17);

    let _ = dup_row;
    expected.sort();
    ids.sort();
    ids.dedup();
    SurveyFixture {
        grid: g,
        expected,
        clean_rows,
        ids,
    }
}

/// The 附件3 statistics table of 熨斗镇中心小学 with two broken identities:
/// 板长村's 学龄人口数 is not the sum of its columns, and the 合计 row's 县外
/// is not the column sum.
pub fn stats_grid() -> (Grid, Vec<Exp>) {
    let mut g = Grid::new("台账统计表");
    g.push(vec![s("附件3")]);
    let t = g.push(vec![s("熨斗镇2022年农村义务教育阶段学龄人口台账统计表")]);
    g.merge(t, 0, t, 15);
    g.push(vec![s("填报单位：熨斗镇中心小学")]);
    let groups = ["在校人数", "未在校但不属于失学辍学"];
    let mut upper = vec![V::E; 16];
    let mut lower = vec![V::E; 16];
    for (c, h) in [
        "序号",
        "村（社区）",
        "学龄人口数",
        "",
        "",
        "随班就读",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "失学辍学",
        "备注",
    ]
    .iter()
    .enumerate()
    {
        upper[c] = s(h);
    }
    upper[3] = s(groups[0]);
    upper[6] = s(groups[1]);
    for (c, h) in [(3, "本县"), (4, "县外")] {
        lower[c] = s(h);
    }
    for (k, h) in [
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
        lower[6 + k] = s(h);
    }
    let h1 = g.push(upper);
    let h2 = g.push(lower);
    for c in [0u16, 1, 2, 5, 14, 15] {
        g.merge(h1, c, h2, c);
    }
    g.merge(h1, 3, h1, 4);
    g.merge(h1, 6, h1, 13);
    let row = |seq: &str, v: &str, counts: [f64; 13]| -> Vec<V> {
        let mut r = vec![s(seq), s(v)];
        r.extend(counts.iter().map(|n| V::N(*n)));
        r
    };
    //                     total local out incl home def susp leave grad dead miss abroad drop
    g.push(row(
        "1",
        "中河村",
        [10., 8., 1., 0., 0., 0., 0., 0., 0., 0., 0., 0., 1.],
    ));
    let bad = g.push(row(
        "2",
        "板长村",
        [12., 9., 1., 1., 0., 0., 0., 0., 0., 0., 0., 0., 0.],
    ));
    let total = g.push(row(
        "",
        "合计",
        [22., 17., 3., 1., 0., 0., 0., 0., 0., 0., 0., 0., 1.],
    ));
    let e = |row: u32, c: usize, field: &str, value: &str, sug: &str| Exp {
        row,
        column: letter(c),
        code: "STATS_DIFFERS".into(),
        field: field.into(),
        value: value.into(),
        suggestion: Some(sug.into()),
    };
    let mut expected = vec![
        e(bad, 2, "total", "12", "11"),
        e(total, 4, "in_school_out", "3", "2"),
    ];
    expected.sort();
    (g, expected)
}

/// Writes `CONFIG` as taizhang.toml into `w`.
pub fn write_config(w: &Workdir) {
    w.write("taizhang.toml", CONFIG);
}

fn check(w: &Workdir, files: &[&str], out: &str) -> Output {
    let mut args = vec!["check"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--config", "taizhang.toml", "--out", out]);
    w.run(&args)
}

/// The rows of a findings.csv (after its BOM), header excluded.
fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "{} starts with a UTF-8 BOM",
        path.display()
    );
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[3..]);
    r.records().map(|x| x.unwrap()).collect()
}

fn assert_no_full_ids(out: &Output, ids: &[String]) {
    let all = out.all();
    assert!(
        full_ids_in(&all).is_empty(),
        "terminal shows full IDs: {:?}",
        full_ids_in(&all)
    );
    // Only full IDs are checked: a 17-digit typo (ID_FORMAT) is still
    // printed unmasked by the terminal report (reported, not fixed here).
    for id in ids {
        assert!(!all.contains(id.as_str()), "terminal shows ID {id}");
    }
}

fn diff(want: &[Exp], got: &[Exp]) -> String {
    let w: BTreeSet<_> = want.iter().collect();
    let g: BTreeSet<_> = got.iter().collect();
    format!(
        "missing: {:#?}\nunexpected: {:#?}",
        w.difference(&g).collect::<Vec<_>>(),
        g.difference(&w).collect::<Vec<_>>()
    )
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const SURVEY: &str = "附件1_熨斗初级中学.xlsx";
const STATS: &str = "附件3_中心小学统计表.xlsx";

#[test]
fn every_single_record_code_at_its_exact_cell() {
    let w = Workdir::new("check-codes");
    write_config(&w);
    let fx = all_codes_survey(2022);
    let (stats, stats_expected) = stats_grid();
    w.write(SURVEY, fx.grid.xlsx());
    w.write(STATS, stats.xlsx());
    let before = [checksum(w.join(SURVEY)), checksum(w.join(STATS))];

    let out = check(&w, &[SURVEY, STATS], "结果");
    assert_eq!(out.status, 1, "errors found → exit 1\n{}", out.all());
    let json = w.findings("结果");

    // Every expected finding, exactly, and nothing else (so nothing on the
    // clean rows, the merged second household row or the stray rows).
    let got_survey = got(&json, SURVEY);
    assert_eq!(
        got_survey,
        fx.expected,
        "{}",
        diff(&fx.expected, &got_survey)
    );
    let got_stats = got(&json, STATS);
    assert_eq!(
        got_stats,
        stats_expected,
        "{}",
        diff(&stats_expected, &got_stats)
    );
    for r in &fx.clean_rows {
        assert!(!got_survey.iter().any(|e| e.row == *r), "clean row {r}");
    }
    let codes: BTreeSet<&str> = findings_array(&json)
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for c in [
        "ID_MISSING",
        "ID_FORMAT",
        "ID_CHECKSUM",
        "ID_BAD_DATE",
        "ID_TRUNCATED",
        "ID_LEGACY_15",
        "NAME_MISSING",
        "NAME_FORMAT",
        "BIRTHDATE_MISMATCH",
        "SEX_MISMATCH",
        "OUT_OF_AGE_RANGE",
        "DUPLICATE_ID",
        "STATUS_MISSING",
        "STATUS_UNKNOWN",
        "EVIDENCE_MISSING",
        "SCHOOL_MISSING",
        "GRADE_AGE",
        "GRADE_UNKNOWN",
        "STATUS_AGE",
        "VILLAGE_UNKNOWN",
        "VILLAGE_WRONG_SCHOOL",
        "DROPOUT",
        "STATS_DIFFERS",
    ] {
        assert!(codes.contains(c), "{c} reported");
    }

    // Severity, sheet, Chinese message; DUPLICATE_ID points at the first copy.
    for f in findings_array(&json) {
        let code = f["code"].as_str().unwrap();
        let sev = match code {
            "ID_LEGACY_15"
            | "NAME_FORMAT"
            | "OUT_OF_AGE_RANGE"
            | "GRADE_AGE"
            | "GRADE_UNKNOWN"
            | "STATUS_AGE"
            | "VILLAGE_WRONG_SCHOOL" => "warning",
            "DROPOUT" => "notice",
            _ => "error",
        };
        assert_eq!(f["severity"], sev, "{code}");
        let want_sheet = if f["file"] == SURVEY {
            "摸底调查表"
        } else {
            "台账统计表"
        };
        assert_eq!(f["sheet"], want_sheet);
        let msg = f["message"].as_str().unwrap();
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{code}: Chinese message, got {msg:?}"
        );
        if code == "DUPLICATE_ID" {
            let rel = f["related"].as_array().expect("related");
            assert_eq!(rel.len(), 1);
            assert_eq!(rel[0]["file"], SURVEY);
            assert_eq!(rel[0]["sheet"], "摸底调查表");
            assert_eq!(rel[0]["row"], 6, "points at the first copy");
        }
    }

    // Inputs: byte-identical after the run.
    assert_eq!(
        before,
        [checksum(w.join(SURVEY)), checksum(w.join(STATS))],
        "inputs unchanged"
    );

    // The terminal: one `file:sheet!F17  CODE  说明` line per finding, IDs masked.
    for f in findings_array(&json) {
        let head = format!(
            "{}:{}!{}{}  {}  ",
            f["file"].as_str().unwrap(),
            f["sheet"].as_str().unwrap(),
            f["column"].as_str().unwrap(),
            f["row"],
            f["code"].as_str().unwrap()
        );
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&head)),
            "terminal line {head:?}\n{}",
            out.stdout
        );
    }
    assert_no_full_ids(&out, &fx.ids);
    // Grouped by file: the survey's lines come before the statistics table's.
    let first_stats = out.stdout.find(&format!("{STATS}:")).unwrap();
    let last_survey = out.stdout.rfind(&format!("{SURVEY}:")).unwrap();
    assert!(last_survey < first_stats, "findings grouped by file");
}

#[test]
fn findings_json_csv_and_annotated_copies() {
    let w = Workdir::new("check-outputs");
    write_config(&w);
    let fx = all_codes_survey(2022);
    w.write(SURVEY, fx.grid.xlsx());
    let out = check(&w, &[SURVEY], "out");
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("out");

    // Top level.
    assert_eq!(json["tool"], "taizhang");
    assert!(json["version"].is_string());
    assert_eq!(json["school_year"], 2022);
    assert_eq!(json["born_from"], "2006-09-01");
    assert_eq!(json["born_to"], "2016-08-31");
    assert_eq!(json["links"], Value::Array(vec![]), "check links nothing");
    let inputs = json["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    let inp = &inputs[0];
    assert_eq!(inp["file"], SURVEY);
    assert_eq!(inp["role"], "survey");
    assert_eq!(inp["sheet"], "摸底调查表");
    assert_eq!(inp["header_row"], 5, "lower row of the two-row header");
    let data_rows = fx.grid.rows.len() as u64 - 5 - 3; // minus preamble and stray rows
    assert_eq!(
        inp["rows"], data_rows,
        "合计/注/signature rows are not children"
    );
    let sm = &json["summary"];
    for k in [
        "errors",
        "warnings",
        "notices",
        "linked",
        "roster_only",
        "survey_only",
    ] {
        assert!(sm[k].is_u64(), "summary.{k} is a count");
    }
    assert_eq!(sm["ready"], false);
    let count = |sev: &str| {
        findings_array(&json)
            .iter()
            .filter(|f| f["severity"] == sev)
            .count() as u64
    };
    assert_eq!(sm["errors"], count("error"));
    assert_eq!(sm["warnings"], count("warning"));
    assert_eq!(sm["notices"], count("notice"));
    for f in findings_array(&json) {
        for k in [
            "code", "severity", "file", "sheet", "column", "field", "value", "message",
        ] {
            assert!(f[k].is_string(), "finding.{k} is a string: {f}");
        }
        assert!(f["row"].is_u64(), "finding.row is a number");
        let c = f["column"].as_str().unwrap();
        assert!(!c.is_empty() && c.chars().all(|c| c.is_ascii_uppercase()));
        if !f["suggestion"].is_null() {
            assert!(f["suggestion"].is_string());
        }
        if !f["related"].is_null() {
            for l in f["related"].as_array().unwrap() {
                assert!(l["file"].is_string() && l["sheet"].is_string() && l["row"].is_u64());
            }
        }
    }

    // findings.csv: BOM, same rows, same codes and cells in the same order.
    let rows = csv_rows(&w.join("out/findings.csv"));
    let fs = findings_array(&json);
    assert_eq!(rows.len(), fs.len());
    for (r, f) in rows.iter().zip(fs) {
        assert!(r.iter().any(|c| c == f["code"].as_str().unwrap()));
        let row = f["row"].to_string();
        assert!(r.iter().any(|c| c == row));
        assert!(r.iter().any(|c| c == f["column"].as_str().unwrap()));
        // 字段 (8th column) names the field in Chinese, never the json key.
        let key = f["field"].as_str().unwrap();
        if let Some(field) = Field::ALL.iter().find(|k| k.key() == key) {
            assert_eq!(&r[7], field.label_zh(), "{r:?}");
        }
    }
    assert!(
        rows.iter().any(|r| &r[7] == "身份证号码"),
        "an ID finding names its field 身份证号码"
    );

    // The annotated copy, openable, with the data sheet intact.
    let copy = w.join("out/附件1_熨斗初级中学.核对.xlsx");
    assert!(copy.is_file(), "annotated copy exists");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&copy).unwrap();
    let names = wb.sheet_names();
    assert!(names.iter().any(|n| n == "摸底调查表"), "{names:?}");
    assert!(names.iter().any(|n| n == "核对说明"), "{names:?}");
    let r = wb.worksheet_range("摸底调查表").unwrap();
    let name_cell = r.get_value((5, col("name") as u32)).unwrap().to_string();
    assert_eq!(V::S(name_cell), fx.grid.rows[5][col("name")]);
}

#[test]
fn clean_survey_exits_0_and_every_date_format_reads() {
    // One clean child per date format, each agreeing with the ID; a second
    // file with every format one month off must flag every row.
    let w = Workdir::new("check-dates");
    write_config(&w);
    let mut rng = Rng::new(7);
    type Style = Box<dyn Fn(NaiveDate) -> V>;
    let formats: Vec<(&str, Style)> = vec![
        (
            "iso",
            Box::new(|d: NaiveDate| s(&d.format("%Y-%m-%d").to_string())),
        ),
        (
            "slash",
            Box::new(|d: NaiveDate| s(&d.format("%Y/%-m/%-d").to_string())),
        ),
        (
            "dots",
            Box::new(|d: NaiveDate| s(&d.format("%Y.%m.%d").to_string())),
        ),
        (
            "cn",
            Box::new(|d: NaiveDate| s(&d.format("%Y年%-m月%-d日").to_string())),
        ),
        (
            "compact",
            Box::new(|d: NaiveDate| s(&d.format("%Y%m%d").to_string())),
        ),
        (
            "month",
            Box::new(|d: NaiveDate| s(&d.format("%Y.%-m").to_string())),
        ),
        (
            "cn-month",
            Box::new(|d: NaiveDate| s(&d.format("%Y年%-m月").to_string())),
        ),
        ("date-cell", Box::new(V::D)),
        ("serial", Box::new(|d: NaiveDate| V::N(serial(d)))),
    ];
    let mut good = Grid::new("摸底调查表");
    survey_preamble(&mut good, "熨斗初级中学");
    let mut bad = good.clone();
    let mut bad_rows = Vec::new();
    let mut ids = Vec::new();
    for (k, (_, f)) in formats.iter().enumerate() {
        let mut kid = clean_kid(&mut rng);
        // Day 10..20 of the month so a month shift stays a real date.
        kid.birth = NaiveDate::from_ymd_opt(2012, 3 + k as u32 % 5, 10 + k as u32).unwrap();
        let sex = if kid.get("sex") == s("男") {
            Sex::Male
        } else {
            Sex::Female
        };
        kid.id = make_id(&mut rng, "610922", kid.birth, sex);
        ids.push(kid.id.clone());
        let id = kid.id.clone();
        kid.set("id", s(&id)).set("seq", V::N(k as f64 + 1.0));
        kid.set("birthdate", f(kid.birth));
        good.push(kid.cells.clone());
        let shifted = kid.birth.with_month(kid.birth.month() + 1).unwrap();
        kid.set("birthdate", f(shifted));
        bad_rows.push((bad.push(kid.cells.clone()), kid.birth));
    }
    w.write("附件1_熨斗初级中学_日期.xlsx", good.xlsx());
    w.write("附件1_熨斗初级中学_日期错.xlsx", bad.xlsx());

    let out = check(&w, &["附件1_熨斗初级中学_日期.xlsx"], "好");
    assert_eq!(out.status, 0, "a clean survey exits 0\n{}", out.all());
    let json = w.findings("好");
    assert_eq!(findings_array(&json).len(), 0, "{:#}", json["findings"]);
    assert_eq!(json["summary"]["ready"], true);
    assert_eq!(json["inputs"][0]["rows"], formats.len());
    assert!(w.join("好/附件1_熨斗初级中学_日期.核对.xlsx").is_file());
    assert_no_full_ids(&out, &ids);

    let out = check(&w, &["附件1_熨斗初级中学_日期错.xlsx"], "错");
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("错");
    let got = got(&json, "附件1_熨斗初级中学_日期错.xlsx");
    let want: Vec<(u32, String, String, Option<String>)> = bad_rows
        .iter()
        .map(|(r, b)| {
            (
                *r,
                "BIRTHDATE_MISMATCH".to_string(),
                letter(col("birthdate")),
                Some(b.format("%Y-%m-%d").to_string()),
            )
        })
        .collect();
    let got: Vec<_> = got
        .into_iter()
        .map(|e| (e.row, e.code, e.column, e.suggestion))
        .collect();
    assert_eq!(
        got, want,
        "every date format parsed (one month off is flagged)"
    );
}

/// The header synonyms GUIDE.md lists, field by field.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "姓名",
            "学生姓名",
            "儿童姓名",
            "适龄儿童姓名",
            "学龄人口姓名",
        ],
    ),
    (
        "id",
        &[
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "公民身份证号码",
            "证件号码",
            "身份证件号",
            "身份证件号码",
            "学生身份证号",
        ],
    ),
    ("sex", &["性别"]),
    ("birthdate", &["出生日期", "出生年月", "出生年月日"]),
    (
        "village",
        &["村", "村(社区)", "行政村", "所在村", "村别", "村名"],
    ),
    ("group", &["组", "村民小组", "组别", "自然村"]),
    ("household_head", &["户主姓名", "户主"]),
    ("household_type", &["户类型", "户属性", "农户类型"]),
    (
        "status",
        &["就读状态", "就学状态", "入学情况", "在校情况", "是否在校"],
    ),
    (
        "school",
        &["就读学校", "就读学校名称", "学校名称", "在读学校"],
    ),
    ("grade", &["年级", "就读年级"]),
    (
        "reason",
        &["未在校原因", "不在校原因", "失学辍学原因", "未入学原因"],
    ),
    ("evidence", &["佐证材料", "佐证资料", "证明材料"]),
    ("surveyor", &["调查人", "摸底人", "核实人", "包联教师"]),
];

/// Header text as clerks type it: the same name with full-width brackets,
/// a space, a line break or a "（必填）" suffix.
const DECORATED: &[(&str, &str)] = &[
    ("name", "姓 名"),
    ("id", "身份证号码\n（必填）"),
    ("village", "村（社区）"),
    ("birthdate", "出生日期（必填）"),
];

/// A one-row-header survey whose `field` column is headed `header`; three
/// rows that put a finding in (nearly) every field's column.
fn synonym_survey(rng: &mut Rng, field: &str, header: &str) -> (Grid, Vec<Exp>) {
    let mut g = Grid::new("Sheet1");
    let t = g.push(vec![s("熨斗镇2022年农村义务教育阶段学龄人口摸底调查表")]);
    g.merge(t, 0, t, 17);
    let hdr: Vec<V> = SURVEY_COLS
        .iter()
        .enumerate()
        .map(|(c, h)| if c == col(field) { s(header) } else { s(h) })
        .collect();
    g.push(hdr);
    let yes_no = header == "是否在校";
    let mut want = Vec::new();
    // Row 3: name with a space, sex and birth date wrong, unknown village,
    // dropout, unreadable grade.
    let mut k = clean_kid(rng);
    let (wrong_sex, right_sex) = if k.get("sex") == s("男") {
        ("女", "男")
    } else {
        ("男", "女")
    };
    let name = "王 磊";
    let off = (k.birth + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    k.set("name", s(name))
        .set("sex", s(wrong_sex))
        .set("birthdate", s(&off))
        .set("village", s("火星村"))
        .set("status", s(if yes_no { "否" } else { "辍学" }))
        .set("reason", s("辍学在家"))
        .set("school", V::E)
        .set("grade", s("火箭班"));
    let r = g.push(k.cells.clone());
    want.push(exp(r, "name", "NAME_FORMAT", name, Some("王磊")));
    want.push(exp(r, "sex", "SEX_MISMATCH", wrong_sex, Some(right_sex)));
    let right = k.birth.format("%Y-%m-%d").to_string();
    want.push(exp(
        r,
        "birthdate",
        "BIRTHDATE_MISMATCH",
        &off,
        Some(&right),
    ));
    want.push(exp(
        r,
        "village",
        "VILLAGE_UNKNOWN",
        "火星村",
        Some("金星村"),
    ));
    want.push(exp(
        r,
        "status",
        "DROPOUT",
        if yes_no { "否" } else { "辍学" },
        None,
    ));
    want.push(exp(r, "grade", "GRADE_UNKNOWN", "火箭班", None));
    // Row 4: check digit wrong, in school without a school.
    let mut k = clean_kid(rng);
    let bad = format!(
        "{}{}",
        &k.id[..17],
        if k.id.ends_with('0') { '1' } else { '0' }
    );
    k.set("id", s(&bad))
        .set("status", s(if yes_no { "是" } else { "在校" }))
        .set("school", V::E);
    let r = g.push(k.cells.clone());
    want.push(exp(r, "id", "ID_CHECKSUM", &bad, Some(&k.id)));
    want.push(exp(r, "school", "SCHOOL_MISSING", "", None));
    // Row 5: 休学 with "无" as evidence.
    let mut k = clean_kid(rng);
    k.set("status", s(if yes_no { "否" } else { "休学" }))
        .set("reason", s("休学"))
        .set("school", V::E)
        .set("grade", V::E)
        .set("evidence", s("无"));
    let r = g.push(k.cells.clone());
    want.push(exp(r, "evidence", "EVIDENCE_MISSING", "无", None));
    want.sort();
    (g, want)
}

#[test]
fn every_header_synonym_is_recognised() {
    let w = Workdir::new("check-synonyms");
    write_config(&w);
    let mut rng = Rng::new(11);
    let mut cases: Vec<(&str, String)> = Vec::new();
    for (field, names) in SYNONYMS {
        for n in *names {
            cases.push((field, n.to_string()));
        }
    }
    for (field, n) in DECORATED {
        cases.push((field, n.to_string()));
    }
    let mut files = Vec::new();
    let mut wants = Vec::new();
    for (k, (field, header)) in cases.iter().enumerate() {
        let (g, want) = synonym_survey(&mut rng, field, header);
        let file = format!("表{k:02}.xlsx");
        w.write(&file, g.xlsx());
        files.push(file);
        wants.push(want);
    }
    // All files in one run.
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = check(&w, &args, "out");
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("out");
    let inputs = json["inputs"].as_array().unwrap();
    for (k, (field, header)) in cases.iter().enumerate() {
        let inp = inputs.iter().find(|i| i["file"] == files[k]).unwrap();
        assert_eq!(inp["header_row"], 2, "{field} as {header:?}");
        assert_eq!(inp["rows"], 3, "{field} as {header:?}");
        assert_eq!(inp["role"], "survey", "{field} as {header:?}");
        let got = got(&json, &files[k]);
        assert_eq!(
            got,
            wants[k],
            "{field} headed {header:?}\n{}",
            diff(&wants[k], &got)
        );
        if *field == "reason" {
            let dropout = findings_array(&json)
                .iter()
                .find(|f| f["file"] == files[k] && f["code"] == "DROPOUT")
                .unwrap();
            assert!(
                dropout["message"].as_str().unwrap().contains("辍学在家"),
                "reason headed {header:?} is read: {}",
                dropout["message"]
            );
        }
    }
    // Fields no single-record check looks at: the reader's column map.
    for (k, (field, header)) in cases.iter().enumerate() {
        if !["group", "household_head", "household_type", "surveyor"].contains(field) {
            continue;
        }
        let tables = taizhang::read::read_input(&w.join(&files[k]), None, None, 0).unwrap();
        let cols: BTreeMap<&str, u32> = tables[0]
            .columns
            .iter()
            .map(|(f, c)| (f.key(), *c))
            .collect();
        assert_eq!(
            cols.get(field).copied(),
            Some(col(field) as u32 + 1),
            "{field} headed {header:?}: {cols:?}"
        );
    }
}

#[test]
fn shuffled_columns_give_the_same_findings() {
    let w = Workdir::new("check-shuffled");
    write_config(&w);
    let fx = all_codes_survey(2022);
    // A seeded permutation of the columns; the preamble's merges dropped and
    // the header flattened to one row (labels of the lower row where grouped).
    let mut rng = Rng::new(99);
    let mut perm: Vec<usize> = (0..18).collect();
    for i in (1..perm.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    let mut g = Grid::new("摸底调查表");
    g.push(vec![s("附件1")]);
    g.push(vec![s("熨斗镇2022年农村义务教育阶段学龄人口摸底调查表")]);
    g.push(vec![s("填报单位：熨斗初级中学")]);
    g.push(vec![s("说明：本表按户填写")]);
    g.push(perm.iter().map(|&c| s(SURVEY_COLS[c])).collect());
    let pos_of = |c: usize| perm.iter().position(|&p| p == c).unwrap();
    for row in &fx.grid.rows[5..] {
        let mut cells = vec![V::E; 18];
        let stray = matches!(&row[0], V::S(_));
        for (c, v) in row.iter().enumerate() {
            // The 合计 / 注 / signature labels stay in column A.
            let p = if stray { c } else { pos_of(c) };
            cells[p] = v.clone();
        }
        g.push(cells);
    }
    // Merged household cells move with their column.
    for &(r0, c0, r1, c1) in &fx.grid.merges {
        if r0 > 5 && c0 == c1 {
            let p = pos_of(c0 as usize) as u16;
            g.merge(r0, p, r1, p);
        } else if r0 > 5 {
            g.merge(r0, 0, r1, 17);
        }
    }
    w.write("附件1_熨斗初级中学_乱序.xlsx", g.xlsx());
    let out = check(&w, &["附件1_熨斗初级中学_乱序.xlsx"], "out");
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("out");
    assert_eq!(json["inputs"][0]["header_row"], 5);
    let mut want: Vec<Exp> = fx
        .expected
        .iter()
        .cloned()
        .map(|mut e| {
            e.column = letter(pos_of(col(&e.field)));
            e
        })
        .collect();
    want.sort();
    let got = got(&json, "附件1_熨斗初级中学_乱序.xlsx");
    assert_eq!(got, want, "{}", diff(&want, &got));
}

/// Findings without file and sheet, for comparing formats.
fn portable(json: &Value, file: &str) -> Vec<Exp> {
    got(json, file)
}

#[test]
fn csv_gbk_and_utf8_bom_give_the_same_findings() {
    let w = Workdir::new("check-csv");
    write_config(&w);
    let fx = all_codes_survey(2022);
    // Excel writes a date cell into a csv as 2012/1/6; a bare serial number
    // in a csv is not read as a date (see the report), so the serial row is
    // written as the date Excel shows.
    let mut grid = fx.grid.clone();
    let bc = col("birthdate");
    for row in grid.rows.iter_mut().skip(5) {
        if let Some(V::N(n)) = row.get(bc).cloned() {
            row[bc] = V::D(
                NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + chrono::Duration::days(n as i64),
            );
        }
    }
    let text = grid.csv(true);
    // GB18030 (the superset Chinese Excel writes; GBK itself lacks the
    // bullet • of the odd-dot name, every other character is GBK).
    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable, "fixture text is GB18030-encodable");
    w.write("附件1_熨斗初级中学_gbk.csv", gbk.as_ref());
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    w.write("附件1_熨斗初级中学_bom.csv", &bom);
    let before = [
        checksum(w.join("附件1_熨斗初级中学_gbk.csv")),
        checksum(w.join("附件1_熨斗初级中学_bom.csv")),
    ];
    // A csv from an ID column Excel turned into numbers shows 6.10922E+17.
    let want: Vec<Exp> = fx
        .expected
        .iter()
        .cloned()
        .map(|mut e| {
            if e.code == "ID_TRUNCATED" {
                e.value = "610922000000000000".into();
            }
            e
        })
        .collect();
    for file in ["附件1_熨斗初级中学_gbk.csv", "附件1_熨斗初级中学_bom.csv"] {
        let out_dir = format!("out_{file}");
        let out = check(&w, &[file], &out_dir);
        assert_eq!(out.status, 1, "{file}\n{}", out.all());
        let json = w.findings(&out_dir);
        assert_eq!(json["inputs"][0]["header_row"], 5, "{file}");
        let got = portable(&json, file);
        assert_eq!(got, want, "{file}\n{}", diff(&want, &got));
        let stem = file.trim_end_matches(".csv");
        assert!(
            w.join(&out_dir).join(format!("{stem}.核对.xlsx")).is_file(),
            "annotated copy of {file}"
        );
        assert_no_full_ids(&out, &fx.ids);
    }
    assert_eq!(
        before,
        [
            checksum(w.join("附件1_熨斗初级中学_gbk.csv")),
            checksum(w.join("附件1_熨斗初级中学_bom.csv")),
        ],
        "csv inputs unchanged"
    );
}

/// tests/fixtures/cli/
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli")
}

/// The committed survey.xlsx (source of the LibreOffice conversions beside
/// it) is what the code builds. With `TAIZHANG_WRITE_FIXTURES=1` it is
/// rewritten first (tests/fixtures/cli/make.sh does that).
#[test]
fn committed_cli_fixture_is_the_builder_output() {
    let built = all_codes_survey(2022).grid.xlsx();
    let path = fixture_dir().join("survey.xlsx");
    if std::env::var_os("TAIZHANG_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(fixture_dir()).unwrap();
        std::fs::write(&path, &built).unwrap();
    }
    assert!(
        std::fs::read(&path).unwrap() == built,
        "tests/fixtures/cli/survey.xlsx is stale: run tests/fixtures/cli/make.sh"
    );
}

#[test]
fn xls_and_ods_conversions_give_the_same_findings_as_the_xlsx() {
    let committed = std::fs::read(fixture_dir().join("survey.xlsx")).unwrap();
    let fx = all_codes_survey(2022);
    assert!(
        committed == fx.grid.xlsx(),
        "tests/fixtures/cli/survey.xlsx is stale: run tests/fixtures/cli/make.sh"
    );
    let w = Workdir::new("check-xls-ods");
    write_config(&w);
    let mut results = Vec::new();
    for ext in ["xlsx", "xls", "ods"] {
        let file = format!("附件1_熨斗初级中学.{ext}");
        let bytes = std::fs::read(fixture_dir().join(format!("survey.{ext}"))).unwrap();
        w.write(&file, &bytes);
        let out_dir = format!("out_{ext}");
        let out = check(&w, &[&file], &out_dir);
        assert_eq!(out.status, 1, "{file}\n{}", out.all());
        assert_eq!(
            std::fs::read(w.join(&file)).unwrap(),
            bytes,
            "{file} unchanged"
        );
        assert!(
            w.join(&out_dir)
                .join("附件1_熨斗初级中学.核对.xlsx")
                .is_file(),
            "annotated copy of {file}"
        );
        let json = w.findings(&out_dir);
        assert_eq!(json["inputs"][0]["header_row"], 5, "{file}");
        assert_eq!(json["inputs"][0]["sheet"], "摸底调查表", "{file}");
        results.push((file.clone(), got(&json, &file)));
        assert_no_full_ids(&out, &fx.ids);
    }
    assert_eq!(
        results[0].1,
        fx.expected,
        "{}",
        diff(&fx.expected, &results[0].1)
    );
    for (file, g) in &results[1..] {
        assert_eq!(g, &fx.expected, "{file}\n{}", diff(&fx.expected, g));
    }

    // All three at once: stems collide, so each copy keeps its extension.
    let out = check(
        &w,
        &[
            "附件1_熨斗初级中学.xlsx",
            "附件1_熨斗初级中学.xls",
            "附件1_熨斗初级中学.ods",
        ],
        "out_all",
    );
    assert_eq!(out.status, 1);
    for ext in ["xlsx", "xls", "ods"] {
        let p = w.join(format!("out_all/附件1_熨斗初级中学.{ext}.核对.xlsx"));
        assert!(p.is_file(), "{}", p.display());
    }
    // The same children in three files: DUPLICATE_ID on the later copies.
    let json = w.findings("out_all");
    let dups = cells_with_code(&json, "DUPLICATE_ID");
    assert!(dups.iter().any(|d| d.0 == "附件1_熨斗初级中学.ods"));
}

#[test]
fn exit_2_for_bad_input_with_a_chinese_message() {
    let w = Workdir::new("check-bad");
    write_config(&w);

    // A missing file.
    let out = check(&w, &["不存在的表.xlsx"], "out");
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.stderr.contains("不存在的表.xlsx"), "{}", out.stderr);

    // Garbage with an .xlsx name.
    let mut rng = Rng::new(5);
    let junk: Vec<u8> = (0..4000).map(|_| rng.below(256) as u8).collect();
    w.write("坏文件.xlsx", &junk);
    let out = check(&w, &["坏文件.xlsx"], "out");
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.stderr.contains("坏文件.xlsx"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);

    // A workbook with no recognisable header (and an ID in its first rows).
    let mut g = Grid::new("Sheet1");
    g.push(vec![s("2022年秋季学期学生资助发放表")]);
    g.push(vec![s("编号"), s("项目"), s("金额"), s("备注")]);
    g.push(vec![
        s("1"),
        s("营养餐"),
        V::N(800.0),
        s("610922201203151234"),
    ]);
    w.write("资助表.xlsx", g.xlsx());
    let before = checksum(w.join("资助表.xlsx"));
    let out = check(&w, &["资助表.xlsx"], "out");
    assert_eq!(out.status, 2, "{}", out.all());
    for needle in ["资助表.xlsx", "表头", "姓名", "身份证号码"] {
        assert!(out.stderr.contains(needle), "{needle} in {}", out.stderr);
    }
    assert!(
        out.stderr.contains("编号"),
        "shows what was found: {}",
        out.stderr
    );
    assert!(
        full_ids_in(&out.all()).is_empty(),
        "IDs masked: {}",
        out.stderr
    );
    assert_eq!(before, checksum(w.join("资助表.xlsx")));
}

#[test]
fn help_is_chinese_with_examples() {
    let w = Workdir::new("help");
    for args in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["reconcile", "--help"],
        vec!["template", "--help"],
    ] {
        let out = w.run(&args);
        assert_eq!(out.status, 0, "{args:?}\n{}", out.all());
        for word in ["用法", "示例"] {
            assert!(
                out.stdout.contains(word),
                "{args:?}: {word}\n{}",
                out.stdout
            );
        }
    }
    let out = w.run(&["check", "--help"]);
    assert!(out.stdout.contains("taizhang check"));
    assert!(out.stdout.contains("退出码"));
}
