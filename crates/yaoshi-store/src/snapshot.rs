//! Snapshots: a consistent copy of every state column family, kept as one file beside the database.
//!
//! File `snapshot/current` = encode((SnapshotMeta, data)); data = encode(SnapshotData). The file is
//! replaced atomically (write, fsync, rename) so a crash leaves the previous snapshot intact.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use openraft::storage::Snapshot;
use openraft::{BasicNode, LogId, SnapshotMeta, StorageError, StorageIOError, StoredMembership};
use rocksdb::{IteratorMode, WriteBatch, WriteOptions};
use serde::{Deserialize, Serialize};

use crate::codec::{decode, encode, encode_to};
use crate::db::{CF_SM_META, RegionDb, STATE_CFS};
use crate::layout::{META_LAST_APPLIED, META_MEMBERSHIP};
use crate::{NodeId, TypeConfig};

type StorageResult<T> = Result<T, StorageError<NodeId>>;

/// The rows of one column family, in key order.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// The content of a snapshot: every row of every state column family.
#[derive(Serialize, Deserialize)]
struct SnapshotData {
    /// `(column family, rows)` in `STATE_CFS` order.
    families: Vec<(String, Rows)>,
}

/// [`SnapshotData`] as it is encoded: the same bincode bytes, with every key and value written in
/// one call (`serialize_bytes`) rather than one call per byte.
#[derive(Serialize)]
struct SnapshotDataOut<'a> {
    families: Vec<(&'a str, RowsAsBytes<'a>)>,
}

/// Rows serialized as a sequence of `(key, value)` byte strings.
struct RowsAsBytes<'a>(&'a Rows);

impl Serialize for RowsAsBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (key, value) in self.0 {
            seq.serialize_element(&(AsBytes(key), AsBytes(value)))?;
        }
        seq.end()
    }
}

fn snapshot_path(db: &RegionDb) -> PathBuf {
    db.dir.join("snapshot")
}

/// Builds a snapshot from a consistent RocksDB snapshot and persists it as the current one.
#[expect(
    clippy::disallowed_methods,
    reason = "building a snapshot is not apply; the clock only times the build for the log line"
)]
pub(crate) fn build(db: &RegionDb) -> StorageResult<Snapshot<TypeConfig>> {
    let started = std::time::Instant::now();
    let snap = db.snapshot_at_entry_boundary();
    let read_err = |e: &dyn std::fmt::Display| {
        StorageIOError::read_state_machine(&std::io::Error::other(e.to_string()))
    };
    let mut families = Vec::with_capacity(STATE_CFS.len());
    for name in STATE_CFS {
        let mut rows = Vec::new();
        for item in snap.iterator_cf(db.cf(name), IteratorMode::Start) {
            let (k, v) = item.map_err(|e| read_err(&e))?;
            rows.push((k.to_vec(), v.to_vec()));
        }
        families.push((name.to_string(), rows));
    }
    let meta_cf = db.cf(CF_SM_META);
    let last_log_id: Option<LogId<NodeId>> =
        match snap.get_cf(meta_cf, META_LAST_APPLIED).map_err(|e| read_err(&e))? {
            Some(b) => decode::<Option<LogId<NodeId>>>(&b).map_err(|e| read_err(&e))?,
            None => None,
        };
    let last_membership: StoredMembership<NodeId, BasicNode> =
        match snap.get_cf(meta_cf, META_MEMBERSHIP).map_err(|e| read_err(&e))? {
            Some(b) => decode(&b).map_err(|e| read_err(&e))?,
            None => StoredMembership::default(),
        };
    drop(snap);
    let snapshot_id = match &last_log_id {
        Some(id) => format!("{}-{}", id.leader_id, id.index),
        None => "empty".to_string(),
    };
    let meta = SnapshotMeta { last_log_id, last_membership, snapshot_id };
    let read = started.elapsed();
    let data = encode(&SnapshotDataOut {
        families: families.iter().map(|(name, rows)| (name.as_str(), RowsAsBytes(rows))).collect(),
    });
    drop(families);
    let encoded = started.elapsed();
    persist(db, &meta, &data)?;
    tracing::info!(
        snapshot = %meta.snapshot_id,
        bytes = data.len(),
        read_ms = read.as_millis() as u64,
        encode_ms = (encoded - read).as_millis() as u64,
        persist_ms = (started.elapsed() - encoded).as_millis() as u64,
        "snapshot built"
    );
    Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) })
}

fn persist(
    db: &RegionDb,
    meta: &SnapshotMeta<NodeId, BasicNode>,
    data: &[u8],
) -> StorageResult<()> {
    let dir = snapshot_path(db);
    let write_err = |e: std::io::Error| StorageIOError::write_snapshot(Some(meta.signature()), &e);
    std::fs::create_dir_all(&dir).map_err(write_err)?;
    let tmp = dir.join("current.tmp");
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    // Streamed (no second copy of the state in memory) and synced as it goes: one fsync of the
    // whole file at the end would queue the Raft log's WAL syncs behind flushing it all, a stall
    // of every write for as long as that takes (`tests/snapshot_consistency.rs` reads it back).
    let mut out = std::io::BufWriter::with_capacity(1 << 20, SyncEvery { file, unsynced: 0 });
    encode_to(&mut out, &(meta, AsBytes(data))).map_err(write_err)?;
    let file = out.into_inner().map_err(|e| write_err(e.into_error()))?.file;
    file.sync_all().map_err(write_err)?;
    std::fs::rename(&tmp, dir.join("current")).map_err(write_err)?;
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(write_err)?;
    Ok(())
}

/// A byte slice serialized with `serialize_bytes`: the same bincode bytes as a `Vec<u8>` (a length,
/// then the bytes) written in one call instead of one call per byte.
struct AsBytes<'a>(&'a [u8]);

impl Serialize for AsBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Bytes written to a snapshot file between two data syncs.
const SYNC_EVERY_BYTES: usize = 4 << 20;

/// A file that syncs its data every [`SYNC_EVERY_BYTES`] written.
struct SyncEvery {
    file: std::fs::File,
    unsynced: usize,
}

impl Write for SyncEvery {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n;
        if self.unsynced >= SYNC_EVERY_BYTES {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Loads the last persisted snapshot, if any.
pub(crate) fn load_current(db: &RegionDb) -> StorageResult<Option<Snapshot<TypeConfig>>> {
    let path = snapshot_path(db).join("current");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageIOError::read_snapshot(None, &e).into()),
    };
    let (meta, data): (SnapshotMeta<NodeId, BasicNode>, Vec<u8>) =
        decode(&bytes).map_err(|e| StorageIOError::read_snapshot(None, &e))?;
    Ok(Some(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) }))
}

/// Replaces the whole state with the snapshot's, in one write batch, and keeps it as current.
pub(crate) fn install(
    db: &RegionDb,
    meta: &SnapshotMeta<NodeId, BasicNode>,
    data: Vec<u8>,
) -> StorageResult<()> {
    let sig = meta.signature();
    let content: SnapshotData =
        decode(&data).map_err(|e| StorageIOError::read_snapshot(Some(sig.clone()), &e))?;
    let mut batch = WriteBatch::default();
    for name in STATE_CFS {
        let cf = db.cf(name);
        for item in db.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, _) = item.map_err(|e| StorageIOError::write_snapshot(Some(sig.clone()), &e))?;
            batch.delete_cf(cf, k);
        }
    }
    for (name, rows) in &content.families {
        if !STATE_CFS.contains(&name.as_str()) {
            let e = std::io::Error::other(format!("snapshot has unknown column family {name}"));
            return Err(StorageIOError::read_snapshot(Some(sig), &e).into());
        }
        let cf = db.cf(name);
        for (k, v) in rows {
            batch.put_cf(cf, k, v);
        }
    }
    // The snapshot's meta is the truth for where the state now stands.
    let meta_cf = db.cf(CF_SM_META);
    batch.put_cf(meta_cf, META_LAST_APPLIED, encode(&meta.last_log_id));
    batch.put_cf(meta_cf, META_MEMBERSHIP, encode(&meta.last_membership));
    let mut wo = WriteOptions::default();
    wo.set_sync(true);
    db.db.write_opt(batch, &wo).map_err(|e| StorageIOError::write_snapshot(Some(sig), &e))?;
    persist(db, meta, &data)
}
