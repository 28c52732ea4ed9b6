//! Multi-process fault-injection tests of Yaoshi clusters. The harness starts real `yaoshi`
//! processes on loopback and injects faults (SIGKILL, SIGSTOP/SIGCONT, restart); the tests in
//! `tests/` check what every node recorded.
//!
//! The process fixtures are `yaoshi-testkit`'s, re-exported here under their old names:
//!
//! - [`binary`]: where the `yaoshi` executable comes from (built on demand with the test's own
//!   cargo and profile, or `YAOSHI_BIN`).
//! - [`process`]: one child process with its log file, start/kill/pause/resume/restart.
//! - [`cluster`]: N nodes from configs derived from `cluster-config/three-node` on free ports,
//!   workers, the leader as the nodes' logs report it, a signing client per process.
//! - [`net`]: network partitions between nodes (a namespace per node as root, else TCP proxies).
//!
//! This crate's own modules:
//!
//! - [`call`]: requests with a timeout and retries across nodes for the leaderless windows of a
//!   fault.
//! - [`clock`]: the scaled test clock the nodes run (`--test-clock-scale`), mirrored in the test.
//! - [`rng`]: a small seeded generator, so a run can be repeated with `CHAOS_SEED`.
//! - [`linearizability`]: a linearizability checker of recorded histories against a sequential
//!   model (Wing & Gong search with Lowe's just-in-time linearization and a state cache).
//! - [`kms_model`]: the model of keys and aliases the chaos tests check histories against, and
//!   the meaning of the API's error codes in it.

pub mod call;
pub mod clock;
pub mod kms_model;
pub mod linearizability;
pub mod rng;

pub use yaoshi_testkit::{binary, cluster, net, process};

pub use call::{Outcome, call_once, call_retrying};
pub use clock::{ScaledClock, parse_date_ms, wall_ms};
pub use rng::Rng;
pub use yaoshi_testkit::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Cluster, ClusterSpec, NetMode, Network, Node, Process,
    Worker, free_port, run_dir,
};
