//! Messages to tagwarden's own queues, as few SendMessageBatch calls as
//! SQS's limits allow: the dead-letter queue ([`crate::dead_letter`]) and
//! the event queue, for deliveries that wait ([`crate::requeue`]).

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

/// SendMessageBatch's most entries per call.
const SEND_MESSAGE_BATCH_MAX: usize = 10;
/// SendMessageBatch's most bytes per call, all entries' bodies and
/// attributes together: a single message's limit (256 KiB), so a batch of
/// large bodies is split rather than refused whole.
const SEND_MESSAGE_BATCH_BYTES: usize = 256 * 1024;

/// One message to send.
pub struct Outgoing<'a> {
    pub body: &'a str,
    /// (name, SQS data type, value).
    pub attributes: Vec<(&'static str, &'static str, String)>,
    /// Seconds SQS holds it before anyone may receive it (at most 900).
    pub delay: Option<i32>,
}

impl Outgoing<'_> {
    /// What the entry counts against the batch's byte limit: the body, and
    /// each attribute's name, type and value.
    fn size(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(n, t, v)| n.len() + t.len() + v.len())
                .sum::<usize>()
    }

    fn entry(
        &self,
        n: usize,
    ) -> Result<SendMessageBatchRequestEntry, aws_sdk_sqs::error::BuildError> {
        let mut e = SendMessageBatchRequestEntry::builder()
            .id(n.to_string())
            .message_body(self.body)
            .set_delay_seconds(self.delay);
        for (name, data_type, value) in &self.attributes {
            let v = MessageAttributeValue::builder()
                .data_type(*data_type)
                .string_value(value)
                .build()?;
            e = e.message_attributes(*name, v);
        }
        e.build()
    }
}

/// Sends `messages` to the queue at `url`; returns the index of each one
/// not sent, with why (a call that failed whole failed all its entries).
pub async fn send(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    messages: &[Outgoing<'_>],
) -> Vec<(usize, String)> {
    let mut failed = Vec::new();
    let mut offset = 0;
    for chunk in calls(messages) {
        let result: Result<Vec<(usize, String)>, String> = async {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| m.entry(i))
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
        let lost = result.unwrap_or_else(|e| (0..chunk.len()).map(|i| (i, e.clone())).collect());
        failed.extend(lost.into_iter().map(|(i, e)| (offset + i, e)));
        offset += chunk.len();
    }
    failed
}

/// The entries of each call: at most ten, and at most the byte limit
/// together (an entry over it alone goes alone, and SQS says why).
fn calls<'m, 'a>(messages: &'m [Outgoing<'a>]) -> Vec<&'m [Outgoing<'a>]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, m) in messages.iter().enumerate() {
        let full =
            i - start == SEND_MESSAGE_BATCH_MAX || bytes + m.size() > SEND_MESSAGE_BATCH_BYTES;
        if i > start && full {
            out.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += m.size();
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_hold_ten_entries_and_the_byte_limit_at_most() {
        let bodies = |n: usize, size: usize| vec!["x".repeat(size); n];
        let sizes = |b: &[String]| {
            let m: Vec<Outgoing> = b
                .iter()
                .map(|body| Outgoing {
                    body,
                    attributes: vec![("tagwarden-refused", "String", "why".into())],
                    delay: None,
                })
                .collect();
            calls(&m).iter().map(|c| c.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(&bodies(23, 10)), [10, 10, 3]);
        // 100 KiB bodies: two fit under 256 KiB, a third does not.
        assert_eq!(sizes(&bodies(5, 100 * 1024)), [2, 2, 1]);
        // One body over the limit goes alone; the rest are not held back.
        let mut mixed = bodies(3, 10);
        mixed[1] = "x".repeat(300 * 1024);
        assert_eq!(sizes(&mixed), [1, 1, 1]);
        assert!(calls(&[]).is_empty());
    }
}
