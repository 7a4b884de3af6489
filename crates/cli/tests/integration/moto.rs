//! The moto server that `scripts/test.sh` starts, and the estates built in
//! it by `tests/moto/world.py` (boto3), so that what tagwarden wrote is read
//! back through each service's own API, not through tagwarden's code.

use crate::support::{repo, temp_dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// The role tagwarden assumes in member accounts; moto accepts any name.
pub const ROLE: &str = "TagwardenRole";
/// The account moto's default credentials belong to.
pub const OWN_ACCOUNT: &str = "123456789012";

pub fn python() -> String {
    std::env::var("TAGWARDEN_PYTHON")
        .unwrap_or_else(|_| repo().join(".venv/bin/python").display().to_string())
}

/// Panics with the fix when the harness is not running: these tests must
/// not pass by skipping.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run ./scripts/test.sh, which starts the moto server")
}

pub fn world_py(args: &[&str]) -> String {
    endpoint();
    let out = Command::new(python())
        .arg(repo().join("crates/cli/tests/moto/world.py"))
        .args(args)
        .output()
        .expect("run world.py");
    assert!(
        out.status.success(),
        "world.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub struct World {
    /// The CloudTrail logs, in the trail bucket's key layout.
    pub logs: PathBuf,
    manifest_path: PathBuf,
    pub manifest: Value,
}

pub type TagMap = BTreeMap<String, String>;

impl World {
    /// Creates resources of every type in `accounts` × `regions` (IAM and
    /// Lambda once per account); `unknown` adds records naming buckets that
    /// were never created.
    pub fn build(prefix: &str, accounts: &[&str], regions: &[&str], unknown: bool) -> Self {
        let flags: &[&str] = if unknown { &["--unknown"] } else { &[] };
        Self::built(prefix, accounts, regions, flags)
    }

    /// Creates only resources whose catalog rows are generated from AWS's
    /// API models, each logged with the service's whole answer.
    pub fn generated(prefix: &str, accounts: &[&str], regions: &[&str]) -> Self {
        Self::built(prefix, accounts, regions, &["--generated"])
    }

    fn built(prefix: &str, accounts: &[&str], regions: &[&str], flags: &[&str]) -> Self {
        let dir = temp_dir(prefix);
        let logs = dir.join("logs");
        let (accounts, regions) = (accounts.join(","), regions.join(","));
        let mut args = vec![
            "--prefix",
            prefix,
            "--accounts",
            &accounts,
            "--regions",
            &regions,
        ];
        let out = logs.display().to_string();
        args.extend(["--out", &out]);
        args.extend_from_slice(flags);
        let manifest_text = world_py(&args);
        let manifest_path = dir.join("manifest.json");
        std::fs::write(&manifest_path, &manifest_text).unwrap();
        World {
            logs,
            manifest_path,
            manifest: serde_json::from_str(&manifest_text).unwrap(),
        }
    }

    pub fn resources(&self) -> &[Value] {
        self.manifest["resources"].as_array().unwrap()
    }

    /// ARNs of records naming resources that were never created.
    pub fn unknown(&self) -> Vec<&str> {
        self.arns("unknown")
    }

    /// ARNs of resources moto's tagging API refuses to tag (AWS does not).
    pub fn unsupported(&self) -> Vec<&str> {
        self.arns("unsupported")
    }

    fn arns(&self, list: &str) -> Vec<&str> {
        self.manifest[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    /// Every resource's tags now, by ARN.
    pub fn tags_now(&self) -> BTreeMap<String, TagMap> {
        let text = world_py(&["tags", &self.manifest_path.display().to_string()]);
        serde_json::from_str(&text).unwrap()
    }
}

pub fn tag_map(v: &Value) -> TagMap {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// moto's request recorder, held by one test at a time: starting clears
/// what another test recorded.
pub struct Recording(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

static RECORDER: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Recording {
    pub fn start() -> Self {
        let guard = RECORDER.lock().unwrap_or_else(|p| p.into_inner());
        world_py(&["recorder", "start"]);
        Self(guard)
    }

    /// Stops and counts the tagging writes naming the manifest's resources.
    pub fn writes(self, manifest: &std::path::Path) -> Value {
        serde_json::from_str(&world_py(&[
            "recorder",
            "writes",
            &manifest.display().to_string(),
        ]))
        .unwrap()
    }

    /// Stops and keeps every request recorded in `path`.
    pub fn save(self, path: &std::path::Path) {
        world_py(&["recorder", "save", &path.display().to_string()]);
    }
}

/// The IAM check's interpreter (scripts/test.sh exports it).
pub fn iam_python() -> String {
    std::env::var("TAGWARDEN_IAM_PYTHON")
        .unwrap_or_else(|_| repo().join(".venv-iam/bin/python").display().to_string())
}
