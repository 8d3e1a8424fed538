//! The plan step: read what the copy depends on (workbook, sheets, styles,
//! notes, drawings) and decide what changes in which part. Nothing is
//! written here.

use super::content_types::{self, CT_COMMENTS, CT_STYLES, CT_WORKSHEET};
use super::package::{Pkg, corrupt, sheet_err};
use super::rels::{self, Rel, T_COMMENTS, T_STYLES, T_VML, T_WORKSHEET};
use super::workbook::{self, SheetEntry};
use super::{comments, vml};
use crate::annotate::fast;
use crate::annotate::sheet::{self, SheetEdit, SheetError, SheetScan};
use crate::annotate::styles::{self, StylePlan, solid_fill};
use crate::annotate::summary::{self, SumStyles};
use crate::annotate::xml::{dir_of, relative_target, rels_of, resolve_target};
use crate::annotate::{AnnotateError, SummaryInfo, fill_rgb, note_text};
use crate::model::{Finding, Severity, col_number};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufReader, Read, Seek};
use std::path::Path;

const SUMMARY_NAME: &str = "核对说明";
/// A marked sheet's inflated XML is kept between the two passes (instead of
/// being inflated twice) up to this size, and up to `KEEP_TOTAL` per copy.
const KEEP_MAX: u64 = 64 << 20;
const KEEP_TOTAL: u64 = 128 << 20;

/// What the copy changes, part by part.
pub(super) struct Plan {
    /// Parts rewritten whole: name → new bytes.
    pub replaced: BTreeMap<String, Vec<u8>>,
    /// Marked sheets, rewritten by a streaming pass: part → how.
    pub sheets: BTreeMap<String, SheetPlan>,
    /// New parts, written after the input's entries in this order.
    pub added: Vec<(String, Added)>,
    /// Sheet name → worksheet part.
    pub sheet_parts: BTreeMap<String, String>,
}

/// A new part: its bytes, or written straight into the copy. The notes,
/// their drawing and 核对说明 grow with the findings (at a million children,
/// ~0.4 GB of XML if built first), so they are written, never held.
pub(super) enum Added {
    Bytes(Vec<u8>),
    Written(WritePart),
}

/// Writes a part's XML into the copy.
pub(super) type WritePart = Box<dyn FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>>;

/// How a marked sheet is rewritten.
pub(super) struct SheetPlan {
    pub edit: SheetEdit,
    /// The byte-level pass takes it (else the event pass).
    pub fast: bool,
    /// Its inflated XML, when small enough to keep from the first pass.
    pub kept: Option<Vec<u8>>,
}

/// One cell to mark: the most severe finding's severity and the note text.
#[derive(Clone, Debug)]
struct Mark {
    severity: Severity,
    texts: Vec<String>,
}

type Marks = BTreeMap<String, BTreeMap<(u32, u32), Mark>>;

/// The workbook part, its relationships and its sheets.
struct Workbook {
    part: String,
    xml: Vec<u8>,
    dir: String,
    rels_part: String,
    rels_xml: Vec<u8>,
    rels: Vec<Rel>,
    sheets: Vec<SheetEntry>,
    /// Sheet name → worksheet part.
    sheet_parts: BTreeMap<String, String>,
}

fn read_workbook<R: Read + Seek>(pkg: &mut Pkg<R>) -> Result<Workbook, AnnotateError> {
    let input = pkg.path.clone();
    let input = input.as_path();
    let root_rels = pkg.read("_rels/.rels")?.unwrap_or_default();
    let part = rels::parse(&root_rels, input)?
        .into_iter()
        .find(|r| r.typ.ends_with("/officeDocument"))
        .map(|r| resolve_target("", &r.target))
        .unwrap_or_else(|| "xl/workbook.xml".to_string());
    let xml = pkg
        .read(&part)?
        .ok_or_else(|| corrupt(input, format!("缺少工作簿部件 {part}")))?;
    let dir = dir_of(&part).to_string();
    let rels_part = rels_of(&part);
    let rels_xml = pkg
        .read(&rels_part)?
        .ok_or_else(|| corrupt(input, format!("缺少 {rels_part}")))?;
    let rels = rels::parse(&rels_xml, input)?;
    let sheets = workbook::parse_sheets(&xml, input)?;
    let mut sheet_parts: BTreeMap<String, String> = BTreeMap::new();
    for s in &sheets {
        if let Some(rel) = rels.iter().find(|r| r.id == s.rid)
            && rel.typ.ends_with("/worksheet")
            && !rel.external
        {
            sheet_parts.insert(s.name.clone(), resolve_target(&dir, &rel.target));
        }
    }
    Ok(Workbook {
        part,
        xml,
        dir,
        rels_part,
        rels_xml,
        rels,
        sheets,
        sheet_parts,
    })
}

/// The cells to mark, per sheet: findings on a known sheet and cell.
fn marks(findings: &[Finding], sheet_parts: &BTreeMap<String, String>) -> Marks {
    let mut marks: Marks = BTreeMap::new();
    for f in findings {
        let Some(col) = col_number(&f.column.trim().to_ascii_uppercase()) else {
            continue;
        };
        if f.row == 0 || !sheet_parts.contains_key(&f.sheet) {
            continue;
        }
        let m = marks
            .entry(f.sheet.clone())
            .or_default()
            .entry((f.row, col))
            .or_insert(Mark {
                severity: f.severity,
                texts: Vec::new(),
            });
        m.severity = m.severity.min(f.severity);
        m.texts.push(note_text(f));
    }
    marks
}

/// The first pass over the marked sheets.
struct Scanned {
    /// Sheet name → what the first pass found.
    scans: BTreeMap<String, SheetScan>,
    /// Sheet parts the byte-level passes take.
    fast_ok: BTreeSet<String>,
    /// The inflated XML of the sheets small enough to keep for the second
    /// pass (part → bytes).
    kept: BTreeMap<String, Vec<u8>>,
}

fn scan_sheets<R: Read + Seek>(
    pkg: &mut Pkg<R>,
    output: &Path,
    sheet_parts: &BTreeMap<String, String>,
    marks: &Marks,
) -> Result<Scanned, AnnotateError> {
    let input = pkg.path.clone();
    let input = input.as_path();
    let mut scans: BTreeMap<String, SheetScan> = BTreeMap::new();
    let mut fast_ok: BTreeSet<String> = BTreeSet::new();
    let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut kept_total = 0u64;
    for (sheet_name, cells) in marks {
        let part = &sheet_parts[sheet_name];
        let Some(i) = pkg.find(part) else {
            return Err(corrupt(input, format!("缺少工作表部件 {part}")));
        };
        let keys: BTreeSet<(u32, u32)> = cells.keys().copied().collect();
        let (data, fast) = {
            let mut zf = pkg.zip.by_index(i).map_err(|e| corrupt(input, e))?;
            let size = zf.size();
            if size <= KEEP_MAX && kept_total + size <= KEEP_TOTAL {
                let mut v = Vec::with_capacity(size as usize);
                zf.read_to_end(&mut v)
                    .map_err(|e| sheet_err(input, output, part, SheetError::Io(e)))?;
                kept_total += v.len() as u64;
                let fast = fast::scan(&v[..], &keys);
                (Some(v), fast)
            } else {
                (None, fast::scan(zf, &keys))
            }
        };
        let fast = fast.map_err(|e| sheet_err(input, output, part, e))?;
        let scan = match (fast, &data) {
            (Some(s), _) => {
                fast_ok.insert(part.clone());
                s
            }
            (None, Some(v)) => {
                sheet::scan(&v[..], &keys).map_err(|e| sheet_err(input, output, part, e))?
            }
            (None, None) => {
                let zf = pkg.zip.by_index(i).map_err(|e| corrupt(input, e))?;
                sheet::scan(BufReader::with_capacity(1 << 16, zf), &keys)
                    .map_err(|e| sheet_err(input, output, part, e))?
            }
        };
        if let Some(v) = data {
            kept.insert(part.clone(), v);
        }
        scans.insert(sheet_name.clone(), scan);
    }
    Ok(Scanned {
        scans,
        fast_ok,
        kept,
    })
}

/// The styles part and what is appended to it.
struct Styles {
    part: String,
    /// The rewritten (or new) part.
    xml: Vec<u8>,
    /// The workbook has no styles part: this one is added.
    is_new: bool,
    /// The part the workbook's styles relationship names, if it has one.
    rel: Option<String>,
    /// The number of cell formats before ours.
    xf0: u32,
    summary: SumStyles,
    /// (base cell format, severity) → the copy with the severity's fill.
    copy_index: HashMap<(u32, Severity), u32>,
}

impl Styles {
    /// The cell format a marked cell gets: its own, with the fill replaced.
    fn marked(&self, scan: &SheetScan, (r, c): (u32, u32), severity: Severity) -> u32 {
        self.copy_index[&(self.base(scan, r, c), severity)]
    }
    fn base(&self, scan: &SheetScan, r: u32, c: u32) -> u32 {
        let base = scan.base_style(r, c);
        if base < self.xf0 { base } else { 0 }
    }
}

fn plan_styles<R: Read + Seek>(
    pkg: &mut Pkg<R>,
    wb: &Workbook,
    marks: &Marks,
    scans: &BTreeMap<String, SheetScan>,
) -> Result<Styles, AnnotateError> {
    let input = pkg.path.clone();
    let input = input.as_path();
    let wb_dir = &wb.dir;
    // A workbook without a styles part (some generators write none) gets a
    // minimal one: every cell's style 0 is the default format anyway.
    let styles_rel = wb
        .rels
        .iter()
        .find(|r| r.typ.ends_with("/styles") && !r.external)
        .map(|r| resolve_target(wb_dir, &r.target));
    let existing_styles = match &styles_rel {
        Some(p) => pkg.read(p)?.map(|x| (p.clone(), x)),
        None => None,
    };
    let (styles_part, styles_xml, styles_is_new) = match existing_styles {
        Some((p, x)) => (p, x, false),
        None => {
            let p = styles_rel.clone().unwrap_or_else(|| {
                format!("{wb_dir}/styles.xml")
                    .trim_start_matches('/')
                    .to_string()
            });
            let p = if pkg.exists(&p) {
                format!("{wb_dir}/styles_tz.xml")
                    .trim_start_matches('/')
                    .to_string()
            } else {
                p
            };
            (p, styles::MINIMAL.as_bytes().to_vec(), true)
        }
    };
    let counts = styles::scan(&styles_xml, input)?;
    let font0 = counts.fonts;
    let fill0 = counts.fills;
    let xf0 = counts.xfs;
    let mut plan = StylePlan {
        fonts: vec![
            r#"<font><b/><sz val="16"/><color rgb="FFC00000"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#.into(),
            r#"<font><b/><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#.into(),
            r#"<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#.into(),
        ],
        fills: vec![
            solid_fill(fill_rgb(Severity::Error)),
            solid_fill(fill_rgb(Severity::Warning)),
            solid_fill(fill_rgb(Severity::Notice)),
            solid_fill("FFD9D9D9"),
        ],
        new_xfs: Vec::new(),
        copies: Vec::new(),
        last_xfs: Vec::new(),
    };
    // Every format of 核对说明 wraps its text at the top of the cell: the
    // sheet's columns are narrow enough to print large on one page width.
    let xf = |font: u32, fill: u32| {
        format!(
            r#"<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#
        )
    };
    plan.new_xfs = vec![
        xf(font0, 0),
        xf(font0 + 1, fill0 + 3),
        xf(font0 + 1, 0),
        xf(font0 + 2, 0),
        xf(0, fill0),
        xf(0, fill0 + 1),
        xf(0, fill0 + 2),
    ];
    let summary = SumStyles {
        title: xf0,
        header: xf0 + 1,
        bold: xf0 + 2,
        link: xf0 + 3,
        error: xf0 + 4,
        warning: xf0 + 5,
        notice: xf0 + 6,
        // Set below: after the marked cells' copies, so that adding it
        // shifts no format index the data sheets use.
        wrap: 0,
    };
    let sev_fill = |s: Severity| match s {
        Severity::Error => fill0,
        Severity::Warning => fill0 + 1,
        Severity::Notice => fill0 + 2,
    };
    let mut out = Styles {
        part: styles_part,
        xml: Vec::new(),
        is_new: styles_is_new,
        rel: styles_rel,
        xf0,
        summary,
        copy_index: HashMap::new(),
    };
    let mut needed: BTreeSet<(u32, Severity)> = BTreeSet::new();
    for (sheet_name, cells) in marks {
        let scan = &scans[sheet_name];
        for ((r, c), m) in cells {
            needed.insert((out.base(scan, *r, *c), m.severity));
        }
    }
    let first_copy = xf0 + plan.new_xfs.len() as u32;
    for (i, (base, sev)) in needed.iter().enumerate() {
        plan.copies.push((*base, sev_fill(*sev)));
        out.copy_index.insert((*base, *sev), first_copy + i as u32);
    }
    out.summary.wrap = first_copy + plan.copies.len() as u32;
    plan.last_xfs.push(xf(0, 0));
    out.xml = styles::rewrite(&styles_xml, &plan, input)?;
    Ok(out)
}

/// Names for new parts: none taken by the package (case-insensitive) or
/// by an earlier new part.
struct Names(BTreeSet<String>);

impl Names {
    fn alloc(&mut self, pattern: &dyn Fn(u32) -> String) -> String {
        let mut k = 1;
        loop {
            let p = pattern(k);
            if !self.0.contains(&p.to_ascii_lowercase()) {
                self.0.insert(p.to_ascii_lowercase());
                return p;
            }
            k += 1;
        }
    }
}

/// Changes gathered part by part.
#[derive(Default)]
struct Changes {
    replaced: BTreeMap<String, Vec<u8>>,
    added: Vec<(String, Added)>,
    /// Content type overrides for the new parts.
    overrides: Vec<(String, &'static str)>,
    /// A new VML drawing needs the `.vml` default content type.
    vml_default: bool,
    /// Worksheet part → its edit.
    edits: BTreeMap<String, SheetEdit>,
}

/// The notes of one marked sheet: its comments part (new or merged), its
/// VML drawing (new or merged), its rels; and the sheet's edit.
#[allow(clippy::too_many_arguments)]
fn plan_notes<R: Read + Seek>(
    pkg: &mut Pkg<R>,
    part: &str,
    scan: &SheetScan,
    cells: &BTreeMap<(u32, u32), Mark>,
    styles: &Styles,
    names: &mut Names,
    vml_used: &mut BTreeSet<u32>,
    ch: &mut Changes,
) -> Result<(), AnnotateError> {
    let input = pkg.path.clone();
    let input = input.as_path();
    let mut edit = SheetEdit::default();
    for (k, m) in cells {
        let s = styles.marked(scan, *k, m.severity);
        edit.cells.entry(k.0).or_default().insert(k.1, s);
    }
    let notes: BTreeMap<(u32, u32), String> = cells
        .iter()
        .map(|(k, m)| (*k, m.texts.join("\n\n")))
        .collect();
    let sheet_dir = dir_of(part).to_string();
    let rels_part = rels_of(part);
    let rels_xml = pkg.read(&rels_part)?;
    let sheet_rels = match &rels_xml {
        Some(x) => rels::parse(x, input)?,
        None => Vec::new(),
    };
    let mut new_rels: Vec<Rel> = Vec::new();
    let mut used_ids: BTreeSet<String> = sheet_rels.iter().map(|r| r.id.clone()).collect();
    // comments
    let existing_comments = sheet_rels
        .iter()
        .find(|r| r.typ == T_COMMENTS || r.typ.ends_with("/comments"))
        .map(|r| resolve_target(&sheet_dir, &r.target));
    let mut had_note: BTreeSet<(u32, u32)> = BTreeSet::new();
    // A new comments part, written from `notes` once the shapes are known.
    let mut new_comments = None;
    match existing_comments.as_ref().filter(|p| pkg.exists(p)) {
        Some(cpart) => {
            let xml = pkg.read(cpart)?.unwrap_or_default();
            let (new, had) = comments::merge(&xml, &notes)
                .map_err(|e| corrupt(input, format!("{cpart}：{e}")))?;
            had_note = had;
            ch.replaced.insert(cpart.clone(), new);
        }
        None => {
            let cpart = names.alloc(&|k| format!("xl/comments{k}.xml"));
            new_comments = Some(cpart.clone());
            ch.overrides.push((format!("/{cpart}"), CT_COMMENTS));
            new_rels.push(Rel {
                id: rels::next_id(&mut used_ids),
                typ: T_COMMENTS.into(),
                target: relative_target(&sheet_dir, &cpart),
                external: false,
            });
        }
    }
    // VML shapes for the cells that have none yet
    let shape_cells: Vec<((u32, u32), usize)> = notes
        .iter()
        .filter(|(k, _)| !had_note.contains(k))
        .map(|(k, t)| (*k, t.lines().count() + 2))
        .collect();
    if let Some(cpart) = new_comments {
        ch.added.push((
            cpart,
            Added::Written(Box::new(move |w| comments::write_new_part(&notes, w))),
        ));
    }
    let existing_vml = scan
        .legacy_rid
        .as_ref()
        .and_then(|id| sheet_rels.iter().find(|r| &r.id == id))
        .map(|r| resolve_target(&sheet_dir, &r.target))
        .filter(|p| pkg.exists(p));
    match existing_vml {
        Some(vpart) => {
            let xml = pkg.read(&vpart)?.unwrap_or_default();
            ch.replaced
                .insert(vpart, vml::merge(&xml, &shape_cells, vml_used));
        }
        None => {
            let vpart = names.alloc(&|k| format!("xl/drawings/vmlDrawing{k}.vml"));
            let blocks = vml::free_blocks(vml_used, vml::shape_blocks(shape_cells.len()));
            vml_used.extend(blocks.clone());
            ch.added.push((
                vpart.clone(),
                Added::Written(Box::new(move |w| {
                    vml::write_new_part(&shape_cells, &blocks, w)
                })),
            ));
            ch.vml_default = true;
            let id = rels::next_id(&mut used_ids);
            new_rels.push(Rel {
                id: id.clone(),
                typ: T_VML.into(),
                target: relative_target(&sheet_dir, &vpart),
                external: false,
            });
            edit.legacy_rid = Some(id);
        }
    }
    if !new_rels.is_empty() {
        match &rels_xml {
            Some(x) => {
                let new = rels::append(x, &new_rels)
                    .map_err(|e| corrupt(input, format!("{rels_part}：{e}")))?;
                ch.replaced.insert(rels_part, new);
            }
            None => ch.added.push((
                rels_part,
                Added::Bytes(rels::new_part(&new_rels).into_bytes()),
            )),
        }
    }
    ch.edits.insert(part.to_string(), edit);
    Ok(())
}

/// Decide every change of the copy: fills and notes on every finding's
/// cell, a first sheet 核对说明, and the parts that must follow (styles,
/// rels, workbook, content types). `output` names the copy in messages.
pub(super) fn plan<R: Read + Seek>(
    pkg: &mut Pkg<R>,
    output: &Path,
    findings: &[Finding],
    info: &SummaryInfo,
) -> Result<Plan, AnnotateError> {
    let input = pkg.path.clone();
    let input = input.as_path();
    let wb = read_workbook(pkg)?;
    let marks = marks(findings, &wb.sheet_parts);
    let Scanned {
        scans,
        fast_ok,
        mut kept,
    } = scan_sheets(pkg, output, &wb.sheet_parts, &marks)?;
    let styles = plan_styles(pkg, &wb, &marks, &scans)?;

    let mut names = Names(pkg.names.iter().map(|n| n.to_ascii_lowercase()).collect());
    let mut ch = Changes::default();
    // Every VML drawing already in the package claims its idmap blocks and
    // the blocks of its shape ids (Excel: shape `_x0000_s<1024*block+n>`).
    let mut vml_used: BTreeSet<u32> = BTreeSet::new();
    let vml_names: Vec<String> = pkg
        .names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".vml"))
        .cloned()
        .collect();
    for n in &vml_names {
        if let Some(x) = pkg.read(n)? {
            let ids = vml::vml_ids(&x);
            vml_used.extend(ids.blocks.iter().copied());
            vml_used.extend(ids.shapes.iter().map(|s| s / 1024));
        }
    }
    for (sheet_name, cells) in &marks {
        let part = wb.sheet_parts[sheet_name].clone();
        plan_notes(
            pkg,
            &part,
            &scans[sheet_name],
            cells,
            &styles,
            &mut names,
            &mut vml_used,
            &mut ch,
        )?;
    }

    let mut wb_new_rels: Vec<Rel> = Vec::new();
    let mut wb_ids: BTreeSet<String> = wb.rels.iter().map(|r| r.id.clone()).collect();
    if styles.is_new {
        ch.added
            .push((styles.part.clone(), Added::Bytes(styles.xml)));
        ch.overrides.push((format!("/{}", styles.part), CT_STYLES));
        // A dangling styles relationship (part missing) now has its part.
        if styles.rel.is_none() {
            wb_new_rels.push(Rel {
                id: rels::next_id(&mut wb_ids),
                typ: T_STYLES.into(),
                target: relative_target(&wb.dir, &styles.part),
                external: false,
            });
        }
    } else {
        ch.replaced.insert(styles.part, styles.xml);
    }

    // ---- the summary sheet ----
    let existing_names: BTreeSet<String> =
        wb.sheets.iter().map(|s| s.name.to_lowercase()).collect();
    let mut sum_name = SUMMARY_NAME.to_string();
    let mut k = 2;
    while existing_names.contains(&sum_name.to_lowercase()) {
        sum_name = format!("{SUMMARY_NAME}{k}");
        k += 1;
    }
    let mut local: BTreeSet<(String, String)> = BTreeSet::new();
    let mut files: BTreeSet<String> = findings.iter().map(|f| f.file.clone()).collect();
    if let Some(n) = input.file_name() {
        files.insert(n.to_string_lossy().into_owned());
    }
    for f in &files {
        for s in wb.sheet_parts.keys() {
            local.insert((f.clone(), s.clone()));
        }
    }
    let sum = summary::sheet_xml(info, &sum_name, styles.summary, &local);
    let (header, last) = (sum.header, sum.last);
    let wb_dir = &wb.dir;
    let sum_part = names.alloc(&|k| {
        format!("{wb_dir}/worksheets/sheet{k}.xml")
            .trim_start_matches('/')
            .to_string()
    });
    ch.added.insert(
        0,
        (
            sum_part.clone(),
            Added::Written(Box::new(move |w| sum.write(w))),
        ),
    );
    ch.overrides
        .insert(0, (format!("/{sum_part}"), CT_WORKSHEET));
    let sum_rid = rels::next_id(&mut wb_ids);
    let sum_rel = Rel {
        id: sum_rid.clone(),
        typ: T_WORKSHEET.into(),
        target: relative_target(wb_dir, &sum_part),
        external: false,
    };
    let wb_rels_part = &wb.rels_part;
    ch.replaced.insert(
        wb_rels_part.clone(),
        rels::append(&wb.rels_xml, &{
            let mut v = vec![sum_rel];
            v.extend(wb_new_rels);
            v
        })
        .map_err(|e| corrupt(input, format!("{wb_rels_part}：{e}")))?,
    );
    let max_id = wb.sheets.iter().map(|s| s.sheet_id).max().unwrap_or(0);
    let wb_part = &wb.part;
    let new_wb = workbook::put_first(
        &wb.xml,
        &sum_name,
        max_id + 1,
        &sum_rid,
        &summary::filter_range(&sum_name, header, last),
    )
    .map_err(|e| corrupt(input, format!("{wb_part}：{e}")))?;
    ch.replaced.insert(wb_part.clone(), new_wb);
    let ct_xml = pkg
        .read("[Content_Types].xml")?
        .ok_or_else(|| corrupt(input, "缺少 [Content_Types].xml"))?;
    ch.replaced.insert(
        "[Content_Types].xml".into(),
        content_types::rewrite(&ct_xml, &ch.overrides, ch.vml_default)
            .map(crate::annotate::untemplate_content_types)
            .map_err(|e| corrupt(input, format!("[Content_Types].xml：{e}")))?,
    );

    let sheets = ch
        .edits
        .into_iter()
        .map(|(part, edit)| {
            let plan = SheetPlan {
                edit,
                fast: fast_ok.contains(&part),
                kept: kept.remove(&part),
            };
            (part, plan)
        })
        .collect();
    Ok(Plan {
        replaced: ch.replaced,
        sheets,
        added: ch.added,
        sheet_parts: wb.sheet_parts,
    })
}
