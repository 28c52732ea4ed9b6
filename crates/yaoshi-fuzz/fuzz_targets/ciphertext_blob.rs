//! Ciphertext blobs as a client sends them to Decrypt: the header parser and the opener never
//! panic, and no input the fuzzer makes up opens under a key it does not know.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_crypto::{KeyMaterial, KeyType, open_blob, open_blob_for, parse_blob_header};

fuzz_target!(|data: &[u8]| {
    let _ = parse_blob_header(data);
    let aes = KeyMaterial::from_bytes(&[7u8; 32]);
    let sm4 = KeyMaterial::from_bytes(&[7u8; 16]);
    assert!(open_blob(&aes, data, b"").is_err(), "a forged blob opened");
    assert!(open_blob_for(KeyType::Aes256, &aes, data, b"").is_err());
    assert!(open_blob_for(KeyType::Sm4, &sm4, data, b"").is_err());
});
