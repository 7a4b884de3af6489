//! Tag keys and values that AWS will accept, by construction.
//!
//! The rules are the strictest common subset of what AWS services accept:
//! - characters: Unicode letters and digits, spaces, and `_ . : / = + - @`;
//!   any other character becomes `_`, one for one;
//! - keys: 1 to 128 characters, never starting with `aws:` in any case;
//! - values: 0 to 256 characters, truncated past that at a character
//!   boundary (so `CreatedBy` keeps the ARN's beginning);
//! - at most 50 user tags per resource.
//!
//! Cleaning is deterministic: the same input always gives the same tag.

use serde::{Serialize, Serializer};
use std::fmt;

/// AWS's limit on a key's length, in Unicode characters.
pub const MAX_KEY_CHARS: usize = 128;
/// AWS's limit on a value's length, in Unicode characters.
pub const MAX_VALUE_CHARS: usize = 256;
/// AWS's limit on user tags per resource (most services).
pub const MAX_TAGS: usize = 50;

fn allowed(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@' | ' ')
        || (c.is_whitespace() && !c.is_control())
}

fn clean(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if allowed(c) { c } else { '_' })
        .collect()
}

/// A key that AWS accepts and that tagwarden may write.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("tag key is empty")]
    Empty,
    #[error("tag key `{0}` is reserved: keys starting with `aws:` belong to AWS")]
    Reserved(String),
    #[error("tag key `{0}` is longer than {MAX_KEY_CHARS} characters")]
    TooLong(String),
    #[error("tag key `{key}` has a character AWS rejects: {ch:?}")]
    BadChar { key: String, ch: char },
}

impl TagKey {
    /// Accepts a key exactly as given, or says why AWS would refuse it.
    /// Keys come from policies written by people: reject, don't rewrite.
    pub fn new(key: &str) -> Result<Self, KeyError> {
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if is_reserved(key) {
            return Err(KeyError::Reserved(key.to_string()));
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return Err(KeyError::TooLong(key.to_string()));
        }
        if let Some(ch) = key.chars().find(|&c| !allowed(c)) {
            return Err(KeyError::BadChar {
                key: key.to_string(),
                ch,
            });
        }
        Ok(Self(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a key belongs to AWS (`aws:` in any case).
pub fn is_reserved(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

impl fmt::Display for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TagKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A value cleaned to AWS's rules; values come from events, so they are
/// rewritten rather than rejected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagValue(String);

impl TagValue {
    pub fn clean(raw: &str) -> Self {
        Self(clean(raw, MAX_VALUE_CHARS))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TagValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TagValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_follow_aws_rules() {
        assert!(TagKey::new("CreatedBy").is_ok());
        assert!(TagKey::new("team:owner/primary=x+y-z@w_.").is_ok());
        assert_eq!(TagKey::new(""), Err(KeyError::Empty));
        assert!(matches!(
            TagKey::new("AWS:cloudformation"),
            Err(KeyError::Reserved(_))
        ));
        assert!(matches!(
            TagKey::new("a,b"),
            Err(KeyError::BadChar { ch: ',', .. })
        ));
        assert!(TagKey::new(&"k".repeat(128)).is_ok());
        assert!(matches!(
            TagKey::new(&"k".repeat(129)),
            Err(KeyError::TooLong(_))
        ));
    }

    #[test]
    fn values_are_cleaned_deterministically() {
        assert_eq!(
            TagValue::clean("arn:aws:sts::1:assumed-role/R/me@dev.com").as_str(),
            "arn:aws:sts::1:assumed-role/R/me@dev.com"
        );
        assert_eq!(TagValue::clean("a,b;c\n\"d\"").as_str(), "a_b_c__d_");
        assert_eq!(TagValue::clean("Grüße 東京").as_str(), "Grüße 東京");
        assert_eq!(
            TagValue::clean(&"é".repeat(300)).as_str().chars().count(),
            256
        );
    }

    proptest! {
        #[test]
        fn cleaned_values_are_always_valid(raw in any::<String>()) {
            let v = TagValue::clean(&raw);
            prop_assert!(v.as_str().chars().count() <= MAX_VALUE_CHARS);
            prop_assert!(v.as_str().chars().all(allowed));
            prop_assert_eq!(&TagValue::clean(v.as_str()), &v, "cleaning is idempotent");
        }

        #[test]
        fn accepted_keys_are_never_reserved(raw in "(?i:aws:)?[a-zA-Z0-9 _.:/=+@-]{0,140}") {
            if let Ok(k) = TagKey::new(&raw) {
                prop_assert!(!is_reserved(k.as_str()));
                prop_assert!(!k.as_str().is_empty() && k.as_str().chars().count() <= MAX_KEY_CHARS);
            }
        }
    }
}
