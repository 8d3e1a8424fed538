//! `taizhang check`: record-level checks of the given workbooks, no roster needed.

use super::{OUT_DIR_NAME, Ui, exit_status, load_config, out_of_window_lines};
use crate::inputs::Inputs;
use crate::output::{self, Options};
use crate::report;
use crate::round::Round;
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
    let inputs = Inputs::files(args.files.iter().cloned());
    // The taizhang.toml beside the (first) checked file.
    let beside = inputs.files.first().and_then(|i| i.path.parent()).map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    });
    let config = load_config(args.config.as_deref(), beside)?;
    let round = Round::check_only(&inputs, &config, ui)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(OUT_DIR_NAME));
    let options = Options {
        mask: ui.mask,
        since: None,
    };
    let written = output::write_all(&round, &out, &options, ui);
    let not_replaced = match written {
        Ok(_) => None,
        Err(e) => Some(e.downcast::<output::NotReplaced>()?),
    };

    let style = ui.style();
    let infos = round.input_infos();
    let findings = &round.findings;
    let mut s = String::new();
    let _ = writeln!(s, "读取的表格：");
    s.push_str(&report::inputs_table(&infos));
    s.push_str(&out_of_window_lines(&infos));
    s.push_str(&report::findings_text(findings, style));
    if !findings.is_empty() {
        let _ = writeln!(s, "\n问题统计：");
        s.push_str(&report::code_table(findings, style));
    }
    let _ = writeln!(s, "\n{}", report::verdict(&round.summary));
    if let Some(n) = not_replaced {
        let _ = writeln!(s, "\n{n}");
        print!("{s}");
        return Ok(2);
    }
    let _ = writeln!(s, "结果已写入：{}", out.display());
    print!("{s}");
    Ok(exit_status(&round.summary))
}
