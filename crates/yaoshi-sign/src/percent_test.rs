//! Tests for percent-encoding.

use crate::percent_encode;

#[test]
fn unreserved_characters_stay() {
    let unreserved = "ABCXYZabcxyz0189-_.~";
    assert_eq!(percent_encode(unreserved), unreserved);
    assert_eq!(percent_encode(""), "");
}

#[test]
fn everything_else_is_upper_case_hex() {
    assert_eq!(percent_encode(" "), "%20");
    assert_eq!(percent_encode("+"), "%2B");
    assert_eq!(percent_encode("*"), "%2A");
    assert_eq!(percent_encode("~"), "~");
    assert_eq!(percent_encode("!'()"), "%21%27%28%29");
    assert_eq!(percent_encode("/:=&%"), "%2F%3A%3D%26%25");
    assert_eq!(percent_encode("a b*c~d"), "a%20b%2Ac~d");
    assert_eq!(percent_encode("{\"k\":\"v\"}"), "%7B%22k%22%3A%22v%22%7D");
    assert_eq!(percent_encode("aGVsbG8="), "aGVsbG8%3D");
}

#[test]
fn non_ascii_is_encoded_as_utf8_bytes() {
    assert_eq!(percent_encode("é"), "%C3%A9");
    assert_eq!(percent_encode("密钥"), "%E5%AF%86%E9%92%A5");
    assert_eq!(percent_encode("😀"), "%F0%9F%98%80");
    assert_eq!(percent_encode("\u{0}\u{7f}"), "%00%7F");
}
