//! One test binary for everything that runs the real `tagwarden` binary
//! (one link of all dependencies, per the workspace's build budget).

mod api_calls;
mod apply;
mod audit;
mod backfill;
mod bad_input;
mod deploy;
mod errors;
mod faults;
mod generated_rows;
mod lambda;
mod moto;
mod parts;
mod plan;
mod policy;
mod public_samples;
mod report_html;
mod s3_source;
mod scan;
mod support;
mod verify;
