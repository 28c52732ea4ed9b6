//! Tests for key material, domain keys and wrapping.

use crate::{CryptoError, DomainKey, KEY_LEN, KeyMaterial, WRAP_VERSION_V1};

fn domain_key() -> DomainKey {
    DomainKey::from_bytes(&(0u8..32).collect::<Vec<_>>()).unwrap()
}

fn material() -> KeyMaterial {
    KeyMaterial::from_bytes(&(0x40u8..0x60).collect::<Vec<_>>())
}

#[test]
fn key_material_round_trips_bytes() {
    let m = KeyMaterial::from_bytes(b"0123456789abcdef");
    assert_eq!(m.as_bytes(), b"0123456789abcdef");
    assert_eq!(m.len(), 16);
    assert!(!m.is_empty());
    assert!(KeyMaterial::from_bytes(b"").is_empty());
}

#[test]
fn generated_key_material_has_requested_length() {
    for len in [0, 16, 24, 32, 64] {
        assert_eq!(KeyMaterial::generate(len).len(), len);
    }
    assert_ne!(KeyMaterial::generate(32).as_bytes(), KeyMaterial::generate(32).as_bytes());
}

#[test]
fn debug_never_prints_bytes() {
    assert_eq!(format!("{:?}", material()), "KeyMaterial(..)");
    assert_eq!(format!("{:?}", domain_key()), "DomainKey(..)");
    assert_eq!(format!("{:#?}", domain_key()), "DomainKey(..)");
}

#[test]
fn domain_key_needs_exactly_32_bytes() {
    for len in [0, 16, 31, 33, 64] {
        let err = DomainKey::from_bytes(&vec![7u8; len]).unwrap_err();
        assert_eq!(err, CryptoError::InvalidKeyLength { len });
    }
    assert!(DomainKey::from_bytes(&[7u8; KEY_LEN]).is_ok());
}

#[test]
fn domain_key_hex_round_trip() {
    let key = domain_key();
    let hex = key.to_hex();
    assert_eq!(hex.as_str(), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    let again = DomainKey::from_hex(&format!("  {}\n", hex.as_str())).unwrap();
    assert_eq!(again.to_hex().as_str(), hex.as_str());
    let upper = DomainKey::from_hex(&hex.to_uppercase()).unwrap();
    assert_eq!(upper.to_hex().as_str(), hex.as_str());
    assert_eq!(DomainKey::generate().to_hex().len(), 64);
}

#[test]
fn domain_key_hex_rejects_bad_input_without_echoing_it() {
    let good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let bad = [
        "",
        &good[..62],
        &good[..63],
        &format!("{good}00"),
        &format!("{}zz", &good[..62]),
        &format!("{} {}", &good[..32], &good[32..]),
        "0x0102",
    ];
    for s in bad {
        let err = DomainKey::from_hex(s).unwrap_err();
        assert_eq!(err, CryptoError::InvalidKeyEncoding, "{s:?}");
        assert!(!err.to_string().contains("0a0b"), "{err}");
    }
}

#[test]
fn fingerprint_is_stable_and_distinguishes_keys() {
    // Checked against Python: sha256(b"yaoshi-domain-key-fingerprint" + bytes(range(32))).
    assert_eq!(domain_key().fingerprint(), "1ccd585303081965");
    assert_ne!(DomainKey::generate().fingerprint(), domain_key().fingerprint());
}

#[test]
fn wrap_unwrap_round_trip() {
    let key = domain_key();
    for len in [0, 1, 16, 24, 32, 100] {
        let m = KeyMaterial::generate(len);
        let wrapped = key.wrap(b"key-1/v-1", &m);
        assert_eq!(wrapped.len(), 1 + 12 + len + 16);
        assert_eq!(wrapped[0], WRAP_VERSION_V1);
        let back = key.unwrap(b"key-1/v-1", &wrapped).unwrap();
        assert_eq!(back.as_bytes(), m.as_bytes());
    }
}

#[test]
fn wrap_uses_fresh_nonces() {
    let key = domain_key();
    assert_ne!(key.wrap(b"a", &material()), key.wrap(b"a", &material()));
}

#[test]
fn wrap_matches_independent_implementation() {
    // Computed with Python `cryptography`:
    // AESGCM(bytes(range(32))).encrypt(bytes(range(0xa0, 0xac)), bytes(range(0x40, 0x60)),
    //                                  b"\x01" + b"key-1/v-1"), prefixed with 01 || nonce.
    let nonce: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
    let wrapped = domain_key().wrap_with_nonce(b"key-1/v-1", &material(), &nonce).unwrap();
    assert_eq!(
        hex::encode(&wrapped),
        "01a0a1a2a3a4a5a6a7a8a9aaaba6593e6e018e44f82a2ccd984b378e9120fd0b43c6e2143bc4577cdd23\
         f62b5efdbaf8d52edd8d9e0e7b7fc1dec75355"
    );
    let back = domain_key().unwrap(b"key-1/v-1", &wrapped).unwrap();
    assert_eq!(back.as_bytes(), material().as_bytes());
}

#[test]
fn unwrap_with_wrong_aad_or_domain_key_fails() {
    let key = domain_key();
    let wrapped = key.wrap(b"key-1/v-1", &material());
    assert_eq!(key.unwrap(b"key-1/v-2", &wrapped).unwrap_err(), CryptoError::AuthenticationFailed);
    assert_eq!(key.unwrap(b"", &wrapped).unwrap_err(), CryptoError::AuthenticationFailed);
    assert_eq!(
        DomainKey::generate().unwrap(b"key-1/v-1", &wrapped).unwrap_err(),
        CryptoError::AuthenticationFailed
    );
}

#[test]
fn unwrap_detects_every_modified_byte() {
    let key = domain_key();
    let wrapped = key.wrap(b"aad", &material());
    for i in 0..wrapped.len() {
        for bit in [0x01, 0x80] {
            let mut bad = wrapped.clone();
            bad[i] ^= bit;
            let err = key.unwrap(b"aad", &bad).unwrap_err();
            let expected = if i == 0 {
                CryptoError::MalformedWrapped
            } else {
                CryptoError::AuthenticationFailed
            };
            assert_eq!(err, expected, "byte {i} bit {bit:#x}");
        }
    }
}

#[test]
fn unwrap_rejects_truncated_and_garbage_input() {
    let key = domain_key();
    let wrapped = key.wrap(b"aad", &material());
    for len in 0..wrapped.len() {
        let err = key.unwrap(b"aad", &wrapped[..len]).unwrap_err();
        let expected = if len < 29 {
            CryptoError::MalformedWrapped
        } else {
            CryptoError::AuthenticationFailed
        };
        assert_eq!(err, expected, "length {len}");
    }
    let mut rng = crate::blob_test::TestRng::new(7);
    for _ in 0..2000 {
        let len = rng.below(80);
        let bytes = rng.bytes(len);
        assert!(key.unwrap(b"aad", &bytes).is_err());
    }
}

#[test]
fn material_digest_is_keyed_and_deterministic() {
    let dk = DomainKey::from_bytes(&[7u8; 32]).unwrap();
    let other = DomainKey::from_bytes(&[8u8; 32]).unwrap();
    let m = KeyMaterial::from_bytes(&[1u8; 32]);
    let d = dk.material_digest(b"k", &m);
    assert_eq!(d.len(), 32);
    assert_eq!(d, dk.material_digest(b"k", &m));
    assert_ne!(d, dk.material_digest(b"k", &KeyMaterial::from_bytes(&[2u8; 32])));
    assert_ne!(d, dk.material_digest(b"j", &m));
    assert_ne!(d, other.material_digest(b"k", &m));
}
