//! AWS Organizations tag policy → tagwarden policy. Organizations does not
//! judge untagged resources nor keys a policy does not name, so every key
//! goes under `optional`, unless the caller requires it or the policy does
//! (`report_required_tag_for`: required on the types it names).

use super::{PolicyError, DEFAULT_POLICY_YAML};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One statement's value: `@@assign` (a string or a list), then `@@append`,
/// then `@@remove`; other operators only govern inheritance.
fn values(field: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    let list = |op: &str| -> Result<Vec<String>, PolicyError> {
        match v.get(op) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        PolicyError::at(format!("{field}.{op}"), "values are strings")
                    })
                })
                .collect(),
            Some(_) => Err(PolicyError::at(
                format!("{field}.{op}"),
                "a string or a list of strings",
            )),
        }
    };
    let mut out = list("@@assign")?;
    for a in list("@@append")? {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    let remove = list("@@remove")?;
    out.retain(|x| !remove.contains(x));
    Ok(out)
}

#[derive(Serialize)]
struct Rule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resource_types: Vec<String>,
}

/// Organizations' resource types: `service:ALL_SUPPORTED` is `service:*`.
fn types(field: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    Ok(values(field, v)?
        .into_iter()
        .map(|t| t.replace(":ALL_SUPPORTED", ":*"))
        .collect())
}

#[derive(Serialize)]
struct Compliance {
    resource_types: Vec<String>,
    required: BTreeMap<String, Rule>,
    optional: BTreeMap<String, Rule>,
}

#[derive(Serialize)]
struct Out {
    compliance: Compliance,
}

/// Converts the policy's JSON; `require` names keys (in any case) that
/// must be present. Returns the YAML, attribution included.
pub fn import(json: &str, require: &[String]) -> Result<String, PolicyError> {
    let doc: Value = serde_json::from_str(json).map_err(|e| PolicyError::at("policy", e))?;
    let tags = doc
        .get("tags")
        .and_then(Value::as_object)
        .ok_or_else(|| PolicyError::at("tags", "an Organizations tag policy starts with `tags`"))?;
    let mut required = BTreeMap::new();
    let mut optional = BTreeMap::new();
    let mut enforced = Vec::new();
    let mut wanted: Vec<&String> = require.iter().collect();
    for (policy_key, stmt) in tags {
        let field = format!("tags.{policy_key}");
        // Without `tag_key`, Organizations requires the key in lowercase.
        let key = match stmt.get("tag_key") {
            Some(k) => values(&format!("{field}.tag_key"), k)?
                .pop()
                .ok_or_else(|| PolicyError::at(format!("{field}.tag_key"), "no key assigned"))?,
            None => policy_key.to_lowercase(),
        };
        if !key.eq_ignore_ascii_case(policy_key) {
            return Err(PolicyError::at(
                format!("{field}.tag_key"),
                format!("`{key}` must equal the policy key `{policy_key}` but for case"),
            ));
        }
        let allowed = match stmt.get("tag_value") {
            Some(v) => values(&format!("{field}.tag_value"), v)?,
            None => Vec::new(),
        };
        // `*` alone allows every value: no rule.
        let allowed = if allowed.iter().any(|a| a == "*") {
            Vec::new()
        } else {
            allowed
        };
        if let Some(e) = stmt.get("enforced_for") {
            let types = types(&format!("{field}.enforced_for"), e)?;
            if !types.is_empty() {
                enforced.push(format!("{key}: {}", types.join(", ")));
            }
        }
        let reported = match stmt.get("report_required_tag_for") {
            Some(r) => types(&format!("{field}.report_required_tag_for"), r)?,
            None => Vec::new(),
        };
        let before = wanted.len();
        wanted.retain(|r| !r.eq_ignore_ascii_case(&key));
        if wanted.len() < before {
            // Required everywhere: the caller's word covers every type.
            let resource_types = Vec::new();
            required.insert(
                key,
                Rule {
                    allowed,
                    resource_types,
                },
            );
        } else if !reported.is_empty() {
            let resource_types = reported;
            required.insert(
                key,
                Rule {
                    allowed,
                    resource_types,
                },
            );
        } else {
            let resource_types = Vec::new();
            optional.insert(
                key,
                Rule {
                    allowed,
                    resource_types,
                },
            );
        }
    }
    if let Some(r) = wanted.first() {
        return Err(PolicyError::at(
            "--require",
            format!("`{r}` is not a key of this tag policy"),
        ));
    }
    let body = serde_yaml_ng::to_string(&Out {
        compliance: Compliance {
            resource_types: vec!["*".into()],
            required,
            optional,
        },
    })
    .map_err(|e| PolicyError::at("policy", e))?;
    let attribution: String = DEFAULT_POLICY_YAML
        .lines()
        .skip_while(|l| !l.starts_with("attribution:"))
        .take_while(|l| !l.starts_with("compliance:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = String::from(
        "# Imported from an AWS Organizations tag policy. As there, untagged\n\
         # resources and keys not named here are not judged; keys are optional\n\
         # unless imported with --require.\n",
    );
    if !enforced.is_empty() {
        out.push_str(
            "# enforced_for (Organizations refuses non-compliant tagging of these types):\n",
        );
        for e in &enforced {
            out.push_str(&format!("#   {e}\n"));
        }
    }
    out.push_str(&attribution);
    out.push_str(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::evaluate;
    use crate::policy::Policy;
    use std::collections::BTreeMap;

    /// The basic example of the Organizations user guide.
    const BASIC: &str = r#"{ "tags": { "costcenter": { "tag_key": { "@@assign": "CostCenter" },
        "tag_value": { "@@assign": [ "100", "200", "300*" ] },
        "enforced_for": { "@@assign": [ "secretsmanager:ALL_SUPPORTED" ] } } } }"#;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_guides_example_keeps_its_meaning() {
        let yaml = import(BASIC, &[]).unwrap();
        assert!(yaml.contains("CostCenter: secretsmanager:*"), "{yaml}");
        let p = Policy::from_yaml(&yaml).unwrap();
        assert!(p.compliance.required.is_empty());
        assert_eq!(
            p.attribution.tags,
            Policy::default_policy().attribution.tags,
            "attribution is kept"
        );
        let c = &p.compliance;
        // Untagged: not judged, as in Organizations.
        assert!(evaluate(c, "ec2:instance", &tags(&[])).compliant);
        assert!(evaluate(c, "ec2:instance", &tags(&[("CostCenter", "300-eu")])).compliant);
        assert!(!evaluate(c, "ec2:instance", &tags(&[("CostCenter", "400")])).compliant);
        // Wrong case of the key is non-compliant.
        assert!(!evaluate(c, "ec2:instance", &tags(&[("costcenter", "100")])).compliant);
    }

    #[test]
    fn require_makes_keys_required_and_must_name_a_key() {
        let yaml = import(BASIC, &["costcenter".into()]).unwrap();
        let p = Policy::from_yaml(&yaml).unwrap();
        assert!(!evaluate(&p.compliance, "ec2:instance", &tags(&[])).compliant);
        let e = import(BASIC, &["Owner".into()]).unwrap_err();
        assert_eq!(e.field, "--require");
    }

    #[test]
    fn append_and_remove_apply_after_assign_and_a_missing_tag_key_is_lowercase() {
        let json = r#"{"tags": {
            "Env": {"tag_value": {"@@assign": ["dev", "prod"], "@@append": ["qa"], "@@remove": ["dev"]}},
            "owner": {"tag_key": {"@@assign": "Owner"}, "tag_value": {"@@assign": "*"}}}}"#;
        let p = Policy::from_yaml(&import(json, &[]).unwrap()).unwrap();
        let c = &p.compliance;
        let env = c
            .optional
            .keys()
            .find(|k| k.as_str() == "env")
            .expect("lowercase key");
        assert_eq!(c.optional[env].allowed, ["prod", "qa"]);
        assert!(c
            .optional
            .iter()
            .any(|(k, r)| k.as_str() == "Owner" && r.allowed.is_empty()));
    }

    #[test]
    fn report_required_tag_for_makes_a_key_required_on_those_types_only() {
        let json = r#"{"tags": {"owner": {
            "tag_key": {"@@assign": "Owner"},
            "report_required_tag_for": {"@@assign": ["ec2:instance", "s3:ALL_SUPPORTED"]}},
            "costcenter": {"tag_key": {"@@assign": "CostCenter"}}}}"#;
        let yaml = import(json, &[]).unwrap();
        let p = Policy::from_yaml(&yaml).unwrap();
        let c = &p.compliance;
        assert!(!evaluate(c, "ec2:instance", &tags(&[])).compliant, "{yaml}");
        assert!(!evaluate(c, "s3:bucket", &tags(&[])).compliant);
        assert!(evaluate(c, "ec2:volume", &tags(&[])).compliant, "not named");
        assert!(evaluate(c, "ec2:instance", &tags(&[("Owner", "a")])).compliant);
        // A key the policy does not require stays optional.
        assert!(c.optional.keys().any(|k| k.as_str() == "CostCenter"));
        // --require widens it to every type.
        let p = Policy::from_yaml(&import(json, &["owner".into()]).unwrap()).unwrap();
        assert!(!evaluate(&p.compliance, "ec2:volume", &tags(&[])).compliant);
    }

    #[test]
    fn bad_documents_name_their_field() {
        assert_eq!(import("{}", &[]).unwrap_err().field, "tags");
        let e = import(r#"{"tags":{"a":{"tag_key":{"@@assign":"B"}}}}"#, &[]).unwrap_err();
        assert_eq!(e.field, "tags.a.tag_key");
        let e = import(r#"{"tags":{"a":{"tag_value":{"@@assign":[1]}}}}"#, &[]).unwrap_err();
        assert_eq!(e.field, "tags.a.tag_value.@@assign");
    }
}
