//! userIdentity → creator: who made the call, as one stable identifier.

use crate::record::UserIdentity;
use serde::Serialize;

/// CloudTrail's `userIdentity.type`, with unknown future types kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IdentityType {
    Root,
    IAMUser,
    AssumedRole,
    FederatedUser,
    AWSService,
    AWSAccount,
    IdentityCenterUser,
    SAMLUser,
    WebIdentityUser,
    Unknown,
    #[serde(untagged)]
    Other(String),
}

impl IdentityType {
    /// `userIdentity.type` as CloudTrail writes it.
    pub fn parse(s: &str) -> Self {
        match s {
            "Root" => Self::Root,
            "IAMUser" => Self::IAMUser,
            "AssumedRole" => Self::AssumedRole,
            "FederatedUser" => Self::FederatedUser,
            "AWSService" => Self::AWSService,
            "AWSAccount" => Self::AWSAccount,
            "IdentityCenterUser" => Self::IdentityCenterUser,
            "SAMLUser" => Self::SAMLUser,
            "WebIdentityUser" => Self::WebIdentityUser,
            "Unknown" => Self::Unknown,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Root => "Root",
            Self::IAMUser => "IAMUser",
            Self::AssumedRole => "AssumedRole",
            Self::FederatedUser => "FederatedUser",
            Self::AWSService => "AWSService",
            Self::AWSAccount => "AWSAccount",
            Self::IdentityCenterUser => "IdentityCenterUser",
            Self::SAMLUser => "SAMLUser",
            Self::WebIdentityUser => "WebIdentityUser",
            Self::Unknown => "Unknown",
            Self::Other(s) => s,
        }
    }

    /// The type a principal's ARN names, as CloudTrail would
    /// (`arn:aws:sts::1:assumed-role/R/s` → `AssumedRole`).
    pub fn of_arn(arn: &str) -> Self {
        let mut fields = arn.splitn(6, ':');
        if fields.next() != Some("arn") {
            return Self::Unknown;
        }
        let resource = fields.nth(4).unwrap_or_default();
        match resource.split('/').next() {
            Some("assumed-role") => Self::AssumedRole,
            Some("user") => Self::IAMUser,
            Some("federated-user") => Self::FederatedUser,
            Some("root") | Some("") => Self::Root,
            _ => Self::Unknown,
        }
    }
}

/// Read back as CloudTrail writes it (the store keeps origins).
impl<'de> serde::Deserialize<'de> for IdentityType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// The principal behind a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    /// What `CreatedBy` holds: the most specific identifier the record has.
    pub id: String,
    pub kind: IdentityType,
    /// The service that made the call on the principal's behalf.
    pub invoked_by: Option<String>,
    /// For assumed roles (IAM Identity Center ones included): the role name.
    pub role: Option<String>,
    /// For assumed roles: the session name (for SSO, the user's name).
    pub session: Option<String>,
    pub account: Option<String>,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

impl Creator {
    /// The creator as the store names it: its ARN and type (role and
    /// session read from an assumed role's ARN).
    pub fn from_arn(arn: &str, kind: IdentityType, invoked_by: Option<String>) -> Self {
        let (role, session) = match kind {
            IdentityType::AssumedRole => split_assumed_role(arn),
            _ => (None, None),
        };
        let account = arn.split(':').nth(4).filter(|a| !a.is_empty());
        Creator {
            id: arn.to_string(),
            kind,
            invoked_by,
            role,
            session,
            account: account.map(str::to_string),
        }
    }

    /// Attributes a record to its principal. `partition` and `account` come
    /// from the record, for identities that carry no ARN of their own.
    pub fn from_identity(who: Option<&UserIdentity<'_>>, partition: &str, account: &str) -> Self {
        let empty = UserIdentity::default();
        let who = who.unwrap_or(&empty);
        let kind = IdentityType::parse(who.kind.as_deref().unwrap_or("Unknown"));
        let arn = non_empty(who.arn.as_deref());
        let principal = non_empty(who.principal_id.as_deref());
        let user_name = non_empty(who.user_name.as_deref());
        let invoked_by = non_empty(who.invoked_by.as_deref()).map(str::to_string);
        let acct = non_empty(who.account_id.as_deref()).unwrap_or(account);
        let root = || format!("arn:{partition}:iam::{acct}:root");

        let id = match &kind {
            IdentityType::Root => root(),
            IdentityType::IAMUser | IdentityType::AssumedRole | IdentityType::FederatedUser => arn
                .map(str::to_string)
                .or_else(|| principal.map(str::to_string))
                .unwrap_or_else(|| kind.as_str().to_string()),
            IdentityType::AWSService => invoked_by
                .clone()
                .or_else(|| principal.map(str::to_string))
                .unwrap_or_else(|| "AWSService".to_string()),
            IdentityType::IdentityCenterUser => who
                .on_behalf_of
                .as_ref()
                .and_then(|o| non_empty(o.user_id.as_deref()))
                .map(|u| format!("arn:{partition}:identitystore:::user/{u}"))
                .or_else(|| arn.map(str::to_string))
                .unwrap_or_else(|| kind.as_str().to_string()),
            IdentityType::SAMLUser | IdentityType::WebIdentityUser => {
                match (non_empty(who.identity_provider.as_deref()), user_name) {
                    (Some(idp), Some(u)) => format!("{idp}:{u}"),
                    _ => principal.or(user_name).unwrap_or(kind.as_str()).to_string(),
                }
            }
            IdentityType::AWSAccount => principal.map(str::to_string).unwrap_or_else(root),
            IdentityType::Unknown | IdentityType::Other(_) => arn
                .or(user_name)
                .or(principal)
                .unwrap_or(kind.as_str())
                .to_string(),
        };

        let (role, session) = match (&kind, arn) {
            (IdentityType::AssumedRole, Some(arn)) => split_assumed_role(arn),
            _ => (None, None),
        };
        Creator {
            id,
            kind,
            invoked_by,
            role,
            session,
            account: non_empty(who.account_id.as_deref()).map(str::to_string),
        }
    }
}

/// `arn:aws:sts::1:assumed-role/Role/session` → (Role, session).
fn split_assumed_role(arn: &str) -> (Option<String>, Option<String>) {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let mut parts = resource.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("assumed-role"), Some(role), session) => (
            Some(role.to_string()),
            session.filter(|s| !s.is_empty()).map(str::to_string),
        ),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn creator(identity: &str) -> Creator {
        let json = format!(r#"{{"userIdentity":{identity}}}"#);
        let rec = Record::parse(json.as_bytes()).unwrap();
        Creator::from_identity(rec.user_identity.as_ref(), "aws-cn", "111122223333")
    }

    #[test]
    fn a_principal_arn_names_its_type() {
        for (arn, kind) in [
            ("arn:aws:sts::1:assumed-role/R/s", IdentityType::AssumedRole),
            ("arn:aws:iam::1:user/alice", IdentityType::IAMUser),
            (
                "arn:aws-cn:sts::1:federated-user/bob",
                IdentityType::FederatedUser,
            ),
            ("arn:aws:iam::1:root", IdentityType::Root),
            ("arn:aws:iam::1:role/R", IdentityType::Unknown),
            ("alice@example.com", IdentityType::Unknown),
        ] {
            assert_eq!(IdentityType::of_arn(arn), kind, "{arn}");
        }
    }

    #[test]
    fn iam_user_is_its_arn() {
        let c =
            creator(r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice","principalId":"AID"}"#);
        assert_eq!(c.id, "arn:aws:iam::1:user/alice");
        assert_eq!(c.kind, IdentityType::IAMUser);
    }

    #[test]
    fn sso_session_keeps_role_and_session_apart() {
        let c = creator(
            r#"{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0123/me@dev.com","invokedBy":"servicecatalog.amazonaws.com"}"#,
        );
        assert_eq!(
            c.id,
            "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0123/me@dev.com"
        );
        assert_eq!(c.role.as_deref(), Some("AWSReservedSSO_Admin_0123"));
        assert_eq!(c.session.as_deref(), Some("me@dev.com"));
        assert_eq!(
            c.invoked_by.as_deref(),
            Some("servicecatalog.amazonaws.com")
        );
    }

    #[test]
    fn root_uses_the_partition_and_account() {
        let c = creator(
            r#"{"type":"Root","arn":"arn:aws-cn:iam::222233334444:root","accountId":"222233334444"}"#,
        );
        assert_eq!(c.id, "arn:aws-cn:iam::222233334444:root");
        let c = creator(r#"{"type":"Root"}"#);
        assert_eq!(c.id, "arn:aws-cn:iam::111122223333:root");
    }

    #[test]
    fn aws_service_is_the_invoking_service() {
        let c = creator(r#"{"type":"AWSService","invokedBy":"autoscaling.amazonaws.com"}"#);
        assert_eq!(c.id, "autoscaling.amazonaws.com");
        assert_eq!(c.invoked_by.as_deref(), Some("autoscaling.amazonaws.com"));
    }

    #[test]
    fn federated_user_is_its_arn() {
        let c = creator(
            r#"{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/bob","principalId":"1:bob"}"#,
        );
        assert_eq!(c.id, "arn:aws:sts::1:federated-user/bob");
        assert_eq!(c.role, None);
    }

    #[test]
    fn identity_center_user_is_the_identity_store_user() {
        let c = creator(
            r#"{"type":"IdentityCenterUser","accountId":"1","onBehalfOf":{"userId":"9067b5d0-1234","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"},"credentialId":"x"}"#,
        );
        assert_eq!(c.id, "arn:aws-cn:identitystore:::user/9067b5d0-1234");
    }

    #[test]
    fn saml_and_web_identity_users_name_provider_and_user() {
        let c = creator(
            r#"{"type":"SAMLUser","principalId":"SAMLIssuer:alice","userName":"alice","identityProvider":"bdGOnTesti4+ue8kd0SSdA=="}"#,
        );
        assert_eq!(c.id, "bdGOnTesti4+ue8kd0SSdA==:alice");
        let c = creator(
            r#"{"type":"WebIdentityUser","principalId":"accounts.google.com:1234","userName":"1234","identityProvider":"accounts.google.com"}"#,
        );
        assert_eq!(c.id, "accounts.google.com:1234");
    }

    #[test]
    fn unknown_falls_back_to_the_most_specific_field() {
        let c = creator(
            r#"{"type":"Unknown","principalId":"P","accountId":"1","userName":"me@dev.com"}"#,
        );
        assert_eq!(c.id, "me@dev.com");
        let c = creator(r#"{"type":"Brand-New","principalId":"P"}"#);
        assert_eq!(c.id, "P");
        assert_eq!(c.kind.as_str(), "Brand-New");
        let c = Creator::from_identity(None, "aws", "1");
        assert_eq!(c.id, "Unknown");
    }
}
