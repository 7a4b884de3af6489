//! plan → tags on resources: read what is there, write only what is
//! missing, in the fewest calls, and account for every resource.
//!
//! Per (account, region, API): read current tags in batches, decide with
//! [`reconcile::decide`], cut the writes with [`batch::batches`], write.
//! Faults: throttling is the SDK's (standard retry, full jitter); here, a
//! bounded backoff with jitter for resources not visible yet and for what
//! the SDK gave up on, per-resource failures retried alone, ids a failed
//! EC2 call names as not found retried alone after the rest is written,
//! and a batch that fails as a whole on an unnamed bad id split until the
//! bad id stands alone.

use crate::adapters::{Tagger, Tags, Target};
use crate::clients::Scope;
use crate::error::{CallError, ErrorKind};
use futures::stream::{self, StreamExt};
use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tagwarden_core::batch::batches;
use tagwarden_core::catalog::TaggingApi;
pub use tagwarden_core::outcome::{Outcome, Status};
use tagwarden_core::plan::PlanItem;
use tagwarden_core::reconcile::{self, Current, Decision};

/// Bounded exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    /// About 20 s in all: long enough for a new resource to become visible
    /// to the tagging APIs.
    fn default() -> Self {
        Self {
            retries: 5,
            base: Duration::from_millis(1000),
            cap: Duration::from_secs(8),
        }
    }
}

impl Backoff {
    /// Half the exponential step, plus up to half again at random, so that
    /// many callers do not retry in step.
    pub fn delay(&self, attempt: u32) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let half = step / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Replace values someone else set (the policy's `overwrite`).
    pub overwrite: bool,
    /// Read and decide, write nothing.
    pub dry_run: bool,
    pub backoff: Backoff,
    /// (account, region, API) groups worked on at once.
    pub concurrency: usize,
    /// A resource still being created waits ([`Status::Waiting`]) rather
    /// than failing: the caller tries it again later.
    pub may_wait: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            overwrite: false,
            dry_run: false,
            backoff: Backoff::default(),
            concurrency: 8,
            may_wait: false,
        }
    }
}

type GroupKey<'p> = (&'p str, &'p str, &'p str, TaggingApi);

/// Applies `items` and returns one outcome per item, in plan order.
/// `progress` is told how many resources just finished.
pub async fn apply<T: Tagger>(
    tagger: &T,
    items: &[PlanItem],
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Outcome> {
    let mut groups: BTreeMap<GroupKey<'_>, Vec<usize>> = BTreeMap::new();
    for (n, item) in items.iter().enumerate() {
        groups
            .entry((&item.event.partition, &item.account, &item.region, item.api))
            .or_default()
            .push(n);
    }
    let mut outcomes: Vec<Outcome> = stream::iter(groups)
        .map(|((partition, account, region, api), members)| {
            let target = Target {
                scope: Scope {
                    partition,
                    account,
                    region,
                },
                api,
            };
            apply_group(tagger, target, items, members, opts, progress)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .flat_map(stream::iter)
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.item);
    outcomes
}

async fn apply_group<T: Tagger>(
    tagger: &T,
    target: Target<'_>,
    items: &[PlanItem],
    members: Vec<usize>,
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Outcome> {
    let arns: Vec<&str> = members.iter().map(|&n| items[n].arn.as_str()).collect();
    let (current, mut read_failed) = read_all(tagger, target, &arns, opts.backoff).await;
    let mut out = Vec::with_capacity(members.len());
    let mut to_write: Vec<PlanItem> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for &n in &members {
        let item = &items[n];
        let Some(now) = current.get(&item.arn) else {
            let error = read_failed.remove(&item.arn).unwrap_or_else(|| {
                CallError::of_kind(ErrorKind::Other, "NotRead", "the read did not return it")
            });
            let status = Status::failure(error, opts.may_wait);
            out.push(Outcome::new(n, item, status, Tags::new(), None));
            continue;
        };
        match reconcile::decide(item, now, opts.overwrite) {
            Decision::AlreadyTagged => out.push(Outcome::new(
                n,
                item,
                Status::AlreadyTagged,
                Tags::new(),
                Some(now),
            )),
            Decision::Full => out.push(Outcome::new(n, item, Status::Full, Tags::new(), Some(now))),
            Decision::Write(tags) if opts.dry_run => {
                out.push(Outcome::new(n, item, Status::WouldTag, tags, Some(now)))
            }
            Decision::Write(tags) => {
                index.insert(&item.arn, n);
                to_write.push(PlanItem {
                    tags,
                    ..item.clone()
                });
            }
        }
    }
    progress(out.len() as u64);
    for batch in batches(&to_write) {
        let arns: Vec<&str> = batch.items.iter().map(|i| i.arn.as_str()).collect();
        let results = write_batch(tagger, target, arns, batch.tags, opts.backoff).await;
        progress(results.len() as u64);
        for (arn, result) in results {
            let n = index[arn];
            let (status, written, request) = match result {
                Ok(request) => (Status::Tagged, batch.tags.clone(), request),
                Err(error) => (Status::failure(error, opts.may_wait), Tags::new(), None),
            };
            let mut o = Outcome::new(n, &items[n], status, written, current.get(arn));
            o.request_id = request;
            out.push(o);
        }
    }
    out
}

/// Current tags of `arns`, reads retried for what may pass (throttling,
/// 5xx, not visible yet); what still fails is returned with its error.
async fn read_all<T: Tagger>(
    tagger: &T,
    target: Target<'_>,
    arns: &[&str],
    backoff: Backoff,
) -> (HashMap<String, Current>, HashMap<String, CallError>) {
    let mut tags = HashMap::new();
    let mut failed = HashMap::new();
    let mut pending: Vec<&str> = arns.to_vec();
    let mut attempt = 0;
    while !pending.is_empty() {
        let may_retry = attempt < backoff.retries;
        let mut retry = Vec::new();
        for chunk in pending.chunks(target.api.max_read()) {
            match tagger.read(target, chunk).await {
                Ok(r) => {
                    tags.extend(r.tags);
                    for arn in chunk {
                        match r.failed.get(*arn) {
                            Some(e) if e.kind.retryable() && may_retry => retry.push(*arn),
                            Some(e) => {
                                failed.insert(arn.to_string(), e.clone());
                            }
                            None => {}
                        }
                    }
                }
                Err(e) if e.kind.retryable() && may_retry => retry.extend_from_slice(chunk),
                Err(e) => failed.extend(chunk.iter().map(|a| (a.to_string(), e.clone()))),
            }
        }
        if !retry.is_empty() {
            tokio::time::sleep(backoff.delay(attempt)).await;
        }
        pending = retry;
        attempt += 1;
    }
    (tags, failed)
}

/// Writes `tags` to `arns` in as few calls as the faults allow.
async fn write_batch<'a, T: Tagger>(
    tagger: &T,
    target: Target<'_>,
    arns: Vec<&'a str>,
    tags: &Tags,
    backoff: Backoff,
) -> Vec<(&'a str, Result<Option<String>, CallError>)> {
    let mut done = Vec::with_capacity(arns.len());
    // Calls to make: resources, retries used, and whether to pause first.
    let mut work = vec![(arns, 0u32, false)];
    while let Some((arns, attempt, pause)) = work.pop() {
        if pause {
            tokio::time::sleep(backoff.delay(attempt - 1)).await;
        }
        let may_retry = attempt < backoff.retries;
        match tagger.write(target, &arns, tags).await {
            Ok(w) => {
                let mut retry = Vec::new();
                for arn in arns {
                    match w.failed.get(arn) {
                        None => done.push((arn, Ok(w.requests.get(arn).cloned()))),
                        Some(e) if e.kind.retryable() && may_retry => retry.push(arn),
                        Some(e) => done.push((arn, Err(e.clone()))),
                    }
                }
                // Only the failed part goes again.
                if !retry.is_empty() {
                    work.push((retry, attempt + 1, true));
                }
            }
            // Ids not visible yet fail the whole call (EC2), and the error
            // names them: the rest is written at once, and they alone wait
            // a moment and go again.
            Err(e) if e.kind == ErrorKind::NotFound && arns.len() > 1 => {
                let (named, rest): (Vec<&str>, Vec<&str>) =
                    arns.iter().partition(|arn| names_id_of(&e.message, arn));
                if named.is_empty() || rest.is_empty() {
                    if may_retry {
                        work.push((arns, attempt + 1, true));
                    } else if rest.is_empty() {
                        // Every one named, and no retries left.
                        done.extend(arns.into_iter().map(|a| (a, Err(e.clone()))));
                    } else {
                        halve(&mut work, arns, backoff);
                    }
                } else {
                    if may_retry {
                        work.push((named, attempt + 1, true));
                    } else {
                        done.extend(named.into_iter().map(|a| (a, Err(e.clone()))));
                    }
                    work.push((rest, attempt, false));
                }
            }
            Err(e) if e.kind.retryable() && may_retry => {
                work.push((arns, attempt + 1, true));
            }
            // One bad id fails the whole call (EC2): halve until it stands
            // alone, without waiting again.
            Err(e)
                if arns.len() > 1
                    && matches!(e.kind, ErrorKind::NotFound | ErrorKind::Validation) =>
            {
                halve(&mut work, arns, backoff)
            }
            Err(e) => done.extend(arns.into_iter().map(|a| (a, Err(e.clone())))),
        }
    }
    done
}

/// Both halves of `arns` as calls of their own, with no retries left: a
/// bad id ends standing alone, and only it fails.
fn halve<'a>(work: &mut Vec<(Vec<&'a str>, u32, bool)>, mut arns: Vec<&'a str>, backoff: Backoff) {
    if arns.is_empty() {
        return;
    }
    let right = arns.split_off(arns.len() / 2);
    if !right.is_empty() {
        work.push((right, backoff.retries, false));
    }
    work.push((arns, backoff.retries, false));
}

/// Whether an error `message` names the resource id at the end of `arn`
/// (`The instance IDs 'i-1, i-2' do not exist`): whole, not as the start
/// of a longer id.
fn names_id_of(message: &str, arn: &str) -> bool {
    let id = arn.rsplit(['/', ':']).next().unwrap_or(arn);
    !id.is_empty()
        && message.match_indices(id).any(|(at, _)| {
            let before = message[..at].chars().next_back();
            let after = message[at + id.len()..].chars().next();
            let part_of_id =
                |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            !part_of_id(before) && !part_of_id(after)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MemoryTagger as Fake;
    use std::collections::{BTreeSet, HashSet};
    use std::sync::{Arc, Mutex};
    use tagwarden_core::attribution::IdentityType;
    use tagwarden_core::pipeline::EventInfo;
    use tagwarden_core::plan::CreatorSummary;
    use tagwarden_core::tags::{TagKey, TagValue};

    fn item(n: usize, region: &str, api: TaggingApi) -> PlanItem {
        PlanItem {
            arn: format!("arn:aws:ec2:{region}:1:instance/i-{n:05}"),
            resource_type: "ec2:instance",
            account: "1".into(),
            region: region.into(),
            event: Arc::new(EventInfo {
                id: format!("e{n}"),
                source: "ec2.amazonaws.com".into(),
                name: "RunInstances".into(),
                time: "2026-01-15T10:30:00Z".into(),
                region: region.into(),
                account: "1".into(),
                partition: "aws".into(),
                source_ip: None,
                user_agent: None,
            }),
            creator: Arc::new(CreatorSummary::of(
                "arn:aws:iam::1:user/alice".into(),
                IdentityType::IAMUser,
                None,
            )),
            tags: [("CreatedBy", "alice"), ("ManagedBy", "tagwarden")]
                .iter()
                .map(|(k, v)| (TagKey::new(k).unwrap(), TagValue::clean(v)))
                .collect(),
            api,
            kept: BTreeSet::new(),
            dropped: vec![],
            mismatches: Vec::new(),
            replace: Default::default(),
            children: None,
        }
    }

    fn opts() -> Options {
        Options {
            backoff: Backoff {
                retries: 3,
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
            },
            ..Options::default()
        }
    }

    fn run(fake: &Fake, items: &[PlanItem], opts: &Options) -> Vec<Outcome> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(apply(fake, items, opts, &|_| {}))
    }

    fn statuses(out: &[Outcome]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in out {
            let s = match &o.status {
                Status::Failed { error } => format!("failed:{}", error.code),
                s => format!("{s:?}"),
            };
            *m.entry(s).or_default() += 1;
        }
        m
    }

    #[test]
    fn new_resources_take_the_fewest_writes_and_a_rerun_takes_none() {
        let items: Vec<_> = (0..2500)
            .map(|n| item(n, ["us-east-1", "eu-west-1"][n % 2], TaggingApi::Ec2))
            .collect();
        let fake = Fake::default();
        let out = run(&fake, &items, &opts());
        assert_eq!(statuses(&out), BTreeMap::from([("Tagged".into(), 2500)]));
        // 1250 per region: ceil(1250/1000) = 2 calls each.
        assert_eq!(fake.writes.lock().unwrap().len(), 4);
        assert_eq!(out[7].written, items[7].tags);
        let again = run(&fake, &items, &opts());
        assert_eq!(
            statuses(&again),
            BTreeMap::from([("AlreadyTagged".into(), 2500)])
        );
        assert_eq!(fake.writes.lock().unwrap().len(), 4, "second run wrote");
    }

    #[test]
    fn a_tag_someone_set_survives_and_only_missing_keys_are_written() {
        let items = vec![item(1, "us-east-1", TaggingApi::Ec2)];
        let fake = Fake::default();
        fake.tags.lock().unwrap().insert(
            items[0].arn.clone(),
            Current::from([("CreatedBy".into(), "bob".into())]),
        );
        let out = run(&fake, &items, &opts());
        assert_eq!(
            out[0]
                .written
                .keys()
                .map(|k| k.as_str())
                .collect::<Vec<_>>(),
            ["ManagedBy"]
        );
        assert_eq!(fake.tags.lock().unwrap()[&items[0].arn]["CreatedBy"], "bob");
    }

    #[test]
    fn an_unknown_id_that_fails_a_whole_call_is_isolated_and_the_rest_tagged() {
        let items: Vec<_> = (0..16)
            .map(|n| item(n, "us-east-1", TaggingApi::Ec2))
            .collect();
        let fake = Fake {
            whole_call: true,
            unknown: HashSet::from([items[5].arn.clone()]),
            ..Fake::default()
        };
        let out = run(&fake, &items, &opts());
        assert_eq!(
            statuses(&out),
            BTreeMap::from([
                ("Tagged".into(), 15),
                ("failed:InvalidInstanceID.NotFound".into(), 1)
            ])
        );
        assert!(matches!(out[5].status, Status::Failed { .. }));
        // The error names the id: the other 15 are written at once, and it
        // alone is tried 3 more times.
        let writes = fake.writes.lock().unwrap();
        assert_eq!(writes.len(), 1 + 1 + 3, "{writes:?}");
        assert_eq!(writes[1].len(), 15);
        assert!(writes[2..].iter().all(|w| w == &[items[5].arn.clone()]));
    }

    /// EC2 takes a moment to see what it just created: a write naming such
    /// ids fails as a whole and names them. The rest go at once; they follow
    /// alone after a short pause, and every one ends tagged.
    #[test]
    fn ids_not_visible_yet_are_written_after_the_rest_alone() {
        let items: Vec<_> = (0..10)
            .map(|n| item(n, "us-east-1", TaggingApi::Ec2))
            .collect();
        let fake = Fake {
            whole_call: true,
            unseen: Mutex::new(HashMap::from([
                (items[2].arn.clone(), 1),
                (items[7].arn.clone(), 2),
            ])),
            ..Fake::default()
        };
        let out = run(&fake, &items, &opts());
        assert_eq!(statuses(&out), BTreeMap::from([("Tagged".into(), 10)]));
        let writes = fake.writes.lock().unwrap();
        let (two, seven) = (items[2].arn.clone(), items[7].arn.clone());
        // All 10 (refused: 2 and 7 unseen); the 8 others; 2 and 7 (7 still
        // unseen); 2; 7.
        assert_eq!(writes.len(), 5, "{writes:?}");
        assert_eq!(writes[1].len(), 8);
        assert!(!writes[1].contains(&two) && !writes[1].contains(&seven));
        assert_eq!(writes[2], [two.clone(), seven.clone()]);
        assert_eq!(writes[3..], [vec![two], vec![seven]]);
    }

    #[test]
    fn an_id_is_named_whole_not_as_the_start_of_another() {
        let arn = "arn:aws:ec2:us-east-1:1:instance/i-0abc";
        assert!(names_id_of("The instance ID 'i-0abc' does not exist", arn));
        assert!(names_id_of(
            "The instance IDs 'i-9, i-0abc' do not exist",
            arn
        ));
        assert!(!names_id_of(
            "The instance ID 'i-0abcd' does not exist",
            arn
        ));
        assert!(!names_id_of(
            "The instance ID 'xi-0abc' does not exist",
            arn
        ));
        assert!(!names_id_of("does not exist", arn));
    }

    #[test]
    fn per_resource_failures_are_retried_alone() {
        let items: Vec<_> = (0..20)
            .map(|n| item(n, "us-east-1", TaggingApi::ResourceGroups))
            .collect();
        let fake = Fake {
            flaky: Mutex::new(HashSet::from([items[3].arn.clone(), items[9].arn.clone()])),
            unknown: HashSet::from([items[12].arn.clone()]),
            ..Fake::default()
        };
        let out = run(&fake, &items, &opts());
        assert_eq!(
            statuses(&out),
            BTreeMap::from([
                ("Tagged".into(), 19),
                ("failed:InvalidInstanceID.NotFound".into(), 1)
            ])
        );
        let writes = fake.writes.lock().unwrap();
        assert_eq!(writes[0].len(), 20);
        // The retry names only the failed ones, never the whole batch.
        assert_eq!(
            writes[1],
            [&items[3].arn, &items[9].arn, &items[12].arn].map(|s| s.to_string())
        );
        assert!(writes[2..].iter().all(|w| w == &[items[12].arn.clone()]));
    }

    #[test]
    fn a_denial_is_recorded_not_retried() {
        let items: Vec<_> = (0..3)
            .map(|n| item(n, "us-east-1", TaggingApi::Ec2))
            .collect();
        let fake = Fake {
            denied: true,
            ..Fake::default()
        };
        let out = run(&fake, &items, &opts());
        assert_eq!(
            statuses(&out),
            BTreeMap::from([("failed:UnauthorizedOperation".into(), 3)])
        );
        assert_eq!(fake.writes.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_dry_run_reads_but_never_writes() {
        let items: Vec<_> = (0..3)
            .map(|n| item(n, "us-east-1", TaggingApi::Ec2))
            .collect();
        let fake = Fake::default();
        let out = run(
            &fake,
            &items,
            &Options {
                dry_run: true,
                ..opts()
            },
        );
        assert_eq!(statuses(&out), BTreeMap::from([("WouldTag".into(), 3)]));
        assert!(fake.writes.lock().unwrap().is_empty());
        assert_eq!(*fake.reads.lock().unwrap(), 1);
    }

    #[test]
    fn backoff_stays_within_its_bounds() {
        let b = Backoff {
            retries: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(800),
        };
        for attempt in 0..10 {
            let step = (100u64 << attempt.min(16)).min(800);
            let d = b.delay(attempt).as_millis() as u64;
            assert!(d >= step / 2 && d <= step, "attempt {attempt}: {d}ms");
        }
    }
}
