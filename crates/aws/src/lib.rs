//! tagwarden's AWS side: the apply stage of the pipeline and the sources
//! and sinks that need the SDK.
//!
//! plan → [`apply`] (reads current tags, [`tagwarden_core::reconcile`],
//! [`tagwarden_core::batch`]) → [`adapters`] (one per tagging API) → AWS;
//! [`clients`] holds one client per account, region and service.

pub mod adapters;
pub mod apply;
pub mod calls;
pub mod clients;
pub mod dead_letter;
pub mod digests;
pub mod directory;
pub mod documents;
pub mod engine;
pub mod error;
pub mod inventory;
#[cfg(any(test, feature = "mock"))]
pub mod mock;
pub mod queue;
pub mod requeue;
pub mod s3_source;
pub mod secrets;
pub mod session;
pub mod sinks;
pub mod webhook;
