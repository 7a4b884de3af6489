//! finding + policy → the tags remediation adds: the policy's `remediation`
//! templates, for required keys the resource lacks, filled from the
//! resource's own tags and place. Only missing keys are filled: a tag
//! someone set, even a wrong one, is theirs to fix. A value the policy
//! would itself reject is not written.

use crate::catalog::{self, arn_partition};
use crate::compliance::{allowed, Finding};
use crate::pipeline::EventInfo;
use crate::plan::{CreatorSummary, PlanItem};
use crate::policy::template::{Var, Vars};
use crate::policy::Compliance;
use crate::tags::{TagKey, TagValue};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What remediation would do for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fix {
    pub tags: BTreeMap<TagKey, TagValue>,
    /// Missing keys left alone, with why.
    pub skipped: Vec<(String, String)>,
}

struct Resource<'f>(&'f Finding);

impl Vars for Resource<'_> {
    fn get(&self, var: &Var) -> Option<Cow<'_, str>> {
        let f = self.0;
        let s = |s: &'_ str| Some(Cow::Owned(s.to_string()));
        match var {
            Var::Account => s(&f.account),
            Var::Region => s(&f.region),
            Var::Partition => arn_partition(&f.arn).and_then(s),
            Var::ResourceArn => s(&f.arn),
            Var::ResourceType => s(&f.resource_type),
            Var::Tag(k) => f
                .tags
                .get(k)
                .filter(|v| !v.is_empty())
                .map(|v| Cow::Borrowed(v.as_str())),
            // A scan has no event and no creator.
            _ => None,
        }
    }
}

/// What remediating a run's findings writes: one plan item per resource
/// it can fix, all under the one event the run stands for.
#[derive(Debug, Default)]
pub struct Remedies<'f> {
    pub items: Vec<PlanItem>,
    /// The finding behind each item, by index.
    pub fixing: Vec<&'f Finding>,
    /// Non-compliant resources with a gap remediation cannot fill (a wrong
    /// value, a wrong key case, no template).
    pub skipped: usize,
}

/// The event a remediation run stands for, and the principal running it.
/// Replaying the same run (same id and time) is recorded once.
pub fn stand_in(
    id: String,
    time: &str,
    region: &str,
    account: String,
    actor: String,
    agent: String,
) -> (Arc<EventInfo>, Arc<CreatorSummary>) {
    let event = EventInfo {
        id,
        source: "tagwarden".into(),
        name: EVENT_NAME.into(),
        time: time.to_string(),
        region: region.to_string(),
        account,
        partition: crate::pipeline::partition_of_region(region).to_string(),
        source_ip: None,
        user_agent: Some(agent),
    };
    let kind = crate::attribution::IdentityType::of_arn(&actor);
    let actor = CreatorSummary::of(actor, kind, None);
    (Arc::new(event), Arc::new(actor))
}

/// The event name remediation is recorded under.
pub const EVENT_NAME: &str = "RemediateTags";

/// The plan items that fill what `findings` lack.
pub fn remedies<'f>(
    policy: &Compliance,
    findings: &'f [Finding],
    event: &Arc<EventInfo>,
    actor: &Arc<CreatorSummary>,
) -> Remedies<'f> {
    let mut out = Remedies::default();
    for f in findings.iter().filter(|f| !f.verdict.compliant) {
        let fix = fix(policy, f);
        out.skipped += usize::from(!fix.skipped.is_empty());
        if fix.tags.is_empty() {
            continue;
        }
        let Some((resource_type, api)) = catalog::resource_type(&f.resource_type) else {
            continue;
        };
        out.items.push(PlanItem {
            arn: f.arn.clone(),
            resource_type,
            account: f.account.clone(),
            region: f.region.clone(),
            event: Arc::clone(event),
            creator: Arc::clone(actor),
            tags: fix.tags,
            api,
            kept: Default::default(),
            dropped: Vec::new(),
            mismatches: Vec::new(),
            replace: Default::default(),
            children: None,
        });
        out.fixing.push(f);
    }
    out
}

/// The tags to add to `finding`'s resource; empty when it is compliant or
/// the policy has no template for what it lacks.
pub fn fix(policy: &Compliance, finding: &Finding) -> Fix {
    let mut out = Fix::default();
    for missing in &finding.verdict.missing {
        let Ok(key) = TagKey::new(missing) else {
            continue;
        };
        let Some(template) = policy.remediation.get(&key) else {
            out.skipped
                .push((missing.clone(), "no remediation template".into()));
            continue;
        };
        let Some(raw) = template.render(&Resource(finding)) else {
            out.skipped.push((
                missing.clone(),
                format!("`{}` has no value for this resource", template),
            ));
            continue;
        };
        let value = TagValue::clean(&raw);
        if let Some(rule) = policy.required.get(&key) {
            if !allowed(rule, value.as_str()) {
                out.skipped.push((
                    missing.clone(),
                    format!(
                        "`{}` gives `{}`, which the policy does not allow",
                        template,
                        value.as_str()
                    ),
                ));
                continue;
            }
        }
        out.tags.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::evaluate;
    use crate::policy::Policy;

    fn finding(tags: &[(&str, &str)]) -> Finding {
        let policy = Policy::default_policy();
        let tags: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Finding {
            arn: "arn:aws:ec2:eu-west-1:111122223333:instance/i-1".into(),
            resource_type: "ec2:instance".into(),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            verdict: evaluate(&policy.compliance, "ec2:instance", &tags),
            tags,
        }
    }

    fn keys(fix: &Fix) -> Vec<(&str, &str)> {
        fix.tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn fills_only_missing_keys_from_the_resources_own_tags() {
        let policy = Policy::default_policy().compliance;
        let f = finding(&[
            ("CreatedBy", "arn:aws:iam::1:user/alice"),
            ("Environment", "production"),
        ]);
        let fix = fix(&policy, &f);
        assert_eq!(keys(&fix), [("Owner", "arn:aws:iam::1:user/alice")]);
        // Environment is wrong, not missing: its owner fixes it.
        assert!(fix.tags.keys().all(|k| k.as_str() != "Environment"));
        assert!(fix
            .skipped
            .iter()
            .any(|(k, why)| k == "Application" && why.contains("no remediation")));
    }

    #[test]
    fn a_template_without_a_value_or_with_a_rejected_value_writes_nothing() {
        let yaml = "compliance:\n  required:\n    Owner: {}\n    Environment: {allowed: [dev, prod]}\n  \
                    remediation:\n    Owner: \"{tags.CreatedBy}\"\n    Environment: \"{tags.Stage}\"\n";
        let policy = Policy::from_yaml(yaml).unwrap().compliance;
        let tags: BTreeMap<String, String> = [("Stage".to_string(), "qa".to_string())].into();
        let f = Finding {
            verdict: evaluate(&policy, "ec2:instance", &tags),
            tags,
            ..finding(&[])
        };
        let fix = fix(&policy, &f);
        assert!(fix.tags.is_empty(), "{fix:?}");
        let why: BTreeMap<_, _> = fix.skipped.into_iter().collect();
        assert!(why["Owner"].contains("no value"), "{why:?}");
        assert!(why["Environment"].contains("does not allow"), "{why:?}");
    }

    #[test]
    fn a_compliant_resource_needs_nothing() {
        let policy = Policy::default_policy().compliance;
        let f = finding(&[
            ("Owner", "a"),
            ("Environment", "dev"),
            ("Application", "web"),
            ("CreatedBy", "x"),
        ]);
        assert!(f.verdict.compliant);
        assert_eq!(fix(&policy, &f), Fix::default());
    }
}
