//! The real public samples in `../shared/fixtures/`: they parse without
//! errors, and yield exactly the creations they hold.

use crate::support::*;
use std::collections::BTreeSet;

#[test]
fn stratus_red_team_logs_yield_exactly_their_creations() {
    let dir = shared_fixtures().join("cloudtrail/stratus-red-team");
    let run = tagwarden(&["plan", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "no errors expected:\n{}", run.stderr);
    let got: BTreeSet<(String, String)> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["event"]["name"].as_str().unwrap().to_string(),
                i["arn"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("CreateUser", "arn:aws:iam::229654561268:user/malicious-iam-user"),
        ("CreateRole", "arn:aws:iam::609418236337:role/stratus-red-team-malicious-iam-role"),
        (
            "CreateProfile",
            "arn:aws:rolesanywhere:cn-northsouth-3r:791182566784:profile/910042eb-8463-427d-8095-6fd60ac303d9",
        ),
        (
            "CreateTrustAnchor",
            "arn:aws:rolesanywhere:cn-northsouth-3r:791182566784:trust-anchor/4d07f6a0-1c50-44d3-951b-b68b783daa0a",
        ),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want, "{}", run.stderr);
    let names: BTreeSet<_> = got.iter().map(|(n, _)| n.as_str()).collect();
    // The failed RunInstances (Client.UnauthorizedOperation) is skipped, not planned.
    assert!(!names.contains("RunInstances"));
    assert!(run.stderr.contains("error-code"), "{}", run.stderr);
}

#[test]
fn lambda_event_samples_parse_and_only_non_cloudtrail_files_are_refused() {
    let dir = shared_fixtures().join("lambda-events");
    let run = tagwarden(&["plan", dir.to_str().unwrap(), "--format", "json"]);
    let errors = run.errors();
    // A Lambda *response* and an SQS message whose body is plain text are
    // not inputs tagwarden can read; each is refused by name, nothing else.
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("example-sqs-batch-response.json: $: not CloudTrail"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("example-sqs-event.json: Records[0].body: not JSON"),
        "{}",
        errors[1]
    );
    assert!(
        run.stderr.contains("s3://sourcebucket/Happy Face.jpg"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("other-event 1"),
        "the scheduled event is recognised: {}",
        run.stderr
    );
}
