//! The store in AWS: four DynamoDB tables. History, action and evidence rows are
//! append-only: keys already present are skipped (read in batches of 100),
//! and the rest are put on condition that their key is absent, 100 to a
//! `TransactWriteItems`, so that concurrent writers of one event still
//! write each row once and keep its first `recorded_at`.
//! Metadata items are merged and written with a condition on their
//! revision, so two writers never lose each other's update.

use crate::model::{
    session_expires, Evidence, HistoryEntry, Metadata, Recorded, ResourceHistory, Rows, Source,
    UserAction,
};
use crate::url::Tables;
use crate::{AuditStore, StoreError, Visit};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, PointInTimeRecoverySpecification, Projection,
    ProjectionType, Put, ScalarAttributeType, SseSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use futures::stream::{self, StreamExt, TryStreamExt};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tagwarden_core::catalog::sessions::Issued;

/// DynamoDB's limit: `BatchGetItem` reads 100 keys.
const MAX_GET: usize = 100;
/// `TransactWriteItems` takes 100 actions.
const MAX_TRANSACT: usize = 100;
/// Attempts for unprocessed keys/items and for revision conflicts.
const ATTEMPTS: u32 = 8;
/// Metadata items written at once.
const CONCURRENCY: usize = 16;
/// The sparse index over failed resources: only failed items carry its key.
const FAILED_INDEX: &str = "failed";
const FAILED_KEY: &str = "failed_pk";
/// Evidence rows expire (DynamoDB TTL) this many days after they are written.
const EVIDENCE_DAYS: i64 = 400;
/// The sparse index over evidence by the day its source was acted on.
const DAY_INDEX: &str = "by_day";

type Item = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// The items of `keys` that exist in `table`, read 100 at a time with
    /// unprocessed keys asked again; `only_keys` reads just the key
    /// attributes.
    async fn get_all(
        &self,
        table: &str,
        keys: Vec<Item>,
        only_keys: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let names = key_names(table, &self.tables);
        for chunk in keys.chunks(MAX_GET) {
            let mut ask = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true);
            if only_keys {
                let fields: Vec<String> = (0..names.len()).map(|i| format!("#k{i}")).collect();
                ask = ask.projection_expression(fields.join(", "));
                for (i, n) in names.iter().enumerate() {
                    ask = ask.expression_attribute_names(format!("#k{i}"), *n);
                }
            }
            let mut ask = Some(
                ask.build()
                    .map_err(|e| StoreError::new(table, e.to_string()))?,
            );
            let mut attempt = 0;
            while let Some(request) = ask.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .map_err(|e| sdk(table, e))?;
                found.extend(
                    out.responses
                        .unwrap_or_default()
                        .remove(table)
                        .unwrap_or_default(),
                );
                ask = out
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(table)
                    .filter(|k| !k.keys.is_empty());
                if ask.is_some() {
                    attempt = pause(table, attempt, "unprocessed keys").await?;
                }
            }
        }
        Ok(found)
    }

    /// Adds rows whose keys are not there yet; returns how many.
    async fn append(&self, table: &str, rows: Vec<Item>) -> Result<usize, StoreError> {
        let names = key_names(table, &self.tables);
        let mut seen = HashSet::new();
        let rows: Vec<Item> = rows
            .into_iter()
            .filter(|r| seen.insert(Key::of(r, names)))
            .collect();
        let keys = rows
            .iter()
            .map(|r| {
                names
                    .iter()
                    .filter_map(|n| Some((n.to_string(), r.get(*n)?.clone())))
                    .collect()
            })
            .collect();
        // Most replays stop here, with no write at all.
        let existing: HashSet<Key> = self
            .get_all(table, keys, true)
            .await?
            .iter()
            .map(|item| Key::of(item, names))
            .collect();
        let new: Vec<Item> = rows
            .into_iter()
            .filter(|r| !existing.contains(&Key::of(r, names)))
            .collect();
        let mut added = 0;
        for chunk in new.chunks(MAX_TRANSACT) {
            added += self.put_absent(table, names[0], chunk.to_vec()).await?;
        }
        Ok(added)
    }

    /// Puts `rows` (at most 100, distinct keys) in one transaction, each on
    /// condition that its key is absent; returns how many it wrote. A row
    /// another writer put first cancels the transaction: it is dropped
    /// (that writer counted it), and the rest are sent again; so are rows
    /// cancelled for a conflict or throttling, after a pause.
    async fn put_absent(
        &self,
        table: &str,
        pk: &str,
        rows: Vec<Item>,
    ) -> Result<usize, StoreError> {
        let mut left = rows;
        let mut attempt = 0;
        while !left.is_empty() {
            let actions = left
                .iter()
                .map(|item| {
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item.clone()))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", pk)
                        .build()
                        .map(|p| TransactWriteItem::builder().put(p).build())
                        .map_err(|e| StoreError::new(table, e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let e = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await
            {
                Ok(_) => return Ok(left.len()),
                Err(e) => e,
            };
            let reasons = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c))
                    if c.cancellation_reasons().len() == left.len() =>
                {
                    c.cancellation_reasons().to_vec()
                }
                _ => return Err(sdk(table, e)),
            };
            let taken = |r: &CancellationReason| r.code() == Some("ConditionalCheckFailed");
            let other = reasons
                .iter()
                .any(|r| !taken(r) && !matches!(r.code(), None | Some("None")));
            left = left
                .into_iter()
                .zip(&reasons)
                .filter(|(_, r)| !taken(r))
                .map(|(item, _)| item)
                .collect();
            if other {
                attempt = pause(table, attempt, "cancelled transaction").await?;
            }
        }
        Ok(0)
    }

    /// Current metadata items by ARN, with their revisions.
    async fn metadata_of(
        &self,
        arns: &[&str],
    ) -> Result<HashMap<String, (Metadata, u64)>, StoreError> {
        let table = &self.tables.metadata;
        let mut unique: Vec<&str> = arns.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique
            .iter()
            .map(|a| Item::from([("arn".to_string(), s(a))]))
            .collect();
        let mut out = HashMap::new();
        for item in self.get_all(table, keys, false).await? {
            let m: Metadata = doc(table, &item)?;
            out.insert(m.arn.clone(), (m, rev(&item)));
        }
        Ok(out)
    }

    /// Merges one incoming item, retrying on a concurrent writer's change.
    async fn merge_one(
        &self,
        incoming: &Metadata,
        mut current: Option<(Metadata, u64)>,
    ) -> Result<bool, StoreError> {
        let table = &self.tables.metadata;
        for _ in 0..ATTEMPTS {
            let (next, expected) = match &current {
                None => (incoming.clone(), None),
                Some((old, rev)) => match old.merge(incoming) {
                    Some(next) => (next, Some(*rev)),
                    None => return Ok(false),
                },
            };
            let mut item = metadata_item(&next);
            let new_rev = expected.map_or(1, |r| r + 1);
            item.insert("rev".into(), AttributeValue::N(new_rev.to_string()));
            let put = self
                .client
                .put_item()
                .table_name(table)
                .set_item(Some(item));
            let put = match expected {
                None => put.condition_expression("attribute_not_exists(arn)"),
                Some(r) => put
                    .condition_expression("#rev = :rev")
                    .expression_attribute_names("#rev", "rev")
                    .expression_attribute_values(":rev", AttributeValue::N(r.to_string())),
            };
            match put.send().await {
                Ok(_) => return Ok(true),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                    let got = self
                        .client
                        .get_item()
                        .table_name(table)
                        .key("arn", s(&incoming.arn))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| sdk(table, e))?;
                    current = match got.item {
                        Some(item) => Some((doc(table, &item)?, rev(&item))),
                        None => None,
                    };
                }
                Err(e) => return Err(sdk(table, e)),
            }
        }
        Err(StoreError::new(
            table.as_str(),
            format!(
                "{}: changed by another writer {ATTEMPTS} times in a row",
                incoming.arn
            ),
        ))
    }

    async fn query_docs<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        index: Option<&str>,
        key: &str,
        value: &str,
    ) -> Result<Vec<T>, StoreError> {
        let pages = self
            .client
            .query()
            .table_name(table)
            .set_index_name(index.map(str::to_string))
            // Reads after our own writes see them; an index cannot promise it.
            .consistent_read(index.is_none())
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", s(value))
            .into_paginator()
            .items()
            .send();
        let items: Vec<Item> = pages.try_collect().await.map_err(|e| sdk(table, e))?;
        items.iter().map(|i| doc(table, i)).collect()
    }

    async fn create_table(
        &self,
        name: &str,
        keys: &[(&str, KeyType)],
        index: Option<(&str, &str, &str)>,
    ) -> Result<(), StoreError> {
        let mut create = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .sse_specification(SseSpecification::builder().enabled(true).build());
        for (attr, kind) in keys {
            create = create
                .attribute_definitions(attr_def(attr)?)
                .key_schema(key_schema(attr, kind.clone())?);
        }
        if let Some((index, hash, range)) = index {
            create = create
                .attribute_definitions(attr_def(hash)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index)
                        .key_schema(key_schema(hash, KeyType::Hash)?)
                        .key_schema(key_schema(range, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .map_err(|e| StoreError::new(name, e.to_string()))?,
                );
        }
        match create.send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => {}
            Err(e) => return Err(sdk(name, e)),
        }
        // PITR can be set only once the table is active.
        for attempt in 0.. {
            let d = self
                .client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| sdk(name, e))?;
            let status = d.table.and_then(|t| t.table_status);
            if status.as_ref().is_some_and(|s| s.as_str() == "ACTIVE") {
                break;
            }
            if attempt >= 60 {
                return Err(StoreError::new(
                    name,
                    "the table did not become active in 2 minutes",
                ));
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        self.client
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| StoreError::new(name, e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk(name, e))?;
        Ok(())
    }
}

/// A row's key values, for sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key(Vec<String>);

impl Key {
    fn of(item: &Item, names: &[&str]) -> Self {
        Key(names
            .iter()
            .map(|n| match item.get(*n) {
                Some(AttributeValue::S(v)) => v.clone(),
                _ => String::new(),
            })
            .collect())
    }
}

fn key_names(table: &str, tables: &Tables) -> &'static [&'static str] {
    if table == tables.actions {
        &["principal", "sk"]
    } else if table == tables.evidence {
        &["source", "entry"]
    } else if table == tables.sessions {
        &["key"]
    } else if table == tables.history {
        &["arn", "sk"]
    } else {
        &["arn"]
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> AttributeValue {
    AttributeValue::S(serde_json::to_string(v).unwrap_or_default())
}

fn doc<T: serde::de::DeserializeOwned>(table: &str, item: &Item) -> Result<T, StoreError> {
    let text = match item.get("doc") {
        Some(AttributeValue::S(t)) => t,
        _ => {
            return Err(StoreError::new(
                table,
                "an item without its `doc` attribute",
            ))
        }
    };
    serde_json::from_str(text).map_err(|e| {
        StoreError::new(
            table,
            format!("an item is not what this tagwarden wrote: {e}"),
        )
    })
}

fn rev(item: &Item) -> u64 {
    match item.get("rev") {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

fn history_item(h: &HistoryEntry) -> Item {
    let mut item = Item::from([
        ("arn".into(), s(&h.arn)),
        ("sk".into(), s(&h.sort_key())),
        ("time".into(), s(&h.event.time)),
        ("event_id".into(), s(&h.event.id)),
        ("event_name".into(), s(&h.event.name)),
        ("change".into(), s(h.change.as_str())),
        ("actor".into(), s(&h.actor)),
        ("resource_type".into(), s(&h.resource_type)),
        ("account".into(), s(&h.account)),
        ("region".into(), s(&h.region)),
        ("recorded_at".into(), s(&h.recorded_at)),
        ("doc".into(), json(h)),
    ]);
    // Top level, so an auditor holding a CloudTrail requestID can scan for it.
    if let Some(id) = &h.request_id {
        item.insert("request_id".into(), s(id));
    }
    item
}

fn action_item(a: &UserAction) -> Item {
    Item::from([
        ("principal".into(), s(&a.principal)),
        ("sk".into(), s(&a.sort_key())),
        ("time".into(), s(&a.event.time)),
        ("event_id".into(), s(&a.event.id)),
        ("action".into(), s(&a.event.name)),
        ("outcome".into(), s(&a.outcome)),
        ("recorded_at".into(), s(&a.recorded_at)),
        ("doc".into(), json(a)),
    ])
}

fn metadata_item(m: &Metadata) -> Item {
    let mut item = Item::from([
        ("arn".into(), s(&m.arn)),
        ("resource_type".into(), s(&m.resource_type)),
        ("account".into(), s(&m.account)),
        ("region".into(), s(&m.region)),
        ("state".into(), s(m.state.as_str())),
        ("last_event_id".into(), s(&m.last_event.id)),
        ("updated_at".into(), s(&m.updated_at)),
        ("doc".into(), json(m)),
    ]);
    if let Some(c) = &m.creator {
        item.insert("created_by".into(), s(&c.arn));
    }
    if m.state.unsettled() {
        item.insert(FAILED_KEY.into(), s("failed"));
    }
    item
}

fn evidence_item(e: &Evidence) -> Item {
    let mut item = Item::from([
        ("source".into(), s(&e.source.to_string())),
        ("entry".into(), s(&e.entry.to_string())),
        ("at".into(), s(&e.at)),
        ("doc".into(), json(e)),
    ]);
    if let Some(day) = &e.day {
        item.insert("day".into(), s(day));
    }
    // The table's time to live: one audit period and its fieldwork.
    if let Ok(at) = e.at.parse::<jiff::Timestamp>() {
        let expires = at.as_second() + EVIDENCE_DAYS * 86_400;
        item.insert("expires".into(), AttributeValue::N(expires.to_string()));
    }
    item
}

fn attr_def(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::new(name, e.to_string()))
}

fn key_schema(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| StoreError::new(name, e.to_string()))
}

/// Waits with equal jitter before the next attempt, or gives up.
async fn pause(table: &str, attempt: u32, what: &str) -> Result<u32, StoreError> {
    if attempt + 1 >= ATTEMPTS {
        return Err(StoreError::new(
            table,
            format!("{what} still left after {ATTEMPTS} attempts (throttled?)"),
        ));
    }
    let cap = Duration::from_millis(50 << attempt.min(6));
    let half = cap / 2;
    let jitter = rand::rng().random_range(Duration::ZERO..=half);
    tokio::time::sleep(half + jitter).await;
    Ok(attempt + 1)
}

fn sdk<E, R>(table: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_string(),
        // No answer: said in one line (the SDK's chain is a debug dump).
        _ => tagwarden_core::outcome::unanswered(&e).2,
    };
    StoreError {
        detail: Some(DisplayErrorContext(&e).to_string()),
        ..StoreError::new(format!("dynamodb:{table}"), message)
    }
}

impl AuditStore for DynamoStore {
    fn describe(&self) -> String {
        let t = &self.tables;
        format!(
            "dynamodb:{},{},{},{},{}",
            t.metadata, t.history, t.actions, t.evidence, t.sessions
        )
    }

    async fn init(&self) -> Result<(), StoreError> {
        let t = &self.tables;
        self.create_table(
            &t.metadata,
            &[("arn", KeyType::Hash)],
            Some((FAILED_INDEX, FAILED_KEY, "arn")),
        )
        .await?;
        self.create_table(
            &t.history,
            &[("arn", KeyType::Hash), ("sk", KeyType::Range)],
            None,
        )
        .await?;
        self.create_table(
            &t.actions,
            &[("principal", KeyType::Hash), ("sk", KeyType::Range)],
            None,
        )
        .await?;
        self.create_table(
            &t.evidence,
            &[("source", KeyType::Hash), ("entry", KeyType::Range)],
            Some((DAY_INDEX, "day", "source")),
        )
        .await?;
        self.create_table(&t.sessions, &[("key", KeyType::Hash)], None)
            .await?;
        // Hops are forgotten once their credentials are long expired.
        let ttl = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
            .attribute_name("expires")
            .enabled(true)
            .build()
            .map_err(|e| StoreError::new(&t.sessions, e.to_string()))?;
        match self
            .client
            .update_time_to_live()
            .table_name(&t.sessions)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already enabled by an earlier `init`.
            Err(e) if e.code() == Some("ValidationException") => Ok(()),
            Err(e) => Err(sdk(&t.sessions, e)),
        }
    }

    async fn record(&self, batch: &Rows) -> Result<Recorded, StoreError> {
        let history = self
            .append(
                &self.tables.history,
                batch.history.iter().map(history_item).collect(),
            )
            .await?;
        let actions = self
            .append(
                &self.tables.actions,
                batch.actions.iter().map(action_item).collect(),
            )
            .await?;
        let arns: Vec<&str> = batch.metadata.iter().map(|m| m.arn.as_str()).collect();
        let current = self.metadata_of(&arns).await?;
        // The batch may name one ARN twice: merge within it first.
        let mut merged: Vec<Metadata> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for m in &batch.metadata {
            match at.get(m.arn.as_str()) {
                Some(&i) => {
                    if let Some(next) = merged[i].merge(m) {
                        merged[i] = next;
                    }
                }
                None => {
                    at.insert(&m.arn, merged.len());
                    merged.push(m.clone());
                }
            }
        }
        let writes: Vec<_> = merged
            .iter()
            .map(|m| self.merge_one(m, current.get(&m.arn).cloned()))
            .collect();
        let metadata = stream::iter(writes)
            .buffer_unordered(CONCURRENCY)
            .try_fold(0, |n, changed| async move { Ok(n + usize::from(changed)) })
            .await?;
        Ok(Recorded {
            metadata,
            history,
            actions,
        })
    }

    async fn history(&self, arn: &str) -> Result<ResourceHistory, StoreError> {
        let table = &self.tables.metadata;
        let got = self
            .client
            .get_item()
            .table_name(table)
            .key("arn", s(arn))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk(table, e))?;
        let metadata = got.item.map(|i| doc(table, &i)).transpose()?;
        let history = self
            .query_docs(&self.tables.history, None, "arn", arn)
            .await?;
        Ok(ResourceHistory { metadata, history })
    }

    async fn failed(&self) -> Result<Vec<Metadata>, StoreError> {
        let mut out: Vec<Metadata> = self
            .query_docs(
                &self.tables.metadata,
                Some(FAILED_INDEX),
                FAILED_KEY,
                "failed",
            )
            .await?;
        // The index is eventually consistent: keep only what still is.
        out.retain(|m| m.state.unsettled());
        out.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(out)
    }

    async fn metadata(&self, arns: &[&str]) -> Result<Vec<Metadata>, StoreError> {
        let mut out: Vec<Metadata> = self
            .metadata_of(arns)
            .await?
            .into_values()
            .map(|(m, _)| m)
            .collect();
        out.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(out)
    }

    async fn actions(&self, principal: &str) -> Result<Vec<UserAction>, StoreError> {
        self.query_docs(&self.tables.actions, None, "principal", principal)
            .await
    }

    /// A scan: DynamoDB keeps no global order, so entries are sorted here
    /// before they are visited.
    async fn export(&self, since: Option<&str>, visit: &mut Visit<'_>) -> Result<u64, StoreError> {
        let table = &self.tables.history;
        let mut scan = self.client.scan().table_name(table.as_str());
        if let Some(since) = since {
            scan = scan
                .filter_expression("#t >= :since")
                .expression_attribute_names("#t", "time")
                .expression_attribute_values(":since", s(since));
        }
        let items: Vec<Item> = scan
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk(table, e))?;
        let mut entries: Vec<HistoryEntry> = items
            .iter()
            .map(|i| doc(table, i))
            .collect::<Result<_, _>>()?;
        entries.sort_by(|a, b| {
            (&a.event.time, &a.arn, a.sort_key()).cmp(&(&b.event.time, &b.arn, b.sort_key()))
        });
        let n = entries.len() as u64;
        for e in entries {
            visit(e)?;
        }
        Ok(n)
    }

    async fn note(&self, rows: &[Evidence]) -> Result<usize, StoreError> {
        self.append(
            &self.tables.evidence,
            rows.iter().map(evidence_item).collect(),
        )
        .await
    }

    async fn evidence(&self, source: &Source) -> Result<Vec<Evidence>, StoreError> {
        let mut out: Vec<Evidence> = self
            .query_docs(&self.tables.evidence, None, "source", &source.to_string())
            .await?;
        out.sort_by_key(|e| e.entry.to_string());
        Ok(out)
    }

    async fn evidence_on(&self, day: &str) -> Result<Vec<Evidence>, StoreError> {
        let mut out: Vec<Evidence> = self
            .query_docs(&self.tables.evidence, Some(DAY_INDEX), "day", day)
            .await?;
        out.sort_by_key(|e| (e.source.to_string(), e.entry.to_string()));
        Ok(out)
    }

    /// The table's time to live (`expires`) forgets them.
    async fn keep_sessions(&self, hops: &[Issued], at: i64) -> Result<usize, StoreError> {
        let items = hops
            .iter()
            .map(|h| {
                Item::from([
                    ("key".into(), s(&h.key)),
                    ("doc".into(), json(h)),
                    (
                        "expires".into(),
                        AttributeValue::N(session_expires(h, at).to_string()),
                    ),
                ])
            })
            .collect();
        self.append(&self.tables.sessions, items).await
    }

    /// Rows past their time are left out: DynamoDB deletes expired items
    /// lazily, within days.
    async fn sessions(&self, keys: &[&str], at: i64) -> Result<Vec<Issued>, StoreError> {
        let table = &self.tables.sessions;
        let mut unique = keys.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique
            .iter()
            .map(|k| Item::from([("key".to_string(), s(k))]))
            .collect();
        let alive = |i: &Item| match i.get("expires") {
            Some(AttributeValue::N(n)) => n.parse::<i64>().map_or(true, |e| e >= at),
            _ => true,
        };
        self.get_all(table, keys, false)
            .await?
            .iter()
            .filter(|i| alive(i))
            .map(|i| doc(table, i))
            .collect()
    }
}
