//! Loading every sheet of a workbook or csv into [`SheetData`]: cells at
//! absolute 1-based positions plus merged ranges, whatever the container.

use super::{Grid, ReadError, file_label};
use crate::model::{Cell, Format};
use calamine::{Data, DataRef, Dimensions, Ods, Range, Reader, SheetType, Xls, Xlsx, XlsxError};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::Path;

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
}

impl SheetData {
    pub fn new(
        name: String,
        rows: BTreeMap<u32, BTreeMap<u32, Cell>>,
        merges: Vec<(u32, u32, u32, u32)>,
    ) -> SheetData {
        let max_row = rows.keys().next_back().copied().unwrap_or(0);
        let max_col = rows
            .values()
            .filter_map(|r| r.keys().next_back().copied())
            .max()
            .unwrap_or(0);
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
        self.rows
            .values()
            .filter_map(|r| r.keys().next_back().copied())
            .max()
            .unwrap_or(0)
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

/// Load every worksheet of the file (hidden ones included).
pub(crate) fn load(path: &Path, bytes: &[u8], format: Format) -> Result<Vec<SheetData>, ReadError> {
    match format {
        Format::Csv => super::csv::load(path, bytes).map(|s| vec![s]),
        _ => {
            // calamine has been known to panic on hostile files; a bad input
            // must be an Err, never a crash.
            let res = std::panic::catch_unwind(|| load_workbook(path, bytes, format));
            match res {
                Ok(r) => r,
                Err(_) => Err(ReadError::input(
                    path,
                    format!(
                        "「{}」的内容已损坏，无法解析。请在 Excel 或 WPS 中打开后重新保存为 .xlsx",
                        file_label(path)
                    ),
                )),
            }
        }
    }
}

fn calamine_err(path: &Path, e: impl std::fmt::Display) -> ReadError {
    let name = file_label(path);
    let text = e.to_string();
    if text.to_lowercase().contains("password") || text.to_lowercase().contains("encrypt") {
        return ReadError::input(
            path,
            format!(
                "「{name}」设置了密码保护，无法读取。请在 Excel 或 WPS 中去掉密码后另存为 .xlsx 再使用"
            ),
        );
    }
    ReadError::input(
        path,
        format!("无法读取「{name}」：文件可能已损坏（{text}）。请在 Excel 或 WPS 中打开后重新保存"),
    )
}

fn sheet_err(path: &Path, sheet: &str, e: impl std::fmt::Display) -> ReadError {
    ReadError::input(
        path,
        format!("无法读取「{}」的工作表「{sheet}」：{e}", file_label(path)),
    )
}

fn load_workbook(path: &Path, bytes: &[u8], format: Format) -> Result<Vec<SheetData>, ReadError> {
    let cursor = Cursor::new(bytes);
    let mut out = Vec::new();
    match format {
        Format::Xlsx | Format::Xlsm => {
            let mut wb: Xlsx<_> = Xlsx::new(cursor).map_err(|e| calamine_err(path, e))?;
            for name in worksheet_names(wb.sheets_metadata()) {
                let rows = xlsx_rows(&mut wb, &name).map_err(|e| sheet_err(path, &name, e))?;
                let merges = wb
                    .merge_cells_by_sheet_name(&name)
                    .map_err(|e| sheet_err(path, &name, e))?;
                out.push(with_merges(name, rows, &merges, &[]));
            }
        }
        Format::Xls => {
            let mut wb: Xls<_> = Xls::new(cursor).map_err(|e| calamine_err(path, e))?;
            for name in worksheet_names(wb.sheets_metadata()) {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| sheet_err(path, &name, e))?;
                let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
                out.push(to_sheet(name, &range, &merges, &[]));
            }
        }
        Format::Ods => {
            let mut wb: Ods<_> = Ods::new(cursor).map_err(|e| calamine_err(path, e))?;
            let merges = super::ods::merges(bytes).map_err(|e| calamine_err(path, e))?;
            for name in worksheet_names(wb.sheets_metadata()) {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| sheet_err(path, &name, e))?;
                let m = merges.get(&name).cloned().unwrap_or_default();
                out.push(to_sheet(name, &range, &[], &m));
            }
        }
        Format::Csv => unreachable!("csv handled by caller"),
    }
    Ok(out)
}

fn worksheet_names(meta: &[calamine::Sheet]) -> Vec<String> {
    meta.iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

/// The cells of an xlsx worksheet, streamed straight from calamine's cell
/// reader (no dense range, shared strings copied once). Same result as
/// `worksheet_range` + [`to_sheet`]: empty cells dropped, a later cell at the
/// same position replaces an earlier one (an empty string removes it).
fn xlsx_rows<RS: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
) -> Result<Rows, XlsxError> {
    let mut rows: Rows = BTreeMap::new();
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(r) => r,
        // calamine's worksheet_range reads a chart sheet as an empty range.
        Err(XlsxError::NotAWorksheet(_)) => return Ok(rows),
        Err(e) => return Err(e),
    };
    while let Some(c) = reader.next_cell()? {
        let (r, col) = c.get_position();
        let cell = convert_ref(c.get_value());
        let (row, col) = (r + 1, col + 1);
        match cell {
            Cell::Empty => {}
            Cell::Text(s) if s.is_empty() => {
                if let Some(cols) = rows.get_mut(&row) {
                    cols.remove(&col);
                    if cols.is_empty() {
                        rows.remove(&row);
                    }
                }
            }
            cell => {
                rows.entry(row).or_default().insert(col, cell);
            }
        }
    }
    Ok(rows)
}

type Rows = BTreeMap<u32, BTreeMap<u32, Cell>>;

fn with_merges(
    name: String,
    rows: Rows,
    dims: &[Dimensions],
    extra: &[(u32, u32, u32, u32)],
) -> SheetData {
    let mut merges: Vec<(u32, u32, u32, u32)> = dims
        .iter()
        .map(|d| (d.start.0 + 1, d.start.1 + 1, d.end.0 + 1, d.end.1 + 1))
        .collect();
    merges.extend_from_slice(extra);
    merges.retain(|m| m.0 <= m.2 && m.1 <= m.3);
    SheetData::new(name, rows, merges)
}

/// calamine borrowed value → model cell (as [`convert`] of the owned value).
fn convert_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => Cell::Date(serial_1900(dt)),
        DataRef::DateTimeIso(s) => match iso_to_serial(s) {
            Some(f) => Cell::Date(f),
            None => Cell::Text(s.clone()),
        },
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn to_sheet(
    name: String,
    range: &Range<Data>,
    dims: &[Dimensions],
    extra: &[(u32, u32, u32, u32)],
) -> SheetData {
    let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
    if let Some((r0, c0)) = range.start() {
        // `cells()` positions are relative to the range start.
        for (r, c, d) in range.cells() {
            let cell = convert(d);
            if matches!(cell, Cell::Empty) {
                continue;
            }
            if let Cell::Text(s) = &cell
                && s.is_empty()
            {
                continue;
            }
            let row = r0 + r as u32 + 1;
            let col = c0 + c as u32 + 1;
            rows.entry(row).or_default().insert(col, cell);
        }
    }
    let mut merges: Vec<(u32, u32, u32, u32)> = dims
        .iter()
        .map(|d| (d.start.0 + 1, d.start.1 + 1, d.end.0 + 1, d.end.1 + 1))
        .collect();
    merges.extend_from_slice(extra);
    merges.retain(|m| m.0 <= m.2 && m.1 <= m.3);
    SheetData::new(name, rows, merges)
}

/// calamine value → model cell.
pub(crate) fn convert(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => Cell::Date(serial_1900(dt)),
        // ODS stores dates as ISO text; a plain date becomes the same serial
        // an xlsx would hold, so every format reads alike.
        Data::DateTimeIso(s) => match iso_to_serial(s) {
            Some(f) => Cell::Date(f),
            None => Cell::Text(s.clone()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// The serial in the 1900 date system, also for workbooks saved in the
/// 1904 system (old Mac Excel), whose raw serials are 1462 days smaller.
fn serial_1900(dt: &calamine::ExcelDateTime) -> f64 {
    if dt.is_duration() {
        return dt.as_f64();
    }
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    if y < 1901 {
        return dt.as_f64();
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30);
    match (
        chrono::NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()),
        base,
    ) {
        (Some(date), Some(base)) => (date - base).num_days() as f64 + dt.as_f64().fract().abs(),
        _ => dt.as_f64(),
    }
}

/// "2010-05-03" or "2010-05-03T00:00:00" → Excel serial (1900 system).
fn iso_to_serial(s: &str) -> Option<f64> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let mut serial = (d - base).num_days() as f64;
    if let Some(t) = time {
        let t = chrono::NaiveTime::parse_from_str(t.trim_end_matches('Z'), "%H:%M:%S%.f")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()?;
        use chrono::Timelike;
        serial += t.num_seconds_from_midnight() as f64 / 86400.0;
    }
    Some(serial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_become_serials() {
        assert_eq!(iso_to_serial("2010-05-03"), Some(40301.0));
        assert_eq!(iso_to_serial("2010-05-03T00:00:00"), Some(40301.0));
        assert_eq!(iso_to_serial("2010-05-03T12:00:00"), Some(40301.5));
        assert_eq!(iso_to_serial("PT12H"), None);
    }

    #[test]
    fn merged_value_is_shown_in_covered_cells() {
        let mut rows = BTreeMap::new();
        rows.entry(2)
            .or_insert_with(BTreeMap::new)
            .insert(1, Cell::Text("户主".into()));
        rows.entry(5)
            .or_insert_with(BTreeMap::new)
            .insert(2, Cell::Text("x".into()));
        let s = SheetData::new("S".into(), rows, vec![(2, 1, 4, 1)]);
        assert_eq!(s.shown(4, 1), Some(&Cell::Text("户主".into())));
        assert_eq!(s.raw(4, 1), None);
        assert_eq!(s.shown(5, 1), None);
    }
}
