//! Secrets Manager values kept across invocations: read on first use, read
//! again once older than [`TTL`] (the default of AWS's own caching
//! clients, so a rotation is seen within the hour) or as soon as their
//! receiver refuses them. Values are never logged.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
pub struct Secrets {
    kept: Mutex<HashMap<String, (Instant, Arc<str>)>>,
}

impl Secrets {
    /// The value of `id`, from `read` when it is not kept or has aged out;
    /// a failed read is not kept.
    pub async fn get<F, Fut>(&self, id: &str, now: Instant, read: F) -> Result<Arc<str>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, String>>,
    {
        let kept = self.kept.lock().ok().and_then(|k| {
            k.get(id)
                .filter(|(at, _)| now.saturating_duration_since(*at) < TTL)
                .map(|(_, v)| Arc::clone(v))
        });
        if let Some(v) = kept {
            return Ok(v);
        }
        let value: Arc<str> = read().await?.into();
        if let Ok(mut k) = self.kept.lock() {
            k.insert(id.to_string(), (now, Arc::clone(&value)));
        }
        Ok(value)
    }

    /// Drops `id`: its next use reads it again.
    pub fn forget(&self, id: &str) {
        if let Ok(mut k) = self.kept.lock() {
            k.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let secrets = Secrets::default();
        let now = Instant::now();
        let failed = secrets
            .get("s", now, || async { Err("AccessDenied".to_string()) })
            .await;
        assert_eq!(failed.unwrap_err(), "AccessDenied");
        let v = secrets
            .get("s", now, || async { Ok("v".to_string()) })
            .await
            .unwrap();
        assert_eq!(&*v, "v");
    }
}
