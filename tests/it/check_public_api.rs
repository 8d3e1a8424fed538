//! The normalise + check stages driven through the public API only, the way
//! the `check` command chains them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use taizhang::check::{check_duplicates, check_table, school_of_survey};
use taizhang::config::Config;
use taizhang::gb11643::mask_text;
use taizhang::model::{Cell, Field, Format, RawRow, RawValue, Role, Table};
use taizhang::normalize::{VillageIndex, normalize_table};

fn fake(birth: &str, seq: &str) -> String {
    testkit::ids::with_check(&format!("610922{birth}{seq}"))
}

fn survey(index: usize, file: &str, rows: &[[&str; 6]]) -> Table {
    let fields = [
        Field::Village,
        Field::Name,
        Field::Id,
        Field::Status,
        Field::School,
        Field::Grade,
    ];
    let columns: BTreeMap<Field, u32> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, i as u32 + 2))
        .collect();
    Table {
        index,
        input: taizhang::model::InputId(index),
        path: PathBuf::from(file),
        file: file.into(),
        format: Format::Xlsx,
        sheet: "Sheet1".into(),
        role: Role::Survey,
        header_row: 3,
        columns: columns.clone(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, cells)| RawRow {
                row: i as u32 + 4,
                values: fields
                    .iter()
                    .zip(cells)
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(f, c)| {
                        (
                            *f,
                            RawValue {
                                col: columns[f],
                                cell: Cell::Text(c.to_string()),
                            },
                        )
                    })
                    .collect(),
            })
            .collect(),
        row_count: rows.len(),
        preamble: "填报单位：熨斗初级中学".into(),
        skipped: 0,
    }
}

#[test]
fn a_small_survey_round() {
    let cfg = Config::from_toml(
        r#"
township = "熨斗镇"
school_year = 2022
[[schools]]
name = "熨斗初级中学"
villages = ["金星村", "双坪村"]
[[schools]]
name = "熨斗镇中心小学"
villages = ["中河村"]
"#,
        std::path::Path::new("taizhang.toml"),
        chrono::NaiveDate::from_ymd_opt(2022, 10, 1).unwrap(),
    )
    .unwrap();
    let villages = VillageIndex::from_config(&cfg);
    let a = fake("20100503", "131");
    let b = fake("20120101", "242");
    let t1 = survey(
        0,
        "附件1_熨斗初级中学.xlsx",
        &[
            ["金星", "王小明", &a, "在校", "熨斗初级中学", "初一"],
            ["中河村", "李 倩", &b, "辍学在家", "", ""],
        ],
    );
    let t2 = survey(
        1,
        "附件1_补充.xlsx",
        &[["双坪村", "王小明", &a, "在读", "熨斗初级中学", "七年级"]],
    );
    let school = school_of_survey(&t1, &cfg);
    assert_eq!(school.as_deref(), Some("熨斗初级中学"));

    let mut records = normalize_table(&t1, &villages);
    records.extend(normalize_table(&t2, &villages));
    let mut findings = check_table(&t1, &records, &cfg, &villages, school.as_deref());
    findings.extend(check_table(&t2, &records, &cfg, &villages, None));
    findings.extend(check_duplicates(&[t1, t2], &records));

    let got: Vec<(String, u32, &str, &str)> = findings
        .iter()
        .map(|f| (f.file.clone(), f.row, f.column.as_str(), f.code.as_str()))
        .collect();
    let f1 = "附件1_熨斗初级中学.xlsx".to_string();
    assert_eq!(
        got,
        vec![
            (f1.clone(), 5, "C", "NAME_FORMAT"),
            (f1.clone(), 5, "E", "DROPOUT"),
            (f1, 5, "B", "VILLAGE_WRONG_SCHOOL"),
            ("附件1_补充.xlsx".to_string(), 4, "D", "DUPLICATE_ID"),
        ]
    );
    let dup = &findings[3];
    assert_eq!(dup.related[0].file, "附件1_熨斗初级中学.xlsx");
    assert_eq!(dup.village.as_deref(), Some("双坪村"));
    // Terminal output masks IDs found inside messages and values.
    let masked = mask_text(&format!("{} {}", dup.value, dup.message));
    assert!(!masked.contains(&a), "{masked}");
    assert!(masked.starts_with("610922***********"), "{masked}");
}
