//! Double-click use on Windows: a folder dropped onto taizhang.exe, or
//! taizhang.exe started with no arguments inside a folder of workbooks, runs
//! `reconcile` on that folder, prints the summary and waits for Enter so the
//! console window does not close before the clerk has read it.
//!
//! Also the console setup every Windows run needs (UTF-8 output, ANSI colours).

use super::Ui;
use super::reconcile::{self, ReconcileArgs};
use crate::inputs::folder_inputs;
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// What `main` does with the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Ordinary command line: hand it to clap.
    Cli,
    /// Double-click mode: reconcile this folder.
    Folder(PathBuf),
    /// Started with no arguments (double-click) but no folder of workbooks found.
    NoWorkbooks,
}

/// Names clap reads as commands or flags; never taken as a dropped folder.
const RESERVED: [&str; 3] = ["reconcile", "check", "template"];

/// Decide the mode from the arguments (without the program name).
/// `exe_dir`/`cwd`: the program's own folder and the current directory;
/// `holds_workbooks` tells whether a folder has any input workbook;
/// `windows`: starting without arguments means a double-click only on Windows.
pub fn decide(
    args: &[OsString],
    exe_dir: Option<&Path>,
    cwd: Option<&Path>,
    windows: bool,
    is_dir: impl Fn(&Path) -> bool,
    holds_workbooks: impl Fn(&Path) -> bool,
) -> Decision {
    match args {
        [one] => {
            let s = one.to_string_lossy();
            if s.starts_with('-') || RESERVED.contains(&s.as_ref()) {
                return Decision::Cli;
            }
            let p = PathBuf::from(one);
            if is_dir(&p) {
                Decision::Folder(p)
            } else {
                Decision::Cli
            }
        }
        [] if windows => exe_dir
            .into_iter()
            .chain(cwd)
            .find(|d| holds_workbooks(d))
            .map(|d| Decision::Folder(d.to_path_buf()))
            .unwrap_or(Decision::NoWorkbooks),
        _ => Decision::Cli,
    }
}

/// `decide` on the real command line, file system and platform.
pub fn decide_from_env() -> Decision {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let cwd = std::env::current_dir().ok();
    decide(
        &args,
        exe_dir.as_deref(),
        cwd.as_deref(),
        cfg!(windows),
        |p| p.is_dir(),
        |d| folder_inputs(d).is_ok_and(|v| !v.is_empty()),
    )
}

/// Run double-click mode; returns the exit status.
pub fn run(decision: &Decision) -> i32 {
    let code = match decision {
        Decision::Cli => return 0,
        Decision::Folder(dir) => run_folder(dir),
        Decision::NoWorkbooks => {
            println!(
                "taizhang 台账核对工具\n\n没有找到要核对的表格。用法：把存放本轮表格（县局名单、摸底表等）的文件夹拖到 taizhang.exe 上；\n或者把 taizhang.exe 放进那个文件夹再双击。结果会写到该文件夹下的“{}”文件夹。\n在命令行中运行 taizhang --help 查看全部命令。",
                super::OUT_DIR_NAME
            );
            2
        }
    };
    wait_for_enter();
    code
}

fn run_folder(dir: &Path) -> i32 {
    println!("正在核对文件夹：{}\n", dir.display());
    let args = ReconcileArgs::folder(dir);
    let ui = Ui::new(false, true);
    let result = reconcile::run(args.clone(), &ui);
    super::template::blank_forms_beside_results(&args);
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("taizhang：无法完成：{}", crate::gb11643::mask_text(&msg));
            2
        }
    }
}

/// Keep the window open until Enter — only when a person is there to press it.
pub fn wait_for_enter() {
    if !std::io::stdin().is_terminal() {
        return;
    }
    print!("\n按回车键关闭窗口…");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

/// Console setup at start: on Windows, UTF-8 output (a Chinese console
/// otherwise uses code page 936 and shows garbage) and ANSI colours.
/// Does nothing elsewhere.
pub fn setup_console() {
    #[cfg(windows)]
    win::setup();
}

#[cfg(windows)]
mod win {
    type Handle = *mut core::ffi::c_void;
    const CP_UTF8: u32 = 65001;
    const STD_OUTPUT_HANDLE: u32 = -11i32 as u32;
    const STD_ERROR_HANDLE: u32 = -12i32 as u32;
    const ENABLE_VIRTUAL_TERMINAL_PROCESSING: u32 = 0x0004;

    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn SetConsoleOutputCP(code_page: u32) -> i32;
        fn GetStdHandle(which: u32) -> Handle;
        fn GetConsoleMode(handle: Handle, mode: *mut u32) -> i32;
        fn SetConsoleMode(handle: Handle, mode: u32) -> i32;
    }

    pub fn setup() {
        // SAFETY: plain Win32 calls with valid arguments; failures (no
        // console, redirected output, old Windows) are ignored.
        unsafe {
            SetConsoleOutputCP(CP_UTF8);
            for which in [STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
                let h = GetStdHandle(which);
                let mut mode = 0u32;
                if !h.is_null() && GetConsoleMode(h, &mut mode) != 0 {
                    SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    /// Fake file system: folders "摸底 材料", "exe", "cwd", "reconcile";
    /// workbooks in the folders listed in `with_books`.
    fn run(args: &[&str], windows: bool, with_books: &[&str]) -> Decision {
        let dirs = ["摸底 材料", "exe", "cwd", "reconcile", "check"];
        decide(
            &os(args),
            Some(Path::new("exe")),
            Some(Path::new("cwd")),
            windows,
            |p| dirs.iter().any(|d| p == Path::new(d)),
            |p| with_books.iter().any(|d| p == Path::new(d)),
        )
    }

    #[test]
    fn one_existing_folder_is_double_click_on_every_platform() {
        for windows in [true, false] {
            assert_eq!(
                run(&["摸底 材料"], windows, &[]),
                Decision::Folder(PathBuf::from("摸底 材料"))
            );
        }
    }

    #[test]
    fn one_argument_that_is_not_a_folder_goes_to_clap() {
        assert_eq!(run(&["附件1.xlsx"], true, &[]), Decision::Cli);
        assert_eq!(run(&["--help"], true, &[]), Decision::Cli);
        assert_eq!(run(&["-h"], false, &[]), Decision::Cli);
        assert_eq!(run(&["template"], true, &[]), Decision::Cli);
    }

    #[test]
    fn a_folder_named_like_a_command_is_still_the_command() {
        assert_eq!(run(&["reconcile"], true, &["reconcile"]), Decision::Cli);
        assert_eq!(run(&["check"], false, &[]), Decision::Cli);
    }

    #[test]
    fn two_or_more_arguments_go_to_clap() {
        assert_eq!(run(&["reconcile", "摸底 材料"], true, &[]), Decision::Cli);
        assert_eq!(run(&["摸底 材料", "cwd"], true, &[]), Decision::Cli);
    }

    #[test]
    fn no_arguments_on_windows_prefers_the_exe_folder() {
        assert_eq!(
            run(&[], true, &["exe", "cwd"]),
            Decision::Folder(PathBuf::from("exe"))
        );
    }

    #[test]
    fn no_arguments_on_windows_falls_back_to_the_current_folder() {
        assert_eq!(
            run(&[], true, &["cwd"]),
            Decision::Folder(PathBuf::from("cwd"))
        );
    }

    #[test]
    fn no_arguments_on_windows_without_workbooks_explains_usage() {
        assert_eq!(run(&[], true, &[]), Decision::NoWorkbooks);
    }

    #[test]
    fn no_arguments_elsewhere_prints_help() {
        assert_eq!(run(&[], false, &["exe", "cwd"]), Decision::Cli);
    }
}
