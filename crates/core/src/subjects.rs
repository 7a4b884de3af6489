//! event → the resources an event-driven compliance check looks at: the
//! instance of an EC2 state-change notification, or whatever a creation
//! event (a CloudTrail record, a log file, an EventBridge API-call event)
//! created. The rest of the check is the scan's: read tags → evaluate.

use crate::catalog::{self, TaggingApi};
use crate::pipeline::{partition_of_region, read_all, Found, InputError};
use serde::Deserialize;

/// One resource to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub arn: String,
    pub resource_type: &'static str,
    pub api: TaggingApi,
    pub account: String,
    pub region: String,
}

/// What an event asks to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subjects {
    These(Vec<Subject>),
    /// A state-change notification without an instance id: the caller
    /// checks that region's instances instead.
    Region {
        account: String,
        region: String,
    },
    /// An instance on its way out: nothing to judge.
    Gone {
        arn: String,
        state: String,
    },
}

#[derive(Deserialize)]
struct StateChange<'a> {
    #[serde(rename = "detail-type")]
    detail_type: &'a str,
    source: &'a str,
    account: String,
    region: String,
    detail: StateDetail,
}

#[derive(Deserialize)]
struct StateDetail {
    #[serde(rename = "instance-id")]
    instance_id: Option<String>,
    state: Option<String>,
}

pub const STATE_CHANGE: &str = "EC2 Instance State-change Notification";

/// States after which an instance no longer counts.
const GONE: &[&str] = &["shutting-down", "terminated"];

/// The subjects of one document, and the problems of the parts that could
/// not be read (each placed by document, record and field): the rest is
/// still checked.
pub fn subjects(origin: &str, bytes: &[u8]) -> (Subjects, Vec<InputError>) {
    if let Ok(change) = serde_json::from_slice::<StateChange<'_>>(bytes) {
        if change.detail_type == STATE_CHANGE {
            return match state_change(origin, change) {
                Ok(s) => (s, Vec::new()),
                Err(e) => (Subjects::These(Vec::new()), vec![e]),
            };
        }
    }
    let (found, _) = read_all(origin, bytes);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in found {
        match f {
            Found::Creation(c) => out.extend(c.resources.into_iter().map(|r| Subject {
                arn: r.arn,
                resource_type: c.resource_type,
                api: c.api,
                account: r.account,
                region: r.region,
            })),
            Found::Error(e) => errors.push(e),
            Found::TagChange(_)
            | Found::Watched(_)
            | Found::Session(_)
            | Found::Fetch(_)
            | Found::Mark(_) => {}
        }
    }
    (Subjects::These(out), errors)
}

fn state_change(origin: &str, change: StateChange<'_>) -> Result<Subjects, InputError> {
    // Only EC2 itself sends these; anything else claiming to is refused.
    if change.source != "aws.ec2" {
        return Err(InputError {
            origin: origin.to_string(),
            place: "source".into(),
            message: format!(
                "`{}`: a state-change notification comes from aws.ec2",
                change.source
            ),
        });
    }
    let Some(id) = change.detail.instance_id.filter(|i| !i.is_empty()) else {
        return Ok(Subjects::Region {
            account: change.account,
            region: change.region,
        });
    };
    let scope = catalog::Scope {
        partition: partition_of_region(&change.region),
        region: &change.region,
        account: &change.account,
    };
    let arn = catalog::arn_for("ec2:instance", &id, &scope).ok_or_else(|| InputError {
        origin: origin.to_string(),
        place: "detail.instance-id".into(),
        message: format!("`{id}` makes no instance ARN"),
    })?;
    if let Some(state) = change.detail.state.filter(|s| GONE.contains(&s.as_str())) {
        return Ok(Subjects::Gone { arn, state });
    }
    let (resource_type, api) =
        catalog::resource_type("ec2:instance").ok_or_else(|| InputError {
            origin: origin.to_string(),
            place: "detail-type".into(),
            message: "ec2:instance is not in the catalog".into(),
        })?;
    Ok(Subjects::These(vec![Subject {
        arn,
        resource_type,
        api,
        account: change.account,
        region: change.region,
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(detail: &str, source: &str) -> String {
        format!(
            r#"{{"version":"0","id":"7bf73129","detail-type":"EC2 Instance State-change Notification","source":"{source}","account":"111122223333","time":"2026-11-24T10:00:00Z","region":"eu-west-1","resources":[],"detail":{detail}}}"#
        )
    }

    #[test]
    fn a_state_change_names_its_instance() {
        let (s, errors) = subjects(
            "e.json",
            change(r#"{"instance-id":"i-0abc","state":"running"}"#, "aws.ec2").as_bytes(),
        );
        assert!(errors.is_empty());
        let Subjects::These(s) = s else {
            panic!("{s:?}")
        };
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].arn,
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"
        );
        assert_eq!(s[0].resource_type, "ec2:instance");
        assert_eq!(s[0].api, TaggingApi::Ec2);
    }

    #[test]
    fn without_an_id_the_region_is_checked_and_a_terminated_instance_is_not() {
        let (s, _) = subjects(
            "e.json",
            change(r#"{"state":"running"}"#, "aws.ec2").as_bytes(),
        );
        assert_eq!(
            s,
            Subjects::Region {
                account: "111122223333".into(),
                region: "eu-west-1".into()
            }
        );
        let (s, _) = subjects(
            "e.json",
            change(r#"{"instance-id":"i-1","state":"terminated"}"#, "aws.ec2").as_bytes(),
        );
        assert!(matches!(s, Subjects::Gone { .. }), "{s:?}");
    }

    #[test]
    fn a_notification_from_elsewhere_is_refused_by_field() {
        let (s, e) = subjects(
            "e.json",
            change(r#"{"instance-id":"i-1"}"#, "my.app").as_bytes(),
        );
        assert_eq!(s, Subjects::These(Vec::new()));
        assert_eq!(e[0].place, "source");
        assert_eq!(e[0].origin, "e.json");
    }

    #[test]
    fn a_creation_record_names_what_it_created() {
        let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},"eventTime":"2026-01-15T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","requestParameters":{"bucketName":"logs-1"},"responseElements":null,"eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}"#;
        let (Subjects::These(s), errors) = subjects("r.json", record.as_bytes()) else {
            panic!()
        };
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s[0].arn, "arn:aws:s3:::logs-1");
        assert_eq!(s[0].api, TaggingApi::S3Bucket);
        // A broken record beside a good one: the good one still counts.
        let both = format!(r#"{{"Records":[{record},{{"eventVersion":"1.08"}}]}}"#);
        let (Subjects::These(s), errors) = subjects("b.json", both.as_bytes()) else {
            panic!()
        };
        assert_eq!(s.len(), 1);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!subjects("x.json", b"{not json").1.is_empty());
    }
}
