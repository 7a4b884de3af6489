//! Lambda payload → what the function does with it: the design's dispatch
//! table, decided on the payload's shape and its claimed source. Pure, so
//! the handler stays a thin shell and every shape is tested here. A payload
//! that fits no row is refused with why, before anything is read or written.

use crate::attribution::{Creator, IdentityType};
use crate::catalog::{self, tag_events, Resource as Created, Scope};
use crate::pipeline::{Creation, EventInfo};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one invocation (or one SQS message) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// CloudTrail to attribute: S3 `ObjectCreated` notifications for log
    /// keys, EventBridge `AWS API Call via CloudTrail` events, or records
    /// themselves. The pipeline reads the payload as it is.
    Attribute,
    /// An EC2 instance state change: check that instance
    /// ([`crate::subjects`]).
    Check,
    /// A scheduled event: scan the account and region it fired in.
    Scan { account: String, region: String },
    /// An SQS batch: each body is a trigger of its own, and failures are
    /// reported per message (`batchItemFailures`).
    SqsBatch(Vec<Message>),
    /// Direct invocation: tag one resource on a user's behalf.
    Direct(Direct),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: String,
    /// `attributes.SentTimestamp` (ms since the epoch): the same on every
    /// redelivery, so what the message stands for keeps one time.
    pub sent_ms: Option<i64>,
    /// How many times the function sent this delivery back to wait for
    /// resources being created ([`crate::waiting::ATTEMPT_ATTRIBUTE`]); 0
    /// for the first delivery.
    pub attempt: u32,
    /// The first delivery's (id, time), on a delivery that came back.
    pub origin: Option<(String, String)>,
}

/// `{"resource_arn" | "resource_id", "user", "region"?, "tags"?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct {
    pub resource: Resource,
    /// Who the resource is attributed to (`CreatedBy`).
    pub user: String,
    /// Extra tags asked for, besides the policy's.
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Arn(String),
    /// An EC2 id (`i-…`, `vol-…`), in `region` or the function's own.
    Id {
        id: String,
        region: Option<String>,
    },
}

/// The event name a direct invocation is recorded under.
pub const DIRECT_EVENT: &str = "TagResourceOnRequest";

impl Direct {
    /// The creation this invocation stands for: `user` as the creator and
    /// the invocation as the event. `event_id` should come from the payload
    /// itself, so that a replay is the same event and is recorded once;
    /// `home` places a bare id and fills what an ARN leaves empty.
    pub fn creation(
        &self,
        home: &Scope<'_>,
        event_id: &str,
        time: &str,
    ) -> Result<Creation, String> {
        let (resource_type, arn) = match &self.resource {
            Resource::Arn(arn) => (tag_events::type_of_arn(arn), arn.clone()),
            Resource::Id { id, region } => {
                let ty = tag_events::ec2_type_of_id(id).ok_or_else(|| {
                    format!(
                        "direct invocation: resource_id `{id}` is not an EC2 id; give resource_arn"
                    )
                })?;
                let scope = Scope {
                    region: region.as_deref().unwrap_or(home.region),
                    ..*home
                };
                let arn = catalog::arn_for(ty, id, &scope)
                    .ok_or_else(|| format!("direct invocation: no ARN for {ty} `{id}`"))?;
                (ty.to_string(), arn)
            }
        };
        let (resource_type, api) = catalog::resource_type(&resource_type).ok_or_else(|| {
            format!(
                "direct invocation: {arn}: resource type `{resource_type}` is not in the catalog"
            )
        })?;
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let field = |n: usize, or: &str| match fields.get(n) {
            Some(f) if !f.is_empty() => f.to_string(),
            _ => or.to_string(),
        };
        let (partition, region, account) = (
            field(1, home.partition),
            field(3, home.region),
            field(4, home.account),
        );
        let kind = IdentityType::of_arn(&self.user);
        Ok(Creation {
            event: EventInfo {
                id: event_id.to_string(),
                source: "tagwarden".into(),
                name: DIRECT_EVENT.into(),
                time: time.to_string(),
                region: region.clone(),
                account: account.clone(),
                partition,
                source_ip: None,
                user_agent: None,
            },
            creator: Creator {
                id: self.user.clone(),
                kind,
                invoked_by: None,
                role: None,
                session: None,
                account: None,
            },
            resource_type,
            api,
            resources: vec![Created {
                arn,
                account,
                region,
            }],
            preset_tags: BTreeMap::new(),
        })
    }
}

const API_CALL: &str = "AWS API Call via CloudTrail";
const SCHEDULED: &str = "Scheduled Event";

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// An EventBridge event's own `time`: the same on every redelivery.
pub fn event_time(payload: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    text(&v, "time").map(str::to_string)
}

/// Decides what `payload` asks for; `Err` says why it fits no row.
pub fn classify(payload: &[u8]) -> Result<Trigger, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("not a JSON event: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        return records_trigger(records);
    }
    if let Some(kind) = text(&v, "detail-type") {
        let source = text(&v, "source").unwrap_or_default();
        return match (kind, source) {
            (API_CALL, s) if s.starts_with("aws.") => Ok(Trigger::Attribute),
            (crate::subjects::STATE_CHANGE, "aws.ec2") => Ok(Trigger::Check),
            (SCHEDULED, "aws.events") => match (text(&v, "account"), text(&v, "region")) {
                (Some(a), Some(r)) => Ok(Trigger::Scan {
                    account: a.into(),
                    region: r.into(),
                }),
                _ => Err("scheduled event without account or region".into()),
            },
            _ => Err(format!(
                "detail-type `{kind}` from source `{source}` is not a trigger of this function"
            )),
        };
    }
    if v.get("eventVersion").is_some()
        && text(&v, "eventSource").is_some_and(|s| s.ends_with(".amazonaws.com"))
    {
        return Ok(Trigger::Attribute);
    }
    if v.get("resource_arn").is_some() || v.get("resource_id").is_some() {
        return direct(&v).map(Trigger::Direct);
    }
    Err("neither an S3, SQS, EventBridge or CloudTrail event nor a direct invocation".into())
}

fn records_trigger(records: &[Value]) -> Result<Trigger, String> {
    let source = |r: &Value| text(r, "eventSource").unwrap_or_default().to_string();
    let first = records
        .first()
        .map(source)
        .ok_or_else(|| "`Records` is empty".to_string())?;
    if let Some((n, other)) = records
        .iter()
        .map(source)
        .enumerate()
        .find(|(_, s)| *s != first)
    {
        return Err(format!(
            "Records[{n}].eventSource `{other}` differs from Records[0]'s `{first}`"
        ));
    }
    match first.as_str() {
        "aws:s3" => Ok(Trigger::Attribute),
        "aws:sqs" => records
            .iter()
            .enumerate()
            .map(|(n, r)| {
                Ok(Message {
                    id: text(r, "messageId")
                        .ok_or_else(|| format!("Records[{n}].messageId is missing"))?
                        .into(),
                    body: text(r, "body")
                        .ok_or_else(|| format!("Records[{n}].body is missing"))?
                        .into(),
                    sent_ms: r
                        .get("attributes")
                        .and_then(|a| text(a, "SentTimestamp"))
                        .and_then(|t| t.parse().ok()),
                    attempt: attribute(r, crate::waiting::ATTEMPT_ATTRIBUTE)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                    origin: attribute(r, crate::waiting::ORIGIN_ID_ATTRIBUTE)
                        .zip(attribute(r, crate::waiting::ORIGIN_TIME_ATTRIBUTE))
                        .map(|(id, at)| (id.to_string(), at.to_string())),
                })
            })
            .collect::<Result<_, String>>()
            .map(Trigger::SqsBatch),
        // A CloudTrail log file's content.
        s if s.ends_with(".amazonaws.com") => Ok(Trigger::Attribute),
        s => Err(format!(
            "Records[0].eventSource `{s}` is not a trigger of this function"
        )),
    }
}

/// An SQS record's string message attribute.
fn attribute<'v>(record: &'v Value, name: &str) -> Option<&'v str> {
    text(record.get("messageAttributes")?.get(name)?, "stringValue")
}

fn direct(v: &Value) -> Result<Direct, String> {
    let user = text(v, "user")
        .filter(|u| !u.is_empty())
        .ok_or("direct invocation: `user` is missing")?
        .to_string();
    let resource = match (text(v, "resource_arn"), text(v, "resource_id")) {
        (Some(arn), None) if arn.starts_with("arn:") => Resource::Arn(arn.into()),
        (None, Some(id)) if !id.is_empty() => Resource::Id {
            id: id.into(),
            region: text(v, "region").map(str::to_string),
        },
        (Some(_), Some(_)) => {
            return Err("direct invocation: give resource_arn or resource_id, not both".into())
        }
        _ => return Err("direct invocation: `resource_arn` must be an ARN".into()),
    };
    let mut tags = BTreeMap::new();
    if let Some(t) = v.get("tags") {
        let t = t
            .as_object()
            .ok_or("direct invocation: `tags` must be an object")?;
        for (k, val) in t {
            let val = val
                .as_str()
                .ok_or_else(|| format!("direct invocation: tags.{k} must be a string"))?;
            tags.insert(k.clone(), val.to_string());
        }
    }
    Ok(Direct {
        resource,
        user,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/lambda-events")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn the_public_samples_land_on_their_rows() {
        assert_eq!(
            classify(&fixture("example-s3-event.json")),
            Ok(Trigger::Attribute)
        );
        assert_eq!(
            classify(&fixture("example-cloudwatch-cloudtrail-assumed-role.json")),
            Ok(Trigger::Attribute)
        );
        assert_eq!(
            classify(&fixture("example-eventbridge-schedule.json")),
            Ok(Trigger::Scan {
                account: "123456789012".into(),
                region: "us-east-1".into()
            })
        );
        let Ok(Trigger::SqsBatch(messages)) = classify(&fixture("example-sqs-event.json")) else {
            panic!("an SQS batch")
        };
        assert_eq!(messages[0].id, "MessageID_1");
        assert_eq!(messages[0].body, "Message Body");
        assert_eq!(messages[0].sent_ms, Some(1520621625029));
        assert_eq!(messages[0].attempt, 0);
        assert_eq!(messages[0].origin, None);
        let waited = br#"{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"{}","messageAttributes":{"tagwarden-attempt":{"stringValue":"3","dataType":"Number"},"tagwarden-origin-id":{"stringValue":"req-1","dataType":"String"},"tagwarden-origin-time":{"stringValue":"2026-11-20T10:00:00Z","dataType":"String"}}}]}"#;
        let Ok(Trigger::SqsBatch(messages)) = classify(waited) else {
            panic!("an SQS batch")
        };
        assert_eq!(messages[0].attempt, 3);
        assert_eq!(
            messages[0].origin,
            Some(("req-1".into(), "2026-11-20T10:00:00Z".into()))
        );
    }

    #[test]
    fn state_changes_api_calls_and_direct_invocations() {
        let change = br#"{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"1","region":"r","detail":{"instance-id":"i-1","state":"running"}}"#;
        assert_eq!(classify(change), Ok(Trigger::Check));
        let call =
            br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{}}"#;
        assert_eq!(classify(call), Ok(Trigger::Attribute));
        let d = classify(br#"{"resource_id":"i-1","user":"alice","tags":{"Team":"a"}}"#).unwrap();
        assert_eq!(
            d,
            Trigger::Direct(Direct {
                resource: Resource::Id {
                    id: "i-1".into(),
                    region: None
                },
                user: "alice".into(),
                tags: [("Team".to_string(), "a".to_string())].into(),
            })
        );
    }

    const HOME: Scope<'static> = Scope {
        partition: "aws",
        region: "eu-west-1",
        account: "111122223333",
    };

    #[test]
    fn a_direct_invocation_is_a_creation_by_its_user() {
        let Ok(Trigger::Direct(d)) =
            classify(br#"{"resource_id":"i-0abc","user":"arn:aws:iam::111122223333:user/alice"}"#)
        else {
            panic!("direct")
        };
        let c = d
            .creation(&HOME, "direct-1", "2026-12-01T10:00:00Z")
            .unwrap();
        assert_eq!(c.resource_type, "ec2:instance");
        assert_eq!(
            c.resources[0].arn,
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"
        );
        assert_eq!(c.creator.id, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(c.creator.kind, IdentityType::IAMUser);
        assert_eq!(
            (c.event.id.as_str(), c.event.name.as_str()),
            ("direct-1", DIRECT_EVENT)
        );

        let arn = "arn:aws-cn:s3:::bucket-1";
        let d = Direct {
            resource: Resource::Arn(arn.into()),
            user: "bob".into(),
            tags: BTreeMap::new(),
        };
        let c = d.creation(&HOME, "direct-2", "t").unwrap();
        assert_eq!(c.resource_type, "s3:bucket");
        // What the ARN leaves empty comes from the function's home; the
        // partition from the ARN.
        assert_eq!(
            (c.event.partition.as_str(), c.resources[0].region.as_str()),
            ("aws-cn", "eu-west-1")
        );
        assert_eq!(c.creator.kind, IdentityType::Unknown);

        let d = Direct {
            resource: Resource::Id {
                id: "bucket-1".into(),
                region: None,
            },
            user: "bob".into(),
            tags: BTreeMap::new(),
        };
        assert!(d
            .creation(&HOME, "x", "t")
            .unwrap_err()
            .contains("not an EC2 id"));
        let d = Direct {
            resource: Resource::Arn("arn:aws:example:eu-west-1:1:widget/x".into()),
            user: "bob".into(),
            tags: BTreeMap::new(),
        };
        assert!(d
            .creation(&HOME, "x", "t")
            .unwrap_err()
            .contains("not in the catalog"));
    }

    #[test]
    fn what_fits_no_row_is_refused_with_why() {
        for (payload, why) in [
            (&br#"{"detail-type":"Scheduled Event","source":"my.app","account":"1","region":"r"}"#[..], "source `my.app`"),
            (br#"{"detail-type":"EC2 Instance State-change Notification","source":"evil"}"#, "source `evil`"),
            (br#"{"Records":[{"eventSource":"aws:s3"},{"eventSource":"aws:sqs"}]}"#, "Records[1].eventSource"),
            (br#"{"Records":[{"eventSource":"aws:sns"}]}"#, "aws:sns"),
            (br#"{"resource_arn":"arn:aws:s3:::b"}"#, "`user`"),
            (br#"{"resource_arn":"b","user":"u"}"#, "must be an ARN"),
            (br#"{"hello":1}"#, "neither"),
            (b"[1]", "not a JSON object"),
            (b"{", "not a JSON event"),
        ] {
            let e = classify(payload).unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
    }
}
