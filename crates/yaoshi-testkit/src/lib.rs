//! Process fixtures shared by Yaoshi's end-to-end tests (`crates/yaoshi/tests`), the chaos tests
//! (`chaos-tests`) and the benchmarks (`benches`): real `yaoshi` processes on loopback, started,
//! killed, paused, resumed and restarted, their logs and memory readable.
//!
//! - [`ports`]: free loopback ports.
//! - [`process`]: one child process with its log file: start/kill/pause/resume/restart, pid,
//!   resident memory, the log of every incarnation or of the current one.
//! - [`binary`]: where the `yaoshi` executable comes from (an explicit path from the caller, the
//!   executable next to the running one, or built on demand with the test's own cargo and
//!   profile, or `YAOSHI_BIN`).
//! - [`launch`]: `yaoshi serve --dev`, `yaoshi serve --config` and `yaoshi worker` processes with
//!   a shared credential, domain key and `RUST_LOG`; the leader a node's log reports.
//! - [`cluster`]: N nodes from configs derived from `cluster-config/three-node` on free ports,
//!   workers, the leader as the nodes' logs report it, a signing client per process.
//! - [`net`]: network partitions between nodes (a namespace per node as root, else TCP proxies).
//! - [`api`]: HTTP-level helpers of the KMS API (create a key, read its id).
//! - [`wait`]: retrying until a process answers.
//!
//! No module imports one that imports it back: `ports`, `process`, `binary`, `api` and `wait`
//! import no other module; `launch` uses `process`; `net` uses `ports`; `cluster` uses `binary`,
//! `launch`, `net`, `ports` and `process`.

pub mod api;
pub mod binary;
pub mod cluster;
pub mod launch;
pub mod net;
pub mod ports;
pub mod process;
pub mod wait;

pub use api::{create_key, key_id};
pub use binary::{sibling_exe, yaoshi_binary};
pub use cluster::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Cluster, ClusterSpec, Node, Worker, run_dir};
pub use launch::{Launcher, reported_leader};
pub use net::{NetMode, Network};
pub use ports::{free_addr, free_port};
pub use process::Process;
pub use wait::until_ok;
