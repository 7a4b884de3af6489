//! A distributed backfill's request, before anything starts: which prefix
//! the template's Distributed Map lists, which days of logs it reads, and
//! what the function's share will cost (design.md, `tagwarden backfill`).

use serde_json::{json, Value};

/// Log objects per function invocation: the template's `MaxItemsPerBatch`
/// (a deploy test keeps them equal).
pub const ITEMS_PER_BATCH: u64 = 20;

/// Gzip bytes the pipeline reads per second of one core, measured: the
/// 200k-record benchmark log (76.5 MB) in 0.607 s (docs/benchmarks.md).
pub const GZIP_BYTES_PER_CORE_SECOND: f64 = 126.0e6;

/// The share of a core a 128 MB function gets: Lambda gives one vCPU at
/// 1,769 MB, and CPU in proportion to memory.
pub const CORE_AT_128_MB: f64 = 128.0 / 1769.0;

/// Lambda's x86 prices (us-east-1): per GB-second, and per request.
pub const USD_PER_GB_SECOND: f64 = 0.000_016_666_7;
pub const USD_PER_REQUEST: f64 = 0.000_000_2;

/// What the Map's execution input says.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub prefix: String,
    /// The days of log keys read (`YYYY-MM-DD`); `None` is open.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub max_concurrency: u32,
    pub tolerated_failure_percentage: f64,
}

impl Request {
    /// For `--since`/`--until` over `prefix`: the days of keys widened by
    /// one on each side, as a log's key carries its delivery date, which
    /// can follow its events' across midnight. Logs are read whole, so a
    /// backfill covers whole days. When the prefix ends at a region
    /// (`…/CloudTrail/<region>/`), the listing is narrowed to the date
    /// path the days share (`2026/`, `2026/01/`); `today` closes an open
    /// range for that.
    pub fn new(
        prefix: &str,
        since: &str,
        until: Option<&str>,
        today: &str,
    ) -> Result<Self, String> {
        let day = |t: &str, shift: i64| -> Result<String, String> {
            let date: jiff::civil::Date = t
                .get(..10)
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| format!("`{t}` is not a time or date"))?;
            date.checked_add(jiff::Span::new().days(shift))
                .map(|d| d.to_string())
                .map_err(|e| e.to_string())
        };
        let first = day(since, -1)?;
        let last = until.map(|u| day(u, 1)).transpose()?;
        let end = match &last {
            Some(l) => l.clone(),
            None => day(today, 0)?,
        };
        if end < first {
            return Err(format!("--until is before --since ({end} < {first})"));
        }
        let mut prefix = prefix.to_string();
        if at_region(&prefix) {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (first.split('-').collect(), end.split('-').collect());
            for (x, y) in a.iter().zip(&b) {
                if x != y {
                    break;
                }
                prefix.push_str(x);
                prefix.push('/');
            }
        }
        Ok(Request {
            prefix,
            first_day: Some(first),
            last_day: last,
            max_concurrency: 10,
            tolerated_failure_percentage: 0.0,
        })
    }

    /// The execution's input, as the template's state machine reads it.
    pub fn input(&self) -> Value {
        json!({
            "Prefix": self.prefix,
            "FirstDay": self.first_day,
            "LastDay": self.last_day,
            "MaxConcurrency": self.max_concurrency,
            "ToleratedFailurePercentage": self.tolerated_failure_percentage,
        })
    }
}

/// `…/CloudTrail/<region>/`: a prefix whose next segment is the year.
fn at_region(prefix: &str) -> bool {
    let Some(rest) = prefix
        .split_once("/CloudTrail/")
        .map(|(_, r)| r)
        .or_else(|| prefix.strip_prefix("CloudTrail/"))
    else {
        return false;
    };
    let mut parts = rest.split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(r), Some(""), None) if !r.is_empty())
}

/// The function's share of a backfill, from the measured reading speed: a
/// floor, as the tag calls' time comes on top (they are few per log).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub objects: u64,
    pub bytes: u64,
    pub invocations: u64,
    pub gb_seconds: f64,
    pub usd: f64,
}

impl Estimate {
    pub fn of(objects: u64, bytes: u64) -> Self {
        let invocations = objects.div_ceil(ITEMS_PER_BATCH);
        let seconds = bytes as f64 / (GZIP_BYTES_PER_CORE_SECOND * CORE_AT_128_MB);
        let gb_seconds = seconds * 0.125;
        Estimate {
            objects,
            bytes,
            invocations,
            gb_seconds,
            usd: gb_seconds * USD_PER_GB_SECOND + invocations as f64 * USD_PER_REQUEST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/";

    #[test]
    fn the_listing_narrows_to_the_days_the_range_shares() {
        let r = Request::new(
            REGION,
            "2026-01-15T10:00:00Z",
            Some("2026-01-20"),
            "2026-12-06",
        )
        .unwrap();
        assert_eq!(r.prefix, format!("{REGION}2026/01/"));
        assert_eq!(r.first_day.as_deref(), Some("2026-01-14"));
        assert_eq!(r.last_day.as_deref(), Some("2026-01-21"));
        let r = Request::new(REGION, "2026-01-15", Some("2026-01-15"), "2026-12-06").unwrap();
        assert_eq!(r.prefix, format!("{REGION}2026/01/"));
        let r = Request::new(REGION, "2026-03-02", None, "2026-03-02").unwrap();
        assert_eq!(r.prefix, format!("{REGION}2026/03/"));
        assert_eq!(r.last_day, None);
        let r = Request::new(REGION, "2025-12-30", Some("2026-01-02"), "2026-12-06").unwrap();
        assert_eq!(r.prefix, REGION);
        // Not at a region: the prefix is the user's.
        let r = Request::new("AWSLogs/", "2026-01-15", None, "2026-12-06").unwrap();
        assert_eq!(r.prefix, "AWSLogs/");
        assert!(Request::new(REGION, "2026-02-01", Some("2026-01-01"), "2026-12-06").is_err());
        assert!(Request::new(REGION, "soon", None, "2026-12-06").is_err());
        assert_eq!(
            r.input(),
            json!({"Prefix": "AWSLogs/", "FirstDay": "2026-01-14", "LastDay": null,
                   "MaxConcurrency": 10, "ToleratedFailurePercentage": 0.0})
        );
    }

    #[test]
    fn the_estimate_follows_the_measured_speed() {
        let e = Estimate::of(41, 76_500_000);
        assert_eq!(e.invocations, 3);
        // 76.5 MB at 126 MB/s of a core, 7.2% of a core: 8.4 s, 1.05 GB-s.
        assert!((e.gb_seconds - 1.048).abs() < 0.01, "{e:?}");
        assert!(e.usd > 0.0 && e.usd < 0.001, "{e:?}");
    }
}
