//! A folder holding a file that cannot be read (an empty csv, a broken
//! workbook, an unrelated sheet): the round goes on without it, the file is
//! named with the reason on the terminal, in 报告.html and on every 核对说明
//! sheet, and the round is never called ready. Files given one by one still
//! stop the run.

use super::support::*;
use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_xlsxwriter::Workbook;
use testkit::synth::{self, Round, RoundSpec};

const OUT: &str = "核对结果";
const ROSTER: &str = "县局名单.xlsx";
const EMPTY_CSV: &str = "新建文本文档.csv";
const BROKEN: &str = "附件1_某小学.xlsx";
const UNRELATED: &str = "工作安排.xlsx";

/// A clean generated round in `round/`.
fn clean_round(name: &str) -> (Workdir, Round) {
    let mut spec = RoundSpec::yundou(40, 20261207);
    spec.defect_rate = 0.0;
    let round = synth::generate(&spec);
    let wd = Workdir::new(name);
    let d = wd.mkdir("round");
    std::fs::write(d.join("taizhang.toml"), round.spec.config_toml()).unwrap();
    synth::write_roster_xlsx(&round, &d.join(ROSTER)).unwrap();
    for (school, _) in &round.spec.schools {
        synth::write_survey_xlsx(&round, school, &d.join(Round::survey_file_name(school))).unwrap();
    }
    (wd, round)
}

/// Random-looking bytes (not a zip), seeded.
fn junk_bytes() -> Vec<u8> {
    let mut x: u32 = 0x2026_1207;
    (0..3000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A workbook with no table of the round: a work plan.
fn unrelated_xlsx() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "本周工作安排").unwrap();
    ws.write_string(1, 0, "周一").unwrap();
    ws.write_string(1, 1, "开会").unwrap();
    ws.write_string(2, 0, "周二").unwrap();
    ws.write_string(2, 1, "下村走访").unwrap();
    wb.save_to_buffer().unwrap()
}

fn sheet_text(path: &std::path::Path) -> Vec<String> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range("核对说明").unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("")
        })
        .collect()
}

#[test]
fn unreadable_files_in_a_folder_are_skipped_named_and_keep_the_round_from_being_ready() {
    let (wd, round) = clean_round("skipped_inputs_folder");
    // Without the bad files the round is ready: the skipped files alone
    // make the difference below.
    let clean = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(clean.status, 0, "{}", clean.all());
    assert!(clean.stdout.contains("可以上报"), "{}", clean.stdout);

    wd.write(format!("round/{EMPTY_CSV}"), b"");
    wd.write(format!("round/{BROKEN}"), junk_bytes());
    wd.write(format!("round/{UNRELATED}"), unrelated_xlsx());
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(out.status, 1, "{}", out.all());
    let all = out.all();
    for f in [EMPTY_CSV, BROKEN, UNRELATED] {
        let line = all
            .lines()
            .find(|l| l.contains("未能读取，已跳过") && l.contains(f))
            .unwrap_or_else(|| panic!("no skipped line for {f}: {all}"));
        // The reason follows the file name.
        assert!(line.len() > f.len() + 30, "{line}");
    }
    assert!(!out.stdout.contains("可以上报。"), "{}", out.stdout);
    assert!(out.stdout.contains("暂不能上报"), "{}", out.stdout);
    assert!(out.stdout.contains("有 3 个文件未能读取"), "{}", out.stdout);

    let json = wd.findings(OUT);
    assert_eq!(json["summary"]["ready"], false);
    let skipped: Vec<&str> = json["summary"]["skipped_inputs"]
        .as_array()
        .expect("skipped_inputs")
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    let mut want = vec![EMPTY_CSV, BROKEN, UNRELATED];
    want.sort();
    let mut got = skipped.clone();
    got.sort();
    assert_eq!(got, want);

    let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
    assert!(html.contains("data-ready=\"false\""));
    for f in [EMPTY_CSV, BROKEN, UNRELATED] {
        assert!(
            html.contains(&format!("未能读取，已跳过：{f}：")),
            "{f} not in 报告.html"
        );
    }

    // Every annotated copy says it on its 核对说明 sheet; the skipped files
    // get no copy.
    let mut copies = 0;
    for e in std::fs::read_dir(wd.join(OUT)).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".核对.xlsx") {
            continue;
        }
        assert!(
            ![EMPTY_CSV, BROKEN, UNRELATED]
                .iter()
                .any(|f| name.starts_with(f.rsplit_once('.').unwrap().0)),
            "copy of a skipped file: {name}"
        );
        copies += 1;
        let text = sheet_text(&p);
        assert!(text[0].contains("暂不能上报"), "{name}: {}", text[0]);
        for f in [EMPTY_CSV, BROKEN, UNRELATED] {
            assert!(
                text.iter()
                    .any(|l| l.contains(&format!("未能读取，已跳过：{f}："))),
                "{name} does not name {f}"
            );
        }
    }
    assert_eq!(copies, 1 + round.spec.schools.len());
}

#[test]
fn an_unreadable_file_given_by_name_still_stops_the_run() {
    let (wd, round) = clean_round("skipped_inputs_explicit");
    wd.write(format!("round/{BROKEN}"), junk_bytes());
    let school = &round.spec.schools[0].0;
    let out = wd.run(&[
        "reconcile",
        "--roster",
        &format!("round/{ROSTER}"),
        "--survey",
        &format!("round/{}", Round::survey_file_name(school)),
        "--survey",
        &format!("round/{BROKEN}"),
        "--out",
        OUT,
    ]);
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.all().contains(BROKEN), "{}", out.all());
    assert!(!out.all().contains("已跳过"), "{}", out.all());
}

#[test]
fn after_a_run_the_clerk_is_told_what_to_open_and_what_to_do_next() {
    let (wd, round) = clean_round("skipped_inputs_next_steps");
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(out.status, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    let verdict = lines
        .iter()
        .position(|l| l.starts_with("结论："))
        .expect("verdict line");
    let next = lines
        .iter()
        .position(|l| l.contains("先打开 报告.html 看结论") && l.contains("改完再运行一次"))
        .expect("next-step line");
    assert!(next > verdict, "{}", out.stdout);

    let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
    let at = html
        .find("先打开 报告.html 看结论")
        .expect("next steps in 报告.html");
    // In the verdict section, before the findings.
    assert!(at > html.find("id=\"verdict\"").unwrap());
    assert!(at < html.find("id=\"findings\"").unwrap());
    assert!(html.contains("不要改 核对结果 里的文件"));

    let school = &round.spec.schools[0].0;
    let copy = wd
        .join(OUT)
        .join(Round::survey_file_name(school).replace(".xlsx", ".核对.xlsx"));
    let text = sheet_text(&copy);
    assert!(text[0].contains("可以上报"), "{}", text[0]);
    assert!(text[2].contains("先打开 报告.html 看结论"), "{}", text[2]);
    assert!(text[2].contains("下次运行时会被覆盖"), "{}", text[2]);
    assert!(text[2].contains("不要改 核对结果 里的文件"), "{}", text[2]);
}

#[test]
fn when_the_only_survey_is_broken_the_stop_message_names_it() {
    let (wd, round) = clean_round("skipped_inputs_no_survey");
    for (school, _) in &round.spec.schools {
        std::fs::remove_file(wd.join("round").join(Round::survey_file_name(school))).unwrap();
    }
    wd.write(format!("round/{BROKEN}"), junk_bytes());
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.stderr.contains("没有找到摸底调查表"), "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "未能读取，已跳过：{BROKEN}：「{BROKEN}」不是有效的工作簿"
        )),
        "{}",
        out.all()
    );
}
