//! Key generation for every key spec, and public keys of asymmetric key material.
//!
//! # Key material encodings
//!
//! What [`generate_key`] returns, and what is wrapped under the domain key at rest:
//!
//! | key type | material |
//! |---|---|
//! | AES-128/192/256, SM4 | the raw 16/24/32/16 key bytes |
//! | RSA-2048/3072 | the private key as PKCS#8 `PrivateKeyInfo`, DER |
//! | P-256, secp256k1, SM2 | the 32-byte big-endian private scalar |
//! | HMAC-SM3, HMAC-SHA256 | 32 random key bytes |

use p256::pkcs8::{EncodePublicKey, LineEnding};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};

use crate::random::os_rng;
use crate::{CryptoError, KeyMaterial, random_bytes};

/// The kind of key material: one per key spec of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// AES-128 (`Aliyun_AES_128`).
    Aes128,
    /// AES-192 (`Aliyun_AES_192`).
    Aes192,
    /// AES-256 (`Aliyun_AES_256`).
    Aes256,
    /// SM4 (`Aliyun_SM4`).
    Sm4,
    /// RSA with a 2048-bit modulus (`RSA_2048`).
    Rsa2048,
    /// RSA with a 3072-bit modulus (`RSA_3072`).
    Rsa3072,
    /// ECDSA over NIST P-256 (`EC_P256`).
    EcP256,
    /// ECDSA over secp256k1 (`EC_P256K`).
    EcP256k,
    /// SM2 (`EC_SM2`).
    EcSm2,
    /// HMAC over SM3 with a 32-byte key (`HMAC_SM3`).
    HmacSm3,
    /// HMAC over SHA-256 with a 32-byte key (`HMAC_SHA256`).
    HmacSha256,
}

impl From<yaoshi_model::KeySpec> for KeyType {
    /// The key type of an API key spec.
    fn from(spec: yaoshi_model::KeySpec) -> KeyType {
        use yaoshi_model::KeySpec;
        match spec {
            KeySpec::Aes256 => KeyType::Aes256,
            KeySpec::Aes128 => KeyType::Aes128,
            KeySpec::Aes192 => KeyType::Aes192,
            KeySpec::Sm4 => KeyType::Sm4,
            KeySpec::Rsa2048 => KeyType::Rsa2048,
            KeySpec::Rsa3072 => KeyType::Rsa3072,
            KeySpec::EcP256 => KeyType::EcP256,
            KeySpec::EcP256k => KeyType::EcP256k,
            KeySpec::EcSm2 => KeyType::EcSm2,
            KeySpec::HmacSm3 => KeyType::HmacSm3,
            KeySpec::HmacSha256 => KeyType::HmacSha256,
        }
    }
}

impl KeyType {
    /// Whether the material is a symmetric key (a cipher key or an HMAC key).
    #[must_use]
    pub fn is_symmetric(self) -> bool {
        self.symmetric_len().is_some()
    }

    /// Whether the material is an HMAC key.
    #[must_use]
    pub fn is_hmac(self) -> bool {
        matches!(self, KeyType::HmacSm3 | KeyType::HmacSha256)
    }

    /// Length of symmetric material in bytes (`None` for asymmetric types).
    #[must_use]
    pub fn symmetric_len(self) -> Option<usize> {
        match self {
            KeyType::Aes128 | KeyType::Sm4 => Some(16),
            KeyType::Aes192 => Some(24),
            KeyType::Aes256 | KeyType::HmacSm3 | KeyType::HmacSha256 => Some(32),
            _ => None,
        }
    }
}

/// Generates new key material of `kind` (encodings in the module documentation).
///
/// # Errors
///
/// [`CryptoError::KeyGeneration`] if RSA key generation fails (it does not with a working OS
/// random source).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`random_bytes`]).
pub fn generate_key(kind: KeyType) -> Result<KeyMaterial, CryptoError> {
    if let Some(len) = kind.symmetric_len() {
        return Ok(KeyMaterial::generate(len));
    }
    match kind {
        KeyType::Rsa2048 | KeyType::Rsa3072 => {
            let bits = if kind == KeyType::Rsa2048 { 2048 } else { 3072 };
            let key = rsa::RsaPrivateKey::new(&mut os_rng(), bits)
                .map_err(|_| CryptoError::KeyGeneration)?;
            let der = key.to_pkcs8_der().map_err(|_| CryptoError::KeyGeneration)?;
            Ok(KeyMaterial::from_bytes(der.as_bytes()))
        }
        _ => loop {
            // A uniformly random scalar: draw 32 bytes until they are a valid secret (1..n-1).
            let candidate = random_bytes(32);
            if ec_scalar_valid(kind, &candidate) {
                return Ok(KeyMaterial::from_bytes(&candidate));
            }
        },
    }
}

fn ec_scalar_valid(kind: KeyType, bytes: &[u8]) -> bool {
    match kind {
        KeyType::EcP256 => p256::SecretKey::from_slice(bytes).is_ok(),
        KeyType::EcP256k => k256::SecretKey::from_slice(bytes).is_ok(),
        KeyType::EcSm2 => sm2::SecretKey::from_slice(bytes).is_ok(),
        _ => false,
    }
}

/// The RSA private key in `material`.
pub(crate) fn rsa_private_key(material: &KeyMaterial) -> Result<rsa::RsaPrivateKey, CryptoError> {
    rsa::RsaPrivateKey::from_pkcs8_der(material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial)
}

/// The public key of asymmetric `material` as a PEM `SubjectPublicKeyInfo` (`-----BEGIN PUBLIC
/// KEY-----`, LF line endings). EC keys use `id-ecPublicKey` with the curve's OID (SM2:
/// 1.2.156.10197.1.301).
///
/// # Errors
///
/// - [`CryptoError::NotAsymmetric`] for symmetric key types.
/// - [`CryptoError::InvalidKeyMaterial`] if `material` is not a valid key of `kind`.
pub fn public_key_pem(kind: KeyType, material: &KeyMaterial) -> Result<String, CryptoError> {
    let bad = |_| CryptoError::InvalidKeyMaterial;
    let bytes = material.as_bytes();
    match kind {
        KeyType::Rsa2048 | KeyType::Rsa3072 => rsa_private_key(material)?
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(bad),
        KeyType::EcP256 => p256::SecretKey::from_slice(bytes)
            .map_err(|_| CryptoError::InvalidKeyMaterial)?
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(bad),
        KeyType::EcP256k => k256::SecretKey::from_slice(bytes)
            .map_err(|_| CryptoError::InvalidKeyMaterial)?
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(bad),
        KeyType::EcSm2 => sm2::SecretKey::from_slice(bytes)
            .map_err(|_| CryptoError::InvalidKeyMaterial)?
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(bad),
        _ => Err(CryptoError::NotAsymmetric),
    }
}
