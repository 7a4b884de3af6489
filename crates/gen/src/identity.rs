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
    /// An IAM Identity Center user acting through an identity-aware
    /// service (`IdentityCenterUser`).
    IdentityCenter,
    /// The caller of `AssumeRoleWithSAML` (`SAMLUser`).
    Saml,
    /// The caller of `AssumeRoleWithWebIdentity` (`WebIdentityUser`).
    WebIdentity,
    /// Access-portal and sign-in events before there is a principal (`Unknown`).
    Unknown,
    /// A principal of another account (`AWSAccount`).
    CrossAccount,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [Kind] = &[
        Kind::IamUser,
        Kind::AssumedRole,
        Kind::Sso,
        Kind::Service,
        Kind::Root,
        Kind::Federated,
        Kind::IdentityCenter,
        Kind::Saml,
        Kind::WebIdentity,
        Kind::Unknown,
        Kind::CrossAccount,
    ];

    /// CloudTrail's `userIdentity.type` for this kind.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::IamUser => "IAMUser",
            Kind::AssumedRole | Kind::Sso => "AssumedRole",
            Kind::Service => "AWSService",
            Kind::Root => "Root",
            Kind::Federated => "FederatedUser",
            Kind::IdentityCenter => "IdentityCenterUser",
            Kind::Saml => "SAMLUser",
            Kind::WebIdentity => "WebIdentityUser",
            Kind::Unknown => "Unknown",
            Kind::CrossAccount => "AWSAccount",
        }
    }
}

/// The principals of one account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub users: Vec<(String, String, String)>,
    pub roles: Vec<(String, String)>,
    pub sso: Vec<(String, String)>,
    pub people: Vec<String>,
    /// Identity-store user ids of `people`, in the same order.
    pub people_ids: Vec<String>,
    /// The IAM Identity Center identity store (`d-` and 10 hex digits).
    pub identity_store: String,
    /// The SAML identity provider: its IAM name, issuer URL and the
    /// base64 hash CloudTrail shows for it.
    pub saml: (String, String, String),
    /// Roles federated users assume (SAML, web identity).
    pub fed_roles: Vec<(String, String)>,
    /// Principals of other accounts that read this account's resources:
    /// (account, principal id).
    pub partners: Vec<(String, String)>,
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
const FED_ROLES: &[&str] = &[
    "OktaAdmin",
    "OktaDeveloper",
    "OktaReadOnly",
    "mobile-app-google",
];
const GITHUB_REPOS: &[&str] = &[
    "example-org/orders-service",
    "example-org/infrastructure",
    "example-org/web-frontend",
];
/// Services that make cross-account calls on another account's behalf.
const CROSS_ACCOUNT_SERVICES: &[&str] = &[
    "athena.amazonaws.com",
    "glue.amazonaws.com",
    "codebuild.amazonaws.com",
];
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
            people_ids: PEOPLE.iter().map(|_| rng.uuid()).collect(),
            identity_store: format!("d-{}", rng.hex(10)),
            saml: (
                "OktaSSO".to_string(),
                format!("http://www.okta.com/exk{}", rng.alnum(17)),
                format!("{}=", rng.base64(27)),
            ),
            fed_roles: FED_ROLES
                .iter()
                .map(|r| (r.to_string(), format!("AROA{}", rng.upper_alnum(17))))
                .collect(),
            partners: (0..3)
                .map(|i| {
                    let pid = if i == 0 {
                        format!("AIDA{}", rng.upper_alnum(17))
                    } else {
                        format!("AROA{}", rng.upper_alnum(17))
                    };
                    (format!("{}{}", rng.range(1, 9), rng.digits(11)), pid)
                })
                .collect(),
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
    /// ARN of the caller (empty for services and for identities without one).
    pub arn: String,
    /// For `SAMLUser` and `WebIdentityUser`: what the token said.
    pub fed: Option<Federation>,
}

/// The identity provider's side of a SAML or web-identity sign-in.
#[derive(Debug, Clone)]
pub struct Federation {
    /// For SAML the provider's IAM ARN; for OIDC the issuer CloudTrail names.
    pub provider: String,
    /// The SAML issuer URL (empty for OIDC).
    pub issuer: String,
    /// `subject` / `subjectFromWebIdentityToken`.
    pub subject: String,
    pub audience: String,
    /// The role the token is exchanged for, and its id.
    pub role: (String, String),
    pub session: String,
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

/// Like [`pick_kind`], with a small share of IAM Identity Center users:
/// who makes create records.
pub fn pick_create_kind(rng: &mut Rng) -> Kind {
    if rng.chance(0.03) {
        Kind::IdentityCenter
    } else {
        pick_kind(rng)
    }
}

/// GitHub's Actions runners (Azure) and other hosted CI.
fn runner_ip(rng: &mut Rng) -> String {
    let first = *rng.pick(&[4u64, 13, 20, 40, 52]);
    format!(
        "{first}.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

const BROWSER: usize = 5;
const GITHUB_AGENT: &str = "aws-sdk-js/3.552.0 ua/2.1 os/linux#6.5.0-1018-azure lang/js md/nodejs#20.12.1 api/sts#3.552.0 configure-aws-credentials-for-github-actions";
const MOBILE_AGENT: &str = "aws-sdk-android/2.75.0 Linux/4.19.191 Dalvik/2.1.0/0 en_US";

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
                fed: None,
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
                fed: None,
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
                fed: None,
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
                agent: AGENTS[BROWSER].to_string(),
                arn,
                fed: None,
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
                fed: None,
            }
        }
        Kind::IdentityCenter => {
            let i = rng.index(acct.people_ids.len());
            let uid = &acct.people_ids[i];
            let store = &acct.identity_store;
            let cred = format!("{}_{}", rng.alnum(38), rng.alnum(20));
            Who {
                kind,
                json: format!(
                    r#"{{"type":"IdentityCenterUser","accountId":"{a}","onBehalfOf":{{"userId":"{uid}","identityStoreArn":"arn:aws:identitystore::{a}:identitystore/{store}"}},"credentialId":"{cred}"}}"#
                ),
                ip: public_ip(rng),
                agent: if rng.chance(0.5) {
                    AGENTS[BROWSER].to_string()
                } else {
                    agent
                },
                arn: String::new(),
                fed: None,
            }
        }
        Kind::Saml => {
            let user = rng.pick(&acct.people).clone();
            let (idp, issuer, hash) = &acct.saml;
            let role = acct.fed_roles[rng.index(3)].clone();
            Who {
                kind,
                json: format!(
                    r#"{{"type":"SAMLUser","principalId":"{hash}:{user}","userName":"{user}","identityProvider":"{hash}"}}"#
                ),
                ip: public_ip(rng),
                agent: AGENTS[BROWSER].to_string(),
                arn: String::new(),
                fed: Some(Federation {
                    provider: format!("arn:aws:iam::{a}:saml-provider/{idp}"),
                    issuer: issuer.clone(),
                    subject: user.clone(),
                    audience: "https://signin.aws.amazon.com/saml".into(),
                    role,
                    session: user,
                }),
            }
        }
        Kind::WebIdentity => {
            if rng.chance(0.75) {
                // GitHub Actions exchanging its OIDC token for a deploy role.
                let repo = rng.pick(GITHUB_REPOS);
                let sub = match rng.below(3) {
                    0 => format!("repo:{repo}:environment:production"),
                    1 => format!("repo:{repo}:pull_request"),
                    _ => format!("repo:{repo}:ref:refs/heads/main"),
                };
                let idp =
                    format!("arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com");
                Who {
                    kind,
                    json: format!(
                        r#"{{"type":"WebIdentityUser","principalId":"{idp}:sts.amazonaws.com:{sub}","userName":"{sub}","identityProvider":"{idp}"}}"#
                    ),
                    ip: runner_ip(rng),
                    agent: GITHUB_AGENT.to_string(),
                    arn: String::new(),
                    fed: Some(Federation {
                        provider: idp,
                        issuer: String::new(),
                        subject: sub,
                        audience: "sts.amazonaws.com".into(),
                        role: acct.roles[3].clone(),
                        session: "GitHubActions".into(),
                    }),
                }
            } else {
                // A mobile app signing its users in with Google.
                let app = format!(
                    "{}-{}.apps.googleusercontent.com",
                    rng.digits(12),
                    rng.lower_alnum(32)
                );
                let sub = format!("1{}", rng.digits(20));
                Who {
                    kind,
                    json: format!(
                        r#"{{"type":"WebIdentityUser","principalId":"accounts.google.com:{app}:{sub}","userName":"{sub}","identityProvider":"accounts.google.com"}}"#
                    ),
                    ip: public_ip(rng),
                    agent: MOBILE_AGENT.to_string(),
                    arn: String::new(),
                    fed: Some(Federation {
                        provider: "accounts.google.com".into(),
                        issuer: String::new(),
                        subject: sub.clone(),
                        audience: app,
                        role: acct.fed_roles[3].clone(),
                        session: format!("app-{sub}"),
                    }),
                }
            }
        }
        Kind::Unknown => {
            let user = rng.pick(&acct.people).clone();
            Who {
                kind,
                json: format!(
                    r#"{{"type":"Unknown","principalId":"{a}:{user}","accountId":"{a}","userName":"{user}"}}"#
                ),
                ip: public_ip(rng),
                agent: if rng.chance(0.8) {
                    AGENTS[BROWSER].to_string()
                } else {
                    AGENTS[0].to_string()
                },
                arn: String::new(),
                fed: None,
            }
        }
        Kind::CrossAccount => {
            let (other, pid) = rng.pick(&acct.partners).clone();
            let pid = if pid.starts_with("AROA") {
                format!("{pid}:{}", rng.pick(&["reporting", "etl-job", "ci"]))
            } else {
                pid
            };
            if rng.chance(0.3) {
                let svc = rng.pick(CROSS_ACCOUNT_SERVICES).to_string();
                Who {
                    kind,
                    json: format!(
                        r#"{{"type":"AWSAccount","principalId":"{pid}","accountId":"{other}","invokedBy":"{svc}"}}"#
                    ),
                    ip: svc.clone(),
                    agent: svc,
                    arn: String::new(),
                    fed: None,
                }
            } else {
                Who {
                    kind,
                    json: format!(
                        r#"{{"type":"AWSAccount","principalId":"{pid}","accountId":"{other}"}}"#
                    ),
                    ip: public_ip(rng),
                    agent,
                    arn: String::new(),
                    fed: None,
                }
            }
        }
    }
}
