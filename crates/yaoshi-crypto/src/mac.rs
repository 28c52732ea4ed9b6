//! MACs under the material of HMAC keys (`HMAC_SM3`, `HMAC_SHA256`): what GenerateMac and
//! VerifyMac compute. HMAC per RFC 2104, the `hmac` crate over `sm3::Sm3` and
//! `sha2::Sha256` (`digest.rs`, shared with the signature schemes); verification is constant-time.

use crate::digest::{hmac_sha256, hmac_sm3, verify_hmac_sha256, verify_hmac_sm3};
use crate::{CryptoError, KeyMaterial, KeyType};

/// Length of a MAC of either HMAC key type, in bytes.
pub const MAC_LEN: usize = 32;

/// The MAC of `data` under HMAC key material `key` of type `kind` (32 bytes).
///
/// # Errors
///
/// [`CryptoError::UnsupportedAlgorithm`] if `kind` is not an HMAC key type.
pub fn mac(kind: KeyType, key: &KeyMaterial, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match kind {
        KeyType::HmacSm3 => Ok(hmac_sm3(key.as_bytes(), data).to_vec()),
        KeyType::HmacSha256 => Ok(hmac_sha256(key.as_bytes(), data).to_vec()),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Whether `tag` is the MAC of `data` under `key` of type `kind`, compared in constant time. A
/// tag of the wrong length is simply not valid (`Ok(false)`); only the length, which is public,
/// affects timing.
///
/// # Errors
///
/// [`CryptoError::UnsupportedAlgorithm`] if `kind` is not an HMAC key type.
pub fn verify_mac(
    kind: KeyType,
    key: &KeyMaterial,
    data: &[u8],
    tag: &[u8],
) -> Result<bool, CryptoError> {
    match kind {
        KeyType::HmacSm3 => Ok(verify_hmac_sm3(key.as_bytes(), data, tag)),
        KeyType::HmacSha256 => Ok(verify_hmac_sha256(key.as_bytes(), data, tag)),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}
