//! Session chains: the credential-issuing records of a run, indexed by the
//! key each issued, so that a creation's key leads back, hop by hop, to
//! whoever began the chain (design.md, "The person behind the role"). The
//! index is complete before any creation is resolved, so the order of
//! files and records does not matter.

use crate::attribution::IdentityType;
use crate::catalog::sessions::{
    console_key, is_console_key, Issued, Principal, SWITCH_SKEW_SECONDS,
};
use crate::pipeline::Creation;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Hops followed at most: a chain longer than any real one (role chaining
/// allows a handful) ends here, and a loop cannot hang the run.
pub const MAX_HOPS: usize = 32;

/// Who began a session chain, and through which sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: IdentityType,
    pub name: Option<String>,
    pub provider: Option<String>,
    /// Each hop's session, from the origin to the creating call's.
    pub via: Vec<String>,
}

impl Origin {
    /// The `{creator.origin}` policy variable: the ARN, else
    /// `name@provider`, else the name.
    pub fn render(&self) -> Option<String> {
        match (&self.arn, &self.name, &self.provider) {
            (Some(arn), ..) => Some(arn.clone()),
            (None, Some(name), Some(provider)) => Some(format!("{name}@{provider}")),
            (None, Some(name), None) => Some(name.clone()),
            _ => None,
        }
    }
}

/// An IAM Identity Center user, as CloudTrail names one: by an id in an
/// identity store (`userIdentity.onBehalfOf`), which the store can name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CenterUser {
    pub user_id: String,
    /// `arn:aws:identitystore::<account>:identitystore/<d-…>`.
    pub store_arn: String,
}

impl CenterUser {
    /// The identity store's id (`d-…`), which `DescribeUser` takes.
    pub fn store_id(&self) -> Option<&str> {
        self.store_arn
            .rsplit_once(":identitystore/")
            .map(|(_, id)| id)
            .filter(|id| !id.is_empty() && !id.contains('/'))
    }
}

/// Issued keys, each with what issued it.
#[derive(Debug, Default, Clone)]
pub struct Chains {
    /// Identity Center users' names, by user id, as the identity store
    /// gave them.
    users: HashMap<String, String>,
    by_key: HashMap<String, Issued>,
    /// Console role switches, by the session each began: every one is
    /// kept, as the same session name recurs day after day.
    switches: HashMap<String, Vec<Issued>>,
}

/// A creation's way back: its key, or for a console call with none
/// that leads anywhere, the console switch that began its session.
#[derive(Debug, Clone, Copy)]
pub struct Call<'c> {
    pub key: Option<&'c str>,
    /// The session's ARN and when it was created (Unix seconds), for a
    /// call made from the console by an assumed role.
    pub console: Option<(&'c str, i64)>,
    /// The Identity Center user the call was made for, and the session
    /// it was made in (an assumed role's, when it is one).
    pub center_user: Option<(&'c CenterUser, Option<&'c str>)>,
}

impl<'c> Call<'c> {
    pub fn of(creation: &'c Creation) -> Self {
        let session = Some(creation.creator.id.as_str()).filter(|a| a.contains(":assumed-role/"));
        let console = session
            .filter(|_| creation.console)
            .zip(creation.session_created);
        Call {
            key: creation.access_key.as_deref(),
            console,
            center_user: creation.center_user.as_ref().map(|u| (u, session)),
        }
    }
}

impl Chains {
    pub fn add(&mut self, issued: Issued) {
        if is_console_key(&issued.key) {
            // A switch names its session; one that does not (a damaged
            // stored row) explains nothing.
            if let Some(session) = issued.session.clone() {
                let held = self.switches.entry(session).or_default();
                if !held.contains(&issued) {
                    held.push(issued);
                }
            }
            return;
        }
        self.by_key.insert(issued.key.clone(), issued);
    }

    pub fn len(&self) -> usize {
        self.by_key.len() + self.switches.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every hop held.
    pub fn hops(&self) -> impl Iterator<Item = &Issued> {
        self.by_key.values().chain(self.switches.values().flatten())
    }

    /// The console switch that began `session`, created at `created`:
    /// the one session of that name begun at that moment. Two switches,
    /// or a switch and any other session of that name the run saw begin
    /// by someone else (who chose the name and signed in to the console
    /// with it) are ambiguous, and name no one.
    fn switch(&self, session: &str, created: i64) -> Option<&Issued> {
        let near = |h: &&Issued| {
            h.issued_at
                .is_some_and(|t| t.abs_diff(created) <= SWITCH_SKEW_SECONDS.unsigned_abs())
        };
        let mut at = self.switches.get(session)?.iter().filter(near);
        let one = match (at.next(), at.next()) {
            (Some(one), None) => one,
            _ => return None,
        };
        let rival = self
            .by_key
            .values()
            .filter(|h| h.session.as_deref() == Some(session) && h.asker.arn != one.asker.arn)
            .any(|h| near(&h));
        (!rival).then_some(one)
    }

    /// Names an Identity Center user, as the identity store did.
    pub fn name_user(&mut self, user_id: &str, name: &str) {
        self.users.insert(user_id.to_string(), name.to_string());
    }

    /// The Identity Center users `creations` were made for that no name
    /// is known for, each once.
    pub fn unnamed_users<'c>(&self, creations: &'c [Creation]) -> Vec<&'c CenterUser> {
        let mut users: Vec<&CenterUser> = creations
            .iter()
            .filter_map(|c| c.center_user.as_ref())
            .filter(|u| !self.users.contains_key(&u.user_id))
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// What to ask a store that kept earlier hops for `call`: the first
    /// unknown key on its way back, and the console switch of its
    /// session when none is known.
    pub fn wanted(&self, call: Call<'_>) -> Vec<String> {
        let mut wanted = Vec::new();
        if let Some(key) = call.key.and_then(|k| self.first_unknown(k)) {
            wanted.push(key.to_string());
        }
        // Every switch of the window is asked for, found here or not: a
        // second one held only in the store makes the first ambiguous.
        if let (Some((session, created)), None) = (call.console, call.center_user) {
            if self.origin(call.key).is_none() {
                let window = created - SWITCH_SKEW_SECONDS..=created + SWITCH_SKEW_SECONDS;
                wanted.extend(window.map(|at| console_key(session, at)));
            }
        }
        wanted
    }

    /// Who began the session behind `call`. An Identity Center user the
    /// call was made for comes first: AWS writes it from Identity Center's
    /// signed assertion, where a key's chain may stop at the application
    /// that asked for the session (its hops stay in `via`). Then the key's
    /// chain, when a hop of the run issued the key. Then, for a console
    /// call, the console switch that began its session: matched by the
    /// session's ARN, which anyone may name, and its creation time, which
    /// only AWS writes.
    pub fn origin_of(&self, call: Call<'_>) -> Option<Origin> {
        let chain = self.origin(call.key);
        if let Some((user, session)) = call.center_user {
            let via = match &chain {
                Some(chain) => chain.via.clone(),
                None => session.map(str::to_string).into_iter().collect(),
            };
            return Some(Origin {
                arn: None,
                kind: IdentityType::IdentityCenterUser,
                name: Some(
                    self.users
                        .get(&user.user_id)
                        .cloned()
                        .unwrap_or_else(|| user.user_id.clone()),
                ),
                provider: Some(user.store_arn.clone()),
                via,
            });
        }
        if chain.is_some() {
            return chain;
        }
        let (session, created) = call.console?;
        let switch = self.switch(session, created)?;
        let Principal {
            arn,
            kind,
            name,
            provider,
        } = switch.asker.clone();
        Some(Origin {
            arn,
            kind,
            name,
            provider,
            via: vec![session.to_string()],
        })
    }

    /// The first key on the way back from `key` that no hop held issued,
    /// when it could have been issued (temporary keys, `ASIA…`; a
    /// long-term key begins its own chain): what to ask a store that kept
    /// earlier hops.
    pub fn first_unknown<'k>(&'k self, key: &'k str) -> Option<&'k str> {
        let mut key = key;
        for _ in 0..MAX_HOPS {
            match self.by_key.get(key) {
                None => return key.starts_with("ASIA").then_some(key),
                Some(issued) => match issued.asker_key.as_deref() {
                    Some(next) if next != key => key = next,
                    _ => return None,
                },
            }
        }
        None
    }

    /// Who began the chain behind a call made with `key`; `None` when no
    /// record of the run issued that key (the call's identity is its own
    /// origin).
    pub fn origin(&self, key: Option<&str>) -> Option<Origin> {
        let mut key = key?;
        let mut via = Vec::new();
        let mut first: Option<&Issued> = None;
        for _ in 0..MAX_HOPS {
            let Some(issued) = self.by_key.get(key) else {
                break;
            };
            via.push(issued.session.clone().unwrap_or_else(|| issued.key.clone()));
            first = Some(issued);
            match issued.asker_key.as_deref() {
                Some(next) if next != key => key = next,
                _ => break,
            }
        }
        let Principal {
            arn,
            kind,
            name,
            provider,
        } = first?.asker.clone();
        via.reverse();
        Some(Origin {
            arn,
            kind,
            name,
            provider,
            via,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::sessions::lookup;
    use crate::record::Record;
    use std::collections::BTreeMap;

    fn issued(name: &str, record: &str) -> Issued {
        let e = lookup(b"sts.amazonaws.com", name.as_bytes()).unwrap();
        e.issued(&Record::parse(record.as_bytes()).unwrap())
            .unwrap()
            .unwrap()
    }

    /// stratus-red-team's `aws.execution.ec2-launch-unusual-instances.json`:
    /// an IAM user assumes the role whose session then calls RunInstances.
    const STRATUS_ASSUME_ROLE: &str = r#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole",
        "userIdentity":{"accessKeyId":"AKIAR7ISFR69YWROPYAN","accountId":"900138736586","arn":"arn:aws:iam::900138736586:user/christophe","principalId":"AIDA32NEE582826ECMV4","type":"IAMUser","userName":"christophe"},
        "requestParameters":{"durationSeconds":900,"roleArn":"arn:aws:iam::900138736586:role/stratus-red-team-ec2lui-role-idtzskbvtd","roleSessionName":"aws-go-sdk-1722511821294449000"},
        "responseElements":{"assumedRoleUser":{"arn":"arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000","assumedRoleId":"AROA13YEHY3VAS32TD341:aws-go-sdk-1722511821294449000"},
            "credentials":{"accessKeyId":"ASIA9F6MXE9HSYOXYQOS","expiration":"Aug 1, 2024, 11:45:22 AM"}},"readOnly":true}"#;

    #[test]
    fn one_hop_leads_to_the_user_who_assumed_the_role() {
        let mut c = Chains::default();
        c.add(issued("AssumeRole", STRATUS_ASSUME_ROLE));
        let o = c.origin(Some("ASIA9F6MXE9HSYOXYQOS")).unwrap();
        assert_eq!(
            o.arn.as_deref(),
            Some("arn:aws:iam::900138736586:user/christophe")
        );
        assert_eq!(o.kind, IdentityType::IAMUser);
        assert_eq!(o.via, ["arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000"]);
        // A key no record of the run issued: the call is its own origin.
        assert_eq!(c.origin(Some("AKIAR7ISFR69YWROPYAN")), None);
        assert_eq!(c.origin(None), None);
    }

    #[test]
    fn a_chain_of_roles_leads_back_to_the_federated_user_who_began_it() {
        let mut c = Chains::default();
        // Added in any order: the index is read only once complete.
        c.add(issued(
            "AssumeRole",
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/deploy/alice","accessKeyId":"ASIADEPLOY"},
               "responseElements":{"credentials":{"accessKeyId":"ASIACI"},"assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/ci/ci-run-42"}}}"#,
        ));
        c.add(issued(
            "AssumeRoleWithWebIdentity",
            r#"{"userIdentity":{"type":"WebIdentityUser","principalId":"x","userName":"repo:org/app:ref:refs/heads/main","identityProvider":"token.actions.githubusercontent.com"},
               "responseElements":{"subjectFromWebIdentityToken":"repo:org/app:ref:refs/heads/main","provider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
                 "credentials":{"accessKeyId":"ASIADEPLOY"},"assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/deploy/alice"}}}"#,
        ));
        let o = c.origin(Some("ASIACI")).unwrap();
        assert_eq!(o.arn, None);
        assert_eq!(o.kind, IdentityType::WebIdentityUser);
        assert_eq!(
            o.render().as_deref(),
            Some("repo:org/app:ref:refs/heads/main@arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com")
        );
        assert_eq!(
            o.via,
            [
                "arn:aws:sts::1:assumed-role/deploy/alice",
                "arn:aws:sts::1:assumed-role/ci/ci-run-42"
            ]
        );
    }

    /// The creation is read before the session that explains it, as
    /// happens across log files: the plan still names the user.
    #[test]
    fn a_run_plans_the_origin_and_its_policy_variables_whatever_the_order() {
        use crate::pipeline::{read_all, Found};
        use crate::plan::Planner;
        use crate::policy::Policy;
        let run_instances = r#"{"eventVersion":"1.09","eventTime":"2024-08-01T11:30:30Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances",
            "awsRegion":"us-east-1","eventID":"run-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"900138736586",
            "userIdentity":{"accessKeyId":"ASIA9F6MXE9HSYOXYQOS","accountId":"900138736586","type":"AssumedRole",
              "arn":"arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000",
              "sessionContext":{"sourceIdentity":"christophe@example.com"}},
            "requestParameters":{},"responseElements":{"instancesSet":{"items":[{"instanceId":"i-0abc"}]}}}"#;
        let assume = STRATUS_ASSUME_ROLE
            .replace("\"readOnly\":true", r#""readOnly":true,"eventVersion":"1.08","eventTime":"2024-08-01T11:30:22Z","awsRegion":"us-east-1","eventID":"sts-1","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"900138736586""#);
        let log = format!(r#"{{"Records":[{run_instances},{assume}]}}"#);
        let (found, stats) = read_all("log", log.as_bytes());
        assert_eq!((stats.creations, stats.sessions), (1, 1), "{found:?}");
        let mut chains = Chains::default();
        let mut creations = Vec::new();
        for f in found {
            match f {
                Found::Session(s) => {
                    // The narrow parse keeps the expiry: how long a store
                    // keeps the hop.
                    assert_eq!(s.issued.expires, Some(1_722_512_722));
                    chains.add(s.issued)
                }
                Found::Creation(c) => creations.push(*c),
                other => panic!("{other:?}"),
            }
        }
        let policy = Policy::from_yaml(
            "attribution:\n  tags:\n    CreatedBy: \"{creator.responsible}\"\n    CreatedByOrigin: \"{creator.origin}\"\n    SourceIdentity: \"{creator.source_identity}\"\n",
        )
        .unwrap();
        let mut planner = Planner::new(&policy).with_chains(&chains);
        planner.add(&creations[0]);
        let plan = planner.finish();
        let item = &plan.items[0];
        let christophe = "arn:aws:iam::900138736586:user/christophe";
        assert_eq!(
            item.creator.origin.as_ref().unwrap().arn.as_deref(),
            Some(christophe)
        );
        assert_eq!(
            item.creator.source_identity.as_deref(),
            Some("christophe@example.com")
        );
        let tag = |k: &str| {
            item.tags
                .iter()
                .find(|(key, _)| key.as_str() == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(tag("CreatedByOrigin"), Some(christophe));
        assert_eq!(tag("SourceIdentity"), Some("christophe@example.com"));
        assert!(tag("CreatedBy").unwrap().contains(":assumed-role/"));
    }

    /// A service asking credentials for its own role begins no person's
    /// chain: skipped before it is parsed, as the function's rule leaves
    /// it out.
    #[test]
    fn a_services_own_session_is_skipped_unparsed() {
        use crate::pipeline::{read_all, SkipReason};
        let record = r#"{"eventVersion":"1.08","eventTime":"2024-08-01T11:30:22Z","eventSource":"sts.amazonaws.com",
            "eventName":"AssumeRole","awsRegion":"us-east-1","eventID":"svc-1","readOnly":true,"eventType":"AwsApiCall",
            "managementEvent":true,"recipientAccountId":"900138736586",
            "userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com"},
            "responseElements":{"credentials":{"accessKeyId":"ASIASERVICE"}}}"#
            .replace(['\n', ' '], "");
        let (found, stats) = read_all("log", format!(r#"{{"Records":[{record}]}}"#).as_bytes());
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(stats.sessions, 0);
        assert_eq!(stats.skipped[&SkipReason::ServiceSession], 1);
    }

    /// The creations `log` made, planned with the hops it issued.
    fn planned(log: &str) -> Vec<crate::plan::PlanItem> {
        use crate::pipeline::{read_all, Found};
        use crate::plan::Planner;
        use crate::policy::Policy;
        let (found, _) = read_all("log", format!(r#"{{"Records":[{log}]}}"#).as_bytes());
        let mut chains = Chains::default();
        let mut creations = Vec::new();
        for f in found {
            match f {
                Found::Session(s) => chains.add(s.issued),
                Found::Creation(c) => creations.push(*c),
                other => panic!("{other:?}"),
            }
        }
        let policy = Policy::default_policy();
        let mut planner = Planner::new(&policy).with_chains(&chains);
        for c in &creations {
            planner.add(c);
        }
        planner.finish().items
    }

    const HEAD: &str = r#""eventVersion":"1.08","awsRegion":"us-east-1","managementEvent":true,"recipientAccountId":"111122223333""#;

    fn switch_role(time: &str, id: &str, outcome: &str) -> String {
        format!(
            r#"{{{HEAD},"eventTime":"{time}","eventID":"{id}","eventSource":"signin.amazonaws.com","eventName":"SwitchRole","eventType":"AwsConsoleSignIn",
            "userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333"}},
            "requestParameters":null,"responseElements":{{"SwitchRole":"{outcome}"}},
            "additionalEventData":{{"SwitchFrom":"arn:aws:iam::444455556666:user/alice","RedirectTo":"https://console.aws.amazon.com/"}}}}"#
        )
    }

    /// A bucket made by the `Admin/alice` session created at `created`,
    /// with `key`.
    fn bucket_by(id: &str, created: &str, key: &str, console: bool) -> String {
        format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:40:00Z","eventID":"{id}","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","eventType":"AwsApiCall","readOnly":false,
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333","accessKeyId":"{key}",
              "sessionContext":{{"attributes":{{"creationDate":"{created}","mfaAuthenticated":"false"}}}}}},
            "requestParameters":{{"bucketName":"b-{id}"}},"responseElements":null,"sessionCredentialFromConsole":"{console}",
            "additionalEventData":"not an object: never a reason to refuse a creation"}}"#
        )
    }

    fn origins(log: &[String]) -> BTreeMap<String, Option<Origin>> {
        planned(&log.join(","))
            .into_iter()
            .map(|i| {
                (
                    i.arn.rsplit(':').next().unwrap().to_string(),
                    i.creator.origin.clone(),
                )
            })
            .collect()
    }

    /// A console role switch names who switched but issues no key in the
    /// trail. A console call belongs to it when its session was created
    /// at the switch: the session's name is anyone's to choose (a role
    /// session named `alice`, an `alice` of another account), its
    /// creation time is AWS's. Whatever the order of the records.
    #[test]
    fn a_console_role_switch_explains_the_console_calls_of_its_own_session() {
        let got = origins(&[
            bucket_by("alices", "2026-11-20T10:00:01Z", "ASIACONSOLEA", true),
            bucket_by("by-api", "2026-11-20T10:00:01Z", "ASIACONSOLEA", false),
            // Mallory's own session, named `alice`, opened in the console.
            bucket_by("mallorys", "2026-11-20T10:05:00Z", "ASIACONSOLEM", true),
            switch_role("2026-11-20T10:00:00Z", "switch-1", "Success"),
            // Failed switches carry no errorCode: skipped, not refused.
            switch_role("2026-11-20T10:05:00Z", "switch-2", "Failure"),
        ]);
        let o = got["b-alices"].clone().expect("the switch explains it");
        assert_eq!(
            o.arn.as_deref(),
            Some("arn:aws:iam::444455556666:user/alice")
        );
        assert_eq!(o.kind, IdentityType::IAMUser);
        assert_eq!(
            o.via,
            ["arn:aws:sts::111122223333:assumed-role/Admin/alice"]
        );
        assert_eq!(got["b-by-api"], None);
        assert_eq!(got["b-mallorys"], None);
        let (_, stats) = crate::pipeline::read_all(
            "log",
            format!(
                r#"{{"Records":[{}]}}"#,
                switch_role("2026-11-20T10:05:00Z", "s", "Failure")
            )
            .as_bytes(),
        );
        assert_eq!(stats.skipped[&crate::pipeline::SkipReason::NoSession], 1);
        assert_eq!(stats.errors, 0);
    }

    /// Two switches into one session name within the skew: which one a
    /// call belongs to is unknowable, so it names no one.
    #[test]
    fn two_switches_at_once_name_no_one() {
        let got = origins(&[
            switch_role("2026-11-20T10:00:00Z", "switch-1", "Success"),
            switch_role("2026-11-20T10:00:06Z", "switch-2", "Success"),
            bucket_by("x", "2026-11-20T10:00:03Z", "ASIACONSOLEA", true),
        ]);
        assert_eq!(got["b-x"], None);
    }

    /// Someone else who chose the same session name and began a session
    /// at the moment of the switch makes it ambiguous: no one is named.
    #[test]
    fn a_rival_session_of_the_same_name_and_moment_names_no_one() {
        let assume = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:00:02Z","eventID":"sts-m","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsApiCall","readOnly":true,
            "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accessKeyId":"AKIAMALLORY"}},
            "requestParameters":{{"roleSessionName":"alice"}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIAMALLORYAPI"}},"assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice"}}}}}}"#
        );
        let got = origins(&[
            switch_role("2026-11-20T10:00:00Z", "switch-1", "Success"),
            assume,
            // Her console session's key is one no record issued.
            bucket_by("x", "2026-11-20T10:00:02Z", "ASIAMALLORYCONSOLE", true),
        ]);
        assert_eq!(got["b-x"], None);
    }

    /// A key's chain is the evidence: it wins over a switch, even one of
    /// the same session name and moment.
    #[test]
    fn a_keys_chain_comes_before_a_console_switch() {
        let assume = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:00:00Z","eventID":"sts-1","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsApiCall","readOnly":true,
            "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accessKeyId":"AKIAMALLORY"}},
            "requestParameters":{{"roleSessionName":"alice"}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIACONSOLEM"}},"assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice"}}}}}}"#
        );
        let got = origins(&[
            switch_role("2026-11-20T10:00:00Z", "switch-1", "Success"),
            assume,
            bucket_by("x", "2026-11-20T10:00:00Z", "ASIACONSOLEM", true),
        ]);
        let o = got["b-x"].clone().unwrap();
        assert_eq!(
            o.arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/mallory")
        );
    }

    fn roles_anywhere(invoked_by: &str, tags: &str) -> String {
        format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:00:00Z","eventID":"ra-{invoked_by}","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsApiCall","readOnly":true,
            "userIdentity":{{"type":"AWSService","invokedBy":"{invoked_by}"}},
            "requestParameters":{{"roleArn":"arn:aws:iam::111122223333:role/rolesanywhere.amazonaws.com","roleSessionName":"5b2f0e1a","sourceIdentity":"CN=build-host-7","tags":{tags}}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIAX509","expiration":"Nov 20, 2026, 11:00:00 AM"}},"assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a"}}}}}}"#
        )
    }

    fn x509_bucket() -> String {
        format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:10:00Z","eventID":"cb-1","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","eventType":"AwsApiCall","readOnly":false,
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a","accessKeyId":"ASIAX509",
              "sessionContext":{{"sourceIdentity":"CN=build-host-7"}}}},
            "requestParameters":{{"bucketName":"ra-bucket"}},"responseElements":null}}"#
        )
    }

    /// IAM Roles Anywhere assumes the role itself, as a service, and sets
    /// the session's source identity to the certificate's subject: that
    /// session is read, not skipped with the other services' own, and
    /// names the CA that vouches for the subject.
    #[test]
    fn a_roles_anywhere_session_begins_with_its_certificate() {
        let tags = r#"[{"key":"x509Subject/CN","value":"build-host-7"},{"key":"x509Issuer/CN","value":"Corp Root CA"}]"#;
        let items = planned(&format!(
            "{},{}",
            x509_bucket(),
            roles_anywhere("rolesanywhere.amazonaws.com", tags)
        ));
        let o = items[0].creator.origin.clone().unwrap();
        assert_eq!(o.arn, None);
        assert_eq!(o.kind.as_str(), "X509Certificate");
        assert_eq!(o.name.as_deref(), Some("CN=build-host-7"));
        assert_eq!(
            o.provider.as_deref(),
            Some("rolesanywhere.amazonaws.com/issuer/CN=Corp Root CA")
        );
        assert_eq!(
            o.via,
            ["arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a"]
        );
        // Another service's own session, whose role is named after Roles
        // Anywhere: read past the hint, and skipped on its parsed identity.
        let (found, stats) = crate::pipeline::read_all(
            "log",
            format!(
                r#"{{"Records":[{}]}}"#,
                roles_anywhere("ec2.amazonaws.com", "[]")
            )
            .as_bytes(),
        );
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(
            stats.skipped[&crate::pipeline::SkipReason::ServiceSession],
            1
        );
        // Past the hint too, the parsed identity decides.
        let other = roles_anywhere("ec2.amazonaws.com", "[]");
        let row = lookup(b"sts.amazonaws.com", b"AssumeRole").unwrap();
        assert_eq!(
            row.issued(&Record::parse(other.as_bytes()).unwrap()),
            Ok(None)
        );
        // No issuer tag: the issuer is said to be unknown.
        let items = planned(&format!(
            "{},{}",
            x509_bucket(),
            roles_anywhere("rolesanywhere.amazonaws.com", "[]")
        ));
        let o = items[0].creator.origin.clone().unwrap();
        assert_eq!(
            o.provider.as_deref(),
            Some("rolesanywhere.amazonaws.com/issuer/unknown")
        );
    }

    /// An identity-enhanced session: AWS writes the Identity Center user
    /// the call was made for. The origin names that user, by the name
    /// the identity store gives once asked, by the id until then.
    #[test]
    fn an_identity_center_user_is_the_origin_and_named_once_known() {
        use crate::pipeline::{read_all, Found};
        use crate::plan::Planner;
        use crate::policy::Policy;
        let record = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:10:00Z","eventID":"ic-1","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","eventType":"AwsApiCall","readOnly":false,
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/QBusinessApp/session-1","accountId":"111122223333","accessKeyId":"ASIAAPP",
              "onBehalfOf":{{"userId":"94482488-3041-7026-18f3-be45837cd0e4","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-9067c4e1a2"}}}},
            "requestParameters":{{"bucketName":"ic-bucket"}},"responseElements":null}}"#
        );
        let (found, _) = read_all("log", format!(r#"{{"Records":[{record}]}}"#).as_bytes());
        let creations: Vec<Creation> = found
            .into_iter()
            .filter_map(|f| match f {
                Found::Creation(c) => Some(*c),
                _ => None,
            })
            .collect();
        let mut chains = Chains::default();
        let users = chains.unnamed_users(&creations);
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].store_id(), Some("d-9067c4e1a2"));
        let policy = Policy::default_policy();
        let origin = |chains: &Chains| {
            let mut planner = Planner::new(&policy).with_chains(chains);
            planner.add(&creations[0]);
            planner.finish().items[0].creator.origin.clone().unwrap()
        };
        let o = origin(&chains);
        assert_eq!(o.kind, IdentityType::IdentityCenterUser);
        assert_eq!(
            o.name.as_deref(),
            Some("94482488-3041-7026-18f3-be45837cd0e4")
        );
        assert_eq!(
            o.via,
            ["arn:aws:sts::111122223333:assumed-role/QBusinessApp/session-1"]
        );
        chains.name_user("94482488-3041-7026-18f3-be45837cd0e4", "jane@example.com");
        assert!(chains.unnamed_users(&creations).is_empty());
        assert_eq!(
            origin(&chains).render().as_deref(),
            Some("jane@example.com@arn:aws:identitystore::111122223333:identitystore/d-9067c4e1a2")
        );
    }

    #[test]
    fn a_loop_of_keys_ends() {
        let mut c = Chains::default();
        c.add(issued(
            "AssumeRole",
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/a/x","accessKeyId":"K2"},
               "responseElements":{"credentials":{"accessKeyId":"K1"}}}"#,
        ));
        c.add(issued(
            "AssumeRole",
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/b/y","accessKeyId":"K1"},
               "responseElements":{"credentials":{"accessKeyId":"K2"}}}"#,
        ));
        let o = c.origin(Some("K1")).unwrap();
        assert_eq!(o.via.len(), MAX_HOPS);
    }
}
