//! plan → plan with the children its events do not name: an instance's
//! volumes attach while it starts, so no record lists them. They are read
//! once, one call per account, region and [`PER_READ`] parents, and planned
//! with their parent's event and creator (design.md, "The person behind the
//! role").

use std::collections::{BTreeMap, HashSet};
use tagwarden_aws::adapters::{Tagger, Target};
use tagwarden_aws::apply::Backoff;
use tagwarden_aws::clients::Scope;
use tagwarden_aws::error::CallError;
use tagwarden_core::catalog::{self, TaggingApi};
use tagwarden_core::plan::{Plan, PlanItem};

/// Parents one read names: EC2 takes at most 200 values in a filter.
pub const PER_READ: usize = 200;

/// Whether any item of `plan` has children to read: a plan without them
/// costs no copy and no call.
pub fn has_children(plan: &Plan) -> bool {
    plan.items
        .iter()
        .chain(&plan.untouched)
        .any(|i| i.children.is_some())
}

/// The plan with its parents' unnamed children, and a line for each read
/// that failed after `backoff`'s retries (its parents' children stay
/// untagged: reported and alerted).
pub async fn with_children<T: Tagger>(
    tagger: &T,
    mut plan: Plan,
    backoff: Backoff,
) -> (Plan, Vec<String>) {
    type Key<'p> = (&'p str, &'p str, &'p str, TaggingApi, &'static str);
    let mut groups: BTreeMap<Key<'_>, Vec<&PlanItem>> = BTreeMap::new();
    for item in plan.items.iter().chain(&plan.untouched) {
        if let Some(c) = &item.children {
            let key = (
                item.event.partition.as_str(),
                item.account.as_str(),
                item.region.as_str(),
                item.api,
                c.resource_type,
            );
            groups.entry(key).or_default().push(item);
        }
    }
    if groups.is_empty() {
        return (plan, Vec::new());
    }
    let mut known: HashSet<String> = plan
        .items
        .iter()
        .chain(&plan.untouched)
        .map(|i| i.arn.clone())
        .collect();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for ((partition, account, region, api, child_type), parents) in groups {
        let scope = Scope {
            partition,
            account,
            region,
        };
        for chunk in parents.chunks(PER_READ) {
            let arns: Vec<&str> = chunk.iter().map(|i| i.arn.as_str()).collect();
            let target = Target { scope, api };
            let pairs = match read(tagger, target, child_type, &arns, backoff).await {
                Ok(pairs) => pairs,
                Err(e) => {
                    errors.push(format!(
                        "reading the {child_type} children of {} resources in {account}/{region}: {e}",
                        arns.len()
                    ));
                    continue;
                }
            };
            let core = catalog::Scope {
                partition,
                region,
                account,
            };
            for (parent, id) in pairs {
                let Some(arn) = catalog::arn_for(child_type, &id, &core) else {
                    continue;
                };
                let Some(item) = chunk.iter().find(|i| i.arn == parent) else {
                    continue;
                };
                if known.insert(arn.clone()) {
                    found.push(child_of(item, arn));
                }
            }
        }
    }
    for child in found {
        match child.tags.is_empty() {
            true => plan.untouched.push(child),
            false => plan.items.push(child),
        }
    }
    plan.items.sort_by(|a, b| a.arn.cmp(&b.arn));
    plan.untouched.sort_by(|a, b| a.arn.cmp(&b.arn));
    (plan, errors)
}

/// One read, tried again while it fails for what may pass (throttling,
/// 5xx, a cut connection).
async fn read<T: Tagger>(
    tagger: &T,
    target: Target<'_>,
    child_type: &str,
    parents: &[&str],
    backoff: Backoff,
) -> Result<Vec<(String, String)>, CallError> {
    let mut attempt = 0;
    loop {
        match tagger.children(target, child_type, parents).await {
            Err(e) if e.kind.retryable() && attempt < backoff.retries => {
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// The child's item: its parent's event and creator, the tags planned for
/// its kind.
fn child_of(parent: &PlanItem, arn: String) -> PlanItem {
    let c = parent
        .children
        .as_deref()
        .expect("only parents with children are read");
    PlanItem {
        arn,
        resource_type: c.resource_type,
        api: c.api,
        tags: c.tags.clone(),
        kept: Default::default(),
        dropped: Vec::new(),
        mismatches: Vec::new(),
        replace: Default::default(),
        children: None,
        ..parent.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tagwarden_aws::mock::MemoryTagger;
    use tagwarden_core::pipeline::{read_all, Found};
    use tagwarden_core::plan::Planner;
    use tagwarden_core::policy::Policy;

    fn plan(instances: usize) -> Plan {
        let items: Vec<String> = (0..instances)
            .map(|n| format!(r#"{{"instanceId":"i-{n:04}"}}"#))
            .collect();
        let log = format!(
            r#"{{"Records":[{{"eventVersion":"1.09","eventTime":"2026-01-15T10:30:00Z","eventSource":"ec2.amazonaws.com",
              "eventName":"RunInstances","awsRegion":"us-east-1","eventID":"run-1","readOnly":false,"eventType":"AwsApiCall",
              "managementEvent":true,"recipientAccountId":"111122223333",
              "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},
              "requestParameters":{{"tagSpecificationSet":{{"items":[{{"resourceType":"volume","tags":[{{"key":"ManagedBy","value":"ops"}}]}}]}}}},
              "responseElements":{{"instancesSet":{{"items":[{}]}}}}}}]}}"#,
            items.join(",")
        );
        let (found, _) = read_all("log", log.as_bytes());
        let policy = Policy::default_policy();
        let mut planner = Planner::new(&policy);
        for f in found {
            match f {
                Found::Creation(c) => planner.add(&c),
                other => panic!("{other:?}"),
            }
        }
        planner.finish()
    }

    fn arn(kind: &str, id: &str) -> String {
        format!("arn:aws:ec2:us-east-1:111122223333:{kind}/{id}")
    }

    #[tokio::test]
    async fn an_instances_volumes_are_read_in_batches_and_planned_as_its_creators() {
        let attached: HashMap<String, Vec<String>> = (0..201)
            .map(|n| {
                (
                    arn("instance", &format!("i-{n:04}")),
                    vec![format!("vol-{n:04}")],
                )
            })
            .collect();
        let tagger = MemoryTagger {
            attached,
            ..Default::default()
        };
        let (plan, errors) = with_children(&tagger, plan(201), Backoff::default()).await;
        assert!(errors.is_empty(), "{errors:?}");
        let reads = tagger.child_reads.lock().unwrap().clone();
        assert_eq!(reads.iter().map(Vec::len).collect::<Vec<_>>(), [200, 1]);
        let volume = plan
            .items
            .iter()
            .find(|i| i.arn == arn("volume", "vol-0007"))
            .expect("the volume is planned");
        assert_eq!(volume.resource_type, "ec2:volume");
        assert_eq!(volume.api, TaggingApi::Ec2);
        assert_eq!(volume.event.id, "run-1");
        assert_eq!(volume.creator.arn, "arn:aws:iam::111122223333:user/alice");
        let keys: Vec<&str> = volume.tags.keys().map(|k| k.as_str()).collect();
        // The creator's own volume tag is kept, not planned.
        assert_eq!(keys, ["CreatedBy", "CreatedDate"]);
        assert!(volume.children.is_none());
        assert_eq!(plan.items.len(), 2 * 201);
        assert!(
            plan.items.windows(2).all(|w| w[0].arn < w[1].arn),
            "ordered by ARN"
        );
    }

    #[tokio::test]
    async fn a_denied_read_is_reported_and_the_plan_kept() {
        let tagger = MemoryTagger {
            denied: true,
            ..Default::default()
        };
        let (plan, errors) = with_children(&tagger, plan(2), Backoff::default()).await;
        assert_eq!(plan.items.len(), 2, "the instances are still planned");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("ec2:volume") && errors[0].contains("UnauthorizedOperation"),
            "{errors:?}"
        );
    }
}
