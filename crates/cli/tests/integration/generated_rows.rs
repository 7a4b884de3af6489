//! Catalog rows generated from AWS's API models, end to end against moto:
//! records carrying each service's whole answer (in CloudTrail's casing)
//! are planned by their generated rows, tagged through the Tagging API and
//! read back through each service's own API; a generated tag event undoes
//! tampering.

use crate::apply::{apply_with, by_arn, write_calls};
use crate::moto::{tag_map, world_py, TagMap, World, OWN_ACCOUNT};
use crate::support::{tagwarden, temp_dir};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const MEMBER: &str = "210000000005";

fn creator(account: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/Deployer/alice")
}

/// What `world.py --generated` creates: (eventSource, eventName, type).
const CREATED: &[(&str, &str, &str)] = &[
    (
        "appsync.amazonaws.com",
        "CreateGraphqlApi",
        "appsync:graphqlapi",
    ),
    (
        "backup.amazonaws.com",
        "CreateBackupVault",
        "backup:backupVault",
    ),
    (
        "codedeploy.amazonaws.com",
        "CreateApplication",
        "codedeploy:application",
    ),
    ("dsql.amazonaws.com", "CreateCluster", "dsql:Cluster"),
    ("glue.amazonaws.com", "CreateCrawler", "glue:crawler"),
    ("sagemaker.amazonaws.com", "CreateModel", "sagemaker:model"),
];

#[test]
fn the_events_below_have_only_generated_rows() {
    use tagwarden_core::catalog::{generated, lookup, table};
    for (source, name, kind) in CREATED {
        let hand = table::ENTRIES
            .iter()
            .any(|e| (e.source, e.name) == (source, name));
        assert!(!hand, "{source} {name} has a hand-written row");
        let row = lookup(source.as_bytes(), name.as_bytes()).expect("a row");
        assert!(generated::ENTRIES.iter().any(|e| std::ptr::eq(e, row)));
        assert_eq!(row.resource_type, *kind);
    }
}

#[test]
fn generated_rows_tag_their_resources_and_a_generated_tag_event_restores() {
    let world = World::generated("twg", &[OWN_ACCOUNT, MEMBER], &["us-east-1"]);
    let types: std::collections::BTreeSet<&str> = world
        .resources()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    let want: std::collections::BTreeSet<&str> = CREATED.iter().map(|c| c.2).collect();
    assert_eq!(types, want);
    let dir = temp_dir("generated-rows");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let logs = world.logs.display().to_string();
    let apply = |source: &str| apply_with(&["--store", &store], &[], source);

    // The plan, from the records alone: each row's type, and none of
    // tagwarden's keys that the create call set (a map, a list, a
    // service's own member name).
    let plan = tagwarden(&["--store", &store, "plan", &logs, "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let planned: BTreeMap<String, Value> = plan
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["arn"].as_str().unwrap().to_string(), p.clone()))
        .collect();
    assert_eq!(planned.len(), world.resources().len(), "{}", plan.stdout);
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        let p = &planned[arn];
        assert_eq!(p["resource_type"], r["type"], "{arn}");
        let keys: BTreeSet<&str> = p["tags"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut want: BTreeSet<&str> = ["CreatedBy", "CreatedDate", "ManagedBy"].into();
        want.retain(|k| r["preset"].get(*k).is_none());
        assert_eq!(keys, want, "{arn}: planned keys");
    }
    let presets = world
        .resources()
        .iter()
        .filter(|r| r["preset"].get("ManagedBy").is_some());
    assert_eq!(
        presets.count(),
        3 * 2,
        "three create calls set ManagedBy, in two accounts"
    );

    let run = apply(&logs);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let done = by_arn(&run);
    assert_eq!(done.len(), world.resources().len(), "{}", run.stdout);
    let now = world.tags_now();
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(done[arn]["status"], "tagged", "{arn}: {}", done[arn]);
        let account = r["account"].as_str().unwrap();
        // What the create call set stays; tagwarden wrote the rest.
        let mut want: TagMap = [
            ("CreatedBy".to_string(), creator(account)),
            (
                "CreatedDate".to_string(),
                "2026-11-20T10:00:00Z".to_string(),
            ),
            ("ManagedBy".to_string(), "tagwarden".to_string()),
        ]
        .into();
        want.extend(tag_map(&r["preset"]));
        assert_eq!(now[arn], want, "{arn}: tags through its own service");
    }
    // One Tagging API write per account and tag set: the three services
    // whose create call set ManagedBy share the one, the other three the
    // other.
    assert_eq!(write_calls(&run), 2 * 2, "{}", run.stdout);

    // Someone removes CreatedBy from the crawler through Glue's own API;
    // CloudTrail logs Glue's UntagResource, which only a generated
    // tag-event row describes.
    let crawler = format!("arn:aws:glue:us-east-1:{OWN_ACCOUNT}:crawler/twg-crawler");
    let mallory = format!("arn:aws:iam::{OWN_ACCOUNT}:user/mallory");
    let left: TagMap = serde_json::from_str(&world_py(&[
        "glue-untag",
        "us-east-1",
        &crawler,
        r#"["CreatedBy"]"#,
    ]))
    .unwrap();
    assert!(!left.contains_key("CreatedBy"), "{left:?}");
    let untag = json!({"Records": [{
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAMALLORY", "arn": mallory,
                         "accountId": OWN_ACCOUNT, "userName": "mallory"},
        "eventTime": "2026-11-20T10:10:00Z",
        "eventSource": "glue.amazonaws.com",
        "eventName": "UntagResource",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.66",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"resourceArn": crawler, "tagsToRemove": ["CreatedBy"]},
        "responseElements": null,
        "requestID": "generated-untag",
        "eventID": "generated-untag",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": OWN_ACCOUNT,
        "eventCategory": "Management"
    }]});
    let untag_log = dir.join("untag.json");
    std::fs::write(&untag_log, untag.to_string()).unwrap();
    let restore = apply(&untag_log.display().to_string());
    assert_eq!(restore.code, 0, "{}", restore.stderr);
    let warned = format!("warning: tampering: {crawler}: CreatedBy removed by {mallory}");
    assert!(restore.stderr.contains(&warned), "{}", restore.stderr);
    assert_eq!(
        world.tags_now(),
        now,
        "CreatedBy restored, nothing else touched"
    );

    // The creations again, as a redelivery: nothing is written.
    let again = apply(&logs);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let outcomes = by_arn(&again);
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(outcomes[arn]["status"], "already_tagged", "{arn}");
    }
    assert_eq!(write_calls(&again), 0, "{}", again.stdout);
    assert_eq!(world.tags_now(), now, "the rerun changed tags");
}
