//! `tagwarden backfill --distributed` against moto's Step Functions, which
//! starts, describes and stops executions but runs none: what the Map
//! would read is shown, the execution starts with the input the template's
//! state machine reads, a stopped one is reported with how to resume, and
//! a resume that Step Functions cannot redrive starts anew from the same
//! input. The follower's progress on Map Run counts is unit-tested
//! (`tagwarden_flow::backfill`), as moto keeps no Map Runs.

use crate::moto::{world_py, World, OWN_ACCOUNT};
use crate::support::*;
use serde_json::{json, Value};

fn py(args: &[&str]) -> Value {
    serde_json::from_str(&world_py(args)).unwrap()
}

#[test]
fn a_distributed_backfill_is_shown_started_followed_and_resumed() {
    let world = World::build("twb", &[OWN_ACCOUNT], &["us-east-1"], false);
    let bucket = "tagwarden-backfill-it";
    let objects = py(&["bucket-logs", bucket, &world.logs.display().to_string()]);
    let objects = objects.as_object().unwrap();
    let (key, _) = objects.iter().next().unwrap();
    // `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…`
    let parts: Vec<&str> = key.split('/').collect();
    let (year, month, day) = (parts[4], parts[5], parts[6]);
    let region_prefix = format!("s3://{bucket}/AWSLogs/{OWN_ACCOUNT}/CloudTrail/us-east-1/");
    let since = format!("{year}-{month}-{day}");
    let machine: String =
        serde_json::from_value(py(&["sfn-machine", "tagwarden-backfill-it"])).unwrap();
    let base = [
        "backfill",
        region_prefix.as_str(),
        "--since",
        since.as_str(),
        "--until",
        since.as_str(),
        "--distributed",
        "--state-machine",
        machine.as_str(),
        "--max-concurrency",
        "4",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(extra);
        tagwarden(&args)
    };

    // What it would read and cost, and nothing started.
    let run = with(&["--dry-run", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = run.json();
    let bytes: u64 = objects.values().map(|s| s.as_u64().unwrap()).sum();
    assert_eq!(
        shown["input"],
        json!({"Prefix": format!("AWSLogs/{OWN_ACCOUNT}/CloudTrail/us-east-1/{year}/{month}/"),
               "FirstDay": shown["input"]["FirstDay"], "LastDay": shown["input"]["LastDay"],
               "MaxConcurrency": 4, "ToleratedFailurePercentage": 0.0}),
        "{shown}"
    );
    assert_eq!(shown["estimate"]["objects"], objects.len(), "{shown}");
    assert_eq!(shown["estimate"]["bytes"], bytes, "{shown}");
    assert!(shown["estimate"]["gb_seconds"].as_f64().unwrap() > 0.0);
    assert!(py(&["sfn-executions", &machine])
        .as_array()
        .unwrap()
        .is_empty());

    // Started, with the input the state machine reads.
    let run = with(&["--yes", "--detach"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The plan first, the execution last.
    assert!(run.stdout.contains("log objects"), "{}", run.stdout);
    let execution = run.stdout.trim().lines().last().unwrap().to_string();
    let executions = py(&["sfn-executions", &machine]);
    assert_eq!(executions[0]["arn"], execution.as_str(), "{executions}");
    assert_eq!(executions[0]["status"], "RUNNING");
    assert_eq!(executions[0]["input"], shown["input"]);

    // Stopped: followed to its end, and told how to go on.
    py(&["sfn-stop", &execution]);
    let run = tagwarden(&["backfill", "--execution", &execution]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("ABORTED") && run.stderr.contains("--resume"),
        "{}",
        run.stderr
    );

    // Resumed: moto has no redrive, so it starts anew from the same input.
    let run = tagwarden(&[
        "backfill",
        "--execution",
        &execution,
        "--resume",
        "--detach",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = run.stdout.trim();
    assert_ne!(again, execution);
    let executions = py(&["sfn-executions", &machine]);
    let resumed = executions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["arn"] == again)
        .unwrap_or_else(|| panic!("{again} not in {executions}"));
    assert_eq!(resumed["input"], shown["input"]);
}

#[test]
fn a_backfill_without_its_state_machine_or_with_days_reversed_is_refused() {
    let run = tagwarden(&[
        "backfill",
        "s3://b/AWSLogs/",
        "--since",
        "2026-01-01",
        "--distributed",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--state-machine"), "{}", run.stderr);
    let run = tagwarden(&["backfill", "/tmp/logs", "--since", "2026-01-01"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("s3://BUCKET/PREFIX"), "{}", run.stderr);
}
