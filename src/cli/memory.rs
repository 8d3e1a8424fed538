//! A large round hands freed memory back to the system at once.
//!
//! The allocator (mimalloc, see Cargo.toml) keeps freed memory a little
//! while before handing it back. Between the stages of a round of a million
//! children what it keeps (about 0.3 GB after the checks) adds to the next
//! stage's own peak. Once the process holds [`LARGE_ROUND_MB`] or more at
//! the end of a stage, freed memory goes back at once: a little more system
//! time for a lower peak. Smaller rounds keep the faster default.

/// The resident size (MB) from which freed memory goes back at once.
pub const LARGE_ROUND_MB: u64 = 768;

/// Whether a process holding `resident_mb` is a large round's.
pub fn is_large(resident_mb: u64) -> bool {
    resident_mb >= LARGE_ROUND_MB
}

/// Called at the end of each stage: from the first stage that ends with the
/// process at [`LARGE_ROUND_MB`] or more, freed memory goes back at once.
pub fn after_stage() {
    #[cfg(target_os = "linux")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static DONE: AtomicBool = AtomicBool::new(false);
        if DONE.load(Ordering::Relaxed) || !is_large(resident_mb()) {
            return;
        }
        DONE.store(true, Ordering::Relaxed);
        // mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`):
        // the milliseconds freed memory is kept; 0 hands it back at once.
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: setting an option is allowed at any time, from any thread.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

/// The process's resident size in MB (Linux; 0 when unknown).
#[cfg(target_os = "linux")]
fn resident_mb() -> u64 {
    status_mb("VmRSS:")
}

/// A size line of /proc/self/status (`VmRSS:`, `VmHWM:` …) in MB; 0 when
/// unknown (not Linux, or no such line).
pub fn status_mb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_large_process_is_a_large_round() {
        assert!(!is_large(0));
        assert!(!is_large(LARGE_ROUND_MB - 1));
        assert!(is_large(LARGE_ROUND_MB));
        assert!(is_large(4096));
    }
}
