//! Helpers for the HTML report test: fake IDs and a headless Chromium runner.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fake 18-digit ID for county 610922 with a correct GB 11643 check digit.
pub fn fake_id(birth: &str, seq: u32) -> String {
    let body = format!("610922{birth}{:03}", seq % 1000);
    assert_eq!(body.len(), 17, "birth must be YYYYMMDD");
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// The Chromium binary: `$TAIZHANG_CHROMIUM` or /usr/bin/chromium. Panics
/// (the test fails, it does not skip) when it is missing.
pub fn chromium() -> PathBuf {
    let p = std::env::var_os("TAIZHANG_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.exists(),
        "headless Chromium not found at {} (install it with `apt-get install -y chromium`, or set TAIZHANG_CHROMIUM)",
        p.display()
    );
    p
}

/// `file://` URL of an absolute path, percent-encoded, with an optional `#fragment`.
pub fn file_url(path: &Path, fragment: &str) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// Run headless Chromium on `url` with `extra` flags, in a fresh profile,
/// offline. Returns stdout. Fails the test on timeout or a non-zero exit.
pub fn run_chromium(url: &str, extra: &[String]) -> String {
    let profile = tempfile::tempdir().expect("temp profile dir");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--virtual-time-budget=2000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait chromium") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}) on {url}:\n{}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8(stdout).expect("utf-8 DOM")
}

/// The DOM after the page's script ran.
pub fn dump_dom(url: &str) -> String {
    let dom = run_chromium(url, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("</html>"),
        "no DOM dumped for {url}: {dom:.300}"
    );
    dom
}

/// Take a screenshot of `url` into `png` at 1280×2000.
pub fn screenshot(url: &str, png: &Path) {
    run_chromium(
        url,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".to_string(),
        ],
    );
}
