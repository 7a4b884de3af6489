//! A small path language for finding values inside a record's JSON.
//!
//! `responseElements.instancesSet.items[].instanceId` walks objects by key,
//! fans out over every element at `[]`, and keeps only matching elements at
//! `[field=value]` (EC2 tag specifications carry a `resourceType`).

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Each,
    Where { field: String, equals: String },
}

/// A parsed path; parse once, evaluate per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    steps: Vec<Step>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad path `{path}`: {why}")]
pub struct PathError {
    pub path: String,
    pub why: &'static str,
}

impl Path {
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let err = |why| PathError {
            path: text.to_string(),
            why,
        };
        let mut steps = Vec::new();
        for part in text.split('.') {
            let (key, rest) = match part.find('[') {
                Some(i) => (&part[..i], Some(&part[i..])),
                None => (part, None),
            };
            if key.is_empty() {
                return Err(err("empty key"));
            }
            steps.push(Step::Key(key.to_string()));
            let Some(mut rest) = rest else { continue };
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| err("unclosed '['"))?;
                let inner = &rest[1..close];
                if inner.is_empty() {
                    steps.push(Step::Each);
                } else {
                    let (field, equals) = inner
                        .split_once('=')
                        .ok_or_else(|| err("a filter is [field=value]"))?;
                    steps.push(Step::Where {
                        field: field.to_string(),
                        equals: equals.to_string(),
                    });
                }
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(err("text after ']'"));
                }
            }
        }
        Ok(Self {
            steps,
            text: text.to_string(),
        })
    }

    /// Every value the path reaches; missing keys and nulls reach nothing.
    pub fn find<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        Self::walk(&self.steps, root)
    }

    /// Like [`Path::find`], on the value of the path's first key: records
    /// hand out their sections, not themselves as one tree.
    pub fn find_in_section<'v>(&self, section: &'v Value) -> Vec<&'v Value> {
        Self::walk(&self.steps[1..], section)
    }

    fn walk<'v>(steps: &[Step], root: &'v Value) -> Vec<&'v Value> {
        let mut cur = vec![root];
        for step in steps {
            let mut next = Vec::with_capacity(cur.len());
            for v in cur {
                match step {
                    Step::Key(k) => next.extend(v.get(k.as_str()).filter(|v| !v.is_null())),
                    Step::Each => next.extend(v.as_array().into_iter().flatten()),
                    Step::Where { field, equals } => {
                        next.extend(v.as_array().into_iter().flatten().filter(|e| {
                            e.get(field.as_str()).and_then(Value::as_str) == Some(equals)
                        }))
                    }
                }
            }
            cur = next;
        }
        cur
    }

    /// The top-level record field the path starts in.
    pub fn root(&self) -> &str {
        match &self.steps[0] {
            Step::Key(k) => k,
            _ => unreachable!("parse always starts with a key"),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_lists_and_filters() {
        let v = json!({"responseElements": {"instancesSet": {"items": [
            {"instanceId": "i-1"}, {"instanceId": "i-2"}, {"other": 1}
        ]}}, "requestParameters": {"tagSpecificationSet": {"items": [
            {"resourceType": "volume", "tags": [{"key": "a", "value": "1"}]},
            {"resourceType": "instance", "tags": [{"key": "b", "value": "2"}]}
        ]}}});
        let p = Path::parse("responseElements.instancesSet.items[].instanceId").unwrap();
        assert_eq!(p.find(&v), vec![&json!("i-1"), &json!("i-2")]);
        assert_eq!(p.root(), "responseElements");
        let t =
            Path::parse("requestParameters.tagSpecificationSet.items[resourceType=instance].tags")
                .unwrap();
        assert_eq!(t.find(&v), vec![&json!([{"key": "b", "value": "2"}])]);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", "a..b", "a[", "a[x]", "a[]b", ".a"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }
}
