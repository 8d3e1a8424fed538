//! Shared harness of the CLI integration tests: a temporary working folder,
//! fixture writing, running the built `taizhang` binary, and reading
//! findings.json back.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary gave back.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, for messages and scans.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A fresh temporary folder the test writes fixtures into and runs the
/// binary in (as the current directory). Removed when dropped.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new(name: &str) -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("taizhang-{name}-"))
            .tempdir()
            .expect("create temp dir");
        Workdir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `contents` at `rel`, creating parent folders.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// Creates the folder `rel` (and parents) and returns its path.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(&p).expect("create dir");
        p
    }

    /// Runs `taizhang ARGS...` in this folder, with `--quiet` added so no
    /// progress bar is drawn.
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_taizhang"));
        cmd.current_dir(self.path());
        for a in args {
            cmd.arg(a);
        }
        cmd.arg("--quiet");
        cmd.env("NO_COLOR", "1");
        let out = cmd.output().expect("run taizhang");
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Parses `OUT_DIR/findings.json` (`out_dir` relative to this folder or
    /// absolute).
    pub fn findings(&self, out_dir: impl AsRef<Path>) -> Value {
        let p = self.join(out_dir).join("findings.json");
        let text =
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", p.display()))
    }
}

/// The findings of `json` (a parsed findings.json) with `code`, as
/// (file, sheet, row, column).
pub fn cells_with_code(json: &Value, code: &str) -> Vec<(String, String, u32, String)> {
    findings_array(json)
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["sheet"].as_str().unwrap_or_default().to_string(),
                f["row"].as_u64().unwrap_or(0) as u32,
                f["column"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The `findings` array of a parsed findings.json.
pub fn findings_array(json: &Value) -> &Vec<Value> {
    json["findings"]
        .as_array()
        .expect("findings.json has a findings array")
}

/// The `links` array of a parsed findings.json.
pub fn links_array(json: &Value) -> &Vec<Value> {
    json["links"]
        .as_array()
        .expect("findings.json has a links array")
}

/// FNV-1a 64 of a byte string.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Checksum of a file's bytes (FNV-1a 64); for byte-identity checks.
pub fn checksum(path: impl AsRef<Path>) -> u64 {
    let p = path.as_ref();
    fnv64(&std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
}

/// Checksums of every file under `dir` (recursively), keyed by the path
/// relative to `dir`, sorted.
pub fn checksums_of_dir(dir: impl AsRef<Path>) -> Vec<(String, u64)> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, u64)>) {
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("read dir {}: {e}", d.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, checksum(&p)));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir.as_ref(), dir.as_ref(), &mut out);
    out
}

/// The full resident IDs left in text a person reads.
pub use testkit::readback::full_ids_in;

/// A copy of the xlsx `xlsx` with the text of every part named by `wanted`
/// rewritten by `edit` (which returns it changed or not); panics unless some
/// part changed.
pub fn rewrite_xlsx_parts(
    xlsx: &[u8],
    wanted: impl Fn(&str) -> bool,
    mut edit: impl FnMut(String) -> String,
) -> Vec<u8> {
    use std::io::{Cursor, Read, Write};
    let mut zin = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut patched = false;
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if wanted(&name) {
            let s = String::from_utf8(bytes).unwrap();
            let t = edit(s.clone());
            patched |= t != s;
            bytes = t.into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&bytes).unwrap();
    }
    assert!(patched, "no part of the workbook was changed");
    zout.finish().unwrap().into_inner()
}
