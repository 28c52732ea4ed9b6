//! Tests for RPC v1 signatures, including the worked vectors of docs/WIRE.md §4.1.

use expect_test::expect;

use crate::{rpc_v1_signature, rpc_v1_string_to_sign};

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The documented example, in the order the documentation lists it (not sorted).
fn documented_params() -> Vec<(String, String)> {
    params(&[
        ("Action", "CreateKey"),
        ("SignatureVersion", "1.0"),
        ("Format", "json"),
        ("Version", "2016-01-20"),
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("Timestamp", "2016-03-28T03:13:08Z"),
    ])
}

#[test]
fn documented_get_vector() {
    let sts = rpc_v1_string_to_sign("GET", &documented_params());
    expect![[r#"GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateKey%26Format%3Djson%26SignatureMethod%3DHMAC-SHA1%26SignatureVersion%3D1.0%26Timestamp%3D2016-03-28T03%253A13%253A08Z%26Version%3D2016-01-20"#]].assert_eq(&sts);
    assert_eq!(
        sts,
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateKey%26Format%3Djson%26SignatureMethod%3D\
         HMAC-SHA1%26SignatureVersion%3D1.0%26Timestamp%3D2016-03-28T03%253A13%253A08Z%26\
         Version%3D2016-01-20"
    );
    assert_eq!(rpc_v1_signature("testsecret", &sts), "41wk2SSX1GJh7fwnc5eqOfiJPFg=");
}

#[test]
fn documented_post_vector() {
    let sts = rpc_v1_string_to_sign("POST", &documented_params());
    assert!(sts.starts_with("POST&%2F&AccessKeyId%3Dtestid%26"));
    assert_eq!(rpc_v1_signature("testsecret", &sts), "Fi0klWyYLE4Wy22gxatiAP51JFE=");
}

#[test]
fn signature_parameter_is_not_signed() {
    let mut with_signature = documented_params();
    with_signature.insert(3, ("Signature".to_owned(), "anything".to_owned()));
    assert_eq!(
        rpc_v1_string_to_sign("GET", &with_signature),
        rpc_v1_string_to_sign("GET", &documented_params())
    );
    // Only the exact name is skipped.
    let sts = rpc_v1_string_to_sign("GET", &params(&[("SignatureType", "")]));
    assert_eq!(sts, "GET&%2F&SignatureType%3D");
}

#[test]
fn order_of_input_does_not_matter() {
    let mut reversed = documented_params();
    reversed.reverse();
    assert_eq!(
        rpc_v1_string_to_sign("GET", &reversed),
        rpc_v1_string_to_sign("GET", &documented_params())
    );
    let a = params(&[("Tag", "b"), ("Tag", "a"), ("A", "1")]);
    let b = params(&[("A", "1"), ("Tag", "a"), ("Tag", "b")]);
    assert_eq!(rpc_v1_string_to_sign("GET", &a), rpc_v1_string_to_sign("GET", &b));
    expect!["GET&%2F&A%3D1%26Tag%3Da%26Tag%3Db"].assert_eq(&rpc_v1_string_to_sign("GET", &a));
}

#[test]
fn names_sort_by_bytes_and_values_are_encoded_twice() {
    let sts = rpc_v1_string_to_sign(
        "POST",
        &params(&[
            ("b", "x y"),
            ("EncryptionContext.k", "v*"),
            ("EncryptionContext", "{\"a\": \"é\"}"),
            ("a", "~!'()"),
        ]),
    );
    // Upper case sorts before lower case; "EncryptionContext" before "EncryptionContext.k".
    expect![[r#"POST&%2F&EncryptionContext%3D%257B%2522a%2522%253A%2520%2522%25C3%25A9%2522%257D%26EncryptionContext.k%3Dv%252A%26a%3D~%2521%2527%2528%2529%26b%3Dx%2520y"#]].assert_eq(&sts);
}

#[test]
fn empty_parameter_list() {
    assert_eq!(rpc_v1_string_to_sign("GET", &[]), "GET&%2F&");
}

/// The one-pass StringToSign equals the definition written out: sort, encode each name and value,
/// join, then encode the whole canonical query again.
#[test]
fn one_pass_equals_the_two_pass_definition() {
    let cases = [
        params(&[("Plaintext", "aGVsbG8gd29ybGQ+/w=="), ("KeyId", "alias/密钥 ~x")]),
        params(&[("A", "%25%"), ("B", "😀é\u{0}\u{7f}"), ("C", ""), ("a", "a=b&c=d")]),
        params(&[("K", "v"), ("Signature", "x"), ("K", "u"), ("EncryptionContext.k", "{\"a\":1}")]),
    ];
    for case in &cases {
        let mut sorted: Vec<&(String, String)> =
            case.iter().filter(|(name, _)| name != "Signature").collect();
        sorted.sort();
        let canonical = sorted
            .iter()
            .map(|(n, v)| format!("{}={}", crate::percent_encode(n), crate::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let expected = format!("POST&%2F&{}", crate::percent_encode(&canonical));
        assert_eq!(rpc_v1_string_to_sign("POST", case), expected);
    }
}
