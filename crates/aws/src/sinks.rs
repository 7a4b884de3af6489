//! Where scan results go besides the terminal: the scan log in S3 (one
//! object per run), one SNS alert per run, and CloudWatch metrics through
//! PutMetricData when EMF is not an option. All with the caller's own
//! credentials.

use crate::clients::Clients;
use crate::error::CallError;
use aws_sdk_s3::primitives::ByteStream;
use aws_types::region::Region;
use tagwarden_core::report::Metric;

/// Puts the run's scan log at `key` in `bucket`, in the bucket's region.
pub async fn put_scan_log(
    clients: &Clients,
    bucket: &str,
    key: &str,
    body: String,
) -> Result<(), CallError> {
    clients
        .bucket_s3(bucket)
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/x-ndjson")
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
        .map_err(crate::error::from_sdk)?;
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
        .map_err(crate::error::from_sdk)?;
    Ok(())
}

/// PutMetricData takes at most 1000 values a call.
pub const METRICS_PER_CALL: usize = 1000;

/// Sends the run's metrics in calls of [`METRICS_PER_CALL`].
pub async fn put_metrics(
    clients: &Clients,
    namespace: &str,
    metrics: &[Metric],
    timestamp_ms: i64,
) -> Result<usize, CallError> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let client = clients.own_cloudwatch();
    let mut calls = 0;
    for chunk in metrics.chunks(METRICS_PER_CALL) {
        let data =
            chunk
                .iter()
                .map(|m| {
                    MetricDatum::builder()
                        .metric_name(m.name)
                        .set_dimensions(m.resource_type.as_ref().map(|t| {
                            vec![Dimension::builder().name("ResourceType").value(t).build()]
                        }))
                        .value(m.value as f64)
                        .unit(StandardUnit::Count)
                        .timestamp(DateTime::from_millis(timestamp_ms))
                        .build()
                })
                .collect();
        client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map_err(crate::error::from_sdk)?;
        calls += 1;
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::BehaviorVersion;
    use aws_credential_types::Credentials;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    /// moto 5.2 does not speak CloudWatch's rpcv2Cbor protocol (HTTP 404),
    /// so the SDK's replay client stands in for the wire: it counts the
    /// calls and keeps their bodies, in which CBOR keeps text as UTF-8.
    #[test]
    fn metrics_go_out_at_most_1000_a_call() {
        let ok = || {
            ReplayEvent::new(
                http::Request::builder()
                    .uri("https://monitoring.us-east-1.amazonaws.com/")
                    .body(SdkBody::empty())
                    .unwrap(),
                http::Response::builder()
                    .status(200)
                    .header("smithy-protocol", "rpc-v2-cbor")
                    .header("content-type", "application/cbor")
                    .body(SdkBody::from(vec![0xa0]))
                    .unwrap(),
            )
        };
        let http = StaticReplayClient::new(vec![ok(), ok(), ok()]);
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    Credentials::for_tests(),
                ),
            )
            .http_client(http.clone())
            .build();
        let clients = Clients::from_config(config, None);
        let metrics: Vec<Metric> = (0..2500)
            .map(|n| Metric {
                name: "NonCompliantResources",
                resource_type: Some(format!("svc:type{n}")),
                value: n,
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let calls = rt
            .block_on(put_metrics(&clients, "TagCompliance", &metrics, 0))
            .unwrap();
        assert_eq!(calls, 3);
        let per_call: Vec<usize> = http
            .actual_requests()
            .map(|r| {
                // The SDK gzips large PutMetricData bodies (request
                // compression, as AWS documents for this call).
                let raw = r.body().bytes().unwrap();
                let mut body = Vec::new();
                if raw.starts_with(&[0x1f, 0x8b]) {
                    use std::io::Read;
                    flate2::read::GzDecoder::new(raw)
                        .read_to_end(&mut body)
                        .unwrap();
                } else {
                    body.extend_from_slice(raw);
                }
                body.windows(b"svc:type".len())
                    .filter(|w| *w == b"svc:type")
                    .count()
            })
            .collect();
        assert_eq!(per_call, [1000, 1000, 500]);
        let first = http.actual_requests().next().unwrap();
        assert!(
            first.uri().ends_with("/operation/PutMetricData"),
            "{}",
            first.uri()
        );
    }
}
