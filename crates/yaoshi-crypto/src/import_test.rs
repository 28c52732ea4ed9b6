//! Tests for unwrapping imported key material (BYOK): RSA and SM2 wrappings round-trip.

use rsa::{Oaep, Pkcs1v15Encrypt};

use crate::keygen::rsa_private_key;
use crate::random::os_rng;
use crate::{CryptoError, KeyMaterial, KeyType, generate_key, unwrap_imported_material};

fn rsa_wrap(private: &KeyMaterial, algorithm: &str, material: &[u8]) -> Vec<u8> {
    let public = rsa_private_key(private).unwrap().to_public_key();
    let mut rng = os_rng();
    match algorithm {
        "RSAES_PKCS1_V1_5" => public.encrypt(&mut rng, Pkcs1v15Encrypt, material),
        "RSAES_OAEP_SHA_1" => public.encrypt(&mut rng, Oaep::<sha1::Sha1>::new(), material),
        _ => public.encrypt(&mut rng, Oaep::<sha2::Sha256>::new(), material),
    }
    .unwrap()
}

#[test]
fn rsa_import_round_trips() {
    let private = generate_key(KeyType::Rsa2048).unwrap();
    let material = [0x5au8; 32];
    for algorithm in ["RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] {
        let wrapped = rsa_wrap(&private, algorithm, &material);
        let out =
            unwrap_imported_material(KeyType::Rsa2048, algorithm, &private, &wrapped).unwrap();
        assert_eq!(out.as_bytes(), &material, "{algorithm}");
    }
    // OAEP under the wrong hash, a tampered ciphertext, junk: one error.
    let wrapped = rsa_wrap(&private, "RSAES_OAEP_SHA_256", &material);
    let r = unwrap_imported_material(KeyType::Rsa2048, "RSAES_OAEP_SHA_1", &private, &wrapped);
    assert_eq!(r.err(), Some(CryptoError::DecryptionFailed));
    let mut tampered = wrapped.clone();
    tampered[10] ^= 1;
    let r = unwrap_imported_material(KeyType::Rsa2048, "RSAES_OAEP_SHA_256", &private, &tampered);
    assert_eq!(r.err(), Some(CryptoError::DecryptionFailed));
    for junk in [&[][..], &[1u8; 3][..], &[0xffu8; 256][..], &[0u8; 300][..]] {
        for algorithm in ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "BOGUS"] {
            let r = unwrap_imported_material(KeyType::Rsa2048, algorithm, &private, junk);
            assert_eq!(r.err(), Some(CryptoError::DecryptionFailed), "{algorithm}");
        }
        // PKCS#1 v1.5 never reveals a padding failure: implicit rejection gives some message,
        // never the imported material.
        if let Ok(m) =
            unwrap_imported_material(KeyType::Rsa2048, "RSAES_PKCS1_V1_5", &private, junk)
        {
            assert_ne!(m.as_bytes(), &material);
        }
    }
}

#[test]
fn sm2_import_round_trips() {
    let private = generate_key(KeyType::EcSm2).unwrap();
    let secret = sm2::SecretKey::from_slice(private.as_bytes()).unwrap();
    let public = sm2::pke::EncryptingKey::new(secret.public_key());
    let material = [0xa5u8; 16];
    let wrapped = public.encrypt_der(&mut os_rng(), &material).unwrap();
    let out = unwrap_imported_material(KeyType::EcSm2, "SM2PKE", &private, &wrapped).unwrap();
    assert_eq!(out.as_bytes(), &material);
    let mut tampered = wrapped.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let r = unwrap_imported_material(KeyType::EcSm2, "SM2PKE", &private, &tampered);
    assert_eq!(r.err(), Some(CryptoError::DecryptionFailed));
    let r = unwrap_imported_material(KeyType::EcSm2, "RSAES_OAEP_SHA_1", &private, &wrapped);
    assert_eq!(r.err(), Some(CryptoError::DecryptionFailed));
    let r = unwrap_imported_material(KeyType::EcSm2, "SM2PKE", &private, &[0x30, 0x03, 1, 2, 3]);
    assert_eq!(r.err(), Some(CryptoError::DecryptionFailed));
}
