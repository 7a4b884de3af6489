//! apply's outcomes → the audit store's rows, so that the CLI and the
//! Lambda record the same thing for the same run.

use crate::apply::{Outcome, Status};
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_core::reconcile::Current;
use tagwarden_core::report::one_line;
use tagwarden_store::model::{Batch, Failure, State, Tags};
use tagwarden_store::record::{batch, plain, tag_changes, Handled};

/// What apply did to one item, in the store's terms.
pub fn handled<'p>(item: &'p PlanItem, o: &Outcome) -> Handled<'p> {
    if o.status == Status::AlreadyTagged {
        if let Some(before) = own_write(item, o.before.as_ref()) {
            return Handled {
                item,
                before: Some(before),
                state: State::Tagged,
                tags: plain(&item.tags),
                error: None,
            };
        }
    }
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

/// When the resource already carries every tag this event would write,
/// with this event's values (its creator, its time), the write was this
/// event's own: a redelivery after the store failed to record it, or a
/// replay. It is recorded as tagged under the event (the store keeps an
/// event's row once, so a replay adds nothing and a redelivery fills the
/// gap); `before` is then what the resource had besides.
fn own_write(item: &PlanItem, current: Option<&Current>) -> Option<Tags> {
    let current = current?;
    let all_ours = !item.tags.is_empty()
        && item
            .tags
            .iter()
            .all(|(k, v)| current.get(k.as_str()).map(String::as_str) == Some(v.as_str()));
    all_ours.then(|| {
        current
            .iter()
            .filter(|(k, _)| !item.tags.keys().any(|t| t.as_str() == k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_store::model::Change;
    use tagwarden_store::suite;

    fn outcome(item: &PlanItem, status: Status, before: Option<Current>) -> Outcome {
        Outcome {
            item: 0,
            arn: item.arn.clone(),
            resource_type: item.resource_type,
            account: item.account.clone(),
            region: item.region.clone(),
            status,
            written: Default::default(),
            before,
        }
    }

    fn history(h: &Handled<'_>) -> Vec<(Change, Tags)> {
        batch(std::slice::from_ref(h), "2026-01-15T11:00:00Z")
            .history
            .into_iter()
            .map(|e| (e.change, e.added))
            .collect()
    }

    #[test]
    fn tags_this_event_would_write_already_there_are_recorded_as_its_own_write() {
        let item = suite::item("i", 1, "e1", "2026-01-15T10:30:00Z");
        let ours = plain(&item.tags);
        let mut current: Current = ours.clone();
        current.insert("Name".into(), "web".into());
        let h = handled(&item, &outcome(&item, Status::AlreadyTagged, Some(current)));
        assert_eq!(h.state, State::Tagged);
        assert_eq!(
            history(&h),
            [
                (Change::Created, Tags::new()),
                (Change::Tagged, ours.clone())
            ]
        );
        assert_eq!(
            h.before,
            Some(Tags::from([("Name".to_string(), "web".to_string())]))
        );

        // Someone else's value for one of the keys: not this event's write.
        let mut theirs: Current = ours.clone();
        theirs.insert("CreatedBy".into(), "bob".into());
        let h = handled(&item, &outcome(&item, Status::AlreadyTagged, Some(theirs)));
        assert_eq!(h.state, State::AlreadyTagged);
        assert_eq!(history(&h), [(Change::Created, Tags::new())]);

        // Nothing read: nothing to judge by.
        let h = handled(&item, &outcome(&item, Status::AlreadyTagged, None));
        assert_eq!(h.state, State::AlreadyTagged);
    }
}
