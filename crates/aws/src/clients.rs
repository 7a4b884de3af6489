//! One SDK client per (account, region, service), built on first use and
//! reused for the whole run (and, in Lambda, across invocations).
//!
//! Credentials come from the standard chain. With `assume_role`, every
//! account other than the caller's own is reached through
//! `arn:<partition>:iam::<account>:role/<name>`, in the one named
//! [`Session`] per account; the SDK's identity cache refreshes it before it
//! expires.

use crate::calls::CallCounter;
use crate::error::{CallError, ErrorKind};
use crate::session::{AssumeRole, Session};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// What the command line (or the Lambda's environment) says about access.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides every service's endpoint (`AWS_ENDPOINT_URL` is read by
    /// the SDK itself).
    pub endpoint_url: Option<String>,
    /// Role name to assume in member accounts.
    pub assume_role: Option<String>,
    /// How tagwarden names itself there.
    pub session: Session,
    /// SDK attempts per call, standard mode (exponential backoff with full
    /// jitter). 0 means the default.
    pub max_attempts: u32,
}

/// Where a call goes.
pub use tagwarden_core::catalog::Scope;

type Cache<C> = Mutex<HashMap<(String, String), C>>;

pub struct Clients {
    base: SdkConfig,
    assume_role: Option<String>,
    session: Session,
    counter: CallCounter,
    /// (account, ARN) of the caller. Only a success is kept: a failed
    /// lookup is asked again next time.
    own_identity: OnceCell<(String, String)>,
    accounts: Mutex<HashMap<String, Arc<OnceCell<SdkConfig>>>>,
    ec2: Cache<aws_sdk_ec2::Client>,
    s3: Cache<aws_sdk_s3::Client>,
    iam: Cache<aws_sdk_iam::Client>,
    autoscaling: Cache<aws_sdk_autoscaling::Client>,
    tagging: Cache<aws_sdk_resourcegroupstagging::Client>,
    dynamodb: Cache<aws_sdk_dynamodb::Client>,
    rds: Cache<aws_sdk_rds::Client>,
    lambda: Cache<aws_sdk_lambda::Client>,
    sns: Cache<aws_sdk_sns::Client>,
    sqs: Cache<aws_sdk_sqs::Client>,
    /// S3 clients by bucket, each in its bucket's region; a client made
    /// after a failed lookup is kept only until the instant beside it.
    buckets: Mutex<HashMap<String, (aws_sdk_s3::Client, Option<Instant>)>>,
}

pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

/// The SDK's standard retry: exponential backoff with full jitter. Not
/// adaptive: its client-side rate limiter, fed by a few throttles among a
/// few hundred calls, folded token waits of up to 20 s into the backoff
/// (seen through a proxy throttling 20% of calls), where one jittered
/// second was what the throttle asked for.
pub fn retry_config(attempts: u32) -> RetryConfig {
    RetryConfig::standard().with_max_attempts(attempts)
}

/// How long a bucket whose region could not be read is not asked again.
pub const LOOKUP_RETRY: Duration = Duration::from_secs(60);

impl Clients {
    pub async fn load(settings: Settings) -> Self {
        let attempts = match settings.max_attempts {
            0 => DEFAULT_MAX_ATTEMPTS,
            n => n,
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config(attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(300))
                    .build(),
            );
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &settings.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &settings.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let mut clients = Self::from_config(loader.load().await, settings.assume_role);
        clients.session = settings.session;
        clients
    }

    pub fn from_config(base: SdkConfig, assume_role: Option<String>) -> Self {
        Self {
            base,
            assume_role,
            session: Session::default(),
            counter: CallCounter::default(),
            own_identity: OnceCell::new(),
            accounts: Mutex::default(),
            ec2: Mutex::default(),
            s3: Mutex::default(),
            iam: Mutex::default(),
            autoscaling: Mutex::default(),
            tagging: Mutex::default(),
            dynamodb: Mutex::default(),
            rds: Mutex::default(),
            lambda: Mutex::default(),
            sns: Mutex::default(),
            sqs: Mutex::default(),
            buckets: Mutex::default(),
        }
    }

    /// The caller's own configuration, for one-off clients.
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    pub fn counter(&self) -> &CallCounter {
        &self.counter
    }

    /// The region calls go to when nothing else names one.
    pub fn default_region(&self) -> Option<&str> {
        self.base.region().map(|r| r.as_ref())
    }

    /// The audit store's DynamoDB client: the caller's own account and
    /// default region, wherever the resources are.
    pub fn own_dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut b =
            aws_sdk_dynamodb::config::Builder::from(&self.base).interceptor(self.counter.clone());
        if self.base.region().is_none() {
            b = b.region(Region::new("us-east-1"));
        }
        aws_sdk_dynamodb::Client::from_conf(b.build())
    }

    /// CloudWatch in the caller's own account and default region: where
    /// the dashboard and alarms read the scan's metrics.
    pub fn own_cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        let mut b =
            aws_sdk_cloudwatch::config::Builder::from(&self.base).interceptor(self.counter.clone());
        if self.base.region().is_none() {
            b = b.region(Region::new("us-east-1"));
        }
        aws_sdk_cloudwatch::Client::from_conf(b.build())
    }

    /// An S3 client with the caller's own credentials (the trail bucket is
    /// read as the caller, whatever the events' accounts).
    pub fn own_s3(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.base).interceptor(self.counter.clone());
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        } else if self.base.region().is_none() {
            b = b.region(Region::new("us-east-1"));
        }
        aws_sdk_s3::Client::from_conf(s3_custom(b, &self.base).build())
    }

    /// The caller's S3 client for `bucket`, in the bucket's own region
    /// (asked once). When the region cannot be read, the default region's
    /// client stands in for [`LOOKUP_RETRY`], then the region is asked
    /// again: a denied lookup costs one call a minute, not one per object,
    /// and a function that lives for hours sees a fix.
    pub async fn bucket_s3(&self, bucket: &str) -> aws_sdk_s3::Client {
        let now = Instant::now();
        let kept = {
            let kept = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            kept.get(bucket)
                .filter(|(_, until)| until.is_none_or(|u| now < u))
                .map(|(c, _)| c.clone())
        };
        if let Some(c) = kept {
            return c;
        }
        let region = crate::s3_source::bucket_region(&self.own_s3(None), bucket).await;
        let client = self.own_s3(region.as_deref());
        let until = region.is_none().then(|| now + LOOKUP_RETRY);
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(bucket.to_string(), (client.clone(), until));
        client
    }

    /// SSM in the caller's own account and default region.
    pub fn own_ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&self.base)
                .interceptor(self.counter.clone())
                .build(),
        )
    }

    /// SQS in the caller's own account and default region.
    pub fn own_sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&self.base)
                .interceptor(self.counter.clone())
                .build(),
        )
    }

    /// Secrets Manager with the caller's credentials, in `region` (a
    /// secret's ARN names its own) or the default one.
    pub fn own_secretsmanager(&self, region: Option<&str>) -> aws_sdk_secretsmanager::Client {
        let mut b = aws_sdk_secretsmanager::config::Builder::from(&self.base)
            .interceptor(self.counter.clone());
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        aws_sdk_secretsmanager::Client::from_conf(b.build())
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        let region = self
            .base
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new("us-east-1"));
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.base)
                .region(region)
                .interceptor(self.counter.clone())
                .build(),
        )
    }

    /// The account and ARN the base credentials belong to (asked once).
    async fn own_identity(&self) -> Result<&(String, String), CallError> {
        self.own_identity
            .get_or_try_init(|| async {
                let out = self
                    .sts()
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(crate::error::from_sdk)?;
                match (out.account(), out.arn()) {
                    (Some(account), Some(arn)) => Ok((account.to_string(), arn.to_string())),
                    _ => Err(CallError::of_kind(
                        ErrorKind::Other,
                        "GetCallerIdentity",
                        "no account or ARN",
                    )),
                }
            })
            .await
    }

    /// The account the base credentials belong to.
    pub async fn own_account(&self) -> Result<String, CallError> {
        Ok(self.own_identity().await?.0.clone())
    }

    /// Who the base credentials are: the actor of what tagwarden does on
    /// its own initiative (remediation).
    pub async fn own_arn(&self) -> Result<String, CallError> {
        Ok(self.own_identity().await?.1.clone())
    }

    async fn account_config(&self, scope: Scope<'_>) -> Result<SdkConfig, CallError> {
        if self.own_account().await? == scope.account {
            return Ok(self.base.clone());
        }
        // The caller's own credentials would act on the caller's account
        // under another account's name: refuse rather than misattribute.
        let Some(role) = &self.assume_role else {
            return Err(CallError::of_kind(
                ErrorKind::Permission,
                "AssumeRole",
                format!(
                    "account {} is not the caller's: reaching it needs --assume-role (or the Lambda's member-role setting)",
                    scope.account
                ),
            ));
        };
        let cell = {
            let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(scope.account.to_string()).or_default())
        };
        let role_arn = format!("arn:{}:iam::{}:role/{role}", scope.partition, scope.account);
        let config = cell
            .get_or_init(|| async {
                let provider = AssumeRole::new(self.sts(), role_arn, self.session.clone());
                self.base
                    .to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .build()
            })
            .await;
        Ok(config.clone())
    }
}

/// `Clients::<service>(scope)`: the cached client for that account and
/// region, built with the call counter and, where an endpoint is
/// overridden, the settings emulators need.
macro_rules! client {
    ($name:ident, $field:ident, $krate:ident $(, $custom:ident)?) => {
        impl Clients {
            pub async fn $name(&self, scope: Scope<'_>) -> Result<$krate::Client, CallError> {
                let key = (scope.account.to_string(), scope.region.to_string());
                if let Some(c) = self.$field.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
                    return Ok(c.clone());
                }
                let config = self.account_config(scope).await?;
                #[allow(unused_mut)]
                let mut builder = $krate::config::Builder::from(&config)
                    .region(Region::new(scope.region.to_string()))
                    .interceptor(self.counter.clone());
                $( builder = $custom(builder, &config); )?
                let client = $krate::Client::from_conf(builder.build());
                self.$field
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, client.clone());
                Ok(client)
            }
        }
    };
}

/// Path-style addressing where an endpoint is overridden: `bucket.127.0.0.1`
/// does not resolve.
fn s3_custom(b: aws_sdk_s3::config::Builder, config: &SdkConfig) -> aws_sdk_s3::config::Builder {
    b.force_path_style(config.endpoint_url().is_some())
}

client!(ec2, ec2, aws_sdk_ec2);
client!(s3, s3, aws_sdk_s3, s3_custom);
client!(iam, iam, aws_sdk_iam);
client!(autoscaling, autoscaling, aws_sdk_autoscaling);
client!(tagging, tagging, aws_sdk_resourcegroupstagging);
client!(dynamodb, dynamodb, aws_sdk_dynamodb);
client!(rds, rds, aws_sdk_rds);
client!(lambda, lambda, aws_sdk_lambda);
client!(sns, sns, aws_sdk_sns);
client!(sqs, sqs, aws_sdk_sqs);
