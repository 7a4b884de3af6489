//! AWS failures said in one line a person can act on, as the AWS CLI does;
//! the SDK's whole account only with `-v`.

use std::process::Command;

/// `tagwarden ARGS` with nothing of the caller's AWS configuration but
/// what `env` gives.
fn bare(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tagwarden"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .output()
        .expect("run tagwarden");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().expect("not killed"), stderr)
}

const KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
];

#[test]
fn an_unreachable_endpoint_is_named_in_one_line() {
    // Port 9 (discard) on loopback: nothing listens there.
    let args = [
        "scan",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--max-attempts",
        "1",
    ];
    let (code, stderr) = bare(&args, &KEYS);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: listing resources: cannot reach http://127.0.0.1:9: connection refused"
    );
    let mut verbose = vec!["-v"];
    verbose.extend(args);
    let (_, stderr) = bare(&verbose, &KEYS);
    let detail = stderr.lines().find(|l| l.starts_with("detail: "));
    assert!(
        detail.is_some_and(|d| d.contains("Connection refused")),
        "-v shows the SDK's account: {stderr}"
    );
}

#[test]
fn missing_credentials_say_how_to_get_some() {
    let (code, stderr) = bare(&["scan", "--max-attempts", "1"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: listing resources: no AWS credentials found: set AWS_PROFILE, run `aws sso login`, \
         or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    assert!(!stderr.contains("DispatchFailure"), "{stderr}");
}
