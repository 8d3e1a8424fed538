//! The rebuilt copy of an .xls (formatting read from the BIFF records) on
//! arbitrary bytes written to a file: must return Ok or Err, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use taizhang::annotate::{SummaryInfo, rebuild_xls};

fuzz_target!(|data: &[u8]| {
    let dir = PathBuf::from(format!("/tmp/taizhang-fuzz-xls-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let input = dir.join("in.xls");
    let output = dir.join("in.核对.xlsx");
    std::fs::write(&input, data).unwrap();
    let grids = taizhang::read::read_grids(&input).unwrap_or_default();
    let _ = rebuild_xls(&input, &grids, &output, &[], &SummaryInfo::default());
});
