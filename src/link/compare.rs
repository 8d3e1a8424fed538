//! Field-by-field comparison of a roster record with a survey record, the
//! Fellegi–Sunter weights of each level (in bits, log2 m/u), and the reasons
//! in Chinese.

use super::name::{NameLevel, compare_names, fold};
use crate::gb11643::{IdLevel, compare_ids, segment_zh};
use crate::model::{DateValue, IdKind, Record, Sex};

/// Whether a field agrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Agreement {
    Agree,
    Disagree,
    /// One side is missing: no evidence either way.
    Unknown,
}

/// Every field of one roster–survey pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Comparison {
    pub name: NameLevel,
    pub id: IdLevel,
    pub birth: Agreement,
    pub sex: Agreement,
    pub village: Agreement,
    pub household: Agreement,
    /// Both birth dates are full days that differ by less than two months
    /// (a lunar birthday written as a solar one).
    pub birth_near: bool,
}

/// Days under which two differing birth dates count as "near".
pub const NEAR_BIRTH_DAYS: i64 = 60;

/// Whether two stated dates are full days apart by 1..NEAR_BIRTH_DAYS days.
pub fn births_near(a: &DateValue, b: &DateValue) -> bool {
    match (a, b) {
        (DateValue::Day(x), DateValue::Day(y)) => {
            let d = (*x - *y).num_days().abs();
            d > 0 && d < NEAR_BIRTH_DAYS
        }
        _ => false,
    }
}

/// The birth date a record states, or failing that the one in its ID.
pub fn birth_of(r: &Record) -> DateValue {
    if r.birth.is_stated() {
        return r.birth.clone();
    }
    match r.id.birth_date() {
        Some(d) => DateValue::Day(d),
        None => DateValue::Missing,
    }
}

/// The sex a record states, or failing that the one in its ID.
pub fn sex_of(r: &Record) -> Option<Sex> {
    r.sex.or_else(|| r.id.sex())
}

fn agreement(x: Option<bool>) -> Agreement {
    match x {
        Some(true) => Agreement::Agree,
        Some(false) => Agreement::Disagree,
        None => Agreement::Unknown,
    }
}

/// Household heads agree when their names fold to the same text or sound alike.
fn household(r: &Record, s: &Record) -> Agreement {
    let a = fold(&r.household_head);
    let b = fold(&s.household_head);
    if a.is_empty() || b.is_empty() {
        return Agreement::Unknown;
    }
    match compare_names(&a, &a, &b, &b) {
        NameLevel::Identical | NameLevel::SameAfterFolding | NameLevel::Homophone => {
            Agreement::Agree
        }
        _ => Agreement::Disagree,
    }
}

/// Compare a roster record with a survey record, field by field.
pub fn compare(roster: &Record, survey: &Record) -> Comparison {
    let name = compare_names(
        &roster.name_raw,
        &roster.name,
        &survey.name_raw,
        &survey.name,
    );
    let (id, _) = compare_ids(&roster.id, &survey.id);
    let (rb, sb) = (birth_of(roster), birth_of(survey));
    let birth = agreement(rb.agrees(&sb));
    let sex = agreement(match (sex_of(roster), sex_of(survey)) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    });
    let village = agreement(match (&roster.village, &survey.village) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    });
    Comparison {
        name,
        id,
        birth,
        sex,
        village,
        household: household(roster, survey),
        birth_near: births_near(&rb, &sb),
    }
}

/// How common a name is among the roster children: `share` is the fraction
/// of roster children with this folded name (or this pinyin for homophones).
#[derive(Clone, Copy, Debug)]
pub struct NameFreq {
    pub same_name: f64,
    pub same_sound: f64,
}

impl NameFreq {
    /// A name seen once in a county-sized roster.
    pub const RARE: NameFreq = NameFreq {
        same_name: 1.0 / 2000.0,
        same_sound: 1.0 / 2000.0,
    };
}

/// Probability that two different children share the name, floored and capped.
fn u_of(share: f64) -> f64 {
    share.clamp(1e-4, 0.5)
}

/// The Fellegi–Sunter weight of a name level, in bits.
pub fn name_weight(level: NameLevel, f: NameFreq) -> f64 {
    match level {
        NameLevel::Identical => (0.90 / u_of(f.same_name)).log2(),
        NameLevel::SameAfterFolding => (0.90 / u_of(f.same_name)).log2() - 0.5,
        NameLevel::Homophone => (0.04 / (0.1 * u_of(f.same_sound))).log2().min(9.0),
        NameLevel::Swapped => 4.0,
        // Siblings differ by one character: weak evidence.
        NameLevel::OneCharDiffers => 0.5,
        NameLevel::Different => -6.0,
        NameLevel::Missing => 0.0,
    }
}

/// The Fellegi–Sunter weight of an ID level, in bits. `both_valid` is
/// whether both IDs pass every check (two valid IDs that differ are two people).
pub fn id_weight(level: IdLevel, both_valid: bool) -> f64 {
    match level {
        IdLevel::Identical => 20.0,
        IdLevel::CheckDigitOnly => 14.0,
        IdLevel::Legacy => 14.0,
        IdLevel::OneDigit => 12.0,
        IdLevel::AdjacentSwap => 12.0,
        // The first 15 digits are region, birth date and one sequence digit:
        // many children born the same day share them.
        IdLevel::Truncated15 => 4.0,
        IdLevel::Missing => 0.0,
        IdLevel::Different => {
            if both_valid {
                -14.0
            } else {
                -3.0
            }
        }
    }
}

fn agree_weight(a: Agreement, agree: f64, disagree: f64) -> f64 {
    match a {
        Agreement::Agree => agree,
        Agreement::Disagree => disagree,
        Agreement::Unknown => 0.0,
    }
}

/// ID weight of two valid, different IDs when everything else says "same
/// child" (a retyped digit pair or region): a clerk's typing error.
const ID_RETYPED: f64 = -2.0;
/// Birth weight of two near birth dates when the survey has no ID and
/// everything else says "same child" (a lunar birthday).
const BIRTH_NEAR: f64 = 2.0;

/// Name, sex, village and household head all agree (the name exactly, not
/// only in sound: twins and siblings may have names that sound alike).
fn same_family_same_name(c: &Comparison) -> bool {
    matches!(c.name, NameLevel::Identical | NameLevel::SameAfterFolding)
        && c.sex == Agreement::Agree
        && c.village == Agreement::Agree
        && c.household == Agreement::Agree
}

/// Total weight of a comparison, in bits.
///
/// Two exceptions to the plain sum, both only when name, sex, village and
/// household head agree: two valid but different IDs with the same birth
/// date weigh as a typing error instead of two people, and a survey without
/// ID whose birth date is under two months off weighs as a lunar birthday
/// instead of another child. Whether another candidate competes is decided
/// by the assignment, as for every pair.
pub fn total_weight(c: &Comparison, freq: NameFreq, both_valid: bool) -> f64 {
    let family = same_family_same_name(c);
    let id = if family && both_valid && c.id == IdLevel::Different && c.birth == Agreement::Agree {
        ID_RETYPED
    } else {
        id_weight(c.id, both_valid)
    };
    let birth = if family && c.id == IdLevel::Missing && c.birth_near {
        BIRTH_NEAR
    } else {
        agree_weight(c.birth, 6.0, -5.0)
    };
    name_weight(c.name, freq)
        + id
        + birth
        + agree_weight(c.sex, 0.9, -4.0)
        + agree_weight(c.village, 2.5, -3.0)
        + agree_weight(c.household, 2.0, -1.0)
}

/// Weight (bits) at which the score is one half.
pub const SCORE_CENTER: f64 = 12.0;
/// Bits per doubling of the odds in the score.
pub const SCORE_SCALE: f64 = 2.0;

/// Map a total weight to a 0..1 score (a logistic curve in bits).
pub fn score_of(weight: f64) -> f64 {
    1.0 / (1.0 + (-(weight - SCORE_CENTER) / SCORE_SCALE).exp2())
}

pub fn both_ids_valid(r: &Record, s: &Record) -> bool {
    r.id.kind == IdKind::Valid && s.id.kind == IdKind::Valid
}

fn date_text(d: &DateValue) -> String {
    match d {
        DateValue::Missing => "空".to_string(),
        other => other.display(),
    }
}

/// Plain-Chinese reasons, one per compared field (survey value first).
#[cfg(test)]
pub fn reasons(c: &Comparison, roster: &Record, survey: &Record) -> Vec<String> {
    let (_, pos) = compare_ids(&roster.id, &survey.id);
    reasons_at(c, roster, survey, pos.first().copied().unwrap_or(0))
}

/// [`reasons`] given the first differing ID position (1-based, 0 when
/// none) that `compare_ids` would report.
pub fn reasons_at(c: &Comparison, roster: &Record, survey: &Record, p: usize) -> Vec<String> {
    let sn = survey.name.as_str();
    let rn = roster.name.as_str();
    let mut out = Vec::new();
    out.push(match c.name {
        NameLevel::Identical => "姓名一致".to_string(),
        NameLevel::SameAfterFolding => format!(
            "姓名去掉空格和圆点后一致: {} / {}",
            survey.name_raw.trim(),
            roster.name_raw.trim()
        ),
        NameLevel::Homophone => format!("姓名同音: {sn} / {rn}"),
        NameLevel::OneCharDiffers => format!("姓名一字不同: {sn} / {rn}"),
        NameLevel::Swapped => format!("姓名字序颠倒: {sn} / {rn}"),
        NameLevel::Different => format!("姓名不同: {sn} / {rn}"),
        NameLevel::Missing => "姓名缺失，无法比对".to_string(),
    });
    out.push(match c.id {
        IdLevel::Identical => "身份证号一致".to_string(),
        IdLevel::OneDigit => {
            format!("身份证号一位数字不同(第{p}位，{})", segment_zh(p))
        }
        IdLevel::AdjacentSwap => {
            format!("身份证号相邻两位颠倒(第{}、{}位)", p, p + 1)
        }
        IdLevel::CheckDigitOnly => "身份证号仅校验位不同".to_string(),
        IdLevel::Truncated15 => "身份证号被Excel截断，前15位一致".to_string(),
        IdLevel::Legacy => "15位旧身份证号，升位后一致".to_string(),
        IdLevel::Missing => "身份证号缺失，无法比对".to_string(),
        IdLevel::Different => "身份证号不同".to_string(),
    });
    out.push(match c.birth {
        Agreement::Agree => "出生日期一致".to_string(),
        Agreement::Disagree if c.birth_near => format!(
            "出生日期相差不到两个月（可能为农历生日）: {} / {}",
            date_text(&birth_of(survey)),
            date_text(&birth_of(roster))
        ),
        Agreement::Disagree => format!(
            "出生日期不同: {} / {}",
            date_text(&birth_of(survey)),
            date_text(&birth_of(roster))
        ),
        Agreement::Unknown => "出生日期缺失，无法比对".to_string(),
    });
    out.push(match c.sex {
        Agreement::Agree => "性别一致".to_string(),
        Agreement::Disagree => format!(
            "性别不同: {} / {}",
            sex_of(survey).map(Sex::label_zh).unwrap_or("空"),
            sex_of(roster).map(Sex::label_zh).unwrap_or("空")
        ),
        Agreement::Unknown => "性别缺失，无法比对".to_string(),
    });
    out.push(match c.village {
        Agreement::Agree => "村一致".to_string(),
        Agreement::Disagree => format!(
            "村不同: {} / {}",
            survey.village.as_deref().unwrap_or(""),
            roster.village.as_deref().unwrap_or("")
        ),
        Agreement::Unknown => "村无法比对".to_string(),
    });
    match c.household {
        Agreement::Agree => out.push("户主一致".to_string()),
        Agreement::Disagree => out.push(format!(
            "户主不同: {} / {}",
            survey.household_head.trim(),
            roster.household_head.trim()
        )),
        Agreement::Unknown => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::testkit::{make_id, rec, truncated_info};
    use crate::model::Role;

    #[test]
    fn compare_reports_every_field() {
        let r = rec(Role::Roster, 0, 5)
            .child("张诗欣", "20100503", 124, "金星村")
            .head("张建国")
            .build();
        let s = rec(Role::Survey, 1, 7)
            .child("张诗鑫", "20100503", 124, "双坪村")
            .head("张建国")
            .build();
        let c = compare(&r, &s);
        assert_eq!(c.name, NameLevel::Homophone);
        assert_eq!(c.id, IdLevel::Identical);
        assert_eq!(c.birth, Agreement::Agree);
        assert_eq!(c.sex, Agreement::Agree);
        assert_eq!(c.village, Agreement::Disagree);
        assert_eq!(c.household, Agreement::Agree);
        let rs = reasons(&c, &r, &s);
        assert!(
            rs.contains(&"姓名同音: 张诗鑫 / 张诗欣".to_string()),
            "{rs:?}"
        );
        assert!(
            rs.contains(&"村不同: 双坪村 / 金星村".to_string()),
            "{rs:?}"
        );
        assert!(rs.contains(&"出生日期一致".to_string()));
    }

    #[test]
    fn missing_fields_are_unknown_not_disagreeing() {
        let r = rec(Role::Roster, 0, 5).name("李倩").build();
        let s = rec(Role::Survey, 1, 7).name("李 倩").build();
        let c = compare(&r, &s);
        assert_eq!(c.name, NameLevel::SameAfterFolding);
        assert_eq!(c.id, IdLevel::Missing);
        assert_eq!(c.birth, Agreement::Unknown);
        assert_eq!(c.sex, Agreement::Unknown);
        assert_eq!(c.village, Agreement::Unknown);
        assert_eq!(c.household, Agreement::Unknown);
    }

    #[test]
    fn birth_and_sex_fall_back_to_the_id() {
        let id = make_id("20100503", 123);
        let r = rec(Role::Roster, 0, 5).name("李倩").id(&id).build();
        let s = rec(Role::Survey, 1, 7)
            .name("李倩")
            .birth("20100504")
            .sex(Sex::Female)
            .id_info(truncated_info(&id))
            .build();
        let c = compare(&r, &s);
        assert_eq!(c.birth, Agreement::Disagree);
        assert_eq!(c.sex, Agreement::Disagree, "seq 123 is odd: male");
        assert_eq!(c.id, IdLevel::Truncated15);
    }

    #[test]
    fn common_names_weigh_less() {
        let rare = name_weight(NameLevel::Identical, NameFreq::RARE);
        let common = name_weight(
            NameLevel::Identical,
            NameFreq {
                same_name: 0.01,
                same_sound: 0.01,
            },
        );
        assert!(rare > common + 3.0, "{rare} vs {common}");
        assert!(name_weight(NameLevel::Homophone, NameFreq::RARE) < rare);
        assert!(score_of(40.0) > 0.99 && score_of(0.0) < 0.05);
    }
}
