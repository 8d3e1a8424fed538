//! Synthetic verification rounds for tests, samples and benchmarks.
//!
//! In: a [`RoundSpec`] (seed, size, township, schools and villages, defect
//! rate). Out: a [`Round`]: the true children, the county roster (which of
//! them the platform lists, plus a few rows of another township), the survey
//! rows as the teachers typed them with injected defects, and for every
//! survey row and roster row the finding codes a correct run must report.
//! Writers turn a round into the county export layout and into 附件1 survey
//! workbooks with the mess real files have (merged household cells, IDs
//! stored as numbers, mixed date formats), as xlsx or as UTF-8 csv.
//!
//! Guarantee: the same spec gives the same round and the same bytes. All
//! names and IDs are invented (IDs for county 610922 with valid GB 11643
//! check digits unless a defect says otherwise).

use chrono::{Datelike, Duration, NaiveDate};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use taizhang::model::{Sex, Status};

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------

/// SplitMix64. Hand-written on purpose: `rand`'s value streams change
/// between crate versions, and the committed fixtures and samples must stay
/// reproducible from their seed forever.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// A uniformly chosen element. Panics on an empty slice (callers pass
    /// the fixed tables of this module).
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1).max(1) as u64) as i64
    }
}

// ---------------------------------------------------------------------------
// IDs and names
// ---------------------------------------------------------------------------

/// A valid 18-digit ID: region, birth date, two random digits, a sex digit
/// (odd = male) and the check digit.
pub fn make_id(rng: &mut Rng, region: &str, birth: NaiveDate, sex: Sex) -> String {
    let seq = rng.below(100);
    let parity = match sex {
        Sex::Male => 1,
        Sex::Female => 0,
    };
    let sex_digit = rng.below(5) * 2 + parity;
    let first17 = format!("{region}{}{seq:02}{sex_digit}", birth.format("%Y%m%d"));
    crate::ids::with_check(&first17)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "汪",
];
/// Surnames whose reading trips up pinyin matching.
const RARE_SURNAMES: &[&str] = &["曾", "单", "仇", "翟", "区", "查", "朴", "覃", "解"];

/// Groups of same-sounding given-name characters.
const HOMOPHONES: &[&[&str]] = &[
    &["鑫", "欣", "新", "馨"],
    &["婷", "亭", "霆"],
    &["杰", "洁", "婕"],
    &["浩", "皓", "昊"],
    &["宇", "雨", "语"],
    &["涵", "晗", "寒"],
    &["轩", "萱", "宣"],
    &["怡", "宜", "仪"],
    &["静", "婧", "靖"],
    &["梓", "子", "紫"],
    &["晨", "辰", "臣"],
    &["俊", "骏", "峻"],
];
const GIVEN: &[&str] = &[
    "鑫", "欣", "新", "婷", "亭", "杰", "洁", "浩", "皓", "宇", "雨", "涵", "轩", "萱", "怡", "静",
    "梓", "子", "晨", "辰", "俊", "明", "博", "文", "思", "嘉", "一", "诗", "阳", "雪", "丽", "强",
    "伟", "磊", "娜", "敏", "芳", "军", "辉", "佳", "乐", "安", "瑞", "凯", "琳", "悦", "彤", "航",
    "天", "若", "可", "鹏", "成", "国", "志", "兰", "春", "秀", "海", "家", "泽", "睿", "晓", "艺",
];
const MINORITY_FIRST: &[&str] = &[
    "阿依古丽",
    "热依拉",
    "买买提",
    "艾力",
    "古丽娜",
    "迪丽拜尔",
    "努尔",
    "阿卜杜",
];
const MINORITY_LAST: &[&str] = &["吐尔逊", "艾买提", "热合曼", "阿不都", "依明", "卡德尔"];

/// An invented name: a surname (the given one, else a common or rare one)
/// and one or two given-name characters; a few are minority names with ·.
pub fn fake_name(rng: &mut Rng, surname: Option<&str>) -> String {
    if surname.is_none() && rng.chance(0.02) {
        return minority_name(rng);
    }
    let s = match surname {
        Some(s) => s.to_string(),
        None => pick_surname(rng).to_string(),
    };
    let mut n = s;
    n.push_str(pick_str(rng, GIVEN));
    if rng.chance(0.75) {
        n.push_str(pick_str(rng, GIVEN));
    }
    n
}

fn pick_str(rng: &mut Rng, xs: &[&'static str]) -> &'static str {
    xs[rng.below(xs.len() as u64) as usize]
}

fn minority_name(rng: &mut Rng) -> String {
    format!("{}·{}", rng.pick(MINORITY_FIRST), rng.pick(MINORITY_LAST))
}

fn pick_surname(rng: &mut Rng) -> &'static str {
    if rng.chance(0.08) {
        pick_str(rng, RARE_SURNAMES)
    } else {
        pick_str(rng, SURNAMES)
    }
}

fn homophone_group(c: &str) -> Option<&'static [&'static str]> {
    HOMOPHONES.iter().copied().find(|g| g.contains(&c))
}

// ---------------------------------------------------------------------------
// The round
// ---------------------------------------------------------------------------

/// One true child of the round.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub name: String,
    pub id: String,
    pub sex: Sex,
    pub birth: NaiveDate,
    pub township: String,
    pub village: String,
    pub group: String,
    pub household_head: String,
    pub household_type: String,
    pub household_no: String,
    pub person_no: String,
    pub status: Status,
    /// 就读学校 (empty when not enrolled)
    pub school: String,
    pub grade: Option<u8>,
    pub reason: String,
    pub evidence: String,
    /// Index of the twin sibling (same household, birth date and surname).
    pub twin_of: Option<usize>,
    /// The county platform's 在校生状况, 失学辍学 flag and reason.
    pub platform_status: String,
    pub platform_dropout: String,
    pub platform_reason: String,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSpec {
    pub seed: u64,
    /// True children of the township (before the out-of-age extras).
    pub children: usize,
    pub township: String,
    pub school_year: i32,
    /// school → villages
    pub schools: Vec<(String, Vec<String>)>,
    /// Share of children whose records get a defect.
    pub defect_rate: f64,
}

impl RoundSpec {
    /// 熨斗镇, school year 2022, the schools and villages of the sample township.
    pub fn yundou(children: usize, seed: u64) -> RoundSpec {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        RoundSpec {
            seed,
            children,
            township: "熨斗镇".into(),
            school_year: 2022,
            schools: vec![
                (
                    "熨斗初级中学".into(),
                    v(&["金星村", "双坪村", "刘家湾村", "先联村", "沙湾村", "齐建村"]),
                ),
                (
                    "熨斗镇中心小学".into(),
                    v(&[
                        "中河村",
                        "板长村",
                        "高兴村",
                        "麦坪村",
                        "茨林村",
                        "瓦子沟村",
                        "长岭村",
                        "熨斗社区",
                    ]),
                ),
            ],
            defect_rate: 0.10,
        }
    }

    /// The taizhang.toml text of this round.
    pub fn config_toml(&self) -> String {
        let mut s = format!(
            "township = \"{}\"\nschool_year = {}\n",
            self.township, self.school_year
        );
        for (school, villages) in &self.schools {
            let vs: Vec<String> = villages.iter().map(|v| format!("\"{v}\"")).collect();
            s.push_str(&format!(
                "\n[[schools]]\nname = \"{school}\"\nvillages = [{}]\n",
                vs.join(", ")
            ));
        }
        s
    }
}

/// A defect injected into a survey row (or, for the structural ones, into
/// the round).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// 鑫→欣: NAME_DIFFERS
    Homophone,
    /// one character replaced: NAME_DIFFERS
    NameTypo,
    /// "李 倩", or a minority name's dot spelled •/．: NAME_FORMAT
    NameSpaces,
    /// one wrong ID digit: ID_CHECKSUM, ID_DIFFERS
    IdOneDigit,
    /// two adjacent ID digits swapped: ID_CHECKSUM, ID_DIFFERS
    IdSwap,
    /// wrong check digit: ID_CHECKSUM, ID_DIFFERS
    IdCheckDigit,
    /// stored as a number: ID_TRUNCATED, ID_DIFFERS
    IdAsNumber,
    /// a 15-digit ID for a child: ID_DIFFERS (and ID_FORMAT or ID_LEGACY_15)
    Id15,
    /// month 13 / day 32 with a correct check digit: ID_BAD_DATE, ID_DIFFERS
    IdBadDate,
    /// stated birth date differs from the ID's: BIRTHDATE_MISMATCH
    BirthDiffers,
    /// stated sex differs from the ID's: SEX_MISMATCH
    SexDiffers,
    /// another village of the same school: VILLAGE_DIFFERS
    VillageDiffers,
    /// no 佐证材料 for a status that needs it: EVIDENCE_MISSING
    EvidenceMissing,
    /// the child is 失学/辍学: DROPOUT (and ROSTER_STATUS_DIFFERS when the
    /// platform still shows the child in school)
    Dropout,
    /// STATUS_MISSING
    StatusMissing,
    /// STATUS_UNKNOWN
    StatusUnknown,
    /// grade 3+ away from the age: GRADE_AGE
    GradeAge,
    /// a surveyed child outside the age window: OUT_OF_AGE_RANGE
    OutOfAge,
    /// the row again in another school's file: DUPLICATE_ID, VILLAGE_WRONG_SCHOOL
    DuplicateElsewhere,
    /// surveyed, not in the roster: NOT_IN_ROSTER
    NotInRoster,
    /// in the roster, not surveyed: NOT_SURVEYED (on the roster row)
    NotSurveyed,
}

impl Defect {
    pub const ALL: [Defect; 21] = [
        Defect::Homophone,
        Defect::NameTypo,
        Defect::NameSpaces,
        Defect::IdOneDigit,
        Defect::IdSwap,
        Defect::IdCheckDigit,
        Defect::IdAsNumber,
        Defect::Id15,
        Defect::IdBadDate,
        Defect::BirthDiffers,
        Defect::SexDiffers,
        Defect::VillageDiffers,
        Defect::EvidenceMissing,
        Defect::Dropout,
        Defect::StatusMissing,
        Defect::StatusUnknown,
        Defect::GradeAge,
        Defect::OutOfAge,
        Defect::DuplicateElsewhere,
        Defect::NotInRoster,
        Defect::NotSurveyed,
    ];
}

/// How a birth date was entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateStyle {
    /// A real date cell (xlsx); "2010/5/3" in csv.
    Real,
    Dash,
    Slash,
    Dot,
    Cjk,
    Compact,
}

/// One survey row as the teacher typed it.
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyRow {
    /// The school whose file holds the row.
    pub surveyed_by: String,
    pub name: String,
    /// The ID as typed (for `id_as_number`, the 18 digits before Excel lost
    /// the last three).
    pub id: String,
    pub id_as_number: bool,
    pub sex: String,
    /// The stated birth date as text (see `birth_style`).
    pub birth: String,
    pub birth_date: NaiveDate,
    pub birth_style: DateStyle,
    pub village: String,
    pub group: String,
    pub household_head: String,
    pub household_type: String,
    /// Not written; the merge key of household cells.
    pub household_no: String,
    pub status: String,
    /// 就读学校
    pub school: String,
    pub grade: String,
    pub reason: String,
    pub evidence: String,
    pub guardian: String,
    pub phone: String,
    pub surveyor: String,
    pub remark: String,
    /// 户主/村/组/户类型 merged down over the household's rows (xlsx only).
    pub merge_household: bool,
    pub kinds: Vec<Defect>,
    /// Finding codes a correct run must report on this row.
    pub defects: Vec<&'static str>,
    /// Codes a correct run may also report here, depending on rules the
    /// round leaves open (e.g. SEX_DIFFERS next to SEX_MISMATCH).
    pub maybe: Vec<&'static str>,
    /// For a duplicate: index (into `Round::surveyed`) of the first copy.
    pub duplicate_of: Option<usize>,
}

/// A generated round with its ground truth.
#[derive(Clone, Debug)]
pub struct Round {
    pub spec: RoundSpec,
    pub children: Vec<Child>,
    /// Roster rows in order (households contiguous); includes a few children
    /// of another township (`Child::township`), which are never surveyed.
    pub roster: Vec<usize>,
    /// Expected finding codes per roster row (parallel to `roster`).
    pub roster_expected: Vec<Vec<&'static str>>,
    /// Survey rows, file by file in `spec.schools` order, each file's rows in
    /// row order. `.0` is the true child (the truth link).
    pub surveyed: Vec<(usize, SurveyRow)>,
}

/// 1-based Excel row of the first roster data row (title, source line, header).
pub const ROSTER_FIRST_DATA_ROW: u32 = 4;
/// 1-based Excel row of the roster header.
pub const ROSTER_HEADER_ROW: u32 = 3;
/// 1-based Excel row of the first survey data row (附件1 label, title,
/// 填报单位 line, two header rows), in xlsx and csv alike.
pub const SURVEY_FIRST_DATA_ROW: u32 = 6;
/// 1-based Excel row of the lower survey header row.
pub const SURVEY_HEADER_ROW: u32 = 5;

impl Round {
    /// Indices into `surveyed` of one school's file, in row order.
    pub fn survey_rows_of(&self, school: &str) -> Vec<usize> {
        (0..self.surveyed.len())
            .filter(|&i| self.surveyed[i].1.surveyed_by == school)
            .collect()
    }
    /// The 1-based Excel row of `surveyed[i]` in its school's file.
    pub fn survey_excel_row(&self, i: usize) -> u32 {
        let school = &self.surveyed[i].1.surveyed_by;
        let k = self.surveyed[..i]
            .iter()
            .filter(|(_, r)| &r.surveyed_by == school)
            .count();
        SURVEY_FIRST_DATA_ROW + k as u32
    }
    /// The 1-based Excel row of every survey row (parallel to `surveyed`).
    pub fn survey_excel_rows(&self) -> Vec<u32> {
        let mut next: HashMap<&str, u32> = HashMap::new();
        self.surveyed
            .iter()
            .map(|(_, r)| {
                let n = next
                    .entry(r.surveyed_by.as_str())
                    .or_insert(SURVEY_FIRST_DATA_ROW);
                *n += 1;
                *n - 1
            })
            .collect()
    }
    /// The roster row (index into `roster`) of a child, if listed.
    pub fn roster_row_of(&self, child: usize) -> Option<usize> {
        self.roster.iter().position(|&c| c == child)
    }
    /// Survey file name used by the writers' callers and samples.
    pub fn survey_file_name(school: &str) -> String {
        format!("附件1_{school}.xlsx")
    }
}

const HOUSEHOLD_TYPES: &[(&str, u64)] = &[
    ("一般农户", 70),
    ("脱贫户", 22),
    ("监测户", 4),
    ("边缘易致贫户", 2),
    ("脱贫不稳定户", 1),
    ("突发严重困难户", 1),
];
const OUT_SCHOOLS: &[&str] = &[
    "西安市长安区第三小学",
    "安康市汉滨区江北小学",
    "汉中市第二初级中学",
    "宁波市鄞州区实验学校",
    "东莞市长安镇中心小学",
];
const OTHER_TOWNSHIPS: &[(&str, &[&str])] =
    &[("池河镇", &["五爱村", "新棉村"]), ("后柳镇", &["中坝村"])];
const DROPOUT_REASONS: &[&str] = &["厌学", "外出务工", "家庭困难", "身体原因"];
const UNKNOWN_STATUS: &[&str] = &["不清楚", "待核实", "情况不明", "其他"];
const SURVEY_SCHOOL_LOCAL_HIGH: &str = "县第一中学";
const VOCATIONAL: &str = "县职业教育中心";

fn weighted<'a>(rng: &mut Rng, xs: &'a [(&'a str, u64)]) -> &'a str {
    let total: u64 = xs.iter().map(|x| x.1).sum();
    let mut r = rng.below(total);
    for (s, w) in xs {
        if r < *w {
            return s;
        }
        r -= w;
    }
    xs[0].0
}

fn age_on_cutoff(school_year: i32, birth: NaiveDate) -> i32 {
    let mut age = school_year - birth.year();
    if (birth.month(), birth.day()) > (8, 31) {
        age -= 1;
    }
    age
}

fn window(school_year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(school_year - 16, 9, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(school_year - 6, 8, 31).unwrap_or_default(),
    )
}

fn random_date(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let days = (to - from).num_days().max(0);
    from + Duration::days(rng.range(0, days))
}

fn grade_level(g: u8) -> &'static str {
    match g {
        1..=6 => "小学",
        7..=9 => "初中",
        _ => "高中",
    }
}

struct Gen<'a> {
    spec: &'a RoundSpec,
    rng: Rng,
    ids: HashSet<String>,
    children: Vec<Child>,
    /// household → child indices
    households: Vec<Vec<usize>>,
    next_household: u32,
}

impl Gen<'_> {
    fn school_of(&self, village: &str) -> Option<usize> {
        self.spec
            .schools
            .iter()
            .position(|(_, vs)| vs.iter().any(|v| v == village))
    }

    fn unique_id(&mut self, birth: NaiveDate, sex: Sex) -> String {
        loop {
            let id = make_id(&mut self.rng, "610922", birth, sex);
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    /// Enrolment of a child of this age (natural distribution, no dropouts).
    fn enrol(&mut self, c: &mut Child) {
        let age = age_on_cutoff(self.spec.school_year, c.birth);
        let expected = (age - 5).clamp(1, 12) as u8;
        let r = self.rng.below(1000);
        let status = if age == 6 && r < 20 {
            Status::Deferred
        } else if age >= 15 && r < 60 {
            Status::Graduated
        } else {
            match r {
                0..=59 => Status::InSchoolOut,
                60..=71 => Status::Inclusive,
                72..=77 => Status::HomeTeaching,
                78..=81 => Status::Suspended,
                82..=84 => Status::LongLeave,
                85 => Status::Dead,
                86 => Status::Missing,
                87..=88 => Status::Abroad,
                _ => Status::InSchoolLocal,
            }
        };
        c.status = status;
        let keeps_school =
            status.in_school() || matches!(status, Status::Suspended | Status::LongLeave);
        if keeps_school {
            let g = match self.rng.below(100) {
                0..=11 => expected.saturating_sub(1).max(1),
                12..=14 => (expected + 1).min(12),
                _ => expected,
            };
            c.grade = Some(g);
            c.school = if status == Status::InSchoolOut {
                self.rng.pick(OUT_SCHOOLS).to_string()
            } else {
                local_school(self.spec, g, &mut self.rng)
            };
        }
        let (reason, evidence) = match status {
            Status::InSchoolOut => ("随父母外出就读", "在校证明、学籍证明"),
            Status::HomeTeaching => ("重度残疾", "残疾证、专家委员会评估意见、送教记录"),
            Status::Deferred => ("身体原因", "延缓入学申请表、县医院证明"),
            Status::Suspended => ("因病休学", "休学申请、教育局审批表"),
            Status::LongLeave => ("因病长期请假", "请假条、医院证明"),
            Status::Graduated => ("初中已毕业未升学", "毕业证"),
            Status::Dead => ("因病死亡", "死亡证明"),
            Status::Missing => ("随父母外出失联", "村委会证明、报警回执"),
            Status::Abroad => ("随父母出国", "出境记录"),
            _ => ("", ""),
        };
        c.reason = reason.into();
        c.evidence = evidence.into();
        self.set_platform(c, false);
    }

    fn set_platform(&mut self, c: &mut Child, stale: bool) {
        let age = age_on_cutoff(self.spec.school_year, c.birth);
        c.platform_dropout = "否".into();
        c.platform_reason.clear();
        c.platform_status = match (c.status, c.grade) {
            (s, _) if s.is_dropout() && stale => {
                grade_level((age - 5).clamp(1, 9) as u8).to_string()
            }
            (s, _) if s.is_dropout() => {
                c.platform_dropout = "是".into();
                c.platform_reason = c.reason.clone();
                String::new()
            }
            (Status::Deferred, _) => "学前教育".into(),
            (_, Some(g)) => grade_level(g).into(),
            _ => String::new(),
        };
    }

    fn household(&mut self, township: &str, village: &str, n: usize, twins: bool) {
        let surname: Option<String> = if self.rng.chance(0.02) {
            None
        } else {
            Some(pick_surname(&mut self.rng).to_string())
        };
        let head = match &surname {
            Some(s) => fake_name(&mut self.rng, Some(s)),
            None => minority_name(&mut self.rng),
        };
        self.next_household += 1;
        let household_no = format!("61092210{:06}", self.next_household);
        let group = format!("{}组", self.rng.range(1, 8));
        let htype = weighted(&mut self.rng, HOUSEHOLD_TYPES).to_string();
        let (from, to) = window(self.spec.school_year);
        let mut members: Vec<usize> = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        names.insert(head.clone());
        for k in 0..n {
            let twin = twins && k == 1;
            let birth = if twin {
                self.children[members[0]].birth
            } else {
                random_date(&mut self.rng, from, to)
            };
            let sex = if self.rng.chance(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let name = loop {
                let n = match &surname {
                    Some(s) => fake_name(&mut self.rng, Some(s)),
                    None => minority_name(&mut self.rng),
                };
                if names.insert(n.clone()) {
                    break n;
                }
            };
            let id = self.unique_id(birth, sex);
            let idx = self.children.len();
            let mut c = Child {
                name,
                id,
                sex,
                birth,
                township: township.into(),
                village: village.into(),
                group: group.clone(),
                household_head: head.clone(),
                household_type: htype.clone(),
                household_no: household_no.clone(),
                person_no: format!("{household_no}{:02}", k + 2),
                status: Status::InSchoolLocal,
                school: String::new(),
                grade: None,
                reason: String::new(),
                evidence: String::new(),
                twin_of: if twin { Some(members[0]) } else { None },
                platform_status: String::new(),
                platform_dropout: String::new(),
                platform_reason: String::new(),
            };
            self.enrol(&mut c);
            if twin {
                let first = members[0];
                self.children[first].twin_of = Some(idx);
            }
            self.children.push(c);
            members.push(idx);
        }
        self.households.push(members);
    }
}

fn local_school(spec: &RoundSpec, grade: u8, rng: &mut Rng) -> String {
    let find = |key: &str| {
        spec.schools
            .iter()
            .map(|(s, _)| s.clone())
            .find(|s| s.contains(key))
    };
    match grade {
        1..=6 => find("小学").unwrap_or_else(|| "镇中心小学".into()),
        7..=9 => find("中学").unwrap_or_else(|| "镇初级中学".into()),
        _ => {
            if rng.chance(0.8) {
                SURVEY_SCHOOL_LOCAL_HIGH.into()
            } else {
                VOCATIONAL.into()
            }
        }
    }
}

fn grade_text(g: u8, rng: &mut Rng) -> String {
    const CN: [&str; 13] = [
        "", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
    ];
    let g = g.clamp(1, 12);
    match (g, rng.below(10)) {
        (10..=12, 0..=6) => ["高一", "高二", "高三"][(g - 10) as usize].into(),
        (10..=12, _) => format!("{}年级", CN[g as usize]),
        (7..=9, 0..=2) => ["初一", "初二", "初三"][(g - 7) as usize].into(),
        (_, 0..=6) => format!("{}年级", CN[g as usize]),
        (_, 7) => g.to_string(),
        (_, _) => format!("{g}年级"),
    }
}

fn status_text(s: Status, rng: &mut Rng) -> String {
    let variants: &[&str] = match s {
        Status::InSchoolLocal => &["在校(本县)", "在校(本县)", "在校", "在读", "在校（本县）"],
        Status::InSchoolOut => &["在校(县外)", "县外就读", "外地就读", "在校（县外）"],
        Status::Graduated => &["初中已毕业", "已毕业"],
        Status::Dropout => &["辍学", "辍学在家"],
        _ => &[],
    };
    if variants.is_empty() {
        s.label_zh().into()
    } else {
        rng.pick(variants).to_string()
    }
}

fn date_text(d: NaiveDate, style: DateStyle) -> String {
    match style {
        DateStyle::Real | DateStyle::Slash => {
            format!("{}/{}/{}", d.year(), d.month(), d.day())
        }
        DateStyle::Dash => d.format("%Y-%m-%d").to_string(),
        DateStyle::Dot => d.format("%Y.%m.%d").to_string(),
        DateStyle::Cjk => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        DateStyle::Compact => d.format("%Y%m%d").to_string(),
    }
}

fn fake_phone(rng: &mut Rng) -> String {
    format!(
        "1{}{:09}",
        rng.pick(&["3", "5", "8", "9"]),
        rng.below(1_000_000_000)
    )
}

/// Generate a round. Deterministic in `spec`.
pub fn generate(spec: &RoundSpec) -> Round {
    let mut g = Gen {
        spec,
        rng: Rng::new(spec.seed),
        ids: HashSet::new(),
        children: Vec::new(),
        households: Vec::new(),
        next_household: 0,
    };
    let villages: Vec<String> = spec.schools.iter().flat_map(|s| s.1.clone()).collect();
    if villages.is_empty() {
        return Round {
            spec: spec.clone(),
            children: Vec::new(),
            roster: Vec::new(),
            roster_expected: Vec::new(),
            surveyed: Vec::new(),
        };
    }

    // 1. Households of the township. The third household is always twins,
    //    so every round of a reasonable size has a pair.
    let mut hh = 0usize;
    while g.children.len() < spec.children {
        let left = spec.children - g.children.len();
        let twins = left >= 2 && (hh == 2 || g.rng.chance(0.03));
        let n = if twins {
            2 + g.rng.below(2) as usize
        } else {
            match g.rng.below(100) {
                0..=54 => 1,
                55..=89 => 2,
                _ => 3,
            }
        }
        .min(left);
        let village = g.rng.pick(&villages).clone();
        g.household(&spec.township.clone(), &village, n, twins);
        hh += 1;
    }
    let local_count = g.children.len();

    // 2. Plan defects: each kind once, then random kinds up to the rate.
    let total = ((local_count as f64) * spec.defect_rate).round() as usize;
    let mut plan: Vec<Defect> = Defect::ALL.to_vec();
    while plan.len() < total {
        let k = *g.rng.pick(&Defect::ALL);
        plan.push(k);
    }
    if spec.defect_rate <= 0.0 {
        plan.clear();
    }
    let mut assigned: Vec<Option<Defect>> = vec![None; local_count];
    let mut out_of_age = 0usize;
    let mut stale_platform: HashSet<usize> = HashSet::new();
    // village → (children, children planned not surveyed)
    let mut per_village: HashMap<String, (usize, usize)> = HashMap::new();
    for c in &g.children {
        per_village.entry(c.village.clone()).or_default().0 += 1;
    }
    for kind in plan {
        if kind == Defect::OutOfAge {
            out_of_age += 1;
            continue;
        }
        for _ in 0..60 {
            let i = g.rng.below(local_count as u64) as usize;
            if assigned[i].is_some() || !applicable(kind, &g.children[i], &per_village, &g) {
                continue;
            }
            assigned[i] = Some(kind);
            if kind == Defect::NotSurveyed
                && let Some(v) = per_village.get_mut(&g.children[i].village)
            {
                v.1 += 1;
            }
            if kind == Defect::Dropout {
                let c = &mut g.children[i].clone();
                let age = age_on_cutoff(spec.school_year, c.birth);
                c.status = if age <= 7 || g.rng.chance(0.3) {
                    Status::NeverEnrolled
                } else {
                    Status::Dropout
                };
                c.school.clear();
                c.grade = None;
                c.reason = g.rng.pick(DROPOUT_REASONS).to_string();
                c.evidence.clear();
                let stale = g.rng.chance(0.5);
                if stale {
                    stale_platform.insert(i);
                }
                g.set_platform(c, stale);
                g.children[i] = c.clone();
            }
            break;
        }
    }

    // 3. Out-of-age children: surveyed, own household, not in the roster.
    let mut out_of_age_children = HashSet::new();
    for k in 0..out_of_age {
        let village = g.rng.pick(&villages).clone();
        g.household(&spec.township.clone(), &village, 1, false);
        let i = g.children.len() - 1;
        let (from, to) = window(spec.school_year);
        let birth = if k % 2 == 0 {
            random_date(&mut g.rng, to + Duration::days(1), to + Duration::days(120))
        } else {
            random_date(
                &mut g.rng,
                from - Duration::days(300),
                from - Duration::days(1),
            )
        };
        let mut c = g.children[i].clone();
        g.ids.remove(&c.id);
        c.birth = birth;
        c.twin_of = None;
        c.id = g.unique_id(birth, c.sex);
        c.status = Status::InSchoolLocal;
        let age = age_on_cutoff(spec.school_year, birth);
        let grade = (age - 5).clamp(1, 12) as u8;
        c.grade = Some(grade);
        c.school = local_school(spec, grade, &mut g.rng);
        c.reason.clear();
        c.evidence.clear();
        g.set_platform(&mut c, false);
        g.children[i] = c;
        out_of_age_children.insert(i);
    }

    // 4. Another township's households (the county export holds them too).
    let foreign_households = 2 + local_count / 300;
    let first_foreign_household = g.households.len();
    for _ in 0..foreign_households {
        let (t, vs) = *g.rng.pick(OTHER_TOWNSHIPS);
        let v = g.rng.pick(vs).to_string();
        let n = 1 + g.rng.below(2) as usize;
        g.household(t, &v, n, false);
    }

    // 5. The roster: local households by village (config order), then
    //    household number; foreign households interleaved.
    let vidx = |v: &str| villages.iter().position(|x| x == v).unwrap_or(usize::MAX);
    let in_roster = |i: usize| -> bool {
        !matches!(assigned.get(i), Some(Some(Defect::NotInRoster)))
            && !out_of_age_children.contains(&i)
    };
    let mut local_hh: Vec<usize> = (0..first_foreign_household).collect();
    local_hh.sort_by_key(|&h| (vidx(&g.children[g.households[h][0]].village), h));
    let mut order: Vec<usize> = local_hh;
    for h in first_foreign_household..g.households.len() {
        let pos = g.rng.below(order.len() as u64 + 1) as usize;
        order.insert(pos, h);
    }
    let mut roster = Vec::new();
    for &h in &order {
        for &c in &g.households[h] {
            if in_roster(c) {
                roster.push(c);
            }
        }
    }
    let roster_expected: Vec<Vec<&'static str>> = roster
        .iter()
        .map(|&c| {
            if matches!(assigned.get(c), Some(Some(Defect::NotSurveyed))) {
                vec!["NOT_SURVEYED"]
            } else {
                Vec::new()
            }
        })
        .collect();

    // 6. Survey rows, school by school, village by village; households in a
    //    shuffled order (the survey never follows the roster's order).
    let mut surveyed: Vec<(usize, SurveyRow)> = Vec::new();
    let mut duplicates: Vec<usize> = Vec::new();
    for (si, (school, svillages)) in spec.schools.iter().enumerate() {
        let surveyor_by_village: Vec<String> = svillages
            .iter()
            .map(|_| fake_name(&mut g.rng, None))
            .collect();
        for (vi, v) in svillages.iter().enumerate() {
            let mut hhs: Vec<usize> = (0..first_foreign_household)
                .filter(|&h| &g.children[g.households[h][0]].village == v)
                .collect();
            for i in (1..hhs.len()).rev() {
                let j = g.rng.below(i as u64 + 1) as usize;
                hhs.swap(i, j);
            }
            for h in hhs {
                let merge = g.rng.chance(0.7);
                let phone = fake_phone(&mut g.rng);
                for &c in &g.households[h].clone() {
                    let kind = assigned.get(c).copied().flatten();
                    if kind == Some(Defect::NotSurveyed) {
                        continue;
                    }
                    let mut row = base_row(&mut g.rng, &g.children[c], school, merge);
                    row.phone = phone.clone();
                    row.surveyor = surveyor_by_village[vi].clone();
                    if let Some(k) = kind {
                        apply(
                            &mut g.rng,
                            &mut row,
                            &g.children[c],
                            k,
                            svillages,
                            spec.school_year,
                        );
                    }
                    if g.children[c].status.is_dropout() {
                        row.defects.push("DROPOUT");
                        if stale_platform.contains(&c) {
                            row.defects.push("ROSTER_STATUS_DIFFERS");
                        }
                    }
                    if out_of_age_children.contains(&c) {
                        row.kinds.push(Defect::OutOfAge);
                        row.defects.push("OUT_OF_AGE_RANGE");
                        row.maybe.push("NOT_IN_ROSTER");
                    }
                    if kind == Some(Defect::DuplicateElsewhere) && si == 0 {
                        duplicates.push(surveyed.len());
                    }
                    surveyed.push((c, row));
                }
            }
        }
    }
    // Duplicates go at the end of the next school's file.
    if spec.schools.len() > 1 {
        let mut dups = Vec::new();
        for &first in &duplicates {
            let (c, orig) = &surveyed[first];
            let mut row = orig.clone();
            row.surveyed_by = spec.schools[1].0.clone();
            row.merge_household = false;
            row.kinds = vec![Defect::DuplicateElsewhere];
            row.defects = vec!["DUPLICATE_ID", "VILLAGE_WRONG_SCHOOL"];
            row.maybe = orig.maybe.clone();
            row.duplicate_of = Some(first);
            dups.push((*c, row));
        }
        // Insert them after the last row of school 1 (keeping file order).
        let end = surveyed
            .iter()
            .rposition(|(_, r)| r.surveyed_by == spec.schools[1].0)
            .map(|p| p + 1)
            .unwrap_or(surveyed.len());
        for (k, d) in dups.into_iter().enumerate() {
            surveyed.insert(end + k, d);
        }
    }
    // The originals of duplicated rows carry nothing extra.
    for &first in &duplicates {
        surveyed[first]
            .1
            .kinds
            .retain(|k| *k != Defect::DuplicateElsewhere);
    }

    Round {
        spec: spec.clone(),
        children: g.children,
        roster,
        roster_expected,
        surveyed,
    }
}

fn applicable(
    kind: Defect,
    c: &Child,
    per_village: &HashMap<String, (usize, usize)>,
    g: &Gen,
) -> bool {
    let given: Vec<char> = c.name.chars().skip(1).collect();
    let minority = c.name.contains('·');
    match kind {
        Defect::Homophone => {
            !minority
                && given
                    .iter()
                    .any(|ch| homophone_group(&ch.to_string()).is_some())
        }
        Defect::NameTypo => !minority && !given.is_empty(),
        Defect::IdAsNumber => !c.id.ends_with('X'),
        Defect::VillageDiffers => g
            .school_of(&c.village)
            .map(|s| g.spec.schools[s].1.len() > 1)
            .unwrap_or(false),
        Defect::EvidenceMissing => c.status.needs_evidence(),
        Defect::GradeAge => c.status.in_school() && c.grade.is_some(),
        Defect::Dropout => age_on_cutoff(g.spec.school_year, c.birth) >= 6,
        // a twin not in the roster would be a POSSIBLE_MATCH of its sibling
        Defect::NotInRoster => c.twin_of.is_none(),
        Defect::DuplicateElsewhere => {
            g.spec.schools.len() > 1 && g.school_of(&c.village) == Some(0)
        }
        Defect::NotSurveyed => {
            // keep every village covered: at most a third of a village's
            // children, and never in a village of three or fewer
            per_village
                .get(&c.village)
                .is_some_and(|&(n, missing)| n > 3 && (missing + 1) * 3 <= n)
        }
        _ => true,
    }
}

fn base_row(rng: &mut Rng, c: &Child, school: &str, merge: bool) -> SurveyRow {
    let style = match rng.below(10) {
        0..=3 => DateStyle::Real,
        4 => DateStyle::Dash,
        5 => DateStyle::Slash,
        6 => DateStyle::Dot,
        7 => DateStyle::Cjk,
        _ => DateStyle::Compact,
    };
    let mut name = c.name.clone();
    if rng.chance(0.03) {
        name.push(' '); // trailing padding: trimmed silently, no finding
    }
    let mut id = c.id.clone();
    if id.ends_with('X') && rng.chance(0.3) {
        id = id.replace('X', "x");
    }
    let mut village = c.village.clone();
    if village.ends_with('村') && rng.chance(0.05) {
        village.pop(); // 金星 for 金星村: the same village
    }
    // 休学/长期请假 children are enrolled (the platform shows their level);
    // whether that disagrees with the survey is left open by the rules.
    let maybe = if matches!(c.status, Status::Suspended | Status::LongLeave) {
        vec!["ROSTER_STATUS_DIFFERS"]
    } else {
        Vec::new()
    };
    SurveyRow {
        surveyed_by: school.into(),
        name,
        id,
        id_as_number: false,
        sex: c.sex.label_zh().into(),
        birth: date_text(c.birth, style),
        birth_date: c.birth,
        birth_style: style,
        village,
        group: c.group.clone(),
        household_head: c.household_head.clone(),
        household_type: c.household_type.clone(),
        household_no: c.household_no.clone(),
        status: status_text(c.status, rng),
        school: c.school.clone(),
        grade: c.grade.map(|g| grade_text(g, rng)).unwrap_or_default(),
        reason: c.reason.clone(),
        evidence: c.evidence.clone(),
        guardian: c.household_head.clone(),
        phone: String::new(),
        surveyor: String::new(),
        remark: String::new(),
        merge_household: merge,
        kinds: Vec::new(),
        defects: Vec::new(),
        maybe,
        duplicate_of: None,
    }
}

fn apply(
    rng: &mut Rng,
    row: &mut SurveyRow,
    c: &Child,
    kind: Defect,
    school_villages: &[String],
    school_year: i32,
) {
    row.kinds.push(kind);
    let mut codes: Vec<&'static str> = Vec::new();
    let digits: Vec<u8> = c.id.bytes().collect();
    match kind {
        Defect::Homophone => {
            let mut chars: Vec<String> = c.name.chars().map(String::from).collect();
            let pos: Vec<usize> = (1..chars.len())
                .filter(|&p| homophone_group(&chars[p]).is_some())
                .collect();
            if let Some(&p) = pos.get(rng.below(pos.len() as u64) as usize)
                && let Some(group) = homophone_group(&chars[p])
            {
                let others: Vec<&&str> = group.iter().filter(|x| **x != chars[p]).collect();
                chars[p] = rng.pick(&others).to_string();
            }
            row.name = chars.concat();
            codes.push("NAME_DIFFERS");
        }
        Defect::NameTypo => {
            let mut chars: Vec<String> = c.name.chars().map(String::from).collect();
            let p = 1 + rng.below(chars.len() as u64 - 1) as usize;
            let group = homophone_group(&chars[p]);
            let new = loop {
                let cand = rng.pick(GIVEN).to_string();
                if cand != chars[p] && group.is_none_or(|g| !g.contains(&cand.as_str())) {
                    break cand;
                }
            };
            chars[p] = new;
            row.name = chars.concat();
            codes.push("NAME_DIFFERS");
        }
        Defect::NameSpaces => {
            if c.name.contains('·') {
                row.name = c.name.replace('·', pick_str(rng, &["•", "・", "．"]));
            } else {
                let mut chars: Vec<String> = c.name.chars().map(String::from).collect();
                chars.insert(1, rng.pick(&[" ", "\u{3000}"]).to_string());
                row.name = chars.concat();
            }
            codes.push("NAME_FORMAT");
        }
        Defect::IdOneDigit => {
            let positions = [0usize, 1, 2, 3, 4, 5, 14, 15];
            let p = *rng.pick(&positions);
            let mut d = digits.clone();
            let old = d[p];
            while d[p] == old {
                d[p] = b'0' + rng.below(10) as u8;
            }
            row.id = String::from_utf8(d).unwrap_or_default();
            codes.extend(["ID_CHECKSUM", "ID_DIFFERS"]);
        }
        Defect::IdSwap => {
            let pairs: Vec<usize> = [0usize, 1, 2, 3, 4, 14]
                .into_iter()
                .filter(|&p| digits[p] != digits[p + 1])
                .collect();
            let p = if pairs.is_empty() {
                0
            } else {
                *rng.pick(&pairs)
            };
            let mut d = digits.clone();
            d.swap(p, p + 1);
            row.id = String::from_utf8(d).unwrap_or_default();
            codes.extend(["ID_CHECKSUM", "ID_DIFFERS"]);
        }
        Defect::IdCheckDigit => {
            let good = digits[17] as char;
            let bad = loop {
                let x = *rng.pick(&taizhang::gb11643::CHECK_CHARS);
                if x != good {
                    break x;
                }
            };
            row.id = format!("{}{bad}", &c.id[..17]);
            codes.extend(["ID_CHECKSUM", "ID_DIFFERS"]);
        }
        Defect::IdAsNumber => {
            row.id = c.id.clone();
            row.id_as_number = true;
            codes.extend(["ID_TRUNCATED", "ID_DIFFERS"]);
        }
        Defect::Id15 => {
            row.id = format!("{}{}", &c.id[..6], &c.id[8..17]);
            codes.push("ID_DIFFERS");
            row.maybe.extend([
                "ID_FORMAT",
                "ID_LEGACY_15",
                "BIRTHDATE_MISMATCH",
                "SEX_MISMATCH",
            ]);
        }
        Defect::IdBadDate => {
            let bad = if rng.chance(0.5) {
                format!("{}13{}", &c.id[..10], &c.id[12..17])
            } else {
                format!("{}32{}", &c.id[..12], &c.id[14..17])
            };
            row.id = crate::ids::with_check(&bad);
            codes.extend(["ID_BAD_DATE", "ID_DIFFERS"]);
        }
        Defect::BirthDiffers => {
            let shift = rng.range(1, 60) * if rng.chance(0.5) { 1 } else { -1 };
            let d = c.birth + Duration::days(shift);
            row.birth_date = d;
            row.birth = date_text(d, row.birth_style);
            codes.push("BIRTHDATE_MISMATCH");
            row.maybe.push("BIRTHDATE_DIFFERS");
        }
        Defect::SexDiffers => {
            row.sex = match c.sex {
                Sex::Male => "女".into(),
                Sex::Female => "男".into(),
            };
            codes.push("SEX_MISMATCH");
            row.maybe.push("SEX_DIFFERS");
        }
        Defect::VillageDiffers => {
            let others: Vec<&String> = school_villages
                .iter()
                .filter(|v| **v != c.village)
                .collect();
            if !others.is_empty() {
                row.village = rng.pick(&others).to_string();
                codes.push("VILLAGE_DIFFERS");
            }
        }
        Defect::EvidenceMissing => {
            row.evidence.clear();
            codes.push("EVIDENCE_MISSING");
        }
        Defect::StatusMissing => {
            row.status.clear();
            codes.push("STATUS_MISSING");
        }
        Defect::StatusUnknown => {
            row.status = rng.pick(UNKNOWN_STATUS).to_string();
            codes.push("STATUS_UNKNOWN");
        }
        Defect::GradeAge => {
            let g = c.grade.unwrap_or(1) as i32;
            let bad = if g + 3 <= 12 && (g <= 4 || rng.chance(0.5)) {
                g + 3
            } else {
                g - 3
            };
            let age = age_on_cutoff(school_year, c.birth);
            // make sure it is more than 2 away from the expected grade
            let expected = age - 5;
            let bad = if (bad - expected).abs() > 2 {
                bad
            } else if expected + 3 <= 12 {
                expected + 3
            } else {
                expected - 3
            };
            row.grade = grade_text(bad.clamp(1, 12) as u8, rng);
            codes.push("GRADE_AGE");
        }
        Defect::NotInRoster => codes.push("NOT_IN_ROSTER"),
        // Structural kinds handled by `generate`.
        Defect::Dropout | Defect::OutOfAge | Defect::DuplicateElsewhere | Defect::NotSurveyed => {}
    }
    if kind == Defect::NotInRoster {
        row.maybe.push("POSSIBLE_MATCH");
    }
    row.defects.extend(codes);
}

// ---------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------

/// Errors of the workbook and csv writers.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("写入工作簿失败：{0}")]
    Xlsx(#[from] XlsxError),
    #[error("写入文件失败：{0}")]
    Io(#[from] std::io::Error),
}

const ROSTER_HEADER: [&str; 17] = [
    "序号",
    "乡镇",
    "行政村",
    "组",
    "户编号",
    "户主姓名",
    "户属性",
    "监测对象类别",
    "人口编号",
    "姓名",
    "证件号码",
    "性别",
    "出生日期",
    "与户主关系",
    "在校生状况",
    "是否义务教育阶段适龄儿童少年失学辍学",
    "失学或辍学原因",
];

fn roster_cells(round: &Round, k: usize) -> Vec<String> {
    let c = &round.children[round.roster[k]];
    let monitor = match c.household_type.as_str() {
        "一般农户" | "脱贫户" => "",
        _ => "未消除风险",
    };
    let relation = match c.sex {
        Sex::Male => "之子",
        Sex::Female => "之女",
    };
    vec![
        (k + 1).to_string(),
        c.township.clone(),
        c.village.clone(),
        c.group.clone(),
        c.household_no.clone(),
        c.household_head.clone(),
        c.household_type.clone(),
        monitor.into(),
        c.person_no.clone(),
        c.name.clone(),
        c.id.clone(),
        c.sex.label_zh().into(),
        c.birth.format("%Y-%m-%d").to_string(),
        relation.into(),
        c.platform_status.clone(),
        c.platform_dropout.clone(),
        c.platform_reason.clone(),
    ]
}

fn roster_title(round: &Round) -> (String, String) {
    (
        format!("农村6—15周岁人口数据（{}）", round.spec.township),
        "数据来源：县乡村振兴局（监测信息系统导出）".to_string(),
    )
}

/// The county platform export: a title row, a source line, one header row
/// (证件号码, 户编号, 人口编号, 在校生状况 …), all townships' rows, IDs as text.
pub fn write_roster_xlsx(round: &Round, path: &Path) -> Result<(), WriteError> {
    let mut wb = Workbook::new();
    wb.set_properties(&fixed_props()?);
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1")?;
    let bold = Format::new().set_bold();
    let (title, source) = roster_title(round);
    ws.merge_range(0, 0, 0, ROSTER_HEADER.len() as u16 - 1, &title, &bold)?;
    ws.write_string(1, 0, &source)?;
    for (k, h) in ROSTER_HEADER.iter().enumerate() {
        ws.write_string_with_format(2, k as u16, *h, &bold)?;
    }
    let text = Format::new().set_num_format("@");
    for k in 0..round.roster.len() {
        let row = ROSTER_FIRST_DATA_ROW - 1 + k as u32;
        for (col, v) in roster_cells(round, k).iter().enumerate() {
            if col == 0 {
                ws.write_number(row, 0, (k + 1) as f64)?;
            } else {
                ws.write_string_with_format(row, col as u16, v, &text)?;
            }
        }
    }
    ws.set_column_width(10, 21)?;
    ws.set_column_width(4, 16)?;
    ws.set_column_width(8, 18)?;
    wb.save(path)?;
    Ok(())
}

fn fixed_props() -> Result<rust_xlsxwriter::DocProperties, XlsxError> {
    Ok(rust_xlsxwriter::DocProperties::new()
        .set_author("taizhang synth")
        .set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 10, 9)?))
}

fn csv_line(cells: &[String]) -> String {
    let esc: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    esc.join(",") + "\r\n"
}

/// The roster as UTF-8 csv with BOM, the same rows as the xlsx.
pub fn write_roster_csv(round: &Round, path: &Path) -> Result<(), WriteError> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\xEF\xBB\xBF")?;
    let (title, source) = roster_title(round);
    f.write_all(csv_line(&[title]).as_bytes())?;
    f.write_all(csv_line(&[source]).as_bytes())?;
    let header: Vec<String> = ROSTER_HEADER.iter().map(|s| s.to_string()).collect();
    f.write_all(csv_line(&header).as_bytes())?;
    for k in 0..round.roster.len() {
        f.write_all(csv_line(&roster_cells(round, k)).as_bytes())?;
    }
    f.flush()?;
    Ok(())
}

/// Survey header: (group, label) per column; the second school's file uses
/// synonyms (`read::header`) so the reader's table is exercised.
fn survey_header(round: &Round, school: &str) -> Vec<(Option<&'static str>, &'static str)> {
    let alt = round
        .spec
        .schools
        .iter()
        .position(|(s, _)| s == school)
        .unwrap_or(0)
        % 2
        == 1;
    let h = if alt {
        [
            (None, "序号"),
            (Some("家庭情况"), "村别"),
            (Some("家庭情况"), "村民小组"),
            (Some("家庭情况"), "户主"),
            (Some("家庭情况"), "户属性"),
            (Some("儿童信息"), "学生姓名"),
            (Some("儿童信息"), "性别"),
            (Some("儿童信息"), "身份证号（必填）"),
            (Some("儿童信息"), "出生年月"),
            (Some("就读情况"), "就学状态"),
            (Some("就读情况"), "学校名称"),
            (Some("就读情况"), "就读年级"),
            (Some("就读情况"), "不在校原因"),
            (Some("就读情况"), "证明材料"),
            (None, "监护人"),
            (None, "联系电话"),
            (None, "摸底人"),
            (None, "备注"),
        ]
    } else {
        [
            (None, "序号"),
            (Some("家庭情况"), "村（社区）"),
            (Some("家庭情况"), "组"),
            (Some("家庭情况"), "户主姓名"),
            (Some("家庭情况"), "户类型"),
            (Some("儿童基本信息"), "姓名"),
            (Some("儿童基本信息"), "性别"),
            (Some("儿童基本信息"), "身份证号码"),
            (Some("儿童基本信息"), "出生日期"),
            (Some("就读情况"), "就读状态"),
            (Some("就读情况"), "就读学校"),
            (Some("就读情况"), "年级"),
            (Some("就读情况"), "未在校原因"),
            (Some("就读情况"), "佐证材料"),
            (None, "监护人"),
            (None, "联系电话"),
            (None, "调查人"),
            (None, "备注"),
        ]
    };
    h.to_vec()
}

/// Survey columns whose cells are merged down over a household.
const MERGED_COLS: [usize; 4] = [1, 2, 3, 4];
const SURVEY_ID_COL: usize = 7;
const SURVEY_BIRTH_COL: usize = 8;

fn survey_cells(k: usize, r: &SurveyRow) -> Vec<String> {
    vec![
        (k + 1).to_string(),
        r.village.clone(),
        r.group.clone(),
        r.household_head.clone(),
        r.household_type.clone(),
        r.name.clone(),
        r.sex.clone(),
        r.id.clone(),
        r.birth.clone(),
        r.status.clone(),
        r.school.clone(),
        r.grade.clone(),
        r.reason.clone(),
        r.evidence.clone(),
        r.guardian.clone(),
        r.phone.clone(),
        r.surveyor.clone(),
        r.remark.clone(),
    ]
}

fn survey_title(round: &Round) -> String {
    format!(
        "{}{}年农村义务教育阶段学龄人口摸底调查表",
        round.spec.township, round.spec.school_year
    )
}

/// One school's 附件1 file as a teacher fills it: 附件1 label, title,
/// 填报单位 line naming the school, two-row merged header, household cells
/// merged down, some IDs as numbers, dates as real dates or text.
pub fn write_survey_xlsx(round: &Round, school: &str, path: &Path) -> Result<(), WriteError> {
    let rows: Vec<&SurveyRow> = round
        .surveyed
        .iter()
        .filter(|(_, r)| r.surveyed_by == school)
        .map(|(_, r)| r)
        .collect();
    let header = survey_header(round, school);
    let ncols = header.len() as u16;
    let mut wb = Workbook::new();
    wb.set_properties(&fixed_props()?);
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1")?;
    let border = Format::new().set_border(FormatBorder::Thin);
    let head = border
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let merged = border.clone().set_align(FormatAlign::VerticalCenter);
    let date_fmts = [
        border.clone().set_num_format("yyyy-mm-dd"),
        border.clone().set_num_format("yyyy/m/d"),
        border.clone().set_num_format("yyyy\"年\"m\"月\"d\"日\""),
    ];
    ws.write_string(0, 0, "附件1")?;
    ws.merge_range(1, 0, 1, ncols - 1, &survey_title(round), &title)?;
    ws.merge_range(2, 0, 2, 8, &format!("填报单位：{school}"), &Format::new())?;
    ws.merge_range(
        2,
        9,
        2,
        ncols - 1,
        "填报日期：2022年10月17日",
        &Format::new(),
    )?;
    // Two-row header.
    let (h1, h2) = (SURVEY_HEADER_ROW - 2, SURVEY_HEADER_ROW - 1);
    let mut c = 0usize;
    while c < header.len() {
        match header[c].0 {
            None => {
                ws.merge_range(h1, c as u16, h2, c as u16, header[c].1, &head)?;
                c += 1;
            }
            Some(g) => {
                let mut end = c;
                while end + 1 < header.len() && header[end + 1].0 == Some(g) {
                    end += 1;
                }
                ws.merge_range(h1, c as u16, h1, end as u16, g, &head)?;
                for (k, hc) in header.iter().enumerate().take(end + 1).skip(c) {
                    ws.write_string_with_format(h2, k as u16, hc.1, &head)?;
                }
                c = end + 1;
            }
        }
    }
    let first = SURVEY_FIRST_DATA_ROW - 1;
    for (k, r) in rows.iter().enumerate() {
        let row = first + k as u32;
        for (col, v) in survey_cells(k, r).iter().enumerate() {
            let col16 = col as u16;
            if col == 0 {
                ws.write_number_with_format(row, 0, (k + 1) as f64, &border)?;
            } else if col == SURVEY_ID_COL && r.id_as_number {
                ws.write_number_with_format(row, col16, crate::ids::excel_number(&r.id), &border)?;
            } else if col == SURVEY_BIRTH_COL && r.birth_style == DateStyle::Real {
                let f = &date_fmts[k % date_fmts.len()];
                let d = &r.birth_date;
                let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    d.year() as u16,
                    d.month() as u8,
                    d.day() as u8,
                )?;
                ws.write_datetime_with_format(row, col16, &dt, f)?;
            } else {
                ws.write_string_with_format(row, col16, v, &border)?;
            }
        }
    }
    // Household cells merged down where the household's rows agree.
    let mut start = 0usize;
    while start < rows.len() {
        let mut end = start;
        while end + 1 < rows.len()
            && rows[end + 1].household_no == rows[start].household_no
            && rows[end + 1].merge_household
            && rows[start].merge_household
        {
            end += 1;
        }
        if end > start {
            for col in MERGED_COLS {
                let cells: Vec<String> = (start..=end)
                    .map(|k| survey_cells(k, rows[k])[col].clone())
                    .collect();
                if cells.iter().all(|v| *v == cells[0]) {
                    ws.merge_range(
                        first + start as u32,
                        col as u16,
                        first + end as u32,
                        col as u16,
                        &cells[0],
                        &merged,
                    )?;
                }
            }
        }
        start = end + 1;
    }
    for (col, w) in [
        (0u16, 5.0),
        (1, 10.0),
        (7, 21.0),
        (8, 12.0),
        (10, 18.0),
        (13, 16.0),
    ] {
        ws.set_column_width(col, w)?;
    }
    ws.set_freeze_panes(first, 0)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    wb.save(path)?;
    Ok(())
}

/// One school's survey as UTF-8 csv with BOM: the same rows as the xlsx
/// (label, title, 填报单位 line, group row, label row, data); values repeated
/// on every row (csv has no merges); number-typed IDs as Excel writes them
/// (6.10922E+17); real dates as 2010/5/3.
pub fn write_survey_csv(round: &Round, school: &str, path: &Path) -> Result<(), WriteError> {
    let header = survey_header(round, school);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\xEF\xBB\xBF")?;
    f.write_all(csv_line(&["附件1".to_string()]).as_bytes())?;
    f.write_all(csv_line(&[survey_title(round)]).as_bytes())?;
    let mut info = vec![String::new(); header.len()];
    info[0] = format!("填报单位：{school}");
    info[9] = "填报日期：2022年10月17日".into();
    f.write_all(csv_line(&info).as_bytes())?;
    let groups: Vec<String> = header
        .iter()
        .map(|(g, _)| g.map(str::to_string).unwrap_or_default())
        .collect();
    f.write_all(csv_line(&groups).as_bytes())?;
    let labels: Vec<String> = header.iter().map(|(_, l)| l.to_string()).collect();
    f.write_all(csv_line(&labels).as_bytes())?;
    let rows = round
        .surveyed
        .iter()
        .filter(|(_, r)| r.surveyed_by == school);
    for (k, (_, r)) in rows.enumerate() {
        let mut cells = survey_cells(k, r);
        if r.id_as_number {
            cells[SURVEY_ID_COL] = excel_general(crate::ids::excel_number(&r.id));
        }
        f.write_all(csv_line(&cells).as_bytes())?;
    }
    f.flush()?;
    Ok(())
}

/// How Excel's General format shows a large number (6.10922E+17).
fn excel_general(n: f64) -> String {
    let exp = n.abs().log10().floor() as i32;
    let mant = n / 10f64.powi(exp);
    let m = format!("{mant:.5}");
    let m = m.trim_end_matches('0').trim_end_matches('.');
    format!("{m}E+{exp:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn is_valid_id(id: &str) -> bool {
        taizhang::gb11643::passes(id) && taizhang::gb11643::birth_date(id).is_some()
    }

    #[test]
    fn rng_is_splitmix64() {
        // Reference values of SplitMix64 seeded with 0.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = Rng::new(7);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
        }
    }

    #[test]
    fn make_id_is_valid_and_carries_sex_and_birth() {
        let mut rng = Rng::new(1);
        let d = NaiveDate::from_ymd_opt(2010, 5, 3).unwrap();
        for _ in 0..200 {
            let m = make_id(&mut rng, "610922", d, Sex::Male);
            let f = make_id(&mut rng, "610922", d, Sex::Female);
            assert!(is_valid_id(&m) && is_valid_id(&f), "{m} {f}");
            assert!(m.starts_with("61092220100503"));
            assert_eq!((m.as_bytes()[16] - b'0') % 2, 1);
            assert_eq!((f.as_bytes()[16] - b'0') % 2, 0);
        }
    }

    #[test]
    fn same_seed_same_round_other_seed_other_round() {
        let a = generate(&RoundSpec::yundou(300, 42));
        let b = generate(&RoundSpec::yundou(300, 42));
        let c = generate(&RoundSpec::yundou(300, 43));
        assert_eq!(a.children, b.children);
        assert_eq!(a.roster, b.roster);
        assert_eq!(a.surveyed, b.surveyed);
        assert_ne!(a.children, c.children);
    }

    #[test]
    fn truth_ids_are_valid_unique_and_in_window() {
        let r = generate(&RoundSpec::yundou(2000, 7));
        let (from, to) = window(2022);
        let mut seen = HashSet::new();
        let mut out_of_window = 0;
        for c in &r.children {
            assert!(is_valid_id(&c.id), "{}", c.id);
            assert!(seen.insert(c.id.clone()));
            assert_eq!(&c.id[6..14], c.birth.format("%Y%m%d").to_string());
            if !(from..=to).contains(&c.birth) {
                out_of_window += 1;
            }
        }
        let oo = r
            .surveyed
            .iter()
            .filter(|(_, s)| s.kinds.contains(&Defect::OutOfAge))
            .count();
        assert_eq!(out_of_window, oo);
        assert!(oo >= 1);
        // 2000 township children plus the extras and the other township's
        assert!(r.children.len() > 2000);
    }

    #[test]
    fn twins_share_household_birth_and_surname() {
        let r = generate(&RoundSpec::yundou(200, 3));
        let twins: Vec<(usize, usize)> = r
            .children
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.twin_of.map(|j| (i, j)))
            .collect();
        assert!(!twins.is_empty());
        for (i, j) in twins {
            let (a, b) = (&r.children[i], &r.children[j]);
            assert_eq!(b.twin_of, Some(i));
            assert_eq!(a.household_no, b.household_no);
            assert_eq!(a.birth, b.birth);
            assert_eq!(a.name.chars().next(), b.name.chars().next());
            assert_ne!(a.name, b.name);
            assert_ne!(a.id, b.id);
        }
    }

    #[test]
    fn every_defect_kind_is_present_at_2000() {
        let r = generate(&RoundSpec::yundou(2000, 11));
        let mut kinds: BTreeSet<Defect> = r
            .surveyed
            .iter()
            .flat_map(|(_, s)| s.kinds.iter().copied())
            .collect();
        if r.roster_expected
            .iter()
            .any(|e| e.contains(&"NOT_SURVEYED"))
        {
            kinds.insert(Defect::NotSurveyed);
        }
        for k in Defect::ALL {
            assert!(kinds.contains(&k), "missing {k:?}");
        }
        let codes: BTreeSet<&str> = r
            .surveyed
            .iter()
            .flat_map(|(_, s)| s.defects.iter().copied())
            .collect();
        for code in [
            "NAME_DIFFERS",
            "NAME_FORMAT",
            "ID_CHECKSUM",
            "ID_DIFFERS",
            "ID_TRUNCATED",
            "ID_BAD_DATE",
            "BIRTHDATE_MISMATCH",
            "SEX_MISMATCH",
            "VILLAGE_DIFFERS",
            "EVIDENCE_MISSING",
            "DROPOUT",
            "ROSTER_STATUS_DIFFERS",
            "STATUS_MISSING",
            "STATUS_UNKNOWN",
            "GRADE_AGE",
            "OUT_OF_AGE_RANGE",
            "DUPLICATE_ID",
            "VILLAGE_WRONG_SCHOOL",
            "NOT_IN_ROSTER",
        ] {
            assert!(codes.contains(code), "no row expects {code}");
        }
    }

    #[test]
    fn defect_rows_carry_what_they_claim() {
        let r = generate(&RoundSpec::yundou(2000, 5));
        for (c, s) in &r.surveyed {
            let child = &r.children[*c];
            for k in &s.kinds {
                match k {
                    Defect::IdOneDigit | Defect::IdSwap | Defect::IdCheckDigit => {
                        assert_eq!(s.id.len(), 18);
                        assert_ne!(s.id, child.id);
                        assert!(!taizhang::gb11643::passes(&s.id));
                        // the birth date part is untouched
                        assert_eq!(s.id[6..14], child.id[6..14]);
                    }
                    Defect::IdBadDate => {
                        assert!(NaiveDate::parse_from_str(&s.id[6..14], "%Y%m%d").is_err());
                        assert!(taizhang::gb11643::passes(&s.id));
                    }
                    Defect::Id15 => assert_eq!(s.id.len(), 15),
                    Defect::Homophone | Defect::NameTypo => {
                        assert_ne!(s.name.trim(), child.name);
                        assert_eq!(s.name.chars().count(), child.name.chars().count());
                    }
                    Defect::GradeAge => assert_ne!(s.grade, ""),
                    Defect::EvidenceMissing => {
                        assert!(child.status.needs_evidence() && s.evidence.is_empty())
                    }
                    _ => {}
                }
            }
            if s.kinds.is_empty() {
                assert!(s.defects.is_empty() || child.status.is_dropout(), "{s:?}");
                assert_eq!(s.id.to_uppercase(), child.id);
                assert_eq!(s.birth_date, child.birth);
            }
        }
        // Roster: households contiguous.
        let mut seen: Vec<&str> = Vec::new();
        for &c in &r.roster {
            let h = r.children[c].household_no.as_str();
            if seen.last() != Some(&h) {
                assert!(!seen.contains(&h), "household {h} split");
                seen.push(h);
            }
        }
        assert!(r.roster.iter().any(|&c| r.children[c].township != "熨斗镇"));
        // Not-in-roster rows really are missing from the roster.
        for (c, s) in &r.surveyed {
            if s.kinds.contains(&Defect::NotInRoster) {
                assert!(r.roster_row_of(*c).is_none());
            }
        }
    }

    #[test]
    fn excel_general_shows_six_digits() {
        assert_eq!(
            excel_general(crate::ids::excel_number("610922201005031234")),
            "6.10922E+17"
        );
        assert_eq!(
            crate::ids::excel_number("610922201005031234"),
            610922201005031000.0
        );
    }

    #[test]
    fn writers_produce_readable_files() {
        use calamine::{Data, Reader, Xlsx, open_workbook};
        let r = generate(&RoundSpec::yundou(120, 9));
        let dir = tempfile::tempdir().unwrap();
        let school = r.spec.schools[0].0.clone();
        let p = dir.path().join("s.xlsx");
        write_survey_xlsx(&r, &school, &p).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&p).unwrap();
        let range = wb.worksheet_range("Sheet1").unwrap();
        let rows = r.survey_rows_of(&school);
        assert!(!rows.is_empty());
        let all = r.survey_excel_rows();
        for (i, row) in all.iter().enumerate() {
            assert_eq!(*row, r.survey_excel_row(i));
        }
        // Every row: the name in column F of its Excel row.
        for &i in &rows {
            let excel_row = r.survey_excel_row(i);
            let got = range.get_value((excel_row - 1, 5)).cloned();
            assert_eq!(got, Some(Data::String(r.surveyed[i].1.name.clone())));
        }
        assert_eq!(
            range.get_value((2, 0)),
            Some(&Data::String(format!("填报单位：{school}")))
        );
        let merges = wb.merge_cells_by_sheet_name("Sheet1").unwrap();
        assert!(
            merges
                .iter()
                .any(|m| m.start.0 >= SURVEY_FIRST_DATA_ROW - 1)
        );

        let p = dir.path().join("r.xlsx");
        write_roster_xlsx(&r, &p).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&p).unwrap();
        let range = wb.worksheet_range("Sheet1").unwrap();
        assert_eq!(
            range.get_value((ROSTER_HEADER_ROW - 1, 10)),
            Some(&Data::String("证件号码".into()))
        );
        let first = &r.children[r.roster[0]];
        assert_eq!(
            range.get_value((ROSTER_FIRST_DATA_ROW - 1, 10)),
            Some(&Data::String(first.id.clone()))
        );

        let p = dir.path().join("r.csv");
        write_roster_csv(&r, &p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(text.lines().count(), 3 + r.roster.len());
        let p = dir.path().join("s.csv");
        write_survey_csv(&r, &school, &p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text.lines().count() as u32,
            SURVEY_FIRST_DATA_ROW - 1 + rows.len() as u32
        );
    }

    #[test]
    fn writers_are_byte_deterministic_and_csv_shows_numbers_as_excel_does() {
        let r = generate(&RoundSpec::yundou(2000, 11));
        let dir = tempfile::tempdir().unwrap();
        let school = r.spec.schools[0].0.clone();
        let (a, b) = (dir.path().join("a.xlsx"), dir.path().join("b.xlsx"));
        write_survey_xlsx(&r, &school, &a).unwrap();
        write_survey_xlsx(&r, &school, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        write_roster_xlsx(&r, &a).unwrap();
        write_roster_xlsx(&r, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        // a number-typed ID row in csv
        let (i, row) = r
            .surveyed
            .iter()
            .enumerate()
            .map(|(i, (_, s))| (i, s))
            .find(|(_, s)| s.id_as_number)
            .expect("an ID stored as a number");
        let p = dir.path().join("s.csv");
        write_survey_csv(&r, &row.surveyed_by, &p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let line = text
            .lines()
            .nth(r.survey_excel_row(i) as usize - 1)
            .unwrap();
        assert!(line.contains(",6.10922E+17,"), "{line}");
        assert!(line.contains(row.name.trim()));
    }
}
