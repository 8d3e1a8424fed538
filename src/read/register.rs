//! Values a sheet states by its layout rather than in a column:
//! - registers that play the survey's role without a status column: a
//!   school's student-registry list (学籍号, 年级, 班级, 随班就读, 学籍状态 …)
//!   and a poverty-aid student ledger (学校全称, 学段, 县内/县外, 不在校原因)
//!   get a status (and a school) derived from what they list;
//! - a 村组 value such as `麦坪村三组` gives the group too.
//!
//! Derived values are put on the rows as if the sheet held them, at the
//! column they come from, so every later stage (and every finding's cell)
//! works as for a survey that states them.

use crate::model::{Cell, Field, RawRow, RawValue, Role};
use std::collections::BTreeMap;

/// What a sheet is, for deriving its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A student-registry list (学籍号 or 学籍状态, no status column).
    Registry,
    /// A poverty-aid student ledger (县内/县外 or 学段, no status column).
    AidLedger,
    /// Anything else: nothing is derived.
    Plain,
}

pub(crate) fn layout(cols: &BTreeMap<Field, u32>) -> Layout {
    let has = |f: Field| cols.contains_key(&f);
    if has(Field::Status) {
        Layout::Plain
    } else if has(Field::RegistryNo) || has(Field::RegistryStatus) {
        Layout::Registry
    } else if has(Field::InCounty) || has(Field::Stage) {
        Layout::AidLedger
    } else {
        Layout::Plain
    }
}

fn text_of(row: &RawRow, f: Field) -> String {
    row.cell(f)
        .map(|c| crate::normalize::text::compact(&c.display()))
        .unwrap_or_default()
}

/// The school a registry list is about when it has no school column: the
/// 填报单位 line above the header (学校：… also), else the file name
/// without its extension.
pub(crate) fn school_of_file(preamble: &str, file: &str) -> String {
    for line in preamble.lines() {
        let l = crate::normalize::text::compact(line);
        for key in ["填报单位", "学校名称", "单位名称", "学校:", "学校："] {
            if let Some(i) = l.find(key) {
                let rest = l[i + key.len()..].trim_start_matches([':', '：']);
                // Up to the next label on the same line (填报日期, 联系人 …).
                let end = ["填报", "联系", "日期", "(", "（", "盖章"]
                    .iter()
                    .filter_map(|w| rest.find(w))
                    .min()
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                if name.chars().count() >= 2 {
                    return name.to_string();
                }
            }
        }
    }
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    // The part of the name that names a school, up to its school word
    // (熨斗镇中心小学学籍名单 → 熨斗镇中心小学).
    for part in stem.split(['_', '-', ' ', '(', '（', ')', '）']) {
        let end = SCHOOL_WORDS
            .iter()
            .filter_map(|w| part.rfind(w).map(|i| i + w.len()))
            .max();
        if let Some(end) = end {
            return part[..end].to_string();
        }
    }
    stem.to_string()
}

/// Words that end a school's name.
const SCHOOL_WORDS: &[&str] = &[
    "小学",
    "中学",
    "学校",
    "初中",
    "完小",
    "教学点",
    "初级中学",
    "九年制学校",
];

/// Yes in a 随班就读 (or 就读方式) cell of a person list: 是, √, 1, or a
/// text naming 随班就读 that does not deny it (非随班就读, 否).
fn says_inclusive(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.starts_with('非') || t.starts_with('否') || t.contains("不是") {
        return false;
    }
    matches!(t, "是" | "√" | "1" | "Y" | "y") || t.contains("随班就读")
}

/// A registry status that only says the pupil is on the roll.
fn on_the_roll(text: &str) -> bool {
    text.is_empty()
        || matches!(
            text,
            "在读" | "在籍" | "在校" | "正常" | "在籍在读" | "正常在读" | "在校就读" | "注册"
        )
}

/// 学段 of a school past compulsory education (the child finished 初中).
fn past_compulsory(stage: &str) -> bool {
    [
        "高中", "中职", "职高", "中专", "技工", "高职", "大专", "本科", "职业",
    ]
    .iter()
    .any(|w| stage.contains(w))
}

/// How the status (and school) of a survey-role register's rows is
/// derived: decided once from the columns, then applied row by row.
pub(crate) struct StatusDeriver {
    kind: Layout,
    /// The column the status is read from.
    col: u32,
    /// The school of a registry list without a school column.
    school: Option<String>,
    name_col: u32,
}

impl StatusDeriver {
    /// None when nothing is derived (not a survey, or a plain layout);
    /// otherwise `columns` gains the Status column.
    pub(crate) fn new(
        columns: &mut BTreeMap<Field, u32>,
        role: Role,
        preamble: &str,
        file: &str,
    ) -> Option<StatusDeriver> {
        if role != Role::Survey {
            return None;
        }
        let kind = layout(columns);
        let col = match kind {
            Layout::Plain => return None,
            Layout::Registry => columns
                .get(&Field::RegistryStatus)
                .or_else(|| columns.get(&Field::RegistryNo)),
            // A dropout's status comes from the reason: its findings sit there.
            Layout::AidLedger => columns
                .get(&Field::Reason)
                .or_else(|| columns.get(&Field::InCounty))
                .or_else(|| columns.get(&Field::Stage)),
        }
        .copied()?;
        columns.insert(Field::Status, col);
        let school = (kind == Layout::Registry && !columns.contains_key(&Field::School))
            .then(|| school_of_file(preamble, file));
        let name_col = columns.get(&Field::Name).copied().unwrap_or(col);
        Some(StatusDeriver {
            kind,
            col,
            school,
            name_col,
        })
    }

    /// Put the derived status (and school) on one row.
    pub(crate) fn apply(&self, row: &mut RawRow) {
        let status = match self.kind {
            Layout::Registry => {
                let reg = text_of(row, Field::RegistryStatus);
                if !on_the_roll(&reg) {
                    reg
                } else if says_inclusive(&text_of(row, Field::StatInclusive))
                    || says_inclusive(&text_of(row, Field::StudyMode))
                {
                    "随班就读".to_string()
                } else {
                    "在校(本县)".to_string()
                }
            }
            Layout::AidLedger => {
                let reason = text_of(row, Field::Reason);
                let place = text_of(row, Field::InCounty);
                let stage = text_of(row, Field::Stage);
                if !reason.is_empty() {
                    reason
                } else if past_compulsory(&stage) {
                    "初中已毕业".to_string()
                } else if place.contains('外') {
                    "在校(县外)".to_string()
                } else if place.contains('内') || place.contains("本县") {
                    "在校(本县)".to_string()
                } else {
                    // Neither said: the status is missing, not guessed.
                    String::new()
                }
            }
            Layout::Plain => String::new(),
        };
        let cell = if status.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(status)
        };
        row.values.insert(
            Field::Status,
            RawValue {
                col: self.col,
                cell,
            },
        );
        if let Some(s) = &self.school {
            row.values.insert(
                Field::School,
                RawValue {
                    col: self.name_col,
                    cell: Cell::Text(s.clone()),
                },
            );
        }
    }
}

/// Split `麦坪村三组` (a 村组 value) into village and group, when the row
/// has no group value of its own: the group is the part after the last
/// 村/社区/居委会 that ends in 组 or 队.
pub(crate) fn split_village_group_of(row: &mut RawRow) {
    let Some(v) = row.values.get(&Field::Village) else {
        return;
    };
    if row.cell(Field::Group).is_some_and(|c| !c.is_empty()) {
        return;
    }
    let col = v.col;
    let text = crate::normalize::text::compact(&v.cell.display());
    if let Some((village, group)) = split_once_village(&text) {
        row.values.insert(
            Field::Village,
            RawValue {
                col,
                cell: Cell::Text(village),
            },
        );
        row.values.insert(
            Field::Group,
            RawValue {
                col,
                cell: Cell::Text(group),
            },
        );
    }
}

fn split_once_village(text: &str) -> Option<(String, String)> {
    if !(text.ends_with('组') || text.ends_with('队')) {
        return None;
    }
    let cut = ["居委会", "社区", "村"]
        .iter()
        .filter_map(|w| text.rfind(w).map(|i| i + w.len()))
        .max()?;
    let (village, group) = text.split_at(cut);
    (group.chars().count() >= 2 && village.chars().count() >= 2)
        .then(|| (village.to_string(), group.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn village_group_values_split() {
        assert_eq!(
            split_once_village("麦坪村三组"),
            Some(("麦坪村".into(), "三组".into()))
        );
        assert_eq!(
            split_once_village("城关社区12组"),
            Some(("城关社区".into(), "12组".into()))
        );
        assert_eq!(split_once_village("麦坪村"), None);
        assert_eq!(split_once_village("三组"), None);
    }

    #[test]
    fn school_from_the_unit_line_or_file() {
        assert_eq!(
            school_of_file(
                "学生名单\n填报单位：熨斗镇中心小学 填报日期：2022-09-01",
                "x.xlsx"
            ),
            "熨斗镇中心小学"
        );
        assert_eq!(
            school_of_file("", "熨斗镇中心小学学籍.xls"),
            "熨斗镇中心小学"
        );
        assert_eq!(school_of_file("", "学籍_熨斗初中.xls"), "熨斗初中");
        assert_eq!(school_of_file("", "名单.xls"), "名单");
    }

    #[test]
    fn inclusive_flags() {
        for y in ["是", "√", "1", "视力残疾随班就读"] {
            assert!(says_inclusive(y), "{y}");
        }
        for n in ["", "否", "非随班就读", "走读", "住校"] {
            assert!(!says_inclusive(n), "{n}");
        }
    }
}
