//! Calls that blind tagwarden (a trail stopped, its rules, queue or function
//! changed): recorded as the caller's actions, and alerted once each.

use tagwarden_core::pipeline::WatchedCall;
use tagwarden_store::model::{EventRef, Rows, UserAction};
use tagwarden_store::{AuditStore, StoreError};

/// Records each call as its caller's action; returns those the store did
/// not hold yet, to be alerted (a redelivery alerts nothing). One record
/// per call: they are rare, and each must be told apart.
pub async fn record<'c, S: AuditStore>(
    store: &S,
    calls: &'c [WatchedCall],
    now: &str,
) -> Result<Vec<&'c WatchedCall>, StoreError> {
    let mut new = Vec::new();
    for c in calls {
        let rows = Rows {
            actions: vec![action(c, now)],
            ..Rows::default()
        };
        if store.record(&rows).await?.actions > 0 {
            new.push(c);
        }
    }
    Ok(new)
}

fn action(c: &WatchedCall, now: &str) -> UserAction {
    UserAction {
        principal: c.actor.id.clone(),
        event: EventRef {
            time: c.event.time.clone(),
            id: c.event.id.clone(),
            source: c.event.source.clone(),
            name: c.event.name.clone(),
        },
        account: c.event.account.clone(),
        region: c.event.region.clone(),
        resources: vec![c.target.clone()],
        source_ip: c.event.source_ip.clone(),
        user_agent: c.event.user_agent.clone(),
        outcome: "success".to_string(),
        recorded_at: now.to_string(),
    }
}
