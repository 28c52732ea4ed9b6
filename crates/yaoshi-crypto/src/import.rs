//! BYOK: unwrapping key material that a client encrypted under an import token's public key.

use crate::{CryptoError, EncryptAlgorithm, KeyMaterial, KeyType, asymmetric_decrypt};

/// Decrypts `ciphertext` (the client's `EncryptedKeyMaterial`) with the import token's private
/// key: RSA-2048 with `RSAES_PKCS1_V1_5`, `RSAES_OAEP_SHA_1` or `RSAES_OAEP_SHA_256` (MGF1 with the
/// same hash, empty label), or SM2 with `SM2PKE` (GM/T 0009 ASN.1 ciphertext, or raw `C1C3C2`).
///
/// This is [`asymmetric_decrypt`] with the algorithm given by name. RSA decryption is blinded.
/// PKCS#1 v1.5 uses the `rsa` crate's implicit rejection: a bad padding yields a pseudorandom
/// message instead of an error, so callers learn nothing from timing or errors; the length check
/// of the caller then rejects it (almost always).
///
/// # Errors
///
/// [`CryptoError::DecryptionFailed`] for every failure, an unknown algorithm or one that does not
/// fit `wrapping` included (one error, no detail); [`CryptoError::InvalidKeyMaterial`] if
/// `private` is not a key of `wrapping`.
pub fn unwrap_imported_material(
    wrapping: KeyType,
    algorithm: &str,
    private: &KeyMaterial,
    ciphertext: &[u8],
) -> Result<KeyMaterial, CryptoError> {
    let algorithm = EncryptAlgorithm::from_name(algorithm).ok_or(CryptoError::DecryptionFailed)?;
    let plain = match asymmetric_decrypt(wrapping, algorithm, private, ciphertext) {
        Ok(plain) => plain,
        Err(CryptoError::InvalidKeyMaterial) => return Err(CryptoError::InvalidKeyMaterial),
        Err(_) => return Err(CryptoError::DecryptionFailed),
    };
    Ok(KeyMaterial::from_bytes(&plain))
}
