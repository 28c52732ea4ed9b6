//! The query/form parser every request goes through: never panics, and what it decodes
//! round-trips through the percent-encoding the signatures are computed over.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_sign::{parse_form, percent_encode};

fuzz_target!(|data: &[u8]| {
    let pairs = parse_form(data);
    let wire = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(parse_form(wire.as_bytes()), pairs, "re-encoded parameters parse differently");
});
