use super::*;
use std::collections::BTreeSet;
use tagwarden_core::pipeline::{Found, Pipeline, SkipReason};
use tagwarden_core::plan::Planner;
use tagwarden_core::policy::Policy;

fn templates() -> Vec<Template> {
    fixture::load_dir(&default_fixtures_dir()).unwrap()
}

fn doc(opts: &Options) -> (Vec<u8>, Summary) {
    let mut g = Generator::new(opts, templates()).unwrap();
    let (na, nr) = (g.accounts.len(), g.regions.len());
    let out = write_records(&mut g, Vec::new(), opts.records, opts.start_ms, 20.0, |r| {
        (r.index(na), r.index(nr))
    })
    .unwrap();
    (out, g.summary.clone())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, _) = doc(&Options::new(500, 42));
    let (b, _) = doc(&Options::new(500, 42));
    let (c, _) = doc(&Options::new(500, 43));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn output_is_valid_json_with_the_asked_count_in_time_order() {
    let (bytes, sum) = doc(&Options::new(2000, 1));
    assert_eq!(sum.bytes, bytes.len() as u64);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let recs = v["Records"].as_array().unwrap();
    assert_eq!(recs.len(), 2000);
    assert_eq!(sum.records, 2000);
    let times: Vec<&str> = recs
        .iter()
        .map(|r| r["eventTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let ids: BTreeSet<&str> = recs
        .iter()
        .map(|r| r["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2000, "eventIDs are unique");
    for r in recs {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(keys.iter().any(|k| *k == "recipientAccountId"), "{r}");
    }
    let avg = sum.bytes as f64 / sum.records as f64;
    assert!(
        (1400.0..1900.0).contains(&avg),
        "average record is {avg:.0} bytes"
    );
}

#[test]
fn create_share_is_respected() {
    let (_, sum) = doc(&Options::new(20_000, 5));
    let share = sum.creations as f64 / sum.records as f64;
    assert!((0.016..0.024).contains(&share), "share {share}");
}

/// Every generated create record is recognised by the core pipeline, with
/// no errors, and every resource it names is new.
#[test]
fn core_pipeline_finds_exactly_the_generated_creations() {
    let mut opts = Options::new(3000, 9);
    opts.create_share = 0.5;
    let (bytes, sum) = doc(&opts);
    let policy = Policy::default_policy();
    let mut planner = Planner::new(&policy);
    let mut pipeline = Pipeline::default();
    let mut errors = vec![];
    let mut creators: BTreeSet<String> = BTreeSet::new();
    pipeline.read("gen.json", &bytes[..], &mut |f| match f {
        Found::Creation(c) => {
            let kind = c.creator.kind.as_str();
            if kind == "IdentityCenterUser" {
                assert!(
                    c.creator.id.starts_with("arn:aws:identitystore:::user/"),
                    "{:?}",
                    c.creator
                );
            }
            assert!(
                !c.creator.id.is_empty() && c.creator.id != kind,
                "no principal for {:?}",
                c.creator
            );
            creators.insert(kind.to_string());
            planner.add(&c)
        }
        Found::Error(e) => errors.push(e.to_string()),
        Found::Fetch(o) => errors.push(format!("fetch {o}")),
        // Noise holds tag calls: they are audit entries, not creations.
        Found::TagChange(_) | Found::Watched(_) | Found::Session(_) | Found::Mark(_) => {}
    });
    assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(5)]);
    assert!(
        creators.contains("IdentityCenterUser"),
        "no create record by an IAM Identity Center user: {creators:?}"
    );
    let stats = pipeline.stats();
    assert_eq!(stats.records, sum.records);
    assert_eq!(stats.creations, sum.creations, "{stats:?}");
    assert_eq!(stats.resources, sum.resources);
    assert_eq!(stats.skipped.get(&SkipReason::Duplicate), None);
    let plan = planner.finish();
    assert_eq!(plan.superseded, 0, "a generated ARN was reused");
    assert_eq!(plan.items.len() as u64 + plan.already_tagged, sum.resources);
    // The generated account and region are what the plan names.
    let g = Generator::new(&opts, templates()).unwrap();
    let accounts: BTreeSet<&str> = g.accounts.iter().map(|a| a.id.as_str()).collect();
    for item in &plan.items {
        assert!(accounts.contains(item.account.as_str()), "{}", item.arn);
        assert!(
            opts.regions.contains(&item.region) || item.region.is_empty(),
            "{}",
            item.arn
        );
        assert!(
            !item.arn.contains("111122223333"),
            "fixture account left in {}",
            item.arn
        );
    }
}

#[test]
fn noise_creates_nothing() {
    let mut opts = Options::new(3000, 11);
    opts.create_share = 0.0;
    let (bytes, sum) = doc(&opts);
    assert_eq!(sum.creations, 0);
    let mut pipeline = Pipeline::default();
    let mut bad = vec![];
    pipeline.read("noise.json", &bytes[..], &mut |f| {
        // Tag calls and credentials issued are read, and create nothing.
        if !matches!(f, Found::TagChange(_) | Found::Session(_)) {
            bad.push(format!("{f:?}"))
        }
    });
    assert!(bad.is_empty(), "{:?}", &bad[..bad.len().min(3)]);
    let s = pipeline.stats();
    for why in [
        SkipReason::ReadOnly,
        SkipReason::ErrorCode,
        SkipReason::NotManagement,
        SkipReason::NotApiCall,
        SkipReason::NotInCatalog,
    ] {
        assert!(
            s.skipped.get(&why).copied().unwrap_or(0) > 0,
            "no {why:?} in {s:?}"
        );
    }
}

#[test]
fn every_fixture_makes_a_template() {
    let t = templates();
    assert!(!t.is_empty());
    for t in &t {
        assert!(
            t.pieces.contains(&Piece::Slot(Slot::EventId)),
            "{}: no eventID",
            t.name
        );
        assert!(
            t.pieces.contains(&Piece::Slot(Slot::Identity)),
            "{}: no userIdentity",
            t.name
        );
        assert!(
            t.ids.is_empty() || t.pieces.contains(&Piece::Slot(Slot::Id(0))),
            "{}: id not found in the record",
            t.name
        );
    }
}

#[test]
fn tree_has_the_org_layout_and_digests() {
    let dir = std::env::temp_dir().join(format!("tagwarden-gen-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut opts = Options::new(900, 3);
    opts.accounts = vec!["123456789012".into()];
    let sum = write_tree(&opts, templates(), &dir, 4).unwrap();
    assert_eq!(sum.files, 4);
    assert!(sum.digests >= 2);
    let mut logs = vec![];
    let mut digests = vec![];
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
                if rel.contains("CloudTrail-Digest") {
                    digests.push(p);
                } else {
                    logs.push((rel, p));
                }
            }
        }
    }
    assert_eq!(logs.len(), 4);
    let mut total = 0;
    for (rel, p) in &logs {
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(
            parts[..4],
            ["AWSLogs", ORG_ID, "123456789012", "CloudTrail"],
            "{rel}"
        );
        let region = parts[4];
        let name = parts[8];
        assert!(
            name.starts_with(&format!("123456789012_CloudTrail_{region}_")),
            "{rel}"
        );
        assert!(name.ends_with(".json.gz"));
        let mut pipeline = Pipeline::default();
        pipeline.read(rel, std::fs::File::open(p).unwrap(), &mut |f| {
            assert!(
                matches!(
                    f,
                    Found::Creation(_) | Found::TagChange(_) | Found::Session(_)
                ),
                "{f:?}"
            )
        });
        total += pipeline.stats().records;
        let v: serde_json::Value = serde_json::from_reader(flate2::read::GzDecoder::new(
            std::fs::File::open(p).unwrap(),
        ))
        .unwrap();
        assert!(v["Records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["awsRegion"] == region
                || r["eventSource"] == "iam.amazonaws.com"
                || r["eventSource"] == "signin.amazonaws.com"));
    }
    assert_eq!(total, 900);
    for d in &digests {
        let v: serde_json::Value = serde_json::from_reader(flate2::read::GzDecoder::new(
            std::fs::File::open(d).unwrap(),
        ))
        .unwrap();
        assert_eq!(v["awsAccountId"], "123456789012");
        assert!(v["logFiles"].is_array() && v["digestStartTime"].is_string());
        let (_, stats) = tagwarden_core::pipeline::read_all("d", &serde_json::to_vec(&v).unwrap());
        assert_eq!(stats.skipped.get(&SkipReason::Digest), Some(&1));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `userIdentity.type` of every record.
fn identity_types(bytes: &[u8]) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    v["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userIdentity"]["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_log_holds_every_identity_type() {
    let mut opts = Options::new(5000, 21);
    opts.create_share = 0.1;
    let (bytes, _) = doc(&opts);
    let got = identity_types(&bytes);
    let want: BTreeSet<String> = [
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "Root",
        "FederatedUser",
        "IdentityCenterUser",
        "SAMLUser",
        "WebIdentityUser",
        "Unknown",
        "AWSAccount",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    let kinds: BTreeSet<&str> = identity::Kind::ALL.iter().map(|k| k.type_name()).collect();
    assert_eq!(kinds.len(), want.len(), "a kind without a type name");
    // And the records that carry them are where CloudTrail puts them.
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    for r in v["Records"].as_array().unwrap() {
        let who = &r["userIdentity"];
        let (source, name) = (
            r["eventSource"].as_str().unwrap(),
            r["eventName"].as_str().unwrap(),
        );
        match who["type"].as_str().unwrap() {
            "SAMLUser" => {
                assert_eq!(name, "AssumeRoleWithSAML", "{r}");
                let pid = who["principalId"].as_str().unwrap();
                let idp = who["identityProvider"].as_str().unwrap();
                let user = who["userName"].as_str().unwrap();
                assert_eq!(pid, format!("{idp}:{user}"), "{r}");
                assert_eq!(r["readOnly"], false, "{r}");
                assert_eq!(r["eventType"], "AwsApiCall", "{r}");
                assert_eq!(r["responseElements"]["nameQualifier"], idp, "{r}");
            }
            "WebIdentityUser" => {
                assert_eq!(name, "AssumeRoleWithWebIdentity", "{r}");
                let idp = who["identityProvider"].as_str().unwrap();
                assert!(
                    idp == "accounts.google.com"
                        || idp.ends_with(":oidc-provider/token.actions.githubusercontent.com"),
                    "{r}"
                );
                assert!(who["principalId"].as_str().unwrap().starts_with(idp), "{r}");
                assert_eq!(r["responseElements"]["provider"], idp, "{r}");
                assert_eq!(
                    r["responseElements"]["subjectFromWebIdentityToken"], who["userName"],
                    "{r}"
                );
                assert_eq!(r["readOnly"], false, "{r}");
                assert_eq!(r["eventType"], "AwsApiCall", "{r}");
            }
            "Unknown" => {
                assert!(
                    source == "sso.amazonaws.com" || source == "signin.amazonaws.com",
                    "{r}"
                );
                let acct = who["accountId"].as_str().unwrap();
                let user = who["userName"].as_str().unwrap();
                assert_eq!(who["principalId"], format!("{acct}:{user}"), "{r}");
            }
            "AWSAccount" => {
                assert_ne!(who["accountId"], r["recipientAccountId"], "{r}");
                assert!(r["sharedEventID"].is_string(), "{r}");
                assert!(
                    r["readOnly"] == true || r["managementEvent"] == false,
                    "cross-account calls are reads: {r}"
                );
            }
            "IdentityCenterUser" => {
                let store = who["onBehalfOf"]["identityStoreArn"].as_str().unwrap();
                let (_, id) = store.split_once(":identitystore/d-").unwrap();
                assert!(
                    id.len() == 10 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{r}"
                );
                assert!(who["onBehalfOf"]["userId"].is_string(), "{r}");
                assert!(who["credentialId"].is_string(), "{r}");
                assert!(who.get("arn").is_none(), "{r}");
            }
            _ => {}
        }
    }
}

/// FIFO queues keep `.fifo` at the end of their fresh names, in the
/// request, the queue URL and the ARN the core derives from it.
#[test]
fn fifo_queue_names_stay_fifo() {
    let sqs: Vec<Template> = templates()
        .into_iter()
        .filter(|t| t.event_source == "sqs.amazonaws.com" && t.event_name == "CreateQueue")
        .collect();
    assert_eq!(sqs.len(), 1);
    let mut opts = Options::new(50, 4);
    opts.create_share = 1.0;
    let mut g = Generator::new(&opts, sqs).unwrap();
    let (na, nr) = (g.accounts.len(), g.regions.len());
    let bytes = write_records(&mut g, Vec::new(), 50, opts.start_ms, 20.0, |r| {
        (r.index(na), r.index(nr))
    })
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut names = vec![];
    for r in v["Records"].as_array().unwrap() {
        let name = r["requestParameters"]["queueName"].as_str().unwrap();
        assert!(
            name.starts_with("orders-events-") && name.ends_with(".fifo"),
            "{name}"
        );
        assert_eq!(name.matches(".fifo").count(), 1, "{name}");
        assert!(name.len() <= 80, "{name}");
        let url = r["responseElements"]["queueUrl"].as_str().unwrap();
        let acct = r["recipientAccountId"].as_str().unwrap();
        assert!(url.ends_with(&format!("/{acct}/{name}")), "{url}");
        names.push(name.to_string());
    }
    let (found, stats) = tagwarden_core::pipeline::read_all("sqs.json", &bytes);
    assert_eq!(stats.creations, 50);
    let arns: Vec<String> = found
        .iter()
        .filter_map(|f| match f {
            Found::Creation(c) => Some(c.resources[0].arn.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(arns.len(), 50);
    for (arn, name) in arns.iter().zip(&names) {
        assert!(arn.ends_with(&format!(":{name}")), "{arn}");
    }
}
