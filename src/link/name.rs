//! Chinese-aware name comparison for the linker: folding of spaces and
//! middle dots, pinyin readings (surname readings for the first character,
//! every reading of a polyphonic character), name levels and blocking keys.

use super::FxMap;
use pinyin::{ToPinyin, ToPinyinMulti};
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// How two names compare, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameLevel {
    /// The same text.
    Identical,
    /// The same once spaces and middle dots are removed ("李 倩" / "李倩").
    SameAfterFolding,
    /// The same pinyin, character by character (张诗鑫 / 张诗欣); a
    /// polyphonic character matches on any of its readings, the surname on
    /// its surname reading (曾 zeng, 单 shan …).
    Homophone,
    /// One character replaced, added or dropped (张诗鑫 / 张诗琪).
    OneCharDiffers,
    /// Two characters in swapped positions (王小明 / 王明小).
    Swapped,
    /// Anything else.
    Different,
    /// One of the two names is empty: nothing to compare.
    Missing,
}

/// Characters that are a middle dot in some spelling: · • ‧ ・ ． . ･ ∙ ⋅ and
/// the katakana/halfwidth forms. NFKC does not unify them.
fn is_dot(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}'
            | '\u{2022}'
            | '\u{2027}'
            | '\u{30FB}'
            | '\u{FF0E}'
            | '\u{002E}'
            | '\u{FF65}'
            | '\u{2219}'
            | '\u{22C5}'
            | '\u{2024}'
            | '\u{0387}'
            | '\u{16EB}'
    )
}

/// Invisible characters that survive `char::is_whitespace`.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
        )
}

/// The name as the linker compares it: NFKC, no whitespace or invisible
/// characters, no middle dots of any spelling.
pub fn fold(name: &str) -> String {
    fold_cow(name).into_owned()
}

/// [`fold`], borrowing `name` when folding leaves it as it is (printable
/// ASCII and CJK Unified Ideographs without spaces or dots: the common case).
pub fn fold_cow(name: &str) -> Cow<'_, str> {
    let keep = |c: &char| !is_invisible(*c) && !is_dot(*c);
    if name
        .chars()
        .all(|c| matches!(c, '!'..='~' | '\u{4E00}'..='\u{9FFF}') && c != '.')
    {
        return Cow::Borrowed(name);
    }
    // Fast path: printable ASCII and the CJK Unified Ideographs block have
    // no decomposition and compose with nothing, so such text is already
    // NFKC; skipping `nfkc()` gives the same result without its buffers.
    if name
        .chars()
        .all(|c| matches!(c, ' '..='~' | '\u{4E00}'..='\u{9FFF}'))
    {
        return Cow::Owned(name.chars().filter(keep).collect());
    }
    Cow::Owned(name.nfkc().filter(keep).collect())
}

/// The name as shown, trimmed, for telling `Identical` from `SameAfterFolding`.
fn shown(name_raw: &str, name: &str) -> String {
    let t = name_raw.trim();
    if t.is_empty() {
        name.trim().to_string()
    } else {
        t.to_string()
    }
}

/// Surname readings that differ from (or are missing as) the default
/// reading of the pinyin tables.
fn surname_readings(c: char) -> Option<&'static [&'static str]> {
    Some(match c {
        '曾' => &["zeng"],
        '单' => &["shan"],
        '仇' => &["qiu"],
        '翟' => &["zhai"],
        '区' => &["ou"],
        '查' => &["zha"],
        '朴' => &["piao"],
        '覃' => &["qin"],
        '解' => &["xie"],
        '盖' => &["ge"],
        '缪' => &["miao"],
        '尉' => &["yu", "wei"],
        '乐' => &["yue", "le"],
        '召' => &["shao"],
        '柏' => &["bai"],
        '秘' => &["bi"],
        '种' => &["chong"],
        '员' => &["yun"],
        '句' => &["gou"],
        '繁' => &["po"],
        '谌' => &["chen"],
        '冼' => &["xian"],
        '洗' => &["xian"],
        '黑' => &["he"],
        '重' => &["chong"],
        '卜' => &["bu"],
        '薄' => &["bo"],
        '能' => &["nai"],
        '隗' => &["wei"],
        '宿' => &["su"],
        '祭' => &["zhai"],
        '藏' => &["zang"],
        '长' => &["chang"],
        '朝' => &["chao"],
        '贲' => &["ben"],
        '过' => &["guo"],
        '车' => &["che"],
        '沈' => &["shen"],
        '石' => &["shi"],
        '任' => &["ren"],
        '华' => &["hua"],
        '曲' => &["qu"],
        '折' => &["she"],
        '尚' => &["shang"],
        '万' => &["wan"],
        '纪' => &["ji"],
        '那' => &["na"],
        '阚' => &["kan"],
        '粘' => &["nian"],
        '哈' => &["ha"],
        _ => return None,
    })
}

/// Every plain (toneless) reading of a character; for a non-Han character
/// the character itself, lower-cased.
fn readings(c: char) -> Vec<String> {
    let mut out: Vec<String> = match c.to_pinyin_multi() {
        Some(multi) => multi.into_iter().map(|p| p.plain().to_string()).collect(),
        None => match c.to_pinyin() {
            Some(p) => vec![p.plain().to_string()],
            None => c.to_lowercase().map(|l| l.to_string()).collect(),
        },
    };
    out.sort();
    out.dedup();
    out
}

/// The readings of the character at `pos` of a folded name (the surname
/// reading when it is the first character and a known surname).
pub fn readings_at(c: char, pos: usize) -> Vec<String> {
    if pos == 0
        && let Some(s) = surname_readings(c)
    {
        return s.iter().map(|r| r.to_string()).collect();
    }
    readings(c)
}

/// The main reading of a character: the surname reading for a first
/// character, else the pinyin table's first (most common) reading.
fn main_reading(c: char, pos: usize) -> String {
    if pos == 0
        && let Some(s) = surname_readings(c)
    {
        return s[0].to_string();
    }
    match c.to_pinyin() {
        Some(p) => p.plain().to_string(),
        None => c.to_lowercase().collect(),
    }
}

/// The main pinyin key of a folded name ("zhang shi xin" → "zhangshixin" with
/// separators), used to count how common a sound is. The linker uses
/// [`Readings::main_key`], which gives the same key from cached readings.
#[cfg(test)]
pub fn main_key(folded: &str) -> String {
    let mut k = String::new();
    for (i, c) in folded.chars().enumerate() {
        if i > 0 {
            k.push('-');
        }
        k.push_str(&main_reading(c, i));
    }
    k
}

/// Blocking keys of a folded name: every combination of readings of its
/// characters, at most `cap` of them (the main key always first). The
/// linker uses [`Readings::keys`], the same from cached readings.
#[cfg(test)]
pub fn keys(folded: &str, cap: usize) -> Vec<String> {
    if folded.is_empty() {
        return Vec::new();
    }
    let mut out = vec![main_key(folded)];
    let mut combos: Vec<String> = vec![String::new()];
    for (i, c) in folded.chars().enumerate() {
        let rs = readings_at(c, i);
        let mut next = Vec::new();
        for prefix in &combos {
            for r in &rs {
                if next.len() >= cap {
                    break;
                }
                let mut k = prefix.clone();
                if i > 0 {
                    k.push('-');
                }
                k.push_str(r);
                next.push(k);
            }
        }
        combos = next;
    }
    for k in combos {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out.truncate(cap.max(1));
    out
}

fn homophone_chars(a: char, b: char, pos: usize) -> bool {
    if a == b {
        return true;
    }
    let ra = readings_at(a, pos);
    let rb = readings_at(b, pos);
    // Only Han characters can sound alike; a Latin letter is itself.
    if a.to_pinyin().is_none() || b.to_pinyin().is_none() {
        return false;
    }
    ra.iter().any(|r| rb.contains(r))
}

/// Compare two names: `raw` as shown in the cells, `clean` as normalised.
pub fn compare_names(r_raw: &str, r_clean: &str, s_raw: &str, s_clean: &str) -> NameLevel {
    let a = fold(r_clean);
    let b = fold(s_clean);
    let (a, b) = (
        if a.is_empty() { fold(r_raw) } else { a },
        if b.is_empty() { fold(s_raw) } else { b },
    );
    if a.is_empty() || b.is_empty() {
        return NameLevel::Missing;
    }
    if a == b {
        return if shown(r_raw, r_clean) == shown(s_raw, s_clean) {
            NameLevel::Identical
        } else {
            NameLevel::SameAfterFolding
        };
    }
    let ca: Vec<char> = a.chars().collect();
    let cb: Vec<char> = b.chars().collect();
    if ca.len() == cb.len() {
        let diffs: Vec<usize> = (0..ca.len()).filter(|&i| ca[i] != cb[i]).collect();
        if diffs.iter().all(|&i| homophone_chars(ca[i], cb[i], i)) {
            return NameLevel::Homophone;
        }
        if diffs.len() == 1 {
            return NameLevel::OneCharDiffers;
        }
        if diffs.len() == 2 {
            let (i, j) = (diffs[0], diffs[1]);
            if ca[i] == cb[j] && ca[j] == cb[i] {
                return NameLevel::Swapped;
            }
        }
        return NameLevel::Different;
    }
    let (long, short) = if ca.len() > cb.len() {
        (&ca, &cb)
    } else {
        (&cb, &ca)
    };
    if long.len() == short.len() + 1 && short.len() >= 2 {
        for skip in 0..long.len() {
            let rest = long
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != skip)
                .map(|(_, c)| *c);
            if rest.eq(short.iter().copied()) {
                return NameLevel::OneCharDiffers;
            }
        }
    }
    NameLevel::Different
}

/// A folded name prepared for repeated comparison: each character with the
/// index of its reading set in [`Readings`].
#[cfg(test)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct NameChars(pub Vec<(char, u32)>);

/// The reading sets of the characters seen in one run, shared by all its
/// records so that a homophone test is a comparison of small integer lists.
#[derive(Default)]
pub(super) struct Readings {
    /// (character, is first character) → index into `sets`.
    index: FxMap<(char, bool), u32>,
    sets: Vec<ReadingSet>,
    /// Reading texts by id, and the id of each text.
    words: Vec<String>,
    word_ids: FxMap<String, u32>,
}

/// The readings of one character at the first or a later position.
struct ReadingSet {
    /// Whether the character has pinyin at all.
    py: bool,
    /// `readings_at`, in its order, as word ids.
    all: Vec<u32>,
    /// One bit per word id modulo 64: disjoint masks mean no shared reading.
    mask: u64,
    /// `main_reading`, as a word id.
    main: u32,
}

impl Readings {
    fn word(&mut self, w: String) -> u32 {
        if let Some(&i) = self.word_ids.get(&w) {
            return i;
        }
        let i = self.words.len() as u32;
        self.words.push(w.clone());
        self.word_ids.insert(w, i);
        i
    }

    fn set_of(&mut self, c: char, first: bool) -> u32 {
        if let Some(&i) = self.index.get(&(c, first)) {
            return i;
        }
        let pos = if first { 0 } else { 1 };
        let all: Vec<u32> = readings_at(c, pos)
            .into_iter()
            .map(|r| self.word(r))
            .collect();
        let mask = all.iter().fold(0u64, |m, &w| m | 1 << (w % 64));
        let main = self.word(main_reading(c, pos));
        let i = self.sets.len() as u32;
        self.sets.push(ReadingSet {
            py: c.to_pinyin().is_some(),
            all,
            mask,
            main,
        });
        self.index.insert((c, first), i);
        i
    }

    /// The characters of an already folded name with their reading sets.
    #[cfg(test)]
    pub fn chars(&mut self, folded: &str) -> NameChars {
        let mut v = Vec::new();
        self.push_chars(folded, &mut v);
        NameChars(v)
    }

    /// [`Readings::chars`], appended to `out`.
    pub fn push_chars(&mut self, folded: &str, out: &mut Vec<(char, u32)>) {
        for (i, c) in folded.chars().enumerate() {
            let set = self.set_of(c, i == 0);
            out.push((c, set));
        }
    }

    fn set(&self, i: u32) -> Option<&ReadingSet> {
        self.sets.get(i as usize)
    }

    /// [`main_key`] of the name `n` was prepared from.
    pub fn main_key(&self, n: &[(char, u32)]) -> String {
        let mut k = String::new();
        for (i, &(_, set)) in n.iter().enumerate() {
            if i > 0 {
                k.push('-');
            }
            if let Some(w) = self.set(set).and_then(|s| self.words.get(s.main as usize)) {
                k.push_str(w);
            }
        }
        k
    }

    /// [`keys`] of the name `n` was prepared from.
    pub fn keys(&self, n: &[(char, u32)], cap: usize) -> Vec<String> {
        if n.is_empty() {
            return Vec::new();
        }
        let mut out = vec![self.main_key(n)];
        let mut combos: Vec<String> = vec![String::new()];
        for (i, &(_, set)) in n.iter().enumerate() {
            let rs = self.set(set).map(|s| s.all.as_slice()).unwrap_or(&[]);
            let mut next = Vec::new();
            for prefix in &combos {
                for &r in rs {
                    if next.len() >= cap {
                        break;
                    }
                    let mut k = prefix.clone();
                    if i > 0 {
                        k.push('-');
                    }
                    k.push_str(self.words.get(r as usize).map_or("", String::as_str));
                    next.push(k);
                }
            }
            combos = next;
        }
        for k in combos {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out.truncate(cap.max(1));
        out
    }

    /// `homophone_chars` of two different characters at the same position.
    fn homophone(&self, a: u32, b: u32) -> bool {
        let (Some(x), Some(y)) = (self.set(a), self.set(b)) else {
            return false;
        };
        x.py && y.py && x.mask & y.mask != 0 && x.all.iter().any(|r| y.all.contains(r))
    }

    /// [`compare_names`] on two prepared names (`a`, `b` folded as
    /// `compare_names` folds them); `same_shown` decides Identical against
    /// SameAfterFolding when the folded names are equal.
    pub fn level(&self, ca: &[(char, u32)], cb: &[(char, u32)], same_shown: bool) -> NameLevel {
        if ca.is_empty() || cb.is_empty() {
            return NameLevel::Missing;
        }
        if ca.len() == cb.len() {
            let mut n = 0;
            let mut at = [0usize; 2];
            let mut all_homophone = true;
            for (i, (x, y)) in ca.iter().zip(cb.iter()).enumerate() {
                if x.0 != y.0 {
                    if n < 2 {
                        at[n] = i;
                    }
                    n += 1;
                    if all_homophone && !self.homophone(x.1, y.1) {
                        all_homophone = false;
                    }
                }
            }
            if n == 0 {
                return if same_shown {
                    NameLevel::Identical
                } else {
                    NameLevel::SameAfterFolding
                };
            }
            if all_homophone {
                return NameLevel::Homophone;
            }
            if n == 1 {
                return NameLevel::OneCharDiffers;
            }
            if n == 2 {
                let (i, j) = (at[0], at[1]);
                if ca[i].0 == cb[j].0 && ca[j].0 == cb[i].0 {
                    return NameLevel::Swapped;
                }
            }
            return NameLevel::Different;
        }
        let (long, short) = if ca.len() > cb.len() {
            (ca, cb)
        } else {
            (cb, ca)
        };
        if long.len() == short.len() + 1 && short.len() >= 2 {
            for skip in 0..long.len() {
                let rest = long
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != skip)
                    .map(|(_, c)| c.0);
                if rest.eq(short.iter().map(|c| c.0)) {
                    return NameLevel::OneCharDiffers;
                }
            }
        }
        NameLevel::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvl(a: &str, b: &str) -> NameLevel {
        compare_names(a, a, b, b)
    }

    #[test]
    fn folding_removes_spaces_and_every_dot() {
        assert_eq!(fold(" 李 倩\u{3000}"), "李倩");
        for dot in ['·', '•', '‧', '・', '．', '.', '･'] {
            assert_eq!(
                fold(&format!("阿依{dot}买买提")),
                "阿依买买提",
                "dot {dot:?}"
            );
        }
        assert_eq!(fold("王\u{200B}芳"), "王芳");
    }

    #[test]
    fn name_levels() {
        assert_eq!(lvl("张诗欣", "张诗欣"), NameLevel::Identical);
        assert_eq!(
            compare_names("李倩", "李倩", "李 倩", "李倩"),
            NameLevel::SameAfterFolding
        );
        assert_eq!(
            lvl("阿依·买买提", "阿依•买买提"),
            NameLevel::SameAfterFolding
        );
        assert_eq!(lvl("张诗鑫", "张诗欣"), NameLevel::Homophone);
        assert_eq!(lvl("张诗鑫", "张诗琪"), NameLevel::OneCharDiffers);
        assert_eq!(lvl("张诗", "张诗琪"), NameLevel::OneCharDiffers);
        assert_eq!(lvl("王小明", "王明小"), NameLevel::Swapped);
        assert_eq!(lvl("余骏", "陆斯昊"), NameLevel::Different);
        assert_eq!(lvl("王伟", "李强"), NameLevel::Different);
        assert_eq!(lvl("", "李强"), NameLevel::Missing);
    }

    #[test]
    fn polyphonic_characters_match_on_any_reading() {
        // 乐 reads le or yue; 悦 reads yue.
        assert_eq!(lvl("张乐", "张悦"), NameLevel::Homophone);
        // 长 reads chang or zhang; 章 reads zhang.
        assert_eq!(lvl("王长", "王章"), NameLevel::Homophone);
    }

    #[test]
    fn surnames_use_their_surname_reading() {
        // 曾 as a surname is zeng: 曾 / 增 sound alike, 曾 / 层 do not.
        assert_eq!(lvl("曾伟", "增伟"), NameLevel::Homophone);
        assert_eq!(lvl("曾伟", "层伟"), NameLevel::OneCharDiffers);
        // 单 as a surname is shan, not dan.
        assert_eq!(lvl("单伟", "山伟"), NameLevel::Homophone);
        assert_eq!(lvl("单伟", "丹伟"), NameLevel::OneCharDiffers);
        // 仇 as a surname is qiu, not chou.
        assert_eq!(lvl("仇伟", "邱伟"), NameLevel::Homophone);
        assert_eq!(lvl("仇伟", "愁伟"), NameLevel::OneCharDiffers);
        assert!(main_key("曾伟").starts_with("zeng-"));
        assert!(main_key("单芳").starts_with("shan-"));
        assert!(main_key("仇芳").starts_with("qiu-"));
        assert!(main_key("翟芳").starts_with("zhai-"));
        assert!(main_key("区芳").starts_with("ou-"));
        assert!(main_key("查芳").starts_with("zha-"));
        assert!(main_key("朴芳").starts_with("piao-"));
        assert!(main_key("覃芳").starts_with("qin-"));
        assert!(main_key("解芳").starts_with("xie-"));
    }

    #[test]
    fn prepared_names_agree_with_the_plain_functions() {
        let names = [
            "张诗欣",
            "张诗鑫",
            "张诗琪",
            "张诗",
            "王小明",
            "王明小",
            "曾伟",
            "增伟",
            "层伟",
            "单伟",
            "山伟",
            "张乐",
            "张悦",
            "王长",
            "王章",
            "李倩",
            "阿依买买提",
            "Anna",
            "重重重重重重重重重",
            "乐乐",
            "x",
            "",
        ];
        let mut rd = Readings::default();
        for a in names {
            let pa = rd.chars(a);
            assert_eq!(rd.keys(&pa.0, 4), keys(a, 4), "{a}");
            assert_eq!(rd.main_key(&pa.0), main_key(a), "{a}");
            for b in names {
                let pb = rd.chars(b);
                assert_eq!(rd.level(&pa.0, &pb.0, true), lvl(a, b), "{a} / {b}");
            }
        }
    }

    #[test]
    fn blocking_keys_cover_every_reading() {
        let k = keys("张乐", 8);
        assert!(k.contains(&"zhang-le".to_string()), "{k:?}");
        assert!(k.contains(&"zhang-yue".to_string()), "{k:?}");
        let k2 = keys("张悦", 8);
        assert!(k.iter().any(|x| k2.contains(x)));
        assert!(keys("", 8).is_empty());
        assert!(keys("重重重重重重重重重", 8).len() <= 8);
    }
}
