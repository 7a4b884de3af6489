//! AWS SDK errors → [`CallError`], the data the rest of the pipeline
//! decides on (its kinds and the code table live in core).

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
pub use tagwarden_core::outcome::{classify, CallError, ErrorKind};

/// Reads code and message from any SDK error; transport failures are
/// transient.
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
        SdkError::TimeoutError(_) => CallError::of_kind(
            ErrorKind::Transient,
            "Timeout",
            DisplayErrorContext(&err).to_string(),
        ),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => CallError::of_kind(
            ErrorKind::Transient,
            "ConnectionError",
            DisplayErrorContext(&err).to_string(),
        ),
        // Credentials that cannot be loaded or assumed land here.
        _ => CallError::of_kind(
            ErrorKind::Permission,
            "RequestNotSent",
            DisplayErrorContext(&err).to_string(),
        ),
    }
}
