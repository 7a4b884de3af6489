//! AWS errors → the few kinds that decide what happens next.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use serde::Serialize;
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
    pub message: String,
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
        }
    }

    pub fn of_kind(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// Reads code and message from any SDK error; transport failures are
    /// transient.
    pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                let status = se.raw().status().as_u16();
                match e.code() {
                    Some(code) => Self::new(code, e.message().unwrap_or_default()),
                    None if status >= 500 || status == 429 => Self::of_kind(
                        ErrorKind::Transient,
                        &format!("HTTP {status}"),
                        e.message().unwrap_or_default(),
                    ),
                    None if status == 403 => Self::of_kind(
                        ErrorKind::Permission,
                        "HTTP 403",
                        e.message().unwrap_or_default(),
                    ),
                    None if status == 404 => Self::of_kind(
                        ErrorKind::NotFound,
                        "HTTP 404",
                        e.message().unwrap_or_default(),
                    ),
                    None => Self::of_kind(
                        ErrorKind::Other,
                        &format!("HTTP {status}"),
                        DisplayErrorContext(&err).to_string(),
                    ),
                }
            }
            SdkError::TimeoutError(_) => Self::of_kind(
                ErrorKind::Transient,
                "Timeout",
                DisplayErrorContext(&err).to_string(),
            ),
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Self::of_kind(
                ErrorKind::Transient,
                "ConnectionError",
                DisplayErrorContext(&err).to_string(),
            ),
            // Credentials that cannot be loaded or assumed land here.
            _ => Self::of_kind(
                ErrorKind::Permission,
                "RequestNotSent",
                DisplayErrorContext(&err).to_string(),
            ),
        }
    }
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

/// Classifies by the AWS error code, and by the message where a service
/// reports "not found" or "not supported" under a generic code.
pub fn classify(code: &str, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    // Said in the message, under whatever code (moto's tagging API answers
    // `InternalServiceException: Service not yet supported`).
    if lower.contains("not supported") || lower.contains("not yet supported") {
        return ErrorKind::Unsupported;
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
