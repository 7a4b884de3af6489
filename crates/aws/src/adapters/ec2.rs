//! EC2 `DescribeTags` / `CreateTags`: one call tags up to 1000 resources of
//! any EC2 type in one region.

use super::{id_after_type, untagged, ReadResult, Tags, WriteResult};
use crate::error::CallError;
use aws_sdk_ec2::types::{Filter, Tag};
use aws_sdk_ec2::Client;
use aws_types::request_id::RequestId;
use std::collections::HashMap;

pub(super) async fn read(client: &Client, arns: &[&str]) -> Result<ReadResult, CallError> {
    let by_id: HashMap<&str, &str> = arns.iter().map(|a| (id_after_type(a), *a)).collect();
    let mut tags = untagged(arns);
    let mut pages = client
        .describe_tags()
        .filters(
            Filter::builder()
                .name("resource-id")
                .set_values(Some(by_id.keys().map(|s| s.to_string()).collect()))
                .build(),
        )
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for t in page.tags() {
            // Only ids that were asked for.
            let Some(arn) = t.resource_id().and_then(|id| by_id.get(id)) else {
                continue;
            };
            if let (Some(k), Some(v)) = (t.key(), t.value()) {
                if let Some(current) = tags.get_mut(*arn) {
                    current.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    Ok(ReadResult {
        tags,
        failed: HashMap::new(),
    })
}

/// The volumes these instances were launched with: `DescribeVolumes`
/// filtered on `attachment.instance-id` (an id not visible yet matches
/// nothing rather than failing the call), less those attached later.
pub(super) async fn volumes(
    client: &Client,
    instances: &[&str],
) -> Result<Vec<(String, String)>, CallError> {
    let by_id: HashMap<&str, &str> = instances.iter().map(|a| (id_after_type(a), *a)).collect();
    let mut out = Vec::new();
    let mut pages = client
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .set_values(Some(by_id.keys().map(|s| s.to_string()).collect()))
                .build(),
        )
        .max_results(500)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for v in page.volumes() {
            let Some(volume) = v.volume_id() else {
                continue;
            };
            for a in v.attachments() {
                if let Some(parent) = a.instance_id().and_then(|i| by_id.get(i)) {
                    if made_with_the_instance(v.create_time(), a.attach_time()) {
                        out.push((parent.to_string(), volume.to_string()));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A volume the launch made is attached as it is created; one attached
/// later (someone else's, or made minutes after) is not the launch's child,
/// and its own event says who made it.
fn made_with_the_instance(
    created: Option<&aws_sdk_ec2::primitives::DateTime>,
    attached: Option<&aws_sdk_ec2::primitives::DateTime>,
) -> bool {
    const AT_LAUNCH_SECS: i64 = 300;
    match (created, attached) {
        (Some(c), Some(a)) => (a.secs() - c.secs()).abs() <= AT_LAUNCH_SECS,
        _ => false,
    }
}

pub(super) async fn write(
    client: &Client,
    arns: &[&str],
    tags: &Tags,
) -> Result<WriteResult, CallError> {
    let out = client
        .create_tags()
        .set_resources(Some(
            arns.iter().map(|a| id_after_type(a).to_string()).collect(),
        ))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(crate::error::from_sdk)?;
    Ok(WriteResult::one_call(
        arns,
        out.request_id(),
        HashMap::new(),
    ))
}
