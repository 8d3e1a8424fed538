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
use compact_str::CompactString;
use std::borrow::Cow;
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

/// One row of the derived 附件2 ledger: the records it shows and where the
/// child lands. The text of its cells is read from the records when it is
/// written ([`LedgerRow::view`]), so a 1,000,000-child ledger holds no copy
/// of the roster's text.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    /// Index of the roster record.
    pub roster: usize,
    /// Index of the linked survey record.
    pub survey: Option<usize>,
    /// Index of the survey record of the child's best possible match (only
    /// when the child lands 待人工确认).
    pub maybe: Option<usize>,
    /// Where the child lands.
    pub landing: Landing,
}

impl LedgerRow {
    /// None: no known status (see `landing`).
    pub fn status(&self) -> Option<Status> {
        self.landing.status()
    }

    /// The row's cells, read from the round's records. `township` is the
    /// configured township (shown when the roster row names none); `tables`
    /// name the file of a possible match in the 备注 note.
    pub fn view<'a>(
        &'a self,
        township: &'a str,
        tables: &'a [Table],
        records: &'a [Record],
    ) -> LedgerView<'a> {
        LedgerView {
            row: self,
            township,
            tables,
            r: &records[self.roster],
            s: self.survey.map(|i| &records[i]),
            maybe: self.maybe.map(|i| &records[i]),
        }
    }
}

/// The cells of one ledger row, read from its roster record and (when
/// linked) its survey record.
#[derive(Clone, Copy, Debug)]
pub struct LedgerView<'a> {
    pub row: &'a LedgerRow,
    township: &'a str,
    tables: &'a [Table],
    r: &'a Record,
    s: Option<&'a Record>,
    maybe: Option<&'a Record>,
}

impl<'a> LedgerView<'a> {
    pub fn landing(&self) -> Landing {
        self.row.landing
    }
    /// The roster row's township, else the configured one.
    pub fn township(&self) -> &'a str {
        if self.r.township.is_empty() {
            self.township
        } else {
            &self.r.township
        }
    }
    pub fn village(&self) -> &'a str {
        village_str(self.r)
    }
    pub fn group(&self) -> &'a str {
        &self.r.group
    }
    pub fn household_head(&self) -> &'a str {
        &self.r.household_head
    }
    pub fn household_type(&self) -> &'a str {
        &self.r.household_type
    }
    pub fn name(&self) -> &'a str {
        &self.r.name
    }
    pub fn sex(&self) -> &'a str {
        sex_text(self.r)
    }
    pub fn id(&self) -> &'a str {
        &self.r.id.clean
    }
    pub fn birth(&self) -> CompactString {
        birth_text(self.r)
    }
    /// The text of the status cell: the status, the clerk's own text when it
    /// maps to nothing, 待人工确认 or 未摸底.
    pub fn status_text(&self) -> &'a str {
        match self.row.landing {
            Landing::Known(st) => st.label_zh(),
            Landing::StatusUnknown => self.s.map(clerk_status).unwrap_or_default(),
            Landing::Unconfirmed => UNCONFIRMED_TEXT,
            Landing::NotSurveyed => NOT_SURVEYED_TEXT,
        }
    }
    pub fn school(&self) -> &'a str {
        self.s.map_or("", |s| &s.school)
    }
    pub fn grade(&self) -> Cow<'a, str> {
        self.s.map_or(Cow::Borrowed(""), grade_text)
    }
    pub fn reason(&self) -> &'a str {
        self.s.map_or("", |s| &s.reason)
    }
    pub fn evidence(&self) -> &'a str {
        self.s.map_or("", |s| &s.evidence)
    }
    pub fn surveyor(&self) -> &'a str {
        self.s.map_or("", |s| &s.surveyor)
    }
    /// The 备注: why the child is not counted under a status (empty when it is).
    pub fn remark(&self) -> Cow<'static, str> {
        match self.row.landing {
            Landing::Known(_) => Cow::Borrowed(""),
            Landing::StatusUnknown => {
                let said = self.s.map(clerk_status).unwrap_or_default();
                Cow::Owned(if said.is_empty() {
                    format!("{STATUS_PENDING_TEXT}：摸底表未填就读状态")
                } else {
                    format!("{STATUS_PENDING_TEXT}：摸底表填写的就读状态“{said}”无法识别")
                })
            }
            Landing::Unconfirmed => match self.maybe {
                Some(m) => {
                    let said = clerk_status(m);
                    Cow::Owned(format!(
                        "{UNCONFIRMED_TEXT}：疑似{}的{}（就读状态：{}）",
                        survey_where(self.tables, m),
                        m.name,
                        if said.is_empty() { "未填" } else { said }
                    ))
                }
                None => Cow::Borrowed(UNCONFIRMED_TEXT),
            },
            Landing::NotSurveyed => Cow::Borrowed("未摸底，请核实去向"),
        }
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

fn grade_text(r: &Record) -> Cow<'_, str> {
    match &r.grade {
        GradeValue::Known(g) => Cow::Owned(grade_label(*g)),
        GradeValue::Unknown(s) => Cow::Borrowed(s.as_str()),
        GradeValue::Missing => Cow::Borrowed(""),
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

fn sex_text(r: &Record) -> &str {
    r.sex
        .or_else(|| r.id.sex())
        .map_or(r.sex_raw.as_str(), |s| s.label_zh())
}

fn village_str(r: &Record) -> &str {
    r.village.as_deref().unwrap_or(r.village_raw.as_str())
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
fn clerk_status(s: &Record) -> &str {
    match &s.status {
        StatusValue::Known(st) => st.label_zh(),
        _ => s.status_raw.trim(),
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
    let township = cfg.township.as_deref().unwrap_or_default();
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
        let si = linked.get(ri).copied().flatten();
        let maybe = possible.get(ri).copied().flatten();
        let landing = match (si, maybe) {
            (Some(si), _) => status_of(&records[si]).map_or(Landing::StatusUnknown, Landing::Known),
            (None, Some(_)) => Landing::Unconfirmed,
            (None, None) => Landing::NotSurveyed,
        };
        ledger.push(LedgerRow {
            roster: ri,
            survey: si,
            maybe: maybe.filter(|_| landing == Landing::Unconfirmed),
            landing,
        });
    }
    let villages = village_order(cfg, records, roster);
    let stats = stats_from(
        &villages,
        ledger
            .iter()
            .map(|l| (village_str(&records[l.roster]), l.landing)),
    );
    let mut warnings = Vec::new();
    for l in &ledger {
        let Some(kind) = l.landing.warning_type() else {
            continue;
        };
        let v = l.view(township, tables, records);
        let (status, reason, responsible) = match (l.landing, v.maybe) {
            (Landing::Unconfirmed, Some(m)) => (
                clerk_status(m).to_string(),
                format!(
                    "疑似{}的{}，请人工确认是否同一人",
                    survey_where(tables, m),
                    m.name
                ),
                m.surveyor.to_string(),
            ),
            (Landing::StatusUnknown, _) => (
                v.status_text().to_string(),
                if v.reason().is_empty() {
                    "摸底表的就读状态缺失或无法识别，请核实".to_string()
                } else {
                    v.reason().to_string()
                },
                v.surveyor().to_string(),
            ),
            _ => (
                v.status_text().to_string(),
                v.reason().to_string(),
                v.surveyor().to_string(),
            ),
        };
        warnings.push(WarningRow {
            township: v.township().to_string(),
            village: v.village().to_string(),
            name: v.name().to_string(),
            sex: v.sex().to_string(),
            id: v.id().to_string(),
            birth: v.birth().to_string(),
            household_type: v.household_type().to_string(),
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
                village: village_str(s).to_string(),
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
