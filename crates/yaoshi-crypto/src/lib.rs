//! Yaoshi's symmetric cryptography: key material, domain-key wrapping and ciphertext blobs.
//!
//! The crate is pure: it reads no files, no clock and no network. The only side effect is
//! reading operating-system randomness, and that happens in exactly one function,
//! [`random_bytes`] (enforced by `clippy.toml`).
//!
//! - [`KeyMaterial`] holds plain key bytes and zeroizes them on drop.
//! - [`DomainKey`] is a region's 256-bit key that wraps all key material at rest
//!   ([`DomainKey::wrap`], [`DomainKey::unwrap`]).
//! - [`seal_blob`], [`parse_blob_header`] and [`open_blob`] produce and consume the
//!   self-describing ciphertext blobs returned by Encrypt and GenerateDataKey; the byte layout is
//!   documented in the [`blob`] module.
//! - [`generate_key`] makes key material for every key spec; [`public_key_pem`] gives the
//!   public key of asymmetric material.
//! - [`encryption_context_aad`] turns an encryption context into canonical AAD bytes.

pub mod blob;
mod context;
mod error;
mod gcm;
mod import;
mod key;
mod keygen;
mod random;

pub use blob::{
    BLOB_NONCE_LEN, BLOB_SALT_LEN, BLOB_TAG_LEN, BLOB_VERSION_V1, BlobHeader, open_blob,
    parse_blob_header, seal_blob,
};
pub use context::encryption_context_aad;
pub use error::CryptoError;
pub use import::unwrap_imported_material;
pub use key::{DomainKey, KEY_LEN, KeyMaterial, WRAP_VERSION_V1};
pub use keygen::{KeyType, generate_key, public_key_pem};
pub use random::random_bytes;

#[cfg(test)]
mod blob_test;
#[cfg(test)]
mod context_test;
#[cfg(test)]
mod gcm_test;
#[cfg(test)]
mod import_test;
#[cfg(test)]
mod key_test;
#[cfg(test)]
mod keygen_test;
