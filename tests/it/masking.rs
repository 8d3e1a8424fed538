//! Masking over a whole round: every resident ID in the committed sample
//! inputs, read with the library, against the terminal text and 报告.html of
//! a samples round (the two things a clerk shows or forwards). A masked ID
//! keeps only the region code and the check character, so neither text may
//! show an ID in full, its first 17 characters, its region together with its
//! sequence digits, or its region next to its birth date (as in a partly
//! masked `61092220100503****`).

use super::support::*;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::Path;
use taizhang::gb11643::{self, parse_id};
use taizhang::model::{Cell, IdKind};
use taizhang::read::read_grids;

/// An ID of the samples in its parts (18-character form).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SampleId {
    /// As it stands in the workbook, cleaned (18 or 15 characters).
    clean: String,
    full18: String,
    region: String,
    birth: String,
    seq: String,
}

/// Every cell of every sheet of the sample inputs that holds an ID whose
/// digits are all known (valid, wrong check character, impossible date,
/// legacy 15-digit), read with taizhang's own reader and ID parser.
fn sample_ids(dir: &Path) -> BTreeSet<SampleId> {
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| ["xlsx", "xls", "csv"].contains(&&*e.to_string_lossy()))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "sample inputs: {files:?}");
    for path in files {
        let grids = read_grids(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for grid in grids {
            for (_, _, cell) in &grid.cells {
                if !matches!(cell, Cell::Text(_) | Cell::Number(_)) {
                    continue;
                }
                let info = parse_id(cell);
                let full18 = match &info.kind {
                    IdKind::Valid | IdKind::BadChecksum { .. } | IdKind::BadDate => {
                        info.clean.clone()
                    }
                    IdKind::Legacy15 { upgraded } => upgraded.clone(),
                    _ => continue,
                };
                if full18.len() != 18 {
                    continue;
                }
                out.insert(SampleId {
                    clean: info.clean.to_string(),
                    region: full18[..6].to_string(),
                    birth: full18[6..14].to_string(),
                    seq: full18[14..17].to_string(),
                    full18: full18.to_string(),
                });
            }
        }
    }
    out
}

/// Copy the committed sample round (inputs and config, not the script).
fn copy_samples(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if e.path().is_file() && !n.ends_with(".sh") {
            std::fs::copy(e.path(), to.join(&n)).unwrap();
        }
    }
}

/// The leaks of one text: what of `ids` it shows beyond the mask.
fn leaks(text: &str, ids: &BTreeSet<SampleId>) -> Vec<String> {
    let mut out = Vec::new();
    // A run that looks like an ID (18 characters of digits, stars or a final
    // X, not inside a longer run) must show digits only in the region code
    // and the check character.
    let id_like = Regex::new(r"[0-9*]{17}[0-9Xx*]").unwrap();
    for m in id_like.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let alone = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_digit() || c == '*');
        if !alone(before) || !alone(after) {
            continue;
        }
        let s = m.as_str();
        if s[6..17].bytes().any(|b| b != b'*') {
            out.push(format!("ID shown beyond region and check character: {s}"));
        }
    }
    for id in ids {
        let pieces = [
            (id.full18[..17].to_string(), "first 17 characters"),
            (id.clean.clone(), "ID as written"),
            (
                format!("{}{}", id.region, id.birth),
                "region next to birth date",
            ),
        ];
        for (piece, what) in pieces {
            if text.contains(&piece) {
                out.push(format!("{what} of {}: {piece}", id.full18));
            }
        }
        // Region and sequence digits in their places, whatever hides the date.
        let seq_shown = Regex::new(&format!(r"{}[0-9*]{{8}}{}", id.region, id.seq)).unwrap();
        if let Some(m) = seq_shown.find(text) {
            out.push(format!(
                "region with sequence digits of {}: {}",
                id.full18,
                m.as_str()
            ));
        }
    }
    out
}

#[test]
fn no_sample_id_can_be_read_from_the_terminal_or_the_report() {
    let wd = Workdir::new("masking");
    copy_samples(&wd.join("samples"));
    let ids = sample_ids(&wd.join("samples"));
    assert!(ids.len() > 300, "IDs read from the samples: {}", ids.len());
    // The samples hold the kinds of ID a mask must cover, not only valid ones.
    assert!(
        ids.iter().any(|i| i.clean.len() == 15),
        "a legacy 15-digit ID"
    );
    assert!(
        ids.iter().any(|i| !gb11643::passes(&i.full18)),
        "an ID with a wrong check character"
    );

    let out = wd.run(&["reconcile", "samples", "--out", "核对结果"]);
    assert_eq!(out.status, 1, "{}", out.all());
    let terminal = out.all();
    let html = std::fs::read_to_string(wd.join("核对结果/报告.html")).unwrap();

    let masked = Regex::new(r"[0-9]{6}\*{11}[0-9X]").unwrap();
    for (what, text) in [("terminal", &terminal), ("报告.html", &html)] {
        let found = leaks(text, &ids);
        assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
        // The texts looked at do show IDs, masked.
        let shown: BTreeSet<&str> = masked.find_iter(text).map(|m| m.as_str()).collect();
        assert!(shown.len() >= 5, "{what} shows masked IDs: {shown:?}");
    }

    // The same texts with masking turned off do show the IDs: the scan
    // above would have found them.
    let wd2 = Workdir::new("masking-off");
    copy_samples(&wd2.join("samples"));
    let open = wd2.run(&["reconcile", "samples", "--out", "核对结果", "--no-mask"]);
    assert_eq!(open.status, 1, "{}", open.all());
    let found = leaks(&open.all(), &ids);
    assert!(
        found.iter().any(|l| l.starts_with("first 17 characters")),
        "{found:?}"
    );
}

#[test]
fn the_leak_scan_finds_every_partial_mask() {
    let id = testkit::ids::fake_id("20100503", 123);
    let ids: BTreeSet<SampleId> = [SampleId {
        clean: id.clone(),
        full18: id.clone(),
        region: id[..6].to_string(),
        birth: id[6..14].to_string(),
        seq: id[14..17].to_string(),
    }]
    .into();
    let check = &id[17..];
    assert!(leaks(&format!("张三 610922***********{check} 2010-05-03"), &ids).is_empty());
    for shown in [
        id.clone(),
        format!("610922********123{check}"),
        "61092220100503****".to_string(),
        format!("6109222010050312*{check}"),
        format!("610922*******0312{check}"),
    ] {
        assert!(
            !leaks(&format!("张三 {shown} 男"), &ids).is_empty(),
            "{shown}"
        );
    }
}
