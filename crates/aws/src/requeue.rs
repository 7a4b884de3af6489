//! Deliveries whose resources are still being created → the event queue
//! again, delayed by [`tagwarden_core::waiting::delay`], with the attempt in
//! a message attribute. A new message each time: the queue's receive count
//! (and so its redrive policy) never parks a delivery that is only waiting.

use crate::clients::Clients;
use crate::queue::{send, Outgoing};
use tagwarden_core::waiting::{
    delay, ATTEMPT_ATTRIBUTE, ORIGIN_ID_ATTRIBUTE, ORIGIN_TIME_ATTRIBUTE,
};

/// A delivery to try again: its body as received, the attempt it was, and
/// the first delivery's id and time, which every attempt keeps.
pub struct Waiting {
    pub id: String,
    pub body: String,
    pub attempt: u32,
    pub origin: (String, String),
}

/// What became of the deliveries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Requeued {
    /// Sent back, to arrive after their delay.
    pub sent: Vec<String>,
    /// Past the last attempt: their resources are to be recorded as failed.
    pub over: Vec<String>,
    /// Not sent (the queue refused, or none is set), with why: delivered
    /// again by the queue's own retry instead.
    pub not_sent: Vec<(String, String)>,
}

/// Sends each delivery with attempts left to `queue` (a queue URL).
pub async fn requeue(clients: &Clients, queue: Option<&str>, waiting: Vec<Waiting>) -> Requeued {
    let mut out = Requeued::default();
    let (going, over): (Vec<_>, Vec<_>) = waiting
        .into_iter()
        .partition(|w| delay(w.attempt).is_some());
    out.over = over.into_iter().map(|w| w.id).collect();
    let Some(url) = queue else {
        out.not_sent = going
            .into_iter()
            .map(|w| (w.id, "no event queue is set".to_string()))
            .collect();
        return out;
    };
    let messages: Vec<Outgoing> = going
        .iter()
        .map(|w| Outgoing {
            body: &w.body,
            attributes: vec![
                (ATTEMPT_ATTRIBUTE, "Number", (w.attempt + 1).to_string()),
                (ORIGIN_ID_ATTRIBUTE, "String", w.origin.0.clone()),
                (ORIGIN_TIME_ATTRIBUTE, "String", w.origin.1.clone()),
            ],
            delay: delay(w.attempt).map(|d| d.as_secs() as i32),
        })
        .collect();
    let failed = send(&clients.own_sqs(), url, &messages).await;
    for (i, w) in going.into_iter().enumerate() {
        match failed.iter().find(|(n, _)| *n == i) {
            None => out.sent.push(w.id),
            Some((_, e)) => out.not_sent.push((w.id, e.clone())),
        }
    }
    out
}
