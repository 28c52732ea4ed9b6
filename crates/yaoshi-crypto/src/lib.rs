//! Yaoshi's cryptography: key material, domain-key wrapping, symmetric ciphertext blobs,
//! asymmetric signatures and encryption, digests and MACs.
//!
//! The crate is pure: it reads no files, no clock and no network. The only side effect is
//! reading operating-system randomness, and that happens in exactly one function,
//! [`random_bytes`] (enforced by `clippy.toml`).
//!
//! - [`KeyMaterial`] holds plain key bytes and zeroizes them on drop.
//! - [`DomainKey`] is a region's 256-bit key that wraps all key material at rest
//!   ([`DomainKey::wrap`], [`DomainKey::unwrap`]).
//! - [`seal_blob_for`], [`parse_blob_header`] and [`open_blob_for`] produce and consume the
//!   self-describing ciphertext blobs returned by Encrypt and GenerateDataKey, with AES-GCM for
//!   AES keys and SM4-GCM for SM4 keys; the byte layout and the nonce budget are documented in
//!   the [`blob`] module. [`seal_blob`] / [`open_blob`] are the older AES-only forms.
//! - [`generate_key`] makes key material for every key spec; [`public_key_pem`] gives the
//!   public key of asymmetric material.
//! - [`encryption_context_aad`] turns an encryption context into canonical AAD bytes.
//! - [`sign_digest`] / [`verify_digest`] sign and verify a 32-byte digest with
//!   [`SignAlgorithm`]s (RSA-PSS, RSA-PKCS#1 v1.5, ECDSA, SM2DSA);
//!   [`verify_digest_with_public_pem`] verifies with a PEM public key; [`sm2_digest`] computes
//!   the SM2 digest e = SM3(Z_A ‖ M). Details in the [`sign`] module.
//! - [`asymmetric_encrypt`] / [`asymmetric_decrypt`] encrypt and decrypt with stored keys
//!   ([`EncryptAlgorithm`]: RSA-OAEP, SM2PKE, and PKCS#1 v1.5 decryption for BYOK);
//!   [`encrypt_to_public_pem`] encrypts to a PEM public key (ExportDataKey). Encodings, limits
//!   and side-channel measures are in the [`asymmetric`] module.
//! - [`sm3()`], [`sha256`], [`hmac_sm3`], [`hmac_sha256`] and the constant-time
//!   [`verify_hmac_sm3`] / [`verify_hmac_sha256`] / [`constant_time_eq`].
//! - [`mac`] / [`verify_mac`] compute and verify (in constant time) the MACs of HMAC keys
//!   ([`KeyType::HmacSm3`], [`KeyType::HmacSha256`]): GenerateMac and VerifyMac.
//!
//! Plaintexts and private key material come back as [`zeroize::Zeroizing`] buffers or
//! [`KeyMaterial`], which are wiped on drop. Errors ([`CryptoError`]) never contain key material or
//! plaintext, and no function panics on any input (only on a failing OS random source).

pub mod asymmetric;
pub mod blob;
pub mod cert;
mod context;
mod digest;
mod error;
mod gcm;
mod import;
mod key;
mod keygen;
mod mac;
mod password;
pub mod pkcs12;
mod random;
mod secret;
pub mod sign;

pub use asymmetric::{
    EncryptAlgorithm, SM2PKE_MAX_PLAINTEXT, asymmetric_decrypt, asymmetric_encrypt,
    encrypt_to_public_pem, public_pem_key_type,
};
pub use blob::{
    BLOB_NONCE_LEN, BLOB_SALT_LEN, BLOB_TAG_LEN, BLOB_VERSION_V1, BLOB_VERSION_V2, BlobHeader,
    open_blob, open_blob_for, parse_blob_header, seal_blob, seal_blob_for,
};
pub use context::{encryption_context_aad, parse_encryption_context};
pub use digest::{
    DIGEST_LEN, constant_time_eq, hmac_sha256, hmac_sm3, sha256, sm3, verify_hmac_sha256,
    verify_hmac_sm3,
};
pub use error::CryptoError;
pub use import::unwrap_imported_material;
pub use key::{DomainKey, KEY_LEN, KeyMaterial, WRAP_VERSION_V1};
pub use keygen::{KeyType, generate_key, public_key_pem};
pub use mac::{MAC_LEN, mac, verify_mac};
pub use password::{PASSWORD_CLASSES, random_password};
pub use random::random_bytes;
pub use secret::{
    ROTATED_PASSWORD_LEN, SealedSecret, open_secret, open_secret_version, rotated_value,
    seal_secret, seal_secret_version,
};
pub use sign::{
    SIGN_DIGEST_LEN, SM2_DEFAULT_ID, SignAlgorithm, SigningKey, sign_digest, sm2_digest,
    sm2_digest_with_public_pem, verify_digest, verify_digest_with_public_pem,
};

#[cfg(test)]
mod asymmetric_test;
#[cfg(test)]
mod blob_test;
#[cfg(test)]
mod cert_test;
#[cfg(test)]
mod context_test;
#[cfg(test)]
mod digest_test;
#[cfg(test)]
mod gcm_test;
#[cfg(test)]
mod import_test;
#[cfg(test)]
mod interop_test;
#[cfg(test)]
mod key_test;
#[cfg(test)]
mod keygen_test;
#[cfg(test)]
mod mac_test;
#[cfg(test)]
mod pkcs12_test;
#[cfg(test)]
mod sign_test;
