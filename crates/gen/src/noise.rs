//! Records that create nothing: the bulk of a real trail.

use crate::identity::{self, Account, Kind, Who};
use crate::rng::Rng;
use crate::time::{iso, Utc};
use std::fmt::Write;

/// Everything a record's envelope needs.
pub struct Ctx<'a> {
    pub acct: &'a Account,
    pub region: &'a str,
    pub time_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    Read,
    Write,
    AssumeRole,
    ConsoleLogin,
    Kms,
    S3Data,
    LambdaInvoke,
    Failed,
    /// `sts:AssumeRoleWithSAML` by a `SAMLUser`.
    SamlSignIn,
    /// `sts:AssumeRoleWithWebIdentity` by a `WebIdentityUser`.
    WebIdentitySignIn,
    /// The IAM Identity Center access portal and its sign-in (`Unknown`).
    Portal,
    /// Reads by principals of other accounts (`AWSAccount`).
    CrossAccountRead,
}

pub const MIX: &[(u32, NoiseKind)] = &[
    (26, NoiseKind::Read),
    (6, NoiseKind::Write),
    (14, NoiseKind::AssumeRole),
    (1, NoiseKind::ConsoleLogin),
    (14, NoiseKind::Kms),
    (28, NoiseKind::S3Data),
    (5, NoiseKind::LambdaInvoke),
    (6, NoiseKind::Failed),
    (1, NoiseKind::SamlSignIn),
    (2, NoiseKind::WebIdentitySignIn),
    (2, NoiseKind::Portal),
    (2, NoiseKind::CrossAccountRead),
];

fn host(service: &str, region: &str) -> String {
    match service {
        "iam" | "signin" => format!("{service}.amazonaws.com"),
        "sso" => format!("portal.sso.{region}.amazonaws.com"),
        _ => format!("{service}.{region}.amazonaws.com"),
    }
}

const TLS: &[(&str, &str)] = &[
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
];

/// The fields of one record, written in CloudTrail's order.
pub struct Rec<'a> {
    pub who: &'a Who,
    pub service: &'a str,
    pub name: &'a str,
    pub error: Option<(&'a str, String)>,
    pub params: String,
    pub response: String,
    pub additional: Option<String>,
    pub request_id: Option<String>,
    pub read_only: bool,
    pub resources: Option<String>,
    pub event_type: &'a str,
    pub management: bool,
    pub shared_event_id: bool,
    /// `serviceEventDetails`, for `AwsServiceEvent` records.
    pub service_details: Option<String>,
    pub category: &'a str,
}

impl Rec<'_> {
    pub fn write(&self, ctx: &Ctx<'_>, rng: &mut Rng, out: &mut String) {
        let region = if matches!(self.service, "iam" | "signin") {
            "us-east-1"
        } else {
            ctx.region
        };
        let w = self.who;
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.{}","userIdentity":{},"eventTime":"{}","eventSource":"{}.amazonaws.com","eventName":"{}","awsRegion":"{region}","sourceIPAddress":"{}","userAgent":"{}""#,
            if self.management { "09" } else { "10" },
            w.json,
            iso(ctx.time_ms),
            self.service,
            self.name,
            w.ip,
            w.agent,
        );
        if let Some((code, msg)) = &self.error {
            let _ = write!(out, r#","errorCode":"{code}","errorMessage":"{msg}""#);
        }
        let _ = write!(
            out,
            r#","requestParameters":{},"responseElements":{}"#,
            self.params, self.response
        );
        if let Some(a) = &self.additional {
            let _ = write!(out, r#","additionalEventData":{a}"#);
        }
        if let Some(r) = &self.request_id {
            let _ = write!(out, r#","requestID":"{r}""#);
        }
        let _ = write!(
            out,
            r#","eventID":"{}","readOnly":{}"#,
            rng.uuid(),
            self.read_only
        );
        if let Some(r) = &self.resources {
            let _ = write!(out, r#","resources":{r}"#);
        }
        let _ = write!(
            out,
            r#","eventType":"{}","managementEvent":{},"recipientAccountId":"{}""#,
            self.event_type, self.management, ctx.acct.id
        );
        if self.shared_event_id {
            let _ = write!(out, r#","sharedEventID":"{}""#, rng.uuid());
        }
        // Calls from inside a VPC (instance and task roles) come through an endpoint.
        if w.kind == Kind::AssumedRole && rng.chance(0.6) {
            let _ = write!(
                out,
                r#","vpcEndpointId":"vpce-0{}","vpcEndpointAccountId":"{}""#,
                rng.hex(16),
                ctx.acct.id
            );
        }
        if let Some(d) = &self.service_details {
            let _ = write!(out, r#","serviceEventDetails":{d}"#);
        }
        let _ = write!(out, r#","eventCategory":"{}""#, self.category);
        if w.kind != Kind::Service {
            let (v, c) = rng.pick(TLS);
            let _ = write!(
                out,
                r#","tlsDetails":{{"tlsVersion":"{v}","cipherSuite":"{c}","clientProvidedHostHeader":"{}"}}"#,
                host(self.service, region)
            );
        }
        if self.event_type == "AwsConsoleSignIn" || (w.kind == Kind::Sso && rng.chance(0.3)) {
            out.push_str(r#","sessionCredentialFromConsole":"true""#);
        }
        out.push('}');
    }
}

fn api<'a>(who: &'a Who, service: &'a str, name: &'a str, params: String) -> Rec<'a> {
    Rec {
        who,
        service,
        name,
        error: None,
        params,
        response: "null".into(),
        additional: None,
        request_id: None,
        read_only: true,
        resources: None,
        event_type: "AwsApiCall",
        management: true,
        shared_event_id: false,
        service_details: None,
        category: "Management",
    }
}

fn s3_extra(rng: &mut Rng, out_bytes: u64, in_bytes: u64) -> String {
    format!(
        r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{in_bytes},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}=","bytesTransferredOut":{out_bytes}}}"#,
        rng.base64(75)
    )
}

fn object_key(rng: &mut Rng, t: &Utc) -> String {
    match rng.below(4) {
        0 => format!(
            "raw/events/{}/part-{:05}-{}.snappy.parquet",
            t.format("year=%Y/month=%m/day=%d"),
            rng.below(400),
            rng.uuid()
        ),
        1 => format!("uploads/{}/{}.jpg", rng.uuid(), rng.lower_alnum(12)),
        2 => format!(
            "state/{}/terraform.tfstate",
            rng.pick(&["network", "eks", "iam", "data"])
        ),
        _ => format!(
            "AWSLogs/{}/elasticloadbalancing/{}.log.gz",
            rng.digits(12),
            rng.lower_alnum(24)
        ),
    }
}

/// Fresh temporary credentials expiring at `exp_ms`.
fn credentials(rng: &mut Rng, exp_ms: i64) -> String {
    let key = rng.upper_alnum(16);
    let n = rng.range(800, 1200) as usize;
    format!(
        r#"{{"accessKeyId":"ASIA{key}","sessionToken":"IQoJb3JpZ2luX2VjE{}","expiration":"{}"}}"#,
        rng.base64(n),
        Utc::from_ms(exp_ms).expiration()
    )
}

/// `AssumeRoleWithSAML` or `AssumeRoleWithWebIdentity`: a federated
/// principal exchanging its token for a role session.
fn federated_sign_in<'a>(who: &'a Who, ctx: &Ctx<'_>, rng: &mut Rng) -> Rec<'a> {
    let acct = &ctx.acct.id;
    let fed = who
        .fed
        .as_ref()
        .expect("SAML and web identities carry their federation");
    let (role, role_id) = &fed.role;
    let session = &fed.session;
    let role_arn = format!("arn:aws:iam::{acct}:role/{role}");
    let creds = credentials(rng, ctx.time_ms + 3_600_000);
    let assumed = format!(
        r#"{{"assumedRoleId":"{role_id}:{session}","arn":"arn:aws:sts::{acct}:assumed-role/{role}/{session}"}}"#
    );
    let mut r = if who.kind == Kind::Saml {
        let mut r = api(
            who,
            "sts",
            "AssumeRoleWithSAML",
            format!(
                r#"{{"sAMLAssertionID":"id{}","roleSessionName":"{session}","durationSeconds":3600,"roleArn":"{role_arn}","principalArn":"{}"}}"#,
                rng.digits(22),
                fed.provider
            ),
        );
        let hash = &ctx.acct.saml.2;
        r.response = format!(
            r#"{{"subjectType":"unspecified","issuer":"{}","credentials":{creds},"nameQualifier":"{hash}","assumedRoleUser":{assumed},"subject":"{}","audience":"{}"}}"#,
            fed.issuer, fed.subject, fed.audience
        );
        r.resources = Some(format!(
            r#"[{{"accountId":"{acct}","type":"AWS::IAM::Role","ARN":"{role_arn}"}},{{"accountId":"{acct}","type":"AWS::IAM::SAMLProvider","ARN":"{}"}}]"#,
            fed.provider
        ));
        r
    } else {
        let mut r = api(
            who,
            "sts",
            "AssumeRoleWithWebIdentity",
            format!(
                r#"{{"roleArn":"{role_arn}","roleSessionName":"{session}","durationSeconds":3600}}"#
            ),
        );
        r.response = format!(
            r#"{{"credentials":{creds},"subjectFromWebIdentityToken":"{}","assumedRoleUser":{assumed},"provider":"{}","audience":"{}"}}"#,
            fed.subject, fed.provider, fed.audience
        );
        r.additional =
            Some(r#"{"identityProviderConnectionVerificationMethod":"IAMTrustStore"}"#.into());
        r.resources = Some(format!(
            r#"[{{"accountId":"{acct}","type":"AWS::IAM::Role","ARN":"{role_arn}"}}]"#
        ));
        r
    };
    r.read_only = false;
    r.request_id = Some(rng.uuid());
    r
}

/// Writes one noise record of `kind` to `out`.
pub fn write(kind: NoiseKind, ctx: &Ctx<'_>, rng: &mut Rng, out: &mut String) {
    let a = ctx.acct;
    let acct = &a.id;
    let region = ctx.region;
    let t = Utc::from_ms(ctx.time_ms);
    let who_kind = match kind {
        NoiseKind::ConsoleLogin => *rng.pick(&[Kind::IamUser, Kind::Sso, Kind::Sso, Kind::Root]),
        NoiseKind::Kms | NoiseKind::LambdaInvoke | NoiseKind::AssumeRole if rng.chance(0.4) => {
            Kind::Service
        }
        NoiseKind::SamlSignIn => Kind::Saml,
        NoiseKind::WebIdentitySignIn => Kind::WebIdentity,
        NoiseKind::Portal => Kind::Unknown,
        NoiseKind::CrossAccountRead => Kind::CrossAccount,
        _ => identity::pick_kind(rng),
    };
    let who = identity::render(a, who_kind, ctx.time_ms, rng);
    let inst = rng.pick(&a.instances).clone();
    let bucket = rng.pick(&a.buckets).clone();
    let func = rng.pick(&a.functions).clone();
    let key_arn = format!("arn:aws:kms:{region}:{acct}:key/{}", rng.pick(&a.keys));
    let role = rng.pick(&a.roles).0.clone();
    let uuid_req = rng.uuid();
    let rec = match kind {
        NoiseKind::Read => {
            let (service, name, params): (&str, &str, String) = match rng.below(16) {
                0 => (
                    "ec2",
                    "DescribeInstances",
                    format!(
                        r#"{{"instancesSet":{{"items":[{{"instanceId":"{inst}"}}]}},"filterSet":{{}},"includeAllResources":false}}"#
                    ),
                ),
                1 => (
                    "ec2",
                    "DescribeSecurityGroups",
                    format!(
                        r#"{{"securityGroupSet":{{}},"securityGroupIdSet":{{}},"filterSet":{{"items":[{{"name":"vpc-id","valueSet":{{"items":[{{"value":"{}"}}]}}}}]}}}}"#,
                        a.vpc
                    ),
                ),
                2 => (
                    "ec2",
                    "DescribeVolumes",
                    format!(
                        r#"{{"volumeSet":{{}},"filterSet":{{"items":[{{"name":"attachment.instance-id","valueSet":{{"items":[{{"value":"{inst}"}}]}}}}]}}}}"#
                    ),
                ),
                3 => (
                    "ec2",
                    "DescribeNetworkInterfaces",
                    format!(
                        r#"{{"networkInterfaceIdSet":{{}},"filterSet":{{"items":[{{"name":"vpc-id","valueSet":{{"items":[{{"value":"{}"}}]}}}},{{"name":"status","valueSet":{{"items":[{{"value":"in-use"}}]}}}}]}}}}"#,
                        a.vpc
                    ),
                ),
                4 => ("iam", "GetRole", format!(r#"{{"roleName":"{role}"}}"#)),
                5 => (
                    "iam",
                    "ListAttachedRolePolicies",
                    format!(r#"{{"roleName":"{role}","maxItems":100}}"#),
                ),
                6 => (
                    "lambda",
                    "GetFunction20150331v2",
                    format!(r#"{{"functionName":"{func}"}}"#),
                ),
                7 => (
                    "ssm",
                    "GetParameter",
                    format!(
                        r#"{{"name":"/{}/{}/db-password","withDecryption":true}}"#,
                        func,
                        rng.pick(&["prod", "staging", "dev"])
                    ),
                ),
                8 => (
                    "logs",
                    "DescribeLogStreams",
                    format!(
                        r#"{{"logGroupName":"/aws/lambda/{func}","orderBy":"LastEventTime","descending":true,"limit":1}}"#
                    ),
                ),
                9 => (
                    "monitoring",
                    "DescribeAlarms",
                    format!(
                        r#"{{"alarmNamePrefix":"{func}-","stateValue":"ALARM","maxRecords":100}}"#
                    ),
                ),
                10 => (
                    "dynamodb",
                    "DescribeTable",
                    format!(
                        r#"{{"tableName":"{}"}}"#,
                        rng.pick(&["Orders", "Sessions", "Inventory", "terraform-locks"])
                    ),
                ),
                11 => ("sts", "GetCallerIdentity", "null".into()),
                12 => (
                    "rds",
                    "DescribeDBInstances",
                    format!(
                        r#"{{"dBInstanceIdentifier":"{}-db","maxRecords":100}}"#,
                        rng.pick(&["orders", "auth", "reporting"])
                    ),
                ),
                13 => (
                    "ecs",
                    "DescribeServices",
                    format!(
                        r#"{{"cluster":"arn:aws:ecs:{region}:{acct}:cluster/prod","services":["arn:aws:ecs:{region}:{acct}:service/prod/{func}"],"include":["TAGS"]}}"#
                    ),
                ),
                14 => (
                    "secretsmanager",
                    "GetSecretValue",
                    format!(
                        r#"{{"secretId":"arn:aws:secretsmanager:{region}:{acct}:secret:{func}/api-key-{}"}}"#,
                        rng.alnum(6)
                    ),
                ),
                _ => (
                    "elasticloadbalancing",
                    "DescribeTargetHealth",
                    format!(
                        r#"{{"targetGroupArn":"arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{func}-tg/{}"}}"#,
                        rng.hex(16)
                    ),
                ),
            };
            let mut r = api(&who, service, name, params);
            r.request_id = Some(uuid_req);
            r
        }
        NoiseKind::Write => {
            let (service, name, params, response): (&str, &str, String, String) = match rng.below(4)
            {
                0 => (
                    "ec2",
                    "CreateTags",
                    format!(
                        r#"{{"resourcesSet":{{"items":[{{"resourceId":"{inst}"}}]}},"tagSet":{{"items":[{{"key":"Patch Group","value":"{}"}}]}}}}"#,
                        rng.pick(&["prod", "dev"])
                    ),
                    format!(r#"{{"requestId":"{uuid_req}","_return":true}}"#),
                ),
                1 => (
                    "ssm",
                    "UpdateInstanceInformation",
                    format!(
                        r#"{{"instanceId":"{inst}","agentVersion":"3.3.40.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"10.0.{}.{}","computerName":"ip-10-0-1-5.{region}.compute.internal","agentName":"amazon-ssm-agent","availabilityZone":"{region}a","availabilityZoneId":"euw1-az1"}}"#,
                        rng.below(256),
                        rng.range(1, 254)
                    ),
                    "null".into(),
                ),
                2 => (
                    "iam",
                    "AttachRolePolicy",
                    format!(
                        r#"{{"roleName":"{role}","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}"#
                    ),
                    "null".into(),
                ),
                _ => (
                    "logs",
                    "CreateLogStream",
                    format!(
                        r#"{{"logGroupName":"/aws/lambda/{func}","logStreamName":"{}/[$LATEST]{}"}}"#,
                        t.path(),
                        rng.hex(32)
                    ),
                    "null".into(),
                ),
            };
            let mut r = api(&who, service, name, params);
            r.response = response;
            r.read_only = false;
            r.request_id = Some(uuid_req);
            r
        }
        NoiseKind::AssumeRole => {
            let target = rng.pick(&a.roles).clone();
            let session = if who.kind == Kind::Service {
                rng.digits(19)
            } else {
                format!("botocore-session-{}", rng.digits(10))
            };
            let exp = Utc::from_ms(ctx.time_ms + 3_600_000);
            let mut r = api(
                &who,
                "sts",
                "AssumeRole",
                format!(
                    r#"{{"roleArn":"arn:aws:iam::{acct}:role/{}","roleSessionName":"{session}","durationSeconds":3600}}"#,
                    target.0
                ),
            );
            r.response = format!(
                r#"{{"credentials":{{"accessKeyId":"ASIA{}","sessionToken":"IQoJb3JpZ2luX2VjE{}","expiration":"{}"}},"assumedRoleUser":{{"assumedRoleId":"{}:{session}","arn":"arn:aws:sts::{acct}:assumed-role/{}/{session}"}}}}"#,
                rng.upper_alnum(16),
                {
                    let n = rng.range(800, 1200) as usize;
                    rng.base64(n)
                },
                exp.expiration(),
                target.1,
                target.0
            );
            r.request_id = Some(uuid_req);
            r.resources = Some(format!(
                r#"[{{"accountId":"{acct}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{acct}:role/{}"}}]"#,
                target.0
            ));
            r.shared_event_id = who.kind == Kind::Service;
            r
        }
        NoiseKind::ConsoleLogin => {
            let mut r = api(&who, "signin", "ConsoleLogin", "null".into());
            r.response = r#"{"ConsoleLogin":"Success"}"#.into();
            r.additional = Some(format!(
                r#"{{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_{region}_{}","MobileVersion":"No","MFAUsed":"{}"}}"#,
                rng.hex(16),
                if rng.chance(0.7) { "Yes" } else { "No" }
            ));
            r.read_only = false;
            r.event_type = "AwsConsoleSignIn";
            r
        }
        NoiseKind::Kms => {
            let context = match rng.below(3) {
                0 => format!(
                    r#"{{"aws:lambda:FunctionArn":"arn:aws:lambda:{region}:{acct}:function:{func}"}}"#
                ),
                1 => format!(
                    r#"{{"aws:s3:arn":"arn:aws:s3:::{bucket}/{}"}}"#,
                    object_key(rng, &t)
                ),
                _ => format!(
                    r#"{{"SecretARN":"arn:aws:secretsmanager:{region}:{acct}:secret:{func}/api-key-{}","SecretVersionId":"{}"}}"#,
                    rng.alnum(6),
                    rng.uuid()
                ),
            };
            let (name, params) = if rng.chance(0.7) {
                (
                    "Decrypt",
                    format!(
                        r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{context}}}"#
                    ),
                )
            } else {
                (
                    "GenerateDataKey",
                    format!(
                        r#"{{"keyId":"{key_arn}","encryptionContext":{context},"keySpec":"AES_256"}}"#
                    ),
                )
            };
            let mut r = api(&who, "kms", name, params);
            r.request_id = Some(uuid_req);
            r.resources = Some(format!(
                r#"[{{"accountId":"{acct}","type":"AWS::KMS::Key","ARN":"{key_arn}"}}]"#
            ));
            r.shared_event_id = who.kind == Kind::Service;
            r
        }
        NoiseKind::S3Data => {
            let key = object_key(rng, &t);
            let put = rng.chance(0.35);
            let name = if put { "PutObject" } else { "GetObject" };
            let size = rng.range(200, 8_000_000);
            let mut r = api(
                &who,
                "s3",
                name,
                format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{key}"}}"#
                ),
            );
            if put {
                r.response = format!(
                    r#"{{"x-amz-server-side-encryption-aws-kms-key-id":"{key_arn}","x-amz-server-side-encryption":"aws:kms","x-amz-version-id":"{}"}}"#,
                    rng.alnum(32)
                );
            }
            r.additional = Some(if put {
                s3_extra(rng, 0, size)
            } else {
                s3_extra(rng, size, 0)
            });
            r.request_id = Some(rng.upper_alnum(16));
            r.read_only = !put;
            r.resources = Some(format!(
                r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{key}"}},{{"accountId":"{acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
            ));
            r.management = false;
            r.category = "Data";
            r
        }
        NoiseKind::LambdaInvoke => {
            let arn = format!("arn:aws:lambda:{region}:{acct}:function:{func}");
            let mut r = api(
                &who,
                "lambda",
                "Invoke",
                format!(
                    r#"{{"functionName":"{arn}","invocationType":"{}","logType":"None"}}"#,
                    rng.pick(&["Event", "RequestResponse"])
                ),
            );
            r.additional = Some(format!(r#"{{"functionVersion":"{arn}:$LATEST"}}"#));
            r.request_id = Some(uuid_req);
            r.read_only = false;
            r.resources = Some(format!(
                r#"[{{"accountId":"{acct}","type":"AWS::Lambda::Function","ARN":"{arn}"}}]"#
            ));
            r.management = false;
            r.category = "Data";
            r
        }
        NoiseKind::Failed => {
            let caller = if who.arn.is_empty() {
                format!("arn:aws:iam::{acct}:root")
            } else {
                who.arn.clone()
            };
            let mut r = match rng.below(5) {
                0 | 1 => {
                    let mut r = api(
                        &who,
                        "ec2",
                        "RunInstances",
                        format!(
                            r#"{{"instancesSet":{{"items":[{{"imageId":"ami-0{}","minCount":1,"maxCount":1}}]}},"instanceType":"m5.large","blockDeviceMapping":{{}},"monitoring":{{"enabled":false}},"disableApiTermination":false,"disableApiStop":false,"clientToken":"{}","tagSpecificationSet":{{"items":[{{"resourceType":"instance","tags":[{{"key":"Name","value":"worker"}}]}}]}}}}"#,
                            rng.hex(16),
                            rng.uuid()
                        ),
                    );
                    r.error = Some(("Client.UnauthorizedOperation", format!(
                        "You are not authorized to perform this operation. User: {caller} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:{region}:{acct}:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: {}",
                        { let n = rng.range(700, 1100) as usize; rng.base64(n) }.replace('/', "_").replace('+', "-"))));
                    r
                }
                2 => {
                    let mut r = api(
                        &who,
                        "s3",
                        "GetObject",
                        format!(
                            r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{}"}}"#,
                            object_key(rng, &t)
                        ),
                    );
                    r.error = Some(("AccessDenied", "Access Denied".into()));
                    r.additional = Some(s3_extra(rng, 243, 0));
                    r.management = false;
                    r.category = "Data";
                    r.resources = Some(format!(
                        r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/x"}},{{"accountId":"{acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
                    ));
                    r
                }
                3 => {
                    let mut r = api(
                        &who,
                        "iam",
                        "CreateRole",
                        format!(
                            r#"{{"roleName":"{role}","assumeRolePolicyDocument":"{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Principal\": {{\"Service\": \"lambda.amazonaws.com\"}}, \"Action\": \"sts:AssumeRole\"}}]\n}}","description":"managed by terraform"}}"#
                        ),
                    );
                    r.error = Some((
                        "EntityAlreadyExistsException",
                        format!("Role with name {role} already exists."),
                    ));
                    r
                }
                _ => {
                    let mut r = api(
                        &who,
                        "ec2",
                        "DescribeInstances",
                        r#"{"instancesSet":{},"filterSet":{},"maxResults":1000}"#.into(),
                    );
                    r.error = Some((
                        "Client.RequestLimitExceeded",
                        "Request limit exceeded.".into(),
                    ));
                    r
                }
            };
            r.read_only = r.name.starts_with("Describe") || r.name.starts_with("Get");
            r.request_id = Some(uuid_req);
            r
        }
        NoiseKind::SamlSignIn | NoiseKind::WebIdentitySignIn => federated_sign_in(&who, ctx, rng),
        NoiseKind::Portal => {
            let sso_role = rng.pick(&a.sso).0.clone();
            let short = sso_role
                .strip_prefix("AWSReservedSSO_")
                .and_then(|r| r.rsplit_once('_'))
                .map_or(sso_role.as_str(), |(r, _)| r)
                .to_string();
            match rng.below(5) {
                0 => {
                    // Signing in to the access portal.
                    let name = *rng.pick(&["CredentialChallenge", "UserAuthentication"]);
                    let mut r = api(&who, "signin", name, "null".into());
                    r.additional = Some(format!(
                        r#"{{"AuthWorkflowID":"{}","CredentialType":"{}"}}"#,
                        rng.uuid(),
                        rng.pick(&["PASSWORD", "TOTP", "WEBAUTHN"])
                    ));
                    r.request_id = Some(uuid_req);
                    r.read_only = false;
                    r.event_type = "AwsServiceEvent";
                    r.service_details = Some(format!(r#"{{"{name}":"Success"}}"#));
                    r
                }
                1 => {
                    let mut r = api(&who, "sso", "ListAccounts", "null".into());
                    r.request_id = Some(uuid_req);
                    r
                }
                2 => {
                    let mut r = api(
                        &who,
                        "sso",
                        "ListAccountRoles",
                        format!(r#"{{"accountId":"{acct}"}}"#),
                    );
                    r.request_id = Some(uuid_req);
                    r
                }
                3 => {
                    let mut r = api(&who, "sso", "Federate", "null".into());
                    r.request_id = Some(uuid_req);
                    r
                }
                _ => {
                    let mut r = api(
                        &who,
                        "sso",
                        "GetRoleCredentials",
                        format!(r#"{{"accountId":"{acct}","roleName":"{short}"}}"#),
                    );
                    r.request_id = Some(uuid_req);
                    r
                }
            }
        }
        NoiseKind::CrossAccountRead => {
            let mut r = match rng.below(3) {
                0 => {
                    let key = object_key(rng, &t);
                    let size = rng.range(200, 8_000_000);
                    let mut r = api(
                        &who,
                        "s3",
                        "GetObject",
                        format!(
                            r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{key}"}}"#
                        ),
                    );
                    r.additional = Some(s3_extra(rng, size, 0));
                    r.request_id = Some(rng.upper_alnum(16));
                    r.resources = Some(format!(
                        r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{key}"}},{{"accountId":"{acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
                    ));
                    r.management = false;
                    r.category = "Data";
                    r
                }
                1 => {
                    let mut r = api(
                        &who,
                        "kms",
                        "Decrypt",
                        format!(
                            r#"{{"keyId":"{key_arn}","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#
                        ),
                    );
                    r.request_id = Some(uuid_req);
                    r.resources = Some(format!(
                        r#"[{{"accountId":"{acct}","type":"AWS::KMS::Key","ARN":"{key_arn}"}}]"#
                    ));
                    r
                }
                _ => {
                    let mut r = api(
                        &who,
                        "ecr",
                        "BatchGetImage",
                        format!(
                            r#"{{"repositoryName":"{func}","registryId":"{acct}","imageIds":[{{"imageTag":"latest"}}],"acceptedMediaTypes":["application/vnd.docker.distribution.manifest.v2+json","application/vnd.oci.image.manifest.v1+json"]}}"#
                        ),
                    );
                    r.request_id = Some(uuid_req);
                    r.resources = Some(format!(
                        r#"[{{"accountId":"{acct}","type":"AWS::ECR::Repository","ARN":"arn:aws:ecr:{region}:{acct}:repository/{func}"}}]"#
                    ));
                    r
                }
            };
            // Delivered to both accounts under one shared id.
            r.shared_event_id = true;
            r
        }
    };
    rec.write(ctx, rng, out);
}
