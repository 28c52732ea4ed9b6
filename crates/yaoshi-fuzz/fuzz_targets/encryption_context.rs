//! The EncryptionContext parameter (a JSON object of strings): never panics, and its AAD
//! encoding is injective — two different contexts never give the same AAD.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_crypto::{encryption_context_aad, parse_encryption_context};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(context) = parse_encryption_context(text) else { return };
    let aad = encryption_context_aad(&context);
    // Changing any value (appending a byte) changes the AAD.
    if let Some((k, v)) = context.iter().next() {
        let mut other = context.clone();
        other.insert(k.clone(), format!("{v}x"));
        assert_ne!(encryption_context_aad(&other), aad);
    }
});
