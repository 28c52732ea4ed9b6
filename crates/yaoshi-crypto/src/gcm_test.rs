//! Known-answer tests for the raw GCM primitive: AES-GCM from McGrew and Viega, "The
//! Galois/Counter Mode of Operation (GCM)", appendix B (the test cases NIST SP 800-38D points to:
//! 1–4 AES-128, 7–10 AES-192, 13–16 AES-256), and SM4-GCM from RFC 8998 appendix A.1.

use crate::CryptoError;
use crate::gcm::{
    BlockCipher, NONCE_LEN, TAG_LEN, open_in_place, open_with_cipher, seal_in_place,
    seal_with_cipher,
};

struct Case {
    name: &'static str,
    key: &'static str,
    nonce: &'static str,
    plaintext: &'static str,
    aad: &'static str,
    ciphertext: &'static str,
    tag: &'static str,
}

const FEFFE_PT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                        1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const FEED_AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
/// The 64-byte plaintext of test cases 3, 9 and 15 (cases 4, 10 and 16 drop its last 4 bytes).
const FEFFE_PT64: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                          1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const FEFFE_NONCE: &str = "cafebabefacedbaddecaf888";

const CASES: &[Case] = &[
    Case {
        name: "test case 1 (aes-128, zero key, empty)",
        key: "00000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "",
        aad: "",
        ciphertext: "",
        tag: "58e2fccefa7e3061367f1d57a4e7455a",
    },
    Case {
        name: "test case 2 (aes-128, zero key)",
        key: "00000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "00000000000000000000000000000000",
        aad: "",
        ciphertext: "0388dace60b6a392f328c2b971b2fe78",
        tag: "ab6e47d42cec13bdf53a67b21257bddf",
    },
    Case {
        name: "test case 3 (aes-128, 64 bytes)",
        key: "feffe9928665731c6d6a8f9467308308",
        nonce: FEFFE_NONCE,
        plaintext: FEFFE_PT64,
        aad: "",
        ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                     21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
        tag: "4d5c2af327cd64a62cf35abd2ba6fab4",
    },
    Case {
        name: "test case 4 (aes-128, with aad)",
        key: "feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        plaintext: FEFFE_PT,
        aad: FEED_AAD,
        ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                     21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        tag: "5bc94fbc3221a5db94fae95ae7121a47",
    },
    Case {
        name: "test case 7 (aes-192, zero key, empty)",
        key: "000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "",
        aad: "",
        ciphertext: "",
        tag: "cd33b28ac773f74ba00ed1f312572435",
    },
    Case {
        name: "test case 8 (aes-192, zero key)",
        key: "000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "00000000000000000000000000000000",
        aad: "",
        ciphertext: "98e7247c07f0fe411c267e4384b0f600",
        tag: "2ff58d80033927ab8ef4d4587514f0fb",
    },
    Case {
        name: "test case 9 (aes-192, 64 bytes)",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c",
        nonce: FEFFE_NONCE,
        plaintext: FEFFE_PT64,
        aad: "",
        ciphertext: "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c\
                     7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
        tag: "9924a7c8587336bfb118024db8674a14",
    },
    Case {
        name: "test case 10 (aes-192, with aad)",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c",
        nonce: "cafebabefacedbaddecaf888",
        plaintext: FEFFE_PT,
        aad: FEED_AAD,
        ciphertext: "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c\
                     7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
        tag: "2519498e80f1478f37ba55bd6d27618c",
    },
    Case {
        name: "test case 13 (aes-256, zero key, empty)",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "",
        aad: "",
        ciphertext: "",
        tag: "530f8afbc74536b9a963b4f1c4cb738b",
    },
    Case {
        name: "test case 14 (aes-256, zero key)",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "00000000000000000000000000000000",
        aad: "",
        ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    Case {
        name: "test case 15 (aes-256, 64 bytes)",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: FEFFE_NONCE,
        plaintext: FEFFE_PT64,
        aad: "",
        ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        tag: "b094dac5d93471bdec1a502270e3cc6c",
    },
    Case {
        name: "test case 16 (aes-256, with aad)",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        plaintext: FEFFE_PT,
        aad: FEED_AAD,
        ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn nonce_of(case: &Case) -> [u8; NONCE_LEN] {
    unhex(case.nonce).try_into().unwrap()
}

fn tag_of(case: &Case) -> [u8; TAG_LEN] {
    unhex(case.tag).try_into().unwrap()
}

#[test]
fn seal_matches_known_answers() {
    for case in CASES {
        let mut buf = unhex(case.plaintext);
        let tag = seal_in_place(&unhex(case.key), &nonce_of(case), &unhex(case.aad), &mut buf)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(hex::encode(&buf), case.ciphertext, "{}", case.name);
        assert_eq!(hex::encode(tag), case.tag, "{}", case.name);
    }
}

#[test]
fn open_matches_known_answers() {
    for case in CASES {
        let mut buf = unhex(case.ciphertext);
        open_in_place(&unhex(case.key), &nonce_of(case), &unhex(case.aad), &mut buf, &tag_of(case))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(hex::encode(&buf), case.plaintext, "{}", case.name);
    }
}

#[test]
fn open_rejects_modified_tag_and_leaves_ciphertext() {
    for case in CASES {
        let mut tag = tag_of(case);
        tag[TAG_LEN - 1] ^= 0x01;
        let mut buf = unhex(case.ciphertext);
        let err =
            open_in_place(&unhex(case.key), &nonce_of(case), &unhex(case.aad), &mut buf, &tag)
                .unwrap_err();
        assert_eq!(err, CryptoError::AuthenticationFailed, "{}", case.name);
        assert_eq!(hex::encode(&buf), case.ciphertext, "{}", case.name);
    }
}

#[test]
fn other_key_lengths_are_rejected() {
    for len in [0, 1, 15, 17, 23, 25, 31, 33, 64] {
        let key = vec![0u8; len];
        let mut buf = vec![0u8; 4];
        assert_eq!(
            seal_in_place(&key, &[0; NONCE_LEN], b"", &mut buf),
            Err(CryptoError::InvalidKeyLength { len })
        );
        assert_eq!(
            open_in_place(&key, &[0; NONCE_LEN], b"", &mut buf, &[0; TAG_LEN]),
            Err(CryptoError::InvalidKeyLength { len })
        );
    }
}

/// RFC 8998 appendix A.1: SM4-GCM.
const SM4_CASE: Case = Case {
    name: "rfc 8998 a.1 (sm4-gcm)",
    key: "0123456789abcdeffedcba9876543210",
    nonce: "00001234567800000000abcd",
    plaintext: "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd\
                eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
    aad: FEED_AAD,
    ciphertext: "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735\
                 d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
    tag: "83de3541e4c2b58177e065a9bf7b62ec",
};

#[test]
fn sm4_gcm_matches_rfc_8998() {
    let case = &SM4_CASE;
    let mut buf = unhex(case.plaintext);
    let tag = seal_with_cipher(
        BlockCipher::Sm4,
        &unhex(case.key),
        &nonce_of(case),
        &unhex(case.aad),
        &mut buf,
    )
    .unwrap();
    assert_eq!(hex::encode(&buf), case.ciphertext);
    assert_eq!(hex::encode(tag), case.tag);

    open_with_cipher(
        BlockCipher::Sm4,
        &unhex(case.key),
        &nonce_of(case),
        &unhex(case.aad),
        &mut buf,
        &tag_of(case),
    )
    .unwrap();
    assert_eq!(hex::encode(&buf), case.plaintext);

    // A changed tag or AAD fails and leaves the ciphertext.
    let mut bad_tag = tag_of(case);
    bad_tag[0] ^= 0x80;
    let mut buf = unhex(case.ciphertext);
    let key = unhex(case.key);
    let err = open_with_cipher(
        BlockCipher::Sm4,
        &key,
        &nonce_of(case),
        &unhex(case.aad),
        &mut buf,
        &bad_tag,
    );
    assert_eq!(err, Err(CryptoError::AuthenticationFailed));
    let err =
        open_with_cipher(BlockCipher::Sm4, &key, &nonce_of(case), b"", &mut buf, &tag_of(case));
    assert_eq!(err, Err(CryptoError::AuthenticationFailed));
    assert_eq!(hex::encode(&buf), case.ciphertext);

    // The same key under AES gives a different ciphertext: the cipher really is SM4.
    let mut aes = unhex(case.plaintext);
    seal_with_cipher(BlockCipher::Aes, &key, &nonce_of(case), &unhex(case.aad), &mut aes).unwrap();
    assert_ne!(hex::encode(&aes), case.ciphertext);
}

#[test]
fn sm4_needs_a_16_byte_key() {
    for len in [0, 15, 17, 24, 32] {
        let key = vec![0u8; len];
        let mut buf = vec![0u8; 4];
        assert_eq!(
            seal_with_cipher(BlockCipher::Sm4, &key, &[0; NONCE_LEN], b"", &mut buf),
            Err(CryptoError::InvalidKeyLength { len })
        );
        assert_eq!(
            open_with_cipher(BlockCipher::Sm4, &key, &[0; NONCE_LEN], b"", &mut buf, &[0; TAG_LEN]),
            Err(CryptoError::InvalidKeyLength { len })
        );
    }
}
