//! Village names: 金星, 金星村 and 熨斗镇金星村 are one village. The index
//! maps any spelling to the canonical name, configured or learned from the
//! roster.

use super::text::compact;
use crate::config::Config;
use std::collections::HashMap;

const SUFFIXES: [&str; 8] = [
    "社区居民委员会",
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "社区",
    "村",
];
const GROUP_DIGITS: &str = "0123456789一二三四五六七八九十";

fn strip_suffix(s: &str) -> &str {
    for suf in SUFFIXES {
        if let Some(rest) = s.strip_suffix(suf)
            && !rest.is_empty()
        {
            return rest;
        }
    }
    s
}

/// Drop a trailing group part: "金星村3组" → "金星村".
fn strip_group(s: &str) -> &str {
    for marker in ["组", "社"] {
        if let Some(rest) = s.strip_suffix(marker) {
            let trimmed = rest.trim_end_matches(|c: char| GROUP_DIGITS.contains(c));
            if trimmed.len() < rest.len() && !trimmed.is_empty() {
                return trimmed;
            }
        }
    }
    s
}

/// Whether `rest` can be a village name on its own: a name before a
/// 村/社区 suffix, or at least two characters.
fn is_name(rest: &str) -> bool {
    !rest.is_empty() && (strip_suffix(rest).len() < rest.len() || rest.chars().count() >= 2)
}

/// Drop a township prefix (熨斗镇金星村 → 金星村, …县…镇… too), splitting at
/// the first 镇/乡/街道 that has a name before it and a village name after it
/// (乡里村 and 新乡村 are villages, not townships).
fn strip_township(mut s: &str) -> &str {
    loop {
        let split = ["街道办事处", "街道", "镇", "乡"]
            .iter()
            .flat_map(|m| s.match_indices(m).map(|(i, m)| (i, i + m.len())))
            .filter(|&(i, end)| i > 0 && is_name(&s[end..]))
            .map(|(_, end)| end)
            .min();
        match split {
            Some(end) => s = &s[end..],
            None => return s,
        }
    }
}

/// The comparison key of a village name: NFKC, no whitespace, township
/// prefix, group part and 村/社区/居委会 suffix removed.
pub fn village_key(raw: &str) -> String {
    let c = compact(raw);
    let c = strip_group(&c);
    let c = strip_township(c);
    strip_suffix(c).to_string()
}

/// The display form of a learned village: cleaned, township prefix and group removed.
fn learned_name(raw: &str) -> String {
    let c = compact(raw);
    strip_township(strip_group(&c)).to_string()
}

/// Canonical villages of the round, by key.
#[derive(Clone, Debug, Default)]
pub struct VillageIndex {
    configured: bool,
    /// Canonical names in order (config order, or first-seen order when learned).
    names: Vec<String>,
    by_key: HashMap<String, usize>,
}

impl VillageIndex {
    /// The configured villages (none configured: an empty index that learns).
    pub fn from_config(cfg: &Config) -> Self {
        let mut ix = VillageIndex::default();
        for v in cfg.villages() {
            ix.insert(v.trim().to_string(), village_key(v));
        }
        ix.configured = !ix.names.is_empty();
        ix
    }

    fn insert(&mut self, name: String, key: String) {
        if key.is_empty() || self.by_key.contains_key(&key) {
            return;
        }
        self.by_key.insert(key, self.names.len());
        self.names.push(name);
    }

    /// Learn a village from a roster cell (no-op when villages are configured).
    pub fn learn(&mut self, raw: &str) {
        if self.configured {
            return;
        }
        self.insert(learned_name(raw), village_key(raw));
    }

    /// The canonical name of any spelling of a known village.
    pub fn canonical(&self, raw: &str) -> Option<String> {
        let k = village_key(raw);
        self.by_key.get(&k).map(|&i| self.names[i].clone())
    }

    /// The known village closest to an unknown spelling: one character off
    /// (金心村 → 金星村) or one contained in the other. None when nothing is close.
    pub fn closest(&self, raw: &str) -> Option<String> {
        let k = village_key(raw);
        if k.is_empty() {
            return None;
        }
        let mut best: Option<(usize, usize)> = None;
        for (key, &i) in &self.by_key {
            let d = strsim::levenshtein(&k, key);
            let close = (d <= 1 && key.chars().count() >= 2)
                || (k.chars().count() >= 2 && (key.contains(&k) || k.contains(key.as_str())));
            if close && best.is_none_or(|(bd, bi)| (d, i) < (bd, bi)) {
                best = Some((d, i));
            }
        }
        best.map(|(_, i)| self.names[i].clone())
    }

    /// The known village a free text names (an address, a sheet name, a
    /// title): the longest village whose key (name without 村/社区) appears
    /// in it, keys of one character excluded.
    ///
    /// Full names (中河村, 熨斗社区) are looked for first; a bare key only
    /// counts where it is not the start of a township name (熨斗镇 does not
    /// name 熨斗社区).
    pub fn find_in(&self, text: &str) -> Option<String> {
        let t = compact(text);
        if t.is_empty() {
            return None;
        }
        let full = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.chars().count() >= 2 && t.contains(compact(n).as_str()))
            .max_by_key(|(i, n)| (n.chars().count(), std::cmp::Reverse(*i)))
            .map(|(_, n)| n.clone());
        if full.is_some() {
            return full;
        }
        let names_village = |k: &str| {
            t.match_indices(k).any(|(at, _)| {
                let next = t[at + k.len()..].chars().next();
                !matches!(next, Some('镇' | '乡' | '街' | '县' | '市' | '区' | '省'))
            })
        };
        self.by_key
            .iter()
            .filter(|(k, _)| k.chars().count() >= 2 && names_village(k))
            .max_by_key(|(k, i)| (k.chars().count(), std::cmp::Reverse(**i)))
            .map(|(_, &i)| self.names[i].clone())
    }

    pub fn is_configured(&self) -> bool {
        self.configured
    }

    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn villages_named_in_free_text() {
        let mut c = Config::for_school_year(2022);
        c.schools = vec![crate::config::SchoolConfig {
            name: "熨斗镇中心小学".into(),
            villages: vec!["熨斗社区".into(), "中河村".into(), "麦坪村".into()],
        }];
        let ix = VillageIndex::from_config(&c);
        assert_eq!(
            ix.find_in("陕西省熨斗镇中河村五组").as_deref(),
            Some("中河村")
        );
        assert_eq!(ix.find_in("麦坪").as_deref(), Some("麦坪村"));
        assert_eq!(ix.find_in("熨斗镇适龄儿童摸底调查表"), None);
        assert_eq!(ix.find_in("熨斗社区3组").as_deref(), Some("熨斗社区"));
        assert_eq!(ix.find_in("Sheet1"), None);
    }

    fn cfg() -> Config {
        let mut c = Config::for_school_year(2022);
        c.schools = vec![
            crate::config::SchoolConfig {
                name: "熨斗初级中学".into(),
                villages: vec!["金星村".into(), "双坪村".into()],
            },
            crate::config::SchoolConfig {
                name: "熨斗镇中心小学".into(),
                villages: vec!["熨斗社区".into(), "瓦子沟村".into()],
            },
        ];
        c
    }

    #[test]
    fn keys() {
        assert_eq!(village_key("金星村"), "金星");
        assert_eq!(village_key("金星"), "金星");
        assert_eq!(village_key("熨斗镇金星村"), "金星");
        assert_eq!(village_key(" 熨斗镇 金星村 3组"), "金星");
        assert_eq!(village_key("熨斗社区"), "熨斗");
        assert_eq!(village_key("熨斗镇熨斗社区居委会"), "熨斗");
        assert_eq!(village_key("乡里村"), "乡里");
        assert_eq!(village_key("新乡村"), "新乡");
        assert_eq!(village_key("某某县熨斗镇瓦子沟村"), "瓦子沟");
        assert_eq!(village_key("熨斗镇乡里村"), "乡里");
        assert_eq!(village_key("熨斗镇新镇村"), "新镇");
    }

    #[test]
    fn configured_index() {
        let ix = VillageIndex::from_config(&cfg());
        assert!(ix.is_configured());
        for s in ["金星", "金星村", "熨斗镇金星村", "金星村委会"] {
            assert_eq!(ix.canonical(s).as_deref(), Some("金星村"), "{s}");
        }
        assert_eq!(ix.canonical("熨斗社区").as_deref(), Some("熨斗社区"));
        assert_eq!(ix.canonical("中河村"), None);
        assert_eq!(ix.closest("金心村").as_deref(), Some("金星村"));
        assert_eq!(ix.closest("瓦子村").as_deref(), Some("瓦子沟村"));
        assert_eq!(ix.closest("中河村"), None);
        assert_eq!(ix.names(), vec!["金星村", "双坪村", "熨斗社区", "瓦子沟村"]);
        let mut ix2 = ix.clone();
        ix2.learn("中河村");
        assert_eq!(ix2.canonical("中河村"), None);
    }

    #[test]
    fn learned_index() {
        let mut ix = VillageIndex::from_config(&Config::for_school_year(2022));
        assert!(!ix.is_configured());
        ix.learn("熨斗镇金星村");
        ix.learn("金星");
        ix.learn("双坪村");
        assert_eq!(ix.names(), vec!["金星村", "双坪村"]);
        assert_eq!(ix.canonical("金星").as_deref(), Some("金星村"));
        assert!(!ix.is_configured());
    }
}
