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
}

impl Params {
    /// Parses a query string and, when present, a form body. `+` decodes to a space and `%XX` as
    /// UTF-8 (invalid sequences are replaced, which then fails signature verification), exactly as
    /// `form_urlencoded::parse` does.
    pub(crate) fn parse(query: Option<&str>, form_body: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(q) = query {
            parse_form(q.as_bytes(), &mut pairs);
        }
        let query_len = pairs.len();
        if let Some(b) = form_body {
            parse_form(b, &mut pairs);
        }
        Params { pairs, query_len }
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
            let value: serde_json::Value =
                serde_json::from_str(raw).map_err(|_| ApiError::invalid(name))?;
            let obj = value.as_object().ok_or_else(|| ApiError::invalid(name))?;
            for (k, v) in obj {
                let v = v.as_str().ok_or_else(|| ApiError::invalid(name))?;
                map.insert(k.clone(), v.to_string());
            }
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

/// Appends the `name=value` pairs of `application/x-www-form-urlencoded` bytes to `pairs`, with
/// the rules of `form_urlencoded::parse` (empty sequences between `&` are skipped; a sequence
/// without `=` has an empty value), decoding each part in one pass into a buffer of its size.
fn parse_form(input: &[u8], pairs: &mut Vec<(String, String)>) {
    for sequence in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match sequence.iter().position(|&b| b == b'=') {
            Some(i) => (&sequence[..i], &sequence[i + 1..]),
            None => (sequence, &[][..]),
        };
        pairs.push((decode_component(name), decode_component(value)));
    }
}

/// `+` → space, `%XX` → the byte (a `%` not followed by two hex digits stays as it is), then UTF-8
/// with invalid sequences replaced by U+FFFD.
fn decode_component(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| input.get(j).and_then(|&h| char::from(h).to_digit(16));
                if let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) {
                    // Two hex digits make one byte.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
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

    /// The one-pass decoder splits and decodes exactly as `form_urlencoded::parse`.
    #[test]
    fn decoding_matches_form_urlencoded() {
        let cases: &[&[u8]] = &[
            b"",
            b"&&&",
            b"a",
            b"a=",
            b"=b",
            b"=",
            b"a=b=c&&d&e=%",
            b"k=%2",
            b"k=%zz%2g%G1%%41%4a%4A+%2B+",
            b"Plaintext=aGVs%2BbG8%2F%3D&Timestamp=2026-11-23T00%3A31%3A07Z",
            b"k=%C3%A9%E5%AF%86+%F0%9F%98%80",
            b"k=%FF%C3&v=%C3%28&w=\xc3\xa9",
            b"%41%3d=%26&x%20y=1",
            "é=密钥&😀".as_bytes(),
            &[b'k', b'=', 0xff, 0xfe, b'%', b'4', b'1'],
        ];
        let mut seed = 7u32;
        let mut random_cases = Vec::new();
        for _ in 0..2000 {
            let len = 1 + (seed % 24) as usize;
            let mut case = Vec::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let alphabet = b"%+=&aF9g\xc3\xa9\xff2";
                case.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
            random_cases.push(case);
        }
        for case in cases.iter().copied().chain(random_cases.iter().map(Vec::as_slice)) {
            let mut ours = Vec::new();
            parse_form(case, &mut ours);
            let theirs: Vec<(String, String)> = form_urlencoded::parse(case).into_owned().collect();
            assert_eq!(ours, theirs, "input {case:?}");
        }
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
