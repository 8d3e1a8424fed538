//! `taizhang template`: write the blank official workbooks.

use super::Ui;
use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "taizhang template [选项]",
    about = "生成空白的官方表格：附件1摸底调查表、附件2台账、附件3统计表、筛查预警清单",
    after_help = "示例：\n  taizhang template\n  taizhang template --out 空白表格"
)]
pub struct TemplateArgs {
    /// 输出文件夹（默认：当前文件夹下的“空白表格”）
    #[arg(long, value_name = "文件夹")]
    pub out: Option<PathBuf>,
}

pub fn run(args: TemplateArgs, ui: &Ui) -> Result<i32> {
    let out = args.out.unwrap_or_else(|| PathBuf::from("空白表格"));
    let written = crate::templates::write_templates(&out)
        .with_context(|| format!("无法写入空白表格到 {}", out.display()))?;
    if !ui.quiet {
        println!("已生成空白表格：");
        for p in written {
            println!("  {}", p.display());
        }
    }
    Ok(0)
}
