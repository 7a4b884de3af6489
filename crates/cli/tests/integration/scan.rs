//! `tagwarden scan` against moto: a seeded mix of compliant, untagged,
//! wrongly valued and wrongly cased resources, found exactly.

use crate::moto::world_py;
use crate::support::tagwarden;
use serde_json::Value;
use std::collections::BTreeMap;

/// A region no other test uses: the scan sees only this test's resources
/// (and moto's default VPC, subnets and security group).
const REGION: &str = "ap-southeast-2";

#[test]
fn scan_finds_exactly_the_seeded_violations_untagged_resources_included() {
    let want: BTreeMap<String, Value> =
        serde_json::from_str(&world_py(&["compliance", REGION, "tws-scan"])).unwrap();
    let run = tagwarden(&["scan", "--regions", REGION, "--format", "json"]);
    assert_eq!(run.code, 1, "violations exit 1: {}", run.stderr);
    let findings = run.json();
    let findings: BTreeMap<String, &Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["arn"].as_str().unwrap().to_string(), f))
        .collect();
    for (arn, verdict) in &want {
        let f = findings
            .get(arn)
            .unwrap_or_else(|| panic!("{arn} not scanned: {:?}", findings.keys()));
        assert_eq!(f["region"], REGION, "{arn}");
        assert_eq!(f["account"], "123456789012", "{arn}");
        let compliant = verdict.as_object().unwrap().is_empty();
        assert_eq!(f["compliant"], compliant, "{arn}: {f}");
        let field = |k: &str, empty: Value| verdict.get(k).cloned().unwrap_or(empty);
        assert_eq!(
            f["missing"],
            field("missing", Value::Array(vec![])),
            "{arn}"
        );
        assert_eq!(
            f["invalid"],
            field("invalid", Value::Object(Default::default())),
            "{arn}"
        );
        assert_eq!(
            f["wrong_case"],
            field("wrong_case", Value::Object(Default::default())),
            "{arn}"
        );
    }
    // Resources nobody ever tagged are listed too (moto's default VPC).
    let default_vpc = findings
        .values()
        .find(|f| f["resource_type"] == "ec2:vpc")
        .expect("the default VPC is scanned");
    assert_eq!(default_vpc["compliant"], false);
    // Every finding is in the asked region; no bucket of another region.
    assert!(findings.values().all(|f| f["region"] == REGION));

    // A narrower scan: only what --types names.
    let run = tagwarden(&[
        "scan",
        "--regions",
        REGION,
        "--types",
        "s3:bucket",
        "--format",
        "json",
    ]);
    let types: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource_type"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !types.is_empty() && types.iter().all(|t| t == "s3:bucket"),
        "{types:?}"
    );
    // The table names the violation in words.
    let table = tagwarden(&["scan", "--regions", REGION, "--types", "ec2:security-group"]);
    assert!(
        table.stdout.contains("environment should be Environment"),
        "{}",
        table.stdout
    );
    // CSV: one row per resource, the same verdicts.
    let csv = tagwarden(&["scan", "--regions", REGION, "--format", "csv"]);
    assert_eq!(csv.code, 1, "{}", csv.stderr);
    let mut rows = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        &header[..5],
        ["arn", "resource_type", "account", "region", "compliant"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    for r in &rows {
        assert_eq!(
            r[4] == *"true",
            findings[&r[0]]["compliant"] == true,
            "{:?}",
            r
        );
        // The violation cells (missing … prohibited) are empty exactly when
        // the resource complies, as in `export`'s CSV.
        assert_eq!(
            r[4] == *"true",
            r.iter().skip(5).take(4).all(str::is_empty),
            "{r:?}"
        );
    }
    // SARIF: one result per violation, located by ARN.
    let sarif = tagwarden(&["scan", "--regions", REGION, "--format", "sarif"]).json();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let violations: usize = findings
        .values()
        .map(|f| {
            f["missing"].as_array().unwrap().len()
                + f["invalid"].as_object().unwrap().len()
                + f["wrong_case"].as_object().unwrap().len()
                + f["prohibited"].as_array().unwrap().len()
        })
        .sum();
    assert_eq!(results.len(), violations);
    let sg = want
        .iter()
        .find(|(_, v)| v.get("wrong_case").is_some())
        .map(|(arn, _)| arn.as_str())
        .unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "wrong-key-case"
        && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == sg));

    let bad = tagwarden(&["scan", "--regions", REGION, "--types", "ec2:nope"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    // Wildcard values, as Organizations tag policies write them: `billing-*`
    // takes the seeded `billing-api`, `pro*` takes `prod` but not `Prod`.
    let dir = crate::support::temp_dir("scan-wildcard");
    let policy = dir.join("wildcard.yaml");
    std::fs::write(
        &policy,
        "compliance:\n  resource_types: [\"rds:cluster\", \"lambda:function\"]\n  required:\n    \
         Application: {allowed: [\"billing-*\"]}\n    Environment: {allowed: [\"pro*\"]}\n",
    )
    .unwrap();
    let run = tagwarden(&[
        "scan",
        "--regions",
        REGION,
        "--policy",
        &policy.display().to_string(),
        "--format",
        "json",
    ]);
    let verdicts: BTreeMap<String, Value> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["arn"].as_str().unwrap().to_string(), f.clone()))
        .collect();
    let named = |part: &str| {
        verdicts
            .iter()
            .find(|(arn, _)| arn.ends_with(part))
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{part}: {verdicts:?}"))
    };
    assert_eq!(named(":function:tws-scan-good-fn")["compliant"], true);
    assert_eq!(named(":function:tws-scan-bare-fn")["compliant"], false);
    let cluster = named(":cluster:tws-scan-cluster");
    assert_eq!(cluster["invalid"]["Environment"], "Prod", "{cluster}");
    assert!(verdicts
        .values()
        .all(|f| f["resource_type"] == "rds:cluster" || f["resource_type"] == "lambda:function"));
}

/// The sinks: EMF lines with the seed's metrics, one scan-log object per
/// run in a day partition, and one SNS alert per run (read through an SQS
/// subscription), never one per resource.
#[test]
fn scan_sinks_write_metrics_one_scan_log_and_one_alert() {
    const REGION: &str = "ca-central-1";
    world_py(&["compliance", REGION, "tws-sink"]);
    let sink: Value = serde_json::from_str(&world_py(&["sink-setup", REGION, "tws-sink"])).unwrap();
    let dir = crate::support::temp_dir("scan-sinks");
    let emf = dir.join("emf.jsonl");
    let log = format!("s3://{}/audit", sink["bucket"].as_str().unwrap());
    let run = tagwarden(&[
        "scan",
        "--regions",
        REGION,
        "--format",
        "json",
        "--emf",
        &emf.display().to_string(),
        "--scan-log",
        &log,
        "--alert-topic",
        sink["topic"].as_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.json();
    let findings = findings.as_array().unwrap();
    let bad = findings.iter().filter(|f| f["compliant"] == false).count();

    let lines: Vec<Value> = std::fs::read_to_string(&emf)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["NonCompliantResources"], bad as u64);
    assert_eq!(
        lines[0]["NonCompliantInstances"], 1,
        "the untagged instance"
    );
    assert_eq!(lines[0]["CompliantInstances"], 1);
    assert_eq!(
        lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "TagCompliance"
    );
    assert!(lines[1..].iter().all(|l| l["ResourceType"].is_string()));

    let got: Value = serde_json::from_str(&world_py(&[
        "sink-read",
        REGION,
        sink["bucket"].as_str().unwrap(),
        sink["queue"].as_str().unwrap(),
    ]))
    .unwrap();
    let objects = got["objects"].as_object().unwrap();
    assert_eq!(objects.len(), 1, "one object per run: {objects:?}");
    let (key, body) = objects.iter().next().unwrap();
    assert!(key.starts_with("audit/scans/dt=20"), "{key}");
    assert!(key.ends_with(".jsonl"), "{key}");
    assert_eq!(body.as_str().unwrap().lines().count(), findings.len());
    let messages = got["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "one alert per run");
    let text = messages[0].as_str().unwrap();
    assert!(
        text.starts_with(&format!("{bad} of {} resources scanned", findings.len())),
        "{text}"
    );
    assert!(
        text.contains("Wrong key case: environment (should be Environment)"),
        "{text}"
    );
}

/// `--remediate`: the plan first, a dry run that writes nothing, then only
/// the missing keys a template can fill; compliant and unfixable resources
/// are left as they are, and the run is recorded under the caller. Also a
/// member account listed through the assumed role.
#[test]
fn scan_remediate_adds_only_missing_keys_and_records_the_run() {
    const REGION: &str = "eu-north-1";
    let before: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(&world_py(&["remediation", REGION, "tws-fix"])).unwrap();
    let arns: Vec<&str> = before.keys().map(String::as_str).collect();
    let own: Vec<&str> = arns
        .iter()
        .copied()
        .filter(|a| a.contains(":123456789012:"))
        .collect();
    let tags_now = || -> BTreeMap<String, BTreeMap<String, String>> {
        let mut args = vec!["tags-now", REGION];
        args.extend(&own);
        serde_json::from_str(&world_py(&args)).unwrap()
    };
    let dir = crate::support::temp_dir("scan-remediate");
    let store = format!("sqlite:{}", dir.join("audit.db").display());
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "--store",
            &store,
            "scan",
            "--regions",
            REGION,
            "--types",
            "ec2:instance,rds:db",
            "--format",
            "json",
        ];
        args.extend(extra);
        tagwarden(&args)
    };
    let fixable: Vec<&str> = own
        .iter()
        .copied()
        .filter(|a| before[*a].contains_key("CreatedBy") && !before[*a].contains_key("Owner"))
        .collect();
    assert_eq!(fixable.len(), 2, "an instance and a database: {before:?}");

    let dry = scan(&["--remediate", "--dry-run"]);
    assert_eq!(dry.code, 1, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("Remediation plan: 2 resources"),
        "{}",
        dry.stderr
    );
    for (arn, who) in fixable.iter().zip(["alice", "carol"]) {
        let id = arn.rsplit(['/', ':']).next().unwrap();
        assert!(dry.stderr.contains(id), "{id} in the plan: {}", dry.stderr);
        assert!(dry.stderr.contains(&format!("r/{who}")), "{}", dry.stderr);
    }
    let untouched = tags_now();
    for arn in &own {
        assert_eq!(untouched[*arn], before[*arn], "dry run wrote to {arn}");
    }

    let real = scan(&["--remediate", "--yes"]);
    // The untagged instance stays non-compliant: no template can say who owns it.
    assert_eq!(real.code, 1, "{}", real.stderr);
    let after = tags_now();
    for arn in &own {
        let mut want = before[*arn].clone();
        if fixable.contains(arn) {
            want.insert("Owner".into(), want["CreatedBy"].clone());
        }
        assert_eq!(after[*arn], want, "{arn}");
    }
    let history = tagwarden(&["--store", &store, "history", fixable[0], "--format", "json"]).json();
    let entries = history["history"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["change"] == "tagged"
            && e["event"]["name"] == "RemediateTags"
            && e["added"]["Owner"].is_string()),
        "{history}"
    );

    // Run again: nothing is left that remediation can fix.
    let again = scan(&["--remediate", "--yes"]);
    assert_eq!(again.code, 1, "the bare instance: {}", again.stderr);
    assert!(
        again.stderr.contains("Remediation: nothing to add."),
        "{}",
        again.stderr
    );
    assert_eq!(tags_now(), after);

    // The member account, through the role.
    let both = tagwarden(&[
        "--assume-role",
        "TagwardenRole",
        "scan",
        "--regions",
        REGION,
        "--accounts",
        "123456789012,222222222222",
        "--types",
        "ec2:instance",
        "--format",
        "json",
    ]);
    assert_eq!(both.code, 1, "{}", both.stderr);
    let member: Vec<String> = both
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == "222222222222")
        .map(|f| f["arn"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = arns
        .iter()
        .filter(|a| a.contains(":222222222222:"))
        .map(|a| a.to_string())
        .collect();
    assert_eq!(member, want);
    let own_in_both = both
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == "123456789012")
        .count();
    assert_eq!(own_in_both, 3, "each account listed once");
    // Without a role, another account cannot be reached: never the
    // caller's own resources under its name.
    let no_role = tagwarden(&[
        "scan",
        "--regions",
        REGION,
        "--accounts",
        "222222222222",
        "--types",
        "ec2:instance",
        "--format",
        "json",
    ]);
    assert_eq!(no_role.code, 2, "{}", no_role.stderr);
    assert!(
        no_role.stderr.contains("--assume-role"),
        "{}",
        no_role.stderr
    );
    let typo = tagwarden(&["scan", "--accounts", "2222", "--types", "ec2:instance"]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
}

/// `scan --event`: the event-driven check reads just the resources an
/// event names, never lists.
#[test]
fn scan_event_checks_just_the_resource_an_event_names() {
    const REGION: &str = "ap-south-1";
    let want: BTreeMap<String, Value> =
        serde_json::from_str(&world_py(&["compliance", REGION, "tws-event"])).unwrap();
    let instance = |compliant: bool| {
        want.iter()
            .find(|(arn, v)| {
                arn.contains(":instance/") && v.as_object().unwrap().is_empty() == compliant
            })
            .map(|(arn, _)| arn.clone())
            .unwrap()
    };
    let dir = crate::support::temp_dir("scan-event");
    let event = |name: &str, source: &str, detail: Value| {
        let path = dir.join(name);
        let doc = serde_json::json!({
            "version": "0", "id": "ev-1", "detail-type": "EC2 Instance State-change Notification",
            "source": source, "account": "123456789012", "time": "2026-11-24T10:00:00Z",
            "region": REGION, "resources": [], "detail": detail,
        });
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let check = |file: &str| tagwarden(&["scan", "--event", file, "--format", "json"]);
    let arns = |run: &crate::support::Run| -> Vec<(String, bool)> {
        run.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["arn"].as_str().unwrap().to_string(),
                    f["compliant"].as_bool().unwrap(),
                )
            })
            .collect()
    };

    let bare = instance(false);
    let id = bare.rsplit('/').next().unwrap();
    let run = check(&event(
        "bare.json",
        "aws.ec2",
        serde_json::json!({"instance-id": id, "state": "running"}),
    ));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(arns(&run), [(bare.clone(), false)]);

    let good = instance(true);
    let id = good.rsplit('/').next().unwrap();
    let run = check(&event(
        "good.json",
        "aws.ec2",
        serde_json::json!({"instance-id": id, "state": "running"}),
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(arns(&run), [(good.clone(), true)]);

    let run = check(&event(
        "gone.json",
        "aws.ec2",
        serde_json::json!({"instance-id": id, "state": "terminated"}),
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(arns(&run).is_empty());
    assert!(run.stderr.contains("nothing to check"), "{}", run.stderr);

    // No instance id: the region's instances.
    let run = check(&event(
        "region.json",
        "aws.ec2",
        serde_json::json!({"state": "running"}),
    ));
    let mut both = vec![(bare.clone(), false), (good.clone(), true)];
    both.sort();
    assert_eq!(arns(&run), both);

    // Only EC2 sends state changes.
    let run = check(&event(
        "forged.json",
        "my.app",
        serde_json::json!({"instance-id": "i-1"}),
    ));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("forged.json: source"), "{}", run.stderr);

    // A creation record: what it created.
    let record = serde_json::json!({
        "eventVersion": "1.08", "eventTime": "2026-11-24T10:00:00Z",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"},
        "eventSource": "s3.amazonaws.com", "eventName": "CreateBucket", "awsRegion": REGION,
        "requestParameters": {"bucketName": "tws-event-bare"}, "responseElements": null,
        "eventID": "ev-2", "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": "123456789012",
    });
    let path = dir.join("create.json");
    std::fs::write(&path, record.to_string()).unwrap();
    let run = check(&path.display().to_string());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        arns(&run),
        [("arn:aws:s3:::tws-event-bare".to_string(), false)]
    );

    // A type `scan` does not list is still checked when an event names it.
    let mut logs = record.clone();
    logs["eventSource"] = "logs.amazonaws.com".into();
    logs["eventName"] = "CreateLogGroup".into();
    logs["eventID"] = "ev-3".into();
    logs["requestParameters"] = serde_json::json!({"logGroupName": "tws-event-logs"});
    let path = dir.join("logs.json");
    std::fs::write(&path, logs.to_string()).unwrap();
    let run = check(&path.display().to_string());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        arns(&run),
        [(
            format!("arn:aws:logs:{REGION}:123456789012:log-group:tws-event-logs"),
            false
        )]
    );

    // An instance a creation event names but that is gone is not judged
    // (its tags alone would say "untagged").
    let mut run_instances = record.clone();
    run_instances["eventSource"] = "ec2.amazonaws.com".into();
    run_instances["eventName"] = "RunInstances".into();
    run_instances["eventID"] = "ev-4".into();
    run_instances["requestParameters"] = serde_json::json!({});
    run_instances["responseElements"] =
        serde_json::json!({"instancesSet": {"items": [{"instanceId": "i-0000000000deadbee"}]}});
    let path = dir.join("gone.json");
    std::fs::write(&path, run_instances.to_string()).unwrap();
    let run = check(&path.display().to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(arns(&run).is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("i-0000000000deadbee: not found or terminated"),
        "{}",
        run.stderr
    );

    // A document that names nothing to check is bad input, said as such.
    let path = dir.join("nothing.json");
    std::fs::write(&path, r#"{"hello": "world"}"#).unwrap();
    let run = check(&path.display().to_string());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("nothing.json"), "{}", run.stderr);
}
