//! The round's configuration (taizhang.toml): county and township, school
//! year (→ age window), schools and their villages, and the county's own
//! status words (`[status_words]`). Parsed from taizhang.toml, or defaulted
//! from today's date when there is none.

use crate::model::Status;
use crate::normalize::status::status_by_label;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// The settings a taizhang.toml may hold.
pub const KEYS: [&str; 7] = [
    "county",
    "township",
    "school_year",
    "age_from",
    "age_to",
    "schools",
    "status_words",
];
use std::path::{Path, PathBuf};

/// A mistake in the configuration, in Chinese, naming the file, the key
/// and, for a file that is not valid TOML, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read (`reason` in Chinese).
    #[error("无法读取配置文件 {}：{reason}", .path.display())]
    Io { path: PathBuf, reason: String },
    /// Not valid TOML at line:column (1-based); `key`: the key written on
    /// that line, if any.
    #[error(
        "配置文件 {} 第 {line} 行第 {column} 列写法有误{}：{message}",
        .path.display(),
        key_note(.key)
    )]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        message: String,
    },
    /// A key with a value that cannot be used.
    #[error("配置文件 {} 中 {key} 有误：{message}", .path.display())]
    Value {
        path: PathBuf,
        key: String,
        message: String,
    },
}

fn key_note(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!("（{k}）")).unwrap_or_default()
}

impl ConfigError {
    /// The key the mistake is about, if known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Syntax { key, .. } => key.as_deref(),
            ConfigError::Value { key, .. } => Some(key),
        }
    }
}

/// Names a config file may have in a folder: as saved by a text editor
/// that adds `.txt` (Notepad) too.
pub const CONFIG_NAMES: [&str; 3] = ["taizhang.toml", "taizhang.toml.txt", "taizhang.txt"];

/// School years a config may name; anything else is a typing mistake.
pub const SCHOOL_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Decode a text file saved by Notepad, WPS or another editor: as a csv
/// file is decoded (a BOM decides, valid UTF-8 as is, else GB18030, a
/// superset of GBK), and in addition UTF-16 without a BOM is recognised by
/// its zero bytes.
pub fn decode_text(bytes: &[u8]) -> String {
    if encoding_rs::Encoding::for_bom(bytes).is_none()
        && bytes.len() >= 4
        && bytes.len().is_multiple_of(2)
    {
        let zeros_at = |parity: usize| {
            bytes
                .iter()
                .skip(parity)
                .step_by(2)
                .filter(|&&b| b == 0)
                .count()
        };
        let half = bytes.len() / 2;
        if zeros_at(1) * 3 > half {
            return encoding_rs::UTF_16LE
                .decode_without_bom_handling(bytes)
                .0
                .into_owned();
        }
        if zeros_at(0) * 3 > half {
            return encoding_rs::UTF_16BE
                .decode_without_bom_handling(bytes)
                .0
                .into_owned();
        }
    }
    crate::read::decode_text(bytes)
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchoolConfig {
    pub name: String,
    #[serde(default)]
    pub villages: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The county of the round (county = "…"): a child studying anywhere
    /// else is 在校(县外). Without it, the roster's 县 column tells.
    pub county: Option<String>,
    pub township: Option<String>,
    pub school_year: i32,
    /// Born on or after (inclusive).
    pub born_from: NaiveDate,
    /// Born on or before (inclusive).
    pub born_to: NaiveDate,
    pub schools: Vec<SchoolConfig>,
    /// The county's own status words (`[status_words]`: word = status).
    pub status_words: Vec<(String, Status)>,
    /// Where it came from, if a file.
    pub path: Option<PathBuf>,
    /// No school year was configured: it was taken from today's date.
    pub school_year_inferred: bool,
}

impl Config {
    /// The default for a school year: born (Y-16)-09-01 ..= (Y-6)-08-31.
    pub fn for_school_year(school_year: i32) -> Config {
        Config {
            county: None,
            township: None,
            school_year,
            born_from: NaiveDate::from_ymd_opt(school_year - 16, 9, 1).expect("valid date"),
            born_to: NaiveDate::from_ymd_opt(school_year - 6, 8, 31).expect("valid date"),
            schools: Vec::new(),
            status_words: Vec::new(),
            path: None,
            school_year_inferred: false,
        }
    }

    /// No config file: the school year that contains `today` (starts 1 September).
    pub fn default_for(today: NaiveDate) -> Config {
        let y = if today.month() >= 9 {
            today.year()
        } else {
            today.year() - 1
        };
        Config {
            school_year_inferred: true,
            ..Config::for_school_year(y)
        }
    }

    /// Parse and check a configuration; every mistake is a
    /// [`ConfigError`] naming `path` and the key.
    pub fn from_toml(text: &str, path: &Path, today: NaiveDate) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
        let bad = |key: &str, message: String| ConfigError::Value {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(bad(
                    key,
                    format!("不认识这个设置项；可用的设置项：{}", KEYS.join("、")),
                ));
            }
        }
        let school_year_hint = format!(
            "应为 {} 到 {} 之间的年份，如 school_year = 2022（2022—2023学年）",
            SCHOOL_YEARS.start(),
            SCHOOL_YEARS.end()
        );
        let mut c = match table.get("school_year") {
            None => Config::default_for(today),
            Some(toml::Value::Integer(y)) => match i32::try_from(*y) {
                Ok(y) if SCHOOL_YEARS.contains(&y) => Config::for_school_year(y),
                _ => {
                    return Err(bad(
                        "school_year",
                        format!("{y} 不是有效的学年，{school_year_hint}"),
                    ));
                }
            },
            Some(v) => {
                return Err(bad(
                    "school_year",
                    format!(
                        "“{}”不是有效的学年，{school_year_hint}（不加引号）",
                        shown(v)
                    ),
                ));
            }
        };
        for (key, slot) in [("age_from", &mut c.born_from), ("age_to", &mut c.born_to)] {
            if let Some(v) = table.get(key) {
                *slot = date_value(v).ok_or_else(|| {
                    bad(
                        key,
                        format!(
                            "“{}”不是有效的日期，应写成 {key} = \"2006-09-01\" 这样的年-月-日",
                            shown(v)
                        ),
                    )
                })?;
            }
        }
        if c.born_from > c.born_to {
            return Err(bad(
                "age_from",
                format!("age_from {} 晚于 age_to {}", c.born_from, c.born_to),
            ));
        }
        c.township = text_value(&table, "township", &bad)?;
        c.county = text_value(&table, "county", &bad)?;
        if let Some(v) = table.get("status_words") {
            let toml::Value::Table(words) = v else {
                return Err(bad(
                    "status_words",
                    "应为一节 [status_words]，每行写 \"本县的词语\" = \"状态\"".to_string(),
                ));
            };
            // In the order of the words, whatever the file's order.
            let words: std::collections::BTreeMap<&String, &toml::Value> = words.iter().collect();
            for (word, target) in words {
                let key = format!("[status_words] 中的“{word}”");
                let toml::Value::String(target) = target else {
                    return Err(bad(
                        &key,
                        format!(
                            "对应的状态应为放在英文双引号中的文字，如 \"{word}\" = \"辍学\"，现在是“{}”",
                            shown(target)
                        ),
                    ));
                };
                let Some(status) = status_by_label(target) else {
                    return Err(bad(
                        &key,
                        format!(
                            "对应的状态“{target}”无法识别，应为以下之一：{}",
                            Status::ALL.map(Status::label_zh).join("、")
                        ),
                    ));
                };
                if word.trim().is_empty() {
                    return Err(bad("[status_words]", "有一个空的词语".to_string()));
                }
                c.status_words.push((word.clone(), status));
            }
        }
        if let Some(v) = table.get("schools") {
            c.schools = schools_value(v, &bad)?;
        }
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Read a config file as a clerk's editor saved it: UTF-8 (with or
    /// without BOM), UTF-16 (Notepad's "Unicode") or GBK (Notepad's "ANSI"
    /// on a Chinese Windows).
    pub fn load(path: &Path, today: NaiveDate) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            reason: io_reason(&e),
        })?;
        Config::from_toml(&decode_text(&bytes), path, today)
    }

    /// The round's configuration: the given file, else the first of
    /// [`CONFIG_NAMES`] in `folder`, else defaults for today's date.
    pub fn find(config: Option<&Path>, folder: Option<&Path>) -> Result<Config, ConfigError> {
        let today = chrono::Local::now().date_naive();
        let found = config.map(Path::to_path_buf).or_else(|| {
            let dir = folder?;
            CONFIG_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
        });
        match found {
            Some(p) => Config::load(&p, today),
            None => Ok(Config::default_for(today)),
        }
    }

    /// One line for the user: which config, school year and age window are used.
    pub fn describe(&self) -> String {
        let source = match &self.path {
            Some(p) => format!("配置文件 {}", p.display()),
            None => "未找到配置文件 taizhang.toml".to_string(),
        };
        let year = if self.school_year_inferred {
            format!(
                "学年按今天的日期推定为 {}—{}学年（如不对，请在 taizhang.toml 中写 school_year）",
                self.school_year,
                self.school_year + 1
            )
        } else {
            format!("{}—{}学年", self.school_year, self.school_year + 1)
        };
        format!(
            "{source}；{year}；适龄儿童出生于 {} 至 {}",
            self.born_from, self.born_to
        )
    }

    /// All configured villages, in configuration order.
    pub fn villages(&self) -> Vec<&str> {
        self.schools
            .iter()
            .flat_map(|s| s.villages.iter().map(String::as_str))
            .collect()
    }

    /// The school a (canonical) village is assigned to.
    pub fn school_of(&self, village: &str) -> Option<&str> {
        self.schools
            .iter()
            .find(|s| s.villages.iter().any(|v| v == village))
            .map(|s| s.name.as_str())
    }

    /// Age (in whole years) on 31 August of the school year.
    pub fn age_on_cutoff(&self, birth: NaiveDate) -> i32 {
        let cutoff = NaiveDate::from_ymd_opt(self.school_year, 8, 31).expect("valid date");
        let mut age = cutoff.year() - birth.year();
        if (birth.month(), birth.day()) > (cutoff.month(), cutoff.day()) {
            age -= 1;
        }
        age
    }

    pub fn in_window(&self, birth: NaiveDate) -> bool {
        birth >= self.born_from && birth <= self.born_to
    }
}

/// A file that is not valid TOML: where, and what is wrong, in Chinese.
fn syntax_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let at = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..at].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').trim().to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with('['))
        .or_else(|| {
            let t = line_text.trim();
            t.starts_with('[').then(|| t.to_string())
        });
    let m = e.message();
    let message = if line_text.trim_start().starts_with('[') {
        "节的名称应写成 [status_words] 或 [[schools]]，方括号要配对".to_string()
    } else if key.as_deref().is_some_and(|k| !k.is_ascii()) {
        "设置项的名称只能是英文，如 school_year = 2022".to_string()
    } else if m.contains("duplicate key") {
        "这个设置项写了两次，请只留一个".to_string()
    } else if m.contains("must be quoted") {
        "文字要放在英文双引号中，如 township = \"熨斗镇\"".to_string()
    } else if m.contains("unclosed array") || m.contains("expected `]`") {
        "方括号没有配对：列表应写成 [\"甲村\", \"乙村\"]".to_string()
    } else if m.contains("unclosed table") || m.contains("invalid table header") {
        "节的名称应写成 [status_words] 或 [[schools]]".to_string()
    } else if m.contains("unterminated")
        || m.contains("unclosed string")
        || m.contains("invalid basic string")
    {
        "引号没有配对：文字应放在一对英文双引号中".to_string()
    } else if m.contains("expected `=`") || m.contains("key with no value") {
        "每一行应写成 设置项 = 值".to_string()
    } else {
        "不符合 TOML 格式：每一行应写成 设置项 = 值，文字放在英文双引号中（如 township = \"熨斗镇\"），年份不加引号（如 school_year = 2022）".to_string()
    };
    ConfigError::Syntax {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}

/// Why a file cannot be read, in Chinese.
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "找不到这个文件".to_string(),
        ErrorKind::PermissionDenied => "没有读取权限".to_string(),
        ErrorKind::IsADirectory => "这是一个文件夹，不是配置文件".to_string(),
        _ => match e.raw_os_error() {
            Some(n) => format!("读取失败（系统错误代码 {n}）"),
            None => "读取失败".to_string(),
        },
    }
}

/// A value as the clerk wrote it, for messages.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A date written as "2006-09-01" or as a TOML date 2006-09-01.
fn date_value(v: &toml::Value) -> Option<NaiveDate> {
    match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let d = d.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    }
}

/// An optional text setting; blank counts as absent.
fn text_value(
    table: &toml::Table,
    key: &str,
    bad: &impl Fn(&str, String) -> ConfigError,
) -> Result<Option<String>, ConfigError> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone()).filter(|t| !t.trim().is_empty())),
        Some(v) => Err(bad(
            key,
            format!(
                "应为放在英文双引号中的文字，如 {key} = \"…\"，现在是“{}”",
                shown(v)
            ),
        )),
    }
}

/// `[[schools]]`: each a name and its villages.
fn schools_value(
    v: &toml::Value,
    bad: &impl Fn(&str, String) -> ConfigError,
) -> Result<Vec<SchoolConfig>, ConfigError> {
    let form = "每所学校写一节：[[schools]]，下面两行 name = \"学校名称\" 和 villages = [\"甲村\", \"乙村\"]";
    let toml::Value::Array(items) = v else {
        return Err(bad("schools", form.to_string()));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let nth = format!("第 {} 个 [[schools]]", i + 1);
        let toml::Value::Table(t) = item else {
            return Err(bad("schools", form.to_string()));
        };
        for k in t.keys() {
            if k != "name" && k != "villages" {
                return Err(bad(
                    &format!("{nth} 中的 {k}"),
                    format!("不认识这个设置项；{form}"),
                ));
            }
        }
        let name = match t.get("name") {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(other) => {
                return Err(bad(
                    &format!("{nth} 的 name"),
                    format!(
                        "学校名称应为放在英文双引号中的文字，现在是“{}”",
                        shown(other)
                    ),
                ));
            }
            None => {
                return Err(bad(&nth, format!("缺少学校名称 name；{form}")));
            }
        };
        let villages = match t.get("villages") {
            None => Vec::new(),
            Some(toml::Value::Array(vs)) => {
                let mut out = Vec::new();
                for v in vs {
                    match v {
                        toml::Value::String(s) => out.push(s.clone()),
                        other => {
                            return Err(bad(
                                &format!("{nth}（{name}）的 villages"),
                                format!(
                                    "每个村名应放在英文双引号中，如 villages = [\"甲村\", \"乙村\"]，“{}”不是",
                                    shown(other)
                                ),
                            ));
                        }
                    }
                }
                out
            }
            Some(other) => {
                return Err(bad(
                    &format!("{nth}（{name}）的 villages"),
                    format!(
                        "应为村名的列表，如 villages = [\"甲村\", \"乙村\"]，现在是“{}”",
                        shown(other)
                    ),
                ));
            }
        };
        out.push(SchoolConfig { name, villages });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_year_2022_window_matches_the_notice() {
        let c = Config::for_school_year(2022);
        assert_eq!(c.born_from, NaiveDate::from_ymd_opt(2006, 9, 1).unwrap());
        assert_eq!(c.born_to, NaiveDate::from_ymd_opt(2016, 8, 31).unwrap());
        assert_eq!(
            c.age_on_cutoff(NaiveDate::from_ymd_opt(2016, 8, 31).unwrap()),
            6
        );
        assert_eq!(
            c.age_on_cutoff(NaiveDate::from_ymd_opt(2006, 9, 1).unwrap()),
            15
        );
    }

    #[test]
    fn default_school_year_starts_in_september() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(Config::default_for(d(2026, 11, 30)).school_year, 2026);
        assert_eq!(Config::default_for(d(2026, 8, 31)).school_year, 2025);
    }

    #[test]
    fn parses_the_spec_example() {
        let t = r#"
township = "熨斗镇"
school_year = 2022
[[schools]]
name = "熨斗初级中学"
villages = ["金星村", "双坪村"]
"#;
        let c = Config::from_toml(
            t,
            Path::new("taizhang.toml"),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap();
        assert_eq!(c.township.as_deref(), Some("熨斗镇"));
        assert_eq!(c.school_of("双坪村"), Some("熨斗初级中学"));
        assert_eq!(c.villages(), vec!["金星村", "双坪村"]);
        assert_eq!(c.county, None);
        assert!(c.status_words.is_empty());
    }

    #[test]
    fn county_and_status_words() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let t = r#"
county = "宁陕县"
[status_words]
"在外务工" = "辍学"
"县特校" = "在校（本县）"
"#;
        let c = Config::from_toml(t, Path::new("taizhang.toml"), today).unwrap();
        assert_eq!(c.county.as_deref(), Some("宁陕县"));
        assert_eq!(
            c.status_words,
            vec![
                ("县特校".to_string(), Status::InSchoolLocal),
                ("在外务工".to_string(), Status::Dropout)
            ]
        );
        let bad = "[status_words]\n\"在外务工\" = \"打工中\"\n";
        let e = Config::from_toml(bad, Path::new("taizhang.toml"), today)
            .unwrap_err()
            .to_string();
        assert!(e.contains("taizhang.toml"), "{e}");
        assert!(e.contains("在外务工") && e.contains("打工中"), "{e}");
        assert!(e.contains("在校(本县)"), "{e}");
    }
}
