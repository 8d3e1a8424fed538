//! Stage 5: what the round's annexes should say, derived from the roster and
//! the linked survey rows, and the checks of hand-filled annexes against it.
//!
//! In: the run's tables and records, the roster↔survey pairs and (when
//! given) the roster↔ledger pairs. Out: [`LedgerRow`]s (附件2, one per roster
//! child), [`StatsRow`]s (附件3, one per village plus 合计), [`WarningRow`]s
//! (the warning list), and the findings LEDGER_MISSING_CHILD, LEDGER_DIFFERS
//! and STATS_DIFFERS.
//!
//! Where a roster child lands ([`Landing`]): with the linked survey row's
//! status; 状态待核实 when the linked row's status is missing or unknown
//! (the clerk's text is kept); 待人工确认 when the child only has a possible
//! match; 未摸底 only when no survey row at all points at the child.
//!
//! Guarantees: every roster child (a later copy of the same child in the
//! roster excepted) is in exactly one ledger row; every child with a known
//! status counts in exactly one statistics column, every other one in the
//! 备注 note, so 学龄人口数 = the columns + 状态待核实 + 待人工确认 + 未摸底 on
//! every row.

mod hand_filled;

pub use hand_filled::{check_ledger, check_stats};

use crate::config::Config;
use crate::link::FxMap;
use crate::link::Pair;
use crate::model::{Decision, Field, GradeValue, Record, Status, StatusValue, Table};
use crate::normalize::grade::grade_label;
use arcstr::ArcStr;
use compact_str::CompactString;
use std::collections::{BTreeMap, HashMap};

/// Where a roster child lands in the derived annexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Landing {
    /// Linked, with a known status.
    Known(Status),
    /// Linked, but the survey's status is missing or maps to nothing.
    StatusUnknown,
    /// Only a possible match: a person must confirm it.
    Unconfirmed,
    /// No survey row at all.
    NotSurveyed,
}

impl Landing {
    /// The status, when known.
    pub fn status(self) -> Option<Status> {
        match self {
            Landing::Known(s) => Some(s),
            _ => None,
        }
    }

    /// The warning-list type of a child that lands there (None: not listed).
    pub fn warning_type(self) -> Option<&'static str> {
        match self {
            Landing::Known(s)
                if s.is_dropout() || s == Status::Missing || s == Status::LongLeave =>
            {
                Some(s.label_zh())
            }
            Landing::Known(_) => None,
            Landing::StatusUnknown => Some(STATUS_PENDING_TEXT),
            Landing::Unconfirmed => Some(UNCONFIRMED_TEXT),
            Landing::NotSurveyed => Some(NOT_SURVEYED_WARNING),
        }
    }
}

/// Text shown for a child whose linked survey row has no usable status.
pub const STATUS_PENDING_TEXT: &str = "状态待核实";
/// Text shown for a child with only a possible match.
pub const UNCONFIRMED_TEXT: &str = "待人工确认";
/// The warning-list type of a roster child no survey row points at.
pub const NOT_SURVEYED_WARNING: &str = "未摸底（去向不明）";

/// How many roster children are not (yet) counted under a status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    /// Roster children with no survey row at all (未摸底).
    pub unsurveyed: usize,
    /// Roster children with only a possible match (待人工确认).
    pub unconfirmed: usize,
    /// Linked children whose survey status is missing or unknown (状态待核实).
    pub status_unknown: usize,
}

impl Pending {
    /// Count the ledger's rows by where they land.
    pub fn of(ledger: &[LedgerRow]) -> Pending {
        let mut p = Pending::default();
        for l in ledger {
            match l.landing {
                Landing::NotSurveyed => p.unsurveyed += 1,
                Landing::Unconfirmed => p.unconfirmed += 1,
                Landing::StatusUnknown => p.status_unknown += 1,
                Landing::Known(_) => {}
            }
        }
        p
    }
}

/// One row of the derived 附件2 ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    // Text many rows repeat is shared with the records (one copy per
    // distinct value); short per-child text is held inline. A ledger row of
    // a 1,000,000-child round stays a few hundred bytes.
    pub township: ArcStr,
    pub village: ArcStr,
    pub group: ArcStr,
    pub household_head: CompactString,
    pub household_type: ArcStr,
    pub name: CompactString,
    pub sex: CompactString,
    pub id: CompactString,
    pub birth: CompactString,
    /// None: no known status (see `landing`).
    pub status: Option<Status>,
    /// Where the child lands.
    pub landing: Landing,
    /// The text of the status cell: the status, the clerk's own text when it
    /// maps to nothing, 待人工确认 or 未摸底.
    pub status_shown: CompactString,
    pub school: ArcStr,
    pub grade: CompactString,
    pub reason: ArcStr,
    pub evidence: ArcStr,
    pub surveyor: ArcStr,
    pub remark: CompactString,
    /// Index of the roster record.
    pub roster: usize,
    /// Index of the linked survey record.
    pub survey: Option<usize>,
}

impl LedgerRow {
    pub fn status_text(&self) -> &str {
        &self.status_shown
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
    /// Children of the village with no survey row (未摸底); in 学龄人口数.
    pub unsurveyed: i64,
    /// Children with only a possible match (待人工确认); in 学龄人口数.
    pub unconfirmed: i64,
    /// Linked children of unknown status (状态待核实); in 学龄人口数.
    pub status_unknown: i64,
}

impl StatsRow {
    fn new(village: &str) -> StatsRow {
        StatsRow {
            village: village.to_string(),
            counts: Field::STAT_COUNTS.iter().map(|f| (*f, 0)).collect(),
            unsurveyed: 0,
            unconfirmed: 0,
            status_unknown: 0,
        }
    }
    pub fn get(&self, f: Field) -> i64 {
        self.counts.get(&f).copied().unwrap_or(0)
    }

    /// The 备注 of the row: "状态待核实 N 人；待人工确认 N 人；未摸底 N 人",
    /// the parts that are not zero (empty when all are).
    pub fn remark(&self) -> String {
        pending_remark(self.status_unknown, self.unconfirmed, self.unsurveyed)
    }
}

/// The labels of the 附件3 备注 note, in order.
const PENDING_LABELS: [&str; 3] = [STATUS_PENDING_TEXT, UNCONFIRMED_TEXT, NOT_SURVEYED_TEXT];

/// "状态待核实 2 人；未摸底 1 人": the non-zero counts, in this order.
pub fn pending_remark(status_unknown: i64, unconfirmed: i64, unsurveyed: i64) -> String {
    PENDING_LABELS
        .iter()
        .zip([status_unknown, unconfirmed, unsurveyed])
        .filter(|(_, n)| *n != 0)
        .map(|(l, n)| format!("{l} {n} 人"))
        .collect::<Vec<_>>()
        .join("；")
}

/// The children a 附件3 备注 note counts outside the status columns: the
/// sum of the numbers after 状态待核实, 待人工确认 and 未摸底 (each "N 人",
/// spaces optional). Text without these labels counts 0.
pub fn pending_in_remark(remark: &str) -> i64 {
    let mut total = 0;
    for label in PENDING_LABELS {
        let mut rest = remark;
        while let Some(at) = rest.find(label) {
            rest = &rest[at + label.len()..];
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse::<i64>() {
                total += n;
            }
        }
    }
    total
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

fn grade_text(r: &Record) -> CompactString {
    match &r.grade {
        GradeValue::Known(g) => grade_label(*g).into(),
        GradeValue::Unknown(s) => s.as_str().into(),
        GradeValue::Missing => CompactString::default(),
    }
}

fn birth_text(r: &Record) -> CompactString {
    use chrono::Datelike;
    match r.id.birth_date() {
        Some(d) if r.id.is_valid() && (0..=9999).contains(&d.year()) => {
            compact_str::format_compact!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        }
        Some(d) if r.id.is_valid() => d.format("%Y-%m-%d").to_string().into(),
        _ => r.birth.display().into(),
    }
}

fn sex_text(r: &Record) -> CompactString {
    r.sex
        .or_else(|| r.id.sex())
        .map(|s| CompactString::from(s.label_zh()))
        .unwrap_or_else(|| r.sex_raw.as_str().into())
}

fn village_text(r: &Record) -> ArcStr {
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

/// Derive the ledger, statistics and warning list of the round (survey rows
/// named without their file; see [`derive_round`]).
pub fn derive(
    cfg: &Config,
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    pairs: &[Pair],
) -> Derived {
    derive_round(cfg, &[], records, roster, survey, pairs)
}

/// "摸底表《附件1_x.xlsx》第17行" (without the file when `tables` lacks it).
fn survey_where(tables: &[Table], s: &Record) -> String {
    match tables.get(s.table) {
        Some(t) => format!("摸底表《{}》第{}行", t.file, s.row),
        None => format!("摸底表第{}行", s.row),
    }
}

/// The status text as the clerk wrote it (trimmed), else the canonical one.
fn clerk_status(s: &Record) -> String {
    match &s.status {
        StatusValue::Known(st) => st.label_zh().to_string(),
        _ => s.status_raw.trim().to_string(),
    }
}

/// Derive the ledger, statistics and warning list of the round.
pub fn derive_round(
    cfg: &Config,
    tables: &[Table],
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    pairs: &[Pair],
) -> Derived {
    let township = ArcStr::from(cfg.township.clone().unwrap_or_default());
    let linked = linked_dense(pairs, records.len());
    // Roster record → the survey record of its best possible pair.
    let mut best: Vec<Option<(usize, f64)>> = vec![None; records.len()];
    let mut in_pair_survey = vec![false; records.len()];
    for p in pairs {
        if p.survey < records.len() {
            in_pair_survey[p.survey] = true;
        }
        if p.decision == Decision::Possible && p.roster < records.len() {
            let b = &mut best[p.roster];
            if b.is_none_or(|(_, sc)| p.score > sc) {
                *b = Some((p.survey, p.score));
            }
        }
    }
    let possible: Vec<Option<usize>> = best.into_iter().map(|b| b.map(|(s, _)| s)).collect();
    let copies = crate::link::roster_copies(records, roster);
    let mut ledger = Vec::with_capacity(roster.len());
    for &ri in roster {
        if copies.contains(&ri) {
            continue;
        }
        let r = &records[ri];
        let si = linked.get(ri).copied().flatten();
        let s = si.map(|si| &records[si]);
        let maybe = possible.get(ri).copied().flatten().map(|i| &records[i]);
        let landing = match (s, maybe) {
            (Some(s), _) => status_of(s).map_or(Landing::StatusUnknown, Landing::Known),
            (None, Some(_)) => Landing::Unconfirmed,
            (None, None) => Landing::NotSurveyed,
        };
        let status_shown: CompactString = match landing {
            Landing::Known(st) => st.label_zh().into(),
            Landing::StatusUnknown => s.map(clerk_status).unwrap_or_default().into(),
            Landing::Unconfirmed => UNCONFIRMED_TEXT.into(),
            Landing::NotSurveyed => NOT_SURVEYED_TEXT.into(),
        };
        let remark = match landing {
            Landing::Known(_) => String::new(),
            Landing::StatusUnknown => {
                let said = s.map(clerk_status).unwrap_or_default();
                if said.is_empty() {
                    format!("{STATUS_PENDING_TEXT}：摸底表未填就读状态")
                } else {
                    format!("{STATUS_PENDING_TEXT}：摸底表填写的就读状态“{said}”无法识别")
                }
            }
            Landing::Unconfirmed => match maybe {
                Some(m) => {
                    let said = clerk_status(m);
                    format!(
                        "{UNCONFIRMED_TEXT}：疑似{}的{}（就读状态：{}）",
                        survey_where(tables, m),
                        m.name,
                        if said.is_empty() {
                            "未填"
                        } else {
                            said.as_str()
                        }
                    )
                }
                None => UNCONFIRMED_TEXT.to_string(),
            },
            Landing::NotSurveyed => "未摸底，请核实去向".to_string(),
        };
        let remark = CompactString::from(remark);
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
            status: landing.status(),
            landing,
            status_shown,
            school: s.map(|s| s.school.clone()).unwrap_or_default(),
            grade: s.map(grade_text).unwrap_or_default(),
            reason: s.map(|s| s.reason.clone()).unwrap_or_default(),
            evidence: s.map(|s| s.evidence.clone()).unwrap_or_default(),
            surveyor: s.map(|s| s.surveyor.clone()).unwrap_or_default(),
            remark,
            roster: ri,
            survey: si,
        };
        ledger.push(row);
    }
    let villages = village_order(cfg, records, roster);
    let stats = stats_from(
        &villages,
        ledger.iter().map(|l| (l.village.as_str(), l.landing)),
    );
    let mut warnings = Vec::new();
    for l in &ledger {
        let r = &records[l.roster];
        let Some(kind) = l.landing.warning_type() else {
            continue;
        };
        let maybe = possible
            .get(l.roster)
            .copied()
            .flatten()
            .map(|i| &records[i]);
        let (status, reason, responsible) = match (l.landing, maybe) {
            (Landing::Unconfirmed, Some(m)) => (
                clerk_status(m),
                format!(
                    "疑似{}的{}，请人工确认是否同一人",
                    survey_where(tables, m),
                    m.name
                ),
                m.surveyor.to_string(),
            ),
            (Landing::StatusUnknown, _) => (
                l.status_shown.to_string(),
                if l.reason.is_empty() {
                    "摸底表的就读状态缺失或无法识别，请核实".to_string()
                } else {
                    l.reason.to_string()
                },
                l.surveyor.to_string(),
            ),
            _ => (
                l.status_shown.to_string(),
                l.reason.to_string(),
                l.surveyor.to_string(),
            ),
        };
        warnings.push(WarningRow {
            township: l.township.to_string(),
            village: l.village.to_string(),
            name: l.name.to_string(),
            sex: l.sex.to_string(),
            id: l.id.to_string(),
            birth: l.birth.to_string(),
            household_type: r.household_type.to_string(),
            warning_type: kind.to_string(),
            status,
            reason,
            responsible,
        });
    }
    // Dropouts found by the survey but missing from the roster are still
    // dropouts; a survey row that is some roster child's possible match is
    // already listed under that child (待人工确认).
    for &si in survey {
        if in_pair_survey.get(si).copied().unwrap_or(false) {
            continue;
        }
        let s = &records[si];
        if let Some(st) = status_of(s).filter(|st| st.is_dropout()) {
            let reason = if s.reason.trim().is_empty() {
                "不在县局名单中".to_string()
            } else {
                format!("{}（不在县局名单中）", s.reason.trim())
            };
            warnings.push(WarningRow {
                township: township.to_string(),
                village: village_text(s).to_string(),
                name: s.name.to_string(),
                sex: sex_text(s).to_string(),
                id: s.id.clean.to_string(),
                birth: birth_text(s).to_string(),
                household_type: s.household_type.to_string(),
                warning_type: st.label_zh().to_string(),
                status: st.label_zh().to_string(),
                reason,
                responsible: s.surveyor.to_string(),
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
    children: impl Iterator<Item = (&'a str, Landing)>,
) -> Vec<StatsRow> {
    let mut rows: Vec<StatsRow> = villages.iter().map(|v| StatsRow::new(v)).collect();
    let mut index: FxMap<String, usize> = villages
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), i))
        .collect();
    // Counts per row and status, added into the BTreeMaps once at the end.
    let mut tally: Vec<(FxMap<Field, i64>, [i64; 3])> = vec![Default::default(); rows.len()];
    let mut last: Option<(&str, usize)> = None;
    for (village, landing) in children {
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
        // Every child counts in 学龄人口数; a child without a known status
        // in the 备注 note instead of a column.
        *t.0.entry(Field::StatTotal).or_insert(0) += 1;
        match landing {
            Landing::Known(s) => *t.0.entry(s.stat_field()).or_insert(0) += 1,
            Landing::StatusUnknown => t.1[0] += 1,
            Landing::Unconfirmed => t.1[1] += 1,
            Landing::NotSurveyed => t.1[2] += 1,
        }
    }
    for (row, (counts, [unknown, unconfirmed, unsurveyed])) in rows.iter_mut().zip(tally) {
        for (f, c) in counts {
            *row.counts.entry(f).or_insert(0) += c;
        }
        row.status_unknown += unknown;
        row.unconfirmed += unconfirmed;
        row.unsurveyed += unsurveyed;
    }
    let mut total = StatsRow::new(TOTAL_ROW);
    for r in &rows {
        for f in Field::STAT_COUNTS {
            *total.counts.entry(f).or_insert(0) += r.get(f);
        }
        total.status_unknown += r.status_unknown;
        total.unconfirmed += r.unconfirmed;
        total.unsurveyed += r.unsurveyed;
    }
    rows.push(total);
    rows
}

/// The label of the statistics total row.
pub const TOTAL_ROW: &str = "合计";

/// Where a hand-filled ledger row puts its child: its status when known,
/// 未摸底 and 待人工确认 as written, anything else 状态待核实.
pub fn ledger_landing(r: &Record) -> Landing {
    match (&r.status, r.status_raw.trim()) {
        (StatusValue::Known(s), _) => Landing::Known(*s),
        (_, NOT_SURVEYED_TEXT) => Landing::NotSurveyed,
        (_, UNCONFIRMED_TEXT) => Landing::Unconfirmed,
        _ => Landing::StatusUnknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_rows_add_up_and_total_is_last() {
        let villages = vec!["金星村".to_string(), "双坪村".to_string()];
        let kids = vec![
            ("金星村", Landing::Known(Status::InSchoolLocal)),
            ("金星村", Landing::Known(Status::Dropout)),
            ("双坪村", Landing::Known(Status::NeverEnrolled)),
            ("双坪村", Landing::NotSurveyed),
            ("双坪村", Landing::StatusUnknown),
            ("双坪村", Landing::Unconfirmed),
            ("先联村", Landing::Known(Status::HomeTeaching)),
        ];
        let rows = stats_from(&villages, kids.into_iter());
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].get(Field::StatTotal), 2);
        assert_eq!(rows[0].get(Field::StatDropout), 1);
        assert_eq!(rows[1].get(Field::StatTotal), 4);
        assert_eq!(
            (
                rows[1].status_unknown,
                rows[1].unconfirmed,
                rows[1].unsurveyed
            ),
            (1, 1, 1)
        );
        assert_eq!(
            rows[1].remark(),
            "状态待核实 1 人；待人工确认 1 人；未摸底 1 人"
        );
        assert_eq!(rows[0].remark(), "");
        assert_eq!(rows[2].village, "先联村");
        let total = rows.last().unwrap();
        assert_eq!(total.village, TOTAL_ROW);
        assert_eq!(total.get(Field::StatTotal), 7);
        assert_eq!(total.get(Field::StatDropout), 2);
        for r in &rows {
            let parts: i64 = Field::STAT_COUNTS[1..].iter().map(|f| r.get(*f)).sum();
            assert_eq!(
                parts + pending_in_remark(&r.remark()),
                r.get(Field::StatTotal),
                "row {}",
                r.village
            );
        }
    }

    #[test]
    fn pending_counts_read_back_from_the_remark() {
        assert_eq!(pending_in_remark("状态待核实 2 人；未摸底 13 人"), 15);
        assert_eq!(pending_in_remark("状态待核实3人"), 3);
        assert_eq!(pending_in_remark("另有说明"), 0);
        assert_eq!(pending_in_remark(""), 0);
    }
}
