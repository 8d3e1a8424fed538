//! Enrolment status text → one of the 13 statuses of the round, in one
//! place: the words clerks write, the order in which keywords decide, the
//! county's own words from `taizhang.toml` `[status_words]`, and the place
//! test (a child who studies somewhere outside the county is 在校(县外)).
//!
//! A text is matched in its compact form (NFKC, no whitespace, no
//! brackets). First the county's own words and the built-in whole words
//! ([`WHOLE_WORDS`]) are compared with the whole text; then keyword rules
//! decide, in this order:
//! 1. 死亡, 失踪失联, 出国(境), 送教上门, 随班就读, 延缓入学, 休学, 长期请假
//!    ([`FIRST_KEYWORDS`]); 免学 is no status of the round and stays unknown;
//! 2. still out of school although persuaded (劝返未果, 劝返中) → 辍学;
//! 3. back at school (复学, 劝返, 返校) → in school, where the text places it;
//! 4. 初中已毕业 (初中毕业, 读中职, 读高中 …; not 小学毕业, not 未毕业);
//! 5. 失学 (失学, 从未入学, 未入学), then 辍学 and refusing school
//!    (辍学, 退学, 未升学, 不上学, 厌学 …);
//! 6. work or staying at home without any study word (外出打工, 在家放牛,
//!    打零工去了, 在家务农) → 辍学;
//! 7. a study word (就读, 上学, 读书, 在读, 在校 …), or a school or grade
//!    named without work words → 在校(县外) when the text names a place
//!    outside the county (外地, 省城, a province or a prefecture-level city
//!    other than the county's own), else 在校(本县).
//!
//! Negations (未在校, 没上学 …) never count as study words. Anything else
//! stays unknown: the tool never guesses 在校(本县).

use super::place::{self, Whereabouts};
use super::text::compact;
use crate::model::{Status, StatusValue};
use Status::*;

/// Status text with brackets and whitespace removed, for matching.
pub fn key(s: &str) -> String {
    compact(s)
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '(' | ')' | '[' | ']' | '【' | '】' | '〔' | '〕' | '<' | '>' | '“' | '”' | '"'
            )
        })
        .collect()
}

/// Texts that are a status on their own (compared with the whole text).
pub const WHOLE_WORDS: &[(&str, Status)] = &[
    ("死亡", Dead),
    ("已故", Dead),
    ("失踪", Missing),
    ("失联", Missing),
    ("失踪失联", Missing),
    ("联系不上", Missing),
    ("无法联系", Missing),
    ("出国", Abroad),
    ("出境", Abroad),
    ("出国境", Abroad),
    ("国外", Abroad),
    ("送教上门", HomeTeaching),
    ("送教", HomeTeaching),
    ("随班就读", Inclusive),
    ("残疾随班就读", Inclusive),
    ("在读随班就读", Inclusive),
    ("延缓入学", Deferred),
    ("缓学", Deferred),
    ("休学", Suspended),
    ("因病休学", Suspended),
    ("长期请假", LongLeave),
    ("病假", LongLeave),
    ("外出就读", InSchoolOut),
    ("县外就读", InSchoolOut),
    ("省外就读", InSchoolOut),
    ("外地就读", InSchoolOut),
    ("转学外省就读", InSchoolOut),
    ("随父母在外地上学", InSchoolOut),
    ("在校县外", InSchoolOut),
    ("县外", InSchoolOut),
    ("省外", InSchoolOut),
    ("外省", InSchoolOut),
    ("外地", InSchoolOut),
    ("在校", InSchoolLocal),
    ("在读", InSchoolLocal),
    ("在校就读", InSchoolLocal),
    ("就读", InSchoolLocal),
    ("在校本县", InSchoolLocal),
    ("本县", InSchoolLocal),
    ("县内", InSchoolLocal),
    ("是", InSchoolLocal),
    ("√", InSchoolLocal),
    ("✓", InSchoolLocal),
    ("劝返复学", InSchoolLocal),
    ("已劝返", InSchoolLocal),
    ("已复学", InSchoolLocal),
    ("复学", InSchoolLocal),
    ("特殊教育学校就读", InSchoolLocal),
    ("在特殊教育学校就读", InSchoolLocal),
    ("在特校就读", InSchoolLocal),
    ("已毕业", Graduated),
    ("初中毕业", Graduated),
    ("初中已毕业", Graduated),
    ("读中职", Graduated),
    ("读职高", Graduated),
    ("读高中", Graduated),
    ("中职", Graduated),
    ("职高", Graduated),
    ("失学", NeverEnrolled),
    ("从未入学", NeverEnrolled),
    ("未入学", NeverEnrolled),
    ("辍学", Dropout),
    ("辍学在家", Dropout),
    ("疑似辍学", Dropout),
    ("外出打工", Dropout),
    ("打工", Dropout),
    ("务工", Dropout),
    ("在家务农", Dropout),
    ("务农", Dropout),
    ("在家", Dropout),
    ("小学毕业在家", Dropout),
    ("小学毕业后未升学", Dropout),
    ("初中未毕业在家", Dropout),
];

/// Rule 1: statuses that any mention decides, in this order.
pub const FIRST_KEYWORDS: &[(Status, &[&str])] = &[
    (
        Dead,
        &["死亡", "已故", "去世", "病故", "身故", "过世", "夭折"],
    ),
    (
        Missing,
        &[
            "失踪",
            "失联",
            "联系不上",
            "无法联系",
            "联系不到",
            "下落不明",
            "去向不明",
        ],
    ),
    (Abroad, &["出国", "出境", "国外", "境外"]),
    (HomeTeaching, &["送教"]),
    (Inclusive, &["随班就读", "随班"]),
    (
        Deferred,
        &[
            "延缓入学",
            "缓学",
            "延迟入学",
            "推迟入学",
            "暂缓入学",
            "缓入学",
        ],
    ),
    (Suspended, &["休学"]),
    (LongLeave, &["长期请假", "请长假", "病假", "请假"]),
];

/// Not a status of the round: the text stays unknown whatever else it says.
const NOT_A_STATUS: &[&str] = &["免学"];

/// Rule 2: persuaded but still out of school.
const STILL_OUT: &[&str] = &[
    "劝返未果",
    "劝返无效",
    "劝返失败",
    "劝返中",
    "正在劝返",
    "待劝返",
    "未劝返",
    "未返校",
    "拒绝返校",
    "拒不返校",
    "不愿返校",
];

/// Rule 3: back at school.
const BACK_AT_SCHOOL: &[&str] = &["复学", "劝返", "劝回", "返校", "重新入学", "重返校园"];

/// Rule 4: primary school finished, or not finished: never 初中已毕业.
const NOT_GRADUATED: &[&str] = &[
    "小学毕业",
    "小学已毕业",
    "未毕业",
    "没毕业",
    "没有毕业",
    "未能毕业",
];
const GRADUATED: &[&str] = &[
    "毕业",
    "中职",
    "职高",
    "高中",
    "技校",
    "中专",
    "职校",
    "职业学校",
    "职业技术学校",
    "职业中学",
    "高职",
    "技工学校",
];

/// Rule 5.
const NEVER_ENROLLED: &[&str] = &[
    "失学",
    "从未入学",
    "未入学",
    "没入学",
    "没有入学",
    "未曾入学",
    "未上过学",
    "没上过学",
    "从未上学",
    "未上学",
];
const DROPPED_OUT: &[&str] = &[
    "辍学",
    "退学",
    "弃学",
    "未升学",
    "没升学",
    "没有升学",
    "不上学",
    "不读书",
    "不读了",
    "不想读",
    "不愿读",
    "不愿上学",
    "不想上学",
    "不肯上学",
    "不再上学",
    "厌学",
    "未继续",
    "没有继续",
    "没继续",
    "没读了",
    "不念了",
];

/// Negations of studying: removed before study words are looked for.
const NEGATED_STUDY: &[&str] = &[
    "未在校",
    "不在校",
    "没在校",
    "未就读",
    "没有上学",
    "没上学",
    "不在读",
    "未在读",
    "没有读书",
    "没读书",
    "未就学",
    "没念书",
];

/// Rule 6: work or staying at home. (A bare 放牛 says what the child does,
/// not whether it goes to school: it stays unknown; 在家放牛 is a dropout.)
const AT_WORK_OR_HOME: &[&str] = &[
    "打工",
    "务工",
    "零工",
    "务农",
    "农活",
    "在家",
    "种地",
    "种田",
    "干活",
    "上班",
    "工作",
    "做工",
    "帮工",
    "学徒",
    "学手艺",
    "闲散",
    "流浪",
    "待业",
    "谋生",
    "做生意",
    "结婚",
];

/// Rule 7: the child studies (these win over work words: 随父母打工地上学).
const STUDY: &[&str] = &[
    "就读",
    "上学",
    "读书",
    "在读",
    "在校",
    "就学",
    "念书",
    "求学",
    "已入学",
    "特殊教育",
    "特教",
    "特校",
    "在籍",
    "借读",
    "寄读",
    "转学",
    "住校",
    "寄宿",
    "上课",
];
/// Rule 7, weaker: a school or grade named, which work words outweigh
/// (初中未毕业在家 is a dropout, 五年级 a pupil).
const SCHOOL_NAMED: &[&str] = &["学校", "小学", "中学", "初中", "年级"];

/// The round's statuses by their label, brackets ignored: the targets a
/// `[status_words]` entry may name.
pub fn status_by_label(text: &str) -> Option<Status> {
    let k = key(text);
    Status::ALL.into_iter().find(|s| key(s.label_zh()) == k)
}

/// The status words of a round: the built-in table, the county's own words
/// and the county (to tell a place outside it).
#[derive(Debug, Clone, Default)]
pub struct StatusWords {
    /// The county's own words (key form), longest first.
    extra: Vec<(String, Status)>,
    /// The county as a [`place::county_key`], empty when unknown.
    county: String,
}

impl StatusWords {
    pub fn new(extra: &[(String, Status)], county: Option<&str>) -> StatusWords {
        let mut extra: Vec<(String, Status)> = extra
            .iter()
            .map(|(w, s)| (key(w), *s))
            .filter(|(w, _)| !w.is_empty())
            .collect();
        extra.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        StatusWords {
            extra,
            county: county.map(place::county_key).unwrap_or_default(),
        }
    }

    /// The county this table knows, as a key (empty when unknown).
    pub fn county(&self) -> &str {
        &self.county
    }

    /// Map one piece of text (a status or a reason) to a status, if it names one.
    pub fn classify(&self, text: &str) -> Option<Status> {
        let k = key(text);
        if k.is_empty() {
            return None;
        }
        if let Some((_, s)) = self.extra.iter().find(|(w, _)| *w == k) {
            return Some(*s);
        }
        if let Some(s) = Status::ALL.into_iter().find(|s| key(s.label_zh()) == k) {
            return Some(s);
        }
        if let Some((_, s)) = WHOLE_WORDS.iter().find(|(w, _)| *w == k) {
            return Some(*s);
        }
        if let Some((_, s)) = self.extra.iter().find(|(w, _)| k.contains(w.as_str())) {
            return Some(*s);
        }
        self.by_keywords(&k)
    }

    fn by_keywords(&self, k: &str) -> Option<Status> {
        let has = |t: &str, words: &[&str]| words.iter().any(|w| t.contains(w));
        if has(k, NOT_A_STATUS) {
            return None;
        }
        if let Some((s, _)) = FIRST_KEYWORDS.iter().find(|(_, words)| has(k, words)) {
            return Some(*s);
        }
        if has(k, STILL_OUT) {
            return Some(Dropout);
        }
        if has(k, BACK_AT_SCHOOL) {
            return Some(self.school_at(k));
        }
        let not_graduated = strip(k, NOT_GRADUATED);
        if has(&not_graduated, GRADUATED) {
            return Some(Graduated);
        }
        if has(k, NEVER_ENROLLED) {
            return Some(NeverEnrolled);
        }
        if has(k, DROPPED_OUT) {
            return Some(Dropout);
        }
        let affirmed = strip(&strip_negated(&strip(k, NEGATED_STUDY)), NOT_GRADUATED);
        if has(&affirmed, STUDY) {
            return Some(self.school_at(k));
        }
        if has(k, AT_WORK_OR_HOME) {
            return Some(Dropout);
        }
        if has(&affirmed, SCHOOL_NAMED) {
            return Some(self.school_at(k));
        }
        None
    }

    /// In school: outside the county when the text places the child there.
    fn school_at(&self, k: &str) -> Status {
        match place::whereabouts(k, &self.county) {
            Whereabouts::Away => InSchoolOut,
            Whereabouts::Home | Whereabouts::Unplaced => InSchoolLocal,
        }
    }

    /// A status cell, with the reason cell consulted when the status says
    /// only "否"/"未在校" (a 是否在校 column).
    pub fn parse(&self, status: &str, reason: &str) -> StatusValue {
        let k = key(status);
        if k.is_empty() {
            return StatusValue::Missing;
        }
        if let Some(s) = self.classify(status) {
            return StatusValue::Known(s);
        }
        let negative =
            matches!(k.as_str(), "否" | "×" | "不是") || NEGATED_STUDY.contains(&k.as_str());
        if negative && let Some(s) = self.classify(reason) {
            // "否" says the child is not at a school here: a reason placing
            // it in a school of the county contradicts it and stays unknown.
            if !matches!(s, InSchoolLocal | Inclusive) {
                return StatusValue::Known(s);
            }
        }
        StatusValue::Unknown(compact(status).into())
    }
}

/// Words that deny the study word after them (无法上学, 不能就读).
const DENIALS: &[&str] = &[
    "无法", "不能", "未能", "没法", "没能", "不再", "不想", "不愿", "不肯", "拒绝", "没有", "不",
    "未", "没",
];

/// `k` with every study word that a denial precedes cut out.
fn strip_negated(k: &str) -> String {
    let mut out = k.to_string();
    for w in STUDY {
        for d in DENIALS {
            let denied = format!("{d}{w}");
            if out.contains(&denied) {
                out = out.replace(&denied, "|");
            }
        }
    }
    out
}

/// `k` with every occurrence of `words` replaced by a separator.
fn strip(k: &str, words: &[&str]) -> String {
    let mut out = k.to_string();
    for w in words {
        if out.contains(w) {
            out = out.replace(w, "|");
        }
    }
    out
}

/// Map one piece of text to a status with the built-in words only.
pub fn classify(text: &str) -> Option<Status> {
    StatusWords::default().classify(text)
}

/// [`StatusWords::parse`] with the built-in words only.
pub fn parse_status(status: &str, reason: &str) -> StatusValue {
    StatusWords::default().parse(status, reason)
}

/// A hint for a status text that stays unknown, when one helps the clerk.
pub fn unknown_hint(text: &str) -> Option<&'static str> {
    let k = key(text);
    if k.contains("免学") {
        return Some(
            "“免学”不是本轮的就读状态：在家接受送教的填“送教上门”，暂缓入学的填“延缓入学”，并附佐证材料",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> StatusValue {
        parse_status(s, "")
    }

    fn c(s: &str) -> Option<Status> {
        classify(s)
    }

    #[test]
    fn canonical_labels_round_trip() {
        for s in Status::ALL {
            assert_eq!(p(s.label_zh()), StatusValue::Known(s), "{}", s.label_zh());
            assert_eq!(status_by_label(s.label_zh()), Some(s));
        }
        assert_eq!(p("在校（本县）"), StatusValue::Known(InSchoolLocal));
        assert_eq!(p("在校（县外）"), StatusValue::Known(InSchoolOut));
        assert_eq!(p("出国（境）"), StatusValue::Known(Abroad));
        assert_eq!(status_by_label("出国（境）"), Some(Abroad));
        assert_eq!(status_by_label("打工"), None);
    }

    #[test]
    fn every_whole_word_maps_to_its_status() {
        // Bare markers of a status column mean something only on their own.
        let bare = [
            "县外", "省外", "外省", "外地", "本县", "县内", "是", "√", "✓",
        ];
        let mut disagree = Vec::new();
        for (w, s) in WHOLE_WORDS {
            assert_eq!(c(w), Some(*s), "{w}");
            // The keyword rules agree with the whole-word table.
            if !bare.contains(w) && StatusWords::default().by_keywords(&key(w)) != Some(*s) {
                disagree.push(*w);
            }
        }
        assert!(disagree.is_empty(), "{disagree:?}");
    }

    #[test]
    fn the_user_guide_prints_the_table() {
        let guide = key(include_str!("../../GUIDE.md"));
        // Bare markers and spellings the guide writes with a bracket inside.
        let unprinted = [
            "县外",
            "省外",
            "外省",
            "外地",
            "本县",
            "县内",
            "✓",
            "在校县外",
            "在校本县",
            "失踪失联",
            "出国境",
            "在特校就读",
            "在特殊教育学校就读",
            "初中已毕业",
        ];
        let missing: Vec<&str> = WHOLE_WORDS
            .iter()
            .map(|(w, _)| *w)
            .filter(|w| !unprinted.contains(w) && !guide.contains(w))
            .collect();
        assert!(missing.is_empty(), "not in GUIDE.md: {missing:?}");
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
            "√",
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
    fn clerks_phrasings_beyond_the_table() {
        let cases = [
            // dropouts
            ("打零工去了", Dropout),
            ("在家放牛", Dropout),
            ("在家帮忙放羊", Dropout),
            ("跟着亲戚外出务工", Dropout),
            ("初二没读了，在家玩手机", Dropout),
            ("小学毕业后一直在家", Dropout),
            ("初中未毕业就在家了", Dropout),
            ("读完初一就去打工", Dropout),
            ("厌学，不愿上学", Dropout),
            ("劝返未果", Dropout),
            ("未在校，在家务农", Dropout),
            ("从来没上过学", NeverEnrolled),
            // back at school beats the dropout it followed
            ("辍学后已复学", InSchoolLocal),
            ("经劝返已返校", InSchoolLocal),
            // in school, outside the county
            ("在江苏苏州跟父母读书", InSchoolOut),
            ("到省城上学", InSchoolOut),
            ("在浙江宁波上小学", InSchoolOut),
            ("父母在广东打工，随父母在东莞上学", InSchoolOut),
            ("转学（外省就读）", InSchoolOut),
            // in school, here
            ("在镇中心小学就读", InSchoolLocal),
            ("五年级", InSchoolLocal),
            ("在朝阳小学读书", InSchoolLocal),
            ("在县特殊教育学校就读", InSchoolLocal),
            ("在县一中住校", InSchoolLocal),
            ("出省读书", InSchoolOut),
            ("在西安市第三中学就读", InSchoolOut),
            ("跟爷爷奶奶在老家读书", InSchoolLocal),
            ("在特殊教育学校（特校）就读", InSchoolLocal),
            // the others
            ("在县职高读书", Graduated),
            ("已初中毕业读技校", Graduated),
            ("因病去世", Dead),
            ("全家联系不到", Missing),
            ("随父母出国", Abroad),
            ("重度残疾送教", HomeTeaching),
            ("智力残疾随班就读", Inclusive),
            ("身体原因缓学一年", Deferred),
            ("因病休学一年", Suspended),
            ("请病假在家", LongLeave),
        ];
        for (text, want) in cases {
            assert_eq!(c(text), Some(want), "{text}");
        }
    }

    #[test]
    fn what_cannot_be_placed_stays_unknown() {
        for s in [
            "免学",
            "未在校",
            "小学毕业",
            "情况不明",
            "待核实",
            "外出",
            "生病",
            "放牛",
        ] {
            assert_eq!(p(s), StatusValue::Unknown(compact(s).into()), "{s}");
        }
        assert!(unknown_hint("免学").unwrap().contains("送教上门"));
        assert_eq!(unknown_hint("待核实"), None);
    }

    #[test]
    fn the_county_is_never_outside() {
        let w = StatusWords::new(&[], Some("苏州市吴江区"));
        assert_eq!(w.county(), "苏州市吴江");
        assert_eq!(w.classify("在吴江读书"), Some(InSchoolLocal));
        let w = StatusWords::new(&[], Some("宁陕县"));
        assert_eq!(w.classify("在宁陕县城关小学就读"), Some(InSchoolLocal));
        assert_eq!(w.classify("在西安读书"), Some(InSchoolOut));
    }

    #[test]
    fn county_words_extend_the_table() {
        let w = StatusWords::new(
            &[
                ("在外务工".into(), Dropout),
                ("县特校".into(), InSchoolLocal),
                ("读技校".into(), InSchoolOut),
            ],
            None,
        );
        assert_eq!(w.classify("在外务工"), Some(Dropout));
        assert_eq!(w.classify("县特校"), Some(InSchoolLocal));
        // The county's word wins over the built-in keyword rules.
        assert_eq!(w.classify("读技校"), Some(InSchoolOut));
        assert_eq!(w.classify("在县城读技校"), Some(InSchoolOut));
        assert_eq!(classify("读技校"), Some(Graduated));
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
        assert_eq!(parse_status("否", "外出打工"), StatusValue::Known(Dropout));
        assert_eq!(parse_status("否", "在家放牛"), StatusValue::Known(Dropout));
        assert_eq!(
            parse_status("否", "随父母在外地上学"),
            StatusValue::Known(InSchoolOut)
        );
        assert_eq!(parse_status("否", ""), StatusValue::Unknown("否".into()));
        assert_eq!(
            parse_status("否", "生病"),
            StatusValue::Unknown("否".into())
        );
        assert_eq!(
            parse_status("否", "在校"),
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
        assert_eq!(p("未在校"), StatusValue::Unknown("未在校".into()));
        assert_eq!(p("打工"), StatusValue::Known(Dropout));
        assert_eq!(p("外地务工"), StatusValue::Known(Dropout));
    }
}
