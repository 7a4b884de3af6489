//! AWS → inventory: every resource of the types in scope, with its tags,
//! untagged ones included. The Resource Groups Tagging API never returns a
//! resource that has no tag (exactly the non-compliant ones), so each type
//! is listed through its own service, at the largest page size. Where the
//! listing carries no tags (Lambda, SNS, SQS), one paged GetResources for
//! all those types together supplies them: it is complete for the tagged
//! ones, and what it leaves out has no tag.

use crate::adapters::{AwsTagger, Tagger, Target};
use crate::clients::{Clients, Scope};
use crate::error::CallError;
use aws_sdk_ec2::types::Filter;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tagwarden_core::catalog::TaggingApi;
use tagwarden_core::catalog::{self, Scope as ArnScope};
use tagwarden_core::compliance::{evaluate, Finding};
use tagwarden_core::policy::Compliance;
use tagwarden_core::subjects::Subject;

/// One resource as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveResource {
    pub arn: String,
    pub resource_type: &'static str,
    pub account: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
}

impl LiveResource {
    /// The resource's verdict under `policy`.
    pub fn judge(self, policy: &Compliance) -> Finding {
        Finding {
            verdict: evaluate(policy, self.resource_type, &self.tags),
            arn: self.arn,
            resource_type: self.resource_type.to_string(),
            account: self.account,
            region: self.region,
            tags: self.tags,
        }
    }
}

/// How a type is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lister {
    /// EC2 Describe*, tags inline.
    Ec2,
    /// RDS Describe*, `TagList` inline.
    Rds,
    /// DynamoDB ListTables, then ListTagsOfResource per table (the tagging
    /// API serves tables too, but a table's listing is by name).
    Dynamodb,
    /// A listing without tags, joined with GetResources.
    Untagged,
    /// S3 ListBuckets: global, once per account.
    S3,
}

/// The types `scan` can list, in the catalog's names, and how.
const LISTERS: &[(&str, Lister)] = &[
    ("ec2:instance", Lister::Ec2),
    ("ec2:volume", Lister::Ec2),
    ("ec2:snapshot", Lister::Ec2),
    ("ec2:security-group", Lister::Ec2),
    ("ec2:vpc", Lister::Ec2),
    ("ec2:subnet", Lister::Ec2),
    ("s3:bucket", Lister::S3),
    ("rds:db", Lister::Rds),
    ("rds:cluster", Lister::Rds),
    ("lambda:function", Lister::Untagged),
    ("dynamodb:table", Lister::Dynamodb),
    ("sns:topic", Lister::Untagged),
    ("sqs:queue", Lister::Untagged),
];

/// The types `scan` can list.
pub fn types() -> impl Iterator<Item = &'static str> {
    LISTERS.iter().map(|(t, _)| *t)
}

fn lister(ty: &str) -> Option<Lister> {
    LISTERS.iter().find(|(t, _)| *t == ty).map(|(_, l)| *l)
}

/// Regions listed at once.
const REGIONS_AT_ONCE: usize = 4;

/// (ARN, tags).
type Tagged = (String, BTreeMap<String, String>);

/// An SDK tag list as a map; each service has its own `Tag` type, all
/// with an optional key and value.
fn tag_map<T>(
    tags: &[T],
    kv: impl Fn(&T) -> (Option<&str>, Option<&str>),
) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            let (k, v) = kv(t);
            Some((k?.to_string(), v.unwrap_or_default().to_string()))
        })
        .collect()
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tag_map(tags, |t| (t.key(), t.value()))
}

/// Drains a paginator: `drain!(call, |page| items of the page)`.
macro_rules! drain {
    ($call:expr, |$page:ident| $items:expr) => {{
        let mut out = Vec::new();
        let mut pages = $call.into_paginator().send();
        while let Some($page) = pages.next().await {
            let $page = $page.map_err(crate::error::from_sdk)?;
            out.extend($items);
        }
        out
    }};
}

/// An EC2 listing's (id, tags) pairs.
macro_rules! ec2_list {
    ($call:expr, $items:ident, $id:ident) => {
        drain!($call, |page| page
            .$items()
            .iter()
            .filter_map(|r| Some((r.$id()?.to_string(), ec2_tags(r.tags()))))
            .collect::<Vec<_>>())
    };
}

async fn ec2(clients: &Clients, scope: Scope<'_>, ty: &str) -> Result<Vec<Tagged>, CallError> {
    let c = clients.ec2(scope).await?;
    let ids: Vec<(String, BTreeMap<String, String>)> = match ty {
        "ec2:instance" => {
            // Terminated instances linger in listings for an hour: skip them.
            let live = Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build();
            drain!(
                c.describe_instances().filters(live).max_results(1000),
                |page| page
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .filter_map(|i| Some((i.instance_id()?.to_string(), ec2_tags(i.tags()))))
                    .collect::<Vec<_>>()
            )
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
    };
    let arn_scope = ArnScope {
        partition: scope.partition,
        account: scope.account,
        region: scope.region,
    };
    Ok(ids
        .into_iter()
        .map(|(id, tags)| (catalog::arn_for(ty, &id, &arn_scope).unwrap_or(id), tags))
        .collect())
}

fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    tag_map(tags, |t| (t.key(), t.value()))
}

async fn rds(clients: &Clients, scope: Scope<'_>, ty: &str) -> Result<Vec<Tagged>, CallError> {
    let c = clients.rds(scope).await?;
    Ok(if ty == "rds:db" {
        drain!(c.describe_db_instances().max_records(100), |page| page
            .db_instances()
            .iter()
            .filter_map(|db| Some((db.db_instance_arn()?.to_string(), rds_tags(db.tag_list()))))
            .collect::<Vec<_>>())
    } else {
        drain!(c.describe_db_clusters().max_records(100), |page| page
            .db_clusters()
            .iter()
            .filter_map(|cl| Some((cl.db_cluster_arn()?.to_string(), rds_tags(cl.tag_list()))))
            .collect::<Vec<_>>())
    })
}

async fn dynamodb(clients: &Clients, scope: Scope<'_>) -> Result<Vec<Tagged>, CallError> {
    let c = clients.dynamodb(scope).await?;
    let names: Vec<String> = drain!(c.list_tables().limit(100), |page| page
        .table_names()
        .to_vec());
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
                .map_err(crate::error::from_sdk)?;
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

/// The ARNs of a type whose listing carries no tags.
async fn arns(clients: &Clients, scope: Scope<'_>, ty: &str) -> Result<Vec<String>, CallError> {
    Ok(match ty {
        "lambda:function" => {
            let c = clients.lambda(scope).await?;
            drain!(c.list_functions().max_items(50), |page| page
                .functions()
                .iter()
                .filter_map(|f| f.function_arn().map(str::to_string))
                .collect::<Vec<_>>())
        }
        "sns:topic" => {
            let c = clients.sns(scope).await?;
            drain!(c.list_topics(), |page| page
                .topics()
                .iter()
                .filter_map(|t| t.topic_arn().map(str::to_string))
                .collect::<Vec<_>>())
        }
        "sqs:queue" => {
            let c = clients.sqs(scope).await?;
            // …/ACCOUNT/NAME: the queue URL carries the name.
            drain!(c.list_queues().max_results(1000), |page| page
                .queue_urls()
                .iter()
                .filter_map(|u| u.rsplit('/').next())
                .map(|name| format!(
                    "arn:{}:sqs:{}:{}:{name}",
                    scope.partition, scope.region, scope.account
                ))
                .collect::<Vec<_>>())
        }
        _ => Vec::new(),
    })
}

/// Tags of every tagged resource of `types`, from one paged GetResources.
async fn tagged(
    clients: &Clients,
    scope: Scope<'_>,
    types: &[&str],
) -> Result<HashMap<String, BTreeMap<String, String>>, CallError> {
    let c = clients.tagging(scope).await?;
    let mut out = HashMap::new();
    let mut pages = c
        .get_resources()
        .set_resource_type_filters(Some(types.iter().map(|t| t.to_string()).collect()))
        .resources_per_page(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for r in page
            .map_err(crate::error::from_sdk)?
            .resource_tag_mapping_list()
        {
            let Some(arn) = r.resource_arn() else {
                continue;
            };
            let tags = r
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            out.insert(arn.to_string(), tags);
        }
    }
    Ok(out)
}

/// One account and region: every type but S3.
async fn region(
    clients: &Clients,
    scope: Scope<'_>,
    types: &[&'static str],
) -> Result<Vec<LiveResource>, CallError> {
    let mut found = Vec::new();
    let mut push = |ty: &'static str, listed: Vec<Tagged>| {
        found.extend(listed.into_iter().map(|(arn, tags)| LiveResource {
            arn,
            resource_type: ty,
            account: scope.account.to_string(),
            region: scope.region.to_string(),
            tags,
        }))
    };
    let untagged: Vec<&'static str> = types
        .iter()
        .copied()
        .filter(|t| lister(t) == Some(Lister::Untagged))
        .collect();
    for &ty in types {
        match lister(ty) {
            Some(Lister::Ec2) => push(ty, ec2(clients, scope, ty).await?),
            Some(Lister::Rds) => push(ty, rds(clients, scope, ty).await?),
            Some(Lister::Dynamodb) => push(ty, dynamodb(clients, scope).await?),
            Some(Lister::Untagged | Lister::S3) | None => {}
        }
    }
    let mut listed = Vec::new();
    for &ty in &untagged {
        listed.push((ty, arns(clients, scope, ty).await?));
    }
    if listed.iter().any(|(_, a)| !a.is_empty()) {
        let mut tags = tagged(clients, scope, &untagged).await?;
        for (ty, arns) in listed {
            let with_tags = arns
                .into_iter()
                .map(|arn| {
                    let t = tags.remove(&arn).unwrap_or_default();
                    (arn, t)
                })
                .collect();
            push(ty, with_tags);
        }
    }
    Ok(found)
}

/// ListBuckets pages at its largest.
const BUCKETS_PER_PAGE: i32 = 10_000;

/// Bucket names by home region, for `regions` only. ListBuckets is global
/// and names each bucket's region; where a listing does not (older
/// endpoints, emulators), it is asked once per region with the
/// `bucket-region` filter rather than once per bucket.
async fn bucket_names(
    probe: &aws_sdk_s3::Client,
    regions: &[String],
) -> Result<Vec<(String, String)>, CallError> {
    let all: Vec<(String, Option<String>)> =
        drain!(probe.list_buckets().max_buckets(BUCKETS_PER_PAGE), |page| {
            page.buckets()
                .iter()
                .filter_map(|b| {
                    Some((b.name()?.to_string(), b.bucket_region().map(str::to_string)))
                })
                .collect::<Vec<_>>()
        });
    if all.iter().all(|(_, r)| r.is_some()) {
        return Ok(all
            .into_iter()
            .filter_map(|(n, r)| r.filter(|r| regions.contains(r)).map(|r| (n, r)))
            .collect());
    }
    let mut out = Vec::new();
    for region in regions {
        out.extend(drain!(
            probe
                .list_buckets()
                .bucket_region(region)
                .max_buckets(BUCKETS_PER_PAGE),
            |page| page
                .buckets()
                .iter()
                .filter_map(|b| Some((b.name()?.to_string(), region.clone())))
                .collect::<Vec<_>>()
        ));
    }
    Ok(out)
}

/// Buckets whose home is one of `regions`, with their tags.
async fn buckets(
    clients: &Clients,
    account: &str,
    regions: &[String],
) -> Result<Vec<LiveResource>, CallError> {
    let home = clients.default_region().unwrap_or("us-east-1").to_string();
    let client_in = |region: String| async move {
        let scope = Scope {
            partition: tagwarden_core::pipeline::partition_of_region(&region),
            account,
            region: &region,
        };
        clients.s3(scope).await
    };
    let probe = client_in(home).await?;
    let mut out = Vec::new();
    for (name, region) in bucket_names(&probe, regions).await? {
        let client = client_in(region.clone()).await?;
        let tags = crate::adapters::s3::current(&client, &name).await?;
        out.push(LiveResource {
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

/// Everything of `types` in `regions` of each of `accounts` (the caller's
/// own when empty; others through the assumed role). Account × region
/// pairs are listed concurrently, a few at a time. A type that fails is an
/// error for the whole scan: a partial inventory would under-report
/// violations.
pub async fn list(
    clients: &Clients,
    accounts: &[String],
    regions: &[String],
    types: &[&'static str],
) -> Result<Vec<LiveResource>, CallError> {
    let accounts = if accounts.is_empty() {
        vec![clients.own_account().await?]
    } else {
        accounts.to_vec()
    };
    let pairs: Vec<(&String, &String)> = accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a, r)))
        .collect();
    let per_region = stream::iter(pairs.into_iter().map(|(account, region)| async move {
        let scope = Scope {
            partition: tagwarden_core::pipeline::partition_of_region(region),
            account,
            region,
        };
        self::region(clients, scope, types).await
    }))
    .buffer_unordered(REGIONS_AT_ONCE)
    .collect::<Vec<_>>()
    .await;
    let mut all = Vec::new();
    for r in per_region {
        all.extend(r?);
    }
    if types.contains(&"s3:bucket") {
        for account in &accounts {
            all.extend(buckets(clients, account, regions).await?);
        }
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
        .map_err(crate::error::from_sdk)?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

/// What became of the resources events named.
#[derive(Debug, Default)]
pub struct Read {
    pub found: Vec<LiveResource>,
    /// Instances no longer there (terminated, or never visible): nothing
    /// to judge.
    pub gone: Vec<String>,
    pub failed: Vec<(String, CallError)>,
}

/// EC2 takes at most 200 values in one filter.
const FILTER_VALUES_MAX: usize = 200;

/// Instances by id, live ones only: a tag read alone cannot tell a
/// terminated instance from an untagged one, so these are described.
async fn instances(
    clients: &Clients,
    scope: Scope<'_>,
    members: &[&Subject],
    out: &mut Read,
) -> Result<(), CallError> {
    let c = clients.ec2(scope).await?;
    for chunk in members.chunks(FILTER_VALUES_MAX) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|s| s.arn.rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        let live = Filter::builder()
            .name("instance-state-name")
            .values("pending")
            .values("running")
            .values("stopping")
            .values("stopped")
            .build();
        let by_id = Filter::builder()
            .name("instance-id")
            .set_values(Some(ids))
            .build();
        let listed: BTreeMap<String, BTreeMap<String, String>> = drain!(
            c.describe_instances()
                .filters(by_id)
                .filters(live)
                .max_results(1000),
            |page| page
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(|i| Some((i.instance_id()?.to_string(), ec2_tags(i.tags()))))
                .collect::<Vec<_>>()
        )
        .into_iter()
        .collect();
        for s in chunk {
            let id = s.arn.rsplit('/').next().unwrap_or_default();
            match listed.get(id) {
                Some(tags) => out.found.push(LiveResource {
                    arn: s.arn.clone(),
                    resource_type: s.resource_type,
                    account: s.account.clone(),
                    region: s.region.clone(),
                    tags: tags.clone(),
                }),
                None => out.gone.push(s.arn.clone()),
            }
        }
    }
    Ok(())
}

/// Resources named by events (`subjects`), as they are now: instances
/// described (so that a terminated one is told apart), the others' tags
/// read through each one's tagging API, batched per account, region and
/// API at the API's read maximum. Resources that could not be read come
/// back apart, with why.
pub async fn these(clients: &Arc<Clients>, subjects: &[Subject]) -> Read {
    let tagger = AwsTagger::new(Arc::clone(clients));
    let mut groups: BTreeMap<(&str, &str, TaggingApi, bool), Vec<&Subject>> = BTreeMap::new();
    for s in subjects {
        let instance = s.resource_type == "ec2:instance";
        groups
            .entry((&s.account, &s.region, s.api, instance))
            .or_default()
            .push(s);
    }
    let mut out = Read::default();
    for ((account, region, api, instance), members) in groups {
        let scope = Scope {
            partition: tagwarden_core::pipeline::partition_of_region(region),
            account,
            region,
        };
        if instance {
            if let Err(e) = instances(clients, scope, &members, &mut out).await {
                out.failed
                    .extend(members.iter().map(|s| (s.arn.clone(), e.clone())));
            }
            continue;
        }
        let target = Target { scope, api };
        for chunk in members.chunks(api.max_read()) {
            let arns: Vec<&str> = chunk.iter().map(|s| s.arn.as_str()).collect();
            match tagger.read(target, &arns).await {
                Ok(mut read) => {
                    for s in chunk {
                        if let Some(tags) = read.tags.remove(&s.arn) {
                            out.found.push(LiveResource {
                                arn: s.arn.clone(),
                                resource_type: s.resource_type,
                                account: s.account.clone(),
                                region: s.region.clone(),
                                tags,
                            });
                        } else if let Some(e) = read.failed.remove(&s.arn) {
                            out.failed.push((s.arn.clone(), e));
                        }
                    }
                }
                Err(e) => out
                    .failed
                    .extend(chunk.iter().map(|s| (s.arn.clone(), e.clone()))),
            }
        }
    }
    out.found.sort_by(|a, b| a.arn.cmp(&b.arn));
    out
}
