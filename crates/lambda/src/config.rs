//! The function's environment → its configuration, checked once at init so
//! that a bad deployment fails on its first start, naming the variable.

use std::sync::Arc;
use tagwarden_core::policy::Policy;
use tagwarden_store::url::{self, Tables};

pub const ENVIRONMENT: &str = "TAGWARDEN_ENVIRONMENT";
pub const ALERT_TOPIC: &str = "TAGWARDEN_ALERT_TOPIC";
pub const ALERT_WEBHOOK_SECRET: &str = "TAGWARDEN_ALERT_WEBHOOK_SECRET";
pub const SCAN_LOG: &str = "TAGWARDEN_SCAN_LOG";
pub const POLICY: &str = "TAGWARDEN_POLICY";
pub const POLICY_S3: &str = "TAGWARDEN_POLICY_S3";
pub const POLICY_PARAMETER: &str = "TAGWARDEN_POLICY_PARAMETER";
pub const METRICS_NAMESPACE: &str = "TAGWARDEN_METRICS_NAMESPACE";
pub const MEMBER_ROLE: &str = "TAGWARDEN_MEMBER_ROLE";
pub const ACCOUNTS: &str = "TAGWARDEN_ACCOUNTS";
pub const TRAIL_BUCKET: &str = "TAGWARDEN_TRAIL_BUCKET";
pub const ORGANIZATION: &str = "TAGWARDEN_ORGANIZATION";
pub const REMEDIATE: &str = "TAGWARDEN_REMEDIATE";
pub const DEAD_LETTER_QUEUE: &str = "TAGWARDEN_DEAD_LETTER_QUEUE";
pub const EVENT_QUEUE: &str = "TAGWARDEN_EVENT_QUEUE";
pub const PUBLIC_KEYS: &str = "TAGWARDEN_PUBLIC_KEYS";
pub const PART_CREATIONS: &str = "TAGWARDEN_PART_CREATIONS";
pub const IDENTITY_STORE_REGION: &str = "TAGWARDEN_IDENTITY_STORE_REGION";

pub const DEFAULT_NAMESPACE: &str = "TagCompliance";

/// A variable that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {var}: {why}")]
pub struct ConfigError {
    pub var: &'static str,
    pub why: String,
}

/// Where the tag policy comes from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// Built in, or given inline in [`POLICY`]: parsed at init.
    Ready(Arc<Policy>),
    /// An S3 object, read on first use and kept.
    S3 { bucket: String, key: String },
    /// An SSM parameter (SecureString allowed), read on first use and kept.
    Parameter(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: String,
    pub tables: Tables,
    pub alert_topic: Option<String>,
    /// The Secrets Manager secret (name or ARN) holding the alert
    /// webhook's URL.
    pub alert_webhook: Option<String>,
    /// `(bucket, prefix)` of the scan logs.
    pub scan_log: Option<(String, String)>,
    pub policy: PolicySource,
    pub namespace: String,
    /// The role assumed in member accounts (org mode).
    pub member_role: Option<String>,
    /// Accounts the scheduled scan covers besides the function's own.
    pub accounts: Vec<String>,
    /// S3 notifications naming any other bucket are refused.
    pub trail_bucket: Option<String>,
    /// The organization (`o-…`) whose every account is in scope; unset,
    /// only the function's own account and [`Self::accounts`] are.
    pub organization: Option<String>,
    /// Checks and scans fill missing required keys from the policy's
    /// `remediation` templates.
    pub remediate: bool,
    /// The DLQ's URL: a refused SQS message is parked there at once, as no
    /// redelivery can make it acceptable.
    pub dead_letter_queue: Option<String>,
    /// The event queue's URL: a delivery whose resources are still being
    /// created goes back there, delayed ([`tagwarden_core::waiting`]).
    /// Unset, such resources are recorded as failed at once.
    pub event_queue: Option<String>,
    /// A file holding `ListPublicKeys`' JSON: the keys the schedule checks
    /// digests with, pinned in the package, instead of asking CloudTrail.
    pub public_keys: Option<std::path::PathBuf>,
    /// Creations a log is settled in parts of, each part checkpointed:
    /// memory against checkpoint grain.
    pub part_creations: usize,
    /// Identity Center's region: Identity Center users are named through
    /// its identity store. Unset, they are named by their id.
    pub identity_store_region: Option<String>,
}

impl Config {
    /// `get` reads a variable; an empty value counts as unset (CloudFormation
    /// passes empty parameters through as empty strings).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let bad = |var: &'static str, why: String| ConfigError { var, why };

        let environment = var(ENVIRONMENT).ok_or_else(|| {
            bad(
                ENVIRONMENT,
                "is not set: every name carries it (e.g. dev, prod)".into(),
            )
        })?;
        if !environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad(
                ENVIRONMENT,
                format!("`{environment}`: letters, digits and `-` only"),
            ));
        }

        let names = [
            url::ENV_TAGS_METADATA,
            url::ENV_TAG_HISTORY,
            url::ENV_USER_ACTIONS,
            url::ENV_EVIDENCE,
            url::ENV_SESSIONS,
        ];
        let given: Vec<Option<String>> = names.iter().map(|n| var(n)).collect();
        let tables = match (given.as_slice(), var(url::ENV_TABLE_SUFFIX)) {
            ([Some(metadata), Some(history), Some(actions), Some(evidence), Some(sessions)], _) => {
                Tables {
                    metadata: metadata.clone(),
                    history: history.clone(),
                    actions: actions.clone(),
                    evidence: evidence.clone(),
                    sessions: sessions.clone(),
                }
            }
            ([None, None, None, None, None], Some(suffix)) => Tables::with_suffix(&suffix),
            _ => {
                let missing = names
                    .iter()
                    .zip(&given)
                    .find(|(_, v)| v.is_none())
                    .map_or(url::ENV_TABLE_SUFFIX, |(n, _)| n);
                return Err(bad(
                    missing,
                    format!(
                        "is not set: name the five audit tables, or set only {}",
                        url::ENV_TABLE_SUFFIX
                    ),
                ));
            }
        };

        let alert_topic = var(ALERT_TOPIC);
        if let Some(t) = &alert_topic {
            let fields: Vec<&str> = t.split(':').collect();
            if fields.len() != 6 || fields[0] != "arn" || fields[2] != "sns" {
                return Err(bad(ALERT_TOPIC, format!("`{t}` is not an SNS topic ARN")));
            }
        }

        let alert_webhook = var(ALERT_WEBHOOK_SECRET);
        if let Some(id) = &alert_webhook {
            if !is_secret_id(id) {
                // Not repeated: it may be the URL itself, put here by mistake.
                return Err(bad(
                    ALERT_WEBHOOK_SECRET,
                    "is not a Secrets Manager secret name or ARN (the webhook's URL goes in the secret)".into(),
                ));
            }
        }

        let scan_log = match var(SCAN_LOG) {
            None => None,
            Some(u) => Some(
                s3_url(&u)
                    .ok_or_else(|| bad(SCAN_LOG, format!("`{u}`: use s3://bucket/prefix")))?,
            ),
        };

        let policy = match (var(POLICY), var(POLICY_S3), var(POLICY_PARAMETER)) {
            (None, None, None) => PolicySource::Ready(Arc::new(Policy::default_policy())),
            (Some(text), None, None) => PolicySource::Ready(Arc::new(
                Policy::from_yaml(&text).map_err(|e| bad(POLICY, e.to_string()))?,
            )),
            (None, Some(u), None) => match s3_url(&u) {
                Some((bucket, key)) if !key.is_empty() && !key.ends_with('/') => {
                    PolicySource::S3 { bucket, key }
                }
                _ => {
                    return Err(bad(
                        POLICY_S3,
                        format!("`{u}`: use s3://bucket/key of a YAML policy"),
                    ))
                }
            },
            (None, None, Some(name)) => PolicySource::Parameter(name),
            _ => {
                return Err(bad(
                    POLICY,
                    format!("give one of {POLICY}, {POLICY_S3} and {POLICY_PARAMETER}"),
                ))
            }
        };

        let namespace = var(METRICS_NAMESPACE).unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        if namespace.len() > 255 || namespace.starts_with(':') || namespace.contains("AWS/") {
            return Err(bad(
                METRICS_NAMESPACE,
                format!("`{namespace}` is not a custom CloudWatch namespace"),
            ));
        }

        let member_role = var(MEMBER_ROLE);
        if let Some(r) = &member_role {
            if r.len() > 64
                || !r
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                return Err(bad(MEMBER_ROLE, format!("`{r}` is not an IAM role name")));
            }
        }

        let mut accounts: Vec<String> = var(ACCOUNTS)
            .map(|a| {
                a.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(a) = accounts
            .iter()
            .find(|a| !tagwarden_core::catalog::is_account_id(a))
        {
            return Err(bad(ACCOUNTS, format!("`{a}` is not a 12-digit account id")));
        }
        if !accounts.is_empty() && member_role.is_none() {
            return Err(bad(
                ACCOUNTS,
                format!("other accounts are reached through {MEMBER_ROLE}, which is not set"),
            ));
        }
        accounts.sort();
        accounts.dedup();
        let organization = var(ORGANIZATION);
        if let Some(o) = organization.as_deref().filter(|o| {
            !((12..=34).contains(&o.len())
                && o.starts_with("o-")
                && o[2..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        }) {
            return Err(bad(
                ORGANIZATION,
                format!("`{o}` is not an organization id (o-…)"),
            ));
        }

        let remediate = match var(REMEDIATE).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(bad(REMEDIATE, format!("`{other}`: true or false")));
            }
        };

        let queue = |name: &'static str| match var(name) {
            Some(q) if !(q.starts_with("https://") || q.starts_with("http://")) => Err(bad(
                name,
                format!("`{q}` is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"),
            )),
            q => Ok(q),
        };
        let dead_letter_queue = queue(DEAD_LETTER_QUEUE)?;
        let event_queue = queue(EVENT_QUEUE)?;
        let part_creations = match var(PART_CREATIONS) {
            None => tagwarden_flow::parts::PART_CREATIONS,
            Some(n) => match n.parse::<usize>() {
                Ok(n @ 1..=100_000) => n,
                _ => {
                    return Err(bad(
                        PART_CREATIONS,
                        format!("`{n}`: a count of creations from 1 to 100000"),
                    ))
                }
            },
        };

        let identity_store_region = var(IDENTITY_STORE_REGION);
        if let Some(r) = identity_store_region.as_deref().filter(|r| {
            !(r.len() <= 32
                && r.split('-').count() >= 3
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        }) {
            return Err(bad(
                IDENTITY_STORE_REGION,
                format!("`{r}` is not a region (us-east-1)"),
            ));
        }

        Ok(Self {
            identity_store_region,
            dead_letter_queue,
            event_queue,
            remediate,
            environment,
            tables,
            alert_topic,
            alert_webhook,
            scan_log,
            policy,
            namespace,
            member_role,
            accounts,
            trail_bucket: var(TRAIL_BUCKET),
            organization,
            public_keys: var(PUBLIC_KEYS).map(Into::into),
            part_creations,
        })
    }
}

/// A name (up to 512 of `A-Za-z0-9/_+=.@-`) or
/// `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`.
fn is_secret_id(id: &str) -> bool {
    let name = |n: &str| {
        !n.is_empty()
            && n.len() <= 512
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
    };
    match id.strip_prefix("arn:") {
        None => name(id),
        Some(rest) => {
            let f: Vec<&str> = rest.splitn(6, ':').collect();
            f.len() == 6
                && f[1] == "secretsmanager"
                && tagwarden_core::catalog::is_account_id(f[3])
                && f[4] == "secret"
                && name(f[5])
        }
    }
}

fn s3_url(u: &str) -> Option<(String, String)> {
    tagwarden_aws::s3_source::parse_url(u).map(|(b, p)| (b.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const BASE: &[(&str, &str)] = &[
        (ENVIRONMENT, "dev"),
        (url::ENV_TAGS_METADATA, "TagsMetadata-dev"),
        (url::ENV_TAG_HISTORY, "TagHistory-dev"),
        (url::ENV_USER_ACTIONS, "UserActions-dev"),
        (url::ENV_EVIDENCE, "Evidence-dev"),
        (url::ENV_SESSIONS, "Sessions-dev"),
    ];

    fn load(extra: &[(&str, &str)], without: &[&str]) -> Result<Config, ConfigError> {
        let env: HashMap<&str, &str> = BASE
            .iter()
            .chain(extra)
            .filter(|(k, _)| !without.contains(k))
            .copied()
            .collect();
        Config::from_env(|k| env.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn the_templates_environment_is_a_configuration() {
        let c = load(
            &[
                (
                    ALERT_TOPIC,
                    "arn:aws:sns:us-east-1:123456789012:tagwarden-alerts-dev",
                ),
                (SCAN_LOG, "s3://scan-logs-dev/tagwarden"),
                (POLICY_PARAMETER, "tagwarden-dev"),
                (
                    ALERT_WEBHOOK_SECRET,
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:tagwarden/slack-AbCdEf",
                ),
                (MEMBER_ROLE, ""),
                (
                    DEAD_LETTER_QUEUE,
                    "https://sqs.us-east-1.amazonaws.com/123456789012/tagwarden-dlq-dev",
                ),
                (
                    EVENT_QUEUE,
                    "https://sqs.us-east-1.amazonaws.com/123456789012/tagwarden-events-dev",
                ),
            ],
            &[],
        )
        .unwrap();
        assert!(c.dead_letter_queue.unwrap().ends_with("/tagwarden-dlq-dev"));
        assert!(c.event_queue.unwrap().ends_with("/tagwarden-events-dev"));
        assert_eq!(c.tables.history, "TagHistory-dev");
        assert_eq!(
            c.scan_log,
            Some(("scan-logs-dev".into(), "tagwarden".into()))
        );
        assert!(matches!(c.policy, PolicySource::Parameter(ref p) if p == "tagwarden-dev"));
        assert_eq!(c.namespace, DEFAULT_NAMESPACE);
        assert!(c
            .alert_webhook
            .unwrap()
            .ends_with(":secret:tagwarden/slack-AbCdEf"));
        // Empty is unset, as CloudFormation passes an empty parameter.
        assert_eq!(c.member_role, None);
        let c = load(
            &[(url::ENV_TABLE_SUFFIX, "qa")],
            &[
                url::ENV_TAGS_METADATA,
                url::ENV_TAG_HISTORY,
                url::ENV_USER_ACTIONS,
                url::ENV_EVIDENCE,
                url::ENV_SESSIONS,
            ],
        )
        .unwrap();
        assert_eq!(c.tables, Tables::with_suffix("qa"));
        assert!(matches!(c.policy, PolicySource::Ready(_)));
    }

    #[test]
    fn each_bad_value_is_refused_naming_its_variable() {
        let e = load(
            &[(
                ALERT_WEBHOOK_SECRET,
                "https://hooks.slack.com/services/T/B/XYZZY",
            )],
            &[],
        )
        .unwrap_err();
        assert!(!e.to_string().contains("XYZZY"), "{e}");
        for (extra, without, var, says) in [
            (&[][..], &[ENVIRONMENT][..], ENVIRONMENT, "not set"),
            (&[(ENVIRONMENT, "dev prod")], &[], ENVIRONMENT, "letters"),
            (
                &[],
                &[url::ENV_TAG_HISTORY],
                url::ENV_TAG_HISTORY,
                "not set",
            ),
            (
                &[(ALERT_TOPIC, "alerts")],
                &[],
                ALERT_TOPIC,
                "not an SNS topic ARN",
            ),
            (
                &[(DEAD_LETTER_QUEUE, "tagwarden-dlq-dev")],
                &[],
                DEAD_LETTER_QUEUE,
                "not a queue URL",
            ),
            (
                &[(PART_CREATIONS, "0")],
                &[],
                PART_CREATIONS,
                "from 1 to 100000",
            ),
            (&[], &[url::ENV_EVIDENCE], url::ENV_EVIDENCE, "not set"),
            (&[], &[url::ENV_SESSIONS], url::ENV_SESSIONS, "not set"),
            (
                &[(EVENT_QUEUE, "tagwarden-events-dev")],
                &[],
                EVENT_QUEUE,
                "not a queue URL",
            ),
            (
                &[(ALERT_WEBHOOK_SECRET, "https://hooks.slack.com/services/x")],
                &[],
                ALERT_WEBHOOK_SECRET,
                "not a Secrets Manager secret",
            ),
            (
                &[(
                    ALERT_WEBHOOK_SECRET,
                    "arn:aws:ssm:us-east-1:123456789012:parameter/x",
                )],
                &[],
                ALERT_WEBHOOK_SECRET,
                "not a Secrets Manager secret",
            ),
            (&[(SCAN_LOG, "/tmp/x")], &[], SCAN_LOG, "s3://bucket/prefix"),
            (&[(POLICY, "attribution: [")], &[], POLICY, ""),
            (&[(POLICY_S3, "s3://b/")], &[], POLICY_S3, "s3://bucket/key"),
            (
                &[(POLICY, "x"), (POLICY_PARAMETER, "p")],
                &[],
                POLICY,
                "give one of",
            ),
            (
                &[(METRICS_NAMESPACE, "AWS/EC2")],
                &[],
                METRICS_NAMESPACE,
                "custom",
            ),
            (
                &[(MEMBER_ROLE, "a role")],
                &[],
                MEMBER_ROLE,
                "IAM role name",
            ),
            (
                &[(ACCOUNTS, "1234"), (MEMBER_ROLE, "R")],
                &[],
                ACCOUNTS,
                "12-digit",
            ),
            (&[(ACCOUNTS, "111122223333")], &[], ACCOUNTS, MEMBER_ROLE),
            (&[(REMEDIATE, "yes")], &[], REMEDIATE, "true or false"),
        ] {
            let e = load(extra, without).unwrap_err();
            assert_eq!(e.var, var, "{e}");
            assert!(e.to_string().contains(var), "{e}");
            assert!(e.why.contains(says), "{e} should say {says}");
        }
    }
}
