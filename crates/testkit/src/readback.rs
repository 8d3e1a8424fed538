//! Reading what taizhang wrote, the way a person sees it: workbook cells as
//! text, and the full IDs left in text.

use calamine::{Data, Reader, Xlsx, open_workbook};
use std::path::Path;

/// A cell as its text: whole numbers without a decimal point.
pub fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

/// Every row of sheet `name` as text, from A1 (0-based rows and columns;
/// empty cells are empty strings).
pub fn sheet_rows(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let range = wb
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (h, w) = range.end().map(|(r, c)| (r + 1, c + 1)).unwrap_or((0, 0));
    (0..h)
        .map(|r| {
            (0..w)
                .map(|c| range.get_value((r, c)).map(cell_text).unwrap_or_default())
                .collect()
        })
        .collect()
}

/// The used rows of every sheet of an xlsx, sheet after sheet, as text.
pub fn workbook_rows(path: &Path) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.extend(range.rows().map(|row| row.iter().map(cell_text).collect()));
    }
    out
}

/// The 18-character resident IDs (17 digits and a digit or X) in `text`,
/// each not part of a longer digit run.
pub fn full_ids_in(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"(?:^|[^0-9])([0-9]{17}[0-9Xx])(?:[^0-9]|$)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_ids_are_found_alone_only() {
        let id = crate::ids::fake_id("20100503", 123);
        assert_eq!(full_ids_in(&format!("号{id}。")), vec![id.clone()]);
        assert!(full_ids_in(&format!("{id}9")).is_empty());
        assert!(full_ids_in("610922***********X").is_empty());
    }
}
