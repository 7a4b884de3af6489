//! Messages no run will ever accept → the dead-letter queue at once, with
//! why, instead of being received again until the redrive policy moves
//! them.

use crate::clients::Clients;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

/// SendMessageBatch's most entries per call.
const SEND_MESSAGE_BATCH_MAX: usize = 10;
/// SendMessageBatch's most bytes per call, all entries' bodies and
/// attributes together: a single message's limit (256 KiB), so a batch of
/// large refused bodies is split rather than refused whole.
const SEND_MESSAGE_BATCH_BYTES: usize = 256 * 1024;

/// An SQS message of no shape the function accepts.
pub struct Refused {
    pub id: String,
    pub body: String,
    pub why: String,
}

impl Refused {
    /// What the entry counts against the batch's byte limit: the body, and
    /// each attribute's name, type and value.
    fn size(&self) -> usize {
        let attribute = |name: &str, value: &str| name.len() + "String".len() + value.len();
        self.body.len()
            + attribute("tagwarden-refused", &self.why)
            + attribute("tagwarden-message-id", &self.id)
    }

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
    for chunk in calls(&refused) {
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

/// The entries of each call: at most ten, and at most the byte limit
/// together (an entry over it alone goes alone, and SQS says why).
fn calls(refused: &[Refused]) -> Vec<&[Refused]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in refused.iter().enumerate() {
        let full =
            i - start == SEND_MESSAGE_BATCH_MAX || bytes + r.size() > SEND_MESSAGE_BATCH_BYTES;
        if i > start && full {
            out.push(&refused[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += r.size();
    }
    if start < refused.len() {
        out.push(&refused[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(n: usize, body: usize) -> Vec<Refused> {
        (0..n)
            .map(|i| Refused {
                id: format!("m-{i}"),
                body: "x".repeat(body),
                why: "event refused: neither".into(),
            })
            .collect()
    }

    #[test]
    fn calls_hold_ten_entries_and_the_byte_limit_at_most() {
        let sizes = |r: &[Refused]| calls(r).iter().map(|c| c.len()).collect::<Vec<_>>();
        assert_eq!(sizes(&refused(23, 10)), [10, 10, 3]);
        // 100 KiB bodies: two fit under 256 KiB, a third does not.
        assert_eq!(sizes(&refused(5, 100 * 1024)), [2, 2, 1]);
        // One body over the limit goes alone; the rest are not held back.
        let mut mixed = refused(3, 10);
        mixed[1].body = "x".repeat(300 * 1024);
        assert_eq!(sizes(&mixed), [1, 1, 1]);
        assert!(calls(&[]).is_empty());
    }
}
