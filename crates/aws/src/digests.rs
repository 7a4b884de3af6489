//! [`tagwarden_core::digest`]'s objects and signatures in AWS: digests and
//! logs read from S3 (gzip inflated; logs hashed as they stream), and
//! SHA256withRSA checked with CloudTrail's public keys (the JSON that
//! `ListPublicKeys` answers: base64 PKCS#1 DER by fingerprint).

use crate::clients::Clients;
use crate::s3_source::{self, Object};
use aws_sdk_s3::operation::get_object::GetObjectError;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use tagwarden_core::digest::{Fetched, Hashing, Objects, Signatures};
use tokio::runtime::Handle;

/// Given each log (its URL and inflated stream) while it is hashed.
pub type EachLog<'c> = Box<dyn FnMut(&str, &mut (dyn Read + Send)) + 'c>;

/// Digest and log objects in S3, read from blocking code.
pub struct S3Objects<'c> {
    pub runtime: Handle,
    pub clients: &'c Clients,
    /// Given each log (its URL and inflated stream) while it is hashed:
    /// one pass reads its records too.
    pub each_log: Option<EachLog<'c>>,
}

impl S3Objects<'_> {
    fn client(&self, bucket: &str) -> aws_sdk_s3::Client {
        self.runtime.block_on(self.clients.bucket_s3(bucket))
    }
}

fn missing(e: &aws_sdk_s3::error::SdkError<GetObjectError>) -> bool {
    e.as_service_error()
        .is_some_and(GetObjectError::is_no_such_key)
}

impl Objects for S3Objects<'_> {
    fn fetch(&mut self, bucket: &str, key: &str) -> Result<Option<Fetched>, String> {
        let client = self.client(bucket);
        let got = self
            .runtime
            .block_on(client.get_object().bucket(bucket).key(key).send());
        let out = match got {
            Ok(out) => out,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(crate::error::from_sdk(e).to_string()),
        };
        let metadata: BTreeMap<String, String> = out
            .metadata()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let body = self
            .runtime
            .block_on(out.body.collect())
            .map_err(|e| e.to_string())?
            .into_bytes();
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut inflated)
            .map_err(|e| format!("not gzip: {e}"))?;
        Ok(Some(Fetched { inflated, metadata }))
    }

    fn sha256(&mut self, bucket: &str, key: &str) -> Result<Option<String>, String> {
        let client = self.client(bucket);
        // A HEAD first: a missing log is told apart from a broken stream.
        let head = self
            .runtime
            .block_on(client.head_object().bucket(bucket).key(key).send());
        if let Err(e) = head {
            return match e.as_service_error().is_some_and(|s| s.is_not_found()) {
                true => Ok(None),
                false => Err(crate::error::from_sdk(e).to_string()),
            };
        }
        let object = Object {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: 0,
        };
        let reader = s3_source::open(&self.runtime, client, &object);
        let mut hashing = Hashing::new(flate2::read::GzDecoder::new(reader));
        if let Some(visit) = &mut self.each_log {
            visit(&object.url(), &mut hashing);
        }
        hashing
            .finish()
            .map(Some)
            .map_err(|e| format!("not gzip: {e}"))
    }
}

/// CloudTrail's public keys by fingerprint.
#[derive(Default)]
pub struct PublicKeys(HashMap<String, Vec<u8>>);

impl PublicKeys {
    /// From `aws cloudtrail list-public-keys` output.
    pub fn from_json(text: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = v["PublicKeyList"]
            .as_array()
            .ok_or("no PublicKeyList: expected the output of ListPublicKeys")?;
        let mut keys = HashMap::new();
        for (n, k) in list.iter().enumerate() {
            let field = |f: &str| {
                k[f].as_str()
                    .ok_or_else(|| format!("PublicKeyList[{n}].{f} is missing"))
            };
            let der = base64::engine::general_purpose::STANDARD
                .decode(field("Value")?)
                .map_err(|e| format!("PublicKeyList[{n}].Value: not base64: {e}"))?;
            keys.insert(field("Fingerprint")?.to_string(), der);
        }
        Ok(Self(keys))
    }
}

impl PublicKeys {
    /// From a file holding `ListPublicKeys`' JSON; errors name the file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|text| Self::from_json(&text))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn extend(&mut self, other: PublicKeys) {
        self.0.extend(other.0);
    }

    /// CloudTrail's keys valid since `since` (Unix seconds) in each of
    /// `regions` (a digest is signed with its region's key).
    pub async fn list(
        clients: &Clients,
        regions: &[String],
        since: i64,
    ) -> Result<Self, crate::error::CallError> {
        let since = aws_sdk_cloudtrail::primitives::DateTime::from_secs(since);
        let mut keys = HashMap::new();
        for region in regions {
            let config = aws_sdk_cloudtrail::config::Builder::from(clients.base())
                .region(aws_sdk_cloudtrail::config::Region::new(region.clone()))
                .build();
            let client = aws_sdk_cloudtrail::Client::from_conf(config);
            let mut token = None;
            loop {
                let out = client
                    .list_public_keys()
                    .start_time(since)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(crate::error::from_sdk)?;
                for k in out.public_key_list() {
                    if let (Some(fp), Some(v)) = (k.fingerprint(), k.value()) {
                        keys.insert(fp.to_string(), v.as_ref().to_vec());
                    }
                }
                token = out.next_token;
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(Self(keys))
    }
}

impl Signatures for PublicKeys {
    fn verify(&self, fingerprint: &str, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
        let der = self
            .0
            .get(fingerprint)
            .ok_or_else(|| format!("no public key with fingerprint {fingerprint}"))?;
        Ok(UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .verify(message, signature)
            .is_ok())
    }
}

/// The digest keys under `prefix`, grouped by chain (one per account,
/// region and trail: the key without its date), each in key order, which
/// is time order.
pub async fn list_chains(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<BTreeMap<String, Vec<String>>, crate::error::CallError> {
    let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::error::from_sdk)?;
        for key in page.contents().iter().filter_map(|o| o.key()) {
            if let Some(chain) = chain_of(key) {
                chains.entry(chain).or_default().push(key.to_string());
            }
        }
    }
    for keys in chains.values_mut() {
        keys.sort();
    }
    Ok(chains)
}

/// `…/CloudTrail-Digest/REGION/Y/M/D/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOME_DATE.json.gz`
/// → `…/CloudTrail-Digest/REGION/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOME`.
fn chain_of(key: &str) -> Option<String> {
    let (dir, name) = key.rsplit_once('/')?;
    let stem = name.strip_suffix(".json.gz")?;
    let (chain_name, date) = stem.rsplit_once('_')?;
    let region_dir = dir.split_once("/CloudTrail-Digest/")?;
    let region = region_dir.1.split('/').next()?;
    (date.len() == 16 && name.contains("_CloudTrail-Digest_"))
        .then(|| format!("{}/CloudTrail-Digest/{region}/{chain_name}", region_dir.0))
}

#[cfg(test)]
mod tests {
    use super::chain_of;

    #[test]
    fn digests_group_by_account_region_and_trail() {
        let k = |d: &str| {
            format!("AWSLogs/1/CloudTrail-Digest/eu-west-1/2026/01/15/1_CloudTrail-Digest_eu-west-1_main_us-east-1_{d}.json.gz")
        };
        assert_eq!(
            chain_of(&k("20260115T010000Z")),
            chain_of(&k("20260116T020000Z"))
        );
        assert_eq!(
            chain_of(&k("20260115T010000Z")).as_deref(),
            Some("AWSLogs/1/CloudTrail-Digest/eu-west-1/1_CloudTrail-Digest_eu-west-1_main_us-east-1")
        );
        assert_eq!(
            chain_of("AWSLogs/1/CloudTrail/eu-west-1/2026/01/15/x.json.gz"),
            None
        );
    }
}
