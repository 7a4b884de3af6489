//! Identity Center users' names. CloudTrail names a user an Identity
//! Center session was made for by an id in an identity store; the store
//! (`DescribeUser`) knows the name an auditor recognises. Each user is
//! asked once per process: the function keeps the answers across
//! invocations.

use crate::clients::Clients;
use crate::error::{from_sdk, CallError, ErrorKind};
use aws_types::region::Region;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tagwarden_core::chains::CenterUser;

pub struct Directory {
    client: aws_sdk_identitystore::Client,
    /// By (store, user): a name, or `None` for a user the store does not
    /// know (not asked again).
    names: Mutex<HashMap<(String, String), Option<String>>>,
    /// Stores that refused or failed, and when: not asked again for
    /// [`ASK_AGAIN`], so one denial is one alert, not one per invocation.
    failed: Mutex<HashMap<String, Instant>>,
}

/// How long a store that failed is left alone.
pub const ASK_AGAIN: Duration = Duration::from_secs(15 * 60);

impl Directory {
    /// The identity store lives in Identity Center's one region, which its
    /// ARN does not name: the operator says which.
    pub fn new(clients: &Clients, region: &str) -> Self {
        let conf = aws_sdk_identitystore::config::Builder::from(clients.base())
            .region(Region::new(region.to_string()))
            .interceptor(clients.counter().clone())
            .build();
        Directory {
            client: aws_sdk_identitystore::Client::from_conf(conf),
            names: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
        }
    }

    /// The names of `users` the store gives, as (user id, name), and the
    /// calls that failed. A user the store does not know stays unnamed.
    pub async fn names(&self, users: &[&CenterUser]) -> (Vec<(String, String)>, Vec<CallError>) {
        let (mut named, mut errors) = (Vec::new(), Vec::new());
        for user in users {
            let Some(store) = user.store_id() else {
                continue;
            };
            let key = (store.to_string(), user.user_id.clone());
            let known = self.names.lock().ok().and_then(|n| n.get(&key).cloned());
            let resting = || {
                let failed = self.failed.lock().ok()?.get(store).copied();
                failed.filter(|at| at.elapsed() < ASK_AGAIN)
            };
            let name = match known {
                Some(name) => name,
                None if resting().is_some() => continue,
                None => match self.describe(store, &user.user_id).await {
                    Ok(name) => {
                        if let Ok(mut names) = self.names.lock() {
                            names.insert(key, name.clone());
                        }
                        name
                    }
                    Err(e) => {
                        // A denial or a wrong setup stays so for a while; a
                        // throttle or a dropped call is asked again.
                        if !e.kind.retryable() {
                            if let Ok(mut failed) = self.failed.lock() {
                                failed.insert(store.to_string(), Instant::now());
                            }
                        }
                        errors.push(e);
                        continue;
                    }
                },
            };
            if let Some(name) = name {
                named.push((user.user_id.clone(), name));
            }
        }
        (named, errors)
    }

    async fn describe(&self, store: &str, user: &str) -> Result<Option<String>, CallError> {
        let got = self
            .client
            .describe_user()
            .identity_store_id(store)
            .user_id(user)
            .send()
            .await;
        match got {
            Ok(u) => Ok(u.user_name().or(u.display_name()).map(str::to_string)),
            Err(e) => match from_sdk(e) {
                e if e.kind == ErrorKind::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }
}
