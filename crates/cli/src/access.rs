//! AWS access for one command: one async runtime and one client cache,
//! made only when a command first needs AWS (plain `plan` never does).

use crate::cli::Cli;
use anyhow::{Context, Result};
use std::sync::Arc;
use tagwarden_aws::clients::{Clients, Settings};
use tagwarden_aws::error::{explain, CallError};
use tagwarden_aws::s3_source::S3Client;
use tagwarden_aws::session::Session;

pub struct Aws {
    pub runtime: tokio::runtime::Runtime,
    pub clients: Arc<Clients>,
    /// Where calls go, for messages: the endpoint override, or the region.
    endpoint: String,
}

/// An AWS failure said in one line a person can act on; the SDK's whole
/// account of it is shown with `-v`.
#[derive(Debug)]
pub struct Explained {
    pub line: String,
    pub detail: Option<String>,
}

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

impl std::error::Error for Explained {}

impl Aws {
    fn connect(cli: &Cli) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let settings = Settings {
            profile: cli.aws.profile.clone(),
            region: cli.aws.region.clone(),
            endpoint_url: cli.aws.endpoint_url.clone(),
            assume_role: cli.aws.assume_role.clone(),
            max_attempts: cli.aws.max_attempts,
            session: Session::cli(),
        };
        let clients = Arc::new(runtime.block_on(Clients::load(settings)));
        let endpoint = match (clients.base().endpoint_url(), clients.default_region()) {
            (Some(url), _) => url.to_string(),
            (None, Some(region)) => format!("AWS in {region}"),
            (None, None) => "AWS".to_string(),
        };
        Ok(Self {
            runtime,
            clients,
            endpoint,
        })
    }

    /// `e` as an error that says what failed and what to do.
    pub fn explain(&self, e: CallError) -> Explained {
        Explained {
            line: explain(&e, &self.endpoint),
            detail: e.detail,
        }
    }

    /// The client for reading `bucket`, in the bucket's own region.
    pub fn bucket_client(&self, bucket: &str) -> S3Client {
        self.runtime.block_on(self.clients.bucket_s3(bucket))
    }
}

/// Connects on first use.
pub struct LazyAws<'c> {
    cli: &'c Cli,
    aws: std::cell::OnceCell<Aws>,
}

impl<'c> LazyAws<'c> {
    pub fn new(cli: &'c Cli) -> Self {
        Self {
            cli,
            aws: std::cell::OnceCell::new(),
        }
    }

    pub fn get(&self) -> Result<&Aws> {
        if let Some(aws) = self.aws.get() {
            return Ok(aws);
        }
        let aws = Aws::connect(self.cli)?;
        Ok(self.aws.get_or_init(|| aws))
    }

    /// The connection, when something already needed one.
    pub fn connected(&self) -> Option<&Aws> {
        self.aws.get()
    }
}
