//! One record as the reader hands it out: its bytes, where it sits in its
//! document, and its top-level fields, found without parsing the record.

use super::scan::{scan_object, skip_ws, Head, HeadKey, Scan};
use std::borrow::Cow;
use std::fmt;

/// How the document holds its records, which decides how errors name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"Records": [...]}`: a CloudTrail log file, an S3 or SQS event.
    Records,
    /// `[...]`: a bare array of records or events.
    Array,
    /// One object: a record, an EventBridge event, a digest file.
    Object,
    /// Objects one after another (JSON Lines, `jq -c` output).
    Stream,
}

/// Where in a document a record sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub shape: Shape,
    pub index: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shape {
            Shape::Records => write!(f, "Records[{}]", self.index),
            Shape::Array => write!(f, "[{}]", self.index),
            Shape::Object => f.write_str("$"),
            Shape::Stream => write!(f, "#{}", self.index),
        }
    }
}

/// One record's raw bytes and its top-level fields.
#[derive(Debug)]
pub struct RawRecord<'b> {
    pub position: Position,
    pub bytes: &'b [u8],
    pub(super) head: Head,
}

impl<'b> RawRecord<'b> {
    /// Scans a standalone object, e.g. one unwrapped from an envelope.
    pub fn from_object(position: Position, bytes: &'b [u8]) -> Option<Self> {
        let start = skip_ws(bytes, 0)?;
        match bytes.get(start) {
            Some(b'{') => match scan_object(&bytes[start..]) {
                Scan::Done(head, end) => Some(Self {
                    position,
                    bytes: &bytes[start..start + end],
                    head,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    /// The raw text of a top-level field (a string's contents, unescaped
    /// only if needed).
    pub fn str(&self, key: HeadKey) -> Option<Cow<'b, str>> {
        let r = self.head.range(key)?;
        if self.head.is_escaped(key) {
            serde_json::from_slice::<String>(&self.bytes[r.start - 1..r.end + 1])
                .ok()
                .map(Cow::Owned)
        } else {
            std::str::from_utf8(&self.bytes[r]).ok().map(Cow::Borrowed)
        }
    }

    /// A top-level string field's bytes, unescaped only if needed and not
    /// checked for UTF-8: for lookups and hashing on the hot path.
    pub fn bytes_of(&self, key: HeadKey) -> Option<Cow<'b, [u8]>> {
        if self.head.is_escaped(key) {
            self.str(key)
                .map(|s| Cow::Owned(s.into_owned().into_bytes()))
        } else {
            self.raw(key).map(Cow::Borrowed)
        }
    }

    /// The raw bytes of a top-level field, for cheap comparisons.
    pub fn raw(&self, key: HeadKey) -> Option<&'b [u8]> {
        self.head.range(key).map(|r| &self.bytes[r])
    }

    pub fn has(&self, key: HeadKey) -> bool {
        self.head.range(key).is_some()
    }

    /// A boolean field; CloudTrail writes some as strings (`"true"`).
    pub fn flag(&self, key: HeadKey) -> Option<bool> {
        match self.raw(key)? {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }
}
