//! A document's bytes → its records, one at a time, never the whole
//! document in memory.

use super::decode::{decoded, Decoded, HEADROOM};
use super::raw::{Position, RawRecord, Shape};
use super::scan::{scan_object, skip_ws, Scan, SlowSkip};
use std::io::{self, Read};

/// Largest record the reader buffers. CloudTrail caps a record at 256 KiB;
/// anything this large is damage, and is skipped without being buffered.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

/// Inflated bytes read per call: large enough that rescanning a record split
/// across two reads is noise, and that zlib's copy of its 32 KiB window at
/// the end of each call is amortised (1 MiB measured ≈ 5% faster than 256 KiB).
pub const CHUNK: usize = 1 << 20;

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
    /// After the records' `]`: the log's own `}` (when `brace`), then
    /// nothing but whitespace. Bytes after the end are not CloudTrail's.
    Closing {
        brace: bool,
    },
    Done,
}

/// Streams the records of one document.
///
/// A lending iterator: each record borrows the reader's buffer until the
/// next call to [`RecordReader::next_item`].
pub struct RecordReader<'r> {
    src: Decoded<'r>,
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
        Ok(Self::from_decoded(Decoded::Stream(decoded(src)?)))
    }

    /// Reads `src` as it is: the caller has already inflated it.
    pub fn from_decoded(src: Decoded<'r>) -> Self {
        Self {
            // Chunks bring their own buffers.
            buf: match src {
                Decoded::Stream(_) => vec![0; CHUNK],
                Decoded::Chunks(_) => Vec::new(),
            },
            src,
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
        let src = match &mut self.src {
            Decoded::Chunks(_) => return self.take_chunk(),
            Decoded::Stream(src) => src,
        };
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.end < CHUNK / 4 {
            let grown = (self.buf.len() * 2).min(MAX_RECORD_BYTES + CHUNK);
            let grown = grown.max(self.end + CHUNK / 4);
            // Exactly: `Vec`'s own doubling would overshoot the record cap.
            self.buf.reserve_exact(grown - self.buf.len());
            self.buf.resize(grown, 0);
        }
        loop {
            match src.read(&mut self.buf[self.end..]) {
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

    /// [`Self::fill`] from an inflating thread: the next chunk becomes the
    /// buffer, with the unread bytes put in its headroom; a record longer
    /// than that is gathered by copying instead.
    fn take_chunk(&mut self) -> io::Result<bool> {
        let Decoded::Chunks(chunks) = &mut self.src else {
            return Ok(false);
        };
        let chunk = match chunks.take() {
            Ok(Some(c)) => c,
            Ok(None) => {
                self.eof = true;
                return Ok(false);
            }
            Err(e) => {
                self.eof = true;
                return Err(e);
            }
        };
        let unread = self.end - self.pos;
        self.inflated += (chunk.len() - HEADROOM) as u64;
        if unread <= HEADROOM {
            let mut chunk = chunk;
            let at = HEADROOM - unread;
            chunk[at..HEADROOM].copy_from_slice(&self.buf[self.pos..self.end]);
            chunks.give_back(std::mem::replace(&mut self.buf, chunk));
            self.pos = at;
        } else {
            self.buf.truncate(self.end);
            self.buf.drain(..self.pos);
            self.buf.reserve_exact(chunk.len() - HEADROOM);
            self.buf.extend_from_slice(&chunk[HEADROOM..]);
            chunks.give_back(chunk);
            self.pos = 0;
        }
        self.end = self.buf.len();
        Ok(true)
    }

    fn position(&self) -> Position {
        Position {
            shape: self.shape,
            index: self.index,
        }
    }

    /// What follows the records' `]`.
    fn closing(&self) -> State {
        State::Closing {
            brace: self.shape == Shape::Records,
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
        while self.end - self.pos < 3 && self.fill()? {}
        if self.buf[self.pos..self.end].starts_with(&[0xef, 0xbb, 0xbf]) {
            self.pos += 3;
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
                        self.pos += 1;
                        self.state = self.closing();
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
                State::Closing { brace } => match self.next_byte() {
                    Ok(Some(b'}')) if brace => {
                        self.pos += 1;
                        self.state = State::Closing { brace: false };
                    }
                    Ok(None) if !brace => return None,
                    Ok(None) => return Some(Item::Error(at_end(ReadErrorKind::Truncated))),
                    Ok(Some(b)) => {
                        let expected = match brace {
                            true => "'}' closing the log",
                            false => "the end of the document",
                        };
                        let found = describe(b);
                        let kind = ReadErrorKind::Invalid { expected, found };
                        return Some(Item::Error(at_end(kind)));
                    }
                    Err(e) => return Some(Item::Error(at_end(e.into()))),
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
                        Ok(Some(b']')) if first && self.shape != Shape::Object => {
                            self.pos += 1;
                            self.state = self.closing();
                            continue;
                        }
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

/// An error after the last record: it names the document, not a record.
fn at_end(kind: ReadErrorKind) -> ReadError {
    ReadError {
        position: None,
        field: None,
        kind,
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}
