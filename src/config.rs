//! The round's configuration (taizhang.toml): county and township, school
//! year (→ age window), schools and their villages, and the county's own
//! status words (`[status_words]`). Parsed from taizhang.toml, or defaulted
//! from today's date when there is none.

use crate::model::Status;
use crate::normalize::status::status_by_label;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("无法读取配置文件 {path}：{source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("配置文件 {path} 格式错误：{message}")]
    Parse { path: PathBuf, message: String },
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

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    county: Option<String>,
    township: Option<String>,
    school_year: Option<i32>,
    age_from: Option<NaiveDate>,
    age_to: Option<NaiveDate>,
    #[serde(default)]
    schools: Vec<SchoolConfig>,
    #[serde(default)]
    status_words: std::collections::BTreeMap<String, String>,
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

    pub fn from_toml(text: &str, path: &Path, today: NaiveDate) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut c = match raw.school_year {
            Some(y) if !SCHOOL_YEARS.contains(&y) => {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!(
                        "school_year = {y} 不是有效的学年，应为 {} 到 {} 之间的年份，如 school_year = 2022（2022—2023学年）",
                        SCHOOL_YEARS.start(),
                        SCHOOL_YEARS.end()
                    ),
                });
            }
            Some(y) => Config::for_school_year(y),
            None => Config::default_for(today),
        };
        if let Some(d) = raw.age_from {
            c.born_from = d;
        }
        if let Some(d) = raw.age_to {
            c.born_to = d;
        }
        if c.born_from > c.born_to {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("age_from {} 晚于 age_to {}", c.born_from, c.born_to),
            });
        }
        c.township = raw.township.filter(|t| !t.trim().is_empty());
        c.county = raw.county.filter(|t| !t.trim().is_empty());
        for (word, target) in raw.status_words {
            let Some(status) = status_by_label(&target) else {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!(
                        "[status_words] 中“{word}”对应的状态“{target}”无法识别，应为以下之一：{}",
                        Status::ALL.map(Status::label_zh).join("、")
                    ),
                });
            };
            if word.trim().is_empty() {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: "[status_words] 中有一个空的词语".to_string(),
                });
            }
            c.status_words.push((word, status));
        }
        c.schools = raw.schools;
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Read a config file as a clerk's editor saved it: UTF-8 (with or
    /// without BOM), UTF-16 (Notepad's "Unicode") or GBK (Notepad's "ANSI"
    /// on a Chinese Windows).
    pub fn load(path: &Path, today: NaiveDate) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
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
