//! plan → apply → record: tags written where they are missing, and every
//! creation, tag call and outcome recorded as one batch.

use crate::tamper::{undo, Undone};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tagwarden_aws::adapters::Tagger;
use tagwarden_aws::apply::{apply, Options};
use tagwarden_core::outcome::{offline, ErrorKind, Outcome, Status};
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_store::model::{Metadata, Recorded, Rows, State};
use tagwarden_store::{rows, AuditStore, StoreError};

/// What applying and recording a plan gave.
#[derive(Debug)]
pub struct Settled {
    /// One per planned item, in plan order.
    pub outcomes: Vec<Outcome>,
    /// The rows recorded (or refused: the face keeps them elsewhere).
    pub rows: Rows,
    pub recorded: Result<Recorded, StoreError>,
    /// Tampering with protected keys seen in the tag calls, undone.
    pub undone: Undone,
}

impl Settled {
    /// Resources left untagged for a reason that may pass (throttled,
    /// unavailable): a delivery worth repeating.
    pub fn to_retry(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.error().is_some_and(|e| worth_retrying(e.kind)))
            .count()
    }

    /// Resources still being created, to try again later.
    pub fn waiting(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Waiting { .. }))
            .count()
    }
}

/// How the tags get to the resources.
pub enum Tagging<'t, T> {
    /// Nothing is read or written: every planned tag is recorded as planned.
    Offline,
    Live {
        tagger: &'t T,
        opts: Options,
        /// Told how many resources just finished.
        progress: &'t (dyn Fn(u64) + Sync),
    },
}

impl<T> Clone for Tagging<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Tagging::Offline => Tagging::Offline,
            Tagging::Live {
                tagger,
                opts,
                progress,
            } => Tagging::Live {
                tagger,
                opts: opts.clone(),
                progress: *progress,
            },
        }
    }
}

impl<'t, T> Tagging<'t, T> {
    /// The same, replacing values someone else set or not, whatever the
    /// policy says: restoring keys that are tagwarden's does, remediation
    /// never does.
    pub fn with_overwrite(self, overwrite: bool) -> Self {
        match self {
            Tagging::Live {
                tagger,
                mut opts,
                progress,
            } => {
                opts.overwrite = overwrite;
                Tagging::Live {
                    tagger,
                    opts,
                    progress,
                }
            }
            offline => offline,
        }
    }

    /// Live, with no one watching the progress (the function).
    pub fn live(tagger: &'t T, opts: Options) -> Self {
        Tagging::Live {
            tagger,
            opts,
            progress: &|_| {},
        }
    }
}

/// Applies `plan` and records it with the tag calls seen beside it; then
/// undoes what those calls did to protected keys tagwarden owns (after the
/// plan is recorded, so a creation and its tampering in one delivery are
/// both seen).
pub async fn settle<T: Tagger, S: AuditStore>(
    tagging: Tagging<'_, T>,
    store: &S,
    plan: &Plan,
    changes: &[TagChange],
) -> Settled {
    let now = rows::now();
    let asserted = over_asserted(store, plan).await;
    let plan = asserted.as_ref().unwrap_or(plan);
    let outcomes = run(tagging.clone(), &plan.items).await;
    let rows = rows::rows(plan, changes, &outcomes, &now);
    let recorded = record(store, &rows).await;
    let undone = match recorded.is_ok() {
        true => undo(tagging, store, changes, &now).await,
        false => Undone::default(),
    };
    Settled {
        outcomes,
        rows,
        recorded,
        undone,
    }
}

/// The plan with, on each CloudTrail creation, the keys whose current value
/// only a direct invocation asserted marked to be replaced: the event's word
/// is evidence, the invoker's is not. `None` when there are none (or the
/// store cannot say: then nothing is replaced, as before).
async fn over_asserted<S: AuditStore>(store: &S, plan: &Plan) -> Option<Plan> {
    let direct = tagwarden_core::trigger::DIRECT_EVENT;
    let arns: Vec<&str> = plan
        .items
        .iter()
        .filter(|i| i.event.name != direct)
        .map(|i| i.arn.as_str())
        .collect();
    if arns.is_empty() {
        return None;
    }
    let mut known = known(store, &arns).await.ok()?;
    known.retain(|_, m| m.owned.values().any(|o| o.asserted));
    if known.is_empty() {
        return None;
    }
    let mut marked = plan.clone();
    for item in marked.items.iter_mut().filter(|i| i.event.name != direct) {
        let Some(m) = known.get(&item.arn) else {
            continue;
        };
        let asserted: Vec<_> = item
            .tags
            .keys()
            .filter(|k| m.owned.get(k.as_str()).is_some_and(|o| o.asserted))
            .cloned()
            .collect();
        item.replace.extend(asserted);
    }
    Some(marked)
}

pub(crate) async fn run<T: Tagger>(tagging: Tagging<'_, T>, items: &[PlanItem]) -> Vec<Outcome> {
    match tagging {
        _ if items.is_empty() => Vec::new(),
        Tagging::Offline => offline(items),
        Tagging::Live {
            tagger,
            opts,
            progress,
        } => apply(tagger, items, &opts, progress).await,
    }
}

/// Records `rows`; an empty batch costs no call.
pub(crate) async fn record<S: AuditStore>(store: &S, rows: &Rows) -> Result<Recorded, StoreError> {
    match rows.history.is_empty() && rows.actions.is_empty() && rows.metadata.is_empty() {
        true => Ok(Recorded::default()),
        false => store.record(rows).await,
    }
}

/// How a settling treats the resources still being created.
pub enum Waits<P: Fn(u32) -> Option<Duration>> {
    /// Tried again after each `pause(attempt)` while that pause ends
    /// before `deadline`; on the last round, what is still being created
    /// has failed.
    Rounds { pause: P, deadline: Instant },
    /// Left waiting, for the caller to settle after the rest: a run read
    /// in parts, where one part's resources must not hold the reading up.
    Later,
}

impl<P: Fn(u32) -> Option<Duration>> Waits<P> {
    /// The pause before round `attempt + 1`, when there is one.
    fn pause(&self, attempt: u32) -> Option<Duration> {
        match self {
            Waits::Rounds { pause, .. } => pause(attempt),
            Waits::Later => None,
        }
    }

    /// Whether round `attempt` may leave a resource waiting (another round
    /// follows, or the caller settles it later) rather than fail it.
    fn may_wait(&self, attempt: u32) -> bool {
        match self {
            Waits::Rounds { pause, deadline } => {
                pause(attempt).is_some_and(|pause| Instant::now() + pause <= *deadline)
            }
            Waits::Later => true,
        }
    }
}

/// Settles `plan` (`round` with the attempt and whether it may leave
/// resources waiting), then, as `waits` says, again after each pause the
/// resources still being created, until none waits: one outcome per item
/// of `plan`, the last round's for those that waited, and every round's
/// rows recorded.
pub async fn settle_while_created<P: Fn(u32) -> Option<Duration>>(
    plan: &Plan,
    changes: &[TagChange],
    waits: Waits<P>,
    told: impl Fn(usize, Duration),
    round: impl AsyncFn(&Plan, &[TagChange], u32, bool) -> Settled,
) -> Settled {
    let mut settled = round(plan, changes, 0, waits.may_wait(0)).await;
    let mut attempt = 0;
    loop {
        let waiting: Vec<usize> = settled
            .outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Waiting { .. }))
            .map(|o| o.item)
            .collect();
        let Some(pause) = waits.pause(attempt).filter(|_| !waiting.is_empty()) else {
            return settled;
        };
        told(waiting.len(), pause);
        tokio::time::sleep(pause).await;
        attempt += 1;
        let again = Plan {
            items: waiting.iter().map(|&n| plan.items[n].clone()).collect(),
            ..Plan::default()
        };
        let next = round(&again, &[], attempt, waits.may_wait(attempt)).await;
        for mut o in next.outcomes {
            o.item = waiting[o.item];
            let n = o.item;
            settled.outcomes[n] = o;
        }
        settled.recorded = match (settled.recorded, next.recorded) {
            (Ok(a), Ok(b)) => Ok(a.plus(b)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        settled.rows.extend(next.rows);
    }
}

/// A delivery that came back to wait: only its resources the store still
/// holds as pending under this same event. The others were settled by an
/// earlier attempt (tagged, or failed and alerted once), or belong to a
/// newer event now; one the store does not know is kept.
pub async fn still_waiting<S: AuditStore>(store: &S, plan: &Plan) -> Result<Plan, StoreError> {
    let arns: Vec<&str> = plan.items.iter().map(|i| i.arn.as_str()).collect();
    let known = known(store, &arns).await?;
    let items = plan
        .items
        .iter()
        .filter(|i| match known.get(&i.arn) {
            None => true,
            Some(m) => m.last_event.id == i.event.id && m.state == State::Pending,
        })
        .cloned()
        .collect();
    Ok(Plan {
        items,
        ..Plan::default()
    })
}

/// The store's items of `arns`, by ARN.
pub(crate) async fn known<S: AuditStore>(
    store: &S,
    arns: &[&str],
) -> Result<HashMap<String, Metadata>, StoreError> {
    Ok(store
        .metadata(arns)
        .await?
        .into_iter()
        .map(|m| (m.arn.clone(), m))
        .collect())
}

/// Throttling and outages pass; a resource still not found after apply's
/// backoff is most often gone (CloudTrail logs arrive minutes late), so it
/// stays recorded as failed instead of sending the whole delivery round
/// again; denials wait for an operator (`apply --retry-failed`).
pub fn worth_retrying(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Throttled | ErrorKind::Transient)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::time::Duration;
    use tagwarden_aws::apply::Backoff;
    use tagwarden_aws::mock::MemoryTagger;
    use tagwarden_core::outcome::CallError;
    use tagwarden_core::outcome::Status;
    use tagwarden_store::model::{Change, State};
    use tagwarden_store::sqlite::Open;
    use tagwarden_store::{suite, SqliteStore};

    pub(crate) fn store(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(&dir.path().join("tw.db"), Open::Create, Duration::ZERO).unwrap()
    }

    pub(crate) fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    pub(crate) fn live(tagger: &MemoryTagger) -> Tagging<'_, MemoryTagger> {
        let backoff = Backoff {
            retries: 2,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        Tagging::live(
            tagger,
            Options {
                backoff,
                ..Options::default()
            },
        )
    }

    fn plan(n: usize) -> Plan {
        Plan {
            items: (0..n)
                .map(|i| suite::item("f", i, &format!("e{i}"), "2026-01-15T10:30:00Z"))
                .collect(),
            ..Plan::default()
        }
    }

    fn states(s: &Settled) -> Vec<String> {
        s.outcomes
            .iter()
            .map(|o| match &o.status {
                Status::Failed { error } => format!("failed:{}", error.kind.as_str()),
                Status::Waiting { .. } => "Waiting { .. }".to_string(),
                s => format!("{s:?}"),
            })
            .collect()
    }

    /// Issue 19, point 5: the latest creation of an ARN wins through the
    /// store in either order it is read in; an earlier creation recorded
    /// before the run is left as it is (S3 logs a `CreateBucket` issued
    /// again on an owned bucket as a creation).
    #[test]
    fn the_latest_creation_of_an_arn_wins_through_the_store() {
        use crate::read::latest_creation_wins;
        use tagwarden_core::tags::{TagKey, TagValue};
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger) = (store(&dir), MemoryTagger::default());
        let one = |item: &PlanItem| Plan {
            items: vec![item.clone()],
            ..Plan::default()
        };
        let run = rows::now();
        let older = suite::item("f", 0, "e-old", "2026-01-15T10:00:00Z");
        let mut newer = suite::item("f", 0, "e-new", "2026-01-15T11:00:00Z");
        let erin = "arn:aws:iam::111122223333:user/erin";
        newer
            .tags
            .insert(TagKey::new("CreatedBy").unwrap(), TagValue::clean(erin));
        block(settle(live(&tagger), &db, &one(&older), &[]));

        // Recorded before the run: the newer creation replaces nothing.
        let mut before = one(&newer);
        block(latest_creation_wins(&db, &mut before, None)).unwrap();
        assert!(before.items[0].replace.is_empty());
        // Recorded by this run: the keys tagwarden wrote are replaced.
        let mut plan = one(&newer);
        block(latest_creation_wins(&db, &mut plan, Some(&run))).unwrap();
        let created_by = TagKey::new("CreatedBy").unwrap();
        assert!(plan.items[0].replace.contains(&created_by));
        block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(tagger.tags_of(&newer.arn)["CreatedBy"], erin);

        // The older creation, read again later, is superseded.
        let mut late = one(&older);
        block(latest_creation_wins(&db, &mut late, Some(&run))).unwrap();
        assert!(late.items.is_empty());
        assert_eq!(late.superseded, 1);
        // The same event again is not: it changes nothing when settled.
        let mut replay = one(&newer);
        block(latest_creation_wins(&db, &mut replay, Some(&run))).unwrap();
        assert_eq!((replay.items.len(), replay.superseded), (1, 0));
    }

    #[test]
    fn a_plan_is_tagged_and_recorded_and_a_replay_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger, plan) = (store(&dir), MemoryTagger::default(), plan(3));
        let first = block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(states(&first), ["Tagged", "Tagged", "Tagged"]);
        let r = first.recorded.as_ref().unwrap();
        assert_eq!((r.metadata, r.history, r.actions), (3, 6, 3));
        assert_eq!(
            tagger.tags_of(&plan.items[1].arn)["CreatedBy"],
            suite::CREATOR
        );
        assert_eq!(first.to_retry(), 0);
        // The write's request id, for finding it in CloudTrail.
        let h = block(db.history(&plan.items[1].arn)).unwrap();
        let tagged = h.history.iter().find(|e| e.change == Change::Tagged);
        assert_eq!(tagged.unwrap().request_id.as_deref(), Some("mock-1"));

        let again = block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(tagger.write_calls(), 1, "the replay wrote");
        assert_eq!(
            again.recorded.unwrap(),
            Default::default(),
            "the replay recorded"
        );
    }

    /// A protected key tagwarden wrote, removed later by someone else, is
    /// written back and recorded as `restored` naming them; the same call
    /// read again changes nothing; a key the creator preset is theirs.
    #[test]
    fn tampering_with_an_owned_key_is_undone_once() {
        use tagwarden_core::catalog::tag_events::{TagOp, Tagged};
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger) = (store(&dir), MemoryTagger::default());
        let mut plan = plan(1);
        plan.protect = vec![tagwarden_core::tags::TagKey::new("CreatedBy").unwrap()];
        let item = plan.items[0].clone();
        block(settle(live(&tagger), &db, &plan, &[]));
        let owned = block(db.history(&item.arn))
            .unwrap()
            .metadata
            .unwrap()
            .owned;
        assert_eq!(owned["CreatedBy"].value, suite::CREATOR);

        tagger
            .tags
            .lock()
            .unwrap()
            .get_mut(&item.arn)
            .unwrap()
            .remove("CreatedBy");
        let mallory = "arn:aws:iam::111122223333:user/mallory";
        let removal = TagChange {
            event: tagwarden_core::pipeline::EventInfo {
                id: "untag-1".into(),
                name: "DeleteTags".into(),
                time: "2026-01-15T11:00:00Z".into(),
                ..(*item.event).clone()
            },
            actor: tagwarden_core::attribution::Creator {
                id: mallory.into(),
                kind: tagwarden_core::attribution::IdentityType::IAMUser,
                invoked_by: None,
                role: None,
                session: None,
                account: None,
            },
            op: TagOp::Remove,
            resources: vec![Tagged {
                resource: tagwarden_core::catalog::Resource {
                    arn: item.arn.clone(),
                    account: item.account.clone(),
                    region: item.region.clone(),
                },
                resource_type: item.resource_type.to_string(),
            }],
            tags: [("CreatedBy".to_string(), String::new())].into(),
        };
        let empty = Plan {
            protect: plan.protect.clone(),
            ..Plan::default()
        };
        let s = block(settle(
            live(&tagger),
            &db,
            &empty,
            std::slice::from_ref(&removal),
        ));
        assert_eq!(s.undone.tampers.len(), 1);
        assert_eq!(tagger.tags_of(&item.arn)["CreatedBy"], suite::CREATOR);
        let h = block(db.history(&item.arn)).unwrap();
        let restored: Vec<_> = h
            .history
            .iter()
            .filter(|e| e.change == Change::Restored)
            .collect();
        assert_eq!(restored.len(), 1);
        assert_eq!(restored[0].actor, mallory);
        assert_eq!(restored[0].removed, ["CreatedBy"]);
        assert_eq!(restored[0].changed["CreatedBy"].after, suite::CREATOR);
        assert_eq!(
            h.metadata.unwrap().owned["CreatedBy"].since,
            "2026-01-15T11:00:00Z"
        );

        let writes = tagger.write_calls();
        let again = block(settle(live(&tagger), &db, &empty, &[removal]));
        assert!(again.undone.tampers.is_empty());
        assert_eq!(tagger.write_calls(), writes);
    }

    /// A value only a direct invocation asserted gives way to a CloudTrail
    /// creation's; a value someone else set does not.
    #[test]
    fn a_scan_finds_a_protected_key_changed_behind_tagwardens_back() {
        use tagwarden_core::compliance::{Finding, Verdict};
        use tagwarden_core::policy::Policy;
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger) = (store(&dir), MemoryTagger::default());
        let mut plan = plan(2);
        plan.protect = vec![tagwarden_core::tags::TagKey::new("CreatedBy").unwrap()];
        block(settle(live(&tagger), &db, &plan, &[]));
        let finding = |arn: &str, created_by: &str| Finding {
            arn: arn.into(),
            resource_type: "ec2:instance".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            verdict: Verdict {
                compliant: true,
                ..Verdict::default()
            },
            tags: [("CreatedBy".to_string(), created_by.to_string())].into(),
        };
        let mut findings = vec![
            finding(&plan.items[0].arn, "arn:aws:iam::111122223333:user/mallory"),
            finding(&plan.items[1].arn, suite::CREATOR),
            finding("arn:aws:ec2:us-east-1:111122223333:instance/i-unknown", "x"),
        ];
        let policy = Policy::default_policy();
        let marked = block(crate::check::attribution(
            &db,
            &policy.attribution,
            &mut findings,
        ));
        assert_eq!(marked.unwrap(), 1);
        let m = &findings[0].verdict.attribution_mismatch["CreatedBy"];
        assert_eq!(m.expected, suite::CREATOR);
        assert_eq!(
            m.found.as_deref(),
            Some("arn:aws:iam::111122223333:user/mallory")
        );
        assert!(!findings[0].verdict.compliant);
        assert!(findings[1].verdict.compliant && findings[2].verdict.compliant);
    }

    #[test]
    fn a_cloudtrail_creation_replaces_what_a_direct_invocation_asserted() {
        use tagwarden_core::tags::{TagKey, TagValue};
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger) = (store(&dir), MemoryTagger::default());
        let created_by = TagKey::new("CreatedBy").unwrap();
        let mut creation = plan(2);
        creation.protect = vec![created_by.clone()];
        let mut direct = creation.clone();
        direct.items.truncate(1);
        let bob = "arn:aws:iam::111122223333:user/bob";
        let d = &mut direct.items[0];
        d.event = std::sync::Arc::new(tagwarden_core::pipeline::EventInfo {
            id: "tagwarden-direct-r1".into(),
            name: tagwarden_core::trigger::DIRECT_EVENT.into(),
            time: "2026-01-15T10:00:00Z".into(),
            ..(*d.event).clone()
        });
        d.tags.insert(created_by.clone(), TagValue::clean(bob));
        block(settle(live(&tagger), &db, &direct, &[]));
        let first = &creation.items[0].arn;
        assert_eq!(tagger.tags_of(first)["CreatedBy"], bob);
        // Someone else's value on the other resource.
        let other = &creation.items[1].arn;
        tagger.tags.lock().unwrap().insert(
            other.clone(),
            [("CreatedBy".to_string(), "carol".to_string())].into(),
        );

        block(settle(live(&tagger), &db, &creation, &[]));
        assert_eq!(tagger.tags_of(first)["CreatedBy"], suite::CREATOR);
        assert_eq!(tagger.tags_of(other)["CreatedBy"], "carol");
        let h = block(db.history(first)).unwrap();
        let tagged = h
            .history
            .iter()
            .rfind(|e| e.change == Change::Tagged)
            .unwrap();
        assert_eq!(tagged.changed["CreatedBy"].before, bob);
        let owned = &h.metadata.unwrap().owned["CreatedBy"];
        assert!(!owned.asserted, "CloudTrail's word now");
    }

    #[test]
    fn offline_reads_and_writes_nothing_and_records_the_plan_as_planned() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(2));
        let s = block(settle(Tagging::<MemoryTagger>::Offline, &db, &plan, &[]));
        assert_eq!(states(&s), ["WouldTag", "WouldTag"]);
        let h = block(db.history(&plan.items[0].arn)).unwrap();
        assert_eq!(h.metadata.unwrap().state, State::Planned);
        assert_eq!(h.history.last().unwrap().change, Change::Planned);
    }

    /// Each service's own answer while it creates the resource.
    fn creating_answers() -> Vec<CallError> {
        [
            (
                "InvalidReplicationGroupState",
                "Replication group rg is not in available state.",
            ),
            (
                "InvalidCacheClusterState",
                "Cache cluster cc is not in available state.",
            ),
            (
                "InvalidClusterState",
                "The cluster is not in the available state.",
            ),
            (
                "InvalidDBInstanceState",
                "DB instance db is not in available state.",
            ),
            (
                "ResourceInUseException",
                "Stream s under account 1 is in CREATING state.",
            ),
            ("BadRequestException", "Cluster eks-1 is in CREATING state"),
            ("ConflictException", "The cluster is in CREATING state"),
        ]
        .iter()
        .map(|(code, message)| CallError::new(code, message))
        .collect()
    }

    /// As the function runs it: each delivery waits while it has attempts
    /// left ([`tagwarden_core::waiting`]), and one that came back handles
    /// only what still waits; returns each round's states.
    fn deliveries(tagger: &MemoryTagger, db: &SqliteStore, plan: &Plan) -> Vec<Vec<String>> {
        let mut rounds = Vec::new();
        for attempt in 0.. {
            let opts = Options {
                may_wait: tagwarden_core::waiting::may_wait(attempt),
                backoff: Backoff {
                    retries: 2,
                    base: Duration::from_millis(1),
                    cap: Duration::from_millis(2),
                },
                ..Options::default()
            };
            let narrowed = block(still_waiting(db, plan)).unwrap();
            let plan = if attempt > 0 { &narrowed } else { plan };
            let s = block(settle(Tagging::live(tagger, opts), db, plan, &[]));
            rounds.push(states(&s));
            if s.waiting() == 0 {
                return rounds;
            }
        }
        unreachable!()
    }

    #[test]
    fn resources_being_created_wait_for_the_next_delivery_then_are_tagged() {
        let dir = tempfile::tempdir().unwrap();
        let answers = creating_answers();
        let (db, plan) = (store(&dir), plan(answers.len()));
        let tagger = MemoryTagger::default();
        for (item, e) in plan.items.iter().zip(&answers) {
            assert_eq!(e.kind, ErrorKind::NotReady, "{e}");
            tagger
                .creating
                .lock()
                .unwrap()
                .insert(item.arn.clone(), (e.clone(), 2));
        }
        let rounds = deliveries(&tagger, &db, &plan);
        let all = |s: &str| vec![s.to_string(); answers.len()];
        assert_eq!(
            rounds,
            [all("Waiting { .. }"), all("Waiting { .. }"), all("Tagged")]
        );
        let h = block(db.history(&plan.items[0].arn)).unwrap();
        assert_eq!(h.metadata.unwrap().state, State::Tagged);
        let changes: Vec<_> = h.history.iter().map(|e| e.change).collect();
        assert!(changes.contains(&Change::Pending), "{changes:?}");
    }

    /// `settle_while_created` over a plan whose resources stay "being
    /// created" for two calls: each round's attempt and `may_wait`, and
    /// the final states.
    fn rounds_of(
        waits: Waits<impl Fn(u32) -> Option<Duration>>,
    ) -> (Vec<(u32, bool)>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(2));
        let tagger = MemoryTagger::default();
        for item in &plan.items {
            let e = creating_answers().remove(0);
            tagger
                .creating
                .lock()
                .unwrap()
                .insert(item.arn.clone(), (e, 2));
        }
        let asked = Mutex::new(Vec::new());
        let round = async |plan: &Plan, changes: &[TagChange], attempt, may_wait| {
            asked.lock().unwrap().push((attempt, may_wait));
            let opts = Options {
                may_wait,
                ..Options::default()
            };
            let tagging = Tagging::Live {
                tagger: &tagger,
                opts,
                progress: &|_| {},
            };
            settle(tagging, &db, plan, changes).await
        };
        let settled = block(settle_while_created(&plan, &[], waits, |_, _| {}, round));
        (asked.into_inner().unwrap(), states(&settled))
    }

    #[test]
    fn resources_being_created_wait_in_rounds_until_the_deadline_or_are_left_for_later() {
        let short = |_: u32| Some(Duration::from_millis(1));
        let far = Instant::now() + Duration::from_secs(600);
        // Rounds until they are created (the third call).
        let (asked, states) = rounds_of(Waits::Rounds {
            pause: short,
            deadline: far,
        });
        assert_eq!(asked, [(0, true), (1, true), (2, true)]);
        assert_eq!(states, ["Tagged", "Tagged"]);
        // A deadline no pause fits before: the one round fails them.
        let (asked, states) = rounds_of(Waits::Rounds {
            pause: short,
            deadline: Instant::now(),
        });
        assert_eq!(asked, [(0, false)]);
        assert_eq!(states, ["failed:not_ready", "failed:not_ready"]);
        // Later: one round, and they are left waiting for the caller.
        let (asked, states) = rounds_of(Waits::<fn(u32) -> Option<Duration>>::Later);
        assert_eq!(asked, [(0, true)]);
        assert_eq!(states, ["Waiting { .. }", "Waiting { .. }"]);
    }

    #[test]
    fn a_delivery_that_comes_back_handles_only_what_still_waits() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(3));
        let tagger = MemoryTagger {
            unknown: HashSet::from([plan.items[0].arn.clone()]),
            ..MemoryTagger::default()
        };
        let e = creating_answers().remove(0);
        tagger
            .creating
            .lock()
            .unwrap()
            .insert(plan.items[2].arn.clone(), (e, 1));
        let rounds = deliveries(&tagger, &db, &plan);
        // The unknown resource fails once, and is neither tried nor
        // reported again; the tagged one is not read again.
        assert_eq!(
            rounds,
            [
                vec!["failed:not_found", "Tagged", "Waiting { .. }"],
                vec!["Tagged"]
            ]
        );
        let m = block(db.history(&plan.items[0].arn))
            .unwrap()
            .metadata
            .unwrap();
        assert_eq!(m.state, State::Failed);
    }

    #[test]
    fn a_resource_still_being_created_after_the_last_attempt_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(1));
        let tagger = MemoryTagger::default();
        let e = creating_answers().remove(0);
        tagger
            .creating
            .lock()
            .unwrap()
            .insert(plan.items[0].arn.clone(), (e, u32::MAX));
        let rounds = deliveries(&tagger, &db, &plan);
        // The first delivery and each of the schedule's attempts.
        assert_eq!(rounds.len(), 16, "{rounds:?}");
        assert_eq!(rounds.last().unwrap(), &["failed:not_ready"]);
        let m = block(db.history(&plan.items[0].arn))
            .unwrap()
            .metadata
            .unwrap();
        assert_eq!(m.state, State::Failed);
        assert_eq!(m.error.unwrap().kind, "not_ready");
    }

    #[test]
    fn a_throttle_that_passes_is_retried_alone_and_tagged() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(4);
        let tagger = MemoryTagger {
            flaky: Mutex::new(HashSet::from([plan.items[2].arn.clone()])),
            ..MemoryTagger::default()
        };
        let s = block(settle(live(&tagger), &store(&dir), &plan, &[]));
        assert_eq!(states(&s), ["Tagged"; 4]);
        assert_eq!(
            tagger.writes.lock().unwrap()[1],
            [plan.items[2].arn.clone()]
        );
    }

    #[test]
    fn a_throttle_that_stays_is_recorded_failed_and_worth_a_redelivery() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(2));
        let tagger = MemoryTagger {
            throttled: true,
            ..MemoryTagger::default()
        };
        let s = block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(states(&s), ["failed:throttled", "failed:throttled"]);
        assert_eq!(s.to_retry(), 2);
        assert_eq!(tagger.write_calls(), 3, "one try and two retries");
        let failed = block(db.failed()).unwrap();
        assert_eq!(failed.len(), 2, "kept for apply --retry-failed");
    }

    #[test]
    fn a_denial_is_recorded_failed_and_not_redelivered() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(2));
        let tagger = MemoryTagger {
            denied: true,
            ..MemoryTagger::default()
        };
        let s = block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(states(&s), ["failed:permission", "failed:permission"]);
        assert_eq!(s.to_retry(), 0);
        let m = block(db.history(&plan.items[0].arn))
            .unwrap()
            .metadata
            .unwrap();
        assert_eq!(m.state, State::Failed);
        assert_eq!(m.error.unwrap().kind, "permission");
        assert_eq!(m.pending.len(), 2, "what is still to write");
    }

    #[test]
    fn a_resource_not_found_fails_alone_in_its_batch_and_is_not_redelivered() {
        let dir = tempfile::tempdir().unwrap();
        let (db, plan) = (store(&dir), plan(5));
        let tagger = MemoryTagger {
            whole_call: true,
            unknown: HashSet::from([plan.items[3].arn.clone()]),
            ..MemoryTagger::default()
        };
        let s = block(settle(live(&tagger), &db, &plan, &[]));
        assert_eq!(
            states(&s),
            ["Tagged", "Tagged", "Tagged", "failed:not_found", "Tagged"]
        );
        assert_eq!(
            s.to_retry(),
            0,
            "most often gone: recorded, not redelivered"
        );
        assert_eq!(block(db.failed()).unwrap().len(), 1);
    }

    #[test]
    fn a_store_that_refuses_leaves_the_rows_for_the_face_to_keep() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(&dir);
        let holder = rusqlite::Connection::open(dir.path().join("tw.db")).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let tagger = MemoryTagger::default();
        let s = block(settle(live(&tagger), &db, &plan(1), &[]));
        assert!(s.recorded.is_err());
        assert_eq!(states(&s), ["Tagged"], "the tags are written all the same");
        assert_eq!(s.rows.history.len(), 2, "created and tagged, kept");
    }
}
