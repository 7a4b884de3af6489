//! Secrets Manager values kept across runs (a Lambda's invocations): read on first use, read
//! again once older than [`TTL`] (the default of AWS's own caching
//! clients, so a rotation is seen within the hour) or as soon as their
//! receiver refuses them. Values are never logged, nor printed by `Debug`.

use crate::clients::Clients;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(3600);
/// A value its receiver refused is not offered again for this long (a
/// deleted webhook must not cost a refused call and a read per invocation).
pub const REFUSED_FOR: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct Secrets {
    kept: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    read_at: Instant,
    value: Arc<str>,
    refused_at: Option<Instant>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self
            .kept
            .lock()
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("Secrets").field("kept", &ids).finish()
    }
}

impl Secrets {
    /// The value of `id`, from `read` when it is not kept or has aged out.
    /// A failed read is not kept; an aged value is still used then (it is
    /// most likely still valid), a forgotten one is not.
    pub async fn get<F, Fut>(&self, id: &str, now: Instant, read: F) -> Result<Arc<str>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, String>>,
    {
        let stale = match self.kept.lock().ok().and_then(|k| {
            k.get(id).map(|e| {
                (
                    now.saturating_duration_since(e.read_at) < TTL,
                    e.value.clone(),
                )
            })
        }) {
            Some((true, v)) => return Ok(v),
            Some((false, v)) => Some(v),
            None => None,
        };
        let value: Arc<str> = match (read().await, stale) {
            (Ok(v), _) => v.into(),
            (Err(e), Some(v)) => {
                tracing::warn!(secret = id, error = %e, "secret not read again: using the value read before");
                return Ok(v);
            }
            (Err(e), None) => return Err(e),
        };
        if let Ok(mut k) = self.kept.lock() {
            let refused_at = k
                .get(id)
                .filter(|e| e.value == value)
                .and_then(|e| e.refused_at);
            k.insert(
                id.to_string(),
                Kept {
                    read_at: now,
                    value: value.clone(),
                    refused_at,
                },
            );
        }
        Ok(value)
    }

    /// The string value of secret `id` (a name, or an ARN, read in its
    /// own region), kept.
    pub async fn value(&self, clients: &Clients, id: &str) -> Result<Arc<str>, String> {
        self.get(id, Instant::now(), || read(clients, id)).await
    }

    /// Drops `id`'s value: its next use reads it again.
    pub fn forget(&self, id: &str) {
        if let Ok(mut k) = self.kept.lock() {
            k.remove(id);
        }
    }

    /// The receiver refused `value`: kept, but marked.
    pub fn refuse(&self, id: &str, value: &Arc<str>, now: Instant) {
        if let Ok(mut k) = self.kept.lock() {
            let e = k.entry(id.to_string()).or_insert_with(|| Kept {
                read_at: now,
                value: value.clone(),
                refused_at: None,
            });
            if e.value == *value {
                e.refused_at = Some(now);
            }
        }
    }

    /// `value` was refused less than [`REFUSED_FOR`] ago.
    pub fn refused(&self, id: &str, value: &Arc<str>, now: Instant) -> bool {
        self.kept.lock().ok().is_some_and(|k| {
            k.get(id).is_some_and(|e| {
                e.value == *value
                    && e.refused_at
                        .is_some_and(|at| now.saturating_duration_since(at) < REFUSED_FOR)
            })
        })
    }
}

/// Reads secret `id` in its own region (an ARN names it; a name is the
/// caller's default region's).
async fn read(clients: &Clients, id: &str) -> Result<String, String> {
    let region = id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2));
    let out = clients
        .own_secretsmanager(region)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| crate::error::from_sdk(e).to_string())?;
    out.secret_string
        .ok_or_else(|| "the secret has no string value (binary secrets are not read)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ok(v: &'static str) -> impl FnOnce() -> std::future::Ready<Result<String, String>> {
        move || std::future::ready(Ok(v.to_string()))
    }

    fn fails() -> impl FnOnce() -> std::future::Ready<Result<String, String>> {
        || std::future::ready(Err("AccessDenied".to_string()))
    }

    #[tokio::test]
    async fn a_value_is_read_once_until_it_ages_out_or_is_forgotten() {
        let secrets = Secrets::default();
        let reads = AtomicUsize::new(0);
        let read = |v: &'static str| {
            let reads = &reads;
            move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(v.to_string())
            }
        };
        let t0 = Instant::now();
        assert_eq!(&*secrets.get("s", t0, read("a")).await.unwrap(), "a");
        // Kept: a changed value is not seen yet.
        let later = t0 + TTL - Duration::from_secs(1);
        assert_eq!(&*secrets.get("s", later, read("b")).await.unwrap(), "a");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Aged out.
        assert_eq!(&*secrets.get("s", t0 + TTL, read("b")).await.unwrap(), "b");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        // Forgotten.
        secrets.forget("s");
        assert_eq!(&*secrets.get("s", t0 + TTL, read("c")).await.unwrap(), "c");
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // Another id is its own entry.
        assert_eq!(&*secrets.get("t", t0 + TTL, read("d")).await.unwrap(), "d");
        // Debug names ids, never values.
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("\"s\"") && !shown.contains("\"c\""),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept_and_an_aged_value_stands_in() {
        let secrets = Secrets::default();
        let t0 = Instant::now();
        assert_eq!(
            secrets.get("s", t0, fails()).await.unwrap_err(),
            "AccessDenied"
        );
        assert_eq!(&*secrets.get("s", t0, ok("v")).await.unwrap(), "v");
        // Aged out and the read fails: the old value is used.
        assert_eq!(&*secrets.get("s", t0 + TTL, fails()).await.unwrap(), "v");
        // Forgotten (refused) and the read fails: nothing stands in.
        secrets.forget("s");
        assert!(secrets.get("s", t0 + TTL, fails()).await.is_err());
    }

    #[tokio::test]
    async fn a_refused_value_is_marked_for_a_while_and_a_new_value_is_not() {
        let secrets = Secrets::default();
        let t0 = Instant::now();
        let a = secrets.get("s", t0, ok("a")).await.unwrap();
        assert!(!secrets.refused("s", &a, t0));
        secrets.refuse("s", &a, t0);
        assert!(secrets.refused("s", &a, t0 + REFUSED_FOR / 2));
        assert!(!secrets.refused("s", &a, t0 + REFUSED_FOR));
        // Read again unchanged (after a forget): still refused.
        secrets.forget("s");
        secrets.refuse("s", &a, t0);
        let again = secrets.get("s", t0 + TTL, ok("a")).await.unwrap();
        assert!(secrets.refused("s", &again, t0 + Duration::from_secs(1)));
        // A rotated value starts clean.
        let b = secrets.get("s", t0 + TTL * 2, ok("b")).await.unwrap();
        assert!(!secrets.refused("s", &b, t0 + TTL * 2));
    }
}
