//! `RocksStateMachine`: openraft's `RaftStateMachine` whose state lives in RocksDB column families.
//!
//! Counter: `yaoshi_state_applied_entries_total`, entries applied by this process (the re-apply of
//! committed entries at startup included).

use std::io::Cursor;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError, StoredMembership,
};
use rocksdb::{WriteBatch, WriteOptions};
use sha2::{Digest, Sha256};
use yaoshi_model::{AuditEvent, CommandOutput};

use crate::apply::apply_command;
use crate::codec::{decode, encode};
use crate::db::{CF_AUDIT, CF_SM_META, OpenStoreError, RegionDb};
use crate::snapshot;
use crate::{NodeId, TypeConfig};

pub(crate) const META_LAST_APPLIED: &[u8] = b"last_applied";
pub(crate) const META_MEMBERSHIP: &[u8] = b"membership";
pub(crate) const META_AUDIT_HEAD: &[u8] = b"audit_head";

type StorageResult<T> = Result<T, StorageError<NodeId>>;

/// The replicated state machine of one region.
#[derive(Debug, Clone)]
pub struct RocksStateMachine {
    db: RegionDb,
}

impl RocksStateMachine {
    /// A state machine on `db`.
    ///
    /// # Errors
    ///
    /// Currently infallible; kept fallible for migrations of the stored format.
    pub fn new(db: RegionDb) -> Result<RocksStateMachine, OpenStoreError> {
        Ok(RocksStateMachine { db })
    }

    fn read_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> StorageResult<Option<T>> {
        let raw = self
            .db
            .db
            .get_pinned_cf(self.db.cf(CF_SM_META), key)
            .map_err(|e| StorageIOError::read_state_machine(&e))?;
        match raw {
            None => Ok(None),
            Some(b) => {
                decode(&b).map(Some).map_err(|e| StorageIOError::read_state_machine(&e).into())
            }
        }
    }

    /// Applies one entry: its effects, the applied log id, and one audit event, in one write batch.
    fn apply_entry(
        &mut self,
        entry: Entry<TypeConfig>,
    ) -> StorageResult<yaoshi_model::CommandResponse> {
        let mut batch = WriteBatch::default();
        let meta_cf = self.db.cf(CF_SM_META);
        batch.put_cf(meta_cf, META_LAST_APPLIED, encode(&Some(entry.log_id)));
        let mut changes = Vec::new();
        let response = match entry.payload {
            EntryPayload::Blank => Ok(CommandOutput::None),
            EntryPayload::Membership(membership) => {
                let stored = StoredMembership::new(Some(entry.log_id), membership);
                batch.put_cf(meta_cf, META_MEMBERSHIP, encode(&stored));
                Ok(CommandOutput::None)
            }
            EntryPayload::Normal(env) => {
                let applied = apply_command(&self.db, &mut batch, &env)
                    .map_err(|e| StorageIOError::apply(entry.log_id, &e))?;
                if !applied.duplicate {
                    changes = crate::feed::changes_of(&env.command);
                }
                let response = applied.response;
                let (_, prev_hash): (u64, [u8; 32]) =
                    self.read_meta(META_AUDIT_HEAD)?.unwrap_or((0, [0; 32]));
                let event = AuditEvent {
                    log_index: entry.log_id.index,
                    request_id: env.meta.request_id.clone(),
                    principal: env.meta.principal.as_ref().map(|p| p.to_string()),
                    action: env.command.name().to_string(),
                    target: env.command.target(),
                    // A refused precondition (a stale or duplicate scheduled command) is recorded
                    // as "NoOp" and a repeated proposal as "Duplicate", so the trail shows every
                    // entry and what became of it.
                    error_code: match &response {
                        _ if applied.duplicate => Some("Duplicate".to_string()),
                        Err(e) => Some(e.code.as_str().to_string()),
                        Ok(CommandOutput::NoOp) => Some("NoOp".to_string()),
                        Ok(_) => None,
                    },
                    at_ms: env.meta.at_ms,
                    prev_hash,
                };
                let encoded = encode(&event);
                let hash: [u8; 32] = Sha256::digest(&encoded).into();
                batch.put_cf(self.db.cf(CF_AUDIT), entry.log_id.index.to_be_bytes(), encoded);
                batch.put_cf(meta_cf, META_AUDIT_HEAD, encode(&(entry.log_id.index, hash)));
                response
            }
        };
        // Not synced: the log entry is already durable, and RocksDB's single WAL orders this write
        // before any later synced log append, so recovery never sees state ahead of the log.
        self.db
            .db
            .write_opt(batch, &WriteOptions::default())
            .map_err(|e| StorageIOError::apply(entry.log_id, &e))?;
        metrics::counter!("yaoshi_state_applied_entries_total").increment(1);
        // No subscriber is fine: the feed is advisory, state is in RocksDB.
        let _ = self.db.feed.send(crate::feed::Applied { index: entry.log_id.index, changes });
        Ok(response)
    }
}

impl RaftSnapshotBuilder<TypeConfig> for RocksStateMachine {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || snapshot::build(&db)).await.map_err(|e| {
            StorageIOError::read_state_machine(&std::io::Error::other(e.to_string()))
        })?
    }
}

impl RaftStateMachine<TypeConfig> for RocksStateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> StorageResult<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>)> {
        let applied: Option<LogId<NodeId>> = self.read_meta(META_LAST_APPLIED)?.flatten();
        let membership = self.read_meta(META_MEMBERSHIP)?.unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<yaoshi_model::CommandResponse>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut out = Vec::new();
        for entry in entries {
            out.push(self.apply_entry(entry)?);
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let db = self.db.clone();
        let meta = meta.clone();
        let data = snapshot.into_inner();
        let index = meta.last_log_id.map_or(0, |l| l.index);
        let feed = self.db.feed.clone();
        tokio::task::spawn_blocking(move || snapshot::install(&db, &meta, data)).await.map_err(
            |e| StorageIOError::write_state_machine(&std::io::Error::other(e.to_string())),
        )??;
        let _ =
            feed.send(crate::feed::Applied { index, changes: vec![crate::feed::Change::Reset] });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        snapshot::load_current(&self.db)
    }
}
