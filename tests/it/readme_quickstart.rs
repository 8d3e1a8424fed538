//! The README's quick start must keep working: its first command, run on a
//! copy of `samples/`, writes every output README.md lists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The two commands of the quick-start block, in order.
fn quick_start_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme
        .find("## 快速开始")
        .expect("README has a 快速开始 section");
    let block = &readme[start..];
    let open = block.find("```").expect("code block") + 3;
    let body = &block[open..];
    let body = &body[body.find('\n').unwrap_or(0) + 1..];
    let close = body.find("```").expect("closed code block");
    body[..close]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn readme_gives_exactly_two_commands_run_then_test() {
    let cmds = quick_start_commands();
    assert_eq!(
        cmds.len(),
        2,
        "quick start must be exactly two commands: {cmds:?}"
    );
    assert!(
        cmds[0].starts_with("cargo run --release -- reconcile samples"),
        "{}",
        cmds[0]
    );
    assert!(cmds[1].starts_with("cargo test"), "{}", cmds[1]);
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == cmds[1]),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn readme_first_command_produces_every_output() {
    let cmds = quick_start_commands();
    // `cargo run --release -- <args>`: run the already built binary with the same args.
    let args: Vec<&str> = cmds[0]
        .split_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    assert_eq!(args, ["reconcile", "samples"]);
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("samples"), &tmp.path().join("samples"));
    let out = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(&args)
        .arg("--quiet")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The samples hold deliberate mistakes: the run ends with "errors found".
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("结论：暂不能上报"), "{stdout}");
    let dir = tmp.path().join("samples").join("核对结果");
    for name in [
        "findings.json",
        "findings.csv",
        "报告.html",
        "附件2_学龄人口台账.xlsx",
        "附件3_台账统计表.xlsx",
        "筛查预警清单.xlsx",
        "县局名单.核对.xlsx",
        "附件1_熨斗初级中学.核对.xlsx",
        "附件1_熨斗镇中心小学.核对.xlsx",
        "附件2_学龄人口台账_手填.核对.xlsx",
        "附件3_台账统计表_手填.核对.xlsx",
    ] {
        let p = dir.join(name);
        assert!(
            p.is_file() && std::fs::metadata(&p).unwrap().len() > 0,
            "missing output {name}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).unwrap()).unwrap();
    let inputs = json["inputs"].as_array().unwrap();
    let roles: Vec<&str> = inputs.iter().map(|i| i["role"].as_str().unwrap()).collect();
    for role in ["roster", "survey", "ledger", "stats"] {
        assert!(
            roles.contains(&role),
            "role {role} not recognised: {roles:?}"
        );
    }
    assert!(
        inputs
            .iter()
            .any(|i| i["file"] == "附件1_熨斗镇中心小学.xls"),
        "the .xls survey is read"
    );
    assert!(!json["links"].as_array().unwrap().is_empty());
}

/// The README names what the test command needs besides Rust, and `.ci/run`
/// installs each of them.
#[test]
fn readme_names_the_test_tools_ci_installs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    for (name, package) in [
        ("LibreOffice", "libreoffice-calc"),
        ("Chromium", "chromium"),
        ("Wine", "wine64"),
        ("mingw", "gcc-mingw-w64-x86-64"),
    ] {
        let quick = &readme[readme.find("## 快速开始").unwrap()..];
        let quick = &quick[..quick[3..].find("\n## ").map_or(quick.len(), |i| i + 3)];
        assert!(quick.contains(name), "README quick start omits {name}");
        assert!(ci.contains(package), ".ci/run does not install {package}");
    }
    assert!(
        readme.contains("scripts/build-windows.sh") && readme.contains("不用装 Rust"),
        "README must say how a clerk gets taizhang.exe without Rust"
    );
}
