//! A single node keeps every key, secret and certificate across a restart, and neither key
//! material (certificate keys included) nor secret values ever lie in clear at rest or in its
//! log.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use openraft::storage::RaftLogStorage;
use yaoshi_crypto::DomainKey;
use yaoshi_model::{CertificateMetadata, KeyId, KeyVersion, KeyVersionId};

use crate::support::{NodeProcess, SK, must_be_ready, must_call, must_create_key};

/// Every file under `dir` (recursively).
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_keys_and_material_is_wrapped_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let mut node = NodeProcess::dev(&data);
    let c = node.client();
    must_be_ready(&c, Duration::from_secs(30)).await;

    let mut keys = Vec::new();
    let mut blobs = Vec::new();
    for i in 0..5 {
        let id = must_create_key(&c).await;
        let pt = format!("secret payload {i}");
        let r = must_call(&c, "Encrypt", &[("KeyId", &id), ("Plaintext", &pt)]).await;
        blobs.push((r.str("CiphertextBlob").unwrap().to_string(), pt));
        keys.push(id);
    }

    // Secret values, as created, put and rotated, are sealed at rest too.
    let canaries = ["canary-secret-one-8d41c2", "canary-secret-two-8d41c2"];
    must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "at-rest"), ("VersionId", "v1"), ("SecretData", canaries[0])],
    )
    .await;
    must_call(
        &c,
        "PutSecretValue",
        &[("SecretName", "at-rest"), ("VersionId", "v2"), ("SecretData", canaries[1])],
    )
    .await;
    must_call(&c, "RotateSecret", &[("SecretName", "at-rest"), ("VersionId", "v3")]).await;
    let rotated = must_call(&c, "GetSecretValue", &[("SecretName", "at-rest")]).await;
    let rotated = rotated.str("SecretData").unwrap().to_string();

    // A certificate's private key is wrapped at rest like key material.
    let created = must_call(
        &c,
        "CreateCertificate",
        &[("KeySpec", "EC_P256"), ("Subject", "CN=at-rest,OU=kms,O=Yaoshi,C=CN")],
    )
    .await;
    let certificate_id = created.str("CertificateId").unwrap().to_string();

    // Graceful stop is not needed for durability: SIGKILL and restart.
    node.kill();

    // With the node down, read the store directly: unwrap one key's material with the domain key
    // (what only the node should be able to do) and search every file for the raw bytes.
    let domain_key =
        DomainKey::from_hex(&std::fs::read_to_string(data.join("domain.key")).unwrap()).unwrap();
    let region_dir = data.join("regions/cn-hangzhou");
    {
        let (mut log, _sm, reader) = yaoshi_store::open_region(&region_dir).unwrap();
        let meta = reader.key(&keys[0]).unwrap().unwrap();
        let version = reader
            .key_version(
                &KeyId::new(keys[0].clone()),
                &KeyVersionId::new(meta.primary_version.to_string()),
            )
            .unwrap()
            .unwrap();
        let material = domain_key
            .unwrap(
                &KeyVersion::wrap_aad(&version.key_id, &version.version_id),
                &version.wrapped_material,
            )
            .unwrap();
        assert_eq!(material.as_bytes().len(), 32);
        let certificate = reader.certificate(&certificate_id).unwrap().unwrap();
        let certificate_key = domain_key
            .unwrap(
                &CertificateMetadata::wrap_aad(&certificate_id),
                &certificate.wrapped_private_key,
            )
            .unwrap();
        assert_eq!(certificate_key.as_bytes().len(), 32);
        assert!(log.get_log_state().await.unwrap().last_log_id.is_some());
        drop((log, reader));

        let mut found_wrapped = false;
        let mut found_wrapped_certificate = false;
        for f in files(&data) {
            if f.file_name().is_some_and(|n| n == "domain.key") {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !contains(&bytes, material.as_bytes()),
                "raw key material found in {}",
                f.display()
            );
            assert!(
                !contains(&bytes, certificate_key.as_bytes()),
                "a certificate's private key found in clear in {}",
                f.display()
            );
            assert!(
                !contains(&bytes, SK.as_bytes()),
                "credential secret found in clear in {}",
                f.display()
            );
            for value in canaries.iter().copied().chain([rotated.as_str()]) {
                assert!(
                    !contains(&bytes, value.as_bytes()),
                    "a secret value is in clear in {}",
                    f.display()
                );
            }
            found_wrapped |= contains(&bytes, &version.wrapped_material);
            found_wrapped_certificate |= contains(&bytes, &certificate.wrapped_private_key);
        }
        // The search can see stored values: the wrapped form is there.
        assert!(
            found_wrapped,
            "wrapped material not found: the search would miss the raw bytes too"
        );
        assert!(found_wrapped_certificate, "wrapped certificate key not found");
        // Logs never carry material or secrets either.
        let log_text = node.log();
        assert!(!log_text.contains(SK));
        assert!(!canaries.iter().any(|v| log_text.contains(v)) && !log_text.contains(&rotated));
        for raw in [material.as_bytes(), certificate_key.as_bytes()] {
            assert!(!log_text.contains(&base64::engine::general_purpose::STANDARD.encode(raw)));
        }
    }

    node.start();
    must_be_ready(&c, Duration::from_secs(30)).await;
    let r = must_call(&c, "ListKeys", &[("PageSize", "100")]).await;
    // The five keys and the default secrets key.
    assert_eq!(r.body["TotalCount"].as_u64(), Some(6));
    for id in &keys {
        let r = must_call(&c, "DescribeKey", &[("KeyId", id)]).await;
        assert_eq!(r.body["KeyMetadata"]["KeyState"], "Enabled");
    }
    for (blob, pt) in &blobs {
        let r = must_call(&c, "Decrypt", &[("CiphertextBlob", blob)]).await;
        assert_eq!(r.str("Plaintext"), Some(pt.as_str()));
    }
    let after = must_call(&c, "GetSecretValue", &[("SecretName", "at-rest")]).await;
    assert_eq!(after.str("SecretData"), Some(rotated.as_str()));
    let previous = must_call(
        &c,
        "GetSecretValue",
        &[("SecretName", "at-rest"), ("VersionStage", "ACSPrevious")],
    )
    .await;
    assert_eq!(previous.str("SecretData"), Some(canaries[1]));
    let d = must_call(&c, "DescribeCertificate", &[("CertificateId", &certificate_id)]).await;
    assert_eq!(d.str("Status"), Some("PENDING"));
    // The restarted node still takes writes.
    must_create_key(&c).await;
}
