//! Writes the synthetic sample round of 熨斗镇 2022 into a folder (default
//! `samples/`): taizhang.toml, the county roster, one survey workbook per
//! school, and a hand-filled 附件2 and 附件3 with a few mistakes. Every person
//! is invented (seeded generator, `testkit::synth`).
//!
//! `samples/make.sh` runs this and then converts one survey workbook to .xls
//! with LibreOffice, the way WPS users send it.
//!
//! Usage: cargo run --example make_samples -- [DIR] [CHILDREN] [SEED]

use std::path::PathBuf;
use taizhang::derive;
use taizhang::model::{Field, Status};
use taizhang::normalize::grade::grade_label;
use taizhang::templates::{Annex, AnnexData, TCell, build_annex};
use testkit::synth::{self, Round, RoundSpec};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "samples".into()));
    let children: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(360);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2022);
    std::fs::create_dir_all(&dir)?;
    let spec = RoundSpec::yundou(children, seed);
    let mut round = synth::generate(&spec);
    add_clerk_slips(&mut round);
    std::fs::write(dir.join("taizhang.toml"), spec.config_toml())?;
    synth::write_roster_xlsx(&round, &dir.join("县局名单.xlsx"))?;
    for (school, _) in &spec.schools {
        synth::write_survey_xlsx(&round, school, &dir.join(Round::survey_file_name(school)))?;
    }
    write_hand_annexes(&round, &dir)?;
    println!(
        "已生成示例数据：{}（{} 名虚构儿童）",
        dir.display(),
        round.children.len()
    );
    Ok(())
}

/// A few more mistakes the generator does not make on its own, on clean rows,
/// so that the samples show every kind of finding a clerk will meet: a blank
/// name, a blank ID, an in-school child without a school, 延缓入学 for an
/// older child, a village name that is not the township's, and one whole
/// village that nobody surveyed.
fn add_clerk_slips(round: &mut Round) {
    let clean: Vec<usize> = (0..round.surveyed.len())
        .filter(|&i| {
            round.surveyed[i].1.kinds.is_empty() && round.surveyed[i].1.duplicate_of.is_none()
        })
        .collect();
    let pick = |k: usize| clean[(k * 37 + 11) % clean.len()];
    round.surveyed[pick(1)].1.name.clear();
    round.surveyed[pick(2)].1.id.clear();
    {
        let row = &mut round.surveyed[pick(3)].1;
        row.status = "在校".into();
        row.school.clear();
    }
    {
        let row = &mut round.surveyed[pick(4)].1;
        row.status = "延缓入学".into();
        row.school.clear();
        row.grade.clear();
        row.reason = "身体原因".into();
        row.evidence = "延缓入学申请表、县医院证明".into();
    }
    round.surveyed[pick(5)].1.village = "金鑫村".into();
    // A 16-year-old the teacher wrote down too: not in the roster, outside the age window.
    {
        let (child, mut row) = round.surveyed[pick(6)].clone();
        let birth = chrono::NaiveDate::from_ymd_opt(2005, 5, 20).expect("valid date");
        let mut rng = synth::Rng::new(7);
        row.name = synth::fake_name(&mut rng, None);
        row.id = synth::make_id(&mut rng, "610922", birth, taizhang::model::Sex::Female);
        row.id_as_number = false;
        row.sex = "女".into();
        row.birth = "2005-05-20".into();
        row.birth_date = birth;
        row.birth_style = synth::DateStyle::Dash;
        row.status = "初中已毕业".into();
        row.school.clear();
        row.grade.clear();
        row.evidence = "初中毕业证".into();
        row.merge_household = false;
        row.household_head = row.name.clone();
        let at = pick(6) + 1;
        round.surveyed.insert(at, (child, row));
    }
    // The smallest village of the township: its survey rows never came back.
    let mut count: std::collections::BTreeMap<String, usize> = Default::default();
    for &c in &round.roster {
        let ch = &round.children[c];
        if ch.township == round.spec.township {
            *count.entry(ch.village.clone()).or_default() += 1;
        }
    }
    if let Some((village, _)) = count.iter().min_by_key(|(v, n)| (**n, (*v).clone())) {
        let village = village.clone();
        let children = &round.children;
        round
            .surveyed
            .retain(|(c, _)| children[*c].village != village);
    }
}

fn text(s: &str) -> TCell {
    TCell::from(s)
}

/// A hand-filled ledger and statistics table, the way a school types them:
/// from the true round, with two children left out, one wrong status, one
/// wrong grade, and one statistics cell miscounted.
fn write_hand_annexes(round: &Round, dir: &std::path::Path) -> anyhow::Result<()> {
    let spec = &round.spec;
    let mut rows = Vec::new();
    let mut statuses: Vec<(String, Option<Status>)> = Vec::new();
    let mut left_out = 0;
    for (k, &ci) in round.roster.iter().enumerate() {
        let c = &round.children[ci];
        if c.township != spec.township {
            continue;
        }
        // Two children the clerk forgot to copy over.
        if k % 97 == 40 && left_out < 2 {
            left_out += 1;
            continue;
        }
        let mut status = c.status;
        let mut grade = c.grade.map(grade_label).unwrap_or_default();
        if k == 25 {
            status = if status == Status::InSchoolLocal {
                Status::InSchoolOut
            } else {
                Status::InSchoolLocal
            };
        }
        if k == 31 {
            grade = grade_label(c.grade.unwrap_or(3) % 9 + 1);
        }
        statuses.push((c.village.clone(), Some(status)));
        rows.push(vec![
            TCell::Int(rows.len() as i64 + 1),
            text(&c.township),
            text(&c.village),
            text(&c.group),
            text(&c.household_head),
            text(&c.household_type),
            text(&c.name),
            text(if c.sex == taizhang::model::Sex::Male {
                "男"
            } else {
                "女"
            }),
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
    std::fs::write(
        dir.join("附件2_学龄人口台账_手填.xlsx"),
        build_annex(Annex::Ledger, &data(rows))?,
    )?;

    let stats = derive::stats_from(
        &villages,
        statuses.iter().map(|(v, s)| {
            (
                v.as_str(),
                s.map_or(derive::Landing::StatusUnknown, derive::Landing::Known),
            )
        }),
    );
    let mut srows = Vec::new();
    for (i, s) in stats
        .iter()
        .filter(|s| s.village != derive::TOTAL_ROW)
        .enumerate()
    {
        let mut row = vec![TCell::Int(i as i64 + 1), text(&s.village)];
        for f in Field::STAT_COUNTS {
            let mut n = s.get(f);
            // One miscounted cell: a child counted as 本县 twice.
            if i == 2 && f == Field::StatInSchoolLocal {
                n += 1;
            }
            row.push(TCell::Int(n));
        }
        row.push(TCell::Empty);
        srows.push(row);
    }
    std::fs::write(
        dir.join("附件3_台账统计表_手填.xlsx"),
        build_annex(Annex::Stats, &data(srows))?,
    )?;
    Ok(())
}
