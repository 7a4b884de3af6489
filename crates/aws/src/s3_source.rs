//! `s3://bucket/prefix` → CloudTrail objects, each streamed as it arrives.
//!
//! Listing prunes by the date in the key (`…/CloudTrail/REGION/YYYY/MM/DD/`)
//! before anything is fetched, and skips digest and insight objects. Objects
//! are fetched a few at a time ahead of the reader, each through a small
//! bounded channel, so memory stays flat whatever the object sizes.

use crate::error::CallError;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::{self, Read};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// The client a log object is read with, in its bucket's region.
pub use aws_sdk_s3::Client as S3Client;

/// Parses `s3://bucket/prefix`.
pub fn parse_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, prefix))
}

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub size: u64,
}

impl Object {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// Dates (`YYYY-MM-DD`) to keep, inclusive; either end may be open.
#[derive(Debug, Clone, Default)]
pub struct DateRange {
    pub first: Option<String>,
    pub last: Option<String>,
}

impl DateRange {
    /// From `--since`/`--until` times, widened by a day on each side: a
    /// log file's key carries its delivery date, which can follow the
    /// events' by minutes across midnight, and time zones never matter.
    pub fn around(since: Option<&str>, until: Option<&str>) -> Self {
        let shift = |t: &str, days: i64| -> Option<String> {
            let date: jiff::civil::Date = t.get(..10)?.parse().ok()?;
            let d = date.checked_add(jiff::Span::new().days(days)).ok()?;
            Some(d.to_string())
        };
        Self {
            first: since.and_then(|t| shift(t, -1)),
            last: until.and_then(|t| shift(t, 1)),
        }
    }

    fn contains(&self, date: &str) -> bool {
        self.first.as_deref().is_none_or(|f| date >= f)
            && self.last.as_deref().is_none_or(|l| date <= l)
    }
}

pub use tagwarden_core::trust::log_key_date as key_date;

/// Whether a listed key is a CloudTrail log worth fetching.
pub fn wanted(key: &str, dates: &DateRange) -> bool {
    if key.contains("/CloudTrail-Digest/")
        || key.contains("/CloudTrail-Insight/")
        || key.ends_with('/')
        || !(key.ends_with(".json.gz") || key.ends_with(".json"))
    {
        return false;
    }
    // A key without a date (a hand-made prefix) is never pruned.
    key_date(key).is_none_or(|d| dates.contains(&d))
}

/// Lists the log objects under `prefix`, in key order.
pub async fn list(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    dates: &DateRange,
) -> Result<Vec<Object>, CallError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .max_keys(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            if wanted(key, dates) {
                out.push(Object {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
            }
        }
    }
    Ok(out)
}

/// The region a bucket lives in (`GetBucketLocation` answers from any
/// region); `None` when it cannot be asked.
pub async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    let out = client
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    Some(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

/// Chunks buffered per object: with the SDK's chunk sizes, well under a
/// megabyte per object in flight.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A blocking `Read` over an object's body, fed by a task on the runtime.
pub struct ObjectReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Starts fetching `object` on `runtime`; the reader yields its bytes.
pub fn open(runtime: &Handle, client: aws_sdk_s3::Client, object: &Object) -> ObjectReader {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (bucket, key) = (object.bucket.clone(), object.key.clone());
    runtime.spawn(async move {
        let body = match client.get_object().bucket(&bucket).key(&key).send().await {
            Ok(out) => out.body,
            Err(e) => {
                let e = crate::error::from_sdk(e);
                let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
                return;
            }
        };
        let mut body = body;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    // The reader went away (e.g. it stopped early): stop.
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    ObjectReader {
        rx,
        current: Bytes::new(),
    }
}

/// Keeps up to `ahead` objects downloading while the current one is read.
pub struct Prefetch {
    runtime: Handle,
    pending: VecDeque<(aws_sdk_s3::Client, Object)>,
    started: VecDeque<(Object, ObjectReader)>,
    ahead: usize,
}

impl Prefetch {
    /// Each object with the client for its bucket's region.
    pub fn new(runtime: Handle, objects: Vec<(aws_sdk_s3::Client, Object)>, ahead: usize) -> Self {
        Self {
            runtime,
            pending: objects.into(),
            started: VecDeque::new(),
            ahead: ahead.max(1),
        }
    }
}

impl Iterator for Prefetch {
    type Item = (Object, ObjectReader);

    fn next(&mut self) -> Option<Self::Item> {
        while self.started.len() < self.ahead {
            let Some((client, o)) = self.pending.pop_front() else {
                break;
            };
            let reader = open(&self.runtime, client, &o);
            self.started.push_back((o, reader));
        }
        self.started.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_bucket_and_prefix() {
        assert_eq!(parse_url("s3://b/AWSLogs/"), Some(("b", "AWSLogs/")));
        assert_eq!(parse_url("s3://b"), Some(("b", "")));
        assert_eq!(parse_url("s3:///x"), None);
        assert_eq!(parse_url("/tmp/x"), None);
    }

    #[test]
    fn dates_come_from_both_key_layouts() {
        assert_eq!(
            key_date("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/15/x.json.gz").as_deref(),
            Some("2026-01-15")
        );
        assert_eq!(
            key_date("p/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/02/01/x.json.gz")
                .as_deref(),
            Some("2026-02-01")
        );
        assert_eq!(key_date("logs/x.json.gz"), None);
    }

    #[test]
    fn listing_skips_digests_insights_and_days_outside_the_window() {
        let dates = DateRange::around(Some("2026-01-15T10:00:00Z"), Some("2026-01-16T00:00:00Z"));
        let key = |d: &str| format!("AWSLogs/1/CloudTrail/us-east-1/{d}/1_CloudTrail_x.json.gz");
        assert!(wanted(&key("2026/01/15"), &dates));
        // A day either side is kept: delivery can cross midnight.
        assert!(wanted(&key("2026/01/14"), &dates));
        assert!(wanted(&key("2026/01/17"), &dates));
        assert!(!wanted(&key("2026/01/13"), &dates));
        assert!(!wanted(&key("2026/01/18"), &dates));
        assert!(!wanted(
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/01/15/1_CloudTrail-Digest_x.json.gz",
            &dates
        ));
        assert!(!wanted(
            "AWSLogs/1/CloudTrail-Insight/us-east-1/2026/01/15/x.json.gz",
            &dates
        ));
        assert!(!wanted(
            "AWSLogs/1/CloudTrail/us-east-1/2026/01/15/",
            &dates
        ));
        assert!(wanted("hand-made/x.json", &dates));
        assert!(wanted(&key("2020/01/01"), &DateRange::default()));
    }
}
