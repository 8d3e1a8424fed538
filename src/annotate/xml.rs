//! Small XML helpers shared by the patchers, and the one streaming pass
//! ([`rewrite`], [`scan`]) every small package part goes through.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;

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

/// Where an element is, as [`Hooks`] see it.
pub struct At<'a> {
    /// Nesting depth: 0 for the root element.
    pub depth: u32,
    /// Whether the element is in the SpreadsheetML main namespace
    /// (transitional or strict).
    pub main: bool,
    /// The element's local name.
    pub local: &'a str,
    /// The root element's prefix (`"x:"` or `""`); new elements take it.
    pub prefix: &'a str,
}

/// What the pass writes for a start or empty tag.
pub enum Open {
    /// The tag as read.
    Keep,
    /// This tag instead (same element name).
    Replace(BytesStart<'static>),
    /// An empty tag written as a start and end tag (this one when given),
    /// so that content can go between: [`Hooks::after_open`] and
    /// [`Hooks::close`] run as for an element with content. A start tag
    /// is written as with `Replace`/`Keep`.
    Expand(Option<BytesStart<'static>>),
}

/// Per-element hooks of the streaming pass. Each may write into the output
/// at its place; everything it does not change is copied event by event.
pub trait Hooks {
    /// Before a start or empty tag; decides what tag is written.
    fn open(
        &mut self,
        _at: &At,
        _e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        Ok(Open::Keep)
    }
    /// Right after a start tag (not after an empty one).
    fn after_open(&mut self, _at: &At, _w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        Ok(())
    }
    /// Before an end tag.
    fn close(&mut self, _at: &At, _w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        Ok(())
    }
    /// After an element's last tag (its end tag, or its empty tag).
    fn after(&mut self, _at: &At, _w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        Ok(())
    }
    /// Every event read, as read, once it has been copied (an expanded
    /// empty tag is not reported).
    fn copied(&mut self, _ev: &Event) {}
}

/// A failure of the streaming pass: the part is not well-formed XML, or
/// the output could not be written.
#[derive(Debug)]
pub enum PassError {
    Xml(quick_xml::Error),
    Io(std::io::Error),
}

impl std::fmt::Display for PassError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassError::Xml(e) => e.fmt(f),
            PassError::Io(e) => e.fmt(f),
        }
    }
}

impl From<std::io::Error> for PassError {
    fn from(e: std::io::Error) -> Self {
        PassError::Io(e)
    }
}

/// Rewrite a part: quick-xml events in, the same events out, with `hooks`
/// called at every element.
pub fn rewrite(xml: &[u8], hooks: &mut impl Hooks) -> Result<Vec<u8>, PassError> {
    run(xml, hooks, true)
}

/// Read a part with `hooks` called at every element; nothing is written.
pub fn scan(xml: &[u8], hooks: &mut impl Hooks) -> Result<(), PassError> {
    run(xml, hooks, false).map(|_| ())
}

fn run(xml: &[u8], hooks: &mut impl Hooks, write: bool) -> Result<Vec<u8>, PassError> {
    let mut r = NsReader::from_reader(xml);
    let cap = if write { xml.len() + 1024 } else { 0 };
    let mut w = Writer::new(Vec::with_capacity(cap));
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut prefix = String::new();
    loop {
        let ev = r.read_event_into(&mut buf).map_err(PassError::Xml)?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = r.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                if depth == 0 {
                    prefix = prefix_of(e);
                }
                let at = At {
                    depth,
                    main,
                    local: local.as_ref(),
                    prefix: &prefix,
                };
                match hooks.open(&at, e, empty, &mut w)? {
                    Open::Expand(tag) if empty => {
                        let tag = tag.unwrap_or_else(|| e.to_owned());
                        if write {
                            w.write_event(Event::Start(tag.borrow()))?;
                        }
                        hooks.after_open(&at, &mut w)?;
                        hooks.close(&at, &mut w)?;
                        if write {
                            w.write_event(Event::End(tag.to_end()))?;
                        }
                        hooks.after(&at, &mut w)?;
                    }
                    open => {
                        if write {
                            let tag = match open {
                                Open::Replace(t) | Open::Expand(Some(t)) => t,
                                Open::Keep | Open::Expand(None) => e.to_owned(),
                            };
                            if empty {
                                w.write_event(Event::Empty(tag))?;
                            } else {
                                w.write_event(Event::Start(tag))?;
                            }
                        }
                        hooks.copied(&ev);
                        if empty {
                            hooks.after(&at, &mut w)?;
                        } else {
                            depth += 1;
                            hooks.after_open(&at, &mut w)?;
                        }
                    }
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let (ns, local) = r.resolver().resolve_element(e.name());
                let at = At {
                    depth,
                    main: is_main(&ns),
                    local: local.as_ref(),
                    prefix: &prefix,
                };
                hooks.close(&at, &mut w)?;
                if write {
                    w.write_event(ev.clone())?;
                }
                hooks.copied(&ev);
                hooks.after(&at, &mut w)?;
            }
            _ => {
                if write {
                    w.write_event(ev.clone())?;
                }
                hooks.copied(&ev);
            }
        }
        buf.clear();
    }
    Ok(w.into_inner())
}

/// Hooks that append children just before the root element closes
/// (expanding an empty root); `make` gets the root's prefix.
pub struct AppendToRoot<F: Fn(&str) -> String>(pub F);

impl<F: Fn(&str) -> String> Hooks for AppendToRoot<F> {
    fn open(
        &mut self,
        at: &At,
        _e: &BytesStart,
        _empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        Ok(if at.depth == 0 {
            Open::Expand(None)
        } else {
            Open::Keep
        })
    }
    fn close(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if at.depth == 0 {
            w.get_mut()
                .extend_from_slice((self.0)(at.prefix).as_bytes());
        }
        Ok(())
    }
}

/// Append children just before the root element closes (or expand an
/// empty root).
pub fn append_to_root(xml: &[u8], make: impl Fn(&str) -> String) -> Result<Vec<u8>, String> {
    rewrite(xml, &mut AppendToRoot(make)).map_err(|e| e.to_string())
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
