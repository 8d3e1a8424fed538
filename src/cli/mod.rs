//! The command line: each subcommand maps its arguments onto the library
//! ([`crate::round`], [`crate::output`]), prints what the clerk reads and
//! returns the exit status (0 clean, 1 errors found); failures of the run
//! itself are `Err` and become exit status 2 in `main`.

pub mod check;
pub mod double_click;
pub mod memory;
pub mod reconcile;
pub mod template;
pub mod timing;

use crate::config::Config;
use crate::report::{self, InputInfo, Style};
use crate::round::Progress;
use anyhow::Result;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// What the terminal gets: colour, masking, progress bars, timings.
pub struct Ui {
    pub quiet: bool,
    pub mask: bool,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Ui {
    pub fn new(quiet: bool, mask: bool) -> Ui {
        Ui {
            quiet,
            mask,
            bar: Mutex::new(None),
        }
    }

    pub fn style(&self) -> Style {
        Style {
            color: std::io::stdout().is_terminal(),
            mask: self.mask,
            max_lines: 300,
        }
    }

    /// A progress bar on stderr, hidden when stderr is not a terminal or with --quiet.
    fn progress_bar(&self, len: u64, what: &str) -> indicatif::ProgressBar {
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

    fn with_bar(&self, f: impl FnOnce(&indicatif::ProgressBar)) {
        if let Ok(bar) = self.bar.lock()
            && let Some(b) = bar.as_ref()
        {
            f(b);
        }
    }
}

impl Progress for Ui {
    fn phase(&self, name: &str) {
        timing::mark(name);
        memory::after_stage();
    }
    fn begin(&self, what: &str, len: u64) {
        if let Ok(mut bar) = self.bar.lock() {
            *bar = Some(self.progress_bar(len, what));
        }
    }
    fn step(&self, item: &str) {
        self.with_bar(|b| {
            b.set_message(item.to_string());
            b.inc(1);
        });
    }
    fn end(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(b) = bar.take()
        {
            b.finish_and_clear();
        }
    }
    fn role(&self, line: &str) {
        println!("{line}");
    }
    fn warn(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
    fn task(&self, name: &str, took: Duration) {
        timing::task(name, took);
    }
}

/// The name of the default output folder.
pub const OUT_DIR_NAME: &str = "核对结果";

/// The round's configuration (see [`Config::find`]); says on the terminal
/// which file, school year and age window are used.
pub fn load_config(config: Option<&Path>, folder: Option<&Path>) -> Result<Config> {
    let cfg = Config::find(config, folder)?;
    println!("{}", cfg.describe());
    Ok(cfg)
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

/// Exit status of a finished run.
pub fn exit_status(summary: &report::Summary) -> i32 {
    if summary.errors > 0 || !summary.skipped_inputs.is_empty() {
        1
    } else {
        0
    }
}
