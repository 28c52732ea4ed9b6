//! Request parameters: the query string and the form body together, decoded form-style.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use yaoshi_model::ApiError;
use zeroize::Zeroizing;

/// All parameters of a request, in arrival order (query first, then body).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
    /// How many of `pairs` came from the query string (ACS3 signs only those).
    query_len: usize,
    /// An EOP request's query as sent (its names in lowerCamelCase), which its signature covers.
    eop_query: Vec<(String, String)>,
}

impl Params {
    /// Parses a query string and, when present, a form body. `+` decodes to a space and `%XX` as
    /// UTF-8 (invalid sequences are replaced, which then fails signature verification), exactly as
    /// `form_urlencoded::parse` does.
    pub(crate) fn parse(query: Option<&str>, form_body: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(q) = query {
            pairs = yaoshi_sign::parse_form(q.as_bytes());
        }
        let query_len = pairs.len();
        if let Some(b) = form_body {
            pairs.extend(yaoshi_sign::parse_form(b));
        }
        Params { pairs, query_len, eop_query: Vec::new() }
    }

    /// The parameters of a CTyun EOP request: its decoded query, then the members of its JSON
    /// body (`yaoshi_sign::eop_body_params`), each named in the API's case.
    pub(crate) fn from_eop(query: Vec<(String, String)>, body: Vec<(String, String)>) -> Params {
        let mut pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| (yaoshi_sign::api_name(k), v.clone())).collect();
        let query_len = pairs.len();
        pairs.extend(body);
        Params { pairs, query_len, eop_query: query }
    }

    /// An EOP request's query as it was sent (decoded, names unchanged).
    pub(crate) fn eop_query(&self) -> &[(String, String)] {
        &self.eop_query
    }

    /// Every pair.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs that came from the query string.
    pub(crate) fn query_pairs(&self) -> &[(String, String)] {
        &self.pairs[..self.query_len]
    }

    /// The first value of `name`, if given (an empty value counts as given).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of `name`, treating an empty value as absent.
    pub(crate) fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The value of a required parameter.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name).ok_or_else(|| ApiError::missing(name))
    }

    /// A required standard-Base64 parameter (`Digest`, `Plaintext` of the asymmetric actions,
    /// `CiphertextBlob`…), decoded. Base64 has no spaces, so a space is read as the `+` that a
    /// client forgot to percent-encode. The bytes are wiped on drop: they may be plaintext.
    pub(crate) fn base64(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, ApiError> {
        let text = self.required(name)?.replace(' ', "+");
        let text = text.trim();
        B64.decode(text).map(Zeroizing::new).map_err(|_| ApiError::invalid(name))
    }

    /// An optional integer in `min..=max`, `default` when absent.
    pub(crate) fn int_in(
        &self,
        name: &str,
        min: i64,
        max: i64,
        default: i64,
    ) -> Result<i64, ApiError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid(name)),
            },
        }
    }

    /// An optional boolean; Python clients send `True`/`False`, Node clients `true`/`false`.
    pub(crate) fn bool_or(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// A JSON-object-of-strings parameter such as `EncryptionContext`, also accepting the
    /// flattened `Name.key=value` form the npm client sends. Absent means an empty map.
    pub(crate) fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
        let mut map = BTreeMap::new();
        if let Some(raw) = self.optional(name) {
            map = yaoshi_crypto::parse_encryption_context(raw)
                .ok_or_else(|| ApiError::invalid(name))?;
        }
        let prefix = format!("{name}.");
        for (k, v) in &self.pairs {
            if let Some(key) = k.strip_prefix(&prefix) {
                map.insert(key.to_string(), v.clone());
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_are_merged_and_plus_is_space() {
        let p = Params::parse(Some("Action=Encrypt&Description=a+b%20c"), Some(b"KeyId=k1&X="));
        assert_eq!(p.get("Action"), Some("Encrypt"));
        assert_eq!(p.get("Description"), Some("a b c"));
        assert_eq!(p.get("KeyId"), Some("k1"));
        assert_eq!(p.get("X"), Some(""));
        assert_eq!(p.optional("X"), None);
        assert_eq!(p.required("Nope").unwrap_err().code, yaoshi_model::ErrorCode::MissingParameter);
    }

    #[test]
    fn encryption_context_json_and_flattened() {
        let p = Params::parse(
            Some("EncryptionContext=%7B%22purpose%22%3A%20%22test%22%7D&EncryptionContext.k=v"),
            None,
        );
        let m = p.string_map("EncryptionContext").unwrap();
        assert_eq!(m.get("purpose").map(String::as_str), Some("test"));
        assert_eq!(m.get("k").map(String::as_str), Some("v"));
        let bad = Params::parse(Some("EncryptionContext=%5B1%5D"), None);
        assert!(bad.string_map("EncryptionContext").is_err());
        let bad = Params::parse(Some("EncryptionContext=%7B%22a%22%3A1%7D"), None);
        assert!(bad.string_map("EncryptionContext").is_err());
    }

    #[test]
    fn base64_values() {
        let p = Params::parse(Some("A=aGk%3D&B=%2B%2F8%3D&C=+/8=&D=not*base64&E="), None);
        assert_eq!(&p.base64("A").unwrap()[..], b"hi");
        assert_eq!(&p.base64("B").unwrap()[..], &[0xfb, 0xff]);
        // An unencoded `+` arrives as a space and still decodes.
        assert_eq!(&p.base64("C").unwrap()[..], &[0xfb, 0xff]);
        assert_eq!(p.base64("D").unwrap_err().code, yaoshi_model::ErrorCode::InvalidParameter);
        assert_eq!(p.base64("E").unwrap_err().code, yaoshi_model::ErrorCode::MissingParameter);
    }

    #[test]
    fn ints_and_bools() {
        let p = Params::parse(Some("PageSize=101&A=True&B=false&C=yes"), None);
        assert!(p.int_in("PageSize", 1, 100, 10).is_err());
        assert_eq!(p.int_in("PageNumber", 1, i64::MAX, 1).unwrap(), 1);
        assert!(p.bool_or("A", false).unwrap());
        assert!(!p.bool_or("B", true).unwrap());
        assert!(p.bool_or("C", true).is_err());
    }
}
