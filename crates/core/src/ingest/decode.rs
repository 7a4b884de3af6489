//! Bytes as stored → bytes to read: gzip is recognised by its magic bytes.

use flate2::read::MultiGzDecoder;
use std::io::{self, Read};

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
