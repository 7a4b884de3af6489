//! Resources as they are now → verdicts: the event check (what state
//! changes and creation events name, read directly) and the scan (every
//! listable type of a region, listed).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tagwarden_aws::clients::Clients;
use tagwarden_aws::error::CallError;
use tagwarden_aws::inventory::{self, LiveResource};
use tagwarden_core::compliance::{in_scope, AttributionMismatch, Finding};
use tagwarden_core::pipeline::InputError;
use tagwarden_core::policy::{Attribution, Compliance};
use tagwarden_core::subjects::{subjects, Subjects};
use tagwarden_store::model::{Change, HistoryEntry, Metadata};
use tagwarden_store::{AuditStore, StoreError};

/// What the events named, as found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Resources read, sorted by ARN, each once.
    pub found: Vec<LiveResource>,
    /// Not found or terminated: nothing to judge.
    pub gone: Vec<String>,
    /// On their way out (origin, ARN, state as the notification says): not
    /// read.
    pub leaving: Vec<(String, String, String)>,
    /// Could not be read, and why.
    pub failed: Vec<(String, CallError)>,
    pub errors: Vec<InputError>,
    /// Events that named nothing to check.
    pub named_nothing: Vec<String>,
    /// Regions checked.
    pub regions: Vec<String>,
}

/// Reads what each event (origin, payload) names, of the types `wanted`
/// admits; a notification for a whole region lists its instances. `Err`
/// when such a listing fails: a partial region would under-report.
pub async fn check(
    clients: &Arc<Clients>,
    events: &[(String, Vec<u8>)],
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Checked, String> {
    let mut out = Checked::default();
    let mut these = Vec::new();
    let mut whole_regions: BTreeSet<(String, String)> = BTreeSet::new();
    for (origin, payload) in events {
        let (named, errors) = subjects(origin, payload);
        let silent = errors.is_empty();
        out.errors.extend(errors);
        match named {
            Subjects::These(s) if s.is_empty() && silent => out.named_nothing.push(origin.clone()),
            Subjects::These(s) => these.extend(s.into_iter().filter(|s| wanted(s.resource_type))),
            Subjects::Region { account, region } => {
                whole_regions.insert((account, region));
            }
            Subjects::Gone { arn, state } => out.leaving.push((origin.clone(), arn, state)),
        }
    }
    let read = inventory::these(clients, &these).await;
    (out.found, out.gone, out.failed) = (read.found, read.gone, read.failed);
    // Both faces stop on a resource that could not be read: no listing
    // after it.
    if !out.failed.is_empty() {
        return Ok(out);
    }
    let mut regions: BTreeSet<String> = out.found.iter().map(|f| f.region.clone()).collect();
    for (account, region) in whole_regions {
        if wanted("ec2:instance") {
            let listed = inventory::list(
                clients,
                std::slice::from_ref(&account),
                std::slice::from_ref(&region),
                &["ec2:instance"],
            )
            .await
            .map_err(|e| format!("listing the instances of {account} in {region}: {e}"))?;
            out.found.extend(listed);
        }
        regions.insert(region);
    }
    out.found.sort_by(|a, b| a.arn.cmp(&b.arn));
    out.found.dedup_by(|a, b| a.arn == b.arn);
    out.regions = regions.into_iter().collect();
    Ok(out)
}

/// The types a scan lists: those inventory can list that the policy
/// covers.
pub fn listable(policy: &Compliance) -> Vec<&'static str> {
    inventory::types().filter(|t| in_scope(policy, t)).collect()
}

/// The verdict on every resource of `types` in `regions` of `accounts`
/// (the caller's own when empty).
pub async fn scan(
    clients: &Clients,
    accounts: &[String],
    regions: &[String],
    types: &[&'static str],
    policy: &Compliance,
) -> Result<Vec<Finding>, CallError> {
    Ok(judge(
        inventory::list(clients, accounts, regions, types).await?,
        policy,
    ))
}

/// Verdicts under the policy.
pub fn judge(found: Vec<LiveResource>, policy: &Compliance) -> Vec<Finding> {
    found.into_iter().map(|f| f.judge(policy)).collect()
}

/// Marks the findings whose protected attribution keys differ from what
/// the audit store says (design.md, "Protected keys"): a key tagwarden
/// wrote and owns that now holds another value or is gone (tampering not
/// undone yet, or done while tagwarden was not looking), and a creator's
/// preset value kept under `enforce: false` (its `attribution-mismatch`
/// row). One batched read of the items; a resource's history is read only
/// when it carries a protected key tagwarden does not own.
pub async fn attribution<S: AuditStore>(
    store: &S,
    policy: &Attribution,
    findings: &mut [Finding],
) -> Result<usize, StoreError> {
    if policy.protect.is_empty() || findings.is_empty() {
        return Ok(0);
    }
    let arns: Vec<&str> = findings.iter().map(|f| f.arn.as_str()).collect();
    let known: HashMap<String, Metadata> = store
        .metadata(&arns)
        .await?
        .into_iter()
        .map(|m| (m.arn.clone(), m))
        .collect();
    let mut marked = 0;
    for f in findings.iter_mut() {
        let Some(m) = known.get(&f.arn) else {
            continue;
        };
        let creator = m
            .creator
            .as_ref()
            .map(|c| c.arn.clone())
            .unwrap_or_default();
        let mut history = None;
        for key in &policy.protect {
            let key = key.as_str();
            let found = f.tags.get(key).cloned();
            let expected = match (m.owned.get(key), &found) {
                (Some(owned), _) => Some(owned.value.clone()),
                (None, Some(v)) if !policy.allows(v) => {
                    if history.is_none() {
                        history = Some(store.history(&f.arn).await?.history);
                    }
                    preset_mismatch(history.as_deref().unwrap_or_default(), key)
                }
                (None, _) => None,
            };
            if let Some(expected) = expected.filter(|e| found.as_ref() != Some(e)) {
                let creator = creator.clone();
                f.verdict.mismatch(
                    key,
                    AttributionMismatch {
                        found,
                        expected,
                        creator,
                    },
                );
                marked += 1;
            }
        }
    }
    Ok(marked)
}

/// What the creation event supports for `key`, from the latest
/// `attribution-mismatch` row that kept a creator's preset value.
fn preset_mismatch(history: &[HistoryEntry], key: &str) -> Option<String> {
    history
        .iter()
        .rev()
        .filter(|h| h.change == Change::AttributionMismatch)
        .find_map(|h| h.changed.get(key).map(|c| c.after.clone()))
}
