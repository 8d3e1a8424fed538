//! The checks of hand-filled annexes against what the round derives:
//! LEDGER_MISSING_CHILD and LEDGER_DIFFERS for a 附件2 ledger,
//! STATS_DIFFERS for a 附件3 statistics table.

use super::{
    NOT_SURVEYED_TEXT, STATUS_PENDING_TEXT, StatsRow, TOTAL_ROW, UNCONFIRMED_TEXT, grade_text,
    linked_map, pending_in_remark, status_of,
};
use crate::link::Pair;
use crate::model::{
    Cell, Code, DateValue, Decision, Field, Finding, GradeValue, Loc, Record, Role, Status, Table,
};
use crate::normalize::grade::grade_label;
use crate::normalize::village::VillageIndex;
use std::collections::{BTreeMap, HashMap};

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
    let copies = crate::link::roster_copies(records, roster);
    for &ri in roster {
        if roster_to_ledger.contains_key(&ri) || copies.contains(&ri) {
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
    // Valid IDs of the linked ledger rows: a later copy of the same child in
    // the ledger is DUPLICATE_ID (from the checker), not a child missing
    // from the roster.
    let linked_ids: std::collections::HashSet<&str> = ledger_to_roster
        .keys()
        .map(|&li| &records[li].id)
        .filter(|id| id.is_valid())
        .map(|id| id.clean.as_str())
        .collect();
    for &li in ledger {
        let l = &records[li];
        let t = &tables[l.table];
        if !ledger_to_roster.contains_key(&li)
            && l.id.is_valid()
            && linked_ids.contains(l.id.clean.as_str())
        {
            continue;
        }
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
        let rloc = tables[r.table].loc(r.row);
        let mut diffs: Vec<(Field, String, String, Loc, &str)> = Vec::new();
        // Identity fields against the roster.
        if !l.name.is_empty() && l.name != r.name {
            diffs.push((
                Field::Name,
                l.name_raw.to_string(),
                r.name.to_string(),
                rloc.clone(),
                "县局名单",
            ));
        }
        if !l.id.clean.is_empty() && l.id.clean != r.id.clean {
            diffs.push((
                Field::Id,
                l.id.raw.to_string(),
                r.id.clean.to_string(),
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
                    l.sex_raw.to_string(),
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
                    l.village_raw.to_string(),
                    b.to_string(),
                    rloc.clone(),
                    "县局名单",
                ));
            }
        }
        // Result fields against the linked survey row; without one, a
        // status, school or grade the ledger gives has nothing behind it.
        if !roster_to_survey.contains_key(&ri) {
            let said = l.status_raw.trim();
            let claims = !(said.is_empty()
                || said == NOT_SURVEYED_TEXT
                || said == UNCONFIRMED_TEXT
                || said == STATUS_PENDING_TEXT)
                || !l.school.trim().is_empty()
                || !matches!(l.grade, GradeValue::Missing);
            if claims {
                let given: Vec<String> = [
                    (Field::Status, said.to_string()),
                    (Field::School, l.school.trim().to_string()),
                    (Field::Grade, l.grade_raw.trim().to_string()),
                ]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(f, v)| format!("{}“{}”", f.label_zh(), v))
                .collect();
                let possible = survey_pairs
                    .iter()
                    .find(|p| p.roster == ri && p.decision == Decision::Possible);
                let why = match possible {
                    Some(p) => format!(
                        "只有摸底表第{}行的疑似记录，尚未人工确认是同一人",
                        records[p.survey].row
                    ),
                    None => "摸底表中没有这名儿童的记录".to_string(),
                };
                let col = l.col(Field::Status).or(l.col(Field::Name)).unwrap_or(1);
                let mut f = Finding::at(
                    Code::LEDGER_DIFFERS,
                    t,
                    l.row,
                    col,
                    Some(Field::Status),
                    l.status_raw.to_string(),
                    format!(
                        "台账填写的{}没有摸底表记录支持：{}（县局名单第{}行 {}），请入户摸底后按摸底结果填写",
                        given.join("、"),
                        why,
                        r.row,
                        r.name
                    ),
                )
                .with_related(rloc.clone());
                f.village = l.village.as_deref().map(String::from);
                out.push(f);
            }
        }
        if let Some(&si) = roster_to_survey.get(&ri) {
            let s = &records[si];
            let sloc = tables[s.table].loc(s.row);
            if let (Some(a), Some(b)) = (status_of(l), status_of(s)) {
                if a != b {
                    diffs.push((
                        Field::Status,
                        l.status_raw.to_string(),
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
                    l.school.to_string(),
                    s.school.to_string(),
                    sloc.clone(),
                    "摸底表",
                ));
            }
            if let (GradeValue::Known(a), GradeValue::Known(b)) = (&l.grade, &s.grade) {
                if a != b {
                    diffs.push((
                        Field::Grade,
                        l.grade_raw.to_string(),
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
                    grade_text(s).to_string(),
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
            f.village = l.village.as_deref().map(String::from);
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
        // The row's own identity: 学龄人口数 = sum of the other columns +
        // the children its 备注 counts as 状态待核实 / 待人工确认 / 未摸底.
        if let Some(&total) = counts.get(&Field::StatTotal) {
            let pending = pending_in_remark(&raw.text(Field::Remark));
            let parts: i64 = counts
                .iter()
                .filter(|(f, _)| **f != Field::StatTotal)
                .map(|(_, n)| *n)
                .sum::<i64>()
                + pending;
            if parts != total {
                let note = if pending > 0 {
                    format!("+备注中的状态待核实等{pending}人")
                } else {
                    String::new()
                };
                push(
                    &mut out,
                    raw.row,
                    Field::StatTotal,
                    total.to_string(),
                    Some(parts),
                    format!(
                        "{}：学龄人口数{}不等于各类人数之和{}（在校+随班就读+送教上门+不属于失学辍学各类+失学辍学{note}）",
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
    fn counts_accept_blank_and_text_digits() {
        assert_eq!(count_of(None), Some(0));
        assert_eq!(count_of(Some(&Cell::Text(" 12 ".into()))), Some(12));
        assert_eq!(count_of(Some(&Cell::Number(3.0))), Some(3));
        assert_eq!(count_of(Some(&Cell::Text("十二".into()))), None);
    }
}
