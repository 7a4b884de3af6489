//! One unit of work of an invocation (the invocation itself, or one SQS
//! message of its batch).

/// One unit of work: where it came from, the id a redelivery keeps, and
/// the time it stands at (the event's own, so a redelivery keeps it too).
pub struct Job<'a> {
    pub origin: &'a str,
    pub id: &'a str,
    pub at: &'a str,
}
