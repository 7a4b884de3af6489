//! Running the binary and reading what it printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/fixtures`, beside the clone (as CI lays it out).
pub fn shared_fixtures() -> PathBuf {
    let p = repo().join("../shared/fixtures");
    assert!(
        p.is_dir(),
        "the public samples are expected at {}",
        p.display()
    );
    p
}

pub fn catalog_fixture(name: &str) -> PathBuf {
    repo().join("crates/core/tests/fixtures/catalog").join(name)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    pub fn errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect()
    }
}

fn finish(out: Output) -> Run {
    Run {
        // A signal or panic must never pass for a verdict.
        code: out.status.code().expect("tagwarden was killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn tagwarden(args: &[&str]) -> Run {
    tagwarden_stdin(args, None)
}

pub fn tagwarden_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    tagwarden_at(&repo(), args, stdin)
}

/// Runs in `dir`, for what tagwarden writes to its working directory.
pub fn tagwarden_at(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagwarden"))
        .args(args)
        .current_dir(dir)
        // Never the working directory's store; tests that read the store
        // back pass their own `--store`.
        .env("TAGWARDEN_STORE", shared_store())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tagwarden");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let run = finish(child.wait_with_output().unwrap());
    assert_ne!(run.code, 101, "tagwarden panicked:\n{}", run.stderr);
    run
}

/// Unwraps a catalog fixture (`{"expect", "record"}`) into a bare record.
pub fn fixture_record(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(catalog_fixture(name)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["record"].clone()
}

/// The store of tests that do not read theirs back: one per test process.
fn shared_store() -> String {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| temp_dir("store"));
    format!("sqlite:{}", dir.join("shared.db").display())
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tagwarden-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A CloudTrail record of an EC2 call in the own account by `who` (an IAM
/// user or an assumed role), as the tests' logs and events hold it.
pub fn ec2_call(
    name: &str,
    event_id: &str,
    time: &str,
    who: &str,
    params: serde_json::Value,
    response: serde_json::Value,
) -> serde_json::Value {
    let account = crate::moto::OWN_ACCOUNT;
    let kind = if who.contains(":user/") {
        "IAMUser"
    } else {
        "AssumedRole"
    };
    serde_json::json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "ec2.amazonaws.com",
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
        "eventID": event_id, "readOnly": false, "eventType": "AwsApiCall",
        "recipientAccountId": account,
        "userIdentity": {"type": kind, "arn": who, "accountId": account},
        "requestParameters": params, "responseElements": response,
    })
}
