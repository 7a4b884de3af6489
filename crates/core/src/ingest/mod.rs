//! source bytes → records: a streaming reader for every CloudTrail shape.
//!
//! A CloudTrail log file is one JSON object holding a `Records` array, often
//! hundreds of megabytes once inflated. The reader never holds more than one
//! record (plus a read-ahead chunk): it inflates in chunks, finds each
//! record's end with [`scan`], and hands out the record's bytes together with
//! a few top-level fields, so that callers parse only the records they need.

pub mod scan;

use flate2::read::MultiGzDecoder;
use scan::{scan_object, skip_ws, Head, HeadKey, Scan, SlowSkip};
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

/// Largest record the reader buffers. CloudTrail caps a record at 256 KiB;
/// anything this large is damage, and is skipped without being buffered.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

/// Inflated bytes read per call: large enough that rescanning a record split
/// across two reads is noise, and that zlib's copy of its 32 KiB window at
/// the end of each call is amortised (1 MiB measured ≈ 5% faster than 256 KiB).
pub const CHUNK: usize = 1 << 20;

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
    head: Head,
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

/// Why reading stopped or a record was lost.
#[derive(Debug, thiserror::Error)]
pub enum ReadErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("unexpected end of input")]
    Truncated,
    #[error("not JSON: expected '{{' or '['")]
    NotJson,
    #[error("the file is empty")]
    Empty,
    #[error("invalid JSON: expected {expected}, found {found}")]
    Invalid {
        expected: &'static str,
        found: String,
    },
    #[error("record is larger than {} MiB; skipped", MAX_RECORD_BYTES >> 20)]
    TooLarge,
}

/// A read error, placed as precisely as the reader knows.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", self.place())]
pub struct ReadError {
    pub position: Option<Position>,
    /// The top-level field being read when it happened.
    pub field: Option<String>,
    pub kind: ReadErrorKind,
}

impl ReadError {
    pub fn place(&self) -> String {
        match (&self.position, &self.field) {
            (Some(p), Some(f)) => format!("{p}.{f}"),
            (Some(p), None) => p.to_string(),
            (None, Some(f)) => f.clone(),
            (None, None) => "document".to_string(),
        }
    }
}

/// One thing the reader yields.
#[derive(Debug)]
pub enum Item<'b> {
    Record(RawRecord<'b>),
    Error(ReadError),
}

#[derive(Debug)]
enum State {
    Start,
    BeforeElement {
        first: bool,
    },
    AfterElement,
    Skipping(SlowSkip),
    /// After damage between records: step to the next `{` and read on.
    Resync,
    Done,
}

/// Wraps `src` in an inflater when it starts with the gzip magic bytes.
/// File names lie; magic bytes do not.
pub fn decoded<'r, R: Read + 'r>(mut src: R) -> io::Result<Box<dyn Read + 'r>> {
    let mut magic = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        match src.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let prefix = io::Cursor::new(magic).take(n as u64);
    let joined = prefix.chain(src);
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(MultiGzDecoder::new(joined))
    } else {
        Box::new(joined)
    })
}

/// Streams the records of one document.
///
/// A lending iterator: each record borrows the reader's buffer until the
/// next call to [`RecordReader::next_item`].
pub struct RecordReader<'r> {
    src: Box<dyn Read + 'r>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    state: State,
    shape: Shape,
    index: usize,
    inflated: u64,
}

impl<'r> RecordReader<'r> {
    /// Reads plain or gzipped JSON from `src`.
    pub fn new<R: Read + 'r>(src: R) -> io::Result<Self> {
        Ok(Self::from_decoded(decoded(src)?))
    }

    fn from_decoded(src: Box<dyn Read + 'r>) -> Self {
        Self {
            src,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            state: State::Start,
            shape: Shape::Object,
            index: 0,
            inflated: 0,
        }
    }

    /// Bytes read after decompression so far.
    pub fn bytes_read(&self) -> u64 {
        self.inflated
    }

    /// Makes room and reads once more; `Ok(false)` at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.end < CHUNK / 4 {
            let grown = (self.buf.len() * 2).min(MAX_RECORD_BYTES + CHUNK);
            self.buf.resize(grown.max(self.end + CHUNK / 4), 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.inflated += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
    }

    fn position(&self) -> Position {
        Position {
            shape: self.shape,
            index: self.index,
        }
    }

    fn fail(&mut self, field: Option<String>, kind: ReadErrorKind) -> ReadError {
        ReadError {
            position: Some(self.position()),
            field,
            kind,
        }
    }

    /// Reads until `want` bytes are buffered from `pos` (or the record cap,
    /// or end of input); `Ok(false)` if nothing more could be read.
    fn fill_to(&mut self, want: usize) -> io::Result<bool> {
        let want = want.min(MAX_RECORD_BYTES);
        let mut any = false;
        while self.end - self.pos < want && self.fill()? {
            any = true;
        }
        Ok(any)
    }

    /// Skips whitespace, reading more as needed; `Ok(None)` at end of input.
    fn next_byte(&mut self) -> Result<Option<u8>, io::Error> {
        loop {
            if let Some(i) = skip_ws(&self.buf[..self.end], self.pos) {
                self.pos = i;
                return Ok(Some(self.buf[i]));
            }
            self.pos = self.end;
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Decides the shape from the first bytes.
    fn start(&mut self) -> Result<(), ReadErrorKind> {
        // A UTF-8 byte order mark is tolerated (editors add them).
        while self.end < 3 && self.fill()? {}
        if self.buf[..self.end].starts_with(&[0xef, 0xbb, 0xbf]) {
            self.pos = 3;
        }
        match self.next_byte()? {
            None => Err(ReadErrorKind::Empty),
            Some(b'[') => {
                self.shape = Shape::Array;
                self.pos += 1;
                self.state = State::BeforeElement { first: true };
                Ok(())
            }
            Some(b'{') => {
                // `{"Records": [` opens a log file; anything else is one object.
                const OPEN: &[u8] = b"\"Records\"";
                while self.end - self.pos < 64 && self.fill()? {}
                let window = &self.buf[self.pos..self.end];
                let after_brace = skip_ws(window, 1).unwrap_or(window.len());
                let records_at = window[after_brace..]
                    .starts_with(OPEN)
                    .then(|| skip_ws(window, after_brace + OPEN.len()))
                    .flatten()
                    .filter(|&i| window[i] == b':')
                    .and_then(|i| skip_ws(window, i + 1))
                    .filter(|&i| window[i] == b'[');
                if let Some(i) = records_at {
                    self.pos += i + 1;
                    self.shape = Shape::Records;
                } else {
                    self.shape = Shape::Object;
                }
                self.state = State::BeforeElement { first: true };
                Ok(())
            }
            Some(_) => Err(ReadErrorKind::NotJson),
        }
    }

    /// The next record or error; `None` once the document is done.
    pub fn next_item(&mut self) -> Option<Item<'_>> {
        // Ranges, not borrows, cross loop iterations: the buffer moves on refill.
        let (range, head) = loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return None,
                State::Start => {
                    if let Err(kind) = self.start() {
                        return Some(Item::Error(ReadError {
                            position: None,
                            field: None,
                            kind,
                        }));
                    }
                }
                State::AfterElement => match self.next_byte() {
                    // One object, or objects one after another.
                    Ok(None) if matches!(self.shape, Shape::Object | Shape::Stream) => return None,
                    Ok(Some(b'{')) if matches!(self.shape, Shape::Object | Shape::Stream) => {
                        self.shape = Shape::Stream;
                        self.state = State::BeforeElement { first: false };
                    }
                    Ok(Some(b',')) if !matches!(self.shape, Shape::Object | Shape::Stream) => {
                        self.pos += 1;
                        self.state = State::BeforeElement { first: false };
                    }
                    Ok(Some(b']')) if !matches!(self.shape, Shape::Object | Shape::Stream) => {
                        return None
                    }
                    Ok(Some(b)) => {
                        let found = describe(b);
                        self.pos += 1;
                        self.state = State::Resync;
                        return Some(Item::Error(self.fail(
                            None,
                            ReadErrorKind::Invalid {
                                expected: "',' or ']'",
                                found,
                            },
                        )));
                    }
                    Ok(None) => {
                        return Some(Item::Error(self.fail(None, ReadErrorKind::Truncated)))
                    }
                    Err(e) => return Some(Item::Error(self.fail(None, e.into()))),
                },
                State::Resync => match memchr::memchr(b'{', &self.buf[self.pos..self.end]) {
                    Some(i) => {
                        self.pos += i;
                        self.state = State::BeforeElement { first: false };
                    }
                    None => {
                        self.pos = self.end;
                        match self.fill() {
                            Ok(true) => self.state = State::Resync,
                            Ok(false) => return None,
                            Err(e) => return Some(Item::Error(self.fail(None, e.into()))),
                        }
                    }
                },
                State::Skipping(mut skip) => match skip.feed(&self.buf[self.pos..self.end]) {
                    Some(n) => {
                        self.pos += n;
                        self.state = State::AfterElement;
                    }
                    None => {
                        self.pos = self.end;
                        match self.fill() {
                            Ok(true) => self.state = State::Skipping(skip),
                            Ok(false) => {
                                return Some(Item::Error(self.fail(None, ReadErrorKind::Truncated)))
                            }
                            Err(e) => return Some(Item::Error(self.fail(None, e.into()))),
                        }
                    }
                },
                State::BeforeElement { first } => {
                    match self.next_byte() {
                        Ok(Some(b'{')) => {}
                        Ok(Some(b']')) if first && self.shape != Shape::Object => return None,
                        Ok(Some(b)) => {
                            let found = describe(b);
                            let err = self.fail(
                                None,
                                ReadErrorKind::Invalid {
                                    expected: "a record object",
                                    found,
                                },
                            );
                            self.index += 1;
                            self.pos += 1;
                            self.state = State::Resync;
                            return Some(Item::Error(err));
                        }
                        Ok(None) => {
                            return Some(Item::Error(self.fail(None, ReadErrorKind::Truncated)))
                        }
                        Err(e) => return Some(Item::Error(self.fail(None, e.into()))),
                    }
                    match scan_object(&self.buf[self.pos..self.end]) {
                        Scan::Done(head, len) => {
                            let range = self.pos..self.pos + len;
                            self.pos += len;
                            self.state = State::AfterElement;
                            break (range, head);
                        }
                        Scan::Incomplete { last_key } => {
                            let field = last_key.map(|r| self.key_text(self.pos, r));
                            if self.end - self.pos >= MAX_RECORD_BYTES {
                                self.state = State::Skipping(SlowSkip::inside_object(0));
                                let err = self.fail(field, ReadErrorKind::TooLarge);
                                self.index += 1;
                                return Some(Item::Error(err));
                            }
                            // Rescan only once the unscanned bytes have doubled:
                            // small reads (pipes) would otherwise rescan a
                            // large record quadratically often.
                            match self.fill_to((self.end - self.pos) * 2) {
                                Ok(true) => self.state = State::BeforeElement { first },
                                Ok(false) => {
                                    return Some(Item::Error(
                                        self.fail(field, ReadErrorKind::Truncated),
                                    ))
                                }
                                Err(e) => return Some(Item::Error(self.fail(field, e.into()))),
                            }
                        }
                        Scan::Invalid {
                            at,
                            last_key,
                            expected,
                        } => {
                            let field = last_key.map(|r| self.key_text(self.pos, r));
                            let found = describe(self.buf[self.pos + at]);
                            // Resume at depth 1 from the offending byte, so
                            // the rest of the file is still read.
                            self.pos += at;
                            self.state = State::Skipping(SlowSkip::inside_object(1));
                            let err = self.fail(field, ReadErrorKind::Invalid { expected, found });
                            self.index += 1;
                            return Some(Item::Error(err));
                        }
                    }
                }
            }
        };
        let position = self.position();
        self.index += 1;
        Some(Item::Record(RawRecord {
            position,
            bytes: &self.buf[range],
            head,
        }))
    }

    /// A key for an error message, cut short: keys can be damage too.
    fn key_text(&self, base: usize, r: std::ops::Range<usize>) -> String {
        const MAX: usize = 64;
        let key = &self.buf[base + r.start..base + r.end];
        let text = String::from_utf8_lossy(&key[..key.len().min(4 * MAX)]);
        let mut short: String = text.chars().take(MAX).collect();
        if short.len() < key.len() {
            short.push('…');
        }
        short
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(bytes: &[u8]) -> Vec<Result<(String, String), String>> {
        let mut r = RecordReader::new(bytes).unwrap();
        let mut out = vec![];
        while let Some(item) = r.next_item() {
            out.push(match item {
                Item::Record(rec) => Ok((
                    rec.position.to_string(),
                    rec.str(HeadKey::EventName).unwrap_or_default().into_owned(),
                )),
                Item::Error(e) => Err(e.to_string()),
            });
        }
        out
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_a_log_file_plain_and_gzipped() {
        let doc = br#" {"Records": [ {"eventName":"A"}, {"eventName":"B"} ] }"#;
        let want = vec![
            Ok(("Records[0]".into(), "A".into())),
            Ok(("Records[1]".into(), "B".into())),
        ];
        assert_eq!(collect(doc), want);
        assert_eq!(collect(&gz(doc)), want);
    }

    #[test]
    fn reads_arrays_and_single_objects() {
        assert_eq!(
            collect(br#"[{"eventName":"A"}]"#),
            vec![Ok(("[0]".into(), "A".into()))]
        );
        assert_eq!(
            collect(br#"{"eventName":"A","Records":1}"#),
            vec![Ok(("$".into(), "A".into()))]
        );
        assert_eq!(collect(b"[]"), vec![]);
        assert_eq!(collect(br#"{"Records":[]}"#), vec![]);
    }

    #[test]
    fn records_split_over_many_chunks_are_whole() {
        let mut doc = b"{\"Records\":[".to_vec();
        let n = 3000;
        for i in 0..n {
            if i > 0 {
                doc.push(b',');
            }
            let pad = "x".repeat(i % 700);
            doc.extend(format!(r#"{{"eventName":"E{i}","p":{{"s":"{pad}"}}}}"#).bytes());
        }
        doc.extend(b"]}");
        let got = collect(&gz(&doc));
        assert_eq!(got.len(), n);
        for (i, r) in got.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap().1, format!("E{i}"));
        }
    }

    #[test]
    fn invalid_record_is_reported_and_the_next_one_read() {
        let doc = br#"{"Records":[{"eventName":"A","userIdentity":{} x},{"eventName":"B"}]}"#;
        let got = collect(doc);
        assert_eq!(got.len(), 2, "{got:?}");
        let err = got[0].as_ref().unwrap_err();
        assert!(err.starts_with("Records[0].userIdentity:"), "{err}");
        assert_eq!(got[1], Ok(("Records[1]".into(), "B".into())));
    }

    #[test]
    fn objects_one_after_another_are_all_read() {
        let doc = b"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n";
        assert_eq!(
            collect(doc),
            vec![Ok(("$".into(), "A".into())), Ok(("#1".into(), "B".into()))]
        );
    }

    #[test]
    fn damage_between_records_loses_only_the_damage() {
        // A stray `}` after a record, a number element, and a `]` inside one.
        let doc = br#"{"Records":[{"eventName":"A"}},{"eventName":"B"},7,{"eventName":"C","x":1]},{"eventName":"D"}]}"#;
        let got = collect(doc);
        let names: Vec<_> = got
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(names, ["A", "B", "D"], "{got:?}");
        // The `]` inside C reports twice: once inside C, once for what follows it.
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 4, "{got:?}");
    }

    #[test]
    fn small_reads_do_not_rescan_large_records_quadratically() {
        /// Hands out a few bytes per read, like a pipe.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(4096);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let big = "z".repeat(4 << 20);
        let doc = format!(r#"{{"Records":[{{"eventName":"A","p":"{big}"}},{{"eventName":"B"}}]}}"#);
        let mut r = RecordReader::new(Trickle(doc.as_bytes())).unwrap();
        let mut names = vec![];
        while let Some(item) = r.next_item() {
            if let Item::Record(rec) = item {
                names.push(rec.str(HeadKey::EventName).unwrap().into_owned());
            }
        }
        assert_eq!(names, ["A", "B"]);
    }

    #[test]
    fn truncated_gzip_keeps_the_records_before_it() {
        let mut doc = b"{\"Records\":[".to_vec();
        for i in 0..2000 {
            doc.extend(format!(r#"{{"eventName":"E{i}","eventID":"{i:0>64}"}},"#).bytes());
        }
        doc.extend(br#"{"eventName":"last"}]}"#);
        let z = gz(&doc);
        let got = collect(&z[..z.len() / 2]);
        let (ok, err): (Vec<_>, Vec<_>) = got.iter().partition(|r| r.is_ok());
        assert!(ok.len() > 100, "only {} records before the cut", ok.len());
        assert_eq!(err.len(), 1, "{err:?}");
        let msg = err[0].as_ref().unwrap_err();
        assert!(msg.starts_with(&format!("Records[{}]", ok.len())), "{msg}");
    }

    #[test]
    fn oversized_record_is_skipped_and_the_next_one_read() {
        let big = "y".repeat(MAX_RECORD_BYTES + 10);
        let doc = format!(
            r#"{{"Records":[{{"eventName":"A","requestParameters":{{"s":"{big}"}}}},{{"eventName":"B"}}]}}"#
        );
        let got = collect(doc.as_bytes());
        assert_eq!(got.len(), 2, "{got:?}");
        let err = got[0].as_ref().unwrap_err();
        assert!(
            err.starts_with("Records[0].requestParameters: record is larger"),
            "{err}"
        );
        assert_eq!(got[1], Ok(("Records[1]".into(), "B".into())));
    }

    #[test]
    fn non_json_and_empty_inputs_are_errors() {
        assert_eq!(
            collect(b"hello"),
            vec![Err("document: not JSON: expected '{' or '['".into())]
        );
        assert_eq!(
            collect(b"  "),
            vec![Err("document: the file is empty".into())]
        );
    }
}
