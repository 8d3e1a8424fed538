//! Stage 3: single-record checks, and duplicate IDs within a role.
//!
//! In: a [`Table`] and its normalised [`Record`]s, the round's [`Config`] and
//! [`VillageIndex`]. Out: [`Finding`]s, each at the exact cell of the field
//! that is wrong (row-level findings on the name cell; when the field has no
//! column, the name column, else column A), with the record's village set.
//! Nothing here needs the roster: `taizhang check` runs exactly this.

use crate::config::Config;
use crate::model::{
    Code, DateValue, Field, Finding, GradeValue, IdKind, Record, Role, Status, StatusValue, Table,
};
use crate::normalize::grade::grade_label;
use crate::normalize::name::{clean_name, format_issues};
use crate::normalize::text::{compact, is_placeholder};
use crate::normalize::village::VillageIndex;
use chrono::Datelike;
use std::collections::HashMap;

/// The column a finding about `field` goes to.
struct Ctx<'a> {
    table: &'a Table,
    rec: &'a Record,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        code: Code,
        field: Field,
        value: impl Into<String>,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) {
        let mut f = Finding::on_field(code, self.table, self.rec, field, value, message);
        f.suggestion = suggestion;
        f.village = self.rec.village.as_deref().map(String::from);
        self.out.push(f);
    }
}

/// The usual evidence for a status that needs some (from the township notice).
fn usual_evidence(s: Status) -> &'static str {
    match s {
        Status::InSchoolOut => "就读学校出具的在校证明、学籍证明",
        Status::HomeTeaching => "残疾证或诊断证明、县残疾人教育专家委员会评估意见、送教记录",
        Status::Deferred => "延缓入学申请表、县级医院证明或县残疾人教育专家委员会意见",
        Status::Suspended => "休学申请及学校或教育局批准材料",
        Status::LongLeave => "请假申请及学校批准材料",
        Status::Graduated => "毕业证或毕业记录，或高中、中职在校证明",
        Status::Dead => "死亡证明或户籍注销证明",
        Status::Missing => "村委会证明、报警回执、联系记录",
        Status::Abroad => "出入境记录或境外就学证明",
        _ => "相关证明材料",
    }
}

fn all_status_labels() -> String {
    Status::ALL
        .iter()
        .map(|s| s.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// Every single-record finding of `table`'s records (records of other
/// tables in `records` are ignored). `school_of_file` is the configured
/// school that made a survey file (see [`school_of_survey`]).
pub fn check_table(
    table: &Table,
    records: &[Record],
    cfg: &Config,
    villages: &VillageIndex,
    school_of_file: Option<&str>,
) -> Vec<Finding> {
    if table.role == Role::Stats {
        return Vec::new();
    }
    let recs: Vec<&Record> = records
        .iter()
        .filter(|r| r.table == table.index && !outside_round(r, cfg))
        .collect();
    let run = |part: &[&Record]| {
        let mut out = Vec::new();
        for &rec in part {
            let mut cx = Ctx {
                table,
                rec,
                out: Vec::new(),
            };
            check_name(&mut cx);
            check_id(&mut cx);
            check_birth_and_sex(&mut cx);
            check_age(&mut cx, cfg);
            if matches!(table.role, Role::Survey | Role::Ledger) {
                check_status(&mut cx, cfg);
            }
            check_village(&mut cx, cfg, villages, school_of_file);
            out.append(&mut cx.out);
        }
        out
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    if workers <= 1 || recs.len() < PARALLEL_MIN_RECORDS {
        return run(&recs);
    }
    // Records are checked independently: two contiguous halves on two
    // threads, findings concatenated in record order.
    let chunk = recs.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = recs
            .chunks(chunk)
            .map(|part| s.spawn(|| run(part)))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(mut part) => out.append(&mut part),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        out
    })
}

/// Below this many records a table is checked on one thread.
const PARALLEL_MIN_RECORDS: usize = 2048;

fn check_name(cx: &mut Ctx) {
    let rec = cx.rec;
    if rec.name.is_empty() {
        cx.push(
            Code::NAME_MISSING,
            Field::Name,
            rec.name_raw.clone(),
            "缺少姓名",
            None,
        );
        return;
    }
    let issues = format_issues(&rec.name_raw);
    if !issues.is_empty() {
        let (clean, _) = clean_name(&rec.name_raw);
        cx.push(
            Code::NAME_FORMAT,
            Field::Name,
            rec.name_raw.clone(),
            format!(
                "姓名“{}”{}，规范写法为“{}”",
                rec.name_raw.trim(),
                issues.join("、"),
                clean
            ),
            Some(clean),
        );
    }
}

/// The row's stated birth date is before 2000: a 15-digit ID is plausible.
fn stated_adult(rec: &Record) -> bool {
    match &rec.birth {
        DateValue::Day(d) => d.year() < 2000,
        DateValue::Month(y, _) | DateValue::JanuaryOrOctober(y) => *y < 2000,
        _ => false,
    }
}

fn check_id(cx: &mut Ctx) {
    let id = &cx.rec.id;
    let raw = id.raw.trim().to_string();
    match &id.kind {
        IdKind::Valid => {}
        IdKind::Missing => cx.push(
            Code::ID_MISSING,
            Field::Id,
            raw,
            "缺少身份证号，请按户口簿填写18位身份证号",
            None,
        ),
        IdKind::Truncated => cx.push(
            Code::ID_TRUNCATED,
            Field::Id,
            id.clean.clone(),
            format!(
                "身份证号被存成了数字，Excel只保留15位有效数字，后几位已丢失（现显示为{}）。\
                 请把该列设为文本格式，按户口簿重新录入完整号码",
                id.clean
            ),
            None,
        ),
        IdKind::Legacy15 { upgraded } => {
            // Only a person born before 2000 can hold a 15-digit ID; in a
            // child's ID column it is an error unless the stated birth date
            // says the row is an adult.
            if stated_adult(cx.rec) {
                cx.push(
                    Code::ID_LEGACY_15,
                    Field::Id,
                    raw,
                    format!(
                        "15位旧身份证号“{}”，对应的18位号码为{}，请核对后改为18位",
                        id.clean, upgraded
                    ),
                    Some(upgraded.to_string()),
                );
            } else {
                cx.push(
                    Code::ID_FORMAT,
                    Field::Id,
                    raw,
                    format!(
                        "身份证号“{}”只有15位：15位旧号码只有1999年以前出生的成年人才有，\
                         儿童的身份证号应为18位，请按户口簿重新填写",
                        id.clean
                    ),
                    None,
                );
            }
        }
        IdKind::BadFormat => {
            let n = id.clean.chars().count();
            let detail = if id.clean.chars().all(|c| c.is_ascii_digit()) {
                format!("现为{n}位")
            } else {
                format!("现为{n}个字符且含非数字字符")
            };
            cx.push(
                Code::ID_FORMAT,
                Field::Id,
                raw.clone(),
                format!(
                    "身份证号格式错误：应为18位（前17位为数字，最后一位为数字或X），{detail}：“{raw}”"
                ),
                None,
            );
        }
        IdKind::BadChecksum { expected } => {
            let actual = id.clean.chars().nth(17).unwrap_or(' ');
            let fixed = format!("{}{}", id.clean.get(..17).unwrap_or_default(), expected);
            cx.push(
                Code::ID_CHECKSUM,
                Field::Id,
                raw,
                format!(
                    "身份证号校验位错误：第18位应为{expected}，现为{actual}。\
                     也可能是前17位录错了数字，请按户口簿核对"
                ),
                Some(fixed),
            );
        }
        IdKind::BadDate => {
            let digits = crate::gb11643::birth_digits(&id.clean).unwrap_or_default();
            cx.push(
                Code::ID_BAD_DATE,
                Field::Id,
                raw,
                format!("身份证号中的出生日期{digits}不是真实存在的日期，请按户口簿核对"),
                None,
            );
        }
    }
}

fn check_birth_and_sex(cx: &mut Ctx) {
    let rec = cx.rec;
    let trusted = match rec.id.kind {
        IdKind::Valid => true,
        IdKind::Legacy15 { .. } => stated_adult(rec),
        _ => false,
    };
    if !trusted {
        return;
    }
    if let Some(id_birth) = rec.id.birth_date() {
        let id_day = DateValue::Day(id_birth);
        let shown = id_birth.format("%Y-%m-%d").to_string();
        let raw = rec.birth_raw.clone();
        match &rec.birth {
            DateValue::Unparsed(s) => cx.push(
                Code::BIRTHDATE_MISMATCH,
                Field::Birthdate,
                raw,
                format!("出生日期“{s}”无法识别，身份证号中的出生日期为{shown}"),
                Some(shown),
            ),
            stated
            @ (DateValue::Day(_) | DateValue::Month(..) | DateValue::JanuaryOrOctober(_)) => {
                if stated.agrees(&id_day) == Some(false) {
                    cx.push(
                        Code::BIRTHDATE_MISMATCH,
                        Field::Birthdate,
                        raw,
                        format!(
                            "出生日期{}与身份证号中的出生日期{shown}不符",
                            stated.display()
                        ),
                        Some(shown),
                    );
                }
            }
            DateValue::Missing => {}
        }
    }
    if let (Some(stated), Some(by_id)) = (rec.sex, rec.id.sex())
        && stated != by_id
    {
        let digit = rec
            .id
            .dated18()
            .and_then(crate::gb11643::sex_digit)
            .unwrap_or(' ');
        cx.push(
            Code::SEX_MISMATCH,
            Field::Sex,
            rec.sex_raw.to_string(),
            format!(
                "性别填为“{}”，但身份证号的性别位（18位号码第17位）为{digit}（单数为男，双数为女），应为{}",
                rec.sex_raw.trim(),
                by_id.label_zh()
            ),
            Some(by_id.label_zh().to_string()),
        );
    }
}

fn check_age(cx: &mut Ctx, cfg: &Config) {
    let rec = cx.rec;
    let Some(birth) = rec.effective_birth() else {
        return;
    };
    if cfg.in_window(birth) {
        return;
    }
    let age = cfg.age_on_cutoff(birth);
    let (field, value, shown, source) = if rec.id.is_valid() {
        (
            Field::Id,
            rec.id.raw.trim().to_string(),
            birth.format("%Y-%m-%d").to_string(),
            "身份证号中的出生日期",
        )
    } else {
        (
            Field::Birthdate,
            rec.birth_raw.to_string(),
            rec.birth.display(),
            "出生日期",
        )
    };
    cx.push(
        Code::OUT_OF_AGE_RANGE,
        field,
        value,
        format!(
            "{source}{shown}不在本次核查的年龄段内（应在{}至{}之间出生），{}年8月31日时{age}周岁",
            cfg.born_from.format("%Y-%m-%d"),
            cfg.born_to.format("%Y-%m-%d"),
            cfg.school_year
        ),
        None,
    );
}

fn age_of(rec: &Record, cfg: &Config) -> Option<i32> {
    rec.effective_birth().map(|b| cfg.age_on_cutoff(b))
}

fn check_status(cx: &mut Ctx, cfg: &Config) {
    let rec = cx.rec;
    let age = age_of(rec, cfg);
    let status_raw = rec.status_raw.trim().to_string();
    match &rec.status {
        StatusValue::Missing => cx.push(
            Code::STATUS_MISSING,
            Field::Status,
            status_raw,
            "缺少就读状态",
            None,
        ),
        StatusValue::Unknown(s) => cx.push(
            Code::STATUS_UNKNOWN,
            Field::Status,
            status_raw.clone(),
            format!(
                "就读状态“{s}”无法识别{}，应为以下之一：{}{}",
                if rec.reason.is_empty() {
                    String::new()
                } else {
                    format!("（未在校原因：“{}”）", rec.reason)
                },
                all_status_labels(),
                crate::normalize::status::unknown_hint(s)
                    .or_else(|| crate::normalize::status::unknown_hint(&rec.reason))
                    .map(|h| format!("。{h}"))
                    .unwrap_or_default()
            ),
            None,
        ),
        StatusValue::Known(s) => {
            let s = *s;
            let label = s.label_zh();
            if s.needs_evidence() && is_placeholder(&rec.evidence) {
                cx.push(
                    Code::EVIDENCE_MISSING,
                    Field::Evidence,
                    rec.evidence.to_string(),
                    format!(
                        "就读状态为“{label}”，需要佐证材料（{}），但佐证材料{}",
                        usual_evidence(s),
                        if rec.evidence.is_empty() {
                            "为空".to_string()
                        } else {
                            format!("填的是“{}”", rec.evidence)
                        }
                    ),
                    None,
                );
            }
            if s.in_school() {
                if is_placeholder(&rec.school) {
                    cx.push(
                        Code::SCHOOL_MISSING,
                        Field::School,
                        rec.school.to_string(),
                        format!("就读状态为“{label}”，但没有填写就读学校"),
                        None,
                    );
                }
                // A poverty-aid ledger gives the 学段, not the grade.
                let stage_only = !cx.table.columns.contains_key(&Field::Grade)
                    && cx.table.columns.contains_key(&Field::Stage);
                if rec.grade == GradeValue::Missing && !stage_only {
                    cx.push(
                        Code::SCHOOL_MISSING,
                        Field::Grade,
                        "",
                        format!("就读状态为“{label}”，但没有填写年级"),
                        None,
                    );
                }
            }
            if s.is_dropout() {
                cx.push(
                    Code::DROPOUT,
                    Field::Status,
                    status_raw.clone(),
                    format!(
                        "{label}{}：需列入控辍保学筛查预警清单并落实劝返",
                        if rec.reason.is_empty() {
                            String::new()
                        } else {
                            format!("（原因：{}）", rec.reason)
                        }
                    ),
                    None,
                );
            }
            if let Some(age) = age {
                if s == Status::Graduated && age <= 14 {
                    cx.push(
                        Code::STATUS_AGE,
                        Field::Status,
                        status_raw.clone(),
                        format!(
                            "就读状态为“初中已毕业”，但{}年8月31日时只有{age}周岁，\
                             按年龄应在读义务教育，请核实",
                            cfg.school_year
                        ),
                        None,
                    );
                }
                if s == Status::Deferred && age >= 8 {
                    cx.push(
                        Code::STATUS_AGE,
                        Field::Status,
                        status_raw.clone(),
                        format!(
                            "就读状态为“延缓入学”，但{}年8月31日时已{age}周岁；\
                             延缓入学只在入学时申请且最多一年，请核实",
                            cfg.school_year
                        ),
                        None,
                    );
                }
            }
        }
    }
    // Grades: a child known to be out of school may carry the grade they left.
    let attends = match &rec.status {
        StatusValue::Known(s) => s.in_school(),
        _ => true,
    };
    match &rec.grade {
        GradeValue::Unknown(g) => cx.push(
            Code::GRADE_UNKNOWN,
            Field::Grade,
            rec.grade_raw.trim().to_string(),
            format!("年级“{g}”无法识别，应写作一年级…九年级、初一…初三、高一…高三或中职"),
            None,
        ),
        GradeValue::Known(g) if attends => {
            if let Some(age) = age {
                let expected = age - 5;
                let diff = (*g as i32 - expected).abs();
                if diff > 2 {
                    let suggestion = (1..=12)
                        .contains(&expected)
                        .then(|| grade_label(expected as u8));
                    cx.push(
                        Code::GRADE_AGE,
                        Field::Grade,
                        rec.grade_raw.trim().to_string(),
                        format!(
                            "年级“{}”与年龄不符：{}年8月31日时{age}周岁，按年龄应读{}，相差{diff}个年级",
                            rec.grade_raw.trim(),
                            cfg.school_year,
                            if (1..=12).contains(&expected) {
                                grade_label(expected as u8)
                            } else {
                                "学前".to_string()
                            }
                        ),
                        suggestion,
                    );
                }
            }
        }
        _ => {}
    }
}

fn check_village(
    cx: &mut Ctx,
    cfg: &Config,
    villages: &VillageIndex,
    school_of_file: Option<&str>,
) {
    let rec = cx.rec;
    if !villages.is_configured() || !cx.table.columns.contains_key(&Field::Village) {
        return;
    }
    let raw = rec.village_raw.trim().to_string();
    let Some(village) = &rec.village else {
        if compact(&raw).is_empty() {
            cx.push(
                Code::VILLAGE_UNKNOWN,
                Field::Village,
                raw,
                "缺少村（社区）",
                None,
            );
        } else {
            let near = villages.closest(&raw);
            let hint = near
                .as_ref()
                .map(|n| format!("，是否应为“{n}”？"))
                .unwrap_or_else(|| {
                    format!("。本次配置的村（社区）有：{}", villages.names().join("、"))
                });
            cx.push(
                Code::VILLAGE_UNKNOWN,
                Field::Village,
                raw.clone(),
                format!("村（社区）“{raw}”不在本镇配置的村（社区）名单中{hint}"),
                near,
            );
        }
        return;
    };
    if cx.table.role != Role::Survey {
        return;
    }
    if let (Some(file_school), Some(assigned)) = (school_of_file, cfg.school_of(village))
        && assigned != file_school
    {
        cx.push(
            Code::VILLAGE_WRONG_SCHOOL,
            Field::Village,
            raw,
            format!("{village}由{assigned}负责摸底，不属于本表填报单位{file_school}的包联范围"),
            None,
        );
    }
}

/// DUPLICATE_ID: the same ID twice within one role, across all files, on
/// every later copy (tables in the order given, then rows), `related`
/// pointing at the first. Missing and truncated IDs are not compared
/// (different children share what Excel shows).
/// A roster row born outside the age window (birth date from the ID when
/// valid, else the stated one) is not a child of the round: whole-household
/// exports list parents, pre-school children and 16–17-year-olds beside
/// the children. Such a row is skipped and counted, never checked, linked
/// or derived.
/// Without a valid ID or a stated date, the date inside a 15-digit or
/// mistyped ID still tells (a 15-digit ID is an adult's).
pub fn outside_round(rec: &Record, cfg: &Config) -> bool {
    rec.role == Role::Roster
        && rec
            .effective_birth()
            .or_else(|| rec.id.birth_date())
            .is_some_and(|b| !cfg.in_window(b))
}

/// [`check_duplicates`] over the children of the round: roster rows
/// [`outside_round`] are left out.
pub fn check_duplicates_in_round(
    tables: &[Table],
    records: &[Record],
    cfg: &Config,
) -> Vec<Finding> {
    duplicates(tables, records, |r| !outside_round(r, cfg))
}

pub fn check_duplicates(tables: &[Table], records: &[Record]) -> Vec<Finding> {
    duplicates(tables, records, |_| true)
}

fn duplicates(
    tables: &[Table],
    records: &[Record],
    keep: impl Fn(&Record) -> bool,
) -> Vec<Finding> {
    let mut by_table: HashMap<usize, Vec<&Record>> = HashMap::new();
    for r in records.iter().filter(|r| keep(r)) {
        by_table.entry(r.table).or_default().push(r);
    }
    let mut first: HashMap<(Role, &str), (&Table, u32)> = HashMap::new();
    let mut out = Vec::new();
    for table in tables {
        let Some(recs) = by_table.get_mut(&table.index) else {
            continue;
        };
        recs.sort_by_key(|r| r.row);
        for rec in recs.iter() {
            if !matches!(
                rec.id.kind,
                IdKind::Valid
                    | IdKind::BadChecksum { .. }
                    | IdKind::BadDate
                    | IdKind::Legacy15 { .. }
            ) {
                continue;
            }
            let key = (table.role, rec.id.clean.as_str());
            match first.get(&key) {
                None => {
                    first.insert(key, (table, rec.row));
                }
                Some((ft, frow)) => {
                    let place = if ft.input == table.input && ft.sheet == table.sheet {
                        format!("本表第{frow}行")
                    } else {
                        format!("{}（{}）第{frow}行", ft.file, ft.sheet)
                    };
                    let mut f = Finding::at(
                        Code::DUPLICATE_ID,
                        table,
                        rec.row,
                        table.column_of(Field::Id),
                        Some(Field::Id),
                        rec.id.raw.trim(),
                        format!("身份证号与{place}重复，同一人登记了两次"),
                    )
                    .with_related(ft.loc(*frow));
                    f.village = rec.village.as_deref().map(String::from);
                    out.push(f);
                }
            }
        }
    }
    out
}

/// The configured school that made a survey file: the one named on the
/// 填报单位 line of the preamble, else in the file name, else in the sheet
/// name, else anywhere in the title rows. The longest name wins when several match.
pub fn school_of_survey(table: &Table, cfg: &Config) -> Option<String> {
    let mut schools: Vec<&str> = cfg.schools.iter().map(|s| s.name.as_str()).collect();
    schools.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    let find = |text: &str| -> Option<String> {
        let t = compact(text);
        schools
            .iter()
            .find(|s| !compact(s).is_empty() && t.contains(&compact(s)))
            .map(|s| s.to_string())
    };
    let unit_line = table
        .preamble
        .lines()
        .filter(|l| compact(l).contains("填报单位"))
        .find_map(find);
    unit_line
        .or_else(|| find(&table.file))
        .or_else(|| find(&table.sheet))
        .or_else(|| find(&table.preamble))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SchoolConfig;
    use crate::gb11643::check_digit;
    use crate::model::{Cell, Format, RawRow, RawValue};
    use crate::normalize::normalize_table;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// A fake ID for county 610922 with a correct check digit.
    fn fake(birth: &str, seq: &str) -> String {
        let first17 = format!("610922{birth}{seq}");
        format!("{first17}{}", check_digit(&first17).unwrap())
    }

    /// The 附件1 survey layout, columns A..R.
    const SURVEY: [Field; 18] = [
        Field::Seq,
        Field::Village,
        Field::Group,
        Field::HouseholdHead,
        Field::HouseholdType,
        Field::Name,
        Field::Sex,
        Field::Id,
        Field::Birthdate,
        Field::Status,
        Field::School,
        Field::Grade,
        Field::Reason,
        Field::Evidence,
        Field::Guardian,
        Field::Phone,
        Field::Surveyor,
        Field::Remark,
    ];

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    /// A good survey row of a boy born 2010-05-03 (12 on 2022-08-31: grade 7).
    fn good() -> Vec<(Field, Cell)> {
        vec![
            (Field::Village, t("金星村")),
            (Field::Name, t("王小明")),
            (Field::Sex, t("男")),
            (Field::Id, t(&fake("20100503", "131"))),
            (Field::Birthdate, t("2010-05-03")),
            (Field::Status, t("在校(本县)")),
            (Field::School, t("熨斗初级中学")),
            (Field::Grade, t("七年级")),
        ]
    }

    fn with(mut row: Vec<(Field, Cell)>, f: Field, c: Cell) -> Vec<(Field, Cell)> {
        row.retain(|(g, _)| *g != f);
        row.push((f, c));
        row
    }

    fn table_of(
        index: usize,
        file: &str,
        role: Role,
        layout: &[Field],
        rows: Vec<Vec<(Field, Cell)>>,
    ) -> Table {
        let columns: BTreeMap<Field, u32> = layout
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, i as u32 + 1))
            .collect();
        let rows: Vec<RawRow> = rows
            .into_iter()
            .enumerate()
            .map(|(i, cells)| RawRow {
                row: i as u32 + 4,
                values: cells
                    .into_iter()
                    .filter_map(|(f, cell)| columns.get(&f).map(|&col| (f, RawValue { col, cell })))
                    .collect(),
            })
            .collect();
        Table {
            index,
            input: crate::model::InputId(index),
            path: PathBuf::from(file),
            file: file.into(),
            format: Format::Xlsx,
            sheet: "Sheet1".into(),
            role,
            header_row: 3,
            columns,
            row_count: rows.len(),
            rows,
            preamble: String::new(),
            skipped: 0,
        }
    }

    fn cfg() -> Config {
        let mut c = Config::for_school_year(2022);
        c.schools = vec![
            SchoolConfig {
                name: "熨斗初级中学".into(),
                villages: vec!["金星村".into(), "双坪村".into()],
            },
            SchoolConfig {
                name: "熨斗镇中心小学".into(),
                villages: vec!["中河村".into(), "瓦子沟村".into()],
            },
        ];
        c
    }

    fn run_role(role: Role, rows: Vec<Vec<(Field, Cell)>>, school: Option<&str>) -> Vec<Finding> {
        let cfg = cfg();
        let ix = VillageIndex::from_config(&cfg);
        let tab = table_of(0, "附件1.xlsx", role, &SURVEY, rows);
        let recs = normalize_table(&tab, &ix);
        check_table(&tab, &recs, &cfg, &ix, school)
    }

    fn run(row: Vec<(Field, Cell)>) -> Vec<Finding> {
        run_role(Role::Survey, vec![row], None)
    }

    fn codes(fs: &[Finding]) -> Vec<&'static str> {
        fs.iter().map(|f| f.code.as_str()).collect()
    }

    fn only(fs: &[Finding], code: Code) -> &Finding {
        let hits: Vec<&Finding> = fs.iter().filter(|f| f.code == code).collect();
        assert_eq!(hits.len(), 1, "{code:?} in {:?}", codes(fs));
        hits[0]
    }

    #[test]
    fn a_good_row_has_no_findings() {
        assert_eq!(codes(&run(good())), Vec::<&str>::new());
    }

    #[test]
    fn id_missing_and_format() {
        let f = run(with(good(), Field::Id, Cell::Empty));
        assert_eq!(codes(&f), vec!["ID_MISSING"]);
        assert_eq!((f[0].column.as_str(), f[0].row), ("H", 4));
        assert_eq!(f[0].field, "id");
        assert_eq!(f[0].village.as_deref(), Some("金星村"));

        let f = run(with(good(), Field::Id, t("61092220100503")));
        let x = only(&f, Code::ID_FORMAT);
        assert!(x.message.contains("现为14位"), "{}", x.message);
        assert_eq!(x.value, "61092220100503");
    }

    #[test]
    fn id_checksum_suggests_the_right_digit() {
        let id = fake("20100503", "131");
        let last = id.chars().last().unwrap();
        let wrong = if last == '5' { '4' } else { '5' };
        let bad = format!("{}{wrong}", &id[..17]);
        let f = run(with(good(), Field::Id, t(&bad)));
        // A bad check digit does not make the birth date or sex suspicious.
        assert_eq!(codes(&f), vec!["ID_CHECKSUM"]);
        assert_eq!(f[0].suggestion.as_deref(), Some(id.as_str()));
        assert!(
            f[0].message.starts_with(&format!(
                "身份证号校验位错误：第18位应为{last}，现为{wrong}"
            )),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn id_bad_date() {
        let first17 = "61092220100231131";
        let id = format!("{first17}{}", check_digit(first17).unwrap());
        let f = run(with(good(), Field::Id, t(&id)));
        let x = only(&f, Code::ID_BAD_DATE);
        assert!(x.message.contains("20100231"), "{}", x.message);
    }

    #[test]
    fn number_ids_are_truncated_only() {
        let id = (100..200)
            .map(|s| fake("20100503", &s.to_string()))
            .find(|id| !id.ends_with('X'))
            .unwrap();
        let f = run(with(good(), Field::Id, Cell::Number(id.parse().unwrap())));
        assert_eq!(codes(&f), vec!["ID_TRUNCATED"]);
        assert_eq!(f[0].value, format!("{}000", &id[..15]));
        assert!(f[0].suggestion.is_none());
    }

    #[test]
    fn fifteen_digit_ids() {
        // In a child's row: an error.
        let f = run(with(good(), Field::Id, t("610922100503131")));
        assert_eq!(codes(&f), vec!["ID_FORMAT"]);
        assert!(f[0].message.contains("15位"), "{}", f[0].message);
        // A row that states an adult's birth date: the legacy warning.
        let row = with(good(), Field::Id, t("110105491231002"));
        let row = with(row, Field::Birthdate, t("1949-12-31"));
        let row = with(row, Field::Sex, t("女"));
        let f = run_role(Role::Survey, vec![row.clone()], None);
        let x = only(&f, Code::ID_LEGACY_15);
        assert_eq!(x.suggestion.as_deref(), Some("11010519491231002X"));
        assert_eq!(x.severity, crate::model::Severity::Warning);
        assert!(!codes(&f).contains(&"SEX_MISMATCH"));
        assert!(!codes(&f).contains(&"BIRTHDATE_MISMATCH"));
        // On a roster, an adult is no child of the round: skipped, not checked.
        let f = run_role(Role::Roster, vec![row.clone()], None);
        assert_eq!(codes(&f), Vec::<&str>::new());
        // Also without a stated date: the 15-digit ID's own date tells.
        let row = with(row, Field::Birthdate, Cell::Empty);
        let f = run_role(Role::Roster, vec![row], None);
        assert_eq!(codes(&f), Vec::<&str>::new());
    }

    #[test]
    fn names() {
        let f = run(with(good(), Field::Name, Cell::Empty));
        assert_eq!(codes(&f), vec!["NAME_MISSING"]);
        assert_eq!(f[0].column, "F");
        let f = run(with(good(), Field::Name, t("王 小明")));
        let x = only(&f, Code::NAME_FORMAT);
        assert_eq!(x.suggestion.as_deref(), Some("王小明"));
        assert_eq!(x.value, "王 小明");
        let f = run(with(good(), Field::Name, t("  王小明 ")));
        assert!(f.is_empty(), "{:?}", codes(&f));
        let f = run(with(good(), Field::Name, t("阿依•木沙")));
        assert_eq!(
            only(&f, Code::NAME_FORMAT).suggestion.as_deref(),
            Some("阿依·木沙")
        );
    }

    #[test]
    fn birthdate_mismatch() {
        let f = run(with(good(), Field::Birthdate, t("2010-05-04")));
        let x = only(&f, Code::BIRTHDATE_MISMATCH);
        assert_eq!(x.column, "I");
        assert_eq!(x.suggestion.as_deref(), Some("2010-05-03"));
        assert!(x.message.contains("2010-05-04"), "{}", x.message);
        // Month-only compares year and month.
        assert!(run(with(good(), Field::Birthdate, t("2010.5"))).is_empty());
        let f = run(with(good(), Field::Birthdate, t("2010.6")));
        only(&f, Code::BIRTHDATE_MISMATCH);
        // A real date cell (Excel serial) that agrees.
        assert!(run(with(good(), Field::Birthdate, Cell::Date(40301.0))).is_empty());
    }

    #[test]
    fn sex_mismatch() {
        let f = run(with(good(), Field::Sex, t("女")));
        let x = only(&f, Code::SEX_MISMATCH);
        assert_eq!(x.column, "G");
        assert_eq!(x.suggestion.as_deref(), Some("男"));
        assert!(run(with(good(), Field::Sex, Cell::Number(1.0))).is_empty());
    }

    #[test]
    fn out_of_age_range_on_the_deciding_cell() {
        let row = with(good(), Field::Id, t(&fake("20050503", "131")));
        let row = with(row, Field::Birthdate, t("2005-05-03"));
        let row = with(row, Field::Grade, t("高一"));
        let f = run(row);
        let x = only(&f, Code::OUT_OF_AGE_RANGE);
        assert_eq!(x.column, "H");
        assert!(
            x.message.contains("2006-09-01至2016-08-31"),
            "{}",
            x.message
        );
        assert!(x.message.contains("17周岁"), "{}", x.message);
        // Without a valid ID the stated date decides.
        let row = with(good(), Field::Id, Cell::Empty);
        let row = with(row, Field::Birthdate, t("2017-01-01"));
        let f = run(row);
        assert_eq!(only(&f, Code::OUT_OF_AGE_RANGE).column, "I");
        // Boundaries are inclusive.
        let row = with(good(), Field::Id, t(&fake("20060901", "131")));
        let row = with(row, Field::Birthdate, Cell::Empty);
        let row = with(row, Field::Grade, t("九年级"));
        assert!(run(row).is_empty());
    }

    #[test]
    fn status_missing_and_unknown() {
        let f = run(with(good(), Field::Status, Cell::Empty));
        assert_eq!(codes(&f), vec!["STATUS_MISSING"]);
        assert_eq!(f[0].column, "J");
        let f = run(with(good(), Field::Status, t("待核实")));
        let x = only(&f, Code::STATUS_UNKNOWN);
        assert!(x.message.contains("待核实"), "{}", x.message);
        // 免学 is no status of the round: the message says what to write instead.
        let f = run(with(good(), Field::Status, t("免学")));
        let x = only(&f, Code::STATUS_UNKNOWN);
        assert!(
            x.message.contains("送教上门") && x.message.contains("延缓入学"),
            "{}",
            x.message
        );
        assert!(x.message.contains("佐证材料"), "{}", x.message);
        // 否 with a reason that names a status.
        let row = with(good(), Field::Status, t("否"));
        let row = with(row, Field::Reason, t("辍学在家"));
        let f = run(row);
        only(&f, Code::DROPOUT);
        assert!(!codes(&f).contains(&"STATUS_UNKNOWN"));
    }

    #[test]
    fn evidence_missing() {
        let row = with(good(), Field::Status, t("在校（县外）"));
        let f = run(row.clone());
        let x = only(&f, Code::EVIDENCE_MISSING);
        assert_eq!(x.column, "N");
        assert!(x.message.contains("在校证明"), "{}", x.message);
        let f = run(with(row.clone(), Field::Evidence, t("无")));
        only(&f, Code::EVIDENCE_MISSING);
        assert!(run(with(row, Field::Evidence, t("在校证明"))).is_empty());
        // Statuses that need none.
        for s in ["在校(本县)", "随班就读"] {
            assert!(run(with(good(), Field::Status, t(s))).is_empty(), "{s}");
        }
    }

    #[test]
    fn school_missing_names_the_missing_cell() {
        let row = with(good(), Field::School, Cell::Empty);
        let row = with(row, Field::Grade, Cell::Empty);
        let f = run(row);
        assert_eq!(codes(&f), vec!["SCHOOL_MISSING", "SCHOOL_MISSING"]);
        assert_eq!(f[0].column, "K");
        assert_eq!(f[0].field, "school");
        assert_eq!(f[1].column, "L");
        assert_eq!(f[1].field, "grade");
        // Not in school: no school needed.
        let row = with(good(), Field::Status, t("辍学"));
        let row = with(row, Field::School, Cell::Empty);
        assert_eq!(codes(&run(row)), vec!["DROPOUT"]);
    }

    #[test]
    fn grades() {
        let f = run(with(good(), Field::Grade, t("三年级")));
        let x = only(&f, Code::GRADE_AGE);
        assert_eq!(x.suggestion.as_deref(), Some("七年级"));
        assert_eq!(x.column, "L");
        // Two grades off is tolerated.
        assert!(run(with(good(), Field::Grade, t("五年级"))).is_empty());
        assert!(run(with(good(), Field::Grade, t("初三"))).is_empty());
        let f = run(with(good(), Field::Grade, t("大班")));
        assert_eq!(codes(&f), vec!["GRADE_UNKNOWN"]);
    }

    #[test]
    fn status_age() {
        let row = with(good(), Field::Status, t("初中已毕业"));
        let row = with(row, Field::Evidence, t("毕业证"));
        let f = run(row);
        assert_eq!(codes(&f), vec!["STATUS_AGE"]);
        let row = with(good(), Field::Status, t("延缓入学"));
        let row = with(row, Field::Evidence, t("申请表"));
        let f = run(row);
        assert_eq!(codes(&f), vec!["STATUS_AGE"]);
        // A 6-year-old may be deferred.
        let row = with(good(), Field::Id, t(&fake("20160503", "131")));
        let row = with(row, Field::Birthdate, Cell::Empty);
        let row = with(row, Field::Status, t("延缓入学"));
        let row = with(row, Field::Evidence, t("申请表"));
        let row = with(row, Field::Grade, Cell::Empty);
        assert!(run(row).is_empty());
    }

    #[test]
    fn dropout_is_a_notice() {
        let row = with(good(), Field::Status, t("失学"));
        let row = with(row, Field::Reason, t("厌学"));
        let f = run(row);
        let x = only(&f, Code::DROPOUT);
        assert_eq!(x.severity, crate::model::Severity::Notice);
        assert!(x.message.contains("厌学"));
    }

    #[test]
    fn roster_rows_get_no_status_checks() {
        let row = with(good(), Field::Status, Cell::Empty);
        let row = with(row, Field::Grade, t("三年级"));
        assert!(run_role(Role::Roster, vec![row], None).is_empty());
    }

    #[test]
    fn villages() {
        let f = run(with(good(), Field::Village, t("金心村")));
        let x = only(&f, Code::VILLAGE_UNKNOWN);
        assert_eq!(x.suggestion.as_deref(), Some("金星村"));
        assert_eq!(x.column, "B");
        assert!(x.village.is_none());
        assert!(run(with(good(), Field::Village, t("熨斗镇金星"))).is_empty());
        // Not configured: nothing to check against.
        let cfg = Config::for_school_year(2022);
        let ix = VillageIndex::from_config(&cfg);
        let tab = table_of(
            0,
            "a.xlsx",
            Role::Survey,
            &SURVEY,
            vec![with(good(), Field::Village, t("金心村"))],
        );
        let recs = normalize_table(&tab, &ix);
        assert!(check_table(&tab, &recs, &cfg, &ix, None).is_empty());
    }

    #[test]
    fn wrong_school() {
        let row = with(good(), Field::Village, t("中河村"));
        let f = run_role(Role::Survey, vec![row.clone()], Some("熨斗初级中学"));
        let x = only(&f, Code::VILLAGE_WRONG_SCHOOL);
        assert!(x.message.contains("熨斗镇中心小学"), "{}", x.message);
        assert!(run_role(Role::Survey, vec![row.clone()], Some("熨斗镇中心小学")).is_empty());
        assert!(run_role(Role::Ledger, vec![row.clone()], Some("熨斗初级中学")).is_empty());
        assert!(run_role(Role::Survey, vec![row], None).is_empty());
        // VILLAGE_UNKNOWN excludes VILLAGE_WRONG_SCHOOL.
        let row = with(good(), Field::Village, t("中和"));
        let f = run_role(Role::Survey, vec![row], Some("熨斗初级中学"));
        assert_eq!(codes(&f), vec!["VILLAGE_UNKNOWN"]);
    }

    #[test]
    fn missing_column_falls_back_to_the_name_column() {
        let layout = [Field::Name, Field::Id, Field::Sex];
        let cfg = cfg();
        let ix = VillageIndex::from_config(&cfg);
        let tab = table_of(0, "a.xlsx", Role::Survey, &layout, vec![good()]);
        let recs = normalize_table(&tab, &ix);
        let f = check_table(&tab, &recs, &cfg, &ix, None);
        let x = only(&f, Code::STATUS_MISSING);
        assert_eq!(x.column, "A");
        assert_eq!(x.field, "status");
        let layout = [Field::Id];
        let tab = table_of(0, "a.xlsx", Role::Roster, &layout, vec![good()]);
        let recs = normalize_table(&tab, &ix);
        let f = check_table(&tab, &recs, &cfg, &ix, None);
        let x = only(&f, Code::NAME_MISSING);
        assert_eq!(x.column, "A");
    }

    #[test]
    fn duplicates_across_files_within_a_role() {
        let cfg = cfg();
        let ix = VillageIndex::from_config(&cfg);
        let other = with(good(), Field::Id, t(&fake("20100503", "151")));
        let a = table_of(
            3,
            "附件1_甲.xlsx",
            Role::Survey,
            &SURVEY,
            vec![good(), other],
        );
        let b = table_of(
            4,
            "附件1_乙.xlsx",
            Role::Survey,
            &SURVEY,
            vec![good(), good()],
        );
        let r = table_of(5, "名单.xlsx", Role::Roster, &SURVEY, vec![good()]);
        let tables = vec![a, b, r];
        let recs: Vec<Record> = tables
            .iter()
            .flat_map(|t| normalize_table(t, &ix))
            .collect();
        let f = check_duplicates(&tables, &recs);
        assert_eq!(codes(&f), vec!["DUPLICATE_ID", "DUPLICATE_ID"]);
        for x in &f {
            assert_eq!(x.file, "附件1_乙.xlsx");
            assert_eq!(x.column, "H");
            assert_eq!(
                x.related,
                vec![crate::model::Loc {
                    file: "附件1_甲.xlsx".into(),
                    sheet: "Sheet1".into(),
                    row: 4,
                    input: crate::model::InputId(3),
                    column: String::new(),
                }]
            );
        }
        assert_eq!((f[0].row, f[1].row), (4, 5));
        // Given in the other order, the first file's copy is the original.
        let rev = vec![tables[1].clone(), tables[0].clone()];
        let f = check_duplicates(&rev, &recs);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].file.as_str(), f[0].row), ("附件1_乙.xlsx", 5));
        assert!(f[0].message.contains("本表第4行"), "{}", f[0].message);
        assert_eq!((f[1].file.as_str(), f[1].row), ("附件1_甲.xlsx", 4));
    }

    #[test]
    fn truncated_ids_are_not_duplicates() {
        let cfg = cfg();
        let ix = VillageIndex::from_config(&cfg);
        let row = with(good(), Field::Id, Cell::Number(610922201005031234.0));
        let row2 = with(good(), Field::Id, Cell::Number(610922201005031255.0));
        let a = table_of(0, "a.xlsx", Role::Survey, &SURVEY, vec![row, row2]);
        let recs = normalize_table(&a, &ix);
        assert!(check_duplicates(&[a], &recs).is_empty());
    }

    #[test]
    fn school_of_a_survey_file() {
        let cfg = cfg();
        let mut tab = table_of(0, "附件1.xlsx", Role::Survey, &SURVEY, vec![]);
        assert_eq!(school_of_survey(&tab, &cfg), None);
        tab.preamble =
            "农村适龄儿童摸底调查表\n填报单位：熨斗镇中心小学   填报日期：2022年10月17日".into();
        assert_eq!(
            school_of_survey(&tab, &cfg).as_deref(),
            Some("熨斗镇中心小学")
        );
        tab.preamble = "摸底调查表\n填报单位：（盖章）".into();
        tab.file = "附件1_熨斗初级中学.xlsx".into();
        assert_eq!(
            school_of_survey(&tab, &cfg).as_deref(),
            Some("熨斗初级中学")
        );
    }
}
