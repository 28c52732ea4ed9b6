//! The CTyun EOP vectors of docs/WIRE.md §4.3 and the body reading rules.

use crate::digest::hmac_sha256;
use crate::eop::*;

const AK: &str = "testak0123456789";
const SK: &str = "testsk0123456789abcdef";
const DATE: &str = "20240115T083000Z";
const ID: &str = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const BODY: &[u8] = br#"{"cmkUuid": "8b9f0c3e-1234-4a5b-9c8d-0123456789ab"}"#;

#[test]
fn post_vector() {
    let headers = [("ctyun-eop-request-id", ID), ("eop-date", DATE)];
    let sts = eop_string_to_sign(&headers, &[], BODY);
    assert_eq!(
        sts,
        format!(
            "ctyun-eop-request-id:{ID}\neop-date:{DATE}\n\n\n\
             77bb7fb9d2ca5f1b8495f368aea52ab30e5c6b184894d09fc9abad3f943363f5"
        )
    );
    let k_time = hmac_sha256(SK.as_bytes(), DATE.as_bytes());
    assert_eq!(
        hex::encode(&k_time),
        "2440bb0db30b5e873fbb327c3b2311d37ead37b4057cc415c8e4ae4c66152c33"
    );
    let k_ak = hmac_sha256(&k_time, AK.as_bytes());
    assert_eq!(
        hex::encode(&k_ak),
        "b859b03af184f85db29170185d0470f033e7cb0c1d07e38bbca8f0273805bdce"
    );
    let k_date = hmac_sha256(&k_ak, b"20240115");
    assert_eq!(
        hex::encode(k_date),
        "1734695720cd9119348871aa0e482606c0e057c87920dc2e09d29693fd848c0d"
    );
    assert_eq!(eop_signature(SK, AK, DATE, &sts), "WJGxI6/JTfXWMcGRqkB5FJ3T85fPR4rqargwVuDreFw=");
    assert_eq!(
        eop_authorization(AK, SK, ID, DATE, &[], BODY),
        format!(
            "{AK} Headers=ctyun-eop-request-id;eop-date Signature=WJGxI6/JTfXWMcGRqkB5FJ3T85fPR4rqargwVuDreFw="
        )
    );
}

#[test]
fn get_vector_sorts_the_raw_query() {
    let query: Vec<(String, String)> =
        [("pageNo", "1"), ("pageSize", "10"), ("keyState", "Enabled")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let auth = eop_authorization(AK, SK, ID, DATE, &query, b"");
    assert!(auth.ends_with("Signature=v96hzDqx0zV54Chvdx8nKHYxHAcF+V793YWv8QM7MvE="), "{auth}");
    let headers = [("ctyun-eop-request-id", ID), ("eop-date", DATE)];
    let sts = eop_string_to_sign(&headers, &query, b"");
    assert!(sts.contains("\n\nkeyState=Enabled&pageNo=1&pageSize=10\n"), "{sts}");
}

#[test]
fn authorization_header_parses_strictly() {
    let parsed = parse_eop_authorization(&eop_authorization(AK, SK, ID, DATE, &[], BODY)).unwrap();
    assert_eq!(parsed.access_key_id, AK);
    assert_eq!(parsed.signed_headers, ["ctyun-eop-request-id", "eop-date"]);
    assert_eq!(parsed.signature, "WJGxI6/JTfXWMcGRqkB5FJ3T85fPR4rqargwVuDreFw=");
    for bad in [
        "",
        "ak",
        "ak Headers=a;b",
        "ak Signature=x",
        "ak Headers= Signature=x",
        "ak Headers=a;;b Signature=x",
        "ak Headers=a Signature=x Signature=y",
        "ak Headers=a Signature=x Extra=1",
        "Headers=a Signature=x",
    ] {
        assert_eq!(parse_eop_authorization(bad), Err(ParseEopError::Malformed), "{bad:?}");
    }
}

#[test]
fn body_members_become_parameters() {
    let body = br#"{"cmkUuid":"k1","numberOfBytes":32,"keySpec":"Aliyun_AES_256",
        "encryptionContext":{"a":"b"},"tags":[{"TagKey":"x"}],"dryRun":true,"description":null}"#;
    let params = eop_body_params(body).unwrap();
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("KeyId"), Some("k1"));
    assert_eq!(get("NumberOfBytes"), Some("32"));
    assert_eq!(get("KeySpec"), Some("Aliyun_AES_256"));
    assert_eq!(get("EncryptionContext"), Some(r#"{"a":"b"}"#));
    assert_eq!(get("Tags"), Some(r#"[{"TagKey":"x"}]"#));
    assert_eq!(get("DryRun"), Some("true"));
    assert_eq!(get("Description"), None, "null is absent");
    assert_eq!(eop_body_params(b"").unwrap(), vec![]);
    assert_eq!(eop_body_params(b" \n").unwrap(), vec![]);
    for bad in [&b"[1]"[..], b"\"s\"", b"{", b"null", b"\xff"] {
        assert_eq!(eop_body_params(bad), Err(EopBodyError::NotAnObject));
    }
    for twice in [&br#"{"keyId":"a","KeyId":"b"}"#[..], br#"{"cmkUuid":"a","keyId":"b"}"#] {
        assert_eq!(eop_body_params(twice), Err(EopBodyError::Duplicate));
    }
}

#[test]
fn names_change_case_both_ways() {
    assert_eq!(api_name("cmkUuid"), "KeyId");
    assert_eq!(api_name("keyId"), "KeyId");
    assert_eq!(api_name(""), "");
    assert_eq!(eop_name("KeyMetadata"), "keyMetadata");
    assert_eq!(eop_name("RequestId"), "requestId");
}
