//! deploy/template.yaml, translated from SAM to plain CloudFormation by
//! aws-sam-translator (as the transform would), then:
//! - deployed as a stack in moto, which creates the buckets, tables, topic,
//!   queues, rules and function, each found afterwards by its own service;
//! - read, for the settings moto skips or ignores when it deploys (alarms,
//!   trails, bucket/topic/queue policies; versioning, public-access blocks,
//!   notifications, PITR, SSE), which are asserted on the template itself.

use crate::moto::{endpoint, python, world_py};
use crate::support::repo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use tagwarden_core::catalog::generated;
use tagwarden_core::catalog::grants::TAG_ACTIONS;

fn translate(extra: &[&str]) -> Value {
    template("template.yaml", extra)
}

/// deploy/NAME as plain CloudFormation (SAM translated, when it is SAM).
fn template(name: &str, extra: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(repo().join("crates/cli/tests/deploy/translate.py"))
        .arg(repo().join("deploy").join(name))
        .args(extra)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("run translate.py");
    assert!(
        out.status.success(),
        "translate.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn translated() -> Value {
    translate(&[])
}

#[test]
fn the_stack_deploys_in_moto_and_each_service_finds_its_part() {
    endpoint();
    let got = translate(&["--deploy", "it"]);
    assert_eq!(got["status"], "CREATE_COMPLETE", "{got}");
    let found = got["found"].as_object().unwrap();
    // Buckets, tables, topic, queues, bus, function, the four rules, the
    // backfill's state machine.
    assert_eq!(found.len(), 15, "{got}");
    for (what, ok) in found {
        assert_eq!(ok, &Value::Bool(true), "{what} not found: {ok}");
    }
    for (key, value) in got["outputs"].as_object().unwrap() {
        let value = value.as_str().unwrap();
        assert!(value.contains("-it"), "{key} = {value}: the suffix");
    }
}

/// Issue 19, point 1: the backfill is a Distributed Map over the trail
/// bucket (AWS's engine, not a scheduler of ours) whose batches go to the
/// function with the bucket beside them, and whose results go to the
/// scan-log bucket; the execution's input sets prefix, concurrency and
/// tolerated failures. cfn-lint checks the definition against the States
/// Language in the test script.
#[test]
fn the_backfill_is_a_distributed_map_over_the_trail_bucket() {
    let t = translated();
    let machines = of_type(&t, "AWS::StepFunctions::StateMachine");
    assert_eq!(machines.len(), 1, "{machines:?}");
    let (_, p) = machines[0];
    let subs = &p["DefinitionSubstitutions"];
    assert_eq!(subs["TrailBucket"], json!({"Ref": "TrailBucket"}));
    assert_eq!(subs["ResultBucket"], json!({"Ref": "ScanLogBucket"}));
    assert_eq!(
        subs["FunctionArn"],
        json!({"Fn::GetAtt": ["Function", "Arn"]})
    );
    let map = &p["Definition"]["States"]["Logs"];
    assert_eq!(map["Type"], "Map");
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(
        map["ItemReader"]["Resource"],
        "arn:aws:states:::s3:listObjectsV2"
    );
    assert_eq!(map["ItemReader"]["Parameters"]["Bucket"], "${TrailBucket}");
    assert_eq!(map["ItemReader"]["Parameters"]["Prefix.$"], "$.Prefix");
    assert_eq!(map["ItemBatcher"]["BatchInput"]["Bucket"], "${TrailBucket}");
    assert_eq!(map["ItemBatcher"]["BatchInput"]["FirstDay.$"], "$.FirstDay");
    assert_eq!(map["ItemBatcher"]["BatchInput"]["LastDay.$"], "$.LastDay");
    // The cost shown before a backfill counts invocations by this size.
    assert_eq!(
        map["ItemBatcher"]["MaxItemsPerBatch"],
        tagwarden_core::backfill::ITEMS_PER_BATCH
    );
    // The execution's input, as `tagwarden backfill --distributed` writes
    // it, holds every path the definition reads.
    let input = tagwarden_core::backfill::Request::new(
        "AWSLogs/1/CloudTrail/r/",
        "2026-01-15",
        None,
        "2026-01-20",
    )
    .unwrap()
    .input();
    for path in [
        &map["ItemReader"]["Parameters"]["Prefix.$"],
        &map["ItemBatcher"]["BatchInput"]["FirstDay.$"],
        &map["ItemBatcher"]["BatchInput"]["LastDay.$"],
        &map["MaxConcurrencyPath"],
        &map["ToleratedFailurePercentagePath"],
    ] {
        let key = path.as_str().unwrap().trim_start_matches("$.");
        assert!(input.get(key).is_some(), "{key} not in {input}");
    }
    assert_eq!(map["MaxConcurrencyPath"], "$.MaxConcurrency");
    assert_eq!(
        map["ToleratedFailurePercentagePath"],
        "$.ToleratedFailurePercentage"
    );
    assert_eq!(
        map["ResultWriter"]["Parameters"]["Bucket"],
        "${ResultBucket}"
    );
    let task = &map["ItemProcessor"]["States"]["Attribute"];
    assert_eq!(task["Resource"], "arn:aws:states:::lambda:invoke");
    assert_eq!(task["Parameters"]["FunctionName"], "${FunctionArn}");
}

fn of_type<'t>(t: &'t Value, ty: &str) -> Vec<(&'t str, &'t Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .map(|(n, r)| (n.as_str(), &r["Properties"]))
        .collect()
}

/// Every IAM statement of the stack's roles, both branches of a
/// conditional one (`Fn::If`) included.
fn statements(t: &Value) -> Vec<&Value> {
    fn branches(s: &Value) -> Vec<&Value> {
        match s["Fn::If"].as_array() {
            Some(i) => i[1..]
                .iter()
                .filter(|b| b["Ref"] != "AWS::NoValue")
                .flat_map(branches)
                .collect(),
            None => vec![s],
        }
    }
    // Roles' inline policies, and the managed policies (the generated
    // catalog rows' tag grants) attached to them.
    let managed = of_type(t, "AWS::IAM::ManagedPolicy")
        .into_iter()
        .map(|(_, p)| p);
    of_type(t, "AWS::IAM::Role")
        .into_iter()
        .flat_map(|(_, p)| p["Policies"].as_array().into_iter().flatten())
        .chain(managed)
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .flat_map(branches)
        .collect()
}

fn actions(s: &Value) -> Vec<&str> {
    match &s["Action"] {
        Value::String(a) => vec![a.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The tag actions the statements grant, each checked: no wildcard action;
/// a service's own tag action only with the policy's keys (and some key at
/// all, so `ForAllValues` cannot pass vacuously) on this account's
/// resources; API Gateway's verbs on `/tags/*` only; `tag:TagResources`,
/// which takes no condition key and no resource type, bare.
fn tag_grants<'t>(all: &[&'t Value]) -> BTreeSet<&'t str> {
    let mut granted = BTreeSet::new();
    for s in all {
        let resource = s["Resource"].to_string();
        for a in actions(s) {
            assert!(!a.contains('*'), "wildcard action {a}");
            let own = TAG_ACTIONS.iter().any(|(_, t)| t.contains(&a))
                || generated::TAG_CALLS
                    .iter()
                    .any(|(p, t, _)| a.split_once(':') == Some((*p, *t)));
            if a.starts_with("apigateway:") {
                assert!(resource.contains("::/tags/*"), "{a} beyond /tags: {s}");
            }
            if a == "s3:PutBucketTagging" {
                assert!(resource.contains("arn:${AWS::Partition}:s3:::"), "{s}");
            } else if a == "cloudsearch:AddTags" {
                // Takes no aws:TagKeys: this account's domains only.
                let domains = "arn:${AWS::Partition}:cloudsearch:*:${AWS::AccountId}:domain/*";
                assert_eq!(s["Resource"]["Fn::Sub"], domains, "{s}");
            } else if own {
                assert_eq!(
                    s["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]["Ref"], "TagKeys",
                    "{a} without the tag-key condition: {s}"
                );
                assert_eq!(s["Condition"]["Null"]["aws:TagKeys"], "false", "{a}: {s}");
                if !a.starts_with("apigateway:") {
                    assert_eq!(
                        s["Resource"][0]["Fn::Sub"],
                        "arn:${AWS::Partition}:*:*:${AWS::AccountId}:*",
                        "{a}: {s}"
                    );
                }
            } else if a == "tag:TagResources" {
                assert!(s["Condition"].is_null(), "{s}");
            } else {
                continue;
            }
            granted.insert(a);
        }
    }
    granted
}

#[test]
fn the_template_keeps_its_security_and_naming_settings() {
    let t = translated();
    let text = |v: &Value| v.to_string();

    // Every name carries the environment suffix.
    for (ty, key) in [
        ("AWS::S3::Bucket", "BucketName"),
        ("AWS::DynamoDB::Table", "TableName"),
        ("AWS::SNS::Topic", "TopicName"),
        ("AWS::SQS::Queue", "QueueName"),
        ("AWS::Lambda::Function", "FunctionName"),
        ("AWS::CloudTrail::Trail", "TrailName"),
        ("AWS::CloudWatch::Alarm", "AlarmName"),
        ("AWS::CloudWatch::Dashboard", "DashboardName"),
        ("AWS::Events::Rule", "Name"),
    ] {
        let found = of_type(&t, ty);
        assert!(!found.is_empty(), "{ty}");
        for (name, p) in found {
            assert!(
                text(&p[key]).contains("${EnvironmentSuffix}"),
                "{name}.{key}: {}",
                p[key]
            );
        }
    }

    let trail = of_type(&t, "AWS::CloudTrail::Trail")[0].1;
    assert_eq!(trail["IsMultiRegionTrail"], true);
    assert_eq!(trail["EnableLogFileValidation"], true);

    let policies = of_type(&t, "AWS::S3::BucketPolicy");
    for (name, b) in of_type(&t, "AWS::S3::Bucket") {
        assert!(b["BucketEncryption"].is_object(), "{name}: encryption");
        let pab = &b["PublicAccessBlockConfiguration"];
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(pab[k], true, "{name}.{k}");
        }
        assert_eq!(b["VersioningConfiguration"]["Status"], "Enabled", "{name}");
        assert!(
            b["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"].is_object(),
            "{name}"
        );
        let tls_only = policies.iter().any(|(_, p)| {
            p["Bucket"]["Ref"] == name
                && p["PolicyDocument"]["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| {
                        s["Effect"] == "Deny"
                            && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                    })
        });
        assert!(tls_only, "{name}: a TLS-only bucket policy");
        if name != "AccessLogsBucket" {
            assert_eq!(
                b["LoggingConfiguration"]["DestinationBucketName"]["Ref"], "AccessLogsBucket",
                "{name}"
            );
        }
    }
    assert_eq!(t["Parameters"]["ScanLogRetentionDays"]["Default"], 30);
    // The trail bucket notifies the function of log files only.
    let trail_bucket = of_type(&t, "AWS::S3::Bucket")
        .into_iter()
        .find(|(n, _)| *n == "TrailBucket")
        .unwrap()
        .1;
    let notify = &trail_bucket["NotificationConfiguration"]["LambdaConfigurations"][0];
    assert_eq!(
        notify["Filter"]["S3Key"]["Rules"][0]["Value"], ".json.gz",
        "{notify}"
    );

    for (name, table) in of_type(&t, "AWS::DynamoDB::Table") {
        assert_eq!(table["BillingMode"], "PAY_PER_REQUEST", "{name}");
        assert_eq!(table["SSESpecification"]["SSEEnabled"], true, "{name}");
        assert_eq!(
            table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
            "{name}"
        );
    }
    assert!(of_type(&t, "AWS::SNS::Topic")[0].1["KmsMasterKeyId"].is_object());
    for (name, q) in of_type(&t, "AWS::SQS::Queue") {
        assert_eq!(q["SqsManagedSseEnabled"], true, "{name}");
    }
    let events = of_type(&t, "AWS::SQS::Queue")
        .into_iter()
        .find(|(n, _)| *n == "EventQueue")
        .unwrap()
        .1;
    assert_eq!(
        events["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0],
        "DeadLetterQueue"
    );
    let mapping = of_type(&t, "AWS::Lambda::EventSourceMapping")[0].1;
    assert_eq!(
        mapping["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );

    let function = of_type(&t, "AWS::Lambda::Function")[0].1;
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(
        function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0],
        "DeadLetterQueue"
    );
    assert!(function["ReservedConcurrentExecutions"].is_object());

    // Three alarms, each to the topic; the threshold for violations is 5.
    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    assert_eq!(alarms.len(), 3);
    for (name, a) in &alarms {
        assert_eq!(a["AlarmActions"][0]["Ref"], "AlertTopic", "{name}");
    }
    assert_eq!(t["Parameters"]["NonCompliantThreshold"]["Default"], 5);

    // Least privilege: no wildcard action, and every tagging action bound
    // to the policy's tag keys, in the function's role and the member role
    // alike (S3's replace-the-set call takes no such condition: its own
    // statement, bucket ARNs only).
    let all = statements(&t);
    assert!(!all.is_empty());
    let wanted: BTreeSet<String> = TAG_ACTIONS
        .iter()
        .flat_map(|(_, a)| a.iter().map(|a| a.to_string()))
        .chain(
            generated::TAG_CALLS
                .iter()
                .map(|(p, t, _)| format!("{p}:{t}")),
        )
        .chain(["tag:TagResources".to_string()])
        .collect();
    let owned =
        |g: BTreeSet<&str>| -> BTreeSet<String> { g.into_iter().map(String::from).collect() };
    assert_eq!(
        owned(tag_grants(&all)),
        wanted,
        "the function's tag grants and the catalog's"
    );
    let member = template("member-role.yaml", &[]);
    assert_eq!(
        owned(tag_grants(&statements(&member))),
        wanted,
        "the member role's tag grants and the catalog's"
    );
    let mut secret_reads = 0;
    let mut dead_letters = 0;
    for s in &all {
        for a in actions(s) {
            let tags = wanted.contains(a);
            // The webhook's secret: that one, read only, when it is given.
            if a.starts_with("secretsmanager:") && !tags {
                assert_eq!(a, "secretsmanager:GetSecretValue", "{s}");
                assert_eq!(s["Resource"]["Ref"], "AlertWebhookSecretArn", "{s}");
                secret_reads += 1;
            }
            // Refused messages are parked in the DLQ; waiting ones go back
            // to the event queue. Every other queue call is the event
            // queue's mapping, on that queue alone.
            if a.starts_with("sqs:") && a != "sqs:ListQueues" && !tags {
                let queue = s["Resource"]["Fn::GetAtt"][0].as_str();
                if a == "sqs:SendMessage" && queue == Some("DeadLetterQueue") {
                    dead_letters += 1;
                } else {
                    assert_eq!(queue, Some("EventQueue"), "{a}: {s}");
                }
            }
            if a.starts_with("logs:") && !tags {
                assert_eq!(
                    s["Resource"]["Fn::GetAtt"][0], "FunctionLogGroup",
                    "{a}: {s}"
                );
            }
        }
    }
    assert_eq!(secret_reads, 1);
    assert!(dead_letters >= 1, "the function may park refused messages");
    // Reads that take a resource name their own kind in this account, in
    // both roles.
    for s in all.iter().chain(statements(&member).iter()) {
        for a in actions(s) {
            if a.starts_with("iam:List") || a.starts_with("rds:Describe") {
                let kind = if a.starts_with("iam:") {
                    ":iam::"
                } else {
                    ":rds:*:"
                };
                assert!(text(&s["Resource"]).contains(kind), "{a}: {s}");
                assert_ne!(s["Resource"], "*", "{a}");
            }
        }
    }
    assert!(
        all.iter().any(
            |s| actions(s) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
                && s["Condition"]["StringEquals"]["aws:ResourceOrgID"].is_string()
        ),
        "member roles only within the organization"
    );
    // The member role trusts the function's role alone, from within the
    // organization, in sessions that name tagwarden.
    let trust = &of_type(&member, "AWS::IAM::Role")[0].1["AssumeRolePolicyDocument"]["Statement"];
    for s in trust.as_array().unwrap() {
        assert!(
            s["Condition"]["ArnEquals"]["aws:PrincipalArn"].is_object(),
            "{s}"
        );
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:PrincipalOrgID"]["Ref"],
            "OrganizationId"
        );
        let named = &s["Condition"]["StringLike"];
        assert!(
            named["sts:RoleSessionName"] == "tagwarden-*"
                || named["sts:SourceIdentity"] == "tagwarden-*",
            "{s}"
        );
    }
    // The function's role is the template's own: SAM generates none, so
    // no managed policy comes with the queue's event source (the generated
    // rows' tag grants are the template's own managed policies, attached
    // by their `Roles`). The others are the backfill state machine's, which
    // only Step Functions of this account may assume, and the generated
    // rules', which only EventBridge of this account may assume, to put
    // events on tagwarden's bus and nowhere else.
    let roles: BTreeMap<&str, &Value> = of_type(&t, "AWS::IAM::Role").into_iter().collect();
    assert_eq!(
        roles.keys().copied().collect::<Vec<_>>(),
        ["BackfillRole", "CatalogForwardRole", "FunctionRole"]
    );
    let forward = roles["CatalogForwardRole"];
    let trust = &forward["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:SourceAccount"]["Ref"],
        "AWS::AccountId"
    );
    let put = &forward["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(put.as_array().map(Vec::len), Some(1), "{put}");
    assert_eq!(put[0]["Action"], "events:PutEvents");
    assert_eq!(put[0]["Resource"]["Fn::GetAtt"][0], "EventBus");
    for props in roles.values() {
        assert!(props["ManagedPolicyArns"].is_null(), "{props}");
    }
    let trust = &roles["BackfillRole"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "states.amazonaws.com");
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:SourceAccount"]["Ref"],
        "AWS::AccountId"
    );
    let props = roles["FunctionRole"];
    assert_eq!(
        props["RoleName"]["Fn::Sub"],
        "tagwarden-function-${EnvironmentSuffix}"
    );
    let (_, function) = of_type(&t, "AWS::Lambda::Function")[0];
    assert_eq!(function["Role"]["Fn::GetAtt"][0], "FunctionRole");
    assert_eq!(
        function["Environment"]["Variables"]["TAGWARDEN_ALERT_WEBHOOK_SECRET"]["Ref"],
        "AlertWebhookSecretArn"
    );
    assert_eq!(
        function["Environment"]["Variables"]["TAGWARDEN_DEAD_LETTER_QUEUE"]["Ref"],
        "DeadLetterQueue"
    );
}

/// The API-call rules route exactly the catalog's calls: every creation and
/// tag call reaches the function, nothing outside the catalog is named (a
/// source × name pair that is no call at all never occurs), and each
/// pattern stays within EventBridge's 2,048 characters.
#[test]
fn the_api_call_rules_name_exactly_the_catalogs_calls() {
    use std::collections::BTreeSet;
    use tagwarden_core::catalog::sessions::SESSION_EVENTS;
    use tagwarden_core::catalog::{
        generated, table::ENTRIES, tag_events::TAG_EVENTS, watched::WATCHED,
    };
    let t = translated();
    let mut routed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (rule, p) in of_type(&t, "AWS::Events::Rule") {
        let pattern = &p["EventPattern"];
        // The central bus's rule takes what the regional stacks chose.
        if pattern["detail-type"][0] != "AWS API Call via CloudTrail"
            || !p["EventBusName"].is_null()
        {
            continue;
        }
        let size = serde_json::to_string(pattern).unwrap().len();
        assert!(size <= 2048, "{rule}: pattern of {size} characters");
        assert_eq!(pattern["detail"]["errorCode"][0]["exists"], false, "{rule}");
        // Read-only calls reach a rule only in this state: the credential
        // calls' rule has it, and no other rule needs it.
        let sessions = pattern["detail"]["eventSource"][0] == "sts.amazonaws.com";
        let state = p["State"].as_str().unwrap_or("ENABLED");
        assert_eq!(
            state == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            sessions,
            "{rule}: {state}"
        );
        let list = |k: &str| -> Vec<String> {
            pattern["detail"][k]
                .as_array()
                .unwrap_or_else(|| panic!("{rule}: detail.{k} is a list"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        for s in list("eventSource") {
            for n in list("eventName") {
                names.insert(n.clone());
                routed.insert((s.clone(), n));
            }
        }
    }
    let catalog: BTreeSet<(String, String)> = ENTRIES
        .iter()
        .chain(generated::ENTRIES)
        .map(|e| (e.source.to_string(), e.name.to_string()))
        .chain(
            TAG_EVENTS
                .iter()
                .chain(generated::TAG_EVENTS)
                .map(|e| (e.source.to_string(), e.name.to_string())),
        )
        .chain(
            WATCHED
                .iter()
                .map(|e| (e.source.to_string(), e.name.to_string())),
        )
        .chain(
            SESSION_EVENTS
                .iter()
                .map(|e| (e.source.to_string(), e.name.to_string())),
        )
        .collect();
    let missing: Vec<_> = catalog.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "not routed to the function: {missing:?}"
    );
    let catalog_names: BTreeSet<String> = catalog.iter().map(|(_, n)| n.clone()).collect();
    let extra: Vec<_> = names.difference(&catalog_names).collect();
    assert!(extra.is_empty(), "not in the catalog: {extra:?}");
    let sources: BTreeSet<&String> = routed.iter().map(|(s, _)| s).collect();
    let catalog_sources: BTreeSet<&String> = catalog.iter().map(|(s, _)| s).collect();
    let extra: Vec<_> = sources.difference(&catalog_sources).collect();
    assert!(extra.is_empty(), "sources not in the catalog: {extra:?}");
}

/// deploy/regional.yaml holds the central stack's own rules, forwarding to
/// the central bus (with a role that may put there and nowhere else) except
/// in the central account's home region, where the central rules already
/// listen; the central bus admits the organization only and feeds the queue.
#[test]
fn the_regional_stack_forwards_the_central_rules_to_the_central_bus() {
    let central = translated();
    let regional = template("regional.yaml", &[]);
    let rules = |t: &Value| -> std::collections::BTreeMap<String, Value> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect()
    };
    let (c, r) = (rules(&central), rules(&regional));
    let bus = "arn:${AWS::Partition}:events:${HomeRegion}:${CentralAccountId}:event-bus/tagwarden-${EnvironmentSuffix}";
    // The hand-written six, and the generated catalog rows' rules.
    let generated = c.keys().filter(|n| n.starts_with("CatalogRule")).count();
    assert!(generated > 0, "no generated rule in the central template");
    assert_eq!(r.len(), 6 + generated, "{r:?}");
    for (name, rule) in &r {
        let p = &rule["Properties"];
        assert_eq!(
            p["EventPattern"], c[name]["Properties"]["EventPattern"],
            "{name}"
        );
        assert_eq!(p["Name"], c[name]["Properties"]["Name"], "{name}");
        assert_eq!(rule["Condition"], "Forwards", "{name}");
        let targets = p["Targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0]["Arn"]["Fn::Sub"], bus, "{name}");
        assert_eq!(
            targets[0]["RoleArn"]["Fn::GetAtt"][0], "ForwardRole",
            "{name}"
        );
    }
    let forward = statements(&regional);
    assert_eq!(forward.len(), 1, "{forward:?}");
    assert_eq!(actions(forward[0]), ["events:PutEvents"]);
    assert_eq!(forward[0]["Resource"]["Fn::Sub"], bus);
    let home = &regional["Conditions"]["Forwards"]["Fn::Not"][0]["Fn::And"];
    assert_eq!(home[0]["Fn::Equals"][1]["Ref"], "CentralAccountId");
    assert_eq!(home[1]["Fn::Equals"][1]["Ref"], "HomeRegion");

    let (_, bus) = of_type(&central, "AWS::Events::EventBus")[0];
    assert_eq!(bus["Name"]["Fn::Sub"], "tagwarden-${EnvironmentSuffix}");
    let (_, policy) = of_type(&central, "AWS::Events::EventBusPolicy")[0];
    let org = &policy["Statement"]["Fn::If"];
    assert_eq!(org[0], "HasOrganization");
    assert_eq!(
        org[1]["Condition"]["StringEquals"]["aws:PrincipalOrgID"]["Ref"],
        "OrganizationId"
    );
    assert_eq!(org[1]["Action"], "events:PutEvents");
    assert!(
        org[2]["Principal"]["AWS"].is_object(),
        "the listed accounts: {org}"
    );
    let forwarded = &c["ForwardedRule"]["Properties"];
    assert_eq!(forwarded["EventBusName"]["Fn::GetAtt"][0], "EventBus");
    assert_eq!(
        forwarded["Targets"][0]["Arn"]["Fn::GetAtt"][0],
        "EventQueue"
    );
    let queue_policy = of_type(&central, "AWS::SQS::QueuePolicy")[0].1;
    assert!(
        queue_policy.to_string().contains("\"ForwardedRule\""),
        "the queue accepts the bus's rule: {queue_policy}"
    );
}

/// In moto: a catalogued call and an EC2 state change put on another
/// region's default bus reach the central stack's event queue; a call
/// outside the catalog does not.
#[test]
fn another_regions_events_reach_the_central_queue() {
    endpoint();
    let got = translate(&["--deploy", "rg"]);
    assert_eq!(got["status"], "CREATE_COMPLETE", "{got}");
    let call = |name: &str| {
        serde_json::json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ec2.amazonaws.com", "eventName": name,
                       "awsRegion": "us-west-2", "eventID": format!("rg-{name}")}})
    };
    let state = serde_json::json!({"source": "aws.ec2",
        "detail-type": "EC2 Instance State-change Notification",
        "detail": {"instance-id": "i-0123456789abcdef0", "state": "running"}});
    let events = serde_json::json!([call("RunInstances"), call("DescribeInstances"), state]);
    let status = world_py(&[
        "regional",
        &repo().join("deploy/regional.yaml").display().to_string(),
        "rg",
        "us-west-2",
        &events.to_string(),
    ]);
    assert_eq!(status.trim(), "\"CREATE_COMPLETE\"");
    let queue = got["outputs"]["EventQueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let bodies: Vec<String> = serde_json::from_str(&world_py(&["queue-read", &queue])).unwrap();
    let mut seen: Vec<String> = bodies
        .iter()
        .map(|b| {
            let e: Value = serde_json::from_str(b).unwrap();
            e["detail"]["eventName"]
                .as_str()
                .or(e["detail"]["state"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    seen.sort();
    assert_eq!(seen, ["RunInstances", "running"], "{bodies:?}");
}

/// prod keeps its evidence: buckets and tables retained, tables protected;
/// any other suffix is removed whole. Every log group expires.
#[test]
fn prod_retains_its_data_and_every_log_group_expires() {
    let t = translated();
    assert_eq!(
        t["Conditions"]["Production"]["Fn::Equals"],
        serde_json::json!([{"Ref": "EnvironmentSuffix"}, "prod"])
    );
    let retain = serde_json::json!({"Fn::If": ["Production", "Retain", "Delete"]});
    let resources = t["Resources"].as_object().unwrap();
    let mut data = 0;
    for (name, r) in resources {
        if matches!(
            r["Type"].as_str(),
            Some("AWS::S3::Bucket" | "AWS::DynamoDB::Table")
        ) {
            assert_eq!(r["DeletionPolicy"], retain, "{name}");
            assert_eq!(r["UpdateReplacePolicy"], retain, "{name}");
            data += 1;
        }
        if r["Type"] == "AWS::DynamoDB::Table" {
            assert_eq!(
                r["Properties"]["DeletionProtectionEnabled"]["Fn::If"][0], "Production",
                "{name}"
            );
        }
    }
    assert_eq!(data, 8, "three buckets, five tables");
    let groups = of_type(&t, "AWS::Logs::LogGroup");
    assert!(!groups.is_empty());
    for (name, g) in groups {
        assert!(!g["RetentionInDays"].is_null(), "{name} never expires");
    }
    let (_, function) = of_type(&t, "AWS::Lambda::Function")[0];
    assert_eq!(
        function["LoggingConfig"]["LogGroup"]["Ref"],
        "FunctionLogGroup"
    );
}

/// scripts/remove-stack.py empties a stack's versioned buckets and deletes
/// it, everything with it; prod it refuses.
#[test]
fn a_stack_other_than_prod_is_removed_whole() {
    endpoint();
    let got = translate(&["--deploy", "rm"]);
    assert_eq!(got["status"], "CREATE_COMPLETE", "{got}");
    let outputs = &got["outputs"];
    let bucket = outputs["TrailBucketName"].as_str().unwrap();
    let table = outputs["TagHistoryTableName"].as_str().unwrap();
    let remove = |suffix: &str| {
        Command::new(python())
            .arg(repo().join("scripts/remove-stack.py"))
            .args([suffix, "--region", "us-east-1", "--yes"])
            .output()
            .unwrap()
    };
    world_py(&["versions-put", bucket, "AWSLogs/x.json.gz"]);
    let out = remove("rm");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("emptied {bucket}: 2 object versions")),
        "{said}"
    );
    let gone: Value =
        serde_json::from_str(&world_py(&["gone", "tagwarden-rm", bucket, table])).unwrap();
    assert_eq!(
        gone,
        serde_json::json!({"stack": true, "bucket": true, "table": true})
    );

    let refused = remove("prod");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("retained"));
}

/// IAM's wildcard match: `*` any run of characters, `?` one.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((&c, rest)) => t
                .split_first()
                .is_some_and(|(&x, tail)| (c == b'?' || c == x) && go(rest, tail)),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Every catalogued resource's ARN, as the catalog makes it, falls within
/// the resources its service's tag action is granted on, in both roles: an
/// ARN shape the grant misses (an image has no account) fails here, not in
/// a customer's account.
#[test]
fn every_catalogued_arn_is_within_its_tag_grant() {
    use tagwarden_core::catalog::table::ENTRIES;
    use tagwarden_core::catalog::{generated, record_fields};
    let account = "123456789012";
    for (name, t) in [
        ("template.yaml", translated()),
        ("member-role.yaml", template("member-role.yaml", &[])),
    ] {
        let all = statements(&t);
        // A row tagwarden never tags needs no grant.
        let tagged = ENTRIES
            .iter()
            .filter(|e| e.api != tagwarden_core::catalog::TaggingApi::Untagged);
        let generated_actions: Vec<(&str, Vec<String>)> = generated::TAG_CALLS
            .iter()
            .map(|(p, tag, _)| (*p, vec![format!("{p}:{tag}")]))
            .collect();
        let hand_actions: Vec<(&str, Vec<String>)> = TAG_ACTIONS
            .iter()
            .map(|(p, a)| (*p, a.iter().map(|a| a.to_string()).collect()))
            .collect();
        let rows = tagged
            .map(|e| {
                (
                    e,
                    tagwarden_core::catalog::grants::service_of(e.source),
                    &hand_actions,
                )
            })
            .chain(generated::ENTRIES.iter().map(|e| {
                let prefix = e.resource_type.split_once(':').map_or("", |(p, _)| p);
                (e, prefix, &generated_actions)
            }));
        for (e, service, grants) in rows {
            let (_, wanted) = grants.iter().find(|(p, _)| *p == service).unwrap();
            let arns = e.rules().map(|(_, arn)| arn);
            for template in arns {
                // The event gives the whole ARN: the service's usual shape.
                let whole = format!(
                    "arn:{{partition}}:{service}:{{region}}:{{account}}:{}/{{id}}",
                    e.resource_type.split_once(':').map_or("", |(_, r)| r)
                );
                let arn = if template == "{id}" { &whole } else { template };
                let arn = arn
                    .replace("{partition}", "aws")
                    .replace("{region}", "eu-west-1")
                    .replace("{account}", account)
                    .replace("{id}", "x-1");
                // What is left are record paths: a parent's id.
                let arn = record_fields(template).fold(arn, |arn, field| {
                    arn.replace(&format!("{{{field}}}"), "p-1")
                });
                // API Gateway's tags are written through /tags/{arn}.
                let target = match service {
                    "apigateway" => format!(
                        "arn:aws:apigateway:eu-west-1::/tags/{}",
                        arn.replace(':', "%3A").replace('/', "%2F")
                    ),
                    _ => arn.clone(),
                };
                for action in wanted.iter().map(String::as_str) {
                    let granted = all
                        .iter()
                        .filter(|s| actions(s).contains(&action))
                        .any(|s| {
                            let resources = match &s["Resource"] {
                                Value::Array(r) => r.clone(),
                                r => vec![r.clone()],
                            };
                            resources.iter().any(|r| {
                                let p = r["Fn::Sub"].as_str().or(r.as_str()).unwrap_or_default();
                                let p = p
                                    .replace("${AWS::Partition}", "aws")
                                    .replace("${AWS::AccountId}", account);
                                glob(&p, &target)
                            })
                        });
                    assert!(
                        granted,
                        "{name}: {action} is not granted on {target} ({} {})",
                        e.source, e.name
                    );
                }
            }
        }
    }
}

/// The resource a `Fn::GetAtt` names, in either of its spellings.
fn get_att(v: &Value) -> Option<String> {
    match &v["Fn::GetAtt"] {
        Value::Array(parts) => parts.first()?.as_str().map(str::to_string),
        Value::String(s) => s.split('.').next().map(str::to_string),
        _ => None,
    }
}

/// Who may speak: the queue's policy denies every sender but the rules that
/// target it and the function's role; the trail bucket's denies every
/// writer but the trail. Each list is derived from the template, so a rule
/// added without its grant (or a grant without its rule) fails here.
#[test]
fn only_the_templates_rules_and_its_trail_may_speak() {
    let t = translated();
    let targets_queue = |p: &Value| {
        p["Targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|target| get_att(&target["Arn"]).as_deref() == Some("EventQueue"))
    };
    let rules: BTreeSet<String> = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule" && targets_queue(&r["Properties"]))
        .map(|(n, _)| n.clone())
        .collect();
    // The generated catalog rows' rules reach the queue through the central
    // bus's rule (`ForwardedRule`), so the queue's policy stays small.
    assert_eq!(rules.len(), 7, "{rules:?}");

    let deny = |policy: &Value, action: &str| -> Value {
        let found: Vec<&Value> = policy["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Effect"] == "Deny" && s["Principal"] == "*" && s["Action"] == action)
            .collect();
        assert_eq!(found.len(), 1, "one deny of {action}: {policy}");
        found[0]["Condition"].clone()
    };
    let (_, queue_policy) = of_type(&t, "AWS::SQS::QueuePolicy")[0];
    let c = deny(queue_policy, "sqs:SendMessage");
    let senders: BTreeSet<String> = c["ArnNotEquals"]["aws:SourceArn"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(get_att)
        .collect();
    assert_eq!(senders, rules);
    assert_eq!(
        get_att(&c["ArnNotEquals"]["aws:PrincipalArn"]).as_deref(),
        Some("FunctionRole"),
        "{c}"
    );
    // Both keys in one operator: denied only when neither matches.
    assert_eq!(c.as_object().unwrap().len(), 1, "{c}");

    let (_, bucket_policy) = of_type(&t, "AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(_, p)| p["Bucket"]["Ref"] == "TrailBucket")
        .unwrap();
    let c = deny(bucket_policy, "s3:PutObject");
    let allowed = bucket_policy["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Effect"] == "Allow" && s["Action"] == "s3:PutObject")
        .unwrap();
    assert_eq!(
        c["StringNotEquals"]["aws:SourceArn"],
        allowed["Condition"]["StringEquals"]["aws:SourceArn"],
        "the deny spares exactly the trail the allow names"
    );
    assert!(
        c["StringNotEquals"]["aws:SourceArn"]
            .to_string()
            .contains(":trail/tagwarden-${EnvironmentSuffix}"),
        "{c}"
    );

    // The function knows its scope: the organization or the member list.
    let (_, function) = of_type(&t, "AWS::Lambda::Function")[0];
    let env = &function["Environment"]["Variables"];
    assert_eq!(env["TAGWARDEN_ORGANIZATION"]["Ref"], "OrganizationId");
    assert!(env["TAGWARDEN_TRAIL_BUCKET"].is_object(), "{env}");
}

/// The role may write only the `TagKeys` the stacks are given: by default
/// that must hold every key the built-in policy writes, or its first tag
/// call is denied.
#[test]
fn the_default_tag_keys_hold_every_key_the_default_policy_writes() {
    let policy = tagwarden_core::policy::Policy::default_policy();
    let writes: BTreeSet<String> = policy
        .attribution
        .tags
        .keys()
        .chain(policy.compliance.remediation.keys())
        .map(|k| k.as_str().to_string())
        .collect();
    assert!(writes.contains("CreatedByOrigin"), "{writes:?}");
    for name in ["template.yaml", "member-role.yaml"] {
        let t = template(name, &[]);
        let keys: BTreeSet<String> = t["Parameters"]["TagKeys"]["Default"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a TagKeys default"))
            .split(',')
            .map(str::to_string)
            .collect();
        let missing: Vec<_> = writes.difference(&keys).collect();
        assert!(missing.is_empty(), "{name}: TagKeys lacks {missing:?}");
    }
}
