//! Test-only helpers: fake IDs for county 610922 with correct check digits,
//! a hand-made `Record` builder (normalisation is another module's job), and
//! a tiny seeded PRNG.

use crate::gb11643::{parse_id, with_check};
use crate::model::{Cell, DateValue, Field, IdInfo, IdKind, Record, Role, Sex, StatusValue};
use std::collections::BTreeMap;

/// A valid ID for county 610922: birth `yyyymmdd`, sequence 0..=999.
pub fn make_id(birth: &str, seq: u32) -> String {
    with_check(&format!("610922{birth}{:03}", seq % 1000)).expect("digits")
}

/// Classify an ID string the way the normaliser does a text cell.
pub fn id_info(s: &str) -> IdInfo {
    parse_id(&Cell::Text(s.to_string()))
}

/// What Excel keeps of a number-typed ID: the first 15 digits then 000.
pub fn truncated_info(full: &str) -> IdInfo {
    let clean = format!("{}000", &full[..15]);
    IdInfo {
        raw: format!("{}E+17", &full[..1]).into(),
        clean: clean.into(),
        kind: IdKind::Truncated,
    }
}

/// A builder for hand-made records.
#[derive(Clone)]
pub struct Rb(pub Record);

pub fn rec(role: Role, table: usize, row: u32) -> Rb {
    let mut cols = BTreeMap::new();
    for (i, f) in [
        Field::Village,
        Field::HouseholdHead,
        Field::Name,
        Field::Sex,
        Field::Id,
        Field::Birthdate,
        Field::Status,
        Field::PlatformStatus,
        Field::PlatformDropout,
    ]
    .iter()
    .enumerate()
    {
        cols.insert(*f, i as u32 + 2);
    }
    Rb(Record {
        table,
        role,
        row,
        name: Default::default(),
        name_raw: Default::default(),
        id: id_info(""),
        sex: None,
        sex_raw: Default::default(),
        birth: DateValue::Missing,
        birth_raw: Default::default(),
        village: None,
        village_raw: Default::default(),
        group: Default::default(),
        household_head: Default::default(),
        household_type: Default::default(),
        township: Default::default(),
        status: StatusValue::Missing,
        status_raw: Default::default(),
        school: Default::default(),
        grade: crate::model::GradeValue::Missing,
        grade_raw: Default::default(),
        reason: Default::default(),
        evidence: Default::default(),
        surveyor: Default::default(),
        remark: Default::default(),
        platform_status: Default::default(),
        platform_dropout: Default::default(),
        platform_reason: Default::default(),
        household_no: Default::default(),
        cols: cols.into(),
    })
}

impl Rb {
    /// Name as the cell shows it; the clean form drops spaces and unifies dots.
    pub fn name(mut self, raw: &str) -> Rb {
        self.0.name_raw = raw.into();
        self.0.name = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if "•‧・．".contains(c) { '·' } else { c })
            .collect();
        self
    }
    pub fn id(mut self, id: &str) -> Rb {
        self.0.id = id_info(id);
        self
    }
    pub fn id_info(mut self, id: IdInfo) -> Rb {
        self.0.id = id;
        self
    }
    /// Birth date yyyymmdd.
    pub fn birth(mut self, ymd: &str) -> Rb {
        self.0.birth = match chrono::NaiveDate::parse_from_str(ymd, "%Y%m%d") {
            Ok(d) => DateValue::Day(d),
            Err(_) => DateValue::Missing,
        };
        self
    }
    pub fn sex(mut self, s: Sex) -> Rb {
        self.0.sex = Some(s);
        self.0.sex_raw = s.label_zh().into();
        self
    }
    pub fn village(mut self, v: &str) -> Rb {
        self.0.village = Some(v.into());
        self.0.village_raw = v.into();
        self
    }
    /// A village the configuration does not know.
    pub fn unknown_village(mut self, raw: &str) -> Rb {
        self.0.village = None;
        self.0.village_raw = raw.into();
        self
    }
    pub fn head(mut self, h: &str) -> Rb {
        self.0.household_head = h.into();
        self
    }
    pub fn status(mut self, s: crate::model::Status) -> Rb {
        self.0.status = StatusValue::Known(s);
        self.0.status_raw = s.label_zh().into();
        self
    }
    pub fn platform(mut self, status: &str, dropout: &str) -> Rb {
        self.0.platform_status = status.into();
        self.0.platform_dropout = dropout.into();
        self
    }
    /// A complete child: name, valid ID from birth + seq, sex from the ID, village.
    pub fn child(self, name: &str, birth: &str, seq: u32, village: &str) -> Rb {
        let id = make_id(birth, seq);
        let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
        self.name(name)
            .id(&id)
            .birth(birth)
            .sex(sex)
            .village(village)
    }
    pub fn build(self) -> Record {
        self.0
    }
}

/// splitmix64: small, seeded, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}
