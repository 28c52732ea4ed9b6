//! CreateKey with every key spec, usage, origin and protection level of docs/DESIGN.md §4, and the
//! rules that tie them together.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::support::{assert_api_error, must_call, must_start_dev};

const SPECS: &[&str] = &[
    "Aliyun_AES_256",
    "Aliyun_AES_128",
    "Aliyun_AES_192",
    "Aliyun_SM4",
    "RSA_2048",
    "RSA_3072",
    "EC_P256",
    "EC_P256K",
    "EC_SM2",
];

/// The usages each spec allows (docs/DESIGN.md §4).
fn allowed(spec: &str, usage: &str) -> bool {
    match spec {
        "EC_P256" | "EC_P256K" => usage == "SIGN/VERIFY",
        "RSA_2048" | "RSA_3072" | "EC_SM2" => true,
        _ => usage == "ENCRYPT/DECRYPT",
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_key_spec_and_usage() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let mut made = Vec::new();
    for spec in SPECS {
        for usage in ["ENCRYPT/DECRYPT", "SIGN/VERIFY"] {
            let r = c.call("CreateKey", &[("KeySpec", spec), ("KeyUsage", usage)]).await.unwrap();
            if !allowed(spec, usage) {
                assert_api_error(&r, 400, "InvalidParameter");
                assert!(r.str("Message").unwrap().contains("KeyUsage"), "{:?}", r.body);
                continue;
            }
            assert_eq!(r.status, 200, "{spec} {usage}: {:?}", r.body);
            let m = &r.body["KeyMetadata"];
            assert_eq!((m["KeySpec"].as_str(), m["KeyUsage"].as_str()), (Some(*spec), Some(usage)));
            assert_eq!(m["KeyState"], "Enabled");
            assert_eq!(m["Origin"], "Aliyun_KMS");
            assert_eq!(m["ProtectionLevel"], "SOFTWARE");
            assert_eq!(m["AutomaticRotation"], "Disabled");
            let id = m["KeyId"].as_str().unwrap().to_string();
            let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
            assert_eq!(d.body["KeyMetadata"], *m, "DescribeKey equals CreateKey's metadata");
            made.push((spec.to_string(), usage, id));
        }
    }
    // Default usage ENCRYPT/DECRYPT: fine for symmetric, RSA and SM2, not for EC_P256(K).
    for spec in SPECS {
        let r = c.call("CreateKey", &[("KeySpec", spec)]).await.unwrap();
        let want_ok = allowed(spec, "ENCRYPT/DECRYPT");
        assert_eq!(r.status == 200, want_ok, "{spec}: {:?}", r.body);
    }
    for bad in ["AES_256", "aliyun_aes_256", "RSA_4096", "EC_P384"] {
        let r = c.call("CreateKey", &[("KeySpec", bad)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }
    let r = c.call("CreateKey", &[("KeyUsage", "ENCRYPT")]).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");

    // Symmetric keys encrypt; asymmetric keys are refused by Encrypt.
    for (spec, usage, id) in &made {
        let r = c.call("Encrypt", &[("KeyId", id), ("Plaintext", "aGVsbG8=")]).await.unwrap();
        if spec.starts_with("Aliyun_") {
            assert_eq!(r.status, 200, "{spec}: {:?}", r.body);
            let blob = r.str("CiphertextBlob").unwrap().to_string();
            // The blob's version byte names its cipher: SM4-GCM (0x02) for SM4 keys only.
            let raw = B64.decode(&blob).unwrap();
            assert_eq!(raw[0], if *spec == "Aliyun_SM4" { 2 } else { 1 }, "{spec}");
            let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob)]).await;
            assert_eq!(d.str("Plaintext"), Some("aGVsbG8="), "{spec}");
        } else {
            assert_api_error(&r, 400, "Unsupported.Operation");
            let _ = usage;
        }
    }

    // ListKeys filters by spec and usage.
    let list = |filters: String| {
        let c = c.clone();
        async move {
            let r = must_call(&c, "ListKeys", &[("Filters", &filters), ("PageSize", "100")]).await;
            r.body["TotalCount"].as_u64().unwrap()
        }
    };
    let sign_keys = made.iter().filter(|(_, u, _)| *u == "SIGN/VERIFY").count() as u64;
    assert_eq!(list(r#"[{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]"#.into()).await, sign_keys);
    assert_eq!(
        list(r#"[{"Key":"KeySpec","Values":["RSA_2048","RSA_3072"]},{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]"#.into()).await,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn origin_protection_and_rotation_rules() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();

    // EXTERNAL: symmetric only, starts in PendingImport with no material.
    for spec in ["Aliyun_AES_256", "Aliyun_SM4", "Aliyun_AES_128"] {
        let r = must_call(&c, "CreateKey", &[("KeySpec", spec), ("Origin", "EXTERNAL")]).await;
        let m = &r.body["KeyMetadata"];
        assert_eq!(m["KeyState"], "PendingImport", "{spec}");
        assert_eq!(m["Origin"], "EXTERNAL");
        assert_eq!(m["MaterialExpireTime"], "");
        let id = m["KeyId"].as_str().unwrap();
        let r = c.call("Encrypt", &[("KeyId", id), ("Plaintext", "aGk=")]).await.unwrap();
        assert_api_error(&r, 409, "Rejected.PendingImport");
        // Cancelling a deletion returns it to PendingImport, not Enabled: it still has no material.
        must_call(&c, "ScheduleKeyDeletion", &[("KeyId", id)]).await;
        must_call(&c, "CancelKeyDeletion", &[("KeyId", id)]).await;
        let d = must_call(&c, "DescribeKey", &[("KeyId", id)]).await;
        assert_eq!(d.body["KeyMetadata"]["KeyState"], "PendingImport");
        let l = must_call(&c, "ListKeyVersions", &[("KeyId", id)]).await;
        assert_eq!(l.body["TotalCount"].as_u64(), Some(1));
    }
    for spec in ["RSA_2048", "EC_SM2"] {
        let r = c.call("CreateKey", &[("KeySpec", spec), ("Origin", "EXTERNAL")]).await.unwrap();
        assert_api_error(&r, 400, "Unsupported.Origin");
    }
    for bad in ["external", "KMS"] {
        let r = c.call("CreateKey", &[("Origin", bad)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }
    let r = must_call(&c, "CreateKey", &[("Origin", "Aliyun_KMS")]).await;
    assert_eq!(r.body["KeyMetadata"]["KeyState"], "Enabled");

    // No HSM backs this service.
    let r = c.call("CreateKey", &[("ProtectionLevel", "HSM")]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.ProtectionLevel");
    let r = c.call("CreateKey", &[("ProtectionLevel", "hsm")]).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");
    must_call(&c, "CreateKey", &[("ProtectionLevel", "SOFTWARE")]).await;

    // Automatic rotation: KMS-generated symmetric keys only.
    let rotate = [("EnableAutomaticRotation", "true"), ("RotationInterval", "30d")];
    for extra in [
        [("KeySpec", "RSA_2048"), ("Origin", "Aliyun_KMS")],
        [("KeySpec", "Aliyun_AES_256"), ("Origin", "EXTERNAL")],
    ] {
        let params: Vec<_> = rotate.iter().chain(extra.iter()).copied().collect();
        let r = c.call("CreateKey", &params).await.unwrap();
        assert_api_error(&r, 400, "Unsupported.Operation");
    }
    let r = must_call(&c, "CreateKey", &[("KeySpec", "EC_SM2")]).await;
    let sm2 = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let params = [("KeyId", sm2.as_str()), rotate[0], rotate[1]];
    let r = c.call("UpdateRotationPolicy", &params).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Operation");
    must_call(&c, "UpdateRotationPolicy", &[("KeyId", &sm2), ("EnableAutomaticRotation", "false")])
        .await;
    let r = must_call(&c, "CreateKey", &[("KeySpec", "Aliyun_SM4"), rotate[0], rotate[1]]).await;
    assert_eq!(r.body["KeyMetadata"]["RotationInterval"], "2592000s");

    // Description up to 8192 bytes.
    let long = "d".repeat(8192);
    must_call(&c, "CreateKey", &[("Description", &long)]).await;
    let r = c.call("CreateKey", &[("Description", &format!("{long}d"))]).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");
}
