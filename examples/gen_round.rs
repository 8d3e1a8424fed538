//! Writes a generated round for the benchmarks: taizhang.toml, the county
//! roster and one survey file per school (xlsx up to 300,000 roster
//! children, csv beyond), plus `truth.csv`, the ground truth the bench
//! scripts score links against. Every person is invented (`testkit::synth`).
//!
//! truth.csv columns: survey_file, survey_row (1-based Excel row),
//! roster_file, roster_row (1-based Excel row, empty when the child is not
//! in the roster), damaged_id, not_in_roster, twin, duplicate (0/1), and
//! twin_roster_row (the twin sibling's roster row, for forbidden links),
//! hard (the hard case injected with `--hard`, else empty).
//!
//! `--hard` adds three hard cases, each to about 1% of the clean, singly
//! surveyed roster children (twins included, so the twin traps stay):
//! `roster_dup` (the child listed twice in the roster; the truth is the
//! first copy), `id_retyped` (the survey's ID valid but different: two
//! sequence digits, or the region, retyped with the check digit
//! recomputed) and `lunar` (no ID, birth date 20–50 days later).
//!
//! Usage: cargo run --release --example gen_round -- DIR CHILDREN [SEED] [--csv|--xlsx] [--hard]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use testkit::ids;
use testkit::synth::{self, DateStyle, Defect, Round, RoundSpec};

/// Roster children per village above which extra villages are added, so a
/// large round looks like a county rather than one township of giant villages.
const CHILDREN_PER_VILLAGE: usize = 2_000;

const VILLAGE_HEADS: &[&str] = &[
    "青", "石", "杨", "柳", "松", "桃", "李", "王", "马", "黄", "白", "龙", "凤", "金", "银", "铁",
    "东", "西", "南", "北", "上", "下", "新", "老", "大", "小", "高", "三", "五", "七", "红", "兴",
];
const VILLAGE_TAILS: &[&str] = &[
    "家沟村",
    "树坪村",
    "河湾村",
    "岭村",
    "庄村",
    "坝村",
    "垭村",
    "堡村",
    "营村",
    "田村",
];

fn scaled_spec(children: usize, seed: u64) -> RoundSpec {
    let mut spec = RoundSpec::yundou(children, seed);
    let have: usize = spec.schools.iter().map(|(_, v)| v.len()).sum();
    let want = children.div_ceil(CHILDREN_PER_VILLAGE);
    let mut k = 0usize;
    let mut added = have;
    while added < want {
        let head = VILLAGE_HEADS[k % VILLAGE_HEADS.len()];
        let tail = VILLAGE_TAILS[(k / VILLAGE_HEADS.len()) % VILLAGE_TAILS.len()];
        let round = k / (VILLAGE_HEADS.len() * VILLAGE_TAILS.len());
        let name = if round == 0 {
            format!("{head}{tail}")
        } else {
            // 青家沟二村 …
            let n = ["", "二", "三", "四", "五", "六", "七", "八", "九"][round.min(8)];
            format!("{head}{}{n}村", tail.trim_end_matches('村'))
        };
        k += 1;
        if spec.schools.iter().any(|(_, vs)| vs.contains(&name)) {
            continue;
        }
        let s = added % spec.schools.len();
        spec.schools[s].1.push(name);
        added += 1;
    }
    spec
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: Vec<&String> = args.iter().filter(|a| a.starts_with("--")).collect();
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let dir = PathBuf::from(pos.first().map(|s| s.as_str()).unwrap_or("bench/data/2000"));
    let children: usize = pos.get(1).map(|s| s.parse()).transpose()?.unwrap_or(2_000);
    let seed: u64 = pos.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2022);
    let csv = if flags.iter().any(|f| *f == "--csv") {
        true
    } else if flags.iter().any(|f| *f == "--xlsx") {
        false
    } else {
        children > 300_000
    };

    std::fs::create_dir_all(&dir)?;
    let spec = scaled_spec(children, seed);
    let t0 = std::time::Instant::now();
    let mut round = synth::generate(&spec);
    let hard = if flags.iter().any(|f| *f == "--hard") {
        inject_hard(&mut round, seed)
    } else {
        HashMap::new()
    };
    eprintln!(
        "generated {} children in {:?}",
        round.children.len(),
        t0.elapsed()
    );
    std::fs::write(dir.join("taizhang.toml"), spec.config_toml())?;
    let ext = if csv { "csv" } else { "xlsx" };
    let roster_file = format!("县局名单.{ext}");
    if csv {
        synth::write_roster_csv(&round, &dir.join(&roster_file))?;
    } else {
        synth::write_roster_xlsx(&round, &dir.join(&roster_file))?;
    }
    let mut survey_files = HashMap::new();
    for (school, _) in &spec.schools {
        let name = format!("附件1_{school}.{ext}");
        if csv {
            synth::write_survey_csv(&round, school, &dir.join(&name))?;
        } else {
            synth::write_survey_xlsx(&round, school, &dir.join(&name))?;
        }
        survey_files.insert(school.clone(), name);
    }
    write_truth(
        &round,
        &dir.join("truth.csv"),
        &roster_file,
        &survey_files,
        &hard,
    )?;
    eprintln!(
        "wrote {} ({} roster rows, {} survey rows) in {:?}",
        dir.display(),
        round.roster.len(),
        round.surveyed.len(),
        t0.elapsed()
    );
    Ok(())
}

/// Inject the hard cases; returns survey index → kind.
fn inject_hard(round: &mut Round, seed: u64) -> HashMap<usize, &'static str> {
    let mut rng = synth::Rng::new(seed ^ 0x4a52_4443_4153_4553);
    let mut times: HashMap<usize, usize> = HashMap::new();
    for (c, _) in &round.surveyed {
        *times.entry(*c).or_default() += 1;
    }
    let in_roster: std::collections::HashSet<usize> = round.roster.iter().copied().collect();
    let mut out = HashMap::new();
    for i in 0..round.surveyed.len() {
        let (c, row) = &round.surveyed[i];
        let c = *c;
        if !row.kinds.is_empty() || times[&c] != 1 || !in_roster.contains(&c) {
            continue;
        }
        let kind = match rng.below(100) {
            0 => "roster_dup",
            1 => "id_retyped",
            2 => "lunar",
            _ => continue,
        };
        let child = round.children[c].clone();
        match kind {
            "roster_dup" => {
                round.roster.push(c);
                round.roster_expected.push(vec!["DUPLICATE_ID"]);
            }
            "id_retyped" => {
                let new = if rng.chance(0.5) {
                    ids::sequence_retyped(&child.id)
                } else {
                    ids::region_retyped(&child.id)
                };
                let r = &mut round.surveyed[i].1;
                r.id = new;
                r.id_as_number = false;
            }
            _ => {
                let d = child.birth + chrono::Duration::days(20 + rng.below(31) as i64);
                let r = &mut round.surveyed[i].1;
                r.id = String::new();
                r.id_as_number = false;
                r.birth_date = d;
                r.birth_style = DateStyle::Dash;
                r.birth = d.format("%Y-%m-%d").to_string();
            }
        }
        out.insert(i, kind);
    }
    out
}

fn write_truth(
    round: &Round,
    path: &std::path::Path,
    roster_file: &str,
    survey_files: &HashMap<String, String>,
    hard: &HashMap<usize, &'static str>,
) -> anyhow::Result<()> {
    // The first copy of a child the roster lists twice.
    let mut roster_row: HashMap<usize, u32> = HashMap::new();
    for (k, &c) in round.roster.iter().enumerate() {
        roster_row
            .entry(c)
            .or_insert(synth::ROSTER_FIRST_DATA_ROW + k as u32);
    }
    let excel_rows = round.survey_excel_rows();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "survey_file,survey_row,roster_file,roster_row,damaged_id,not_in_roster,twin,duplicate,twin_roster_row,hard"
    )?;
    for (i, (c, row)) in round.surveyed.iter().enumerate() {
        let child = &round.children[*c];
        let rr = roster_row.get(c).copied();
        let damaged = row.kinds.iter().any(|k| {
            matches!(
                k,
                Defect::IdOneDigit
                    | Defect::IdSwap
                    | Defect::IdCheckDigit
                    | Defect::IdAsNumber
                    | Defect::Id15
                    | Defect::IdBadDate
            )
        });
        let twin_row = child.twin_of.and_then(|t| roster_row.get(&t).copied());
        let b = |x: bool| if x { "1" } else { "0" };
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            survey_files[&row.surveyed_by],
            excel_rows[i],
            if rr.is_some() { roster_file } else { "" },
            rr.map(|r| r.to_string()).unwrap_or_default(),
            b(damaged),
            b(rr.is_none()),
            b(child.twin_of.is_some()),
            b(row.duplicate_of.is_some()),
            twin_row.map(|r| r.to_string()).unwrap_or_default(),
            hard.get(&i).copied().unwrap_or_default(),
        )?;
    }
    f.flush()?;
    Ok(())
}
