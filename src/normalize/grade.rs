//! Grade text → 1–9 (compulsory), 10–12 (高一…高三; 中职/职高 from 10).

use super::text::compact;
use crate::model::GradeValue;
use regex::Regex;
use std::sync::LazyLock;

fn cn_digit(s: &str) -> Option<u8> {
    Some(match s {
        "一" | "1" => 1,
        "二" | "2" => 2,
        "三" | "3" => 3,
        "四" | "4" => 4,
        "五" | "5" => 5,
        "六" | "6" => 6,
        "七" | "7" => 7,
        "八" | "8" => 8,
        "九" | "9" => 9,
        _ => return None,
    })
}

/// A trailing class part: "2班", "(2)班", "三班", ".2班".
static CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[.\-(]?[0-9一二三四五六七八九十]+\)?班(级)?$").expect("static regex")
});
static PLAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(小学|初中|高中|中职|职高|中专|职中|技校)?([1-9一二三四五六七八九])年?$")
        .expect("static regex")
});
static SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(小|初|高|中职|职高|中专|职中|技校)([1-9一二三四五六])$").expect("static regex")
});

/// Parse grade text.
pub fn parse_grade(text: &str) -> GradeValue {
    let mut k = compact(text);
    if k.is_empty() {
        return GradeValue::Missing;
    }
    let original = k.clone();
    if let Some(m) = CLASS.find(&k) {
        // Keep the grade part of "五年级2班" (but "2班" alone stays unreadable).
        if m.start() > 0 {
            k.truncate(m.start());
        }
    }
    let k = k.trim_end_matches('级').to_string();
    if ["中职", "职高", "中专", "职中", "技校"].contains(&k.as_str()) {
        return GradeValue::Known(10);
    }
    // 十年级…十二年级 (and 10–12) are 高一…高三 under the 12-year count.
    let senior = match k.trim_end_matches('年') {
        "十" | "10" => Some(10),
        "十一" | "11" => Some(11),
        "十二" | "12" => Some(12),
        _ => None,
    };
    let parsed = if senior.is_some() {
        senior
    } else if let Some(c) = SHORT.captures(&k) {
        let n = cn_digit(&c[2]);
        match &c[1] {
            "小" => n.filter(|n| *n <= 6),
            "初" => n.filter(|n| *n <= 3).map(|n| n + 6),
            "高" => n.filter(|n| *n <= 3).map(|n| n + 9),
            _ => n.filter(|n| *n <= 3).map(|n| n + 9),
        }
    } else if let Some(c) = PLAIN.captures(&k) {
        let n = cn_digit(&c[2]);
        match c.get(1).map(|m| m.as_str()) {
            None => n,
            Some("小学") => n.filter(|n| *n <= 6),
            Some("初中") => n
                .map(|n| if n <= 3 { n + 6 } else { n })
                .filter(|n| (7..=9).contains(n)),
            Some("高中") => n.filter(|n| *n <= 3).map(|n| n + 9),
            Some(_) => n.filter(|n| *n <= 3).map(|n| n + 9),
        }
    } else {
        None
    };
    match parsed {
        Some(g) => GradeValue::Known(g),
        None => GradeValue::Unknown(original.into()),
    }
}

#[test]
fn senior_grades_counted_past_nine() {
    assert_eq!(parse_grade("十年级"), GradeValue::Known(10));
    assert_eq!(parse_grade("十二年级"), GradeValue::Known(12));
    assert_eq!(parse_grade("11年级"), GradeValue::Known(11));
    assert_eq!(
        parse_grade("十三年级"),
        GradeValue::Unknown("十三年级".into())
    );
}

/// 1 → 一年级 … 9 → 九年级, 10 → 高一 … 12 → 高三.
pub fn grade_label(g: u8) -> String {
    const CN: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match g {
        1..=9 => format!("{}年级", CN[g as usize - 1]),
        10..=12 => format!("高{}", CN[g as usize - 10]),
        _ => format!("{g}年级"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> GradeValue {
        parse_grade(s)
    }

    #[test]
    fn all_spellings() {
        let cases: &[(&str, u8)] = &[
            ("一年级", 1),
            ("九年级", 9),
            ("3", 3),
            ("3年级", 3),
            ("３年级", 3),
            ("小一", 1),
            ("小六", 6),
            ("初一", 7),
            ("初三", 9),
            ("七年级", 7),
            ("八年级", 8),
            ("高一", 10),
            ("高三", 12),
            ("中职", 10),
            ("职高", 10),
            ("中职二年级", 11),
            ("五年级2班", 5),
            ("五年级（2）班", 5),
            ("初二(3)班", 8),
            ("小学三年级", 3),
            ("初中一年级", 7),
            ("初中八年级", 8),
            ("高中二年级", 11),
            (" 四 年级 ", 4),
        ];
        for (s, n) in cases {
            assert_eq!(g(s), GradeValue::Known(*n), "{s}");
        }
    }

    #[test]
    fn unknown_and_missing() {
        assert_eq!(g(""), GradeValue::Missing);
        assert_eq!(g("幼儿园"), GradeValue::Unknown("幼儿园".into()));
        assert_eq!(g("小七"), GradeValue::Unknown("小七".into()));
        assert_eq!(g("2班"), GradeValue::Unknown("2班".into()));
        assert_eq!(g("13"), GradeValue::Unknown("13".into()));
    }

    #[test]
    fn labels() {
        assert_eq!(grade_label(1), "一年级");
        assert_eq!(grade_label(9), "九年级");
        assert_eq!(grade_label(10), "高一");
        assert_eq!(grade_label(12), "高三");
        for n in 1..=12 {
            assert_eq!(parse_grade(&grade_label(n)), GradeValue::Known(n));
        }
    }
}
