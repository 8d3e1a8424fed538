//! A round reads its rows as they come and learns the villages and the
//! county from the roster: what the roster teaches holds for every table,
//! also the tables read before it, and for a list without a village column
//! whose village is in its address.

use crate::support::{Workdir, findings_array};
use testkit::ids::fake_id;

/// No villages and no county configured: both come from the roster.
const CONFIG: &str = "township = \"熨斗镇\"\nschool_year = 2022\n";

fn roster(ids: &[String]) -> String {
    let mut s = String::from(
        "县乡村振兴局名单\n序号,县,乡镇,行政村,组,户编号,姓名,证件号码,性别,出生日期,与户主关系,在校生状况\n",
    );
    let rows = [
        ("宁陕县", "熨斗镇金星村", "一组", "甲测", "男"),
        ("宁陕县", "熨斗镇双坪村", "三组", "乙测", "女"),
        ("宁陕县", "熨斗镇金星村", "二组", "丙测", "男"),
    ];
    for (i, (county, village, group, name, sex)) in rows.iter().enumerate() {
        s.push_str(&format!(
            "{},{county},熨斗镇,{village},{group},H{i},{name},{},{sex},,子女,在校\n",
            i + 1,
            ids[i]
        ));
    }
    s
}

#[test]
fn villages_and_county_from_the_roster_hold_for_tables_read_before_it() {
    let wd = Workdir::new("flow");
    let ids: Vec<String> = (0..6).map(|i| fake_id("20100503", 11 + i)).collect();
    let dir = wd.mkdir("round");
    wd.write("round/taizhang.toml", CONFIG);
    // Read first (its name sorts first): a survey whose villages are short
    // spellings, and a child who studies in the county's own town.
    wd.write(
        "round/01_附件1_熨斗初级中学.csv",
        format!(
            "附件1 摸底调查表\n序号,村（社区）,姓名,身份证号码,性别,出生日期,就读状态,就读学校,年级,佐证材料\n\
             1,金星,甲测,{},男,2010-05-03,在宁陕县城关小学就读,城关小学,六年级,\n\
             2,金星,丁测,{},女,2010-05-03,在校,熨斗初级中学,六年级,\n",
            ids[0], ids[3]
        ),
    );
    // A school's registry list: no village column, the village is in the
    // address.
    wd.write(
        "round/02_熨斗镇中心小学学籍名单.csv",
        format!(
            "姓名,身份证号码,学籍号,年级,家庭住址\n乙测,{},G{},六年级,熨斗镇双坪村三组\n戊测,{},G{},六年级,熨斗镇双坪村五组\n",
            ids[1], ids[1], ids[4], ids[4]
        ),
    );
    wd.write("round/县局名单.csv", roster(&ids));
    let out = wd.run(&["reconcile", "round", "--out", "out"]);
    assert!(out.status == 0 || out.status == 1, "{}", out.all());
    let _ = dir;
    let json = wd.findings("out");
    let findings = findings_array(&json);
    let not_in_roster = |file: &str, row: u64| {
        findings
            .iter()
            .find(|f| f["code"] == "NOT_IN_ROSTER" && f["file"] == file && f["row"] == row)
            .unwrap_or_else(|| panic!("NOT_IN_ROSTER at {file} row {row}: {}", out.all()))
    };
    // The survey's 金星 is the roster's 金星村.
    assert_eq!(
        not_in_roster("01_附件1_熨斗初级中学.csv", 4)["village"],
        "金星村"
    );
    // The registry list's address names 双坪村, a village of the roster.
    assert_eq!(
        not_in_roster("02_熨斗镇中心小学学籍名单.csv", 3)["village"],
        "双坪村"
    );
    // 宁陕县 is the county (the roster's 县 column): a school in it is in
    // the county, and needs no proof of studying elsewhere.
    assert!(
        !findings.iter().any(|f| f["code"] == "EVIDENCE_MISSING"
            && f["file"] == "01_附件1_熨斗初级中学.csv"
            && f["row"] == 3),
        "{findings:#?}"
    );
    // Every table's data rows are counted.
    let rows: Vec<(String, u64)> = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["file"].as_str().unwrap().to_string(),
                i["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("01_附件1_熨斗初级中学.csv".to_string(), 2),
            ("02_熨斗镇中心小学学籍名单.csv".to_string(), 2),
            ("县局名单.csv".to_string(), 3),
        ]
    );
}
