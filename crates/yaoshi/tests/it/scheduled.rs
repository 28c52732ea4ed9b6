//! Scheduled work on a single node with the test clock: a key purged when its deletion window
//! passes (and not before), automatic rotation on schedule with old versions still decrypting and
//! ReEncrypt moving to the new primary, and imported material expiring into PendingImport.
//! The multi-process, fault-injected proof of exactly-once is `chaos-tests/tests/scheduler.rs`.

use std::time::{Duration, Instant};

use yaoshi_client::Client;

use crate::support::{NodeProcess, advance_clock, assert_api_error, must_be_ready, must_call};

const DAY_MS: i64 = 86_400_000;

async fn start() -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--test-clock", "--scheduler-tick-ms", "50"],
    );
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

/// Polls DescribeKey until `done` holds for its response (or fails after 10 s).
async fn until(c: &Client, key: &str, what: &str, done: impl Fn(&yaoshi_client::Response) -> bool) {
    let start = Instant::now();
    loop {
        let r = c.call("DescribeKey", &[("KeyId", key)]).await.unwrap();
        if done(&r) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{what}: {:?}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn time_ms(s: &str) -> i64 {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(s, &fmt).unwrap().assume_utc().unix_timestamp() * 1000
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_window_passes_then_the_key_is_purged() {
    let (_dir, node) = start().await;
    let c = node.client();
    let key = must_call(&c, "CreateKey", &[]).await.body["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    must_call(&c, "CreateAlias", &[("KeyId", &key), ("AliasName", "alias/doomed")]).await;
    let blob = must_call(&c, "Encrypt", &[("KeyId", &key), ("Plaintext", "aGk=")]).await;
    let blob = blob.str("CiphertextBlob").unwrap().to_string();
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &key), ("PendingWindowInDays", "7")]).await;
    // A day short of the window: several scheduler ticks later the key is still there.
    advance_clock(&node, 6 * DAY_MS).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyState"], "PendingDeletion");
    advance_clock(&node, DAY_MS + 1000).await;
    until(&c, &key, "purge", |r| r.code() == Some("Forbidden.KeyNotFound")).await;
    for (action, params) in [
        ("DescribeKey", vec![("KeyId", key.as_str())]),
        ("Encrypt", vec![("KeyId", key.as_str()), ("Plaintext", "aGk=")]),
        ("Decrypt", vec![("CiphertextBlob", blob.as_str())]),
        ("ListKeyVersions", vec![("KeyId", key.as_str())]),
    ] {
        assert_api_error(&c.call(action, &params).await.unwrap(), 404, "Forbidden.KeyNotFound");
    }
    let r = c.call("DescribeKey", &[("KeyId", "alias/doomed")]).await.unwrap();
    assert_api_error(&r, 404, "Forbidden.AliasNotFound");
    let r = must_call(&c, "ListAliases", &[]).await;
    assert_eq!(r.body["TotalCount"], 0);
    // The scheduler's counters: one purge proposed and applied.
    let text = reqwest::get(format!("http://{}/metrics", node.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for metric in ["proposed", "applied"] {
        let line = format!("yaoshi_scheduler_{metric}_total{{command=\"PurgeKey\"}} 1");
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_on_schedule_keeps_old_versions_decrypting() {
    let (_dir, node) = start().await;
    let c = node.client();
    let r = must_call(
        &c,
        "CreateKey",
        &[
            ("EnableAutomaticRotation", "true"),
            ("RotationInterval", "7d"),
            ("KeySpec", "Aliyun_SM4"),
        ],
    )
    .await;
    let m = &r.body["KeyMetadata"];
    let key = m["KeyId"].as_str().unwrap().to_string();
    let created = time_ms(m["CreationDate"].as_str().unwrap());
    let first_version = m["PrimaryKeyVersion"].as_str().unwrap().to_string();
    let mut blobs = Vec::new();
    for round in 1..=3i64 {
        let pt = format!("round {round}");
        let e = must_call(&c, "Encrypt", &[("KeyId", &key), ("Plaintext", &pt)]).await;
        blobs.push((e.str("CiphertextBlob").unwrap().to_string(), pt));
        advance_clock(&node, 7 * DAY_MS).await;
        let start = Instant::now();
        loop {
            let v = must_call(&c, "ListKeyVersions", &[("KeyId", &key)]).await;
            if v.body["TotalCount"].as_i64() == Some(round + 1) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "round {round}: {:?}", v.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let d = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
        let m = &d.body["KeyMetadata"];
        // Dates advance by the interval from the schedule, not from when the scheduler woke.
        let last = time_ms(m["LastRotationDate"].as_str().unwrap());
        let next = time_ms(m["NextRotationDate"].as_str().unwrap());
        assert!((last - (created + round * 7 * DAY_MS)).abs() <= 1000, "round {round}: {m:?}");
        assert_eq!(next - last, 7 * DAY_MS);
    }
    // Four versions, no more (ticks kept running all along).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = must_call(&c, "ListKeyVersions", &[("KeyId", &key)]).await;
    assert_eq!(v.body["TotalCount"], 4);
    // Every old version still decrypts; ReEncrypt moves the oldest blob to the new primary.
    for (blob, pt) in &blobs {
        let d = must_call(&c, "Decrypt", &[("CiphertextBlob", blob)]).await;
        assert_eq!(d.str("Plaintext"), Some(pt.as_str()));
    }
    let primary = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await.body["KeyMetadata"]
        ["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(primary, first_version);
    let d = must_call(&c, "Decrypt", &[("CiphertextBlob", &blobs[0].0)]).await;
    assert_eq!(d.str("KeyVersionId"), Some(first_version.as_str()));
    let re =
        must_call(&c, "ReEncrypt", &[("CiphertextBlob", &blobs[0].0), ("DestinationKeyId", &key)])
            .await;
    assert_eq!(re.str("KeyVersionId"), Some(primary.as_str()));
    let d =
        must_call(&c, "Decrypt", &[("CiphertextBlob", re.str("CiphertextBlob").unwrap())]).await;
    assert_eq!(d.str("Plaintext"), Some("round 1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_imported_material_moves_the_key_to_pending_import() {
    let (_dir, node) = start().await;
    let c = node.client();
    let r = must_call(&c, "CreateKey", &[("Origin", "EXTERNAL")]).await;
    let key = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let (token, public) = crate::byok::parameters(&c, &key, "RSAES_OAEP_SHA_256").await;
    let wrapped = crate::byok::wrap(&public, "RSAES_OAEP_SHA_256", &[7u8; 32]);
    let now_s =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expire = (now_s + 2 * 86_400).to_string();
    must_call(
        &c,
        "ImportKeyMaterial",
        &[
            ("KeyId", &key),
            ("EncryptedKeyMaterial", &wrapped),
            ("ImportToken", &token),
            ("KeyMaterialExpireUnix", &expire),
        ],
    )
    .await;
    until(&c, &key, "enabled", |r| r.body["KeyMetadata"]["KeyState"] == "Enabled").await;
    advance_clock(&node, 2 * DAY_MS + 1000).await;
    until(&c, &key, "expiry", |r| r.body["KeyMetadata"]["KeyState"] == "PendingImport").await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
    assert_eq!(d.body["KeyMetadata"]["MaterialExpireTime"], "");
    let r = c.call("Encrypt", &[("KeyId", &key), ("Plaintext", "aGk=")]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.PendingImport");
}
