//! `taizhang check`: record-level checks of the given workbooks, no roster needed.

use super::{
    Ui, exit_status, file_name, input_infos, load_config, normalize_all, prepare_out_dir, read_all,
    row_counts, village_index, write_annotated,
};
use crate::check;
use crate::derive;
use crate::model::Role;
use crate::report::{self, Report, Summary};
use anyhow::Result;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "taizhang check <文件>... [选项]",
    about = "逐条检查表格（摸底表、台账、统计表、名单），不需要县局名单",
    after_help = "示例：\n  taizhang check 附件1_熨斗初级中学.xlsx\n  taizhang check 附件1_中心小学.xls 附件3_统计表.xlsx --config taizhang.toml --out 检查结果\n\n退出码：0 没有错误；1 有错误需要改正；2 无法完成检查（文件打不开、配置错误等）"
)]
pub struct CheckArgs {
    /// 要检查的表格文件（xlsx、xls、ods、csv），可多个
    #[arg(required = true, value_name = "文件")]
    pub files: Vec<PathBuf>,
    /// 配置文件 taizhang.toml（乡镇、学年、学校与包联村）
    #[arg(long, value_name = "文件")]
    pub config: Option<PathBuf>,
    /// 输出文件夹（默认：当前文件夹下的“核对结果”）
    #[arg(long, value_name = "文件夹")]
    pub out: Option<PathBuf>,
    /// 终端中显示完整身份证号（默认打码）
    #[arg(long)]
    pub no_mask: bool,
}

pub fn run(args: CheckArgs, ui: &Ui) -> Result<i32> {
    let inputs = super::reconcile::dedup_paths(args.files.iter().cloned());
    let files: Vec<(PathBuf, Option<Role>)> = inputs.iter().map(|p| (p.clone(), None)).collect();
    // The taizhang.toml beside the (first) checked file.
    let beside = inputs.first().and_then(|p| p.parent()).map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    });
    let config = load_config(args.config.as_deref(), beside)?;
    let tables = read_all(&files, &config, false, ui)?;
    let villages = village_index(&config, &tables);
    let words = super::status_words(&config, &tables);
    let (records, per_table) = normalize_all(&tables, &villages, &words);
    let mut findings = Vec::new();
    for t in &tables {
        if t.role == Role::Stats {
            findings.extend(derive::check_stats(t, None, &villages));
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
    report::sort_findings(
        &mut findings,
        &inputs.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
    );
    let summary = Summary::count(&findings);

    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(super::OUT_DIR_NAME));
    prepare_out_dir(&out, &inputs, false)?;
    let rows = row_counts(&tables);
    write_annotated(&inputs, &tables, &rows, &findings, &summary, &out, ui)?;
    let rep = Report {
        tool: "taizhang",
        version: env!("CARGO_PKG_VERSION"),
        school_year: config.school_year,
        born_from: config.born_from.to_string(),
        born_to: config.born_to.to_string(),
        inputs: input_infos(
            &tables,
            &rows,
            &super::out_of_window_counts(&config, &tables, &records),
        ),
        summary: summary.clone(),
        findings: &findings,
        links: &[],
        history: None,
    };
    super::write_output(&out.join("findings.json"), &report::findings_json(&rep))?;
    super::write_output(&out.join("findings.csv"), &report::findings_csv(&findings))?;

    let style = ui.style();
    let mut s = String::new();
    let _ = writeln!(s, "读取的表格：");
    s.push_str(&report::inputs_table(&rep.inputs));
    s.push_str(&super::out_of_window_lines(&rep.inputs));
    s.push_str(&report::findings_text(&findings, style));
    if !findings.is_empty() {
        let _ = writeln!(s, "\n问题统计：");
        s.push_str(&report::code_table(&findings, style));
    }
    let _ = writeln!(s, "\n{}", report::verdict(&summary));
    let _ = writeln!(s, "结果已写入：{}", out.display());
    print!("{s}");
    Ok(exit_status(&summary))
}
