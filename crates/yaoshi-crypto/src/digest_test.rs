//! Known-answer tests for SM3 (GB/T 32905-2016 appendix A), HMAC-SHA256 (RFC 4231) and HMAC-SM3.

use sm3::Digest;

use crate::{
    constant_time_eq, hmac_sha256, hmac_sm3, sha256, sm3, verify_hmac_sha256, verify_hmac_sm3,
};

#[test]
fn sm3_matches_gbt_32905_examples() {
    // Example 1: "abc".
    assert_eq!(
        hex::encode(sm3(b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    // Example 2: "abcd" repeated 16 times (64 bytes, two blocks after padding).
    assert_eq!(
        hex::encode(sm3("abcd".repeat(16).as_bytes())),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

#[test]
fn sha256_matches_fips_180_example() {
    assert_eq!(
        hex::encode(sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn hmac_sha256_matches_rfc_4231() {
    // Test case 1.
    assert_eq!(
        hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2: a key shorter than the output.
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: a key longer than the block, hashed first.
    assert_eq!(
        hex::encode(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

/// HMAC per RFC 2104, written out over SM3, as an independent check of the `hmac` wiring.
fn reference_hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&sm3::Sm3::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = sm3::Sm3::new().chain_update(&ipad).chain_update(data).finalize();
    sm3::Sm3::new().chain_update(&opad).chain_update(inner).finalize().into()
}

#[test]
fn hmac_sm3_matches_references() {
    // Values computed with Python `cryptography` (OpenSSL's HMAC over SM3).
    assert_eq!(
        hex::encode(hmac_sm3(b"key-hmac-sm3", b"The quick brown fox")),
        "8d2ede42202a79d411696954fc94bfdf8156e0b29d4beadbb9b6ea1fabf35d3a"
    );
    assert_eq!(
        hex::encode(hmac_sm3(&[b'k'; 100], b"")),
        "2d576bdc4da7785b340213b647715b9f148511da717c2bf00eb1968e04d23ccc"
    );
    for (key_len, data_len) in [(0, 0), (1, 1), (32, 100), (63, 64), (64, 65), (65, 1000), (200, 3)]
    {
        let key: Vec<u8> = (0..key_len).map(|i| i as u8).collect();
        let data: Vec<u8> = (0..data_len).map(|i| (i * 7) as u8).collect();
        assert_eq!(hmac_sm3(&key, &data), reference_hmac_sm3(&key, &data), "{key_len}/{data_len}");
    }
}

#[test]
fn hmac_verification_is_exact() {
    let key = b"secret key";
    let data = b"message";
    for (tag, verify) in [
        (hmac_sm3(key, data), verify_hmac_sm3 as fn(&[u8], &[u8], &[u8]) -> bool),
        (hmac_sha256(key, data), verify_hmac_sha256),
    ] {
        assert!(verify(key, data, &tag));
        assert!(!verify(b"other key", data, &tag));
        assert!(!verify(key, b"other message", &tag));
        for i in 0..tag.len() {
            let mut bad = tag;
            bad[i] ^= 0x01;
            assert!(!verify(key, data, &bad), "byte {i}");
        }
        assert!(!verify(key, data, &tag[..31]));
        assert!(!verify(key, data, &[]));
        let mut longer = tag.to_vec();
        longer.push(0);
        assert!(!verify(key, data, &longer));
    }
    // The two MACs differ.
    assert_ne!(hmac_sm3(key, data), hmac_sha256(key, data));
}

#[test]
fn constant_time_eq_compares_bytes_and_lengths() {
    assert!(constant_time_eq(b"", b""));
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}
