//! `[Content_Types].xml`: overrides for the new parts, the `.vml` default.

use crate::annotate::xml::{self, At, Hooks, Open, attr, esc};
use quick_xml::events::BytesStart;
use quick_xml::writer::Writer;
use std::collections::BTreeSet;

pub(super) const CT_WORKSHEET: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
pub(super) const CT_COMMENTS: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml";
pub(super) const CT_VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";
pub(super) const CT_STYLES: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";

/// What the part declares already: a Default for `.vml`, and the
/// overridden part names (lower case).
#[derive(Default)]
struct Declared {
    vml: bool,
    overrides: BTreeSet<String>,
}

impl Hooks for Declared {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if at.local == "Default"
            && attr(e, "Extension").is_some_and(|x| x.eq_ignore_ascii_case("vml"))
        {
            self.vml = true;
        } else if at.local == "Override"
            && let Some(p) = attr(e, "PartName")
        {
            self.overrides.insert(p.to_ascii_lowercase());
        }
        Ok(Open::Keep)
    }
}

/// The content types part with an override for each new part it does not
/// declare yet, and (`vml_default`) a Default for `.vml` when it has none.
pub(super) fn rewrite(
    xml: &[u8],
    overrides: &[(String, &'static str)],
    vml_default: bool,
) -> Result<Vec<u8>, String> {
    // What exists already is parsed, not searched.
    let mut declared = Declared::default();
    xml::scan(xml, &mut declared).map_err(|e| e.to_string())?;
    xml::append_to_root(xml, |p| {
        let mut s = String::new();
        if vml_default && !declared.vml {
            s.push_str(&format!(
                r#"<{p}Default Extension="vml" ContentType="{CT_VML}"/>"#
            ));
        }
        for (part, ct) in overrides {
            if declared.overrides.contains(&part.to_ascii_lowercase()) {
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
