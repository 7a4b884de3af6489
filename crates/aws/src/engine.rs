//! The backfill's engine: the template's Step Functions Distributed Map.
//! tagwarden starts, redrives and watches its executions; Step Functions
//! schedules the batches.

use crate::clients::Clients;
use crate::error::{from_sdk, CallError};
use aws_types::region::Region;
use std::future::Future;

/// An execution's state, as `DescribeExecution` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    PendingRedrive,
    Other(String),
}

impl RunState {
    fn parse(s: &str) -> Self {
        match s {
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "ABORTED" => Self::Aborted,
            "PENDING_REDRIVE" => Self::PendingRedrive,
            other => Self::Other(other.to_string()),
        }
    }

    /// Still going: a redrive being taken up counts.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running | Self::PendingRedrive)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
            Self::PendingRedrive => "PENDING_REDRIVE",
            Self::Other(s) => s,
        }
    }
}

/// The Map Run's item counts: log objects, not batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Items {
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub running: i64,
    pub pending: i64,
    pub aborted: i64,
    pub timed_out: i64,
}

impl Items {
    /// Items that will not run again without a redrive.
    pub fn done(&self) -> i64 {
        self.succeeded + self.failed + self.aborted + self.timed_out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub state: RunState,
    /// The execution's input: a resume starts from it when a redrive is
    /// refused.
    pub input: Option<String>,
    /// `None` until the Map Run exists (and where an emulator keeps none).
    pub items: Option<Items>,
    pub cause: Option<String>,
}

pub trait Engine: Sync {
    /// Starts `machine` with `input`; returns the execution's ARN.
    fn start(
        &self,
        machine: &str,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<String, CallError>> + Send;

    /// Runs again what a stopped or failed execution left.
    fn redrive(&self, execution: &str) -> impl Future<Output = Result<(), CallError>> + Send;

    fn status(&self, execution: &str) -> impl Future<Output = Result<Status, CallError>> + Send;
}

pub struct StepFunctions {
    client: aws_sdk_sfn::Client,
}

impl StepFunctions {
    /// In the state machine's own region (its ARN's).
    pub fn new(clients: &Clients, region: Option<&str>) -> Self {
        let mut b = aws_sdk_sfn::config::Builder::from(clients.base())
            .interceptor(clients.counter().clone());
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        StepFunctions {
            client: aws_sdk_sfn::Client::from_conf(b.build()),
        }
    }
}

impl Engine for StepFunctions {
    async fn start(&self, machine: &str, name: &str, input: &str) -> Result<String, CallError> {
        let out = self
            .client
            .start_execution()
            .state_machine_arn(machine)
            .name(name)
            .input(input)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(out.execution_arn().to_string())
    }

    async fn redrive(&self, execution: &str) -> Result<(), CallError> {
        self.client
            .redrive_execution()
            .execution_arn(execution)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    async fn status(&self, execution: &str) -> Result<Status, CallError> {
        let e = self
            .client
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .map_err(from_sdk)?;
        let runs = self
            .client
            .list_map_runs()
            .execution_arn(execution)
            .send()
            .await
            .map_err(from_sdk)?;
        let mut items = None;
        if let Some(run) = runs.map_runs().first() {
            let run = self
                .client
                .describe_map_run()
                .map_run_arn(run.map_run_arn())
                .send()
                .await
                .map_err(from_sdk)?;
            items = run.item_counts().map(|c| Items {
                total: c.total(),
                succeeded: c.succeeded(),
                failed: c.failed(),
                running: c.running(),
                pending: c.pending(),
                aborted: c.aborted(),
                timed_out: c.timed_out(),
            });
        }
        Ok(Status {
            state: RunState::parse(e.status().as_str()),
            input: e.input().map(str::to_string),
            items,
            cause: e.cause().or(e.error()).map(str::to_string),
        })
    }
}
