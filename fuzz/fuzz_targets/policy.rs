//! The policy parser: any text is a policy or an error naming its field;
//! a policy that parses plans a creation and judges tags without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use tagwarden_core::compliance::evaluate;
use tagwarden_core::pipeline::{read_all, Creation, Found};
use tagwarden_core::plan::Planner;
use tagwarden_core::policy::Policy;

/// A real creation (the catalog fixture of an EC2 `RunInstances`), to
/// be planned under each policy. A fixture that no longer reads as one
/// fails every run, rather than leaving the plan unexercised.
fn creation() -> &'static Creation {
    static ONE: OnceLock<Creation> = OnceLock::new();
    ONE.get_or_init(|| {
        let fixture: serde_json::Value = serde_json::from_slice(include_bytes!(
            "../../crates/core/tests/fixtures/catalog/ec2.RunInstances.json"
        ))
        .expect("the fixture is JSON");
        let doc = fixture["record"].to_string();
        read_all("fixture", doc.as_bytes())
            .0
            .into_iter()
            .find_map(|f| match f {
                Found::Creation(c) => Some(*c),
                _ => None,
            })
            .expect("the fixture records a creation")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_yaml(text) else {
        return;
    };
    let mut planner = Planner::new(&policy);
    planner.add(creation());
    for item in &planner.finish().items {
        let tags: BTreeMap<String, String> = item
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let _ = evaluate(&policy.compliance, "ec2:instance", &tags);
    }
});
