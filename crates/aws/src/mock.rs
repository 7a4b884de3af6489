//! A tagging API in memory, for the tests of every layer above the
//! adapters (as mountpoint-s3's mock client): state that can be read back,
//! call counts, and the faults AWS gives — a throttle, an unknown id that
//! fails a whole EC2 call or one entry of a batch, a denial, a resource
//! that refuses tags while it is being created.

use crate::adapters::Tags;
use crate::adapters::{ReadResult, Tagger, Target, WriteResult};
use crate::error::CallError;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tagwarden_core::reconcile::Current;

/// A tagging API in memory. `whole_call` makes it fail a whole write on
/// one unknown id, as EC2 does; otherwise it reports per resource, as
/// the tagging API does.
#[derive(Default)]
pub struct MemoryTagger {
    pub whole_call: bool,
    pub tags: Mutex<HashMap<String, Current>>,
    pub unknown: HashSet<String>,
    /// Writes that fail with a throttle for these ARNs, once each.
    pub flaky: Mutex<HashSet<String>>,
    pub denied: bool,
    /// Every write is throttled, however often it is tried.
    pub throttled: bool,
    pub writes: Mutex<Vec<Vec<String>>>,
    pub reads: Mutex<u64>,
    /// Writes to these ARNs fail with the service's own answer while the
    /// count lasts (one per write): the resource is being created.
    pub creating: Mutex<HashMap<String, (CallError, u32)>>,
    /// Ids not visible yet (EC2, `whole_call`): a write naming them fails
    /// as a whole, naming them, while the count lasts (one per write).
    pub unseen: Mutex<HashMap<String, u32>>,
    /// Each parent ARN's attached children's ids (an instance's volumes).
    pub attached: HashMap<String, Vec<String>>,
    /// Reads of children made so far, each with its parents.
    pub child_reads: Mutex<Vec<Vec<String>>>,
}

impl Tagger for MemoryTagger {
    async fn read(&self, _: Target<'_>, arns: &[&str]) -> Result<ReadResult, CallError> {
        *self.reads.lock().unwrap() += 1;
        let all = self.tags.lock().unwrap();
        Ok(ReadResult {
            tags: arns
                .iter()
                .map(|a| (a.to_string(), all.get(*a).cloned().unwrap_or_default()))
                .collect(),
            failed: HashMap::new(),
        })
    }

    async fn write(
        &self,
        _: Target<'_>,
        arns: &[&str],
        tags: &Tags,
    ) -> Result<WriteResult, CallError> {
        self.writes
            .lock()
            .unwrap()
            .push(arns.iter().map(|a| a.to_string()).collect());
        if self.denied {
            return Err(CallError::new("UnauthorizedOperation", "no"));
        }
        if self.throttled {
            return Err(CallError::new("RequestLimitExceeded", "slow down"));
        }
        if self.whole_call {
            // EC2 refuses the call and names every id it cannot see.
            let mut unseen = self.unseen.lock().unwrap();
            let missing: Vec<&str> = arns
                .iter()
                .filter(|a| {
                    self.unknown.contains(**a)
                        || unseen.get_mut(**a).is_some_and(|left| {
                            let seen = *left == 0;
                            *left = left.saturating_sub(1);
                            !seen
                        })
                })
                .map(|a| a.rsplit('/').next().unwrap_or(a))
                .collect();
            if !missing.is_empty() {
                return Err(CallError::new(
                    "InvalidInstanceID.NotFound",
                    &format!("The instance IDs '{}' do not exist", missing.join(", ")),
                ));
            }
        }
        let mut failed = HashMap::new();
        for arn in arns {
            if self.unknown.contains(*arn) {
                let e = CallError::new("InvalidInstanceID.NotFound", "does not exist");
                failed.insert(arn.to_string(), e);
            } else if self.flaky.lock().unwrap().remove(*arn) {
                failed.insert(arn.to_string(), CallError::new("ThrottlingException", ""));
            } else if let Some((e, left)) = self.creating.lock().unwrap().get_mut(*arn) {
                if *left > 0 {
                    *left -= 1;
                    failed.insert(arn.to_string(), e.clone());
                }
            }
        }
        let mut all = self.tags.lock().unwrap();
        for arn in arns.iter().filter(|a| !failed.contains_key(**a)) {
            let entry = all.entry(arn.to_string()).or_default();
            for (k, v) in tags {
                entry.insert(k.as_str().into(), v.as_str().into());
            }
        }
        let request = format!("mock-{}", self.writes.lock().unwrap().len());
        Ok(WriteResult::one_call(arns, Some(&request), failed))
    }

    async fn children(
        &self,
        _: Target<'_>,
        _: &str,
        parents: &[&str],
    ) -> Result<Vec<(String, String)>, CallError> {
        self.child_reads
            .lock()
            .unwrap()
            .push(parents.iter().map(|p| p.to_string()).collect());
        if self.denied {
            return Err(CallError::new("UnauthorizedOperation", "no"));
        }
        Ok(parents
            .iter()
            .flat_map(|p| {
                let ids = self.attached.get(*p).into_iter().flatten();
                ids.map(|id| (p.to_string(), id.clone()))
            })
            .collect())
    }
}

impl MemoryTagger {
    /// The tags `arn` carries now.
    pub fn tags_of(&self, arn: &str) -> Current {
        self.tags
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .unwrap_or_default()
    }

    /// Write calls made so far.
    pub fn write_calls(&self) -> usize {
        self.writes.lock().unwrap().len()
    }
}
