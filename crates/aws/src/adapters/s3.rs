//! S3 `GetBucketTagging` / `PutBucketTagging`. PUT replaces the whole set,
//! so a write reads the set again right before it and merges: tags someone
//! else set survive.

use super::{read_each, resource_part, write_each, ReadResult, Tags, WriteResult};
use crate::error::CallError;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Tag, Tagging};
use aws_sdk_s3::Client;
use aws_types::request_id::RequestId;
use tagwarden_core::reconcile::Current;

pub(crate) async fn current(client: &Client, bucket: &str) -> Result<Current, CallError> {
    match client.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        // An untagged bucket answers with an error, not an empty set.
        Err(e) if e.code() == Some("NoSuchTagSet") => Ok(Current::new()),
        Err(e) => Err(crate::error::from_sdk(e)),
    }
}

pub(super) async fn read(client: &Client, arns: &[&str]) -> Result<ReadResult, CallError> {
    read_each(arns, |arn| current(client, resource_part(arn))).await
}

pub(super) async fn write(
    client: &Client,
    arns: &[&str],
    tags: &Tags,
) -> Result<WriteResult, CallError> {
    write_each(arns, |arn| write_one(client, resource_part(arn), tags)).await
}

async fn write_one(
    client: &Client,
    bucket: &str,
    tags: &Tags,
) -> Result<Option<String>, CallError> {
    let mut merged = current(client, bucket).await?;
    for (k, v) in tags {
        merged.insert(k.as_str().to_string(), v.as_str().to_string());
    }
    let set = merged
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CallError::new("InvalidTag", &e.to_string()))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| CallError::new("InvalidTag", &e.to_string()))?;
    let out = client
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(crate::error::from_sdk)?;
    Ok(out.request_id().map(str::to_string))
}
