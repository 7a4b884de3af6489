//! findings → one self-contained HTML page: compliance by resource type,
//! region, account and owner as SVG bar charts, then the violations. No
//! script and no fetch, so it opens offline, in a mail attachment or an
//! S3 console preview alike. Tag values are attacker-controlled: every
//! value passes through the escaper.

use crate::compliance::Finding;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Bars per chart; the rest are summed into one "others" bar.
const BARS_MAX: usize = 12;
/// Violations listed; the JSON, CSV or scan log holds them all.
const ROWS_MAX: usize = 5_000;
/// Tags that name an owner, first found wins.
const OWNER_KEYS: &[&str] = &["Owner", "CreatedBy"];

pub const COMPLIANT_COLOUR: &str = "#2e7d32";
pub const NON_COMPLIANT_COLOUR: &str = "#c62828";

/// What the page says about the run itself.
pub struct Meta<'m> {
    pub scan_id: &'m str,
    pub scanned_at: &'m str,
    pub regions: &'m [String],
}

#[derive(Default, Clone, Copy)]
struct Counts {
    ok: usize,
    bad: usize,
}

fn owner(f: &Finding) -> &str {
    OWNER_KEYS
        .iter()
        .find_map(|k| f.tags.get(*k).filter(|v| !v.is_empty()))
        .map_or("(no owner tag)", String::as_str)
}

/// Groups by `key`, worst first, the tail folded into "others".
fn group<'f>(
    findings: &'f [Finding],
    key: impl Fn(&'f Finding) -> &'f str,
) -> Vec<(String, Counts)> {
    let mut by: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in findings {
        let c = by.entry(key(f)).or_default();
        if f.verdict.compliant {
            c.ok += 1;
        } else {
            c.bad += 1;
        }
    }
    let mut rows: Vec<(String, Counts)> = by.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
    rows.sort_by(|a, b| b.1.bad.cmp(&a.1.bad).then(a.0.cmp(&b.0)));
    if rows.len() > BARS_MAX {
        let rest = rows.split_off(BARS_MAX - 1);
        let sum = rest.iter().fold(Counts::default(), |s, (_, c)| Counts {
            ok: s.ok + c.ok,
            bad: s.bad + c.bad,
        });
        rows.push((format!("{} others", rest.len()), sum));
    }
    rows
}

/// A horizontal stacked bar chart: one bar per group, compliant then not.
fn chart(out: &mut String, title: &str, rows: &[(String, Counts)]) {
    const LABEL_W: usize = 230;
    const BAR_W: usize = 360;
    const ROW_H: usize = 24;
    let height = ROW_H * rows.len().max(1) + 8;
    let widest = rows
        .iter()
        .map(|(_, c)| c.ok + c.bad)
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = write!(
        out,
        "<figure class=\"chart\"><figcaption>{}</figcaption>\
         <svg role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{height}\" \
         viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        text(title),
        attr(title),
        LABEL_W + BAR_W + 90,
        LABEL_W + BAR_W + 90,
    );
    for (n, (label, c)) in rows.iter().enumerate() {
        let y = n * ROW_H + 4;
        let ok_w = c.ok * BAR_W / widest;
        let bad_w = c.bad * BAR_W / widest;
        // Labels are cut by characters, never inside one.
        let short: String = if label.chars().count() > 34 {
            let head: String = label.chars().take(33).collect();
            format!("{head}…")
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            "<g><title>{}: {} compliant, {} not</title>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{ok_w}\" height=\"18\" fill=\"{COMPLIANT_COLOUR}\"/>\
             <rect x=\"{}\" y=\"{y}\" width=\"{bad_w}\" height=\"18\" fill=\"{NON_COMPLIANT_COLOUR}\"/>\
             <text x=\"{}\" y=\"{}\">{} / {}</text></g>",
            text(label),
            c.ok,
            c.bad,
            LABEL_W - 6,
            y + 14,
            text(&short),
            LABEL_W + ok_w,
            LABEL_W + ok_w + bad_w + 6,
            y + 14,
            c.ok,
            c.bad,
        );
    }
    out.push_str("</svg></figure>");
}

fn problems(f: &Finding) -> String {
    let v = &f.verdict;
    let mut parts = Vec::new();
    if !v.missing.is_empty() {
        parts.push(format!("missing {}", v.missing.join(", ")));
    }
    for (k, val) in &v.invalid {
        parts.push(format!("{k}={val} not allowed"));
    }
    for (found, want) in &v.wrong_case {
        parts.push(format!("{found} should be {want}"));
    }
    if !v.prohibited.is_empty() {
        parts.push(format!("prohibited {}", v.prohibited.join(", ")));
    }
    parts.join("; ")
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:22px}.sum{display:flex;gap:24px;margin:12px 0 20px}\
.sum div{padding:10px 16px;border-radius:6px;background:#f3f3f3}\
.sum b{display:block;font-size:22px}.ok b{color:#2e7d32}.bad b{color:#c62828}\
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0;border:1px solid #ddd;\
border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}\
svg text{font:12px system-ui,sans-serif;fill:#333}table{border-collapse:collapse;\
margin-top:12px;font-size:13px}th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;\
text-align:left;vertical-align:top}td{white-space:nowrap}td.arn,td.why{white-space:normal}td.arn{font-family:monospace;word-break:break-all}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;\
vertical-align:middle}";

/// The whole page.
pub fn html(findings: &[Finding], meta: &Meta<'_>) -> String {
    let bad: Vec<&Finding> = findings.iter().filter(|f| !f.verdict.compliant).collect();
    let total = findings.len();
    let share = if total == 0 {
        100.0
    } else {
        (total - bad.len()) as f64 * 100.0 / total as f64
    };
    let mut out = String::with_capacity(16 * 1024 + bad.len().min(ROWS_MAX) * 300);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Tag compliance {}</title><style>{STYLE}</style></head><body>\
         <h1>Tag compliance</h1><p>Scan <code>{}</code> at {} over {}.</p>\
         <div class=\"sum\"><div>Resources<b>{total}</b></div>\
         <div class=\"ok\">Compliant<b>{}</b></div>\
         <div class=\"bad\">Non-compliant<b>{}</b></div>\
         <div>Compliance<b>{share:.1}%</b></div></div>\
         <p class=\"legend\"><span style=\"background:{COMPLIANT_COLOUR}\"></span>compliant\
         <span style=\"background:{NON_COMPLIANT_COLOUR}\"></span>non-compliant</p>\
         <div class=\"charts\">",
        text(meta.scanned_at),
        text(meta.scan_id),
        text(meta.scanned_at),
        text(&meta.regions.join(", ")),
        total - bad.len(),
        bad.len(),
    );
    chart(
        &mut out,
        "By resource type",
        &group(findings, |f| &f.resource_type),
    );
    chart(&mut out, "By region", &group(findings, |f| &f.region));
    chart(&mut out, "By account", &group(findings, |f| &f.account));
    chart(&mut out, "By owner", &group(findings, owner));
    let _ = write!(
        out,
        "</div><h2>Violations ({})</h2><table><thead><tr><th>Resource</th><th>Type</th>\
         <th>Region</th><th>Account</th><th>Owner</th><th>Problems</th></tr></thead><tbody>",
        bad.len()
    );
    for f in bad.iter().take(ROWS_MAX) {
        let _ = write!(
            out,
            "<tr><td class=\"arn\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"why\">{}</td></tr>",
            text(&f.arn),
            text(&f.resource_type),
            text(&f.region),
            text(&f.account),
            text(owner(f)),
            text(&problems(f)),
        );
    }
    out.push_str("</tbody></table>");
    if bad.len() > ROWS_MAX {
        let _ = write!(
            out,
            "<p>{} more violations are not listed here; `--format json` or the scan log holds them all.</p>",
            bad.len() - ROWS_MAX
        );
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Verdict;

    fn finding(arn: &str, ty: &str, ok: bool, tags: &[(&str, &str)]) -> Finding {
        Finding {
            arn: arn.into(),
            resource_type: ty.into(),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            verdict: Verdict {
                compliant: ok,
                missing: if ok { vec![] } else { vec!["Owner".into()] },
                ..Verdict::default()
            },
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn page(findings: &[Finding]) -> String {
        html(
            findings,
            &Meta {
                scan_id: "s1",
                scanned_at: "2026-11-24T10:00:00Z",
                regions: &["eu-west-1".into()],
            },
        )
    }

    #[test]
    fn tag_values_cannot_inject_markup() {
        let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
        let page = page(&[finding(
            &format!("arn:aws:s3:::{evil}"),
            "s3:bucket",
            false,
            &[("CreatedBy", evil)],
        )]);
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn no_resource_is_fetched_from_anywhere() {
        let page = page(&[finding("arn:1", "ec2:instance", true, &[])]);
        for needle in ["http://", "https://", "<script", "<link", "src="] {
            let hits: Vec<_> = page.match_indices(needle).collect();
            // The SVG namespace is an identifier, not a fetch.
            let real = hits
                .iter()
                .filter(|(i, _)| !page[*i..].starts_with("http://www.w3.org/2000/svg"))
                .count();
            assert_eq!(real, 0, "{needle} in the page");
        }
    }

    #[test]
    fn charts_count_each_group_and_fold_the_tail() {
        let mut f: Vec<Finding> = (0..20)
            .map(|n| {
                finding(
                    &format!("arn:{n}"),
                    &format!("svc:t{n:02}"),
                    n % 3 == 0,
                    &[("Owner", "team-a")],
                )
            })
            .collect();
        f.push(finding("arn:x", "svc:t00", false, &[]));
        let rows = group(&f, |f| &f.resource_type);
        assert_eq!(rows.len(), BARS_MAX);
        assert_eq!(rows.last().unwrap().0, "9 others");
        let sum: usize = rows.iter().map(|(_, c)| c.ok + c.bad).sum();
        assert_eq!(sum, 21);
        let owners = group(&f, owner);
        assert!(owners
            .iter()
            .any(|(k, c)| k == "(no owner tag)" && c.bad == 1 && c.ok == 0));
        let page = page(&f);
        assert_eq!(page.matches("<figure class=\"chart\">").count(), 4);
        assert!(page.contains("Violations (14)"), "{page}");
        assert!(page.contains("missing Owner"));
    }
}
