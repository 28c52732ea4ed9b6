//! HMAC keys end to end (docs/API.md "HMAC keys"): CreateKey with `HMAC_SHA256` / `HMAC_SM3`,
//! GenerateMac and VerifyMac by id, alias, ARN and over CTyun EOP, the parameter limits, the
//! usage rules both ways (an HMAC key does not encrypt, an AES key makes no MAC), a disabled key,
//! and automatic rotation with old MACs still verifying under their KeyVersionId.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use yaoshi_client::Client;

use crate::support::{NodeProcess, advance_clock, assert_api_error, must_be_ready, must_call};

const DAY_MS: i64 = 86_400_000;

/// A `--test-clock` node whose scheduler ticks every 50 ms.
async fn start() -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--test-clock", "--scheduler-tick-ms", "50"],
    );
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

/// Creates a key with `params` and returns its KeyMetadata.
async fn create(c: &Client, params: &[(&str, &str)]) -> serde_json::Value {
    must_call(c, "CreateKey", params).await.body["KeyMetadata"].clone()
}

/// GenerateMac of `message` (raw bytes) under `key`: (MacData, KeyVersionId).
async fn generate(c: &Client, key: &str, message: &[u8]) -> (String, String) {
    let r = must_call(c, "GenerateMac", &[("KeyId", key), ("Message", &B64.encode(message))]).await;
    (r.str("MacData").unwrap().to_string(), r.str("KeyVersionId").unwrap().to_string())
}

/// VerifyMac's `MacVerified` (with `KeyVersionId` when given).
async fn verified(c: &Client, key: &str, message: &[u8], mac: &str, version: Option<&str>) -> bool {
    let message = B64.encode(message);
    let mut p = vec![("KeyId", key), ("Message", message.as_str()), ("MacData", mac)];
    if let Some(v) = version {
        p.push(("KeyVersionId", v));
    }
    let r = must_call(c, "VerifyMac", &p).await;
    r.body["MacVerified"].as_bool().expect("MacVerified is a JSON boolean")
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_and_verify_macs() {
    let (_dir, node) = start().await;
    let c = node.client();
    let mut macs = Vec::new();
    for spec in ["HMAC_SHA256", "HMAC_SM3"] {
        let m = create(&c, &[("KeySpec", spec)]).await;
        assert_eq!(
            (m["KeySpec"].as_str(), m["KeyUsage"].as_str()),
            (Some(spec), Some("GENERATE/VERIFY_MAC"))
        );
        let key = m["KeyId"].as_str().unwrap().to_string();
        let primary = m["PrimaryKeyVersion"].as_str().unwrap().to_string();
        let arn = m["Arn"].as_str().unwrap().to_string();
        let alias = format!("alias/mac-{spec}");
        must_call(&c, "CreateAlias", &[("KeyId", &key), ("AliasName", &alias)]).await;
        let (mac, version) = generate(&c, &key, b"hello mac").await;
        assert_eq!(version, primary);
        assert_eq!(B64.decode(&mac).unwrap().len(), 32);
        // HMAC is deterministic: the same MAC by id, alias and ARN; the response names the key.
        for by in [alias.as_str(), arn.as_str()] {
            let r = must_call(
                &c,
                "GenerateMac",
                &[("KeyId", by), ("Message", &B64.encode(b"hello mac"))],
            )
            .await;
            assert_eq!(
                (r.str("MacData"), r.str("KeyId")),
                (Some(mac.as_str()), Some(key.as_str()))
            );
        }
        assert!(verified(&c, &key, b"hello mac", &mac, None).await);
        assert!(verified(&c, &alias, b"hello mac", &mac, Some(&primary)).await);
        // A tampered message or MAC, a truncated MAC: false, not an error.
        assert!(!verified(&c, &key, b"hello mad", &mac, None).await);
        let mut bad = B64.decode(&mac).unwrap();
        bad[0] ^= 1;
        assert!(!verified(&c, &key, b"hello mac", &B64.encode(&bad), None).await);
        assert!(!verified(&c, &key, b"hello mac", &B64.encode(&bad[..31]), None).await);
        // Message limits: 4096 bytes decoded pass, 4097 do not; not Base64 → InvalidParameter.
        generate(&c, &key, &[7u8; 4096]).await;
        let long = B64.encode([7u8; 4097]);
        for action in ["GenerateMac", "VerifyMac"] {
            let r = c.call(action, &[("KeyId", &key), ("Message", &long), ("MacData", &mac)]).await;
            assert_api_error(&r.unwrap(), 400, "InvalidParameter");
            let r = c.call(action, &[("KeyId", &key), ("Message", "!!"), ("MacData", &mac)]).await;
            assert_api_error(&r.unwrap(), 400, "InvalidParameter");
        }
        let r =
            c.call("VerifyMac", &[("KeyId", &key), ("Message", "aGk="), ("MacData", "!!")]).await;
        assert_api_error(&r.unwrap(), 400, "InvalidParameter");
        let r = c.call("VerifyMac", &[("KeyId", &key), ("Message", "aGk=")]).await.unwrap();
        assert_api_error(&r, 400, "MissingParameter");
        let r = c.call("GenerateMac", &[("KeyId", &key)]).await.unwrap();
        assert_api_error(&r, 400, "MissingParameter");
        // An unknown version answers what DescribeKeyVersion answers.
        let unknown = [("KeyId", key.as_str()), ("KeyVersionId", "no-such-version")];
        let r = c.call("DescribeKeyVersion", &unknown).await.unwrap();
        assert_api_error(&r, 404, "Forbidden.KeyVersionNotFound");
        let mut p = unknown.to_vec();
        p.extend([("Message", "aGk="), ("MacData", mac.as_str())]);
        assert_api_error(
            &c.call("VerifyMac", &p).await.unwrap(),
            404,
            "Forbidden.KeyVersionNotFound",
        );
        let r = c.call("GenerateMac", &[("KeyId", "no-such-key"), ("Message", "aGk=")]).await;
        assert_api_error(&r.unwrap(), 404, "Forbidden.KeyNotFound");
        macs.push((key, mac));
    }
    // Two keys (and two algorithms): one's MAC does not verify under the other.
    assert_ne!(macs[0].1, macs[1].1);
    assert!(!verified(&c, &macs[1].0, b"hello mac", &macs[0].1, None).await);
    assert!(!verified(&c, &macs[0].0, b"hello mac", &macs[1].1, None).await);

    // CTyun EOP: `/v1/cryptoOps/generateMac` and `verifyMac`, the same MAC.
    let ok = |r: &yaoshi_client::Response| {
        assert_eq!((r.status, &r.body["statusCode"]), (200, &json!(800)), "{:?}", r.body);
        r.body["returnObj"].clone()
    };
    let body = json!({"cmkUuid": macs[0].0, "message": B64.encode(b"hello mac")});
    let r = ok(&c.eop("cryptoOps", "generateMac", &body).await.unwrap());
    assert_eq!((&r["macData"], &r["keyId"]), (&json!(macs[0].1), &json!(macs[0].0)));
    let body =
        json!({"cmkUuid": macs[0].0, "message": B64.encode(b"hello mac"), "macData": macs[0].1});
    assert_eq!(ok(&c.eop("cryptoOps", "verifyMac", &body).await.unwrap())["macVerified"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_rules_and_key_states() {
    let (_dir, node) = start().await;
    let c = node.client();
    // CreateKey: an HMAC spec makes MACs only, and only HMAC specs make MACs; no BYOK.
    for (spec, usage) in [
        ("HMAC_SM3", "ENCRYPT/DECRYPT"),
        ("HMAC_SHA256", "SIGN/VERIFY"),
        ("Aliyun_AES_256", "GENERATE/VERIFY_MAC"),
        ("EC_SM2", "GENERATE/VERIFY_MAC"),
        ("RSA_2048", "GENERATE/VERIFY_MAC"),
    ] {
        let r = c.call("CreateKey", &[("KeySpec", spec), ("KeyUsage", usage)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
        assert!(r.str("Message").unwrap().contains("KeyUsage"), "{:?}", r.body);
    }
    let r = c.call("CreateKey", &[("KeySpec", "HMAC_SM3"), ("Origin", "EXTERNAL")]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Origin");
    let explicit =
        create(&c, &[("KeySpec", "HMAC_SM3"), ("KeyUsage", "GENERATE/VERIFY_MAC")]).await;
    assert_eq!(explicit["KeyUsage"], "GENERATE/VERIFY_MAC");
    let filtered = [("Filters", r#"[{"Key":"KeyUsage","Values":["GENERATE/VERIFY_MAC"]}]"#)];
    assert_eq!(must_call(&c, "ListKeys", &filtered).await.body["TotalCount"], 1);
    let filtered = [("Filters", r#"[{"Key":"KeySpec","Values":["HMAC_SM3","HMAC_SHA256"]}]"#)];
    assert_eq!(must_call(&c, "ListKeys", &filtered).await.body["TotalCount"], 1);

    let hmac = create(&c, &[("KeySpec", "HMAC_SHA256")]).await;
    let key = hmac["KeyId"].as_str().unwrap().to_string();
    let version = hmac["PrimaryKeyVersion"].as_str().unwrap().to_string();
    let aes = create(&c, &[]).await["KeyId"].as_str().unwrap().to_string();
    let sign = create(&c, &[("KeySpec", "EC_P256"), ("KeyUsage", "SIGN/VERIFY")]).await;
    let sign_key = sign["KeyId"].as_str().unwrap().to_string();
    // The code a usage mismatch already has: Encrypt on a SIGN/VERIFY key.
    let r = c.call("Encrypt", &[("KeyId", &sign_key), ("Plaintext", "aGk=")]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Operation");
    // Every other crypto action on the HMAC key answers the same.
    let digest = B64.encode([1u8; 32]);
    for (action, params) in [
        ("Encrypt", vec![("Plaintext", "aGk=")]),
        ("GenerateDataKey", vec![]),
        ("GenerateDataKeyWithoutPlaintext", vec![]),
        ("GetPublicKey", vec![("KeyVersionId", version.as_str())]),
        (
            "AsymmetricSign",
            vec![("KeyVersionId", &version), ("Algorithm", "ECDSA_SHA_256"), ("Digest", &digest)],
        ),
        (
            "AsymmetricEncrypt",
            vec![("KeyVersionId", &version), ("Algorithm", "SM2PKE"), ("Plaintext", "aGk=")],
        ),
        ("CreateKeyVersion", vec![]),
    ] {
        let mut p = vec![("KeyId", key.as_str())];
        p.extend(params);
        assert_api_error(&c.call(action, &p).await.unwrap(), 400, "Unsupported.Operation");
    }
    let blob = must_call(&c, "Encrypt", &[("KeyId", &aes), ("Plaintext", "aGk=")]).await;
    let blob = blob.str("CiphertextBlob").unwrap().to_string();
    let p = [("DestinationKeyId", key.as_str()), ("CiphertextBlob", blob.as_str())];
    assert_api_error(&c.call("ReEncrypt", &p).await.unwrap(), 400, "Unsupported.Operation");
    // …and GenerateMac / VerifyMac on a key that is not an HMAC key.
    let (mac, _) = generate(&c, &key, b"m").await;
    for other in [&aes, &sign_key] {
        let r = c.call("GenerateMac", &[("KeyId", other), ("Message", "bQ==")]).await.unwrap();
        assert_api_error(&r, 400, "Unsupported.Operation");
        let p = [("KeyId", other.as_str()), ("Message", "bQ=="), ("MacData", mac.as_str())];
        assert_api_error(&c.call("VerifyMac", &p).await.unwrap(), 400, "Unsupported.Operation");
    }

    // A disabled key: the code Encrypt gives, for both actions; enabled again it verifies.
    must_call(&c, "DisableKey", &[("KeyId", &key)]).await;
    must_call(&c, "DisableKey", &[("KeyId", &aes)]).await;
    let r = c.call("Encrypt", &[("KeyId", &aes), ("Plaintext", "aGk=")]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.Disabled");
    let r = c.call("GenerateMac", &[("KeyId", &key), ("Message", "bQ==")]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.Disabled");
    let p = [("KeyId", key.as_str()), ("Message", "bQ=="), ("MacData", mac.as_str())];
    assert_api_error(&c.call("VerifyMac", &p).await.unwrap(), 409, "Rejected.Disabled");
    must_call(&c, "EnableKey", &[("KeyId", &key)]).await;
    assert!(verified(&c, &key, b"m", &mac, None).await);
    // Scheduled for deletion: Rejected.PendingDeletion.
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &key), ("PendingWindowInDays", "7")]).await;
    let r = c.call("GenerateMac", &[("KeyId", &key), ("Message", "bQ==")]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.PendingDeletion");
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_keeps_old_macs_verifying() {
    let (_dir, node) = start().await;
    let c = node.client();
    let m = create(
        &c,
        &[("KeySpec", "HMAC_SM3"), ("EnableAutomaticRotation", "true"), ("RotationInterval", "7d")],
    )
    .await;
    assert_eq!(m["AutomaticRotation"], "Enabled");
    let key = m["KeyId"].as_str().unwrap().to_string();
    // UpdateRotationPolicy also turns rotation on for an HMAC key made without it.
    let other =
        create(&c, &[("KeySpec", "HMAC_SHA256")]).await["KeyId"].as_str().unwrap().to_string();
    let p = [
        ("KeyId", other.as_str()),
        ("EnableAutomaticRotation", "true"),
        ("RotationInterval", "7d"),
    ];
    must_call(&c, "UpdateRotationPolicy", &p).await;

    let (old_mac, old_version) = generate(&c, &key, b"before rotation").await;
    let (other_mac, other_version) = generate(&c, &other, b"before rotation").await;
    advance_clock(&node, 7 * DAY_MS + 1000).await;
    let start = Instant::now();
    for k in [&key, &other] {
        loop {
            let v = must_call(&c, "ListKeyVersions", &[("KeyId", k)]).await;
            if v.body["TotalCount"] == 2 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "not rotated: {:?}", v.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (new_mac, new_version) = generate(&c, &key, b"before rotation").await;
    assert_ne!(new_version, old_version);
    assert_ne!(new_mac, old_mac, "a rotation brings new material");
    let d = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
    assert_eq!(d.body["KeyMetadata"]["PrimaryKeyVersion"], new_version.as_str());
    // The old MAC verifies under its version, not under the new primary (the default).
    assert!(verified(&c, &key, b"before rotation", &old_mac, Some(&old_version)).await);
    assert!(!verified(&c, &key, b"before rotation", &old_mac, None).await);
    assert!(verified(&c, &key, b"before rotation", &new_mac, None).await);
    assert!(!verified(&c, &key, b"before rotation", &new_mac, Some(&old_version)).await);
    let (_, rotated) = generate(&c, &other, b"x").await;
    assert_ne!(rotated, other_version);
    assert!(verified(&c, &other, b"before rotation", &other_mac, Some(&other_version)).await);
}
