//! The raw GCM primitive (96-bit nonce, 128-bit tag) over AES (key size picked by key length) or
//! SM4.
//!
//! Everything in the crate that encrypts symmetrically goes through [`seal_with_cipher`] and
//! [`open_with_cipher`] (or their AES shorthands [`seal_in_place`] and [`open_in_place`]), so the
//! NIST AES-GCM and RFC 8998 SM4-GCM known-answer tests in `gcm_test.rs` cover the exact wiring
//! used for wrapping and blobs.

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadCore, AeadInOut, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};

use crate::CryptoError;

/// AES-GCM nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 12;
/// AES-GCM tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;

/// AES-192-GCM; aes-gcm has no alias for it.
type Aes192Gcm = AesGcm<Aes192, U12>;

/// SM4-GCM as specified in RFC 8998 (the GCM mode of NIST SP 800-38D over the SM4 block cipher).
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// The block cipher under GCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockCipher {
    /// AES; the key length (16, 24 or 32 bytes) picks AES-128, -192 or -256.
    Aes,
    /// SM4; the key is 16 bytes.
    Sm4,
}

/// Encrypts `buf` in place under `key` with `cipher`-GCM and returns the tag.
///
/// On error `buf` is left unchanged.
pub(crate) fn seal_with_cipher(
    cipher: BlockCipher,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    match (cipher, key.len()) {
        (BlockCipher::Aes, _) => seal_in_place(key, nonce, aad, buf),
        (BlockCipher::Sm4, 16) => seal_with::<Sm4Gcm>(key, nonce, aad, buf),
        (BlockCipher::Sm4, len) => Err(CryptoError::InvalidKeyLength { len }),
    }
}

/// Checks `tag` and, only if it is authentic, decrypts `buf` in place with `cipher`-GCM.
///
/// On error `buf` still holds the ciphertext.
pub(crate) fn open_with_cipher(
    cipher: BlockCipher,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    match (cipher, key.len()) {
        (BlockCipher::Aes, _) => open_in_place(key, nonce, aad, buf, tag),
        (BlockCipher::Sm4, 16) => open_with::<Sm4Gcm>(key, nonce, aad, buf, tag),
        (BlockCipher::Sm4, len) => Err(CryptoError::InvalidKeyLength { len }),
    }
}

/// Encrypts `buf` in place under `key` (16, 24 or 32 bytes: AES-128/192/256-GCM) and returns the tag.
///
/// On error `buf` is left unchanged.
pub(crate) fn seal_in_place(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    match key.len() {
        16 => seal_with::<Aes128Gcm>(key, nonce, aad, buf),
        24 => seal_with::<Aes192Gcm>(key, nonce, aad, buf),
        32 => seal_with::<Aes256Gcm>(key, nonce, aad, buf),
        len => Err(CryptoError::InvalidKeyLength { len }),
    }
}

/// Checks `tag` and, only if it is authentic, decrypts `buf` in place.
///
/// On error `buf` still holds the ciphertext.
pub(crate) fn open_in_place(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    match key.len() {
        16 => open_with::<Aes128Gcm>(key, nonce, aad, buf, tag),
        24 => open_with::<Aes192Gcm>(key, nonce, aad, buf, tag),
        32 => open_with::<Aes256Gcm>(key, nonce, aad, buf, tag),
        len => Err(CryptoError::InvalidKeyLength { len }),
    }
}

fn seal_with<C>(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError>
where
    C: KeyInit + AeadInOut + AeadCore<NonceSize = U12, TagSize = U16>,
{
    let cipher =
        C::new_from_slice(key).map_err(|_| CryptoError::InvalidKeyLength { len: key.len() })?;
    let tag = cipher
        .encrypt_inout_detached(&(*nonce).into(), aad, buf.into())
        .map_err(|_| CryptoError::MessageTooLong)?;
    Ok(tag.into())
}

fn open_with<C>(
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError>
where
    C: KeyInit + AeadInOut + AeadCore<NonceSize = U12, TagSize = U16>,
{
    let cipher =
        C::new_from_slice(key).map_err(|_| CryptoError::InvalidKeyLength { len: key.len() })?;
    cipher
        .decrypt_inout_detached(&(*nonce).into(), aad, buf.into(), &(*tag).into())
        .map_err(|_| CryptoError::AuthenticationFailed)
}
