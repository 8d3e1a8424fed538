//! The README picture: scripts/render_readme_picture.sh renders one annotated
//! sample copy through LibreOffice (PDF) and pdftoppm into a PNG. Here the
//! same script renders into a temporary folder with the freshly built binary,
//! and the picture must be a real one: sane size, and the red error and
//! orange warning fills visible in it; and 核对说明, its first page, prints
//! at 85 % or more of its size.

use std::path::Path;
use std::process::Command;

/// Width and height from the PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn readme_picture_shows_the_fills() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("annotated.png");
    let pdf = dir.path().join("annotated.pdf");
    let out = Command::new("bash")
        .arg(root.join("scripts/render_readme_picture.sh"))
        .arg(&png)
        .env("TAIZHANG_BIN", env!("CARGO_BIN_EXE_taizhang"))
        .env("DPI", "60")
        .env("PDF_OUT", &pdf)
        .output()
        .expect("bash runs the script");
    assert!(
        out.status.success(),
        "render script failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("the script wrote the PNG");
    let (w, h) = png_size(&bytes);
    assert!(
        (300..=4000).contains(&w) && (300..=8000).contains(&h),
        "{w}x{h}"
    );
    // Count the fill colours with the script's own PNG reader.
    let o = Command::new("python3")
        .arg(root.join("scripts/ppm_tool.py"))
        .arg("pngcount")
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Vec<u64> = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!((v[0], v[1]), (w as u64, h as u64));
    let (red, orange) = (v[2], v[3]);
    let area = (w as u64) * (h as u64);
    assert!(
        red > 500 && orange > 500,
        "fills not visible: red {red}, orange {orange}"
    );
    // Mostly a page, not a colour block.
    assert!(red + orange < area / 2, "picture is mostly fill: {v:?}");
    summary_prints_large(&pdf);
}

/// 核对说明 (the PDF's first page) prints at 85 % or more of its size: its
/// findings table's header 级别, two Chinese characters of an 11-point
/// font, is at least 2 × 11 × 0.85 points wide on the page.
fn summary_prints_large(pdf: &Path) {
    let out = Command::new("pdftotext")
        .args(["-f", "1", "-l", "1", "-bbox"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8_lossy(&out.stdout);
    let re = regex::Regex::new(
        r#"<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>级别</word>"#,
    )
    .unwrap();
    let c = re
        .captures(&page)
        .unwrap_or_else(|| panic!("no 级别 header on page 1:\n{page}"));
    let width = c[2].parse::<f64>().unwrap() - c[1].parse::<f64>().unwrap();
    let scale = width / (2.0 * 11.0);
    assert!(
        scale >= 0.85,
        "核对说明 prints at {:.0} % ({width:.1} points for 级别)",
        scale * 100.0
    );
}
