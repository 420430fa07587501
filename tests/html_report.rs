//! `--html`: the report of a real run, and of a comparison, rendered by a
//! real browser (headless Chromium) with every chart drawn and no request
//! to the network. Without `chromium` on PATH the browser part is skipped
//! with a note, unless `MCLOAD_REQUIRE_CHROMIUM=1` (set by `.ci/run`)
//! makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{mcload, repo, temp_dir};

/// The charts of a run's page, by figure id.
const RUN_CHARTS: [&str; 6] = [
    "spectrum",
    "spectrum-outcomes",
    "rate",
    "latency-over-time",
    "outcomes-over-time",
    "in-flight",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The browser, or `None` (with the reason printed) when the test may
/// skip it.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert_ne!(
            std::env::var("MCLOAD_REQUIRE_CHROMIUM").as_deref(),
            Ok("1"),
            "MCLOAD_REQUIRE_CHROMIUM=1 but chromium is not on PATH"
        );
        eprintln!("skipped: chromium is not on PATH (apt-get install chromium to run this check)");
    }
    found
}

/// Runs headless Chromium on `page` with `args`, in a fresh profile, with
/// every host name made unresolvable: a page that needed the network
/// would come out incomplete. Killed after a minute.
fn browse(browser: &Path, dir: &Path, page: &Path, args: &[String]) -> Output {
    let profile = temp_dir("chromium-profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    // A failed load or a script error is logged: there must be neither.
    let log = text(&out.stderr);
    for sign in ["net::ERR_", "Uncaught", "Failed to load resource"] {
        assert!(!log.contains(sign), "{sign} in chromium's log: {log}");
    }
    out
}

/// Nothing in the file could make a browser fetch anything.
fn assert_loads_nothing(html: &str) {
    for outside in [
        "src=", "href=", "<link", "<script", "@import", "url(", "<iframe",
    ] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
}

/// The number of points the `<polyline>`s of one figure draw.
fn points_drawn(dom: &str, id: &str) -> usize {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("figure {id} is in the DOM"));
    let figure = &dom[start..start + dom[start..].find("</figure>").unwrap()];
    assert!(figure.contains("<svg"), "{id} holds an SVG");
    figure
        .split("<polyline")
        .skip(1)
        .map(|p| {
            let points = p.split("points=\"").nth(1).unwrap_or("");
            points[..points.find('"').unwrap_or(0)]
                .split_whitespace()
                .count()
        })
        .sum()
}

/// Renders the page to the DOM and checks each chart has drawn lines;
/// then, with `pixels`, to a screenshot, and checks the picture holds far
/// more than a blank page's.
fn assert_rendered(browser: &Path, dir: &Path, page: &Path, charts: &[&str], pixels: bool) {
    let dom = text(&browse(browser, dir, page, &["--dump-dom".into()]).stdout);
    assert!(dom.contains("</html>"), "a whole page: {dom}");
    for id in charts {
        let n = points_drawn(&dom, id);
        assert!(n >= 10, "{id} draws {n} points");
    }
    if !pixels {
        return;
    }
    let shot = |page: &Path, name: &str| -> u64 {
        let png = dir.join(name);
        browse(
            browser,
            dir,
            page,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1200,3000".into(),
            ],
        );
        std::fs::metadata(&png).expect("a screenshot").len()
    };
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><title>blank</title>").unwrap();
    let (ours, nothing) = (shot(page, "page.png"), shot(&blank, "blank.png"));
    assert!(
        ours > nothing * 10,
        "the screenshot ({ours} bytes) holds far more than a blank page's ({nothing} bytes)"
    );
}

/// The first promise: a real run's `--html` opens in a browser,
/// offline, with every chart drawn; and `compare --html` and `report
/// RUN.json --html` too.
#[test]
fn a_runs_html_report_renders_in_chromium_with_every_chart_and_no_network() {
    let dir = temp_dir("html-report");
    let (page, json) = (dir.join("run.html"), dir.join("run.json"));
    let out = mcload()
        .current_dir(repo())
        .args(["run", "scenarios/smoke.toml", "--quiet"])
        .args(["--rate", "300", "--duration", "1500ms", "--warmup", "300ms"])
        .args(["--invalid-share", "0.1"])
        .arg("--html")
        .arg(&page)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_loads_nothing(&html);
    for id in RUN_CHARTS {
        assert!(
            html.contains(&format!("<figure class=\"chart\" id=\"{id}\"")),
            "{id}"
        );
    }
    assert!(
        html.contains("status.400"),
        "invalid bodies have their own curve"
    );
    let compare = dir.join("compare.html");
    let out = mcload()
        .args(["compare", "--base"])
        .arg(&json)
        .arg("--cand")
        .arg(&json)
        .arg("--html")
        .arg(&compare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let compared = std::fs::read_to_string(&compare).unwrap();
    assert_loads_nothing(&compared);
    assert!(compared.contains("<table class=\"rows\">"));
    assert!(compared.contains("base: 1 run") && compared.contains("candidate: 1 run"));

    // The saved run shown again: `mcload report RUN.json --html`.
    let again = dir.join("again.html");
    let out = mcload()
        .arg("report")
        .arg(&json)
        .arg("--html")
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown_again = std::fs::read_to_string(&again).unwrap();
    assert_loads_nothing(&shown_again);
    for id in RUN_CHARTS {
        assert!(
            shown_again.contains(&format!("<figure class=\"chart\" id=\"{id}\"")),
            "{id}"
        );
    }

    let Some(browser) = chromium() else {
        return;
    };
    assert_rendered(&browser, &dir, &page, &RUN_CHARTS, true);
    assert_rendered(&browser, &dir, &again, &RUN_CHARTS, false);
    assert_rendered(
        &browser,
        &dir,
        &compare,
        &["spectrum", "spectrum-service"],
        false,
    );
}

/// An HTML report that cannot be written after the load is exit 4, as
/// every report file is; one whose place cannot be written is found
/// before anything is sent (exit 2).
#[test]
fn an_html_report_that_cannot_be_written_exits_4_after_the_run_and_2_before() {
    let out = mcload()
        .current_dir(repo())
        .args([
            "run",
            "scenarios/smoke.toml",
            "--requests",
            "20",
            "--html",
            "/dev/full",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("cannot write the HTML report to /dev/full"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).contains("verdict"),
        "the summary still prints"
    );
    let out = mcload()
        .current_dir(repo())
        .args(["run", "scenarios/smoke.toml", "--requests", "20"])
        .args(["--html", "/nonexistent-dir/r.html"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the HTML report to /nonexistent-dir/r.html"),
        "{stderr}"
    );
}
