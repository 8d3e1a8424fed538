//! Benchmark of the output side of `reconcile` on a real round: the
//! annotated copies and the annex workbooks, each repeated, in CPU seconds.
//!
//! ```text
//! cargo run --release --example bench_out -- /tmp/r30k [repeats]
//! ```
//!
//! The round folder must hold `taizhang.toml`, `县局名单.xlsx` and the
//! `附件1_*.xlsx` surveys (as written by the `gen_round` example). The
//! pipeline up to the outputs runs once; then the annotated copies and the
//! annexes are written `repeats` times (default 3) into a temporary folder.

use std::path::PathBuf;
use std::time::Instant;
use taizhang::config::Config;
use taizhang::inputs::Selection;
use taizhang::round::{Round, Silent};
use taizhang::templates::Annex;

/// User + system CPU seconds of this process so far (/proc/self/stat, 100 Hz ticks).
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let k: f64 = f.get(12)?.parse().ok()?;
            Some((u + k) / 100.0)
        })
        .unwrap_or(0.0)
}

fn vmhwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map(String::as_str).unwrap_or("/tmp/r30k"));
    let repeats: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let mut surveys: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("round folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("附件1_"))
        })
        .collect();
    surveys.sort();
    let selection = Selection {
        roster: Some(dir.join("县局名单.xlsx")),
        survey: surveys,
        ..Selection::default()
    };
    let inputs = selection.resolve().expect("inputs");
    let config = Config::find(Some(&dir.join("taizhang.toml")), None).expect("config");
    let round = Round::compute(&inputs, &config, &Silent).expect("compute");
    eprintln!(
        "computed: {} findings, {} ledger rows; peak so far {:.0} MB",
        round.findings.len(),
        round.derived.ledger.len(),
        vmhwm_mb()
    );
    let out = std::env::temp_dir().join(format!("taizhang-bench-out-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    // ONLY=ledger or ONLY=annotate: time one of the two (for perf).
    let only = std::env::var("ONLY").unwrap_or_default();
    for _ in 0..repeats {
        let (w0, c0) = (Instant::now(), cpu_s());
        if only != "ledger" {
            taizhang::output::write_annotated(&round, &out, &Silent).expect("annotate");
        }
        let (w1, c1) = (Instant::now(), cpu_s());
        if only == "annotate" {
            eprintln!(
                "annotate {:.2} s wall {:.2} s CPU",
                (w1 - w0).as_secs_f64(),
                c1 - c0
            );
            continue;
        }
        // The ledger as reconcile writes it (streamed, constant memory).
        taizhang::output::write_annex(&round, Annex::Ledger, &out).expect("ledger");
        let bytes = std::fs::metadata(out.join(Annex::Ledger.file_name()))
            .map(|m| m.len())
            .unwrap_or(0);
        let (w2, c2) = (Instant::now(), cpu_s());
        eprintln!(
            "annotate {:.2} s wall {:.2} s CPU | ledger {:.2} s wall {:.2} s CPU ({} bytes) | peak {:.0} MB",
            (w1 - w0).as_secs_f64(),
            c1 - c0,
            (w2 - w1).as_secs_f64(),
            c2 - c1,
            bytes,
            vmhwm_mb()
        );
    }
    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&out);
    } else {
        eprintln!("kept {}", out.display());
    }
}
