//! The round as the library runs it, seen through the binary: inputs that
//! share a file name stay two inputs (their own findings, their own
//! annotated copy), config mistakes stop with a Chinese message naming the
//! file and the key, and the source keeps its one-way import structure.

use super::check::{all_codes_survey, got, write_config};
use super::support::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use testkit::synth::{self, Round, RoundSpec};

const SURVEY: &str = "附件1_熨斗初级中学.xlsx";

/// The comments parts of an annotated copy, one after the other.
fn comments_xml(copy: &Path) -> String {
    let file = std::fs::File::open(copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        if e.name().unwrap().starts_with("xl/comments") {
            e.read_to_string(&mut all).unwrap();
        }
    }
    all
}

/// The cells (`F17`) holding a comment in an annotated copy, on any sheet.
fn commented_cells(copy: &Path) -> BTreeSet<String> {
    comments_xml(copy)
        .split("<comment ref=\"")
        .skip(1)
        .map(|part| part.split('"').next().unwrap().to_string())
        .collect()
}

/// The cells (`F17`) of the findings findings.json places in `file`.
fn finding_cells(json: &Value, file: &str) -> BTreeSet<String> {
    findings_array(json)
        .iter()
        .filter(|f| f["file"] == file)
        .map(|f| format!("{}{}", f["column"].as_str().unwrap(), f["row"]))
        .collect()
}

fn input_files(json: &Value) -> BTreeSet<String> {
    json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn check_of_two_files_with_the_same_name_keeps_them_apart() {
    let w = Workdir::new("same-name-check");
    write_config(&w);
    let a = all_codes_survey(2022);
    let b = all_codes_survey(4711);
    w.write(format!("甲/{SURVEY}"), a.grid.xlsx());
    w.write(format!("乙/{SURVEY}"), b.grid.xlsx());
    let out = w.run(&[
        "check",
        &format!("甲/{SURVEY}"),
        &format!("乙/{SURVEY}"),
        "--config",
        "taizhang.toml",
        "--out",
        "out",
    ]);
    assert_eq!(
        out.status,
        1,
        "errors found, outputs written\n{}",
        out.all()
    );
    assert!(!out.all().contains("无法写入"), "{}", out.all());

    let json = w.findings("out");
    let (la, lb) = (format!("甲/{SURVEY}"), format!("乙/{SURVEY}"));
    assert_eq!(input_files(&json), BTreeSet::from([la.clone(), lb.clone()]));
    // Each file's findings are its own, at their cells.
    assert_eq!(got(&json, &la), a.expected);
    let not_dup = |v: Vec<_>| -> Vec<_> {
        v.into_iter()
            .filter(|e: &super::check::Exp| e.code != "DUPLICATE_ID")
            .collect()
    };
    assert_eq!(not_dup(got(&json, &lb)), not_dup(b.expected.clone()));
    // The fixed rows both fixtures hold are one child entered in both files:
    // the second file's finding points at the first file by its name.
    let cross: Vec<&Value> = findings_array(&json)
        .iter()
        .filter(|f| f["file"] == lb.as_str() && f["code"] == "DUPLICATE_ID")
        .filter(|f| f["related"][0]["file"] == la.as_str())
        .collect();
    assert!(!cross.is_empty(), "{}", out.stdout);
    for f in &cross {
        assert!(
            f["message"].as_str().unwrap().contains(&la),
            "the message names the other file: {f}"
        );
    }
    assert!(
        got(&json, SURVEY).is_empty(),
        "no finding under the bare name"
    );
    // The terminal says which file.
    assert!(out.stdout.contains(&format!("{la}:")), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("{lb}:")), "{}", out.stdout);

    // One copy each, with its own file's comments.
    let copy_a = w.join("out/甲_附件1_熨斗初级中学.核对.xlsx");
    let copy_b = w.join("out/乙_附件1_熨斗初级中学.核对.xlsx");
    assert_eq!(commented_cells(&copy_a), finding_cells(&json, &la));
    assert_eq!(commented_cells(&copy_b), finding_cells(&json, &lb));
    // The copy of 乙 says where the child was entered first; 甲's does not.
    assert!(comments_xml(&copy_b).contains(&format!("与{la}（")));
    assert!(!comments_xml(&copy_a).contains(&la));
    assert!(!w.join("out/附件1_熨斗初级中学.核对.xlsx").exists());
}

#[test]
fn reconcile_with_a_survey_named_like_one_of_the_folder_keeps_both() {
    let w = Workdir::new("same-name-reconcile");
    let spec = RoundSpec::yundou(120, 31);
    let round = synth::generate(&spec);
    let dir = w.mkdir("round");
    std::fs::write(dir.join("taizhang.toml"), spec.config_toml()).unwrap();
    synth::write_roster_xlsx(&round, &dir.join("县局名单.xlsx")).unwrap();
    for (school, _) in &spec.schools {
        synth::write_survey_xlsx(&round, school, &dir.join(Round::survey_file_name(school)))
            .unwrap();
    }
    // A late survey of the first school, another seed's children, under the
    // same file name in another folder.
    let school = &spec.schools[0].0;
    let name = Round::survey_file_name(school);
    let late = synth::generate(&RoundSpec::yundou(40, 77));
    w.mkdir("补报");
    synth::write_survey_xlsx(&late, school, &w.join(format!("补报/{name}"))).unwrap();

    let out = w.run(&[
        "reconcile",
        "round",
        "--survey",
        &format!("补报/{name}"),
        "--out",
        "out",
    ]);
    assert_ne!(out.status, 2, "{}", out.all());
    assert!(!out.all().contains("无法写入"), "{}", out.all());
    let json = w.findings("out");
    let (in_folder, late_label) = (format!("round/{name}"), format!("补报/{name}"));
    let files = input_files(&json);
    assert!(files.contains(&in_folder), "{files:?}");
    assert!(files.contains(&late_label), "{files:?}");
    assert!(!files.contains(&name), "{files:?}");
    // The late children are not in the roster: found in the late file.
    let late_cells = finding_cells(&json, &late_label);
    assert!(!late_cells.is_empty());
    let stem = name.trim_end_matches(".xlsx");
    let copy_folder = w.join(format!("out/round_{stem}.核对.xlsx"));
    let copy_late = w.join(format!("out/补报_{stem}.核对.xlsx"));
    assert_eq!(commented_cells(&copy_late), late_cells);
    assert_eq!(
        commented_cells(&copy_folder),
        finding_cells(&json, &in_folder)
    );
    // Links name the survey file they lead to.
    let linked_late = links_array(&json)
        .iter()
        .filter(|l| l["survey"]["file"] == late_label.as_str())
        .count();
    let linked_folder = links_array(&json)
        .iter()
        .filter(|l| l["survey"]["file"] == in_folder.as_str())
        .count();
    assert!(linked_folder > 0);
    assert!(linked_late < linked_folder);
}

/// Every config mistake stops the run (exit 2) with a Chinese message naming
/// the config file and the key; a file that is not valid TOML also gets the
/// line and column. No English from the TOML reader reaches the clerk.
#[test]
fn config_mistakes_are_named_in_chinese_with_file_key_and_place() {
    let w = Workdir::new("config-mistakes");
    w.write(SURVEY, all_codes_survey(2022).grid.xlsx());
    let cases: &[(&str, &[&str])] = &[
        (
            "school_year = 300000",
            &["school_year", "300000", "2000 到 2100"],
        ),
        ("school_year = 3000000000", &["school_year", "3000000000"]),
        ("school_year = \"2022\"", &["school_year", "不加引号"]),
        (
            "township = 熨斗镇",
            &["第 1 行第 12 列", "township", "双引号"],
        ),
        (
            "school_year = 2022\nschool_year = 2023",
            &["第 2 行第 1 列", "school_year", "两次"],
        ),
        (
            "age_from = \"2010-13-01\"",
            &["age_from", "2010-13-01", "年-月-日"],
        ),
        (
            "[[schools]]\nvillages = [\"金星村\"]",
            &["[[schools]]", "name"],
        ),
        (
            "[[schools]]\nname = \"熨斗初级中学\"\nvillages = \"金星村\"",
            &["villages", "熨斗初级中学", "列表"],
        ),
        (
            "[status_words]\n\"在外务工\" = \"打工\"",
            &["在外务工", "打工", "辍学"],
        ),
        ("[status_words]\n\"在外务工\" = 3", &["在外务工", "双引号"]),
        ("school_yaer = 2022", &["school_yaer", "school_year"]),
        ("schools = [1", &["第 1 行第 13 列", "schools"]),
        ("[status_words\n", &["第 1 行", "[status_words]"]),
        ("township = \"熨斗镇", &["第 1 行", "township", "引号"]),
    ];
    for (text, wanted) in cases {
        std::fs::write(w.join("taizhang.toml"), format!("{text}\n")).unwrap();
        let out = w.run(&["check", SURVEY, "--out", "out"]);
        let err = out.stderr.trim();
        assert_eq!(out.status, 2, "{text}: {}", out.all());
        assert!(err.contains("taizhang.toml"), "{text}: {err}");
        for want in *wanted {
            assert!(err.contains(want), "{text}: wanted “{want}” in {err}");
        }
        for english in [
            "TOML parse",
            "expected",
            "invalid",
            "duplicate",
            "unclosed",
            "quoted",
            "error",
        ] {
            assert!(
                !err.contains(english),
                "{text}: English “{english}” in {err}"
            );
        }
        assert!(!err.contains('\n'), "one line: {err}");
    }
    // A TOML date is a date too.
    std::fs::write(
        w.join("taizhang.toml"),
        "school_year = 2022\nage_from = 2006-09-01\nage_to = \"2016-08-31\"\n",
    )
    .unwrap();
    let out = w.run(&["check", SURVEY, "--out", "out"]);
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("适龄儿童出生于 2006-09-01 至 2016-08-31")
    );
    // A config file that is not there.
    let out = w.run(&["check", SURVEY, "--config", "没有.toml", "--out", "out"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("无法读取配置文件 没有.toml：找不到这个文件"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("No such file"), "{}", out.stderr);
}
