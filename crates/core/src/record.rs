//! The CloudTrail record model: borrowed where it can be, lenient about what
//! it does not need, and precise about what is missing.
//!
//! Fields are optional at parse time so that one absent field becomes an
//! error naming that field, not a serde message about the whole record.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

type Str<'a> = Option<Cow<'a, str>>;

/// A record; its request and response are JSON values, unless a narrower
/// view is asked for ([`Record::parse_session`]).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a, Q = Value, P = Value> {
    #[serde(borrow)]
    pub event_version: Str<'a>,
    #[serde(borrow)]
    pub event_source: Str<'a>,
    #[serde(borrow)]
    pub event_name: Str<'a>,
    #[serde(borrow)]
    pub event_time: Str<'a>,
    #[serde(borrow, rename = "eventID")]
    pub event_id: Str<'a>,
    #[serde(borrow)]
    pub event_type: Str<'a>,
    #[serde(borrow)]
    pub aws_region: Str<'a>,
    #[serde(borrow)]
    pub recipient_account_id: Str<'a>,
    #[serde(borrow, rename = "sourceIPAddress")]
    pub source_ip_address: Str<'a>,
    #[serde(borrow)]
    pub user_agent: Str<'a>,
    #[serde(borrow)]
    pub error_code: Str<'a>,
    #[serde(default, borrow)]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(default)]
    pub request_parameters: Option<Q>,
    #[serde(default)]
    pub response_elements: Option<P>,
    /// `"true"` when the call came from the console: the one kind of call
    /// a console role switch ([`crate::catalog::sessions`]) explains. Kept
    /// raw: a field of another shape must not cost the record.
    #[serde(default, borrow)]
    pub session_credential_from_console: Option<&'a serde_json::value::RawValue>,
    /// Kept raw, read only for a console role switch
    /// ([`Record::switch_from`]).
    #[serde(default, borrow)]
    pub additional_event_data: Option<&'a serde_json::value::RawValue>,
}

impl Record<'_> {
    pub fn from_console(&self) -> bool {
        self.session_credential_from_console
            .is_some_and(|v| matches!(v.get(), "\"true\"" | "true"))
    }

    /// `additionalEventData.SwitchFrom`: who made a console role switch.
    pub fn switch_from(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Switch {
            #[serde(rename = "SwitchFrom")]
            switch_from: Option<String>,
        }
        let raw = self.additional_event_data?;
        serde_json::from_str::<Switch>(raw.get()).ok()?.switch_from
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Str<'a>,
    #[serde(borrow)]
    pub principal_id: Str<'a>,
    #[serde(borrow)]
    pub arn: Str<'a>,
    #[serde(borrow)]
    pub account_id: Str<'a>,
    #[serde(borrow)]
    pub user_name: Str<'a>,
    #[serde(borrow)]
    pub invoked_by: Str<'a>,
    #[serde(borrow)]
    pub identity_provider: Str<'a>,
    /// The key the call was signed with: what links it to the call that
    /// issued that key ([`crate::chains`]).
    #[serde(borrow)]
    pub access_key_id: Str<'a>,
    #[serde(default, borrow)]
    pub session_context: Option<SessionContext<'a>>,
    #[serde(default, borrow)]
    pub on_behalf_of: Option<OnBehalfOf<'a>>,
}

/// [`Record::parse_session`]'s narrow views.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRequest<'a> {
    #[serde(borrow)]
    principal_arn: Str<'a>,
    /// Set by IAM Roles Anywhere to the certificate's subject.
    #[serde(borrow)]
    source_identity: Str<'a>,
    /// Session tags: IAM Roles Anywhere's name the certificate's issuer.
    /// Kept raw: a list of another shape must not cost the hop.
    #[serde(default, borrow)]
    tags: Option<&'a serde_json::value::RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionResponse<'a> {
    #[serde(default, borrow)]
    credentials: Option<IssuedKey<'a>>,
    #[serde(default, borrow)]
    assumed_role_user: Option<SessionArn<'a>>,
    #[serde(default, borrow)]
    federated_user: Option<SessionArn<'a>>,
    #[serde(borrow)]
    subject: Str<'a>,
    #[serde(borrow)]
    issuer: Str<'a>,
    #[serde(borrow)]
    subject_from_web_identity_token: Str<'a>,
    #[serde(borrow)]
    provider: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssuedKey<'a> {
    #[serde(borrow)]
    access_key_id: Str<'a>,
    /// How long the store keeps the hop.
    #[serde(borrow)]
    expiration: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct SessionArn<'a> {
    #[serde(borrow)]
    arn: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(default, borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    #[serde(default, borrow)]
    pub source_identity: Str<'a>,
    #[serde(default, borrow)]
    pub attributes: Option<SessionAttributes<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes<'a> {
    /// When the session's credentials were issued: which of the sessions
    /// sharing a name a call belongs to.
    #[serde(borrow)]
    pub creation_date: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Str<'a>,
    #[serde(borrow)]
    pub arn: Str<'a>,
    #[serde(borrow)]
    pub user_name: Str<'a>,
}

/// IAM Identity Center users act "on behalf of" a user in an identity store.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnBehalfOf<'a> {
    #[serde(borrow)]
    pub user_id: Str<'a>,
    #[serde(borrow)]
    pub identity_store_arn: Str<'a>,
}

/// Why a record could not be used; `field` is a path inside the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl ToString) -> Self {
        Self {
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    pub fn missing(field: &str) -> Self {
        Self {
            field: field.to_string(),
            message: "missing or empty".to_string(),
        }
    }
}

impl<'a> Record<'a> {
    /// Parses one record, naming the field where parsing failed.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FieldError> {
        // Tracking the path costs on every field: it is asked for only
        // when there is a bad one to name.
        if let Ok(record) = serde_json::from_slice(bytes) {
            return Ok(record);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            // serde_json appends " at line L column C": keep it, it helps.
            FieldError {
                field: if field == "." { "record".into() } else { field },
                message: inner.to_string(),
            }
        })
    }

    /// A credential-issuing record, parsed narrowly: of its request and
    /// response only what a session hop needs is kept, and the rest (the
    /// session token above all) is scanned past, not built. Such records
    /// are a large share of a trail.
    pub fn parse_session(bytes: &'a [u8]) -> Result<Self, FieldError> {
        // The path of a bad field costs an allocation per key: it is
        // found only when there is one.
        let n: Record<'a, SessionRequest<'a>, SessionResponse<'a>> =
            match serde_json::from_slice(bytes) {
                Ok(n) => n,
                Err(_) => {
                    let mut de = serde_json::Deserializer::from_slice(bytes);
                    serde_path_to_error::deserialize(&mut de).map_err(|e| {
                        let field = e.path().to_string();
                        FieldError {
                            field: if field == "." { "record".into() } else { field },
                            message: e.into_inner().to_string(),
                        }
                    })?
                }
            };
        let mut response = serde_json::Map::new();
        if let Some(r) = &n.response_elements {
            let mut put = |k: &str, v: Value| {
                response.insert(k.to_string(), v);
            };
            let text = |s: &Str<'_>| s.as_deref().map(|s| Value::String(s.to_string()));
            if let Some(c) = &r.credentials {
                if let Some(key) = text(&c.access_key_id) {
                    let mut credentials = serde_json::json!({ "accessKeyId": key });
                    if let Some(expiration) = text(&c.expiration) {
                        credentials["expiration"] = expiration;
                    }
                    put("credentials", credentials);
                }
            }
            for (name, user) in [
                ("assumedRoleUser", &r.assumed_role_user),
                ("federatedUser", &r.federated_user),
            ] {
                if let Some(arn) = user.as_ref().and_then(|u| text(&u.arn)) {
                    put(name, serde_json::json!({ "arn": arn }));
                }
            }
            for (name, v) in [
                ("subject", &r.subject),
                ("issuer", &r.issuer),
                (
                    "subjectFromWebIdentityToken",
                    &r.subject_from_web_identity_token,
                ),
                ("provider", &r.provider),
            ] {
                if let Some(v) = text(v) {
                    put(name, v);
                }
            }
        }
        let request = n.request_parameters.map(|r| {
            let mut request = serde_json::Map::new();
            for (name, v) in [
                ("principalArn", r.principal_arn),
                ("sourceIdentity", r.source_identity),
            ] {
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    request.insert(name.to_string(), Value::String(v.into_owned()));
                }
            }
            if let Some(tags) = r.tags.and_then(|t| serde_json::from_str(t.get()).ok()) {
                request.insert("tags".to_string(), tags);
            }
            Value::Object(request)
        });
        Ok(Record {
            event_version: n.event_version,
            event_source: n.event_source,
            event_name: n.event_name,
            event_time: n.event_time,
            event_id: n.event_id,
            event_type: n.event_type,
            aws_region: n.aws_region,
            recipient_account_id: n.recipient_account_id,
            source_ip_address: n.source_ip_address,
            user_agent: n.user_agent,
            error_code: n.error_code,
            user_identity: n.user_identity,
            request_parameters: request,
            response_elements: n.response_elements.map(|_| Value::Object(response)),
            session_credential_from_console: n.session_credential_from_console,
            additional_event_data: n.additional_event_data,
        })
    }

    /// A required string field, or an error that names it.
    pub fn required<'s>(value: &'s Str<'a>, field: &str) -> Result<&'s str, FieldError> {
        value
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| FieldError::missing(field))
    }

    /// `requestParameters` or `responseElements`.
    pub fn section(&self, name: &str) -> Option<&Value> {
        match name {
            "requestParameters" => self.request_parameters.as_ref(),
            "responseElements" => self.response_elements.as_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_error_names_its_field() {
        let err = Record::parse(br#"{"eventName":"X","userIdentity":{"type":7}}"#).unwrap_err();
        assert_eq!(err.field, "userIdentity.type");
        // Past the fields kept raw, whatever their shape.
        let err = Record::parse(
            br#"{"additionalEventData":{"SwitchFrom":"arn:aws:iam::1:user/a"},"sessionCredentialFromConsole":"true","userIdentity":{"type":7}}"#,
        )
        .unwrap_err();
        assert_eq!(err.field, "userIdentity.type");
        let r = Record::parse(br#"{"additionalEventData":{"SwitchFrom":"arn:aws:iam::1:user/a"},"sessionCredentialFromConsole":"true"}"#).unwrap();
        assert!(r.from_console());
        assert_eq!(r.switch_from().as_deref(), Some("arn:aws:iam::1:user/a"));
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let r = Record::parse(br#"{"eventName":"A\u0042"}"#).unwrap();
        assert_eq!(r.event_name.as_deref(), Some("AB"));
    }

    #[test]
    fn missing_fields_are_named() {
        let r = Record::parse(br#"{"eventName":""}"#).unwrap();
        assert_eq!(
            Record::required(&r.event_name, "eventName")
                .unwrap_err()
                .to_string(),
            "eventName: missing or empty"
        );
    }
}
