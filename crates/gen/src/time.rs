//! CloudTrail's time formats, from Unix milliseconds, through `jiff`.

use jiff::civil::DateTime;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A UTC instant, to the second (milliseconds are dropped, rounding down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc(DateTime);

impl Utc {
    /// # Panics
    ///
    /// If `ms` is outside the years -9999..=9999 that `jiff` spans.
    pub fn from_ms(ms: i64) -> Self {
        let ts = Timestamp::from_millisecond(ms)
            .unwrap_or_else(|e| panic!("{ms} ms is not a supported instant: {e}"));
        Self(ts.to_zoned(TimeZone::UTC).datetime())
    }

    /// Formats with `strftime` directives.
    pub fn format<'f>(&self, fmt: &'f str) -> strtime::Display<'f> {
        self.0.strftime(fmt)
    }

    /// `2026-01-15T10:30:00Z`, as `eventTime`.
    pub fn iso(&self) -> String {
        self.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `2026/01/15`, as in log object keys.
    pub fn path(&self) -> String {
        self.format("%Y/%m/%d").to_string()
    }

    /// `20260115T1030Z`, as in log file names.
    pub fn compact_minutes(&self) -> String {
        self.format("%Y%m%dT%H%MZ").to_string()
    }

    /// `20260115T103000Z`, as in digest file names.
    pub fn compact_seconds(&self) -> String {
        self.format("%Y%m%dT%H%M%SZ").to_string()
    }

    /// `Jan 15, 2026, 10:30:00 AM`, as STS credentials' `expiration`.
    pub fn expiration(&self) -> String {
        self.format("%b %-d, %Y, %-I:%M:%S %p").to_string()
    }
}

pub fn iso(ms: i64) -> String {
    Utc::from_ms(ms).iso()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        // 2026-01-15T10:30:00Z
        let t = Utc::from_ms(1_768_473_000_000);
        assert_eq!(t.iso(), "2026-01-15T10:30:00Z");
        assert_eq!(t.path(), "2026/01/15");
        assert_eq!(t.compact_minutes(), "20260115T1030Z");
        assert_eq!(t.compact_seconds(), "20260115T103000Z");
        assert_eq!(t.expiration(), "Jan 15, 2026, 10:30:00 AM");
        assert_eq!(
            t.format("year=%Y/month=%m/day=%d").to_string(),
            "year=2026/month=01/day=15"
        );
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
        // Milliseconds are dropped, before the epoch too.
        assert_eq!(iso(1_768_473_000_999), "2026-01-15T10:30:00Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn expiration_uses_a_12_hour_clock() {
        let at = |s: &str| Utc::from_ms(s.parse::<Timestamp>().unwrap().as_millisecond());
        assert_eq!(
            at("2026-03-05T00:07:09Z").expiration(),
            "Mar 5, 2026, 12:07:09 AM"
        );
        assert_eq!(
            at("2026-12-25T12:00:00Z").expiration(),
            "Dec 25, 2026, 12:00:00 PM"
        );
        assert_eq!(
            at("2026-07-04T23:59:59Z").expiration(),
            "Jul 4, 2026, 11:59:59 PM"
        );
    }
}
