//! Tests for ACS3-HMAC-SHA256 signatures, including the worked vector of docs/WIRE.md §4.2.

use expect_test::expect;

use crate::{
    Acs3Authorization, ParseAuthorizationError, acs3_authorization, acs3_canonical_request,
    acs3_signature, acs3_string_to_sign, parse_acs3_authorization, sha256_hex,
};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const VECTOR_AUTHORIZATION: &str = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=17bc734b7abe653dae813a447fbec7ee572f198e61a8eb1746ee32c50c961d44";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn vector_query() -> Vec<(String, String)> {
    pairs(&[
        ("KeyId", "alias/test"),
        ("Plaintext", "aGVsbG8="),
        ("EncryptionContext", "{\"purpose\":\"test\"}"),
    ])
}

fn vector_headers() -> Vec<(String, String)> {
    pairs(&[
        ("host", "kms.cn-hangzhou.aliyuncs.com"),
        ("x-acs-version", "2016-01-20"),
        ("x-acs-action", "Encrypt"),
        ("x-acs-date", "2024-01-15T08:30:00Z"),
        ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("accept", "application/json"),
        ("x-acs-content-sha256", EMPTY_SHA256),
    ])
}

fn vector_signed_headers() -> Vec<String> {
    [
        "accept",
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn vector_canonical_request() -> String {
    acs3_canonical_request(
        "POST",
        "/",
        &vector_query(),
        &vector_headers(),
        &vector_signed_headers(),
        &sha256_hex(b""),
    )
}

#[test]
fn worked_vector_canonical_request() {
    expect![[r#"
        POST
        /
        EncryptionContext=%7B%22purpose%22%3A%22test%22%7D&KeyId=alias%2Ftest&Plaintext=aGVsbG8%3D
        accept:application/json
        host:kms.cn-hangzhou.aliyuncs.com
        x-acs-action:Encrypt
        x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        x-acs-date:2024-01-15T08:30:00Z
        x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d
        x-acs-version:2016-01-20

        accept;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"#]]
    .assert_eq(&vector_canonical_request());
}

#[test]
fn worked_vector_string_to_sign_and_signature() {
    let sts = acs3_string_to_sign(&vector_canonical_request());
    assert_eq!(
        sts,
        "ACS3-HMAC-SHA256\nb6032ee66e4d607027b663f30bd8b4c4541f611299d9c8cab76c7947e78c51d5"
    );
    assert_eq!(
        acs3_signature("testsecret", &sts),
        "17bc734b7abe653dae813a447fbec7ee572f198e61a8eb1746ee32c50c961d44"
    );
}

#[test]
fn worked_vector_authorization_header() {
    let header = acs3_authorization(
        "testid",
        "testsecret",
        "POST",
        "/",
        &vector_query(),
        &vector_headers(),
        b"",
    );
    assert_eq!(header, VECTOR_AUTHORIZATION);
}

#[test]
fn server_side_verification_of_the_vector() {
    let auth = parse_acs3_authorization(VECTOR_AUTHORIZATION).unwrap();
    assert_eq!(
        auth,
        Acs3Authorization {
            access_key_id: "testid".to_owned(),
            signed_headers: vector_signed_headers(),
            signature: "17bc734b7abe653dae813a447fbec7ee572f198e61a8eb1746ee32c50c961d44"
                .to_owned(),
        }
    );
    // Extra unsigned headers, another order and other name case must not change anything.
    let mut headers = vector_headers();
    headers.reverse();
    headers.push(("user-agent".to_owned(), "not signed".to_owned()));
    headers[0].0 = "X-Acs-Content-Sha256".to_owned();
    let canonical = acs3_canonical_request(
        "POST",
        "/",
        &vector_query(),
        &headers,
        &auth.signed_headers,
        EMPTY_SHA256,
    );
    let expected = acs3_signature("testsecret", &acs3_string_to_sign(&canonical));
    assert!(crate::signatures_match(&expected, &auth.signature));
    assert!(!crate::signatures_match(
        &acs3_signature("othersecret", &acs3_string_to_sign(&canonical)),
        &auth.signature
    ));
}

#[test]
fn canonical_request_edge_cases() {
    let headers = pairs(&[("host", "  example.com \t"), ("x-multi", "b"), ("x-multi", " a ")]);
    let signed = ["x-multi", "host", "x-missing", "host"].map(str::to_owned);
    let canonical = acs3_canonical_request(
        "GET",
        "",
        &pairs(&[("b", "x y"), ("a*", "2"), ("a*", "1")]),
        &headers,
        &signed,
        EMPTY_SHA256,
    );
    expect![[r#"
        GET
        /
        a%2A=1&a%2A=2&b=x%20y
        host:example.com
        x-missing:
        x-multi:a,b

        host;x-missing;x-multi
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"#]]
    .assert_eq(&canonical);

    let nothing = acs3_canonical_request("GET", "/", &[], &[], &[], EMPTY_SHA256);
    assert_eq!(nothing, format!("GET\n/\n\n\n\n{EMPTY_SHA256}"));
}

#[test]
fn body_is_hashed_into_the_signature() {
    let headers = pairs(&[("host", "h"), ("content-type", "application/x-www-form-urlencoded")]);
    let a = acs3_authorization("ak", "sk", "POST", "/", &[], &headers, b"A=1");
    let b = acs3_authorization("ak", "sk", "POST", "/", &[], &headers, b"A=2");
    assert_ne!(a, b);
    assert!(
        a.starts_with("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=content-type;host,Signature=")
    );
}

#[test]
fn parse_tolerates_whitespace_and_empty_signed_headers() {
    let auth = parse_acs3_authorization(
        "  ACS3-HMAC-SHA256   Credential=ak , SignedHeaders=host;x-acs-date ,Signature=abc  ",
    )
    .unwrap();
    assert_eq!(auth.access_key_id, "ak");
    assert_eq!(auth.signed_headers, ["host", "x-acs-date"]);
    assert_eq!(auth.signature, "abc");

    let auth =
        parse_acs3_authorization("ACS3-HMAC-SHA256 Signature=abc,SignedHeaders=,Credential=ak")
            .unwrap();
    assert!(auth.signed_headers.is_empty());
}

#[test]
fn parse_rejects_malformed_headers() {
    use ParseAuthorizationError as E;
    let cases: &[(&str, E)] = &[
        ("", E::Empty),
        ("   ", E::Empty),
        ("ACS3-HMAC-SHA256", E::MissingComponent { name: "Credential" }),
        ("ACS3-HMAC-SM3 Credential=a,SignedHeaders=h,Signature=s", E::UnsupportedAlgorithm),
        ("acs3-hmac-sha256 Credential=a,SignedHeaders=h,Signature=s", E::UnsupportedAlgorithm),
        ("ACS3-HMAC-SHA256Credential=a,SignedHeaders=h,Signature=s", E::UnsupportedAlgorithm),
        ("Bearer token", E::UnsupportedAlgorithm),
        ("ACS3-HMAC-SHA256 ", E::MissingComponent { name: "Credential" }),
        ("ACS3-HMAC-SHA256 Credential=a,,Signature=s", E::MalformedComponent),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature=s,", E::MalformedComponent),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature", E::MalformedComponent),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Sig=s", E::MalformedComponent),
        ("ACS3-HMAC-SHA256 credential=a,SignedHeaders=h,Signature=s", E::MalformedComponent),
        (
            // One component whose value happens to contain the others.
            "ACS3-HMAC-SHA256 Credential=a;SignedHeaders=h;Signature=s",
            E::MissingComponent { name: "Signature" },
        ),
        (
            "ACS3-HMAC-SHA256 SignedHeaders=h,Signature=s",
            E::MissingComponent { name: "Credential" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,Signature=s",
            E::MissingComponent { name: "SignedHeaders" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h",
            E::MissingComponent { name: "Signature" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=h,Signature=s",
            E::EmptyComponent { name: "Credential" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature=",
            E::EmptyComponent { name: "Signature" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=h,Signature=s",
            E::DuplicateComponent { name: "Credential" },
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature=s,Signature=t",
            E::DuplicateComponent { name: "Signature" },
        ),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h;;x,Signature=s", E::MalformedSignedHeaders),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=;h,Signature=s", E::MalformedSignedHeaders),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h;,Signature=s", E::MalformedSignedHeaders),
        ("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h; x,Signature=s", E::MalformedSignedHeaders),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_acs3_authorization(input).as_ref(), Err(expected), "{input:?}");
    }
}

#[test]
fn parse_never_panics_on_odd_input() {
    let pieces = [
        "ACS3-HMAC-SHA256",
        " ",
        ",",
        "=",
        ";",
        "Credential",
        "SignedHeaders",
        "Signature",
        "é",
        "\t",
        "\u{0}",
        "😀",
        "a",
    ];
    // Every sequence of up to four pieces.
    let mut inputs = vec![String::new()];
    for _ in 0..4 {
        let next: Vec<String> = inputs
            .iter()
            .flat_map(|prefix| pieces.iter().map(move |p| format!("{prefix}{p}")))
            .collect();
        for input in &next {
            let _ = parse_acs3_authorization(input);
        }
        inputs = next;
    }
    for cut in 0..=VECTOR_AUTHORIZATION.len() {
        let _ = parse_acs3_authorization(&VECTOR_AUTHORIZATION[..cut]);
    }
}

#[test]
fn error_messages_do_not_echo_the_header() {
    let err =
        parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=secret-ak,Bogus=1").unwrap_err();
    assert!(!err.to_string().contains("secret-ak"), "{err}");
}
