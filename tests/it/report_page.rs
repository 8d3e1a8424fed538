//! 报告.html says how the round was run: which config, school year and age
//! window (the same line the terminal prints), or that the year was
//! inferred from today's date; and when the page was generated.

use super::support::*;
use regex::Regex;
use testkit::synth::{self, Round, RoundSpec};

const OUT: &str = "核对结果";

fn write_round(wd: &Workdir, round: &Round, config_name: Option<&str>) {
    let d = wd.mkdir("round");
    if let Some(name) = config_name {
        std::fs::write(d.join(name), round.spec.config_toml()).unwrap();
    }
    synth::write_roster_xlsx(round, &d.join("县局名单.xlsx")).unwrap();
    for (school, _) in &round.spec.schools {
        synth::write_survey_xlsx(round, school, &d.join(Round::survey_file_name(school))).unwrap();
    }
}

/// The text of the element with `id` in the page (no nested elements).
fn element_text(html: &str, id: &str) -> String {
    let re = Regex::new(&format!(r#"<span id="{id}"[^>]*>([^<]*)</span>"#)).unwrap();
    re.captures(html)
        .unwrap_or_else(|| panic!("no #{id} in 报告.html"))[1]
        .to_string()
}

fn now_minute() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M").to_string()
}

/// The generation time on the page lies between the minute before the run
/// and the minute after it.
fn assert_generated_during(html: &str, before: &str, after: &str) {
    let re =
        Regex::new(r#"<span id="generated" data-generated="([^"]*)">生成时间：([^<]*)。</span>"#)
            .unwrap();
    let c = re.captures(html).expect("generation time on 报告.html");
    assert_eq!(&c[1], &c[2], "data-generated and the shown time agree");
    assert!(
        Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
            .unwrap()
            .is_match(&c[1]),
        "{}",
        &c[1]
    );
    assert!(
        before <= &c[1] && &c[1] <= after,
        "generated {} not between {before} and {after}",
        &c[1]
    );
}

#[test]
fn report_page_names_the_config_year_and_window_used() {
    let round = synth::generate(&RoundSpec::yundou(40, 21));
    let wd = Workdir::new("page-config");
    write_round(&wd, &round, Some("taizhang.toml.txt"));
    let before = now_minute();
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    let after = now_minute();
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
    let used = element_text(&html, "config-used");
    assert!(used.contains("taizhang.toml.txt"), "{used}");
    assert!(used.contains("2022—2023学年"), "{used}");
    assert!(used.contains("2006-09-01 至 2016-08-31"), "{used}");
    assert!(!used.contains("推定"), "{used}");
    // The same line as on the terminal.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("配置文件 "))
        .unwrap_or_else(|| panic!("config line on the terminal:\n{}", out.stdout));
    assert_eq!(used, format!("本次核对使用：{line}。"));
    assert_generated_during(&html, &before, &after);
}

#[test]
fn report_page_says_the_year_was_inferred_without_a_config() {
    let round = synth::generate(&RoundSpec::yundou(40, 22));
    let wd = Workdir::new("page-noconfig");
    write_round(&wd, &round, None);
    let before = now_minute();
    let out = wd.run(&["reconcile", "round", "--out", OUT]);
    let after = now_minute();
    assert!(matches!(out.status, 0 | 1), "{}", out.all());
    let html = std::fs::read_to_string(wd.join(OUT).join("报告.html")).unwrap();
    let used = element_text(&html, "config-used");
    assert!(used.contains("未找到配置文件"), "{used}");
    assert!(used.contains("学年按今天的日期推定为"), "{used}");
    let year = wd.findings(OUT)["school_year"].as_i64().unwrap();
    assert!(used.contains(&format!("{year}—{}学年", year + 1)), "{used}");
    assert_generated_during(&html, &before, &after);
}
