//! Text clean-up shared by every normaliser: NFKC (full-width forms to
//! ASCII), invisible characters dropped, every kind of whitespace folded.

use compact_str::CompactString;
use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Whether `s` is certainly in NFKC already (ASCII, and most CJK text).
pub fn is_nfkc(s: &str) -> bool {
    // ASCII and the CJK Unified Ideographs block are NFKC_QC=Yes with
    // combining class 0, so any mix of them is NFKC: no table lookups.
    s.is_ascii()
        || s.chars()
            .all(|c| c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c))
        || is_nfkc_quick(s.chars()) == IsNormalized::Yes
}

/// `s` in NFKC; borrowed when it already is (no allocation, no work).
pub fn nfkc(s: &str) -> Cow<'_, str> {
    if is_nfkc(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfkc().collect())
    }
}

/// True when [`clean_once`] returns `s` unchanged: NFKC, no invisible
/// characters, no whitespace but single inner ASCII spaces.
fn is_clean(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for c in s.chars() {
        if c == ' ' {
            if prev_space {
                return false;
            }
            prev_space = true;
            continue;
        }
        if is_space(c) || is_invisible(c) {
            return false;
        }
        prev_space = false;
    }
    is_nfkc(s)
}

/// True when `s` has no whitespace and no invisible characters and is NFKC:
/// [`compact`] returns it unchanged.
fn is_compact(s: &str) -> bool {
    !s.chars().any(|c| is_space(c) || is_invisible(c)) && is_nfkc(s)
}

/// Characters that take no room on screen and must never make two values differ.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' // zero-width space
            | '\u{200C}' // zero-width non-joiner
            | '\u{200D}' // zero-width joiner
            | '\u{2060}' // word joiner
            | '\u{FEFF}' // BOM / zero-width no-break space
            | '\u{00AD}' // soft hyphen
            | '\u{200E}' // left-to-right mark
            | '\u{200F}' // right-to-left mark
            | '\u{202A}'..='\u{202E}' // bidi embeddings
    )
}

/// Whitespace in the wide sense: ASCII, NBSP, U+3000, tabs, line breaks.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{00A0}' || c == '\u{3000}'
}

/// NFKC, invisible characters removed, every run of whitespace folded to one
/// ASCII space, trimmed. `"\u{3000}金星村\u{200B} "` → `"金星村"`.
pub fn clean_text(s: &str) -> String {
    if is_clean(s) {
        // clean_once(s) == s: s is its own fixed point.
        return s.to_string();
    }
    fixed_point(s, clean_once)
}

/// [`clean_text`] as a compact string: short text needs no heap.
pub fn clean_compact(s: &str) -> CompactString {
    clean_cow(s).into()
}

/// [`clean_text`], borrowing `s` when it is clean already.
pub fn clean_cow(s: &str) -> Cow<'_, str> {
    if is_clean(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(fixed_point(s, clean_once))
}

/// Apply `f` until the text stops changing: removing a character can let
/// NFKC compose its neighbours (e, space, U+0301 → é), so one pass is not
/// always idempotent. Bounded; real text settles in one or two passes.
pub(crate) fn fixed_point(s: &str, f: impl Fn(&str) -> String) -> String {
    let mut cur = f(s);
    for _ in 0..4 {
        let next = f(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

fn clean_once(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in nfkc(s).chars() {
        if is_invisible(c) {
            continue;
        }
        if is_space(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// [`clean_text`] with all whitespace removed: the form used for comparing
/// labels whose spacing carries no meaning (statuses, grades, villages).
pub fn compact(s: &str) -> String {
    if is_compact(s) {
        return s.to_string();
    }
    fixed_point(s, |t| {
        clean_once(t).chars().filter(|c| !is_space(*c)).collect()
    })
}

/// True for the placeholder texts clerks type into a cell that has nothing:
/// 无, 没有, 暂无, /, -, —.
pub fn is_placeholder(s: &str) -> bool {
    let c = compact(s);
    c.is_empty()
        || matches!(
            c.as_str(),
            "无" | "没有"
                | "暂无"
                | "/"
                | "\\"
                | "-"
                | "--"
                | "—"
                | "——"
                | "空"
                | "未提供"
                | "N/A"
                | "n/a"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_invisible_and_full_width() {
        assert_eq!(clean_text("\u{3000}金星村\u{200B} "), "金星村");
        assert_eq!(clean_text("\u{FEFF}ＡＢ１２"), "AB12");
        assert_eq!(clean_text("a\u{00A0}\t\r\nb"), "a b");
        assert_eq!(compact(" 在校 （本县）\n"), "在校(本县)");
    }

    #[test]
    fn fast_paths_agree_with_the_full_pass() {
        for s in [
            "",
            "金星村",
            "a b",
            "a  b",
            " a",
            "a ",
            "ＡＢ",
            "e\u{301}",
            "李\u{200B}倩",
            "熨斗镇 金星村",
            "\u{3000}x",
            "2010年5月",
        ] {
            assert_eq!(clean_text(s), fixed_point(s, clean_once), "{s:?}");
            let slow = fixed_point(s, |t| {
                clean_once(t).chars().filter(|c| !is_space(*c)).collect()
            });
            assert_eq!(compact(s), slow, "{s:?}");
            assert_eq!(nfkc(s), s.nfkc().collect::<String>(), "{s:?}");
        }
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(" 无 "));
        assert!(is_placeholder("／"));
        assert!(!is_placeholder("毕业证"));
    }
}
