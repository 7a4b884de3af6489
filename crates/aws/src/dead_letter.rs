//! Messages no run will ever accept → the dead-letter queue at once, with
//! why, instead of being received again until the redrive policy moves
//! them.

use crate::clients::Clients;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

/// SendMessageBatch's most entries per call.
const SEND_MESSAGE_BATCH_MAX: usize = 10;

/// An SQS message of no shape the function accepts.
pub struct Refused {
    pub id: String,
    pub body: String,
    pub why: String,
}

impl Refused {
    /// The DLQ entry: the body as received, the reason and the original id
    /// as attributes; `n` is the entry's id within its call.
    fn entry(
        &self,
        n: usize,
    ) -> Result<SendMessageBatchRequestEntry, aws_sdk_sqs::error::BuildError> {
        let text = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
        };
        SendMessageBatchRequestEntry::builder()
            .id(n.to_string())
            .message_body(&self.body)
            .message_attributes("tagwarden-refused", text(&self.why)?)
            .message_attributes("tagwarden-message-id", text(&self.id)?)
            .build()
    }
}

/// Parks refused messages in `queue` (a queue URL; none set: nothing is
/// parked), ten to a call. Returns the ids of those not parked: they are
/// handed back, and the redrive policy moves them in the end.
pub async fn park(clients: &Clients, queue: Option<&str>, refused: Vec<Refused>) -> Vec<String> {
    if refused.is_empty() {
        return Vec::new();
    }
    let Some(url) = queue else {
        for r in &refused {
            tracing::error!(message_id = %r.id, why = %r.why, "message refused: delivered again (no dead-letter queue set)");
        }
        return refused.into_iter().map(|r| r.id).collect();
    };
    let sqs = clients.own_sqs();
    let mut back = Vec::new();
    for chunk in refused.chunks(SEND_MESSAGE_BATCH_MAX) {
        let failed: Result<Vec<(usize, String)>, String> = async {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| r.entry(i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let out = sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| crate::error::from_sdk(e).to_string())?;
            Ok(out
                .failed()
                .iter()
                .filter_map(|f| Some((f.id().parse().ok()?, f.code().to_string())))
                .collect())
        }
        .await;
        // A call that failed whole failed every entry.
        let failed = failed.unwrap_or_else(|e| (0..chunk.len()).map(|i| (i, e.clone())).collect());
        for (i, r) in chunk.iter().enumerate() {
            match failed.iter().find(|(n, _)| *n == i) {
                None => {
                    tracing::error!(message_id = %r.id, why = %r.why, "message refused: parked in the dead-letter queue")
                }
                Some((_, e)) => {
                    tracing::error!(message_id = %r.id, why = %r.why, error = %e, "message refused, and the dead-letter queue refused it too: delivered again");
                    back.push(r.id.clone());
                }
            }
        }
    }
    back
}
