//! Comments parts (`xl/commentsN.xml`): the legacy notes' text. A new part
//! for a sheet without notes, or ours merged into the sheet's own.

use crate::annotate::xml::{self, At, Hooks, Open, attr, esc};
use quick_xml::events::BytesStart;
use quick_xml::writer::Writer;
use std::collections::{BTreeMap, BTreeSet};

/// The author of every note we write.
const AUTHOR: &str = "台账核对";

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
        xml::cell_name(row, col),
        runs(p, &format!("{AUTHOR}："), &format!("\n{text}"))
    )
}

/// A new comments part holding `notes` (cell → text), written into `w`.
pub(super) fn write_new_part(
    notes: &BTreeMap<(u32, u32), String>,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    w.write_all(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<comments xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">".as_bytes(),
    )?;
    write!(
        w,
        "<authors><author>{AUTHOR}</author></authors><commentList>"
    )?;
    for ((r, c), t) in notes {
        w.write_all(comment_xml("", *r, *c, 0, t).as_bytes())?;
    }
    w.write_all(b"</commentList></comments>")
}

/// Counts the authors of a comments part.
struct Authors(usize);

impl Hooks for Authors {
    fn open(
        &mut self,
        at: &At,
        _e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if at.depth == 2 && at.local == "author" {
            self.0 += 1;
        }
        Ok(Open::Keep)
    }
}

/// Merges our notes into an existing comments part.
struct Merge<'a> {
    notes: &'a BTreeMap<(u32, u32), String>,
    /// Our author's id: the number of authors before ours.
    author: usize,
    section: String,
    /// The comment being read, when it is on one of our cells.
    cur: Option<(u32, u32)>,
    appended: bool,
    had: CellSet,
    list_done: bool,
    author_done: bool,
    /// An empty `authors` or `commentList` being expanded: ours go in
    /// whatever came before.
    expanding: bool,
}

impl Merge<'_> {
    fn new_list(&self, p: &str) -> String {
        self.notes
            .iter()
            .filter(|(k, _)| !self.had.contains(k))
            .map(|((rr, cc), t)| comment_xml(p, *rr, *cc, self.author, t))
            .collect()
    }
    fn appendix(&self, p: &str, k: (u32, u32)) -> String {
        runs(
            p,
            &format!("\n{AUTHOR}："),
            &format!("\n{}", self.notes[&k]),
        )
    }
    /// Inside a comment on one of our cells, at the level of its runs.
    fn in_runs(&self, at: &At) -> bool {
        at.depth == 4 && self.cur.is_some() && at.main
    }
}

impl Hooks for Merge<'_> {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        empty: bool,
        w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        let p = at.prefix;
        self.expanding = false;
        if at.depth == 1 && at.main {
            self.section = at.local.to_string();
            if empty && matches!(at.local, "authors" | "commentList") {
                self.expanding = true;
                return Ok(Open::Expand(None));
            }
        }
        if at.depth == 2 && at.main && self.section == "commentList" && at.local == "comment" {
            self.cur = attr(e, "ref")
                .and_then(|v| xml::parse_cell_ref(&v))
                .filter(|k| self.notes.contains_key(k));
            if let Some(k) = self.cur {
                self.had.insert(k);
            }
            self.appended = false;
        }
        if self.in_runs(at) {
            if !self.appended && matches!(at.local, "rPh" | "phoneticPr") {
                if let Some(k) = self.cur {
                    w.get_mut()
                        .extend_from_slice(self.appendix(p, k).as_bytes());
                }
                self.appended = true;
            }
            if at.local == "t" {
                // A plain <t> under <text>: wrap it in a run so ours can follow.
                w.get_mut().extend_from_slice(format!("<{p}r>").as_bytes());
            }
        }
        Ok(Open::Keep)
    }
    fn close(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let p = at.prefix;
        if at.depth == 3
            && at.main
            && at.local == "text"
            && let (Some(k), false) = (self.cur, self.appended)
        {
            w.get_mut()
                .extend_from_slice(self.appendix(p, k).as_bytes());
            self.appended = true;
        }
        if at.depth == 2 && at.main && at.local == "comment" {
            self.cur = None;
        }
        if at.depth == 1
            && at.main
            && at.local == "authors"
            && (!self.author_done || self.expanding)
        {
            w.get_mut()
                .extend_from_slice(format!("<{p}author>{AUTHOR}</{p}author>").as_bytes());
            self.author_done = true;
        }
        if at.depth == 1
            && at.main
            && at.local == "commentList"
            && (!self.list_done || self.expanding)
        {
            w.get_mut().extend_from_slice(self.new_list(p).as_bytes());
            self.list_done = true;
        }
        if at.depth == 0 && !self.list_done {
            w.get_mut().extend_from_slice(
                format!("<{p}commentList>{}</{p}commentList>", self.new_list(p)).as_bytes(),
            );
            self.list_done = true;
        }
        Ok(())
    }
    fn after(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if self.in_runs(at) && at.local == "t" {
            w.get_mut()
                .extend_from_slice(format!("</{}r>", at.prefix).as_bytes());
        }
        Ok(())
    }
}

/// Merge our notes into an existing comments part: existing notes on our
/// cells get our text appended; other cells get new comments. Returns the
/// new part and the cells that already had a note.
pub(super) fn merge(
    xml: &[u8],
    notes: &BTreeMap<(u32, u32), String>,
) -> Result<(Vec<u8>, CellSet), String> {
    let mut authors = Authors(0);
    xml::scan(xml, &mut authors).map_err(|e| e.to_string())?;
    let mut merge = Merge {
        notes,
        author: authors.0,
        section: String::new(),
        cur: None,
        appended: false,
        had: BTreeSet::new(),
        list_done: false,
        author_done: false,
        expanding: false,
    };
    let out = xml::rewrite(xml, &mut merge).map_err(|e| e.to_string())?;
    Ok((out, merge.had))
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
        let (out, had) = merge(xml.as_bytes(), &notes).unwrap();
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
}
