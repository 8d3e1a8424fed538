//! Benchmark: annotating a large survey workbook next to calamine just
//! reading it.
//!
//! ```text
//! cargo run --release --example bench_annotate            # 30,000 and 300,000 rows
//! cargo run --release --example bench_annotate -- 50000   # other sizes
//! ```
//!
//! For each size the example writes a synthetic survey workbook (18 columns,
//! title and header rows, text-formatted IDs, borders), builds findings on
//! about 5% of the rows (a mix of cell and row findings, all severities),
//! then runs each measurement in a child process of its own (this example
//! re-executed with `--child …`), so each peak RSS (VmHWM from
//! /proc/self/status) is that measurement's alone:
//! - `read`: calamine `open_workbook` + `worksheet_range` of the data sheet;
//! - `annotate`: `taizhang::annotate::annotate_xlsx` (fills, notes, 核对说明).
//!
//! With `--xls`, the workbook is converted to .xls by LibreOffice (soffice)
//! and the rebuilt copy is measured instead:
//! - `read`: calamine `open_workbook` + `worksheet_range` of the .xls;
//! - `rebuild values`: `read_grids` + `rebuild_xlsx` (values only);
//! - `rebuild`: `read_grids` + `rebuild_xls` (values and formatting).
//!
//! ```text
//! cargo run --release --example bench_annotate -- --xls 30000
//! ```
//!
//! Fixtures are synthetic (`testkit::synth` names and IDs).

use calamine::{Reader, Xlsx, open_workbook};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatBorder, Workbook};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use taizhang::annotate::{SummaryInfo, annotate_xlsx};
use taizhang::model::{Code, Finding, Sex};
use testkit::synth::{Rng, fake_name, make_id};

const HEADER: [&str; 18] = [
    "序号",
    "村（社区）",
    "组",
    "户主姓名",
    "户类型",
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "就读状态",
    "就读学校",
    "年级",
    "监护人",
    "联系电话",
    "佐证材料",
    "户籍地",
    "是否残疾",
    "备注",
];
const VILLAGES: [&str; 6] = [
    "双坪村",
    "刘家湾村",
    "沙湾村",
    "熨斗社区",
    "长沟村",
    "白庙村",
];
const STATUS: [&str; 5] = ["在校(本县)", "在校", "在读", "在校(县外)", "送教上门"];
const SHEET: &str = "Sheet1";
const FIRST_DATA_ROW: u32 = 4; // title, unit line, header, then data

fn vmhwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far (/proc/self/stat, 100 Hz ticks).
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After ")": state is field 3, utime 14, stime 15 → indices 11, 12.
            let u: f64 = f.get(11)?.parse().ok()?;
            let k: f64 = f.get(12)?.parse().ok()?;
            Some((u + k) / 100.0)
        })
        .unwrap_or(0.0)
}

fn generate(path: &Path, rows: u32) {
    let mut rng = Rng::new(20221012);
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(16);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7")
        .set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let text = Format::new()
        .set_num_format("@")
        .set_border(FormatBorder::Thin);
    let ws = wb.add_worksheet().set_name(SHEET).unwrap();
    ws.merge_range(
        0,
        0,
        0,
        17,
        "熨斗镇农村义务教育阶段学龄人口摸底调查表",
        &title,
    )
    .unwrap();
    ws.write_string(1, 0, "填报单位：熨斗初级中学").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &head).unwrap();
        ws.set_column_width(c as u16, if c == 7 { 22 } else { 10 })
            .unwrap();
    }
    ws.set_freeze_panes(3, 0).unwrap();
    let base = NaiveDate::from_ymd_opt(2007, 1, 1).unwrap();
    for i in 0..rows {
        let r = FIRST_DATA_ROW - 1 + i;
        let sex = if rng.chance(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let birth = base + chrono::Days::new(rng.below(3650));
        let head_name = fake_name(&mut rng, None);
        let surname: String = head_name.chars().take(1).collect();
        let name = fake_name(&mut rng, Some(&surname));
        let id = make_id(&mut rng, "610922", birth, sex);
        ws.write_number_with_format(r, 0, (i + 1) as f64, &cell)
            .unwrap();
        ws.write_string_with_format(r, 1, *rng.pick(&VILLAGES), &cell)
            .unwrap();
        ws.write_string_with_format(r, 2, format!("{}组", 1 + rng.below(9)), &cell)
            .unwrap();
        ws.write_string_with_format(r, 3, &head_name, &cell)
            .unwrap();
        ws.write_string_with_format(r, 4, "一般农户", &cell)
            .unwrap();
        ws.write_string_with_format(r, 5, &name, &cell).unwrap();
        let sx = if sex == Sex::Male { "男" } else { "女" };
        ws.write_string_with_format(r, 6, sx, &cell).unwrap();
        ws.write_string_with_format(r, 7, &id, &text).unwrap();
        ws.write_string_with_format(r, 8, birth.format("%Y%m%d").to_string(), &text)
            .unwrap();
        ws.write_string_with_format(r, 9, *rng.pick(&STATUS), &cell)
            .unwrap();
        ws.write_string_with_format(r, 10, "熨斗初级中学", &cell)
            .unwrap();
        ws.write_string_with_format(r, 11, format!("{}年级", 1 + rng.below(9)), &cell)
            .unwrap();
        ws.write_string_with_format(r, 12, &head_name, &cell)
            .unwrap();
        ws.write_string_with_format(r, 13, format!("139{:08}", rng.below(100_000_000)), &text)
            .unwrap();
        ws.write_string_with_format(r, 14, "", &cell).unwrap();
        ws.write_string_with_format(r, 15, "熨斗镇", &cell).unwrap();
        ws.write_string_with_format(r, 16, "否", &cell).unwrap();
        ws.write_blank(r, 17, &cell).unwrap();
    }
    wb.save(path).unwrap();
}

/// Findings on about 5% of the rows: one or two per row, all severities.
fn findings(file: &str, rows: u32) -> Vec<Finding> {
    let mut rng = Rng::new(7);
    let kinds: [(Code, &str, &str); 6] = [
        (Code::ID_CHECKSUM, "H", "id"),
        (Code::NAME_FORMAT, "F", "name"),
        (Code::STATUS_UNKNOWN, "J", "status"),
        (Code::NOT_IN_ROSTER, "F", ""),
        (Code::DROPOUT, "J", "status"),
        (Code::GRADE_AGE, "L", "grade"),
    ];
    let mut out = Vec::new();
    for i in 0..rows {
        if !rng.chance(0.05) {
            continue;
        }
        let n = 1 + rng.below(2) as usize;
        for _ in 0..n {
            let (code, col, field) = *rng.pick(&kinds);
            out.push(Finding {
                code,
                severity: code.severity(),
                file: file.to_string(),
                input: Default::default(),
                sheet: SHEET.to_string(),
                row: FIRST_DATA_ROW + i,
                column: col.to_string(),
                field: field.to_string(),
                value: "6109222010050312X5".to_string(),
                suggestion: Some("610922201005031234".to_string()),
                message: format!("{}（合成数据第{}行）", code.title_zh(), i + 1),
                related: vec![],
                village: Some(VILLAGES[(i % 6) as usize].to_string()),
            });
        }
    }
    out
}

fn child(args: &[String]) {
    let t = Instant::now();
    match args[0].as_str() {
        "gen" => {
            generate(Path::new(&args[1]), args[2].parse().unwrap());
            println!(
                "{:.3} {} 0 {:.2}",
                t.elapsed().as_secs_f64(),
                vmhwm_kb(),
                cpu_s()
            );
        }
        "read" => {
            let c0 = cpu_s();
            let mut wb: Xlsx<_> = open_workbook(&args[1]).unwrap();
            let range = wb.worksheet_range(SHEET).unwrap();
            let cells = range.get_size();
            println!(
                "{:.3} {} {} {:.2}",
                t.elapsed().as_secs_f64(),
                vmhwm_kb(),
                cells.0 * cells.1,
                cpu_s() - c0
            );
        }
        "annotate" => {
            let input = Path::new(&args[1]);
            let rows: u32 = args[3].parse().unwrap();
            let name = input.file_name().unwrap().to_string_lossy().into_owned();
            let fs = findings(&name, rows);
            let info = SummaryInfo {
                ready: false,
                verdict: String::new(),
                findings: fs.clone(),
                rebuilt_from: None,
                inputs_note: vec![],
                pending: None,
                ..Default::default()
            };
            let t = Instant::now();
            let c0 = cpu_s();
            annotate_xlsx(input, Path::new(&args[2]), &fs, &info).unwrap();
            println!(
                "{:.3} {} {} {:.2}",
                t.elapsed().as_secs_f64(),
                vmhwm_kb(),
                fs.len(),
                cpu_s() - c0
            );
        }
        "read-xls" => {
            let c0 = cpu_s();
            let mut wb: calamine::Xls<_> = open_workbook(&args[1]).unwrap();
            let range = wb.worksheet_range(SHEET).unwrap();
            let cells = range.get_size();
            println!(
                "{:.3} {} {} {:.2}",
                t.elapsed().as_secs_f64(),
                vmhwm_kb(),
                cells.0 * cells.1,
                cpu_s() - c0
            );
        }
        "rebuild-xls" | "rebuild-values" => {
            let input = Path::new(&args[1]);
            let rows: u32 = args[3].parse().unwrap();
            let name = input.file_name().unwrap().to_string_lossy().into_owned();
            let fs = findings(&name, rows);
            let info = SummaryInfo {
                findings: fs.clone(),
                rebuilt_from: Some(format!("本文件由 {name} 重建为 xlsx")),
                ..SummaryInfo::default()
            };
            let c0 = cpu_s();
            let grids = taizhang::read::read_grids(input).unwrap();
            let output = Path::new(&args[2]);
            if args[0] == "rebuild-xls" {
                taizhang::annotate::rebuild_xls(input, &grids, output, &fs, &info).unwrap();
            } else {
                taizhang::annotate::rebuild_xlsx(&grids, output, &fs, &info).unwrap();
            }
            println!(
                "{:.3} {} {} {:.2}",
                t.elapsed().as_secs_f64(),
                vmhwm_kb(),
                fs.len(),
                cpu_s() - c0
            );
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Run this example again as a child; returns (wall s, peak RSS kB, extra, CPU s).
fn measure(args: &[&str]) -> (f64, u64, u64, f64) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .arg("--child")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    let v: Vec<&str> = s.split_whitespace().collect();
    (
        v[0].parse().unwrap(),
        v[1].parse().unwrap(),
        v[2].parse().unwrap(),
        v[3].parse().unwrap(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(|a| a.as_str()) == Some("--child") {
        child(&args[1..]);
        return;
    }
    if args.first().map(|a| a.as_str()) == Some("--xls") {
        xls_main(&args[1..]);
        return;
    }
    let sizes: Vec<u32> = if args.is_empty() {
        vec![30_000, 300_000]
    } else {
        args.iter().map(|a| a.parse().expect("row count")).collect()
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("taizhang-bench-annotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "| rows | file MB | findings | calamine read: wall s | CPU s | peak MB | annotate: wall s | CPU s | peak MB | annotate/read: wall | CPU | peak |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let input = dir.join(format!("survey_{n}.xlsx"));
        let output = dir.join(format!("survey_{n}.核对.xlsx"));
        let (gen_s, _, _, _) = measure(&["gen", input.to_str().unwrap(), &n.to_string()]);
        eprintln!("generated {n} rows in {gen_s:.1} s");
        let mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
        let (rs, rk, _, rc) = measure(&["read", input.to_str().unwrap()]);
        let (as_, ak, nf, ac) = measure(&[
            "annotate",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            &n.to_string(),
        ]);
        println!(
            "| {n} | {mb:.1} | {nf} | {rs:.2} | {rc:.2} | {:.0} | {as_:.2} | {ac:.2} | {:.0} | {:.2} | {:.2} | {:.2} |",
            rk as f64 / 1024.0,
            ak as f64 / 1024.0,
            as_ / rs,
            ac / rc.max(0.01),
            ak as f64 / rk as f64
        );
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&output);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `.xls` rows: the workbook converted by LibreOffice, then calamine
/// reading it next to the rebuilt copy with and without the formatting.
fn xls_main(args: &[String]) {
    let sizes: Vec<u32> = if args.is_empty() {
        vec![30_000]
    } else {
        args.iter().map(|a| a.parse().expect("row count")).collect()
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("taizhang-bench-xls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "| rows | .xls MB | findings | calamine read: wall s | CPU s | peak MB | rebuild, values only: wall s | CPU s | peak MB | rebuild with formatting: wall s | CPU s | peak MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let xlsx = dir.join(format!("survey_{n}.xlsx"));
        measure(&["gen", xlsx.to_str().unwrap(), &n.to_string()]);
        let profile = dir.join("lo-profile");
        let status = Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args(["--headless", "--convert-to", "xls", "--outdir"])
            .arg(&dir)
            .arg(&xlsx)
            .output()
            .expect("soffice (LibreOffice) runs");
        assert!(status.status.success(), "{status:?}");
        let input = dir.join(format!("survey_{n}.xls"));
        let output = dir.join(format!("survey_{n}.核对.xlsx"));
        let mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
        let (rs, rk, _, rc) = measure(&["read-xls", input.to_str().unwrap()]);
        let io = [input.to_str().unwrap(), output.to_str().unwrap()];
        let (vs, vk, _, vc) = measure(&["rebuild-values", io[0], io[1], &n.to_string()]);
        let (fs, fk, nf, fc) = measure(&["rebuild-xls", io[0], io[1], &n.to_string()]);
        println!(
            "| {n} | {mb:.1} | {nf} | {rs:.2} | {rc:.2} | {:.0} | {vs:.2} | {vc:.2} | {:.0} | {fs:.2} | {fc:.2} | {:.0} |",
            rk as f64 / 1024.0,
            vk as f64 / 1024.0,
            fk as f64 / 1024.0,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
