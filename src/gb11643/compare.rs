//! Two IDs compared by segment (region 1–6, birth date 7–14, sequence
//! 15–17, check character 18), and the repairs the linker tries: one wrong
//! digit or two adjacent digits swapped, kept when the check character
//! fits. Never an edit distance on the whole ID: children born on the
//! same day in the same county share the first 14 digits.

use super::{check_byte, passes, well_formed18};
use crate::model::{IdInfo, IdKind};

/// How two IDs compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdLevel {
    Identical,
    /// Exactly one of the first 17 digits differs (the check digit agrees).
    OneDigit,
    /// Two adjacent digits swapped, nothing else differs.
    AdjacentSwap,
    /// The first 17 digits agree, the check digit differs.
    CheckDigitOnly,
    /// One side was stored as a number (first 15 digits + 000); those 15 agree.
    Truncated15,
    /// One side is a 15-digit legacy ID whose 18-digit form agrees.
    Legacy,
    /// One side has no ID.
    Missing,
    Different,
}

/// The 18-digit form of an ID, when there is one to compare digit by digit.
pub fn full18(id: &IdInfo) -> Option<String> {
    match &id.kind {
        IdKind::Legacy15 { upgraded } => Some(upgraded.to_string()),
        IdKind::Truncated | IdKind::Missing => None,
        _ => {
            if well_formed18(&id.clean) {
                Some(id.clean.to_string())
            } else {
                None
            }
        }
    }
}

/// The digits Excel kept of a number-typed ID (the first 15).
pub fn truncated15(id: &IdInfo) -> Option<&str> {
    if id.kind == IdKind::Truncated {
        let d = id.clean.get(..15)?;
        if d.bytes().all(|b| b.is_ascii_digit()) {
            return Some(d);
        }
    }
    None
}

pub fn is_missing(id: &IdInfo) -> bool {
    id.kind == IdKind::Missing || id.clean.trim().is_empty()
}

/// What `compare_ids` compares under a truncated ID: the first 15
/// characters of the truncated digits or of the 18-digit form.
pub fn first15(id: &IdInfo) -> Option<String> {
    truncated15(id)
        .map(str::to_string)
        .or_else(|| full18(id))
        .and_then(|a| a.get(..15).map(str::to_string))
}

/// The level of two IDs from their precomputed [`full18`] and [`first15`]
/// forms (the linker computes those once per record).
pub fn level_with(
    r: &IdInfo,
    s: &IdInfo,
    (r_missing, rf, r15): (bool, Option<&str>, Option<&str>),
    (s_missing, sf, s15): (bool, Option<&str>, Option<&str>),
) -> IdLevel {
    if r_missing || s_missing {
        return IdLevel::Missing;
    }
    if r.kind == IdKind::Truncated || s.kind == IdKind::Truncated {
        return match (r15, s15) {
            (Some(a), Some(b)) if a == b => IdLevel::Truncated15,
            _ => IdLevel::Different,
        };
    }
    let legacy =
        matches!(r.kind, IdKind::Legacy15 { .. }) || matches!(s.kind, IdKind::Legacy15 { .. });
    match (rf, sf) {
        (Some(a), Some(b)) => {
            if legacy {
                if r.clean == s.clean {
                    return IdLevel::Identical;
                }
                return if a.get(..17) == b.get(..17) {
                    IdLevel::Legacy
                } else {
                    IdLevel::Different
                };
            }
            if a == b {
                return IdLevel::Identical;
            }
            let (ab, bb) = (a.as_bytes(), b.as_bytes());
            let mut n = 0;
            let mut at = [0usize; 2];
            for (i, (x, y)) in ab.iter().zip(bb.iter()).enumerate().take(18) {
                if x != y {
                    if n < 2 {
                        at[n] = i;
                    }
                    n += 1;
                }
            }
            match (n, at) {
                (1, [17, _]) => IdLevel::CheckDigitOnly,
                (1, _) => IdLevel::OneDigit,
                (2, [i, j]) if j == i + 1 && j < 17 && ab[i] == bb[j] && ab[j] == bb[i] => {
                    IdLevel::AdjacentSwap
                }
                _ => IdLevel::Different,
            }
        }
        _ => {
            if r.clean == s.clean {
                IdLevel::Identical
            } else {
                IdLevel::Different
            }
        }
    }
}

/// The level, and the 1-based positions that differ (for the reasons).
pub fn compare_ids(r: &IdInfo, s: &IdInfo) -> (IdLevel, Vec<usize>) {
    let (rf, sf) = (full18(r), full18(s));
    let (r15, s15) = (first15(r), first15(s));
    let level = level_with(
        r,
        s,
        (is_missing(r), rf.as_deref(), r15.as_deref()),
        (is_missing(s), sf.as_deref(), s15.as_deref()),
    );
    let digit_by_digit = !is_missing(r)
        && !is_missing(s)
        && r.kind != IdKind::Truncated
        && s.kind != IdKind::Truncated
        && !matches!(r.kind, IdKind::Legacy15 { .. })
        && !matches!(s.kind, IdKind::Legacy15 { .. });
    let pos = match (rf, sf) {
        (Some(a), Some(b)) if digit_by_digit => {
            let (ab, bb) = (a.as_bytes(), b.as_bytes());
            (0..18).filter(|&i| ab[i] != bb[i]).map(|i| i + 1).collect()
        }
        _ => Vec::new(),
    };
    (level, pos)
}

/// Which segment a 1-based position falls in, for the reasons.
pub fn segment_zh(pos: usize) -> &'static str {
    match pos {
        1..=6 => "地区码",
        7..=14 => "出生日期段",
        15..=17 => "顺序码",
        _ => "校验位",
    }
}

/// Every ID one digit (or one adjacent swap) away from `id` that passes the
/// check digit. An ID with one wrong digit has only 10–17 such repairs.
pub fn repairs(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !well_formed18(id) || passes(id) {
        return out;
    }
    let mut b: Vec<u8> = id.as_bytes().to_vec();
    for i in 0..17 {
        let orig = b[i];
        for d in b'0'..=b'9' {
            if d == orig {
                continue;
            }
            b[i] = d;
            if check_byte(&b[..17]) == Some(b[17]) {
                out.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
        b[i] = orig;
    }
    for i in 0..16 {
        if b[i] == b[i + 1] {
            continue;
        }
        b.swap(i, i + 1);
        if check_byte(&b[..17]) == Some(b[17]) {
            out.push(String::from_utf8_lossy(&b).into_owned());
        }
        b.swap(i, i + 1);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gb11643::{parse_id, tests::fake};
    use crate::model::Cell;

    fn make_id(birth: &str, seq: u32) -> String {
        fake(birth, &format!("{seq:03}"))
    }

    fn id_info(s: &str) -> IdInfo {
        parse_id(&Cell::Text(s.into()))
    }

    /// What Excel keeps of a number-typed ID: the first 15 digits then 000.
    fn truncated_info(full: &str) -> IdInfo {
        IdInfo {
            raw: format!("{}E+17", &full[..1]).into(),
            clean: format!("{}000", &full[..15]).into(),
            kind: IdKind::Truncated,
        }
    }

    #[test]
    fn check_digit_follows_gb11643() {
        // 11010519491231002X is the standard's own example.
        assert!(passes("11010519491231002X"));
        assert!(!passes("110105194912310021"));
        let id = make_id("20100503", 123);
        assert!(passes(&id));
        assert_eq!(&id[..6], "610922");
    }

    #[test]
    fn id_levels() {
        let a = make_id("20100503", 123);
        let ai = id_info(&a);
        assert_eq!(compare_ids(&ai, &ai).0, IdLevel::Identical);

        // one digit wrong (check digit kept): fails the check
        let mut one = a.clone().into_bytes();
        one[11] = if one[11] == b'9' { b'1' } else { one[11] + 1 };
        let one = String::from_utf8(one).unwrap();
        assert!(!passes(&one));
        assert_eq!(
            compare_ids(&ai, &id_info(&one)),
            (IdLevel::OneDigit, vec![12])
        );

        // adjacent swap in the sequence
        let mut sw = a.clone().into_bytes();
        sw.swap(14, 15);
        let sw = String::from_utf8(sw).unwrap();
        assert_eq!(
            compare_ids(&ai, &id_info(&sw)),
            (IdLevel::AdjacentSwap, vec![15, 16])
        );

        // check digit only
        let mut cd = a.clone().into_bytes();
        cd[17] = if cd[17] == b'0' { b'1' } else { b'0' };
        let cd = String::from_utf8(cd).unwrap();
        assert_eq!(compare_ids(&ai, &id_info(&cd)).0, IdLevel::CheckDigitOnly);

        // truncated by Excel
        assert_eq!(
            compare_ids(&ai, &truncated_info(&a)).0,
            IdLevel::Truncated15
        );
        let other_day = make_id("20100504", 123);
        assert_eq!(
            compare_ids(&id_info(&other_day), &truncated_info(&a)).0,
            IdLevel::Different
        );

        // legacy 15-digit form of an adult born 1975
        let adult = make_id("19750101", 456);
        let legacy = format!("{}{}", &adult[..6], &adult[8..17]);
        assert_eq!(
            compare_ids(&id_info(&adult), &id_info(&legacy)).0,
            IdLevel::Legacy
        );

        // missing
        assert_eq!(compare_ids(&ai, &id_info("")).0, IdLevel::Missing);

        // two valid IDs of children born the same day: different, never "one digit"
        let b = make_id("20100503", 125);
        assert_eq!(compare_ids(&ai, &id_info(&b)).0, IdLevel::Different);
    }

    #[test]
    fn repairs_find_the_true_id_among_few() {
        let a = make_id("20100503", 123);
        let mut bad = a.clone().into_bytes();
        bad[9] = if bad[9] == b'0' { b'7' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        let r = repairs(&bad);
        assert!(r.contains(&a), "{r:?}");
        assert!(r.len() <= 40, "{}", r.len());
        assert!(r.iter().all(|x| passes(x)));
        assert!(repairs(&a).is_empty(), "a valid ID needs no repair");
    }
}
