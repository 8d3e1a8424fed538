//! Criterion benches of the hot stages on a generated round (5,000 roster
//! children by default, `TAIZHANG_BENCH_CHILDREN` to change): normalize,
//! link, annotate. Not run in CI: `cargo bench --bench stages`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use taizhang::config::Config;
use taizhang::inputs::Selection;
use taizhang::link::{self, LinkParams};
use taizhang::output::write_annotated;
use taizhang::round::{Round, Silent, normalize_all, status_words, village_index};
use testkit::synth::{self, Round as SynthRound, RoundSpec};

fn write_round(dir: &Path, children: usize) {
    let spec = RoundSpec::yundou(children, 2022);
    let round = synth::generate(&spec);
    std::fs::write(dir.join("taizhang.toml"), spec.config_toml()).unwrap();
    synth::write_roster_xlsx(&round, &dir.join("县局名单.xlsx")).unwrap();
    for (school, _) in &spec.schools {
        synth::write_survey_xlsx(
            &round,
            school,
            &dir.join(SynthRound::survey_file_name(school)),
        )
        .unwrap();
    }
}

fn stages(c: &mut Criterion) {
    let children: usize = std::env::var("TAIZHANG_BENCH_CHILDREN")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("round");
    std::fs::create_dir_all(&dir).unwrap();
    write_round(&dir, children);
    let inputs = Selection::folder(&dir).resolve().unwrap();
    let config = Config::find(None, Some(&dir)).unwrap();
    let round = Round::compute(&inputs, &config, &Silent).unwrap();
    let villages = village_index(&round.config, &round.tables);
    let words = status_words(&round.config, &round.tables);

    let mut g = c.benchmark_group(format!("stages_{children}"));
    g.sample_size(10);
    g.bench_function("normalize", |b| {
        b.iter(|| black_box(normalize_all(black_box(&round.tables), &villages, &words)))
    });
    let params = LinkParams::default();
    g.bench_function("link", |b| {
        b.iter(|| {
            black_box(link::link(
                black_box(&round.records),
                &round.roster,
                &round.survey,
                &params,
            ))
        })
    });
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    g.bench_function("annotate", |b| {
        b.iter(|| black_box(write_annotated(&round, &out, &Silent).unwrap()))
    });
    g.bench_function("compute_all", |b| {
        b.iter(|| {
            black_box(
                Round::compute(black_box(&inputs), &config, &Silent)
                    .unwrap()
                    .pairs
                    .len(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
