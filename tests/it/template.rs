//! `taizhang template` run as a clerk runs it: the four blank official
//! workbooks read back with calamine (annex label, title, 填报单位 line,
//! header texts of the official canonical layouts), a filled copy checked by
//! `taizhang check`, and one template opened by LibreOffice.

use super::check::{CONFIG, V, clean_kid, col};
use super::support::*;
use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use std::path::Path;
use taizhang::model::{DateValue, Field, IdKind, Role};
use taizhang::templates::{Annex, AnnexData, TCell, build_annex};
use testkit::synth::Rng;

/// The official canonical layouts: (group of a two-row header, column) in order.
fn spec_layout(annex: Annex) -> Vec<(Option<&'static str>, &'static str)> {
    let plain = |v: &[&'static str]| v.iter().map(|c| (None, *c)).collect::<Vec<_>>();
    match annex {
        Annex::Survey => plain(&[
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
            "未在校原因",
            "佐证材料",
            "监护人",
            "联系电话",
            "调查人",
            "备注",
        ]),
        Annex::Ledger => plain(&[
            "序号",
            "乡镇",
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
            "未在校原因",
            "佐证材料",
            "核实人",
            "备注",
        ]),
        Annex::Stats => {
            let mut v = plain(&["序号", "村（社区）", "学龄人口数"]);
            v.extend([(Some("在校人数"), "本县"), (Some("在校人数"), "县外")]);
            v.push((None, "随班就读"));
            for c in [
                "送教上门",
                "延缓入学",
                "休学",
                "长期请假",
                "初中已毕业",
                "死亡",
                "失踪失联",
                "出国（境）",
            ] {
                v.push((Some("未在校但不属于失学辍学"), c));
            }
            v.extend(plain(&["失学辍学", "备注"]));
            v
        }
        Annex::Warning => plain(&[
            "序号",
            "乡镇",
            "村（社区）",
            "姓名",
            "性别",
            "身份证号码",
            "出生日期",
            "户类型",
            "预警类型",
            "就读状态",
            "未在校原因",
            "劝返措施",
            "责任人",
            "核查结果",
        ]),
    }
}

fn text(r: &Range<Data>, row1: u32, col0: usize) -> String {
    r.get_value((row1 - 1, col0 as u32))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// Header text as a reader sees it: line breaks and spaces removed.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn first_sheet(path: &Path) -> (String, Range<Data>) {
    let mut wb: Xlsx<_> =
        open_workbook(path).unwrap_or_else(|e| panic!("{} opens: {e}", path.display()));
    let name = wb.sheet_names()[0].clone();
    let r = wb.worksheet_range(&name).unwrap();
    (name, r)
}

#[test]
fn blank_templates_have_label_title_unit_line_and_spec_headers() {
    let w = Workdir::new("template");
    let out = w.run(&["template", "--out", "空白表格"]);
    assert_eq!(out.status, 0, "{}", out.all());
    let names = [
        (
            Annex::Survey,
            "附件1_摸底调查表.xlsx",
            Some("附件1"),
            "摸底调查表",
        ),
        (
            Annex::Ledger,
            "附件2_学龄人口台账.xlsx",
            Some("附件2"),
            "学龄人口台账",
        ),
        (
            Annex::Stats,
            "附件3_台账统计表.xlsx",
            Some("附件3"),
            "台账统计表",
        ),
        (
            Annex::Warning,
            "筛查预警清单.xlsx",
            None,
            "控辍保学筛查预警清单",
        ),
    ];
    let listed: Vec<_> = std::fs::read_dir(w.join("空白表格"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(listed.len(), 4, "{listed:?}");
    for (annex, file, label, title_end) in names {
        let p = w.join("空白表格").join(file);
        assert!(p.is_file(), "{file} written");
        // The embedded template is the committed one.
        let committed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(file);
        assert_eq!(
            checksum(&p),
            checksum(&committed),
            "{file} is templates/{file}"
        );

        let (_, r) = first_sheet(&p);
        let title_row = match label {
            Some(l) => {
                assert_eq!(text(&r, 1, 0), l, "{file}: annex label in A1");
                2
            }
            None => 1,
        };
        let title = text(&r, title_row, 0);
        assert!(
            title.ends_with(title_end) && title.contains("年"),
            "{file}: title {title:?}"
        );
        let unit = text(&r, title_row + 1, 0);
        assert!(unit.contains("填报单位"), "{file}: {unit:?}");
        let dated = (0..30).any(|c| text(&r, title_row + 1, c).contains("填报日期"));
        assert!(dated, "{file}: 填报日期 on the unit line");

        // Two-row header: the group above, its columns below; single columns
        // merged down (the text sits in the upper cell).
        let (upper, lower) = (title_row + 2, title_row + 3);
        let spec = spec_layout(annex);
        let mut group_seen = None;
        for (c, (group, label)) in spec.iter().enumerate() {
            let up = squash(&text(&r, upper, c));
            let low = squash(&text(&r, lower, c));
            match group {
                None => {
                    let shown = if low.is_empty() { &up } else { &low };
                    assert_eq!(shown, label, "{file}: column {c}");
                }
                Some(g) => {
                    assert_eq!(&low, label, "{file}: column {c}");
                    if group_seen != Some(*g) {
                        assert_eq!(&up, g, "{file}: group above column {c}");
                        group_seen = Some(*g);
                    }
                }
            }
        }
        assert!(
            text(&r, upper, spec.len()).is_empty() && text(&r, lower, spec.len()).is_empty(),
            "{file}: no column after {}",
            spec.len()
        );
        if annex == Annex::Stats {
            let has_total = (lower + 1..lower + 40)
                .any(|row| (0..3).any(|c| squash(&text(&r, row, c)) == "合计"));
            assert!(has_total, "{file}: a 合计 row");
        }
    }
    // Running it again over the same folder is fine and gives the same bytes.
    let sums = checksums_of_dir(w.join("空白表格"));
    let again = w.run(&["template", "--out", "空白表格"]);
    assert_eq!(again.status, 0, "{}", again.all());
    assert_eq!(sums, checksums_of_dir(w.join("空白表格")));
}

fn tcell(v: &V) -> TCell {
    match v {
        V::E => TCell::Empty,
        V::S(t) => TCell::Text(t.clone()),
        V::N(n) => TCell::Int(*n as i64),
        V::D(d) => TCell::Text(d.format("%Y-%m-%d").to_string()),
    }
}

/// A 附件1 filled through the template builder: `n` clean children of
/// 熨斗初级中学's villages; returns the bytes and the rows as written.
fn filled_survey(n: usize) -> (Vec<u8>, Vec<Vec<TCell>>) {
    let mut rng = Rng::new(31);
    let villages = ["金星村", "双坪村", "刘家湾村", "先联村", "沙湾村", "齐建村"];
    let cols = Annex::Survey.columns();
    assert_eq!(cols.len(), 18, "the survey layout of check.rs");
    let rows: Vec<Vec<TCell>> = (0..n)
        .map(|k| {
            let mut kid = clean_kid(&mut rng);
            kid.set("seq", V::N(k as f64 + 1.0));
            kid.set("village", V::S(villages[k % villages.len()].into()));
            if k % 2 == 1 {
                // Grades as numbers in half the rows.
                kid.set("grade", V::N(5.0));
            }
            if k == 3 {
                kid.set("name", V::S("阿依古丽·吐尔逊".into()));
            }
            (0..18).map(|c| tcell(&kid.cells[c])).collect()
        })
        .collect();
    let data = AnnexData {
        township: Some("熨斗镇".into()),
        school_year: 2022,
        unit: "熨斗初级中学".into(),
        date: "2022年10月17日".into(),
        villages: villages.iter().map(|v| v.to_string()).collect(),
        rows: rows.clone(),

        ..Default::default()
    };
    (build_annex(Annex::Survey, &data).unwrap(), rows)
}

fn cell_text(c: &TCell) -> String {
    match c {
        TCell::Empty => String::new(),
        TCell::Text(t) => t.clone(),
        TCell::Int(n) => n.to_string(),
    }
}

#[test]
fn a_filled_template_reads_back_and_checks_clean() {
    let w = Workdir::new("template-filled");
    w.write("taizhang.toml", CONFIG);
    let (bytes, rows) = filled_survey(12);
    let file = "附件1_熨斗初级中学.xlsx";
    w.write(file, &bytes);
    let out = w.run(&["check", file, "--config", "taizhang.toml", "--out", "out"]);
    assert_eq!(
        out.status,
        0,
        "a clean filled survey exits 0\n{}",
        out.all()
    );
    let json = w.findings("out");
    assert_eq!(findings_array(&json).len(), 0, "{:#}", json["findings"]);
    let inp = &json["inputs"][0];
    assert_eq!(inp["role"], "survey");
    assert_eq!(inp["sheet"], "摸底调查表");
    assert_eq!(inp["header_row"], Annex::Survey.header_rows().1);
    assert_eq!(inp["rows"], rows.len());

    // The records come back as written: names, IDs as text, dates.
    let tables = taizhang::read::read_input(&w.join(file), None, Some("熨斗镇"), 0).unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].role, Role::Survey);
    let cfg = taizhang::config::Config::from_toml(
        CONFIG,
        Path::new("taizhang.toml"),
        chrono::NaiveDate::from_ymd_opt(2022, 10, 10).unwrap(),
    )
    .unwrap();
    let villages = taizhang::normalize::village::VillageIndex::from_config(&cfg);
    let recs = taizhang::normalize::normalize_table(&tables[0], &villages);
    assert_eq!(recs.len(), rows.len());
    let first = Annex::Survey.first_data_row();
    for (k, (rec, row)) in recs.iter().zip(&rows).enumerate() {
        assert_eq!(rec.row, first + k as u32);
        assert_eq!(rec.name_raw, cell_text(&row[col("name")]), "row {k}");
        assert_eq!(rec.id.kind, IdKind::Valid, "row {k}");
        assert_eq!(rec.id.clean, cell_text(&row[col("id")]), "row {k}");
        let birth =
            chrono::NaiveDate::parse_from_str(&cell_text(&row[col("birthdate")]), "%Y-%m-%d")
                .unwrap();
        assert_eq!(rec.birth, DateValue::Day(birth), "row {k}");
        assert_eq!(
            rec.village.as_deref(),
            Some(cell_text(&row[col("village")]).as_str())
        );
        assert_eq!(rec.cols.get(&Field::Id), Some(&(col("id") as u32 + 1)));
    }

    // A wrong check digit in the filled form: the value comes back as the
    // exact 18-character text at the template's ID cell.
    let (_, mut rows) = filled_survey(12);
    let id = cell_text(&rows[4][col("id")]);
    let bad = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
    rows[4][col("id")] = TCell::Text(bad.clone());
    let data = AnnexData {
        township: Some("熨斗镇".into()),
        school_year: 2022,
        unit: "熨斗初级中学".into(),
        date: String::new(),
        villages: vec![],
        rows,

        ..Default::default()
    };
    w.write(
        "附件1_改错.xlsx",
        build_annex(Annex::Survey, &data).unwrap(),
    );
    let out = w.run(&[
        "check",
        "附件1_改错.xlsx",
        "--config",
        "taizhang.toml",
        "--out",
        "out2",
    ]);
    assert_eq!(out.status, 1, "{}", out.all());
    let json = w.findings("out2");
    let fs = findings_array(&json);
    assert_eq!(fs.len(), 1, "{:#}", json["findings"]);
    assert_eq!(fs[0]["code"], "ID_CHECKSUM");
    assert_eq!(fs[0]["row"], first + 4);
    assert_eq!(fs[0]["column"], "H");
    assert_eq!(fs[0]["value"], bad.as_str());
    assert_eq!(fs[0]["suggestion"], id.as_str());
}

#[test]
fn libreoffice_opens_a_template() {
    if std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("soffice not installed (apt-get install libreoffice-calc); skipped");
        return;
    }
    let w = Workdir::new("template-lo");
    let out = w.run(&["template", "--out", "t"]);
    assert_eq!(out.status, 0);
    let profile = w.join("lo-profile");
    let status = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to"])
        .arg("csv:Text - txt - csv (StarCalc):44,34,76,1")
        .arg("--outdir")
        .arg(w.join("csv"))
        .arg(w.join("t/附件1_摸底调查表.xlsx"))
        .output()
        .expect("run soffice");
    assert!(status.status.success(), "{status:?}");
    let csv = std::fs::read_to_string(w.join("csv/附件1_摸底调查表.csv"))
        .expect("LibreOffice wrote the csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].contains("附件1"), "{:?}", lines[0]);
    assert!(lines[1].contains("农村义务教育阶段学龄人口摸底调查表"));
    assert!(lines[2].contains("填报单位"));
    assert!(lines[4].contains("身份证号码") && lines[4].contains("就读状态"));
}
