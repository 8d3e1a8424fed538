//! xl/styles.xml: append fonts, fills and cell formats, keep everything else.
//!
//! Marked cells get a *copy* of their own cell format (`xf`) with only the
//! fill replaced, so number formats, fonts, borders, alignment and
//! protection stay what they were.

use super::AnnotateError;
use super::xml::{attr, is_main, with_attr};
use quick_xml::events::Event;
use quick_xml::reader::NsReader;
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

/// Count fonts, fills and cellXfs of a styles part.
pub fn scan(xml: &[u8], path: &std::path::Path) -> Result<StyleCounts, AnnotateError> {
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut parent: Vec<String> = Vec::new();
    let mut c = StyleCounts::default();
    let mut seen_xfs = false;
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| err(path, format!("xl/styles.xml：{e}")))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = r.resolver().resolve_element(e.name());
                let local = local.as_ref().to_string();
                if depth == 2 && is_main(&ns) {
                    match (parent.last().map(|v| v.as_str()), local.as_str()) {
                        (Some("fonts"), "font") => c.fonts += 1,
                        (Some("fills"), "fill") => c.fills += 1,
                        (Some("cellXfs"), "xf") => c.xfs += 1,
                        _ => {}
                    }
                }
                if depth == 1 && local == "cellXfs" {
                    seen_xfs = true;
                }
                if !empty {
                    parent.push(local);
                    depth += 1;
                }
            }
            Event::End(_) => {
                parent.pop();
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_xfs {
        return Err(err(path, "xl/styles.xml 中没有单元格格式表（cellXfs）"));
    }
    Ok(c)
}

/// Rewrite a styles part with the plan appended; counts updated.
pub fn rewrite(
    xml: &[u8],
    plan: &StylePlan,
    path: &std::path::Path,
) -> Result<Vec<u8>, AnnotateError> {
    let mut r = NsReader::from_reader(xml);
    let mut w = Writer::new(Vec::with_capacity(xml.len() + 4096));
    let mut buf = Vec::new();
    let mut depth = 0u32;
    let mut section: Option<String> = None; // local name of the depth-1 element we are in
    let mut xfs: Vec<Vec<Event<'static>>> = Vec::new();
    let mut capturing: Option<Vec<Event<'static>>> = None;
    let mut counts = StyleCounts::default();
    let mut prefix = String::new();
    let io = |e: std::io::Error| err(path, e.to_string());
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| err(path, format!("xl/styles.xml：{e}")))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let (ns, local) = r.resolver().resolve_element(e.name());
                let main = is_main(&ns);
                let local = local.as_ref().to_string();
                if depth == 0 {
                    prefix = super::xml::prefix_of(e);
                }
                if let Some(cap) = capturing.as_mut() {
                    cap.push(ev.clone().into_owned());
                    if !empty {
                        depth += 1;
                    }
                    buf.clear();
                    continue;
                }
                if depth == 2 && main && section.as_deref() == Some("cellXfs") && local == "xf" {
                    if empty {
                        xfs.push(vec![ev.clone().into_owned()]);
                    } else {
                        capturing = Some(vec![ev.clone().into_owned()]);
                        depth += 1;
                    }
                    w.write_event(ev.clone()).map_err(io)?;
                    buf.clear();
                    continue;
                }
                if depth == 2 && main {
                    match (section.as_deref(), local.as_str()) {
                        (Some("fonts"), "font") => counts.fonts += 1,
                        (Some("fills"), "fill") => counts.fills += 1,
                        _ => {}
                    }
                }
                if depth == 1 && main {
                    let extra = match local.as_str() {
                        "fonts" => Some(plan.fonts.len()),
                        "fills" => Some(plan.fills.len()),
                        "cellXfs" => Some(plan.new_xfs.len() + plan.copies.len()),
                        _ => None,
                    };
                    if let Some(extra) = extra {
                        let old = attr(e, "count").and_then(|v| v.parse::<usize>().ok());
                        let e2 = match old {
                            Some(n) => with_attr(e, "count", &(n + extra).to_string()),
                            None => e.to_owned(),
                        };
                        if empty {
                            w.write_event(Event::Start(e2.borrow())).map_err(io)?;
                            append_section(&mut w, &local, plan, &xfs, &counts, &prefix)
                                .map_err(io)?;
                            let name = e.name().as_ref().to_string();
                            w.write_event(Event::End(quick_xml::events::BytesEnd::new(name)))
                                .map_err(io)?;
                        } else {
                            w.write_event(Event::Start(e2.borrow())).map_err(io)?;
                            section = Some(local.clone());
                            depth += 1;
                        }
                        buf.clear();
                        continue;
                    }
                    if !empty {
                        section = Some(local.clone());
                    }
                }
                if !empty {
                    depth += 1;
                }
                w.write_event(ev.clone()).map_err(io)?;
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                if let Some(cap) = capturing.as_mut() {
                    cap.push(ev.clone().into_owned());
                    if depth == 2
                        && let Some(done) = capturing.take()
                    {
                        // The Start was written already; write the rest.
                        for x in done.iter().skip(1) {
                            w.write_event(x.borrow()).map_err(io)?;
                        }
                        xfs.push(done);
                    }
                    buf.clear();
                    continue;
                }
                if depth == 1
                    && let Some(sec) = section.take()
                {
                    let (ns, _) = r.resolver().resolve_element(e.name());
                    if is_main(&ns) {
                        append_section(&mut w, &sec, plan, &xfs, &counts, &prefix).map_err(io)?;
                    }
                }
                w.write_event(ev.clone()).map_err(io)?;
            }
            _ => w.write_event(ev.clone()).map_err(io)?,
        }
        buf.clear();
    }
    Ok(w.into_inner())
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
    counts: &StyleCounts,
    prefix: &str,
) -> std::io::Result<()> {
    let _ = counts;
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
}
