//! The source keeps its import structure one-way: the library never
//! reaches up into the command line (`src/cli`, `main.rs`), and the modules
//! of one folder do not import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under `dir`, with its text.
fn rust_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p, text));
        }
    }
    out.sort();
    out
}

#[test]
fn nothing_below_the_command_line_uses_it_or_the_terminal() {
    let root = src();
    let mut offenders = Vec::new();
    for (path, text) in rust_files(&root) {
        let rel = path.strip_prefix(&root).unwrap();
        if rel.starts_with("cli") || rel == Path::new("main.rs") {
            continue;
        }
        for needle in [
            "crate::cli",
            "super::cli",
            "taizhang::cli",
            "indicatif",
            "IsTerminal",
        ] {
            if text.contains(needle) {
                offenders.push(format!("{}: {needle}", rel.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
    // The command line itself is there and uses the library's entry points.
    let cli = std::fs::read_to_string(root.join("cli/reconcile.rs")).unwrap();
    assert!(cli.contains("Round::compute") && cli.contains("output::write_all"));
}

/// `a → b` when file `a` of a folder names its sibling module `b` through
/// `super::b`.
fn sibling_imports(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension().is_some_and(|x| x == "rs") && stem != "mod" && stem != "tests")
                .then_some(stem)
        })
        .collect();
    let mut edges = BTreeMap::new();
    for m in &mods {
        let text = std::fs::read_to_string(dir.join(format!("{m}.rs"))).unwrap();
        // Only the module's own code: its unit tests may use anything.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        // `super::b::…` anywhere, and `use super::{…, b, b::…}` lists.
        let mut named: BTreeSet<String> = BTreeSet::new();
        for part in code.split("super::").skip(1) {
            if let Some(list) = part.strip_prefix('{') {
                let list = list.split('}').next().unwrap_or("");
                for item in list.split(',') {
                    let first = item.trim().split("::").next().unwrap_or("");
                    named.insert(first.trim().to_string());
                }
            } else {
                let first: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                named.insert(first);
            }
        }
        let used: BTreeSet<String> = named
            .into_iter()
            .filter(|n| n != m && mods.contains(n))
            .collect();
        edges.insert(m.clone(), used);
    }
    edges
}

/// A circle in the graph, if any.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_readers_do_not_import_each_other_in_a_circle() {
    let read = src().join("read");
    let edges = sibling_imports(&read);
    assert!(
        !edges["csv"].contains("sheet"),
        "csv.rs must not use super::sheet: {edges:?}"
    );
    assert!(
        edges["sheet"].contains("csv"),
        "the check sees imports: {edges:?}"
    );
    assert_eq!(find_cycle(&edges), None, "{edges:#?}");
}

#[test]
fn the_cycle_check_finds_a_circle() {
    let e = |pairs: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            m.entry(a.to_string()).or_default().insert(b.to_string());
            m.entry(b.to_string()).or_default();
        }
        m
    };
    assert_eq!(find_cycle(&e(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_cycle(&e(&[("csv", "sheet"), ("sheet", "csv")])),
        Some(vec!["csv".into(), "sheet".into(), "csv".into()])
    );
}

#[test]
fn the_library_modules_of_the_round_have_no_circles_either() {
    for dir in ["output", "report", "link", "normalize"] {
        let edges = sibling_imports(&src().join(dir));
        assert_eq!(find_cycle(&edges), None, "{dir}: {edges:#?}");
    }
}
