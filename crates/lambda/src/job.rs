//! One unit of work of an invocation (the invocation itself, or one SQS
//! message of its batch).

/// One unit of work: where it came from, the id a redelivery keeps, the
/// time it stands at (the event's own, so a redelivery keeps it too), and
/// how many times it already waited for resources being created.
pub struct Job<'a> {
    pub origin: &'a str,
    pub id: &'a str,
    pub at: &'a str,
    pub attempt: u32,
}

/// How a job ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Finished,
    /// Resources refused tags while being created: the delivery is to be
    /// tried again later.
    Waiting,
}
