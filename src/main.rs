//! The taizhang binary: parse arguments, run the command, map errors to exit 2.

use clap::{ArgAction, Parser, Subcommand};
use taizhang::cmd::{self, Ui};

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
    Reconcile(cmd::reconcile::ReconcileArgs),
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Check(cmd::check::CheckArgs),
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Template(cmd::template::TemplateArgs),
}

fn main() {
    cmd::double_click::setup_console();
    // A folder dropped onto taizhang.exe, or a double-click without arguments.
    let decision = cmd::double_click::decide_from_env();
    if decision != cmd::double_click::Decision::Cli {
        std::process::exit(cmd::double_click::run(&decision));
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result = match cli.command {
        Command::Reconcile(a) => {
            let ui = Ui {
                quiet: cli.quiet,
                mask: !a.no_mask,
            };
            cmd::reconcile::run(a, &ui)
        }
        Command::Check(a) => {
            let ui = Ui {
                quiet: cli.quiet,
                mask: !a.no_mask,
            };
            cmd::check::run(a, &ui)
        }
        Command::Template(a) => cmd::template::run(
            a,
            &Ui {
                quiet: cli.quiet,
                mask: true,
            },
        ),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Error messages can quote cell text: never print a full ID.
            let msg = format!("{e:#}");
            eprintln!(
                "taizhang：无法完成：{}",
                taizhang::normalize::id::mask_text(&msg)
            );
            std::process::exit(2);
        }
    }
}
