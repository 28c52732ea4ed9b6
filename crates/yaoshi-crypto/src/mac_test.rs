//! Known-answer tests for the MACs of HMAC keys: RFC 4231 for HMAC-SHA256, and for HMAC-SM3
//! values computed independently in Python with gmssl's SM3 (`gmssl==3.2.2`, the compat venv's)
//! and RFC 2104's ipad/opad written out by hand:
//!
//! ```text
//! def h(b): return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(b)))
//! def hmac_sm3(k, m):
//!     if len(k) > 64: k = h(k)
//!     k = k.ljust(64, b"\0")
//!     return h(bytes(x ^ 0x5c for x in k) + h(bytes(x ^ 0x36 for x in k) + m))
//! ```

use crate::{CryptoError, KeyMaterial, KeyType, MAC_LEN, generate_key, mac, verify_mac};

fn key(bytes: &[u8]) -> KeyMaterial {
    KeyMaterial::from_bytes(bytes)
}

fn hex_mac(kind: KeyType, k: &[u8], data: &[u8]) -> String {
    hex::encode(mac(kind, &key(k), data).unwrap())
}

#[test]
fn hmac_sha256_matches_rfc_4231() {
    // Test case 1.
    assert_eq!(
        hex_mac(KeyType::HmacSha256, &[0x0b; 20], b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2.
    assert_eq!(
        hex_mac(KeyType::HmacSha256, b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 4.
    let k: Vec<u8> = (1..=25).collect();
    assert_eq!(
        hex_mac(KeyType::HmacSha256, &k, &[0xcd; 50]),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
    );
    // Test case 6: a key longer than the block, hashed first.
    assert_eq!(
        hex_mac(
            KeyType::HmacSha256,
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    // A 32-byte key, as HMAC keys have (Python `hmac` + `hashlib.sha256`).
    let k: Vec<u8> = (0..32).collect();
    assert_eq!(
        hex_mac(KeyType::HmacSha256, &k, b"yaoshi GenerateMac"),
        "6d77d271b9d12e858fd3c9140dedfcf0a9983b8e3579cf6ca847cd96cac138fc"
    );
}

#[test]
fn hmac_sm3_matches_gmssl() {
    let k: Vec<u8> = (0..32).collect();
    assert_eq!(
        hex_mac(KeyType::HmacSm3, &k, b"yaoshi GenerateMac"),
        "867bf12def4992dc53561ef32c442cdff9ac5b5f5ecc697e9b5d9923b5d59662"
    );
    assert_eq!(
        hex_mac(KeyType::HmacSm3, &[0x0b; 20], b"Hi There"),
        "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"
    );
    assert_eq!(
        hex_mac(
            KeyType::HmacSm3,
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "b4fd844e13342002f0b2e0690ea7741f1497d993a70494cea601e657bedf67a0"
    );
}

#[test]
fn generated_hmac_keys_are_32_random_bytes() {
    for kind in [KeyType::HmacSm3, KeyType::HmacSha256] {
        let a = generate_key(kind).unwrap();
        let b = generate_key(kind).unwrap();
        assert_eq!((a.len(), b.len()), (32, 32));
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert!(kind.is_symmetric() && kind.is_hmac());
        assert_eq!(crate::public_key_pem(kind, &a), Err(CryptoError::NotAsymmetric));
        // Not a cipher key: no ciphertext blobs.
        let header = crate::BlobHeader { key_id: "k".into(), key_version_id: "v".into() };
        assert_eq!(
            crate::seal_blob_for(kind, &a, &header, b"x", b""),
            Err(CryptoError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn verification_is_exact() {
    for kind in [KeyType::HmacSm3, KeyType::HmacSha256] {
        let k = generate_key(kind).unwrap();
        let tag = mac(kind, &k, b"message").unwrap();
        assert_eq!(tag.len(), MAC_LEN);
        assert_eq!(verify_mac(kind, &k, b"message", &tag), Ok(true));
        assert_eq!(verify_mac(kind, &k, b"massage", &tag), Ok(false));
        let other = generate_key(kind).unwrap();
        assert_eq!(verify_mac(kind, &other, b"message", &tag), Ok(false));
        for i in 0..tag.len() {
            let mut bad = tag.clone();
            bad[i] ^= 0x80;
            assert_eq!(verify_mac(kind, &k, b"message", &bad), Ok(false), "byte {i}");
        }
        assert_eq!(verify_mac(kind, &k, b"message", &tag[..31]), Ok(false));
        assert_eq!(verify_mac(kind, &k, b"message", &[]), Ok(false));
        let mut longer = tag.clone();
        longer.push(0);
        assert_eq!(verify_mac(kind, &k, b"message", &longer), Ok(false));
    }
    // The two algorithms differ under the same key.
    let k = key(&[7; 32]);
    assert_ne!(mac(KeyType::HmacSm3, &k, b"m"), mac(KeyType::HmacSha256, &k, b"m"));
}

#[test]
fn other_key_types_make_no_macs() {
    let k = key(&[7; 32]);
    for kind in [KeyType::Aes256, KeyType::Sm4, KeyType::EcP256, KeyType::Rsa2048] {
        assert_eq!(mac(kind, &k, b"m"), Err(CryptoError::UnsupportedAlgorithm));
        assert_eq!(verify_mac(kind, &k, b"m", &[0; 32]), Err(CryptoError::UnsupportedAlgorithm));
    }
}
