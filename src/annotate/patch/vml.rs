//! VML drawings (`xl/drawings/vmlDrawingN.vml`): the shapes that show the
//! legacy notes. VML from old writers is often not well-formed XML, so
//! these are byte splices, not XML passes.

use std::collections::BTreeSet;

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
pub(super) fn shape_blocks(n: usize) -> u32 {
    1 + n as u32 / 1024
}

/// `k` consecutive blocks (from 1) none of which is in `used`.
pub(super) fn free_blocks(used: &BTreeSet<u32>, k: u32) -> Vec<u32> {
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

/// A new VML drawing with a note shape for each of `cells` (cell, lines of
/// text), numbered in `blocks`, written into `w`.
pub(super) fn write_new_part(
    cells: &[((u32, u32), usize)],
    blocks: &[u32],
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let first = blocks.first().copied().unwrap_or(1);
    write!(
        w,
        "<xml {VML_NS}>\n <o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"{}\"/></o:shapelayout>{SHAPETYPE}\n",
        idmap_data(blocks)
    )?;
    for (i, ((r, c), lines)) in cells.iter().enumerate() {
        w.write_all(
            vml_shape(first * 1024 + 1 + i as u32, *r, *c, *lines, i + 1, false).as_bytes(),
        )?;
        w.write_all(b"\n")?;
    }
    w.write_all(b"</xml>")
}

/// The idmap blocks and shape numbers of a VML drawing.
#[derive(Debug, Default, PartialEq)]
pub(super) struct VmlIds {
    pub blocks: Vec<u32>,
    /// Span (start, end) of the idmap's data value, to rewrite it.
    data_span: Option<(usize, usize)>,
    pub shapes: Vec<u32>,
}

/// Scan VML bytes for `<o:idmap ... data="1,2">` and `_x0000_s1025` ids.
/// VML from old writers is often not well-formed XML, so this scans bytes.
pub(super) fn vml_ids(xml: &[u8]) -> VmlIds {
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
pub(super) fn merge(
    xml: &[u8],
    cells: &[((u32, u32), usize)],
    used: &mut BTreeSet<u32>,
) -> Vec<u8> {
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
    fn vml_merge_adds_shapes_before_root_end() {
        let old = "<xml xmlns:v=\"urn:schemas-microsoft-com:vml\"><v:shapetype id=\"_x0000_t202\"></v:shapetype><v:shape id=\"a\"/></xml>\n";
        let mut used = BTreeSet::new();
        let out = String::from_utf8(merge(old.as_bytes(), &[((3, 2), 4)], &mut used)).unwrap();
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
        let out = String::from_utf8(merge(
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
        let out = String::from_utf8(merge(old.as_bytes(), &many, &mut used)).unwrap();
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
        let mut x = Vec::new();
        write_new_part(&cells, &blocks, &mut x).unwrap();
        let x = String::from_utf8(x).unwrap();
        assert!(x.contains("<o:idmap v:ext=\"edit\" data=\"2,3\"/>"));
        assert!(x.contains("_x0000_s2049\"") && x.contains("_x0000_s3548\""));
        let ids = vml_ids(x.as_bytes());
        assert_eq!(ids.blocks, vec![2, 3]);
        assert!(ids.shapes.iter().all(|s| [2, 3].contains(&(s / 1024))));
    }
}
