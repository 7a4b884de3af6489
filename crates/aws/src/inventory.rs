//! AWS → inventory: every resource of the types in scope, with its tags,
//! untagged ones included. The Resource Groups Tagging API never returns a
//! resource that has no tag (exactly the non-compliant ones), so each type
//! is listed through its own service, at the largest page size.

use crate::clients::{Clients, Scope};
use crate::error::CallError;
use aws_sdk_ec2::types::Filter;
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use tagwarden_core::catalog::{self, Scope as ArnScope};

/// One resource as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub arn: String,
    pub resource_type: &'static str,
    pub account: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
}

/// The types `scan` can list, in the catalog's names.
pub const TYPES: &[&str] = &[
    "ec2:instance",
    "ec2:volume",
    "ec2:snapshot",
    "ec2:security-group",
    "ec2:vpc",
    "ec2:subnet",
    "s3:bucket",
    "dynamodb:table",
];

/// Regions listed at once.
const REGIONS_AT_ONCE: usize = 4;

type Tagged = (String, BTreeMap<String, String>);

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Drains a paginator into (id, tags) pairs.
macro_rules! ec2_list {
    ($call:expr, $items:ident, $id:ident) => {{
        let mut out: Vec<Tagged> = Vec::new();
        let mut pages = $call.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(CallError::from_sdk)?;
            for r in page.$items() {
                if let Some(id) = r.$id() {
                    out.push((id.to_string(), ec2_tags(r.tags())));
                }
            }
        }
        out
    }};
}

async fn ec2(clients: &Clients, scope: Scope<'_>, ty: &str) -> Result<Vec<Tagged>, CallError> {
    let c = clients.ec2(scope).await?;
    Ok(match ty {
        "ec2:instance" => {
            // Terminated instances linger in listings for an hour: skip them.
            let live = Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build();
            let mut out = Vec::new();
            let mut pages = c
                .describe_instances()
                .filters(live)
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(CallError::from_sdk)?;
                for i in page.reservations().iter().flat_map(|r| r.instances()) {
                    if let Some(id) = i.instance_id() {
                        out.push((id.to_string(), ec2_tags(i.tags())));
                    }
                }
            }
            out
        }
        "ec2:volume" => ec2_list!(c.describe_volumes().max_results(500), volumes, volume_id),
        "ec2:snapshot" => ec2_list!(
            c.describe_snapshots().owner_ids("self").max_results(1000),
            snapshots,
            snapshot_id
        ),
        "ec2:security-group" => ec2_list!(
            c.describe_security_groups().max_results(1000),
            security_groups,
            group_id
        ),
        "ec2:vpc" => ec2_list!(c.describe_vpcs().max_results(1000), vpcs, vpc_id),
        "ec2:subnet" => ec2_list!(c.describe_subnets().max_results(1000), subnets, subnet_id),
        _ => Vec::new(),
    })
}

async fn dynamodb(clients: &Clients, scope: Scope<'_>) -> Result<Vec<Tagged>, CallError> {
    let c = clients.dynamodb(scope).await?;
    let mut names = Vec::new();
    let mut pages = c.list_tables().limit(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.map_err(CallError::from_sdk)?
                .table_names()
                .iter()
                .cloned(),
        );
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let arn = format!(
            "arn:{}:dynamodb:{}:{}:table/{name}",
            scope.partition, scope.region, scope.account
        );
        let mut tags = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            let page = c
                .list_tags_of_resource()
                .resource_arn(&arn)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(CallError::from_sdk)?;
            for t in page.tags() {
                tags.insert(t.key().to_string(), t.value().to_string());
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        out.push((arn, tags));
    }
    Ok(out)
}

/// Buckets whose home is one of `regions`, with their tags. ListBuckets is
/// global: it is asked once, and each bucket's region once.
async fn buckets(
    clients: &Clients,
    account: &str,
    regions: &[String],
) -> Result<Vec<Found>, CallError> {
    let probe = clients.own_s3(None);
    let listed = probe
        .list_buckets()
        .send()
        .await
        .map_err(CallError::from_sdk)?;
    let mut out = Vec::new();
    for b in listed.buckets() {
        let Some(name) = b.name() else { continue };
        let region = match b.bucket_region() {
            Some(r) => Some(r.to_string()),
            None => crate::s3_source::bucket_region(&probe, name).await,
        };
        let Some(region) = region.filter(|r| regions.contains(r)) else {
            continue;
        };
        let client = clients.own_s3(Some(&region));
        let tags = crate::adapters::s3::current(&client, name).await?;
        out.push(Found {
            arn: format!(
                "arn:{}:s3:::{name}",
                tagwarden_core::pipeline::partition_of_region(&region)
            ),
            resource_type: "s3:bucket",
            account: account.to_string(),
            region,
            tags,
        });
    }
    Ok(out)
}

/// Everything of `types` in `regions` of the caller's account; regions are
/// listed concurrently, a few at a time. A type that fails is an error for
/// the whole scan: a partial inventory would under-report violations.
pub async fn list(
    clients: &Clients,
    regions: &[String],
    types: &[&'static str],
) -> Result<Vec<Found>, CallError> {
    let account = clients.own_account().await?;
    let per_region = stream::iter(regions.iter().map(|region| {
        let account = account.clone();
        async move {
            let partition = tagwarden_core::pipeline::partition_of_region(region);
            let scope = Scope {
                partition,
                account: &account,
                region,
            };
            let arn_scope = ArnScope {
                partition,
                account: &account,
                region,
            };
            let mut found = Vec::new();
            for &ty in types {
                let listed = match ty {
                    t if t.starts_with("ec2:") => ec2(clients, scope, t).await?,
                    "dynamodb:table" => dynamodb(clients, scope).await?,
                    _ => continue,
                };
                for (id, tags) in listed {
                    let arn = catalog::arn_for(ty, &id, &arn_scope).unwrap_or(id);
                    found.push(Found {
                        arn,
                        resource_type: ty,
                        account: account.clone(),
                        region: region.clone(),
                        tags,
                    });
                }
            }
            Ok::<_, CallError>(found)
        }
    }))
    .buffer_unordered(REGIONS_AT_ONCE)
    .collect::<Vec<_>>()
    .await;
    let mut all = Vec::new();
    for r in per_region {
        all.extend(r?);
    }
    if types.contains(&"s3:bucket") {
        all.extend(buckets(clients, &account, regions).await?);
    }
    all.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(all)
}

/// Every region enabled for the account (`--regions all`).
pub async fn enabled_regions(clients: &Clients) -> Result<Vec<String>, CallError> {
    let account = clients.own_account().await?;
    let region = clients.default_region().unwrap_or("us-east-1").to_string();
    let scope = Scope {
        partition: tagwarden_core::pipeline::partition_of_region(&region),
        account: &account,
        region: &region,
    };
    let out = clients
        .ec2(scope)
        .await?
        .describe_regions()
        .send()
        .await
        .map_err(CallError::from_sdk)?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}
