//! store + policy → why one resource is (or is not) tagged: its creation
//! event and catalog row, its creator and origin chain, the current
//! policy's decisions on it (recomputed, and said so), tagwarden's writes
//! and failures, others' tag changes and what was restored, and the
//! verdict the policy gives its tags.

use serde::Serialize;
use std::collections::BTreeMap;
use tagwarden_core::attribution::{Creator, IdentityType};
use tagwarden_core::catalog::{self, tag_events::type_of_arn, Resource, TaggingApi};
use tagwarden_core::chains::Origin;
use tagwarden_core::compliance::{evaluate, in_scope, Verdict};
use tagwarden_core::launches::LaunchedBy;
use tagwarden_core::pipeline::{Creation, EventInfo};
use tagwarden_core::plan::{CreatorSummary, Planner};
use tagwarden_core::policy::Policy;
use tagwarden_store::model::{Change, EventRef, HistoryEntry, Metadata, WriteError, TAGWARDEN};
use tagwarden_store::{AuditStore, StoreError};

/// What `explain` says of one ARN.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Explanation {
    Known(Box<Known>),
    /// The store holds nothing of the ARN: the likely reasons, most likely
    /// first.
    Unknown {
        arn: String,
        known: bool,
        reasons: Vec<String>,
    },
}

#[derive(Debug, Serialize)]
pub struct Known {
    pub arn: String,
    /// Always true: the store holds the resource.
    pub known: bool,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    /// How tagwarden last left it: `tagged`, `failed`, `pending`, …
    pub state: String,
    pub error: Option<WriteError>,
    /// Tags still to write (what `apply --retry-failed` writes).
    pub pending: BTreeMap<String, String>,
    pub creation: Option<CreationEvent>,
    pub creator: Option<CreatorView>,
    pub policy: Decisions,
    /// tagwarden's writes, dry runs, waits and failures, oldest first.
    pub writes: Vec<HistoryEntry>,
    /// Others' tag calls on it and tagwarden's restores, oldest first.
    pub tampering: Vec<HistoryEntry>,
    /// Protected keys the creator preset to another value.
    pub mismatches: Vec<HistoryEntry>,
    /// The current policy's verdict on the tags the store last saw.
    pub verdict: Option<Verdict>,
}

/// The creation event and the catalog row that read it.
#[derive(Debug, Serialize)]
pub struct CreationEvent {
    pub event: EventRef,
    /// `None` when no row reads that event any more.
    pub catalog: Option<Row>,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub resource_type: &'static str,
    pub ids: &'static str,
    pub arn: &'static str,
    pub tagging_api: TaggingApi,
}

#[derive(Debug, Serialize)]
pub struct CreatorView {
    pub arn: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub invoked_by: Option<String>,
    pub origin: Option<Origin>,
    pub source_identity: Option<String>,
    pub launched_by: Option<LaunchedBy>,
    /// Who answers "who created this"; `None` for a launch whose parent's
    /// creator is unknown.
    pub responsible: Option<String>,
}

/// The current policy's decision on each attribution key.
#[derive(Debug, Serialize)]
pub struct Decisions {
    /// Always true: the decisions are worked out again now, with the
    /// policy given, not read from the time of the write.
    pub recomputed: bool,
    pub note: &'static str,
    pub keys: Vec<Decision>,
}

#[derive(Debug, Serialize)]
pub struct Decision {
    pub key: String,
    /// What the policy writes; `None` when its template's value is null.
    pub value: Option<String>,
    /// What the resource carried when the store last saw it.
    pub current: Option<String>,
    pub decision: &'static str,
}

/// Explains `arn` from `store` under `policy`.
pub async fn explain<S: AuditStore>(
    store: &S,
    policy: &Policy,
    arn: &str,
) -> Result<Explanation, StoreError> {
    let h = store.history(arn).await?;
    let Some(m) = h.metadata else {
        if h.history.is_empty() {
            return Ok(Explanation::Unknown {
                arn: arn.to_string(),
                known: false,
                reasons: reasons(arn),
            });
        }
        // History without an item (a tag change on a resource never seen
        // created): what there is.
        return Ok(Explanation::Known(Box::new(from_history(arn, h.history))));
    };
    let (mut writes, mut tampering, mut mismatches) = (Vec::new(), Vec::new(), Vec::new());
    for e in h.history {
        match e.change {
            Change::Tagged | Change::Planned | Change::Pending | Change::Failed => writes.push(e),
            Change::AttributionMismatch => mismatches.push(e),
            Change::Restored => tampering.push(e),
            Change::TagsSet | Change::TagsRemoved | Change::TagsReplaced
                if e.actor != TAGWARDEN =>
            {
                tampering.push(e)
            }
            _ => {}
        }
    }
    let creator = m.creator.clone().map(|c| CreatorView {
        responsible: c.responsible().map(str::to_string),
        arn: c.arn,
        kind: c.kind,
        invoked_by: c.invoked_by,
        origin: c.origin,
        source_identity: c.source_identity,
        launched_by: c.launched_by,
    });
    let creation = m.created.clone().map(|event| CreationEvent {
        catalog: catalog::lookup(event.source.as_bytes(), event.name.as_bytes()).map(|e| Row {
            resource_type: e.resource_type,
            ids: e.ids,
            arn: e.arn,
            tagging_api: e.api,
        }),
        event,
    });
    let tags = m.tags.clone();
    let verdict = tags
        .as_ref()
        .filter(|_| in_scope(&policy.compliance, &m.resource_type))
        .map(|t| evaluate(&policy.compliance, &m.resource_type, t));
    Ok(Explanation::Known(Box::new(Known {
        policy: decisions(policy, &m),
        known: true,
        arn: m.arn,
        resource_type: m.resource_type,
        account: m.account,
        region: m.region,
        state: m.state.as_str().to_string(),
        error: m.error,
        pending: m.pending,
        creation,
        creator,
        writes,
        tampering,
        mismatches,
        verdict,
    })))
}

/// The policy's attribution, worked out again from what the store keeps of
/// the creation, against the tags the resource last carried.
fn decisions(policy: &Policy, m: &Metadata) -> Decisions {
    let note = "recomputed with the current policy from the stored creation; \
                values the store does not keep (the source IP, the user agent, \
                tags preset in the create call) render as null";
    // Planned twice: on the tags it carried (what is kept, dropped or
    // replaced) and on none (what each template renders to).
    let carried = m.tags.clone().unwrap_or_default();
    let keys = match (
        replan(policy, m, &carried),
        replan(policy, m, &BTreeMap::new()),
    ) {
        (Some(item), Some(plain)) => policy
            .attribution
            .tags
            .keys()
            .map(|key| {
                let k = key.as_str();
                let value = plain.tags.get(key).map(|v| v.as_str().to_string());
                let now = carried.get(k).cloned();
                let decision = match (&value, &now) {
                    (None, _) => "not written: its value is null",
                    _ if item.dropped.contains(key) => "dropped: AWS's 50-tag limit",
                    (Some(v), Some(n)) if v == n => "in place",
                    (Some(_), None) => "to write",
                    _ if item.kept.contains(k) => "kept: set by someone else",
                    _ => "to replace",
                };
                Decision {
                    key: k.to_string(),
                    value,
                    current: now,
                    decision,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    Decisions {
        recomputed: true,
        note,
        keys,
    }
}

/// The stored creation planned again with `policy`, `carried` standing for
/// the tags the resource carried.
fn replan(
    policy: &Policy,
    m: &Metadata,
    carried: &BTreeMap<String, String>,
) -> Option<tagwarden_core::plan::PlanItem> {
    let created = m.created.as_ref()?;
    let stored = m.creator.clone()?;
    let (resource_type, api) = catalog::resource_type(&m.resource_type)?;
    let kind = IdentityType::parse(&stored.kind);
    let partition = catalog::arn_partition(&m.arn).unwrap_or("aws").to_string();
    let creation = Creation {
        event: EventInfo {
            id: created.id.clone(),
            source: created.source.clone(),
            name: created.name.clone(),
            time: created.time.clone(),
            region: m.region.clone(),
            account: m.account.clone(),
            partition,
            source_ip: None,
            user_agent: None,
        },
        creator: Creator::from_arn(&stored.arn, kind, stored.invoked_by.clone()),
        resource_type,
        api,
        resources: vec![Resource {
            arn: m.arn.clone(),
            account: m.account.clone(),
            region: m.region.clone(),
        }],
        preset_tags: carried.clone(),
        access_key: None,
        source_identity: stored.source_identity.clone(),
        console: false,
        session_created: None,
        center_user: None,
        children: Vec::new(),
        unread: None,
    };
    let summary: CreatorSummary = stored.into();
    Planner::new(policy).replan(&creation, summary)
}

fn from_history(arn: &str, history: Vec<HistoryEntry>) -> Known {
    let first = &history[0];
    let (resource_type, account, region) = (
        first.resource_type.clone(),
        first.account.clone(),
        first.region.clone(),
    );
    let tampering = history
        .into_iter()
        .filter(|e| e.actor != TAGWARDEN || e.change == Change::Restored)
        .collect();
    Known {
        arn: arn.to_string(),
        known: true,
        resource_type,
        account,
        region,
        state: "unknown: never seen created".to_string(),
        error: None,
        pending: BTreeMap::new(),
        creation: None,
        creator: None,
        policy: Decisions {
            recomputed: true,
            note: "no creation is stored: nothing to plan",
            keys: Vec::new(),
        },
        writes: Vec::new(),
        tampering,
        mismatches: Vec::new(),
        verdict: None,
    }
}

/// Why the store may know nothing of `arn`, most likely first.
fn reasons(arn: &str) -> Vec<String> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    if fields.len() < 6 || fields[0] != "arn" {
        return vec![format!("`{arn}` is not an ARN")];
    }
    let ty = type_of_arn(arn);
    let mut out = Vec::new();
    match catalog::resource_type(&ty) {
        None => out.push(format!(
            "not in the catalog: tagwarden reads no event that creates `{ty}` resources \
             (docs/catalog.md lists those it reads)"
        )),
        Some(_) => {
            out.push(
                "its creation event has not been read yet: EventBridge delivers within \
                 seconds, CloudTrail log files within about 15 minutes"
                    .to_string(),
            );
            out.push(
                "it was created outside the time tagwarden has read: before it was \
                 deployed, or outside the logs or window given to `apply` or `backfill`"
                    .to_string(),
            );
            out.push(
                "its creation was refused: an account out of scope, or a record that \
                 failed the trust checks (see the function's logs)"
                    .to_string(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_arn_gets_the_likely_reasons() {
        let r = reasons("arn:aws:ec2:us-east-1:111122223333:instance/i-1");
        assert!(r[0].contains("not been read yet"), "{r:?}");
        let r = reasons("arn:aws:glacier:us-east-1:111122223333:vaults/v");
        assert_eq!(r.len(), 1);
        assert!(r[0].contains("not in the catalog") && r[0].contains("glacier:vaults"));
        assert!(reasons("i-1")[0].contains("not an ARN"));
    }
}
