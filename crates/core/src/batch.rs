//! plan → batches: the fewest tagging calls that write the plan.
//!
//! A tagging call writes one tag set to many resources of one account and
//! region, so resources are grouped by (account, region, API, tag set) and
//! each group is cut at the API's real maximum.

use crate::catalog::TaggingApi;
use crate::plan::PlanItem;
use crate::tags::{TagKey, TagValue};
use std::collections::BTreeMap;

impl TaggingApi {
    /// Resources one call may name: the API's documented maximum.
    pub const fn max_batch(self) -> usize {
        match self {
            // CreateTags: "up to 1000 resource IDs" per request.
            TaggingApi::Ec2 => 1000,
            // TagResources: ResourceARNList holds 1 to 20 ARNs.
            TaggingApi::ResourceGroups => 20,
            // PutBucketTagging and IAM's TagUser/TagRole/TagPolicy name one
            // resource per call.
            TaggingApi::S3Bucket | TaggingApi::Iam => 1,
            // CreateOrUpdateTags takes tags for several groups, but one
            // group's error fails the whole call: one group per call keeps a
            // failure to its own group.
            TaggingApi::AutoScaling => 1,
            // Never planned (no tags): a batch of one, should one arise.
            TaggingApi::Untagged => 1,
        }
    }

    /// Resources one read of current tags may name.
    pub const fn max_read(self) -> usize {
        match self {
            // DescribeTags: a filter holds at most 200 values.
            TaggingApi::Ec2 => 200,
            // GetResources: ResourceARNList holds 1 to 100 ARNs.
            TaggingApi::ResourceGroups => 100,
            // GetBucketTagging and IAM's List*Tags name one resource.
            TaggingApi::S3Bucket | TaggingApi::Iam => 1,
            // DescribeTags: filter values, kept well under the API's limits.
            TaggingApi::AutoScaling => 50,
            TaggingApi::Untagged => 1,
        }
    }
}

/// One tagging call's worth of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<'p> {
    pub account: &'p str,
    pub region: &'p str,
    pub api: TaggingApi,
    pub tags: &'p BTreeMap<TagKey, TagValue>,
    /// At most `api.max_batch()` items, in ARN order.
    pub items: Vec<&'p PlanItem>,
}

type GroupKey<'p> = (&'p str, &'p str, TaggingApi, &'p BTreeMap<TagKey, TagValue>);

/// Cuts a plan into batches, deterministically: groups in key order, items
/// in ARN order (the plan's own order).
pub fn batches(items: &[PlanItem]) -> Vec<Batch<'_>> {
    let mut groups: BTreeMap<GroupKey<'_>, Vec<&PlanItem>> = BTreeMap::new();
    for item in items {
        groups
            .entry((&item.account, &item.region, item.api, &item.tags))
            .or_default()
            .push(item);
    }
    let mut out = Vec::new();
    for ((account, region, api, tags), members) in groups {
        for chunk in members.chunks(api.max_batch()) {
            out.push(Batch {
                account,
                region,
                api,
                tags,
                items: chunk.to_vec(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::IdentityType;
    use crate::pipeline::EventInfo;
    use crate::plan::CreatorSummary;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    fn item(n: usize, account: &str, region: &str, api: TaggingApi, creator: &str) -> PlanItem {
        let tags = BTreeMap::from([(TagKey::new("CreatedBy").unwrap(), TagValue::clean(creator))]);
        PlanItem {
            arn: format!("arn:aws:svc:{region}:{account}:thing/{n:06}"),
            resource_type: "svc:thing",
            account: account.into(),
            region: region.into(),
            event: Arc::new(EventInfo {
                id: format!("e{n}"),
                source: "svc.amazonaws.com".into(),
                name: "CreateThing".into(),
                time: "2026-01-15T10:30:00Z".into(),
                region: region.into(),
                account: account.into(),
                partition: "aws".into(),
                source_ip: None,
                user_agent: None,
            }),
            creator: Arc::new(CreatorSummary::of(
                creator.into(),
                IdentityType::IAMUser,
                None,
            )),
            tags,
            api,
            kept: BTreeSet::new(),
            dropped: vec![],
            mismatches: Vec::new(),
            replace: Default::default(),
            children: None,
        }
    }

    #[test]
    fn ec2_batches_fill_to_1000_and_tagging_api_batches_to_20() {
        let mut items: Vec<PlanItem> = (0..2500)
            .map(|n| item(n, "1", "r", TaggingApi::Ec2, "u"))
            .collect();
        items.extend((0..45).map(|n| item(n, "1", "r", TaggingApi::ResourceGroups, "u")));
        let sizes: Vec<(TaggingApi, usize)> = batches(&items)
            .iter()
            .map(|b| (b.api, b.items.len()))
            .collect();
        assert_eq!(
            sizes,
            [
                (TaggingApi::Ec2, 1000),
                (TaggingApi::Ec2, 1000),
                (TaggingApi::Ec2, 500),
                (TaggingApi::ResourceGroups, 20),
                (TaggingApi::ResourceGroups, 20),
                (TaggingApi::ResourceGroups, 5),
            ]
        );
    }

    proptest! {
        /// Every item lands in exactly one batch; a batch never mixes
        /// accounts, regions, APIs or tag sets, never exceeds its API's
        /// maximum, and the number of calls is the lower bound
        /// Σ ceil(n / max) over the groups.
        #[test]
        fn batches_are_minimal_and_never_mix(
            spec in proptest::collection::vec((0..2usize, 0..2usize, 0..3usize, 0..3usize), 0..300),
        ) {
            let apis = [TaggingApi::Ec2, TaggingApi::ResourceGroups, TaggingApi::Iam];
            let items: Vec<PlanItem> = spec
                .iter()
                .enumerate()
                .map(|(n, &(a, r, api, who))| {
                    item(n, ["111", "222"][a], ["us-east-1", "eu-west-1"][r], apis[api], ["u1", "u2", "u3"][who])
                })
                .collect();
            let out = batches(&items);
            let mut seen = BTreeSet::new();
            for b in &out {
                prop_assert!(!b.items.is_empty() && b.items.len() <= b.api.max_batch());
                for i in &b.items {
                    prop_assert!(i.account == b.account && i.region == b.region && i.api == b.api && &i.tags == b.tags);
                    prop_assert!(seen.insert(i.arn.clone()), "{} twice", i.arn);
                }
            }
            prop_assert_eq!(seen.len(), items.len());
            let mut groups: BTreeMap<GroupKey<'_>, usize> = BTreeMap::new();
            for i in &items {
                *groups.entry((&i.account, &i.region, i.api, &i.tags)).or_default() += 1;
            }
            let bound: usize = groups.iter().map(|((_, _, api, _), n)| n.div_ceil(api.max_batch())).sum();
            prop_assert_eq!(out.len(), bound);
        }
    }
}
