//! Person names: trimmed silently; inner whitespace, digits, Latin letters
//! and middle dots other than U+00B7 are a format issue (NAME_FORMAT).

use super::text::{is_invisible, is_space};
use compact_str::CompactString;
use unicode_normalization::UnicodeNormalization;

/// The one middle dot a minority name may hold.
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Dot-like characters clerks type for the middle dot of minority names.
pub fn is_dot_variant(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}' // · middle dot
            | '\u{0387}' // Greek ano teleia
            | '\u{2022}' // • bullet
            | '\u{2027}' // ‧ hyphenation point
            | '\u{2219}' // ∙ bullet operator
            | '\u{22C5}' // ⋅ dot operator
            | '\u{30FB}' // ・ katakana middle dot
            | '\u{FF65}' // ･ half-width katakana middle dot
            | '\u{FF0E}' // ． full-width full stop
            | '.'
            | '\u{2E31}' // ⸱ word separator middle dot
            | '\u{318D}' // ㆍ
            | '\u{FE52}' // ﹒
            | '\u{00B0}' // ° (seen for the dot)
            | '\u{25CF}' // ●
            | '\u{2024}' // ․ one dot leader
    )
}

/// What is wrong with a name's format, in plain Chinese, one item per kind
/// of problem (empty when the name is fine).
pub fn format_issues(raw: &str) -> Vec<&'static str> {
    let trimmed = raw.trim_matches(|c: char| is_space(c) || is_invisible(c));
    let mut out = Vec::new();
    if trimmed.chars().any(is_space) {
        out.push("含空格");
    }
    if trimmed.chars().any(is_invisible) {
        out.push("含不可见字符");
    }
    let nfkc = super::text::nfkc(trimmed);
    if nfkc.chars().any(|c| c.is_ascii_digit()) {
        out.push("含数字");
    }
    if nfkc.chars().any(|c| c.is_ascii_alphabetic()) {
        out.push("含字母");
    }
    if trimmed
        .chars()
        .any(|c| is_dot_variant(c) && c != MIDDLE_DOT)
    {
        out.push("间隔点不规范（应为·）");
    }
    out
}

/// `(clean, had_format_issue)`: the clean form is NFKC, trimmed, with inner
/// whitespace and invisible characters removed and every dot variant folded
/// to U+00B7. Leading/trailing padding alone is no issue.
pub fn clean_name(raw: &str) -> (String, bool) {
    (clean(raw), !format_issues(raw).is_empty())
}

/// The clean form of [`clean_name`] alone.
pub fn clean(raw: &str) -> String {
    clean_compact(raw).into()
}

/// [`clean`] as a compact string: a name needs no heap.
pub fn clean_compact(raw: &str) -> CompactString {
    let settled = raw
        .chars()
        .all(|c| !is_space(c) && !is_invisible(c) && (c == MIDDLE_DOT || !is_dot_variant(c)))
        && super::text::is_nfkc(raw);
    if settled {
        // One pass would return `raw` unchanged: it is its own fixed point.
        return CompactString::new(raw);
    }
    super::text::fixed_point(raw, |t| {
        t.nfkc()
            .filter(|c| !is_space(*c) && !is_invisible(*c))
            .map(|c| if is_dot_variant(c) { MIDDLE_DOT } else { c })
            .collect()
    })
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_silent() {
        assert_eq!(clean_name("  李倩\u{3000}"), ("李倩".to_string(), false));
        assert_eq!(clean_name("\u{FEFF}李倩\t"), ("李倩".to_string(), false));
    }

    #[test]
    fn inner_space_is_an_issue() {
        assert_eq!(clean_name("李 倩"), ("李倩".to_string(), true));
        assert_eq!(clean_name("李\u{3000}倩"), ("李倩".to_string(), true));
        assert_eq!(clean_name("李\u{200B}倩"), ("李倩".to_string(), true));
        assert_eq!(format_issues("李 倩"), vec!["含空格"]);
    }

    #[test]
    fn dots_fold_to_middle_dot() {
        assert_eq!(clean_name("阿依·木沙"), ("阿依·木沙".to_string(), false));
        for v in ["•", "・", "．", ".", "‧", "･"] {
            let (c, issue) = clean_name(&format!("阿依{v}木沙"));
            assert_eq!(c, "阿依·木沙", "{v}");
            assert!(issue, "{v}");
        }
    }

    #[test]
    fn digits_and_letters() {
        assert_eq!(clean_name("张三2"), ("张三2".to_string(), true));
        assert_eq!(format_issues("张A"), vec!["含字母"]);
        assert_eq!(format_issues("张Ａ"), vec!["含字母"]);
        assert!(format_issues("张三").is_empty());
    }
}
