//! The generator's seedable PRNG: `rand_xoshiro`'s xoshiro256** seeded with
//! `seed_from_u64` (SplitMix64), whose output is fixed by the algorithm, not
//! by a crate version, so the same seed gives the same bytes. [`Rng`] wraps it
//! with the few string and choice helpers the generator uses.

use rand::distr::slice::Choose;
use rand::distr::Alphanumeric;
use rand::seq::IndexedRandom;
use rand::{Rng as _, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256StarStar;

pub struct Rng(Xoshiro256StarStar);

const HEX: &[u8; 16] = b"0123456789abcdef";
const DIGITS: &[u8; 10] = b"0123456789";
const LOWER_ALNUM: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(Xoshiro256StarStar::seed_from_u64(seed))
    }

    /// An independent stream derived from this one.
    pub fn fork(&mut self) -> Self {
        Self(Xoshiro256StarStar::from_rng(&mut self.0))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0.random_range(lo..=hi)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        self.0.random()
    }

    /// True with probability `p` (within `0..=1`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.0).expect("pick from an empty slice")
    }

    /// Picks by weight; `items` is `(weight, value)`, the weights not all 0.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        &items
            .choose_weighted(&mut self.0, |(w, _)| *w)
            .expect("weights not all zero")
            .1
    }

    fn chars(&mut self, set: &[u8], n: usize) -> String {
        let set = Choose::new(set).expect("a non-empty character set");
        (&mut self.0)
            .sample_iter(set)
            .take(n)
            .map(|&b| char::from(b))
            .collect()
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.chars(HEX, n)
    }

    pub fn upper_hex(&mut self, n: usize) -> String {
        self.hex(n).to_ascii_uppercase()
    }

    /// `[0-9A-Za-z]{n}`.
    pub fn alnum(&mut self, n: usize) -> String {
        (&mut self.0)
            .sample_iter(Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    }

    pub fn lower_alnum(&mut self, n: usize) -> String {
        self.chars(LOWER_ALNUM, n)
    }

    pub fn upper_alnum(&mut self, n: usize) -> String {
        self.alnum(n).to_ascii_uppercase()
    }

    /// `n` characters of the base64 alphabet (no padding).
    pub fn base64(&mut self, n: usize) -> String {
        self.chars(B64, n)
    }

    pub fn digits(&mut self, n: usize) -> String {
        self.chars(DIGITS, n)
    }

    /// A version-4-shaped UUID.
    pub fn uuid(&mut self) -> String {
        let a = self.u64();
        let b = self.u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.u64(), b.u64());
        }
        assert_ne!(Rng::new(7).u64(), Rng::new(8).u64());
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.fork().hex(32), b.fork().hex(32));
        assert_eq!(a.alnum(32), b.alnum(32));
    }

    #[test]
    fn uuid_is_uuid_shaped() {
        let u = Rng::new(1).uuid();
        let parts: Vec<_> = u.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{u}");
        assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn below_stays_below() {
        let mut r = Rng::new(3);
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert!((0..1000).all(|_| (5..=9).contains(&r.range(5, 9))));
    }

    #[test]
    fn helpers_use_their_alphabets() {
        let mut r = Rng::new(5);
        assert!(r.hex(64).bytes().all(|b| HEX.contains(&b)));
        assert!(r.digits(64).bytes().all(|b| b.is_ascii_digit()));
        assert!(r.alnum(64).bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(r
            .upper_alnum(64)
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        assert!(r.base64(64).bytes().all(|b| B64.contains(&b)));
        assert_eq!(r.lower_alnum(9).len(), 9);
        assert_eq!(*r.weighted(&[(0, 'a'), (3, 'b'), (0, 'c')]), 'b');
    }
}
