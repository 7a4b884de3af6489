//! The record stage: plan + apply's outcomes (+ the tag calls seen) → the
//! rows to record. Pure and the only place rows are made, so the CLI and
//! the Lambda record the same thing for the same run.

use crate::model::{
    Change, Creator, EventRef, HistoryEntry, Metadata, Owned, PlainTags, Rows, State, UserAction,
    ValueChange, WriteError, TAGWARDEN,
};
use std::collections::{BTreeMap, BTreeSet};
use tagwarden_core::catalog::tag_events::TagOp;
use tagwarden_core::outcome::{Outcome, Status};
use tagwarden_core::pipeline::{EventInfo, TagChange};
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_core::reconcile::Current;
use tagwarden_core::report::one_line;
use tagwarden_core::tags::{TagKey, TagValue};

/// Checked tags as plain strings, as the store keeps them.
pub fn plain(tags: &BTreeMap<TagKey, TagValue>) -> PlainTags {
    tags.iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
        .collect()
}

/// One outcome in the store's terms.
struct Row<'p> {
    item: &'p PlanItem,
    /// Tags read before writing; `None` when they were not read.
    before: Option<PlainTags>,
    state: State,
    /// Written (`Tagged`), that would be written (`Planned`), or still to
    /// write (`Failed`).
    tags: PlainTags,
    error: Option<WriteError>,
    /// AWS's id of the write (CloudTrail's `requestID`).
    request_id: Option<String>,
}

impl<'p> Row<'p> {
    fn of(item: &'p PlanItem, o: &Outcome) -> Self {
        if o.status == Status::AlreadyTagged {
            if let Some((before, tags)) = own_write(item, o.before.as_ref()) {
                return Row {
                    item,
                    before: Some(before),
                    state: State::Tagged,
                    tags,
                    error: None,
                    request_id: None,
                };
            }
        }
        let (state, tags, error) = match &o.status {
            Status::Tagged => (State::Tagged, plain(&o.written), None),
            Status::WouldTag => (State::Planned, plain(&o.written), None),
            Status::AlreadyTagged => (State::AlreadyTagged, PlainTags::new(), None),
            Status::Full => (State::Full, PlainTags::new(), None),
            Status::Waiting { error } | Status::Failed { error } => {
                let state = match o.status {
                    Status::Waiting { .. } => State::Pending,
                    _ => State::Failed,
                };
                let error = WriteError {
                    kind: error.kind.as_str().to_string(),
                    message: one_line(&error.to_string()),
                };
                (state, plain(&item.tags), Some(error))
            }
        };
        Row {
            item,
            before: o.before.clone(),
            state,
            tags,
            error,
            request_id: o.request_id.clone(),
        }
    }

    /// A resource whose creator set every tag: nothing to write.
    fn untouched(item: &'p PlanItem) -> Self {
        Row {
            item,
            before: None,
            state: State::AlreadyTagged,
            tags: PlainTags::new(),
            error: None,
            request_id: None,
        }
    }
}

/// When the resource already carries every tag this event would write,
/// with this event's values (its creator, its time), the write was this
/// event's own: a redelivery after the store failed to record it, or a
/// replay. It is recorded as tagged under the event (the store keeps an
/// event's row once, so a replay adds nothing and a redelivery fills the
/// gap). Returns what the resource had besides, and the event's tags.
fn own_write(item: &PlanItem, current: Option<&Current>) -> Option<(PlainTags, PlainTags)> {
    let current = current?;
    let ours = plain(&item.tags);
    let all_ours = !ours.is_empty() && ours.iter().all(|(k, v)| current.get(k) == Some(v));
    all_ours.then(|| {
        let besides = current
            .iter()
            .filter(|(k, _)| !ours.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (besides, ours)
    })
}

/// Every creation and tag call a run saw, and every outcome, as one batch.
pub fn rows(plan: &Plan, changes: &[TagChange], outcomes: &[Outcome], now: &str) -> Rows {
    let mut handled: Vec<_> = outcomes
        .iter()
        .map(|o| Row::of(&plan.items[o.item], o))
        .collect();
    handled.extend(plan.untouched.iter().map(Row::untouched));
    let mut out = build(&handled, &plan.protect, now);
    tag_changes(changes, now, &mut out);
    out
}

/// The rows of `outcomes` of `items` (each outcome's `item` indexes them).
pub fn outcomes(items: &[PlanItem], outcomes: &[Outcome], now: &str) -> Rows {
    let handled: Vec<_> = outcomes
        .iter()
        .map(|o| Row::of(&items[o.item], o))
        .collect();
    build(&handled, &[], now)
}

/// Now, as the store writes times.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn event_ref(item: &PlanItem) -> EventRef {
    event_of(&item.event)
}

fn event_of(e: &EventInfo) -> EventRef {
    EventRef {
        time: e.time.clone(),
        id: e.id.clone(),
        source: e.source.clone(),
        name: e.name.clone(),
    }
}

/// Principals' tag calls: a history entry per resource and one action per
/// call. They change no TagsMetadata item: its tags are what tagwarden
/// last read.
fn tag_changes(changes: &[TagChange], now: &str, out: &mut Rows) {
    for c in changes {
        let event = event_of(&c.event);
        let (change, added, removed) = match c.op {
            TagOp::Set => (Change::TagsSet, c.tags.clone(), Vec::new()),
            TagOp::Replace => (Change::TagsReplaced, c.tags.clone(), Vec::new()),
            TagOp::Remove => (
                Change::TagsRemoved,
                PlainTags::new(),
                c.tags.keys().cloned().collect(),
            ),
        };
        for t in &c.resources {
            out.history.push(HistoryEntry {
                arn: t.resource.arn.clone(),
                event: event.clone(),
                change,
                actor: c.actor.id.clone(),
                resource_type: t.resource_type.clone(),
                account: t.resource.account.clone(),
                region: t.resource.region.clone(),
                added: added.clone(),
                changed: BTreeMap::new(),
                removed: removed.clone(),
                error: None,
                request_id: None,
                recorded_at: now.to_string(),
            });
        }
        out.actions.push(UserAction {
            principal: c.actor.id.clone(),
            event: event.clone(),
            account: c.event.account.clone(),
            region: c.event.region.clone(),
            resources: c.resources.iter().map(|t| t.resource.arn.clone()).collect(),
            source_ip: c.event.source_ip.clone(),
            user_agent: c.event.user_agent.clone(),
            outcome: "success".to_string(),
            recorded_at: now.to_string(),
        });
    }
}

/// The rows for a scan's remediation: what was written (or would be, or
/// failed) and one action for the run, under the event the run stands for.
/// No creation and no TagsMetadata: the scan did not see the resource
/// being created, and its creator stays whoever the store knows.
pub fn remediation(items: &[PlanItem], done: &[Outcome], now: &str) -> Rows {
    let mut out = outcomes(items, done, now);
    out.history.retain(|e| e.change != Change::Created);
    out.metadata.clear();
    out
}

/// The rows for one run; `now` is the time of recording (RFC 3339).
/// `protect` names the keys tagwarden owns once it wrote them.
fn build(handled: &[Row<'_>], protect: &[TagKey], now: &str) -> Rows {
    let mut out = Rows::default();
    let mut actions: BTreeMap<(&str, &str), (usize, BTreeSet<&str>)> = BTreeMap::new();
    for (n, h) in handled.iter().enumerate() {
        let item = h.item;
        let event = event_ref(item);
        let entry = |change: Change, actor: &str| HistoryEntry {
            arn: item.arn.clone(),
            event: event.clone(),
            change,
            actor: actor.to_string(),
            resource_type: item.resource_type.to_string(),
            account: item.account.clone(),
            region: item.region.clone(),
            added: PlainTags::new(),
            changed: BTreeMap::new(),
            removed: Vec::new(),
            error: None,
            request_id: None,
            recorded_at: now.to_string(),
        };
        out.history.push(entry(Change::Created, &item.creator.arn));
        if !item.mismatches.is_empty() {
            let mut e = entry(Change::AttributionMismatch, &item.creator.arn);
            for m in &item.mismatches {
                let after = m.expected.as_str().to_string();
                let before = m.preset.clone();
                e.changed
                    .insert(m.key.as_str().to_string(), ValueChange { before, after });
            }
            out.history.push(e);
        }
        let change = match h.state {
            State::Tagged => Some(Change::Tagged),
            State::Planned => Some(Change::Planned),
            State::Pending => Some(Change::Pending),
            State::Failed => Some(Change::Failed),
            State::AlreadyTagged | State::Full => None,
        };
        if let Some(change) = change {
            let mut e = entry(change, TAGWARDEN);
            for (k, v) in &h.tags {
                match h.before.as_ref().and_then(|b| b.get(k)) {
                    Some(old) if old == v => {}
                    Some(old) => {
                        e.changed.insert(
                            k.clone(),
                            ValueChange {
                                before: old.clone(),
                                after: v.clone(),
                            },
                        );
                    }
                    None => {
                        e.added.insert(k.clone(), v.clone());
                    }
                }
            }
            e.error = h.error.clone();
            e.request_id = h.request_id.clone();
            out.history.push(e);
        }
        let tags = h.before.clone().map(|mut t| {
            if h.state == State::Tagged {
                t.extend(h.tags.clone());
            }
            t
        });
        out.metadata.push(Metadata {
            arn: item.arn.clone(),
            resource_type: item.resource_type.to_string(),
            account: item.account.clone(),
            region: item.region.clone(),
            tags,
            creator: Some(Creator {
                arn: item.creator.arn.clone(),
                kind: item.creator.kind.as_str().to_string(),
                invoked_by: item.creator.invoked_by.clone(),
                origin: item.creator.origin.clone(),
                source_identity: item.creator.source_identity.clone(),
                launched_by: item.creator.launched_by.clone(),
            }),
            created: Some(event.clone()),
            last_event: event,
            state: h.state,
            pending: match h.state {
                State::Planned | State::Pending | State::Failed => h.tags.clone(),
                _ => PlainTags::new(),
            },
            error: h.error.clone(),
            owned: match h.state {
                State::Tagged => h
                    .tags
                    .iter()
                    .filter(|(k, _)| protect.iter().any(|p| p.as_str() == k.as_str()))
                    .map(|(k, v)| {
                        let owned = Owned {
                            value: v.clone(),
                            since: item.event.time.clone(),
                            asserted: item.event.name == tagwarden_core::trigger::DIRECT_EVENT,
                        };
                        (k.clone(), owned)
                    })
                    .collect(),
                _ => BTreeMap::new(),
            },
            updated_at: now.to_string(),
        });
        actions
            .entry((item.creator.arn.as_str(), item.event.id.as_str()))
            .or_insert_with(|| (n, BTreeSet::new()))
            .1
            .insert(&item.arn);
    }
    for ((principal, _), (first, resources)) in actions {
        let item = handled[first].item;
        out.actions.push(UserAction {
            principal: principal.to_string(),
            event: event_ref(item),
            account: item.event.account.clone(),
            region: item.event.region.clone(),
            resources: resources.into_iter().map(str::to_string).collect(),
            source_ip: item.event.source_ip.clone(),
            user_agent: item.event.user_agent.clone(),
            outcome: "success".to_string(),
            recorded_at: now.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Change;
    use crate::suite;

    fn recorded(item: &PlanItem, status: Status, before: Option<Current>) -> Rows {
        let o = Outcome::new(0, item, status, Default::default(), before.as_ref());
        outcomes(std::slice::from_ref(item), &[o], "2026-01-15T11:00:00Z")
    }

    fn history(b: &Rows) -> Vec<(Change, PlainTags)> {
        b.history
            .iter()
            .map(|e| (e.change, e.added.clone()))
            .collect()
    }

    #[test]
    fn tags_this_event_would_write_already_there_are_recorded_as_its_own_write() {
        let item = suite::item("i", 1, "e1", "2026-01-15T10:30:00Z");
        let ours = plain(&item.tags);
        let mut current: Current = ours.clone();
        current.insert("Name".into(), "web".into());
        let b = recorded(&item, Status::AlreadyTagged, Some(current));
        assert_eq!(b.metadata[0].state, State::Tagged);
        assert_eq!(
            history(&b),
            [
                (Change::Created, PlainTags::new()),
                (Change::Tagged, ours.clone())
            ]
        );
        let mut all = ours.clone();
        all.insert("Name".into(), "web".into());
        assert_eq!(b.metadata[0].tags, Some(all));

        // Someone else's value for one of the keys: not this event's write.
        let mut theirs: Current = ours.clone();
        theirs.insert("CreatedBy".into(), "bob".into());
        let b = recorded(&item, Status::AlreadyTagged, Some(theirs));
        assert_eq!(b.metadata[0].state, State::AlreadyTagged);
        assert_eq!(history(&b), [(Change::Created, PlainTags::new())]);

        // Nothing read: nothing to judge by.
        let b = recorded(&item, Status::AlreadyTagged, None);
        assert_eq!(b.metadata[0].state, State::AlreadyTagged);
    }
}
