//! CloudTrail log file integrity, as AWS publishes it and `aws cloudtrail
//! validate-logs` implements it: each hourly digest lists the log files
//! delivered with their SHA-256, names the previous digest, and is signed
//! (SHA256withRSA, the hex signature in the object's `signature` metadata)
//! over its end time, its own location, the SHA-256 of its inflated bytes
//! and the previous digest's signature. Walking the chain back from the
//! newest digest proves every log file in it unaltered, and each link
//! proves no digest was removed.
//!
//! Pure: the objects come through [`Objects`], the signature check through
//! [`Signatures`] (RSA lives with the SDK crates), so the decisions are
//! tested here.

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// A digest file's fields that validation reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFile {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
}

/// The string CloudTrail signs for a digest: end time, location, the hex
/// SHA-256 of the inflated digest, and the previous signature (`null` for
/// the first digest of a chain).
pub fn string_to_sign(d: &DigestFile, inflated: &[u8]) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        d.digest_end_time,
        d.digest_s3_bucket,
        d.digest_s3_object,
        sha256_hex(inflated),
        d.previous_digest_signature.as_deref().unwrap_or("null")
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hex SHA-256 of what `src` yields, read in chunks: a log is hashed
/// as it streams, never held whole.
pub fn sha256_hex_of(src: impl std::io::Read) -> std::io::Result<String> {
    Hashing::new(src).finish()
}

/// A reader that hashes what passes through it, so that a log can be read
/// (its records parsed) and hashed in one pass.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: std::io::Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The hex SHA-256 of the whole stream: what the reader left unread
    /// is read (and hashed) first.
    pub fn finish(mut self) -> std::io::Result<String> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// An object as the store gives it: inflated bytes and its metadata.
pub struct Fetched {
    pub inflated: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

/// Where digests and logs are read from (S3, or a test's map).
pub trait Objects {
    /// `Ok(None)` when the object does not exist.
    fn fetch(&mut self, bucket: &str, key: &str) -> Result<Option<Fetched>, String>;
    /// The hex SHA-256 of an object's inflated bytes, streamed; `Ok(None)`
    /// when it does not exist.
    fn sha256(&mut self, bucket: &str, key: &str) -> Result<Option<String>, String>;
}

/// Checks a SHA256withRSA signature with CloudTrail's public key for a
/// fingerprint; `Err` when no key has that fingerprint.
pub trait Signatures {
    fn verify(&self, fingerprint: &str, message: &[u8], signature: &[u8]) -> Result<bool, String>;
}

/// What was found wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    /// Not gzip JSON, or a required field absent.
    Format(String),
    Unsigned,
    /// The signature does not verify: altered, or not CloudTrail's.
    Signature,
    /// No public key with the digest's fingerprint.
    UnknownKey(String),
    /// The digest names another location than where it lies.
    Moved,
    /// The log's SHA-256 differs from its digest entry.
    Hash,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("not found"),
            Self::Format(why) => write!(f, "invalid format: {why}"),
            Self::Unsigned => f.write_str("no signature in its metadata"),
            Self::Signature => f.write_str("signature verification failed"),
            Self::UnknownKey(fp) => write!(f, "no public key with fingerprint {fp}"),
            Self::Moved => f.write_str("has been moved from its original location"),
            Self::Hash => f.write_str("hash value doesn't match"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Digest,
    Log,
}

/// One file's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: Kind,
    pub bucket: String,
    pub key: String,
    /// `None`: valid.
    pub problem: Option<Problem>,
}

impl Verdict {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// Verifies the chain that ends at `newest` (a digest key), back to the
/// digest that starts at or before `since` or the chain's first digest; each
/// digest's logs are hashed. `others` are the digest keys listed in the
/// range (newest last): when a link is missing or invalid, validation goes
/// on from the next older one listed, as the AWS CLI does.
pub fn verify_chain(
    objects: &mut dyn Objects,
    signatures: &dyn Signatures,
    bucket: &str,
    listed: Vec<String>,
    since: &str,
) -> Vec<Verdict> {
    verify_chain_where(objects, signatures, bucket, listed, since, &|_| true)
}

/// [`verify_chain`], hashing only the logs `hash` admits (the others get
/// no verdict); every digest of the walk is still checked, as each link
/// vouches for the ones before it.
pub fn verify_chain_where(
    objects: &mut dyn Objects,
    signatures: &dyn Signatures,
    bucket: &str,
    mut listed: Vec<String>,
    since: &str,
    hash: &dyn Fn(&LogFile) -> bool,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    listed.sort();
    let mut next = listed.pop().map(|k| (bucket.to_string(), k));
    while let Some((b, key)) = next.take() {
        match digest(objects, signatures, &b, &key) {
            Ok(d) => {
                out.push(Verdict {
                    kind: Kind::Digest,
                    bucket: b.clone(),
                    key: key.clone(),
                    problem: None,
                });
                for log in d.log_files.iter().filter(|l| hash(l)) {
                    let problem = match objects.sha256(&log.s3_bucket, &log.s3_object) {
                        Ok(Some(h)) if h == log.hash_value => None,
                        Ok(Some(_)) => Some(Problem::Hash),
                        Ok(None) => Some(Problem::Missing),
                        Err(e) => Some(Problem::Format(e)),
                    };
                    out.push(Verdict {
                        kind: Kind::Log,
                        bucket: log.s3_bucket.clone(),
                        key: log.s3_object.clone(),
                        problem,
                    });
                }
                listed.retain(|k| k < &key);
                if d.digest_start_time.as_str() <= since {
                    break;
                }
                next = match (&d.previous_digest_s3_bucket, &d.previous_digest_s3_object) {
                    (Some(pb), Some(pk)) => Some((pb.clone(), pk.clone())),
                    // The first digest of a chain (logging was off before):
                    // go on from the next older one listed.
                    _ => listed.pop().map(|k| (bucket.to_string(), k)),
                };
            }
            Err(problem) => {
                out.push(Verdict {
                    kind: Kind::Digest,
                    bucket: b.clone(),
                    key: key.clone(),
                    problem: Some(problem),
                });
                listed.retain(|k| k < &key);
                next = listed.pop().map(|k| (bucket.to_string(), k));
            }
        }
    }
    out
}

fn digest(
    objects: &mut dyn Objects,
    signatures: &dyn Signatures,
    bucket: &str,
    key: &str,
) -> Result<DigestFile, Problem> {
    let fetched = objects
        .fetch(bucket, key)
        .map_err(Problem::Format)?
        .ok_or(Problem::Missing)?;
    let d: DigestFile =
        serde_json::from_slice(&fetched.inflated).map_err(|e| Problem::Format(e.to_string()))?;
    if d.digest_s3_bucket != bucket || d.digest_s3_object != key {
        return Err(Problem::Moved);
    }
    let signature = fetched
        .metadata
        .get("signature")
        .filter(|_| fetched.metadata.contains_key("signature-algorithm"))
        .ok_or(Problem::Unsigned)?;
    let signature = hex::decode(signature).map_err(|_| Problem::Signature)?;
    let message = string_to_sign(&d, &fetched.inflated);
    match signatures.verify(
        &d.digest_public_key_fingerprint,
        message.as_bytes(),
        &signature,
    ) {
        Ok(true) => Ok(d),
        Ok(false) => Err(Problem::Signature),
        Err(_) => Err(Problem::UnknownKey(d.digest_public_key_fingerprint.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Objects in memory; "signatures" are the SHA-256 of the message
    /// under a fake key, enough to test the walk (the RSA check itself is
    /// the SDK crate's and is cross-checked against the AWS CLI).
    #[derive(Default)]
    struct Memory(HashMap<(String, String), Fetched>);

    impl Objects for Memory {
        fn fetch(&mut self, b: &str, k: &str) -> Result<Option<Fetched>, String> {
            Ok(self.0.get(&(b.into(), k.into())).map(|f| Fetched {
                inflated: f.inflated.clone(),
                metadata: f.metadata.clone(),
            }))
        }
        fn sha256(&mut self, b: &str, k: &str) -> Result<Option<String>, String> {
            Ok(self
                .0
                .get(&(b.into(), k.into()))
                .map(|f| sha256_hex(&f.inflated)))
        }
    }

    struct Fake;
    impl Signatures for Fake {
        fn verify(&self, fp: &str, message: &[u8], sig: &[u8]) -> Result<bool, String> {
            match fp {
                "fp-1" => Ok(sig == Sha256::digest(message).as_slice()),
                _ => Err("unknown".into()),
            }
        }
    }

    const B: &str = "trail";

    /// Three hourly digests over one log each, chained, signed.
    fn chain() -> (Memory, Vec<String>) {
        let mut m = Memory::default();
        let mut keys = Vec::new();
        let mut previous: Option<(String, String)> = None;
        for hour in 1..=3 {
            let log_key = format!("AWSLogs/1/CloudTrail/r/log-{hour}.json.gz");
            let log = format!(r#"{{"Records":[{{"n":{hour}}}]}}"#).into_bytes();
            let key = format!("AWSLogs/1/CloudTrail-Digest/r/digest-{hour}.json.gz");
            let mut doc = serde_json::json!({
                "digestStartTime": format!("2026-01-15T0{}:00:00Z", hour - 1),
                "digestEndTime": format!("2026-01-15T0{hour}:00:00Z"),
                "digestS3Bucket": B, "digestS3Object": key,
                "digestPublicKeyFingerprint": "fp-1",
                "previousDigestSignature": previous.as_ref().map(|p| p.1.clone()),
                "logFiles": [{"s3Bucket": B, "s3Object": log_key, "hashValue": sha256_hex(&log)}],
            });
            if let Some((pk, _)) = &previous {
                doc["previousDigestS3Bucket"] = B.into();
                doc["previousDigestS3Object"] = pk.clone().into();
            }
            let inflated = doc.to_string().into_bytes();
            let d: DigestFile = serde_json::from_slice(&inflated).unwrap();
            let sig = hex::encode(Sha256::digest(string_to_sign(&d, &inflated).as_bytes()));
            m.0.insert(
                (B.into(), log_key),
                Fetched {
                    inflated: log,
                    metadata: BTreeMap::new(),
                },
            );
            m.0.insert(
                (B.into(), key.clone()),
                Fetched {
                    inflated,
                    metadata: [
                        ("signature".to_string(), sig.clone()),
                        (
                            "signature-algorithm".to_string(),
                            "SHA256withRSA".to_string(),
                        ),
                    ]
                    .into(),
                },
            );
            previous = Some((key.clone(), sig));
            keys.push(key);
        }
        (m, keys)
    }

    fn problems(v: &[Verdict]) -> Vec<(String, Option<Problem>)> {
        v.iter()
            .map(|v| {
                (
                    v.key.rsplit('/').next().unwrap().to_string(),
                    v.problem.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_is_valid_end_to_end() {
        let (mut m, keys) = chain();
        let v = verify_chain(&mut m, &Fake, B, keys, "2026-01-15T00:00:00Z");
        assert_eq!(v.len(), 6);
        assert!(v.iter().all(|v| v.problem.is_none()), "{v:?}");
    }

    #[test]
    fn altered_missing_forged_and_deleted_files_are_named() {
        // An altered log.
        let (mut m, keys) = chain();
        let log = (
            B.to_string(),
            "AWSLogs/1/CloudTrail/r/log-2.json.gz".to_string(),
        );
        m.0.get_mut(&log).unwrap().inflated = b"{\"Records\":[]}".to_vec();
        let v = verify_chain(&mut m, &Fake, B, keys.clone(), "");
        assert_eq!(
            problems(&v)
                .into_iter()
                .filter(|(_, p)| p.is_some())
                .collect::<Vec<_>>(),
            [("log-2.json.gz".to_string(), Some(Problem::Hash))]
        );
        // A missing log.
        m.0.remove(&log);
        let v = verify_chain(&mut m, &Fake, B, keys.clone(), "");
        assert!(v.iter().any(|v| v.problem == Some(Problem::Missing)));

        // A forged digest: its content changed, its signature kept.
        let (mut m, keys) = chain();
        let d2 = (B.to_string(), keys[1].clone());
        let f = m.0.get_mut(&d2).unwrap();
        f.inflated = String::from_utf8(f.inflated.clone())
            .unwrap()
            .replace("log-2", "log-9")
            .into_bytes();
        let v = verify_chain(&mut m, &Fake, B, keys.clone(), "");
        let bad: Vec<_> = problems(&v)
            .into_iter()
            .filter(|(_, p)| p.is_some())
            .collect();
        assert_eq!(
            bad,
            [("digest-2.json.gz".to_string(), Some(Problem::Signature))]
        );
        // The walk went on past it, to the oldest digest and its log.
        assert!(v.iter().any(|v| v.key.ends_with("log-1.json.gz")));

        // A deleted digest: named missing, the walk goes on.
        let (mut m, keys) = chain();
        m.0.remove(&(B.to_string(), keys[1].clone()));
        let listed: Vec<String> = vec![keys[0].clone(), keys[2].clone()];
        let v = verify_chain(&mut m, &Fake, B, listed, "");
        let bad: Vec<_> = problems(&v)
            .into_iter()
            .filter(|(_, p)| p.is_some())
            .collect();
        assert_eq!(
            bad,
            [("digest-2.json.gz".to_string(), Some(Problem::Missing))]
        );
        assert!(v
            .iter()
            .any(|v| v.key.ends_with("digest-1.json.gz") && v.problem.is_none()));

        // Unsigned, and signed with a key CloudTrail does not have.
        let (mut m, keys) = chain();
        m.0.get_mut(&(B.to_string(), keys[2].clone()))
            .unwrap()
            .metadata
            .clear();
        let v = verify_chain(&mut m, &Fake, B, keys, "");
        assert_eq!(v[0].problem, Some(Problem::Unsigned));
    }

    #[test]
    fn only_the_logs_asked_for_are_hashed_and_every_digest_is_checked() {
        let (mut m, keys) = chain();
        let v = verify_chain_where(&mut m, &Fake, B, keys, "", &|l| {
            l.s3_object.ends_with("log-2.json.gz")
        });
        let logs: Vec<&str> = v
            .iter()
            .filter(|v| v.kind == Kind::Log)
            .map(|v| v.key.as_str())
            .collect();
        assert_eq!(logs, ["AWSLogs/1/CloudTrail/r/log-2.json.gz"]);
        assert_eq!(v.iter().filter(|v| v.kind == Kind::Digest).count(), 3);
    }

    #[test]
    fn a_streamed_hash_is_the_whole_ones() {
        use std::io::Read as _;
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(sha256_hex_of(&big[..]).unwrap(), sha256_hex(&big));
        // Read in part by someone else first: the rest is hashed on finish.
        let mut h = Hashing::new(&big[..]);
        let mut head = [0u8; 1000];
        h.read_exact(&mut head).unwrap();
        assert_eq!(h.finish().unwrap(), sha256_hex(&big));
    }

    #[test]
    fn the_string_to_sign_is_cloudtrails() {
        let d: DigestFile = serde_json::from_str(
            r#"{"digestStartTime":"s","digestEndTime":"2026-01-15T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f","previousDigestSignature":null}"#,
        )
        .unwrap();
        assert_eq!(
            string_to_sign(&d, b"abc"),
            "2026-01-15T01:00:00Z\nb/k\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull"
        );
    }
}
