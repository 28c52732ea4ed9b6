//! The RPC v1 canonicalizer over arbitrary parameters: never panics, does not depend on the
//! order the parameters arrived in, and skips only `Signature`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_sign::{parse_form, rpc_v1_signature, rpc_v1_string_to_sign, signatures_match};

fuzz_target!(|data: &[u8]| {
    let pairs = parse_form(data);
    let sts = rpc_v1_string_to_sign("POST", &pairs);
    let mut reversed = pairs.clone();
    reversed.reverse();
    assert_eq!(rpc_v1_string_to_sign("POST", &reversed), sts);
    let unsigned: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| k != "Signature").cloned().collect();
    assert_eq!(rpc_v1_string_to_sign("POST", &unsigned), sts);
    let signature = rpc_v1_signature("fuzz-secret", &sts);
    assert!(signatures_match(&signature, &signature));
});
