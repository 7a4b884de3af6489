//! `tagwarden plan`: the JSON contract, the table, sources and exit codes.

use crate::support::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn write(dir: &std::path::Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.display().to_string()
}

#[test]
fn json_output_follows_the_contract_exactly() {
    let dir = temp_dir("contract");
    let log = write(
        &dir,
        "log.json",
        &json!({"Records": [fixture_record("ec2.RunInstances.json")]}),
    );
    let run = tagwarden(&["plan", &log, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = run.json();
    let items = plan.as_array().expect("one JSON array");
    assert_eq!(items.len(), 2);
    let first = &items[0];
    assert_eq!(
        keys(first),
        [
            "account",
            "arn",
            "creator",
            "event",
            "region",
            "resource_type",
            "tags"
        ]
        .into()
    );
    assert_eq!(
        first["arn"],
        "arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718"
    );
    assert_eq!(first["resource_type"], "ec2:instance");
    assert_eq!(first["account"], "111122223333");
    assert_eq!(first["region"], "us-east-1");
    assert_eq!(
        first["event"],
        json!({"id": "9f1c2b3a-1111-4222-8333-444455556666", "source": "ec2.amazonaws.com",
               "name": "RunInstances", "time": "2026-01-15T10:30:00Z"})
    );
    let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PowerUser_0123456789abcdef/alice@example.com";
    assert_eq!(
        first["creator"],
        json!({"arn": sso, "type": "AssumedRole", "invoked_by": null, "origin": null,
               "source_identity": null, "launched_by": null})
    );
    assert_eq!(
        first["tags"],
        json!({"CreatedBy": sso, "CreatedDate": "2026-01-15T10:30:00Z", "ManagedBy": "tagwarden"})
    );
}

#[test]
fn tags_the_creator_set_are_never_planned_unless_the_policy_overwrites() {
    let dir = temp_dir("preset");
    let log = write(
        &dir,
        "log.json",
        &json!([fixture_record("ec2.RunInstances.json")]),
    );
    let keep = dir.join("keep.yaml");
    std::fs::write(
        &keep,
        "attribution:\n  tags:\n    team: platform\n    CreatedBy: \"{creator.arn}\"\n    Session: \"{creator.session}\"\n    InvokedBy: \"{creator.invoked_by}\"\n",
    )
    .unwrap();
    let run = tagwarden(&[
        "plan",
        &log,
        "--format",
        "json",
        "--policy",
        keep.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tags = &run.json()[0]["tags"];
    // `team` was set by the creator; InvokedBy has no value in this event.
    assert_eq!(keys(tags), ["CreatedBy", "Session"].into());
    assert_eq!(tags["Session"], "alice@example.com");

    let overwrite = dir.join("overwrite.yaml");
    std::fs::write(
        &overwrite,
        "attribution:\n  overwrite: true\n  tags:\n    team: platform\n",
    )
    .unwrap();
    let run = tagwarden(&[
        "plan",
        &log,
        "--format",
        "json",
        "--policy",
        overwrite.to_str().unwrap(),
    ]);
    assert_eq!(run.json()[0]["tags"], json!({"team": "platform"}));
}

#[test]
fn the_same_event_twice_plans_once() {
    let dir = temp_dir("dedupe");
    let rec = fixture_record("ec2.RunInstances.json");
    let a = write(&dir, "a.json", &json!([rec.clone()]));
    let b = write(&dir, "b.json", &json!({"Records": [rec]}));
    let run = tagwarden(&["plan", &a, &b, "--format", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json().as_array().unwrap().len(), 2);
    assert!(run.stderr.contains("duplicate 1"), "{}", run.stderr);
}

#[test]
fn reads_stdin_gzip_and_eventbridge_events() {
    let rec = fixture_record("ec2.RunInstances.json");
    let mut detail = rec.clone();
    detail.as_object_mut().unwrap().remove("awsRegion");
    let event = json!({"version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "111122223333", "time": "2026-01-15T10:30:00Z",
        "region": "ap-southeast-2", "resources": [], "detail": detail});
    let run = tagwarden_stdin(
        &["plan", "-", "--format", "json"],
        Some(&serde_json::to_vec(&event).unwrap()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()[0]["region"], "ap-southeast-2");

    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&json!({"Records": [rec]})).unwrap())
        .unwrap();
    // Named .json on purpose: gzip is detected by its magic bytes.
    let dir = temp_dir("gzip");
    let p = dir.join("log.json");
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let run = tagwarden(&["plan", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json().as_array().unwrap().len(), 2);
}

#[test]
fn since_and_until_bound_the_event_time() {
    let dir = temp_dir("window");
    let log = write(
        &dir,
        "log.json",
        &json!([fixture_record("ec2.RunInstances.json")]),
    );
    let inside = tagwarden(&[
        "plan",
        &log,
        "--format",
        "json",
        "--since",
        "2026-01-15",
        "--until",
        "2026-01-15",
    ]);
    assert_eq!(inside.json().as_array().unwrap().len(), 2);
    let after = tagwarden(&[
        "plan",
        &log,
        "--format",
        "json",
        "--since",
        "2026-01-15T10:30:01Z",
    ]);
    assert_eq!(after.json(), json!([]));
    assert!(
        after.stderr.contains("outside-window 1"),
        "{}",
        after.stderr
    );
}

#[test]
fn the_table_fits_80_columns() {
    let dir = temp_dir("table");
    let log = write(
        &dir,
        "log.json",
        &json!([fixture_record("ec2.RunInstances.json")]),
    );
    let run = tagwarden(&["plan", &log]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("i-0a1b2c3d4e5f60718"), "{}", run.stdout);
    for line in run.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    assert_eq!(tagwarden(&["plan"]).code, 2);
    assert_eq!(tagwarden(&["plan", "/no/such/file.json"]).code, 2);
    let dir = temp_dir("badpolicy");
    let p = dir.join("p.yaml");
    std::fs::write(
        &p,
        "attribution:\n  tags:\n    CreatedBy: \"{creator.nope}\"\n",
    )
    .unwrap();
    let log = write(&dir, "log.json", &json!([]));
    let run = tagwarden(&["plan", &log, "--policy", p.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("attribution.tags.CreatedBy"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_readme_quick_start_plans_the_bundled_samples() {
    let run = tagwarden(&["plan", "examples/cloudtrail", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = run.json();
    let items = items.as_array().unwrap();
    assert!(items.len() >= 50, "only {} resources", items.len());
    let accounts: BTreeSet<_> = items
        .iter()
        .map(|i| i["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["111122223333", "444455556666"].into());
    // Digest files sit in CloudTrail-Digest folders and are never read.
    assert!(run.stderr.contains("read: 8 documents"), "{}", run.stderr);
    for item in items {
        assert_eq!(item["tags"]["ManagedBy"], "tagwarden");
        assert_eq!(item["tags"]["CreatedDate"], item["event"]["time"]);
    }
}

#[test]
fn verbose_prints_a_line_per_source() {
    let run = tagwarden(&["plan", "-v", "crates/cli/tests/bad-input/invalid-json.json"]);
    assert!(
        run.stderr
            .contains("read crates/cli/tests/bad-input/invalid-json.json: 2052 bytes, 2 records, 2 creations, 1 errors"),
        "{}",
        run.stderr
    );
    let quiet = tagwarden(&["plan", "-q", "crates/cli/tests/bad-input/invalid-json.json"]);
    assert_eq!(quiet.errors().len(), 1, "errors still show with -q");
    assert!(!quiet.stderr.contains("plan:"), "{}", quiet.stderr);
}

/// `--accounts` takes records of those accounts only; another's is refused
/// as bad input, naming file, record and field, and the rest is planned.
#[test]
fn accounts_bound_whose_records_are_taken() {
    let dir = temp_dir("accounts");
    let own = fixture_record("ec2.RunInstances.json");
    let account = own["recipientAccountId"].as_str().unwrap().to_string();
    let mut other = own.clone();
    other["recipientAccountId"] = json!("999988887777");
    other["eventID"] = json!("another-accounts-event");
    let log = write(&dir, "log.json", &json!({"Records": [own, other]}));
    let all = tagwarden(&["plan", &log, "--format", "json"]);
    let scoped = tagwarden(&["plan", &log, "--format", "json", "--accounts", &account]);
    assert_eq!(all.json().as_array().unwrap().len(), 4, "{}", all.stderr);
    let planned = scoped.json();
    assert_eq!(planned.as_array().unwrap().len(), 2, "{}", scoped.stderr);
    assert!(planned
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["account"] == account.as_str()));
    assert_eq!(
        scoped.errors(),
        [format!(
            "error: {log}: Records[1].recipientAccountId: account `999988887777` is outside the accounts in scope: refused"
        )]
    );
    let bad = tagwarden(&["plan", &log, "--accounts", "12345"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not a 12-digit account id"),
        "{}",
        bad.stderr
    );
}

/// A symlink loop in a source directory is that entry's error: the rest is
/// planned, and the run exits 2 for the bad input.
#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_and_the_rest_planned() {
    let dir = temp_dir("loop");
    write(
        &dir,
        "log.json",
        &json!([fixture_record("ec2.RunInstances.json")]),
    );
    std::os::unix::fs::symlink(&dir, dir.join("again")).unwrap();
    let run = tagwarden(&["plan", &dir.display().to_string(), "--format", "json"]);
    assert_eq!(run.json().as_array().unwrap().len(), 2, "{}", run.stderr);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.errors()
            .iter()
            .any(|e| e.contains("again") && e.contains("File system loop found")),
        "{}",
        run.stderr
    );
}

/// A creator who presets `CreatedBy` to someone else: an
/// `attribution-mismatch` warning naming the resource and the real creator,
/// the value kept; under `enforce: true`, corrected in the plan; recorded
/// as an `attribution-mismatch` history row by `apply`.
#[test]
fn a_preset_created_by_naming_someone_else_is_a_mismatch() {
    let dir = temp_dir("mismatch");
    let mut record = fixture_record("ec2.RunInstances.json");
    let creator = record["userIdentity"]["arn"].as_str().unwrap().to_string();
    let scapegoat = "arn:aws:iam::111122223333:user/scapegoat";
    record["requestParameters"]["tagSpecificationSet"]["items"][0]["tags"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "CreatedBy", "value": scapegoat}));
    let log = write(&dir, "log.json", &json!([record]));
    let kept = tagwarden(&["plan", &log, "--format", "json"]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    let warnings: Vec<&str> = kept
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: attribution-mismatch: "))
        .collect();
    assert_eq!(warnings.len(), 2, "both instances: {}", kept.stderr);
    assert!(
        warnings[0].contains(&format!(
            "CreatedBy preset to `{scapegoat}`; created by {creator}"
        )),
        "{}",
        warnings[0]
    );
    assert_eq!(kept.json()[0]["tags"].get("CreatedBy"), None);

    let enforce = dir.join("enforce.yaml");
    std::fs::write(
        &enforce,
        "attribution:\n  enforce: true\n  tags:\n    CreatedBy: \"{creator.arn}\"\n    CreatedDate: \"{event.time}\"\n",
    )
    .unwrap();
    let policy = enforce.to_str().unwrap();
    let fixed = tagwarden(&["plan", &log, "--format", "json", "--policy", policy]);
    assert_eq!(fixed.json()[0]["tags"]["CreatedBy"], creator.as_str());
    assert!(fixed.stderr.contains("corrected"), "{}", fixed.stderr);

    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let run = tagwarden(&["--store", &store, "apply", &log, "--offline", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = tagwarden(&["--store", &store, "export", "--format", "json"]).json();
    let found: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "attribution-mismatch")
        .collect();
    assert_eq!(found.len(), 2, "{rows}");
    assert_eq!(found[0]["actor"], creator.as_str());
    assert_eq!(found[0]["changed"]["CreatedBy"]["before"], scapegoat);
    assert_eq!(found[0]["changed"]["CreatedBy"]["after"], creator.as_str());
}

/// The role session that creates is traced back to the user who assumed
/// the role, from the AssumeRole record of another file, read after it
/// (stratus-red-team's sample, as published).
#[test]
fn a_role_sessions_creation_names_the_user_behind_it_from_another_file() {
    let dir = temp_dir("origin");
    let session = "arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000";
    let record = json!({
        "eventVersion": "1.09", "eventTime": "2024-08-01T11:30:30Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": "us-east-1",
        "eventID": "origin-run-1", "readOnly": false, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "900138736586",
        "userIdentity": {"type": "AssumedRole", "arn": session, "accountId": "900138736586",
            "accessKeyId": "ASIA9F6MXE9HSYOXYQOS"},
        "requestParameters": {},
        "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0origin"}]}},
    });
    let log = dir.join("a-creation.json");
    std::fs::write(&log, json!({"Records": [record]}).to_string()).unwrap();
    let sample = shared_fixtures()
        .join("cloudtrail/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json");
    let run = tagwarden(&[
        "plan",
        log.to_str().unwrap(),
        sample.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = run.json();
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["arn"].as_str().unwrap().ends_with("instance/i-0origin"))
        .unwrap_or_else(|| panic!("{items}"));
    assert_eq!(item["creator"]["arn"], session);
    assert_eq!(
        item["creator"]["origin"],
        json!({"arn": "arn:aws:iam::900138736586:user/christophe", "type": "IAMUser",
               "name": "christophe", "provider": null, "via": [session]})
    );
}

fn record(id: &str, time: &str, who: Value, source: &str, name: &str, rest: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "eventID": id, "readOnly": false, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "111122223333", "userIdentity": who,
    });
    for (k, v) in rest.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// design.md, "The person behind the role": a CI job's session, assumed
/// from a deploy session that a SAML user began, in three files given
/// creation first. The plan names the SAML user and its provider, each hop,
/// and the source identity the session carried.
#[test]
fn a_two_hop_chain_from_a_saml_user_is_planned_whatever_the_file_order() {
    let dir = temp_dir("two-hops");
    let ci = "arn:aws:sts::111122223333:assumed-role/ci/ci-run-42";
    let deploy = "arn:aws:sts::111122223333:assumed-role/deploy/alice@example.com";
    let okta = "arn:aws:iam::111122223333:saml-provider/Okta";
    let creation = record(
        "hop-run",
        "2026-01-15T10:30:00Z",
        json!({"type": "AssumedRole", "arn": ci, "accountId": "111122223333",
               "accessKeyId": "ASIACI0000000000", "sessionContext": {"sourceIdentity": "alice"}}),
        "ec2.amazonaws.com",
        "RunInstances",
        json!({"requestParameters": {},
               "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0hops"}]}}}),
    );
    let hop = record(
        "hop-ci",
        "2026-01-15T10:29:00Z",
        json!({"type": "AssumedRole", "arn": deploy, "accountId": "111122223333",
               "accessKeyId": "ASIADEPLOY000000", "sessionContext": {"sourceIdentity": "alice"}}),
        "sts.amazonaws.com",
        "AssumeRole",
        json!({"readOnly": true,
               "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/ci", "roleSessionName": "ci-run-42"},
               "responseElements": {"credentials": {"accessKeyId": "ASIACI0000000000", "expiration": "Jan 15, 2026, 11:29:00 AM"},
                                    "assumedRoleUser": {"arn": ci}}}),
    );
    let saml = record(
        "hop-saml",
        "2026-01-15T10:28:00Z",
        json!({"type": "SAMLUser", "principalId": "x:alice@example.com", "userName": "alice@example.com",
               "identityProvider": "x"}),
        "sts.amazonaws.com",
        "AssumeRoleWithSAML",
        json!({"readOnly": true,
               "requestParameters": {"principalArn": okta, "roleArn": "arn:aws:iam::111122223333:role/deploy",
                                     "sourceIdentity": "alice"},
               "responseElements": {"subject": "alice@example.com", "issuer": "http://www.okta.com/x",
                                    "sourceIdentity": "alice",
                                    "credentials": {"accessKeyId": "ASIADEPLOY000000", "expiration": "Jan 15, 2026, 11:28:00 AM"},
                                    "assumedRoleUser": {"arn": deploy}}}),
    );
    let files: Vec<String> = [("1-run", creation), ("2-ci", hop), ("3-saml", saml)]
        .iter()
        .map(|(n, r)| write(&dir, &format!("{n}.json"), &json!({"Records": [r]})))
        .collect();
    let mut args = vec!["plan", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = tagwarden(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = run.json();
    let item = &items[0];
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(item["creator"]["arn"], ci);
    assert_eq!(
        item["creator"]["origin"],
        json!({"arn": null, "type": "SAMLUser", "name": "alice@example.com",
               "provider": okta, "via": [deploy, ci]})
    );
    assert_eq!(item["creator"]["source_identity"], "alice");
    assert_eq!(item["creator"]["launched_by"], Value::Null);
    assert_eq!(item["tags"]["CreatedBy"], ci);
    assert_eq!(
        item["tags"]["CreatedByOrigin"],
        format!("alice@example.com@{okta}")
    );
}

/// An identity-enhanced session names the Identity Center user it was
/// made for by an id; with `--identity-store-region`, the identity store
/// (moto's) names the user, and without it the id stands.
#[test]
fn an_identity_center_user_is_named_through_the_identity_store() {
    let dir = temp_dir("identity-center");
    let store = "d-9067c4e1a2";
    let user = crate::moto::world_py(&["ic-user", "us-east-1", store, "jane@example.com"]);
    let user: String = serde_json::from_str(&user).unwrap();
    let store_arn = format!("arn:aws:identitystore::111122223333:identitystore/{store}");
    let app = "arn:aws:sts::111122223333:assumed-role/QBusinessApp/session-1";
    let creation = record(
        "ic-run",
        "2026-01-15T10:30:00Z",
        json!({"type": "AssumedRole", "arn": app, "accountId": "111122223333",
               "accessKeyId": "ASIAAPP000000000",
               "onBehalfOf": {"userId": user, "identityStoreArn": store_arn}}),
        "ec2.amazonaws.com",
        "RunInstances",
        json!({"requestParameters": {},
               "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0center"}]}}}),
    );
    let file = write(&dir, "ic.json", &json!({"Records": [creation]}));
    let origin = |extra: &[&str]| {
        let mut args = vec!["plan", "--format", "json", &file];
        args.extend(extra);
        let run = tagwarden(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let items = run.json();
        (
            items[0]["creator"]["origin"].clone(),
            items[0]["tags"]["CreatedByOrigin"].clone(),
        )
    };
    let (o, tag) = origin(&["--identity-store-region", "us-east-1"]);
    assert_eq!(
        o,
        json!({"arn": null, "type": "IdentityCenterUser", "name": "jane@example.com",
               "provider": store_arn, "via": [app]})
    );
    assert_eq!(tag, format!("jane@example.com@{store_arn}"));
    let (o, _) = origin(&[]);
    assert_eq!(o["name"], user.as_str(), "named by id without the store");
}

/// An Auto Scaling group's instance and a topic a stack made through its
/// service role are credited to whoever created the group's stack, read
/// from other files; `creator.arn` stays the service's identity.
#[test]
fn service_launches_are_credited_to_the_creator_of_their_group_or_stack() {
    let dir = temp_dir("launches");
    let alice = "arn:aws:sts::111122223333:assumed-role/deploy/alice";
    let cfn = "arn:aws:sts::111122223333:assumed-role/cfn-exec/AWSCloudFormation";
    let asg = "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling";
    let stack = "arn:aws:cloudformation:us-east-1:111122223333:stack/web/5b6d1a40";
    let group = "arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/web-asg";
    let stack_tag = json!({"key": "aws:cloudformation:stack-id", "value": stack});
    let launch = record(
        "asg-run",
        "2026-01-15T10:32:00Z",
        json!({"type": "AssumedRole", "arn": asg, "accountId": "111122223333",
               "invokedBy": "autoscaling.amazonaws.com"}),
        "ec2.amazonaws.com",
        "RunInstances",
        json!({"requestParameters": {"tagSpecificationSet": {"items": [{"resourceType": "instance",
                  "tags": [{"key": "aws:autoscaling:groupName", "value": "web-asg"}, stack_tag]}]}},
               "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0asg"}]}}}),
    );
    let topic = record(
        "cfn-topic",
        "2026-01-15T10:31:00Z",
        json!({"type": "AssumedRole", "arn": cfn, "accountId": "111122223333",
               "invokedBy": "cloudformation.amazonaws.com"}),
        "sns.amazonaws.com",
        "CreateTopic",
        json!({"requestParameters": {"name": "web-events", "tags": [stack_tag]},
               "responseElements": {"topicArn": "arn:aws:sns:us-east-1:111122223333:web-events"}}),
    );
    let group_created = record(
        "cfn-asg",
        "2026-01-15T10:31:30Z",
        json!({"type": "AssumedRole", "arn": cfn, "accountId": "111122223333",
               "invokedBy": "cloudformation.amazonaws.com"}),
        "autoscaling.amazonaws.com",
        "CreateAutoScalingGroup",
        json!({"requestParameters": {"autoScalingGroupName": "web-asg", "tags": [stack_tag]},
               "responseElements": null}),
    );
    let stack_created = record(
        "cfn-stack",
        "2026-01-15T10:30:00Z",
        json!({"type": "AssumedRole", "arn": alice, "accountId": "111122223333"}),
        "cloudformation.amazonaws.com",
        "CreateStack",
        json!({"requestParameters": {"stackName": "web", "roleARN": "arn:aws:iam::111122223333:role/cfn-exec"},
               "responseElements": {"stackId": stack}}),
    );
    let a = write(&dir, "a.json", &json!({"Records": [launch, topic]}));
    let b = write(
        &dir,
        "b.json",
        &json!({"Records": [group_created, stack_created]}),
    );
    let run = tagwarden(&["plan", "--format", "json", &a, &b]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = run.json();
    let by_arn = |suffix: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["arn"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} not in {items}"))
            .clone()
    };
    let instance = by_arn("instance/i-0asg");
    assert_eq!(instance["creator"]["arn"], asg);
    assert_eq!(
        instance["creator"]["launched_by"],
        json!({"arn": group, "creator": alice,
               "launched_by": {"arn": stack, "creator": alice, "launched_by": null}})
    );
    assert_eq!(instance["tags"]["CreatedBy"], alice);
    let events = by_arn(":web-events");
    assert_eq!(events["creator"]["arn"], cfn);
    assert_eq!(events["creator"]["launched_by"]["arn"], stack);
    assert_eq!(events["tags"]["CreatedBy"], alice);
    // The group is the stack's too; the stack itself is never tagged.
    assert_eq!(
        by_arn("autoScalingGroupName/web-asg")["tags"]["CreatedBy"],
        alice
    );
    assert!(items.as_array().unwrap().iter().all(|i| i["arn"] != stack));

    // A later run that reads only the launches finds the parents' creators
    // in the store an earlier run recorded.
    let store = format!("sqlite:{}", dir.join("audit.db").display());
    let earlier = tagwarden(&["--store", &store, "apply", &b, "--offline", "-q"]);
    assert_eq!(earlier.code, 0, "{}", earlier.stderr);
    let later = tagwarden(&["--store", &store, "plan", "--format", "json", &a]);
    assert_eq!(later.code, 0, "{}", later.stderr);
    let items = later.json();
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    for item in items.as_array().unwrap() {
        assert_eq!(item["tags"]["CreatedBy"], alice, "{item}");
    }
    let instance = &items[0];
    assert_eq!(
        instance["creator"]["launched_by"]["launched_by"]["arn"], stack,
        "the group's own parent comes from the store too: {instance}"
    );
    // Without the store, the parent is named but its creator is unknown:
    // no one is named, least of all the service's role.
    let alone = tagwarden(&[
        "--store",
        "sqlite:/nonexistent/x.db",
        "plan",
        "--format",
        "json",
        &a,
    ]);
    let items = alone.json();
    let instance = &items[0];
    assert_eq!(
        instance["creator"]["launched_by"],
        json!({"arn": group, "creator": null, "launched_by": null})
    );
    assert_eq!(instance["creator"]["arn"], asg);
    assert_eq!(instance["tags"].get("CreatedBy"), None, "{instance}");
}
