//! 报告.html opened in headless Chromium: the numbers the page shows after its
//! script ran equal the Report it was rendered from, the filters given in the
//! address hide the right rows, and a screenshot can be taken.
//!
//! Chromium is required: when it is missing these tests fail (CI installs it).

#[path = "support/chromium.rs"]
mod support;

use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::{dump_dom, fake_id, file_url, screenshot};
use taizhang::model::{Code, Finding, Loc, Role};
use taizhang::report::html::{VillageLine, render, render_with_township};
use taizhang::report::{InputInfo, Links, Report, Summary};

const VILLAGES: [&str; 5] = ["青松村", "石门村", "柳湾社区", "杨家坪村", "红岩村"];
const SURNAMES: [&str; 6] = ["张", "李", "王", "刘", "陈", "杨"];
const GIVEN: [&str; 6] = ["小明", "雨欣", "子涵", "浩然", "思琪", "俊杰"];

/// A synthetic round: several villages, findings of many codes and all three
/// severities, one finding without a village and one with hostile text.
fn fixture() -> (Report<'static>, Vec<VillageLine>, Vec<(String, usize)>) {
    let codes = [
        Code::ID_CHECKSUM,
        Code::ID_CHECKSUM,
        Code::NAME_FORMAT,
        Code::NOT_SURVEYED,
        Code::NOT_IN_ROSTER,
        Code::EVIDENCE_MISSING,
        Code::DROPOUT,
        Code::GRADE_AGE,
        Code::SEX_MISMATCH,
    ];
    let mut findings = Vec::new();
    let mut n = 0u32;
    for (vi, v) in VILLAGES.iter().enumerate() {
        // Village i gets the first 3 + 2i codes (so the counts differ per code).
        for code in codes.iter().take(3 + 2 * vi).copied() {
            n += 1;
            let id = fake_id(&format!("201{}0{}1{}", vi, 1 + n % 9, n % 10), n);
            let name = format!(
                "{}{}",
                SURNAMES[n as usize % 6],
                GIVEN[(n as usize / 6) % 6]
            );
            let (file, role_file) = if code == Code::NOT_SURVEYED {
                ("县局名单.xlsx", "附件1_熨斗初级中学.xlsx")
            } else {
                ("附件1_熨斗初级中学.xlsx", "县局名单.xlsx")
            };
            let mut f = Finding {
                code,
                severity: code.severity(),
                file: file.into(),
                input: Default::default(),
                sheet: "Sheet1".into(),
                row: 3 + n,
                column: "F".into(),
                field: "id".into(),
                value: id.clone(),
                suggestion: None,
                message: format!("{name}（{id}）：{}", code.title_zh()),
                related: vec![],
                village: Some(v.to_string()),
            };
            if code == Code::ID_CHECKSUM {
                f.suggestion = Some(fake_id("20100503", n));
            }
            if code == Code::NOT_IN_ROSTER {
                f.related.push(Loc {
                    file: role_file.into(),
                    sheet: "Sheet1".into(),
                    row: 10 + n,
                    input: Default::default(),
                    column: String::new(),
                });
            }
            findings.push(f);
        }
    }
    // No village, and text that would break the table if it were not escaped.
    findings.push(Finding {
        code: Code::STATUS_UNKNOWN,
        severity: Code::STATUS_UNKNOWN.severity(),
        file: "附件1_<熨斗>小学.xlsx".into(),
        input: Default::default(),
        sheet: "Sheet1".into(),
        row: 40,
        column: "K".into(),
        field: "status".into(),
        value: "</td></tr><tr><td>在外</td>".into(),
        suggestion: Some("在校(县外)".into()),
        message: "就读状态\"<在外>\"无法识别 & 请改".into(),
        related: vec![],
        village: None,
    });
    let mut summary = Summary::count(&findings);
    summary.linked = 412;
    summary.roster_only = 3;
    summary.survey_only = 5;
    let report = Report {
        tool: "taizhang",
        version: "0.1.0",
        school_year: 2022,
        born_from: "2006-09-01".into(),
        born_to: "2016-08-31".into(),
        inputs: vec![
            InputInfo {
                file: "县局名单.xlsx".into(),
                role: Role::Roster,
                sheet: "Sheet1".into(),
                header_row: 2,
                rows: 420,
                skipped: 7,
                skipped_out_of_window: 0,
            },
            InputInfo {
                file: "附件1_熨斗初级中学.xlsx".into(),
                role: Role::Survey,
                sheet: "Sheet1".into(),
                header_row: 3,
                rows: 417,
                skipped: 0,
                skipped_out_of_window: 0,
            },
        ],
        summary,
        findings: findings.leak(),
        links: Links::default(),
        history: None,
    };
    let villages: Vec<VillageLine> = VILLAGES
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let of = |f: &Finding| f.village.as_deref() == Some(v);
            let errs = report
                .findings
                .iter()
                .filter(|f| of(f) && f.severity.label_zh() == "错误")
                .count();
            let warns = report
                .findings
                .iter()
                .filter(|f| of(f) && f.severity.label_zh() == "警告")
                .count();
            VillageLine {
                village: v.to_string(),
                roster: 60 + 17 * i,
                surveyed: 58 + 17 * i + (i % 2) * 4,
                linked: 55 + 17 * i,
                errors: errs,
                warnings: warns,
                dropouts: i % 3,
            }
        })
        .collect();
    let status = vec![
        ("在校(本县)".to_string(), 371),
        ("在校(县外)".to_string(), 28),
        ("随班就读".to_string(), 4),
        ("送教上门".to_string(), 2),
        ("延缓入学".to_string(), 1),
        ("辍学".to_string(), 2),
    ];
    (report, villages, status)
}

fn write_page(dir: &Path, html: &str) -> PathBuf {
    let path = dir.join("报告.html");
    std::fs::write(&path, html).expect("write 报告.html");
    path
}

/// `<tag …attrs…>` openings in the DOM whose attributes contain `needle`.
fn tags_with<'a>(dom: &'a str, tag: &str, needle: &str) -> Vec<&'a str> {
    let re = Regex::new(&format!(r"<{tag}\b[^>]*>")).unwrap();
    re.find_iter(dom)
        .map(|m| m.as_str())
        .filter(|t| t.contains(needle))
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let re = Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| c.get(1).unwrap().as_str())
}

fn num(s: Option<&str>) -> usize {
    s.and_then(|s| s.parse().ok()).unwrap_or(usize::MAX)
}

/// The table's body rows, and how many of them are not hidden.
fn rows(dom: &str) -> (usize, usize) {
    let body = dom.split("<tbody>").nth(1).expect("findings tbody");
    let body = body.split("</tbody>").next().unwrap();
    let all = tags_with(body, "tr", "data-severity=");
    let visible = all.iter().filter(|t| !t.contains(" hidden")).count();
    (all.len(), visible)
}

fn shown_count(dom: &str) -> usize {
    let re = Regex::new(r#"<b id="shown-count" data-shown="(\d+)">(\d+)</b>"#).unwrap();
    let c = re.captures(dom).expect("shown-count element");
    assert_eq!(c[1], c[2], "data-shown and the shown text disagree");
    c[2].parse().unwrap()
}

fn expected_by_code(report: &Report) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in report.findings {
        *m.entry(f.code.as_str()).or_insert(0) += 1;
    }
    m
}

#[test]
fn report_page_shows_the_reports_numbers_in_chromium() {
    let (report, villages, status) = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = write_page(dir.path(), &render(&report, &villages, &status, true));
    let dom = dump_dom(&file_url(&path, ""));

    // Verdict: data attributes and the numbers shown.
    let s = &report.summary;
    assert!(
        s.errors > 0 && s.warnings > 0 && s.notices > 0,
        "fixture has every severity"
    );
    let verdict = tags_with(&dom, "section", "id=\"verdict\"");
    assert_eq!(verdict.len(), 1);
    let v = verdict[0];
    assert_eq!(attr(v, "data-ready"), Some("false"));
    assert_eq!(num(attr(v, "data-errors")), s.errors);
    assert_eq!(num(attr(v, "data-warnings")), s.warnings);
    assert_eq!(num(attr(v, "data-notices")), s.notices);
    assert!(dom.contains("暂不能上报"));
    for (key, want) in [
        ("errors", s.errors),
        ("warnings", s.warnings),
        ("notices", s.notices),
        ("linked", s.linked),
        ("roster-only", s.roster_only),
        ("survey-only", s.survey_only),
    ] {
        let re = Regex::new(&format!(r#"data-count-of="{key}">(\d+)<"#)).unwrap();
        let got = re
            .captures(&dom)
            .unwrap_or_else(|| panic!("count {key} shown"))[1]
            .parse::<usize>()
            .unwrap();
        assert_eq!(got, want, "verdict count {key}");
    }

    // Per-code bars: one per code, data-count and the shown number equal the findings.
    let bar =
        Regex::new(r#"<g class="bar (\w+)" data-label="[^"]*" data-count="(\d+)" data-code="(\w+)">.*?<text class="n"[^>]*>(\d+)</text></g>"#)
            .unwrap();
    let mut got = BTreeMap::new();
    for c in bar.captures_iter(&dom) {
        assert_eq!(c[2], c[4], "bar {} data-count vs text", &c[3]);
        let code = Code::ALL
            .iter()
            .find(|k| k.as_str() == &c[3])
            .expect("known code");
        let sev = match code.severity().label_zh() {
            "错误" => "error",
            "警告" => "warning",
            _ => "notice",
        };
        assert_eq!(&c[1], sev, "bar colour class of {}", &c[3]);
        got.insert(code.as_str(), c[2].parse::<usize>().unwrap());
    }
    assert_eq!(got, expected_by_code(&report));
    assert!(got.len() >= 9, "fixture covers many codes: {got:?}");

    // Status bars.
    let sbar =
        Regex::new(r#"<g class="bar status" data-label="([^"]*)" data-count="(\d+)""#).unwrap();
    let got: Vec<(String, usize)> = sbar
        .captures_iter(&dom)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    assert_eq!(got, status);

    // Village coverage: every village with its numbers, bars in proportion to the largest.
    let max = villages
        .iter()
        .map(|v| v.roster.max(v.surveyed).max(v.linked))
        .max()
        .unwrap() as f64;
    for v in &villages {
        let tag = tags_with(&dom, "div", &format!("data-village=\"{}\"", v.village));
        assert_eq!(tag.len(), 1, "village {}", v.village);
        let t = tag[0];
        assert_eq!(num(attr(t, "data-roster")), v.roster);
        assert_eq!(num(attr(t, "data-surveyed")), v.surveyed);
        assert_eq!(num(attr(t, "data-linked")), v.linked);
        assert_eq!(num(attr(t, "data-errors")), v.errors);
        assert_eq!(num(attr(t, "data-warnings")), v.warnings);
        assert_eq!(num(attr(t, "data-dropouts")), v.dropouts);
        let block = &dom[dom.find(t).unwrap()..];
        let block = &block[..block.find("</div></div>").unwrap()];
        for (kind, n) in [
            ("roster", v.roster),
            ("surveyed", v.surveyed),
            ("linked", v.linked),
        ] {
            assert!(
                block.contains(&format!(
                    "data-kind=\"{kind}\" data-count=\"{n}\">{n}</span>"
                )),
                "{} {kind} = {n} shown in {block}",
                v.village
            );
            let width = format!(
                "style=\"width:{:.1}%\"></span></span><span class=\"bnum\" data-kind=\"{kind}\"",
                n as f64 * 100.0 / max
            );
            assert!(
                block.contains(&width),
                "{} {kind} bar {width} in {block}",
                v.village
            );
        }
    }
    // Table: one row per finding, all shown, the hostile cell escaped.
    assert_eq!(rows(&dom), (report.findings.len(), report.findings.len()));
    assert_eq!(shown_count(&dom), report.findings.len());
    assert!(dom.contains("&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;在外&lt;/td&gt;"));
    assert_eq!(dom.matches("<script").count(), 1);

    // Masked: no full ID anywhere, the masked form present.
    let id = &report.findings[0].value;
    assert_eq!(id.len(), 18);
    assert!(!dom.contains(id.as_str()), "full ID in a masked page");
    assert!(dom.contains(&format!("{}***********{}", &id[..6], &id[17..])));
    let id_re = Regex::new(r"610922\d{8}\d{3}[\dX]").unwrap();
    assert!(
        id_re.find(&dom).is_none(),
        "some full ID left: {:?}",
        id_re.find(&dom)
    );
}

#[test]
fn filters_from_the_address_hide_rows_in_chromium() {
    let (report, villages, status) = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = write_page(dir.path(), &render(&report, &villages, &status, false));

    let by_code = expected_by_code(&report);
    let dom = dump_dom(&file_url(&path, "code=ID_CHECKSUM"));
    let want = by_code["ID_CHECKSUM"];
    assert!(want >= 2 && want < report.findings.len());
    assert_eq!(rows(&dom), (report.findings.len(), want));
    assert_eq!(shown_count(&dom), want);
    // The select shows the filter; the hidden rows are the other codes.
    let sel = tags_with(&dom, "select", "id=\"f-code\"");
    assert_eq!(
        attr(sel[0], "data-value"),
        Some("ID_CHECKSUM"),
        "code select set"
    );
    for t in tags_with(&dom, "tr", "data-code=") {
        assert_eq!(
            t.contains(" hidden"),
            !t.contains("data-code=\"ID_CHECKSUM\""),
            "{t}"
        );
    }

    // Village and severity together, the village name percent-encoded.
    let village = VILLAGES[4];
    let enc: String = village.bytes().map(|b| format!("%{b:02X}")).collect();
    let dom = dump_dom(&file_url(&path, &format!("village={enc}&severity=warning")));
    let want = report
        .findings
        .iter()
        .filter(|f| f.village.as_deref() == Some(village) && f.severity.label_zh() == "警告")
        .count();
    assert!(want > 0);
    assert_eq!(rows(&dom).1, want);
    assert_eq!(shown_count(&dom), want);

    // Findings without a village have their own choice.
    let enc: String = taizhang::report::html::NO_VILLAGE
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let dom = dump_dom(&file_url(&path, &format!("village={enc}")));
    assert_eq!(shown_count(&dom), 1);
    assert_eq!(rows(&dom).1, 1);

    // An unknown value is ignored: everything shown.
    let dom = dump_dom(&file_url(&path, "code=NO_SUCH_CODE"));
    assert_eq!(shown_count(&dom), report.findings.len());
}

#[test]
fn ready_round_says_so() {
    let (mut report, villages, status) = fixture();
    let kept: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity.label_zh() != "错误")
        .cloned()
        .collect();
    report.findings = kept.leak();
    report.summary = Summary::count(report.findings);
    assert!(report.summary.ready);
    let dir = tempfile::tempdir().unwrap();
    let path = write_page(
        dir.path(),
        &render_with_township(&report, Some("熨斗镇"), &villages, &status, true),
    );
    let dom = dump_dom(&file_url(&path, ""));
    let v = tags_with(&dom, "section", "id=\"verdict\"")[0];
    assert_eq!(attr(v, "data-ready"), Some("true"));
    assert_eq!(num(attr(v, "data-errors")), 0);
    assert!(dom.contains("可以上报"));
    assert!(!dom.contains("暂不能上报"));
    assert!(dom.contains("<title>熨斗镇 2022—2023学年 控辍保学核对报告</title>"));
    assert_eq!(shown_count(&dom), report.findings.len());
}

/// PNG: signature, IHDR size, and enough bytes that it is not a blank page.
fn check_png(png: &Path) {
    let bytes =
        std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 2000));
    assert!(
        bytes.len() > 60_000,
        "screenshot looks blank: {} bytes",
        bytes.len()
    );
}

/// (The README's docs/report.png is the samples' page, rendered by
/// scripts/render_docs_pictures.sh; see `readme_pictures_show_todays_samples`.)
#[test]
fn screenshot_is_taken() {
    let (report, villages, status) = fixture();
    let dir = tempfile::tempdir().unwrap();
    let html = render_with_township(&report, Some("熨斗镇"), &villages, &status, true);
    let path = write_page(dir.path(), &html);
    let png = dir.path().join("报告.png");
    screenshot(&file_url(&path, ""), &png);
    check_png(&png);
}

/// The samples' 报告.html, written by the binary into a temporary folder;
/// with its findings.json.
fn sample_page(dir: &Path) -> (PathBuf, serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("reconcile")
        .arg(root.join("samples"))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .expect("run taizhang");
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "reconcile samples: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    (out.join("报告.html"), json)
}

/// The findings table's rows as (village, severity) of the visible ones.
fn visible_rows(dom: &str) -> Vec<(String, String)> {
    let table = dom
        .split("id=\"findings-table\"")
        .nth(1)
        .expect("findings table");
    let body = table.split("<tbody>").nth(1).expect("findings tbody");
    let body = body.split("</tbody>").next().unwrap();
    tags_with(body, "tr", "data-severity=")
        .into_iter()
        .filter(|t| !t.contains(" hidden"))
        .map(|t| {
            (
                attr(t, "data-village").unwrap_or("").to_string(),
                attr(t, "data-severity").unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A click on a village's name in the coverage cards (the page's own link,
/// followed by its hashchange handler) leaves exactly that village's
/// findings in the table — also for the card of findings without a village.
#[test]
fn village_cards_of_the_samples_filter_to_their_findings_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (page, json) = sample_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    let none = taizhang::report::html::NO_VILLAGE;
    let findings = json["findings"].as_array().unwrap();
    let of = |v: &str| {
        findings
            .iter()
            .filter(|f| f["village"].as_str().unwrap_or(none) == v)
            .count()
    };
    // The card with the most errors and the card of findings without a village.
    let cards = tags_with(&html, "div", "class=\"village\"");
    let busiest = cards
        .iter()
        .filter(|t| attr(t, "data-village") != Some(none))
        .max_by_key(|t| num(attr(t, "data-errors")))
        .and_then(|t| attr(t, "data-village"))
        .expect("village cards")
        .to_string();
    assert!(
        cards.iter().any(|t| attr(t, "data-village") == Some(none)),
        "the samples have findings without a village: a {none} card"
    );
    for village in [busiest.as_str(), none] {
        let card = cards
            .iter()
            .find(|t| attr(t, "data-village") == Some(village))
            .unwrap();
        let errors = num(attr(card, "data-errors"));
        let warnings = num(attr(card, "data-warnings"));
        assert!(errors > 0, "{village} card has errors");
        // Click the card's name once the page has loaded.
        let clicking = dir.path().join("click.html");
        let script = format!(
            "<script>window.addEventListener('load',function(){{\
             var c=Array.prototype.find.call(document.querySelectorAll('#coverage .village'),\
             function(d){{return d.dataset.village==={v:?};}});\
             c.querySelector('a.vname').click();}});</script></body>",
            v = village
        );
        std::fs::write(&clicking, html.replacen("</body>", &script, 1)).unwrap();
        let dom = dump_dom(&file_url(&clicking, ""));
        let shown = visible_rows(&dom);
        assert_eq!(shown.len(), of(village), "{village}: rows after the click");
        assert_eq!(shown_count(&dom), shown.len(), "{village}: shown count");
        assert!(
            shown
                .iter()
                .all(|(v, _)| v == village || (v.is_empty() && village == none)),
            "{village}: only its rows: {shown:?}"
        );
        let serious = shown
            .iter()
            .filter(|(_, s)| s == "error" || s == "warning")
            .count();
        assert_eq!(
            serious,
            errors + warnings,
            "{village}: the card's 错误 + 警告 equal the rows shown"
        );
        let sel = tags_with(&dom, "select", "id=\"f-village\"");
        assert_eq!(attr(sel[0], "data-value"), Some(village), "select follows");
    }
}

/// The `taizhang-source` text chunk of a PNG: what it was rendered from.
fn png_source(bytes: &[u8]) -> Option<String> {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let n = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        let (tag, body) = (&bytes[i + 4..i + 8], &bytes[i + 8..i + 8 + n]);
        if tag == b"tEXt"
            && let Some(text) = body.strip_prefix(b"taizhang-source\0".as_slice())
        {
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        i += 12 + n;
    }
    None
}

/// The counts the README pictures must show: today's samples.
fn sample_source(json: &serde_json::Value) -> String {
    let s = &json["summary"];
    let keys = [
        "errors",
        "warnings",
        "notices",
        "linked",
        "unsurveyed",
        "unconfirmed",
        "status_unknown",
    ];
    let counts: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}={}", s[k].as_u64().expect("summary count")))
        .collect();
    format!(
        "samples findings={} {}",
        json["findings"].as_array().unwrap().len(),
        counts.join(" ")
    )
}

/// docs/annotated.png and docs/report.png show today's samples: the one
/// script that renders both (scripts/render_docs_pictures.sh) runs here into
/// a temporary folder and stamps the counts of the round it rendered, which
/// must be today's; the committed pictures carry the same counts, so a
/// change to the samples or the rules fails here until they are re-rendered.
#[test]
fn readme_pictures_show_todays_samples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (_, json) = sample_page(dir.path());
    let want = sample_source(&json);

    let fresh = dir.path().join("docs");
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/render_docs_pictures.sh"))
        .arg(&fresh)
        .env("TAIZHANG_BIN", env!("CARGO_BIN_EXE_taizhang"))
        .env("CHROMIUM", support::chromium())
        .output()
        .expect("bash runs the script");
    assert!(
        out.status.success(),
        "render_docs_pictures.sh failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["annotated.png", "report.png"] {
        let rendered = std::fs::read(fresh.join(name)).expect("the script wrote the picture");
        assert!(rendered.len() > 60_000, "{name} looks blank");
        assert_eq!(
            png_source(&rendered).as_deref(),
            Some(want.as_str()),
            "{name} rendered from the samples"
        );
        let committed = std::fs::read(root.join("docs").join(name)).expect("committed picture");
        assert_eq!(
            png_source(&committed).as_deref(),
            Some(want.as_str()),
            "docs/{name} shows other counts than today's samples: run scripts/render_docs_pictures.sh and commit docs/"
        );
    }
    let report = std::fs::read(fresh.join("report.png")).unwrap();
    let w = u32::from_be_bytes(report[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(report[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 2000));
}
