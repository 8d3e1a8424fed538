//! The Windows program under Wine: dist/taizhang.exe (built by
//! scripts/build-windows.sh when missing or older than the sources) reconciles
//! the samples copied into a folder with a Chinese name and a space, and its
//! findings.json equals the Linux build's. Also the double-click mode: the
//! folder as the only argument writes 核对结果 inside it.
//!
//! Needs Debian's wine64 and gcc-mingw-w64-x86-64 (installed by .ci/run); the
//! test fails, it does not skip, when they are missing. Debian's Wine 8 lacks
//! bcryptprimitives.dll (ProcessPrng, imported by Rust's std), so a tiny shim
//! DLL (scripts/wine-shim/) is built next to the exe copy for this test only.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

const WINE: &str = "/usr/lib/wine/wine64";
const MINGW: &str = "x86_64-w64-mingw32-gcc";
const FOLDER: &str = "摸底 材料";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn has_command(name: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Newest modification time of the files the exe is built from.
fn newest_source(dir: &Path, newest: &mut SystemTime) {
    for e in std::fs::read_dir(dir).expect("read source folder") {
        let p = e.expect("source entry").path();
        if p.is_dir() {
            newest_source(&p, newest);
        } else if let Ok(t) = p.metadata().and_then(|m| m.modified()) {
            *newest = (*newest).max(t);
        }
    }
}

/// dist/taizhang.exe, rebuilt by the script when missing or stale.
fn windows_exe() -> PathBuf {
    // The tests run in parallel: one build at a time.
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = root();
    let exe = root.join("dist/taizhang.exe");
    let mut newest = SystemTime::UNIX_EPOCH;
    newest_source(&root.join("src"), &mut newest);
    newest_source(&root.join("templates"), &mut newest);
    for f in ["Cargo.toml", "Cargo.lock", "build.rs"] {
        if let Ok(t) = root.join(f).metadata().and_then(|m| m.modified()) {
            newest = newest.max(t);
        }
    }
    let built = exe.metadata().and_then(|m| m.modified()).ok();
    if built.is_none_or(|t| t < newest) {
        eprintln!("building dist/taizhang.exe with scripts/build-windows.sh (takes minutes)…");
        let status = Command::new("bash")
            .arg(root.join("scripts/build-windows.sh"))
            .current_dir(&root)
            .status()
            .expect("run scripts/build-windows.sh");
        assert!(status.success(), "scripts/build-windows.sh failed");
    }
    assert!(exe.is_file(), "{} was not built", exe.display());
    exe
}

fn copy_samples(to: &Path) {
    std::fs::create_dir_all(to).expect("create sample folder");
    for e in std::fs::read_dir(root().join("samples")).expect("read samples") {
        let p = e.expect("sample entry").path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy sample");
        }
    }
}

/// The Wine-only bcryptprimitives.dll shim, built into `dir` (next to the exe).
fn build_shim(dir: &Path) {
    let shim = Command::new(MINGW)
        .args(["-shared", "-O2", "-s", "-o"])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(root().join("scripts/wine-shim/bcryptprimitives.c"))
        .arg(root().join("scripts/wine-shim/bcryptprimitives.def"))
        .arg("-ladvapi32")
        .output()
        .expect("run mingw gcc");
    assert!(
        shim.status.success(),
        "shim DLL build failed:\n{}",
        show(&shim)
    );
}

fn wine(dir: &Path, prefix: &Path, args: &[&str]) -> Output {
    Command::new(WINE)
        .args(args)
        .current_dir(dir)
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        // No Mono/Gecko install prompts while the prefix is created.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("run wine64")
}

fn findings(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("findings.json is JSON")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn windows_build_under_wine_matches_linux_on_chinese_paths() {
    assert!(
        Path::new(WINE).exists(),
        "Wine not found at {WINE}: install it with `apt-get install -y wine64` (.ci/run does)"
    );
    assert!(
        has_command(MINGW),
        "{MINGW} not found: install it with `apt-get install -y gcc-mingw-w64-x86-64` (.ci/run does)"
    );
    let exe = windows_exe();

    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    let bin = work.join("程序");
    std::fs::create_dir_all(&bin).expect("create exe folder");
    std::fs::copy(&exe, bin.join("taizhang.exe")).expect("copy exe");
    build_shim(&bin);
    copy_samples(&work.join(FOLDER));
    let prefix = work.join("wineprefix");
    let win_exe = "程序\\taizhang.exe";

    // The Windows program, relative Chinese paths with a space.
    let out = wine(
        work,
        &prefix,
        &[win_exe, "reconcile", FOLDER, "--out", "结果 windows"],
    );
    let win_code = out.status.code();
    assert!(
        matches!(win_code, Some(0 | 1)),
        "taizhang.exe under Wine failed:\n{}",
        show(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("结果已写入"),
        "the summary is UTF-8 Chinese:\n{}",
        show(&out)
    );

    // The Linux program on the same folder.
    let linux = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(["reconcile", FOLDER, "--out", "结果 linux", "--quiet"])
        .current_dir(work)
        .output()
        .expect("run taizhang");
    assert_eq!(
        linux.status.code(),
        win_code,
        "same exit status as Linux\n{}",
        show(&linux)
    );

    let win_json = findings(&work.join("结果 windows/findings.json"));
    let linux_json = findings(&work.join("结果 linux/findings.json"));
    assert!(
        win_json["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "the samples have findings"
    );
    assert_eq!(win_json, linux_json, "findings.json differs from Linux");

    // Chinese output file names written through Windows wide paths.
    let mut win_files: Vec<String> = std::fs::read_dir(work.join("结果 windows"))
        .expect("read windows output")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    let mut linux_files: Vec<String> = std::fs::read_dir(work.join("结果 linux"))
        .expect("read linux output")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    win_files.sort();
    linux_files.sort();
    assert_eq!(win_files, linux_files, "same output files");
    assert!(win_files.iter().any(|f| f == "附件2_学龄人口台账.xlsx"));

    // Double-click mode: the folder dropped onto the exe (the only argument);
    // stdin is not a terminal, so it does not wait for Enter.
    let dropped = wine(work, &prefix, &[win_exe, FOLDER]);
    assert_eq!(dropped.status.code(), win_code, "{}", show(&dropped));
    let dropped_stdout = String::from_utf8_lossy(&dropped.stdout);
    assert!(
        dropped_stdout.contains("正在核对文件夹") && !dropped_stdout.contains("按回车键"),
        "{}",
        show(&dropped)
    );
    assert_eq!(
        findings(&work.join(FOLDER).join("核对结果/findings.json")),
        linux_json,
        "double-click mode writes 核对结果 inside the folder"
    );

    // Stop this prefix's wineserver so the temp folder can go.
    let _ = Command::new("/usr/lib/wine/wineserver")
        .arg("-k")
        .env("WINEPREFIX", &prefix)
        .status();
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// The `.rsrc` section of a PE file: (its bytes, its virtual address).
fn resource_section(exe: &[u8]) -> (&[u8], usize) {
    assert_eq!(&exe[..2], b"MZ", "not an exe");
    let pe = u32_at(exe, 0x3c);
    assert_eq!(&exe[pe..pe + 4], b"PE\0\0", "no PE header");
    let coff = pe + 4;
    let sections = u16_at(exe, coff + 2);
    let optional = u16_at(exe, coff + 16);
    let table = coff + 20 + optional;
    (0..sections)
        .map(|i| table + 40 * i)
        .find(|&s| &exe[s..s + 8] == b".rsrc\0\0\0")
        .map(|s| {
            let (va, size, raw) = (
                u32_at(exe, s + 12),
                u32_at(exe, s + 16),
                u32_at(exe, s + 20),
            );
            (&exe[raw..raw + size], va)
        })
        .expect("taizhang.exe has a resource section")
}

/// The resource types (numeric ids) in the resource directory's root.
fn resource_types(rsrc: &[u8]) -> Vec<usize> {
    let named = u16_at(rsrc, 12);
    let ids = u16_at(rsrc, 14);
    (named..named + ids)
        .map(|i| u32_at(rsrc, 16 + 8 * i))
        .collect()
}

/// The data of the first resource of `kind` (type → name → language).
fn resource_data(rsrc: &[u8], va: usize, kind: usize) -> &[u8] {
    let entry = |dir: usize, id: Option<usize>| -> usize {
        let named = u16_at(rsrc, dir + 12);
        let ids = u16_at(rsrc, dir + 14);
        let i = (0..named + ids)
            .find(|&i| id.is_none_or(|id| u32_at(rsrc, dir + 16 + 8 * i) == id))
            .unwrap_or_else(|| panic!("resource type {kind} missing"));
        u32_at(rsrc, dir + 16 + 8 * i + 4)
    };
    let names = entry(0, Some(kind)) & 0x7fff_ffff;
    let langs = entry(names, None) & 0x7fff_ffff;
    let data = entry(langs, None);
    let (rva, size) = (u32_at(rsrc, data), u32_at(rsrc, data + 4));
    &rsrc[rva - va..rva - va + size]
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The value of `key` in a version resource's string table.
fn version_string(info: &[u8], key: &str) -> String {
    let mut pat = utf16(key);
    pat.extend([0, 0]);
    let at = info
        .windows(pat.len())
        .position(|w| w == pat.as_slice())
        .unwrap_or_else(|| panic!("{key} missing from the version resource"));
    // The value starts at the next 32-bit boundary of the resource.
    let mut v = at + pat.len();
    v = v.div_ceil(4) * 4;
    let units: Vec<u16> = info[v..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16(&units).expect("UTF-16 value")
}

/// One entry of a zip's central directory: the name as stored (decoded
/// from GBK when the UTF-8 flag is off, as Chinese Windows reads it) and the
/// Info-ZIP Unicode path field's UTF-8 name, if any.
struct ZipName {
    name: String,
    utf8_flag: bool,
    unicode_path: Option<String>,
}

fn zip_names(zip: &[u8]) -> Vec<ZipName> {
    let eocd = (0..=zip.len() - 22)
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("end of central directory");
    let count = u16_at(zip, eocd + 10);
    let mut at = u32_at(zip, eocd + 16);
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[at..at + 4], [0x50, 0x4b, 0x01, 0x02], "central entry");
        let flags = u16_at(zip, at + 8);
        let (n, x, c) = (
            u16_at(zip, at + 28),
            u16_at(zip, at + 30),
            u16_at(zip, at + 32),
        );
        let raw = &zip[at + 46..at + 46 + n];
        let utf8_flag = flags & 0x800 != 0;
        let name = if utf8_flag {
            String::from_utf8(raw.to_vec()).expect("UTF-8 name")
        } else {
            let (s, _, bad) = encoding_rs::GBK.decode(raw);
            assert!(!bad, "entry name is not GBK");
            s.into_owned()
        };
        let mut extra = &zip[at + 46 + n..at + 46 + n + x];
        let mut unicode_path = None;
        while extra.len() >= 4 {
            let (id, len) = (u16_at(extra, 0), u16_at(extra, 2));
            if id == 0x7075 {
                unicode_path = Some(String::from_utf8(extra[9..4 + len].to_vec()).expect("UTF-8"));
            }
            extra = &extra[4 + len..];
        }
        out.push(ZipName {
            name,
            utf8_flag,
            unicode_path,
        });
        at += 46 + n + x + c;
    }
    out
}

/// The files of a repository folder that the package carries.
fn listed(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join(dir))
        .expect("read folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|n| keep(n))
        .collect();
    v.sort();
    v
}

#[test]
fn windows_package_has_version_resource_and_its_samples_run_under_wine() {
    assert!(Path::new(WINE).exists(), "Wine not found at {WINE}");
    assert!(has_command(MINGW), "{MINGW} not found");
    let exe = windows_exe();

    // The version resource and the icon.
    let bytes = std::fs::read(&exe).expect("read taizhang.exe");
    let (rsrc, va) = resource_section(&bytes);
    let types = resource_types(rsrc);
    for (kind, what) in [(3, "RT_ICON"), (14, "RT_GROUP_ICON"), (16, "RT_VERSION")] {
        assert!(types.contains(&kind), "{what} missing: {types:?}");
    }
    let info = resource_data(rsrc, va, 16);
    assert!(
        info.windows(utf16("VS_VERSION_INFO").len())
            .any(|w| w == utf16("VS_VERSION_INFO").as_slice())
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(version_string(info, "FileDescription"), "台账核对");
    assert_eq!(version_string(info, "ProductName"), "taizhang 台账核对");
    assert_eq!(version_string(info, "FileVersion"), version);
    assert_eq!(version_string(info, "ProductVersion"), version);
    assert_eq!(version_string(info, "OriginalFilename"), "taizhang.exe");
    // VS_FIXEDFILEINFO: the numeric version.
    let sig = info
        .windows(4)
        .position(|w| w == 0xFEEF_04BDu32.to_le_bytes())
        .expect("VS_FIXEDFILEINFO");
    let ms = u32_at(info, sig + 8);
    let ls = u32_at(info, sig + 12);
    let numeric = format!("{}.{}.{}", ms >> 16, ms & 0xffff, ls >> 16);
    assert_eq!(numeric, version, "numeric file version");
    // The icon group lists several sizes, 16 to 256 pixels.
    let group = resource_data(rsrc, va, 14);
    let sizes: Vec<usize> = (0..u16_at(group, 4))
        .map(|i| match group[6 + 14 * i] {
            0 => 256,
            s => s as usize,
        })
        .collect();
    assert!(
        sizes.contains(&16) && sizes.contains(&32) && sizes.contains(&256),
        "{sizes:?}"
    );

    // The zip a county hands out.
    let status = Command::new("bash")
        .arg(root().join("scripts/package-windows.sh"))
        .arg("--no-build")
        .current_dir(root())
        .status()
        .expect("run scripts/package-windows.sh");
    assert!(status.success(), "scripts/package-windows.sh failed");
    let zip_path = root().join("dist/taizhang-windows.zip");
    let zip = std::fs::read(&zip_path).expect("read the zip");
    let names = zip_names(&zip);
    let mut want = vec![
        "taizhang.exe".to_string(),
        "使用说明.txt".into(),
        "空白模板/".into(),
        "示例/".into(),
    ];
    let templates = listed("templates", |n| n.ends_with(".xlsx"));
    assert_eq!(templates.len(), 4, "four blank forms");
    want.extend(templates.iter().map(|n| format!("空白模板/{n}")));
    let samples = listed("samples", |n| n != "make.sh" && !n.starts_with('.'));
    assert!(samples.iter().any(|n| n == "taizhang.toml"));
    want.extend(samples.iter().map(|n| format!("示例/{n}")));
    want.sort();
    let mut got: Vec<String> = names.iter().map(|z| z.name.clone()).collect();
    got.sort();
    assert_eq!(got, want, "zip entries");
    for z in &names {
        // Chinese names stored as Chinese Windows reads them, with the UTF-8 copy.
        assert!(!z.utf8_flag, "{}: GBK name without the UTF-8 flag", z.name);
        if !z.name.is_ascii() {
            assert_eq!(z.unicode_path.as_deref(), Some(z.name.as_str()));
        }
    }

    // Unpack it (the stored order), as a clerk would, into a folder with a space.
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().join("下载 的包");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip_path).expect("open zip")).expect("zip");
    for (i, z) in names.iter().enumerate() {
        let path = work.join(&z.name);
        let mut entry = archive.by_index(i).expect("zip entry");
        if z.name.ends_with('/') {
            std::fs::create_dir_all(&path).expect("create folder");
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        let mut f = std::fs::File::create(&path).expect("create file");
        std::io::copy(&mut entry, &mut f).expect("unpack");
    }
    assert_eq!(
        std::fs::read(work.join("taizhang.exe")).expect("unpacked exe"),
        bytes,
        "the packaged exe is the built one"
    );

    // 使用说明.txt: Notepad shows it (BOM, CRLF) and it says what a clerk needs.
    let readme = std::fs::read(work.join("使用说明.txt")).expect("unpacked 使用说明.txt");
    assert!(readme.starts_with(b"\xef\xbb\xbf"), "UTF-8 BOM");
    let text = String::from_utf8(readme[3..].to_vec()).expect("UTF-8");
    let newlines = text.matches('\n').count();
    assert!(
        newlines > 20 && text.matches("\r\n").count() == newlines,
        "CRLF line ends"
    );
    for needle in [
        version,
        "拖到 taizhang.exe",
        "双击",
        "taizhang.toml",
        "核对结果",
        "报告.html",
        "空白模板",
        "示例",
        "0  没有错误",
        "1  有错误",
        "2  无法完成核对",
    ] {
        assert!(text.contains(needle), "使用说明.txt mentions {needle}");
    }

    // The unpacked exe runs the 示例 round dropped onto it, like Linux.
    build_shim(&work);
    let prefix = tmp.path().join("wineprefix");
    let dropped = wine(&work, &prefix, &["taizhang.exe", "示例"]);
    let code = dropped.status.code();
    assert!(matches!(code, Some(0 | 1)), "{}", show(&dropped));
    let linux_dir = tmp.path().join("linux");
    copy_samples(&linux_dir);
    let linux = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("reconcile")
        .arg(&linux_dir)
        .args(["--out", "结果", "--quiet"])
        .current_dir(tmp.path())
        .output()
        .expect("run taizhang");
    assert_eq!(linux.status.code(), code, "{}", show(&linux));
    assert_eq!(
        findings(&work.join("示例/核对结果/findings.json")),
        findings(&tmp.path().join("结果/findings.json")),
        "the packaged samples give the Linux findings"
    );
    // The blank forms beside the results, for the clerk without a command line.
    let blank = work.join("示例/空白模板");
    for t in &templates {
        assert!(blank.join(t).is_file(), "{t} in 示例/空白模板");
    }
    let out = String::from_utf8_lossy(&dropped.stdout);
    assert!(out.contains("已生成空白表格"), "{}", show(&dropped));

    let _ = Command::new("/usr/lib/wine/wineserver")
        .arg("-k")
        .env("WINEPREFIX", &prefix)
        .status();
}

/// (file name, contents) of the files directly in `dir`, sorted.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().to_string(),
                std::fs::read(&p).expect("read result file"),
            )
        })
        .collect();
    v.sort();
    v
}

fn entries_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// A result file still open in Excel/WPS (a small Windows program holds it
/// with share mode 0): the next run prints its summary, names in Chinese the
/// file to close, exits 2, and leaves every file of the previous run as it
/// was; once the file is closed the run goes through.
#[test]
fn result_file_open_elsewhere_keeps_the_previous_results_under_wine() {
    assert!(Path::new(WINE).exists(), "Wine not found at {WINE}");
    assert!(has_command(MINGW), "{MINGW} not found");
    let exe = windows_exe();
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path();
    std::fs::copy(&exe, work.join("taizhang.exe")).expect("copy exe");
    build_shim(work);
    let hold = Command::new(MINGW)
        .args(["-municode", "-O2", "-s", "-o"])
        .arg(work.join("hold_file.exe"))
        .arg(root().join("tests/fixtures/hold_file.c"))
        .output()
        .expect("run mingw gcc");
    assert!(hold.status.success(), "hold_file.exe: {}", show(&hold));
    copy_samples(&work.join(FOLDER));
    let prefix = work.join("wineprefix");
    let out = work.join("结果");
    let run = || {
        wine(
            work,
            &prefix,
            &["taizhang.exe", "reconcile", FOLDER, "--out", "结果"],
        )
    };

    let first = run();
    assert!(
        matches!(first.status.code(), Some(0 | 1)),
        "{}",
        show(&first)
    );
    let before = files_of(&out);
    assert!(before.len() > 8, "the first run wrote its results");
    // The round changes: the hand-filled ledger is taken out.
    std::fs::remove_file(work.join(FOLDER).join("附件2_学龄人口台账_手填.xlsx"))
        .expect("remove the ledger");

    // The generated ledger and the report are open "in Excel": both are named.
    // Named in the order of their file names.
    let locked = ["报告.html", "附件2_学龄人口台账.xlsx"];
    let mut holders = Vec::new();
    for (i, file) in locked.iter().enumerate() {
        let ready = format!("ready{i}");
        let mut holder = Command::new(WINE)
            .args([
                "hold_file.exe",
                &format!("结果\\{file}"),
                &ready,
                &format!("done{i}"),
            ])
            .current_dir(work)
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hold_file.exe");
        while !work.join(&ready).exists() {
            if let Some(st) = holder.try_wait().expect("wait holder") {
                panic!("hold_file.exe ended ({st}) without opening {file}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        holders.push(holder);
    }
    let second = run();
    for (i, mut holder) in holders.into_iter().enumerate() {
        std::fs::write(work.join(format!("done{i}")), b"").expect("release the file");
        let held = holder.wait().expect("wait holder");
        assert!(held.success(), "hold_file.exe: {held}");
    }

    let stdout = String::from_utf8_lossy(&second.stdout).to_string();
    assert_eq!(second.status.code(), Some(2), "{}", show(&second));
    assert!(
        stdout.contains(&format!("请关闭 Excel/WPS 中打开的 {}", locked.join("、"))),
        "names every file to close:\n{}",
        show(&second)
    );
    assert!(
        stdout.contains("读取的表格") && stdout.contains("暂不能上报"),
        "the summary is still printed:\n{}",
        show(&second)
    );
    assert!(
        stdout.contains("仍是上一次的全部结果") && !stdout.contains("结果已写入"),
        "{}",
        show(&second)
    );
    let all = format!("{stdout}{}", String::from_utf8_lossy(&second.stderr));
    assert!(
        !all.contains("os error") && !all.contains("Access") && !all.contains("无法完成：无法"),
        "no English OS text, no doubled prefix:\n{}",
        show(&second)
    );
    // Every file of the first run, unchanged; nothing of the second.
    assert!(files_of(&out) == before, "the result folder changed");
    assert_eq!(
        entries_in(&out.join("历史")),
        1,
        "the failed run is not in the history"
    );
    assert!(
        !out.join(".taizhang-正在写出").exists(),
        "the staging folder is removed"
    );

    // Closed: the run goes through and replaces the results.
    let third = run();
    assert!(
        matches!(third.status.code(), Some(0 | 1)),
        "{}",
        show(&third)
    );
    assert!(String::from_utf8_lossy(&third.stdout).contains("结果已写入"));
    let after = files_of(&out);
    let json = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|(n, _)| n == "findings.json")
            .map(|(_, b)| b.clone())
            .expect("findings.json")
    };
    assert_ne!(
        json(&after),
        json(&before),
        "this run's findings are in place"
    );
    assert_eq!(entries_in(&out.join("历史")), 2);

    let _ = Command::new("/usr/lib/wine/wineserver")
        .arg("-k")
        .env("WINEPREFIX", &prefix)
        .status();
}
