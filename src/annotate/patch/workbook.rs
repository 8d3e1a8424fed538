//! The workbook part (`xl/workbook.xml`): its sheets, and the summary sheet
//! put first (sheet-local names and the active tab shift by one).

use super::corrupt;
use crate::annotate::AnnotateError;
use crate::annotate::xml::{self, At, Hooks, Open, attr, declares_r, esc, with_attr};
use quick_xml::events::{BytesStart, Event};
use quick_xml::writer::Writer;
use std::path::Path;

/// A sheet as the workbook lists it.
pub(super) struct SheetEntry {
    pub name: String,
    pub sheet_id: u32,
    /// The relationship id of its part.
    pub rid: String,
}

struct Sheets(Vec<SheetEntry>);

impl Hooks for Sheets {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if at.main && at.local == "sheet" {
            let rid = e
                .attributes()
                .with_checks(false)
                .flatten()
                .find(|a| a.key.local_name().as_ref() == "id" && a.key.prefix().is_some())
                .map(|a| a.value.to_string())
                .unwrap_or_default();
            self.0.push(SheetEntry {
                name: attr(e, "name").unwrap_or_default(),
                sheet_id: attr(e, "sheetId").and_then(|v| v.parse().ok()).unwrap_or(0),
                rid,
            });
        }
        Ok(Open::Keep)
    }
}

/// Every sheet of the workbook, in order.
pub(super) fn parse_sheets(xml: &[u8], path: &Path) -> Result<Vec<SheetEntry>, AnnotateError> {
    let mut s = Sheets(Vec::new());
    xml::scan(xml, &mut s).map_err(|e| corrupt(path, format!("工作簿：{e}")))?;
    Ok(s.0)
}

/// The workbook elements that follow `definedNames`: a missing
/// `definedNames` goes before the first of them.
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

/// Puts the summary sheet first, with its filter range as a defined name.
struct FirstSheet<'a> {
    name: &'a str,
    sheet_id: u32,
    rid: &'a str,
    filter: &'a str,
    r_decl: bool,
    names_done: bool,
    /// An empty `definedNames` being expanded: ours goes in whatever came
    /// before.
    names_empty: bool,
    section: String,
}

impl FirstSheet<'_> {
    fn defined(&self, p: &str) -> String {
        format!(
            r#"<{p}definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{}</{p}definedName>"#,
            esc(self.filter)
        )
    }
    fn defined_names(&self, p: &str) -> String {
        format!("<{p}definedNames>{}</{p}definedNames>", self.defined(p))
    }
    fn ours(&self, prefix: &str) -> BytesStart<'static> {
        let mut s = BytesStart::new(format!("{prefix}sheet"));
        s.push_attribute(("name", self.name));
        s.push_attribute(("sheetId", self.sheet_id.to_string().as_str()));
        if !self.r_decl {
            s.push_attribute(("xmlns:r", xml::REL_NS));
        }
        s.push_attribute(("r:id", self.rid));
        s
    }
}

impl Hooks for FirstSheet<'_> {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        empty: bool,
        w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if at.depth == 0 {
            self.r_decl = declares_r(e);
        }
        if at.depth == 1 && at.main {
            self.section = at.local.to_string();
            if !self.names_done && AFTER_DEFINED_NAMES.contains(&at.local) {
                w.get_mut()
                    .extend_from_slice(self.defined_names(at.prefix).as_bytes());
                self.names_done = true;
            }
        }
        let mut out: Option<BytesStart<'static>> = None;
        if at.depth == 2 && at.main && self.section == "bookViews" && at.local == "workbookView" {
            // The copy opens on 核对说明 (the first sheet), shown in the tab bar.
            let mut tag = with_attr(e, "activeTab", "0");
            if attr(e, "firstSheet").is_some() {
                tag = with_attr(&tag, "firstSheet", "0");
            }
            out = Some(tag);
        }
        if at.depth == 2
            && at.main
            && self.section == "definedNames"
            && at.local == "definedName"
            && let Some(id) = attr(e, "localSheetId").and_then(|v| v.parse::<u32>().ok())
        {
            out = Some(with_attr(e, "localSheetId", &(id + 1).to_string()));
        }
        let expand = at.depth == 1 && at.main && matches!(at.local, "sheets" | "definedNames");
        self.names_empty = expand && empty && at.local == "definedNames";
        Ok(match (out, expand) {
            (out, true) => Open::Expand(out),
            (Some(t), false) => Open::Replace(t),
            (None, false) => Open::Keep,
        })
    }
    fn after_open(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if at.depth == 1 && at.main && at.local == "sheets" {
            w.write_event(Event::Empty(self.ours(at.prefix)))?;
        }
        Ok(())
    }
    fn close(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if at.depth == 1
            && at.main
            && at.local == "definedNames"
            && (!self.names_done || self.names_empty)
        {
            w.get_mut()
                .extend_from_slice(self.defined(at.prefix).as_bytes());
            self.names_done = true;
            self.names_empty = false;
        }
        if at.depth == 0 && !self.names_done {
            w.get_mut()
                .extend_from_slice(self.defined_names(at.prefix).as_bytes());
            self.names_done = true;
        }
        Ok(())
    }
}

/// The workbook with sheet `name` (id `sheet_id`, relationship `rid`)
/// first and active, and `filter` as its filter range.
pub(super) fn put_first(
    xml: &[u8],
    name: &str,
    sheet_id: u32,
    rid: &str,
    filter: &str,
) -> Result<Vec<u8>, String> {
    let mut hooks = FirstSheet {
        name,
        sheet_id,
        rid,
        filter,
        r_decl: false,
        names_done: false,
        names_empty: false,
        section: String::new(),
    };
    xml::rewrite(xml, &mut hooks).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_gets_first_sheet_shifted_names_and_views() {
        let xml = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView xWindow="0" activeTab="1"/></bookViews><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="3" r:id="rId2"/></sheets><definedNames><definedName name="_xlnm.Print_Titles" localSheetId="1">B!$1:$3</definedName><definedName name="g">A!$A$1</definedName></definedNames><calcPr calcId="1"/></workbook>"#;
        let out = put_first(
            xml.as_bytes(),
            "核对说明",
            4,
            "rIdTz1",
            "'核对说明'!$A$6:$I$9",
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(r#"<workbookView xWindow="0" activeTab="0"/>"#),
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
        let out =
            String::from_utf8(put_first(xml.as_bytes(), "S", 2, "r9", "'S'!$A$1:$I$1").unwrap())
                .unwrap();
        assert!(out.contains("</sheets><definedNames><definedName name=\"_xlnm._FilterDatabase\""));
        assert!(out.contains("</definedNames><calcPr"));
    }
}
