//! Stage 6: annotated copies of the input workbooks.
//!
//! In: one input workbook and the findings on it, plus the round's summary.
//! Out: `<stem>.核对.xlsx` (`.核对.xlsm` for a macro-enabled workbook, whose
//! copy keeps its VBA part and content type), a copy in which every finding's cell is filled by
//! severity and carries a legacy note (Excel "Note", WPS 批注) in plain
//! Chinese, with a first sheet 核对说明 listing every finding.
//!
//! Guarantee (xlsx/xlsm): the copy is a *patch*. Every zip entry that need not
//! change is copied byte for byte (raw, still compressed); only the annotated
//! sheets, xl/styles.xml, the sheets' rels, the comments and VML parts,
//! xl/workbook.xml, its rels and `[Content_Types].xml` are rewritten, each by
//! a namespace-aware streaming pass (quick-xml events in, events out), so a
//! 500,000-row sheet is never held in memory. Outputs are deterministic
//! (fixed zip timestamps, input entry order, new entries appended in a fixed
//! order) and written to a temporary name, then renamed.
//!
//! xls, ods and csv inputs are rebuilt from their values ([`rebuild_xlsx`])
//! into a plain xlsx, which is then annotated by the same patcher; a csv's
//! data sheet is written in one pass straight from its text with the marks
//! ([`rebuild_csv`]), never held in memory or inflated again; an xls
//! keeps its formatting ([`rebuild_xls`], read by a small BIFF reader), an
//! ods what of its styles maps onto xlsx ([`rebuild_ods`]).

mod biff;
mod csv_copy;
mod fast;
mod ods_style;
mod patch;
mod rebuild;
mod sheet;
mod styles;
mod summary;
mod xml;

use crate::model::{Finding, Severity};
use std::path::{Path, PathBuf};

pub use csv_copy::rebuild_csv;
pub use rebuild::{rebuild_ods, rebuild_xls, rebuild_xlsx};

/// What the 核对说明 sheet says about the round.
#[derive(Clone, Debug, Default)]
pub struct SummaryInfo {
    /// Whether the round is ready to submit (no errors).
    pub ready: bool,
    /// The verdict, one Chinese sentence (shown big on the first line).
    pub verdict: String,
    /// Every finding to list on 核对说明, already sorted.
    pub findings: Vec<Finding>,
    /// For rebuilt copies: e.g. "本文件由 x.xls 重建为 xlsx".
    pub rebuilt_from: Option<String>,
    /// Lines about the inputs read (file, sheet, role, rows).
    pub inputs_note: Vec<String>,
    /// How many roster children have no known status yet (reconcile only),
    /// shown under the totals.
    pub pending: Option<String>,
    /// Files of the folder that could not be read and were left out, one
    /// line each (file and reason).
    pub skipped: Vec<String>,
    /// Parallel to `findings`: new since the last run (marked 新). Empty when
    /// the run was not compared with an earlier one.
    pub new: Vec<bool>,
    /// 比上次（…）：已改正 N 条，新出现 M 条，仍有 K 条。 None on a first run.
    pub change: Option<String>,
    /// The earlier run's findings in this file that are gone.
    pub fixed: Vec<FixedLine>,
}

/// An earlier finding that this run no longer has, as the 核对说明 sheet
/// lists it (where it was then, what it said).
#[derive(Clone, Debug, Default)]
pub struct FixedLine {
    pub severity: String,
    pub code: String,
    pub title: String,
    pub message: String,
    pub sheet: String,
    /// The cell it was in then, e.g. F17.
    pub cell: String,
    pub value: String,
}

/// A failure to write an annotated copy. Every message is plain Chinese and
/// names the file.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("无法读取文件 {}：{source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("文件 {} 已加密（设置了打开密码）或不是 xlsx 格式，无法生成核对副本；请在 Excel/WPS 中取消密码、另存为 xlsx 后重试", path.display())]
    Encrypted { path: PathBuf },
    #[error("文件 {} 已损坏，不是有效的 xlsx 文件：{detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error("输出文件 {} 就是输入文件，拒绝覆盖原文件；请换一个输出文件夹", path.display())]
    SameAsInput { path: PathBuf },
    #[error("无法写入文件 {}：{detail}", path.display())]
    Write { path: PathBuf, detail: String },
    /// The input could not be read again while its copy was written.
    #[error(transparent)]
    Input(#[from] crate::read::ReadError),
}

/// The Chinese note text for one finding: `【错误】CODE 标题`, the message,
/// 当前值 and (when there is one) 建议值. Related rows are in the message.
pub fn note_text(f: &Finding) -> String {
    let mut s = format!(
        "【{}】{} {}\n{}",
        f.severity.label_zh(),
        f.code.as_str(),
        f.code.title_zh(),
        f.message.trim()
    );
    let value = if f.value.trim().is_empty() {
        "（空）".to_string()
    } else {
        f.value.clone()
    };
    s.push_str(&format!("\n当前值：{value}"));
    if let Some(sug) = f.suggestion.as_deref().filter(|s| !s.trim().is_empty()) {
        s.push_str(&format!("\n建议值：{sug}"));
    }
    s
}

/// Write `output` atomically (see [`crate::output::atomic`]): `write`
/// creates the file at the temporary path it is given.
pub(crate) fn write_atomically(
    output: &Path,
    write: impl FnOnce(&Path) -> Result<(), AnnotateError>,
) -> Result<(), AnnotateError> {
    crate::output::atomic::replace_with(output, write, |e| AnnotateError::Write {
        path: output.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Patch a copy of an xlsx/xlsm: fills and notes on every finding's cell,
/// a first sheet 核对说明, everything else byte for byte.
///
/// # Errors
/// The input is unreadable, encrypted or not a valid package; the output is
/// the input; the output cannot be written. Nothing is left half-written.
pub fn annotate_xlsx(
    input: &Path,
    output: &Path,
    findings: &[Finding],
    summary: &SummaryInfo,
) -> Result<(), AnnotateError> {
    refuse_same(input, output)?;
    let file = std::fs::File::open(input).map_err(|e| AnnotateError::Read {
        path: input.to_path_buf(),
        source: e,
    })?;
    let reader = std::io::BufReader::new(file);
    write_atomically(output, |tmp| {
        patch::patch_package(reader, input, tmp, output, findings, summary)
    })
}

fn refuse_same(input: &Path, output: &Path) -> Result<(), AnnotateError> {
    let same = match (std::fs::canonicalize(input), canonical_output(output)) {
        (Ok(a), Some(b)) => a == b,
        _ => input == output,
    };
    if same {
        return Err(AnnotateError::SameAsInput {
            path: output.to_path_buf(),
        });
    }
    Ok(())
}

fn canonical_output(output: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(output) {
        return Some(p);
    }
    let parent = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(
        std::fs::canonicalize(parent)
            .ok()?
            .join(output.file_name()?),
    )
}

/// The workbook part's content types that name a macro-enabled package:
/// its copy keeps the VBA part, so Excel opens it only as `.xlsm`.
const MACRO_MAIN_TYPES: [&str; 2] = [
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
];

/// The extension (without dot) of the annotated copy of `input`: `xlsm`
/// when the input is a package whose workbook part is macro-enabled (an
/// `.xlsm`, or an `.xltm` template: its copy becomes a macro-enabled
/// workbook), else `xlsx` (plain packages, templates, and every rebuilt
/// copy). Excel refuses a file whose extension and content type disagree.
pub fn copy_extension(input: &Path) -> &'static str {
    let Ok(file) = std::fs::File::open(input) else {
        return "xlsx";
    };
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return "xlsx";
    };
    let Ok(entry) = zip.by_name("[Content_Types].xml") else {
        return "xlsx";
    };
    let mut xml = String::new();
    use std::io::Read;
    // A content types part is a few kilobytes; a larger one is not read.
    if entry.take(4 << 20).read_to_string(&mut xml).is_err() {
        return "xlsx";
    }
    if MACRO_MAIN_TYPES.iter().any(|t| xml.contains(t)) {
        "xlsm"
    } else {
        "xlsx"
    }
}

/// A template's workbook content type turned into the matching workbook's
/// (`.xltx` → plain, `.xltm` → macro-enabled): the copy is a workbook to
/// open and review, named `.xlsx`/`.xlsm`, which Excel opens only when the
/// content type says workbook.
pub(crate) fn untemplate_content_types(xml: Vec<u8>) -> Vec<u8> {
    const SWAPS: [(&str, &str); 2] = [
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        (
            "application/vnd.ms-excel.template.macroEnabled.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
    ];
    let Ok(mut text) = String::from_utf8(xml.clone()) else {
        return xml;
    };
    if !SWAPS.iter().any(|(from, _)| text.contains(from)) {
        return xml;
    }
    for (from, to) in SWAPS {
        text = text.replace(from, to);
    }
    text.into_bytes()
}

/// Fill colour (ARGB) of a severity.
pub(crate) fn fill_rgb(s: Severity) -> &'static str {
    match s {
        Severity::Error => "FFFFC7CE",
        Severity::Warning => "FFFFD966",
        Severity::Notice => "FFBDD7EE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Code;

    fn finding(code: Code, sug: Option<&str>) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            file: "a.xlsx".into(),
            input: crate::model::InputId::default(),
            sheet: "Sheet1".into(),
            row: 5,
            column: "F".into(),
            field: "id".into(),
            value: "610922201005031235".into(),
            suggestion: sug.map(str::to_string),
            message: "身份证号校验位错误，应为4".into(),
            related: vec![],
            village: None,
        }
    }

    #[test]
    fn note_text_names_severity_code_value_and_suggestion() {
        let t = note_text(&finding(Code::ID_CHECKSUM, Some("610922201005031234")));
        assert_eq!(
            t,
            "【错误】ID_CHECKSUM 身份证号校验位错误\n身份证号校验位错误，应为4\n当前值：610922201005031235\n建议值：610922201005031234"
        );
        let t = note_text(&finding(Code::DROPOUT, None));
        assert!(t.starts_with("【提示】DROPOUT 失学辍学\n"));
        assert!(!t.contains("建议值"));
    }
}
