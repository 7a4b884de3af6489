//! What outlives one invocation: the configuration, and the clients, store
//! and policy, each made on first use (cold starts do no AWS work) and
//! reused by every invocation the execution environment serves.

use crate::config::{Config, PolicySource, ALERT_WEBHOOK_SECRET, POLICY_PARAMETER, POLICY_S3};
use crate::secrets::Secrets;
use crate::webhook::{self, HttpClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tagwarden_aws::clients::{Clients, Settings};
use tagwarden_aws::s3_source;
use tagwarden_core::policy::Policy;
use tagwarden_store::DynamoStore;
use tokio::sync::OnceCell;

/// Why an invocation (or one SQS message) could not be done: it is
/// reported as failed so that Lambda or SQS delivers it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl Failure {
    pub fn new(s: impl Into<String>) -> Self {
        Self(tagwarden_core::report::one_line(&s.into()))
    }
}

pub struct Shared {
    pub config: Config,
    clients: OnceCell<Arc<Clients>>,
    store: OnceCell<DynamoStore>,
    policy: OnceCell<Arc<Policy>>,
    /// S3 clients by bucket, each in its bucket's region.
    buckets: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    /// Secrets Manager clients by region ("" for the function's own).
    secrets_managers: Mutex<HashMap<String, aws_sdk_secretsmanager::Client>>,
    secrets: Secrets,
    /// For the webhook, or why there is none (no trusted roots).
    http: OnceLock<Result<HttpClient, String>>,
    /// For the dead-letter queue, in the function's own region.
    sqs: OnceCell<aws_sdk_sqs::Client>,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            clients: OnceCell::new(),
            store: OnceCell::new(),
            policy: OnceCell::new(),
            buckets: Mutex::default(),
            secrets_managers: Mutex::default(),
            secrets: Secrets::default(),
            http: OnceLock::new(),
            sqs: OnceCell::new(),
        }
    }

    pub async fn clients(&self) -> &Arc<Clients> {
        self.clients
            .get_or_init(|| async {
                Arc::new(
                    Clients::load(Settings {
                        assume_role: self.config.member_role.clone(),
                        ..Settings::default()
                    })
                    .await,
                )
            })
            .await
    }

    pub async fn store(&self) -> &DynamoStore {
        let clients = self.clients().await;
        self.store
            .get_or_init(|| async {
                DynamoStore::new(clients.own_dynamodb(), self.config.tables.clone())
            })
            .await
    }

    /// The function's own account and region (the caller's identity is
    /// cached by the clients; only a success is kept).
    pub async fn home(&self) -> Result<(String, String), Failure> {
        let clients = self.clients().await;
        let account = clients
            .own_account()
            .await
            .map_err(|e| Failure::new(format!("who am I: {e}")))?;
        let region = clients.default_region().unwrap_or("us-east-1").to_string();
        Ok((account, region))
    }

    /// The policy, read once; a failed read is tried again next time.
    pub async fn policy(&self) -> Result<Arc<Policy>, Failure> {
        self.policy
            .get_or_try_init(|| async {
                let (var, text) = match &self.config.policy {
                    PolicySource::Ready(p) => return Ok(Arc::clone(p)),
                    PolicySource::S3 { bucket, key } => {
                        let client = self.bucket_client(bucket).await;
                        let text = read_object(&client, bucket, key).await.map_err(|e| {
                            Failure::new(format!("{POLICY_S3}: s3://{bucket}/{key}: {e}"))
                        })?;
                        (format!("{POLICY_S3} s3://{bucket}/{key}"), text)
                    }
                    PolicySource::Parameter(name) => {
                        let text = self.parameter(name).await.map_err(|e| {
                            Failure::new(format!("{POLICY_PARAMETER}: parameter {name}: {e}"))
                        })?;
                        (format!("{POLICY_PARAMETER} {name}"), text)
                    }
                };
                Policy::from_yaml(&text)
                    .map(Arc::new)
                    .map_err(|e| Failure::new(format!("{var}: {e}")))
            })
            .await
            .cloned()
    }

    async fn parameter(&self, name: &str) -> Result<String, String> {
        let clients = self.clients().await;
        let conf = aws_sdk_ssm::config::Builder::from(clients.base())
            .interceptor(clients.counter().clone())
            .build();
        let out = aws_sdk_ssm::Client::from_conf(conf)
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| tagwarden_aws::error::CallError::from_sdk(e).to_string())?;
        out.parameter
            .and_then(|p| p.value)
            .ok_or_else(|| "the parameter has no value".to_string())
    }

    /// A secret's string value, kept (see [`crate::secrets`]).
    pub async fn secret(&self, id: &str) -> Result<Arc<str>, Failure> {
        self.secrets
            .get(id, Instant::now(), || self.read_secret(id))
            .await
            .map_err(|e| Failure::new(format!("{ALERT_WEBHOOK_SECRET}: secret {id}: {e}")))
    }

    pub fn forget_secret(&self, id: &str) {
        self.secrets.forget(id);
    }

    /// The receiver refused this value (see [`crate::secrets::REFUSED_FOR`]).
    pub fn refuse_secret(&self, id: &str, value: &Arc<str>) {
        self.secrets.refuse(id, value, Instant::now());
    }

    pub fn secret_refused(&self, id: &str, value: &Arc<str>) -> bool {
        self.secrets.refused(id, value, Instant::now())
    }

    /// Read in the secret's own region (an ARN names it; a name is the
    /// function's region's).
    async fn read_secret(&self, id: &str) -> Result<String, String> {
        let region = id
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').nth(2))
            .map(str::to_string);
        let client = self.secrets_manager(region).await;
        let out = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| tagwarden_aws::error::CallError::from_sdk(e).to_string())?;
        out.secret_string
            .ok_or_else(|| "the secret has no string value (binary secrets are not read)".into())
    }

    async fn secrets_manager(&self, region: Option<String>) -> aws_sdk_secretsmanager::Client {
        let clients = self.clients().await;
        let key = region.clone().unwrap_or_default();
        if let Some(c) = self
            .secrets_managers
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return c;
        }
        let mut conf = aws_sdk_secretsmanager::config::Builder::from(clients.base())
            .interceptor(clients.counter().clone());
        if let Some(r) = region {
            conf = conf.region(aws_sdk_secretsmanager::config::Region::new(r));
        }
        let client = aws_sdk_secretsmanager::Client::from_conf(conf.build());
        if let Ok(mut m) = self.secrets_managers.lock() {
            m.insert(key, client.clone());
        }
        client
    }

    pub fn http(&self) -> Result<&HttpClient, &str> {
        self.http
            .get_or_init(webhook::client)
            .as_ref()
            .map_err(String::as_str)
    }

    /// Parks a refused SQS message in the dead-letter queue at once, with
    /// why it was refused. False when there is no queue or the send failed:
    /// the message is then handed back, and the redrive policy moves it.
    pub async fn dead_letter(&self, message_id: &str, body: &str, why: &str) -> bool {
        let Some(url) = &self.config.dead_letter_queue else {
            tracing::error!(
                message_id,
                why,
                "message refused: delivered again (no dead-letter queue set)"
            );
            return false;
        };
        let clients = self.clients().await;
        let sqs = self
            .sqs
            .get_or_init(|| async { aws_sdk_sqs::Client::new(clients.base()) })
            .await;
        let text = |v: &str| {
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
        };
        let sent = match (text(why), text(message_id)) {
            (Ok(why), Ok(id)) => sqs
                .send_message()
                .queue_url(url)
                .message_body(body)
                .message_attributes("tagwarden-refused", why)
                .message_attributes("tagwarden-message-id", id)
                .send()
                .await
                .map_err(|e| tagwarden_aws::error::CallError::from_sdk(e).to_string()),
            (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
        };
        match sent {
            Ok(_) => {
                tracing::error!(
                    message_id,
                    why,
                    "message refused: parked in the dead-letter queue"
                );
                true
            }
            Err(e) => {
                tracing::error!(message_id, why, error = %e, "message refused, and the dead-letter queue refused it too: delivered again");
                false
            }
        }
    }

    /// The client for reading `bucket`, in the bucket's own region.
    pub async fn bucket_client(&self, bucket: &str) -> aws_sdk_s3::Client {
        if let Some(c) = self
            .buckets
            .lock()
            .ok()
            .and_then(|b| b.get(bucket).cloned())
        {
            return c;
        }
        let clients = self.clients().await;
        let region = s3_source::bucket_region(&clients.own_s3(None), bucket).await;
        let client = clients.own_s3(region.as_deref());
        // A failed lookup is asked again next time, not kept.
        if region.is_some() {
            if let Ok(mut b) = self.buckets.lock() {
                b.insert(bucket.to_string(), client.clone());
            }
        }
        client
    }
}

async fn read_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, String> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| tagwarden_aws::error::CallError::from_sdk(e).to_string())?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .into_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())
}
