//! Issue 19, point 5: a run too large to hold is counted into an overview,
//! then read again and settled part by part through the store, and ends
//! where the same run held whole ends.

use crate::support::{shared_fixtures, tagwarden, tagwarden_stdin, temp_dir};
use serde_json::{json, Value};

const SESSION: &str = "arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000";

fn volume(id: &str, time: &str, who: Value) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "ec2.amazonaws.com",
        "eventName": "CreateVolume", "awsRegion": "us-east-1", "eventID": format!("ev-{id}-{time}"),
        "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": "900138736586", "userIdentity": who,
        "requestParameters": {}, "responseElements": {"volumeId": id},
    })
}

fn user(name: &str) -> Value {
    json!({"type": "IAMUser", "arn": format!("arn:aws:iam::900138736586:user/{name}"),
           "accountId": "900138736586"})
}

/// The outcomes of `apply --format json`, as (ARN, status).
fn outcomes(run: &crate::support::Run) -> Vec<(String, String)> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut all: Vec<(String, String)> = run.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let arn = o["arn"].as_str().unwrap().to_string();
            (arn, o["status"].as_str().unwrap().to_string())
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_run_too_large_to_hold_is_applied_in_parts_as_if_held_whole() {
    let dir = temp_dir("parts");
    // A volume made again under the same id: the later creation is read
    // first, the earlier one last, parts apart. A volume made in the
    // stratus-red-team session, whose AssumeRole is in another file read
    // first. And 44 more, so that parts of 4 cannot hold the run.
    let mut records = vec![
        volume("vol-again", "2024-08-01T12:00:00Z", user("bob")),
        volume(
            "vol-session",
            "2024-08-01T11:30:30Z",
            json!({"type": "AssumedRole", "arn": SESSION, "accountId": "900138736586",
                   "accessKeyId": "ASIA9F6MXE9HSYOXYQOS"}),
        ),
    ];
    for i in 0..44 {
        records.push(volume(
            &format!("vol-{i:03}"),
            "2024-08-01T11:40:00Z",
            user("alice"),
        ));
    }
    records.push(volume("vol-again", "2024-08-01T09:00:00Z", user("carol")));
    let log = serde_json::to_vec(&json!({"Records": records})).unwrap();
    let file = dir.join("volumes.json");
    std::fs::write(&file, &log).unwrap();
    let sample = shared_fixtures()
        .join("cloudtrail/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json");
    let sample = sample.to_str().unwrap();
    let store = |name: &str| format!("sqlite:{}", dir.join(name).display());
    let (held, parted) = (store("held.db"), store("parts.db"));

    let whole = tagwarden(&[
        "--store",
        &held,
        "apply",
        sample,
        file.to_str().unwrap(),
        "--offline",
        "--format",
        "json",
    ]);
    assert!(
        !whole.stderr.contains("too large to hold"),
        "{}",
        whole.stderr
    );
    // In parts, from stdin: kept in a file to be read twice.
    let args = [
        "--store",
        &parted,
        "apply",
        sample,
        "-",
        "--offline",
        "--format",
        "json",
        "--part-size",
        "4",
    ];
    let parts = tagwarden_stdin(&args, Some(&log));
    assert!(
        parts.stderr.contains("too large to hold"),
        "{}",
        parts.stderr
    );
    // Counted part by part: the volume made twice counts twice.
    assert!(
        parts.stderr.contains("plan: 47 resources to tag"),
        "{}",
        parts.stderr
    );
    let (whole, parts) = (outcomes(&whole), outcomes(&parts));
    assert_eq!(parts, whole);
    let again = "arn:aws:ec2:us-east-1:900138736586:volume/vol-again";
    assert_eq!(
        parts.iter().filter(|(arn, _)| arn == again).count(),
        1,
        "the earlier creation, read later, is superseded: {parts:?}"
    );

    for db in [&held, &parted] {
        let history = |id: &str| {
            let arn = format!("arn:aws:ec2:us-east-1:900138736586:volume/{id}");
            let h = tagwarden(&["--store", db, "history", &arn, "--format", "json"]);
            assert_eq!(h.code, 0, "{}", h.stderr);
            h.json()
        };
        let h = history("vol-again");
        let created: Vec<&Value> = h["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["change"] == "created")
            .collect();
        assert_eq!(created.len(), 1, "{db}: {h}");
        assert_eq!(
            created[0]["actor"], "arn:aws:iam::900138736586:user/bob",
            "{db}: {h}"
        );
        // The session's hop, kept by the first part, names its user in a
        // later part.
        let h = history("vol-session").to_string();
        assert!(h.contains("user/christophe"), "{db}: {h}");
    }
}
