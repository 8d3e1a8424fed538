//! Small XML helpers shared by the patchers.

use quick_xml::events::BytesStart;
use quick_xml::name::{Namespace, ResolveResult};

pub const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
pub const MAIN_NS_STRICT: &str = "http://purl.oclc.org/ooxml/spreadsheetml/main";
pub const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
pub const REL_NS_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships";

pub fn is_main(ns: &ResolveResult) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == MAIN_NS || *n == MAIN_NS_STRICT)
}

/// Value of an unprefixed attribute (unescaped).
pub fn attr(e: &BytesStart, key: &str) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.as_ref() == key {
            return Some(
                quick_xml::escape::unescape(&a.value)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| a.value.to_string()),
            );
        }
    }
    None
}

/// A copy of `e` with the attribute `key` set to `value` (replaced in place,
/// or appended when absent). Other attributes keep their raw text.
pub fn with_attr(e: &BytesStart, key: &str, value: &str) -> BytesStart<'static> {
    let name = e.name().as_ref().to_string();
    let mut out = BytesStart::new(name);
    let mut done = false;
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.as_ref() == key {
            out.push_attribute((key, value));
            done = true;
        } else {
            out.push_attribute(a);
        }
    }
    if !done {
        out.push_attribute((key, value));
    }
    out
}

/// The qualified-name prefix of an element (`"x:"` for `<x:row>`, `""` otherwise).
pub fn prefix_of(e: &BytesStart) -> String {
    match e.name().prefix() {
        Some(p) => format!("{}:", p.as_ref()),
        None => String::new(),
    }
}

/// Whether a root element declares `xmlns:r` as the relationships namespace.
pub fn declares_r(e: &BytesStart) -> bool {
    e.attributes()
        .with_checks(false)
        .flatten()
        .any(|a| a.key.as_ref() == "xmlns:r" && (a.value == REL_NS || a.value == REL_NS_STRICT))
}

/// Escape text for an XML text node or attribute; characters XML 1.0
/// forbids are dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// "F17" → (17, 6); None when it is not a cell reference.
pub fn parse_cell_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('$');
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = s.split_at(split);
    let letters = letters.trim_end_matches('$').to_ascii_uppercase();
    let col = crate::model::col_number(&letters)?;
    let row: u32 = digits.parse().ok()?;
    if row == 0 || col == 0 {
        return None;
    }
    Some((row, col))
}

pub fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", crate::model::col_letter(col), row)
}

/// Resolve a relationship target against the folder of the part that owns
/// the rels (`xl/` for xl/_rels/workbook.xml.rels). Absolute targets start at
/// the package root.
pub fn resolve_target(base_dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if let Some(abs) = target.strip_prefix('/') {
        let _ = abs;
        Vec::new()
    } else {
        base_dir.split('/').filter(|p| !p.is_empty()).collect()
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

/// Folder of a part name ("xl/worksheets/sheet1.xml" → "xl/worksheets").
pub fn dir_of(part: &str) -> &str {
    match part.rfind('/') {
        Some(i) => &part[..i],
        None => "",
    }
}

/// The rels part of a part ("xl/worksheets/sheet1.xml" → "xl/worksheets/_rels/sheet1.xml.rels").
pub fn rels_of(part: &str) -> String {
    match part.rfind('/') {
        Some(i) => format!("{}/_rels/{}.rels", &part[..i], &part[i + 1..]),
        None => format!("_rels/{part}.rels"),
    }
}

/// A relative target from folder `from_dir` to part `to` (both package paths).
pub fn relative_target(from_dir: &str, to: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|p| !p.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let mut common = 0;
    while common < from.len() && common + 1 < to_parts.len() && from[common] == to_parts[common] {
        common += 1;
    }
    let mut out: Vec<&str> = vec![".."; from.len() - common];
    out.extend_from_slice(&to_parts[common..]);
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_and_relativise() {
        assert_eq!(
            resolve_target("xl", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve_target("xl/worksheets", "../comments1.xml"),
            "xl/comments1.xml"
        );
        assert_eq!(
            resolve_target("xl", "/xl/worksheets/sheet2.xml"),
            "xl/worksheets/sheet2.xml"
        );
        assert_eq!(
            relative_target("xl/worksheets", "xl/comments1.xml"),
            "../comments1.xml"
        );
        assert_eq!(
            relative_target("xl/worksheets", "xl/drawings/vmlDrawing1.vml"),
            "../drawings/vmlDrawing1.vml"
        );
        assert_eq!(
            relative_target("xl", "xl/worksheets/sheet9.xml"),
            "worksheets/sheet9.xml"
        );
        assert_eq!(
            rels_of("xl/worksheets/sheet1.xml"),
            "xl/worksheets/_rels/sheet1.xml.rels"
        );
    }

    #[test]
    fn cell_refs_parse() {
        assert_eq!(parse_cell_ref("F17"), Some((17, 6)));
        assert_eq!(parse_cell_ref("$AA$3"), Some((3, 27)));
        assert_eq!(parse_cell_ref("17"), None);
        assert_eq!(cell_name(17, 6), "F17");
        assert_eq!(esc("a<b&\u{1}c\n"), "a&lt;b&amp;c\n");
    }
}
