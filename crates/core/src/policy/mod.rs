//! The tag policy: which tags attribution writes, and what compliance asks.
//!
//! The YAML is read into plain serde structs, then compiled into types that
//! cannot hold an invalid key, template or pattern.

pub mod template;

use crate::tags::{KeyError, TagKey};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use template::{Template, TemplateError};

/// The built-in policy, used when no `--policy` is given.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../../policies/default.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    attribution: Option<RawAttribution>,
    #[serde(default)]
    compliance: Option<RawCompliance>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribution {
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    overwrite: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompliance {
    #[serde(default)]
    resource_types: Option<Vec<String>>,
    #[serde(default)]
    required: BTreeMap<String, Option<RawRule>>,
    #[serde(default)]
    optional: BTreeMap<String, Option<RawRule>>,
    #[serde(default)]
    remediation: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    pattern: Option<String>,
}

/// A policy error, naming the field it is about.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    /// Dotted path, e.g. `attribution.tags.CreatedBy`.
    pub field: String,
    pub message: String,
}

impl PolicyError {
    fn at(field: impl Into<String>, message: impl ToString) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Tags attribution writes, and whether it may replace existing values.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub tags: BTreeMap<TagKey, Template>,
    /// When false (the default), a key the resource already has is left alone.
    pub overwrite: bool,
}

/// A value rule: `allowed` values (each with at most one `*`) and/or a regex.
#[derive(Debug, Clone)]
pub struct Rule {
    pub allowed: Vec<String>,
    pub pattern: Option<Regex>,
}

/// What compliance asks of resources in scope.
#[derive(Debug, Clone)]
pub struct Compliance {
    /// `service:type` or `service:*`; `*` alone means every type.
    pub resource_types: Vec<String>,
    pub required: BTreeMap<TagKey, Rule>,
    pub optional: BTreeMap<TagKey, Rule>,
    pub remediation: BTreeMap<TagKey, Template>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub attribution: Attribution,
    pub compliance: Compliance,
}

fn key(field: &str, k: &str) -> Result<TagKey, PolicyError> {
    TagKey::new(k).map_err(|e: KeyError| PolicyError::at(format!("{field}.{k}"), e))
}

fn template(field: &str, k: &str, t: &str) -> Result<Template, PolicyError> {
    Template::parse(t).map_err(|e: TemplateError| PolicyError::at(format!("{field}.{k}"), e))
}

fn rules(
    field: &str,
    raw: BTreeMap<String, Option<RawRule>>,
) -> Result<BTreeMap<TagKey, Rule>, PolicyError> {
    raw.into_iter()
        .map(|(k, r)| {
            let r = r.unwrap_or_default();
            for v in &r.allowed {
                if v.matches('*').count() > 1 {
                    return Err(PolicyError::at(
                        format!("{field}.{k}.allowed"),
                        format!("`{v}`: a value may hold one `*` wildcard"),
                    ));
                }
            }
            let pattern = r
                .pattern
                .map(|p| Regex::new(&p))
                .transpose()
                .map_err(|e| PolicyError::at(format!("{field}.{k}.pattern"), e))?;
            Ok((
                key(field, &k)?,
                Rule {
                    allowed: r.allowed,
                    pattern,
                },
            ))
        })
        .collect()
}

impl Policy {
    /// Parses and compiles a YAML policy.
    pub fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let raw: RawPolicy = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            PolicyError::at(
                if field == "." { "policy".into() } else { field },
                e.into_inner(),
            )
        })?;
        let attribution = raw.attribution.unwrap_or(RawAttribution {
            tags: BTreeMap::new(),
            overwrite: false,
        });
        let tags = attribution
            .tags
            .iter()
            .map(|(k, t)| {
                Ok((
                    key("attribution.tags", k)?,
                    template("attribution.tags", k, t)?,
                ))
            })
            .collect::<Result<_, PolicyError>>()?;
        let compliance = raw.compliance.unwrap_or(RawCompliance {
            resource_types: None,
            required: BTreeMap::new(),
            optional: BTreeMap::new(),
            remediation: BTreeMap::new(),
        });
        let remediation = compliance
            .remediation
            .iter()
            .map(|(k, t)| {
                Ok((
                    key("compliance.remediation", k)?,
                    template("compliance.remediation", k, t)?,
                ))
            })
            .collect::<Result<_, PolicyError>>()?;
        Ok(Self {
            attribution: Attribution {
                tags,
                overwrite: attribution.overwrite,
            },
            compliance: Compliance {
                resource_types: compliance
                    .resource_types
                    .unwrap_or_else(|| vec!["*".into()]),
                required: rules("compliance.required", compliance.required)?,
                optional: rules("compliance.optional", compliance.optional)?,
                remediation,
            },
        })
    }

    /// The built-in default policy.
    pub fn default_policy() -> Self {
        Self::from_yaml(DEFAULT_POLICY_YAML).expect("the bundled default policy is valid (tested)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_has_the_attribution_tags() {
        let p = Policy::default_policy();
        let keys: Vec<_> = p.attribution.tags.keys().map(TagKey::as_str).collect();
        assert_eq!(keys, ["CreatedBy", "CreatedDate", "ManagedBy"]);
        assert!(!p.attribution.overwrite);
        let req: Vec<_> = p.compliance.required.keys().map(TagKey::as_str).collect();
        assert_eq!(req, ["Application", "Environment", "Owner"]);
    }

    #[test]
    fn errors_name_the_field() {
        let e = Policy::from_yaml("attribution:\n  tags:\n    CreatedBy: \"{creator.nope}\"\n")
            .unwrap_err();
        assert_eq!(e.field, "attribution.tags.CreatedBy");
        let e = Policy::from_yaml("attribution:\n  tags:\n    \"aws:x\": y\n").unwrap_err();
        assert!(e.message.contains("reserved"), "{e}");
        let e = Policy::from_yaml("attribution:\n  overwrit: true\n").unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        assert!(e.message.contains("line 2"), "{e}");
        let e =
            Policy::from_yaml("compliance:\n  required:\n    App: {pattern: \"[\"}\n").unwrap_err();
        assert_eq!(e.field, "compliance.required.App.pattern");
    }
}
