//! The templates' parts that follow from the generated catalog rows: the
//! EventBridge rules that deliver their create and tag calls (split so that each
//! pattern stays under EventBridge's 2,048-character quota, and each to the
//! central bus, whose one rule the queue admits), and the managed policies
//! that grant their
//! services' tag actions (split under IAM's 6,144 characters). Written
//! from the catalog, so the two cannot drift: run with `TAGWARDEN_BLESS=1`
//! to rewrite them.

mod marked;

use marked::{blessed, Part};
use std::collections::{BTreeMap, BTreeSet};
use tagwarden_core::catalog::{generated, grants};

/// EventBridge's default quota on a pattern, in characters, less a margin
/// for the whitespace CloudFormation may keep.
const PATTERN_LIMIT: usize = 2048 - 128;
/// IAM's quota on a managed policy, in characters without whitespace, less
/// a margin for the `Fn::Sub` the account and partition expand to.
const POLICY_LIMIT: usize = 6144 - 512;

/// One rule's share of the generated events.
#[derive(Default, Clone)]
struct Group {
    sources: BTreeSet<&'static str>,
    names: BTreeSet<&'static str>,
}

impl Group {
    fn pattern_len(&self) -> usize {
        serde_json::json!({
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": self.sources,
                "eventName": self.names,
                "errorCode": [{"exists": false}],
            },
        })
        .to_string()
        .len()
    }
}

/// The events the hand-written rules of the central template match: each
/// rule matches every source it lists with every name it lists, so this is
/// more than the hand-written rows' events.
fn hand_events() -> BTreeSet<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/template.yaml");
    let t: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap_or_default();
        if r["Type"].as_str() != Some("AWS::Events::Rule") || name.starts_with("CatalogRule") {
            continue;
        }
        let detail = &r["Properties"]["EventPattern"]["detail"];
        let list = |k: &str| -> Vec<String> {
            detail[k]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        for s in list("eventSource") {
            for n in list("eventName") {
                out.insert((s.clone(), n));
            }
        }
    }
    assert!(!out.is_empty(), "no hand-written rule read");
    out
}

fn held(hand: &BTreeSet<(String, String)>, source: &str, name: &str) -> bool {
    hand.contains(&(source.to_string(), name.to_string()))
}

/// The generated rows' events, creations and tag calls.
fn generated_events() -> impl Iterator<Item = (&'static str, &'static str)> {
    generated::ENTRIES
        .iter()
        .map(|e| (e.source, e.name))
        .chain(generated::TAG_EVENTS.iter().map(|e| (e.source, e.name)))
}

/// The generated rows' events that no hand row already holds, packed by
/// source into as few rules as fit. A rule matches each of its sources with
/// each of its names, so a source the hand-written rules also carry gets
/// rules of its own: grouped with another source's names, it would match a
/// hand-held event a second time, and the function would get it twice.
fn groups() -> Vec<Group> {
    let hand = hand_events();
    let hand_sources: BTreeSet<&str> = hand.iter().map(|(s, _)| s.as_str()).collect();
    let mut by_source: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (source, name) in generated_events() {
        if !held(&hand, source, name) {
            by_source.entry(source).or_default().insert(name);
        }
    }
    let mut out: Vec<Group> = vec![];
    let mut shared = Group::default();
    for (source, names) in &by_source {
        if hand_sources.contains(source) {
            let mut own = Group::default();
            pack(&mut out, &mut own, source, names);
            out.push(own);
        } else {
            pack(&mut out, &mut shared, source, names);
        }
    }
    if !shared.sources.is_empty() {
        out.push(shared);
    }
    out
}

/// Adds a source and its names to `current`, first closing it into `out`
/// when the pattern would grow past the quota; a source whose names alone
/// overflow a rule gets several.
fn pack(
    out: &mut Vec<Group>,
    current: &mut Group,
    source: &'static str,
    names: &BTreeSet<&'static str>,
) {
    let mut with = current.clone();
    with.sources.insert(source);
    with.names.extend(names);
    if with.pattern_len() <= PATTERN_LIMIT {
        *current = with;
        return;
    }
    if !current.sources.is_empty() {
        out.push(std::mem::take(current));
    }
    for name in names {
        let mut with = current.clone();
        with.sources.insert(source);
        with.names.insert(name);
        if with.pattern_len() > PATTERN_LIMIT {
            out.push(std::mem::take(current));
            current.sources.insert(source);
            current.names.insert(name);
        } else {
            *current = with;
        }
    }
}

fn rule_name(n: usize) -> String {
    format!("CatalogRule{n:02}")
}

/// The rules, for the central stack (to the queue) or a regional one (to
/// the central bus).
fn rules(regional: bool) -> String {
    let groups = groups();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        let n = i + 1;
        out.push_str(&format!(
            "  {}:\n    Type: AWS::Events::Rule\n",
            rule_name(n)
        ));
        if regional {
            out.push_str("    Condition: Forwards\n");
        }
        out.push_str(&format!(
            "    Properties:\n      Name: !Sub \"tagwarden-catalog-{n:02}-${{EnvironmentSuffix}}\"\n      \
             Description: Generated catalog rows' create and tag calls, part {n} of {}.\n      \
             EventPattern:\n        detail-type: [AWS API Call via CloudTrail]\n        detail:\n          \
             eventSource:\n",
            groups.len()
        ));
        for s in &g.sources {
            out.push_str(&format!("            - {s}\n"));
        }
        out.push_str("          eventName:\n");
        for name in &g.names {
            out.push_str(&format!("            - {name}\n"));
        }
        out.push_str("          errorCode: [{exists: false}]\n      Targets:\n");
        if regional {
            out.push_str(
                "        - Id: central\n          Arn: !Sub \"arn:${AWS::Partition}:events:${HomeRegion}:\
                 ${CentralAccountId}:event-bus/tagwarden-${EnvironmentSuffix}\"\n          \
                 RoleArn: !GetAtt ForwardRole.Arn\n",
            );
        } else {
            // Through the central bus, whose rule feeds the queue: the
            // queue's policy names that one rule (an SQS policy holds 8 KiB).
            out.push_str(
                "        - Id: central\n          Arn: !GetAtt EventBus.Arn\n          \
                 RoleArn: !GetAtt CatalogForwardRole.Arn\n",
            );
        }
        out.push('\n');
    }
    out
}

/// The generated services' tag actions that the hand-written grants do not
/// already hold, packed into policies that fit.
fn action_groups() -> Vec<Vec<String>> {
    let hand: BTreeSet<&str> = grants::TAG_ACTIONS
        .iter()
        .flat_map(|(_, actions)| actions.iter().copied())
        .collect();
    let actions: BTreeSet<String> = generated::TAG_CALLS
        .iter()
        .map(|(prefix, tag, _)| format!("{prefix}:{tag}"))
        .filter(|a| !hand.contains(a.as_str()))
        .collect();
    let statement_len = |actions: &[String]| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TagOnlyPolicyKeys", "Effect": "Allow", "Action": actions,
                "Resource": "arn:${AWS::Partition}:*:*:${AWS::AccountId}:*",
                "Condition": {
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["k"]},
                    "Null": {"aws:TagKeys": "false"},
                },
            }],
        })
        .to_string()
        .len()
    };
    let mut out: Vec<Vec<String>> = vec![vec![]];
    for a in actions {
        let last = out.last_mut().unwrap();
        last.push(a);
        if statement_len(last) > POLICY_LIMIT {
            let a = last.pop().unwrap();
            out.push(vec![a]);
        }
    }
    out
}

/// Managed policies on `role` granting the generated services' tag actions,
/// on this account's resources and only with the policy's keys, as the
/// hand-written `TagOnlyPolicyKeys` statement does.
/// `name` is the policies' name before their number, as a `!Sub` string.
fn tag_grants(role: &str, name: &str) -> String {
    let groups = action_groups();
    let mut out = String::new();
    for (i, actions) in groups.iter().enumerate() {
        let n = i + 1;
        out.push_str(&format!(
            "  CatalogTagGrants{n}:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      \
             ManagedPolicyName: !Sub \"{name}-catalog-tags-{n}\"\n      \
             Description: The generated catalog rows' tag actions, part {n} of {}, only with the policy's keys.\n      \
             Roles: [!Ref {role}]\n      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          \
             - Sid: TagOnlyPolicyKeys\n            Effect: Allow\n            Action:\n",
            groups.len()
        ));
        for a in actions {
            out.push_str(&format!("              - {a}\n"));
        }
        out.push_str(
            "            Resource:\n              - !Sub \"arn:${AWS::Partition}:*:*:${AWS::AccountId}:*\"\n            \
             Condition:\n              ForAllValues:StringEquals:\n                aws:TagKeys: !Ref TagKeys\n              \
             \"Null\":\n                aws:TagKeys: \"false\"\n\n",
        );
    }
    out
}

/// Checks (or, blessed, rewrites) every part of one template marked
/// `# >>> catalog: <part>` … `# <<< catalog: <part>`.
fn check(file: &str, parts: &[(&str, String)]) {
    let parts: Vec<Part> = parts
        .iter()
        .map(|(part, want)| Part {
            start: format!("# >>> catalog: {part} (generated from the event catalog by crates/core/tests/deploy_catalog.rs)\n"),
            end: format!("# <<< catalog: {part}"),
            want: want.clone(),
        })
        .collect();
    blessed(&format!("deploy/{file}"), &parts);
}

#[test]
fn the_central_template_holds_the_generated_rules_and_grants() {
    check(
        "template.yaml",
        &[
            ("rules", rules(false)),
            (
                "tag grants",
                tag_grants("FunctionRole", "tagwarden-${EnvironmentSuffix}"),
            ),
        ],
    );
}

#[test]
fn the_regional_template_forwards_the_generated_rules() {
    check("regional.yaml", &[("rules", rules(true))]);
}

#[test]
fn the_member_role_holds_the_generated_grants() {
    check(
        "member-role.yaml",
        &[("tag grants", tag_grants("MemberRole", "${RoleName}"))],
    );
}

#[test]
fn every_generated_event_is_in_one_rule_within_the_pattern_quota() {
    let groups = groups();
    let mut seen = BTreeSet::new();
    for g in &groups {
        assert!(g.pattern_len() <= PATTERN_LIMIT);
        for s in &g.sources {
            for n in &g.names {
                seen.insert((*s, *n));
            }
        }
    }
    let hand = hand_events();
    for (source, name) in generated_events() {
        assert!(
            held(&hand, source, name) || seen.contains(&(source, name)),
            "{source}/{name} is in no rule"
        );
    }
    // Delivered once: no generated rule also matches a hand-held event (the
    // hand-written rules carry those), and no event is in two rules.
    let mut matched = BTreeSet::new();
    for g in &groups {
        for s in &g.sources {
            for n in &g.names {
                assert!(!held(&hand, s, n), "{s}/{n} is matched twice");
                assert!(matched.insert((*s, *n)), "{s}/{n} is in two rules");
            }
        }
    }
    // A handful of rules, far below the 300 a bus may hold.
    assert!(groups.len() < 40, "{} rules", groups.len());
}
