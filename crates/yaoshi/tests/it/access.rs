//! Credentials and access points end to end on a three-node mTLS cluster with a worker: the
//! operator manages them on the admin listener (`AccessClient`, the operator certificate), and the
//! matrix {allowed, denied by action, by resource, by source network, revoked, rotated within the
//! grace period, rotated after it} × {leader, follower, worker} is asserted with exact statuses and
//! codes, and with no state change on a refusal.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use yaoshi_client::{Client, Response};
use yaoshi_raft::{AccessClient, ClusterTls};
use yaoshi_testkit::cluster::{Cluster, ClusterSpec};

const REGION: &str = "cn-hangzhou";
const ACCOUNT: &str = "1000000000000000";
/// The worker's staleness bound (its default).
const STALENESS: Duration = Duration::from_millis(1000);

fn operator(dir: &Path) -> Arc<ClusterTls> {
    let certs = dir.join("certs");
    Arc::new(
        ClusterTls::load(&certs.join("ca.pem"), &certs.join("admin.pem"), &certs.join("admin.key"))
            .unwrap(),
    )
}

fn key_arn(key: &str) -> String {
    format!("acs:kms:{REGION}:{ACCOUNT}:key/{key}")
}

/// The policies of an access point allowing Encrypt*, DescribeKey and UpdateKeyDescription on
/// `key` (through its ARN or the alias `alias/allowed`) from `cidr`.
fn policies(key: &str, cidr: &str) -> String {
    serde_json::json!([{
        "Name": "app",
        "Actions": ["Encrypt*", "kms:DescribeKey", "UpdateKeyDescription"],
        "Resources": [key_arn(key), format!("acs:kms:*:{ACCOUNT}:alias/allowed")],
        "SourceCidrs": [cidr],
    }])
    .to_string()
}

/// A client of every target, signing as (id, secret).
fn targets(
    endpoints: &[(&'static str, String)],
    id: &str,
    secret: &str,
) -> Vec<(&'static str, Client)> {
    endpoints.iter().map(|(name, e)| (*name, Client::new(e, id, secret))).collect()
}

async fn call(c: &Client, action: &str, params: &[(&str, &str)]) -> Response {
    c.call(action, params).await.unwrap()
}

fn expect(cell: &str, r: &Response, status: u16, code: Option<&str>) {
    assert_eq!((r.status, r.code()), (status, code), "{cell}: {}", r.body);
}

/// Retries `action` on `c` until it answers `status` (the worker learns of changes from its feed).
async fn eventually(c: &Client, action: &str, params: &[(&str, &str)], status: u16) -> Duration {
    let start = Instant::now();
    loop {
        let r = call(c, action, params).await;
        if r.status == status {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{action} never answered {status}: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_points_and_credentials_on_nodes_and_workers() {
    let dir = yaoshi_testkit::cluster::run_dir("it-access");
    let spec =
        ClusterSpec { binary: Some(env!("CARGO_BIN_EXE_yaoshi").into()), ..ClusterSpec::default() };
    let mut cluster = Cluster::start(&dir, &spec);
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    let leader = cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
    let follower = (leader + 1) % 3;
    let w = cluster.start_worker(follower, &[]);
    let admin = cluster.nodes[leader].client();
    let allowed = crate::support::must_create_key(&admin).await;
    let other = crate::support::must_create_key(&admin).await;
    crate::support::must_call(
        &admin,
        "CreateAlias",
        &[("AliasName", "alias/allowed"), ("KeyId", &allowed)],
    )
    .await;

    // The operator, on a follower's admin listener (changes are forwarded to the leader).
    let tls = operator(&dir);
    let mut op =
        AccessClient::connect(&cluster.nodes[follower].admin, Some(&tls), REGION).await.unwrap();
    op.put_access_point("app", "loopback clients", &policies(&allowed, "127.0.0.0/8"))
        .await
        .unwrap();
    op.put_access_point("office", "another network", &policies(&allowed, "10.0.0.0/8"))
        .await
        .unwrap();
    // Bad policies and unknown access points are refused, and change nothing.
    let bad =
        op.put_access_point("bad", "", r#"[{"Name":"p","Actions":[],"Resources":["*"]}]"#).await;
    assert_eq!(bad.unwrap_err().code(), tonic::Code::InvalidArgument);
    let e = op.create(Some("nowhere"), "").await.unwrap_err();
    assert!(e.message().contains("Forbidden.ResourceNotFound"), "{e:?}");
    assert_eq!(op.access_points().await.unwrap().len(), 2);

    let made = |r: yaoshi_raft::pb::access::SecretReply| {
        (r.credential.unwrap().access_key_id, r.access_key_secret)
    };
    let (a_id, a_secret) = made(op.create(Some("app"), "allowed").await.unwrap());
    let (n_id, n_secret) = made(op.create(Some("office"), "wrong network").await.unwrap());
    let (r_id, r_secret) = made(op.create(Some("app"), "to revoke").await.unwrap());
    let (g_id, g_secret) = made(op.create(Some("app"), "rotated, in grace").await.unwrap());
    let (x_id, x_secret) = made(op.create(Some("app"), "rotated, grace over").await.unwrap());
    let listed = op.list().await.unwrap();
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(listed.iter().all(|c| c.access_point.is_empty()
        == (c.access_key_id == yaoshi_testkit::cluster::ACCESS_KEY_ID)));

    let endpoints = [
        ("leader", cluster.nodes[leader].http.clone()),
        ("follower", cluster.nodes[follower].http.clone()),
        ("worker", cluster.workers[w].http.clone()),
    ];
    let pt = ("Plaintext", "aGVsbG8=");
    // The worker serves a credential once its feed has brought it.
    let known = [
        (&a_id, &a_secret, 200),
        (&n_id, &n_secret, 403),
        (&x_id, &x_secret, 200),
        (&g_id, &g_secret, 200),
        (&r_id, &r_secret, 200),
    ];
    for (id, secret, status) in known {
        let c = Client::new(&cluster.workers[w].http, id, secret);
        eventually(&c, "Encrypt", &[("KeyId", &allowed), pt], status).await;
    }

    // Allowed: by key id, by ARN and by alias; DescribeKey too.
    for (t, c) in targets(&endpoints, &a_id, &a_secret) {
        let arn = key_arn(&allowed);
        for key in [allowed.as_str(), arn.as_str(), "alias/allowed"] {
            let r = call(&c, "Encrypt", &[("KeyId", key), pt]).await;
            expect(&format!("allowed {t} {key}"), &r, 200, None);
        }
        expect(
            &format!("allowed {t}"),
            &call(&c, "DescribeKey", &[("KeyId", &allowed)]).await,
            200,
            None,
        );
    }
    // Denied by action: a data-plane one (served by the worker itself) and a write (forwarded);
    // the key stays Enabled.
    for (t, c) in targets(&endpoints, &a_id, &a_secret) {
        let r = call(&c, "GenerateDataKey", &[("KeyId", &allowed)]).await;
        expect(&format!("action {t}"), &r, 403, Some("Forbidden.NoPermission"));
        let r = call(&c, "DisableKey", &[("KeyId", &allowed)]).await;
        expect(&format!("action {t}"), &r, 403, Some("Forbidden.NoPermission"));
        let r = call(&c, "ListKeys", &[]).await;
        expect(&format!("action {t}"), &r, 403, Some("Forbidden.NoPermission"));
    }
    let d = call(&admin, "DescribeKey", &[("KeyId", &allowed)]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyState"], "Enabled");
    // Denied by resource: the other key, for a read, a data-plane action and a write.
    for (t, c) in targets(&endpoints, &a_id, &a_secret) {
        for (action, params) in [
            ("Encrypt", vec![("KeyId", other.as_str()), pt]),
            ("DescribeKey", vec![("KeyId", other.as_str())]),
            ("UpdateKeyDescription", vec![("KeyId", other.as_str()), ("Description", "changed")]),
        ] {
            let r = call(&c, action, &params).await;
            expect(&format!("resource {t} {action}"), &r, 403, Some("Forbidden.NoPermission"));
        }
    }
    let d = call(&admin, "DescribeKey", &[("KeyId", &other)]).await;
    assert_eq!(d.body["KeyMetadata"]["Description"], "test key", "a refused write changed the key");
    // Denied by source network: the same policies from 10.0.0.0/8 only.
    for (t, c) in targets(&endpoints, &n_id, &n_secret) {
        let r = call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await;
        expect(&format!("network {t}"), &r, 403, Some("Forbidden.NoPermission"));
        let r =
            call(&c, "UpdateKeyDescription", &[("KeyId", &allowed), ("Description", "x")]).await;
        expect(&format!("network {t}"), &r, 403, Some("Forbidden.NoPermission"));
    }
    let d = call(&admin, "DescribeKey", &[("KeyId", &allowed)]).await;
    assert_eq!(d.body["KeyMetadata"]["Description"], "test key", "a refused write changed the key");
    // A permitted write goes through, from a follower too.
    let c = Client::new(&cluster.nodes[follower].http, &a_id, &a_secret);
    expect(
        "allowed write",
        &call(&c, "UpdateKeyDescription", &[("KeyId", &allowed), ("Description", "ok")]).await,
        200,
        None,
    );

    // Refusals are audited on the node or worker that refused them.
    let logs = [cluster.nodes[leader].process.log(), cluster.workers[w].process.log()];
    for log in &logs {
        let audited = |reason: &str| {
            log.lines()
                .any(|l| l.contains("access denied") && l.contains(&a_id) && l.contains(reason))
        };
        assert!(audited("resource") && audited("action"), "no audit line");
        assert!(!log.contains(&a_secret), "a secret reached a log");
    }

    // Rotation: within its grace period both secrets work; after it only the new one.
    let (_, g_new) = made(op.rotate(&g_id, 600).await.unwrap());
    let (_, x_new) = made(op.rotate(&x_id, 2).await.unwrap());
    let rotated_at = Instant::now();
    for (t, c) in targets(&endpoints, &g_id, &g_new) {
        let w_ready = eventually(&c, "Encrypt", &[("KeyId", &allowed), pt], 200).await;
        assert!(w_ready < Duration::from_secs(5), "{t}: the new secret took {w_ready:?}");
    }
    for (t, c) in targets(&endpoints, &g_id, &g_secret) {
        expect(
            &format!("grace {t}"),
            &call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await,
            200,
            None,
        );
    }
    for (_, c) in targets(&endpoints, &x_id, &x_new) {
        eventually(&c, "Encrypt", &[("KeyId", &allowed), pt], 200).await;
    }
    tokio::time::sleep(
        Duration::from_secs(2).saturating_sub(rotated_at.elapsed()) + Duration::from_millis(300),
    )
    .await;
    for (t, c) in targets(&endpoints, &x_id, &x_secret) {
        let r = call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await;
        expect(&format!("after grace {t}"), &r, 400, Some("SignatureDoesNotMatch"));
    }
    for (t, c) in targets(&endpoints, &x_id, &x_new) {
        expect(
            &format!("after grace, new {t}"),
            &call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await,
            200,
            None,
        );
    }

    // Revocation: refused everywhere; the worker within its staleness bound.
    for (t, c) in targets(&endpoints, &r_id, &r_secret) {
        expect(
            &format!("before revoke {t}"),
            &call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await,
            200,
            None,
        );
    }
    op.revoke(&r_id).await.unwrap();
    let revoked_at = Instant::now();
    let worker = Client::new(&cluster.workers[w].http, &r_id, &r_secret);
    let took = eventually(&worker, "Encrypt", &[("KeyId", &allowed), pt], 404).await;
    println!(
        "the worker refused the revoked credential {:?} after the revocation",
        revoked_at.elapsed()
    );
    assert!(took <= STALENESS, "the worker served a revoked credential for {took:?}");
    for (t, c) in targets(&endpoints, &r_id, &r_secret) {
        let r = call(&c, "Encrypt", &[("KeyId", &allowed), pt]).await;
        expect(&format!("revoked {t}"), &r, 404, Some("InvalidAccessKeyId.NotFound"));
    }
    assert!(op.list().await.unwrap().iter().all(|c| c.access_key_id != r_id));

    // Unscoping and deleting: an access point in use cannot be deleted; once no credential is
    // held to it, it can, and the bootstrap credential stays the admin throughout.
    let e = op.delete_access_point("office").await.unwrap_err();
    assert!(e.message().contains("still held"), "{e:?}");
    op.scope(&n_id, None).await.unwrap();
    op.delete_access_point("office").await.unwrap();
    for (t, c) in targets(&endpoints, &n_id, &n_secret) {
        let r = eventually(&c, "ListKeys", &[], 200).await;
        println!("{t}: unscoped after {r:?}");
    }
    expect("admin", &call(&admin, "ScheduleKeyDeletion", &[("KeyId", &other)]).await, 200, None);

    // Secrets are stored only wrapped: no file of any node (Raft log, state, snapshots, logs)
    // holds one in clear.
    cluster.stop_all();
    let secrets = [&a_secret, &n_secret, &r_secret, &g_secret, &g_new, &x_secret, &x_new];
    for node in &cluster.nodes {
        let mut files = vec![node.process.log_path().to_path_buf()];
        let mut dirs = vec![node.data_dir.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        assert!(files.len() > 3, "{files:?}");
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            for secret in secrets {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "a credential secret is in clear in {}", f.display());
            }
        }
    }
}
