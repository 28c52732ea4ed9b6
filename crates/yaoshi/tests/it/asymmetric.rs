//! The asymmetric data plane through real HTTP: AsymmetricSign/Verify and
//! AsymmetricEncrypt/Decrypt for every spec and algorithm with their limits, the errors for
//! wrong state, usage, spec, algorithm and input, and the envelope exports (ExportDataKey,
//! GenerateAndExportDataKey) and ReEncrypt from public-key ciphertext, unwrapped by the server's
//! own AsymmetricDecrypt. Interoperability with independent implementations is checked through
//! the Python SDKs (compat/flow_crypto.py).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use yaoshi_client::Client;

use crate::support::{assert_api_error, must_call, must_create_key, must_start_dev};

const SIGN_ALGORITHMS: [&str; 4] =
    ["RSA_PSS_SHA_256", "RSA_PKCS1_SHA_256", "ECDSA_SHA_256", "SM2DSA"];
const ENCRYPT_ALGORITHMS: [&str; 3] = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "SM2PKE"];

/// A new key of `spec` and `usage`, and its primary version id.
async fn key(c: &Client, spec: &str, usage: &str) -> (String, String) {
    let r = must_call(c, "CreateKey", &[("KeySpec", spec), ("KeyUsage", usage)]).await;
    let m = &r.body["KeyMetadata"];
    (m["KeyId"].as_str().unwrap().to_string(), m["PrimaryKeyVersion"].as_str().unwrap().to_string())
}

fn digest_b64(message: &[u8]) -> String {
    B64.encode(Sha256::digest(message))
}

/// The Base64 DER inside a PEM public key, as `PublicKeyBlob` carries it.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_and_verify_every_spec() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    for (spec, algorithms) in [
        ("RSA_2048", &["RSA_PSS_SHA_256", "RSA_PKCS1_SHA_256"][..]),
        ("RSA_3072", &["RSA_PSS_SHA_256", "RSA_PKCS1_SHA_256"][..]),
        ("EC_P256", &["ECDSA_SHA_256"][..]),
        ("EC_P256K", &["ECDSA_SHA_256"][..]),
        ("EC_SM2", &["SM2DSA"][..]),
    ] {
        let (id, version) = key(&c, spec, "SIGN/VERIFY").await;
        let digest = digest_b64(b"message");
        let other = digest_b64(b"other message");
        for alg in algorithms {
            let p = [("KeyId", id.as_str()), ("KeyVersionId", &version), ("Algorithm", alg)];
            let mut sign = p.to_vec();
            sign.push(("Digest", &digest));
            let r = must_call(&c, "AsymmetricSign", &sign).await;
            assert_eq!(r.str("KeyId"), Some(id.as_str()));
            assert_eq!(r.str("KeyVersionId"), Some(version.as_str()));
            let sig = r.str("Value").unwrap().to_string();
            let raw = B64.decode(&sig).unwrap();
            if spec.starts_with("RSA") {
                assert_eq!(raw.len(), if spec == "RSA_2048" { 256 } else { 384 }, "{spec}");
            } else {
                assert_eq!(raw[0], 0x30, "{spec}: DER SEQUENCE");
            }
            let mut tampered = raw.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            let tampered = B64.encode(tampered);
            for (d, s, valid) in [
                (&digest, &sig, true),
                (&other, &sig, false),
                (&digest, &tampered, false),
                (&digest, &B64.encode(b"junk"), false),
            ] {
                let mut verify = p.to_vec();
                verify.extend([("Digest", d.as_str()), ("Value", s.as_str())]);
                let r = must_call(&c, "AsymmetricVerify", &verify).await;
                assert_eq!(r.body["Value"], serde_json::Value::Bool(valid), "{spec} {alg}");
            }
            // The alias of the key works as KeyId.
            let alias = format!("alias/sign-{id}-{alg}");
            must_call(&c, "CreateAlias", &[("KeyId", &id), ("AliasName", &alias)]).await;
            let mut by_alias = sign.clone();
            by_alias[0] = ("KeyId", &alias);
            let r = must_call(&c, "AsymmetricSign", &by_alias).await;
            assert_eq!(r.str("KeyId"), Some(id.as_str()));
        }
        // Algorithms of other specs, bad digests.
        for alg in SIGN_ALGORITHMS.iter().chain(["RSA_PSS_SHA_384", "ecdsa_sha_256"].iter()) {
            if algorithms.contains(alg) {
                continue;
            }
            let p = [("KeyId", id.as_str()), ("KeyVersionId", &version), ("Algorithm", alg)];
            let mut sign = p.to_vec();
            sign.push(("Digest", &digest));
            assert_api_error(
                &c.call("AsymmetricSign", &sign).await.unwrap(),
                400,
                "InvalidParameter",
            );
        }
        let alg = algorithms[0];
        for bad in [B64.encode([1u8; 31]), B64.encode([1u8; 33]), "not base64!".to_string()] {
            let p = [
                ("KeyId", id.as_str()),
                ("KeyVersionId", &version),
                ("Algorithm", alg),
                ("Digest", &bad),
            ];
            let r = c.call("AsymmetricSign", &p).await.unwrap();
            assert_api_error(&r, 400, "InvalidParameter");
            assert!(r.body["Message"].as_str().unwrap().contains("Digest"), "{:?}", r.body);
        }
        let p = [
            ("KeyId", id.as_str()),
            ("KeyVersionId", &version),
            ("Algorithm", alg),
            ("Digest", &digest),
            ("Value", "%%%"),
        ];
        assert_api_error(&c.call("AsymmetricVerify", &p).await.unwrap(), 400, "InvalidParameter");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypt_and_decrypt_every_spec_at_the_limits() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    for (spec, limits) in [
        ("RSA_2048", &[("RSAES_OAEP_SHA_256", 190), ("RSAES_OAEP_SHA_1", 214)][..]),
        ("RSA_3072", &[("RSAES_OAEP_SHA_256", 318), ("RSAES_OAEP_SHA_1", 342)][..]),
        ("EC_SM2", &[("SM2PKE", 6047)][..]),
    ] {
        let (id, version) = key(&c, spec, "ENCRYPT/DECRYPT").await;
        for &(alg, max) in limits {
            let p = [("KeyId", id.as_str()), ("KeyVersionId", &version), ("Algorithm", alg)];
            for len in [1, max] {
                let plaintext = B64.encode((0..len).map(|i| i as u8).collect::<Vec<_>>());
                let mut enc = p.to_vec();
                enc.push(("Plaintext", &plaintext));
                let r = must_call(&c, "AsymmetricEncrypt", &enc).await;
                assert_eq!(r.str("KeyVersionId"), Some(version.as_str()));
                let ct = r.str("CiphertextBlob").unwrap().to_string();
                let mut dec = p.to_vec();
                dec.push(("CiphertextBlob", &ct));
                let d = must_call(&c, "AsymmetricDecrypt", &dec).await;
                assert_eq!(d.str("Plaintext"), Some(plaintext.as_str()), "{spec} {alg} {len}");
                // Tampered ciphertext: one uniform error naming the parameter.
                let mut raw = B64.decode(&ct).unwrap();
                let mid = raw.len() / 2;
                raw[mid] ^= 0x40;
                let bad = B64.encode(raw);
                let mut dec = p.to_vec();
                dec.push(("CiphertextBlob", &bad));
                let r = c.call("AsymmetricDecrypt", &dec).await.unwrap();
                assert_api_error(&r, 400, "InvalidParameter");
                assert!(r.body["Message"].as_str().unwrap().contains("CiphertextBlob"));
            }
            let too_long = B64.encode(vec![7u8; max + 1]);
            let mut enc = p.to_vec();
            enc.push(("Plaintext", &too_long));
            let r = c.call("AsymmetricEncrypt", &enc).await.unwrap();
            assert_api_error(&r, 400, "InvalidParameter");
            assert!(r.body["Message"].as_str().unwrap().contains("Plaintext"));
        }
        // Algorithms that do not fit the spec, and the decryption-only PKCS#1 v1.5.
        for alg in
            ENCRYPT_ALGORITHMS.iter().chain(["RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_512"].iter())
        {
            if limits.iter().any(|(a, _)| a == alg) {
                continue;
            }
            let p = [
                ("KeyId", id.as_str()),
                ("KeyVersionId", &version),
                ("Algorithm", alg),
                ("Plaintext", "aGk="),
            ];
            let r = c.call("AsymmetricEncrypt", &p).await.unwrap();
            assert_api_error(&r, 400, "InvalidParameter");
            assert!(r.body["Message"].as_str().unwrap().contains("Algorithm"), "{:?}", r.body);
        }
        let p = [
            ("KeyId", id.as_str()),
            ("KeyVersionId", &version),
            ("Algorithm", limits[0].0),
            ("CiphertextBlob", "AAAA"),
        ];
        assert_api_error(&c.call("AsymmetricDecrypt", &p).await.unwrap(), 400, "InvalidParameter");
    }
}

/// Every asymmetric action against keys of the wrong kind, usage and state, and unknown keys and
/// versions: the reference's error, never a 5xx.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_key_usage_state_and_version() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let digest = digest_b64(b"m");
    let (sign_key, sign_version) = key(&c, "EC_P256", "SIGN/VERIFY").await;
    let (enc_key, enc_version) = key(&c, "RSA_2048", "ENCRYPT/DECRYPT").await;
    let sig = must_call(
        &c,
        "AsymmetricSign",
        &[
            ("KeyId", &sign_key),
            ("KeyVersionId", &sign_version),
            ("Algorithm", "ECDSA_SHA_256"),
            ("Digest", &digest),
        ],
    )
    .await
    .str("Value")
    .unwrap()
    .to_string();
    let ct = must_call(
        &c,
        "AsymmetricEncrypt",
        &[
            ("KeyId", &enc_key),
            ("KeyVersionId", &enc_version),
            ("Algorithm", "RSAES_OAEP_SHA_256"),
            ("Plaintext", "aGk="),
        ],
    )
    .await
    .str("CiphertextBlob")
    .unwrap()
    .to_string();
    let symmetric = must_create_key(&c).await;
    let sym_version = must_call(&c, "DescribeKey", &[("KeyId", &symmetric)]).await.body["KeyMetadata"]
        ["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // (action, extra parameters) for a key and version.
    let calls = |k: &str, v: &str| -> Vec<(&'static str, Vec<(String, String)>)> {
        let base = |alg: &str| {
            vec![
                ("KeyId".to_string(), k.to_string()),
                ("KeyVersionId".to_string(), v.to_string()),
                ("Algorithm".to_string(), alg.to_string()),
            ]
        };
        let with = |mut p: Vec<(String, String)>, name: &str, value: &str| {
            p.push((name.to_string(), value.to_string()));
            p
        };
        vec![
            ("AsymmetricSign", with(base("ECDSA_SHA_256"), "Digest", &digest)),
            (
                "AsymmetricVerify",
                with(with(base("ECDSA_SHA_256"), "Digest", &digest), "Value", &sig),
            ),
            ("AsymmetricEncrypt", with(base("RSAES_OAEP_SHA_256"), "Plaintext", "aGk=")),
            ("AsymmetricDecrypt", with(base("RSAES_OAEP_SHA_256"), "CiphertextBlob", &ct)),
            ("GetPublicKey", base("ECDSA_SHA_256")),
        ]
    };
    let run = |action: &'static str, p: Vec<(String, String)>| {
        let c = c.clone();
        async move {
            let refs: Vec<(&str, &str)> = p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            c.call(action, &refs).await.unwrap()
        }
    };
    // The right key for each action works; the other usage and symmetric keys are refused.
    for (action, p) in calls(&sign_key, &sign_version) {
        let r = run(action, p).await;
        match action {
            "AsymmetricSign" | "AsymmetricVerify" | "GetPublicKey" => {
                assert_eq!(r.status, 200, "{action}")
            }
            _ => assert_api_error(&r, 400, "Unsupported.Operation"),
        }
    }
    for (action, p) in calls(&enc_key, &enc_version) {
        let r = run(action, p).await;
        match action {
            "AsymmetricEncrypt" | "AsymmetricDecrypt" | "GetPublicKey" => {
                assert_eq!(r.status, 200, "{action}")
            }
            _ => assert_api_error(&r, 400, "Unsupported.Operation"),
        }
    }
    for (action, p) in calls(&symmetric, &sym_version) {
        assert_api_error(&run(action, p).await, 400, "Unsupported.Operation");
    }
    // Unknown versions and keys; missing parameters.
    for (action, p) in calls(&sign_key, "01a20000-0000-7000-8000-000000000000") {
        if action.starts_with("AsymmetricSign")
            || action == "AsymmetricVerify"
            || action == "GetPublicKey"
        {
            assert_api_error(&run(action, p).await, 404, "Forbidden.KeyVersionNotFound");
        }
    }
    // Another key's version is not this key's.
    let r = run("GetPublicKey", calls(&sign_key, &enc_version).remove(4).1).await;
    assert_api_error(&r, 404, "Forbidden.KeyVersionNotFound");
    for (action, p) in calls("no-such-key", &sign_version) {
        assert_api_error(&run(action, p).await, 404, "Forbidden.KeyNotFound");
    }
    for (action, p) in calls(&sign_key, &sign_version) {
        for skip in 0..p.len() {
            if action == "GetPublicKey" && skip == 2 {
                continue; // GetPublicKey takes no Algorithm
            }
            let mut q = p.clone();
            let (name, _) = q.remove(skip);
            let r = run(action, q).await;
            assert_api_error(&r, 400, "MissingParameter");
            assert!(r.body["Message"].as_str().unwrap().contains(&name), "{action} {name}");
        }
    }
    // Disabled and PendingDeletion keys refuse every asymmetric action, with the state's code.
    for (state_change, code) in
        [("DisableKey", "Rejected.Disabled"), ("ScheduleKeyDeletion", "Rejected.PendingDeletion")]
    {
        for (k, v) in [(&sign_key, &sign_version), (&enc_key, &enc_version)] {
            let mut p = vec![("KeyId", k.as_str())];
            if state_change == "ScheduleKeyDeletion" {
                must_call(&c, "EnableKey", &[("KeyId", k)]).await;
                p.push(("PendingWindowInDays", "7"));
            }
            must_call(&c, state_change, &p).await;
            for (action, p) in calls(k, v) {
                assert_api_error(&run(action, p).await, 409, code);
            }
        }
    }
}

/// GenerateAndExportDataKey / ExportDataKey wrap the data key to a public key that the server
/// itself holds the private half of, so AsymmetricDecrypt unwraps it; ReEncrypt moves
/// public-key ciphertext under a symmetric key.
#[tokio::test(flavor = "multi_thread")]
async fn export_data_keys_and_re_encrypt_from_public_key_ciphertext() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let cmk = must_create_key(&c).await;
    let ctx = r#"{"app":"export"}"#;
    for (spec, alg, wrapping_spec) in [
        ("RSA_2048", "RSAES_OAEP_SHA_256", "RSA_2048"),
        ("RSA_2048", "RSAES_OAEP_SHA_1", "RSA_2048"),
        ("EC_SM2", "SM2PKE", "EC_SM2"),
    ] {
        let (wk, wv) = key(&c, spec, "ENCRYPT/DECRYPT").await;
        let pem = must_call(&c, "GetPublicKey", &[("KeyId", &wk), ("KeyVersionId", &wv)]).await;
        let pem = pem.str("PublicKey").unwrap().to_string();
        let blob = pem_body(&pem);
        let unwrap = |exported: String| {
            let c = c.clone();
            let (wk, wv) = (wk.clone(), wv.clone());
            async move {
                let p = [
                    ("KeyId", wk.as_str()),
                    ("KeyVersionId", &wv),
                    ("Algorithm", alg),
                    ("CiphertextBlob", &exported),
                ];
                must_call(&c, "AsymmetricDecrypt", &p).await.str("Plaintext").unwrap().to_string()
            }
        };
        for (size, len) in [
            (("KeySpec", "AES_128"), 16),
            (("NumberOfBytes", "100"), 100),
            (("KeySpec", "AES_256"), 32),
        ] {
            // DER SPKI as the reference sends it, and PEM for the AES_256 case.
            let public = if len == 32 { pem.as_str() } else { blob.as_str() };
            let p = [
                ("KeyId", cmk.as_str()),
                size,
                ("PublicKeyBlob", public),
                ("WrappingAlgorithm", alg),
                ("WrappingKeySpec", wrapping_spec),
                ("EncryptionContext", ctx),
            ];
            let r = must_call(&c, "GenerateAndExportDataKey", &p).await;
            assert_eq!(r.str("KeyId"), Some(cmk.as_str()));
            assert!(r.body.get("Plaintext").is_none(), "the data key is not returned in clear");
            let exported = unwrap(r.str("ExportedDataKey").unwrap().to_string()).await;
            let blob = r.str("CiphertextBlob").unwrap().to_string();
            let d =
                must_call(&c, "Decrypt", &[("CiphertextBlob", &blob), ("EncryptionContext", ctx)])
                    .await;
            assert_eq!(d.str("Plaintext"), Some(exported.as_str()), "{alg} {len}");
            assert_eq!(B64.decode(&exported).unwrap().len(), len);

            // ExportDataKey of the same blob exports the same data key.
            let p = [
                ("CiphertextBlob", blob.as_str()),
                ("PublicKeyBlob", public),
                ("WrappingAlgorithm", alg),
                ("WrappingKeySpec", wrapping_spec),
                ("EncryptionContext", ctx),
            ];
            let r = must_call(&c, "ExportDataKey", &p).await;
            assert_eq!(r.str("KeyId"), Some(cmk.as_str()));
            assert_eq!(unwrap(r.str("ExportedDataKey").unwrap().to_string()).await, exported);
            // Without the context the blob does not open.
            let r = c.call("ExportDataKey", &p[..4]).await.unwrap();
            assert_api_error(&r, 400, "InvalidParameter");
        }
        // ReEncrypt: public-key ciphertext of this key → the symmetric CMK.
        let plaintext = B64.encode(b"moved under a symmetric key");
        let ct = must_call(
            &c,
            "AsymmetricEncrypt",
            &[("KeyId", &wk), ("KeyVersionId", &wv), ("Algorithm", alg), ("Plaintext", &plaintext)],
        )
        .await
        .str("CiphertextBlob")
        .unwrap()
        .to_string();
        let p = [
            ("CiphertextBlob", ct.as_str()),
            ("SourceKeyId", &wk),
            ("SourceKeyVersionId", &wv),
            ("SourceEncryptionAlgorithm", alg),
            ("DestinationKeyId", &cmk),
            ("DestinationEncryptionContext", ctx),
        ];
        let r = must_call(&c, "ReEncrypt", &p).await;
        assert_eq!(r.str("SourceKeyId"), Some(wk.as_str()));
        assert_eq!(r.str("KeyId"), Some(cmk.as_str()));
        let blob = r.str("CiphertextBlob").unwrap().to_string();
        let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blob), ("EncryptionContext", ctx)])
            .await;
        assert_eq!(d.str("Plaintext"), Some(plaintext.as_str()));
        // Missing source key version; a wrong algorithm for the ciphertext.
        let r = c.call("ReEncrypt", &[p[0], p[1], p[3], p[4]]).await.unwrap();
        assert_api_error(&r, 400, "MissingParameter");
        let wrong = if alg == "SM2PKE" { "RSAES_OAEP_SHA_1" } else { "SM2PKE" };
        let r = c
            .call("ReEncrypt", &[p[0], p[1], p[2], ("SourceEncryptionAlgorithm", wrong), p[4]])
            .await
            .unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }

    // Wrapping parameters that do not fit together.
    let (rsa, rsa_v) = key(&c, "RSA_2048", "ENCRYPT/DECRYPT").await;
    let (sm2, sm2_v) = key(&c, "EC_SM2", "ENCRYPT/DECRYPT").await;
    let rsa_pub = pem_body(
        must_call(&c, "GetPublicKey", &[("KeyId", &rsa), ("KeyVersionId", &rsa_v)])
            .await
            .str("PublicKey")
            .unwrap(),
    );
    let sm2_pub = pem_body(
        must_call(&c, "GetPublicKey", &[("KeyId", &sm2), ("KeyVersionId", &sm2_v)])
            .await
            .str("PublicKey")
            .unwrap(),
    );
    let (rsa3072, rsa3072_v) = key(&c, "RSA_3072", "ENCRYPT/DECRYPT").await;
    let rsa3072_pub = pem_body(
        must_call(&c, "GetPublicKey", &[("KeyId", &rsa3072), ("KeyVersionId", &rsa3072_v)])
            .await
            .str("PublicKey")
            .unwrap(),
    );
    for (public, alg, spec, extra, param) in [
        (&sm2_pub, "RSAES_OAEP_SHA_256", "RSA_2048", None, "PublicKeyBlob"),
        (&rsa_pub, "SM2PKE", "RSA_2048", None, "WrappingAlgorithm"),
        (&rsa_pub, "RSAES_OAEP_SHA_256", "EC_SM2", None, "WrappingAlgorithm"),
        (&sm2_pub, "SM2PKE", "RSA_3072", None, "WrappingKeySpec"),
        (&rsa3072_pub, "RSAES_OAEP_SHA_256", "RSA_2048", None, "PublicKeyBlob"),
        (&rsa_pub, "RSAES_PKCS1_V1_5", "RSA_2048", None, "WrappingAlgorithm"),
        (
            &rsa_pub,
            "RSAES_OAEP_SHA_256",
            "RSA_2048",
            Some(("NumberOfBytes", "191")),
            "NumberOfBytes",
        ),
        (&"bm90IGEga2V5".to_string(), "RSAES_OAEP_SHA_256", "RSA_2048", None, "PublicKeyBlob"),
    ] {
        let mut p = vec![
            ("KeyId", cmk.as_str()),
            ("PublicKeyBlob", public),
            ("WrappingAlgorithm", alg),
            ("WrappingKeySpec", spec),
        ];
        p.extend(extra);
        let r = c.call("GenerateAndExportDataKey", &p).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
        let message = r.body["Message"].as_str().unwrap();
        assert!(message.contains(param), "{alg} {spec}: {message}");
    }
    // 190 bytes is the RSA-2048 OAEP-SHA256 limit, and it exports.
    let p = [
        ("KeyId", cmk.as_str()),
        ("NumberOfBytes", "190"),
        ("PublicKeyBlob", &rsa_pub),
        ("WrappingAlgorithm", "RSAES_OAEP_SHA_256"),
        ("WrappingKeySpec", "RSA_2048"),
    ];
    must_call(&c, "GenerateAndExportDataKey", &p).await;
    // An asymmetric CMK cannot make data keys.
    let mut q = p.to_vec();
    q[0] = ("KeyId", &rsa);
    assert_api_error(
        &c.call("GenerateAndExportDataKey", &q).await.unwrap(),
        400,
        "Unsupported.Operation",
    );
}
