//! Container sniffing: what a file really is, by extension AND content.
//!
//! Content wins over the extension: a zip is an xlsx/xlsm/ods whatever it
//! is called, a CFB container is an xls (or a password-protected xlsx), and
//! text is csv only when the extension says csv. Files that are no workbook
//! at all (HTML or SpreadsheetML 2003 saved as .xls, Word documents, garbage,
//! truncated zips) get a plain-Chinese error that says what they are and how
//! to re-save them.

use super::{ReadError, file_label, read_failed};
use crate::model::Format;
use std::io::Read;
use std::path::Path;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// How to re-save a file as a real workbook, for error messages.
pub(crate) const RESAVE_HINT: &str = "请用 Excel 或 WPS 打开它，点“文件 → 另存为”，保存类型选“Excel 工作簿(*.xlsx)”，再使用另存后的文件";

fn ext_of(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Read the whole file (inputs are small enough), read-only.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut f = open_file(path)?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).map_err(|e| read_failed(path, &e))?;
    Ok(buf)
}

/// The file at `path` opened for reading; a folder or a file that cannot be
/// opened is an error saying so in Chinese.
pub(crate) fn open_file(path: &Path) -> Result<std::fs::File, ReadError> {
    let name = file_label(path);
    let f = std::fs::File::open(path).map_err(|e| {
        let msg = match e.kind() {
            std::io::ErrorKind::NotFound => format!("找不到文件「{name}」，请检查文件名和路径"),
            std::io::ErrorKind::PermissionDenied => {
                format!("没有权限读取文件「{name}」（可能正被其他程序占用）")
            }
            _ => format!("无法打开文件「{name}」：{e}"),
        };
        ReadError::input(path, msg)
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(ReadError::input(
            path,
            format!("「{name}」是一个文件夹，不是工作簿文件"),
        ));
    }
    Ok(f)
}

/// Whether `head`, the first bytes of `path`, tell it is csv text, as
/// [`sniff`] of the whole file would say (text is told by its first 64 KiB;
/// a zip or a compound file is not text).
pub(crate) fn is_csv_text(path: &Path, head: &[u8]) -> bool {
    !(head.starts_with(ZIP_MAGIC)
        || head.starts_with(ZIP_EMPTY_MAGIC)
        || head.starts_with(CFB_MAGIC))
        && matches!(sniff(path, head), Ok(Format::Csv))
}

/// Recognise the format of `path` by extension and content.
pub(crate) fn sniff(path: &Path, bytes: &[u8]) -> Result<Format, ReadError> {
    let name = file_label(path);
    let ext = ext_of(path);
    if name.starts_with("~$") {
        return Err(ReadError::NotInput {
            path: path.to_path_buf(),
            message: format!(
                "「{name}」是 Excel/WPS 打开文件时生成的临时锁文件，不是数据表，已忽略"
            ),
        });
    }
    if bytes.is_empty() {
        return Err(ReadError::input(
            path,
            format!("文件「{name}」是空的（0 字节），没有任何内容"),
        ));
    }
    if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY_MAGIC) {
        return sniff_zip(path, bytes, &ext);
    }
    if bytes.starts_with(CFB_MAGIC) {
        if contains_utf16(bytes, "EncryptedPackage") || contains_utf16(bytes, "EncryptionInfo") {
            return Err(ReadError::input(
                path,
                format!(
                    "「{name}」设置了打开密码，无法读取。请在 Excel 或 WPS 中打开它，去掉密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx 再使用"
                ),
            ));
        }
        if contains_utf16(bytes, "WordDocument") {
            return Err(ReadError::input(
                path,
                format!("「{name}」是 Word 文档，不是 Excel 工作簿"),
            ));
        }
        return Ok(Format::Xls);
    }
    // Text-like content.
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let looks_text = !head.contains(&0) || head.starts_with(&[0xFF, 0xFE]);
    if looks_text && (trimmed.starts_with('<') || trimmed.starts_with("mime-version")) {
        if text.contains("urn:schemas-microsoft-com:office:spreadsheet")
            || text.contains("<workbook")
            || text.contains("<ss:workbook")
        {
            // SpreadsheetML 2003 ("XML 表格"): read as it is.
            return Ok(Format::Xml);
        }
        if text.contains("<html")
            || text.contains("<!doctype")
            || text.contains("<table")
            || text.starts_with("mime-version")
        {
            return Err(ReadError::input(
                path,
                format!(
                    "「{name}」其实是网页（HTML）格式，只是扩展名写成了表格（常见于从网上系统导出的“Excel”），不是真正的 Excel 工作簿。{RESAVE_HINT}"
                ),
            ));
        }
    }
    match ext.as_str() {
        "csv" | "txt" if looks_text => Ok(Format::Csv),
        // Tab-separated text saved under a workbook name (what many web
        // systems call an "Excel export"): read as a text table.
        "xls" | "xlsx" | "et" if is_tab_text(bytes) => Ok(Format::Csv),
        "csv" | "txt" => Err(ReadError::input(
            path,
            format!("「{name}」的扩展名是 .{ext}，但内容不是文本，无法按 CSV 读取"),
        )),
        "xlsx" | "xlsm" | "xls" | "ods" | "et" => Err(ReadError::input(
            path,
            format!(
                "「{name}」不是有效的工作簿：扩展名是 .{ext}，但文件内容不是 Excel/WPS/ODS 表格（可能已损坏，或被改了扩展名）"
            ),
        )),
        _ => Err(ReadError::input(
            path,
            format!("「{name}」不是支持的文件类型（支持 .xlsx、.xlsm、.xls、.ods、.csv）"),
        )),
    }
}

/// Text (UTF-8, GBK or UTF-16) whose first non-empty line has a tab:
/// a tab-separated table.
fn is_tab_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 && head.contains(&0) {
        return false;
    }
    let text = super::csv::decode(head);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.contains('\t'))
}

fn sniff_zip(path: &Path, bytes: &[u8], ext: &str) -> Result<Format, ReadError> {
    let name = file_label(path);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| {
        ReadError::input(
            path,
            format!(
                "「{name}」已损坏：文件不完整（压缩包被截断或损坏），无法打开。请重新复制原文件，或在 Excel/WPS 中打开后重新保存"
            ),
        )
    })?;
    check_inflated_sizes(path, &mut zip)?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|s| s.ok().map(|s| s.into_owned()))
        .collect();
    let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if has("mimetype") {
        let mut mime = String::new();
        if let Ok(mut f) = zip.by_name("mimetype") {
            let _ = f.read_to_string(&mut mime);
        }
        if mime.contains("opendocument.spreadsheet") {
            return Ok(Format::Ods);
        }
        return Err(ReadError::input(
            path,
            format!(
                "「{name}」是 OpenDocument 文件，但不是电子表格（{})",
                mime.trim()
            ),
        ));
    }
    if has("xl/workbook.xml") {
        let macro_enabled = ext == "xlsm" || has("xl/vbaProject.bin");
        return Ok(if macro_enabled {
            Format::Xlsm
        } else {
            Format::Xlsx
        });
    }
    if has("xl/workbook.bin") {
        return Err(ReadError::input(
            path,
            format!("「{name}」是 Excel 二进制工作簿（.xlsb），暂不支持。{RESAVE_HINT}"),
        ));
    }
    if has("word/document.xml") {
        return Err(ReadError::input(
            path,
            format!("「{name}」是 Word 文档，不是 Excel 工作簿"),
        ));
    }
    Err(ReadError::input(
        path,
        format!("「{name}」是一个压缩包，但里面不是 Excel 工作簿，无法读取"),
    ))
}

/// Largest uncompressed size of one zip entry (a sheet's XML) that is read.
/// A full 1,048,576-row sheet of 20 short columns is about 0.8 GiB of XML.
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Largest uncompressed size of all entries together.
pub const MAX_TOTAL_BYTES: u64 = 2 << 30;
/// Entries larger than [`RATIO_FLOOR_BYTES`] may inflate at most this many
/// times their compressed size (real sheet XML compresses 5–30 times).
pub const MAX_RATIO: u64 = 100;
/// Below this uncompressed size the ratio is not checked (tiny parts such as
/// an empty sheet compress extremely well and are harmless).
pub const RATIO_FLOOR_BYTES: u64 = 64 << 20;

fn mib(n: u64) -> String {
    format!("{} MB", n >> 20)
}

/// Decompression-bomb guard, from the central directory only: nothing is
/// inflated here. The zip reader caps every entry's output at the size
/// declared in the central directory, so a declaration that lies small
/// cannot inflate past it either.
fn check_inflated_sizes<R: std::io::Read + std::io::Seek>(
    path: &Path,
    zip: &mut zip::ZipArchive<R>,
) -> Result<(), ReadError> {
    let name = file_label(path);
    let refuse = |what: String| {
        ReadError::input(
            path,
            format!(
                "「{name}」解压后过大，疑似“压缩炸弹”或已损坏，已拒绝读取（未解压）：{what}。\
                 taizhang 的上限是：单个部件解压后不超过 {}，全部合计不超过 {}，\
                 大于 {} 的部件压缩比不超过 {MAX_RATIO} 倍。\
                 如果这确实是正常的表格，请在 Excel 或 WPS 中删去多余的空行空列后另存为 .xlsx 再试",
                mib(MAX_ENTRY_BYTES),
                mib(MAX_TOTAL_BYTES),
                mib(RATIO_FLOOR_BYTES),
            ),
        )
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(f) = zip.by_index_raw(i) else {
            continue;
        };
        let (size, packed) = (f.size(), f.compressed_size());
        let part = f.name().map(|s| s.into_owned()).unwrap_or_default();
        total = total.saturating_add(size);
        if size > MAX_ENTRY_BYTES {
            return Err(refuse(format!("部件 {part} 解压后有 {}", mib(size))));
        }
        if size > RATIO_FLOOR_BYTES && size / packed.max(1) > MAX_RATIO {
            return Err(refuse(format!(
                "部件 {part} 压缩后 {} 字节，解压后 {}，压缩比 {} 倍",
                packed,
                mib(size),
                size / packed.max(1)
            )));
        }
        if total > MAX_TOTAL_BYTES {
            return Err(refuse(format!("全部部件解压后超过 {}", mib(total))));
        }
    }
    Ok(())
}

fn contains_utf16(hay: &[u8], needle: &str) -> bool {
    let n: Vec<u8> = needle
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    hay.windows(n.len()).any(|w| w == n.as_slice())
}
