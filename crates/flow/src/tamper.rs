//! tag calls + what the store says tagwarden owns → tampering undone. A
//! protected key whose value tagwarden wrote (`Metadata::owned`), removed
//! or changed by a later call, is written back, recorded as `restored`
//! naming whoever made the call, and reported (alert, `TamperEvents`).
//!
//! Who made the call is not trusted to tell: tagwarden itself only ever
//! writes the owned value, so a call that leaves the owned value in place
//! is no tampering whoever made it, and any other is, whoever made it (a
//! session name is the caller's choice).

use crate::attribute::{known, record, run, Tagging};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tagwarden_aws::adapters::Tagger;
use tagwarden_core::attribution::IdentityType;
use tagwarden_core::catalog::{self, tag_events::TagOp};
use tagwarden_core::outcome::{Outcome, Status};
use tagwarden_core::pipeline::{EventInfo, TagChange};
use tagwarden_core::plan::{CreatorSummary, PlanItem};
use tagwarden_core::report::one_line;
use tagwarden_core::tags::{TagKey, TagValue};
use tagwarden_store::model::{
    Change, EventRef, HistoryEntry, Metadata, Owned, Recorded, Rows, State, ValueChange, WriteError,
};
use tagwarden_store::{AuditStore, StoreError};

/// One call that removed or changed owned keys of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tamper {
    pub arn: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    /// Who made the call (its identity, as CloudTrail gives it).
    pub actor: String,
    pub event: EventInfo,
    /// Each owned key touched: the value it was changed to, or `None` when
    /// it was removed.
    pub touched: BTreeMap<String, Option<String>>,
    /// What to write back: the owned values.
    pub restore: BTreeMap<String, String>,
}

impl Tamper {
    /// The alert's line: the resource, the actor, what they did.
    pub fn line(&self) -> String {
        let what: Vec<String> = self
            .touched
            .iter()
            .map(|(k, to)| match to {
                Some(v) => format!("{k} changed to `{v}`"),
                None => format!("{k} removed"),
            })
            .collect();
        one_line(&format!(
            "{}: {} by {} (event {}, {})",
            self.arn,
            what.join(", "),
            self.actor,
            self.event.id,
            self.event.time
        ))
    }
}

/// The calls in `changes` that removed or changed a key tagwarden owns on
/// a resource `known` holds, and are newer than its owned value (a replay,
/// or an old log read again, is history).
pub fn tampering(changes: &[TagChange], known: &HashMap<String, Metadata>) -> Vec<Tamper> {
    let mut out = Vec::new();
    for c in changes {
        for t in &c.resources {
            let Some(m) = known.get(&t.resource.arn) else {
                continue;
            };
            let mut touched = BTreeMap::new();
            for (key, own) in &m.owned {
                if c.event.time <= own.since {
                    continue;
                }
                let after = match c.op {
                    TagOp::Set => match c.tags.get(key) {
                        Some(v) if *v != own.value => Some(Some(v.clone())),
                        _ => None,
                    },
                    TagOp::Remove => c.tags.contains_key(key).then_some(None),
                    TagOp::Replace => match c.tags.get(key) {
                        Some(v) if *v == own.value => None,
                        other => Some(other.cloned()),
                    },
                };
                if let Some(after) = after {
                    touched.insert(key.clone(), after);
                }
            }
            if touched.is_empty() {
                continue;
            }
            let restore = touched
                .keys()
                .map(|k| (k.clone(), m.owned[k].value.clone()))
                .collect();
            out.push(Tamper {
                arn: t.resource.arn.clone(),
                resource_type: t.resource_type.clone(),
                account: t.resource.account.clone(),
                region: t.resource.region.clone(),
                actor: c.actor.id.clone(),
                event: c.event.clone(),
                touched,
                restore,
            });
        }
    }
    out
}

/// What undoing a run's tampering gave.
#[derive(Debug, Default)]
pub struct Undone {
    pub tampers: Vec<Tamper>,
    /// One per tamper whose resource type the catalog can tag, in order.
    pub outcomes: Vec<Outcome>,
    pub rows: Rows,
    pub recorded: Option<Result<Recorded, StoreError>>,
}

impl Undone {
    /// Restores that failed, as the alert lists failures.
    pub fn failures(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .filter_map(|o| {
                let e = o.error()?;
                Some(format!("{}: restoring: {e} ({})", o.arn, e.kind.as_str()))
            })
            .collect()
    }
}

/// The tampering in `changes`, with the store's items of the resources
/// they touch (read only for those).
pub async fn find<S: AuditStore>(
    store: &S,
    changes: &[TagChange],
) -> Result<(Vec<Tamper>, HashMap<String, Metadata>), StoreError> {
    let mut arns: Vec<&str> = changes
        .iter()
        .flat_map(|c| c.resources.iter().map(|t| t.resource.arn.as_str()))
        .collect();
    arns.sort_unstable();
    arns.dedup();
    if arns.is_empty() {
        return Ok(Default::default());
    }
    let known = known(store, &arns).await?;
    Ok((tampering(changes, &known), known))
}

/// Finds the tampering in `changes`, writes the owned values back
/// (overwriting, as the keys are tagwarden's), and records each as
/// `restored`.
pub async fn undo<T: Tagger, S: AuditStore>(
    tagging: Tagging<'_, T>,
    store: &S,
    changes: &[TagChange],
    now: &str,
) -> Undone {
    let (tampers, known) = match find(store, changes).await {
        Ok(found) => found,
        Err(e) => {
            return Undone {
                recorded: Some(Err(e)),
                ..Undone::default()
            }
        }
    };
    if tampers.is_empty() {
        return Undone::default();
    }
    let (items, of): (Vec<PlanItem>, Vec<usize>) = tampers
        .iter()
        .enumerate()
        .filter_map(|(n, t)| Some((restore_item(t)?, n)))
        .unzip();
    let outcomes = run(tagging.with_overwrite(true), &items).await;
    let mut rows = Rows::default();
    for (n, t) in tampers.iter().enumerate() {
        let outcome = of
            .iter()
            .position(|&i| i == n)
            .and_then(|i| outcomes.iter().find(|o| o.item == i));
        // A dry run records nothing of it: the real run must still see
        // the tampering as new.
        if !matches!(outcome.map(|o| &o.status), Some(Status::WouldTag)) {
            restored(t, outcome, &known[&t.arn], now, &mut rows);
        }
    }
    let recorded = Some(record(store, &rows).await);
    Undone {
        tampers,
        outcomes,
        rows,
        recorded,
    }
}

/// The write that undoes `t`, or `None` when the catalog cannot tag its
/// type (it is still recorded and alerted).
fn restore_item(t: &Tamper) -> Option<PlanItem> {
    let (resource_type, api) = catalog::resource_type(&t.resource_type)?;
    let tags = t
        .restore
        .iter()
        .map(|(k, v)| Some((TagKey::new(k).ok()?, TagValue::clean(v))))
        .collect::<Option<_>>()?;
    Some(PlanItem {
        arn: t.arn.clone(),
        resource_type,
        account: t.account.clone(),
        region: t.region.clone(),
        event: Arc::new(t.event.clone()),
        creator: Arc::new(CreatorSummary::of(
            t.actor.clone(),
            IdentityType::of_arn(&t.actor),
            None,
        )),
        tags,
        api,
        kept: Default::default(),
        dropped: Vec::new(),
        mismatches: Vec::new(),
        replace: Default::default(),
        children: None,
    })
}

/// The `restored` history row (naming the actor) and the resource's item,
/// whose owned values now hold since the tampering call.
fn restored(t: &Tamper, o: Option<&Outcome>, m: &Metadata, now: &str, out: &mut Rows) {
    let event = EventRef {
        time: t.event.time.clone(),
        id: t.event.id.clone(),
        source: t.event.source.clone(),
        name: t.event.name.clone(),
    };
    let error = match o.map(|o| &o.status) {
        Some(Status::Tagged | Status::AlreadyTagged | Status::WouldTag) => None,
        Some(Status::Failed { error } | Status::Waiting { error }) => Some(WriteError {
            kind: error.kind.as_str().to_string(),
            message: one_line(&error.to_string()),
        }),
        Some(Status::Full) | None => Some(WriteError {
            kind: "unsupported".to_string(),
            message: format!(
                "{}: tagwarden cannot write this type's tags",
                t.resource_type
            ),
        }),
    };
    out.history.push(HistoryEntry {
        arn: t.arn.clone(),
        event: event.clone(),
        change: Change::Restored,
        actor: t.actor.clone(),
        resource_type: t.resource_type.clone(),
        account: t.account.clone(),
        region: t.region.clone(),
        added: Default::default(),
        changed: t
            .touched
            .iter()
            .map(|(k, to)| {
                let change = ValueChange {
                    before: to.clone().unwrap_or_default(),
                    after: t.restore[k].clone(),
                };
                (k.clone(), change)
            })
            .collect(),
        removed: t
            .touched
            .iter()
            .filter(|(_, to)| to.is_none())
            .map(|(k, _)| k.clone())
            .collect(),
        error: error.clone(),
        request_id: o.and_then(|o| o.request_id.clone()),
        recorded_at: now.to_string(),
    });
    let mut next = m.clone();
    for k in t.restore.keys() {
        if let Some(own) = next.owned.get_mut(k) {
            *own = Owned {
                value: own.value.clone(),
                since: t.event.time.clone(),
                asserted: own.asserted,
            };
        }
    }
    next.state = match error {
        Some(_) => State::Failed,
        None => State::Tagged,
    };
    next.pending = match next.state {
        State::Failed => t.restore.clone(),
        _ => Default::default(),
    };
    next.error = error;
    next.last_event = event;
    next.updated_at = now.to_string();
    out.metadata.push(next);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_core::attribution::Creator;
    use tagwarden_core::catalog::{tag_events::Tagged, Resource};

    const ARN: &str = "arn:aws:ec2:us-east-1:111122223333:instance/i-1";

    fn change(op: TagOp, tags: &[(&str, &str)], time: &str) -> TagChange {
        TagChange {
            event: EventInfo {
                id: format!("ev-{time}"),
                source: "ec2.amazonaws.com".into(),
                name: "DeleteTags".into(),
                time: time.into(),
                region: "us-east-1".into(),
                account: "111122223333".into(),
                partition: "aws".into(),
                source_ip: None,
                user_agent: None,
            },
            actor: Creator {
                id: "arn:aws:iam::111122223333:user/mallory".into(),
                kind: IdentityType::IAMUser,
                invoked_by: None,
                role: None,
                session: None,
                account: None,
            },
            op,
            resources: vec![Tagged {
                resource: Resource {
                    arn: ARN.into(),
                    account: "111122223333".into(),
                    region: "us-east-1".into(),
                },
                resource_type: "ec2:instance".into(),
            }],
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn known() -> HashMap<String, Metadata> {
        let item = tagwarden_store::suite::item("t", 1, "e1", "2026-01-15T10:30:00Z");
        let rows = tagwarden_store::suite::rows_of(
            std::slice::from_ref(&item),
            State::Tagged,
            "2026-01-15T11:00:00Z",
        );
        let mut m = rows.metadata[0].clone();
        m.arn = ARN.into();
        m.owned = [(
            "CreatedBy".to_string(),
            Owned {
                value: "alice".into(),
                since: "2026-01-15T10:30:00Z".into(),
                asserted: false,
            },
        )]
        .into();
        [(ARN.to_string(), m)].into()
    }

    #[test]
    fn removing_or_changing_an_owned_key_later_is_tampering() {
        let later = "2026-01-16T00:00:00Z";
        for (c, touched) in [
            (change(TagOp::Remove, &[("CreatedBy", "")], later), None),
            (
                change(TagOp::Set, &[("CreatedBy", "bob")], later),
                Some("bob".to_string()),
            ),
            // EC2 `DeleteTags` without a list, S3's whole-set replacement.
            (change(TagOp::Replace, &[], later), None),
            (
                change(TagOp::Replace, &[("CreatedBy", "eve")], later),
                Some("eve".to_string()),
            ),
        ] {
            let t = tampering(std::slice::from_ref(&c), &known());
            assert_eq!(t.len(), 1, "{c:?}");
            assert_eq!(t[0].touched, [("CreatedBy".to_string(), touched)].into());
            assert_eq!(t[0].restore, [("CreatedBy".into(), "alice".into())].into());
            assert_eq!(t[0].actor, "arn:aws:iam::111122223333:user/mallory");
            assert!(t[0]
                .line()
                .contains("by arn:aws:iam::111122223333:user/mallory"));
        }
    }

    #[test]
    fn the_owned_value_again_other_keys_and_old_calls_are_not() {
        let later = "2026-01-16T00:00:00Z";
        for c in [
            change(TagOp::Set, &[("CreatedBy", "alice")], later),
            change(TagOp::Remove, &[("Owner", "")], later),
            change(TagOp::Replace, &[("CreatedBy", "alice")], later),
            change(TagOp::Remove, &[("CreatedBy", "")], "2026-01-15T10:30:00Z"),
            change(TagOp::Remove, &[("CreatedBy", "")], "2026-01-01T00:00:00Z"),
        ] {
            assert_eq!(tampering(std::slice::from_ref(&c), &known()), [], "{c:?}");
        }
        let unknown = change(TagOp::Remove, &[("CreatedBy", "")], later);
        assert_eq!(tampering(&[unknown], &HashMap::new()), []);
    }
}
