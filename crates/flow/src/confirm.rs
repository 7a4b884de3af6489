//! Confirmation (design.md, "Trust"): what the function acted on, checked
//! afterwards against CloudTrail's signed digests. A log object reaches the
//! function before the digest that lists it exists, and an EventBridge
//! event is never signed; so the schedule walks the digests of the days
//! they were acted on, verifies each log they list ([`crate::verify`]'s
//! walk) while reading its event ids in the same pass, and settles each
//! source: a log verified or failed, an event confirmed by a verified log
//! or, after [`GRACE`], unconfirmed. Failures and unconfirmed events are
//! alerted once each; the verdicts stay in the store as evidence.

use jiff::{SignedDuration, Timestamp, ToSpan};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use tagwarden_aws::clients::Clients;
use tagwarden_aws::digests::{list_chains, EachLog, PublicKeys, S3Objects};
use tagwarden_core::digest::{verify_chain_where, Kind, Verdict};
use tagwarden_core::pipeline::{Found, Pipeline};
use tagwarden_store::model::{Entry, Evidence, Source};
use tagwarden_store::AuditStore;

/// How long a source may wait for a digest to vouch for it: logs arrive
/// within minutes and digests hourly; three hours leave room for both.
pub const GRACE: SignedDuration = SignedDuration::from_hours(3);

/// Where CloudTrail's public keys come from.
pub enum Keys {
    /// `ListPublicKeys` in each region the digests are of.
    CloudTrail,
    /// Keys the operator pinned (`ListPublicKeys`' JSON).
    Pinned(PublicKeys),
}

impl Keys {
    /// The keys pinned in `file` (`ListPublicKeys`' JSON), else CloudTrail's.
    pub fn of(file: Option<&std::path::Path>) -> Result<Self, String> {
        match file {
            None => Ok(Self::CloudTrail),
            Some(path) => PublicKeys::from_file(path).map(Self::Pinned),
        }
    }
}

/// What one check found.
#[derive(Debug, Default)]
pub struct Confirmation {
    /// Verdicts to record.
    pub rows: Vec<Evidence>,
    /// One line per log or event the digests do not vouch for.
    pub alerts: Vec<String>,
    /// Sources still within [`GRACE`], left for the next check.
    pub waiting: usize,
}

/// A source acted on that no verdict settled yet.
#[derive(Debug, Clone)]
pub struct Open {
    pub source: Source,
    pub day: String,
    pub at: Timestamp,
    /// `ACCOUNT/REGION/EVENT_TIME` for an event.
    pub detail: String,
}

/// The sources in `rows` (one or more days' evidence) acted on and not
/// yet verified, failed, confirmed or alerted.
pub fn open(rows: &[Evidence]) -> Vec<Open> {
    let settled: HashSet<&Source> = rows
        .iter()
        .filter(|r| {
            matches!(
                r.entry,
                Entry::Verified | Entry::Failed | Entry::Confirmed | Entry::Unconfirmed
            )
        })
        .map(|r| &r.source)
        .collect();
    rows.iter()
        .filter(|r| r.entry == Entry::Acted && !settled.contains(&r.source))
        .filter_map(|r| {
            Some(Open {
                source: r.source.clone(),
                day: r.day.clone()?,
                at: r.at.parse().ok()?,
                detail: r.detail.clone(),
            })
        })
        .collect()
}

/// Where a log was written: the folder before its account (`AWSLogs/`,
/// `AWSLogs/o-…/`, or under a trail's key prefix), its account, region,
/// and the date of the folder it lies in.
fn log_place(key: &str) -> Option<(String, &str, &str, jiff::civil::Date)> {
    let (head, rest) = key.split_once("/CloudTrail/")?;
    let (base, account) = head.rsplit_once('/')?;
    let mut dirs = rest.split('/');
    let region = dirs.next()?;
    let date = format!("{}-{}-{}", dirs.next()?, dirs.next()?, dirs.next()?)
        .parse()
        .ok()?;
    Some((format!("{base}/"), account, region, date))
}

/// An event's `ACCOUNT/REGION[/EVENT_TIME]`.
fn event_place(detail: &str) -> Option<(&str, &str, Option<Timestamp>)> {
    let mut fields = detail.splitn(3, '/');
    let (account, region) = (fields.next()?, fields.next()?);
    Some((account, region, fields.next().and_then(|t| t.parse().ok())))
}

/// The digest folders that can list what is open: for each log, its own
/// account, region and date; for each event, its account, region and date
/// under every log folder acted on (`rows`; `AWSLogs/` when none). Each
/// date and the next: a digest covers the hour before it.
pub fn digest_prefixes(open: &[Open], rows: &[Evidence]) -> BTreeSet<String> {
    let mut bases: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| match &r.source {
            Source::Log { key, .. } => log_place(key).map(|p| p.0),
            Source::Event(_) => None,
        })
        .collect();
    if bases.is_empty() {
        bases.insert("AWSLogs/".into());
    }
    let mut places: BTreeSet<(String, String, String, jiff::civil::Date)> = BTreeSet::new();
    for o in open {
        match &o.source {
            Source::Log { key, .. } => {
                if let Some((base, account, region, date)) = log_place(key) {
                    places.insert((base, account.into(), region.into(), date));
                }
            }
            Source::Event(_) => {
                let Some((account, region, time)) = event_place(&o.detail) else {
                    continue;
                };
                let at = time.unwrap_or(o.at);
                let date = at.to_zoned(jiff::tz::TimeZone::UTC).date();
                for base in &bases {
                    places.insert((base.clone(), account.into(), region.into(), date));
                }
            }
        }
    }
    let mut prefixes = BTreeSet::new();
    for (base, account, region, date) in places {
        for d in [date, date.saturating_add(1.day())] {
            prefixes.insert(format!(
                "{base}{account}/CloudTrail-Digest/{region}/{}/",
                d.strftime("%Y/%m/%d")
            ));
        }
    }
    prefixes
}

/// The logs worth hashing: those acted on, and those that may hold an open
/// event (its account and region, delivered from an hour before it was
/// acted on to [`GRACE`] after). The rest of the chain's logs are not read.
#[derive(Debug, Default)]
pub struct Relevant {
    logs: HashSet<String>,
    windows: Vec<(String, String, Timestamp, Timestamp)>,
}

impl Relevant {
    pub fn of(open: &[Open]) -> Self {
        let mut r = Relevant::default();
        for o in open {
            match &o.source {
                Source::Log { key, .. } => {
                    r.logs.insert(key.clone());
                }
                Source::Event(_) => {
                    if let Some((account, region, time)) = event_place(&o.detail) {
                        // From the event's own time when the row holds it.
                        let at = time.unwrap_or(o.at);
                        r.windows.push((
                            account.to_string(),
                            region.to_string(),
                            at - SignedDuration::from_hours(1),
                            at + GRACE,
                        ));
                    }
                }
            }
        }
        r
    }

    /// Whether the log at `key` is worth hashing.
    pub fn admits(&self, key: &str) -> bool {
        if self.logs.contains(key) {
            return true;
        }
        let Some((account, region, at)) = log_name(key) else {
            return false;
        };
        self.windows
            .iter()
            .any(|(a, r, from, to)| a == account && r == region && (*from..=*to).contains(&at))
    }
}

/// `…/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz` → its
/// account, region and delivery time.
fn log_name(key: &str) -> Option<(&str, &str, Timestamp)> {
    let name = key.rsplit('/').next()?;
    let mut fields = name.split('_');
    let (account, kind, region, stamp) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if kind != "CloudTrail" {
        return None;
    }
    let at = jiff::civil::DateTime::strptime("%Y%m%dT%H%MZ", stamp)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp();
    Some((account, region, at))
}

/// Settles the open sources from the verdicts of the digest walk and the
/// event ids each log held (id → log URL, of every log read). A digest
/// that fails is recorded and alerted once: `rows` (the days' evidence)
/// hold the ones already alerted.
pub fn judge(
    open: &[Open],
    rows: &[Evidence],
    verdicts: &[Verdict],
    ids: &HashMap<String, String>,
    now: Timestamp,
) -> Confirmation {
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let today = now.strftime("%Y-%m-%d").to_string();
    let alerted: HashSet<&Source> = rows
        .iter()
        .filter(|r| r.entry == Entry::Failed)
        .map(|r| &r.source)
        .collect();
    // Each log's verdict, with the digest that listed it.
    let mut logs: HashMap<String, (Option<String>, String)> = HashMap::new();
    let mut digest = String::new();
    let mut out = Confirmation::default();
    for v in verdicts {
        match v.kind {
            Kind::Digest => {
                digest = v.url();
                let source = Source::log(&v.bucket, &v.key);
                if let Some(p) = v.problem.as_ref().filter(|_| !alerted.contains(&source)) {
                    out.alerts.push(format!("digest {}: {p}", v.url()));
                    out.rows.push(Evidence {
                        source,
                        entry: Entry::Failed,
                        day: Some(today.clone()),
                        at: at.clone(),
                        detail: p.to_string(),
                    });
                }
            }
            Kind::Log => {
                logs.insert(
                    v.url(),
                    (v.problem.as_ref().map(|p| p.to_string()), digest.clone()),
                );
            }
        }
    }
    let verified = |url: &str| matches!(logs.get(url), Some((None, _)));
    for o in open {
        let overdue = now.duration_since(o.at) > GRACE;
        let row = |entry, detail: String| Evidence {
            source: o.source.clone(),
            entry,
            day: Some(o.day.clone()),
            at: at.clone(),
            detail,
        };
        let acted = o.at.strftime("%Y-%m-%dT%H:%M:%SZ");
        match &o.source {
            Source::Log { .. } => {
                let url = o.source.to_string();
                match logs.get(&url) {
                    Some((None, digest)) => out.rows.push(row(Entry::Verified, digest.clone())),
                    Some((Some(problem), _)) => {
                        out.alerts.push(format!(
                            "log {url}, acted on at {acted}: fails verification: {problem}"
                        ));
                        out.rows.push(row(Entry::Failed, problem.clone()));
                    }
                    None if overdue => {
                        let why = format!("no signed digest lists it after {}h", GRACE.as_hours());
                        out.alerts
                            .push(format!("log {url}, acted on at {acted}: {why}"));
                        out.rows.push(row(Entry::Failed, why));
                    }
                    None => out.waiting += 1,
                }
            }
            Source::Event(id) => match ids.get(id).filter(|log| verified(log)) {
                Some(log) => out.rows.push(row(Entry::Confirmed, log.clone())),
                None if overdue => {
                    out.alerts.push(format!(
                        "event {id} ({}), acted on from EventBridge at {acted}: no verified log holds it after {}h",
                        o.detail,
                        GRACE.as_hours()
                    ));
                    out.rows.push(row(Entry::Unconfirmed, String::new()));
                }
                None => out.waiting += 1,
            },
        }
    }
    out
}

/// Checks what was acted on yesterday and today (UTC) against the digests
/// in `bucket`, and records the verdicts. Only what is open is read: a day
/// with everything settled costs two queries.
pub async fn recent<S: AuditStore>(
    clients: Arc<Clients>,
    store: &S,
    keys: Keys,
    bucket: &str,
    now: Timestamp,
) -> Result<Confirmation, String> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rows = Vec::new();
    for day in [today.saturating_sub(1.day()), today] {
        let day = day.strftime("%Y-%m-%d").to_string();
        rows.extend(
            store
                .evidence_on(&day)
                .await
                .map_err(|e| format!("audit store: {e}"))?,
        );
    }
    let open = open(&rows);
    if open.is_empty() {
        return Ok(Confirmation::default());
    }
    let prefixes = digest_prefixes(&open, &rows);
    let mut key_errors = Vec::new();
    let keys = match keys {
        Keys::Pinned(k) => k,
        Keys::CloudTrail => {
            let regions: BTreeSet<String> = prefixes
                .iter()
                .filter_map(|p| p.split("/CloudTrail-Digest/").nth(1)?.split('/').next())
                .map(str::to_string)
                .collect();
            // Keys valid in the two days walked, region by region: a region
            // whose keys cannot be listed leaves its digests unverified
            // (and alerted), not the others.
            let since = now.as_second() - 2 * 86_400;
            let mut keys = PublicKeys::default();
            for region in regions {
                match PublicKeys::list(&clients, std::slice::from_ref(&region), since).await {
                    Ok(k) => keys.extend(k),
                    Err(e) => key_errors.push(format!(
                        "CloudTrail's public keys for {region} could not be listed: {e}"
                    )),
                }
            }
            keys
        }
    };
    let wanted: HashSet<String> = open
        .iter()
        .filter_map(|o| match &o.source {
            Source::Event(id) => Some(id.clone()),
            Source::Log { .. } => None,
        })
        .collect();
    let since = today
        .saturating_sub(1.day())
        .strftime("%Y-%m-%dT00:00:00Z")
        .to_string();
    let bucket = bucket.to_string();
    let relevant = Relevant::of(&open);
    let handle = tokio::runtime::Handle::current();
    let (verdicts, ids) = tokio::task::spawn_blocking(move || {
        let w = Walk {
            prefixes: &prefixes,
            since: &since,
            wanted: &wanted,
            relevant: &relevant,
        };
        walk(&handle, &clients, &keys, &bucket, &w)
    })
    .await
    .map_err(|e| format!("the digest walk stopped: {e}"))??;
    let mut out = judge(&open, &rows, &verdicts, &ids, now);
    out.alerts.extend(key_errors);
    store
        .note(&out.rows)
        .await
        .map_err(|e| format!("audit store: {e}"))?;
    Ok(out)
}

/// What one walk covers.
struct Walk<'w> {
    /// Digest folders.
    prefixes: &'w BTreeSet<String>,
    /// How far back each chain is walked.
    since: &'w str,
    /// Event ids to look for.
    wanted: &'w HashSet<String>,
    /// The logs hashed.
    relevant: &'w Relevant,
}

/// Walks the chains under each prefix back to `since`, hashing the
/// relevant logs and reading the ids of the wanted events in each as it is
/// hashed. Blocks.
fn walk(
    handle: &tokio::runtime::Handle,
    clients: &Clients,
    keys: &PublicKeys,
    bucket: &str,
    w: &Walk<'_>,
) -> Result<(Vec<Verdict>, HashMap<String, String>), String> {
    let Walk {
        prefixes,
        since,
        wanted,
        relevant,
    } = *w;
    let client = handle.block_on(clients.bucket_s3(bucket));
    // One chain spans days: its keys from every day listed.
    let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for prefix in prefixes {
        let found = handle
            .block_on(list_chains(&client, bucket, prefix))
            .map_err(|e| format!("listing s3://{bucket}/{prefix}: {e}"))?;
        for (chain, keys) in found {
            chains.entry(chain).or_default().extend(keys);
        }
    }
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut verdicts = Vec::new();
    {
        let mut objects = S3Objects {
            runtime: handle.clone(),
            clients,
            each_log: (!wanted.is_empty()).then(|| {
                Box::new(|url: &str, stream: &mut (dyn Read + Send)| {
                    Pipeline::default().read(url, stream, &mut |found| {
                        let id = match &found {
                            Found::Creation(c) => &c.event.id,
                            Found::TagChange(c) => &c.event.id,
                            Found::Watched(c) => &c.event.id,
                            _ => return,
                        };
                        if wanted.contains(id) {
                            ids.insert(id.clone(), url.to_string());
                        }
                    });
                }) as EachLog
            }),
        };
        for (_, keys_of_chain) in chains {
            verdicts.extend(verify_chain_where(
                &mut objects,
                keys,
                bucket,
                keys_of_chain,
                since,
                &|log| relevant.admits(&log.s3_object),
            ));
        }
    }
    Ok((verdicts, ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_core::digest::Problem;

    const KEY: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/05/111122223333_CloudTrail_eu-west-1_20261205T2355Z_a.json.gz";

    fn acted(source: Source, at: &str, detail: &str) -> Evidence {
        Evidence {
            source,
            entry: Entry::Acted,
            day: Some(at[..10].to_string()),
            at: at.into(),
            detail: detail.into(),
        }
    }

    fn log_verdict(key: &str, problem: Option<Problem>) -> Verdict {
        Verdict {
            kind: Kind::Log,
            bucket: "trail".into(),
            key: key.into(),
            problem,
        }
    }

    #[test]
    fn digests_are_looked_for_where_the_sources_were_written() {
        let rows = [
            acted(Source::log("trail", KEY), "2026-12-05T23:56:00Z", ""),
            acted(
                Source::Event("e1".into()),
                "2026-12-05T23:50:00Z",
                "444455556666/us-east-1",
            ),
        ];
        let prefixes: Vec<String> = digest_prefixes(&open(&rows), &rows).into_iter().collect();
        assert_eq!(
            prefixes,
            [
                "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/12/05/",
                "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/12/06/",
                "AWSLogs/444455556666/CloudTrail-Digest/us-east-1/2026/12/05/",
                "AWSLogs/444455556666/CloudTrail-Digest/us-east-1/2026/12/06/",
            ]
        );
    }

    #[test]
    fn a_failing_digest_is_alerted_once() {
        let now: Timestamp = "2026-12-06T06:00:00Z".parse().unwrap();
        let rows = vec![acted(Source::log("trail", KEY), "2026-12-06T05:00:00Z", "")];
        let forged = Verdict {
            kind: Kind::Digest,
            bucket: "trail".into(),
            key: "d-forged".into(),
            problem: Some(Problem::Signature),
        };
        let ids = HashMap::new();
        let first = judge(
            &open(&rows),
            &rows,
            std::slice::from_ref(&forged),
            &ids,
            now,
        );
        assert_eq!(
            first.alerts,
            ["digest s3://trail/d-forged: signature verification failed"]
        );
        let mut all = rows.clone();
        all.extend(first.rows);
        let again = judge(&open(&all), &all, &[forged], &ids, now);
        assert!(again.alerts.is_empty(), "{:?}", again.alerts);
    }

    #[test]
    fn only_logs_acted_on_or_near_an_open_event_are_hashed() {
        let at = "2026-12-05T23:50:00Z";
        let rows = [
            acted(Source::log("trail", KEY), at, ""),
            acted(Source::Event("e1".into()), at, "444455556666/us-east-1"),
        ];
        let r = Relevant::of(&open(&rows));
        let near = "AWSLogs/444455556666/CloudTrail/us-east-1/2026/12/06/444455556666_CloudTrail_us-east-1_20261206T0005Z_x.json.gz";
        assert!(r.admits(KEY) && r.admits(near));
        for far in [
            near.replace("20261206T0005Z", "20261206T0500Z"),
            near.replace("_us-east-1_", "_eu-west-1_"),
            near.replace("444455556666_", "111122223333_"),
            KEY.replace("_a.", "_other."),
        ] {
            assert!(!r.admits(&far), "{far}");
        }
    }

    #[test]
    fn sources_are_settled_once_and_alerted_only_when_overdue_or_failed() {
        let now: Timestamp = "2026-12-06T06:00:00Z".parse().unwrap();
        let good = Source::log("trail", KEY);
        let altered = Source::log("trail", &KEY.replace("_a.", "_b."));
        let planted = Source::log("trail", &KEY.replace("_a.", "_c."));
        let fresh = Source::log("trail", &KEY.replace("_a.", "_d."));
        let rows = vec![
            acted(good.clone(), "2026-12-06T01:00:00Z", ""),
            acted(altered.clone(), "2026-12-06T01:00:00Z", ""),
            acted(planted.clone(), "2026-12-06T01:00:00Z", ""),
            acted(fresh.clone(), "2026-12-06T05:00:00Z", ""),
            acted(Source::Event("seen".into()), "2026-12-06T01:00:00Z", "1/r"),
            acted(Source::Event("lost".into()), "2026-12-06T01:00:00Z", "1/r"),
            acted(
                Source::Event("in-altered".into()),
                "2026-12-06T01:00:00Z",
                "1/r",
            ),
            acted(
                Source::Event("recent".into()),
                "2026-12-06T05:30:00Z",
                "1/r",
            ),
        ];
        let verdicts = vec![
            Verdict {
                kind: Kind::Digest,
                bucket: "trail".into(),
                key: "d1".into(),
                problem: None,
            },
            log_verdict(KEY, None),
            log_verdict(&KEY.replace("_a.", "_b."), Some(Problem::Hash)),
        ];
        let ids = HashMap::from([
            ("seen".to_string(), good.to_string()),
            ("in-altered".to_string(), altered.to_string()),
        ]);
        let out = judge(&open(&rows), &rows, &verdicts, &ids, now);
        let entries: BTreeMap<String, Entry> = out
            .rows
            .iter()
            .map(|r| (r.source.to_string(), r.entry))
            .collect();
        assert_eq!(entries[&good.to_string()], Entry::Verified);
        assert_eq!(entries[&altered.to_string()], Entry::Failed);
        assert_eq!(entries[&planted.to_string()], Entry::Failed);
        assert_eq!(entries["event:seen"], Entry::Confirmed);
        assert_eq!(entries["event:lost"], Entry::Unconfirmed);
        // A log that fails confirms nothing.
        assert_eq!(entries["event:in-altered"], Entry::Unconfirmed);
        assert!(!entries.contains_key(&fresh.to_string()) && !entries.contains_key("event:recent"));
        assert_eq!(out.waiting, 2);
        assert_eq!(out.alerts.len(), 4, "{:?}", out.alerts);
        assert!(out
            .alerts
            .iter()
            .any(|a| a.contains("_b.json.gz") && a.contains("hash value")));
        assert!(out
            .alerts
            .iter()
            .any(|a| a.contains("_c.json.gz") && a.contains("no signed digest")));
        assert!(out.alerts.iter().any(|a| a.starts_with("event lost (1/r)")));

        // Settled sources are not open again: the next check alerts nothing new.
        let mut all = rows;
        all.extend(out.rows);
        let left: Vec<String> = open(&all).iter().map(|o| o.source.to_string()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
