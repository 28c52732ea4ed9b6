//! Tests for asymmetric encryption: round trips, plaintext limits, wrong algorithms and keys, and
//! one indistinguishable error for every bad ciphertext.

use rsa::Pkcs1v15Encrypt;

use crate::blob_test::TestRng;
use crate::keygen::rsa_private_key;
use crate::random::os_rng;
use crate::sign_test::{ASYMMETRIC, SYMMETRIC, test_key};
use crate::{
    CryptoError, EncryptAlgorithm, KeyMaterial, KeyType, SM2PKE_MAX_PLAINTEXT, asymmetric_decrypt,
    asymmetric_encrypt, encrypt_to_public_pem, public_key_pem, public_pem_key_type,
};

const FAILED: Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> = Err(CryptoError::DecryptionFailed);

/// The algorithms each key type encrypts with.
fn algorithms(kind: KeyType) -> Vec<EncryptAlgorithm> {
    EncryptAlgorithm::ALL.into_iter().filter(|alg| alg.can_encrypt(kind)).collect()
}

#[test]
fn names_and_limits() {
    for alg in EncryptAlgorithm::ALL {
        assert_eq!(EncryptAlgorithm::from_name(alg.name()), Some(alg));
    }
    assert_eq!(EncryptAlgorithm::from_name("sm2pke"), None);
    use EncryptAlgorithm::*;
    let limits = [
        (KeyType::Rsa2048, RsaesOaepSha256, Some(190)),
        (KeyType::Rsa2048, RsaesOaepSha1, Some(214)),
        (KeyType::Rsa3072, RsaesOaepSha256, Some(318)),
        (KeyType::Rsa3072, RsaesOaepSha1, Some(342)),
        (KeyType::EcSm2, Sm2Pke, Some(6047)),
        (KeyType::Rsa2048, RsaesPkcs1V15, None),
        (KeyType::Rsa2048, Sm2Pke, None),
        (KeyType::EcSm2, RsaesOaepSha256, None),
        (KeyType::EcP256, RsaesOaepSha256, None),
        (KeyType::EcP256k, Sm2Pke, None),
        (KeyType::Aes256, RsaesOaepSha256, None),
    ];
    for (kind, alg, max) in limits {
        assert_eq!(alg.max_plaintext_len(kind), max, "{kind:?} {alg:?}");
    }
    assert!(RsaesPkcs1V15.can_decrypt(KeyType::Rsa2048));
    assert!(!RsaesPkcs1V15.can_decrypt(KeyType::Rsa3072));
    assert!(!RsaesPkcs1V15.can_encrypt(KeyType::Rsa2048));
}

#[test]
fn round_trip_at_every_length_edge() {
    for kind in [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::EcSm2] {
        let key = test_key(kind, false);
        for alg in algorithms(kind) {
            let max = alg.max_plaintext_len(kind).unwrap();
            let min = usize::from(alg == EncryptAlgorithm::Sm2Pke);
            for len in [min, min + 1, 32, max - 1, max] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let ct = asymmetric_encrypt(kind, alg, &key, &plaintext).unwrap();
                match kind {
                    KeyType::Rsa2048 => assert_eq!(ct.len(), 256),
                    KeyType::Rsa3072 => assert_eq!(ct.len(), 384),
                    // DER: SEQUENCE header, two INTEGERs, a 32-byte OCTET STRING, C2.
                    _ => assert!(ct[0] == 0x30 && ct.len() > 97 + len && ct.len() <= 112 + len),
                }
                let back = asymmetric_decrypt(kind, alg, &key, &ct).unwrap();
                assert_eq!(&back[..], &plaintext[..], "{kind:?} {alg:?} {len}");
                // Encryption is randomized.
                assert_ne!(asymmetric_encrypt(kind, alg, &key, &plaintext).unwrap(), ct);
            }
            let too_long = vec![0u8; max + 1];
            assert_eq!(
                asymmetric_encrypt(kind, alg, &key, &too_long),
                Err(CryptoError::PlaintextTooLong { len: max + 1, max })
            );
        }
    }
    assert_eq!(
        asymmetric_encrypt(
            KeyType::EcSm2,
            EncryptAlgorithm::Sm2Pke,
            &test_key(KeyType::EcSm2, false),
            b""
        ),
        Err(CryptoError::EmptyPlaintext)
    );
    assert_eq!(SM2PKE_MAX_PLAINTEXT, 6047);
}

#[test]
fn wrong_algorithm_or_key_type_is_an_error() {
    for kind in ASYMMETRIC {
        let key = test_key(kind, false);
        for alg in EncryptAlgorithm::ALL {
            if !alg.can_encrypt(kind) {
                assert_eq!(
                    asymmetric_encrypt(kind, alg, &key, b"x"),
                    Err(CryptoError::UnsupportedAlgorithm),
                    "{kind:?} {alg:?}"
                );
            }
            if !alg.can_decrypt(kind) {
                assert_eq!(
                    asymmetric_decrypt(kind, alg, &key, &[0u8; 256]),
                    Err(CryptoError::UnsupportedAlgorithm),
                    "{kind:?} {alg:?}"
                );
            }
        }
    }
    for kind in SYMMETRIC {
        let key = crate::generate_key(kind).unwrap();
        for alg in EncryptAlgorithm::ALL {
            assert_eq!(asymmetric_encrypt(kind, alg, &key, b"x"), Err(CryptoError::NotAsymmetric));
            assert_eq!(asymmetric_decrypt(kind, alg, &key, b"x"), Err(CryptoError::NotAsymmetric));
        }
    }
    let zero = KeyMaterial::from_bytes(&[0u8; 32]);
    for kind in [KeyType::Rsa2048, KeyType::EcSm2] {
        for alg in algorithms(kind) {
            assert_eq!(
                asymmetric_encrypt(kind, alg, &zero, b"x"),
                Err(CryptoError::InvalidKeyMaterial)
            );
            assert_eq!(
                asymmetric_decrypt(kind, alg, &zero, b"x"),
                Err(CryptoError::InvalidKeyMaterial)
            );
        }
    }
    // RSA-3072 material is not an RSA-2048 key.
    let rsa3072 = test_key(KeyType::Rsa3072, false);
    assert_eq!(
        asymmetric_encrypt(KeyType::Rsa2048, EncryptAlgorithm::RsaesOaepSha256, &rsa3072, b"x"),
        Err(CryptoError::InvalidKeyMaterial)
    );
}

#[test]
fn every_bad_ciphertext_gives_the_same_error() {
    let mut rng = TestRng::new(5);
    for kind in [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::EcSm2] {
        let key = test_key(kind, false);
        let other_key = test_key(kind, true);
        for alg in algorithms(kind) {
            let ct = asymmetric_encrypt(kind, alg, &key, b"attack at dawn").unwrap();
            // The wrong key.
            assert_eq!(asymmetric_decrypt(kind, alg, &other_key, &ct), FAILED);
            // Changed bytes: SM2's DER structure, C1, C3 and C2, or anywhere in an RSA block.
            let positions: Vec<usize> = if kind == KeyType::EcSm2 {
                (0..ct.len()).collect()
            } else {
                vec![0, 1, 2, 100, ct.len() / 2, ct.len() - 1]
            };
            for i in positions {
                let mut bad = ct.clone();
                bad[i] ^= 0x01;
                assert_eq!(asymmetric_decrypt(kind, alg, &key, &bad), FAILED, "{alg:?} byte {i}");
            }
            // Truncated, extended, empty, junk.
            for len in [0, 1, ct.len() / 2, ct.len() - 1] {
                assert_eq!(asymmetric_decrypt(kind, alg, &key, &ct[..len]), FAILED);
            }
            let mut longer = ct.clone();
            longer.push(0);
            assert_eq!(asymmetric_decrypt(kind, alg, &key, &longer), FAILED);
            for round in 0..200 {
                let len = if round % 2 == 0 { ct.len() } else { rng.below(ct.len() + 40) };
                let mut junk = rng.bytes(len);
                if round % 4 == 1 && !junk.is_empty() {
                    junk[0] = [0x30, 0x04][round % 8 / 4];
                }
                assert_eq!(asymmetric_decrypt(kind, alg, &key, &junk), FAILED);
            }
        }
        if kind != KeyType::EcSm2 {
            // OAEP under the other hash.
            let ct =
                asymmetric_encrypt(kind, EncryptAlgorithm::RsaesOaepSha256, &key, b"x").unwrap();
            assert_eq!(
                asymmetric_decrypt(kind, EncryptAlgorithm::RsaesOaepSha1, &key, &ct),
                FAILED
            );
        }
    }
    let err = CryptoError::DecryptionFailed;
    assert_eq!(err.to_string(), "decryption failed");
}

#[test]
fn sm2_accepts_der_and_raw_c1c3c2_only() {
    let key = test_key(KeyType::EcSm2, false);
    let der = asymmetric_encrypt(KeyType::EcSm2, EncryptAlgorithm::Sm2Pke, &key, b"hello").unwrap();
    let cipher: sm2::pke::Cipher<'_> =
        sm2::pkcs8::der::Decode::from_der(&der).expect("our output is GM/T 0009 DER");
    assert_eq!(cipher.c2().len(), 5);
    let raw = cipher.to_vec(sm2::pke::Mode::C1C3C2, false).unwrap();
    assert_eq!(raw.len(), 65 + 32 + 5);
    assert_eq!(raw[0], 0x04);
    let decrypt =
        |ct: &[u8]| asymmetric_decrypt(KeyType::EcSm2, EncryptAlgorithm::Sm2Pke, &key, ct);
    assert_eq!(&decrypt(&raw).unwrap()[..], b"hello");
    // The old C1C2C3 order and compressed C1 are not accepted.
    let old_order = cipher.to_vec(sm2::pke::Mode::C1C2C3, false).unwrap();
    assert_eq!(decrypt(&old_order), FAILED);
    let compressed = cipher.to_vec(sm2::pke::Mode::C1C3C2, true).unwrap();
    assert_eq!(decrypt(&compressed), FAILED);
    // The sm2 crate's own decryption agrees with ours on our ciphertexts.
    let secret = sm2::SecretKey::from_slice(key.as_bytes()).unwrap();
    let theirs = sm2::pke::DecryptingKey::new(secret);
    assert_eq!(theirs.decrypt_der(&der).unwrap(), b"hello");
    assert_eq!(theirs.decrypt(&raw).unwrap(), b"hello");
    // A DER ciphertext with an empty C2 is refused (SM2 needs klen > 0).
    let empty = [
        &[0x30, 0x46, 0x02, 0x20][..],
        &raw[1..33],
        &[0x02, 0x20],
        &raw[33..65],
        &[0x04, 0x20],
        &raw[65..97],
        &[0x04, 0x00],
    ]
    .concat();
    assert_eq!(decrypt(&empty), FAILED);
}

#[test]
fn pkcs1_v15_decryption_uses_implicit_rejection() {
    let key = test_key(KeyType::Rsa2048, false);
    let public = rsa_private_key(&key).unwrap().to_public_key();
    let alg = EncryptAlgorithm::RsaesPkcs1V15;
    let material = [0x42u8; 32];
    let ct = public.encrypt(&mut os_rng(), Pkcs1v15Encrypt, &material).unwrap();
    let decrypt = |ct: &[u8]| asymmetric_decrypt(KeyType::Rsa2048, alg, &key, ct);
    assert_eq!(&decrypt(&ct).unwrap()[..], &material);
    // A damaged ciphertext of the right length is not an error: it decrypts to a deterministic
    // pseudorandom message, never the real one.
    let mut bad = ct.clone();
    bad[10] ^= 0x01;
    let synthetic = decrypt(&bad).unwrap();
    assert_ne!(&synthetic[..], &material);
    assert_eq!(decrypt(&bad).unwrap(), synthetic);
    // Wrong lengths are errors (the length is public).
    assert_eq!(decrypt(&ct[..255]), FAILED);
    assert_eq!(decrypt(&[]), FAILED);
    // An all-0xff block is larger than the modulus: an error too.
    assert_eq!(decrypt(&[0xff; 256]), FAILED);
}

#[test]
fn encryption_to_public_pem() {
    for (kind, alg) in [
        (KeyType::Rsa2048, EncryptAlgorithm::RsaesOaepSha256),
        (KeyType::Rsa2048, EncryptAlgorithm::RsaesOaepSha1),
        (KeyType::Rsa3072, EncryptAlgorithm::RsaesOaepSha256),
        (KeyType::EcSm2, EncryptAlgorithm::Sm2Pke),
    ] {
        let key = test_key(kind, false);
        let pem = public_key_pem(kind, &key).unwrap();
        assert_eq!(public_pem_key_type(&pem), Ok(kind));
        let data_key = [0x17u8; 32];
        let ct = encrypt_to_public_pem(alg, &pem, &data_key).unwrap();
        assert_eq!(&asymmetric_decrypt(kind, alg, &key, &ct).unwrap()[..], &data_key);
        let max = alg.max_plaintext_len(kind).unwrap();
        assert!(encrypt_to_public_pem(alg, &pem, &vec![1; max]).is_ok());
        assert_eq!(
            encrypt_to_public_pem(alg, &pem, &vec![1; max + 1]),
            Err(CryptoError::PlaintextTooLong { len: max + 1, max })
        );
    }
    for kind in [KeyType::EcP256, KeyType::EcP256k] {
        let pem = public_key_pem(kind, &test_key(kind, false)).unwrap();
        assert_eq!(public_pem_key_type(&pem), Ok(kind));
        for alg in [EncryptAlgorithm::RsaesOaepSha256, EncryptAlgorithm::Sm2Pke] {
            assert_eq!(encrypt_to_public_pem(alg, &pem, b"x"), Err(CryptoError::InvalidPublicKey));
        }
    }
    let rsa = public_key_pem(KeyType::Rsa2048, &test_key(KeyType::Rsa2048, false)).unwrap();
    let sm2 = public_key_pem(KeyType::EcSm2, &test_key(KeyType::EcSm2, false)).unwrap();
    let bad = Err(CryptoError::InvalidPublicKey);
    assert_eq!(encrypt_to_public_pem(EncryptAlgorithm::Sm2Pke, &rsa, b"x"), bad);
    assert_eq!(encrypt_to_public_pem(EncryptAlgorithm::RsaesOaepSha1, &sm2, b"x"), bad);
    assert_eq!(encrypt_to_public_pem(EncryptAlgorithm::RsaesOaepSha1, "", b"x"), bad);
    assert_eq!(
        public_pem_key_type("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        Err(CryptoError::InvalidPublicKey)
    );
    assert_eq!(
        encrypt_to_public_pem(EncryptAlgorithm::RsaesPkcs1V15, &rsa, b"x"),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    assert_eq!(
        encrypt_to_public_pem(EncryptAlgorithm::Sm2Pke, &sm2, b""),
        Err(CryptoError::EmptyPlaintext)
    );
}
