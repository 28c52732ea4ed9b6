//! Helpers shared by the crate's unit tests: a store in a temporary directory, applying commands
//! directly (without Raft), creating fixture keys and signed commands.

use rocksdb::WriteBatch;
use yaoshi_model::fixtures::KeyFixture;
use yaoshi_model::{
    AccessKeyId, Command, CommandEnvelope, CommandMeta, CommandResponse, KeyId, KeyMetadata,
};

use crate::state_machine::{Applied, apply_command};
use crate::{RegionDb, StateReader};

/// One day in milliseconds.
pub(crate) const DAY: i64 = 86_400_000;
/// The tests' starting time, Unix ms.
pub(crate) const T0: i64 = 1_700_000_000_000;

/// A fresh store in a temporary directory (kept as long as the `TempDir`).
pub(crate) fn open() -> (tempfile::TempDir, RegionDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = RegionDb::open(dir.path()).unwrap();
    (dir, db)
}

/// Applies `env` and writes its batch.
pub(crate) fn apply(db: &RegionDb, env: &CommandEnvelope) -> Applied {
    let mut batch = WriteBatch::default();
    let applied = apply_command(db, &mut batch, env).unwrap();
    db.db.write(batch).unwrap();
    applied
}

/// Applies `command` as an unsigned system command proposed at `at_ms`.
pub(crate) fn run(db: &RegionDb, at_ms: i64, command: Command) -> CommandResponse {
    let env = CommandEnvelope {
        meta: CommandMeta { request_id: "r".into(), principal: None, nonce: None, at_ms },
        command,
    };
    apply(db, &env).response
}

/// Creates an Enabled AES key `id` at T0 with one tag (optionally rotating every
/// `rotation_days`).
pub(crate) fn create(db: &RegionDb, id: &str, rotation_days: Option<u64>) -> KeyMetadata {
    let fixture =
        KeyFixture::new(id).at(T0).rotation(rotation_days.map(|d| d * 86_400)).tag("k", "v");
    let (metadata, _) = fixture.clone().build();
    assert!(run(db, T0, fixture.create_command()).is_ok());
    metadata
}

/// The stored key `id`.
pub(crate) fn key(db: &RegionDb, id: &str) -> Option<KeyMetadata> {
    StateReader::new(db.clone()).key(id).unwrap()
}

/// An UpdateKeyDescription of key `k1` signed by AccessKey `ak` with this nonce.
pub(crate) fn signed(
    request_id: &str,
    nonce: &str,
    at_ms: i64,
    description: &str,
) -> CommandEnvelope {
    CommandEnvelope {
        meta: CommandMeta {
            request_id: request_id.into(),
            principal: Some(AccessKeyId::new("ak")),
            nonce: Some(nonce.into()),
            at_ms,
        },
        command: Command::UpdateKeyDescription {
            key_id: KeyId::new("k1"),
            description: description.into(),
        },
    }
}
