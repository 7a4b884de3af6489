//! Faults moto never makes, injected by a proxy (mitmproxy in reverse mode
//! with `tests/moto/faults.py`) between tagwarden and moto: throttling in
//! each protocol's own shape, connections cut before any answer, and EC2
//! ids not visible yet.

use crate::moto::{endpoint, tag_map, World, OWN_ACCOUNT, ROLE};
use crate::support::{tagwarden, temp_dir};
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Proxy {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mitmdump() -> PathBuf {
    let python =
        std::env::var("TAGWARDEN_PYTHON").expect("TAGWARDEN_PYTHON: run ./scripts/test.sh");
    PathBuf::from(python).with_file_name("mitmdump")
}

/// Rates per thousand requests.
fn start_proxy_with(throttle: u32, reset: u32, unprocessed: u32) -> Proxy {
    start_proxy_set(&[
        ("throttle_permille", throttle.to_string()),
        ("reset_permille", reset.to_string()),
        ("unprocessed_permille", unprocessed.to_string()),
    ])
}

impl Proxy {
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A proxy to moto with faults.py's options set as given.
pub(crate) fn start_proxy_set(options: &[(&str, String)]) -> Proxy {
    let upstream = endpoint();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = temp_dir(&format!("proxy-{port}")).join("mitmdump.log");
    let addon = crate::support::repo().join("crates/cli/tests/moto/faults.py");
    let child = Command::new(mitmdump())
        .args(["--mode", &format!("reverse:{upstream}")])
        .args([
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            &port.to_string(),
        ])
        .args(["-q", "-s", &addon.display().to_string()])
        .args(
            options
                .iter()
                .flat_map(|(k, v)| ["--set".to_string(), format!("{k}={v}")]),
        )
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("start mitmdump");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "mitmdump did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Proxy { child, port, log }
}

#[test]
fn at_20_percent_throttles_5_percent_resets_and_unseen_ids_every_resource_ends_tagged() {
    let world = World::build(
        "twf",
        &[OWN_ACCOUNT, "210000000004"],
        &["us-east-1", "eu-west-1"],
        false,
    );
    let proxy = start_proxy_set(&[
        ("throttle_permille", "200".into()),
        ("reset_permille", "50".into()),
        ("unseen", "1".into()),
    ]);
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let run = tagwarden(&[
        "apply",
        "--endpoint-url",
        &url,
        "--assume-role",
        ROLE,
        "--retry-base-ms",
        "50",
        "--retries",
        "8",
        "--format",
        "json",
        &world.logs.display().to_string(),
    ]);
    let log = std::fs::read_to_string(&proxy.log).unwrap();
    let throttles = log.matches("FAULT throttle").count();
    let resets = log.matches("FAULT reset").count();
    let unseen = log.matches("FAULT unseen").count();
    assert!(
        throttles > 0 && resets > 0 && unseen > 0,
        "no faults injected:\n{log}"
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let outcomes = doc["resources"].as_array().unwrap();
    assert_eq!(outcomes.len(), world.resources().len());
    assert!(
        outcomes.iter().all(|o| o["status"] == "tagged"),
        "{outcomes:#?}"
    );
    // Read back past the proxy: the tags are really there.
    let now = world.tags_now();
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(now[arn]["ManagedBy"], "tagwarden", "{arn}");
        for (k, v) in tag_map(&r["added"]) {
            assert_eq!(now[arn][&k], v, "{arn}: {k} was overwritten");
        }
    }
    eprintln!("faults injected: {throttles} throttles, {resets} resets");
}

/// EC2 does not see at once what it has just created: a CreateTags naming
/// such ids fails as a whole and names them (the proxy refuses each id the
/// first time it is asked about). The rest of the call is written at once,
/// without them; they go again alone, and every resource ends tagged.
#[test]
fn ids_ec2_cannot_see_yet_go_again_alone_after_the_rest() {
    let world = World::build("twu", &[OWN_ACCOUNT], &["us-east-1"], false);
    let proxy = start_proxy_set(&[("unseen", "1".into()), ("count", "1".into())]);
    let run = tagwarden(&[
        "apply",
        "--endpoint-url",
        &proxy.url(),
        "--assume-role",
        ROLE,
        "--format",
        "json",
        &world.logs.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcomes = run.json()["resources"].as_array().unwrap().clone();
    assert_eq!(outcomes.len(), world.resources().len());
    assert!(
        outcomes.iter().all(|o| o["status"] == "tagged"),
        "{outcomes:#?}"
    );
    // The CreateTags calls in order, each with the ids it was refused for.
    let log = std::fs::read_to_string(&proxy.log).unwrap();
    let mut calls: Vec<(BTreeSet<&str>, BTreeSet<&str>)> = Vec::new();
    for line in log.lines() {
        if let Some(ids) = line.strip_prefix("CALL CreateTags ") {
            calls.push((ids.split(' ').collect(), BTreeSet::new()));
        } else if let Some(rest) = line.strip_prefix("FAULT unseen ") {
            let refused = &mut calls.last_mut().expect("a refusal follows its call").1;
            refused.extend(rest.split(' ').skip(1));
        }
    }
    let refusals = calls.iter().filter(|(_, r)| !r.is_empty()).count();
    assert!(refusals > 0 && calls.len() > refusals, "{log}");
    // Refusals that left other ids, whose call is then made without them.
    assert!(
        calls
            .iter()
            .any(|(ids, r)| !r.is_empty() && ids.len() > r.len()),
        "no refused call held other ids:\n{log}"
    );
    for (n, (ids, refused)) in calls.iter().enumerate() {
        if refused.is_empty() {
            continue;
        }
        let rest: BTreeSet<&str> = ids.difference(refused).copied().collect();
        if !rest.is_empty() {
            assert_eq!(calls[n + 1].0, rest, "the rest goes next, at once");
        }
        assert!(
            calls[n + 1..].iter().any(|(later, _)| later == refused),
            "{refused:?} went again alone:\n{log}"
        );
    }
    // Read back past the proxy: the tags are there.
    let now = world.tags_now();
    for r in world.resources() {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(now[arn]["ManagedBy"], "tagwarden", "{arn}");
    }
}

/// DynamoDB hands back half of many batches unprocessed and throttles a
/// tenth of all calls: the store retries exactly what was left, and every
/// case of the shared suite still holds.
#[test]
fn the_dynamodb_store_retries_unprocessed_items_and_keys() {
    let proxy = start_proxy_with(100, 0, 500);
    let url = format!("http://127.0.0.1:{}", proxy.port);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(&url)
                .region(aws_config::Region::new("us-east-1"))
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
                .load()
                .await;
            let store = tagwarden_store::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                tagwarden_store::url::Tables::with_suffix(&format!(
                    "faults-{}",
                    std::process::id()
                )),
            );
            tagwarden_store::suite::run_all(&store, "faults").await;
        });
    let log = std::fs::read_to_string(&proxy.log).unwrap();
    assert!(
        log.matches("FAULT unprocessed dynamodb").count() >= 3,
        "too few unprocessed batches injected:\n{log}"
    );
    assert!(
        log.contains("FAULT throttle dynamodb"),
        "no throttling injected:\n{log}"
    );
}

/// The CLI waits for a resource that refuses tags while it is being
/// created (the proxy answers so twice), within its deadline, and records
/// it pending, then tagged; with no time to wait it fails, to be retried.
#[test]
fn apply_waits_for_a_resource_being_created_until_its_deadline() {
    let world = World::build("tcw", &[OWN_ACCOUNT], &["us-east-1"], false);
    let db = world
        .resources()
        .iter()
        .find(|r| r["type"] == "rds:db")
        .map(|r| r["arn"].as_str().unwrap().to_string())
        .unwrap();
    let dir = temp_dir("tcw-store");
    let store = format!("sqlite:{}", dir.join("tw.db").display());
    let apply = |proxy: &Proxy, wait: &str| {
        tagwarden(&[
            "apply",
            "--endpoint-url",
            &proxy.url(),
            "--store",
            &store,
            "--wait",
            wait,
            "--wait-unit-ms",
            "1",
            "--format",
            "json",
            &world.logs.display().to_string(),
        ])
    };
    let status = |run: &crate::support::Run| -> String {
        assert!(!run.stdout.is_empty(), "{}", run.stderr);
        let doc = run.json();
        let o = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["arn"] == db.as_str());
        o.map(|o| o["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };

    // No time to wait: failed, not ready.
    let proxy = start_proxy_set(&[("creating", format!("{db}=1"))]);
    let run = apply(&proxy, "0s");
    assert_eq!(status(&run), "failed", "{}", run.stdout);
    assert!(run.stderr.contains("(not_ready)"), "{}", run.stderr);
    assert_eq!(run.code, 1);
    drop(proxy);

    // Within the deadline: tried again after each pause, then tagged.
    let proxy = start_proxy_set(&[("creating", format!("{db}=2"))]);
    let run = apply(&proxy, "10m");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status(&run), "tagged", "{}", run.stdout);
    assert_eq!(
        run.stderr.matches("still being created").count(),
        2,
        "{}",
        run.stderr
    );
    let history = tagwarden(&["history", &db, "--store", &store, "--format", "json"]);
    let changes: Vec<String> = history.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"].as_str().unwrap().to_string())
        .collect();
    assert!(changes.contains(&"pending".to_string()), "{changes:?}");
    assert!(changes.contains(&"tagged".to_string()), "{changes:?}");
}
