//! Authentication: RPC v1 HMAC-SHA1 and ACS3-HMAC-SHA256 signatures, the timestamp window and the
//! per-process SignatureNonce check (the cache itself is in `nonces.rs`).

use std::sync::Arc;

use axum::http::HeaderMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yaoshi_model::{AccessKeyId, ApiError, Credential, ErrorCode, REPLAY_WINDOW_MS};
use zeroize::Zeroizing;

use crate::params::Params;
use crate::state::ApiState;

/// The outcome of a successful authentication.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) principal: AccessKeyId,
    pub(crate) account_id: String,
    pub(crate) nonce: Option<String>,
    /// The action, from the `Action` parameter or the `x-acs-action` header (ACS3).
    pub(crate) action: Option<String>,
    /// The API version, from `Version` or `x-acs-version`.
    pub(crate) version: Option<String>,
}

/// Verifies the request's signature and freshness.
pub(crate) fn authenticate(
    api: &ApiState,
    method: &str,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
    now_ms: i64,
) -> Result<Authenticated, ApiError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let auth = match authorization {
        Some(h) if h.trim_start().starts_with("ACS3-") => {
            acs3(api, method, headers, params, body, h)?
        }
        _ => rpc_v1(api, method, params)?,
    };
    let (timestamp, result) = auth;
    check_timestamp(timestamp.as_deref(), now_ms)?;
    if let Some(nonce) = &result.nonce
        && !api.nonces.check_and_insert(result.principal.as_str(), nonce, now_ms)
    {
        return Err(ApiError::new(ErrorCode::SignatureNonceUsed));
    }
    Ok(result)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Looks a credential up and unwraps its secret.
///
/// The secret is kept by wrapped secret (`unwrapped.rs`); the credential itself is read on every
/// request, so a removed or replaced credential takes effect at once.
fn secret_of(
    api: &ApiState,
    access_key_id: &str,
) -> Result<(Credential, Arc<Zeroizing<String>>), ApiError> {
    let credential = api
        .replica
        .credential(access_key_id)
        .map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            ApiError::new(ErrorCode::InternalFailure)
        })?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound))?;
    let aad = Credential::wrap_aad(&credential.access_key_id);
    let secret = api.secrets.get_or_make(&aad, &credential.wrapped_secret, || {
        let material = api.domain_key.unwrap(&aad, &credential.wrapped_secret).map_err(|_| {
            tracing::error!(
                access_key_id,
                "credential secret does not unwrap under this node's domain key"
            );
            ApiError::new(ErrorCode::InternalFailure)
        })?;
        let secret = String::from_utf8(material.as_bytes().to_vec())
            .map_err(|_| ApiError::new(ErrorCode::InternalFailure))?;
        Ok::<_, ApiError>(Zeroizing::new(secret))
    })?;
    Ok((credential, secret))
}

type AuthResult = Result<(Option<String>, Authenticated), ApiError>;

fn rpc_v1(api: &ApiState, method: &str, params: &Params) -> AuthResult {
    let access_key_id = params.required("AccessKeyId")?;
    let signature = params.get("Signature").ok_or_else(|| ApiError::missing("Signature"))?;
    if let Some(m) = params.optional("SignatureMethod")
        && m != "HMAC-SHA1"
    {
        return Err(ApiError::invalid("SignatureMethod"));
    }
    let (credential, secret) = secret_of(api, access_key_id)?;
    let string_to_sign = yaoshi_sign::rpc_v1_string_to_sign(method, params.pairs());
    let expected = yaoshi_sign::rpc_v1_signature(&secret, &string_to_sign);
    if !yaoshi_sign::signatures_match(&expected, signature) {
        return Err(ApiError::with_subject(ErrorCode::SignatureDoesNotMatch, &string_to_sign));
    }
    Ok((
        params.get("Timestamp").map(str::to_string),
        Authenticated {
            principal: credential.access_key_id,
            account_id: credential.account_id,
            nonce: params.optional("SignatureNonce").map(str::to_string),
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
    // The headers that carry the request's meaning must be covered by the signature.
    for required in ["x-acs-action", "x-acs-date"] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(ApiError::with_subject(ErrorCode::IncompleteSignature, ""));
        }
    }
    let (credential, secret) = secret_of(api, &parsed.access_key_id)?;
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let hashed_payload = yaoshi_sign::sha256_hex(body);
    let canonical = yaoshi_sign::acs3_canonical_request(
        method,
        "/",
        params.query_pairs(),
        &header_pairs,
        &parsed.signed_headers,
        &hashed_payload,
    );
    let string_to_sign = yaoshi_sign::acs3_string_to_sign(&canonical);
    let expected = yaoshi_sign::acs3_signature(&secret, &string_to_sign);
    if !yaoshi_sign::signatures_match(&expected, &parsed.signature) {
        return Err(ApiError::with_subject(ErrorCode::SignatureDoesNotMatch, &string_to_sign));
    }
    Ok((
        header(headers, "x-acs-date").map(str::to_string),
        Authenticated {
            principal: credential.access_key_id,
            account_id: credential.account_id,
            nonce: header(headers, "x-acs-signature-nonce")
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            action: header(headers, "x-acs-action")
                .map(str::to_string)
                .or_else(|| params.optional("Action").map(str::to_string)),
            version: header(headers, "x-acs-version")
                .map(str::to_string)
                .or_else(|| params.optional("Version").map(str::to_string)),
        },
    ))
}

/// Parses `YYYY-MM-DDThh:mm:ss[.fff]Z` to Unix milliseconds.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn check_timestamp(timestamp: Option<&str>, now_ms: i64) -> Result<(), ApiError> {
    let ts = timestamp
        .and_then(parse_timestamp)
        .ok_or_else(|| ApiError::new(ErrorCode::IllegalTimestamp))?;
    if (now_ms - ts).abs() > REPLAY_WINDOW_MS {
        return Err(ApiError::new(ErrorCode::IllegalTimestamp));
    }
    Ok(())
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
    }
}
