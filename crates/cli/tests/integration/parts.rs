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
    let session = json!({"type": "AssumedRole", "arn": SESSION, "accountId": "900138736586",
                         "accessKeyId": "ASIA9F6MXE9HSYOXYQOS"});
    // Two volumes made twice under one id, parts apart: `vol-again` read
    // newer first, `vol-twice` older first. A volume made in the
    // stratus-red-team session, whose AssumeRole is in the file read
    // first, parts before it. And 44 more, so that parts of 4 cannot
    // hold the run.
    let mut records = vec![
        volume("vol-again", "2024-08-01T12:00:00Z", user("bob")),
        volume("vol-twice", "2024-08-01T08:00:00Z", user("dave")),
    ];
    for i in 0..44 {
        records.push(volume(
            &format!("vol-{i:03}"),
            "2024-08-01T11:40:00Z",
            user("alice"),
        ));
    }
    records.push(volume("vol-session", "2024-08-01T11:30:30Z", session));
    records.push(volume("vol-again", "2024-08-01T09:00:00Z", user("carol")));
    records.push(volume("vol-twice", "2024-08-01T13:00:00Z", user("erin")));
    let log = serde_json::to_vec(&json!({"Records": records})).unwrap();
    let file = dir.join("volumes.json");
    std::fs::write(&file, &log).unwrap();
    let sample = shared_fixtures()
        .join("cloudtrail/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json");
    let sample = sample.to_str().unwrap();
    let store = |name: &str| format!("sqlite:{}", dir.join(name).display());
    let (held, parted) = (store("held.db"), store("parts.db"));

    let file = file.to_str().unwrap();
    let whole = tagwarden(&[
        "--store",
        &held,
        "apply",
        sample,
        file,
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
    // The same resources; a part tells each resource it settles, so the
    // one made again later is told twice, the older one read late never.
    let (whole, parts) = (outcomes(&whole), outcomes(&parts));
    let arns = |o: &[(String, String)]| o.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>();
    let mut distinct = arns(&parts);
    distinct.dedup();
    assert_eq!(distinct, arns(&whole));
    let told = |id: &str| parts.iter().filter(|(a, _)| a.ends_with(id)).count();
    assert_eq!(
        (told("/vol-again"), told("/vol-twice")),
        (1, 2),
        "{parts:?}"
    );

    let user = |name: &str| format!("arn:aws:iam::900138736586:user/{name}");
    for db in [&held, &parted] {
        let history = |id: &str| {
            let arn = format!("arn:aws:ec2:us-east-1:900138736586:volume/{id}");
            let h = tagwarden(&["--store", db, "history", &arn, "--format", "json"]);
            assert_eq!(h.code, 0, "{}", h.stderr);
            h.json()
        };
        let creators = |h: &Value| -> Vec<String> {
            h["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["change"] == "created")
                .map(|e| e["actor"].as_str().unwrap().to_string())
                .collect()
        };
        // The later creation wins whatever the order it is read in.
        let again = history("vol-again");
        assert_eq!(creators(&again), [user("bob")], "{db}: {again}");
        let twice = history("vol-twice");
        assert_eq!(
            twice["metadata"]["creator"]["arn"],
            user("erin"),
            "{db}: {twice}"
        );
        assert_eq!(
            twice["metadata"]["pending"]["CreatedBy"],
            user("erin"),
            "{db}: {twice}"
        );
        // The session's hop, kept by the first part, names its user in a
        // later part.
        let session = history("vol-session").to_string();
        assert!(session.contains("user/christophe"), "{db}: {session}");
    }
}
