//! Auto Scaling `DescribeTags` / `CreateOrUpdateTags`. Groups are addressed
//! by name (the event carries no group uuid, so the ARN is a pattern whose
//! tail is the name), and every tag needs `ResourceType` and
//! `PropagateAtLaunch`.

use super::{untagged, ReadResult, Tags, WriteResult};
use crate::error::CallError;
use aws_sdk_autoscaling::types::{Filter, Tag};
use aws_sdk_autoscaling::Client;
use aws_types::request_id::RequestId;
use std::collections::HashMap;

const NAME_MARK: &str = ":autoScalingGroupName/";

fn group_name(arn: &str) -> &str {
    arn.split_once(NAME_MARK).map_or(arn, |(_, name)| name)
}

pub(super) async fn read(client: &Client, arns: &[&str]) -> Result<ReadResult, CallError> {
    let by_name: HashMap<&str, &str> = arns.iter().map(|a| (group_name(a), *a)).collect();
    let mut tags = untagged(arns);
    let mut pages = client
        .describe_tags()
        .filters(
            Filter::builder()
                .name("auto-scaling-group")
                .set_values(Some(by_name.keys().map(|s| s.to_string()).collect()))
                .build(),
        )
        .max_records(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for t in page.tags() {
            let Some(arn) = t.resource_id().and_then(|n| by_name.get(n)) else {
                continue;
            };
            if let (Some(k), Some(current)) = (t.key(), tags.get_mut(*arn)) {
                current.insert(k.to_string(), t.value().unwrap_or_default().to_string());
            }
        }
    }
    Ok(ReadResult {
        tags,
        failed: HashMap::new(),
    })
}

pub(super) async fn write(
    client: &Client,
    arns: &[&str],
    tags: &Tags,
) -> Result<WriteResult, CallError> {
    let set = arns
        .iter()
        .flat_map(|arn| {
            tags.iter().map(move |(k, v)| {
                Tag::builder()
                    .resource_id(group_name(arn))
                    .resource_type("auto-scaling-group")
                    .key(k.as_str())
                    .value(v.as_str())
                    .propagate_at_launch(false)
                    .build()
            })
        })
        .collect();
    let out = client
        .create_or_update_tags()
        .set_tags(Some(set))
        .send()
        .await
        .map_err(crate::error::from_sdk)?;
    Ok(WriteResult::one_call(
        arns,
        out.request_id(),
        HashMap::new(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_group_name_is_the_arn_tail() {
        assert_eq!(
            super::group_name(
                "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:autoScalingGroupName/web-asg"
            ),
            "web-asg"
        );
    }
}
