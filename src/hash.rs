//! Fast hashing for keys the run makes itself (texts, numbers, block
//! keys): the standard library's SipHash resists keys chosen by an attacker,
//! which a run's own records are not, and costs several times more per key.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash, the hasher of rustc: one rotate, xor and multiply per word. Not
/// resistant to chosen keys, which does not matter for a run's own records.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Fx with a final avalanche, for maps keyed by text or by block key. Fx
/// alone leaves the low bits of the hash, which pick the bucket, depending
/// on a few bytes of a short text or the last word of a key, so similar
/// keys crowd into the same buckets.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxMix(Fx);

impl Hasher for FxMix {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The finaliser of MurmurHash3.
        let mut h = self.0.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A map hashed with [`FxMix`].
pub(crate) type MixMap<K, V> = HashMap<K, V, BuildHasherDefault<FxMix>>;

/// A set hashed with [`FxMix`].
pub(crate) type MixSet<K> = HashSet<K, BuildHasherDefault<FxMix>>;

/// A set of indices hashed with [`Fx`].
pub(crate) type FxSet = HashSet<usize, BuildHasherDefault<Fx>>;
