//! Retried proposals: a signed command applied twice (the same proposal appended again after a
//! timeout or a leader change) takes effect once and answers the first response; a different
//! request with the same nonce is a replay; nonces are forgotten after the replay window.

use yaoshi_model::{ErrorCode, NONCE_RETENTION_MS, REPLAY_WINDOW_MS};

use crate::RegionDb;
use crate::test_support::{T0, apply, create, key, open, signed};

fn description(db: &RegionDb) -> String {
    key(db, "k1").unwrap().description
}

#[test]
fn a_repeated_proposal_applies_once_and_answers_the_first_response() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    let first = signed("req-1", "n1", T0 + 1, "first");
    let applied = apply(&db, &first);
    assert!(!applied.duplicate);
    assert!(applied.response.is_ok());
    // Another client changes the description, then the retried first proposal is applied again:
    // it must not overwrite the later change.
    assert!(!apply(&db, &signed("req-2", "n2", T0 + 2, "second")).duplicate);
    let again = apply(&db, &first);
    assert!(again.duplicate);
    assert_eq!(again.response, applied.response);
    assert_eq!(description(&db), "second");
}

#[test]
fn a_rejected_proposal_is_answered_the_same_rejection_when_repeated() {
    let (_dir, db) = open();
    let env = signed("req-1", "n1", T0, "no key yet");
    let first = apply(&db, &env);
    assert_eq!(first.response.as_ref().unwrap_err().code, ErrorCode::KeyNotFound);
    create(&db, "k1", None);
    // The key exists now, but the retry is the same request: same answer, no effect.
    let again = apply(&db, &env);
    assert!(again.duplicate);
    assert_eq!(again.response, first.response);
    assert_eq!(description(&db), "");
}

#[test]
fn the_same_nonce_in_another_request_is_a_replay() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    assert!(apply(&db, &signed("req-1", "n1", T0 + 1, "first")).response.is_ok());
    let replay = apply(&db, &signed("req-9", "n1", T0 + 2, "replayed"));
    assert!(!replay.duplicate);
    assert_eq!(replay.response.unwrap_err().code, ErrorCode::SignatureNonceUsed);
    assert_eq!(description(&db), "first");
}

#[test]
fn nonces_are_forgotten_after_the_replay_window() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    assert!(apply(&db, &signed("req-1", "n1", T0 + 1, "first")).response.is_ok());
    // Past the timestamp window but within the future-skew allowance, a replay could still carry
    // an acceptable timestamp: the nonce is still remembered.
    let replay = apply(&db, &signed("req-2", "n1", T0 + 2 + REPLAY_WINDOW_MS, "replayed"));
    assert_eq!(replay.response.unwrap_err().code, ErrorCode::SignatureNonceUsed);
    // A later command prunes the expired nonce; then the same nonce is a new request.
    let later = T0 + 2 + NONCE_RETENTION_MS;
    assert!(apply(&db, &signed("req-2", "n2", later, "second")).response.is_ok());
    let reused = apply(&db, &signed("req-3", "n1", later + 1, "third"));
    assert!(!reused.duplicate);
    assert!(reused.response.is_ok());
    assert_eq!(description(&db), "third");
}

#[test]
fn a_proposal_retried_after_its_record_was_pruned_is_refused_unapplied() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    let first = signed("req-1", "n1", T0 + 1, "first");
    assert!(apply(&db, &first).response.is_ok());
    // A later command, proposed past the retention window (a fast clock), prunes the record.
    assert!(
        apply(&db, &signed("req-2", "n2", T0 + 2 + NONCE_RETENTION_MS, "second")).response.is_ok()
    );
    // The first proposal, appended again, cannot be told from a new one: refused, not applied.
    let again = apply(&db, &first);
    assert!(!again.duplicate);
    assert_eq!(again.response.unwrap_err().code, ErrorCode::ServiceUnavailableTemporary);
    assert_eq!(description(&db), "second");
    // A fresh request is applied.
    let fresh = signed("req-3", "n3", T0 + 3 + NONCE_RETENTION_MS, "third");
    assert!(apply(&db, &fresh).response.is_ok());
    assert_eq!(description(&db), "third");
}
