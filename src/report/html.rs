//! The self-contained HTML report `报告.html`.
//!
//! In: the findings.json [`Report`](super::Report), one [`VillageLine`] per
//! village and the counts by 就读状态. Out: one HTML page, written into a
//! writer piece by piece (a page of a million findings is never held whole), with
//! everything inline (CSS, a small vanilla script, SVG charts): no network,
//! no external scripts, fonts or images, so a clerk can open it from a USB
//! stick or mail it. Every text is HTML-escaped; IDs are masked
//! (610922***********X) when asked.
//!
//! The numbers are also in `data-*` attributes (`data-errors`, `data-count`,
//! `data-village`, …) so tests and other tools can read them back. The
//! findings table can be filtered by village, severity and code; the filter
//! can be given in the address (`报告.html#code=ID_CHECKSUM&severity=error`).

use super::{Report, code_counts};
use crate::gb11643::mask_text;
use crate::model::{Finding, Loc, Severity};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One village's line in the coverage chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VillageLine {
    pub village: String,
    /// Children of this village in the county roster.
    pub roster: usize,
    /// Children of this village in the survey workbooks.
    pub surveyed: usize,
    /// Roster children linked to a survey row.
    pub linked: usize,
    pub errors: usize,
    pub warnings: usize,
    pub dropouts: usize,
}

/// The village of findings and children that name no village: the village
/// line's name, its card's filter and the filter choice for such findings.
pub const NO_VILLAGE: &str = "（未填村）";

/// How the round was run, shown under the title: the township (also in the
/// title), the config line ([`Config::describe_zh`](crate::config::Config::describe_zh))
/// and when the page was generated (`YYYY-MM-DD HH:MM`).
#[derive(Clone, Debug, Default)]
pub struct RunInfo<'a> {
    pub township: Option<&'a str>,
    pub config: Option<String>,
    pub generated: Option<String>,
}

/// Render `报告.html`. `status_counts` are (就读状态, children) in display
/// order. With `mask`, every 18-digit ID in the page is shown as
/// 610922***********X.
pub fn render(
    report: &Report,
    villages: &[VillageLine],
    status_counts: &[(String, usize)],
    mask: bool,
) -> String {
    render_with_township(report, None, villages, status_counts, mask)
}

/// [`render`], with the township's name in the title (the findings.json
/// `Report` does not carry it).
pub fn render_with_township(
    report: &Report,
    township: Option<&str>,
    villages: &[VillageLine],
    status_counts: &[(String, usize)],
    mask: bool,
) -> String {
    let info = RunInfo {
        township,
        ..RunInfo::default()
    };
    render_page(report, &info, villages, status_counts, mask)
}

/// [`render`], with how the round was run under the title.
pub fn render_page(
    report: &Report,
    info: &RunInfo,
    villages: &[VillageLine],
    status_counts: &[(String, usize)],
    mask: bool,
) -> String {
    let mut v = Vec::with_capacity(64 * 1024 + report.findings.len() * 600);
    // Writing into a Vec cannot fail, and the page is built from `str`s.
    let _ = write_page(&mut v, report, info, villages, status_counts, mask);
    String::from_utf8(v).unwrap_or_default()
}

/// [`render_page`] straight into `w`, in pieces of about [`CHUNK`] bytes.
///
/// # Errors
/// The writer's first error.
pub fn write_page(
    w: &mut dyn std::io::Write,
    report: &Report,
    info: &RunInfo,
    villages: &[VillageLine],
    status_counts: &[(String, usize)],
    mask: bool,
) -> std::io::Result<()> {
    let township = info.township;
    let p = Page { mask };
    let o = &mut Sink::new(w);
    let year = report.school_year;
    let title = match township.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{t} {year}—{}学年 控辍保学核对报告", year + 1),
        None => format!("{year}—{}学年 控辍保学核对报告", year + 1),
    };
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{tool} {version}\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        tool = esc(report.tool),
        version = esc(report.version),
        title = esc(&title),
    );
    let _ = writeln!(
        o,
        "<header><h1 id=\"title\" data-school-year=\"{year}\">{}</h1>\
         <p class=\"sub\">适龄儿童：出生于 {} 至 {} 之间。本页由 {} {} 生成，只在本机打开，不联网。{}</p></header>",
        esc(&title),
        esc(&report.born_from),
        esc(&report.born_to),
        esc(report.tool),
        esc(report.version),
        if mask {
            "身份证号已部分隐藏。"
        } else {
            "身份证号完整显示，请勿外传。"
        },
    );
    run_info(o, info);
    changes(o, &p, report);
    verdict(o, report);
    coverage(o, villages);
    charts(o, report, status_counts);
    findings_table(o, &p, report, villages);
    inputs(o, report);
    let _ = write!(o, "</main>\n<script>{JS}</script>\n</body>\n</html>\n");
    o.finish()
}

/// How much of the page is gathered before it is handed to the writer.
const CHUNK: usize = 64 * 1024;

/// The page being written: text gathers in a buffer that goes to the writer
/// whenever it holds [`CHUNK`] bytes; the writer's first error is kept and
/// returned by [`Sink::finish`] (later text is dropped).
struct Sink<'w> {
    buf: String,
    w: &'w mut dyn std::io::Write,
    err: Option<std::io::Error>,
}

impl<'w> Sink<'w> {
    fn new(w: &'w mut dyn std::io::Write) -> Sink<'w> {
        Sink {
            buf: String::with_capacity(CHUNK + 4096),
            w,
            err: None,
        }
    }

    fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
        if self.buf.len() >= CHUNK {
            self.spill();
        }
    }

    fn spill(&mut self) {
        if self.err.is_none()
            && let Err(e) = self.w.write_all(self.buf.as_bytes())
        {
            self.err = Some(e);
        }
        self.buf.clear();
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.spill();
        match self.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// The config line and the generation time, when known.
fn run_info(o: &mut Sink, info: &RunInfo) {
    if info.config.is_none() && info.generated.is_none() {
        return;
    }
    o.push_str("<p class=\"sub\" id=\"run-info\">");
    if let Some(c) = &info.config {
        let _ = write!(
            o,
            "<span id=\"config-used\">本次核对使用：{}。</span>",
            esc(c)
        );
    }
    if let Some(t) = &info.generated {
        let _ = write!(
            o,
            "<span id=\"generated\" data-generated=\"{0}\">生成时间：{0}。</span>",
            esc(t)
        );
    }
    o.push_str("</p>\n");
}

struct Page {
    mask: bool,
}

impl Page {
    /// Escaped text, IDs masked when asked (only digits are ever masked).
    fn t<'a>(&self, s: &'a str) -> Esc<'a> {
        if self.mask && s.bytes().any(|b| b.is_ascii_digit()) {
            Esc(Cow::Owned(mask_text(s)))
        } else {
            Esc(Cow::Borrowed(s))
        }
    }
}

/// Text that formats HTML-escaped (see [`esc`]), without building the
/// escaped copy first.
struct Esc<'a>(Cow<'a, str>);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: &str = &self.0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                // Control characters other than tab/newline are not allowed in HTML text.
                c if c.is_control() && c != '\n' && c != '\t' => "\u{FFFD}",
                _ => continue,
            };
            f.write_str(&s[start..i])?;
            f.write_str(rep)?;
            start = i + c.len_utf8();
        }
        f.write_str(&s[start..])
    }
}

/// Escape text for HTML element content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    Esc(Cow::Borrowed(s)).to_string()
}

/// [`esc`] as a value to format.
fn e(s: &str) -> Esc<'_> {
    Esc(Cow::Borrowed(s))
}

/// Percent-encode for a `#key=value` link (what JS `encodeURIComponent` does).
fn url_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn sev_key(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

fn verdict(o: &mut Sink, report: &Report) {
    let s = &report.summary;
    let (class, head) = if s.ready {
        ("ok", "可以上报")
    } else {
        ("bad", "暂不能上报")
    };
    let _ = writeln!(
        o,
        "<section id=\"verdict\" class=\"verdict {class}\" data-ready=\"{ready}\" \
         data-errors=\"{e}\" data-warnings=\"{w}\" data-notices=\"{n}\" \
         data-linked=\"{l}\" data-roster-only=\"{ro}\" data-survey-only=\"{so}\">\
         <div class=\"verdict-head\"><div class=\"big\">{head}</div><p>{line}</p>{skipped}\
         <p class=\"next\">{next}</p></div>\
         <div class=\"counts\">\
         <a class=\"count error\" href=\"#severity=error\"><span class=\"num\" data-count-of=\"errors\">{e}</span><span class=\"lab\">错误（必须改正）</span></a>\
         <a class=\"count warning\" href=\"#severity=warning\"><span class=\"num\" data-count-of=\"warnings\">{w}</span><span class=\"lab\">警告（请核实）</span></a>\
         <a class=\"count notice\" href=\"#severity=notice\"><span class=\"num\" data-count-of=\"notices\">{n}</span><span class=\"lab\">提示</span></a>\
         <div class=\"count plain\"><span class=\"num\" data-count-of=\"linked\">{l}</span><span class=\"lab\">名单与摸底比对成功（人）</span></div>\
         <div class=\"count plain\"><span class=\"num\" data-count-of=\"roster-only\">{ro}</span><span class=\"lab\">只在县局名单（人）</span></div>\
         <div class=\"count plain\"><span class=\"num\" data-count-of=\"survey-only\">{so}</span><span class=\"lab\">只在摸底表（人）</span></div>\
         {pending}</div></section>",
        ready = s.ready,
        e = s.errors,
        w = s.warnings,
        n = s.notices,
        l = s.linked,
        ro = s.roster_only,
        so = s.survey_only,
        line = esc(&super::verdict(s)),
        skipped = super::skipped_lines(s)
            .iter()
            .map(|l| format!("<p class=\"skipped\">{}</p>", esc(l)))
            .collect::<String>(),
        next = esc(&format!("{}{}", super::NEXT_STEPS, super::OVERWRITE_NOTE)),
        pending = pending_counts(s),
    );
}

/// The counts of roster children without a known status (reconcile only),
/// with the same line the terminal prints as their tooltip.
fn pending_counts(s: &super::Summary) -> String {
    let (Some(p), Some(line)) = (s.pending, super::pending_line(s)) else {
        return String::new();
    };
    let mut o = String::new();
    for (key, n, label) in [
        ("unsurveyed", p.unsurveyed, "名单中未摸底（人）"),
        ("unconfirmed", p.unconfirmed, "待人工确认（人）"),
        ("status-unknown", p.status_unknown, "状态待核实（人）"),
    ] {
        let _ = write!(
            o,
            "<div class=\"count plain\" title=\"{t}\"><span class=\"num\" data-count-of=\"{key}\">{n}</span><span class=\"lab\">{label}</span></div>",
            t = esc(&line)
        );
    }
    o
}

/// What changed since the last run, and the errors, warnings and unsurveyed
/// children of every run in the history.
fn changes(o: &mut Sink, p: &Page, report: &Report) {
    let Some(h) = report.history else {
        return;
    };
    o.push_str("<section id=\"changes\"><h2>比上次的变化</h2>\n");
    match &h.changes {
        Some(c) => {
            let _ = writeln!(
                o,
                "<p class=\"change\" data-previous-run=\"{prev}\" data-fixed=\"{f}\" data-new=\"{n}\" \
                 data-unchanged=\"{u}\"><b>{line}</b></p>",
                prev = esc(&c.previous_run),
                f = c.fixed.len(),
                n = c.new,
                u = c.unchanged,
                line = esc(&c.line()),
            );
            if c.new > 0 {
                o.push_str("<p><a href=\"#since=new\">只看新出现的问题</a></p>\n");
            }
            if !c.fixed.is_empty() {
                let _ = writeln!(
                    o,
                    "<details id=\"fixed\"><summary>已改正的 {} 条（上次所在位置）</summary>\
                     <div class=\"tablewrap\"><table><thead><tr><th>级别</th><th>代码</th><th>文件</th>\
                     <th>位置</th><th>上次的值</th><th>说明</th></tr></thead><tbody>",
                    c.fixed.len()
                );
                let text = |v: &serde_json::Value, k: &str| {
                    v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string()
                };
                for v in &c.fixed {
                    let sev = match text(v, "severity").as_str() {
                        "error" => Severity::Error,
                        "warning" => Severity::Warning,
                        _ => Severity::Notice,
                    };
                    let row = v.get("row").and_then(|x| x.as_u64()).unwrap_or(0);
                    let _ = writeln!(
                        o,
                        "<tr class=\"{k}\" data-code=\"{code}\"><td class=\"sev\">{zh}</td><td class=\"code\">{code}</td>\
                         <td>{file}</td><td class=\"loc\">{sheet}!{col}{row}</td><td class=\"val\">{value}</td><td>{msg}</td></tr>",
                        k = sev_key(sev),
                        zh = sev.label_zh(),
                        code = esc(&text(v, "code")),
                        file = p.t(&text(v, "file")),
                        sheet = p.t(&text(v, "sheet")),
                        col = esc(&text(v, "column")),
                        value = p.t(&text(v, "value")),
                        msg = p.t(&text(v, "message")),
                    );
                }
                o.push_str("</tbody></table></div></details>\n");
            }
        }
        None => o.push_str(
            "<p class=\"change first\" data-first-run=\"true\">这是第一次核对（输出文件夹的“历史”中没有以前的结果）。\
             改正后再核对，这里会列出比上次改正了多少、新出现了多少。</p>\n",
        ),
    }
    trend_chart(o, &h.trend);
    o.push_str("</section>\n");
}

/// A line chart (inline SVG) of errors, warnings and unsurveyed children per run.
fn trend_chart(o: &mut Sink, runs: &[super::history::RunPoint]) {
    const W: usize = 720;
    const H: usize = 240;
    const LEFT: usize = 48;
    const RIGHT: usize = 56;
    const TOP: usize = 16;
    const BOTTOM: usize = 48;
    let max = runs
        .iter()
        .map(|r| r.errors.max(r.warnings).max(r.unsurveyed))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| -> usize {
        if runs.len() <= 1 {
            LEFT + plot_w / 2
        } else {
            LEFT + i * plot_w / (runs.len() - 1)
        }
    };
    let y = |n: usize| -> usize { TOP + plot_h - n * plot_h / max };
    let _ = write!(
        o,
        "<figure class=\"chart trend\" id=\"trend-chart\" data-runs=\"{n}\"><figcaption>历次核对的错误、警告和名单中未摸底人数（最近 {n} 次）</figcaption>\
         <p class=\"hint\"><span class=\"key t-error\"></span>错误（条）<span class=\"key t-warning\"></span>警告（条）\
         <span class=\"key t-unsurveyed\"></span>名单中未摸底（人）</p>\
         <svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"历次核对的变化\">\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"></line>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\"></line>\
         <text class=\"tick\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{tx}\" y=\"{b}\" text-anchor=\"end\">0</text>",
        n = runs.len(),
        b = TOP + plot_h,
        r = W - RIGHT,
        tx = LEFT - 6,
        ty = TOP + 4,
    );
    type Pick = fn(&super::history::RunPoint) -> usize;
    let series: [(&str, &str, Pick); 3] = [
        ("t-error", "错误", |r| r.errors),
        ("t-warning", "警告", |r| r.warnings),
        ("t-unsurveyed", "名单中未摸底", |r| r.unsurveyed),
    ];
    for (class, label, pick) in series {
        let pts: Vec<String> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{},{}", x(i), y(pick(r))))
            .collect();
        let _ = write!(
            o,
            "<g class=\"series {class}\" data-series=\"{label}\"><polyline points=\"{}\"></polyline>",
            pts.join(" ")
        );
        for (i, r) in runs.iter().enumerate() {
            let n = pick(r);
            let _ = write!(
                o,
                "<circle cx=\"{}\" cy=\"{}\" r=\"4\" data-run=\"{at}\" data-count=\"{n}\"><title>{at}：{label} {n}</title></circle>",
                x(i),
                y(n),
                at = esc(&r.run_at),
            );
        }
        o.push_str("</g>");
    }
    // Run labels: month-day and time, thinned so they do not overlap.
    let step = runs.len().div_ceil(8).max(1);
    for (i, r) in runs.iter().enumerate() {
        if i % step != 0 && i + 1 != runs.len() {
            continue;
        }
        let short = r.run_at.get(5..16).unwrap_or(&r.run_at);
        let _ = write!(
            o,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x(i),
            TOP + plot_h + 18,
            esc(short)
        );
    }
    o.push_str("</svg></figure>\n");
}

fn pct(n: usize, max: usize) -> String {
    if max == 0 {
        return "0".into();
    }
    let p = (n as f64) * 100.0 / (max as f64);
    format!("{:.1}", p.clamp(0.0, 100.0))
}

fn coverage(o: &mut Sink, villages: &[VillageLine]) {
    o.push_str(
        "<section id=\"coverage\"><h2>各村摸底覆盖情况</h2>\
         <p class=\"hint\">每村三条横条：<span class=\"key roster\"></span>县局名单人数，\
         <span class=\"key surveyed\"></span>摸底表人数，<span class=\"key linked\"></span>\
         两边对上的人数。三条一样长最好；点村名可只看该村的问题。</p>\n",
    );
    if villages.is_empty() {
        o.push_str("<p class=\"empty\">没有村的数据。</p></section>\n");
        return;
    }
    let max = villages
        .iter()
        .map(|v| v.roster.max(v.surveyed).max(v.linked))
        .max()
        .unwrap_or(0);
    o.push_str("<div class=\"villages\">\n");
    for v in villages {
        let rate = if v.roster > 0 {
            format!("对上 {}%", pct(v.linked, v.roster))
        } else {
            "名单中无此村".to_string()
        };
        let _ = write!(
            o,
            "<div class=\"village\" data-village=\"{name}\" data-roster=\"{r}\" data-surveyed=\"{s}\" \
             data-linked=\"{l}\" data-errors=\"{e}\" data-warnings=\"{w}\" data-dropouts=\"{d}\">\
             <a class=\"vname\" href=\"#village={href}\">{name}</a><div class=\"bars\">",
            name = esc(&v.village),
            href = url_component(&v.village),
            r = v.roster,
            s = v.surveyed,
            l = v.linked,
            e = v.errors,
            w = v.warnings,
            d = v.dropouts,
        );
        for (class, label, n) in [
            ("roster", "名单", v.roster),
            ("surveyed", "摸底", v.surveyed),
            ("linked", "对上", v.linked),
        ] {
            let _ = write!(
                o,
                "<div class=\"brow\"><span class=\"blabel\">{label}</span>\
                 <span class=\"track\"><span class=\"fill {class}\" style=\"width:{w}%\"></span></span>\
                 <span class=\"bnum\" data-kind=\"{class}\" data-count=\"{n}\">{n}</span></div>",
                w = pct(n, max),
            );
        }
        let _ = writeln!(
            o,
            "</div><div class=\"vstats\"><span>{rate}</span>\
             <span class=\"{ec}\">错误 {e}</span><span class=\"{wc}\">警告 {w}</span>\
             <span>失学辍学 {d}</span></div></div>",
            ec = if v.errors > 0 { "e" } else { "" },
            wc = if v.warnings > 0 { "w" } else { "" },
            e = v.errors,
            w = v.warnings,
            d = v.dropouts,
        );
    }
    o.push_str("</div></section>\n");
}

struct Bar {
    label: String,
    tooltip: String,
    count: usize,
    class: &'static str,
    href: Option<String>,
    attrs: String,
}

/// A horizontal bar chart as inline SVG.
fn bar_chart(o: &mut Sink, id: &str, caption: &str, bars: &[Bar]) {
    let _ = write!(
        o,
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{caption}</figcaption>"
    );
    if bars.is_empty() {
        o.push_str("<p class=\"empty\">无</p></figure>\n");
        return;
    }
    const W: usize = 560;
    const LABEL: usize = 250;
    const ROW: usize = 26;
    const BAR_MAX: usize = W - LABEL - 60;
    let h = bars.len() * ROW + 8;
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let _ = write!(
        o,
        "<svg viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\" role=\"img\" aria-label=\"{caption}\">"
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4 + i * ROW;
        let w = if b.count == 0 {
            0
        } else {
            (b.count * BAR_MAX / max).max(2)
        };
        let open = match &b.href {
            Some(h) => format!("<a href=\"{}\">", esc(h)),
            None => String::new(),
        };
        let close = if b.href.is_some() { "</a>" } else { "" };
        let _ = write!(
            o,
            "{open}<g class=\"bar {class}\" data-label=\"{label}\" data-count=\"{n}\"{attrs}>\
             <title>{tip}</title>\
             <text class=\"lab\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\"></rect>\
             <text class=\"n\" x=\"{nx}\" y=\"{ty}\">{n}</text></g>{close}",
            class = b.class,
            label = esc(&b.label),
            tip = esc(&b.tooltip),
            n = b.count,
            attrs = b.attrs,
            lx = LABEL - 8,
            ty = y + 14,
            nx = LABEL + w + 6,
        );
    }
    o.push_str("</svg></figure>\n");
}

fn charts(o: &mut Sink, report: &Report, status_counts: &[(String, usize)]) {
    o.push_str("<section id=\"charts\"><h2>统计</h2><div class=\"charts\">\n");
    let status: Vec<Bar> = status_counts
        .iter()
        .map(|(s, n)| Bar {
            label: s.clone(),
            tooltip: format!("{s}：{n} 人"),
            count: *n,
            class: "status",
            href: None,
            attrs: format!(" data-status=\"{}\"", esc(s)),
        })
        .collect();
    bar_chart(o, "status-chart", "按就读状态（人数）", &status);
    let codes: Vec<Bar> = code_counts(report.findings)
        .into_iter()
        .map(|(c, n)| Bar {
            label: c.title_zh().to_string(),
            tooltip: format!(
                "{} {}（{}）：{} 条",
                c.as_str(),
                c.title_zh(),
                c.severity().label_zh(),
                n
            ),
            count: n,
            class: sev_key(c.severity()),
            href: Some(format!("#code={}", c.as_str())),
            attrs: format!(" data-code=\"{}\"", c.as_str()),
        })
        .collect();
    bar_chart(o, "code-chart", "按问题类型（条数，点击可筛选）", &codes);
    o.push_str("</div></section>\n");
}

fn location(f: &Finding) -> String {
    match (f.row, f.column.is_empty()) {
        (0, _) => f.sheet.clone(),
        (r, true) => format!("{}!第{}行", f.sheet, r),
        (r, false) => format!("{}!{}{}", f.sheet, f.column, r),
    }
}

/// A related place as findings.csv names it: the cell (`县局名单.xlsx:Sheet1!J48`),
/// or the row when no column is known.
fn related_place(l: &Loc) -> String {
    if l.column.is_empty() {
        format!("{}:{}!第{}行", l.file, l.sheet, l.row)
    } else {
        format!("{}:{}!{}{}", l.file, l.sheet, l.column, l.row)
    }
}

fn findings_table(o: &mut Sink, p: &Page, report: &Report, villages: &[VillageLine]) {
    let total = report.findings.len();
    // Village choices: the village lines' order, then any other village named by a finding.
    let mut vill: Vec<String> = villages.iter().map(|v| v.village.clone()).collect();
    let mut no_village = false;
    for f in report.findings {
        match f
            .village
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(v) => {
                if !vill.iter().any(|x| x == v) {
                    vill.push(v.to_string());
                }
            }
            None => no_village = true,
        }
    }
    let _ = write!(
        o,
        "<section id=\"findings\"><h2>问题清单</h2>\
         <div class=\"filters\" id=\"filters\">\
         <label>村（社区）<select id=\"f-village\" data-key=\"village\" data-none=\"{NO_VILLAGE}\"><option value=\"\">全部</option>"
    );
    if no_village && !vill.iter().any(|v| v == NO_VILLAGE) {
        vill.push(NO_VILLAGE.to_string());
    }
    for v in &vill {
        let _ = write!(o, "<option value=\"{0}\">{0}</option>", esc(v));
    }
    o.push_str(
        "</select></label><label>级别<select id=\"f-severity\" data-key=\"severity\">\
         <option value=\"\">全部</option>",
    );
    for s in [Severity::Error, Severity::Warning, Severity::Notice] {
        let n = report.findings.iter().filter(|f| f.severity == s).count();
        let _ = write!(
            o,
            "<option value=\"{}\">{}（{n}）</option>",
            sev_key(s),
            s.label_zh()
        );
    }
    o.push_str(
        "</select></label><label>问题类型<select id=\"f-code\" data-key=\"code\">\
         <option value=\"\">全部</option>",
    );
    for (c, n) in code_counts(report.findings) {
        let _ = write!(
            o,
            "<option value=\"{0}\">{0} {1}（{n}）</option>",
            c.as_str(),
            esc(c.title_zh())
        );
    }
    if let Some(c) = report.history.and_then(|h| h.changes.as_ref()) {
        let _ = write!(
            o,
            "</select></label><label>比上次<select id=\"f-since\" data-key=\"since\">\
             <option value=\"\">全部</option><option value=\"new\">新出现（{}）</option>\
             <option value=\"unchanged\">仍有（{}）</option>",
            c.new, c.unchanged
        );
    }
    let _ = writeln!(
        o,
        "</select></label><button type=\"button\" id=\"f-reset\">全部显示</button>\
         <span class=\"shown\">显示 <b id=\"shown-count\" data-shown=\"{total}\">{total}</b> 条，\
         共 <b id=\"total-count\" data-total=\"{total}\">{total}</b> 条</span></div>"
    );
    if total == 0 {
        o.push_str("<p class=\"empty\">没有发现问题。</p>");
    }
    o.push_str(
        "<div class=\"tablewrap\"><table id=\"findings-table\"><thead><tr>\
         <th>级别</th><th>代码</th><th>问题</th><th>文件</th><th>位置</th>\
         <th>当前值</th><th>建议值</th><th>说明</th></tr></thead><tbody>\n",
    );
    let compared = report.history.is_some_and(|h| h.changes.is_some());
    for (i, f) in report.findings.iter().enumerate() {
        let village = f
            .village
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("");
        let sev = sev_key(f.severity);
        let is_new = compared && report.history.is_some_and(|h| h.is_new(i));
        let _ = write!(
            o,
            "<tr class=\"{sev}\" data-village=\"{v}\" data-severity=\"{sev}\" data-code=\"{code}\"{since}>\
             <td class=\"sev\">{sevzh}{mark}</td><td class=\"code\">{code}</td><td>{title}</td>\
             <td>{file}</td><td class=\"loc\">{loc}</td><td class=\"val\">{value}</td>\
             <td class=\"val\">{sugg}</td><td>{msg}",
            v = e(village),
            code = f.code.as_str(),
            sevzh = f.severity.label_zh(),
            title = e(f.code.title_zh()),
            file = p.t(&f.file),
            loc = p.t(&location(f)),
            value = p.t(&f.value),
            sugg = p.t(f.suggestion.as_deref().unwrap_or("")),
            msg = p.t(&f.message),
            since = match (compared, is_new) {
                (false, _) => "",
                (true, true) => " data-since-last=\"new\"",
                (true, false) => " data-since-last=\"unchanged\"",
            },
            mark = if is_new {
                "<span class=\"new\">新</span>"
            } else {
                ""
            },
        );
        if !f.related.is_empty() {
            let rel = f
                .related
                .iter()
                .map(related_place)
                .collect::<Vec<_>>()
                .join("；");
            let _ = write!(o, "<div class=\"rel\">相关：{}</div>", p.t(&rel));
        }
        o.push_str("</td></tr>\n");
    }
    o.push_str("</tbody></table></div></section>\n");
}

fn inputs(o: &mut Sink, report: &Report) {
    if report.inputs.is_empty() {
        return;
    }
    o.push_str(
        "<section id=\"inputs\"><h2>读取的文件</h2><div class=\"tablewrap\"><table class=\"inputs\">\
         <thead><tr><th>文件</th><th>工作表</th><th>类型</th><th>表头行</th><th>数据行数</th><th>备注</th></tr></thead><tbody>\n",
    );
    for i in &report.inputs {
        let _ = writeln!(
            o,
            "<tr data-rows=\"{rows}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{rows}</td><td>{}</td></tr>",
            esc(&i.file),
            esc(&i.sheet),
            esc(i.role.label_zh()),
            i.header_row,
            [
                (i.skipped > 0).then(|| format!("跳过外乡镇 {} 行", i.skipped)),
                (i.skipped_out_of_window > 0).then(|| format!(
                    "跳过 {} 行：出生日期不在本轮适龄范围内（家庭其他成员）",
                    i.skipped_out_of_window
                )),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("，"),
            rows = i.rows,
        );
    }
    o.push_str("</tbody></table></div></section>\n");
}

/// The page's style sheet, kept in its own file so editors check it.
const CSS: &str = include_str!("html/page.css");

/// The page's script, kept in its own file so editors check it: the filters
/// read the selects (or the address after `#`), hide the rows that do not
/// match and show how many are left.
const JS: &str = include_str!("html/page.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Code;
    use crate::report::Summary;

    fn finding(code: Code, village: Option<&str>, value: &str) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            file: "附件1_甲小学.xlsx".into(),
            input: crate::model::InputId::default(),
            sheet: "Sheet1".into(),
            row: 7,
            column: "F".into(),
            field: "id".into(),
            value: value.into(),
            suggestion: Some("610922201005031234".into()),
            message: format!("身份证号 {value} 有误"),
            related: vec![],
            village: village.map(String::from),
        }
    }

    /// Test reports live for the whole test (leaked on purpose).
    fn report(findings: Vec<Finding>) -> Report<'static> {
        Report {
            tool: "taizhang",
            version: "0.1.0",
            school_year: 2022,
            born_from: "2006-09-01".into(),
            born_to: "2016-08-31".into(),
            inputs: vec![],
            summary: Summary::count(&findings),
            findings: findings.leak(),
            links: crate::report::Links::default(),
            history: None,
        }
    }

    /// Records the size of every write; fails once `fail_after` bytes are in.
    struct Pieces {
        bytes: Vec<u8>,
        sizes: Vec<usize>,
        fail_after: usize,
    }

    impl std::io::Write for Pieces {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.bytes.len() >= self.fail_after {
                return Err(std::io::Error::other("磁盘已满"));
            }
            self.bytes.extend_from_slice(b);
            self.sizes.push(b.len());
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_long_page_goes_to_the_writer_in_pieces() {
        let fs: Vec<Finding> = (0..3000)
            .map(|i| {
                finding(
                    Code::ID_CHECKSUM,
                    Some("甲村"),
                    &format!("61092220100503{i:04}"),
                )
            })
            .collect();
        let r = report(fs);
        let info = RunInfo::default();
        let mut w = Pieces {
            bytes: Vec::new(),
            sizes: Vec::new(),
            fail_after: usize::MAX,
        };
        write_page(&mut w, &r, &info, &[], &[], true).unwrap();
        assert!(w.sizes.len() > 10, "{} pieces", w.sizes.len());
        assert!(w.sizes.iter().all(|n| *n < CHUNK + 4096), "{:?}", w.sizes);
        let page = String::from_utf8(w.bytes).unwrap();
        assert_eq!(page, render_page(&r, &info, &[], &[], true));
        assert_eq!(page.matches("<tr class=\"error\"").count(), 3000);
        assert!(page.contains("610922***********9"));
        assert!(page.ends_with("</html>\n"));

        let mut full = Pieces {
            bytes: Vec::new(),
            sizes: Vec::new(),
            fail_after: 100_000,
        };
        let e = write_page(&mut full, &r, &info, &[], &[], true).unwrap_err();
        assert_eq!(e.to_string(), "磁盘已满");
    }

    #[test]
    fn escaping_replaces_markup_quotes_and_control_characters() {
        assert_eq!(
            esc("a&b<c>\"d'e\u{1}f\tg\nh村"),
            "a&amp;b&lt;c&gt;&quot;d&#39;e\u{FFFD}f\tg\nh村"
        );
        assert_eq!(esc(""), "");
    }

    #[test]
    fn escapes_cell_text_everywhere() {
        let f = finding(
            Code::NAME_FORMAT,
            Some("<b>村</b>"),
            "</td><script>alert(1)</script>",
        );
        let h = render(&report(vec![f]), &[], &[("在校\"本县\"".into(), 3)], false);
        assert!(!h.contains("<script>alert"), "raw script in page");
        assert!(h.contains("&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(h.contains("data-village=\"&lt;b&gt;村&lt;/b&gt;\""));
        assert!(h.contains("data-status=\"在校&quot;本县&quot;\""));
        // Exactly one script element: ours.
        assert_eq!(h.matches("<script").count(), 1);
    }

    #[test]
    fn masks_ids_only_when_asked() {
        let f = finding(Code::ID_CHECKSUM, Some("甲村"), "610922201005031235");
        let r = report(vec![f]);
        let masked = render(&r, &[], &[], true);
        assert!(!masked.contains("610922201005031235"));
        assert!(!masked.contains("610922201005031234"));
        assert!(masked.contains("610922***********5"), "masked form shown");
        let open = render(&r, &[], &[], false);
        assert!(open.contains("610922201005031235"));
        assert!(open.contains("610922201005031234"));
    }

    #[test]
    fn self_contained_and_counts_in_data_attributes() {
        let fs = vec![
            finding(Code::ID_CHECKSUM, Some("甲村"), "x"),
            finding(Code::ID_CHECKSUM, None, "y"),
            finding(Code::DROPOUT, Some("乙村"), "z"),
        ];
        let h = render_with_township(&report(fs), Some("熨斗镇"), &[], &[], true);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<html lang=\"zh-CN\">"));
        assert!(h.contains("<title>熨斗镇 2022—2023学年 控辍保学核对报告</title>"));
        for bad in ["http://", "https://", "<link", "src=", "@import", "url("] {
            assert!(!h.contains(bad), "external reference {bad}");
        }
        assert!(h.contains("data-errors=\"2\" data-warnings=\"0\" data-notices=\"1\""));
        assert!(h.contains("data-ready=\"false\""));
        assert!(h.contains("data-count=\"2\" data-code=\"ID_CHECKSUM\""));
        assert!(h.contains("data-count=\"1\" data-code=\"DROPOUT\""));
        assert_eq!(h.matches("<tr class=").count(), 3);
        assert!(h.contains("<option value=\"（未填村）\">"));
    }

    #[test]
    fn url_component_matches_encode_uri_component() {
        assert_eq!(url_component("甲村 1"), "%E7%94%B2%E6%9D%91%201");
        assert_eq!(url_component("A-b_c.d"), "A-b_c.d");
    }

    #[test]
    fn bar_widths_scale_to_the_largest() {
        assert_eq!(pct(50, 200), "25.0");
        assert_eq!(pct(3, 0), "0");
        assert_eq!(pct(7, 7), "100.0");
    }
}
