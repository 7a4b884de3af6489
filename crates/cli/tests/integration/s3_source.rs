//! `s3://` sources against moto: the organization key layout, pruning by
//! the date in the key before fetching, digest and insight objects skipped,
//! and objects named by S3 notifications (URL-encoded keys) fetched.

use crate::moto::{world_py, World};
use crate::support::{tagwarden, temp_dir};
use std::collections::BTreeSet;

fn arns(run: &crate::support::Run) -> BTreeSet<String> {
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["arn"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_s3_prefix_reads_the_logs_in_the_window_and_nothing_else() {
    let world = World::build("tws", &["210000000003"], &["us-east-1"], false);
    // The trail bucket lives in another region than the default one.
    let bucket = "tws-trail";
    world_py(&[
        "upload",
        bucket,
        "eu-west-1",
        &world.logs.display().to_string(),
        "org/AWSLogs/o-abc123/",
    ]);
    // From files: the reference.
    let local = tagwarden(&[
        "plan",
        "--format",
        "json",
        &world.logs.display().to_string(),
    ]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let want = arns(&local);
    assert!(want.len() >= 10);

    let run = tagwarden(&[
        "plan",
        "-v",
        "--format",
        "json",
        "--since",
        "2026-11-19",
        &format!("s3://{bucket}/org/"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(arns(&run), want, "{}", run.stderr);
    let fetched: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("read s3://"))
        .collect();
    assert_eq!(fetched.len(), 1, "{fetched:#?}");
    assert!(!run.stderr.contains("never-read"), "{}", run.stderr);

    // Without a window the dated-out log is read; digests never are.
    let all = tagwarden(&["plan", "--format", "json", &format!("s3://{bucket}/")]);
    let all_arns = arns(&all);
    assert!(all_arns.contains("arn:aws:s3:::never-read-old"));
    assert!(!all_arns
        .iter()
        .any(|a| a.contains("digest") || a.contains("insight")));

    // An S3 notification names an object by its URL-encoded key.
    let dir = temp_dir("tws-notification");
    let note = dir.join("notification.json");
    std::fs::write(
        &note,
        format!(
            r#"{{"Records":[{{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-20T10:05:00.000Z","eventName":"ObjectCreated:Put","s3":{{"s3SchemaVersion":"1.0","bucket":{{"name":"{bucket}","arn":"arn:aws:s3:::{bucket}"}},"object":{{"key":"manual/extra+log.json.gz","size":300}}}}}}]}}"#
        ),
    )
    .unwrap();
    let run = tagwarden(&["plan", "--format", "json", &note.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        arns(&run),
        BTreeSet::from(["arn:aws:s3:::from-notification-1".to_string()])
    );
}
