//! Replaying the whole log into an empty store rebuilds byte-identical state, through a real Raft
//! node on RocksDB.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use openraft::storage::RaftStateMachine;
use yaoshi_model::fixtures::KeyFixture;
use yaoshi_model::{
    AccessKeyId, AuditOutcome, Command, CommandEnvelope, CommandMeta, CommandOutput, CredentialV1,
    ErrorCode, RegionId,
};
use yaoshi_raft::{RegionConfig, RegionNode};

/// The leader's clock: what an appended command's `at_ms` becomes when it claims a time further
/// than the skew bound (60 s) from it.
static NOW: AtomicI64 = AtomicI64::new(1_700_000_000_000);

fn meta(i: u64, nonce: Option<&str>) -> CommandMeta {
    CommandMeta {
        request_id: format!("req-{i}"),
        principal: Some(AccessKeyId::new("ak")),
        nonce: nonce.map(str::to_string),
        at_ms: 1_700_000_000_000 + i as i64 * 1000,
    }
}

fn create_key(i: u64) -> Command {
    KeyFixture::new(format!("00000000-0000-4000-8000-{i:012}"))
        .version_id(format!("10000000-0000-4000-8000-{i:012}"))
        .at(1_700_000_000_000)
        .description(format!("key {i}"))
        .wrapped(vec![i as u8; 61])
        .tag("team", format!("t{i}"))
        .create_command()
}

#[tokio::test(flavor = "multi_thread")]
async fn replaying_the_log_rebuilds_identical_state() {
    let dir = tempfile::tempdir().unwrap();
    let node = RegionNode::start(RegionConfig {
        region: RegionId::new("cn-test"),
        node_id: 1,
        raft_addr: "127.0.0.1:0".into(),
        initial_members: BTreeMap::from([(1, "127.0.0.1:0".to_string())]),
        data_dir: dir.path().join("live"),
        heartbeat: Duration::from_millis(50),
        election_timeout: (Duration::from_millis(200), Duration::from_millis(400)),
        snapshot_logs_since_last: 100_000,
        logs_to_keep_after_snapshot: 100_000,
        request_timeout: Duration::from_secs(10),
        clock: Arc::new(|| NOW.load(Ordering::SeqCst)),
        max_clock_skew_ms: 60_000,
        nonce_cache_entries: 1000,
        nonce_file: None,
        tls: None,
    })
    .await
    .unwrap();
    assert!(node.initialize_if_pristine().await.unwrap());

    let cred = CredentialV1 {
        access_key_id: AccessKeyId::new("ak"),
        wrapped_secret: vec![7; 40],
        account_id: "1".into(),
        creation_ms: 1,
    };
    let first = node
        .write(CommandEnvelope {
            meta: meta(0, None),
            command: Command::BootstrapCredential { credential: cred.clone() },
        })
        .await
        .unwrap();
    assert_eq!(first, Ok(CommandOutput::None));
    // A second bootstrap is a recorded no-op.
    let second = node
        .write(CommandEnvelope {
            meta: meta(1, None),
            command: Command::BootstrapCredential { credential: cred },
        })
        .await
        .unwrap();
    assert_eq!(second, Ok(CommandOutput::NoOp));
    for i in 2..40 {
        let r = node
            .write(CommandEnvelope {
                meta: meta(i, Some(&format!("n{i}"))),
                command: create_key(i),
            })
            .await
            .unwrap();
        assert!(matches!(r, Ok(CommandOutput::Key(_))), "{r:?}");
    }
    // The same proposal appended again (a write retried after an unknown outcome) applies once and
    // answers the first response.
    let again = node
        .write(CommandEnvelope { meta: meta(5, Some("n5")), command: create_key(5) })
        .await
        .unwrap();
    assert!(matches!(&again, Ok(CommandOutput::Key(k)) if k.description == "key 5"), "{again:?}");
    // A replayed nonce is refused in apply, deterministically, and audited.
    let r = node
        .write(CommandEnvelope { meta: meta(40, Some("n5")), command: create_key(40) })
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().code, ErrorCode::SignatureNonceUsed);
    // Nonces age out by the leader's clock, which bounds every command's time: a proposer that
    // claims a much later time changes nothing.
    let mut claimed_late = meta(41, Some("n5"));
    claimed_late.at_ms += yaoshi_model::NONCE_RETENTION_MS + 1000;
    let r = node.write(CommandEnvelope { meta: claimed_late, command: create_key(41) }).await;
    assert_eq!(r.unwrap().unwrap_err().code, ErrorCode::SignatureNonceUsed);
    // n5 was recorded at 5 s past the start; the clock moves past its retention.
    NOW.fetch_add(yaoshi_model::NONCE_RETENTION_MS + 10_000, Ordering::SeqCst);
    let r = node.write(CommandEnvelope { meta: meta(42, Some("n5")), command: create_key(42) });
    assert!(r.await.unwrap().is_ok());

    // Concurrent writers: the proposer packs the writes waiting at each moment into one entry
    // (group commit), and each gets its own response.
    let writers: Vec<_> = (100..300u64)
        .map(|i| {
            let node = node.clone();
            tokio::spawn(async move {
                let env = CommandEnvelope {
                    meta: meta(i, Some(&format!("n{i}"))),
                    command: create_key(i),
                };
                node.write(env).await.unwrap()
            })
        })
        .collect();
    for (i, w) in (100..300u64).zip(writers) {
        let r = w.await.unwrap();
        assert!(
            matches!(&r, Ok(CommandOutput::Key(k)) if k.description == format!("key {i}")),
            "{r:?}"
        );
    }

    node.read_barrier().await.unwrap();
    let live = node.state.digest().unwrap();
    let entries = node.log_store().all_entries().unwrap();
    assert!(entries.len() > 40);
    assert_eq!(entries[0].log_id.index, 0, "the log must be complete for a full replay");
    let largest = entries
        .iter()
        .map(|e| match &e.payload {
            openraft::EntryPayload::Normal(p) => p.commands.len(),
            _ => 0,
        })
        .max();
    assert!(largest > Some(1), "200 concurrent writes were never batched: {largest:?}");

    let (_log, mut sm, reader) = yaoshi_store::open_region(&dir.path().join("replayed")).unwrap();
    sm.apply(entries).await.unwrap();
    let replayed = reader.digest().unwrap();
    assert_eq!(live, replayed, "replay diverged from the live state");

    let audit = reader.audit_events().unwrap();
    assert_eq!(audit.len(), 244);
    assert_eq!(audit[0].outcome, AuditOutcome::Applied);
    // The second bootstrap changed nothing, and the trail says so.
    assert_eq!(audit[1].outcome, AuditOutcome::NoOp);
    assert_eq!(audit[2].outcome, AuditOutcome::Applied);
    assert_eq!(audit[40].outcome, AuditOutcome::Duplicate);
    assert_eq!(audit[41].outcome, AuditOutcome::Rejected(ErrorCode::SignatureNonceUsed));
    // The claimed later time was replaced by the leader's.
    assert_eq!(audit[42].outcome, AuditOutcome::Rejected(ErrorCode::SignatureNonceUsed));
    assert_eq!(audit[42].at_ms, 1_700_000_000_000);
    assert_eq!(audit[43].outcome, AuditOutcome::Applied);
    for w in audit.windows(2) {
        assert_ne!(w[1].prev_hash, [0; 32], "audit chain broken");
        assert!((w[0].log_index, w[0].position) < (w[1].log_index, w[1].position));
    }
    node.raft.shutdown().await.unwrap();
}
