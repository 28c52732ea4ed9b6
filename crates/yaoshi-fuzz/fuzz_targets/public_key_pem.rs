//! PEM/DER public keys as clients send them (BYOK public blobs, verification and encryption with
//! a caller's public key): the parsers never panic, and a key that parses is of a known type.
#![no_main]

mod pem_envelope;

use libfuzzer_sys::fuzz_target;
use yaoshi_crypto::{EncryptAlgorithm, SignAlgorithm, encrypt_to_public_pem, public_pem_key_type,
    verify_digest_with_public_pem};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Also as DER wrapped in a PEM envelope, so the DER parsers see the raw bytes.
    let wrapped = pem_envelope::pem("PUBLIC KEY", data);
    for pem in [text.as_ref(), wrapped.as_str()] {
        let _ = public_pem_key_type(pem);
        let _ = verify_digest_with_public_pem(SignAlgorithm::EcdsaSha256, pem, &[1u8; 32], data);
        let _ = verify_digest_with_public_pem(SignAlgorithm::Sm2Dsa, pem, &[1u8; 32], data);
        let _ = encrypt_to_public_pem(EncryptAlgorithm::Sm2Pke, pem, b"x");
    }
});
