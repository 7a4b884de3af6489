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
    Creation, EventInfo, Found, InputError, ObjectRef, Session, SkipReason, Stats, TagChange,
    WatchedCall, Window,
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

    /// EC2 `DeleteTags` without a tag list removes every tag: read as
    /// clearing the set, not as removing nothing.
    #[test]
    fn a_delete_tags_without_a_list_clears_every_tag() {
        let delete = |tags: &str| {
            record("")
                .replace(r#""eventSource":"s3.amazonaws.com""#, r#""eventSource":"ec2.amazonaws.com""#)
                .replace("CreateBucket", "DeleteTags")
                .replace(
                    r#""requestParameters":{"bucketName":"logs-1"}"#,
                    &format!(r#""requestParameters":{{"resourcesSet":{{"items":[{{"resourceId":"i-0abc"}}]}}{tags}}}"#),
                )
        };
        let change = |doc: String| {
            let (found, _) = read_all("t.json", doc.as_bytes());
            match found.into_iter().next() {
                Some(Found::TagChange(c)) => (c.op, c.tags.keys().cloned().collect::<Vec<_>>()),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(change(delete("")), (TagOp::Replace, vec![]));
        assert_eq!(
            change(delete(r#","tagSet":{"items":[{"key":"CreatedBy"}]}"#)),
            (TagOp::Remove, vec!["CreatedBy".to_string()])
        );
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

    /// Ten buckets created, one record each, in a CloudTrail log.
    fn ten_creations() -> String {
        let records: Vec<String> = (0..10)
            .map(|i| {
                record("")
                    .replace("\"e1\"", &format!("\"e{i}\""))
                    .replace("logs-1", &format!("logs-{i}"))
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(","))
    }

    #[test]
    fn a_resumed_log_passes_over_what_was_settled_and_marks_its_places() {
        let doc = ten_creations();
        let mut p = Pipeline::default().with_marks(4);
        let mut found = Vec::new();
        p.read_resuming("log", None, 3, doc.as_bytes(), &mut |f| found.push(f));
        let names: Vec<String> = creations(&found)
            .iter()
            .map(|c| c.resources[0].arn.rsplit(':').next().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            ["logs-3", "logs-4", "logs-5", "logs-6", "logs-7", "logs-8", "logs-9"]
        );
        assert_eq!(p.stats().skipped[&SkipReason::Settled], 3);
        assert_eq!(p.document_records(), 10, "every record counts");
        let marks: Vec<u64> = found
            .iter()
            .filter_map(|f| match f {
                Found::Mark(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(marks, [4, 8]);
        // A mark follows what its records found: all of record 4 is before it.
        let at = |want: &dyn Fn(&Found) -> bool| found.iter().position(want).unwrap();
        assert!(
            at(&|f| matches!(f, Found::Creation(c) if c.resources[0].arn.ends_with(":logs-3")))
                < at(&|f| matches!(f, Found::Mark(4)))
        );
        // The next document starts from its own first record.
        p.read_for(
            "log-2",
            None,
            doc.replace("\"eventID\":\"e", "\"eventID\":\"f").as_bytes(),
            &mut |_| {},
        );
        assert_eq!(p.stats().creations, 17);
    }

    /// Inflating on a second thread changes when bytes arrive, never what
    /// is found: the same creations, marks, errors and counts, damage
    /// included.
    #[test]
    fn a_log_inflated_beside_reads_as_one_inflated_inline() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        // Several chunks of JSON, so records straddle the inflater's chunks,
        // some longer than the room kept for a cut record.
        let records: Vec<String> = (0..10)
            .map(|i| {
                let pad = "p".repeat([1000, crate::ingest::HEADROOM + 1000, 150_000][i % 3]);
                record(&format!(",\"pad\":\"{pad}\""))
                    .replace("\"e1\"", &format!("\"e{i}\""))
                    .replace("logs-1", &format!("logs-{i}"))
            })
            .collect();
        let padded = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(padded.as_bytes()).unwrap();
        let whole = gz.finish().unwrap();
        let cut = &whole[..whole.len() * 2 / 3];
        // With a byte order mark, which editors add.
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"\xef\xbb\xbf").unwrap();
        gz.write_all(padded.as_bytes()).unwrap();
        let marked = gz.finish().unwrap();
        for doc in [&whole[..], cut, &marked[..]] {
            let run = |p: Pipeline| {
                let mut p = p.with_marks(3);
                let mut found = Vec::new();
                p.read("log.json.gz", doc, &mut |f| found.push(format!("{f:?}")));
                (found, format!("{:?}", p.stats()))
            };
            let inline = run(Pipeline::default());
            let beside = run(Pipeline::default().with_inflate_thread());
            assert_eq!(inline, beside);
            let made = inline
                .0
                .iter()
                .filter(|f| f.starts_with("Creation"))
                .count();
            assert_eq!(made == 10, doc.len() != cut.len(), "{made}");
        }
        // A stream damaged in the middle: each inflater may decode some of
        // the damage before it fails, so the findings agree up to the first
        // error, and both have one (found by fuzzing, fuzz/records_gzip).
        let mut damaged = whole.clone();
        let middle = damaged.len() / 2;
        for b in &mut damaged[middle..middle + 64] {
            *b ^= 0x5a;
        }
        let until_error = |p: Pipeline| {
            let mut found = Vec::new();
            p.with_marks(3).read("log.json.gz", &damaged[..], &mut |f| {
                found.push(format!("{f:?}"))
            });
            let first = found.iter().position(|f| f.starts_with("Error"));
            found.truncate(first.expect("the damage is an error"));
            found
        };
        assert_eq!(
            until_error(Pipeline::default()),
            until_error(Pipeline::default().with_inflate_thread())
        );
        let (found, _) = {
            let mut p = Pipeline::default().with_inflate_thread();
            let mut found = Vec::new();
            p.read("log.json.gz", cut, &mut |f| found.push(f));
            (found, ())
        };
        assert_eq!(errors(&found).len(), 1, "{:?}", errors(&found));
        assert!(!creations(&found).is_empty() && creations(&found).len() < 10);
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

    /// A record of an account outside the scope, or of another account
    /// than the log object's key names, is refused; the rest is read.
    #[test]
    fn records_speak_only_for_their_logs_account_and_the_scope() {
        let other = record("")
            .replace("\"e1\"", "\"e2\"")
            .replace("logs-1", "logs-2")
            .replace(
                r#""recipientAccountId":"111122223333""#,
                r#""recipientAccountId":"999988887777""#,
            );
        let doc = format!(r#"{{"Records":[{},{other}]}}"#, record(""));
        let read = |p: &mut Pipeline, account: Option<&str>| {
            let mut found = Vec::new();
            p.read_for("k.json", account, doc.as_bytes(), &mut |f| found.push(f));
            found
        };
        let found = read(&mut Pipeline::default(), Some("111122223333"));
        assert_eq!(creations(&found).len(), 1);
        assert_eq!(
            errors(&found),
            ["k.json: Records[1].recipientAccountId: `999988887777` in a log object written for account 111122223333: refused"]
        );
        let mut scoped =
            Pipeline::default().with_accounts(crate::trust::Accounts::only(["999988887777"]));
        let found = read(&mut scoped, None);
        assert_eq!(creations(&found)[0].resources[0].arn, "arn:aws:s3:::logs-2");
        assert_eq!(
            errors(&found),
            ["k.json: Records[0].recipientAccountId: account `111122223333` is outside the accounts in scope: refused"]
        );
        // Unvouched and unscoped, both are taken.
        assert_eq!(creations(&read(&mut Pipeline::default(), None)).len(), 2);
    }

    /// Only S3 speaks for the trail bucket: a notification smuggled into an
    /// EventBridge event's detail names nothing to fetch.
    #[test]
    fn an_s3_notification_inside_an_event_is_refused() {
        let doc = r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventSource":"aws:s3","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/1/CloudTrail/r/k.json.gz"}}}}"#;
        let (found, _) = read_all("e.json", doc.as_bytes());
        assert_eq!(
            errors(&found),
            ["e.json: $.detail.eventSource: an S3 notification inside an EventBridge event"]
        );
    }

    /// A log ends at its closing brace: bytes after it (an appended forged
    /// record, junk) are an error naming the document, and the records
    /// before it still count.
    #[test]
    fn bytes_after_the_end_are_an_error() {
        let invalid = "t.json: document: invalid JSON: expected";
        for (doc, why) in [
            (
                format!(r#"{{"Records":[{}]}} {{"x":1}}"#, record("")),
                format!("{invalid} the end of the document, found '{{'"),
            ),
            (
                format!(r#"{{"Records":[{}]]"#, record("")),
                format!("{invalid} '}}' closing the log, found ']'"),
            ),
            (
                format!(r#"{{"Records":[{}]"#, record("")),
                "t.json: document: unexpected end of input".to_string(),
            ),
            (
                format!("[{}]\n,", record("")),
                format!("{invalid} the end of the document, found ','"),
            ),
        ] {
            let (found, _) = read_all("t.json", doc.as_bytes());
            assert_eq!(creations(&found).len(), 1, "{doc}");
            assert_eq!(errors(&found), [why]);
        }
        for fine in [
            format!("{{\"Records\":[{}]}}\n\n", record("")),
            "{\"Records\":[]}".to_string(),
        ] {
            assert_eq!(
                errors(&read_all("t.json", fine.as_bytes()).0),
                Vec::<String>::new()
            );
        }
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

    /// The backfill state machine's batch: the log objects an S3
    /// ItemReader listed (keys as listed, not encoded), the bucket in
    /// `BatchInput`. A damaged item is named.
    #[test]
    fn a_distributed_map_batch_names_objects_to_fetch() {
        let doc = r#"{"Items":[{"Etag":"\"e1\"","Key":"AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a+b.json.gz","LastModified":1768473000,"Size":812,"StorageClass":"STANDARD"},
            {"Etag":"\"e2\"","Key":"AWSLogs/1/CloudTrail/us-east-1/2026/01/15/c.json.gz","LastModified":1768473060,"Size":640}],
            "BatchInput":{"Bucket":"trail","Execution":"arn:aws:states:us-east-1:1:execution:backfill:x"}}"#;
        let (found, stats) = read_all("batch", doc.as_bytes());
        let urls: Vec<String> = found
            .iter()
            .map(|f| match f {
                Found::Fetch(o) => o.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            urls,
            [
                "s3://trail/AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a+b.json.gz",
                "s3://trail/AWSLogs/1/CloudTrail/us-east-1/2026/01/15/c.json.gz"
            ]
        );
        assert_eq!(stats.skipped[&SkipReason::MapBatch], 1);
        // The days the backfill covers: keys of other days are passed over.
        let days = doc.replace(
            r#""Bucket":"trail""#,
            r#""Bucket":"trail","FirstDay":"2026-01-16","LastDay":null"#,
        );
        let (found, _) = read_all("batch", days.as_bytes());
        assert!(found.is_empty(), "{found:?}");
        let bad = r#"{"Items":[{"Key":"k"},{"Size":1}],"BatchInput":{"Bucket":"trail"}}"#;
        let (found, _) = read_all("batch", bad.as_bytes());
        let e = errors(&found);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("Items[1]") && e[0].contains("Key"), "{e:?}");
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
