//! Where every child lands, through the binary on generated rounds: the
//! derived 附件2, 附件3 and warning list, the counts that must agree across
//! terminal, 报告.html, 核对说明, 附件3 and the warning list, the draft line,
//! a hand-filled ledger without survey support, and the hard linkage cases
//! (a child listed twice in the roster, a valid but retyped ID, a lunar
//! birthday) each beside its twin and namesake traps.

use super::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use taizhang::derive;
use taizhang::model::{Field, Status};
use taizhang::normalize::grade::grade_label;
use taizhang::templates::{Annex, AnnexData, TCell, build_annex};
use testkit::ids::{region_retyped, sequence_retyped};
use testkit::readback::sheet_rows;
use testkit::synth::{self, DateStyle, ROSTER_FIRST_DATA_ROW, Rng, Round, RoundSpec};

const ROSTER: &str = "县局名单.xlsx";
const WARNING_TYPES: [&str; 7] = [
    "失学",
    "辍学",
    "失踪失联",
    "长期请假",
    "未摸底（去向不明）",
    "状态待核实",
    "待人工确认",
];

fn clean_round(children: usize, seed: u64) -> Round {
    let mut spec = RoundSpec::yundou(children, seed);
    spec.defect_rate = 0.0;
    synth::generate(&spec)
}

/// Write the round into `wd/round` (config, roster, one survey per school).
fn write_round(wd: &Workdir, round: &Round) {
    let d = wd.mkdir("round");
    std::fs::write(d.join("taizhang.toml"), round.spec.config_toml()).unwrap();
    synth::write_roster_xlsx(round, &d.join(ROSTER)).unwrap();
    for (school, _) in &round.spec.schools {
        synth::write_survey_xlsx(round, school, &d.join(Round::survey_file_name(school))).unwrap();
    }
}

fn reconcile(wd: &Workdir) -> (Output, Value) {
    let out = wd.run(&["reconcile", "round", "--out", "out"]);
    assert!(out.status == 0 || out.status == 1, "{}", out.all());
    let json = wd.findings("out");
    (out, json)
}

/// A generated annex: the draft line (if any) and the data rows, up to the
/// first row whose column `key` is empty.
struct AnnexView {
    draft: Option<String>,
    rows: Vec<Vec<String>>,
}

fn annex(dir: &Path, annex: Annex, key: Field) -> AnnexView {
    let all = sheet_rows(&dir.join(annex.file_name()), annex.sheet_name());
    // The line right under the title (row 2 of 附件2/附件3, row 1 of the list).
    let title = if annex == Annex::Warning { 0 } else { 1 };
    let under = all.get(title + 1).and_then(|r| r.first()).cloned();
    let draft = under.filter(|t| t.starts_with("草稿"));
    let first = (annex.first_data_row() - 1) as usize + draft.is_some() as usize;
    let k = col(annex, key);
    let rows = all[first.min(all.len())..]
        .iter()
        .take_while(|r| r.get(k).is_some_and(|t| !t.is_empty()))
        .cloned()
        .collect();
    AnnexView { draft, rows }
}

fn col(annex: Annex, f: Field) -> usize {
    annex
        .columns()
        .iter()
        .position(|x| *x == f)
        .expect("column")
}

/// "状态待核实 2 人" in `text` → 2 (0 when the label is absent).
fn count_after(text: &str, label: &str) -> i64 {
    match text.find(label) {
        None => 0,
        Some(at) => text[at + label.len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| panic!("no number after {label} in {text}")),
    }
}

fn survey_file_of(round: &Round, i: usize) -> String {
    Round::survey_file_name(&round.surveyed[i].1.surveyed_by)
}

/// Index into `round.surveyed` of the first clean survey row of a roster
/// child of the township satisfying `pick`, not in `taken`.
fn pick_row(
    round: &Round,
    taken: &BTreeSet<usize>,
    pick: impl Fn(&testkit::synth::Child) -> bool,
) -> usize {
    let local: BTreeSet<usize> = round
        .roster
        .iter()
        .copied()
        .filter(|&c| round.children[c].township == round.spec.township)
        .collect();
    let mut times: HashMap<usize, usize> = HashMap::new();
    for (c, _) in &round.surveyed {
        *times.entry(*c).or_default() += 1;
    }
    (0..round.surveyed.len())
        .find(|&i| {
            let c = round.surveyed[i].0;
            local.contains(&c)
                && times[&c] == 1
                && !taken.contains(&c)
                && round.children[c].twin_of.is_none()
                && pick(&round.children[c])
        })
        .expect("a child to pick")
}

/// Survey row `i` without ID and with the last character of the name
/// changed: only a possible match for its child.
fn make_possible(round: &mut Round, i: usize) {
    let r = &mut round.surveyed[i].1;
    r.id = String::new();
    r.id_as_number = false;
    let mut name: Vec<char> = r.name.chars().collect();
    let last = name.len() - 1;
    name[last] = if name[last] == '睿' { '锐' } else { '睿' };
    r.name = name.into_iter().collect();
}

/// The injected round of the landing tests and who was injected where.
struct Landed {
    round: Round,
    status_missing: usize,
    status_unknown: usize,
    possible: usize,
    unsurveyed: Vec<usize>,
    dropout: usize,
    outside_dropout: usize,
}

/// A clean round with: one surveyed child without status, one with a status
/// text that maps to nothing, one only a possible match (no ID, one
/// character of the name changed), two never surveyed, one dropout, and a
/// dropout the survey found that the roster lacks.
fn landed_round(seed: u64) -> Landed {
    let mut round = clean_round(260, seed);
    let mut taken = BTreeSet::new();
    let in_school = |c: &testkit::synth::Child| c.status == Status::InSchoolLocal;
    let take = |round: &Round, taken: &mut BTreeSet<usize>| {
        let i = pick_row(round, taken, in_school);
        taken.insert(round.surveyed[i].0);
        i
    };
    let a = take(&round, &mut taken);
    let b = take(&round, &mut taken);
    let p = take(&round, &mut taken);
    let u1 = take(&round, &mut taken);
    let u2 = take(&round, &mut taken);
    let d = take(&round, &mut taken);
    let o = take(&round, &mut taken);
    round.surveyed[a].1.status = String::new();
    round.surveyed[b].1.status = "情况另报".into();
    make_possible(&mut round, p);
    for i in [d, o] {
        let r = &mut round.surveyed[i].1;
        r.status = if i == d { "辍学" } else { "失学" }.into();
        r.school = String::new();
        r.grade = String::new();
        r.reason = "厌学".into();
    }
    let (ca, cb, cp, cu1, cu2, cd, co) = (
        round.surveyed[a].0,
        round.surveyed[b].0,
        round.surveyed[p].0,
        round.surveyed[u1].0,
        round.surveyed[u2].0,
        round.surveyed[d].0,
        round.surveyed[o].0,
    );
    // Never surveyed: drop their survey rows; outside: drop the roster row.
    round.surveyed.retain(|(c, _)| *c != cu1 && *c != cu2);
    let k = round.roster_row_of(co).unwrap();
    round.roster.remove(k);
    round.roster_expected.remove(k);
    Landed {
        round,
        status_missing: ca,
        status_unknown: cb,
        possible: cp,
        unsurveyed: vec![cu1, cu2],
        dropout: cd,
        outside_dropout: co,
    }
}

fn html_count(html: &str, key: &str) -> i64 {
    let re = regex::Regex::new(&format!(r#"data-count-of="{key}">(\d+)<"#)).unwrap();
    re.captures(html)
        .unwrap_or_else(|| panic!("no count {key} in 报告.html"))[1]
        .parse()
        .unwrap()
}

#[test]
fn every_child_lands_in_its_place() {
    let l = landed_round(31);
    let round = &l.round;
    let wd = Workdir::new("landing");
    write_round(&wd, round);
    let (out, json) = reconcile(&wd);
    assert_eq!(out.status, 1, "{}", out.all());
    let od = wd.join("out");
    let id_of = |c: usize| round.children[c].id.clone();

    // The possible match is one (else the round does not test what it says).
    let possible_rows: Vec<u32> = links_array(&json)
        .iter()
        .filter(|x| x["decision"] == "possible")
        .map(|x| x["survey"]["row"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(possible_rows.len(), 1, "{possible_rows:?}");

    // 附件2
    let ledger = annex(&od, Annex::Ledger, Field::Name);
    let (lid, lst, lrm, lsch) = (
        col(Annex::Ledger, Field::Id),
        col(Annex::Ledger, Field::Status),
        col(Annex::Ledger, Field::Remark),
        col(Annex::Ledger, Field::School),
    );
    let by_id: HashMap<&str, &Vec<String>> =
        ledger.rows.iter().map(|r| (r[lid].as_str(), r)).collect();
    let row_of = |c: usize| {
        *by_id
            .get(id_of(c).as_str())
            .unwrap_or_else(|| panic!("{} not in 附件2", round.children[c].name))
    };
    let r = row_of(l.status_missing);
    assert_eq!(r[lst], "");
    assert!(r[lrm].starts_with("状态待核实"), "{r:?}");
    let r = row_of(l.status_unknown);
    assert_eq!(r[lst], "情况另报", "the clerk's text stays");
    assert!(r[lrm].starts_with("状态待核实"), "{r:?}");
    let r = row_of(l.possible);
    assert_eq!(r[lst], "待人工确认");
    assert_eq!(r[lsch], "", "no school from an unconfirmed row");
    let psi = round
        .surveyed
        .iter()
        .position(|(c, _)| *c == l.possible)
        .unwrap();
    let prow = round.survey_excel_rows()[psi];
    assert_eq!(possible_rows, vec![prow]);
    assert!(
        r[lrm].contains(&survey_file_of(round, psi))
            && r[lrm].contains(&format!("第{prow}行"))
            && r[lrm].contains("在校(本县)"),
        "备注 names the survey's file, row and status: {}",
        r[lrm]
    );
    for &u in &l.unsurveyed {
        assert_eq!(row_of(u)[lst], derive::NOT_SURVEYED_TEXT);
    }
    assert_eq!(row_of(l.dropout)[lst], "辍学");
    // 未摸底 only on the children no survey row points at.
    let marked: BTreeSet<String> = ledger
        .rows
        .iter()
        .filter(|r| r[lst] == derive::NOT_SURVEYED_TEXT)
        .map(|r| r[lid].clone())
        .collect();
    let truly: BTreeSet<String> = l.unsurveyed.iter().map(|&c| id_of(c)).collect();
    assert_eq!(marked, truly);

    // Warning list: exactly these children with these types, plus the
    // children whose true status belongs there.
    let wl = annex(&od, Annex::Warning, Field::Name);
    let (wid, wty, wst) = (
        col(Annex::Warning, Field::Id),
        col(Annex::Warning, Field::WarningType),
        col(Annex::Warning, Field::Status),
    );
    let got: BTreeMap<String, String> = wl
        .rows
        .iter()
        .map(|r| (r[wid].clone(), r[wty].clone()))
        .collect();
    assert_eq!(got.len(), wl.rows.len(), "a child twice on the list");
    for t in got.values() {
        assert!(WARNING_TYPES.contains(&t.as_str()), "预警类型 {t}");
    }
    let injected: BTreeSet<usize> = [
        l.status_missing,
        l.status_unknown,
        l.possible,
        l.dropout,
        l.outside_dropout,
    ]
    .into_iter()
    .chain(l.unsurveyed.iter().copied())
    .collect();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for (c, _) in &round.surveyed {
        let ch = &round.children[*c];
        let listed = ch.status.is_dropout()
            || ch.status == Status::Missing
            || ch.status == Status::LongLeave;
        if listed && !injected.contains(c) {
            want.insert(ch.id.clone(), ch.status.label_zh().to_string());
        }
    }
    for (c, t) in [
        (l.status_missing, "状态待核实"),
        (l.status_unknown, "状态待核实"),
        (l.possible, "待人工确认"),
        (l.unsurveyed[0], "未摸底（去向不明）"),
        (l.unsurveyed[1], "未摸底（去向不明）"),
        (l.dropout, "辍学"),
        (l.outside_dropout, "失学"),
    ] {
        want.insert(id_of(c), t.to_string());
    }
    assert_eq!(got, want, "warning list");
    let prow_w = wl
        .rows
        .iter()
        .find(|r| r[wid] == id_of(l.possible))
        .unwrap();
    assert_eq!(prow_w[wst], "在校(本县)", "the survey's status");

    // 附件3: every child in 学龄人口数; the others in 备注.
    let stats = annex(&od, Annex::Stats, Field::Village);
    let counts: Vec<usize> = Field::STAT_COUNTS
        .iter()
        .map(|f| col(Annex::Stats, *f))
        .collect();
    let srm = col(Annex::Stats, Field::Remark);
    let num = |s: &str| s.parse::<i64>().unwrap_or(0);
    for r in &stats.rows {
        let parts: i64 = counts[1..].iter().map(|&c| num(&r[c])).sum();
        assert_eq!(
            num(&r[counts[0]]),
            parts + derive::pending_in_remark(&r[srm]),
            "学龄人口数 of {}: {r:?}",
            r[col(Annex::Stats, Field::Village)]
        );
    }
    let total = stats.rows.last().unwrap();
    assert_eq!(num(&total[counts[0]]), ledger.rows.len() as i64);
    assert_eq!(
        (
            count_after(&total[srm], "未摸底"),
            count_after(&total[srm], "待人工确认"),
            count_after(&total[srm], "状态待核实"),
        ),
        (2, 1, 2),
        "{}",
        total[srm]
    );

    // taizhang's own 附件3 passes its own checks.
    let chk = wd.run(&[
        "check",
        od.join(Annex::Stats.file_name()).to_str().unwrap(),
        "--config",
        "round/taizhang.toml",
        "--out",
        "out_check",
    ]);
    let cj = wd.findings("out_check");
    assert!(
        cells_with_code(&cj, "STATS_DIFFERS").is_empty(),
        "{}",
        chk.all()
    );
}

#[test]
fn counts_agree_everywhere_and_draft_line_until_ready() {
    let l = landed_round(47);
    let wd = Workdir::new("landing-counts");
    write_round(&wd, &l.round);
    let (out, json) = reconcile(&wd);
    let od = wd.join("out");
    let want = (2i64, 1i64, 2i64);

    // findings.json
    let s = &json["summary"];
    let j = (
        s["unsurveyed"].as_i64().unwrap(),
        s["unconfirmed"].as_i64().unwrap(),
        s["status_unknown"].as_i64().unwrap(),
    );
    assert_eq!(j, want, "findings.json");
    assert_eq!(s["roster_only"].as_i64().unwrap(), want.0);
    // terminal
    let term = out.stdout.clone();
    let t = (
        count_after(&term, "名单中未摸底"),
        count_after(&term, "待人工确认（疑似匹配）"),
        count_after(&term, "状态待核实"),
    );
    assert_eq!(t, want, "terminal: {term}");
    // 报告.html
    let html = std::fs::read_to_string(od.join("报告.html")).unwrap();
    let h = (
        html_count(&html, "unsurveyed"),
        html_count(&html, "unconfirmed"),
        html_count(&html, "status-unknown"),
    );
    assert_eq!(h, want, "报告.html");
    // 核对说明 of the annotated roster
    let notes = sheet_rows(&od.join("县局名单.核对.xlsx"), "核对说明");
    let line = notes
        .iter()
        .flatten()
        .find(|t| t.contains("名单中未摸底"))
        .expect("核对说明 gives the counts")
        .clone();
    let n = (
        count_after(&line, "名单中未摸底"),
        count_after(&line, "待人工确认（疑似匹配）"),
        count_after(&line, "状态待核实"),
    );
    assert_eq!(n, want, "核对说明: {line}");
    // 附件3 合计 备注
    let stats = annex(&od, Annex::Stats, Field::Village);
    let rm = &stats.rows.last().unwrap()[col(Annex::Stats, Field::Remark)];
    let a3 = (
        count_after(rm, "未摸底"),
        count_after(rm, "待人工确认"),
        count_after(rm, "状态待核实"),
    );
    assert_eq!(a3, want, "附件3: {rm}");
    // warning list
    let wl = annex(&od, Annex::Warning, Field::Name);
    let wty = col(Annex::Warning, Field::WarningType);
    let by = |t: &str| wl.rows.iter().filter(|r| r[wty] == t).count() as i64;
    let w = (by("未摸底（去向不明）"), by("待人工确认"), by("状态待核实"));
    assert_eq!(w, want, "warning list");

    // Draft line on every generated annex, with the number of errors.
    let errors = s["errors"].as_u64().unwrap();
    assert!(errors > 0);
    let ledger = annex(&od, Annex::Ledger, Field::Name);
    for (a, v) in [
        (Annex::Ledger, &ledger),
        (Annex::Stats, &stats),
        (Annex::Warning, &wl),
    ] {
        assert_eq!(
            v.draft.as_deref(),
            Some(format!("草稿：尚有 {errors} 个错误未改正").as_str()),
            "{a:?}"
        );
        assert!(!v.rows.is_empty(), "{a:?}");
    }

    // A clean round: no draft line, the data where the template has it.
    let wd = Workdir::new("landing-ready");
    write_round(&wd, &clean_round(120, 47));
    let (out, json) = reconcile(&wd);
    assert_eq!(out.status, 0, "{}", out.all());
    assert_eq!(json["summary"]["ready"], true);
    let od = wd.join("out");
    for (a, key) in [(Annex::Ledger, Field::Name), (Annex::Stats, Field::Village)] {
        let v = annex(&od, a, key);
        assert_eq!(v.draft, None, "{a:?}");
        assert!(!v.rows.is_empty(), "{a:?}");
        let all = sheet_rows(&od.join(a.file_name()), a.sheet_name());
        assert!(all.iter().flatten().all(|t| !t.contains("草稿")), "{a:?}");
    }
}

/// A hand-filled 附件2 of the round's roster children with their true
/// status, school and grade.
fn ledger_of(round: &Round, skip: &BTreeSet<usize>) -> (Vec<Vec<TCell>>, Vec<usize>) {
    let t = |s: &str| TCell::from(s);
    let mut rows = Vec::new();
    let mut who = Vec::new();
    for &ci in &round.roster {
        let c = &round.children[ci];
        if c.township != round.spec.township || skip.contains(&ci) || who.contains(&ci) {
            continue;
        }
        who.push(ci);
        rows.push(vec![
            TCell::Int(rows.len() as i64 + 1),
            t(&c.township),
            t(&c.village),
            t(&c.group),
            t(&c.household_head),
            t(&c.household_type),
            t(&c.name),
            t(c.sex.label_zh()),
            t(&c.id),
            t(&c.birth.format("%Y-%m-%d").to_string()),
            t(c.status.label_zh()),
            t(&c.school),
            t(&c.grade.map(grade_label).unwrap_or_default()),
            t(&c.reason),
            t(&c.evidence),
            TCell::Empty,
            TCell::Empty,
        ]);
    }
    (rows, who)
}

/// The ledger row of child `c` written as 未摸底, with no school or grade.
fn mark_unsurveyed(rows: &mut [Vec<TCell>], who: &[usize], c: usize) {
    let k = who.iter().position(|&x| x == c).expect("in the ledger");
    rows[k][col(Annex::Ledger, Field::Status)] = TCell::from("未摸底");
    for f in [Field::School, Field::Grade, Field::Reason, Field::Evidence] {
        rows[k][col(Annex::Ledger, f)] = TCell::Empty;
    }
}

fn write_ledger(wd: &Workdir, round: &Round, rows: Vec<Vec<TCell>>) {
    let data = AnnexData {
        township: Some(round.spec.township.clone()),
        school_year: round.spec.school_year,
        unit: format!("{}人民政府", round.spec.township),
        villages: round
            .spec
            .schools
            .iter()
            .flat_map(|(_, v)| v.clone())
            .collect(),
        rows,
        ..Default::default()
    };
    wd.write(
        "round/附件2_学龄人口台账_手填.xlsx",
        build_annex(Annex::Ledger, &data).unwrap(),
    );
}

#[test]
fn ledger_status_without_a_survey_row_is_ledger_differs() {
    let mut round = clean_round(260, 53);
    // A whole village never surveyed, and two more children.
    let village = round.spec.schools[0].1[5].clone();
    let mut unsurveyed: BTreeSet<usize> = round
        .surveyed
        .iter()
        .filter(|(c, _)| round.children[*c].village == village)
        .map(|(c, _)| *c)
        .collect();
    assert!(unsurveyed.len() >= 3, "{village}");
    let mut taken = unsurveyed.clone();
    for _ in 0..2 {
        let i = pick_row(&round, &taken, |_| true);
        taken.insert(round.surveyed[i].0);
        unsurveyed.insert(round.surveyed[i].0);
    }
    round.surveyed.retain(|(c, _)| !unsurveyed.contains(c));
    // And a child whose survey row is only a possible match.
    let p = pick_row(&round, &taken, |_| true);
    let possible = round.surveyed[p].0;
    make_possible(&mut round, p);
    let (mut rows, who) = ledger_of(&round, &BTreeSet::new());
    // One of them written honestly as 未摸底: nothing to flag there.
    let honest = *unsurveyed.iter().next().unwrap();
    mark_unsurveyed(&mut rows, &who, honest);
    let st = col(Annex::Ledger, Field::Status);
    let wd = Workdir::new("landing-ledger");
    write_round(&wd, &round);
    write_ledger(&wd, &round, rows);
    let (out, json) = reconcile(&wd);
    assert_eq!(out.status, 1, "{}", out.all());
    let first = Annex::Ledger.first_data_row();
    let status_col = taizhang::model::col_letter(st as u32 + 1);
    let possible_row = first + who.iter().position(|&c| c == possible).unwrap() as u32;
    let flagged: BTreeSet<u32> = findings_array(&json)
        .iter()
        .filter(|f| f["code"] == "LEDGER_DIFFERS")
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("没有摸底表记录支持")
        })
        .map(|f| {
            assert_eq!(f["field"], "status", "{f}");
            assert_eq!(f["column"], status_col.as_str(), "{f}");
            let row = f["row"].as_u64().unwrap() as u32;
            let why = if row == possible_row {
                "疑似记录"
            } else {
                "摸底表中没有这名儿童的记录"
            };
            assert!(f["message"].as_str().unwrap().contains(why), "{f}");
            row
        })
        .collect();
    let want: BTreeSet<u32> = who
        .iter()
        .enumerate()
        .filter(|(_, c)| (unsurveyed.contains(c) && **c != honest) || **c == possible)
        .map(|(k, _)| first + k as u32)
        .collect();
    assert_eq!(flagged, want);
    // No other ledger finding: the rest agrees with the survey.
    let others: Vec<&Value> = findings_array(&json)
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("LEDGER_"))
        .filter(|f| {
            !f["message"]
                .as_str()
                .unwrap()
                .contains("没有摸底表记录支持")
        })
        .collect();
    assert!(others.is_empty(), "{others:#?}");
}

// ---------------------------------------------------------------------------
// The hard linkage cases, each with the twin and namesake traps beside it.

/// Every linked pair of findings.json joins a survey row to its own child.
fn assert_precision(round: &Round, json: &Value) -> usize {
    let rows = round.survey_excel_rows();
    let at: HashMap<(String, u32), usize> = (0..round.surveyed.len())
        .map(|i| ((survey_file_of(round, i), rows[i]), round.surveyed[i].0))
        .collect();
    let mut n = 0;
    for l in links_array(json)
        .iter()
        .filter(|l| l["decision"] == "linked")
    {
        let rr = l["roster"]["row"].as_u64().unwrap() as u32;
        let rc = round.roster[(rr - ROSTER_FIRST_DATA_ROW) as usize];
        let key = (
            l["survey"]["file"].as_str().unwrap().to_string(),
            l["survey"]["row"].as_u64().unwrap() as u32,
        );
        let sc = at[&key];
        assert_eq!(
            round.children[rc].id, round.children[sc].id,
            "wrong link {key:?} → roster row {rr}"
        );
        n += 1;
    }
    n
}

/// A child's twin sibling, when both are surveyed once and in the roster.
fn twin_pair(round: &Round) -> (usize, usize) {
    let mut times: HashMap<usize, usize> = HashMap::new();
    for (c, _) in &round.surveyed {
        *times.entry(*c).or_default() += 1;
    }
    (0..round.children.len())
        .find_map(|a| {
            let b = round.children[a].twin_of?;
            let ok = |c: usize| {
                times.get(&c) == Some(&1)
                    && round.roster.contains(&c)
                    && round.children[c].township == round.spec.township
            };
            (ok(a) && ok(b)).then_some((a, b))
        })
        .expect("a twin pair in the round")
}

/// Add a namesake stranger of child `c` to the roster: same name and sex,
/// another village, household and birth date. Never surveyed.
fn add_namesake(round: &mut Round, c: usize, birth: chrono::NaiveDate) -> usize {
    let mut rng = Rng::new(99);
    let mut n = round.children[c].clone();
    let villages: Vec<String> = round
        .spec
        .schools
        .iter()
        .flat_map(|(_, v)| v.clone())
        .collect();
    n.village = villages.iter().find(|v| **v != n.village).unwrap().clone();
    n.household_head = "钱德胜".into();
    n.household_no = "9999".into();
    n.birth = birth;
    n.id = synth::make_id(&mut rng, &n.id[..6], birth, n.sex);
    n.twin_of = None;
    round.children.push(n);
    let k = round.children.len() - 1;
    round.roster.push(k);
    round.roster_expected.push(vec!["NOT_SURVEYED"]);
    k
}

fn survey_index_of(round: &Round, c: usize) -> usize {
    round.surveyed.iter().position(|(x, _)| *x == c).unwrap()
}

fn codes_at(json: &Value, file: &str, row: u32) -> Vec<String> {
    let mut v: Vec<String> = findings_array(json)
        .iter()
        .filter(|f| f["file"] == file && f["row"].as_u64() == Some(row as u64))
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn link_of(json: &Value, file: &str, row: u32) -> Option<(String, u32)> {
    links_array(json)
        .iter()
        .find(|l| l["survey"]["file"] == file && l["survey"]["row"].as_u64() == Some(row as u64))
        .map(|l| {
            (
                l["decision"].as_str().unwrap().to_string(),
                l["roster"]["row"].as_u64().unwrap() as u32,
            )
        })
}

#[test]
fn child_listed_twice_in_the_roster_links_the_first_copy() {
    let mut round = clean_round(200, 61);
    let (twin, _) = twin_pair(&round);
    // The twin listed twice; a namesake stranger of the twin elsewhere.
    let first = round.roster_row_of(twin).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    round.roster.push(twin);
    round.roster_expected.push(vec!["DUPLICATE_ID"]);
    let copy = round.roster.len() as u32 - 1 + ROSTER_FIRST_DATA_ROW;
    let born = round.children[twin].birth - chrono::Duration::days(400);
    let namesake = add_namesake(&mut round, twin, born);
    let wd = Workdir::new("landing-dup");
    write_round(&wd, &round);
    let (mut rows, who) = ledger_of(&round, &BTreeSet::new());
    mark_unsurveyed(&mut rows, &who, namesake);
    write_ledger(&wd, &round, rows);
    let (out, json) = reconcile(&wd);
    assert_eq!(out.status, 1, "{}", out.all());
    assert_eq!(codes_at(&json, ROSTER, copy), vec!["DUPLICATE_ID"]);
    let si = survey_index_of(&round, twin);
    let file = survey_file_of(&round, si);
    let srow = round.survey_excel_rows()[si];
    assert_eq!(link_of(&json, &file, srow), Some(("linked".into(), first)));
    assert!(codes_at(&json, &file, srow).is_empty());
    assert!(
        cells_with_code(&json, "POSSIBLE_MATCH").is_empty(),
        "no twin note, no possible match"
    );
    let text = serde_json::to_string(&json).unwrap();
    assert!(!text.contains("同户同日出生"), "no twin note");
    // The hand-filled ledger lists the child once: nothing to say about it.
    let ledger_findings: Vec<&Value> = findings_array(&json)
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("LEDGER_"))
        .collect();
    assert!(ledger_findings.is_empty(), "{ledger_findings:#?}");
    // A ledger copied from the roster, the child twice: DUPLICATE_ID on the
    // ledger's copy, nothing else.
    let (mut rows, who) = ledger_of(&round, &BTreeSet::new());
    mark_unsurveyed(&mut rows, &who, namesake);
    let k = who.iter().position(|&c| c == twin).unwrap();
    let mut again = rows[k].clone();
    again[0] = TCell::Int(rows.len() as i64 + 1);
    rows.push(again);
    let ledger_copy = Annex::Ledger.first_data_row() + rows.len() as u32 - 1;
    write_ledger(&wd, &round, rows);
    let out2 = wd.run(&["reconcile", "round", "--out", "out2"]);
    let json2 = wd.findings("out2");
    assert_eq!(
        codes_at(&json2, "附件2_学龄人口台账_手填.xlsx", ledger_copy),
        vec!["DUPLICATE_ID"],
        "{}",
        out2.all()
    );
    assert!(
        findings_array(&json2)
            .iter()
            .all(|f| !f["code"].as_str().unwrap().starts_with("LEDGER_")),
        "{:#?}",
        findings_array(&json2)
    );
    // 附件2 lists the child once.
    let ledger = annex(&wd.join("out"), Annex::Ledger, Field::Name);
    let lid = col(Annex::Ledger, Field::Id);
    let id = &round.children[twin].id;
    assert_eq!(ledger.rows.iter().filter(|r| &r[lid] == id).count(), 1);
    assert!(assert_precision(&round, &json) > 100);
}

#[test]
fn valid_but_retyped_id_links_with_id_differs() {
    let mut round = clean_round(200, 67);
    let (a, b) = twin_pair(&round);
    let c = round.surveyed[pick_row(&round, &[a, b].into(), |_| true)].0;
    for (who, id) in [
        (a, sequence_retyped(&round.children[a].id)),
        (c, region_retyped(&round.children[c].id)),
    ] {
        let i = survey_index_of(&round, who);
        round.surveyed[i].1.id = id;
        round.surveyed[i].1.id_as_number = false;
        let born = round.children[who].birth;
        add_namesake(&mut round, who, born - chrono::Duration::days(200));
    }
    let wd = Workdir::new("landing-id");
    write_round(&wd, &round);
    let (_, json) = reconcile(&wd);
    for who in [a, c] {
        let si = survey_index_of(&round, who);
        let file = survey_file_of(&round, si);
        let srow = round.survey_excel_rows()[si];
        let rrow = round.roster_row_of(who).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
        assert_eq!(
            link_of(&json, &file, srow),
            Some(("linked".into(), rrow)),
            "{}",
            round.children[who].name
        );
        let f = findings_array(&json)
            .iter()
            .find(|f| {
                f["code"] == "ID_DIFFERS"
                    && f["file"] == file.as_str()
                    && f["row"].as_u64() == Some(srow as u64)
            })
            .expect("ID_DIFFERS on the survey row");
        assert_eq!(f["suggestion"], round.children[who].id.as_str());
    }
    // The twin links to its own row, the namesakes to nothing.
    let si = survey_index_of(&round, b);
    let rrow = round.roster_row_of(b).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    assert_eq!(
        link_of(
            &json,
            &survey_file_of(&round, si),
            round.survey_excel_rows()[si]
        ),
        Some(("linked".into(), rrow))
    );
    assert!(assert_precision(&round, &json) > 100);
    assert!(cells_with_code(&json, "POSSIBLE_MATCH").is_empty());
}

#[test]
fn lunar_birthday_without_id_links_with_birthdate_differs() {
    let mut round = clean_round(200, 71);
    let (a, b) = twin_pair(&round);
    let days = 34;
    let lunar = round.children[a].birth + chrono::Duration::days(days);
    {
        let i = survey_index_of(&round, a);
        let r = &mut round.surveyed[i].1;
        r.id = String::new();
        r.id_as_number = false;
        r.birth_date = lunar;
        r.birth_style = DateStyle::Dash;
        r.birth = lunar.format("%Y-%m-%d").to_string();
    }
    // The namesake stranger born on exactly the date the survey gives.
    add_namesake(&mut round, a, lunar);
    let wd = Workdir::new("landing-lunar");
    write_round(&wd, &round);
    let (_, json) = reconcile(&wd);
    let si = survey_index_of(&round, a);
    let file = survey_file_of(&round, si);
    let srow = round.survey_excel_rows()[si];
    let rrow = round.roster_row_of(a).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    assert_eq!(link_of(&json, &file, srow), Some(("linked".into(), rrow)));
    let codes = codes_at(&json, &file, srow);
    assert!(
        codes.contains(&"BIRTHDATE_DIFFERS".to_string()),
        "{codes:?}"
    );
    let si = survey_index_of(&round, b);
    let rrow = round.roster_row_of(b).unwrap() as u32 + ROSTER_FIRST_DATA_ROW;
    assert_eq!(
        link_of(
            &json,
            &survey_file_of(&round, si),
            round.survey_excel_rows()[si]
        ),
        Some(("linked".into(), rrow)),
        "the twin keeps its own row"
    );
    assert!(assert_precision(&round, &json) > 100);
}
