//! `tagwarden apply` against moto: every type moto can create, two accounts
//! (one reached by assume-role), two regions.

use crate::moto::{tag_map, world_py, TagMap, World, OWN_ACCOUNT, ROLE};
use crate::support::{ec2_call, tagwarden, temp_dir, Run};
use serde_json::Value;
use std::collections::BTreeMap;

const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];

fn apply(world: &World, extra: &[&str]) -> Run {
    apply_with(&[], extra, &world.logs.display().to_string())
}

/// `apply` of `source` into other accounts, its outcomes as JSON, quick
/// retries; `global` comes before the verb (`--store`).
pub(crate) fn apply_with(global: &[&str], extra: &[&str], source: &str) -> Run {
    let mut args = global.to_vec();
    args.extend([
        "apply",
        "--assume-role",
        ROLE,
        "--format",
        "json",
        "--retry-base-ms",
        "10",
    ]);
    args.extend_from_slice(extra);
    args.push(source);
    tagwarden(&args)
}

pub(crate) fn by_arn(run: &Run) -> BTreeMap<String, Value> {
    run.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["arn"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

pub(crate) fn write_calls(run: &Run) -> u64 {
    run.json()["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["write"] == true)
        .map(|c| c["calls"].as_u64().unwrap())
        .sum()
}

/// What tagwarden should write: the policy's three tags less any key the
/// resource carried before it ran.
fn expected_writes(resource: &Value) -> TagMap {
    let account = resource["account"].as_str().unwrap();
    let before: TagMap = tag_map(&resource["preset"])
        .into_iter()
        .chain(tag_map(&resource["added"]))
        .collect();
    [
        (
            "CreatedBy",
            format!("arn:aws:sts::{account}:assumed-role/Deployer/alice"),
        ),
        ("CreatedDate", "2026-11-20T10:00:00Z".to_string()),
        ("ManagedBy", "tagwarden".to_string()),
    ]
    .into_iter()
    .filter(|(k, _)| !before.contains_key(*k))
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn before(resource: &Value) -> TagMap {
    tag_map(&resource["preset"])
        .into_iter()
        .chain(tag_map(&resource["added"]))
        .collect()
}

#[test]
fn apply_tags_every_type_across_accounts_and_regions_and_a_rerun_writes_nothing() {
    let world = World::build("twa", &[OWN_ACCOUNT, "210000000001"], REGIONS, true);
    let run = apply(&world, &[]);
    // The unknown buckets and (in moto) the queues fail; nothing else does.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let outcomes = by_arn(&run);
    let now = world.tags_now();
    let types: std::collections::BTreeSet<&str> = world
        .resources()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    // Every type in the catalog that moto can create and tag.
    assert_eq!(types.len(), 33, "{types:?}");
    // Each place's two instances bring their root volumes (read at apply
    // time) and network interfaces (named by the event): tagged above as
    // the instances' creator's, beside the volume and interface created
    // on their own.
    let places = 2 * REGIONS.len();
    let of_type = |t: &str| world.resources().iter().filter(|r| r["type"] == t).count();
    assert_eq!(of_type("ec2:volume"), 3 * places);
    assert_eq!(of_type("ec2:network-interface"), 3 * places);
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        let o = &outcomes[arn];
        assert_eq!(o["status"], "tagged", "{arn}: {o}");
        let want = expected_writes(r);
        assert_eq!(tag_map(&o["written"]), want, "{arn}: written");
        // Read back through the service's own API: what was there before
        // is untouched, and the rest is exactly what was planned.
        let mut all = before(r);
        all.extend(want);
        assert_eq!(now[arn], all, "{arn}: tags now");
    }
    for arn in world.unknown() {
        assert_eq!(outcomes[arn]["status"], "failed", "{arn}");
        assert_eq!(outcomes[arn]["error"]["kind"], "not_found", "{arn}");
        assert!(run.stderr.contains(arn), "{arn} not reported on stderr");
    }
    // moto-only gap: its tagging API refuses SQS. Reported, not retried
    // (it says "not yet supported"), never dropped.
    for arn in world.unsupported() {
        assert_eq!(outcomes[arn]["status"], "failed", "{arn}");
        assert_eq!(outcomes[arn]["error"]["kind"], "unsupported", "{arn}");
    }
    assert_eq!(
        outcomes.len(),
        world.resources().len() + world.unknown().len() + world.unsupported().len(),
        "every planned resource has an outcome"
    );

    // The second run writes to nothing that succeeded; only what failed is
    // tried again (the queues, one TagResources per account).
    let again = apply(&world, &[]);
    assert_eq!(again.code, 1);
    assert_eq!(
        write_calls(&again),
        world.unsupported().len() as u64,
        "the second run wrote: {}",
        again.stdout
    );
    let outcomes = by_arn(&again);
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(outcomes[arn]["status"], "already_tagged", "{arn}");
    }
    assert_eq!(world.tags_now(), now, "the second run changed tags");
}

#[test]
fn a_dry_run_reads_and_reports_but_changes_nothing() {
    let world = World::build("twd", &["210000000002"], &["us-east-1"], false);
    let run = apply(&world, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(write_calls(&run), 0);
    let outcomes = by_arn(&run);
    let now = world.tags_now();
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(outcomes[arn]["status"], "would_tag", "{arn}");
        assert_eq!(tag_map(&outcomes[arn]["written"]), expected_writes(r));
        assert_eq!(now[arn], before(r), "{arn} changed in a dry run");
    }
}

/// The CLI undoes the tampering it reads: a later `CreateTags` by someone
/// else changing `CreatedBy` is shown before anything changes, written
/// back, and recorded as `restored` naming the actor; reading the same
/// logs again (an old change, now history) changes nothing.
#[test]
fn apply_restores_a_created_by_someone_else_changed() {
    use serde_json::json;
    let id: String = serde_json::from_str(&world_py(&["instance-new", "us-east-1"])).unwrap();
    let arn = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}");
    let alice = format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice");
    let mallory = format!("arn:aws:iam::{OWN_ACCOUNT}:user/mallory");
    let dir = temp_dir("cli-tamper");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let log = |name: &str, event: &str, time: &str, who: &str, params: Value, response: Value| {
        let record = ec2_call(event, &format!("cli-{event}"), time, who, params, response);
        let path = dir.join(name);
        std::fs::write(&path, json!({"Records": [record]}).to_string()).unwrap();
        path.display().to_string()
    };
    let created = log(
        "1.json",
        "RunInstances",
        "2026-11-20T10:00:00Z",
        &alice,
        json!({"instanceType": "t3.micro"}),
        json!({"instancesSet": {"items": [{"instanceId": id}]}}),
    );
    let changed = log(
        "2.json",
        "CreateTags",
        "2026-11-20T10:10:00Z",
        &mallory,
        json!({"resourcesSet": {"items": [{"resourceId": id}]},
               "tagSet": {"items": [{"key": "CreatedBy", "value": mallory}]}}),
        Value::Null,
    );
    let apply = |log: &str| tagwarden(&["--store", &store, "apply", log, "--yes"]);
    let tags = || {
        tag_map(
            &serde_json::from_str::<Value>(&world_py(&["tags-now", "us-east-1", &arn])).unwrap()
                [&arn],
        )
    };
    let first = apply(&created);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(tags().get("CreatedBy"), Some(&alice));

    world_py(&[
        "instance-tags",
        "us-east-1",
        &id,
        &json!({"CreatedBy": mallory}).to_string(),
    ]);
    // Before tagwarden reads the change, a scan finds it from the store.
    let scan = || {
        let run = tagwarden(&[
            "--store",
            &store,
            "scan",
            "--types",
            "ec2:instance",
            "--regions",
            "us-east-1",
            "--format",
            "json",
        ]);
        let found = run.json();
        let mine = found
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["arn"] == arn.as_str());
        mine.unwrap_or_else(|| panic!("{arn} not scanned: {}", run.stderr))
            .clone()
    };
    let scanned = scan();
    assert_eq!(scanned["compliant"], false, "{scanned}");
    assert_eq!(
        scanned["attribution_mismatch"]["CreatedBy"],
        json!({"found": mallory, "expected": alice, "creator": alice}),
        "{scanned}"
    );
    let second = apply(&changed);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let warned =
        format!("warning: tampering: {arn}: CreatedBy changed to `{mallory}` by {mallory}");
    assert!(second.stderr.contains(&warned), "{}", second.stderr);
    assert!(
        second.stderr.contains("Restored 1 protected keys"),
        "{}",
        second.stderr
    );
    assert_eq!(tags().get("CreatedBy"), Some(&alice));
    assert!(scan().get("attribution_mismatch").is_none(), "restored");
    let restored = |run: &Run| -> Vec<Value> {
        run.json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["change"] == "restored")
            .cloned()
            .collect()
    };
    let rows = restored(&tagwarden(&[
        "--store", &store, "export", "--format", "json",
    ]));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor"], mallory.as_str());

    let again = apply(&changed);
    assert!(!again.stderr.contains("tampering"), "{}", again.stderr);
    let rows = restored(&tagwarden(&[
        "--store", &store, "export", "--format", "json",
    ]));
    assert_eq!(rows.len(), 1);
}

/// `explain` on a resource tagwarden tagged (and whose `CreatedBy` someone
/// then changed), on one whose write failed, and on one it never saw.
#[test]
fn explain_answers_for_a_tagged_a_failed_and_an_unknown_resource() {
    use serde_json::json;
    let id: String = serde_json::from_str(&world_py(&["instance-new", "us-east-1"])).unwrap();
    let arn = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}");
    let gone = "arn:aws:s3:::tagwarden-explain-never-made";
    let alice = format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice");
    let mallory = format!("arn:aws:iam::{OWN_ACCOUNT}:user/mallory");
    let dir = temp_dir("cli-explain");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let log = |name: &str, records: Vec<Value>| {
        let path = dir.join(name);
        std::fs::write(&path, json!({"Records": records}).to_string()).unwrap();
        path.display().to_string()
    };
    let run = |event: &str, instance: &str| {
        ec2_call(
            "RunInstances",
            event,
            "2026-11-20T10:00:00Z",
            &alice,
            json!({"instanceType": "t3.micro"}),
            json!({"instancesSet": {"items": [{"instanceId": instance}]}}),
        )
    };
    // A bucket no one made: its write fails, not found.
    let mut bucket = run("explain-2", "unused");
    bucket["eventSource"] = json!("s3.amazonaws.com");
    bucket["eventName"] = json!("CreateBucket");
    bucket["requestParameters"] = json!({"bucketName": "tagwarden-explain-never-made"});
    bucket["responseElements"] = Value::Null;
    let created = log("1.json", vec![run("explain-1", &id), bucket]);
    let first = tagwarden(&[
        "--store",
        &store,
        "apply",
        &created,
        "--yes",
        "--retries",
        "1",
        "--retry-base-ms",
        "10",
    ]);
    assert_eq!(first.code, 1, "the unknown bucket fails: {}", first.stderr);
    // Someone changes the creator tag; tagwarden reads it and restores it.
    world_py(&[
        "instance-tags",
        "us-east-1",
        &id,
        &json!({"CreatedBy": mallory}).to_string(),
    ]);
    let changed = log(
        "2.json",
        vec![ec2_call(
            "CreateTags",
            "explain-3",
            "2026-11-20T10:10:00Z",
            &mallory,
            json!({"resourcesSet": {"items": [{"resourceId": id}]},
                   "tagSet": {"items": [{"key": "CreatedBy", "value": mallory}]}}),
            Value::Null,
        )],
    );
    let second = tagwarden(&["--store", &store, "apply", &changed, "--yes"]);
    assert_eq!(second.code, 0, "{}", second.stderr);

    let explain = |arn: &str| tagwarden(&["--store", &store, "explain", arn, "--format", "json"]);
    let tagged = explain(&arn);
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    let e = tagged.json();
    assert_eq!(e["known"], true);
    assert_eq!(e["state"], "tagged");
    assert_eq!(e["creation"]["event"]["name"], "RunInstances");
    assert_eq!(e["creation"]["event"]["id"], "explain-1");
    assert_eq!(e["creation"]["catalog"]["resource_type"], "ec2:instance");
    assert_eq!(e["creator"]["arn"], alice.as_str());
    assert_eq!(e["creator"]["responsible"], alice.as_str());
    assert_eq!(e["creator"]["origin"], Value::Null);
    assert_eq!(e["policy"]["recomputed"], true);
    let decision = |e: &Value, key: &str| {
        e["policy"]["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {e}"))["decision"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(decision(&e, "CreatedBy"), "in place");
    assert_eq!(
        decision(&e, "CreatedByOrigin"),
        "not written: its value is null"
    );
    assert_eq!(e["writes"][0]["change"], "tagged");
    let tampering: Vec<(&str, &str)> = e["tampering"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["change"].as_str().unwrap(), t["actor"].as_str().unwrap()))
        .collect();
    assert!(
        tampering.contains(&("tags_set", mallory.as_str())),
        "{tampering:?}"
    );
    assert!(
        tampering.iter().any(|(c, _)| *c == "restored"),
        "{tampering:?}"
    );
    // The default policy requires Owner and the rest: not compliant.
    assert_eq!(e["verdict"]["compliant"], false);
    assert!(e["verdict"]["missing"]
        .as_array()
        .unwrap()
        .contains(&json!("Owner")));

    let failed = explain(gone);
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    let f = failed.json();
    assert_eq!(f["state"], "failed");
    assert_eq!(f["error"]["kind"], "not_found");
    assert_eq!(f["writes"][0]["change"], "failed");
    assert_eq!(f["writes"][0]["error"]["kind"], "not_found");
    assert_eq!(f["pending"]["CreatedBy"], alice.as_str());
    assert_eq!(decision(&f, "CreatedBy"), "to write");

    let unknown = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/i-0000000000000beef");
    let none = explain(&unknown);
    assert_eq!(none.code, 1, "{}", none.stdout);
    let u = none.json();
    assert_eq!(u["known"], false);
    assert!(
        u["reasons"][0]
            .as_str()
            .unwrap()
            .contains("not been read yet"),
        "{u}"
    );
    let table = tagwarden(&["--store", &store, "explain", &unknown]);
    assert_eq!(table.code, 1);
    assert!(table.stdout.contains("Likely reasons"), "{}", table.stdout);
    let table = tagwarden(&["--store", &store, "explain", &arn]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    for said in [
        "RunInstances",
        "responsible",
        "in place",
        "restored",
        "non-compliant",
    ] {
        assert!(table.stdout.contains(said), "{said}:\n{}", table.stdout);
    }
}
