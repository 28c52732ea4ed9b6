//! Tests for the canonical encryption-context AAD.

use std::collections::BTreeMap;

use crate::encryption_context_aad;

fn aad(pairs: &[(&str, &str)]) -> Vec<u8> {
    let map: BTreeMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    encryption_context_aad(&map)
}

#[test]
fn empty_context_is_empty() {
    assert!(aad(&[]).is_empty());
}

#[test]
fn entries_are_length_prefixed_and_sorted() {
    // Checked against an independent Python encoding of the same rule.
    assert_eq!(
        hex::encode(aad(&[("purpose", "test"), ("a", "b")])),
        "0000000161000000016200000007707572706f73650000000474657374"
    );
    assert_eq!(aad(&[("b", "2"), ("a", "1")]), aad(&[("a", "1"), ("b", "2")]));
}

#[test]
fn encoding_is_unambiguous() {
    assert_ne!(aad(&[("a", "bc")]), aad(&[("ab", "c")]));
    assert_ne!(aad(&[("a", "")]), aad(&[]));
    assert_ne!(aad(&[("", "")]), aad(&[]));
    assert_ne!(aad(&[("a", "b"), ("c", "d")]), aad(&[("a", "b\0\0\0\x01c")]));
}

#[test]
fn keys_sort_by_utf8_bytes() {
    // "Z" (0x5a) < "z" (0x7a) < "é" (0xc3 0xa9).
    let mut expected = Vec::new();
    expected.extend_from_slice(b"\0\0\0\x01Z\0\0\0\x013");
    expected.extend_from_slice(b"\0\0\0\x01z\0\0\0\x012");
    expected.extend_from_slice(b"\0\0\0\x02\xc3\xa9\0\0\0\x011");
    assert_eq!(aad(&[("é", "1"), ("z", "2"), ("Z", "3")]), expected);
}

#[test]
fn the_parameter_is_a_json_object_of_strings() {
    let parsed = crate::parse_encryption_context(r#"{"b":"2","a":"1"}"#).unwrap();
    assert_eq!(
        parsed.into_iter().collect::<Vec<_>>(),
        [("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert_eq!(crate::parse_encryption_context("{}").unwrap().len(), 0);
    for bad in ["", "[]", "\"s\"", r#"{"a":1}"#, r#"{"a":null}"#, r#"{"a":{"b":"c"}}"#, "{"] {
        assert!(crate::parse_encryption_context(bad).is_none(), "{bad}");
    }
}
