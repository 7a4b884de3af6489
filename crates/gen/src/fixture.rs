//! Catalog fixtures turned into templates for fresh, consistent create records.
//!
//! A fixture holds one realistic create record and the ARNs it creates. The
//! record is kept in its own field order and minified; the account, the
//! region, the request and event ids and the id or name part of every
//! expected ARN become slots, filled anew for each generated record, so
//! every generated resource is unique and the record stays consistent.

use crate::rng::Rng;
use anyhow::{bail, Context, Result};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;
use std::path::Path;

#[derive(Deserialize)]
struct FixtureFile<'a> {
    expect: Expect,
    #[serde(borrow)]
    record: &'a RawValue,
}

#[derive(Deserialize)]
struct Expect {
    arns: Vec<String>,
}

/// A JSON object's members in document order.
struct Ordered<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Ordered<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Ordered<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = vec![];
                while let Some(k) = m.next_key::<&'de str>()? {
                    out.push((k, m.next_value::<&'de RawValue>()?));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Removes insignificant whitespace, keeping member order and strings intact.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_str, mut esc) = (false, false);
    for c in json.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if !c.is_ascii_whitespace() {
            if c == '"' {
                in_str = true;
            }
            out.push(c);
        }
    }
    out
}

/// What fills a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Account,
    Region,
    /// The n-th resource id or name.
    Id(usize),
    EventId,
    RequestId,
    EventTime,
    Identity,
    SourceIp,
    UserAgent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    Slot(Slot),
}

/// Stands for the account inside a name (`logs-111122223333`).
const ACCOUNT_MARK: &str = "\u{0}";

/// The suffix FIFO queue and topic names must end with.
const FIFO: &str = ".fifo";

/// How a fresh resource id is made from the fixture's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdShape {
    /// `i-0a1b…`: the prefix kept, the hex part fresh, same length.
    PrefixedHex {
        prefix: String,
        len: usize,
    },
    Uuid,
    /// Bare hex or digits of a given length.
    Hex {
        len: usize,
        upper: bool,
        digits_only: bool,
    },
    /// A name: kept, with a fresh suffix (bounded to stay a valid name).
    Name {
        base: String,
    },
}

impl IdShape {
    pub fn of(token: &str) -> Self {
        let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        if let Some((prefix, rest)) = token.split_once('-') {
            if (1..=8).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_lowercase())
                && rest.len() >= 6
                && is_hex(rest)
                && !rest.bytes().any(|b| b.is_ascii_uppercase())
            {
                return Self::PrefixedHex {
                    prefix: prefix.to_string(),
                    len: rest.len(),
                };
            }
        }
        let parts: Vec<_> = token.split('-').map(str::len).collect();
        if parts == [8, 4, 4, 4, 12] && token.split('-').all(is_hex) {
            return Self::Uuid;
        }
        if token.len() >= 8 && is_hex(token) {
            return Self::Hex {
                len: token.len(),
                upper: token.bytes().any(|b| b.is_ascii_uppercase()),
                digits_only: token.bytes().all(|b| b.is_ascii_digit()),
            };
        }
        Self::Name {
            base: token.to_string(),
        }
    }

    /// A fresh id; a name that held the fixture's account holds `account`.
    pub fn fresh(&self, rng: &mut Rng, account: &str) -> String {
        match self {
            Self::PrefixedHex { prefix, len } => format!("{prefix}-{}", rng.hex(*len)),
            Self::Uuid => rng.uuid(),
            Self::Hex {
                len,
                upper,
                digits_only,
            } => match (digits_only, upper) {
                (true, _) => rng.digits(*len),
                (false, true) => rng.upper_hex(*len),
                (false, false) => rng.hex(*len),
            },
            Self::Name { base } => {
                let base = &base.replace(ACCOUNT_MARK, account);
                // SQS queues and SNS topics that are FIFO must keep `.fifo`
                // at the very end: the fresh suffix goes before it.
                let (stem, tail) = match base.strip_suffix(FIFO) {
                    Some(stem) if !stem.is_empty() => (stem, FIFO),
                    _ => (base.as_str(), ""),
                };
                // Most name limits are 63 or 64; keep well inside them.
                let mut keep = stem.len().min(40);
                while !stem.is_char_boundary(keep) {
                    keep -= 1;
                }
                let b = &stem[..keep];
                let suffix = if base.bytes().any(|c| c.is_ascii_uppercase()) {
                    rng.alnum(10)
                } else {
                    rng.lower_alnum(10)
                };
                format!("{b}-{suffix}{tail}")
            }
        }
    }
}

/// One catalog fixture, ready to generate records from.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub event_source: String,
    pub event_name: String,
    pub pieces: Vec<Piece>,
    pub ids: Vec<IdShape>,
    /// ARNs the fixture expects: their count is the resources per creation.
    pub resources: usize,
}

/// The id or name part of an ARN: what follows its last `/` or `:`.
pub fn arn_token(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let tail = resource.rsplit(['/', ':']).next()?;
    (!tail.is_empty()).then_some(tail)
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Splits `text` into literals and slots at every whole occurrence of a pattern.
fn tokenize(text: &str, patterns: &[(String, Slot)]) -> Vec<Piece> {
    let mut pats: Vec<&(String, Slot)> = patterns.iter().filter(|(p, _)| !p.is_empty()).collect();
    pats.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let bytes = text.as_bytes();
    let mut out = vec![];
    let mut lit = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hit = pats.iter().find(|(p, slot)| {
            let p = p.as_bytes();
            if !bytes[i..].starts_with(p) {
                return false;
            }
            let before = i.checked_sub(1).map(|k| bytes[k]);
            let after = bytes.get(i + p.len()).copied();
            match slot {
                // 12 digits inside a longer number are not an account.
                Slot::Account => {
                    !before.is_some_and(|b| b.is_ascii_digit())
                        && !after.is_some_and(|b| b.is_ascii_digit())
                }
                // `us-east-1a` is a zone of the region: replace the prefix.
                Slot::Region => {
                    !before.is_some_and(ident_byte) && !after.is_some_and(|b| b.is_ascii_digit())
                }
                _ => !before.is_some_and(ident_byte) && !after.is_some_and(ident_byte),
            }
        });
        match hit {
            Some((p, slot)) => {
                if lit < i {
                    out.push(Piece::Lit(text[lit..i].to_string()));
                }
                out.push(Piece::Slot(*slot));
                i += p.len();
                lit = i;
            }
            None => i += 1,
        }
    }
    if lit < bytes.len() {
        out.push(Piece::Lit(text[lit..].to_string()));
    }
    out
}

impl Template {
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let fx: FixtureFile<'_> = serde_json::from_str(text).context("not a catalog fixture")?;
        let members: Ordered<'_> =
            serde_json::from_str(fx.record.get()).context("record is not an object")?;
        let string = |key: &str| -> Option<String> {
            let (_, v) = members.0.iter().find(|(k, _)| *k == key)?;
            serde_json::from_str::<String>(v.get()).ok()
        };
        let account = string("recipientAccountId")
            .or_else(|| {
                let (_, v) = members.0.iter().find(|(k, _)| *k == "userIdentity")?;
                let u: serde_json::Value = serde_json::from_str(v.get()).ok()?;
                u.get("accountId")?.as_str().map(str::to_string)
            })
            .unwrap_or_default();
        let region = string("awsRegion").unwrap_or_default();
        let (Some(event_source), Some(event_name)) = (string("eventSource"), string("eventName"))
        else {
            bail!("record has no eventSource or eventName");
        };
        let mut tokens: Vec<String> = vec![];
        for arn in &fx.expect.arns {
            let Some(t) = arn_token(arn) else {
                bail!("cannot find the id in ARN {arn}");
            };
            if !tokens.iter().any(|x| x == t) {
                tokens.push(t.to_string());
            }
        }
        let mut patterns: Vec<(String, Slot)> =
            vec![(account.clone(), Slot::Account), (region, Slot::Region)];
        patterns.extend(
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), Slot::Id(i))),
        );
        if let Some(id) = string("eventID") {
            patterns.push((id, Slot::EventId));
        }
        if let Some(id) = string("requestID") {
            patterns.push((id, Slot::RequestId));
        }
        let mut pieces = vec![Piece::Lit("{".into())];
        for (n, (key, value)) in members.0.iter().enumerate() {
            let sep = if n == 0 { "" } else { "," };
            pieces.push(Piece::Lit(format!("{sep}\"{key}\":")));
            let whole = |slot| {
                [
                    Piece::Lit("\"".into()),
                    Piece::Slot(slot),
                    Piece::Lit("\"".into()),
                ]
            };
            match *key {
                "userIdentity" => pieces.push(Piece::Slot(Slot::Identity)),
                "eventTime" => pieces.extend(whole(Slot::EventTime)),
                "eventID" => pieces.extend(whole(Slot::EventId)),
                "requestID" => pieces.extend(whole(Slot::RequestId)),
                "sourceIPAddress" => pieces.extend(whole(Slot::SourceIp)),
                "userAgent" => pieces.extend(whole(Slot::UserAgent)),
                _ => pieces.extend(tokenize(&minify(value.get()), &patterns)),
            }
        }
        pieces.push(Piece::Lit("}".into()));
        // Merge adjacent literals.
        let mut merged: Vec<Piece> = vec![];
        for p in pieces {
            match (merged.last_mut(), p) {
                (Some(Piece::Lit(a)), Piece::Lit(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        Ok(Self {
            name: name.to_string(),
            event_source,
            event_name,
            pieces: merged,
            ids: tokens
                .iter()
                .map(|t| match IdShape::of(t) {
                    IdShape::Name { base } if !account.is_empty() => IdShape::Name {
                        base: base.replace(account.as_str(), ACCOUNT_MARK),
                    },
                    shape => shape,
                })
                .collect(),
            resources: fx.expect.arns.len(),
        })
    }
}

/// Every `*.json` fixture in `dir`, sorted by name (read at run time: the set grows).
pub fn load_dir(dir: &Path) -> Result<Vec<Template>> {
    let mut names = vec![];
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read fixtures in {}", dir.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            names.push(name);
        }
    }
    names.sort();
    let mut out = vec![];
    for name in names {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        out.push(
            Template::parse(&name, &text).with_context(|| format!("fixture {}", path.display()))?,
        );
    }
    if out.is_empty() {
        bail!("no *.json fixtures in {}", dir.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_tokens() {
        let t = |a| arn_token(a).unwrap();
        assert_eq!(t("arn:aws:ec2:us-east-1:1:instance/i-0a1b"), "i-0a1b");
        assert_eq!(t("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(t("arn:aws:iam::1:role/service-role/r1"), "r1");
        assert_eq!(t("arn:aws:lambda:us-east-1:1:function:fn"), "fn");
        assert_eq!(t("arn:aws:sns:us-east-1:1:topic"), "topic");
    }

    #[test]
    fn id_shapes() {
        let mut r = Rng::new(1);
        let fresh = IdShape::of("i-0a1b2c3d4e5f60718").fresh(&mut r, "1");
        assert!(fresh.starts_with("i-") && fresh.len() == 19, "{fresh}");
        assert_eq!(
            IdShape::of("9f1c2b3a-1111-4222-8333-444455556666"),
            IdShape::Uuid
        );
        assert!(matches!(IdShape::of("my-bucket"), IdShape::Name { .. }));
        assert!(IdShape::of("logs").fresh(&mut r, "1").starts_with("logs-"));
    }

    #[test]
    fn fifo_names_keep_their_suffix() {
        let mut r = Rng::new(1);
        let shape = IdShape::of("orders-events.fifo");
        for _ in 0..20 {
            let fresh = shape.fresh(&mut r, "1");
            assert!(fresh.starts_with("orders-events-"), "{fresh}");
            assert!(fresh.ends_with(".fifo"), "{fresh}");
            assert_eq!(fresh.matches(".fifo").count(), 1, "{fresh}");
            // AWS: 1-80 characters of alphanumerics, `-` and `_`, then `.fifo`.
            let stem = fresh.strip_suffix(".fifo").unwrap();
            assert!(fresh.len() <= 80, "{fresh}");
            assert!(
                stem.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{fresh}"
            );
        }
        let long = IdShape::of(&format!("{}.fifo", "q".repeat(70)));
        let fresh = long.fresh(&mut r, "1");
        assert!(fresh.ends_with(".fifo") && fresh.len() <= 80, "{fresh}");
        // Only a real suffix counts.
        let plain = IdShape::of("my.fifo-queue").fresh(&mut r, "1");
        assert!(plain.starts_with("my.fifo-queue-"), "{plain}");
        let bare = IdShape::of(".fifo").fresh(&mut r, "1");
        assert!(bare.starts_with(".fifo-"), "{bare}");
    }

    #[test]
    fn minify_keeps_strings() {
        assert_eq!(
            minify("{ \"a b\" : [ 1, \"x \\\" y\" ] }"),
            "{\"a b\":[1,\"x \\\" y\"]}"
        );
    }

    #[test]
    fn tokenize_respects_boundaries() {
        let pats = vec![
            ("111122223333".to_string(), Slot::Account),
            ("us-east-1".to_string(), Slot::Region),
            ("web".to_string(), Slot::Id(0)),
        ];
        let got = tokenize(
            r#""arn:aws:x:us-east-1:111122223333:r/web","az":"us-east-1a","n":"web-sg","m":1111222233334"#,
            &pats,
        );
        let slots: Vec<_> = got
            .iter()
            .filter_map(|p| match p {
                Piece::Slot(s) => Some(*s),
                _ => None,
            })
            .collect();
        assert_eq!(
            slots,
            [Slot::Region, Slot::Account, Slot::Id(0), Slot::Region]
        );
    }
}
