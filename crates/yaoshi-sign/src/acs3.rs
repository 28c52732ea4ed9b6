//! Alibaba Cloud ACS3-HMAC-SHA256 signatures (the Tea SDK default), docs/WIRE.md §4.2.

use crate::digest::hmac_sha256;
use crate::{percent_encode, sha256_hex};

/// The algorithm name that starts an ACS3 `Authorization` header and the StringToSign.
pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A parsed `Authorization: ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<a;b;c>,Signature=<hex>`
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    /// The AccessKeyId from `Credential=`.
    pub access_key_id: String,
    /// The header names from `SignedHeaders=`, in the order given (the client sends them
    /// lower-case and sorted).
    pub signed_headers: Vec<String>,
    /// The signature from `Signature=`, as given (lower-case hex from the SDK).
    pub signature: String,
}

/// Why an ACS3 `Authorization` header could not be parsed.
///
/// Messages name the problem, never echo the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAuthorizationError {
    /// The header is empty or only whitespace.
    #[error("authorization header is empty")]
    Empty,
    /// The header does not start with `ACS3-HMAC-SHA256 `.
    #[error("unsupported authorization algorithm")]
    UnsupportedAlgorithm,
    /// A comma-separated part is not `Name=value` with a known name.
    #[error("malformed authorization component")]
    MalformedComponent,
    /// `Credential`, `SignedHeaders` or `Signature` is missing.
    #[error("authorization component {name} is missing")]
    MissingComponent {
        /// The missing component's name.
        name: &'static str,
    },
    /// A component appears more than once.
    #[error("authorization component {name} is repeated")]
    DuplicateComponent {
        /// The repeated component's name.
        name: &'static str,
    },
    /// `Credential` or `Signature` has an empty value.
    #[error("authorization component {name} is empty")]
    EmptyComponent {
        /// The empty component's name.
        name: &'static str,
    },
    /// `SignedHeaders` contains an empty or blank header name.
    #[error("malformed signed headers list")]
    MalformedSignedHeaders,
}

const CREDENTIAL: &str = "Credential";
const SIGNED_HEADERS: &str = "SignedHeaders";
const SIGNATURE: &str = "Signature";

/// Parses an ACS3-HMAC-SHA256 `Authorization` header value.
///
/// Accepts optional whitespace around the comma-separated components. `SignedHeaders=` with an
/// empty value means no headers are signed.
///
/// # Errors
///
/// A [`ParseAuthorizationError`] if the header is not exactly the algorithm name followed by the
/// three components `Credential`, `SignedHeaders` and `Signature`, each once. Never panics.
pub fn parse_acs3_authorization(
    header_value: &str,
) -> Result<Acs3Authorization, ParseAuthorizationError> {
    let value = header_value.trim();
    if value.is_empty() {
        return Err(ParseAuthorizationError::Empty);
    }
    let rest =
        value.strip_prefix(ACS3_ALGORITHM).ok_or(ParseAuthorizationError::UnsupportedAlgorithm)?;
    if rest.is_empty() {
        return Err(ParseAuthorizationError::MissingComponent { name: CREDENTIAL });
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(ParseAuthorizationError::UnsupportedAlgorithm);
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, component) =
            part.trim().split_once('=').ok_or(ParseAuthorizationError::MalformedComponent)?;
        let (slot, name) = match name {
            CREDENTIAL => (&mut credential, CREDENTIAL),
            SIGNED_HEADERS => (&mut signed_headers, SIGNED_HEADERS),
            SIGNATURE => (&mut signature, SIGNATURE),
            _ => return Err(ParseAuthorizationError::MalformedComponent),
        };
        if slot.replace(component).is_some() {
            return Err(ParseAuthorizationError::DuplicateComponent { name });
        }
    }

    let access_key_id = required(credential, CREDENTIAL)?;
    let signature = required(signature, SIGNATURE)?;
    let signed_headers =
        signed_headers.ok_or(ParseAuthorizationError::MissingComponent { name: SIGNED_HEADERS })?;
    let signed_headers = if signed_headers.is_empty() {
        Vec::new()
    } else {
        signed_headers
            .split(';')
            .map(|name| {
                if name.is_empty() || name.contains(char::is_whitespace) {
                    Err(ParseAuthorizationError::MalformedSignedHeaders)
                } else {
                    Ok(name.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(Acs3Authorization {
        access_key_id: access_key_id.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
    })
}

fn required<'a>(
    value: Option<&'a str>,
    name: &'static str,
) -> Result<&'a str, ParseAuthorizationError> {
    match value {
        None => Err(ParseAuthorizationError::MissingComponent { name }),
        Some("") => Err(ParseAuthorizationError::EmptyComponent { name }),
        Some(value) => Ok(value),
    }
}

/// Builds the ACS3 CanonicalRequest:
///
/// ```text
/// METHOD \n path \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
/// ```
///
/// - `path` is `/` for KMS; an empty path is taken as `/`.
/// - CanonicalQuery: the decoded `query` parameters (not the form body), sorted by name in byte
///   order (ties by value), each `percentEncode(name)=percentEncode(value)`, joined with `&`;
///   empty when there is no query.
/// - CanonicalHeaders: for each name in `signed_headers`, sorted and de-duplicated, the line
///   `name:value\n`. Header names are matched case-insensitively; the value is trimmed; several
///   headers with the same name give their trimmed values sorted and joined with `,`; a signed
///   header missing from `headers` gives `name:` with an empty value. Headers not listed in
///   `signed_headers` are ignored.
/// - SignedHeaders: the same sorted names joined with `;`.
/// - `hashed_payload` is hex SHA-256 of the raw body ([`sha256_hex`]).
#[must_use]
pub fn acs3_canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let path = if path.is_empty() { "/" } else { path };

    let mut sorted_query: Vec<&(String, String)> = query.iter().collect();
    sorted_query.sort();
    let canonical_query = sorted_query
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");

    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    // The values of each signed header (names compared without case), in one pass over the
    // headers: a request with many headers and many signed names costs n + m, not n × m.
    let mut values_of: std::collections::HashMap<String, Vec<&str>> =
        names.iter().map(|n| (n.to_ascii_lowercase(), Vec::new())).collect();
    for (header, value) in headers {
        if let Some(values) = values_of.get_mut(&header.to_ascii_lowercase()) {
            values.push(value.trim());
        }
    }
    for values in values_of.values_mut() {
        values.sort_unstable();
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let values = &values_of[&name.to_ascii_lowercase()];
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }

    format!(
        "{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{}\n{hashed_payload}",
        names.join(";")
    )
}

/// Returns the ACS3 StringToSign: `"ACS3-HMAC-SHA256\n" + hex(SHA256(canonical_request))`.
#[must_use]
pub fn acs3_string_to_sign(canonical_request: &str) -> String {
    format!("{ACS3_ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Returns the ACS3 signature: lower-case `hex(HMAC-SHA256(key = access_key_secret,
/// string_to_sign))`. Unlike RPC v1 there is no `&` after the secret.
#[must_use]
pub fn acs3_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(access_key_secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Client side: signs a request and returns the whole `Authorization` header value.
///
/// Every header in `headers` is signed (names lower-cased, sorted, de-duplicated), so pass exactly
/// the headers that will be sent, including `x-acs-content-sha256` = [`sha256_hex`]`(body)` as the
/// SDK does. `query` holds the decoded query parameters; `body` is the raw request body.
#[must_use]
pub fn acs3_authorization(
    access_key_id: &str,
    access_key_secret: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    let mut signed: Vec<String> =
        headers.iter().map(|(name, _)| name.to_ascii_lowercase()).collect();
    signed.sort_unstable();
    signed.dedup();
    let canonical =
        acs3_canonical_request(method, path, query, headers, &signed, &sha256_hex(body));
    let signature = acs3_signature(access_key_secret, &acs3_string_to_sign(&canonical));
    format!(
        "{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={signature}",
        signed.join(";")
    )
}
