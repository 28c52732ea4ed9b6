//! The Raft group of one Yaoshi region: openraft wired to the RocksDB store, a tonic gRPC transport
//! (proto/raft.proto), forwarding of writes to the leader, and linearizable read barriers.
//!
//! It also serves the worker feed (proto/worker.proto, [`feed`]) and cluster administration
//! (proto/admin.proto, [`admin`]: membership changes and status), all behind mutual TLS ([`tls`]).
//!
//! Architecture invariant: only this crate knows prost/tonic types.

// openraft prescribes its (large) error types at every trait and API boundary.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod admin;
pub mod claims;
pub mod feed;
mod network;
mod node;
pub mod nonces;
pub mod pb;
mod service;
pub mod tls;

pub use access::{AccessClient, AccessGrpc};
pub use admin::{AdminClient, AdminError, AdminGrpc, MemberStatus, MembersView, NodeState};
pub use network::{GrpcNetwork, GrpcNetworkFactory};
pub use node::{Clock, RegionConfig, RegionNode, StartError, WriteError};
pub use service::RaftGrpc;
pub use tls::{ClusterTls, Peer};
pub use yaoshi_store::{NodeId, TypeConfig};
