//! GenerateDataKey / GenerateDataKeyWithoutPlaintext, GetPublicKey and GenerateRandom through
//! real HTTP.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::support::{assert_api_error, must_call, must_create_key, must_start_dev};

#[tokio::test(flavor = "multi_thread")]
async fn data_keys() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let key = must_create_key(&c).await;
    let ctx = r#"{"purpose":"test"}"#;
    for (params, len) in [
        (vec![], 32),
        (vec![("KeySpec", "AES_128")], 16),
        (vec![("KeySpec", "AES_256")], 32),
        (vec![("NumberOfBytes", "1")], 1),
        (vec![("NumberOfBytes", "1024"), ("KeySpec", "AES_128")], 1024),
    ] {
        let mut p = vec![("KeyId", key.as_str()), ("EncryptionContext", ctx)];
        p.extend(params.iter().copied());
        let r = must_call(&c, "GenerateDataKey", &p).await;
        let plaintext = r.str("Plaintext").unwrap().to_string();
        assert_eq!(B64.decode(&plaintext).unwrap().len(), len, "{params:?}");
        assert_eq!(r.str("KeyId"), Some(key.as_str()));
        assert!(r.str("KeyVersionId").is_some());
        let blob = r.str("CiphertextBlob").unwrap().to_string();
        let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob), ("EncryptionContext", ctx)])
            .await;
        assert_eq!(d.str("Plaintext"), Some(plaintext.as_str()), "{params:?}");
        let r = c.call("Decrypt", &[("CiphertextBlob", &blob)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }
    // Two data keys differ.
    let a = must_call(&c, "GenerateDataKey", &[("KeyId", &key)]).await;
    let b = must_call(&c, "GenerateDataKey", &[("KeyId", &key)]).await;
    assert_ne!(a.str("Plaintext"), b.str("Plaintext"));

    let r = must_call(&c, "GenerateDataKeyWithoutPlaintext", &[("KeyId", &key)]).await;
    assert!(r.body.get("Plaintext").is_none(), "{:?}", r.body);
    let blob = r.str("CiphertextBlob").unwrap().to_string();
    let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob)]).await;
    assert_eq!(B64.decode(d.str("Plaintext").unwrap()).unwrap().len(), 32);

    for bad in [
        vec![("NumberOfBytes", "0")],
        vec![("NumberOfBytes", "1025")],
        vec![("NumberOfBytes", "x")],
        vec![("KeySpec", "AES_512")],
        vec![("EncryptionContext", "not json")],
    ] {
        for action in ["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"] {
            let mut p = vec![("KeyId", key.as_str())];
            p.extend(bad.iter().copied());
            let r = c.call(action, &p).await.unwrap();
            assert_api_error(&r, 400, "InvalidParameter");
        }
    }
    let r = c.call("GenerateDataKey", &[]).await.unwrap();
    assert_api_error(&r, 400, "MissingParameter");
    let r = c.call("GenerateDataKey", &[("KeyId", "alias/none")]).await.unwrap();
    assert_api_error(&r, 404, "Forbidden.AliasNotFound");
    let r = must_call(&c, "CreateKey", &[("KeySpec", "RSA_2048")]).await;
    let rsa = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let r = c.call("GenerateDataKey", &[("KeyId", &rsa)]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Operation");
}

#[tokio::test(flavor = "multi_thread")]
async fn public_keys() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    for (spec, usage) in [
        ("RSA_2048", "ENCRYPT/DECRYPT"),
        ("RSA_3072", "SIGN/VERIFY"),
        ("EC_P256", "SIGN/VERIFY"),
        ("EC_P256K", "SIGN/VERIFY"),
        ("EC_SM2", "ENCRYPT/DECRYPT"),
    ] {
        let r = must_call(&c, "CreateKey", &[("KeySpec", spec), ("KeyUsage", usage)]).await;
        let id = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
        let version = r.body["KeyMetadata"]["PrimaryKeyVersion"].as_str().unwrap().to_string();
        let params = [("KeyId", id.as_str()), ("KeyVersionId", version.as_str())];
        let r = must_call(&c, "GetPublicKey", &params).await;
        let pem = r.str("PublicKey").unwrap().to_string();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.trim_end().ends_with("-----END PUBLIC KEY-----"), "{pem}");
        assert_eq!(
            (r.str("KeyId"), r.str("KeyVersionId")),
            (Some(id.as_str()), Some(version.as_str()))
        );
        // Stable for a version.
        let again = must_call(&c, "GetPublicKey", &params).await;
        assert_eq!(again.str("PublicKey"), Some(pem.as_str()), "{spec}");
        // The private key never appears: the PEM body is just an SPKI (small).
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = B64.decode(der).unwrap();
        assert!(der.len() < 450, "{spec}: {} bytes", der.len());

        let r = c.call("GetPublicKey", &[("KeyId", &id)]).await.unwrap();
        assert_api_error(&r, 400, "MissingParameter");
        let ghost =
            [("KeyId", id.as_str()), ("KeyVersionId", "01a20000-0000-7000-8000-000000000000")];
        let r = c.call("GetPublicKey", &ghost).await.unwrap();
        assert_api_error(&r, 404, "Forbidden.KeyVersionNotFound");
        must_call(&c, "DisableKey", &[("KeyId", &id)]).await;
        let r = c.call("GetPublicKey", &params).await.unwrap();
        assert_api_error(&r, 409, "Rejected.Disabled");
    }
    let aes = must_create_key(&c).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &aes)]).await;
    let v = d.body["KeyMetadata"]["PrimaryKeyVersion"].as_str().unwrap().to_string();
    let r = c.call("GetPublicKey", &[("KeyId", &aes), ("KeyVersionId", &v)]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Operation");
}

#[tokio::test(flavor = "multi_thread")]
async fn re_encrypt_symmetric() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let a = must_create_key(&c).await;
    let r = must_call(&c, "CreateKey", &[("KeySpec", "Aliyun_AES_128")]).await;
    let b = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let (ctx_a, ctx_b) = (r#"{"from":"a"}"#, r#"{"to":"b"}"#);
    let r = must_call(
        &c,
        "Encrypt",
        &[("KeyId", &a), ("Plaintext", "c2VjcmV0"), ("EncryptionContext", ctx_a)],
    )
    .await;
    let blob_a = r.str("CiphertextBlob").unwrap().to_string();
    let params = [
        ("CiphertextBlob", blob_a.as_str()),
        ("DestinationKeyId", b.as_str()),
        ("SourceEncryptionContext", ctx_a),
        ("DestinationEncryptionContext", ctx_b),
    ];
    let r = must_call(&c, "ReEncrypt", &params).await;
    assert_eq!((r.str("KeyId"), r.str("SourceKeyId")), (Some(b.as_str()), Some(a.as_str())));
    assert!(r.str("KeyVersionId").is_some() && r.str("SourceKeyVersionId").is_some());
    let blob_b = r.str("CiphertextBlob").unwrap().to_string();
    let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob_b), ("EncryptionContext", ctx_b)])
        .await;
    assert_eq!((d.str("Plaintext"), d.str("KeyId")), (Some("c2VjcmV0"), Some(b.as_str())));
    let r = c.call("Decrypt", &[("CiphertextBlob", &blob_b), ("EncryptionContext", ctx_a)]).await;
    assert_api_error(&r.unwrap(), 400, "InvalidParameter");

    // Wrong source context; missing destination; destination or source not usable.
    let r = c
        .call("ReEncrypt", &[("CiphertextBlob", &blob_a), ("DestinationKeyId", &b)])
        .await
        .unwrap();
    assert_api_error(&r, 400, "InvalidParameter");
    let r = c.call("ReEncrypt", &[("CiphertextBlob", &blob_a)]).await.unwrap();
    assert_api_error(&r, 400, "MissingParameter");
    let r = must_call(&c, "CreateKey", &[("KeySpec", "EC_SM2")]).await;
    let sm2 = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let mut to_sm2 = params;
    to_sm2[1] = ("DestinationKeyId", sm2.as_str());
    assert_api_error(&c.call("ReEncrypt", &to_sm2).await.unwrap(), 400, "Unsupported.Operation");
    must_call(&c, "DisableKey", &[("KeyId", &b)]).await;
    assert_api_error(&c.call("ReEncrypt", &params).await.unwrap(), 409, "Rejected.Disabled");
    must_call(&c, "EnableKey", &[("KeyId", &b)]).await;
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &a)]).await;
    assert_api_error(&c.call("ReEncrypt", &params).await.unwrap(), 409, "Rejected.PendingDeletion");
    must_call(&c, "CancelKeyDeletion", &[("KeyId", &a)]).await;
    must_call(&c, "ReEncrypt", &params).await;
}

/// GenerateRandom: exactly NumberOfBytes bytes (1–1024), different each time; bounds refused.
#[tokio::test(flavor = "multi_thread")]
async fn generate_random() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let mut seen = std::collections::HashSet::new();
    for n in [1usize, 32, 1024] {
        let r = must_call(&c, "GenerateRandom", &[("NumberOfBytes", &n.to_string())]).await;
        let bytes = B64.decode(r.str("Random").unwrap()).unwrap();
        assert_eq!(bytes.len(), n);
        assert!(seen.insert(bytes), "a repeated random value");
    }
    let r = must_call(&c, "GenerateRandom", &[("NumberOfBytes", "1024")]).await;
    let bytes = B64.decode(r.str("Random").unwrap()).unwrap();
    // 1024 random bytes use most byte values (a constant or a counter would not).
    assert!(bytes.iter().collect::<std::collections::HashSet<_>>().len() > 200);
    for bad in ["0", "1025", "-1", "x"] {
        let r = c.call("GenerateRandom", &[("NumberOfBytes", bad)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }
    let r = c.call("GenerateRandom", &[]).await.unwrap();
    assert_api_error(&r, 400, "MissingParameter");
}
