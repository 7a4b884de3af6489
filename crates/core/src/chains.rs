//! Session chains: the credential-issuing records of a run, indexed by the
//! key each issued, so that a creation's key leads back, hop by hop, to
//! whoever began the chain (design.md, "The person behind the role"). The
//! index is complete before any creation is resolved, so the order of
//! files and records does not matter.

use crate::attribution::IdentityType;
use crate::catalog::sessions::{console_key, is_console_key, Issued, Principal};
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
    /// Console role switches, by [`console_key`]: every one is kept, as
    /// the same session name recurs day after day, and a call belongs to
    /// the switch of its own hour.
    switches: HashMap<String, Vec<Issued>>,
}

/// A creation's way back: its key, or for a console call with none
/// that leads anywhere, the console switch that began its session.
#[derive(Debug, Clone, Copy)]
pub struct Call<'c> {
    pub key: Option<&'c str>,
    /// The session's ARN and the call's time (Unix seconds), for a call
    /// made from the console by an assumed role.
    pub console: Option<(&'c str, i64)>,
    /// The Identity Center user the call was made for, and the session
    /// it was made in (an assumed role's, when it is one).
    pub center_user: Option<(&'c CenterUser, Option<&'c str>)>,
}

impl<'c> Call<'c> {
    pub fn of(creation: &'c Creation) -> Self {
        let console = creation
            .console
            .then_some(creation.creator.id.as_str())
            .filter(|arn| arn.contains(":assumed-role/"))
            .zip(
                creation
                    .event
                    .time
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .map(|t| t.as_second()),
            );
        let session = Some(creation.creator.id.as_str()).filter(|a| a.contains(":assumed-role/"));
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
            let held = self.switches.entry(issued.key.clone()).or_default();
            if !held.iter().any(|h| h.issued_at == issued.issued_at) {
                held.push(issued);
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

    /// The console switch that began `session` and covers `at`: the
    /// latest one before it, within its hour.
    fn switch(&self, session: &str, at: i64) -> Option<&Issued> {
        self.switches
            .get(&console_key(session))?
            .iter()
            .filter(|s| s.issued_at.is_some_and(|t| t <= at))
            .filter(|s| s.expires.is_some_and(|e| at <= e))
            .max_by_key(|s| s.issued_at)
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
        if let Some((session, at)) = call.console {
            if self.origin(call.key).is_none() && self.switch(session, at).is_none() {
                wanted.push(console_key(session));
            }
        }
        wanted
    }

    /// Who began the session behind `call`: through its key when a hop
    /// of the run issued it, else through the console switch that began
    /// its session. A console switch is matched by the session's ARN,
    /// which anyone may name: it is used only for a console call, within
    /// the switched session's hour, and a key's chain always comes first.
    pub fn origin_of(&self, call: Call<'_>) -> Option<Origin> {
        // AWS itself writes who the call was made for, from Identity
        // Center's signed assertion: that names the person, where a key's
        // chain may stop at the application that asked for the session.
        if let Some((user, session)) = call.center_user {
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
                via: session.map(str::to_string).into_iter().collect(),
            });
        }
        if let Some(origin) = self.origin(call.key) {
            return Some(origin);
        }
        let (session, at) = call.console?;
        let switch = self.switch(session, at)?;
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

    fn issued(name: &str, record: &str) -> Issued {
        let e = lookup(b"sts.amazonaws.com", name.as_bytes()).unwrap();
        e.issued(&Record::parse(record.as_bytes()).unwrap())
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

    fn switch_role(time: &str, id: &str) -> String {
        format!(
            r#"{{{HEAD},"eventTime":"{time}","eventID":"{id}","eventSource":"signin.amazonaws.com","eventName":"SwitchRole","eventType":"AwsConsoleSignIn",
            "userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333"}},
            "requestParameters":null,"responseElements":{{"SwitchRole":"Success"}},
            "additionalEventData":{{"SwitchFrom":"arn:aws:iam::444455556666:user/alice","RedirectTo":"https://console.aws.amazon.com/"}}}}"#
        )
    }

    fn console_bucket(time: &str, id: &str, console: bool) -> String {
        format!(
            r#"{{{HEAD},"eventTime":"{time}","eventID":"{id}","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","eventType":"AwsApiCall","readOnly":false,
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333","accessKeyId":"ASIACONSOLE"}},
            "requestParameters":{{"bucketName":"b-{id}"}},"responseElements":null,"sessionCredentialFromConsole":"{console}"}}"#
        )
    }

    /// A console role switch names who switched but issues no key in the
    /// trail: the console calls of its hour are credited to the switcher,
    /// and nothing else is, whatever the order of the records.
    #[test]
    fn a_console_role_switch_explains_the_console_calls_of_its_hour() {
        let log = [
            console_bucket("2026-11-20T10:10:00Z", "in-hour", true),
            console_bucket("2026-11-20T10:20:00Z", "by-api", false),
            console_bucket("2026-11-20T11:30:00Z", "too-late", true),
            console_bucket("2026-11-20T09:59:00Z", "before", true),
            switch_role("2026-11-20T10:00:00Z", "switch-1"),
        ]
        .join(",");
        let items = planned(&log);
        let origin = |bucket: &str| {
            let item = items.iter().find(|i| i.arn.ends_with(bucket)).unwrap();
            item.creator.origin.clone()
        };
        let o = origin("b-in-hour").expect("the switch explains it");
        assert_eq!(
            o.arn.as_deref(),
            Some("arn:aws:iam::444455556666:user/alice")
        );
        assert_eq!(o.kind, IdentityType::IAMUser);
        assert_eq!(
            o.via,
            ["arn:aws:sts::111122223333:assumed-role/Admin/alice"]
        );
        for other in ["b-by-api", "b-too-late", "b-before"] {
            assert_eq!(origin(other), None, "{other}");
        }
    }

    /// A key's chain is the evidence: it wins over a switch of the same
    /// session name, which anyone assuming the role may choose.
    #[test]
    fn a_keys_chain_comes_before_a_console_switch() {
        let assume = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:05:00Z","eventID":"sts-1","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsApiCall","readOnly":true,
            "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accessKeyId":"AKIAMALLORY"}},
            "requestParameters":{{"roleSessionName":"alice"}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIACONSOLE"}},"assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice"}}}}}}"#
        );
        let log = [
            switch_role("2026-11-20T10:00:00Z", "switch-1"),
            assume,
            console_bucket("2026-11-20T10:10:00Z", "x", true),
        ]
        .join(",");
        let o = planned(&log)[0].creator.origin.clone().unwrap();
        assert_eq!(
            o.arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/mallory")
        );
    }

    /// IAM Roles Anywhere assumes the role itself, as a service, and sets
    /// the session's source identity to the certificate's subject: that
    /// session is read, not skipped with the other services' own.
    #[test]
    fn a_roles_anywhere_session_begins_with_its_certificate() {
        let assume = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:00:00Z","eventID":"ra-1","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventType":"AwsApiCall","readOnly":true,
            "userIdentity":{{"type":"AWSService","invokedBy":"rolesanywhere.amazonaws.com"}},
            "requestParameters":{{"roleArn":"arn:aws:iam::111122223333:role/Workload","roleSessionName":"5b2f0e1a","sourceIdentity":"CN=build-host-7"}},
            "responseElements":{{"credentials":{{"accessKeyId":"ASIAX509","expiration":"Nov 20, 2026, 11:00:00 AM"}},"assumedRoleUser":{{"arn":"arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a"}}}}}}"#
        );
        let bucket = format!(
            r#"{{{HEAD},"eventTime":"2026-11-20T10:10:00Z","eventID":"cb-1","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","eventType":"AwsApiCall","readOnly":false,
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a","accessKeyId":"ASIAX509",
              "sessionContext":{{"sourceIdentity":"CN=build-host-7"}}}},
            "requestParameters":{{"bucketName":"ra-bucket"}},"responseElements":null}}"#
        );
        let items = planned(&format!("{bucket},{assume}"));
        let o = items[0].creator.origin.clone().unwrap();
        assert_eq!(o.arn, None);
        assert_eq!(o.kind.as_str(), "X509Certificate");
        assert_eq!(o.name.as_deref(), Some("CN=build-host-7"));
        assert_eq!(o.provider.as_deref(), Some("rolesanywhere.amazonaws.com"));
        assert_eq!(
            o.via,
            ["arn:aws:sts::111122223333:assumed-role/Workload/5b2f0e1a"]
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
