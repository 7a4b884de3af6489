//! records → creations: the stage that decides, record by record, whether
//! it created something, and for whom.
//!
//! Cheap checks run on the record's head (a few top-level fields found by
//! the scanner); only records the catalog knows are parsed in full.
//!
//! [`driver`] runs the stage; [`envelope`] unwraps EventBridge, S3 and SQS
//! envelopes, [`skip`] holds the head-only skip rules, [`extract`] turns a
//! parsed record into what it did, and [`output`] is what comes out.

mod driver;
mod envelope;
mod extract;
mod output;
mod skip;

pub use driver::{read_all, Pipeline};
pub use extract::partition_of_region;
pub use output::{
    Creation, EventInfo, Found, InputError, ObjectRef, SkipReason, Stats, TagChange, Window,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tag_events::TagOp;

    fn record(extra: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},"eventTime":"2026-01-15T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","requestParameters":{{"bucketName":"logs-1"}},"responseElements":null,"eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"{extra}}}"#
        )
    }

    fn creations(found: &[Found]) -> Vec<&Creation> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Creation(c) => Some(&**c),
                _ => None,
            })
            .collect()
    }

    fn errors(found: &[Found]) -> Vec<String> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Error(e) => Some(e.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_create_record_becomes_a_creation() {
        let (found, stats) = read_all("t.json", record("").as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(c[0].resources[0].arn, "arn:aws:s3:::logs-1");
        assert_eq!(c[0].creator.id, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(stats.resources, 1);
    }

    #[test]
    fn a_tag_call_becomes_a_tag_change_by_its_caller() {
        let put = record("")
            .replace("CreateBucket", "PutBucketTagging")
            .replace(
                r#""requestParameters":{"bucketName":"logs-1"}"#,
                r#""requestParameters":{"bucketName":"logs-1","Tagging":{"TagSet":{"Tag":[{"Key":"Owner","Value":"bob"}]}}}"#,
            );
        let doc = format!("[{put},{put}]");
        let (found, stats) = read_all("t.json", doc.as_bytes());
        let changes: Vec<&TagChange> = found
            .iter()
            .filter_map(|f| match f {
                Found::TagChange(c) => Some(&**c),
                _ => None,
            })
            .collect();
        assert_eq!(
            changes.len(),
            1,
            "the replayed copy is a duplicate: {found:?}"
        );
        assert_eq!(stats.tag_changes, 1);
        assert_eq!(stats.creations, 0);
        let c = changes[0];
        assert_eq!(c.op, TagOp::Replace);
        assert_eq!(c.actor.id, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(c.resources[0].resource.arn, "arn:aws:s3:::logs-1");
        assert_eq!(c.tags.get("Owner").map(String::as_str), Some("bob"));
    }

    #[test]
    fn skips_are_counted_by_reason() {
        let doc = format!(
            "[{},{},{},{}]",
            record(r#","errorCode":"AccessDenied""#).replace("\"e1\"", "\"e2\""),
            record("")
                .replace("CreateBucket", "GetBucketAcl")
                .replace("\"e1\"", "\"e3\""),
            record(""),
            record(""),
        );
        let (found, stats) = read_all("t.json", doc.as_bytes());
        assert_eq!(creations(&found).len(), 1);
        assert_eq!(stats.skipped[&SkipReason::ErrorCode], 1);
        assert_eq!(stats.skipped[&SkipReason::NotInCatalog], 1);
        assert_eq!(stats.skipped[&SkipReason::Duplicate], 1);
    }

    #[test]
    fn eventbridge_envelope_fills_account_and_region() {
        let inner = record("")
            .replace(r#""awsRegion":"us-east-1","#, "")
            .replace(r#""recipientAccountId":"111122223333","#, "");
        let doc = format!(
            r#"{{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"444455556666","region":"eu-west-1","detail":{inner}}}"#
        );
        let (found, _) = read_all("eb.json", doc.as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(c[0].event.region, "eu-west-1");
        assert_eq!(c[0].event.account, "444455556666");
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let bad = record("").replace(r#""eventTime":"2026-01-15T10:30:00Z","#, "");
        let doc = format!(
            r#"{{"Records":[{},{}]}}"#,
            record(""),
            bad.replace("\"e1\"", "\"e9\"")
        );
        let (found, _) = read_all("f.json", doc.as_bytes());
        assert_eq!(
            errors(&found),
            ["f.json: Records[1].eventTime: missing or empty"]
        );
    }

    #[test]
    fn a_creation_without_an_identity_is_an_error_not_an_unknown_creator() {
        let bare = record("").replace(
            r#""userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},"#,
            "",
        );
        assert!(!bare.contains("userIdentity"), "{bare}");
        let (found, _) = read_all("u.json", bare.as_bytes());
        assert!(creations(&found).is_empty(), "{found:?}");
        assert_eq!(errors(&found), ["u.json: $.userIdentity: missing or empty"]);
    }

    /// `eventTime` is parsed: kept in UTC to the second, refused when it is
    /// no time, or later than the window allows (a forged future time).
    #[test]
    fn event_times_are_parsed_and_the_future_is_refused() {
        let at = |time: &str| {
            record("").replace(
                r#""eventTime":"2026-01-15T10:30:00Z""#,
                &format!(r#""eventTime":"{time}""#),
            )
        };
        let (found, _) = read_all("t.json", at("2026-01-15T12:30:00+02:00").as_bytes());
        assert_eq!(creations(&found)[0].event.time, "2026-01-15T10:30:00Z");
        let (found, _) = read_all("t.json", at("yesterday").as_bytes());
        assert_eq!(
            errors(&found),
            ["t.json: $.eventTime: `yesterday` is not an RFC 3339 time"]
        );
        let now: jiff::Timestamp = "2026-01-15T10:00:00Z".parse().unwrap();
        let mut p = Pipeline::new(Window {
            not_after: Some(Window::latest(now)),
            ..Window::default()
        });
        let mut found = Vec::new();
        for time in ["2026-01-15T10:14:00Z", "2099-01-01T00:00:00Z"] {
            let doc = at(time).replace("\"e1\"", &format!("\"{time}\""));
            p.read("t.json", doc.as_bytes(), &mut |f| found.push(f));
        }
        assert_eq!(creations(&found).len(), 1, "{found:?}");
        assert_eq!(
            errors(&found),
            ["t.json: $.eventTime: 2099-01-01T00:00:00Z is more than 15 minutes in the future"]
        );
    }

    #[test]
    fn s3_notifications_name_objects_to_fetch() {
        let doc = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a+b%3Dc.json.gz"}}}]}"#;
        let (found, stats) = read_all("n.json", doc.as_bytes());
        match &found[..] {
            [Found::Fetch(o)] => assert_eq!(
                o.to_string(),
                "s3://trail/AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a b=c.json.gz"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(stats.skipped[&SkipReason::S3Notification], 1);
    }

    #[test]
    fn nested_envelopes_are_refused_not_recursed() {
        let mut doc = record("");
        for _ in 0..2000 {
            doc = format!(r#"{{"detail-type":"AWS API Call via CloudTrail","detail":{doc}}}"#);
        }
        let (found, stats) = read_all("deep.json", doc.as_bytes());
        assert_eq!(stats.errors, 1, "{found:?}");
        assert_eq!(creations(&found).len(), 0);
    }

    #[test]
    fn a_damaged_copy_does_not_hide_the_good_one() {
        let bad = record("").replace(r#""eventTime":"2026-01-15T10:30:00Z","#, "");
        let doc = format!("[{bad},{}]", record(""));
        let (found, stats) = read_all("t.json", doc.as_bytes());
        assert_eq!(creations(&found).len(), 1, "{found:?}");
        assert_eq!(stats.errors, 1);
        assert!(!stats.skipped.contains_key(&SkipReason::Duplicate));
    }

    #[test]
    fn empty_region_and_account_fall_back_to_the_envelope() {
        let inner = record("")
            .replace(r#""awsRegion":"us-east-1""#, r#""awsRegion":"""#)
            .replace(
                r#""recipientAccountId":"111122223333""#,
                r#""recipientAccountId":"""#,
            );
        let doc = format!(
            r#"{{"detail-type":"AWS API Call via CloudTrail","account":"444455556666","region":"eu-west-1","detail":{inner}}}"#
        );
        let (found, _) = read_all("eb.json", doc.as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(
            (c[0].event.region.as_str(), c[0].event.account.as_str()),
            ("eu-west-1", "444455556666")
        );
    }

    #[test]
    fn only_created_objects_are_fetched() {
        let doc = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"t"},"object":{"key":"a.json.gz"}}},
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"t"},"object":{"key":"bad%E2%82.json.gz"}}}]}"#;
        let (found, stats) = read_all("n.json", doc.as_bytes());
        assert!(
            found.iter().all(|f| !matches!(f, Found::Fetch(_))),
            "{found:?}"
        );
        assert_eq!(
            stats.errors, 1,
            "an undecodable key is an error, not a guess"
        );
    }

    #[test]
    fn partitions_come_from_regions_when_no_arn_says() {
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
    }
}
