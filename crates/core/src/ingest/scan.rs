//! The cheap structural scanner behind [`super::RecordReader`].
//!
//! It finds where one JSON object ends and captures a handful of top-level
//! fields, without building a tree or validating what it skips. Nested
//! values are skipped with `memchr`, which is why ingest runs close to the
//! speed of inflate: only records the catalog knows are parsed in full.

use memchr::{memchr, memchr3};
use std::ops::Range;

/// Top-level keys whose values the pipeline needs before a full parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum HeadKey {
    EventSource,
    EventName,
    EventId,
    EventType,
    EventCategory,
    ErrorCode,
    ReadOnly,
    ManagementEvent,
    DetailType,
    DigestStartTime,
    Records,
}

const HEAD_KEYS: usize = 11;

impl HeadKey {
    fn from_key(key: &[u8]) -> Option<Self> {
        Some(match key {
            b"eventSource" => Self::EventSource,
            b"eventName" => Self::EventName,
            b"eventID" => Self::EventId,
            b"eventType" => Self::EventType,
            b"eventCategory" => Self::EventCategory,
            b"errorCode" => Self::ErrorCode,
            b"readOnly" => Self::ReadOnly,
            b"managementEvent" => Self::ManagementEvent,
            b"detail-type" => Self::DetailType,
            b"digestStartTime" => Self::DigestStartTime,
            b"Records" => Self::Records,
            _ => return None,
        })
    }
}

/// Where the captured top-level values sit, relative to the object's start.
///
/// A string value's range excludes its quotes; any other value's range
/// covers its raw JSON text.
#[derive(Debug, Clone, Default)]
pub struct Head {
    values: [Option<Range<u32>>; HEAD_KEYS],
    /// Whether a captured string contained a backslash escape.
    escaped: u16,
}

impl Head {
    pub fn range(&self, key: HeadKey) -> Option<Range<usize>> {
        self.values[key as usize]
            .as_ref()
            .map(|r| r.start as usize..r.end as usize)
    }

    pub fn is_escaped(&self, key: HeadKey) -> bool {
        self.escaped & (1 << key as usize) != 0
    }

    fn set(&mut self, key: HeadKey, range: Range<usize>, escaped: bool) {
        // Objects are capped far below 4 GiB, so offsets fit in u32.
        self.values[key as usize] = Some(range.start as u32..range.end as u32);
        if escaped {
            self.escaped |= 1 << key as usize;
        }
    }
}

/// The outcome of scanning one value.
#[derive(Debug)]
pub enum Scan<T> {
    /// Scanned; the `usize` is the position just past the value.
    Done(T, usize),
    /// The buffer ended first; `last_key` is the top-level key being read.
    Incomplete { last_key: Option<Range<usize>> },
    /// Not JSON at `at`; the reader resynchronises from there at depth 1.
    Invalid {
        at: usize,
        last_key: Option<Range<usize>>,
        expected: &'static str,
    },
}

#[inline]
pub fn skip_ws(buf: &[u8], mut i: usize) -> Option<usize> {
    while i < buf.len() {
        match buf[i] {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => return Some(i),
        }
    }
    None
}

/// Position of the quote that closes a string whose contents start at `i`.
#[inline]
pub fn string_end(buf: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let q = i + memchr(b'"', &buf[i..])?;
        // A quote preceded by an odd run of backslashes is escaped.
        let mut k = q;
        while k > i && buf[k - 1] == b'\\' {
            k -= 1;
        }
        if (q - k) % 2 == 0 {
            return Some(q);
        }
        i = q + 1;
    }
}

/// Skips an array or object that starts at `i`; returns the position past it.
#[inline]
fn skip_nested(buf: &[u8], i: usize) -> Option<usize> {
    // Inside a `{` value only braces need counting (brackets balance inside
    // valid JSON), and the other way round for `[`: three needles suffice.
    let (open, close) = if buf[i] == b'{' {
        (b'{', b'}')
    } else {
        (b'[', b']')
    };
    let mut depth = 0usize;
    let mut j = i;
    loop {
        let p = j + memchr3(b'"', open, close, &buf[j..])?;
        match buf[p] {
            b'"' => j = string_end(buf, p + 1)? + 1,
            c if c == open => {
                depth += 1;
                j = p + 1;
            }
            _ => {
                depth -= 1;
                j = p + 1;
                if depth == 0 {
                    return Some(j);
                }
            }
        }
    }
}

/// Skips a number, `true`, `false` or `null` starting at `i`.
#[inline]
fn skip_scalar(buf: &[u8], mut i: usize) -> Option<usize> {
    while i < buf.len() {
        match buf[i] {
            b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Scans the object that starts at `buf[0] == b'{'`, capturing its head.
pub fn scan_object(buf: &[u8]) -> Scan<Head> {
    debug_assert_eq!(buf.first(), Some(&b'{'));
    let mut head = Head::default();
    let mut last_key: Option<Range<usize>> = None;
    macro_rules! need {
        ($e:expr) => {
            match $e {
                Some(v) => v,
                None => return Scan::Incomplete { last_key },
            }
        };
    }
    macro_rules! invalid {
        ($at:expr, $what:expr) => {
            return Scan::Invalid {
                at: $at,
                last_key,
                expected: $what,
            }
        };
    }
    let mut i = need!(skip_ws(buf, 1));
    if buf[i] == b'}' {
        return Scan::Done(head, i + 1);
    }
    loop {
        if buf[i] != b'"' {
            invalid!(i, "a key");
        }
        let kend = need!(string_end(buf, i + 1));
        let key = i + 1..kend;
        let wanted = HeadKey::from_key(&buf[key.clone()]);
        last_key = Some(key);
        i = need!(skip_ws(buf, kend + 1));
        if buf[i] != b':' {
            invalid!(i, "':'");
        }
        i = need!(skip_ws(buf, i + 1));
        match buf[i] {
            b'"' => {
                let vend = need!(string_end(buf, i + 1));
                if let Some(k) = wanted {
                    let escaped = memchr(b'\\', &buf[i + 1..vend]).is_some();
                    head.set(k, i + 1..vend, escaped);
                }
                i = vend + 1;
            }
            b'{' | b'[' => {
                let end = need!(skip_nested(buf, i));
                if let Some(k) = wanted {
                    head.set(k, i..end, false);
                }
                i = end;
            }
            b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
                let end = need!(skip_scalar(buf, i));
                if let Some(k) = wanted {
                    head.set(k, i..end, false);
                }
                i = end;
            }
            _ => invalid!(i, "a value"),
        }
        i = need!(skip_ws(buf, i));
        match buf[i] {
            b',' => i = need!(skip_ws(buf, i + 1)),
            b'}' => return Scan::Done(head, i + 1),
            _ => invalid!(i, "',' or '}'"),
        }
    }
}

/// A byte-at-a-time structural skipper that keeps its state across chunks.
///
/// Used only off the fast path: to step over a record too large to buffer,
/// or to find the end of a record after invalid JSON.
#[derive(Debug, Clone)]
pub struct SlowSkip {
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl SlowSkip {
    pub fn inside_object(depth: usize) -> Self {
        Self {
            depth,
            in_string: false,
            escape: false,
        }
    }

    /// Feeds bytes; returns the position just past the object's end, if seen.
    pub fn feed(&mut self, buf: &[u8]) -> Option<usize> {
        for (i, &b) in buf.iter().enumerate() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_str<'a>(buf: &'a [u8], h: &Head, k: HeadKey) -> Option<&'a str> {
        h.range(k).map(|r| std::str::from_utf8(&buf[r]).unwrap())
    }

    #[test]
    fn captures_top_level_fields_only() {
        let rec = br#"{"eventVersion":"1.08","requestParameters":{"eventName":"Nested","x":[{"}":"{"}]},"eventName":"RunInstances","eventSource":"ec2.amazonaws.com","readOnly":false,"errorCode":"X"}"#;
        let Scan::Done(h, end) = scan_object(rec) else {
            panic!("not done")
        };
        assert_eq!(end, rec.len());
        assert_eq!(head_str(rec, &h, HeadKey::EventName), Some("RunInstances"));
        assert_eq!(
            head_str(rec, &h, HeadKey::EventSource),
            Some("ec2.amazonaws.com")
        );
        assert_eq!(head_str(rec, &h, HeadKey::ReadOnly), Some("false"));
        assert_eq!(head_str(rec, &h, HeadKey::ErrorCode), Some("X"));
        assert_eq!(head_str(rec, &h, HeadKey::EventId), None);
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let rec = br#"{"a":"x\"}{\\","eventName":"A\"B", "b" : [ "]" , "\\" ] }"#;
        let Scan::Done(h, end) = scan_object(rec) else {
            panic!("not done")
        };
        assert_eq!(end, rec.len());
        assert!(h.is_escaped(HeadKey::EventName));
        assert_eq!(head_str(rec, &h, HeadKey::EventName), Some(r#"A\"B"#));
    }

    #[test]
    fn every_prefix_is_incomplete_not_wrong() {
        let rec = br#"{"eventName":"CreateBucket","requestParameters":{"bucketName":"b","tags":[{"k":"}"}]},"readOnly":false}"#;
        for cut in 1..rec.len() {
            match scan_object(&rec[..cut]) {
                Scan::Incomplete { .. } => {}
                other => panic!("prefix {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn garbage_between_members_is_invalid_and_names_the_key() {
        let rec = br#"{"eventName":"X","userIdentity":{"type":"Root"} oops "b":1}"#;
        let Scan::Invalid { last_key, .. } = scan_object(rec) else {
            panic!("expected invalid")
        };
        assert_eq!(&rec[last_key.unwrap()], b"userIdentity");
    }

    #[test]
    fn slow_skip_finds_the_end_across_chunks() {
        let rec = br#"{"a":"}\"{","b":{"c":[1,{"d":"]"}]}} tail"#;
        let mut s = SlowSkip::inside_object(0);
        let (left, right) = rec.split_at(9);
        assert_eq!(s.feed(left), None);
        let end = s.feed(right).unwrap();
        assert_eq!(&right[end..], b" tail");
    }
}
