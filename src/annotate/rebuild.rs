//! xls, ods and csv inputs: a new xlsx from the values, then the same marks,
//! notes and 核对说明 sheet as an xlsx copy (through the same patcher, so
//! both kinds of copies look alike).

use super::{AnnotateError, SummaryInfo};
use crate::model::{Cell, Finding};
use crate::read::Grid;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Build an xlsx from the grids' values (one sheet per grid, same names
/// where Excel allows them, IDs and other text kept as text, merges
/// re-applied) and annotate it like an xlsx input. `summary.rebuilt_from`
/// should say which file it was rebuilt from.
///
/// # Errors
/// The workbook cannot be built or the output cannot be written.
pub fn rebuild_xlsx(
    grids: &[Grid],
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let werr = |e: &dyn std::fmt::Display| AnnotateError::Write {
        path: output.to_path_buf(),
        detail: e.to_string(),
    };
    crate::templates::catch_write_panic(|| build(grids))
        .map_err(|e| werr(&e))
        .and_then(|(bytes, renamed)| annotate_built(bytes, renamed, output, findings, summary))
}

/// The rebuilt workbook's bytes, and the sheet names changed on the way.
/// A sheet without merged ranges (every csv) is written row by row through
/// a constant-memory worksheet at zip level 1 — a million-row csv is not
/// held twice in memory and not compressed twice at the default level;
/// cells come in row-major order ([`crate::read::read_grids`]), which that
/// mode needs. Call it inside `catch_write_panic` (rust_xlsxwriter 0.102
/// panics when that mode's temporary file cannot be written).
fn build(grids: &[Grid]) -> Result<(Vec<u8>, HashMap<String, String>), rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    // Fixed document dates: two runs give the same bytes.
    let fixed = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (i, g) in grids.iter().enumerate() {
        let name = unique_name(&g.sheet, i, &mut used);
        renamed.insert(g.sheet.clone(), name.clone());
        let row_major = g
            .cells
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1));
        let ws = if g.merges.is_empty() && row_major && g.cells.len() > STREAM_CELLS {
            wb.set_zip_compression_level(1);
            wb.add_worksheet_with_constant_memory()?
        } else {
            wb.add_worksheet()
        };
        ws.set_name(&name)?;
        let mut values: HashMap<(u32, u32), &Cell> = HashMap::new();
        for (r, c, v) in &g.cells {
            if *r == 0 || *c == 0 || *r > 1_048_576 || *c > 16_384 {
                continue;
            }
            if !g.merges.is_empty() {
                values.insert((*r, *c), v);
            }
            let (row, col) = (*r - 1, (*c - 1) as u16);
            let res = match v {
                Cell::Empty => Ok(&mut *ws),
                Cell::Text(s) => ws.write_string(row, col, truncate(s)),
                Cell::Number(n) => ws.write_number(row, col, *n),
                Cell::Date(n) => ws.write_number_with_format(row, col, *n, &date_fmt),
                Cell::Bool(b) => ws.write_boolean(row, col, *b),
                Cell::Error(e) => ws.write_string(row, col, truncate(e)),
            };
            res?;
        }
        for (r1, c1, r2, c2) in &g.merges {
            if *r1 == 0 || *c1 == 0 || r2 < r1 || c2 < c1 || (r1 == r2 && c1 == c2) {
                continue;
            }
            let first = values.get(&(*r1, *c1)).copied();
            let text = match first {
                Some(Cell::Text(s)) => truncate(s).to_string(),
                _ => String::new(),
            };
            let (a, b, c, d) = (*r1 - 1, (*c1 - 1) as u16, *r2 - 1, (*c2 - 1) as u16);
            // Overlapping merges in a hand-made file: keep the values, skip the merge.
            if ws.merge_range(a, b, c, d, &text, &Format::new()).is_err() {
                continue;
            }
            match first {
                Some(Cell::Number(n)) => {
                    ws.write_number(a, b, *n)?;
                }
                Some(Cell::Date(n)) => {
                    ws.write_number_with_format(a, b, *n, &date_fmt)?;
                }
                Some(Cell::Bool(v)) => {
                    ws.write_boolean(a, b, *v)?;
                }
                _ => {}
            }
        }
    }
    if grids.is_empty() {
        wb.add_worksheet();
    }
    Ok((wb.save_to_buffer()?, renamed))
}

/// Mark the rebuilt workbook like an xlsx input and write it to `output`.
fn annotate_built(
    bytes: Vec<u8>,
    renamed: HashMap<String, String>,
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let findings: Vec<Finding> = findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(n) = renamed.get(&f.sheet) {
                f.sheet = n.clone();
            }
            f
        })
        .collect();
    let display = Path::new(
        summary
            .findings
            .first()
            .map(|f| f.file.as_str())
            .unwrap_or("rebuilt.xlsx"),
    )
    .to_path_buf();
    super::write_atomically(output, |tmp| {
        super::patch::patch_package(
            std::io::Cursor::new(bytes),
            &display,
            tmp,
            output,
            &findings,
            summary,
        )
    })
}

/// Sheets with more cells than this are streamed (constant memory).
const STREAM_CELLS: usize = 200_000;

fn truncate(s: &str) -> &str {
    const MAX: usize = 32_767;
    if s.chars().count() <= MAX {
        return s;
    }
    let end = s.char_indices().nth(MAX).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end]
}

/// A sheet name Excel accepts: no []:*?/\, not empty, at most 31
/// characters, no leading/trailing apostrophe, unique (case-insensitive).
fn unique_name(name: &str, index: usize, used: &mut BTreeSet<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim().to_string();
    let mut base: String = clean.chars().take(31).collect();
    if base.is_empty() || base == "核对说明" {
        base = format!("Sheet{}", index + 1);
    }
    let mut cand = base.clone();
    let mut k = 2;
    while used.contains(&cand.to_lowercase()) {
        let suffix = format!("({k})");
        cand = base
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            + &suffix;
        k += 1;
    }
    used.insert(cand.to_lowercase());
    cand
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_valid_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(unique_name("a/b", 0, &mut used), "a_b");
        assert_eq!(unique_name("A/B", 1, &mut used), "A_B(2)");
        assert_eq!(unique_name("", 2, &mut used), "Sheet3");
        let long = "长".repeat(40);
        assert_eq!(unique_name(&long, 3, &mut used).chars().count(), 31);
    }
}
