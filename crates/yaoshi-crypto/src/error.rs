//! The crate's error type.

/// Why a cryptographic operation failed.
///
/// Messages never contain key material, plaintext or ciphertext bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key had a length the operation does not support.
    ///
    /// A domain key must be exactly 32 bytes; AES key material must be 16, 24 or 32 bytes.
    #[error("invalid key length: {len} bytes")]
    InvalidKeyLength {
        /// The length that was given, in bytes.
        len: usize,
    },
    /// A hex-encoded domain key was not exactly 64 hex digits.
    #[error("invalid domain key encoding: expected 64 hex digits")]
    InvalidKeyEncoding,
    /// A blob header field is longer than the format allows (255 bytes).
    #[error("blob header field {field} is too long: {len} bytes, at most 255")]
    HeaderFieldTooLong {
        /// Which field: `key_id` or `key_version_id`.
        field: &'static str,
        /// The length that was given, in bytes.
        len: usize,
    },
    /// The message is longer than AES-GCM can encrypt under one nonce (about 64 GiB).
    #[error("message too long for aes-gcm")]
    MessageTooLong,
    /// The ciphertext blob is truncated, its lengths do not add up, or its ids are not UTF-8.
    #[error("malformed ciphertext blob")]
    MalformedBlob,
    /// The ciphertext blob starts with a version byte this build does not know.
    #[error("unsupported ciphertext blob version {version}")]
    UnsupportedBlobVersion {
        /// The version byte found.
        version: u8,
    },
    /// Authentication failed: wrong key, wrong AAD or encryption context, or tampered bytes.
    ///
    /// Deliberately one variant, so callers cannot tell the causes apart.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Wrapped key material is truncated or starts with an unknown version byte.
    #[error("malformed wrapped key material")]
    MalformedWrapped,
    /// Key generation failed.
    #[error("key generation failed")]
    KeyGeneration,
    /// Stored key material is not a valid key of the expected type.
    #[error("invalid key material")]
    InvalidKeyMaterial,
    /// Asymmetric decryption failed: one error for every cause (padding, length, key, encoding),
    /// so callers cannot tell them apart.
    #[error("decryption failed")]
    DecryptionFailed,
    /// The operation needs an asymmetric key.
    #[error("not an asymmetric key")]
    NotAsymmetric,
    /// The algorithm does not apply to this key type or operation (for example `ECDSA_SHA_256`
    /// with an RSA key, `SM2PKE` with an RSA key, or a blob for an asymmetric key type).
    #[error("algorithm not supported for this key type")]
    UnsupportedAlgorithm,
    /// A digest to sign or verify is not 32 bytes long (SHA-256 or SM3 output).
    #[error("invalid digest length: {len} bytes, expected 32")]
    InvalidDigestLength {
        /// The length that was given, in bytes.
        len: usize,
    },
    /// The plaintext is longer than the algorithm can encrypt with this key.
    #[error("plaintext too long: {len} bytes, at most {max}")]
    PlaintextTooLong {
        /// The length that was given, in bytes.
        len: usize,
        /// The largest plaintext the algorithm and key accept, in bytes.
        max: usize,
    },
    /// The algorithm cannot encrypt an empty plaintext (SM2PKE).
    #[error("plaintext is empty")]
    EmptyPlaintext,
    /// A public key (PEM `SubjectPublicKeyInfo`) could not be parsed, or is not a key the
    /// algorithm works with.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// Signing or encryption failed inside the primitive (not expected with valid keys).
    #[error("cryptographic operation failed")]
    OperationFailed,
}
