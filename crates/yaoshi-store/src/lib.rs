//! RocksDB storage of one region's Raft group: the log store and the deterministic state machine.
//!
//! One RocksDB instance per region holds both the Raft log and the state machine, in separate column
//! families, so that one write-ahead log orders them (a durable log append also makes every earlier
//! state-machine write durable).
//!
//! Architecture invariant: apply reads no clock, draws no randomness and does no I/O other than the
//! RocksDB reads of state and the one write batch per entry.
//!
//! Modules: `state_machine` (log entries → commands, audit chain) calls `apply/` (one command, one
//! module per domain) and `snapshot`; `query` serves the [`StateReader`]. Beneath them and shared
//! by them: `rows` (typed row reads and writes), `rules` (pure rules that apply enforces and queries
//! look for), `layout` (row keys inside the column families), `db` (the RocksDB instance, its
//! column families and the change `feed`), `codec`. `log_store` is the Raft log. A module only uses
//! modules beneath it, so there are no import cycles.

// openraft's storage traits prescribe `StorageError` (large) as the error type; boxing it here
// would only add conversions at every trait boundary.
#![allow(clippy::result_large_err)]

mod apply;
#[cfg(test)]
mod certificates_test;
pub mod codec;
#[cfg(test)]
mod credentials_test;
mod db;
#[cfg(test)]
mod dedup_test;
pub mod feed;
mod layout;
mod log_store;
#[cfg(test)]
mod proposal_test;
mod query;
mod rows;
mod rules;
#[cfg(test)]
mod scheduled_test;
#[cfg(test)]
mod secrets_test;
mod snapshot;
mod state_machine;
#[cfg(test)]
mod test_support;

use std::io::Cursor;

pub use db::{OpenStoreError, RegionDb, STATE_CFS};
pub use log_store::RocksLogStore;
pub use query::{DueWork, QueryError, ScheduledAction, StateReader};
pub use state_machine::RocksStateMachine;

/// Raft node id.
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// The openraft type configuration of a Yaoshi region group.
    pub TypeConfig:
        D = yaoshi_model::Proposal,
        R = yaoshi_model::ProposalResponse,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        SnapshotData = Cursor<Vec<u8>>,
);

/// Opens (creating if needed) the store of one region under `dir`, returning its log store, state
/// machine and a reader for queries.
///
/// # Errors
///
/// Fails when RocksDB cannot open the directory or the stored snapshot cannot be read.
pub fn open_region(
    dir: &std::path::Path,
) -> Result<(RocksLogStore, RocksStateMachine, StateReader), OpenStoreError> {
    let db = RegionDb::open(dir)?;
    let sm = RocksStateMachine::new(db.clone())?;
    Ok((RocksLogStore::new(db.clone()), sm, StateReader::new(db)))
}
