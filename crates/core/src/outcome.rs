//! What happened to each planned resource, and why a call failed, as
//! data: the apply stage produces it, the record and report stages read it.
//! The SDK's errors are mapped to [`CallError`] in `tagwarden-aws`; the
//! mapping from AWS error codes to what happens next is pure, so it is here.

use crate::plan::PlanItem;
use crate::reconcile::Current;
use crate::tags::{TagKey, TagValue};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What an error means for the resource: retry it, or record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not visible yet (eventual consistency right after creation), or gone.
    NotFound,
    /// Throttled after the SDK's own retries.
    Throttled,
    /// 5xx, timeouts, cut connections.
    Transient,
    /// Denied: retrying will not help; an operator must act.
    Permission,
    /// The request itself is wrong for this resource.
    Validation,
    /// The API does not serve this resource type.
    Unsupported,
    /// The resource refuses tags while it is being created (a cache
    /// cluster, a domain, a stream in `creating`): minutes, not the seconds
    /// of apply's backoff, so it waits outside the run.
    NotReady,
    Other,
}

impl ErrorKind {
    /// Kinds worth another attempt after a pause.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::NotFound | ErrorKind::Throttled | ErrorKind::Transient
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::Permission => "permission",
            ErrorKind::Validation => "validation",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotReady => "not_ready",
            ErrorKind::Other => "other",
        }
    }
}

/// One failed call, or one resource's failure inside a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallError {
    pub kind: ErrorKind,
    /// The AWS error code (`InvalidInstanceID.NotFound`), or a short cause.
    pub code: String,
    /// One line a person can act on.
    pub message: String,
    /// Everything the SDK said, for `-v` and debug logs.
    #[serde(skip)]
    pub detail: Option<String>,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            kind: classify(code, message),
            code: code.to_string(),
            message: message.to_string(),
            detail: None,
        }
    }

    pub fn with_detail(self, detail: String) -> Self {
        Self {
            detail: Some(detail),
            ..self
        }
    }

    pub fn of_kind(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_string(),
            message: message.into(),
            detail: None,
        }
    }
}

/// Why a request got no answer, in a few words a person can act on, from
/// the error's chain: no credentials at all or misconfigured ones (an
/// operator must act: not retried), credentials that failed to load now, or
/// the connection's I/O failure (both retried); else the innermost cause.
/// The SDK's own chain reads as a debug dump.
pub fn unanswered(err: &(dyn std::error::Error + 'static)) -> (ErrorKind, &'static str, String) {
    let mut chain = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    let said = |needle: &str| {
        chain
            .iter()
            .any(|e| e.to_string().to_ascii_lowercase().contains(needle))
    };
    let innermost = chain.last().map(|e| e.to_string()).unwrap_or_default();
    if said("no credentials found") || said("credential provider was not enabled") {
        return (
            ErrorKind::Permission,
            "NoCredentials",
            "no AWS credentials found: set AWS_PROFILE, run `aws sso login`, or set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .into(),
        );
    }
    if said("credentials provider was not properly configured") {
        return (
            ErrorKind::Permission,
            "NoCredentials",
            format!("the AWS credentials are misconfigured ({innermost}): check AWS_PROFILE and ~/.aws/config"),
        );
    }
    // Credentials that exist but could not be loaded now (an expired SSO
    // session, a refresh that failed, a provider that timed out): said as
    // such, and tried again, as an expired token is.
    if said("while loading credentials") || said("credentials provider timed out") {
        return (
            ErrorKind::Transient,
            "CredentialsError",
            format!("the AWS credentials could not be loaded ({innermost}): run `aws sso login` or check AWS_PROFILE"),
        );
    }
    let io = chain
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    let why = match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
        Some(std::io::ErrorKind::ConnectionReset) => "connection reset".to_string(),
        Some(std::io::ErrorKind::TimedOut) => "timed out".to_string(),
        Some(_) => io.map(|e| e.to_string()).unwrap_or_default(),
        None if said("dns error") => format!("the name does not resolve ({innermost})"),
        None => innermost,
    };
    (ErrorKind::Transient, "ConnectionError", why)
}

/// Tags by checked key.
pub type Tags = BTreeMap<TagKey, TagValue>;

/// How one planned resource ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Tagged,
    /// `--dry-run` or offline: these tags would be written.
    WouldTag,
    /// Every planned tag was already there.
    AlreadyTagged,
    /// At the 50-tag limit: no room for any planned tag.
    Full,
    Failed {
        error: CallError,
    },
    /// Not written yet: the resource refuses tags while it is being
    /// created. Tried again later ([`crate::waiting`]), then tagged or
    /// failed.
    Waiting {
        error: CallError,
    },
}

impl Status {
    /// A failed call's status: a resource still being created waits when
    /// there is time to wait ([`crate::waiting`]), else it failed.
    pub fn failure(error: CallError, may_wait: bool) -> Self {
        if may_wait && error.kind == ErrorKind::NotReady {
            Status::Waiting { error }
        } else {
            Status::Failed { error }
        }
    }
}

/// One planned resource's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Index into the plan's items.
    #[serde(skip)]
    pub item: usize,
    pub arn: String,
    pub resource_type: &'static str,
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub status: Status,
    /// Tags written (or, in a dry run, that would be).
    pub written: Tags,
    /// The tags read before writing; `None` when they were not read.
    #[serde(skip)]
    pub before: Option<Current>,
    /// AWS's id of the request that wrote the tags: CloudTrail's
    /// `requestID` of that write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Outcome {
    pub fn new(
        n: usize,
        item: &PlanItem,
        status: Status,
        written: Tags,
        before: Option<&Current>,
    ) -> Self {
        Self {
            before: before.cloned(),
            item: n,
            arn: item.arn.clone(),
            resource_type: item.resource_type,
            account: item.account.clone(),
            region: item.region.clone(),
            status,
            written,
            request_id: None,
        }
    }

    /// Why the resource was not tagged, when it was not.
    pub fn error(&self) -> Option<&CallError> {
        match &self.status {
            Status::Failed { error } | Status::Waiting { error } => Some(error),
            _ => None,
        }
    }

    /// The tags the resource carries after this outcome, as far as apply
    /// saw them: what it read (else `known`, else nothing), plus what it
    /// wrote.
    pub fn after(&self, known: Option<&Current>) -> Current {
        let mut tags = self.before.as_ref().or(known).cloned().unwrap_or_default();
        if self.status == Status::Tagged {
            for (k, v) in &self.written {
                tags.insert(k.as_str().to_string(), v.as_str().to_string());
            }
        }
        tags
    }
}

/// Offline, nothing is read or written: every planned tag is reported as
/// would-be-written.
pub fn offline(items: &[PlanItem]) -> Vec<Outcome> {
    items
        .iter()
        .enumerate()
        .map(|(n, item)| Outcome::new(n, item, Status::WouldTag, item.tags.clone(), None))
        .collect()
}

const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
];

const TRANSIENT: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServiceException",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "IDPCommunicationError",
    // The credentials provider refreshes on the next attempt.
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
];

const PERMISSION: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "AuthFailure",
    "Forbidden",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "OptInRequired",
];

/// Each service's own code for a resource not available yet (creating,
/// or briefly modifying): these codes say nothing else. A resource that
/// never becomes available (create-failed) waits out the schedule, then
/// fails.
const NOT_READY: &[&str] = &[
    // ElastiCache: "... is not in available state".
    "InvalidCacheClusterState",
    "InvalidCacheClusterStateFault",
    "InvalidReplicationGroupState",
    "InvalidReplicationGroupStateFault",
    // Redshift.
    "InvalidClusterState",
    "InvalidClusterStateFault",
    // RDS.
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "InvalidDBClusterStateFault",
];

/// Generic codes (Kinesis' and EKS' ResourceInUseException, MSK's
/// ConflictException, the Tagging API's own) mean "being created" only
/// when the message says so; a resource being deleted says other words.
const NOT_READY_SAID: &[&str] = &[
    "creating state",
    "state creating",
    "is being created",
    "is in creating",
    "is currently being created",
    "not in available state",
    "not in an available state",
    "not in the available state",
];

/// Classifies by the AWS error code, and by the message where a service
/// reports "not found", "not supported" or "being created" under a generic
/// code.
pub fn classify(code: &str, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    // Said in the message, under whatever code (moto's tagging API answers
    // `InternalServiceException: Service not yet supported`).
    if lower.contains("not supported") || lower.contains("not yet supported") {
        return ErrorKind::Unsupported;
    }
    if NOT_READY.contains(&code) || NOT_READY_SAID.iter().any(|s| lower.contains(s)) {
        return ErrorKind::NotReady;
    }
    if THROTTLED.contains(&code) {
        ErrorKind::Throttled
    } else if TRANSIENT.contains(&code) {
        ErrorKind::Transient
    } else if PERMISSION.contains(&code) {
        ErrorKind::Permission
    } else if code.ends_with(".NotFound")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundFault")
        || code.ends_with("NotFoundException")
        || code.starts_with("NoSuch")
        // Auto Scaling: ValidationError "AutoScalingGroup name not found".
        || lower.contains("not found")
        || lower.contains("does not exist")
    {
        ErrorKind::NotFound
    } else if code.ends_with(".Malformed")
        || code.starts_with("Invalid")
        || code.starts_with("Validation")
        || code.contains("TagLimit")
        || code.contains("TooManyTags")
        || code == "TagPolicyViolation"
        || code == "LimitExceeded"
        || code == "LimitExceededException"
    {
        ErrorKind::Validation
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_happens_next() {
        for (code, msg, kind) in [
            ("RequestLimitExceeded", "", ErrorKind::Throttled),
            ("ThrottlingException", "Rate exceeded", ErrorKind::Throttled),
            ("InternalError", "", ErrorKind::Transient),
            (
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-1' does not exist",
                ErrorKind::NotFound,
            ),
            ("NoSuchBucket", "", ErrorKind::NotFound),
            ("NoSuchEntity", "", ErrorKind::NotFound),
            (
                "ValidationError",
                "AutoScalingGroup name not found - x",
                ErrorKind::NotFound,
            ),
            ("UnauthorizedOperation", "", ErrorKind::Permission),
            ("AccessDenied", "", ErrorKind::Permission),
            ("InvalidInstanceID.Malformed", "", ErrorKind::Validation),
            (
                "InvalidParameterException",
                "bad key",
                ErrorKind::Validation,
            ),
            (
                "InvalidParameterException",
                "ec2:instance is not yet supported",
                ErrorKind::Unsupported,
            ),
            (
                "InternalServiceException",
                "Service not yet supported",
                ErrorKind::Unsupported,
            ),
            ("SomethingNew", "", ErrorKind::Other),
            // Each service's answer while it creates the resource, direct
            // and through the Tagging API.
            (
                "InvalidReplicationGroupState",
                "Replication group rg-1 is not in available state.",
                ErrorKind::NotReady,
            ),
            (
                "InvalidCacheClusterState",
                "Cache cluster c-1 is not in available state.",
                ErrorKind::NotReady,
            ),
            ("InvalidClusterState", "", ErrorKind::NotReady),
            ("InvalidDBInstanceState", "", ErrorKind::NotReady),
            (
                "ResourceInUseException",
                "Stream s under account 123456789012 is in CREATING state.",
                ErrorKind::NotReady,
            ),
            (
                "BadRequestException",
                "Cluster c is in CREATING state",
                ErrorKind::NotReady,
            ),
            // In use for another reason: not a creation to wait for.
            (
                "ResourceInUseException",
                "Stream s under account 1 is in DELETING state.",
                ErrorKind::Other,
            ),
            (
                "InvalidParameterException",
                "ElastiCache: Cache cluster c-1 is not in available state.",
                ErrorKind::NotReady,
            ),
        ] {
            assert_eq!(classify(code, msg), kind, "{code}");
        }
    }

    #[test]
    fn denials_and_bad_requests_are_not_retried() {
        assert!(!ErrorKind::Permission.retryable());
        assert!(!ErrorKind::Validation.retryable());
        assert!(!ErrorKind::Unsupported.retryable());
        assert!(ErrorKind::NotFound.retryable());
        assert!(ErrorKind::Throttled.retryable());
    }
}

#[cfg(test)]
mod unanswered_tests {
    use super::*;
    use std::fmt;

    /// An error with a source, as the SDK's layers nest them.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn std::error::Error + 'static>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref()
        }
    }

    #[test]
    fn a_refused_connection_is_said_in_two_words() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = Layer(
            "dispatch failure",
            Some(Box::new(Layer("io error", Some(Box::new(io))))),
        );
        let (kind, code, message) = unanswered(&e);
        assert_eq!((kind, code), (ErrorKind::Transient, "ConnectionError"));
        assert_eq!(message, "connection refused");
    }

    #[test]
    fn missing_credentials_say_what_to_do() {
        let e = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "the credential provider was not enabled: no credentials found in chain",
                None,
            ))),
        );
        let (kind, code, message) = unanswered(&e);
        assert_eq!((kind, code), (ErrorKind::Permission, "NoCredentials"));
        assert!(message.contains("aws sso login"), "{message}");
        assert!(!ErrorKind::Permission.retryable());
    }

    #[test]
    fn credentials_that_fail_to_load_now_are_tried_again() {
        let e = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "an error occurred while loading credentials",
                Some(Box::new(Layer("the SSO session has expired", None))),
            ))),
        );
        let (kind, code, message) = unanswered(&e);
        assert_eq!((kind, code), (ErrorKind::Transient, "CredentialsError"));
        assert!(kind.retryable());
        assert!(message.contains("the SSO session has expired"), "{message}");
    }

    #[test]
    fn anything_else_is_its_innermost_cause() {
        let e = Layer(
            "dispatch failure",
            Some(Box::new(Layer("tls handshake eof", None))),
        );
        assert_eq!(unanswered(&e).2, "tls handshake eof");
    }
}
