//! `taizhang reconcile` on generated rounds (`testkit::synth`): findings at
//! the expected cells, links against the truth, byte-stable outputs, the
//! derived annexes and the terminal summary.

use super::support::*;
use calamine::{Reader, Xlsx, open_workbook};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use taizhang::derive;
use taizhang::model::{Field, Sex, Status};
use taizhang::normalize::grade::grade_label;
use taizhang::templates::{Annex, AnnexData, TCell, build_annex};
use testkit::readback::cell_text;
use testkit::synth::{self, ROSTER_FIRST_DATA_ROW, Round, RoundSpec};

const ROSTER_XLSX: &str = "县局名单.xlsx";
const ROSTER_CSV: &str = "县局名单.csv";

/// A generated round written into a folder of a [`Workdir`].
struct Fixture {
    wd: Workdir,
    round: Round,
    /// Folder (relative to the workdir) holding the inputs.
    dir: String,
    roster_file: String,
    /// School → survey file name, in `spec.schools` order.
    survey_files: Vec<(String, String)>,
}

fn survey_name(school: &str, csv: bool) -> String {
    let x = Round::survey_file_name(school);
    if csv { x.replace(".xlsx", ".csv") } else { x }
}

impl Fixture {
    fn new(name: &str, round: Round, csv: bool) -> Fixture {
        let wd = Workdir::new(name);
        let dir = "round".to_string();
        let d = wd.mkdir(&dir);
        std::fs::write(d.join("taizhang.toml"), round.spec.config_toml()).unwrap();
        let roster_file = if csv { ROSTER_CSV } else { ROSTER_XLSX }.to_string();
        if csv {
            synth::write_roster_csv(&round, &d.join(&roster_file)).unwrap();
        } else {
            synth::write_roster_xlsx(&round, &d.join(&roster_file)).unwrap();
        }
        let mut survey_files = Vec::new();
        for (school, _) in &round.spec.schools {
            let f = survey_name(school, csv);
            if csv {
                synth::write_survey_csv(&round, school, &d.join(&f)).unwrap();
            } else {
                synth::write_survey_xlsx(&round, school, &d.join(&f)).unwrap();
            }
            survey_files.push((school.clone(), f));
        }
        Fixture {
            wd,
            round,
            dir,
            roster_file,
            survey_files,
        }
    }

    fn input(&self, f: &str) -> String {
        format!("{}/{}", self.dir, f)
    }

    fn survey_file_of(&self, school: &str) -> &str {
        &self
            .survey_files
            .iter()
            .find(|(s, _)| s == school)
            .expect("school")
            .1
    }

    /// `reconcile FOLDER --out OUT`.
    fn run_folder(&self, out: &str, extra: &[&str]) -> Output {
        let mut args = vec!["reconcile", &self.dir, "--out", out];
        args.extend_from_slice(extra);
        self.wd.run(&args)
    }

    /// `reconcile --config … --roster … --survey …(in `order`) --out OUT`.
    fn run_explicit(&self, out: &str, order: &[usize]) -> Output {
        let mut args: Vec<String> = vec![
            "reconcile".into(),
            "--config".into(),
            self.input("taizhang.toml"),
            "--roster".into(),
            self.input(&self.roster_file),
        ];
        for &k in order {
            args.push("--survey".into());
            args.push(self.input(&self.survey_files[k].1));
        }
        args.push("--out".into());
        args.push(out.into());
        self.wd.run(&args)
    }

    /// (file, row) → survey index, and the roster row → roster index.
    fn survey_index(&self) -> HashMap<(String, u32), usize> {
        let rows = self.round.survey_excel_rows();
        self.round
            .surveyed
            .iter()
            .enumerate()
            .map(|(i, (_, r))| {
                (
                    (self.survey_file_of(&r.surveyed_by).to_string(), rows[i]),
                    i,
                )
            })
            .collect()
    }

    fn roster_child_at(&self, row: u32) -> Option<usize> {
        let k = row.checked_sub(ROSTER_FIRST_DATA_ROW)? as usize;
        self.round.roster.get(k).copied()
    }

    /// The linked pairs as (roster child, survey child) of the truth.
    fn linked_children(&self, json: &Value) -> BTreeSet<(usize, usize)> {
        let idx = self.survey_index();
        links_array(json)
            .iter()
            .filter(|l| l["decision"] == "linked")
            .map(|l| {
                let rc = self
                    .roster_child_at(l["roster"]["row"].as_u64().unwrap() as u32)
                    .expect("link to a roster row");
                let key = (
                    l["survey"]["file"].as_str().unwrap().to_string(),
                    l["survey"]["row"].as_u64().unwrap() as u32,
                );
                let si = *idx.get(&key).unwrap_or_else(|| panic!("link to {key:?}"));
                (rc, self.round.surveyed[si].0)
            })
            .collect()
    }
}

fn round_of(children: usize, seed: u64) -> Round {
    synth::generate(&RoundSpec::yundou(children, seed))
}

fn clean_round(children: usize, seed: u64) -> Round {
    let mut spec = RoundSpec::yundou(children, seed);
    spec.defect_rate = 0.0;
    synth::generate(&spec)
}

/// Findings keyed by (file, row), codes sorted.
fn codes_by_cell(json: &Value) -> BTreeMap<(String, u32), Vec<String>> {
    let mut m: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    for f in findings_array(json) {
        m.entry((
            f["file"].as_str().unwrap().to_string(),
            f["row"].as_u64().unwrap() as u32,
        ))
        .or_default()
        .push(f["code"].as_str().unwrap().to_string());
    }
    m
}

/// Codes a row must carry, and codes it may also carry.
type MustMay = (Vec<&'static str>, Vec<&'static str>);

/// Every expected code at its row, nothing unexpected on any row.
fn assert_findings_match_truth(fx: &Fixture, json: &Value) {
    let round = &fx.round;
    let got = codes_by_cell(json);
    // (file,row) → (must, may)
    let mut want: BTreeMap<(String, u32), MustMay> = BTreeMap::new();
    let rows = round.survey_excel_rows();
    for (i, (_, r)) in round.surveyed.iter().enumerate() {
        let key = (fx.survey_file_of(&r.surveyed_by).to_string(), rows[i]);
        let e = want.entry(key).or_default();
        e.0.extend(r.defects.iter().copied());
        e.1.extend(r.maybe.iter().copied());
    }
    for (k, codes) in round.roster_expected.iter().enumerate() {
        let key = (fx.roster_file.clone(), ROSTER_FIRST_DATA_ROW + k as u32);
        want.entry(key).or_default().0.extend(codes.iter().copied());
    }
    let mut missing = Vec::new();
    for ((file, row), (must, _)) in &want {
        let have = got.get(&(file.clone(), *row));
        for code in must {
            if !have.is_some_and(|h| h.iter().any(|c| c == code)) {
                missing.push(format!("{file} 第{row}行 缺 {code}（有 {have:?}）"));
            }
        }
    }
    let mut unexpected = Vec::new();
    for ((file, row), codes) in &got {
        // A later copy of a child already linked is DUPLICATE_ID only: no
        // POSSIBLE_MATCH on top of it.
        let (must, may) = want.get(&(file.clone(), *row)).cloned().unwrap_or_default();
        for c in codes {
            if !must.contains(&c.as_str()) && !may.contains(&c.as_str()) {
                unexpected.push(format!("{file} 第{row}行 多出 {c}（应有 {must:?}）"));
            }
        }
    }
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{} missing, {} unexpected\nmissing:\n{}\nunexpected:\n{}",
        missing.len(),
        unexpected.len(),
        missing.join("\n"),
        unexpected.join("\n")
    );
}

/// Link precision and recall against the truth, and the forbidden links.
fn assert_links_match_truth(fx: &Fixture, json: &Value) {
    let round = &fx.round;
    let linked = fx.linked_children(json);
    let in_roster: BTreeSet<usize> = round.roster.iter().copied().collect();
    // A surveyed child who is in the roster must be linked (once).
    let truth: BTreeSet<(usize, usize)> = round
        .surveyed
        .iter()
        .filter(|(c, _)| in_roster.contains(c))
        .map(|(c, _)| (*c, *c))
        .collect();
    let correct = linked.iter().filter(|(a, b)| a == b).count();
    let precision = correct as f64 / linked.len().max(1) as f64;
    let recall = correct as f64 / truth.len().max(1) as f64;
    let wrong: Vec<String> = linked
        .iter()
        .filter(|(a, b)| a != b)
        .map(|(a, b)| {
            let (ca, cb) = (&round.children[*a], &round.children[*b]);
            let why = if ca.twin_of == Some(*b) {
                "双胞胎"
            } else if ca.name == cb.name {
                "同名"
            } else {
                "其他"
            };
            format!("{why}: 名单 {} ← 摸底 {}", ca.name, cb.name)
        })
        .collect();
    let unlinked: Vec<String> = truth
        .iter()
        .filter(|p| !linked.contains(p))
        .map(|(c, _)| round.children[*c].name.clone())
        .collect();
    assert!(
        wrong.is_empty() && unlinked.is_empty(),
        "precision {precision:.4} recall {recall:.4}\nwrong links:\n{}\nnot linked: {unlinked:?}",
        wrong.join("\n")
    );
    // NOT_IN_ROSTER rows are never linked (also not as `possible`).
    let idx = fx.survey_index();
    for l in links_array(json) {
        let key = (
            l["survey"]["file"].as_str().unwrap().to_string(),
            l["survey"]["row"].as_u64().unwrap() as u32,
        );
        let si = idx[&key];
        assert!(
            !round.surveyed[si].1.defects.contains(&"NOT_IN_ROSTER"),
            "NOT_IN_ROSTER row {key:?} has a {} link",
            l["decision"]
        );
    }
}

#[test]
fn folder_round_findings_and_links_match_truth() {
    let fx = Fixture::new("truth", round_of(1500, 11), false);
    let out = fx.run_folder("out", &[]);
    assert_eq!(out.status, 1, "errors exist: exit 1\n{}", out.all());
    let json = fx.wd.findings("out");
    assert_findings_match_truth(&fx, &json);
    assert_links_match_truth(&fx, &json);
    assert_eq!(json["summary"]["ready"], false);
    assert!(out.stdout.contains("暂不能上报"), "{}", out.stdout);
}

#[test]
fn explicit_files_and_a_second_seed_match_truth() {
    let fx = Fixture::new("explicit", round_of(600, 2023), false);
    let out = fx.run_explicit("out", &[0, 1]);
    assert_eq!(out.status, 1, "{}", out.all());
    let json = fx.wd.findings("out");
    assert_findings_match_truth(&fx, &json);
    assert_links_match_truth(&fx, &json);
}

#[test]
fn csv_round_matches_truth() {
    let fx = Fixture::new("csv", round_of(500, 7), true);
    let out = fx.run_folder("out", &[]);
    assert_eq!(out.status, 1, "{}", out.all());
    let json = fx.wd.findings("out");
    assert_findings_match_truth(&fx, &json);
    assert_links_match_truth(&fx, &json);
}

/// The files of `dir` whose bytes must not change between runs (the run
/// history is named by the time of each run).
fn stable_outputs(dir: &Path) -> Vec<(String, u64)> {
    checksums_of_dir(dir)
        .into_iter()
        .filter(|(f, _)| f.ends_with(".xlsx") || f.ends_with(".json") || f.ends_with(".csv"))
        .filter(|(f, _)| !f.starts_with(taizhang::report::history::HISTORY_DIR))
        .collect()
}

#[test]
fn inputs_unchanged_outputs_byte_identical_across_runs() {
    let fx = Fixture::new("determinism", round_of(400, 5), false);
    let before = checksums_of_dir(fx.wd.join(&fx.dir));
    let a = fx.run_folder("out1", &[]);
    let b = fx.run_folder("out2", &[]);
    assert_eq!(a.status, 1, "{}", a.all());
    assert_eq!(b.status, 1, "{}", b.all());
    // Inputs byte-identical, and nothing written into the input folder.
    assert_eq!(checksums_of_dir(fx.wd.join(&fx.dir)), before);
    let (o1, o2) = (
        stable_outputs(&fx.wd.join("out1")),
        stable_outputs(&fx.wd.join("out2")),
    );
    let names: Vec<&str> = o1.iter().map(|(f, _)| f.as_str()).collect();
    for want in [
        "findings.json",
        "findings.csv",
        "附件2_学龄人口台账.xlsx",
        "附件3_台账统计表.xlsx",
        "筛查预警清单.xlsx",
        "县局名单.核对.xlsx",
        "附件1_熨斗初级中学.核对.xlsx",
        "附件1_熨斗镇中心小学.核对.xlsx",
    ] {
        assert!(
            names.contains(&want),
            "{want} missing from --out: {names:?}"
        );
    }
    assert_eq!(o1, o2, "two runs differ");
}

#[test]
fn clean_round_exits_zero_and_is_ready() {
    let round = clean_round(300, 9);
    assert!(
        round.surveyed.iter().all(|(_, r)| r.defects.is_empty()),
        "synth: defect_rate 0 still planted defects"
    );
    let fx = Fixture::new("clean", round, false);
    let out = fx.run_folder("out", &[]);
    let json = fx.wd.findings("out");
    let errors: Vec<&Value> = findings_array(&json)
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "errors on a clean round: {errors:#?}");
    assert_eq!(out.status, 0, "{}", out.all());
    assert_eq!(json["summary"]["ready"], true);
    assert!(out.stdout.contains("可以上报"), "{}", out.stdout);
    assert_links_match_truth(&fx, &json);
}

#[test]
fn survey_file_order_does_not_change_links() {
    let fx = Fixture::new("fileorder", round_of(400, 31), false);
    let a = fx.run_explicit("ab", &[0, 1]);
    let b = fx.run_explicit("ba", &[1, 0]);
    assert_eq!(a.status, b.status);
    let la = fx.linked_children(&fx.wd.findings("ab"));
    let lb = fx.linked_children(&fx.wd.findings("ba"));
    assert!(!la.is_empty());
    assert_eq!(la, lb);
}

/// Permutes each school's survey rows (a seeded shuffle), keeping the truth.
fn shuffled(round: &Round, seed: u64) -> Round {
    let mut rng = synth::Rng::new(seed);
    let mut r = round.clone();
    let mut rows = std::mem::take(&mut r.surveyed);
    for (_, row) in rows.iter_mut() {
        // household merges assume contiguous households
        row.merge_household = false;
        row.duplicate_of = None;
    }
    for i in (1..rows.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
    r.surveyed = rows;
    r
}

#[test]
fn survey_row_order_does_not_change_links() {
    let base = round_of(400, 41);
    let mut plain = base.clone();
    for (_, row) in plain.surveyed.iter_mut() {
        row.merge_household = false;
    }
    let fx0 = Fixture::new("roworder0", plain, false);
    assert_eq!(fx0.run_folder("out", &[]).status, 1);
    let want = fx0.linked_children(&fx0.wd.findings("out"));
    for seed in [1u64, 2, 3] {
        let fx = Fixture::new("roworder", shuffled(&base, seed), false);
        let out = fx.run_folder("out", &[]);
        assert_eq!(out.status, 1, "{}", out.all());
        let got = fx.linked_children(&fx.wd.findings("out"));
        let only_a: Vec<_> = want.difference(&got).collect();
        let only_b: Vec<_> = got.difference(&want).collect();
        assert!(
            only_a.is_empty() && only_b.is_empty(),
            "shuffle seed {seed}: lost {only_a:?}, gained {only_b:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Summary on the terminal

#[test]
fn summary_masks_ids_unless_no_mask() {
    let fx = Fixture::new("mask", round_of(300, 3), false);
    let out = fx.run_folder("out", &[]);
    assert_eq!(out.status, 1);
    assert!(out.stdout.contains("各村情况"), "{}", out.stdout);
    for v in ["金星村", "熨斗社区"] {
        assert!(out.stdout.contains(v), "village {v} not in the table");
    }
    assert!(out.stdout.contains("结论："), "{}", out.stdout);
    let ids = full_ids_in(&out.all());
    assert!(ids.is_empty(), "full IDs on the terminal: {ids:?}");
    let out = fx.run_folder("out2", &["--no-mask"]);
    assert_eq!(out.status, 1);
    let shown = full_ids_in(&out.all());
    let known: BTreeSet<&str> = fx.round.children.iter().map(|c| c.id.as_str()).collect();
    assert!(
        shown.iter().any(|id| known.contains(id.as_str())),
        "--no-mask shows no full ID:\n{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------
// The derived annexes

/// The data rows (from the annex's first data row on) of an output workbook,
/// as text, up to the first row whose column `key` is empty.
fn annex_rows(path: &Path, annex: Annex, key: usize) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let range = wb
        .worksheet_range(annex.sheet_name())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // A round with errors left has a draft line under the title.
    let draft = (0..4).any(|r| {
        range
            .get_value((r, 0))
            .map(cell_text)
            .is_some_and(|t| t.starts_with("草稿"))
    });
    let first = annex.first_data_row() - 1 + draft as u32;
    let mut out = Vec::new();
    for r in first.. {
        let row: Vec<String> = (0..annex.columns().len() as u32)
            .map(|c| range.get_value((r, c)).map(cell_text).unwrap_or_default())
            .collect();
        if row[key].is_empty() {
            break;
        }
        out.push(row);
    }
    out
}

fn col_of(annex: Annex, f: Field) -> usize {
    annex
        .columns()
        .iter()
        .position(|x| *x == f)
        .expect("column")
}

#[test]
fn derived_annexes_follow_the_roster() {
    let fx = Fixture::new("annexes", round_of(800, 17), false);
    let out = fx.run_folder("out", &[]);
    assert_eq!(out.status, 1, "{}", out.all());
    let round = &fx.round;
    let township = &round.spec.township;
    let od = fx.wd.join("out");

    // 附件2: one row per roster child of the township, in roster order.
    let lid = col_of(Annex::Ledger, Field::Id);
    let lst = col_of(Annex::Ledger, Field::Status);
    let ledger = annex_rows(
        &od.join(Annex::Ledger.file_name()),
        Annex::Ledger,
        col_of(Annex::Ledger, Field::Name),
    );
    let local: Vec<usize> = round
        .roster
        .iter()
        .copied()
        .filter(|&c| &round.children[c].township == township)
        .collect();
    let ledger_ids: Vec<&str> = ledger.iter().map(|r| r[lid].as_str()).collect();
    let roster_ids: Vec<&str> = local
        .iter()
        .map(|&c| round.children[c].id.as_str())
        .collect();
    assert_eq!(
        ledger_ids, roster_ids,
        "附件2 rows ≠ the township's roster children"
    );
    // 未摸底 exactly on the roster rows expected NOT_SURVEYED.
    let not_surveyed: BTreeSet<&str> = round
        .roster
        .iter()
        .zip(&round.roster_expected)
        .filter(|(_, e)| e.contains(&"NOT_SURVEYED"))
        .map(|(&c, _)| round.children[c].id.as_str())
        .collect();
    let marked: BTreeSet<&str> = ledger
        .iter()
        .filter(|r| r[lst] == derive::NOT_SURVEYED_TEXT)
        .map(|r| r[lid].as_str())
        .collect();
    // A surveyed child whose status is missing or unreadable is not 未摸底:
    // the clerk's text stays, the remark says 状态待核实.
    let no_status: BTreeSet<&str> = round
        .surveyed
        .iter()
        .filter(|(_, r)| {
            r.defects
                .iter()
                .any(|d| *d == "STATUS_MISSING" || *d == "STATUS_UNKNOWN")
        })
        .map(|(c, _)| round.children[*c].id.as_str())
        .filter(|id| roster_ids.contains(id))
        .collect();
    assert!(
        marked.is_superset(&not_surveyed),
        "NOT_SURVEYED children without 未摸底: {:?}",
        not_surveyed.difference(&marked).collect::<Vec<_>>()
    );
    let extra: BTreeSet<&str> = marked.difference(&not_surveyed).copied().collect();
    assert!(extra.is_empty(), "未摸底 on surveyed children: {extra:?}");
    let lremark = col_of(Annex::Ledger, Field::Remark);
    let pending: BTreeSet<&str> = ledger
        .iter()
        .filter(|r| r[lremark].starts_with(derive::STATUS_PENDING_TEXT))
        .map(|r| r[lid].as_str())
        .collect();
    assert!(!no_status.is_empty());
    assert!(
        pending.is_superset(&no_status),
        "状态待核实 missing on {:?}",
        no_status.difference(&pending).collect::<Vec<_>>()
    );

    // 附件3: rows add up to 合计; 学龄人口数 = sum of the other columns.
    let sv = col_of(Annex::Stats, Field::Village);
    let stats = annex_rows(&od.join(Annex::Stats.file_name()), Annex::Stats, sv);
    let counts: Vec<usize> = Field::STAT_COUNTS
        .iter()
        .map(|f| col_of(Annex::Stats, *f))
        .collect();
    let num = |s: &str| {
        s.parse::<i64>().unwrap_or_else(|_| {
            if s.is_empty() {
                0
            } else {
                panic!("not a count: {s}")
            }
        })
    };
    let (total, villages) = stats.split_last().expect("stats rows");
    assert_eq!(total[sv], derive::TOTAL_ROW);
    for (k, &c) in counts.iter().enumerate() {
        let sum: i64 = villages.iter().map(|r| num(&r[c])).sum();
        assert_eq!(num(&total[c]), sum, "合计 of {:?}", Field::STAT_COUNTS[k]);
    }
    let sremark = col_of(Annex::Stats, Field::Remark);
    for r in stats.iter() {
        let parts: i64 = counts[1..].iter().map(|&c| num(&r[c])).sum();
        let noted = derive::pending_in_remark(&r[sremark]);
        assert_eq!(num(&r[counts[0]]), parts + noted, "学龄人口数 of {}", r[sv]);
    }
    // 学龄人口数 counts every child of the ledger; those without a known
    // status in the remark (状态待核实, 待人工确认, 未摸底).
    assert_eq!(
        num(&total[counts[0]]),
        ledger.len() as i64,
        "合计 学龄人口数"
    );

    // 预警清单: the dropouts and the children not verified, nobody else.
    let wid = col_of(Annex::Warning, Field::Id);
    let warnings = annex_rows(
        &od.join(Annex::Warning.file_name()),
        Annex::Warning,
        col_of(Annex::Warning, Field::Name),
    );
    let got: BTreeSet<&str> = warnings.iter().map(|r| r[wid].as_str()).collect();
    assert_eq!(
        got.len(),
        warnings.len(),
        "a child twice in the warning list"
    );
    let unverified = |s: &str| {
        s == derive::NOT_SURVEYED_TEXT
            || s == derive::UNCONFIRMED_TEXT
            || [
                Status::Dropout,
                Status::NeverEnrolled,
                Status::Missing,
                Status::LongLeave,
            ]
            .iter()
            .any(|x| x.label_zh() == s)
    };
    let mut want: BTreeSet<&str> = ledger
        .iter()
        .filter(|r| unverified(&r[lst]) || r[lremark].starts_with(derive::STATUS_PENDING_TEXT))
        .map(|r| r[lid].as_str())
        .collect();
    // Dropouts the survey found outside the roster are dropouts too.
    let in_roster: BTreeSet<usize> = round.roster.iter().copied().collect();
    for (c, _) in &round.surveyed {
        let ch = &round.children[*c];
        if !in_roster.contains(c) && ch.status.is_dropout() {
            want.insert(ch.id.as_str());
        }
    }
    // Every planted dropout is there.
    for (c, r) in &round.surveyed {
        if r.defects.contains(&"DROPOUT") {
            assert!(
                got.contains(round.children[*c].id.as_str()),
                "dropout {} not in the warning list",
                round.children[*c].name
            );
        }
    }
    assert_eq!(got, want, "warning list");
}

// ---------------------------------------------------------------------------
// Hand-filled 附件2 / 附件3 with known mistakes

fn text(s: &str) -> TCell {
    TCell::from(s)
}

fn col_letter_of(annex: Annex, f: Field) -> String {
    taizhang::model::col_letter(col_of(annex, f) as u32 + 1)
}

/// Sets the cached value of the formula cell `cell` (e.g. "L20") of the
/// first worksheet of an xlsx: a 合计 that no longer adds up, as when a
/// clerk types over the formula.
fn patch_cached_value(xlsx: &[u8], cell: &str, value: i64) -> Vec<u8> {
    let re = regex::Regex::new(&format!(
        r#"(<c r="{cell}"[^>]*>(?:<f>[^<]*</f>)?<v>)[^<]*(</v>)"#
    ))
    .unwrap();
    rewrite_xlsx_parts(
        xlsx,
        |name| name.starts_with("xl/worksheets/sheet1"),
        |s| re.replace(&s, format!("${{1}}{value}${{2}}")).into_owned(),
    )
}

/// A finding with `code` at (file, row, column).
fn finding_at<'a>(
    json: &'a Value,
    code: &str,
    file: &str,
    row: u32,
    col: &str,
) -> Option<&'a Value> {
    findings_array(json)
        .iter()
        .find(|f| f["code"] == code && f["file"] == file && f["row"] == row && f["column"] == col)
}

fn related_has(f: &Value, file: &str, row: u32) -> bool {
    f["related"]
        .as_array()
        .is_some_and(|r| r.iter().any(|l| l["file"] == file && l["row"] == row))
}

#[test]
fn hand_filled_ledger_and_stats_mistakes_found_at_their_cells() {
    let round = round_of(600, 23);
    let fx = Fixture::new("hand", round, false);
    let round = &fx.round;
    let spec = &round.spec;
    let excel_rows = round.survey_excel_rows();
    // roster child → its clean survey row (index), when it has one
    let mut clean_survey: HashMap<usize, usize> = HashMap::new();
    let mut any_survey: HashMap<usize, usize> = HashMap::new();
    for (i, (c, r)) in round.surveyed.iter().enumerate() {
        any_survey.entry(*c).or_insert(i);
        if r.defects.is_empty() && r.maybe.is_empty() && r.duplicate_of.is_none() {
            clean_survey.insert(*c, i);
        }
    }
    // Children fit for an injected mistake: clean on both sides, in school.
    let fit: Vec<usize> = round
        .roster
        .iter()
        .enumerate()
        .filter(|(k, c)| {
            let ch = &round.children[**c];
            ch.township == spec.township
                && round.roster_expected[*k].is_empty()
                && clean_survey.contains_key(c)
                && ch.status.in_school()
                && ch.grade.is_some()
                && ch.twin_of.is_none()
        })
        .map(|(_, c)| *c)
        .collect();
    assert!(fit.len() > 10);
    let (left_out, bad_status, bad_grade, bad_name) = (fit[2], fit[5], fit[7], fit[9]);

    let mut rows = Vec::new();
    let mut statuses: Vec<(String, Option<Status>)> = Vec::new();
    let mut ledger_row_of: HashMap<usize, u32> = HashMap::new();
    for &ci in &round.roster {
        let c = &round.children[ci];
        if c.township != spec.township || ci == left_out {
            continue;
        }
        // What the school would copy: the survey's answer where it has one.
        let mut status = c.status;
        let mut grade = c.grade.map(grade_label).unwrap_or_default();
        let mut name = c.name.clone();
        if ci == bad_status {
            status = if status == Status::InSchoolLocal {
                Status::InSchoolOut
            } else {
                Status::InSchoolLocal
            };
        }
        if ci == bad_grade {
            grade = grade_label(c.grade.unwrap() % 9 + 1);
        }
        if ci == bad_name {
            name.push('子');
        }
        ledger_row_of.insert(ci, Annex::Ledger.first_data_row() + rows.len() as u32);
        statuses.push((c.village.clone(), Some(status)));
        rows.push(vec![
            TCell::Int(rows.len() as i64 + 1),
            text(&c.township),
            text(&c.village),
            text(&c.group),
            text(&c.household_head),
            text(&c.household_type),
            text(&name),
            text(if c.sex == Sex::Male { "男" } else { "女" }),
            text(&c.id),
            text(&c.birth.format("%Y-%m-%d").to_string()),
            text(status.label_zh()),
            text(&c.school),
            text(&grade),
            text(&c.reason),
            text(&c.evidence),
            TCell::Empty,
            TCell::Empty,
        ]);
    }
    let villages: Vec<String> = spec.schools.iter().flat_map(|(_, v)| v.clone()).collect();
    let data = |rows| AnnexData {
        township: Some(spec.township.clone()),
        school_year: spec.school_year,
        unit: format!("{}人民政府", spec.township),
        date: "2022年10月18日".into(),
        villages: villages.clone(),
        rows,
        ..Default::default()
    };
    let ledger_file = "附件2_学龄人口台账_手填.xlsx";
    let stats_file = "附件3_台账统计表_手填.xlsx";
    fx.wd.write(
        format!("{}/{ledger_file}", fx.dir),
        build_annex(Annex::Ledger, &data(rows)).unwrap(),
    );

    // 附件3 recounted from this ledger, then: village row 2 counts one child
    // twice as 本县 (学龄人口数 no longer the sum, and the cell differs from
    // the recount), and the 合计 of 死亡 is typed over.
    let stats = derive::stats_from(
        &villages,
        statuses.iter().map(|(v, s)| {
            (
                v.as_str(),
                s.map_or(derive::Landing::StatusUnknown, derive::Landing::Known),
            )
        }),
    );
    let village_rows: Vec<&derive::StatsRow> = stats
        .iter()
        .filter(|s| s.village != derive::TOTAL_ROW)
        .collect();
    let mut srows = Vec::new();
    for (i, s) in village_rows.iter().enumerate() {
        let mut row = vec![TCell::Int(i as i64 + 1), text(&s.village)];
        for f in Field::STAT_COUNTS {
            let mut n = s.get(f);
            if i == 2 && f == Field::StatInSchoolLocal {
                n += 1;
            }
            row.push(TCell::Int(n));
        }
        row.push(TCell::Empty);
        srows.push(row);
    }
    let first = Annex::Stats.first_data_row();
    let wrong_row = first + 2;
    let total_row = first + village_rows.len() as u32;
    let dead = col_letter_of(Annex::Stats, Field::StatDead);
    let true_dead: i64 = village_rows.iter().map(|s| s.get(Field::StatDead)).sum();
    let xlsx = build_annex(Annex::Stats, &data(srows)).unwrap();
    let xlsx = patch_cached_value(&xlsx, &format!("{dead}{total_row}"), true_dead + 2);
    fx.wd.write(format!("{}/{stats_file}", fx.dir), xlsx);

    let out = fx.run_folder("out", &[]);
    assert_eq!(out.status, 1, "{}", out.all());
    let json = fx.wd.findings("out");
    let inputs: Vec<(&str, &str)> = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["file"].as_str().unwrap(), i["role"].as_str().unwrap()))
        .collect();
    assert!(inputs.contains(&(ledger_file, "ledger")), "{inputs:?}");
    assert!(inputs.contains(&(stats_file, "stats")), "{inputs:?}");

    // LEDGER_MISSING_CHILD on the roster row of the child left out.
    let k = round.roster_row_of(left_out).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    let missing = cells_with_code(&json, "LEDGER_MISSING_CHILD");
    assert_eq!(
        missing
            .iter()
            .map(|(f, _, r, _)| (f.as_str(), *r))
            .collect::<Vec<_>>(),
        vec![(fx.roster_file.as_str(), k)],
        "LEDGER_MISSING_CHILD"
    );

    // LEDGER_DIFFERS at the cell, related → the other side.
    let survey_loc = |ci: usize| {
        let i = clean_survey[&ci];
        (
            fx.survey_file_of(&round.surveyed[i].1.surveyed_by)
                .to_string(),
            excel_rows[i],
        )
    };
    let roster_row = |ci: usize| round.roster_row_of(ci).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    let cases = [
        (bad_status, Field::Status, survey_loc(bad_status)),
        (bad_grade, Field::Grade, survey_loc(bad_grade)),
        (
            bad_name,
            Field::Name,
            (fx.roster_file.clone(), roster_row(bad_name)),
        ),
    ];
    for (ci, field, (rfile, rrow)) in &cases {
        let row = ledger_row_of[ci];
        let col = col_letter_of(Annex::Ledger, *field);
        let f = finding_at(&json, "LEDGER_DIFFERS", ledger_file, row, &col).unwrap_or_else(|| {
            panic!(
                "no LEDGER_DIFFERS at {col}{row} ({field:?}); have {:?}",
                cells_with_code(&json, "LEDGER_DIFFERS")
            )
        });
        assert!(
            related_has(f, rfile, *rrow),
            "{field:?}: related {} ≠ {rfile}:{rrow}",
            f["related"]
        );
    }
    // No LEDGER_DIFFERS on ledger rows of children clean on every side.
    let injected: BTreeSet<u32> = cases.iter().map(|(ci, _, _)| ledger_row_of[ci]).collect();
    let clean_rows: BTreeSet<u32> = fit
        .iter()
        .filter_map(|c| ledger_row_of.get(c))
        .copied()
        .collect();
    let spurious: Vec<_> = cells_with_code(&json, "LEDGER_DIFFERS")
        .into_iter()
        .filter(|(f, _, r, _)| f == ledger_file && clean_rows.contains(r) && !injected.contains(r))
        .collect();
    assert!(
        spurious.is_empty(),
        "LEDGER_DIFFERS on clean rows: {spurious:?}"
    );

    // STATS_DIFFERS: the miscounted cell, its row's 学龄人口数, the typed-over 合计.
    let stats_cells: BTreeSet<(u32, String)> = cells_with_code(&json, "STATS_DIFFERS")
        .into_iter()
        .filter(|(f, ..)| f == stats_file)
        .map(|(_, _, r, c)| (r, c))
        .collect();
    let total_col = col_letter_of(Annex::Stats, Field::StatTotal);
    let local_col = col_letter_of(Annex::Stats, Field::StatInSchoolLocal);
    for want in [
        (wrong_row, local_col.clone()),
        (wrong_row, total_col.clone()),
        (total_row, dead.clone()),
    ] {
        assert!(
            stats_cells.contains(&want),
            "no STATS_DIFFERS at {}{}: {stats_cells:?}",
            want.1,
            want.0
        );
    }
    // Nothing on the village rows left alone.
    let other: Vec<_> = stats_cells
        .iter()
        .filter(|(r, _)| *r != wrong_row && *r != total_row)
        .collect();
    assert!(other.is_empty(), "STATS_DIFFERS on correct rows: {other:?}");
}
