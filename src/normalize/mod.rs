//! Stage 2: [`Table`]s of raw cells → [`Record`]s of normalised values.
//!
//! In: the rows the reader found, every value as the workbook holds it.
//! Out: one [`Record`] per [`RawRow`], in the same order, with cleaned names,
//! classified IDs, parsed dates, sex, status and grade, and the canonical
//! village. Nothing here rejects a row or reports a problem: the raw text
//! stays on the record so `check` can say exactly what the cell held.
//! Every normaliser is idempotent on its own clean output.

pub mod date;
pub mod grade;
pub mod intern;
pub mod name;
pub mod place;
pub mod sex;
pub mod status;
pub mod text;
pub mod village;

#[cfg(test)]
mod proptests;

pub use intern::Interner;
pub use status::StatusWords;
pub use village::VillageIndex;

use crate::hash::MixMap;
use crate::model::{Cell, Field, GradeValue, RawRow, Record, StatusValue, Table};
use arcstr::ArcStr;
use compact_str::CompactString;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One [`Record`] per row of `table`, in row order; the role is the table's.
/// Status words are the built-in ones (see [`normalize_table_with`]).
pub fn normalize_table(table: &Table, villages: &VillageIndex) -> Vec<Record> {
    normalize_table_with(table, villages, &StatusWords::default())
}

/// As [`normalize_table`], with the round's status words (the county's own
/// words and the county, to tell a school outside it).
pub fn normalize_table_with(
    table: &Table,
    villages: &VillageIndex,
    words: &StatusWords,
) -> Vec<Record> {
    Normalizer::new(table, villages, words).rows(&table.rows)
}

/// Normalises the rows of one table, any number at a time: the rows of a
/// table being read need not all be held. Every record of the table shares
/// one map of its columns.
pub struct Normalizer<'a> {
    /// The table's description (its rows are not used).
    table: Table,
    cols: Arc<BTreeMap<Field, u32>>,
    sheet_village: Option<String>,
    villages: &'a VillageIndex,
    words: &'a StatusWords,
}

impl<'a> Normalizer<'a> {
    pub fn new(table: &Table, villages: &'a VillageIndex, words: &'a StatusWords) -> Self {
        Normalizer {
            table: table.description(),
            cols: Arc::new(table.columns.clone()),
            sheet_village: sheet_village(table, villages),
            villages,
            words,
        }
    }

    /// One [`Record`] per row, in row order.
    pub fn rows(&self, rows: &[RawRow]) -> Vec<Record> {
        let mut parts = self.rows_in_parts(rows);
        if parts.len() == 1 {
            return parts.pop().unwrap_or_default();
        }
        let mut out = Vec::with_capacity(rows.len());
        for part in parts {
            out.extend(part);
        }
        out
    }

    /// As [`Normalizer::rows`], in consecutive parts (one per thread that
    /// made them), so a caller that keeps parts need not copy them into
    /// one vector.
    pub fn rows_in_parts(&self, rows: &[RawRow]) -> Vec<Vec<Record>> {
        let (table, cols, villages, words) = (&self.table, &self.cols, self.villages, self.words);
        let sheet_village = self.sheet_village.as_deref();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(2);
        // Repeated text (villages, statuses, schools) is shared within each
        // call and thread: one interner each.
        let run = |part: &[RawRow]| {
            let mut seen = Seen::default();
            part.iter()
                .map(|row| {
                    normalize_row(table, cols, row, villages, sheet_village, words, &mut seen)
                })
                .collect::<Vec<_>>()
        };
        if workers <= 1 || rows.len() < PARALLEL_MIN_ROWS {
            return vec![run(rows)];
        }
        // Rows are independent: contiguous halves on two threads, in the
        // rows' order.
        let chunk = rows.len().div_ceil(workers);
        std::thread::scope(|s| {
            let handles: Vec<_> = rows
                .chunks(chunk)
                .map(|part| s.spawn(move || run(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(part) => part,
                    Err(e) => std::panic::resume_unwind(e),
                })
                .collect()
        })
    }
}

/// The village of a table without a village column, for a workbook with
/// one sheet per village: the known village its sheet name names, else its
/// title (the rows above the header).
fn sheet_village(table: &Table, villages: &VillageIndex) -> Option<String> {
    if table.columns.contains_key(&Field::Village) {
        return None;
    }
    villages
        .find_in(&table.sheet)
        .or_else(|| villages.find_in(&table.preamble))
}

/// Below this many rows a table is normalised on one thread.
const PARALLEL_MIN_ROWS: usize = 2048;

/// A cell's display text, borrowed for text cells.
fn shown(c: &Cell) -> Cow<'_, str> {
    match c {
        Cell::Text(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.display()),
    }
}

/// [`Cell::display`] as a compact string: short text stays inline.
fn shown_compact(c: &Cell) -> CompactString {
    match c {
        Cell::Text(s) => CompactString::new(s),
        other => other.display().into(),
    }
}

/// What one normalising thread keeps from row to row: one shared copy of
/// each distinct text, and what a status, grade or village text came to
/// (a county has a handful of each, and every row would ask again).
#[derive(Default)]
struct Seen {
    strs: Interner,
    status: MixMap<(ArcStr, ArcStr), StatusValue>,
    grade: MixMap<ArcStr, GradeValue>,
    village: MixMap<ArcStr, Option<ArcStr>>,
}

/// Distinct texts each of [`Seen`]'s answers keeps (free text in a status
/// column must not grow them without end).
const SEEN_MAX: usize = 4096;

/// `map[key]`, made by `make` the first time (kept while the map is small).
fn remembered<K: std::hash::Hash + Eq, V: Clone>(
    map: &mut MixMap<K, V>,
    key: K,
    make: impl FnOnce(&K) -> V,
) -> V {
    if let Some(v) = map.get(&key) {
        return v.clone();
    }
    let v = make(&key);
    if map.len() < SEEN_MAX {
        map.insert(key, v.clone());
    }
    v
}

fn normalize_row(
    table: &Table,
    cols: &Arc<BTreeMap<Field, u32>>,
    row: &RawRow,
    villages: &VillageIndex,
    sheet_village: Option<&str>,
    words: &StatusWords,
    seen: &mut Seen,
) -> Record {
    let Seen {
        strs,
        status: status_seen,
        grade: grade_seen,
        village: village_seen,
    } = seen;
    // As `clean_text(&row.text(f))`, without the intermediate copies.
    let t = |f: Field| {
        row.cell(f)
            .map(|c| text::clean_compact(shown(c).trim()))
            .unwrap_or_default()
    };
    let raw = |f: Field| row.cell(f).map(shown_compact).unwrap_or_default();
    // The same, for text many rows repeat: one shared copy per value.
    let t_shared = |strs: &mut Interner, f: Field| match row.cell(f) {
        Some(c) => strs.get(&text::clean_cow(shown(c).trim())),
        None => ArcStr::new(),
    };
    let raw_shared = |strs: &mut Interner, f: Field| match row.cell(f) {
        Some(c) => strs.get(&shown(c)),
        None => ArcStr::new(),
    };
    let empty = Cell::Empty;
    let cell = |f: Field| row.cell(f).unwrap_or(&empty);

    let name_raw = raw(Field::Name);
    let mut village_raw = raw_shared(strs, Field::Village);
    if !table.columns.contains_key(&Field::Village) {
        // No village column: a known village named in the address, else the
        // sheet's own village (one sheet per village).
        let address = raw(Field::Address);
        if let Some(v) = villages.find_in(&address) {
            village_raw = strs.get(&v);
        } else if let Some(v) = sheet_village {
            village_raw = strs.get(v);
        }
    }
    let status_raw = raw_shared(strs, Field::Status);
    let grade_raw = raw_shared(strs, Field::Grade);
    let reason = t_shared(strs, Field::Reason);
    let status = remembered(
        status_seen,
        (status_raw.clone(), reason.clone()),
        |(s, r)| words.parse(s, r),
    );
    let grade = remembered(grade_seen, grade_raw.clone(), |g| grade::parse_grade(g));
    let village = remembered(village_seen, village_raw.clone(), |v| {
        villages.canonical(v).map(|v| strs.get(&v))
    });
    Record {
        table: table.index,
        role: table.role,
        row: row.row,
        name: name::clean_compact(&name_raw),
        name_raw,
        id: crate::gb11643::parse_id(cell(Field::Id)),
        sex: sex::parse_sex(cell(Field::Sex)),
        sex_raw: raw_shared(strs, Field::Sex),
        birth: date::parse_date(cell(Field::Birthdate)),
        birth_raw: raw(Field::Birthdate),
        village,
        village_raw,
        group: t_shared(strs, Field::Group),
        household_head: t(Field::HouseholdHead),
        household_type: t_shared(strs, Field::HouseholdType),
        township: t_shared(strs, Field::Township),
        status,
        status_raw,
        school: t_shared(strs, Field::School),
        grade,
        grade_raw,
        reason,
        evidence: t_shared(strs, Field::Evidence),
        surveyor: t_shared(strs, Field::Surveyor),
        remark: t_shared(strs, Field::Remark),
        platform_status: t_shared(strs, Field::PlatformStatus),
        platform_dropout: t_shared(strs, Field::PlatformDropout),
        platform_reason: t_shared(strs, Field::PlatformReason),
        household_no: t(Field::HouseholdNo),
        cols: Arc::clone(cols),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, SchoolConfig};
    use crate::model::{
        DateValue, Format, GradeValue, IdKind, RawValue, Role, Sex, Status, StatusValue,
    };
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    pub(crate) fn table(role: Role, fields: &[Field], rows: Vec<Vec<Cell>>) -> Table {
        let columns: BTreeMap<Field, u32> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, i as u32 + 1))
            .collect();
        let rows: Vec<RawRow> = rows
            .into_iter()
            .enumerate()
            .map(|(r, cells)| RawRow {
                row: r as u32 + 4,
                values: fields
                    .iter()
                    .zip(cells)
                    .enumerate()
                    .map(|(i, (f, cell))| {
                        (
                            *f,
                            RawValue {
                                col: i as u32 + 1,
                                cell,
                            },
                        )
                    })
                    .collect(),
            })
            .collect();
        Table {
            index: 0,
            input: crate::model::InputId(0),
            path: PathBuf::from("附件1.xlsx"),
            file: "附件1.xlsx".into(),
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

    #[test]
    fn fills_every_field() {
        let mut cfg = Config::for_school_year(2022);
        cfg.schools = vec![SchoolConfig {
            name: "熨斗初级中学".into(),
            villages: vec!["金星村".into()],
        }];
        let ix = VillageIndex::from_config(&cfg);
        let t = |s: &str| Cell::Text(s.into());
        let tab = table(
            Role::Survey,
            &[
                Field::Village,
                Field::Name,
                Field::Sex,
                Field::Id,
                Field::Birthdate,
                Field::Status,
                Field::School,
                Field::Grade,
                Field::Reason,
                Field::Evidence,
            ],
            vec![vec![
                t("熨斗镇金星"),
                t(" 李 倩 "),
                t("女性"),
                t("'11010519491231002x"),
                t("2010.5"),
                t("否"),
                Cell::Empty,
                t("五年级2班"),
                t("辍学在家"),
                t("\u{3000}"),
            ]],
        );
        let recs = normalize_table(&tab, &ix);
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!(r.role, Role::Survey);
        assert_eq!(r.row, 4);
        assert_eq!(r.name, "李倩");
        assert_eq!(r.name_raw, " 李 倩 ");
        assert_eq!(r.id.kind, IdKind::Valid);
        assert_eq!(r.sex, Some(Sex::Female));
        assert_eq!(r.birth, DateValue::Month(2010, 5));
        assert_eq!(r.village.as_deref(), Some("金星村"));
        assert_eq!(r.village_raw, "熨斗镇金星");
        assert_eq!(r.status, StatusValue::Known(Status::Dropout));
        assert_eq!(r.grade, GradeValue::Known(5));
        assert_eq!(r.school, "");
        assert_eq!(r.evidence, "");
        assert_eq!(r.reason, "辍学在家");
        assert_eq!(r.col(Field::Id), Some(4));
        // Short per-person text lives inside the record, not on the heap.
        for s in [&r.name, &r.name_raw, &r.id.clean, &r.id.raw] {
            assert!(!s.is_heap_allocated(), "{s}");
        }
        // Empty text is the static empty string.
        assert!(ArcStr::is_static(&r.school) && ArcStr::is_static(&r.evidence));
    }

    #[test]
    fn rows_share_repeated_text() {
        let ix = VillageIndex::from_config(&Config::for_school_year(2022));
        let t = |s: &str| Cell::Text(s.into());
        let row = |name: &str| {
            vec![
                t("金星村"),
                t(" 2组"),
                t(name),
                t("在校(本县)"),
                t("熨斗中学"),
            ]
        };
        let tab = table(
            Role::Survey,
            &[
                Field::Village,
                Field::Group,
                Field::Name,
                Field::Status,
                Field::School,
            ],
            vec![row("李倩"), row("王芳")],
        );
        let recs = normalize_table(&tab, &ix);
        let (a, b) = (&recs[0], &recs[1]);
        assert_eq!((a.name.as_str(), b.name.as_str()), ("李倩", "王芳"));
        assert_eq!(a.group, "2组");
        for (x, y) in [
            (&a.village_raw, &b.village_raw),
            (&a.group, &b.group),
            (&a.status_raw, &b.status_raw),
            (&a.school, &b.school),
        ] {
            assert!(ArcStr::ptr_eq(x, y), "{x} is one shared copy");
        }
    }

    #[test]
    fn remembered_answers_are_the_answers_of_each_row_alone() {
        // Status, grade and village answers are kept from row to row: a
        // table of repeated and different texts reads as each row alone.
        let mut ix = VillageIndex::from_config(&Config::for_school_year(2022));
        ix.learn("金星村");
        ix.learn("双坪村");
        let t = |s: &str| Cell::Text(s.into());
        let fields = [
            Field::Village,
            Field::Name,
            Field::Status,
            Field::Reason,
            Field::Grade,
        ];
        let rows: Vec<Vec<Cell>> = [
            ("金星村", "在校", "", "三年级"),
            ("金星", "辍学", "外出务工", "初一"),
            ("金星村", "在校", "", "三年级"),
            ("双坪", "否", "外出务工", "7年级"),
            ("金星", "辍学", "", "初一"),
            ("白云村", "否", "在本县读书", "高一"),
        ]
        .iter()
        .map(|(v, s, r, g)| vec![t(v), t("李倩"), t(s), t(r), t(g)])
        .collect();
        let all = normalize_table(&table(Role::Survey, &fields, rows.clone()), &ix);
        for (i, row) in rows.into_iter().enumerate() {
            let alone = normalize_table(&table(Role::Survey, &fields, vec![row]), &ix);
            let (a, b) = (&all[i], &alone[0]);
            assert_eq!(
                (&a.status, &a.grade, &a.village),
                (&b.status, &b.grade, &b.village),
                "row {i}"
            );
        }
        assert_ne!(all[0].status, all[1].status);
        assert!(all[1].village.is_some() && all[5].village.is_none());
    }

    #[test]
    fn a_record_stays_small() {
        let size = std::mem::size_of::<Record>();
        assert!(size <= 440, "Record is {size} bytes");
    }
}
