//! Stage 1: workbooks and csv files → [`Table`]s of [`RawRow`]s.
//!
//! In: a path (xlsx, xlsm, xls, ods or csv; the container is sniffed from the
//! content, the extension only decides between csv and an error), an optional
//! forced role and the configured township. Out: one [`Table`] per sheet with
//! a recognisable header, each row carrying the values of the recognised
//! fields at their absolute 1-based Excel positions.
//!
//! Guarantees:
//! - the input is opened read-only and never written;
//! - rows and columns are absolute and 1-based (calamine ranges are shifted
//!   by their start), csv rows are the record numbers a spreadsheet shows;
//! - a merged cell's value belongs to every row it covers (household head,
//!   户编号, village, group merged down), in the merge's own column; blank
//!   unmerged cells are not filled;
//! - cell values keep their type: text as written, numbers (IDs typed as
//!   numbers included) as `Number`, date cells as `Date` serials in the 1900
//!   system (ODS dates and 1904-system workbooks converted), csv values as
//!   text;
//! - empty rows, pre-numbered blank rows, repeated header rows and footer
//!   lines (合计, 填表说明, 注：, signatures …) are not returned, except the
//!   合计/总计 row of a statistics table, returned with Village text `合计`;
//! - bad input (missing, empty, garbage, truncated, encrypted, HTML or XML
//!   disguised as .xls, no header) is an `Err` with a plain-Chinese message
//!   naming the file, never a panic.

mod csv;
/// A csv input's text, for its annotated copy.
pub(crate) use csv::CsvText;
/// Text files (csv, the config) are decoded one way.
pub(crate) use csv::decode as decode_text;

mod header;
mod ods;
mod register;
mod rows;
#[cfg(test)]
use rows::csv_data_rows;
use rows::{csv_data_rows_into, data_rows, data_rows_into, truncate_chars};
mod sheet;
mod sheet_data;
mod sniff;
mod xml2003;

pub use header::{field_for_header, normalize_header};

use crate::model::{Cell, Field, Format, InputId, RawRow, RawValue, RawValues, Role, Table};
use header::{Header, is_stats_columns as is_stats_columns_of};
use sheet_data::SheetData;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Every message is plain Chinese and names the file (and sheet/cell).
    #[error("{message}")]
    Input { path: PathBuf, message: String },
    /// The file is readable but is no input of a round: a 预警清单 (an output
    /// of the round), an Excel lock file `~$…`. A folder scan may skip it.
    #[error("{message}")]
    NotInput { path: PathBuf, message: String },
}

impl ReadError {
    pub(crate) fn input(path: &Path, message: impl Into<String>) -> ReadError {
        ReadError::Input {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Input { path, .. } | ReadError::NotInput { path, .. } => path,
        }
    }
}

/// The file name shown to users (not the full path).
pub(crate) fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reading the file at `path` failed with `e`.
pub(crate) fn read_failed(path: &Path, e: &std::io::Error) -> ReadError {
    ReadError::input(path, format!("读取文件「{}」时出错：{e}", file_label(path)))
}

/// The csv file at `path`, read and decoded as an input is (for its
/// annotated copy). Here rather than in csv.rs: the csv reader and the
/// format sniffer must not import each other.
pub(crate) fn open_csv(path: &Path) -> Result<CsvText, ReadError> {
    CsvText::open(path, sniff::open_file(path)?)
}

/// How much of a file tells csv text from the other formats.
const SNIFF_HEAD: u64 = 64 * 1024;

/// The format of `path` and its bytes, except for csv text (recognised from
/// its first bytes alone, and read in pieces later): then only those.
fn sniff_path(path: &Path) -> Result<(Format, Vec<u8>), ReadError> {
    let mut f = sniff::open_file(path)?;
    let mut bytes = Vec::new();
    let failed = |e: std::io::Error| read_failed(path, &e);
    f.by_ref()
        .take(SNIFF_HEAD)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    // Text is told by its first bytes; a zip or a compound file is read whole.
    if sniff::is_csv_text(path, &bytes) {
        return Ok((Format::Csv, bytes));
    }
    f.read_to_end(&mut bytes).map_err(failed)?;
    let format = sniff::sniff(path, &bytes)?;
    Ok((format, bytes))
}

/// The container format of `path`, by extension and content: a zip holding
/// `xl/workbook.xml` is xlsx (xlsm with macros or an .xlsm name), a zip with
/// an OpenDocument spreadsheet mimetype is ods, a CFB container is xls, text
/// is csv when the name ends in .csv/.txt. Everything else is an `Err` saying
/// what the file really is (password-protected, HTML or SpreadsheetML 2003
/// saved as .xls, truncated, empty …).
pub fn detect_format(path: &Path) -> Result<Format, ReadError> {
    let bytes = sniff::read_bytes(path)?;
    sniff::sniff(path, &bytes)
}

/// Read every data sheet of one input. `role` forces the role (command-line
/// `--roster`, `--survey` …); None recognises it from title and headers.
/// `township`: roster rows of another 乡镇 are skipped and counted.
/// `first_index`: the [`Table::index`] given to the first table returned.
///
/// Role recognition (`role` None), per sheet, by content: see
/// [`role_reason`] and the rules of `role_by_content` (platform columns make
/// the roster, registry and status-like columns a survey, then the title,
/// then the headers).
///
/// Not inputs ([`ReadError::NotInput`]): Excel lock files `~$…` and
/// taizhang's own annotated copies `*.核对.xlsx` / `*.核对.xlsm`.
///
/// A forced stats role only takes sheets with a statistics header, a forced
/// person role only sheets with 姓名 + 身份证号.
///
/// # Errors
/// Unreadable files (see [`detect_format`]), and files where no sheet has a
/// recognisable header: the message lists the expected column names and
/// quotes the first rows found (IDs masked).
pub fn read_input(
    path: &Path,
    role: Option<Role>,
    township: Option<&str>,
    first_index: usize,
) -> Result<Vec<Table>, ReadError> {
    let tables = read_input_into(path, role, township, first_index, &|_| Vec::new())?;
    Ok(tables
        .into_iter()
        .map(|(mut t, rows)| {
            t.rows = rows;
            t
        })
        .collect())
}

/// Where a reader puts the data rows of a table as it reads them.
pub trait RowSink {
    /// The next data row.
    fn row(&mut self, row: RawRow);
    /// The rows given so far are void: they all come again, from the first.
    fn restart(&mut self);
    /// The table has no more rows.
    fn end(&mut self) {}
}

impl RowSink for Vec<RawRow> {
    fn row(&mut self, row: RawRow) {
        self.push(row);
    }
    fn restart(&mut self) {
        self.clear();
    }
}

/// The values a sheet states by its layout (see [`register`]), put on each
/// row on its way to the sink; counts the rows.
struct Derived<'a, S> {
    sink: &'a mut S,
    status: Option<&'a register::StatusDeriver>,
    rows: usize,
}

impl<S: RowSink> RowSink for Derived<'_, S> {
    fn row(&mut self, mut row: RawRow) {
        register::split_village_group_of(&mut row);
        if let Some(d) = self.status {
            d.apply(&mut row);
        }
        self.rows += 1;
        self.sink.row(row);
    }
    fn restart(&mut self) {
        self.rows = 0;
        self.sink.restart();
    }
}

/// [`read_input`], the data rows of each table given to a sink as they are
/// read instead of held on the table: `open` makes the sink of a table from
/// its description (every field but `rows`, `row_count` and `skipped`,
/// which the table returned has). A sheet's cells are dropped once its rows
/// are read; a csv file's rows are read straight from its text.
pub fn read_input_into<S: RowSink>(
    path: &Path,
    role: Option<Role>,
    township: Option<&str>,
    first_index: usize,
    open: &dyn Fn(&Table) -> S,
) -> Result<Vec<(Table, S)>, ReadError> {
    let file = file_label(path);
    if file.ends_with(".核对.xlsx") || file.ends_with(".核对.xlsm") {
        return Err(ReadError::NotInput {
            path: path.to_path_buf(),
            message: format!("「{file}」是 taizhang 生成的核对结果副本，不是输入，已忽略"),
        });
    }
    let (format, bytes) = sniff_path(path)?;
    let mut reading = Reading {
        path,
        file: file.clone(),
        format,
        role,
        township,
        first_index,
        open,
        tables: Vec::new(),
        warning_lists: Vec::new(),
        unread: Vec::new(),
    };
    match format {
        // A csv file is one sheet: only its first rows are held as a sheet (to
        // find the header); its data rows are read straight from the text.
        Format::Csv => {
            drop(bytes);
            let text = open_csv(path)?;
            let head = text.head(path, header::HEADER_SEARCH_ROWS)?;
            reading.sheet(head, Some(&text))?;
        }
        // An xlsx worksheet is read a row at a time (see `Reading::stream`).
        Format::Xlsx | Format::Xlsm => {
            let mut book = sheet::XlsxBook::open(path, &bytes)?;
            for i in 0..book.names().len() {
                reading.stream(&mut book, i)?;
            }
        }
        _ => {
            for sh in sheet::load(path, &bytes, format)? {
                reading.sheet(sh, None)?;
            }
        }
    }
    reading.finish()
}

/// What the header rows of a sheet make of it.
#[derive(Clone, PartialEq)]
enum Plan {
    /// No header (or none of the forced role's kind).
    Unread,
    /// A 预警清单: an output of a round, not an input.
    WarningList,
    /// A table: its header (an address column added when it has no village
    /// column), role and the text above the header.
    Table {
        h: Header,
        role: Role,
        preamble: String,
    },
}

/// Find the header of `sh` (a whole sheet, or its first rows) and the
/// table's role.
fn plan(sh: &SheetData, role: Option<Role>, file: &str) -> Plan {
    let accept = |h: &Header| match role {
        Some(Role::Stats) => h.is_stats(),
        Some(_) => h.is_person(),
        None => true,
    };
    let Some(mut h) = header::find_header(sh, &accept) else {
        return Plan::Unread;
    };
    // Without a village column, an address column may name the village.
    if !h.columns.contains_key(&Field::Village)
        && let Some(c) = header::address_column(sh, &h)
    {
        h.columns.insert(Field::Address, c);
    }
    let preamble = preamble_text(sh, h.top);
    let role = match role {
        Some(r) => r,
        None => match recognise_role(&h, &preamble, file) {
            Some(r) => r,
            None => return Plan::WarningList,
        },
    };
    Plan::Table { h, role, preamble }
}

/// The state of [`read_input_into`] across the sheets of one file.
struct Reading<'p, S> {
    path: &'p Path,
    file: String,
    format: Format,
    role: Option<Role>,
    township: Option<&'p str>,
    first_index: usize,
    open: &'p dyn Fn(&Table) -> S,
    tables: Vec<(Table, S)>,
    warning_lists: Vec<String>,
    /// Sheets that gave no table (their first rows at least): quoted when
    /// no sheet gives one.
    unread: Vec<SheetData>,
}

/// A table about to get its rows: its description, its sink (behind the
/// layout-derived values) and the header it was found by.
struct Opened<S> {
    table: Table,
    sink: S,
    status: Option<register::StatusDeriver>,
    h: Header,
}

impl<S: RowSink> Reading<'_, S> {
    /// The tables read, or why the file gives none.
    fn finish(self) -> Result<Vec<(Table, S)>, ReadError> {
        let Reading {
            path,
            file,
            format,
            role,
            tables,
            warning_lists,
            unread,
            ..
        } = self;
        if tables.is_empty() {
            if !warning_lists.is_empty() {
                return Err(ReadError::NotInput {
                    path: path.to_path_buf(),
                    message: format!(
                        "「{file}」是筛查预警清单（工作表「{}」），是核对的结果而不是要核对的输入，已跳过",
                        warning_lists.join("」「")
                    ),
                });
            }
            let mut msg = no_header_message(&file, &unread, role);
            if format == Format::Xml {
                msg.push_str(&format!(
                    "\n（此文件是“XML 表格 2003”格式的文本文件。如果它在 Excel 或 WPS 中显示正常，{}）",
                    sniff::RESAVE_HINT
                ));
            }
            return Err(ReadError::input(path, msg));
        }
        Ok(tables)
    }

    /// The table `plan` found on sheet `name`, its sink opened; None when
    /// the sheet gives no table (noted as such).
    fn open_table(&mut self, name: &str, plan: Plan) -> Option<Opened<S>> {
        let (h, r, preamble) = match plan {
            Plan::Unread => return None,
            Plan::WarningList => {
                self.warning_lists.push(name.to_string());
                return None;
            }
            Plan::Table { h, role, preamble } => (h, role, preamble),
        };
        let mut columns = h.columns.clone();
        let status = register::StatusDeriver::new(&mut columns, r, &preamble, &self.file);
        let table = Table {
            index: self.first_index + self.tables.len(),
            input: InputId::default(),
            path: self.path.to_path_buf(),
            file: self.file.clone(),
            format: self.format,
            sheet: name.to_string(),
            role: r,
            header_row: h.row,
            columns,
            rows: Vec::new(),
            row_count: 0,
            preamble,
            skipped: 0,
        };
        let sink = (self.open)(&table);
        Some(Opened {
            table,
            sink,
            status,
            h,
        })
    }

    /// A sheet held whole (or a csv file's first rows, its data rows read
    /// from `csv`).
    fn sheet(&mut self, sh: SheetData, csv: Option<&csv::CsvText>) -> Result<(), ReadError> {
        let plan = plan(&sh, self.role, &self.file);
        let Some(mut t) = self.open_table(&sh.name, plan) else {
            self.unread.push(sh);
            return Ok(());
        };
        let mut derived = Derived {
            sink: &mut t.sink,
            status: t.status.as_ref(),
            rows: 0,
        };
        let (h, r) = (&t.h, t.table.role);
        let skipped = match csv {
            Some(c) => csv_data_rows_into(c, self.path, &sh, h, r, self.township, &mut derived)?,
            None => data_rows_into(&sh, h, r, self.township, &mut derived),
        };
        t.table.row_count = derived.rows;
        t.table.skipped = skipped;
        t.sink.end();
        // The sheet's cells are not needed any more.
        drop(sh);
        self.tables.push((t.table, t.sink));
        Ok(())
    }

    /// Worksheet `i` of an xlsx, read a row at a time: only the rows header
    /// finding looks at (up to the [`header::HEADER_SEARCH_ROWS`]th with a
    /// cell that is not blank) are held; the data rows go to the sink as
    /// they are read, merges filling them from the merge list (known before
    /// the cells). A sheet whose rows are not in ascending order is read
    /// whole instead, and so is one where the rest of the sheet reaches
    /// past the columns of its first rows, a merge in those rows reaches
    /// there too and the header found in them would differ.
    fn stream(&mut self, book: &mut sheet::XlsxBook, i: usize) -> Result<(), ReadError> {
        let Ok(merges) = book.merges(i) else {
            // Read whole: its error comes as it always has.
            return self.sheet(book.whole(i)?, None);
        };
        let name = book.names()[i].clone();
        let mut cells = book.cells(i)?;
        let mut head = BTreeMap::new();
        let mut with_text = 0;
        let mut ended = false;
        while with_text < header::HEADER_SEARCH_ROWS {
            match cells.next_row()? {
                sheet::NextRow::Row(r, cols) => {
                    let cols: BTreeMap<u32, Cell> = cols.cells().collect();
                    if cols.values().any(|c| !c.is_empty()) {
                        with_text += 1;
                    }
                    head.insert(r, cols);
                }
                sheet::NextRow::End => {
                    ended = true;
                    break;
                }
                sheet::NextRow::OutOfOrder => {
                    drop(cells);
                    return self.sheet(book.whole(i)?, None);
                }
            }
        }
        let head_rows = head.keys().next_back().copied().unwrap_or(0);
        let head_width = cells.width();
        // The rest of the sheet being wider changes what these rows show
        // only through a merge reaching past their last column.
        let wide_merge = !ended && merges.iter().any(|m| m.0 <= head_rows && m.3 > head_width);
        let head = SheetData::new(name.clone(), head, merges.clone());
        let first_plan = plan(&head, self.role, &self.file);
        // Whether the plan stays the same with the whole sheet's width.
        let (role, file) = (self.role, self.file.clone());
        let same_plan = |width: u32, p: &Plan| {
            if !wide_merge || width <= head_width {
                return true;
            }
            let wide = SheetData::within(name.clone(), head.rows.clone(), merges.clone(), width);
            plan(&wide, role, &file) == *p
        };
        if !matches!(first_plan, Plan::Table { .. }) {
            if wide_merge {
                let whole = loop {
                    match cells.next_row()? {
                        sheet::NextRow::Row(..) => {}
                        sheet::NextRow::End => break false,
                        sheet::NextRow::OutOfOrder => break true,
                    }
                };
                if whole || !same_plan(cells.width(), &first_plan) {
                    drop(cells);
                    return self.sheet(book.whole(i)?, None);
                }
            }
            drop(cells);
            // Notes a warning list.
            let none = self.open_table(&name, first_plan);
            debug_assert!(none.is_none());
            self.unread.push(head);
            return Ok(());
        }
        let kept = wide_merge.then(|| first_plan.clone());
        let Some(mut t) = self.open_table(&name, first_plan) else {
            unreachable!("a table plan opens a table");
        };
        let mut derived = Derived {
            sink: &mut t.sink,
            status: t.status.as_ref(),
            rows: 0,
        };
        let (h, r) = (&t.h, t.table.role);
        let columns: Vec<u32> = h.columns.values().copied().collect();
        let mut taker = rows::RowTaker {
            fill: rows::RowMerges::new(&merges, &columns, h.row),
            rules: rows::RowRules::new(h, r, self.township),
            skipped: 0,
        };
        for (&row, cols) in head.rows.range(h.row + 1..) {
            taker.take(row, cols, &mut derived);
        }
        let out_of_order = loop {
            match cells.next_row()? {
                sheet::NextRow::Row(row, cols) => taker.take(row, &cols, &mut derived),
                sheet::NextRow::End => break false,
                sheet::NextRow::OutOfOrder => break true,
            }
        };
        let skipped = taker.skipped;
        let row_count = derived.rows;
        let whole = out_of_order || kept.is_some_and(|p| !same_plan(cells.width(), &p));
        drop(cells);
        if whole {
            // The rows given are void: the sheet is read again, whole.
            drop(t);
            return self.sheet(book.whole(i)?, None);
        }
        t.table.row_count = row_count;
        t.table.skipped = skipped;
        t.sink.end();
        self.tables.push((t.table, t.sink));
        Ok(())
    }
}

/// [`read_input_into`] for several files at once, on up to two threads
/// (the files are independent; `open` is called on either). Results come
/// in the order of `files`; the tables of each file are indexed from 0, so
/// the caller shifts [`Table::index`] by the number of tables it kept
/// before that file.
pub fn read_inputs_into<S: RowSink + Send>(
    files: &[(PathBuf, Option<Role>)],
    township: Option<&str>,
    open: &(dyn Fn(&Table) -> S + Sync),
) -> Vec<Result<Vec<(Table, S)>, ReadError>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2)
        .min(files.len());
    let read = |(p, r): &(PathBuf, Option<Role>)| read_input_into(p, *r, township, 0, open);
    if workers <= 1 {
        return files.iter().map(read).collect();
    }
    let next = AtomicUsize::new(0);
    type Slot<S> = Mutex<Option<Result<Vec<(Table, S)>, ReadError>>>;
    let slots: Vec<Slot<S>> = files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else {
                        break;
                    };
                    let res = read(f);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(res);
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(files)
        .map(|(m, f)| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| read(f))
        })
        .collect()
}

/// Every non-empty cell of every sheet (for rebuilding xls/ods/csv inputs
/// as annotated xlsx copies).
#[derive(Clone, Debug)]
pub struct Grid {
    pub sheet: String,
    /// (1-based row, 1-based col, value)
    pub cells: Vec<(u32, u32, Cell)>,
    /// Merged ranges as (first_row, first_col, last_row, last_col), 1-based.
    pub merges: Vec<(u32, u32, u32, u32)>,
}

/// All sheets of `path` (hidden ones and those without a header included),
/// cells in row-major order.
pub fn read_grids(path: &Path) -> Result<Vec<Grid>, ReadError> {
    let bytes = sniff::read_bytes(path)?;
    let format = sniff::sniff(path, &bytes)?;
    if format == Format::Csv {
        let text = csv::CsvText::new(path, &bytes);
        drop(bytes);
        let cells = text.cells(path)?;
        return Ok(vec![Grid {
            sheet: text.name,
            cells,
            merges: Vec::new(),
        }]);
    }
    let sheets = sheet::load(path, &bytes, format)?;
    Ok(sheets.into_iter().map(SheetData::into_grid).collect())
}

/// Text of one row: its non-empty cells (merge-covered cells skipped), joined
/// by a space.
fn row_text(sh: &SheetData, row: u32) -> String {
    sh.rows
        .get(&row)
        .map(|cols| {
            cols.values()
                .filter(|c| !c.is_empty())
                .map(|c| c.display().trim().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn preamble_text(sh: &SheetData, top: u32) -> String {
    sh.rows
        .range(..top)
        .map(|(r, _)| row_text(sh, *r))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`Cell::display`] without copying text cells.
fn display(c: &Cell) -> std::borrow::Cow<'_, str> {
    match c {
        Cell::Text(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.display()),
    }
}

fn squash(s: &str) -> String {
    normalize_header(s)
}

/// See [`read_input`] for the rules. None: a warning list (not an input).
fn recognise_role(h: &Header, preamble: &str, file: &str) -> Option<Role> {
    role_by_content(&h.columns, preamble, file).0
}

/// The columns a county platform export has and a survey does not.
const PLATFORM_FIELDS: [Field; 5] = [
    Field::PlatformStatus,
    Field::PlatformDropout,
    Field::HouseholdNo,
    Field::PersonNo,
    Field::MonitorType,
];

/// Header texts of some columns, for the reasons shown to the user.
fn labels(cols: &BTreeMap<Field, u32>, fields: &[Field]) -> String {
    fields
        .iter()
        .filter(|f| cols.contains_key(f))
        .map(|f| f.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// A status-like column: 就读状态, 就学状态, 是否在校 … (or the registry's
/// 学籍状态).
fn has_status_like(cols: &BTreeMap<Field, u32>) -> bool {
    cols.contains_key(&Field::Status) || cols.contains_key(&Field::RegistryStatus)
}

/// The role of a sheet from its columns, title and file name, and why (in
/// plain Chinese, for the terminal). None: a warning list. Rules in order:
/// 1. a 预警清单 title, or 预警类型/劝返措施 columns: not an input;
/// 2. statistics columns and no 姓名: stats;
/// 3. county platform columns (在校生状况, 户编号, 人编号/人口编号, 监测对象
///    类别, 是否…失学辍学), or 与户主关系 without a status-like column: roster;
/// 4. a registry column (学籍号, 学籍状态) or the columns of a poverty-aid
///    ledger (县内/县外, 学段): survey (its status is derived from the list);
/// 5. title (the rows above the header, else the file name): 附件3 or
///    统计表 → stats; 附件2 or 学龄人口台账 → ledger; another 台账 (入学台账,
///    控辍保学工作台账 …) → survey when it has a status-like column and none
///    of the ledger's own columns (乡镇), else ledger; 附件1, 摸底 or 调查 →
///    survey;
/// 6. headers: no status column → roster; a 乡镇 column and no 调查人 →
///    ledger; otherwise survey.
pub(crate) fn role_by_content(
    cols: &BTreeMap<Field, u32>,
    preamble: &str,
    file: &str,
) -> (Option<Role>, String) {
    let has = |f: Field| cols.contains_key(&f);
    let title = squash(preamble);
    if title.contains("预警清单") || has(Field::WarningType) || has(Field::Measures) {
        return (None, "是筛查预警清单".to_string());
    }
    if is_stats_columns_of(cols) && !has(Field::Name) {
        return (
            Some(Role::Stats),
            "有村（社区）和学龄人口数等统计列".to_string(),
        );
    }
    if PLATFORM_FIELDS.iter().any(|f| has(*f)) {
        return (
            Some(Role::Roster),
            format!(
                "有县平台导出的列（{}）",
                labels(
                    cols,
                    &[PLATFORM_FIELDS.as_slice(), &[Field::Relation]].concat()
                )
            ),
        );
    }
    if has(Field::Relation) && !has_status_like(cols) {
        return (
            Some(Role::Roster),
            "有“与户主关系”列、没有就读状态列，是按户登记的名单".to_string(),
        );
    }
    if has(Field::RegistryNo) || has(Field::RegistryStatus) {
        return (
            Some(Role::Survey),
            format!(
                "有学籍列（{}），是学校的学籍名单：名单上的学生按在校核对",
                labels(cols, &[Field::RegistryNo, Field::RegistryStatus])
            ),
        );
    }
    if has(Field::InCounty) || has(Field::Stage) {
        return (
            Some(Role::Survey),
            format!(
                "有学生资助台账的列（{}），按其中的就读情况核对",
                labels(cols, &[Field::InCounty, Field::Stage, Field::Reason])
            ),
        );
    }
    let stem = squash(file);
    for (t, whose) in [(&title, "标题"), (&stem, "文件名")] {
        if t.contains("附件3") || t.contains("统计表") {
            return (Some(Role::Stats), format!("{whose}是附件3/统计表"));
        }
        if t.contains("附件2") || t.contains("学龄人口台账") {
            return (Some(Role::Ledger), format!("{whose}是附件2学龄人口台账"));
        }
        if t.contains("台账") && !t.contains("统计") {
            if has_status_like(cols) && !has(Field::Township) {
                return (
                    Some(Role::Survey),
                    format!(
                        "{whose}是台账，但有就读状态类的列（{}）、没有附件2台账的乡镇列，按摸底表核对",
                        labels(cols, &[Field::Status, Field::RegistryStatus])
                    ),
                );
            }
            return (Some(Role::Ledger), format!("{whose}是台账"));
        }
        if t.contains("附件1") || t.contains("摸底") || t.contains("调查") {
            return (Some(Role::Survey), format!("{whose}是附件1摸底调查表"));
        }
    }
    if !has(Field::Status) {
        return (
            Some(Role::Roster),
            "没有就读状态列（县平台导出的名单没有这一列）".to_string(),
        );
    }
    if has(Field::Township) && !has(Field::Surveyor) {
        return (
            Some(Role::Ledger),
            "有乡镇列、没有调查人列，是台账的格式".to_string(),
        );
    }
    (Some(Role::Survey), "有就读状态列".to_string())
}

/// Why a table got its role when it was recognised from content (the
/// rules of [`role_by_content`]), in plain Chinese.
pub fn role_reason(t: &Table) -> String {
    role_by_content(&t.columns, &t.preamble, &t.file).1
}

fn no_header_message(file: &str, sheets: &[SheetData], role: Option<Role>) -> String {
    let mut msg = format!(
        "「{file}」中找不到表头：前 {} 行里没有认出",
        header::HEADER_SEARCH_ROWS
    );
    if role == Some(Role::Stats) {
        msg.push_str("统计表的列名（需要“村（社区）”和“学龄人口数”“在校人数”等统计列）。");
    } else {
        msg.push_str("“姓名”和“身份证号码”这样的列名。");
    }
    msg.push_str(
        "应有的列名例如：姓名（学生姓名、儿童姓名）、身份证号码（身份证号、公民身份号码、证件号码）、\
         村（社区）（行政村、村名）、出生日期（出生年月）、就读状态（就学状态、是否在校）；\
         统计表为 村（社区）、学龄人口数、在校人数、失学辍学 等。",
    );
    let mut quoted = Vec::new();
    for sh in sheets {
        for (&r, _) in sh.rows.iter() {
            let t = row_text(sh, r);
            if t.is_empty() {
                continue;
            }
            quoted.push(format!(
                "工作表「{}」第{r}行：{}",
                sh.name,
                truncate_chars(&crate::gb11643::mask_text(&t), 60)
            ));
            if quoted.len() >= 5 {
                break;
            }
        }
        if quoted.len() >= 5 {
            break;
        }
    }
    if quoted.is_empty() {
        msg.push_str("文件里没有任何内容。");
    } else {
        msg.push_str("文件开头的内容是：\n");
        msg.push_str(&quoted.join("\n"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use rows::town_key;

    /// The csv rows read straight from the text are the rows the whole
    /// file read as a sheet gives (blank lines, quoted line breaks, a
    /// footer, a repeated header, another township, a stray quote mark).
    #[test]
    fn csv_rows_from_text_match_the_sheet() {
        let cases = [
            "名单\n\n序号,乡镇,姓名,身份证号码,村\n1,熨斗镇,张测,610922201005031239,金星村\n\n\
             2,熨斗镇,\"李\n测\",610922201005031247,金星村\n序号,乡镇,姓名,身份证号码,村\n\
             3,双河镇,王测,610922201005031255,河湾村\n合计,,,,\n",
            "姓名,身份证号码,村\n张\"测,610922201005031239,金星村\n李测,6109,金星村\n王测,x,y\n",
            "姓名\t身份证号码\t村\nNULL\tNULL\tNULL\n张测\t'610922201005031239\t金星村\n",
        ];
        for data in cases {
            let path = Path::new("t.csv");
            let text = csv::CsvText::new(path, data.as_bytes());
            let head = text.head(path, header::HEADER_SEARCH_ROWS).unwrap();
            let h = header::find_header(&head, &|_| true).unwrap();
            let streamed =
                csv_data_rows(&text, path, &head, &h, Role::Roster, Some("熨斗镇")).unwrap();
            let sheet = csv::load(path, data.as_bytes()).unwrap();
            let whole = data_rows(&sheet, &h, Role::Roster, Some("熨斗镇"));
            assert_eq!(format!("{streamed:?}"), format!("{whole:?}"), "{data}");
        }
    }

    /// [`read_input`] with every sheet of an xlsx held whole first (the
    /// way xls and ods sheets are read).
    fn read_whole_sheets(path: &Path, role: Option<Role>) -> Result<Vec<Table>, ReadError> {
        let bytes = sniff::read_bytes(path)?;
        let format = sniff::sniff(path, &bytes)?;
        let open = |_: &Table| Vec::new();
        let mut reading = Reading {
            path,
            file: file_label(path),
            format,
            role,
            township: Some("熨斗镇"),
            first_index: 0,
            open: &open,
            tables: Vec::new(),
            warning_lists: Vec::new(),
            unread: Vec::new(),
        };
        for sh in sheet::load(path, &bytes, format)? {
            reading.sheet(sh, None)?;
        }
        Ok(reading
            .finish()?
            .into_iter()
            .map(|(mut t, rows)| {
                t.rows = rows;
                t
            })
            .collect())
    }

    /// A cell or merge of a generated sheet (0-based, as the writer takes it).
    #[derive(Clone)]
    enum Put {
        Text(u32, u16, String),
        Num(u32, u16, f64),
        Merge(u32, u16, u32, u16, String),
    }

    fn tx(r: u32, c: u16, t: impl Into<String>) -> Put {
        Put::Text(r, c, t.into())
    }

    fn mg(r0: u32, c0: u16, r1: u32, c1: u16, t: &str) -> Put {
        Put::Merge(r0, c0, r1, c1, t.to_string())
    }

    /// An xlsx streamed a row at a time reads exactly as its sheets read
    /// whole: merges over the header, the title and the data (also running
    /// past the header window and past the first rows' columns), a header
    /// low in the window, sheets without a header, a warning list.
    #[test]
    fn streamed_xlsx_reads_as_whole_sheets() {
        use Put::{Merge, Num, Text};
        let dir = tempfile::tempdir().unwrap();
        let id = |i: u32| testkit_free_id(i);
        let mut people: Vec<Put> = Vec::new();
        for i in 0..40u32 {
            let r = 3 + i;
            people.push(Num(r, 0, f64::from(i + 1)));
            people.push(tx(r, 1, if i % 7 == 3 { "双河镇" } else { "熨斗镇" }));
            people.push(tx(r, 3, ["甲测", "乙测", "丙测", "丁测"][i as usize % 4]));
            people.push(tx(r, 4, id(i)));
            people.push(tx(r, 5, ["之子", "户主"][i as usize % 2]));
        }
        let roster_header = vec![
            tx(2, 0, "序号"),
            tx(2, 1, "乡(镇)"),
            tx(2, 2, "行政村"),
            tx(2, 3, "姓名"),
            tx(2, 4, "证件号码"),
            tx(2, 5, "与户主关系"),
            tx(2, 6, "在校生状况"),
        ];
        let villages = vec![
            mg(3, 2, 9, 2, "金星村"),
            mg(10, 2, 30, 2, "双坪村"),
            mg(31, 2, 42, 2, "河湾村"),
            mg(20, 6, 25, 7, "非在校生"),
        ];
        let wide_title = mg(0, 0, 1, 11, "熨斗镇 县乡村振兴局名单");
        let mut cases: Vec<(&str, Vec<Vec<Put>>)> = Vec::new();
        let sheet = |parts: Vec<Vec<Put>>| parts.into_iter().flatten().collect::<Vec<Put>>();
        cases.push((
            "plain",
            vec![sheet(vec![
                roster_header.clone(),
                villages.clone(),
                people.clone(),
            ])],
        ));
        cases.push((
            "wide",
            vec![sheet(vec![
                vec![wide_title.clone(), tx(41, 14, "备注"), tx(12, 9, "核实")],
                roster_header.clone(),
                villages.clone(),
                people.clone(),
            ])],
        ));
        // The header as the last row of the window, a two-row header with
        // a group label merged wider than the first rows.
        let mut low: Vec<Put> = (0..12u32).map(|r| tx(r, 0, "说明")).collect();
        low.extend([
            mg(12, 3, 12, 8, "学生"),
            tx(13, 0, "序号"),
            tx(13, 1, "村（社区）"),
            tx(13, 3, "姓名"),
            tx(13, 4, "身份证号码"),
            tx(13, 5, "就读状态"),
            mg(14, 1, 30, 1, "金星村"),
        ]);
        for i in 0..20u32 {
            let r = 14 + i;
            low.push(tx(r, 3, "甲测"));
            low.push(tx(r, 4, id(100 + i)));
            low.push(tx(r, 5, "在校"));
        }
        low.push(tx(33, 12, "x"));
        cases.push(("low", vec![low]));
        cases.push((
            "no header, then a table",
            vec![
                vec![mg(0, 0, 0, 20, "封面"), tx(3, 0, "一"), tx(30, 25, "尾")],
                sheet(vec![roster_header.clone(), people.clone()]),
            ],
        ));
        cases.push((
            "no header at all",
            vec![vec![
                mg(0, 0, 2, 9, "封面"),
                tx(5, 0, "一"),
                tx(6, 1, "6109222010050312"),
                tx(40, 15, "尾"),
            ]],
        ));
        cases.push((
            "warning list",
            vec![vec![
                tx(0, 0, "筛查预警清单"),
                tx(1, 0, "姓名"),
                tx(1, 1, "身份证号码"),
                tx(1, 2, "预警类型"),
                tx(2, 0, "甲测"),
                tx(2, 1, id(7)),
            ]],
        ));
        for (name, sheets) in cases {
            let path = dir.path().join(format!("{name}.xlsx"));
            let mut wb = rust_xlsxwriter::Workbook::new();
            for puts in sheets {
                let ws = wb.add_worksheet();
                let f = rust_xlsxwriter::Format::new();
                for p in puts {
                    match p {
                        Text(r, c, t) => {
                            ws.write_string(r, c, &t).unwrap();
                        }
                        Num(r, c, n) => {
                            ws.write_number(r, c, n).unwrap();
                        }
                        Merge(r0, c0, r1, c1, t) => {
                            ws.merge_range(r0, c0, r1, c1, &t, &f).unwrap();
                        }
                    }
                }
            }
            wb.save(&path).unwrap();
            // The cases read as meant: a table of every child, or none.
            let rows = read_input(&path, None, Some("熨斗镇"), 0)
                .map(|t| t.iter().map(|t| t.rows.len()).sum::<usize>());
            match name {
                "no header at all" | "warning list" => assert!(rows.is_err(), "{name}"),
                "low" => assert_eq!(rows.ok(), Some(20), "{name}"),
                _ => assert_eq!(rows.ok(), Some(34), "{name}: six of another township"),
            }
            for role in [None, Some(Role::Roster), Some(Role::Stats)] {
                let streamed = read_input(&path, role, Some("熨斗镇"), 0);
                let whole = read_whole_sheets(&path, role);
                assert_eq!(
                    format!("{streamed:?}"),
                    format!("{whole:?}"),
                    "{name} {role:?}"
                );
            }
        }
    }

    /// A valid 18-digit ID of the invented county (birth 2010-05-03).
    fn testkit_free_id(seq: u32) -> String {
        let first17 = format!("61092220100503{:03}", seq % 1000);
        crate::gb11643::with_check(&first17).unwrap()
    }

    #[test]
    fn township_keys_ignore_suffix() {
        assert_eq!(town_key("熨斗镇"), "熨斗");
        assert_eq!(town_key("熨斗"), "熨斗");
        assert_eq!(town_key(" 熨斗镇 "), "熨斗");
        assert_ne!(town_key("双河镇"), town_key("熨斗镇"));
    }
}

/// Entry points for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Header detection, role recognition and data rows on an arbitrary grid
    /// of cells and merges (1-based). Returns the header row and the number
    /// of data rows, or None when no header is found.
    pub fn header_on_grid(
        cells: Vec<(u32, u32, Cell)>,
        merges: Vec<(u32, u32, u32, u32)>,
    ) -> Option<(u32, usize)> {
        let mut rows: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
        for (r, c, cell) in cells {
            rows.entry(r).or_default().insert(c, cell);
        }
        let sh = SheetData::new("Sheet1".to_string(), rows, merges);
        let h = header::find_header(&sh, &|_| true)?;
        let preamble = preamble_text(&sh, h.top);
        let role = recognise_role(&h, &preamble, "fuzz.xlsx").unwrap_or(Role::Survey);
        let (rows, _) = data_rows(&sh, &h, role, Some("熨斗镇"));
        let _ = no_header_message("fuzz.xlsx", std::slice::from_ref(&sh), None);
        Some((h.row, rows.len()))
    }

    /// csv decoding and loading of arbitrary bytes: the number of non-empty
    /// rows, or the error message.
    pub fn load_csv(bytes: &[u8]) -> Result<usize, String> {
        let _ = csv::decode(bytes);
        csv::load(Path::new("fuzz.csv"), bytes)
            .map(|s| s.rows.len())
            .map_err(|e| e.to_string())
    }
}
