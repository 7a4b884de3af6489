//! The tag policy: which tags attribution writes, and what compliance asks.
//!
//! The YAML is read into plain serde structs, then compiled into types that
//! cannot hold an invalid key, template or pattern.

pub mod org;
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
    #[serde(default)]
    protect: Option<Vec<String>>,
    #[serde(default)]
    protect_allow: Vec<String>,
    #[serde(default)]
    enforce: bool,
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
    #[serde(default)]
    prohibited: Vec<String>,
    #[serde(default)]
    tag_count_warning: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    resource_types: Option<Vec<String>>,
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
    /// The 1-based line of `text` the error's field sits on, for errors the
    /// YAML reader did not place itself (a bad pattern, a reserved key).
    pub fn line_in(&self, text: &str) -> Option<usize> {
        line_of(text, &self.field)
    }

    fn at(field: impl Into<String>, message: impl ToString) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Finds a dotted field (`compliance.required.App.pattern`, `a.b[2]`) in
/// block-style YAML by its keys and their indentation; what is written
/// inline is placed on its enclosing key's line.
fn line_of(text: &str, field: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut indent: Option<usize> = None;
    let mut found = None;
    for seg in field.split('.') {
        let key = seg.split('[').next().unwrap_or(seg);
        let hit = lines.iter().enumerate().skip(from).find_map(|(n, l)| {
            let body = l.trim_start();
            let depth = l.len() - body.len();
            if body.is_empty() || body.starts_with('#') {
                return None;
            }
            if indent.is_some_and(|i| depth <= i) {
                return Some(None);
            }
            let unquoted = body.trim_start_matches(['"', '\'']);
            let matches = unquoted
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start_matches(['"', '\'']).starts_with(':'));
            matches.then_some(Some((n, depth)))
        });
        // A key written inline (`{allowed: [a]}`) has no line of its own:
        // the nearest enclosing key's line is where to look.
        let Some((n, depth)) = hit.flatten() else {
            return found;
        };
        found = Some(n + 1);
        from = n + 1;
        indent = Some(depth);
    }
    found
}

/// Tags attribution writes, and whether it may replace existing values.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub tags: BTreeMap<TagKey, Template>,
    /// When false (the default), a key the resource already has is left alone.
    pub overwrite: bool,
    /// The keys that are evidence (`CreatedBy`, `CreatedDate` by default,
    /// those of them the policy writes): a creator who presets one to
    /// another value than tagwarden's is a finding, not just a kept tag.
    pub protect: Vec<TagKey>,
    /// Preset values of protected keys that are no finding (`*` wildcards):
    /// tools that set their own, e.g. `terraform`.
    pub protect_allow: Vec<String>,
    /// Correct a protected key a creator preset, whatever `overwrite` says.
    pub enforce: bool,
}

/// Keys protected when the policy names none.
pub const DEFAULT_PROTECT: [&str; 2] = ["CreatedBy", "CreatedDate"];

impl Attribution {
    pub fn is_protected(&self, key: &str) -> bool {
        self.protect.iter().any(|k| k.as_str() == key)
    }

    /// Whether a creator's preset value of a protected key stands.
    pub fn allows(&self, value: &str) -> bool {
        self.protect_allow
            .iter()
            .any(|p| crate::compliance::wildcard(p, value))
    }
}

/// A value rule: `allowed` values (each with at most one `*`) and/or a regex,
/// for the key on `resource_types` only when set (as Organizations'
/// `report_required_tag_for` names them), else on every type in scope.
#[derive(Debug, Clone)]
pub struct Rule {
    pub allowed: Vec<String>,
    pub pattern: Option<Regex>,
    pub resource_types: Option<Vec<String>>,
}

/// What compliance asks of resources in scope.
#[derive(Debug, Clone)]
pub struct Compliance {
    /// `service:type` or `service:*`; `*` alone means every type.
    pub resource_types: Vec<String>,
    pub required: BTreeMap<TagKey, Rule>,
    pub optional: BTreeMap<TagKey, Rule>,
    pub remediation: BTreeMap<TagKey, Template>,
    /// Keys no resource may carry; each may hold one `*` wildcard. Matched
    /// case-insensitively, so a differently spelled copy is caught too.
    pub prohibited: Vec<String>,
    /// Warn (not a violation) when a resource carries this many user tags:
    /// AWS stops at 50.
    pub tag_count_warning: usize,
}

/// The default warning threshold for the tag count.
pub const TAG_COUNT_WARNING: usize = 45;

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
            if let Some(types) = &r.resource_types {
                check_types(&format!("{field}.{k}.resource_types"), types)?;
            }
            Ok((
                key(field, &k)?,
                Rule {
                    allowed: r.allowed,
                    pattern,
                    resource_types: r.resource_types,
                },
            ))
        })
        .collect()
}

/// Resource types as Organizations names them: `*`, `service:*` or
/// `service:type`.
fn check_types(field: &str, types: &[String]) -> Result<(), PolicyError> {
    for (i, t) in types.iter().enumerate() {
        let ok = t == "*"
            || t.split_once(':').is_some_and(|(svc, ty)| {
                !svc.is_empty()
                    && !ty.is_empty()
                    && !svc.contains('*')
                    && (ty == "*" || !ty.contains('*'))
            });
        if !ok {
            return Err(PolicyError::at(
                format!("{field}[{i}]"),
                format!("`{t}`: use `*`, `service:*` or `service:type` (e.g. `ec2:instance`)"),
            ));
        }
    }
    Ok(())
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
            protect: None,
            protect_allow: Vec::new(),
            enforce: false,
        });
        let tags: BTreeMap<TagKey, Template> = attribution
            .tags
            .iter()
            .map(|(k, t)| {
                Ok((
                    key("attribution.tags", k)?,
                    template("attribution.tags", k, t)?,
                ))
            })
            .collect::<Result<_, PolicyError>>()?;
        let protect = match &attribution.protect {
            None => DEFAULT_PROTECT
                .iter()
                .filter_map(|k| tags.keys().find(|t| t.as_str() == *k).cloned())
                .collect(),
            Some(keys) => keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let field = format!("attribution.protect[{i}]");
                    let key = TagKey::new(k).map_err(|e| PolicyError::at(&field, e))?;
                    match tags.contains_key(&key) {
                        true => Ok(key),
                        false => Err(PolicyError::at(
                            field,
                            format!("`{k}` is not one of attribution.tags: only what tagwarden writes can be protected"),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, PolicyError>>()?,
        };
        for (i, p) in attribution.protect_allow.iter().enumerate() {
            if p.is_empty() || p.matches('*').count() > 1 {
                return Err(PolicyError::at(
                    format!("attribution.protect_allow[{i}]"),
                    format!("`{p}`: a value, with at most one `*` wildcard"),
                ));
            }
        }
        let compliance = raw.compliance.unwrap_or(RawCompliance {
            resource_types: None,
            required: BTreeMap::new(),
            optional: BTreeMap::new(),
            remediation: BTreeMap::new(),
            prohibited: Vec::new(),
            tag_count_warning: None,
        });
        for (i, p) in compliance.prohibited.iter().enumerate() {
            if p.is_empty() || p.matches('*').count() > 1 {
                return Err(PolicyError::at(
                    format!("compliance.prohibited[{i}]"),
                    format!("`{p}`: a key, with at most one `*` wildcard"),
                ));
            }
        }
        let tag_count_warning = compliance.tag_count_warning.unwrap_or(TAG_COUNT_WARNING);
        if !(1..=crate::tags::MAX_TAGS).contains(&tag_count_warning) {
            return Err(PolicyError::at(
                "compliance.tag_count_warning",
                format!("{tag_count_warning}: between 1 and AWS's limit of 50"),
            ));
        }
        let resource_types = compliance
            .resource_types
            .unwrap_or_else(|| vec!["*".into()]);
        check_types("compliance.resource_types", &resource_types)?;
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
                protect,
                protect_allow: attribution.protect_allow,
                enforce: attribution.enforce,
            },
            compliance: Compliance {
                resource_types,
                required: rules("compliance.required", compliance.required)?,
                optional: rules("compliance.optional", compliance.optional)?,
                remediation,
                prohibited: compliance.prohibited,
                tag_count_warning,
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
    fn a_key_may_name_its_own_resource_types_and_bad_ones_are_placed() {
        let ok = "compliance:\n  required:\n    Owner: {resource_types: [\"ec2:instance\"]}\n";
        let p = Policy::from_yaml(ok).unwrap();
        let owner = &p.compliance.required[&TagKey::new("Owner").unwrap()];
        assert_eq!(
            owner.resource_types.as_deref(),
            Some(&["ec2:instance".to_string()][..])
        );
        let bad = "compliance:\n  optional:\n    Owner: {resource_types: [\"ec2\"]}\n";
        let e = Policy::from_yaml(bad).unwrap_err();
        assert_eq!(e.field, "compliance.optional.Owner.resource_types[0]");
    }

    #[test]
    fn protected_keys_default_to_the_evidence_and_must_be_written() {
        let p = Policy::default_policy();
        let keys: Vec<_> = p.attribution.protect.iter().map(TagKey::as_str).collect();
        assert_eq!(keys, ["CreatedBy", "CreatedDate"]);
        assert!(!p.attribution.enforce);
        let own = "attribution:\n  tags:\n    CreatedBy: \"{creator.arn}\"\n";
        let p = Policy::from_yaml(own).unwrap();
        let keys: Vec<_> = p.attribution.protect.iter().map(TagKey::as_str).collect();
        assert_eq!(keys, ["CreatedBy"], "only the defaults it writes");
        let p = Policy::from_yaml(&format!(
            "{own}  protect: []\n  protect_allow: [terraform, \"arn:aws:iam::*:role/ci\"]\n  enforce: true\n"
        ))
        .unwrap();
        assert!(p.attribution.protect.is_empty() && p.attribution.enforce);
        assert!(p.attribution.allows("arn:aws:iam::1:role/ci") && !p.attribution.allows("bob"));
        let e = Policy::from_yaml(&format!("{own}  protect: [Owner]\n")).unwrap_err();
        assert_eq!(e.field, "attribution.protect[0]");
        let e = Policy::from_yaml(&format!("{own}  protect_allow: [\"a*b*\"]\n")).unwrap_err();
        assert_eq!(e.field, "attribution.protect_allow[0]");
    }

    #[test]
    fn default_policy_has_the_attribution_tags() {
        let p = Policy::default_policy();
        let keys: Vec<_> = p.attribution.tags.keys().map(TagKey::as_str).collect();
        assert_eq!(
            keys,
            ["CreatedBy", "CreatedByOrigin", "CreatedDate", "ManagedBy"]
        );
        let template = |k: &str| p.attribution.tags[&TagKey::new(k).unwrap()].to_string();
        assert_eq!(template("CreatedBy"), "{creator.responsible}");
        assert_eq!(template("CreatedByOrigin"), "{creator.origin}");
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
        let text = "compliance:\n  required:\n    App: {pattern: \"[\"}\n";
        let e = Policy::from_yaml(text).unwrap_err();
        assert_eq!(e.field, "compliance.required.App.pattern");
        assert_eq!(e.line_in(text), Some(3));
    }

    #[test]
    fn fields_are_found_by_key_and_indentation() {
        let text = "# c\nattribution:\n  tags:\n    Owner: x\ncompliance:\n  required:\n    \
                    Owner: {}\n    \"Team\": {allowed: [a]}\n  prohibited:\n    - tmp\n";
        assert_eq!(line_of(text, "attribution.tags.Owner"), Some(4));
        assert_eq!(line_of(text, "compliance.required.Owner"), Some(7));
        assert_eq!(line_of(text, "compliance.required.Team.allowed"), Some(8));
        assert_eq!(line_of(text, "compliance.prohibited[0]"), Some(9));
        assert_eq!(line_of(text, "compliance.optional.X"), Some(5));
        assert_eq!(line_of(text, "nowhere"), None);
    }
}
