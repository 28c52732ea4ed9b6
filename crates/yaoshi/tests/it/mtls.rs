//! The internal gRPC port of a real node over mutual TLS (certificates from the real
//! `yaoshi cert`): a client without a certificate, with one from another CA, or with a
//! certificate of the wrong kind or member cannot join, append, change membership or read the
//! feed, and none of those attempts changes the group. Membership is administered only on the
//! node's admin listener and only with the operator certificate; the gRPC port refuses it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::Vote;
use openraft::raft::AppendEntriesRequest;
use yaoshi_raft::pb::{RaftRequest, RaftServiceClient};
use yaoshi_raft::{AdminClient, AdminError, ClusterTls, TypeConfig, tls};
use yaoshi_testkit::cluster::{Cluster, ClusterSpec, issue_certs};

const REGION: &str = "cn-hangzhou";

fn holder(dir: &Path, name: &str) -> Arc<ClusterTls> {
    let certs = dir.join("certs");
    Arc::new(
        ClusterTls::load(
            &certs.join("ca.pem"),
            &certs.join(format!("{name}.pem")),
            &certs.join(format!("{name}.key")),
        )
        .unwrap(),
    )
}

fn cert(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["cert", "issue", "--dir"])
        .arg(dir.join("certs"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// An AppendEntries claiming to come from leader `leader`, sent with `tls`.
async fn append_as(addr: &str, tls: &ClusterTls, leader: u64) -> tonic::Status {
    let endpoint = tls::endpoint(addr, Some(tls), &tls::node_name(REGION, 1)).unwrap();
    let mut client = RaftServiceClient::new(endpoint.connect().await.unwrap());
    let rpc: AppendEntriesRequest<TypeConfig> = AppendEntriesRequest {
        vote: Vote::new_committed(1_000, leader),
        prev_log_id: None,
        entries: vec![],
        leader_commit: None,
    };
    let payload = yaoshi_store::codec::encode(&rpc);
    client
        .append_entries(RaftRequest { region: REGION.into(), payload })
        .await
        .expect_err("refused")
}

/// A nonce claim for `nonce`, sent with `tls`: the voter's answers, or the refusal.
async fn claim_as(
    addr: &str,
    tls: &ClusterTls,
    nonce: &str,
) -> Result<Vec<yaoshi_raft::nonces::NonceCheck>, tonic::Status> {
    let endpoint = tls::endpoint(addr, Some(tls), &tls::node_name(REGION, 1)).unwrap();
    let mut client = RaftServiceClient::new(endpoint.connect().await.unwrap());
    let claims = vec![yaoshi_raft::claims::NonceClaim {
        access_key_id: "ak".into(),
        nonce: nonce.into(),
        timestamp_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    }];
    let payload = yaoshi_store::codec::encode(&claims);
    let reply = client.claim_nonces(RaftRequest { region: REGION.into(), payload }).await?;
    Ok(yaoshi_store::codec::decode(&reply.into_inner().payload).unwrap())
}

async fn admin(addr: &str, tls: Option<&ClusterTls>) -> Result<AdminClient, AdminError> {
    AdminClient::connect(addr, tls, &tls::region_name(REGION)).await
}

/// Whether a Status call over `tls` (or plaintext) gets any answer at `addr`.
async fn answered(addr: &str, tls: Option<&ClusterTls>) -> bool {
    match admin(addr, tls).await {
        Ok(mut c) => c.status(REGION).await.is_ok(),
        Err(_) => false,
    }
}

fn denied(e: &AdminError) -> bool {
    let s = e.to_string();
    s.contains("may not make this call") || s.contains("PermissionDenied")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_right_certificates_reach_the_cluster_port() {
    let dir = yaoshi_testkit::cluster::run_dir("mtls");
    let spec = ClusterSpec {
        nodes: 1,
        binary: Some(env!("CARGO_BIN_EXE_yaoshi").into()),
        ..ClusterSpec::default()
    };
    let cluster = Cluster::start(&dir, &spec);
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    let addr = cluster.nodes[0].raft.clone();
    cert(&dir, &["--worker", "w9"]);
    cert(&dir, &["--node", "2"]);
    let (operator, worker, node2) =
        (holder(&dir, "admin"), holder(&dir, "worker-w9"), holder(&dir, "node-2"));
    let stranger_dir = dir.join("stranger");
    issue_certs(Path::new(env!("CARGO_BIN_EXE_yaoshi")), &stranger_dir, 1);
    let stranger = holder(&stranger_dir, "admin");

    // The operator's certificate administers the group, on the admin listener only.
    let admin_addr = cluster.nodes[0].admin.clone();
    let mut op = admin(&admin_addr, Some(&operator)).await.unwrap();
    let before = op.status(REGION).await.unwrap();
    assert_eq!(before.voters.keys().copied().collect::<Vec<_>>(), vec![1]);
    let all = op.members(REGION).await.unwrap();
    assert!(matches!(all.members.get(&1), Some(Ok(s)) if s.leader == Some(1)), "{all:?}");
    let mut op_on_grpc = admin(&addr, Some(&operator)).await.unwrap();
    for e in [
        op_on_grpc.status(REGION).await.unwrap_err(),
        op_on_grpc.add_learner(REGION, 66, "127.0.0.1:1").await.unwrap_err(),
        op_on_grpc.remove(REGION, 1).await.unwrap_err(),
    ] {
        assert!(denied(&e), "the gRPC port served the operator: {e}");
    }
    // Nodes reach each other's admin service on the gRPC port (forwarding), never the listener;
    // neither may a worker.
    let mut n2 = admin(&addr, Some(&node2)).await.unwrap();
    assert_eq!(n2.status(REGION).await.unwrap().voters, before.voters);
    for who in [&node2, &worker] {
        let mut c = admin(&admin_addr, Some(who)).await.unwrap();
        let e = c.status(REGION).await.unwrap_err();
        assert!(denied(&e), "{e}");
        let e = c.add_learner(REGION, 66, "127.0.0.1:1").await.unwrap_err();
        assert!(denied(&e), "{e}");
    }
    // Neither a plaintext client nor another CA's certificate gets an answer there.
    assert!(
        !answered(&admin_addr, None).await,
        "a plaintext client was answered on the admin listener"
    );
    assert!(
        !answered(&admin_addr, Some(&stranger)).await,
        "a foreign CA's operator certificate was accepted"
    );

    // No certificate at all: plaintext to a TLS port gets no answer.
    assert!(!answered(&addr, None).await, "a plaintext client was answered");
    // A certificate from another CA fails the handshake.
    assert!(!answered(&addr, Some(&stranger)).await, "a foreign CA's certificate was accepted");

    // A worker certificate may read the feed, but not administer or append.
    let mut w = admin(&addr, Some(&worker)).await.unwrap();
    let e = w.add_learner(REGION, 66, "127.0.0.1:1").await.unwrap_err();
    assert!(denied(&e), "{e}");
    let e = w.status(REGION).await.unwrap_err();
    assert!(denied(&e), "{e}");
    let s = append_as(&addr, &worker, 1).await;
    assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}");
    let feed = yaoshi_raft::feed::watch(&addr, REGION, Some(&worker)).await;
    assert!(feed.is_ok(), "the worker's feed was refused");

    // The operator may not read the feed (key records) nor speak Raft.
    match yaoshi_raft::feed::watch(&addr, REGION, Some(&operator)).await {
        Err(s) => assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}"),
        Ok(_) => panic!("the operator's certificate opened the feed"),
    }
    let s = append_as(&addr, &operator, 1).await;
    assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}");

    // Nonce claims: a worker's are answered (a replayed one as such); the operator's refused, so
    // it can neither probe which nonces were used nor fill a voter's cache.
    use yaoshi_raft::nonces::NonceCheck;
    assert_eq!(claim_as(&addr, &worker, "n1").await.unwrap(), [NonceCheck::Fresh]);
    assert_eq!(claim_as(&addr, &node2, "n1").await.unwrap(), [NonceCheck::Replayed]);
    let s = claim_as(&addr, &operator, "n2").await.unwrap_err();
    assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}");

    // A member certificate of node 2 cannot speak as node 1 (the real leader).
    let s = append_as(&addr, &node2, 1).await;
    assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}");
    assert!(s.message().contains("as another member"), "{s:?}");

    // Nothing changed: the same single voter, still the leader, still serving signed requests.
    let after = op.status(REGION).await.unwrap();
    assert_eq!(after.voters, before.voters);
    assert!(after.learners.is_empty(), "{after:?}");
    assert_eq!(after.leader, Some(1));
    let r = cluster.nodes[0].client().call("CreateKey", &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}
