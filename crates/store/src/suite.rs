//! One behaviour suite for every back end: SQLite runs it in this crate's
//! tests, DynamoDB in the integration tests against moto. Each case uses
//! its own ARNs under `prefix`, so stores may be shared.

use crate::model::{Change, Rows, State, SESSION_GRACE_SECONDS};
use crate::rows::{outcomes, plain};
use crate::AuditStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use tagwarden_core::attribution::IdentityType;
use tagwarden_core::catalog::TaggingApi;
use tagwarden_core::outcome::{CallError, Outcome, Status};
use tagwarden_core::pipeline::EventInfo;
use tagwarden_core::plan::{CreatorSummary, PlanItem};
use tagwarden_core::reconcile::Current;
use tagwarden_core::tags::{TagKey, TagValue};

pub const CREATOR: &str = "arn:aws:iam::111122223333:user/alice";
const NOW: &str = "2026-11-24T00:00:00Z";
const LATER: &str = "2026-11-24T01:00:00Z";

/// A planned resource: `n`th instance of event `event` at `time`.
pub fn item(prefix: &str, n: usize, event: &str, time: &str) -> PlanItem {
    PlanItem {
        arn: format!("arn:aws:ec2:us-east-1:111122223333:instance/{prefix}-{n:05}"),
        resource_type: "ec2:instance",
        account: "111122223333".into(),
        region: "us-east-1".into(),
        event: Arc::new(EventInfo {
            id: event.into(),
            source: "ec2.amazonaws.com".into(),
            name: "RunInstances".into(),
            time: time.into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
            partition: "aws".into(),
            source_ip: Some("203.0.113.7".into()),
            user_agent: Some("aws-cli/2".into()),
        }),
        creator: Arc::new(CreatorSummary::of(
            CREATOR.into(),
            IdentityType::IAMUser,
            None,
        )),
        tags: BTreeMap::from([
            (TagKey::new("CreatedBy").unwrap(), TagValue::clean(CREATOR)),
            (
                TagKey::new("ManagedBy").unwrap(),
                TagValue::clean("tagwarden"),
            ),
        ]),
        api: TaggingApi::Ec2,
        kept: Default::default(),
        dropped: Vec::new(),
        mismatches: Vec::new(),
        replace: Default::default(),
        children: None,
    }
}

/// What apply would report for `item` ending in `state`: `Planned` is a
/// dry run's, `AlreadyTagged` finds the item's own tags in place.
pub fn outcome(item: &PlanItem, state: State) -> Outcome {
    let mut before = Current::from([("Name".to_string(), "web".to_string())]);
    if state == State::AlreadyTagged {
        before.extend(plain(&item.tags));
    }
    let (status, written) = match state {
        State::Tagged => (Status::Tagged, item.tags.clone()),
        State::Planned => (Status::WouldTag, item.tags.clone()),
        State::AlreadyTagged => (Status::AlreadyTagged, Default::default()),
        State::Full => (Status::Full, Default::default()),
        State::Pending => (
            Status::Waiting {
                error: CallError::new(
                    "InvalidReplicationGroupState",
                    "Replication group rg-1 is not in available state.",
                ),
            },
            Default::default(),
        ),
        State::Failed => (
            Status::Failed {
                error: CallError::new("AccessDenied", "not authorized to perform ec2:CreateTags"),
            },
            Default::default(),
        ),
    };
    let before = (state != State::Planned).then_some(before);
    Outcome::new(0, item, status, written, before.as_ref())
}

/// The rows of `items` all ending in `state`.
pub fn rows_of(items: &[PlanItem], state: State, now: &str) -> Rows {
    let done: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(n, i)| Outcome {
            item: n,
            ..outcome(i, state)
        })
        .collect();
    outcomes(items, &done, now)
}

async fn record<S: AuditStore>(store: &S, b: &Rows) -> crate::model::Recorded {
    match store.record(b).await {
        Ok(r) => r,
        Err(e) => panic!("record on {}: {e}", store.describe()),
    }
}

/// Creator, tags and history come back as recorded; the action is kept.
pub async fn records_and_reads_back<S: AuditStore>(store: &S, prefix: &str) {
    let items = [item(
        prefix,
        1,
        &format!("{prefix}-e1"),
        "2026-01-15T10:30:00Z",
    )];
    let r = record(store, &rows_of(&items, State::Tagged, NOW)).await;
    assert_eq!((r.metadata, r.history, r.actions), (1, 2, 1));
    let h = store.history(&items[0].arn).await.expect("history");
    let m = h.metadata.expect("the resource's item");
    assert_eq!(m.state, State::Tagged);
    assert_eq!(m.creator.map(|c| c.arn), Some(CREATOR.to_string()));
    assert_eq!(
        m.created.map(|e| e.time),
        Some("2026-01-15T10:30:00Z".into())
    );
    let tags = m.tags.expect("tags known after a write");
    assert_eq!(tags.get("Name").map(String::as_str), Some("web"));
    assert_eq!(tags.get("CreatedBy").map(String::as_str), Some(CREATOR));
    let changes: Vec<_> = h
        .history
        .iter()
        .map(|e| (e.change, e.actor.as_str()))
        .collect();
    assert_eq!(
        changes,
        [(Change::Created, CREATOR), (Change::Tagged, "tagwarden")]
    );
    assert_eq!(h.history[1].added.len(), 2);
    let actions = store.actions(CREATOR).await.expect("actions");
    let mine: Vec<_> = actions
        .iter()
        .filter(|a| a.event.id == format!("{prefix}-e1"))
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].resources, [items[0].arn.clone()]);
    assert_eq!(mine[0].source_ip.as_deref(), Some("203.0.113.7"));
    assert!(store
        .history(&format!("{}-unknown", items[0].arn))
        .await
        .unwrap()
        .history
        .is_empty());
}

/// The same events again add no row and change no item, whatever the batch
/// size (more than one DynamoDB batch of each kind).
pub async fn replay_changes_nothing<S: AuditStore>(store: &S, prefix: &str) {
    let items: Vec<_> = (0..130)
        .map(|n| {
            item(
                prefix,
                n,
                &format!("{prefix}-e{}", n / 10),
                "2026-02-01T00:00:00Z",
            )
        })
        .collect();
    let first = record(store, &rows_of(&items, State::Tagged, NOW)).await;
    assert_eq!(
        (first.metadata, first.history, first.actions),
        (130, 260, 13)
    );
    let again = record(store, &rows_of(&items, State::Tagged, LATER)).await;
    assert_eq!(again, Default::default(), "a replay recorded something");
    // A later apply finds the tags in place: still nothing changes.
    let found = record(store, &rows_of(&items, State::AlreadyTagged, LATER)).await;
    assert_eq!(found, Default::default());
    let h = store.history(&items[7].arn).await.unwrap();
    assert_eq!(h.history.len(), 2);
    assert_eq!(h.metadata.unwrap().updated_at, NOW);
}

/// A dry run is kept apart from a real run and never undoes one.
pub async fn dry_run_is_planned_only<S: AuditStore>(store: &S, prefix: &str) {
    let items = [item(
        prefix,
        1,
        &format!("{prefix}-e1"),
        "2026-03-01T00:00:00Z",
    )];
    record(store, &rows_of(&items, State::Planned, NOW)).await;
    let h = store.history(&items[0].arn).await.unwrap();
    let m = h.metadata.clone().unwrap();
    assert_eq!(m.state, State::Planned);
    assert_eq!(m.tags, None, "a dry run without reads knows no tags");
    assert_eq!(m.pending.len(), 2);
    assert_eq!(h.history.last().map(|e| e.change), Some(Change::Planned));
    record(store, &rows_of(&items, State::Tagged, LATER)).await;
    let after = record(store, &rows_of(&items, State::Planned, LATER)).await;
    assert_eq!(after, Default::default(), "a dry run after the real one");
    let h = store.history(&items[0].arn).await.unwrap();
    let changes: Vec<_> = h.history.iter().map(|e| e.change).collect();
    assert_eq!(changes, [Change::Created, Change::Planned, Change::Tagged]);
    assert_eq!(h.metadata.unwrap().state, State::Tagged);
}

/// A resource being created is `pending` (listed with the failures, for a
/// retry once its wait is long over), then `tagged` or `failed`, one
/// history row each, under its one event. `metadata` reads items by ARN.
pub async fn waiting_resources_end_tagged_or_failed<S: AuditStore>(store: &S, prefix: &str) {
    let items: Vec<_> = (0..2)
        .map(|n| item(prefix, n, &format!("{prefix}-e1"), "2026-04-02T00:00:00Z"))
        .collect();
    record(store, &rows_of(&items, State::Pending, NOW)).await;
    let m = store
        .history(&items[0].arn)
        .await
        .unwrap()
        .metadata
        .unwrap();
    assert_eq!(m.state, State::Pending);
    assert_eq!(m.pending.len(), 2);
    assert_eq!(m.error.map(|e| e.kind), Some("not_ready".to_string()));
    let failed = store.failed().await.unwrap();
    let waiting: Vec<_> = failed.iter().filter(|m| m.arn.contains(prefix)).collect();
    assert_eq!(waiting.len(), 2, "{failed:?}");
    assert!(waiting.iter().all(|m| m.state == State::Pending));
    let unknown = format!("{}-unknown", items[0].arn);
    let known = store
        .metadata(&[&items[1].arn, &unknown, &items[1].arn])
        .await
        .unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!(
        (known[0].arn.as_str(), known[0].state),
        (items[1].arn.as_str(), State::Pending)
    );
    // Waiting again records nothing new.
    let again = record(store, &rows_of(&items, State::Pending, LATER)).await;
    assert_eq!(again, Default::default());

    record(store, &rows_of(&items[..1], State::Tagged, LATER)).await;
    record(store, &rows_of(&items[1..], State::Failed, LATER)).await;
    for (item, state, last) in [
        (&items[0], State::Tagged, Change::Tagged),
        (&items[1], State::Failed, Change::Failed),
    ] {
        let h = store.history(&item.arn).await.unwrap();
        assert_eq!(h.metadata.unwrap().state, state);
        // One event's rows sort by change (its key), not by time.
        let mut changes: Vec<_> = h.history.iter().map(|e| e.change).collect();
        changes.sort();
        assert_eq!(
            changes,
            [Change::Created, last, Change::Pending],
            "{}",
            item.arn
        );
    }
}

/// Failures are kept with their error until a retry succeeds.
pub async fn failures_wait_for_a_retry<S: AuditStore>(store: &S, prefix: &str) {
    let items: Vec<_> = (0..3)
        .map(|n| item(prefix, n, &format!("{prefix}-e1"), "2026-04-01T00:00:00Z"))
        .collect();
    record(store, &rows_of(&items, State::Failed, NOW)).await;
    let mine = |all: Vec<crate::model::Metadata>| -> Vec<_> {
        all.into_iter().filter(|m| m.arn.contains(prefix)).collect()
    };
    let failed = mine(store.failed().await.unwrap());
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0].pending.len(), 2);
    assert_eq!(
        failed[0].error.as_ref().map(|e| e.kind.as_str()),
        Some("permission")
    );
    // The retry succeeds for one resource.
    let r = record(store, &rows_of(&items[..1], State::Tagged, LATER)).await;
    assert_eq!((r.metadata, r.history), (1, 1));
    let failed = mine(store.failed().await.unwrap());
    assert_eq!(
        failed.iter().map(|m| &m.arn).collect::<Vec<_>>(),
        [&items[1].arn, &items[2].arn]
    );
    let h = store.history(&items[0].arn).await.unwrap();
    let m = h.metadata.unwrap();
    assert!(m.pending.is_empty() && m.error.is_none());
    let changes: Vec<_> = h.history.iter().map(|e| e.change).collect();
    assert_eq!(changes, [Change::Created, Change::Failed, Change::Tagged]);
}

/// A resource re-created under the same ARN belongs to its latest creator;
/// an older event arriving late changes nothing.
pub async fn latest_event_wins<S: AuditStore>(store: &S, prefix: &str) {
    let old = item(prefix, 1, &format!("{prefix}-old"), "2026-05-01T00:00:00Z");
    let new = item(prefix, 1, &format!("{prefix}-new"), "2026-05-02T00:00:00Z");
    record(
        store,
        &rows_of(std::slice::from_ref(&new), State::Tagged, NOW),
    )
    .await;
    let r = record(
        store,
        &rows_of(std::slice::from_ref(&old), State::Tagged, LATER),
    )
    .await;
    assert_eq!(r.metadata, 0, "an older event changed the item");
    let h = store.history(&new.arn).await.unwrap();
    assert_eq!(h.metadata.unwrap().last_event.id, format!("{prefix}-new"));
    // Both events stay in the history, in time order.
    let ids: Vec<_> = h.history.iter().map(|e| e.event.id.clone()).collect();
    assert_eq!(ids.first(), Some(&format!("{prefix}-old")));
    assert_eq!(ids.last(), Some(&format!("{prefix}-new")));
}

/// Export is ordered by event time and honours `since`.
pub async fn export_orders_and_filters<S: AuditStore>(store: &S, prefix: &str) {
    let items = [
        item(prefix, 2, &format!("{prefix}-b"), "2026-06-02T00:00:00Z"),
        item(prefix, 1, &format!("{prefix}-a"), "2026-06-01T00:00:00Z"),
        item(prefix, 3, &format!("{prefix}-c"), "2026-06-03T00:00:00Z"),
    ];
    record(store, &rows_of(&items, State::Tagged, NOW)).await;
    let export = |since: Option<&'static str>| async move {
        let mut seen = Vec::new();
        let n = store
            .export(since, &mut |e| {
                seen.push(e);
                Ok(())
            })
            .await
            .expect("export");
        assert_eq!(n as usize, seen.len());
        seen.retain(|e| e.arn.contains(prefix));
        seen
    };
    let all = export(None).await;
    let times: Vec<_> = all.iter().map(|e| e.event.time.as_str()).collect();
    assert_eq!(times.len(), 6);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not in time order: {times:?}"
    );
    let since = export(Some("2026-06-02T00:00:00Z")).await;
    assert_eq!(since.len(), 4);
    assert!(since.iter().all(|e| e.event.time.as_str() >= "2026-06-02"));
}

/// A principal's tag calls join the resource's history under their name,
/// once however often they are replayed.
pub async fn principals_tag_changes_are_history<S: AuditStore>(store: &S, prefix: &str) {
    use tagwarden_core::attribution::Creator;
    use tagwarden_core::catalog::tag_events::{TagOp, Tagged};
    use tagwarden_core::catalog::Resource;
    use tagwarden_core::pipeline::TagChange;
    let created = item(
        prefix,
        1,
        &format!("{prefix}-create"),
        "2026-07-01T00:00:00Z",
    );
    record(
        store,
        &rows_of(std::slice::from_ref(&created), State::Tagged, NOW),
    )
    .await;
    let bob = "arn:aws:sts::111122223333:assumed-role/Ops/bob";
    let change = |id: &str, time: &str, op: TagOp, tags: &[(&str, &str)]| TagChange {
        event: EventInfo {
            id: format!("{prefix}-{id}"),
            source: "ec2.amazonaws.com".into(),
            name: if op == TagOp::Remove {
                "DeleteTags"
            } else {
                "CreateTags"
            }
            .into(),
            time: time.into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
            partition: "aws".into(),
            source_ip: Some("198.51.100.4".into()),
            user_agent: None,
        },
        actor: Creator {
            id: bob.into(),
            kind: IdentityType::AssumedRole,
            invoked_by: None,
            role: Some("Ops".into()),
            session: Some("bob".into()),
            account: Some("111122223333".into()),
        },
        op,
        resources: vec![Tagged {
            resource: Resource {
                arn: created.arn.clone(),
                account: "111122223333".into(),
                region: "us-east-1".into(),
            },
            resource_type: "ec2:instance".into(),
        }],
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let changes = [
        change(
            "set",
            "2026-07-02T00:00:00Z",
            TagOp::Set,
            &[("Owner", "bob")],
        ),
        change(
            "rm",
            "2026-07-03T00:00:00Z",
            TagOp::Remove,
            &[("Owner", "")],
        ),
    ];
    let rows = crate::rows::rows(&Default::default(), &changes, &[], NOW);
    let first = record(store, &rows).await;
    assert_eq!((first.history, first.actions, first.metadata), (2, 2, 0));
    assert_eq!(record(store, &rows).await, Default::default(), "replayed");
    let h = store.history(&created.arn).await.unwrap();
    let seen: Vec<_> = h
        .history
        .iter()
        .map(|e| (e.change, e.actor.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (Change::Created, CREATOR),
            (Change::Tagged, "tagwarden"),
            (Change::TagsSet, bob),
            (Change::TagsRemoved, bob)
        ]
    );
    assert_eq!(
        h.history[2].added.get("Owner").map(String::as_str),
        Some("bob")
    );
    assert_eq!(h.history[3].removed, ["Owner"]);
    let actions = store.actions(bob).await.unwrap();
    let mine: Vec<_> = actions
        .iter()
        .filter(|a| a.event.id.starts_with(prefix))
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].event.name, "CreateTags");
    assert_eq!(mine[0].resources, std::slice::from_ref(&created.arn));
}

/// Append-only under concurrency: writers of overlapping batches of the
/// same events, each with its own `recorded_at`, run at once. The new rows
/// they report add up to the distinct rows, and each stored row carries the
/// `recorded_at` of the one writer that counted it: none was written twice.
pub async fn concurrent_writers_append_each_row_once<S: AuditStore>(store: &S, prefix: &str) {
    const WRITERS: usize = 4;
    let items: Vec<PlanItem> = (0..60)
        .map(|n| item(prefix, n, &format!("{prefix}-e{n}"), "2026-01-15T10:30:00Z"))
        .collect();
    // Writer w takes items 10w .. 10w + 30: each overlaps its neighbours.
    let batches: Vec<Rows> = (0..WRITERS)
        .map(|w| {
            let at = format!("2026-11-24T00:00:0{w}Z");
            rows_of(&items[10 * w..10 * w + 30], State::Tagged, &at)
        })
        .collect();
    let recorded = futures::future::join_all(batches.iter().map(|b| store.record(b))).await;
    let reported: Vec<usize> = recorded
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("record on {}: {e}", store.describe()))
                .history
        })
        .collect();
    let mut distinct = std::collections::BTreeSet::new();
    for b in &batches {
        for h in &b.history {
            distinct.insert((h.arn.clone(), h.event.id.clone(), h.change));
        }
    }
    assert_eq!(
        reported.iter().sum::<usize>(),
        distinct.len(),
        "{reported:?}"
    );
    let mut owned = [0usize; WRITERS];
    for i in &items {
        for h in store.history(&i.arn).await.expect("history").history {
            let w = (0..WRITERS)
                .find(|w| h.recorded_at == format!("2026-11-24T00:00:0{w}Z"))
                .unwrap_or_else(|| panic!("{}: recorded_at {}", h.arn, h.recorded_at));
            owned[w] += 1;
        }
    }
    assert_eq!(
        owned.to_vec(),
        reported,
        "each writer's count is the rows it owns"
    );
}

/// Evidence rows are written once each, read back per source in entry
/// order (the latest progress last) and per day (progress rows carry no
/// day), and say where a retried delivery resumes.
pub async fn evidence_is_append_only_and_found_by_day<S: AuditStore>(store: &S, prefix: &str) {
    use crate::model::{resume_after, Entry, Evidence, Source};
    let day = format!("2026-11-{}", 10 + prefix.len() % 18);
    let log = Source::log("trail", &format!("AWSLogs/{prefix}/x.json.gz"));
    let event = Source::Event(format!("{prefix}-e1"));
    let row = |source: &Source, entry, with_day: bool| Evidence {
        source: source.clone(),
        entry,
        day: with_day.then(|| day.clone()),
        at: NOW.into(),
        detail: String::new(),
    };
    let first = vec![
        row(&log, Entry::Acted, true),
        row(&log, Entry::Progress(900), false),
        row(&log, Entry::Progress(1_000), false),
        row(&event, Entry::Acted, true),
    ];
    assert_eq!(store.note(&first).await.expect("note"), 4);
    assert_eq!(
        store.note(&first).await.expect("again"),
        0,
        "a replay adds nothing"
    );
    let mut changed = row(&log, Entry::Progress(1_000), false);
    changed.at = LATER.into();
    assert_eq!(
        store.note(&[changed]).await.expect("note"),
        0,
        "rows are never rewritten"
    );
    let rows = store.evidence(&log).await.expect("evidence");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.at == NOW), "the first write holds");
    assert_eq!(rows.last().map(|r| r.entry), Some(Entry::Progress(1_000)));
    assert_eq!(resume_after(&rows), Some(1_000));
    store
        .note(&[row(&log, Entry::Read, true)])
        .await
        .expect("note");
    assert_eq!(resume_after(&store.evidence(&log).await.unwrap()), None);
    let on_day: Vec<(String, Entry)> = store
        .evidence_on(&day)
        .await
        .expect("by day")
        .into_iter()
        .filter(|r| r.source == log || r.source == event)
        .map(|r| (r.source.to_string(), r.entry))
        .collect();
    assert_eq!(
        on_day,
        [
            (event.to_string(), Entry::Acted),
            (log.to_string(), Entry::Acted),
            (log.to_string(), Entry::Read),
        ]
    );
    assert!(store.evidence_on("1999-01-01").await.unwrap().is_empty());
}

/// Every case, one after another.
/// Session hops are kept by the key each issued, once, and forgotten after
/// their credentials expired (the SQLite file forgets them as it keeps new
/// ones; DynamoDB's time to live does it in AWS, which moto does not run).
pub async fn sessions_are_kept_by_key<S: AuditStore>(store: &S, prefix: &str) {
    use tagwarden_core::catalog::sessions::{Issued, Principal};
    let hop = |key: &str, asker: Option<&str>, expires: Option<i64>| Issued {
        key: format!("{prefix}-{key}"),
        issued_at: None,
        expires,
        session: Some(format!("arn:aws:sts::1:assumed-role/ci/{key}")),
        asker: Principal {
            arn: Some("arn:aws:iam::1:user/alice".into()),
            kind: IdentityType::IAMUser,
            name: Some("alice".into()),
            provider: None,
        },
        asker_key: asker.map(|a| format!("{prefix}-{a}")),
    };
    let now = 1_800_000_000;
    let hops = [
        hop("ASIA1", Some("AKIA0"), Some(now + 3600)),
        hop("ASIA2", Some("ASIA1"), None),
    ];
    assert_eq!(store.keep_sessions(&hops, now).await.expect("keep"), 2);
    assert_eq!(
        store.keep_sessions(&hops, now).await.expect("again"),
        0,
        "kept once"
    );
    let k1 = format!("{prefix}-ASIA1");
    let k2 = format!("{prefix}-ASIA2");
    let mut got = store
        .sessions(&[&k1, &k2, "ASIA-unknown"], now)
        .await
        .expect("sessions");
    got.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(got, hops.to_vec());
    // Past its expiry and the grace after it, a hop is not served.
    let later = now + 3600 + SESSION_GRACE_SECONDS + 1;
    let got = store.sessions(&[&k1, &k2], later).await.expect("later");
    let keys: Vec<&str> = got.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, [k2.as_str()], "the hop whose expiry was given lapsed");
    // A hop read long after its credentials expired (a backfill) is kept
    // for a grace after the read.
    let old = [hop("ASIA3", Some("ASIA2"), Some(now - 30 * 86_400))];
    assert_eq!(store.keep_sessions(&old, now).await.expect("old"), 1);
    let k3 = format!("{prefix}-ASIA3");
    let got = store.sessions(&[&k3], now + 60).await.expect("old hop");
    assert_eq!(got, old.to_vec());

    // Console switches are kept each under its own key (the session's
    // name and the second of the switch): a name switched into again keeps
    // both, and a replay, however late, changes nothing.
    let switch = |at: i64, who: &str| Issued {
        key: tagwarden_core::catalog::sessions::console_key(
            &format!("arn:aws:sts::1:assumed-role/Admin/{prefix}"),
            at,
        ),
        issued_at: Some(at),
        expires: Some(at + 3600),
        session: Some(format!("arn:aws:sts::1:assumed-role/Admin/{prefix}")),
        asker: Principal {
            arn: Some(format!("arn:aws:iam::2:user/{who}")),
            kind: IdentityType::IAMUser,
            name: None,
            provider: None,
        },
        asker_key: None,
    };
    let switches = [switch(now, "monday"), switch(now + 86_400, "tuesday")];
    assert_eq!(store.keep_sessions(&switches, now).await.unwrap(), 2);
    assert_eq!(
        store.keep_sessions(&switches, now + 7200).await.unwrap(),
        0,
        "a later replay"
    );
    let keys: Vec<&str> = switches.iter().map(|s| s.key.as_str()).collect();
    let mut got = store.sessions(&keys, now + 86_400).await.expect("switches");
    got.sort_by_key(|h| h.issued_at);
    assert_eq!(got, switches.to_vec());
}

pub async fn run_all<S: AuditStore>(store: &S, prefix: &str) {
    store.init().await.expect("init");
    // `init` twice is harmless.
    store.init().await.expect("init again");
    records_and_reads_back(store, &format!("{prefix}-read")).await;
    replay_changes_nothing(store, &format!("{prefix}-replay")).await;
    dry_run_is_planned_only(store, &format!("{prefix}-dry")).await;
    failures_wait_for_a_retry(store, &format!("{prefix}-fail")).await;
    waiting_resources_end_tagged_or_failed(store, &format!("{prefix}-wait")).await;
    latest_event_wins(store, &format!("{prefix}-latest")).await;
    export_orders_and_filters(store, &format!("{prefix}-export")).await;
    principals_tag_changes_are_history(store, &format!("{prefix}-principal")).await;
    concurrent_writers_append_each_row_once(store, &format!("{prefix}-concurrent")).await;
    evidence_is_append_only_and_found_by_day(store, &format!("{prefix}-evidence")).await;
    sessions_are_kept_by_key(store, &format!("{prefix}-sessions")).await;
}
