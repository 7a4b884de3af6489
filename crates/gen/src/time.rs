//! CloudTrail's time formats, from Unix milliseconds.

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn from_ms(ms: i64) -> Self {
        let secs = ms.div_euclid(1000);
        let (year, month, day) = civil(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400) as u32;
        Self {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
        }
    }

    /// `2026-01-15T10:30:00Z`, as `eventTime`.
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2026/01/15`, as in log object keys.
    pub fn path(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }

    /// `20260115T1030Z`, as in log file names.
    pub fn compact_minutes(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    /// `20260115T103000Z`, as in digest file names.
    pub fn compact_seconds(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
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
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
