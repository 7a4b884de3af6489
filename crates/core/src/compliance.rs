//! tags + policy → verdict: whether one resource meets the tag policy, and
//! exactly how it does not. Pure, so scans, event-driven checks and the
//! Lambda judge alike.

use crate::policy::{Compliance, Rule};
use crate::tags::{is_reserved, TagKey};
use serde::Serialize;
use std::collections::BTreeMap;

/// What is wrong with one resource's tags. Empty means compliant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub compliant: bool,
    /// Required keys absent (not even in another case).
    pub missing: Vec<String>,
    /// Keys whose value the policy does not allow: key → value found.
    pub invalid: BTreeMap<String, String>,
    /// Keys present only in another case: key found → key the policy names.
    pub wrong_case: BTreeMap<String, String>,
    /// Keys the policy forbids.
    pub prohibited: Vec<String>,
    /// User tags carried, when at or above the policy's warning threshold
    /// (a warning, not a violation).
    pub near_limit: Option<usize>,
    /// Protected attribution keys whose value is not the one the audit
    /// store says tagwarden wrote or the creation event supports (design.md,
    /// "Protected keys"): key → what was found and what is expected.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attribution_mismatch: BTreeMap<String, AttributionMismatch>,
}

/// A protected key's value against the audit store's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributionMismatch {
    /// On the resource now; `None` when the key was removed.
    pub found: Option<String>,
    /// What tagwarden wrote, or what the creation event supports.
    pub expected: String,
    /// The creator as CloudTrail recorded it.
    pub creator: String,
}

impl Verdict {
    /// A protected key found other than the store says: not compliant.
    pub fn mismatch(&mut self, key: &str, m: AttributionMismatch) {
        self.compliant = false;
        self.attribution_mismatch.insert(key.to_string(), m);
    }
}

/// One scanned resource: the `scan --format json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub arn: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub tags: BTreeMap<String, String>,
}

/// `service:type` in the policy's scope: `*`, `service:*` or the type.
pub fn in_scope(policy: &Compliance, resource_type: &str) -> bool {
    covers(&policy.resource_types, resource_type)
}

/// `types` (`*`, `service:*`, `service:type`) name `resource_type`.
fn covers(types: &[String], resource_type: &str) -> bool {
    let service = resource_type.split(':').next().unwrap_or_default();
    types.iter().any(|t| {
        t == "*" || t == resource_type || t.strip_suffix(":*").is_some_and(|s| s == service)
    })
}

/// One `*` stands for any run of characters, as in Organizations tag
/// policies; without one, the match is exact.
pub fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

pub(crate) fn allowed(rule: &Rule, value: &str) -> bool {
    (rule.allowed.is_empty() || rule.allowed.iter().any(|a| wildcard(a, value)))
        && rule.pattern.as_ref().is_none_or(|p| p.is_match(value))
}

/// Judges `tags` (as the resource carries them) against the policy.
pub fn evaluate(
    policy: &Compliance,
    resource_type: &str,
    tags: &BTreeMap<String, String>,
) -> Verdict {
    let mut v = Verdict::default();
    let user: Vec<(&String, &String)> = tags.iter().filter(|(k, _)| !is_reserved(k)).collect();
    // Required keys must be there; optional ones are judged when present.
    let rules = policy
        .required
        .iter()
        .map(|(k, r)| (k, r, true))
        .chain(policy.optional.iter().map(|(k, r)| (k, r, false)))
        .filter(|(_, r, _)| {
            r.resource_types
                .as_ref()
                .is_none_or(|types| covers(types, resource_type))
        });
    for (key, rule, required) in rules {
        let key: &TagKey = key;
        let key = key.as_str();
        match tags.get(key) {
            Some(value) => {
                if !allowed(rule, value) {
                    v.invalid.insert(key.to_string(), value.clone());
                }
            }
            None => {
                let other = user
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(k, _)| k.to_string());
                match other {
                    Some(found) => {
                        v.wrong_case.insert(found, key.to_string());
                    }
                    None if required => v.missing.push(key.to_string()),
                    None => {}
                }
            }
        }
    }
    for (k, _) in &user {
        let lower = k.to_ascii_lowercase();
        if policy
            .prohibited
            .iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), &lower))
        {
            v.prohibited.push(k.to_string());
        }
    }
    if user.len() >= policy.tag_count_warning {
        v.near_limit = Some(user.len());
    }
    v.compliant = v.missing.is_empty()
        && v.invalid.is_empty()
        && v.wrong_case.is_empty()
        && v.prohibited.is_empty();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use proptest::prelude::*;

    fn policy(extra: &str) -> Compliance {
        Policy::from_yaml(&format!(
            "compliance:\n  resource_types: [\"ec2:*\", \"s3:bucket\"]\n  required:\n    \
             Environment: {{ allowed: [dev, staging, prod] }}\n    Owner: {{}}\n    \
             Application: {{ pattern: \"^[a-z][a-z0-9-]{{1,62}}$\" }}\n  optional:\n    \
             CostCenter: {{ allowed: [\"100\", \"300*\"] }}\n{extra}"
        ))
        .unwrap()
        .compliance
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const GOOD: &[(&str, &str)] = &[
        ("Environment", "prod"),
        ("Owner", "alice"),
        ("Application", "billing-api"),
    ];

    #[test]
    fn a_resource_with_every_required_tag_is_compliant() {
        let v = evaluate(&policy(""), "ec2:instance", &tags(GOOD));
        assert!(v.compliant, "{v:?}");
        assert_eq!(
            v,
            Verdict {
                compliant: true,
                ..Verdict::default()
            }
        );
    }

    #[test]
    fn no_tags_at_all_misses_every_required_key() {
        let v = evaluate(&policy(""), "ec2:instance", &tags(&[]));
        assert!(!v.compliant);
        assert_eq!(v.missing, ["Application", "Environment", "Owner"]);
    }

    #[test]
    fn a_value_outside_the_allowed_set_or_pattern_is_invalid() {
        let mut t = tags(GOOD);
        t.insert("Environment".into(), "production".into());
        t.insert("Application".into(), "Billing".into());
        let v = evaluate(&policy(""), "ec2:instance", &t);
        assert_eq!(
            v.invalid,
            tags(&[("Application", "Billing"), ("Environment", "production")])
        );
        assert!(v.missing.is_empty());
    }

    #[test]
    fn a_key_in_the_wrong_case_is_a_violation_not_a_match() {
        let mut t = tags(&GOOD[1..]);
        t.insert("environment".into(), "prod".into());
        let v = evaluate(&policy(""), "ec2:instance", &t);
        assert!(!v.compliant);
        assert!(v.missing.is_empty(), "{v:?}");
        assert_eq!(v.wrong_case, tags(&[("environment", "Environment")]));
    }

    #[test]
    fn optional_keys_are_judged_only_when_present_and_wildcards_match() {
        let mut t = tags(GOOD);
        assert!(evaluate(&policy(""), "ec2:instance", &t).compliant);
        t.insert("CostCenter".into(), "300-west".into());
        assert!(evaluate(&policy(""), "ec2:instance", &t).compliant);
        t.insert("CostCenter".into(), "200".into());
        assert_eq!(
            evaluate(&policy(""), "ec2:instance", &t).invalid,
            tags(&[("CostCenter", "200")])
        );
    }

    #[test]
    fn prohibited_keys_match_in_any_case_and_aws_tags_never_count() {
        let p = policy("  prohibited: [\"temp*\"]\n  tag_count_warning: 4\n");
        let mut t = tags(GOOD);
        t.insert("TEMP-owner".into(), "x".into());
        t.insert("aws:cloudformation:stack-name".into(), "s".into());
        let v = evaluate(&p, "ec2:instance", &t);
        assert_eq!(v.prohibited, ["TEMP-owner"]);
        assert_eq!(v.near_limit, Some(4), "aws: tags are not counted");
    }

    #[test]
    fn scope_takes_star_service_star_and_exact_types() {
        let p = policy("");
        assert!(in_scope(&p, "ec2:volume"));
        assert!(in_scope(&p, "s3:bucket"));
        assert!(!in_scope(&p, "rds:db"));
        assert!(in_scope(&Policy::default_policy().compliance, "rds:db"));
    }

    #[test]
    fn bad_scopes_and_prohibitions_are_refused_with_their_field() {
        let e = Policy::from_yaml("compliance:\n  resource_types: [\"ec2\"]\n").unwrap_err();
        assert_eq!(e.field, "compliance.resource_types[0]");
        let e = Policy::from_yaml("compliance:\n  prohibited: [\"a*b*\"]\n").unwrap_err();
        assert_eq!(e.field, "compliance.prohibited[0]");
        let e = Policy::from_yaml("compliance:\n  tag_count_warning: 51\n").unwrap_err();
        assert_eq!(e.field, "compliance.tag_count_warning");
    }

    proptest! {
        #[test]
        fn a_wildcard_matches_exactly_what_its_halves_allow(
            head in "[a-c]{0,3}", tail in "[a-c]{0,3}", mid in "[a-c]{0,3}", other in "[a-c]{0,6}",
        ) {
            let pattern = format!("{head}*{tail}");
            let value = format!("{head}{mid}{tail}");
            prop_assert!(wildcard(&pattern, &value));
            let expect = other.len() >= head.len() + tail.len()
                && other.starts_with(&head) && other.ends_with(&tail);
            prop_assert_eq!(wildcard(&pattern, &other), expect);
            prop_assert_eq!(wildcard(&value, &other), value == other);
        }
    }
}
