//! MACs under the material of HMAC keys (`HMAC_SM3`, `HMAC_SHA256`): what GenerateMac and
//! VerifyMac compute. HMAC per RFC 2104 from the `hmac` crate over `sm3::Sm3` and
//! `sha2::Sha256`; verification is constant-time (`Mac::verify_slice`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sm3::Sm3;

use crate::{CryptoError, KeyMaterial, KeyType};

/// Length of a MAC of either HMAC key type, in bytes.
pub const MAC_LEN: usize = 32;

/// The MAC of `data` under HMAC key material `key` of type `kind` (32 bytes).
///
/// # Errors
///
/// [`CryptoError::UnsupportedAlgorithm`] if `kind` is not an HMAC key type.
pub fn mac(kind: KeyType, key: &KeyMaterial, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(match kind {
        KeyType::HmacSm3 => {
            keyed::<Hmac<Sm3>>(key)?.chain_update(data).finalize().into_bytes().to_vec()
        }
        KeyType::HmacSha256 => {
            keyed::<Hmac<Sha256>>(key)?.chain_update(data).finalize().into_bytes().to_vec()
        }
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    })
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
    Ok(match kind {
        KeyType::HmacSm3 => keyed::<Hmac<Sm3>>(key)?.chain_update(data).verify_slice(tag).is_ok(),
        KeyType::HmacSha256 => {
            keyed::<Hmac<Sha256>>(key)?.chain_update(data).verify_slice(tag).is_ok()
        }
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    })
}

/// An HMAC instance keyed with `key` (HMAC takes keys of any length; the error cannot happen).
fn keyed<M: KeyInit>(key: &KeyMaterial) -> Result<M, CryptoError> {
    M::new_from_slice(key.as_bytes()).map_err(|_| CryptoError::InvalidKeyMaterial)
}
