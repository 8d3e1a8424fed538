//! Plain types exchanged between the pipeline stages.
//!
//! `read` produces [`Table`]s of [`RawRow`]s (every value with its absolute
//! 1-based row and column); `normalize` turns rows into [`Record`]s; `check`,
//! `link` and `derive` produce [`Finding`]s and [`Link`]s; `annotate` and
//! `report` consume them. No stage touches the terminal or clap.

use arcstr::ArcStr;
use compact_str::CompactString;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// What a workbook is in the round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Roster,
    Survey,
    Ledger,
    Stats,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Roster => "roster",
            Role::Survey => "survey",
            Role::Ledger => "ledger",
            Role::Stats => "stats",
        }
    }
    /// What a clerk calls it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Roster => "县局名单",
            Role::Survey => "摸底调查表(附件1)",
            Role::Ledger => "学龄人口台账(附件2)",
            Role::Stats => "台账统计表(附件3)",
        }
    }
}

/// Input container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Xlsm,
    Xls,
    Ods,
    Csv,
    /// SpreadsheetML 2003 ("XML 表格"), usually saved under an .xls name.
    Xml,
}

/// Declares [`Field`] and [`Field::ALL`] from one list, so a new field
/// cannot be left out of `ALL`.
macro_rules! fields {
    ($($(#[$meta:meta])* $name:ident,)*) => {
        /// A column's meaning, found from its header text by the synonym table (`read::header`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Field {
            $($(#[$meta])* $name,)*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$name,)*];
        }
    };
}

fields! {
    Seq,
    /// roster: 县 (the county, to tell a school outside it)
    County,
    Township,
    Village,
    Group,
    HouseholdHead,
    HouseholdType,
    Name,
    Sex,
    Id,
    Birthdate,
    Status,
    School,
    Grade,
    Reason,
    Evidence,
    Guardian,
    Phone,
    Surveyor,
    Remark,
    /// roster: 在校生状况
    PlatformStatus,
    /// roster: 是否义务教育阶段适龄儿童少年失学辍学
    PlatformDropout,
    /// roster: 义务教育阶段未上学原因 / 失学或辍学原因
    PlatformReason,
    HouseholdNo,
    PersonNo,
    MonitorType,
    /// warning list: 预警类型
    WarningType,
    /// warning list: 劝返措施
    Measures,
    /// warning list: 责任人
    Responsible,
    /// warning list: 核查结果
    CheckResult,
    /// roster: 证件类型 (居民身份证, 残疾人证 …)
    IdType,
    /// roster: 与户主关系 (本人或户主, 之子, 之女 …)
    Relation,
    /// roster: 户主证件号码 (the household head's ID, not the child's)
    HeadId,
    /// student registry: 学籍号
    RegistryNo,
    /// student registry: 学籍状态 (在读, 休学, 转出 …)
    RegistryStatus,
    /// student registry: 班级
    Class,
    /// student registry: 就读方式 (走读, 住校, sometimes 随班就读)
    StudyMode,
    /// poverty-aid ledger: 学段 (小学, 初中 …)
    Stage,
    /// poverty-aid ledger: 县内/县外
    InCounty,
    /// 现住址, 家庭住址, 户籍地址 (found apart from the synonym table; a
    /// configured village named in it is the row's village)
    Address,
    // ---- 附件3 statistics count columns ----
    StatTotal,
    StatInSchoolLocal,
    StatInSchoolOut,
    StatInclusive,
    StatHomeTeaching,
    StatDeferred,
    StatSuspended,
    StatLongLeave,
    StatGraduated,
    StatDead,
    StatMissing,
    StatAbroad,
    StatDropout,
}

impl Field {
    /// The field name used in findings.json (`field`).
    pub fn key(self) -> &'static str {
        use Field::*;
        match self {
            Seq => "seq",
            County => "county",
            Township => "township",
            Village => "village",
            Group => "group",
            HouseholdHead => "household_head",
            HouseholdType => "household_type",
            Name => "name",
            Sex => "sex",
            Id => "id",
            Birthdate => "birthdate",
            Status => "status",
            School => "school",
            Grade => "grade",
            Reason => "reason",
            Evidence => "evidence",
            Guardian => "guardian",
            Phone => "phone",
            Surveyor => "surveyor",
            Remark => "remark",
            PlatformStatus => "platform_status",
            PlatformDropout => "platform_dropout",
            PlatformReason => "platform_reason",
            HouseholdNo => "household_no",
            PersonNo => "person_no",
            MonitorType => "monitor_type",
            WarningType => "warning_type",
            Measures => "measures",
            Responsible => "responsible",
            CheckResult => "check_result",
            IdType => "id_type",
            Relation => "relation",
            HeadId => "head_id",
            RegistryNo => "registry_no",
            RegistryStatus => "registry_status",
            Class => "class",
            StudyMode => "study_mode",
            Stage => "stage",
            InCounty => "in_county",
            Address => "address",
            StatTotal => "total",
            StatInSchoolLocal => "in_school_local",
            StatInSchoolOut => "in_school_out",
            StatInclusive => "inclusive",
            StatHomeTeaching => "home_teaching",
            StatDeferred => "deferred",
            StatSuspended => "suspended",
            StatLongLeave => "long_leave",
            StatGraduated => "graduated",
            StatDead => "dead",
            StatMissing => "missing",
            StatAbroad => "abroad",
            StatDropout => "dropout",
        }
    }

    /// The canonical header text (what `taizhang template` writes).
    pub fn label_zh(self) -> &'static str {
        use Field::*;
        match self {
            Seq => "序号",
            County => "县",
            Township => "乡镇",
            Village => "村（社区）",
            Group => "组",
            HouseholdHead => "户主姓名",
            HouseholdType => "户类型",
            Name => "姓名",
            Sex => "性别",
            Id => "身份证号码",
            Birthdate => "出生日期",
            Status => "就读状态",
            School => "就读学校",
            Grade => "年级",
            Reason => "未在校原因",
            Evidence => "佐证材料",
            Guardian => "监护人",
            Phone => "联系电话",
            Surveyor => "调查人",
            Remark => "备注",
            PlatformStatus => "在校生状况",
            PlatformDropout => "是否义务教育阶段适龄儿童少年失学辍学",
            PlatformReason => "失学或辍学原因",
            HouseholdNo => "户编号",
            PersonNo => "人口编号",
            MonitorType => "监测对象类别",
            WarningType => "预警类型",
            Measures => "劝返措施",
            Responsible => "责任人",
            CheckResult => "核查结果",
            IdType => "证件类型",
            Relation => "与户主关系",
            HeadId => "户主证件号码",
            RegistryNo => "学籍号",
            RegistryStatus => "学籍状态",
            Class => "班级",
            StudyMode => "就读方式",
            Stage => "学段",
            InCounty => "县内/县外",
            Address => "家庭住址",
            StatTotal => "学龄人口数",
            StatInSchoolLocal => "在校人数（本县）",
            StatInSchoolOut => "在校人数（县外）",
            StatInclusive => "随班就读",
            StatHomeTeaching => "送教上门",
            StatDeferred => "延缓入学",
            StatSuspended => "休学",
            StatLongLeave => "长期请假",
            StatGraduated => "初中已毕业",
            StatDead => "死亡",
            StatMissing => "失踪失联",
            StatAbroad => "出国（境）",
            StatDropout => "失学辍学",
        }
    }

    /// The statistics count columns in template order (after 村).
    pub const STAT_COUNTS: [Field; 13] = [
        Field::StatTotal,
        Field::StatInSchoolLocal,
        Field::StatInSchoolOut,
        Field::StatInclusive,
        Field::StatHomeTeaching,
        Field::StatDeferred,
        Field::StatSuspended,
        Field::StatLongLeave,
        Field::StatGraduated,
        Field::StatDead,
        Field::StatMissing,
        Field::StatAbroad,
        Field::StatDropout,
    ];
}

/// A cell value as the workbook holds it, before any normalising.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A number-typed cell (ints included).
    Number(f64),
    /// A date-typed cell, as an Excel serial (1900 system; 1.0 = 1900-01-01).
    Date(f64),
    Bool(bool),
    /// An Excel error such as `#REF!` or `#N/A`.
    Error(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
    /// The value as a clerk would read it in the cell (numbers without
    /// a trailing `.0`, large numbers the way Excel's General format shows them
    /// is the normaliser's business, not this one's).
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) | Cell::Date(n) => {
                if n.fract() == 0.0 && n.abs() < 1e17 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// One value of a row, with its absolute 1-based column.
#[derive(Clone, Debug, PartialEq)]
pub struct RawValue {
    pub col: u32,
    pub cell: Cell,
}

/// One data row of a sheet: absolute 1-based Excel row, and the value of
/// every recognised field (forward-filled from merged cells where the merge
/// covers this row).
#[derive(Clone, Debug, PartialEq)]
pub struct RawRow {
    pub row: u32,
    pub values: RawValues,
}

/// The values of a row by field: a few dozen at most, kept in one sorted
/// vector (a row costs one allocation, not a tree of nodes). Reads like a
/// `BTreeMap<Field, RawValue>`: fields in their order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawValues(Vec<(Field, RawValue)>);

impl RawValues {
    pub fn new() -> Self {
        RawValues(Vec::new())
    }
    pub fn with_capacity(n: usize) -> Self {
        RawValues(Vec::with_capacity(n))
    }
    fn position(&self, f: &Field) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(f))
    }
    pub fn get(&self, f: &Field) -> Option<&RawValue> {
        self.position(f).ok().map(|i| &self.0[i].1)
    }
    pub fn contains_key(&self, f: &Field) -> bool {
        self.position(f).is_ok()
    }
    /// Sets the value of `f`; returns the one it replaces.
    pub fn insert(&mut self, f: Field, v: RawValue) -> Option<RawValue> {
        match self.position(&f) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                self.0.insert(i, (f, v));
                None
            }
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// (field, value) in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&Field, &RawValue)> {
        self.0.iter().map(|(f, v)| (f, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &Field> {
        self.0.iter().map(|(f, _)| f)
    }
    pub fn values(&self) -> impl Iterator<Item = &RawValue> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl FromIterator<(Field, RawValue)> for RawValues {
    fn from_iter<I: IntoIterator<Item = (Field, RawValue)>>(iter: I) -> Self {
        let mut v = RawValues::new();
        for (f, x) in iter {
            v.insert(f, x);
        }
        v
    }
}

impl<'a> IntoIterator for &'a RawValues {
    type Item = (&'a Field, &'a RawValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Field, RawValue)>,
        fn(&'a (Field, RawValue)) -> (&'a Field, &'a RawValue),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(f, v)| (f, v))
    }
}

impl std::ops::Index<&Field> for RawValues {
    type Output = RawValue;
    fn index(&self, f: &Field) -> &RawValue {
        match self.get(f) {
            Some(v) => v,
            None => panic!("no value for field {f:?}"),
        }
    }
}

impl RawRow {
    pub fn cell(&self, f: Field) -> Option<&Cell> {
        self.values.get(&f).map(|v| &v.cell)
    }
    /// Trimmed display text of a field, or "" when absent.
    pub fn text(&self, f: Field) -> String {
        self.cell(f)
            .map(|c| c.display().trim().to_string())
            .unwrap_or_default()
    }
}

/// Which input file of the round: its place in the round's list of files.
/// Two inputs never share an id, even when they share a file name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub usize);

/// One data sheet of one input file, with its header found.
#[derive(Clone, Debug)]
pub struct Table {
    /// Index of this table in the run's list of tables.
    pub index: usize,
    /// The input file this sheet is in.
    pub input: InputId,
    /// Full path as given.
    pub path: PathBuf,
    /// The name shown to users and written to findings.json: the file name,
    /// preceded by as many parent folders as it takes to tell it from
    /// another input of the same name (`甲/附件1.xlsx`).
    pub file: String,
    pub format: Format,
    pub sheet: String,
    pub role: Role,
    /// Row holding the field names (lower row of a two-row header), 1-based.
    pub header_row: u32,
    /// Column (1-based) of every recognised field.
    pub columns: BTreeMap<Field, u32>,
    /// The data rows, while they are held: a whole round normalises the
    /// rows of most tables as they are read and keeps only those of the
    /// statistics tables (see [`Table::row_count`]).
    pub rows: Vec<RawRow>,
    /// How many data rows the table has.
    pub row_count: usize,
    /// Text of the rows above the header (title, 填报单位 line), joined by '\n'.
    pub preamble: String,
    /// Rows skipped because their 乡镇 is another township.
    pub skipped: usize,
}

impl Table {
    /// The table without its rows: what it is, where, and how many rows
    /// it has.
    pub fn description(&self) -> Table {
        Table {
            index: self.index,
            input: self.input,
            path: self.path.clone(),
            file: self.file.clone(),
            format: self.format,
            sheet: self.sheet.clone(),
            role: self.role,
            header_row: self.header_row,
            columns: self.columns.clone(),
            rows: Vec::new(),
            row_count: self.row_count,
            preamble: self.preamble.clone(),
            skipped: self.skipped,
        }
    }

    /// The column a finding about `field` points at: the field's own
    /// column, else the name column, else A.
    pub fn column_of(&self, field: Field) -> u32 {
        Table::column_in(&self.columns, field)
    }

    /// [`Table::column_of`] in a table's column map (every record holds
    /// its table's, see `Record::cols`).
    pub fn column_in(columns: &BTreeMap<Field, u32>, field: Field) -> u32 {
        columns
            .get(&field)
            .or_else(|| columns.get(&Field::Name))
            .copied()
            .unwrap_or(1)
    }

    /// A row of this table, as a finding or link refers to it.
    pub fn loc(&self, row: u32) -> Loc {
        Loc {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            row,
            input: self.input,
            column: String::new(),
        }
    }

    pub fn cell_ref(&self, row: u32, col: u32) -> CellRef {
        CellRef {
            input: self.input,
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            row,
            col,
        }
    }
}

/// An absolute cell address, printed as `附件1_熨斗初级中学.xlsx:Sheet1!F17`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellRef {
    pub input: InputId,
    /// The input's name as shown (see [`Table::file`]).
    pub file: String,
    pub sheet: String,
    pub row: u32,
    /// 1-based column.
    pub col: u32,
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}!{}{}",
            self.file,
            self.sheet,
            col_letter(self.col),
            self.row
        )
    }
}

/// The decimal digits of a number, written without the formatting
/// machinery: row numbers and style indices go into hand-written sheet XML
/// a million times in a large round.
pub struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are written into `buf[start..]`.
        std::str::from_utf8(self.as_bytes()).unwrap_or("0")
    }
}

/// The decimal digits of `n`.
pub fn digits(mut n: u64) -> Digits {
    let mut d = Digits {
        buf: [0; 20],
        start: 20,
    };
    loop {
        d.start -= 1;
        d.buf[d.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return d;
        }
    }
}

/// 1 → "A", 27 → "AA". Columns are 1-based.
pub fn col_letter(col: u32) -> String {
    let mut n = col;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// "AA" → 27; None for anything that is not letters.
pub fn col_number(letters: &str) -> Option<u32> {
    if letters.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for b in letters.bytes() {
        if !b.is_ascii_uppercase() {
            return None;
        }
        n = n.checked_mul(26)?.checked_add((b - b'A' + 1) as u32)?;
    }
    Some(n)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    // Order matters: Error sorts first.
    Error,
    Warning,
    Notice,
}

impl Severity {
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "警告",
            Severity::Notice => "提示",
        }
    }
}

macro_rules! codes {
    ($($name:ident => $sev:ident, $zh:literal;)*) => {
        /// Every finding code taizhang reports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum Code { $($name,)* }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => stringify!($name),)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$name => Severity::$sev,)* }
            }
            /// A short plain-Chinese title for tables and legends.
            pub fn title_zh(self) -> &'static str {
                match self { $(Code::$name => $zh,)* }
            }
        }
    };
}

codes! {
    ID_MISSING => Error, "缺少身份证号";
    ID_FORMAT => Error, "身份证号格式错误";
    ID_CHECKSUM => Error, "身份证号校验位错误";
    ID_BAD_DATE => Error, "身份证号中的出生日期不存在";
    ID_TRUNCATED => Error, "身份证号被Excel存成数字，后几位已丢失";
    ID_LEGACY_15 => Warning, "15位旧身份证号";
    NAME_MISSING => Error, "缺少姓名";
    NAME_FORMAT => Warning, "姓名含空格、数字、字母或不规范的点";
    BIRTHDATE_MISMATCH => Error, "出生日期与身份证号不符";
    SEX_MISMATCH => Error, "性别与身份证号不符";
    OUT_OF_AGE_RANGE => Warning, "不在义务教育年龄段内";
    DUPLICATE_ID => Error, "身份证号重复";
    STATUS_MISSING => Error, "缺少就读状态";
    STATUS_UNKNOWN => Error, "就读状态无法识别";
    EVIDENCE_MISSING => Error, "缺少佐证材料";
    SCHOOL_MISSING => Error, "在校但缺少学校或年级";
    GRADE_AGE => Warning, "年级与年龄不符";
    GRADE_UNKNOWN => Warning, "年级无法识别";
    STATUS_AGE => Warning, "就读状态与年龄不符";
    VILLAGE_UNKNOWN => Error, "村（社区）不在本镇名单中";
    VILLAGE_WRONG_SCHOOL => Warning, "该村不属于本校包联范围";
    DROPOUT => Notice, "失学辍学";
    NOT_SURVEYED => Error, "县局名单中的儿童未摸底（遗漏）";
    NOT_IN_ROSTER => Warning, "县局名单中没有此儿童";
    POSSIBLE_MATCH => Warning, "疑似县局名单中的儿童，需人工确认";
    NAME_DIFFERS => Warning, "姓名与县局名单不一致";
    ID_DIFFERS => Error, "身份证号与县局名单不一致";
    BIRTHDATE_DIFFERS => Warning, "出生日期与县局名单不一致";
    SEX_DIFFERS => Warning, "性别与县局名单不一致";
    VILLAGE_DIFFERS => Warning, "村（社区）与县局名单不一致";
    ROSTER_STATUS_DIFFERS => Warning, "平台在校状况与摸底结果不一致";
    VILLAGE_NOT_COVERED => Error, "整村未摸底";
    LEDGER_MISSING_CHILD => Error, "台账缺少县局名单中的儿童";
    LEDGER_DIFFERS => Error, "台账与摸底结果不一致";
    STATS_DIFFERS => Error, "统计表数字与台账不符";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A row elsewhere that a finding or link refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Loc {
    pub file: String,
    pub sheet: String,
    pub row: u32,
    /// The input file (findings.json names it by `file`).
    #[serde(skip)]
    pub input: InputId,
    /// Excel column letter of the cell a finding's `related` place points
    /// at (the finding's field in that sheet, see [`fill_related_columns`]);
    /// empty for a whole row. findings.json keeps rows only.
    #[serde(skip)]
    pub column: String,
}

/// Give every related place of `findings` its column: the column of the
/// finding's own field in the related sheet (the roster's ID cell for an
/// ID that differs, the first copy's ID cell for a duplicate), else that
/// sheet's name column, else A.
pub fn fill_related_columns(findings: &mut [Finding], tables: &[Table]) {
    for f in findings.iter_mut().filter(|f| !f.related.is_empty()) {
        let field = Field::ALL.iter().copied().find(|k| k.key() == f.field);
        for l in &mut f.related {
            let Some(t) = tables
                .iter()
                .find(|t| t.input == l.input && t.sheet == l.sheet)
            else {
                continue;
            };
            // Without a field, the name column (else A).
            l.column = col_letter(t.column_of(field.unwrap_or(Field::Name)));
        }
    }
}

/// One problem, at one cell (an entry of findings.json `findings`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The input's name as shown (see [`Table::file`]).
    pub file: String,
    /// The input file the cell is in (findings.json names it by `file`).
    #[serde(skip)]
    pub input: InputId,
    pub sheet: String,
    pub row: u32,
    /// Excel column letter.
    pub column: String,
    /// Field key (see [`Field::key`]); empty when the finding is about the row.
    pub field: String,
    /// What the cell holds, as shown.
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Plain Chinese: what is wrong.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Loc>,
    /// The row's canonical village, for counts by village (an extra key of findings.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub village: Option<String>,
}

impl Finding {
    /// A finding at `table`'s cell (row, col). Severity comes from the code.
    pub fn at(
        code: Code,
        table: &Table,
        row: u32,
        col: u32,
        field: Option<Field>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            file: table.file.clone(),
            input: table.input,
            sheet: table.sheet.clone(),
            row,
            column: col_letter(col),
            field: field.map(|f| f.key().to_string()).unwrap_or_default(),
            value: value.into(),
            suggestion: None,
            message: message.into(),
            related: Vec::new(),
            village: None,
        }
    }
    /// A finding about a whole row: on the record's name cell (column A when
    /// the table has no name column), carrying the record's village.
    pub fn on_name(code: Code, table: &Table, r: &Record, message: impl Into<String>) -> Finding {
        let mut f = Finding::on_field(code, table, r, Field::Name, r.name_raw.clone(), message);
        f.village = r.village.as_deref().map(String::from);
        f
    }
    /// A finding at record `r`'s cell of `field` in `table` (see
    /// [`Table::column_of`]), `value` being what the cell shows.
    pub fn on_field(
        code: Code,
        table: &Table,
        r: &Record,
        field: Field,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        let col = Table::column_in(&r.cols, field);
        Finding::at(code, table, r.row, col, Some(field), value, message)
    }
    pub fn with_suggestion(mut self, s: impl Into<String>) -> Finding {
        self.suggestion = Some(s.into());
        self
    }
    pub fn with_related(mut self, l: Loc) -> Finding {
        self.related.push(l);
        self
    }
    pub fn loc(&self) -> Loc {
        Loc {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            row: self.row,
            input: self.input,
            column: self.column.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Linked,
    Possible,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_all_lists_every_field_once_in_order() {
        assert!(
            Field::ALL.windows(2).all(|w| w[0] < w[1]),
            "declaration order, no repeats"
        );
        assert_eq!(Field::ALL.first(), Some(&Field::Seq));
        assert_eq!(Field::ALL.last(), Some(&Field::StatDropout));
        assert!(Field::ALL.contains(&Field::Address));
        let keys: std::collections::BTreeSet<&str> = Field::ALL.iter().map(|f| f.key()).collect();
        assert_eq!(keys.len(), Field::ALL.len(), "every key names one field");
        for f in Field::STAT_COUNTS {
            assert!(Field::ALL.contains(&f));
        }
    }

    #[test]
    fn column_letters_round_trip() {
        for (n, s) in [
            (1, "A"),
            (26, "Z"),
            (27, "AA"),
            (52, "AZ"),
            (703, "AAA"),
            (16384, "XFD"),
        ] {
            assert_eq!(col_letter(n), s);
            assert_eq!(col_number(s), Some(n));
        }
        assert_eq!(col_number("a1"), None);
    }

    #[test]
    fn digits_are_the_numbers_display() {
        for n in [0, 7, 10, 99, 100, 1_048_576, (1 << 53) - 1, u64::MAX] {
            assert_eq!(digits(n).as_str(), n.to_string());
        }
    }

    #[test]
    fn cell_ref_prints_like_a_compiler() {
        let c = CellRef {
            input: InputId(0),
            file: "附件1.xlsx".into(),
            sheet: "Sheet1".into(),
            row: 17,
            col: 6,
        };
        assert_eq!(c.to_string(), "附件1.xlsx:Sheet1!F17");
    }
}

// ---------------------------------------------------------------------------
// Normalised values (produced by `normalize`, consumed by check/link/derive).
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A date as stated in a cell.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DateValue {
    Missing,
    Day(chrono::NaiveDate),
    /// Month-only dates (2010.5, 2010年5月): compared on year and month only.
    Month(i32, u32),
    /// A number cell holding yyyy.1: typed as 2011.1 or as 2011.10 (the
    /// number lost its trailing zero), so January or October of the year.
    JanuaryOrOctober(i32),
    /// Text that is no date; kept for the message.
    Unparsed(CompactString),
}

impl DateValue {
    /// The canonical text: 2010-05-03, or 2010-05 for a month-only date.
    pub fn display(&self) -> String {
        match self {
            DateValue::Missing => String::new(),
            DateValue::Day(d) => d.format("%Y-%m-%d").to_string(),
            DateValue::Month(y, m) => format!("{y:04}-{m:02}"),
            DateValue::JanuaryOrOctober(y) => format!("{y:04}.1"),
            DateValue::Unparsed(s) => s.to_string(),
        }
    }
    /// A date was stated (a day or a month), not missing or unreadable.
    pub fn is_stated(&self) -> bool {
        matches!(
            self,
            DateValue::Day(_) | DateValue::Month(..) | DateValue::JanuaryOrOctober(_)
        )
    }
    /// Whether two stated dates agree, a month-only date agreeing with any day
    /// of its month. Missing/unparsed never agree (and never disagree: None).
    pub fn agrees(&self, other: &DateValue) -> Option<bool> {
        use chrono::Datelike;
        match (self, other) {
            (DateValue::Day(a), DateValue::Day(b)) => Some(a == b),
            (DateValue::Day(d), DateValue::Month(y, m))
            | (DateValue::Month(y, m), DateValue::Day(d)) => {
                Some(d.year() == *y && d.month() == *m)
            }
            (DateValue::Month(y1, m1), DateValue::Month(y2, m2)) => Some(y1 == y2 && m1 == m2),
            (DateValue::JanuaryOrOctober(y), DateValue::Day(d))
            | (DateValue::Day(d), DateValue::JanuaryOrOctober(y)) => {
                Some(d.year() == *y && matches!(d.month(), 1 | 10))
            }
            (DateValue::JanuaryOrOctober(y), DateValue::Month(y2, m))
            | (DateValue::Month(y2, m), DateValue::JanuaryOrOctober(y)) => {
                Some(y == y2 && matches!(m, 1 | 10))
            }
            (DateValue::JanuaryOrOctober(a), DateValue::JanuaryOrOctober(b)) => Some(a == b),
            _ => None,
        }
    }
}

/// What the ID cell turned out to hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    Missing,
    /// 18 characters, valid check digit, real birth date.
    Valid,
    /// Stored as a number: Excel kept only 15 significant digits.
    /// `IdInfo::clean` holds what Excel shows (first 15 digits then 000).
    Truncated,
    /// A 15-digit legacy ID (valid only for adults). `IdInfo::clean` is the
    /// 15 digits; the 18-digit form is in `upgraded`.
    Legacy15 {
        upgraded: CompactString,
    },
    /// Not 18 characters of digits with a final digit or X.
    BadFormat,
    /// Well-formed but the check digit is wrong; `expected` is the right one.
    BadChecksum {
        expected: char,
    },
    /// The birth date inside the ID is not a real date.
    BadDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdInfo {
    /// The cell text as shown (for messages and `value`).
    pub raw: CompactString,
    /// Cleaned: NFKC, no spaces/apostrophes, upper-case X.
    pub clean: CompactString,
    pub kind: IdKind,
}

impl IdInfo {
    /// The 18-character form whose birth date and sex digit are trusted:
    /// a valid or bad-checksum ID as cleaned, a legacy ID upgraded.
    pub fn dated18(&self) -> Option<&str> {
        match &self.kind {
            IdKind::Valid | IdKind::BadChecksum { .. } => Some(&self.clean),
            IdKind::Legacy15 { upgraded } => Some(upgraded),
            _ => None,
        }
    }
    /// Birth date from the ID (valid, bad-checksum or legacy IDs whose date is real).
    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        crate::gb11643::birth_date(self.dated18()?)
    }
    /// Sex from the 17th digit (odd = male).
    pub fn sex(&self) -> Option<Sex> {
        crate::gb11643::sex(self.dated18()?)
    }
    pub fn is_valid(&self) -> bool {
        self.kind == IdKind::Valid
    }
}

/// Enrolment status vocabulary (the 13 statuses of the round).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Status {
    /// 在校(本县)
    InSchoolLocal,
    /// 在校(县外)
    InSchoolOut,
    /// 随班就读
    Inclusive,
    /// 送教上门
    HomeTeaching,
    /// 延缓入学
    Deferred,
    /// 休学
    Suspended,
    /// 长期请假
    LongLeave,
    /// 初中已毕业
    Graduated,
    /// 死亡
    Dead,
    /// 失踪失联
    Missing,
    /// 出国(境)
    Abroad,
    /// 失学 (never enrolled)
    NeverEnrolled,
    /// 辍学
    Dropout,
}

impl Status {
    pub const ALL: [Status; 13] = [
        Status::InSchoolLocal,
        Status::InSchoolOut,
        Status::Inclusive,
        Status::HomeTeaching,
        Status::Deferred,
        Status::Suspended,
        Status::LongLeave,
        Status::Graduated,
        Status::Dead,
        Status::Missing,
        Status::Abroad,
        Status::NeverEnrolled,
        Status::Dropout,
    ];
    /// The canonical text, also the dropdown list of the templates.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::InSchoolLocal => "在校(本县)",
            Status::InSchoolOut => "在校(县外)",
            Status::Inclusive => "随班就读",
            Status::HomeTeaching => "送教上门",
            Status::Deferred => "延缓入学",
            Status::Suspended => "休学",
            Status::LongLeave => "长期请假",
            Status::Graduated => "初中已毕业",
            Status::Dead => "死亡",
            Status::Missing => "失踪失联",
            Status::Abroad => "出国(境)",
            Status::NeverEnrolled => "失学",
            Status::Dropout => "辍学",
        }
    }
    /// Needs 佐证材料 (else EVIDENCE_MISSING).
    pub fn needs_evidence(self) -> bool {
        !matches!(
            self,
            Status::InSchoolLocal | Status::Inclusive | Status::NeverEnrolled | Status::Dropout
        )
    }
    /// Attends a school (needs 就读学校 and 年级).
    pub fn in_school(self) -> bool {
        matches!(
            self,
            Status::InSchoolLocal | Status::InSchoolOut | Status::Inclusive
        )
    }
    pub fn is_dropout(self) -> bool {
        matches!(self, Status::NeverEnrolled | Status::Dropout)
    }
    /// The 附件3 column this child counts in.
    pub fn stat_field(self) -> Field {
        match self {
            Status::InSchoolLocal => Field::StatInSchoolLocal,
            Status::InSchoolOut => Field::StatInSchoolOut,
            Status::Inclusive => Field::StatInclusive,
            Status::HomeTeaching => Field::StatHomeTeaching,
            Status::Deferred => Field::StatDeferred,
            Status::Suspended => Field::StatSuspended,
            Status::LongLeave => Field::StatLongLeave,
            Status::Graduated => Field::StatGraduated,
            Status::Dead => Field::StatDead,
            Status::Missing => Field::StatMissing,
            Status::Abroad => Field::StatAbroad,
            Status::NeverEnrolled | Status::Dropout => Field::StatDropout,
        }
    }
}

/// A status cell after normalising.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusValue {
    Missing,
    Known(Status),
    Unknown(CompactString),
}

/// A grade cell after normalising: 1–9 compulsory, 10–12 senior high
/// (中职/职高 are 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GradeValue {
    Missing,
    Known(u8),
    Unknown(CompactString),
}

/// One child's row after normalising. Every field keeps the raw row, so a
/// finding can name the exact cell.
///
/// Per-person text (names, IDs, household head and number) is a
/// [`CompactString`]: up to 24 bytes inside the record, no heap block. Text
/// that many rows repeat (village, group, status, school, reason …) is an
/// [`ArcStr`], one pointer to a copy shared by every record of the table
/// holding that value (see `normalize::Interner`). Empty text costs no heap
/// in either.
#[derive(Clone, Debug)]
pub struct Record {
    /// Index of the table (see [`Table::index`]).
    pub table: usize,
    pub role: Role,
    /// Absolute 1-based Excel row.
    pub row: u32,
    /// Cleaned name: NFKC, trimmed, inner whitespace removed, dots folded to U+00B7.
    pub name: CompactString,
    /// Name as the cell holds it.
    pub name_raw: CompactString,
    pub id: IdInfo,
    pub sex: Option<Sex>,
    pub sex_raw: ArcStr,
    pub birth: DateValue,
    /// The birth date cell as shown (empty without one): what a finding
    /// about the stated date quotes.
    pub birth_raw: CompactString,
    /// Canonical village (as configured, or as learned from the roster), if known.
    pub village: Option<ArcStr>,
    pub village_raw: ArcStr,
    pub group: ArcStr,
    pub household_head: CompactString,
    pub household_type: ArcStr,
    pub township: ArcStr,
    pub status: StatusValue,
    pub status_raw: ArcStr,
    pub school: ArcStr,
    pub grade: GradeValue,
    pub grade_raw: ArcStr,
    pub reason: ArcStr,
    pub evidence: ArcStr,
    pub surveyor: ArcStr,
    pub remark: ArcStr,
    /// roster only: 在校生状况 / 失学辍学 flag / reason, as text.
    pub platform_status: ArcStr,
    pub platform_dropout: ArcStr,
    pub platform_reason: ArcStr,
    pub household_no: CompactString,
    /// Column (1-based) of each field present in the table, shared by
    /// every record of the table.
    pub cols: Arc<BTreeMap<Field, u32>>,
}

impl Record {
    /// The birth date that decides age: the ID's when the ID is valid, else the stated one.
    pub fn effective_birth(&self) -> Option<chrono::NaiveDate> {
        if self.id.is_valid() {
            return self.id.birth_date();
        }
        match self.birth {
            DateValue::Day(d) => Some(d),
            DateValue::Month(y, m) => chrono::NaiveDate::from_ymd_opt(y, m, 15),
            DateValue::JanuaryOrOctober(y) => chrono::NaiveDate::from_ymd_opt(y, 1, 15),
            _ => None,
        }
    }
    pub fn col(&self, f: Field) -> Option<u32> {
        self.cols.get(&f).copied()
    }
}
