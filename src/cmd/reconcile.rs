//! `taizhang reconcile`: the whole round — roster ↔ surveys, hand-filled
//! annexes, derived annexes, annotated copies, findings.

use super::{
    Task, Ui, exit_status, file_name, folder_inputs, load_config, normalize_all, prepare_out_dir,
    read_all_from, timing, village_index,
};
use crate::check;
use crate::config::Config;
use crate::derive::{self, Derived};
use crate::link::{self, LinkParams};
use crate::model::{
    Decision, Field, Finding, Link, Loc, Pair, Record, Role, Severity, Status, StatusValue, Table,
};
use crate::report::history::{self, Comparison};
use crate::report::html::{self, VillageLine};
use crate::report::{self, Report, Summary};
use crate::templates::{self, Annex, AnnexData, TCell};
use anyhow::{Result, bail};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "taizhang reconcile [文件夹] [选项]",
    about = "核对一轮摸底：县局名单 ↔ 各校摸底表，生成附件2/附件3/预警清单和标注副本",
    after_help = "示例：\n  taizhang reconcile 摸底材料            # 读取文件夹中所有表格，自动识别类型\n  taizhang reconcile --roster 县局名单.xlsx --survey 附件1_中心小学.xlsx --survey 附件1_初中.xls\n  taizhang reconcile 摸底材料 --out 核对结果 --no-mask\n  taizhang reconcile 摸底材料 --since 县复核前.findings.json   # 与那一次比较（默认与上一次比较）\n\n每次核对的结果留在输出文件夹的“历史”中（最近 20 次），终端、报告.html 和核对说明都会写明比上次改正了多少、新出现了多少。\n\n退出码：0 没有错误，可以上报；1 有错误需要改正，或文件夹中有文件未能读取、已跳过；2 无法完成核对（给出的文件打不开、配置错误等）"
)]
pub struct ReconcileArgs {
    /// 存放本轮所有表格的文件夹（自动识别县局名单、摸底表、台账、统计表；有 taizhang.toml 时自动使用）
    #[arg(value_name = "文件夹")]
    pub folder: Option<PathBuf>,
    /// 配置文件 taizhang.toml（乡镇、学年、学校与包联村）
    #[arg(long, value_name = "文件")]
    pub config: Option<PathBuf>,
    /// 县局（振兴办）提供的名单
    #[arg(long, value_name = "文件")]
    pub roster: Option<PathBuf>,
    /// 摸底调查表（附件1），可多次给出
    #[arg(long, value_name = "文件")]
    pub survey: Vec<PathBuf>,
    /// 手工填写的台账（附件2），可多次给出
    #[arg(long, value_name = "文件")]
    pub ledger: Vec<PathBuf>,
    /// 手工填写的统计表（附件3），可多次给出
    #[arg(long, value_name = "文件")]
    pub stats: Vec<PathBuf>,
    /// 输出文件夹（默认：文件夹下的“核对结果”）
    #[arg(long, value_name = "文件夹")]
    pub out: Option<PathBuf>,
    /// 终端中显示完整身份证号（默认打码）
    #[arg(long)]
    pub no_mask: bool,
    /// 与指定的某次核对结果（findings.json，如县里复核前的那一份）比较，而不是与上一次比较
    #[arg(long, value_name = "文件")]
    pub since: Option<PathBuf>,
    /// Files given without a subcommand (dragged onto the program): read
    /// like the files of a folder, their kind recognised.
    #[arg(long = "file", value_name = "文件", hide = true)]
    pub files: Vec<PathBuf>,
}

/// Everything one reconcile run computed (also used by tests and benches).
pub struct Round {
    pub config: Config,
    pub inputs: Vec<PathBuf>,
    /// The tables read; the raw rows of all but the statistics tables are
    /// freed once checked (see `row_counts` for how many there were).
    pub tables: Vec<Table>,
    /// Data rows read per table (by table index).
    pub row_counts: Vec<usize>,
    /// Roster rows per table skipped as outside the age window.
    pub out_of_window: Vec<usize>,
    pub records: Vec<Record>,
    pub findings: Vec<Finding>,
    pub pairs: Vec<Pair>,
    pub links: Vec<Link>,
    pub derived: Derived,
    pub summary: Summary,
    pub roster: Vec<usize>,
    pub survey: Vec<usize>,
}

fn files_of(args: &ReconcileArgs) -> Result<Vec<(PathBuf, Option<Role>)>> {
    let mut files: Vec<(PathBuf, Option<Role>)> = Vec::new();
    let named: HashSet<PathBuf> = args
        .roster
        .iter()
        .chain(&args.survey)
        .chain(&args.ledger)
        .chain(&args.stats)
        .cloned()
        .collect();
    if let Some(dir) = &args.folder {
        if !dir.is_dir() {
            bail!(
                "找不到文件夹 {}（请给出存放本轮表格的文件夹，或用 --roster/--survey 指定文件）",
                dir.display()
            );
        }
        for p in folder_inputs(dir)? {
            if !named.contains(&p) {
                files.push((p, None));
            }
        }
    }
    files.extend(args.files.iter().map(|p| (p.clone(), None)));
    if let Some(r) = &args.roster {
        files.push((r.clone(), Some(Role::Roster)));
    }
    files.extend(args.survey.iter().map(|p| (p.clone(), Some(Role::Survey))));
    files.extend(args.ledger.iter().map(|p| (p.clone(), Some(Role::Ledger))));
    files.extend(args.stats.iter().map(|p| (p.clone(), Some(Role::Stats))));
    if files.is_empty() {
        bail!(
            "没有要核对的表格：请给出文件夹（taizhang reconcile 文件夹），或用 --roster 和 --survey 指定文件"
        );
    }
    Ok(files)
}

fn loc(tables: &[Table], r: &Record) -> Loc {
    let t = &tables[r.table];
    Loc {
        file: t.file.clone(),
        sheet: t.sheet.clone(),
        row: r.row,
    }
}

/// A round needs a roster and a survey. When the files whose role was
/// decided by content give none of one, the better reading of another file
/// takes that role instead of stopping the run: with no roster, the tables
/// without any status-like or registry column (a household list titled 台账)
/// are the roster; with no survey, the ledgers holding a status-like column
/// are the surveys. Returns the reason for each table changed (by index).
fn settle_roles(
    files: &[(PathBuf, Option<Role>)],
    tables: &mut [Table],
) -> BTreeMap<usize, String> {
    let decided: HashSet<PathBuf> = files
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    let mut notes = BTreeMap::new();
    let has = |t: &Table, f: Field| t.columns.contains_key(&f);
    let status_like = |t: &Table| {
        has(t, Field::Status) || has(t, Field::RegistryStatus) || has(t, Field::RegistryNo)
    };
    if !tables.iter().any(|t| t.role == Role::Roster) {
        for t in tables.iter_mut() {
            if decided.contains(&t.path)
                && matches!(t.role, Role::Ledger | Role::Survey)
                && !status_like(t)
            {
                notes.insert(
                    t.index,
                    format!(
                        "文件夹中没有其他县局名单，这张表没有就读状态列，按名单核对（原按{}）",
                        t.role.label_zh()
                    ),
                );
                t.role = Role::Roster;
            }
        }
    }
    if !tables.iter().any(|t| t.role == Role::Survey) {
        for t in tables.iter_mut() {
            if decided.contains(&t.path) && t.role == Role::Ledger && status_like(t) {
                notes.insert(
                    t.index,
                    "文件夹中没有其他摸底表，这张台账有就读状态列，按摸底表核对".to_string(),
                );
                t.role = Role::Survey;
            }
        }
    }
    notes
}

/// The role each file found in a folder got, and why (rules of
/// [`crate::read::role_reason`], or the reason [`settle_roles`] gave), one
/// line per sheet read.
fn print_roles(
    files: &[(PathBuf, Option<Role>)],
    tables: &[Table],
    notes: &BTreeMap<usize, String>,
) {
    let decided: HashSet<&PathBuf> = files
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(p, _)| p)
        .collect();
    let mut s = String::new();
    for t in tables.iter().filter(|t| decided.contains(&t.path)) {
        let _ = writeln!(
            s,
            "「{}」工作表「{}」认作{}：{}",
            t.file,
            t.sheet,
            t.role.label_zh(),
            notes
                .get(&t.index)
                .cloned()
                .unwrap_or_else(|| crate::read::role_reason(t))
        );
    }
    print!("{s}");
}

/// Run the pipeline up to (not including) writing outputs.
pub fn compute(args: &ReconcileArgs, ui: &Ui) -> Result<Round> {
    timing::start();
    let files = files_of(args)?;
    let config = load_config(args.config.as_deref(), args.folder.as_deref())?;
    // In a folder, a file that cannot be read is left out (and named in
    // every output); files given one by one still stop the run.
    let folder = args.folder.is_some();
    let (mut tables, skipped_inputs) = read_all_from(&files, &config, folder, folder, ui)?;
    let notes = settle_roles(&files, &mut tables);
    print_roles(&files, &tables, &notes);
    let roles = |role: Role| tables.iter().filter(move |t| t.role == role).count();
    // When the round cannot go on, the files left out may be why: name them.
    let skipped_note: String = skipped_inputs
        .iter()
        .map(|s| format!("\n未能读取，已跳过：{}：{}", s.file, s.reason))
        .collect();
    if roles(Role::Roster) == 0 {
        bail!(
            "没有找到县局名单：请用 --roster 指定，或确认文件夹中名单的标题/表头（如“证件号码”“在校生状况”）。只检查摸底表请用 taizhang check{skipped_note}"
        );
    }
    if roles(Role::Survey) == 0 {
        bail!(
            "没有找到摸底调查表（附件1）：请用 --survey 指定，或确认表头中有“就读状态”列{skipped_note}"
        );
    }
    timing::mark("read");
    let villages = village_index(&config, &tables);
    let words = super::status_words(&config, &tables);
    let (records, per_table) = normalize_all(&tables, &villages, &words);
    timing::mark("normalize");
    let of_role = |role: Role| -> Vec<usize> {
        tables
            .iter()
            .filter(|t| t.role == role)
            .flat_map(|t| per_table[t.index].iter().copied())
            .collect()
    };
    // Roster rows outside the age window (the other members of a
    // whole-household export) are counted once here and take no part in
    // checking, linking or deriving.
    let out_of_window = super::out_of_window_counts(&config, &tables, &records);
    let roster: Vec<usize> = of_role(Role::Roster)
        .into_iter()
        .filter(|&i| !check::outside_round(&records[i], &config))
        .collect();
    let survey = of_role(Role::Survey);
    let ledger = of_role(Role::Ledger);

    let mut findings = Vec::new();
    for t in &tables {
        if t.role == Role::Stats {
            continue;
        }
        let recs = super::records_of(&records, &per_table[t.index]);
        let school = if t.role == Role::Survey {
            check::school_of_survey(t, &config)
        } else {
            None
        };
        findings.extend(check::check_table(
            t,
            recs,
            &config,
            &villages,
            school.as_deref(),
        ));
    }
    findings.extend(check::check_duplicates_in_round(&tables, &records, &config));
    // Later stages work on the records; only the statistics tables are read
    // again (check_stats). Freeing the raw cells here, before linking, keeps
    // the peak at about the records' size instead of records + raw rows.
    let row_counts = super::row_counts(&tables);
    for t in tables.iter_mut().filter(|t| t.role != Role::Stats) {
        t.rows = Vec::new();
    }
    timing::mark("check");

    let pb = ui.progress(1, "匹配");
    let params = LinkParams::default();
    let pairs = link::link(&records, &roster, &survey, &params);
    pb.finish_and_clear();
    timing::mark("link");
    findings.extend(link::link_findings(
        &tables, &records, &roster, &survey, &pairs,
    ));
    timing::mark("link_findings");

    let derived = derive::derive_round(&config, &tables, &records, &roster, &survey, &pairs);
    if !ledger.is_empty() {
        let ledger_pairs = link::link(&records, &roster, &ledger, &params);
        findings.extend(derive::check_ledger(
            &tables,
            &records,
            &roster,
            &ledger,
            &ledger_pairs,
            &pairs,
        ));
    }
    // STATS_DIFFERS: recount from the hand-filled ledger when there is one.
    let expected = if ledger.is_empty() {
        derived.stats.clone()
    } else {
        let order = derive::village_order(&config, &records, &roster);
        derive::stats_from(
            &order,
            ledger.iter().map(|&i| {
                let r = &records[i];
                (
                    r.village.as_deref().unwrap_or(r.village_raw.as_str()),
                    derive::ledger_landing(r),
                )
            }),
        )
    };
    for t in tables.iter().filter(|t| t.role == Role::Stats) {
        findings.extend(derive::check_stats(t, Some(&expected), &villages));
    }

    // Files skipped as non-inputs have no table and get no annotated copy.
    let inputs: Vec<PathBuf> = dedup_paths(
        files
            .iter()
            .map(|(p, _)| p.clone())
            .filter(|p| tables.iter().any(|t| &t.path == p)),
    );
    report::sort_findings(
        &mut findings,
        &inputs.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
    );
    let links: Vec<Link> = pairs
        .iter()
        .map(|p| Link {
            roster: loc(&tables, &records[p.roster]),
            survey: loc(&tables, &records[p.survey]),
            decision: p.decision,
            score: (p.score * 1000.0).round() / 1000.0,
            reasons: p.reasons.clone(),
        })
        .collect();
    let mut summary = Summary::count(&findings);
    let in_pair_survey: HashSet<usize> = pairs.iter().map(|p| p.survey).collect();
    summary.linked = pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
        .count();
    let pending = derive::Pending::of(&derived.ledger);
    // Later roster copies of a child are neither linked nor "only in the
    // roster": the count is the ledger's 未摸底.
    summary.roster_only = pending.unsurveyed;
    summary.pending = Some(pending);
    summary.ready = summary.ready && skipped_inputs.is_empty();
    summary.skipped_inputs = skipped_inputs;
    summary.survey_only = survey
        .iter()
        .filter(|i| !in_pair_survey.contains(i))
        .count();
    timing::mark("derive");
    Ok(Round {
        config,
        inputs,
        tables,
        row_counts,
        out_of_window,
        records,
        findings,
        pairs,
        links,
        derived,
        summary,
        roster,
        survey,
    })
}

pub fn dedup_paths(it: impl Iterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    it.filter(|p| seen.insert(p.clone())).collect()
}

pub fn run(args: ReconcileArgs, ui: &Ui) -> Result<i32> {
    let round = compute(&args, ui)?;
    let out = args.out.clone().unwrap_or_else(|| {
        args.folder
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(super::OUT_DIR_NAME)
    });
    prepare_out_dir(&out, &round.inputs, true)?;
    let hist_dir = out.join(history::HISTORY_DIR);
    let entry = history::entry_path(&hist_dir, &chrono::Local::now().naive_local());
    let comparison = compare_with_earlier(&round, args.since.as_deref(), &entry)?;
    write_outputs(&round, Some(&comparison), &out, ui)?;
    print_summary(&round, Some(&comparison), &out, ui);
    timing::mark("terminal");
    Ok(exit_status(&round.summary))
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

/// Every output file of a round (README.md lists them), into `out`.
/// The HTML report's file name in the output folder.
pub const HTML_REPORT: &str = "报告.html";

pub fn write_outputs(
    round: &Round,
    history: Option<&Comparison>,
    out: &Path,
    ui: &Ui,
) -> Result<()> {
    let pb = ui.progress(round.inputs.len() as u64 + 6, "写出");
    let report = Report {
        tool: "taizhang",
        version: env!("CARGO_PKG_VERSION"),
        school_year: round.config.school_year,
        born_from: round.config.born_from.to_string(),
        born_to: round.config.born_to.to_string(),
        inputs: super::input_infos(&round.tables, &round.row_counts, &round.out_of_window),
        summary: round.summary.clone(),
        findings: &round.findings,
        links: &round.links,
        history,
    };
    let report = &report;
    let (mut tasks, _) = super::annotated_tasks(
        &round.inputs,
        &round.tables,
        &round.row_counts,
        &round.findings,
        &round.summary,
        history,
        out,
        &pb,
    );
    let done = |pb: &indicatif::ProgressBar| pb.inc(1);
    // The ledger (a row per child, every cell formatted) is the longest
    // task: first, so the copies run beside it instead of before it.
    for (i, annex) in [Annex::Ledger, Annex::Warning, Annex::Stats]
        .into_iter()
        .enumerate()
    {
        let pb = pb.clone();
        let task = Task::new(annex.file_name(), move || {
            write_annex(round, annex, out)?;
            done(&pb);
            Ok(())
        });
        if i == 0 {
            tasks.insert(0, task);
        } else {
            tasks.push(task);
        }
    }
    let pb1 = pb.clone();
    tasks.push(Task::new("findings.json", move || {
        super::write_output_with(&out.join("findings.json"), |w| {
            report::write_findings_json(report, w)
        })?;
        done(&pb1);
        Ok(())
    }));
    let pb2 = pb.clone();
    let mask = ui.mask;
    tasks.push(Task::new(HTML_REPORT, move || {
        let info = html::RunInfo {
            township: round.config.township.as_deref(),
            config: Some(round.config.describe_zh()),
            generated: Some(chrono::Local::now().format("%Y-%m-%d %H:%M").to_string()),
        };
        let page = html::render_page(
            report,
            &info,
            &village_lines(round),
            &status_counts(round),
            mask,
        );
        super::write_output(&out.join(HTML_REPORT), page.as_bytes())?;
        done(&pb2);
        Ok(())
    }));
    let pb3 = pb.clone();
    tasks.push(Task::new("findings.csv", move || {
        super::write_output(
            &out.join("findings.csv"),
            &report::findings_csv_with(&round.findings, history),
        )?;
        done(&pb3);
        Ok(())
    }));
    super::run_tasks(tasks)?;
    // The run joins the history once its outputs are written; without the
    // links (a line per child), which no comparison reads.
    if let Some(entry) = history.and_then(|h| h.entry.as_deref()) {
        let kept = Report {
            links: &[],
            ..report.clone()
        };
        history::save(entry, |w| report::write_findings_json(&kept, w)).map_err(|e| {
            anyhow::anyhow!("无法把本次核对结果存入历史记录「{}」：{e}", entry.display())
        })?;
    }
    pb.finish_and_clear();
    timing::mark("outputs");
    Ok(())
}

fn text(s: &str) -> TCell {
    if s.is_empty() {
        TCell::Empty
    } else {
        TCell::Text(s.to_string())
    }
}

fn annex_data(round: &Round, rows: Vec<Vec<TCell>>) -> AnnexData {
    let cfg = &round.config;
    AnnexData {
        township: cfg.township.clone(),
        school_year: cfg.school_year,
        unit: cfg
            .township
            .clone()
            .map(|t| format!("{t}人民政府"))
            .unwrap_or_default(),
        date: String::new(),
        villages: derive::village_order(cfg, &round.records, &round.roster),
        rows,
        draft: report::draft_line(&round.summary),
        total_remark: round
            .derived
            .stats
            .last()
            .map(|t| t.remark())
            .unwrap_or_default(),
    }
}

/// Build and write one generated annex into `out`, atomically. The ledger
/// and the warning list are streamed row by row into a temporary file
/// (rust_xlsxwriter's constant-memory mode: a million-row ledger is never
/// held in memory), then renamed.
pub fn write_annex(round: &Round, annex: Annex, out: &Path) -> Result<()> {
    let path = out.join(annex.file_name());
    let data = annex_data(round, Vec::new());
    let tmp = out.join(format!(".{}.tmp{}", annex.file_name(), std::process::id()));
    let saved = match annex {
        Annex::Ledger => templates::save_annex(annex, &data, ledger_rows(round), &tmp),
        Annex::Warning => templates::save_annex(annex, &data, warning_rows(round), &tmp),
        Annex::Stats | Annex::Survey => {
            let rows = if annex == Annex::Stats {
                stats_rows(round)
            } else {
                Vec::new()
            };
            let bytes = templates::build_annex(annex, &annex_data(round, rows))
                .map_err(|e| anyhow::anyhow!("生成{}失败：{e}", annex.file_name()))?;
            return super::write_output(&path, &bytes);
        }
    };
    let renamed = saved.map_err(|e| anyhow::anyhow!("{e}")).and_then(|()| {
        // Write access: Windows refuses to flush a file opened read-only.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)?
            .sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    });
    renamed.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!(
            "无法写入输出文件「{}」（文件夹 {}）：{e}",
            annex.file_name(),
            out.display()
        )
    })
}

fn ledger_rows(round: &Round) -> impl Iterator<Item = Vec<TCell>> + '_ {
    round.derived.ledger.iter().enumerate().map(|(i, l)| {
        vec![
            TCell::Int(i as i64 + 1),
            text(&l.township),
            text(&l.village),
            text(&l.group),
            text(&l.household_head),
            text(&l.household_type),
            text(&l.name),
            text(&l.sex),
            text(&l.id),
            text(&l.birth),
            text(l.status_text()),
            text(&l.school),
            text(&l.grade),
            text(&l.reason),
            text(&l.evidence),
            text(&l.surveyor),
            text(&l.remark),
        ]
    })
}

fn stats_rows(round: &Round) -> Vec<Vec<TCell>> {
    round
        .derived
        .stats
        .iter()
        .filter(|s| s.village != derive::TOTAL_ROW)
        .enumerate()
        .map(|(i, s)| {
            let mut row = vec![
                if s.village == derive::TOTAL_ROW {
                    TCell::Empty
                } else {
                    TCell::Int(i as i64 + 1)
                },
                text(&s.village),
            ];
            row.extend(Field::STAT_COUNTS.iter().map(|f| TCell::Int(s.get(*f))));
            row.push(text(&s.remark()));
            row
        })
        .collect()
}

fn warning_rows(round: &Round) -> impl Iterator<Item = Vec<TCell>> + '_ {
    round.derived.warnings.iter().enumerate().map(|(i, w)| {
        vec![
            TCell::Int(i as i64 + 1),
            text(&w.township),
            text(&w.village),
            text(&w.name),
            text(&w.sex),
            text(&w.id),
            text(&w.birth),
            text(&w.household_type),
            text(&w.warning_type),
            text(&w.status),
            text(&w.reason),
            TCell::Empty,
            text(&w.responsible),
            TCell::Empty,
        ]
    })
}

/// Per-village counts: roster, surveyed, linked, errors, warnings, dropouts.
pub fn village_lines(round: &Round) -> Vec<VillageLine> {
    let order = derive::village_order(&round.config, &round.records, &round.roster);
    let mut m: BTreeMap<String, VillageLine> = BTreeMap::new();
    let unnamed = || html::NO_VILLAGE.to_string();
    let vname = |r: &Record| {
        r.village.clone().unwrap_or_else(|| {
            if r.village_raw.is_empty() {
                unnamed()
            } else {
                r.village_raw.clone()
            }
        })
    };
    fn entry(m: &mut BTreeMap<String, VillageLine>, k: String) -> &mut VillageLine {
        m.entry(k.clone()).or_insert_with(|| VillageLine {
            village: k,
            ..Default::default()
        })
    }
    for &i in &round.roster {
        entry(&mut m, vname(&round.records[i])).roster += 1;
    }
    // A survey without a village (a school's registry list) counts its
    // linked children under their roster village.
    let roster_of: HashMap<usize, usize> = round
        .pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
        .map(|p| (p.survey, p.roster))
        .collect();
    for &i in &round.survey {
        let r = &round.records[i];
        let name = match roster_of.get(&i) {
            Some(&ro) if r.village.is_none() && r.village_raw.trim().is_empty() => {
                vname(&round.records[ro])
            }
            _ => vname(r),
        };
        let v = entry(&mut m, name);
        v.surveyed += 1;
        if matches!(r.status, StatusValue::Known(s) if s.is_dropout()) {
            v.dropouts += 1;
        }
    }
    for p in round
        .pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
    {
        entry(&mut m, vname(&round.records[p.roster])).linked += 1;
    }
    for f in &round.findings {
        let v = entry(&mut m, f.village.clone().unwrap_or_else(unnamed));
        match f.severity {
            Severity::Error => v.errors += 1,
            Severity::Warning => v.warnings += 1,
            Severity::Notice => {}
        }
    }
    let mut keys: Vec<String> = order.into_iter().filter(|k| m.contains_key(k)).collect();
    for k in m.keys() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys.into_iter().filter_map(|k| m.remove(&k)).collect()
}

/// Roster children per status, then 状态待核实, 待人工确认 and 未摸底.
pub fn status_counts(round: &Round) -> Vec<(String, usize)> {
    use derive::Landing;
    let mut m: BTreeMap<Landing, usize> = BTreeMap::new();
    for l in &round.derived.ledger {
        *m.entry(l.landing).or_insert(0) += 1;
    }
    let mut out: Vec<(String, usize)> = Status::ALL
        .iter()
        .filter_map(|s| {
            m.get(&Landing::Known(*s))
                .map(|n| (s.label_zh().to_string(), *n))
        })
        .collect();
    for (l, label) in [
        (Landing::StatusUnknown, derive::STATUS_PENDING_TEXT),
        (Landing::Unconfirmed, derive::UNCONFIRMED_TEXT),
        (Landing::NotSurveyed, derive::NOT_SURVEYED_TEXT),
    ] {
        if let Some(n) = m.get(&l) {
            out.push((label.to_string(), *n));
        }
    }
    out
}

pub fn print_summary(round: &Round, history: Option<&Comparison>, out: &Path, ui: &Ui) {
    let style = ui.style();
    let mut s = String::new();
    let _ = writeln!(s, "读取的表格：");
    let infos = super::input_infos(&round.tables, &round.row_counts, &round.out_of_window);
    s.push_str(&report::inputs_table(&infos));
    s.push_str(&super::out_of_window_lines(&infos));
    s.push_str(&report::findings_text(&round.findings, style));
    let _ = writeln!(s, "\n各村情况：");
    s.push_str(&report::table(
        &[
            "村（社区）",
            "名单人数",
            "摸底人数",
            "已匹配",
            "错误",
            "警告",
            "失学辍学",
        ],
        &village_lines(round)
            .into_iter()
            .map(|v| {
                vec![
                    v.village,
                    v.roster.to_string(),
                    v.surveyed.to_string(),
                    v.linked.to_string(),
                    v.errors.to_string(),
                    v.warnings.to_string(),
                    v.dropouts.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    if !round.findings.is_empty() {
        let _ = writeln!(s, "\n问题统计：");
        s.push_str(&report::code_table(&round.findings, style));
    }
    let sm = &round.summary;
    let _ = writeln!(
        s,
        "\n名单 {} 人，摸底 {} 人；已匹配 {} 人，名单外 {} 人。",
        round.roster.len(),
        round.survey.len(),
        sm.linked,
        sm.survey_only
    );
    if let Some(line) = report::pending_line(sm) {
        let _ = writeln!(s, "{line}");
    }
    let dropouts = round
        .derived
        .ledger
        .iter()
        .filter(|l| l.status.is_some_and(Status::is_dropout))
        .count();
    if dropouts > 0 {
        let _ = writeln!(s, "失学辍学 {dropouts} 人，已列入筛查预警清单。");
    }
    if let Some(h) = history
        && let Some(c) = &h.changes
    {
        let _ = writeln!(s, "\n{}", c.line());
        let new_errors: Vec<Finding> = round
            .findings
            .iter()
            .enumerate()
            .filter(|(i, f)| f.severity == Severity::Error && h.is_new(*i))
            .map(|(_, f)| f.clone())
            .collect();
        if !new_errors.is_empty() {
            let _ = write!(s, "新出现的错误：");
            s.push_str(&report::findings_text(&new_errors, style));
        }
    }
    for line in report::skipped_lines(sm) {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "{}", report::verdict(sm));
    let _ = writeln!(s, "结果已写入：{}", out.display());
    let _ = writeln!(s, "下一步：{}", report::NEXT_STEPS);
    print!("{s}");
}
