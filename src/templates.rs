//! The official annex workbooks (附件1–3 and the warning list) in their canonical layouts.
//!
//! In: an [`Annex`] and its [`AnnexData`] (township, school year, the
//! 填报单位/填报日期 line, the villages for the 村 dropdown and the data rows
//! in canonical column order). Out: xlsx bytes with the annex label in A1, a
//! merged title, the 填报单位 line, a two-row merged header, text-formatted
//! ID cells, dropdown lists, frozen header rows and an A4 landscape print
//! setup. The blank templates that `taizhang template` writes are the same
//! builder run on empty data; they are committed in `templates/` and embedded
//! in the binary, and a test keeps the two byte-identical.
//!
//! Guarantee: the same input gives the same bytes (the document creation
//! date is fixed and rust_xlsxwriter stamps zip entries with a fixed time).

use crate::model::{Field, Status};
use rust_xlsxwriter::{
    Color, DataValidation, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Formula, Workbook, Worksheet, XlsxError,
};
use std::path::{Path, PathBuf};

mod stream;

/// One of the four workbooks of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Annex {
    /// 附件1 摸底调查表
    Survey,
    /// 附件2 学龄人口台账
    Ledger,
    /// 附件3 台账统计表
    Stats,
    /// 筛查预警清单
    Warning,
}

/// One header column: the field, the group label of the upper header row
/// (None: the label is merged over both header rows) and the label itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderCol {
    pub field: Field,
    pub group: Option<&'static str>,
    pub label: &'static str,
}

/// Blank data rows pre-formatted in a template (survey, ledger, warning list).
pub const TEMPLATE_ROWS: u32 = 1000;
/// Of those, the first rows drawn with borders: a printed blank form shows
/// one page of empty ruled rows to fill by hand. The rows below keep only
/// the text format of the ID and phone columns (and the dropdowns), so they
/// print nothing until filled.
pub const BORDERED_TEMPLATE_ROWS: u32 = 30;
/// Blank village rows in a statistics template without villages.
pub const STATS_TEMPLATE_ROWS: u32 = 20;

const GROUP_HOUSEHOLD: &str = "家庭情况";
const GROUP_CHILD: &str = "儿童基本信息";
const GROUP_SCHOOLING: &str = "就读情况";
const GROUP_WARNING: &str = "预警情况";
const GROUP_RETURN: &str = "劝返情况";
const GROUP_IN_SCHOOL: &str = "在校人数";
const GROUP_NOT_DROPOUT: &str = "未在校但不属于失学辍学";

impl Annex {
    pub const ALL: [Annex; 4] = [Annex::Survey, Annex::Ledger, Annex::Stats, Annex::Warning];

    /// The template's file name in `templates/` and in an output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Annex::Survey => "附件1_摸底调查表.xlsx",
            Annex::Ledger => "附件2_学龄人口台账.xlsx",
            Annex::Stats => "附件3_台账统计表.xlsx",
            Annex::Warning => "筛查预警清单.xlsx",
        }
    }

    /// The annex label written in A1 (none for the warning list).
    pub fn label(self) -> Option<&'static str> {
        match self {
            Annex::Survey => Some("附件1"),
            Annex::Ledger => Some("附件2"),
            Annex::Stats => Some("附件3"),
            Annex::Warning => None,
        }
    }

    /// The worksheet name.
    pub fn sheet_name(self) -> &'static str {
        match self {
            Annex::Survey => "摸底调查表",
            Annex::Ledger => "学龄人口台账",
            Annex::Stats => "台账统计表",
            Annex::Warning => "筛查预警清单",
        }
    }

    /// The merged title. Without a township (or with `school_year` ≤ 0) the
    /// blank is left for the clerk: "____镇（乡）____年…".
    pub fn title(self, township: Option<&str>, school_year: i32) -> String {
        let t = township
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or("____镇（乡）");
        let y = if school_year > 0 {
            school_year.to_string()
        } else {
            "____".to_string()
        };
        match self {
            Annex::Survey => format!("{t}{y}年农村义务教育阶段学龄人口摸底调查表"),
            Annex::Ledger => format!("{t}{y}年农村义务教育阶段学龄人口台账"),
            Annex::Stats => format!("{t}{y}年农村义务教育阶段学龄人口台账统计表"),
            Annex::Warning => format!("{t}{y}年义务教育控辍保学筛查预警清单"),
        }
    }

    /// The header in canonical column order, with its two-row grouping.
    pub fn header(self) -> Vec<HeaderCol> {
        use Field::*;
        let plain = |f: Field| HeaderCol {
            field: f,
            group: None,
            label: f.label_zh(),
        };
        let grouped = |g: &'static str, f: Field| HeaderCol {
            field: f,
            group: Some(g),
            label: f.label_zh(),
        };
        let household = [Village, Group, HouseholdHead, HouseholdType];
        let child = [Name, Sex, Id, Birthdate];
        let schooling = [Status, School, Grade, Reason, Evidence];
        let mut h = Vec::new();
        match self {
            Annex::Survey => {
                h.push(plain(Seq));
                h.extend(household.map(|f| grouped(GROUP_HOUSEHOLD, f)));
                h.extend(child.map(|f| grouped(GROUP_CHILD, f)));
                h.extend(schooling.map(|f| grouped(GROUP_SCHOOLING, f)));
                h.extend([Guardian, Phone, Surveyor, Remark].map(plain));
            }
            Annex::Ledger => {
                h.extend([Seq, Township].map(plain));
                h.extend(household.map(|f| grouped(GROUP_HOUSEHOLD, f)));
                h.extend(child.map(|f| grouped(GROUP_CHILD, f)));
                h.extend(schooling.map(|f| grouped(GROUP_SCHOOLING, f)));
                // The ledger's checker is the 核实人 (a synonym of 调查人).
                h.push(HeaderCol {
                    field: Surveyor,
                    group: None,
                    label: "核实人",
                });
                h.push(plain(Remark));
            }
            Annex::Stats => {
                h.extend([Seq, Village, StatTotal].map(plain));
                h.push(HeaderCol {
                    field: StatInSchoolLocal,
                    group: Some(GROUP_IN_SCHOOL),
                    label: "本县",
                });
                h.push(HeaderCol {
                    field: StatInSchoolOut,
                    group: Some(GROUP_IN_SCHOOL),
                    label: "县外",
                });
                h.push(plain(StatInclusive));
                h.extend(
                    [
                        StatHomeTeaching,
                        StatDeferred,
                        StatSuspended,
                        StatLongLeave,
                        StatGraduated,
                        StatDead,
                        StatMissing,
                        StatAbroad,
                    ]
                    .map(|f| grouped(GROUP_NOT_DROPOUT, f)),
                );
                h.extend([StatDropout, Remark].map(plain));
            }
            Annex::Warning => {
                h.extend([Seq, Township, Village].map(plain));
                h.extend(
                    [Name, Sex, Id, Birthdate, HouseholdType].map(|f| grouped(GROUP_CHILD, f)),
                );
                h.extend([WarningType, Status, Reason].map(|f| grouped(GROUP_WARNING, f)));
                h.extend([Measures, Responsible, CheckResult].map(|f| grouped(GROUP_RETURN, f)));
            }
        }
        h
    }

    /// Canonical column order (for Stats: Seq, Village, the
    /// [`Field::STAT_COUNTS`], Remark).
    pub fn columns(self) -> Vec<Field> {
        self.header().into_iter().map(|c| c.field).collect()
    }

    /// 0-based row of the title.
    fn title_row(self) -> u32 {
        if self.label().is_some() { 1 } else { 0 }
    }

    /// 1-based Excel rows of the two header rows (upper, lower). The lower
    /// one is the header row proper.
    pub fn header_rows(self) -> (u32, u32) {
        let upper = self.title_row() + 2 + 1;
        (upper, upper + 1)
    }

    /// 1-based Excel row of the first data row.
    pub fn first_data_row(self) -> u32 {
        self.header_rows().1 + 1
    }

    /// [`Annex::header_rows`] of a workbook written with `data`: a draft
    /// line under the title pushes everything below it down one row.
    pub fn header_rows_of(self, data: &AnnexData) -> (u32, u32) {
        let (a, b) = self.header_rows();
        let d = data.draft.is_some() as u32;
        (a + d, b + d)
    }

    /// [`Annex::first_data_row`] of a workbook written with `data`.
    pub fn first_data_row_of(self, data: &AnnexData) -> u32 {
        self.header_rows_of(data).1 + 1
    }
}

/// A value to write into a data cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TCell {
    Empty,
    /// Text; IDs are always text.
    Text(String),
    Int(i64),
}

impl From<&str> for TCell {
    fn from(s: &str) -> TCell {
        if s.is_empty() {
            TCell::Empty
        } else {
            TCell::Text(s.to_string())
        }
    }
}

/// What goes into an annex workbook.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnnexData {
    pub township: Option<String>,
    /// ≤ 0 leaves the year blank in the title.
    pub school_year: i32,
    /// 填报单位
    pub unit: String,
    /// 填报日期 (may be empty)
    pub date: String,
    /// Choices of the 村 dropdown (none when empty).
    pub villages: Vec<String>,
    /// Data rows in [`Annex::columns`] order. For Stats: one row per
    /// village, without the 合计 row (it is appended, with SUM formulas).
    pub rows: Vec<Vec<TCell>>,
    /// A line written under the title (e.g. "草稿：尚有 3 个错误未改正"),
    /// pushing the rest down one row; None for a final annex.
    pub draft: Option<String>,
    /// Stats: the 备注 of the 合计 row.
    pub total_remark: String,
}

impl AnnexData {
    /// The data of a blank template.
    pub fn blank() -> AnnexData {
        AnnexData::default()
    }
}

fn col_width(f: Field) -> f64 {
    use Field::*;
    match f {
        Seq => 5.0,
        Sex => 5.0,
        Group => 6.0,
        Grade => 7.0,
        Id => 21.0,
        Birthdate => 11.0,
        Village | Township | HouseholdType | Status => 11.0,
        Name | HouseholdHead | Guardian | Surveyor | Responsible => 9.0,
        School => 18.0,
        Reason | Evidence | WarningType | CheckResult => 14.0,
        Measures => 20.0,
        Phone => 13.0,
        Remark => 10.0,
        StatTotal => 8.0,
        f if Field::STAT_COUNTS.contains(&f) => 7.0,
        _ => 10.0,
    }
}

struct Formats {
    label: Format,
    title: Format,
    info_left: Format,
    info_right: Format,
    header: Format,
    text: Format,
    /// Text format without borders (blank template rows below the ruled ones).
    text_plain: Format,
    id: Format,
    center: Format,
    int: Format,
    total: Format,
    draft: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new().set_font_name("宋体").set_font_size(10);
        let cell = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        Formats {
            label: Format::new()
                .set_font_name("黑体")
                .set_font_size(12)
                .set_bold(),
            title: Format::new()
                .set_font_name("宋体")
                .set_font_size(18)
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            info_left: base.clone().set_font_size(11),
            info_right: base.clone().set_font_size(11).set_align(FormatAlign::Right),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xD9D9D9)),
            text: cell.clone().set_num_format("@"),
            text_plain: base.clone().set_num_format("@"),
            id: cell
                .clone()
                .set_num_format("@")
                .set_align(FormatAlign::Center),
            center: cell.clone().set_align(FormatAlign::Center),
            int: cell
                .clone()
                .set_align(FormatAlign::Center)
                .set_num_format("0"),
            total: cell.set_bold().set_align(FormatAlign::Center),
            draft: Format::new()
                .set_font_name("黑体")
                .set_font_size(14)
                .set_bold()
                .set_font_color(Color::RGB(0xC00000))
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
        }
    }
}

/// Text-formatted columns: IDs and phone numbers must never become numbers.
fn is_text_col(f: Field) -> bool {
    matches!(
        f,
        Field::Id | Field::Phone | Field::HouseholdNo | Field::PersonNo
    )
}

fn is_centered(f: Field) -> bool {
    matches!(
        f,
        Field::Seq | Field::Sex | Field::Group | Field::Grade | Field::Birthdate
    )
}

/// Build one annex workbook. An empty `rows` gives the blank form:
/// [`TEMPLATE_ROWS`] pre-formatted rows, the first [`BORDERED_TEMPLATE_ROWS`]
/// ruled (Stats: one row per village, or
/// [`STATS_TEMPLATE_ROWS`] blank ones, and the 合计 row).
///
/// # Errors
/// Only rust_xlsxwriter's own (a text cell longer than 32,767 characters,
/// a temporary file that cannot be created).
pub fn build_annex(annex: Annex, data: &AnnexData) -> Result<Vec<u8>, XlsxError> {
    catch_write_panic(|| {
        let mut wb = workbook_of(annex, data, data.rows.iter(), None)?;
        wb.save_to_buffer()
    })
}

/// Run `f`, turning a panic inside it into an error (see [`crate::guard`]).
/// rust_xlsxwriter 0.102's constant-memory worksheets panic (`expect`)
/// instead of returning an error when their temporary file cannot be
/// written, e.g. on a full disk; the clerk must get a plain message, not a
/// crash.
pub(crate) fn catch_write_panic<T>(
    f: impl FnOnce() -> Result<T, XlsxError>,
) -> Result<T, XlsxError> {
    crate::guard::catch(f).unwrap_or_else(|| {
        Err(XlsxError::IoError(std::io::Error::other(
            "临时文件写入失败（磁盘空间不足或文件大小受限）",
        )))
    })
}

/// Write one annex workbook to `path`, its data rows taken one by one from
/// `rows` (`data.rows` is not read, except by Stats, whose rows are few),
/// so the caller need not build them all first. The same workbook as
/// [`build_annex`] with `rows` as `data.rows` (the same members; the zip
/// around them may differ). The rows after the first go straight into the
/// worksheet's XML (see `stream`): memory stays flat at a million rows.
///
/// # Errors
/// As [`build_annex`], more rows than a worksheet holds, and the file
/// cannot be written.
pub fn save_annex<I>(annex: Annex, data: &AnnexData, rows: I, path: &Path) -> Result<(), XlsxError>
where
    I: IntoIterator,
    I::IntoIter: ExactSizeIterator,
    I::Item: AsRef<[TCell]>,
{
    catch_write_panic(|| {
        let mut rows = rows.into_iter();
        let n = rows.len();
        let first_row = annex.first_data_row_of(data);
        if annex == Annex::Stats || n == 0 {
            let mut wb = workbook_of(annex, data, rows, None)?;
            return wb.save(path);
        }
        let n = u32::try_from(n).map_err(|_| XlsxError::RowColumnLimitError)?;
        if u64::from(first_row) + u64::from(n) - 1 > 1_048_576 {
            return Err(XlsxError::RowColumnLimitError);
        }
        let first: Vec<TCell> = rows.next().map(|r| r.as_ref().to_vec()).unwrap_or_default();
        let mut wb = workbook_of(annex, data, std::iter::once(&first), Some(n))?;
        let layout = stream::Layout {
            first_row,
            rows: n,
            cols: annex.header().len() as u16,
        };
        stream::save_with_rows(&mut wb, &layout, &first, rows, path)
    })
}

/// The workbook of an annex. A blank form (and Stats, small by nature) is
/// built in memory, exactly as committed in `templates/`; data rows are
/// streamed through a constant-memory worksheet (inline strings, rows in
/// order; memory stays flat at a million rows) and compressed at zip level
/// 1: several times faster than the default level 6 for a somewhat larger
/// file. Call it inside [`catch_write_panic`].
///
/// `total`: the number of data rows the workbook will have when only the
/// first is in `rows` (the dropdowns cover them all).
fn workbook_of<I>(
    annex: Annex,
    data: &AnnexData,
    rows: I,
    total: Option<u32>,
) -> Result<Workbook, XlsxError>
where
    I: Iterator,
    I::Item: AsRef<[TCell]>,
{
    let mut rows = rows.peekable();
    let streamed = annex != Annex::Stats && rows.peek().is_some();
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_title(annex.title(data.township.as_deref(), data.school_year))
        .set_author("taizhang")
        .set_creation_datetime(&ExcelDateTime::from_ymd(2022, 10, 8)?);
    wb.set_properties(&props);
    let ws = if streamed {
        wb.set_zip_compression_level(stream::ZIP_LEVEL as u8);
        wb.add_worksheet_with_constant_memory()?
    } else {
        wb.add_worksheet()
    };
    ws.set_name(annex.sheet_name())?;
    write_sheet(ws, annex, data, rows, streamed, total)?;
    Ok(wb)
}

/// `streamed`: the worksheet is in constant-memory mode, so every row is
/// finished before the next one is written to.
fn write_sheet<I>(
    ws: &mut Worksheet,
    annex: Annex,
    data: &AnnexData,
    rows: std::iter::Peekable<I>,
    streamed: bool,
    total: Option<u32>,
) -> Result<(), XlsxError>
where
    I: Iterator,
    I::Item: AsRef<[TCell]>,
{
    let fm = Formats::new();
    let header = annex.header();
    let ncols = header.len() as u16;
    let last_col = ncols - 1;

    if let Some(label) = annex.label() {
        ws.write_string_with_format(0, 0, label, &fm.label)?;
    }
    let title_row = annex.title_row();
    let title = annex.title(data.township.as_deref(), data.school_year);
    ws.merge_range(title_row, 0, title_row, last_col, &title, &fm.title)?;
    ws.set_row_height(title_row, 36)?;

    // The draft line, while the round still has errors.
    let mut info_row = title_row + 1;
    if let Some(d) = data.draft.as_deref() {
        ws.merge_range(info_row, 0, info_row, last_col, d, &fm.draft)?;
        ws.set_row_height(info_row, 24)?;
        info_row += 1;
    }

    // 填报单位 / 填报日期 line.
    let unit = if data.unit.trim().is_empty() {
        "填报单位（盖章）：".to_string()
    } else {
        format!("填报单位：{}", data.unit.trim())
    };
    let date = if data.date.trim().is_empty() {
        "填报日期：      年    月    日".to_string()
    } else {
        format!("填报日期：{}", data.date.trim())
    };
    let mid = (ncols / 2).max(1);
    ws.merge_range(info_row, 0, info_row, mid - 1, &unit, &fm.info_left)?;
    ws.merge_range(info_row, mid, info_row, last_col, &date, &fm.info_right)?;
    ws.set_row_height(info_row, 22)?;

    // Two-row header: groups merged across, single columns merged down.
    let (h1, h2) = annex.header_rows_of(data);
    let (h1, h2) = (h1 - 1, h2 - 1);
    ws.set_row_height(h1, 22)?;
    ws.set_row_height(h2, if annex == Annex::Stats { 44 } else { 30 })?;
    // Streamed: the upper row first (merges down write ahead), then the
    // lower one. In memory: column by column, as the committed templates were
    // built (the order of the shared strings follows the order of writing).
    for pass in if streamed { vec![0, 1] } else { vec![2] } {
        let (upper, lower) = (pass != 1, pass != 0);
        let mut c = 0usize;
        while c < header.len() {
            let col = c as u16;
            match header[c].group {
                None => {
                    if upper {
                        ws.merge_range(h1, col, h2, col, header[c].label, &fm.header)?;
                    }
                    c += 1;
                }
                Some(g) => {
                    let mut end = c;
                    while end + 1 < header.len() && header[end + 1].group == Some(g) {
                        end += 1;
                    }
                    if upper {
                        if end > c {
                            ws.merge_range(h1, col, h1, end as u16, g, &fm.header)?;
                        } else {
                            ws.write_string_with_format(h1, col, g, &fm.header)?;
                        }
                    }
                    if lower {
                        for (k, hc) in header.iter().enumerate().take(end + 1).skip(c) {
                            ws.write_string_with_format(h2, k as u16, hc.label, &fm.header)?;
                        }
                    }
                    c = end + 1;
                }
            }
        }
    }
    for (k, hc) in header.iter().enumerate() {
        ws.set_column_width(k as u16, col_width(hc.field))?;
    }

    // Data area.
    let first = h2 + 1;
    let data_rows: u32 = if annex == Annex::Stats {
        write_stats_rows(ws, &header, data, first, &fm)?
    } else {
        let mut rows = rows;
        if rows.peek().is_none() {
            for r in 0..BORDERED_TEMPLATE_ROWS {
                for (k, hc) in header.iter().enumerate() {
                    write_cell(ws, first + r, k as u16, hc.field, &TCell::Empty, &fm)?;
                }
            }
            for r in BORDERED_TEMPLATE_ROWS..TEMPLATE_ROWS {
                for (k, hc) in header.iter().enumerate() {
                    if is_text_col(hc.field) {
                        ws.write_blank(first + r, k as u16, &fm.text_plain)?;
                    }
                }
            }
            TEMPLATE_ROWS
        } else {
            let mut n = 0u32;
            for row in rows {
                let cells = row.as_ref();
                for (k, hc) in header.iter().enumerate() {
                    let v = cells.get(k).unwrap_or(&TCell::Empty);
                    write_cell(ws, first + n, k as u16, hc.field, v, &fm)?;
                }
                n += 1;
            }
            n
        }
    };
    let last = first + total.unwrap_or(data_rows).max(1) - 1;

    // Dropdowns and input help.
    let col_of = |f: Field| header.iter().position(|h| h.field == f).map(|p| p as u16);
    if let Some(c) = col_of(Field::Status) {
        let labels: Vec<&str> = Status::ALL.iter().map(|s| s.label_zh()).collect();
        let dv = DataValidation::new()
            .allow_list_strings(&labels)?
            .set_error_title("就读状态")?
            .set_error_message("请从下拉列表中选择就读状态。")?;
        ws.add_data_validation(first, c, last, c, &dv)?;
    }
    if let Some(c) = col_of(Field::Sex) {
        let dv = DataValidation::new().allow_list_strings(&["男", "女"])?;
        ws.add_data_validation(first, c, last, c, &dv)?;
    }
    if let (Some(c), false) = (col_of(Field::Village), data.villages.is_empty())
        && annex != Annex::Stats
    {
        // Excel allows 255 characters in a literal list; a longer list is
        // left without a dropdown rather than failing the whole workbook.
        if let Ok(dv) = DataValidation::new().allow_list_strings(&data.villages) {
            let dv = dv
                .set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Warning)
                .set_error_title("村（社区）")?
                .set_error_message("该村（社区）不在本镇名单中，请核对。")?;
            ws.add_data_validation(first, c, last, c, &dv)?;
        }
    }
    if let Some(c) = col_of(Field::Id) {
        let dv = DataValidation::new()
            .allow_any_value()
            .set_input_title("身份证号码")?
            .set_input_message("18位，末位可为X。本列为文本格式，请勿改成数字格式。")?;
        ws.add_data_validation(first, c, last, c, &dv)?;
    }

    // View and print.
    ws.set_freeze_panes(first, 0)?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(title_row, h2)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    field: Field,
    v: &TCell,
    fm: &Formats,
) -> Result<(), XlsxError> {
    let f = if field == Field::Id {
        &fm.id
    } else if is_text_col(field) {
        &fm.text
    } else if is_centered(field) {
        &fm.center
    } else {
        &fm.text
    };
    match v {
        TCell::Empty => {
            ws.write_blank(row, col, f)?;
        }
        TCell::Text(s) => {
            ws.write_string_with_format(row, col, s, f)?;
        }
        TCell::Int(n) => {
            ws.write_number_with_format(row, col, *n as f64, &fm.int)?;
        }
    }
    Ok(())
}

/// Stats village rows and the 合计 row; returns the number of rows written.
fn write_stats_rows(
    ws: &mut Worksheet,
    header: &[HeaderCol],
    data: &AnnexData,
    first: u32,
    fm: &Formats,
) -> Result<u32, XlsxError> {
    let rows: Vec<Vec<TCell>> = if !data.rows.is_empty() {
        data.rows.clone()
    } else if !data.villages.is_empty() {
        data.villages
            .iter()
            .enumerate()
            .map(|(i, v)| vec![TCell::Int(i as i64 + 1), TCell::Text(v.clone())])
            .collect()
    } else {
        vec![Vec::new(); STATS_TEMPLATE_ROWS as usize]
    };
    let n = rows.len() as u32;
    let mut sums = vec![0i64; header.len()];
    for (r, cells) in rows.iter().enumerate() {
        for (k, hc) in header.iter().enumerate() {
            let v = cells.get(k).unwrap_or(&TCell::Empty);
            if let TCell::Int(x) = v {
                sums[k] += x;
            }
            let v = match (hc.field, v) {
                // counts are centred numbers, text or not
                (f, TCell::Empty) if Field::STAT_COUNTS.contains(&f) => TCell::Empty,
                _ => v.clone(),
            };
            let f = if Field::STAT_COUNTS.contains(&hc.field) || hc.field == Field::Seq {
                if let TCell::Text(s) = &v {
                    ws.write_string_with_format(first + r as u32, k as u16, s, &fm.center)?;
                    continue;
                }
                Field::Seq
            } else {
                hc.field
            };
            write_cell(ws, first + r as u32, k as u16, f, &v, fm)?;
        }
    }
    let total = first + n;
    for (k, hc) in header.iter().enumerate() {
        let col = k as u16;
        match hc.field {
            Field::Village => {
                ws.write_string_with_format(total, col, "合计", &fm.total)?;
            }
            Field::Remark if !data.total_remark.is_empty() => {
                ws.write_string_with_format(total, col, &data.total_remark, &fm.total)?;
            }
            f if Field::STAT_COUNTS.contains(&f) => {
                let letter = crate::model::col_letter(k as u32 + 1);
                let formula =
                    Formula::new(format!("=SUM({letter}{}:{letter}{})", first + 1, first + n))
                        .set_result(sums[k].to_string());
                ws.write_formula_with_format(total, col, formula, &fm.total)?;
            }
            _ => {
                ws.write_blank(total, col, &fm.total)?;
            }
        }
    }
    Ok(n + 1)
}

/// The committed blank template of an annex, embedded in the binary.
pub fn embedded(annex: Annex) -> &'static [u8] {
    match annex {
        Annex::Survey => include_bytes!("../templates/附件1_摸底调查表.xlsx"),
        Annex::Ledger => include_bytes!("../templates/附件2_学龄人口台账.xlsx"),
        Annex::Stats => include_bytes!("../templates/附件3_台账统计表.xlsx"),
        Annex::Warning => include_bytes!("../templates/筛查预警清单.xlsx"),
    }
}

/// `taizhang template`: write the four blank workbooks into `dir` (created
/// if missing) and return their paths.
pub fn write_templates(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for a in Annex::ALL {
        let p = dir.join(a.file_name());
        std::fs::write(&p, embedded(a))?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn open(bytes: Vec<u8>) -> (calamine::Range<Data>, Vec<calamine::Dimensions>) {
        let mut wb = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
        let name = wb.sheet_names()[0].clone();
        let merged = wb.merge_cells_by_sheet_name(&name).expect("merged");
        (wb.worksheet_range(&name).expect("range"), merged)
    }

    fn text(r: &calamine::Range<Data>, row: u32, col: u32) -> String {
        r.get_value((row, col))
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    #[test]
    /// With `TAIZHANG_WRITE_FIXTURES=1` the blank builds are first written
    /// into templates/ (how the committed files are regenerated).
    fn committed_templates_are_the_blank_build() {
        let regenerate = std::env::var_os("TAIZHANG_WRITE_FIXTURES").is_some();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for a in Annex::ALL {
            let built = build_annex(a, &AnnexData::blank()).unwrap();
            if regenerate {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(a.file_name()), &built).unwrap();
                continue;
            }
            assert!(
                built == embedded(a),
                "templates/{} is stale: run TAIZHANG_WRITE_FIXTURES=1 cargo test --lib committed_templates",
                a.file_name()
            );
        }
    }

    #[test]
    fn building_twice_gives_identical_bytes() {
        let d = AnnexData {
            township: Some("熨斗镇".into()),
            school_year: 2022,
            unit: "熨斗初级中学".into(),
            date: "2022年10月17日".into(),
            villages: vec!["金星村".into(), "双坪村".into()],
            rows: vec![],
            ..Default::default()
        };
        assert_eq!(
            build_annex(Annex::Survey, &d).unwrap(),
            build_annex(Annex::Survey, &d).unwrap()
        );
    }

    #[test]
    fn titles() {
        assert_eq!(
            Annex::Ledger.title(Some("熨斗镇"), 2022),
            "熨斗镇2022年农村义务教育阶段学龄人口台账"
        );
        assert_eq!(
            Annex::Stats.title(None, 0),
            "____镇（乡）____年农村义务教育阶段学龄人口台账统计表"
        );
    }

    #[test]
    fn columns_follow_the_spec_tables() {
        let labels = |a: Annex| -> Vec<&str> { a.header().iter().map(|h| h.label).collect() };
        assert_eq!(
            labels(Annex::Survey),
            [
                "序号",
                "村（社区）",
                "组",
                "户主姓名",
                "户类型",
                "姓名",
                "性别",
                "身份证号码",
                "出生日期",
                "就读状态",
                "就读学校",
                "年级",
                "未在校原因",
                "佐证材料",
                "监护人",
                "联系电话",
                "调查人",
                "备注"
            ]
        );
        assert_eq!(
            labels(Annex::Ledger),
            [
                "序号",
                "乡镇",
                "村（社区）",
                "组",
                "户主姓名",
                "户类型",
                "姓名",
                "性别",
                "身份证号码",
                "出生日期",
                "就读状态",
                "就读学校",
                "年级",
                "未在校原因",
                "佐证材料",
                "核实人",
                "备注"
            ]
        );
        assert_eq!(
            labels(Annex::Warning),
            [
                "序号",
                "乡镇",
                "村（社区）",
                "姓名",
                "性别",
                "身份证号码",
                "出生日期",
                "户类型",
                "预警类型",
                "就读状态",
                "未在校原因",
                "劝返措施",
                "责任人",
                "核查结果"
            ]
        );
        let mut stats = vec![Field::Seq, Field::Village];
        stats.extend(Field::STAT_COUNTS);
        stats.push(Field::Remark);
        assert_eq!(Annex::Stats.columns(), stats);
    }

    #[test]
    fn blank_survey_layout() {
        let (r, merged) = open(build_annex(Annex::Survey, &AnnexData::blank()).unwrap());
        assert_eq!(text(&r, 0, 0), "附件1");
        assert_eq!(
            text(&r, 1, 0),
            "____镇（乡）____年农村义务教育阶段学龄人口摸底调查表"
        );
        assert!(text(&r, 2, 0).starts_with("填报单位"));
        // header rows 4 and 5 (1-based); data from row 6
        assert_eq!(Annex::Survey.header_rows(), (4, 5));
        assert_eq!(Annex::Survey.first_data_row(), 6);
        assert_eq!(text(&r, 3, 0), "序号");
        assert_eq!(text(&r, 3, 1), "家庭情况");
        assert_eq!(text(&r, 4, 7), "身份证号码");
        // 序号 merged down over both header rows; title merged across
        let has = |sr, sc, er, ec| {
            merged
                .iter()
                .any(|d: &calamine::Dimensions| d.start == (sr, sc) && d.end == (er, ec))
        };
        assert!(has(3, 0, 4, 0));
        assert!(has(1, 0, 1, 17));
        assert!(has(3, 1, 3, 4));
    }

    #[test]
    fn stats_header_and_total_row() {
        let d = AnnexData {
            township: Some("熨斗镇".into()),
            school_year: 2022,
            unit: "熨斗镇人民政府".into(),
            date: String::new(),
            villages: vec![],
            rows: vec![
                {
                    let mut r = vec![TCell::Int(1), TCell::Text("金星村".into())];
                    r.extend((0..13).map(|i| TCell::Int(if i == 0 { 10 } else { 1 })));
                    r
                },
                {
                    let mut r = vec![TCell::Int(2), TCell::Text("双坪村".into())];
                    r.extend((0..13).map(|i| TCell::Int(if i == 0 { 5 } else { 2 })));
                    r
                },
            ],
            ..Default::default()
        };
        let (r, merged) = open(build_annex(Annex::Stats, &d).unwrap());
        assert_eq!(text(&r, 3, 3), "在校人数");
        assert_eq!(text(&r, 4, 3), "本县");
        assert_eq!(text(&r, 4, 4), "县外");
        assert_eq!(text(&r, 3, 6), "未在校但不属于失学辍学");
        assert_eq!(text(&r, 4, 13), "出国（境）");
        assert_eq!(text(&r, 3, 14), "失学辍学");
        assert!(merged.iter().any(|m| m.start == (3, 2) && m.end == (4, 2)));
        assert!(merged.iter().any(|m| m.start == (3, 6) && m.end == (3, 13)));
        // 合计 row: cached results of the SUM formulas
        assert_eq!(text(&r, 7, 1), "合计");
        assert_eq!(r.get_value((7, 2)), Some(&Data::Float(15.0)));
        assert_eq!(r.get_value((7, 3)), Some(&Data::Float(3.0)));
    }

    #[test]
    fn ids_are_written_as_text() {
        let mut row = vec![TCell::Empty; Annex::Ledger.columns().len()];
        let id_col = Annex::Ledger
            .columns()
            .iter()
            .position(|f| *f == Field::Id)
            .unwrap();
        row[id_col] = TCell::Text("11010519491231002X".into());
        let d = AnnexData {
            rows: vec![row],
            ..AnnexData::blank()
        };
        let (r, _) = open(build_annex(Annex::Ledger, &d).unwrap());
        assert_eq!(
            r.get_value((5, id_col as u32)),
            Some(&Data::String("11010519491231002X".into()))
        );
    }

    /// Every member of an xlsx, by name, in zip order.
    fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..z.len())
            .map(|i| {
                let mut m = z.by_index(i).unwrap();
                let mut v = Vec::new();
                m.read_to_end(&mut v).unwrap();
                (m.name().unwrap().to_string(), v)
            })
            .collect()
    }

    #[test]
    fn a_saved_annex_is_the_built_one_whatever_the_text() {
        let texts = [
            "金星村",
            "",
            "A&B <c> \"d\" 'e'",
            " leading",
            "trailing\t",
            "line\nbreak",
            "ctl\u{1}\u{1f}x",
            "_x0041_ and _x00zz_ and _x12",
            "\u{FFFE}\u{FFFF}",
            "610922201604116242",
            "𠀀 four bytes",
        ];
        for annex in [Annex::Ledger, Annex::Warning] {
            let ncols = annex.columns().len();
            // More than one CHUNK of XML, pieces ending inside characters.
            let rows: Vec<Vec<TCell>> = (0..1000)
                .map(|i| {
                    let mut r = vec![TCell::Int(i as i64 + 1)];
                    r.extend((1..ncols).map(|k| match (i + k) % 13 {
                        11 => TCell::Empty,
                        12 => TCell::Text(format!("第{i}行")),
                        j => TCell::from(texts[j]),
                    }));
                    r
                })
                .collect();
            let data = AnnexData {
                township: Some("熨斗镇".into()),
                school_year: 2022,
                unit: "熨斗镇人民政府".into(),
                villages: vec!["金星村".into(), "双坪村".into()],
                draft: Some("草稿：尚有 3 个错误未改正".into()),
                rows: rows.clone(),
                ..Default::default()
            };
            let built = build_annex(annex, &data).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(annex.file_name());
            save_annex(annex, &data, rows.iter(), &path).unwrap();
            let saved = std::fs::read(&path).unwrap();
            let (b, s) = (members(&built), members(&saved));
            assert_eq!(
                b.iter().map(|m| &m.0).collect::<Vec<_>>(),
                s.iter().map(|m| &m.0).collect::<Vec<_>>()
            );
            for ((name, bb), (_, sb)) in b.iter().zip(&s) {
                assert!(
                    bb == sb,
                    "{name} differs:\n{}\n--\n{}",
                    String::from_utf8_lossy(bb),
                    String::from_utf8_lossy(sb)
                );
            }
            assert!(built == saved, "the zip around the members differs");
            let (r, _) = open(saved);
            let first = annex.first_data_row_of(&data) - 1;
            assert_eq!(text(&r, first, 0), "1");
            assert_eq!(text(&r, first + 999, 0), "1000");
            assert_eq!(text(&r, first + 2, 1), texts[3].trim_end());
        }
    }

    #[test]
    fn a_single_row_annex_and_a_too_long_text() {
        let ncols = Annex::Ledger.columns().len();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.xlsx");
        let one = vec![vec![TCell::Int(1); 1]];
        let data = AnnexData {
            rows: one.clone(),
            ..AnnexData::blank()
        };
        save_annex(Annex::Ledger, &data, one.iter(), &path).unwrap();
        assert!(std::fs::read(&path).unwrap() == build_annex(Annex::Ledger, &data).unwrap());

        let mut long = vec![TCell::Int(2)];
        long.extend((1..ncols).map(|_| TCell::Text("长".repeat(40_000))));
        let rows = [vec![TCell::Int(1)], long];
        let e = save_annex(Annex::Ledger, &AnnexData::blank(), rows.iter(), &path).unwrap_err();
        assert!(matches!(e, XlsxError::MaxStringLengthExceeded), "{e:?}");
    }

    #[test]
    fn write_templates_writes_the_embedded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_templates(dir.path()).unwrap();
        assert_eq!(paths.len(), 4);
        for (p, a) in paths.iter().zip(Annex::ALL) {
            assert_eq!(std::fs::read(p).unwrap(), embedded(a));
        }
    }
}
