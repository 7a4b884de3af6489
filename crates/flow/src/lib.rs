//! The runs both faces share. The CLI and the Lambda only turn their input
//! into these calls and these results into output; every behaviour is here
//! once. The runs that write ([`attribute`], [`remediate`]) are generic over
//! the [`Tagger`](tagwarden_aws::adapters::Tagger) and the
//! [`AuditStore`](tagwarden_store::AuditStore), and tested here with the
//! in-memory tagger and SQLite; the reads ([`read`]'s S3 objects,
//! [`check`], [`direct`]'s bucket region) and [`sinks`] take the real
//! clients and are tested against moto through both faces.
//!
//! sources → [`read`] ([`parts`] in the function) → plan → [`attribute`] (apply → record; the tag
//! calls read → [`tamper`]: undo → record) → [`report`];
//! events → [`check`] → judge → [`remediate`] (apply → record) → [`report`]
//! → [`sinks`].
//!
//! Why a crate of its own rather than a module of `tagwarden-aws`: the
//! adapters stay a plain SDK layer that knows nothing of the store, and the
//! faces depend on one crate that names every run.

pub mod attribute;
pub mod backfill;
pub mod check;
pub mod children;
pub mod confirm;
pub mod direct;
pub mod explain;
pub mod parts;
pub mod read;
pub mod remediate;
pub mod report;
pub mod retry;
pub mod sinks;
pub mod tamper;
pub mod verify;
pub mod watch;
