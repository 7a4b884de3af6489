//! One adapter per tagging API. Each reads current tags and writes new ones
//! for a batch of resources of one account, region and API; the batch size
//! and the retry policy belong to [`crate::apply`].

mod autoscaling;
mod ec2;
mod iam;
pub(crate) mod s3;
mod tagging_api;

use crate::clients::{Clients, Scope};
use crate::error::CallError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tagwarden_core::catalog::TaggingApi;
use tagwarden_core::reconcile::Current;

/// Every call of one batch goes to one place through one API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target<'a> {
    pub scope: Scope<'a>,
    pub api: TaggingApi,
}

/// Current tags of every ARN that was asked for and could be read; the
/// others in `failed`.
#[derive(Debug, Default)]
pub struct ReadResult {
    pub tags: HashMap<String, Current>,
    pub failed: HashMap<String, CallError>,
}

/// ARNs the call did not tag, with why (e.g. `FailedResourcesMap`, which
/// arrives with HTTP 200); and AWS's request id of the call that tagged
/// each of the others, which the store keeps so that CloudTrail's record of
/// the write can be found from it.
#[derive(Debug, Default)]
pub struct WriteResult {
    pub failed: HashMap<String, CallError>,
    pub requests: HashMap<String, String>,
}

impl WriteResult {
    /// One call wrote every ARN but the failed ones.
    pub(crate) fn one_call(
        arns: &[&str],
        request: Option<&str>,
        failed: HashMap<String, CallError>,
    ) -> Self {
        let requests = match request {
            Some(id) => arns
                .iter()
                .filter(|a| !failed.contains_key(**a))
                .map(|a| (a.to_string(), id.to_string()))
                .collect(),
            None => HashMap::new(),
        };
        Self { failed, requests }
    }
}

pub use tagwarden_core::outcome::Tags;

/// The two calls the apply stage needs. `Err` means the whole call failed.
pub trait Tagger: Sync {
    fn read(
        &self,
        target: Target<'_>,
        arns: &[&str],
    ) -> impl Future<Output = Result<ReadResult, CallError>> + Send;

    fn write(
        &self,
        target: Target<'_>,
        arns: &[&str],
        tags: &Tags,
    ) -> impl Future<Output = Result<WriteResult, CallError>> + Send;

    /// The ids of the `child_type` resources attached to each parent (an
    /// instance's volumes), in one read: `(parent ARN, child id)`. Only
    /// EC2 has such children; other targets have none.
    fn children(
        &self,
        target: Target<'_>,
        child_type: &str,
        parents: &[&str],
    ) -> impl Future<Output = Result<Vec<(String, String)>, CallError>> + Send;
}

/// The real thing: dispatches to the adapter for the target's API.
#[derive(Clone)]
pub struct AwsTagger {
    clients: Arc<Clients>,
}

impl AwsTagger {
    pub fn new(clients: Arc<Clients>) -> Self {
        Self { clients }
    }
}

impl Tagger for AwsTagger {
    async fn read(&self, target: Target<'_>, arns: &[&str]) -> Result<ReadResult, CallError> {
        let c = &self.clients;
        match target.api {
            TaggingApi::Ec2 => ec2::read(&c.ec2(target.scope).await?, arns).await,
            TaggingApi::ResourceGroups => {
                tagging_api::read(&c.tagging(target.scope).await?, arns).await
            }
            TaggingApi::S3Bucket => s3::read(&c.s3(target.scope).await?, arns).await,
            TaggingApi::Iam => iam::read(&c.iam(iam::scope(target.scope)).await?, arns).await,
            TaggingApi::AutoScaling => {
                autoscaling::read(&c.autoscaling(target.scope).await?, arns).await
            }
            TaggingApi::Untagged => Err(never_tagged()),
        }
    }

    async fn write(
        &self,
        target: Target<'_>,
        arns: &[&str],
        tags: &Tags,
    ) -> Result<WriteResult, CallError> {
        let c = &self.clients;
        match target.api {
            TaggingApi::Ec2 => ec2::write(&c.ec2(target.scope).await?, arns, tags).await,
            TaggingApi::ResourceGroups => {
                tagging_api::write(&c.tagging(target.scope).await?, arns, tags).await
            }
            TaggingApi::S3Bucket => s3::write(&c.s3(target.scope).await?, arns, tags).await,
            TaggingApi::Iam => {
                iam::write(&c.iam(iam::scope(target.scope)).await?, arns, tags).await
            }
            TaggingApi::AutoScaling => {
                autoscaling::write(&c.autoscaling(target.scope).await?, arns, tags).await
            }
            TaggingApi::Untagged => Err(never_tagged()),
        }
    }

    async fn children(
        &self,
        target: Target<'_>,
        child_type: &str,
        parents: &[&str],
    ) -> Result<Vec<(String, String)>, CallError> {
        match (target.api, child_type) {
            (TaggingApi::Ec2, "ec2:volume") => {
                ec2::volumes(&self.clients.ec2(target.scope).await?, parents).await
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// A resource tagwarden records but never tags (a CloudFormation stack,
/// whose tag call updates the whole stack).
fn never_tagged() -> CallError {
    CallError::of_kind(
        tagwarden_core::outcome::ErrorKind::Unsupported,
        "Untagged",
        "tagwarden does not tag this resource type: its tag call changes more than tags",
    )
}

/// The resource part of an ARN: everything after the fifth `:`.
fn resource_part(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).unwrap_or_default()
}

/// The id after the resource type: `instance/i-1` → `i-1`.
fn id_after_type(arn: &str) -> &str {
    let r = resource_part(arn);
    r.split_once('/').map_or(r, |(_, id)| id)
}

/// Reads APIs that name one resource per call.
async fn read_each<'a, F, Fut>(arns: &[&'a str], read_one: F) -> Result<ReadResult, CallError>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<Current, CallError>>,
{
    let mut out = ReadResult::default();
    for arn in arns {
        match read_one(arn).await {
            Ok(tags) => {
                out.tags.insert(arn.to_string(), tags);
            }
            Err(e) => {
                out.failed.insert(arn.to_string(), e);
            }
        }
    }
    Ok(out)
}

/// Writes through APIs that name one resource per call.
async fn write_each<'a, F, Fut>(arns: &[&'a str], write_one: F) -> Result<WriteResult, CallError>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<Option<String>, CallError>>,
{
    let mut out = WriteResult::default();
    for arn in arns {
        match write_one(arn).await {
            Ok(request) => {
                if let Some(id) = request {
                    out.requests.insert(arn.to_string(), id);
                }
            }
            Err(e) => {
                out.failed.insert(arn.to_string(), e);
            }
        }
    }
    Ok(out)
}

/// Every asked ARN gets an entry: an ARN the read did not return has no
/// tags (untagged resources are absent from tag listings).
fn untagged(arns: &[&str]) -> HashMap<String, Current> {
    arns.iter()
        .map(|a| (a.to_string(), Current::new()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_resource_part() {
        assert_eq!(
            id_after_type("arn:aws:ec2:us-east-1:1:instance/i-0abc"),
            "i-0abc"
        );
        assert_eq!(
            id_after_type("arn:aws:ec2:eu-west-1::snapshot/snap-1"),
            "snap-1"
        );
        assert_eq!(resource_part("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(
            resource_part("arn:aws:iam::1:role/path/to/Name"),
            "role/path/to/Name"
        );
    }
}
