//! The data-row rules shared by every reader: which rows of a sheet are
//! children (footers, totals, numbering rows, repeated headers and roster
//! rows of another township are not), and the rows as [`RawRow`]s.

use super::*;
use crate::hash::MixMap;

/// Footer and stray-line openings: a row whose first non-empty cell starts
/// with one of these is not a child.
const FOOTER_PREFIXES: &[&str] = &[
    "合计",
    "总计",
    "小计",
    "填表说明",
    "说明:",
    "注:",
    "备注:",
    "填表人",
    "填报人",
    "制表人",
    "审核人",
    "审核:",
    "负责人",
    "单位负责人",
    "签字",
    "校长签字",
    "校长(签字)",
    "校长:",
    "分管领导",
    "填表日期",
    "填报日期",
    "联系人:",
    "联系电话:",
    "(盖章)",
    "盖章",
];

fn is_total(text: &str) -> bool {
    text.starts_with("合计") || text.starts_with("总计")
}

/// One row's cells, as the data-row rules read them.
pub(super) trait RowCells {
    /// The first cell that is not blank.
    fn first(&self) -> Option<std::borrow::Cow<'_, str>>;
    /// The cell at 1-based `col`, when present.
    fn cell(&self, col: u32) -> Option<Cell>;
    /// The cells that are not blank, in column order.
    fn non_blank(&self) -> Vec<Cell>;
}

impl RowCells for BTreeMap<u32, Cell> {
    fn first(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.values().find(|c| !c.is_empty()).map(display)
    }
    fn cell(&self, col: u32) -> Option<Cell> {
        self.get(&col).cloned()
    }
    fn non_blank(&self) -> Vec<Cell> {
        self.values().filter(|c| !c.is_empty()).cloned().collect()
    }
}

impl RowCells for sheet::XlsxRow<'_> {
    fn first(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.cells()
            .map(|(_, c)| c)
            .find(|c| !c.is_empty())
            .map(|c| match c {
                Cell::Text(s) => std::borrow::Cow::Owned(s),
                other => std::borrow::Cow::Owned(other.display()),
            })
    }
    fn cell(&self, col: u32) -> Option<Cell> {
        self.get(col)
    }
    fn non_blank(&self) -> Vec<Cell> {
        self.cells()
            .map(|(_, c)| c)
            .filter(|c| !c.is_empty())
            .collect()
    }
}

impl RowCells for csv::Fields<'_> {
    fn first(&self) -> Option<std::borrow::Cow<'_, str>> {
        (0..self.len())
            .map(|i| self.get(i))
            .find(|v| !v.trim().is_empty())
            .map(std::borrow::Cow::Borrowed)
    }
    fn cell(&self, col: u32) -> Option<Cell> {
        let v = self.get(col.checked_sub(1)? as usize);
        (!v.is_empty()).then(|| Cell::Text(v.to_string()))
    }
    fn non_blank(&self) -> Vec<Cell> {
        (0..self.len())
            .map(|i| self.get(i))
            .filter(|v| !v.trim().is_empty())
            .map(|v| Cell::Text(v.to_string()))
            .collect()
    }
}

/// The rows of a sheet read a row at a time, through the data-row rules
/// into a sink: merges filled as [`RowMerges`] says.
pub(super) struct RowTaker<'a, 'm> {
    pub fill: RowMerges<'m>,
    pub rules: RowRules<'a>,
    /// Roster rows of another township.
    pub skipped: usize,
}

impl RowTaker<'_, '_> {
    /// Row `r` (rows in ascending order).
    pub(super) fn take(&mut self, r: u32, cols: &impl RowCells, sink: &mut dyn RowSink) {
        self.fill.see(r, cols);
        match self.rules.row(r, cols, &mut self.fill) {
            RowOutcome::Keep(row) => sink.row(row),
            RowOutcome::OtherTown => self.skipped += 1,
            RowOutcome::Drop => {}
        }
    }
}

/// What the data-row rules make of one row.
pub(super) enum RowOutcome {
    Keep(RawRow),
    /// A roster row of another township.
    OtherTown,
    /// Not a child: blank, footer, numbering or repeated header row.
    Drop,
}

/// Where the data-row rules find what a merge gives a blank cell.
pub(super) trait Merged {
    /// The value shown at the blank cell (`r`, `c`) of a data row when the
    /// merge covering it starts below the header row `below`, in column `c`
    /// (its top-left cell, Empty when that is blank); None otherwise.
    fn merged(&mut self, r: u32, c: u32, below: u32) -> Option<Cell>;
}

impl Merged for &SheetData {
    fn merged(&mut self, r: u32, c: u32, below: u32) -> Option<Cell> {
        match self.merge_at(r, c) {
            Some((r0, c0, _, _)) if r0 > below && c0 == c => {
                Some(self.raw(r0, c0).cloned().unwrap_or(Cell::Empty))
            }
            _ => None,
        }
    }
}

/// What merges give the data rows of a sheet read a row at a time, rows
/// in ascending order: the merges of each column of the table (the last
/// one listed wins where merges overlap, as in [`SheetData`]) and the
/// top-left values of those starting below the header, kept as their rows
/// pass.
pub(super) struct RowMerges<'m> {
    merges: &'m [(u32, u32, u32, u32)],
    columns: Vec<(u32, ColumnMerges)>,
    /// (row, col) of the top-left cells to keep, ascending; `next_top`
    /// is the first not yet passed.
    top_cells: Vec<(u32, u32)>,
    next_top: usize,
    tops: HashMap<(u32, u32), Cell>,
}

/// The merges covering one column, by first row, and those covering the
/// rows reached so far.
struct ColumnMerges {
    /// (first_row, last_row, index into the merges)
    by_start: Vec<(u32, u32, usize)>,
    next: usize,
    /// (last_row, index) of the merges started so far and not yet ended.
    active: Vec<(u32, usize)>,
}

impl<'m> RowMerges<'m> {
    /// `columns`: the table's columns; `below`: its header row.
    pub(super) fn new(merges: &'m [(u32, u32, u32, u32)], columns: &[u32], below: u32) -> Self {
        let mut cols: Vec<u32> = columns.to_vec();
        cols.sort_unstable();
        cols.dedup();
        let columns = cols
            .iter()
            .map(|&c| {
                let mut by_start: Vec<(u32, u32, usize)> = merges
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.1 <= c && c <= m.3)
                    .map(|(i, m)| (m.0, m.2, i))
                    .collect();
                by_start.sort_unstable();
                (
                    c,
                    ColumnMerges {
                        by_start,
                        next: 0,
                        active: Vec::new(),
                    },
                )
            })
            .collect();
        let mut top_cells: Vec<(u32, u32)> = merges
            .iter()
            .filter(|m| m.0 > below && cols.binary_search(&m.1).is_ok())
            .map(|m| (m.0, m.1))
            .collect();
        top_cells.sort_unstable();
        top_cells.dedup();
        RowMerges {
            merges,
            columns,
            top_cells,
            next_top: 0,
            tops: HashMap::new(),
        }
    }

    /// Row `r` is read (rows come in ascending order): keep its cells that
    /// are the top-left of a merge.
    pub(super) fn see(&mut self, r: u32, cols: &impl RowCells) {
        while let Some(&(tr, tc)) = self.top_cells.get(self.next_top) {
            if tr > r {
                break;
            }
            if tr == r
                && let Some(cell) = cols.cell(tc)
            {
                self.tops.insert((tr, tc), cell);
            }
            self.next_top += 1;
        }
    }
}

impl Merged for RowMerges<'_> {
    fn merged(&mut self, r: u32, c: u32, below: u32) -> Option<Cell> {
        let (_, col) = self.columns.iter_mut().find(|(x, _)| *x == c)?;
        while let Some(&(r0, r1, i)) = col.by_start.get(col.next) {
            if r0 > r {
                break;
            }
            col.active.push((r1, i));
            col.next += 1;
        }
        col.active.retain(|&(r1, _)| r1 >= r);
        let &(_, i) = col.active.iter().max_by_key(|(_, i)| *i)?;
        let (r0, c0, _, _) = self.merges[i];
        (r0 > below && c0 == c).then(|| self.tops.get(&(r0, c0)).cloned().unwrap_or(Cell::Empty))
    }
}

/// The state the data-row rules keep across the rows of one table.
pub(super) struct RowRules<'a> {
    h: &'a Header,
    role: Role,
    want_town: Option<String>,
    /// Answers of [`header::names_field`] for the data cells that need the
    /// full check (villages, groups, schools: few distinct values).
    /// Indexed by field (`Field as usize`).
    names_memo: Vec<MixMap<String, bool>>,
}

/// Distinct texts remembered per field by [`RowRules::names_field`].
const NAMES_MEMO_MAX: usize = 4096;

impl<'a> RowRules<'a> {
    pub(super) fn new(h: &'a Header, role: Role, township: Option<&str>) -> Self {
        RowRules {
            h,
            role,
            want_town: township.map(town_key).filter(|t| !t.is_empty()),
            names_memo: Vec::new(),
        }
    }

    fn names_field(&mut self, text: &str, f: Field) -> bool {
        if header::surely_names_no_field(text, f) {
            return false;
        }
        let k = f as usize;
        if self.names_memo.len() <= k {
            self.names_memo.resize_with(k + 1, MixMap::default);
        }
        let memo = &mut self.names_memo[k];
        if let Some(&b) = memo.get(text) {
            return b;
        }
        let b = header::names_field(text, f);
        if memo.len() < NAMES_MEMO_MAX {
            memo.insert(text.to_string(), b);
        }
        b
    }

    /// A header repeated inside the data (after a page break, or two tables
    /// pasted together): at least two cells name their own field.
    fn is_repeated_header(&mut self, values: &RawValues) -> bool {
        let mut n = 0;
        for (f, v) in values {
            if let Cell::Text(t) = &v.cell
                && self.names_field(t, *f)
            {
                n += 1;
                if n >= 2 {
                    return true;
                }
            }
        }
        false
    }

    /// The rules of [`data_rows`] for one row; `merged`: what merges give
    /// its blank cells.
    pub(super) fn row(
        &mut self,
        r: u32,
        cols: &impl RowCells,
        merged: &mut impl Merged,
    ) -> RowOutcome {
        let (h, role) = (self.h, self.role);
        // First non-empty cell's text, normalised.
        let Some(first) = cols.first() else {
            return RowOutcome::Drop;
        };
        let first = squash(&first);
        let mut values = RawValues::with_capacity(h.columns.len() + 2);
        let mut any = false;
        for (&f, &c) in &h.columns {
            let raw = cols.cell(c);
            let filled = raw.as_ref().is_some_and(|x| !x.is_empty());
            if f != Field::Seq && filled {
                any = true;
            }
            let cell = match raw {
                Some(x) if filled => x,
                // A merge starting in the data area fills every row it
                // covers, in its own column (a label merged across columns
                // says nothing about the neighbours); one starting in the
                // header does not.
                raw => match merged.merged(r, c, h.row) {
                    Some(x) => x,
                    None => raw.unwrap_or(Cell::Empty),
                },
            };
            values.insert(f, RawValue { col: c, cell });
        }
        if role == Role::Stats && is_total(&first) {
            if let Some(&vc) = h.columns.get(&Field::Village) {
                let v = values
                    .get(&Field::Village)
                    .map(|v| squash(&display(&v.cell)));
                if !v.is_some_and(|t| is_total(&t)) {
                    values.insert(
                        Field::Village,
                        RawValue {
                            col: vc,
                            cell: Cell::Text("合计".to_string()),
                        },
                    );
                }
            }
            return RowOutcome::Keep(RawRow { row: r, values });
        }
        if !any
            || FOOTER_PREFIXES.iter().any(|p| first.starts_with(p))
            || ["盖章", "签字", "签名"].iter().any(|p| first.contains(p))
        {
            return RowOutcome::Drop;
        }
        if r <= h.row + 2 && is_numbering_row(&cols.non_blank()) {
            return RowOutcome::Drop;
        }
        if self.is_repeated_header(&values) {
            return RowOutcome::Drop;
        }
        if role == Role::Roster
            && let Some(want) = &self.want_town
            && let Some(v) = values.get(&Field::Township)
        {
            let got = town_key(&display(&v.cell));
            if !got.is_empty() && &got != want {
                return RowOutcome::OtherTown;
            }
        }
        RowOutcome::Keep(RawRow { row: r, values })
    }
}

/// Rows below the header → RawRows, with merge forward-fill and stray rows
/// dropped; returns the rows and how many roster rows of another township
/// were skipped.
pub(super) fn data_rows(
    sh: &SheetData,
    h: &Header,
    role: Role,
    township: Option<&str>,
) -> (Vec<RawRow>, usize) {
    let mut out = Vec::new();
    let skipped = data_rows_into(sh, h, role, township, &mut out);
    (out, skipped)
}

/// [`data_rows`], each row given to `sink` as it is read; returns how many
/// roster rows of another township were skipped.
pub(super) fn data_rows_into(
    sh: &SheetData,
    h: &Header,
    role: Role,
    township: Option<&str>,
    sink: &mut dyn RowSink,
) -> usize {
    let mut skipped = 0;
    let mut rules = RowRules::new(h, role, township);
    for (&r, cols) in sh.rows.range(h.row + 1..) {
        match rules.row(r, cols, &mut &*sh) {
            RowOutcome::Keep(row) => sink.row(row),
            RowOutcome::OtherTown => skipped += 1,
            RowOutcome::Drop => {}
        }
    }
    skipped
}

/// [`data_rows`] for a csv file, its rows read straight from the text
/// (`head`: the file's first rows, where the header was found) and given
/// to `sink` as they are read. Only the cells of recognised columns are
/// copied.
#[cfg(test)]
pub(super) fn csv_data_rows(
    text: &csv::CsvText,
    path: &Path,
    head: &SheetData,
    h: &Header,
    role: Role,
    township: Option<&str>,
) -> Result<(Vec<RawRow>, usize), ReadError> {
    let mut out = Vec::new();
    let skipped = csv_data_rows_into(text, path, head, h, role, township, &mut out)?;
    Ok((out, skipped))
}

/// [`csv_data_rows`], each row given to `sink` as it is read; returns how
/// many roster rows of another township were skipped.
pub(super) fn csv_data_rows_into(
    text: &csv::CsvText,
    path: &Path,
    head: &SheetData,
    h: &Header,
    role: Role,
    township: Option<&str>,
    sink: &mut dyn RowSink,
) -> Result<usize, ReadError> {
    let mut skipped = 0;
    let mut rules = RowRules::new(h, role, township);
    let mut last_row = 0;
    let mut one_row_each = true;
    text.for_each_row(path, |r, fields| {
        if r == last_row {
            // Two records on one row (a stray quote mark): the sheet keeps
            // the later one; read the whole file as a sheet instead.
            one_row_each = false;
            return false;
        }
        last_row = r;
        if r > h.row {
            match rules.row(r, fields, &mut &*head) {
                RowOutcome::Keep(row) => sink.row(row),
                RowOutcome::OtherTown => skipped += 1,
                RowOutcome::Drop => {}
            }
        }
        true
    })?;
    if one_row_each {
        return Ok(skipped);
    }
    sink.restart();
    let mut rows = BTreeMap::new();
    text.for_each_row(path, |r, fields| {
        let mut cols = BTreeMap::new();
        for i in 0..fields.len() {
            let v = fields.get(i);
            if !v.is_empty() {
                cols.insert(i as u32 + 1, Cell::Text(v.to_string()));
            }
        }
        rows.insert(r, cols);
        true
    })?;
    let sh = SheetData::new(head.name.clone(), rows, Vec::new());
    Ok(data_rows_into(&sh, h, role, township, sink))
}

/// The column-number row some forms put under the header (1, 2, 3, …);
/// `cells`: the row's non-blank cells.
fn is_numbering_row(cells: &[Cell]) -> bool {
    let nums: Vec<Option<i64>> = cells
        .iter()
        .map(|c| match c {
            Cell::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            Cell::Text(t) => t.trim().parse().ok(),
            _ => None,
        })
        .collect();
    nums.len() >= 3
        && nums.iter().all(|n| n.is_some())
        && nums
            .windows(2)
            .all(|w| matches!(w, [Some(a), Some(b)] if b - a == 1))
}

/// Township name for comparison: normalised, without the 镇/乡/街道 suffix.
pub(super) fn town_key(s: &str) -> String {
    let n = squash(s);
    for suf in ["街道办事处", "街道办", "街道", "镇", "乡"] {
        if let Some(rest) = n.strip_suffix(suf)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    n
}

pub(super) fn truncate_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}
