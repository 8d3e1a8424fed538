//! `taizhang reconcile`: the whole round — roster ↔ surveys, hand-filled
//! annexes, derived annexes, annotated copies, findings.

use super::{OUT_DIR_NAME, Ui, exit_status, load_config, out_of_window_lines, timing};
use crate::inputs::Selection;
use crate::model::{Finding, Severity, Status};
use crate::output::{self, Options};
use crate::report::{self, history::Comparison};
use crate::round::Round;
use anyhow::Result;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "taizhang reconcile [文件夹] [选项]",
    about = "核对一轮摸底：县局名单 ↔ 各校摸底表，生成附件2/附件3/预警清单和标注副本",
    after_help = "示例：\n  taizhang reconcile 摸底材料            # 读取文件夹中所有表格，自动识别类型\n  taizhang reconcile --roster 县局名单.xlsx --survey 附件1_中心小学.xlsx --survey 附件1_初中.xls\n  taizhang reconcile 摸底材料 --out 核对结果 --no-mask\n  taizhang reconcile 摸底材料 --since 县复核前.findings.json   # 与那一次比较（默认与上一次比较）\n\n每次核对的结果留在输出文件夹的“历史”中（最近 20 次），终端、报告.html 和核对说明都会写明比上次改正了多少、新出现了多少。\n\n退出码：0 没有错误，可以上报；1 有错误需要改正，或文件夹中有文件未能读取、已跳过；2 无法完成核对（给出的文件打不开、配置错误、上次的结果文件正在 Excel/WPS 中打开等）"
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

impl ReconcileArgs {
    /// A folder's round with every option left out (double-click use).
    pub fn folder(dir: &Path) -> ReconcileArgs {
        ReconcileArgs {
            folder: Some(dir.to_path_buf()),
            config: None,
            roster: None,
            survey: Vec::new(),
            ledger: Vec::new(),
            stats: Vec::new(),
            out: None,
            no_mask: false,
            since: None,
            files: Vec::new(),
        }
    }

    /// The inputs named on the command line.
    pub fn selection(&self) -> Selection {
        Selection {
            folder: self.folder.clone(),
            files: self.files.clone(),
            roster: self.roster.clone(),
            survey: self.survey.clone(),
            ledger: self.ledger.clone(),
            stats: self.stats.clone(),
        }
    }
}

pub fn run(args: ReconcileArgs, ui: &Ui) -> Result<i32> {
    timing::start();
    let inputs = args.selection().resolve()?;
    let config = load_config(args.config.as_deref(), args.folder.as_deref())?;
    let round = Round::compute(&inputs, &config, ui)?;
    let out = args.out.clone().unwrap_or_else(|| {
        args.folder
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(OUT_DIR_NAME)
    });
    let options = Options {
        mask: ui.mask,
        since: args.since.clone(),
    };
    let comparison = match output::write_all(&round, &out, &options, ui) {
        Ok(c) => c,
        // A result file open in Excel/WPS: the summary still, then which file
        // to close; the folder keeps the previous run's files.
        Err(e) => match e.downcast::<output::NotReplaced>() {
            Ok(not_replaced) => {
                print_summary(&round, None, Err(&not_replaced), ui);
                return Ok(2);
            }
            Err(e) => return Err(e),
        },
    };
    print_summary(&round, comparison.as_ref(), Ok(&out), ui);
    timing::mark("terminal");
    Ok(exit_status(&round.summary))
}

/// The terminal summary; `written`: the output folder, or why this run's
/// files were not put there.
pub fn print_summary(
    round: &Round,
    history: Option<&Comparison>,
    written: std::result::Result<&Path, &output::NotReplaced>,
    ui: &Ui,
) {
    let style = ui.style();
    let mut s = String::new();
    let _ = writeln!(s, "读取的表格：");
    let infos = round.input_infos();
    s.push_str(&report::inputs_table(&infos));
    s.push_str(&out_of_window_lines(&infos));
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
        &round
            .village_lines()
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
        .filter(|l| l.status().is_some_and(Status::is_dropout))
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
    match written {
        Ok(out) => {
            let _ = writeln!(s, "结果已写入：{}", out.display());
            let _ = writeln!(s, "下一步：{}", report::NEXT_STEPS);
        }
        Err(not_replaced) => {
            let _ = writeln!(s, "\n{not_replaced}");
        }
    }
    print!("{s}");
}
