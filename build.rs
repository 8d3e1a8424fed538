//! Build script. For a Windows target only: gives taizhang.exe its icon and a
//! version resource (文件说明 台账核对, 产品名称, the version from Cargo.toml),
//! so Explorer, the file's 属性 → 详细信息 tab and Task Manager show what the
//! program is. The icon is drawn here, pixel by pixel, into an .ico file;
//! a resource script (.rc) naming it is compiled by mingw's windres
//! (`x86_64-w64-mingw32-windres`, or `$WINDRES`) and linked into the program.
//! Other targets build nothing here.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the version resource says.
const FILE_DESCRIPTION: &str = "台账核对";
const PRODUCT_NAME: &str = "taizhang 台账核对";
const COMMENTS: &str = "把县局名单和各校摸底表逐人比对，标注问题，生成附件2、附件3和筛查预警清单";

/// Icon sizes in pixels (square), smallest first.
const ICON_SIZES: [u32; 6] = [16, 24, 32, 48, 64, 256];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WINDRES");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let ico = out.join("taizhang.ico");
    std::fs::write(&ico, icon_file()).expect("write taizhang.ico");
    let rc = out.join("taizhang.rc");
    std::fs::write(&rc, resource_script(&ico)).expect("write taizhang.rc");

    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("msvc") {
        println!(
            "cargo:warning=no icon or version resource: the MSVC target is not supported by this build script (use x86_64-pc-windows-gnu)"
        );
        return;
    }
    let windres = std::env::var("WINDRES").unwrap_or_else(|_| {
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_else(|_| "x86_64".into());
        format!("{arch}-w64-mingw32-windres")
    });
    let obj = out.join("taizhang-resource.o");
    let status = Command::new(&windres)
        .arg("--input")
        .arg(&rc)
        .args(["--input-format=rc", "--output-format=coff", "--output"])
        .arg(&obj)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run {windres} ({e}); install it with: apt-get install -y binutils-mingw-w64-x86-64")
        });
    assert!(status.success(), "{windres} failed on {}", rc.display());
    // An object file on the link line is always linked (a static library
    // member nobody references would be dropped).
    println!("cargo:rustc-link-arg-bins={}", obj.display());
}

/// The resource script: icon 1 and the version resource, in UTF-8 (code page
/// 65001), strings for Chinese (PRC), Unicode.
fn resource_script(ico: &Path) -> String {
    let v = |k: &str| -> u32 {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let (major, minor, patch) = (
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
    );
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let ico = ico.display().to_string().replace('\\', "/");
    format!(
        r#"#pragma code_page(65001)
1 ICON {ico}
1 VERSIONINFO
FILEVERSION {major},{minor},{patch},0
PRODUCTVERSION {major},{minor},{patch},0
FILEFLAGSMASK 0x3f
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE 0x1
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "080404b0"
    BEGIN
      VALUE "FileDescription", {desc}
      VALUE "FileVersion", {ver}
      VALUE "InternalName", "taizhang"
      VALUE "OriginalFilename", "taizhang.exe"
      VALUE "ProductName", {product}
      VALUE "ProductVersion", {ver}
      VALUE "Comments", {comments}
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x0804, 1200
  END
END
"#,
        ico = q(&ico),
        desc = q(FILE_DESCRIPTION),
        product = q(PRODUCT_NAME),
        ver = q(&version),
        comments = q(COMMENTS),
    )
}

/// RGBA colour.
type Rgba = [f32; 4];

const BLUE: Rgba = [0.082, 0.396, 0.753, 1.0];
const PAPER: Rgba = [1.0, 1.0, 1.0, 1.0];
const RULE: Rgba = [0.56, 0.64, 0.74, 1.0];
const GREEN: Rgba = [0.18, 0.49, 0.196, 1.0];

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// Inside the rectangle `x0..x1 × y0..y1` with corners rounded by `r`.
fn in_rounded_rect(p: (f32, f32), x0: f32, y0: f32, x1: f32, y1: f32, r: f32) -> bool {
    if p.0 < x0 || p.0 > x1 || p.1 < y0 || p.1 > y1 {
        return false;
    }
    let cx = p.0.clamp(x0 + r, x1 - r);
    let cy = p.1.clamp(y0 + r, y1 - r);
    (p.0 - cx).powi(2) + (p.1 - cy).powi(2) <= r * r
}

/// The picture at a point of the unit square (y downwards): a blue tile, a
/// ruled white ledger sheet on it, and a green disc with a white tick.
fn paint(p: (f32, f32)) -> Option<Rgba> {
    let tick = [(0.585, 0.715), (0.675, 0.80), (0.83, 0.625)];
    let disc = ((p.0 - 0.71).powi(2) + (p.1 - 0.71).powi(2)).sqrt();
    if disc <= 0.235 {
        let on_tick = segment_distance(p, tick[0], tick[1]) <= 0.045
            || segment_distance(p, tick[1], tick[2]) <= 0.045;
        return Some(if on_tick { PAPER } else { GREEN });
    }
    if disc <= 0.275 {
        // A blue ring parts the disc from the sheet.
        return Some(BLUE);
    }
    if in_rounded_rect(p, 0.20, 0.14, 0.72, 0.86, 0.045) {
        let ruled = (0.29..=0.63).contains(&p.0)
            && [0.30, 0.42, 0.54, 0.66]
                .iter()
                .any(|y| (p.1 - y).abs() <= 0.022);
        return Some(if ruled { RULE } else { PAPER });
    }
    if in_rounded_rect(p, 0.02, 0.02, 0.98, 0.98, 0.19) {
        return Some(BLUE);
    }
    None
}

/// One square image, `size` pixels, as straight (not premultiplied) RGBA
/// bytes, rows top-down; 4×4 samples per pixel smooth the edges.
fn draw(size: u32) -> Vec<u8> {
    const N: u32 = 4;
    let mut px = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let mut acc = [0.0f32; 4];
            for sy in 0..N {
                for sx in 0..N {
                    let p = (
                        (x as f32 + (sx as f32 + 0.5) / N as f32) / size as f32,
                        (y as f32 + (sy as f32 + 0.5) / N as f32) / size as f32,
                    );
                    if let Some(c) = paint(p) {
                        for k in 0..3 {
                            acc[k] += c[k] * c[3];
                        }
                        acc[3] += c[3];
                    }
                }
            }
            let a = acc[3] / (N * N) as f32;
            let rgb = |k: usize| {
                if acc[3] > 0.0 {
                    (acc[k] / acc[3] * 255.0).round() as u8
                } else {
                    0
                }
            };
            px.extend([rgb(0), rgb(1), rgb(2), (a * 255.0).round() as u8]);
        }
    }
    px
}

/// The .ico file: every size as a 32-bit BMP entry (colour and alpha,
/// bottom-up rows, then the 1-bit transparency mask).
fn icon_file() -> Vec<u8> {
    let images: Vec<(u32, Vec<u8>)> = ICON_SIZES
        .iter()
        .map(|&s| {
            let rgba = draw(s);
            let mut bmp = Vec::new();
            for v in [40u32, s, 2 * s] {
                bmp.extend(v.to_le_bytes());
            }
            bmp.extend(1u16.to_le_bytes()); // planes
            bmp.extend(32u16.to_le_bytes()); // bits per pixel
            bmp.extend([0u8; 24]); // no compression, sizes and palette unused
            for y in (0..s).rev() {
                for x in 0..s {
                    let i = ((y * s + x) * 4) as usize;
                    bmp.extend([rgba[i + 2], rgba[i + 1], rgba[i], rgba[i + 3]]);
                }
            }
            let stride = s.div_ceil(32) * 4;
            for y in (0..s).rev() {
                let mut row = vec![0u8; stride as usize];
                for x in 0..s {
                    if rgba[((y * s + x) * 4 + 3) as usize] == 0 {
                        row[(x / 8) as usize] |= 0x80 >> (x % 8);
                    }
                }
                bmp.extend(row);
            }
            (s, bmp)
        })
        .collect();
    let mut ico = Vec::new();
    ico.extend(0u16.to_le_bytes());
    ico.extend(1u16.to_le_bytes()); // icon
    ico.extend((images.len() as u16).to_le_bytes());
    let mut offset = 6 + 16 * images.len() as u32;
    for (s, bmp) in &images {
        let dim = if *s >= 256 { 0 } else { *s as u8 };
        ico.extend([dim, dim, 0, 0]);
        ico.extend(1u16.to_le_bytes());
        ico.extend(32u16.to_le_bytes());
        ico.extend((bmp.len() as u32).to_le_bytes());
        ico.extend(offset.to_le_bytes());
        offset += bmp.len() as u32;
    }
    for (_, bmp) in &images {
        ico.extend(bmp);
    }
    ico
}
