//! Envelopes → what they carry: an EventBridge event's CloudTrail record
//! (with the account and region the envelope adds), an S3 notification's
//! log object, an SQS message's body. Unwrapping only: what is inside goes
//! back through the reader.

use super::output::ObjectRef;
use crate::ingest::RawRecord;
use crate::record::FieldError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Account and region an EventBridge envelope supplies when the record lacks them.
#[derive(Debug, Clone, Default)]
pub(super) struct Defaults {
    pub(super) account: Option<String>,
    pub(super) region: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "detail-type", borrow)]
    detail_type: Cow<'a, str>,
    #[serde(default, borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct S3Notice {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}
#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Name,
    object: S3Key,
}
#[derive(Deserialize)]
struct S3Name {
    name: String,
}
#[derive(Deserialize)]
struct S3Key {
    key: String,
}

/// A Step Functions Distributed Map batch of log objects, as the
/// template's backfill state machine hands it to the function: items from
/// an S3 `listObjectsV2` ItemReader (keys as S3 lists them, not encoded),
/// and the bucket in the ItemBatcher's `BatchInput`.
#[derive(Deserialize)]
struct MapBatch {
    #[serde(rename = "Items")]
    items: Vec<MapItem>,
    #[serde(rename = "BatchInput")]
    batch_input: BatchInput,
}
#[derive(Deserialize)]
struct MapItem {
    #[serde(rename = "Key")]
    key: String,
}
#[derive(Deserialize)]
struct BatchInput {
    #[serde(rename = "Bucket")]
    bucket: String,
    /// The days (`YYYY-MM-DD`, of the keys) the backfill covers: a
    /// prefix lists whole months or years. Logs are read whole, so a
    /// backfill covers whole days.
    #[serde(rename = "FirstDay", default)]
    first_day: Option<String>,
    #[serde(rename = "LastDay", default)]
    last_day: Option<String>,
}

/// Whether an object is a Map batch at all: it holds both keys.
#[derive(Deserialize)]
struct MapProbe<'a> {
    #[serde(rename = "Items", borrow)]
    items: Option<&'a RawValue>,
    #[serde(rename = "BatchInput", borrow)]
    batch_input: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SqsMessage<'a> {
    #[serde(borrow)]
    body: Cow<'a, str>,
}

const API_CALL: &str = "AWS API Call via CloudTrail";

/// The CloudTrail record in an EventBridge event's `detail`, and what the
/// envelope adds; `None` for any other event (a state change, a schedule…).
pub(super) fn eventbridge<'b>(
    rec: &RawRecord<'b>,
) -> Result<Option<(RawRecord<'b>, Defaults)>, FieldError> {
    let env: Envelope<'b> = serde_json::from_slice(rec.bytes)
        .map_err(|e| FieldError::new("detail", format!("not an EventBridge event: {e}")))?;
    if env.detail_type != API_CALL && env.detail_type != crate::trigger::CONSOLE_SIGN_IN {
        return Ok(None);
    }
    let detail = env.detail.ok_or_else(|| FieldError::missing("detail"))?;
    let inner = RawRecord::from_object(rec.position, detail.get().as_bytes())
        .ok_or_else(|| FieldError::new("detail", "not a JSON object"))?;
    let defaults = Defaults {
        account: env.account.map(Cow::into_owned),
        region: env.region.map(Cow::into_owned),
    };
    Ok(Some((inner, defaults)))
}

/// The log objects a Distributed Map batch names; `None` when `rec` is
/// not one (no `Items` and `BatchInput`).
pub(super) fn map_batch(rec: &RawRecord<'_>) -> Result<Option<Vec<ObjectRef>>, FieldError> {
    match serde_json::from_slice::<MapProbe<'_>>(rec.bytes) {
        Ok(MapProbe {
            items: Some(_),
            batch_input: Some(_),
        }) => {}
        _ => return Ok(None),
    }
    let mut de = serde_json::Deserializer::from_slice(rec.bytes);
    let batch: MapBatch = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        FieldError::new(&field, e.into_inner())
    })?;
    let BatchInput {
        bucket,
        first_day,
        last_day,
    } = batch.batch_input;
    // A key without a date is not the trail's layout: never pruned here.
    let in_days = |key: &str| {
        crate::trust::log_key_date(key).is_none_or(|d| {
            first_day.as_deref().is_none_or(|f| d.as_str() >= f)
                && last_day.as_deref().is_none_or(|l| d.as_str() <= l)
        })
    };
    Ok(Some(
        batch
            .items
            .into_iter()
            .filter(|i| in_days(&i.key))
            .map(|i| ObjectRef {
                bucket: bucket.clone(),
                key: i.key,
            })
            .collect(),
    ))
}

/// An S3 notification, parsed.
pub(super) fn s3_notice(rec: &RawRecord<'_>) -> Result<S3Notice, FieldError> {
    serde_json::from_slice(rec.bytes).map_err(|e| FieldError::new("s3", e))
}

/// The log object a notification names; `None` for anything but a new
/// object (removals and the like name no log to read).
pub(super) fn notified_object(n: S3Notice) -> Result<Option<ObjectRef>, FieldError> {
    if !n.event_name.starts_with("ObjectCreated:") {
        return Ok(None);
    }
    // Notification keys are form-encoded: `+` is a space.
    let plus = n.s3.object.key.replace('+', " ");
    let key = percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map_err(|e| FieldError::new("s3.object.key", format!("not UTF-8 once decoded: {e}")))?
        .into_owned();
    Ok(Some(ObjectRef {
        bucket: n.s3.bucket.name,
        key,
    }))
}

/// An SQS message's body.
pub(super) fn sqs_body<'b>(rec: &RawRecord<'b>) -> Result<Cow<'b, str>, FieldError> {
    let msg: SqsMessage<'b> =
        serde_json::from_slice(rec.bytes).map_err(|e| FieldError::new("body", e))?;
    Ok(msg.body)
}
