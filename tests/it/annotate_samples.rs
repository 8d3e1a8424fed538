//! The annotated copies of the committed sample round, as a clerk gets them
//! from `taizhang reconcile samples`: every finding has its note and fill in
//! the copy of its file, every link on 核对说明 points at a sheet that
//! exists, LibreOffice opens every copy, and two runs give byte-identical
//! output folders.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Run `reconcile samples --out <dir>`; exit 0 or 1 (findings), never 2.
fn reconcile(out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("reconcile")
        .arg(samples())
        .arg("--out")
        .arg(out)
        .output()
        .expect("taizhang runs");
    let code = o.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "reconcile failed ({code:?}): {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// One reconcile run shared by the tests of this file.
fn run() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        reconcile(&d.path().join("out"));
        d
    })
    .path()
}

fn out_dir() -> PathBuf {
    run().join("out")
}

// ---------------------------------------------------------------------------
// package helpers
// ---------------------------------------------------------------------------

struct Pkg {
    entries: BTreeMap<String, Vec<u8>>,
}

impl Pkg {
    fn open(path: &Path) -> Pkg {
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut entries = BTreeMap::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            entries.insert(f.name().unwrap().to_string(), v);
        }
        Pkg { entries }
    }
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries.get(name).map(|v| v.as_slice())
    }
    /// Relationships of a part: id → (type tail, resolved target).
    fn rels(&self, part: &str) -> BTreeMap<String, (String, String)> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let rels = format!("{dir}/_rels/{file}.rels");
        let mut out = BTreeMap::new();
        let Some(x) = self.get(rels.trim_start_matches('/')) else {
            return out;
        };
        for a in elements(x, "Relationship") {
            let typ = a["Type"].rsplit('/').next().unwrap().to_string();
            out.insert(a["Id"].clone(), (typ, resolve(dir, &a["Target"])));
        }
        out
    }
    /// Sheets in workbook order: (name, part).
    fn sheets(&self) -> Vec<(String, String)> {
        let rels = self.rels("xl/workbook.xml");
        elements(self.get("xl/workbook.xml").unwrap(), "sheet")
            .into_iter()
            .map(|a| (a["name"].clone(), rels[&a["r:id"]].1.clone()))
            .collect()
    }
}

fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        vec![]
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for seg in target.trim_start_matches('/').split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Attributes (qualified names, unescaped) of every element with this local name.
fn elements(xml: &[u8], local: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == local => {
                out.push(
                    e.attributes()
                        .flatten()
                        .map(|a| {
                            (
                                a.key.as_ref().to_string(),
                                quick_xml::escape::unescape(&a.value).unwrap().into_owned(),
                            )
                        })
                        .collect(),
                );
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Comments of a comments part: ref → concatenated text.
fn comments(xml: &[u8]) -> BTreeMap<String, String> {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = BTreeMap::new();
    let mut cur: Option<String> = None;
    let mut in_t = false;
    let mut in_rph = false;
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Eof => break,
            Event::Start(e) => match e.local_name().as_ref() {
                "comment" => {
                    let a = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == "ref")
                        .unwrap();
                    let k = a.value.to_string();
                    out.insert(k.clone(), String::new());
                    cur = Some(k);
                }
                "t" => in_t = true,
                "rPh" => in_rph = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "comment" => cur = None,
                "t" => in_t = false,
                "rPh" => in_rph = false,
                _ => {}
            },
            Event::Text(t) if in_t && !in_rph => {
                if let Some(k) = &cur {
                    out.get_mut(k).unwrap().push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) if in_t && !in_rph => {
                if let Some(k) = &cur {
                    let s = match g.xml10_content().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    };
                    out.get_mut(k).unwrap().push_str(s);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Cell ref → style index of a sheet.
fn cell_styles(xml: &[u8]) -> BTreeMap<String, u32> {
    elements(xml, "c")
        .into_iter()
        .map(|a| {
            (
                a["r"].clone(),
                a.get("s").map(|s| s.parse().unwrap()).unwrap_or(0),
            )
        })
        .collect()
}

/// For each cellXfs index, the fill's fgColor rgb (if solid with rgb).
fn xf_fill_rgb(styles: &[u8]) -> Vec<Option<String>> {
    let mut r = Reader::from_reader(styles);
    let mut buf = Vec::new();
    let mut fills: Vec<Option<String>> = Vec::new();
    let mut xfs: Vec<usize> = Vec::new();
    let mut section = String::new();
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                let get = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.value.to_string())
                };
                match name.as_str() {
                    "fills" | "cellXfs" | "cellStyleXfs" | "dxfs" => section = name.clone(),
                    "fill" if section == "fills" => fills.push(None),
                    "fgColor" if section == "fills" => {
                        if let Some(last) = fills.last_mut() {
                            *last = get("rgb");
                        }
                    }
                    "xf" if section == "cellXfs" => {
                        xfs.push(get("fillId").map(|v| v.parse().unwrap()).unwrap_or(0))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        buf.clear();
    }
    xfs.into_iter()
        .map(|f| fills.get(f).cloned().flatten())
        .collect()
}

fn findings() -> Vec<serde_json::Value> {
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir().join("findings.json")).unwrap()).unwrap();
    j["findings"].as_array().unwrap().clone()
}

/// The annotated copy of an input file name (stems are unique in the samples).
fn copy_of(file: &str) -> PathBuf {
    let stem = Path::new(file).file_stem().unwrap().to_string_lossy();
    out_dir().join(format!("{stem}.核对.xlsx"))
}

fn copies() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".核对.xlsx"))
        .collect();
    v.sort();
    v
}

fn severity_rgb(sev: &str) -> &'static str {
    match sev {
        "error" => "FFFFC7CE",
        "warning" => "FFFFD966",
        _ => "FFBDD7EE",
    }
}

fn rank(sev: &str) -> u8 {
    match sev {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

#[test]
fn every_finding_has_its_note_and_fill_in_the_copy_of_its_file() {
    let fs = findings();
    assert!(fs.len() > 20, "the samples have findings");
    let files: BTreeSet<String> = fs
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    let mut checked = 0;
    for file in &files {
        let path = copy_of(file);
        assert!(path.exists(), "no annotated copy for {file}");
        let pkg = Pkg::open(&path);
        let sheets = pkg.sheets();
        assert_eq!(sheets[0].0, "核对说明", "{file}: 核对说明 is not first");
        let fills = xf_fill_rgb(pkg.get("xl/styles.xml").unwrap());
        let mut notes: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut styles: BTreeMap<(String, String), u32> = BTreeMap::new();
        for (name, part) in &sheets {
            for (typ, target) in pkg.rels(part).values() {
                if typ == "comments" {
                    for (r, t) in comments(pkg.get(target).unwrap()) {
                        notes.insert((name.clone(), r), t);
                    }
                }
                if typ == "vmlDrawing" {
                    assert!(
                        pkg.get(target).is_some(),
                        "{file}: VML part {target} missing"
                    );
                }
            }
            for (r, s) in cell_styles(pkg.get(part).unwrap()) {
                styles.insert((name.clone(), r), s);
            }
        }
        // The most severe finding per cell decides the fill.
        let mut worst: BTreeMap<(String, String), &str> = BTreeMap::new();
        for f in fs.iter().filter(|f| f["file"] == file.as_str()) {
            let row = f["row"].as_u64().unwrap();
            let col = f["column"].as_str().unwrap();
            if row == 0 || col.is_empty() {
                continue;
            }
            let key = (
                f["sheet"].as_str().unwrap().to_string(),
                format!("{col}{row}"),
            );
            let code = f["code"].as_str().unwrap();
            let note = notes
                .get(&key)
                .unwrap_or_else(|| panic!("{file}: no note at {key:?} for {code}"));
            assert!(
                note.contains(code),
                "{file} {key:?}: note lacks {code}: {note}"
            );
            let sev = f["severity"].as_str().unwrap();
            let w = worst.entry(key).or_insert(sev);
            if rank(sev) < rank(w) {
                *w = sev;
            }
            checked += 1;
        }
        for (key, sev) in &worst {
            let s = styles
                .get(key)
                .unwrap_or_else(|| panic!("{file}: marked cell {key:?} not written"));
            assert_eq!(
                fills.get(*s as usize).cloned().flatten().as_deref(),
                Some(severity_rgb(sev)),
                "{file} {key:?}: fill of a {sev}"
            );
        }
        // A note for every marked cell and nothing on unmarked cells of ours.
        for (key, text) in &notes {
            if text.contains("台账核对") || text.starts_with('【') {
                assert!(worst.contains_key(key), "{file}: stray note at {key:?}");
            }
        }
    }
    assert!(checked > 20);
}

/// `'摸底 表'!C5` → ("摸底 表", "C5"); unquoted only for plain ASCII names.
fn split_location(loc: &str) -> Option<(String, String)> {
    if let Some(rest) = loc.strip_prefix('\'') {
        let mut name = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    name.push('\'');
                    continue;
                }
                let tail: String = chars.collect();
                return tail.strip_prefix('!').map(|c| (name, c.to_string()));
            }
            name.push(c);
        }
        None
    } else {
        let (name, cell) = loc.split_once('!')?;
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            .then(|| (name.to_string(), cell.to_string()))
    }
}

#[test]
fn every_link_on_the_summary_sheet_targets_an_existing_sheet_and_cell() {
    let fs = findings();
    for path in copies() {
        let pkg = Pkg::open(&path);
        let sheets = pkg.sheets();
        let names: BTreeSet<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
        let summary = pkg.get(&sheets[0].1).unwrap();
        let links = elements(summary, "hyperlink");
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = file.trim_end_matches(".核对.xlsx");
        let own = fs
            .iter()
            .filter(|f| {
                Path::new(f["file"].as_str().unwrap())
                    .file_stem()
                    .is_some_and(|s| s.to_string_lossy() == stem)
            })
            .count();
        assert!(
            links.len() > own,
            "{file}: {} links for {own} findings",
            links.len()
        );
        for a in &links {
            let loc = &a["location"];
            let (sheet, cell) = split_location(loc)
                .unwrap_or_else(|| panic!("{file}: link {loc} has no (quoted) sheet"));
            assert!(
                names.contains(sheet.as_str()),
                "{file}: link {loc} to a missing sheet"
            );
            let cell = cell.replace('$', "");
            let split = cell.find(|c: char| c.is_ascii_digit()).unwrap();
            assert!(
                split > 0 && cell[split..].parse::<u32>().unwrap() > 0,
                "{file}: {loc}"
            );
            assert!(
                cell[..split].chars().all(|c| c.is_ascii_uppercase()),
                "{file}: {loc}"
            );
        }
    }
}

fn soffice() -> PathBuf {
    for c in [
        "/usr/bin/soffice",
        "/usr/local/bin/soffice",
        "/usr/bin/libreoffice",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!("LibreOffice (soffice) is required for this test: apt-get install -y libreoffice-calc");
}

#[test]
fn libreoffice_opens_every_copy_and_shows_every_finding_on_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    // ASCII names for LibreOffice's per-sheet csv files.
    let mut inputs = Vec::new();
    for (i, p) in copies().iter().enumerate() {
        let to = dir.path().join(format!("c{i}.xlsx"));
        std::fs::copy(p, &to).unwrap();
        inputs.push((p.clone(), to));
    }
    assert!(inputs.len() >= 4);
    let filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
    let status = Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            filter,
            "--outdir",
        ])
        .arg(dir.path())
        .args(inputs.iter().map(|(_, t)| t))
        .status()
        .expect("soffice runs");
    assert!(status.success());
    let fs = findings();
    for (i, (orig, _)) in inputs.iter().enumerate() {
        let csv = dir.path().join(format!("c{i}-核对说明.csv"));
        let text = std::fs::read_to_string(&csv)
            .unwrap_or_else(|_| panic!("LibreOffice did not open {}", orig.display()));
        let file = orig.file_name().unwrap().to_string_lossy().into_owned();
        let stem = file.trim_end_matches(".核对.xlsx");
        for f in fs.iter().filter(|f| {
            Path::new(f["file"].as_str().unwrap())
                .file_stem()
                .is_some_and(|s| s.to_string_lossy() == stem)
        }) {
            let code = f["code"].as_str().unwrap();
            assert!(text.contains(code), "{file}: 核对说明 lacks {code}");
        }
        let data_sheets = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with(&format!("c{i}-")) && !n.ends_with("核对说明.csv")
            })
            .count();
        assert!(data_sheets >= 1, "{file}: no data sheet after conversion");
    }
}

#[test]
fn two_runs_give_byte_identical_output_folders() {
    let a = out_dir();
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("out");
    reconcile(&b);
    let list = |p: &Path| -> BTreeSet<String> {
        std::fs::read_dir(p)
            .unwrap()
            .flatten()
            // The history folder holds one timestamped entry per run.
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let (la, lb) = (list(&a), list(&b));
    assert_eq!(la, lb, "the two runs wrote different files");
    assert!(la.iter().any(|n| n.ends_with(".核对.xlsx")));
    for name in &la {
        if a.join(name).is_dir() {
            continue;
        }
        let x = std::fs::read(a.join(name)).unwrap();
        let y = std::fs::read(b.join(name)).unwrap();
        assert!(x == y, "{name} differs between two runs");
    }
    // The history of each folder holds its one run, named by its time and
    // otherwise the same.
    let history = |p: &Path| -> Vec<Vec<u8>> {
        let h = p.join("历史");
        list(&h)
            .iter()
            .filter(|n| n.ends_with(".findings.json"))
            .map(|n| std::fs::read(h.join(n)).unwrap())
            .collect()
    };
    let (ha, hb) = (history(&a), history(&b));
    assert_eq!(ha.len(), 1, "one run in the history");
    assert!(ha == hb, "the history entries differ between two runs");
}

/// The text of a cell as a clerk sees it (IDs stored as numbers shown whole).
fn shown(d: &calamine::Data) -> String {
    match d {
        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        calamine::Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
    .trim()
    .to_string()
}

/// findings.csv's 相关位置 names the related cell, column letter included
/// (`县局名单.xlsx:Sheet1!K41`), and that cell holds what the finding
/// compares with: the roster's ID for ID_DIFFERS, the roster's name for
/// NAME_DIFFERS, the same ID for DUPLICATE_ID.
#[test]
fn related_places_in_findings_csv_name_the_cell_compared() {
    use calamine::Reader;
    let bytes = std::fs::read(out_dir().join("findings.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    let header = rd.headers().unwrap().clone();
    assert_eq!(&header[11], "相关位置");
    let digits = |s: &str| s.trim().trim_start_matches('\t').to_string();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    for r in rd.records().map(Result::unwrap) {
        let code = r[1].to_string();
        for place in r[11].split("; ").filter(|p| !p.is_empty()) {
            let (file, rest) = place.split_once(':').expect("file:sheet!cell");
            let (sheet, cell) = rest.rsplit_once('!').expect("sheet!cell");
            let letters: String = cell.chars().take_while(char::is_ascii_uppercase).collect();
            assert!(!letters.is_empty(), "{place}: the column letter is named");
            let row: u32 = cell[letters.len()..].parse().expect("row number");
            let col = letters
                .bytes()
                .fold(0u32, |n, b| n * 26 + u32::from(b - b'A' + 1));
            let mut wb = calamine::open_workbook_auto(samples().join(file)).unwrap();
            let range = wb.worksheet_range(sheet).unwrap();
            let value = range
                .get_value((row - 1, col - 1))
                .map(shown)
                .unwrap_or_default();
            let expected = match code.as_str() {
                "ID_DIFFERS" | "NAME_DIFFERS" => digits(&r[9]),
                "DUPLICATE_ID" => digits(&r[8]),
                _ => continue,
            };
            assert_eq!(value, expected, "{code} at {}!{}: {place}", &r[3], &r[5]);
            *checked.entry(code.clone()).or_default() += 1;
        }
    }
    for code in ["ID_DIFFERS", "NAME_DIFFERS"] {
        assert!(checked.get(code).is_some_and(|&n| n > 0), "{checked:?}");
    }
}

/// 报告.html names a finding's related places as findings.csv does: the
/// cell, column letter included (`县局名单.xlsx:Sheet1!J48`), for every
/// finding of the samples, in particular every ID_DIFFERS.
#[test]
fn related_places_in_the_html_report_match_findings_csv() {
    let bytes = std::fs::read(out_dir().join("findings.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    let csv_rows: Vec<(String, Vec<String>)> = rd
        .records()
        .map(Result::unwrap)
        .map(|r| {
            let places = r[11]
                .split("; ")
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            (r[1].to_string(), places)
        })
        .collect();
    let html = std::fs::read_to_string(out_dir().join("报告.html")).unwrap();
    let body = html
        .split("id=\"findings-table\"")
        .nth(1)
        .and_then(|t| t.split("<tbody>").nth(1))
        .and_then(|t| t.split("</tbody>").next())
        .expect("findings table body");
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let html_rows: Vec<(String, Vec<String>)> = body
        .split("<tr ")
        .skip(1)
        .map(|tr| {
            let code = tr
                .split("data-code=\"")
                .nth(1)
                .and_then(|t| t.split('"').next())
                .expect("data-code")
                .to_string();
            let places = tr
                .split("<div class=\"rel\">相关：")
                .nth(1)
                .and_then(|t| t.split("</div>").next())
                .map(|t| unescape(t).split('；').map(str::to_string).collect())
                .unwrap_or_default();
            (code, places)
        })
        .collect();
    assert_eq!(html_rows.len(), csv_rows.len(), "one html row per finding");
    let mut id_differs = 0;
    for (i, (h, c)) in html_rows.iter().zip(&csv_rows).enumerate() {
        assert_eq!(h.0, c.0, "finding {i}: same order in both");
        assert_eq!(h.1, c.1, "finding {i} ({}): related places", c.0);
        if c.0 == "ID_DIFFERS" {
            assert!(!h.1.is_empty(), "ID_DIFFERS names the roster's cell");
            for place in &h.1 {
                let cell = place.rsplit_once('!').unwrap().1;
                assert!(
                    cell.starts_with(|ch: char| ch.is_ascii_uppercase()),
                    "{place}: the column letter is named"
                );
            }
            id_differs += 1;
        }
    }
    assert!(id_differs > 0, "the samples have an ID_DIFFERS finding");
}
