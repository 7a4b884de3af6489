//! `--store` URLs: `sqlite:PATH` or `dynamodb:[SUFFIX]`.

use std::path::PathBuf;

pub const DEFAULT: &str = "sqlite:tagwarden.db";

/// Environment variables that name the DynamoDB tables one by one (the
/// Lambda's configuration); they win over a suffix.
pub const ENV_TAGS_METADATA: &str = "TAGWARDEN_TAGS_METADATA_TABLE";
pub const ENV_TAG_HISTORY: &str = "TAGWARDEN_TAG_HISTORY_TABLE";
pub const ENV_USER_ACTIONS: &str = "TAGWARDEN_USER_ACTIONS_TABLE";
pub const ENV_EVIDENCE: &str = "TAGWARDEN_EVIDENCE_TABLE";
pub const ENV_SESSIONS: &str = "TAGWARDEN_SESSIONS_TABLE";
/// The suffix used when the URL gives none (`TagsMetadata-<suffix>`).
pub const ENV_TABLE_SUFFIX: &str = "TAGWARDEN_TABLE_SUFFIX";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub metadata: String,
    pub history: String,
    pub actions: String,
    pub evidence: String,
    pub sessions: String,
}

impl Tables {
    /// `TagsMetadata-dev`, …; no suffix gives the bare names.
    pub fn with_suffix(suffix: &str) -> Self {
        let name = |base: &str| {
            if suffix.is_empty() {
                base.to_string()
            } else {
                format!("{base}-{suffix}")
            }
        };
        Self {
            metadata: name("TagsMetadata"),
            history: name("TagHistory"),
            actions: name("UserActions"),
            evidence: name("Evidence"),
            sessions: name("Sessions"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Dynamo(Tables),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--store `{url}`: {why}")]
pub struct BadUrl {
    pub url: String,
    pub why: &'static str,
}

impl StoreUrl {
    /// Parses a URL; `env` looks up the table variables (the process
    /// environment in production, a map in tests).
    pub fn parse(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, BadUrl> {
        let bad = |why| BadUrl {
            url: url.to_string(),
            why,
        };
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad("give a file, as in sqlite:tagwarden.db"));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some(suffix) = url.strip_prefix("dynamodb:") {
            let suffix = suffix.trim_start_matches('/');
            if !suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(bad(
                    "a table suffix may hold only letters, digits, `-`, `_` and `.`",
                ));
            }
            let suffix = match suffix {
                "" => env(ENV_TABLE_SUFFIX).unwrap_or_default(),
                s => s.to_string(),
            };
            let base = Tables::with_suffix(&suffix);
            return Ok(Self::Dynamo(Tables {
                metadata: env(ENV_TAGS_METADATA).unwrap_or(base.metadata),
                history: env(ENV_TAG_HISTORY).unwrap_or(base.history),
                actions: env(ENV_USER_ACTIONS).unwrap_or(base.actions),
                evidence: env(ENV_EVIDENCE).unwrap_or(base.evidence),
                sessions: env(ENV_SESSIONS).unwrap_or(base.sessions),
            }));
        }
        Err(bad("use sqlite:PATH or dynamodb:[SUFFIX]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(url: &str, env: &[(&str, &str)]) -> Result<StoreUrl, BadUrl> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StoreUrl::parse(url, |k| env.get(k).cloned())
    }

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(
            parse("sqlite:tagwarden.db", &[]),
            Ok(StoreUrl::Sqlite("tagwarden.db".into()))
        );
        assert_eq!(
            parse("sqlite:///var/lib/tw.db", &[]),
            Ok(StoreUrl::Sqlite("/var/lib/tw.db".into()))
        );
        assert!(parse("sqlite:", &[]).is_err());
    }

    #[test]
    fn dynamodb_tables_come_from_a_suffix_or_the_environment() {
        assert_eq!(
            parse("dynamodb:dev", &[]),
            Ok(StoreUrl::Dynamo(Tables::with_suffix("dev")))
        );
        assert_eq!(
            parse("dynamodb:", &[(ENV_TABLE_SUFFIX, "prod")]),
            Ok(StoreUrl::Dynamo(Tables {
                metadata: "TagsMetadata-prod".into(),
                history: "TagHistory-prod".into(),
                actions: "UserActions-prod".into(),
                evidence: "Evidence-prod".into(),
                sessions: "Sessions-prod".into(),
            }))
        );
        let StoreUrl::Dynamo(t) = parse("dynamodb:", &[(ENV_TAG_HISTORY, "H")]).unwrap() else {
            panic!("dynamodb")
        };
        assert_eq!(
            (t.metadata.as_str(), t.history.as_str()),
            ("TagsMetadata", "H")
        );
        assert!(parse("dynamodb:a b", &[]).is_err());
        assert!(parse("postgres://x", &[]).is_err());
    }
}
