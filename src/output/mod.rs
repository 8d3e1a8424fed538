//! Writing a round's results into the output folder: the annotated copy of
//! every input, findings.json and findings.csv, and for a whole round the
//! generated annexes, 报告.html and the run's entry in the history (with
//! the comparison against the earlier run). Every file is written
//! atomically: complete or absent; and the run as a whole too: the files are
//! written into a staging folder inside the output folder, then moved into
//! place one by one, and when one of them cannot be replaced (on Windows: the
//! file is open in Excel or WPS) the files already moved are put back, so the
//! output folder holds either all of this run's files or all of the
//! previous run's ([`NotReplaced`]).

pub mod annex;
pub mod annotated;
pub mod atomic;
pub mod tasks;

pub use annex::write_annex;
pub use annotated::{annotated_names, write_annotated};
pub use tasks::{Task, run_tasks};

use crate::inputs::file_name;
use crate::report::history::{self, Comparison};
use crate::report::{self, Links, Report, html};
use crate::round::{Progress, Round};
use crate::templates::Annex;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The HTML report's file name in the output folder.
pub const HTML_REPORT: &str = "报告.html";

/// How the results are written.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Full IDs are masked in the HTML report.
    pub mask: bool,
    /// Compare with this findings.json instead of the newest run in the
    /// history folder.
    pub since: Option<PathBuf>,
}

/// Write every output of `round` into `out` (created if missing); a whole
/// round is compared with the earlier run first and joins the history.
/// Returns that comparison (none for [`Round::check_only`]).
pub fn write_all(
    round: &Round,
    out: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Option<Comparison>> {
    prepare_out_dir(out, &round.inputs, !round.check_only)?;
    let staging = Staging::new(out)?;
    if round.check_only {
        progress.begin("标注", round.inputs.len() as u64 + 2);
        write_files(round, None, &staging.dir, options.mask, progress)?;
        progress.end();
        staging.commit(out)?;
        return Ok(None);
    }
    let hist_dir = out.join(history::HISTORY_DIR);
    let entry = history::entry_path(&hist_dir, &chrono::Local::now().naive_local());
    let comparison = compare_with_earlier(round, options.since.as_deref(), &entry)?;
    progress.begin("写出", round.inputs.len() as u64 + 6);
    write_files(
        round,
        Some(&comparison),
        &staging.dir,
        options.mask,
        progress,
    )?;
    staging.commit(out)?;
    // The run joins the history once its outputs are written; without the
    // links (a line per child), which no comparison reads.
    let kept = Report {
        links: Links::default(),
        ..report_of(round, Some(&comparison))
    };
    history::save(&entry, |w| report::write_findings_json(&kept, w)).map_err(|e| {
        anyhow::anyhow!("无法把本次核对结果存入历史记录「{}」：{e}", entry.display())
    })?;
    progress.end();
    progress.phase("outputs");
    Ok(Some(comparison))
}

/// findings.json's content.
pub fn report_of<'a>(round: &'a Round, history: Option<&'a Comparison>) -> Report<'a> {
    Report {
        tool: "taizhang",
        version: env!("CARGO_PKG_VERSION"),
        school_year: round.config.school_year,
        born_from: round.config.born_from.to_string(),
        born_to: round.config.born_to.to_string(),
        inputs: round.input_infos(),
        summary: round.summary.clone(),
        findings: &round.findings,
        links: Links {
            pairs: &round.pairs,
            records: &round.records,
            tables: &round.tables,
        },
        history,
    }
}

/// The annotated copies, findings.json and findings.csv; for a whole round
/// the annexes and 报告.html too, in parallel.
fn write_files(
    round: &Round,
    history: Option<&Comparison>,
    out: &Path,
    mask: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let report = &report_of(round, history);
    let (mut tasks, _) = annotated::annotated_tasks(round, history, out, progress);
    if !round.check_only {
        // The ledger (a row per child, every cell formatted) is the longest
        // task: first, so the copies run beside it instead of before it.
        for (i, annex) in [Annex::Ledger, Annex::Warning, Annex::Stats]
            .into_iter()
            .enumerate()
        {
            let task = Task::new(annex.file_name(), move || {
                write_annex(round, annex, out)?;
                progress.step(annex.file_name());
                Ok(())
            });
            if i == 0 {
                tasks.insert(0, task);
            } else {
                tasks.push(task);
            }
        }
    }
    tasks.push(Task::new("findings.json", move || {
        write_output_with(&out.join("findings.json"), |w| {
            report::write_findings_json(report, w)
        })?;
        progress.step("findings.json");
        Ok(())
    }));
    if !round.check_only {
        tasks.push(Task::new(HTML_REPORT, move || {
            let info = html::RunInfo {
                township: round.config.township.as_deref(),
                config: Some(round.config.describe()),
                generated: Some(chrono::Local::now().format("%Y-%m-%d %H:%M").to_string()),
            };
            let (villages, status) = (round.village_lines(), round.status_counts());
            write_output_with(&out.join(HTML_REPORT), |w| {
                html::write_page(w, report, &info, &villages, &status, mask)
            })?;
            progress.step(HTML_REPORT);
            Ok(())
        }));
    }
    tasks.push(Task::new("findings.csv", move || {
        write_output_with(&out.join("findings.csv"), |w| {
            report::write_findings_csv(&round.findings, history, w)
        })?;
        progress.step("findings.csv");
        Ok(())
    }));
    run_tasks(tasks, progress)
}

/// This run against the earlier one: `since` when given, else the newest
/// run in the history folder (none: a first run). The chart's points are the
/// runs in the history, then this one (to be saved as `entry` there).
pub fn compare_with_earlier(
    round: &Round,
    since: Option<&Path>,
    entry: &Path,
) -> Result<Comparison> {
    let keys = history::finding_keys(&round.tables, &round.records, &round.findings);
    let earlier = history::runs(entry.parent().unwrap_or(Path::new(".")));
    let previous = match since {
        Some(p) => Some(history::load(
            p,
            Some(file_name(p)),
            "请给出本版本 taizhang 写出的 findings.json（核对结果文件夹中的 findings.json，或其中“历史”文件夹里的文件）。",
        )?),
        None => match earlier.last() {
            Some(p) => Some(history::load(
                p,
                None,
                "这份历史记录不是本版本写出的；请把输出文件夹中的“历史”文件夹移走或删除，再重新核对（那次核对会当作第一次）。",
            )?),
            None => None,
        },
    };
    let (since_last, changes) = match &previous {
        Some(prev) => {
            let (s, c) = history::compare(prev, &round.findings, &keys);
            (s, Some(c))
        }
        None => (Vec::new(), None),
    };
    let mut trend: Vec<history::RunPoint> = earlier
        .iter()
        .skip(earlier.len().saturating_sub(history::KEEP - 1))
        .filter_map(|p| history::point_of(p))
        .collect();
    let run_at = history::time_of(entry);
    // This run is 本次 in the chart: the page stays the same for the same
    // inputs and history, whenever it is made.
    trend.push(history::RunPoint {
        run_at: history::THIS_RUN.to_string(),
        errors: round.summary.errors,
        warnings: round.summary.warnings,
        unsurveyed: round.summary.roster_only,
    });
    Ok(Comparison {
        run_at,
        keys,
        since_last,
        changes,
        trend,
        entry: Some(entry.to_path_buf()),
    })
}

/// Output folder: created if missing; refused when one of the files the run
/// writes there (annotated copies, findings.json/csv and, with
/// `round_outputs`, the generated annexes and the HTML report) is an input.
pub fn prepare_out_dir(out: &Path, inputs: &[PathBuf], round_outputs: bool) -> Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("无法创建输出文件夹 {}", out.display()))?;
    let out_abs = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    let mut names = annotated_names(inputs);
    names.extend(["findings.json", "findings.csv"].map(String::from));
    if round_outputs {
        names.push(HTML_REPORT.to_string());
        for a in [Annex::Ledger, Annex::Stats, Annex::Warning] {
            names.push(a.file_name().to_string());
        }
    }
    for p in inputs {
        if let Ok(abs) = p.canonicalize()
            && abs.parent() == Some(out_abs.as_path())
            && (abs.to_string_lossy().contains(".核对.") || names.contains(&file_name(p)))
        {
            bail!(
                "输出文件夹 {} 中的 {} 是一个输入文件，会被本次结果覆盖；请换一个输出文件夹（--out），或把这个输入文件改名",
                out.display(),
                file_name(p)
            );
        }
    }
    Ok(())
}

/// Write one output file atomically (temporary name, then rename); the error
/// names the file and says why in Chinese.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    write_output_with(path, |w| w.write_all(bytes))
}

/// [`write_output`] for content streamed into the file.
pub fn write_output_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    atomic::write_with(path, write).map_err(|e| {
        let why = io_reason_zh(&e);
        anyhow::anyhow!(
            "无法写入输出文件「{}」（文件夹 {}）：{why}（{e}）",
            file_name(path),
            path.parent().unwrap_or(Path::new(".")).display()
        )
    })
}

/// Why writing failed, in Chinese, from the OS error.
fn io_reason_zh(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(28) => "磁盘已满",
        Some(27) => "文件超过允许的大小（磁盘空间或配额不足）",
        Some(13) | Some(1) | Some(30) => "没有写入权限（文件夹只读）",
        _ => "写入失败",
    }
}

/// The staging folder's name inside the output folder.
pub const STAGING_DIR: &str = ".taizhang-正在写出";

/// Result files of the earlier run that could not be replaced; every file
/// of the earlier run was put back, none of this run's was kept.
#[derive(Debug)]
pub struct NotReplaced {
    /// Each file's name in the output folder, with why it could not be
    /// replaced (every such file is named, not only the first).
    pub files: Vec<(String, std::io::Error)>,
    pub out: PathBuf,
}

/// Whether a file could not be replaced because it is open in another
/// program (Windows: access denied, sharing or lock violation).
fn in_use(error: &std::io::Error) -> bool {
    cfg!(windows) && matches!(error.raw_os_error(), Some(5 | 32 | 33))
}

impl NotReplaced {
    /// Whether every such file is open in another program.
    pub fn in_use(&self) -> bool {
        !self.files.is_empty() && self.files.iter().all(|(_, e)| in_use(e))
    }
}

impl std::fmt::Display for NotReplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, other): (Vec<_>, Vec<_>) = self.files.iter().partition(|(_, e)| in_use(e));
        if !open.is_empty() {
            let names: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
            let quoted: String = names.iter().map(|n| format!("「{n}」")).collect();
            write!(
                f,
                "结果文件{quoted}正被其他程序打开，无法替换。请关闭 Excel/WPS 中打开的 {}（以及其他打开的结果文件），再运行一次。",
                names.join("、")
            )?;
        }
        for (name, e) in other {
            write!(f, "无法替换结果文件「{name}」（{}）。", io_reason_zh(e))?;
        }
        write!(
            f,
            "本次结果没有写入，文件夹 {} 中仍是上一次的全部结果。",
            self.out.display()
        )
    }
}

impl std::error::Error for NotReplaced {}

/// This run's files, written into a folder inside the output folder (same
/// disk, so moving them into place is a rename). Removed when dropped.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging> {
        let dir = out.join(STAGING_DIR);
        // Left over by a run that was stopped: nothing in it is kept.
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("无法在输出文件夹 {} 中创建临时文件夹", out.display()))?;
        Ok(Staging { dir })
    }

    /// Move the staged files into `out`: first the earlier files with the
    /// same names are set aside (a file open elsewhere stops the commit
    /// here), then the new ones are moved in; on any failure everything is
    /// put back as it was.
    fn commit(&self, out: &Path) -> Result<()> {
        let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("无法读取临时文件夹 {}", self.dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name())
            .collect();
        names.sort();
        let aside = self.dir.join("上一次");
        std::fs::create_dir_all(&aside)
            .with_context(|| format!("无法创建临时文件夹 {}", aside.display()))?;
        let failed = |files: Vec<(String, std::io::Error)>| NotReplaced {
            files,
            out: out.to_path_buf(),
        };
        let put_back = |set_aside: &[&std::ffi::OsString]| {
            for n in set_aside {
                let _ = std::fs::rename(aside.join(n), out.join(n));
            }
        };
        // Every earlier file is tried, so that all the files open elsewhere
        // are named at once, not one per run.
        let mut set_aside = Vec::new();
        let mut refused = Vec::new();
        for n in &names {
            let target = out.join(n);
            if std::fs::symlink_metadata(&target).is_err() {
                continue;
            }
            match std::fs::rename(&target, aside.join(n)) {
                Ok(()) => set_aside.push(n),
                Err(e) => refused.push((n.to_string_lossy().into_owned(), e)),
            }
        }
        if !refused.is_empty() {
            put_back(&set_aside);
            return Err(failed(refused).into());
        }
        for (i, n) in names.iter().enumerate() {
            if let Err(e) = std::fs::rename(self.dir.join(n), out.join(n)) {
                for placed in &names[..i] {
                    let _ = std::fs::remove_file(out.join(placed));
                }
                put_back(&set_aside);
                return Err(failed(vec![(n.to_string_lossy().into_owned(), e)]).into());
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
