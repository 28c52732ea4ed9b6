//! Regression tests of openraft snapshot hazards on the real RocksDB store:
//!
//! - inconsistent snapshot state: snapshots built while entries are being applied must each be a
//!   point-in-time copy whose data is exactly the replay of the log up to its `last_log_id`;
//! - snapshot install with stale membership: installing a snapshot must leave the state machine
//!   with the snapshot's `(last_log_id, membership)`, whatever membership it held before (a
//!   membership change after the snapshot point must not leak into, or survive, the install).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine};
use openraft::{BasicNode, CommittedLeaderId, Entry, EntryPayload, LogId, Membership};
use yaoshi_model::fixtures::KeyFixture;
use yaoshi_model::{AccessKeyId, CommandEnvelope, CommandMeta, Proposal};
use yaoshi_store::{TypeConfig, open_region};

fn log_id(index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(1, 1), index)
}

fn membership(voters: &[u64]) -> Membership<u64, BasicNode> {
    let nodes: BTreeMap<u64, BasicNode> = voters
        .iter()
        .map(|id| (*id, BasicNode { addr: format!("127.0.0.1:{}", 9000 + id) }))
        .collect();
    Membership::new(vec![voters.iter().copied().collect::<BTreeSet<u64>>()], nodes)
}

fn create_key(i: u64) -> CommandEnvelope {
    CommandEnvelope {
        meta: CommandMeta {
            request_id: format!("req-{i}"),
            principal: Some(AccessKeyId::new("ak")),
            nonce: Some(format!("n{i}")),
            at_ms: 1_700_000_000_000 + i as i64,
        },
        command: KeyFixture::new(format!("00000000-0000-4000-8000-{i:012}"))
            .version_id(format!("10000000-0000-4000-8000-{i:012}"))
            .at(1_700_000_000_000)
            .description(format!("key {i}"))
            .wrapped(vec![i as u8; 61])
            .create_command(),
    }
}

/// A log of key creations with membership changes at 1 ([1,2,3]), 150 ([1,2,3,4]) and 300
/// ([2,3,4]); every third entry is a proposal of three commands (a batch of the proposer).
fn entries(n: u64) -> Vec<Entry<TypeConfig>> {
    (1..=n)
        .map(|i| {
            let payload = match i {
                1 => EntryPayload::Membership(membership(&[1, 2, 3])),
                150 => EntryPayload::Membership(membership(&[1, 2, 3, 4])),
                300 => EntryPayload::Membership(membership(&[2, 3, 4])),
                _ if i % 3 == 0 => EntryPayload::Normal(Proposal {
                    commands: vec![create_key(i), create_key(i + 10_000), create_key(i + 20_000)],
                }),
                _ => EntryPayload::Normal(Proposal { commands: vec![create_key(i)] }),
            };
            Entry { log_id: log_id(i), payload }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_built_during_apply_equal_the_replay_up_to_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let log = entries(400);
    let (_l, mut live, _) = open_region(&dir.path().join("live")).unwrap();

    // Apply in small batches on one task while another builds snapshots as fast as it can. Every
    // 20 batches the applier waits for two more builds, so the builds interleave with apply
    // however the two tasks are scheduled (the second of them started after the wait began).
    let mut builder = live.get_snapshot_builder().await;
    let built = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let building = tokio::spawn({
        let (built, done) = (built.clone(), done.clone());
        async move {
            let mut snaps = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let s = builder.build_snapshot().await.unwrap();
                snaps.push((s.meta, s.snapshot.into_inner()));
                built.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
            snaps
        }
    });
    for (n, chunk) in log.chunks(5).enumerate() {
        live.apply(chunk.to_vec()).await.unwrap();
        if n % 20 == 19 {
            let seen = built.load(Ordering::SeqCst);
            while built.load(Ordering::SeqCst) < seen + 2 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        tokio::task::yield_now().await;
    }
    done.store(true, Ordering::SeqCst);
    let snaps = building.await.unwrap();
    // The last snapshot built is the persisted current one, byte for byte (it is streamed to disk).
    let current = live.get_current_snapshot().await.unwrap().expect("current snapshot");
    let (last_meta, last_data) = snaps.last().unwrap();
    assert_eq!(&current.meta, last_meta);
    assert!(current.snapshot.into_inner() == *last_data, "persisted snapshot differs");
    // One snapshot per distinct point, at most 40 of them (evenly spread) to replay.
    let mut snaps: Vec<_> = snaps
        .into_iter()
        .scan(None, |last, (m, d)| {
            let point = m.last_log_id.map(|l| l.index);
            let fresh = *last != Some(point);
            *last = Some(point);
            Some(fresh.then_some((m, d)))
        })
        .flatten()
        .collect();
    let step = snaps.len().div_ceil(40);
    snaps = snaps.into_iter().step_by(step.max(1)).collect();
    let points: BTreeSet<Option<u64>> =
        snaps.iter().map(|(m, _)| m.last_log_id.map(|l| l.index)).collect();
    assert!(points.len() >= 4, "snapshots did not interleave with apply: {points:?}");

    // A snapshot taken before anything was applied is never sent (openraft sends none without a
    // last log id); every other one is checked.
    for (n, (meta, data)) in snaps.into_iter().enumerate() {
        let Some(upto) = meta.last_log_id.map(|l| l.index) else { continue };
        // Reference: a fresh store replaying the log up to the snapshot point.
        let (_l, mut replayed, replayed_reader) =
            open_region(&dir.path().join(format!("replay-{n}"))).unwrap();
        replayed.apply(log[..upto as usize].to_vec()).await.unwrap();
        // The snapshot installed on a store that already holds later state and a newer membership
        // (the stale-membership hazard runs both ways: the install must fully replace it).
        let (_l, mut installed, installed_reader) =
            open_region(&dir.path().join(format!("install-{n}"))).unwrap();
        installed.apply(log.clone()).await.unwrap();
        installed.install_snapshot(&meta, Box::new(Cursor::new(data))).await.unwrap();

        assert_eq!(
            installed_reader.digest().unwrap(),
            replayed_reader.digest().unwrap(),
            "snapshot {n} at index {upto} is not the state of its log prefix"
        );
        let (applied, stored_membership) = installed.applied_state().await.unwrap();
        assert_eq!(applied, meta.last_log_id);
        assert_eq!(stored_membership, meta.last_membership);
        let (r_applied, r_membership) = replayed.applied_state().await.unwrap();
        assert_eq!((applied, &stored_membership), (r_applied, &r_membership));
        let expected_voters: Vec<u64> = match upto {
            0..150 => vec![1, 2, 3],
            150..300 => vec![1, 2, 3, 4],
            _ => vec![2, 3, 4],
        };
        let voters: Vec<u64> = stored_membership.membership().voter_ids().collect();
        assert_eq!(voters, expected_voters, "snapshot {n} at {upto}");
        // The snapshot is persisted as the current one and survives reopening.
        let current = installed.get_current_snapshot().await.unwrap().expect("current snapshot");
        assert_eq!(current.meta.last_log_id, meta.last_log_id);
    }
}
