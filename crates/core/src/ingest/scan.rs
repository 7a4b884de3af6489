//! The cheap structural scanner behind [`super::RecordReader`].
//!
//! It finds where one JSON object ends and captures a handful of top-level
//! fields, without building a tree or validating what it skips. Nested
//! values are skipped 64 bytes at a time with bit masks (quotes, brackets),
//! which is why ingest runs close to the speed of inflate: only records the
//! catalog knows are parsed in full.

use memchr::memchr;
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
}

const HEAD_KEYS: usize = 10;

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
    // Most strings are short and free of escapes: one block compare finds
    // their end without a call into memchr.
    if let Some(block) = buf.get(i..i + 64) {
        let block: &[u8; 64] = block.try_into().expect("64 bytes");
        let q = eq_mask(block, b'"');
        if q != 0 && eq_mask(block, b'\\') & ((1u64 << q.trailing_zeros()) - 1) == 0 {
            return Some(i + q.trailing_zeros() as usize);
        }
    }
    loop {
        let q = i + memchr(b'"', &buf[i..])?;
        // A quote preceded by an odd run of backslashes is escaped.
        let mut k = q;
        while k > i && buf[k - 1] == b'\\' {
            k -= 1;
        }
        if (q - k).is_multiple_of(2) {
            return Some(q);
        }
        i = q + 1;
    }
}

/// Bit `k` set where `block[k] == c`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn eq_mask(block: &[u8; 64], c: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut m = 0u64;
    for q in 0..4 {
        // SAFETY: SSE2 is part of the x86_64 baseline; the load reads 16
        // bytes inside the 64-byte array, unaligned loads being allowed.
        let bits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * q) as *const __m128i);
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16
        };
        m |= u64::from(bits) << (16 * q);
    }
    m
}

/// Bit `k` set where `block[k] == c`, with NEON (part of the aarch64
/// baseline, so on every Graviton): four 16-byte compares, then the
/// lanes' bits gathered by weighting each lane and adding neighbours
/// pairwise (simdjson's movemask for NEON, which has none of its own).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn eq_mask(block: &[u8; 64], c: u8) -> u64 {
    use std::arch::aarch64::{
        vandq_u8, vceqq_u8, vdupq_n_u8, vgetq_lane_u64, vld1q_u8, vpaddq_u8, vreinterpretq_u64_u8,
    };
    const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    // SAFETY: NEON is part of the aarch64 baseline; each load reads 16
    // bytes inside the 64-byte array (or the 16-byte constant).
    unsafe {
        let p = block.as_ptr();
        let needle = vdupq_n_u8(c);
        let weights = vld1q_u8(WEIGHTS.as_ptr());
        let lane = |q: usize| vandq_u8(vceqq_u8(vld1q_u8(p.add(16 * q)), needle), weights);
        let low = vpaddq_u8(lane(0), lane(1));
        let high = vpaddq_u8(lane(2), lane(3));
        let both = vpaddq_u8(low, high);
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(both, both)))
    }
}

/// Bit `k` set where `block[k] == c`, eight bytes per step (SWAR) where
/// neither SSE2 nor NEON is at hand.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), allow(dead_code))]
#[inline(always)]
fn eq_mask_swar(block: &[u8; 64], c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut m = 0u64;
    for (w, chunk) in block.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"))
            ^ (u64::from(c) * 0x0101_0101_0101_0101);
        // High bit of each byte set where that byte of `x` is zero.
        let zero = !(((x & LOW7) + LOW7) | x) & HIGH;
        // Gather the eight high bits into one byte, lowest address first.
        let bits = (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        m |= bits << (8 * w);
    }
    m
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn eq_mask(block: &[u8; 64], c: u8) -> u64 {
    eq_mask_swar(block, c)
}

/// Bit `k` is the parity of the set bits at or below `k`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Skips an array or object that starts at `i`; returns the position past it.
///
/// Works 64 bytes at a time: a block's quotes give, by prefix parity, which
/// bytes are inside strings, and only the brackets outside strings are
/// counted. A block holding a backslash is walked byte by byte instead.
#[inline]
fn skip_nested(buf: &[u8], i: usize) -> Option<usize> {
    // Inside a `{` value only braces need counting (brackets balance inside
    // valid JSON), and the other way round for `[`.
    let (open, close) = if buf[i] == b'{' {
        (b'{', b'}')
    } else {
        (b'[', b']')
    };
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    // One byte of the slow path; true when the value's end is reached.
    let step = |b: u8, depth: &mut usize, in_str: &mut bool, esc: &mut bool| -> bool {
        if *in_str {
            if *esc {
                *esc = false;
            } else if b == b'\\' {
                *esc = true;
            } else if b == b'"' {
                *in_str = false;
            }
        } else if b == b'"' {
            *in_str = true;
        } else if b == open {
            *depth += 1;
        } else if b == close {
            *depth -= 1;
            return *depth == 0;
        }
        false
    };
    let mut j = i;
    while let Some(block) = buf.get(j..j + 64) {
        let block: &[u8; 64] = block.try_into().expect("64 bytes");
        if esc || eq_mask(block, b'\\') != 0 {
            for (k, &b) in block.iter().enumerate() {
                if step(b, &mut depth, &mut in_str, &mut esc) {
                    return Some(j + k + 1);
                }
            }
            j += 64;
            continue;
        }
        let inside = prefix_xor(eq_mask(block, b'"')) ^ if in_str { !0 } else { 0 };
        let opens = eq_mask(block, open) & !inside;
        let mut brackets = (opens | eq_mask(block, close)) & !inside;
        while brackets != 0 {
            let k = brackets.trailing_zeros();
            if opens >> k & 1 == 1 {
                depth += 1;
            } else {
                depth -= 1;
                if depth == 0 {
                    return Some(j + k as usize + 1);
                }
            }
            brackets &= brackets - 1;
        }
        in_str = inside >> 63 == 1;
        j += 64;
    }
    // The last bytes, fewer than a block.
    for (k, &b) in buf[j..].iter().enumerate() {
        if step(b, &mut depth, &mut in_str, &mut esc) {
            return Some(j + k + 1);
        }
    }
    None
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
    fn byte_masks_agree_with_a_plain_loop() {
        let mut block = [0u8; 64];
        for round in 0..64u64 {
            for (k, b) in block.iter_mut().enumerate() {
                *b = match (k as u64 * 7 + round * 13) % 5 {
                    0 => b'"',
                    1 => b'\\',
                    2 => 0x80 | (k as u8),
                    3 => b'{',
                    _ => round as u8,
                };
            }
            for c in [b'"', b'\\', b'{', round as u8, 0x80 | (round as u8)] {
                let want = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (k, &b)| m | (u64::from(b == c) << k));
                assert_eq!(eq_mask(&block, c), want);
                assert_eq!(eq_mask_swar(&block, c), want);
            }
        }
    }

    #[test]
    fn skip_nested_agrees_with_slow_skip_on_long_values() {
        let mut docs = vec![];
        for n in [1usize, 5, 40, 200] {
            let inner: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"k{i}":"v}}{{\\\"{i}","a":[1,{{"b":"]"}}],"e":"\\\\","n":{{"m":{{}}}}}}"#))
                .collect();
            docs.push(format!("{{\"x\":[{}],\"y\":\"}}\"}} tail", inner.join(",")));
            docs.push(format!("[{}] tail", inner.join(",")));
        }
        for d in &docs {
            let b = d.as_bytes();
            let mut s = SlowSkip::inside_object(0);
            let want = s.feed(b);
            assert_eq!(skip_nested(b, 0), want, "{d}");
            let end = want.unwrap();
            for cut in [1, 63, 64, 65, 127, 128, end - 1]
                .into_iter()
                .filter(|&c| c < end)
            {
                assert_eq!(skip_nested(&b[..cut], 0), None, "cut {cut}");
            }
        }
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

    proptest::proptest! {
        /// On any valid JSON object (escapes, brackets in strings, values
        /// straddling 64-byte blocks), the scanner finds its exact end and
        /// the top-level eventName, and every prefix is incomplete.
        #[test]
        fn scanner_agrees_with_serde_on_valid_json(
            name in "[a-zA-Z\\\\\"{}\\[\\] ]{0,12}",
            nested in proptest::collection::vec(("[\\\\\"{}\\[\\]a-z ]{0,90}", "[\\\\\"{}\\[\\]:,a-z ]{0,90}"), 0..12),
        ) {
            let inner: serde_json::Map<String, serde_json::Value> = nested
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!([v, {"x": v}])))
                .collect();
            let doc = serde_json::json!({"requestParameters": inner, "eventName": name, "tail": [inner.clone()]});
            let text = serde_json::to_string(&doc).unwrap();
            let bytes = text.as_bytes();
            let Scan::Done(h, end) = scan_object(bytes) else {
                return Err(proptest::test_runner::TestCaseError::fail(format!("not done: {text}")));
            };
            proptest::prop_assert_eq!(end, bytes.len());
            let r = h.range(HeadKey::EventName).unwrap();
            let quoted = &text[r.start - 1..r.end + 1];
            proptest::prop_assert_eq!(serde_json::from_str::<String>(quoted).unwrap(), name);
            for cut in [1, end / 2, end - 1] {
                proptest::prop_assert!(matches!(scan_object(&bytes[..cut]), Scan::Incomplete { .. }), "cut {}", cut);
            }
        }
    }
}
