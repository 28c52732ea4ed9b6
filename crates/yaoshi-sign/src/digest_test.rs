//! Tests for hashing and signature comparison.

use crate::{sha256_hex, signatures_match};

#[test]
fn sha256_of_empty_body() {
    assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn signatures_match_compares_exactly() {
    assert!(signatures_match("41wk2SSX1GJh7fwnc5eqOfiJPFg=", "41wk2SSX1GJh7fwnc5eqOfiJPFg="));
    assert!(signatures_match("", ""));
    assert!(!signatures_match("41wk2SSX1GJh7fwnc5eqOfiJPFg=", "41wk2SSX1GJh7fwnc5eqOfiJPFh="));
    assert!(!signatures_match("abcdef", "ABCDEF"));
    assert!(!signatures_match("abcdef", "abcde"));
    assert!(!signatures_match("abcde", "abcdef"));
    assert!(!signatures_match("abc", ""));
    assert!(!signatures_match("", "abc"));
}
