//! Annotated copies open on 核对说明: the original's sheets lose their
//! `tabSelected` flag. Left in place, Excel and WPS would open the copy with
//! the original's tab selected beside 核对说明 — the two tabs grouped, so an
//! edit typed into one would go into both.

use memchr::memmem;
use std::io::{self, Write};

/// Bytes of a sheet part searched for its views: `sheetViews` comes before
/// `sheetData` in every worksheet, so the head ends there (or here, for a
/// part without data).
const HEAD_MAX: usize = 1 << 20;

/// The spellings of the flag an office suite writes.
const FLAGS: [&[u8]; 4] = [
    br#" tabSelected="1""#,
    br#" tabSelected="true""#,
    b" tabSelected='1'",
    b" tabSelected='true'",
];

/// True when the part (a worksheet or chartsheet, by its package path) may
/// carry the flag.
pub(super) fn is_sheet_part(name: &str) -> bool {
    (name.starts_with("xl/worksheets/") || name.starts_with("xl/chartsheets/"))
        && name.ends_with(".xml")
        && !name.contains("/_rels/")
}

/// True when `head` (the start of a sheet part) carries the flag.
pub(super) fn selected(head: &[u8]) -> bool {
    FLAGS.iter().any(|f| find(head, f).is_some())
}

/// The part with the flag removed from its head, the rest passed through.
pub(super) struct Unselect<W: Write> {
    inner: W,
    head: Option<Vec<u8>>,
}

impl<W: Write> Unselect<W> {
    pub(super) fn new(inner: W) -> Self {
        Unselect {
            inner,
            head: Some(Vec::new()),
        }
    }

    fn flush_head(&mut self) -> io::Result<()> {
        if let Some(head) = self.head.take() {
            self.inner.write_all(&unselect(&head))?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Unselect<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.head {
            Some(head) => {
                head.extend_from_slice(buf);
                if find(head, b"sheetData").is_some() || head.len() > HEAD_MAX {
                    self.flush_head()?;
                }
                Ok(buf.len())
            }
            None => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_head()?;
        self.inner.flush()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memmem::find(hay, needle)
}

/// `head` without any spelling of the flag.
fn unselect(head: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    for flag in FLAGS {
        while let Some(at) = find(&out, flag) {
            out.drain(at..at + flag.len());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_leaves_the_views_and_nothing_else_changes() {
        let xml = br#"<worksheet><sheetViews><sheetView tabSelected="1" workbookViewId="0"/><sheetView tabSelected='true' workbookViewId="1"/></sheetViews><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t> tabSelected="1"</t></is></c></row></sheetData></worksheet>"#;
        let mut out = Vec::new();
        {
            let mut w = Unselect::new(&mut out);
            // Written in small pieces, as the streaming passes do.
            for piece in xml.chunks(7) {
                w.write_all(piece).unwrap();
            }
            w.flush().unwrap();
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            r#"<worksheet><sheetViews><sheetView workbookViewId="0"/><sheetView workbookViewId="1"/></sheetViews><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t> tabSelected="1"</t></is></c></row></sheetData></worksheet>"#
        );
        let head = |x: &[u8]| x[..find(x, b"<sheetData").unwrap()].to_vec();
        assert!(selected(&head(xml)));
        assert!(!selected(&head(out.as_bytes())));
        assert!(is_sheet_part("xl/worksheets/sheet1.xml"));
        assert!(!is_sheet_part("xl/worksheets/_rels/sheet1.xml.rels"));
        assert!(!is_sheet_part("xl/workbook.xml"));
    }
}
