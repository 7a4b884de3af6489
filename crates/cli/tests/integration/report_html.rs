//! `scan --format html` opened in headless Chromium: the screenshot must
//! show the charts' compliant and non-compliant bars, drawn from the page
//! alone (it fetches nothing).

use crate::moto::world_py;
use crate::support::{tagwarden, temp_dir};
use std::path::Path;
use std::process::Command;

/// The report's bar colours (`tagwarden_core::report::html`).
const COMPLIANT: [u8; 3] = [0x2e, 0x7d, 0x32];
const NON_COMPLIANT: [u8; 3] = [0xc6, 0x28, 0x28];

fn chromium() -> String {
    std::env::var("TAGWARDEN_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Pixels of exactly `rgb` in a PNG screenshot.
fn count(png_file: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert!(step >= 3, "an RGB screenshot: {:?}", info.color_type);
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3] == rgb)
        .count()
}

#[test]
fn the_html_report_renders_its_charts_in_headless_chromium() {
    const REGION: &str = "ap-northeast-1";
    world_py(&["compliance", REGION, "tws-html"]);
    let run = tagwarden(&["scan", "--regions", REGION, "--format", "html"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let page = &run.stdout;
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<figure class=\"chart\">").count(), 4);
    assert!(page.contains("tws-html-bare-fn"), "violations are listed");

    let dir = temp_dir("html");
    let file = dir.join("report.html");
    std::fs::write(&file, page).unwrap();
    let shot = dir.join("report.png");
    // The flags keep Chromium off the network: the page must stand alone.
    let out = Command::new(chromium())
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
            "--window-size=1400,2400",
            &format!("--user-data-dir={}", dir.join("profile").display()),
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", file.display()),
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install Debian's chromium (.ci/run does) or set TAGWARDEN_CHROMIUM",
                chromium()
            )
        });
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Four charts of 18-pixel bars: each colour covers well over a few
    // hundred pixels when the SVG is drawn, and none when it is not.
    let green = count(&shot, COMPLIANT);
    let red = count(&shot, NON_COMPLIANT);
    assert!(green > 1_000, "compliant bars: {green} pixels");
    assert!(red > 1_000, "non-compliant bars: {red} pixels");
}
