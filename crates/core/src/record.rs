//! The CloudTrail record model: borrowed where it can be, lenient about what
//! it does not need, and precise about what is missing.
//!
//! Fields are optional at parse time so that one absent field becomes an
//! error naming that field, not a serde message about the whole record.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
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
    pub request_parameters: Option<Value>,
    #[serde(default)]
    pub response_elements: Option<Value>,
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
    #[serde(default, borrow)]
    pub session_context: Option<SessionContext<'a>>,
    #[serde(default, borrow)]
    pub on_behalf_of: Option<OnBehalfOf<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(default, borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    #[serde(default, borrow)]
    pub source_identity: Str<'a>,
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
