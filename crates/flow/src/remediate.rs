//! findings → remedies → apply → record: fills what non-compliant
//! resources lack (missing keys only, never overwriting), under one event
//! that stands for the run, so a repeated run is recorded once.

use crate::attribute::{record, run, Settled, Tagging};
use std::collections::BTreeMap;
use std::sync::Arc;
use tagwarden_aws::adapters::Tagger;
use tagwarden_aws::clients::Clients;
use tagwarden_aws::error::CallError;
use tagwarden_core::compliance::{evaluate, Finding};
use tagwarden_core::outcome::{Outcome, Status};
use tagwarden_core::pipeline::EventInfo;
use tagwarden_core::plan::{CreatorSummary, PlanItem};
use tagwarden_core::policy::Policy;
use tagwarden_core::remediate;
use tagwarden_store::{rows, AuditStore};

pub use tagwarden_core::remediate::{remedies, Remedies};

/// The event a remediation run stands for (`id` and `at` are the run's,
/// kept by a retry), and the caller, who is the actor; `agent` names the
/// face. The home region is the clients' own.
pub async fn stand_in(
    clients: &Clients,
    id: String,
    at: &str,
    agent: String,
) -> Result<(Arc<EventInfo>, Arc<CreatorSummary>), CallError> {
    let actor = clients.own_arn().await?;
    let account = clients.own_account().await?;
    let home = clients.default_region().unwrap_or("us-east-1");
    Ok(remediate::stand_in(id, at, home, account, actor, agent))
}

/// Applies the remedies and records them (no creation rows: the scan did
/// not see the resources being created).
pub async fn remediate<T: Tagger, S: AuditStore>(
    tagging: Tagging<'_, T>,
    store: &S,
    items: &[PlanItem],
) -> Settled {
    // Remediation only ever adds missing keys.
    let tagging = tagging.with_overwrite(false);
    let outcomes = run(tagging, items).await;
    let rows = rows::remediation(items, &outcomes, &rows::now());
    let recorded = record(store, &rows).await;
    Settled {
        outcomes,
        rows,
        recorded,
        undone: Default::default(),
    }
}

/// Resources still non-compliant, judged on the tags apply read just
/// before writing (someone may have fixed some since the scan) plus what
/// it wrote.
pub fn still_bad(
    policy: &Policy,
    findings: &[Finding],
    fixing: &[&Finding],
    outcomes: &[Outcome],
) -> usize {
    let mut after: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for o in outcomes {
        if matches!(o.status, Status::Tagged | Status::AlreadyTagged) {
            let f = fixing[o.item];
            after.insert(&f.arn, o.after(Some(&f.tags)));
        }
    }
    findings
        .iter()
        .filter(|f| match after.get(f.arn.as_str()) {
            Some(tags) => !evaluate(&policy.compliance, &f.resource_type, tags).compliant,
            None => !f.verdict.compliant,
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::tests::{block, live, store};
    use crate::check::judge;
    use tagwarden_aws::inventory::LiveResource;
    use tagwarden_aws::mock::MemoryTagger;
    use tagwarden_store::model::Change;

    fn found(n: usize, tags: &[(&str, &str)]) -> LiveResource {
        LiveResource {
            arn: format!("arn:aws:ec2:us-east-1:111122223333:instance/i-{n:04}"),
            resource_type: "ec2:instance",
            account: "111122223333".into(),
            region: "us-east-1".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The event one remediation run stands for.
    fn run() -> (Arc<EventInfo>, Arc<CreatorSummary>) {
        remediate::stand_in(
            "tagwarden-scan-1".into(),
            "2026-03-01T00:00:00Z",
            "us-east-1",
            "111122223333".into(),
            "arn:aws:iam::111122223333:role/ops".into(),
            "test".into(),
        )
    }

    #[test]
    fn missing_keys_are_filled_once_and_what_is_left_is_counted() {
        let policy = Policy::default_policy();
        let fine = [("Environment", "dev"), ("Application", "web")];
        let findings = judge(
            vec![
                // Lacks Owner only: remediation makes it compliant.
                found(1, &[("CreatedBy", "alice"), fine[0], fine[1]]),
                // Lacks Owner and has a wrong Environment: stays bad.
                found(2, &[("CreatedBy", "bob"), ("Environment", "qa"), fine[1]]),
                // No CreatedBy to fill Owner from: nothing to write.
                found(3, &fine),
            ],
            &policy.compliance,
        );
        let (event, actor) = run();
        let fixes = remedies(&policy.compliance, &findings, &event, &actor);
        assert_eq!(fixes.items.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let (db, tagger) = (store(&dir), MemoryTagger::default());
        for f in &findings {
            tagger
                .tags
                .lock()
                .unwrap()
                .insert(f.arn.clone(), f.tags.clone());
        }
        let done = block(remediate(live(&tagger), &db, &fixes.items));
        assert_eq!(tagger.tags_of(&findings[0].arn)["Owner"], "alice");
        assert_eq!(tagger.tags_of(&findings[1].arn)["Owner"], "bob");
        let r = done.recorded.as_ref().unwrap();
        assert_eq!((r.history, r.actions, r.metadata), (2, 1, 0));
        let h = block(db.history(&findings[0].arn)).unwrap().history;
        assert_eq!(
            h.iter().map(|e| e.change).collect::<Vec<_>>(),
            [Change::Tagged],
            "no creation: the scan did not see it"
        );
        assert_eq!(
            still_bad(&policy, &findings, &fixes.fixing, &done.outcomes),
            2
        );
        // The same run again writes and records nothing.
        let calls = tagger.write_calls();
        let again = block(remediate(live(&tagger), &db, &fixes.items));
        assert_eq!(tagger.write_calls(), calls);
        assert_eq!(again.recorded.unwrap(), Default::default());
    }

    #[test]
    fn remediation_never_overwrites_whatever_the_options_say() {
        let policy = Policy::default_policy();
        let findings = judge(
            vec![found(1, &[("CreatedBy", "alice")])],
            &policy.compliance,
        );
        let (event, actor) = run();
        let fixes = remedies(&policy.compliance, &findings, &event, &actor);
        let tagger = MemoryTagger::default();
        // Someone sets Owner between the scan and the fix.
        tagger.tags.lock().unwrap().insert(
            findings[0].arn.clone(),
            [("Owner".to_string(), "carol".to_string())].into(),
        );
        let mut tagging = live(&tagger);
        if let Tagging::Live { opts, .. } = &mut tagging {
            opts.overwrite = true;
        }
        let dir = tempfile::tempdir().unwrap();
        block(remediate(tagging, &store(&dir), &fixes.items));
        assert_eq!(tagger.tags_of(&findings[0].arn)["Owner"], "carol");
    }
}
