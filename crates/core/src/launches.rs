//! Resources a service launched on someone's behalf (design.md, "The person
//! behind the role"): an Auto Scaling group's instances, an EKS node
//! group's, a stack's resources. The service's role made the call, but "who created
//! this" is answered by whoever created the parent.
//!
//! AWS marks such launches with tags only it can write: a caller cannot set
//! an `aws:` key, so the mark is evidence. The few marks outside `aws:`
//! count only when the marking service made the call itself.

use crate::catalog::{self, Scope};
use crate::pipeline::Creation;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Parents followed at most: deeper than any real nesting (stacks nest a
/// few levels), and a loop of marks cannot hang the run.
pub const MAX_DEPTH: usize = 8;

/// Where a mark's value leads.
#[derive(Debug)]
pub enum Parent {
    /// The catalog's ARN for a resource of this type with the value as id.
    Type(&'static str),
    /// An ARN that begins with this template, the values joined by `/` as
    /// `{id}`: the parent's own ARN holds a part no mark names (an EKS node
    /// group's uuid), so only the run's creations can match it.
    Prefix(&'static str),
}

/// Who must have made the call for a mark to count.
#[derive(Debug)]
pub enum Caller {
    /// Anyone: only AWS can set the mark.
    Any,
    /// The service itself: its role (by name) or `invokedBy`. For keys a
    /// caller could set.
    Service {
        role: &'static str,
        invoked_by: &'static str,
    },
    /// A service acting through a role it assumed with this session name
    /// (CloudFormation's service role). A person whose own credentials the
    /// service used made the call themselves: the mark does not hide them.
    ServiceRole {
        session: &'static str,
        invoked_by: &'static str,
    },
}

impl Caller {
    fn allows(&self, c: &crate::attribution::Creator) -> bool {
        let invoked = |s: &str| c.invoked_by.as_deref() == Some(s);
        match self {
            Caller::Any => true,
            Caller::Service { role, invoked_by } => {
                c.role.as_deref() == Some(role) || invoked(invoked_by)
            }
            Caller::ServiceRole {
                session,
                invoked_by,
            } => c.session.as_deref() == Some(session) && invoked(invoked_by),
        }
    }
}

/// One kind of mark.
#[derive(Debug)]
pub struct Mark {
    /// Tag keys that must all be present; their values name the parent.
    pub keys: &'static [&'static str],
    pub parent: Parent,
    pub by: Caller,
}

/// Nearest parent first: an instance a stack's group launched carries both
/// the group's mark and the stack's, and belongs to the group.
#[rustfmt::skip]
pub static MARKS: &[Mark] = &[
    Mark { keys: &["aws:autoscaling:groupName"], parent: Parent::Type("autoscaling:autoScalingGroup"), by: Caller::Any },
    // The group an EKS managed node group runs on.
    Mark {
        keys: &["eks:cluster-name", "eks:nodegroup-name"],
        parent: Parent::Prefix("arn:{partition}:eks:{region}:{account}:nodegroup/{id}/"),
        by: Caller::Service { role: "AWSServiceRoleForAmazonEKSNodegroup", invoked_by: "eks-nodegroup.amazonaws.com" },
    },
    // Through the stack's service role only (design.md); CloudFormation
    // names that session `AWSCloudFormation`.
    Mark {
        keys: &["aws:cloudformation:stack-id"],
        parent: Parent::Type("cloudformation:stack"),
        by: Caller::ServiceRole { session: "AWSCloudFormation", invoked_by: "cloudformation.amazonaws.com" },
    },
];

/// What launched a resource: the contract's `creator.launched_by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchedBy {
    /// The parent's ARN (for a prefix mark, the prefix until a creation of
    /// the run names it whole).
    pub arn: String,
    /// Who answers for the parent; `None` when neither the run nor the
    /// store saw it created.
    pub creator: Option<String>,
    pub launched_by: Option<Box<LaunchedBy>>,
}

/// Which parent a creation's marks name, if any: the nearest, with whether
/// it is a prefix.
pub fn parent_of(creation: &Creation) -> Option<(String, bool)> {
    let tags = &creation.preset_tags;
    let event = &creation.event;
    let scope = Scope {
        partition: &event.partition,
        region: &event.region,
        account: &event.account,
    };
    MARKS.iter().find_map(|mark| {
        let values: Vec<&str> = mark
            .keys
            .iter()
            .map(|k| tags.get(*k).map(String::as_str).filter(|v| !v.is_empty()))
            .collect::<Option<_>>()?;
        if !mark.by.allows(&creation.creator) {
            return None;
        }
        let id = values.join("/");
        let (arn, prefix) = match mark.parent {
            Parent::Type(t) => (catalog::arn_for(t, &id, &scope)?, false),
            Parent::Prefix(template) => (
                template
                    .replace("{partition}", scope.partition)
                    .replace("{region}", scope.region)
                    .replace("{account}", scope.account)
                    .replace("{id}", &id),
                true,
            ),
        };
        // A mark names a parent of the resource's own account.
        let account = arn.split(':').nth(4).unwrap_or_default();
        (account == scope.account).then_some((arn, prefix))
    })
}

/// What the store knows of a parent created in an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// `None` when the parent was itself a service's launch whose parent is
    /// unknown: a service's role never answers for it.
    pub responsible: Option<String>,
    pub launched_by: Option<LaunchedBy>,
}

/// A creation of the run, as a parent.
#[derive(Debug, Clone)]
struct Node {
    order: (String, String),
    creator: String,
    parent: Option<(String, bool)>,
}

/// The run's creations and the store's answers, so that each creation's
/// parent chain resolves whatever the order of files and records.
#[derive(Debug, Default, Clone)]
pub struct Launches {
    /// Every creation of each ARN, oldest first: a group deleted and made
    /// again under its name is another parent for what it launched since.
    run: BTreeMap<String, Vec<Node>>,
    stored: HashMap<String, Known>,
}

/// An event's place in time: (`eventTime`, `eventID`).
type Order = (String, String);

impl Launches {
    /// Every creation of the run, before any is resolved.
    pub fn of<'c>(creations: impl IntoIterator<Item = &'c Creation>) -> Self {
        let mut out = Self::default();
        for c in creations {
            out.add(c);
        }
        out
    }

    /// One creation of each of its resources.
    pub fn add(&mut self, creation: &Creation) {
        let order = (creation.event.time.clone(), creation.event.id.clone());
        let parent = parent_of(creation);
        for r in &creation.resources {
            let node = Node {
                order: order.clone(),
                creator: creation.creator.id.clone(),
                parent: parent.clone().filter(|(p, _)| *p != r.arn),
            };
            let all = self.run.entry(r.arn.clone()).or_default();
            if let Err(at) = all.binary_search_by(|n| n.order.cmp(&order)) {
                all.insert(at, node);
            }
        }
    }

    /// Parents named by the run's creations that no creation of the run
    /// made: to be asked of the store ([`Self::know`]).
    pub fn wanted(&self) -> BTreeSet<String> {
        self.run
            .values()
            .flatten()
            .filter_map(|n| n.parent.as_ref())
            .filter(|(arn, prefix)| !*prefix && !self.run.contains_key(arn))
            .map(|(arn, _)| arn.clone())
            .collect()
    }

    /// The store's answer for a parent created earlier.
    pub fn know(&mut self, arn: String, known: Known) {
        self.stored.insert(arn, known);
    }

    /// What launched `creation`'s resources, resolved through the run and
    /// the store.
    pub fn launched_by(&self, creation: &Creation) -> Option<LaunchedBy> {
        let (arn, prefix) = parent_of(creation)?;
        let order = (creation.event.time.clone(), creation.event.id.clone());
        Some(self.resolve(&arn, prefix, &order, 0))
    }

    /// The parent's latest creation of the run no later than its child's.
    fn find(&self, arn: &str, prefix: bool, before: &Order) -> Option<(&String, &Node)> {
        fn latest<'l>(
            (k, all): (&'l String, &'l Vec<Node>),
            before: &Order,
        ) -> Option<(&'l String, &'l Node)> {
            Some((k, all.iter().rev().find(|n| &n.order <= before)?))
        }
        let latest = |entry| latest(entry, before);
        match prefix {
            false => self.run.get_key_value(arn).and_then(latest),
            true => self
                .run
                .range(arn.to_string()..)
                .take_while(|(k, _)| k.starts_with(arn))
                .filter_map(latest)
                .max_by(|a, b| a.1.order.cmp(&b.1.order)),
        }
    }

    fn resolve(&self, arn: &str, prefix: bool, before: &Order, depth: usize) -> LaunchedBy {
        let unknown = |arn: &str| LaunchedBy {
            arn: arn.to_string(),
            creator: None,
            launched_by: None,
        };
        if depth >= MAX_DEPTH {
            return unknown(arn);
        }
        if let Some((full, node)) = self.find(arn, prefix, before) {
            let parent = node
                .parent
                .as_ref()
                .map(|(p, pre)| Box::new(self.resolve(p, *pre, &node.order, depth + 1)));
            // A parent that was itself launched answers through its own
            // parent, never through the service that made the call.
            let creator = match &parent {
                Some(p) => p.creator.clone(),
                None => Some(node.creator.clone()),
            };
            return LaunchedBy {
                arn: full.clone(),
                creator,
                launched_by: parent,
            };
        }
        match self.stored.get(arn) {
            Some(k) => LaunchedBy {
                arn: arn.to_string(),
                creator: k.responsible.clone(),
                launched_by: k.launched_by.clone().map(Box::new),
            },
            None => unknown(arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{read_all, Found};

    fn creations(records: &[String]) -> Vec<Creation> {
        let log = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let (found, _) = read_all("log", log.as_bytes());
        found
            .into_iter()
            .map(|f| match f {
                Found::Creation(c) => *c,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn record(time: &str, id: &str, who: &str, invoked_by: Option<&str>, body: &str) -> String {
        let invoked = invoked_by
            .map(|s| format!(r#","invokedBy":"{s}""#))
            .unwrap_or_default();
        format!(
            r#"{{"eventVersion":"1.09","eventTime":"{time}","awsRegion":"us-east-1","eventID":"{id}","readOnly":false,
              "eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333",
              "userIdentity":{{"type":"AssumedRole","arn":"{who}","accountId":"111122223333"{invoked}}},{body}}}"#
        )
    }

    const ALICE: &str = "arn:aws:sts::111122223333:assumed-role/deploy/alice";
    const CFN_ROLE: &str = "arn:aws:sts::111122223333:assumed-role/cfn-exec/AWSCloudFormation";
    const ASG_ROLE: &str =
        "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling";
    const STACK: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/web/1f2e";

    fn create_stack() -> String {
        record(
            "2026-01-15T10:00:00Z",
            "stack-1",
            ALICE,
            None,
            &format!(
                r#""eventSource":"cloudformation.amazonaws.com","eventName":"CreateStack",
                  "requestParameters":{{"stackName":"web","roleARN":"arn:aws:iam::111122223333:role/cfn-exec"}},
                  "responseElements":{{"stackId":"{STACK}"}}"#
            ),
        )
    }

    fn create_group() -> String {
        record(
            "2026-01-15T10:01:00Z",
            "asg-1",
            CFN_ROLE,
            Some("cloudformation.amazonaws.com"),
            &format!(
                r#""eventSource":"autoscaling.amazonaws.com","eventName":"CreateAutoScalingGroup",
                  "requestParameters":{{"autoScalingGroupName":"web-asg","tags":[
                    {{"key":"aws:cloudformation:stack-id","value":"{STACK}","propagateAtLaunch":true}}]}},
                  "responseElements":null"#
            ),
        )
    }

    fn launch() -> String {
        record(
            "2026-01-15T10:02:00Z",
            "run-1",
            ASG_ROLE,
            Some("autoscaling.amazonaws.com"),
            &format!(
                r#""eventSource":"ec2.amazonaws.com","eventName":"RunInstances",
                  "requestParameters":{{"tagSpecificationSet":{{"items":[{{"resourceType":"instance","tags":[
                    {{"key":"aws:autoscaling:groupName","value":"web-asg"}},
                    {{"key":"aws:cloudformation:stack-id","value":"{STACK}"}}]}}]}}}},
                  "responseElements":{{"instancesSet":{{"items":[{{"instanceId":"i-0asg"}}]}}}}"#
            ),
        )
    }

    /// The records planned with the default policy, parents from the run.
    fn planned(records: &[String]) -> crate::plan::Plan {
        let all = creations(records);
        let launches = Launches::of(&all);
        let policy = crate::policy::Policy::default_policy();
        let mut planner = crate::plan::Planner::new(&policy).with_launches(&launches);
        for c in &all {
            planner.add(c);
        }
        planner.finish()
    }

    #[test]
    fn an_instance_a_stacks_group_launched_belongs_to_the_stacks_creator_in_any_order() {
        let records = [launch(), create_group(), create_stack()];
        let all = creations(&records);
        assert_eq!(all.len(), 3);
        let launches = Launches::of(&all);
        assert!(launches.wanted().is_empty(), "every parent is in the run");
        let instance = all.iter().find(|c| c.event.id == "run-1").unwrap();
        let by = launches.launched_by(instance).unwrap();
        let group = "arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/web-asg";
        assert_eq!(by.arn, group);
        assert_eq!(by.creator.as_deref(), Some(ALICE));
        let stack = by.launched_by.as_deref().unwrap();
        assert_eq!(
            (stack.arn.as_str(), stack.creator.as_deref()),
            (STACK, Some(ALICE))
        );
        assert_eq!(stack.launched_by, None);
        // The stack itself was no one's launch.
        let created = all.iter().find(|c| c.event.id == "stack-1").unwrap();
        assert_eq!(launches.launched_by(created), None);
    }

    /// The default policy writes the stack creator's name on the instance,
    /// records the stack without tagging it, and keeps the service role as
    /// the call's own identity.
    #[test]
    fn the_default_policy_credits_a_launch_to_its_parents_creator() {
        let plan = planned(&[launch(), create_group(), create_stack()]);
        let instance = plan
            .items
            .iter()
            .find(|i| i.arn.ends_with("instance/i-0asg"))
            .unwrap();
        let tag = |k: &str| instance.tags.iter().find(|(key, _)| key.as_str() == k);
        assert_eq!(tag("CreatedBy").unwrap().1.as_str(), ALICE);
        assert_eq!(tag("CreatedByOrigin"), None, "no session chain in this run");
        assert_eq!(instance.creator.arn, ASG_ROLE);
        assert_eq!(instance.creator.responsible(), Some(ALICE));
        let json = serde_json::to_value(instance).unwrap();
        assert_eq!(json["creator"]["launched_by"]["launched_by"]["arn"], STACK);
        assert!(plan.items.iter().all(|i| i.arn != STACK), "never tagged");
        let stack = plan.untouched.iter().find(|i| i.arn == STACK).unwrap();
        assert!(stack.tags.is_empty());
    }

    /// A launch template's preset `CreatedBy` is the creator's word against
    /// the event's: judged by the trust rules, not overwritten.
    #[test]
    fn a_launch_templates_preset_creator_is_judged_not_overwritten() {
        let preset = launch().replace(
            r#"{"key":"aws:autoscaling:groupName""#,
            r#"{"key":"CreatedBy","value":"terraform"},{"key":"aws:autoscaling:groupName""#,
        );
        let plan = planned(&[preset, create_group(), create_stack()]);
        let instance = plan
            .items
            .iter()
            .chain(&plan.untouched)
            .find(|i| i.arn.ends_with("instance/i-0asg"))
            .unwrap();
        assert!(instance.kept.contains("CreatedBy"));
        assert!(!instance.tags.keys().any(|k| k.as_str() == "CreatedBy"));
        let m = &instance.mismatches[0];
        assert_eq!(
            (m.preset.as_str(), m.expected.as_str()),
            ("terraform", ALICE)
        );
        assert!(!m.corrected);
    }

    #[test]
    fn a_parent_from_an_earlier_run_comes_from_the_store_and_an_unknown_one_has_no_creator() {
        let all = creations(&[launch()]);
        let mut launches = Launches::of(&all);
        let group = "arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/web-asg";
        assert_eq!(launches.wanted(), BTreeSet::from([group.to_string()]));
        let unknown = launches.launched_by(&all[0]).unwrap();
        assert_eq!((unknown.arn.as_str(), unknown.creator), (group, None));
        let from_stack = LaunchedBy {
            arn: STACK.into(),
            creator: Some(ALICE.into()),
            launched_by: None,
        };
        launches.know(
            group.into(),
            Known {
                responsible: Some(ALICE.into()),
                launched_by: Some(from_stack.clone()),
            },
        );
        let by = launches.launched_by(&all[0]).unwrap();
        assert_eq!(by.creator.as_deref(), Some(ALICE));
        assert_eq!(by.launched_by.as_deref(), Some(&from_stack));
    }

    #[test]
    fn a_mark_a_caller_could_set_counts_only_from_the_marking_service() {
        let body = |id: &str| {
            format!(
                r#""eventSource":"autoscaling.amazonaws.com","eventName":"CreateAutoScalingGroup",
                  "requestParameters":{{"autoScalingGroupName":"{id}","tags":[
                    {{"key":"eks:cluster-name","value":"prod"}},{{"key":"eks:nodegroup-name","value":"ng1"}}]}},
                  "responseElements":null"#
            )
        };
        let eks = "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAmazonEKSNodegroup/EKS";
        let all = creations(&[
            record("2026-01-15T10:00:00Z", "a", eks, None, &body("eks-ng1")),
            record("2026-01-15T10:00:00Z", "b", ALICE, None, &body("forged")),
        ]);
        let (arn, prefix) = parent_of(&all[0]).unwrap();
        assert_eq!(
            arn,
            "arn:aws:eks:us-east-1:111122223333:nodegroup/prod/ng1/"
        );
        assert!(prefix);
        assert_eq!(
            parent_of(&all[1]),
            None,
            "alice's own eks: tags prove nothing"
        );
    }

    /// A group deleted and made again under its name by someone else: each
    /// launch belongs to the group that stood when it was made.
    #[test]
    fn each_launch_belongs_to_the_generation_of_its_group_that_stood_then() {
        let group_by = |time: &str, id: &str, who: &str| {
            record(
                time,
                id,
                who,
                None,
                r#""eventSource":"autoscaling.amazonaws.com","eventName":"CreateAutoScalingGroup",
                  "requestParameters":{"autoScalingGroupName":"web-asg"},"responseElements":null"#,
            )
        };
        let bob = "arn:aws:sts::111122223333:assumed-role/deploy/bob";
        let at = |time: &str, id: &str| {
            launch()
                .replace("2026-01-15T10:02:00Z", time)
                .replace("run-1", id)
        };
        let all = creations(&[
            at("2026-01-15T12:00:00Z", "run-late"),
            group_by("2026-01-15T11:00:00Z", "asg-bob", bob),
            at("2026-01-15T10:30:00Z", "run-early"),
            group_by("2026-01-15T10:00:00Z", "asg-alice", ALICE),
        ]);
        let launches = Launches::of(&all);
        let creator = |id: &str| {
            let c = all.iter().find(|c| c.event.id == id).unwrap();
            launches.launched_by(c).unwrap().creator
        };
        assert_eq!(creator("run-early").as_deref(), Some(ALICE));
        assert_eq!(creator("run-late").as_deref(), Some(bob));
    }

    /// CloudFormation working with a person's own credentials (no service
    /// role) leaves that person the creator: the stack's mark does not
    /// credit the stack's creator over them.
    #[test]
    fn a_stack_mark_counts_only_through_the_stacks_service_role() {
        let mallory = "arn:aws:sts::111122223333:assumed-role/admin/mallory";
        let body = format!(
            r#""eventSource":"sns.amazonaws.com","eventName":"CreateTopic",
              "requestParameters":{{"name":"t","tags":[{{"key":"aws:cloudformation:stack-id","value":"{STACK}"}}]}},
              "responseElements":{{"topicArn":"arn:aws:sns:us-east-1:111122223333:t"}}"#
        );
        let own = record(
            "2026-01-15T10:01:00Z",
            "t-1",
            mallory,
            Some("cloudformation.amazonaws.com"),
            &body,
        );
        let all = creations(&[own.clone(), create_stack()]);
        assert_eq!(parent_of(&all[0]), None);
        let plan = planned(&[own, create_stack()]);
        let topic = plan.items.iter().find(|i| i.arn.ends_with(":t")).unwrap();
        assert_eq!(topic.creator.responsible(), Some(mallory));
    }

    /// A group whose own parent is unknown answers for nothing: its
    /// service's role never does.
    #[test]
    fn a_launch_whose_parents_creator_is_unknown_names_no_one() {
        let plan = planned(&[launch(), create_group()]);
        let instance = plan
            .items
            .iter()
            .chain(&plan.untouched)
            .find(|i| i.arn.ends_with("instance/i-0asg"))
            .unwrap();
        let by = instance.creator.launched_by.as_ref().unwrap();
        assert_eq!(by.creator, None, "the group's stack was not seen: {by:?}");
        assert_eq!(instance.creator.responsible(), None);
        assert!(!instance.tags.keys().any(|k| k.as_str() == "CreatedBy"));
    }

    #[test]
    fn a_mark_naming_another_account_or_a_loop_of_marks_is_not_followed() {
        let other = "arn:aws:cloudformation:us-east-1:999999999999:stack/x/1";
        let bucket = |id: &str, stack: &str| {
            record(
                "2026-01-15T10:00:00Z",
                id,
                CFN_ROLE,
                Some("cloudformation.amazonaws.com"),
                &format!(
                    r#""eventSource":"cloudformation.amazonaws.com","eventName":"CreateStack",
                      "requestParameters":{{"stackName":"n","tags":[{{"key":"aws:cloudformation:stack-id","value":"{stack}"}}]}},
                      "responseElements":{{"stackId":"arn:aws:cloudformation:us-east-1:111122223333:stack/{id}/1"}}"#
                ),
            )
        };
        let a = "arn:aws:cloudformation:us-east-1:111122223333:stack/a/1";
        let b = "arn:aws:cloudformation:us-east-1:111122223333:stack/b/1";
        let all = creations(&[bucket("a", b), bucket("b", a), bucket("c", other)]);
        assert_eq!(parent_of(&all[2]), None);
        let launches = Launches::of(&all);
        // A parent is one made no later than its child: `b` (made after
        // `a`) cannot be `a`'s parent, so the loop the marks draw ends at
        // once; `b`'s parent `a` is found, and its own is not.
        let chain = |c: &Creation| {
            let mut depth = 0;
            let mut at = launches.launched_by(c);
            while let Some(l) = at {
                depth += 1;
                at = l.launched_by.map(|b| *b);
            }
            depth
        };
        assert_eq!(chain(&all[0]), 1);
        assert_eq!(launches.launched_by(&all[0]).unwrap().creator, None);
        assert_eq!(chain(&all[1]), 2);
    }
}
