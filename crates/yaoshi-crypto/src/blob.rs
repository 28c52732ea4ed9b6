//! Self-describing symmetric ciphertext blobs (what Encrypt and GenerateDataKey return).
//!
//! A blob names the key and key version that sealed it, so Decrypt needs no KeyId. The
//! encryption context is bound as AAD but never stored in the blob.
//!
//! # Format, versions 1 and 2
//!
//! The version byte names both the layout (the same for both versions) and the block cipher:
//!
//! | version | cipher | key types | per-message key |
//! |---|---|---|---|
//! | `0x01` ([`BLOB_VERSION_V1`]) | AES-GCM | AES-128/192/256 | 16/24/32 bytes, as the material |
//! | `0x02` ([`BLOB_VERSION_V2`]) | SM4-GCM (RFC 8998) | SM4 | 16 bytes |
//!
//! With `k` = length of the key id, `v` = length of the key version id and `n` = length of the
//! plaintext, all in bytes:
//!
//! | offset | length | field |
//! |---|---|---|
//! | 0 | 1 | version, `0x01` or `0x02` |
//! | 1 | 1 | `k`, 0..=255 |
//! | 2 | `k` | key id, UTF-8 |
//! | 2 + k | 1 | `v`, 0..=255 |
//! | 3 + k | `v` | key version id, UTF-8 |
//! | 3 + k + v | 32 | random HKDF salt ([`BLOB_SALT_LEN`]) |
//! | 35 + k + v | 12 | random GCM nonce ([`BLOB_NONCE_LEN`]) |
//! | 47 + k + v | `n` | GCM ciphertext |
//! | 47 + k + v + n | 16 | GCM tag ([`BLOB_TAG_LEN`]) |
//!
//! A blob is therefore `63 + k + v + n` bytes long; anything whose lengths do not add up (at
//! least 16 bytes must follow the nonce) is rejected with [`CryptoError::MalformedBlob`].
//! The *header* is bytes `0 .. 47 + k + v`, from the version byte through the nonce.
//!
//! # Keys and authentication
//!
//! Each blob is sealed under its own data key, derived from the key version's material:
//!
//! ```text
//! version 1:  data_key = HKDF-SHA256(ikm = material, salt = salt, info = "yaoshi-blob-v1" || header)
//! version 2:  data_key = HKDF-SHA256(ikm = material, salt = salt, info = "yaoshi-blob-v2" || header)
//! ```
//!
//! For version 1 the output length equals the material length, so 16-, 24- and 32-byte material
//! gives AES-128-, AES-192- and AES-256-GCM. For version 2 (SM4 material is 16 bytes) the output is
//! 16 bytes, an SM4 key. The version byte is part of the header, so it is bound both into the
//! derived key and into the AAD: a blob cannot be re-labelled to the other cipher.
//!
//! The GCM AAD is `header || context_aad`, where `context_aad` is
//! [`encryption_context_aad`](crate::encryption_context_aad) of the encryption context. Changing
//! any header byte (including the key ids), the ciphertext, the tag, or the encryption context makes
//! authentication fail.
//!
//! # Nonce budget
//!
//! GCM with random 96-bit nonces must not encrypt more than about 2^32 messages under one key
//! (NIST SP 800-38D §8.3), and stateless workers cannot count how many encryptions a key version
//! has done. Here the GCM key is never the key version's material: every message derives a fresh
//! data key from a fresh random 256-bit salt, and that data key encrypts exactly one message. A
//! nonce can only repeat under the same data key if two messages also drew the same salt
//! (probability about q² / 2^257 for q messages, negligible even for q = 2^64), so the per-key
//! nonce limit never binds; the construction is the one AWS KMS uses. The argument is the same
//! for SM4-GCM as for AES-GCM (both have 128-bit blocks; each data key encrypts one message of
//! at most a few KiB, far below GCM's per-message limit and the 2^64-block birthday bound).
//!
//! # Which function to call
//!
//! [`seal_blob_for`] and [`open_blob_for`] take the [`KeyType`] of the key version and pick the
//! cipher from it (SM4 keys → version 2, AES keys → version 1); [`open_blob_for`] rejects a blob
//! whose version does not belong to the key type. They are the functions to use.
//!
//! [`seal_blob`] and [`open_blob`] are the older, key-type-less forms: [`seal_blob`] always
//! produces version 1 (AES, size from the material length), so it must not be given SM4 material;
//! [`open_blob`] follows the blob's version byte.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::gcm::{self, BlockCipher, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, KeyMaterial, KeyType, random_bytes};

/// The version byte that starts a version 1 blob (AES-GCM).
pub const BLOB_VERSION_V1: u8 = 0x01;
/// The version byte that starts a version 2 blob (SM4-GCM).
pub const BLOB_VERSION_V2: u8 = 0x02;
/// Length of the random HKDF salt in a blob, in bytes.
pub const BLOB_SALT_LEN: usize = 32;
/// Length of the random AES-GCM nonce in a blob, in bytes.
pub const BLOB_NONCE_LEN: usize = NONCE_LEN;
/// Length of the AES-GCM tag at the end of a blob, in bytes.
pub const BLOB_TAG_LEN: usize = TAG_LEN;

/// HKDF info prefix of version 1; the header bytes follow it.
const HKDF_INFO_V1: &[u8] = b"yaoshi-blob-v1";
/// HKDF info prefix of version 2; the header bytes follow it.
const HKDF_INFO_V2: &[u8] = b"yaoshi-blob-v2";
/// Length of an SM4 key, and of a version 2 data key, in bytes.
const SM4_KEY_LEN: usize = 16;
/// Longest key id or key version id the one-byte length prefix can describe.
const MAX_ID_LEN: usize = u8::MAX as usize;

/// The key a blob was sealed under, readable without any key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobHeader {
    /// The id of the key (not an alias).
    pub key_id: String,
    /// The id of the key version whose material sealed the blob.
    pub key_version_id: String,
}

/// The parts of a blob, borrowed from it.
struct BlobParts<'a> {
    version: u8,
    header: BlobHeader,
    /// Bytes from the version byte through the nonce.
    header_bytes: &'a [u8],
    salt: &'a [u8],
    nonce: &'a [u8; NONCE_LEN],
    ciphertext: &'a [u8],
    tag: &'a [u8; TAG_LEN],
}

/// Encrypts `plaintext` under a symmetric key version of type `kind` and returns a blob: version
/// 2 (SM4-GCM) for [`KeyType::Sm4`], version 1 (AES-GCM) for the AES types.
///
/// `material` is the key version's plain material; `context_aad` is
/// [`encryption_context_aad`](crate::encryption_context_aad) of the request's encryption context
/// (empty when there is none). The blob layout is described in the [module documentation](self).
///
/// # Errors
///
/// - [`CryptoError::UnsupportedAlgorithm`] if `kind` is not a symmetric cipher key type (AES,
///   SM4; HMAC keys seal no blobs).
/// - [`CryptoError::InvalidKeyLength`] if `material` is not as long as keys of `kind` are.
/// - [`CryptoError::HeaderFieldTooLong`] if an id in `header` is longer than 255 bytes.
/// - [`CryptoError::MessageTooLong`] if `plaintext` exceeds the GCM limit (about 64 GiB).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`random_bytes`]).
pub fn seal_blob_for(
    kind: KeyType,
    material: &KeyMaterial,
    header: &BlobHeader,
    plaintext: &[u8],
    context_aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let version = version_for(kind, material)?;
    seal_random(version, material, header, plaintext, context_aad)
}

/// Encrypts `plaintext` under AES key material and returns a version 1 blob.
///
/// The AES key size follows the material length (16, 24 or 32 bytes). This is the older form of
/// [`seal_blob_for`] without a key type: it never uses SM4, so SM4 material must go through
/// [`seal_blob_for`] instead.
///
/// # Errors
///
/// - [`CryptoError::InvalidKeyLength`] if `material` is not 16, 24 or 32 bytes.
/// - [`CryptoError::HeaderFieldTooLong`] if an id in `header` is longer than 255 bytes.
/// - [`CryptoError::MessageTooLong`] if `plaintext` exceeds the AES-GCM limit (about 64 GiB).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`random_bytes`]).
pub fn seal_blob(
    material: &KeyMaterial,
    header: &BlobHeader,
    plaintext: &[u8],
    context_aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_material(BLOB_VERSION_V1, material)?;
    seal_random(BLOB_VERSION_V1, material, header, plaintext, context_aad)
}

fn seal_random(
    version: u8,
    material: &KeyMaterial,
    header: &BlobHeader,
    plaintext: &[u8],
    context_aad: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let random = random_bytes(BLOB_SALT_LEN + NONCE_LEN);
    let (salt, nonce) = random.split_at(BLOB_SALT_LEN);
    let mut salt_arr = [0u8; BLOB_SALT_LEN];
    salt_arr.copy_from_slice(salt);
    let mut nonce_arr = [0u8; NONCE_LEN];
    nonce_arr.copy_from_slice(nonce);
    seal_blob_with(version, material, header, plaintext, context_aad, &salt_arr, &nonce_arr)
}

/// Seals a blob of `version` with a given salt and nonce, so tests can pin the output.
pub(crate) fn seal_blob_with(
    version: u8,
    material: &KeyMaterial,
    header: &BlobHeader,
    plaintext: &[u8],
    context_aad: &[u8],
    salt: &[u8; BLOB_SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, CryptoError> {
    check_material(version, material)?;
    let key_id = checked_id("key_id", &header.key_id)?;
    let version_id = checked_id("key_version_id", &header.key_version_id)?;

    let header_len = 1 + 1 + key_id.len() + 1 + version_id.len() + BLOB_SALT_LEN + NONCE_LEN;
    let mut out = Vec::with_capacity(header_len + plaintext.len() + TAG_LEN);
    out.push(version);
    push_id(&mut out, key_id);
    push_id(&mut out, version_id);
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    debug_assert_eq!(out.len(), header_len);

    let data_key = derive_data_key(version, material, salt, &out)?;
    let aad = gcm_aad(&out, context_aad);
    out.extend_from_slice(plaintext);
    match gcm::seal_with_cipher(cipher_of(version)?, &data_key, nonce, &aad, &mut out[header_len..])
    {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(err) => {
            // The buffer still holds the plaintext.
            out.zeroize();
            Err(err)
        }
    }
}

/// Reads the key id and key version id from a blob without any key, so the caller can look the
/// key up before calling [`open_blob`].
///
/// The whole layout is checked, not just the header, so a blob that passes here has a well-formed
/// shape; its authenticity is only established by [`open_blob`].
///
/// # Errors
///
/// - [`CryptoError::UnsupportedBlobVersion`] if the first byte is not `0x01` or `0x02`.
/// - [`CryptoError::MalformedBlob`] if the blob is empty, truncated, or its ids are not UTF-8.
pub fn parse_blob_header(blob: &[u8]) -> Result<BlobHeader, CryptoError> {
    split_blob(blob).map(|parts| parts.header)
}

/// Decrypts a blob made by [`seal_blob_for`], given the key type and material of the key
/// version its header names and the same `context_aad` that was used to seal it.
///
/// # Errors
///
/// - [`CryptoError::UnsupportedBlobVersion`] or [`CryptoError::MalformedBlob`] as for
///   [`parse_blob_header`].
/// - [`CryptoError::UnsupportedAlgorithm`] if `kind` is not a symmetric cipher key type (AES,
///   SM4; HMAC keys seal no blobs).
/// - [`CryptoError::InvalidKeyLength`] if `material` is not as long as keys of `kind` are.
/// - [`CryptoError::AuthenticationFailed`] if the blob's version does not belong to `kind`
///   (an AES blob for an SM4 key or the reverse), the material or the context is wrong, or any
///   byte of the blob was changed.
pub fn open_blob_for(
    kind: KeyType,
    material: &KeyMaterial,
    blob: &[u8],
    context_aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let parts = split_blob(blob)?;
    let expected = version_for(kind, material)?;
    if parts.version != expected {
        return Err(CryptoError::AuthenticationFailed);
    }
    open_parts(&parts, material, context_aad)
}

/// Decrypts a blob, picking the cipher from its version byte (AES-GCM for version 1, with the
/// key size from the material length; SM4-GCM for version 2), given the material of the key
/// version its header names and the same `context_aad` that was used to seal it.
///
/// This is the older form of [`open_blob_for`] without a key type; prefer that one, which also
/// checks that the blob's cipher belongs to the key.
///
/// # Errors
///
/// - [`CryptoError::UnsupportedBlobVersion`] or [`CryptoError::MalformedBlob`] as for
///   [`parse_blob_header`].
/// - [`CryptoError::InvalidKeyLength`] if `material` is not 16, 24 or 32 bytes (version 1) or
///   not 16 bytes (version 2).
/// - [`CryptoError::AuthenticationFailed`] if the material or the context is wrong, or any byte
///   of the blob was changed.
pub fn open_blob(
    material: &KeyMaterial,
    blob: &[u8],
    context_aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let parts = split_blob(blob)?;
    open_parts(&parts, material, context_aad)
}

fn open_parts(
    parts: &BlobParts<'_>,
    material: &KeyMaterial,
    context_aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_material(parts.version, material)?;
    let data_key = derive_data_key(parts.version, material, parts.salt, parts.header_bytes)?;
    let aad = gcm_aad(parts.header_bytes, context_aad);
    let mut buf = Zeroizing::new(parts.ciphertext.to_vec());
    gcm::open_with_cipher(
        cipher_of(parts.version)?,
        &data_key,
        parts.nonce,
        &aad,
        &mut buf,
        parts.tag,
    )?;
    Ok(buf)
}

/// The blob version for a key type, after checking the material length.
fn version_for(kind: KeyType, material: &KeyMaterial) -> Result<u8, CryptoError> {
    let version = match kind {
        KeyType::Aes128 | KeyType::Aes192 | KeyType::Aes256 => BLOB_VERSION_V1,
        KeyType::Sm4 => BLOB_VERSION_V2,
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    };
    if kind.symmetric_len() != Some(material.len()) {
        return Err(CryptoError::InvalidKeyLength { len: material.len() });
    }
    Ok(version)
}

fn cipher_of(version: u8) -> Result<BlockCipher, CryptoError> {
    match version {
        BLOB_VERSION_V1 => Ok(BlockCipher::Aes),
        BLOB_VERSION_V2 => Ok(BlockCipher::Sm4),
        version => Err(CryptoError::UnsupportedBlobVersion { version }),
    }
}

fn check_material(version: u8, material: &KeyMaterial) -> Result<(), CryptoError> {
    match (version, material.len()) {
        (BLOB_VERSION_V1, 16 | 24 | 32) | (BLOB_VERSION_V2, SM4_KEY_LEN) => Ok(()),
        (BLOB_VERSION_V1 | BLOB_VERSION_V2, len) => Err(CryptoError::InvalidKeyLength { len }),
        (version, _) => Err(CryptoError::UnsupportedBlobVersion { version }),
    }
}

fn checked_id<'a>(field: &'static str, id: &'a str) -> Result<&'a [u8], CryptoError> {
    let bytes = id.as_bytes();
    if bytes.len() > MAX_ID_LEN {
        return Err(CryptoError::HeaderFieldTooLong { field, len: bytes.len() });
    }
    Ok(bytes)
}

fn push_id(out: &mut Vec<u8>, id: &[u8]) {
    // `checked_id` bounds the length to 255.
    out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id);
}

/// Derives the per-blob data key: as long as `material` for version 1, 16 bytes for version 2.
fn derive_data_key(
    version: u8,
    material: &KeyMaterial,
    salt: &[u8],
    header_bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (info, len) = match version {
        BLOB_VERSION_V1 => (HKDF_INFO_V1, material.len()),
        BLOB_VERSION_V2 => (HKDF_INFO_V2, SM4_KEY_LEN),
        version => return Err(CryptoError::UnsupportedBlobVersion { version }),
    };
    let mut key = Zeroizing::new(vec![0u8; len]);
    Hkdf::<Sha256>::new(Some(salt), material.as_bytes())
        .expand_multi_info(&[info, header_bytes], &mut key)
        // Only reachable for outputs over 8160 bytes; keys are at most 32.
        .map_err(|_| CryptoError::InvalidKeyLength { len: material.len() })?;
    Ok(key)
}

fn gcm_aad(header_bytes: &[u8], context_aad: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header_bytes.len() + context_aad.len());
    aad.extend_from_slice(header_bytes);
    aad.extend_from_slice(context_aad);
    aad
}

/// Splits a blob into its parts, checking every length; never panics.
fn split_blob(blob: &[u8]) -> Result<BlobParts<'_>, CryptoError> {
    let mut reader = Reader { rest: blob };
    let version = reader.byte()?;
    if version != BLOB_VERSION_V1 && version != BLOB_VERSION_V2 {
        return Err(CryptoError::UnsupportedBlobVersion { version });
    }
    let key_id = reader.id()?;
    let key_version_id = reader.id()?;
    let salt = reader.take(BLOB_SALT_LEN)?;
    let nonce = reader.take(NONCE_LEN)?;
    let header_len = blob.len() - reader.rest.len();
    let body = reader.rest;
    let ciphertext_len = body.len().checked_sub(TAG_LEN).ok_or(CryptoError::MalformedBlob)?;
    let (ciphertext, tag) = body.split_at(ciphertext_len);
    Ok(BlobParts {
        version,
        header: BlobHeader { key_id, key_version_id },
        header_bytes: blob.get(..header_len).ok_or(CryptoError::MalformedBlob)?,
        salt,
        nonce: nonce.try_into().map_err(|_| CryptoError::MalformedBlob)?,
        ciphertext,
        tag: tag.try_into().map_err(|_| CryptoError::MalformedBlob)?,
    })
}

/// A cursor over blob bytes whose reads fail with `MalformedBlob` instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], CryptoError> {
        if self.rest.len() < len {
            return Err(CryptoError::MalformedBlob);
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, CryptoError> {
        self.take(1)?.first().copied().ok_or(CryptoError::MalformedBlob)
    }

    fn id(&mut self) -> Result<String, CryptoError> {
        let len = usize::from(self.byte()?);
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| CryptoError::MalformedBlob)
    }
}
