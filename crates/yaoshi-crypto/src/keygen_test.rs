//! Tests for key generation: lengths, public keys and their OIDs, invalid material.

use crate::{KeyType, generate_key, public_key_pem};

#[test]
fn symmetric_lengths() {
    for (kind, len) in
        [(KeyType::Aes128, 16), (KeyType::Aes192, 24), (KeyType::Aes256, 32), (KeyType::Sm4, 16)]
    {
        let a = generate_key(kind).unwrap();
        let b = generate_key(kind).unwrap();
        assert_eq!(a.len(), len);
        assert_ne!(a.as_bytes(), b.as_bytes(), "{kind:?} keys must differ");
        assert_eq!(public_key_pem(kind, &a), Err(crate::CryptoError::NotAsymmetric));
    }
}

#[test]
fn asymmetric_keys_have_public_keys() {
    for kind in [KeyType::EcP256, KeyType::EcP256k, KeyType::EcSm2, KeyType::Rsa2048] {
        let a = generate_key(kind).unwrap();
        let b = generate_key(kind).unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        let pem = public_key_pem(kind, &a).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert_ne!(pem, public_key_pem(kind, &b).unwrap());
    }
}

/// The SPKI names the right algorithm and curve: the OIDs appear in the DER.
#[test]
fn public_key_oids() {
    use base64::Engine;
    let der = |kind| {
        let pem = public_key_pem(kind, &generate_key(kind).unwrap()).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(body).unwrap()
    };
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    // 1.2.156.10197.1.301 (SM2 curve)
    assert!(contains(
        &der(KeyType::EcSm2),
        &[0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d]
    ));
    // 1.2.840.10045.3.1.7 (P-256)
    assert!(contains(
        &der(KeyType::EcP256),
        &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    ));
    // 1.3.132.0.10 (secp256k1)
    assert!(contains(&der(KeyType::EcP256k), &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]));
}

#[test]
fn invalid_material_is_an_error() {
    let junk = crate::KeyMaterial::from_bytes(&[0u8; 32]);
    for kind in [KeyType::EcP256, KeyType::EcP256k, KeyType::EcSm2, KeyType::Rsa2048] {
        assert_eq!(public_key_pem(kind, &junk), Err(crate::CryptoError::InvalidKeyMaterial));
    }
}
