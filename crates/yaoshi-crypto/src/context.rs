//! The EncryptionContext parameter and its canonical AAD bytes.

use std::collections::BTreeMap;

/// Returns the canonical, unambiguous AAD bytes for an encryption context.
///
/// Entries are taken in key order (byte order of the UTF-8 keys, which is `BTreeMap`'s order), and
/// each entry is encoded as `u32-be(len(key)) || key || u32-be(len(value)) || value`; the entries
/// are concatenated. An empty map gives an empty vector, so "no context" and "empty context" are the
/// same thing, as in Alibaba Cloud KMS.
///
/// The length prefixes make the encoding injective: `{"a": "bc"}` and `{"ab": "c"}` differ.
/// Strings longer than `u32::MAX` bytes cannot arrive through the HTTP API (request bodies are
/// bounded far below that); their prefix would saturate at `u32::MAX`.
#[must_use]
pub fn encryption_context_aad(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let len: usize = ctx.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(len);
    for (key, value) in ctx {
        push_prefixed(&mut out, key.as_bytes());
        push_prefixed(&mut out, value.as_bytes());
    }
    out
}

/// Parses an `EncryptionContext` parameter: a JSON object whose values are all strings. `None`
/// for anything else (not JSON, not an object, a non-string value). Never panics (fuzzed:
/// `crates/yaoshi-fuzz`).
#[must_use]
pub fn parse_encryption_context(json: &str) -> Option<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
}

fn push_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}
