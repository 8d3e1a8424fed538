//! The subcommands. Each `run` only orchestrates the pipeline stages and
//! returns the exit status (0 clean, 1 errors found); failures of the run
//! itself are `Err` and become exit status 2 in `main`.

pub mod check;
pub mod double_click;
pub mod reconcile;
pub mod template;
pub mod timing;

use crate::annotate::{self, SummaryInfo};
use crate::config::Config;
use crate::model::{Finding, Format, Record, Role, Table};
use crate::normalize::StatusWords;
use crate::normalize::village::VillageIndex;
use crate::read;
use crate::report::{self, InputInfo, Style};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What the terminal gets: colour, masking, progress.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub quiet: bool,
    pub mask: bool,
}

impl Ui {
    pub fn style(&self) -> Style {
        Style {
            color: std::io::stdout().is_terminal(),
            mask: self.mask,
            max_lines: 300,
        }
    }
    /// A progress bar on stderr, hidden when stderr is not a terminal or with --quiet.
    pub fn progress(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::new(len);
        if let Ok(s) =
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
        {
            pb.set_style(s.progress_chars("=> "));
        }
        pb.set_prefix(what.to_string());
        pb
    }
}

/// Workbook extensions taizhang reads.
pub const INPUT_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xls", "ods", "csv"];

/// The name of the default output folder.
pub const OUT_DIR_NAME: &str = "核对结果";

/// The workbooks of a folder, sorted by name; skips our own outputs, Office
/// lock files (~$x.xlsx) and hidden files.
pub fn folder_inputs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("无法打开文件夹 {}", dir.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("无法读取文件夹 {}", dir.display()))?;
        let path = e.path();
        if !path.is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("~$") || name.starts_with('.') || name.contains(".核对.") {
            continue;
        }
        let ext = path
            .extension()
            .map(|x| x.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if INPUT_EXTENSIONS.contains(&ext.as_str()) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Names a config file may have in a folder: as saved by a text editor
/// that adds `.txt` (Notepad) too.
pub const CONFIG_NAMES: [&str; 3] = ["taizhang.toml", "taizhang.toml.txt", "taizhang.txt"];

/// The round's configuration: the given file, else `folder/taizhang.toml`
/// (or `taizhang.toml.txt`), else defaults. Says on the terminal which file,
/// school year and age window are used.
pub fn load_config(config: Option<&Path>, folder: Option<&Path>) -> Result<Config> {
    let today = chrono::Local::now().date_naive();
    let found = config.map(Path::to_path_buf).or_else(|| {
        let dir = folder?;
        CONFIG_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    });
    let cfg = match found {
        Some(p) => Config::load(&p, today)?,
        None => Config::default_for(today),
    };
    println!("{}", config_line(&cfg));
    Ok(cfg)
}

/// One terminal line: which config, school year and age window are used.
pub fn config_line(cfg: &Config) -> String {
    cfg.describe_zh()
}

/// Read every input; stops at the first unreadable one (exit 2).
/// `skip_non_inputs`: files found in a folder that are readable but not inputs
/// (warning lists, lock files) are skipped instead of failing the run.
pub fn read_all(
    files: &[(PathBuf, Option<Role>)],
    cfg: &Config,
    skip_non_inputs: bool,
    ui: &Ui,
) -> Result<Vec<Table>> {
    read_all_from(files, cfg, skip_non_inputs, false, ui).map(|(t, _)| t)
}

/// [`read_all`]; with `skip_unreadable` (a folder's files), a file that
/// cannot be read is left out and returned with the reason instead of
/// stopping the run.
pub fn read_all_from(
    files: &[(PathBuf, Option<Role>)],
    cfg: &Config,
    skip_non_inputs: bool,
    skip_unreadable: bool,
    ui: &Ui,
) -> Result<(Vec<Table>, Vec<report::SkippedInput>)> {
    let mut skipped = Vec::new();
    let pb = ui.progress(files.len() as u64, "读取");
    let mut tables: Vec<Table> = Vec::new();
    // Files are read in parallel; results are taken in the order given, so
    // table numbers and the first error do not depend on thread timing.
    let results = read::read_inputs(files, cfg.township.as_deref());
    for ((path, _), result) in files.iter().zip(results) {
        pb.set_message(file_name(path));
        match result {
            Ok(mut t) => {
                for x in &mut t {
                    x.index += tables.len();
                }
                tables.extend(t);
            }
            // In a folder, a warning list or an Office lock file is not an input: skip it.
            Err(read::ReadError::NotInput { message, .. }) if skip_non_inputs => {
                if !ui.quiet {
                    eprintln!("跳过：{message}");
                }
            }
            Err(read::ReadError::Input { message, .. }) if skip_unreadable => {
                if !ui.quiet {
                    eprintln!("未能读取，已跳过：{message}");
                }
                skipped.push(report::SkippedInput {
                    file: file_name(path),
                    reason: message,
                });
            }
            Err(e) => return Err(e.into()),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok((tables, skipped))
}

pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.display().to_string())
}

/// Village index: the configured villages, or (without a configuration)
/// every village the roster (else any input) names.
pub fn village_index(cfg: &Config, tables: &[Table]) -> VillageIndex {
    let mut idx = VillageIndex::from_config(cfg);
    if !idx.is_configured() {
        let has_roster = tables.iter().any(|t| t.role == Role::Roster);
        for t in tables
            .iter()
            .filter(|t| !has_roster || t.role == Role::Roster)
        {
            for r in &t.rows {
                let v = r.text(crate::model::Field::Village);
                if !v.is_empty() {
                    idx.learn(&v);
                }
            }
        }
    }
    idx
}

/// The round's status words: the built-in table, the configuration's
/// `[status_words]`, and the county (the configuration's `county`, else the
/// value most roster rows hold in a 县 column).
pub fn status_words(cfg: &Config, tables: &[Table]) -> StatusWords {
    let county = cfg.county.clone().or_else(|| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for t in tables.iter().filter(|t| t.role == Role::Roster) {
            for r in &t.rows {
                let v = r.text(crate::model::Field::County);
                let v = v.trim();
                if !v.is_empty() {
                    *counts.entry(v.to_string()).or_default() += 1;
                }
            }
        }
        let most = counts.values().copied().max()?;
        counts.into_iter().find(|(_, n)| *n == most).map(|(c, _)| c)
    });
    StatusWords::new(&cfg.status_words, county.as_deref())
}

/// Normalise every table; returns the records and, per table, the indices of its records.
pub fn normalize_all(
    tables: &[Table],
    villages: &VillageIndex,
    words: &StatusWords,
) -> (Vec<Record>, Vec<Vec<usize>>) {
    let mut records = Vec::new();
    let mut per_table = Vec::with_capacity(tables.len());
    for t in tables {
        let recs = crate::normalize::normalize_table_with(t, villages, words);
        let start = records.len();
        records.extend(recs);
        per_table.push((start..records.len()).collect());
    }
    (records, per_table)
}

/// The records of one table: `indices` are contiguous (see [`normalize_all`]).
pub fn records_of<'a>(records: &'a [Record], indices: &[usize]) -> &'a [Record] {
    match (indices.first(), indices.last()) {
        (Some(&a), Some(&b)) => &records[a..=b],
        _ => &[],
    }
}

/// Rows read per table (by table index), taken before the raw rows are freed.
pub fn row_counts(tables: &[Table]) -> Vec<usize> {
    tables.iter().map(|t| t.rows.len()).collect()
}

/// The inputs as findings.json lists them; `rows`: see [`row_counts`];
/// `out_of_window`: see [`out_of_window_counts`].
pub fn input_infos(tables: &[Table], rows: &[usize], out_of_window: &[usize]) -> Vec<InputInfo> {
    tables
        .iter()
        .map(|t| InputInfo {
            file: t.file.clone(),
            role: t.role,
            sheet: t.sheet.clone(),
            header_row: t.header_row,
            rows: rows.get(t.index).copied().unwrap_or(t.rows.len()),
            skipped: t.skipped,
            skipped_out_of_window: out_of_window.get(t.index).copied().unwrap_or(0),
        })
        .collect()
}

/// Roster rows per table (by table index) that are not children of the
/// round (see [`crate::check::outside_round`]).
pub fn out_of_window_counts(cfg: &Config, tables: &[Table], records: &[Record]) -> Vec<usize> {
    let mut counts = vec![0; tables.len()];
    for r in records
        .iter()
        .filter(|r| crate::check::outside_round(r, cfg))
    {
        if let Some(n) = counts.get_mut(r.table) {
            *n += 1;
        }
    }
    counts
}

/// One terminal line per input whose rows outside the age window were skipped.
pub fn out_of_window_lines(infos: &[InputInfo]) -> String {
    let mut s = String::new();
    for i in infos.iter().filter(|i| i.skipped_out_of_window > 0) {
        s.push_str(&format!(
            "{}（{}）：已跳过 {} 行：出生日期不在本轮适龄范围内（家庭其他成员，如父母、学龄前儿童、16岁以上子女）\n",
            i.file, i.sheet, i.skipped_out_of_window
        ));
    }
    s
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
        names.push(reconcile::HTML_REPORT.to_string());
        for a in [
            crate::templates::Annex::Ledger,
            crate::templates::Annex::Stats,
            crate::templates::Annex::Warning,
        ] {
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
    report::write_atomic_with(path, write).map_err(|e| {
        let why = match e.raw_os_error() {
            Some(28) => "磁盘已满",
            Some(27) => "文件超过允许的大小（磁盘空间或配额不足）",
            Some(13) | Some(1) | Some(30) => "没有写入权限（文件夹只读）",
            _ => "写入失败",
        };
        anyhow::anyhow!(
            "无法写入输出文件「{}」（文件夹 {}）：{why}（{e}）",
            file_name(path),
            path.parent().unwrap_or(Path::new(".")).display()
        )
    })
}

/// `<stem>.核对.xlsx`, or `<name>.核对.xlsx` when two inputs share a stem;
/// `.核对.xlsm` instead for a macro-enabled workbook (see
/// [`annotate::copy_extension`]).
pub fn annotated_names(inputs: &[PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| {
        p.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for p in inputs {
        *count.entry(stem(p)).or_insert(0) += 1;
    }
    inputs
        .iter()
        .map(|p| {
            let s = stem(p);
            let ext = annotate::copy_extension(p);
            if count.get(&s).copied().unwrap_or(0) > 1 {
                format!("{}.核对.{ext}", file_name(p))
            } else {
                format!("{s}.核对.{ext}")
            }
        })
        .collect()
}

/// One piece of output work with its name (for `TAIZHANG_TIMINGS`).
pub struct Task<'a> {
    pub name: String,
    pub run: Box<dyn FnOnce() -> Result<()> + Send + 'a>,
}

impl<'a> Task<'a> {
    pub fn new(name: impl Into<String>, run: impl FnOnce() -> Result<()> + Send + 'a) -> Self {
        Task {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// Run independent tasks on up to as many threads as the machine has cores,
/// taking them in the order given (put the biggest first). Every task runs
/// even when one fails; the error returned is the first in task order, so a
/// run's message does not depend on thread timing.
pub fn run_tasks(tasks: Vec<Task<'_>>) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(tasks.len());
    let n = tasks.len();
    let queue = std::sync::Mutex::new(tasks.into_iter().enumerate());
    let results: std::sync::Mutex<Vec<Option<anyhow::Error>>> =
        std::sync::Mutex::new((0..n).map(|_| None).collect());
    let work = || {
        loop {
            let next = match queue.lock() {
                Ok(mut q) => q.next(),
                Err(_) => None,
            };
            let Some((i, task)) = next else { break };
            let started = std::time::Instant::now();
            let result = (task.run)();
            timing::task(&task.name, started.elapsed());
            if let (Err(e), Ok(mut r)) = (result, results.lock()) {
                r[i] = Some(e);
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    let errors = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("内部错误：输出线程异常退出"))?;
    match errors.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The tasks that write the annotated copy of every input into `out`, the
/// largest input first, and the paths they write (in input order).
#[allow(clippy::too_many_arguments)]
pub fn annotated_tasks<'a>(
    inputs: &'a [PathBuf],
    tables: &'a [Table],
    rows: &'a [usize],
    findings: &'a [Finding],
    summary: &'a report::Summary,
    history: Option<&'a report::history::Comparison>,
    out: &Path,
    pb: &indicatif::ProgressBar,
) -> (Vec<Task<'a>>, Vec<PathBuf>) {
    let names = annotated_names(inputs);
    let mut jobs: Vec<(u64, Task<'a>)> = Vec::new();
    let mut written = Vec::new();
    for (path, name) in inputs.iter().zip(names) {
        let target = out.join(&name);
        written.push(target.clone());
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let pb = pb.clone();
        jobs.push((
            size,
            Task::new(format!("标注 {name}"), move || {
                annotate_one(path, &target, tables, rows, findings, summary, history)?;
                pb.inc(1);
                Ok(())
            }),
        ));
    }
    // Stable: equal sizes keep input order.
    jobs.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    (jobs.into_iter().map(|(_, t)| t).collect(), written)
}

/// Write the annotated copy of one input.
fn annotate_one(
    path: &Path,
    target: &Path,
    tables: &[Table],
    rows: &[usize],
    findings: &[Finding],
    summary: &report::Summary,
    history: Option<&report::history::Comparison>,
) -> Result<()> {
    let fname = file_name(path);
    let mut own: Vec<Finding> = Vec::new();
    let mut new = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.file == fname {
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
                rows.get(t.index).copied().unwrap_or(t.rows.len())
            )
        })
        .collect();
    let mut info = SummaryInfo {
        ready: summary.ready,
        verdict: report::verdict(summary),
        findings: own.clone(),
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
        Format::Xlsx | Format::Xlsm => annotate::annotate_xlsx(path, target, &own, &info)?,
        _ => {
            info.rebuilt_from = Some(format!(
                "本文件由 {} 的数据重建为 xlsx（原文件格式无法直接加批注），原文件未改动；格式与公式未保留，只保留数值。",
                fname
            ));
            let grids = read::read_grids(path)?;
            match format {
                Format::Xls => annotate::rebuild_xls(path, &grids, target, &own, &info)?,
                Format::Ods => annotate::rebuild_ods(path, &grids, target, &own, &info)?,
                _ => annotate::rebuild_xlsx(&grids, target, &own, &info)?,
            }
        }
    }
    Ok(())
}

/// Write the annotated copy of every input into `out` (in parallel);
/// returns the paths written, in input order.
/// `rows`: data rows per table ([`row_counts`], taken before the raw rows
/// are freed).
pub fn write_annotated(
    inputs: &[PathBuf],
    tables: &[Table],
    rows: &[usize],
    findings: &[Finding],
    summary: &report::Summary,
    out: &Path,
    ui: &Ui,
) -> Result<Vec<PathBuf>> {
    let pb = ui.progress(inputs.len() as u64, "标注");
    let (tasks, written) = annotated_tasks(inputs, tables, rows, findings, summary, None, out, &pb);
    run_tasks(tasks)?;
    pb.finish_and_clear();
    Ok(written)
}

/// Exit status of a finished run.
pub fn exit_status(summary: &report::Summary) -> i32 {
    if summary.errors > 0 || !summary.skipped_inputs.is_empty() {
        1
    } else {
        0
    }
}
