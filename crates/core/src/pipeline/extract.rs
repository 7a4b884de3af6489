//! A fully parsed, catalogued record → the creation, tag change or session
//! hop it is:
//! when, where, by whom, and on which resources.

use super::envelope::Defaults;
use super::output::{Creation, EventInfo, Session, TagChange, WatchedCall};
use crate::attribution::Creator;
use crate::catalog::sessions::SessionEvent;
use crate::catalog::tag_events::{TagEvent, TagOp};
use crate::catalog::watched::Watched;
use crate::catalog::{self, Entry, Scope};
use crate::record::{FieldError, Record};

/// The AWS partition for a region, for records without an ARN to read it from.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map_or("aws", |(_, part)| part)
}

/// A field's value, unless it is absent or empty.
fn given(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Where and by whom a fully parsed record's call was made.
fn context<'r>(
    record: &'r Record<'_>,
    defaults: &'r Defaults,
    source: &str,
    name: &str,
) -> Result<(EventInfo, Creator), FieldError> {
    let raw_time = Record::required(&record.event_time, "eventTime")?;
    let time = super::output::canonical_time(raw_time).ok_or_else(|| {
        FieldError::new("eventTime", format!("`{raw_time}` is not an RFC 3339 time"))
    })?;
    let region = given(record.aws_region.as_deref())
        .or(given(defaults.region.as_deref()))
        .ok_or_else(|| FieldError::missing("awsRegion"))?;
    let identity = record.user_identity.as_ref();
    let account = given(record.recipient_account_id.as_deref())
        .or(given(defaults.account.as_deref()))
        .or(given(identity.and_then(|i| i.account_id.as_deref())))
        .ok_or_else(|| FieldError::missing("recipientAccountId"))?;
    let partition = identity
        .and_then(|i| i.arn.as_deref())
        .and_then(catalog::arn_partition)
        .unwrap_or_else(|| partition_of_region(region));
    let creator = Creator::from_identity(identity, partition, account);
    let event = EventInfo {
        id: record.event_id.as_deref().unwrap_or_default().to_string(),
        source: source.to_string(),
        name: name.to_string(),
        time,
        region: region.to_string(),
        account: account.to_string(),
        partition: partition.to_string(),
        source_ip: record.source_ip_address.as_deref().map(str::to_string),
        user_agent: record.user_agent.as_deref().map(str::to_string),
    };
    Ok((event, creator))
}

fn scope(event: &EventInfo) -> Scope<'_> {
    Scope {
        partition: &event.partition,
        region: &event.region,
        account: &event.account,
    }
}

/// Builds the creation from a fully parsed, catalogued record.
pub(super) fn creation(
    entry: &'static Entry,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<Creation, FieldError> {
    // Who made it is what attribution is for: without an identity there is
    // nothing to attribute, and an `Unknown` creator would pass as evidence.
    if record.user_identity.is_none() {
        return Err(FieldError::missing("userIdentity"));
    }
    let (event, creator) = context(record, defaults, entry.source, entry.name)?;
    let resources = entry
        .resources(record, &scope(&event))
        .map_err(|e| FieldError::new(e.field(), &e))?;
    let children = catalog::children::of(entry.source, entry.name, record, &scope(&event));
    let identity = record.user_identity.as_ref();
    let given = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Ok(Creation {
        event,
        creator,
        resource_type: entry.resource_type,
        api: entry.api,
        resources,
        preset_tags: entry.preset_tags(record),
        children,
        unread: catalog::children::unread(entry.source, entry.name, record),
        access_key: given(identity.and_then(|i| i.access_key_id.as_deref())),
        source_identity: given(
            identity
                .and_then(|i| i.session_context.as_ref())
                .and_then(|c| c.source_identity.as_deref()),
        ),
        console: record.from_console(),
        session_created: identity
            .and_then(|i| i.session_context.as_ref())
            .and_then(|c| c.attributes.as_ref())
            .and_then(|a| a.creation_date.as_deref())
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second()),
        center_user: identity
            .and_then(|i| i.on_behalf_of.as_ref())
            .and_then(|o| {
                Some(crate::chains::CenterUser {
                    user_id: given(o.user_id.as_deref())?,
                    store_arn: given(o.identity_store_arn.as_deref())?,
                })
            }),
    })
}

/// Builds the session hop from a fully parsed credential-issuing record.
pub(super) fn session(
    row: &'static SessionEvent,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<Option<Session>, FieldError> {
    let (event, _) = context(record, defaults, row.source, row.name)?;
    let issued = row
        .issued(record)
        .map_err(|(field, why)| FieldError::new(field, why))?;
    Ok(issued.map(|issued| Session { event, issued }))
}

/// Builds the tag change from a fully parsed record of a tag call.
pub(super) fn tag_change(
    row: &'static TagEvent,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<TagChange, FieldError> {
    let (event, actor) = context(record, defaults, row.source, row.name)?;
    let resources = row
        .resources(record, &scope(&event))
        .map_err(|e| FieldError::new(e.field(), &e))?;
    let tags = row.tags(record);
    // EC2 `DeleteTags` without a tag list removes every tag. Elsewhere an
    // absent key list is unknown, not "all": reading it as clearing the set
    // would restore (and alert) on every such record.
    let op = match row.op {
        TagOp::Remove if tags.is_empty() && row.source == "ec2.amazonaws.com" => TagOp::Replace,
        op => op,
    };
    Ok(TagChange {
        event,
        actor,
        op,
        resources,
        tags,
    })
}

/// Builds the blinding call from a fully parsed, watched record; `None`
/// when its target is not one to alert (another team's rule).
pub(super) fn watched_call(
    row: &'static Watched,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<Option<WatchedCall>, FieldError> {
    let Some(target) = row.target(record) else {
        return Ok(None);
    };
    let (event, actor) = context(record, defaults, row.source, row.name)?;
    Ok(Some(WatchedCall {
        event,
        actor,
        row,
        target,
    }))
}
