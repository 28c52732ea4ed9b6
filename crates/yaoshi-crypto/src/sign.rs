//! Asymmetric signatures over a precomputed digest (AsymmetricSign / AsymmetricVerify), and the
//! SM2 message digest e = SM3(Z_A ‖ M) of GB/T 32918.2-2016.
//!
//! | algorithm | key types | digest (32 bytes) | signature |
//! |---|---|---|---|
//! | `RSA_PSS_SHA_256` | RSA-2048/3072 | SHA-256 | RSASSA-PSS, MGF1-SHA256, salt 32 bytes |
//! | `RSA_PKCS1_SHA_256` | RSA-2048/3072 | SHA-256 | RSASSA-PKCS1-v1_5 with the SHA-256 `DigestInfo` |
//! | `ECDSA_SHA_256` | P-256, secp256k1 | SHA-256 | ECDSA, DER `SEQUENCE { r INTEGER, s INTEGER }` |
//! | `SM2DSA` | SM2 | e = SM3(Z_A ‖ M), see [`sm2_digest`] | SM2 signature, DER `SEQUENCE { r, s }` |
//!
//! Every signature is computed from the digest the caller sends; the message itself never
//! reaches the service. For SM2 that digest is not SM3(M) but SM3(Z_A ‖ M), where Z_A hashes the
//! signer's distinguishing identifier (here always the default `1234567812345678`), the curve
//! parameters and the public key ([`sm2_digest`] computes it).
//!
//! Signing is randomized and side-channel hardened: RSA private-key operations are blinded with
//! OS randomness, ECDSA and SM2 nonces are RFC 6979 values hedged with fresh OS randomness.
//!
//! Verification answers `Ok(false)` for any signature that does not verify, including malformed
//! encodings; errors are reserved for requests that cannot be answered (wrong algorithm for the
//! key, digest of the wrong length, invalid key material). ECDSA signatures with a high `s`
//! are accepted as the mathematically valid signatures they are (secp256k1 software often emits
//! only low-`s`, but other signers, such as OpenSSL, do not).

use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::Sha256;
use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use sm3::{Digest, Sm3};

use crate::keygen::rsa_private_key;
use crate::random::os_rng;
use crate::{CryptoError, KeyMaterial, KeyType};

/// Length of the digest every signature algorithm signs, in bytes.
pub const SIGN_DIGEST_LEN: usize = 32;

/// The distinguishing identifier used for SM2 signatures: the GM/T 0009-2012 default
/// `1234567812345678`, which Alibaba Cloud KMS and OpenSSL (`distid`) use.
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// RSASSA-PSS salt length, in bytes (the SHA-256 output length).
const PSS_SALT_LEN: usize = 32;

/// A signature algorithm of the API (`Algorithm` of AsymmetricSign / AsymmetricVerify).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignAlgorithm {
    /// `RSA_PSS_SHA_256`: RSASSA-PSS with SHA-256, MGF1-SHA256 and a 32-byte salt.
    RsaPssSha256,
    /// `RSA_PKCS1_SHA_256`: RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// `ECDSA_SHA_256`: ECDSA over P-256 or secp256k1 with SHA-256, DER signatures.
    EcdsaSha256,
    /// `SM2DSA`: the SM2 signature algorithm with SM3, DER signatures.
    Sm2Dsa,
}

impl SignAlgorithm {
    /// Every algorithm, in the order of the API documentation.
    pub const ALL: [SignAlgorithm; 4] = [
        SignAlgorithm::RsaPssSha256,
        SignAlgorithm::RsaPkcs1Sha256,
        SignAlgorithm::EcdsaSha256,
        SignAlgorithm::Sm2Dsa,
    ];

    /// Parses the API name (`RSA_PSS_SHA_256`, `RSA_PKCS1_SHA_256`, `ECDSA_SHA_256`, `SM2DSA`);
    /// names are case-sensitive.
    #[must_use]
    pub fn from_name(name: &str) -> Option<SignAlgorithm> {
        SignAlgorithm::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The API name of the algorithm.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SignAlgorithm::RsaPssSha256 => "RSA_PSS_SHA_256",
            SignAlgorithm::RsaPkcs1Sha256 => "RSA_PKCS1_SHA_256",
            SignAlgorithm::EcdsaSha256 => "ECDSA_SHA_256",
            SignAlgorithm::Sm2Dsa => "SM2DSA",
        }
    }

    /// Whether keys of `kind` can sign and verify with this algorithm.
    #[must_use]
    pub fn supports(self, kind: KeyType) -> bool {
        match self {
            SignAlgorithm::RsaPssSha256 | SignAlgorithm::RsaPkcs1Sha256 => {
                matches!(kind, KeyType::Rsa2048 | KeyType::Rsa3072)
            }
            SignAlgorithm::EcdsaSha256 => matches!(kind, KeyType::EcP256 | KeyType::EcP256k),
            SignAlgorithm::Sm2Dsa => kind == KeyType::EcSm2,
        }
    }
}

/// Checks that `algorithm` fits `kind` and that `digest` is 32 bytes.
fn check_request(
    kind: KeyType,
    algorithm: SignAlgorithm,
    digest: &[u8],
) -> Result<(), CryptoError> {
    if kind.is_symmetric() {
        return Err(CryptoError::NotAsymmetric);
    }
    if !algorithm.supports(kind) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    if digest.len() != SIGN_DIGEST_LEN {
        return Err(CryptoError::InvalidDigestLength { len: digest.len() });
    }
    Ok(())
}

/// Signs a 32-byte `digest` with the private key in `material` (encodings in
/// [`keygen`](crate::generate_key)) and returns the signature bytes: the RSA signature (as long as
/// the modulus), or a DER `SEQUENCE { r INTEGER, s INTEGER }` for ECDSA and SM2.
///
/// For [`SignAlgorithm::Sm2Dsa`], `digest` is e = SM3(Z_A ‖ M) ([`sm2_digest`]).
///
/// # Errors
///
/// - [`CryptoError::NotAsymmetric`] for symmetric key types.
/// - [`CryptoError::UnsupportedAlgorithm`] if `algorithm` does not apply to `kind`.
/// - [`CryptoError::InvalidDigestLength`] if `digest` is not 32 bytes.
/// - [`CryptoError::InvalidKeyMaterial`] if `material` is not a valid key of `kind`.
/// - [`CryptoError::OperationFailed`] if the primitive fails (not expected with a valid key).
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness (see [`crate::random_bytes`]).
pub fn sign_digest(
    kind: KeyType,
    algorithm: SignAlgorithm,
    material: &KeyMaterial,
    digest: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_request(kind, algorithm, digest)?;
    SigningKey::from_material(kind, material)?.sign(algorithm, digest)
}

/// A parsed private key, ready to sign: parsing (for EC keys the public point, for SM2 also Z_A;
/// for RSA the DER decoding and checks) costs as much as a signature, so servers keep these for
/// their hot keys. Secret scalars are zeroized when dropped (the curve crates' `SigningKey`s and
/// `rsa::RsaPrivateKey` zeroize on drop).
pub struct SigningKey {
    kind: KeyType,
    inner: Inner,
}

enum Inner {
    Rsa(rsa::RsaPrivateKey),
    P256(p256::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
    Sm2(sm2::dsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses the private key `material` of an asymmetric key of type `kind`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidKeyMaterial`] when the material is not a private key of `kind` (a
    /// symmetric `kind` included); an RSA key of the wrong size as [`sign_digest`] refuses it.
    pub fn from_material(kind: KeyType, material: &KeyMaterial) -> Result<SigningKey, CryptoError> {
        let inner = match kind {
            KeyType::Rsa2048 | KeyType::Rsa3072 => {
                let key = rsa_private_key(material)?;
                check_rsa_size(kind, key.size())?;
                Inner::Rsa(key)
            }
            KeyType::EcP256 => Inner::P256(
                p256::ecdsa::SigningKey::from_slice(material.as_bytes())
                    .map_err(|_| CryptoError::InvalidKeyMaterial)?,
            ),
            KeyType::EcP256k => Inner::K256(
                k256::ecdsa::SigningKey::from_slice(material.as_bytes())
                    .map_err(|_| CryptoError::InvalidKeyMaterial)?,
            ),
            KeyType::EcSm2 => {
                let secret = sm2_secret(material)?;
                Inner::Sm2(
                    sm2::dsa::SigningKey::new(SM2_DEFAULT_ID, &secret)
                        .map_err(|_| CryptoError::InvalidKeyMaterial)?,
                )
            }
            _ => return Err(CryptoError::InvalidKeyMaterial),
        };
        Ok(SigningKey { kind, inner })
    }

    /// The key's type.
    pub fn kind(&self) -> KeyType {
        self.kind
    }

    /// Signs a 32-byte `digest` with `algorithm`, as [`sign_digest`] does.
    ///
    /// # Errors
    ///
    /// As [`sign_digest`].
    pub fn sign(&self, algorithm: SignAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_request(self.kind, algorithm, digest)?;
        let mut rng = os_rng();
        match (&self.inner, algorithm) {
            (Inner::Rsa(key), SignAlgorithm::RsaPssSha256) => key
                .sign_with_rng(&mut rng, Pss::<Sha256>::new_with_salt(PSS_SALT_LEN), digest)
                .map_err(|_| CryptoError::OperationFailed),
            (Inner::Rsa(key), SignAlgorithm::RsaPkcs1Sha256) => key
                .sign_with_rng(&mut rng, Pkcs1v15Sign::new::<Sha256>(), digest)
                .map_err(|_| CryptoError::OperationFailed),
            (Inner::P256(key), SignAlgorithm::EcdsaSha256) => {
                let sig: p256::ecdsa::Signature = key
                    .sign_prehash_with_rng(&mut rng, digest)
                    .map_err(|_| CryptoError::OperationFailed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (Inner::K256(key), SignAlgorithm::EcdsaSha256) => {
                let sig: k256::ecdsa::Signature = key
                    .sign_prehash_with_rng(&mut rng, digest)
                    .map_err(|_| CryptoError::OperationFailed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (Inner::Sm2(key), SignAlgorithm::Sm2Dsa) => {
                // SM2 signing fails only if r = 0 or r + k = n for the drawn k (probability about
                // 2^-255); a fresh draw of the hedging randomness gives another k.
                for _ in 0..4 {
                    let signed: Result<sm2::dsa::Signature, _> =
                        key.sign_prehash_with_rng(&mut rng, digest);
                    if let Ok(sig) = signed {
                        return Ok(sig.to_der().as_bytes().to_vec());
                    }
                }
                Err(CryptoError::OperationFailed)
            }
            // check_request refused every algorithm that does not fit the key's type.
            _ => Err(CryptoError::OperationFailed),
        }
    }
}

/// Verifies `signature` over a 32-byte `digest` with the public half of the private key in
/// `material`. Returns `Ok(false)` for any signature that does not verify, malformed ones
/// included.
///
/// # Errors
///
/// As [`sign_digest`], except that no [`CryptoError::OperationFailed`] occurs.
pub fn verify_digest(
    kind: KeyType,
    algorithm: SignAlgorithm,
    material: &KeyMaterial,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    check_request(kind, algorithm, digest)?;
    let public = match kind {
        KeyType::Rsa2048 | KeyType::Rsa3072 => {
            let key = rsa_private_key(material)?;
            check_rsa_size(kind, key.size())?;
            PublicKey::Rsa(key.to_public_key())
        }
        KeyType::EcP256 => PublicKey::P256(
            p256::SecretKey::from_slice(material.as_bytes())
                .map_err(|_| CryptoError::InvalidKeyMaterial)?
                .public_key(),
        ),
        KeyType::EcP256k => PublicKey::K256(
            k256::SecretKey::from_slice(material.as_bytes())
                .map_err(|_| CryptoError::InvalidKeyMaterial)?
                .public_key(),
        ),
        KeyType::EcSm2 => PublicKey::Sm2(sm2_secret(material)?.public_key()),
        _ => return Err(CryptoError::NotAsymmetric),
    };
    Ok(public.verify(algorithm, digest, signature))
}

/// Verifies `signature` over a 32-byte `digest` with a public key given as a PEM
/// `SubjectPublicKeyInfo` (`-----BEGIN PUBLIC KEY-----`), such as [`crate::public_key_pem`]
/// returns or a certificate carries. Returns `Ok(false)` for any signature that does not verify.
///
/// # Errors
///
/// - [`CryptoError::InvalidPublicKey`] if `pem` is not a public key of a type `algorithm` works
///   with (RSA of 2048 bits or more for the RSA algorithms; P-256 or secp256k1 for ECDSA; SM2
///   for SM2DSA).
/// - [`CryptoError::InvalidDigestLength`] if `digest` is not 32 bytes.
pub fn verify_digest_with_public_pem(
    algorithm: SignAlgorithm,
    pem: &str,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let public = PublicKey::from_pem(pem)?;
    if !algorithm.supports(public.key_type()?) {
        return Err(CryptoError::InvalidPublicKey);
    }
    if digest.len() != SIGN_DIGEST_LEN {
        return Err(CryptoError::InvalidDigestLength { len: digest.len() });
    }
    Ok(public.verify(algorithm, digest, signature))
}

/// The SM2 digest e = SM3(Z_A ‖ `message`) that [`SignAlgorithm::Sm2Dsa`] signs, for the SM2
/// private key in `material` and the default identifier [`SM2_DEFAULT_ID`] (GB/T 32918.2-2016
/// §6.1).
///
/// # Errors
///
/// [`CryptoError::InvalidKeyMaterial`] if `material` is not an SM2 private key.
pub fn sm2_digest(material: &KeyMaterial, message: &[u8]) -> Result<[u8; 32], CryptoError> {
    let public = sm2_secret(material)?.public_key();
    Ok(sm2_e(&public, SM2_DEFAULT_ID.as_bytes(), message))
}

/// [`sm2_digest`] for an SM2 public key given as a PEM `SubjectPublicKeyInfo`.
///
/// # Errors
///
/// [`CryptoError::InvalidPublicKey`] if `pem` is not an SM2 public key.
pub fn sm2_digest_with_public_pem(pem: &str, message: &[u8]) -> Result<[u8; 32], CryptoError> {
    let public =
        sm2::PublicKey::from_public_key_pem(pem).map_err(|_| CryptoError::InvalidPublicKey)?;
    Ok(sm2_e(&public, SM2_DEFAULT_ID.as_bytes(), message))
}

/// The SM2 curve coefficient a (GB/T 32918.5-2017).
const SM2_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
/// The SM2 curve coefficient b.
const SM2_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
/// The x coordinate of the SM2 base point G.
const SM2_GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
/// The y coordinate of the SM2 base point G.
const SM2_GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

/// Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2-2016 §5.5), where
/// ENTL_A is the bit length of `id` as two big-endian bytes. `id` must be shorter than 8192 bytes
/// (the only caller passes the 16-byte default).
pub(crate) fn sm2_z(public: &sm2::PublicKey, id: &[u8]) -> [u8; 32] {
    use sm2::elliptic_curve::sec1::{Coordinates, ToSec1Point};
    let entl = u16::try_from(id.len().saturating_mul(8)).unwrap_or(u16::MAX);
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(id);
    for constant in [SM2_A, SM2_B, SM2_GX, SM2_GY] {
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(constant, &mut bytes).is_err() {
            unreachable!("the curve constants are 64 hex digits");
        }
        h.update(bytes);
    }
    let point = public.to_sec1_point(false);
    if let Coordinates::Uncompressed { x, y } = point.coordinates() {
        h.update(x);
        h.update(y);
    }
    h.finalize().into()
}

/// e = SM3(Z_A ‖ M).
pub(crate) fn sm2_e(public: &sm2::PublicKey, id: &[u8], message: &[u8]) -> [u8; 32] {
    Sm3::new().chain_update(sm2_z(public, id)).chain_update(message).finalize().into()
}

pub(crate) fn sm2_secret(material: &KeyMaterial) -> Result<sm2::SecretKey, CryptoError> {
    sm2::SecretKey::from_slice(material.as_bytes()).map_err(|_| CryptoError::InvalidKeyMaterial)
}

/// Checks that an RSA key (modulus length in bytes) has the size of `kind`.
pub(crate) fn check_rsa_size(kind: KeyType, modulus_len: usize) -> Result<(), CryptoError> {
    match (kind, modulus_len) {
        (KeyType::Rsa2048, 256) | (KeyType::Rsa3072, 384) => Ok(()),
        _ => Err(CryptoError::InvalidKeyMaterial),
    }
}

/// A public key of any asymmetric key type.
pub(crate) enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::PublicKey),
    K256(k256::PublicKey),
    Sm2(sm2::PublicKey),
}

impl PublicKey {
    /// Parses a PEM `SubjectPublicKeyInfo` of any supported type. RSA keys must have at least
    /// 2048 bits.
    pub(crate) fn from_pem(pem: &str) -> Result<PublicKey, CryptoError> {
        if let Ok(key) = RsaPublicKey::from_public_key_pem(pem) {
            return if key.size() >= 256 {
                Ok(PublicKey::Rsa(key))
            } else {
                Err(CryptoError::InvalidPublicKey)
            };
        }
        if let Ok(key) = p256::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(key));
        }
        if let Ok(key) = k256::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::K256(key));
        }
        if let Ok(key) = sm2::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Sm2(key));
        }
        Err(CryptoError::InvalidPublicKey)
    }

    /// The key type; RSA keys other than 2048 or 3072 bits have none.
    pub(crate) fn key_type(&self) -> Result<KeyType, CryptoError> {
        match self {
            PublicKey::Rsa(key) => match key.size() {
                256 => Ok(KeyType::Rsa2048),
                384 => Ok(KeyType::Rsa3072),
                _ => Err(CryptoError::InvalidPublicKey),
            },
            PublicKey::P256(_) => Ok(KeyType::EcP256),
            PublicKey::K256(_) => Ok(KeyType::EcP256k),
            PublicKey::Sm2(_) => Ok(KeyType::EcSm2),
        }
    }

    /// Verifies; any failure, including a malformed signature or a key of another type, is
    /// `false`.
    pub(crate) fn verify(&self, algorithm: SignAlgorithm, digest: &[u8], signature: &[u8]) -> bool {
        match (self, algorithm) {
            (PublicKey::Rsa(key), SignAlgorithm::RsaPssSha256) => {
                key.verify(Pss::<Sha256>::new_with_salt(PSS_SALT_LEN), digest, signature).is_ok()
            }
            (PublicKey::Rsa(key), SignAlgorithm::RsaPkcs1Sha256) => {
                key.verify(Pkcs1v15Sign::new::<Sha256>(), digest, signature).is_ok()
            }
            (PublicKey::P256(key), SignAlgorithm::EcdsaSha256) => {
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                    return false;
                };
                let key = p256::ecdsa::VerifyingKey::from(key);
                key.verify_prehash(digest, &sig).is_ok()
            }
            (PublicKey::K256(key), SignAlgorithm::EcdsaSha256) => {
                let Ok(sig) = k256::ecdsa::Signature::from_der(signature) else {
                    return false;
                };
                // k256 verifies only low-s signatures; (r, n - s) is the same signature.
                let sig = sig.normalize_s();
                let key = k256::ecdsa::VerifyingKey::from(key);
                key.verify_prehash(digest, &sig).is_ok()
            }
            (PublicKey::Sm2(key), SignAlgorithm::Sm2Dsa) => {
                let Ok(sig) = sm2::dsa::Signature::from_der(signature) else {
                    return false;
                };
                let Ok(key) = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, *key) else {
                    return false;
                };
                key.verify_prehash(digest, &sig).is_ok()
            }
            _ => false,
        }
    }
}
