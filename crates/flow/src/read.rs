//! sources → records → catalog → attribution: documents in, what they
//! created, the tag calls they hold, the log objects notifications name,
//! and the input errors, placed. Creations are kept (a few percent of the
//! records); records are not.

use std::io::{self, Read};
use tagwarden_aws::clients::Clients;
use tagwarden_aws::directory::Directory;
use tagwarden_aws::s3_source::{self, DateRange, Object, ObjectReader, Prefetch, S3Client};
use tagwarden_core::chains::{Call, Chains};
use tagwarden_core::launches::{Known, Launches};
use tagwarden_core::overview::Overview;
use tagwarden_core::pipeline::{
    Creation, Found, InputError, ObjectRef, Pipeline, Stats, TagChange, WatchedCall, Window,
};
use tagwarden_core::plan::{Plan, PlanItem, Planner};
use tagwarden_core::policy::Policy;
use tagwarden_core::trust::{log_key_account, Accounts};
use tagwarden_store::{AuditStore, StoreError};

/// What some records held, taken out of a [`Reading`] at a cut.
#[derive(Default)]
pub struct Gathered {
    pub creations: Vec<Creation>,
    pub changes: Vec<TagChange>,
    pub watched: Vec<WatchedCall>,
    pub errors: Vec<InputError>,
    /// The session hops these records issued.
    pub chains: Chains,
}

impl Gathered {
    /// Adds what `more` holds: parts of one reading put back together.
    pub fn append(&mut self, more: Gathered) {
        self.creations.extend(more.creations);
        self.changes.extend(more.changes);
        self.watched.extend(more.watched);
        self.errors.extend(more.errors);
        for hop in more.chains.hops() {
            self.chains.add(hop.clone());
        }
    }

    /// Things found: what a cut is measured in.
    pub fn size(&self) -> usize {
        self.creations.len()
            + self.changes.len()
            + self.watched.len()
            + self.errors.len()
            + self.chains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.creations.is_empty()
            && self.changes.is_empty()
            && self.watched.is_empty()
            && self.errors.is_empty()
            && self.chains.is_empty()
    }
}

/// Asks the store who created the parents `launches` names that no
/// creation of the run made (one read for all).
pub async fn parents_from_store<S: AuditStore>(
    store: &S,
    launches: &mut Launches,
) -> Result<(), StoreError> {
    let wanted = launches.wanted();
    if wanted.is_empty() {
        return Ok(());
    }
    let arns: Vec<&str> = wanted.iter().map(String::as_str).collect();
    for m in store.metadata(&arns).await? {
        // A direct invocation's word is not CloudTrail's: it vouches for no
        // launch.
        let direct = m
            .created
            .as_ref()
            .is_some_and(|e| e.name == tagwarden_core::trigger::DIRECT_EVENT);
        if let (Some(c), false) = (m.creator, direct) {
            let known = Known {
                responsible: c.responsible().map(str::to_string),
                launched_by: c.launched_by,
            };
            launches.know(m.arn, known);
        }
    }
    Ok(())
}

/// The session hops a batch of documents (EventBridge events) issued, of
/// the accounts in scope: kept before any creation of the batch is
/// resolved, whatever their order in it.
pub fn sessions_in<'d>(
    documents: impl IntoIterator<Item = &'d [u8]>,
    accounts: Accounts,
) -> Chains {
    let window = Window {
        not_after: Some(Window::latest(jiff::Timestamp::now())),
        ..Window::default()
    };
    let mut reading = Reading::new(window, accounts);
    for d in documents {
        reading.read("batch", d);
    }
    reading.chains
}

/// Keeps the hops these records issued (unless `keep` is false: a run
/// that changes nothing), then completes `chains` with the hops the store
/// kept from earlier deliveries that `creations` lead back through, a
/// round per hop: a creation may be read long after the session that
/// explains it. `now` is Unix seconds.
pub async fn sessions_through_store<S: AuditStore>(
    store: &S,
    chains: &mut Chains,
    creations: &[Creation],
    now: i64,
    keep: bool,
) -> Result<(), StoreError> {
    let fresh: Vec<_> = chains.hops().cloned().collect();
    if keep && !fresh.is_empty() {
        store.keep_sessions(&fresh, now).await?;
    }
    let mut asked = std::collections::HashSet::new();
    for _ in 0..tagwarden_core::chains::MAX_HOPS {
        let mut wanted: Vec<String> = creations
            .iter()
            .flat_map(|c| chains.wanted(Call::of(c)))
            .filter(|k| !asked.contains(k))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            break;
        }
        let keys: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let found = store.sessions(&keys, now).await?;
        asked.extend(wanted);
        if found.is_empty() {
            break;
        }
        for hop in found {
            chains.add(hop);
        }
    }
    Ok(())
}

/// Names the Identity Center users `creations` were made for through the
/// identity store; a user it cannot name stays named by id. Returns the
/// calls that failed, each as one line.
pub async fn name_users(
    directory: &Directory,
    creations: &[Creation],
    chains: &mut Chains,
) -> Vec<String> {
    let users = chains.unnamed_users(creations);
    if users.is_empty() {
        return Vec::new();
    }
    let (named, errors) = directory.names(&users).await;
    for (id, name) in named {
        chains.name_user(&id, &name);
    }
    errors
        .into_iter()
        .map(|e| format!("identitystore:DescribeUser: {e}"))
        .collect()
}

/// One part's plan, as both faces make it.
pub struct PartPlan {
    /// Planned with the store; from the part alone when the store failed.
    pub plan: Plan,
    /// Why the store could not help: the CLI says so and goes on with the
    /// part alone, the function fails the delivery so that it comes again.
    pub store: Result<(), StoreError>,
    /// Identity Center users left named by id, one line each.
    pub unnamed: Vec<String>,
}

/// creations → plan for one part (or a whole run): Identity Center users
/// named through `directory` when there is one, then planned with the
/// store when there is one ([`plan_with_store`]).
pub async fn plan_part<S: AuditStore>(
    directory: Option<&Directory>,
    store: Option<&S>,
    policy: &Policy,
    creations: &[Creation],
    mut chains: Chains,
    keep: bool,
    run: Option<&str>,
) -> PartPlan {
    let unnamed = match directory {
        Some(directory) => name_users(directory, creations, &mut chains).await,
        None => Vec::new(),
    };
    let planned = match store {
        Some(store) => plan_with_store(store, policy, creations, &mut chains, keep, run)
            .await
            .map(Some),
        None => Ok(None),
    };
    let alone = |chains: &Chains| plan_of(creations, chains, &Launches::of(creations), policy);
    let (plan, store) = match planned {
        Ok(Some(plan)) => (plan, Ok(())),
        Ok(None) => (alone(&chains), Ok(())),
        Err(e) => (alone(&chains), Err(e)),
    };
    PartPlan {
        plan,
        store,
        unnamed,
    }
}

/// creations → plan, with what earlier runs left in the store: session
/// hops (kept first, when `keep`: a run that records), parents' creators,
/// and later creations of the same ARNs (see [`latest_creation_wins`],
/// for `run`).
pub async fn plan_with_store<S: AuditStore>(
    store: &S,
    policy: &Policy,
    creations: &[Creation],
    chains: &mut Chains,
    keep: bool,
    run: Option<&str>,
) -> Result<Plan, StoreError> {
    let now = jiff::Timestamp::now().as_second();
    sessions_through_store(store, chains, creations, now, keep).await?;
    let mut launches = Launches::of(creations);
    parents_from_store(store, &mut launches).await?;
    let mut plan = plan_of(creations, chains, &launches, policy);
    latest_creation_wins(store, &mut plan, run).await?;
    Ok(plan)
}

/// The latest CloudTrail creation of an ARN wins across plans as within
/// one: a resource the store holds a later creation of is dropped from
/// `plan` (superseded: an older log read late, by a backfill, a part of a
/// long apply or a late delivery). On one it holds an earlier creation of
/// that this same run recorded (an earlier part: the run began at `run`,
/// as `rows::now` writes it), the keys it plans are marked to be replaced, so a run read in parts ends where it would
/// held whole. An earlier creation recorded before the run is left alone:
/// S3 logs a `CreateBucket` issued again on a bucket its caller already
/// owns as a creation, and that second caller must not become the creator.
pub async fn latest_creation_wins<S: AuditStore>(
    store: &S,
    plan: &mut Plan,
    run: Option<&str>,
) -> Result<(), StoreError> {
    let direct = tagwarden_core::trigger::DIRECT_EVENT;
    let from_trail = |i: &PlanItem| i.event.name != direct;
    let arns: Vec<&str> = plan
        .items
        .iter()
        .chain(&plan.untouched)
        .filter(|i| from_trail(i))
        .map(|i| i.arn.as_str())
        .collect();
    if arns.is_empty() {
        return Ok(());
    }
    let known = crate::attribute::known(store, &arns).await?;
    // The creation the store holds, when CloudTrail's, against this one's.
    let recorded = |i: &PlanItem| {
        let created = known.get(&i.arn)?.created.as_ref()?;
        let order = (created.time.as_str(), created.id.as_str());
        (from_trail(i) && created.name != direct)
            .then(|| order.cmp(&(i.event.time.as_str(), i.event.id.as_str())))
    };
    plan.supersede(|i| recorded(i) == Some(std::cmp::Ordering::Greater));
    for item in &mut plan.items {
        let this_run = |at: &str| run.is_some_and(|run| at >= run);
        // What the earlier creation's plan wrote is this one's to replace:
        // the same policy plans the same keys.
        if recorded(item) == Some(std::cmp::Ordering::Less)
            && this_run(&known[&item.arn].updated_at)
        {
            let keys: Vec<_> = item.tags.keys().cloned().collect();
            item.replace.extend(keys);
        }
    }
    Ok(())
}

/// Keeps, ahead of running them, the session hops of the batch's messages
/// that `gate` takes as AWS's word from STS itself: a kept hop is trusted
/// later, so a message refused when run must leave none (customers cannot
/// put events with an `aws.` source). Returns how many were kept.
pub async fn keep_batch_sessions<'d, S: AuditStore>(
    store: &S,
    bodies: impl IntoIterator<Item = &'d [u8]>,
    gate: tagwarden_core::trigger::Gate<'_>,
    accounts: Accounts,
) -> Result<usize, StoreError> {
    use tagwarden_core::trigger::{classify_message, Trigger};
    let from_sts = |body: &&[u8]| {
        let taken = matches!(classify_message(body, gate), Ok(Trigger::Attribute));
        let source = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("source")?.as_str().map(str::to_string));
        taken && matches!(source.as_deref(), Some("aws.sts" | "aws.signin"))
    };
    let chains = sessions_in(bodies.into_iter().filter(from_sts), accounts);
    let hops: Vec<_> = chains.hops().cloned().collect();
    match hops.is_empty() {
        true => Ok(0),
        false => {
            store
                .keep_sessions(&hops, jiff::Timestamp::now().as_second())
                .await
        }
    }
}

/// The plan for `creations`: their origins through `chains`, their
/// parents through `launches`.
pub fn plan_of(
    creations: &[Creation],
    chains: &Chains,
    launches: &Launches,
    policy: &Policy,
) -> Plan {
    let mut planner = Planner::new(policy)
        .with_chains(chains)
        .with_launches(launches);
    for c in creations {
        planner.add(c);
    }
    planner.finish()
}

#[derive(Default)]
pub struct Reading {
    pipeline: Pipeline,
    pub creations: Vec<Creation>,
    /// Tag calls on existing resources: recorded, never planned.
    pub changes: Vec<TagChange>,
    /// Calls that blind tagwarden: alerted and recorded as actions.
    pub watched: Vec<WatchedCall>,
    /// CloudTrail objects named by S3 notifications, not read yet.
    pub named: Vec<ObjectRef>,
    /// Input errors since the face last took them.
    pub errors: Vec<InputError>,
    /// Session hops: who began the chain behind each creation.
    pub chains: Chains,
}

impl Reading {
    /// Reads records dated within `window`, of the `accounts` in scope.
    pub fn new(window: Window, accounts: Accounts) -> Self {
        Self {
            pipeline: Pipeline::new(window).with_accounts(accounts),
            ..Self::default()
        }
    }

    /// Marks every `every` records of a log, where [`Self::read_part`] may
    /// cut it.
    pub fn marked(mut self, every: u64) -> Self {
        self.pipeline = std::mem::take(&mut self.pipeline).with_marks(every);
        self
    }

    /// Inflates logs on a second thread: see
    /// [`Pipeline::with_inflate_thread`] for when that pays.
    pub fn inflating_beside(mut self) -> Self {
        self.pipeline = std::mem::take(&mut self.pipeline).with_inflate_thread();
        self
    }

    pub fn stats(&self) -> &Stats {
        self.pipeline.stats()
    }

    /// Reads one log object from its record `after` on, handing `send` what
    /// was found each time `size` creations have gathered at a mark (with
    /// the records read through it), so that no more than that is held.
    /// Returns the records the object held; what is left found after the
    /// last cut stays in `self`. `send` returns false to stop early.
    pub fn read_part(
        &mut self,
        origin: &str,
        account: Option<&str>,
        after: u64,
        src: impl Read + Send,
        size: usize,
        send: &mut dyn FnMut(u64, Gathered) -> bool,
    ) -> u64 {
        let (creations, changes, watched, named, errors, chains) = (
            &mut self.creations,
            &mut self.changes,
            &mut self.watched,
            &mut self.named,
            &mut self.errors,
            &mut self.chains,
        );
        let mut open = true;
        self.pipeline
            .read_resuming(origin, account, after, src, &mut |found| match found {
                Found::Creation(c) => creations.push(*c),
                Found::TagChange(c) => changes.push(*c),
                Found::Watched(c) => watched.push(*c),
                Found::Fetch(o) => named.push(o),
                Found::Error(e) => errors.push(e),
                Found::Session(s) => chains.add(s.issued),
                Found::Mark(n)
                    if open
                        && creations.len()
                            + changes.len()
                            + watched.len()
                            + errors.len()
                            + chains.len()
                            >= size =>
                {
                    let taken = Gathered {
                        creations: std::mem::take(creations),
                        changes: std::mem::take(changes),
                        watched: std::mem::take(watched),
                        errors: std::mem::take(errors),
                        chains: std::mem::take(chains),
                    };
                    open = send(n, taken);
                }
                Found::Mark(_) => {}
            });
        self.pipeline.document_records()
    }

    /// What was found since the last cut.
    pub fn take(&mut self) -> Gathered {
        Gathered {
            creations: std::mem::take(&mut self.creations),
            changes: std::mem::take(&mut self.changes),
            watched: std::mem::take(&mut self.watched),
            errors: std::mem::take(&mut self.errors),
            chains: std::mem::take(&mut self.chains),
        }
    }

    /// Reads one document (a log file, an event, a notification…).
    pub fn read(&mut self, origin: &str, src: impl Read + Send) {
        self.read_cut(origin, None, src, &mut Cut::never());
    }

    /// Reads one document, handing `cut` what was found every time its
    /// size is reached; for a document written for one `account`, its
    /// other accounts' records are refused.
    pub fn read_cut(
        &mut self,
        origin: &str,
        account: Option<&str>,
        src: impl Read + Send,
        cut: &mut Cut<'_>,
    ) {
        match &mut cut.send {
            Some(send) => self.read_part(origin, account, 0, src, cut.size, *send),
            None => self.read_part(origin, account, 0, src, usize::MAX, &mut |_, _| true),
        };
    }

    /// Streams S3 objects through [`Self::read_cut`], a few downloading
    /// ahead of the one being read; `wrap` lets the face watch each body (a
    /// progress bar), `done` is told of each object read, with the counts
    /// from before it. Blocks: call it off the async runtime's threads.
    /// Returns the objects that broke off before their end, with why: what
    /// was read of them stands, the rest must be read again.
    pub fn read_objects<W, R, D>(
        &mut self,
        runtime: tokio::runtime::Handle,
        objects: Vec<(S3Client, Object)>,
        ahead: usize,
        mut wrap: W,
        mut done: D,
        cut: &mut Cut<'_>,
    ) -> Vec<String>
    where
        W: FnMut(&Object, Tracked<ObjectReader>) -> R,
        R: Read + Send,
        D: FnMut(&Object, &mut Self, Stats),
    {
        let mut unread = Vec::new();
        for (object, body) in Prefetch::new(runtime, objects, ahead) {
            let failed = std::sync::Arc::new(std::sync::OnceLock::new());
            let body = Tracked {
                inner: body,
                failed: std::sync::Arc::clone(&failed),
            };
            let src = wrap(&object, body);
            let before = self.stats().clone();
            // CloudTrail writes an account's records under its own key.
            self.read_cut(&object.url(), log_key_account(&object.key), src, cut);
            done(&object, self, before);
            let failed = failed.get().cloned();
            if let Some(e) = failed {
                unread.push(format!("{}: {e}", object.url()));
            }
        }
        unread
    }

    /// The plan for everything read so far, parents from `launches`.
    pub fn plan(&self, policy: &Policy, launches: &Launches) -> Plan {
        plan_of(&self.creations, &self.chains, launches, policy)
    }
}

/// What a first reading found: held while it stays within a bound of
/// things found, past it counted into an overview part by part (each part
/// planned alone: the store is for the plans that are applied), so that a
/// run of any size is shown before its question in bounded memory.
pub enum Holding {
    Held { found: Gathered, bound: usize },
    Counted(Overview),
}

impl Holding {
    pub fn within(bound: usize) -> Self {
        Holding::Held {
            found: Gathered::default(),
            bound,
        }
    }

    /// Adds one part; the first rows of a count are kept for showing.
    pub fn add(&mut self, part: Gathered, policy: &Policy, first_rows: usize) {
        let alone =
            |g: &Gathered| plan_of(&g.creations, &g.chains, &Launches::of(&g.creations), policy);
        match self {
            Holding::Counted(o) => o.add(&alone(&part)),
            Holding::Held { found, bound } => {
                found.append(part);
                if found.size() > *bound {
                    let mut o = Overview::keeping(first_rows);
                    o.add(&alone(found));
                    *self = Holding::Counted(o);
                }
            }
        }
    }
}

/// Where a long read hands what it found, every `size` things found (at a
/// record the pipeline marks: see [`Reading::marked`]), so that no more
/// than that is held. Once `send` returns false it is not called again
/// for the document: the rest of it stays in the [`Reading`].
pub struct Cut<'s> {
    size: usize,
    send: Option<&'s mut dyn FnMut(u64, Gathered) -> bool>,
}

impl<'s> Cut<'s> {
    /// Everything is kept in the [`Reading`].
    pub fn never() -> Self {
        Cut {
            size: usize::MAX,
            send: None,
        }
    }

    pub fn every(size: usize, send: &'s mut dyn FnMut(u64, Gathered) -> bool) -> Self {
        Cut {
            size,
            send: Some(send),
        }
    }
}

/// A reader that remembers why it stopped early: a log that could not be
/// fetched whole is read again, not taken as read.
pub struct Tracked<R> {
    inner: R,
    failed: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl<R> Tracked<R> {
    /// `inner`, whose first error is kept in `failed`.
    pub fn new(inner: R, failed: std::sync::Arc<std::sync::OnceLock<String>>) -> Self {
        Self { inner, failed }
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            let _ = self.failed.get_or_init(|| e.to_string());
        })
    }
}

/// Notified log objects, each with the client for its bucket's region.
pub async fn log_objects(clients: &Clients, logs: Vec<ObjectRef>) -> Vec<(S3Client, Object)> {
    let mut objects = Vec::with_capacity(logs.len());
    for o in logs {
        let client = clients.bucket_s3(&o.bucket).await;
        let object = Object {
            bucket: o.bucket,
            key: o.key,
            size: 0,
        };
        objects.push((client, object));
    }
    objects
}

/// The notified objects to read: CloudTrail logs only (digests, insights
/// and folders are skipped, and returned apart). With `trail`, an object in
/// any other bucket refuses the whole delivery before anything is read:
/// only the trail's bucket speaks for CloudTrail.
pub fn logs_named(
    named: Vec<ObjectRef>,
    trail: Option<&str>,
) -> Result<(Vec<ObjectRef>, Vec<ObjectRef>), String> {
    if let Some(trail) = trail {
        if let Some(o) = named.iter().find(|o| o.bucket != trail) {
            return Err(format!(
                "an S3 notification for {o}, not the trail bucket {trail}: refused"
            ));
        }
    }
    Ok(named
        .into_iter()
        .partition(|o| s3_source::wanted(&o.key, &DateRange::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn only_the_trail_bucket_speaks_and_only_logs_are_read() {
        let log = "AWSLogs/1/CloudTrail/us-east-1/2026/01/15/1_CloudTrail_us-east-1_x.json.gz";
        let digest =
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/01/15/1_CloudTrail-Digest_x.json.gz";
        let named = vec![object("trail", log), object("trail", digest)];
        let (logs, skipped) = logs_named(named.clone(), Some("trail")).unwrap();
        assert_eq!((logs.len(), skipped.len()), (1, 1));
        assert_eq!(logs[0].key, log);
        let mut foreign = named.clone();
        foreign.push(object("elsewhere", log));
        let why = logs_named(foreign, Some("trail")).unwrap_err();
        assert!(
            why.contains("s3://elsewhere/") && why.contains("refused"),
            "{why}"
        );
        // The CLI names no trail: any bucket's logs are read.
        assert_eq!(logs_named(named, None).unwrap().0.len(), 1);
    }

    #[test]
    fn a_reader_that_breaks_off_remembers_why() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let failed = std::sync::Arc::new(std::sync::OnceLock::new());
        let mut r = Tracked {
            inner: Broken,
            failed: std::sync::Arc::clone(&failed),
        };
        let mut reading = Reading::default();
        reading.read("s3://b/k", &mut r);
        assert_eq!(failed.get().map(String::as_str), Some("reset"));
        assert_eq!(reading.errors.len(), 1, "and the reader placed it");
    }
}
