//! Tag value templates such as `"{creator.arn}"` or `"team-{account}"`.
//!
//! Templates are parsed when the policy loads, so an unknown variable is a
//! policy error, never a surprise while tagging.

use std::borrow::Cow;
use std::fmt;

/// A value a template can draw on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    CreatorArn,
    CreatorType,
    CreatorInvokedBy,
    CreatorRole,
    CreatorSession,
    CreatorAccount,
    /// Who answers "who created this": a service's launch is its parent's
    /// creator's, anything else the record's own identity.
    CreatorResponsible,
    /// The group or stack a service launched the resource for.
    CreatorLaunchedBy,
    /// Who began the session chain: its ARN, else `name@provider`.
    CreatorOrigin,
    CreatorSourceIdentity,
    EventTime,
    EventId,
    EventName,
    EventSource,
    EventSourceIp,
    EventUserAgent,
    Account,
    Region,
    Partition,
    ResourceArn,
    ResourceType,
    /// A tag the resource already has: for remediation (`{tags.CreatedBy}`).
    Tag(String),
}

/// Every variable name, for error messages and docs.
pub const VARIABLES: &[(&str, Var)] = &[
    ("creator.arn", Var::CreatorArn),
    ("creator.type", Var::CreatorType),
    ("creator.invoked_by", Var::CreatorInvokedBy),
    ("creator.role", Var::CreatorRole),
    ("creator.session", Var::CreatorSession),
    ("creator.account", Var::CreatorAccount),
    ("creator.responsible", Var::CreatorResponsible),
    ("creator.origin", Var::CreatorOrigin),
    ("creator.source_identity", Var::CreatorSourceIdentity),
    ("creator.launched_by", Var::CreatorLaunchedBy),
    ("event.time", Var::EventTime),
    ("event.id", Var::EventId),
    ("event.name", Var::EventName),
    ("event.source", Var::EventSource),
    ("event.source_ip", Var::EventSourceIp),
    ("event.user_agent", Var::EventUserAgent),
    ("account", Var::Account),
    ("region", Var::Region),
    ("partition", Var::Partition),
    ("resource.arn", Var::ResourceArn),
    ("resource.type", Var::ResourceType),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown variable `{{{0}}}`; known: {known}, tags.<Key>", known = known_names())]
    Unknown(String),
    #[error("unclosed `{{`")]
    Unclosed,
}

fn known_names() -> String {
    VARIABLES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Supplies variable values; `None` means the event does not know it.
pub trait Vars {
    fn get(&self, var: &Var) -> Option<Cow<'_, str>>;
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').ok_or(TemplateError::Unclosed)? + open;
            let name = rest[open + 1..close].trim();
            let var = match VARIABLES.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => v.clone(),
                None => match name.strip_prefix("tags.") {
                    Some(k) if !k.is_empty() => Var::Tag(k.to_string()),
                    _ => return Err(TemplateError::Unknown(name.to_string())),
                },
            };
            parts.push(Part::Var(var));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self {
            parts,
            source: source.to_string(),
        })
    }

    /// The rendered value, or `None` when a variable has no value: a tag is
    /// better absent than holding half a value.
    pub fn render(&self, vars: &dyn Vars) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(vars.get(v).filter(|s| !s.is_empty())?.as_ref()),
            }
        }
        Some(out)
    }

    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Vars for Fixed {
        fn get(&self, var: &Var) -> Option<Cow<'_, str>> {
            match var {
                Var::Account => Some("111".into()),
                Var::Tag(k) if k == "Team" => Some("core".into()),
                _ => None,
            }
        }
    }

    #[test]
    fn renders_literals_and_variables() {
        let t = Template::parse("acct-{account}/{tags.Team}").unwrap();
        assert_eq!(t.render(&Fixed).as_deref(), Some("acct-111/core"));
        assert_eq!(
            Template::parse("tagwarden")
                .unwrap()
                .render(&Fixed)
                .as_deref(),
            Some("tagwarden")
        );
    }

    #[test]
    fn a_missing_variable_renders_nothing() {
        let t = Template::parse("{creator.invoked_by}").unwrap();
        assert_eq!(t.render(&Fixed), None);
    }

    #[test]
    fn unknown_variables_are_rejected() {
        assert!(matches!(
            Template::parse("{creator.nope}"),
            Err(TemplateError::Unknown(_))
        ));
        assert_eq!(Template::parse("{account"), Err(TemplateError::Unclosed));
    }
}
