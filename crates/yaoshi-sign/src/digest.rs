//! Hashes, HMACs and constant-time signature comparison.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Returns lower-case hex of SHA-256(`bytes`), as used for ACS3's HashedPayload and
/// `x-acs-content-sha256`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Returns true if the two signature strings are equal, comparing their bytes in constant time.
///
/// Strings of different lengths never match (the length itself is not secret: it is fixed by the
/// signature method).
#[must_use]
pub fn signatures_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// HMAC-SHA1(`key`, `message`).
pub(crate) fn hmac_sha1(key: &[u8], message: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(key) else {
        unreachable!("hmac accepts keys of any length");
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA256(`key`, `message`).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        unreachable!("hmac accepts keys of any length");
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}
