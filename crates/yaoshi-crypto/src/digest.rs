//! Message digests and MACs: SM3 (GB/T 32905-2016), HMAC-SM3 and HMAC-SHA256, with
//! constant-time MAC verification.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use sm3::{Digest, Sm3};
use subtle::ConstantTimeEq;

/// Length of an SM3 or SHA-256 digest, and of an HMAC-SM3 or HMAC-SHA256 tag, in bytes.
pub const DIGEST_LEN: usize = 32;

/// SM3 digest of `data` (GB/T 32905-2016).
#[must_use]
pub fn sm3(data: &[u8]) -> [u8; DIGEST_LEN] {
    Sm3::digest(data).into()
}

/// SHA-256 digest of `data` (FIPS 180-4).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; DIGEST_LEN] {
    Sha256::digest(data).into()
}

/// HMAC-SM3 of `data` under `key` (RFC 2104 over SM3; keys of any length).
#[must_use]
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    hmac_with::<hmac::Hmac<Sm3>>(key, data)
}

/// HMAC-SHA256 of `data` under `key` (RFC 2104; keys of any length).
#[must_use]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    hmac_with::<hmac::Hmac<Sha256>>(key, data)
}

/// Whether `tag` is the HMAC-SM3 of `data` under `key`, compared in constant time.
///
/// A tag of the wrong length is simply not valid (`false`); only the length, which is public,
/// affects timing.
#[must_use]
pub fn verify_hmac_sm3(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    constant_time_eq(&hmac_sm3(key, data), tag)
}

/// Whether `tag` is the HMAC-SHA256 of `data` under `key`, compared in constant time.
///
/// A tag of the wrong length is simply not valid (`false`); only the length, which is public,
/// affects timing.
#[must_use]
pub fn verify_hmac_sha256(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    constant_time_eq(&hmac_sha256(key, data), tag)
}

/// Compares two byte strings in time that depends only on their lengths.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `subtle` returns false at once for different lengths; lengths are public here.
    bool::from(a.ct_eq(b))
}

/// Computes an HMAC; `M` is `Hmac<Sm3>` or `Hmac<Sha256>`.
fn hmac_with<M: KeyInit + Mac>(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = match <M as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; DIGEST_LEN];
    // Both tags are exactly 32 bytes.
    let n = tag.len().min(DIGEST_LEN);
    out[..n].copy_from_slice(&tag[..n]);
    out
}
