//! `GrpcNetwork`: openraft's `RaftNetwork` over tonic, one lazily connected channel per peer.

use std::time::Duration;

use openraft::BasicNode;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::Channel;
use yaoshi_store::codec::{decode, encode};
use yaoshi_store::{NodeId, TypeConfig};

use crate::pb::{RaftRequest, RaftServiceClient};
use crate::tls::{ClusterTls, SharedTls};

/// Largest gRPC message accepted or sent (snapshot chunks and entry batches stay far below).
pub(crate) const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Builds a gRPC client for `addr` (`host:port`) on a lazily connected channel; with TLS the
/// server must present `server_name`.
pub(crate) fn client_for(
    addr: &str,
    tls: Option<&ClusterTls>,
    server_name: &str,
) -> Result<RaftServiceClient<Channel>, tonic::transport::Error> {
    let endpoint = crate::tls::endpoint(addr, tls, server_name)?
        .connect_timeout(Duration::from_millis(500))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(10));
    Ok(RaftServiceClient::new(endpoint.connect_lazy())
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES))
}

/// Creates a [`GrpcNetwork`] per peer.
#[derive(Debug, Clone)]
pub struct GrpcNetworkFactory {
    region: String,
    tls: SharedTls,
}

impl GrpcNetworkFactory {
    /// A factory for the Raft group of `region`, over mutual TLS when `tls` is set.
    pub fn new(region: String, tls: SharedTls) -> GrpcNetworkFactory {
        GrpcNetworkFactory { region, tls }
    }
}

impl RaftNetworkFactory<TypeConfig> for GrpcNetworkFactory {
    type Network = GrpcNetwork;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> GrpcNetwork {
        // The peer must prove it is the member `target`, not merely some holder of a cluster cert.
        let name = crate::tls::node_name(&self.region, target);
        let client = client_for(&node.addr, self.tls.as_deref(), &name).ok();
        GrpcNetwork { target, region: self.region.clone(), client }
    }
}

/// The connection to one peer.
#[derive(Debug)]
pub struct GrpcNetwork {
    target: NodeId,
    region: String,
    client: Option<RaftServiceClient<Channel>>,
}

type RpcResult<T, E> = Result<T, RPCError<NodeId, BasicNode, E>>;

impl GrpcNetwork {
    async fn call<Req, Resp, E>(
        &mut self,
        kind: RpcKind,
        req: &Req,
        ttl: Duration,
    ) -> RpcResult<Resp, RaftError<NodeId, E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let Some(client) = self.client.as_mut() else {
            let e = std::io::Error::other("invalid peer address");
            return Err(RPCError::Unreachable(Unreachable::new(&e)));
        };
        let mut request =
            tonic::Request::new(RaftRequest { region: self.region.clone(), payload: encode(req) });
        request.set_timeout(ttl);
        let reply = match kind {
            RpcKind::Append => client.append_entries(request).await,
            RpcKind::Vote => client.vote(request).await,
            RpcKind::Snapshot => client.install_snapshot(request).await,
        };
        let reply = reply.map_err(|status| match status.code() {
            tonic::Code::Unavailable => RPCError::Unreachable(Unreachable::new(&status)),
            _ => RPCError::Network(NetworkError::new(&status)),
        })?;
        let result: Result<Resp, RaftError<NodeId, E>> = decode(&reply.into_inner().payload)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

#[derive(Clone, Copy)]
enum RpcKind {
    Append,
    Vote,
    Snapshot,
}

impl RaftNetwork<TypeConfig> for GrpcNetwork {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>, RaftError<NodeId>> {
        let ttl = option.hard_ttl();
        self.call(RpcKind::Append, &rpc, ttl).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>> {
        let ttl = option.hard_ttl();
        self.call(RpcKind::Snapshot, &rpc, ttl).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>, RaftError<NodeId>> {
        let ttl = option.hard_ttl();
        self.call(RpcKind::Vote, &rpc, ttl).await
    }
}
