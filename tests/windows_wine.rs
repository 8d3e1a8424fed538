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
    let root = root();
    let exe = root.join("dist/taizhang.exe");
    let mut newest = SystemTime::UNIX_EPOCH;
    newest_source(&root.join("src"), &mut newest);
    newest_source(&root.join("templates"), &mut newest);
    for f in ["Cargo.toml", "Cargo.lock"] {
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
    let shim = Command::new(MINGW)
        .args(["-shared", "-O2", "-s", "-o"])
        .arg(bin.join("bcryptprimitives.dll"))
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
