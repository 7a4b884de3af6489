//! Who makes the calls: per-account pools of principals, rendered as
//! CloudTrail `userIdentity` objects with a matching source IP and agent.

use crate::rng::Rng;
use crate::time::iso;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    IamUser,
    AssumedRole,
    Sso,
    Service,
    Root,
    Federated,
}

/// The principals of one account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub users: Vec<(String, String, String)>,
    pub roles: Vec<(String, String)>,
    pub sso: Vec<(String, String)>,
    pub people: Vec<String>,
    pub buckets: Vec<String>,
    pub keys: Vec<String>,
    pub functions: Vec<String>,
    pub instances: Vec<String>,
    pub vpc: String,
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "deploy-bot",
    "ci-runner",
    "backup-svc",
    "terraform",
    "dave.ops",
];
const ROLES: &[&str] = &[
    "app-server-role",
    "lambda-exec-orders",
    "eks-node-role",
    "GitHubActionsDeploy",
    "OrganizationAccountAccessRole",
    "datadog-integration",
    "ecsTaskExecutionRole",
    "batch-worker",
];
const SSO: &[&str] = &["AdministratorAccess", "PowerUser", "ReadOnly", "Billing"];
const PEOPLE: &[&str] = &[
    "alice", "bob", "carol", "erin", "frank", "grace", "heidi", "ivan",
];
const BUCKETS: &[&str] = &[
    "app-assets",
    "data-lake-raw",
    "backups",
    "terraform-state",
    "web-logs",
    "ml-artifacts",
];
const FUNCTIONS: &[&str] = &[
    "orders-api",
    "image-resize",
    "nightly-report",
    "auth-authorizer",
    "queue-consumer",
];
pub const SERVICES: &[&str] = &[
    "autoscaling.amazonaws.com",
    "cloudformation.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ssm.amazonaws.com",
    "events.amazonaws.com",
];
const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#ec2.describe-instances",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.51",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 ua/2.0 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.149.1",
    "aws-sdk-java/2.25.6 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "AWS Internal",
    "aws-sdk-nodejs/2.1574.0 linux/v20.11.1 exec-env/AWS_Lambda_nodejs20.x promise",
];

impl Account {
    pub fn new(id: &str, rng: &mut Rng) -> Self {
        Self {
            id: id.to_string(),
            users: USERS
                .iter()
                .map(|u| {
                    (
                        u.to_string(),
                        format!("AIDA{}", rng.upper_alnum(17)),
                        format!("AKIA{}", rng.upper_alnum(16)),
                    )
                })
                .collect(),
            roles: ROLES
                .iter()
                .map(|r| (r.to_string(), format!("AROA{}", rng.upper_alnum(17))))
                .collect(),
            sso: SSO
                .iter()
                .map(|r| {
                    (
                        format!("AWSReservedSSO_{r}_{}", rng.hex(16)),
                        format!("AROA{}", rng.upper_alnum(17)),
                    )
                })
                .collect(),
            people: PEOPLE.iter().map(|p| format!("{p}@example.com")).collect(),
            buckets: BUCKETS.iter().map(|b| format!("{b}-{id}")).collect(),
            keys: (0..4).map(|_| rng.uuid()).collect(),
            functions: FUNCTIONS.iter().map(|f| f.to_string()).collect(),
            instances: (0..12).map(|_| format!("i-0{}", rng.hex(16))).collect(),
            vpc: format!("vpc-0{}", rng.hex(16)),
        }
    }
}

/// A rendered identity and what goes with it.
#[derive(Debug, Clone)]
pub struct Who {
    pub kind: Kind,
    pub json: String,
    pub ip: String,
    pub agent: String,
    /// ARN of the caller (empty for services).
    pub arn: String,
}

fn public_ip(rng: &mut Rng) -> String {
    let first = *rng.pick(&[3u64, 18, 34, 52, 54, 35, 44, 198, 203]);
    format!(
        "{first}.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

pub fn pick_kind(rng: &mut Rng) -> Kind {
    *rng.weighted(&[
        (28, Kind::AssumedRole),
        (22, Kind::Sso),
        (20, Kind::IamUser),
        (22, Kind::Service),
        (2, Kind::Root),
        (6, Kind::Federated),
    ])
}

pub fn render(acct: &Account, kind: Kind, time_ms: i64, rng: &mut Rng) -> Who {
    let a = &acct.id;
    let since = iso(time_ms - rng.range(60, 3 * 3600) as i64 * 1000);
    let mfa = if rng.chance(0.3) { "true" } else { "false" };
    let agent = rng.pick(AGENTS).to_string();
    match kind {
        Kind::IamUser => {
            let (name, pid, key) = rng.pick(&acct.users).clone();
            let arn = format!("arn:aws:iam::{a}:user/{name}");
            Who {
                kind,
                json: format!(
                    r#"{{"type":"IAMUser","principalId":"{pid}","arn":"{arn}","accountId":"{a}","accessKeyId":"{key}","userName":"{name}"}}"#
                ),
                ip: public_ip(rng),
                agent,
                arn,
            }
        }
        Kind::AssumedRole | Kind::Sso => {
            let ((role, rid), path, session) = if kind == Kind::Sso {
                (
                    rng.pick(&acct.sso).clone(),
                    "aws-reserved/sso.amazonaws.com/",
                    rng.pick(&acct.people).clone(),
                )
            } else {
                let session = match rng.below(3) {
                    0 => rng.pick(&acct.instances).clone(),
                    1 => format!("botocore-session-{}", rng.digits(10)),
                    _ => rng
                        .pick(&["GitHubActions", "terraform", "aws-go-sdk-1705312000"])
                        .to_string(),
                };
                (rng.pick(&acct.roles).clone(), "", session)
            };
            let arn = format!("arn:aws:sts::{a}:assumed-role/{role}/{session}");
            let key = format!("ASIA{}", rng.upper_alnum(16));
            Who {
                kind,
                json: format!(
                    r#"{{"type":"AssumedRole","principalId":"{rid}:{session}","arn":"{arn}","accountId":"{a}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{rid}","arn":"arn:aws:iam::{a}:role/{path}{role}","accountId":"{a}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{since}","mfaAuthenticated":"{mfa}"}}}}}}"#
                ),
                ip: public_ip(rng),
                agent,
                arn,
            }
        }
        Kind::Service => {
            let svc = rng.pick(SERVICES).to_string();
            Who {
                kind,
                json: format!(r#"{{"type":"AWSService","invokedBy":"{svc}"}}"#),
                ip: svc.clone(),
                agent: svc,
                arn: String::new(),
            }
        }
        Kind::Root => {
            let arn = format!("arn:aws:iam::{a}:root");
            let key = format!("ASIA{}", rng.upper_alnum(16));
            Who {
                kind,
                json: format!(
                    r#"{{"type":"Root","principalId":"{a}","arn":"{arn}","accountId":"{a}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{since}","mfaAuthenticated":"true"}}}}}}"#
                ),
                ip: public_ip(rng),
                agent: AGENTS[5].to_string(),
                arn,
            }
        }
        Kind::Federated => {
            let who = rng
                .pick(&acct.people)
                .split('@')
                .next()
                .unwrap_or("fed")
                .to_string();
            let (uname, upid, _) = acct.users[6].clone();
            let arn = format!("arn:aws:sts::{a}:federated-user/{who}");
            let key = format!("ASIA{}", rng.upper_alnum(16));
            Who {
                kind,
                json: format!(
                    r#"{{"type":"FederatedUser","principalId":"{a}:{who}","arn":"{arn}","accountId":"{a}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"IAMUser","principalId":"{upid}","arn":"arn:aws:iam::{a}:user/{uname}","accountId":"{a}","userName":"{uname}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{since}","mfaAuthenticated":"false"}}}}}}"#
                ),
                ip: public_ip(rng),
                agent,
                arn,
            }
        }
    }
}
