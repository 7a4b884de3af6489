//! creations + policy → plan: exactly which tags to write on which resource.

use crate::attribution::IdentityType;
use crate::catalog::children::Unread;
use crate::catalog::{Resource, TaggingApi};
use crate::chains::{Call, Chains, Origin};
use crate::launches::{LaunchedBy, Launches};
use crate::pipeline::{Creation, EventInfo};
use crate::policy::template::{Var, Vars};
use crate::policy::Policy;
use crate::tags::{is_reserved, TagKey, TagValue, MAX_TAGS};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Who created the resource, as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorSummary {
    pub arn: String,
    #[serde(rename = "type")]
    pub kind: IdentityType,
    pub invoked_by: Option<String>,
    /// Who began the session chain behind `arn`, when someone else did
    /// (design.md, "The person behind the role").
    pub origin: Option<Origin>,
    pub source_identity: Option<String>,
    /// The group, fleet or stack a service launched the resource for.
    pub launched_by: Option<LaunchedBy>,
}

impl CreatorSummary {
    /// A creator known only by its identity: no chain, no parent.
    pub fn of(arn: String, kind: IdentityType, invoked_by: Option<String>) -> Self {
        Self {
            arn,
            kind,
            invoked_by,
            origin: None,
            source_identity: None,
            launched_by: None,
        }
    }

    /// Who answers "who created this": for a service's launch the parent's
    /// creator, `None` while that is unknown (a service's role never
    /// answers it); else the identity that made the call.
    pub fn responsible(&self) -> Option<&str> {
        match &self.launched_by {
            Some(l) => l.creator.as_deref(),
            None => Some(&self.arn),
        }
    }
}

/// One resource to tag: the `plan --format json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanItem {
    pub arn: String,
    pub resource_type: &'static str,
    pub account: String,
    pub region: String,
    /// Shared by every resource of one event.
    pub event: Arc<EventInfo>,
    pub creator: Arc<CreatorSummary>,
    /// Exactly the tags tagwarden would write.
    pub tags: BTreeMap<TagKey, TagValue>,
    #[serde(skip)]
    pub api: TaggingApi,
    /// Keys the creator already set in the create call, left alone.
    #[serde(skip)]
    pub kept: BTreeSet<String>,
    /// Keys dropped to stay within AWS's 50-tag limit.
    #[serde(skip)]
    pub dropped: Vec<TagKey>,
    /// Protected keys the creator preset to another value than tagwarden's.
    #[serde(skip)]
    pub mismatches: Vec<Mismatch>,
    /// Keys whose current value was only asserted by a direct invocation:
    /// this event's word replaces it (design.md: "Who owns a tag value").
    #[serde(skip)]
    pub replace: BTreeSet<TagKey>,
    /// Children its event does not name (an instance's volumes): the apply
    /// stage reads them and writes them these tags.
    #[serde(skip)]
    pub children: Option<Arc<Children>>,
}

/// What the apply stage writes on a resource's unnamed children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Children {
    pub resource_type: &'static str,
    pub api: TaggingApi,
    pub tags: BTreeMap<TagKey, TagValue>,
}

/// An `attribution-mismatch`: a creator preset a protected key (say
/// `CreatedBy`) to a value other than the one the event supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub key: TagKey,
    /// What the creator set.
    pub preset: String,
    /// What tagwarden writes: the event's word.
    pub expected: TagValue,
    /// Planned to be replaced (`enforce`, or `overwrite`); else kept, as the
    /// creator's.
    pub corrected: bool,
}

impl PlanItem {
    /// One line per `attribution-mismatch`: the resource, what was preset,
    /// and who the event says created it (alerts, the CLI's warnings).
    pub fn mismatch_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.mismatches.iter().map(|m| {
            let done = match m.corrected {
                true => "corrected",
                false => "kept (the policy does not enforce it)",
            };
            format!(
                "{}: {} preset to `{}`; created by {} (event {}): `{}` {done}",
                self.arn, m.key, m.preset, self.creator.arn, self.event.id, m.expected
            )
        })
    }

    /// Whether `key` may replace a value the resource already carries.
    pub fn replaces(&self, key: &TagKey, overwrite: bool) -> bool {
        overwrite
            || self.replace.contains(key)
            || self.mismatches.iter().any(|m| m.corrected && &m.key == key)
    }
}

/// The plan for a run.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    /// Resources to tag, ordered by ARN.
    pub items: Vec<PlanItem>,
    /// Resources whose creator already set every tag the policy writes.
    pub already_tagged: u64,
    /// Created resources with nothing to write (their `tags` are empty):
    /// seen, and recorded in the audit store.
    pub untouched: Vec<PlanItem>,
    /// Creation events superseded by a later creation of the same ARN.
    pub superseded: u64,
    /// Resources where AWS's 50-tag limit left policy tags unplanned.
    pub over_limit: u64,
    /// The policy's protected keys: what tagwarden writes of them is its
    /// own from then on, and restored when someone else changes it.
    pub protect: Vec<TagKey>,
}

impl Plan {
    /// Drops the resources a later creation of the same ARN replaced, as
    /// `newer` says (recorded by an earlier run, or an earlier part of this
    /// one), counting them superseded: the latest creation wins across
    /// plans as it does within one.
    pub fn supersede(&mut self, newer: impl Fn(&PlanItem) -> bool) {
        let before = self.items.len() + self.untouched.len();
        self.items.retain(|i| !newer(i));
        self.untouched.retain(|i| !newer(i));
        self.superseded += (before - self.items.len() - self.untouched.len()) as u64;
    }
}

/// One resource an event made, with the tags its creator set on it: one
/// the catalog row names, or a child of one.
struct Made<'c> {
    resource_type: &'static str,
    api: TaggingApi,
    resource: &'c Resource,
    preset_tags: &'c BTreeMap<String, String>,
    /// Its children the event does not name.
    unread: Option<&'c Unread>,
}

impl<'c> Made<'c> {
    fn all(creation: &'c Creation) -> impl Iterator<Item = Made<'c>> {
        let named = creation.resources.iter().map(|resource| Made {
            resource_type: creation.resource_type,
            api: creation.api,
            resource,
            preset_tags: &creation.preset_tags,
            unread: creation.unread.as_ref(),
        });
        let children = creation.children.iter().map(|c| Made {
            resource_type: c.resource_type,
            api: c.api,
            resource: &c.resource,
            preset_tags: &c.preset_tags,
            unread: None,
        });
        named.chain(children)
    }
}

struct Context<'c> {
    creation: &'c Creation,
    made: &'c Made<'c>,
    creator: &'c CreatorSummary,
}

impl<'c> Vars for Context<'c> {
    fn get(&self, var: &Var) -> Option<Cow<'_, str>> {
        let c = self.creation;
        let s = |s: &'c str| Some(Cow::Borrowed(s));
        match var {
            Var::CreatorArn => s(&c.creator.id),
            Var::CreatorType => s(c.creator.kind.as_str()),
            Var::CreatorInvokedBy => c.creator.invoked_by.as_deref().and_then(s),
            Var::CreatorRole => c.creator.role.as_deref().and_then(s),
            Var::CreatorSession => c.creator.session.as_deref().and_then(s),
            Var::CreatorAccount => c.creator.account.as_deref().and_then(s),
            Var::CreatorResponsible => self.creator.responsible().map(Cow::Borrowed),
            Var::CreatorLaunchedBy => self
                .creator
                .launched_by
                .as_ref()
                .map(|l| Cow::Borrowed(l.arn.as_str())),
            Var::CreatorOrigin => self
                .creator
                .origin
                .as_ref()
                .and_then(|o| o.render())
                .map(Cow::Owned),
            Var::CreatorSourceIdentity => {
                self.creator.source_identity.as_deref().map(Cow::Borrowed)
            }
            Var::EventTime => s(&c.event.time),
            Var::EventId => s(&c.event.id),
            Var::EventName => s(&c.event.name),
            Var::EventSource => s(&c.event.source),
            Var::EventSourceIp => c.event.source_ip.as_deref().and_then(s),
            Var::EventUserAgent => c.event.user_agent.as_deref().and_then(s),
            Var::Account => s(&self.made.resource.account),
            Var::Region => s(&self.made.resource.region),
            Var::Partition => s(&c.event.partition),
            Var::ResourceArn => s(&self.made.resource.arn),
            Var::ResourceType => s(self.made.resource_type),
            Var::Tag(k) => self
                .made
                .preset_tags
                .get(k)
                .map(|v| Cow::Borrowed(v.as_str())),
        }
    }
}

/// Accumulates creations into a plan.
pub struct Planner<'p> {
    policy: &'p Policy,
    /// The run's session chains, complete before any creation is added.
    chains: Option<&'p Chains>,
    /// The run's parents and the store's, likewise complete.
    launches: Option<&'p Launches>,
    by_arn: BTreeMap<String, PlanItem>,
    already: BTreeMap<String, PlanItem>,
    /// ARNs whose latest item dropped tags at the 50-tag limit.
    limited: BTreeSet<String>,
    superseded: u64,
}

impl<'p> Planner<'p> {
    pub fn new(policy: &'p Policy) -> Self {
        Self {
            policy,
            chains: None,
            launches: None,
            by_arn: BTreeMap::new(),
            already: BTreeMap::new(),
            limited: BTreeSet::new(),
            superseded: 0,
        }
    }

    /// Resolves each creator's origin through `chains`.
    pub fn with_chains(mut self, chains: &'p Chains) -> Self {
        self.chains = Some(chains);
        self
    }

    /// Credits each service's launch to its parent's creator through
    /// `launches`.
    pub fn with_launches(mut self, launches: &'p Launches) -> Self {
        self.launches = Some(launches);
        self
    }

    pub fn add(&mut self, creation: &Creation) {
        let event = Arc::new(creation.event.clone());
        let origin = self.chains.and_then(|c| c.origin_of(Call::of(creation)));
        let creator = Arc::new(CreatorSummary {
            arn: creation.creator.id.clone(),
            kind: creation.creator.kind.clone(),
            invoked_by: creation.creator.invoked_by.clone(),
            origin,
            source_identity: creation.source_identity.clone(),
            launched_by: self.launches.and_then(|l| l.launched_by(creation)),
        });
        for made in Made::all(creation) {
            let resource = made.resource;
            // A resource re-created under the same ARN belongs to its latest
            // creator; ties break on eventID so the plan is deterministic.
            let current = self
                .by_arn
                .get(&resource.arn)
                .or_else(|| self.already.get(&resource.arn))
                .map(|i| (i.event.time.as_str(), i.event.id.as_str()));
            if let Some(current) = current {
                self.superseded += 1;
                if current >= (event.time.as_str(), event.id.as_str()) {
                    continue;
                }
            }
            self.by_arn.remove(&resource.arn);
            self.already.remove(&resource.arn);
            let item = self.item(creation, &made, &event, &creator);
            if item.dropped.is_empty() {
                self.limited.remove(&item.arn);
            } else {
                self.limited.insert(item.arn.clone());
            }
            if item.tags.is_empty() {
                self.already.insert(item.arn.clone(), item);
            } else {
                self.by_arn.insert(item.arn.clone(), item);
            }
        }
    }

    /// The item for `creation`'s first resource with `creator` as given (as
    /// the store keeps it, chain and parent included): the current
    /// policy's decisions on a resource created earlier.
    pub fn replan(&self, creation: &Creation, creator: CreatorSummary) -> Option<PlanItem> {
        let made = Made::all(creation).next()?;
        let event = Arc::new(creation.event.clone());
        Some(self.item(creation, &made, &event, &Arc::new(creator)))
    }

    fn item(
        &self,
        creation: &Creation,
        made: &Made<'_>,
        event: &Arc<EventInfo>,
        creator: &Arc<CreatorSummary>,
    ) -> PlanItem {
        let attribution = &self.policy.attribution;
        let ctx = Context {
            creation,
            made,
            creator,
        };
        let mut kept = BTreeSet::new();
        let mut tags = BTreeMap::new();
        let mut mismatches = Vec::new();
        // Recorded, for what it launches, but never tagged.
        let templates = match made.api {
            TaggingApi::Untagged => None,
            _ => Some(&attribution.tags),
        };
        for (key, template) in templates.into_iter().flatten() {
            let value = template.render(&ctx).map(|v| TagValue::clean(&v));
            if let Some(preset) = made.preset_tags.get(key.as_str()) {
                let differs = value.as_ref().is_some_and(|v| v.as_str() != preset);
                let mismatch = differs
                    && attribution.is_protected(key.as_str())
                    && !attribution.allows(preset);
                let corrected = attribution.overwrite || (mismatch && attribution.enforce);
                if let (true, Some(expected)) = (mismatch, &value) {
                    mismatches.push(Mismatch {
                        key: key.clone(),
                        preset: preset.clone(),
                        expected: expected.clone(),
                        corrected,
                    });
                }
                if !corrected {
                    kept.insert(key.as_str().to_string());
                    continue;
                }
            }
            if let Some(value) = value {
                tags.insert(key.clone(), value);
            }
        }
        // AWS counts user tags only (`aws:` tags do not use up the 50), and
        // overwriting a key the creator set adds nothing to the count.
        let preset = made.preset_tags;
        let is_new = |k: &TagKey| !preset.contains_key(k.as_str());
        let mut total = preset.keys().filter(|k| !is_reserved(k)).count()
            + tags.keys().filter(|k| is_new(k)).count();
        let mut dropped = Vec::new();
        while total > MAX_TAGS {
            let Some(k) = tags.keys().rev().find(|k| is_new(k)).cloned() else {
                break;
            };
            tags.remove(&k);
            dropped.push(k);
            total -= 1;
        }
        // The children's tags, planned as the parent's are, from their own
        // preset tags.
        let children = made.unread.map(|u| {
            let child = Made {
                resource_type: u.resource_type,
                api: u.api,
                resource: made.resource,
                preset_tags: &u.preset_tags,
                unread: None,
            };
            let planned = self.item(creation, &child, event, creator);
            Arc::new(Children {
                resource_type: u.resource_type,
                api: u.api,
                tags: planned.tags,
            })
        });
        let resource = made.resource;
        PlanItem {
            arn: resource.arn.clone(),
            resource_type: made.resource_type,
            account: resource.account.clone(),
            region: resource.region.clone(),
            event: Arc::clone(event),
            creator: Arc::clone(creator),
            tags,
            api: made.api,
            kept,
            dropped,
            mismatches,
            replace: BTreeSet::new(),
            children,
        }
    }

    pub fn finish(self) -> Plan {
        let full = self
            .already
            .keys()
            .filter(|a| self.limited.contains(*a))
            .count();
        Plan {
            // A resource whose every policy tag fell to the limit was not
            // tagged by its creator: it is counted as over the limit.
            already_tagged: (self.already.len() - full) as u64,
            over_limit: self.limited.len() as u64,
            superseded: self.superseded,
            items: self.by_arn.into_values().collect(),
            untouched: self.already.into_values().collect(),
            protect: self.policy.attribution.protect.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::Creator;
    use crate::catalog::TaggingApi;
    use proptest::prelude::*;

    fn creation(preset: &[(&str, &str)], time: &str, id: &str, creator: &str) -> Creation {
        Creation {
            event: EventInfo {
                id: id.into(),
                source: "ec2.amazonaws.com".into(),
                name: "RunInstances".into(),
                time: time.into(),
                region: "us-east-1".into(),
                account: "111122223333".into(),
                partition: "aws".into(),
                source_ip: Some("203.0.113.1".into()),
                user_agent: None,
            },
            creator: Creator {
                id: creator.into(),
                kind: IdentityType::IAMUser,
                invoked_by: None,
                role: None,
                session: None,
                account: Some("111122223333".into()),
            },
            resource_type: "ec2:instance",
            api: TaggingApi::Ec2,
            resources: vec![Resource {
                arn: "arn:aws:ec2:us-east-1:111122223333:instance/i-1".into(),
                account: "111122223333".into(),
                region: "us-east-1".into(),
            }],
            preset_tags: preset
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            access_key: None,
            source_identity: None,
            console: false,
            session_created: None,
            center_user: None,
            children: Vec::new(),
            unread: None,
        }
    }

    fn policy(yaml: &str) -> Policy {
        Policy::from_yaml(yaml).unwrap()
    }

    #[test]
    fn the_latest_creation_of_an_arn_wins() {
        let p = Policy::default_policy();
        let mut planner = Planner::new(&p);
        planner.add(&creation(
            &[],
            "2026-01-02T00:00:00Z",
            "b",
            "arn:aws:iam::1:user/new",
        ));
        planner.add(&creation(
            &[],
            "2026-01-01T00:00:00Z",
            "a",
            "arn:aws:iam::1:user/old",
        ));
        let plan = planner.finish();
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].creator.arn, "arn:aws:iam::1:user/new");
        assert_eq!(plan.superseded, 1);
    }

    /// A preset protected key naming someone else is a finding: kept as
    /// the creator's unless the policy enforces it; a value the policy
    /// allows, the true value, or an unprotected key is no finding.
    #[test]
    fn a_preset_protected_key_naming_someone_else_is_a_mismatch() {
        let alice = "arn:aws:iam::1:user/alice";
        let plan_of = |extra: &str, preset: &[(&str, &str)]| {
            let p = policy(&format!(
                "attribution:\n  tags:\n    CreatedBy: \"{{creator.arn}}\"\n    Team: \"{{creator.arn}}\"\n{extra}"
            ));
            let mut planner = Planner::new(&p);
            planner.add(&creation(preset, "2026-01-01T00:00:00Z", "a", alice));
            let plan = planner.finish();
            plan.items.into_iter().chain(plan.untouched).next().unwrap()
        };
        let forged = [("CreatedBy", "arn:aws:iam::1:user/bob"), ("Team", "ops")];
        let kept = plan_of("", &forged);
        assert_eq!(
            kept.mismatches,
            [Mismatch {
                key: TagKey::new("CreatedBy").unwrap(),
                preset: "arn:aws:iam::1:user/bob".into(),
                expected: TagValue::clean(alice),
                corrected: false,
            }],
            "Team is not protected"
        );
        assert!(kept.tags.is_empty() && kept.kept.contains("CreatedBy"));
        let key = TagKey::new("CreatedBy").unwrap();
        assert!(!kept.replaces(&key, false));

        let enforced = plan_of("  enforce: true\n", &forged);
        assert!(enforced.mismatches[0].corrected);
        assert_eq!(enforced.tags[&key].as_str(), alice);
        assert!(enforced.replaces(&key, false));
        assert!(!enforced.kept.contains("CreatedBy") && enforced.kept.contains("Team"));

        for (extra, preset) in [
            (
                "  protect_allow: [\"terra*\"]\n",
                [("CreatedBy", "terraform")],
            ),
            ("", [("CreatedBy", alice)]),
            (
                "  protect: []\n",
                [("CreatedBy", "arn:aws:iam::1:user/bob")],
            ),
        ] {
            assert_eq!(plan_of(extra, &preset).mismatches, [], "{extra} {preset:?}");
        }
    }

    #[test]
    fn a_resource_whose_creator_set_every_tag_is_already_tagged() {
        let p = policy("attribution:\n  tags:\n    Owner: \"{creator.arn}\"\n");
        let mut planner = Planner::new(&p);
        planner.add(&creation(
            &[("Owner", "me")],
            "2026-01-01T00:00:00Z",
            "a",
            "x",
        ));
        let plan = planner.finish();
        assert!(plan.items.is_empty());
        assert_eq!(plan.already_tagged, 1);
    }

    #[test]
    fn the_fifty_tag_limit_counts_user_tags_only() {
        let preset: Vec<(String, String)> = (0..48)
            .map(|i| (format!("k{i:02}"), "v".to_string()))
            .collect();
        let mut preset_ref: Vec<(&str, &str)> = preset
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        preset_ref.push(("aws:cloudformation:stack-name", "s"));
        let p = Policy::default_policy();
        let mut planner = Planner::new(&p);
        planner.add(&creation(&preset_ref, "2026-01-01T00:00:00Z", "a", "x"));
        let plan = planner.finish();
        let item = &plan.items[0];
        assert_eq!(item.tags.len(), 2, "48 user tags leave room for 2");
        assert_eq!(item.dropped.len(), 1);
        assert_eq!(plan.over_limit, 1);

        // 50 preset tags: nothing fits, and that is not "already tagged".
        let full: Vec<(String, String)> =
            (0..50).map(|i| (format!("k{i:02}"), "v".into())).collect();
        let full: Vec<(&str, &str)> = full.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut planner = Planner::new(&p);
        planner.add(&creation(&full, "2026-01-01T00:00:00Z", "a", "x"));
        let plan = planner.finish();
        assert!(plan.items.is_empty());
        assert_eq!((plan.already_tagged, plan.over_limit), (0, 1));
    }

    proptest! {
        /// Whatever the creator set and whatever the event holds: the plan
        /// never overwrites a preset key, never writes an `aws:` key, never
        /// goes past 50 user tags, and only writes clean values.
        #[test]
        fn plans_respect_the_safety_rules(
            preset in proptest::collection::btree_map("[A-Za-z]{1,4}", ".{0,20}", 0..60),
            creator in ".{0,300}",
            overwrite in any::<bool>(),
        ) {
            let p = policy(&format!(
                "attribution:\n  overwrite: {overwrite}\n  tags:\n    CreatedBy: \"{{creator.arn}}\"\n    A: \"{{event.source_ip}}\"\n    B: x\n    Ab: y\n"
            ));
            let preset_ref: Vec<(&str, &str)> = preset.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut planner = Planner::new(&p);
            planner.add(&creation(&preset_ref, "2026-01-01T00:00:00Z", "a", &creator));
            for item in planner.finish().items {
                let new = item.tags.keys().filter(|k| !preset.contains_key(k.as_str())).count();
                prop_assert!(new == 0 || preset.len() + new <= MAX_TAGS, "{} + {} tags", preset.len(), new);
                for (k, v) in &item.tags {
                    prop_assert!(!is_reserved(k.as_str()));
                    prop_assert!(overwrite || !preset.contains_key(k.as_str()), "overwrote {}", k);
                    prop_assert_eq!(&TagValue::clean(v.as_str()), v);
                }
            }
        }
    }
}
