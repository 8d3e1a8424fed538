//! The I/O floor of the benchmarks: reads every roster and survey file of a
//! generated round with calamine alone (xlsx) or the csv crate (csv) and
//! touches every cell, doing nothing else. `taizhang reconcile` on the same
//! folder is compared against this.
//!
//! Usage: cargo run --release --example bench_read -- DIR

use calamine::{Data, Reader, open_workbook_auto};
use std::path::Path;

fn read_xlsx(path: &Path) -> anyhow::Result<(usize, usize)> {
    let mut wb = open_workbook_auto(path)?;
    let mut rows = 0;
    let mut bytes = 0;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name)?;
        for row in range.rows() {
            rows += 1;
            for c in row {
                bytes += match c {
                    Data::String(s) => s.len(),
                    Data::Empty => 0,
                    _ => 1,
                };
            }
        }
    }
    Ok((rows, bytes))
}

fn read_csv(path: &Path) -> anyhow::Result<(usize, usize)> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)?;
    let mut rows = 0;
    let mut bytes = 0;
    let mut rec = csv::ByteRecord::new();
    while r.read_byte_record(&mut rec)? {
        rows += 1;
        for f in rec.iter() {
            bytes += std::str::from_utf8(f).map(str::len).unwrap_or(0);
        }
    }
    Ok((rows, bytes))
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/data/2000".into());
    let t0 = std::time::Instant::now();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (n.starts_with("附件1_") || n.starts_with("县局名单"))
                && (n.ends_with(".xlsx") || n.ends_with(".csv"))
        })
        .collect();
    paths.sort();
    let (mut rows, mut bytes) = (0, 0);
    for p in &paths {
        let (r, b) = if p.extension().is_some_and(|e| e == "csv") {
            read_csv(p)?
        } else {
            read_xlsx(p)?
        };
        rows += r;
        bytes += b;
    }
    println!(
        "read {} files, {rows} rows, {bytes} text bytes in {:.3} s",
        paths.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
