//! Resource Groups Tagging API `GetResources` / `TagResources`: up to 100
//! ARNs per read and 20 per write, across most services.

use super::{untagged, ReadResult, Tags, WriteResult};
use crate::error::{CallError, ErrorKind};
use aws_sdk_resourcegroupstagging::Client;
use aws_types::request_id::RequestId;
use std::collections::{HashMap, HashSet};

pub(super) async fn read(client: &Client, arns: &[&str]) -> Result<ReadResult, CallError> {
    let asked: HashSet<&str> = arns.iter().copied().collect();
    let mut tags = untagged(arns);
    let mut pages = client
        .get_resources()
        .set_resource_arn_list(Some(arns.iter().map(|a| a.to_string()).collect()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for mapping in page.resource_tag_mapping_list() {
            // An emulator may answer with resources nobody asked about.
            let Some(arn) = mapping.resource_arn().filter(|a| asked.contains(a)) else {
                continue;
            };
            if let Some(current) = tags.get_mut(arn) {
                for t in mapping.tags() {
                    current.insert(t.key().to_string(), t.value().to_string());
                }
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
    let out = client
        .tag_resources()
        .set_resource_arn_list(Some(arns.iter().map(|a| a.to_string()).collect()))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
                .collect(),
        ))
        .send()
        .await
        .map_err(crate::error::from_sdk)?;
    let failed = out
        .failed_resources_map()
        .into_iter()
        .flatten()
        .map(|(arn, info)| {
            let code = info.error_code().map_or("", |c| c.as_str());
            let message = info.error_message().unwrap_or_default();
            let mut e = CallError::new(code, message);
            if info.status_code() >= 500 && e.kind == ErrorKind::Other {
                e.kind = ErrorKind::Transient;
            }
            (arn.clone(), e)
        })
        .collect();
    Ok(WriteResult::one_call(arns, out.request_id(), failed))
}
