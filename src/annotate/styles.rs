//! xl/styles.xml: append fonts, fills and cell formats, keep everything else.
//!
//! Marked cells get a *copy* of their own cell format (`xf`) with only the
//! fill replaced, so number formats, fonts, borders, alignment and
//! protection stay what they were.

use super::AnnotateError;
use super::xml::{self, At, Hooks, Open, PassError, attr, with_attr};
use quick_xml::events::{BytesStart, Event};
use quick_xml::writer::Writer;
use std::io::Write;

/// Counts found in an existing styles part.
#[derive(Clone, Debug, Default)]
pub struct StyleCounts {
    pub fonts: u32,
    pub fills: u32,
    pub xfs: u32,
}

/// What to append.
#[derive(Clone, Debug, Default)]
pub struct StylePlan {
    /// `<font>` elements (without prefix handling: default namespace assumed
    /// unless the part uses a prefix, see [`rewrite`]).
    pub fonts: Vec<String>,
    pub fills: Vec<String>,
    /// Complete `<xf>` elements appended first.
    pub new_xfs: Vec<String>,
    /// (existing xf index to copy, fillId) appended after `new_xfs`.
    pub copies: Vec<(u32, u32)>,
    /// Complete `<xf>` elements appended last, after the copies.
    pub last_xfs: Vec<String>,
}

/// The styles part written into a workbook that has none: one font, the two
/// fills every styles part starts with, one border, one cell format.
pub const MINIMAL: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font></fonts>"#,
    r#"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#,
    r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>"#,
    r#"<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>"#,
    "</styleSheet>"
);

fn err(path: &std::path::Path, detail: impl Into<String>) -> AnnotateError {
    AnnotateError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Counts fonts, fills and cellXfs, and whether there is a cellXfs.
#[derive(Default)]
struct Count {
    /// Local names of the open elements.
    parent: Vec<String>,
    counts: StyleCounts,
    seen_xfs: bool,
}

impl Hooks for Count {
    fn open(
        &mut self,
        at: &At,
        _e: &BytesStart,
        empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        let c = &mut self.counts;
        if at.depth == 2 && at.main {
            match (self.parent.last().map(|v| v.as_str()), at.local) {
                (Some("fonts"), "font") => c.fonts += 1,
                (Some("fills"), "fill") => c.fills += 1,
                (Some("cellXfs"), "xf") => c.xfs += 1,
                _ => {}
            }
        }
        if at.depth == 1 && at.local == "cellXfs" {
            self.seen_xfs = true;
        }
        if !empty {
            self.parent.push(at.local.to_string());
        }
        Ok(Open::Keep)
    }
    fn close(&mut self, _at: &At, _w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        self.parent.pop();
        Ok(())
    }
}

/// Count fonts, fills and cellXfs of a styles part.
pub fn scan(xml: &[u8], path: &std::path::Path) -> Result<StyleCounts, AnnotateError> {
    let mut c = Count::default();
    xml::scan(xml, &mut c).map_err(|e| err(path, format!("xl/styles.xml：{e}")))?;
    if !c.seen_xfs {
        return Err(err(path, "xl/styles.xml 中没有单元格格式表（cellXfs）"));
    }
    Ok(c.counts)
}

/// Appends the plan to the fonts, fills and cellXfs, counts updated.
struct Append<'a> {
    plan: &'a StylePlan,
    /// The local name of the main-namespace element at depth 1 being read.
    section: Option<String>,
    /// The cell formats read so far, each as its events.
    xfs: Vec<Vec<Event<'static>>>,
    /// The cell format being read.
    capturing: Option<Vec<Event<'static>>>,
}

impl Append<'_> {
    fn extra(&self, section: &str) -> Option<usize> {
        match section {
            "fonts" => Some(self.plan.fonts.len()),
            "fills" => Some(self.plan.fills.len()),
            "cellXfs" => {
                Some(self.plan.new_xfs.len() + self.plan.copies.len() + self.plan.last_xfs.len())
            }
            _ => None,
        }
    }
}

impl Hooks for Append<'_> {
    fn open(
        &mut self,
        at: &At,
        e: &BytesStart,
        empty: bool,
        _w: &mut Writer<Vec<u8>>,
    ) -> std::io::Result<Open> {
        if self.capturing.is_some() {
            return Ok(Open::Keep);
        }
        if at.depth == 2
            && at.main
            && self.section.as_deref() == Some("cellXfs")
            && at.local == "xf"
        {
            self.capturing = Some(Vec::new());
            return Ok(Open::Keep);
        }
        if at.depth == 1 && at.main {
            let extra = self.extra(at.local);
            // An empty one with something to append is expanded and
            // closed at once.
            if !empty || extra.is_some() {
                self.section = Some(at.local.to_string());
            }
            if let Some(extra) = extra {
                let old = attr(e, "count").and_then(|v| v.parse::<usize>().ok());
                return Ok(Open::Expand(
                    old.map(|n| with_attr(e, "count", &(n + extra).to_string())),
                ));
            }
        }
        Ok(Open::Keep)
    }
    fn copied(&mut self, ev: &Event) {
        if let Some(cap) = self.capturing.as_mut() {
            cap.push(ev.clone().into_owned());
        }
    }
    fn close(&mut self, at: &At, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if at.depth == 1 && self.section.take().is_some() && at.main {
            append_section(w, at.local, self.plan, &self.xfs, at.prefix)?;
        }
        Ok(())
    }
    fn after(&mut self, at: &At, _w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        if at.depth == 2
            && let Some(done) = self.capturing.take()
        {
            self.xfs.push(done);
        }
        Ok(())
    }
}

/// Rewrite a styles part with the plan appended; counts updated.
pub fn rewrite(
    xml: &[u8],
    plan: &StylePlan,
    path: &std::path::Path,
) -> Result<Vec<u8>, AnnotateError> {
    let mut hooks = Append {
        plan,
        section: None,
        xfs: Vec::new(),
        capturing: None,
    };
    xml::rewrite(xml, &mut hooks).map_err(|e| match e {
        PassError::Xml(e) => err(path, format!("xl/styles.xml：{e}")),
        PassError::Io(e) => err(path, e.to_string()),
    })
}

fn with_prefix(xml: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return xml.to_string();
    }
    // Our fragments use unprefixed element names only: add the part's prefix.
    let mut out = String::with_capacity(xml.len() + 16);
    let mut chars = xml.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '<' {
            if chars.peek() == Some(&'/') {
                out.push('/');
                chars.next();
            }
            out.push_str(prefix);
        }
    }
    out
}

fn append_section<W: Write>(
    w: &mut Writer<W>,
    section: &str,
    plan: &StylePlan,
    xfs: &[Vec<Event<'static>>],
    prefix: &str,
) -> std::io::Result<()> {
    match section {
        "fonts" => {
            for f in &plan.fonts {
                w.get_mut().write_all(with_prefix(f, prefix).as_bytes())?;
            }
        }
        "fills" => {
            for f in &plan.fills {
                w.get_mut().write_all(with_prefix(f, prefix).as_bytes())?;
            }
        }
        "cellXfs" => {
            for x in &plan.new_xfs {
                w.get_mut().write_all(with_prefix(x, prefix).as_bytes())?;
            }
            for (base, fill) in &plan.copies {
                let src = xfs.get(*base as usize).or_else(|| xfs.first());
                match src {
                    Some(events) => {
                        for (i, ev) in events.iter().enumerate() {
                            if i == 0 {
                                match ev {
                                    Event::Start(e) | Event::Empty(e) => {
                                        let e2 = with_attr(e, "fillId", &fill.to_string());
                                        let e2 = with_attr(&e2, "applyFill", "1");
                                        if matches!(ev, Event::Start(_)) {
                                            w.write_event(Event::Start(e2))?;
                                        } else {
                                            w.write_event(Event::Empty(e2))?;
                                        }
                                    }
                                    other => w.write_event(other.borrow())?,
                                }
                            } else {
                                w.write_event(ev.borrow())?;
                            }
                        }
                    }
                    None => {
                        let x = format!(
                            r#"<xf numFmtId="0" fontId="0" fillId="{fill}" borderId="0" xfId="0" applyFill="1"/>"#
                        );
                        w.get_mut().write_all(with_prefix(&x, prefix).as_bytes())?;
                    }
                }
            }
            for x in &plan.last_xfs {
                w.get_mut().write_all(with_prefix(x, prefix).as_bytes())?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A solid fill element.
pub fn solid_fill(rgb: &str) -> String {
    format!(
        r#"<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor indexed="64"/></patternFill></fill>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment horizontal="center"/></xf></cellXfs></styleSheet>"#;

    #[test]
    fn appends_fills_and_xf_copies_with_counts() {
        let p = std::path::Path::new("t.xlsx");
        let c = scan(STYLES.as_bytes(), p).unwrap();
        assert_eq!((c.fonts, c.fills, c.xfs), (1, 2, 2));
        let plan = StylePlan {
            fonts: vec!["<font><b/></font>".into()],
            fills: vec![solid_fill("FFFFC7CE")],
            new_xfs: vec![],
            copies: vec![(1, 2)],
            last_xfs: vec![],
        };
        let out = String::from_utf8(rewrite(STYLES.as_bytes(), &plan, p).unwrap()).unwrap();
        assert!(
            out.contains(
                r#"<fonts count="2"><font><sz val="11"/></font><font><b/></font></fonts>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"<fills count="3">"#));
        assert!(out.contains(r#"<fgColor rgb="FFFFC7CE"/>"#));
        assert!(out.contains(r#"<cellXfs count="3">"#));
        assert!(out.contains(
            r#"<xf numFmtId="49" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1"><alignment horizontal="center"/></xf></cellXfs>"#
        ), "{out}");
        // the original xf 1 is unchanged
        assert!(out.contains(r#"<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment horizontal="center"/></xf><xf"#));
    }

    #[test]
    fn indented_cell_formats_keep_their_layout_and_copies_carry_it() {
        let styles = "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\n<fonts count=\"1\"><font/></fonts>\n<fills count=\"2\"><fill/><fill/></fills>\n<cellXfs count=\"1\">\n  <xf numFmtId=\"49\" fillId=\"0\">\n    <alignment horizontal=\"center\"/>\n  </xf>\n</cellXfs>\n</styleSheet>";
        let p = std::path::Path::new("t.xlsx");
        let plan = StylePlan {
            copies: vec![(0, 2)],
            ..StylePlan::default()
        };
        let out = String::from_utf8(rewrite(styles.as_bytes(), &plan, p).unwrap()).unwrap();
        // The original format is copied as read; the copy follows it with
        // only the fill changed, its whitespace where it was.
        assert!(out.contains("<cellXfs count=\"2\">\n  <xf numFmtId=\"49\" fillId=\"0\">\n    <alignment horizontal=\"center\"/>\n  </xf>\n<xf numFmtId=\"49\" fillId=\"2\" applyFill=\"1\">\n    <alignment horizontal=\"center\"/>\n  </xf></cellXfs>"), "{out}");
    }
}
