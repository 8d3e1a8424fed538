//! Enrolment status text → the 13-word vocabulary of SPEC §3.

use super::text::compact;
use crate::model::{Status, StatusValue};

/// Status text with brackets and whitespace removed, for matching.
fn key(s: &str) -> String {
    compact(s)
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '(' | ')' | '[' | ']' | '【' | '】' | '〔' | '〕' | '<' | '>'
            )
        })
        .collect()
}

/// Map one piece of text (a status or a reason) to a status, if it names one.
pub fn classify(text: &str) -> Option<Status> {
    let k = key(text);
    if k.is_empty() {
        return None;
    }
    use Status::*;
    let has = |words: &[&str]| words.iter().any(|w| k.contains(w));
    // Order matters: the specific words before the general ones
    // (随班就读 and 县外就读 both contain 就读; 在校县外 contains 在校).
    if has(&["随班就读", "随班"]) {
        return Some(Inclusive);
    }
    if has(&["送教上门", "送教"]) {
        return Some(HomeTeaching);
    }
    if has(&["延缓入学", "缓学", "延迟入学", "推迟入学", "暂缓入学"]) {
        return Some(Deferred);
    }
    if has(&["休学"]) {
        return Some(Suspended);
    }
    if has(&["长期请假", "请长假", "病假"]) {
        return Some(LongLeave);
    }
    if has(&["小学毕业", "小学已毕业"]) {
        // Primary school finished is no reason to be out of school.
        return None;
    }
    if has(&["毕业"]) {
        return Some(Graduated);
    }
    if has(&["死亡", "去世", "已故", "病故", "身故"]) {
        return Some(Dead);
    }
    if has(&["失踪", "失联", "下落不明"]) {
        return Some(Missing);
    }
    if has(&["出国", "出境", "国外", "境外"]) {
        return Some(Abroad);
    }
    if has(&["辍学"]) {
        return Some(Dropout);
    }
    if has(&["失学", "未入学", "从未入学", "未上学"]) {
        return Some(NeverEnrolled);
    }
    if has(&["特殊教育学校", "特教学校", "特殊教育", "特校", "特教"]) {
        // Special-school pupils are in school (SPEC §1).
        return Some(InSchoolLocal);
    }
    if has(&["务工", "打工", "工作", "上班"]) {
        // A child at work is not "studying elsewhere" (外地务工).
        return None;
    }
    if has(&[
        "县外",
        "省外",
        "市外",
        "外省",
        "外县",
        "外市",
        "外地",
        "外出就读",
        "异地",
        "随迁",
        "外出上学",
        "外出读书",
    ]) {
        return Some(InSchoolOut);
    }
    if has(&["未在校", "不在校", "未就读", "没上学", "没有上学"]) {
        return None;
    }
    if has(&["在校", "在读", "就读", "本县", "县内", "上学", "读书"]) || k == "是" {
        return Some(InSchoolLocal);
    }
    None
}

/// A status cell, with the reason cell consulted when the status says only
/// "否"/"未在校" (a 是否在校 column).
pub fn parse_status(status: &str, reason: &str) -> StatusValue {
    let k = key(status);
    if k.is_empty() {
        return StatusValue::Missing;
    }
    if let Some(s) = classify(status) {
        return StatusValue::Known(s);
    }
    let negative = matches!(
        k.as_str(),
        "否" | "未在校" | "不在校" | "未就读" | "没上学" | "没有上学" | "不在读" | "未在读"
    );
    if negative && let Some(s) = classify(reason) {
        // "否" with an in-school reason makes no sense; keep it unknown.
        if !s.in_school() {
            return StatusValue::Known(s);
        }
    }
    StatusValue::Unknown(compact(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn p(s: &str) -> StatusValue {
        parse_status(s, "")
    }

    #[test]
    fn canonical_labels_round_trip() {
        for s in Status::ALL {
            assert_eq!(p(s.label_zh()), StatusValue::Known(s), "{}", s.label_zh());
        }
        assert_eq!(p("在校（本县）"), StatusValue::Known(InSchoolLocal));
        assert_eq!(p("在校（县外）"), StatusValue::Known(InSchoolOut));
        assert_eq!(p("出国（境）"), StatusValue::Known(Abroad));
    }

    #[test]
    fn variants() {
        for s in [
            "在校",
            "在读",
            "在校就读",
            " 在 校 ",
            "特殊教育学校",
            "特教学校",
            "是",
        ] {
            assert_eq!(p(s), StatusValue::Known(InSchoolLocal), "{s}");
        }
        for s in [
            "外出就读",
            "县外就读",
            "省外就读",
            "外地就读",
            "在外地就学",
            "县外",
            "省外",
        ] {
            assert_eq!(p(s), StatusValue::Known(InSchoolOut), "{s}");
        }
        assert_eq!(p("已毕业"), StatusValue::Known(Graduated));
        assert_eq!(p("辍学在家"), StatusValue::Known(Dropout));
        assert_eq!(p("出国"), StatusValue::Known(Abroad));
        assert_eq!(p("出境"), StatusValue::Known(Abroad));
        assert_eq!(p("失联"), StatusValue::Known(Missing));
        assert_eq!(p("失踪"), StatusValue::Known(Missing));
    }

    #[test]
    fn yes_no_column_uses_the_reason() {
        assert_eq!(
            parse_status("否", "辍学在家务农"),
            StatusValue::Known(Dropout)
        );
        assert_eq!(
            parse_status("否", "送教上门"),
            StatusValue::Known(HomeTeaching)
        );
        assert_eq!(parse_status("否", ""), StatusValue::Unknown("否".into()));
        assert_eq!(
            parse_status("否", "生病"),
            StatusValue::Unknown("否".into())
        );
        assert_eq!(
            parse_status("未在校", "延缓入学"),
            StatusValue::Known(Deferred)
        );
    }

    #[test]
    fn unknown_and_missing() {
        assert_eq!(p(""), StatusValue::Missing);
        assert_eq!(p(" \u{3000}"), StatusValue::Missing);
        assert_eq!(p("打工"), StatusValue::Unknown("打工".into()));
        assert_eq!(p("未在校"), StatusValue::Unknown("未在校".into()));
        assert_eq!(p("外地务工"), StatusValue::Unknown("外地务工".into()));
        assert_eq!(p("小学毕业"), StatusValue::Unknown("小学毕业".into()));
    }
}
