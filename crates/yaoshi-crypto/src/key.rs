//! Plain key material and the region domain key that wraps it at rest.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::gcm::{self, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, random_bytes};

/// Length of a domain key, and of AES-256 key material, in bytes.
pub const KEY_LEN: usize = 32;

/// The version byte that starts wrapped key material produced by [`DomainKey::wrap`].
pub const WRAP_VERSION_V1: u8 = 0x01;

/// HKDF info of the key behind [`DomainKey::material_digest`].
const MATERIAL_DIGEST_INFO: &[u8] = b"yaoshi-material-digest";

/// Domain separation prefix for [`DomainKey::fingerprint`].
const FINGERPRINT_PREFIX: &[u8] = b"yaoshi-domain-key-fingerprint";

/// Plain symmetric key material.
///
/// The bytes are zeroized on drop, and `Debug` prints `KeyMaterial(..)`, never the bytes.
#[derive(Clone)]
pub struct KeyMaterial(Zeroizing<Vec<u8>>);

impl KeyMaterial {
    /// Copies `bytes` into new key material.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> KeyMaterial {
        KeyMaterial(Zeroizing::new(bytes.to_vec()))
    }

    /// Returns the plain key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Returns the length of the key material in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true if the key material is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Generates `len` bytes of new key material from OS randomness.
    ///
    /// # Panics
    ///
    /// Panics if the operating system cannot provide randomness (see [`random_bytes`]).
    #[must_use]
    pub fn generate(len: usize) -> KeyMaterial {
        KeyMaterial(random_bytes(len))
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(..)")
    }
}

/// A region's 256-bit domain key, which wraps all key material at rest.
///
/// The bytes are zeroized on drop, and `Debug` prints `DomainKey(..)`, never the bytes.
#[derive(Clone)]
pub struct DomainKey(Zeroizing<[u8; KEY_LEN]>);

impl DomainKey {
    /// Builds a domain key from exactly 32 bytes.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidKeyLength`] if `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<DomainKey, CryptoError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKeyLength { len: bytes.len() });
        }
        key.copy_from_slice(bytes);
        Ok(DomainKey(key))
    }

    /// Parses a domain key from 64 hex digits (either case); surrounding whitespace, such as the
    /// newline at the end of a key file, is ignored.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidKeyEncoding`] if the trimmed text is not exactly 64 hex digits.
    pub fn from_hex(s: &str) -> Result<DomainKey, CryptoError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(s.trim(), &mut key[..])
            .map_err(|_| CryptoError::InvalidKeyEncoding)?;
        Ok(DomainKey(key))
    }

    /// Generates a new domain key from OS randomness.
    ///
    /// # Panics
    ///
    /// Panics if the operating system cannot provide randomness (see [`random_bytes`]).
    #[must_use]
    pub fn generate() -> DomainKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&random_bytes(KEY_LEN));
        DomainKey(key)
    }

    /// Returns the key as 64 lower-case hex digits, in a string that is zeroized on drop.
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        // Sized up front so the string never reallocates and leaves a copy behind.
        let mut out = Zeroizing::new(String::with_capacity(2 * KEY_LEN));
        for byte in self.0.iter() {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Returns a short fingerprint that is safe to log: the hex of the first 8 bytes of
    /// SHA-256(`"yaoshi-domain-key-fingerprint"` || key).
    ///
    /// Nodes compare fingerprints to detect mismatched domain keys without revealing them.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let digest =
            Sha256::new().chain_update(FINGERPRINT_PREFIX).chain_update(&self.0[..]).finalize();
        hex::encode(&digest[..8])
    }

    /// A keyed digest of `material` that identifies it without revealing it:
    /// HMAC-SHA256(key = HKDF-SHA256(domain key, info "yaoshi-material-digest"), `aad` ‖ material).
    ///
    /// Stored next to imported material so a re-import can be checked to be the same material
    /// deterministically in apply; without the domain key the digest says nothing about the
    /// material.
    #[must_use]
    pub fn material_digest(&self, aad: &[u8], material: &KeyMaterial) -> Vec<u8> {
        use hmac::{KeyInit, Mac};
        let mut digest_key = Zeroizing::new([0u8; 32]);
        let hk = hkdf::Hkdf::<Sha256>::new(None, &self.0[..]);
        if hk.expand(MATERIAL_DIGEST_INFO, &mut digest_key[..]).is_err() {
            unreachable!("32 bytes is a valid HKDF-SHA256 output length");
        }
        let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(&digest_key[..]) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(aad);
        mac.update(material.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Wraps `material` with AES-256-GCM under the domain key, binding `aad` (the caller passes,
    /// for example, the key id and the key version id).
    ///
    /// # Format, version 1
    ///
    /// With `n` = length of the key material in bytes:
    ///
    /// | offset | length | field |
    /// |---|---|---|
    /// | 0 | 1 | version, `0x01` ([`WRAP_VERSION_V1`]) |
    /// | 1 | 12 | random AES-GCM nonce |
    /// | 13 | `n` | AES-256-GCM ciphertext of the key material |
    /// | 13 + n | 16 | AES-GCM tag |
    ///
    /// The AES-256-GCM key is the domain key itself. The GCM AAD is the version byte followed by
    /// `aad`, so wrapped material cannot be moved to another key version or reinterpreted under
    /// another format version. Wrapping happens only when key material is created or imported,
    /// far below the 2^32 random-nonce limit for one key.
    ///
    /// # Panics
    ///
    /// Panics if the operating system cannot provide randomness (see [`random_bytes`]), or if
    /// `material` is longer than AES-GCM allows (about 64 GiB).
    #[must_use]
    pub fn wrap(&self, aad: &[u8], material: &KeyMaterial) -> Vec<u8> {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        match self.wrap_with_nonce(aad, material, &nonce) {
            Ok(wrapped) => wrapped,
            Err(err) => panic!("cannot wrap key material: {err}"),
        }
    }

    /// [`DomainKey::wrap`] with a given nonce, so tests can pin the output.
    pub(crate) fn wrap_with_nonce(
        &self,
        aad: &[u8],
        material: &KeyMaterial,
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>, CryptoError> {
        let plain = material.as_bytes();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + TAG_LEN);
        out.push(WRAP_VERSION_V1);
        out.extend_from_slice(nonce);
        out.extend_from_slice(plain);
        let gcm_aad = wrap_aad(aad);
        match gcm::seal_in_place(&self.0[..], nonce, &gcm_aad, &mut out[1 + NONCE_LEN..]) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(out)
            }
            Err(err) => {
                // The buffer still holds the plain material.
                zeroize::Zeroize::zeroize(&mut out);
                Err(err)
            }
        }
    }

    /// Unwraps key material produced by [`DomainKey::wrap`] with the same `aad`.
    ///
    /// # Errors
    ///
    /// - [`CryptoError::MalformedWrapped`] if `wrapped` is shorter than 29 bytes or does not start
    ///   with version byte `0x01`.
    /// - [`CryptoError::AuthenticationFailed`] if the domain key or `aad` differ from the ones used
    ///   to wrap, or any byte was changed.
    pub fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<KeyMaterial, CryptoError> {
        let Some((&version, rest)) = wrapped.split_first() else {
            return Err(CryptoError::MalformedWrapped);
        };
        if version != WRAP_VERSION_V1 || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::MalformedWrapped);
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: &[u8; NONCE_LEN] =
            nonce.try_into().map_err(|_| CryptoError::MalformedWrapped)?;
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| CryptoError::MalformedWrapped)?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        gcm::open_in_place(&self.0[..], nonce, &wrap_aad(aad), &mut buf, tag)?;
        Ok(KeyMaterial(buf))
    }
}

/// The GCM AAD for wrapping: the version byte, then the caller's AAD.
fn wrap_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + aad.len());
    out.push(WRAP_VERSION_V1);
    out.extend_from_slice(aad);
    out
}

impl fmt::Debug for DomainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DomainKey(..)")
    }
}
