//! What outlives one invocation: the configuration, and the clients, store,
//! policy and webhook, each made on first use (cold starts do no AWS work)
//! and reused by every invocation the execution environment serves.

use crate::config::{Config, PolicySource, ALERT_WEBHOOK_SECRET, POLICY_PARAMETER, POLICY_S3};
use std::sync::Arc;
use tagwarden_aws::clients::{Clients, Settings};
use tagwarden_aws::directory::Directory;
use tagwarden_aws::documents;
use tagwarden_aws::session::Session;
use tagwarden_aws::webhook::Webhook;
use tagwarden_core::policy::Policy;
use tagwarden_core::trigger::Gate;
use tagwarden_core::trust::Accounts;
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
    directory: OnceCell<Option<Directory>>,
    pub webhook: Option<Webhook>,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        let webhook = config
            .alert_webhook
            .clone()
            .map(|id| Webhook::new(id, ALERT_WEBHOOK_SECRET));
        Self {
            config,
            clients: OnceCell::new(),
            store: OnceCell::new(),
            policy: OnceCell::new(),
            directory: OnceCell::new(),
            webhook,
        }
    }

    pub async fn clients(&self) -> &Arc<Clients> {
        self.clients
            .get_or_init(|| async {
                Arc::new(
                    Clients::load(Settings {
                        assume_role: self.config.member_role.clone(),
                        session: Session::function(
                            &self.config.environment,
                            Session::execution_from_log_stream(
                                &std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
                                    .unwrap_or_else(|_| "local".into()),
                            ),
                        ),
                        ..Settings::default()
                    })
                    .await,
                )
            })
            .await
    }

    /// Identity Center's identity store, when the configuration names its
    /// region; its answers are kept across invocations.
    pub async fn directory(&self) -> Option<&Directory> {
        let clients = self.clients().await;
        self.directory
            .get_or_init(|| async {
                let region = self.config.identity_store_region.as_deref()?;
                Some(Directory::new(clients, region))
            })
            .await
            .as_ref()
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

    /// The accounts whose records are taken: the organization's, or this
    /// one and the configured ones.
    pub async fn accounts(&self) -> Result<Accounts, Failure> {
        if self.config.organization.is_some() {
            return Ok(Accounts::Any);
        }
        let (own, _) = self.home().await?;
        Ok(Accounts::only(
            std::iter::once(own).chain(self.config.accounts.iter().cloned()),
        ))
    }

    /// What a payload is checked against before anything is read.
    pub fn gate(&self) -> Gate<'_> {
        Gate {
            trail_bucket: self.config.trail_bucket.as_deref(),
        }
    }

    /// The policy, read once; a failed read is tried again next time.
    pub async fn policy(&self) -> Result<Arc<Policy>, Failure> {
        self.policy
            .get_or_try_init(|| async {
                let clients = self.clients().await;
                let (var, text) =
                    match &self.config.policy {
                        PolicySource::Ready(p) => return Ok(Arc::clone(p)),
                        PolicySource::S3 { bucket, key } => {
                            let text = documents::object_text(clients, bucket, key).await.map_err(
                                |e| Failure::new(format!("{POLICY_S3}: s3://{bucket}/{key}: {e}")),
                            )?;
                            (format!("{POLICY_S3} s3://{bucket}/{key}"), text)
                        }
                        PolicySource::Parameter(name) => {
                            let text = documents::parameter(clients, name).await.map_err(|e| {
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
}
