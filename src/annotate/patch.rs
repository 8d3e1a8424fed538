//! The package patcher: raw-copy what need not change, rewrite the rest.

use super::fast;
use super::sheet::{self, SheetEdit, SheetError, SheetScan};
use super::styles::{self, StylePlan, solid_fill};
use super::summary::{self, SumStyles};
use super::xml::{attr, declares_r, esc, is_main, prefix_of, with_attr};
use super::{AnnotateError, SummaryInfo, fill_rgb, note_text};
use crate::model::{Finding, Severity, col_number};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

const T_WORKSHEET: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const T_COMMENTS: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments";
const T_VML: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing";
const CT_WORKSHEET: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const CT_COMMENTS: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml";
const CT_VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";
const T_STYLES: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles";
const CT_STYLES: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";
const AUTHOR: &str = "台账核对";
const SUMMARY_NAME: &str = "核对说明";
/// A marked sheet's inflated XML is kept between the two passes (instead of
/// being inflated twice) up to this size, and up to `KEEP_TOTAL` per copy.
const KEEP_MAX: u64 = 64 << 20;
const KEEP_TOTAL: u64 = 128 << 20;

#[derive(Clone, Debug)]
struct Rel {
    id: String,
    typ: String,
    target: String,
    external: bool,
}

/// One cell to mark: the most severe finding's severity and the note text.
#[derive(Clone, Debug)]
struct Mark {
    severity: Severity,
    texts: Vec<String>,
}

struct Pkg<R: Read + Seek> {
    zip: ZipArchive<R>,
    names: Vec<String>,
    index: HashMap<String, usize>,
    path: std::path::PathBuf,
}

impl<R: Read + Seek> Pkg<R> {
    fn find(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .or_else(|| self.index.get(&name.to_ascii_lowercase()))
            .copied()
    }
    fn exists(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, AnnotateError> {
        let Some(i) = self.find(name) else {
            return Ok(None);
        };
        let path = self.path.clone();
        let mut f = self.zip.by_index(i).map_err(|e| corrupt(&path, e))?;
        let mut v = Vec::new();
        f.read_to_end(&mut v).map_err(|e| corrupt(&path, e))?;
        Ok(Some(v))
    }
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> AnnotateError {
    AnnotateError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> AnnotateError {
    AnnotateError::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

fn sheet_err(input: &Path, output: &Path, part: &str, e: SheetError) -> AnnotateError {
    match e {
        SheetError::Xml(m) => corrupt(input, format!("{part}：{m}")),
        SheetError::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            corrupt(input, format!("{part}：{e}"))
        }
        SheetError::Io(e) => write_err(output, e),
    }
}

fn file_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        // Level 1: several times faster than the default 6 on large sheets,
        // for a file about a tenth larger.
        .compression_level(Some(1))
        .last_modified_time(DateTime::default())
}

/// Patch the package read from `reader` into `tmp`. `input` names the
/// input in messages; `output` is the final name (for messages).
pub fn patch_package<R: Read + Seek>(
    mut reader: R,
    input: &Path,
    tmp: &Path,
    output: &Path,
    findings: &[Finding],
    info: &SummaryInfo,
) -> Result<(), AnnotateError> {
    let mut magic = [0u8; 8];
    let n = reader.read(&mut magic).map_err(|e| corrupt(input, e))?;
    if n == 8 && magic == [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
        return Err(AnnotateError::Encrypted {
            path: input.to_path_buf(),
        });
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| corrupt(input, e))?;
    let mut zip = ZipArchive::new(reader).map_err(|e| corrupt(input, e))?;
    let mut names = Vec::with_capacity(zip.len());
    let mut index = HashMap::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| corrupt(input, e))?;
        if f.encrypted() {
            return Err(AnnotateError::Encrypted {
                path: input.to_path_buf(),
            });
        }
        let name = f.name().map_err(|e| corrupt(input, e))?.to_string();
        index.insert(name.clone(), i);
        index.entry(name.to_ascii_lowercase()).or_insert(i);
        names.push(name);
    }
    let mut pkg = Pkg {
        zip,
        names,
        index,
        path: input.to_path_buf(),
    };

    // ---- workbook, its rels and sheets ----
    let root_rels = pkg.read("_rels/.rels")?.unwrap_or_default();
    let wb_part = parse_rels(&root_rels, input)?
        .into_iter()
        .find(|r| r.typ.ends_with("/officeDocument"))
        .map(|r| super::xml::resolve_target("", &r.target))
        .unwrap_or_else(|| "xl/workbook.xml".to_string());
    let wb_xml = pkg
        .read(&wb_part)?
        .ok_or_else(|| corrupt(input, format!("缺少工作簿部件 {wb_part}")))?;
    let wb_dir = super::xml::dir_of(&wb_part).to_string();
    let wb_rels_part = super::xml::rels_of(&wb_part);
    let wb_rels_xml = pkg
        .read(&wb_rels_part)?
        .ok_or_else(|| corrupt(input, format!("缺少 {wb_rels_part}")))?;
    let wb_rels = parse_rels(&wb_rels_xml, input)?;
    let sheets = parse_sheets(&wb_xml, input)?;
    let mut sheet_parts: BTreeMap<String, String> = BTreeMap::new(); // name → part
    for (name, _, rid) in &sheets {
        if let Some(rel) = wb_rels.iter().find(|r| &r.id == rid)
            && rel.typ.ends_with("/worksheet")
            && !rel.external
        {
            sheet_parts.insert(
                name.clone(),
                super::xml::resolve_target(&wb_dir, &rel.target),
            );
        }
    }

    // ---- marks per sheet ----
    let mut marks: BTreeMap<String, BTreeMap<(u32, u32), Mark>> = BTreeMap::new();
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

    // ---- first pass over the marked sheets ----
    let mut scans: BTreeMap<String, SheetScan> = BTreeMap::new();
    // Sheets the byte-level passes take, and the inflated XML of the sheets
    // small enough to keep for the second pass (part → bytes).
    let mut fast_ok: BTreeSet<String> = BTreeSet::new();
    let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut kept_total = 0u64;
    for (sheet_name, cells) in &marks {
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

    // ---- styles ----
    // A workbook without a styles part (some generators write none) gets a
    // minimal one: every cell's style 0 is the default format anyway.
    let styles_rel = wb_rels
        .iter()
        .find(|r| r.typ.ends_with("/styles") && !r.external)
        .map(|r| super::xml::resolve_target(&wb_dir, &r.target));
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
    };
    let xf = |font: u32, fill: u32| {
        format!(
            r#"<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0" applyFont="1" applyFill="1"/>"#
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
    let sum_styles = SumStyles {
        title: xf0,
        header: xf0 + 1,
        bold: xf0 + 2,
        link: xf0 + 3,
        error: xf0 + 4,
        warning: xf0 + 5,
        notice: xf0 + 6,
    };
    let sev_fill = |s: Severity| match s {
        Severity::Error => fill0,
        Severity::Warning => fill0 + 1,
        Severity::Notice => fill0 + 2,
    };
    let mut needed: BTreeSet<(u32, Severity)> = BTreeSet::new();
    for (sheet_name, cells) in &marks {
        let scan = &scans[sheet_name];
        for ((r, c), m) in cells {
            let base = scan.base_style(*r, *c);
            let base = if base < xf0 { base } else { 0 };
            needed.insert((base, m.severity));
        }
    }
    let mut copy_index: HashMap<(u32, Severity), u32> = HashMap::new();
    let first_copy = xf0 + plan.new_xfs.len() as u32;
    for (i, (base, sev)) in needed.iter().enumerate() {
        plan.copies.push((*base, sev_fill(*sev)));
        copy_index.insert((*base, *sev), first_copy + i as u32);
    }
    let new_styles = styles::rewrite(&styles_xml, &plan, input)?;

    // ---- names for new parts ----
    let mut taken: BTreeSet<String> = pkg.names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut alloc = |pattern: &dyn Fn(u32) -> String| -> String {
        let mut k = 1;
        loop {
            let p = pattern(k);
            if !taken.contains(&p.to_ascii_lowercase()) {
                taken.insert(p.to_ascii_lowercase());
                return p;
            }
            k += 1;
        }
    };

    let mut replaced: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut added: Vec<(String, Vec<u8>)> = Vec::new();
    let mut overrides: Vec<(String, &'static str)> = Vec::new();
    let mut need_vml_default = false;
    let mut edits: BTreeMap<String, SheetEdit> = BTreeMap::new(); // part → edit
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
            let ids = vml_ids(&x);
            vml_used.extend(ids.blocks.iter().copied());
            vml_used.extend(ids.shapes.iter().map(|s| s / 1024));
        }
    }

    for (sheet_name, cells) in &marks {
        let part = sheet_parts[sheet_name].clone();
        let scan = &scans[sheet_name];
        let mut edit = SheetEdit::default();
        for ((r, c), m) in cells {
            let base = scan.base_style(*r, *c);
            let base = if base < xf0 { base } else { 0 };
            let s = copy_index[&(base, m.severity)];
            edit.cells.entry(*r).or_default().insert(*c, s);
        }
        let notes: BTreeMap<(u32, u32), String> = cells
            .iter()
            .map(|(k, m)| (*k, m.texts.join("\n\n")))
            .collect();
        let sheet_dir = super::xml::dir_of(&part).to_string();
        let rels_part = super::xml::rels_of(&part);
        let rels_xml = pkg.read(&rels_part)?;
        let rels = match &rels_xml {
            Some(x) => parse_rels(x, input)?,
            None => Vec::new(),
        };
        let mut new_rels: Vec<Rel> = Vec::new();
        let mut used_ids: BTreeSet<String> = rels.iter().map(|r| r.id.clone()).collect();
        let next_id = |used: &mut BTreeSet<String>| -> String {
            let mut k = 1;
            loop {
                let id = format!("rIdTz{k}");
                if used.insert(id.clone()) {
                    return id;
                }
                k += 1;
            }
        };
        // comments
        let existing_comments = rels
            .iter()
            .find(|r| r.typ == T_COMMENTS || r.typ.ends_with("/comments"))
            .map(|r| super::xml::resolve_target(&sheet_dir, &r.target));
        let mut had_note: BTreeSet<(u32, u32)> = BTreeSet::new();
        match existing_comments.as_ref().filter(|p| pkg.exists(p)) {
            Some(cpart) => {
                let xml = pkg.read(cpart)?.unwrap_or_default();
                let (new, had) = merge_comments(&xml, &notes)
                    .map_err(|e| corrupt(input, format!("{cpart}：{e}")))?;
                had_note = had;
                replaced.insert(cpart.clone(), new);
            }
            None => {
                let cpart = alloc(&|k| format!("xl/comments{k}.xml"));
                added.push((cpart.clone(), new_comments(&notes).into_bytes()));
                overrides.push((format!("/{cpart}"), CT_COMMENTS));
                new_rels.push(Rel {
                    id: next_id(&mut used_ids),
                    typ: T_COMMENTS.into(),
                    target: super::xml::relative_target(&sheet_dir, &cpart),
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
        let existing_vml = scan
            .legacy_rid
            .as_ref()
            .and_then(|id| rels.iter().find(|r| &r.id == id))
            .map(|r| super::xml::resolve_target(&sheet_dir, &r.target))
            .filter(|p| pkg.exists(p));
        match existing_vml {
            Some(vpart) => {
                let xml = pkg.read(&vpart)?.unwrap_or_default();
                replaced.insert(vpart, merge_vml(&xml, &shape_cells, &mut vml_used));
            }
            None => {
                let vpart = alloc(&|k| format!("xl/drawings/vmlDrawing{k}.vml"));
                let blocks = free_blocks(&vml_used, shape_blocks(shape_cells.len()));
                vml_used.extend(blocks.clone());
                added.push((vpart.clone(), new_vml(&shape_cells, &blocks).into_bytes()));
                need_vml_default = true;
                let id = next_id(&mut used_ids);
                new_rels.push(Rel {
                    id: id.clone(),
                    typ: T_VML.into(),
                    target: super::xml::relative_target(&sheet_dir, &vpart),
                    external: false,
                });
                edit.legacy_rid = Some(id);
            }
        }
        if !new_rels.is_empty() {
            match &rels_xml {
                Some(x) => {
                    let new = add_rels(x, &new_rels)
                        .map_err(|e| corrupt(input, format!("{rels_part}：{e}")))?;
                    replaced.insert(rels_part, new);
                }
                None => added.push((rels_part, new_rels_part(&new_rels).into_bytes())),
            }
        }
        edits.insert(part, edit);
    }
    let mut wb_new_rels: Vec<Rel> = Vec::new();
    let mut wb_ids: BTreeSet<String> = wb_rels.iter().map(|r| r.id.clone()).collect();
    let mut wb_next_id = || {
        let mut k = 1;
        loop {
            let id = format!("rIdTz{k}");
            if wb_ids.insert(id.clone()) {
                return id;
            }
            k += 1;
        }
    };
    if styles_is_new {
        added.push((styles_part.clone(), new_styles));
        overrides.push((format!("/{styles_part}"), CT_STYLES));
        // A dangling styles relationship (part missing) now has its part.
        if styles_rel.is_none() {
            wb_new_rels.push(Rel {
                id: wb_next_id(),
                typ: T_STYLES.into(),
                target: super::xml::relative_target(&wb_dir, &styles_part),
                external: false,
            });
        }
    } else {
        replaced.insert(styles_part, new_styles);
    }

    // ---- the summary sheet ----
    let existing_names: BTreeSet<String> =
        sheets.iter().map(|(n, _, _)| n.to_lowercase()).collect();
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
        for s in sheet_parts.keys() {
            local.insert((f.clone(), s.clone()));
        }
    }
    let (sum_xml, header, last) = summary::sheet_xml(info, &sum_name, sum_styles, &local);
    let sum_part = alloc(&|k| {
        format!("{wb_dir}/worksheets/sheet{k}.xml")
            .trim_start_matches('/')
            .to_string()
    });
    added.insert(0, (sum_part.clone(), sum_xml.into_bytes()));
    overrides.insert(0, (format!("/{sum_part}"), CT_WORKSHEET));
    let sum_rid = wb_next_id();
    let sum_rel = Rel {
        id: sum_rid.clone(),
        typ: T_WORKSHEET.into(),
        target: super::xml::relative_target(&wb_dir, &sum_part),
        external: false,
    };
    replaced.insert(
        wb_rels_part.clone(),
        add_rels(&wb_rels_xml, &{
            let mut v = vec![sum_rel];
            v.extend(wb_new_rels);
            v
        })
        .map_err(|e| corrupt(input, format!("{wb_rels_part}：{e}")))?,
    );
    let max_id = sheets.iter().map(|(_, id, _)| *id).max().unwrap_or(0);
    let new_wb = rewrite_workbook(
        &wb_xml,
        &sum_name,
        max_id + 1,
        &sum_rid,
        &summary::filter_range(&sum_name, header, last),
    )
    .map_err(|e| corrupt(input, format!("{wb_part}：{e}")))?;
    replaced.insert(wb_part.clone(), new_wb);
    let ct_xml = pkg
        .read("[Content_Types].xml")?
        .ok_or_else(|| corrupt(input, "缺少 [Content_Types].xml"))?;
    replaced.insert(
        "[Content_Types].xml".into(),
        rewrite_content_types(&ct_xml, &overrides, need_vml_default)
            .map(super::untemplate_content_types)
            .map_err(|e| corrupt(input, format!("[Content_Types].xml：{e}")))?,
    );

    // ---- write ----
    let file = std::fs::File::create(tmp).map_err(|e| write_err(output, e))?;
    let mut zw = ZipWriter::new(BufWriter::new(file));
    let names = pkg.names.clone();
    for (i, name) in names.iter().enumerate() {
        if let Some(bytes) = replaced.get(name) {
            zw.start_file(name.as_str(), file_options())
                .map_err(|e| write_err(output, e))?;
            zw.write_all(bytes).map_err(|e| write_err(output, e))?;
        } else if let Some(edit) = edits.get(name) {
            let zf = pkg.zip.by_index(i).map_err(|e| corrupt(input, e))?;
            let big = zf.size() > 2_000_000_000;
            zw.start_file(name.as_str(), file_options().large_file(big))
                .map_err(|e| write_err(output, e))?;
            {
                let mut out = BufWriter::with_capacity(1 << 16, &mut zw);
                let fast = fast_ok.contains(name);
                match (kept.get(name), fast) {
                    (Some(v), true) => fast::rewrite(&v[..], &mut out, edit),
                    (Some(v), false) => sheet::rewrite(&v[..], &mut out, edit),
                    (None, true) => fast::rewrite(zf, &mut out, edit),
                    (None, false) => {
                        sheet::rewrite(BufReader::with_capacity(1 << 16, zf), &mut out, edit)
                    }
                }
                .map_err(|e| sheet_err(input, output, name, e))?;
                out.flush().map_err(|e| write_err(output, e))?;
            }
        } else {
            let zf = pkg.zip.by_index_raw(i).map_err(|e| corrupt(input, e))?;
            zw.raw_copy_file(zf).map_err(|e| write_err(output, e))?;
        }
    }
    for (name, bytes) in &added {
        zw.start_file(name.as_str(), file_options())
            .map_err(|e| write_err(output, e))?;
        zw.write_all(bytes).map_err(|e| write_err(output, e))?;
    }
    let w = zw.finish().map_err(|e| write_err(output, e))?;
    let f = w
        .into_inner()
        .map_err(|e| write_err(output, e.error().to_string()))?;
    f.sync_all().map_err(|e| write_err(output, e))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// rels
// ---------------------------------------------------------------------------

fn parse_rels(xml: &[u8], path: &Path) -> Result<Vec<Rel>, AnnotateError> {
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match r.read_event_into(&mut buf) {
            Err(e) => return Err(corrupt(path, format!("关系部件：{e}"))),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) | Ok(Event::Empty(e))
                if e.local_name().as_ref() == "Relationship" =>
            {
                out.push(Rel {
                    id: attr(&e, "Id").unwrap_or_default(),
                    typ: attr(&e, "Type").unwrap_or_default(),
                    target: attr(&e, "Target").unwrap_or_default(),
                    external: attr(&e, "TargetMode").as_deref() == Some("External"),
                });
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

fn rel_xml(prefix: &str, r: &Rel) -> String {
    format!(
        r#"<{prefix}Relationship Id="{}" Type="{}" Target="{}"/>"#,
        esc(&r.id),
        esc(&r.typ),
        esc(&r.target)
    )
}

fn new_rels_part(rels: &[Rel]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for r in rels {
        x.push_str(&rel_xml("", r));
    }
    x.push_str("</Relationships>");
    x
}

/// Append children just before the root element closes (or expand an empty root).
fn append_to_root(xml: &[u8], make: impl Fn(&str) -> String) -> Result<Vec<u8>, String> {
    let mut r = NsReader::from_reader(xml);
    let mut w = Writer::new(Vec::with_capacity(xml.len() + 1024));
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut prefix = String::new();
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) => {
                if depth == 0 {
                    prefix = prefix_of(e);
                }
                depth += 1;
                w.write_event(ev.clone()).map_err(|e| e.to_string())?;
            }
            Event::Empty(ref e) if depth == 0 => {
                prefix = prefix_of(e);
                w.write_event(Event::Start(e.borrow()))
                    .map_err(|e| e.to_string())?;
                w.get_mut().extend_from_slice(make(&prefix).as_bytes());
                w.write_event(Event::End(e.to_end()))
                    .map_err(|e| e.to_string())?;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    w.get_mut().extend_from_slice(make(&prefix).as_bytes());
                }
                w.write_event(ev.clone()).map_err(|e| e.to_string())?;
            }
            _ => w.write_event(ev.clone()).map_err(|e| e.to_string())?,
        }
        buf.clear();
    }
    Ok(w.into_inner())
}

fn add_rels(xml: &[u8], rels: &[Rel]) -> Result<Vec<u8>, String> {
    append_to_root(xml, |p| rels.iter().map(|r| rel_xml(p, r)).collect())
}

fn rewrite_content_types(
    xml: &[u8],
    overrides: &[(String, &'static str)],
    vml_default: bool,
) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(xml);
    // Whether a Default for .vml exists already (parsed, not searched).
    let mut has_vml = false;
    let mut existing: BTreeSet<String> = BTreeSet::new();
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e)
                if e.local_name().as_ref() == "Default"
                    && attr(&e, "Extension").is_some_and(|x| x.eq_ignore_ascii_case("vml")) =>
            {
                has_vml = true;
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Override" => {
                if let Some(p) = attr(&e, "PartName") {
                    existing.insert(p.to_ascii_lowercase());
                }
            }
            _ => {}
        }
        buf.clear();
    }
    let _ = text;
    append_to_root(xml, |p| {
        let mut s = String::new();
        if vml_default && !has_vml {
            s.push_str(&format!(
                r#"<{p}Default Extension="vml" ContentType="{CT_VML}"/>"#
            ));
        }
        for (part, ct) in overrides {
            if existing.contains(&part.to_ascii_lowercase()) {
                continue;
            }
            s.push_str(&format!(
                r#"<{p}Override PartName="{}" ContentType="{ct}"/>"#,
                esc(part)
            ));
        }
        s
    })
}

// ---------------------------------------------------------------------------
// workbook.xml
// ---------------------------------------------------------------------------

/// (name, sheetId, r:id) of every sheet, in order.
fn parse_sheets(xml: &[u8], path: &Path) -> Result<Vec<(String, u32, String)>, AnnotateError> {
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(path, format!("工作簿：{e}")))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let (ns, local) = r.resolver().resolve_element(e.name());
                if is_main(&ns) && local.as_ref() == "sheet" {
                    let rid = e
                        .attributes()
                        .with_checks(false)
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "id" && a.key.prefix().is_some())
                        .map(|a| a.value.to_string())
                        .unwrap_or_default();
                    out.push((
                        attr(e, "name").unwrap_or_default(),
                        attr(e, "sheetId").and_then(|v| v.parse().ok()).unwrap_or(0),
                        rid,
                    ));
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

const AFTER_DEFINED_NAMES: &[&str] = &[
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
];

fn rewrite_workbook(
    xml: &[u8],
    name: &str,
    sheet_id: u32,
    rid: &str,
    filter: &str,
) -> Result<Vec<u8>, String> {
    let mut r = NsReader::from_reader(xml);
    let mut w = Writer::new(Vec::with_capacity(xml.len() + 512));
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut prefix = String::new();
    let mut r_decl = false;
    let mut names_done = false;
    let mut section = String::new();
    let e2s = |e: std::io::Error| e.to_string();
    let defined = |p: &str| {
        format!(
            r#"<{p}definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{}</{p}definedName>"#,
            esc(filter)
        )
    };
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = r.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref().to_string();
                if depth == 0 {
                    prefix = prefix_of(e);
                    r_decl = declares_r(e);
                }
                if depth == 1 && main {
                    section = local.clone();
                    if !names_done && AFTER_DEFINED_NAMES.contains(&local.as_str()) {
                        w.get_mut().extend_from_slice(
                            format!(
                                "<{prefix}definedNames>{}</{prefix}definedNames>",
                                defined(&prefix)
                            )
                            .as_bytes(),
                        );
                        names_done = true;
                    }
                }
                let mut out: BytesStart = e.to_owned();
                if depth == 2 && main && section == "bookViews" && local == "workbookView" {
                    let active = attr(e, "activeTab")
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(0);
                    out = with_attr(&out, "activeTab", &(active + 1).to_string());
                    if let Some(first) = attr(e, "firstSheet").and_then(|v| v.parse::<u32>().ok())
                        && first > 0
                    {
                        out = with_attr(&out, "firstSheet", &(first + 1).to_string());
                    }
                }
                if depth == 2
                    && main
                    && section == "definedNames"
                    && local == "definedName"
                    && let Some(id) = attr(e, "localSheetId").and_then(|v| v.parse::<u32>().ok())
                {
                    out = with_attr(&out, "localSheetId", &(id + 1).to_string());
                }
                let ours = {
                    let mut s = BytesStart::new(format!("{prefix}sheet"));
                    s.push_attribute(("name", name));
                    s.push_attribute(("sheetId", sheet_id.to_string().as_str()));
                    if !r_decl {
                        s.push_attribute(("xmlns:r", super::xml::REL_NS));
                    }
                    s.push_attribute(("r:id", rid));
                    s
                };
                let is_sheets = depth == 1 && main && local == "sheets";
                let is_names = depth == 1 && main && local == "definedNames";
                if empty {
                    if is_sheets || is_names {
                        w.write_event(Event::Start(out.borrow())).map_err(e2s)?;
                        if is_sheets {
                            w.write_event(Event::Empty(ours)).map_err(e2s)?;
                        } else {
                            w.get_mut().extend_from_slice(defined(&prefix).as_bytes());
                            names_done = true;
                        }
                        w.write_event(Event::End(out.to_end())).map_err(e2s)?;
                    } else {
                        w.write_event(Event::Empty(out)).map_err(e2s)?;
                    }
                } else {
                    depth += 1;
                    w.write_event(Event::Start(out)).map_err(e2s)?;
                    if is_sheets {
                        w.write_event(Event::Empty(ours)).map_err(e2s)?;
                    }
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let (ns, local) = r.resolver().resolve_element(e.name());
                if depth == 1 && is_main(&ns) && local.as_ref() == "definedNames" && !names_done {
                    w.get_mut().extend_from_slice(defined(&prefix).as_bytes());
                    names_done = true;
                }
                if depth == 0 && !names_done {
                    w.get_mut().extend_from_slice(
                        format!(
                            "<{prefix}definedNames>{}</{prefix}definedNames>",
                            defined(&prefix)
                        )
                        .as_bytes(),
                    );
                    names_done = true;
                }
                w.write_event(ev.clone()).map_err(e2s)?;
            }
            _ => w.write_event(ev.clone()).map_err(e2s)?,
        }
        buf.clear();
    }
    Ok(w.into_inner())
}

// ---------------------------------------------------------------------------
// comments and VML
// ---------------------------------------------------------------------------

type CellSet = BTreeSet<(u32, u32)>;

fn runs(prefix: &str, head: &str, text: &str) -> String {
    let p = prefix;
    format!(
        r#"<{p}r><{p}rPr><{p}b/><{p}sz val="9"/><{p}color indexed="81"/><{p}rFont val="宋体"/><{p}charset val="134"/></{p}rPr><{p}t xml:space="preserve">{}</{p}t></{p}r><{p}r><{p}rPr><{p}sz val="9"/><{p}color indexed="81"/><{p}rFont val="宋体"/><{p}charset val="134"/></{p}rPr><{p}t xml:space="preserve">{}</{p}t></{p}r>"#,
        esc(head),
        esc(text)
    )
}

fn comment_xml(prefix: &str, row: u32, col: u32, author: usize, text: &str) -> String {
    let p = prefix;
    format!(
        r#"<{p}comment ref="{}" authorId="{author}"><{p}text>{}</{p}text></{p}comment>"#,
        super::xml::cell_name(row, col),
        runs(p, &format!("{AUTHOR}："), &format!("\n{text}"))
    )
}

fn new_comments(notes: &BTreeMap<(u32, u32), String>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<comments xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    );
    x.push_str(&format!(
        "<authors><author>{AUTHOR}</author></authors><commentList>"
    ));
    for ((r, c), t) in notes {
        x.push_str(&comment_xml("", *r, *c, 0, t));
    }
    x.push_str("</commentList></comments>");
    x
}

/// Merge our notes into an existing comments part: existing notes on our
/// cells get our text appended; other cells get new comments. Returns the
/// new part and the cells that already had a note.
fn merge_comments(
    xml: &[u8],
    notes: &BTreeMap<(u32, u32), String>,
) -> Result<(Vec<u8>, CellSet), String> {
    let mut r = NsReader::from_reader(xml);
    let mut w = Writer::new(Vec::with_capacity(xml.len() + notes.len() * 600));
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut prefix = String::new();
    let mut authors = 0usize;
    let mut section = String::new();
    let mut cur: Option<(u32, u32)> = None;
    let mut appended = false;
    let mut had: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut list_done = false;
    let mut author_done = false;
    let e2s = |e: std::io::Error| e.to_string();
    // Pre-count authors: our author's id is their number.
    {
        let mut r2 = NsReader::from_reader(xml);
        let mut b2 = Vec::new();
        let mut d = 0u32;
        loop {
            match r2.read_event_into(&mut b2).map_err(|e| e.to_string())? {
                Event::Eof => break,
                Event::Start(e) => {
                    if d == 2 && e.local_name().as_ref() == "author" {
                        authors += 1;
                    }
                    d += 1;
                }
                Event::Empty(e) if d == 2 && e.local_name().as_ref() == "author" => {
                    authors += 1;
                }
                Event::End(_) => d = d.saturating_sub(1),
                _ => {}
            }
            b2.clear();
        }
    }
    let our_author = authors;
    let new_list = |p: &str, had: &BTreeSet<(u32, u32)>| -> String {
        notes
            .iter()
            .filter(|(k, _)| !had.contains(k))
            .map(|((rr, cc), t)| comment_xml(p, *rr, *cc, our_author, t))
            .collect()
    };
    let appendix = |p: &str, t: &str| runs(p, &format!("\n{AUTHOR}："), &format!("\n{t}"));
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = r.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref().to_string();
                if depth == 0 {
                    prefix = prefix_of(e);
                }
                if depth == 1 && main {
                    section = local.clone();
                    if empty && local == "authors" {
                        w.write_event(Event::Start(e.borrow())).map_err(e2s)?;
                        w.get_mut().extend_from_slice(
                            format!("<{prefix}author>{AUTHOR}</{prefix}author>").as_bytes(),
                        );
                        w.write_event(Event::End(e.to_end())).map_err(e2s)?;
                        author_done = true;
                        buf.clear();
                        continue;
                    }
                    if empty && local == "commentList" {
                        w.write_event(Event::Start(e.borrow())).map_err(e2s)?;
                        w.get_mut()
                            .extend_from_slice(new_list(&prefix, &had).as_bytes());
                        w.write_event(Event::End(e.to_end())).map_err(e2s)?;
                        list_done = true;
                        buf.clear();
                        continue;
                    }
                }
                if depth == 2 && main && section == "commentList" && local == "comment" {
                    cur = attr(e, "ref")
                        .and_then(|v| super::xml::parse_cell_ref(&v))
                        .filter(|k| notes.contains_key(k));
                    if let Some(k) = cur {
                        had.insert(k);
                    }
                    appended = false;
                }
                if depth == 4 && cur.is_some() && main {
                    if !appended && (local == "rPh" || local == "phoneticPr") {
                        if let Some(k) = cur {
                            w.get_mut()
                                .extend_from_slice(appendix(&prefix, &notes[&k]).as_bytes());
                        }
                        appended = true;
                    }
                    if local == "t" {
                        // A plain <t> under <text>: wrap it in a run so ours can follow.
                        w.get_mut()
                            .extend_from_slice(format!("<{prefix}r>").as_bytes());
                        if empty {
                            w.write_event(ev.clone()).map_err(e2s)?;
                            w.get_mut()
                                .extend_from_slice(format!("</{prefix}r>").as_bytes());
                            buf.clear();
                            continue;
                        }
                    }
                }
                if !empty {
                    depth += 1;
                }
                w.write_event(ev.clone()).map_err(e2s)?;
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let (ns, local) = r.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref();
                if depth == 4 && cur.is_some() && main && local == "t" {
                    w.write_event(ev.clone()).map_err(e2s)?;
                    w.get_mut()
                        .extend_from_slice(format!("</{prefix}r>").as_bytes());
                    buf.clear();
                    continue;
                }
                if depth == 3
                    && main
                    && local == "text"
                    && let (Some(k), false) = (cur, appended)
                {
                    w.get_mut()
                        .extend_from_slice(appendix(&prefix, &notes[&k]).as_bytes());
                    appended = true;
                }
                if depth == 2 && main && local == "comment" {
                    cur = None;
                }
                if depth == 1 && main && local == "authors" && !author_done {
                    w.get_mut().extend_from_slice(
                        format!("<{prefix}author>{AUTHOR}</{prefix}author>").as_bytes(),
                    );
                    author_done = true;
                }
                if depth == 1 && main && local == "commentList" && !list_done {
                    w.get_mut()
                        .extend_from_slice(new_list(&prefix, &had).as_bytes());
                    list_done = true;
                }
                if depth == 0 && !list_done {
                    w.get_mut().extend_from_slice(
                        format!(
                            "<{prefix}commentList>{}</{prefix}commentList>",
                            new_list(&prefix, &had)
                        )
                        .as_bytes(),
                    );
                    list_done = true;
                }
                w.write_event(ev.clone()).map_err(e2s)?;
            }
            _ => w.write_event(ev.clone()).map_err(e2s)?,
        }
        buf.clear();
    }
    Ok((w.into_inner(), had))
}

const VML_NS: &str = r#"xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel""#;
const SHAPETYPE: &str = r#"<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>"#;

fn vml_shape(id: u32, row: u32, col: u32, lines: usize, z: usize, ns: bool) -> String {
    let r0 = row - 1;
    let c0 = col - 1;
    let top = r0.saturating_sub(1);
    let height_rows = (lines as u32).clamp(4, 30);
    let decl = if ns {
        format!(" {VML_NS}")
    } else {
        String::new()
    };
    format!(
        concat!(
            r##"<v:shape{decl} id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;margin-left:60pt;margin-top:2pt;width:260pt;height:{h}pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">"##,
            r##"<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>"##,
            r##"<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>"##,
            r##"<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{l}, 15, {top}, 10, {rc}, 15, {bottom}, 4</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>"##
        ),
        decl = decl,
        id = id,
        h = height_rows * 12 + 6,
        z = z,
        l = c0 + 1,
        top = top,
        rc = c0 + 5,
        bottom = top + height_rows,
        r0 = r0,
        c0 = c0,
    )
}

/// How many 1024-id blocks `n` new shapes need (ids start at block*1024+1).
fn shape_blocks(n: usize) -> u32 {
    1 + n as u32 / 1024
}

/// `k` consecutive blocks (from 1) none of which is in `used`.
fn free_blocks(used: &BTreeSet<u32>, k: u32) -> Vec<u32> {
    let mut b = 1;
    loop {
        if (b..b + k).all(|x| !used.contains(&x)) {
            return (b..b + k).collect();
        }
        b += 1;
    }
}

fn idmap_data(blocks: &[u32]) -> String {
    blocks
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn new_vml(cells: &[((u32, u32), usize)], blocks: &[u32]) -> String {
    let first = blocks.first().copied().unwrap_or(1);
    let mut x = format!(
        "<xml {VML_NS}>\n <o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"{}\"/></o:shapelayout>{SHAPETYPE}\n",
        idmap_data(blocks)
    );
    for (i, ((r, c), lines)) in cells.iter().enumerate() {
        x.push_str(&vml_shape(
            first * 1024 + 1 + i as u32,
            *r,
            *c,
            *lines,
            i + 1,
            false,
        ));
        x.push('\n');
    }
    x.push_str("</xml>");
    x
}

/// The idmap blocks and shape numbers of a VML drawing.
#[derive(Debug, Default, PartialEq)]
struct VmlIds {
    blocks: Vec<u32>,
    /// Span (start, end) of the idmap's data value, to rewrite it.
    data_span: Option<(usize, usize)>,
    shapes: Vec<u32>,
}

/// Scan VML bytes for `<o:idmap ... data="1,2">` and `_x0000_s1025` ids.
/// VML from old writers is often not well-formed XML, so this scans bytes.
fn vml_ids(xml: &[u8]) -> VmlIds {
    let mut out = VmlIds::default();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
            .map(|p| p + from)
    };
    if let Some(i) = find(xml, b"idmap", 0) {
        let end = find(xml, b">", i).unwrap_or(xml.len());
        let tag = &xml[i..end];
        if let Some(d) = find(tag, b"data=", 0) {
            let q = i + d + 5;
            if let Some(&quote) = xml.get(q)
                && (quote == b'"' || quote == b'\'')
                && let Some(close) = xml[q + 1..end].iter().position(|&c| c == quote)
            {
                let (a, b) = (q + 1, q + 1 + close);
                out.data_span = Some((a, b));
                out.blocks = String::from_utf8_lossy(&xml[a..b])
                    .split(',')
                    .filter_map(|v| v.trim().parse().ok())
                    .collect();
            }
        }
    }
    let mut from = 0;
    while let Some(i) = find(xml, b"_x0000_s", from) {
        let digits: Vec<u8> = xml[i + 8..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .copied()
            .collect();
        if let Ok(n) = String::from_utf8_lossy(&digits).parse::<u32>() {
            out.shapes.push(n);
        }
        from = i + 8;
    }
    out
}

/// Insert shapes before the closing `</xml>` of an existing VML drawing.
/// New shape ids continue after the drawing's own; the blocks they fall in
/// are added to its idmap, and when one of those belongs to another drawing
/// the new shapes move to fresh blocks (`used` is updated).
/// VML from old writers is often not well-formed XML, so this one splices
/// bytes instead of parsing.
fn merge_vml(xml: &[u8], cells: &[((u32, u32), usize)], used: &mut BTreeSet<u32>) -> Vec<u8> {
    if cells.is_empty() {
        return xml.to_vec();
    }
    let ids = vml_ids(xml);
    let n = cells.len() as u32;
    let own: BTreeSet<u32> = ids.blocks.iter().copied().collect();
    let first_block = ids.blocks.iter().min().copied();
    let start = match (ids.shapes.iter().max(), first_block) {
        (Some(m), Some(b)) => (*m).max(b * 1024) + 1,
        (Some(m), None) => m + 1,
        (None, Some(b)) => b * 1024 + 1,
        (None, None) => 0,
    };
    let span = |start: u32| -> Vec<u32> { (start / 1024..=(start + n - 1) / 1024).collect() };
    let fits = start > 0
        && span(start).iter().all(|b| {
            own.contains(b) || !used.contains(b) || ids.shapes.iter().any(|s| s / 1024 == *b)
        });
    let (start, new_blocks) = if fits {
        let extra: Vec<u32> = span(start)
            .into_iter()
            .filter(|b| !own.contains(b))
            .collect();
        (start, extra)
    } else {
        let blocks = free_blocks(used, shape_blocks(cells.len()));
        (blocks[0] * 1024 + 1, blocks)
    };
    used.extend(new_blocks.iter().copied());
    let mut all_blocks = ids.blocks.clone();
    all_blocks.extend(new_blocks.iter().copied());

    let needle = b"</xml>";
    let pos = xml
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
        .unwrap_or(xml.len());
    let has_type = xml
        .windows(12)
        .any(|w| w == b"_x0000_t202\"" || w == b"_x0000_t202'");
    let mut out = Vec::with_capacity(xml.len() + cells.len() * 800);
    // Head up to `pos`, with the idmap data rewritten or a shapelayout added.
    match ids.data_span {
        Some((a, b)) if !new_blocks.is_empty() => {
            out.extend_from_slice(&xml[..a]);
            out.extend_from_slice(idmap_data(&all_blocks).as_bytes());
            out.extend_from_slice(&xml[b..pos]);
        }
        None if !new_blocks.is_empty() => {
            // After the root start tag `<xml ...>`.
            let root_end = xml
                .windows(4)
                .position(|w| w.eq_ignore_ascii_case(b"<xml"))
                .and_then(|i| xml[i..].iter().position(|&c| c == b'>').map(|p| i + p + 1))
                .filter(|e| *e <= pos)
                .unwrap_or(0);
            out.extend_from_slice(&xml[..root_end]);
            out.extend_from_slice(
                format!(
                    "<o:shapelayout {VML_NS} v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"{}\"/></o:shapelayout>",
                    idmap_data(&all_blocks)
                )
                .as_bytes(),
            );
            out.extend_from_slice(&xml[root_end..pos]);
        }
        _ => out.extend_from_slice(&xml[..pos]),
    }
    if !has_type {
        out.extend_from_slice(
            SHAPETYPE
                .replacen("<v:shapetype", &format!("<v:shapetype {VML_NS}"), 1)
                .as_bytes(),
        );
    }
    for (i, ((r, c), lines)) in cells.iter().enumerate() {
        out.extend_from_slice(
            vml_shape(start + i as u32, *r, *c, *lines, 1000 + i, true).as_bytes(),
        );
    }
    if pos == xml.len() {
        out.extend_from_slice(b"</xml>");
    } else {
        out.extend_from_slice(&xml[pos..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_comment_keeps_text_and_gets_ours_appended() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>Teacher</author></authors><commentList><comment ref="B2" authorId="0"><text><t>原有批注</t></text></comment><comment ref="C3" authorId="0"><text><r><t>别的</t></r></text></comment></commentList></comments>"#;
        let mut notes = BTreeMap::new();
        notes.insert((2, 2), "【错误】X".to_string());
        notes.insert((5, 1), "【警告】Y".to_string());
        let (out, had) = merge_comments(xml.as_bytes(), &notes).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(had, [(2, 2)].into_iter().collect());
        assert!(
            out.contains("<authors><author>Teacher</author><author>台账核对</author></authors>")
        );
        assert!(
            out.contains(r#"<comment ref="B2" authorId="0"><text><r><t>原有批注</t></r><r>"#),
            "{out}"
        );
        assert!(out.contains("【错误】X"));
        assert!(out.contains(
            r#"<comment ref="C3" authorId="0"><text><r><t>别的</t></r></text></comment>"#
        ));
        assert!(out.contains(r#"<comment ref="A5" authorId="1">"#));
        assert!(out.contains("【警告】Y"));
    }

    #[test]
    fn workbook_gets_first_sheet_shifted_names_and_views() {
        let xml = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView xWindow="0" activeTab="1"/></bookViews><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="3" r:id="rId2"/></sheets><definedNames><definedName name="_xlnm.Print_Titles" localSheetId="1">B!$1:$3</definedName><definedName name="g">A!$A$1</definedName></definedNames><calcPr calcId="1"/></workbook>"#;
        let out = rewrite_workbook(
            xml.as_bytes(),
            "核对说明",
            4,
            "rIdTz1",
            "'核对说明'!$A$6:$I$9",
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(r#"<workbookView xWindow="0" activeTab="2"/>"#),
            "{out}"
        );
        assert!(out.contains(
            r#"<sheets><sheet name="核对说明" sheetId="4" r:id="rIdTz1"/><sheet name="A""#
        ));
        assert!(out.contains(r#"localSheetId="2">B!$1:$3"#));
        assert!(out.contains(r#"<definedName name="g">A!$A$1</definedName><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">&apos;核对说明&apos;!$A$6:$I$9</definedName></definedNames>"#), "{out}");
    }

    #[test]
    fn workbook_without_defined_names_gets_them_before_calc_pr() {
        let xml = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets><calcPr calcId="1"/></workbook>"#;
        let out = String::from_utf8(
            rewrite_workbook(xml.as_bytes(), "S", 2, "r9", "'S'!$A$1:$I$1").unwrap(),
        )
        .unwrap();
        assert!(out.contains("</sheets><definedNames><definedName name=\"_xlnm._FilterDatabase\""));
        assert!(out.contains("</definedNames><calcPr"));
    }

    #[test]
    fn vml_merge_adds_shapes_before_root_end() {
        let old = "<xml xmlns:v=\"urn:schemas-microsoft-com:vml\"><v:shapetype id=\"_x0000_t202\"></v:shapetype><v:shape id=\"a\"/></xml>\n";
        let mut used = BTreeSet::new();
        let out = String::from_utf8(merge_vml(old.as_bytes(), &[((3, 2), 4)], &mut used)).unwrap();
        // No idmap before: one is added, in a free block.
        assert!(out.starts_with("<xml xmlns:v=\"urn:schemas-microsoft-com:vml\"><o:shapelayout"));
        assert!(out.contains("<o:idmap v:ext=\"edit\" data=\"1\"/>"));
        assert!(out.contains(
            "<v:shapetype id=\"_x0000_t202\"></v:shapetype><v:shape id=\"a\"/><v:shape xmlns:v"
        ));
        assert!(out.contains("id=\"_x0000_s1025\""));
        assert!(out.contains("<x:Row>2</x:Row><x:Column>1</x:Column>"));
        assert!(out.ends_with("</xml>\n"));
        assert_eq!(out.matches("v:shapetype id").count(), 1);
        assert_eq!(used, [1].into_iter().collect());
    }

    #[test]
    fn vml_merge_continues_the_drawings_ids_and_skips_blocks_of_others() {
        // The drawing owns block 1 with shapes up to 1027; block 2 is another sheet's.
        let old = "<xml><o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"1\"/></o:shapelayout><v:shape id=\"_x0000_s1025\"/><v:shape id=\"_x0000_s1027\"/></xml>";
        let mut used: BTreeSet<u32> = [1, 2].into_iter().collect();
        let out = String::from_utf8(merge_vml(
            old.as_bytes(),
            &[((3, 2), 4), ((4, 2), 4)],
            &mut used,
        ))
        .unwrap();
        assert!(out.contains("data=\"1\""), "{out}");
        assert!(out.contains("_x0000_s1028") && out.contains("_x0000_s1029"));
        // Too many shapes for block 1 and block 2 taken: fresh blocks 3, 4, and the idmap lists them.
        let many: Vec<((u32, u32), usize)> = (1..=1100).map(|r| ((r, 1), 4)).collect();
        let mut used: BTreeSet<u32> = [1, 2].into_iter().collect();
        let out = String::from_utf8(merge_vml(old.as_bytes(), &many, &mut used)).unwrap();
        assert!(out.contains("data=\"1,3,4\""), "{}", &out[..200]);
        assert!(out.contains("_x0000_s3073\"") && out.contains("_x0000_s4172\""));
        assert!(!out.contains("_x0000_s2049\""));
        assert_eq!(used, [1, 2, 3, 4].into_iter().collect());
    }

    #[test]
    fn new_vml_lists_every_block_its_shapes_use() {
        let used: BTreeSet<u32> = [1].into_iter().collect();
        let cells: Vec<((u32, u32), usize)> = (1..=1500).map(|r| ((r, 1), 4)).collect();
        let blocks = free_blocks(&used, shape_blocks(cells.len()));
        assert_eq!(blocks, vec![2, 3]);
        let x = new_vml(&cells, &blocks);
        assert!(x.contains("<o:idmap v:ext=\"edit\" data=\"2,3\"/>"));
        assert!(x.contains("_x0000_s2049\"") && x.contains("_x0000_s3548\""));
        let ids = vml_ids(x.as_bytes());
        assert_eq!(ids.blocks, vec![2, 3]);
        assert!(ids.shapes.iter().all(|s| [2, 3].contains(&(s / 1024))));
    }
}
