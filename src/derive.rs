//! Stage 5: what the round's annexes should say, derived from the roster and
//! the linked survey rows, and the checks of hand-filled annexes against it.
//!
//! In: the run's tables and records, the roster↔survey pairs and (when
//! given) the roster↔ledger pairs. Out: [`LedgerRow`]s (附件2, one per roster
//! child), [`StatsRow`]s (附件3, one per village plus 合计), [`WarningRow`]s
//! (the warning list), and the findings LEDGER_MISSING_CHILD, LEDGER_DIFFERS
//! and STATS_DIFFERS. Guarantees: every roster child is in exactly one ledger
//! row; every child with a known status counts in exactly one statistics
//! column, so 学龄人口数 equals the sum of the others on every row.

use crate::config::Config;
use crate::link::FxMap;
use crate::model::{
    Cell, Code, DateValue, Decision, Field, Finding, GradeValue, Loc, Pair, Record, Role, Status,
    StatusValue, Table,
};
use crate::normalize::grade::grade_label;
use crate::normalize::village::VillageIndex;
use std::collections::{BTreeMap, HashMap};

/// One row of the derived 附件2 ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub township: String,
    pub village: String,
    pub group: String,
    pub household_head: String,
    pub household_type: String,
    pub name: String,
    pub sex: String,
    pub id: String,
    pub birth: String,
    /// None: the child was not surveyed (shown as 未摸底).
    pub status: Option<Status>,
    pub school: String,
    pub grade: String,
    pub reason: String,
    pub evidence: String,
    pub surveyor: String,
    pub remark: String,
    /// Index of the roster record.
    pub roster: usize,
    /// Index of the linked survey record.
    pub survey: Option<usize>,
}

impl LedgerRow {
    pub fn status_text(&self) -> &'static str {
        self.status.map(Status::label_zh).unwrap_or("未摸底")
    }
}

/// Text shown for a not-surveyed child's status in the derived ledger.
pub const NOT_SURVEYED_TEXT: &str = "未摸底";

/// One row of the derived 附件3 statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsRow {
    /// Village name, or 合计 for the total row.
    pub village: String,
    /// Count per statistics column (`Field::STAT_COUNTS`).
    pub counts: BTreeMap<Field, i64>,
    /// Children of the village with no status yet (not surveyed).
    pub unsurveyed: i64,
}

impl StatsRow {
    fn new(village: &str) -> StatsRow {
        StatsRow {
            village: village.to_string(),
            counts: Field::STAT_COUNTS.iter().map(|f| (*f, 0)).collect(),
            unsurveyed: 0,
        }
    }
    pub fn get(&self, f: Field) -> i64 {
        self.counts.get(&f).copied().unwrap_or(0)
    }
}

/// One row of the warning list (筛查预警清单).
#[derive(Clone, Debug, PartialEq)]
pub struct WarningRow {
    pub township: String,
    pub village: String,
    pub name: String,
    pub sex: String,
    pub id: String,
    pub birth: String,
    pub household_type: String,
    pub warning_type: String,
    pub status: String,
    pub reason: String,
    pub responsible: String,
}

/// Everything `derive` produces.
#[derive(Clone, Debug, Default)]
pub struct Derived {
    pub ledger: Vec<LedgerRow>,
    pub stats: Vec<StatsRow>,
    pub warnings: Vec<WarningRow>,
}

fn linked_map(pairs: &[Pair]) -> HashMap<usize, usize> {
    pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
        .map(|p| (p.roster, p.survey))
        .collect()
}

/// Roster record index → linked survey record index, dense over `records`.
fn linked_dense(pairs: &[Pair], n: usize) -> Vec<Option<usize>> {
    let mut out = vec![None; n];
    for p in pairs.iter().filter(|p| p.decision == Decision::Linked) {
        if p.roster < n {
            // Later pairs overwrite earlier ones, as in a map built by collect.
            out[p.roster] = Some(p.survey);
        }
    }
    out
}

fn status_of(r: &Record) -> Option<Status> {
    match r.status {
        StatusValue::Known(s) => Some(s),
        _ => None,
    }
}

fn grade_text(r: &Record) -> String {
    match &r.grade {
        GradeValue::Known(g) => grade_label(*g),
        GradeValue::Unknown(s) => s.clone(),
        GradeValue::Missing => String::new(),
    }
}

fn birth_text(r: &Record) -> String {
    use chrono::Datelike;
    match r.id.birth_date() {
        Some(d) if r.id.is_valid() && (0..=9999).contains(&d.year()) => {
            format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        }
        Some(d) if r.id.is_valid() => d.format("%Y-%m-%d").to_string(),
        _ => r.birth.display(),
    }
}

fn sex_text(r: &Record) -> String {
    r.sex
        .or_else(|| r.id.sex())
        .map(|s| s.label_zh().to_string())
        .unwrap_or_else(|| r.sex_raw.clone())
}

fn village_text(r: &Record) -> String {
    r.village.clone().unwrap_or_else(|| r.village_raw.clone())
}

/// The villages in report order: configured ones first (configuration order),
/// then any others the roster holds, in order of first appearance.
pub fn village_order(cfg: &Config, records: &[Record], roster: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = cfg.villages().iter().map(|v| v.to_string()).collect();
    let mut seen: FxMap<&str, ()> = out.iter().map(|v| (v.as_str(), ())).collect();
    let mut extra: Vec<&str> = Vec::new();
    for &i in roster {
        let r = &records[i];
        let v = r.village.as_deref().unwrap_or(r.village_raw.as_str());
        if !v.is_empty() && seen.insert(v, ()).is_none() {
            extra.push(v);
        }
    }
    out.extend(extra.into_iter().map(str::to_string));
    out
}

/// Derive the ledger, statistics and warning list of the round.
pub fn derive(
    cfg: &Config,
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    pairs: &[Pair],
) -> Derived {
    let township = cfg.township.clone().unwrap_or_default();
    let linked = linked_dense(pairs, records.len());
    let mut ledger = Vec::with_capacity(roster.len());
    for &ri in roster {
        let r = &records[ri];
        let si = linked.get(ri).copied().flatten();
        let s = si.map(|si| &records[si]);
        let row = LedgerRow {
            township: if r.township.is_empty() {
                township.clone()
            } else {
                r.township.clone()
            },
            village: village_text(r),
            group: r.group.clone(),
            household_head: r.household_head.clone(),
            household_type: r.household_type.clone(),
            name: r.name.clone(),
            sex: sex_text(r),
            id: r.id.clean.clone(),
            birth: birth_text(r),
            status: s.and_then(status_of),
            school: s.map(|s| s.school.clone()).unwrap_or_default(),
            grade: s.map(grade_text).unwrap_or_default(),
            reason: s.map(|s| s.reason.clone()).unwrap_or_default(),
            evidence: s.map(|s| s.evidence.clone()).unwrap_or_default(),
            surveyor: s.map(|s| s.surveyor.clone()).unwrap_or_default(),
            remark: match s {
                None => "未摸底，请核实去向".to_string(),
                Some(s) if status_of(s).is_none() => "摸底表中就读状态缺失或无法识别".to_string(),
                Some(_) => String::new(),
            },
            roster: ri,
            survey: si,
        };
        ledger.push(row);
    }
    let villages = village_order(cfg, records, roster);
    let stats = stats_from(
        &villages,
        ledger.iter().map(|l| (l.village.as_str(), l.status)),
    );
    let mut warnings = Vec::new();
    for l in &ledger {
        let r = &records[l.roster];
        let (kind, status) = match l.status {
            Some(s) if s.is_dropout() => ("失学辍学", s.label_zh()),
            Some(Status::Missing) => ("失踪失联，去向待核实", Status::Missing.label_zh()),
            Some(Status::LongLeave) => ("长期请假，有辍学风险", Status::LongLeave.label_zh()),
            None => ("未摸底，去向不明", NOT_SURVEYED_TEXT),
            _ => continue,
        };
        warnings.push(WarningRow {
            township: l.township.clone(),
            village: l.village.clone(),
            name: l.name.clone(),
            sex: l.sex.clone(),
            id: l.id.clone(),
            birth: l.birth.clone(),
            household_type: r.household_type.clone(),
            warning_type: kind.to_string(),
            status: status.to_string(),
            reason: l.reason.clone(),
            responsible: l.surveyor.clone(),
        });
    }
    // Dropouts found by the survey but missing from the roster are still dropouts.
    let mut linked_surveys = vec![false; records.len()];
    for &si in linked.iter().flatten() {
        if let Some(b) = linked_surveys.get_mut(si) {
            *b = true;
        }
    }
    for &si in survey {
        if linked_surveys.get(si).copied().unwrap_or(false) {
            continue;
        }
        let s = &records[si];
        if let Some(st) = status_of(s).filter(|st| st.is_dropout()) {
            warnings.push(WarningRow {
                township: township.clone(),
                village: village_text(s),
                name: s.name.clone(),
                sex: sex_text(s),
                id: s.id.clean.clone(),
                birth: birth_text(s),
                household_type: s.household_type.clone(),
                warning_type: "失学辍学（县局名单外）".to_string(),
                status: st.label_zh().to_string(),
                reason: s.reason.clone(),
                responsible: s.surveyor.clone(),
            });
        }
    }
    Derived {
        ledger,
        stats,
        warnings,
    }
}

/// Count children per village and statistics column; the last row is 合计.
pub fn stats_from<'a>(
    villages: &[String],
    children: impl Iterator<Item = (&'a str, Option<Status>)>,
) -> Vec<StatsRow> {
    let mut rows: Vec<StatsRow> = villages.iter().map(|v| StatsRow::new(v)).collect();
    let mut index: FxMap<String, usize> = villages
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), i))
        .collect();
    // Counts per row and status, added into the BTreeMaps once at the end.
    let mut tally: Vec<(FxMap<Field, i64>, i64)> = vec![Default::default(); rows.len()];
    let mut last: Option<(&str, usize)> = None;
    for (village, status) in children {
        let i = match last {
            Some((v, i)) if v == village => i,
            _ => {
                let i = match index.get(village) {
                    Some(&i) => i,
                    None => {
                        rows.push(StatsRow::new(village));
                        tally.push(Default::default());
                        index.insert(village.to_string(), rows.len() - 1);
                        rows.len() - 1
                    }
                };
                last = Some((village, i));
                i
            }
        };
        let t = &mut tally[i];
        match status {
            Some(s) => {
                *t.0.entry(s.stat_field()).or_insert(0) += 1;
                *t.0.entry(Field::StatTotal).or_insert(0) += 1;
            }
            None => t.1 += 1,
        }
    }
    for (row, (counts, unsurveyed)) in rows.iter_mut().zip(tally) {
        for (f, c) in counts {
            *row.counts.entry(f).or_insert(0) += c;
        }
        row.unsurveyed += unsurveyed;
    }
    let mut total = StatsRow::new(TOTAL_ROW);
    for r in &rows {
        for f in Field::STAT_COUNTS {
            *total.counts.entry(f).or_insert(0) += r.get(f);
        }
        total.unsurveyed += r.unsurveyed;
    }
    rows.push(total);
    rows
}

/// The label of the statistics total row.
pub const TOTAL_ROW: &str = "合计";

/// LEDGER_MISSING_CHILD and LEDGER_DIFFERS for hand-filled ledgers.
/// `ledger_pairs` link roster records (`roster`) to ledger records (`survey`
/// side of the pair); `survey_pairs` link roster to survey records.
pub fn check_ledger(
    tables: &[Table],
    records: &[Record],
    roster: &[usize],
    ledger: &[usize],
    ledger_pairs: &[Pair],
    survey_pairs: &[Pair],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let roster_to_ledger = linked_map(ledger_pairs);
    let roster_to_survey = linked_map(survey_pairs);
    let mut ledger_to_roster: HashMap<usize, usize> = HashMap::new();
    for (&r, &l) in &roster_to_ledger {
        ledger_to_roster.insert(l, r);
    }
    for &ri in roster {
        if roster_to_ledger.contains_key(&ri) {
            continue;
        }
        let r = &records[ri];
        let t = &tables[r.table];
        out.push(Finding::on_name(
            Code::LEDGER_MISSING_CHILD,
            t,
            r,
            format!(
                "台账（附件2）中没有县局名单第{}行的儿童：{} {}",
                r.row, r.name, r.id.clean
            ),
        ));
    }
    for &li in ledger {
        let l = &records[li];
        let t = &tables[l.table];
        let Some(&ri) = ledger_to_roster.get(&li) else {
            out.push(Finding::on_name(
                Code::LEDGER_DIFFERS,
                t,
                l,
                format!(
                    "县局名单中找不到台账中的这名儿童：{} {}",
                    l.name, l.id.clean
                ),
            ));
            continue;
        };
        let r = &records[ri];
        let rloc = Loc {
            file: tables[r.table].file.clone(),
            sheet: tables[r.table].sheet.clone(),
            row: r.row,
        };
        let mut diffs: Vec<(Field, String, String, Loc, &str)> = Vec::new();
        // Identity fields against the roster.
        if !l.name.is_empty() && l.name != r.name {
            diffs.push((
                Field::Name,
                l.name_raw.clone(),
                r.name.clone(),
                rloc.clone(),
                "县局名单",
            ));
        }
        if !l.id.clean.is_empty() && l.id.clean != r.id.clean {
            diffs.push((
                Field::Id,
                l.id.raw.clone(),
                r.id.clean.clone(),
                rloc.clone(),
                "县局名单",
            ));
        }
        if let (Some(a), Some(b)) = (l.sex, r.sex.or_else(|| r.id.sex()))
            && a != b
        {
            {
                diffs.push((
                    Field::Sex,
                    l.sex_raw.clone(),
                    b.label_zh().to_string(),
                    rloc.clone(),
                    "县局名单",
                ));
            }
        }
        let rbirth = match r.id.birth_date() {
            Some(d) if r.id.is_valid() => DateValue::Day(d),
            _ => r.birth.clone(),
        };
        if l.birth.agrees(&rbirth) == Some(false) {
            diffs.push((
                Field::Birthdate,
                l.birth.display(),
                rbirth.display(),
                rloc.clone(),
                "县局名单",
            ));
        }
        if let (Some(a), Some(b)) = (&l.village, &r.village)
            && a != b
        {
            {
                diffs.push((
                    Field::Village,
                    l.village_raw.clone(),
                    b.clone(),
                    rloc.clone(),
                    "县局名单",
                ));
            }
        }
        // Result fields against the linked survey row.
        if let Some(&si) = roster_to_survey.get(&ri) {
            let s = &records[si];
            let sloc = Loc {
                file: tables[s.table].file.clone(),
                sheet: tables[s.table].sheet.clone(),
                row: s.row,
            };
            if let (Some(a), Some(b)) = (status_of(l), status_of(s)) {
                if a != b {
                    diffs.push((
                        Field::Status,
                        l.status_raw.clone(),
                        b.label_zh().to_string(),
                        sloc.clone(),
                        "摸底表",
                    ));
                }
            } else if status_of(l).is_none() && status_of(s).is_some() && l.status_raw.is_empty() {
                let b = status_of(s).map(Status::label_zh).unwrap_or_default();
                diffs.push((
                    Field::Status,
                    String::new(),
                    b.to_string(),
                    sloc.clone(),
                    "摸底表",
                ));
            }
            if norm_school(&l.school) != norm_school(&s.school) && !s.school.is_empty() {
                diffs.push((
                    Field::School,
                    l.school.clone(),
                    s.school.clone(),
                    sloc.clone(),
                    "摸底表",
                ));
            }
            if let (GradeValue::Known(a), GradeValue::Known(b)) = (&l.grade, &s.grade) {
                if a != b {
                    diffs.push((
                        Field::Grade,
                        l.grade_raw.clone(),
                        grade_label(*b),
                        sloc.clone(),
                        "摸底表",
                    ));
                }
            } else if matches!(l.grade, GradeValue::Missing)
                && matches!(s.grade, GradeValue::Known(_))
            {
                diffs.push((
                    Field::Grade,
                    String::new(),
                    grade_text(s),
                    sloc.clone(),
                    "摸底表",
                ));
            }
        }
        for (field, value, expected, loc, side) in diffs {
            let col = l.col(field).or(l.col(Field::Name)).unwrap_or(1);
            let mut f = Finding::at(
                Code::LEDGER_DIFFERS,
                t,
                l.row,
                col,
                Some(field),
                value.clone(),
                format!(
                    "台账的{}与{}第{}行不一致：台账为“{}”，{}为“{}”",
                    field.label_zh(),
                    side,
                    loc.row,
                    value,
                    side,
                    expected
                ),
            )
            .with_suggestion(expected)
            .with_related(loc);
            f.village = l.village.clone();
            out.push(f);
        }
    }
    out
}

fn norm_school(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A count cell as a number: empty is 0; text digits are accepted.
fn count_of(c: Option<&Cell>) -> Option<i64> {
    match c {
        None | Some(Cell::Empty) => Some(0),
        Some(Cell::Number(n)) if n.fract() == 0.0 => Some(*n as i64),
        Some(Cell::Text(t)) => {
            let t = t.trim();
            if t.is_empty() || t == "-" || t == "/" {
                Some(0)
            } else {
                t.parse::<i64>().ok()
            }
        }
        _ => None,
    }
}

fn is_total_label(s: &str) -> bool {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    matches!(s.as_str(), "合计" | "总计" | "小计" | "全镇合计")
}

/// STATS_DIFFERS for a hand-filled 附件3: each count against `expected`
/// (None: only the table's own identities), the 合计 row against the column
/// sums, and every row's 学龄人口数 against the sum of its other columns.
pub fn check_stats(
    table: &Table,
    expected: Option<&[StatsRow]>,
    villages: &VillageIndex,
) -> Vec<Finding> {
    debug_assert_eq!(table.role, Role::Stats);
    let mut out = Vec::new();
    let by_village: HashMap<&str, &StatsRow> = expected
        .unwrap_or(&[])
        .iter()
        .map(|r| (r.village.as_str(), r))
        .collect();
    let mut sums: BTreeMap<Field, i64> = BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    let village_col = table.columns.get(&Field::Village).copied().unwrap_or(1);
    let push = |out: &mut Vec<Finding>,
                row: u32,
                field: Field,
                value: String,
                suggestion: Option<i64>,
                message: String,
                village: Option<String>| {
        let col = table.columns.get(&field).copied().unwrap_or(village_col);
        let mut f = Finding::at(
            Code::STATS_DIFFERS,
            table,
            row,
            col,
            Some(field),
            value,
            message,
        );
        if let Some(s) = suggestion {
            f = f.with_suggestion(s.to_string());
        }
        f.village = village;
        out.push(f);
    };
    for raw in &table.rows {
        let label = raw.text(Field::Village);
        if label.is_empty() {
            continue;
        }
        let total_row = is_total_label(&label);
        let canonical = if total_row {
            None
        } else {
            villages.canonical(&label)
        };
        let mut counts: BTreeMap<Field, i64> = BTreeMap::new();
        for f in Field::STAT_COUNTS {
            if !table.columns.contains_key(&f) {
                continue;
            }
            match count_of(raw.cell(f)) {
                Some(n) => {
                    counts.insert(f, n);
                }
                None => push(
                    &mut out,
                    raw.row,
                    f,
                    raw.text(f),
                    None,
                    format!("{}不是人数：“{}”", f.label_zh(), raw.text(f)),
                    canonical.clone(),
                ),
            }
        }
        // The row's own identity: 学龄人口数 = sum of the other columns.
        if let Some(&total) = counts.get(&Field::StatTotal) {
            let parts: i64 = counts
                .iter()
                .filter(|(f, _)| **f != Field::StatTotal)
                .map(|(_, n)| *n)
                .sum();
            if parts != total {
                push(
                    &mut out,
                    raw.row,
                    Field::StatTotal,
                    total.to_string(),
                    Some(parts),
                    format!(
                        "{}：学龄人口数{}不等于各类人数之和{}（在校+随班就读+送教上门+不属于失学辍学各类+失学辍学）",
                        label, total, parts
                    ),
                    canonical.clone(),
                );
            }
        }
        if total_row {
            for (f, n) in &counts {
                let s = sums.get(f).copied().unwrap_or(0);
                if *n != s {
                    push(
                        &mut out,
                        raw.row,
                        *f,
                        n.to_string(),
                        Some(s),
                        format!("合计行的{}为{}，但各村相加为{}", f.label_zh(), n, s),
                        None,
                    );
                }
            }
        } else {
            for (f, n) in &counts {
                *sums.entry(*f).or_insert(0) += n;
            }
        }
        if expected.is_some() {
            let key = if total_row {
                TOTAL_ROW.to_string()
            } else {
                canonical.clone().unwrap_or_else(|| label.clone())
            };
            seen.push(key.clone());
            let recount = by_village.get(key.as_str()).copied();
            for (f, n) in &counts {
                let want = recount.map(|r| r.get(*f)).unwrap_or(0);
                if *n != want {
                    push(
                        &mut out,
                        raw.row,
                        *f,
                        n.to_string(),
                        Some(want),
                        format!(
                            "{}的{}填为{}，按台账重新统计应为{}",
                            label,
                            f.label_zh(),
                            n,
                            want
                        ),
                        canonical.clone(),
                    );
                }
            }
        }
    }
    // A village with children that the table leaves out entirely.
    if let Some(exp) = expected {
        for r in exp {
            if r.village != TOTAL_ROW && r.get(Field::StatTotal) > 0 && !seen.contains(&r.village) {
                push(
                    &mut out,
                    table.header_row,
                    Field::Village,
                    String::new(),
                    None,
                    format!(
                        "统计表缺少{}这一行（按台账有{}人）",
                        r.village,
                        r.get(Field::StatTotal)
                    ),
                    Some(r.village.clone()),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_rows_add_up_and_total_is_last() {
        let villages = vec!["金星村".to_string(), "双坪村".to_string()];
        let kids = vec![
            ("金星村", Some(Status::InSchoolLocal)),
            ("金星村", Some(Status::Dropout)),
            ("双坪村", Some(Status::NeverEnrolled)),
            ("双坪村", None),
            ("先联村", Some(Status::HomeTeaching)),
        ];
        let rows = stats_from(&villages, kids.into_iter());
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].get(Field::StatTotal), 2);
        assert_eq!(rows[0].get(Field::StatDropout), 1);
        assert_eq!(rows[1].get(Field::StatTotal), 1);
        assert_eq!(rows[1].unsurveyed, 1);
        assert_eq!(rows[2].village, "先联村");
        let total = rows.last().unwrap();
        assert_eq!(total.village, TOTAL_ROW);
        assert_eq!(total.get(Field::StatTotal), 4);
        assert_eq!(total.get(Field::StatDropout), 2);
        for r in &rows {
            let parts: i64 = Field::STAT_COUNTS[1..].iter().map(|f| r.get(*f)).sum();
            assert_eq!(parts, r.get(Field::StatTotal), "row {}", r.village);
        }
    }

    #[test]
    fn counts_accept_blank_and_text_digits() {
        assert_eq!(count_of(None), Some(0));
        assert_eq!(count_of(Some(&Cell::Text(" 12 ".into()))), Some(12));
        assert_eq!(count_of(Some(&Cell::Number(3.0))), Some(3));
        assert_eq!(count_of(Some(&Cell::Text("十二".into()))), None);
    }
}
