//! The generated gRPC types of proto/raft.proto and proto/worker.proto, and the payloads carried
//! in them.

use serde::{Deserialize, Serialize};
use yaoshi_store::NodeId;

#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
mod generated {
    tonic::include_proto!("yaoshi.raft.v1");
}

/// The generated types of proto/worker.proto.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod worker {
    tonic::include_proto!("yaoshi.worker.v1");
}

/// The generated types of proto/admin.proto.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod admin {
    tonic::include_proto!("yaoshi.admin.v1");
}

/// The generated types of proto/access.proto.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod access {
    tonic::include_proto!("yaoshi.access.v1");
}

pub use generated::raft_service_client::RaftServiceClient;
pub use generated::raft_service_server::{RaftService, RaftServiceServer};
pub use generated::{RaftReply, RaftRequest};

/// The answer of the leader to a forwarded write or read barrier.
#[derive(Debug, Serialize, Deserialize)]
pub enum ForwardReply<T> {
    /// Done; the value is the result.
    Done(T),
    /// The receiver is not the leader; try `leader` if known. Nothing was appended.
    NotLeader {
        /// The leader the receiver knows of.
        leader: Option<NodeId>,
    },
    /// The receiver could not serve the request (e.g. no quorum); it may or may not have been
    /// appended (writes), so it must not be retried blindly.
    Unavailable,
}
