//! The taizhang binary: parse arguments, run the command, map errors to exit 2.

use clap::error::{ContextKind, ErrorKind};
use clap::{ArgAction, Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use taizhang::cli::{self, Ui};

/// mimalloc hands freed memory back between the stages of a large round
/// (see Cargo.toml).
#[cfg(not(windows))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP_TEMPLATE: &str = "{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}\n";

#[derive(Parser)]
#[command(
    name = "taizhang",
    version,
    about = "台账核对工具：把县局名单和各校摸底表逐人比对，逐条检查，标注出问题，生成附件2、附件3和筛查预警清单。所有数据只在本机处理。",
    help_template = HELP_TEMPLATE,
    override_usage = "taizhang <命令> [选项]",
    subcommand_value_name = "命令",
    subcommand_help_heading = "命令",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    arg_required_else_help = true,
    after_help = "示例：\n  taizhang reconcile 摸底材料        核对一整轮（名单 + 摸底表）\n  taizhang check 附件1_初中.xlsx      只检查一张表\n  taizhang template                  生成空白官方表格\n\n每个命令加 --help 查看详细说明。"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// 不显示进度条
    #[arg(long, global = true, help_heading = "选项")]
    quiet: bool,
    /// 显示帮助
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true, help_heading = "选项")]
    help: Option<bool>,
    /// 显示版本号
    #[arg(short = 'V', long = "version", action = ArgAction::Version, help_heading = "选项")]
    version: Option<bool>,
}

#[derive(Subcommand)]
enum Command {
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Reconcile(cli::reconcile::ReconcileArgs),
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Check(cli::check::CheckArgs),
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Template(cli::template::TemplateArgs),
}

fn main() {
    cli::double_click::setup_console();
    // A folder dropped onto taizhang.exe, or a double-click without arguments.
    let decision = cli::double_click::decide_from_env();
    if decision != cli::double_click::Decision::Cli {
        std::process::exit(cli::double_click::run(&decision));
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    let (args, implicit) = match implicit_reconcile(&args[1..]) {
        Some(rest) => (args[..1].iter().cloned().chain(rest).collect(), true),
        None => (args, false),
    };
    let finish = |code: i32| -> ! {
        if implicit {
            cli::double_click::wait_for_enter();
        }
        std::process::exit(code)
    };
    let parsed = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            finish(0);
        }
        Err(e) => {
            eprintln!(
                "taizhang：{}\n运行 taizhang --help 查看用法。",
                argument_error_zh(&e)
            );
            finish(2);
        }
    };
    let result = match parsed.command {
        Command::Reconcile(a) => {
            let ui = Ui::new(parsed.quiet, !a.no_mask);
            let blank_forms = implicit.then(|| a.clone());
            let result = cli::reconcile::run(a, &ui);
            if let Some(a) = blank_forms {
                cli::template::blank_forms_beside_results(&a);
            }
            result
        }
        Command::Check(a) => {
            let ui = Ui::new(parsed.quiet, !a.no_mask);
            cli::check::run(a, &ui)
        }
        Command::Template(a) => cli::template::run(a, &Ui::new(parsed.quiet, true)),
    };
    match result {
        Ok(code) => finish(code),
        Err(e) => {
            // Error messages can quote cell text: never print a full ID.
            let msg = format!("{e:#}");
            eprintln!("taizhang：无法完成：{}", taizhang::gb11643::mask_text(&msg));
            finish(2);
        }
    }
}

/// Files and folders given without a command (dragged onto the program, or
/// `taizhang 文件夹 --out 结果`) are a `reconcile` of those inputs: the
/// argument list to parse instead, or `None` for an ordinary command line.
fn implicit_reconcile(args: &[OsString]) -> Option<Vec<OsString>> {
    let first = args.first()?.to_string_lossy().into_owned();
    if first.starts_with('-') || ["reconcile", "check", "template"].contains(&first.as_str()) {
        return None;
    }
    let paths: Vec<PathBuf> = args
        .iter()
        .take_while(|a| !a.to_string_lossy().starts_with('-'))
        .map(PathBuf::from)
        .collect();
    if !paths.iter().all(|p| p.exists()) {
        return None;
    }
    let rest = &args[paths.len()..];
    let has = |flag: &str| rest.iter().any(|a| a.to_string_lossy() == flag);
    let mut out: Vec<OsString> = vec!["reconcile".into()];
    let folder = paths.iter().find(|p| p.is_dir()).cloned();
    if let Some(dir) = &folder {
        out.push(dir.clone().into());
    }
    for p in &paths {
        if Some(p) == folder.as_ref() {
            continue;
        }
        let files = if p.is_dir() {
            taizhang::inputs::folder_inputs(p).unwrap_or_default()
        } else {
            vec![p.clone()]
        };
        for f in files {
            out.push("--file".into());
            out.push(f.into());
        }
    }
    if folder.is_none() {
        // Files only: results and config beside the first file.
        let beside = paths[0]
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !has("--out") {
            out.push("--out".into());
            out.push(beside.join(cli::OUT_DIR_NAME).into());
        }
        if !has("--config")
            && let Some(c) = taizhang::config::CONFIG_NAMES
                .iter()
                .map(|n| beside.join(n))
                .find(|c| c.is_file())
        {
            out.push("--config".into());
            out.push(c.into());
        }
    }
    out.extend(rest.iter().cloned());
    Some(out)
}

/// A command-line mistake, in Chinese.
fn argument_error_zh(e: &clap::Error) -> String {
    let value = |k: ContextKind| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    let commands = "可用的命令：reconcile（核对一整轮）、check（只检查一张表）、template（生成空白表格）；也可以直接给出文件夹或文件";
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let v = value(ContextKind::InvalidSubcommand);
            format!("找不到文件或文件夹，也没有这个命令：“{v}”。{commands}")
        }
        ErrorKind::UnknownArgument => {
            format!("无法识别的选项“{}”", value(ContextKind::InvalidArg))
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("缺少命令。{commands}")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => format!(
            "选项 {} 的值“{}”无效",
            value(ContextKind::InvalidArg),
            value(ContextKind::InvalidValue)
        ),
        ErrorKind::MissingRequiredArgument => {
            format!("缺少必需的参数 {}", value(ContextKind::InvalidArg))
        }
        ErrorKind::ArgumentConflict => format!(
            "选项 {} 不能与 {} 同时使用",
            value(ContextKind::InvalidArg),
            value(ContextKind::PriorArg)
        ),
        ErrorKind::TooManyValues => {
            format!(
                "选项或参数 {} 给出的次数过多",
                value(ContextKind::InvalidArg)
            )
        }
        ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("选项 {} 的值的个数不对", value(ContextKind::InvalidArg))
        }
        _ => "命令行参数有误".to_string(),
    }
}
