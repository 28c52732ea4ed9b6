//! BYOK: unwrapping key material that a client encrypted under an import token's public key.

use rsa::{Oaep, Pkcs1v15Encrypt};
use zeroize::Zeroizing;

use crate::keygen::rsa_private_key;
use crate::random::os_rng;
use crate::{CryptoError, KeyMaterial, KeyType};

/// Decrypts `ciphertext` (the client's `EncryptedKeyMaterial`) with the import token's private
/// key: RSA-2048 with `RSAES_PKCS1_V1_5`, `RSAES_OAEP_SHA_1` or `RSAES_OAEP_SHA_256` (MGF1 with the
/// same hash, empty label), or SM2 with `SM2PKE` (GM/T 0009 ASN.1 ciphertext).
///
/// RSA decryption is blinded. PKCS#1 v1.5 uses the `rsa` crate's implicit rejection: a bad
/// padding yields a pseudorandom message instead of an error, so callers learn nothing from
/// timing or errors; the length check of the caller then rejects it (almost always).
///
/// # Errors
///
/// [`CryptoError::DecryptionFailed`] for every failure (one error, no detail);
/// [`CryptoError::InvalidKeyMaterial`] if `private` is not a key of `wrapping`.
pub fn unwrap_imported_material(
    wrapping: KeyType,
    algorithm: &str,
    private: &KeyMaterial,
    ciphertext: &[u8],
) -> Result<KeyMaterial, CryptoError> {
    let plain: Zeroizing<Vec<u8>> = match (wrapping, algorithm) {
        (KeyType::Rsa2048, _) => {
            let key = rsa_private_key(private)?;
            let mut rng = os_rng();
            let result = match algorithm {
                "RSAES_PKCS1_V1_5" => key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, ciphertext),
                "RSAES_OAEP_SHA_1" => {
                    key.decrypt_blinded(&mut rng, Oaep::<sha1::Sha1>::new(), ciphertext)
                }
                "RSAES_OAEP_SHA_256" => {
                    key.decrypt_blinded(&mut rng, Oaep::<sha2::Sha256>::new(), ciphertext)
                }
                _ => return Err(CryptoError::DecryptionFailed),
            };
            Zeroizing::new(result.map_err(|_| CryptoError::DecryptionFailed)?)
        }
        (KeyType::EcSm2, "SM2PKE") => {
            let secret = sm2::SecretKey::from_slice(private.as_bytes())
                .map_err(|_| CryptoError::InvalidKeyMaterial)?;
            let key = sm2::pke::DecryptingKey::new(secret);
            Zeroizing::new(key.decrypt_der(ciphertext).map_err(|_| CryptoError::DecryptionFailed)?)
        }
        _ => return Err(CryptoError::DecryptionFailed),
    };
    Ok(KeyMaterial::from_bytes(&plain))
}
