//! IAM `List*Tags` / `Tag*` for users, roles, policies and instance
//! profiles: the tagging API does not serve IAM, and each call names one
//! resource. IAM is global; its endpoint lives in one region per partition.

use super::{read_each, resource_part, write_each, ReadResult, Tags, WriteResult};
use crate::clients::Scope;
use crate::error::{CallError, ErrorKind};
use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use aws_types::request_id::RequestId;
use tagwarden_core::reconcile::Current;

/// IAM calls go to the partition's global region.
pub(super) fn scope(s: Scope<'_>) -> Scope<'_> {
    let region = match s.partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    };
    Scope { region, ..s }
}

/// The IAM entity an ARN names: its kind and the name (or ARN, for
/// policies) its API takes. Paths are not part of the name.
enum Entity<'a> {
    User(&'a str),
    Role(&'a str),
    Policy(&'a str),
    InstanceProfile(&'a str),
}

fn entity(arn: &str) -> Result<Entity<'_>, CallError> {
    let r = resource_part(arn);
    let (kind, rest) = r.split_once('/').unwrap_or((r, ""));
    let name = rest.rsplit('/').next().unwrap_or_default();
    match kind {
        "user" => Ok(Entity::User(name)),
        "role" => Ok(Entity::Role(name)),
        "policy" => Ok(Entity::Policy(arn)),
        "instance-profile" => Ok(Entity::InstanceProfile(name)),
        _ => Err(CallError::of_kind(
            ErrorKind::Unsupported,
            "UnsupportedResource",
            format!("tagwarden cannot tag IAM `{kind}` resources"),
        )),
    }
}

fn to_current(tags: &[Tag]) -> Current {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn current(client: &Client, arn: &str) -> Result<Current, CallError> {
    let mut all = Current::new();
    let mut marker: Option<String> = None;
    loop {
        let (tags, next) = match entity(arn)? {
            Entity::User(n) => {
                let o = client
                    .list_user_tags()
                    .user_name(n)
                    .set_marker(marker)
                    .send()
                    .await;
                let o = o.map_err(crate::error::from_sdk)?;
                (to_current(o.tags()), o.marker().map(str::to_string))
            }
            Entity::Role(n) => {
                let o = client
                    .list_role_tags()
                    .role_name(n)
                    .set_marker(marker)
                    .send()
                    .await;
                let o = o.map_err(crate::error::from_sdk)?;
                (to_current(o.tags()), o.marker().map(str::to_string))
            }
            Entity::Policy(a) => {
                let o = client
                    .list_policy_tags()
                    .policy_arn(a)
                    .set_marker(marker)
                    .send()
                    .await;
                let o = o.map_err(crate::error::from_sdk)?;
                (to_current(o.tags()), o.marker().map(str::to_string))
            }
            Entity::InstanceProfile(n) => {
                let o = client
                    .list_instance_profile_tags()
                    .instance_profile_name(n)
                    .set_marker(marker)
                    .send()
                    .await;
                let o = o.map_err(crate::error::from_sdk)?;
                (to_current(o.tags()), o.marker().map(str::to_string))
            }
        };
        all.extend(tags);
        match next {
            Some(m) => marker = Some(m),
            None => return Ok(all),
        }
    }
}

pub(super) async fn read(client: &Client, arns: &[&str]) -> Result<ReadResult, CallError> {
    read_each(arns, |arn| current(client, arn)).await
}

async fn write_one(client: &Client, arn: &str, tags: &Tags) -> Result<Option<String>, CallError> {
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CallError::new("InvalidTag", &e.to_string()))?;
    let request = match entity(arn)? {
        Entity::User(n) => client
            .tag_user()
            .user_name(n)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(crate::error::from_sdk)?
            .request_id()
            .map(str::to_string),
        Entity::Role(n) => client
            .tag_role()
            .role_name(n)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(crate::error::from_sdk)?
            .request_id()
            .map(str::to_string),
        Entity::Policy(a) => client
            .tag_policy()
            .policy_arn(a)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(crate::error::from_sdk)?
            .request_id()
            .map(str::to_string),
        Entity::InstanceProfile(n) => client
            .tag_instance_profile()
            .instance_profile_name(n)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(crate::error::from_sdk)?
            .request_id()
            .map(str::to_string),
    };
    Ok(request)
}

pub(super) async fn write(
    client: &Client,
    arns: &[&str],
    tags: &Tags,
) -> Result<WriteResult, CallError> {
    write_each(arns, |arn| write_one(client, arn, tags)).await
}
