//! The Lambda function end to end: the real `bootstrap` binary, run against
//! a Lambda Runtime API served here (next event / response / error), with
//! its environment pointing at the resources the SAM template created as a
//! stack in moto. What it did is read back through each service's own API.

use crate::moto::{endpoint, iam_python, python, world_py, Recording, World, OWN_ACCOUNT};
use crate::support::{ec2_call, repo, temp_dir};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tagwarden_store::model::{Entry, Evidence, Source};
use tagwarden_store::AuditStore;

/// The binary `scripts/test.sh` builds beside this test's own.
fn bootstrap() -> PathBuf {
    if let Ok(p) = std::env::var("TAGWARDEN_BOOTSTRAP") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("bootstrap");
    assert!(
        p.is_file(),
        "{} is missing: `cargo build --workspace --all-targets` (scripts/test.sh does) first",
        p.display()
    );
    p
}

/// What the function posted back for one invocation.
#[derive(Debug)]
enum Answer {
    Response(Value),
    Error(Value),
}

/// A Runtime API: hands out queued events, collects answers.
struct RuntimeApi {
    address: String,
    events: Sender<(String, Value)>,
    answers: Receiver<(String, Answer)>,
}

impl RuntimeApi {
    fn start() -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let address = server.server_addr().to_ip().unwrap().to_string();
        let (events, queued) = channel::<(String, Value)>();
        let (answered, answers) = channel();
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let url = req.url().to_string();
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                if url.ends_with("/runtime/invocation/next") {
                    // Long poll, as Lambda does; the test hangs up by
                    // dropping its sender.
                    let Ok((id, event)) = queued.recv() else {
                        return;
                    };
                    let header = |k: &str, v: &str| {
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
                    };
                    let deadline = (std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        + Duration::from_secs(300))
                    .as_millis()
                    .to_string();
                    let resp = tiny_http::Response::from_string(event.to_string())
                        .with_header(header("Lambda-Runtime-Aws-Request-Id", &id))
                        .with_header(header("Lambda-Runtime-Deadline-Ms", &deadline))
                        .with_header(header(
                            "Lambda-Runtime-Invoked-Function-Arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:tagwarden-e2e",
                        ))
                        .with_header(header("Lambda-Runtime-Trace-Id", "Root=1-0-0"))
                        .with_header(header("Content-Type", "application/json"));
                    let _ = req.respond(resp);
                    continue;
                }
                let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                let parts: Vec<&str> = url.trim_matches('/').split('/').collect();
                let answer = match parts.as_slice() {
                    [_, "runtime", "invocation", id, "response"] => {
                        Some((id.to_string(), Answer::Response(parsed)))
                    }
                    [_, "runtime", "invocation", id, "error"] => {
                        Some((id.to_string(), Answer::Error(parsed)))
                    }
                    [_, "runtime", "init", "error"] => {
                        Some(("init".to_string(), Answer::Error(parsed)))
                    }
                    _ => None,
                };
                let _ = req.respond(tiny_http::Response::empty(202));
                if let Some(a) = answer {
                    let _ = answered.send(a);
                }
            }
        });
        Self {
            address,
            events,
            answers,
        }
    }

    fn invoke(&self, id: &str, event: Value) -> Answer {
        self.events.send((id.to_string(), event)).unwrap();
        match self.answers.recv_timeout(Duration::from_secs(240)) {
            Ok((got, answer)) => {
                assert_eq!(got, id, "{answer:?}");
                answer
            }
            Err(RecvTimeoutError::Timeout) => panic!("{id}: no answer within 240 s"),
            Err(e) => panic!("{id}: {e}"),
        }
    }
}

/// A webhook receiver: each path answers with the statuses scripted for
/// it, in turn (200 when they run out), and every post is kept.
struct Hooks {
    address: String,
    posts: Arc<Mutex<Vec<Post>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
}

#[derive(Debug, PartialEq)]
struct Post {
    path: String,
    /// What the receiver answered.
    status: u16,
    body: Value,
    authorization: Option<String>,
}

impl Hooks {
    fn start() -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let address = server.server_addr().to_ip().unwrap().to_string();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<HashMap<String, VecDeque<u16>>>> = Arc::default();
        let (kept, scripted) = (Arc::clone(&posts), Arc::clone(&script));
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let path = req.url().to_string();
                let status = scripted
                    .lock()
                    .unwrap()
                    .get_mut(&path)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(200);
                let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
                let authorization = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Authorization"))
                    .map(|h| h.value.to_string());
                kept.lock().unwrap().push(Post {
                    path,
                    status,
                    body,
                    authorization,
                });
                let _ = req.respond(tiny_http::Response::empty(status));
            }
        });
        Self {
            address,
            posts,
            script,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn answer(&self, path: &str, statuses: &[u16]) {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_string(), statuses.iter().copied().collect());
    }

    /// The posts since the last call.
    fn take(&self) -> Vec<Post> {
        std::mem::take(&mut *self.posts.lock().unwrap())
    }
}

/// The running function and every line it printed.
struct Function {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Function {
    fn start(api: &RuntimeApi, env: &BTreeMap<String, String>) -> Self {
        let mut child = Command::new(bootstrap())
            .envs(env)
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "tagwarden-e2e")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&stdout);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Self { child, stdout }
    }

    fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// EMF lines: JSON objects with CloudWatch metric metadata.
    fn metrics(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["_aws"]["CloudWatchMetrics"].is_array())
            .collect()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn deploy(suffix: &str) -> BTreeMap<String, String> {
    let out = Command::new(python())
        .arg(repo().join("crates/cli/tests/deploy/translate.py"))
        .arg(repo().join("deploy/template.yaml"))
        .args(["--deploy", suffix])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["status"], "CREATE_COMPLETE", "{got}");
    got["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// The function's environment naming the stack's tables.
fn stack_env(environment: &str, outputs: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    [
        ("TAGWARDEN_ENVIRONMENT", environment),
        (
            "TAGWARDEN_TAGS_METADATA_TABLE",
            &outputs["TagsMetadataTableName"],
        ),
        (
            "TAGWARDEN_TAG_HISTORY_TABLE",
            &outputs["TagHistoryTableName"],
        ),
        (
            "TAGWARDEN_USER_ACTIONS_TABLE",
            &outputs["UserActionsTableName"],
        ),
        ("TAGWARDEN_EVIDENCE_TABLE", &outputs["EvidenceTableName"]),
        ("TAGWARDEN_SESSIONS_TABLE", &outputs["SessionsTableName"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn py_json(args: &[&str]) -> Value {
    serde_json::from_str(&world_py(args)).unwrap()
}

fn s3_notification(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-20T10:05:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0",
               "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key.replace(' ', "+"), "size": 1000}}}]})
}

#[test]
fn the_function_attributes_a_trail_log_records_alerts_and_a_replay_changes_nothing() {
    let outputs = deploy("e2e");
    let trail = &outputs["TrailBucketName"];
    let topic = &outputs["AlertTopicArn"];
    let alerts = world_py(&["subscribe", topic]);
    let alerts: String = serde_json::from_str(&alerts).unwrap();

    let world = World::build("twl", &[OWN_ACCOUNT], &["us-east-1"], false);
    let keys = py_json(&["put-logs", trail, &world.logs.display().to_string()]);
    let keys: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");

    // The alert webhook's URL, a secret as in production.
    let hooks = Hooks::start();
    let secret_name = "tagwarden/e2e-webhook";
    let secret = py_json(&[
        "secret-put",
        secret_name,
        &json!({"url": hooks.url("/hook-a"), "headers": {"Authorization": "Bearer e2e-token"}})
            .to_string(),
    ]);

    // The template's variables, with the stack's names.
    let mut env = stack_env("e2e", &outputs);
    env.extend(
        [
            ("TAGWARDEN_ALERT_TOPIC", topic.as_str()),
            (
                "TAGWARDEN_SCAN_LOG",
                &format!("s3://{}/tagwarden", outputs["ScanLogBucketName"]),
            ),
            ("TAGWARDEN_POLICY_PARAMETER", ""),
            ("TAGWARDEN_METRICS_NAMESPACE", "TagCompliance"),
            ("TAGWARDEN_MEMBER_ROLE", ""),
            ("TAGWARDEN_TRAIL_BUCKET", trail),
            ("TAGWARDEN_ALERT_WEBHOOK_SECRET", secret.as_str().unwrap()),
            // Its own key, so that its calls stand apart in moto's recording.
            ("AWS_ACCESS_KEY_ID", FUNCTION_KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let api = RuntimeApi::start();
    let recording = Recording::start();
    let function = Function::start(&api, &env);

    let notification = s3_notification(trail, keys[0]);
    let Answer::Response(first) = api.invoke("req-1", notification.clone()) else {
        panic!("first invocation failed:\n{}", function.lines().join("\n"))
    };
    let unsupported = world.unsupported();
    let resources = world.resources();
    assert_eq!(
        first["tagged"].as_u64().unwrap() as usize,
        resources.len(),
        "{first}\n{}",
        function.lines().join("\n")
    );
    assert_eq!(
        first["failed"].as_u64().unwrap() as usize,
        unsupported.len(),
        "{first}"
    );

    // Tagged, through each service's own API.
    let now = world.tags_now();
    for r in resources {
        let arn = r["arn"].as_str().unwrap();
        let tags = &now[arn];
        let account = r["account"].as_str().unwrap();
        // A key someone set (in the create call, or since) is theirs.
        let theirs = r["preset"].get("CreatedBy").or(r["added"].get("CreatedBy"));
        let want = match theirs {
            Some(v) => v.as_str().unwrap().to_string(),
            None => format!("arn:aws:sts::{account}:assumed-role/Deployer/alice"),
        };
        assert_eq!(tags.get("CreatedBy"), Some(&want), "{arn}: {tags:?}");
        assert_eq!(
            tags.get("ManagedBy").map(String::as_str),
            Some("tagwarden"),
            "{arn}"
        );
    }

    // Recorded in the stack's tables.
    let history = py_json(&["table-items", &outputs["TagHistoryTableName"]]);
    let rows = |change: &str| -> Vec<String> {
        history
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["change"] == change)
            .map(|i| i["arn"].as_str().unwrap().to_string())
            .collect()
    };
    let tagged = rows("tagged");
    // Each write's AWS request id, to find it in the account's CloudTrail.
    for row in history
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["change"] == "tagged")
    {
        let id = row["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "no request id: {row}");
    }
    for r in resources {
        let arn = r["arn"].as_str().unwrap();
        assert!(
            tagged.iter().any(|a| a == arn),
            "{arn}: no `tagged` history row"
        );
    }
    assert_eq!(rows("failed").len(), unsupported.len());
    let history_rows = history.as_array().unwrap().len();
    let metadata = py_json(&["table-items", &outputs["TagsMetadataTableName"]]);
    assert!(metadata.as_array().unwrap().len() >= resources.len() + unsupported.len());

    // One alert for the whole invocation: the new resources miss the
    // policy's required keys, and the refused ones are listed.
    let messages = py_json(&["queue-read", &alerts]);
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let alert = messages[0].as_str().unwrap();
    assert!(alert.contains("do not meet the tag policy"), "{alert}");
    assert!(
        alert.contains(resources[0]["arn"].as_str().unwrap()),
        "{alert}"
    );
    for arn in &unsupported {
        assert!(alert.contains(arn), "{arn} not in the alert");
    }

    // The same alert, posted to the secret's webhook.
    let posts = hooks.take();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let Post {
        path,
        status,
        body: payload,
        authorization,
    } = &posts[0];
    assert_eq!((path.as_str(), *status), ("/hook-a", 200));
    assert_eq!(authorization.as_deref(), Some("Bearer e2e-token"));
    assert_eq!(payload["body"], alert, "{payload}");
    assert_eq!(payload["environment"], "e2e");
    assert!(
        payload["text"].as_str().unwrap().starts_with("*[e2e] "),
        "{payload}"
    );

    // EMF metrics on stdout: tagged and failed counts, and compliance.
    let metrics = function.metrics();
    let total = |name: &str| {
        metrics
            .iter()
            .find(|m| m.get("ResourceType").is_none() && m.get(name).is_some())
            .and_then(|m| m[name].as_u64())
    };
    assert_eq!(total("Tagged"), Some(resources.len() as u64), "{metrics:?}");
    assert_eq!(total("Failed"), Some(unsupported.len() as u64));
    // The compliance gauges are the scan's: new resources are in the alert.
    assert_eq!(total("NonCompliantResources"), None, "{metrics:?}");
    // Logs are JSON with the request id.
    assert!(
        function
            .lines()
            .iter()
            .any(|l| l.contains(r#""level":"INFO""#) && l.contains("req-1")),
        "{}",
        function.lines().join("\n")
    );

    // The same notification again: nothing is written, recorded or sent.
    let Answer::Response(second) = api.invoke("req-2", notification) else {
        panic!("replay failed:\n{}", function.lines().join("\n"))
    };
    assert_eq!(second["tagged"], 0, "{second}");
    assert_eq!(world.tags_now(), now);
    let again = py_json(&["table-items", &outputs["TagHistoryTableName"]]);
    assert_eq!(again.as_array().unwrap().len(), history_rows);
    let messages = py_json(&["queue-read", &alerts]);
    let messages = messages.as_array().unwrap();
    // The refused resources are alerted again (they are still not tagged);
    // nothing about the compliance of the ones already tagged.
    assert_eq!(
        messages.len(),
        usize::from(!unsupported.is_empty()),
        "{messages:?}"
    );
    for m in messages {
        let m = m.as_str().unwrap();
        assert!(!m.contains("do not meet"), "{m}");
        for arn in &unsupported {
            assert!(m.contains(arn), "{arn} not in the replay's alert");
        }
    }
    assert_eq!(hooks.take().len(), messages.len());
    let metadata_again = py_json(&["table-items", &outputs["TagsMetadataTableName"]]);
    assert_eq!(metadata_again, metadata);
    let actions = py_json(&["table-items", &outputs["UserActionsTableName"]]);

    // A notification for any bucket but the trail's is refused unread.
    let Answer::Error(foreign) = api.invoke("req-2b", s3_notification("elsewhere", keys[0])) else {
        panic!("a foreign bucket was read")
    };
    assert!(
        foreign.to_string().contains("not the trail bucket"),
        "{foreign}"
    );
    assert_eq!(
        py_json(&["table-items", &outputs["UserActionsTableName"]]),
        actions
    );

    // An SQS batch: a state change is checked, a stranger is refused, and
    // only the stranger is handed back.
    let instance = resources
        .iter()
        .find(|r| r["type"] == "ec2:instance")
        .unwrap();
    let change = json!({"version": "0", "id": "e-1", "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2", "account": OWN_ACCOUNT, "time": "2026-11-20T10:06:00Z", "region": "us-east-1",
        "resources": [instance["arn"]], "detail": {"instance-id": instance["id"], "state": "running"}});
    let message = |id: &str, body: String| {
        json!({"messageId": id, "receiptHandle": "h", "body": body, "attributes": {},
               "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tagwarden-events-e2e", "awsRegion": "us-east-1"})
    };
    // The webhook's URL is rotated; the function still holds the old
    // value, which the receiver now refuses (410 Gone): it reads the secret
    // again, and the new receiver's first try fails (503) and is retried.
    py_json(&[
        "secret-put",
        secret_name,
        &json!({"url": hooks.url("/hook-b")}).to_string(),
    ]);
    hooks.answer("/hook-a", &[410]);
    hooks.answer("/hook-b", &[503]);
    let batch = json!({"Records": [
        message("m-1", change.to_string()),
        message("m-2", r#"{"hello":"world"}"#.to_string()),
    ]});
    let Answer::Response(partial) = api.invoke("req-3", batch.clone()) else {
        panic!("batch failed:\n{}", function.lines().join("\n"))
    };
    assert_eq!(
        partial,
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );
    let messages = py_json(&["queue-read", &alerts]);
    let checked = messages.as_array().unwrap();
    assert_eq!(checked.len(), 1, "{checked:?}");
    assert!(checked[0]
        .as_str()
        .unwrap()
        .contains(instance["arn"].as_str().unwrap()));
    let tries = |posts: &[Post]| -> Vec<(String, u16)> {
        posts.iter().map(|p| (p.path.clone(), p.status)).collect()
    };
    let posts = hooks.take();
    assert_eq!(
        tries(&posts),
        [
            ("/hook-a".into(), 410),
            ("/hook-b".into(), 503),
            ("/hook-b".into(), 200)
        ],
        "{}",
        function.lines().join("\n")
    );
    assert_eq!(posts[2].body["body"], checked[0]);

    // The receiver now refuses the current value too (a deleted hook): the
    // secret is read again, unchanged, so the alert goes to SNS only, and
    // the next invocation does not try that URL again.
    hooks.answer("/hook-b", &[404]);
    for id in ["req-3b", "req-3c"] {
        let Answer::Response(again) = api.invoke(id, batch.clone()) else {
            panic!("{id} failed:\n{}", function.lines().join("\n"))
        };
        assert_eq!(again, partial, "{id}");
        assert_eq!(
            py_json(&["queue-read", &alerts]).as_array().unwrap().len(),
            1
        );
    }
    assert_eq!(tries(&hooks.take()), [("/hook-b".into(), 404)]);
    assert!(
        function
            .lines()
            .iter()
            .any(|l| l.contains("refused the secret's url lately")),
        "{}",
        function.lines().join("\n")
    );

    // An event of no known shape: refused as an error, nothing done.
    let Answer::Error(refused) = api.invoke(
        "req-4",
        json!({"detail-type": "Something", "source": "my.app"}),
    ) else {
        panic!("a stranger was accepted")
    };
    assert!(refused.to_string().contains("event refused"), "{refused}");
    assert_eq!(py_json(&["queue-read", &alerts]), json!([]));
    assert_eq!(hooks.take(), []);
    // The URL is a secret: logs name its host, never the URL.
    let leaked: Vec<String> = function
        .lines()
        .into_iter()
        .filter(|l| l.contains("/hook-"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    assert!(
        function
            .lines()
            .iter()
            .any(|l| l.contains("alert sent to the webhook") && l.contains("127.0.0.1")),
        "{}",
        function.lines().join("\n")
    );
    drop(function);

    // With remediation on, the check fills what the policy's templates can
    // (Owner from CreatedBy), once.
    let api = RuntimeApi::start();
    env.insert("TAGWARDEN_REMEDIATE".into(), "true".into());
    let function = Function::start(&api, &env);
    let arn = instance["arn"].as_str().unwrap();
    // The same delivery twice (a retry keeps the request id).
    for (id, want) in [("req-5", 1), ("req-5", 0)] {
        let Answer::Response(out) = api.invoke(id, change.clone()) else {
            panic!("{id} failed:\n{}", function.lines().join("\n"))
        };
        assert_eq!(out["remediated"], want, "{id}: {out}");
    }
    let tags = &world.tags_now()[arn];
    assert_eq!(tags.get("Owner"), tags.get("CreatedBy"), "{tags:?}");
    let history = py_json(&["table-items", &outputs["TagHistoryTableName"]]);
    let remediations: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["event_name"] == "RemediateTags")
        .collect();
    assert_eq!(remediations.len(), 1, "{remediations:?}");
    assert_eq!(remediations[0]["arn"], arn);
    drop(function);

    // Every AWS call the function made is one its role grants: a call
    // added later without its grant fails here (actions only; moto checks
    // no IAM, the templates' resources are checked in deploy.rs).
    let path = temp_dir("twl-calls").join("recording.jsonl");
    recording.save(&path);
    let out = Command::new(iam_python())
        .arg(repo().join("crates/cli/tests/deploy/iam_check.py"))
        .arg("calls")
        .arg(&path)
        .arg(repo().join("deploy/template.yaml"))
        .args(["FunctionRole", "--access-key", FUNCTION_KEY])
        .output()
        .expect("run iam_check.py (scripts/test.sh makes its venv)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Value = serde_json::from_str(&report).unwrap();
    for made in [
        "s3:GetObject",
        "dynamodb:PutItem",
        "sns:Publish",
        "ec2:CreateTags",
    ] {
        assert!(calls["calls"][made].as_u64() > Some(0), "{made}: {report}");
    }
}

/// The function's access key in moto (any key is accepted there).
const FUNCTION_KEY: &str = "AKIATAGWARDENE2E0001";

/// The store refuses the first delivery's rows after the tags were
/// written; the redelivery finds the tags there, as this event wrote them,
/// and records them as its own write, once.
#[test]
fn a_redelivery_after_the_store_failed_records_what_the_first_delivery_wrote() {
    let outputs = deploy("e2r");
    let history_table = &outputs["TagHistoryTableName"];
    let id: String = py_json(&["instance-new", "us-east-1"])
        .as_str()
        .unwrap()
        .into();
    let arn = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}");
    let creator = format!("arn:aws:sts::{OWN_ACCOUNT}:assumed-role/Deployer/alice");
    let record = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2", "eventID": "e2r-run-1", "readOnly": false, "eventType": "AwsApiCall",
        "recipientAccountId": OWN_ACCOUNT,
        "userIdentity": {"type": "AssumedRole", "arn": creator, "accountId": OWN_ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Deployer",
                "arn": format!("arn:aws:iam::{OWN_ACCOUNT}:role/Deployer"), "accountId": OWN_ACCOUNT}}},
        "requestParameters": {"instanceType": "t3.micro"},
        "responseElements": {"instancesSet": {"items": [{"instanceId": id}]}},
    });
    let event = json!({"version": "0", "id": "eb-e2r-1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": OWN_ACCOUNT, "time": "2026-11-20T10:00:05Z", "region": "us-east-1",
        "resources": [], "detail": record});
    // As the template delivers it: through the event queue.
    let message = json!({"Records": [{"messageId": "m-e2r", "receiptHandle": "h", "body": event.to_string(),
        "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"}]});
    let env = |history: &str| -> BTreeMap<String, String> {
        [
            ("TAGWARDEN_ENVIRONMENT", "e2r"),
            (
                "TAGWARDEN_TAGS_METADATA_TABLE",
                &outputs["TagsMetadataTableName"],
            ),
            ("TAGWARDEN_TAG_HISTORY_TABLE", history),
            (
                "TAGWARDEN_USER_ACTIONS_TABLE",
                &outputs["UserActionsTableName"],
            ),
            ("TAGWARDEN_EVIDENCE_TABLE", &outputs["EvidenceTableName"]),
            ("TAGWARDEN_SESSIONS_TABLE", &outputs["SessionsTableName"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let tags = || -> BTreeMap<String, String> {
        serde_json::from_value(py_json(&["tags-now", "us-east-1", &arn])[&arn].clone()).unwrap()
    };
    let ours = |rows: &Value| -> Vec<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["arn"] == arn.as_str())
            .map(|r| r["change"].as_str().unwrap().to_string())
            .collect()
    };

    // The history table is missing: the tags are written, the rows refused,
    // and the invocation fails, to be delivered again.
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env("TagHistory-missing"));
    let Answer::Response(refused) = api.invoke("r-1", message.clone()) else {
        panic!("the batch failed whole:\n{}", function.lines().join("\n"))
    };
    assert_eq!(
        refused,
        json!({"batchItemFailures": [{"itemIdentifier": "m-e2r"}]})
    );
    assert!(
        function
            .lines()
            .iter()
            .any(|l| l.contains("TagHistory-missing")),
        "{}",
        function.lines().join("\n")
    );
    let written = tags();
    assert_eq!(written.get("CreatedBy"), Some(&creator), "{written:?}");
    assert!(ours(&py_json(&["table-items", history_table])).is_empty());
    drop(function);

    // Delivered again, with the store back: nothing to write, and the first
    // delivery's write is recorded.
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env(history_table));
    for (n, request) in ["r-1", "r-1"].iter().enumerate() {
        let Answer::Response(out) = api.invoke(request, message.clone()) else {
            panic!("redelivery {n} failed:\n{}", function.lines().join("\n"))
        };
        assert_eq!(out, json!({"batchItemFailures": []}), "redelivery {n}");
        let mut changes = ours(&py_json(&["table-items", history_table]));
        changes.sort();
        assert_eq!(changes, ["created", "tagged"], "redelivery {n}");
    }
    assert_eq!(tags(), written);
    let history = py_json(&["table-items", history_table]);
    let tagged = history
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["arn"] == arn.as_str() && r["change"] == "tagged")
        .unwrap();
    assert_eq!(tagged["event_id"], "e2r-run-1", "{tagged}");
    assert_eq!(tagged["actor"], "tagwarden", "{tagged}");
}

/// A message that no redelivery can make acceptable is parked in the DLQ
/// at once, with why, instead of being received until the redrive policy
/// moves it; when the DLQ refuses it too, it is handed back.
#[test]
fn a_refused_message_is_parked_in_the_dead_letter_queue_at_once() {
    let outputs = deploy("e2q");
    let dlq = &outputs["DeadLetterQueueUrl"];
    let env = |queue: &str| -> BTreeMap<String, String> {
        [
            ("TAGWARDEN_ENVIRONMENT", "e2q"),
            ("TAGWARDEN_TABLE_SUFFIX", "e2q"),
            ("TAGWARDEN_DEAD_LETTER_QUEUE", queue),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let nested = json!({"Records": [{"eventSource": "aws:sqs", "messageId": "x", "body": "{}"}]});
    let batch = json!({"Records": [
        {"messageId": "q-1", "body": r#"{"hello":"world"}"#, "eventSource": "aws:sqs"},
        {"messageId": "q-2", "body": nested.to_string(), "eventSource": "aws:sqs"},
    ]});

    let api = RuntimeApi::start();
    let function = Function::start(&api, &env(dlq));
    let Answer::Response(out) = api.invoke("q-run-1", batch.clone()) else {
        panic!("batch failed:\n{}", function.lines().join("\n"))
    };
    assert_eq!(out, json!({"batchItemFailures": []}));
    let mut parked = py_json(&["dead-letters", dlq]).as_array().unwrap().clone();
    parked.sort_by_key(|m| m["attributes"]["tagwarden-message-id"].to_string());
    assert_eq!(parked.len(), 2, "{parked:?}");
    assert_eq!(parked[0]["body"], r#"{"hello":"world"}"#);
    assert_eq!(parked[1]["body"], nested.to_string());
    let why = |m: &Value| {
        m["attributes"]["tagwarden-refused"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        why(&parked[0]).starts_with("event refused: only EventBridge events"),
        "{}",
        why(&parked[0])
    );
    assert!(
        why(&parked[1]).contains("an SQS batch inside an SQS message"),
        "{}",
        why(&parked[1])
    );
    drop(function);

    // A DLQ that is not there: both are handed back, nothing is lost.
    let gone = format!("{}/{OWN_ACCOUNT}/tagwarden-dlq-gone", endpoint());
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env(&gone));
    let Answer::Response(out) = api.invoke("q-run-2", batch) else {
        panic!("batch failed:\n{}", function.lines().join("\n"))
    };
    assert_eq!(
        out,
        json!({"batchItemFailures": [{"itemIdentifier": "q-1"}, {"itemIdentifier": "q-2"}]})
    );
    assert_eq!(py_json(&["dead-letters", dlq]), json!([]));
}

#[test]
fn a_bad_configuration_stops_the_function_at_init_naming_the_variable() {
    let api = RuntimeApi::start();
    let env: BTreeMap<String, String> = [
        ("TAGWARDEN_ENVIRONMENT", "e2e"),
        ("TAGWARDEN_TABLE_SUFFIX", "e2e"),
        ("TAGWARDEN_ALERT_TOPIC", "not-an-arn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut function = Function::start(&api, &env);
    let status = function.child.wait().unwrap();
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(200));
    let lines = function.lines().join("\n");
    assert!(lines.contains("TAGWARDEN_ALERT_TOPIC"), "{lines}");
    assert!(lines.contains("not an SNS topic ARN"), "{lines}");
}

/// An RDS instance refuses tags while it is being created (the proxy
/// answers so once): the function records it `pending` and sends the
/// delivery back to the event queue, delayed; the delivery that comes back
/// with its attempt tags it.
#[test]
fn a_resource_being_created_waits_in_the_event_queue_then_is_tagged() {
    let outputs = deploy("e2w");
    let db = py_json(&["db-new", "us-east-1", "e2w-db"]);
    let db = db.as_str().unwrap();
    let proxy = crate::faults::start_proxy_set(&[("creating", format!("{db}=1"))]);
    let queue = outputs["EventQueueUrl"].clone();
    let record = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-20T11:00:00Z", "eventSource": "rds.amazonaws.com",
        "eventName": "CreateDBInstance", "awsRegion": "us-east-1", "eventID": "e2w-db-1",
        "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": OWN_ACCOUNT,
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice"),
                         "accountId": OWN_ACCOUNT},
        "requestParameters": {"dBInstanceIdentifier": "e2w-db"},
        "responseElements": {"dBInstanceArn": db, "dBInstanceIdentifier": "e2w-db"},
    });
    let event = json!({"version": "0", "id": "eb-e2w-1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.rds", "account": OWN_ACCOUNT, "time": "2026-11-20T11:00:05Z",
        "region": "us-east-1", "resources": [], "detail": record});
    let message = |attempt: Option<u32>| {
        let mut m = json!({"eventSource": "aws:sqs", "awsRegion": "us-east-1",
            "messageId": format!("e2w-{attempt:?}"), "body": event.to_string(),
            "attributes": {"SentTimestamp": "1763636405000"}});
        if let Some(n) = attempt {
            m["messageAttributes"] =
                json!({"tagwarden-attempt": {"stringValue": n.to_string(), "dataType": "Number"}});
        }
        json!({"Records": [m]})
    };
    let mut env = stack_env("e2w", &outputs);
    env.insert("TAGWARDEN_EVENT_QUEUE".into(), queue.clone());
    env.insert("AWS_ENDPOINT_URL".into(), proxy.url());
    let state = || -> String {
        let items = py_json(&["table-items", &outputs["TagsMetadataTableName"]]);
        let item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["arn"] == db)
            .cloned();
        item.map(|i| i["state"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let delayed = || py_json(&["queue-delayed", &queue]).as_u64().unwrap();
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);

    // The first delivery: pending, sent back, and done.
    let Answer::Response(first) = api.invoke("w-1", message(None)) else {
        panic!("{}", function.lines().join("\n"))
    };
    assert_eq!(
        first,
        json!({"batchItemFailures": []}),
        "{}",
        function.lines().join("\n")
    );
    assert_eq!(state(), "pending");
    assert_eq!(delayed(), 1, "sent back with a delay");
    let untagged = py_json(&["tags-now", "us-east-1", db]);
    assert!(untagged[db].get("CreatedBy").is_none(), "{untagged}");

    // It comes back with its attempt: tagged, and nothing sent again.
    let Answer::Response(second) = api.invoke("w-2", message(Some(1))) else {
        panic!("{}", function.lines().join("\n"))
    };
    assert_eq!(second, json!({"batchItemFailures": []}));
    assert_eq!(state(), "tagged");
    assert_eq!(delayed(), 1);
    let tags = py_json(&["tags-now", "us-east-1", db]);
    assert_eq!(
        tags[db]["CreatedBy"],
        format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice")
    );
}

/// Who may speak, end to end. Forged SQS bodies (a bare record, a stranger's
/// envelope, a direct payload, a foreign bucket) are parked in the DLQ at
/// once with why; CloudTrail at the top level and a loose direct invocation
/// are refused; a trail-bucket log's records of another account than its
/// key, or of an account outside the scope, are refused while the rest is
/// applied; a valid direct invocation writes attribution keys only and
/// replaces nothing, even under `overwrite: true`.
#[test]
fn forged_inputs_are_refused_where_they_enter() {
    let outputs = deploy("e2f");
    let dlq = &outputs["DeadLetterQueueUrl"];
    let trail = &outputs["TrailBucketName"];
    let history_table = &outputs["TagHistoryTableName"];
    let topic = &outputs["AlertTopicArn"];
    let alerts: String = serde_json::from_str(&world_py(&["subscribe", topic])).unwrap();
    let new_instance = |tags: Value| -> String {
        let id = py_json(&["instance-new", "us-east-1", &tags.to_string()]);
        format!(
            "arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{}",
            id.as_str().unwrap()
        )
    };
    let (real, victim, third) = (
        new_instance(json!({})),
        new_instance(json!({})),
        new_instance(json!({})),
    );
    let preset = new_instance(json!({"CreatedBy": "terraform"}));
    let id_of = |arn: &str| arn.rsplit('/').next().unwrap().to_string();
    let alice = format!("arn:aws:sts::{OWN_ACCOUNT}:assumed-role/Deployer/alice");
    let scapegoat = format!("arn:aws:iam::{OWN_ACCOUNT}:user/scapegoat");
    let record = |event: &str, arn: &str, who: &str, account: &str| {
        json!({
            "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
            "eventID": event, "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": account,
            "userIdentity": {"type": if who.contains(":user/") { "IAMUser" } else { "AssumedRole" },
                "arn": who, "accountId": account},
            "requestParameters": {"instanceType": "t3.micro"},
            "responseElements": {"instancesSet": {"items": [{"instanceId": id_of(arn)}]}},
        })
    };
    let envelope = |source: &str, detail: Value| {
        json!({"version": "0", "id": "eb-1", "detail-type": "AWS API Call via CloudTrail", "source": source,
            "account": OWN_ACCOUNT, "time": "2026-11-20T10:00:05Z", "region": "us-east-1", "resources": [],
            "detail": detail})
    };
    let forged = record("forged-1", &victim, &scapegoat, OWN_ACCOUNT);

    let mut env = stack_env("e2f", &outputs);
    env.extend(
        [
            ("TAGWARDEN_TRAIL_BUCKET", trail.as_str()),
            ("TAGWARDEN_DEAD_LETTER_QUEUE", dlq.as_str()),
            ("TAGWARDEN_ALERT_TOPIC", topic.as_str()),
            (
                "TAGWARDEN_POLICY",
                "attribution:\n  overwrite: true\n  tags:\n    CreatedBy: \"{creator.arn}\"\n    CreatedDate: \"{event.time}\"\n    ManagedBy: tagwarden\n",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let tags = |arn: &str| -> BTreeMap<String, String> {
        serde_json::from_value(py_json(&["tags-now", "us-east-1", arn])[arn].clone()).unwrap()
    };

    // Through the queue: only the aws.* envelope is taken. Its creator
    // preset CreatedBy to someone else: a mismatch, corrected under
    // `overwrite: true`, recorded and alerted naming the real creator.
    let mut real_run = record("real-1", &real, &alice, OWN_ACCOUNT);
    real_run["requestParameters"]["tagSpecificationSet"] = json!({"items": [
        {"resourceType": "instance", "tags": [{"key": "CreatedBy", "value": scapegoat}]}]});
    let message = |id: &str, body: String| {
        json!({"messageId": id, "receiptHandle": "h", "body": body, "attributes": {},
               "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
    };
    let batch = json!({"Records": [
        message("f-record", forged.to_string()),
        message("f-source", envelope("my.app", forged.clone()).to_string()),
        message("f-direct", json!({"resource_arn": victim, "user": scapegoat}).to_string()),
        message("f-bucket", s3_notification("elsewhere", "AWSLogs/x/CloudTrail/k.json.gz").to_string()),
        message("ok", envelope("aws.ec2", real_run).to_string()),
    ]});
    let Answer::Response(out) = api.invoke("b-1", batch) else {
        panic!("batch failed:\n{}", logs())
    };
    assert_eq!(out, json!({"batchItemFailures": []}), "{}", logs());
    assert_eq!(tags(&real).get("CreatedBy"), Some(&alice));
    let alerts = py_json(&["queue-read", &alerts]);
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = alerts[0].as_str().unwrap();
    assert!(
        alert.contains("1 resources preset a protected key")
            && alert.contains(&format!(
                "{real}: CreatedBy preset to `{scapegoat}`; created by {alice}"
            )),
        "{alert}"
    );
    let mismatch = py_json(&["table-items", history_table]);
    let mismatch: Vec<&Value> = mismatch
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "attribution-mismatch")
        .collect();
    assert_eq!(mismatch.len(), 1, "{mismatch:?}");
    assert_eq!(mismatch[0]["arn"], real.as_str());
    assert_eq!(mismatch[0]["actor"], alice.as_str());
    let parked = py_json(&["dead-letters", dlq]);
    let why: BTreeMap<String, String> = parked
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let a = &m["attributes"];
            (
                a["tagwarden-message-id"].as_str().unwrap().to_string(),
                a["tagwarden-refused"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        why.keys().collect::<Vec<_>>(),
        ["f-bucket", "f-direct", "f-record", "f-source"]
    );
    assert!(why["f-source"].contains("source `my.app`"), "{why:?}");
    assert!(why["f-bucket"].contains("not the trail bucket"), "{why:?}");
    for w in [&why["f-record"], &why["f-direct"]] {
        assert!(w.contains("only EventBridge events"), "{why:?}");
    }

    // At the top level: CloudTrail is refused, and so is a direct
    // invocation with more than resource_arn and user, or of a stranger.
    for (payload, said) in [
        (forged.clone(), "taken only from the trail bucket"),
        (
            envelope("aws.ec2", forged.clone()),
            "taken only from the event queue",
        ),
        (
            json!({"resource_arn": victim, "user": alice, "tags": {"Owner": "mallory"}}),
            "`tags` is not taken",
        ),
        (
            json!({"resource_arn": victim, "user": "arn:aws:iam::999988887777:user/m"}),
            "outside the accounts in scope",
        ),
    ] {
        let Answer::Error(e) = api.invoke("t-1", payload.clone()) else {
            panic!("taken: {payload}\n{}", logs())
        };
        assert!(e.to_string().contains(said), "{e} should say {said}");
    }
    assert_eq!(tags(&victim).get("CreatedBy"), None, "{}", logs());

    // Planted logs: one keyed for this account holding another's record,
    // one keyed for an account outside the scope. Only `third` is tagged.
    let dir = temp_dir("forged-logs");
    let log = |account: &str, records: Vec<Value>| {
        let key = format!(
            "AWSLogs/{account}/CloudTrail/us-east-1/2026/11/20/{account}_CloudTrail_us-east-1_20261120T1000Z_f.json.gz"
        );
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, json!({"Records": records}).to_string().as_bytes())
            .unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        key
    };
    let other = "999988887777";
    let keys = [
        log(
            OWN_ACCOUNT,
            vec![
                record("log-other", &victim, &scapegoat, other),
                record("log-own", &third, &alice, OWN_ACCOUNT),
            ],
        ),
        log(other, vec![record("log-scope", &victim, &scapegoat, other)]),
    ];
    py_json(&["put-logs", trail, &dir.display().to_string()]);
    let mut notification = s3_notification(trail, &keys[0]);
    let second = s3_notification(trail, &keys[1])["Records"][0].clone();
    notification["Records"].as_array_mut().unwrap().push(second);
    let Answer::Response(out) = api.invoke("n-1", notification) else {
        panic!("the notification failed:\n{}", logs())
    };
    // The one instance in scope, and its root volume.
    assert_eq!(out["tagged"], 2, "{out}\n{}", logs());
    assert_eq!(tags(&third).get("CreatedBy"), Some(&alice));
    let lines = function.lines();
    for said in [
        "written for account 123456789012: refused",
        "account `999988887777` is outside the accounts in scope",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(said)),
            "{said}:\n{}",
            logs()
        );
    }

    // A valid direct invocation: attribution keys, nothing replaced.
    let Answer::Response(out) = api.invoke("d-1", json!({"resource_arn": preset, "user": alice}))
    else {
        panic!("direct failed:\n{}", logs())
    };
    assert_eq!(out["tagged"], 1, "{out}");
    let now = tags(&preset);
    assert_eq!(now.get("CreatedBy").map(String::as_str), Some("terraform"));
    assert_eq!(now.get("ManagedBy").map(String::as_str), Some("tagwarden"));
    let rows = py_json(&["table-items", history_table]);
    let direct = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["arn"] == preset.as_str() && r["change"] == "tagged")
        .unwrap();
    assert_eq!(direct["event_id"], "tagwarden-direct-d-1", "{direct}");
    assert_eq!(tags(&victim).get("CreatedBy"), None);
}

/// Tampering, end to end: `CreatedBy` changed by someone else, then every
/// tag removed (an EC2 `DeleteTags` without a list): each time the
/// protected keys tagwarden wrote are written back, recorded as `restored`
/// naming the actor, alerted naming resource and actor, and counted
/// (`TamperEvents`); the same call delivered again changes nothing.
#[test]
fn tampering_with_created_by_is_undone_alerted_and_counted() {
    let outputs = deploy("e2t");
    let history_table = &outputs["TagHistoryTableName"];
    let topic = &outputs["AlertTopicArn"];
    let alerts: String = serde_json::from_str(&world_py(&["subscribe", topic])).unwrap();
    let id: String = py_json(&["instance-new", "us-east-1"])
        .as_str()
        .unwrap()
        .into();
    let arn = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}");
    let alice = format!("arn:aws:sts::{OWN_ACCOUNT}:assumed-role/Deployer/alice");
    let mallory = format!("arn:aws:iam::{OWN_ACCOUNT}:user/mallory");
    let event = |name: &str,
                 event_id: &str,
                 time: &str,
                 who: &str,
                 params: Value,
                 response: Value| {
        let record = ec2_call(name, event_id, time, who, params, response);
        let envelope = json!({"version": "0", "id": format!("eb-{event_id}"), "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ec2", "account": OWN_ACCOUNT, "time": time, "region": "us-east-1",
            "resources": [], "detail": record});
        json!({"Records": [{"messageId": format!("m-{event_id}"), "receiptHandle": "h",
            "body": envelope.to_string(), "attributes": {}, "messageAttributes": {},
            "eventSource": "aws:sqs", "awsRegion": "us-east-1"}]})
    };
    let resources = json!({"items": [{"resourceId": id}]});
    let run = event(
        "RunInstances",
        "t-run",
        "2026-11-20T10:00:00Z",
        &alice,
        json!({"instanceType": "t3.micro"}),
        json!({"instancesSet": {"items": [{"instanceId": id}]}}),
    );
    let changed = event(
        "CreateTags",
        "t-change",
        "2026-11-20T10:10:00Z",
        &mallory,
        json!({"resourcesSet": resources, "tagSet": {"items": [{"key": "CreatedBy", "value": mallory}]}}),
        Value::Null,
    );
    let cleared = event(
        "DeleteTags",
        "t-clear",
        "2026-11-20T10:20:00Z",
        &mallory,
        json!({"resourcesSet": resources}),
        Value::Null,
    );

    let mut env = stack_env("e2t", &outputs);
    env.insert("TAGWARDEN_ALERT_TOPIC".into(), topic.clone());
    // Attribution only: the alerts are about tampering, not compliance.
    env.insert(
        "TAGWARDEN_POLICY".into(),
        "attribution:\n  tags:\n    CreatedBy: \"{creator.arn}\"\n    CreatedDate: \"{event.time}\"\n    ManagedBy: tagwarden\n".into(),
    );
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let tags = || -> BTreeMap<String, String> {
        serde_json::from_value(py_json(&["tags-now", "us-east-1", &arn])[&arn].clone()).unwrap()
    };
    let done = json!({"batchItemFailures": []});
    let Answer::Response(out) = api.invoke("t-1", run) else {
        panic!("{}", logs())
    };
    assert_eq!(out, done);
    let written = tags();
    assert_eq!(written.get("CreatedBy"), Some(&alice), "{}", logs());
    assert_eq!(py_json(&["queue-read", &alerts]), json!([]));

    // Changed by mallory, then every tag removed by mallory.
    let restored_rows = || -> Vec<Value> {
        py_json(&["table-items", history_table])
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["change"] == "restored")
            .cloned()
            .collect()
    };
    for (step, (message, did)) in [
        (changed, format!("CreatedBy changed to `{mallory}`")),
        (cleared.clone(), "CreatedBy removed".to_string()),
    ]
    .into_iter()
    .enumerate()
    {
        match step {
            0 => py_json(&[
                "instance-tags",
                "us-east-1",
                &id,
                &json!({"CreatedBy": mallory}).to_string(),
            ]),
            _ => py_json(&[
                "instance-tags",
                "us-east-1",
                &id,
                "{}",
                &json!(tags().keys().collect::<Vec<_>>()).to_string(),
            ]),
        };
        let Answer::Response(out) = api.invoke(&format!("t-{}", step + 2), message) else {
            panic!("{}", logs())
        };
        assert_eq!(out, done, "{}", logs());
        let now = tags();
        assert_eq!(
            now.get("CreatedBy"),
            Some(&alice),
            "step {step}: {now:?}\n{}",
            logs()
        );
        assert_eq!(
            now.get("CreatedDate"),
            written.get("CreatedDate"),
            "step {step}"
        );
        let sent = py_json(&["queue-read", &alerts]);
        let sent = sent.as_array().unwrap();
        assert_eq!(sent.len(), 1, "step {step}: {sent:?}");
        let alert = sent[0].as_str().unwrap();
        assert!(
            alert.contains(&format!("{arn}: {did}")) && alert.contains(&format!("by {mallory}")),
            "step {step}: {alert}"
        );
        let rows = restored_rows();
        assert_eq!(rows.len(), step + 1, "{rows:?}");
        assert!(
            rows.iter().all(|r| r["actor"] == mallory.as_str()),
            "{rows:?}"
        );
    }
    let counted: Vec<u64> = function
        .metrics()
        .iter()
        .filter_map(|m| m["TamperEvents"].as_u64())
        .collect();
    assert_eq!(counted, [0, 1, 1], "{}", logs());

    // The removal delivered again: history, not tampering.
    let Answer::Response(out) = api.invoke("t-4", cleared) else {
        panic!("{}", logs())
    };
    assert_eq!(out, done);
    assert_eq!(restored_rows().len(), 2);
    assert_eq!(py_json(&["queue-read", &alerts]), json!([]));
}

/// Calls that blind tagwarden are alerted naming the caller and recorded as
/// their actions, once: a trail stopped, tagwarden's own rule disabled.
/// Another team's rule is none of its business.
#[test]
fn calls_that_blind_tagwarden_are_alerted_naming_the_caller() {
    let outputs = deploy("e2g");
    let topic = &outputs["AlertTopicArn"];
    let alerts: String = serde_json::from_str(&world_py(&["subscribe", topic])).unwrap();
    let mallory = format!("arn:aws:iam::{OWN_ACCOUNT}:user/mallory");
    let call = |source: &str, name: &str, id: &str, params: Value| {
        let record = json!({
            "eventVersion": "1.09", "eventTime": "2026-11-20T11:00:00Z",
            "eventSource": format!("{source}.amazonaws.com"), "eventName": name,
            "awsRegion": "us-east-1", "eventID": id, "readOnly": false, "eventType": "AwsApiCall",
            "recipientAccountId": OWN_ACCOUNT,
            "userIdentity": {"type": "IAMUser", "arn": mallory, "accountId": OWN_ACCOUNT},
            "requestParameters": params, "responseElements": null,
        });
        let envelope = json!({"version": "0", "id": format!("eb-{id}"), "detail-type": "AWS API Call via CloudTrail",
            "source": format!("aws.{source}"), "account": OWN_ACCOUNT, "time": "2026-11-20T11:00:05Z",
            "region": "us-east-1", "resources": [], "detail": record});
        json!({"messageId": format!("m-{id}"), "receiptHandle": "h", "body": envelope.to_string(),
            "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
    };
    let batch = json!({"Records": [
        call("cloudtrail", "StopLogging", "g-stop", json!({"name": "tagwarden-e2g"})),
        call("events", "DisableRule", "g-rule", json!({"name": "tagwarden-api-calls-e2g"})),
        call("events", "DisableRule", "g-other", json!({"name": "nightly-build"})),
    ]});
    let mut env = stack_env("e2g", &outputs);
    env.insert("TAGWARDEN_ALERT_TOPIC".into(), topic.clone());
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let Answer::Response(out) = api.invoke("g-1", batch.clone()) else {
        panic!("{}", logs())
    };
    assert_eq!(out, json!({"batchItemFailures": []}), "{}", logs());
    let sent = py_json(&["queue-read", &alerts]);
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 1, "one alert for the batch: {sent:?}");
    let alert = sent[0].as_str().unwrap();
    for said in [
        format!("cloudtrail StopLogging `tagwarden-e2g` by {mallory}"),
        format!("events DisableRule `tagwarden-api-calls-e2g` by {mallory}"),
    ] {
        assert!(alert.contains(&said), "{said}:\n{alert}");
    }
    assert!(!alert.contains("nightly-build"), "{alert}");
    let actions = py_json(&["table-items", &outputs["UserActionsTableName"]]);
    let mine: Vec<&Value> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["principal"] == mallory.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "{actions}");

    // Delivered again: recorded already, alerted already.
    let Answer::Response(_) = api.invoke("g-2", batch) else {
        panic!("{}", logs())
    };
    assert_eq!(py_json(&["queue-read", &alerts]), json!([]));
}

/// Seeds the stack's Evidence table, as the function would have written it.
fn note_evidence(outputs: &BTreeMap<String, String>, rows: &[Evidence]) {
    let mut tables = tagwarden_store::url::Tables::with_suffix("unused");
    tables.evidence = outputs["EvidenceTableName"].clone();
    crate::audit::runtime().block_on(async {
        let store = tagwarden_store::DynamoStore::new(crate::audit::dynamodb().await, tables);
        store.note(rows).await.unwrap();
    });
}

/// The stack's Evidence rows: (source, entry) → detail.
fn evidence_rows(outputs: &BTreeMap<String, String>) -> BTreeMap<(String, String), String> {
    py_json(&["table-items", &outputs["EvidenceTableName"]])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let doc: Value = serde_json::from_str(r["doc"].as_str().unwrap()).unwrap();
            (
                (
                    r["source"].as_str().unwrap().to_string(),
                    r["entry"].as_str().unwrap().to_string(),
                ),
                doc["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn run_instances(n: usize, prefix: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
        "awsRegion": "us-east-1", "eventID": format!("{prefix}-{n}"), "readOnly": false,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": OWN_ACCOUNT,
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice"),
            "accountId": OWN_ACCOUNT},
        "requestParameters": {},
        "responseElements": {"instancesSet": {"items": [{"instanceId": format!("i-{prefix}{n:08x}")}]}},
    })
}

#[test]
fn a_large_log_is_settled_in_parts_and_a_redelivery_resumes_after_its_checkpoint() {
    let outputs = deploy("e2p");
    let trail = &outputs["TrailBucketName"];
    let dir = temp_dir("parts");
    // 350 creations in parts of 100: cut at records 100, 200 and 300 (a
    // mark every 25 records), then the end. (Production's parts are of 1,000.)
    let key_of = |name: &str| {
        format!("AWSLogs/{OWN_ACCOUNT}/CloudTrail/us-east-1/2026/11/20/{OWN_ACCOUNT}_CloudTrail_us-east-1_20261120T1000Z_{name}.json.gz")
    };
    for (name, prefix) in [("whole", "a"), ("resumed", "b")] {
        let records: Vec<Value> = (0..350).map(|n| run_instances(n, prefix)).collect();
        let body = serde_json::to_vec(&json!({"Records": records})).unwrap();
        let path = dir.join(key_of(name));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &body).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
    }
    py_json(&["put-logs", trail, &dir.display().to_string()]);
    // An earlier delivery of the second log settled its first 200 records.
    let resumed = Source::log(trail, &key_of("resumed"));
    note_evidence(
        &outputs,
        &[Evidence {
            source: resumed.clone(),
            entry: Entry::Progress(200),
            day: None,
            at: "2026-11-20T10:20:00Z".into(),
            detail: String::new(),
        }],
    );
    let mut env = stack_env("e2p", &outputs);
    env.insert("TAGWARDEN_TRAIL_BUCKET".into(), trail.clone());
    env.insert("TAGWARDEN_PART_CREATIONS".into(), "100".into());
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let notification = json!({"Records": [
        s3_notification(trail, &key_of("whole"))["Records"][0].clone(),
        s3_notification(trail, &key_of("resumed"))["Records"][0].clone(),
    ]});
    let Answer::Response(first) = api.invoke("p-1", notification.clone()) else {
        panic!("{}", logs())
    };
    assert_eq!(
        first["tagged"].as_u64(),
        Some(350 + 150),
        "{first}\n{}",
        logs()
    );
    let whole = Source::log(trail, &key_of("whole")).to_string();
    let evidence = evidence_rows(&outputs);
    let entries = |source: &str| -> Vec<String> {
        evidence
            .keys()
            .filter(|(s, _)| s == source)
            .map(|(_, e)| e.clone())
            .collect()
    };
    assert_eq!(
        entries(&whole),
        [
            "acted",
            "progress#00000000000000000100",
            "progress#00000000000000000200",
            "progress#00000000000000000300",
            "read"
        ]
    );
    assert!(entries(&resumed.to_string()).contains(&"read".to_string()));
    // Only the records after the checkpoint were read again.
    let items = py_json(&["table-items", &outputs["TagsMetadataTableName"]]);
    let of = |prefix: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                i["arn"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("instance/i-{prefix}"))
            })
            .count()
    };
    assert_eq!((of("a"), of("b")), (350, 150));

    // Delivered again: both logs were read whole, nothing is read or written.
    let history = py_json(&["table-items", &outputs["TagHistoryTableName"]]);
    let Answer::Response(again) = api.invoke("p-2", notification) else {
        panic!("{}", logs())
    };
    assert_eq!(again["tagged"].as_u64().unwrap_or(0), 0, "{again}");
    assert_eq!(
        py_json(&["table-items", &outputs["TagHistoryTableName"]]),
        history
    );
    assert_eq!(
        logs()
            .matches("read whole by an earlier delivery: not read again")
            .count(),
        2
    );
}

#[test]
fn what_was_acted_on_is_checked_against_the_signed_digests_and_alerted() {
    let outputs = deploy("e2v");
    let trail = &outputs["TrailBucketName"];
    let topic = &outputs["AlertTopicArn"];
    let alerts: String = serde_json::from_str(&world_py(&["subscribe", topic])).unwrap();
    // Acted on yesterday at 01:00, minutes before the first log's delivery
    // (01:05): long past the grace a digest has to vouch for a source.
    let yesterday = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let day = yesterday.strftime("%Y-%m-%d").to_string();
    let at: jiff::Timestamp = format!("{day}T01:00:00Z").parse().unwrap();
    let dir = temp_dir("confirm");
    let seen = run_instances(1, "v");
    let records = json!([[seen], [run_instances(2, "v")], [run_instances(3, "v")]]);
    let records_file = dir.join("records.json");
    std::fs::write(&records_file, records.to_string()).unwrap();
    let made = crate::verify::digests(&[
        "make",
        trail,
        &dir.display().to_string(),
        OWN_ACCOUNT,
        &day.replace('-', "/"),
        &records_file.display().to_string(),
    ]);
    let log = |n: usize| made["logs"][n].as_str().unwrap().to_string();
    // The second log is replaced after its digest was signed.
    crate::verify::digests(&[
        "tamper",
        trail,
        "alter-log",
        OWN_ACCOUNT,
        &day.replace('-', "/"),
    ]);
    let acted = |source: Source, detail: &str| Evidence {
        source,
        entry: Entry::Acted,
        day: Some(day.clone()),
        at: at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        detail: detail.into(),
    };
    let place = format!("{OWN_ACCOUNT}/us-east-1");
    note_evidence(
        &outputs,
        &[
            acted(Source::log(trail, &log(0)), ""),
            acted(Source::log(trail, &log(1)), ""),
            acted(Source::Event("v-1".into()), &place),
            acted(Source::Event("v-lost".into()), &place),
        ],
    );
    let mut env = stack_env("e2v", &outputs);
    env.insert("TAGWARDEN_TRAIL_BUCKET".into(), trail.clone());
    env.insert("TAGWARDEN_ALERT_TOPIC".into(), topic.clone());
    env.insert(
        "TAGWARDEN_PUBLIC_KEYS".into(),
        dir.join("keys.json").display().to_string(),
    );
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let schedule = json!({"version": "0", "id": "sched-1", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": OWN_ACCOUNT, "time": "2026-11-20T12:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {}});
    let Answer::Response(_) = api.invoke("v-1", schedule.clone()) else {
        panic!("{}", logs())
    };
    let evidence = evidence_rows(&outputs);
    let entry = |source: String, entry: &str| evidence.get(&(source, entry.to_string())).cloned();
    let url = |n: usize| Source::log(trail, &log(n)).to_string();
    assert!(
        entry(url(0), "verified").is_some(),
        "{evidence:?}\n{}",
        logs()
    );
    assert_eq!(
        entry(url(1), "failed").as_deref(),
        Some("hash value doesn't match")
    );
    assert_eq!(entry("event:v-1".into(), "confirmed"), Some(url(0)));
    assert!(entry("event:v-lost".into(), "unconfirmed").is_some());
    let sent = py_json(&["queue-read", &alerts]);
    let sent: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let vouched = "not vouched for by CloudTrail's signed digests";
    let alert = sent
        .iter()
        .find(|a| a.contains(vouched))
        .unwrap_or_else(|| panic!("{sent:?}"));
    assert!(
        alert.contains(&log(1)) && alert.contains("hash value"),
        "{alert}"
    );
    assert!(alert.contains("event v-lost"), "{alert}");
    assert!(!alert.contains("event v-1 "), "{alert}");
    assert!(!alert.contains(&log(0)), "{alert}");

    // The next schedule: everything settled, nothing alerted again.
    let Answer::Response(_) = api.invoke("v-2", schedule) else {
        panic!("{}", logs())
    };
    let again = py_json(&["queue-read", &alerts]);
    assert!(!again.to_string().contains(vouched), "{again}");
}

/// design.md, "The person behind the role", through the function: a batch
/// whose creation comes before the session that explains it names the
/// user behind the role; a later batch holding only a creation made with
/// the same credentials finds the session in the store's Sessions table;
/// so does a console call, through the console role switch that began its
/// session.
#[test]
fn sessions_reach_the_store_before_creations_and_serve_later_batches() {
    let outputs = deploy("e2s");
    let sessions_table = &outputs["SessionsTableName"];
    let new_instance = || -> String {
        py_json(&["instance-new", "us-east-1"])
            .as_str()
            .unwrap()
            .into()
    };
    let (first, second, third) = (new_instance(), new_instance(), new_instance());
    let alice = format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice");
    let ci = format!("arn:aws:sts::{OWN_ACCOUNT}:assumed-role/ci/ci-run-42");
    let message = |id: &str, source: &str, record: Value| {
        let kind = match source {
            "aws.signin" => "AWS Console Sign In via CloudTrail",
            _ => "AWS API Call via CloudTrail",
        };
        let envelope = json!({"version": "0", "id": format!("eb-{id}"), "detail-type": kind,
            "source": source, "account": OWN_ACCOUNT, "time": record["eventTime"], "region": "us-east-1",
            "resources": [], "detail": record});
        json!({"messageId": format!("m-{id}"), "receiptHandle": "h",
            "body": envelope.to_string(), "attributes": {}, "messageAttributes": {},
            "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
    };
    let launch = |id: &str, instance: &str| {
        let mut r = ec2_call(
            "RunInstances",
            id,
            "2026-11-20T10:05:00Z",
            &ci,
            json!({"instanceType": "t3.micro"}),
            json!({"instancesSet": {"items": [{"instanceId": instance}]}}),
        );
        r["userIdentity"]["accessKeyId"] = json!("ASIACIRUN42000000000");
        message(id, "aws.ec2", r)
    };
    let mut assume = ec2_call(
        "AssumeRole",
        "s-assume",
        "2026-11-20T10:00:00Z",
        &alice,
        json!({"roleArn": format!("arn:aws:iam::{OWN_ACCOUNT}:role/ci"), "roleSessionName": "ci-run-42"}),
        json!({"credentials": {"accessKeyId": "ASIACIRUN42000000000", "expiration": "Nov 20, 2026, 11:00:00 AM"},
               "assumedRoleUser": {"arn": ci}}),
    );
    assume["eventSource"] = json!("sts.amazonaws.com");
    assume["readOnly"] = json!(true);
    assume["userIdentity"]["accessKeyId"] = json!("AKIAALICE00000000000");
    // Bob, an IAM user of another account, switches to the Admin role in
    // the console: the record names him, and issues no key.
    let bob = "arn:aws:iam::444455556666:user/bob";
    let admin = format!("arn:aws:sts::{OWN_ACCOUNT}:assumed-role/Admin/bob");
    let mut switch = ec2_call(
        "SwitchRole",
        "s-switch",
        "2026-11-20T10:01:00Z",
        &admin,
        Value::Null,
        json!({"SwitchRole": "Success"}),
    );
    switch["eventSource"] = json!("signin.amazonaws.com");
    switch["eventType"] = json!("AwsConsoleSignIn");
    switch["additionalEventData"] =
        json!({"SwitchFrom": bob, "RedirectTo": "https://console.aws.amazon.com/"});
    // The creation first, its session after it, in one batch.
    let batch = json!({"Records": [launch("s-run-1", &first), message("s-assume", "aws.sts", assume),
        message("s-switch", "aws.signin", switch)]});

    let env = stack_env("e2s", &outputs);
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let tags = |id: &str| -> BTreeMap<String, String> {
        let arn = format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}");
        serde_json::from_value(py_json(&["tags-now", "us-east-1", &arn])[&arn].clone()).unwrap()
    };
    let done = json!({"batchItemFailures": []});
    let Answer::Response(out) = api.invoke("s-1", batch) else {
        panic!("{}", logs())
    };
    assert_eq!(out, done, "{}", logs());
    let t = tags(&first);
    assert_eq!(t.get("CreatedBy"), Some(&ci), "{}", logs());
    assert_eq!(t.get("CreatedByOrigin"), Some(&alice), "{}", logs());
    let kept = py_json(&["table-items", sessions_table]);
    let keys: Vec<&str> = kept
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys.len(), 2, "{kept}");
    assert_eq!(keys[0], "ASIACIRUN42000000000", "{kept}");
    assert!(keys[1].starts_with(&format!("console:{admin}@")), "{kept}");

    // A later batch: the creations alone, one by API, one in the console.
    let mut by_console = ec2_call(
        "RunInstances",
        "s-run-3",
        "2026-11-20T10:30:00Z",
        &admin,
        json!({"instanceType": "t3.micro"}),
        json!({"instancesSet": {"items": [{"instanceId": third}]}}),
    );
    by_console["userIdentity"]["accessKeyId"] = json!("ASIACONSOLEBOB000000");
    // The session the switch began: created at the switch.
    by_console["userIdentity"]["sessionContext"] = json!({"attributes": {"creationDate": "2026-11-20T10:01:01Z", "mfaAuthenticated": "false"}});
    by_console["sessionCredentialFromConsole"] = json!("true");
    let later =
        json!({"Records": [launch("s-run-2", &second), message("s-run-3", "aws.ec2", by_console)]});
    let Answer::Response(out) = api.invoke("s-2", later) else {
        panic!("{}", logs())
    };
    assert_eq!(out, done, "{}", logs());
    assert_eq!(
        tags(&second).get("CreatedByOrigin"),
        Some(&alice),
        "{}",
        logs()
    );
    let t = tags(&third);
    assert_eq!(t.get("CreatedBy"), Some(&admin), "{}", logs());
    assert_eq!(
        t.get("CreatedByOrigin").map(String::as_str),
        Some(bob),
        "{}",
        logs()
    );
}

/// design.md, the Lambda's dispatch table: a Step Functions Distributed
/// Map batch, exactly as the template's backfill state machine hands it
/// (items from an S3 `listObjectsV2` ItemReader, the bucket in the
/// ItemBatcher's `BatchInput`), is read as the same pipeline reads a
/// notified log; a redrive of the batch reads nothing again, and a batch
/// naming another bucket is refused unread.
#[test]
fn a_distributed_map_batch_of_log_objects_is_attributed_once() {
    let outputs = deploy("e2m");
    let trail = &outputs["TrailBucketName"];
    let world = World::build("twm", &[OWN_ACCOUNT], &["us-east-1"], false);
    let keys = py_json(&["put-logs", trail, &world.logs.display().to_string()]);
    let mut items: Vec<Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            json!({"Etag": "\"9b2cf535f27731c974343645a3985328\"", "Key": k,
                   "LastModified": 1_768_473_000, "Size": 2_048, "StorageClass": "STANDARD"})
        })
        .collect();
    // The ItemReader lists folders and digests too: passed over.
    items.push(json!({"Key": "AWSLogs/", "Size": 0}));
    let batch = |bucket: &str| json!({"Items": items, "BatchInput": {"Bucket": bucket}});

    let mut env = stack_env("e2m", &outputs);
    env.insert("TAGWARDEN_TRAIL_BUCKET".into(), trail.clone());
    let api = RuntimeApi::start();
    let function = Function::start(&api, &env);
    let logs = || function.lines().join("\n");
    let Answer::Response(first) = api.invoke("map-1", batch(trail)) else {
        panic!("{}", logs())
    };
    let resources = world.resources();
    assert_eq!(
        first["tagged"].as_u64().unwrap() as usize,
        resources.len(),
        "{first}\n{}",
        logs()
    );
    let now = world.tags_now();
    for r in resources {
        let arn = r["arn"].as_str().unwrap();
        assert_eq!(
            now[arn].get("ManagedBy").map(String::as_str),
            Some("tagwarden"),
            "{arn}"
        );
    }
    let history = py_json(&["table-items", &outputs["TagHistoryTableName"]]);

    // A redrive hands the same batch again: its logs were read whole.
    let Answer::Response(again) = api.invoke("map-2", batch(trail)) else {
        panic!("{}", logs())
    };
    assert_eq!(again["tagged"], 0, "{again}");
    assert_eq!(
        py_json(&["table-items", &outputs["TagHistoryTableName"]]),
        history
    );

    let Answer::Error(foreign) = api.invoke("map-3", batch("elsewhere")) else {
        panic!("a foreign bucket was read")
    };
    assert!(
        foreign.to_string().contains("not the trail bucket"),
        "{foreign}"
    );
}

/// Load through the function (issue 19, point 2), small enough for CI: 200
/// EventBridge creation events (100 instances, 100 log groups) in SQS
/// batches of 10, as the event queue hands them over. Every resource ends
/// tagged, each batch with one write per tagging API, and the same 20
/// batches delivered again add no row to any table. `benches/load.sh` runs the same with 10,000 and measures the
/// function's CPU per event; no time is asserted here.
#[test]
fn two_hundred_creations_in_sqs_batches_are_tagged_and_a_replay_adds_nothing() {
    let outputs = deploy("e2l");
    let dir = temp_dir("e2l-bulk");
    let made = py_json(&[
        "bulk",
        OWN_ACCOUNT,
        "us-east-1",
        "100",
        "100",
        "e2l",
        &dir.display().to_string(),
    ]);
    let instances: Vec<String> = made["ec2"].as_array().unwrap()[..100]
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let groups: Vec<String> = made["log_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let alice = format!("arn:aws:iam::{OWN_ACCOUNT}:user/alice");
    let mut records = Vec::new();
    for (n, id) in instances.iter().enumerate() {
        records.push((
            "aws.ec2",
            ec2_call(
                "RunInstances",
                &format!("l-run-{n}"),
                "2026-11-20T10:00:00Z",
                &alice,
                json!({"instanceType": "t3.micro"}),
                json!({"instancesSet": {"items": [{"instanceId": id}]}}),
            ),
        ));
    }
    for (n, arn) in groups.iter().enumerate() {
        let name = arn.rsplit_once(":log-group:").unwrap().1;
        let mut r = ec2_call(
            "CreateLogGroup",
            &format!("l-log-{n}"),
            "2026-11-20T10:00:00Z",
            &alice,
            json!({"logGroupName": name}),
            Value::Null,
        );
        r["eventSource"] = json!("logs.amazonaws.com");
        records.push(("aws.logs", r));
    }
    let batches: Vec<Value> = records
        .chunks(10)
        .map(|chunk| {
            let messages: Vec<Value> = chunk
                .iter()
                .map(|(source, record)| {
                    let envelope = json!({"version": "0", "id": format!("eb-{}", record["eventID"]),
                        "detail-type": "AWS API Call via CloudTrail", "source": source,
                        "account": OWN_ACCOUNT, "time": record["eventTime"], "region": "us-east-1",
                        "resources": [], "detail": record});
                    json!({"messageId": format!("m-{}", record["eventID"].as_str().unwrap()),
                        "receiptHandle": "h", "body": envelope.to_string(), "attributes": {},
                        "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
                })
                .collect();
            json!({ "Records": messages })
        })
        .collect();
    assert_eq!(batches.len(), 20);

    let api = RuntimeApi::start();
    let function = Function::start(&api, &stack_env("e2l", &outputs));
    let logs = || function.lines().join("\n");
    let deliver = |round: &str| {
        for (n, batch) in batches.iter().enumerate() {
            let Answer::Response(out) = api.invoke(&format!("{round}-{n}"), batch.clone()) else {
                panic!("{round} {n}: {}", logs())
            };
            assert_eq!(out, json!({"batchItemFailures": []}), "{}", logs());
        }
    };
    let rows = || -> Vec<usize> {
        [
            "TagsMetadataTableName",
            "TagHistoryTableName",
            "UserActionsTableName",
        ]
        .iter()
        .map(|t| {
            py_json(&["table-items", &outputs[*t]])
                .as_array()
                .unwrap()
                .len()
        })
        .collect()
    };
    let manifest = dir.join("made.json");
    std::fs::write(&manifest, made.to_string()).unwrap();
    let recording = Recording::start();
    deliver("first");
    // A batch's events are settled together: one write per batch of ten,
    // its instances with their root volumes, not one per message.
    let writes = recording.writes(&manifest);
    assert_eq!(writes["CreateTags"], 10, "{writes}");
    assert_eq!(writes["CreateTags.max_names"], 20, "{writes}");
    assert_eq!(writes["TagResources"], 10, "{writes}");
    let arns: Vec<String> = instances
        .iter()
        .map(|id| format!("arn:aws:ec2:us-east-1:{OWN_ACCOUNT}:instance/{id}"))
        .chain(groups.iter().cloned())
        .collect();
    let mut args = vec!["tags-now", "us-east-1"];
    args.extend(arns.iter().map(String::as_str));
    let now = py_json(&args);
    for arn in &arns {
        assert_eq!(now[arn]["CreatedBy"], json!(alice), "{arn}: {}", now[arn]);
        assert_eq!(now[arn]["ManagedBy"], "tagwarden", "{arn}");
    }
    let after_first = rows();
    assert!(
        after_first.iter().all(|&n| n >= 200),
        "{after_first:?}: a row per resource in each table"
    );
    deliver("replay");
    assert_eq!(rows(), after_first, "the replay added rows");
}
