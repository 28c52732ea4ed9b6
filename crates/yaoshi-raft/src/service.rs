//! `RaftGrpc`: the gRPC server side of proto/raft.proto for one region node.

use std::sync::Arc;

use openraft::error::{CheckIsLeaderError, RaftError};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use tonic::{Request, Response, Status};
use yaoshi_model::{CommandEnvelope, CommandResponse, REPLAY_WINDOW_MS};
use yaoshi_store::codec::{decode, encode};
use yaoshi_store::{NodeId, TypeConfig};

use crate::claims::{MAX_CLAIMS_PER_CALL, NonceClaim};
use crate::network::MAX_MESSAGE_BYTES;
use crate::node::{ProposeError, RegionNode};
use crate::pb::{ForwardReply, RaftReply, RaftRequest, RaftService, RaftServiceServer};
use crate::tls::{Need, Peer};

/// The gRPC service of a region node.
#[derive(Debug, Clone)]
pub struct RaftGrpc {
    node: Arc<RegionNode>,
}

impl RaftGrpc {
    /// The service for `node`, ready to add to a tonic server.
    pub fn server(node: Arc<RegionNode>) -> RaftServiceServer<RaftGrpc> {
        RaftServiceServer::new(RaftGrpc { node })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Refuses messages meant for another region's group.
    fn check_region(&self, req: &RaftRequest) -> Result<(), Status> {
        if req.region != self.node.region.as_str() {
            return Err(Status::invalid_argument(format!(
                "this node serves region {}, not {}",
                self.node.region, req.region
            )));
        }
        Ok(())
    }

    /// Admits the caller if its certificate meets `need` (every call on a TLS port).
    fn admit<T>(&self, req: &Request<T>, need: Need) -> Result<(), Status> {
        let peer = Peer::of(req, self.node.tls.is_some())?;
        Peer::require(peer.as_ref(), self.node.region.as_str(), need)
    }

    /// Admits a Raft RPC from the member its certificate names, and only as that member: the
    /// sender id inside the RPC (the vote's node) must be the certificate's.
    fn raft_rpc<T: serde::de::DeserializeOwned>(
        &self,
        req: Request<RaftRequest>,
        sender: impl Fn(&T) -> Option<NodeId>,
    ) -> Result<T, Status> {
        let peer = Peer::of(&req, self.node.tls.is_some())?;
        let region = self.node.region.as_str();
        Peer::require(peer.as_ref(), region, Need::AnyNode)?;
        let rpc: T = self.payload(req)?;
        if let Some(Peer::Node { id, .. }) = &peer
            && sender(&rpc) != Some(*id)
        {
            return Err(Status::permission_denied(format!(
                "member {id} sent a Raft message as another member"
            )));
        }
        Ok(rpc)
    }

    fn payload<T: serde::de::DeserializeOwned>(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<T, Status> {
        let req = req.into_inner();
        self.check_region(&req)?;
        decode(&req.payload)
            .map_err(|e| Status::invalid_argument(format!("undecodable payload: {e}")))
    }
}

fn reply<T: serde::Serialize>(value: &T) -> Result<Response<RaftReply>, Status> {
    Ok(Response::new(RaftReply { payload: encode(value) }))
}

#[tonic::async_trait]
impl RaftService for RaftGrpc {
    async fn append_entries(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let rpc: AppendEntriesRequest<TypeConfig> = self
            .raft_rpc(req, |r: &AppendEntriesRequest<TypeConfig>| r.vote.leader_id().voted_for())?;
        reply(&self.node.raft.append_entries(rpc).await)
    }

    async fn vote(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let rpc: VoteRequest<NodeId> =
            self.raft_rpc(req, |r: &VoteRequest<NodeId>| r.vote.leader_id().voted_for())?;
        reply(&self.node.raft.vote(rpc).await)
    }

    async fn install_snapshot(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let rpc: InstallSnapshotRequest<TypeConfig> = self
            .raft_rpc(req, |r: &InstallSnapshotRequest<TypeConfig>| {
                r.vote.leader_id().voted_for()
            })?;
        reply(&self.node.raft.install_snapshot(rpc).await)
    }

    async fn client_write(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.admit(&req, Need::AnyNode)?;
        let env: CommandEnvelope = self.payload(req)?;
        // Scheduled work is proposed by the leader's own scheduler, never forwarded by a peer.
        if env.command.is_scheduled() || env.meta.principal.is_none() && !env.command.is_bootstrap()
        {
            return Err(Status::permission_denied("system commands are not accepted from peers"));
        }
        let answer: ForwardReply<(u64, CommandResponse)> =
            match self.node.proposer.propose(env).await {
                Ok(done) => ForwardReply::Done(done),
                Err(ProposeError::ForwardToLeader(leader)) => ForwardReply::NotLeader { leader },
                Err(e) => {
                    tracing::warn!(error = ?e, "forwarded write failed on the leader");
                    ForwardReply::Unavailable
                }
            };
        reply(&answer)
    }

    async fn read_index(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.admit(&req, Need::AnyNode)?;
        self.check_region(req.get_ref())?;
        let answer: ForwardReply<Option<u64>> = match self.node.raft.ensure_linearizable().await {
            Ok(log_id) => ForwardReply::Done(log_id.map(|l| l.index)),
            Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f))) => {
                ForwardReply::NotLeader { leader: f.leader_id }
            }
            Err(_) => ForwardReply::Unavailable,
        };
        reply(&answer)
    }

    async fn claim_nonces(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.admit(&req, Need::Feed)?;
        let claims: Vec<NonceClaim> = self.payload(req)?;
        if claims.len() > MAX_CLAIMS_PER_CALL
            || claims
                .iter()
                .any(|c| c.nonce.len() > MAX_CLAIM_FIELD || c.access_key_id.len() > MAX_CLAIM_FIELD)
        {
            return Err(Status::invalid_argument("claim batch out of bounds"));
        }
        let now_ms = crate::node::wall_ms();
        let answers: Vec<_> = claims
            .iter()
            .map(|c| {
                let expires = c.timestamp_ms.saturating_add(REPLAY_WINDOW_MS);
                self.node.nonces.check_and_insert(&c.access_key_id, &c.nonce, expires, now_ms)
            })
            .collect();
        reply(&answers)
    }
}

/// Longest AccessKey id or nonce a claim may carry (the API admits nonces of at most 128 bytes).
const MAX_CLAIM_FIELD: usize = 256;
