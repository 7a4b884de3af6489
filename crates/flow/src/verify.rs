//! `s3://bucket/prefix` → each digest chain under it, walked
//! ([`tagwarden_core::digest`]): the verdicts of every digest and log file.
//! For `tagwarden verify` and the scheduled check alike.

use tagwarden_aws::clients::Clients;
use tagwarden_aws::digests::{list_chains, PublicKeys, S3Objects};
use tagwarden_aws::error::CallError;
use tagwarden_core::digest::{verify_chain, Verdict};
use tokio::runtime::Handle;

/// Verifies every chain under `prefix`, back to the digest that starts at
/// or before `since` ("" for the whole chain). Blocks: call it off the
/// runtime's threads. `Ok(empty)`: no digest there at all.
pub fn prefix(
    runtime: &Handle,
    clients: &Clients,
    keys: &PublicKeys,
    bucket: &str,
    prefix: &str,
    since: &str,
) -> Result<Vec<Verdict>, CallError> {
    let client = runtime.block_on(clients.bucket_s3(bucket));
    let chains = runtime.block_on(list_chains(&client, bucket, prefix))?;
    let mut objects = S3Objects {
        runtime: runtime.clone(),
        clients,
        each_log: None,
    };
    Ok(chains
        .into_values()
        .flat_map(|chain| verify_chain(&mut objects, keys, bucket, chain, since))
        .collect())
}
