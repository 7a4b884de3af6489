//! The audit store: the shared behaviour suite on DynamoDB (moto), and
//! `apply` → `history` → `export` → `apply --retry-failed` through the
//! binary, on DynamoDB and on the embedded SQLite default.

use crate::moto::{endpoint, tag_map, World, ROLE};
use crate::support::{repo, tagwarden, tagwarden_at, temp_dir, Run};
use serde_json::Value;
use std::collections::BTreeSet;
use tagwarden_store::url::Tables;
use tagwarden_store::{suite, DynamoStore};

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) async fn dynamodb() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

#[test]
fn dynamodb_store_passes_the_shared_suite() {
    runtime().block_on(async {
        let client = dynamodb().await;
        let tables = Tables::with_suffix(&format!("suite-{}", std::process::id()));
        let store = DynamoStore::new(client.clone(), tables.clone());
        suite::run_all(&store, "dynamodb").await;
        // `store init` made the tables as production needs them.
        for name in [
            &tables.metadata,
            &tables.history,
            &tables.actions,
            &tables.evidence,
        ] {
            let t = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .unwrap()
                .table
                .unwrap();
            let billing = t.billing_mode_summary.and_then(|b| b.billing_mode);
            assert_eq!(
                billing.map(|b| b.as_str().to_string()),
                Some("PAY_PER_REQUEST".into())
            );
            let sse = t.sse_description.and_then(|s| s.status);
            assert_eq!(
                sse.map(|s| s.as_str().to_string()),
                Some("ENABLED".into()),
                "{name}"
            );
            let pitr = client
                .describe_continuous_backups()
                .table_name(name)
                .send()
                .await
                .unwrap()
                .continuous_backups_description
                .and_then(|c| c.point_in_time_recovery_description)
                .and_then(|p| p.point_in_time_recovery_status);
            assert_eq!(
                pitr.map(|p| p.as_str().to_string()),
                Some("ENABLED".into()),
                "{name}"
            );
        }
    });
}

fn json_of(run: &Run) -> Value {
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.json()
}

fn recorded_line(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("Recorded in "))
        .unwrap_or_else(|| panic!("nothing recorded:\n{}", run.stderr))
}

fn csv_rows(run: &Run) -> Vec<Vec<String>> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(run.stdout.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn apply_records_in_dynamodb_and_history_export_and_retry_read_it_back() {
    let world = World::build("twh", &["210000000006"], &["us-east-1"], true);
    let store = format!("dynamodb:twh-{}", std::process::id());
    let tw = |args: &[&str]| {
        let mut all = vec!["--store", store.as_str()];
        all.extend_from_slice(args);
        tagwarden(&all)
    };
    let init = tw(&["store", "init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let logs = world.logs.display().to_string();
    let apply = [
        "apply",
        "--yes",
        "--format",
        "json",
        "--retry-base-ms",
        "10",
        "--assume-role",
        ROLE,
    ];
    let first = tw(&[&apply[..], &[logs.as_str()]].concat());
    assert_eq!(first.code, 1, "the unknown buckets fail: {}", first.stderr);
    let outcomes = json_of(&first)["resources"].as_array().unwrap().clone();
    let failed: BTreeSet<String> = outcomes
        .iter()
        .filter(|o| o["status"] == "failed")
        .map(|o| o["arn"].as_str().unwrap().to_string())
        .collect();
    let expected_failed: BTreeSet<String> = world
        .unknown()
        .into_iter()
        .chain(world.unsupported())
        .map(str::to_string)
        .collect();
    assert_eq!(failed, expected_failed);

    // A tagged resource: its creator, and exactly what tagwarden wrote.
    let r = &world.resources()[0];
    let arn = r["arn"].as_str().unwrap();
    let h = tw(&["history", arn, "--format", "json"]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    let h = h.json();
    assert_eq!(h["metadata"]["state"], "tagged");
    assert_eq!(
        h["metadata"]["creator"]["arn"],
        "arn:aws:sts::210000000006:assumed-role/Deployer/alice"
    );
    let changes: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["created", "tagged"]);
    let written = outcomes.iter().find(|o| o["arn"] == arn).unwrap();
    assert_eq!(
        tag_map(&h["history"][1]["added"]),
        tag_map(&written["written"])
    );
    assert_eq!(h["history"][1]["actor"], "tagwarden");
    // A failed one keeps its error.
    let bucket = world.unknown()[0];
    let h = tw(&["history", bucket, "--format", "json"]).json();
    assert_eq!(h["metadata"]["state"], "failed");
    assert_eq!(h["metadata"]["error"]["kind"], "not_found");

    // The export has one row per entry: created for every resource, then
    // tagged or failed for each.
    let export = csv_rows(&tw(&["export"]));
    assert_eq!(export[0][0], "event_time");
    let rows = export.len() - 1;
    assert_eq!(rows, 2 * outcomes.len(), "{}", export.len());

    // The same events again: the store does not change.
    let again = tw(&[&apply[..], &[logs.as_str()]].concat());
    assert!(
        recorded_line(&again).contains(": 0 history entries, 0 user actions, 0 resources updated"),
        "{}",
        again.stderr
    );
    assert_eq!(csv_rows(&tw(&["export"])).len() - 1, rows);

    // --retry-failed plans exactly what failed, and nothing else.
    let retry = tw(&[
        "apply",
        "--retry-failed",
        "--yes",
        "--format",
        "json",
        "--retry-base-ms",
        "10",
        "--assume-role",
        ROLE,
    ]);
    let retried: BTreeSet<String> = json_of(&retry)["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["arn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(retried, expected_failed, "{}", retry.stderr);
}

#[test]
fn offline_apply_records_planned_entries_in_the_embedded_store() {
    let dir = temp_dir("sqlite-e2e");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let samples = repo().join("examples/cloudtrail").display().to_string();
    let run = tagwarden(&[
        "--store",
        &store,
        "apply",
        &samples,
        "--offline",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let planned = run.json()["resources"].as_array().unwrap().len();
    assert!(planned > 50, "{planned}");
    assert!(run.stdout.contains("would_tag"));
    let export = tagwarden(&["--store", &store, "export", "--format", "json"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let entries = export.json();
    let entries = entries.as_array().unwrap();
    // Every planned resource: its creation and a planned-only entry; the
    // rest are the sample logs' own tag calls.
    let count = |change: &str| entries.iter().filter(|e| e["change"] == change).count();
    assert_eq!(count("created"), planned);
    assert_eq!(count("planned"), planned);
    let calls = count("tags_set") + count("tags_removed") + count("tags_replaced");
    assert_eq!(entries.len(), 2 * planned + calls);
    let first_planned = entries.iter().find(|e| e["change"] == "planned").unwrap();
    let arn = first_planned["arn"].as_str().unwrap();
    let h = tagwarden(&["--store", &store, "history", arn]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    assert!(h.stdout.contains("dry run"), "{}", h.stdout);
    assert!(h.stdout.contains("created"), "{}", h.stdout);
    // Replayed: nothing new.
    let again = tagwarden(&["--store", &store, "apply", &samples, "--offline", "-q"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let export2 = tagwarden(&["--store", &store, "export", "--format", "json"]).json();
    assert_eq!(export2.as_array().unwrap().len(), entries.len());
    // --since keeps only later events: the export is in time order.
    let middle = entries[entries.len() / 2]["event"]["time"]
        .as_str()
        .unwrap();
    let later = entries
        .iter()
        .filter(|e| e["event"]["time"].as_str().unwrap() >= middle)
        .count();
    assert!(later < entries.len());
    let since = tagwarden(&["--store", &store, "export", "--since", middle]);
    let rows = csv_rows(&since);
    assert_eq!(rows.len() - 1, later);
    assert!(rows[1..].iter().all(|r| r[0].as_str() >= middle));
}

#[test]
fn a_principals_tag_calls_join_the_history_of_what_they_touched() {
    let dir = temp_dir("tag-calls");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let samples = repo().join("examples/cloudtrail").display().to_string();
    // A gateway the sample logs create, then tagged and untagged by hand.
    let vgw = "arn:aws:ec2:eu-west-1:444455556666:vpn-gateway/vgw-1f0a3892c5181d5dc";
    let call = |id: &str, name: &str, time: &str, tags: &str| {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/Ops/bob","accountId":"444455556666"}},"eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.4","requestParameters":{{"resourcesSet":{{"items":[{{"resourceId":"vgw-1f0a3892c5181d5dc"}}]}},"tagSet":{{"items":[{tags}]}}}},"responseElements":{{"_return":true}},"eventID":"{id}","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"444455556666"}}"#
        )
    };
    let calls = dir.join("calls.json");
    std::fs::write(
        &calls,
        format!(
            "[{},{}]",
            call(
                "tc-1",
                "CreateTags",
                "2026-02-01T09:00:00Z",
                r#"{"key":"Owner","value":"bob"}"#
            ),
            call(
                "tc-2",
                "DeleteTags",
                "2026-02-02T09:00:00Z",
                r#"{"key":"Owner"}"#
            )
        ),
    )
    .unwrap();
    let calls = calls.display().to_string();
    let run = tagwarden(&[
        "--store",
        &store,
        "apply",
        &samples,
        &calls,
        "--offline",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let h = tagwarden(&["--store", &store, "history", vgw, "--format", "json"]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    let h = h.json();
    let entries: Vec<(&str, &str)> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["change"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    let bob = "arn:aws:sts::444455556666:assumed-role/Ops/bob";
    assert_eq!(
        entries,
        [
            ("created", "autoscaling.amazonaws.com"),
            ("planned", "tagwarden"),
            ("tags_set", bob),
            ("tags_removed", bob)
        ]
    );
    assert_eq!(h["history"][2]["added"]["Owner"], "bob");
    assert_eq!(h["history"][3]["removed"][0], "Owner");
}

/// The tags are written, then the store refuses (its tables were never
/// created): the outcomes are still printed, the batch is kept in a file
/// and the exit code is 1. Once the store exists, `store import` records
/// the batch, so the history says tagwarden wrote the tags; a rerun
/// writes nothing and records nothing new.
#[test]
fn a_store_failure_after_writes_loses_nothing() {
    let world = World::build("twn", &["210000000007"], &["us-east-1"], false);
    let cwd = temp_dir("store-failure");
    let store = format!("dynamodb:twn-{}", std::process::id());
    let logs = world.logs.display().to_string();
    let tw = |args: &[&str]| {
        let mut all = vec!["--store", store.as_str()];
        all.extend_from_slice(args);
        tagwarden_at(&cwd, &all, None)
    };
    let apply = || {
        tw(&[
            "apply",
            "--yes",
            "--assume-role",
            ROLE,
            "--format",
            "json",
            logs.as_str(),
        ])
    };
    let first = apply();
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first.stderr.contains("ResourceNotFoundException"),
        "{}",
        first.stderr
    );
    let outcomes = first.json()["resources"].as_array().unwrap().clone();
    assert!(!outcomes.is_empty());
    assert!(outcomes.iter().all(|o| o["status"] == "tagged"));
    let kept = first
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("They are kept in "))
        .and_then(|l| l.split(':').next())
        .unwrap_or_else(|| panic!("no file named:\n{}", first.stderr))
        .to_string();
    assert!(cwd.join(&kept).is_file(), "{kept}");

    assert_eq!(tw(&["store", "init"]).code, 0);
    let import = tw(&["store", "import", &kept]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let again = tw(&["store", "import", &kept]);
    assert!(
        again
            .stderr
            .contains(": 0 history entries, 0 user actions, 0 resources updated"),
        "an import twice recorded twice: {}",
        again.stderr
    );
    let arn = world.resources()[0]["arn"].as_str().unwrap();
    let h = tw(&["history", arn, "--format", "json"]).json();
    let changes: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["created", "tagged"]);
    assert_eq!(h["metadata"]["state"], "tagged");

    let second = apply();
    assert_eq!(second.code, 0, "{}", second.stderr);
    let statuses: BTreeSet<String> = second.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["already_tagged".to_string()]));
    let h2 = tw(&["history", arn, "--format", "json"]).json();
    assert_eq!(h2, h, "the rerun changed the record");
}

#[test]
fn a_broken_store_stops_apply_before_anything_changes() {
    let dir = temp_dir("broken-store");
    let path = dir.join("tw.db");
    std::fs::write(&path, "not a database ".repeat(400)).unwrap();
    let store = format!("sqlite:{}", path.display());
    let samples = repo().join("examples/cloudtrail").display().to_string();
    let run = tagwarden(&["--store", &store, "apply", &samples, "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains(&path.display().to_string()),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("not an SQLite database"),
        "{}",
        errors[0]
    );
    assert!(
        run.stdout.is_empty(),
        "planned despite the store: {}",
        run.stdout
    );
}

/// Event data that a spreadsheet would run as a formula is exported inert,
/// and `history` prints no control character from it to the terminal.
#[test]
fn exported_and_printed_event_data_cannot_run_or_rewrite_the_screen() {
    let dir = temp_dir("sqlite-inert");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    let record = serde_json::json!({"Records": [{
        "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances", "awsRegion": "us-east-1", "eventID": "=HYPERLINK(\"http://x\")\u{1b}[2J",
        "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": "123456789012",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice",
                         "accountId": "123456789012"},
        "requestParameters": {},
        "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0123456789abcdef0"}]}}}]});
    let file = dir.join("forged.json");
    std::fs::write(&file, record.to_string()).unwrap();
    let run = tagwarden(&[
        "--store",
        &store,
        "apply",
        &file.display().to_string(),
        "--offline",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = csv_rows(&tagwarden(&["--store", &store, "export"]));
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[9].as_str()).collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| id.starts_with("'=HYPERLINK(")),
        "{ids:?}"
    );
    let history = tagwarden(&["--store", &store, "history", arn]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert!(history.stdout.contains("HYPERLINK"), "{}", history.stdout);
    assert!(!history.stdout.contains('\u{1b}'), "{}", history.stdout);
}
