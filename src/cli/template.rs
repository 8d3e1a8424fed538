//! `taizhang template`: write the blank official workbooks.
//!
//! With a config (`--config FILE`, else a taizhang.toml in the current
//! folder, else one beside the output folder) the township and school year
//! are filled into the titles and the configured villages become the choices
//! of the 村（社区） dropdown; without one the committed blank forms are
//! written as they are.

use super::Ui;
use crate::config::Config;
use crate::templates::{Annex, AnnexData};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "taizhang template [选项]",
    about = "生成空白的官方表格：附件1摸底调查表、附件2台账、附件3统计表、筛查预警清单",
    after_help = "示例：\n  taizhang template\n  taizhang template --out 空白表格\n  taizhang template --config taizhang.toml   （标题填入乡镇和学年，村（社区）列可下拉选择）"
)]
pub struct TemplateArgs {
    /// 输出文件夹（默认：当前文件夹下的“空白表格”）
    #[arg(long, value_name = "文件夹")]
    pub out: Option<PathBuf>,
    /// 配置文件 taizhang.toml（乡镇、学年、学校与包联村）；不给时使用当前文件夹或输出文件夹旁的 taizhang.toml
    #[arg(long, value_name = "文件")]
    pub config: Option<PathBuf>,
}

/// The config file to use: the given one, else one in the current folder,
/// else one in the output folder or its parent folder.
fn find_config(given: Option<&Path>, out: &Path) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    let mut dirs = vec![PathBuf::from(".")];
    dirs.push(out.to_path_buf());
    if let Some(parent) = out.parent() {
        dirs.push(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_path_buf()
        });
    }
    dirs.iter()
        .flat_map(|d| crate::config::CONFIG_NAMES.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// The data of the blank forms filled from a config: township, school year
/// (left blank when the config does not name one), villages in config order.
pub fn blank_data(cfg: &Config) -> AnnexData {
    let mut villages: Vec<String> = Vec::new();
    for v in cfg.villages() {
        if !villages.iter().any(|x| x == v) {
            villages.push(v.to_string());
        }
    }
    AnnexData {
        township: cfg.township.clone(),
        school_year: if cfg.school_year_inferred {
            0
        } else {
            cfg.school_year
        },
        unit: cfg
            .township
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| format!("{t}人民政府"))
            .unwrap_or_default(),
        villages,
        ..AnnexData::blank()
    }
}

pub fn run(args: TemplateArgs, ui: &Ui) -> Result<i32> {
    let out = args.out.unwrap_or_else(|| PathBuf::from("空白表格"));
    let written = match find_config(args.config.as_deref(), &out) {
        None => crate::templates::write_templates(&out)
            .with_context(|| format!("无法写入空白表格到 {}", out.display()))?,
        Some(p) => {
            let today = chrono::Local::now().date_naive();
            let cfg = Config::load(&p, today)?;
            if !ui.quiet {
                println!("使用配置文件 {}", p.display());
            }
            let data = blank_data(&cfg);
            std::fs::create_dir_all(&out)
                .with_context(|| format!("无法创建输出文件夹 {}", out.display()))?;
            let mut written = Vec::new();
            for a in Annex::ALL {
                let path = out.join(a.file_name());
                let bytes = crate::templates::build_annex(a, &data)
                    .with_context(|| format!("无法生成 {}", a.file_name()))?;
                crate::output::write_output(&path, &bytes)?;
                written.push(path);
            }
            written
        }
    };
    if !ui.quiet {
        println!("已生成空白表格：");
        for p in written {
            println!("  {}", p.display());
        }
    }
    Ok(0)
}

/// The folder of blank forms written beside the results of a double-click
/// or drag-and-drop run.
pub const BLANK_DIR_NAME: &str = "空白模板";

/// After a double-click or drag-and-drop run: the blank forms (filled from
/// the round's config when one is found) into 空白模板 beside the results
/// folder, unless that folder already exists, so a clerk without a command
/// line gets them too. Never changes the run's outcome: a failure is one
/// printed line.
pub fn blank_forms_beside_results(args: &super::reconcile::ReconcileArgs) {
    let out = args.out.clone().unwrap_or_else(|| {
        args.folder
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(super::OUT_DIR_NAME)
    });
    let beside = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = beside.join(BLANK_DIR_NAME);
    if dir.exists() || !beside.is_dir() {
        return;
    }
    // The config the run used; one that does not load was reported by the
    // run: plain forms then, as without a config.
    let folder = args.folder.as_deref().unwrap_or(beside);
    let data = Config::find(args.config.as_deref(), Some(folder))
        .ok()
        .filter(|c| c.path.is_some())
        .map(|c| blank_data(&c))
        .unwrap_or_else(AnnexData::blank);
    let written = std::fs::create_dir_all(&dir)
        .with_context(|| format!("无法创建文件夹 {}", dir.display()))
        .and_then(|()| {
            Annex::ALL.iter().try_for_each(|&a| {
                let bytes = crate::templates::build_annex(a, &data)
                    .with_context(|| format!("无法生成 {}", a.file_name()))?;
                crate::output::write_output(&dir.join(a.file_name()), &bytes)
            })
        });
    match written {
        Ok(()) => println!(
            "\n已生成空白表格（附件1摸底调查表、附件2、附件3、筛查预警清单）：{}\n  可发给各校、各村填写；此文件夹已存在时不再生成。",
            dir.display()
        ),
        Err(e) => println!("\n未能生成空白表格：{e:#}"),
    }
}
