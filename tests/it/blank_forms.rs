//! A clerk who only double-clicks or drags gets the blank forms: such a run
//! writes 空白模板 (the four forms, filled from the config found) beside
//! 核对结果 when it does not exist yet; an explicit `reconcile` does not.

use super::support::*;
use super::templates_config::assert_filled;
use std::path::Path;
use std::process::Command;
use taizhang::templates::Annex;

/// The sample round copied into `dir`.
fn copy_samples(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for e in std::fs::read_dir(samples).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_file() && name != "make.sh" {
            std::fs::copy(&p, dir.join(name)).unwrap();
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

fn four_forms() -> Vec<String> {
    let mut v: Vec<String> = Annex::ALL
        .iter()
        .map(|a| a.file_name().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn folder_dropped_on_the_program_gets_blank_forms_once() {
    let wd = Workdir::new("blank-drop");
    let round = wd.join("摸底 材料");
    copy_samples(&round);
    // The folder as the only argument: what dropping it onto the program does.
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .arg("摸底 材料")
            .current_dir(wd.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(matches!(first.status.code(), Some(0 | 1)), "{stdout}");
    let blank = round.join("空白模板");
    assert_eq!(names(&blank), four_forms());
    assert_filled(&blank);
    assert!(
        stdout.contains("已生成空白表格") && stdout.contains("空白模板"),
        "{stdout}"
    );
    let results = wd.findings("摸底 材料/核对结果");

    // Kept as the clerk left it; the second run reads the same inputs.
    let mine = blank.join(Annex::Survey.file_name());
    std::fs::write(&mine, b"edited by the clerk").unwrap();
    let second = run();
    assert_eq!(second.status.code(), first.status.code());
    assert_eq!(std::fs::read(&mine).unwrap(), b"edited by the clerk");
    assert!(!String::from_utf8_lossy(&second.stdout).contains("已生成空白表格"));
    let again = wd.findings("摸底 材料/核对结果");
    assert_eq!(
        again["inputs"], results["inputs"],
        "空白模板 is not an input"
    );
    assert_eq!(cells(&again), cells(&results), "same findings");
}

/// Each finding's code and place.
fn cells(json: &serde_json::Value) -> Vec<String> {
    findings_array(json)
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}!{}{}",
                f["code"], f["file"], f["sheet"], f["column"], f["row"]
            )
        })
        .collect()
}

#[test]
fn files_dragged_get_blank_forms_beside_their_results() {
    let wd = Workdir::new("blank-files");
    copy_samples(&wd.join("round"));
    let out = wd.run(&[
        "round/县局名单.xlsx",
        "round/附件1_熨斗初级中学.xlsx",
        "round/附件1_熨斗镇中心小学.xls",
    ]);
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    assert!(wd.join("round/核对结果/findings.json").is_file());
    assert_eq!(names(&wd.join("round/空白模板")), four_forms());
    assert_filled(&wd.join("round/空白模板"));
}

#[test]
fn explicit_reconcile_writes_no_blank_forms() {
    let wd = Workdir::new("blank-explicit");
    copy_samples(&wd.join("round"));
    let out = wd.run(&["reconcile", "round"]);
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    assert!(wd.join("round/核对结果/findings.json").is_file());
    assert!(!wd.join("round/空白模板").exists());
    assert!(!out.stdout.contains("空白模板"), "{}", out.stdout);
}
