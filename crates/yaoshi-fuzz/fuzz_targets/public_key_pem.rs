//! PEM/DER public keys as clients send them (BYOK public blobs, verification and encryption with
//! a caller's public key): the parsers never panic, and a key that parses is of a known type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_crypto::{EncryptAlgorithm, SignAlgorithm, encrypt_to_public_pem, public_pem_key_type,
    verify_digest_with_public_pem};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Also as DER wrapped in a PEM envelope, so the DER parsers see the raw bytes.
    let wrapped = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64_lines(data)
    );
    for pem in [text.as_ref(), wrapped.as_str()] {
        let _ = public_pem_key_type(pem);
        let _ = verify_digest_with_public_pem(SignAlgorithm::EcdsaSha256, pem, &[1u8; 32], data);
        let _ = verify_digest_with_public_pem(SignAlgorithm::Sm2Dsa, pem, &[1u8; 32], data);
        let _ = encrypt_to_public_pem(EncryptAlgorithm::Sm2Pke, pem, b"x");
    }
});

fn base64_lines(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
