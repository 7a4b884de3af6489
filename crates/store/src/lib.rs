//! The audit store: who created each resource, what tagwarden and others
//! did to its tags, and every principal's actions. One trait, two back
//! ends: SQLite for the CLI, DynamoDB in AWS.

#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod model;
pub mod rows;
pub mod sqlite;
#[cfg(any(test, feature = "suite"))]
pub mod suite;
pub mod url;

use model::{
    Evidence, HistoryEntry, Metadata, Recorded, ResourceHistory, Rows, Source, UserAction,
};
use std::future::Future;
use tagwarden_core::catalog::sessions::Issued;

#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoStore;
pub use sqlite::SqliteStore;
pub use url::StoreUrl;

/// Why the store could not do what was asked. `location` names the file or
/// table, so the message alone says where to look.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct StoreError {
    pub location: String,
    /// One line a person can act on.
    pub message: String,
    /// Everything the SDK said, for `-v` and the function's logs.
    pub detail: Option<String>,
}

impl StoreError {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
            detail: None,
        }
    }
}

/// Visits exported history entries in order; an error stops the export.
pub type Visit<'v> = dyn FnMut(HistoryEntry) -> Result<(), StoreError> + Send + 'v;

/// The four tables, whatever holds them. Writes are idempotent on the
/// CloudTrail event id: recording the same batch twice changes nothing.
pub trait AuditStore: Send + Sync {
    /// Where the store is, for messages (`sqlite:tagwarden.db`, …).
    fn describe(&self) -> String;

    /// Creates the tables (or the file) if they are missing.
    fn init(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds new history and action rows and merges metadata items, in
    /// batches; returns what changed.
    fn record(&self, batch: &Rows) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// One resource's item and its history in order.
    fn history(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<ResourceHistory, StoreError>> + Send;

    /// Resources whose last write failed, or that wait for their creation
    /// to end: what `apply --retry-failed` retries (a wait it takes only
    /// once it has outlasted the waiting schedule: its delivery was lost).
    fn failed(&self) -> impl Future<Output = Result<Vec<Metadata>, StoreError>> + Send;

    /// The items of these ARNs the store holds (the others are unknown).
    fn metadata(
        &self,
        arns: &[&str],
    ) -> impl Future<Output = Result<Vec<Metadata>, StoreError>> + Send;

    /// One principal's actions in order.
    fn actions(
        &self,
        principal: &str,
    ) -> impl Future<Output = Result<Vec<UserAction>, StoreError>> + Send;

    /// Every history entry whose event time is at or after `since`, ordered
    /// by time, ARN and key.
    fn export(
        &self,
        since: Option<&str>,
        visit: &mut Visit<'_>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Adds evidence rows whose (source, entry) is new; returns how many.
    fn note(&self, rows: &[Evidence]) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// One source's evidence, in entry order.
    fn evidence(
        &self,
        source: &Source,
    ) -> impl Future<Output = Result<Vec<Evidence>, StoreError>> + Send;

    /// The evidence of the sources first acted on that UTC day.
    fn evidence_on(
        &self,
        day: &str,
    ) -> impl Future<Output = Result<Vec<Evidence>, StoreError>> + Send;

    /// Keeps session hops (credential-issuing records) by the key each
    /// issued, until [`model::session_expires`]; `at` is when they were
    /// read (Unix seconds), the start of a hop's life when its record does
    /// not give its expiry. A hop kept already is kept as it is.
    fn keep_sessions(
        &self,
        hops: &[Issued],
        at: i64,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The hops that issued these keys, of those the store keeps and that
    /// have not expired by `at` (Unix seconds).
    fn sessions(
        &self,
        keys: &[&str],
        at: i64,
    ) -> impl Future<Output = Result<Vec<Issued>, StoreError>> + Send;
}

/// Either back end, chosen at run time from a `--store` URL.
pub enum Store {
    Sqlite(SqliteStore),
    #[cfg(feature = "dynamodb")]
    Dynamo(DynamoStore),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            #[cfg(feature = "dynamodb")]
            Store::Dynamo($s) => $e,
        }
    };
}

impl AuditStore for Store {
    fn describe(&self) -> String {
        both!(self, s => s.describe())
    }

    async fn init(&self) -> Result<(), StoreError> {
        both!(self, s => s.init().await)
    }

    async fn record(&self, batch: &Rows) -> Result<Recorded, StoreError> {
        both!(self, s => s.record(batch).await)
    }

    async fn history(&self, arn: &str) -> Result<ResourceHistory, StoreError> {
        both!(self, s => s.history(arn).await)
    }

    async fn failed(&self) -> Result<Vec<Metadata>, StoreError> {
        both!(self, s => s.failed().await)
    }

    async fn metadata(&self, arns: &[&str]) -> Result<Vec<Metadata>, StoreError> {
        both!(self, s => s.metadata(arns).await)
    }

    async fn keep_sessions(&self, hops: &[Issued], at: i64) -> Result<usize, StoreError> {
        both!(self, s => s.keep_sessions(hops, at).await)
    }

    async fn sessions(&self, keys: &[&str], at: i64) -> Result<Vec<Issued>, StoreError> {
        both!(self, s => s.sessions(keys, at).await)
    }

    async fn actions(&self, principal: &str) -> Result<Vec<UserAction>, StoreError> {
        both!(self, s => s.actions(principal).await)
    }

    async fn export(&self, since: Option<&str>, visit: &mut Visit<'_>) -> Result<u64, StoreError> {
        both!(self, s => s.export(since, visit).await)
    }

    async fn note(&self, rows: &[Evidence]) -> Result<usize, StoreError> {
        both!(self, s => s.note(rows).await)
    }

    async fn evidence(&self, source: &Source) -> Result<Vec<Evidence>, StoreError> {
        both!(self, s => s.evidence(source).await)
    }

    async fn evidence_on(&self, day: &str) -> Result<Vec<Evidence>, StoreError> {
        both!(self, s => s.evidence_on(day).await)
    }
}
