//! `RocksLogStore`: openraft's `RaftLogStorage` on the region's RocksDB.
//!
//! Durability follows openraft's rocksstore-v2: appended entries and votes are written with a synced
//! write before `log_io_completed` / return, so an acknowledged entry survives a crash.
//!
//! Counters (exported at `GET /metrics`): `yaoshi_raft_log_append_syncs_total` (synced append
//! batches, one fsync each), `yaoshi_raft_log_appended_entries_total` (entries in them) and
//! `yaoshi_raft_log_appended_commands_total` (KMS commands in those entries: a normal entry is a
//! proposal batched by the leader's proposer), so entries and commands per fsync are their ratios;
//! `yaoshi_raft_meta_syncs_total` (synced vote and truncate writes).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{Entry, LogId, RaftLogReader, StorageError, StorageIOError, Vote};
use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions};

use crate::codec::{decode, encode};
use crate::db::{CF_LOG, CF_RAFT_META, RegionDb};
use crate::{NodeId, TypeConfig};

const META_VOTE: &[u8] = b"vote";
const META_COMMITTED: &[u8] = b"committed";
const META_LAST_PURGED: &[u8] = b"last_purged";

type StorageResult<T> = Result<T, StorageError<NodeId>>;

/// The Raft log and vote of one region, in RocksDB.
#[derive(Debug, Clone)]
pub struct RocksLogStore {
    db: RegionDb,
}

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn synced() -> WriteOptions {
    let mut wo = WriteOptions::default();
    wo.set_sync(true);
    wo
}

impl RocksLogStore {
    /// A log store on `db`.
    pub fn new(db: RegionDb) -> RocksLogStore {
        RocksLogStore { db }
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> StorageResult<Option<T>> {
        let cf = self.db.cf(CF_RAFT_META);
        match self.db.db.get_cf(cf, key).map_err(|e| StorageIOError::read(&e))? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(|e| StorageIOError::read(&e).into()),
        }
    }

    fn put_meta<T: serde::Serialize>(
        &self,
        key: &[u8],
        value: &T,
        sync: bool,
    ) -> StorageResult<()> {
        let cf = self.db.cf(CF_RAFT_META);
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, key, encode(value));
        let wo = if sync {
            metrics::counter!("yaoshi_raft_meta_syncs_total").increment(1);
            synced()
        } else {
            WriteOptions::default()
        };
        self.db.db.write_opt(batch, &wo).map_err(|e| StorageIOError::write(&e).into())
    }

    /// Every log entry currently stored, in index order (for tests and the replay check).
    ///
    /// # Errors
    ///
    /// Fails on a RocksDB read error or an undecodable entry.
    pub fn all_entries(&self) -> StorageResult<Vec<Entry<TypeConfig>>> {
        self.read_range(0, u64::MAX)
    }

    fn read_range(&self, start: u64, end_exclusive: u64) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let cf = self.db.cf(CF_LOG);
        let from = index_key(start);
        let mut out = Vec::new();
        for item in self.db.db.iterator_cf(cf, IteratorMode::From(&from, Direction::Forward)) {
            let (key, value) = item.map_err(|e| StorageIOError::read_logs(&e))?;
            let index = u64::from_be_bytes(key.as_ref().try_into().map_err(|_| {
                StorageIOError::read_logs(&std::io::Error::other("malformed log key"))
            })?);
            if index >= end_exclusive {
                break;
            }
            let entry: Entry<TypeConfig> =
                decode(&value).map_err(|e| StorageIOError::read_logs(&e))?;
            out.push(entry);
        }
        Ok(out)
    }
}

impl RaftLogReader<TypeConfig> for RocksLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(x) => x.saturating_add(1),
            Bound::Excluded(x) => *x,
            Bound::Unbounded => u64::MAX,
        };
        self.read_range(start, end)
    }
}

impl RaftLogStorage<TypeConfig> for RocksLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> StorageResult<LogState<TypeConfig>> {
        let cf = self.db.cf(CF_LOG);
        let last = match self.db.db.iterator_cf(cf, IteratorMode::End).next() {
            None => None,
            Some(item) => {
                let (_, value) = item.map_err(|e| StorageIOError::read_logs(&e))?;
                let entry: Entry<TypeConfig> =
                    decode(&value).map_err(|e| StorageIOError::read_logs(&e))?;
                Some(entry.log_id)
            }
        };
        let last_purged_log_id: Option<LogId<NodeId>> = self.get_meta(META_LAST_PURGED)?;
        Ok(LogState { last_purged_log_id, last_log_id: last.or(last_purged_log_id) })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> StorageResult<()> {
        self.put_meta(META_VOTE, vote, true)
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<NodeId>>> {
        self.get_meta(META_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> StorageResult<()> {
        self.put_meta(META_COMMITTED, &committed, false)
    }

    async fn read_committed(&mut self) -> StorageResult<Option<LogId<NodeId>>> {
        Ok(self.get_meta::<Option<LogId<NodeId>>>(META_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = WriteBatch::default();
        let cf = self.db.cf(CF_LOG);
        let (mut count, mut commands) = (0u64, 0u64);
        for entry in entries {
            batch.put_cf(cf, index_key(entry.log_id.index), encode(&entry));
            count += 1;
            if let openraft::EntryPayload::Normal(proposal) = &entry.payload {
                commands += proposal.commands.len() as u64;
            }
        }
        // The synced write is the fsync that makes the entries durable; run it off the async
        // executor so a slow disk does not stall other tasks.
        let db = self.db.db.clone();
        let res = tokio::task::spawn_blocking(move || db.write_opt(batch, &synced()))
            .await
            .map_err(|e| StorageIOError::write_logs(&std::io::Error::other(e.to_string())))?;
        match res {
            Ok(()) => {
                metrics::counter!("yaoshi_raft_log_append_syncs_total").increment(1);
                metrics::counter!("yaoshi_raft_log_appended_entries_total").increment(count);
                metrics::counter!("yaoshi_raft_log_appended_commands_total").increment(commands);
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                let err = std::io::Error::other(e.to_string());
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(StorageIOError::write_logs(&err).into())
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        let cf = self.db.cf(CF_LOG);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, index_key(log_id.index), index_key(u64::MAX));
        batch.delete_cf(cf, index_key(u64::MAX));
        metrics::counter!("yaoshi_raft_meta_syncs_total").increment(1);
        self.db.db.write_opt(batch, &synced()).map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        // Record the purge point first: entries at or below it are ignored by openraft, so the
        // range delete need not be atomic with it.
        self.put_meta(META_LAST_PURGED, &log_id, false)?;
        let cf = self.db.cf(CF_LOG);
        self.db
            .db
            .delete_range_cf(cf, index_key(0), index_key(log_id.index.saturating_add(1)))
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }
}
