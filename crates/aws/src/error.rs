//! AWS SDK errors → [`CallError`], the data the rest of the pipeline
//! decides on (its kinds and the code table live in core).

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
pub use tagwarden_core::outcome::{classify, unanswered, CallError, ErrorKind};

/// Reads code and message from any SDK error: the service's own code when
/// it answered; else why it did not ([`unanswered`]: transient but for
/// missing or misconfigured credentials); the SDK's whole account goes in
/// `detail`.
pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            match e.code() {
                Some(code) => CallError::new(code, e.message().unwrap_or_default()),
                None if status >= 500 || status == 429 => CallError::of_kind(
                    ErrorKind::Transient,
                    &format!("HTTP {status}"),
                    e.message().unwrap_or_default(),
                ),
                None if status == 403 => CallError::of_kind(
                    ErrorKind::Permission,
                    "HTTP 403",
                    e.message().unwrap_or_default(),
                ),
                None if status == 404 => CallError::of_kind(
                    ErrorKind::NotFound,
                    "HTTP 404",
                    e.message().unwrap_or_default(),
                ),
                None => CallError::of_kind(
                    ErrorKind::Other,
                    &format!("HTTP {status}"),
                    DisplayErrorContext(&err).to_string(),
                ),
            }
        }
        SdkError::TimeoutError(_) => {
            CallError::of_kind(ErrorKind::Transient, "Timeout", "no answer in time")
        }
        // Credentials that cannot be loaded come here too.
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            let (kind, code, message) = unanswered(&err);
            CallError::of_kind(kind, code, message)
        }
        // A request that could not be built will not be built next time.
        _ => match unanswered(&err) {
            (kind, code @ "NoCredentials", message) => CallError::of_kind(kind, code, message),
            (_, _, message) => CallError::of_kind(ErrorKind::Permission, "RequestNotSent", message),
        },
    }
    .with_detail(DisplayErrorContext(&err).to_string())
}

/// `e`, said as a person can act on it: a connection failure names where
/// it tried to connect (`endpoint`: the override, or the region).
pub fn explain(e: &CallError, endpoint: &str) -> String {
    match e.code.as_str() {
        "ConnectionError" => format!("cannot reach {endpoint}: {}", e.message),
        "Timeout" => format!("no answer from {endpoint} in time"),
        "NoCredentials" | "CredentialsError" => e.message.clone(),
        _ => e.to_string(),
    }
}
