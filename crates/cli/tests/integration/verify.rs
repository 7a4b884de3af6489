//! `tagwarden verify` against digests signed with a test key in moto, with
//! the AWS CLI's own validator (its `awscli` package, in a venv of its own)
//! as the second opinion: an untouched chain, an altered log, a missing
//! log, a forged digest and a deleted digest get the same verdicts from
//! both, file by file.

use crate::moto::endpoint;
use crate::support::{repo, tagwarden, temp_dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn awscli_python() -> String {
    std::env::var("TAGWARDEN_AWSCLI_PYTHON")
        .unwrap_or_else(|_| repo().join(".venv-awscli/bin/python").display().to_string())
}

pub(crate) fn digests(args: &[&str]) -> Value {
    endpoint();
    let out = Command::new(awscli_python())
        .arg(repo().join("crates/cli/tests/verify/digests.py"))
        .args(args)
        .output()
        .expect("run digests.py (scripts/test.sh makes its venv)");
    assert!(
        out.status.success(),
        "digests.py {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verdicts(rows: &Value) -> BTreeMap<String, bool> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["url"].as_str().unwrap().to_string(), r["valid"] == true))
        .collect()
}

#[test]
fn verify_agrees_with_the_aws_cli_on_every_file() {
    let dir = temp_dir("verify");
    let keys = dir.join("keys.json").display().to_string();
    for (case, tampering, bad) in [
        ("v-clean", None, None),
        ("v-alter-log", Some("alter-log"), Some("log2.json.gz")),
        ("v-delete-log", Some("delete-log"), Some("log1.json.gz")),
        (
            "v-forge-digest",
            Some("forge-digest"),
            Some("20261120T031500Z.json.gz"),
        ),
        (
            "v-delete-digest",
            Some("delete-digest"),
            Some("20261120T021500Z.json.gz"),
        ),
    ] {
        digests(&["make", case, &dir.display().to_string()]);
        if let Some(what) = tampering {
            digests(&["tamper", case, what]);
        }
        let theirs = verdicts(&digests(&["awscli", case, &keys]));
        let source = format!("s3://{case}/");
        let run = tagwarden(&[
            "verify",
            &source,
            "--public-keys",
            &keys,
            "--format",
            "json",
            "--region",
            "us-east-1",
        ]);
        let ours = verdicts(&run.json());
        assert_eq!(ours, theirs, "{case}");
        let invalid: Vec<&String> = ours
            .iter()
            .filter(|(_, ok)| !**ok)
            .map(|(u, _)| u)
            .collect();
        match bad {
            None => {
                assert_eq!(run.code, 0, "{case}: {}", run.stderr);
                assert!(invalid.is_empty(), "{case}: {invalid:?}");
                assert_eq!(ours.len(), 6, "three digests and their logs");
            }
            Some(file) => {
                assert_eq!(run.code, 1, "{case}: {}", run.stderr);
                assert_eq!(invalid.len(), 1, "{case}: {invalid:?}");
                assert!(invalid[0].ends_with(file), "{case}: {invalid:?}");
            }
        }
    }
    // The table names the bad file and why.
    let run = tagwarden(&[
        "verify",
        "s3://v-forge-digest/",
        "--public-keys",
        &keys,
        "--region",
        "us-east-1",
    ]);
    assert!(
        run.stdout
            .contains("INVALID: signature verification failed"),
        "{}",
        run.stdout
    );
    // Bad input: not S3, no keys.
    let local = tagwarden(&["verify", "logs/", "--public-keys", &keys]);
    assert_eq!(local.code, 2);
    assert!(
        local.stderr.contains("verify reads s3://"),
        "{}",
        local.stderr
    );
    let keyless = tagwarden(&["verify", "s3://v-clean/"]);
    assert_eq!(keyless.code, 2);
    assert!(
        keyless.stderr.contains("--public-keys"),
        "{}",
        keyless.stderr
    );
}
