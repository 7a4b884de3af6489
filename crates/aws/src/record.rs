//! apply's outcomes → the audit store's rows, so that the CLI and the
//! Lambda record the same thing for the same run.

use crate::apply::{Outcome, Status};
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_core::report::one_line;
use tagwarden_store::model::{Batch, Failure, State, Tags};
use tagwarden_store::record::{batch, plain, tag_changes, Handled};

/// What apply did to one item, in the store's terms.
pub fn handled<'p>(item: &'p PlanItem, o: &Outcome) -> Handled<'p> {
    let (state, tags, error) = match &o.status {
        Status::Tagged => (State::Tagged, plain(&o.written), None),
        Status::WouldTag => (State::Planned, plain(&o.written), None),
        Status::AlreadyTagged => (State::AlreadyTagged, Tags::new(), None),
        Status::Full => (State::Full, Tags::new(), None),
        Status::Failed { error } => (
            State::Failed,
            plain(&item.tags),
            Some(Failure {
                kind: error.kind.as_str().to_string(),
                message: one_line(&error.to_string()),
            }),
        ),
    };
    Handled {
        item,
        before: o.before.clone(),
        state,
        tags,
        error,
    }
}

/// Every creation and tag call a run saw, and every outcome, as one batch.
pub fn rows(plan: &Plan, changes: &[TagChange], outcomes: &[Outcome], now: &str) -> Batch {
    let mut handled: Vec<_> = outcomes
        .iter()
        .map(|o| handled(&plan.items[o.item], o))
        .collect();
    handled.extend(plan.untouched.iter().map(Handled::untouched));
    let mut rows = batch(&handled, now);
    tag_changes(changes, now, &mut rows);
    rows
}

/// Now, as the store writes times.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
