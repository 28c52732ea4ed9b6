//! BYOK through real HTTP: GetParametersForImport, ImportKeyMaterial (wrapped locally with the
//! returned RSA public key), DeleteKeyMaterial, re-import of the same material only, token rules,
//! material expiry, and the state table rows of the external-key actions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPublicKey};
use yaoshi_client::Client;
use yaoshi_model::ImportToken;

use crate::support::{
    advance_clock, assert_api_error, must_call, must_create_key, must_start_dev_test_clock,
};

/// GetParametersForImport for `key`; returns (token, public key).
pub(crate) async fn parameters(c: &Client, key: &str, algorithm: &str) -> (String, RsaPublicKey) {
    let r = must_call(
        c,
        "GetParametersForImport",
        &[("KeyId", key), ("WrappingAlgorithm", algorithm), ("WrappingKeySpec", "RSA_2048")],
    )
    .await;
    assert_eq!(r.str("KeyId"), Some(key));
    assert!(r.str("TokenExpireTime").unwrap().ends_with('Z'));
    let der = B64.decode(r.str("PublicKey").unwrap()).unwrap();
    (r.str("ImportToken").unwrap().to_string(), RsaPublicKey::from_public_key_der(&der).unwrap())
}

pub(crate) fn wrap(public: &RsaPublicKey, algorithm: &str, material: &[u8]) -> String {
    let mut rng = rand_rng();
    let ct = match algorithm {
        "RSAES_PKCS1_V1_5" => public.encrypt(&mut rng, Pkcs1v15Encrypt, material),
        "RSAES_OAEP_SHA_1" => public.encrypt(&mut rng, Oaep::<sha1::Sha1>::new(), material),
        _ => public.encrypt(&mut rng, Oaep::<sha2::Sha256>::new(), material),
    };
    B64.encode(ct.unwrap())
}

fn rand_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

async fn import(
    c: &Client,
    key: &str,
    token: &str,
    encrypted: &str,
    expire_unix: &str,
) -> yaoshi_client::Response {
    c.call(
        "ImportKeyMaterial",
        &[
            ("KeyId", key),
            ("ImportToken", token),
            ("EncryptedKeyMaterial", encrypted),
            ("KeyMaterialExpireUnix", expire_unix),
        ],
    )
    .await
    .unwrap()
}

async fn state(c: &Client, key: &str) -> String {
    let d = must_call(c, "DescribeKey", &[("KeyId", key)]).await;
    d.body["KeyMetadata"]["KeyState"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn bring_your_own_key() {
    let (_dir, node) = must_start_dev_test_clock().await;
    let c = node.client();
    let material = [0x42u8; 32];
    let other_material = [0x43u8; 32];

    for algorithm in ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"] {
        let r = must_call(&c, "CreateKey", &[("Origin", "EXTERNAL")]).await;
        let key = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
        let (token, public) = parameters(&c, &key, algorithm).await;
        let (token2, _) = parameters(&c, &key, algorithm).await;
        assert_ne!(token, token2, "a fresh token per call");
        let r = import(&c, &key, &token, &wrap(&public, algorithm, &material), "0").await;
        assert_eq!(r.status, 200, "{algorithm}: {:?}", r.body);
        assert_eq!(state(&c, &key).await, "Enabled");
        let e = must_call(&c, "Encrypt", &[("KeyId", &key), ("Plaintext", "Ynlvaw==")]).await;
        let blob = e.str("CiphertextBlob").unwrap().to_string();
        let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob)]).await;
        assert_eq!(d.str("Plaintext"), Some("Ynlvaw=="));

        // Delete → PendingImport; other material is refused; the same material comes back and
        // old ciphertext decrypts again.
        must_call(&c, "DeleteKeyMaterial", &[("KeyId", &key)]).await;
        assert_eq!(state(&c, &key).await, "PendingImport");
        let r = c.call("Decrypt", &[("CiphertextBlob", &blob)]).await.unwrap();
        assert_api_error(&r, 409, "Rejected.PendingImport");
        let r = import(
            &c,
            &key,
            &token2,
            &wrap(&public_of(&c, &key, algorithm).await.1, algorithm, &other_material),
            "0",
        )
        .await;
        // token2 belongs to a different public key than public_of's: either way it must fail.
        assert_eq!(r.status, 400, "{:?}", r.body);
        let (token3, public3) = parameters(&c, &key, algorithm).await;
        let r = import(&c, &key, &token3, &wrap(&public3, algorithm, &other_material), "0").await;
        assert_api_error(&r, 400, "InvalidKeyMaterial");
        assert_eq!(state(&c, &key).await, "PendingImport");
        let r = import(&c, &key, &token3, &wrap(&public3, algorithm, &material), "0").await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob)]).await;
        assert_eq!(d.str("Plaintext"), Some("Ynlvaw=="));
    }

    // Token rules: another key's token, a made-up token, a wrong length, a non-EXTERNAL key.
    let r = must_call(&c, "CreateKey", &[("Origin", "EXTERNAL"), ("KeySpec", "Aliyun_SM4")]).await;
    let sm4 = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let r = must_call(&c, "CreateKey", &[("Origin", "EXTERNAL")]).await;
    let aes = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let (aes_token, aes_public) = parameters(&c, &aes, "RSAES_OAEP_SHA_256").await;
    let (sm4_token, sm4_public) = parameters(&c, &sm4, "RSAES_OAEP_SHA_256").await;
    let enc16 = wrap(&sm4_public, "RSAES_OAEP_SHA_256", &[7u8; 16]);
    let r = import(&c, &aes, &sm4_token, &enc16, "0").await;
    assert_api_error(&r, 400, "InvalidImportToken");
    let r = import(&c, &aes, "00000000-0000-4000-8000-000000000000", &enc16, "0").await;
    assert_api_error(&r, 400, "InvalidImportToken");
    let r = import(&c, &aes, &aes_token, &wrap(&aes_public, "RSAES_OAEP_SHA_256", &[7u8; 16]), "0")
        .await;
    assert_api_error(&r, 400, "InvalidKeyMaterial");
    let r = import(&c, &aes, &aes_token, "bm90IHJzYQ==", "0").await;
    assert_api_error(&r, 400, "InvalidKeyMaterial");
    let r = import(&c, &aes, &aes_token, "%%%", "0").await;
    assert_api_error(&r, 400, "InvalidParameter");
    let r = must_call(
        &c,
        "ImportKeyMaterial",
        &[("KeyId", &sm4), ("ImportToken", &sm4_token), ("EncryptedKeyMaterial", &enc16)],
    )
    .await;
    assert!(r.body.get("Code").is_none());
    assert_eq!(state(&c, &sm4).await, "Enabled");
    let kms = must_create_key(&c).await;
    let params = [
        ("KeyId", kms.as_str()),
        ("WrappingAlgorithm", "RSAES_OAEP_SHA_256"),
        ("WrappingKeySpec", "RSA_2048"),
    ];
    assert_api_error(
        &c.call("GetParametersForImport", &params).await.unwrap(),
        400,
        "Unsupported.Origin",
    );
    assert_api_error(
        &c.call("DeleteKeyMaterial", &[("KeyId", &kms)]).await.unwrap(),
        400,
        "Unsupported.Origin",
    );
    for (spec, algorithm) in
        [("RSA_2048", "SM2PKE"), ("EC_SM2", "RSAES_OAEP_SHA_1"), ("RSA_3072", "RSAES_OAEP_SHA_1")]
    {
        let params =
            [("KeyId", aes.as_str()), ("WrappingAlgorithm", algorithm), ("WrappingKeySpec", spec)];
        assert_api_error(
            &c.call("GetParametersForImport", &params).await.unwrap(),
            400,
            "InvalidParameter",
        );
    }
    let sm2_params =
        [("KeyId", aes.as_str()), ("WrappingAlgorithm", "SM2PKE"), ("WrappingKeySpec", "EC_SM2")];
    let r = must_call(&c, "GetParametersForImport", &sm2_params).await;
    assert!(B64.decode(r.str("PublicKey").unwrap()).unwrap().len() > 60);

    // Tokens expire after 24 hours.
    advance_clock(&node, 24 * 3600 * 1000).await;
    let r = import(&c, &aes, &aes_token, &wrap(&aes_public, "RSAES_OAEP_SHA_256", &material), "0")
        .await;
    assert_api_error(&r, 400, "ExpiredImportToken");

    // Material expiry: refused in the past; usable until it passes, then PendingImport behaviour.
    let (token, public) = parameters(&c, &aes, "RSAES_OAEP_SHA_256").await;
    let enc = wrap(&public, "RSAES_OAEP_SHA_256", &material);
    let r = import(&c, &aes, &token, &enc, "1000").await;
    assert_api_error(&r, 400, "InvalidParameter");
    let in_an_hour = (node_now_s(&node).await + 3600).to_string();
    let r = import(&c, &aes, &token, &enc, &in_an_hour).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let d = must_call(&c, "DescribeKey", &[("KeyId", &aes)]).await;
    assert!(d.body["KeyMetadata"]["MaterialExpireTime"].as_str().unwrap().ends_with('Z'));
    must_call(&c, "Encrypt", &[("KeyId", &aes), ("Plaintext", "aGk=")]).await;
    advance_clock(&node, 3601 * 1000).await;
    let r = c.call("Encrypt", &[("KeyId", &aes), ("Plaintext", "aGk=")]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.PendingImport");

    // State table, external-key rows: GetParametersForImport and DeleteKeyMaterial succeed in
    // every state; ImportKeyMaterial fails only in PendingDeletion.
    let r = must_call(&c, "CreateKey", &[("Origin", "EXTERNAL")]).await;
    let pd = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let (token, public) = parameters(&c, &pd, "RSAES_OAEP_SHA_256").await;
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &pd)]).await;
    parameters(&c, &pd, "RSAES_OAEP_SHA_256").await;
    let r = import(&c, &pd, &token, &wrap(&public, "RSAES_OAEP_SHA_256", &material), "0").await;
    assert_api_error(&r, 409, "Rejected.StateModifiedFailed");
    must_call(&c, "DeleteKeyMaterial", &[("KeyId", &pd)]).await;
    assert_eq!(state(&c, &pd).await, "PendingDeletion");
    must_call(&c, "CancelKeyDeletion", &[("KeyId", &pd)]).await;
    assert_eq!(state(&c, &pd).await, "PendingImport");
    let (token, public) = parameters(&c, &pd, "RSAES_OAEP_SHA_256").await;
    let r = import(&c, &pd, &token, &wrap(&public, "RSAES_OAEP_SHA_256", &material), "0").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    must_call(&c, "DisableKey", &[("KeyId", &pd)]).await;
    parameters(&c, &pd, "RSAES_OAEP_SHA_256").await;
    let r = import(&c, &pd, &token, &wrap(&public, "RSAES_OAEP_SHA_256", &material), "0").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(state(&c, &pd).await, "Disabled");
    must_call(&c, "DeleteKeyMaterial", &[("KeyId", &pd)]).await;
    assert_eq!(state(&c, &pd).await, "PendingImport");

    // An expired token is still answered as expired (above) for a day; then the scheduler
    // purges it and it is unknown.
    advance_clock(&node, ImportToken::KEPT_AFTER_EXPIRY_MS).await;
    let enc = wrap(&aes_public, "RSAES_OAEP_SHA_256", &material);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = import(&c, &aes, &aes_token, &enc, "0").await;
        let code = r.body["Code"].as_str().unwrap_or_default().to_string();
        if code == "InvalidImportToken" {
            break;
        }
        assert_eq!(code, "ExpiredImportToken", "{:?}", r.body);
        assert!(std::time::Instant::now() < deadline, "the expired token was never purged");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A fresh token's public key (used to show a token cannot be mixed with another call's key).
async fn public_of(c: &Client, key: &str, algorithm: &str) -> (String, RsaPublicKey) {
    parameters(c, key, algorithm).await
}

/// The node's KMS time in Unix seconds (the test clock may be ahead of the wall clock).
async fn node_now_s(node: &crate::support::NodeProcess) -> i64 {
    let url = format!("http://{}/_test/clock?AdvanceMs=0", node.endpoint);
    let r = reqwest::Client::new().post(url).send().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    body["NowMs"].as_i64().unwrap() / 1000
}
