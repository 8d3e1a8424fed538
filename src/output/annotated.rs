//! The annotated copy of every input: the findings as comments on the
//! cells, a summary sheet; workbooks that cannot be annotated in place
//! (xls, ods, csv) are rebuilt as xlsx from their data.

use super::tasks::{Task, run_tasks};
use crate::annotate::{self, SummaryInfo};
use crate::inputs::{file_name, labels};
use crate::model::{Finding, Format, Table};
use crate::read;
use crate::report::{self, history::Comparison};
use crate::round::{Progress, Round};
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `<stem>.核对.xlsx`, or `<name>.核对.xlsx` when two inputs share a stem;
/// `.核对.xlsm` instead for a macro-enabled workbook (see
/// [`annotate::copy_extension`]). Inputs of the same file name in different
/// folders are told apart by their folders (`甲_附件1.核对.xlsx`, see
/// [`labels`]). No two inputs get the same name.
pub fn annotated_names(inputs: &[PathBuf]) -> Vec<String> {
    let bases: Vec<String> = labels(inputs)
        .into_iter()
        .map(|l| l.replace('/', "_"))
        .collect();
    let stem = |b: &String| {
        Path::new(b)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for b in &bases {
        *count.entry(stem(b)).or_insert(0) += 1;
    }
    let mut taken: BTreeSet<String> = BTreeSet::new();
    inputs
        .iter()
        .zip(&bases)
        .map(|(p, b)| {
            let s = stem(b);
            let ext = annotate::copy_extension(p);
            let mut name = if count.get(&s).copied().unwrap_or(0) > 1 {
                format!("{b}.核对.{ext}")
            } else {
                format!("{s}.核对.{ext}")
            };
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{b}_{n}.核对.{ext}");
            }
            name
        })
        .collect()
}

/// The tasks that write the annotated copy of every input into `out`, the
/// largest input first, and the paths they write (in input order).
pub fn annotated_tasks<'a>(
    round: &'a Round,
    history: Option<&'a Comparison>,
    out: &Path,
    progress: &'a dyn Progress,
) -> (Vec<Task<'a>>, Vec<PathBuf>) {
    let names = annotated_names(&round.inputs);
    let mut jobs: Vec<(u64, Task<'a>)> = Vec::new();
    let mut written = Vec::new();
    for (path, name) in round.inputs.iter().zip(names) {
        let target = out.join(&name);
        written.push(target.clone());
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let task_name = format!("标注 {name}");
        jobs.push((
            size,
            Task::new(task_name.clone(), move || {
                annotate_one(path, &target, round, history)?;
                progress.step(&task_name);
                Ok(())
            }),
        ));
    }
    // Stable: equal sizes keep input order.
    jobs.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    (jobs.into_iter().map(|(_, t)| t).collect(), written)
}

/// Write the annotated copy of every input into `out` (in parallel);
/// returns the paths written, in input order.
pub fn write_annotated(round: &Round, out: &Path, progress: &dyn Progress) -> Result<Vec<PathBuf>> {
    progress.begin("标注", round.inputs.len() as u64);
    let (tasks, written) = annotated_tasks(round, None, out, progress);
    run_tasks(tasks, progress)?;
    progress.end();
    Ok(written)
}

/// Write the annotated copy of one input.
fn annotate_one(
    path: &Path,
    target: &Path,
    round: &Round,
    history: Option<&Comparison>,
) -> Result<()> {
    let tables: &[Table] = &round.tables;
    let summary = &round.summary;
    let first = tables.iter().find(|t| t.path == *path);
    let input = first.map(|t| t.input);
    // The name the findings and the history know this input by.
    let fname = first.map_or_else(|| file_name(path), |t| t.file.clone());
    let mut own: Vec<Finding> = Vec::new();
    let mut new = Vec::new();
    for (i, f) in round.findings.iter().enumerate() {
        if Some(f.input) == input {
            own.push(f.clone());
            new.push(history.is_some_and(|h| h.is_new(i)));
        }
    }
    let changes = history.and_then(|h| h.changes.as_ref());
    if changes.is_none() {
        new.clear();
    }
    let format = tables
        .iter()
        .find(|t| t.path == *path)
        .map(|t| t.format)
        .map(Ok)
        .unwrap_or_else(|| read::detect_format(path))?;
    let inputs_note = tables
        .iter()
        .filter(|t| t.path == *path)
        .map(|t| {
            format!(
                "{}：{}，表头在第{}行，{}行数据",
                t.sheet,
                t.role.label_zh(),
                t.header_row,
                t.row_count
            )
        })
        .collect();
    let mut info = SummaryInfo {
        ready: summary.ready,
        verdict: report::verdict(summary),
        findings: own,
        rebuilt_from: None,
        inputs_note,
        pending: report::pending_line(summary),
        skipped: report::skipped_lines(summary),
        new,
        change: changes.map(|c| c.line()),
        fixed: changes
            .map(|c| report::history::fixed_in(c, &fname))
            .unwrap_or_default(),
    };
    match format {
        Format::Xlsx | Format::Xlsm => {
            annotate::annotate_xlsx(path, target, &info.findings, &info)?;
        }
        _ => {
            info.rebuilt_from = Some(format!(
                "本文件由 {} 的数据重建为 xlsx（原文件格式无法直接加批注），原文件未改动；格式与公式未保留，只保留数值。",
                fname
            ));
            if format == Format::Csv {
                annotate::rebuild_csv(path, target, &info.findings, &info)?;
                return Ok(());
            }
            let grids = read::read_grids(path)?;
            match format {
                Format::Xls => annotate::rebuild_xls(path, &grids, target, &info.findings, &info)?,
                Format::Ods => annotate::rebuild_ods(path, &grids, target, &info.findings, &info)?,
                _ => annotate::rebuild_xlsx(&grids, target, &info.findings, &info)?,
            }
        }
    }
    Ok(())
}
