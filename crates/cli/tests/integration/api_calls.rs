//! API-call efficiency: N new resources sharing one tag set cost exactly
//! Σ ceil(n / batch max) writes per (account, region, API), counted twice:
//! by tagwarden's own SDK interceptor and by moto's request recorder.
//!
//! moto accepts more than 1000 ids in one CreateTags, where AWS refuses:
//! the 1000 limit is proven on the recorded requests, not by moto.

use crate::moto::{world_py, Recording, ROLE};
use crate::support::{tagwarden, temp_dir};
use serde_json::Value;

fn writes(run: &crate::support::Run) -> Vec<(String, u64)> {
    calls(run, true)
}

fn calls(run: &crate::support::Run, write: bool) -> Vec<(String, u64)> {
    run.json()["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["write"] == write)
        .map(|c| {
            (
                c["operation"].as_str().unwrap().to_string(),
                c["calls"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn writes_for_new_resources_meet_the_lower_bound_and_a_rerun_writes_none() {
    let dir = temp_dir("twb");
    let logs = dir.join("logs");
    // 1001 instances: one past EC2's maximum; 41 log groups: one past two
    // tagging-API batches.
    let created: Value = serde_json::from_str(&world_py(&[
        "bulk",
        "210000000005",
        "us-west-2",
        "1001",
        "41",
        "twb",
        &logs.display().to_string(),
    ]))
    .unwrap();
    let manifest = dir.join("bulk.json");
    std::fs::write(&manifest, created.to_string()).unwrap();
    let recording = Recording::start();
    let run = tagwarden(&[
        "apply",
        "--assume-role",
        ROLE,
        "--format",
        "json",
        &logs.display().to_string(),
    ]);
    let recorded = recording.writes(&manifest);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Each instance's root volume is tagged with it.
    assert_eq!(run.json()["summary"]["tagged"], 2 * 1001 + 41);
    // ceil(2002 / 1000) = 3 and ceil(41 / 20) = 3.
    assert_eq!(
        writes(&run),
        [
            ("CreateTags".to_string(), 3),
            ("TagResources".to_string(), 3)
        ]
    );
    // The volumes are read once per 200 instances: ceil(1001 / 200) = 6.
    let volume_reads = |run| {
        calls(run, false)
            .into_iter()
            .find(|(op, _)| op == "DescribeVolumes")
            .map(|(_, n)| n)
    };
    assert_eq!(volume_reads(&run), Some(6), "{}", run.stdout);
    assert_eq!(recorded["CreateTags"], 3, "{recorded}");
    assert_eq!(recorded["TagResources"], 3, "{recorded}");
    assert_eq!(recorded["CreateTags.max_names"], 1000, "{recorded}");
    assert_eq!(recorded["TagResources.max_names"], 20, "{recorded}");

    // The same logs again: every resource is read, none is written.
    let again = tagwarden(&[
        "apply",
        "--assume-role",
        ROLE,
        "--format",
        "json",
        &logs.display().to_string(),
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["summary"]["already_tagged"], 2 * 1001 + 41);
    assert_eq!(writes(&again), []);
}
