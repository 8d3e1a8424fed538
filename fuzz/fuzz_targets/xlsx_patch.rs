//! The xlsx patcher (annotated copies) on arbitrary bytes written to a file:
//! must return Ok or Err, never panic, and leave no temporary file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use taizhang::annotate::{SummaryInfo, annotate_xlsx};
use taizhang::model::{Code, Finding};

fn finding(code: Code, row: u32, column: &str) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        file: "in.xlsx".into(),
        sheet: "Sheet1".into(),
        row,
        column: column.into(),
        field: "id".into(),
        value: "x".into(),
        suggestion: Some("y".into()),
        message: "测试".into(),
        related: vec![],
        village: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = PathBuf::from(format!("/tmp/taizhang-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let input = dir.join("in.xlsx");
    let output = dir.join("out.核对.xlsx");
    std::fs::write(&input, data).unwrap();
    let _ = std::fs::remove_file(&output);
    let findings = vec![
        finding(Code::ID_CHECKSUM, 2, "B"),
        finding(Code::DROPOUT, 1, "A"),
        finding(Code::NAME_FORMAT, 3, "XFD"),
    ];
    let summary = SummaryInfo {
        findings: findings.clone(),
        ..Default::default()
    };
    let _ = annotate_xlsx(&input, &output, &findings, &summary);
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        assert!(!n.ends_with(".tmp"), "temporary file left: {n}");
    }
});
