//! Run history: what changed since the last run.
//!
//! In: this run's findings (with the tables and records they point into) and
//! an earlier findings.json — the newest one in the output folder's `历史`
//! folder, or a file the user names. Out: each finding's match keys and
//! whether it is new or unchanged, the earlier findings that are gone
//! (fixed), and the errors / warnings / unsurveyed children of every run kept
//! in the history, for the chart.
//!
//! Findings match by who and what, never by row number, because clerks
//! insert, delete and sort rows between runs:
//! - a finding on a child's row is keyed by the child: the valid 18-digit ID,
//!   else the normalised name + birth date + village. Both keys are stored
//!   (`match_keys`), so a child whose invalid ID was corrected still matches
//!   the findings it had before the correction;
//! - a finding about a village or a statistics cell is keyed by the village
//!   and the cell's meaning (the field of its column);
//! - plus the finding's code and field.
//!
//! Matching is a multiset match: two identical keys on each side match two.
//! Candidates in the same file and sheet are preferred, then the same main
//! key, then any shared key.
//!
//! Guarantees: the history holds at most [`KEEP`] runs, each written
//! atomically; an earlier findings.json of another layout is refused with a
//! message naming the file, never half-compared.

use crate::model::{Code, Finding, InputId, Record, Table};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Layout version of findings.json. Raise it whenever a field that the
/// comparison reads changes; earlier files of another version are refused.
pub const SCHEMA: u64 = 2;
/// The history folder inside the output folder.
pub const HISTORY_DIR: &str = "历史";
/// How the chart names the run being made.
pub const THIS_RUN: &str = "本次";
/// Runs kept in the history.
pub const KEEP: usize = 20;
const SUFFIX: &str = ".findings.json";

/// Whether a finding was already there in the earlier run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SinceLast {
    New,
    Unchanged,
}

/// findings.json `changes`.
#[derive(Clone, Debug, Serialize)]
pub struct Changes {
    /// The earlier run's time, or the file given with `--since`.
    pub previous_run: String,
    /// The earlier run's findings that are gone, as that run wrote them.
    pub fixed: Vec<Value>,
    pub new: usize,
    pub unchanged: usize,
}

impl Changes {
    /// 比上次（time）：已改正 N 条，新出现 M 条，仍有 K 条。
    pub fn line(&self) -> String {
        format!(
            "比上次（{}）：已改正 {} 条，新出现 {} 条，仍有 {} 条。",
            self.previous_run,
            self.fixed.len(),
            self.new,
            self.unchanged
        )
    }
}

/// One run in the history chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPoint {
    /// When the run was made, `YYYY-MM-DD HH:MM:SS`; [`THIS_RUN`] for the
    /// run being made.
    pub run_at: String,
    pub errors: usize,
    pub warnings: usize,
    /// Roster children found in no survey (名单中未摸底).
    pub unsurveyed: usize,
}

/// Everything the outputs need to say about this run against the earlier one.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// This run's time, `YYYY-MM-DD HH:MM:SS` (local; not written into
    /// findings.json, which stays the same for the same inputs: the history
    /// file's name holds it).
    pub run_at: String,
    /// Match keys of each finding (parallel to the findings).
    pub keys: Vec<Vec<String>>,
    /// Parallel to the findings; empty on a first run.
    pub since_last: Vec<SinceLast>,
    /// None on a first run.
    pub changes: Option<Changes>,
    /// The runs in the history, oldest first, this run last.
    pub trend: Vec<RunPoint>,
    /// Where this run is kept in the history once its outputs are written.
    pub entry: Option<PathBuf>,
}

impl Comparison {
    pub fn is_new(&self, i: usize) -> bool {
        self.since_last.get(i) == Some(&SinceLast::New)
    }
}

/// An earlier run, read back and checked.
#[derive(Debug)]
pub struct Previous {
    /// What `changes.previous_run` shows.
    pub label: String,
    findings: Vec<PrevFinding>,
}

#[derive(Debug)]
struct PrevFinding {
    code: String,
    field: String,
    file: String,
    sheet: String,
    keys: Vec<String>,
    raw: Value,
}

fn child_keys(r: &Record) -> Vec<String> {
    let village = r.village.as_deref().unwrap_or(r.village_raw.trim());
    let who = |birth: String| format!("who:{}|{}|{}", r.name, birth, village);
    let stated = r.birth.display();
    let mut keys = Vec::with_capacity(3);
    if r.id.is_valid() {
        keys.push(format!("id:{}", r.id.clean));
    }
    keys.push(who(stated.clone()));
    // The ID's birth date too, so a child keyed before by the date its ID
    // held still matches once the stated date is filled in or corrected.
    if let Some(d) = r.id.birth_date().map(|d| d.format("%Y-%m-%d").to_string())
        && d != stated
    {
        keys.push(who(d));
    }
    keys
}

/// Codes about a village or a statistics cell rather than the child on whose
/// row they sit.
fn village_level(code: Code) -> bool {
    matches!(code, Code::VILLAGE_NOT_COVERED | Code::STATS_DIFFERS)
}

/// Match keys of every finding, main key first.
pub fn finding_keys(
    tables: &[Table],
    records: &[Record],
    findings: &[Finding],
) -> Vec<Vec<String>> {
    let table_of: HashMap<(InputId, &str), usize> = tables
        .iter()
        .map(|t| ((t.input, t.sheet.as_str()), t.index))
        .collect();
    let mut rec_at: HashMap<(usize, u32), usize> = HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        rec_at.entry((r.table, r.row)).or_insert(i);
    }
    findings
        .iter()
        .map(|f| {
            let village = f.village.as_deref().unwrap_or("").trim();
            if village_level(f.code) {
                return vec![format!("cell:{village}|{}", f.field)];
            }
            let rec = table_of
                .get(&(f.input, f.sheet.as_str()))
                .and_then(|t| rec_at.get(&(*t, f.row)));
            match rec {
                Some(&i) => child_keys(&records[i]),
                None => {
                    let meaning = if f.field.is_empty() {
                        f.column.as_str()
                    } else {
                        f.field.as_str()
                    };
                    vec![format!("cell:{village}|{meaning}")]
                }
            }
        })
        .collect()
}

/// Compare this run's findings with an earlier run's.
pub fn compare(
    prev: &Previous,
    findings: &[Finding],
    keys: &[Vec<String>],
) -> (Vec<SinceLast>, Changes) {
    let mut taken = vec![false; prev.findings.len()];
    let mut matched = vec![false; findings.len()];
    let main = |k: &[String]| k.first().cloned().unwrap_or_default();
    // Pass 1: same main key in the same file and sheet; pass 2: same main key;
    // pass 3: any shared key.
    for pass in 0..3 {
        let mut buckets: HashMap<String, Vec<usize>> = HashMap::new();
        let bucket = |p: &PrevFinding, k: &str, pass: usize| -> String {
            match pass {
                0 => format!(
                    "{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
                    p.code, p.field, k, p.file, p.sheet
                ),
                _ => format!("{}\u{1}{}\u{1}{}", p.code, p.field, k),
            }
        };
        for (i, p) in prev.findings.iter().enumerate().rev() {
            if taken[i] {
                continue;
            }
            if pass < 2 {
                buckets
                    .entry(bucket(p, &main(&p.keys), pass))
                    .or_default()
                    .push(i);
            } else {
                for k in &p.keys {
                    buckets.entry(bucket(p, k, pass)).or_default().push(i);
                }
            }
        }
        for (j, f) in findings.iter().enumerate() {
            if matched[j] {
                continue;
            }
            let as_prev = PrevFinding {
                code: f.code.as_str().to_string(),
                field: f.field.clone(),
                file: f.file.clone(),
                sheet: f.sheet.clone(),
                keys: Vec::new(),
                raw: Value::Null,
            };
            let own: Vec<String> = if pass < 2 {
                vec![main(&keys[j])]
            } else {
                keys[j].clone()
            };
            'keys: for k in own {
                if let Some(list) = buckets.get_mut(&bucket(&as_prev, &k, pass)) {
                    while let Some(i) = list.pop() {
                        if !taken[i] {
                            taken[i] = true;
                            matched[j] = true;
                            break 'keys;
                        }
                    }
                }
            }
        }
    }
    let since: Vec<SinceLast> = matched
        .iter()
        .map(|&m| {
            if m {
                SinceLast::Unchanged
            } else {
                SinceLast::New
            }
        })
        .collect();
    let unchanged = matched.iter().filter(|&&m| m).count();
    let fixed = prev
        .findings
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(p, _)| {
            let mut v = p.raw.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("since_last");
            }
            v
        })
        .collect();
    let changes = Changes {
        previous_run: prev.label.clone(),
        fixed,
        new: findings.len() - unchanged,
        unchanged,
    };
    (since, changes)
}

/// Why an earlier findings.json cannot be compared with.
fn refuse(path: &Path, why: &str, hint: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "无法与上次的核对结果比较：「{}」{why}。{hint}",
        path.display()
    )
}

/// Read an earlier findings.json and check its layout. `hint` tells the user
/// what to do when it is refused.
pub fn load(path: &Path, label: Option<String>, hint: &str) -> anyhow::Result<Previous> {
    let file =
        std::fs::File::open(path).map_err(|e| refuse(path, &format!("无法读取（{e}）"), hint))?;
    // Only the fields compared are kept; `links` (a line per child) is
    // skipped while reading.
    let head: Head = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| refuse(path, &format!("不是有效的 findings.json（{e}）"), hint))?;
    if head.tool.as_deref() != Some("taizhang") {
        return Err(refuse(path, "不是 taizhang 写出的 findings.json", hint));
    }
    match head.schema {
        None => {
            return Err(refuse(
                path,
                "是旧版本 taizhang 写出的，格式与本版本不同（没有格式版本号和比对用的关键字段）",
                hint,
            ));
        }
        Some(n) if n != SCHEMA => {
            return Err(refuse(
                path,
                &format!("的格式版本是 {n}，本版本 taizhang 的格式版本是 {SCHEMA}，两者不同"),
                hint,
            ));
        }
        Some(_) => {}
    }
    let Some(list) = head.findings else {
        return Err(refuse(path, "缺少问题清单（findings）", hint));
    };
    let mut findings = Vec::with_capacity(list.len());
    for (n, f) in list.into_iter().enumerate() {
        let text = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
        let keys: Option<Vec<String>> = f.get("match_keys").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
        match (
            text("code"),
            text("field"),
            text("file"),
            text("sheet"),
            keys,
        ) {
            (Some(code), Some(field), Some(file), Some(sheet), Some(keys)) if !keys.is_empty() => {
                findings.push(PrevFinding {
                    code,
                    field,
                    file,
                    sheet,
                    keys,
                    raw: f,
                })
            }
            _ => {
                return Err(refuse(
                    path,
                    &format!(
                        "的第 {} 条问题缺少比对所需的字段（code、field、file、sheet、match_keys），格式与本版本不同",
                        n + 1
                    ),
                    hint,
                ));
            }
        }
    }
    let label = label.unwrap_or_else(|| time_of(path));
    Ok(Previous { label, findings })
}

/// The fixed findings that were in `file`, for its 核对说明 sheet.
pub fn fixed_in(changes: &Changes, file: &str) -> Vec<crate::annotate::FixedLine> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    changes
        .fixed
        .iter()
        .filter(|v| v.get("file").and_then(Value::as_str) == Some(file))
        .map(|v| {
            let code = text(v, "code");
            let known = Code::ALL.iter().find(|c| c.as_str() == code);
            let row = v.get("row").and_then(Value::as_u64).unwrap_or(0);
            crate::annotate::FixedLine {
                severity: known
                    .map(|c| c.severity().label_zh().to_string())
                    .unwrap_or_default(),
                title: known.map(|c| c.title_zh().to_string()).unwrap_or_default(),
                code,
                message: text(v, "message"),
                sheet: text(v, "sheet"),
                cell: format!("{}{}", text(v, "column"), row),
                value: text(v, "value"),
            }
        })
        .collect()
}

/// `20261206-151407` or `20261206-151407-2` → sortable (stamp, sequence).
fn parse_name(name: &str) -> Option<(String, u32)> {
    let stem = name.strip_suffix(SUFFIX)?;
    let (stamp, seq) = match stem.get(15..) {
        Some("") => (stem, 1),
        Some(rest) => (stem.get(..15)?, rest.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    let b = stamp.as_bytes();
    let ok = b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit());
    ok.then(|| (stamp.to_string(), seq))
}

/// The run time a history file's name holds (`20261206-151407…` →
/// `2026-12-06 15:14:07`); the file name when it holds none.
pub fn time_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    match parse_name(&name) {
        Some((s, _)) => format!(
            "{}-{}-{} {}:{}:{}",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15]
        ),
        None => name,
    }
}

/// The runs kept in `dir`, oldest first (files of other names are ignored).
pub fn runs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<((String, u32), PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            parse_name(&name).map(|k| (k, e.path()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

/// The history file name for a run at `now` in `dir`: a second run within
/// the same second gets `-2`, `-3`, ….
pub fn entry_path(dir: &Path, now: &chrono::NaiveDateTime) -> PathBuf {
    let stamp = now.format("%Y%m%d-%H%M%S").to_string();
    let mut p = dir.join(format!("{stamp}{SUFFIX}"));
    let mut n = 2;
    while p.exists() {
        p = dir.join(format!("{stamp}-{n}{SUFFIX}"));
        n += 1;
    }
    p
}

/// The parts of an earlier findings.json the comparison reads.
#[derive(Deserialize)]
struct Head {
    tool: Option<String>,
    schema: Option<u64>,
    findings: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct LightSummary {
    errors: usize,
    warnings: usize,
    roster_only: usize,
}

#[derive(Deserialize)]
struct Light {
    summary: LightSummary,
}

/// The chart's point for one history file; None when it cannot be read.
pub fn point_of(path: &Path) -> Option<RunPoint> {
    let f = std::fs::File::open(path).ok()?;
    let l: Light = serde_json::from_reader(std::io::BufReader::new(f)).ok()?;
    Some(RunPoint {
        run_at: time_of(path),
        errors: l.summary.errors,
        warnings: l.summary.warnings,
        unsurveyed: l.summary.roster_only,
    })
}

/// Write this run into the history (atomically: `write` streams the
/// findings.json text) and keep the newest [`KEEP`] runs.
pub fn save(
    entry: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = entry.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    crate::output::atomic::write_with(entry, write)?;
    let all = runs(dir);
    if all.len() > KEEP {
        for p in &all[..all.len() - KEEP] {
            std::fs::remove_file(p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Code, row: u32) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            file: "a.xlsx".into(),
            input: crate::model::InputId::default(),
            sheet: "Sheet1".into(),
            row,
            column: "H".into(),
            field: "id".into(),
            value: String::new(),
            suggestion: None,
            message: String::new(),
            related: vec![],
            village: None,
        }
    }

    fn previous(list: &[(Code, u32, &[&str])]) -> Previous {
        Previous {
            label: "earlier".into(),
            findings: list
                .iter()
                .map(|(code, row, keys)| PrevFinding {
                    code: code.as_str().into(),
                    field: "id".into(),
                    file: "a.xlsx".into(),
                    sheet: "Sheet1".into(),
                    keys: keys.iter().map(|k| k.to_string()).collect(),
                    raw: serde_json::json!({ "code": code.as_str(), "row": row }),
                })
                .collect(),
        }
    }

    fn keys(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|k| k.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn identical_keys_match_as_a_multiset() {
        let k: &[&str] = &["who:甲|2010-01-01|金星村"];
        let prev = previous(&[(Code::DUPLICATE_ID, 5, k), (Code::DUPLICATE_ID, 9, k)]);
        let now = vec![
            finding(Code::DUPLICATE_ID, 20),
            finding(Code::DUPLICATE_ID, 3),
            finding(Code::DUPLICATE_ID, 7),
        ];
        let (since, ch) = compare(&prev, &now, &keys(&[k, k, k]));
        assert_eq!(
            since,
            [SinceLast::Unchanged, SinceLast::Unchanged, SinceLast::New]
        );
        assert_eq!((ch.fixed.len(), ch.new, ch.unchanged), (0, 1, 2));
        let (since, ch) = compare(&prev, &now[..1], &keys(&[k]));
        assert_eq!(since, [SinceLast::Unchanged]);
        assert_eq!((ch.fixed.len(), ch.new, ch.unchanged), (1, 0, 1));
        assert_eq!(ch.fixed[0]["row"], 9);
    }

    #[test]
    fn a_corrected_id_keeps_the_child_and_fixes_its_id_findings() {
        let who = "who:甲|2010-01-01|金星村";
        let prev = previous(&[
            (Code::ID_CHECKSUM, 5, &[who]),
            (Code::SEX_MISMATCH, 5, &[who]),
        ]);
        // Now the ID is valid: the checksum finding is gone, the sex one is
        // still there, keyed by the ID first.
        let now = vec![finding(Code::SEX_MISMATCH, 12)];
        let (since, ch) = compare(&prev, &now, &keys(&[&["id:610922201001010012", who]]));
        assert_eq!(since, [SinceLast::Unchanged]);
        assert_eq!(ch.fixed.len(), 1);
        assert_eq!(ch.fixed[0]["code"], "ID_CHECKSUM");
        assert_eq!(
            ch.line(),
            "比上次（earlier）：已改正 1 条，新出现 0 条，仍有 1 条。"
        );
    }

    #[test]
    fn history_names_sort_by_time_then_sequence() {
        assert_eq!(
            parse_name("20261206-151407.findings.json"),
            Some(("20261206-151407".into(), 1))
        );
        assert_eq!(
            parse_name("20261206-151407-12.findings.json"),
            Some(("20261206-151407".into(), 12))
        );
        assert_eq!(parse_name("20261206-1514.findings.json"), None);
        assert_eq!(parse_name("notes.findings.json"), None);
        assert_eq!(parse_name("20261206-151407.json"), None);
        assert_eq!(
            time_of(Path::new("历史/20261206-151407-2.findings.json")),
            "2026-12-06 15:14:07"
        );
    }
}
