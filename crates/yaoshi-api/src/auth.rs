//! Authentication: RPC v1 HMAC-SHA1, ACS3-HMAC-SHA256 and (on the `/v1/…` routes) CTyun EOP
//! signatures, the timestamp window and the per-process SignatureNonce check (the cache itself is
//! in `yaoshi_raft::nonces`). An EOP request's nonce is its `ctyun-eop-request-id` and its
//! timestamp its `eop-date`.
//!
//! Every request must carry a non-empty nonce, a timestamp at most 15 minutes old and at most 5
//! minutes ahead, and exactly the signature method and version of its scheme. An ACS3 request must
//! sign `host`, every `x-acs-*` header it carries, and at least `x-acs-action`, `x-acs-date`,
//! `x-acs-signature-nonce` and `x-acs-content-sha256`, whose value must be the body's hash.

use std::sync::Arc;

use axum::http::HeaderMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yaoshi_model::{
    AccessKeyId, ApiError, Credential, ErrorCode, MAX_FUTURE_SKEW_MS, REPLAY_WINDOW_MS,
};
use zeroize::Zeroizing;

use crate::params::Params;
use crate::state::ApiState;
use yaoshi_raft::nonces::NonceCheck;

/// The longest SignatureNonce accepted (the SDKs send 32 hex digits or a UUID).
const MAX_NONCE_LEN: usize = 128;

/// At most this much of the server's StringToSign is echoed in `SignatureDoesNotMatch`.
pub(crate) const MAX_ECHOED_STRING_TO_SIGN: usize = 2048;

/// Parameters whose values are never echoed, even inside a StringToSign.
const REDACTED_PARAMS: &[&str] = &[
    "Plaintext",
    "SecretData",
    "EncryptedKeyMaterial",
    "PrivateKey",
    "PrivateKeyPassword",
    "Pkcs12",
];

/// The ACS3 headers that must be signed whenever present (besides every `x-acs-*` header).
const ACS3_REQUIRED_SIGNED: &[&str] =
    &["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce"];

/// The outcome of a successful authentication.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) principal: AccessKeyId,
    pub(crate) account_id: String,
    /// The access point whose policies the credential is held to (`None`: unscoped).
    pub(crate) access_point: Option<String>,
    /// The request's SignatureNonce (required, non-empty).
    pub(crate) nonce: String,
    /// Its signed timestamp (Unix milliseconds).
    pub(crate) timestamp_ms: i64,
    /// The action, from the `Action` parameter or the `x-acs-action` header (ACS3).
    pub(crate) action: Option<String>,
    /// The API version, from `Version` or `x-acs-version`.
    pub(crate) version: Option<String>,
}

/// The signature scheme a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `/`: RPC v1 parameters, or ACS3 when the `Authorization` header says so.
    Alibaba,
    /// `/v1/<group>/<action>`: `Eop-Authorization`.
    Eop,
}

/// Verifies the request's signature and freshness.
pub(crate) fn authenticate(
    api: &ApiState,
    scheme: Scheme,
    method: &str,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
    now_ms: i64,
) -> Result<Authenticated, ApiError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let auth = match (scheme, authorization) {
        (Scheme::Eop, _) => eop(api, headers, params, body)?,
        (Scheme::Alibaba, Some(h)) if h.trim_start().starts_with("ACS3-") => {
            acs3(api, method, headers, params, body, h)?
        }
        (Scheme::Alibaba, _) => rpc_v1(api, method, params)?,
    };
    let (timestamp, mut result) = auth;
    let timestamp_ms = check_timestamp(timestamp.as_deref(), now_ms)?;
    result.timestamp_ms = timestamp_ms;
    let expires_ms = timestamp_ms.saturating_add(REPLAY_WINDOW_MS);
    match api.nonces.check_and_insert(result.principal.as_str(), &result.nonce, expires_ms, now_ms)
    {
        NonceCheck::Fresh => Ok(result),
        NonceCheck::Replayed => Err(ApiError::new(ErrorCode::SignatureNonceUsed)),
        NonceCheck::Full => {
            tracing::warn!("nonce cache full: shedding a signed request");
            Err(ApiError::new(ErrorCode::RejectedThrottling))
        }
    }
}

/// The nonce, required and bounded: an empty nonce is a missing one.
fn nonce(value: Option<&str>) -> Result<String, ApiError> {
    match value {
        None | Some("") => Err(ApiError::missing("SignatureNonce")),
        Some(n) if n.len() > MAX_NONCE_LEN => Err(ApiError::invalid("SignatureNonce")),
        Some(n) => Ok(n.to_string()),
    }
}

/// A common parameter that must be present with exactly `expected`.
fn exactly(params: &Params, name: &str, expected: &str) -> Result<(), ApiError> {
    match params.optional(name) {
        None => Err(ApiError::missing(name)),
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(ApiError::invalid(name)),
    }
}

/// `SignatureDoesNotMatch` with the server's StringToSign as the classic SDK expects it, bounded
/// to [`MAX_ECHOED_STRING_TO_SIGN`] and with the values of [`REDACTED_PARAMS`] replaced.
fn rpc_v1_mismatch(method: &str, params: &Params, string_to_sign: &str) -> ApiError {
    let echoed = match redacted(params.pairs(), |name| REDACTED_PARAMS.contains(&name)) {
        Some(pairs) => yaoshi_sign::rpc_v1_string_to_sign(method, &pairs),
        None => string_to_sign.to_string(),
    };
    ApiError::with_subject(ErrorCode::SignatureDoesNotMatch, bounded(&echoed))
}

/// `params` with the values of the parameters `secret` names replaced, when any is there.
fn redacted(
    params: &[(String, String)],
    secret: impl Fn(&str) -> bool,
) -> Option<Vec<(String, String)>> {
    params.iter().any(|(k, _)| secret(k)).then(|| {
        params
            .iter()
            .map(|(k, v)| {
                let v = if secret(k) { "REDACTED" } else { v };
                (k.clone(), v.to_string())
            })
            .collect()
    })
}

/// At most [`MAX_ECHOED_STRING_TO_SIGN`] bytes of `s`, cut on a character boundary.
fn bounded(s: &str) -> &str {
    if s.len() <= MAX_ECHOED_STRING_TO_SIGN {
        return s;
    }
    let mut end = MAX_ECHOED_STRING_TO_SIGN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An unwrapped AccessKey secret, shared with the cache of unwrapped secrets.
type Secret = Arc<Zeroizing<String>>;

/// Looks a credential up and unwraps the secrets a signature may be made with now: the current
/// one, then (during a rotation's grace period, by KMS time) the retiring one.
///
/// Secrets are kept by wrapped secret (`unwrapped.rs`); the credential itself is read on every
/// request, so a revoked, rotated or rescoped credential takes effect at once.
fn secrets_of(api: &ApiState, access_key_id: &str) -> Result<(Credential, Vec<Secret>), ApiError> {
    let credential = api
        .replica
        .credential(access_key_id)
        .map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            ApiError::new(ErrorCode::InternalFailure)
        })?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound))?;
    let aad = Credential::wrap_aad(&credential.access_key_id);
    let mut secrets = Vec::with_capacity(2);
    for wrapped in credential.valid_secrets(api.clock.now_ms()) {
        secrets.push(api.secrets.get_or_make(&aad, wrapped, || {
            let material = api.domain_key.unwrap(&aad, wrapped).map_err(|_| {
                tracing::error!(
                    access_key_id,
                    "credential secret does not unwrap under this node's domain key"
                );
                ApiError::new(ErrorCode::InternalFailure)
            })?;
            let secret = String::from_utf8(material.as_bytes().to_vec())
                .map_err(|_| ApiError::new(ErrorCode::InternalFailure))?;
            Ok::<_, ApiError>(Zeroizing::new(secret))
        })?);
    }
    Ok((credential, secrets))
}

/// Whether `provided` is the signature `sign` makes with one of `secrets`.
fn signed_by_any(secrets: &[Secret], provided: &str, sign: impl Fn(&str) -> String) -> bool {
    secrets.iter().any(|s| yaoshi_sign::signatures_match(&sign(s), provided))
}

type AuthResult = Result<(Option<String>, Authenticated), ApiError>;

fn rpc_v1(api: &ApiState, method: &str, params: &Params) -> AuthResult {
    let access_key_id = params.required("AccessKeyId")?;
    let signature = params.get("Signature").ok_or_else(|| ApiError::missing("Signature"))?;
    exactly(params, "SignatureMethod", "HMAC-SHA1")?;
    exactly(params, "SignatureVersion", "1.0")?;
    let nonce = nonce(params.get("SignatureNonce"))?;
    let (credential, secrets) = secrets_of(api, access_key_id)?;
    let string_to_sign = yaoshi_sign::rpc_v1_string_to_sign(method, params.pairs());
    if !signed_by_any(&secrets, signature, |s| yaoshi_sign::rpc_v1_signature(s, &string_to_sign)) {
        return Err(rpc_v1_mismatch(method, params, &string_to_sign));
    }
    Ok((
        params.get("Timestamp").map(str::to_string),
        Authenticated {
            principal: credential.access_key_id,
            account_id: credential.account_id,
            access_point: credential.access_point,
            nonce,
            timestamp_ms: 0,
            action: params.optional("Action").map(str::to_string),
            version: params.optional("Version").map(str::to_string),
        },
    ))
}

fn acs3(
    api: &ApiState,
    method: &str,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
    authorization: &str,
) -> AuthResult {
    let parsed = yaoshi_sign::parse_acs3_authorization(authorization)
        .map_err(|_| ApiError::with_subject(ErrorCode::IncompleteSignature, ""))?;
    if !authorization.trim_start().starts_with("ACS3-HMAC-SHA256 ") {
        return Err(ApiError::with_subject(ErrorCode::IncompleteSignature, ""));
    }
    // The headers that carry the request's meaning must be covered by the signature: the required
    // ones, and every `x-acs-*` header sent (an unsigned one could be changed in flight).
    let signed = |name: &str| parsed.signed_headers.iter().any(|h| h == name);
    let unsigned_acs =
        headers.keys().any(|k| k.as_str().starts_with("x-acs-") && !signed(k.as_str()));
    if unsigned_acs || ACS3_REQUIRED_SIGNED.iter().any(|h| !signed(h)) {
        return Err(ApiError::with_subject(ErrorCode::IncompleteSignature, ""));
    }
    let nonce = nonce(header(headers, "x-acs-signature-nonce"))?;
    let hashed_payload = yaoshi_sign::sha256_hex(body);
    if !header(headers, "x-acs-content-sha256")
        .is_some_and(|h| h.eq_ignore_ascii_case(&hashed_payload))
    {
        return Err(ApiError::invalid("x-acs-content-sha256"));
    }
    let (credential, secrets) = secrets_of(api, &parsed.access_key_id)?;
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let canonical = yaoshi_sign::acs3_canonical_request(
        method,
        "/",
        params.query_pairs(),
        &header_pairs,
        &parsed.signed_headers,
        &hashed_payload,
    );
    let string_to_sign = yaoshi_sign::acs3_string_to_sign(&canonical);
    let sign = |s: &str| yaoshi_sign::acs3_signature(s, &string_to_sign);
    if !signed_by_any(&secrets, &parsed.signature, sign) {
        return Err(ApiError::with_subject(
            ErrorCode::SignatureDoesNotMatch,
            bounded(&string_to_sign),
        ));
    }
    Ok((
        header(headers, "x-acs-date").map(str::to_string),
        Authenticated {
            principal: credential.access_key_id,
            account_id: credential.account_id,
            access_point: credential.access_point,
            nonce,
            timestamp_ms: 0,
            action: header(headers, "x-acs-action")
                .map(str::to_string)
                .or_else(|| params.optional("Action").map(str::to_string)),
            version: header(headers, "x-acs-version")
                .map(str::to_string)
                .or_else(|| params.optional("Version").map(str::to_string)),
        },
    ))
}

/// A CTyun EOP request (docs/WIRE.md §4.3): the signature covers `ctyun-eop-request-id` (the
/// nonce) and `eop-date` (the timestamp, `%Y%m%dT%H%M%SZ` in UTC), the raw query and the body's
/// SHA-256.
fn eop(api: &ApiState, headers: &HeaderMap, params: &Params, body: &[u8]) -> AuthResult {
    let authorization = header(headers, "eop-authorization")
        .ok_or_else(|| ApiError::missing("Eop-Authorization"))?;
    let parsed = yaoshi_sign::parse_eop_authorization(authorization)
        .map_err(|_| ApiError::with_subject(ErrorCode::IncompleteSignature, ""))?;
    let signed = |name: &str| parsed.signed_headers.iter().any(|h| h == name);
    if yaoshi_sign::EOP_SIGNED_HEADERS.iter().any(|h| !signed(h)) {
        return Err(ApiError::with_subject(ErrorCode::IncompleteSignature, ""));
    }
    let request_id = header(headers, "ctyun-eop-request-id")
        .ok_or_else(|| ApiError::missing("ctyun-eop-request-id"))?;
    let nonce = nonce(Some(request_id))?;
    let date =
        header(headers, "eop-date").ok_or_else(|| ApiError::new(ErrorCode::IllegalTimestamp))?;
    let timestamp =
        eop_date_rfc3339(date).ok_or_else(|| ApiError::new(ErrorCode::IllegalTimestamp))?;
    let (credential, secrets) = secrets_of(api, &parsed.access_key_id)?;
    let mut signed_values = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = header(headers, name)
            .ok_or_else(|| ApiError::with_subject(ErrorCode::IncompleteSignature, ""))?;
        signed_values.push((name.as_str(), value));
    }
    let string_to_sign = yaoshi_sign::eop_string_to_sign(&signed_values, params.eop_query(), body);
    let sign =
        |s: &str| yaoshi_sign::eop_signature(s, &parsed.access_key_id, date, &string_to_sign);
    if !signed_by_any(&secrets, &parsed.signature, sign) {
        // The query's names are the API's in lowerCamelCase (`plaintext`).
        let secret = |name: &str| REDACTED_PARAMS.contains(&yaoshi_sign::api_name(name).as_str());
        let echoed = match redacted(params.eop_query(), secret) {
            Some(pairs) => yaoshi_sign::eop_string_to_sign(&signed_values, &pairs, body),
            None => string_to_sign,
        };
        return Err(ApiError::with_subject(ErrorCode::SignatureDoesNotMatch, bounded(&echoed)));
    }
    Ok((
        Some(timestamp),
        Authenticated {
            principal: credential.access_key_id,
            account_id: credential.account_id,
            access_point: credential.access_point,
            nonce,
            timestamp_ms: 0,
            action: None,
            version: None,
        },
    ))
}

/// `YYYYMMDDThhmmssZ` (an `eop-date`) as `YYYY-MM-DDThh:mm:ssZ`, or `None` if it is not that shape.
fn eop_date_rfc3339(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    ))
}

/// Parses `YYYY-MM-DDThh:mm:ss[.fff]Z` to Unix milliseconds.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The request's timestamp (Unix milliseconds) if it is at most the replay window old and at most
/// the allowed skew ahead of `now_ms`.
fn check_timestamp(timestamp: Option<&str>, now_ms: i64) -> Result<i64, ApiError> {
    let ts = timestamp
        .and_then(parse_timestamp)
        .ok_or_else(|| ApiError::new(ErrorCode::IllegalTimestamp))?;
    if now_ms.saturating_sub(ts) > REPLAY_WINDOW_MS
        || ts.saturating_sub(now_ms) > MAX_FUTURE_SKEW_MS
    {
        return Err(ApiError::new(ErrorCode::IllegalTimestamp));
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2016-03-28T03:13:08Z"), Some(1_459_134_788_000));
        assert_eq!(parse_timestamp("2026-11-23T00:31:07.935Z").map(|t| t % 1000), Some(935));
        assert_eq!(parse_timestamp("2016-03-28 03:13:08"), None);
        assert!(
            check_timestamp(Some("2016-03-28T03:13:08Z"), 1_459_134_788_000 + REPLAY_WINDOW_MS)
                .is_ok()
        );
        assert!(
            check_timestamp(Some("2016-03-28T03:13:08Z"), 1_459_134_788_000 + REPLAY_WINDOW_MS + 1)
                .is_err()
        );
        assert!(check_timestamp(None, 0).is_err());
        let t = 1_459_134_788_000;
        assert!(check_timestamp(Some("2016-03-28T03:13:08Z"), t - MAX_FUTURE_SKEW_MS).is_ok());
        assert!(check_timestamp(Some("2016-03-28T03:13:08Z"), t - MAX_FUTURE_SKEW_MS - 1).is_err());
    }

    #[test]
    fn eop_dates() {
        assert_eq!(eop_date_rfc3339("20240115T083000Z").as_deref(), Some("2024-01-15T08:30:00Z"));
        assert_eq!(
            eop_date_rfc3339("20240115T083000Z").as_deref().and_then(parse_timestamp),
            parse_timestamp("2024-01-15T08:30:00Z")
        );
        for bad in
            ["", "20240115T083000", "20240115 083000Z", "2024011xT083000Z", "20240115T08300éZ"]
        {
            assert_eq!(eop_date_rfc3339(bad), None, "{bad:?}");
        }
        // Out-of-range fields are the timestamp parser's to refuse.
        assert_eq!(eop_date_rfc3339("20241315T083000Z").as_deref().and_then(parse_timestamp), None);
    }

    #[test]
    fn nonces_are_required_and_bounded() {
        assert_eq!(nonce(None).unwrap_err().code, ErrorCode::MissingParameter);
        assert_eq!(
            nonce(Some("")).unwrap_err().message,
            ApiError::missing("SignatureNonce").message
        );
        assert_eq!(nonce(Some(&"n".repeat(129))).unwrap_err().code, ErrorCode::InvalidParameter);
        assert_eq!(nonce(Some("abc")).unwrap(), "abc");
    }

    #[test]
    fn echoed_string_to_sign_is_bounded_and_redacted() {
        let params = Params::parse(Some("Action=Encrypt&Plaintext=c2VjcmV0&KeyId=k"), None);
        let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", params.pairs());
        let err = rpc_v1_mismatch("POST", &params, &sts);
        assert!(!err.message.contains("c2VjcmV0"), "{}", err.message);
        assert!(err.message.contains("Plaintext%3DREDACTED"), "{}", err.message);
        let long = format!("Action=CreateKey&Description={}", "x".repeat(10_000));
        let params = Params::parse(Some(&long), None);
        let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", params.pairs());
        let err = rpc_v1_mismatch("POST", &params, &sts);
        let echoed = err.message.split_once(':').unwrap().1;
        assert_eq!(echoed, &sts[..MAX_ECHOED_STRING_TO_SIGN]);
        // A short StringToSign is echoed whole, as the classic SDK compares it.
        let params = Params::parse(Some("Action=ListKeys"), None);
        let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", params.pairs());
        assert!(rpc_v1_mismatch("POST", &params, &sts).message.ends_with(&sts));
    }
}
