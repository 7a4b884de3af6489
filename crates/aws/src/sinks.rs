//! Where scan results go besides the terminal: the scan log in S3 (one
//! object per run) and one SNS alert per run. Both with the caller's own
//! credentials.

use crate::clients::Clients;
use crate::error::CallError;
use aws_sdk_s3::primitives::ByteStream;
use aws_types::region::Region;

/// Puts the run's scan log at `key` in `bucket`, in the bucket's region.
pub async fn put_scan_log(
    clients: &Clients,
    bucket: &str,
    key: &str,
    body: String,
) -> Result<(), CallError> {
    let probe = clients.own_s3(None);
    let region = crate::s3_source::bucket_region(&probe, bucket).await;
    clients
        .own_s3(region.as_deref())
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/x-ndjson")
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
        .map_err(CallError::from_sdk)?;
    Ok(())
}

/// Publishes one alert to `topic` (an SNS topic ARN), in the topic's region.
pub async fn publish_alert(
    clients: &Clients,
    topic: &str,
    subject: &str,
    message: &str,
) -> Result<(), CallError> {
    let region = topic.split(':').nth(3).filter(|r| !r.is_empty());
    let mut b =
        aws_sdk_sns::config::Builder::from(clients.base()).interceptor(clients.counter().clone());
    if let Some(r) = region {
        b = b.region(Region::new(r.to_string()));
    }
    aws_sdk_sns::Client::from_conf(b.build())
        .publish()
        .topic_arn(topic)
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(CallError::from_sdk)?;
    Ok(())
}
