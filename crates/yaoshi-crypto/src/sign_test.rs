//! Tests for asymmetric signatures and the SM2 digest, including the GB/T 32918 / GM/T 0003.5
//! example signature.

use std::sync::OnceLock;

use sha2::Digest;
use signature::{Signer, Verifier};

use crate::blob_test::TestRng;
use crate::{
    CryptoError, KeyMaterial, KeyType, SignAlgorithm, generate_key, public_key_pem, sign_digest,
    sm2_digest, sm2_digest_with_public_pem, verify_digest, verify_digest_with_public_pem,
};

pub(crate) const ASYMMETRIC: [KeyType; 5] =
    [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::EcP256, KeyType::EcP256k, KeyType::EcSm2];
pub(crate) const SYMMETRIC: [KeyType; 4] =
    [KeyType::Aes128, KeyType::Aes192, KeyType::Aes256, KeyType::Sm4];

/// One generated key per asymmetric type, shared by the tests (RSA generation is slow), and a
/// second one for wrong-key tests.
pub(crate) fn test_key(kind: KeyType, second: bool) -> KeyMaterial {
    static KEYS: OnceLock<Vec<(KeyType, KeyMaterial, KeyMaterial)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        ASYMMETRIC
            .iter()
            .map(|&k| (k, generate_key(k).unwrap(), generate_key(k).unwrap()))
            .collect()
    });
    let (_, first, other) = keys.iter().find(|(k, _, _)| *k == kind).unwrap();
    if second { other.clone() } else { first.clone() }
}

/// The algorithms each key type signs with.
fn algorithms(kind: KeyType) -> Vec<SignAlgorithm> {
    SignAlgorithm::ALL.into_iter().filter(|alg| alg.supports(kind)).collect()
}

fn digest_for(kind: KeyType, message: &[u8]) -> [u8; 32] {
    if kind == KeyType::EcSm2 {
        sm2_digest(&test_key(kind, false), message).unwrap()
    } else {
        sha2::Sha256::digest(message).into()
    }
}

#[test]
fn names_round_trip() {
    for alg in SignAlgorithm::ALL {
        assert_eq!(SignAlgorithm::from_name(alg.name()), Some(alg));
    }
    assert_eq!(SignAlgorithm::from_name("SM2DSA"), Some(SignAlgorithm::Sm2Dsa));
    assert_eq!(SignAlgorithm::from_name("ecdsa_sha_256"), None);
    assert_eq!(SignAlgorithm::from_name(""), None);
    // Each asymmetric key type has at least one algorithm; symmetric ones have none.
    assert_eq!(algorithms(KeyType::Rsa2048).len(), 2);
    assert_eq!(algorithms(KeyType::EcP256), vec![SignAlgorithm::EcdsaSha256]);
    assert_eq!(algorithms(KeyType::EcSm2), vec![SignAlgorithm::Sm2Dsa]);
    for kind in SYMMETRIC {
        assert!(algorithms(kind).is_empty());
    }
}

#[test]
fn sign_verify_round_trip_for_every_key_type_and_algorithm() {
    for kind in ASYMMETRIC {
        let key = test_key(kind, false);
        let pem = public_key_pem(kind, &key).unwrap();
        let digest = digest_for(kind, b"message to sign");
        for alg in algorithms(kind) {
            let sig = sign_digest(kind, alg, &key, &digest).unwrap();
            match kind {
                KeyType::Rsa2048 => assert_eq!(sig.len(), 256),
                KeyType::Rsa3072 => assert_eq!(sig.len(), 384),
                // DER SEQUENCE of two INTEGERs of at most 33 bytes each.
                _ => assert!(sig[0] == 0x30 && (8..=72).contains(&sig.len()), "{kind:?}"),
            }
            assert_eq!(verify_digest(kind, alg, &key, &digest, &sig), Ok(true), "{kind:?} {alg:?}");
            assert_eq!(verify_digest_with_public_pem(alg, &pem, &digest, &sig), Ok(true));

            // Another digest, another key, or a changed byte: not valid.
            let other = digest_for(kind, b"another message");
            assert_eq!(verify_digest(kind, alg, &key, &other, &sig), Ok(false));
            let wrong_key = test_key(kind, true);
            assert_eq!(verify_digest(kind, alg, &wrong_key, &digest, &sig), Ok(false));
            for i in [0, 1, 4, sig.len() / 2, sig.len() - 1] {
                let mut bad = sig.clone();
                bad[i] ^= 0x01;
                assert_eq!(verify_digest(kind, alg, &key, &digest, &bad), Ok(false), "byte {i}");
            }
            assert_eq!(verify_digest(kind, alg, &key, &digest, &sig[..sig.len() - 1]), Ok(false));
            let mut longer = sig.clone();
            longer.push(0);
            assert_eq!(verify_digest(kind, alg, &key, &digest, &longer), Ok(false));
            assert_eq!(verify_digest(kind, alg, &key, &digest, &[]), Ok(false));
        }
    }
}

#[test]
fn rsa_pss_is_randomized_and_pkcs1_is_deterministic() {
    let key = test_key(KeyType::Rsa2048, false);
    let digest = [7u8; 32];
    let sign = |alg| sign_digest(KeyType::Rsa2048, alg, &key, &digest).unwrap();
    assert_ne!(sign(SignAlgorithm::RsaPssSha256), sign(SignAlgorithm::RsaPssSha256));
    assert_eq!(sign(SignAlgorithm::RsaPkcs1Sha256), sign(SignAlgorithm::RsaPkcs1Sha256));
    // A PKCS#1 signature is not a PSS signature and the reverse.
    let pss = sign(SignAlgorithm::RsaPssSha256);
    let pkcs1 = sign(SignAlgorithm::RsaPkcs1Sha256);
    let verify = |alg, sig: &[u8]| verify_digest(KeyType::Rsa2048, alg, &key, &digest, sig);
    assert_eq!(verify(SignAlgorithm::RsaPkcs1Sha256, &pss), Ok(false));
    assert_eq!(verify(SignAlgorithm::RsaPssSha256, &pkcs1), Ok(false));
}

#[test]
fn wrong_algorithm_key_type_or_digest_length_is_an_error() {
    for kind in ASYMMETRIC {
        let key = test_key(kind, false);
        for alg in SignAlgorithm::ALL {
            if alg.supports(kind) {
                for len in [0, 20, 31, 33, 48, 64] {
                    let err = CryptoError::InvalidDigestLength { len };
                    assert_eq!(sign_digest(kind, alg, &key, &vec![1; len]), Err(err.clone()));
                    assert_eq!(verify_digest(kind, alg, &key, &vec![1; len], &[0x30]), Err(err));
                }
            } else {
                let err = CryptoError::UnsupportedAlgorithm;
                assert_eq!(sign_digest(kind, alg, &key, &[1; 32]), Err(err.clone()), "{alg:?}");
                assert_eq!(verify_digest(kind, alg, &key, &[1; 32], &[0x30]), Err(err));
            }
        }
    }
    for kind in SYMMETRIC {
        let key = generate_key(kind).unwrap();
        for alg in SignAlgorithm::ALL {
            assert_eq!(sign_digest(kind, alg, &key, &[1; 32]), Err(CryptoError::NotAsymmetric));
            assert_eq!(
                verify_digest(kind, alg, &key, &[1; 32], &[]),
                Err(CryptoError::NotAsymmetric)
            );
        }
    }
}

#[test]
fn invalid_material_is_an_error() {
    let zero = KeyMaterial::from_bytes(&[0u8; 32]);
    let rsa3072 = test_key(KeyType::Rsa3072, false);
    for kind in ASYMMETRIC {
        for alg in algorithms(kind) {
            let err = CryptoError::InvalidKeyMaterial;
            assert_eq!(sign_digest(kind, alg, &zero, &[1; 32]), Err(err.clone()));
            assert_eq!(verify_digest(kind, alg, &zero, &[1; 32], &[0x30]), Err(err));
        }
    }
    // An RSA-3072 key is not an RSA-2048 key.
    assert_eq!(
        sign_digest(KeyType::Rsa2048, SignAlgorithm::RsaPssSha256, &rsa3072, &[1; 32]),
        Err(CryptoError::InvalidKeyMaterial)
    );
}

#[test]
fn public_pem_verification_checks_the_key_type() {
    let p256 = public_key_pem(KeyType::EcP256, &test_key(KeyType::EcP256, false)).unwrap();
    let rsa = public_key_pem(KeyType::Rsa2048, &test_key(KeyType::Rsa2048, false)).unwrap();
    let bad = Err(CryptoError::InvalidPublicKey);
    assert_eq!(verify_digest_with_public_pem(SignAlgorithm::Sm2Dsa, &p256, &[0; 32], &[]), bad);
    assert_eq!(verify_digest_with_public_pem(SignAlgorithm::EcdsaSha256, &rsa, &[0; 32], &[]), bad);
    assert_eq!(
        verify_digest_with_public_pem(SignAlgorithm::RsaPssSha256, "not a pem", &[0; 32], &[]),
        bad
    );
    assert_eq!(
        verify_digest_with_public_pem(SignAlgorithm::EcdsaSha256, &p256, &[0; 31], &[]),
        Err(CryptoError::InvalidDigestLength { len: 31 })
    );
}

#[test]
fn high_s_ecdsa_signatures_verify() {
    // (r, n - s) is as valid as (r, s); OpenSSL emits either. k256 alone would refuse high s.
    for kind in [KeyType::EcP256k, KeyType::EcP256] {
        let key = test_key(kind, false);
        let digest = [9u8; 32];
        let mut seen_high = false;
        for _ in 0..8 {
            let der = sign_digest(kind, SignAlgorithm::EcdsaSha256, &key, &digest).unwrap();
            let flipped = if kind == KeyType::EcP256k {
                let sig = k256::ecdsa::Signature::from_der(&der).unwrap();
                let (r, s) = sig.split_scalars();
                let high =
                    k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
                seen_high |= high.normalize_s() != high;
                high.to_der().as_bytes().to_vec()
            } else {
                let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
                let (r, s) = sig.split_scalars();
                p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())
                    .unwrap()
                    .to_der()
                    .as_bytes()
                    .to_vec()
            };
            let verify = |sig: &[u8]| {
                verify_digest(kind, SignAlgorithm::EcdsaSha256, &key, &digest, sig).unwrap()
            };
            assert!(verify(&der), "{kind:?}");
            assert!(verify(&flipped), "{kind:?}");
        }
        if kind == KeyType::EcP256k {
            // k256 signs low-s, so every flipped signature was high-s.
            assert!(seen_high);
        }
    }
}

#[test]
fn random_signatures_never_verify_or_panic() {
    let mut rng = TestRng::new(11);
    for kind in ASYMMETRIC {
        let key = test_key(kind, false);
        let digest = digest_for(kind, b"m");
        for alg in algorithms(kind) {
            let valid = sign_digest(kind, alg, &key, &digest).unwrap();
            for round in 0..300 {
                let junk = if round % 2 == 0 {
                    let len = rng.below(valid.len() + 20);
                    let mut v = rng.bytes(len);
                    if round % 4 == 0 && !v.is_empty() {
                        v[0] = 0x30;
                    }
                    v
                } else {
                    let mut v = valid.clone();
                    let i = rng.below(v.len());
                    v[i] = v[i].wrapping_add(1 + rng.below(255) as u8);
                    let keep = rng.below(v.len() + 1);
                    if round % 3 == 0 {
                        v.truncate(keep);
                    }
                    v
                };
                assert_eq!(verify_digest(kind, alg, &key, &digest, &junk), Ok(false));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SM2
// ---------------------------------------------------------------------------------------------

/// The signature example of GM/T 0003.5-2012 / GB/T 32918.5-2017 (recommended curve), with the
/// default identifier.
const EXAMPLE_D: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
const EXAMPLE_XA: &str = "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020";
const EXAMPLE_YA: &str = "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
const EXAMPLE_ZA: &str = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3";
const EXAMPLE_E: &str = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640";
const EXAMPLE_R: &str = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3";
const EXAMPLE_S: &str = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

fn example_key() -> KeyMaterial {
    KeyMaterial::from_bytes(&hex::decode(EXAMPLE_D).unwrap())
}

fn example_signature_der() -> Vec<u8> {
    let r: [u8; 32] = hex::decode(EXAMPLE_R).unwrap().try_into().unwrap();
    let s: [u8; 32] = hex::decode(EXAMPLE_S).unwrap().try_into().unwrap();
    sm2::dsa::Signature::from_scalars(r, s).unwrap().to_der().as_bytes().to_vec()
}

#[test]
fn sm2_example_public_key_z_a_and_e_match_the_standard() {
    let secret = sm2::SecretKey::from_slice(&hex::decode(EXAMPLE_D).unwrap()).unwrap();
    let public = secret.public_key();
    let point = sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&public, false);
    assert_eq!(hex::encode(point.as_bytes()), format!("04{EXAMPLE_XA}{EXAMPLE_YA}"));
    assert_eq!(hex::encode(crate::sign::sm2_z(&public, b"1234567812345678")), EXAMPLE_ZA);
    assert_eq!(hex::encode(sm2_digest(&example_key(), b"message digest").unwrap()), EXAMPLE_E);
}

#[test]
fn sm2_example_signature_verifies() {
    let key = example_key();
    let e = sm2_digest(&key, b"message digest").unwrap();
    let sig = example_signature_der();
    assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e, &sig), Ok(true));
    let pem = public_key_pem(KeyType::EcSm2, &key).unwrap();
    assert_eq!(verify_digest_with_public_pem(SignAlgorithm::Sm2Dsa, &pem, &e, &sig), Ok(true));
    // SM3 of the bare message is not the SM2 digest: the signature does not verify over it.
    let bare = crate::sm3(b"message digest");
    assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &bare, &sig), Ok(false));
    // Nor over another message.
    let other = sm2_digest(&key, b"message digesT").unwrap();
    assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &other, &sig), Ok(false));
    // Our own signature over the example digest verifies too, and is randomized.
    let ours = sign_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e).unwrap();
    assert_ne!(ours, sig);
    assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e, &ours), Ok(true));
}

#[test]
fn sm2_digest_agrees_with_the_sm2_crate_message_api() {
    // The sm2 crate computes Z_A internally when signing a whole message; our digest must be the
    // same e, in both directions.
    let key = test_key(KeyType::EcSm2, false);
    let secret = sm2::SecretKey::from_slice(key.as_bytes()).unwrap();
    let signing = sm2::dsa::SigningKey::new("1234567812345678", &secret).unwrap();
    for message in [&b""[..], b"abc", &[0x5a; 1000]] {
        let e = sm2_digest(&key, message).unwrap();
        let theirs: sm2::dsa::Signature = signing.sign(message);
        let der = theirs.to_der().as_bytes().to_vec();
        assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e, &der), Ok(true));

        let ours = sign_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e).unwrap();
        let parsed = sm2::dsa::Signature::from_der(&ours).unwrap();
        assert!(signing.verifying_key().verify(message, &parsed).is_ok());
    }
    let pem = public_key_pem(KeyType::EcSm2, &key).unwrap();
    assert_eq!(sm2_digest_with_public_pem(&pem, b"abc"), sm2_digest(&key, b"abc"));
    assert_eq!(sm2_digest_with_public_pem("junk", b"abc"), Err(CryptoError::InvalidPublicKey));
    assert_eq!(
        sm2_digest(&KeyMaterial::from_bytes(&[0; 32]), b"abc"),
        Err(CryptoError::InvalidKeyMaterial)
    );
}

#[test]
fn a_parsed_signing_key_signs_repeatedly_like_sign_digest() {
    let digest = [9u8; 32];
    for (kind, alg) in [
        (KeyType::Rsa2048, SignAlgorithm::RsaPssSha256),
        (KeyType::Rsa2048, SignAlgorithm::RsaPkcs1Sha256),
        (KeyType::EcP256, SignAlgorithm::EcdsaSha256),
        (KeyType::EcP256k, SignAlgorithm::EcdsaSha256),
        (KeyType::EcSm2, SignAlgorithm::Sm2Dsa),
    ] {
        let material = generate_key(kind).unwrap();
        let key = crate::SigningKey::from_material(kind, &material).unwrap();
        assert_eq!(key.kind(), kind);
        for _ in 0..3 {
            let sig = key.sign(alg, &digest).unwrap();
            assert_eq!(verify_digest(kind, alg, &material, &digest, &sig), Ok(true), "{kind:?}");
        }
        // The same request checks as sign_digest: a short digest, an algorithm of another type.
        assert!(key.sign(alg, &digest[..31]).is_err());
        let rsa = matches!(kind, KeyType::Rsa2048 | KeyType::Rsa3072);
        let other = if rsa { SignAlgorithm::Sm2Dsa } else { SignAlgorithm::RsaPssSha256 };
        assert!(key.sign(other, &digest).is_err(), "{kind:?} signed with {other:?}");
    }
    let aes = generate_key(KeyType::Aes256).unwrap();
    assert_eq!(
        crate::SigningKey::from_material(KeyType::Aes256, &aes).unwrap_err(),
        CryptoError::InvalidKeyMaterial
    );
    let p256 = generate_key(KeyType::EcP256).unwrap();
    assert!(crate::SigningKey::from_material(KeyType::Rsa2048, &p256).is_err());
}
