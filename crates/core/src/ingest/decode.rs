//! Bytes as stored → bytes to read: gzip is recognised by its magic bytes.

use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::sync::mpsc;

use super::reader::CHUNK;

/// Inflated chunks in flight between the two threads. The two run at
/// nearly the same speed, so either stalls now and then; six chunks ride
/// that out (two measured a bimodal 0.75–0.95× of inflate alone), for about
/// 11 MiB.
const DEPTH: usize = 6;

/// Wraps `src` in an inflater when it starts with the gzip magic bytes.
/// File names lie; magic bytes do not.
pub fn decoded<'r, R: Read + 'r>(src: R) -> io::Result<Box<dyn Read + 'r>> {
    let (gzip, joined) = sniffed(src)?;
    Ok(if gzip {
        Box::new(MultiGzDecoder::new(joined))
    } else {
        Box::new(joined)
    })
}

/// Inflated bytes, as the record reader takes them.
pub enum Decoded<'r> {
    /// Read into the reader's own buffer.
    Stream(Box<dyn Read + 'r>),
    /// Whole chunks from an inflating thread, each taken as the reader's
    /// buffer: nothing is copied but a record cut at a chunk's edge.
    Chunks(Chunks),
}

/// Room before each chunk's bytes for the record cut at the previous
/// chunk's end: CloudTrail's record cap, so that only a damaged record
/// is ever gathered by copying.
pub const HEADROOM: usize = 256 << 10;

/// [`decoded`], with the inflating done on a thread of its own while `read`
/// parses: inflate is over half of ingest's time, so on two cores reading
/// costs about what inflating alone does. At most [`DEPTH`] + 3 chunks of
/// [`HEADROOM`] + [`CHUNK`] are held. Plain input is read on the caller's
/// thread.
pub fn decoded_beside<R, T>(src: R, read: impl FnOnce(io::Result<Decoded<'_>>) -> T) -> T
where
    R: Read + Send,
{
    let (gzip, joined) = match sniffed(src) {
        Ok(s) => s,
        Err(e) => return read(Err(e)),
    };
    if !gzip {
        return read(Ok(Decoded::Stream(Box::new(joined))));
    }
    std::thread::scope(|scope| {
        let (full, filled) = mpsc::sync_channel(DEPTH);
        let (spare, spares) = mpsc::channel();
        scope.spawn(move || inflate(MultiGzDecoder::new(joined), &full, &spares));
        read(Ok(Decoded::Chunks(Chunks { filled, spare })))
        // The chunks' receiver is dropped before the scope ends: an
        // inflater still running finds no one to send to, and stops.
    })
}

/// Inflates into whole chunks (after [`HEADROOM`]) until the end, an
/// error, or a reader that stopped listening.
fn inflate(
    mut gz: impl Read,
    full: &mpsc::SyncSender<io::Result<Vec<u8>>>,
    spares: &mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = spares.try_recv().unwrap_or_default();
        buf.resize(HEADROOM + CHUNK, 0);
        let mut end = HEADROOM;
        let ended = loop {
            match gz.read(&mut buf[end..]) {
                Ok(0) => break Ok(true),
                Ok(k) => {
                    end += k;
                    if end == buf.len() {
                        break Ok(false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(end);
        if end > HEADROOM && full.send(Ok(buf)).is_err() {
            return;
        }
        match ended {
            Ok(false) => {}
            Ok(true) => return,
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
    }
}

/// The reading end of [`decoded_beside`].
pub struct Chunks {
    filled: mpsc::Receiver<io::Result<Vec<u8>>>,
    spare: mpsc::Sender<Vec<u8>>,
}

impl Chunks {
    /// The next chunk, its bytes from [`HEADROOM`] on; `None` at the end.
    pub fn take(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.filled.recv() {
            Ok(chunk) => chunk.map(Some),
            // The inflater has finished.
            Err(_) => Ok(None),
        }
    }

    /// Hands a spent buffer back to be filled again, so that memory stays
    /// at a few chunks. One grown to gather a long record is let go: kept,
    /// it would hold up to the record cap for every chunk in flight.
    pub fn give_back(&self, spent: Vec<u8>) {
        if spent.capacity() <= HEADROOM + CHUNK {
            let _ = self.spare.send(spent);
        }
    }
}

/// Whether `src` starts with the gzip magic, and `src` whole again.
fn sniffed<R: Read>(mut src: R) -> io::Result<(bool, impl Read)> {
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
    Ok((n == 2 && magic == [0x1f, 0x8b], prefix.chain(src)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    /// Everything `decoded` gives, and how much of it came before an error.
    fn drained(d: io::Result<Decoded<'_>>, out: &mut Vec<u8>) -> io::Result<()> {
        match d? {
            Decoded::Stream(mut r) => r.read_to_end(out).map(drop),
            Decoded::Chunks(mut chunks) => {
                while let Some(c) = chunks.take()? {
                    out.extend_from_slice(&c[HEADROOM..]);
                    chunks.give_back(c);
                }
                Ok(())
            }
        }
    }

    fn beside(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoded_beside(bytes, |d| drained(d, &mut out))?;
        Ok(out)
    }

    #[test]
    fn both_ways_give_the_same_bytes_across_chunks_and_members() {
        let big: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i * 7 % 251) as u8).collect();
        let doc = gz(&[&big, b"tail"]);
        let mut one = Vec::new();
        decoded(&doc[..]).unwrap().read_to_end(&mut one).unwrap();
        let two = beside(&doc).unwrap();
        assert_eq!(one.len(), big.len() + 4);
        assert_eq!(one, two);
        assert_eq!(beside(b"{\"Records\":[]}").unwrap(), b"{\"Records\":[]}");
        assert_eq!(beside(b"").unwrap(), b"");
    }

    #[test]
    fn damage_is_an_error_after_the_good_bytes() {
        let mut doc = gz(&[&vec![b'x'; CHUNK + 5]]);
        let cut = doc.len() - 12;
        doc.truncate(cut);
        let mut got = Vec::new();
        let err = decoded_beside(&doc[..], |d| drained(d, &mut got)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(got.len() > CHUNK / 2, "{}", got.len());
    }

    #[test]
    fn a_reader_that_stops_early_does_not_hang() {
        let doc = gz(&[&vec![b'y'; 8 * CHUNK]]);
        let first = decoded_beside(&doc[..], |d| match d {
            Ok(Decoded::Chunks(mut chunks)) => chunks.take().unwrap().unwrap()[HEADROOM],
            _ => 0,
        });
        assert_eq!(first, b'y');
    }
}
