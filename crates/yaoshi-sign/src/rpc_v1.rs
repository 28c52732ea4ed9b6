//! Alibaba Cloud RPC signature version 1.0 (HMAC-SHA1), docs/WIRE.md §4.1.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::digest::hmac_sha1;
use crate::percent::percent_encode_into;

/// The parameter that carries the signature itself; it is never signed.
const SIGNATURE_PARAM: &str = "Signature";

/// Builds the RPC v1 StringToSign:
/// `METHOD & percentEncode("/") & percentEncode(canonicalQuery)`.
///
/// `params` are all decoded request parameters, from the query string and the form body together.
/// A parameter named `Signature` is skipped. The rest are sorted by name in byte order (ties by
/// value, so the result does not depend on input order), each written as
/// `percentEncode(name)=percentEncode(value)` and joined with `&`. Empty values are real
/// parameters and are signed. `method` is the real HTTP method as sent (`GET` and `POST` give
/// different signatures).
#[must_use]
pub fn rpc_v1_string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(name, _)| name != SIGNATURE_PARAM).collect();
    // Equal pairs are identical, so an unstable sort gives the same order.
    sorted.sort_unstable();
    let len: usize = sorted.iter().map(|(name, value)| name.len() + value.len() + 6).sum();
    let mut out = String::with_capacity(method.len() + 5 + len + len / 4);
    out.push_str(method);
    out.push_str("&%2F&");
    // `percentEncode(canonicalQuery)` in one pass: the canonical query's `=` and `&` become `%3D`
    // and `%26`, and each byte its own encoding turned into `%XX` becomes `%25XX`; unreserved
    // bytes pass both encodings unchanged.
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        percent_encode_into(&mut out, name, "%25");
        out.push_str("%3D");
        percent_encode_into(&mut out, value, "%25");
    }
    out
}

/// Returns `Base64(HMAC-SHA1(key = access_key_secret + "&", string_to_sign))`, the value of the
/// `Signature` parameter.
#[must_use]
pub fn rpc_v1_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = format!("{access_key_secret}&");
    STANDARD.encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}
