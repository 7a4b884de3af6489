//! Calls that issue credentials: each names who asked (the caller, or an
//! identity provider's user) and the access key it issued, so that a later
//! call made with that key can be traced back, through any number of hops,
//! to whoever began the chain (design.md, "The person behind the role").
//! Most are `readOnly`: they are read for this alone. Data, like the other
//! tables.

use crate::attribution::IdentityType;
use crate::record::Record;
use serde_json::Value;

/// Who asked for the credentials, as the record tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// The call's own identity, which called with a key of its own: the
    /// chain may go on behind it.
    Caller,
    /// A SAML identity provider's user: the chain begins here.
    Saml,
    /// An OIDC identity provider's user: the chain begins here.
    WebIdentity,
    /// A console role switch: it names who switched and the session it
    /// began, but no key. A console call belongs to it when its session
    /// was created at the switch ([`SWITCH_SKEW_SECONDS`]): the session's
    /// name alone is anyone's to choose.
    ConsoleSwitch,
}

/// How long a console role switch's session lasts: the console's
/// switched sessions last one hour. How long the store keeps the hop.
pub const CONSOLE_SESSION_SECONDS: i64 = 3600;

/// How far apart a switch's `eventTime` and its session's `creationDate`
/// may be, in seconds: both are AWS's clock, written for one act.
pub const SWITCH_SKEW_SECONDS: i64 = 10;

/// The key under which a console role switch is held: such sessions
/// have no key of their own, so the session's ARN and the second of the
/// switch stand for it. Every switch is kept, each under its own key.
pub fn console_key(session: &str, at: i64) -> String {
    format!("console:{session}@{at}")
}

/// Whether `key` is a [`console_key`].
pub fn is_console_key(key: &str) -> bool {
    key.starts_with("console:")
}

/// The service whose own `AssumeRole` calls begin a session for an X.509
/// certificate: the one service session that says who is behind it.
pub const ROLES_ANYWHERE: &str = "rolesanywhere.amazonaws.com";

#[derive(Debug)]
pub struct SessionEvent {
    pub source: &'static str,
    pub name: &'static str,
    pub asker: Asker,
}

const fn row(source: &'static str, name: &'static str, asker: Asker) -> SessionEvent {
    SessionEvent {
        source,
        name,
        asker,
    }
}

const STS: &str = "sts.amazonaws.com";
const SIGNIN: &str = "signin.amazonaws.com";

/// Sorted by (source, name), as the other tables.
#[rustfmt::skip]
pub static SESSION_EVENTS: &[SessionEvent] = &[
    row(SIGNIN, "SwitchRole", Asker::ConsoleSwitch),
    row(STS, "AssumeRole", Asker::Caller),
    row(STS, "AssumeRoleWithSAML", Asker::Saml),
    row(STS, "AssumeRoleWithWebIdentity", Asker::WebIdentity),
    row(STS, "GetFederationToken", Asker::Caller),
    row(STS, "GetSessionToken", Asker::Caller),
];

pub fn lookup(source: &[u8], name: &[u8]) -> Option<&'static SessionEvent> {
    SESSION_EVENTS
        .binary_search_by(|e| (e.source.as_bytes(), e.name.as_bytes()).cmp(&(source, name)))
        .ok()
        .map(|i| &SESSION_EVENTS[i])
}

/// Whether read-only records of `source` may issue credentials: they are
/// looked up rather than skipped. One comparison on the hot path.
pub fn issues_credentials(source: Option<&[u8]>) -> bool {
    source == Some(STS.as_bytes()) || source == Some(SIGNIN.as_bytes())
}

/// A principal as a session chain names it; a federated user has no ARN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    pub arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: IdentityType,
    pub name: Option<String>,
    pub provider: Option<String>,
}

/// What one credential-issuing record says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Issued {
    /// The access key issued ([`console_key`] for a console role switch).
    pub key: String,
    /// When the credentials were issued (Unix seconds): a console switch
    /// explains only the calls of its own hour.
    #[serde(default)]
    pub issued_at: Option<i64>,
    /// When the credentials expire (Unix seconds), when the record says:
    /// how long the store must keep the hop.
    #[serde(default)]
    pub expires: Option<i64>,
    /// The session it began (an assumed-role or federated-user ARN).
    pub session: Option<String>,
    pub asker: Principal,
    /// The key the asker called with: the hop before this one.
    pub asker_key: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl SessionEvent {
    /// The key issued and who asked, or why the record cannot say;
    /// `None` for a record that began no one's session (a service's own,
    /// a switch that failed).
    pub fn issued(
        &self,
        record: &Record<'_>,
    ) -> Result<Option<Issued>, (&'static str, &'static str)> {
        let issued_at = record
            .event_time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second());
        if self.asker == Asker::ConsoleSwitch {
            return console_switch(record, issued_at);
        }
        let response = record.response_elements.as_ref();
        let key = text(response.and_then(|r| r.pointer("/credentials/accessKeyId")))
            .ok_or(("responseElements.credentials.accessKeyId", "is missing"))?;
        let session = text(response.and_then(|r| r.pointer("/assumedRoleUser/arn")))
            .or_else(|| text(response.and_then(|r| r.pointer("/federatedUser/arn"))));
        let field = |v: Option<&Value>, k: &str| text(v.and_then(|v| v.get(k)));
        let identity = record.user_identity.as_ref();
        let (asker, asker_key) = match self.asker {
            Asker::Caller => {
                let who = identity.ok_or(("userIdentity", "is missing"))?;
                if who.kind.as_deref() == Some("AWSService") {
                    if who.invoked_by.as_deref() != Some(ROLES_ANYWHERE) {
                        return Ok(None);
                    }
                    return Ok(Some(Issued {
                        key,
                        issued_at,
                        expires: expires(response),
                        session,
                        asker: certificate(record),
                        asker_key: None,
                    }));
                }
                let principal = Principal {
                    arn: who
                        .arn
                        .as_deref()
                        .filter(|a| !a.is_empty())
                        .map(str::to_string),
                    kind: IdentityType::parse(who.kind.as_deref().unwrap_or("Unknown")),
                    name: who.user_name.as_deref().map(str::to_string),
                    provider: None,
                };
                let key = who.access_key_id.as_deref().filter(|k| !k.is_empty());
                (principal, key.map(str::to_string))
            }
            Asker::Saml => {
                let provider = field(record.request_parameters.as_ref(), "principalArn")
                    .or_else(|| field(response, "issuer"));
                let principal = Principal {
                    arn: None,
                    kind: IdentityType::SAMLUser,
                    name: field(response, "subject"),
                    provider,
                };
                (principal, None)
            }
            Asker::WebIdentity => {
                let principal = Principal {
                    arn: None,
                    kind: IdentityType::WebIdentityUser,
                    name: field(response, "subjectFromWebIdentityToken"),
                    provider: field(response, "provider"),
                };
                (principal, None)
            }
            Asker::ConsoleSwitch => return console_switch(record, issued_at),
        };
        Ok(Some(Issued {
            key,
            issued_at,
            expires: expires(response),
            session,
            asker,
            asker_key,
        }))
    }
}

fn expires(response: Option<&Value>) -> Option<i64> {
    response
        .and_then(|r| r.pointer("/credentials/expiration"))
        .and_then(Value::as_str)
        .and_then(expiry)
}

/// IAM Roles Anywhere sets a session's source identity to the
/// certificate's subject CN (its trust model): that CN began the chain,
/// as its issuer vouches (the `x509Issuer/CN` session tag). A subject is
/// only as good as the CA behind it, so the provider names the issuer.
fn certificate(record: &Record<'_>) -> Principal {
    let request = record.request_parameters.as_ref();
    let issuer = request
        .and_then(|r| r.get("tags"))
        .and_then(Value::as_array)
        .and_then(|tags| {
            tags.iter().find_map(|t| {
                let key = t.get("key").or_else(|| t.get("Key"))?.as_str()?;
                let value = t.get("value").or_else(|| t.get("Value"))?.as_str()?;
                (key == "x509Issuer/CN").then(|| format!("{ROLES_ANYWHERE}/issuer/CN={value}"))
            })
        });
    Principal {
        arn: None,
        kind: IdentityType::Other("X509Certificate".to_string()),
        name: text(request.and_then(|r| r.get("sourceIdentity"))),
        provider: Some(issuer.unwrap_or_else(|| format!("{ROLES_ANYWHERE}/issuer/unknown"))),
    }
}

/// A console role switch: `userIdentity` is the session it began,
/// `additionalEventData.SwitchFrom` who switched.
fn console_switch(
    record: &Record<'_>,
    issued_at: Option<i64>,
) -> Result<Option<Issued>, (&'static str, &'static str)> {
    let outcome = record
        .response_elements
        .as_ref()
        .and_then(|r| r.get("SwitchRole"))
        .and_then(Value::as_str);
    if outcome != Some("Success") {
        return Ok(None);
    }
    let session = record
        .user_identity
        .as_ref()
        .and_then(|u| u.arn.as_deref())
        .filter(|a| a.contains(":assumed-role/"))
        .ok_or(("userIdentity.arn", "is not an assumed role's session"))?;
    let from = record
        .switch_from()
        .filter(|a| a.starts_with("arn:"))
        .ok_or(("additionalEventData.SwitchFrom", "is missing"))?;
    let issued_at = issued_at.ok_or(("eventTime", "is missing or not a time"))?;
    Ok(Some(Issued {
        key: console_key(session, issued_at),
        issued_at: Some(issued_at),
        expires: Some(issued_at + CONSOLE_SESSION_SECONDS),
        session: Some(session.to_string()),
        asker: Principal {
            kind: IdentityType::of_arn(&from),
            arn: Some(from),
            name: None,
            provider: None,
        },
        asker_key: None,
    }))
}

/// `credentials.expiration` as CloudTrail writes it (`Aug 1, 2024,
/// 11:45:22 AM`, UTC), or RFC 3339.
fn expiry(text: &str) -> Option<i64> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let dt = jiff::civil::DateTime::strptime("%b %d, %Y, %I:%M:%S %p", text).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_is_read_in_cloudtrails_format_and_rfc_3339() {
        assert_eq!(expiry("Aug 1, 2024, 11:45:22 AM"), Some(1_722_512_722));
        assert_eq!(
            expiry("Aug 1, 2024, 11:45:22 PM"),
            Some(1_722_512_722 + 12 * 3600)
        );
        assert_eq!(expiry("2024-08-01T11:45:22Z"), Some(1_722_512_722));
        assert_eq!(expiry("soon"), None);
    }

    #[test]
    fn the_table_is_sorted_and_each_row_is_found() {
        for pair in SESSION_EVENTS.windows(2) {
            assert!((pair[0].source, pair[0].name) < (pair[1].source, pair[1].name));
        }
        for e in SESSION_EVENTS {
            assert!(lookup(e.source.as_bytes(), e.name.as_bytes()).is_some());
            assert!(issues_credentials(Some(e.source.as_bytes())));
        }
        assert!(lookup(STS.as_bytes(), b"GetCallerIdentity").is_none());
    }

    #[test]
    fn a_saml_session_begins_with_the_providers_user() {
        let rec = Record::parse(
            br#"{"userIdentity":{"type":"SAMLUser","principalId":"x","userName":"alice@example.com","identityProvider":"y"},
                "requestParameters":{"principalArn":"arn:aws:iam::1:saml-provider/Okta","roleArn":"arn:aws:iam::1:role/Dev"},
                "responseElements":{"subject":"alice@example.com","issuer":"http://www.okta.com/x",
                  "credentials":{"accessKeyId":"ASIASAML"},"assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/Dev/alice@example.com"}}}"#,
        )
        .unwrap();
        let e = lookup(STS.as_bytes(), b"AssumeRoleWithSAML").unwrap();
        let got = e.issued(&rec).unwrap().unwrap();
        assert_eq!(got.key, "ASIASAML");
        assert_eq!(got.asker_key, None);
        assert_eq!(
            got.asker,
            Principal {
                arn: None,
                kind: IdentityType::SAMLUser,
                name: Some("alice@example.com".into()),
                provider: Some("arn:aws:iam::1:saml-provider/Okta".into()),
            }
        );
        assert_eq!(
            got.session.as_deref(),
            Some("arn:aws:sts::1:assumed-role/Dev/alice@example.com")
        );
    }
}
