//! The 核对说明 sheet, written as worksheet XML with inline strings.
//!
//! Layout: the verdict (big), the totals with a link to the counts, what to
//! do next, the colour legend (filled cells *and* words), the findings table (header row
//! frozen, autofilter), then the counts by code, by village and the inputs
//! below the table, where a filter on the findings cannot hide them.

use super::SummaryInfo;
use super::xml::{cell_name, esc};
use crate::model::{Code, Finding, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// Style (xf) indices of the summary's cells.
#[derive(Clone, Copy, Debug)]
pub struct SumStyles {
    pub title: u32,
    pub header: u32,
    pub bold: u32,
    pub link: u32,
    pub error: u32,
    pub warning: u32,
    pub notice: u32,
    /// Plain text, wrapped.
    pub wrap: u32,
}

impl SumStyles {
    fn sev(&self, s: Severity) -> u32 {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Notice => self.notice,
        }
    }
}

enum V {
    S(String),
    N(u64),
}

struct Sheet {
    rows: BTreeMap<u32, Vec<(u32, V, u32)>>,
    links: Vec<(u32, u32, String, String)>,
    /// Cells merged across to the last column: (row, first column).
    merged: Vec<(u32, u32)>,
    /// Row heights in points, where a row is set taller.
    heights: BTreeMap<u32, f64>,
}

impl Sheet {
    fn put(&mut self, row: u32, col: u32, v: V, style: u32) {
        self.rows.entry(row).or_default().push((col, v, style));
    }
    fn text(&mut self, row: u32, col: u32, s: impl Into<String>, style: u32) {
        self.put(row, col, V::S(s.into()), style);
    }
    /// A line of text that runs across the sheet: from `col` to the last
    /// column, merged and wrapped, the row as tall as its lines (a merged
    /// cell's row does not grow by itself). `pt` is the font size.
    fn line(&mut self, row: u32, col: u32, s: impl Into<String>, style: u32, pt: f64) {
        let s = s.into();
        let width: f64 = WIDTHS[col as usize - 1..].iter().sum();
        let lines = lines_in(&s, width, pt);
        if row == 1 || lines > 1.0 {
            let h = lines * (pt * 1.35).round();
            self.heights
                .insert(row, if row == 1 { h.max(27.0) } else { h });
        }
        self.merged.push((row, col));
        self.text(row, col, s, style);
    }
    /// Rows whose wrapped text takes more than one line get the height of
    /// their longest cell: set explicitly, as not every program grows a
    /// row to its wrapped text when it opens the file. Cells of the plain
    /// format (style 0) run over into empty neighbours instead of wrapping.
    fn fit_rows(&mut self) {
        for (r, cells) in &self.rows {
            if self.heights.contains_key(r) || self.merged.iter().any(|(m, _)| m == r) {
                continue;
            }
            let lines = cells
                .iter()
                .filter(|(_, _, style)| *style != 0)
                .map(|(c, v, _)| match v {
                    V::S(t) => lines_in(t, WIDTHS[*c as usize - 1], 11.0),
                    V::N(_) => 1.0,
                })
                .fold(1.0, f64::max);
            if lines > 1.0 {
                self.heights.insert(*r, lines * 15.0);
            }
        }
    }
}

/// How many lines `text` wraps to in a column `width` characters wide, in
/// a font of `pt` points: a character counts as one digit width, a
/// full-width one (Chinese) as 2.1 (a Chinese glyph next to Calibri's
/// digits; a Song typeface's take two), less the cell's padding.
fn lines_in(text: &str, width: f64, pt: f64) -> f64 {
    let units: f64 = text
        .chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.1 })
        .sum::<f64>()
        * pt
        / 11.0;
    (units / (width - 0.75)).ceil().max(1.0)
}

/// Appended to the level of a finding that is new since the last run.
pub const NEW_MARK: &str = "（新）";

/// Column headers of the findings table.
pub const TABLE_HEADER: [&str; 9] = [
    "级别",
    "代码",
    "问题",
    "说明",
    "文件",
    "工作表",
    "单元格",
    "当前值",
    "建议值",
];
/// Column widths, in characters of the default font's digit width: the
/// longest code and an 18-digit ID on one line, the other text wrapped, so
/// that one landscape A4 page width holds the table at (nearly) full size
/// (133 characters; the page's narrow side margins leave 11.2 inches).
pub const WIDTHS: [f64; 9] = [9.0, 21.0, 12.0, 26.0, 10.0, 7.0, 10.0, 19.0, 19.0];

/// Quote a sheet name for a formula reference: 'Sheet 1'!A1 ('' inside).
pub fn quote_sheet(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// The sheet XML. `local_sheets` are the (file, sheet) pairs present in this
/// workbook: findings there get a working internal hyperlink.
/// `own_name` is this sheet's name in the workbook (links to its own rows
/// are sheet-qualified, as Excel and WPS require).
/// Returns (xml, header row, last table row).
/// 核对说明 laid out, to be written into the copy by [`SummarySheet::write`]
/// (its XML grows with the findings: at a million children it is never
/// held whole).
pub struct SummarySheet {
    sh: Sheet,
    /// The findings table's header row and last row.
    pub header: u32,
    pub last: u32,
    max_row: u32,
}

impl SummarySheet {
    /// The sheet's XML, written into `w` in pieces.
    ///
    /// # Errors
    /// Writing fails.
    pub fn write(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        render(&self.sh, self.header, self.last, self.max_row, w)
    }
}

pub fn sheet_xml(
    info: &SummaryInfo,
    own_name: &str,
    styles: SumStyles,
    local_sheets: &BTreeSet<(String, String)>,
) -> SummarySheet {
    let mut sh = Sheet {
        rows: BTreeMap::new(),
        links: Vec::new(),
        merged: Vec::new(),
        heights: BTreeMap::new(),
    };
    let fs = &info.findings;
    let count = |s: Severity| fs.iter().filter(|f| f.severity == s).count();
    let (ne, nw, nn) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Notice),
    );
    let verdict = if info.verdict.trim().is_empty() {
        if info.ready {
            "可以上报：未发现必须改正的错误".to_string()
        } else {
            "不能上报：还有必须改正的错误".to_string()
        }
    } else {
        info.verdict.clone()
    };
    sh.line(1, 1, verdict, styles.title, 16.0);
    // Rows after the table: counts start here (known once the table size is).
    // Row 2: the totals (written once the table size is known); row 3: what
    // to do next.
    sh.line(
        3,
        1,
        format!(
            "{}{}",
            crate::report::NEXT_STEPS,
            crate::report::OVERWRITE_NOTE
        ),
        styles.bold,
        11.0,
    );
    let mut row = 4;
    sh.text(row, 1, "错误", styles.error);
    sh.text(row, 2, "红色：错误，必须改正后才能上报", 0);
    row += 1;
    sh.text(row, 1, "警告", styles.warning);
    sh.text(row, 2, "橙色：警告，需要人工核实", 0);
    row += 1;
    sh.text(row, 1, "提示", styles.notice);
    sh.text(row, 2, "蓝色：提示，需要上报或留意的情况（如失学辍学）", 0);
    row += 1;
    if let Some(r) = &info.rebuilt_from {
        // One line per row: what the copy is, then each part not carried over.
        for line in r.lines().filter(|l| !l.trim().is_empty()) {
            sh.line(row, 1, line.to_string(), styles.bold, 11.0);
            row += 1;
        }
    }
    if let Some(p) = &info.pending {
        sh.line(row, 1, p.clone(), styles.bold, 11.0);
        row += 1;
    }
    for line in &info.skipped {
        sh.line(row, 1, line.clone(), styles.error, 11.0);
        row += 1;
    }
    let header = row;
    for (i, h) in TABLE_HEADER.iter().enumerate() {
        sh.text(header, i as u32 + 1, *h, styles.header);
    }
    let mut r = header;
    for (i, f) in fs.iter().enumerate() {
        r += 1;
        let level = if info.new.get(i) == Some(&true) {
            format!("{}{NEW_MARK}", f.severity.label_zh())
        } else {
            f.severity.label_zh().to_string()
        };
        sh.text(r, 1, level, styles.sev(f.severity));
        sh.text(r, 2, f.code.as_str(), styles.wrap);
        sh.text(r, 3, f.code.title_zh(), styles.wrap);
        sh.text(r, 4, f.message.clone(), styles.wrap);
        sh.text(r, 5, f.file.clone(), styles.wrap);
        sh.text(r, 6, f.sheet.clone(), styles.wrap);
        let cell = format!("{}{}", f.column, f.row);
        if local_sheets.contains(&(f.file.clone(), f.sheet.clone())) {
            let display = format!("{}!{}", f.sheet, cell);
            sh.text(r, 7, display.clone(), styles.link);
            sh.links
                .push((r, 7, format!("{}!{}", quote_sheet(&f.sheet), cell), display));
        } else {
            sh.text(r, 7, cell, styles.wrap);
        }
        sh.text(r, 8, f.value.clone(), styles.wrap);
        sh.text(r, 9, f.suggestion.clone().unwrap_or_default(), styles.wrap);
    }
    let last = r;
    if fs.is_empty() {
        sh.text(header + 1, 1, "未发现问题", 0);
    }
    // Counts below the table.
    let mut r = last.max(header + 1) + 2;
    let counts_row = r;
    sh.text(r, 2, "按问题代码统计", styles.bold);
    r += 1;
    for (i, h) in ["代码", "问题", "级别", "数量"].iter().enumerate() {
        sh.text(r, i as u32 + 2, *h, styles.header);
    }
    let mut by_code: BTreeMap<Code, u64> = BTreeMap::new();
    for f in fs {
        *by_code.entry(f.code).or_default() += 1;
    }
    let mut codes: Vec<(Code, u64)> = by_code.into_iter().collect();
    codes.sort_by_key(|(c, _)| (c.severity(), *c));
    for (c, n) in &codes {
        r += 1;
        sh.text(r, 2, c.as_str(), styles.wrap);
        sh.text(r, 3, c.title_zh(), styles.wrap);
        sh.text(r, 4, c.severity().label_zh(), styles.sev(c.severity()));
        sh.put(r, 5, V::N(*n), 0);
    }
    r += 2;
    sh.text(r, 2, "按村（社区）统计", styles.bold);
    r += 1;
    for (i, h) in ["村（社区）", "错误", "警告", "提示", "合计"]
        .iter()
        .enumerate()
    {
        sh.text(r, i as u32 + 2, *h, styles.header);
    }
    let mut by_village: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for f in fs {
        let v = f
            .village
            .clone()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "（未识别）".to_string());
        let e = by_village.entry(v).or_default();
        e[sev_index(f.severity)] += 1;
    }
    let mut total = [0u64; 3];
    for (v, n) in &by_village {
        r += 1;
        sh.text(r, 2, v.clone(), styles.wrap);
        for i in 0..3 {
            sh.put(r, 3 + i as u32, V::N(n[i]), 0);
            total[i] += n[i];
        }
        sh.put(r, 6, V::N(n.iter().sum()), 0);
    }
    r += 1;
    sh.text(r, 2, "合计", styles.bold);
    for (i, t) in total.iter().enumerate() {
        sh.put(r, 3 + i as u32, V::N(*t), styles.bold);
    }
    sh.put(r, 6, V::N(total.iter().sum()), styles.bold);
    let mut fixed_row = None;
    if info.change.is_some() {
        r += 2;
        fixed_row = Some(r);
        sh.line(
            r,
            2,
            format!("本文件比上次已改正的问题（{} 条）", info.fixed.len()),
            styles.bold,
            11.0,
        );
        r += 1;
        for (i, h) in [
            "级别",
            "代码",
            "问题",
            "说明",
            "工作表",
            "上次所在单元格",
            "上次的值",
        ]
        .iter()
        .enumerate()
        {
            sh.text(r, i as u32 + 2, *h, styles.header);
        }
        for x in &info.fixed {
            r += 1;
            for (i, v) in [
                &x.severity,
                &x.code,
                &x.title,
                &x.message,
                &x.sheet,
                &x.cell,
                &x.value,
            ]
            .into_iter()
            .enumerate()
            {
                sh.text(r, i as u32 + 2, v.clone(), styles.wrap);
            }
        }
        if info.fixed.is_empty() {
            r += 1;
            sh.text(r, 2, "无", 0);
        }
    }
    if !info.inputs_note.is_empty() {
        r += 2;
        sh.text(r, 2, "读取的文件", styles.bold);
        for line in &info.inputs_note {
            r += 1;
            sh.line(r, 2, line.clone(), styles.wrap, 11.0);
        }
    }
    let mut totals = format!(
        "共 {} 条：错误 {ne} 条，警告 {nw} 条，提示 {nn} 条。按问题代码、按村的统计见第 {counts_row} 行。",
        fs.len()
    );
    if let (Some(change), Some(fr)) = (&info.change, fixed_row) {
        totals = format!("{change}新出现的标有“{NEW_MARK}”，已改正的列在第 {fr} 行。{totals}");
    }
    sh.line(2, 1, totals, styles.link, 11.0);
    sh.links.push((
        2,
        1,
        format!("{}!A{counts_row}", quote_sheet(own_name)),
        format!("第 {counts_row} 行"),
    ));

    sh.fit_rows();
    SummarySheet {
        sh,
        header,
        last,
        max_row: r,
    }
}

fn sev_index(s: Severity) -> usize {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Notice => 2,
    }
}

/// Pieces of XML this long are passed on to the writer.
const PIECE: usize = 1 << 16;

fn render(
    sh: &Sheet,
    header: u32,
    last: u32,
    max_row: u32,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut x = String::with_capacity(2 * PIECE);
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#);
    x.push('\n');
    x.push_str(r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#);
    // Printed one page wide (as many pages long as the findings need).
    x.push_str(r#"<sheetPr><tabColor rgb="FFC00000"/><pageSetUpPr fitToPage="1"/></sheetPr>"#);
    x.push_str(&format!(
        r#"<dimension ref="A1:{}"/>"#,
        cell_name(max_row.max(1), 9)
    ));
    let top = header + 1;
    x.push_str(&format!(
        r#"<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="{header}" topLeftCell="A{top}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A{top}" sqref="A{top}"/></sheetView></sheetViews>"#
    ));
    x.push_str(r#"<sheetFormatPr defaultRowHeight="15"/><cols>"#);
    for (i, w) in WIDTHS.iter().enumerate() {
        x.push_str(&format!(
            r#"<col min="{0}" max="{0}" width="{w}" customWidth="1"/>"#,
            i + 1
        ));
    }
    x.push_str("</cols><sheetData>");
    for (r, cells) in &sh.rows {
        match sh.heights.get(r) {
            Some(h) => x.push_str(&format!(r#"<row r="{r}" ht="{h}" customHeight="1">"#)),
            None => x.push_str(&format!(r#"<row r="{r}">"#)),
        }
        let mut cells: Vec<&(u32, V, u32)> = cells.iter().collect();
        cells.sort_by_key(|(c, _, _)| *c);
        for (c, v, s) in cells {
            let name = cell_name(*r, *c);
            let s_attr = if *s == 0 {
                String::new()
            } else {
                format!(r#" s="{s}""#)
            };
            match v {
                V::S(t) if t.is_empty() => x.push_str(&format!(r#"<c r="{name}"{s_attr}/>"#)),
                V::S(t) => x.push_str(&format!(
                    r#"<c r="{name}"{s_attr} t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
                    esc(t)
                )),
                V::N(n) => x.push_str(&format!(r#"<c r="{name}"{s_attr}><v>{n}</v></c>"#)),
            }
        }
        x.push_str("</row>");
        if x.len() >= PIECE {
            w.write_all(x.as_bytes())?;
            x.clear();
        }
    }
    x.push_str("</sheetData>");
    x.push_str(&format!(
        r#"<autoFilter ref="A{header}:I{}"/>"#,
        last.max(header)
    ));
    if !sh.merged.is_empty() {
        x.push_str(&format!(r#"<mergeCells count="{}">"#, sh.merged.len()));
        for (r, c) in &sh.merged {
            x.push_str(&format!(
                r#"<mergeCell ref="{}:{}"/>"#,
                cell_name(*r, *c),
                cell_name(*r, WIDTHS.len() as u32)
            ));
        }
        x.push_str("</mergeCells>");
    }
    if !sh.links.is_empty() {
        x.push_str("<hyperlinks>");
        for (r, c, loc, display) in &sh.links {
            x.push_str(&format!(
                r#"<hyperlink ref="{}" location="{}" display="{}"/>"#,
                cell_name(*r, *c),
                esc(loc),
                esc(display)
            ));
            if x.len() >= PIECE {
                w.write_all(x.as_bytes())?;
                x.clear();
            }
        }
        x.push_str("</hyperlinks>");
    }
    x.push_str(
        r#"<pageMargins left="0.25" right="0.25" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#,
    );
    x.push_str(
        r#"<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>"#,
    );
    x.push_str("</worksheet>");
    w.write_all(x.as_bytes())
}

/// The `_xlnm._FilterDatabase` range of the findings table.
pub fn filter_range(sheet_name: &str, header: u32, last: u32) -> String {
    format!(
        "{}!$A${header}:$I${}",
        quote_sheet(sheet_name),
        last.max(header)
    )
}

#[allow(dead_code)]
pub fn local_pairs(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .map(|f| (f.file.clone(), f.sheet.clone()))
        .collect()
}
