//! Cross-source findings from the linker's pairs: NOT_SURVEYED,
//! NOT_IN_ROSTER, POSSIBLE_MATCH, the *_DIFFERS codes of linked pairs,
//! ROSTER_STATUS_DIFFERS and VILLAGE_NOT_COVERED. Each sits on the row its code
//! describes, `related` pointing at the other side. Messages carry full values;
//! the terminal masks them.

use super::FxMap;
use super::Pair;
use super::compare::{birth_of, compare, sex_of};
use super::name::NameLevel;
use crate::gb11643::{IdLevel, compare_ids, segment_zh};
use crate::model::{
    Code, DateValue, Decision, Field, Finding, IdKind, Loc, Record, Role, Sex, Status, StatusValue,
    Table,
};
use std::collections::BTreeMap;

fn table_of<'a>(tables: &'a [Table], r: &Record) -> Option<&'a Table> {
    tables.get(r.table)
}

fn loc_of(tables: &[Table], r: &Record) -> Option<Loc> {
    table_of(tables, r).map(|t| t.loc(r.row))
}

/// "县局名单第88行" (with the file name when the round has several rosters),
/// spelled out only when a finding is written with it.
struct WhereZh<'a> {
    tables: &'a [Table],
    r: &'a Record,
    several: bool,
}

impl std::fmt::Display for WhereZh<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.r.role {
            Role::Roster => "县局名单",
            Role::Survey => "摸底表",
            Role::Ledger => "台账",
            Role::Stats => "统计表",
        };
        match (self.several, table_of(self.tables, self.r)) {
            (true, Some(t)) => write!(out, "{role}《{}》第{}行", t.file, self.r.row),
            _ => write!(out, "{role}第{}行", self.r.row),
        }
    }
}

fn id_text(r: &Record) -> String {
    if r.id.clean.is_empty() {
        r.id.raw.trim().to_string()
    } else {
        r.id.clean.to_string()
    }
}

fn date_text(d: &DateValue) -> String {
    match d {
        DateValue::Missing => "空".to_string(),
        other => other.display(),
    }
}

/// A short description of a child: "张诗欣 610922201005031234 2010-05-03 金星村".
fn describe(r: &Record) -> String {
    let mut parts = vec![if r.name.is_empty() {
        r.name_raw.trim().to_string()
    } else {
        r.name.to_string()
    }];
    let id = id_text(r);
    if !id.is_empty() {
        parts.push(id);
    }
    let b = birth_of(r);
    if b != DateValue::Missing {
        parts.push(date_text(&b));
    }
    if let Some(v) = &r.village {
        parts.push(v.to_string());
    } else if !r.village_raw.trim().is_empty() {
        parts.push(r.village_raw.trim().to_string());
    }
    parts.join(" ")
}

struct Platform {
    preschool: bool,
    in_school: bool,
    dropout_yes: bool,
    dropout_no: bool,
}

/// The platform's 在校生状况 and 失学辍学 flag, in its own words: 非在校生,
/// 学龄前儿童, 学前教育 (not at school); 小学, 初中, 一…九年级 (compulsory
/// school); 普通高中…, 高中, 中职…, 高职…, 大专及以上 (past compulsory
/// school); `-` or empty (nothing said).
fn platform(r: &Record) -> Platform {
    let st = crate::normalize::text::compact(r.platform_status.trim());
    let d = r.platform_dropout.trim();
    let upper = [
        "高中", "中职", "高职", "大专", "大学", "职高", "中专", "技校", "本科",
    ]
    .iter()
    .any(|w| st.contains(w));
    let grade = ["一", "二", "三", "四", "五", "六", "七", "八", "九"]
        .iter()
        .any(|n| st.contains(&format!("{n}年级")));
    Platform {
        preschool: st.contains("学前") || st.contains("学龄前") || st.contains("非在校"),
        in_school: !upper && (st.contains("小学") || st.contains("初中") || grade),
        dropout_yes: d.starts_with('是'),
        dropout_no: d.starts_with('否'),
    }
}

/// The platform's view contradicts the survey's status (conservative: only
/// clear contradictions).
fn status_contradiction(roster: &Record, survey: &Record) -> Option<String> {
    let StatusValue::Known(st) = survey.status else {
        return None;
    };
    let p = platform(roster);
    let mut why = Vec::new();
    // 送教上门 is compulsory schooling too, only not at a school.
    if p.preschool && (st.in_school() || st == Status::HomeTeaching) {
        why.push(format!("在校生状况为「{}」", roster.platform_status.trim()));
    }
    if st.in_school() && p.dropout_yes {
        why.push("标记为失学辍学".to_string());
    }
    if st.is_dropout() {
        if p.in_school {
            why.push(format!("在校生状况为「{}」", roster.platform_status.trim()));
        }
        if p.dropout_no {
            why.push("未标记为失学辍学".to_string());
        }
    }
    if why.is_empty() {
        None
    } else {
        Some(why.join("、"))
    }
}

fn status_text(s: &Record) -> String {
    match &s.status {
        StatusValue::Known(st) => st.label_zh().to_string(),
        _ => s.status_raw.trim().to_string(),
    }
}

fn name_level_zh(l: NameLevel) -> &'static str {
    match l {
        NameLevel::Homophone => "同音字",
        NameLevel::OneCharDiffers => "一字不同",
        NameLevel::Swapped => "字序颠倒",
        _ => "姓名不同",
    }
}

fn id_detail_zh(roster: &Record, survey: &Record) -> Option<String> {
    let (level, pos) = compare_ids(&roster.id, &survey.id);
    let p = pos.first().copied().unwrap_or(0);
    Some(match level {
        IdLevel::Identical | IdLevel::Missing => return None,
        IdLevel::OneDigit => format!("第{p}位({})不同", segment_zh(p)),
        IdLevel::AdjacentSwap => format!("第{}、{}位颠倒", p, p + 1),
        IdLevel::CheckDigitOnly => "校验位(第18位)不同".to_string(),
        IdLevel::Truncated15 => {
            if survey.id.kind == IdKind::Truncated {
                "摸底表中的身份证号被Excel存成数字，后三位已丢失".to_string()
            } else {
                "县局名单中的身份证号被Excel存成数字，后三位已丢失".to_string()
            }
        }
        IdLevel::Legacy => "其中一方是15位旧身份证号".to_string(),
        // Masked output hides positions 7–17, so two IDs differing only
        // there would read alike: name the differing positions.
        IdLevel::Different if (1..=6).contains(&pos.len()) => {
            let ps: Vec<String> = pos.iter().map(|p| p.to_string()).collect();
            format!("第{}位不同", ps.join("、"))
        }
        IdLevel::Different if !pos.is_empty() => format!("号码不同，共{}位不同", pos.len()),
        IdLevel::Different => "号码不同".to_string(),
    })
}

/// Emit the cross-source findings of a linked round.
pub fn link_findings(
    tables: &[Table],
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    pairs: &[Pair],
) -> Vec<Finding> {
    let n = records.len();
    // Ascending and without repeats, as the sets they replace iterated.
    let sorted_set = |ix: &[usize]| {
        let mut v: Vec<usize> = ix.iter().copied().filter(|&i| i < n).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut roster = sorted_set(roster);
    // A later roster copy of the same child is DUPLICATE_ID only.
    let copies = super::roster_copies(records, &roster);
    roster.retain(|i| !copies.contains(i));
    let survey = sorted_set(survey);
    let several_rosters = roster
        .first()
        .is_some_and(|&f| roster.iter().any(|&i| records[i].table != records[f].table));
    let mut paired_r = vec![false; n];
    let mut pair_of_s: Vec<Option<&Pair>> = vec![None; n];
    for p in pairs {
        if p.roster < n && p.survey < n {
            paired_r[p.roster] = true;
            pair_of_s[p.survey].get_or_insert(p);
        }
    }
    let mut out = Vec::new();
    // Valid IDs of linked survey rows: a later copy of the same person is
    // DUPLICATE_ID (from the checker), not a child missing from the roster.
    let linked_ids: FxMap<&str, ()> = pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked && p.survey < n)
        .map(|p| &records[p.survey].id)
        .filter(|id| id.is_valid())
        .map(|id| (id.clean.as_str(), ()))
        .collect();

    // ---- survey side ----
    // Two threads over contiguous halves of the survey rows; their findings
    // are joined in survey order, as one loop would make them.
    let side = SurveySide {
        tables,
        records,
        pair_of_s: &pair_of_s,
        linked_ids: &linked_ids,
        several_rosters,
    };
    let (a, b) = survey.split_at(survey.len().div_ceil(2));
    if b.is_empty() {
        side.run(a, &mut out);
    } else {
        std::thread::scope(|sc| {
            let other = sc.spawn(|| {
                let mut v = Vec::new();
                side.run(b, &mut v);
                v
            });
            side.run(a, &mut out);
            match other.join() {
                Ok(v) => out.extend(v),
                Err(e) => std::panic::resume_unwind(e),
            }
        });
    }

    // ---- roster side ----
    // A village is covered when a survey row names it, or when any of its
    // roster children is linked or possibly linked (a survey without a
    // village column, such as a school's registry list, still covers it).
    let covered: FxMap<&str, ()> = survey
        .iter()
        .filter_map(|&s| records[s].village.as_deref())
        .chain(
            roster
                .iter()
                .filter(|&&r| paired_r[r])
                .filter_map(|&r| records[r].village.as_deref()),
        )
        .map(|v| (v, ()))
        .collect();
    // village → (first roster record by (table,row), count)
    let mut uncovered: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for &r in &roster {
        let rr = &records[r];
        if let Some(v) = rr.village.as_deref()
            && !covered.contains_key(v)
        {
            let e = uncovered.entry(v).or_insert((r, 0));
            e.1 += 1;
            if (rr.table, rr.row) < (records[e.0].table, records[e.0].row) {
                e.0 = r;
            }
        }
    }
    for (v, (first, count)) in &uncovered {
        let rr = &records[*first];
        let Some(t) = table_of(tables, rr) else {
            continue;
        };
        let mut f = Finding::on_field(
            Code::VILLAGE_NOT_COVERED,
            t,
            rr,
            Field::Village,
            rr.village_raw.to_string(),
            format!("整村未摸底：{v}在县局名单中有{count}名儿童，但所有摸底表中都没有该村的记录"),
        );
        f.village = Some(v.to_string());
        out.push(f);
    }
    for &r in &roster {
        if paired_r[r] {
            continue;
        }
        let rr = &records[r];
        let Some(t) = table_of(tables, rr) else {
            continue;
        };
        out.push(Finding::on_name(
            Code::NOT_SURVEYED,
            t,
            rr,
            format!(
                "县局名单中的儿童在摸底表中未找到（遗漏）：{}，请补充入户摸底",
                describe(rr)
            ),
        ));
    }
    out
}

/// What the survey side of [`link_findings`] reads.
struct SurveySide<'a> {
    tables: &'a [Table],
    records: &'a [Record],
    pair_of_s: &'a [Option<&'a Pair>],
    linked_ids: &'a FxMap<&'a str, ()>,
    several_rosters: bool,
}

impl SurveySide<'_> {
    /// The findings of survey rows `survey`, appended to `out` in their order.
    fn run(&self, survey: &[usize], out: &mut Vec<Finding>) {
        let SurveySide {
            tables,
            records,
            pair_of_s,
            linked_ids,
            several_rosters,
        } = *self;
        for &s in survey {
            let sr = &records[s];
            let Some(st) = table_of(tables, sr) else {
                continue;
            };
            let Some(p) = pair_of_s[s] else {
                if sr.id.is_valid() && linked_ids.contains_key(sr.id.clean.as_str()) {
                    continue;
                }
                out.push(Finding::on_name(
                    Code::NOT_IN_ROSTER,
                    st,
                    sr,
                    format!(
                        "县局名单中没有此儿童：{}。请核实是否为本镇农村适龄儿童，或县局名单遗漏",
                        describe(sr)
                    ),
                ));
                continue;
            };
            let rr = &records[p.roster];
            // Most pairs make no finding: where the roster row is, is
            // worked out for the first one.
            let rloc = std::cell::OnceCell::new();
            let rwhere = WhereZh {
                tables,
                r: rr,
                several: several_rosters,
            };
            let village = sr.village.clone().or_else(|| rr.village.clone());
            let mut push = |mut f: Finding| {
                if let Some(l) = rloc.get_or_init(|| loc_of(tables, rr)) {
                    f = f.with_related(l.clone());
                }
                f.village = village.as_deref().map(String::from);
                out.push(f);
            };
            if p.decision == Decision::Possible {
                push(Finding::on_field(
                    Code::POSSIBLE_MATCH,
                    st,
                    sr,
                    Field::Name,
                    sr.name_raw.clone(),
                    format!(
                        "疑似{rwhere}的儿童：{}（得分 {:.2}），证据不足以自动关联，请人工确认。依据：{}",
                        describe(rr),
                        p.score,
                        p.reasons(records).join("；")
                    ),
                ));
                continue;
            }
            let c = compare(rr, sr);
            if !matches!(
                c.name,
                NameLevel::Identical | NameLevel::SameAfterFolding | NameLevel::Missing
            ) {
                push(
                    Finding::on_field(
                        Code::NAME_DIFFERS,
                        st,
                        sr,
                        Field::Name,
                        sr.name_raw.clone(),
                        format!(
                            "姓名与{rwhere}不一致（{}）：县局名单为 {} {}，摸底表为 {}",
                            name_level_zh(c.name),
                            rr.name,
                            id_text(rr),
                            sr.name
                        ),
                    )
                    .with_suggestion(rr.name.clone()),
                );
            }
            if let Some(detail) = id_detail_zh(rr, sr) {
                let roster_ok = rr.id.kind == IdKind::Valid;
                let mut msg = format!(
                    "身份证号与{rwhere}不一致（{detail}）：县局名单为 {} {}，摸底表为 {}",
                    rr.name,
                    id_text(rr),
                    id_text(sr)
                );
                if !roster_ok {
                    msg.push_str("；县局名单中的身份证号本身也未通过校验，请核实户籍信息");
                }
                let mut f =
                    Finding::on_field(Code::ID_DIFFERS, st, sr, Field::Id, sr.id.raw.clone(), msg);
                if roster_ok {
                    f = f.with_suggestion(rr.id.clean.clone());
                }
                push(f);
            }
            if sr.birth.is_stated() {
                let rb = birth_of(rr);
                if sr.birth.agrees(&rb) == Some(false) {
                    push(
                        Finding::on_field(
                            Code::BIRTHDATE_DIFFERS,
                            st,
                            sr,
                            Field::Birthdate,
                            sr.birth.display(),
                            format!(
                                "出生日期与{rwhere}不一致：县局名单为 {} {}，摸底表为 {}",
                                rr.name,
                                date_text(&rb),
                                sr.birth.display()
                            ),
                        )
                        .with_suggestion(rb.display()),
                    );
                }
            }
            if let (Some(ss), Some(rs)) = (sr.sex, sex_of(rr))
                && ss != rs
            {
                push(
                    Finding::on_field(
                        Code::SEX_DIFFERS,
                        st,
                        sr,
                        Field::Sex,
                        sr.sex_raw.to_string(),
                        format!(
                            "性别与{rwhere}不一致：县局名单为 {} {}，摸底表为 {}",
                            rr.name,
                            rs.label_zh(),
                            Sex::label_zh(ss)
                        ),
                    )
                    .with_suggestion(rs.label_zh()),
                );
            }
            if let (Some(sv), Some(rv)) = (&sr.village, &rr.village)
                && sv != rv
            {
                push(
                    Finding::on_field(
                        Code::VILLAGE_DIFFERS,
                        st,
                        sr,
                        Field::Village,
                        sr.village_raw.to_string(),
                        format!(
                            "村（社区）与{rwhere}不一致：县局名单为 {} {}，摸底表为 {}",
                            rr.name, rv, sv
                        ),
                    )
                    .with_suggestion(rv.to_string()),
                );
            }
            if let Some(why) = status_contradiction(rr, sr) {
                push(Finding::on_field(
                    Code::ROSTER_STATUS_DIFFERS,
                    st,
                    sr,
                    Field::Status,
                    sr.status_raw.to_string(),
                    format!(
                        "{rwhere}（{}）的平台信息{why}，摸底结果为「{}」，平台信息需更新",
                        rr.name,
                        status_text(sr)
                    ),
                ));
            }
        }
    }
}
