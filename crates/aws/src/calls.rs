//! Counts every request attempt the SDK sends, by service and operation,
//! so a run can report the API calls it made (retries included).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// (service, operation) → attempts.
pub type CallCounts = BTreeMap<(String, String), u64>;

#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<CallCounts>>);

impl CallCounter {
    pub fn snapshot(&self) -> CallCounts {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "tagwarden::CallCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            if let Ok(mut counts) = self.0.lock() {
                *counts
                    .entry((m.service().to_string(), m.name().to_string()))
                    .or_default() += 1;
            }
        }
        Ok(())
    }
}

/// Operations that change tags, as opposed to reads.
pub fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "CreateTags"
            | "TagResources"
            | "PutBucketTagging"
            | "TagUser"
            | "TagRole"
            | "TagPolicy"
            | "TagInstanceProfile"
            | "CreateOrUpdateTags"
    )
}
