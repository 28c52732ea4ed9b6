//! CTyun EOP signatures (`Eop-Authorization`), docs/WIRE.md §4.3, and the JSON request body of
//! the EOP surface read as the API's parameters.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::digest::hmac_sha256;
use crate::sha256_hex;

/// The two headers every EOP signature covers, in the order the seed client lists them.
pub const EOP_SIGNED_HEADERS: [&str; 2] = ["ctyun-eop-request-id", "eop-date"];

/// A parsed `Eop-Authorization: <AK> Headers=<a;b> Signature=<base64>` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EopAuthorization {
    /// The AccessKey id (the first word).
    pub access_key_id: String,
    /// The header names from `Headers=`, lower-cased, in the order given.
    pub signed_headers: Vec<String>,
    /// The signature from `Signature=`, as given.
    pub signature: String,
}

/// Why an `Eop-Authorization` header could not be parsed. Messages never echo the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseEopError {
    /// Not `<AK> Headers=… Signature=…` with a non-empty value in each part.
    #[error("malformed Eop-Authorization header")]
    Malformed,
}

/// Parses an `Eop-Authorization` header.
///
/// # Errors
/// [`ParseEopError::Malformed`] unless the header is exactly an AccessKey id, `Headers=` and
/// `Signature=` separated by spaces, each non-empty and none repeated.
pub fn parse_eop_authorization(value: &str) -> Result<EopAuthorization, ParseEopError> {
    let mut words = value.split_ascii_whitespace();
    let access_key_id =
        words.next().filter(|w| !w.contains('=')).ok_or(ParseEopError::Malformed)?;
    let (mut headers, mut signature) = (None, None);
    for word in words {
        let (slot, text) = if let Some(v) = word.strip_prefix("Headers=") {
            (&mut headers, v)
        } else if let Some(v) = word.strip_prefix("Signature=") {
            (&mut signature, v)
        } else {
            return Err(ParseEopError::Malformed);
        };
        if slot.is_some() || text.is_empty() {
            return Err(ParseEopError::Malformed);
        }
        *slot = Some(text);
    }
    let (Some(headers), Some(signature)) = (headers, signature) else {
        return Err(ParseEopError::Malformed);
    };
    let signed_headers: Vec<String> = headers.split(';').map(str::to_ascii_lowercase).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(ParseEopError::Malformed);
    }
    Ok(EopAuthorization {
        access_key_id: access_key_id.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// The string an EOP request signs: each signed header as `name:value\n` in the listed order, an
/// empty line, the query parameters as raw `k=v` sorted by name and joined by `&`, a newline and
/// the hex SHA-256 of the body exactly as received.
#[must_use]
pub fn eop_string_to_sign(
    signed_headers: &[(&str, &str)],
    query: &[(String, String)],
    body: &[u8],
) -> String {
    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    // Stable: the seed sorts a dict's items by name only.
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (name, value) in signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push('\n');
    out.push_str(&sha256_hex(body));
    out
}

/// `Base64(HMAC-SHA256(k_date, string_to_sign))` with the date-derived key chain
/// `k_time = HMAC(SK, eop_date)`, `k_ak = HMAC(k_time, AK)`, `k_date = HMAC(k_ak, eop_date[..8])`.
#[must_use]
pub fn eop_signature(
    access_key_secret: &str,
    access_key_id: &str,
    eop_date: &str,
    string_to_sign: &str,
) -> String {
    let day = eop_date.split('T').next().unwrap_or_default();
    let k_time = hmac_sha256(access_key_secret.as_bytes(), eop_date.as_bytes());
    let k_ak = hmac_sha256(&k_time, access_key_id.as_bytes());
    let k_date = hmac_sha256(&k_ak, day.as_bytes());
    STANDARD.encode(hmac_sha256(&k_date, string_to_sign.as_bytes()))
}

/// The `Eop-Authorization` value a client sends for a request (the client half of the scheme).
#[must_use]
pub fn eop_authorization(
    access_key_id: &str,
    access_key_secret: &str,
    request_id: &str,
    eop_date: &str,
    query: &[(String, String)],
    body: &[u8],
) -> String {
    let headers = [(EOP_SIGNED_HEADERS[0], request_id), (EOP_SIGNED_HEADERS[1], eop_date)];
    let sts = eop_string_to_sign(&headers, query, body);
    let signature = eop_signature(access_key_secret, access_key_id, eop_date, &sts);
    format!("{access_key_id} Headers={} Signature={signature}", EOP_SIGNED_HEADERS.join(";"))
}

/// Why an EOP request body is not a parameter set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EopBodyError {
    /// The body is not JSON, or its top level is not an object.
    #[error("the request body is not a JSON object")]
    NotAnObject,
    /// Two members name the same parameter (`keyId` and `KeyId`, or `cmkUuid` and `keyId`).
    #[error("two members of the request body name the same parameter")]
    Duplicate,
}

/// Reads an EOP JSON body as the API's parameters: each member of the top-level object becomes
/// one parameter named in the API's case (`keyId` → `KeyId`; `cmkUuid` is `KeyId`). A string is
/// its text, a number or boolean its JSON text, an object or array its compact JSON text (the
/// form `EncryptionContext` and `Tags` take), and `null` is absent. An empty body has no
/// parameters.
///
/// # Errors
/// [`EopBodyError::NotAnObject`] for a body that is not a JSON object;
/// [`EopBodyError::Duplicate`] when two members name the same parameter.
pub fn eop_body_params(body: &[u8]) -> Result<Vec<(String, String)>, EopBodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| EopBodyError::NotAnObject)?;
    let serde_json::Value::Object(members) = value else {
        return Err(EopBodyError::NotAnObject);
    };
    let mut params = Vec::with_capacity(members.len());
    for (name, value) in members {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let name = api_name(&name);
        if params.iter().any(|(seen, _)| *seen == name) {
            return Err(EopBodyError::Duplicate);
        }
        params.push((name, text));
    }
    Ok(params)
}

/// The API's name of an EOP field: `cmkUuid` is `KeyId`; otherwise the first letter upper-cased.
#[must_use]
pub fn api_name(field: &str) -> String {
    if field == "cmkUuid" {
        return "KeyId".to_string();
    }
    let mut chars = field.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The EOP name of an API name: the first letter lower-cased (`KeyMetadata` → `keyMetadata`).
#[must_use]
pub fn eop_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
