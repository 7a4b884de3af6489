//! When to try again a resource that refuses tags while it is being
//! created ([`crate::outcome::ErrorKind::NotReady`]). Creation takes from
//! minutes (a cache cluster, a stream) to half an hour (a search domain, an
//! MSK cluster), so the pauses grow to SQS's longest delay and the whole
//! wait lasts three hours before the resource is recorded as failed.
//!
//! The function waits by sending its delivery to its own queue again with
//! `DelaySeconds`, the attempt in a message attribute: a new message, so the
//! queue's redrive count never parks a waiting delivery early, and no
//! invocation is held while the resource is created. The CLI sleeps.

use std::time::Duration;

/// The SQS message attribute carrying the attempt (1 for the first retry).
pub const ATTEMPT_ATTRIBUTE: &str = "tagwarden-attempt";
/// The id and time of the delivery as it first came (a message id or a
/// request id), which what it stands for keeps on every attempt: a direct
/// invocation's event id is made from it.
pub const ORIGIN_ID_ATTRIBUTE: &str = "tagwarden-origin-id";
pub const ORIGIN_TIME_ATTRIBUTE: &str = "tagwarden-origin-time";

/// SQS's longest `DelaySeconds`.
const LONGEST: u64 = 900;

/// Pauses before the attempt after `attempt` (0 = the first delivery):
/// one, two, four, eight minutes, then fifteen, to three hours in all.
const FIRST: u64 = 60;
const TOTAL: u64 = 3 * 3600;

/// The pause before trying again after `attempt`, or `None` when the
/// wait is over.
pub fn delay(attempt: u32) -> Option<Duration> {
    // Every pause is at least FIRST, so this ends within TOTAL / FIRST steps.
    let mut waited = 0;
    for n in 0..=attempt {
        let pause = (FIRST << n.min(4)).min(LONGEST);
        waited += pause;
        if waited > TOTAL {
            return None;
        }
        if n == attempt {
            return Some(Duration::from_secs(pause));
        }
    }
    None
}

/// A `pending` resource untouched this long has no one waiting for it any
/// more (every pause is at most 15 minutes; a redelivery after a failed
/// invocation comes within the queue's 30-minute visibility): its delivery
/// was lost, and `apply --retry-failed` takes it.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Whether there is another attempt after `attempt`.
pub fn may_wait(attempt: u32) -> bool {
    delay(attempt).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_sqs_longest_delay_and_stop_after_three_hours() {
        let pauses: Vec<u64> = (0..).map_while(|n| delay(n).map(|d| d.as_secs())).collect();
        assert_eq!(pauses[..6], [60, 120, 240, 480, 900, 900]);
        assert!(pauses.iter().all(|p| *p <= 900), "{pauses:?}");
        assert_eq!(pauses.iter().sum::<u64>(), TOTAL);
        let attempts = pauses.len() as u32;
        assert_eq!(attempts, 15);
        assert!(may_wait(attempts - 1));
        assert!(!may_wait(attempts));
        assert_eq!(delay(u32::MAX), None);
    }
}
