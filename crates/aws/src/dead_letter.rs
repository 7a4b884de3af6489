//! Messages no run will ever accept → the dead-letter queue at once, with
//! why, instead of being received again until the redrive policy moves
//! them.

use crate::clients::Clients;
use crate::queue::{send, Outgoing};

/// An SQS message of no shape the function accepts.
pub struct Refused {
    pub id: String,
    pub body: String,
    pub why: String,
}

/// Parks refused messages in `queue` (a queue URL; none set: nothing is
/// parked), the body as received with the reason and the original id as
/// attributes. Returns the ids of those not parked: they are handed back,
/// and the redrive policy moves them in the end.
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
    let messages: Vec<Outgoing> = refused
        .iter()
        .map(|r| Outgoing {
            body: &r.body,
            attributes: vec![
                ("tagwarden-refused", "String", r.why.clone()),
                ("tagwarden-message-id", "String", r.id.clone()),
            ],
            delay: None,
        })
        .collect();
    let failed = send(&clients.own_sqs(), url, &messages).await;
    let mut back = Vec::new();
    for (i, r) in refused.iter().enumerate() {
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
    back
}
