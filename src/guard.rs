//! The one panic guard. The third-party readers and writers taizhang drives
//! (calamine, cfb, rust_xlsxwriter, the ODS parser) have been known to
//! panic on hostile or damaged files, or when the disk fills up under
//! them; a bad file must give an error that names it, never a crash. Code
//! run under [`catch`] that panics returns `None`, and the panic's own
//! English text is not printed.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    /// This thread is inside [`catch`]: its panics are reported as errors.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`; `None` if it panicked. The panic message is printed only for
/// panics outside a guard (and on other threads), as usual.
pub fn catch<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    let outer = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(outer));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_none_and_a_value_passes_through() {
        assert_eq!(catch(|| 7), Some(7));
        let r: Option<()> = catch(|| panic!("boom"));
        assert_eq!(r, None);
        // Nested guards keep the outer one quiet.
        assert_eq!(catch(|| catch(|| -> u8 { panic!("inner") })), Some(None));
    }
}
