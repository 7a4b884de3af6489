//! plan + what apply did → the rows to record. Pure, so the CLI and the
//! Lambda record the same thing for the same run.

use crate::model::{
    Batch, Change, Creator, EventRef, Failure, HistoryEntry, Metadata, State, Tags, UserAction,
    ValueChange, TAGWARDEN,
};
use std::collections::{BTreeMap, BTreeSet};
use tagwarden_core::catalog::tag_events::TagOp;
use tagwarden_core::pipeline::{EventInfo, TagChange};
use tagwarden_core::plan::PlanItem;
use tagwarden_core::tags::{TagKey, TagValue};

/// Checked tags as plain strings, as the store keeps them.
pub fn plain(tags: &BTreeMap<TagKey, TagValue>) -> Tags {
    tags.iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
        .collect()
}

/// What apply did to one planned resource.
#[derive(Debug, Clone)]
pub struct Handled<'p> {
    pub item: &'p PlanItem,
    /// Tags read before writing; `None` when they were not read.
    pub before: Option<Tags>,
    pub state: State,
    /// Written (`Tagged`), that would be written (`Planned`), or still to
    /// write (`Failed`).
    pub tags: Tags,
    pub error: Option<Failure>,
}

impl<'p> Handled<'p> {
    /// A resource whose creator set every tag: nothing to write.
    pub fn untouched(item: &'p PlanItem) -> Self {
        Self {
            item,
            before: None,
            state: State::AlreadyTagged,
            tags: Tags::new(),
            error: None,
        }
    }
}

pub fn event_ref(item: &PlanItem) -> EventRef {
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
pub fn tag_changes(changes: &[TagChange], now: &str, out: &mut Batch) {
    for c in changes {
        let event = event_of(&c.event);
        let (change, added, removed) = match c.op {
            TagOp::Set => (Change::TagsSet, c.tags.clone(), Vec::new()),
            TagOp::Replace => (Change::TagsReplaced, c.tags.clone(), Vec::new()),
            TagOp::Remove => (
                Change::TagsRemoved,
                Tags::new(),
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
pub fn remediation(handled: &[Handled<'_>], now: &str) -> Batch {
    let mut out = batch(handled, now);
    out.history.retain(|e| e.change != Change::Created);
    out.metadata.clear();
    out
}

/// The rows for one run; `now` is the time of recording (RFC 3339).
pub fn batch(handled: &[Handled<'_>], now: &str) -> Batch {
    let mut out = Batch::default();
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
            added: Tags::new(),
            changed: BTreeMap::new(),
            removed: Vec::new(),
            error: None,
            recorded_at: now.to_string(),
        };
        out.history.push(entry(Change::Created, &item.creator.arn));
        let change = match h.state {
            State::Tagged => Some(Change::Tagged),
            State::Planned => Some(Change::Planned),
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
            }),
            created: Some(event.clone()),
            last_event: event,
            state: h.state,
            pending: match h.state {
                State::Planned | State::Failed => h.tags.clone(),
                _ => Tags::new(),
            },
            error: h.error.clone(),
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
