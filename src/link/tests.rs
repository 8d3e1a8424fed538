//! Linker tests: the known traps, the findings, properties, and a seeded
//! synthetic mini-round with injected defects.

use super::testkit::{Rb, Rng, id_info, make_id, rec, truncated_info};
use super::*;
use crate::model::{Code, Format, Role, Sex, Status, Table};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

fn roster(row: u32) -> Rb {
    rec(Role::Roster, 0, row)
}
fn survey(row: u32) -> Rb {
    rec(Role::Survey, 1, row)
}

fn table(index: usize, role: Role, file: &str) -> Table {
    Table {
        index,
        input: crate::model::InputId(index),
        path: PathBuf::from(file),
        file: file.to_string(),
        format: Format::Xlsx,
        sheet: "Sheet1".to_string(),
        role,
        header_row: 1,
        columns: BTreeMap::new(),
        rows: Vec::new(),
        row_count: 0,
        preamble: String::new(),
        skipped: 0,
    }
}

fn tables() -> Vec<Table> {
    vec![
        table(0, Role::Roster, "县局名单.xlsx"),
        table(1, Role::Survey, "附件1_熨斗初级中学.xlsx"),
    ]
}

/// Run the linker over records whose role says which side they are on.
fn run(records: &[Record]) -> Vec<Pair> {
    let (r, s) = sides(records);
    link(records, &r, &s, &LinkParams::default())
}

fn sides(records: &[Record]) -> (Vec<usize>, Vec<usize>) {
    let r = (0..records.len())
        .filter(|&i| records[i].role == Role::Roster)
        .collect();
    let s = (0..records.len())
        .filter(|&i| records[i].role == Role::Survey)
        .collect();
    (r, s)
}

fn linked(pairs: &[Pair]) -> Vec<(usize, usize)> {
    pairs
        .iter()
        .filter(|p| p.decision == Decision::Linked)
        .map(|p| (p.roster, p.survey))
        .collect()
}

/// One digit of the first 17 changed, the check digit left as it was.
fn one_digit_wrong(id: &str, pos0: usize) -> String {
    let mut b = id.as_bytes().to_vec();
    b[pos0] = if b[pos0] == b'9' { b'0' } else { b[pos0] + 1 };
    String::from_utf8(b).unwrap_or_default()
}

fn codes(fs: &[crate::model::Finding]) -> Vec<&'static str> {
    let mut v: Vec<_> = fs.iter().map(|f| f.code.as_str()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- traps ----

#[test]
fn homophone_name_and_one_wrong_digit_still_links() {
    let id = make_id("20100503", 124);
    let bad = one_digit_wrong(&id, 11);
    assert!(!crate::gb11643::passes(&bad));
    let records = vec![
        roster(88)
            .child("张诗欣", "20100503", 124, "金星村")
            .build(),
        roster(89)
            .child("李浩然", "20100503", 131, "金星村")
            .build(),
        survey(17)
            .child("张诗鑫", "20100503", 124, "金星村")
            .id(&bad)
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 2)], "{pairs:#?}");
    let p = &pairs[0];
    assert!(p.score >= LinkParams::default().linked);
    assert!(
        p.reasons(&records)
            .contains(&"姓名同音: 张诗鑫 / 张诗欣".to_string()),
        "{:?}",
        p.reasons(&records)
    );
    assert!(
        p.reasons(&records)
            .iter()
            .any(|r| r.starts_with("身份证号一位数字不同(第12位")),
        "{:?}",
        p.reasons(&records)
    );
}

#[test]
fn homophone_with_adjacent_swap_and_no_id_both_link() {
    let id = make_id("20110712", 356);
    let mut sw = id.clone().into_bytes();
    sw.swap(14, 15);
    let sw = String::from_utf8(sw).unwrap();
    let records = vec![
        roster(2).child("刘子涵", "20110712", 356, "双坪村").build(),
        roster(3).child("陈宇航", "20090101", 511, "双坪村").build(),
        survey(5)
            .child("刘子含", "20110712", 356, "双坪村")
            .id(&sw)
            .build(),
        survey(6)
            .child("陈雨航", "20090101", 511, "双坪村")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 2), (1, 3)], "{pairs:#?}");
    assert!(
        pairs[0]
            .reasons(&records)
            .iter()
            .any(|r| r.starts_with("身份证号相邻两位颠倒")),
        "{:?}",
        pairs[0].reasons(&records)
    );
}

fn twins(head: &str) -> (Rb, Rb) {
    (
        roster(10)
            .child("张诗鑫", "20120304", 101, "金星村")
            .head(head),
        roster(11)
            .child("张诗琪", "20120304", 103, "金星村")
            .head(head),
    )
}

#[test]
fn twins_link_each_to_their_own_record() {
    let (a, b) = twins("张建国");
    let records = vec![
        a.build(),
        b.build(),
        // survey lists them in the other order, twin B without ID
        survey(3)
            .child("张诗琪", "20120304", 103, "金星村")
            .head("张建国")
            .id("")
            .build(),
        survey(4)
            .child("张诗鑫", "20120304", 101, "金星村")
            .head("张建国")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(1, 2), (0, 3)], "{pairs:#?}");
}

#[test]
fn homophone_twin_alone_is_not_linked_automatically() {
    // Twins 张子涵 / 张紫涵; only one surveyed, without ID: the names sound
    // alike, so the other twin scores nearly as well.
    let records = vec![
        roster(10)
            .child("张子涵", "20120304", 101, "金星村")
            .head("张建国")
            .build(),
        roster(11)
            .child("张紫涵", "20120304", 103, "金星村")
            .head("张建国")
            .build(),
        survey(3)
            .child("张子涵", "20120304", 101, "金星村")
            .head("张建国")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].decision, Decision::Possible);
    assert_eq!(pairs[0].roster, 0);
    assert!(
        pairs[0]
            .reasons(&records)
            .iter()
            .any(|r| r.contains("同户同日出生") && r.contains("相差")),
        "{:?}",
        pairs[0].reasons(&records)
    );
}

#[test]
fn homophone_twins_both_surveyed_both_link() {
    let records = vec![
        roster(10)
            .child("张子涵", "20120304", 101, "金星村")
            .head("张建国")
            .build(),
        roster(11)
            .child("张紫涵", "20120304", 103, "金星村")
            .head("张建国")
            .build(),
        survey(3)
            .child("张子涵", "20120304", 101, "金星村")
            .head("张建国")
            .id("")
            .build(),
        survey(4)
            .child("张紫涵", "20120304", 103, "金星村")
            .head("张建国")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 2), (1, 3)], "{pairs:#?}");
}

#[test]
fn twin_with_the_other_twins_id_is_never_linked() {
    let (a, b) = twins("张建国");
    let id_b = make_id("20120304", 103);
    let records = vec![
        a.build(),
        b.build(),
        // twin A's name, twin B's ID (filled in from the wrong line)
        survey(3)
            .child("张诗鑫", "20120304", 101, "金星村")
            .head("张建国")
            .id(&id_b)
            .build(),
    ];
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
}

#[test]
fn namesakes_in_different_villages_are_never_linked() {
    let mut records = vec![
        roster(1).child("王伟", "20100315", 111, "金星村").build(),
        roster(2).child("王伟", "20100822", 131, "双坪村").build(),
        roster(3).child("王伟", "20101101", 151, "先联村").build(),
    ];
    // Not in the roster: another 王伟 born 2010, in 沙湾村, with his own valid ID…
    records.push(survey(4).child("王伟", "20100612", 171, "沙湾村").build());
    // …and one without ID, same birth date as the 双坪村 boy but in 齐建村.
    records.push(
        survey(5)
            .child("王伟", "20100822", 191, "齐建村")
            .id("")
            .head("王大明")
            .build(),
    );
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
}

#[test]
fn surnames_zeng_shan_qiu_link_by_their_surname_reading() {
    let records = vec![
        roster(1).child("曾小红", "20110101", 122, "金星村").build(),
        roster(2).child("单丽", "20110202", 142, "金星村").build(),
        roster(3).child("仇明", "20110303", 161, "金星村").build(),
        survey(1).child("增小红", "20110101", 122, "金星村").build(),
        survey(2)
            .child("山丽", "20110202", 142, "金星村")
            .id("")
            .build(),
        survey(3)
            .child("邱明", "20110303", 161, "金星村")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 3), (1, 4), (2, 5)], "{pairs:#?}");
    assert!(
        pairs[1]
            .reasons(&records)
            .contains(&"姓名同音: 山丽 / 单丽".to_string())
    );

    // 丹 is dan, not the surname 单 (shan): without an ID that is only a possible match.
    let records = vec![
        roster(2).child("单丽", "20110202", 142, "金星村").build(),
        survey(2)
            .child("丹丽", "20110202", 142, "金星村")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
}

#[test]
fn truncated_id_links_to_the_right_child_when_name_and_birth_agree() {
    // Two children born the same day share the first 15 digits (seq 1xx).
    let a = make_id("20100503", 123);
    let b = make_id("20100503", 125);
    assert_eq!(a[..15], b[..15]);
    let records = vec![
        roster(1).child("赵一鸣", "20100503", 123, "金星村").build(),
        roster(2).child("孙雅琪", "20100503", 125, "金星村").build(),
        survey(1)
            .child("孙雅琪", "20100503", 125, "金星村")
            .id_info(truncated_info(&b))
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(1, 2)], "{pairs:#?}");
    let fs = link_findings(&tables(), &records, &[0, 1], &[2], &pairs);
    let idf: Vec<_> = fs.iter().filter(|f| f.code == Code::ID_DIFFERS).collect();
    assert_eq!(idf.len(), 1, "{fs:#?}");
    assert_eq!(idf[0].suggestion.as_deref(), Some(b.as_str()));
    assert_eq!(idf[0].row, 1);
    assert_eq!(idf[0].file, "附件1_熨斗初级中学.xlsx");
}

#[test]
fn child_not_in_roster_is_never_forced_onto_a_sibling() {
    let records = vec![
        roster(1)
            .child("张诗琪", "20120910", 144, "金星村")
            .head("张建国")
            .build(),
        roster(2)
            .child("李明", "20100910", 111, "金星村")
            .head("李强")
            .build(),
        survey(1)
            .child("张诗鑫", "20100910", 113, "金星村")
            .head("张建国")
            .build(),
        survey(2)
            .child("张诗鑫", "20100910", 113, "金星村")
            .head("张建国")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
    let (r, s) = sides(&records);
    let fs = link_findings(&tables(), &records, &r, &s, &pairs);
    assert_eq!(
        codes(&fs),
        vec![
            "NOT_IN_ROSTER",
            "NOT_IN_ROSTER",
            "NOT_SURVEYED",
            "NOT_SURVEYED"
        ],
        "{fs:#?}"
    );
}

#[test]
fn a_child_surveyed_twice_links_once() {
    let records = vec![
        roster(1).child("周杰", "20100910", 111, "金星村").build(),
        survey(1).child("周杰", "20100910", 111, "金星村").build(),
        rec(Role::Survey, 2, 9)
            .child("周杰", "20100910", 111, "金星村")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 1)], "{pairs:#?}");
    // The second copy (same full ID) is DUPLICATE_ID, reported by the
    // checker: it gets no pair, so no POSSIBLE_MATCH on top.
    assert_eq!(pairs.len(), 1, "{pairs:#?}");
}

#[test]
fn spacing_and_dots_link_without_name_differs() {
    let records = vec![
        roster(1)
            .child("阿依古丽·买买提", "20100910", 112, "金星村")
            .build(),
        roster(2).child("李倩", "20110910", 112, "金星村").build(),
        survey(1)
            .child("阿依古丽•买买提", "20100910", 112, "金星村")
            .build(),
        survey(2).child("李 倩", "20110910", 112, "金星村").build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 2), (1, 3)]);
    let fs = link_findings(&tables(), &records, &[0, 1], &[2, 3], &pairs);
    assert!(fs.is_empty(), "{fs:#?}");
}

// ------------------------------------------------------------- findings ----

#[test]
fn linked_pair_with_name_id_and_status_differing() {
    let id = make_id("20100503", 124);
    let bad = one_digit_wrong(&id, 11);
    let records = vec![
        roster(88)
            .child("张诗欣", "20100503", 124, "金星村")
            .platform("学前教育", "否")
            .build(),
        survey(17)
            .child("张诗鑫", "20100503", 124, "金星村")
            .id(&bad)
            .status(Status::InSchoolLocal)
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 1)], "{pairs:#?}");
    let fs = link_findings(&tables(), &records, &[0], &[1], &pairs);
    assert_eq!(
        codes(&fs),
        vec!["ID_DIFFERS", "NAME_DIFFERS", "ROSTER_STATUS_DIFFERS"],
        "{fs:#?}"
    );
    let by = |c: Code| fs.iter().find(|f| f.code == c).expect("present");
    let name = by(Code::NAME_DIFFERS);
    assert_eq!(name.row, 17);
    assert_eq!(name.column, "D", "name is the 3rd builder column, from B");
    assert_eq!(name.field, "name");
    assert_eq!(name.related[0].file, "县局名单.xlsx");
    assert_eq!(name.related[0].row, 88);
    assert_eq!(name.village.as_deref(), Some("金星村"));
    assert!(name.message.contains("县局名单第88行"), "{}", name.message);
    assert!(name.message.contains("张诗欣"), "{}", name.message);
    let idf = by(Code::ID_DIFFERS);
    assert_eq!(idf.suggestion.as_deref(), Some(id.as_str()));
    assert_eq!(idf.value, bad);
    assert_eq!(idf.field, "id");
    assert!(idf.message.contains(&id), "{}", idf.message);
    assert!(idf.message.contains("第12位"), "{}", idf.message);
    let st = by(Code::ROSTER_STATUS_DIFFERS);
    assert_eq!(st.field, "status");
    assert!(st.message.contains("学前教育"), "{}", st.message);
}

#[test]
fn linked_pair_with_birth_sex_and_village_differing() {
    let records = vec![
        roster(88)
            .child("张诗欣", "20100503", 124, "金星村")
            .build(),
        roster(89).child("李明", "20100503", 131, "双坪村").build(),
        survey(17)
            .child("张诗欣", "20100503", 124, "双坪村")
            .birth("20100504")
            .sex(Sex::Male)
            .build(),
        survey(18).child("李明", "20100503", 131, "双坪村").build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 2), (1, 3)], "{pairs:#?}");
    let fs = link_findings(&tables(), &records, &[0, 1], &[2, 3], &pairs);
    assert_eq!(
        codes(&fs),
        // 金星村's only child is linked (under another village): the
        // village is covered, it is about children, not village names.
        vec!["BIRTHDATE_DIFFERS", "SEX_DIFFERS", "VILLAGE_DIFFERS"],
        "{fs:#?}"
    );
    let by = |c: Code| fs.iter().find(|f| f.code == c).expect("present");
    assert_eq!(
        by(Code::BIRTHDATE_DIFFERS).suggestion.as_deref(),
        Some("2010-05-03")
    );
    assert_eq!(by(Code::BIRTHDATE_DIFFERS).value, "2010-05-04");
    assert_eq!(by(Code::SEX_DIFFERS).suggestion.as_deref(), Some("女"));
    let v = by(Code::VILLAGE_DIFFERS);
    assert_eq!(v.suggestion.as_deref(), Some("金星村"));
    assert_eq!((v.row, v.field.as_str()), (17, "village"));
    assert_eq!(v.related[0].row, 88);
}

#[test]
fn unknown_survey_village_is_not_village_differs() {
    let records = vec![
        roster(1).child("周杰", "20100910", 111, "金星村").build(),
        survey(1)
            .child("周杰", "20100910", 111, "金星村")
            .unknown_village("火星村")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 1)]);
    let fs = link_findings(&tables(), &records, &[0], &[1], &pairs);
    // No VILLAGE_DIFFERS; and 金星村 is covered, its child being linked
    // (no survey row names it).
    assert!(codes(&fs).is_empty(), "{fs:#?}");
}

#[test]
fn roster_status_differs_is_conservative() {
    let cases: Vec<(&str, &str, Status, bool)> = vec![
        ("学龄前儿童", "", Status::InSchoolLocal, true),
        ("", "是", Status::InSchoolLocal, true),
        ("初中", "否", Status::Dropout, true),
        ("小学", "", Status::NeverEnrolled, true),
        ("小学", "否", Status::InSchoolLocal, false),
        ("初中", "否", Status::InSchoolOut, false),
        ("", "", Status::Dropout, false),
        ("学前教育", "", Status::Deferred, false),
        ("高中", "否", Status::Graduated, false),
        // The platform's own vocabulary.
        ("非在校生", "", Status::InSchoolLocal, true),
        ("非在校生", "", Status::HomeTeaching, true),
        ("非在校生", "", Status::Inclusive, true),
        ("非在校生", "", Status::Dropout, false),
        ("非在校生", "否", Status::Graduated, false),
        ("学前教育", "", Status::InSchoolOut, true),
        ("七年级", "", Status::Dropout, true),
        ("八年级", "否", Status::InSchoolLocal, false),
        ("九年级", "", Status::NeverEnrolled, true),
        ("普通高中一年级", "", Status::Dropout, false),
        ("中职一年级", "", Status::Dropout, false),
        ("高职二年级", "", Status::Dropout, false),
        ("大专及以上", "", Status::NeverEnrolled, false),
        ("-", "", Status::Dropout, false),
        ("-", "", Status::InSchoolLocal, false),
        ("-", "是", Status::Dropout, false),
        ("-", "否", Status::Dropout, true),
        ("-", "是", Status::HomeTeaching, false),
    ];
    for (ps, pd, st, expect) in cases {
        let records = vec![
            roster(1)
                .child("周杰", "20100910", 111, "金星村")
                .platform(ps, pd)
                .build(),
            survey(1)
                .child("周杰", "20100910", 111, "金星村")
                .status(st)
                .build(),
        ];
        let pairs = run(&records);
        let fs = link_findings(&tables(), &records, &[0], &[1], &pairs);
        let got = fs.iter().any(|f| f.code == Code::ROSTER_STATUS_DIFFERS);
        assert_eq!(got, expect, "{ps}/{pd} vs {st:?}: {fs:#?}");
    }
}

#[test]
fn possible_match_and_village_not_covered() {
    let records = vec![
        roster(5).child("单丽", "20110202", 142, "金星村").build(),
        roster(7).child("王芳", "20110203", 142, "双坪村").build(),
        roster(6).child("李娜", "20110204", 142, "双坪村").build(),
        survey(3)
            .child("丹丽", "20110202", 142, "金星村")
            .id("")
            .build(),
    ];
    let pairs = run(&records);
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].decision, Decision::Possible);
    let fs = link_findings(&tables(), &records, &[0, 1, 2], &[3], &pairs);
    assert_eq!(
        codes(&fs),
        vec![
            "NOT_SURVEYED",
            "NOT_SURVEYED",
            "POSSIBLE_MATCH",
            "VILLAGE_NOT_COVERED"
        ],
        "{fs:#?}"
    );
    let pm = fs.iter().find(|f| f.code == Code::POSSIBLE_MATCH).unwrap();
    assert_eq!((pm.file.as_str(), pm.row), ("附件1_熨斗初级中学.xlsx", 3));
    assert_eq!(pm.related[0].row, 5);
    assert!(pm.message.contains("单丽"), "{}", pm.message);
    let vnc = fs
        .iter()
        .find(|f| f.code == Code::VILLAGE_NOT_COVERED)
        .unwrap();
    assert_eq!(vnc.row, 6, "first roster row of 双坪村");
    assert_eq!(vnc.village.as_deref(), Some("双坪村"));
    assert_eq!(vnc.field, "village");
    assert!(vnc.message.contains("2名"), "{}", vnc.message);
}

#[test]
fn out_of_range_indices_and_empty_records_do_not_panic() {
    let records = vec![
        roster(1).build(),
        survey(1).build(),
        survey(2).id("abc").name("  ").build(),
        rec(Role::Survey, 9, 2)
            .child("周杰", "20100910", 111, "金星村")
            .build(),
    ];
    let pairs = link(&records, &[0, 7], &[1, 2, 3, 99], &LinkParams::default());
    assert!(pairs.is_empty(), "{pairs:#?}");
    let fs = link_findings(&tables(), &records, &[0, 7], &[1, 2, 3, 99], &pairs);
    // records 1 and 2 are NOT_IN_ROSTER, record 0 NOT_SURVEYED; record 3's table does not exist.
    assert_eq!(
        codes(&fs),
        vec!["NOT_IN_ROSTER", "NOT_IN_ROSTER", "NOT_SURVEYED"]
    );
}

// ----------------------------------------------------------- properties ----

use proptest::prelude::*;

const SURNAMES: [&str; 14] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "曾", "单", "仇", "翟",
];
const GIVEN: [&str; 30] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平", "刚", "诗", "欣", "鑫", "涵", "子", "浩", "宇", "轩", "梓", "琪",
];
const VILLAGES: [&str; 6] = ["金星村", "双坪村", "刘家湾村", "先联村", "沙湾村", "齐建村"];

fn random_child(rng: &mut Rng, role: Role, table: usize, row: u32, seq: u32) -> Record {
    let mut name = rng.pick(&SURNAMES).to_string();
    for _ in 0..(1 + rng.below(2)) {
        name.push_str(rng.pick(&GIVEN));
    }
    let birth = format!("201{}0{}1{}", rng.below(6), 1 + rng.below(9), rng.below(10));
    rec(role, table, row)
        .child(&name, &birth, seq, rng.pick(&VILLAGES))
        .build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_record_links_to_itself_with_the_top_score(seed in any::<u64>(), n in 2usize..25, pick in any::<usize>()) {
        let mut rng = Rng::new(seed);
        let mut records: Vec<Record> = (0..n)
            .map(|i| random_child(&mut rng, Role::Roster, 0, 2 + i as u32, 100 + 2 * i as u32))
            .collect();
        let me = pick % n;
        let mut copy = records[me].clone();
        copy.role = Role::Survey;
        copy.table = 1;
        records.push(copy);
        let s = records.len() - 1;
        let roster: Vec<usize> = (0..n).collect();
        let pairs = link(&records, &roster, &[s], &LinkParams::default());
        prop_assert_eq!(linked(&pairs), vec![(me, s)]);
        let top = pair_score(&records, &roster, me, s).unwrap_or(0.0);
        for r in 0..n {
            let other = pair_score(&records, &roster, r, s).unwrap_or(0.0);
            prop_assert!(other <= top, "{} scores {} above itself {}", r, other, top);
        }
    }

    #[test]
    fn shuffling_roster_and_survey_order_does_not_change_pairs(seed in any::<u64>(), shuffle_seed in any::<u64>()) {
        let round = synthetic_round(seed, 40);
        let (mut r, mut s) = sides(&round.records);
        let base = link(&round.records, &r, &s, &LinkParams::default());
        let mut rng = Rng::new(shuffle_seed);
        rng.shuffle(&mut r);
        rng.shuffle(&mut s);
        let again = link(&round.records, &r, &s, &LinkParams::default());
        prop_assert_eq!(base, again);
    }
}

// ------------------------------------------------------ synthetic round ----

/// A generated round: records (roster first, then survey rows), and for
/// each survey record the roster record it truly is (None: not in roster).
struct Round {
    records: Vec<Record>,
    truth: HashMap<usize, usize>,
    /// Roster records that are some other roster record's twin or namesake.
    confusable: HashSet<(usize, usize)>,
    defects: BTreeMap<&'static str, usize>,
    /// The defects injected into each survey record.
    row_defects: HashMap<usize, Vec<&'static str>>,
}

const HOMOPHONES: [(&str, &str); 12] = [
    ("鑫", "欣"),
    ("涵", "含"),
    ("琪", "棋"),
    ("轩", "宣"),
    ("怡", "宜"),
    ("浩", "皓"),
    ("宇", "雨"),
    ("婷", "亭"),
    ("杰", "洁"),
    ("晨", "辰"),
    ("佳", "嘉"),
    ("梦", "孟"),
];
const GIVEN_R: [&str; 40] = [
    "鑫", "涵", "琪", "轩", "怡", "浩", "宇", "婷", "杰", "晨", "佳", "梦", "子", "诗", "梓", "一",
    "欣", "雨", "思", "可", "文", "博", "俊", "雅", "嘉", "明", "瑞", "泽", "安", "乐", "小", "天",
    "志", "海", "春", "秋", "兰", "凤", "国", "建",
];
const SURNAMES_R: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "曾", "单", "仇", "翟",
    "覃", "解", "余", "胡",
];

fn swap_homophone(rng: &mut Rng, name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut spots = Vec::new();
    for (i, c) in chars.iter().enumerate().skip(1) {
        for (a, b) in HOMOPHONES {
            if a.starts_with(*c) {
                spots.push((i, b));
            } else if b.starts_with(*c) {
                spots.push((i, a));
            }
        }
    }
    if spots.is_empty() {
        return None;
    }
    let (i, rep) = rng.pick(&spots);
    let mut out: String = chars[..i].iter().collect();
    out.push_str(rep);
    out.extend(chars[i + 1..].iter());
    Some(out)
}

fn synthetic_round(seed: u64, households: usize) -> Round {
    let mut rng = Rng::new(seed);
    let mut used: HashSet<(String, u32)> = HashSet::new();
    // (record, household key)
    let mut children: Vec<Record> = Vec::new();
    let mut confusable_names: Vec<(usize, usize)> = Vec::new();
    let mut row = 2u32;
    let fresh_seq = |rng: &mut Rng, birth: &str, used: &mut HashSet<(String, u32)>| loop {
        let s = rng.below(1000) as u32;
        if used.insert((birth.to_string(), s)) {
            return s;
        }
    };
    for h in 0..households {
        let surname = rng.pick(&SURNAMES_R).to_string();
        let village = rng.pick(&VILLAGES).to_string();
        let head = format!("{surname}{}{}", rng.pick(&GIVEN_R), rng.pick(&GIVEN_R));
        let kids = 1 + rng.below(3);
        let twins = rng.chance(15);
        let mut twin_birth = String::new();
        let mut names_here: HashSet<String> = HashSet::new();
        let first = children.len();
        for k in 0..kids {
            let birth = if twins && k > 0 {
                twin_birth.clone()
            } else {
                format!(
                    "20{:02}{:02}{:02}",
                    7 + rng.below(9),
                    1 + rng.below(12),
                    1 + rng.below(28)
                )
            };
            twin_birth = birth.clone();
            let mut name;
            loop {
                name = surname.clone();
                if h % 37 == 5 && k == 0 {
                    // common namesakes across villages
                    name = "王伟".to_string();
                } else {
                    for _ in 0..(1 + rng.below(2)) {
                        name.push_str(rng.pick(&GIVEN_R));
                    }
                }
                if names_here.insert(name.clone()) {
                    break;
                }
            }
            let seq = fresh_seq(&mut rng, &birth, &mut used);
            let r = rec(Role::Roster, 0, row)
                .child(&name, &birth, seq, &village)
                .head(&head)
                .build();
            row += 1;
            children.push(r);
        }
        if twins {
            for a in first..children.len() {
                for b in first..children.len() {
                    if a != b {
                        confusable_names.push((a, b));
                    }
                }
            }
        }
    }
    // namesakes: same folded name anywhere
    for a in 0..children.len() {
        for b in 0..children.len() {
            if a != b && children[a].name == children[b].name {
                confusable_names.push((a, b));
            }
        }
    }

    let n = children.len();
    let mut records: Vec<Record> = Vec::new();
    let mut in_roster = vec![true; n];
    for flag in in_roster.iter_mut() {
        if rng.chance(3) {
            *flag = false;
        }
    }
    let mut roster_index = vec![usize::MAX; n];
    for (i, c) in children.iter().enumerate() {
        if in_roster[i] {
            roster_index[i] = records.len();
            records.push(c.clone());
        }
    }
    let mut truth = HashMap::new();
    let mut defects: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut row_defects: HashMap<usize, Vec<&'static str>> = HashMap::new();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut srow = 4u32;
    for i in order {
        if in_roster[i] && rng.chance(3) {
            continue; // not surveyed
        }
        let mut s = children[i].clone();
        s.role = Role::Survey;
        s.table = 1 + rng.below(2);
        s.row = srow;
        srow += 1;
        let full = s.id.clean.to_string();
        let mut mine: Vec<&'static str> = Vec::new();
        let mut note = |k: &'static str| {
            *defects.entry(k).or_default() += 1;
            mine.push(k);
        };
        // at most one name defect and one other defect
        match rng.below(10) {
            0 | 1 => {
                if let Some(h) = swap_homophone(&mut rng, &s.name) {
                    s.name = h.clone().into();
                    s.name_raw = h.into();
                    note("homophone");
                }
            }
            2 => {
                let chars: Vec<char> = s.name.chars().collect();
                let spaced: String = chars
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                s.name_raw = spaced.into();
                note("spaces");
            }
            _ => {}
        }
        match rng.below(12) {
            0 => {
                s.id = id_info(&one_digit_wrong(&full, rng.below(17)));
                note("one_digit");
            }
            1 => {
                let p = rng.below(16);
                let mut b = full.clone().into_bytes();
                if b[p] != b[p + 1] {
                    b.swap(p, p + 1);
                    note("adjacent_swap");
                }
                s.id = id_info(&String::from_utf8(b).unwrap_or_default());
            }
            2 => {
                s.id = truncated_info(&full);
                note("truncated");
            }
            3 => {
                s.id = id_info("");
                note("id_missing");
            }
            4 => {
                let mut b = full.clone().into_bytes();
                b[17] = if b[17] == b'0' { b'1' } else { b'0' };
                s.id = id_info(&String::from_utf8(b).unwrap_or_default());
                note("check_digit");
            }
            5 => {
                if let crate::model::DateValue::Day(d) = s.birth {
                    s.birth = crate::model::DateValue::Day(d + chrono::Days::new(1));
                    note("birth_off");
                }
            }
            6 => {
                s.sex = s.sex.map(|x| {
                    if x == Sex::Male {
                        Sex::Female
                    } else {
                        Sex::Male
                    }
                });
                note("sex_wrong");
            }
            7 => {
                let v = rng.pick(&VILLAGES).to_string();
                if s.village.as_deref() != Some(v.as_str()) {
                    s.village_raw = v.clone().into();
                    s.village = Some(v.into());
                    note("village_moved");
                }
            }
            _ => {}
        }
        // A second, independent slip on top of a repairable ID: still linked.
        let repairable = s.id.kind != crate::model::IdKind::Valid
            && s.id.kind != crate::model::IdKind::Truncated
            && s.id.kind != crate::model::IdKind::Missing;
        if repairable && rng.chance(40) {
            if rng.chance(50) {
                if let crate::model::DateValue::Day(d) = s.birth {
                    s.birth = crate::model::DateValue::Day(d - chrono::Days::new(1));
                    note("birth_off");
                }
            } else if let Some(x) = s.sex {
                s.sex = Some(if x == Sex::Male {
                    Sex::Female
                } else {
                    Sex::Male
                });
                note("sex_wrong");
            }
        }
        let si = records.len();
        records.push(s);
        if in_roster[i] {
            truth.insert(si, roster_index[i]);
        } else {
            note("not_in_roster");
        }
        row_defects.insert(si, mine);
    }
    let confusable = confusable_names
        .into_iter()
        .filter(|(a, b)| in_roster[*a] && in_roster[*b])
        .map(|(a, b)| (roster_index[a], roster_index[b]))
        .collect();
    Round {
        records,
        truth,
        confusable,
        defects,
        row_defects,
    }
}

#[test]
fn synthetic_rounds_link_with_precision_and_recall_one() {
    for seed in [1u64, 2, 3, 20221010] {
        let round = synthetic_round(seed, 160);
        let (r, s) = sides(&round.records);
        assert!(r.len() > 250, "a few hundred children: {}", r.len());
        let pairs = link(&round.records, &r, &s, &LinkParams::default());
        let got: HashSet<(usize, usize)> = linked(&pairs).into_iter().collect();
        eprintln!(
            "seed {seed}: roster {} survey {} linked {} possible {} twins/namesakes {} defects {:?}",
            r.len(),
            s.len(),
            got.len(),
            pairs.len() - got.len(),
            round.confusable.len(),
            round.defects
        );
        let want: HashSet<(usize, usize)> = round.truth.iter().map(|(s, r)| (*r, *s)).collect();
        let wrong: Vec<_> = got.difference(&want).collect();
        let missed: Vec<_> = want.difference(&got).collect();
        let show = |x: &(usize, usize)| {
            let p = pairs.iter().find(|p| p.roster == x.0 && p.survey == x.1);
            format!(
                "{} {} / {} {} {:?}",
                round.records[x.0].name,
                round.records[x.0].id.clean,
                round.records[x.1].name,
                round.records[x.1].id.clean,
                p.map(|p| (&p.decision, p.score, p.reasons(&round.records)))
            )
        };
        assert!(
            wrong.is_empty(),
            "seed {seed}: wrong links {:#?}",
            wrong.iter().map(|x| show(x)).collect::<Vec<_>>()
        );
        assert!(
            missed.is_empty(),
            "seed {seed}: missed links {:#?} (defects {:?})",
            missed.iter().map(|x| show(x)).collect::<Vec<_>>(),
            round.defects
        );
        // zero forbidden links: never a twin or namesake's record
        for (rr, ss) in &got {
            if let Some(t) = round.truth.get(ss) {
                assert!(
                    !round.confusable.contains(&(*t, *rr)),
                    "seed {seed}: forbidden link"
                );
            }
        }
        // every survey row is in at most one pair, every roster row in at most one link
        let mut seen_s = HashSet::new();
        let mut seen_r = HashSet::new();
        for p in &pairs {
            assert!(seen_s.insert(p.survey));
            if p.decision == Decision::Linked {
                assert!(seen_r.insert(p.roster));
            }
        }
        // the defects were really injected
        for k in [
            "homophone",
            "one_digit",
            "truncated",
            "id_missing",
            "not_in_roster",
        ] {
            assert!(
                round.defects.get(k).copied().unwrap_or(0) >= 2,
                "seed {seed}: {k} {:?}",
                round.defects
            );
        }
        // and the cross findings follow the pairs
        let fs = link_findings(&tables3(), &round.records, &r, &s, &pairs);
        let not_in_roster = fs.iter().filter(|f| f.code == Code::NOT_IN_ROSTER).count();
        let possible = fs.iter().filter(|f| f.code == Code::POSSIBLE_MATCH).count();
        let survey_only = s.len() - round.truth.len();
        assert_eq!(not_in_roster + possible, survey_only, "seed {seed}");
        // each injected defect is reported at its row, nothing on clean rows
        let mut by_row: HashMap<(String, u32), Vec<&'static str>> = HashMap::new();
        for f in &fs {
            by_row
                .entry((f.file.clone(), f.row))
                .or_default()
                .push(f.code.as_str());
        }
        let t3 = tables3();
        for (&si, &_ri) in &round.truth {
            let sr = &round.records[si];
            let mut want: Vec<&str> = round.row_defects[&si]
                .iter()
                .filter_map(|d| match *d {
                    "homophone" => Some("NAME_DIFFERS"),
                    "one_digit" | "adjacent_swap" | "truncated" | "check_digit" => {
                        Some("ID_DIFFERS")
                    }
                    "birth_off" => Some("BIRTHDATE_DIFFERS"),
                    "sex_wrong" => Some("SEX_DIFFERS"),
                    "village_moved" => Some("VILLAGE_DIFFERS"),
                    _ => None,
                })
                .collect();
            want.sort();
            let mut got = by_row
                .get(&(t3[sr.table].file.clone(), sr.row))
                .cloned()
                .unwrap_or_default();
            got.sort();
            assert_eq!(
                got, want,
                "seed {seed}: survey row {} {} defects {:?}",
                sr.row, sr.name, round.row_defects[&si]
            );
        }
    }
}

fn tables3() -> Vec<Table> {
    vec![
        table(0, Role::Roster, "县局名单.xlsx"),
        table(1, Role::Survey, "附件1_熨斗初级中学.xlsx"),
        table(2, Role::Survey, "附件1_熨斗镇中心小学.xlsx"),
    ]
}

// ---- hard cases from held-out rounds, each beside its twin and namesake traps ----

/// A valid ID of another region (the first six digits retyped).
fn id_in_region(region: &str, birth: &str, seq: u32) -> String {
    crate::gb11643::with_check(&format!("{region}{birth}{:03}", seq % 1000)).expect("digits")
}

/// The round of the hard cases: a child, the child's twin (same household,
/// birth date and village, another name) and a namesake stranger (same name,
/// another village, household and birth date).
fn hard_case_roster() -> Vec<Record> {
    vec![
        roster(10)
            .child("赵子墨", "20110315", 221, "金星村")
            .head("赵建华")
            .build(),
        roster(11)
            .child("赵子轩", "20110315", 223, "金星村")
            .head("赵建华")
            .build(),
        roster(12)
            .child("赵子墨", "20100822", 241, "双坪村")
            .head("赵德明")
            .build(),
    ]
}

#[test]
fn roster_listing_a_child_twice_links_the_first_copy_only() {
    let mut records = hard_case_roster();
    // Row 13 repeats row 10 (same valid ID, same name).
    records.push(
        roster(13)
            .child("赵子墨", "20110315", 221, "金星村")
            .head("赵建华")
            .build(),
    );
    records.push(
        survey(3)
            .child("赵子墨", "20110315", 221, "金星村")
            .head("赵建华")
            .build(),
    );
    records.push(
        survey(4)
            .child("赵子轩", "20110315", 223, "金星村")
            .head("赵建华")
            .build(),
    );
    let pairs = run(&records);
    assert_eq!(linked(&pairs), vec![(0, 4), (1, 5)], "{pairs:#?}");
    assert_eq!(pairs.len(), 2, "no possible pair on the copy: {pairs:#?}");
    assert!(
        pairs.iter().all(|p| p
            .reasons(&records)
            .iter()
            .all(|r| !r.contains("同户同日出生"))),
        "no twin note: {pairs:#?}"
    );
    let (r, s) = sides(&records);
    let fs = link_findings(&tables(), &records, &r, &s, &pairs);
    // Only the namesake stranger (row 12) is not surveyed; the copy is not.
    let not_surveyed: Vec<u32> = fs
        .iter()
        .filter(|f| f.code == Code::NOT_SURVEYED)
        .map(|f| f.row)
        .collect();
    assert_eq!(not_surveyed, vec![12], "{fs:#?}");
    assert!(!codes(&fs).contains(&"POSSIBLE_MATCH"), "{fs:#?}");
}

#[test]
fn valid_but_different_id_links_with_id_differs_when_all_else_agrees() {
    for (what, id) in [
        // two sequence digits retyped, check digit recomputed: still valid
        ("two digits", make_id("20110315", 257)),
        ("region", id_in_region("610921", "20110315", 221)),
    ] {
        let mut records = hard_case_roster();
        records.push(
            survey(3)
                .child("赵子墨", "20110315", 221, "金星村")
                .head("赵建华")
                .id(&id)
                .build(),
        );
        assert_eq!(records[3].id.kind, crate::model::IdKind::Valid, "{what}");
        // The twin, surveyed correctly, beside it.
        records.push(
            survey(4)
                .child("赵子轩", "20110315", 223, "金星村")
                .head("赵建华")
                .build(),
        );
        let pairs = run(&records);
        assert_eq!(linked(&pairs), vec![(0, 3), (1, 4)], "{what}: {pairs:#?}");
        let (r, s) = sides(&records);
        let fs = link_findings(&tables(), &records, &r, &s, &pairs);
        let id_differs: Vec<&crate::model::Finding> =
            fs.iter().filter(|f| f.code == Code::ID_DIFFERS).collect();
        assert_eq!(id_differs.len(), 1, "{what}: {fs:#?}");
        assert_eq!(id_differs[0].row, 3);
        assert_eq!(
            id_differs[0].suggestion.as_deref(),
            Some(records[0].id.clean.as_str())
        );
    }
}

#[test]
fn valid_but_different_id_is_not_linked_when_anything_else_disagrees() {
    // Namesake stranger's data with another valid ID: village, household
    // and birth differ from every roster child of that name.
    let mut records = hard_case_roster();
    records.push(
        survey(3)
            .child("赵子墨", "20100822", 299, "沙湾村")
            .head("赵国庆")
            .build(),
    );
    // Same family and birth date, but the twin's name only sounds alike.
    records.push(
        survey(4)
            .child("赵紫轩", "20110315", 225, "金星村")
            .head("赵建华")
            .build(),
    );
    let pairs = run(&records);
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
}

#[test]
fn twins_other_id_with_the_right_name_is_still_never_linked_to_the_other_twin() {
    let mut records = hard_case_roster();
    // 赵子墨's name with the twin's (valid) ID: filled in from the wrong line.
    let twin_id = records[1].id.clean.clone();
    records.push(
        survey(3)
            .child("赵子墨", "20110315", 221, "金星村")
            .head("赵建华")
            .id(&twin_id)
            .build(),
    );
    let pairs = run(&records);
    assert!(
        linked(&pairs).iter().all(|&(r, _)| r != 1),
        "never the twin: {pairs:#?}"
    );
    assert!(linked(&pairs).is_empty(), "{pairs:#?}");
}

#[test]
fn lunar_birthday_without_id_links_with_birthdate_differs() {
    for (days, lunar) in [(20, "20110404"), (34, "20110418"), (50, "20110504")] {
        let mut records = hard_case_roster();
        // The namesake stranger born exactly on the stated (lunar) date, in
        // another village: a trap for the birth-date block.
        records[2] = roster(12)
            .child("赵子墨", lunar, 241, "双坪村")
            .head("赵德明")
            .build();
        records.push(
            survey(3)
                .child("赵子墨", lunar, 221, "金星村")
                .head("赵建华")
                .sex(records[0].sex.unwrap())
                .id("")
                .build(),
        );
        records.push(
            survey(4)
                .child("赵子轩", "20110315", 223, "金星村")
                .head("赵建华")
                .id("")
                .build(),
        );
        let pairs = run(&records);
        assert_eq!(
            linked(&pairs),
            vec![(0, 3), (1, 4)],
            "{days} days: {pairs:#?}"
        );
        let (r, s) = sides(&records);
        let fs = link_findings(&tables(), &records, &r, &s, &pairs);
        let bd: Vec<u32> = fs
            .iter()
            .filter(|f| f.code == Code::BIRTHDATE_DIFFERS)
            .map(|f| f.row)
            .collect();
        assert_eq!(bd, vec![3], "{days} days: {fs:#?}");
    }
}

#[test]
fn birth_date_off_by_two_months_or_more_or_another_household_is_not_linked() {
    // 61 days off: not a lunar birthday.
    let mut records = hard_case_roster();
    records.push(
        survey(3)
            .child("赵子墨", "20110515", 221, "金星村")
            .head("赵建华")
            .sex(records[0].sex.unwrap())
            .id("")
            .build(),
    );
    assert!(linked(&run(&records)).is_empty());
    // 30 days off, but another household head.
    let mut records = hard_case_roster();
    records.push(
        survey(3)
            .child("赵子墨", "20110414", 221, "金星村")
            .head("钱大勇")
            .sex(records[0].sex.unwrap())
            .id("")
            .build(),
    );
    assert!(linked(&run(&records)).is_empty());
}

#[test]
fn texts_numbered_by_two_threads_merge_equal_texts_into_one_number() {
    let long = "阿依古丽·买买提艾力江·克依木".to_string();
    assert!(long.len() > 23, "a text kept outside the key");
    let mut a = Texts::default();
    let zhang = a.id(Cow::Borrowed("张三"));
    let long_a = a.id(Cow::Borrowed(long.as_str()));
    let mut b = Texts::default();
    let li = b.id(Cow::Borrowed("李四"));
    let zhang_b = b.id(Cow::Owned("张三".to_string()));
    let long_b = b.id(Cow::Owned(long.clone()));
    assert_eq!(b.id(Cow::Borrowed("李四")), li);
    let to = a.absorb(b);
    assert_eq!(to[zhang_b as usize], zhang);
    assert_eq!(to[long_b as usize], long_a);
    let li_now = to[li as usize];
    assert!(li_now != zhang && li_now != long_a);
    let texts = a.into_vec();
    assert_eq!(texts.len(), 3);
    assert_eq!(texts[zhang as usize].as_str(), "张三");
    assert_eq!(texts[long_a as usize].as_str(), long);
    assert_eq!(texts[li_now as usize].as_str(), "李四");
}

#[test]
fn folding_borrows_a_plain_name_and_folds_the_rest() {
    assert!(matches!(name::fold_cow("张诗欣"), Cow::Borrowed("张诗欣")));
    assert!(matches!(name::fold_cow("Anna"), Cow::Borrowed("Anna")));
    for (raw, folded) in [
        ("李 倩", "李倩"),
        ("阿依.买买提", "阿依买买提"),
        ("阿依·买买提", "阿依买买提"),
    ] {
        let f = name::fold_cow(raw);
        assert!(matches!(f, Cow::Owned(_)), "{raw}");
        assert_eq!(f, folded);
    }
}

#[test]
fn household_heads_written_with_a_space_still_agree() {
    let id = make_id("20100503", 124);
    let r = rec(Role::Roster, 0, 5)
        .child("张诗欣", "20100503", 124, "金星村")
        .head("张 建国")
        .build();
    let s = rec(Role::Survey, 1, 7)
        .name("张诗欣")
        .id(&id)
        .head("张建国")
        .build();
    let records = vec![r, s];
    let ctx = Ctx::new(&records, &[0], &[1]);
    assert_eq!(ctx.compare(0, 1).household, Agreement::Agree);
    assert_eq!(ctx.compare(0, 1), compare(&records[0], &records[1]));
}
