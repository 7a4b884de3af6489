//! records → resources: which create events make which resources.
//!
//! The catalog is data ([`table::ENTRIES`], written by hand, and
//! [`generated::ENTRIES`], from AWS's API models), keyed by `(eventSource,
//! eventName)` because names collide across services (`CreateTable` is
//! DynamoDB, Glue and Keyspaces). Adding a resource type is adding a row.

pub mod children;
pub mod generated;
pub mod grants;
pub mod layers;
pub mod path;
pub mod sessions;
pub mod table;
pub mod tag_events;
pub mod watched;

use crate::record::Record;
use layers::{Keyed, Layers};
use path::{Path, PathError};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which tagging API writes a resource's tags: one adapter per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaggingApi {
    /// EC2 `CreateTags`: up to 1000 resource ids of any EC2 type per call.
    Ec2,
    /// Resource Groups Tagging API `TagResources`: up to 20 ARNs per call.
    ResourceGroups,
    /// S3 `PutBucketTagging`, which replaces the whole set: merge first.
    S3Bucket,
    /// IAM `TagUser` / `TagRole` / `TagPolicy` / `TagInstanceProfile`: the
    /// tagging API does not serve IAM.
    Iam,
    /// Auto Scaling `CreateOrUpdateTags`: not served by the tagging API.
    AutoScaling,
    /// None: the resource is recorded, for what it launches, but its only
    /// tag call has side effects (a CloudFormation stack's tags are changed
    /// by `UpdateStack`, which updates every resource of the stack).
    Untagged,
}

/// One row: how an event names the resources it created.
#[derive(Debug)]
pub struct Entry {
    /// `eventSource`, e.g. `ec2.amazonaws.com`.
    pub source: &'static str,
    /// `eventName`, e.g. `RunInstances`.
    pub name: &'static str,
    /// `service:type` as AWS Organizations tag policies name it.
    pub resource_type: &'static str,
    /// Path to the ids (see [`path`]), in `requestParameters` or
    /// `responseElements`.
    pub ids: &'static str,
    /// ARN template: `{partition}`, `{region}`, `{account}`, `{id}`,
    /// `{id_tail}` (the id after its last `/`, e.g. a queue URL's name), and
    /// any other path into the record (`{requestParameters.restApiId}`),
    /// which must find one string: a resource whose ARN holds its parent's
    /// id. `{id}` alone means the id already is the ARN.
    pub arn: &'static str,
    pub api: TaggingApi,
    /// Paths to tags the creator set in the create call itself.
    pub tags: &'static [&'static str],
    /// Other (ids, ARN template) pairs, tried in order when the ones before
    /// find nothing: two APIs that log the same event (classic ELB and
    /// ELBv2), or older records that lack a newer member (RDS before
    /// `dBInstanceArn`).
    pub alternatives: &'static [(&'static str, &'static str)],
}

impl Entry {
    /// The row with other (ids, ARN template) pairs, tried in order.
    pub const fn or(self, alternatives: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            alternatives,
            ..self
        }
    }

    /// Every (ids, ARN template) pair, in the order they are tried.
    pub fn rules(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        std::iter::once((self.ids, self.arn)).chain(self.alternatives.iter().copied())
    }
}

struct Compiled {
    /// The row's (ids, ARN template) pairs' paths, in order.
    ids: Vec<Result<Path, PathError>>,
    tags: Vec<Result<Path, PathError>>,
    /// The record paths the ARN templates name, by their text.
    fields: Vec<(&'static str, Result<Path, PathError>)>,
}

/// A static, so each row's compiled paths are built once per process,
/// and holding the tables themselves (see [`Layers`]).
static CREATIONS: Layers<Entry, Compiled> =
    Layers::new(&table::ENTRIES, &generated::ENTRIES, Compiled::new);

impl Keyed for Entry {
    fn key(&self) -> (&'static str, &'static str) {
        (self.source, self.name)
    }
}

impl Compiled {
    fn new(e: &Entry) -> Self {
        Self {
            ids: e.rules().map(|(ids, _)| Path::parse(ids)).collect(),
            tags: e.tags.iter().map(|t| Path::parse(t)).collect(),
            fields: e
                .rules()
                .flat_map(|(_, arn)| record_fields(arn))
                .map(|f| (f, Path::parse(f)))
                .collect(),
        }
    }
}

/// The placeholders of an ARN template that are paths into the record.
pub fn record_fields(template: &'static str) -> impl Iterator<Item = &'static str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(field, _)| field))
        .filter(|field| field.contains('.'))
}

/// Finds the row for an event: the hand-written one, else the generated
/// one. Each table is sorted by (source, name).
pub fn lookup(source: &[u8], name: &[u8]) -> Option<&'static Entry> {
    CREATIONS.lookup(source, name)
}

/// The first row that creates resources of `resource_type`, hand-written
/// rows first.
fn entry_of_type(resource_type: &str) -> Option<&'static Entry> {
    CREATIONS.rows().find(|e| e.resource_type == resource_type)
}

/// The catalog's own name for a resource type and the API that tags it:
/// what a stored `service:type` string becomes again.
pub fn resource_type(name: &str) -> Option<(&'static str, TaggingApi)> {
    entry_of_type(name).map(|e| (e.resource_type, e.api))
}

/// The ARN of a resource of a catalogued type from its id, as creations
/// name it: inventories and events then agree on the key.
pub fn arn_for(resource_type: &str, id: &str, scope: &Scope<'_>) -> Option<String> {
    let entry = entry_of_type(resource_type)?;
    let path = Path::parse("id").ok()?;
    resource(entry.arn, id, scope, &path, &no_record)
        .ok()
        .map(|r| r.arn)
}

/// An id alone, without its record, cannot fill a template's record path
/// (a parent's id): such an ARN is not made.
fn no_record(field: &str) -> Result<String, CatalogError> {
    Err(CatalogError::NeedsRecord(field.to_string()))
}

/// Why a catalogued record yielded no resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("no resource id here")]
    NoId { path: String },
    #[error("`{id}` is not an ARN")]
    NotAnArn { path: String, id: String },
    #[error("the resource id is not a string: {id}")]
    NotAString { path: String, id: String },
    #[error("unknown ARN template field `{{{0}}}`")]
    BadTemplate(String),
    /// A template's record path, asked of an id that came without its
    /// record (an inventory's): the row is sound, the ARN cannot be made.
    #[error("the ARN needs the record's `{0}`")]
    NeedsRecord(String),
    #[error("catalog row for {event_source}/{name} is broken: {why}")]
    BadRow {
        event_source: &'static str,
        name: &'static str,
        why: String,
    },
}

impl CatalogError {
    /// The path in the record the error is about.
    pub fn field(&self) -> &str {
        match self {
            Self::NoId { path } | Self::NotAnArn { path, .. } | Self::NotAString { path, .. } => {
                path
            }
            Self::BadRow { .. } | Self::BadTemplate(_) | Self::NeedsRecord(_) => "record",
        }
    }
}

/// The partition from an ARN's second field.
pub fn arn_partition(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(3, ':');
    (parts.next()? == "arn").then_some(())?;
    parts.next().filter(|p| !p.is_empty())
}

/// A resource a record created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub arn: String,
    pub account: String,
    pub region: String,
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Where something happens: the event, as the ARN template needs it, and
/// a call, as the client cache keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope<'s> {
    pub partition: &'s str,
    pub region: &'s str,
    pub account: &'s str,
}

impl Entry {
    fn compiled(&'static self) -> Result<&'static Compiled, CatalogError> {
        CREATIONS
            .compiled(self)
            .ok_or_else(|| self.bad_row("not a row of the catalog table"))
    }

    fn bad_row(&self, why: impl ToString) -> CatalogError {
        CatalogError::BadRow {
            event_source: self.source,
            name: self.name,
            why: why.to_string(),
        }
    }

    /// The resources the record created, in the order the record lists them:
    /// by the first (ids, ARN template) pair whose path finds anything.
    pub fn resources(
        &'static self,
        record: &Record<'_>,
        scope: &Scope<'_>,
    ) -> Result<Vec<Resource>, CatalogError> {
        let compiled = self.compiled()?;
        let mut first = None;
        for (path, (_, arn)) in compiled.ids.iter().zip(self.rules()) {
            let path = path.as_ref().map_err(|e| self.bad_row(e))?;
            first.get_or_insert(path);
            let found = find(record, path);
            if found.is_empty() {
                continue;
            }
            let field = |name: &str| self.field(compiled, record, name);
            return strings(found, path)?
                .into_iter()
                .map(|id| resource(arn, id, scope, path, &field))
                .collect();
        }
        Err(CatalogError::NoId {
            path: first.map(ToString::to_string).unwrap_or_default(),
        })
    }

    /// The one string a template's record path finds.
    fn field(
        &self,
        compiled: &Compiled,
        record: &Record<'_>,
        name: &str,
    ) -> Result<String, CatalogError> {
        let (_, path) = compiled
            .fields
            .iter()
            .find(|(f, _)| *f == name)
            .ok_or_else(|| CatalogError::BadTemplate(name.to_string()))?;
        let path = path.as_ref().map_err(|e| self.bad_row(e))?;
        match strings(find(record, path), path)?.as_slice() {
            [one] => Ok(one.to_string()),
            _ => Err(CatalogError::NoId {
                path: path.to_string(),
            }),
        }
    }
}

/// The ids a path found, which must be strings.
fn strings<'v>(found: Vec<&'v Value>, path: &Path) -> Result<Vec<&'v str>, CatalogError> {
    found
        .into_iter()
        .map(|v| {
            v.as_str().ok_or_else(|| CatalogError::NotAString {
                path: path.to_string(),
                id: v.to_string(),
            })
        })
        .collect()
}

fn find<'r>(record: &'r Record<'_>, path: &Path) -> Vec<&'r Value> {
    record
        .section(path.root())
        .map(|r| path.find_in_section(r))
        .unwrap_or_default()
}

/// One resource from one id, by an ARN template.
fn resource(
    template: &str,
    id: &str,
    scope: &Scope<'_>,
    path: &Path,
    field: &dyn Fn(&str) -> Result<String, CatalogError>,
) -> Result<Resource, CatalogError> {
    if template == "{id}" {
        let fields: Vec<&str> = id.splitn(6, ':').collect();
        if fields.len() < 6 || fields[0] != "arn" || fields[1].is_empty() {
            return Err(CatalogError::NotAnArn {
                path: path.to_string(),
                id: id.to_string(),
            });
        }
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        return Ok(Resource {
            arn: id.to_string(),
            account: or(fields[4], scope.account),
            region: or(fields[3], scope.region),
        });
    }
    let tail = id.rsplit('/').next().unwrap_or(id);
    // One pass, so that a value holding `{id}` is never substituted again.
    let mut arn = String::with_capacity(template.len() + id.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        arn.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            return Err(CatalogError::BadTemplate(rest[open..].to_string()));
        };
        match &rest[open + 1..close] {
            "partition" => arn.push_str(scope.partition),
            "region" => arn.push_str(scope.region),
            "account" => arn.push_str(scope.account),
            "id_tail" => arn.push_str(tail),
            "id" => arn.push_str(id),
            other if other.contains('.') => arn.push_str(&field(other)?),
            other => return Err(CatalogError::BadTemplate(other.to_string())),
        }
        rest = &rest[close + 1..];
    }
    arn.push_str(rest);
    Ok(Resource {
        arn,
        account: scope.account.to_string(),
        region: scope.region.to_string(),
    })
}

impl Entry {
    /// Tags the creator set in the create call, in the order found.
    pub fn preset_tags(&'static self, record: &Record<'_>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Ok(compiled) = self.compiled() else {
            return out;
        };
        for path in compiled.tags.iter().flatten() {
            let Some(root) = record.section(path.root()) else {
                continue;
            };
            for v in path.find_in_section(root) {
                collect_tags(v, &mut out);
            }
        }
        out
    }
}

/// Reads every tag shape AWS APIs use: `{"k": "v"}` maps, and lists of
/// `{key, value}` / `{Key, Value}` / `{tagKey, tagValue}` pairs, or one such
/// pair alone (XML-shaped EC2 requests log a single `Tag` as an object).
fn collect_tags(v: &Value, out: &mut BTreeMap<String, String>) {
    const KEYS: [&str; 4] = ["key", "Key", "tagKey", "TagKey"];
    const VALUES: [&str; 4] = ["value", "Value", "tagValue", "TagValue"];
    match v {
        Value::Array(items) => {
            for item in items {
                let key = KEYS
                    .iter()
                    .find_map(|k| item.get(k))
                    .and_then(Value::as_str);
                let value = VALUES.iter().find_map(|k| item.get(k));
                match (key, value) {
                    (Some(k), value) => {
                        let value = value.and_then(Value::as_str).unwrap_or_default();
                        out.insert(k.to_string(), value.to_string());
                    }
                    // A list of lists: EC2 tag specifications without a filter.
                    (None, _) => collect_tags(item, out),
                }
            }
        }
        Value::Object(map) => {
            // A wrapper such as an EC2 tag specification: the tags are inside.
            let inner = map.get("tags").or_else(|| map.get("Tags"));
            if let Some(tags) = inner.filter(|t| t.is_array() || t.is_object()) {
                return collect_tags(tags, out);
            }
            // Fields a single `{Key, Value}` object may carry (EC2's XML
            // form adds `tag`, Auto Scaling its own three).
            const PAIR_FIELDS: [&str; 15] = [
                "key",
                "Key",
                "tagKey",
                "TagKey",
                "value",
                "Value",
                "tagValue",
                "TagValue",
                "tag",
                "propagateAtLaunch",
                "PropagateAtLaunch",
                "resourceId",
                "ResourceId",
                "resourceType",
                "ResourceType",
            ];
            let key = KEYS
                .iter()
                .find_map(|k| map.get(*k))
                .and_then(Value::as_str);
            let value = VALUES
                .iter()
                .find_map(|k| map.get(*k))
                .and_then(Value::as_str);
            if let Some((k, v)) = key.zip(value) {
                out.insert(k.to_string(), v.to_string());
                if map.keys().all(|k| PAIR_FIELDS.contains(&k.as_str())) {
                    return;
                }
            }
            // Otherwise a `{key: value}` map. When both readings are
            // possible both are kept: an extra preset key only means one
            // tag left unwritten, a missing one would mean an overwrite.
            for (k, v) in map {
                if let Some(s) = v.as_str() {
                    out.insert(k.clone(), s.to_string());
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read at run time: a `const` or `static` built from the tables'
    /// values would hold copies of their rows, not the rows themselves.
    fn tables() -> [&'static [Entry]; 2] {
        [table::ENTRIES, generated::ENTRIES]
    }

    #[test]
    fn tables_are_sorted_and_unique() {
        for w in tables().iter().flat_map(|t| t.windows(2)) {
            assert!(
                (w[0].source, w[0].name) < (w[1].source, w[1].name),
                "{}/{} must sort before {}/{}",
                w[0].source,
                w[0].name,
                w[1].source,
                w[1].name
            );
        }
    }

    #[test]
    fn every_row_compiles_and_has_a_well_formed_template() {
        let rows = tables()
            .into_iter()
            .flat_map(|t| t.iter())
            .map(|e| (e, CREATIONS.compiled(e).unwrap()));
        for (e, c) in rows {
            let id = format!("{}/{}", e.source, e.name);
            assert!(c.ids.iter().all(Result::is_ok), "{id}: {:?}", c.ids);
            assert!(c.fields.iter().all(|(_, f)| f.is_ok()), "{id}: ARN fields");
            assert!(c.tags.iter().all(Result::is_ok), "{id}: tag paths");
            let scope = Scope {
                partition: "aws",
                region: "r",
                account: "1",
            };
            let any_field = |_: &str| Ok("p".to_string());
            for (path, (_, arn)) in c.ids.iter().zip(e.rules()) {
                let path = path.as_ref().unwrap();
                if arn != "{id}" {
                    assert!(
                        resource(arn, "x/y", &scope, path, &any_field).is_ok(),
                        "{id}: ARN template {arn}"
                    );
                }
                let root = path.root();
                assert!(
                    root == "requestParameters" || root == "responseElements",
                    "{id}: ids must sit in requestParameters or responseElements"
                );
                assert!(
                    arn == "{id}" || arn.starts_with("arn:{partition}:"),
                    "{id}: the partition comes from the event, never a literal"
                );
            }
            assert!(e.source.ends_with(".amazonaws.com"), "{id}: eventSource");
            let (svc, ty) = e.resource_type.split_once(':').unwrap_or_default();
            assert!(!svc.is_empty() && !ty.is_empty(), "{id}: resource type");
        }
    }

    /// The pipeline asks the creation tables first, then the tag calls': a
    /// generated row must not hide a tag call, a watched call or a
    /// credential call.
    #[test]
    fn no_generated_row_hides_another_tables_event() {
        let later = watched::WATCHED
            .iter()
            .map(|e| (e.source, e.name))
            .chain(sessions::SESSION_EVENTS.iter().map(|e| (e.source, e.name)));
        let tag_calls = tag_events::TAG_EVENTS
            .iter()
            .chain(generated::TAG_EVENTS)
            .map(|e| (e.source, e.name));
        for (source, name) in tag_calls.clone().chain(later.clone()) {
            let (s, n) = (source.as_bytes(), name.as_bytes());
            assert!(
                layers::find(generated::ENTRIES, s, n).is_none(),
                "{source}/{name}"
            );
        }
        for (source, name) in later {
            let (s, n) = (source.as_bytes(), name.as_bytes());
            assert!(
                layers::find(generated::TAG_EVENTS, s, n).is_none(),
                "{source}/{name}"
            );
        }
    }

    /// Every generated row can be tagged by a call the role is granted.
    #[test]
    fn every_generated_rows_service_has_its_tag_call() {
        for e in generated::ENTRIES {
            let (prefix, _) = e.resource_type.split_once(':').unwrap();
            assert!(
                generated::TAG_CALLS
                    .iter()
                    .any(|(p, tag, _)| *p == prefix && !tag.is_empty()),
                "{}/{}: no tag call for `{prefix}`",
                e.source,
                e.name
            );
        }
        assert!(generated::TAG_CALLS.windows(2).all(|w| w[0] < w[1]));
    }

    /// A stage's ARN holds its REST API's id, a record path in the template:
    /// a record without it, or with something other than one string there,
    /// names the field; an id without its record makes no ARN at all.
    #[test]
    fn a_template_record_path_must_find_one_string() {
        let stage = lookup(b"apigateway.amazonaws.com", b"CreateStage").unwrap();
        let scope = Scope {
            partition: "aws",
            region: "eu-west-1",
            account: "111122223333",
        };
        let plan = |request: serde_json::Value| {
            let bytes = serde_json::to_vec(&serde_json::json!({
                "eventVersion": "1.08", "eventSource": "apigateway.amazonaws.com",
                "eventName": "CreateStage", "eventTime": "2026-01-01T00:00:00Z",
                "awsRegion": "eu-west-1", "recipientAccountId": "111122223333",
                "requestParameters": request,
                "responseElements": {"stageName": "prod"},
            }))
            .unwrap();
            stage.resources(&Record::parse(&bytes).unwrap(), &scope)
        };
        let arns = plan(serde_json::json!({"restApiId": "a1b2c3"})).unwrap();
        assert_eq!(
            arns[0].arn,
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/prod"
        );
        let field = "requestParameters.restApiId".to_string();
        assert_eq!(
            plan(serde_json::json!({})),
            Err(CatalogError::NoId {
                path: field.clone()
            })
        );
        assert!(matches!(
            plan(serde_json::json!({"restApiId": ["a1", "b2"]})),
            Err(CatalogError::NotAString { path, .. }) if path == field
        ));
        assert_eq!(arn_for("apigateway:stages", "prod", &scope), None);
    }

    #[test]
    fn a_lone_tag_object_is_one_pair_not_a_map() {
        let mut out = BTreeMap::new();
        collect_tags(
            &serde_json::json!({"Key": "team", "Value": "web", "tag": 1}),
            &mut out,
        );
        assert_eq!(
            out,
            BTreeMap::from([("team".to_string(), "web".to_string())])
        );
    }

    #[test]
    fn tag_maps_that_look_like_pairs_still_keep_every_key() {
        let cases = [
            (
                serde_json::json!({"tags": "x", "CreatedBy": "me"}),
                vec!["CreatedBy", "tags"],
            ),
            (
                serde_json::json!({"Key": "team", "Value": "web", "CreatedBy": "me"}),
                vec!["CreatedBy", "Key", "Value", "team"],
            ),
            (
                serde_json::json!({"Key": "team", "Value": "web", "tag": 1}),
                vec!["team"],
            ),
            (
                serde_json::json!({"resourceType": "instance", "tags": [{"key": "a", "value": "1"}]}),
                vec!["a"],
            ),
        ];
        for (v, want) in cases {
            let mut out = BTreeMap::new();
            collect_tags(&v, &mut out);
            assert_eq!(
                out.keys().map(String::as_str).collect::<Vec<_>>(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn an_entry_outside_the_table_is_an_error_not_a_panic() {
        static STRAY: Entry = Entry {
            source: "x.amazonaws.com",
            name: "CreateX",
            resource_type: "x:thing",
            ids: "requestParameters.id",
            arn: "{id}",
            api: TaggingApi::ResourceGroups,
            tags: &["requestParameters.tags"],
            alternatives: &[],
        };
        let rec = Record::parse(
            br#"{"requestParameters":{"id":"arn:aws:x:r:1:thing/z","tags":{"a":"b"}}}"#,
        )
        .unwrap();
        let scope = Scope {
            partition: "aws",
            region: "r",
            account: "1",
        };
        assert!(matches!(
            STRAY.resources(&rec, &scope),
            Err(CatalogError::BadRow { .. })
        ));
        assert!(STRAY.preset_tags(&rec).is_empty());
    }

    #[test]
    fn classic_elb_falls_back_to_the_requested_name() {
        let rec = br#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws-cn:iam::111122223333:user/ops","accountId":"111122223333"},
            "eventTime":"2026-01-15T10:30:00Z","eventSource":"elasticloadbalancing.amazonaws.com","eventName":"CreateLoadBalancer",
            "awsRegion":"cn-north-1","apiVersion":"2012-06-01","requestParameters":{"loadBalancerName":"legacy-web",
            "listeners":[{"protocol":"HTTP","loadBalancerPort":80,"instanceProtocol":"HTTP","instancePort":80}],
            "availabilityZones":["cn-north-1a"],"tags":[{"key":"team","value":"web"}]},
            "responseElements":{"dNSName":"legacy-web-1234567890.cn-north-1.elb.amazonaws.com.cn"},
            "eventID":"c1a55ic0-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,
            "recipientAccountId":"111122223333","eventCategory":"Management"}"#;
        let (found, stats) = crate::pipeline::read_all("classic.json", rec);
        assert_eq!(stats.errors, 0, "{found:?}");
        let crate::pipeline::Found::Creation(c) = &found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(
            c.resources[0].arn,
            "arn:aws-cn:elasticloadbalancing:cn-north-1:111122223333:loadbalancer/legacy-web"
        );
        assert_eq!(c.preset_tags.get("team").map(String::as_str), Some("web"));
    }

    #[test]
    fn names_that_collide_across_services_stay_apart() {
        let ecs = lookup(b"ecs.amazonaws.com", b"CreateCluster").unwrap();
        let eks = lookup(b"eks.amazonaws.com", b"CreateCluster").unwrap();
        assert_ne!(ecs.resource_type, eks.resource_type);
        assert!(lookup(b"glue.amazonaws.com", b"CreateTable").is_none());
    }
}
