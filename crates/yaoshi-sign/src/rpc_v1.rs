//! Alibaba Cloud RPC signature version 1.0 (HMAC-SHA1), WIRE.md §4.1.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::digest::hmac_sha1;
use crate::percent_encode;

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
    sorted.sort();
    let canonical = sorted
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical))
}

/// Returns `Base64(HMAC-SHA1(key = access_key_secret + "&", string_to_sign))`, the value of the
/// `Signature` parameter.
#[must_use]
pub fn rpc_v1_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = format!("{access_key_secret}&");
    STANDARD.encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}
