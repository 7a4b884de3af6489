//! A plan counted rather than held: what a person reads before a question
//! about a million resources, built part by part so that the plan itself
//! never has to be in memory at once.

use crate::plan::{Plan, PlanItem};
use std::collections::BTreeMap;

/// What a planned resource is counted by, in the order shown.
pub const SECTIONS: [&str; 4] = ["service", "region", "account", "creator"];

/// A service's launch whose parent no part of the run created.
pub const PARENT_UNKNOWN: &str = "(a service's launch, parent unknown)";

/// Distinct keys a section tells apart.
pub const MAX_KEYS: usize = 10_000;

/// Where a section counts the keys past [`MAX_KEYS`].
pub const NOT_TOLD_APART: &str = "(the rest, not told apart)";

/// Counts of the resources to tag, and the first ones as they are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overview {
    pub resources: u64,
    pub already_tagged: u64,
    pub superseded: u64,
    pub over_limit: u64,
    /// Per [`SECTIONS`] entry: resources by that key.
    pub by: [BTreeMap<String, u64>; 4],
    /// Resources each tag key is written on.
    pub keys: BTreeMap<String, u64>,
    /// The first resources planned, up to `keep`.
    pub first: Vec<PlanItem>,
    keep: usize,
}

impl Overview {
    /// An empty overview that keeps the first `keep` resources whole.
    pub fn keeping(keep: usize) -> Self {
        Self {
            keep,
            ..Self::default()
        }
    }

    /// `plan` in one overview.
    pub fn of(plan: &Plan, keep: usize) -> Self {
        let mut o = Self::keeping(keep);
        o.add(plan);
        o
    }

    /// Counts one more part's plan in. A resource planned in two parts (an
    /// ARN created again later in the run) counts twice: the overview
    /// cannot remember a million ARNs, and the apply settles which wins.
    pub fn add(&mut self, plan: &Plan) {
        self.resources += plan.items.len() as u64;
        self.already_tagged += plan.already_tagged;
        self.superseded += plan.superseded;
        self.over_limit += plan.over_limit;
        for item in &plan.items {
            for (map, key) in self.by.iter_mut().zip(keys_of(item)) {
                // Session names may be new on every call: past a bound,
                // new keys are counted together, so memory stays flat.
                let key = match map.len() < MAX_KEYS || map.contains_key(key) {
                    true => key,
                    false => NOT_TOLD_APART,
                };
                *map.entry(key.to_string()).or_default() += 1;
            }
            for k in item.tags.keys() {
                *self.keys.entry(k.as_str().to_string()).or_default() += 1;
            }
        }
        let room = self.keep.saturating_sub(self.first.len());
        self.first.extend(plan.items.iter().take(room).cloned());
    }

    /// One section's counts, largest first (ties by key).
    pub fn section(&self, i: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.by[i].iter().map(|(k, n)| (k.as_str(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }
}

/// An item's key in each of [`SECTIONS`].
fn keys_of(item: &PlanItem) -> [&str; 4] {
    let service = item.resource_type.split(':').next().unwrap_or_default();
    let creator = item.creator.responsible().unwrap_or(PARENT_UNKNOWN);
    [service, &item.region, &item.account, creator]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{read_all, Found};
    use crate::plan::Planner;
    use crate::policy::Policy;

    fn plan_of(records: &[(&str, &str, &str)]) -> Plan {
        let records: Vec<String> = records
            .iter()
            .map(|(id, who, region)| {
                format!(
                    r#"{{"eventVersion":"1.08","eventTime":"2026-01-15T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateVolume","awsRegion":"{region}","eventID":"e-{id}","eventType":"AwsApiCall","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{who}","accountId":"111122223333"}},"requestParameters":{{}},"responseElements":{{"volumeId":"{id}"}}}}"#
                )
            })
            .collect();
        let log = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let (found, _) = read_all("log", log.as_bytes());
        let policy = Policy::default_policy();
        let mut planner = Planner::new(&policy);
        for f in found {
            if let Found::Creation(c) = f {
                planner.add(&c);
            }
        }
        planner.finish()
    }

    #[test]
    fn parts_counted_one_by_one_make_the_overview_of_the_whole() {
        let rows = [
            ("vol-1", "alice", "us-east-1"),
            ("vol-2", "bob", "eu-west-1"),
            ("vol-3", "bob", "eu-west-1"),
            ("vol-4", "carol", "us-east-1"),
        ];
        let whole = Overview::of(&plan_of(&rows), 3);
        let mut parts = Overview::keeping(3);
        parts.add(&plan_of(&rows[..1]));
        parts.add(&plan_of(&rows[1..]));
        // The first rows are the first planned: in a whole plan, by ARN.
        let first =
            |o: &Overview| -> Vec<String> { o.first.iter().map(|i| i.arn.clone()).collect() };
        assert!(first(&parts)[0].ends_with("vol-1"), "{:?}", first(&parts));
        assert!(first(&whole)[0].ends_with("vol-2"), "{:?}", first(&whole));
        let counts = |o: &Overview| Overview {
            first: Vec::new(),
            ..o.clone()
        };
        assert_eq!(counts(&parts), counts(&whole));
        assert_eq!(whole.resources, 4);
        assert_eq!(
            whole.section(3),
            vec![
                ("arn:aws:iam::111122223333:user/bob", 2),
                ("arn:aws:iam::111122223333:user/alice", 1),
                ("arn:aws:iam::111122223333:user/carol", 1),
            ]
        );
        assert_eq!(whole.section(1), vec![("eu-west-1", 2), ("us-east-1", 2)]);
        assert_eq!(whole.section(0), vec![("ec2", 4)]);
        assert_eq!(whole.keys.get("CreatedBy"), Some(&4));
        assert_eq!(first(&whole).len(), 3);
    }

    #[test]
    fn a_section_tells_apart_a_bounded_number_of_keys() {
        let names: Vec<String> = (0..MAX_KEYS + 2).map(|i| format!("u{i:05}")).collect();
        let rows: Vec<(&str, &str, &str)> = names
            .iter()
            .map(|n| (n.as_str(), n.as_str(), "us-east-1"))
            .collect();
        let o = Overview::of(&plan_of(&rows), 0);
        assert_eq!(o.by[3].len(), MAX_KEYS + 1);
        assert_eq!(o.by[3].get(NOT_TOLD_APART), Some(&2));
        assert_eq!(o.resources, MAX_KEYS as u64 + 2);
    }
}
