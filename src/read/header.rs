//! Header detection: the synonym table, header-text normalising,
//! and finding the header row (one- or two-row, merged) in a sheet.

use super::sheet_data::SheetData;
use crate::model::{Cell, Field};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Header rows are searched among the first this-many non-empty rows.
pub(crate) const HEADER_SEARCH_ROWS: usize = 15;

/// Header texts seen in the field, beside each field's canonical
/// label ([`Field::label_zh`]). Compared after [`normalize_header`].
const SYNONYMS: &[(&str, Field)] = &[
    ("序号", Field::Seq),
    ("序", Field::Seq),
    ("县(市、区)", Field::County),
    ("县(区)", Field::County),
    ("县(市)", Field::County),
    ("县区", Field::County),
    ("区县", Field::County),
    ("所在县", Field::County),
    ("乡镇", Field::Township),
    ("乡镇(街道)", Field::Township),
    ("所在乡镇", Field::Township),
    ("乡(镇)", Field::Township),
    ("乡", Field::Township),
    ("镇", Field::Township),
    ("乡镇街道", Field::Township),
    ("镇(乡)", Field::Township),
    ("村组(社区)", Field::Village),
    ("村组", Field::Village),
    ("村", Field::Village),
    ("村(社区)", Field::Village),
    ("村(居)", Field::Village),
    ("村(居)委会", Field::Village),
    ("村委会", Field::Village),
    ("村社区", Field::Village),
    ("行政村", Field::Village),
    ("所在村", Field::Village),
    ("所在村(社区)", Field::Village),
    ("村别", Field::Village),
    ("村名", Field::Village),
    ("组", Field::Group),
    ("村民小组", Field::Group),
    ("组别", Field::Group),
    ("小组", Field::Group),
    ("自然村", Field::Group),
    ("户主姓名", Field::HouseholdHead),
    ("户主", Field::HouseholdHead),
    ("户类型", Field::HouseholdType),
    ("户属性", Field::HouseholdType),
    ("农户类型", Field::HouseholdType),
    ("姓名", Field::Name),
    ("学生姓名", Field::Name),
    ("儿童姓名", Field::Name),
    ("适龄儿童姓名", Field::Name),
    ("学龄人口姓名", Field::Name),
    ("儿童少年姓名", Field::Name),
    ("身份证号", Field::Id),
    ("身份证号码", Field::Id),
    ("公民身份号码", Field::Id),
    ("公民身份证号码", Field::Id),
    ("证件号码", Field::Id),
    ("证件号", Field::Id),
    ("身份证件号", Field::Id),
    ("身份证件号码", Field::Id),
    ("学生身份证号", Field::Id),
    ("学生身份证号码", Field::Id),
    ("身份证", Field::Id),
    ("性别", Field::Sex),
    ("出生日期", Field::Birthdate),
    ("出生年月", Field::Birthdate),
    ("出生年月日", Field::Birthdate),
    ("出生时间", Field::Birthdate),
    ("就读状态", Field::Status),
    ("就学状态", Field::Status),
    ("入学情况", Field::Status),
    ("在校情况", Field::Status),
    ("是否在校", Field::Status),
    ("就学情况", Field::Status),
    ("就读情况", Field::Status),
    ("就读学校", Field::School),
    ("就读学校名称", Field::School),
    ("学校名称", Field::School),
    ("在读学校", Field::School),
    ("所在学校", Field::School),
    ("年级", Field::Grade),
    ("就读年级", Field::Grade),
    ("所在年级", Field::Grade),
    ("未在校原因", Field::Reason),
    ("不在校原因", Field::Reason),
    ("失学辍学原因", Field::Reason),
    ("未入学原因", Field::Reason),
    ("佐证材料", Field::Evidence),
    ("佐证资料", Field::Evidence),
    ("证明材料", Field::Evidence),
    ("监护人", Field::Guardian),
    ("监护人姓名", Field::Guardian),
    ("联系电话", Field::Phone),
    ("电话", Field::Phone),
    ("联系方式", Field::Phone),
    ("监护人电话", Field::Phone),
    ("监护人联系电话", Field::Phone),
    ("调查人", Field::Surveyor),
    ("摸底人", Field::Surveyor),
    ("核实人", Field::Surveyor),
    ("核查人", Field::Surveyor),
    ("包联教师", Field::Surveyor),
    ("调查人员", Field::Surveyor),
    ("备注", Field::Remark),
    ("在校生状况", Field::PlatformStatus),
    (
        "是否义务教育阶段适龄儿童少年失学辍学",
        Field::PlatformDropout,
    ),
    ("是否失学辍学", Field::PlatformDropout),
    ("义务教育阶段未上学原因", Field::PlatformReason),
    ("失学或辍学原因", Field::PlatformReason),
    ("户编号", Field::HouseholdNo),
    ("人口编号", Field::PersonNo),
    ("人编号", Field::PersonNo),
    ("证件类型", Field::IdType),
    ("与户主关系", Field::Relation),
    ("户主证件号码", Field::HeadId),
    ("户主身份证号码", Field::HeadId),
    ("户主身份证号", Field::HeadId),
    ("学籍号", Field::RegistryNo),
    ("全国学籍号", Field::RegistryNo),
    ("学籍状态", Field::RegistryStatus),
    ("班级", Field::Class),
    ("就读方式", Field::StudyMode),
    ("学段", Field::Stage),
    ("县内/县外", Field::InCounty),
    ("县内县外", Field::InCounty),
    ("学校全称", Field::School),
    ("监测对象类别", Field::MonitorType),
    ("预警类型", Field::WarningType),
    ("劝返措施", Field::Measures),
    ("责任人", Field::Responsible),
    ("核查结果", Field::CheckResult),
    ("学龄人口数", Field::StatTotal),
    ("学龄人口总数", Field::StatTotal),
    ("总数", Field::StatTotal),
    ("应入学人数", Field::StatTotal),
    ("在校人数(本县)", Field::StatInSchoolLocal),
    ("在校人数本县", Field::StatInSchoolLocal),
    ("在校(本县)", Field::StatInSchoolLocal),
    ("本县在校", Field::StatInSchoolLocal),
    ("在校人数(县外)", Field::StatInSchoolOut),
    ("在校人数县外", Field::StatInSchoolOut),
    ("在校(县外)", Field::StatInSchoolOut),
    ("县外在校", Field::StatInSchoolOut),
    ("随班就读", Field::StatInclusive),
    ("随班就读人数", Field::StatInclusive),
    ("送教上门", Field::StatHomeTeaching),
    ("延缓入学", Field::StatDeferred),
    ("休学", Field::StatSuspended),
    ("长期请假", Field::StatLongLeave),
    ("初中已毕业", Field::StatGraduated),
    ("死亡", Field::StatDead),
    ("失踪失联", Field::StatMissing),
    ("出国(境)", Field::StatAbroad),
    ("出国", Field::StatAbroad),
    ("失学辍学", Field::StatDropout),
    ("失学辍学人数", Field::StatDropout),
];

/// Every field recognised by its canonical label (the address is found
/// apart from the synonym table), for building the table.
fn table_fields() -> impl Iterator<Item = Field> {
    Field::ALL.iter().copied().filter(|&f| f != Field::Address)
}

/// Suffixes that only say whether a column must be filled.
const FILL_HINTS: &[&str] = &[
    "(必填)",
    "(必填项)",
    "(必须填写)",
    "(必须)",
    "(选填)",
    "(可选)",
    "(非必填)",
    "(可不填)",
];

fn synonym_map() -> &'static HashMap<String, Field> {
    static MAP: OnceLock<HashMap<String, Field>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = HashMap::new();
        for f in table_fields() {
            m.entry(normalize_header(f.label_zh())).or_insert(f);
        }
        for &(text, f) in SYNONYMS {
            m.entry(normalize_header(text)).or_insert(f);
        }
        m
    })
}

/// Header text normalised for matching: NFKC (full-width forms become ASCII),
/// every kind of whitespace removed (line breaks, NBSP, U+3000, zero-width
/// characters), other bracket shapes folded to `()`, `*` marks and fill hints
/// such as （必填） dropped, a trailing colon dropped.
pub fn normalize_header(text: &str) -> String {
    let nfkc = crate::normalize::text::nfkc(text);
    let mut s: String = nfkc
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
                )
        })
        .map(|c| match c {
            '【' | '〔' | '[' | '〈' | '《' => '(',
            '】' | '〕' | ']' | '〉' | '》' => ')',
            _ => c,
        })
        .collect();
    loop {
        let before = s.len();
        let t = s.trim_matches(|c| c == '*' || c == '※');
        if t.len() != s.len() {
            s = t.to_string();
        }
        for hint in FILL_HINTS {
            if let Some(rest) = s.strip_suffix(hint) {
                s = rest.to_string();
            }
        }
        if let Some(rest) = s.strip_suffix(':') {
            s = rest.to_string();
        }
        if s.len() == before {
            break;
        }
    }
    s
}

/// The field a header text names (the synonym table, the canonical
/// labels of [`Field::label_zh`], and the 附件3/预警清单 columns), after
/// [`normalize_header`]. A trailing parenthesised remark that is not part of
/// a known header (e.g. `出生日期(年月日)`) is ignored.
///
/// ```
/// use taizhang::model::Field;
/// use taizhang::read::field_for_header;
/// assert_eq!(field_for_header("公民身份\n号码（必填）"), Some(Field::Id));
/// assert_eq!(field_for_header("村（社区）"), Some(Field::Village));
/// assert_eq!(field_for_header("家庭住址"), None);
/// ```
pub fn field_for_header(text: &str) -> Option<Field> {
    let n = normalize_header(text);
    if n.is_empty() {
        return None;
    }
    let map = synonym_map();
    if let Some(f) = map.get(&n) {
        return Some(*f);
    }
    // A parenthesised remark is ignored, unless it says whose value the
    // column holds (身份证号码(户主) is the head's ID).
    if n.ends_with(')')
        && let Some(i) = n.rfind('(')
        && i > 0
        && !OTHER_PERSON.iter().any(|w| n[i..].contains(w))
        && let Some(f) = map.get(&n[..i])
    {
        return Some(*f);
    }
    core_field(&n)
}

/// Words naming a person other than the child.
const OTHER_PERSON: &[&str] = &[
    "户主",
    "监护人",
    "父亲",
    "母亲",
    "家长",
    "法定代理人",
    "联系人",
];

/// Words at least one of which every rule of [`core_field`] needs: a text
/// holding none of them names no field by its core words.
const CORE_TRIGGERS: &[&str] = &[
    "户主",
    "证件",
    "身份",
    "学籍",
    "姓名",
    "性别",
    "出生",
    "组",
    "村",
    "乡镇",
    "街道",
    "编号",
    "编码",
    "县内",
    "县外",
    "学段",
    "原因",
    "状态",
    "情况",
    "是否",
    "随班",
    "学校",
    "年级",
    "班级",
    "监护",
    "父",
    "母",
    "家长",
    "代理人",
    "调查",
    "摸底",
    "核实",
    "核查",
    "包联",
];

/// Longest header text (after [`normalize_header`]) matched by its core words;
/// longer texts are notes or data, not headers.
const CORE_MAX_CHARS: usize = 24;

/// The field a header names by its core words, for phrasings the synonym
/// table does not list (受教育者身份证号, 所在村民小组, 学校全称 …). Rules in
/// order, the more specific first:
/// - a person other than the child (户主, 监护人, 父亲/母亲, 家长): 户主 +
///   关系 is the relation, 户主 + 证件/身份证 the head's ID, 户主 + 姓名 the
///   household head; a guardian's phone is the phone, a guardian's name the
///   guardian, anything else of theirs (their ID) is no field of the child;
/// - counts (人数) are no field of a person;
/// - 证件 + 类型 is the ID type; 身份证/证件/身份号 + 号/码 is the child's ID;
/// - 学籍 + 状态 is the registry status, 学籍 + 号/编码 the registry number;
/// - 姓名, 性别, 出生 + 日期/年月/时间;
/// - 村民小组/村小组/所在组 is the group; 村组, 行政村, 所在村… is the
///   village; 乡镇, …(街道) the township;
/// - 人编号/人口编号/成员编号/人员编号, 户编号/户编码;
/// - 是否随班就读/随班就读… (a yes/no column of a person list, a count in a
///   statistics table); 县内 + 县外, 是否县外; 学段; a reason (原因 + 未在校/不在校/辍学/失学/未入学/
///   未上学); a status (状态/情况 + 就读/就学/在校/在读/入学, or 是否 +
///   在校/在读/就读/就学/上学);
/// - 学校…, 就读/所在/在读学校, 学校名称/全称 (not its code, type, address or
///   phone) is the school; 年级 not after a numeral (五年级 is a value), 班级;
/// - 调查/摸底/核实/核查 + 人, 包联 is the surveyor.
fn core_field(n: &str) -> Option<Field> {
    use Field::*;
    if n.chars().count() > CORE_MAX_CHARS || !CORE_TRIGGERS.iter().any(|w| n.contains(w)) {
        return None;
    }
    let has = |w: &str| n.contains(w);
    let any = |ws: &[&str]| ws.iter().any(|w| n.contains(w));
    let id_words = any(&["身份证", "证件", "身份号"]);
    if has("户主") {
        return if has("关系") {
            Some(Relation)
        } else if id_words {
            Some(HeadId)
        } else if has("姓名") || n == "户主" {
            Some(HouseholdHead)
        } else {
            None
        };
    }
    if any(OTHER_PERSON) {
        return if any(&["电话", "手机", "联系方式"]) {
            Some(Phone)
        } else if has("姓名") || n.ends_with("监护人") {
            Some(Guardian)
        } else {
            None
        };
    }
    if has("人数") {
        return None;
    }
    if has("证件") && any(&["类型", "种类", "类别"]) {
        return Some(IdType);
    }
    if id_words && any(&["号", "码"]) {
        return Some(Id);
    }
    if has("学籍") {
        return if has("状态") {
            Some(RegistryStatus)
        } else if any(&["号", "编码", "代码"]) {
            Some(RegistryNo)
        } else {
            None
        };
    }
    if has("姓名")
        && !any(&[
            "学校", "教师", "老师", "填报", "负责", "调查", "摸底", "核实",
        ])
    {
        return Some(Name);
    }
    if has("性别") {
        return Some(Sex);
    }
    if has("出生") && any(&["日期", "年月", "时间"]) {
        return Some(Birthdate);
    }
    if any(&["村民小组", "村小组"]) || n == "所在组" || n.ends_with("组别") {
        return Some(Group);
    }
    if any(&["村组", "行政村"]) || n.starts_with("所在村") {
        return Some(Village);
    }
    if has("乡镇") || n.ends_with("(街道)") {
        return Some(Township);
    }
    if any(&["人编号", "人口编号", "成员编号", "人员编号"]) {
        return Some(PersonNo);
    }
    if any(&["户编号", "户编码"]) {
        return Some(HouseholdNo);
    }
    if has("随班就读") && (n.starts_with("是否") || n.starts_with("随班就读")) {
        return Some(StatInclusive);
    }
    if (has("县内") && has("县外")) || any(&["是否县外", "是否县内"]) {
        return Some(InCounty);
    }
    if has("学段") {
        return Some(Stage);
    }
    if has("原因") && any(&["未在校", "不在校", "辍学", "失学", "未入学", "未上学"])
    {
        return Some(Reason);
    }
    let schooling = any(&["就读", "就学", "在校", "在读", "入学", "上学"]);
    if schooling && (any(&["状态", "情况"]) || n.starts_with("是否")) {
        return Some(Status);
    }
    // A school's or grade's own name (熨斗镇中心学校, 五年级) is a value.
    if (n.starts_with("学校") || any(&["就读学校", "所在学校", "在读学校", "学校名称", "学校全称"]))
        && !any(&[
            "代码",
            "标识",
            "类型",
            "类别",
            "性质",
            "地址",
            "电话",
            "所在地",
            "所在县",
            "所属",
        ])
    {
        return Some(School);
    }
    if let Some(i) = n.find("年级")
        && !n[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit() || "一二三四五六七八九十初高小中".contains(c))
    {
        return Some(Grade);
    }
    if has("班级") {
        return Some(Class);
    }
    if any(&["调查人", "摸底人", "核实人", "核查人", "包联"]) {
        return Some(Surveyor);
    }
    None
}

/// The synonym keys of every field (normalised header texts).
fn keys_of(f: Field) -> &'static [String] {
    static KEYS: OnceLock<HashMap<Field, Vec<String>>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut m: HashMap<Field, Vec<String>> = HashMap::new();
        for (k, &f) in synonym_map() {
            m.entry(f).or_default().push(k.clone());
        }
        m
    })
    .get(&f)
    .map_or(&[], Vec::as_slice)
}

/// A small set of characters with a quick no (a 1024-bit filter).
#[derive(Default)]
struct CharSet {
    bits: [u64; 16],
    chars: Vec<char>,
}

impl CharSet {
    fn insert(&mut self, c: char) {
        let h = c as usize & 1023;
        self.bits[h / 64] |= 1 << (h % 64);
        if !self.chars.contains(&c) {
            self.chars.push(c);
        }
    }
    fn has(&self, c: char) -> bool {
        let h = c as usize & 1023;
        self.bits[h / 64] & (1 << (h % 64)) != 0 && self.chars.contains(&c)
    }
}

/// The first characters of `f`'s synonym keys, and of the core words.
fn first_chars(f: Field) -> (&'static CharSet, &'static CharSet) {
    // Indexed by field (`Field as usize`): this runs for every data cell.
    static FIRST: OnceLock<(Vec<CharSet>, CharSet, CharSet)> = OnceLock::new();
    let (keys, triggers, none) = FIRST.get_or_init(|| {
        let mut m: Vec<CharSet> = Vec::new();
        for (k, &f) in synonym_map() {
            if let Some(c) = k.chars().next() {
                if m.len() <= f as usize {
                    m.resize_with(f as usize + 1, CharSet::default);
                }
                m[f as usize].insert(c);
            }
        }
        let mut t = CharSet::default();
        for w in CORE_TRIGGERS {
            if let Some(c) = w.chars().next() {
                t.insert(c);
            }
        }
        (m, t, CharSet::default())
    });
    (keys.get(f as usize).unwrap_or(none), triggers)
}

/// Characters that [`normalize_header`] removes or folds.
fn needs_folding(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200b}'
                | '\u{200c}'
                | '\u{200d}'
                | '\u{2060}'
                | '\u{feff}'
                | '【'
                | '〔'
                | '['
                | '〈'
                | '《'
                | '】'
                | '〕'
                | ']'
                | '〉'
                | '》'
        )
}

/// True when `text` surely names no field `f` (most data cells: digits,
/// names, dates); false when [`names_field`] must look closer: the text
/// needs normalising, or a synonym key of `f` starts with its first
/// character, or a core word with one of its characters.
pub(crate) fn surely_names_no_field(text: &str, f: Field) -> bool {
    let (key_first, trigger_first) = first_chars(f);
    let rest = text.trim_start_matches(['*', '※']);
    if rest.chars().next().is_some_and(|c| key_first.has(c)) {
        return false;
    }
    // One pass over the text (this runs for most data cells): a core
    // word's first character, or one that needs folding, says "look
    // closer". ASCII and CJK ideographs alone are NFKC; any other
    // character leaves that to the full check at the end.
    static ASCII_STOPS: OnceLock<[bool; 128]> = OnceLock::new();
    let ascii_stops = ASCII_STOPS.get_or_init(|| {
        let mut m = [false; 128];
        for (b, stop) in m.iter_mut().enumerate() {
            let c = char::from(b as u8);
            *stop = trigger_first.has(c) || needs_folding(c);
        }
        m
    });
    let mut simple = true;
    for c in text.chars() {
        if c.is_ascii() {
            if ascii_stops[c as usize] {
                return false;
            }
        } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            // No folding character lies in this block.
            if trigger_first.has(c) {
                return false;
            }
        } else {
            if trigger_first.has(c) || needs_folding(c) {
                return false;
            }
            simple = false;
        }
    }
    simple || crate::normalize::text::is_nfkc(text)
}

/// `text` without leading `*`/`※` when it needs no normalising beyond that
/// (no spaces, odd brackets or compatibility forms), else None.
fn plain_rest(text: &str) -> Option<&str> {
    let plain = !text.chars().any(needs_folding) && crate::normalize::text::is_nfkc(text);
    plain.then(|| text.trim_start_matches(['*', '※']))
}

/// `field_for_header(text) == Some(f)`, quick to say no for data cells.
pub(crate) fn names_field(text: &str, f: Field) -> bool {
    if let Some(rest) = plain_rest(text) {
        // normalize_header(text) is `text` with leading `*`/`※` and some
        // trailing parts cut off, and a matching key is a prefix of it.
        if surely_names_no_field(text, f)
            || (!keys_of(f).iter().any(|k| rest.starts_with(k.as_str()))
                && !CORE_TRIGGERS.iter().any(|w| rest.contains(w)))
        {
            return false;
        }
    }
    field_for_header(text) == Some(f)
}

/// A header as found in a sheet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    /// Upper row of a two-row header (== `row` for a one-row header).
    pub top: u32,
    /// Row holding the field names (lower row of a two-row header).
    pub row: u32,
    pub columns: BTreeMap<Field, u32>,
}

impl Header {
    pub fn is_stats(&self) -> bool {
        is_stats_columns(&self.columns)
    }
    pub fn is_person(&self) -> bool {
        self.columns.contains_key(&Field::Name) && self.columns.contains_key(&Field::Id)
    }
}

pub(crate) fn is_stats_columns(cols: &BTreeMap<Field, u32>) -> bool {
    cols.contains_key(&Field::Village) && Field::STAT_COUNTS.iter().any(|f| cols.contains_key(f))
}

fn cell_text(c: Option<&Cell>) -> String {
    match c {
        Some(Cell::Text(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Match the header of one column: `upper` only matters when it is a group
/// label (a horizontal merge over several columns, not reaching the lower row).
fn match_column(upper_group: Option<&str>, lower: &str) -> Option<Field> {
    if let Some(g) = upper_group {
        if lower.trim().is_empty() {
            return field_for_header(g);
        }
        for cand in [format!("{g}({lower})"), format!("{g}{lower}")] {
            if let Some(f) = field_for_header(&cand) {
                return Some(f);
            }
        }
    }
    field_for_header(lower)
}

fn score(cols: &BTreeMap<Field, u32>) -> usize {
    cols.len()
}

fn valid(cols: &BTreeMap<Field, u32>) -> bool {
    (cols.contains_key(&Field::Name) && cols.contains_key(&Field::Id)) || is_stats_columns(cols)
}

/// An address header: 现住址, 家庭住址, 户籍地址, 居住地址 … (not a school's).
fn is_address_header(text: &str) -> bool {
    let n = normalize_header(text);
    n.chars().count() <= 12
        && (n.contains("住址") || n.contains("地址") || n.contains("住所"))
        && !n.contains("学校")
        && !n.contains("单位")
}

/// The column of an address header in the header's rows, when no other field
/// claims it (the village of a sheet without a village column can be read
/// from it).
pub(crate) fn address_column(sheet: &SheetData, h: &Header) -> Option<u32> {
    let taken: Vec<u32> = h.columns.values().copied().collect();
    (1..=sheet.max_col()).find(|c| {
        !taken.contains(c)
            && (h.top..=h.row).any(|r| is_address_header(&cell_text(sheet.shown(r, *c))))
    })
}

/// Find the header among the first [`HEADER_SEARCH_ROWS`] non-empty rows:
/// each row alone, and each row with the row above as a two-row header. The
/// candidate with the most recognised fields wins (ties: one-row, then the
/// earlier row). `accept` filters candidates (e.g. stats-only).
pub(crate) fn find_header(sheet: &SheetData, accept: &dyn Fn(&Header) -> bool) -> Option<Header> {
    let max_col = sheet.max_col();
    let rows: Vec<u32> = sheet
        .rows
        .iter()
        .filter(|(_, cols)| cols.values().any(|c| !c.is_empty()))
        .map(|(r, _)| *r)
        .take(HEADER_SEARCH_ROWS)
        .collect();
    let mut best: Option<Header> = None;
    for &r in &rows {
        for two in [false, true] {
            if two && r <= 1 {
                continue;
            }
            let upper = r - 1;
            let mut columns = BTreeMap::new();
            for c in 1..=max_col {
                let lower = cell_text(sheet.shown(r, c));
                let group = if two {
                    match sheet.merge_at(upper, c) {
                        Some((r0, c0, r1, c1)) if c1 > c0 && r1 < r => {
                            Some(cell_text(sheet.raw(r0, c0)))
                        }
                        _ => None,
                    }
                } else {
                    None
                };
                let group = group.filter(|g| !g.trim().is_empty());
                if two && group.is_none() && lower.trim().is_empty() {
                    // Nothing in the lower row, no group: a plain upper cell.
                    let up = cell_text(sheet.shown(upper, c));
                    if let Some(f) = match_column(None, &up) {
                        columns.entry(f).or_insert(c);
                    }
                    continue;
                }
                if let Some(f) = match_column(group.as_deref(), &lower) {
                    columns.entry(f).or_insert(c);
                }
            }
            if !valid(&columns) {
                continue;
            }
            // A header cell merged down from rows above (序号 over two rows)
            // starts the header there.
            let merged_top = columns
                .values()
                .filter_map(|&c| sheet.merge_at(r, c).map(|m| m.0))
                .min()
                .unwrap_or(r);
            let h = Header {
                top: if two { upper } else { r }.min(merged_top),
                row: r,
                columns,
            };
            if !accept(&h) {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => score(&h.columns) > score(&b.columns),
            };
            if better {
                best = Some(h);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition the one-pass check must agree with.
    fn surely_names_no_field_by_definition(text: &str, f: Field) -> bool {
        let (key_first, trigger_first) = first_chars(f);
        let rest = text.trim_start_matches(['*', '※']);
        if rest.chars().next().is_some_and(|c| key_first.has(c)) {
            return false;
        }
        if text
            .chars()
            .any(|c| trigger_first.has(c) || needs_folding(c))
        {
            return false;
        }
        crate::normalize::text::is_nfkc(text)
    }

    #[test]
    fn the_quick_no_agrees_with_its_definition() {
        let texts = [
            "张诗欣",
            "李 倩",
            "610922201005031234",
            "2010-05-03",
            "金星村",
            "在校(本县)",
            "姓名",
            "*姓名",
            "※身份证号",
            "身份证号码",
            "出生日期",
            "村（社区）",
            "【村】",
            "ｶ",
            "ﬁ",
            "Å",
            "\u{3000}王芳",
            "王\u{200b}芳",
            "abc def",
            "[1]",
            "性别",
            "男",
            "女",
            "学校",
            "就读学校",
            "三年级",
            "辍学",
            "外出务工",
            "备注",
            "",
        ];
        for f in Field::ALL {
            for t in texts {
                assert_eq!(
                    surely_names_no_field(t, *f),
                    surely_names_no_field_by_definition(t, *f),
                    "{t:?} {f:?}"
                );
            }
        }
    }

    #[test]
    fn header_text_variants_match() {
        assert_eq!(field_for_header(" 姓\u{3000}名 "), Some(Field::Name));
        assert_eq!(field_for_header("学生姓名"), Some(Field::Name));
        assert_eq!(field_for_header("证件号码"), Some(Field::Id));
        assert_eq!(field_for_header("身份证号码（必填）"), Some(Field::Id));
        assert_eq!(field_for_header("*身份证号码"), Some(Field::Id));
        assert_eq!(field_for_header("出生\n日期"), Some(Field::Birthdate));
        assert_eq!(field_for_header("出生日期(年月日)"), Some(Field::Birthdate));
        assert_eq!(field_for_header("村\u{a0}(社区)"), Some(Field::Village));
        assert_eq!(
            field_for_header("在校人数（本县）"),
            Some(Field::StatInSchoolLocal)
        );
        assert_eq!(field_for_header("出国（境）"), Some(Field::StatAbroad));
        assert_eq!(field_for_header("失学辍学人数"), Some(Field::StatDropout));
        assert_eq!(field_for_header("失学辍学原因"), Some(Field::Reason));
        assert_eq!(field_for_header("预警类型"), Some(Field::WarningType));
        assert_eq!(field_for_header("在校生状况"), Some(Field::PlatformStatus));
        assert_eq!(field_for_header("家庭住址"), None);
        assert_eq!(field_for_header(""), None);
        assert_eq!(field_for_header("(必填)"), None);
    }

    #[test]
    fn headers_match_by_core_words() {
        let cases: &[(&str, Option<Field>)] = &[
            ("受教育者身份证号", Some(Field::Id)),
            ("身份证件号", Some(Field::Id)),
            ("证件号码", Some(Field::Id)),
            ("学生证件号码（必填）", Some(Field::Id)),
            ("儿童身份证号码", Some(Field::Id)),
            ("户主证件号码", Some(Field::HeadId)),
            ("身份证号码（户主）", Some(Field::HeadId)),
            ("户主身份证号", Some(Field::HeadId)),
            ("监护人身份证号", None),
            ("户主姓名", Some(Field::HouseholdHead)),
            ("与户主关系", Some(Field::Relation)),
            ("证件类型", Some(Field::IdType)),
            ("所在村民小组", Some(Field::Group)),
            ("乡", Some(Field::Township)),
            ("乡(镇)", Some(Field::Township)),
            ("镇", Some(Field::Township)),
            ("乡镇（街道）", Some(Field::Township)),
            ("所属乡镇", Some(Field::Township)),
            ("行政村", Some(Field::Village)),
            ("所在行政村", Some(Field::Village)),
            ("村组（社区）", Some(Field::Village)),
            ("人编号", Some(Field::PersonNo)),
            ("人口编号", Some(Field::PersonNo)),
            ("人员编号", Some(Field::PersonNo)),
            ("家庭户编码", Some(Field::HouseholdNo)),
            ("学籍号", Some(Field::RegistryNo)),
            ("全国学籍号码", Some(Field::RegistryNo)),
            ("学籍状态", Some(Field::RegistryStatus)),
            ("学校全称", Some(Field::School)),
            ("就读学校全称", Some(Field::School)),
            ("学校代码", None),
            ("学段", Some(Field::Stage)),
            ("县内/县外", Some(Field::InCounty)),
            ("县内或县外就读", Some(Field::InCounty)),
            ("不在校原因", Some(Field::Reason)),
            ("辍学原因", Some(Field::Reason)),
            ("就读状态", Some(Field::Status)),
            ("就学状态", Some(Field::Status)),
            ("是否在校", Some(Field::Status)),
            ("目前就学状态", Some(Field::Status)),
            ("是否在读", Some(Field::Status)),
            ("年级", Some(Field::Grade)),
            ("现就读年级", Some(Field::Grade)),
            ("班级", Some(Field::Class)),
            ("随班就读", Some(Field::StatInclusive)),
            ("是否随班就读", Some(Field::StatInclusive)),
            ("就读方式", Some(Field::StudyMode)),
            ("受教育者姓名", Some(Field::Name)),
            ("学生性别", Some(Field::Sex)),
            ("出生年月日期", Some(Field::Birthdate)),
            ("父亲联系电话", Some(Field::Phone)),
            ("家庭住址", None),
            // Data values are no headers.
            ("金星村", None),
            ("三组", None),
            ("在校就读", None),
            ("熨斗镇", None),
            ("熨斗镇中心学校", None),
            ("五年级", None),
            ("初一年级", None),
            ("县外", None),
            ("视力残疾随班就读", None),
        ];
        for (text, want) in cases {
            assert_eq!(field_for_header(text), *want, "{text}");
        }
    }

    #[test]
    fn quick_test_agrees_with_field_for_header() {
        for t in [
            "姓名",
            "*姓名",
            "※身份证号码（必填）",
            "姓名(张三)",
            "张三",
            "金星村",
            "村",
            " 村 ",
            "村(社区)",
            "【村】",
            "61092220100503123X",
            "受教育者身份证号",
            "所在村民小组",
            "金星村三组",
            "ＩＤ",
            "",
        ] {
            for f in table_fields() {
                assert_eq!(
                    names_field(t, f),
                    field_for_header(t) == Some(f),
                    "{t} {f:?}"
                );
            }
        }
    }

    #[test]
    fn every_canonical_label_maps_to_its_field() {
        for f in table_fields() {
            assert_eq!(field_for_header(f.label_zh()), Some(f), "{}", f.label_zh());
        }
    }
}
