//! Stage 7: the machine-readable report (findings.json, findings.csv) and the
//! terminal summary.
//!
//! In: the run's inputs, findings and links. Out: files written atomically
//! into the output folder, and text for the terminal in which every ID is
//! masked (personal data stays off the screen) unless the caller asks otherwise.

pub mod history;
pub mod html;

use crate::gb11643::mask_text;
use crate::link::Pair;
use crate::model::{Code, Decision, Finding, Record, Role, Severity, Table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One input table as listed in findings.json `inputs`.
#[derive(Clone, Debug, Serialize)]
pub struct InputInfo {
    pub file: String,
    pub role: Role,
    pub sheet: String,
    pub header_row: u32,
    pub rows: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// Roster rows born outside the age window: not children of the round.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_out_of_window: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notices: usize,
    pub linked: usize,
    pub roster_only: usize,
    pub survey_only: usize,
    pub ready: bool,
    /// Roster children without a known status (reconcile only): 未摸底,
    /// 待人工确认 and 状态待核实, as the derived annexes count them.
    #[serde(flatten)]
    pub pending: Option<crate::derive::Pending>,
    /// Files of the folder that could not be read and were left out of the
    /// round: the round is not ready while any is listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_inputs: Vec<SkippedInput>,
}

/// A file of the folder left out of the round, with the reason (the read
/// error's message).
#[derive(Clone, Debug, Serialize)]
pub struct SkippedInput {
    pub file: String,
    pub reason: String,
}

/// What to do after a run (terminal, 报告.html, 核对说明).
pub const NEXT_STEPS: &str =
    "先打开 报告.html 看结论，再打开各 .核对.xlsx 逐条改正原表格，改完再运行一次。";
/// The output folder is rewritten on every run.
pub const OVERWRITE_NOTE: &str =
    "输出文件夹（核对结果）里的文件下次运行时会被覆盖：请改原表格，不要改 核对结果 里的文件。";

/// One line per skipped file: "未能读取，已跳过：<file>：<reason>".
pub fn skipped_lines(summary: &Summary) -> Vec<String> {
    summary
        .skipped_inputs
        .iter()
        .map(|s| format!("未能读取，已跳过：{}：{}", s.file, s.reason))
        .collect()
}

impl Summary {
    pub fn count(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Notice => s.notices += 1,
            }
        }
        s.ready = s.errors == 0;
        s
    }
}

/// findings.json.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub school_year: i32,
    pub born_from: String,
    pub born_to: String,
    pub inputs: Vec<InputInfo>,
    pub summary: Summary,
    pub findings: &'a [Finding],
    pub links: Links<'a>,
    /// This run against the earlier one (reconcile): each finding's match
    /// keys and `since_last`, and `changes`.
    pub history: Option<&'a history::Comparison>,
}

/// One finding as findings.json writes it: the finding's own fields, then
/// its match keys and whether it is new since the last run.
#[derive(Serialize)]
struct FindingOut<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    match_keys: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since_last: Option<history::SinceLast>,
}

struct FindingsOut<'a>(&'a [Finding], Option<&'a history::Comparison>);

impl Serialize for FindingsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (i, f) in self.0.iter().enumerate() {
            seq.serialize_element(&FindingOut {
                finding: f,
                match_keys: self.1.and_then(|h| h.keys.get(i)).map(Vec::as_slice),
                since_last: self.1.and_then(|h| h.since_last.get(i).copied()),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct ReportOut<'a> {
    tool: &'static str,
    version: &'static str,
    schema: u64,
    school_year: i32,
    born_from: &'a str,
    born_to: &'a str,
    inputs: &'a [InputInfo],
    summary: &'a Summary,
    changes: Option<&'a history::Changes>,
    findings: FindingsOut<'a>,
    links: Links<'a>,
}

impl Serialize for Report<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ReportOut {
            tool: self.tool,
            version: self.version,
            schema: history::SCHEMA,
            school_year: self.school_year,
            born_from: &self.born_from,
            born_to: &self.born_to,
            inputs: &self.inputs,
            summary: &self.summary,
            changes: self.history.and_then(|h| h.changes.as_ref()),
            findings: FindingsOut(self.findings, self.history),
            links: self.links,
        }
        .serialize(s)
    }
}

/// findings.json's `links`: a line per roster–survey pair, made from the
/// pairs as it is written and never held as a list (at a million children
/// such a list took ~0.5 GB). The default has no pairs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Links<'a> {
    /// The pairs, indexing `records`.
    pub pairs: &'a [Pair],
    pub records: &'a [Record],
    /// The tables the records come from.
    pub tables: &'a [Table],
}

/// A row a link names: as a related place is written (file, sheet, row).
#[derive(Serialize)]
struct PlaceOut<'a> {
    file: &'a str,
    sheet: &'a str,
    row: u32,
}

#[derive(Serialize)]
struct LinkOut<'a> {
    roster: PlaceOut<'a>,
    survey: PlaceOut<'a>,
    decision: Decision,
    score: f64,
    reasons: Vec<String>,
}

impl Serialize for Links<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let place = |i: usize| {
            let r = &self.records[i];
            let t = &self.tables[r.table];
            PlaceOut {
                file: &t.file,
                sheet: &t.sheet,
                row: r.row,
            }
        };
        let mut seq = s.serialize_seq(Some(self.pairs.len()))?;
        for p in self.pairs {
            seq.serialize_element(&LinkOut {
                roster: place(p.roster),
                survey: place(p.survey),
                decision: p.decision,
                score: (p.score * 1000.0).round() / 1000.0,
                reasons: p.reasons(self.records),
            })?;
        }
        seq.end()
    }
}

/// Sort findings by input order, sheet, row, column, then code.
pub fn sort_findings(findings: &mut [Finding], file_order: &[String]) {
    let pos = |f: &str| file_order.iter().position(|x| x == f).unwrap_or(usize::MAX);
    findings.sort_by(|a, b| {
        (
            pos(&a.file),
            &a.sheet,
            a.row,
            a.column.len(),
            &a.column,
            a.code,
        )
            .cmp(&(
                pos(&b.file),
                &b.sheet,
                b.row,
                b.column.len(),
                &b.column,
                b.code,
            ))
    });
}

pub fn findings_json(report: &Report) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = write_findings_json(report, &mut v);
    v
}

/// findings.json into a writer (pretty-printed, final newline).
pub fn write_findings_json(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

pub fn findings_csv(findings: &[Finding]) -> Vec<u8> {
    findings_csv_with(findings, None)
}

/// findings.csv; after a comparison with an earlier run, a last column 比上次
/// says 新出现 or 仍有 for each row.
pub fn findings_csv_with(findings: &[Finding], history: Option<&history::Comparison>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_findings_csv(findings, history, &mut out);
    out
}

/// [`findings_csv_with`] straight into `w`, row by row (UTF-8 with a BOM, so
/// Excel reads the Chinese).
///
/// # Errors
/// The writer's first error.
pub fn write_findings_csv(
    findings: &[Finding],
    history: Option<&history::Comparison>,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let since = history
        .filter(|h| h.changes.is_some())
        .map(|h| h.since_last.as_slice());
    w.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(w);
    let mut header = vec![
        "级别",
        "代码",
        "问题",
        "文件",
        "工作表",
        "行",
        "列",
        "字段",
        "当前值",
        "建议值",
        "说明",
        "相关位置",
    ];
    if since.is_some() {
        header.push("比上次");
    }
    w.write_record(&header)?;
    let mut related = String::new();
    let (mut value, mut suggestion) = (String::new(), String::new());
    for (i, f) in findings.iter().enumerate() {
        related.clear();
        for (k, l) in f.related.iter().enumerate() {
            if k > 0 {
                related.push_str("; ");
            }
            // 县局名单.xlsx:Sheet1!F88 (the row alone when no column is known).
            let _ = write!(related, "{}:{}!{}{}", l.file, l.sheet, l.column, l.row);
        }
        // findings.json keeps the field's key; the csv, read by clerks, names it in Chinese.
        let field = crate::model::Field::ALL
            .iter()
            .find(|k| k.key() == f.field)
            .map_or(f.field.as_str(), |k| k.label_zh());
        let row_no = f.row.to_string();
        // A leading apostrophe would show; prefix IDs with a tab so Excel keeps them as text.
        excel_text(&f.value, &mut value);
        excel_text(f.suggestion.as_deref().unwrap_or(""), &mut suggestion);
        let row: [&str; 12] = [
            f.severity.label_zh(),
            f.code.as_str(),
            f.code.title_zh(),
            &f.file,
            &f.sheet,
            &row_no,
            &f.column,
            field,
            &value,
            &suggestion,
            &f.message,
            &related,
        ];
        match since {
            Some(since) => {
                for field in row {
                    w.write_field(field)?;
                }
                w.write_record([match since.get(i) {
                    Some(history::SinceLast::New) => "新出现",
                    _ => "仍有",
                }])?;
            }
            None => w.write_record(row)?,
        }
    }
    w.flush()?;
    Ok(())
}

/// Long digit strings would be turned into numbers by Excel (and lose their
/// last digits); a leading tab keeps them as text when the csv is opened.
/// The text is put into `out` (cleared first).
fn excel_text(s: &str, out: &mut String) {
    out.clear();
    if s.len() >= 12 && s.chars().all(|c| c.is_ascii_digit() || c == 'X') {
        out.push('\t');
    }
    out.push_str(s);
}

/// How the terminal text is rendered.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub mask: bool,
    /// At most this many finding lines are printed (all are in findings.csv).
    pub max_lines: usize,
}

fn paint(style: Style, sev: Severity, s: &str) -> String {
    if !style.color {
        return s.to_string();
    }
    let code = match sev {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Notice => "36",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn shown(style: Style, s: &str) -> String {
    if style.mask {
        mask_text(s)
    } else {
        s.to_string()
    }
}

/// Display width of a string on a terminal (CJK characters take two columns).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    for _ in width(s)..w {
        out.push(' ');
    }
    out
}

/// A plain text table with CJK-aware padding.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(width(c));
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = writeln!(
        out,
        "  {}",
        line(header.iter().map(|s| s.to_string()).collect())
    );
    let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    let _ = writeln!(out, "  {}", "-".repeat(total));
    for r in rows {
        let _ = writeln!(out, "  {}", line(r.clone()));
    }
    out
}

/// The findings, grouped by file: `file:sheet!F17  CODE  说明`.
pub fn findings_text(findings: &[Finding], style: Style) -> String {
    let mut out = String::new();
    let mut current = "";
    for (n, f) in findings.iter().enumerate() {
        if n >= style.max_lines {
            let _ = writeln!(
                out,
                "……另有 {} 条，全部见 findings.csv 和各文件的核对副本",
                findings.len() - n
            );
            break;
        }
        if f.file != current {
            current = &f.file;
            let _ = writeln!(out, "\n{}", f.file);
        }
        let at = format!("{}:{}!{}{}", f.file, f.sheet, f.column, f.row);
        let _ = writeln!(
            out,
            "  {}  {}  {}",
            at,
            paint(style, f.severity, f.code.as_str()),
            shown(style, &f.message)
        );
    }
    out
}

/// Counts by code, in the order of `Code::ALL`.
pub fn code_counts(findings: &[Finding]) -> Vec<(Code, usize)> {
    let mut m: BTreeMap<Code, usize> = BTreeMap::new();
    for f in findings {
        *m.entry(f.code).or_insert(0) += 1;
    }
    m.into_iter().collect()
}

pub fn code_table(findings: &[Finding], style: Style) -> String {
    let rows: Vec<Vec<String>> = code_counts(findings)
        .into_iter()
        .map(|(c, n)| {
            vec![
                c.severity().label_zh().to_string(),
                c.as_str().to_string(),
                c.title_zh().to_string(),
                n.to_string(),
            ]
        })
        .collect();
    let t = table(&["级别", "代码", "问题", "条数"], &rows);
    if style.color {
        t.replace("错误  ", &paint(style, Severity::Error, "错误  "))
    } else {
        t
    }
}

pub fn inputs_table(inputs: &[InputInfo]) -> String {
    let rows: Vec<Vec<String>> = inputs
        .iter()
        .map(|i| {
            vec![
                i.file.clone(),
                i.sheet.clone(),
                i.role.label_zh().to_string(),
                i.header_row.to_string(),
                i.rows.to_string(),
                [
                    (i.skipped > 0).then(|| format!("跳过外乡镇{}行", i.skipped)),
                    (i.skipped_out_of_window > 0)
                        .then(|| format!("跳过适龄范围外{}行", i.skipped_out_of_window)),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("，"),
            ]
        })
        .collect();
    table(
        &["文件", "工作表", "类型", "表头行", "数据行数", "备注"],
        &rows,
    )
}

/// The verdict line.
/// The line that says how many roster children have no known status yet:
/// "名单中未摸底 N 人，待人工确认（疑似匹配）N 人，状态待核实 N 人。" (None
/// without a roster). Terminal, 报告.html and 核对说明 print it as it is.
pub fn pending_line(summary: &Summary) -> Option<String> {
    summary.pending.map(|p| {
        format!(
            "名单中未摸底 {} 人，待人工确认（疑似匹配）{} 人，状态待核实 {} 人。",
            p.unsurveyed, p.unconfirmed, p.status_unknown
        )
    })
}

/// The line under a generated annex's title while errors remain:
/// "草稿：尚有 N 个错误未改正" (None when the round is ready).
pub fn draft_line(summary: &Summary) -> Option<String> {
    (summary.errors > 0).then(|| format!("草稿：尚有 {} 个错误未改正", summary.errors))
}

pub fn verdict(summary: &Summary) -> String {
    let skipped = summary.skipped_inputs.len();
    if skipped > 0 && summary.errors == 0 {
        format!(
            "结论：暂不能上报。有 {skipped} 个文件未能读取、已跳过，请改正或移出文件夹后再核对（另有警告 {} 条、提示 {} 条）。",
            summary.warnings, summary.notices
        )
    } else if skipped > 0 {
        format!(
            "结论：暂不能上报。有 {} 个错误必须改正，另有 {skipped} 个文件未能读取、已跳过（警告 {} 条、提示 {} 条）。",
            summary.errors, summary.warnings, summary.notices
        )
    } else if summary.ready {
        format!(
            "结论：可以上报。没有错误（警告 {} 条、提示 {} 条，请过目）。",
            summary.warnings, summary.notices
        )
    } else {
        format!(
            "结论：暂不能上报。有 {} 个错误必须改正（另有警告 {} 条、提示 {} 条）。",
            summary.errors, summary.warnings, summary.notices
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Finding;

    fn finding(code: Code, file: &str, row: u32, col: &str) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            file: file.into(),
            input: crate::model::InputId::default(),
            sheet: "Sheet1".into(),
            row,
            column: col.into(),
            field: "id".into(),
            value: "610922201005031234".into(),
            suggestion: None,
            message: "身份证号 610922201005031234 有误".into(),
            related: vec![],
            village: None,
        }
    }

    #[test]
    fn terminal_text_masks_ids_and_names_the_cell() {
        let f = vec![finding(Code::ID_CHECKSUM, "a.xlsx", 17, "F")];
        let t = findings_text(
            &f,
            Style {
                color: false,
                mask: true,
                max_lines: 10,
            },
        );
        assert!(t.contains("a.xlsx:Sheet1!F17  ID_CHECKSUM"), "{t}");
        assert!(!t.contains("610922201005031234"), "{t}");
        let t = findings_text(
            &f,
            Style {
                color: false,
                mask: false,
                max_lines: 10,
            },
        );
        assert!(t.contains("610922201005031234"));
    }

    #[test]
    fn sorting_follows_input_order_then_cells() {
        let mut f = vec![
            finding(Code::ID_CHECKSUM, "b.xlsx", 3, "A"),
            finding(Code::ID_CHECKSUM, "a.xlsx", 10, "AA"),
            finding(Code::ID_CHECKSUM, "a.xlsx", 10, "B"),
            finding(Code::ID_CHECKSUM, "a.xlsx", 2, "C"),
        ];
        sort_findings(&mut f, &["a.xlsx".into(), "b.xlsx".into()]);
        let got: Vec<String> = f
            .iter()
            .map(|f| format!("{}{}{}", f.file, f.column, f.row))
            .collect();
        assert_eq!(got, ["a.xlsxC2", "a.xlsxB10", "a.xlsxAA10", "b.xlsxA3"]);
    }

    #[test]
    fn csv_has_bom_and_keeps_ids_as_text() {
        let f = vec![finding(Code::ID_CHECKSUM, "a.xlsx", 17, "F")];
        let b = findings_csv(&f);
        assert!(b.starts_with(b"\xEF\xBB\xBF"));
        let s = String::from_utf8(b).unwrap();
        assert!(s.contains("\t610922201005031234"));
    }
}
