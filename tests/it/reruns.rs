//! Re-runs of `taizhang reconcile` on the same output folder: what was fixed,
//! what is new, matched by child and problem, never by row; the history
//! folder, `--since`, and what the terminal, 核对说明 and 报告.html say.

use super::support::*;
use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;
use taizhang::derive;
use taizhang::model::Field;
use taizhang::templates::{Annex, AnnexData, TCell, build_annex};
use testkit::synth::{self, Defect, Rng, Round, RoundSpec};

const OUT: &str = "核对结果";
const ROSTER: &str = "县局名单.xlsx";
const HISTORY: &str = "核对结果/历史";

/// A generated round written into `round/` of a workdir, rewritable after
/// edits.
struct Clerk {
    wd: Workdir,
    round: Round,
}

impl Clerk {
    fn new(name: &str) -> Clerk {
        let mut spec = RoundSpec::yundou(90, 20261206);
        spec.defect_rate = 0.15;
        let round = synth::generate(&spec);
        let wd = Workdir::new(name);
        let d = wd.mkdir("round");
        std::fs::write(d.join("taizhang.toml"), round.spec.config_toml()).unwrap();
        synth::write_roster_xlsx(&round, &d.join(ROSTER)).unwrap();
        let c = Clerk { wd, round };
        for (school, _) in &c.round.spec.schools {
            c.write_survey(school);
        }
        c
    }

    fn write_survey(&self, school: &str) {
        let p = self.wd.join("round").join(Round::survey_file_name(school));
        synth::write_survey_xlsx(&self.round, school, &p).unwrap();
    }

    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["reconcile", "round", "--out", OUT];
        args.extend_from_slice(extra);
        self.wd.run(&args)
    }

    fn history(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.wd.join(HISTORY))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        // In time order: a second run within the same second is `…-2`.
        v.sort_by_key(|n| {
            let stem = n.trim_end_matches(".findings.json");
            let seq: u32 = stem.get(16..).and_then(|s| s.parse().ok()).unwrap_or(1);
            (stem.get(..15).unwrap_or(stem).to_string(), seq, n.clone())
        });
        v
    }
}

/// The run time a history file's name holds: `2026-12-06 15:14:07`.
fn time_of(history_file: &str) -> String {
    let s = history_file;
    format!(
        "{}-{}-{} {}:{}:{}",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

/// (code, file, row, column) of a finding.
fn at(f: &Value) -> (String, String, u64, String) {
    (
        f["code"].as_str().unwrap().to_string(),
        f["file"].as_str().unwrap().to_string(),
        f["row"].as_u64().unwrap(),
        f["column"].as_str().unwrap().to_string(),
    )
}

fn sorted(mut v: Vec<(String, String, u64, String)>) -> Vec<(String, String, u64, String)> {
    v.sort();
    v
}

/// The edits of a clerk between two runs, in the first school's file:
/// correct one child's ID (whose only defect was a wrong check digit), add a
/// child the roster does not have (with a wrong check digit of its own) in
/// the middle of the file, and turn the file's row order around; and the
/// roster's row order turned around.
struct Edits {
    file: String,
    /// Excel row of the corrected child before the edits.
    fixed_row_before: u32,
    /// The added child's name.
    new_name: String,
}

/// A wrong check digit typed into the ID of a clean row of the first
/// school's file (before the first run); returns the row's index.
fn mistype_an_id(c: &mut Clerk) -> usize {
    let school = c.round.spec.schools[0].0.clone();
    let target = (0..c.round.surveyed.len())
        .filter(|&i| {
            let r = &c.round.surveyed[i].1;
            r.surveyed_by == school && r.kinds.is_empty() && !r.id_as_number
        })
        .nth(3)
        .expect("a clean survey row");
    let id = &mut c.round.surveyed[target].1.id;
    let wrong = if id.ends_with('0') { '1' } else { '0' };
    *id = format!("{}{wrong}", &id[..17]);
    c.round.surveyed[target].1.kinds = vec![Defect::IdCheckDigit];
    c.write_survey(&school);
    target
}

fn edit_round(c: &mut Clerk, target: usize) -> Edits {
    let school = c.round.spec.schools[0].0.clone();
    let file = Round::survey_file_name(&school);
    let rows = c.round.survey_excel_rows();
    let fixed_row_before = rows[target];
    let child = c.round.surveyed[target].0;
    c.round.surveyed[target].1.id = c.round.children[child].id.clone();
    c.round.surveyed[target].1.kinds.clear();

    // A new child: a clean row of the same school as the pattern, with a new
    // name and an ID of the same birth date and sex whose check digit is wrong.
    let pattern = (0..c.round.surveyed.len())
        .find(|&i| {
            let r = &c.round.surveyed[i].1;
            r.surveyed_by == school && r.kinds.is_empty() && !r.id_as_number && i != target
        })
        .expect("a clean survey row");
    let (pchild, prow) = c.round.surveyed[pattern].clone();
    let mut rng = Rng::new(77);
    let mut row = prow.clone();
    row.name = synth::fake_name(&mut rng, None);
    let kid = &c.round.children[pchild];
    let valid = synth::make_id(&mut rng, &kid.id[..6], kid.birth, kid.sex);
    let wrong = if valid.ends_with('0') { '1' } else { '0' };
    row.id = format!("{}{wrong}", &valid[..17]);
    row.household_no = format!("new-{}", row.household_no);
    row.merge_household = false;
    row.duplicate_of = None;
    let new_name = row.name.clone();
    // Same child index as the pattern: the truth is not asked for here.
    let idx: Vec<usize> = (0..c.round.surveyed.len())
        .filter(|&i| c.round.surveyed[i].1.surveyed_by == school)
        .collect();
    let mid = idx[idx.len() / 2];
    c.round.surveyed.insert(mid, (pchild, row));

    // Rows sorted the other way round.
    let idx: Vec<usize> = (0..c.round.surveyed.len())
        .filter(|&i| c.round.surveyed[i].1.surveyed_by == school)
        .collect();
    let mut moved: Vec<(usize, synth::SurveyRow)> =
        idx.iter().map(|&i| c.round.surveyed[i].clone()).collect();
    moved.reverse();
    for (k, &i) in idx.iter().enumerate() {
        c.round.surveyed[i] = moved[k].clone();
    }
    c.write_survey(&school);
    // The county roster sorted the other way round too.
    c.round.roster.reverse();
    c.round.roster_expected.reverse();
    synth::write_roster_xlsx(&c.round, &c.wd.join("round").join(ROSTER)).unwrap();
    Edits {
        file,
        fixed_row_before,
        new_name,
    }
}

/// The Excel row of the child named `name` in `file` after the edits.
fn row_of_name(c: &Clerk, file: &str, name: &str) -> u64 {
    let rows = c.round.survey_excel_rows();
    (0..c.round.surveyed.len())
        .find(|&i| {
            let r = &c.round.surveyed[i].1;
            Round::survey_file_name(&r.surveyed_by) == file && r.name == name
        })
        .map(|i| rows[i] as u64)
        .expect("row of the new child")
}

fn summary_sheet(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range("核对说明").unwrap();
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut grid = vec![Vec::new(); (r0 as usize) + range.height()];
    for (r, row) in range.rows().enumerate() {
        let mut line = vec![String::new(); c0 as usize];
        line.extend(row.iter().map(|d| match d {
            Data::Empty => String::new(),
            other => other.to_string(),
        }));
        grid[r0 as usize + r] = line;
    }
    grid
}

#[test]
fn second_run_reports_fixed_new_and_unchanged_by_child_not_by_row() {
    let mut c = Clerk::new("reruns-main");
    let target = mistype_an_id(&mut c);
    let first = c.run(&[]);
    assert_eq!(first.status, 1, "{}", first.all());
    let json1 = c.wd.findings(OUT);
    assert!(json1["changes"].is_null(), "{}", json1["changes"]);
    assert!(
        findings_array(&json1)
            .iter()
            .all(|f| f.get("since_last").is_none())
    );
    assert!(!first.stdout.contains("比上次"), "{}", first.stdout);
    let first_history = c.history();
    assert_eq!(first_history.len(), 1);
    let first_time = time_of(&first_history[0]);

    let edits = edit_round(&mut c, target);
    let second = c.run(&[]);
    assert_eq!(second.status, 1, "{}", second.all());
    let json2 = c.wd.findings(OUT);
    let changes = &json2["changes"];
    assert!(changes.is_object(), "{json2}");

    // Fixed: exactly the first run's findings on the corrected child's row.
    let expected_fixed: Vec<_> = findings_array(&json1)
        .iter()
        .filter(|f| f["file"] == edits.file.as_str() && f["row"] == edits.fixed_row_before)
        .map(at)
        .collect();
    assert!(
        expected_fixed.iter().any(|f| f.0 == "ID_CHECKSUM"),
        "{expected_fixed:?}"
    );
    let fixed: Vec<_> = changes["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(at)
        .collect();
    assert_eq!(sorted(fixed), sorted(expected_fixed.clone()));

    // New: exactly the findings on the added child's row.
    let new_row = row_of_name(&c, &edits.file, &edits.new_name);
    let f2 = findings_array(&json2);
    let on_new: Vec<&Value> = f2
        .iter()
        .filter(|f| f["file"] == edits.file.as_str() && f["row"] == new_row)
        .collect();
    let codes: Vec<&str> = on_new.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"ID_CHECKSUM"), "{codes:?}");
    assert!(codes.contains(&"NOT_IN_ROSTER"), "{codes:?}");
    for f in f2 {
        let is_new = f["file"] == edits.file.as_str() && f["row"] == new_row;
        let want = if is_new { "new" } else { "unchanged" };
        assert_eq!(f["since_last"], want, "{f}");
    }
    assert_eq!(changes["new"], on_new.len());
    let unchanged = findings_array(&json1).len() - expected_fixed.len();
    assert_eq!(changes["unchanged"], unchanged);
    assert_eq!(f2.len(), unchanged + on_new.len());
    assert_eq!(changes["previous_run"], first_time.as_str());
    // The rows really moved: most unchanged findings of the edited file sit
    // on another row now.
    for (file, least) in [(edits.file.as_str(), 5), (ROSTER, 1)] {
        let moved = f2
            .iter()
            .filter(|f| f["file"] == file && f["since_last"] == "unchanged")
            .filter(|f| !findings_array(&json1).iter().any(|g| at(g) == at(f)))
            .count();
        assert!(moved >= least, "only {moved} findings moved in {file}");
    }

    // Terminal: the change first, then the new errors, then the verdict.
    let line = format!(
        "比上次（{}）：已改正 {} 条，新出现 {} 条，仍有 {} 条。",
        first_time,
        changes["fixed"].as_array().unwrap().len(),
        on_new.len(),
        unchanged
    );
    let out = &second.stdout;
    let p_line = out.find(&line).unwrap_or_else(|| panic!("{line}\n{out}"));
    let new_error = on_new.iter().find(|f| f["code"] == "ID_CHECKSUM").unwrap();
    let cell = format!(
        "{}:Sheet1!{}{}  ID_CHECKSUM",
        edits.file,
        new_error["column"].as_str().unwrap(),
        new_row
    );
    let p_list = out.find("新出现的错误：").expect("new errors listed");
    let p_cell = out[p_list..].find(&cell).map(|p| p + p_list);
    let p_verdict = out.find("结论：").unwrap();
    assert!(
        p_line < p_list && p_cell.is_some_and(|p| p < p_verdict),
        "{out}"
    );
    // Only new errors are listed there: no unchanged error in between.
    let between = &out[p_list..p_verdict];
    assert_eq!(between.matches("  ID_").count(), 1, "{between}");

    // 核对说明 of the edited file: new findings marked, the fixed ones listed.
    let copy =
        c.wd.join(OUT)
            .join(edits.file.replace(".xlsx", ".核对.xlsx"));
    let grid = summary_sheet(&copy);
    let marked: Vec<String> = grid
        .iter()
        .filter(|r| r.first().is_some_and(|a| a.ends_with("（新）")))
        .map(|r| r[6].clone())
        .collect();
    let mut want_marked: Vec<String> = on_new
        .iter()
        .map(|f| format!("Sheet1!{}{}", f["column"].as_str().unwrap(), new_row))
        .collect();
    want_marked.sort();
    let mut marked_sorted = marked.clone();
    marked_sorted.sort();
    assert_eq!(marked_sorted, want_marked, "{grid:?}");
    assert!(grid[1][0].starts_with(&line), "{:?}", grid[1]);
    let head = format!("本文件比上次已改正的问题（{} 条）", expected_fixed.len());
    let h = grid
        .iter()
        .position(|r| r.get(1) == Some(&head))
        .unwrap_or_else(|| panic!("{head} in {grid:?}"));
    let listed: Vec<(String, String)> = grid[h + 2..h + 2 + expected_fixed.len()]
        .iter()
        .map(|r| (r[2].clone(), r[6].clone()))
        .collect();
    let mut want: Vec<(String, String)> = expected_fixed
        .iter()
        .map(|f| (f.0.clone(), format!("{}{}", f.3, f.2)))
        .collect();
    want.sort();
    let mut listed = listed;
    listed.sort();
    assert_eq!(listed, want);

    // 报告.html: the change at the top, the chart over both runs.
    let html = std::fs::read_to_string(c.wd.join(OUT).join("报告.html")).unwrap();
    let p_changes = html.find("id=\"changes\"").expect("changes section");
    assert!(p_changes < html.find("id=\"verdict\"").unwrap());
    assert!(html.contains(&format!(
        "data-fixed=\"{}\" data-new=\"{}\" data-unchanged=\"{}\"",
        expected_fixed.len(),
        on_new.len(),
        unchanged
    )));
    assert!(html.contains(&line));
    // The findings table marks the new rows and filters on them.
    assert_eq!(
        html.matches("data-since-last=\"new\"").count(),
        on_new.len()
    );
    assert_eq!(
        html.matches("data-since-last=\"unchanged\"").count(),
        unchanged
    );
    assert!(html.contains("<select id=\"f-since\" data-key=\"since\">"));
    let chart = &html[html.find("id=\"trend-chart\"").expect("trend chart")..];
    assert!(
        chart.starts_with("id=\"trend-chart\" data-runs=\"2\""),
        "{}",
        &chart[..80]
    );
    let chart = &chart[..chart.find("</figure>").unwrap()];
    // The first run by its time, this one as 本次.
    assert!(
        chart.contains(&format!("data-run=\"{first_time}\"")),
        "{chart}"
    );
    assert!(chart.contains("data-run=\"本次\""), "{chart}");
    for (series, n1, n2) in [
        (
            "错误",
            &json1["summary"]["errors"],
            &json2["summary"]["errors"],
        ),
        (
            "警告",
            &json1["summary"]["warnings"],
            &json2["summary"]["warnings"],
        ),
        (
            "名单中未摸底",
            &json1["summary"]["roster_only"],
            &json2["summary"]["roster_only"],
        ),
    ] {
        let g = &chart[chart
            .find(&format!("data-series=\"{series}\""))
            .unwrap_or_else(|| panic!("{series}"))..];
        let g = &g[..g.find("</g>").unwrap()];
        let counts: Vec<&str> = g
            .split("data-count=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(counts, [n1.to_string(), n2.to_string()], "{series}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("<script src"));

    // findings.csv: a last column 比上次.
    let csv = std::fs::read_to_string(c.wd.join(OUT).join("findings.csv")).unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert!(lines.next().unwrap().ends_with(",比上次"));
    let last: Vec<&str> = lines.map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(last.len(), f2.len());
    assert_eq!(
        last.iter().filter(|x| **x == "新出现").count(),
        on_new.len()
    );
    assert_eq!(last.iter().filter(|x| **x == "仍有").count(), unchanged);

    // The history: this run's findings, without the links.
    let kept = c.history();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let text = std::fs::read_to_string(c.wd.join(HISTORY).join(&kept[1])).unwrap();
    let entry: Value = serde_json::from_str(&text).unwrap();
    assert!(
        entry["findings"] == json2["findings"],
        "history: other findings"
    );
    assert!(
        entry["changes"] == json2["changes"],
        "history: other changes"
    );
    assert_eq!(entry["links"], Value::Array(vec![]));
    assert!(!links_array(&json2).is_empty());

    // The history deleted: the next run is a first run again.
    std::fs::remove_dir_all(c.wd.join(HISTORY)).unwrap();
    let third = c.run(&[]);
    assert_eq!(third.status, 1, "{}", third.all());
    let json3 = c.wd.findings(OUT);
    assert!(json3["changes"].is_null());
    assert!(
        findings_array(&json3)
            .iter()
            .all(|f| f.get("since_last").is_none())
    );
    assert!(!third.stdout.contains("比上次"), "{}", third.stdout);
    let html = std::fs::read_to_string(c.wd.join(OUT).join("报告.html")).unwrap();
    assert!(html.contains("data-first-run=\"true\""));
    assert!(html.contains("id=\"trend-chart\" data-runs=\"1\""));
    assert_eq!(c.history().len(), 1);
}

#[test]
fn since_compares_with_the_given_file_and_refuses_other_layouts() {
    let mut c = Clerk::new("reruns-since");
    let target = mistype_an_id(&mut c);
    assert_eq!(c.run(&[]).status, 1);
    let json1 = c.wd.findings(OUT);
    let before_recheck = c.wd.join("县复核前.findings.json");
    std::fs::copy(c.wd.join(OUT).join("findings.json"), &before_recheck).unwrap();
    edit_round(&mut c, target);
    assert_eq!(c.run(&[]).status, 1);
    let json2 = c.wd.findings(OUT);
    let second_time = time_of(c.history().last().unwrap());
    // Again, unchanged inputs: against the history nothing changed…
    assert_eq!(c.run(&[]).status, 1);
    let json3 = c.wd.findings(OUT);
    assert_eq!(json3["changes"]["fixed"].as_array().unwrap().len(), 0);
    assert_eq!(json3["changes"]["new"], 0);
    assert_eq!(json3["changes"]["previous_run"], second_time.as_str());
    // …against the file from before the re-check, what run 2 said.
    let run = c.run(&["--since", "县复核前.findings.json"]);
    assert_eq!(run.status, 1, "{}", run.all());
    let json4 = c.wd.findings(OUT);
    let (c2, c4) = (&json2["changes"], &json4["changes"]);
    assert_eq!(c4["previous_run"], "县复核前.findings.json");
    let fixed = |c: &Value| sorted(c["fixed"].as_array().unwrap().iter().map(at).collect());
    assert_eq!(fixed(c4), fixed(c2));
    assert!(!fixed(c4).is_empty());
    assert_eq!(c4["new"], c2["new"]);
    assert_eq!(c4["unchanged"], c2["unchanged"]);
    assert!(
        run.stdout.contains(&format!(
            "比上次（县复核前.findings.json）：已改正 {} 条",
            fixed(c4).len()
        )),
        "{}",
        run.stdout
    );
    let kept = c.history();
    assert_eq!(kept.len(), 4, "{kept:?}");

    // Files of another layout are refused, naming the file; nothing is written.
    let older = |edit: &dyn Fn(&mut Value)| {
        let mut v = json1.clone();
        edit(&mut v);
        serde_json::to_vec_pretty(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "旧版.findings.json",
            older(&|v| {
                let o = v.as_object_mut().unwrap();
                o.remove("schema");
                o.remove("changes");
                for f in o["findings"].as_array_mut().unwrap() {
                    let f = f.as_object_mut().unwrap();
                    f.remove("match_keys");
                }
            }),
            "旧版本 taizhang 写出的",
        ),
        (
            "版本1.findings.json",
            older(&|v| v["schema"] = Value::from(1)),
            "格式版本是 1",
        ),
        (
            "缺字段.findings.json",
            older(&|v| {
                v["findings"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("match_keys");
            }),
            "第 1 条问题缺少比对所需的字段",
        ),
        (
            "坏文件.findings.json",
            b"{\"tool\": \"taizhang\",".to_vec(),
            "不是有效的 findings.json",
        ),
    ];
    let before = checksum(c.wd.join(OUT).join("findings.json"));
    for (name, bytes, why) in cases {
        c.wd.write(name, bytes);
        let out = c.run(&["--since", name]);
        assert_eq!(out.status, 2, "{name}: {}", out.all());
        assert!(out.stderr.contains(name), "{name}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("无法与上次的核对结果比较"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    assert_eq!(checksum(c.wd.join(OUT).join("findings.json")), before);
    assert_eq!(c.history(), kept);

    // The newest run in the history of another layout: refused too, saying
    // what to do with the history folder.
    let old = "29991231-235959.findings.json";
    c.wd.write(
        format!("{HISTORY}/{old}"),
        older(&|v| {
            v.as_object_mut().unwrap().remove("schema");
        }),
    );
    let out = c.run(&[]);
    assert_eq!(out.status, 2, "{}", out.all());
    assert!(out.stderr.contains(old), "{}", out.stderr);
    assert!(
        out.stderr.contains("“历史”文件夹移走或删除"),
        "{}",
        out.stderr
    );
    assert_eq!(checksum(c.wd.join(OUT).join("findings.json")), before);
}

#[test]
fn history_keeps_the_newest_twenty_runs() {
    let c = Clerk::new("reruns-prune");
    assert_eq!(c.run(&[]).status, 1);
    let json1 = c.wd.findings(OUT);
    std::fs::remove_dir_all(c.wd.join(HISTORY)).unwrap();
    // 21 earlier runs, one a second, and a file of the clerk's own that is
    // no run.
    for k in 0..21 {
        let v = json1.clone();
        c.wd.write(
            format!("{HISTORY}/20250101-1200{k:02}.findings.json"),
            serde_json::to_vec(&v).unwrap(),
        );
    }
    c.wd.write(format!("{HISTORY}/说明.txt"), "clerk's note");
    let run = c.run(&[]);
    assert_eq!(run.status, 1, "{}", run.all());
    let json2 = c.wd.findings(OUT);
    assert_eq!(json2["changes"]["previous_run"], "2025-01-01 12:00:20");
    assert_eq!(json2["changes"]["new"], 0);
    let kept = c.history();
    assert_eq!(kept.len(), 21, "{kept:?}");
    assert!(kept.contains(&"说明.txt".to_string()));
    let kept: Vec<String> = {
        let mut k = kept;
        k.sort();
        k
    };
    let runs: Vec<&String> = kept
        .iter()
        .filter(|n| n.ends_with(".findings.json"))
        .collect();
    assert_eq!(runs.len(), 20);
    // The two oldest are gone; this run is the newest.
    assert_eq!(runs[0], "20250101-120002.findings.json");
    assert_eq!(runs[18], "20250101-120020.findings.json");
    assert!(!runs[19].starts_with("2025"), "{runs:?}");
    let html = std::fs::read_to_string(c.wd.join(OUT).join("报告.html")).unwrap();
    assert!(html.contains("id=\"trend-chart\" data-runs=\"20\""));
}

/// The village rows of a 附件3 workbook: (村, counts in column order).
fn stats_rows(path: &std::path::Path) -> Vec<(String, Vec<i64>)> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    // The first data row: 序号 1 (a draft line under the title moves it).
    let first = (0..range.height() as u32)
        .find(|&r| {
            matches!(range.get_value((r, 0)), Some(Data::Float(f)) if *f == 1.0)
                || matches!(range.get_value((r, 0)), Some(Data::Int(1)))
        })
        .expect("a first data row") as usize;
    let ncounts = Field::STAT_COUNTS.len();
    let mut out = Vec::new();
    for r in first.. {
        let village = match range.get_value((r as u32, 1)) {
            Some(Data::String(s)) if s != derive::TOTAL_ROW => s.clone(),
            _ => break,
        };
        let counts = (0..ncounts)
            .map(|k| match range.get_value((r as u32, 2 + k as u32)) {
                Some(Data::Float(f)) => *f as i64,
                Some(Data::Int(i)) => *i,
                _ => 0,
            })
            .collect();
        out.push((village, counts));
    }
    out
}

/// A hand-filled 附件3 with `rows` in the given order.
fn stats_workbook(c: &Clerk, rows: &[(String, Vec<i64>)]) -> Vec<u8> {
    let spec = &c.round.spec;
    let data = AnnexData {
        township: Some(spec.township.clone()),
        school_year: spec.school_year,
        unit: format!("{}人民政府", spec.township),
        date: String::new(),
        villages: rows.iter().map(|(v, _)| v.clone()).collect(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, (v, counts))| {
                let mut row = vec![TCell::Int(i as i64 + 1), TCell::Text(v.clone())];
                row.extend(counts.iter().map(|n| TCell::Int(*n)));
                row.push(TCell::Empty);
                row
            })
            .collect(),
        draft: None,
        total_remark: String::new(),
    };
    build_annex(Annex::Stats, &data).unwrap()
}

#[test]
fn statistics_findings_match_by_village_and_column_after_sorting() {
    let c = Clerk::new("reruns-stats");
    assert_eq!(c.run(&[]).status, 1);
    let mut rows = stats_rows(&c.wd.join(OUT).join(Annex::Stats.file_name()));
    assert!(rows.len() > 4, "{rows:?}");
    // Two villages miscounted in the hand-filled copy.
    rows[1].1[0] += 2;
    rows[3].1[1] += 1;
    let stats = "round/附件3_台账统计表_手填.xlsx";
    c.wd.write(stats, stats_workbook(&c, &rows));
    assert_eq!(c.run(&[]).status, 1);
    let json1 = c.wd.findings(OUT);
    let cells1 = cells_with_code(&json1, "STATS_DIFFERS");
    assert!(cells1.len() >= 2, "{cells1:?}");

    // Villages sorted the other way round, the second miscount corrected.
    rows[3].1[1] -= 1;
    let fixed_village = rows[3].0.clone();
    rows.reverse();
    c.wd.write(stats, stats_workbook(&c, &rows));
    assert_eq!(c.run(&[]).status, 1);
    let json2 = c.wd.findings(OUT);
    let changes = &json2["changes"];
    let stats_of = |v: &Value| v["code"] == "STATS_DIFFERS";
    let fixed: Vec<&Value> = changes["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| stats_of(f))
        .collect();
    assert!(!fixed.is_empty());
    // What was fixed: the corrected village's cells (and the 合计 or 学龄人口数
    // cells its count entered), never the other miscounted village.
    assert!(
        fixed.iter().any(|f| f["village"] == fixed_village.as_str()),
        "{fixed:?}"
    );
    assert!(
        fixed
            .iter()
            .all(|f| f["village"] != rows[rows.len() - 2].0.as_str()),
        "{fixed:?}"
    );
    let now: Vec<&Value> = findings_array(&json2)
        .iter()
        .filter(|f| stats_of(f))
        .collect();
    assert!(!now.is_empty());
    for f in &now {
        assert_eq!(f["since_last"], "unchanged", "{f}");
    }
    assert_eq!(now.len() + fixed.len(), cells1.len());
    // The unchanged ones moved to other rows.
    let cells2 = cells_with_code(&json2, "STATS_DIFFERS");
    assert!(cells2.iter().any(|c| !cells1.contains(c)), "{cells2:?}");
    assert_eq!(changes["new"], 0, "{changes}");
}
