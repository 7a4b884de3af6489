//! The skip rules read from a record's head alone, before anything is
//! parsed: most records of a trail stop here.

use super::output::SkipReason;
use crate::catalog::sessions;
use crate::ingest::scan::HeadKey;
use crate::ingest::RawRecord;

/// Why a record cannot have created anything, if it cannot.
pub(super) fn reason(rec: &RawRecord<'_>) -> Option<SkipReason> {
    if rec.has(HeadKey::DigestStartTime) {
        return Some(SkipReason::Digest);
    }
    if let Some(t) = rec.raw(HeadKey::EventType) {
        if t == b"AwsCloudTrailInsight" {
            return Some(SkipReason::Insight);
        }
        // A console role switch is a sign-in event that begins a session.
        let switch = || {
            t == b"AwsConsoleSignIn" && sessions::issues_credentials(rec.raw(HeadKey::EventSource))
        };
        if t != b"AwsApiCall" && !switch() {
            return Some(SkipReason::NotApiCall);
        }
    }
    if rec
        .raw(HeadKey::ErrorCode)
        .is_some_and(|v| v != b"null" && !v.is_empty())
    {
        return Some(SkipReason::ErrorCode);
    }
    // Credentials are issued by read-only calls: those few are looked up.
    if rec.flag(HeadKey::ReadOnly) == Some(true)
        && !sessions::issues_credentials(rec.raw(HeadKey::EventSource))
    {
        return Some(SkipReason::ReadOnly);
    }
    if rec.flag(HeadKey::ManagementEvent) == Some(false)
        || rec
            .raw(HeadKey::EventCategory)
            .is_some_and(|c| c != b"Management")
    {
        return Some(SkipReason::NotManagement);
    }
    None
}
