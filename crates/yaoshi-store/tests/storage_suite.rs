//! openraft's storage conformance suite against the RocksDB log store and state machine.

use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};
use yaoshi_store::{NodeId, RocksLogStore, RocksStateMachine, TypeConfig};

struct Builder;

impl StoreBuilder<TypeConfig, RocksLogStore, RocksStateMachine, tempfile::TempDir> for Builder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, RocksLogStore, RocksStateMachine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (log, sm, _) = yaoshi_store::open_region(dir.path()).expect("open store");
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    // The suite runs each case on a tokio runtime of its own.
    Suite::test_all(Builder).expect("storage suite");
}
