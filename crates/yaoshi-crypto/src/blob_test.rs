//! Tests for the ciphertext blob format.

use std::collections::BTreeMap;

use expect_test::expect;

use crate::blob::seal_blob_with;
use crate::{
    BLOB_VERSION_V1, BLOB_VERSION_V2, BlobHeader, CryptoError, KeyMaterial, KeyType,
    encryption_context_aad, open_blob, open_blob_for, parse_blob_header, seal_blob, seal_blob_for,
};

const SYMMETRIC: [KeyType; 4] = [KeyType::Aes128, KeyType::Aes192, KeyType::Aes256, KeyType::Sm4];
const ASYMMETRIC: [KeyType; 5] =
    [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::EcP256, KeyType::EcP256k, KeyType::EcSm2];

/// A small deterministic generator (xorshift64*), so "random input" tests are reproducible.
pub(crate) struct TestRng(u64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> TestRng {
        TestRng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

fn header() -> BlobHeader {
    BlobHeader { key_id: "key-0123".to_owned(), key_version_id: "v-0001".to_owned() }
}

fn context(pairs: &[(&str, &str)]) -> Vec<u8> {
    let map: BTreeMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    encryption_context_aad(&map)
}

fn material(len: usize) -> KeyMaterial {
    KeyMaterial::from_bytes(&(0x10..0x10 + len as u8).collect::<Vec<_>>())
}

#[test]
fn seal_open_round_trip_for_each_aes_key_size() {
    let ctx = context(&[("purpose", "test")]);
    for len in [16, 24, 32] {
        let m = KeyMaterial::generate(len);
        for plaintext in [&b""[..], b"x", b"hello world", &[0xab; 1000]] {
            let blob = seal_blob(&m, &header(), plaintext, &ctx).unwrap();
            assert_eq!(blob.len(), 63 + 8 + 6 + plaintext.len());
            assert_eq!(blob[0], BLOB_VERSION_V1);
            let opened = open_blob(&m, &blob, &ctx).unwrap();
            assert_eq!(&opened[..], plaintext, "key length {len}");
        }
    }
}

#[test]
fn seal_uses_fresh_salt_and_nonce() {
    let m = material(32);
    let a = seal_blob(&m, &header(), b"same", b"").unwrap();
    let b = seal_blob(&m, &header(), b"same", b"").unwrap();
    assert_ne!(a, b);
}

#[test]
fn blob_matches_independent_implementation() {
    // Computed with Python `cryptography` (HKDF-SHA256 and AESGCM) from the format description:
    // material bytes(range(0x10, 0x10 + L)), salt bytes(range(0x80, 0xa0)), nonce
    // bytes(range(0xc0, 0xcc)), plaintext b"hello", context {"a": "b", "purpose": "test"}.
    let ctx = context(&[("purpose", "test"), ("a", "b")]);
    let salt: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let nonce: [u8; 12] = core::array::from_fn(|i| 0xc0 + i as u8);
    let seal = |len| {
        hex::encode(
            seal_blob_with(
                BLOB_VERSION_V1,
                &material(len),
                &header(),
                b"hello",
                &ctx,
                &salt,
                &nonce,
            )
            .unwrap(),
        )
    };
    expect![[r#"01086b65792d3031323306762d30303031808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fc0c1c2c3c4c5c6c7c8c9cacb6c5cfa3f40cbcf049998eecf47e4e061cae09ecf5a"#]].assert_eq(&seal(16));
    expect![[r#"01086b65792d3031323306762d30303031808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fc0c1c2c3c4c5c6c7c8c9cacb2fdd18ce6d16e7f0af300e2a8e504a61936d00c935"#]].assert_eq(&seal(24));
    expect![[r#"01086b65792d3031323306762d30303031808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fc0c1c2c3c4c5c6c7c8c9cacbef51d23c3c569410798129ddcad6d3e310c27b8c2d"#]].assert_eq(&seal(32));
}

#[test]
fn parse_header_needs_no_key() {
    let blob = seal_blob(&material(32), &header(), b"secret", b"").unwrap();
    assert_eq!(parse_blob_header(&blob).unwrap(), header());

    let unicode = BlobHeader { key_id: "键-ключ".to_owned(), key_version_id: String::new() };
    let blob = seal_blob(&material(16), &unicode, b"", b"").unwrap();
    assert_eq!(parse_blob_header(&blob).unwrap(), unicode);
    assert!(open_blob(&material(16), &blob, b"").unwrap().is_empty());
}

#[test]
fn longest_ids_fit_and_longer_ones_are_rejected() {
    let long = BlobHeader { key_id: "k".repeat(255), key_version_id: "v".repeat(255) };
    let blob = seal_blob(&material(32), &long, b"p", b"").unwrap();
    assert_eq!(parse_blob_header(&blob).unwrap(), long);
    assert_eq!(&open_blob(&material(32), &blob, b"").unwrap()[..], b"p");

    let too_long = BlobHeader { key_id: "k".repeat(256), key_version_id: "v".to_owned() };
    assert_eq!(
        seal_blob(&material(32), &too_long, b"p", b"").unwrap_err(),
        CryptoError::HeaderFieldTooLong { field: "key_id", len: 256 }
    );
    let too_long = BlobHeader { key_id: "k".to_owned(), key_version_id: "é".repeat(128) };
    assert_eq!(
        seal_blob(&material(32), &too_long, b"p", b"").unwrap_err(),
        CryptoError::HeaderFieldTooLong { field: "key_version_id", len: 256 }
    );
}

#[test]
fn material_must_be_an_aes_key_length() {
    for len in [0, 8, 15, 17, 31, 33, 64] {
        let err = seal_blob(&material(len), &header(), b"p", b"").unwrap_err();
        assert_eq!(err, CryptoError::InvalidKeyLength { len });
    }
    let blob = seal_blob(&material(32), &header(), b"p", b"").unwrap();
    assert_eq!(
        open_blob(&material(20), &blob, b"").unwrap_err(),
        CryptoError::InvalidKeyLength { len: 20 }
    );
}

#[test]
fn wrong_key_or_context_fails_authentication() {
    let ctx = context(&[("purpose", "test")]);
    let blob = seal_blob(&material(32), &header(), b"secret", &ctx).unwrap();
    let auth = Err(CryptoError::AuthenticationFailed);
    assert_eq!(open_blob(&KeyMaterial::generate(32), &blob, &ctx), auth);
    // Same length class but a different size is a different key, too.
    assert_eq!(open_blob(&material(16), &blob, &ctx), auth);
    assert_eq!(open_blob(&material(32), &blob, b""), auth);
    assert_eq!(open_blob(&material(32), &blob, &context(&[("purpose", "other")])), auth);
    assert_eq!(
        open_blob(&material(32), &blob, &context(&[("purpose", "test"), ("extra", "1")])),
        auth
    );

    let plain = seal_blob(&material(32), &header(), b"secret", b"").unwrap();
    assert_eq!(open_blob(&material(32), &plain, &ctx), auth);
    assert_eq!(&open_blob(&material(32), &plain, b"").unwrap()[..], b"secret");
}

#[test]
fn every_modified_byte_is_detected() {
    let ctx = context(&[("k", "v")]);
    for len in [16, 24, 32] {
        let m = material(len);
        let blob = seal_blob(&m, &header(), b"attack at dawn", &ctx).unwrap();
        for i in 0..blob.len() {
            for bit in [0x01, 0x80] {
                let mut bad = blob.clone();
                bad[i] ^= bit;
                let err = open_blob(&m, &bad, &ctx).unwrap_err();
                // Changing the version, a length or an id byte can make the blob unparseable
                // (or its id invalid UTF-8); anything else must fail authentication. Nothing may
                // succeed.
                assert!(
                    matches!(
                        err,
                        CryptoError::AuthenticationFailed
                            | CryptoError::MalformedBlob
                            | CryptoError::UnsupportedBlobVersion { .. }
                    ),
                    "key length {len}, byte {i}, bit {bit:#x}: {err:?}"
                );
                // Version, lengths and ids: bytes 0 .. 2 + 8 + 1 + 6.
                let structural = i < 17;
                if !structural {
                    assert_eq!(err, CryptoError::AuthenticationFailed, "byte {i}");
                }
            }
        }
    }
}

#[test]
fn swapping_the_key_id_fails_even_with_the_same_material() {
    let m = material(32);
    let blob = seal_blob(&m, &header(), b"secret", b"").unwrap();
    let mut moved = blob.clone();
    // "key-0123" -> "key-0124": same lengths, still parseable.
    moved[2 + 7] = b'4';
    assert_eq!(parse_blob_header(&moved).unwrap().key_id, "key-0124");
    assert_eq!(open_blob(&m, &moved, b""), Err(CryptoError::AuthenticationFailed));
}

#[test]
fn truncated_blobs_are_rejected() {
    let m = material(32);
    let blob = seal_blob(&m, &header(), b"hello", b"").unwrap();
    let header_and_tag = 63 + 8 + 6;
    for len in 0..blob.len() {
        let cut = &blob[..len];
        let err = open_blob(&m, cut, b"").unwrap_err();
        if len < header_and_tag {
            assert_eq!(err, CryptoError::MalformedBlob, "length {len}");
            assert_eq!(parse_blob_header(cut).unwrap_err(), CryptoError::MalformedBlob);
        } else {
            assert_eq!(err, CryptoError::AuthenticationFailed, "length {len}");
        }
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(open_blob(&m, &longer, b""), Err(CryptoError::AuthenticationFailed));
}

#[test]
fn unknown_versions_and_bad_utf8_are_rejected() {
    let m = material(32);
    let blob = seal_blob(&m, &header(), b"hello", b"").unwrap();
    for version in [0x00, 0x03, 0xff] {
        let mut bad = blob.clone();
        bad[0] = version;
        assert_eq!(parse_blob_header(&bad), Err(CryptoError::UnsupportedBlobVersion { version }));
    }
    let mut bad = blob.clone();
    bad[2] = 0xff;
    assert_eq!(parse_blob_header(&bad), Err(CryptoError::MalformedBlob));
}

#[test]
fn random_input_never_panics() {
    let m = material(32);
    let valid = seal_blob(&m, &header(), b"hello", b"ctx").unwrap();
    let mut rng = TestRng::new(42);
    for round in 0..20_000 {
        let mut input = if round % 2 == 0 {
            let len = rng.below(120);
            rng.bytes(len)
        } else {
            // Start from a valid blob and damage it, to get past the version byte.
            let mut v = valid.clone();
            for _ in 0..=rng.below(4) {
                let i = rng.below(v.len());
                v[i] = rng.next_u64() as u8;
            }
            let keep = rng.below(v.len() + 1);
            v.truncate(keep);
            v
        };
        if round % 3 == 0 && !input.is_empty() {
            input[0] = BLOB_VERSION_V1;
        }
        let _ = parse_blob_header(&input);
        assert!(open_blob(&m, &input, b"ctx").is_err() || input == valid);
    }
}

#[test]
fn error_messages_reveal_nothing() {
    let m = material(32);
    let blob = seal_blob(&m, &header(), b"top secret plaintext", b"").unwrap();
    let err = open_blob(&KeyMaterial::generate(32), &blob, b"").unwrap_err();
    let text = err.to_string();
    assert_eq!(text, "authentication failed");
    assert!(!format!("{err:?}").contains("secret"));
}

fn material_for(kind: KeyType) -> KeyMaterial {
    material(kind.symmetric_len().unwrap())
}

#[test]
fn typed_round_trip_for_every_symmetric_key_type() {
    let ctx = context(&[("purpose", "test")]);
    for kind in SYMMETRIC {
        let m = crate::generate_key(kind).unwrap();
        for plaintext in [&b""[..], b"x", b"hello world", &[0xab; 6144]] {
            let blob = seal_blob_for(kind, &m, &header(), plaintext, &ctx).unwrap();
            assert_eq!(blob.len(), 63 + 8 + 6 + plaintext.len());
            let version = if kind == KeyType::Sm4 { BLOB_VERSION_V2 } else { BLOB_VERSION_V1 };
            assert_eq!(blob[0], version, "{kind:?}");
            assert_eq!(parse_blob_header(&blob).unwrap(), header());
            assert_eq!(&open_blob_for(kind, &m, &blob, &ctx).unwrap()[..], plaintext, "{kind:?}");
            // The key-type-less form follows the version byte.
            assert_eq!(&open_blob(&m, &blob, &ctx).unwrap()[..], plaintext, "{kind:?}");
        }
    }
}

#[test]
fn typed_aes_blobs_are_version_1_blobs() {
    // seal_blob_for on AES keys makes exactly what seal_blob makes, and each opens the other's.
    for kind in [KeyType::Aes128, KeyType::Aes192, KeyType::Aes256] {
        let m = material_for(kind);
        let typed = seal_blob_for(kind, &m, &header(), b"p", b"").unwrap();
        let legacy = seal_blob(&m, &header(), b"p", b"").unwrap();
        assert_eq!(&open_blob(&m, &typed, b"").unwrap()[..], b"p");
        assert_eq!(&open_blob_for(kind, &m, &legacy, b"").unwrap()[..], b"p");
    }
}

#[test]
fn sm4_blob_matches_independent_implementation() {
    // Computed with Python `cryptography` (HKDF-SHA256 with info "yaoshi-blob-v2" || header, 16-byte
    // output, and SM4 in GCM mode) from the format description: material bytes(range(0x10, 0x20)),
    // salt bytes(range(0x80, 0xa0)), nonce bytes(range(0xc0, 0xcc)), plaintext b"hello", context
    // {"a": "b", "purpose": "test"}.
    let ctx = context(&[("purpose", "test"), ("a", "b")]);
    let salt: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let nonce: [u8; 12] = core::array::from_fn(|i| 0xc0 + i as u8);
    let blob =
        seal_blob_with(BLOB_VERSION_V2, &material(16), &header(), b"hello", &ctx, &salt, &nonce)
            .unwrap();
    expect![[r#"02086b65792d3031323306762d30303031808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fc0c1c2c3c4c5c6c7c8c9cacb91289757efff6f0d8e19cc28274b936abc8847f739"#]].assert_eq(&hex::encode(&blob));
    assert_eq!(&open_blob_for(KeyType::Sm4, &material(16), &blob, &ctx).unwrap()[..], b"hello");
}

#[test]
fn blob_cipher_must_belong_to_the_key_type() {
    let m = material(16);
    let aes = seal_blob_for(KeyType::Aes128, &m, &header(), b"secret", b"").unwrap();
    let sm4 = seal_blob_for(KeyType::Sm4, &m, &header(), b"secret", b"").unwrap();
    let auth = Err(CryptoError::AuthenticationFailed);
    // Same 16 bytes of material, other cipher: refused before any decryption.
    assert_eq!(open_blob_for(KeyType::Sm4, &m, &aes, b""), auth);
    assert_eq!(open_blob_for(KeyType::Aes128, &m, &sm4, b""), auth);
    // Relabelling the version byte does not help either: it is bound into key and AAD.
    let mut relabelled = aes.clone();
    relabelled[0] = BLOB_VERSION_V2;
    assert_eq!(open_blob_for(KeyType::Sm4, &m, &relabelled, b""), auth);
    assert_eq!(open_blob(&m, &relabelled, b""), auth);
    let mut relabelled = sm4.clone();
    relabelled[0] = BLOB_VERSION_V1;
    assert_eq!(open_blob_for(KeyType::Aes128, &m, &relabelled, b""), auth);
}

#[test]
fn typed_blobs_need_symmetric_types_and_matching_material() {
    for kind in ASYMMETRIC {
        assert_eq!(
            seal_blob_for(kind, &material(32), &header(), b"p", b""),
            Err(CryptoError::UnsupportedAlgorithm)
        );
    }
    let blob = seal_blob_for(KeyType::Sm4, &material(16), &header(), b"p", b"").unwrap();
    for kind in ASYMMETRIC {
        assert_eq!(
            open_blob_for(kind, &material(16), &blob, b""),
            Err(CryptoError::UnsupportedAlgorithm)
        );
    }
    for kind in SYMMETRIC {
        let expected = kind.symmetric_len().unwrap();
        for len in [0, 15, 16, 17, 24, 32, 33] {
            if len == expected {
                continue;
            }
            let err = CryptoError::InvalidKeyLength { len };
            assert_eq!(seal_blob_for(kind, &material(len), &header(), b"p", b""), Err(err.clone()));
        }
    }
    // SM4 blobs need 16 bytes of material even through the key-type-less form.
    assert_eq!(
        open_blob(&material(32), &blob, b""),
        Err(CryptoError::InvalidKeyLength { len: 32 })
    );
    assert_eq!(
        open_blob_for(KeyType::Sm4, &material(32), &blob, b""),
        Err(CryptoError::InvalidKeyLength { len: 32 })
    );
}

#[test]
fn every_modified_byte_of_an_sm4_blob_is_detected() {
    let ctx = context(&[("k", "v")]);
    let m = material(16);
    let blob = seal_blob_for(KeyType::Sm4, &m, &header(), b"attack at dawn", &ctx).unwrap();
    assert_eq!(&open_blob_for(KeyType::Sm4, &m, &blob, &ctx).unwrap()[..], b"attack at dawn");
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x01;
        let err = open_blob_for(KeyType::Sm4, &m, &bad, &ctx).unwrap_err();
        assert!(
            matches!(
                err,
                CryptoError::AuthenticationFailed
                    | CryptoError::MalformedBlob
                    | CryptoError::UnsupportedBlobVersion { .. }
            ),
            "byte {i}: {err:?}"
        );
        if i >= 17 {
            assert_eq!(err, CryptoError::AuthenticationFailed, "byte {i}");
        }
    }
    assert_eq!(
        open_blob_for(KeyType::Sm4, &KeyMaterial::generate(16), &blob, &ctx),
        Err(CryptoError::AuthenticationFailed)
    );
    assert_eq!(open_blob_for(KeyType::Sm4, &m, &blob, b""), Err(CryptoError::AuthenticationFailed));
}

#[test]
fn random_input_never_panics_for_any_key_type() {
    let mut rng = TestRng::new(7);
    for kind in SYMMETRIC {
        let m = material_for(kind);
        let valid = seal_blob_for(kind, &m, &header(), b"hello", b"ctx").unwrap();
        for round in 0..3_000 {
            let input = if round % 2 == 0 {
                let len = rng.below(120);
                let mut v = rng.bytes(len);
                if let Some(first) = v.first_mut() {
                    *first = [BLOB_VERSION_V1, BLOB_VERSION_V2][round % 4 / 2];
                }
                v
            } else {
                let mut v = valid.clone();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(v.len());
                    v[i] = rng.next_u64() as u8;
                }
                let keep = rng.below(v.len() + 1);
                v.truncate(keep);
                v
            };
            let _ = parse_blob_header(&input);
            let _ = open_blob(&m, &input, b"ctx");
            assert!(open_blob_for(kind, &m, &input, b"ctx").is_err() || input == valid);
        }
    }
}
