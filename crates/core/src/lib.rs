//! tagwarden's pure core: the whole pipeline from CloudTrail bytes to a tag
//! plan, with no AWS SDK and no async runtime, so that it builds and tests
//! in seconds and both shells (CLI and Lambda) run exactly the same logic.
//!
//! source → [`ingest`] → [`record`] → [`catalog`] → [`attribution`] →
//! [`plan`] (with [`policy`] and [`tags`]) → [`reconcile`] → [`batch`]; [`pipeline`] wires
//! the first stages. Scans: inventory → [`compliance`] → [`report`], and
//! [`remediate`] → plan → the same apply.

pub mod attribution;
pub mod backfill;
pub mod batch;
pub mod catalog;
pub mod chains;
pub mod compliance;
pub mod digest;
pub mod ingest;
pub mod launches;
pub mod outcome;
pub mod overview;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod record;
pub mod remediate;
pub mod report;
pub mod subjects;
pub mod tags;
pub mod trigger;
pub mod trust;
pub mod waiting;
