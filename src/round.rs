//! One round of verification, as a library call: the inputs are read,
//! normalised, checked, linked roster ↔ surveys and the annexes derived.
//! [`Round::compute`] is the whole round (`taizhang reconcile`),
//! [`Round::check_only`] the record-level checks of some workbooks without a
//! roster (`taizhang check`). Writing the results is [`crate::output`]'s;
//! what a front end shows while it runs is its [`Progress`].

use crate::check;
use crate::config::{Config, ConfigError};
use crate::derive::{self, Derived};
use crate::inputs::{Inputs, labels};
use crate::link::{self, LinkParams, Pair};
use crate::model::{
    Decision, Field, Finding, RawRow, Record, Role, Severity, Status, StatusValue, Table,
};
use crate::normalize::village::VillageIndex;
use crate::normalize::{Normalizer, StatusWords};
use crate::read::{ReadError, RowSink};
use crate::report::html::VillageLine;
use crate::report::{self, InputInfo, SkippedInput, Summary};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

/// What a front end is told while a round runs. Every method does nothing
/// by default; [`Silent`] is a progress that shows nothing.
pub trait Progress: Sync {
    /// A phase of the round ended: `read`, `normalize`, `check`, `link`,
    /// `link_findings`, `derive`, `outputs`.
    fn phase(&self, _name: &str) {}
    /// Work of `len` steps begins (`what`: 读取, 匹配, 标注, 写出).
    fn begin(&self, _what: &str, _len: u64) {}
    /// One step of the current work is done (`item` names it).
    fn step(&self, _item: &str) {}
    /// The current work is over.
    fn end(&self) {}
    /// The role a sheet recognised from content got, and why.
    fn role(&self, _line: &str) {}
    /// An input was left out of the round (not an input, or unreadable).
    fn warn(&self, _line: &str) {}
    /// One output task took `took` (tasks may run in parallel).
    fn task(&self, _name: &str, _took: Duration) {}
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {}

/// Why a round could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("找不到文件夹 {}（请给出存放本轮表格的文件夹，或用 --roster/--survey 指定文件）", .0.display())]
    NoFolder(PathBuf),
    #[error(
        "没有要核对的表格：请给出文件夹（taizhang reconcile 文件夹），或用 --roster 和 --survey 指定文件"
    )]
    NoInputs,
    #[error(
        "没有找到县局名单：请用 --roster 指定，或确认文件夹中名单的标题/表头（如“证件号码”“在校生状况”）。只检查摸底表请用 taizhang check{}",
        skipped_note(.skipped)
    )]
    NoRoster { skipped: Vec<SkippedInput> },
    #[error(
        "没有找到摸底调查表（附件1）：请用 --survey 指定，或确认表头中有“就读状态”列{}",
        skipped_note(.skipped)
    )]
    NoSurvey { skipped: Vec<SkippedInput> },
    #[error("{0}")]
    Message(String),
}

/// When the round cannot go on, the files left out may be why: name them.
fn skipped_note(skipped: &[SkippedInput]) -> String {
    skipped
        .iter()
        .map(|s| format!("\n未能读取，已跳过：{}：{}", s.file, s.reason))
        .collect()
}

/// Everything one round computed.
pub struct Round {
    pub config: Config,
    /// Only the record-level checks ran ([`Round::check_only`]): no links,
    /// no derived annexes.
    pub check_only: bool,
    /// The files read, each once, in the order given.
    pub inputs: Vec<PathBuf>,
    /// The tables read; in a whole round only the statistics tables keep
    /// their rows (the others' rows are normalised as they are read).
    pub tables: Vec<Table>,
    /// Roster rows per table skipped as outside the age window.
    pub out_of_window: Vec<usize>,
    pub records: Vec<Record>,
    pub findings: Vec<Finding>,
    pub pairs: Vec<Pair>,
    pub derived: Derived,
    pub summary: Summary,
    /// Records of the roster that are children of the round.
    pub roster: Vec<usize>,
    pub survey: Vec<usize>,
}

impl Round {
    /// The whole round: roster ↔ surveys, hand-filled ledgers and
    /// statistics tables, derived annexes.
    ///
    /// ```
    /// use taizhang::config::Config;
    /// use taizhang::inputs::Selection;
    /// use taizhang::round::{Round, Silent};
    ///
    /// let inputs = Selection::folder("samples").resolve()?;
    /// let config = Config::find(None, Some("samples".as_ref()))?;
    /// let round = Round::compute(&inputs, &config, &Silent)?;
    /// assert!(round.summary.linked > 0);
    /// assert!(!round.derived.ledger.is_empty());
    /// # Ok::<(), taizhang::round::RoundError>(())
    /// ```
    pub fn compute(
        inputs: &Inputs,
        config: &Config,
        progress: &dyn Progress,
    ) -> Result<Round, RoundError> {
        // Rows are normalised as they are read (see [`Flow`]), with the
        // configured villages and county; what the roster teaches when they
        // are not configured is applied once every table is read.
        let villages_given = VillageIndex::from_config(config);
        let words_given = StatusWords::new(&config.status_words, config.county.as_deref());
        let open = |t: &Table| Flow::new(t, config, &villages_given, &words_given);
        let (read, skipped_inputs) = inputs.read_into(config, progress, &open)?;
        let (mut tables, flows): (Vec<Table>, Vec<Flow>) = read.into_iter().unzip();
        let notes = inputs.settle_roles(&mut tables);
        for line in inputs.role_lines(&tables, &notes) {
            progress.role(&line);
        }
        let roles = |role: Role| tables.iter().filter(move |t| t.role == role).count();
        if roles(Role::Roster) == 0 {
            return Err(RoundError::NoRoster {
                skipped: skipped_inputs,
            });
        }
        if roles(Role::Survey) == 0 {
            return Err(RoundError::NoSurvey {
                skipped: skipped_inputs,
            });
        }
        progress.phase("read");
        let villages = learned_villages(&villages_given, &tables, &flows);
        let words = match (&config.county, learned_county(&tables, &flows)) {
            (None, Some(county)) => StatusWords::new(&config.status_words, Some(&county)),
            _ => words_given.clone(),
        };
        let (records, per_table) = gather(&mut tables, flows, &villages, &words, config);
        progress.phase("normalize");
        let of_role = |role: Role| -> Vec<usize> {
            tables
                .iter()
                .filter(|t| t.role == role)
                .flat_map(|t| per_table[t.index].iter().copied())
                .collect()
        };
        // Roster rows outside the age window (the other members of a
        // whole-household export) are counted once here and take no part in
        // checking, linking or deriving.
        let out_of_window = out_of_window_counts(config, &tables, &records);
        let roster: Vec<usize> = of_role(Role::Roster)
            .into_iter()
            .filter(|&i| !check::outside_round(&records[i], config))
            .collect();
        let survey = of_role(Role::Survey);
        let ledger = of_role(Role::Ledger);

        // The single-record checks need no links: they run beside the
        // linker, on the core its one-thread stretches leave idle.
        progress.begin("匹配", 1);
        let params = LinkParams::default();
        let (mut findings, pairs) = std::thread::scope(|s| {
            let checking = s.spawn(|| {
                let mut found = Vec::new();
                for t in tables.iter().filter(|t| t.role != Role::Stats) {
                    found.extend(check_one(t, &records, &per_table, config, &villages));
                }
                found.extend(check::check_duplicates_in_round(&tables, &records, config));
                found
            });
            let pairs = link::link(&records, &roster, &survey, &params);
            (joined(checking), pairs)
        });
        progress.end();
        progress.phase("check+link");
        // The link findings and the derived annexes both read the pairs
        // only: side by side.
        let (link_found, derived) = std::thread::scope(|s| {
            let deriving = s.spawn(|| {
                derive::derive_round(config, &tables, &records, &roster, &survey, &pairs)
            });
            let found = link::link_findings(&tables, &records, &roster, &survey, &pairs);
            (found, joined(deriving))
        });
        findings.extend(link_found);
        progress.phase("link_findings+derive");
        if !ledger.is_empty() {
            let ledger_pairs = link::link(&records, &roster, &ledger, &params);
            findings.extend(derive::check_ledger(
                &tables,
                &records,
                &roster,
                &ledger,
                &ledger_pairs,
                &pairs,
            ));
        }
        // STATS_DIFFERS: recount from the hand-filled ledger when there is one.
        let expected = if ledger.is_empty() {
            derived.stats.clone()
        } else {
            let order = derive::village_order(config, &records, &roster);
            derive::stats_from(
                &order,
                ledger.iter().map(|&i| {
                    let r = &records[i];
                    (
                        r.village.as_deref().unwrap_or(r.village_raw.as_str()),
                        derive::ledger_landing(r),
                    )
                }),
            )
        };
        for t in tables.iter().filter(|t| t.role == Role::Stats) {
            findings.extend(derive::check_stats(t, Some(&expected), &villages));
        }

        let paths = inputs.read_paths(&tables);
        crate::model::fill_related_columns(&mut findings, &tables);
        report::sort_findings(&mut findings, &labels(&paths));
        let mut summary = Summary::count(&findings);
        let in_pair_survey: HashSet<usize> = pairs.iter().map(|p| p.survey).collect();
        summary.linked = pairs
            .iter()
            .filter(|p| p.decision == Decision::Linked)
            .count();
        let pending = derive::Pending::of(&derived.ledger);
        // Later roster copies of a child are neither linked nor "only in the
        // roster": the count is the ledger's 未摸底.
        summary.roster_only = pending.unsurveyed;
        summary.pending = Some(pending);
        summary.ready = summary.ready && skipped_inputs.is_empty();
        summary.skipped_inputs = skipped_inputs;
        summary.survey_only = survey
            .iter()
            .filter(|i| !in_pair_survey.contains(i))
            .count();
        progress.phase("summary");
        Ok(Round {
            config: config.clone(),
            check_only: false,
            inputs: paths,
            tables,
            out_of_window,
            records,
            findings,
            pairs,
            derived,
            summary,
            roster,
            survey,
        })
    }

    /// The record-level checks of every table (surveys, ledgers, statistics
    /// tables, rosters), no roster needed: no links, no derived annexes.
    /// Every file must be readable.
    pub fn check_only(
        inputs: &Inputs,
        config: &Config,
        progress: &dyn Progress,
    ) -> Result<Round, RoundError> {
        let (tables, skipped_inputs) = inputs.read(config, progress)?;
        let villages = village_index(config, &tables);
        let words = status_words(config, &tables);
        let (records, per_table) = normalize_all(&tables, &villages, &words);
        let mut findings = Vec::new();
        for t in &tables {
            if t.role == Role::Stats {
                findings.extend(derive::check_stats(t, None, &villages));
            } else {
                findings.extend(check_one(t, &records, &per_table, config, &villages));
            }
        }
        findings.extend(check::check_duplicates_in_round(&tables, &records, config));
        // Every file given is read (or the check stops): each gets a copy.
        let paths: Vec<PathBuf> = inputs.files.iter().map(|i| i.path.clone()).collect();
        crate::model::fill_related_columns(&mut findings, &tables);
        report::sort_findings(&mut findings, &labels(&paths));
        let mut summary = Summary::count(&findings);
        summary.ready = summary.ready && skipped_inputs.is_empty();
        summary.skipped_inputs = skipped_inputs;
        Ok(Round {
            config: config.clone(),
            check_only: true,
            inputs: paths,
            out_of_window: out_of_window_counts(config, &tables, &records),
            tables,
            records,
            findings,
            pairs: Vec::new(),
            derived: Derived::default(),
            summary,
            roster: Vec::new(),
            survey: Vec::new(),
        })
    }

    /// The inputs as findings.json and the terminal list them.
    pub fn input_infos(&self) -> Vec<InputInfo> {
        self.tables
            .iter()
            .map(|t| InputInfo {
                file: t.file.clone(),
                role: t.role,
                sheet: t.sheet.clone(),
                header_row: t.header_row,
                rows: t.row_count,
                skipped: t.skipped,
                skipped_out_of_window: self.out_of_window.get(t.index).copied().unwrap_or(0),
            })
            .collect()
    }

    /// Per-village counts: roster, surveyed, linked, errors, warnings, dropouts.
    pub fn village_lines(&self) -> Vec<VillageLine> {
        let order = derive::village_order(&self.config, &self.records, &self.roster);
        // Keyed by the village text borrowed from the records and findings:
        // a line's own copy is made once, when the village is first met.
        let mut m: BTreeMap<&str, VillageLine> = BTreeMap::new();
        fn vname(r: &Record) -> &str {
            match r.village.as_deref() {
                Some(v) => v,
                None if r.village_raw.is_empty() => crate::report::html::NO_VILLAGE,
                None => r.village_raw.as_str(),
            }
        }
        fn entry<'k, 'm>(
            m: &'m mut BTreeMap<&'k str, VillageLine>,
            k: &'k str,
        ) -> &'m mut VillageLine {
            m.entry(k).or_insert_with(|| VillageLine {
                village: k.to_string(),
                ..Default::default()
            })
        }
        for &i in &self.roster {
            entry(&mut m, vname(&self.records[i])).roster += 1;
        }
        // A survey without a village (a school's registry list) counts its
        // linked children under their roster village.
        let roster_of: HashMap<usize, usize> = self
            .pairs
            .iter()
            .filter(|p| p.decision == Decision::Linked)
            .map(|p| (p.survey, p.roster))
            .collect();
        for &i in &self.survey {
            let r = &self.records[i];
            let name = match roster_of.get(&i) {
                Some(&ro) if r.village.is_none() && r.village_raw.trim().is_empty() => {
                    vname(&self.records[ro])
                }
                _ => vname(r),
            };
            let v = entry(&mut m, name);
            v.surveyed += 1;
            if matches!(r.status, StatusValue::Known(s) if s.is_dropout()) {
                v.dropouts += 1;
            }
        }
        for p in self.pairs.iter().filter(|p| p.decision == Decision::Linked) {
            entry(&mut m, vname(&self.records[p.roster])).linked += 1;
        }
        for f in &self.findings {
            let v = entry(
                &mut m,
                f.village
                    .as_deref()
                    .unwrap_or(crate::report::html::NO_VILLAGE),
            );
            match f.severity {
                Severity::Error => v.errors += 1,
                Severity::Warning => v.warnings += 1,
                Severity::Notice => {}
            }
        }
        let mut keys: Vec<String> = order
            .into_iter()
            .filter(|k| m.contains_key(k.as_str()))
            .collect();
        for k in m.keys() {
            if !keys.iter().any(|x| x == k) {
                keys.push(k.to_string());
            }
        }
        keys.into_iter()
            .filter_map(|k| m.remove(k.as_str()))
            .collect()
    }

    /// Roster children per status, then 状态待核实, 待人工确认 and 未摸底.
    pub fn status_counts(&self) -> Vec<(String, usize)> {
        use derive::Landing;
        let mut m: BTreeMap<Landing, usize> = BTreeMap::new();
        for l in &self.derived.ledger {
            *m.entry(l.landing).or_insert(0) += 1;
        }
        let mut out: Vec<(String, usize)> = Status::ALL
            .iter()
            .filter_map(|s| {
                m.get(&Landing::Known(*s))
                    .map(|n| (s.label_zh().to_string(), *n))
            })
            .collect();
        for (l, label) in [
            (Landing::StatusUnknown, derive::STATUS_PENDING_TEXT),
            (Landing::Unconfirmed, derive::UNCONFIRMED_TEXT),
            (Landing::NotSurveyed, derive::NOT_SURVEYED_TEXT),
        ] {
            if let Some(n) = m.get(&l) {
                out.push((label.to_string(), *n));
            }
        }
        out
    }
}

/// The result of a scoped thread; its panic goes on in the caller.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// The record-level checks of one table that is not a statistics table.
fn check_one(
    t: &Table,
    records: &[Record],
    per_table: &[Vec<usize>],
    config: &Config,
    villages: &VillageIndex,
) -> Vec<Finding> {
    let recs = records_of(records, &per_table[t.index]);
    let school = if t.role == Role::Survey {
        check::school_of_survey(t, config)
    } else {
        None
    };
    check::check_table(t, recs, config, villages, school.as_deref())
}

/// Village index: the configured villages, or (without a configuration)
/// every village the roster (else any input) names.
pub fn village_index(cfg: &Config, tables: &[Table]) -> VillageIndex {
    let mut idx = VillageIndex::from_config(cfg);
    if !idx.is_configured() {
        let has_roster = tables.iter().any(|t| t.role == Role::Roster);
        for t in tables
            .iter()
            .filter(|t| !has_roster || t.role == Role::Roster)
        {
            for r in &t.rows {
                let v = r.text(Field::Village);
                if !v.is_empty() {
                    idx.learn(&v);
                }
            }
        }
    }
    idx
}

/// The round's status words: the built-in table, the configuration's
/// `[status_words]`, and the county (the configuration's `county`, else the
/// value most roster rows hold in a 县 column).
pub fn status_words(cfg: &Config, tables: &[Table]) -> StatusWords {
    let county = cfg.county.clone().or_else(|| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for t in tables.iter().filter(|t| t.role == Role::Roster) {
            for r in &t.rows {
                let v = r.text(Field::County);
                let v = v.trim();
                if !v.is_empty() {
                    *counts.entry(v.to_string()).or_default() += 1;
                }
            }
        }
        let most = counts.values().copied().max()?;
        counts.into_iter().find(|(_, n)| *n == most).map(|(c, _)| c)
    });
    StatusWords::new(&cfg.status_words, county.as_deref())
}

/// Normalise every table; returns the records and, per table, the indices of its records.
pub fn normalize_all(
    tables: &[Table],
    villages: &VillageIndex,
    words: &StatusWords,
) -> (Vec<Record>, Vec<Vec<usize>>) {
    let mut records = Vec::new();
    let mut per_table = Vec::with_capacity(tables.len());
    for t in tables {
        let recs = crate::normalize::normalize_table_with(t, villages, words);
        let start = records.len();
        records.extend(recs);
        per_table.push((start..records.len()).collect());
    }
    (records, per_table)
}

/// The records of one table: `indices` are contiguous (see [`normalize_all`]).
pub fn records_of<'a>(records: &'a [Record], indices: &[usize]) -> &'a [Record] {
    match (indices.first(), indices.last()) {
        (Some(&a), Some(&b)) => &records[a..=b],
        _ => &[],
    }
}

/// Roster rows per table (by table index) that are not children of the
/// round (see [`crate::check::outside_round`]).
pub fn out_of_window_counts(cfg: &Config, tables: &[Table], records: &[Record]) -> Vec<usize> {
    let mut counts = vec![0; tables.len()];
    for r in records
        .iter()
        .filter(|r| crate::check::outside_round(r, cfg))
    {
        if let Some(n) = counts.get_mut(r.table) {
            *n += 1;
        }
    }
    counts
}

/// Rows normalised at a time while a table is read.
const FLOW_BATCH: usize = 8192;

/// What a whole round does with a table's rows as they are read: normalise
/// them a batch at a time, with the configured villages and county, and
/// note the villages and counties they name (for a round that learns them
/// from its roster). A statistics table, and a table without a village
/// column when the villages are learned (its village comes from an address
/// or its sheet, by the villages of the whole round), keeps its rows
/// instead: they are normalised once every table is read.
pub struct Flow<'a> {
    /// None: the rows are kept.
    norm: Option<Normalizer<'a>>,
    batch: Vec<RawRow>,
    /// The records made so far, a vector per batch and normalising thread: moved into the
    /// round's one vector, made at its final size, a batch at a time (a
    /// growing vector is copied into a larger one, twice the memory).
    records: Vec<Vec<Record>>,
    rows: Vec<RawRow>,
    learn_villages: bool,
    learn_county: bool,
    /// Village texts, each once, in the order first met.
    villages: Vec<String>,
    seen: HashSet<String>,
    /// Rows per text of the 县 column.
    counties: BTreeMap<String, usize>,
}

impl<'a> Flow<'a> {
    fn new(
        t: &Table,
        cfg: &Config,
        villages: &'a VillageIndex,
        words: &'a StatusWords,
    ) -> Flow<'a> {
        let keep = t.role == Role::Stats
            || (!villages.is_configured() && !t.columns.contains_key(&Field::Village));
        Flow {
            norm: (!keep).then(|| Normalizer::new(t, villages, words)),
            batch: Vec::new(),
            records: Vec::new(),
            rows: Vec::new(),
            learn_villages: !villages.is_configured(),
            learn_county: cfg.county.is_none(),
            villages: Vec::new(),
            seen: HashSet::new(),
            counties: BTreeMap::new(),
        }
    }

    /// A field's trimmed text as [`RawRow::text`] gives it, borrowed from
    /// the row when the cell holds text (a number or date is shown anew);
    /// "" when absent.
    fn text_of(row: &RawRow, f: Field) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match row.cell(f) {
            None => Cow::Borrowed(""),
            Some(crate::model::Cell::Text(s)) => Cow::Borrowed(s.trim()),
            Some(c) => Cow::Owned(c.display().trim().to_string()),
        }
    }

    fn flush(&mut self) {
        if let Some(n) = &self.norm
            && !self.batch.is_empty()
        {
            self.records.extend(n.rows_in_parts(&self.batch));
            self.batch.clear();
        }
    }
}

impl RowSink for Flow<'_> {
    fn row(&mut self, row: RawRow) {
        // Looked at in place: a text is copied only the first time it is met.
        if self.learn_villages {
            let v = Flow::text_of(&row, Field::Village);
            if !v.is_empty() && !self.seen.contains(v.as_ref()) {
                let v = v.into_owned();
                self.seen.insert(v.clone());
                self.villages.push(v);
            }
        }
        if self.learn_county {
            let v = Flow::text_of(&row, Field::County);
            if !v.is_empty() {
                match self.counties.get_mut(v.as_ref()) {
                    Some(n) => *n += 1,
                    None => {
                        self.counties.insert(v.into_owned(), 1);
                    }
                }
            }
        }
        if self.norm.is_none() {
            self.rows.push(row);
            return;
        }
        self.batch.push(row);
        if self.batch.len() >= FLOW_BATCH {
            self.flush();
        }
    }

    fn restart(&mut self) {
        self.batch.clear();
        self.records.clear();
        self.rows.clear();
        self.villages.clear();
        self.seen.clear();
        self.counties.clear();
    }

    fn end(&mut self) {
        self.flush();
    }
}

/// The round's villages: the configured ones, else those the roster tables
/// (else all tables) name, as [`village_index`] learns them.
fn learned_villages(given: &VillageIndex, tables: &[Table], flows: &[Flow]) -> VillageIndex {
    let mut idx = given.clone();
    if !idx.is_configured() {
        let has_roster = tables.iter().any(|t| t.role == Role::Roster);
        for (_, f) in tables
            .iter()
            .zip(flows)
            .filter(|(t, _)| !has_roster || t.role == Role::Roster)
        {
            for v in &f.villages {
                idx.learn(v);
            }
        }
    }
    idx
}

/// The county most roster rows hold in a 县 column (see [`status_words`]).
fn learned_county(tables: &[Table], flows: &[Flow]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, f) in tables
        .iter()
        .zip(flows)
        .filter(|(t, _)| t.role == Role::Roster)
    {
        for (c, n) in &f.counties {
            *counts.entry(c.as_str()).or_default() += n;
        }
    }
    let most = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(c, _)| c.to_string())
}

/// Every table's records, in table order, as [`normalize_all`] gives them
/// for the round's `villages` and `words`: the records made while reading
/// get their table's place and settled role, and the village and status
/// the round's learned villages and county decide; the kept rows are
/// normalised now and dropped, except a statistics table's.
fn gather(
    tables: &mut [Table],
    flows: Vec<Flow>,
    villages: &VillageIndex,
    words: &StatusWords,
    cfg: &Config,
) -> (Vec<Record>, Vec<Vec<usize>>) {
    let revillage = !VillageIndex::from_config(cfg).is_configured();
    let reparse = cfg.county.is_none() && !words.county().is_empty();
    let mut canonical: HashMap<arcstr::ArcStr, Option<arcstr::ArcStr>> = HashMap::new();
    let made: usize = flows
        .iter()
        .map(|f| f.records.iter().map(Vec::len).sum::<usize>() + f.rows.len())
        .sum();
    let mut records: Vec<Record> = Vec::with_capacity(made);
    let mut per_table = Vec::with_capacity(tables.len());
    for (t, f) in tables.iter_mut().zip(flows) {
        let start = records.len();
        if f.norm.is_none() {
            t.rows = f.rows;
            records.extend(crate::normalize::normalize_table_with(t, villages, words));
        } else {
            for batch in f.records {
                records.extend(batch);
            }
            {
                for r in &mut records[start..] {
                    r.table = t.index;
                    r.role = t.role;
                    if revillage {
                        r.village = match canonical.get(&r.village_raw) {
                            Some(v) => v.clone(),
                            None => {
                                let v =
                                    villages.canonical(&r.village_raw).map(arcstr::ArcStr::from);
                                canonical.insert(r.village_raw.clone(), v.clone());
                                v
                            }
                        };
                    }
                    if reparse {
                        r.status = words.parse(&r.status_raw, &r.reason);
                    }
                }
            }
        }
        if t.role != Role::Stats {
            t.rows = Vec::new();
        }
        per_table.push((start..records.len()).collect());
    }
    (records, per_table)
}
