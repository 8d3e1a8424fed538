//! The official templates filled with a synthetic round read back cell for
//! cell (with calamine, independent of taizhang's own reader).

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use std::io::Cursor;
use taizhang::model::Field;
use taizhang::templates::{Annex, AnnexData, TCell, build_annex, embedded, write_templates};
use testkit::synth::{self, RoundSpec};

fn sheet(bytes: Vec<u8>) -> (String, calamine::Range<Data>) {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx opens");
    let name = wb.sheet_names()[0].clone();
    let r = wb.worksheet_range(&name).expect("sheet");
    (name, r)
}

fn s(r: &calamine::Range<Data>, row1: u32, col0: usize) -> String {
    r.get_value((row1 - 1, col0 as u32))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The ledger rows of a round's roster, in canonical column order.
fn ledger_rows(round: &synth::Round) -> Vec<Vec<TCell>> {
    let cols = Annex::Ledger.columns();
    round
        .roster
        .iter()
        .enumerate()
        .filter(|(_, c)| round.children[**c].township == round.spec.township)
        .map(|(k, &c)| {
            let ch = &round.children[c];
            cols.iter()
                .map(|f| match f {
                    Field::Seq => TCell::Int(k as i64 + 1),
                    Field::Township => TCell::from(ch.township.as_str()),
                    Field::Village => TCell::from(ch.village.as_str()),
                    Field::Group => TCell::from(ch.group.as_str()),
                    Field::HouseholdHead => TCell::from(ch.household_head.as_str()),
                    Field::HouseholdType => TCell::from(ch.household_type.as_str()),
                    Field::Name => TCell::from(ch.name.as_str()),
                    Field::Sex => TCell::from(ch.sex.label_zh()),
                    Field::Id => TCell::Text(ch.id.clone()),
                    Field::Birthdate => TCell::Text(ch.birth.format("%Y-%m-%d").to_string()),
                    Field::Status => TCell::from(ch.status.label_zh()),
                    Field::School => TCell::from(ch.school.as_str()),
                    Field::Grade => ch
                        .grade
                        .map(|g| TCell::Int(g as i64))
                        .unwrap_or(TCell::Empty),
                    Field::Reason => TCell::from(ch.reason.as_str()),
                    Field::Evidence => TCell::from(ch.evidence.as_str()),
                    _ => TCell::Empty,
                })
                .collect()
        })
        .collect()
}

#[test]
fn filled_ledger_reads_back_cell_for_cell() {
    let round = synth::generate(&RoundSpec::yundou(150, 21));
    let rows = ledger_rows(&round);
    let data = AnnexData {
        township: Some("熨斗镇".into()),
        school_year: 2022,
        unit: "熨斗镇人民政府".into(),
        date: "2022年10月19日".into(),
        villages: round
            .spec
            .schools
            .iter()
            .flat_map(|s| s.1.clone())
            .collect(),
        rows: rows.clone(),
        ..AnnexData::blank()
    };
    let bytes = build_annex(Annex::Ledger, &data).unwrap();
    if let Some(dir) = std::env::var_os("TAIZHANG_DUMP_DIR") {
        let dir = std::path::Path::new(&dir);
        std::fs::write(dir.join("ledger_filled.xlsx"), &bytes).unwrap();
        synth::write_roster_xlsx(&round, &dir.join("roster.xlsx")).unwrap();
        let school = &round.spec.schools[1].0;
        synth::write_survey_xlsx(&round, school, &dir.join("survey.xlsx")).unwrap();
    }
    let (name, r) = sheet(bytes);
    assert_eq!(name, "学龄人口台账");
    assert_eq!(s(&r, 2, 0), "熨斗镇2022年农村义务教育阶段学龄人口台账");
    assert_eq!(s(&r, 3, 0), "填报单位：熨斗镇人民政府");
    let (_, header_row) = Annex::Ledger.header_rows();
    let cols = Annex::Ledger.columns();
    let id_col = cols.iter().position(|f| *f == Field::Id).unwrap();
    assert_eq!(s(&r, header_row, id_col), "身份证号码");
    let first = Annex::Ledger.first_data_row();
    for (k, row) in rows.iter().enumerate() {
        let excel_row = first + k as u32;
        for (c, v) in row.iter().enumerate() {
            let got = r.get_value((excel_row - 1, c as u32)).cloned();
            let want = match v {
                TCell::Empty => None,
                TCell::Text(t) => Some(Data::String(t.clone())),
                TCell::Int(n) => Some(Data::Float(*n as f64)),
            };
            // blank formatted cells come back as Data::Empty
            let got = got.filter(|d| *d != Data::Empty);
            assert_eq!(got, want, "mismatch at row {excel_row}, column {c}");
        }
    }
    // nothing below the data
    assert_eq!(
        r.end().map(|e| e.0 + 1),
        Some(first + rows.len() as u32 - 1)
    );
}

#[test]
fn blank_templates_on_disk_have_the_canonical_headers() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_templates(dir.path()).unwrap();
    for (p, annex) in paths.iter().zip(Annex::ALL) {
        assert_eq!(p.file_name().unwrap().to_str(), Some(annex.file_name()));
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(bytes, embedded(annex));
        let (_, r) = sheet(bytes);
        let (upper, lower) = annex.header_rows();
        for (c, h) in annex.header().iter().enumerate() {
            match h.group {
                // grouped columns: group above, label below
                Some(g) => {
                    assert_eq!(s(&r, lower, c), h.label);
                    if c == 0 || annex.header()[c - 1].group != Some(g) {
                        assert_eq!(s(&r, upper, c), g);
                    }
                }
                // single columns: the label in the upper cell, merged down
                None => assert_eq!(s(&r, upper, c), h.label),
            }
        }
        match annex.label() {
            Some(l) => assert_eq!(s(&r, 1, 0), l),
            None => assert!(s(&r, 1, 0).contains("预警清单")),
        }
    }
}

#[test]
fn stats_with_villages_prefills_names_and_total() {
    let villages: Vec<String> = ["金星村", "双坪村", "熨斗社区"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let data = AnnexData {
        township: Some("熨斗镇".into()),
        school_year: 2022,
        villages: villages.clone(),
        ..AnnexData::blank()
    };
    let bytes = build_annex(Annex::Stats, &data).unwrap();
    let (_, r) = sheet(bytes);
    let first = Annex::Stats.first_data_row();
    for (k, v) in villages.iter().enumerate() {
        assert_eq!(s(&r, first + k as u32, 1), *v);
    }
    assert_eq!(s(&r, first + 3, 1), "合计");
    assert_eq!(r.get_value((first + 3 - 1, 2)), Some(&Data::Float(0.0)));
}
