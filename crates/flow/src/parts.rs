//! One delivery read in parts small enough for the function's memory: the
//! payload, then each log object it names from the checkpoint an earlier
//! delivery left in the store. A log is cut every [`PART_CREATIONS`] things
//! found (creations, tag calls, session hops, errors; or as configured);
//! parts pass through a channel of one, so the reader waits while a part
//! is settled and at most three are held (one settling, one queued, one
//! being read).
//! [`Checkpoints`] says which settled parts move a log's checkpoint on.

use crate::read::{log_objects, logs_named, Gathered, Reading, Tracked};
use std::collections::{BTreeMap, HashSet};
use tagwarden_aws::clients::Clients;
use tagwarden_aws::s3_source::Prefetch;
use tagwarden_core::pipeline::{ObjectRef, Stats, Window};
use tagwarden_core::trust::{log_key_account, Accounts};
use tagwarden_store::model::{resume_after, Entry, Evidence, Source};
use tagwarden_store::{AuditStore, StoreError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Creations gathered before a log is cut, by default: EC2's `CreateTags`
/// takes 1000 ids, and a thousand creations planned stay within a few MB.
pub const PART_CREATIONS: usize = 1_000;

/// A log may be cut every this many records: often enough that a part
/// holds little more than `size` creations.
pub fn mark_every(size: usize) -> u64 {
    (size as u64 / 4).clamp(1, 256)
}

/// Some records of one delivery, read.
pub struct Part {
    /// The log object they are of; `None` for the payload itself (an
    /// EventBridge event).
    pub object: Option<Source>,
    /// The log's records read through this part (those passed over
    /// included): its checkpoint once the part is settled.
    pub through: u64,
    /// The last part of its log in this delivery.
    pub last: bool,
    /// The log broke off before its end (why): the rest comes with the
    /// delivery again.
    pub unread: Option<String>,
    pub found: Gathered,
    /// Objects named by notifications inside a log: not followed.
    pub named: Vec<ObjectRef>,
}

impl Part {
    /// The EventBridge events this part acted on, for the schedule to
    /// confirm against the signed logs ([`Entry::Acted`]).
    pub fn acted(&self, day: &str, now: &str) -> Vec<Evidence> {
        if self.object.is_some() {
            return Vec::new();
        }
        let f = &self.found;
        let events = f
            .creations
            .iter()
            .map(|c| &c.event)
            .chain(f.changes.iter().map(|c| &c.event))
            .chain(f.watched.iter().map(|c| &c.event));
        events
            .map(|e| Evidence {
                source: Source::Event(e.id.clone()),
                entry: Entry::Acted,
                day: Some(day.to_string()),
                at: now.to_string(),
                detail: format!("{}/{}/{}", e.account, e.region, e.time),
            })
            .collect()
    }
}

/// A delivery being read.
pub struct Parts {
    pub parts: mpsc::Receiver<Part>,
    /// Notified objects that are not CloudTrail logs.
    pub skipped: Vec<ObjectRef>,
    /// Logs an earlier delivery settled to their end: not read again.
    pub settled: Vec<Source>,
    /// The reader; its counters once every part was taken.
    pub reader: Option<JoinHandle<Stats>>,
}

/// How a delivery's parts were settled.
pub struct Delivered<E> {
    /// The first failure: of a part's settling, or of the store.
    pub failure: Option<Failed<E>>,
    /// Some part waits for resources still being created.
    pub waiting: bool,
    /// Logs that broke off before their end, with why: the rest comes with
    /// the delivery again.
    pub unread: Vec<String>,
    /// The reader's counters; `Err` when it stopped.
    pub stats: Result<Stats, String>,
}

pub enum Failed<E> {
    Store(StoreError),
    Settle(E),
}

impl Parts {
    /// Settles each part as it comes with `settle` (`Ok(true)`: it waits
    /// for resources being created). The events a part acts on are noted
    /// before it is settled, so that a run that dies while tagging still
    /// leaves them for the schedule to confirm; its log's checkpoint after
    /// ([`Checkpoints`]). What was read is settled even when a log broke
    /// off, and what is done is not done twice.
    pub async fn settle_each<S, E>(
        mut self,
        store: &S,
        mut settle: impl AsyncFnMut(&Part) -> Result<bool, E>,
    ) -> Delivered<E>
    where
        S: AuditStore,
    {
        let mut checkpoints = Checkpoints::default();
        let mut out = Delivered {
            failure: None,
            waiting: false,
            unread: Vec::new(),
            stats: Ok(Stats::default()),
        };
        while let Some(part) = self.parts.recv().await {
            let now = tagwarden_store::rows::now();
            let acted = part.acted(&now[..10], &now);
            if !acted.is_empty() {
                if let Err(e) = store.note(&acted).await {
                    // Nothing is acted on that is not noted.
                    out.failure.get_or_insert(Failed::Store(e));
                    break;
                }
            }
            let settled = settle(&part).await;
            let now = tagwarden_store::rows::now();
            let finished = matches!(settled, Ok(false));
            match settled {
                Ok(waits) => out.waiting |= waits,
                Err(e) => {
                    out.failure.get_or_insert(Failed::Settle(e));
                }
            }
            if let Some(checkpoint) = checkpoints.settled(&part, finished, &now) {
                if let Err(e) = store.note(&[checkpoint]).await {
                    out.failure.get_or_insert(Failed::Store(e));
                }
            }
            if let (Some(object), Some(why)) = (&part.object, &part.unread) {
                out.unread.push(format!("{object}: {why}"));
            }
        }
        // Dropped, the channel stops a reader that is still reading.
        drop(self.parts);
        if let Some(reader) = self.reader {
            out.stats = reader
                .await
                .map_err(|e| format!("reading the logs stopped: {e}"));
        }
        out
    }
}

/// Reads `payloads`, each named by its origin, as one (with `trail`, a
/// notification for any other bucket is refused before anything is read):
/// the events of an SQS batch make one part, settled in one plan, one write
/// per batch of resources and one record. Notes each named log as acted on,
/// and starts reading the logs from their checkpoints, `ahead` of them
/// downloading, cut every `size` creations. Records of accounts outside
/// `accounts` are refused.
#[allow(clippy::too_many_arguments)]
pub async fn read<S: AuditStore>(
    clients: &Clients,
    store: &S,
    payloads: &[(&str, &[u8])],
    trail: Option<&str>,
    accounts: Accounts,
    ahead: usize,
    size: usize,
) -> Result<Parts, String> {
    let window = Window {
        not_after: Some(Window::latest(jiff::Timestamp::now())),
        ..Window::default()
    };
    let mut reading = Reading::new(window, accounts).marked(mark_every(size));
    for (origin, payload) in payloads {
        reading.read(origin, *payload);
    }
    let (logs, skipped) = logs_named(std::mem::take(&mut reading.named), trail)?;
    let (tx, rx) = mpsc::channel(1);
    let payload_part = Part {
        object: None,
        through: 0,
        last: true,
        unread: None,
        found: reading.take(),
        named: Vec::new(),
    };
    // The channel holds one part: this one, before the reader starts. An
    // S3 notification holds nothing to settle.
    if !payload_part.found.is_empty() {
        let _ = tx.try_send(payload_part);
    }
    let (from, settled) = checkpoints(store, &logs)
        .await
        .map_err(|e| format!("audit store: {e}"))?;
    let logs: Vec<ObjectRef> = logs
        .into_iter()
        .filter(|o| from.contains_key(&Source::log(&o.bucket, &o.key)))
        .collect();
    let objects = log_objects(clients, logs).await;
    let handle = tokio::runtime::Handle::current();
    let reader = tokio::task::spawn_blocking(move || {
        for (object, body) in Prefetch::new(handle, objects, ahead) {
            let source = Source::log(&object.bucket, &object.key);
            let after = from.get(&source).copied().unwrap_or(0);
            let failed = std::sync::Arc::new(std::sync::OnceLock::new());
            let body = Tracked::new(body, std::sync::Arc::clone(&failed));
            let mut open = true;
            let records = reading.read_part(
                &object.url(),
                // CloudTrail writes an account's records under its own key.
                log_key_account(&object.key),
                after,
                body,
                size,
                &mut |through, found| {
                    let part = Part {
                        object: Some(source.clone()),
                        through,
                        last: false,
                        unread: None,
                        found,
                        named: Vec::new(),
                    };
                    open = tx.blocking_send(part).is_ok();
                    open
                },
            );
            let unread = failed.get().cloned();
            let last = Part {
                object: Some(source),
                through: records.max(after),
                last: true,
                unread,
                found: reading.take(),
                named: std::mem::take(&mut reading.named),
            };
            if !open || tx.blocking_send(last).is_err() {
                break;
            }
        }
        reading.stats().clone()
    });
    Ok(Parts {
        parts: rx,
        skipped,
        settled,
        reader: Some(reader),
    })
}

/// Where each log is to be read from, and the logs already read whole;
/// each log is noted as acted on (once: a redelivery adds nothing).
async fn checkpoints<S: AuditStore>(
    store: &S,
    logs: &[ObjectRef],
) -> Result<(BTreeMap<Source, u64>, Vec<Source>), StoreError> {
    let now = tagwarden_store::rows::now();
    let mut from = BTreeMap::new();
    let mut settled = Vec::new();
    let mut acted = Vec::new();
    for o in logs {
        let source = Source::log(&o.bucket, &o.key);
        match resume_after(&store.evidence(&source).await?) {
            Some(after) => {
                from.insert(source.clone(), after);
            }
            None => settled.push(source.clone()),
        }
        acted.push(Evidence {
            source,
            entry: Entry::Acted,
            day: Some(now[..10].to_string()),
            at: now.clone(),
            detail: String::new(),
        });
    }
    if !acted.is_empty() {
        store.note(&acted).await?;
    }
    Ok((from, settled))
}

/// Which settled parts move a log's checkpoint on: only an unbroken run of
/// finished parts from where the delivery started. A part that failed or
/// waits for its resources stops its log's checkpoint there, so that the
/// delivery, when it comes again, reads that part again.
#[derive(Default)]
pub struct Checkpoints {
    stalled: HashSet<Source>,
}

impl Checkpoints {
    /// The evidence a settled part earns: its log's new checkpoint, or that
    /// the log is read whole.
    pub fn settled(&mut self, part: &Part, finished: bool, now: &str) -> Option<Evidence> {
        let source = part.object.as_ref()?;
        if !finished || part.unread.is_some() {
            self.stalled.insert(source.clone());
        }
        if self.stalled.contains(source) {
            return None;
        }
        let entry = match part.last {
            true => Entry::Read,
            false => Entry::Progress(part.through),
        };
        Some(Evidence {
            source: source.clone(),
            entry,
            day: None,
            at: now.to_string(),
            detail: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(key: &str, through: u64, last: bool) -> Part {
        Part {
            object: Some(Source::log("trail", key)),
            through,
            last,
            unread: None,
            found: Gathered::default(),
            named: Vec::new(),
        }
    }

    #[test]
    fn a_checkpoint_moves_only_over_finished_parts() {
        let mut c = Checkpoints::default();
        let entry = |e: Option<Evidence>| e.map(|e| e.entry);
        assert_eq!(
            entry(c.settled(&part("a", 300, false), true, "t")),
            Some(Entry::Progress(300))
        );
        // A part that waits stops its log's checkpoint for this delivery.
        assert_eq!(entry(c.settled(&part("a", 600, false), false, "t")), None);
        assert_eq!(entry(c.settled(&part("a", 900, true), true, "t")), None);
        // Another log is not held back.
        assert_eq!(
            entry(c.settled(&part("b", 50, true), true, "t")),
            Some(Entry::Read)
        );
        // A log that broke off is never read whole.
        let mut broken = part("c", 70, true);
        broken.unread = Some("reset".into());
        assert_eq!(entry(c.settled(&broken, true, "t")), None);
        // The payload has no checkpoint.
        let mut payload = part("d", 0, true);
        payload.object = None;
        assert_eq!(entry(c.settled(&payload, true, "t")), None);
    }
}
