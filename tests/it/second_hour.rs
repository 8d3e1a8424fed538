//! A clerk's second hour: fix, re-run, share. Masked IDs that cannot be
//! rebuilt from what is printed beside them.

use super::support::*;
use testkit::synth::{self, Round, RoundSpec};

const OUT: &str = "核对结果";

/// A generated round with defects, written into `round/` of a workdir.
fn write_round(wd: &Workdir, round: &Round) {
    let d = wd.mkdir("round");
    std::fs::write(d.join("taizhang.toml"), round.spec.config_toml()).unwrap();
    synth::write_roster_xlsx(round, &d.join("县局名单.xlsx")).unwrap();
    for (school, _) in &round.spec.schools {
        let p = d.join(Round::survey_file_name(school));
        synth::write_survey_xlsx(round, school, &p).unwrap();
    }
}

/// Every 18-character ID of the round's inputs (roster and survey rows).
fn input_ids(round: &Round) -> Vec<String> {
    let mut ids: Vec<String> = round.children.iter().map(|c| c.id.clone()).collect();
    ids.extend(round.surveyed.iter().map(|(_, r)| r.id.trim().to_string()));
    ids.retain(|id| id.chars().count() == 18);
    ids.sort();
    ids.dedup();
    ids
}

/// Sets positions 15 and 16 (1-based, sequence digits) of `id` to other
/// digits and recomputes the check digit: a valid ID of the same region,
/// birth date and sex that differs from `id` only inside the mask.
fn other_sequence(id: &str) -> String {
    let mut b: Vec<u8> = id.as_bytes()[..17].to_vec();
    for i in [14, 15] {
        b[i] = b'0' + (b[i] - b'0' + 3) % 10;
    }
    testkit::ids::with_check(&String::from_utf8(b).unwrap())
}

#[test]
fn masked_ids_cannot_be_rebuilt_and_id_differs_names_positions() {
    let mut spec = RoundSpec::yundou(120, 20261206);
    spec.defect_rate = 0.3;
    let mut round = synth::generate(&spec);
    // One clean survey row gets an ID that differs from the roster's only in
    // the sequence digits (and so in the check digit).
    let k = round
        .surveyed
        .iter()
        .position(|(_, r)| r.kinds.is_empty() && r.id.len() == 18 && !r.id_as_number)
        .expect("a clean survey row");
    let roster_id = round.surveyed[k].1.id.clone();
    let changed = other_sequence(&roster_id);
    round.surveyed[k].1.id = changed.clone();
    let file = Round::survey_file_name(&round.surveyed[k].1.surveyed_by);
    let row = round.survey_excel_row(k);

    let wd = Workdir::new("mask-hold");
    write_round(&wd, &round);
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(out.status, 1, "{}", out.all());
    let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
    let terminal = out.all();
    assert!(terminal.contains("610922*"), "masked IDs shown: {terminal}");

    let ids = input_ids(&round);
    assert!(ids.contains(&changed) && ids.len() > 100, "{}", ids.len());
    for id in &ids {
        let prefix17 = &id[..17];
        for (what, text) in [("terminal", &terminal), ("报告.html", &html)] {
            assert!(
                !text.contains(prefix17),
                "{what} shows the first 17 characters of {id}"
            );
        }
    }
    // No masked form shows a digit after the stars but the check digit.
    let seq_shown = regex::Regex::new(r"[0-9]{6}\*+[0-9Xx]{2}").unwrap();
    for (what, text) in [("terminal", &terminal), ("报告.html", &html)] {
        let m = seq_shown.find(text).map(|m| m.as_str());
        assert!(m.is_none(), "{what} shows sequence digits: {m:?}");
    }
    assert!(full_ids_in(&terminal).is_empty());
    assert!(full_ids_in(&html).is_empty());

    // The finding names the differing positions, which the mask hides.
    let json = wd.findings(OUT);
    let f = findings_array(&json)
        .iter()
        .find(|f| f["code"] == "ID_DIFFERS" && f["file"] == file.as_str() && f["row"] == row)
        .unwrap_or_else(|| panic!("no ID_DIFFERS at {file} row {row}"));
    let message = f["message"].as_str().unwrap();
    let positions = if changed.ends_with(&roster_id[17..]) {
        "第15、16位不同"
    } else {
        "第15、16、18位不同"
    };
    assert!(message.contains(positions), "{message}");
    assert!(html.contains(positions), "报告.html names the positions");
    // Both IDs mask alike except perhaps for the check digit.
    assert!(html.contains(&format!("{}***********", &roster_id[..6])));
}

/// A round written with its config as `name`, encoded by `encode`.
fn round_with_config(wd: &Workdir, round: &Round, name: &str, encode: impl Fn(&str) -> Vec<u8>) {
    write_round(wd, round);
    std::fs::remove_file(wd.join("round/taizhang.toml")).unwrap();
    wd.write(format!("round/{name}"), encode(&round.spec.config_toml()));
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        v.extend(u.to_le_bytes());
    }
    v
}

#[test]
fn config_saved_by_notepad_is_found_and_decoded() {
    let round = synth::generate(&RoundSpec::yundou(40, 7));
    type Enc = fn(&str) -> Vec<u8>;
    let cases: [(&str, Enc); 3] = [
        ("taizhang.toml.txt", |s| s.as_bytes().to_vec()),
        ("taizhang.toml", gbk),
        ("taizhang.toml", utf16le_bom),
    ];
    for (name, enc) in cases {
        let wd = Workdir::new("cfg-notepad");
        round_with_config(&wd, &round, name, enc);
        let out = wd.run(&["reconcile", "round", "--out", OUT]);
        assert!(matches!(out.status, 0 | 1), "{name}: {}", out.all());
        assert!(out.stdout.contains(name), "{name} named: {}", out.stdout);
        assert!(
            out.stdout.contains("2022—2023学年") && out.stdout.contains("2006-09-01 至 2016-08-31"),
            "{name}: year and window stated: {}",
            out.stdout
        );
        // The township (Chinese text in the config) was decoded.
        let json = wd.findings(OUT);
        assert_eq!(json["school_year"], 2022, "{name}");
        let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
        assert!(html.contains("熨斗镇"), "{name}: township decoded");
    }
}

#[test]
fn no_config_says_the_year_was_inferred() {
    let round = synth::generate(&RoundSpec::yundou(40, 8));
    let wd = Workdir::new("cfg-none");
    write_round(&wd, &round);
    std::fs::remove_file(wd.join("round/taizhang.toml")).unwrap();
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    assert!(out.stdout.contains("未找到配置文件"), "{}", out.stdout);
    assert!(out.stdout.contains("推定"), "{}", out.stdout);
}

#[test]
fn check_uses_the_config_beside_its_file() {
    let round = synth::generate(&RoundSpec::yundou(40, 9));
    let wd = Workdir::new("cfg-check");
    write_round(&wd, &round);
    let school = &round.spec.schools[0].0;
    let file = format!("round/{}", Round::survey_file_name(school));
    let out = wd.run(&["check", &file, "--out", "检查结果"]);
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    assert!(
        out.stdout.contains("taizhang.toml") && out.stdout.contains("2022—2023学年"),
        "{}",
        out.stdout
    );
}

#[test]
fn out_of_range_school_year_is_a_chinese_config_error() {
    let round = synth::generate(&RoundSpec::yundou(20, 10));
    let wd = Workdir::new("cfg-year");
    write_round(&wd, &round);
    let toml = round
        .spec
        .config_toml()
        .replace("school_year = 2022", "school_year = 300000");
    wd.write("round/taizhang.toml", toml);
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(out.status, 2, "{}", out.all());
    let err = out.stderr;
    assert!(
        err.contains("taizhang.toml") && err.contains("300000"),
        "{err}"
    );
    assert!(err.contains("学年"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn files_and_folders_without_a_command_are_reconciled() {
    let round = synth::generate(&RoundSpec::yundou(40, 11));
    let wd = Workdir::new("implicit");
    write_round(&wd, &round);
    // Files dragged onto the program: results beside them, config found.
    let mut args = vec!["round/县局名单.xlsx".to_string()];
    for (school, _) in &round.spec.schools {
        args.push(format!("round/{}", Round::survey_file_name(school)));
    }
    let out = wd.run(&args);
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(!out.all().contains("unrecognized"), "{}", out.all());
    let json = wd.findings("round/核对结果");
    assert_eq!(json["school_year"], 2022);
    assert!(!findings_array(&json).is_empty());
    // A folder with options.
    let out = wd.run(&["round", "--out", "另存结果"]);
    assert_eq!(out.status, 1, "{}", out.all());
    let again = wd.findings("另存结果");
    assert_eq!(
        findings_array(&again).len(),
        findings_array(&json).len(),
        "the same round"
    );
}

#[test]
fn argument_mistakes_are_explained_in_chinese() {
    let wd = Workdir::new("arg-mistakes");
    let out = wd.run(&["不存在的表格.xlsx"]);
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.stderr.contains("不存在的表格.xlsx"), "{}", out.stderr);
    assert!(out.stderr.contains("找不到文件或文件夹"), "{}", out.stderr);
    assert!(!out.stderr.contains("unrecognized"), "{}", out.stderr);
    let out = wd.run(&["reconcile", ".", "--bogus"]);
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(
        out.stderr.contains("无法识别的选项“--bogus”"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("unexpected argument"),
        "{}",
        out.stderr
    );
}
