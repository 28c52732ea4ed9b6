//! The RocksDB instance of one region and its column families.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, Options};

/// Raft log entries, keyed by big-endian index.
pub(crate) const CF_LOG: &str = "raft_log";
/// Raft metadata: vote, committed, last purged.
pub(crate) const CF_RAFT_META: &str = "raft_meta";
/// State-machine metadata: last applied log id, membership, audit chain head.
pub(crate) const CF_SM_META: &str = "sm_meta";
/// Keys by key id.
pub(crate) const CF_KEYS: &str = "keys";
/// Key versions by `key_id/version_id`.
pub(crate) const CF_KEY_VERSIONS: &str = "key_versions";
/// Credentials by AccessKey id.
pub(crate) const CF_CREDENTIALS: &str = "credentials";
/// Seen signature nonces by `access_key_id \0 nonce` → proposer time.
pub(crate) const CF_NONCES: &str = "nonces";
/// Nonce expiry index by `at_ms (big-endian) access_key_id \0 nonce`.
pub(crate) const CF_NONCE_EXPIRY: &str = "nonce_expiry";
/// Aliases by name.
pub(crate) const CF_ALIASES: &str = "aliases";
/// Alias index by `key_id \0 alias_name`.
pub(crate) const CF_KEY_ALIASES: &str = "key_aliases";
/// Tags by `<kind>\0<resource id>\0<tag key>` → value.
pub(crate) const CF_TAGS: &str = "tags";
/// BYOK import tokens by token.
pub(crate) const CF_IMPORT_TOKENS: &str = "import_tokens";
/// Access points by name.
pub(crate) const CF_ACCESS_POINTS: &str = "access_points";
/// Secrets by name.
pub(crate) const CF_SECRETS: &str = "secrets";
/// Secret versions by `name \0 version_id`.
pub(crate) const CF_SECRET_VERSIONS: &str = "secret_versions";
/// Certificates by id.
pub(crate) const CF_CERTIFICATES: &str = "certificates";
/// Hash-chained audit events by big-endian (log index, position in the entry's proposal).
pub(crate) const CF_AUDIT: &str = "audit";

/// Column families that make up the replicated state (snapshotted, digested).
pub const STATE_CFS: &[&str] = &[
    CF_SM_META,
    CF_KEYS,
    CF_KEY_VERSIONS,
    CF_CREDENTIALS,
    CF_NONCES,
    CF_NONCE_EXPIRY,
    CF_AUDIT,
    CF_ALIASES,
    CF_KEY_ALIASES,
    CF_TAGS,
    CF_IMPORT_TOKENS,
    CF_ACCESS_POINTS,
    CF_SECRETS,
    CF_SECRET_VERSIONS,
    CF_CERTIFICATES,
];

/// Column families of the Raft log, outside the replicated state.
const LOG_CFS: &[&str] = &[CF_LOG, CF_RAFT_META];

/// Failure to open a region store.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    /// RocksDB refused to open.
    #[error("cannot open rocksdb at {path}")]
    Rocks {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rocksdb::Error,
    },
    /// The directory cannot be created.
    #[error("cannot create store directory {path}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored value is unreadable.
    #[error("stored state is unreadable")]
    Corrupt(#[source] crate::codec::DecodeError),
}

/// A shared handle on a region's RocksDB.
#[derive(Clone)]
pub struct RegionDb {
    pub(crate) db: Arc<DB>,
    pub(crate) dir: PathBuf,
    /// Announcements of applied entries (see `feed.rs`).
    pub(crate) feed: tokio::sync::broadcast::Sender<crate::feed::Applied>,
    /// Held by the state machine while it applies one log entry (a proposal's commands are
    /// separate writes) and while a whole-state view (snapshot, digest) is taken, so that a view
    /// always falls on an entry boundary and matches its `last_applied`. Fair, so a view waiting
    /// for it gets it at the next boundary even while entries are applied back to back.
    pub(crate) entry_boundary: Arc<parking_lot::FairMutex<()>>,
    /// Counts applied changes of access points (and state replacements), so that readers can
    /// keep compiled policies until it moves. Not state: a signal, bumped after the write.
    pub(crate) access_generation: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for RegionDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionDb").field("dir", &self.dir).finish()
    }
}

impl RegionDb {
    /// Opens or creates the region database in `dir` (`dir/db` for RocksDB, `dir/snapshot` for
    /// the current snapshot).
    ///
    /// # Errors
    ///
    /// Fails when the directory cannot be created or RocksDB cannot open it.
    pub fn open(dir: &Path) -> Result<RegionDb, OpenStoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| OpenStoreError::Io { path: dir.to_path_buf(), source })?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let cfs = LOG_CFS
            .iter()
            .chain(STATE_CFS)
            .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let path = dir.join("db");
        let db = DB::open_cf_descriptors(&opts, &path, cfs)
            .map_err(|source| OpenStoreError::Rocks { path: path.clone(), source })?;
        let (feed, _) = tokio::sync::broadcast::channel(crate::feed::FEED_CAPACITY);
        Ok(RegionDb {
            db: Arc::new(db),
            dir: dir.to_path_buf(),
            feed,
            entry_boundary: Arc::default(),
            access_generation: Arc::default(),
        })
    }

    /// The column family handle; every name used here is created at open.
    pub(crate) fn cf(&self, name: &str) -> &ColumnFamily {
        match self.db.cf_handle(name) {
            Some(cf) => cf,
            None => panic!("column family {name} is created at open"),
        }
    }

    /// A RocksDB snapshot on an entry boundary (see `entry_boundary`).
    pub(crate) fn snapshot_at_entry_boundary(&self) -> rocksdb::Snapshot<'_> {
        let _boundary = self.entry_boundary.lock();
        self.db.snapshot()
    }

    /// The region's data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
