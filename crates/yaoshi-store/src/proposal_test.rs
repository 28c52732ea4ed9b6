//! Proposals: the commands the leader batched into one log entry are applied in order, each seeing
//! the effects of the ones before it, each audited; an entry cut short by a crash is resumed after
//! the commands it had applied, so none takes effect twice.

use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use yaoshi_model::{AuditOutcome, CommandOutput, ErrorCode, Proposal};

use crate::codec::encode;
use crate::db::CF_SM_META;
use crate::layout::META_APPLYING;
use crate::test_support::{T0, create, key, open, signed};
use crate::{RocksStateMachine, StateReader, TypeConfig};

fn entry(index: u64, proposal: Proposal) -> Entry<TypeConfig> {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(proposal),
    }
}

#[tokio::test]
async fn commands_of_one_entry_see_each_other_and_are_each_audited() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    let mut sm = RocksStateMachine::new(db.clone()).unwrap();
    // The second command reuses the first one's nonce: it must see the nonce row the first one
    // wrote in the same entry and be refused as a replay.
    let proposal = Proposal {
        commands: vec![
            signed("req-1", "n1", T0 + 1, "first"),
            signed("req-2", "n1", T0 + 2, "replayed"),
            signed("req-3", "n3", T0 + 3, "third"),
        ],
    };
    let responses = sm.apply([entry(7, proposal)]).await.unwrap();
    assert_eq!(responses.len(), 1);
    let r = &responses[0];
    assert_eq!(r.len(), 3);
    assert!(matches!(r[0], Ok(CommandOutput::Key(_))), "{r:?}");
    assert_eq!(r[1].as_ref().unwrap_err().code, ErrorCode::SignatureNonceUsed);
    assert!(r[2].is_ok());
    assert_eq!(key(&db, "k1").unwrap().description, "third");

    let audit = StateReader::new(db.clone()).audit_events().unwrap();
    let of_entry: Vec<_> = audit.iter().filter(|e| e.log_index == 7).collect();
    assert_eq!(of_entry.iter().map(|e| e.position).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(of_entry[1].outcome, AuditOutcome::Rejected(ErrorCode::SignatureNonceUsed));
    let (applied, _) = sm.applied_state().await.unwrap();
    assert_eq!(applied.map(|l| l.index), Some(7));
}

#[tokio::test]
async fn an_entry_cut_short_resumes_after_the_commands_it_applied() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    let mut sm = RocksStateMachine::new(db.clone()).unwrap();
    // As a crash after the first command of entry 9 leaves it: the marker counts one command done.
    db.db.put_cf(db.cf(CF_SM_META), META_APPLYING, encode(&(9u64, 1u32))).unwrap();
    let proposal = Proposal {
        commands: vec![
            signed("req-1", "n1", T0 + 1, "applied before the crash"),
            signed("req-2", "n2", T0 + 2, "second"),
        ],
    };
    let responses = sm.apply([entry(9, proposal)]).await.unwrap();
    assert_eq!(responses[0][0], Ok(CommandOutput::NoOp));
    assert!(responses[0][1].is_ok());
    assert_eq!(key(&db, "k1").unwrap().description, "second");
    let audit = StateReader::new(db.clone()).audit_events().unwrap();
    let positions: Vec<_> = audit.iter().filter(|e| e.log_index == 9).map(|e| e.position).collect();
    assert_eq!(positions, vec![1], "the skipped command is not audited twice");
    // A marker of another entry does not skip anything.
    let proposal = Proposal { commands: vec![signed("req-4", "n4", T0 + 4, "fourth")] };
    let responses = sm.apply([entry(10, proposal)]).await.unwrap();
    assert!(matches!(responses[0][0], Ok(CommandOutput::Key(_))));
    assert_eq!(key(&db, "k1").unwrap().description, "fourth");
}
