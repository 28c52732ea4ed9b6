//! Known-answer tests for the raw AES-GCM primitive, from McGrew and Viega, "The Galois/Counter
//! Mode of Operation (GCM)", appendix B (the test cases NIST SP 800-38D points to).

use crate::CryptoError;
use crate::gcm::{NONCE_LEN, TAG_LEN, open_in_place, seal_in_place};

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

const CASES: &[Case] = &[
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
        name: "test case 14 (aes-256, zero key)",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        plaintext: "00000000000000000000000000000000",
        aad: "",
        ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
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
