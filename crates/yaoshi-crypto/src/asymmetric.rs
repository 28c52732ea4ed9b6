//! Asymmetric encryption (AsymmetricEncrypt / AsymmetricDecrypt, ExportDataKey, BYOK unwrapping).
//!
//! | algorithm | key types | plaintext limit |
//! |---|---|---|
//! | `RSAES_OAEP_SHA_256` | RSA-2048 / RSA-3072 | 190 / 318 bytes |
//! | `RSAES_OAEP_SHA_1` | RSA-2048 / RSA-3072 | 214 / 342 bytes |
//! | `SM2PKE` | SM2 | 1 ..= 6047 bytes |
//! | `RSAES_PKCS1_V1_5` | RSA-2048 | decryption only (BYOK import) |
//!
//! OAEP uses MGF1 with the same hash as the label hash and an empty label. The RSA limits are
//! `k - 2·hLen - 2` for a `k`-byte modulus (RFC 8017 §7.1.1); the SM2 limit is the API's.
//!
//! # SM2PKE ciphertext encoding
//!
//! Ciphertexts are produced in the GM/T 0009-2012 (= GB/T 35276-2017 §7.2) ASN.1 DER encoding:
//!
//! ```text
//! SM2Cipher ::= SEQUENCE {
//!     XCoordinate INTEGER,             -- x of C1
//!     YCoordinate INTEGER,             -- y of C1
//!     HASH        OCTET STRING (32),   -- C3 = SM3(x2 ‖ M ‖ y2)
//!     CipherText  OCTET STRING         -- C2
//! }
//! ```
//!
//! This is what OpenSSL (`pkeyutl -encrypt` with an SM2 key), GmSSL and BouncyCastle's
//! `SM2Cipher` DER helpers exchange (`interop_test.rs` checks OpenSSL both ways), and what our
//! BYOK import already accepted. The Alibaba reference documents do not name the encoding. Decryption also accepts the raw GB/T 32918.4-2016 byte string
//! `04 ‖ x1 ‖ y1 ‖ C3 ‖ C2` (the `C1C3C2` order, uncompressed C1): Alibaba's documentation gives
//! 6144 bytes as the largest SM2PKE ciphertext for the 6047-byte plaintext limit, which is
//! exactly 65 + 32 + 6047, the size of that raw form, so clients working from that figure may
//! send it. The two forms cannot be confused: DER starts with `0x30`, the raw form with `0x04`.
//! A DER ciphertext of a 6047-byte plaintext is up to 6159 bytes long.
//!
//! # Side channels
//!
//! Every decryption failure caused by the ciphertext (wrong length, bad padding, a point not on
//! the curve, malformed ASN.1, a failed SM3 check, the wrong key) is the single error
//! [`CryptoError::DecryptionFailed`]. RSA private-key operations are blinded with OS randomness
//! and run on the `rsa` crate's constant-time big integers. `RSAES_PKCS1_V1_5` decryption uses
//! the `rsa` crate's implicit rejection (draft-irtf-cfrg-rsa-guidance §7.2): a bad padding yields
//! a deterministic pseudorandom message instead of an error, doing the same work either way, so
//! neither errors nor timing reveal padding validity (Bleichenbacher / Marvin); the caller must
//! authenticate the result (BYOK checks the material length and, on re-import, its digest). SM2
//! decryption compares C3 in constant time.

use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPublicKey};
use sm2::elliptic_curve::sec1::{Coordinates, ToSec1Point};
use sm2::pkcs8::der::Decode;
use sm3::{Digest, Sm3};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::keygen::rsa_private_key;
use crate::random::os_rng;
use crate::sign::{PublicKey, check_rsa_size, sm2_secret};
use crate::{CryptoError, KeyMaterial, KeyType};

/// The largest plaintext `SM2PKE` encrypts, in bytes (the API's limit).
pub const SM2PKE_MAX_PLAINTEXT: usize = 6047;

/// SHA-256 output length, in bytes.
const SHA256_LEN: usize = 32;
/// SHA-1 output length, in bytes.
const SHA1_LEN: usize = 20;

/// An asymmetric encryption algorithm of the API (`Algorithm` of AsymmetricEncrypt /
/// AsymmetricDecrypt, `WrappingAlgorithm` of ExportDataKey and GetParametersForImport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncryptAlgorithm {
    /// `RSAES_OAEP_SHA_256`: RSAES-OAEP with SHA-256 and MGF1-SHA256, empty label.
    RsaesOaepSha256,
    /// `RSAES_OAEP_SHA_1`: RSAES-OAEP with SHA-1 and MGF1-SHA1, empty label.
    RsaesOaepSha1,
    /// `RSAES_PKCS1_V1_5`: decryption only, for unwrapping imported key material.
    RsaesPkcs1V15,
    /// `SM2PKE`: SM2 public-key encryption with SM3, GM/T 0009 DER ciphertexts.
    Sm2Pke,
}

impl EncryptAlgorithm {
    /// Every algorithm.
    pub const ALL: [EncryptAlgorithm; 4] = [
        EncryptAlgorithm::RsaesOaepSha256,
        EncryptAlgorithm::RsaesOaepSha1,
        EncryptAlgorithm::RsaesPkcs1V15,
        EncryptAlgorithm::Sm2Pke,
    ];

    /// Parses the API name (`RSAES_OAEP_SHA_256`, `RSAES_OAEP_SHA_1`, `RSAES_PKCS1_V1_5`,
    /// `SM2PKE`); names are case-sensitive.
    #[must_use]
    pub fn from_name(name: &str) -> Option<EncryptAlgorithm> {
        EncryptAlgorithm::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The API name of the algorithm.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EncryptAlgorithm::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            EncryptAlgorithm::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            EncryptAlgorithm::RsaesPkcs1V15 => "RSAES_PKCS1_V1_5",
            EncryptAlgorithm::Sm2Pke => "SM2PKE",
        }
    }

    /// Whether [`asymmetric_encrypt`] accepts this algorithm for keys of `kind`
    /// (`RSAES_PKCS1_V1_5` never: it is decryption-only).
    #[must_use]
    pub fn can_encrypt(self, kind: KeyType) -> bool {
        match self {
            EncryptAlgorithm::RsaesOaepSha256 | EncryptAlgorithm::RsaesOaepSha1 => {
                matches!(kind, KeyType::Rsa2048 | KeyType::Rsa3072)
            }
            EncryptAlgorithm::RsaesPkcs1V15 => false,
            EncryptAlgorithm::Sm2Pke => kind == KeyType::EcSm2,
        }
    }

    /// Whether [`asymmetric_decrypt`] accepts this algorithm for keys of `kind`
    /// (`RSAES_PKCS1_V1_5` only for RSA-2048, the BYOK wrapping key type).
    #[must_use]
    pub fn can_decrypt(self, kind: KeyType) -> bool {
        match self {
            EncryptAlgorithm::RsaesPkcs1V15 => kind == KeyType::Rsa2048,
            other => other.can_encrypt(kind),
        }
    }

    /// The largest plaintext, in bytes, this algorithm encrypts under a key of `kind`; `None`
    /// if it cannot encrypt with such keys.
    #[must_use]
    pub fn max_plaintext_len(self, kind: KeyType) -> Option<usize> {
        if !self.can_encrypt(kind) {
            return None;
        }
        match (self, kind) {
            (EncryptAlgorithm::Sm2Pke, _) => Some(SM2PKE_MAX_PLAINTEXT),
            (_, KeyType::Rsa2048) => self.oaep_max(256),
            (_, KeyType::Rsa3072) => self.oaep_max(384),
            _ => None,
        }
    }

    /// OAEP limit for a `k`-byte modulus.
    fn oaep_max(self, modulus_len: usize) -> Option<usize> {
        let hash_len = match self {
            EncryptAlgorithm::RsaesOaepSha256 => SHA256_LEN,
            EncryptAlgorithm::RsaesOaepSha1 => SHA1_LEN,
            _ => return None,
        };
        modulus_len.checked_sub(2 * hash_len + 2)
    }
}

/// Encrypts `plaintext` with the public half of the private key in `material`.
///
/// # Errors
///
/// - [`CryptoError::NotAsymmetric`] for symmetric key types.
/// - [`CryptoError::UnsupportedAlgorithm`] if `algorithm` cannot encrypt with keys of `kind`
///   (see [`EncryptAlgorithm::can_encrypt`]).
/// - [`CryptoError::PlaintextTooLong`] above the limit, [`CryptoError::EmptyPlaintext`] for an
///   empty SM2PKE plaintext.
/// - [`CryptoError::InvalidKeyMaterial`] if `material` is not a valid key of `kind`.
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`crate::random_bytes`]).
pub fn asymmetric_encrypt(
    kind: KeyType,
    algorithm: EncryptAlgorithm,
    material: &KeyMaterial,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if kind.is_symmetric() {
        return Err(CryptoError::NotAsymmetric);
    }
    if !algorithm.can_encrypt(kind) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let public = match kind {
        KeyType::EcSm2 => PublicKey::Sm2(sm2_secret(material)?.public_key()),
        _ => {
            let key = rsa_private_key(material)?;
            check_rsa_size(kind, key.size())?;
            PublicKey::Rsa(key.to_public_key())
        }
    };
    encrypt_with(&public, algorithm, plaintext)
}

/// Encrypts `plaintext` to a public key given as a PEM `SubjectPublicKeyInfo`: an RSA key
/// (2048 bits or more) for the OAEP algorithms, an SM2 key for `SM2PKE`. This is the
/// `PublicKeyBlob` wrapping of ExportDataKey and GenerateAndExportDataKey.
///
/// # Errors
///
/// - [`CryptoError::UnsupportedAlgorithm`] for `RSAES_PKCS1_V1_5`.
/// - [`CryptoError::InvalidPublicKey`] if `pem` is not a public key of the algorithm's type.
/// - [`CryptoError::PlaintextTooLong`] / [`CryptoError::EmptyPlaintext`] as for
///   [`asymmetric_encrypt`] (RSA limits follow the key's actual modulus length).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`crate::random_bytes`]).
pub fn encrypt_to_public_pem(
    algorithm: EncryptAlgorithm,
    pem: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let public = match algorithm {
        EncryptAlgorithm::RsaesPkcs1V15 => return Err(CryptoError::UnsupportedAlgorithm),
        EncryptAlgorithm::Sm2Pke => PublicKey::Sm2(
            sm2::PublicKey::from_public_key_pem(pem).map_err(|_| CryptoError::InvalidPublicKey)?,
        ),
        _ => {
            let key = RsaPublicKey::from_public_key_pem(pem)
                .map_err(|_| CryptoError::InvalidPublicKey)?;
            if key.size() < 256 {
                return Err(CryptoError::InvalidPublicKey);
            }
            PublicKey::Rsa(key)
        }
    };
    encrypt_with(&public, algorithm, plaintext)
}

/// The key type of a public key given as a PEM `SubjectPublicKeyInfo` (RSA-2048, RSA-3072,
/// P-256, secp256k1 or SM2), so callers can check a `PublicKeyBlob` against a declared key spec.
///
/// # Errors
///
/// [`CryptoError::InvalidPublicKey`] if `pem` is not a public key of one of those types.
pub fn public_pem_key_type(pem: &str) -> Result<KeyType, CryptoError> {
    PublicKey::from_pem(pem)?.key_type()
}

fn encrypt_with(
    public: &PublicKey,
    algorithm: EncryptAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match (public, algorithm) {
        (
            PublicKey::Rsa(key),
            EncryptAlgorithm::RsaesOaepSha256 | EncryptAlgorithm::RsaesOaepSha1,
        ) => {
            let max = algorithm.oaep_max(key.size()).unwrap_or(0);
            if plaintext.len() > max {
                return Err(CryptoError::PlaintextTooLong { len: plaintext.len(), max });
            }
            let mut rng = os_rng();
            if algorithm == EncryptAlgorithm::RsaesOaepSha256 {
                key.encrypt(&mut rng, Oaep::<sha2::Sha256>::new(), plaintext)
            } else {
                key.encrypt(&mut rng, Oaep::<sha1::Sha1>::new(), plaintext)
            }
            .map_err(|_| CryptoError::OperationFailed)
        }
        (PublicKey::Sm2(key), EncryptAlgorithm::Sm2Pke) => {
            if plaintext.is_empty() {
                return Err(CryptoError::EmptyPlaintext);
            }
            if plaintext.len() > SM2PKE_MAX_PLAINTEXT {
                return Err(CryptoError::PlaintextTooLong {
                    len: plaintext.len(),
                    max: SM2PKE_MAX_PLAINTEXT,
                });
            }
            sm2::pke::EncryptingKey::new(*key)
                .encrypt_der(&mut os_rng(), plaintext)
                .map_err(|_| CryptoError::OperationFailed)
        }
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Decrypts `ciphertext` with the private key in `material`.
///
/// For `RSAES_PKCS1_V1_5` a ciphertext of the right length never fails: a bad padding gives a
/// pseudorandom plaintext (implicit rejection, see the [module documentation](self)), which the
/// caller must reject by checking what it expects.
///
/// # Errors
///
/// - [`CryptoError::NotAsymmetric`] for symmetric key types.
/// - [`CryptoError::UnsupportedAlgorithm`] if `algorithm` cannot decrypt with keys of `kind`
///   (see [`EncryptAlgorithm::can_decrypt`]).
/// - [`CryptoError::InvalidKeyMaterial`] if `material` is not a valid key of `kind`.
/// - [`CryptoError::DecryptionFailed`] for every failure caused by the ciphertext: one error,
///   no detail.
pub fn asymmetric_decrypt(
    kind: KeyType,
    algorithm: EncryptAlgorithm,
    material: &KeyMaterial,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if kind.is_symmetric() {
        return Err(CryptoError::NotAsymmetric);
    }
    if !algorithm.can_decrypt(kind) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    if kind == KeyType::EcSm2 {
        return sm2_decrypt(&sm2_secret(material)?, ciphertext);
    }
    let key = rsa_private_key(material)?;
    check_rsa_size(kind, key.size())?;
    let mut rng = os_rng();
    let result = match algorithm {
        EncryptAlgorithm::RsaesOaepSha256 => {
            key.decrypt_blinded(&mut rng, Oaep::<sha2::Sha256>::new(), ciphertext)
        }
        EncryptAlgorithm::RsaesOaepSha1 => {
            key.decrypt_blinded(&mut rng, Oaep::<sha1::Sha1>::new(), ciphertext)
        }
        EncryptAlgorithm::RsaesPkcs1V15 => {
            key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, ciphertext)
        }
        EncryptAlgorithm::Sm2Pke => return Err(CryptoError::UnsupportedAlgorithm),
    };
    result.map(Zeroizing::new).map_err(|_| CryptoError::DecryptionFailed)
}

/// SM2 decryption (GB/T 32918.4-2016 §7.1) of a DER or raw `C1C3C2` ciphertext.
///
/// The arithmetic is the `sm2` crate's; the steps after [d]C1 are done here so that C3 is
/// compared in constant time and the all-zero KDF output is rejected as the standard requires.
fn sm2_decrypt(
    secret: &sm2::SecretKey,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let fail = CryptoError::DecryptionFailed;
    // The format is public: DER starts with a SEQUENCE tag, the raw form with the SEC1
    // uncompressed-point tag.
    let cipher: sm2::pke::Cipher<'_> = match ciphertext.first() {
        Some(0x30) => sm2::pke::Cipher::from_der(ciphertext).map_err(|_| fail.clone())?,
        Some(0x04) => sm2::pke::Cipher::from_slice(ciphertext, sm2::pke::Mode::C1C3C2)
            .map_err(|_| fail.clone())?,
        _ => return Err(fail),
    };
    let c2 = cipher.c2();
    if c2.is_empty() {
        return Err(fail);
    }
    // B3: [d]C1 = (x2, y2). C1 was checked to be on the curve when it was decoded.
    let shared = (sm2::ProjectivePoint::from(*cipher.c1()) * *secret.to_nonzero_scalar())
        .to_affine()
        .to_sec1_point(false);
    let Coordinates::Uncompressed { x, y } = shared.coordinates() else {
        return Err(fail);
    };
    // B4, B5: t = KDF(x2 ‖ y2, klen); M' = C2 ⊕ t.
    let mut plain = Zeroizing::new(c2.to_vec());
    let mut t_is_zero = 0u8;
    for (counter, chunk) in (1u32..).zip(plain.chunks_mut(32)) {
        let mut block = Zeroizing::new([0u8; 32]);
        let digest = Sm3::new()
            .chain_update(x)
            .chain_update(y)
            .chain_update(counter.to_be_bytes())
            .finalize();
        block.copy_from_slice(&digest);
        for (byte, mask) in chunk.iter_mut().zip(block.iter()) {
            t_is_zero |= mask;
            *byte ^= mask;
        }
    }
    // B6: u = SM3(x2 ‖ M' ‖ y2) must equal C3.
    let u = Sm3::new().chain_update(x).chain_update(&plain[..]).chain_update(y).finalize();
    let ok = u.as_slice().ct_eq(cipher.c3().as_slice()) & !t_is_zero.ct_eq(&0);
    if bool::from(ok) {
        Ok(plain)
    } else {
        plain.zeroize();
        Err(fail)
    }
}
