//! The session tagwarden opens in a member account. Its name says which
//! deployment and which execution environment wrote (member-account
//! CloudTrail shows it on every write), and is kept for the environment's
//! life: one session per member account, not one per invocation. The
//! source identity, when set, survives any role chaining after it.
//!
//! `aws_config`'s assume-role provider cannot set a source identity, so
//! this one calls STS itself; the SDK's identity cache in front of it
//! keeps the credentials until shortly before they expire.

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;
use std::time::{Duration, SystemTime};

/// STS's limit for both names; both allow `[\w+=,.@-]`.
const MAX: usize = 64;

/// What tagwarden calls itself in a member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub name: String,
    /// `None` from the command line: a caller whose own session already
    /// carries a source identity may not set another.
    pub source_identity: Option<String>,
}

impl Session {
    /// The Lambda's: `tagwarden-<environment>-<execution environment>` and
    /// source identity `tagwarden-<environment>`.
    pub fn function(environment: &str, execution: &str) -> Self {
        Self {
            name: clean(&format!("tagwarden-{environment}-{execution}")),
            source_identity: Some(clean(&format!("tagwarden-{environment}"))),
        }
    }

    /// The command line's: `tagwarden-cli-<process id>`, no source identity.
    pub fn cli() -> Self {
        Self {
            name: clean(&format!("tagwarden-cli-{}", std::process::id())),
            source_identity: None,
        }
    }

    /// The execution environment's id from Lambda's log stream name
    /// (`2026/12/06/[$LATEST]0f1e…`): the part that names the instance.
    pub fn execution_from_log_stream(stream: &str) -> &str {
        stream.rsplit(']').next().unwrap_or(stream)
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::cli()
    }
}

/// Only the characters STS allows, at most 64 of them.
fn clean(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(MAX)
        .collect()
}

/// Assumes `role_arn` as `session` with the base configuration's
/// credentials.
#[derive(Debug)]
pub struct AssumeRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    session: Session,
}

impl AssumeRole {
    pub fn new(sts: aws_sdk_sts::Client, role_arn: String, session: Session) -> Self {
        Self {
            sts,
            role_arn,
            session,
        }
    }

    async fn assume(&self) -> provider::Result {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session.name)
            .set_source_identity(self.session.source_identity.clone())
            .duration_seconds(3600)
            .send()
            .await
            .map_err(CredentialsError::provider_error)?;
        let c = out
            .credentials()
            .ok_or_else(|| CredentialsError::unhandled("AssumeRole returned no credentials"))?;
        let expires = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(c.expiration().secs()).unwrap_or_default());
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expires),
            "tagwarden-member-role",
        ))
    }
}

impl ProvideCredentials for AssumeRole {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.assume())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_to_sts_characters_and_length() {
        let s = Session::function("prod", "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        assert_eq!(s.name, "tagwarden-prod-0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        assert_eq!(s.source_identity.as_deref(), Some("tagwarden-prod"));
        let long = Session::function(&"e".repeat(20), &"f".repeat(60));
        assert_eq!(long.name.len(), 64);
        assert_eq!(clean("a b/[c]$"), "a-b--c--");
        assert!(Session::cli().name.starts_with("tagwarden-cli-"));
        assert_eq!(Session::cli().source_identity, None);
    }

    #[test]
    fn the_execution_environment_is_the_log_streams_instance_part() {
        assert_eq!(
            Session::execution_from_log_stream("2026/12/06/[$LATEST]0f1e2d"),
            "0f1e2d"
        );
        assert_eq!(Session::execution_from_log_stream("local"), "local");
    }
}
