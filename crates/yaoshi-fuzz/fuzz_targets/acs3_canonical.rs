//! The ACS3 side: the `Authorization` header parser and the canonical request over arbitrary
//! query, headers and signed-header lists never panic; the canonical request does not depend on
//! the order of the query or of the signed-header list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_sign::{
    acs3_canonical_request, acs3_string_to_sign, parse_acs3_authorization, parse_form,
    sha256_hex,
};

fuzz_target!(|data: &[u8]| {
    // Three parts split at the first two NUL bytes: Authorization header, query, headers (as a
    // form, name=value).
    let mut parts = data.splitn(3, |&b| b == 0);
    let (auth, query, headers) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let auth = String::from_utf8_lossy(auth);
    let signed: Vec<String> = match parse_acs3_authorization(&auth) {
        Ok(a) => a.signed_headers.clone(),
        Err(_) => Vec::new(),
    };
    let query = parse_form(query);
    let headers = parse_form(headers);
    let body_hash = sha256_hex(data);
    let canonical = acs3_canonical_request("POST", "/", &query, &headers, &signed, &body_hash);
    let mut query_rev = query.clone();
    query_rev.reverse();
    let mut signed_rev = signed.clone();
    signed_rev.reverse();
    assert_eq!(
        acs3_canonical_request("POST", "/", &query_rev, &headers, &signed_rev, &body_hash),
        canonical
    );
    let _ = acs3_string_to_sign(&canonical);
});
