//! Relationship parts (`_rels/*.rels`): read them, append to them, write
//! new ones.

use super::corrupt;
use crate::annotate::AnnotateError;
use crate::annotate::xml::{self, At, Hooks, Open, attr, esc};
use quick_xml::events::BytesStart;
use quick_xml::writer::Writer;
use std::path::Path;

pub(super) const T_WORKSHEET: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
pub(super) const T_COMMENTS: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments";
pub(super) const T_VML: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing";
pub(super) const T_STYLES: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles";

#[derive(Clone, Debug)]
pub(super) struct Rel {
    pub id: String,
    pub typ: String,
    pub target: String,
    pub external: bool,
}

/// Collects every `Relationship` element.
struct Collect(Vec<Rel>);

impl Hooks for Collect {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if at.local == "Relationship" {
            self.0.push(Rel {
                id: attr(e, "Id").unwrap_or_default(),
                typ: attr(e, "Type").unwrap_or_default(),
                target: attr(e, "Target").unwrap_or_default(),
                external: attr(e, "TargetMode").as_deref() == Some("External"),
            });
        }
        Ok(Open::Keep)
    }
}

/// The relationships of a rels part.
pub(super) fn parse(xml: &[u8], path: &Path) -> Result<Vec<Rel>, AnnotateError> {
    let mut c = Collect(Vec::new());
    xml::scan(xml, &mut c).map_err(|e| corrupt(path, format!("关系部件：{e}")))?;
    Ok(c.0)
}

fn rel_xml(prefix: &str, r: &Rel) -> String {
    format!(
        r#"<{prefix}Relationship Id="{}" Type="{}" Target="{}"/>"#,
        esc(&r.id),
        esc(&r.typ),
        esc(&r.target)
    )
}

/// A new rels part holding `rels`.
pub(super) fn new_part(rels: &[Rel]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for r in rels {
        x.push_str(&rel_xml("", r));
    }
    x.push_str("</Relationships>");
    x
}

/// An existing rels part with `rels` appended.
pub(super) fn append(xml: &[u8], rels: &[Rel]) -> Result<Vec<u8>, String> {
    xml::append_to_root(xml, |p| rels.iter().map(|r| rel_xml(p, r)).collect())
}

/// A relationship id `rIdTz<k>` not yet in `used` (and now in it).
pub(super) fn next_id(used: &mut std::collections::BTreeSet<String>) -> String {
    let mut k = 1;
    loop {
        let id = format!("rIdTz{k}");
        if used.insert(id.clone()) {
            return id;
        }
        k += 1;
    }
}
