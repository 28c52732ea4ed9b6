//! Drops every state column family of a stopped node's region store, keeping the Raft log, so the
//! next start re-applies the whole committed log (the replay measurement of
//! `yaoshi-bench raft-table`).
//!
//! Usage: `drop_state <region dir>` (the directory holding `db/`, e.g.
//! `<data_dir>/regions/cn-hangzhou`). The node must be stopped. Refuses when a snapshot exists,
//! since openraft would then start from the snapshot instead of the log.

use std::path::PathBuf;

use rocksdb::{DB, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args_os().nth(1).ok_or("usage: drop_state <region dir>")?.into();
    if dir.join("snapshot").join("current").exists() {
        return Err("a snapshot exists: the log alone would not rebuild the state".into());
    }
    let path = dir.join("db");
    let opts = Options::default();
    let names = DB::list_cf(&opts, &path)?;
    let mut db = DB::open_cf(&opts, &path, &names)?;
    for name in yaoshi_store::STATE_CFS {
        if names.iter().any(|n| n == name) {
            db.drop_cf(name)?;
        }
    }
    db.flush_wal(true)?;
    println!(
        "dropped {} state column families in {}",
        yaoshi_store::STATE_CFS.len(),
        path.display()
    );
    Ok(())
}
