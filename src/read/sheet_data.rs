//! One sheet as read: cells at absolute 1-based positions plus merged
//! ranges, whatever the container (xlsx, xls, ods, csv, XML 2003) it came
//! from. The loaders build it; header finding and row reading use it.

use super::Grid;
use crate::model::Cell;
use std::collections::{BTreeMap, HashMap};

/// The last column holding a cell in any of `rows` (0: none).
pub(crate) fn width_of(rows: &BTreeMap<u32, BTreeMap<u32, Cell>>) -> u32 {
    rows.values()
        .filter_map(|r| r.keys().next_back().copied())
        .max()
        .unwrap_or(0)
}

/// One sheet, with absolute 1-based positions.
#[derive(Debug, Default)]
pub(crate) struct SheetData {
    pub name: String,
    /// row → (col → cell); only non-empty cells.
    pub rows: BTreeMap<u32, BTreeMap<u32, Cell>>,
    /// (first_row, first_col, last_row, last_col), 1-based, inclusive.
    pub merges: Vec<(u32, u32, u32, u32)>,
    /// covered cell → index into `merges` (clamped to the used area).
    covered: HashMap<(u32, u32), usize>,
    /// The last column with a cell (of the whole sheet, when only its
    /// first rows are held).
    width: u32,
}

impl SheetData {
    pub fn new(
        name: String,
        rows: BTreeMap<u32, BTreeMap<u32, Cell>>,
        merges: Vec<(u32, u32, u32, u32)>,
    ) -> SheetData {
        let max_col = width_of(&rows);
        SheetData::within(name, rows, merges, max_col)
    }

    /// The first rows of a sheet whose last column with a cell (in any row)
    /// is `max_col`: merges are clamped and columns scanned as for the whole
    /// sheet, as far as these rows go.
    pub fn within(
        name: String,
        rows: BTreeMap<u32, BTreeMap<u32, Cell>>,
        merges: Vec<(u32, u32, u32, u32)>,
        max_col: u32,
    ) -> SheetData {
        let max_row = rows.keys().next_back().copied().unwrap_or(0);
        let mut covered = HashMap::new();
        for (i, &(r0, c0, r1, c1)) in merges.iter().enumerate() {
            // Clamp: a merge may run far past the data (A1:XFD1); only the used
            // area matters for lookups.
            let r1 = r1.min(max_row.max(r0));
            let c1 = c1.min(max_col.max(c0));
            for r in r0..=r1 {
                for c in c0..=c1 {
                    covered.insert((r, c), i);
                }
            }
        }
        SheetData {
            name,
            rows,
            merges,
            covered,
            width: max_col,
        }
    }

    /// The cell as stored (no merge resolution).
    pub fn raw(&self, row: u32, col: u32) -> Option<&Cell> {
        self.rows.get(&row).and_then(|r| r.get(&col))
    }

    /// The merged range covering (row, col), if any.
    pub fn merge_at(&self, row: u32, col: u32) -> Option<(u32, u32, u32, u32)> {
        self.covered.get(&(row, col)).map(|&i| self.merges[i])
    }

    /// The value shown at (row, col): a cell covered by a merge shows the
    /// merge's top-left value.
    pub fn shown(&self, row: u32, col: u32) -> Option<&Cell> {
        match self.raw(row, col) {
            Some(c) if !c.is_empty() => Some(c),
            other => match self.merge_at(row, col) {
                Some((r0, c0, _, _)) if (r0, c0) != (row, col) => self.raw(r0, c0).or(other),
                _ => other,
            },
        }
    }

    pub fn max_col(&self) -> u32 {
        self.width
    }

    pub fn into_grid(self) -> Grid {
        let mut cells = Vec::new();
        for (r, cols) in self.rows {
            for (c, cell) in cols {
                cells.push((r, c, cell));
            }
        }
        Grid {
            sheet: self.name,
            cells,
            merges: self.merges,
        }
    }
}
