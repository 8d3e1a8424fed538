//! Phase timings on stderr when `TAIZHANG_TIMINGS` is set: where a run spends
//! its time, for profiling (see BENCHMARKS.md). Silent otherwise.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static LAST: Mutex<Option<Instant>> = Mutex::new(None);

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TAIZHANG_TIMINGS").is_some())
}

/// Start the clock (the first phase is measured from here).
pub fn start() {
    if enabled()
        && let Ok(mut last) = LAST.lock()
    {
        *last = Some(Instant::now());
    }
}

/// The phase that just ended: prints its wall time since the previous mark.
pub fn mark(phase: &str) {
    if !enabled() {
        return;
    }
    if let Ok(mut last) = LAST.lock() {
        let now = Instant::now();
        if let Some(t) = *last {
            eprintln!(
                "[timing] {phase:<12} {:>8.1} ms  {}",
                (now - t).as_secs_f64() * 1e3,
                memory()
            );
        }
        *last = Some(now);
    }
}

/// One task's own wall time (tasks may run in parallel; see `crate::output::run_tasks`).
pub fn task(name: &str, took: std::time::Duration) {
    if enabled() {
        eprintln!("[timing]   {name:<30} {:>8.1} ms", took.as_secs_f64() * 1e3);
    }
}

/// Resident and peak memory from /proc/self/status (Linux), e.g. "rss 412 MB, peak 430 MB".
fn memory() -> String {
    use super::memory::status_mb;
    match status_mb("VmRSS:") {
        0 => String::new(),
        rss => format!("rss {rss} MB, peak {} MB", status_mb("VmHWM:")),
    }
}
