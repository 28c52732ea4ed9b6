//! Three real processes from cluster-config/three-node: forwarding from a follower, SIGKILL of the
//! leader, failover, and catch-up of the restarted node by snapshot after log compaction.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openraft::storage::RaftLogStorage;

use yaoshi_client::timestamp_now;

use crate::support::{
    NodeProcess, assert_api_error, must_be_ready, must_call, must_create_key,
    must_succeed_eventually,
};

/// A secret value searched for in every file of every node.
const SECRET_CANARY: &str = "canary-secret-value-5b1e9d0c";

/// The shipped config with compaction made aggressive, so a restarted node must catch up by
/// snapshot: a snapshot every 10 entries, nothing kept behind it. Its `[tls]` names `certs/`
/// beside it, issued by the real `yaoshi cert`: the cluster runs over mutual TLS.
fn derived_config(dir: &Path, i: usize) -> PathBuf {
    yaoshi_testkit::cluster::issue_certs(Path::new(env!("CARGO_BIN_EXE_yaoshi")), dir, 3);
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../cluster-config/three-node/node{i}.toml"));
    let mut text = std::fs::read_to_string(shipped).unwrap();
    text.push_str("\n[raft]\nsnapshot_logs_since_last = 10\nlogs_to_keep_after_snapshot = 0\n");
    let path = dir.join(format!("node{i}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The leader as the node's log last reported it.
fn reported_leader(node: &NodeProcess) -> Option<u64> {
    let log = node.log();
    let line = log.lines().rev().find(|l| l.contains("leader elected"))?;
    let rest = &line[line.find(" leader=")? + 8..];
    rest.split_whitespace().next()?.parse().ok()
}

async fn agreed_leader(nodes: &[NodeProcess], alive: &[usize], timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let views: Vec<Option<u64>> = alive.iter().map(|&i| reported_leader(&nodes[i])).collect();
        if let Some(Some(l)) = views.first()
            && views.iter().all(|v| *v == Some(*l))
            && alive.contains(&(*l as usize - 1))
        {
            return *l as usize - 1;
        }
        assert!(Instant::now() < deadline, "no agreed leader: {views:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn last_log_index(data_dir: &Path) -> (u64, u64) {
    let (mut log, _, _) = yaoshi_store::open_region(&data_dir.join("regions/cn-hangzhou")).unwrap();
    let st = log.get_log_state().await.unwrap();
    (st.last_purged_log_id.map_or(0, |l| l.index), st.last_log_id.map_or(0, |l| l.index))
}

/// Reads `field` of DescribeKey on every node.
async fn described_everywhere(nodes: &[NodeProcess], key: &str, field: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        let d = must_call(&n.client(), "DescribeKey", &[("KeyId", key)]).await;
        out.push(d.body["KeyMetadata"][field].as_str().unwrap_or("<absent>").to_string());
    }
    out
}

/// The `list.item[].field` values of a list action on every node.
async fn listed_everywhere(
    nodes: &[NodeProcess],
    action: &str,
    params: &[(&str, &str)],
    (list, item, field): (&str, &str, &str),
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for n in nodes {
        let mut p = params.to_vec();
        p.push(("PageSize", "100"));
        let r = must_call(&n.client(), action, &p).await;
        let items = r.body[list][item].as_array().cloned().unwrap_or_default();
        out.push(items.iter().map(|i| i[field].as_str().unwrap_or("").to_string()).collect());
    }
    out
}

/// Acceptance: every key-management write acknowledged by any node is visible to DescribeKey and
/// the List actions on every node immediately afterwards. Writes rotate over the nodes; reads go
/// to all of them, with no waiting. Returns the keys it created.
async fn every_write_visible_everywhere(nodes: &[NodeProcess], keys_before: usize) -> Vec<String> {
    let all = |v: &str| vec![v.to_string(); nodes.len()];
    let c = |i: usize| nodes[i % nodes.len()].client();
    let r =
        must_call(&c(0), "CreateKey", &[("KeySpec", "EC_P256"), ("KeyUsage", "SIGN/VERIFY")]).await;
    let key = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let other = must_create_key(&c(1)).await;
    for n in nodes {
        let r = must_call(&n.client(), "ListKeys", &[("PageSize", "100")]).await;
        assert_eq!(r.body["TotalCount"].as_u64(), Some(keys_before as u64 + 2));
    }
    must_call(&c(1), "UpdateKeyDescription", &[("KeyId", &key), ("Description", "d1")]).await;
    assert_eq!(described_everywhere(nodes, &key, "Description").await, all("d1"));

    must_call(&c(2), "CreateAlias", &[("AliasName", "alias/vis"), ("KeyId", &key)]).await;
    let by_key = ("Aliases", "Alias", "AliasName");
    let listed = listed_everywhere(nodes, "ListAliasesByKeyId", &[("KeyId", &key)], by_key).await;
    assert!(listed.iter().all(|l| l == &["alias/vis"]), "{listed:?}");
    must_call(&c(0), "UpdateAlias", &[("AliasName", "alias/vis"), ("KeyId", &other)]).await;
    assert_eq!(described_everywhere(nodes, "alias/vis", "KeyId").await, all(&other));
    must_call(&c(1), "DeleteAlias", &[("AliasName", "alias/vis")]).await;
    let listed = listed_everywhere(nodes, "ListAliases", &[], by_key).await;
    assert!(listed.iter().all(|l| !l.contains(&"alias/vis".to_string())), "{listed:?}");

    let tags = ("Tags", "Tag", "TagKey");
    must_call(
        &c(2),
        "TagResource",
        &[("KeyId", &key), ("Tags", r#"[{"TagKey":"t","TagValue":"v"}]"#)],
    )
    .await;
    let listed = listed_everywhere(nodes, "ListResourceTags", &[("KeyId", &key)], tags).await;
    assert!(listed.iter().all(|l| l == &["t"]), "{listed:?}");
    must_call(&c(0), "UntagResource", &[("KeyId", &key), ("TagKeys", r#"["t"]"#)]).await;
    let listed = listed_everywhere(nodes, "ListResourceTags", &[("KeyId", &key)], tags).await;
    assert!(listed.iter().all(Vec::is_empty), "{listed:?}");

    must_call(
        &c(1),
        "UpdateRotationPolicy",
        &[("KeyId", &other), ("EnableAutomaticRotation", "true"), ("RotationInterval", "8d")],
    )
    .await;
    assert_eq!(described_everywhere(nodes, &other, "RotationInterval").await, all("691200s"));
    let arn = format!("acs:kms:cn-hangzhou:1000000000000000:key/{other}");
    let protect = [("ProtectedResourceArn", arn.as_str()), ("EnableDeletionProtection", "true")];
    must_call(&c(2), "SetDeletionProtection", &protect).await;
    assert_eq!(described_everywhere(nodes, &other, "DeletionProtection").await, all("Enabled"));
    must_call(&c(0), "ScheduleKeyDeletion", &[("KeyId", &key)]).await;
    assert_eq!(described_everywhere(nodes, &key, "KeyState").await, all("PendingDeletion"));
    must_call(&c(1), "CancelKeyDeletion", &[("KeyId", &key)]).await;
    assert_eq!(described_everywhere(nodes, &key, "KeyState").await, all("Enabled"));

    // A new key version, 7 days of KMS time later. Every node's clock moves: the leader keeps a
    // command's time only within its own clock's skew bound, and any node may be the leader.
    for n in nodes {
        crate::support::advance_clock(n, 7 * 86_400 * 1000).await;
    }
    let r = must_call(&c(2), "CreateKeyVersion", &[("KeyId", &key)]).await;
    let version = r.body["KeyVersion"]["KeyVersionId"].as_str().unwrap().to_string();
    assert_eq!(described_everywhere(nodes, &key, "PrimaryKeyVersion").await, all(&version));
    let versions = ("KeyVersions", "KeyVersion", "KeyVersionId");
    let listed = listed_everywhere(nodes, "ListKeyVersions", &[("KeyId", &key)], versions).await;
    assert!(listed.iter().all(|l| l.len() == 2 && l[1] == version), "{listed:?}");
    vec![key, other]
}

/// The CTyun EOP surface on a worker and a follower: the worker serves `encrypt` itself and
/// forwards `createKey`; a follower decrypts what the worker encrypted and answers `describeKey`
/// for the key made through the worker.
async fn eop_through_worker_and_follower(
    worker: &yaoshi_client::Client,
    follower: &yaoshi_client::Client,
    key: &str,
) -> String {
    use serde_json::json;
    let ok = |r: &yaoshi_client::Response| {
        assert_eq!((r.status, &r.body["statusCode"]), (200, &json!(800)), "{:?}", r.body);
        r.body["returnObj"].clone()
    };
    let plaintext = "ZW9wIHZpYSB3b3JrZXI=";
    let body = json!({"cmkUuid": key, "plaintext": plaintext});
    let sealed = worker.eop("cryptoOps", "encrypt", &body).await.unwrap();
    let blob = ok(&sealed)["ciphertextBlob"].as_str().unwrap().to_string();
    let opened = follower.eop("cryptoOps", "decrypt", &json!({"ciphertextBlob": blob})).await;
    assert_eq!(ok(&opened.unwrap())["plaintext"], plaintext);
    let body = json!({"description": "eop via worker"});
    let made = worker.eop("cmkManage", "createKey", &body).await.unwrap();
    let made = ok(&made)["keyMetadata"]["keyId"].as_str().unwrap().to_string();
    let seen = follower.eop("cmkManage", "describeKey", &json!({"cmkUuid": made})).await.unwrap();
    assert_eq!(ok(&seen)["keyMetadata"]["description"], "eop via worker");
    let refused = worker.eop("cryptoOps", "encrypt", &json!({"cmkUuid": key})).await.unwrap();
    assert_eq!((refused.status, &refused.body["error"]), (400, &json!("MissingParameter")));
    made
}

/// Every data-plane action through `c` (a worker), on keys created through it (forwarded to the
/// cluster) and waited for in its cache. Returns the keys created.
async fn every_data_plane_action(c: &yaoshi_client::Client, cmk: &str) -> Vec<String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    let wait = Duration::from_secs(20);
    let mut created = Vec::new();
    let mut new_key = async |spec: &str, usage: &str| {
        let r = must_call(c, "CreateKey", &[("KeySpec", spec), ("KeyUsage", usage)]).await;
        let m = &r.body["KeyMetadata"];
        let (id, v) = (m["KeyId"].as_str().unwrap(), m["PrimaryKeyVersion"].as_str().unwrap());
        created.push(id.to_string());
        // The worker learns of the key from its feed.
        let r =
            must_succeed_eventually(c, "GetPublicKey", &[("KeyId", id), ("KeyVersionId", v)], wait)
                .await;
        (id.to_string(), v.to_string(), r.str("PublicKey").unwrap().to_string())
    };
    let (sk, sv, _) = new_key("EC_SM2", "SIGN/VERIFY").await;
    let (ek, ev, epem) = new_key("RSA_2048", "ENCRYPT/DECRYPT").await;
    let digest = B64.encode([9u8; 32]);
    let sign = [
        ("KeyId", sk.as_str()),
        ("KeyVersionId", &sv),
        ("Algorithm", "SM2DSA"),
        ("Digest", &digest),
    ];
    let sig = must_call(c, "AsymmetricSign", &sign).await.str("Value").unwrap().to_string();
    let mut verify = sign.to_vec();
    verify.push(("Value", &sig));
    assert_eq!(must_call(c, "AsymmetricVerify", &verify).await.body["Value"], true);
    let enc = [("KeyId", ek.as_str()), ("KeyVersionId", &ev), ("Algorithm", "RSAES_OAEP_SHA_256")];
    let mut p = enc.to_vec();
    p.push(("Plaintext", "d29ya2Vy"));
    let ct = must_call(c, "AsymmetricEncrypt", &p).await.str("CiphertextBlob").unwrap().to_string();
    let mut p = enc.to_vec();
    p.push(("CiphertextBlob", &ct));
    assert_eq!(must_call(c, "AsymmetricDecrypt", &p).await.str("Plaintext"), Some("d29ya2Vy"));
    let p = [
        ("CiphertextBlob", ct.as_str()),
        ("SourceKeyId", &ek),
        ("SourceKeyVersionId", &ev),
        ("SourceEncryptionAlgorithm", "RSAES_OAEP_SHA_256"),
        ("DestinationKeyId", cmk),
    ];
    let blob = must_call(c, "ReEncrypt", &p).await.str("CiphertextBlob").unwrap().to_string();
    assert_eq!(
        must_call(c, "Decrypt", &[("CiphertextBlob", &blob)]).await.str("Plaintext"),
        Some("d29ya2Vy")
    );
    let g = must_call(c, "GenerateDataKeyWithoutPlaintext", &[("KeyId", cmk)]).await;
    let blob = g.str("CiphertextBlob").unwrap().to_string();
    let re =
        must_call(c, "ReEncrypt", &[("CiphertextBlob", &blob), ("DestinationKeyId", cmk)]).await;
    let wrap = [
        ("PublicKeyBlob", epem.as_str()),
        ("WrappingAlgorithm", "RSAES_OAEP_SHA_1"),
        ("WrappingKeySpec", "RSA_2048"),
    ];
    let mut p = vec![("CiphertextBlob", re.str("CiphertextBlob").unwrap())];
    p.extend(wrap);
    let exported =
        must_call(c, "ExportDataKey", &p).await.str("ExportedDataKey").unwrap().to_string();
    let dec = [
        ("KeyId", ek.as_str()),
        ("KeyVersionId", &ev),
        ("Algorithm", "RSAES_OAEP_SHA_1"),
        ("CiphertextBlob", &exported),
    ];
    let data_key =
        must_call(c, "AsymmetricDecrypt", &dec).await.str("Plaintext").unwrap().to_string();
    assert_eq!(
        must_call(c, "Decrypt", &[("CiphertextBlob", &blob)]).await.str("Plaintext"),
        Some(data_key.as_str())
    );
    let mut p = vec![("KeyId", cmk)];
    p.extend(wrap);
    let r = must_call(c, "GenerateAndExportDataKey", &p).await;
    assert!(r.str("ExportedDataKey").is_some() && r.str("CiphertextBlob").is_some());
    // An HMAC key made through the worker: GenerateMac once the feed brings it, then VerifyMac.
    let r = must_call(c, "CreateKey", &[("KeySpec", "HMAC_SM3")]).await;
    let hk = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    created.push(hk.clone());
    let message = B64.encode(b"mac via worker");
    let r =
        must_succeed_eventually(c, "GenerateMac", &[("KeyId", &hk), ("Message", &message)], wait)
            .await;
    let mac = r.str("MacData").unwrap();
    let p = [("KeyId", hk.as_str()), ("Message", &message), ("MacData", mac)];
    assert_eq!(must_call(c, "VerifyMac", &p).await.body["MacVerified"], true);
    created
}

/// A certificate made and uploaded through the worker (both forwarded): once its feed brings it
/// ACTIVE the worker signs (openssl verifies the signature against the certificate), encrypts and
/// decrypts; revoked through a node, it refuses to sign within its bound but still verifies.
async fn certificate_on_worker(
    wc: &yaoshi_client::Client,
    node: &yaoshi_client::Client,
    dir: &Path,
) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    let ca = dir.join("ca");
    std::fs::create_dir_all(&ca).unwrap();
    let (root, inter) = crate::certificates::make_cas(&ca);
    let create = [("KeySpec", "EC_SM2"), ("Subject", "CN=worker.example.com,OU=kms,O=Yaoshi,C=CN")];
    let created = must_call(wc, "CreateCertificate", &create).await;
    let id = created.str("CertificateId").unwrap().to_string();
    let cert = crate::certificates::sign_request(&ca, "worker", created.str("Csr").unwrap(), true);
    let chain = format!("{inter}{root}");
    let upload =
        [("CertificateId", id.as_str()), ("Certificate", &cert), ("CertificateChain", &chain)];
    must_call(wc, "UploadCertificate", &upload).await;
    let message = b"signed by a worker";
    let encoded = B64.encode(message);
    let sign = [("CertificateId", id.as_str()), ("Algorithm", "SM2DSA"), ("Message", &encoded)];
    let wait = Duration::from_secs(20);
    let signed = must_succeed_eventually(wc, "CertificatePrivateKeySign", &sign, wait).await;
    let signature = B64.decode(signed.str("SignatureValue").unwrap()).unwrap();
    assert!(crate::certificates::openssl_verifies(&ca, "worker", message, &signature, "EC_SM2"));
    let enc = [("CertificateId", id.as_str()), ("Algorithm", "SM2PKE"), ("Plaintext", "d29ya2Vy")];
    let sealed = must_call(wc, "CertificatePublicKeyEncrypt", &enc).await;
    let dec = [
        ("CertificateId", id.as_str()),
        ("Algorithm", "SM2PKE"),
        ("CiphertextBlob", sealed.str("CiphertextBlob").unwrap()),
    ];
    let opened = must_call(wc, "CertificatePrivateKeyDecrypt", &dec).await;
    assert_eq!(opened.str("Plaintext"), Some("d29ya2Vy"));

    must_call(node, "UpdateCertificateStatus", &[("CertificateId", &id), ("Status", "REVOKED")])
        .await;
    let revoked = Instant::now();
    loop {
        let r = wc.call("CertificatePrivateKeySign", &sign).await.unwrap();
        if r.code() == Some("Rejected.CertificateNotActive") {
            break;
        }
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(revoked.elapsed() < Duration::from_secs(1), "worker still signs when revoked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut verify = sign.to_vec();
    let value = B64.encode(&signature);
    verify.push(("SignatureValue", &value));
    let r = must_call(wc, "CertificatePublicKeyVerify", &verify).await;
    assert_eq!(r.body["SignatureValid"], true);
}

/// A read or data-plane request accepted by one process is refused (`SignatureNonceUsed`) when
/// replayed to any other node or to the worker, RPC v1 and ACS3 alike, and the replays change
/// nothing. Returns an accepted Encrypt to replay later.
async fn every_replay_refused_elsewhere(
    nodes: &[NodeProcess],
    worker: &yaoshi_client::Client,
    key: &str,
) -> Vec<(String, String)> {
    let nonce = || uuid::Uuid::new_v4().simple().to_string();
    let mut processes: Vec<yaoshi_client::Client> = nodes.iter().map(NodeProcess::client).collect();
    processes.push(worker.clone());
    let total = |c: &yaoshi_client::Client| {
        let c = c.clone();
        async move {
            must_call(&c, "ListKeys", &[("PageSize", "100")]).await.body["TotalCount"].as_u64()
        }
    };
    let before = total(&processes[0]).await;
    let enc = [("KeyId", key), ("Plaintext", "replayed")];
    let mut first_encrypt = None;
    for target in &processes {
        // Signed as a client of `target`: RPC v1 Encrypt, then Decrypt of its result, and an
        // ACS3 DescribeKey (a read, which a worker forwards).
        let e = target.signed_params("POST", "Encrypt", &enc, &timestamp_now(), &nonce());
        let r = target.send_params(&e).await.unwrap();
        assert_eq!(r.status, 200, "{:?}", r.body);
        let blob = r.str("CiphertextBlob").unwrap().to_string();
        let d = target.signed_params(
            "POST",
            "Decrypt",
            &[("CiphertextBlob", &blob)],
            &timestamp_now(),
            &nonce(),
        );
        assert_eq!(target.send_params(&d).await.unwrap().status, 200);
        let read = target.acs3_headers("DescribeKey", &nonce(), &timestamp_now());
        let query = [("KeyId", key)];
        assert_eq!(target.send_acs3(&query, &read, &[]).await.unwrap().status, 200);
        for (i, other) in processes.iter().enumerate() {
            for pairs in [&e, &d] {
                let r = other.send_params(pairs).await.unwrap();
                assert_api_error(&r, 400, "SignatureNonceUsed");
                assert!(r.str("Plaintext").is_none(), "process {i} answered a replay");
            }
            let r = other.send_acs3(&query, &read, &[]).await.unwrap();
            assert_api_error(&r, 400, "SignatureNonceUsed");
        }
        first_encrypt.get_or_insert(e);
    }
    assert_eq!(total(&processes[0]).await, before, "replays changed nothing");
    first_encrypt.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nodes_failover_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let domain_key = yaoshi_crypto::DomainKey::generate();
    let mut nodes: Vec<NodeProcess> = (1..=3)
        .map(|i| {
            let cfg = derived_config(dir.path(), i);
            NodeProcess::with_config(
                &cfg,
                &dir.path().join(format!("node{i}")),
                &format!("127.0.0.1:808{i}"),
                &domain_key.to_hex(),
                &["--test-clock"],
            )
        })
        .collect();
    for n in &nodes {
        must_be_ready(&n.client(), Duration::from_secs(60)).await;
    }
    let leader = agreed_leader(&nodes, &[0, 1, 2], Duration::from_secs(20)).await;
    let follower = (leader + 1) % 3;
    let other = (leader + 2) % 3;

    // A write sent to a follower is forwarded to the leader and acknowledged.
    let fc = nodes[follower].client();
    let mut keys = vec![must_create_key(&fc).await];
    let mut blobs = Vec::new();
    let r =
        must_call(&fc, "Encrypt", &[("KeyId", &keys[0]), ("Plaintext", "before failover")]).await;
    blobs.push((r.str("CiphertextBlob").unwrap().to_string(), "before failover".to_string()));
    // Linearizable reads: visible at once on every node.
    for n in &nodes {
        must_call(&n.client(), "DescribeKey", &[("KeyId", &keys[0])]).await;
    }
    // Every acknowledged write is visible at once on every node (linearizable reads), and the
    // acknowledging node's data plane sees it too.
    must_call(&nodes[other].client(), "DisableKey", &[("KeyId", &keys[0])]).await;
    for n in &nodes {
        let d = must_call(&n.client(), "DescribeKey", &[("KeyId", &keys[0])]).await;
        assert_eq!(d.body["KeyMetadata"]["KeyState"], "Disabled");
    }
    must_call(
        &nodes[leader].client(),
        "CreateAlias",
        &[("AliasName", "alias/cluster"), ("KeyId", &keys[0])],
    )
    .await;
    for n in &nodes {
        let d = must_call(&n.client(), "DescribeKey", &[("KeyId", "alias/cluster")]).await;
        assert_eq!(d.body["KeyMetadata"]["KeyId"], keys[0].as_str());
    }
    must_call(&fc, "EnableKey", &[("KeyId", "alias/cluster")]).await;
    must_call(&fc, "Encrypt", &[("KeyId", &keys[0]), ("Plaintext", "aGk=")]).await;
    keys.extend(every_write_visible_everywhere(&nodes, keys.len()).await);

    // A crypto worker fed by one node: the data plane works through it, control-plane requests
    // are forwarded, and a DisableKey acknowledged by the cluster reaches it within its bound.
    let feed_node = other;
    let issued = std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["cert", "issue", "--worker", "w1", "--dir"])
        .arg(dir.path().join("certs"))
        .status()
        .unwrap();
    assert!(issued.success());
    let mut worker = NodeProcess::worker(
        &format!("127.0.0.1:918{}", feed_node + 1),
        &dir.path().join("worker"),
        &domain_key.to_hex(),
        &yaoshi_testkit::cluster::tls_args(dir.path(), "worker-w1"),
    );
    let wc = worker.client();
    let first_key = keys[0].clone();
    let via_worker = [("KeyId", first_key.as_str()), ("Plaintext", "via worker")];
    let r = must_succeed_eventually(&wc, "Encrypt", &via_worker, Duration::from_secs(20)).await;
    let worker_blob = r.str("CiphertextBlob").unwrap().to_string();
    let d =
        must_call(&nodes[leader].client(), "Decrypt", &[("CiphertextBlob", &worker_blob)]).await;
    assert_eq!(d.str("Plaintext"), Some("via worker"));
    let d = must_call(&wc, "Decrypt", &[("CiphertextBlob", &blobs[0].0)]).await;
    assert_eq!(d.str("Plaintext"), Some(blobs[0].1.as_str()));
    let g = must_call(&wc, "GenerateDataKey", &[("KeyId", "alias/cluster")]).await;
    let d =
        must_call(&wc, "Decrypt", &[("CiphertextBlob", g.str("CiphertextBlob").unwrap())]).await;
    assert_eq!(d.str("Plaintext"), g.str("Plaintext"));
    let replay = every_replay_refused_elsewhere(&nodes, &wc, &first_key).await;
    let eop_key = eop_through_worker_and_follower(&wc, &nodes[follower].client(), &first_key).await;
    // Control plane through the worker: forwarded, and visible on every node at once.
    let created = must_create_key(&wc).await;
    keys.push(eop_key);
    keys.push(created.clone());
    for n in &nodes {
        must_call(&n.client(), "DescribeKey", &[("KeyId", &created)]).await;
    }
    keys.extend(every_data_plane_action(&wc, &first_key).await);
    certificate_on_worker(&wc, &nodes[follower].client(), dir.path()).await;
    // A secret written through a follower is read from the worker's cache; the default secrets
    // key it creates is one more key. Disabling its master key makes the worker refuse it.
    let secret = [("SecretName", "cluster/db"), ("VersionId", "v1"), ("SecretData", SECRET_CANARY)];
    must_call(&nodes[follower].client(), "CreateSecret", &secret).await;
    let read = [("SecretName", "cluster/db")];
    let s = must_succeed_eventually(&wc, "GetSecretValue", &read, Duration::from_secs(20)).await;
    assert_eq!(s.str("SecretData"), Some(SECRET_CANARY));
    let described = must_call(&nodes[other].client(), "DescribeSecret", &read).await;
    let secrets_key = described.str("EncryptionKeyId").unwrap().to_string();
    keys.push(secrets_key.clone());
    must_call(&nodes[leader].client(), "DisableKey", &[("KeyId", &secrets_key)]).await;
    let disabled = Instant::now();
    while wc.call("GetSecretValue", &read).await.unwrap().code() != Some("Rejected.Disabled") {
        assert!(disabled.elapsed() < Duration::from_secs(1), "worker still opens the secret");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    must_call(&nodes[leader].client(), "EnableKey", &[("KeyId", &secrets_key)]).await;
    let r = must_call(&wc, "ListKeys", &[("PageSize", "100")]).await;
    assert_eq!(r.body["TotalCount"].as_u64(), Some(keys.len() as u64));
    must_call(&nodes[follower].client(), "DisableKey", &[("KeyId", &keys[0])]).await;
    let acknowledged = Instant::now();
    loop {
        let r = wc.call("Encrypt", &via_worker).await.unwrap();
        if r.code() == Some("Rejected.Disabled") {
            break;
        }
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(
            acknowledged.elapsed() < Duration::from_millis(1000),
            "worker still encrypts with a key disabled {:?} ago",
            acknowledged.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    must_call(&nodes[leader].client(), "EnableKey", &[("KeyId", &keys[0])]).await;
    for _ in 0..15 {
        keys.push(must_create_key(&nodes[other].client()).await);
    }

    // SIGKILL the leader; the survivors elect a new one and keep serving.
    nodes[leader].kill();
    let victim_dir = nodes[leader].data_dir.clone();
    let (_, victim_last) = last_log_index(&victim_dir).await;
    let survivors = [follower, other];
    for &s in &survivors {
        let c = nodes[s].client();
        for k in &keys {
            must_succeed_eventually(&c, "DescribeKey", &[("KeyId", k)], Duration::from_secs(20))
                .await;
        }
        for (blob, pt) in &blobs {
            let r = must_call(&c, "Decrypt", &[("CiphertextBlob", blob)]).await;
            assert_eq!(r.str("Plaintext"), Some(pt.as_str()));
        }
    }
    let new_leader = agreed_leader(&nodes, &survivors, Duration::from_secs(20)).await;
    assert_ne!(new_leader, leader);
    // With a voter down, requests are still claimed at a majority, and earlier ones stay refused.
    for &s in &survivors {
        let c = nodes[s].client();
        assert_api_error(&c.send_params(&replay).await.unwrap(), 400, "SignatureNonceUsed");
        must_call(&c, "Encrypt", &[("KeyId", &keys[0]), ("Plaintext", "one voter down")]).await;
    }
    // Writes continue, enough of them for several snapshots and compactions.
    for i in 0..30 {
        let c = nodes[survivors[i % 2]].client();
        let r = must_succeed_eventually(&c, "CreateKey", &[], Duration::from_secs(20)).await;
        keys.push(r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string());
    }
    let last = keys.last().unwrap().clone();
    let r = must_call(
        &nodes[new_leader].client(),
        "Encrypt",
        &[("KeyId", &last), ("Plaintext", "after failover")],
    )
    .await;
    blobs.push((r.str("CiphertextBlob").unwrap().to_string(), "after failover".to_string()));

    // The killed node restarts and catches up.
    nodes[leader].start();
    let rc = nodes[leader].client();
    must_be_ready(&rc, Duration::from_secs(60)).await;
    let r =
        must_succeed_eventually(&rc, "DescribeKey", &[("KeyId", &last)], Duration::from_secs(30))
            .await;
    assert_eq!(r.body["KeyMetadata"]["KeyId"], last.as_str());
    // Data-plane reads use the local replica, so these prove its own state caught up.
    for (blob, pt) in &blobs {
        let r = must_succeed_eventually(
            &rc,
            "Decrypt",
            &[("CiphertextBlob", blob)],
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(r.str("Plaintext"), Some(pt.as_str()));
    }
    for n in &nodes {
        let r = must_call(&n.client(), "ListKeys", &[("PageSize", "100")]).await;
        assert_eq!(r.body["TotalCount"].as_u64(), Some(keys.len() as u64));
    }
    // The restarted node got the secret with the snapshot and opens it itself.
    let r = must_succeed_eventually(
        &rc,
        "GetSecretValue",
        &[("SecretName", "cluster/db")],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(r.str("SecretData"), Some(SECRET_CANARY));

    // The worker fails closed once its feed has been silent longer than its bound, and killing
    // it affects nothing else.
    must_succeed_eventually(&wc, "Encrypt", &via_worker, Duration::from_secs(20)).await;
    nodes[feed_node].kill();
    let cut = Instant::now();
    loop {
        let r = wc.call("Encrypt", &via_worker).await.unwrap();
        if r.status == 503 {
            assert_eq!(r.code(), Some("ServiceUnavailableTemporary"));
            break;
        }
        assert!(cut.elapsed() < Duration::from_secs(5), "worker kept serving: {:?}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(worker.is_running());
    worker.kill();
    for i in (0..3).filter(|&i| i != feed_node) {
        let c = nodes[i].client();
        must_succeed_eventually(&c, "DescribeKey", &[("KeyId", &last)], Duration::from_secs(20))
            .await;
    }

    // Stop everything and inspect the stores: the leader compacted its log past everything the
    // restarted node had, so the restarted node can only have caught up by installing a snapshot.
    let leader_dir = nodes[new_leader].data_dir.clone();
    for n in &mut nodes {
        n.kill();
    }
    let (leader_purged, _) = last_log_index(&leader_dir).await;
    assert!(
        leader_purged > victim_last,
        "leader purged up to {leader_purged}, restarted node had {victim_last}: catch-up did not need a snapshot"
    );
    // No file of any node (Raft log, state, snapshots, logs) holds the secret value in clear.
    for n in &nodes {
        for f in crate::support::files_under(&n.data_dir) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(SECRET_CANARY.len()).any(|w| w == SECRET_CANARY.as_bytes()),
                "the secret value is in clear in {}",
                f.display()
            );
        }
        assert!(!n.log().contains(SECRET_CANARY), "the secret value is in a node log");
    }
    let digests: Vec<_> = [&victim_dir, &leader_dir]
        .iter()
        .map(|d| {
            let (_, _, reader) = yaoshi_store::open_region(&d.join("regions/cn-hangzhou")).unwrap();
            reader
                .digest()
                .unwrap()
                .into_iter()
                .filter(|(cf, _)| cf != "sm_meta")
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(digests[0], digests[1], "replicas diverged");
}
